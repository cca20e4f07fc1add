// The backend interface. A backend is a named provider of ops: it says which
// ops it implements (provides()), and the registry resolves an op the active
// backend lacks along the backend's fallback chain, ending in "reference".
// Ops never name a backend; they ask the registry, so a new backend (nnpack,
// xnnpack, blas:<path>, auto) slots in without touching the ops.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "status.h"

namespace neonn {

/// Op families a backend may provide. Extend at the end.
enum class Op : uint32_t {
  kGemm = 0,
  kConv2d,          ///< conv2d (any stride/pad/dilation/group, bias, fused relu)
  kFullyConnected,  ///< fullyConnected
  kPool2d,          ///< maxPool2d, avgPool2d, globalAvgPool
  kUnary,           ///< relu, leakyRelu, sigmoid, tanh, clip (elementwise, one input)
  kPrelu,           ///< prelu (per-channel or broadcast slope)
  kSoftmax,         ///< softmax, logSoftmax along an axis
  kBatchNorm,       ///< batchNorm (inference)
  kLrn,             ///< lrn across channels
  kBinary,          ///< add, mul (numpy broadcasting)
  kConcat,          ///< concat along an axis
  kTranspose,       ///< transpose by a permutation
  kPad,             ///< constant pad
  kCount,
};

// Call descriptions of each op family: plain structs holding sizes,
// hyperparameters and raw buffer pointers, defined with their op in src/ops/.
struct RegionGraph;         // src/model/region.h
class RegionPlan;           // src/model/region.h
struct Conv2dCall;          // src/ops/conv.h
struct FullyConnectedCall;  // src/ops/conv.h
struct Pool2dCall;          // src/ops/pool.h
struct UnaryCall;           // src/ops/elementwise.h
struct PreluCall;           // src/ops/elementwise.h
struct SoftmaxCall;         // src/ops/elementwise.h
struct BatchNormCall;       // src/ops/normalization.h
struct LrnCall;             // src/ops/normalization.h
struct BinaryCall;          // src/ops/elementwise.h
struct ConcatCall;          // src/ops/layout.h
struct TransposeCall;       // src/ops/layout.h
struct PadCall;             // src/ops/layout.h

const char* op_name(Op op);

/// How a conv2d is computed. Values are part of the binding's ABI (the
/// `algorithm` argument of conv2d) and of the auto-tuning cache: extend at the end.
enum class ConvAlgorithm : int32_t {
  kAuto = 0,          ///< the backend decides (auto: by measurement)
  kIm2col = 1,        ///< im2col + GEMM (the BLAS backends)
  kWt8x8 = 2,         ///< NNPACK Winograd F(6x6, 3x3), 3x3 stride 1
  kFt8x8 = 3,         ///< NNPACK FFT on 8x8 tiles
  kFt16x16 = 4,       ///< NNPACK FFT on 16x16 tiles
  kImplicitGemm = 5,  ///< NNPACK implicit GEMM
  kDirect = 6,        ///< NNPACK direct 1x1
  kXnnpack = 7,       ///< XNNPACK's operator (NHWC)
  kReference = 8,     ///< plain loops (the reference backend)
  kCount,
};

/// "auto", "im2col", "wt8x8", ... (the names the TypeScript API uses).
const char* conv_algorithm_name(ConvAlgorithm a);

/// A conv layer prepared once for one backend and algorithm: weights packed
/// or transformed, library operators created. A model owns one per conv step
/// and runs it many times; the weights and bias it was made from must stay
/// alive and unchanged for its life (a model's constants do).
class ConvPlan {
 public:
  virtual ~ConvPlan() = default;
  /// Runs on `call`, which has the shape and weights the plan was made for
  /// (callers guarantee it; only x and y differ between runs).
  virtual void run(const Conv2dCall& call) const = 0;
  /// The backend that runs it ("nnpack") and its algorithm.
  virtual const std::string& backend() const = 0;
  virtual ConvAlgorithm algorithm() const = 0;
  /// Native bytes the plan holds beyond the model's weights (transformed kernels, packed weights, scratch).
  virtual size_t memory_bytes() const { return 0; }
  /// How it was chosen, for diagnostics (auto: "measured: ..." or "cached").
  virtual std::string note() const { return std::string(); }
  /// True once the plan should be made again (auto: the choice ran far
  /// slower in use than when it was measured); the owner re-plans.
  virtual bool stale() const { return false; }
  /// What auto measured this plan's layer at (us; the minimum of its clean
  /// runs), or 0 when it was not measured or only on busy cores.
  virtual double measured_us() const { return 0; }
};

/// Row-major C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, with leading
/// dimensions as CBLAS has them. Sizes are already checked by the caller.
struct SgemmArgs {
  bool trans_a = false;
  bool trans_b = false;
  int m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int lda = 0;
  const float* b = nullptr;
  int ldb = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int ldc = 0;
  /// On neonn's shared pool, not on threads of the library's own (OpenBLAS's): for GEMMs inside models whose other
  /// steps keep that pool busy (backends that run NHWC regions, and auto), where the pool's workers spin between
  /// XNNPACK's operators on the cores that OpenBLAS's threads would need.
  bool on_shared_pool = false;
};

/// Row-major y = alpha * op(A) * x + beta * y, A being [m,n] with leading
/// dimension lda; op(A) = A (y has m elements) or Aᵀ with `trans` (y has n).
struct SgemvArgs {
  bool trans = false;
  int m = 0, n = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int lda = 0;
  const float* x = nullptr;
  float beta = 0.0f;
  float* y = nullptr;
  /// As SgemmArgs::on_shared_pool.
  bool on_shared_pool = false;
};

/// What nn.backends() reports for one backend.
struct BackendInfo {
  std::string name;
  bool available = false;
  std::string reason;   ///< why it is unavailable (empty when available)
  std::string version;  ///< library version, e.g. "0.3.29"
  std::string config;   ///< library configuration string (openblas_get_config)
  std::string core;     ///< CPU core the library picked (openblas_get_corename)
  std::string fallback; ///< where ops it lacks go
  std::string library;  ///< the shared library it was loaded from (run-time loaded backends)
  int threads = 0;      ///< threads the backend uses per op
  uint64_t ops_run = 0; ///< ops this backend has executed (shows which one really ran)
  /// Convs run per algorithm (only algorithms that ran), e.g. {"wt8x8", 12}.
  std::vector<std::pair<std::string, uint64_t>> conv_runs;
};

class Backend {
 public:
  Backend(std::string name, std::string fallback)
      : name_(std::move(name)), fallback_(std::move(fallback)) {}
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  const std::string& name() const { return name_; }
  /// Name of the backend that runs what this one lacks; empty ends the chain.
  const std::string& fallback() const { return fallback_; }

  /// Probed once when registered: usable here, or why not.
  virtual const Status& status() const = 0;
  virtual BackendInfo info() const;
  /// Thread count for this backend's own parallelism (the registry owns the budget).
  virtual void set_threads(int /*n*/) {}
  virtual bool provides(Op op) const = 0;

  /// Called only when provides(Op::kGemm).
  virtual void sgemm(const SgemmArgs& args) const;
  /// Matrix-vector product for backends that provide gemm; the default is a
  /// one-column sgemm, a BLAS backend calls its sgemv (no packing of A).
  virtual void sgemv(const SgemvArgs& args) const;

  /// Algorithms this backend can run for a conv of this shape (kAuto excluded),
  /// best guess first. Empty when the backend provides no conv2d.
  virtual std::vector<ConvAlgorithm> conv_algorithms(const Conv2dCall& call) const;
  /// Prepares `call`'s layer for repeated runs with `algorithm` (kAuto: the
  /// backend's own choice). Throws a RangeError naming the algorithm when it
  /// cannot run this shape here. `call` is a real, checked call: planning may
  /// run it (auto measures) and the caller runs the plan on it right after,
  /// so y ends up right. The default makes a plan that calls conv2d().
  virtual std::unique_ptr<ConvPlan> plan_conv2d(const Conv2dCall& call, ConvAlgorithm algorithm) const;
  /// Whether this backend runs runs of steps as NHWC regions (plan_region).
  virtual bool runs_regions() const { return false; }
  /// Plans a run of a program's steps as one NHWC region (model/region.h),
  /// or null when a node is beyond what it runs. The default: null.
  virtual std::unique_ptr<RegionPlan> plan_region(const RegionGraph& graph) const;

  // One entry point per op family; each is called only when provides() says
  // so (the default implementations throw an internal error). The call
  // structs arrive checked: sizes agree with the buffers, nothing overflows.
  virtual void conv2d(const Conv2dCall& call) const;
  virtual void fully_connected(const FullyConnectedCall& call) const;
  virtual void pool2d(const Pool2dCall& call) const;
  virtual void unary(const UnaryCall& call) const;
  virtual void prelu(const PreluCall& call) const;
  virtual void softmax(const SoftmaxCall& call) const;
  virtual void batch_norm(const BatchNormCall& call) const;
  virtual void lrn(const LrnCall& call) const;
  virtual void binary(const BinaryCall& call) const;
  virtual void concat(const ConcatCall& call) const;
  virtual void transpose(const TransposeCall& call) const;
  virtual void pad(const PadCall& call) const;

  /// Counts one executed op; ops call this so diagnostics can show who ran what.
  void count_op() const { ops_run_.fetch_add(1, std::memory_order_relaxed); }
  /// Counts one conv computed with `a`: backends call it where the algorithm is known.
  void count_conv(ConvAlgorithm a) const {
    conv_runs_[static_cast<size_t>(a)].fetch_add(1, std::memory_order_relaxed);
  }

 private:
  mutable std::atomic<uint64_t> ops_run_{0};
  mutable std::atomic<uint64_t> conv_runs_[static_cast<size_t>(ConvAlgorithm::kCount)] = {};
  std::string name_;
  std::string fallback_;
};

/// Whether models run under `active` keep neonn's shared pool busy with XNNPACK's operators: backends that run NHWC
/// regions, and auto, which plans them. GEMMs inside such models ask for SgemmArgs::on_shared_pool.
inline bool shares_pool_with_xnnpack(const Backend& active) { return active.runs_regions() || active.name() == "auto"; }

}  // namespace neonn
