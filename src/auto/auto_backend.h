// The "auto" backend: for each conv shape it measures every path the other
// available backends offer (im2col on each BLAS build, each NNPACK algorithm,
// XNNPACK, ...), keeps the fastest by minimum over repeated runs, and
// remembers the choice per layer shape and thread count, in memory and on
// disk (tuning_cache.h), so a restarted service does not measure again.
// Measurements taken while the cores were busy elsewhere are redone, or used
// by this process only (measure.h); a doubtful choice is re-measured on a
// later load, and one that runs far slower in use than measured is dropped.
// Other ops go down its fallback chain (openblas, then reference).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../backend.h"

namespace neonn {

std::unique_ptr<Backend> make_auto_backend();

/// What auto knows of one conv layer's candidates: each backend's fastest
/// algorithm and time (measured now, or from the cache), and the winner.
struct MeasuredLayer {
  struct Entry {
    const Backend* backend = nullptr;
    ConvAlgorithm algorithm = ConvAlgorithm::kAuto;
    double micros = 0;
  };
  std::vector<Entry> entries;
  const Backend* winner = nullptr;
  std::string key;     ///< the layer's tuning-cache key
  bool noisy = false;  ///< measured while the cores were busy (not saved)
  bool planned = false;  ///< auto planned this layer (it is a candidate for re-planning)
};

/// Installed by a model while it plans its conv layers under auto with more
/// than one thread: auto writes each layer's measurements into `layer`.
/// Thread pools of different libraries (each OpenBLAS build, NNPACK's and
/// XNNPACK's pthreadpool) spin for milliseconds after their work, so a model
/// that alternates between them makes them fight over the cores; with all
/// layers measured, the model can keep them on one pool (choose_one_pool).
class AutoPlanningScope {
 public:
  AutoPlanningScope();
  ~AutoPlanningScope();
  AutoPlanningScope(const AutoPlanningScope&) = delete;
  AutoPlanningScope& operator=(const AutoPlanningScope&) = delete;
  /// The scope of this thread's model run, or nullptr.
  static AutoPlanningScope* current();
  MeasuredLayer* layer = nullptr;

 private:
  AutoPlanningScope* outer_;
};

/// The backend whose pool the layers should share, or nullptr to keep each
/// layer's own winner: the backend with the least total time over the layers
/// (a layer it cannot run counts its winner's time), if that total is within
/// kOnePoolSlack times the per-layer winners' total; whatever the totals when
/// any layer was measured while the cores were busy: then the pools' idle
/// spinning takes the core from the next layer's pool, and the per-layer
/// advantage measured alone does not survive (on the 2-core VM with one
/// spinning process, MobileNetV2 on three pools ran 20-60x slower than on
/// OpenBLAS alone).
const Backend* choose_one_pool(const std::vector<const MeasuredLayer*>& layers);
/// Measured on a 2-core VM, a model alternating between two pools ran 4-10x
/// slower than on either alone, while one pool for all layers cost at most
/// 2x their per-layer best: so one pool wins unless it doubles the time.
constexpr double kOnePoolSlack = 2.0;

/// auto's plan for `layer` on `entry`'s backend and algorithm (after
/// choose_one_pool), watched in use against entry.micros like any choice.
std::unique_ptr<ConvPlan> auto_plan_on(const Backend& auto_backend, const Conv2dCall& call, const MeasuredLayer& layer,
                                       const MeasuredLayer::Entry& entry, const std::string& note);

/// A choice is dropped when the median of kPracticeRuns consecutive runs in
/// use took more than kSlowFactor times its measured figure, and more than
/// kSlowMinExcessMicros over it (a layer of a few microseconds measured with
/// its data in cache may well take three times that inside a model, at no
/// cost worth a measurement): its pool stalls on cores that turned busy, or
/// it was measured at a lucky moment (the median, not the fastest run: a
/// pool that stalls every other run still has fast ones); then it is re-measured, counting it at least as slow as it ran in use. At
/// most kMaxDrops times per layer and process, so a machine whose load swings
/// does not keep a model measuring.
constexpr int kPracticeRuns = 5;
constexpr double kSlowFactor = 3.0;
constexpr double kSlowMinExcessMicros = 200.0;
constexpr int kMaxDrops = 2;

}  // namespace neonn
