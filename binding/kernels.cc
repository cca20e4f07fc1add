// The generic kernels of the op schema (src/kernels/): one sync and one
// async entry for all of them, each call naming its kernel. The TS facade
// (lib/ir/ops.ts) derives every op's checks from the schema before calling.
#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../src/kernels/kernel.h"
#include "kernel_args.h"
#include "op_worker.h"

namespace neonn {
namespace binding {
namespace {

KernelCall call_value(const Napi::CallbackInfo& info) {
  NEONN_THROW_TYPEERROR_IF(info.Length() < 4 || !info[0].IsString(),
                           "kernel: expected (name, inputs, outputs, attrs)");
  KernelCall call;
  call.op = info[0].As<Napi::String>().Utf8Value();
  NEONN_THROW_RANGEERROR_IF(find_kernel(call.op) == nullptr, "kernel: no kernel named \"" + call.op + "\"");
  call.inputs = tensor_list(info.Env(), info[1], call.op + ": inputs");
  call.outputs = tensor_list(info.Env(), info[2], call.op + ": outputs");
  call.attrs = attrs_value(info[3], call.op);
  return call;
}

// kernelSync(name, inputs: ({data, shape, dtype} | null)[], outputs: {data, shape, dtype}[], attrs): void
Napi::Value KernelSync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    run_kernel(call_value(info));
    return info.Env().Undefined();
  });
}

// kernel(name, inputs, outputs, attrs): Promise<void>
Napi::Value KernelAsync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    KernelCall call = call_value(info);  // every check on the caller's buffers
    // Then the work gets native copies (owned_buffers.h); outputs are copied back in OnOK.
    auto owned = std::make_unique<OwnedBuffers>(info.Env(), call.op);
    for (size_t k = 1; k <= 2; ++k) {
      std::vector<TensorRef>& list = k == 1 ? call.inputs : call.outputs;
      Napi::Array a = info[k].As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) {
        if (list[i].data == nullptr) continue;  // an omitted input
        const Napi::Value data = a.Get(i).As<Napi::Object>().Get("data");
        const std::string what = (k == 1 ? "inputs[" : "outputs[") + std::to_string(i) + "].data";
        list[i].data = k == 1 ? owned->copy(info.Env(), data, what) : owned->copy_result(info.Env(), data, what);
      }
    }
    auto* worker = new OpWorker(info.Env(), "neonn:kernel", [call] { run_kernel(call); }, std::move(owned));
    return OpWorker::Start(worker);
  });
}

// kernelNames(): string[] — every registered kernel.
Napi::Value KernelNames(const Napi::CallbackInfo& info) {
  const std::vector<std::string> names = kernel_names();
  Napi::Array out = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), names[i]);
  return out;
}

}  // namespace

void RegisterKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("kernelSync", Napi::Function::New(env, KernelSync, "kernelSync"));
  exports.Set("kernel", Napi::Function::New(env, KernelAsync, "kernel"));
  exports.Set("kernelNames", Napi::Function::New(env, KernelNames, "kernelNames"));
}

}  // namespace binding
}  // namespace neonn
