// Resize (ONNX opsets 10-19) and Upsample (7, 9): float32, any rank.
//
// Every axis is described once per call by a table of taps: for each output
// index, up to four (input index, weight) pairs and whether the coordinate
// fell outside a tf_crop_and_resize box (extrapolation). The N-linear/cubic
// interpolation is the tensor product of the per-axis taps (what ONNX's
// nested 1-D interpolation amounts to). Axes whose table is the identity
// are skipped, so the hot case — bilinear or nearest over the last two dims
// of NCHW — runs as planes: per output row, two source rows interpolated
// horizontally with precomputed columns and weights, then blended.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "../parallel.h"
#include "kernel.h"

namespace neonn {
namespace {

enum class Mode { kNearest, kLinear, kCubic };
enum class Coord { kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfCropAndResize, kTfHalfPixelForNn };
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };

struct ResizeOpts {
  Mode mode = Mode::kNearest;
  Coord coord = Coord::kHalfPixel;
  Nearest nearest = Nearest::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  float extrapolation = 0.0f;
  bool antialias = false;
};

/// One axis: per output index, `n` taps.
struct AxisTaps {
  int64_t out = 0;
  size_t K = 1;               // tap slots per output index
  std::vector<int64_t> idx;   // out * K
  std::vector<float> w;       // out * K
  std::vector<uint16_t> n;    // taps used
  std::vector<uint8_t> oob;   // 1: extrapolation_value
  bool identity = true;
};

double source_coord(const ResizeOpts& o, double x, double scale, int64_t in, int64_t out, double roi_start, double roi_end) {
  // align_corners and tf_crop_and_resize divide by the unrounded output
  // length in*scale (ONNX's reference and its node tests; = out with sizes).
  const double out_f = scale * static_cast<double>(in);
  switch (o.coord) {
    case Coord::kHalfPixel: return (x + 0.5) / scale - 0.5;
    case Coord::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(out) / (scale * static_cast<double>(in));
      const double center = static_cast<double>(in) / 2;
      const double offset = center * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case Coord::kPytorchHalfPixel: return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case Coord::kAlignCorners: return out == 1 ? 0.0 : x * static_cast<double>(in - 1) / (out_f - 1);
    case Coord::kAsymmetric: return x / scale;
    case Coord::kTfHalfPixelForNn: return (x + 0.5) / scale;
    case Coord::kTfCropAndResize:
      return out > 1 ? roi_start * static_cast<double>(in - 1) + x * (roi_end - roi_start) * static_cast<double>(in - 1) / (out_f - 1)
                     : 0.5 * (roi_start + roi_end) * static_cast<double>(in - 1);
  }
  return 0;
}

int64_t nearest_index(Nearest m, double x, double scale) {
  switch (m) {
    case Nearest::kRoundPreferFloor: return x == std::floor(x) + 0.5 ? static_cast<int64_t>(std::floor(x)) : static_cast<int64_t>(std::round(x));
    case Nearest::kRoundPreferCeil: return static_cast<int64_t>(std::round(x));  // std::round rounds halves away from zero
    case Nearest::kFloor: return static_cast<int64_t>(std::floor(x));
    case Nearest::kCeil: return static_cast<int64_t>(std::ceil(x));
    case Nearest::kSimple: return scale < 1 ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(std::floor(x));
  }
  return 0;
}

/// The cubic convolution kernel of parameter a at distance d.
double cubic_kernel(double a, double d) {
  d = std::fabs(d);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0;
}

/// Antialiasing widens the filter by 1/scale when downscaling (linear, cubic);
/// the taps past this many per output make the call unsupported.
constexpr int64_t kMaxTaps = 256;

AxisTaps make_taps(const KernelCall& c, const ResizeOpts& o, int64_t in, int64_t out, double scale, double roi_start, double roi_end) {
  AxisTaps t;
  t.out = out;
  const size_t n = static_cast<size_t>(out);
  t.n.assign(n, 1);
  t.oob.assign(n, 0);
  t.identity = in == out;
  auto clampi = [in](int64_t i) { return std::min<int64_t>(std::max<int64_t>(i, 0), in - 1); };
  const bool wide = o.antialias && o.mode != Mode::kNearest && scale < 1;
  // Filter support in source pixels, as tap offsets from floor(x): [lo, hi).
  int64_t lo = 0, hi = 1;
  if (o.mode == Mode::kLinear) {
    lo = wide ? static_cast<int64_t>(std::floor(-1 / scale)) + 1 : 0;
    hi = wide ? 2 - lo : 2;
  } else if (o.mode == Mode::kCubic) {
    lo = wide ? static_cast<int64_t>(std::floor(-2 / scale)) + 1 : -1;
    hi = wide ? 2 - lo : 3;
  }
  c.check(hi - lo <= kMaxTaps, "antialias with a scale this small is not supported");
  const double fs = wide ? scale : 1.0;  // the filter is evaluated at distance·scale
  std::vector<std::vector<std::pair<int64_t, double>>> taps(n);
  size_t k_max = 1;
  for (int64_t i = 0; i < out; ++i) {
    double x = source_coord(o, static_cast<double>(i), scale, in, out, roi_start, roi_end);
    if (!std::isfinite(x)) x = 0;
    x = std::max(-1e9, std::min(1e9, x));  // keeps the int conversions defined
    auto& tp = taps[static_cast<size_t>(i)];
    if (o.coord == Coord::kTfCropAndResize && (x < 0 || x > static_cast<double>(in - 1))) {
      t.oob[static_cast<size_t>(i)] = 1;
      t.identity = false;
      tp.push_back({0, 0.0});
      continue;
    }
    if (o.mode == Mode::kNearest) {
      tp.push_back({clampi(nearest_index(o.nearest, x, scale)), 1.0});
    } else {
      const double x0 = std::floor(x);
      const double f = x - x0;
      const int64_t i0 = static_cast<int64_t>(x0);
      std::vector<double> cf;
      double sum = 0;
      for (int64_t k = lo; k < hi; ++k) {
        const double d = (static_cast<double>(k) - f) * fs;
        const double v = o.mode == Mode::kLinear ? std::max(0.0, 1 - std::fabs(d)) : cubic_kernel(o.cubic_a, d);
        cf.push_back(v);
        sum += v;
      }
      if (wide && sum != 0) {
        for (double& v : cf) v /= sum;
      }
      if (o.exclude_outside) {
        double s2 = 0;
        for (int64_t k = lo; k < hi; ++k) {
          const int64_t j = i0 + k;
          if (j < 0 || j >= in) cf[static_cast<size_t>(k - lo)] = 0;
          s2 += cf[static_cast<size_t>(k - lo)];
        }
        if (s2 != 0) {
          for (double& v : cf) v /= s2;
        }
      }
      // Drop taps that weigh nothing (cubic at integral coordinates) and
      // merge taps that clamping sent to one index: fewer taps, and an axis
      // that maps i -> i is seen as the identity.
      for (int64_t k = lo; k < hi; ++k) {
        const double v = cf[static_cast<size_t>(k - lo)];
        if (static_cast<float>(v) == 0.0f) continue;
        const int64_t j = clampi(i0 + k);
        bool merged = false;
        for (auto& e : tp) {
          if (e.first == j) {
            e.second += v;
            merged = true;
          }
        }
        if (!merged) tp.push_back({j, v});
      }
      if (tp.empty()) tp.push_back({clampi(i0), 0.0});
    }
    k_max = std::max(k_max, tp.size());
    if (!(tp.size() == 1 && tp[0].first == i && static_cast<float>(tp[0].second) == 1.0f)) t.identity = false;
  }
  t.K = k_max;
  t.idx.assign(n * k_max, 0);
  t.w.assign(n * k_max, 0.0f);
  for (size_t i = 0; i < n; ++i) {
    const auto& tp = taps[i];
    t.n[i] = static_cast<uint16_t>(tp.size());
    for (size_t k = 0; k < k_max; ++k) {
      t.idx[i * k_max + k] = k < tp.size() ? tp[k].first : tp[0].first;
      t.w[i * k_max + k] = k < tp.size() ? static_cast<float>(tp[k].second) : 0.0f;
    }
  }
  return t;
}

/// The resize of one call: checked geometry.
struct ResizePlan {
  std::vector<int64_t> in_shape, out_shape;
  std::vector<AxisTaps> taps;
};

Mode parse_mode(const KernelCall& c, const std::string& s) {
  if (s == "nearest") return Mode::kNearest;
  if (s == "linear" || s == "bilinear" || s == "trilinear") return Mode::kLinear;
  if (s == "cubic" || s == "bicubic") return Mode::kCubic;
  c.check(false, "mode \"" + s + "\" is not supported");
  return Mode::kNearest;
}

Coord parse_coord(const KernelCall& c, const std::string& s) {
  if (s == "half_pixel") return Coord::kHalfPixel;
  if (s == "half_pixel_symmetric") return Coord::kHalfPixelSymmetric;
  if (s == "pytorch_half_pixel") return Coord::kPytorchHalfPixel;
  if (s == "align_corners") return Coord::kAlignCorners;
  if (s == "asymmetric") return Coord::kAsymmetric;
  if (s == "tf_crop_and_resize") return Coord::kTfCropAndResize;
  if (s == "tf_half_pixel_for_nn") return Coord::kTfHalfPixelForNn;
  c.check(false, "coordinate_transformation_mode \"" + s + "\" is not supported");
  return Coord::kHalfPixel;
}

Nearest parse_nearest(const KernelCall& c, const std::string& s) {
  if (s == "round_prefer_floor") return Nearest::kRoundPreferFloor;
  if (s == "round_prefer_ceil") return Nearest::kRoundPreferCeil;
  if (s == "floor") return Nearest::kFloor;
  if (s == "ceil") return Nearest::kCeil;
  if (s == "simple") return Nearest::kSimple;
  c.check(false, "nearest_mode \"" + s + "\" is not supported");
  return Nearest::kFloor;
}

void run_plan(const KernelCall& c, const ResizePlan& p, const ResizeOpts& o) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  const float* px = x.as<float>();
  float* py = y.as<float>();
  const size_t rank = p.in_shape.size();
  const size_t total = y.count();
  if (total == 0) return;
  c.check(x.count() > 0, "cannot resize an empty input to a non-empty output");
  const std::vector<int64_t> in_strides = strides_of(p.in_shape);

  // Leading identity axes become one "plane" index; the rest are resized.
  size_t lead = 0;
  while (lead < rank && p.taps[lead].identity) ++lead;
  size_t planes = 1;
  for (size_t a = 0; a < lead; ++a) planes *= static_cast<size_t>(p.out_shape[a]);
  const size_t tail = rank - lead;
  if (tail == 0) {  // every axis maps i -> i
    std::memcpy(py, px, total * sizeof(float));
    return;
  }

  if (tail <= 2) {
    // Planes of [H, W] (H = 1 when only the last axis is resized).
    const int64_t ih = tail == 2 ? p.in_shape[rank - 2] : 1, iw = p.in_shape[rank - 1];
    const int64_t oh = tail == 2 ? p.out_shape[rank - 2] : 1, ow = p.out_shape[rank - 1];
    AxisTaps rows;
    if (tail == 2) {
      rows = p.taps[rank - 2];
    } else {
      rows.out = 1;
      rows.K = 1;
      rows.idx.assign(1, 0);
      rows.w.assign(1, 1.0f);
      rows.n.assign(1, 1);
      rows.oob.assign(1, 0);
    }
    const AxisTaps& cols = p.taps[rank - 1];
    // Columns as nt gathers and weights (unused taps: weight 0, index of tap 0).
    const size_t nt = cols.K, rk = rows.K;
    std::vector<int32_t> ci(static_cast<size_t>(ow) * nt);
    std::vector<float> cwt(static_cast<size_t>(ow) * nt);
    bool any_col_oob = false;
    for (int64_t j = 0; j < ow; ++j) {
      const size_t s = static_cast<size_t>(j);
      for (size_t k = 0; k < nt; ++k) {
        const bool used = k < cols.n[s];
        ci[s * nt + k] = static_cast<int32_t>(used ? cols.idx[s * nt + k] : cols.idx[s * nt]);
        cwt[s * nt + k] = used ? cols.w[s * nt + k] : 0.0f;
      }
      if (cols.oob[s]) any_col_oob = true;
    }
    const size_t items = planes * static_cast<size_t>(oh);
    parallel_for(items, parallel_grain(static_cast<size_t>(ow) * 4 * nt), [&](size_t b, size_t e) {
      // Horizontally interpolated source rows, cached by (plane, row): an
      // upsampling by 2 reads each source row for about four output rows
      // (bilinear), eight (bicubic).
      const int kSlots = static_cast<int>(std::max<size_t>(8, 2 * rk + 2));
      std::vector<float> hbuf(static_cast<size_t>(ow) * static_cast<size_t>(kSlots));
      std::vector<int64_t> hkey(static_cast<size_t>(kSlots), -1);
      int victim = 0;
      auto hrow = [&](const float* src, float* dst) {
        if (nt == 1) {
          for (int64_t j = 0; j < ow; ++j) dst[j] = src[ci[static_cast<size_t>(j)]];
        } else if (nt == 2) {
          for (int64_t j = 0; j < ow; ++j) {
            const size_t q = static_cast<size_t>(j) * 2;
            const float a = src[ci[q]], bb = src[ci[q + 1]];
            dst[j] = a + cwt[q + 1] * (bb - a);
          }
        } else {
          for (int64_t j = 0; j < ow; ++j) {
            const size_t q = static_cast<size_t>(j) * nt;
            float acc = 0;
            for (size_t k = 0; k < nt; ++k) acc += cwt[q + k] * src[ci[q + k]];
            dst[j] = acc;
          }
        }
      };
      std::vector<int64_t> need(rk);
      std::vector<const float*> hp(rk);
      auto fetch = [&](size_t plane, int64_t row, const float* src, int nneed) -> const float* {
        const int64_t key = static_cast<int64_t>(plane) * ih + row;
        for (int i = 0; i < kSlots; ++i) {
          if (hkey[static_cast<size_t>(i)] == key) return &hbuf[static_cast<size_t>(i) * static_cast<size_t>(ow)];
        }
        // Evict round-robin, never a row this output row already holds.
        for (;;) {
          const int slot = victim;
          victim = (victim + 1) % kSlots;
          bool busy = false;
          for (int k = 0; k < nneed; ++k) busy = busy || hkey[static_cast<size_t>(slot)] == need[static_cast<size_t>(k)];
          if (busy) continue;
          hkey[static_cast<size_t>(slot)] = key;
          float* dst = &hbuf[static_cast<size_t>(slot) * static_cast<size_t>(ow)];
          hrow(src + row * iw, dst);
          return dst;
        }
      };
      for (size_t it = b; it < e; ++it) {
        const size_t plane = it / static_cast<size_t>(oh);
        const size_t r = it % static_cast<size_t>(oh);
        const float* src = px + plane * static_cast<size_t>(ih * iw);
        float* dst = py + plane * static_cast<size_t>(oh * ow) + r * static_cast<size_t>(ow);
        if (rows.oob[r]) {
          std::fill(dst, dst + ow, o.extrapolation);
          continue;
        }
        const int rn = rows.n[r];
        if (rn == 1) {
          const int64_t r0 = rows.idx[r * rk];
          if (it > b && r > 0 && !rows.oob[r - 1] && rows.n[r - 1] == 1 && rows.idx[(r - 1) * rk] == r0) {
            std::memcpy(dst, dst - ow, static_cast<size_t>(ow) * sizeof(float));  // nearest: the same source row again
          } else {
            hrow(src + r0 * iw, dst);
          }
        } else {
          for (int k = 0; k < rn; ++k) {
            const size_t q = r * rk + static_cast<size_t>(k);
            hp[static_cast<size_t>(k)] = fetch(plane, rows.idx[q], src, k);
            need[static_cast<size_t>(k)] = static_cast<int64_t>(plane) * ih + rows.idx[q];
          }
          const float* wr = &rows.w[r * rk];
          if (rn == 2) {
            const float wy = wr[1];
            const float* a = hp[0];
            const float* bb = hp[1];
            for (int64_t j = 0; j < ow; ++j) dst[j] = a[j] + wy * (bb[j] - a[j]);
          } else if (rn <= 4) {
            const float w0 = wr[0], w1 = wr[1], w2 = rn > 2 ? wr[2] : 0.0f, w3 = rn > 3 ? wr[3] : 0.0f;
            const float *a0 = hp[0], *a1 = hp[1], *a2 = rn > 2 ? hp[2] : hp[0], *a3 = rn > 3 ? hp[3] : hp[0];
            for (int64_t j = 0; j < ow; ++j) dst[j] = w0 * a0[j] + w1 * a1[j] + w2 * a2[j] + w3 * a3[j];
          } else {
            for (int64_t j = 0; j < ow; ++j) dst[j] = wr[0] * hp[0][j];
            for (int k = 1; k < rn; ++k) {
              const float wk = wr[k];
              const float* a = hp[static_cast<size_t>(k)];
              for (int64_t j = 0; j < ow; ++j) dst[j] += wk * a[j];
            }
          }
        }
        if (any_col_oob) {
          for (int64_t j = 0; j < ow; ++j) {
            if (cols.oob[static_cast<size_t>(j)]) dst[j] = o.extrapolation;
          }
        }
      }
    });
    return;
  }

  // General: every output element as the tensor product of its axes' taps.
  const int64_t last_out = p.out_shape[rank - 1];
  const size_t rows_n = total / static_cast<size_t>(last_out);
  parallel_for(rows_n, parallel_grain(static_cast<size_t>(last_out) * 16), [&](size_t b, size_t e) {
    std::vector<int64_t> oi(rank, 0);
    std::vector<int> k(rank, 0);
    for (size_t row = b; row < e; ++row) {
      size_t rem = row;
      for (size_t a = rank - 1; a-- > 0;) {
        oi[a] = static_cast<int64_t>(rem % static_cast<size_t>(p.out_shape[a]));
        rem /= static_cast<size_t>(p.out_shape[a]);
      }
      bool row_oob = false;
      for (size_t a = 0; a + 1 < rank; ++a) row_oob = row_oob || p.taps[a].oob[static_cast<size_t>(oi[a])];
      float* dst = py + row * static_cast<size_t>(last_out);
      for (int64_t j = 0; j < last_out; ++j) {
        oi[rank - 1] = j;
        if (row_oob || p.taps[rank - 1].oob[static_cast<size_t>(j)]) {
          dst[j] = o.extrapolation;
          continue;
        }
        // Odometer over the taps of every axis.
        std::fill(k.begin(), k.end(), 0);
        double acc = 0;
        for (;;) {
          double w = 1;
          int64_t off = 0;
          for (size_t a = 0; a < rank; ++a) {
            const size_t s = static_cast<size_t>(oi[a]) * p.taps[a].K + static_cast<size_t>(k[a]);
            w *= p.taps[a].w[s];
            off += p.taps[a].idx[s] * in_strides[a];
          }
          if (w != 0) acc += w * px[off];
          size_t a = rank;
          while (a-- > 0) {
            if (++k[a] < p.taps[a].n[static_cast<size_t>(oi[a])]) break;
            k[a] = 0;
          }
          if (a == static_cast<size_t>(-1)) break;
        }
        dst[j] = static_cast<float>(acc);
      }
    }
  });
}

/// Scales (or sizes) per axis from the inputs, checked; fills the plan's shapes and taps.
void resize_common(const KernelCall& c, const ResizeOpts& o, const std::vector<double>& roi_in, std::vector<double> scales_in,
                   std::vector<int64_t> sizes_in, bool has_sizes) {
  const TensorRef& x = c.in(0);
  const TensorRef& y = c.out(0);
  c.expect_dtype(x, DType::kFloat32, "X");
  c.expect_dtype(y, DType::kFloat32, "Y");
  const int64_t rank = static_cast<int64_t>(x.rank());
  c.check(rank >= 1, "X must have at least one dimension");
  std::vector<int64_t> axes;
  if (c.has_attr("axes")) {
    for (int64_t a : c.attr_ints("axes")) {
      const int64_t n = normalize_axis(a, rank, c.op);
      c.check(std::find(axes.begin(), axes.end(), n) == axes.end(), "axes must not repeat");
      axes.push_back(n);
    }
  } else {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  }
  const size_t na = axes.size();
  std::vector<double> scale(static_cast<size_t>(rank), 1.0);
  std::vector<int64_t> out(x.shape);
  if (has_sizes) {
    c.check(sizes_in.size() == na, "sizes must have " + std::to_string(na) + " values, got " + std::to_string(sizes_in.size()));
    for (int64_t s : sizes_in) c.check(s >= 0 && s <= (int64_t{1} << 31), "sizes must be non-negative");
    const std::string policy = c.has_attr("keep_aspect_ratio_policy") ? c.attr_string("keep_aspect_ratio_policy") : "stretch";
    if (policy == "stretch") {
      for (size_t i = 0; i < na; ++i) {
        const size_t a = static_cast<size_t>(axes[i]);
        out[a] = sizes_in[i];
        scale[a] = x.shape[a] == 0 ? 1.0 : static_cast<double>(sizes_in[i]) / static_cast<double>(x.shape[a]);
      }
    } else {
      c.check(policy == "not_larger" || policy == "not_smaller", "keep_aspect_ratio_policy \"" + policy + "\" is not supported");
      double s = policy == "not_larger" ? INFINITY : 0;
      for (size_t i = 0; i < na; ++i) {
        const int64_t d = x.shape[static_cast<size_t>(axes[i])];
        c.check(d > 0, "keep_aspect_ratio_policy needs non-empty resized axes");
        const double r = static_cast<double>(sizes_in[i]) / static_cast<double>(d);
        s = policy == "not_larger" ? std::min(s, r) : std::max(s, r);
      }
      for (size_t i = 0; i < na; ++i) {
        const size_t a = static_cast<size_t>(axes[i]);
        out[a] = static_cast<int64_t>(std::floor(s * static_cast<double>(x.shape[a]) + 0.5));
        scale[a] = s;
      }
    }
  } else {
    c.check(scales_in.size() == na, "scales must have " + std::to_string(na) + " values, got " + std::to_string(scales_in.size()));
    for (size_t i = 0; i < na; ++i) {
      const double s = scales_in[i];
      c.check(std::isfinite(s) && s > 0, "scales must be positive");
      const size_t a = static_cast<size_t>(axes[i]);
      const double d = std::floor(static_cast<double>(x.shape[a]) * s);
      c.check(d <= 2147483647.0, "output is too large");
      out[a] = static_cast<int64_t>(d);
      scale[a] = s;
    }
  }
  c.expect_out_shape(0, out);
  std::vector<double> roi_start(static_cast<size_t>(rank), 0.0), roi_end(static_cast<size_t>(rank), 1.0);
  if (o.coord == Coord::kTfCropAndResize) {
    c.check(roi_in.size() == 2 * na, "roi must have " + std::to_string(2 * na) + " values for tf_crop_and_resize, got " + std::to_string(roi_in.size()));
    for (size_t i = 0; i < na; ++i) {
      roi_start[static_cast<size_t>(axes[i])] = roi_in[i];
      roi_end[static_cast<size_t>(axes[i])] = roi_in[na + i];
    }
  }
  ResizePlan p;
  p.in_shape = x.shape;
  p.out_shape = out;
  for (int64_t a = 0; a < rank; ++a) {
    const size_t s = static_cast<size_t>(a);
    if (out[s] == 0 || x.shape[s] == 0) {
      AxisTaps t;
      t.out = out[s];
      t.identity = out[s] == x.shape[s];
      p.taps.push_back(std::move(t));
      continue;
    }
    p.taps.push_back(make_taps(c, o, x.shape[s], out[s], scale[s], roi_start[s], roi_end[s]));
  }
  if (y.count() == 0) return;
  run_plan(c, p, o);
}

ResizeOpts read_opts(const KernelCall& c) {
  ResizeOpts o;
  o.mode = parse_mode(c, c.has_attr("mode") ? c.attr_string("mode") : "nearest");
  o.coord = parse_coord(c, c.has_attr("coordinate_transformation_mode") ? c.attr_string("coordinate_transformation_mode") : "half_pixel");
  o.nearest = parse_nearest(c, c.has_attr("nearest_mode") ? c.attr_string("nearest_mode") : "round_prefer_floor");
  o.cubic_a = c.attr_float("cubic_coeff_a", -0.75);
  o.exclude_outside = c.attr_int("exclude_outside", 0) != 0;
  o.extrapolation = static_cast<float>(c.attr_float("extrapolation_value", 0.0));
  o.antialias = c.attr_int("antialias", 0) != 0;
  return o;
}

void resize(const KernelCall& c) {
  const ResizeOpts o = read_opts(c);
  std::vector<double> roi, scales;
  std::vector<int64_t> sizes;
  if (const TensorRef* r = c.opt_in(1)) roi = c.float_values(*r, "roi");
  if (const TensorRef* s = c.opt_in(2)) scales = c.float_values(*s, "scales");
  const TensorRef* z = c.opt_in(3);
  if (z) sizes = c.int_values(*z, "sizes");
  const bool has_sizes = z != nullptr && z->count() > 0;
  c.check(has_sizes != !scales.empty(), "exactly one of scales and sizes must be given");
  resize_common(c, o, roi, scales, sizes, has_sizes);
}

/// Upsample (opset 9 form: X, scales): Resize with asymmetric coordinates.
void upsample(const KernelCall& c) {
  ResizeOpts o;
  o.mode = parse_mode(c, c.has_attr("mode") ? c.attr_string("mode") : "nearest");
  o.coord = Coord::kAsymmetric;
  o.nearest = Nearest::kSimple;
  const std::vector<double> scales = c.float_values(c.in(1), "scales");
  resize_common(c, o, {}, scales, {}, false);
}

}  // namespace

NEONN_KERNEL(Resize, resize);
NEONN_KERNEL(Upsample, upsample);

}  // namespace neonn
