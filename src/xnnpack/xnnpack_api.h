// The slice of XNNPACK's C API that the xnnpack backend calls, as function
// pointers in the one-step create/setup shape of the 2022 snapshot the backend
// was written for. xnnpack_api.cc implements them on the XNNPACK built into
// the addon (deps/xnnpack.cmake: 0.0~git20241108, whose API moved shapes into
// reshape calls and replaced add/clamp/NCW global pooling with generic
// operators). These declarations keep <xnnpack.h> out of the backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace neonn {
namespace xnn {

/// Result of every XNNPACK call (values as the library returns them).
enum Status : int {
  kSuccess = 0,
  kUninitialized = 1,
  kInvalidParameter = 2,
  kInvalidState = 3,
  kUnsupportedParameter = 4,
  kUnsupportedHardware = 5,
  kOutOfMemory = 6,
};

/// "invalid parameter", ... for messages; "status <n>" for a value it does not know.
std::string status_name(int status);

/// Bytes XNNPACK may read past the end of any input tensor it is given (it
/// never writes past an output). Inputs neonn passes must have this much
/// readable memory after their last element.
constexpr size_t kExtraBytes = 16;
constexpr size_t kExtraFloats = kExtraBytes / sizeof(float);

/// Most dimensions an nd operator (add) takes.
constexpr size_t kMaxTensorDims = 6;

struct Operator;               // opaque: xnn_operator
using OperatorHandle = Operator*;
struct Threadpool;             // opaque: pthreadpool
using ThreadpoolHandle = Threadpool*;
/// The pool a lease holds (src/parallel.h's PoolLease, the process-wide pthreadpool), or null.
template <typename Lease>
ThreadpoolHandle pool_of(const Lease& lease) {
  return static_cast<ThreadpoolHandle>(lease.get());
}

// Function types, one per entry point, in the snapshot's argument order.
using InitializeFn = int (*)(const void* allocator);
using RunOperatorFn = int (*)(OperatorHandle op, ThreadpoolHandle pool);
using DeleteOperatorFn = int (*)(OperatorHandle op);

using CreateConvolution2dNhwcF32Fn = int (*)(
    uint32_t pad_top, uint32_t pad_right, uint32_t pad_bottom, uint32_t pad_left,
    uint32_t kernel_h, uint32_t kernel_w, uint32_t stride_h, uint32_t stride_w,
    uint32_t dilation_h, uint32_t dilation_w, uint32_t groups, size_t group_in_channels,
    size_t group_out_channels, size_t in_pixel_stride, size_t out_pixel_stride,
    const float* kernel, const float* bias, float out_min, float out_max, uint32_t flags,
    OperatorHandle* op_out);
using SetupConvolution2dNhwcF32Fn = int (*)(OperatorHandle op, size_t batch, size_t in_h,
                                            size_t in_w, const float* x, float* y,
                                            ThreadpoolHandle pool);

using CreateFullyConnectedNcF32Fn = int (*)(size_t in_channels, size_t out_channels,
                                            size_t in_stride, size_t out_stride,
                                            const float* kernel, const float* bias, float out_min,
                                            float out_max, uint32_t flags, OperatorHandle* op_out);
using SetupFullyConnectedNcF32Fn = int (*)(OperatorHandle op, size_t batch, const float* x,
                                           float* y, ThreadpoolHandle pool);

using CreateMaxPooling2dNhwcF32Fn = int (*)(
    uint32_t pad_top, uint32_t pad_right, uint32_t pad_bottom, uint32_t pad_left,
    uint32_t pool_h, uint32_t pool_w, uint32_t stride_h, uint32_t stride_w,
    uint32_t dilation_h, uint32_t dilation_w, size_t channels, size_t in_pixel_stride,
    size_t out_pixel_stride, float out_min, float out_max, uint32_t flags,
    OperatorHandle* op_out);
using CreateAveragePooling2dNhwcF32Fn = int (*)(
    uint32_t pad_top, uint32_t pad_right, uint32_t pad_bottom, uint32_t pad_left,
    uint32_t pool_h, uint32_t pool_w, uint32_t stride_h, uint32_t stride_w, size_t channels,
    size_t in_pixel_stride, size_t out_pixel_stride, float out_min, float out_max,
    uint32_t flags, OperatorHandle* op_out);
/// Setup of both 2-D poolings (same arguments).
using SetupPooling2dNhwcF32Fn = int (*)(OperatorHandle op, size_t batch, size_t in_h, size_t in_w,
                                        const float* x, float* y, ThreadpoolHandle pool);

/// Global average pooling over NCW data: `channels` rows of `width` values per batch item.
using CreateGlobalAveragePoolingNcwF32Fn = int (*)(size_t channels, float out_min, float out_max,
                                                   uint32_t flags, OperatorHandle* op_out);
using SetupGlobalAveragePoolingNcwF32Fn = int (*)(OperatorHandle op, size_t batch, size_t width,
                                                  const float* x, float* y,
                                                  ThreadpoolHandle pool);

using CreateAddNdF32Fn = int (*)(float out_min, float out_max, uint32_t flags,
                                 OperatorHandle* op_out);
using SetupAddNdF32Fn = int (*)(OperatorHandle op, size_t a_rank, const size_t* a_shape,
                                size_t b_rank, const size_t* b_shape, const float* a,
                                const float* b, float* y, ThreadpoolHandle pool);

using CreateClampNcF32Fn = int (*)(size_t channels, size_t in_stride, size_t out_stride,
                                   float out_min, float out_max, uint32_t flags,
                                   OperatorHandle* op_out);
using SetupClampNcF32Fn = int (*)(OperatorHandle op, size_t batch, const float* x, float* y,
                                  ThreadpoolHandle pool);

// fp16 (NHWC regions with precision fp16): the same create calls, weights and
// bias still given in fp32 (XNNPACK converts them when it packs them), and
// setup calls on untyped buffers of IEEE half values.
using SetupConvolution2dNhwcAnyFn = int (*)(OperatorHandle op, size_t batch, size_t in_h, size_t in_w,
                                            const void* x, void* y, ThreadpoolHandle pool);
using SetupFullyConnectedNcAnyFn = int (*)(OperatorHandle op, size_t batch, const void* x, void* y,
                                           ThreadpoolHandle pool);
using SetupPooling2dNhwcAnyFn = int (*)(OperatorHandle op, size_t batch, size_t in_h, size_t in_w, const void* x,
                                        void* y, ThreadpoolHandle pool);
using SetupAddNdAnyFn = int (*)(OperatorHandle op, size_t a_rank, const size_t* a_shape, size_t b_rank,
                                const size_t* b_shape, const void* a, const void* b, void* y, ThreadpoolHandle pool);
using SetupClampNcAnyFn = int (*)(OperatorHandle op, size_t batch, const void* x, void* y, ThreadpoolHandle pool);
/// fp32 -> fp16 (`to_half`) or fp16 -> fp32, `channels` values per row.
using CreateConvertNcFn = int (*)(bool to_half, size_t channels, uint32_t flags, OperatorHandle* op_out);
using SetupConvertNcFn = int (*)(OperatorHandle op, size_t rows, const void* x, void* y, ThreadpoolHandle pool);

/// Elementwise operators of either precision: `fn` a UnaryFn / BinaryFn value.
enum class UnaryFn : int { kSigmoid = 0, kTanh = 1, kLeakyRelu = 2, kHardSwish = 3 };
enum class BinaryFn : int { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };
using CreateUnaryNcFn = int (*)(UnaryFn fn, bool half, float alpha, size_t channels, size_t in_stride, size_t out_stride,
                                uint32_t flags, OperatorHandle* op_out);
using CreateBinaryNdFn = int (*)(BinaryFn fn, bool half, uint32_t flags, OperatorHandle* op_out);

/// Batched matrix multiply with a constant B (Winograd convs): c[b] = a[b] · B[b] for b < batch, a [batch][m][k],
/// B [batch][k][n] (packed at create), c [batch][m][n], all dense. Reshaped once for m rows; setup gives a and c.
using CreateBatchMatmulConstF32Fn = int (*)(size_t batch, size_t k, size_t n, const float* b, OperatorHandle* op_out);
using ReshapeBatchMatmulF32Fn = int (*)(OperatorHandle op, size_t batch, size_t m, size_t k, size_t n, ThreadpoolHandle pool);
using SetupBatchMatmulF32Fn = int (*)(OperatorHandle op, const float* a, float* c);

/// Runs task(context, i) for i in [0, range) on the pool (serially when pool is null).
using ThreadpoolTask1d = void (*)(void* context, size_t i);
using ThreadpoolParallelize1dFn = void (*)(ThreadpoolHandle pool, ThreadpoolTask1d task,
                                           void* context, size_t range, uint32_t flags);

/// Every entry point neonn uses, resolved from one loaded library.
struct Api {
  InitializeFn initialize = nullptr;
  RunOperatorFn run_operator = nullptr;
  DeleteOperatorFn delete_operator = nullptr;
  CreateConvolution2dNhwcF32Fn create_convolution2d_nhwc_f32 = nullptr;
  SetupConvolution2dNhwcF32Fn setup_convolution2d_nhwc_f32 = nullptr;
  CreateFullyConnectedNcF32Fn create_fully_connected_nc_f32 = nullptr;
  SetupFullyConnectedNcF32Fn setup_fully_connected_nc_f32 = nullptr;
  CreateMaxPooling2dNhwcF32Fn create_max_pooling2d_nhwc_f32 = nullptr;
  SetupPooling2dNhwcF32Fn setup_max_pooling2d_nhwc_f32 = nullptr;
  CreateAveragePooling2dNhwcF32Fn create_average_pooling2d_nhwc_f32 = nullptr;
  SetupPooling2dNhwcF32Fn setup_average_pooling2d_nhwc_f32 = nullptr;
  CreateGlobalAveragePoolingNcwF32Fn create_global_average_pooling_ncw_f32 = nullptr;
  SetupGlobalAveragePoolingNcwF32Fn setup_global_average_pooling_ncw_f32 = nullptr;
  CreateAddNdF32Fn create_add_nd_f32 = nullptr;
  SetupAddNdF32Fn setup_add_nd_f32 = nullptr;
  CreateClampNcF32Fn create_clamp_nc_f32 = nullptr;
  SetupClampNcF32Fn setup_clamp_nc_f32 = nullptr;
  // fp16: weights given in fp32, activations in half.
  CreateConvolution2dNhwcF32Fn create_convolution2d_nhwc_f16 = nullptr;
  SetupConvolution2dNhwcAnyFn setup_convolution2d_nhwc_f16 = nullptr;
  CreateFullyConnectedNcF32Fn create_fully_connected_nc_f16 = nullptr;
  SetupFullyConnectedNcAnyFn setup_fully_connected_nc_f16 = nullptr;
  CreateMaxPooling2dNhwcF32Fn create_max_pooling2d_nhwc_f16 = nullptr;
  SetupPooling2dNhwcAnyFn setup_max_pooling2d_nhwc_f16 = nullptr;
  CreateAveragePooling2dNhwcF32Fn create_average_pooling2d_nhwc_f16 = nullptr;
  SetupPooling2dNhwcAnyFn setup_average_pooling2d_nhwc_f16 = nullptr;
  CreateAddNdF32Fn create_add_nd_f16 = nullptr;
  SetupAddNdAnyFn setup_add_nd_f16 = nullptr;
  CreateClampNcF32Fn create_clamp_nc_f16 = nullptr;
  SetupClampNcAnyFn setup_clamp_nc_f16 = nullptr;
  CreateConvertNcFn create_convert_nc = nullptr;
  SetupConvertNcFn setup_convert_nc = nullptr;
  // Either precision (NHWC regions).
  CreateUnaryNcFn create_unary_nc = nullptr;
  SetupClampNcAnyFn setup_unary_nc = nullptr;
  CreateBinaryNdFn create_binary_nd = nullptr;
  SetupAddNdAnyFn setup_binary_nd = nullptr;
  // Winograd convs (fp32).
  CreateBatchMatmulConstF32Fn create_batch_matmul_f32_const = nullptr;
  ReshapeBatchMatmulF32Fn reshape_batch_matmul_f32 = nullptr;
  SetupBatchMatmulF32Fn setup_batch_matmul_f32 = nullptr;
  // pthreadpool, built in with XNNPACK (the pool itself is src/parallel.h's, shared with neonn's loops).
  ThreadpoolParallelize1dFn threadpool_parallelize_1d = nullptr;
};

/// What loading found: the API (initialized) and where it came from, or why not.
struct Loaded {
  bool ok = false;
  std::string reason;   ///< why it cannot be used (when !ok)
  std::string library;  ///< where it comes from: "built in (XNNPACK 0.0~git20241108, ...)"
  Api api;
};

/// The built-in XNNPACK's API, initialized (xnn_initialize checks the CPU),
/// or why it cannot be used: a build without XNNPACK (NEONN_XNNPACK=OFF), or a
/// CPU XNNPACK does not support. Never throws.
Loaded load_xnnpack();

}  // namespace xnn
}  // namespace neonn
