#include "nnpack_backend.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "../ops/conv.h"
#include "../ops/elementwise.h"
#include "../ops/pool.h"
#include "../dl_open.h"
#include "../parallel.h"
#include "../registry.h"
#include "nnpack_api.h"

namespace neonn {

std::string nnp::status_text(nnp::Status s) {
  switch (s) {
    case 0: return "success";
    case 2: return "invalid batch size";
    case 3: return "invalid channels";
    case 4: return "invalid input channels";
    case 5: return "invalid output channels";
    case 10: return "invalid input size";
    case 11: return "invalid input stride";
    case 12: return "invalid input padding";
    case 13: return "invalid kernel size or output subsampling";
    case 14: return "invalid pooling size or activation";
    case 15: return "invalid pooling stride or activation parameters";
    case 16: return "invalid algorithm";
    case 17: return "invalid transform strategy";
    case 20: return "unsupported input size";
    case 21: return "unsupported input stride";
    case 22: return "unsupported input padding";
    case 23: return "unsupported kernel size";
    case 24: return "unsupported pooling size";
    case 25: return "unsupported pooling stride";
    case 26: return "unsupported algorithm";
    case 27: return "unsupported transform strategy";
    case 28: return "unsupported activation";
    case 29: return "unsupported activation parameters";
    case 50: return "uninitialized";
    case 51: return "unsupported hardware";
    case 52: return "out of memory";
    case 53: return "insufficient buffer";
    case 54: return "misaligned buffer";
    default: return "unknown status";
  }
}

namespace {

// NNPACK's transforms use aligned vector loads: every buffer neonn hands it
// is 64-byte aligned.
constexpr size_t kAlign = 64;

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes) { reserve(bytes); }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_) {
    o.data_ = nullptr;
    o.bytes_ = 0;
  }

  /// Grows to at least `bytes` (contents not kept); throws on allocation failure.
  void* reserve(size_t bytes) {
    if (bytes <= bytes_ && data_ != nullptr) return data_;
    NEONN_THROW_RANGEERROR_IF(bytes > std::numeric_limits<size_t>::max() - kAlign,
                              "nnpack: buffer size overflows");
    const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
    void* p = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
    if (p == nullptr) {
      throw Error(ErrorKind::kInternal, "ERR_NEONN_OUT_OF_MEMORY",
                  "nnpack: cannot allocate " + std::to_string(rounded) + " bytes");
    }
    std::free(data_);
    data_ = p;
    bytes_ = rounded;
    return data_;
  }
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

[[noreturn]] void throw_nnp(const char* op, const char* what, nnp::Status s) {
  throw Error(ErrorKind::kInternal, "ERR_NEONN_NNPACK",
              std::string(op) + ": NNPACK " + what + " failed: " + nnp::status_text(s) + " (status " +
                  std::to_string(s) + ")");
}

nnp::ConvolutionAlgorithm to_nnp(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::kWt8x8: return nnp::kAlgorithmWt8x8;
    case ConvAlgorithm::kFt8x8: return nnp::kAlgorithmFt8x8;
    case ConvAlgorithm::kFt16x16: return nnp::kAlgorithmFt16x16;
    case ConvAlgorithm::kImplicitGemm: return nnp::kAlgorithmImplicitGemm;
    case ConvAlgorithm::kDirect: return nnp::kAlgorithmDirect;
    default: return nnp::kAlgorithmAuto;
  }
}

// The conv shapes NNPACK takes (as PyTorch's use_nnpack): no dilation,
// padding smaller than the kernel (NNPACK rejects the rest), and groups only
// when each is wide enough that one NNPACK call per group pays (depthwise
// convs go to the BLAS path's direct loop instead).
bool conv_shape_ok(const Conv2dCall& c) {
  if (c.dilation_h != 1 || c.dilation_w != 1) return false;
  if (std::max(c.pad_top, c.pad_bottom) >= c.k_h || std::max(c.pad_left, c.pad_right) >= c.k_w) return false;
  if (c.group > 1 && (c.c_in_per_group() < 16 || c.c_out_per_group() < 16)) return false;
  return true;
}

// NNPACK's algorithms for this shape, best guess first (NNPACK's own choice
// for its `auto`: direct for 1x1, Winograd for 3x3, FFT up to 16x16).
std::vector<ConvAlgorithm> nnp_algorithms(const Conv2dCall& c, bool strided_winograd) {
  if (!conv_shape_ok(c)) return {};
  const bool unit_stride = c.stride_h == 1 && c.stride_w == 1;
  const int64_t kmax = std::max(c.k_h, c.k_w);
  std::vector<ConvAlgorithm> out;
  if (unit_stride) {
    if (kmax == 1) {
      out.push_back(ConvAlgorithm::kDirect);
    } else if (c.k_h == 3 && c.k_w == 3) {
      out.push_back(ConvAlgorithm::kWt8x8);
      out.push_back(ConvAlgorithm::kFt8x8);
      out.push_back(ConvAlgorithm::kFt16x16);
    } else if (kmax <= 8) {
      // NNPACK's rule: 8x8 tiles unless they need over 4x the 16x16 tiles.
      auto tiles = [&](int64_t t) {
        return ((c.out_h + t - c.k_h) / (t - c.k_h + 1)) * ((c.out_w + t - c.k_w) / (t - c.k_w + 1));
      };
      if (tiles(8) <= 4 * tiles(16)) {
        out.push_back(ConvAlgorithm::kFt8x8);
        out.push_back(ConvAlgorithm::kFt16x16);
      } else {
        out.push_back(ConvAlgorithm::kFt16x16);
        out.push_back(ConvAlgorithm::kFt8x8);
      }
    } else if (kmax <= 16) {
      out.push_back(ConvAlgorithm::kFt16x16);
    }
  } else if (strided_winograd && c.stride_h == 2 && c.stride_w == 2 && c.k_h == 3 && c.k_w == 3) {
    // NNPACK has a strided Winograd output transform on some CPUs only (probed at load).
    out.push_back(ConvAlgorithm::kWt8x8);
  }
  out.push_back(ConvAlgorithm::kImplicitGemm);
  return out;
}

// NNPACK's ReLU multiplies negatives by the slope, so with slope 0 they come
// out as -0.0f; neonn's ReLU gives +0 (Object.is(y, 0) holds on every
// backend). Integer ops: -funsafe-math-optimizations may not fold them away.
void clear_negative_zeros(float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &y[i], sizeof bits);
    bits = bits == 0x80000000u ? 0u : bits;
    std::memcpy(&y[i], &bits, sizeof bits);
  }
}

bool is_nnp_algorithm(ConvAlgorithm a) { return to_nnp(a) != nnp::kAlgorithmAuto; }

// Workspace for NNPACK's input and output transforms, grown to the largest
// conv seen. thread_local: libuv may run two convs at once, each needs its own.
thread_local AlignedBuffer t_workspace;

class NnpackBackend;

/// One conv computed by NNPACK: per image and per group, one
/// nnp_convolution_inference call (NCHW batch 1 slices are contiguous).
struct NnpConv {
  const nnp::Api* api = nullptr;
  nnp::ConvolutionAlgorithm algorithm = nnp::kAlgorithmAuto;
  nnp::TransformStrategy strategy = nnp::kTransformCompute;
  size_t workspace_bytes = 0;  ///< 0: NNPACK needs none

  static nnp::Size input_size(const Conv2dCall& c) {
    return nnp::Size{static_cast<size_t>(c.in_w), static_cast<size_t>(c.in_h)};
  }
  static nnp::Padding padding(const Conv2dCall& c) {
    return nnp::Padding{static_cast<size_t>(c.pad_top), static_cast<size_t>(c.pad_right),
                        static_cast<size_t>(c.pad_bottom), static_cast<size_t>(c.pad_left)};
  }
  static nnp::Size kernel_size(const Conv2dCall& c) {
    return nnp::Size{static_cast<size_t>(c.k_w), static_cast<size_t>(c.k_h)};
  }
  static nnp::Size stride(const Conv2dCall& c) {
    return nnp::Size{static_cast<size_t>(c.stride_w), static_cast<size_t>(c.stride_h)};
  }
  static nnp::Activation activation(const Conv2dCall& c) {
    return c.activation == Activation::kRelu ? nnp::kActivationRelu : nnp::kActivationIdentity;
  }

  /// Bytes of workspace one call needs (asks NNPACK without computing).
  void query_workspace(const Conv2dCall& c, const float* kernel, const float* bias) {
    size_t bytes = 0;
    const nnp::Status s = api->convolution_inference(
        algorithm, strategy, static_cast<size_t>(c.c_in_per_group()), static_cast<size_t>(c.c_out_per_group()),
        input_size(c), padding(c), kernel_size(c), stride(c), nullptr, kernel, bias, nullptr, nullptr, &bytes,
        activation(c), nullptr, nullptr, nullptr);
    if (s == nnp::kUnsupportedAlgorithm || s == nnp::kUnsupportedTransformStrategy) {
      throw_range_error(std::string("conv2d: NNPACK cannot run this conv with algorithm \"") +
                        conv_algorithm_name_of(algorithm) + "\" here (" + nnp::status_text(s) + ")");
    }
    if (s != nnp::kSuccess) throw_nnp("conv2d", "workspace query", s);
    workspace_bytes = bytes;
  }

  /// `kernels(g)` is group g's kernel: raw weights, or the transformed ones under kTransformReuse.
  template <typename Kernels>
  void run(const Conv2dCall& c, const Kernels& kernels, const float* zero_bias, nnp::Threadpool pool) const {
    const int64_t cig = c.c_in_per_group(), cog = c.c_out_per_group();
    const int64_t in_plane = c.in_h * c.in_w, out_plane = c.out_h * c.out_w;
    void* ws = nullptr;
    size_t ws_bytes = workspace_bytes;
    if (workspace_bytes != 0) ws = t_workspace.reserve(workspace_bytes);
    for (int64_t n = 0; n < c.n; ++n) {
      for (int64_t g = 0; g < c.group; ++g) {
        const float* x = c.x.data + (n * c.c_in + g * cig) * in_plane;
        float* y = c.y.data + (n * c.c_out + g * cog) * out_plane;
        const float* bias = c.bias.data != nullptr ? c.bias.data + g * cog : zero_bias;
        size_t bytes = ws_bytes;
        const nnp::Status s = api->convolution_inference(
            algorithm, strategy, static_cast<size_t>(cig), static_cast<size_t>(cog), input_size(c), padding(c),
            kernel_size(c), stride(c), x, kernels(g), bias, y, ws, ws == nullptr ? nullptr : &bytes,
            activation(c), nullptr, pool, nullptr);
        if (s == nnp::kUnsupportedAlgorithm || s == nnp::kUnsupportedTransformStrategy) {
          throw_range_error(std::string("conv2d: NNPACK cannot run this conv with algorithm \"") +
                            conv_algorithm_name_of(algorithm) + "\" here (" + nnp::status_text(s) + ")");
        }
        if (s != nnp::kSuccess) throw_nnp("conv2d", "convolution", s);
      }
    }
    if (c.activation == Activation::kRelu) clear_negative_zeros(c.y.data, c.y.size);
  }

  static const char* conv_algorithm_name_of(nnp::ConvolutionAlgorithm a) {
    switch (a) {
      case nnp::kAlgorithmWt8x8: return "wt8x8";
      case nnp::kAlgorithmFt8x8: return "ft8x8";
      case nnp::kAlgorithmFt16x16: return "ft16x16";
      case nnp::kAlgorithmImplicitGemm: return "implicit_gemm";
      case nnp::kAlgorithmDirect: return "direct";
      default: return "auto";
    }
  }
};

// The process-wide NNPACK thread pool, shared by every op running at once;
// pthreadpool serializes parallel regions on one pool itself. Held by
// shared_ptr so that resizing it never frees a pool an op is still using.
using PoolPtr = std::shared_ptr<void>;

// The pool for the length of one op: holding the shared_ptr keeps a resize
// from destroying the pool under a running op. (Sending the workers to sleep
// after each op, with a PTHREADPOOL_FLAG_YIELD_WORKERS command, was tried:
// waking them again cost tens of ms per op on a VM, far more than their spin.)
class PoolLease {
 public:
  explicit PoolLease(PoolPtr pool) : pool_(std::move(pool)) {}
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  nnp::Threadpool get() const { return pool_.get(); }

 private:
  PoolPtr pool_;
};

class NnpackBackend final : public Backend {
 public:
  NnpackBackend() : Backend("nnpack", "openblas") { status_ = load(); }

  ~NnpackBackend() override {
    // The library stays loaded for the process's life (its thread pool's
    // workers may still be winding down); only neonn's pool is released.
    pool_.reset();
  }

  const Status& status() const override { return status_; }

  BackendInfo info() const override {
    BackendInfo i = Backend::info();
    i.library = path_;
    if (status_.ok) {
      i.config = "NNPACK from " + path_ +
                 ": conv2d (wt8x8, ft8x8, ft16x16, implicit_gemm, direct; kernel transforms precomputed per model "
                 "layer), fullyConnected (batch 1), maxPool2d, relu, leakyRelu, softmax; other ops and shapes via " +
                 fallback();
      std::lock_guard<std::mutex> lock(pool_mutex_);
      i.threads = threads_;
    }
    return i;
  }

  void set_threads(int n) override {
    if (!status_.ok) return;
    n = clamp_threads(n);
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (n == threads_ && (n <= 1 || pool_)) return;
    PoolPtr next;
    // One thread: NNPACK runs on the caller's thread (a NULL pool), no hand-off.
    if (n > 1) {
      void* p = api_.threadpool_create(static_cast<size_t>(n));
      if (p != nullptr) next = PoolPtr(p, api_.threadpool_destroy);
    }
    pool_ = std::move(next);
    threads_ = pool_ ? n : 1;
  }

  bool provides(Op op) const override {
    return op == Op::kConv2d || op == Op::kFullyConnected || op == Op::kPool2d || op == Op::kUnary ||
           op == Op::kSoftmax;
  }

  // --- conv2d ---------------------------------------------------------------

  std::vector<ConvAlgorithm> conv_algorithms(const Conv2dCall& call) const override {
    std::vector<ConvAlgorithm> out = nnp_algorithms(call, strided_winograd_);
    // im2col runs through the BLAS fallback: what a shape NNPACK cannot take
    // gets, and what a layer pinned to "im2col" gets on this backend too.
    out.push_back(ConvAlgorithm::kIm2col);
    return out;
  }

  void conv2d(const Conv2dCall& call) const override {
    const ConvAlgorithm algorithm = pick(call, call.algorithm);
    if (!is_nnp_algorithm(algorithm)) return fallback_conv2d(call);
    NnpConv conv = make_conv(algorithm, nnp::kTransformCompute);
    std::vector<float> zero_bias(call.bias.data == nullptr ? static_cast<size_t>(call.c_out_per_group()) : 0);
    const int64_t group_w = call.c_out_per_group() * call.c_in_per_group() * call.k_h * call.k_w;
    const PoolLease pool = current_pool();
    conv.workspace_bytes = 0;  // one-off call: NNPACK allocates and frees its own workspace
    conv.run(call, [&](int64_t g) { return call.w.data + g * group_w; }, zero_bias.data(), pool.get());
    count_conv(algorithm);
  }

  std::unique_ptr<ConvPlan> plan_conv2d(const Conv2dCall& call, ConvAlgorithm algorithm) const override;

  // --- the other ops: NNPACK where it has the shape, else the fallback ------

  void fully_connected(const FullyConnectedCall& c) const override {
    // NNPACK's inference entry point is batch 1 (a GEMV); batches are a GEMM.
    if (c.n != 1) return fallback_for(Op::kFullyConnected).fully_connected(c);
    const PoolLease pool = current_pool();
    const nnp::Status s = api_.fully_connected_inference(static_cast<size_t>(c.in_features),
                                                         static_cast<size_t>(c.out_features), c.x.data, c.w.data,
                                                         c.y.data, pool.get());
    if (s != nnp::kSuccess) throw_nnp("fullyConnected", "fully_connected_inference", s);
    if (c.bias.data != nullptr) {
      for (int64_t o = 0; o < c.out_features; ++o) c.y.data[o] += c.bias.data[o];
    }
  }

  void pool2d(const Pool2dCall& c) const override {
    if (!max_pool_ok(c)) return fallback_for(Op::kPool2d).pool2d(c);
    const PoolLease pool = current_pool();
    const nnp::Status s = api_.max_pooling_output(
        static_cast<size_t>(c.n), static_cast<size_t>(c.c),
        nnp::Size{static_cast<size_t>(c.in_w), static_cast<size_t>(c.in_h)},
        nnp::Padding{static_cast<size_t>(c.pad_top), static_cast<size_t>(c.pad_right),
                     static_cast<size_t>(c.pad_bottom), static_cast<size_t>(c.pad_left)},
        nnp::Size{static_cast<size_t>(c.k_w), static_cast<size_t>(c.k_h)},
        nnp::Size{static_cast<size_t>(c.stride_w), static_cast<size_t>(c.stride_h)}, c.x.data, c.y.data,
        pool.get());
    if (s != nnp::kSuccess) throw_nnp("maxPool2d", "max_pooling_output", s);
  }

  void unary(const UnaryCall& c) const override {
    const bool relu = c.kind == UnaryKind::kRelu;
    const bool leaky = c.kind == UnaryKind::kLeakyRelu && c.alpha >= 0.0f && c.alpha <= 1.0f;
    if (!(relu || leaky) || c.size == 0) return fallback_for(Op::kUnary).unary(c);
    const PoolLease pool = current_pool();
    const nnp::Status s = api_.relu_output(1, c.size, c.x, c.y, relu ? 0.0f : c.alpha, pool.get());
    if (s != nnp::kSuccess) throw_nnp(relu ? "relu" : "leakyRelu", "relu_output", s);
    if (relu) clear_negative_zeros(c.y, c.size);
  }

  void softmax(const SoftmaxCall& c) const override {
    // NNPACK's softmax is over the last axis of [batch, channels].
    if (c.log || c.inner != 1 || c.axis == 0 || c.outer == 0) return fallback_for(Op::kSoftmax).softmax(c);
    const PoolLease pool = current_pool();
    const nnp::Status s = api_.softmax_output(c.outer, c.axis, c.x, c.y, pool.get());
    if (s != nnp::kSuccess) throw_nnp("softmax", "softmax_output", s);
  }

  const nnp::Api& api() const { return api_; }
  PoolLease current_pool() const {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    return PoolLease(pool_);
  }

  /// The algorithm to run: the pin, else NNPACK's best guess for the shape (or im2col via the fallback).
  ConvAlgorithm pick(const Conv2dCall& call, ConvAlgorithm pinned) const {
    const std::vector<ConvAlgorithm> algos = conv_algorithms(call);
    if (pinned == ConvAlgorithm::kAuto) return algos.front();
    if (std::find(algos.begin(), algos.end(), pinned) == algos.end()) {
      Conv2dCall c = call;
      c.algorithm = pinned;
      check_conv_algorithm(*this, c);  // throws the RangeError listing what can run
    }
    return pinned;
  }

  NnpConv make_conv(ConvAlgorithm algorithm, nnp::TransformStrategy strategy) const {
    NnpConv conv;
    conv.api = &api_;
    conv.algorithm = to_nnp(algorithm);
    // Direct 1x1 convs have no kernel transform to precompute.
    conv.strategy = algorithm == ConvAlgorithm::kDirect ? nnp::kTransformCompute : strategy;
    return conv;
  }

  void fallback_conv2d(const Conv2dCall& call) const {
    Conv2dCall c = call;
    c.algorithm = ConvAlgorithm::kAuto;
    fallback_for(Op::kConv2d).conv2d(c);
  }

 private:
  // The backend that runs what NNPACK cannot (the fallback chain from
  // "openblas"), counted there too: diagnostics show who really ran it.
  const Backend& fallback_for(Op op) const {
    const Registry& reg = Registry::instance();
    const Backend* next = reg.find(fallback());
    if (next == nullptr) next = reg.find("reference");
    const Backend& b = reg.resolve(*next, op);
    b.count_op();
    return b;
  }

  // NNPACK pools with a ceil-mode output size and no dilation; neonn's call
  // must have the output size NNPACK computes, or the layouts would differ.
  static bool max_pool_ok(const Pool2dCall& c) {
    // Only NNPACK's vectorized 2x2 stride-2 kernel: its generic one is no
    // faster than neonn's loops. Unlike them it does not propagate NaN.
    if (c.kind != PoolKind::kMax || c.dilation_h != 1 || c.dilation_w != 1) return false;
    if (c.k_h != 2 || c.k_w != 2 || c.stride_h != 2 || c.stride_w != 2) return false;
    if (std::max(c.pad_top, c.pad_bottom) >= c.k_h || std::max(c.pad_left, c.pad_right) >= c.k_w) return false;
    auto out = [](int64_t in, int64_t pb, int64_t pe, int64_t k, int64_t s) {
      const int64_t span = std::max<int64_t>(pb + in + pe - k, 0);
      return (span + s - 1) / s + 1;
    };
    if (out(c.in_h, c.pad_top, c.pad_bottom, c.k_h, c.stride_h) != c.out_h) return false;
    if (out(c.in_w, c.pad_left, c.pad_right, c.k_w, c.stride_w) != c.out_w) return false;
    // The last window must start inside the input or its begin padding (else
    // NNPACK would pool padding only).
    if ((c.out_h - 1) * c.stride_h >= c.pad_top + c.in_h || (c.out_w - 1) * c.stride_w >= c.pad_left + c.in_w) {
      return false;
    }
    return true;
  }

  template <typename Fn>
  bool resolve(void* handle, const char* name, Fn* out, std::string* missing) {
    *out = reinterpret_cast<Fn>(dlsym(handle, name));
    if (*out == nullptr && missing->empty()) *missing = name;
    return *out != nullptr;
  }

  Status load() {
    const DlOpened lib = dlopen_first("NEONN_NNPACK_LIBRARY", {"libnnpack.so", "libnnpack.so.0"});
    void* handle = lib.handle;
    path_ = lib.name;
    if (handle == nullptr) {
      std::string errors;
      for (const auto& f : lib.failures) errors += (errors.empty() ? "" : "; ") + f.second;
      if (lib.from_env) return Status::Unavailable("NEONN_NNPACK_LIBRARY=" + path_ + " cannot be loaded: " + errors);
      return Status::Unavailable(
          "libnnpack.so not found on the library path (set NEONN_NNPACK_LIBRARY to an NNPACK shared library): " +
          errors);
    }
    std::string missing;
    resolve(handle, "nnp_initialize", &api_.initialize, &missing);
    resolve(handle, "nnp_convolution_inference", &api_.convolution_inference, &missing);
    resolve(handle, "nnp_fully_connected_inference", &api_.fully_connected_inference, &missing);
    resolve(handle, "nnp_max_pooling_output", &api_.max_pooling_output, &missing);
    resolve(handle, "nnp_softmax_output", &api_.softmax_output, &missing);
    resolve(handle, "nnp_relu_output", &api_.relu_output, &missing);
    // pthreadpool: NNPACK's own dependency, found through its handle.
    resolve(handle, "pthreadpool_create", &api_.threadpool_create, &missing);
    resolve(handle, "pthreadpool_destroy", &api_.threadpool_destroy, &missing);
    if (!missing.empty()) {
      dlclose(handle);
      return Status::Unavailable(path_ + " has no " + missing + ": not an NNPACK library, or one built without it");
    }
    const nnp::Status s = api_.initialize();
    if (s == nnp::kUnsupportedHardware) {
      // Kept loaded: NNPACK's initialization may have started threads or
      // registered state that dlclose would pull out from under it.
      return Status::Unavailable(
          "nnp_initialize() reports unsupported hardware: NNPACK needs AVX2 and an L3 cache on x86-64, NEON on ARM "
          "(library " + path_ + ")");
    }
    if (s != nnp::kSuccess) {
      return Status::Unavailable("nnp_initialize() failed: " + nnp::status_text(s) + " (status " +
                                 std::to_string(s) + "; library " + path_ + ")");
    }
    strided_winograd_ = probe_strided_winograd();
    return Status::Ok();
  }

  // Whether this NNPACK build has Winograd's stride-2 output transform: a
  // workspace query answers without computing anything.
  bool probe_strided_winograd() const {
    const float kernel[9] = {};
    size_t bytes = 0;
    return api_.convolution_inference(nnp::kAlgorithmWt8x8, nnp::kTransformCompute, 1, 1, nnp::Size{16, 16},
                                      nnp::Padding{1, 1, 1, 1}, nnp::Size{3, 3}, nnp::Size{2, 2}, nullptr, kernel,
                                      kernel, nullptr, nullptr, &bytes, nnp::kActivationIdentity, nullptr, nullptr,
                                      nullptr) == nnp::kSuccess;
  }

  Status status_;
  bool strided_winograd_ = false;
  std::string path_;
  nnp::Api api_;
  mutable std::mutex pool_mutex_;
  PoolPtr pool_;
  int threads_ = 1;
};

// A conv layer on NNPACK: the kernel transform computed once per group at
// plan time (nnp_convolution_transform_strategy_precompute) and reused by
// every run, which is where Winograd/FFT win at batch 1.
class NnpackConvPlan final : public ConvPlan {
 public:
  NnpackConvPlan(const NnpackBackend& backend, const Conv2dCall& call, ConvAlgorithm algorithm)
      : backend_(backend), algorithm_(algorithm) {
    conv_ = backend.make_conv(algorithm, nnp::kTransformPrecompute);
    if (call.bias.data == nullptr) zero_bias_.assign(static_cast<size_t>(call.c_out_per_group()), 0.0f);
    const int64_t group_w = call.c_out_per_group() * call.c_in_per_group() * call.k_h * call.k_w;
    const PoolLease pool = backend.current_pool();
    if (conv_.strategy == nnp::kTransformPrecompute) {
      // Ask for the transformed kernel's size, then fill one per group.
      const nnp::Api& api = backend.api();
      for (int64_t g = 0; g < call.group; ++g) {
        size_t bytes = 0;
        nnp::Status s = api.convolution_inference(
            conv_.algorithm, nnp::kTransformPrecompute, static_cast<size_t>(call.c_in_per_group()),
            static_cast<size_t>(call.c_out_per_group()), NnpConv::input_size(call), NnpConv::padding(call),
            NnpConv::kernel_size(call), NnpConv::stride(call), nullptr, call.w.data + g * group_w, nullptr, nullptr,
            nullptr, &bytes, NnpConv::activation(call), nullptr, pool.get(), nullptr);
        if (s == nnp::kSuccess) {
          kernels_.emplace_back(bytes);
          s = api.convolution_inference(
              conv_.algorithm, nnp::kTransformPrecompute, static_cast<size_t>(call.c_in_per_group()),
              static_cast<size_t>(call.c_out_per_group()), NnpConv::input_size(call), NnpConv::padding(call),
              NnpConv::kernel_size(call), NnpConv::stride(call), nullptr, call.w.data + g * group_w, nullptr,
              nullptr, kernels_.back().data(), &bytes, NnpConv::activation(call), nullptr, pool.get(), nullptr);
        }
        if (s == nnp::kUnsupportedAlgorithm || s == nnp::kUnsupportedTransformStrategy) {
          throw_range_error(std::string("conv2d: NNPACK cannot run this conv with algorithm \"") +
                            conv_algorithm_name(algorithm) + "\" here (" + nnp::status_text(s) + ")");
        }
        if (s != nnp::kSuccess) throw_nnp("conv2d", "kernel transform", s);
      }
      conv_.strategy = nnp::kTransformReuse;
    } else {
      weights_ = call.w.data;
      group_w_ = group_w;
    }
    conv_.query_workspace(call, kernel_for(0), call.bias.data != nullptr ? call.bias.data : zero_bias_.data());
  }

  void run(const Conv2dCall& call) const override {
    const PoolLease pool = backend_.current_pool();
    conv_.run(call, [&](int64_t g) { return kernel_for(g); },
              zero_bias_.empty() ? nullptr : zero_bias_.data(), pool.get());
    backend_.count_conv(algorithm_);
  }

  const std::string& backend() const override { return backend_.name(); }
  ConvAlgorithm algorithm() const override { return algorithm_; }
  size_t memory_bytes() const override {
    size_t n = zero_bias_.size() * sizeof(float);
    for (const AlignedBuffer& k : kernels_) n += k.bytes();
    return n;
  }
  std::string note() const override {
    if (kernels_.empty()) return "kernel used as is (no transform)";
    return "kernel transform precomputed (" + std::to_string(memory_bytes() / 1024) + " KiB), workspace " +
           std::to_string(conv_.workspace_bytes / 1024) + " KiB per thread";
  }

 private:
  const float* kernel_for(int64_t g) const {
    if (!kernels_.empty()) return static_cast<const float*>(kernels_[static_cast<size_t>(g)].data());
    return weights_ + g * group_w_;
  }

  const NnpackBackend& backend_;
  ConvAlgorithm algorithm_;
  NnpConv conv_;
  std::vector<AlignedBuffer> kernels_;
  std::vector<float> zero_bias_;
  const float* weights_ = nullptr;
  int64_t group_w_ = 0;
};

std::unique_ptr<ConvPlan> NnpackBackend::plan_conv2d(const Conv2dCall& call, ConvAlgorithm algorithm) const {
  const ConvAlgorithm chosen = pick(call, algorithm);
  if (!is_nnp_algorithm(chosen)) {
    // The BLAS path's own plan, reported as what it is.
    const Registry& reg = Registry::instance();
    const Backend* next = reg.find(fallback());
    return reg.resolve(next != nullptr ? *next : *this, Op::kConv2d).plan_conv2d(call, ConvAlgorithm::kAuto);
  }
  return std::make_unique<NnpackConvPlan>(*this, call, chosen);
}

}  // namespace

std::unique_ptr<Backend> make_nnpack_backend() { return std::make_unique<NnpackBackend>(); }

}  // namespace neonn
