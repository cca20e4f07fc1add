#include "program.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <utility>

#include "../auto/auto_backend.h"
#include "../auto/measure.h"
#include "../auto/tuning_cache.h"
#include "../ops/conv.h"
#include "../registry.h"
#include "../status.h"

namespace neonn {

// Times auto takes of a region and of its steps before it decides (the best of each counts).
constexpr int kRegionTrials = 3;

Program::Program(std::vector<ConstBuffer> consts, size_t arena_floats,
                 std::vector<size_t> input_sizes, std::vector<size_t> output_sizes,
                 std::vector<Step> steps)
    : consts_(ConstTable(std::move(consts))),
      input_sizes_(std::move(input_sizes)),
      output_sizes_(std::move(output_sizes)),
      steps_(std::move(steps)) {
  arena_ = Arena(arena_floats);
  plans_.resize(steps_.size());
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    // A plan may transform the weights once: only when they (and the bias) are constants.
    if (s.kernel != nullptr && s.kernel->family == Op::kConv2d && s.args.size() > 2) {
      auto is_const = [](const StepArg& a) {
        return a.kind == StepArg::Kind::kBuffer && a.buffer.kind == BufferRef::Kind::kConst;
      };
      plans_[i].plannable = is_const(s.args[1]) && (s.args[2].kind == StepArg::Kind::kNull || is_const(s.args[2]));
    }
    const std::string where = "model: step " + std::to_string(i) + " (" + s.label + ")";
    NEONN_THROW_RANGEERROR_IF(s.kernel == nullptr && s.generic == nullptr, where + ": no op");
    for (const auto* list : {&s.kernel_inputs, &s.kernel_outputs}) {
      for (const KernelTensorSpec& t : *list) {
        if (!t.present) continue;
        check_ref(t.ref, where, true);  // a typed tensor may be empty (Resize's roi)
        size_t count = 1;
        for (int64_t d : t.shape) {
          NEONN_THROW_RANGEERROR_IF(d < 0 || (d > 0 && count > SIZE_MAX / static_cast<size_t>(d)), where + ": bad shape");
          count *= static_cast<size_t>(d);
        }
        const size_t bytes = count * dtype_size(t.dtype);
        NEONN_THROW_RANGEERROR_IF(dtype_size(t.dtype) == 0 || bytes > t.ref.size * sizeof(float),
                                  where + ": a " + dtype_name(t.dtype) + " tensor of " + std::to_string(count) +
                                      " elements does not fit its buffer of " + std::to_string(t.ref.size) + " floats");
      }
    }
    for (const StepArg& a : s.args) {
      if (a.kind == StepArg::Kind::kBuffer) check_ref(a.buffer, where);
      if (a.kind == StepArg::Kind::kBufferList) {
        for (const BufferRef& r : a.buffers) check_ref(r, where);
      }
    }
  }
}

void Program::check_ref(const BufferRef& r, const std::string& where, bool allow_empty) const {
  size_t limit = 0;
  switch (r.kind) {
    case BufferRef::Kind::kConst:
      NEONN_THROW_RANGEERROR_IF(r.index >= consts_.size(),
                                where + ": constant " + std::to_string(r.index) + " does not exist");
      limit = consts_[r.index].size();
      break;
    case BufferRef::Kind::kArena:
      limit = arena_.size();
      break;
    case BufferRef::Kind::kInput:
      NEONN_THROW_RANGEERROR_IF(r.index >= input_sizes_.size(),
                                where + ": input " + std::to_string(r.index) + " does not exist");
      limit = input_sizes_[r.index];
      break;
    case BufferRef::Kind::kOutput:
      NEONN_THROW_RANGEERROR_IF(r.index >= output_sizes_.size(),
                                where + ": output " + std::to_string(r.index) + " does not exist");
      limit = output_sizes_[r.index];
      break;
  }
  NEONN_THROW_RANGEERROR_IF(r.offset > limit || r.size > limit - r.offset || (r.size == 0 && !allow_empty),
                            where + ": buffer [" + std::to_string(r.offset) + ", +" +
                                std::to_string(r.size) + ") is outside its " +
                                std::to_string(limit) + " floats");
}

size_t Program::memory_bytes() const {
  size_t n = arena_.size();
  for (const ConstBuffer& c : consts_.items()) n += c->size();
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  return n * sizeof(float) + plan_bytes_;
}

std::vector<PlannedLayer> Program::planned_layers() const {
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  return planned_;
}

void Program::snapshot_plans() {
  std::vector<PlannedLayer> layers;
  size_t bytes = 0;
  std::vector<bool> in_region(plans_.size(), false);
  for (const Region& r : regions_) {
    if (r.use != Region::Use::kRegion) continue;
    for (const RegionNode& n : r.graph.nodes) in_region[n.step] = true;
  }
  // A region auto measured slower than its layers: they say so.
  std::vector<const std::string*> measured_slower(plans_.size(), nullptr);
  for (const Region& r : regions_) {
    if (r.use != Region::Use::kSteps) continue;
    for (const RegionNode& n : r.graph.nodes) measured_slower[n.step] = &r.note;
  }
  // The integer convs of a quantized region auto measured slower: their reference kernel runs.
  for (const Region& r : regions_) {
    if (r.use != Region::Use::kSteps || !r.graph.quantized) continue;
    for (const RegionNode& n : r.graph.nodes) {
      if (n.kind != RegionNode::Kind::kQConv) continue;
      layers.push_back(PlannedLayer{n.step, steps_[n.step].label, regions_resolved_, "reference", "integer kernel", 0, r.note});
    }
  }
  for (size_t i = 0; i < plans_.size(); ++i) {
    const PlanSlot& p = plans_[i];
    // A conv of a region has a plan of its own only from a run whose region fell back: the region speaks for it.
    if (!p.plan || in_region[i]) continue;
    const std::string note = measured_slower[i] == nullptr ? p.plan->note() : p.plan->note() + "; " + *measured_slower[i];
    layers.push_back(PlannedLayer{i, steps_[i].label, p.made_for->name(), p.plan->backend(),
                                  conv_algorithm_name(p.plan->algorithm()), p.plan->memory_bytes(), note});
    bytes += layers.back().bytes;
  }
  // The convs of NHWC regions: the region's memory on its first conv.
  for (const Region& r : regions_) {
    if (r.use != Region::Use::kRegion) continue;
    // Each conv with its packed weights (the first also with the region's buffers).
    size_t before = 0;
    for (size_t k = 0; k < r.graph.nodes.size(); ++k) {
      const RegionNode& n = r.graph.nodes[k];
      before += r.plan->node_bytes(k);
      if (n.kind != RegionNode::Kind::kConv && n.kind != RegionNode::Kind::kQConv) continue;
      // Under auto: how the layer alone was chosen, then how the region was.
      const std::string& alone = k < r.layer_notes.size() ? r.layer_notes[k] : std::string();
      layers.push_back(PlannedLayer{n.step, steps_[n.step].label, regions_resolved_, regions_for_->name(),
                                    conv_algorithm_name(ConvAlgorithm::kXnnpack), before,
                                    alone.empty() ? r.note : alone + "; " + r.note});
      bytes += before;
      before = 0;
    }
    bytes += before;
  }
  std::sort(layers.begin(), layers.end(), [](const PlannedLayer& a, const PlannedLayer& b) { return a.step < b.step; });
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  planned_ = std::move(layers);
  plan_bytes_ = bytes;
}

void Program::run_conv_step(size_t i, const Backend& active, const ArgList& args) {
  const Registry& reg = Registry::instance();
  const Backend& backend = reg.resolve(active, Op::kConv2d);
  const Conv2dCall call = decode_conv2d(args);
  PlanSlot& slot = plans_[i];
  if (!slot.plannable) return run_conv2d(backend, call);
  if (!slot.plan || slot.plan->stale() || slot.made_for != &backend || slot.threads != reg.threads()) {
    slot.plan.reset();  // free the old plan's memory before making the new one
    slot.measured = MeasuredLayer{};
    AutoPlanningScope* scope = AutoPlanningScope::current();
    if (scope != nullptr) scope->layer = &slot.measured;
    struct Unset {
      AutoPlanningScope* s;
      ~Unset() {
        if (s != nullptr) s->layer = nullptr;
      }
    } unset{scope};
    slot.plan = backend.plan_conv2d(call, call.algorithm);
    slot.made_for = &backend;
    slot.threads = reg.threads();
    replanned_ = true;
  }
  slot.plan->run(call);
  backend.count_op();
}

void Program::run(const Backend& active, const std::vector<FloatSpan>& inputs,
                  const std::vector<MutableFloatSpan>& outputs) {
  NEONN_THROW_RANGEERROR_IF(inputs.size() != input_sizes_.size() ||
                                outputs.size() != output_sizes_.size(),
                            "model: expected " + std::to_string(input_sizes_.size()) +
                                " inputs and " + std::to_string(output_sizes_.size()) +
                                " outputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    // An empty input (ReduceSum's empty axes) may have no storage at all.
    NEONN_THROW_RANGEERROR_IF((inputs[i].data == nullptr && input_sizes_[i] != 0) || inputs[i].size != input_sizes_[i],
                              "model: input " + std::to_string(i) + " has " +
                                  std::to_string(inputs[i].size) + " elements, expected " +
                                  std::to_string(input_sizes_[i]));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    NEONN_THROW_RANGEERROR_IF((outputs[i].data == nullptr && output_sizes_[i] != 0) || outputs[i].size != output_sizes_[i],
                              "model: output " + std::to_string(i) + " has " +
                                  std::to_string(outputs[i].size) + " elements, expected " +
                                  std::to_string(output_sizes_[i]));
  }
  std::lock_guard<std::mutex> lock(run_mutex_);
  const Registry& reg = Registry::instance();
  auto resolve = [&](const BufferRef& r) -> MutableFloatSpan {
    float* base = nullptr;
    switch (r.kind) {
      // Constants are read-only by construction: no op writes an input slot.
      case BufferRef::Kind::kConst: base = const_cast<float*>(consts_[r.index].data()); break;
      case BufferRef::Kind::kArena: base = arena_.data(); break;
      case BufferRef::Kind::kInput: base = const_cast<float*>(inputs[r.index].data); break;
      case BufferRef::Kind::kOutput: base = outputs[r.index].data; break;
    }
    return MutableFloatSpan{base + r.offset, r.size};
  };
  // Under auto with several threads, the layers' measurements are collected
  // so that they can be kept on one library's thread pool (auto_backend.h).
  std::unique_ptr<AutoPlanningScope> scope;
  if (active.name() == "auto" && reg.threads() > 1) scope = std::make_unique<AutoPlanningScope>();
  ValueArgs args;
  replanned_ = false;
  struct Snapshot {  // on every exit, errors included: a plan made before a failing step still counts
    Program* p;
    ~Snapshot() {
      if (p->replanned_) p->snapshot_plans();
    }
  } snapshot{this};
  auto fill = [&](const Step& s) {
    std::vector<ValueArgs::Value>& vals = args.values();
    vals.resize(s.args.size());
    for (size_t i = 0; i < s.args.size(); ++i) {
      const StepArg& a = s.args[i];
      ValueArgs::Value& v = vals[i];
      v.spans.clear();
      switch (a.kind) {
        case StepArg::Kind::kNull: v.kind = ValueArgs::Value::Kind::kNull; break;
        case StepArg::Kind::kNumber:
          v.kind = ValueArgs::Value::Kind::kNumber;
          v.number = a.number;
          break;
        case StepArg::Kind::kBuffer:
          v.kind = ValueArgs::Value::Kind::kSpan;
          v.span = resolve(a.buffer);
          break;
        case StepArg::Kind::kBufferList:
          v.kind = ValueArgs::Value::Kind::kSpanList;
          for (const BufferRef& r : a.buffers) {
            const MutableFloatSpan m = resolve(r);
            v.spans.push_back(FloatSpan{m.data, m.size});
          }
          break;
      }
    }
  };
  KernelCall kcall;
  auto run_generic = [&](const Step& s) {
    kcall.op = s.generic->name;
    auto bind = [&](const std::vector<KernelTensorSpec>& specs, std::vector<TensorRef>& refs) {
      refs.resize(specs.size());
      for (size_t i = 0; i < specs.size(); ++i) {
        const KernelTensorSpec& t = specs[i];
        TensorRef& r = refs[i];
        r.dtype = t.present ? t.dtype : DType::kUndefined;
        r.data = t.present ? resolve(t.ref).data : nullptr;
        r.shape = t.shape;
      }
    };
    bind(s.kernel_inputs, kcall.inputs);
    bind(s.kernel_outputs, kcall.outputs);
    kcall.attrs = s.attrs;
    s.generic->run(kcall);
  };
  // NHWC regions: the active backend's (xnnpack), or under auto XNNPACK's,
  // each measured against its steps on the runs after the first (whose
  // per-layer choices it is measured against) and used where faster. Planned
  // once per backend and thread count.
  const Backend* planner = nullptr;
  bool measure = false;
  const char* regions_env = std::getenv("NEONN_REGIONS");  // "off": none (checked by lib/config.ts)
  if (regions_env != nullptr && std::string(regions_env) == "off") {
    planner = nullptr;
  } else if (active.runs_regions()) {
    planner = &active;
  } else if (active.name() == "auto") {
    const Backend* x = reg.find("xnnpack");
    if (x != nullptr && x->status().ok && x->runs_regions()) {
      planner = x;
      measure = true;
    }
  }
  const bool first_run = regions_for_ != planner || regions_threads_ != reg.threads();
  if (planner != nullptr && first_run) {
    plan_regions(*planner, measure, fill, args);
    regions_resolved_ = active.name();
  }
  if (planner == nullptr) regions_.clear(), regions_for_ = nullptr;
  std::vector<std::vector<float>> scratch;
  auto exec_step = [&](size_t i) {
    const Step& s = steps_[i];
    try {
      if (s.generic != nullptr) return run_generic(s);
      fill(s);
      if (s.kernel->family == Op::kConv2d) return run_conv_step(i, active, args);
      s.kernel->exec(reg.resolve(active, s.kernel->family), args);
    } catch (const Error& e) {
      throw Error(e.kind(), e.code(), "model: step " + std::to_string(i) + " (" + s.label + "): " + e.what());
    }
  };
  auto exec_region = [&](const Region& r, std::vector<std::vector<float>>* aside) {
    try {
      return run_region(r, resolve, aside);
    } catch (const Error& e) {
      throw Error(e.kind(), e.code(), "model: steps " + std::to_string(r.first) + "-" + std::to_string(r.end - 1) +
                                          " (" + r.plan->describe() + "): " + e.what());
    }
  };
  auto elapsed_us = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  };
  // Under auto, a region is measured where the first run reaches it, the
  // region first: one untimed run (XNNPACK sets up its operators), then timed
  // runs that write its exits aside. Then its steps run once, their layers
  // planned and measured as usual, adding up what each costs (a conv: its
  // measured minimum; any other step: its time). Once that sum is 10% past
  // the region's time, the steps have clearly lost whatever the rest would
  // cost: the layers after it are never measured. Steps that finish under it are timed
  // against the region from the arena as it was at the region's start, a few
  // times each. The faster computes the result, so the first run's outputs
  // are those of every later run.
  auto measure_region = [&](Region& r) {
    // The region's entries that its steps write over, as they were at the region's start: a run of the steps (or
    // the region after them) reads nothing else it did not compute first. A copy of those only, not of all the
    // steps write (on a model that is one region, that was its whole arena again, at the first run's peak).
    const std::vector<BufferRef> written = region_writes(r);
    const std::vector<BufferRef> entries = region_entries_written(r, written);
    std::vector<std::vector<float>> saved;
    for (const BufferRef& e : entries) saved.emplace_back(arena_.data() + e.offset, arena_.data() + e.offset + e.size);
    auto restore = [&] {
      for (size_t k = 0; k < entries.size(); ++k) std::copy(saved[k].begin(), saved[k].end(), arena_.data() + entries[k].offset);
    };
    // Every page the steps write, written once (with its own value) before anything is timed: the arena is mapped
    // lazily, and a first touch of a page would count in a step's time.
    auto touch = [&] {
      for (const BufferRef& w : written) {
        float* base = arena_.data() + w.offset;
        for (size_t i = 0; i < w.size; i += 1024) {
          volatile float* q = base + i;
          *q = *q;
        }
      }
    };
    // NEONN_TEST_REGIONS_CLEAN (tests only, never documented to users): count every trial as on idle cores,
    // so a test on a loaded machine can check that a clear decision is kept on disk.
    static const bool force_clean = std::getenv("NEONN_TEST_REGIONS_CLEAN") != nullptr;
    double steps_us = 0, region_us = 0;
    bool steps_stopped = false, clean = true;
    bool finite = exec_region(r, &scratch);
    for (int rep = 0; finite && rep < kRegionTrials; ++rep) {
      const Sample rs = take_sample([&] { finite = exec_region(r, &scratch); });
      region_us = rep == 0 ? rs.wall_us : std::min(region_us, rs.wall_us);
      clean = clean && (force_clean || !rs.busy());
    }
    if (!finite) {
      // NaN or infinity at its edges: this run is no measure of it; the next run measures again.
      for (size_t i = r.first; i < r.end; ++i) exec_step(i);
      return;
    }
    // A quantized region's steps have nothing to plan (their integer kernels are reference loops, many times
    // slower): they are only timed below, and only until they have clearly lost.
    bool timed = r.graph.quantized;
    if (!r.graph.quantized) {
      touch();
      double bound = 0;
      for (size_t i = r.first; i < r.end && !steps_stopped; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        exec_step(i);
        const double wall = elapsed_us(t0);
        if (steps_[i].kernel != nullptr && steps_[i].kernel->family == Op::kConv2d) {
          // Its measured minimum; a layer measured only on busy cores (or not planned) counts nothing.
          const double us = plans_[i].plan ? plans_[i].plan->measured_us() : 0.0;
          bound += us;
          if (us <= 0) clean = false;
        } else {
          bound += wall;
        }
        // Past it by kSureMargin: a clear decision, which the tuning cache keeps for later processes.
        if (region_us * (1.0 + kSureMargin) <= bound && i + 1 < r.end) {
          steps_stopped = true;
          steps_us = bound;
        }
      }
      timed = !steps_stopped;
    }
    // Close enough to time the steps as they run: both from the arena as it was at the region's start, the
    // region writing its exits aside.
    for (int rep = 0; timed && finite && rep < kRegionTrials; ++rep) {
      restore();
      const Sample rs = take_sample([&] { finite = exec_region(r, &scratch); });
      const double rt = rs.wall_us;
      if (!finite) break;
      restore();
      const auto t0 = std::chrono::steady_clock::now();
      // Stopped once they take 1.5x the region's time: they have lost, and the rest would only cost.
      double st = 0;
      const Sample ss = take_sample([&] {
        for (size_t i = r.first; i < r.end; ++i) {
          exec_step(i);
          st = elapsed_us(t0);
          if (st > 1.5 * rt && i + 1 < r.end) {
            steps_stopped = true;
            break;
          }
        }
      });
      clean = clean && (force_clean || (!rs.busy() && !ss.busy()));
      steps_us = rep == 0 ? st : std::min(steps_us, st);
      region_us = std::min(region_us, rt);
      // The steps far slower after one trial: no need for more. A region that lost keeps its trials: one
      // stall of its thread pool on a busy core must not decide.
      if (steps_stopped || steps_us > 1.5 * region_us) break;
    }
    restore();
    if (!finite) {
      for (size_t i = r.first; i < r.end; ++i) exec_step(i);
      return;
    }
    decide_region(r, region_us, steps_us, steps_stopped, clean);
    if (r.use == Region::Use::kRegion && exec_region(r, nullptr)) return;
    for (size_t i = r.first; i < r.end; ++i) exec_step(i);
  };
  auto run_steps = [&] {
    size_t next_region = 0;
    for (size_t i = 0; i < steps_.size(); ++i) {
      while (next_region < regions_.size() && regions_[next_region].first < i) ++next_region;
      if (next_region < regions_.size() && regions_[next_region].first == i) {
        Region& r = regions_[next_region];
        if (r.use == Region::Use::kMeasuring) {
          measure_region(r);
          i = r.end - 1;
          continue;
        }
        // Not done (NaN or infinity at its edges): its steps run one by one.
        if (r.use == Region::Use::kRegion && exec_region(r, nullptr)) {
          i = r.end - 1;
          continue;
        }
      }
      exec_step(i);
    }
  };
  run_steps();
  // Re-planned layers compute in another order, rounding differently: run
  // again, so the first run's outputs are those every later run gives.
  if (scope && replanned_ && keep_one_pool(active, [&](size_t i) {
        fill(steps_[i]);
        return decode_conv2d(args);
      })) {
    run_steps();
  }
}

bool Program::keep_one_pool(const Backend& active, const std::function<Conv2dCall(size_t)>& call_of) {
  std::vector<const MeasuredLayer*> layers;
  for (const PlanSlot& p : plans_) {
    if (p.plan && p.measured.planned) layers.push_back(&p.measured);
  }
  const Backend* pool = choose_one_pool(layers);
  if (pool == nullptr) return false;
  bool changed = false;
  for (size_t i = 0; i < plans_.size(); ++i) {
    PlanSlot& slot = plans_[i];
    if (!slot.plan || !slot.measured.planned || slot.measured.winner == pool) continue;
    for (const MeasuredLayer::Entry& e : slot.measured.entries) {
      if (e.backend != pool) continue;
      char buf[160];
      std::snprintf(buf, sizeof buf, "one thread pool for the model: %s/%s %.3f ms (alone, %s/%s was faster)",
                    pool->name().c_str(), conv_algorithm_name(e.algorithm), e.micros / 1000.0,
                    slot.plan->backend().c_str(), conv_algorithm_name(slot.plan->algorithm()));
      const Conv2dCall call = call_of(i);
      const std::string note = std::string(buf) + "; " + slot.plan->note();
      slot.plan.reset();
      slot.plan = auto_plan_on(active, call, slot.measured, e, note);
      slot.measured.winner = pool;
      changed = true;
      break;
    }
  }
  return changed;
}

}  // namespace neonn
