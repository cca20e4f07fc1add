// NeonnProgram: a compiled model held natively. programCreate(spec) copies the
// constants in (the program owns its memory: dispose() frees it at once, the
// finalizer otherwise), except those adoptConstant made native already, which
// every program of the model shares; runSync/run execute every step, run on the
// libuv pool.
#include <napi.h>

#include <chrono>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "../src/model/program.h"
#include "../src/registry.h"
#include "args.h"
#include "kernel_args.h"
#include "op_worker.h"

namespace neonn {
namespace binding {
namespace {

const char* kOp = "model";

/// Weights a model handed over once (adoptConstant): native memory that the
/// model's JS typed array views and that every program of the model (one per
/// input shape) shares, found again by address, so that neither JS nor a
/// second program holds another copy. An entry lives exactly as long as its
/// memory: the last owner's release erases it before the memory is freed.
class AdoptedConsts {
 public:
  static AdoptedConsts& instance() {
    static AdoptedConsts* const shared = new AdoptedConsts();  // never destroyed: finalizers may run at exit
    return *shared;
  }

  /// `bytes` at `data` (zeros when null) copied into new shared memory (whole floats, zero-padded),
  /// registered under its address.
  std::shared_ptr<const std::vector<float>> adopt(const void* data, size_t bytes) {
    auto* v = new std::vector<float>((bytes + sizeof(float) - 1) / sizeof(float), 0.0f);
    if (data != nullptr) std::memcpy(v->data(), data, bytes);
    std::shared_ptr<const std::vector<float>> sp(v, [](const std::vector<float>* p) {
      instance().forget(p->data());
      delete p;
    });
    std::lock_guard<std::mutex> lock(mutex_);
    by_data_[sp->data()] = sp;
    return sp;
  }

  /// The adopted buffer that starts at `data` and holds exactly `floats`, or null.
  ConstBuffer find(const void* data, size_t floats) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_data_.find(data);
    if (it == by_data_.end()) return nullptr;
    ConstBuffer sp = it->second.lock();
    return sp && sp->size() == floats ? sp : nullptr;
  }

 private:
  void forget(const void* data) {
    std::lock_guard<std::mutex> lock(mutex_);
    by_data_.erase(data);
  }

  std::mutex mutex_;
  std::unordered_map<const void*, std::weak_ptr<const std::vector<float>>> by_data_;
};

void release_adopted(napi_env /*env*/, void* /*data*/, void* hint) { delete static_cast<ConstBuffer*>(hint); }

// adoptConstant(view: TypedArray | byteLength: number): ArrayBuffer | null. The
// view's bytes (or that many zero bytes, for weights a pass computes) copied
// once into native memory that programs share (see AdoptedConsts), returned as
// an ArrayBuffer over that memory for the model to view instead of its own
// copy; null when there is nothing to adopt (empty, already adopted) or the
// runtime does not allow external buffers (the programs then copy as before).
Napi::Value AdoptConstant(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    NEONN_THROW_TYPEERROR_IF(info.Length() < 1, "adoptConstant: expected a typed array or a byte count");
    const void* data = nullptr;
    size_t bytes = 0;
    if (info[0].IsNumber()) {
      const double d = info[0].As<Napi::Number>().DoubleValue();
      NEONN_THROW_RANGEERROR_IF(!(d >= 0) || d > 1099511627776.0 || d != static_cast<double>(static_cast<size_t>(d)),
                                "adoptConstant: byteLength must be an integer in [0, 2^40]");
      bytes = static_cast<size_t>(d);
    } else {
      const TypedView t = typed_view(info.Env(), info[0], "adoptConstant", "view");
      data = t.data;
      bytes = t.bytes;
    }
    const size_t floats = (bytes + sizeof(float) - 1) / sizeof(float);
    if (bytes == 0 || (data != nullptr && AdoptedConsts::instance().find(data, floats))) return info.Env().Null();
    auto* hint = new ConstBuffer(AdoptedConsts::instance().adopt(data, bytes));
    napi_value buffer = nullptr;
    const napi_status status = napi_create_external_arraybuffer(
        info.Env(), const_cast<float*>((*hint)->data()), bytes, release_adopted, hint, &buffer);
    if (status != napi_ok) {
      delete hint;
      return info.Env().Null();
    }
    return Napi::Value(info.Env(), buffer);
  });
}

size_t size_value(const Napi::Value& v, const char* name) {
  NEONN_THROW_TYPEERROR_IF(!v.IsNumber(), std::string(kOp) + ": expected \"" + name + "\" to be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  NEONN_THROW_RANGEERROR_IF(!(d >= 0) || d > 9007199254740991.0 || static_cast<double>(static_cast<size_t>(d)) != d,
                            std::string(kOp) + ": \"" + name + "\" must be a non-negative integer");
  return static_cast<size_t>(d);
}

std::vector<size_t> sizes_value(const Napi::Value& v, const char* name) {
  NEONN_THROW_TYPEERROR_IF(!v.IsArray(), std::string(kOp) + ": expected \"" + name + "\" to be an array");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<size_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = size_value(a.Get(i), name);
  return out;
}

BufferRef ref_value(const Napi::Value& v) {
  NEONN_THROW_TYPEERROR_IF(!v.IsObject() || v.IsArray(),
                           std::string(kOp) + ": a buffer ref must be an object { kind, index, offset, size }");
  Napi::Object o = v.As<Napi::Object>();
  BufferRef r;
  const size_t kind = size_value(o.Get("kind"), "ref.kind");
  NEONN_THROW_RANGEERROR_IF(kind > 3, std::string(kOp) + ": ref.kind must be 0..3");
  r.kind = static_cast<BufferRef::Kind>(kind);
  const size_t index = size_value(o.Get("index"), "ref.index");
  NEONN_THROW_RANGEERROR_IF(index > 0xffffffffu, std::string(kOp) + ": ref.index too large");
  r.index = static_cast<uint32_t>(index);
  r.offset = size_value(o.Get("offset"), "ref.offset");
  r.size = size_value(o.Get("size"), "ref.size");
  return r;
}

StepArg arg_value(const Napi::Value& v) {
  StepArg a;
  if (v.IsNull() || v.IsUndefined()) return a;
  if (v.IsNumber()) {
    a.kind = StepArg::Kind::kNumber;
    a.number = v.As<Napi::Number>().DoubleValue();
  } else if (v.IsArray()) {
    a.kind = StepArg::Kind::kBufferList;
    Napi::Array list = v.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) a.buffers.push_back(ref_value(list.Get(i)));
  } else if (v.IsObject()) {
    a.kind = StepArg::Kind::kBuffer;
    a.buffer = ref_value(v);
  } else {
    throw_type_error(std::string(kOp) + ": a step argument must be null, a number, a buffer ref or a list of refs");
  }
  return a;
}

/// Any typed array as a span of 4-byte units (a program's buffers are
/// counted in floats; a tensor of another dtype fills ceil(bytes / 4) of
/// them, and its steps read only its own bytes).
MutableFloatSpan typed_value(napi_env env, napi_value v, const char* name, size_t* bytes = nullptr) {
  const TypedView t = typed_view(env, v, kOp, name);
  NEONN_THROW_RANGEERROR_IF(t.byte_offset % 4 != 0, std::string(kOp) + ": \"" + name + "\" must start at a multiple of 4 bytes");
  if (bytes != nullptr) *bytes = t.bytes;
  return MutableFloatSpan{static_cast<float*>(t.data), (t.bytes + 3) / 4};
}

std::vector<FloatSpan> input_spans(const Napi::Value& v) {
  NEONN_THROW_TYPEERROR_IF(!v.IsArray(), "model: expected \"inputs\" to be an array of typed arrays");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<FloatSpan> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const MutableFloatSpan s = typed_value(v.Env(), a.Get(i), "inputs[i]");
    out[i] = FloatSpan{s.data, s.size};
  }
  return out;
}

std::vector<MutableFloatSpan> output_spans(const Napi::Value& v) {
  NEONN_THROW_TYPEERROR_IF(!v.IsArray(), "model: expected \"outputs\" to be an array of typed arrays");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<MutableFloatSpan> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = typed_value(v.Env(), a.Get(i), "outputs[i]");
  return out;
}

/// A generic kernel step's tensor: null (omitted) or { ref, dtype, shape }.
KernelTensorSpec kernel_tensor_value(const Napi::Value& v, const std::string& what) {
  KernelTensorSpec t;
  if (is_nullish(v)) return t;
  NEONN_THROW_TYPEERROR_IF(!v.IsObject(), what + ": expected { ref, dtype, shape }");
  Napi::Object o = v.As<Napi::Object>();
  t.present = true;
  t.ref = ref_value(o.Get("ref"));
  t.dtype = dtype_value(o.Get("dtype"), what);
  t.shape = shape_value(o.Get("shape"), what);
  return t;
}

std::vector<KernelTensorSpec> kernel_tensors(const Napi::Value& v, const std::string& what) {
  NEONN_THROW_TYPEERROR_IF(!v.IsArray(), what + ": expected an array");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<KernelTensorSpec> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = kernel_tensor_value(a.Get(i), what);
  return out;
}

class NeonnProgram final : public Napi::ObjectWrap<NeonnProgram> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NeonnProgram",
                       {InstanceMethod("runSync", &NeonnProgram::RunSync),
                        InstanceMethod("run", &NeonnProgram::Run),
                        InstanceMethod("dispose", &NeonnProgram::Dispose),
                        InstanceMethod("memoryBytes", &NeonnProgram::MemoryBytes),
                        InstanceMethod("plannedLayers", &NeonnProgram::PlannedLayers),
                        InstanceMethod("lastRunMicros", &NeonnProgram::LastRunMicros)});
  }

  // new NeonnProgram(spec): { consts: Float32Array[], arenaSize, inputSizes, outputSizes, steps: { op, label, args }[] }
  explicit NeonnProgram(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NeonnProgram>(info) {
    guarded(info.Env(), [&] {
      NEONN_THROW_TYPEERROR_IF(info.Length() < 1 || !info[0].IsObject(), "model: expected a program spec object");
      Napi::Object spec = info[0].As<Napi::Object>();
      Napi::Value consts_v = spec.Get("consts");
      NEONN_THROW_TYPEERROR_IF(!consts_v.IsArray(), "model: expected \"consts\" to be an array");
      Napi::Array consts_a = consts_v.As<Napi::Array>();
      std::vector<ConstBuffer> consts(consts_a.Length());
      for (uint32_t i = 0; i < consts_a.Length(); ++i) {
        // Any dtype, as its bytes in 4-byte units (see typed_value): an adopted one shared, any other copied
        // (owned: dispose() frees it).
        size_t bytes = 0;
        const MutableFloatSpan s = typed_value(info.Env(), consts_a.Get(i), "consts[i]", &bytes);
        consts[i] = AdoptedConsts::instance().find(s.data, s.size);
        if (consts[i]) continue;
        auto copy = std::make_shared<std::vector<float>>(s.size, 0.0f);
        if (bytes > 0) std::memcpy(copy->data(), s.data, bytes);
        consts[i] = std::move(copy);
      }
      const size_t arena = size_value(spec.Get("arenaSize"), "arenaSize");
      std::vector<size_t> in_sizes = sizes_value(spec.Get("inputSizes"), "inputSizes");
      std::vector<size_t> out_sizes = sizes_value(spec.Get("outputSizes"), "outputSizes");
      Napi::Value steps_v = spec.Get("steps");
      NEONN_THROW_TYPEERROR_IF(!steps_v.IsArray(), "model: expected \"steps\" to be an array");
      Napi::Array steps_a = steps_v.As<Napi::Array>();
      std::vector<Step> steps(steps_a.Length());
      for (uint32_t i = 0; i < steps_a.Length(); ++i) {
        NEONN_THROW_TYPEERROR_IF(!steps_a.Get(i).IsObject(), "model: each step must be an object");
        Napi::Object so = steps_a.Get(i).As<Napi::Object>();
        NEONN_THROW_TYPEERROR_IF(!so.Get("op").IsString(), "model: step.op must be a string");
        const std::string op = so.Get("op").As<Napi::String>().Utf8Value();
        steps[i].label = so.Get("label").IsString() ? so.Get("label").As<Napi::String>().Utf8Value() : op;
        if (op == "kernel") {  // { op: 'kernel', kernel, inputs, outputs, attrs }: a generic kernel of the op schema
          NEONN_THROW_TYPEERROR_IF(!so.Get("kernel").IsString(), "model: step.kernel must be a string");
          const std::string name = so.Get("kernel").As<Napi::String>().Utf8Value();
          steps[i].generic = find_kernel(name);
          NEONN_THROW_RANGEERROR_IF(steps[i].generic == nullptr, "model: unknown kernel \"" + name + "\" in step " + std::to_string(i));
          steps[i].kernel_inputs = kernel_tensors(so.Get("inputs"), "model: " + name + " inputs");
          steps[i].kernel_outputs = kernel_tensors(so.Get("outputs"), "model: " + name + " outputs");
          steps[i].attrs = attrs_value(so.Get("attrs"), "model: " + name);
          continue;
        }
        steps[i].kernel = find_op(op);
        NEONN_THROW_RANGEERROR_IF(steps[i].kernel == nullptr, "model: unknown op \"" + op + "\" in step " + std::to_string(i));
        Napi::Value args_v = so.Get("args");
        NEONN_THROW_TYPEERROR_IF(!args_v.IsArray(), "model: step.args must be an array");
        Napi::Array args_a = args_v.As<Napi::Array>();
        for (uint32_t j = 0; j < args_a.Length(); ++j) steps[i].args.push_back(arg_value(args_a.Get(j)));
      }
      program_ = std::make_shared<Program>(std::move(consts), arena, std::move(in_sizes),
                                           std::move(out_sizes), std::move(steps));
      const Napi::Value precision = spec.Get("precision");
      if (!is_nullish(precision)) {
        NEONN_THROW_TYPEERROR_IF(!precision.IsString(), "model: \"precision\" must be \"fp32\" or \"fp16\"");
        const std::string p = precision.As<Napi::String>().Utf8Value();
        NEONN_THROW_RANGEERROR_IF(p != "fp32" && p != "fp16", "model: \"precision\" must be \"fp32\" or \"fp16\", got \"" + p + "\"");
        program_->set_fp16(p == "fp16");
      }
      external_bytes_ = static_cast<int64_t>(program_->memory_bytes());
      // Tell V8 how much native memory this object holds, so a dropped model
      // is collected (and its memory freed) as promptly as a big JS object.
      Napi::MemoryManagement::AdjustExternalMemory(info.Env(), external_bytes_);
    });
  }

  void Finalize(Napi::Env env) override { release(env); }

 private:
  // Conv plans (transformed weights) appear on first run: V8 hears of them too.
  void sync_external(Napi::Env env) {
    if (!program_) return;
    const int64_t now = static_cast<int64_t>(program_->memory_bytes());
    if (now != external_bytes_) {
      Napi::MemoryManagement::AdjustExternalMemory(env, now - external_bytes_);
      external_bytes_ = now;
    }
  }

  void release(Napi::Env env) {
    if (external_bytes_ != 0) {
      Napi::MemoryManagement::AdjustExternalMemory(env, -external_bytes_);
      external_bytes_ = 0;
    }
    program_.reset();  // a run in flight holds its own reference until it ends
  }

  std::shared_ptr<Program> live() const {
    if (!program_) {
      throw Error(ErrorKind::kInternal, "ERR_NEONN_DISPOSED", "model: used after dispose()");
    }
    return program_;
  }

  // runSync(inputs: Float32Array[], outputs: Float32Array[]): void
  Napi::Value RunSync(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      std::shared_ptr<Program> p = live();
      timed_run(*p, Registry::instance().active(), input_spans(info[0]), output_spans(info[1]));
      sync_external(info.Env());
      return info.Env().Undefined();
    });
  }

  // run(inputs: Float32Array[], outputs: Float32Array[]): Promise<void>
  Napi::Value Run(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      std::shared_ptr<Program> p = live();
      sync_external(info.Env());  // plans made by an earlier async run
      std::vector<FloatSpan> ins = input_spans(info[0]);  // checked on the caller's buffers
      std::vector<MutableFloatSpan> outs = output_spans(info[1]);
      // The run reads and writes native copies (owned_buffers.h): a caller's
      // buffer detached mid-run is never touched; outputs are copied out in OnOK.
      auto owned = std::make_unique<OwnedBuffers>(info.Env(), "model");
      Napi::Array in_a = info[0].As<Napi::Array>(), out_a = info[1].As<Napi::Array>();
      for (uint32_t i = 0; i < in_a.Length(); ++i) {
        ins[i].data = static_cast<const float*>(owned->copy(info.Env(), in_a.Get(i), "inputs[" + std::to_string(i) + "]"));
      }
      for (uint32_t i = 0; i < out_a.Length(); ++i) {
        outs[i].data = static_cast<float*>(owned->copy_result(info.Env(), out_a.Get(i), "outputs[" + std::to_string(i) + "]"));
      }
      const Backend* active = &Registry::instance().active();
      auto* worker = new OpWorker(
          info.Env(), "neonn:model", [p, ins, outs, active] { timed_run(*p, *active, ins, outs); }, std::move(owned));
      return OpWorker::Start(worker);
    });
  }

  // lastRunMicros(): number — wall time of the last whole run, on whichever thread ran it (0 before one).
  Napi::Value LastRunMicros(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), program_ ? static_cast<double>(program_->last_run_ns()) / 1000.0 : 0.0);
  }

  static void timed_run(Program& p, const Backend& active, const std::vector<FloatSpan>& ins, const std::vector<MutableFloatSpan>& outs) {
    const auto t0 = std::chrono::steady_clock::now();
    p.run(active, ins, outs);
    p.record_run_ns(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
  }

  // dispose(): void — frees the native memory now (a run in flight finishes first).
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release(info.Env());
    return info.Env().Undefined();
  }

  // memoryBytes(): number (0 after dispose)
  Napi::Value MemoryBytes(const Napi::CallbackInfo& info) {
    sync_external(info.Env());
    return Napi::Number::New(info.Env(), program_ ? static_cast<double>(program_->memory_bytes()) : 0.0);
  }

  // plannedLayers(): { step, label, resolved, backend, algorithm, bytes, note }[] — the conv
  // steps planned by the last run (empty after dispose or before a run).
  Napi::Value PlannedLayers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::vector<PlannedLayer> layers = program_ ? program_->planned_layers() : std::vector<PlannedLayer>();
    Napi::Array out = Napi::Array::New(env, layers.size());
    for (size_t i = 0; i < layers.size(); ++i) {
      const PlannedLayer& l = layers[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("step", static_cast<double>(l.step));
      o.Set("label", l.label);
      o.Set("resolved", l.resolved);
      o.Set("backend", l.backend);
      o.Set("algorithm", l.algorithm);
      o.Set("bytes", static_cast<double>(l.bytes));
      if (!l.note.empty()) o.Set("note", l.note);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  std::shared_ptr<Program> program_;
  int64_t external_bytes_ = 0;
};

}  // namespace

void RegisterModel(Napi::Env env, Napi::Object exports) {
  exports.Set("NeonnProgram", NeonnProgram::Define(env));
  exports.Set("adoptConstant", Napi::Function::New(env, AdoptConstant, "adoptConstant"));
}

}  // namespace binding
}  // namespace neonn
