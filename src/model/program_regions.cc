// Finding a program's NHWC regions (model/region.h): maximal runs of steps
// the active backend can keep in its own layout — convs with constant
// weights, max/average/global pooling, broadcast add/sub/mul/div, relu/clip,
// leaky relu, sigmoid, tanh, channel concat, channel split and shuffle, a
// classifier gemm — with
// each value identified by the buffer it is written to. A value read after
// the run (or a model output) is an exit; a buffer read but not written in
// the run is an entry. Everything is decided from the steps' arguments: the
// TypeScript planner needs to know nothing of it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <string>

#include "../auto/tuning_cache.h"
#include "../kernels/quant.h"
#include "../kernels/spatial_geom.h"
#include "../ops/conv.h"
#include "../ops/elementwise.h"
#include "../ops/gemm.h"
#include "../ops/layout.h"
#include "../ops/pool.h"
#include "../registry.h"
#include "program.h"

namespace neonn {
namespace {

bool same_ref(const BufferRef& a, const BufferRef& b) {
  return a.kind == b.kind && a.index == b.index && a.offset == b.offset && a.size == b.size;
}

bool overlaps(const BufferRef& a, const BufferRef& b) {
  return a.kind == b.kind && a.index == b.index && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

/// The buffers a step reads and writes (the output argument of each op
/// family, as its decoder in src/ops/ takes it). For a family not listed
/// here, every buffer counts as read (and none as written): a value it
/// touches stays an exit, which is only a wasted copy.
void step_io(const Step& s, std::vector<BufferRef>* reads, std::vector<BufferRef>* writes) {
  reads->clear();
  writes->clear();
  if (s.generic != nullptr) {
    for (const KernelTensorSpec& t : s.kernel_inputs) if (t.present) reads->push_back(t.ref);
    for (const KernelTensorSpec& t : s.kernel_outputs) if (t.present) writes->push_back(t.ref);
    return;
  }
  int out = -1;
  switch (s.kernel->family) {
    case Op::kConv2d: out = 3; break;
    case Op::kPool2d: out = 1; break;
    case Op::kUnary: out = 1; break;
    case Op::kBinary: out = 2; break;
    case Op::kPrelu: out = 2; break;
    case Op::kGemm: out = 3; break;
    case Op::kConcat: out = 1; break;
    case Op::kFullyConnected: out = 3; break;
    case Op::kSoftmax: out = 1; break;
    case Op::kLrn: out = 1; break;
    case Op::kBatchNorm: out = 5; break;
    case Op::kTranspose: out = 1; break;
    case Op::kPad: out = 1; break;
    default: break;
  }
  for (size_t i = 0; i < s.args.size(); ++i) {
    const StepArg& a = s.args[i];
    if (a.kind == StepArg::Kind::kBuffer) (static_cast<int>(i) == out ? writes : reads)->push_back(a.buffer);
    if (a.kind == StepArg::Kind::kBufferList) reads->insert(reads->end(), a.buffers.begin(), a.buffers.end());
  }
}

bool const_buffer(const StepArg& a) { return a.kind == StepArg::Kind::kBuffer && a.buffer.kind == BufferRef::Kind::kConst; }

/// One candidate node: the step decoded, its input refs and output ref.
struct Candidate {
  RegionNode node;
  std::vector<BufferRef> inputs;
  std::vector<RegionValue> input_shapes;  ///< NCHW of each input (0s: known only from an earlier node)
  BufferRef output;
  RegionValue output_shape;
};

RegionValue nchw(int64_t n, int64_t c, int64_t h, int64_t w) {
  RegionValue v;
  v.n = static_cast<size_t>(n);
  v.c = static_cast<size_t>(c);
  v.h = static_cast<size_t>(h);
  v.w = static_cast<size_t>(w);
  return v;
}

/// Nodes that map each value alone, whatever the buffer's order: they may read a plain value (and make one).
bool elementwise(RegionNode::Kind k) {
  return k == RegionNode::Kind::kClamp || k == RegionNode::Kind::kUnary || k == RegionNode::Kind::kKernel;
}

bool quantized_kind(RegionNode::Kind k) {
  return k == RegionNode::Kind::kQConv || k == RegionNode::Kind::kQAdd || k == RegionNode::Kind::kQGlobalAvg ||
         k == RegionNode::Kind::kQMaxPool || k == RegionNode::Kind::kQConcat || k == RegionNode::Kind::kQuantize ||
         k == RegionNode::Kind::kDequantize || k == RegionNode::Kind::kQTable;
}

/// A constant tensor of a generic kernel step (null: absent or not a constant).
const void* const_data(const KernelTensorSpec& t, const ConstTable& consts) {
  if (!t.present || t.ref.kind != BufferRef::Kind::kConst || t.ref.index >= consts.size()) return nullptr;
  return consts[t.ref.index].data() + t.ref.offset;
}

size_t count_of(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

/// Constant scales (float32, `n` or one, each normal and > 0) into `out` (n values).
bool const_scales(const KernelTensorSpec& t, const ConstTable& consts, size_t n, std::vector<float>* out) {
  const float* p = static_cast<const float*>(const_data(t, consts));
  if (p == nullptr || t.dtype != DType::kFloat32) return false;
  const size_t k = count_of(t.shape);
  if (k != 1 && k != n) return false;
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float v = p[k == 1 ? 0 : i];
    if (!std::isnormal(v) || v <= 0) return false;
    (*out)[i] = v;
  }
  return true;
}

/// Constant zero points of type `q` (`n` or one; absent: 0) into `out` (n values).
bool const_zero_points(const KernelTensorSpec& t, const ConstTable& consts, DType q, size_t n,
                       std::vector<int32_t>* out) {
  out->assign(n, 0);
  if (!t.present) return true;
  const void* p = const_data(t, consts);
  if (p == nullptr || t.dtype != q) return false;
  const size_t k = count_of(t.shape);
  if (k != 1 && k != n) return false;
  for (size_t i = 0; i < n; ++i) {
    const size_t j = k == 1 ? 0 : i;
    (*out)[i] = q == DType::kUint8 ? static_cast<const uint8_t*>(p)[j] : static_cast<const int8_t*>(p)[j];
  }
  return true;
}

/// An 8-bit 4-D value with its (constant, per-tensor) scale and zero point.
bool q8_value(const KernelTensorSpec& t, const KernelTensorSpec& scale, const KernelTensorSpec& zp,
              const ConstTable& consts, RegionValue* v) {
  if (!t.present || !is_q8(t.dtype) || t.shape.size() != 4 || t.ref.kind == BufferRef::Kind::kConst) return false;
  std::vector<float> s;
  std::vector<int32_t> z;
  if (!const_scales(scale, consts, 1, &s) || !const_zero_points(zp, consts, t.dtype, 1, &z)) return false;
  *v = nchw(t.shape[0], t.shape[1], t.shape[2], t.shape[3]);
  v->q8 = true;
  v->u8 = t.dtype == DType::kUint8;
  v->scale = s[0];
  v->zero_point = z[0];
  return true;
}

/// The 8-bit ops of a quantized region: QLinearConv (2-D, constant weights and parameters), QLinearAdd of two
/// values of one shape, QLinearGlobalAveragePool (NCHW). Their scales and zero points become those of their values.
bool quantized_candidate(const Step& s, const ConstTable& consts, Candidate* out) {
  const std::string name = s.generic->name;
  const std::vector<KernelTensorSpec>& in = s.kernel_inputs;
  if (s.kernel_outputs.size() != 1) return false;
  const KernelTensorSpec& y = s.kernel_outputs[0];
  Candidate c;
  if (name == "QLinearConv") {
    if (in.size() < 8) return false;
    RegionValue xv, yv;
    if (!q8_value(in[0], in[1], in[2], consts, &xv) || !q8_value(y, in[6], in[7], consts, &yv)) return false;
    const KernelTensorSpec& w = in[3];
    const void* wp = const_data(w, consts);
    if (wp == nullptr || !is_q8(w.dtype) || w.shape.size() != 4 || w.shape[0] <= 0) return false;
    KernelCall call;
    call.op = name;
    call.attrs = s.attrs;
    TensorRef xr, wr;
    xr.dtype = in[0].dtype;
    xr.shape = in[0].shape;
    wr.dtype = w.dtype;
    wr.shape = w.shape;
    const QConv2dGeometry g = qconv2d_geometry(call, xr, wr);
    if (g.out_h != y.shape[2] || g.out_w != y.shape[3] || y.shape[1] != w.shape[0] || y.shape[0] != in[0].shape[0]) return false;
    QuantConv& q = c.node.qconv;
    q.n = xv.n, q.c_in = xv.c, q.in_h = xv.h, q.in_w = xv.w, q.c_out = w.shape[0], q.out_h = g.out_h, q.out_w = g.out_w;
    q.group = g.group, q.k_h = g.k_h, q.k_w = g.k_w, q.stride_h = g.stride_h, q.stride_w = g.stride_w;
    q.dilation_h = g.dilation_h, q.dilation_w = g.dilation_w;
    q.pad_top = g.pad_top, q.pad_left = g.pad_left, q.pad_bottom = g.pad_bottom, q.pad_right = g.pad_right;
    const size_t m = static_cast<size_t>(q.c_out), per = count_of(w.shape) / m;
    std::vector<int32_t> wz;
    if (!const_scales(in[4], consts, m, &q.w_scale) || !const_zero_points(in[5], consts, w.dtype, m, &wz)) return false;
    // XNNPACK's qs8 conv takes a requantization scale below 256 only (the region would be refused whole).
    for (float ws : q.w_scale) {
      if (!(xv.scale * ws / yv.scale < 256.0f)) return false;
    }
    // int8 weights minus their zero point (XNNPACK's qs8 weights have none).
    q.w.resize(m * per);
    for (size_t i = 0; i < q.w.size(); ++i) {
      const int32_t v = (w.dtype == DType::kUint8 ? static_cast<const uint8_t*>(wp)[i] : static_cast<const int8_t*>(wp)[i]) - wz[i / per];
      if (v < -128 || v > 127) return false;
      q.w[i] = static_cast<int8_t>(v);
    }
    q.bias.assign(m, 0);
    if (in.size() > 8 && in[8].present) {
      const void* bp = const_data(in[8], consts);
      if (bp == nullptr || in[8].dtype != DType::kInt32 || count_of(in[8].shape) != m) return false;
      std::memcpy(q.bias.data(), bp, m * sizeof(int32_t));
    }
    c.node.kind = RegionNode::Kind::kQConv;
    c.inputs = {in[0].ref};
    c.input_shapes = {xv};
    c.output = y.ref;
    c.output_shape = yv;
  } else if (name == "QLinearAdd" || name == "QLinearMul") {
    // A of the output's shape; B the same, one pixel per image, or a constant of one value or one per channel
    // (the operands swapped when A is the broadcast one: both ops commute).
    if (in.size() < 8) return false;
    RegionValue yv;
    if (!q8_value(y, in[6], in[7], consts, &yv)) return false;
    size_t ia = 0, ib = 3;
    if (in[0].shape != y.shape && in[3].shape == y.shape) std::swap(ia, ib);
    const KernelTensorSpec& a = in[ia];
    const KernelTensorSpec& b = in[ib];
    RegionValue av;
    if (!q8_value(a, in[ia + 1], in[ia + 2], consts, &av) || a.shape != y.shape || a.dtype != y.dtype || b.dtype != y.dtype) {
      return false;
    }
    c.node.kind = RegionNode::Kind::kQAdd;
    c.node.fn = name == "QLinearAdd" ? RegionNode::Fn::kAdd : RegionNode::Fn::kMul;
    c.inputs = {a.ref};
    c.input_shapes = {av};
    // B's dims as 4-D (leading 1s).
    if (!b.present || b.shape.size() > 4) return false;
    std::vector<int64_t> bd(4 - b.shape.size(), 1);
    bd.insert(bd.end(), b.shape.begin(), b.shape.end());
    const size_t channels = static_cast<size_t>(y.shape[1]);
    const bool one_pixel = bd[2] == 1 && bd[3] == 1 && (bd[1] == y.shape[1] || bd[1] == 1) && (bd[0] == 1 || bd[0] == y.shape[0]);
    if (b.ref.kind == BufferRef::Kind::kConst) {
      const void* bp = const_data(b, consts);
      std::vector<float> bs;
      std::vector<int32_t> bz;
      if (bp == nullptr || !one_pixel || bd[0] != 1 || !const_scales(in[ib + 1], consts, 1, &bs) ||
          !const_zero_points(in[ib + 2], consts, b.dtype, 1, &bz)) {
        return false;
      }
      const size_t k = static_cast<size_t>(bd[1]);
      c.node.operand = RegionNode::Operand::kConst;
      c.node.qconst.resize(channels);
      for (size_t ch = 0; ch < channels; ++ch) {
        const size_t j = k == 1 ? 0 : ch;
        c.node.qconst[ch] = b.dtype == DType::kUint8 ? static_cast<const uint8_t*>(bp)[j] : static_cast<const int8_t*>(bp)[j];
      }
      c.node.qconst_u8 = b.dtype == DType::kUint8;
      c.node.qconst_scale = bs[0];
      c.node.qconst_zero_point = bz[0];
    } else {
      RegionValue bv;
      if (!q8_value(b, in[ib + 1], in[ib + 2], consts, &bv)) return false;
      if (b.shape == y.shape) {
        c.node.operand = RegionNode::Operand::kSame;
      } else if (one_pixel && bd[1] == y.shape[1] && b.shape.size() == 4) {
        c.node.operand = RegionNode::Operand::kPerChannel;
      } else {
        return false;
      }
      c.inputs.push_back(b.ref);
      c.input_shapes.push_back(bv);
    }
    c.output = y.ref;
    c.output_shape = yv;
  } else if (name == "QLinearSigmoid" || name == "QLinearLeakyRelu") {
    if (in.size() < 4) return false;
    RegionValue xv, yv;
    if (!q8_value(in[0], in[1], in[2], consts, &xv) || !q8_value(y, in[3], in.size() > 4 ? in[4] : KernelTensorSpec{}, consts, &yv)) return false;
    if (y.shape != in[0].shape || y.dtype != in[0].dtype) return false;
    float alpha = 0.01f;
    for (const auto& a : s.attrs) {
      if (a.first == "alpha") alpha = static_cast<float>(a.second.number);
    }
    c.node.kind = RegionNode::Kind::kQTable;
    c.node.table = qlinear_unary_table(name == "QLinearSigmoid", alpha, in[0].dtype, xv.scale, xv.zero_point, yv.scale, yv.zero_point);
    c.inputs = {in[0].ref};
    c.input_shapes = {xv};
    c.output = y.ref;
    c.output_shape = yv;
  } else if (name == "QLinearGlobalAveragePool") {
    if (in.size() < 4) return false;
    for (const auto& a : s.attrs) {
      if (a.first == "channels_last" && a.second.number != 0) return false;
    }
    RegionValue xv, yv;
    if (!q8_value(in[0], in[1], in[2], consts, &xv) || !q8_value(y, in[3], in.size() > 4 ? in[4] : KernelTensorSpec{}, consts, &yv)) return false;
    if (yv.n != xv.n || yv.c != xv.c || yv.h != 1 || yv.w != 1 || y.dtype != in[0].dtype) return false;
    c.node.kind = RegionNode::Kind::kQGlobalAvg;
    c.inputs = {in[0].ref};
    c.input_shapes = {xv};
    c.output = y.ref;
    c.output_shape = yv;
  } else if (name == "MaxPool") {
    // 2-D on 8-bit values (the same scale and zero point out), no Indices, undilated, each window starting inside
    // the input: XNNPACK's s8 max pooling takes the same windows and skips padding as ONNX does.
    if (in.empty() || !in[0].present || !is_q8(in[0].dtype) || in[0].shape.size() != 4 || y.dtype != in[0].dtype) return false;
    if (in[0].ref.kind == BufferRef::Kind::kConst) return false;
    KernelCall call;
    call.op = name;
    call.attrs = s.attrs;
    if (!call.has_attr("kernel_shape")) return false;
    const spatial::Geom g = spatial::forward_geom(call, {in[0].shape[2], in[0].shape[3]}, call.attr_ints("kernel_shape"), true);
    if (g.rank != 2 || g.d[1] != 1 || g.d[2] != 1 || g.k[1] * g.k[2] <= 1) return false;
    if (y.shape != std::vector<int64_t>{in[0].shape[0], in[0].shape[1], g.out[1], g.out[2]}) return false;
    Pool2dCall& q = c.node.pool;
    q.kind = PoolKind::kMax;
    q.n = in[0].shape[0], q.c = in[0].shape[1], q.in_h = g.in[1], q.in_w = g.in[2], q.out_h = g.out[1], q.out_w = g.out[2];
    q.k_h = g.k[1], q.k_w = g.k[2], q.stride_h = g.s[1], q.stride_w = g.s[2], q.pad_top = g.pb[1], q.pad_left = g.pb[2];
    if ((q.out_h - 1) * q.stride_h - q.pad_top >= q.in_h || (q.out_w - 1) * q.stride_w - q.pad_left >= q.in_w) return false;
    q.pad_bottom = std::max<int64_t>(0, (q.out_h - 1) * q.stride_h + q.k_h - q.in_h - q.pad_top);
    q.pad_right = std::max<int64_t>(0, (q.out_w - 1) * q.stride_w + q.k_w - q.in_w - q.pad_left);
    // The value passes through: it keeps its producer's scale and zero point (taken from the region, checked in
    // Growing::add by shape only).
    RegionValue xv = nchw(q.n, q.c, q.in_h, q.in_w);
    xv.q8 = true;
    xv.u8 = in[0].dtype == DType::kUint8;
    c.node.kind = RegionNode::Kind::kQMaxPool;
    c.inputs = {in[0].ref};
    c.input_shapes = {xv};
    c.output = y.ref;
    c.output_shape = nchw(q.n, q.c, q.out_h, q.out_w);
    c.output_shape.q8 = true;
    c.output_shape.u8 = xv.u8;
  } else if (name == "QLinearConcat") {
    // QLinearConcat(Y_scale, Y_zp, (X, X_scale, X_zp)...) of 4-D values along channels.
    if (in.size() < 5 || (in.size() - 2) % 3 != 0) return false;
    int64_t axis = 1;
    for (const auto& a : s.attrs) {
      if (a.first == "axis") axis = static_cast<int64_t>(a.second.number);
    }
    if (axis != 1 && axis != -3) return false;
    RegionValue yv;
    if (!q8_value(y, in[0], in[1], consts, &yv)) return false;
    int64_t channels = 0;
    for (size_t j = 2; j + 2 < in.size(); j += 3) {
      RegionValue xv;
      if (!q8_value(in[j], in[j + 1], in[j + 2], consts, &xv) || in[j].dtype != y.dtype) return false;
      if (xv.n != yv.n || xv.h != yv.h || xv.w != yv.w) return false;
      channels += static_cast<int64_t>(xv.c);
      c.inputs.push_back(in[j].ref);
      c.input_shapes.push_back(xv);
    }
    if (channels != static_cast<int64_t>(yv.c)) return false;
    c.node.kind = RegionNode::Kind::kQConcat;
    c.output = y.ref;
    c.output_shape = yv;
  } else if (name == "QuantizeLinear" || name == "DequantizeLinear") {
    // Per tensor, 4-D: the region's edges from and to float32.
    if (in.size() < 2) return false;
    for (const auto& a : s.attrs) {
      if (a.first == "block_size" && a.second.number != 0) return false;
    }
    const bool quantize = name == "QuantizeLinear";
    const KernelTensorSpec& f = quantize ? in[0] : y;
    if (!f.present || f.dtype != DType::kFloat32 || f.shape.size() != 4 || f.ref.kind == BufferRef::Kind::kConst) return false;
    RegionValue qv;
    if (!q8_value(quantize ? y : in[0], in[1], in.size() > 2 ? in[2] : KernelTensorSpec{}, consts, &qv)) return false;
    if (y.shape != in[0].shape) return false;
    const RegionValue fv = nchw(f.shape[0], f.shape[1], f.shape[2], f.shape[3]);
    c.node.kind = quantize ? RegionNode::Kind::kQuantize : RegionNode::Kind::kDequantize;
    c.inputs = {in[0].ref};
    c.input_shapes = {quantize ? fv : qv};
    c.output = y.ref;
    c.output_shape = quantize ? qv : fv;
  } else {
    return false;
  }
  *out = std::move(c);
  return true;
}

/// A generic kernel step as a region node: HardSwish; or a nearest-neighbour Resize/Upsample of a 4-D float32
/// value with constant parameters, as a pixel map: the kernel itself is run on a probe whose every plane holds
/// its pixels' indices, so the map is whatever its coordinate and rounding modes make it.
bool generic_candidate(const Step& s, const ConstTable& consts, bool fp16, Candidate* out) {
  const std::string name = s.generic->name;
  // The float32 elementwise kernels (src/kernels/unary.cc): each value of x mapped alone, any shape. In fp32
  // regions only (their buffers there hold floats).
  static const char* const kElementwise[] = {"Exp", "HardSigmoid", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round",
                                             "Erf", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh",
                                             "Acosh", "Atanh", "Softplus", "Softsign", "Mish", "Elu", "Selu", "Celu", "Gelu",
                                             "QuantizeDequantize"};
  if (!fp16 && std::find(std::begin(kElementwise), std::end(kElementwise), name) != std::end(kElementwise)) {
    if (s.kernel_inputs.size() != 1 || s.kernel_outputs.size() != 1 || !s.kernel_inputs[0].present) return false;
    const KernelTensorSpec& x = s.kernel_inputs[0];
    if (x.dtype != DType::kFloat32 || x.shape.size() != 4 || s.kernel_outputs[0].shape != x.shape ||
        s.kernel_outputs[0].dtype != DType::kFloat32) {
      return false;
    }
    Candidate c;
    c.node.kind = RegionNode::Kind::kKernel;
    c.node.kernel = s.generic;
    c.node.attrs = s.attrs;
    c.inputs = {x.ref};
    c.input_shapes = {nchw(x.shape[0], x.shape[1], x.shape[2], x.shape[3])};
    c.output = s.kernel_outputs[0].ref;
    c.output_shape = c.input_shapes[0];
    *out = std::move(c);
    return true;
  }
  if (name == "HardSwish") {
    // A generic kernel of the op schema (no hand-tuned one): x · relu6(x + 3) / 6 on a 4-D float32 value.
    if (s.kernel_inputs.size() != 1 || s.kernel_outputs.size() != 1 || !s.kernel_inputs[0].present) return false;
    const KernelTensorSpec& x = s.kernel_inputs[0];
    if (x.dtype != DType::kFloat32 || x.shape.size() != 4 || s.kernel_outputs[0].shape != x.shape) return false;
    Candidate c;
    c.node.kind = RegionNode::Kind::kUnary;
    c.node.fn = RegionNode::Fn::kHardSwish;
    c.inputs = {x.ref};
    c.input_shapes = {nchw(x.shape[0], x.shape[1], x.shape[2], x.shape[3])};
    c.output = s.kernel_outputs[0].ref;
    *out = std::move(c);
    return true;
  }
  if ((name != "Resize" && name != "Upsample") || s.kernel_inputs.empty() || s.kernel_outputs.size() != 1) return false;
  for (const auto& a : s.attrs) {
    if (a.first == "mode" && a.second.text != "nearest") return false;
  }
  const KernelTensorSpec& x = s.kernel_inputs[0];
  const KernelTensorSpec& y = s.kernel_outputs[0];
  if (!x.present || x.dtype != DType::kFloat32 || x.shape.size() != 4 || y.shape.size() != 4) return false;
  if (y.shape[0] != x.shape[0] || y.shape[1] != x.shape[1]) return false;
  const size_t n = static_cast<size_t>(x.shape[0]), ch = static_cast<size_t>(x.shape[1]);
  const size_t plane = static_cast<size_t>(x.shape[2] * x.shape[3]), out_plane = static_cast<size_t>(y.shape[2] * y.shape[3]);
  if (plane == 0 || out_plane == 0 || plane > (size_t{1} << 24) || n * ch * (plane + out_plane) > (size_t{1} << 26)) return false;
  KernelCall probe;
  probe.op = name;
  probe.attrs = s.attrs;
  std::vector<float> xs(n * ch * plane), ys(n * ch * out_plane);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i % plane);
  for (size_t k = 0; k < s.kernel_inputs.size(); ++k) {
    const KernelTensorSpec& t = s.kernel_inputs[k];
    TensorRef r;
    if (t.present) {
      // An empty tensor (an exporter's roi of no values) is fixed whatever buffer holds it: it has nothing to read.
      const bool empty = std::find(t.shape.begin(), t.shape.end(), int64_t{0}) != t.shape.end();
      if (k > 0 && !empty && t.ref.kind != BufferRef::Kind::kConst) return false;  // scales or sizes computed: not fixed
      r.dtype = t.dtype;
      r.shape = t.shape;
      r.data = k == 0 || empty ? static_cast<void*>(xs.data()) : const_cast<float*>(consts[t.ref.index].data() + t.ref.offset);
    }
    probe.inputs.push_back(r);
  }
  TensorRef yr;
  yr.dtype = DType::kFloat32;
  yr.shape = y.shape;
  yr.data = ys.data();
  probe.outputs.push_back(yr);
  s.generic->run(probe);
  Candidate c;
  c.node.kind = RegionNode::Kind::kPixels;
  c.node.pixel_map.resize(out_plane);
  for (size_t p = 0; p < out_plane; ++p) {
    const float v = ys[p];
    if (!(v >= 0 && v < static_cast<float>(plane)) || v != static_cast<float>(static_cast<uint32_t>(v))) return false;
    c.node.pixel_map[p] = static_cast<uint32_t>(v);
  }
  for (size_t i = out_plane; i < ys.size(); ++i) {
    if (ys[i] != ys[i % out_plane]) return false;  // every plane the same map
  }
  c.inputs = {x.ref};
  c.input_shapes = {nchw(x.shape[0], x.shape[1], x.shape[2], x.shape[3])};
  c.output = y.ref;
  c.output_shape = nchw(y.shape[0], y.shape[1], y.shape[2], y.shape[3]);
  *out = std::move(c);
  return true;
}

/// Step `s` as a region node, when its family and arguments are of the kinds a region holds.
bool candidate(const Step& s, const ValueArgs& args, Candidate* out) {
  if (s.kernel == nullptr) return false;
  Candidate c;
  switch (s.kernel->family) {
    case Op::kConv2d: {
      if (s.args.size() < 4 || !const_buffer(s.args[1]) || !(s.args[2].kind == StepArg::Kind::kNull || const_buffer(s.args[2]))) return false;
      const Conv2dCall call = decode_conv2d(args);
      // A conv pinned to another algorithm runs as pinned.
      if (call.algorithm != ConvAlgorithm::kAuto && call.algorithm != ConvAlgorithm::kXnnpack) return false;
      c.node.kind = RegionNode::Kind::kConv;
      c.node.conv = call;
      c.node.conv.x = FloatSpan{};
      c.node.conv.y = MutableFloatSpan{};
      c.inputs = {s.args[0].buffer};
      c.input_shapes = {nchw(call.n, call.c_in, call.in_h, call.in_w)};
      c.output = s.args[3].buffer;
      c.output_shape = nchw(call.n, call.c_out, call.out_h, call.out_w);
      break;
    }
    case Op::kPool2d: {
      const Pool2dCall call = decode_pool2d(args);
      c.node.kind = RegionNode::Kind::kPool;
      c.node.pool = call;
      c.node.pool.x = FloatSpan{};
      c.node.pool.y = MutableFloatSpan{};
      c.inputs = {s.args[0].buffer};
      c.input_shapes = {nchw(call.n, call.c, call.in_h, call.in_w)};
      c.output = s.args[1].buffer;
      c.output_shape = call.kind == PoolKind::kGlobalAvg ? nchw(call.n, call.c, 1, 1) : nchw(call.n, call.c, call.out_h, call.out_w);
      break;
    }
    case Op::kUnary: {
      const UnaryArgs a = decode_unary(args);
      c.node.kind = RegionNode::Kind::kClamp;
      if (a.kind == static_cast<int64_t>(UnaryKind::kRelu)) {
        c.node.min = 0.0f;
        c.node.max = std::numeric_limits<float>::infinity();
      } else if (a.kind == static_cast<int64_t>(UnaryKind::kClip)) {
        c.node.min = static_cast<float>(a.min);
        c.node.max = static_cast<float>(a.max);
        if (std::isnan(c.node.min) || std::isnan(c.node.max) || c.node.min > c.node.max) return false;
      } else if (a.kind == static_cast<int64_t>(UnaryKind::kSigmoid) || a.kind == static_cast<int64_t>(UnaryKind::kTanh) ||
                 a.kind == static_cast<int64_t>(UnaryKind::kLeakyRelu)) {
        c.node.kind = RegionNode::Kind::kUnary;
        c.node.fn = a.kind == static_cast<int64_t>(UnaryKind::kSigmoid) ? RegionNode::Fn::kSigmoid
                    : a.kind == static_cast<int64_t>(UnaryKind::kTanh)  ? RegionNode::Fn::kTanh
                                                                        : RegionNode::Fn::kLeakyRelu;
        c.node.alpha = static_cast<float>(a.alpha);
        if (!std::isfinite(c.node.alpha)) return false;
      } else {
        return false;
      }
      c.inputs = {s.args[0].buffer};
      c.input_shapes = {RegionValue{}};  // the shape of the value it reads
      c.output = s.args[1].buffer;
      break;
    }
    case Op::kBinary: {
      const BinaryArgs a = decode_binary(args);
      if (a.a_shape.rank > 4 || a.b_shape.rank > 4 || a.kind < 0 || a.kind > 3) return false;
      // Both as 4-D NCHW (leading 1s), and the broadcast result, which must be 4-D data of the region.
      int64_t da[4], db[4], dy[4];
      for (int k = 0; k < 4; ++k) {
        const int ka = k - (4 - a.a_shape.rank), kb = k - (4 - a.b_shape.rank);
        da[k] = ka >= 0 ? a.a_shape.d[ka] : 1;
        db[k] = kb >= 0 ? a.b_shape.d[kb] : 1;
        if (da[k] != db[k] && da[k] != 1 && db[k] != 1) return false;
        dy[k] = std::max(da[k], db[k]);
      }
      if (std::max(a.a_shape.rank, a.b_shape.rank) != 4) return false;
      static const RegionNode::Fn fns[] = {RegionNode::Fn::kAdd, RegionNode::Fn::kMul, RegionNode::Fn::kSub, RegionNode::Fn::kDiv};
      c.node.kind = RegionNode::Kind::kBinary;
      c.node.fn = fns[a.kind];
      c.inputs = {s.args[0].buffer, s.args[1].buffer};
      c.input_shapes = {nchw(da[0], da[1], da[2], da[3]), nchw(db[0], db[1], db[2], db[3])};
      c.output = s.args[2].buffer;
      c.output_shape = nchw(dy[0], dy[1], dy[2], dy[3]);
      break;
    }
    case Op::kGemm: {
      // A classifier on pooled features: x [M, K] (a value of h = w = 1, the same bytes in NHWC), constant weights,
      // a constant bias per column.
      if (s.args.size() < 4 || !const_buffer(s.args[1]) || !(s.args[2].kind == StepArg::Kind::kNull || const_buffer(s.args[2]))) return false;
      const GemmCall call = decode_gemm(args);
      const GemmParams& p = call.params;
      if (p.trans_a || p.alpha != 1.0f) return false;
      const int64_t n = p.trans_b ? p.b_rows : p.b_cols;
      if (p.has_c && (p.beta != 1.0f || p.c_rows != 1 || p.c_cols != n)) return false;
      c.node.kind = RegionNode::Kind::kGemm;
      c.node.gemm = call;
      c.node.gemm.buffers.a = FloatSpan{};
      c.node.gemm.buffers.y = MutableFloatSpan{};
      c.inputs = {s.args[0].buffer};
      c.input_shapes = {nchw(p.a_rows, p.a_cols, 1, 1)};
      c.output = s.args[3].buffer;
      c.output_shape = nchw(p.a_rows, n, 1, 1);
      break;
    }
    case Op::kConcat: {
      // Along channels of 4-D values (a model's planner often has the producers write their slices of y already).
      const ConcatArgs a = decode_concat(args);
      const int64_t rank = a.shapes.empty() ? 0 : a.shapes[0].rank;
      if (rank != 4 || (a.axis != 1 && a.axis != -3) || s.args[0].kind != StepArg::Kind::kBufferList) return false;
      c.node.kind = RegionNode::Kind::kConcat;
      int64_t channels = 0;
      for (const Dims& d : a.shapes) {
        c.input_shapes.push_back(nchw(d.d[0], d.d[1], d.d[2], d.d[3]));
        channels += d.d[1];
      }
      c.inputs = s.args[0].buffers;
      c.output = s.args[1].buffer;
      const int64_t* d = a.shapes[0].d;
      c.output_shape = nchw(d[0], channels, d[2], d[3]);
      break;
    }
    case Op::kTranspose: {
      const TransposeArgs a = decode_transpose(args);
      if (a.shape.rank == 4 && a.perm.size() == 4 && a.perm[0] == 0 && a.perm[1] == 2 && a.perm[2] == 3 && a.perm[3] == 1) {
        // NCHW -> NHWC (a detector head's, before its Reshape): the region's own buffer, handed out as it is.
        const int64_t* d = a.shape.d;
        c.node.kind = RegionNode::Kind::kToPlain;
        c.inputs = {s.args[0].buffer};
        c.input_shapes = {nchw(d[0], d[1], d[2], d[3])};
        c.output = s.args[1].buffer;
        c.output_shape = nchw(d[0], d[2], d[3], d[1]);
        c.output_shape.plain = true;
        break;
      }
      // A channel shuffle: x viewed as [N, c1, .., ck, H, W] with only the middle (channel) dims permuted, so
      // each pixel's channels are reordered and nothing else moves.
      const int r = a.shape.rank;
      if (r < 4 || static_cast<int>(a.perm.size()) != r || a.perm[0] != 0 || a.perm[r - 2] != r - 2 || a.perm[r - 1] != r - 1) {
        return false;
      }
      int64_t channels = 1;
      for (int k = 1; k < r - 2; ++k) channels *= a.shape.d[k];
      if (channels <= 0 || channels > (int64_t{1} << 24)) return false;
      // Output channel index -> its multi-index over the permuted dims -> the input channel.
      std::vector<int64_t> in_stride(static_cast<size_t>(r), 1);
      for (int k = r - 4; k >= 1; --k) in_stride[static_cast<size_t>(k)] = in_stride[static_cast<size_t>(k + 1)] * a.shape.d[k + 1];
      c.node.channel_map.resize(static_cast<size_t>(channels));
      for (int64_t co = 0; co < channels; ++co) {
        int64_t rem = co, ci = 0;
        for (int k = r - 3; k >= 1; --k) {
          const int64_t dim = a.shape.d[a.perm[static_cast<size_t>(k)]];
          ci += (rem % dim) * in_stride[static_cast<size_t>(a.perm[static_cast<size_t>(k)])];
          rem /= dim;
        }
        c.node.channel_map[static_cast<size_t>(co)] = static_cast<uint32_t>(ci);
      }
      c.node.kind = RegionNode::Kind::kChannels;
      c.inputs = {s.args[0].buffer};
      c.input_shapes = {nchw(a.shape.d[0], channels, a.shape.d[r - 2], a.shape.d[r - 1])};
      c.output = s.args[1].buffer;
      c.output_shape = c.input_shapes[0];
      break;
    }
    default:
      return false;
  }
  *out = std::move(c);
  return true;
}

/// A Split of a float32 4-D value along channels: one kChannels node per output (fp32 and fp16 regions alike:
/// the values are only moved).
bool split_candidates(const Step& s, std::vector<Candidate>* out) {
  if (std::string(s.generic->name) != "Split" || s.kernel_inputs.empty() || !s.kernel_inputs[0].present) return false;
  const KernelTensorSpec& x = s.kernel_inputs[0];
  if (x.dtype != DType::kFloat32 || x.shape.size() != 4) return false;
  int64_t axis = 0;
  for (const auto& a : s.attrs) {
    if (a.first == "axis") axis = static_cast<int64_t>(a.second.number);
  }
  if (axis != 1 && axis != -3) return false;
  out->clear();
  int64_t offset = 0;
  for (const KernelTensorSpec& y : s.kernel_outputs) {
    if (!y.present || y.dtype != DType::kFloat32 || y.shape.size() != 4 || y.shape[0] != x.shape[0] || y.shape[2] != x.shape[2] ||
        y.shape[3] != x.shape[3]) {
      return false;
    }
    Candidate c;
    c.node.kind = RegionNode::Kind::kChannels;
    for (int64_t k = 0; k < y.shape[1]; ++k) c.node.channel_map.push_back(static_cast<uint32_t>(offset + k));
    offset += y.shape[1];
    c.inputs = {x.ref};
    c.input_shapes = {nchw(x.shape[0], x.shape[1], x.shape[2], x.shape[3])};
    c.output = y.ref;
    c.output_shape = nchw(y.shape[0], y.shape[1], y.shape[2], y.shape[3]);
    out->push_back(std::move(c));
  }
  return offset == x.shape[1] && !out->empty();
}

/// A region being grown: its graph, where each value lives, which values still hold their buffer.
struct Growing {
  Program* program = nullptr;
  size_t first = 0;
  RegionGraph graph;
  std::vector<BufferRef> refs;
  std::vector<bool> live;             ///< the value still holds its buffer (not overwritten in the region)
  std::vector<BufferRef> written;     ///< every buffer a node of the region wrote
  size_t convs = 0;

  void clear(size_t at) {
    first = at;
    graph = RegionGraph{};
    refs.clear();
    live.clear();
    written.clear();
    convs = 0;
  }

  /// Adds every candidate of step `step` (a Split's outputs), or none.
  bool add_all(const std::vector<Candidate>& cs, size_t step) {
    if (cs.size() == 1) return add(cs[0], step);
    const RegionGraph graph0 = graph;
    const std::vector<BufferRef> refs0 = refs, written0 = written;
    const std::vector<bool> live0 = live;
    const size_t convs0 = convs;
    for (const Candidate& c : cs) {
      if (add(c, step)) continue;
      graph = graph0, refs = refs0, written = written0, live = live0, convs = convs0;
      return false;
    }
    return true;
  }

  /// Adds `c` (step `step`), or false when its inputs do not fit the region.
  bool add(Candidate c, size_t step) {
    // Checked first, then committed: a node that does not fit leaves the region as it was.
    const bool quantized = quantized_kind(c.node.kind);
    if (!graph.nodes.empty() && quantized != graph.quantized) return false;
    std::vector<size_t> ids;
    std::vector<RegionValue> entries;
    std::vector<BufferRef> entry_refs;
    for (size_t k = 0; k < c.inputs.size(); ++k) {
      const BufferRef& r = c.inputs[k];
      size_t found = SIZE_MAX;
      for (size_t v = 0; v < refs.size(); ++v) {
        if (live[v] && same_ref(refs[v], r)) found = v;
      }
      // A quantize reads float32 from outside the region (its entry, quantized as it is transposed in).
      if (found != SIZE_MAX && c.node.kind == RegionNode::Kind::kQuantize) return false;
      if (found != SIZE_MAX) {
        const RegionValue& have = graph.values[found];
        const RegionValue& want = c.input_shapes[k];
        // A plain value's buffer is not NHWC: only what maps each value alone reads it.
        if (have.plain && !elementwise(c.node.kind)) return false;
        if (want.n != 0 && have.q8 != want.q8) return false;
        if (want.n != 0 && (have.n != want.n || have.c != want.c || have.h != want.h || have.w != want.w)) return false;
        // An 8-bit value is read with the scale and zero point it was written with.
        if (want.q8 && (have.u8 != want.u8 || (want.scale != 0 && (have.scale != want.scale || have.zero_point != want.zero_point)))) {
          return false;
        }
        ids.push_back(found);
        continue;
      }
      // Not a value of the region: an entry, unless the region wrote over part of it.
      if (c.input_shapes[k].n == 0) return false;  // a clamp's shape comes from its producer only
      for (const BufferRef& w : written) {
        if (overlaps(w, r)) return false;
      }
      RegionValue e = c.input_shapes[k];
      if (e.units() != r.size) return false;
      e.entry = true;
      // The same buffer twice (x + x): one entry (read with one scale and zero point).
      size_t same = SIZE_MAX;
      for (size_t q = 0; q < entry_refs.size(); ++q) {
        if (same_ref(entry_refs[q], r)) same = q;
      }
      if (same != SIZE_MAX && e.q8 &&
          (entries[same].u8 != e.u8 || entries[same].scale != e.scale || entries[same].zero_point != e.zero_point)) {
        return false;
      }
      if (same == SIZE_MAX) {
        entries.push_back(e);
        entry_refs.push_back(r);
        same = entries.size() - 1;
      }
      ids.push_back(graph.values.size() + same);
    }
    if (c.node.kind == RegionNode::Kind::kClamp || c.node.kind == RegionNode::Kind::kUnary) {
      c.output_shape = graph.values[ids[0]];
      c.output_shape.entry = false;
    }
    if (c.node.kind == RegionNode::Kind::kKernel) c.output_shape.plain = ids[0] < graph.values.size() && graph.values[ids[0]].plain;
    if (c.node.kind == RegionNode::Kind::kQMaxPool) {
      // A max pooling of a region value keeps its scale and zero point; of an entry, none is known: not here.
      if (ids[0] < graph.values.size()) {
        c.output_shape.scale = graph.values[ids[0]].scale;
        c.output_shape.zero_point = graph.values[ids[0]].zero_point;
      } else {
        return false;
      }
    }
    if (c.output_shape.units() != c.output.size) return false;
    graph.quantized = quantized;
    for (size_t q = 0; q < entries.size(); ++q) {
      graph.values.push_back(entries[q]);
      refs.push_back(entry_refs[q]);
      live.push_back(true);
    }
    // What the output overwrites is dead from here on.
    for (size_t v = 0; v < refs.size(); ++v) {
      if (live[v] && overlaps(refs[v], c.output)) live[v] = false;
    }
    c.node.inputs = ids;
    c.node.output = graph.values.size();
    c.node.step = step;
    graph.values.push_back(c.output_shape);
    refs.push_back(c.output);
    live.push_back(true);
    written.push_back(c.output);
    if (c.node.kind == RegionNode::Kind::kConv || c.node.kind == RegionNode::Kind::kQConv) ++convs;
    graph.nodes.push_back(std::move(c.node));
    return true;
  }
};

/// A region's structure: what two programs with the same layers share (auto's decision is kept per key).
std::string region_key(const RegionGraph& g, int threads) {
  std::string k = std::to_string(threads) + (g.quantized ? "q" : g.fp16 ? "h" : "f") + (g.direct_sums ? "d" : "");
  auto add = [&k](std::initializer_list<int64_t> vs) {
    for (int64_t v : vs) k += "," + std::to_string(v);
  };
  for (const RegionValue& v : g.values) {
    add({static_cast<int64_t>(v.n), static_cast<int64_t>(v.c), static_cast<int64_t>(v.h), static_cast<int64_t>(v.w),
         v.entry ? 1 : 0, v.exit ? 1 : 0, v.q8 ? (v.u8 ? 2 : 1) : 0, v.plain ? 1 : 0});
  }
  for (const RegionNode& n : g.nodes) {
    k += ";" + std::to_string(static_cast<int>(n.kind)) + "/" + std::to_string(static_cast<int>(n.fn));
    for (size_t v : n.inputs) add({static_cast<int64_t>(v)});
    add({static_cast<int64_t>(n.output)});
    const Conv2dCall& c = n.conv;
    if (n.kind == RegionNode::Kind::kConv) {
      add({c.c_out, c.k_h, c.k_w, c.group, c.stride_h, c.stride_w, c.dilation_h, c.dilation_w, c.pad_top, c.pad_left,
           c.pad_bottom, c.pad_right, static_cast<int64_t>(c.activation)});
    }
    const Pool2dCall& p = n.pool;
    if (n.kind == RegionNode::Kind::kPool) {
      add({static_cast<int64_t>(p.kind), p.k_h, p.k_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right});
    }
    if (n.kind == RegionNode::Kind::kKernel) k += n.kernel->name;
    const QuantConv& q = n.qconv;
    if (n.kind == RegionNode::Kind::kQConv) {
      add({q.c_out, q.k_h, q.k_w, q.group, q.stride_h, q.stride_w, q.dilation_h, q.dilation_w, q.pad_top, q.pad_left,
           q.pad_bottom, q.pad_right});
    }
    if (n.kind == RegionNode::Kind::kPixels) add({static_cast<int64_t>(n.pixel_map.size())});
    if (n.kind == RegionNode::Kind::kChannels) add({static_cast<int64_t>(n.channel_map.size())});
  }
  return k;
}

/// A region's decision in the tuning cache: the machine, its structure (threads included), and every available
/// backend with its version (the steps run on auto's per-layer choices among them).
std::string disk_key(const std::string& structure) {
  // v2: neonn's region code as measured (v2: 3x3 convs as Winograd F(4x4, 3x3)); bump it when a change makes old
  // decisions wrong.
  return TuningCache::whole_key("region", "v2", structure);
}

/// auto's decisions per region structure, for this process: a model loaded twice (or saved and loaded) takes the
/// same path, and so gives the same bits.
struct Decision {
  bool region;
  std::string note;
};
std::mutex g_decisions_mutex;
std::map<std::string, Decision>& decisions() {
  static auto* m = new std::map<std::string, Decision>();
  return *m;
}

}  // namespace

void Program::plan_regions(const Backend& planner, bool measure, const std::function<void(const Step&)>& fill, ValueArgs& args) {
  regions_.clear();
  regions_for_ = &planner;
  regions_threads_ = Registry::instance().threads();
  std::vector<Region> found;
  Growing g;
  g.clear(0);
  std::vector<BufferRef> reads, writes;
  auto close = [&](size_t end) {
    // Worth it: at least one conv and something to keep in NHWC after it (quantized: any conv, whose integer
    // kernel outside a region is a reference loop).
    if (g.convs >= 1 && (g.graph.nodes.size() >= 2 || g.graph.quantized)) {
      Region r;
      r.first = g.first;
      r.end = end;
      // Exits: values still in their buffer that a later step reads before writing over, or model outputs.
      for (size_t v = 0; v < g.refs.size(); ++v) {
        if (!g.live[v] || g.graph.values[v].entry) continue;
        bool exit = g.refs[v].kind == BufferRef::Kind::kOutput;
        for (size_t j = end; j < steps_.size() && !exit; ++j) {
          step_io(steps_[j], &reads, &writes);
          if (std::any_of(reads.begin(), reads.end(), [&](const BufferRef& b) { return overlaps(b, g.refs[v]); })) exit = true;
          else if (std::any_of(writes.begin(), writes.end(), [&](const BufferRef& b) { return overlaps(b, g.refs[v]); })) break;
        }
        g.graph.values[v].exit = exit;
      }
      r.graph = std::move(g.graph);
      r.refs = std::move(g.refs);
      found.push_back(std::move(r));
    }
    g.clear(end);
  };
  for (size_t i = 0; i < steps_.size(); ++i) {
    std::vector<Candidate> cs(1);
    bool ok = false;
    if (steps_[i].generic != nullptr) {
      try {
        ok = quantized_candidate(steps_[i], consts_, &cs[0]) || generic_candidate(steps_[i], consts_, fp16_, &cs[0]) ||
             split_candidates(steps_[i], &cs);
      } catch (const Error&) {
        ok = false;  // what the kernel refuses, its own run will report
      }
    } else if (steps_[i].kernel != nullptr) {
      fill(steps_[i]);
      try {
        ok = candidate(steps_[i], args, &cs[0]);
      } catch (const Error&) {
        ok = false;  // arguments the op's own run will report
      }
    }
    if (ok && g.add_all(cs, i)) continue;
    close(i);
    // The step may start a region of its own (its inputs then entries).
    if (ok && g.add_all(cs, i)) continue;
    g.clear(i + 1);
  }
  close(steps_.size());
  const bool fake_quant = std::any_of(steps_.begin(), steps_.end(), [](const Step& s) {
    if (s.generic == nullptr) return false;
    const std::string name = s.generic->name;
    return name == "QuantizeDequantize" || name == "QuantizeLinear" || name == "DequantizeLinear" || name == "DynamicQuantizeLinear";
  });
  for (Region& r : found) {
    r.graph.fp16 = fp16_;
    r.graph.direct_sums = fake_quant;
    r.plan = planner.plan_region(r.graph);
    if (!r.plan) continue;
    r.use = measure ? Region::Use::kMeasuring : Region::Use::kRegion;
    r.note = r.plan->describe();
    r.key = region_key(r.graph, regions_threads_);
    if (measure) {
      r.disk_key = disk_key(r.key);
      std::lock_guard<std::mutex> lock(g_decisions_mutex);
      const auto it = decisions().find(r.key);
      TunedChoice saved;
      if (it != decisions().end()) {
        r.use = it->second.region ? Region::Use::kRegion : Region::Use::kSteps;
        r.note = it->second.note + "; " + r.plan->describe() + " (decided earlier in this process, for a region like it)";
      } else if (TuningCache::instance().find(r.disk_key, &saved) && (saved.backend == "region" || saved.backend == "layers")) {
        // Measured by an earlier process on this machine with these libraries, clearly and on idle cores.
        const bool region = saved.backend == "region";
        const double winner = saved.micros / 1000.0, loser = winner * (1.0 + saved.margin);
        char buf[200];
        std::snprintf(buf, sizeof buf, "measured: NHWC region %.3f ms, layer by layer %.3f ms (%s)", region ? winner : loser,
                      region ? loser : winner, region ? "region" : "layer by layer");
        r.use = region ? Region::Use::kRegion : Region::Use::kSteps;
        r.note = std::string(buf) + "; " + r.plan->describe() + " (measured by an earlier process: " +
                 TuningCache::instance().path() + ")";
        decisions().emplace(r.key, Decision{region, buf});
      }
    }
    regions_.push_back(std::move(r));
  }
  replanned_ = true;
}

std::vector<BufferRef> Program::region_writes(const Region& r) const {
  std::vector<BufferRef> all, reads, writes;
  for (size_t i = r.first; i < r.end; ++i) {
    step_io(steps_[i], &reads, &writes);
    for (const BufferRef& w : writes) {
      if (w.kind == BufferRef::Kind::kArena) all.push_back(w);
    }
  }
  return all;
}

std::vector<BufferRef> Program::region_entries_written(const Region& r, const std::vector<BufferRef>& written) const {
  std::vector<BufferRef> kept;
  for (size_t v = 0; v < r.graph.values.size(); ++v) {
    const BufferRef& e = r.refs[v];
    if (!r.graph.values[v].entry || e.kind != BufferRef::Kind::kArena) continue;
    if (std::any_of(written.begin(), written.end(), [&](const BufferRef& w) { return overlaps(w, e); })) kept.push_back(e);
  }
  return kept;
}

bool Program::run_region(const Region& r, const std::function<MutableFloatSpan(const BufferRef&)>& resolve,
                         std::vector<std::vector<float>>* scratch) const {
  std::vector<const float*> entries(r.graph.values.size(), nullptr);
  std::vector<float*> exits(r.graph.values.size(), nullptr);
  if (scratch != nullptr) scratch->resize(r.graph.values.size());
  for (size_t v = 0; v < r.graph.values.size(); ++v) {
    const RegionValue& value = r.graph.values[v];
    if (value.entry) entries[v] = resolve(r.refs[v]).data;
    if (!value.exit) continue;
    if (scratch == nullptr) {
      exits[v] = resolve(r.refs[v]).data;
    } else {
      (*scratch)[v].resize(value.elements());
      exits[v] = (*scratch)[v].data();
    }
  }
  return r.plan->run(entries, exits);
}

void Program::decide_region(Region& r, double region_us, double steps_us, bool steps_stopped, bool clean) {
  r.use = region_us < steps_us * kRegionMargin ? Region::Use::kRegion : Region::Use::kSteps;
  // Kept on disk when clear (kSureMargin apart) and measured on idle cores: a later process takes it unmeasured.
  const double winner = std::min(region_us, steps_us), loser = std::max(region_us, steps_us);
  if (clean && !r.disk_key.empty() && winner > 0 && loser >= winner * (1.0 + kSureMargin)) {
    TunedChoice c;
    c.backend = r.use == Region::Use::kRegion ? "region" : "layers";
    c.algorithm = ConvAlgorithm::kAuto;
    c.micros = winner;
    c.margin = std::min(kNoRival, (loser - winner) / winner);
    c.samples = 1;
    TuningCache::instance().store(r.disk_key, c, true);
  }
  char buf[200];
  std::snprintf(buf, sizeof buf, "measured: NHWC region %.3f ms, layer by layer %s%.3f ms (%s); ", region_us / 1000.0,
                steps_stopped ? "> " : "", steps_us / 1000.0, r.use == Region::Use::kRegion ? "region" : "layer by layer");
  r.note = std::string(buf) + r.plan->describe();
  {
    std::lock_guard<std::mutex> lock(g_decisions_mutex);
    decisions().emplace(r.key, Decision{r.use == Region::Use::kRegion, std::string(buf).substr(0, std::strlen(buf) - 2)});
  }
  if (r.use == Region::Use::kRegion) {
    // Its layers' own plans (packed weights) are no longer run: freed, re-made if a run falls back.
    r.layer_notes.clear();
    for (const RegionNode& n : r.graph.nodes) {
      r.layer_notes.push_back(plans_[n.step].plan ? plans_[n.step].plan->note() : std::string());
      plans_[n.step].plan.reset();
    }
  }
  replanned_ = true;
}

}  // namespace neonn
