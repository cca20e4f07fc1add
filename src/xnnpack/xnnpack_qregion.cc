// Quantized NHWC regions on XNNPACK (model/region.h, RegionGraph::quantized):
// a run of QLinearConv, QLinearAdd/QLinearMul (same shape, one pixel per
// image, or a constant per channel), QLinearSigmoid/QLinearLeakyRelu (their
// kernels' tables), QLinearGlobalAveragePool, QLinearConcat and 8-bit
// MaxPool steps kept in
// NHWC int8 buffers of the region's own. A uint8 value of the program is held
// as int8 (x - 128, zero point - 128): the same differences x - zero_point,
// the same rounding and the same saturation, shifted. So every conv runs on
// XNNPACK's qs8 operator with per-channel weight scales (qs8_qc8w), whatever
// the model's mix of uint8 and int8, and the region's outputs are the integer
// kernels' own (QuantizeLinear at an entry and DequantizeLinear at an exit run
// here too, on the program's float32 NCHW buffers, as their kernels compute):
//  - conv: int32 sums of (x - x_zp)(w - w_zp) + bias, times the float32
//    multiplier (x_scale * w_scale[c]) / y_scale in that order (XNNPACK's
//    order is the reference kernel's), rounded half to even, saturated;
//  - add and global average pooling run here with the reference kernels'
//    float formulas (XNNPACK's qs8 add requantizes in fixed point, which
//    rounds a few values differently from onnxruntime's and neonn's kernels).
// A run transposes (and for uint8 shifts) each entry in and each exit out.
#include "xnnpack_region.h"

#include "../status.h"

#if NEONN_HAVE_XNNPACK

#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "../kernels/quant.h"
#include "../parallel.h"
#include "xnnpack_nhwc.h"
#include "xnnpack_util.h"

namespace neonn {
namespace xnn {
namespace {

/// A value as the region holds it: int8, zero point shifted for uint8.
int32_t held_zero_point(const RegionValue& v) { return v.u8 ? v.zero_point - 128 : v.zero_point; }

/// Rounds v (|v| < 2^22) to the nearest integer, ties to even, as nearbyint does in the default rounding mode;
/// written so that the loops around it vectorize (this file is compiled without unsafe math, so the sum is kept).
inline float round_even(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (v + kMagic) - kMagic;
}

// The loops below take their data as restrict pointers and their parameters by value: an int8 store may alias
// anything, so without that the compiler reloads every parameter per element and vectorizes nothing.

// On x86-64 the elementwise loops are also compiled for AVX2 (NEONN_CLONES, kernels/quant.h): ResNet-50's adds
// alone are 5.5M values a run.

/// y = saturate(round((a - za) * ra + (b - zb) * rb) + zy) over n values (QLinearAdd's formula).
NEONN_CLONES void add_rows(const int8_t* __restrict a, const int8_t* __restrict b, int8_t* __restrict y, size_t n, float ra, float rb,
              int32_t za, int32_t zb, int32_t zy) {
  // Clamped to the output range before rounding (the same as saturating after: the bounds are integers).
  const float lo = static_cast<float>(-128 - zy), hi = static_cast<float>(127 - zy);
  for (size_t i = 0; i < n; ++i) {
    float v = static_cast<float>(static_cast<int32_t>(a[i]) - za) * ra + static_cast<float>(static_cast<int32_t>(b[i]) - zb) * rb;
    v = std::min(std::max(v, lo), hi);
    y[i] = static_cast<int8_t>(static_cast<int32_t>(round_even(v)) + zy);
  }
}

/// y = saturate(round((a - za)(b - zb) * rm) + zy) over n values (QLinearMul's formula: the int32 product, then
/// the float multiplier).
NEONN_CLONES void mul_rows(const int8_t* __restrict a, const int8_t* __restrict b, int8_t* __restrict y, size_t n, float rm,
                           int32_t za, int32_t zb, int32_t zy) {
  const float lo = static_cast<float>(-128 - zy), hi = static_cast<float>(127 - zy);
  for (size_t i = 0; i < n; ++i) {
    float v = static_cast<float>((static_cast<int32_t>(a[i]) - za) * (static_cast<int32_t>(b[i]) - zb)) * rm;
    v = std::min(std::max(v, lo), hi);
    y[i] = static_cast<int8_t>(static_cast<int32_t>(round_even(v)) + zy);
  }
}

/// y = table[x + 128] over n values.
void table_rows(const int8_t* __restrict x, int8_t* __restrict y, size_t n, const int8_t* __restrict table) {
  for (size_t i = 0; i < n; ++i) y[i] = table[static_cast<int32_t>(x[i]) + 128];
}

/// y = saturate(round(x / scale) + zy) over n values, NaN as 0 (QuantizeLinear's formula).
NEONN_CLONES void quantize_row(const float* __restrict x, int8_t* __restrict y, size_t n, float scale, int32_t zy) {
  const float lo = static_cast<float>(-128 - zy), hi = static_cast<float>(127 - zy);
  for (size_t i = 0; i < n; ++i) {
    float v = x[i] / scale;
    v = v == v ? v : 0.0f;
    v = std::min(std::max(v, lo), hi);
    y[i] = static_cast<int8_t>(static_cast<int32_t>(round_even(v)) + zy);
  }
}

class QuantRegionPlan final : public RegionPlan {
 public:
  QuantRegionPlan(const RegionHost& host, const RegionGraph& g);
  bool run(const std::vector<const float*>& entries, const std::vector<float*>& exits) const override;
  size_t memory_bytes() const override { return bytes_; }
  size_t node_bytes(size_t k) const override { return k < node_bytes_.size() ? node_bytes_[k] : 0; }
  std::string describe() const override { return describe_; }

 private:
  int8_t* allocate(size_t bytes);
  void add(size_t k) const;
  void table(size_t k) const;
  void quantize(const RegionNode& n, const float* x) const;
  void concat(const RegionNode& n) const;
  void dequantize(const RegionNode& n, float* y) const;
  void global_average(const RegionNode& n) const;
  /// Runs f(begin, end) over [0, range) in chunks on the pool (held for the call: see src/parallel.h).
  template <typename F>
  void chunks(size_t range, size_t grain, F f) const;

  const RegionHost& host_;
  RegionGraph graph_;
  struct DeleteOperator {
    void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
  };
  // Per node (null: computed here); deleted also when a later node throws while the plan is made.
  std::vector<std::unique_ptr<xnn_operator, DeleteOperator>> ops_;
  std::vector<std::unique_ptr<QDwConvNhwc>> qdw_;  // per node: a depthwise 3x3 conv on neonn's kernel, or null
  std::vector<std::unique_ptr<QPointwiseNhwc>> qpw_;  // per node: a 1x1 conv on AMX, or null
  std::vector<std::unique_ptr<int8_t[]>> memory_;
  std::vector<int8_t*> buffer_of_;  // per value: its NHWC int8 buffer
  std::vector<std::vector<int8_t>> held_;  // per node: a constant operand's row or a table, as the region holds values
  mutable std::mutex mutex_;
  size_t bytes_ = 0;
  std::vector<size_t> node_bytes_;
  std::string describe_;
};

int8_t* QuantRegionPlan::allocate(size_t bytes) {
  memory_.emplace_back(new int8_t[bytes + XNN_EXTRA_BYTES]());
  bytes_ += bytes + XNN_EXTRA_BYTES;
  return memory_.back().get();
}

template <typename F>
void QuantRegionPlan::chunks(size_t range, size_t grain, F f) const {
  const size_t count = (range + grain - 1) / grain;
  struct Ctx {
    F* f;
    size_t range, grain;
  } ctx{&f, range, grain};
  auto task = [](void* p, size_t i) {
    const Ctx& c = *static_cast<Ctx*>(p);
    (*c.f)(i * c.grain, std::min(c.range, (i + 1) * c.grain));
  };
  const PoolLease lease;
  pthreadpool_parallelize_1d(static_cast<pthreadpool_t>(lease.get()), task, &ctx, count, 0);
}

QuantRegionPlan::QuantRegionPlan(const RegionHost& host, const RegionGraph& g) : host_(host), graph_(g) {
  const size_t nv = g.values.size(), nn = g.nodes.size();
  // Buffers shared by values whose lives do not overlap (entries live from the start, exits to the end).
  std::vector<size_t> last(nv, 0);
  for (size_t k = 0; k < nn; ++k) {
    for (size_t v : g.nodes[k].inputs) last[v] = std::max(last[v], k);
  }
  for (size_t v = 0; v < nv; ++v) {
    if (g.values[v].exit) last[v] = SIZE_MAX;
  }
  struct Slot {
    int8_t* data;
    size_t bytes, busy_until;
  };
  std::vector<Slot> slots;
  buffer_of_.assign(nv, nullptr);
  auto take = [&](size_t v, size_t at) {
    const size_t need = g.values[v].elements();
    Slot* best = nullptr;
    for (Slot& s : slots) {
      const bool free = s.busy_until != SIZE_MAX && s.busy_until < at;
      if (free && s.bytes >= need && (best == nullptr || s.bytes < best->bytes)) best = &s;
    }
    if (best == nullptr) {
      slots.push_back(Slot{allocate(need), need, 0});
      best = &slots.back();
    }
    best->busy_until = last[v];
    buffer_of_[v] = best->data;
  };
  // Float32 values (a quantize's entry, a dequantize's output) stay in the program's NCHW buffers.
  for (size_t v = 0; v < nv; ++v) {
    if (g.values[v].entry && g.values[v].q8) take(v, 0);
  }
  // A node's output is taken when it runs (not before: an op never writes over what it reads).
  for (size_t k = 0; k < nn; ++k) {
    if (g.values[g.nodes[k].output].q8) take(g.nodes[k].output, k);
  }
  node_bytes_.assign(nn, 0);
  node_bytes_[0] = bytes_;

  // XNNPACK's reshape tiles each operator for the pool's threads: the pool, waited for.
  const PoolLease lease(PoolLease::kWait);
  pthreadpool_t pool = static_cast<pthreadpool_t>(lease.get());
  ops_.resize(nn);
  qdw_.resize(nn);
  qpw_.resize(nn);
  held_.assign(nn, {});
  size_t convs = 0, own = 0, amx = 0;
  for (size_t k = 0; k < nn; ++k) {
    const RegionNode& n = g.nodes[k];
    const std::string what = "quantized NHWC region, step " + std::to_string(n.step);
    if (n.kind == RegionNode::Kind::kQAdd && n.operand == RegionNode::Operand::kConst) {
      // The constant as the region holds values: int8, uint8 shifted by 128.
      held_[k].resize(n.qconst.size() + XNN_EXTRA_BYTES);
      for (size_t ch = 0; ch < n.qconst.size(); ++ch) held_[k][ch] = static_cast<int8_t>(n.qconst_u8 ? n.qconst[ch] - 128 : n.qconst[ch]);
      continue;
    }
    if (n.kind == RegionNode::Kind::kQTable) {
      // Indexed by the held value + 128 (the program's value for int8; for uint8 the program's value is that
      // index already), giving held values.
      const RegionValue& yv = g.values[n.output];
      if (n.table.size() != 256) throw_range_error(what + ": a table of " + std::to_string(n.table.size()) + " entries");
      held_[k].resize(256);
      for (int32_t q = -128; q <= 127; ++q) {
        // The table is indexed by the program's value minus its type's lowest (0 for uint8, -128 for int8): for
        // a held value q that is q + 128 either way.
        const int32_t out = n.table[static_cast<size_t>(q + 128)];
        held_[k][static_cast<size_t>(q + 128)] = static_cast<int8_t>(yv.u8 ? out - 128 : out);
      }
      continue;
    }
    if (n.kind == RegionNode::Kind::kQAdd || n.kind == RegionNode::Kind::kQGlobalAvg || n.kind == RegionNode::Kind::kQuantize ||
        n.kind == RegionNode::Kind::kDequantize) {
      const RegionValue& in = g.values[n.inputs[0]];
      if (n.kind == RegionNode::Kind::kQGlobalAvg && in.h * in.w > (size_t{1} << 23)) throw_range_error(what + ": a pooling too large");
      continue;
    }
    if (n.kind == RegionNode::Kind::kQConcat) continue;
    if (n.kind == RegionNode::Kind::kQMaxPool) {
      const Pool2dCall& p = n.pool;
      for (int64_t v : {p.pad_top, p.pad_right, p.pad_bottom, p.pad_left, p.k_h, p.k_w, p.stride_h, p.stride_w}) {
        if (!fits_u32(v)) throw_range_error(what + ": a pooling parameter past 32 bits");
      }
      const auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
      xnn_operator_t op = nullptr;
      check_status(xnn_create_max_pooling2d_nhwc_s8(u(p.pad_top), u(p.pad_right), u(p.pad_bottom), u(p.pad_left), u(p.k_h),
                                                    u(p.k_w), u(p.stride_h), u(p.stride_w), 1, 1, -128, 127, 0, &op),
                   what, "xnn_create_max_pooling2d_nhwc_s8");
      ops_[k].reset(op);
      const size_t ch = static_cast<size_t>(p.c);
      size_t out_h = 0, out_w = 0;
      check_status(xnn_reshape_max_pooling2d_nhwc_s8(op, static_cast<size_t>(p.n), static_cast<size_t>(p.in_h),
                                                     static_cast<size_t>(p.in_w), ch, ch, ch, &out_h, &out_w, pool),
                   what, "xnn_reshape_max_pooling2d_nhwc_s8");
      if (static_cast<int64_t>(out_h) != p.out_h || static_cast<int64_t>(out_w) != p.out_w) {
        throw_range_error(what + ": XNNPACK's pooling output size differs");
      }
      check_status(xnn_setup_max_pooling2d_nhwc_s8(op, buffer_of_[n.inputs[0]], buffer_of_[n.output]), what,
                   "xnn_setup_max_pooling2d_nhwc_s8");
      continue;
    }
    if (n.kind != RegionNode::Kind::kQConv) throw_range_error(what + ": not an op of a quantized region");
    const QuantConv& c = n.qconv;
    const RegionValue& x = g.values[n.inputs[0]];
    const RegionValue& y = g.values[n.output];
    for (int64_t v : {c.pad_top, c.pad_right, c.pad_bottom, c.pad_left, c.k_h, c.k_w, c.stride_h, c.stride_w, c.dilation_h,
                      c.dilation_w, c.group}) {
      if (!fits_u32(v)) throw_range_error(what + ": a conv parameter past 32 bits");
    }
    // A depthwise 3x3 conv on neonn's kernel where this CPU has one (the same bits as XNNPACK's operator).
    const bool same_shapes = static_cast<int64_t>(x.n) == c.n && static_cast<int64_t>(x.c) == c.c_in && static_cast<int64_t>(x.h) == c.in_h &&
                             static_cast<int64_t>(x.w) == c.in_w && static_cast<int64_t>(y.c) == c.c_out &&
                             static_cast<int64_t>(y.h) == c.out_h && static_cast<int64_t>(y.w) == c.out_w;
    if (std::unique_ptr<QDwConvNhwc> dw = same_shapes ? make_qdw_conv_nhwc(c, held_zero_point(x), x.scale, held_zero_point(y), y.scale) : nullptr) {
      node_bytes_[k] += dw->w.size() * sizeof(int16_t) + dw->bias.size() * sizeof(int32_t) + dw->scale.size() * sizeof(float);
      qdw_[k] = std::move(dw);
      ++convs, ++own;
      continue;
    }
    // A 1x1 conv on AMX's int8 tiles where this CPU has them (the same bits as XNNPACK's operator).
    if (std::unique_ptr<QPointwiseNhwc> pw = same_shapes ? make_qpointwise_nhwc(c, held_zero_point(x), x.scale, held_zero_point(y), y.scale) : nullptr) {
      node_bytes_[k] += pw->w.size() + pw->bias.size() * sizeof(int32_t) + pw->scale.size() * sizeof(float);
      qpw_[k] = std::move(pw);
      ++convs, ++amx;
      continue;
    }
    const size_t cig = static_cast<size_t>(c.c_in / c.group), cog = static_cast<size_t>(c.c_out / c.group);
    const size_t taps = static_cast<size_t>(c.k_h * c.k_w);
    // [Cout][Cin/g][kH][kW] -> [Cout][kH][kW][Cin/g]
    std::vector<int8_t> w(c.w.size() + XNN_EXTRA_BYTES);
    for (size_t co = 0; co < static_cast<size_t>(c.c_out); ++co) {
      for (size_t ci = 0; ci < cig; ++ci) {
        for (size_t t = 0; t < taps; ++t) w[(co * taps + t) * cig + ci] = c.w[(co * cig + ci) * taps + t];
      }
    }
    const auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
    xnn_operator_t op = nullptr;
    check_status(xnn_create_convolution2d_nhwc_qs8_qc8w(
                     u(c.pad_top), u(c.pad_right), u(c.pad_bottom), u(c.pad_left), u(c.k_h), u(c.k_w), u(c.stride_h),
                     u(c.stride_w), u(c.dilation_h), u(c.dilation_w), u(c.group), cig, cog, static_cast<size_t>(c.c_in),
                     static_cast<size_t>(c.c_out), static_cast<int8_t>(held_zero_point(x)), x.scale, c.w_scale.data(),
                     w.data(), c.bias.data(), static_cast<int8_t>(held_zero_point(y)), y.scale, -128, 127, 0, nullptr,
                     nullptr, &op),
                 what, "xnn_create_convolution2d_nhwc_qs8_qc8w");
    ops_[k].reset(op);
    size_t ws_size = 0, ws_align = 0, out_h = 0, out_w = 0;
    check_status(xnn_reshape_convolution2d_nhwc_qs8_qc8w(op, x.n, x.h, x.w, &ws_size, &ws_align, &out_h, &out_w, pool), what,
                 "xnn_reshape_convolution2d_nhwc_qs8_qc8w");
    if (out_h != y.h || out_w != y.w) throw_range_error(what + ": XNNPACK's conv output size differs");
    int8_t* ws = nullptr;
    if (ws_size > 0) {
      const size_t align = std::max<size_t>(ws_align, 1);
      int8_t* raw = allocate(ws_size + align);
      ws = reinterpret_cast<int8_t*>((reinterpret_cast<uintptr_t>(raw) + align - 1) / align * align);
      node_bytes_[k] += ws_size + align;
    }
    check_status(xnn_setup_convolution2d_nhwc_qs8_qc8w(op, ws, buffer_of_[n.inputs[0]], buffer_of_[n.output]), what,
                 "xnn_setup_convolution2d_nhwc_qs8_qc8w");
    node_bytes_[k] += static_cast<size_t>(c.group) * ((cog + 15) / 16 * 16) * (taps * cig + 4 * 3);
    ++convs;
  }
  bytes_ = 0;
  for (size_t b : node_bytes_) bytes_ += b;
  size_t entries = 0, exits = 0, quantized = 0, dequantized = 0;
  for (const RegionValue& v : g.values) {
    entries += v.entry && v.q8 ? 1 : 0;
    exits += v.exit && v.q8 ? 1 : 0;
  }
  for (const RegionNode& n : g.nodes) {
    quantized += n.kind == RegionNode::Kind::kQuantize ? 1 : 0;
    dequantized += n.kind == RegionNode::Kind::kDequantize ? 1 : 0;
  }
  describe_ = "quantized NHWC region on XNNPACK (int8): " + std::to_string(nn) + " steps (" +
              std::to_string(g.nodes.front().step) + "-" + std::to_string(g.nodes.back().step) + "), " +
              std::to_string(convs) + " qs8 convs" +
              (own + amx > 0 ? " (" + (own > 0 ? std::to_string(own) + " depthwise 3x3 on neonn's kernel" : std::string()) +
                                   (own > 0 && amx > 0 ? ", " : "") + (amx > 0 ? std::to_string(amx) + " 1x1 on AMX" : std::string()) + ")"
                             : std::string()) +
              ", " + std::to_string(quantized) + " float inputs quantized and " +
              std::to_string(entries) + " 8-bit inputs transposed in, " + std::to_string(dequantized) +
              " outputs dequantized and " + std::to_string(exits) + " 8-bit outputs transposed out";
}

// QLinearAdd of two values of one shape: the reference kernel's formula (A_scale / C_scale, B_scale / C_scale).
void QuantRegionPlan::add(size_t k) const {
  const RegionNode& n = graph_.nodes[k];
  const RegionValue& a = graph_.values[n.inputs[0]];
  const RegionValue& y = graph_.values[n.output];
  const bool constant = n.operand == RegionNode::Operand::kConst;
  // B's scale and zero point as the region holds it.
  float b_scale;
  int32_t zb;
  const int8_t* pb;
  size_t b_images = 1;
  if (constant) {
    b_scale = n.qconst_scale;
    zb = n.qconst_u8 ? n.qconst_zero_point - 128 : n.qconst_zero_point;
    pb = held_[k].data();
  } else {
    const RegionValue& b = graph_.values[n.inputs[1]];
    b_scale = b.scale;
    zb = held_zero_point(b);
    pb = buffer_of_[n.inputs[1]];
    b_images = b.n;
  }
  const bool mul = n.fn == RegionNode::Fn::kMul;
  // The reference kernels' multipliers: A_scale / C_scale and B_scale / C_scale; A_scale * B_scale / C_scale.
  const float ra = a.scale / y.scale, rb = b_scale / y.scale, rm = a.scale * b_scale / y.scale;
  const int32_t za = held_zero_point(a), zy = held_zero_point(y);
  const int8_t* pa = buffer_of_[n.inputs[0]];
  int8_t* py = buffer_of_[n.output];
  auto rows = [=](const int8_t* x, const int8_t* b, int8_t* out, size_t count) {
    if (mul) {
      mul_rows(x, b, out, count, rm, za, zb, zy);
    } else {
      add_rows(x, b, out, count, ra, rb, za, zb, zy);
    }
  };
  if (n.operand == RegionNode::Operand::kSame) {
    chunks(a.elements(), 16384, [=](size_t begin, size_t end) { rows(pa + begin, pb + begin, py + begin, end - begin); });
    return;
  }
  // B one pixel per image (or one for all): each of A's pixels against it, channel by channel.
  const size_t plane = a.h * a.w, ch = a.c;
  chunks(a.n * plane, std::max<size_t>(1, 16384 / std::max<size_t>(ch, 1)), [=](size_t begin, size_t end) {
    for (size_t p = begin; p < end; ++p) {
      const size_t image = p / plane;
      rows(pa + p * ch, pb + (b_images == 1 ? 0 : image) * ch, py + p * ch, ch);
    }
  });
}

void QuantRegionPlan::table(size_t k) const {
  const RegionNode& n = graph_.nodes[k];
  const int8_t* px = buffer_of_[n.inputs[0]];
  int8_t* py = buffer_of_[n.output];
  const int8_t* t = held_[k].data();
  chunks(graph_.values[n.output].elements(), 16384, [=](size_t begin, size_t end) { table_rows(px + begin, py + begin, end - begin, t); });
}

// QLinearGlobalAveragePool: sum(x - x_zp) * (x_scale / (y_scale * count)), as the reference kernel.
void QuantRegionPlan::global_average(const RegionNode& n) const {
  const RegionValue& x = graph_.values[n.inputs[0]];
  const RegionValue& y = graph_.values[n.output];
  const size_t img = x.h * x.w, ch = x.c;
  const float s = x.scale / (y.scale * static_cast<float>(img));
  const int32_t zx = held_zero_point(x), zy = held_zero_point(y);
  const int8_t* px = buffer_of_[n.inputs[0]];
  int8_t* py = buffer_of_[n.output];
  std::vector<int32_t> sums(ch);
  for (size_t b = 0; b < x.n; ++b) {
    int32_t* __restrict sum = sums.data();
    std::fill(sum, sum + ch, 0);
    const int8_t* __restrict base = px + b * img * ch;
    for (size_t p = 0; p < img; ++p) {
      for (size_t c = 0; c < ch; ++c) sum[c] += base[p * ch + c];
    }
    for (size_t c = 0; c < ch; ++c) {
      const int64_t centered = static_cast<int64_t>(sum[c]) - static_cast<int64_t>(zx) * static_cast<int64_t>(img);
      py[b * ch + c] = static_cast<int8_t>(quantize_value(static_cast<float>(centered) * s, zy, -128, 127));
    }
  }
}

// QLinearConcat along channels: each input's channels copied into the output's pixels, through the reference
// kernel's table (quantize((x - x_zp) * x_scale / y_scale) + y_zp) where its scale or zero point differs.
void QuantRegionPlan::concat(const RegionNode& n) const {
  const RegionValue& y = graph_.values[n.output];
  int8_t* py = buffer_of_[n.output];
  const size_t pixels = y.n * y.h * y.w, out_c = y.c;
  size_t offset = 0;
  for (size_t v : n.inputs) {
    const RegionValue& x = graph_.values[v];
    const int8_t* px = buffer_of_[v];
    const size_t ch = x.c, at = offset;
    offset += ch;
    if (x.scale == y.scale && x.zero_point == y.zero_point) {
      chunks(pixels, 256, [=](size_t begin, size_t end) {
        for (size_t p = begin; p < end; ++p) std::memcpy(py + p * out_c + at, px + p * ch, ch);
      });
      continue;
    }
    int8_t table[256];
    const int32_t zx = held_zero_point(x), zy = held_zero_point(y);
    for (int32_t q = -128; q <= 127; ++q) {
      const float real = static_cast<float>(q - zx) * x.scale;
      table[q + 128] = static_cast<int8_t>(quantize_value(real / y.scale, zy, -128, 127));
    }
    chunks(pixels, 256, [&](size_t begin, size_t end) {
      for (size_t p = begin; p < end; ++p) {
        for (size_t c = 0; c < ch; ++c) py[p * out_c + at + c] = table[px[p * ch + c] + 128];
      }
    });
  }
}

// QuantizeLinear of an NCHW float32 entry into the NHWC buffer: saturate(round(x / scale) + zp), NaN as 0, as
// the reference kernel.
void QuantRegionPlan::quantize(const RegionNode& n, const float* x) const {
  const RegionValue& y = graph_.values[n.output];
  const size_t plane = y.h * y.w;
  const float scale = y.scale;
  const int32_t zy = held_zero_point(y);
  int8_t* py = buffer_of_[n.output];
  const size_t ch = y.c;
  // Blocks of pixels: each channel's run quantized (contiguous) into a stack buffer, then interleaved into NHWC.
  // Nothing is allocated in the pool's tasks (an exception there could not reach the caller).
  constexpr size_t kStage = 16384;
  if (ch > kStage) {
    chunks(y.n * plane, 64, [=](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const size_t b = i / plane, p = i % plane;
        for (size_t c = 0; c < ch; ++c) quantize_row(x + (b * ch + c) * plane + p, py + i * ch + c, 1, scale, zy);
      }
    });
    return;
  }
  const size_t block = kStage / ch, blocks = (plane + block - 1) / block;
  chunks(y.n * blocks, 1, [=](size_t begin, size_t end) {
    int8_t row[kStage];
    for (size_t i = begin; i < end; ++i) {
      const size_t b = i / blocks, p0 = (i % blocks) * block, count = std::min(block, plane - p0);
      for (size_t c = 0; c < ch; ++c) quantize_row(x + (b * ch + c) * plane + p0, row + c * block, count, scale, zy);
      int8_t* d = py + (b * plane + p0) * ch;
      for (size_t p = 0; p < count; ++p) {
        for (size_t c = 0; c < ch; ++c) d[p * ch + c] = row[c * block + p];
      }
    }
  });
}

// DequantizeLinear of the NHWC buffer into an NCHW float32 exit: (x - zp) * scale, as the reference kernel.
void QuantRegionPlan::dequantize(const RegionNode& n, float* y) const {
  const RegionValue& x = graph_.values[n.inputs[0]];
  const size_t plane = x.h * x.w;
  const float scale = x.scale, zx = static_cast<float>(held_zero_point(x));
  const int8_t* px = buffer_of_[n.inputs[0]];
  const size_t ch = x.c;
  chunks(x.n * ch, 64, [=](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const size_t b = i / ch, c = i % ch;
      const int8_t* __restrict s = px + b * plane * ch + c;
      float* __restrict d = y + i * plane;
      for (size_t p = 0; p < plane; ++p) d[p] = (static_cast<float>(s[p * ch]) - zx) * scale;
    }
  });
}

bool QuantRegionPlan::run(const std::vector<const float*>& entries, const std::vector<float*>& exits) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t nv = graph_.values.size();
  // NCHW (uint8 or int8) -> NHWC int8.
  for (size_t v = 0; v < nv; ++v) {
    const RegionValue& r = graph_.values[v];
    if (!r.entry || !r.q8) continue;
    const int8_t* src = reinterpret_cast<const int8_t*>(entries[v]);
    int8_t* dst = buffer_of_[v];
    const size_t plane = r.h * r.w;
    const int8_t flip = r.u8 ? static_cast<int8_t>(-128) : 0;
    chunks(r.n * plane, 1024, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const size_t b = i / plane, p = i % plane;
        const int8_t* s = src + b * r.c * plane + p;
        int8_t* d = dst + i * r.c;
        for (size_t c = 0; c < r.c; ++c) d[c] = static_cast<int8_t>(s[c * plane] ^ flip);
      }
    });
  }
  for (size_t k = 0; k < graph_.nodes.size(); ++k) {
    const RegionNode& n = graph_.nodes[k];
    if (qdw_[k]) {
      const QDwConvNhwc& d = *qdw_[k];
      const int8_t* px = buffer_of_[n.inputs[0]];
      int8_t* py = buffer_of_[n.output];
      chunks(d.n * d.out_h, std::max<size_t>(1, 65536 / std::max<size_t>(1, d.out_w * d.channels * 9)),
             [&](size_t begin, size_t end) { d.rows(d, px, py, begin, end); });
    } else if (qpw_[k]) {
      const QPointwiseNhwc& d = *qpw_[k];
      const int8_t* px = buffer_of_[n.inputs[0]];
      int8_t* py = buffer_of_[n.output];
      // Blocks of 32 pixels (two tiles' rows), several per task.
      const size_t blocks = (d.pixels + 31) / 32, per = std::max<size_t>(1, 524288 / std::max<size_t>(1, 32 * d.c_in * d.c_out));
      chunks(blocks, per, [&](size_t begin, size_t end) { d.rows(d, px, py, begin * 32, std::min(d.pixels, end * 32)); });
    } else if (ops_[k]) {
      const PoolLease lease;  // per operator: add, table, ... run neonn's loops in between
      check_status(xnn_run_operator(ops_[k].get(), static_cast<pthreadpool_t>(lease.get())), "quantized NHWC region",
                   "xnn_run_operator");
    } else if (n.kind == RegionNode::Kind::kQAdd) {
      add(k);
    } else if (n.kind == RegionNode::Kind::kQTable) {
      table(k);
    } else if (n.kind == RegionNode::Kind::kQGlobalAvg) {
      global_average(n);
    } else if (n.kind == RegionNode::Kind::kQConcat) {
      concat(n);
    } else if (n.kind == RegionNode::Kind::kQuantize) {
      quantize(n, entries[n.inputs[0]]);
    } else if (n.kind == RegionNode::Kind::kDequantize && exits[n.output] != nullptr) {
      dequantize(n, exits[n.output]);
    }
  }
  // NHWC int8 -> NCHW of the program's type.
  for (size_t v = 0; v < nv; ++v) {
    const RegionValue& r = graph_.values[v];
    if (!r.exit || !r.q8) continue;
    const int8_t* src = buffer_of_[v];
    int8_t* dst = reinterpret_cast<int8_t*>(exits[v]);
    const size_t plane = r.h * r.w;
    const int8_t flip = r.u8 ? static_cast<int8_t>(-128) : 0;
    chunks(r.n * r.c, 64, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const size_t b = i / r.c, c = i % r.c;
        const int8_t* s = src + b * plane * r.c + c;
        int8_t* d = dst + i * plane;
        for (size_t p = 0; p < plane; ++p) d[p] = static_cast<int8_t>(s[p * r.c] ^ flip);
      }
    });
  }
  const Backend& counted = host_.counted();
  for (const RegionNode& n : graph_.nodes) {
    counted.count_op();
    if (n.kind == RegionNode::Kind::kQConv) counted.count_conv(ConvAlgorithm::kXnnpack);
  }
  return true;
}

}  // namespace

std::unique_ptr<RegionPlan> make_quantized_region_plan(const RegionHost& host, const RegionGraph& graph) {
  return std::make_unique<QuantRegionPlan>(host, graph);
}

}  // namespace xnn
}  // namespace neonn

#else

namespace neonn {
namespace xnn {

std::unique_ptr<RegionPlan> make_quantized_region_plan(const RegionHost&, const RegionGraph&) {
  throw_range_error("quantized NHWC regions need the built-in XNNPACK");
}

}  // namespace xnn
}  // namespace neonn

#endif
