// Window geometry of ONNX's Conv, ConvTranspose and pools over 1-3 spatial
// dims (auto_pad, pads, strides, dilations, ceil_mode), read from a kernel
// call's attributes and checked; shared by conv_nd.cc and pool_nd.cc. The
// TS schema (lib/ir/schema/spatial.ts) computes the same output shapes.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "kernel.h"

namespace neonn {
namespace spatial {

constexpr int64_t kMaxDim = int64_t{1} << 31;

/// Geometry padded to 3 spatial dims (leading ones of size 1), so one loop
/// nest serves 1-D, 2-D and 3-D.
struct Geom {
  size_t rank = 0;  ///< spatial rank as given (1-3)
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
  int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0};
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t k_size() const { return k[0] * k[1] * k[2]; }
};

/// An ints attribute of `n` values (default `dflt` each when absent), each >= lo.
inline std::vector<int64_t> ints_attr(const KernelCall& c, const char* name, size_t n, int64_t dflt, int64_t lo) {
  if (!c.has_attr(name)) return std::vector<int64_t>(n, dflt);
  std::vector<int64_t> v = c.attr_ints(name);
  if (v.empty()) return std::vector<int64_t>(n, dflt);
  c.check(v.size() == n, std::string(name) + " must have " + std::to_string(n) + " values, got " + std::to_string(v.size()));
  for (int64_t x : v) c.check(x >= lo && x < kMaxDim, std::string(name) + " values must be >= " + std::to_string(lo));
  return v;
}

inline std::string auto_pad_of(const KernelCall& c) {
  const std::string a = c.has_attr("auto_pad") ? c.attr_string("auto_pad") : "NOTSET";
  c.check(a == "NOTSET" || a == "SAME_UPPER" || a == "SAME_LOWER" || a == "VALID", "auto_pad \"" + a + "\" is not supported");
  return a;
}

/// Conv/pool output geometry. `kernel` has `rank` values (from kernel_shape or W).
inline Geom forward_geom(const KernelCall& c, const std::vector<int64_t>& spatial_in, const std::vector<int64_t>& kernel, bool allow_ceil) {
  Geom g;
  const size_t r = spatial_in.size();
  c.check(r >= 1 && r <= 3, "spatial rank must be 1, 2 or 3, got " + std::to_string(r));
  c.check(kernel.size() == r, "kernel_shape must have " + std::to_string(r) + " values");
  g.rank = r;
  const std::vector<int64_t> s = ints_attr(c, "strides", r, 1, 1);
  const std::vector<int64_t> d = ints_attr(c, "dilations", r, 1, 1);
  const std::vector<int64_t> p = ints_attr(c, "pads", 2 * r, 0, 0);
  const std::string ap = auto_pad_of(c);
  const bool ceil = allow_ceil && c.attr_int("ceil_mode", 0) != 0;
  const size_t o = 3 - r;
  for (size_t i = 0; i < r; ++i) {
    const int64_t in = spatial_in[i], k = kernel[i];
    c.check(k >= 1 && k < kMaxDim, "kernel dims must be positive");
    const int64_t ext = (k - 1) * d[i] + 1;
    int64_t out = 0, pb = 0, pe = 0;
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      out = (in + s[i] - 1) / s[i];
      const int64_t total = std::max<int64_t>(0, (out - 1) * s[i] + ext - in);
      pb = ap == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else if (ap == "VALID") {
      c.check(in >= ext, "the window (" + std::to_string(ext) + ") is larger than the input (" + std::to_string(in) + ")");
      out = (in - ext) / s[i] + 1;
    } else {
      pb = p[i];
      pe = p[r + i];
      const int64_t span = in + pb + pe - ext;
      c.check(span >= 0, "the window (" + std::to_string(ext) + ") is larger than the padded input (" + std::to_string(in + pb + pe) + ")");
      out = (ceil ? (span + s[i] - 1) / s[i] : span / s[i]) + 1;
      // The last window must start inside the input or its leading padding.
      if (ceil && (out - 1) * s[i] >= in + pb) --out;
    }
    g.in[o + i] = in;
    g.out[o + i] = out;
    g.k[o + i] = k;
    g.s[o + i] = s[i];
    g.d[o + i] = d[i];
    g.pb[o + i] = pb;
    g.pe[o + i] = pe;
  }
  return g;
}

}  // namespace spatial
}  // namespace neonn
