// A quantized region's 1x1 convs on Intel AMX (see QPointwiseNhwc in xnnpack_nhwc.h).
//
// The region holds activations as int8 NHWC, so a 1x1 conv of stride 1 is the
// GEMM y[pixels, c_out] = x[pixels, c_in] * w^T, which AMX's tdpbssd (signed
// bytes times signed bytes, int32 sums) computes a 16 x 16 tile of outputs at a
// time from a 16-row tile of x (up to 64 bytes of c_in per row, read where it
// lies) and a tile of w packed as AMX wants it (c_in / 4 rows of 16 output
// channels x 4 bytes). XNNPACK's x86 kernels stop at AVX512-VNNI.
//
// The arithmetic is XNNPACK's qs8 one, so the results are its operator's bit
// for bit: int32 sums plus (bias - x_zp * the weights' sum), times the float32
// multiplier (x_scale * w_scale) / y_scale, rounded half to even, plus y_zp,
// saturated.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "xnnpack_nhwc.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
// GCC 12 warns inside its own AVX-512 intrinsics (their "undefined" pass-through operands) when they are inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define NEONN_AMX 1
#else
#define NEONN_AMX 0
#endif

namespace neonn {
namespace xnn {

#if NEONN_AMX
namespace {

#define NEONN_AMX_TARGET __attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512dq")))

// Whether this process may use AMX's int8 tiles: the CPU has them (CPUID 7: AMX-TILE, AMX-INT8), with AVX-512 BW,
// VL and DQ for the requantization, and Linux grants the tile state (arch_prctl ARCH_REQ_XCOMP_PERM for
// XTILEDATA; the permission is the process's, for every thread).
bool amx_int8() {
  static const bool yes = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid_max(0, nullptr) < 7) return false;
    __cpuid_count(7, 0, a, b, c, d);
    if ((d & (1u << 24)) == 0 || (d & (1u << 25)) == 0) return false;
    if (!__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512dq")) return false;
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return yes;
}

// Palette 1's configuration for two blocks of up to 16 pixels (rows0, rows1; rows1 0: one block) against two
// blocks of 16 output channels: tiles 0-1 the first block's int32 sums, 2-3 the second's, 4-5 their pixels' inputs
// (kc bytes each), 6-7 the packed weights (kc / 4 rows of 64 bytes).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

TileConfig tile_config(size_t rows0, size_t rows1, size_t kc) {
  TileConfig t;
  const size_t rows[2] = {rows0, rows1};
  for (int b = 0; b < 2; ++b) {
    if (rows[b] == 0) continue;
    for (int i = 0; i < 2; ++i) t.rows[2 * b + i] = static_cast<uint8_t>(rows[b]), t.colsb[2 * b + i] = 64;
    t.rows[4 + b] = static_cast<uint8_t>(rows[b]), t.colsb[4 + b] = static_cast<uint16_t>(kc);
  }
  for (int i = 6; i < 8; ++i) t.rows[i] = static_cast<uint8_t>(kc / 4), t.colsb[i] = 64;
  return t;
}

// Sums of `rows` pixels (rows of `sums`, 32 output channels each from n0) requantized into y's rows.
NEONN_AMX_TARGET inline void requantize(const QPointwiseNhwc& p, const int32_t (*sums)[32], size_t rows, size_t n0, int8_t* y) {
  const size_t n = p.c_out, live = std::min<size_t>(32, n - n0);
  const __mmask32 mask = live == 32 ? ~__mmask32{0} : static_cast<__mmask32>((uint32_t{1} << live) - 1);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(-128 - p.y_zp)), hi = _mm512_set1_ps(static_cast<float>(127 - p.y_zp));
  const __m512i zp = _mm512_set1_epi32(p.y_zp);
  const __m512i bias0 = _mm512_loadu_si512(p.bias.data() + n0), bias1 = _mm512_loadu_si512(p.bias.data() + n0 + 16);
  const __m512 scale0 = _mm512_loadu_ps(p.scale.data() + n0), scale1 = _mm512_loadu_ps(p.scale.data() + n0 + 16);
  for (size_t r = 0; r < rows; ++r) {
    __m512 f0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_load_si512(&sums[r][0]), bias0)), scale0);
    __m512 f1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_load_si512(&sums[r][16]), bias1)), scale1);
    f0 = _mm512_min_ps(_mm512_max_ps(f0, lo), hi);
    f1 = _mm512_min_ps(_mm512_max_ps(f1, lo), hi);
    const __m512i i0 = _mm512_add_epi32(_mm512_cvtps_epi32(f0), zp), i1 = _mm512_add_epi32(_mm512_cvtps_epi32(f1), zp);
    const __m256i bytes = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm512_cvtepi32_epi8(i0)), _mm512_cvtepi32_epi8(i1), 1);
    _mm256_mask_storeu_epi8(y + r * n + n0, mask, bytes);
  }
}

// Output rows (pixels) [begin, end) of the 1x1 conv: 32 pixels at a time (two tiles of 16; the last step shorter),
// each against the output channels 32 at a time: four independent tiles of sums per chunk of inputs.
NEONN_AMX_TARGET void pointwise_rows(const QPointwiseNhwc& p, const int8_t* x, int8_t* y, size_t begin, size_t end) {
  const size_t k = p.c_in, kc = p.k_chunk, chunks = k / kc, n = p.c_out, pairs = (n + 31) / 32;
  alignas(64) int32_t sums[32][32];
  size_t configured0 = 0, configured1 = 0;
  for (size_t m0 = begin; m0 < end; m0 += 32) {
    const size_t rows0 = std::min<size_t>(16, end - m0), rows1 = m0 + 16 < end ? std::min<size_t>(16, end - m0 - 16) : 0;
    if (rows0 != configured0 || rows1 != configured1) {
      const TileConfig cfg = tile_config(rows0, rows1, kc);
      _tile_loadconfig(&cfg);
      configured0 = rows0, configured1 = rows1;
    }
    const int8_t* a0 = x + m0 * k;
    const int8_t* a1 = a0 + 16 * k;
    for (size_t pair = 0; pair < pairs; ++pair) {
      // Packed weights: per block of 16 output channels, per chunk of kc inputs, kc / 4 rows of 64 bytes.
      const int8_t* b0 = p.w.data() + (2 * pair) * k * 16;
      const int8_t* b1 = b0 + k * 16;
      _tile_zero(0);
      _tile_zero(1);
      if (rows1 > 0) {
        _tile_zero(2);
        _tile_zero(3);
        for (size_t c = 0; c < chunks; ++c) {
          _tile_loadd(4, a0 + c * kc, static_cast<long>(k));
          _tile_loadd(6, b0 + c * kc * 16, 64);
          _tile_loadd(7, b1 + c * kc * 16, 64);
          _tile_loadd(5, a1 + c * kc, static_cast<long>(k));
          _tile_dpbssd(0, 4, 6);
          _tile_dpbssd(1, 4, 7);
          _tile_dpbssd(2, 5, 6);
          _tile_dpbssd(3, 5, 7);
        }
        _tile_stored(2, &sums[16][0], 32 * sizeof(int32_t));
        _tile_stored(3, &sums[16][16], 32 * sizeof(int32_t));
      } else {
        for (size_t c = 0; c < chunks; ++c) {
          _tile_loadd(4, a0 + c * kc, static_cast<long>(k));
          _tile_loadd(6, b0 + c * kc * 16, 64);
          _tile_loadd(7, b1 + c * kc * 16, 64);
          _tile_dpbssd(0, 4, 6);
          _tile_dpbssd(1, 4, 7);
        }
      }
      _tile_stored(0, &sums[0][0], 32 * sizeof(int32_t));
      _tile_stored(1, &sums[0][16], 32 * sizeof(int32_t));
      requantize(p, sums, rows0 + rows1, pair * 32, y + m0 * n);
    }
  }
  _tile_release();
}

}  // namespace
#endif

std::unique_ptr<QPointwiseNhwc> make_qpointwise_nhwc(const QuantConv& c, int32_t x_zp, float x_scale, int32_t y_zp, float y_scale) {
#if NEONN_AMX
  if (c.group != 1 || c.k_h != 1 || c.k_w != 1 || c.stride_h != 1 || c.stride_w != 1 || c.dilation_h != 1 || c.dilation_w != 1 ||
      c.pad_top != 0 || c.pad_left != 0 || c.pad_bottom != 0 || c.pad_right != 0 || c.n <= 0 || c.in_h <= 0 || c.in_w <= 0 ||
      c.out_h != c.in_h || c.out_w != c.in_w || c.c_in <= 0 || c.c_in % 4 != 0 || c.c_out <= 0 ||
      c.w.size() != static_cast<size_t>(c.c_out) * static_cast<size_t>(c.c_in) ||
      (c.w_scale.size() != 1 && c.w_scale.size() != static_cast<size_t>(c.c_out)) ||
      (!c.bias.empty() && c.bias.size() != static_cast<size_t>(c.c_out)) || x_zp < -128 || x_zp > 127 || y_zp < -128 || y_zp > 127 ||
      !amx_int8()) {
    return nullptr;
  }
  auto p = std::make_unique<QPointwiseNhwc>();
  p->pixels = static_cast<size_t>(c.n * c.in_h * c.in_w), p->c_in = static_cast<size_t>(c.c_in), p->c_out = static_cast<size_t>(c.c_out);
  p->y_zp = y_zp;
  // The chunk of inputs a tile takes: the largest multiple of 4 up to 64 that divides c_in (one tile configuration).
  for (size_t kc = 64; kc >= 4; kc -= 4) {
    if (p->c_in % kc == 0) {
      p->k_chunk = kc;
      break;
    }
  }
  const size_t k = p->c_in, n = p->c_out, blocks = (n + 31) / 32 * 2;
  p->w.assign(blocks * 16 * k, 0);
  p->bias.assign(blocks * 16, 0);
  p->scale.assign(blocks * 16, 0.0f);
  for (size_t o = 0; o < n; ++o) {
    // Block o / 16; in it, row i / 4 holds 16 output channels of 4 consecutive inputs each.
    for (size_t i = 0; i < k; ++i) p->w[(o / 16) * 16 * k + (i / 4) * 64 + (o % 16) * 4 + i % 4] = c.w[o * k + i];
    if (!qs8_channel(c, o, k, x_zp, x_scale, y_scale, &p->scale[o], &p->bias[o])) return nullptr;
  }
  p->rows = pointwise_rows;
  return p;
#else
  (void)c, (void)x_zp, (void)x_scale, (void)y_zp, (void)y_scale;
  return nullptr;
#endif
}

}  // namespace xnn
}  // namespace neonn
