// An NHWC region: a run of a program's steps (convs, pooling, add, clamps)
// that a backend executes as one unit, keeping the activations in its own
// layout between them. The program finds the runs and describes each as a
// small graph of values (NCHW shapes) and nodes; the backend (xnnpack) plans
// it once — operators created, weights packed, buffers laid out — and each
// run only transposes the region's inputs in and its outputs back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../ops/conv.h"
#include "../ops/gemm.h"
#include "../kernels/kernel.h"
#include "../ops/pool.h"

namespace neonn {

/// A value of a region, NCHW. `entry`: read from outside the region (NCHW,
/// transposed in at the start); `exit`: read after the region or a model
/// output (transposed back at the end).
struct RegionValue {
  size_t n = 0, c = 0, h = 0, w = 0;
  bool entry = false;
  bool exit = false;
  /// The buffer holds the value in its own row-major order, not transposed to NHWC: n, c, h, w are the dims of that
  /// order. A kToPlain node's output (the NHWC buffer is already its Transpose) and what elementwise nodes make of
  /// it; only elementwise nodes read it, and as an exit it is copied out as it is.
  bool plain = false;
  /// Quantized regions: an 8-bit value, `u8` when the program holds it as uint8 (else int8), with the scale and
  /// zero point its producer (or, for an entry, its readers) quantized it with.
  bool q8 = false;
  bool u8 = false;
  float scale = 0;
  int32_t zero_point = 0;
  size_t elements() const { return n * c * h * w; }
  /// Its size in the program's 4-byte units.
  size_t units() const { return q8 ? (elements() + 3) / 4 : elements(); }
};

/// A QLinearConv of a quantized region (2-D): its geometry, and weights as the int8 values w - w_zero_point,
/// [Cout][Cin/g][kH][kW], with a scale per output channel and an int32 bias per output channel.
struct QuantConv {
  int64_t n = 0, c_in = 0, in_h = 0, in_w = 0, c_out = 0, out_h = 0, out_w = 0, group = 1;
  int64_t k_h = 1, k_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::vector<int8_t> w;
  std::vector<float> w_scale;
  std::vector<int32_t> bias;
};

struct RegionNode {
  enum class Kind { kConv, kPool, kClamp, kUnary, kBinary, kGemm, kConcat, kPixels, kKernel, kChannels, kQConv, kQAdd, kQGlobalAvg, kQMaxPool, kQConcat, kQuantize, kDequantize, kQTable, kToPlain } kind = Kind::kConv;
  /// kUnary: sigmoid, tanh, leaky ReLU (slope `alpha`) or hard swish; kBinary: add, sub, mul, div with numpy broadcasting of
  /// the inputs' NCHW shapes (which XNNPACK's NHWC broadcasting of the same dims keeps).
  enum class Fn { kSigmoid, kTanh, kLeakyRelu, kHardSwish, kAdd, kSub, kMul, kDiv } fn = Fn::kAdd;
  float alpha = 0;
  std::vector<size_t> inputs;  ///< value ids (kBinary: two; kConcat: one or more, along channels)
  size_t output = 0;           ///< value id
  Conv2dCall conv;             ///< kConv: shapes, weights and bias (constants); x, y unused
  Pool2dCall pool;             ///< kPool: shapes and kind; x, y unused
  GemmCall gemm;               ///< kGemm: y[M,N] = x[M,K]·B (+ c per column): b and c constants; a, y unused
  float min = 0, max = 0;      ///< kClamp: bounds
  /// kPixels (a nearest-neighbour Resize): for each output pixel of a plane, the input pixel it copies (the same
  /// in every plane, as the Resize kernel itself computed it on a probe).
  std::vector<uint32_t> pixel_map;
  /// kChannels (a channel shuffle's Transpose, one output of a channel Split): output channel c is input channel
  /// channel_map[c], at every pixel.
  std::vector<uint32_t> channel_map;
  /// kToPlain: a Transpose of a 4-D value to [N, H, W, C], its input's NHWC buffer as it is (no work: a plain value).
  /// kKernel: an elementwise float32 generic kernel of the op schema (HardSigmoid, Exp, Erf, Gelu, ...), run on the
  /// region's NHWC buffer as it is (the layout does not matter to it); fp32 regions only.
  const KernelDef* kernel = nullptr;
  std::vector<std::pair<std::string, Attr>> attrs;
  /// Quantized regions: kQConv (QLinearConv), kQAdd (QLinearAdd of two same-shaped values), kQGlobalAvg
  /// (QLinearGlobalAveragePool), kQMaxPool (MaxPool of 8-bit values: `pool`), kQConcat (QLinearConcat along
  /// channels, each input requantized to the output's scale and zero point), kQuantize (QuantizeLinear of a
  /// float32 entry, per tensor), kDequantize (DequantizeLinear to a float32 value, per tensor); the scales and
  /// zero points are those of the node's input and output values.
  QuantConv qconv;
  /// kQAdd with fn kAdd or kMul (QLinearAdd, QLinearMul): how B is read. kSame: a value of A's shape; kPerChannel:
  /// a value of one pixel per image ([N or 1, C, 1, 1]); kConst: a constant of one value or one per channel,
  /// `qconst` (as the program holds it: uint8 or int8 values by `qconst_u8`) with its scale and zero point.
  enum class Operand { kSame, kPerChannel, kConst } operand = Operand::kSame;
  std::vector<int32_t> qconst;
  bool qconst_u8 = false;
  float qconst_scale = 0;
  int32_t qconst_zero_point = 0;
  /// kQTable (QLinearSigmoid, QLinearLeakyRelu): the kernel's 256-entry table over the program's 8-bit type.
  std::vector<int32_t> table;
  size_t step = 0;             ///< the program step it came from
};

struct RegionGraph {
  std::vector<RegionValue> values;
  std::vector<RegionNode> nodes;
  /// Compute in half precision (the model's precision option), where the backend can; fp32 at the edges.
  bool fp16 = false;
  /// Every value 8-bit (the kQ* nodes only): computed in int8, uint8 values shifted by 128 at the edges.
  bool quantized = false;
  /// Convs as direct sums only (no Winograd): the model rounds values to a quantization grid between its float
  /// ops (QuantizeLinear, DequantizeLinear, their fused pairs), where a larger rounding error would move values
  /// across the grid's rounding points and grow from step to step.
  bool direct_sums = false;
};

/// A planned region.
class RegionPlan {
 public:
  virtual ~RegionPlan() = default;
  /// Runs the region: `entries[v]` holds value v's NCHW data for each entry
  /// value, `exits[v]` receives each exit value (other slots are null); in a
  /// quantized region the pointers hold 8-bit values.
  /// False when an entry or an exit holds NaN or infinity: the backend's
  /// kernels would not keep neonn's NaN semantics, so the caller runs the
  /// steps one by one instead (the exits may have been partly written).
  virtual bool run(const std::vector<const float*>& entries, const std::vector<float*>& exits) const = 0;
  /// Native memory it holds (packed weights, buffers).
  virtual size_t memory_bytes() const = 0;
  /// The part of it node `k` holds (its packed weights; the first node also the buffers).
  virtual size_t node_bytes(size_t k) const = 0;
  /// e.g. "xnnpack NHWC region: 52 ops, 3 transposes"
  virtual std::string describe() const = 0;
};

}  // namespace neonn
