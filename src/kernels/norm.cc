// InstanceNormalization, LayerNormalization (with Mean and InvStdDev),
// GroupNormalization (opset 18's per-group and 21's per-channel scale) and
// MeanVarianceNormalization: float32, statistics accumulated in double over
// contiguous blocks, parallel over blocks (thread count does not change the
// result).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../parallel.h"
#include "kernel.h"

namespace neonn {
namespace {

/// Mean and 1/sqrt(var + eps) of one block of n floats (population variance).
inline void block_stats(const float* p, size_t n, double eps, double& mean, double& inv) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += p[i];
  mean = n ? s / static_cast<double>(n) : 0.0;
  double v = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = p[i] - mean;
    v += d * d;
  }
  v = n ? v / static_cast<double>(n) : 0.0;
  inv = 1.0 / std::sqrt(v + eps);
}

void check_channel_vec(const KernelCall& c, size_t i, int64_t len, const char* what) {
  const TensorRef& t = c.in(i);
  c.expect_dtype(t, DType::kFloat32, what);
  c.check(t.rank() == 1 && t.shape[0] == len, std::string(what) + " must have shape [" + std::to_string(len) + "]");
}

void instance_norm(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  c.expect_dtype(x, DType::kFloat32, "input");
  c.expect_dtype(c.out(0), DType::kFloat32, "output");
  c.check(x.rank() >= 2, "input must have at least 2 dims (N, C, ...)");
  const int64_t ch = x.shape[1];
  check_channel_vec(c, 1, ch, "scale");
  check_channel_vec(c, 2, ch, "B");
  c.expect_out_shape(0, x.shape);
  const double eps = c.attr_float("epsilon", 1e-5);
  const size_t plane = ch == 0 || x.shape[0] == 0 ? 0 : x.count() / static_cast<size_t>(x.shape[0] * ch);
  const size_t blocks = static_cast<size_t>(x.shape[0] * ch);
  const float* px = x.as<float>();
  const float* sc = c.in(1).as<float>();
  const float* bi = c.in(2).as<float>();
  float* py = c.out(0).as<float>();
  parallel_for(blocks, parallel_grain(plane * 3), [&](size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; ++b) {
      double mean, inv;
      const float* p = px + b * plane;
      block_stats(p, plane, eps, mean, inv);
      const size_t k = b % static_cast<size_t>(ch);
      const double a = sc[k] * inv, off = bi[k] - mean * a;
      for (size_t i = 0; i < plane; ++i) py[b * plane + i] = static_cast<float>(p[i] * a + off);
    }
  });
}

void layer_norm(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  c.expect_dtype(x, DType::kFloat32, "X");
  c.expect_dtype(c.out(0), DType::kFloat32, "Y");
  const int64_t rank = static_cast<int64_t>(x.rank());
  c.check(rank >= 1, "X must have at least one dim");
  const int64_t axis = normalize_axis(c.attr_int("axis", -1), rank, c.op);
  const double eps = c.attr_float("epsilon", 1e-5);
  const std::vector<int64_t> norm_shape(x.shape.begin() + axis, x.shape.end());
  size_t inner = 1;
  for (int64_t d : norm_shape) inner *= static_cast<size_t>(d);
  const size_t outer = inner == 0 ? 0 : x.count() / inner;
  // Scale and B broadcast onto X.shape[axis:] (unidirectionally).
  auto bstrides = [&](const TensorRef& t, const char* what) {
    c.expect_dtype(t, DType::kFloat32, what);
    c.check(t.rank() <= norm_shape.size(), std::string(what) + " must broadcast to X.shape[axis:]");
    for (size_t i = 0; i < t.rank(); ++i) {
      const int64_t d = t.shape[t.rank() - 1 - i], n = norm_shape[norm_shape.size() - 1 - i];
      c.check(d == n || d == 1, std::string(what) + " must broadcast to X.shape[axis:]");
    }
    return broadcast_strides(t.shape, norm_shape);
  };
  const TensorRef& scale = c.in(1);
  const std::vector<int64_t> ss = bstrides(scale, "Scale");
  const TensorRef* bias = c.opt_in(2);
  std::vector<int64_t> bs;
  if (bias) bs = bstrides(*bias, "B");
  c.expect_out_shape(0, x.shape);
  std::vector<int64_t> stat_shape(x.shape.begin(), x.shape.begin() + axis);
  stat_shape.resize(static_cast<size_t>(rank), 1);
  float* mean_out = nullptr;
  float* inv_out = nullptr;
  if (c.num_outputs() > 1 && c.outputs[1].present()) {
    c.expect_dtype(c.out(1), DType::kFloat32, "Mean");
    c.expect_out_shape(1, stat_shape);
    mean_out = c.out(1).as<float>();
  }
  if (c.num_outputs() > 2 && c.outputs[2].present()) {
    c.expect_dtype(c.out(2), DType::kFloat32, "InvStdDev");
    c.expect_out_shape(2, stat_shape);
    inv_out = c.out(2).as<float>();
  }
  // Per-element offsets of Scale/B within the normalized block (same for every block).
  std::vector<size_t> soff(inner), boff(bias ? inner : 0);
  {
    const size_t r = norm_shape.size();
    std::vector<int64_t> idx(r, 0);
    for (size_t i = 0; i < inner; ++i) {
      int64_t so = 0, bo = 0;
      for (size_t a = 0; a < r; ++a) {
        so += idx[a] * ss[a];
        if (bias) bo += idx[a] * bs[a];
      }
      soff[i] = static_cast<size_t>(so);
      if (bias) boff[i] = static_cast<size_t>(bo);
      for (size_t a = r; a-- > 0;) {
        if (++idx[a] < norm_shape[a]) break;
        idx[a] = 0;
      }
    }
  }
  const float* px = x.as<float>();
  const float* sc = scale.as<float>();
  const float* bi = bias ? bias->as<float>() : nullptr;
  float* py = c.out(0).as<float>();
  parallel_for(outer, parallel_grain(inner * 4), [&](size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; ++b) {
      double mean, inv;
      const float* p = px + b * inner;
      block_stats(p, inner, eps, mean, inv);
      float* q = py + b * inner;
      for (size_t i = 0; i < inner; ++i) {
        const double v = (p[i] - mean) * inv * sc[soff[i]];
        q[i] = static_cast<float>(bi ? v + bi[boff[i]] : v);
      }
      if (mean_out) mean_out[b] = static_cast<float>(mean);
      if (inv_out) inv_out[b] = static_cast<float>(inv);
    }
  });
}

void group_norm(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  c.expect_dtype(x, DType::kFloat32, "X");
  c.expect_dtype(c.out(0), DType::kFloat32, "Y");
  c.check(x.rank() >= 2, "X must have at least 2 dims (N, C, ...)");
  const int64_t ch = x.shape[1];
  const int64_t groups = c.attr_int("num_groups");
  c.check(groups >= 1 && ch % groups == 0, "channels (" + std::to_string(ch) + ") must be divisible by num_groups (" + std::to_string(groups) + ")");
  const TensorRef& scale = c.in(1);
  const TensorRef& bias = c.in(2);
  c.expect_dtype(scale, DType::kFloat32, "scale");
  c.expect_dtype(bias, DType::kFloat32, "bias");
  c.check(scale.rank() == 1 && bias.rank() == 1 && scale.shape[0] == bias.shape[0] && (scale.shape[0] == ch || scale.shape[0] == groups),
          "scale and bias must have shape [C] (" + std::to_string(ch) + ") or [num_groups] (" + std::to_string(groups) + ")");
  const bool per_channel = scale.shape[0] == ch;
  c.expect_out_shape(0, x.shape);
  const double eps = c.attr_float("epsilon", 1e-5);
  const size_t n = static_cast<size_t>(x.shape[0]);
  const size_t plane = ch == 0 || n == 0 ? 0 : x.count() / (n * static_cast<size_t>(ch));
  const size_t cpg = static_cast<size_t>(ch / groups);
  const size_t block = cpg * plane;
  const float* px = x.as<float>();
  const float* sc = scale.as<float>();
  const float* bi = bias.as<float>();
  float* py = c.out(0).as<float>();
  parallel_for(n * static_cast<size_t>(groups), parallel_grain(block * 3), [&](size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; ++b) {
      double mean, inv;
      const float* p = px + b * block;
      block_stats(p, block, eps, mean, inv);
      const size_t g = b % static_cast<size_t>(groups);
      for (size_t k = 0; k < cpg; ++k) {
        const size_t si = per_channel ? g * cpg + k : g;
        const double a = sc[si] * inv, off = bi[si] - mean * a;
        for (size_t i = 0; i < plane; ++i) py[b * block + k * plane + i] = static_cast<float>(p[k * plane + i] * a + off);
      }
    }
  });
}

/// (X - mean) / (sqrt(var) + 1e-9) over `axes` (ONNX's function body).
void mean_variance_norm(const KernelCall& c) {
  const TensorRef& x = c.in(0);
  c.expect_dtype(x, DType::kFloat32, "X");
  c.expect_dtype(c.out(0), DType::kFloat32, "Y");
  c.expect_out_shape(0, x.shape);
  const int64_t rank = static_cast<int64_t>(x.rank());
  std::vector<int64_t> axes = c.has_attr("axes") ? c.attr_ints("axes") : std::vector<int64_t>{0, 2, 3};
  std::vector<bool> red(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    const int64_t n = normalize_axis(a, rank, c.op);
    red[static_cast<size_t>(n)] = true;
  }
  // Kept axes index the statistics; reduced axes are walked per statistic.
  std::vector<int64_t> kept_dims, red_dims, kept_str, red_str;
  const std::vector<int64_t> str = strides_of(x.shape);
  for (int64_t a = 0; a < rank; ++a) {
    (red[static_cast<size_t>(a)] ? red_dims : kept_dims).push_back(x.shape[static_cast<size_t>(a)]);
    (red[static_cast<size_t>(a)] ? red_str : kept_str).push_back(str[static_cast<size_t>(a)]);
  }
  size_t nk = 1, nr = 1;
  for (int64_t d : kept_dims) nk *= static_cast<size_t>(d);
  for (int64_t d : red_dims) nr *= static_cast<size_t>(d);
  if (x.count() == 0) return;
  std::vector<size_t> roff(nr);
  {
    std::vector<int64_t> idx(red_dims.size(), 0);
    for (size_t i = 0; i < nr; ++i) {
      int64_t o = 0;
      for (size_t a = 0; a < idx.size(); ++a) o += idx[a] * red_str[a];
      roff[i] = static_cast<size_t>(o);
      for (size_t a = idx.size(); a-- > 0;) {
        if (++idx[a] < red_dims[a]) break;
        idx[a] = 0;
      }
    }
  }
  const float* px = x.as<float>();
  float* py = c.out(0).as<float>();
  parallel_for(nk, parallel_grain(nr * 4), [&](size_t lo, size_t hi) {
    for (size_t k = lo; k < hi; ++k) {
      size_t rem = k;
      int64_t base = 0;
      for (size_t a = kept_dims.size(); a-- > 0;) {
        base += static_cast<int64_t>(rem % static_cast<size_t>(kept_dims[a])) * kept_str[a];
        rem /= static_cast<size_t>(kept_dims[a]);
      }
      double s = 0;
      for (size_t i = 0; i < nr; ++i) s += px[static_cast<size_t>(base) + roff[i]];
      const double mean = s / static_cast<double>(nr);
      double v = 0;
      for (size_t i = 0; i < nr; ++i) {
        const double d = px[static_cast<size_t>(base) + roff[i]] - mean;
        v += d * d;
      }
      const double den = std::sqrt(v / static_cast<double>(nr)) + 1e-9;
      for (size_t i = 0; i < nr; ++i) {
        const size_t at = static_cast<size_t>(base) + roff[i];
        py[at] = static_cast<float>((px[at] - mean) / den);
      }
    }
  });
}

}  // namespace

NEONN_KERNEL(InstanceNormalization, instance_norm);
NEONN_KERNEL(LayerNormalization, layer_norm);
NEONN_KERNEL(GroupNormalization, group_norm);
NEONN_KERNEL(MeanVarianceNormalization, mean_variance_norm);

}  // namespace neonn
