// The xnnpack backend. Each op goes to an XNNPACK operator where XNNPACK
// computes exactly what neonn's reference defines, and to the fallback
// (openblas, then reference) where it does not; what decides is written at
// each op. Three rules hold throughout:
//
// - NaN. XNNPACK clamps every result to [output_min, output_max] with
//   min/max instructions, and on x86 those turn NaN into the bound (NaN
//   becomes -inf even with infinite bounds; measured). neonn keeps NaN. So
//   convs, fullyConnected and pooling check their outputs (or inputs) for
//   NaN and infinity on the pass that touches them anyway, and a call that
//   has one is recomputed by the fallback; fused ReLU is applied by neonn on
//   the output transpose, not by XNNPACK's clamp. Elementwise ops have no
//   such pass, so add/relu/clip use XNNPACK only where a probe at load shows
//   that its kernels keep NaN (ARM NEON's do; x86's do not).
// - XNN_EXTRA_BYTES. XNNPACK may read 16 bytes past any input it is given.
//   It reads copies with that slack (the NHWC scratch of convs and pooling,
//   copies of x for fullyConnected and globalAvgPool), or, for elementwise
//   ops on the caller's buffers, gets all but the last few elements.
// - Status. Every call's status is checked and mapped to a neonn::Error
//   naming the op and the XNNPACK function. A refusal (parameters or CPU it
//   does not support) sends the call to the fallback, or is a RangeError for
//   a conv pinned to xnnpack (auto skips such a candidate); never a crash.
#include "xnnpack_backend.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "../checked.h"
#include "../parallel.h"
#include "../ops/conv.h"
#include "../ops/elementwise.h"
#include "../ops/pool.h"
#include "../model/region.h"
#include "../registry.h"
#include "xnnpack_api.h"
#include "xnnpack_layout.h"
#include "xnnpack_nhwc.h"
#include "xnnpack_region.h"
#include "xnnpack_util.h"

namespace neonn {
namespace {

// Below these sizes an operator's creation and the thread handoff cost more
// than the loops they replace. Pooling: measured on x86-64 (2-core EPYC),
// XNNPACK with both transposes breaks even with the loops at ~1K input values
// and is 1.4-20x faster from 4K up. Elementwise: the loops are already
// memory-bound vector code, so only large tensors can gain (from threads);
// 16K is an estimate, since the path runs only where XNNPACK keeps NaN (ARM).
constexpr size_t kMinPoolElements = 1024;
constexpr size_t kMinElementwise = 16384;

class XnnpackBackend;

// One conv layer as an XNNPACK operator: weights repacked and handed to
// XNNPACK once (it packs them again into its own layout and keeps them), then
// each run is transpose in, setup + run, transpose out.
class XnnpackConvPlan final : public ConvPlan {
 public:
  XnnpackConvPlan(const XnnpackBackend& backend, const Conv2dCall& c);
  void run(const Conv2dCall& c) const override;
  const std::string& backend() const override;
  ConvAlgorithm algorithm() const override { return ConvAlgorithm::kXnnpack; }
  size_t memory_bytes() const override { return bytes_; }

 private:
  const XnnpackBackend& backend_;
  OperatorPtr op_;
  // XNNPACK keeps the last setup's pointers in the operator: one run at a time.
  mutable std::mutex mutex_;
  size_t bytes_ = 0;
};

class XnnpackBackend final : public Backend, public xnn::RegionHost {
 public:
  XnnpackBackend() : Backend("xnnpack", "openblas"), loaded_(xnn::load_xnnpack()) {
    status_ = loaded_.ok ? Status::Ok() : Status::Unavailable(loaded_.reason);
    if (loaded_.ok) {
      elementwise_ = elementwise_keeps_nan();
      fp16_ = xnn::fp16_supported(loaded_.api);
    }
  }

  const Status& status() const override { return status_; }

  BackendInfo info() const override {
    BackendInfo i = Backend::info();
    i.library = loaded_.library;
    // XNNPACK's snapshot and the generation of neonn's own kernels in its regions: auto's tuning cache keys carry
    // it, so choices measured against older kernels are measured again.
    i.version = std::string("0.0~git20241108+neonn.") + std::to_string(xnn::kRegionKernels);
    if (loaded_.ok) {
      // The 0.0~git snapshot has no version call: say what runs and which one.
      i.config = "XNNPACK (operators, NHWC) " + loaded_.library +
                 ": a model's runs of convs, pooling, add, relu/clip and a classifier as NHWC regions; single layers: "
                 "conv2d, maxPool2d, avgPool2d, globalAvgPool; fullyConnected where faster (measured per shape); " +
                 (elementwise_ ? std::string("add, relu, clip")
                               : std::string("add/relu/clip on the fallback (this CPU's XNNPACK kernels turn NaN into a bound)")) +
                 (fp16_ ? "; fp16: yes (regions of models loaded with precision 'fp16')"
                        : "; fp16: no (XNNPACK has no fp16 operators for this CPU; precision 'fp16' runs fp32)");
      i.threads = threads();
    }
    return i;
  }

  // The pool is the process-wide one (src/parallel.h), sized by the same
  // budget: the count is kept for info() and fullyConnected's choices.
  void set_threads(int n) override {
    std::lock_guard<std::mutex> lock(threads_mutex_);
    threads_ = clamp_threads(n);
  }

  bool provides(Op op) const override {
    switch (op) {
      case Op::kConv2d:
      case Op::kFullyConnected:
      case Op::kPool2d:
        return true;
      case Op::kUnary:
      case Op::kBinary:
        return elementwise_;
      default:
        return false;
    }
  }

  // --- conv2d ---

  std::vector<ConvAlgorithm> conv_algorithms(const Conv2dCall& c) const override {
    if (!conv_supported(c)) return {};
    return {ConvAlgorithm::kXnnpack};
  }

  std::unique_ptr<ConvPlan> plan_conv2d(const Conv2dCall& call, ConvAlgorithm algorithm) const override {
    Conv2dCall c = call;
    c.algorithm = algorithm;
    check_conv_algorithm(*this, c);
    if (conv_supported(call)) {
      try {
        return std::make_unique<XnnpackConvPlan>(*this, call);
      } catch (const Error& e) {
        // XNNPACK refused the shape: the fallback runs it, unless the caller pinned xnnpack.
        if (algorithm != ConvAlgorithm::kAuto || e.kind() != ErrorKind::kRange) throw;
      }
    }
    return fallback_for(Op::kConv2d).plan_conv2d(call, ConvAlgorithm::kAuto);
  }

  // A single call: the operator is made, run once and deleted.
  void conv2d(const Conv2dCall& c) const override {
    if (conv_supported(c)) {
      std::unique_ptr<XnnpackConvPlan> plan;
      try {
        plan = std::make_unique<XnnpackConvPlan>(*this, c);
      } catch (const Error& e) {
        if (c.algorithm != ConvAlgorithm::kAuto || e.kind() != ErrorKind::kRange) throw;
      }
      if (plan) return plan->run(c);
    }
    delegate_conv2d(c);
  }

  /// Recomputes `c` on the fallback: a shape XNNPACK does not run, or a
  /// result that holds NaN or infinity (see the top of this file).
  void delegate_conv2d(const Conv2dCall& c) const {
    Conv2dCall any = c;
    any.algorithm = ConvAlgorithm::kAuto;
    delegate(Op::kConv2d, &Backend::conv2d, any);
  }

  // --- NHWC regions (model/region.h) ---

  bool runs_regions() const override { return true; }
  std::unique_ptr<RegionPlan> plan_region(const RegionGraph& graph) const override;

  // --- fullyConnected ---

  void fully_connected(const FullyConnectedCall& c) const override;

  // --- pooling ---

  void pool2d(const Pool2dCall& c) const override {
    const bool done = c.kind == PoolKind::kGlobalAvg ? xnnpack_global_avg_pool(c) : xnnpack_pool(c);
    if (!done) delegate(Op::kPool2d, &Backend::pool2d, c);
  }

  // --- elementwise (only when provides() says so) ---

  void unary(const UnaryCall& c) const override {
    const bool clamp = c.kind == UnaryKind::kRelu || c.kind == UnaryKind::kClip;
    if (!clamp || !xnnpack_clamp(c)) delegate(Op::kUnary, &Backend::unary, c);
  }

  void binary(const BinaryCall& c) const override {
    if (c.kind != BinaryKind::kAdd || !xnnpack_add(c)) delegate(Op::kBinary, &Backend::binary, c);
  }

  // --- shared with the conv plan ---

  const xnn::Api& api() const override { return loaded_.api; }
  const Backend& counted() const override { return *this; }
  bool fp16() const override { return fp16_; }

  int threads() const {
    std::lock_guard<std::mutex> lock(threads_mutex_);
    return threads_;
  }

  /// images x [rows][cols] -> images x [cols][rows] on the thread pool, with
  /// ReLU when `relu`; false when any value read is NaN or infinite.
  bool transpose(const float* src, float* dst, size_t images, size_t rows, size_t cols, bool relu,
                 xnn::ThreadpoolHandle pool) const override {
    TransposeJob job{src, dst, rows, cols, (rows + xnn::kTransposeBlockRows - 1) / xnn::kTransposeBlockRows, relu};
    if (rows == 1 || cols == 1) job.blocks = 1;
    // 2-4 rows (an image's channels into NHWC): blocks of columns.
    job.by_columns = rows >= 2 && rows <= 4 && cols > 1;
    if (job.by_columns) job.blocks = (cols + xnn::kInterleaveColumns - 1) / xnn::kInterleaveColumns;
    // A small transpose is over before the pool's threads would be woken.
    constexpr size_t kParallelFloats = size_t{1} << 16;
    if (images * rows * cols < kParallelFloats) pool = nullptr;
    loaded_.api.threadpool_parallelize_1d(pool, &TransposeJob::task, &job, images * job.blocks, 0);
    return job.bad.load(std::memory_order_relaxed) == 0;
  }

 private:
  struct TransposeJob {
    const float* src;
    float* dst;
    size_t rows, cols, blocks;
    bool relu;
    std::atomic<uint32_t> bad{0};
    bool by_columns = false;

    static void task(void* context, size_t item) {
      TransposeJob& j = *static_cast<TransposeJob*>(context);
      const size_t image = item / j.blocks, block = item % j.blocks;
      if (j.by_columns) {
        const size_t offset = image * j.rows * j.cols, j0 = block * xnn::kInterleaveColumns;
        const size_t j1 = std::min(j.cols, j0 + xnn::kInterleaveColumns);
        const uint32_t bad = j.relu ? xnn::interleave_columns<true>(j.src + offset, j.dst + offset, j.rows, j.cols, j0, j1)
                                    : xnn::interleave_columns<false>(j.src + offset, j.dst + offset, j.rows, j.cols, j0, j1);
        if (bad != 0) j.bad.fetch_or(1, std::memory_order_relaxed);
        return;
      }
      const size_t i0 = j.blocks == 1 ? 0 : block * xnn::kTransposeBlockRows;
      const size_t i1 = j.blocks == 1 ? j.rows : std::min(j.rows, i0 + xnn::kTransposeBlockRows);
      const size_t offset = image * j.rows * j.cols;
      const uint32_t bad = j.relu ? xnn::transpose_rows<true>(j.src + offset, j.dst + offset, j.rows, j.cols, i0, i1)
                                  : xnn::transpose_rows<false>(j.src + offset, j.dst + offset, j.rows, j.cols, i0, i1);
      if (bad != 0) j.bad.fetch_or(1, std::memory_order_relaxed);
    }
  };

  // The backend that runs `op` for this one: openblas, or down its chain.
  const Backend& fallback_for(Op op) const {
    const Registry& reg = Registry::instance();
    const Backend* next = reg.find(fallback());
    if (next == nullptr) next = reg.find("reference");
    if (next == nullptr) {
      throw Error(ErrorKind::kInternal, "ERR_NEONN_INTERNAL", std::string(op_name(op)) + ": xnnpack has no fallback");
    }
    return reg.resolve(*next, op);
  }

  // Runs `c` on the fallback, counted there: it computed the result.
  template <typename Call>
  void delegate(Op op, void (Backend::*fn)(const Call&) const, const Call& c) const {
    const Backend& b = fallback_for(op);
    (b.*fn)(c);
    b.count_op();
  }

  static bool conv_supported(const Conv2dCall& c) {
    return fits_u32(c.k_h) && fits_u32(c.k_w) && fits_u32(c.stride_h) && fits_u32(c.stride_w) &&
           fits_u32(c.dilation_h) && fits_u32(c.dilation_w) && fits_u32(c.pad_top) &&
           fits_u32(c.pad_left) && fits_u32(c.pad_bottom) && fits_u32(c.pad_right) && fits_u32(c.group);
  }

  // Each runs `c` on XNNPACK, or returns false when XNNPACK cannot compute
  // it as neonn defines it (refused, not worth it, or a result that is not
  // finite); the caller then runs the fallback, which may overwrite y.
  bool xnnpack_fully_connected(const FullyConnectedCall& c) const;
  bool xnnpack_pool(const Pool2dCall& c) const;
  bool xnnpack_global_avg_pool(const Pool2dCall& c) const;
  bool xnnpack_clamp(const UnaryCall& c) const;
  bool xnnpack_add(const BinaryCall& c) const;
  bool elementwise_keeps_nan() const;

  xnn::Loaded loaded_;
  Status status_;
  bool elementwise_ = false;
  bool fp16_ = false;  // XNNPACK runs fp16 here (NHWC regions with precision fp16)
  mutable std::mutex threads_mutex_;
  int threads_ = 1;
  // fullyConnected: per shape and thread count, whether XNNPACK was faster.
  mutable std::mutex fc_mutex_;
  mutable std::map<std::string, bool> fc_choices_;
};

// --- conv plan ---

XnnpackConvPlan::XnnpackConvPlan(const XnnpackBackend& backend, const Conv2dCall& c)
    : backend_(backend), op_(backend.api()) {
  const size_t cig = static_cast<size_t>(c.c_in_per_group());
  const size_t cog = static_cast<size_t>(c.c_out_per_group());
  const size_t taps = static_cast<size_t>(c.k_h * c.k_w);  // w.size checked: no overflow
  const std::unique_ptr<float[]> w = nhwc_conv_weights(c);
  // No fused clamp: ReLU is applied on the output transpose (NaN, see the top).
  const xnn::Api& api = backend.api();
  check_status(api.create_convolution2d_nhwc_f32(
                   static_cast<uint32_t>(c.pad_top), static_cast<uint32_t>(c.pad_right),
                   static_cast<uint32_t>(c.pad_bottom), static_cast<uint32_t>(c.pad_left),
                   static_cast<uint32_t>(c.k_h), static_cast<uint32_t>(c.k_w),
                   static_cast<uint32_t>(c.stride_h), static_cast<uint32_t>(c.stride_w),
                   static_cast<uint32_t>(c.dilation_h), static_cast<uint32_t>(c.dilation_w),
                   static_cast<uint32_t>(c.group), cig, cog, static_cast<size_t>(c.c_in),
                   static_cast<size_t>(c.c_out), w.get(), c.bias.data, -kInf, kInf, 0, op_.out()),
               "conv2d", "xnn_create_convolution2d_nhwc_f32");
  // What the operator holds, estimated: its packed weights and bias (output
  // channels rounded up to its register tile, <= 16 wide), and the
  // indirection buffer its first setup builds for any conv but a plain 1x1
  // (one pointer per output pixel and tap). The NHWC copies of x and y live
  // only during a run, as im2col's bands do.
  const double packed = static_cast<double>(c.group) * static_cast<double>((cog + 15) / 16 * 16) *
                        static_cast<double>(taps * cig + 1) * sizeof(float);
  const bool pointwise = taps == 1 && c.stride_h == 1 && c.stride_w == 1 && c.pad_top == 0 &&
                         c.pad_left == 0 && c.pad_bottom == 0 && c.pad_right == 0;
  const double indirection =
      pointwise ? 0.0 : static_cast<double>(c.out_h) * static_cast<double>(c.out_w) * taps * sizeof(void*);
  bytes_ = static_cast<size_t>(std::min(packed + indirection, static_cast<double>(std::numeric_limits<size_t>::max())));
}

const std::string& XnnpackConvPlan::backend() const { return backend_.name(); }

void XnnpackConvPlan::run(const Conv2dCall& c) const {
  const size_t n = static_cast<size_t>(c.n);
  const size_t in_plane = static_cast<size_t>(c.in_h * c.in_w);
  const size_t out_plane = static_cast<size_t>(c.out_h * c.out_w);
  std::unique_ptr<float[]> x = scratch(c.x.size);
  std::unique_ptr<float[]> y = scratch(c.y.size);
  bool finite = false;
  {
    const PoolLease lease;  // released before the fallback's loops run
    const xnn::ThreadpoolHandle pool = xnn::pool_of(lease);
    backend_.transpose(c.x.data, x.get(), n, static_cast<size_t>(c.c_in), in_plane, false, pool);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const xnn::Api& api = backend_.api();
      check_status(api.setup_convolution2d_nhwc_f32(op_.get(), n, static_cast<size_t>(c.in_h),
                                                    static_cast<size_t>(c.in_w), x.get(), y.get(), pool),
                   "conv2d", "xnn_setup_convolution2d_nhwc_f32");
      check_status(api.run_operator(op_.get(), pool), "conv2d", "xnn_run_operator");
    }
    finite = backend_.transpose(y.get(), c.y.data, n, out_plane, static_cast<size_t>(c.c_out),
                                c.activation == Activation::kRelu, pool);
  }
  if (!finite) return backend_.delegate_conv2d(c);
  backend_.count_conv(ConvAlgorithm::kXnnpack);
}

std::unique_ptr<RegionPlan> XnnpackBackend::plan_region(const RegionGraph& graph) const {
  for (const RegionNode& n : graph.nodes) {
    if (n.kind == RegionNode::Kind::kConv && !conv_supported(n.conv)) return nullptr;
  }
  try {
    return xnn::make_region_plan(*this, graph);
  } catch (const Error& e) {
    // A node XNNPACK refuses: the steps run one by one.
    if (e.kind() != ErrorKind::kRange) throw;
    return nullptr;
  }
}

// --- fullyConnected ---

// A model plans its convs only, so an XNNPACK fullyConnected operator is
// made per call, and making it packs a copy of the weights: at batch 1, a
// product bound by reading the weights, that alone costs more than
// OpenBLAS's sgemv (15 ms vs 0.4 ms for 4096->1000 on a 2-core EPYC, and
// XNNPACK's GEMM is slower there too). Where XNNPACK's GEMM is much faster
// (32-bit ARM, whose OpenBLAS kernels are VFP, not NEON) large batches can
// repay the packing. So the first call of each shape runs both, timed, and
// later calls of that shape take the faster; the copy is refused outright
// when it would be large next to a 1 GB board's memory.
constexpr double kMaxFcPackedBytes = 64.0 * 1024 * 1024;
constexpr size_t kMaxFcChoices = 256;

double elapsed_us(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

void XnnpackBackend::fully_connected(const FullyConnectedCall& c) const {
  const double packed = static_cast<double>(c.out_features + 16) * static_cast<double>(c.in_features + 1) * sizeof(float);
  const std::string key = std::to_string(c.n) + "," + std::to_string(c.in_features) + "," +
                          std::to_string(c.out_features) + (c.bias.data != nullptr ? ",b" : "") + "/t" +
                          std::to_string(threads());
  int choice = 0;  // 0: fallback, 1: XNNPACK, -1: not measured yet
  if (packed <= kMaxFcPackedBytes) {
    std::lock_guard<std::mutex> lock(fc_mutex_);
    const auto it = fc_choices_.find(key);
    choice = it != fc_choices_.end() ? (it->second ? 1 : 0) : (fc_choices_.size() < kMaxFcChoices ? -1 : 0);
  }
  if (choice == 1 && xnnpack_fully_connected(c)) return;
  if (choice == -1) {
    // XNNPACK last, so that y holds its result when it wins (and is checked).
    const Backend& other = fallback_for(Op::kFullyConnected);
    const double other_us = elapsed_us([&] { other.fully_connected(c); });
    bool done = false;
    const double xnnpack_us = elapsed_us([&] { done = xnnpack_fully_connected(c); });
    if (done) {
      std::lock_guard<std::mutex> lock(fc_mutex_);
      fc_choices_.emplace(key, xnnpack_us < other_us);
      return;
    }
  }
  delegate(Op::kFullyConnected, &Backend::fully_connected, c);
}

bool XnnpackBackend::xnnpack_fully_connected(const FullyConnectedCall& c) const {
  const xnn::Api& api = loaded_.api;
  OperatorPtr op(api);
  // The weights and bias are read only by XNNPACK's packing, plain loops
  // that stay within [out][in] and [out]; x gets a copy with the read slack.
  if (!created(api.create_fully_connected_nc_f32(static_cast<size_t>(c.in_features), static_cast<size_t>(c.out_features),
                                                 static_cast<size_t>(c.in_features), static_cast<size_t>(c.out_features),
                                                 c.w.data, c.bias.data, -kInf, kInf, 0, op.out()),
               "fullyConnected", "xnn_create_fully_connected_nc_f32")) {
    return false;
  }
  std::unique_ptr<float[]> x = scratch(c.x.size);
  std::copy(c.x.data, c.x.data + c.x.size, x.get());
  const PoolLease lease;
  const xnn::ThreadpoolHandle p = xnn::pool_of(lease);
  check_status(api.setup_fully_connected_nc_f32(op.get(), static_cast<size_t>(c.n), x.get(), c.y.data, p),
               "fullyConnected", "xnn_setup_fully_connected_nc_f32");
  check_status(api.run_operator(op.get(), p), "fullyConnected", "xnn_run_operator");
  uint32_t bad = 0;
  for (size_t i = 0; i < c.y.size; ++i) bad |= xnn::non_finite(c.y.data[i]);
  return bad == 0;
}

// --- pooling ---

// Max and average pooling as XNNPACK defines them, checked against neonn's:
// padded cells never win a max (XNNPACK clamps taps to the edge) and are not
// counted in an average (XNNPACK divides by the input cells in the window,
// which is neonn's count_include_pad=false, and also =true when there is no
// padding). Not in XNNPACK: ceil mode, emulated by extra end padding (the
// cells it adds are never counted in neonn either); dilated averages; 1x1
// windows (it refuses them); and, for a dilated max, windows made only of
// padding (neonn says -inf, XNNPACK reads something else), so dilation is
// taken only without padding and ceil mode.
bool XnnpackBackend::xnnpack_pool(const Pool2dCall& c) const {
  const bool is_max = c.kind == PoolKind::kMax;
  const bool padded = c.pad_top != 0 || c.pad_left != 0 || c.pad_bottom != 0 || c.pad_right != 0;
  const bool dilated = c.dilation_h != 1 || c.dilation_w != 1;
  if (c.x.size < kMinPoolElements || c.k_h * c.k_w == 1) return false;
  if (is_max ? dilated && (padded || c.ceil_mode) : dilated || (c.count_include_pad && padded)) return false;
  const int64_t extent_h = c.dilation_h * (c.k_h - 1) + 1, extent_w = c.dilation_w * (c.k_w - 1) + 1;
  const int64_t extra_h = std::max<int64_t>(0, (c.out_h - 1) * c.stride_h + extent_h - (c.in_h + c.pad_top + c.pad_bottom));
  const int64_t extra_w = std::max<int64_t>(0, (c.out_w - 1) * c.stride_w + extent_w - (c.in_w + c.pad_left + c.pad_right));
  const int64_t pad_bottom = c.pad_bottom + extra_h, pad_right = c.pad_right + extra_w;
  // XNNPACK's output size (floor) must then be neonn's.
  if ((c.in_h + c.pad_top + pad_bottom - extent_h) / c.stride_h + 1 != c.out_h ||
      (c.in_w + c.pad_left + pad_right - extent_w) / c.stride_w + 1 != c.out_w) {
    return false;
  }
  for (int64_t v : {c.pad_top, c.pad_left, pad_bottom, pad_right, c.k_h, c.k_w, c.stride_h, c.stride_w,
                    c.dilation_h, c.dilation_w}) {
    if (!fits_u32(v)) return false;
  }
  const char* op = is_max ? "maxPool2d" : "avgPool2d";
  const xnn::Api& api = loaded_.api;
  const size_t channels = static_cast<size_t>(c.c);
  OperatorPtr pool_op(api);
  int status;
  if (is_max) {
    status = api.create_max_pooling2d_nhwc_f32(
                     static_cast<uint32_t>(c.pad_top), static_cast<uint32_t>(pad_right),
                     static_cast<uint32_t>(pad_bottom), static_cast<uint32_t>(c.pad_left),
                     static_cast<uint32_t>(c.k_h), static_cast<uint32_t>(c.k_w),
                     static_cast<uint32_t>(c.stride_h), static_cast<uint32_t>(c.stride_w),
                     static_cast<uint32_t>(c.dilation_h), static_cast<uint32_t>(c.dilation_w), channels,
                     channels, channels, -kInf, kInf, 0, pool_op.out());
  } else {
    status = api.create_average_pooling2d_nhwc_f32(
                     static_cast<uint32_t>(c.pad_top), static_cast<uint32_t>(pad_right),
                     static_cast<uint32_t>(pad_bottom), static_cast<uint32_t>(c.pad_left),
                     static_cast<uint32_t>(c.k_h), static_cast<uint32_t>(c.k_w),
                     static_cast<uint32_t>(c.stride_h), static_cast<uint32_t>(c.stride_w), channels, channels,
                     channels, -kInf, kInf, 0, pool_op.out());
  }
  if (!created(status, op, is_max ? "xnn_create_max_pooling2d_nhwc_f32" : "xnn_create_average_pooling2d_nhwc_f32")) {
    return false;
  }
  const size_t n = static_cast<size_t>(c.n);
  const size_t in_plane = static_cast<size_t>(c.in_h * c.in_w), out_plane = static_cast<size_t>(c.out_h * c.out_w);
  std::unique_ptr<float[]> x = scratch(c.x.size);
  std::unique_ptr<float[]> y = scratch(c.y.size);
  const PoolLease lease;
  const xnn::ThreadpoolHandle p = xnn::pool_of(lease);
  // XNNPACK's max does not keep NaN: any non-finite input goes to the loops.
  if (!transpose(c.x.data, x.get(), n, channels, in_plane, false, p)) return false;
  const xnn::SetupPooling2dNhwcF32Fn setup = is_max ? api.setup_max_pooling2d_nhwc_f32 : api.setup_average_pooling2d_nhwc_f32;
  check_status(setup(pool_op.get(), n, static_cast<size_t>(c.in_h), static_cast<size_t>(c.in_w), x.get(), y.get(), p),
               op, is_max ? "xnn_setup_max_pooling2d_nhwc_f32" : "xnn_setup_average_pooling2d_nhwc_f32");
  check_status(api.run_operator(pool_op.get(), p), op, "xnn_run_operator");
  // An average of finite values can still overflow float (the loops sum in double).
  return transpose(y.get(), c.y.data, n, out_plane, channels, false, p);
}

// NCHW is already what XNNPACK's NCW global average pooling reads: planes
// rows of H*W values. It may read 16 bytes past the last plane, so it reads a
// copy with that slack (copy and XNNPACK together: a third to a half of the
// loops' time for [1,1000,13,13] and [1,2048,7,7], measured). Leaving the
// last plane to the loops instead would average it in double and the others
// in float: a model with identical channels (constant weights) then gets one
// logit that differs from the rest, and a softmax that amplifies it.
bool XnnpackBackend::xnnpack_global_avg_pool(const Pool2dCall& c) const {
  if (c.x.size < kMinPoolElements) return false;
  const size_t plane = static_cast<size_t>(c.in_h * c.in_w);
  const size_t planes = static_cast<size_t>(c.n * c.c);
  const xnn::Api& api = loaded_.api;
  OperatorPtr op(api);
  // A library built without NCW kernels for this CPU refuses: the loops run it.
  if (!created(api.create_global_average_pooling_ncw_f32(planes, -kInf, kInf, 0, op.out()), "globalAvgPool",
               "xnn_create_global_average_pooling_ncw_f32")) {
    return false;
  }
  std::unique_ptr<float[]> x = scratch(c.x.size);
  std::copy(c.x.data, c.x.data + c.x.size, x.get());
  const PoolLease lease;
  const xnn::ThreadpoolHandle p = xnn::pool_of(lease);
  check_status(api.setup_global_average_pooling_ncw_f32(op.get(), 1, plane, x.get(), c.y.data, p),
               "globalAvgPool", "xnn_setup_global_average_pooling_ncw_f32");
  check_status(api.run_operator(op.get(), p), "globalAvgPool", "xnn_run_operator");
  uint32_t bad = 0;
  for (size_t i = 0; i < planes; ++i) bad |= xnn::non_finite(c.y.data[i]);
  return bad == 0;
}

// --- elementwise ---

// XNNPACK gets all but the last kExtraFloats elements, so that its reads past
// the end stay inside the caller's buffer; neonn computes those few itself.

bool XnnpackBackend::xnnpack_clamp(const UnaryCall& c) const {
  if (c.size < kMinElementwise) return false;
  const float lo = c.kind == UnaryKind::kRelu ? 0.0f : c.min;
  const float hi = c.kind == UnaryKind::kRelu ? kInf : c.max;
  const xnn::Api& api = loaded_.api;
  OperatorPtr op(api);
  const char* name = c.kind == UnaryKind::kRelu ? "relu" : "clip";
  // Refused e.g. for min == max.
  if (!created(api.create_clamp_nc_f32(1, 1, 1, lo, hi, 0, op.out()), name, "xnn_create_clamp_nc_f32")) return false;
  const size_t head = c.size - xnn::kExtraFloats;
  const PoolLease lease;
  const xnn::ThreadpoolHandle p = xnn::pool_of(lease);
  check_status(api.setup_clamp_nc_f32(op.get(), head, c.x, c.y, p), name, "xnn_setup_clamp_nc_f32");
  check_status(api.run_operator(op.get(), p), name, "xnn_run_operator");
  // The tail: the reference's comparisons (NaN stays NaN).
  for (size_t i = head; i < c.size; ++i) {
    const float v = c.x[i];
    c.y[i] = v < lo ? lo : (v > hi ? hi : v);
  }
  return true;
}

// Same-shape operands, or one a scalar: the cases that collapse to one flat
// run, which is what a residual add is. Other broadcasts read a broadcast
// operand's rows again and again, each read possibly past its end.
bool XnnpackBackend::xnnpack_add(const BinaryCall& c) const {
  const Broadcast& bc = c.bc;
  if (bc.size < kMinElementwise || bc.rank != 1) return false;
  const int64_t sa = bc.a_strides[0], sb = bc.b_strides[0];
  if (!(sa == 1 || sb == 1)) return false;
  const xnn::Api& api = loaded_.api;
  OperatorPtr op(api);
  if (!created(api.create_add_nd_f32(-kInf, kInf, 0, op.out()), "add", "xnn_create_add_nd_f32")) return false;
  const size_t head = bc.size - xnn::kExtraFloats;
  const size_t full[1] = {head}, one[1] = {1};
  const PoolLease lease;
  const xnn::ThreadpoolHandle p = xnn::pool_of(lease);
  check_status(api.setup_add_nd_f32(op.get(), 1, sa == 1 ? full : one, 1, sb == 1 ? full : one, c.a, c.b, c.y, p),
               "add", "xnn_setup_add_nd_f32");
  check_status(api.run_operator(op.get(), p), "add", "xnn_run_operator");
  for (size_t i = head; i < bc.size; ++i) c.y[i] = c.a[sa == 1 ? i : 0] + c.b[sb == 1 ? i : 0];
  return true;
}

// Whether XNNPACK's clamp and add kernels on this CPU keep NaN (of either
// sign) in the vector body and in the tail, as neonn's ops must.
bool XnnpackBackend::elementwise_keeps_nan() const {
  constexpr size_t kN = 37;  // a vector body and a ragged tail on any SIMD width
  std::vector<float> x(kN + xnn::kExtraFloats, 0.5f), y(kN + xnn::kExtraFloats, 0.0f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const size_t at[] = {0, 5, 17, kN - 1};
  for (size_t i : at) x[i] = (i % 2 == 0) ? nan : -nan;
  const xnn::Api& api = loaded_.api;
  auto all_nan = [&] {
    for (size_t i : at) {
      if (!std::isnan(y[i])) return false;
    }
    return true;
  };
  const float clamps[][2] = {{0.0f, kInf}, {-1.0f, 1.0f}, {-kInf, kInf}};
  for (const auto& b : clamps) {
    OperatorPtr op(api);
    if (api.create_clamp_nc_f32(1, 1, 1, b[0], b[1], 0, op.out()) != xnn::kSuccess ||
        api.setup_clamp_nc_f32(op.get(), kN, x.data(), y.data(), nullptr) != xnn::kSuccess ||
        api.run_operator(op.get(), nullptr) != xnn::kSuccess || !all_nan()) {
      return false;
    }
  }
  OperatorPtr add(api);
  const size_t shape[1] = {kN};
  return api.create_add_nd_f32(-kInf, kInf, 0, add.out()) == xnn::kSuccess &&
         api.setup_add_nd_f32(add.get(), 1, shape, 1, shape, x.data(), x.data(), y.data(), nullptr) == xnn::kSuccess &&
         api.run_operator(add.get(), nullptr) == xnn::kSuccess && all_nan();
}

}  // namespace

std::unique_ptr<Backend> make_xnnpack_backend() { return std::make_unique<XnnpackBackend>(); }

}  // namespace neonn
