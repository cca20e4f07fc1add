#include "conv_im2col.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "../checked.h"
#include "../parallel.h"

namespace neonn {
namespace {

// Output positions o in [lo, hi) whose input index begin + o * stride lies in
// [0, in): the taps of one kernel offset that read real input, not padding.
struct Span {
  int64_t lo, hi;
};
Span valid_outputs(int64_t begin, int64_t stride, int64_t in, int64_t out) {
  const int64_t lo = begin >= 0 ? 0 : (-begin + stride - 1) / stride;
  const int64_t hi = in - 1 - begin < 0 ? 0 : (in - 1 - begin) / stride + 1;
  return Span{std::min(lo, out), std::min(hi, out)};
}

// Output rows [oh0, oh1) of the column matrix:
// col[(ci*kH + kh)*kW + kw][(oh - oh0)*OW + ow] = x[ci][ih][iw], 0 where (ih, iw) is padding.
// Each column-matrix row is independent: the rows are split among threads.
void im2col(const Conv2dCall& c, const float* x, int64_t channels, int64_t oh0, int64_t oh1,
            float* col) {
  const int64_t plane = (oh1 - oh0) * c.out_w;
  const int64_t taps = c.k_h * c.k_w;
  parallel_for(static_cast<size_t>(channels * taps), parallel_grain(static_cast<size_t>(plane)),
               [&](size_t r0, size_t r1) {
    for (int64_t r = static_cast<int64_t>(r0); r < static_cast<int64_t>(r1); ++r) {
      const int64_t ci = r / taps, kh = r % taps / c.k_w, kw = r % c.k_w;
      const float* xc = x + ci * c.in_h * c.in_w;
      const int64_t h0 = kh * c.dilation_h - c.pad_top;
      const int64_t w0 = kw * c.dilation_w - c.pad_left;
      const Span cols = valid_outputs(w0, c.stride_w, c.in_w, c.out_w);
      float* row = col + r * plane;
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        float* dst = row + (oh - oh0) * c.out_w;
        const int64_t ih = h0 + oh * c.stride_h;
        if (ih < 0 || ih >= c.in_h || cols.lo >= cols.hi) {
          std::fill(dst, dst + c.out_w, 0.0f);
          continue;
        }
        // Indexed from the row start: w0 may be negative (left padding).
        const float* src = xc + ih * c.in_w;
        std::fill(dst, dst + cols.lo, 0.0f);
        if (c.stride_w == 1) {
          std::memcpy(dst + cols.lo, src + w0 + cols.lo, (cols.hi - cols.lo) * sizeof(float));
        } else {
          for (int64_t ow = cols.lo; ow < cols.hi; ++ow) dst[ow] = src[w0 + ow * c.stride_w];
        }
        std::fill(dst + cols.hi, dst + c.out_w, 0.0f);
      }
    }
  });
}

// One input channel per group: each output channel is a 2-D correlation of
// one input plane, cheaper as a direct loop than as a 1-row GEMM. Planes are
// split among threads; each is computed by one thread in the same order.
void depthwise(const Conv2dCall& c) {
  const int64_t cog = c.c_out_per_group();
  const int64_t plane = c.out_h * c.out_w;
  parallel_for(static_cast<size_t>(c.n * c.c_out), parallel_grain(static_cast<size_t>(plane * c.k_h * c.k_w)),
               [&](size_t p0, size_t p1) {
    for (int64_t p = static_cast<int64_t>(p0); p < static_cast<int64_t>(p1); ++p) {
      const int64_t n = p / c.c_out, co = p % c.c_out;
      const float* x = c.x.data + (n * c.c_in + co / cog) * c.in_h * c.in_w;
      const float* wk = c.w.data + co * c.k_h * c.k_w;
      float* y = c.y.data + p * plane;
      std::fill(y, y + plane, 0.0f);
      for (int64_t kh = 0; kh < c.k_h; ++kh) {
        const int64_t h0 = kh * c.dilation_h - c.pad_top;
        const Span rows = valid_outputs(h0, c.stride_h, c.in_h, c.out_h);
        for (int64_t kw = 0; kw < c.k_w; ++kw) {
          const int64_t w0 = kw * c.dilation_w - c.pad_left;
          const Span cols = valid_outputs(w0, c.stride_w, c.in_w, c.out_w);
          const float wv = wk[kh * c.k_w + kw];
          for (int64_t oh = rows.lo; oh < rows.hi; ++oh) {
            const float* src = x + (h0 + oh * c.stride_h) * c.in_w;
            float* dst = y + oh * c.out_w;
            for (int64_t ow = cols.lo; ow < cols.hi; ++ow) dst[ow] += wv * src[w0 + ow * c.stride_w];
          }
        }
      }
    }
  });
}

}  // namespace

void blas_conv2d(const Backend& gemm, const Conv2dCall& c) {
  if (c.c_in_per_group() == 1 && c.group > 1) {
    depthwise(c);
    apply_bias_activation(c.y.data, c.n, c.c_out, c.out_h * c.out_w, c.bias.data, c.activation);
    return;
  }
  const int64_t cig = c.c_in_per_group();
  const int64_t cog = c.c_out_per_group();
  const int64_t k_size = checked_mul(cig, checked_mul(c.k_h, c.k_w, "conv2d"), "conv2d: im2col rows");
  const int64_t plane = checked_mul(c.out_h, c.out_w, "conv2d: output plane");
  SgemmArgs s;
  s.m = blas_dim(cog, "conv2d: GEMM M (output channels per group)");
  s.n = blas_dim(plane, "conv2d: GEMM N (output pixels)");
  s.k = blas_dim(k_size, "conv2d: GEMM K (input channels per group * kernel area)");
  s.lda = s.k;
  s.ldb = s.n;
  s.ldc = s.n;
  s.beta = 0.0f;  // y is output only: whatever `out` held must not leak in

  const bool pointwise = c.k_h == 1 && c.k_w == 1 && c.stride_h == 1 && c.stride_w == 1 &&
                         c.pad_top == 0 && c.pad_left == 0 && c.pad_bottom == 0 && c.pad_right == 0;
  // The column matrix is built a band of output rows at a time, each band
  // about kColumnTileFloats: it stays in cache between im2col and the GEMM
  // that reads it, and the scratch is megabytes, not the 100+ MB a whole
  // VGG-sized layer would take (which matters on a 1 GB board). Per call,
  // not thread_local, so nothing stays pinned to a libuv thread afterwards.
  constexpr int64_t kColumnTileFloats = int64_t{1} << 19;  // 2 MB: an L2 on this class of CPU
  const int64_t band_rows =
      pointwise ? c.out_h
                : std::max<int64_t>(1, std::min<int64_t>(c.out_h, kColumnTileFloats / std::max<int64_t>(1, k_size * c.out_w)));
  std::unique_ptr<float[]> col;
  if (!pointwise) {
    col.reset(new float[static_cast<size_t>(
        checked_mul(k_size, checked_mul(band_rows, c.out_w, "conv2d: band"), "conv2d: im2col buffer"))]);
  }

  for (int64_t n = 0; n < c.n; ++n) {
    for (int64_t g = 0; g < c.group; ++g) {
      const float* x = c.x.data + (n * c.c_in + g * cig) * c.in_h * c.in_w;
      float* y = c.y.data + (n * c.c_out + g * cog) * plane;
      s.a = c.w.data + g * cog * k_size;
      if (pointwise) {
        s.b = x;  // [Cin/g, H*W] is already the column matrix
        s.c = y;
        gemm.sgemm(s);
        continue;
      }
      for (int64_t oh0 = 0; oh0 < c.out_h; oh0 += band_rows) {
        const int64_t oh1 = std::min(c.out_h, oh0 + band_rows);
        im2col(c, x, cig, oh0, oh1, col.get());
        // Y[:, band] = W · col_band; ldc stays the whole plane.
        s.n = static_cast<int>((oh1 - oh0) * c.out_w);
        s.ldb = s.n;
        s.b = col.get();
        s.c = y + oh0 * c.out_w;
        gemm.sgemm(s);
      }
    }
  }
  apply_bias_activation(c.y.data, c.n, c.c_out, plane, c.bias.data, c.activation);
}

void blas_fully_connected(const Backend& gemm, const FullyConnectedCall& c) {
  if (c.n == 1) {
    // Batch 1 (the case on a board): y = W·x is memory-bound on W, and a
    // GEMV reads W once where a 1-row GEMM would first pack (copy) it.
    SgemvArgs v;
    v.m = blas_dim(c.out_features, "fullyConnected: outFeatures");
    v.n = blas_dim(c.in_features, "fullyConnected: inFeatures");
    v.a = c.w.data;
    v.lda = v.n;
    v.x = c.x.data;
    v.y = c.y.data;
    v.beta = 0.0f;
    gemm.sgemv(v);
    apply_bias_activation(c.y.data, c.n, c.out_features, 1, c.bias.data, Activation::kNone);
    return;
  }
  SgemmArgs s;
  s.trans_b = true;
  s.m = blas_dim(c.n, "fullyConnected: batch size");
  s.n = blas_dim(c.out_features, "fullyConnected: outFeatures");
  s.k = blas_dim(c.in_features, "fullyConnected: inFeatures");
  s.a = c.x.data;
  s.lda = s.k;
  s.b = c.w.data;
  s.ldb = s.k;
  s.c = c.y.data;
  s.ldc = s.n;
  s.beta = 0.0f;
  gemm.sgemm(s);
  apply_bias_activation(c.y.data, c.n, c.out_features, 1, c.bias.data, Activation::kNone);
}

}  // namespace neonn
