// MaxPool (with the optional int64 Indices), AveragePool, LpPool and the
// global pools over 1-3 spatial dims, float32 NC[D][H]W, ONNX semantics.
// Reference loops, parallel over (n, c) planes: the planner sends 2-D
// MaxPool/AveragePool/GlobalAveragePool to the hand-tuned pool family.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../parallel.h"
#include "kernel.h"
#include "spatial_geom.h"

namespace neonn {
namespace {

using spatial::Geom;

enum class Kind { kMax, kAvg, kLp };

struct PoolSetup {
  Geom g;
  int64_t planes = 0;  // N·C
};

PoolSetup pool_setup(const KernelCall& c, bool ceil_allowed, DType dtype) {
  const TensorRef& x = c.in(0);
  c.expect_dtype(x, dtype, "X");
  c.expect_dtype(c.out(0), dtype, "Y");
  c.check(x.rank() >= 3 && x.rank() <= 5, "X must have 3 to 5 dims (N, C and 1-3 spatial), got " + std::to_string(x.rank()));
  const std::vector<int64_t> spatial_in(x.shape.begin() + 2, x.shape.end());
  c.check(c.has_attr("kernel_shape"), "attribute \"kernel_shape\" is required");
  PoolSetup p;
  p.g = spatial::forward_geom(c, spatial_in, c.attr_ints("kernel_shape"), ceil_allowed);
  std::vector<int64_t> out{x.shape[0], x.shape[1]};
  for (size_t i = 3 - p.g.rank; i < 3; ++i) out.push_back(p.g.out[i]);
  c.expect_out_shape(0, out);
  p.planes = x.shape[0] * x.shape[1];
  return p;
}

/// T: float32 for every kind; uint8 and int8 for max (exact in float).
template <typename T>
void pool_t(const KernelCall& c, Kind kind, DType dtype) {
  const PoolSetup p = pool_setup(c, true, dtype);
  const Geom& g = p.g;
  const T* x = c.in(0).as<T>();
  T* y = c.out(0).as<T>();
  int64_t* ind = nullptr;
  bool col_major = false;
  if (kind == Kind::kMax && c.num_outputs() > 1 && c.outputs[1].present()) {
    c.expect_dtype(c.out(1), DType::kInt64, "Indices");
    c.expect_out_shape(1, c.out(0).shape);
    ind = c.out(1).as<int64_t>();
    col_major = c.attr_int("storage_order", 0) != 0;
  }
  const bool include_pad = c.attr_int("count_include_pad", 0) != 0;
  const double pw = kind == Kind::kLp ? static_cast<double>(c.attr_int("p", 2)) : 2.0;
  if (kind == Kind::kLp) c.check(pw >= 1, "p must be at least 1");
  const int64_t p_in = g.in_size(), p_out = g.out_size();
  parallel_for(static_cast<size_t>(p.planes), parallel_grain(static_cast<size_t>(p_out * g.k_size())), [&](size_t lo, size_t hi) {
    for (size_t plane = lo; plane < hi; ++plane) {
      const T* xp = x + plane * static_cast<size_t>(p_in);
      T* yp = y + plane * static_cast<size_t>(p_out);
      for (int64_t od = 0; od < g.out[0]; ++od) {
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            const int64_t d0 = od * g.s[0] - g.pb[0], h0 = oh * g.s[1] - g.pb[1], w0 = ow * g.s[2] - g.pb[2];
            double acc = 0;
            float best = -std::numeric_limits<float>::infinity();
            int64_t best_at = -1, count = 0, padded = 0;
            for (int64_t kd = 0; kd < g.k[0]; ++kd) {
              const int64_t id = d0 + kd * g.d[0];
              const bool din = id >= 0 && id < g.in[0];
              const bool dpad = id >= -g.pb[0] && id < g.in[0] + g.pe[0];
              for (int64_t kh = 0; kh < g.k[1]; ++kh) {
                const int64_t ih = h0 + kh * g.d[1];
                const bool hin = din && ih >= 0 && ih < g.in[1];
                const bool hpad = dpad && ih >= -g.pb[1] && ih < g.in[1] + g.pe[1];
                for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                  const int64_t iw = w0 + kw * g.d[2];
                  if (hpad && iw >= -g.pb[2] && iw < g.in[2] + g.pe[2]) ++padded;
                  if (!hin || iw < 0 || iw >= g.in[2]) continue;
                  const int64_t at = (id * g.in[1] + ih) * g.in[2] + iw;
                  const float v = static_cast<float>(xp[at]);
                  ++count;
                  if (kind == Kind::kMax) {
                    if (v > best || best_at < 0) {
                      best = v;
                      best_at = at;
                    }
                  } else if (kind == Kind::kAvg) {
                    acc += v;
                  } else {
                    acc += std::pow(std::fabs(static_cast<double>(v)), pw);
                  }
                }
              }
            }
            const int64_t o = (od * g.out[1] + oh) * g.out[2] + ow;
            if (kind == Kind::kMax) {
              yp[o] = static_cast<T>(best_at < 0 ? 0.0f : best);
              if (ind) {
                int64_t at = best_at < 0 ? 0 : best_at;
                if (col_major) {
                  const int64_t iw = at % g.in[2], ih = (at / g.in[2]) % g.in[1], id = at / (g.in[2] * g.in[1]);
                  // The spatial dims as given (1-3), first one fastest.
                  if (g.rank == 1) at = iw;
                  else if (g.rank == 2) at = ih + iw * g.in[1];
                  else at = id + ih * g.in[0] + iw * g.in[0] * g.in[1];
                }
                ind[plane * static_cast<size_t>(p_out) + static_cast<size_t>(o)] = static_cast<int64_t>(plane) * p_in + at;
              }
            } else if (kind == Kind::kAvg) {
              const int64_t div = include_pad ? padded : count;
              yp[o] = static_cast<T>(div > 0 ? acc / static_cast<double>(div) : 0.0);
            } else {
              yp[o] = static_cast<T>(std::pow(acc, 1.0 / pw));
            }
          }
        }
      }
    }
  });
}

void global_pool(const KernelCall& c, Kind kind) {
  const TensorRef& x = c.in(0);
  c.expect_dtype(x, DType::kFloat32, "X");
  c.expect_dtype(c.out(0), DType::kFloat32, "Y");
  c.check(x.rank() >= 3, "X must have at least 3 dims (N, C, spatial...), got " + std::to_string(x.rank()));
  std::vector<int64_t> out{x.shape[0], x.shape[1]};
  size_t plane = 1;
  for (size_t i = 2; i < x.rank(); ++i) {
    out.push_back(1);
    plane *= static_cast<size_t>(x.shape[i]);
  }
  c.expect_out_shape(0, out);
  const double pw = kind == Kind::kLp ? static_cast<double>(c.attr_int("p", 2)) : 2.0;
  if (kind == Kind::kLp) c.check(pw >= 1, "p must be at least 1");
  const float* px = x.as<float>();
  float* py = c.out(0).as<float>();
  const size_t planes = static_cast<size_t>(x.shape[0] * x.shape[1]);
  parallel_for(planes, parallel_grain(plane), [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) {
      const float* p = px + i * plane;
      if (kind == Kind::kMax) {
        float m = plane ? p[0] : 0.0f;
        for (size_t j = 1; j < plane; ++j) m = std::max(m, p[j]);
        py[i] = m;
      } else if (kind == Kind::kAvg) {
        double s = 0;
        for (size_t j = 0; j < plane; ++j) s += p[j];
        py[i] = plane ? static_cast<float>(s / static_cast<double>(plane)) : 0.0f;
      } else {
        double s = 0;
        for (size_t j = 0; j < plane; ++j) s += std::pow(std::fabs(static_cast<double>(p[j])), pw);
        py[i] = static_cast<float>(std::pow(s, 1.0 / pw));
      }
    }
  });
}

void max_pool(const KernelCall& c) {
  const DType t = c.in(0).dtype;
  if (t == DType::kUint8) return pool_t<uint8_t>(c, Kind::kMax, t);
  if (t == DType::kInt8) return pool_t<int8_t>(c, Kind::kMax, t);
  pool_t<float>(c, Kind::kMax, DType::kFloat32);
}
void average_pool(const KernelCall& c) { pool_t<float>(c, Kind::kAvg, DType::kFloat32); }
void lp_pool(const KernelCall& c) { pool_t<float>(c, Kind::kLp, DType::kFloat32); }
void global_max_pool(const KernelCall& c) { global_pool(c, Kind::kMax); }
void global_average_pool(const KernelCall& c) { global_pool(c, Kind::kAvg); }
void global_lp_pool(const KernelCall& c) { global_pool(c, Kind::kLp); }

}  // namespace

NEONN_KERNEL(MaxPool, max_pool);
NEONN_KERNEL(AveragePool, average_pool);
NEONN_KERNEL(LpPool, lp_pool);
NEONN_KERNEL(GlobalMaxPool, global_max_pool);
NEONN_KERNEL(GlobalAveragePool, global_average_pool);
NEONN_KERNEL(GlobalLpPool, global_lp_pool);

}  // namespace neonn
