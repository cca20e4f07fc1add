// A compiled model: constants (weights, shared), one activation arena, and a
// list of steps, each an op from the op table with its stored arguments whose
// buffers point into constants, the arena, the caller's inputs or outputs.
// The planning (shape inference, folding, fusion, buffer reuse) happens in
// TypeScript; this executes it, off the JS thread, with every reference
// checked once when the program is built and every size re-checked by the op
// decoders when it runs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../args.h"
#include "../auto/auto_backend.h"
#include "../kernels/kernel.h"
#include "../ops/op_table.h"
#include "arena.h"
#include "region.h"

namespace neonn {

/// Under auto, a region must be this much faster than its steps to be used (the times are noisy).
constexpr double kRegionMargin = 0.95;

/// A constant's storage, read-only once made. Shared: the programs a model
/// makes for several input shapes (and the model's own JS view of a weight,
/// binding/model.cc) hold the same copy.
using ConstBuffer = std::shared_ptr<const std::vector<float>>;

/// A program's constants by index.
class ConstTable {
 public:
  ConstTable() = default;
  explicit ConstTable(std::vector<ConstBuffer> items) : items_(std::move(items)) {}
  size_t size() const { return items_.size(); }
  const std::vector<float>& operator[](size_t i) const { return *items_[i]; }
  const std::vector<ConstBuffer>& items() const { return items_; }

 private:
  std::vector<ConstBuffer> items_;
};

/// Where a step's buffer lives.
struct BufferRef {
  enum class Kind : uint8_t { kConst, kArena, kInput, kOutput };
  Kind kind = Kind::kArena;
  uint32_t index = 0;  ///< which constant / input / output (unused for the arena)
  size_t offset = 0;   ///< in floats
  size_t size = 0;     ///< in floats
};

/// One stored argument of a step.
struct StepArg {
  enum class Kind : uint8_t { kNull, kNumber, kBuffer, kBufferList };
  Kind kind = Kind::kNull;
  double number = 0;
  BufferRef buffer;
  std::vector<BufferRef> buffers;
};

/// A typed tensor of a generic kernel step: where it lives, its dtype and shape.
struct KernelTensorSpec {
  bool present = false;  ///< false: an omitted optional input
  BufferRef ref;
  DType dtype = DType::kUndefined;
  std::vector<int64_t> shape;
};

struct Step {
  const OpKernel* kernel = nullptr;  ///< a hand-tuned op family, or
  const KernelDef* generic = nullptr;  ///< a generic kernel of the op schema
  std::vector<StepArg> args;           ///< the family's positional arguments
  std::vector<KernelTensorSpec> kernel_inputs, kernel_outputs;  ///< the generic kernel's tensors
  std::vector<std::pair<std::string, Attr>> attrs;              ///< and its attributes
  std::string label;  ///< for errors: "step 3 (conv2d)"
};

/// What runs one planned conv step (nn.diagnostics() shows it per layer).
struct PlannedLayer {
  size_t step = 0;
  std::string label;
  std::string resolved;  ///< the backend the step resolved to when planned ("auto")
  std::string backend;   ///< the one that runs it ("nnpack")
  std::string algorithm;
  size_t bytes = 0;  ///< native memory of the plan (transformed kernels, operators)
  std::string note;  ///< how it was chosen (auto)
};

class Program {
 public:
  /// Validates every reference; throws RangeError naming the step on any that
  /// falls outside its buffer.
  Program(std::vector<ConstBuffer> consts, size_t arena_floats,
          std::vector<size_t> input_sizes, std::vector<size_t> output_sizes,
          std::vector<Step> steps);

  /// Runs every step on `active` (each op resolved along its fallback chain).
  /// Runs on one program are serialized: they share the arena.
  void run(const Backend& active, const std::vector<FloatSpan>& inputs,
           const std::vector<MutableFloatSpan>& outputs);

  size_t steps() const { return steps_.size(); }
  /// Compute NHWC regions in half precision where the backend can (before the first run).
  void set_fp16(bool on) { fp16_ = on; }
  /// Bytes of native memory this program holds (constants + arena + conv plans; a constant shared with
  /// another program counts in each).
  size_t memory_bytes() const;
  /// The conv steps planned by the last run: who runs each and how.
  std::vector<PlannedLayer> planned_layers() const;
  /// Wall time of the last whole run (ns) as its caller timed it (binding/model.cc): what run() in JS weighs
  /// against a thread hop.
  void record_run_ns(uint64_t ns) { last_run_ns_.store(ns, std::memory_order_relaxed); }
  uint64_t last_run_ns() const { return last_run_ns_.load(std::memory_order_relaxed); }
  const std::vector<size_t>& input_sizes() const { return input_sizes_; }
  const std::vector<size_t>& output_sizes() const { return output_sizes_; }

 private:
  std::atomic<uint64_t> last_run_ns_{0};
  /// `allow_empty`: a generic kernel's tensor may have no elements.
  void check_ref(const BufferRef& r, const std::string& where, bool allow_empty = false) const;
  /// Runs conv step `i` through its plan, (re)made when the backend or the
  /// thread count changed since it was made.
  void run_conv_step(size_t i, const Backend& active, const ArgList& args);
  /// Publishes the plans for planned_layers()/memory_bytes() (under run_mutex_).
  void snapshot_plans();
  /// Under auto with several threads: re-plans the layers whose winner runs
  /// on another library's pool than most of the model (choose_one_pool);
  /// true when it changed a plan.
  bool keep_one_pool(const Backend& active, const std::function<Conv2dCall(size_t)>& call_of);

  /// A run of steps [first, end) the active backend runs as one NHWC region.
  struct Region {
    size_t first = 0, end = 0;
    RegionGraph graph;
    std::vector<BufferRef> refs;  ///< per value: where its NCHW data lives in the program
    std::unique_ptr<RegionPlan> plan;
    /// Under auto, measured on the runs after the first: the region, or its steps one by one.
    enum class Use { kMeasuring, kRegion, kSteps } use = Use::kRegion;
    std::string note;  ///< what it is, and under auto how it was chosen
    std::vector<std::string> layer_notes;  ///< per node, under auto: how its layer alone was chosen
    std::string key;                       ///< its structure (nodes, shapes, parameters, precision, threads)
    std::string disk_key;                  ///< under auto: its decision's key in the tuning cache file
  };
  /// Finds the runs of steps `planner` can run as regions and plans them
  /// (`fill` binds a step's arguments into `args` for decoding); `measure`:
  /// each is measured against its steps before it is used (auto).
  void plan_regions(const Backend& planner, bool measure, const std::function<void(const Step&)>& fill, ValueArgs& args);
  /// Runs region `r` (its entries and exits resolved by `resolve`, or the
  /// exits into `scratch` when given); false: run its steps one by one.
  bool run_region(const Region& r, const std::function<MutableFloatSpan(const BufferRef&)>& resolve,
                  std::vector<std::vector<float>>* scratch = nullptr) const;
  /// The arena ranges the steps of `r` write (all of a region's steps are of families whose outputs are known).
  std::vector<BufferRef> region_writes(const Region& r) const;
  /// The arena ranges of the entries of `r` that its steps write over (`written`, region_writes): all that a run of
  /// its steps changes of what they read (every other value they read, they compute first).
  std::vector<BufferRef> region_entries_written(const Region& r, const std::vector<BufferRef>& written) const;
  /// Decides from the best times of `r` and of its steps (`steps_stopped`: the steps were stopped after
  /// `steps_us`, already 1.5x the region's time).
  /// `clean`: no trial ran while the cores were busy elsewhere (a clear decision is then also kept on disk).
  void decide_region(Region& r, double region_us, double steps_us, bool steps_stopped, bool clean);

  /// A conv step whose weights are constants keeps a plan (transformed or
  /// packed weights) across runs; other steps have an empty slot.
  struct PlanSlot {
    bool plannable = false;
    std::unique_ptr<ConvPlan> plan;
    const Backend* made_for = nullptr;
    int threads = 0;
    MeasuredLayer measured;  ///< what auto measured when it made the plan
  };

  ConstTable consts_;
  Arena arena_;
  std::vector<size_t> input_sizes_, output_sizes_;
  std::vector<Step> steps_;
  std::vector<PlanSlot> plans_;
  std::vector<Region> regions_;
  bool fp16_ = false;
  const Backend* regions_for_ = nullptr;  ///< the backend the regions were planned for
  int regions_threads_ = 0;
  std::string regions_resolved_;  ///< the active backend they were planned under (planned_layers' "resolved")
  bool replanned_ = false;  ///< a plan was (re)made during this run
  std::mutex run_mutex_;
  // What the JS thread reads while a run may be in flight on the pool: a
  // snapshot taken after each run that (re)made a plan, never the live plans.
  mutable std::mutex snapshot_mutex_;
  std::vector<PlannedLayer> planned_;
  size_t plan_bytes_ = 0;
};

}  // namespace neonn
