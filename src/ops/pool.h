// nn.maxPool2d, nn.avgPool2d, nn.globalAvgPool (ONNX MaxPool / AveragePool /
// GlobalAveragePool semantics, NCHW). One call struct for the three kinds.
#pragma once

#include <cstdint>

#include "../backend.h"
#include "../span.h"

namespace neonn {

/// Values are part of the binding's ABI.
enum class PoolKind : int32_t {
  kMax = 0,
  kAvg = 1,
  kGlobalAvg = 2,  ///< kernel = the whole image, out_h = out_w = 1; other fields ignored
};

/// y[N, C, OH, OW] = pool(x[N, C, H, W]). Padded cells never win a max; an
/// average divides by the number of input cells in the window, or, with
/// count_include_pad, by the cells inside the padded input (as PyTorch: cells
/// that ceil mode adds beyond the end padding are never counted).
struct Pool2dCall {
  PoolKind kind = PoolKind::kMax;
  int64_t n = 0, c = 0, in_h = 0, in_w = 0;  ///< x shape
  int64_t k_h = 1, k_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;
  bool count_include_pad = false;
  int64_t out_h = 0, out_w = 0;  ///< set from pool_output_size(); check_pool2d verifies
  FloatSpan x;
  MutableFloatSpan y;
};

/// Output length of one axis (ONNX rule, floor or ceil; in ceil mode the last
/// window must start inside the input or its begin padding). RangeError when
/// the window does not fit or a pad is not smaller than the kernel extent.
int64_t pool_output_size(const char* op, const char* axis, int64_t in, int64_t k, int64_t stride,
                         int64_t dilation, int64_t pad_begin, int64_t pad_end, bool ceil_mode);

void check_pool2d(const Pool2dCall& c);
void run_pool2d(const Backend& backend, const Pool2dCall& c);

/// The one implementation (plain loops), provided by the reference backend;
/// the others fall back to it.
void pool2d_loops(const Pool2dCall& c);

class ArgList;

/// Decoder from positional arguments (see binding/pool.cc for the layout).
Pool2dCall decode_pool2d(const ArgList& args);

}  // namespace neonn
