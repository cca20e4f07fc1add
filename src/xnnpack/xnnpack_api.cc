// XNNPACK, built into the addon (deps/xnnpack.cmake): XNNPACK 0.0~git20241108
// with pthreadpool and neonn's cpuinfo, linked statically, its symbols local.
//
// The backend (xnnpack_backend.cc) calls the operator API through xnn::Api,
// whose function types are the one-step create/setup calls of the 2022
// snapshot it was written for. This file implements them on the 2024 API:
// create calls take (null) code and weights caches; shapes, strides and
// channel counts moved from create and setup into reshape calls, which may ask
// for a workspace that must stay alive until the operator runs; add, clamp and
// NCW global average pooling became the generic binary, unary and reduce
// operators. What an adapter needs between its create and setup calls (channel
// counts, the workspace) lives in a side table keyed by the operator, freed by
// delete_operator.
#include "xnnpack_api.h"

#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>

#if NEONN_HAVE_XNNPACK
#include <pthreadpool.h>
#include <xnnpack.h>
#endif

namespace neonn {
namespace xnn {

std::string status_name(int status) {
  switch (status) {
    case kSuccess: return "success";
    case kUninitialized: return "uninitialized";
    case kInvalidParameter: return "invalid parameter";
    case kInvalidState: return "invalid state";
    case kUnsupportedParameter: return "unsupported parameter";
    case kUnsupportedHardware: return "unsupported hardware";
    case kOutOfMemory: return "out of memory";
  }
  return "status " + std::to_string(status);
}

#if NEONN_HAVE_XNNPACK

static_assert(kExtraBytes == XNN_EXTRA_BYTES, "XNNPACK's read slack changed: update kExtraBytes");
static_assert(static_cast<int>(kSuccess) == static_cast<int>(xnn_status_success) &&
                  static_cast<int>(kInvalidParameter) == static_cast<int>(xnn_status_invalid_parameter) &&
                  static_cast<int>(kUnsupportedParameter) == static_cast<int>(xnn_status_unsupported_parameter) &&
                  static_cast<int>(kUnsupportedHardware) == static_cast<int>(xnn_status_unsupported_hardware) &&
                  static_cast<int>(kOutOfMemory) == static_cast<int>(xnn_status_out_of_memory),
              "xnn_status values changed");

namespace {

xnn_operator_t to_op(OperatorHandle op) { return reinterpret_cast<xnn_operator_t>(op); }
pthreadpool_t to_pool(ThreadpoolHandle p) { return reinterpret_cast<pthreadpool_t>(p); }

// What an operator's adapters keep between create, setup and delete.
struct OpState {
  size_t channels = 0, in_stride = 0, out_stride = 0;  // pooling: create's arguments
  size_t width_items = 0;                               // global average pooling: planes
  void* workspace = nullptr;
  size_t workspace_size = 0;
  ~OpState() { std::free(workspace); }
};

std::mutex g_states_mutex;
std::unordered_map<xnn_operator_t, std::unique_ptr<OpState>>& states() {
  static auto* m = new std::unordered_map<xnn_operator_t, std::unique_ptr<OpState>>();
  return *m;
}

// The state of `op`, created on first use. The pointer stays valid until
// the operator is deleted (each operator is used by one caller at a time).
OpState* state(xnn_operator_t op) {
  std::lock_guard<std::mutex> lock(g_states_mutex);
  std::unique_ptr<OpState>& s = states()[op];
  if (!s) s.reset(new OpState());
  return s.get();
}

// A workspace of at least `size` bytes aligned to `alignment`, kept with the
// operator (reused by later runs of the same shape).
int ensure_workspace(OpState* s, size_t size, size_t alignment, void** out) {
  *out = nullptr;
  if (size == 0) return kSuccess;
  if (s->workspace_size < size) {
    std::free(s->workspace);
    s->workspace = nullptr;
    s->workspace_size = 0;
    const size_t align = alignment < sizeof(void*) ? sizeof(void*) : alignment;
    if (posix_memalign(&s->workspace, align, size) != 0) return kOutOfMemory;
    s->workspace_size = size;
  }
  *out = s->workspace;
  return kSuccess;
}

int initialize(const void*) { return xnn_initialize(nullptr); }
int run_operator(OperatorHandle op, ThreadpoolHandle pool) { return xnn_run_operator(to_op(op), to_pool(pool)); }
int delete_operator(OperatorHandle op) {
  {
    std::lock_guard<std::mutex> lock(g_states_mutex);
    states().erase(to_op(op));
  }
  return xnn_delete_operator(to_op(op));
}

int create_convolution2d(uint32_t pt, uint32_t pr, uint32_t pb, uint32_t pl, uint32_t kh, uint32_t kw, uint32_t sh,
                         uint32_t sw, uint32_t dh, uint32_t dw, uint32_t groups, size_t gic, size_t goc,
                         size_t in_stride, size_t out_stride, const float* kernel, const float* bias, float lo,
                         float hi, uint32_t flags, OperatorHandle* out) {
  return xnn_create_convolution2d_nhwc_f32(pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, groups, gic, goc, in_stride,
                                           out_stride, kernel, bias, lo, hi, flags, nullptr, nullptr,
                                           reinterpret_cast<xnn_operator_t*>(out));
}
int setup_convolution2d(OperatorHandle h, size_t batch, size_t in_h, size_t in_w, const float* x, float* y,
                        ThreadpoolHandle pool) {
  xnn_operator_t op = to_op(h);
  size_t ws = 0, align = 0;
  int st = xnn_reshape_convolution2d_nhwc_f32(op, batch, in_h, in_w, &ws, &align, nullptr, nullptr, to_pool(pool));
  if (st != kSuccess) return st;
  void* workspace = nullptr;
  st = ensure_workspace(state(op), ws, align, &workspace);
  if (st != kSuccess) return st;
  return xnn_setup_convolution2d_nhwc_f32(op, workspace, x, y);
}

int create_fully_connected(size_t in_ch, size_t out_ch, size_t in_stride, size_t out_stride, const float* kernel,
                           const float* bias, float lo, float hi, uint32_t flags, OperatorHandle* out) {
  return xnn_create_fully_connected_nc_f32(in_ch, out_ch, in_stride, out_stride, kernel, bias, lo, hi, flags, nullptr,
                                           nullptr, reinterpret_cast<xnn_operator_t*>(out));
}
int setup_fully_connected(OperatorHandle h, size_t batch, const float* x, float* y, ThreadpoolHandle pool) {
  const int st = xnn_reshape_fully_connected_nc_f32(to_op(h), batch, to_pool(pool));
  if (st != kSuccess) return st;
  return xnn_setup_fully_connected_nc_f32(to_op(h), x, y);
}

// Pooling: channel count and strides are reshape arguments now.
int remember_pooling(int st, OperatorHandle* out, size_t channels, size_t in_stride, size_t out_stride) {
  if (st != kSuccess) return st;
  OpState* s = state(to_op(*out));
  s->channels = channels;
  s->in_stride = in_stride;
  s->out_stride = out_stride;
  return st;
}
int create_max_pooling2d(uint32_t pt, uint32_t pr, uint32_t pb, uint32_t pl, uint32_t ph, uint32_t pw, uint32_t sh,
                         uint32_t sw, uint32_t dh, uint32_t dw, size_t channels, size_t in_stride, size_t out_stride,
                         float lo, float hi, uint32_t flags, OperatorHandle* out) {
  return remember_pooling(xnn_create_max_pooling2d_nhwc_f32(pt, pr, pb, pl, ph, pw, sh, sw, dh, dw, lo, hi, flags,
                                                            reinterpret_cast<xnn_operator_t*>(out)),
                          out, channels, in_stride, out_stride);
}
int setup_max_pooling2d(OperatorHandle h, size_t batch, size_t in_h, size_t in_w, const float* x, float* y,
                        ThreadpoolHandle pool) {
  xnn_operator_t op = to_op(h);
  const OpState* s = state(op);
  const int st = xnn_reshape_max_pooling2d_nhwc_f32(op, batch, in_h, in_w, s->channels, s->in_stride, s->out_stride,
                                                    nullptr, nullptr, to_pool(pool));
  if (st != kSuccess) return st;
  return xnn_setup_max_pooling2d_nhwc_f32(op, x, y);
}
int create_average_pooling2d(uint32_t pt, uint32_t pr, uint32_t pb, uint32_t pl, uint32_t ph, uint32_t pw,
                             uint32_t sh, uint32_t sw, size_t channels, size_t in_stride, size_t out_stride, float lo,
                             float hi, uint32_t flags, OperatorHandle* out) {
  return remember_pooling(xnn_create_average_pooling2d_nhwc_f32(pt, pr, pb, pl, ph, pw, sh, sw, lo, hi, flags,
                                                                reinterpret_cast<xnn_operator_t*>(out)),
                          out, channels, in_stride, out_stride);
}
int setup_average_pooling2d(OperatorHandle h, size_t batch, size_t in_h, size_t in_w, const float* x, float* y,
                            ThreadpoolHandle pool) {
  xnn_operator_t op = to_op(h);
  OpState* s = state(op);
  size_t ws = 0, align = 0;
  int st = xnn_reshape_average_pooling2d_nhwc_f32(op, batch, in_h, in_w, s->channels, s->in_stride, s->out_stride,
                                                  &ws, &align, nullptr, nullptr, to_pool(pool));
  if (st != kSuccess) return st;
  void* workspace = nullptr;
  st = ensure_workspace(s, ws, align, &workspace);
  if (st != kSuccess) return st;
  return xnn_setup_average_pooling2d_nhwc_f32(op, workspace, x, y);
}

// Global average pooling over NCW rows: a mean over the last axis of
// [batch * channels, width]. The output range was always (-inf, inf) here.
int create_global_average_pooling_ncw(size_t channels, float, float, uint32_t, OperatorHandle* out) {
  const int st = xnn_create_reduce_nd(xnn_reduce_mean, xnn_datatype_fp32, nullptr, nullptr, 0,
                                      reinterpret_cast<xnn_operator_t*>(out));
  if (st == kSuccess) state(to_op(*out))->width_items = channels;
  return st;
}
int setup_global_average_pooling_ncw(OperatorHandle h, size_t batch, size_t width, const float* x, float* y,
                                     ThreadpoolHandle pool) {
  xnn_operator_t op = to_op(h);
  OpState* s = state(op);
  const size_t shape[2] = {batch * s->width_items, width};
  const int64_t axes[1] = {1};
  size_t ws = 0, align = 0;
  const int st = xnn_reshape_reduce_nd(op, 1, axes, 2, shape, &ws, &align, to_pool(pool));
  if (st != kSuccess) return st;
  // No workspace for fp32, whatever reshape reports: given one, the reduction
  // accumulates there and then converts it to the output with a conversion
  // kernel that fp32 (accumulated in fp32) does not have: a call through null.
  return xnn_setup_reduce_nd(op, nullptr, x, y);
}

// add: the binary operator has no output clamp any more; neonn always asked
// for (-inf, inf), so any other range is refused rather than ignored.
int create_add_nd(float lo, float hi, uint32_t flags, OperatorHandle* out) {
  if (!(lo == -std::numeric_limits<float>::infinity() && hi == std::numeric_limits<float>::infinity())) {
    return kUnsupportedParameter;
  }
  return xnn_create_binary_elementwise_nd(xnn_binary_add, xnn_datatype_fp32, nullptr, nullptr, nullptr, flags,
                                          reinterpret_cast<xnn_operator_t*>(out));
}
int setup_add_nd(OperatorHandle h, size_t a_rank, const size_t* a_shape, size_t b_rank, const size_t* b_shape,
                 const float* a, const float* b, float* y, ThreadpoolHandle pool) {
  const int st = xnn_reshape_binary_elementwise_nd(to_op(h), a_rank, a_shape, b_rank, b_shape, to_pool(pool));
  if (st != kSuccess) return st;
  return xnn_setup_binary_elementwise_nd(to_op(h), a, b, y);
}

int create_clamp_nc(size_t channels, size_t in_stride, size_t out_stride, float lo, float hi, uint32_t flags,
                    OperatorHandle* out) {
  union xnn_unary_params params;
  params.clamp.min = lo;
  params.clamp.max = hi;
  const int st = xnn_create_unary_elementwise_nc(xnn_unary_clamp, xnn_datatype_fp32, xnn_datatype_fp32, &params,
                                                 nullptr, nullptr, flags, reinterpret_cast<xnn_operator_t*>(out));
  if (st == kSuccess) {
    OpState* s = state(to_op(*out));
    s->channels = channels;
    s->in_stride = in_stride;
    s->out_stride = out_stride;
  }
  return st;
}
int setup_clamp_nc(OperatorHandle h, size_t batch, const float* x, float* y, ThreadpoolHandle pool) {
  const OpState* s = state(to_op(h));
  const int st = xnn_reshape_unary_elementwise_nc(to_op(h), batch, s->channels, s->in_stride, s->out_stride,
                                                  to_pool(pool));
  if (st != kSuccess) return st;
  return xnn_setup_unary_elementwise_nc(to_op(h), x, y);
}

// --- fp16: the f32 adapters' shapes, on half buffers; weights and bias in fp32 ---

int create_convolution2d_f16(uint32_t pt, uint32_t pr, uint32_t pb, uint32_t pl, uint32_t kh, uint32_t kw, uint32_t sh,
                             uint32_t sw, uint32_t dh, uint32_t dw, uint32_t groups, size_t gic, size_t goc,
                             size_t in_stride, size_t out_stride, const float* kernel, const float* bias, float lo,
                             float hi, uint32_t flags, OperatorHandle* out) {
  return xnn_create_convolution2d_nhwc_f16(pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, groups, gic, goc, in_stride,
                                           out_stride, kernel, bias, lo, hi, flags | XNN_FLAG_FP32_STATIC_WEIGHTS,
                                           nullptr, nullptr, reinterpret_cast<xnn_operator_t*>(out));
}
int setup_convolution2d_f16(OperatorHandle h, size_t batch, size_t in_h, size_t in_w, const void* x, void* y,
                            ThreadpoolHandle pool) {
  xnn_operator_t op = to_op(h);
  size_t ws = 0, align = 0;
  int st = xnn_reshape_convolution2d_nhwc_f16(op, batch, in_h, in_w, &ws, &align, nullptr, nullptr, to_pool(pool));
  if (st != kSuccess) return st;
  void* workspace = nullptr;
  st = ensure_workspace(state(op), ws, align, &workspace);
  if (st != kSuccess) return st;
  return xnn_setup_convolution2d_nhwc_f16(op, workspace, x, y);
}
int create_fully_connected_f16(size_t in_ch, size_t out_ch, size_t in_stride, size_t out_stride, const float* kernel,
                               const float* bias, float lo, float hi, uint32_t flags, OperatorHandle* out) {
  return xnn_create_fully_connected_nc_f16(in_ch, out_ch, in_stride, out_stride, kernel, bias, lo, hi,
                                           flags | XNN_FLAG_FP32_STATIC_WEIGHTS, nullptr, nullptr,
                                           reinterpret_cast<xnn_operator_t*>(out));
}
int setup_fully_connected_f16(OperatorHandle h, size_t batch, const void* x, void* y, ThreadpoolHandle pool) {
  const int st = xnn_reshape_fully_connected_nc_f16(to_op(h), batch, to_pool(pool));
  if (st != kSuccess) return st;
  return xnn_setup_fully_connected_nc_f16(to_op(h), x, y);
}
int create_max_pooling2d_f16(uint32_t pt, uint32_t pr, uint32_t pb, uint32_t pl, uint32_t ph, uint32_t pw, uint32_t sh,
                             uint32_t sw, uint32_t dh, uint32_t dw, size_t channels, size_t in_stride,
                             size_t out_stride, float lo, float hi, uint32_t flags, OperatorHandle* out) {
  return remember_pooling(xnn_create_max_pooling2d_nhwc_f16(pt, pr, pb, pl, ph, pw, sh, sw, dh, dw, lo, hi, flags,
                                                            reinterpret_cast<xnn_operator_t*>(out)),
                          out, channels, in_stride, out_stride);
}
int setup_max_pooling2d_f16(OperatorHandle h, size_t batch, size_t in_h, size_t in_w, const void* x, void* y,
                            ThreadpoolHandle pool) {
  xnn_operator_t op = to_op(h);
  const OpState* s = state(op);
  const int st = xnn_reshape_max_pooling2d_nhwc_f16(op, batch, in_h, in_w, s->channels, s->in_stride, s->out_stride,
                                                    nullptr, nullptr, to_pool(pool));
  if (st != kSuccess) return st;
  return xnn_setup_max_pooling2d_nhwc_f16(op, x, y);
}
int create_average_pooling2d_f16(uint32_t pt, uint32_t pr, uint32_t pb, uint32_t pl, uint32_t ph, uint32_t pw,
                                 uint32_t sh, uint32_t sw, size_t channels, size_t in_stride, size_t out_stride,
                                 float lo, float hi, uint32_t flags, OperatorHandle* out) {
  return remember_pooling(xnn_create_average_pooling2d_nhwc_f16(pt, pr, pb, pl, ph, pw, sh, sw, lo, hi, flags,
                                                                reinterpret_cast<xnn_operator_t*>(out)),
                          out, channels, in_stride, out_stride);
}
int setup_average_pooling2d_f16(OperatorHandle h, size_t batch, size_t in_h, size_t in_w, const void* x, void* y,
                                ThreadpoolHandle pool) {
  xnn_operator_t op = to_op(h);
  OpState* s = state(op);
  size_t ws = 0, align = 0;
  int st = xnn_reshape_average_pooling2d_nhwc_f16(op, batch, in_h, in_w, s->channels, s->in_stride, s->out_stride,
                                                  &ws, &align, nullptr, nullptr, to_pool(pool));
  if (st != kSuccess) return st;
  void* workspace = nullptr;
  st = ensure_workspace(s, ws, align, &workspace);
  if (st != kSuccess) return st;
  return xnn_setup_average_pooling2d_nhwc_f16(op, workspace, x, y);
}
int create_add_nd_f16(float lo, float hi, uint32_t flags, OperatorHandle* out) {
  if (!(lo == -std::numeric_limits<float>::infinity() && hi == std::numeric_limits<float>::infinity())) {
    return kUnsupportedParameter;
  }
  return xnn_create_binary_elementwise_nd(xnn_binary_add, xnn_datatype_fp16, nullptr, nullptr, nullptr, flags,
                                          reinterpret_cast<xnn_operator_t*>(out));
}
int setup_add_nd_f16(OperatorHandle h, size_t a_rank, const size_t* a_shape, size_t b_rank, const size_t* b_shape,
                     const void* a, const void* b, void* y, ThreadpoolHandle pool) {
  const int st = xnn_reshape_binary_elementwise_nd(to_op(h), a_rank, a_shape, b_rank, b_shape, to_pool(pool));
  if (st != kSuccess) return st;
  return xnn_setup_binary_elementwise_nd(to_op(h), a, b, y);
}
// A unary operator with the strides of the rows it will see (clamp, convert).
int create_unary(xnn_unary_operator kind, xnn_datatype in, xnn_datatype out_type, const xnn_unary_params* params,
                 size_t channels, size_t in_stride, size_t out_stride, uint32_t flags, OperatorHandle* out) {
  const int st = xnn_create_unary_elementwise_nc(kind, in, out_type, params, nullptr, nullptr, flags,
                                                 reinterpret_cast<xnn_operator_t*>(out));
  if (st == kSuccess) {
    OpState* s = state(to_op(*out));
    s->channels = channels;
    s->in_stride = in_stride;
    s->out_stride = out_stride;
  }
  return st;
}
int setup_unary(OperatorHandle h, size_t batch, const void* x, void* y, ThreadpoolHandle pool) {
  const OpState* s = state(to_op(h));
  const int st = xnn_reshape_unary_elementwise_nc(to_op(h), batch, s->channels, s->in_stride, s->out_stride,
                                                  to_pool(pool));
  if (st != kSuccess) return st;
  return xnn_setup_unary_elementwise_nc(to_op(h), x, y);
}
int create_clamp_nc_f16(size_t channels, size_t in_stride, size_t out_stride, float lo, float hi, uint32_t flags,
                        OperatorHandle* out) {
  union xnn_unary_params params;
  params.clamp.min = lo;
  params.clamp.max = hi;
  return create_unary(xnn_unary_clamp, xnn_datatype_fp16, xnn_datatype_fp16, &params, channels, in_stride, out_stride,
                      flags, out);
}
int create_convert_nc(bool to_half, size_t channels, uint32_t flags, OperatorHandle* out) {
  return create_unary(xnn_unary_convert, to_half ? xnn_datatype_fp32 : xnn_datatype_fp16,
                      to_half ? xnn_datatype_fp16 : xnn_datatype_fp32, nullptr, channels, channels, channels, flags,
                      out);
}

int create_unary_nc(UnaryFn fn, bool half, float alpha, size_t channels, size_t in_stride, size_t out_stride,
                    uint32_t flags, OperatorHandle* out) {
  const xnn_datatype t = half ? xnn_datatype_fp16 : xnn_datatype_fp32;
  union xnn_unary_params params;
  xnn_unary_operator op = xnn_unary_sigmoid;
  switch (fn) {
    case UnaryFn::kSigmoid: op = xnn_unary_sigmoid; break;
    case UnaryFn::kTanh: op = xnn_unary_tanh; break;
    case UnaryFn::kHardSwish: op = xnn_unary_hardswish; break;
    case UnaryFn::kLeakyRelu:
      op = xnn_unary_leaky_relu;
      params.leaky_relu.negative_slope = alpha;
      break;
  }
  return create_unary(op, t, t, fn == UnaryFn::kLeakyRelu ? &params : nullptr, channels, in_stride, out_stride, flags, out);
}
int create_binary_nd(BinaryFn fn, bool half, uint32_t flags, OperatorHandle* out) {
  xnn_binary_operator op = xnn_binary_add;
  switch (fn) {
    case BinaryFn::kAdd: op = xnn_binary_add; break;
    case BinaryFn::kSub: op = xnn_binary_subtract; break;
    case BinaryFn::kMul: op = xnn_binary_multiply; break;
    case BinaryFn::kDiv: op = xnn_binary_divide; break;
  }
  return xnn_create_binary_elementwise_nd(op, half ? xnn_datatype_fp16 : xnn_datatype_fp32, nullptr, nullptr, nullptr,
                                          flags, reinterpret_cast<xnn_operator_t*>(out));
}

int create_batch_matmul_f32_const(size_t batch, size_t k, size_t n, const float* b, OperatorHandle* out) {
  return xnn_create_batch_matrix_multiply_nc_f32_const_weights(batch, k, n, b, 0, reinterpret_cast<xnn_operator_t*>(out));
}
int reshape_batch_matmul_f32(OperatorHandle h, size_t batch, size_t m, size_t k, size_t n, ThreadpoolHandle pool) {
  // With constant weights there is no workspace (B is packed already).
  size_t ws = 0, align = 0;
  const int st = xnn_reshape_batch_matrix_multiply_nc_f32(to_op(h), 1, &batch, &batch, m, k, n, &ws, &align, to_pool(pool));
  if (st == kSuccess && ws != 0) return kInvalidState;
  return st;
}
int setup_batch_matmul_f32(OperatorHandle h, const float* a, float* c) {
  return xnn_setup_batch_matrix_multiply_nc_f32(to_op(h), nullptr, a, nullptr, c);
}

void threadpool_parallelize_1d(ThreadpoolHandle p, ThreadpoolTask1d task, void* context, size_t range,
                               uint32_t flags) {
  pthreadpool_parallelize_1d(to_pool(p), task, context, range, flags);
}

}  // namespace

Loaded load_xnnpack() {
  Loaded out;
  out.library = "built in (XNNPACK 0.0~git20241108, pthreadpool 0.0~git20240616)";
  Api& a = out.api;
  a.initialize = initialize;
  a.run_operator = run_operator;
  a.delete_operator = delete_operator;
  a.create_convolution2d_nhwc_f32 = create_convolution2d;
  a.setup_convolution2d_nhwc_f32 = setup_convolution2d;
  a.create_fully_connected_nc_f32 = create_fully_connected;
  a.setup_fully_connected_nc_f32 = setup_fully_connected;
  a.create_max_pooling2d_nhwc_f32 = create_max_pooling2d;
  a.setup_max_pooling2d_nhwc_f32 = setup_max_pooling2d;
  a.create_average_pooling2d_nhwc_f32 = create_average_pooling2d;
  a.setup_average_pooling2d_nhwc_f32 = setup_average_pooling2d;
  a.create_global_average_pooling_ncw_f32 = create_global_average_pooling_ncw;
  a.setup_global_average_pooling_ncw_f32 = setup_global_average_pooling_ncw;
  a.create_add_nd_f32 = create_add_nd;
  a.setup_add_nd_f32 = setup_add_nd;
  a.create_clamp_nc_f32 = create_clamp_nc;
  a.setup_clamp_nc_f32 = setup_clamp_nc;
  a.create_convolution2d_nhwc_f16 = create_convolution2d_f16;
  a.setup_convolution2d_nhwc_f16 = setup_convolution2d_f16;
  a.create_fully_connected_nc_f16 = create_fully_connected_f16;
  a.setup_fully_connected_nc_f16 = setup_fully_connected_f16;
  a.create_max_pooling2d_nhwc_f16 = create_max_pooling2d_f16;
  a.setup_max_pooling2d_nhwc_f16 = setup_max_pooling2d_f16;
  a.create_average_pooling2d_nhwc_f16 = create_average_pooling2d_f16;
  a.setup_average_pooling2d_nhwc_f16 = setup_average_pooling2d_f16;
  a.create_add_nd_f16 = create_add_nd_f16;
  a.setup_add_nd_f16 = setup_add_nd_f16;
  a.create_clamp_nc_f16 = create_clamp_nc_f16;
  a.setup_clamp_nc_f16 = setup_unary;
  a.create_convert_nc = create_convert_nc;
  a.setup_convert_nc = setup_unary;
  a.create_unary_nc = create_unary_nc;
  a.setup_unary_nc = setup_unary;
  a.create_binary_nd = create_binary_nd;
  a.setup_binary_nd = setup_add_nd_f16;  // untyped: either precision
  a.create_batch_matmul_f32_const = create_batch_matmul_f32_const;
  a.reshape_batch_matmul_f32 = reshape_batch_matmul_f32;
  a.setup_batch_matmul_f32 = setup_batch_matmul_f32;
  a.threadpool_parallelize_1d = threadpool_parallelize_1d;
  // Checks the CPU (e.g. SSE2 / NEON) and sets up the kernels; idempotent.
  const int status = a.initialize(nullptr);
  if (status != kSuccess) {
    out.reason = "xnn_initialize failed: " + status_name(status) + " (XNNPACK built in)";
    return out;
  }
  out.ok = true;
  return out;
}

#else  // !NEONN_HAVE_XNNPACK

Loaded load_xnnpack() {
  Loaded out;
  out.reason = "this build of neonn has no XNNPACK (built with NEONN_XNNPACK=OFF)";
  return out;
}

#endif  // NEONN_HAVE_XNNPACK

}  // namespace xnn
}  // namespace neonn
