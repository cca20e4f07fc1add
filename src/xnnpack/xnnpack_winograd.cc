// Winograd F(4x4, 3x3) for NHWC regions: see xnnpack_winograd.h.
#include "xnnpack_winograd.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../parallel.h"

namespace neonn {
namespace xnn {
namespace {

// The tile: 6x6 inputs give 4x4 outputs of a 3x3 filter.
constexpr size_t kIn = 6, kOut = 4, kPoints = kIn * kIn;
// Tiles per block: a multiple of the rows XNNPACK's f32 GEMM micro-kernels take at once (7 with AVX-512 and AVX2;
// 6 or 4 with NEON), so that no block ends in a thin remainder that streams the weights for a row or two; and about
// this many bytes of transformed inputs and products, so that a block's 36 matrices stay near the core (in the
// L2 and L3 caches; a Raspberry Pi has 0.5-1 MB of L2 and at most 2 MB of L3) while the GEMM streams each weight
// matrix once per block. Measured on VGG16 (1 thread, Zen 5): 1 MB blocks not rounded to 7 rows took 1.4x the
// time of 4 MB blocks of 7s.
#if defined(__x86_64__)
constexpr size_t kGemmRows = 7;
constexpr size_t kBlockBytes = size_t{4} << 20;
#else
constexpr size_t kGemmRows = 12;
constexpr size_t kBlockBytes = size_t{1} << 20;
#endif
// Channels per vector step of the transforms (one AVX-512 register, four NEON ones).
constexpr size_t kLanes = 16;

// On x86-64 the transforms are also compiled for AVX2 and AVX-512 and picked by the CPU at load (GCC's function
// multiversioning; the generic build's baseline is SSE2). ARM builds vectorize for NEON as they are.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NEONN_WINOGRAD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NEONN_WINOGRAD_CLONES
#endif
#define NEONN_ALWAYS_INLINE inline __attribute__((always_inline))

// One tile's input transform for channels [c0, c0 + w): p[i * 6 + j] is the input pixel at row i, column j of the
// patch (a zero pixel in the padding); out[xi * xi_stride + c] receives V = Bᵀ d B's element xi for channel c.
// Bᵀ's rows: [4 0 -5 0 1 0], [0 -4 -4 1 1 0], [0 4 -4 -1 1 0], [0 -2 -1 2 1 0], [0 2 -1 -2 1 0], [0 4 0 -5 0 1].
// Every loop runs over the channels, so that it vectorizes.
template <size_t W>
NEONN_ALWAYS_INLINE void input_chunk(const float* const* p, size_t c0, size_t cw, float* __restrict out, size_t xi_stride) {
  const size_t w = W != 0 ? W : cw;
  float t[kIn][kIn][kLanes];  // Bᵀ d: t[i][j] = sum_r Bᵀ[i][r] d[r][j]
  for (size_t j = 0; j < kIn; ++j) {
    const float* __restrict d0 = p[0 * kIn + j] + c0;
    const float* __restrict d1 = p[1 * kIn + j] + c0;
    const float* __restrict d2 = p[2 * kIn + j] + c0;
    const float* __restrict d3 = p[3 * kIn + j] + c0;
    const float* __restrict d4 = p[4 * kIn + j] + c0;
    const float* __restrict d5 = p[5 * kIn + j] + c0;
    for (size_t l = 0; l < w; ++l) {
      const float a = d4[l] - d2[l], b = d3[l] - d1[l];
      t[0][j][l] = 4.0f * d0[l] - 5.0f * d2[l] + d4[l];
      t[1][j][l] = (d3[l] + d4[l]) - 4.0f * (d1[l] + d2[l]);
      t[2][j][l] = (d4[l] - d3[l]) + 4.0f * (d1[l] - d2[l]);
      t[3][j][l] = a + 2.0f * b;
      t[4][j][l] = a - 2.0f * b;
      t[5][j][l] = 4.0f * d1[l] - 5.0f * d3[l] + d5[l];
    }
  }
  for (size_t i = 0; i < kIn; ++i) {
    const float* __restrict d0 = t[i][0];
    const float* __restrict d1 = t[i][1];
    const float* __restrict d2 = t[i][2];
    const float* __restrict d3 = t[i][3];
    const float* __restrict d4 = t[i][4];
    const float* __restrict d5 = t[i][5];
    float* __restrict o = out + i * kIn * xi_stride + c0;
    for (size_t l = 0; l < w; ++l) {
      const float a = d4[l] - d2[l], b = d3[l] - d1[l];
      o[0 * xi_stride + l] = 4.0f * d0[l] - 5.0f * d2[l] + d4[l];
      o[1 * xi_stride + l] = (d3[l] + d4[l]) - 4.0f * (d1[l] + d2[l]);
      o[2 * xi_stride + l] = (d4[l] - d3[l]) + 4.0f * (d1[l] - d2[l]);
      o[3 * xi_stride + l] = a + 2.0f * b;
      o[4 * xi_stride + l] = a - 2.0f * b;
      o[5 * xi_stride + l] = 4.0f * d1[l] - 5.0f * d3[l] + d5[l];
    }
  }
}

NEONN_WINOGRAD_CLONES void input_tile(const float* const* p, size_t channels, float* __restrict out, size_t xi_stride) {
  size_t c0 = 0;
  for (; c0 + kLanes <= channels; c0 += kLanes) input_chunk<kLanes>(p, c0, kLanes, out, xi_stride);
  if (c0 < channels) input_chunk<0>(p, c0, channels - c0, out, xi_stride);
}

// One tile's output transform for channels [c0, c0 + w): m[xi * xi_stride + c] holds the product's element xi;
// q[r * 4 + s] is the output pixel at row r, column s of the tile, or null past the output's edge. Aᵀ's rows:
// [1 1 1 1 1 0], [0 1 -1 2 -2 0], [0 1 1 4 4 0], [0 1 -1 8 -8 1]. Then the bias and the clamp.
template <size_t W>
NEONN_ALWAYS_INLINE void output_chunk(const float* __restrict m, size_t xi_stride, size_t c0, size_t cw, const float* bias,
                                      float lo, float hi, float* const* q) {
  const size_t w = W != 0 ? W : cw;
  float s[kOut][kIn][kLanes];  // Aᵀ m: s[r][j] = sum_i Aᵀ[r][i] m[i][j]
  for (size_t j = 0; j < kIn; ++j) {
    const float* __restrict m0 = m + (0 * kIn + j) * xi_stride + c0;
    const float* __restrict m1 = m + (1 * kIn + j) * xi_stride + c0;
    const float* __restrict m2 = m + (2 * kIn + j) * xi_stride + c0;
    const float* __restrict m3 = m + (3 * kIn + j) * xi_stride + c0;
    const float* __restrict m4 = m + (4 * kIn + j) * xi_stride + c0;
    const float* __restrict m5 = m + (5 * kIn + j) * xi_stride + c0;
    for (size_t l = 0; l < w; ++l) {
      const float s12 = m1[l] + m2[l], d12 = m1[l] - m2[l], s34 = m3[l] + m4[l], d34 = m3[l] - m4[l];
      s[0][j][l] = m0[l] + s12 + s34;
      s[1][j][l] = d12 + 2.0f * d34;
      s[2][j][l] = s12 + 4.0f * s34;
      s[3][j][l] = d12 + 8.0f * d34 + m5[l];
    }
  }
  const float* __restrict b = bias + c0;
  for (size_t r = 0; r < kOut; ++r) {
    float o[kOut][kLanes];
    const float* __restrict m0 = s[r][0];
    const float* __restrict m1 = s[r][1];
    const float* __restrict m2 = s[r][2];
    const float* __restrict m3 = s[r][3];
    const float* __restrict m4 = s[r][4];
    const float* __restrict m5 = s[r][5];
    for (size_t l = 0; l < w; ++l) {
      const float s12 = m1[l] + m2[l], d12 = m1[l] - m2[l], s34 = m3[l] + m4[l], d34 = m3[l] - m4[l];
      o[0][l] = std::min(std::max(m0[l] + s12 + s34 + b[l], lo), hi);
      o[1][l] = std::min(std::max(d12 + 2.0f * d34 + b[l], lo), hi);
      o[2][l] = std::min(std::max(s12 + 4.0f * s34 + b[l], lo), hi);
      o[3][l] = std::min(std::max(d12 + 8.0f * d34 + m5[l] + b[l], lo), hi);
    }
    for (size_t k = 0; k < kOut; ++k) {
      float* __restrict dst = q[r * kOut + k];
      if (dst == nullptr) continue;
      dst += c0;
      for (size_t l = 0; l < w; ++l) dst[l] = o[k][l];
    }
  }
}

NEONN_WINOGRAD_CLONES void output_tile(const float* __restrict m, size_t xi_stride, size_t channels, const float* bias, float lo,
                                       float hi, float* const* q) {
  size_t c0 = 0;
  for (; c0 + kLanes <= channels; c0 += kLanes) output_chunk<kLanes>(m, xi_stride, c0, kLanes, bias, lo, hi, q);
  if (c0 < channels) output_chunk<0>(m, xi_stride, c0, channels - c0, bias, lo, hi, q);
}

// U = G g Gᵀ for the filters (co, ci) of co in [co0, co0 + w), one ci: w[(co * c_in + ci) * 9 + r * 3 + c] holds g;
// u[(xi * c_in + ci) * c_out + co] receives U's element xi. G's rows: [1/4 0 0], [-1/6 -1/6 -1/6], [-1/6 1/6 -1/6],
// [1/24 1/12 1/6], [1/24 -1/12 1/6], [0 0 1]. Sixteen output channels at a time, so that the weights are read and U
// written in whole cache lines.
NEONN_WINOGRAD_CLONES void filter_chunk(const float* w, size_t c_in, size_t c_out, size_t ci, size_t co0, size_t cw, float* u) {
  static const float G[kIn][3] = {{0.25f, 0, 0},
                                  {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                  {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                  {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                  {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                  {0, 0, 1.0f}};
  float g[9][kLanes] = {};
  for (size_t l = 0; l < cw; ++l) {
    for (size_t k = 0; k < 9; ++k) g[k][l] = w[((co0 + l) * c_in + ci) * 9 + k];
  }
  float gg[kIn][3][kLanes];  // G g
  for (size_t i = 0; i < kIn; ++i) {
    for (size_t c = 0; c < 3; ++c) {
      for (size_t l = 0; l < kLanes; ++l) gg[i][c][l] = G[i][0] * g[c][l] + G[i][1] * g[3 + c][l] + G[i][2] * g[6 + c][l];
    }
  }
  for (size_t i = 0; i < kIn; ++i) {
    for (size_t j = 0; j < kIn; ++j) {
      float* __restrict dst = u + ((i * kIn + j) * c_in + ci) * c_out + co0;
      float row[kLanes];
      for (size_t l = 0; l < kLanes; ++l) row[l] = gg[i][0][l] * G[j][0] + gg[i][1][l] * G[j][1] + gg[i][2][l] * G[j][2];
      for (size_t l = 0; l < cw; ++l) dst[l] = row[l];
    }
  }
}

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// "on" / "off" / anything else (the size rule).
int winograd_env() {
  const char* v = std::getenv("NEONN_WINOGRAD");
  if (v == nullptr) return 0;
  if (std::strcmp(v, "on") == 0) return 1;
  if (std::strcmp(v, "off") == 0) return -1;
  return 0;
}

}  // namespace

bool WinogradConv::wanted(const Conv2dCall& c, bool direct_gemm) {
  const bool fits = c.k_h == 3 && c.k_w == 3 && c.stride_h == 1 && c.stride_w == 1 && c.dilation_h == 1 &&
                    c.dilation_w == 1 && c.group == 1 && c.out_h > 0 && c.out_w > 0 && c.c_in > 0 && c.c_out > 0;
  const int env = winograd_env();
  // The transformed weights take 36 floats per channel pair (and XNNPACK packs a copy): up to 144 MB.
  const bool bounded = c.c_in > 0 && c.c_out > 0 && static_cast<uint64_t>(c.c_in) * static_cast<uint64_t>(c.c_out) <= (uint64_t{1} << 20);
  if (!fits || !bounded || env < 0) return false;
  if (env > 0) return true;
  // The GEMM must outweigh the transforms (about 9 operations per input and 7 per output channel per pixel, against
  // 2 * 36/16 * Cin * Cout for the products); the tiles past the output's edge must not eat the 4x saving; and there
  // must be tiles enough for the GEMM not to be a stream of its 4x larger weights (measured, 1 thread, Zen 5, per
  // 3x3 conv, direct -> Winograd: 64 ch at 56x56 1.03 -> 0.55 ms, 128 at 28x28 1.04 -> 0.42, 256 at 14x14 (16 tiles)
  // 0.96 -> 0.69, 512 at 7x7 (4 tiles) 1.29 -> 1.19 for 4x the memory, 16 at 56x56 0.146 -> 0.116).
  const size_t oh = static_cast<size_t>(c.out_h), ow = static_cast<size_t>(c.out_w);
  const size_t tiles = static_cast<size_t>(c.n) * ceil_div(oh, kOut) * ceil_div(ow, kOut);
  const double waste = static_cast<double>(ceil_div(oh, kOut) * kOut * ceil_div(ow, kOut) * kOut) / static_cast<double>(oh * ow);
  // Against neonn's GEMM (AVX-512) it takes twice the tiles: ResNet-50's 256-channel convs at 14x14 (16 tiles) ran
  // 1.61 ms direct against 1.88 as Winograd (1 thread; 0.83 against 1.00 at 2), its 128-channel ones at 28x28 (49
  // tiles) 1.55 against 0.93.
  return c.c_in >= 16 && c.c_out >= 16 && waste <= 1.8 && tiles >= (direct_gemm ? 32u : 16u);
}

WinogradConv::WinogradConv(const Api& api, const Conv2dCall& c, float lo, float hi, size_t out_stride, ThreadpoolHandle pool)
    : api_(api),
      gemm_(api),
      n_(static_cast<size_t>(c.n)),
      c_in_(static_cast<size_t>(c.c_in)),
      c_out_(static_cast<size_t>(c.c_out)),
      in_h_(static_cast<size_t>(c.in_h)),
      in_w_(static_cast<size_t>(c.in_w)),
      out_h_(static_cast<size_t>(c.out_h)),
      out_w_(static_cast<size_t>(c.out_w)),
      pad_top_(static_cast<size_t>(c.pad_top)),
      pad_left_(static_cast<size_t>(c.pad_left)),
      out_stride_(out_stride),
      lo_(lo),
      hi_(hi) {
  const std::string what = "NHWC region, Winograd conv";
  if (c.k_h != 3 || c.k_w != 3 || c.stride_h != 1 || c.stride_w != 1 || c.dilation_h != 1 || c.dilation_w != 1 ||
      c.group != 1 || c.pad_top < 0 || c.pad_left < 0 || out_stride < c_out_ || c.w.size != c_out_ * c_in_ * 9) {
    throw_range_error(what + ": not a 3x3 stride-1 conv of one group");
  }
  tiles_h_ = ceil_div(out_h_, kOut);
  tiles_w_ = ceil_div(out_w_, kOut);
  tiles_ = n_ * tiles_h_ * tiles_w_;
  // A block: whole groups of the GEMM's rows, within kBlockBytes of transformed inputs and products.
  const size_t per_tile = kPoints * (c_in_ + c_out_) * sizeof(float);
  block_ = std::min(tiles_, std::max<size_t>(kGemmRows, kBlockBytes / per_tile / kGemmRows * kGemmRows));

  // U[xi][ci][co]: XNNPACK's B of [Cin][Cout] per tile position.
  {
    std::unique_ptr<float[]> u = scratch(kPoints * c_in_ * c_out_);
    for (size_t co0 = 0; co0 < c_out_; co0 += kLanes) {
      for (size_t ci = 0; ci < c_in_; ++ci) filter_chunk(c.w.data, c_in_, c_out_, ci, co0, std::min(kLanes, c_out_ - co0), u.get());
    }
    check_status(api.create_batch_matmul_f32_const(kPoints, c_in_, c_out_, u.get(), gemm_.out()), what,
                 "xnn_create_batch_matrix_multiply_nc_f32_const_weights");
  }
  check_status(api.reshape_batch_matmul_f32(gemm_.get(), kPoints, block_, c_in_, c_out_, pool), what,
               "xnn_reshape_batch_matrix_multiply_nc_f32");
  packed_bytes_ = kPoints * ((c_out_ + 31) / 32 * 32) * (c_in_ + 1) * sizeof(float);
  bias_.reset(new float[c_out_]);
  for (size_t co = 0; co < c_out_; ++co) bias_[co] = c.bias.data != nullptr ? c.bias.data[co] : 0.0f;
  zeros_.reset(new float[c_in_ + kExtraFloats]());
}

void WinogradConv::run(const float* x, float* y, float* scratch) const {
  float* v = scratch;                            // [36][block][c_in]
  float* m = scratch + kPoints * block_ * c_in_;  // [36][block][c_out]
  const size_t v_stride = block_ * c_in_, m_stride = block_ * c_out_;
  const size_t per_image = tiles_h_ * tiles_w_;
  const size_t grain = parallel_grain(kPoints * 8 * (c_in_ + c_out_));
  for (size_t t0 = 0; t0 < tiles_; t0 += block_) {
    const size_t tb = std::min(block_, tiles_ - t0);
    parallel_for(tb, grain, [&](size_t b, size_t e) {
      const float* p[kPoints];
      for (size_t i = b; i < e; ++i) {
        const size_t t = t0 + i, img = t / per_image, th = t % per_image / tiles_w_, tw = t % tiles_w_;
        for (size_t r = 0; r < kIn; ++r) {
          // Row and column of the padded input, then of the input itself (past either edge: the zero pixel).
          const size_t ph = th * kOut + r;
          for (size_t s = 0; s < kIn; ++s) {
            const size_t pw = tw * kOut + s;
            const bool inside = ph >= pad_top_ && ph - pad_top_ < in_h_ && pw >= pad_left_ && pw - pad_left_ < in_w_;
            p[r * kIn + s] = inside ? x + ((img * in_h_ + (ph - pad_top_)) * in_w_ + (pw - pad_left_)) * c_in_ : zeros_.get();
          }
        }
        input_tile(p, c_in_, v + i * c_in_, v_stride);
      }
    });
    {
      const PoolLease lease;
      check_status(api_.setup_batch_matmul_f32(gemm_.get(), v, m), "NHWC region, Winograd conv",
                   "xnn_setup_batch_matrix_multiply_nc_f32");
      check_status(api_.run_operator(gemm_.get(), pool_of(lease)), "NHWC region, Winograd conv", "xnn_run_operator");
    }
    parallel_for(tb, grain, [&](size_t b, size_t e) {
      float* q[kOut * kOut];
      for (size_t i = b; i < e; ++i) {
        const size_t t = t0 + i, img = t / per_image, th = t % per_image / tiles_w_, tw = t % tiles_w_;
        for (size_t r = 0; r < kOut; ++r) {
          for (size_t s = 0; s < kOut; ++s) {
            const size_t oh = th * kOut + r, ow = tw * kOut + s;
            q[r * kOut + s] = oh < out_h_ && ow < out_w_ ? y + ((img * out_h_ + oh) * out_w_ + ow) * out_stride_ : nullptr;
          }
        }
        output_tile(m + i * c_out_, m_stride, c_out_, bias_.get(), lo_, hi_, q);
      }
    });
  }
}

}  // namespace xnn
}  // namespace neonn
