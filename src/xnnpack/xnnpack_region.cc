// A run of a program's steps as XNNPACK operators on NHWC buffers of its
// own: operators created and set up once (weights packed, pointers fixed),
// buffers shared between values whose lives do not overlap, a clamp folded
// into the conv or pooling before it where that one's output feeds nothing
// else, a concat's inputs written straight into their channels where they
// can be. A run transposes the entries in (any NaN or infinity: the caller
// runs the steps one by one, since XNNPACK's clamps do not keep NaN), runs
// the operators, checks the exits for NaN and infinity (the same), and
// transposes them out. A NaN made inside a region from finite inputs (an
// overflow, then inf - inf) and clamped away by a ReLU is not seen: the one
// difference from running the layers one by one.
//
// In fp16 the buffers hold IEEE halves and the operators compute in half
// precision (weights still given in fp32: XNNPACK converts them as it packs
// them); entries are converted from fp32 after their transpose and exits to
// fp32 before theirs. A value past half's range (65504) becomes infinite,
// which the exit check sees: that run then computes its steps in fp32.
#include "xnnpack_region.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "../parallel.h"
#include "xnnpack_layout.h"
#include "xnnpack_util.h"
#include "xnnpack_nhwc.h"
#include "xnnpack_winograd.h"

namespace neonn {
namespace xnn {
namespace {

/// dst pixel p, channel c = src pixel p, channel map[c] (a ShuffleNet channel shuffle, or one part of a channel
/// Split), over the pixels in parallel. The two forms those take are copied as such: a run of consecutive source
/// channels (a split's part) as one memcpy per pixel, and a shuffle of two groups (map[2j] = j, map[2j+1] = half + j)
/// as an interleave of the two halves; any other map element by element.
template <typename T>
void map_channels(const T* __restrict src, T* __restrict dst, size_t pixels, size_t cin, const std::vector<uint32_t>& channel_map) {
  const size_t cout = channel_map.size();
  const uint32_t* map = channel_map.data();
  bool run = true, pairs = cout % 2 == 0 && cout == cin;
  for (size_t c = 0; c < cout; ++c) {
    run = run && map[c] == map[0] + c;
    pairs = pairs && map[c] == (c % 2 == 0 ? c / 2 : cout / 2 + c / 2);
  }
  const size_t half = cout / 2;
  parallel_for(pixels, parallel_grain(cout), [&](size_t b, size_t e) {
    for (size_t p = b; p < e; ++p) {
      const T* s = src + p * cin;
      T* d = dst + p * cout;
      if (run) {
        std::memcpy(d, s + map[0], cout * sizeof(T));
      } else if (pairs) {
        for (size_t j = 0; j < half; ++j) {
          d[2 * j] = s[j];
          d[2 * j + 1] = s[half + j];
        }
      } else {
        for (size_t c = 0; c < cout; ++c) d[c] = s[map[c]];
      }
    }
  });
}

/// Output channels per XNNPACK operator of a conv (one group): all of them, unless its weights outgrow what stays
/// near the core while its output pixels span several of the GEMM's row tiles. XNNPACK's conv streams every weight
/// once per tile of 7 pixels (x86), so ResNet-50's 7x7 stage (49 pixels, 4 to 9 MB of weights per conv) read its
/// weights 7 times from L3 or memory; split into operators of at most 512 KB of weights each, every part is read
/// from memory once and then from L2 for the other tiles: ResNet-50 at 1 thread 95 -> 78 ms, at 2 threads 59 -> 47
/// ms on an Intel Xeon (256 KB to 1 MB parts within 3% of each other, 2 MB ones 7% slower). Measured on x86-64 only
/// (ARM keeps one operator).
size_t conv_chunk(size_t pixels, size_t k, size_t cout, size_t esize) {
#if defined(__x86_64__)
  constexpr size_t kBudget = size_t{512} << 10, kRows = 7, kAlign = 32;
  if (pixels <= kRows || k * cout * esize <= kBudget) return cout;
  const size_t chunk = std::max(kAlign, kBudget / (k * esize) / kAlign * kAlign);
  return std::min(chunk, cout);
#else
  (void)pixels, (void)k, (void)esize;
  return cout;
#endif
}

class XnnpackRegionPlan final : public RegionPlan {
 public:
  XnnpackRegionPlan(const RegionHost& host, const RegionGraph& g);
  bool run(const std::vector<const float*>& entries, const std::vector<float*>& exits) const override;
  size_t memory_bytes() const override { return bytes_; }
  size_t node_bytes(size_t k) const override { return k < node_bytes_.size() ? node_bytes_[k] : 0; }
  std::string describe() const override { return describe_; }

 private:
  /// A buffer of `bytes` plus XNNPACK's read slack, counted in bytes_.
  char* allocate(size_t bytes);
  /// An operator converting `values` rows of `channels` between fp32 (`stage`) and fp16 (`half`).
  std::unique_ptr<OperatorPtr> converter(bool to_half, const RegionValue& v, const void* x, void* y, ThreadpoolHandle pool);

  const RegionHost& host_;
  RegionGraph graph_;
  size_t esize_;                                    // bytes per element: 4, or 2 in fp16
  std::vector<std::unique_ptr<OperatorPtr>> ops_;  // per node; null for a folded clamp, a concat, a Winograd conv
  std::vector<std::unique_ptr<WinogradConv>> winograd_;  // per node: a 3x3 conv computed as F(4x4, 3x3), or null
  float* winograd_scratch_ = nullptr;                   // shared by them (one run at a time)
  std::vector<std::unique_ptr<MaxPoolNhwc>> max_pools_;  // per node: a max pooling on neonn's kernel, or null
  std::vector<std::unique_ptr<DwConvNhwc>> dw_convs_;    // per node: a depthwise 3x3 conv on neonn's kernel, or null
  std::vector<std::unique_ptr<NarrowConvNhwc>> narrow_convs_;  // per node: a conv of <= 16 outputs on neonn's, or null
  std::vector<std::unique_ptr<GemmConvNhwc>> gemm_convs_;     // per node: a conv on neonn's GEMM, or null
  std::vector<bool> in_place_;  // per value: an entry its one reader (a narrow conv) reads as NCHW where it lies
  // per node: the operators after ops_[k] of a conv split by output channels (conv_chunk), or none
  std::vector<std::vector<std::unique_ptr<OperatorPtr>>> split_ops_;
  struct Copy {
    size_t node, value, channel;  // a concat input copied into its channels of the concat's buffer
  };
  std::vector<Copy> copies_;  // in node order
  std::vector<char*> buffer_of_;  // per value: its NHWC buffer
  std::vector<std::unique_ptr<float[]>> buffers_;
  // fp16: an fp32 staging buffer for the edges, and a converter per entry and exit (null in fp32).
  float* stage_ = nullptr;
  std::vector<std::unique_ptr<OperatorPtr>> convert_;
  mutable std::mutex mutex_;  // operators hold their buffers: one run at a time
  size_t bytes_ = 0;
  std::vector<size_t> node_bytes_;
  std::string describe_;
};

char* XnnpackRegionPlan::allocate(size_t bytes) {
  buffers_.push_back(scratch((bytes + sizeof(float) - 1) / sizeof(float)));
  bytes_ += (bytes + kExtraBytes + sizeof(float) - 1) / sizeof(float) * sizeof(float);
  return reinterpret_cast<char*>(buffers_.back().get());
}

std::unique_ptr<OperatorPtr> XnnpackRegionPlan::converter(bool to_half, const RegionValue& v, const void* x, void* y,
                                                          ThreadpoolHandle pool) {
  const Api& api = host_.api();
  auto op = std::make_unique<OperatorPtr>(api);
  check_status(api.create_convert_nc(to_half, v.c, 0, op->out()), "NHWC region", "xnn_create_convert_nc");
  check_status(api.setup_convert_nc(op->get(), v.n * v.h * v.w, x, y, pool), "NHWC region", "xnn_setup_convert_nc");
  return op;
}

namespace {
// Whether neonn's GEMM is the faster for `c` by itself, as measured per layer against XNNPACK's (x86-64, AVX-512, 1
// and 2 threads): from about 64K weights (ResNet-50's 1x1 convs of 196 pixels from 1024 inputs to 256 outputs by 10%,
// of 49 pixels by 30%; MobileNetV2's of 49 pixels from 576 to 160 by 25%), and for kxk convs of 16 inputs or more to
// 32 outputs or more (SqueezeNet's 3x3 ones from 16 to 64 channels at 55x55 by 6%, from 32 to 128 at 27x27 by 8%);
// XNNPACK's for smaller 1x1 convs (MobileNetV2's of 784 pixels from 144 to 32 by 20%, SqueezeNet's squeezes to 16).
constexpr int64_t kGemmConvMinWeights = int64_t{1} << 16;
bool gemm_conv_pays(const Conv2dCall& c) {
  return c.c_in * c.c_out * c.k_h * c.k_w >= kGemmConvMinWeights || (c.k_h * c.k_w > 1 && c.c_in >= 16 && c.c_out >= 32);
}
}  // namespace

XnnpackRegionPlan::XnnpackRegionPlan(const RegionHost& host, const RegionGraph& g)
    : host_(host), graph_(g), esize_(g.fp16 && host.fp16() ? 2 : 4) {
  // XNNPACK's setup (reshape) tiles each operator for the pool's threads: the pool, waited for.
  const PoolLease lease(PoolLease::kWait);
  const ThreadpoolHandle pool = pool_of(lease);
  const size_t nv = g.values.size(), nn = g.nodes.size();
  const bool half = esize_ == 2;
  // Readers per value, and output bounds per node (a conv's ReLU, folded clamps).
  std::vector<size_t> readers(nv, 0);
  for (const RegionNode& n : g.nodes) {
    for (size_t v : n.inputs) ++readers[v];
  }
  std::vector<float> lo(nn, -kInf), hi(nn, kInf);
  std::vector<size_t> producer(nv, SIZE_MAX), alias(nv);
  for (size_t v = 0; v < nv; ++v) alias[v] = v;
  std::vector<bool> folded(nn, false);
  size_t folds = 0, adds = 0;
  // Convs of one group on neonn's GEMM (xnnpack_gemm_conv.cc) where this CPU has its kernel (x86-64 with AVX-512):
  // those that Winograd, the depthwise and the narrow kernels do not take, bar a model's stem (3 or so input
  // channels: XNNPACK's kernel is the faster one there). Chosen before the clamps are folded, as an add can be folded
  // into them. NEONN_GEMM_CONV: "on" takes every conv it fits (tests), "off" none.
  const char* env = std::getenv("NEONN_GEMM_CONV");
  const int force = env == nullptr ? 0 : std::strcmp(env, "on") == 0 ? 1 : std::strcmp(env, "off") == 0 ? -1 : 0;
  std::vector<bool> gemm(nn, false);
#if defined(__x86_64__)
  for (size_t k = 0; k < nn && !half && force >= 0; ++k) {
    const RegionNode& n = g.nodes[k];
    const Conv2dCall& c = n.conv;
    if (n.kind != RegionNode::Kind::kConv || !gemm_conv_fits(c) || (force == 0 && (c.c_out <= 16 || (c.k_h * c.k_w > 1 && c.c_in < 16)))) continue;
    // Winograd where it still pays against the GEMM (for a conv of 64K weights or more: measured on those).
    const bool big = force > 0 || c.c_in * c.c_out * c.k_h * c.k_w >= kGemmConvMinWeights;
    gemm[k] = g.direct_sums || !WinogradConv::wanted(c, big);
  }
#endif
  std::vector<size_t> residual_of(nn, SIZE_MAX);  // per conv: the value an add folded into it adds to its output
  for (size_t k = 0; k < nn; ++k) {
    const RegionNode& n = g.nodes[k];
    if (n.kind == RegionNode::Kind::kBinary && n.fn == RegionNode::Fn::kAdd && n.inputs.size() == 2) {
      // An add of two values of one shape, one of them made by a conv on neonn's GEMM (with no clamp of its own) and
      // read by nothing else, the other made before that conv runs: the conv adds it to its sums as it stores them
      // (ResNet's blocks), and a clamp after the add folds into the conv as well.
      const RegionValue &a = g.values[n.inputs[0]], &b = g.values[n.inputs[1]];
      const bool same = a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w && !a.plain && !b.plain;
      size_t fused = SIZE_MAX;
      for (size_t i = 0; i < 2 && same && fused == SIZE_MAX; ++i) {
        const size_t v = n.inputs[i], r = n.inputs[1 - i], p = producer[v];
        if (p != SIZE_MAX && gemm[p] && readers[v] == 1 && !g.values[v].exit && r != v &&
            lo[p] == -kInf && hi[p] == kInf && residual_of[p] == SIZE_MAX && (producer[r] == SIZE_MAX || producer[r] < p)) {
          residual_of[p] = r;
          alias[n.output] = alias[v];
          folded[k] = true;
          fused = p;
          ++adds;
        }
      }
      if (fused != SIZE_MAX) {
        producer[n.output] = fused;
        continue;
      }
    }
    if (n.kind == RegionNode::Kind::kConv && n.conv.activation == Activation::kRelu) lo[k] = 0.0f;
    if (n.kind == RegionNode::Kind::kToPlain) {
      // The NHWC buffer is already the Transpose's result: the output is its input's buffer.
      alias[n.output] = alias[n.inputs[0]];
      folded[k] = true;
    }
    if (n.kind == RegionNode::Kind::kClamp) {
      const size_t v = n.inputs[0];
      const size_t p = producer[v];
      // Into a conv or a pooling (XNNPACK's add has no output clamp).
      const bool clamps = p != SIZE_MAX && (g.nodes[p].kind == RegionNode::Kind::kConv || g.nodes[p].kind == RegionNode::Kind::kPool);
      if (clamps && readers[v] == 1 && !g.values[v].exit) {
        lo[p] = std::max(lo[p], n.min);
        hi[p] = std::min(hi[p], n.max);
        alias[n.output] = alias[v];
        folded[k] = true;
        ++folds;
      } else {
        lo[k] = n.min;
        hi[k] = n.max;
      }
    }
    producer[n.output] = k;
  }
  // The GEMM where it pays (gemm_conv_pays), or where an add folds into the conv: that saves a pass over the output
  // (3.2 MB for ResNet-50's first blocks).
  for (size_t k = 0; k < nn; ++k) {
    if (!gemm[k]) continue;
    const Conv2dCall& c = g.nodes[k].conv;
    if (force == 0 && residual_of[k] == SIZE_MAX && !gemm_conv_pays(c)) continue;
    gemm_convs_.resize(nn);
    gemm_convs_[k] = make_gemm_conv_nhwc(c, -kInf, kInf, static_cast<size_t>(c.c_out));
    if (!gemm_convs_[k]) throw_range_error("NHWC region, step " + std::to_string(g.nodes[k].step) + ": a conv neonn's GEMM takes would not plan");
  }
  // Lifetimes of the buffers (by representative value): entries from the start, exits to the end.
  std::vector<size_t> last(nv, 0);
  for (size_t k = 0; k < nn; ++k) {
    for (size_t v : g.nodes[k].inputs) last[alias[v]] = std::max(last[alias[v]], k);
  }
  for (size_t v = 0; v < nv; ++v) {
    if (g.values[v].exit) last[alias[v]] = SIZE_MAX;
  }
  // Concat along channels: an input that a conv, a pooling or a clamp of the region made, and that nothing else
  // reads, is written by its maker straight into its channels of the concat's buffer (XNNPACK's output pixel
  // stride); the others are copied there when the concat's turn comes. The concat's buffer is then taken when its
  // first such maker runs.
  std::vector<size_t> out_stride(nn, 0);                             // per node: its output's pixel stride (0: dense)
  std::vector<size_t> direct_into(nv, SIZE_MAX), channel_at(nv, 0);  // per representative value
  std::vector<size_t> take_at(nn);                                   // per node: when its output's buffer is taken
  for (size_t k = 0; k < nn; ++k) take_at[k] = k;
  for (size_t k = 0; k < nn; ++k) {
    const RegionNode& n = g.nodes[k];
    if (n.kind != RegionNode::Kind::kConcat) continue;
    size_t offset = 0;
    for (size_t v : n.inputs) {
      const size_t rep = alias[v], p = producer[rep];
      const bool maker = p != SIZE_MAX && (g.nodes[p].kind == RegionNode::Kind::kConv || g.nodes[p].kind == RegionNode::Kind::kPool ||
                                           g.nodes[p].kind == RegionNode::Kind::kClamp || g.nodes[p].kind == RegionNode::Kind::kUnary);
      // Read once, by this concat (through a folded clamp when rep != v), and in it once.
      const bool only_here = readers[v] == 1 && (rep == v || readers[rep] == 1) && !g.values[v].exit && !g.values[rep].exit &&
                             std::count(n.inputs.begin(), n.inputs.end(), v) == 1;
      if (maker && only_here && direct_into[rep] == SIZE_MAX) {
        direct_into[rep] = n.output;
        channel_at[rep] = offset;
        out_stride[p] = g.values[n.output].c;
        take_at[k] = std::min(take_at[k], p);
      }
      offset += g.values[v].c;
    }
  }
  struct Slot {
    char* data;
    size_t bytes;
    size_t busy_until;  // the last node that reads what it holds (SIZE_MAX: an exit's)
    bool used;
  };
  std::vector<Slot> slots;
  buffer_of_.assign(nv, nullptr);
  auto take = [&](size_t v, size_t at) {
    const size_t need = g.values[v].elements() * esize_;
    Slot* best = nullptr;
    for (Slot& s : slots) {
      const bool free = !s.used || (s.busy_until != SIZE_MAX && s.busy_until < at);
      if (free && s.bytes >= need && (best == nullptr || s.bytes < best->bytes)) best = &s;
    }
    if (best == nullptr) {
      slots.push_back(Slot{allocate(need), need, 0, false});
      best = &slots.back();
    }
    best->used = true;
    best->busy_until = last[v];
    buffer_of_[v] = best->data;
  };
  for (size_t v = 0; v < nv; ++v) {
    if (g.values[v].entry) take(v, 0);
  }
  for (size_t at = 0; at < nn; ++at) {
    // Concats whose buffer their first direct maker writes, then the node's own output.
    for (size_t k = at + 1; k < nn; ++k) {
      if (take_at[k] == at) take(g.nodes[k].output, at);
    }
    const size_t out = g.nodes[at].output;
    if (folded[at] || direct_into[out] != SIZE_MAX || take_at[at] != at) continue;
    // Not before `at`: an op never writes over what it reads (its inputs are busy until it runs).
    take(out, at);
  }
  for (size_t v = 0; v < nv; ++v) {
    if (direct_into[v] != SIZE_MAX) buffer_of_[v] = buffer_of_[direct_into[v]] + channel_at[v] * esize_;
  }
  for (size_t v = 0; v < nv; ++v) buffer_of_[v] = buffer_of_[alias[v]];
  for (size_t k = 0; k < nn; ++k) {
    const RegionNode& n = g.nodes[k];
    if (n.kind != RegionNode::Kind::kConcat) continue;
    size_t offset = 0;
    for (size_t v : n.inputs) {
      if (direct_into[alias[v]] != n.output) copies_.push_back(Copy{k, v, offset});
      offset += g.values[v].c;
    }
  }
  node_bytes_.assign(nn, 0);

  // fp16: the fp32 staging buffer and a converter per entry and exit.
  convert_.resize(nv);
  if (half) {
    size_t most = 0;
    for (const RegionValue& v : g.values) {
      if (v.entry || v.exit) most = std::max(most, v.elements());
    }
    stage_ = reinterpret_cast<float*>(allocate(most * sizeof(float)));
    for (size_t v = 0; v < nv; ++v) {
      if (g.values[v].entry) convert_[v] = converter(true, g.values[v], stage_, buffer_of_[v], pool);
      if (g.values[v].exit) convert_[v] = converter(false, g.values[v], buffer_of_[v], stage_, pool);
    }
  }
  node_bytes_[0] = bytes_;  // the buffers

  // Operators, created and set up once.
  const Api& api = host.api();
  size_t made = 0, winograds = 0, winograd_floats = 0;
  winograd_.resize(nn);
  size_t gemms = 0;
  for (size_t k = 0; k < nn; ++k) {
    const RegionNode& n = g.nodes[k];
    ops_.push_back(nullptr);
    if (k < gemm_convs_.size() && gemm_convs_[k]) {
      GemmConvNhwc& gc = *gemm_convs_[k];
      gc.lo = lo[k], gc.hi = hi[k];
      gc.y_stride = out_stride[k] != 0 ? out_stride[k] : static_cast<size_t>(n.conv.c_out);
      if (residual_of[k] != SIZE_MAX) {
        const size_t r = residual_of[k], rep = alias[r];
        gc.residual = reinterpret_cast<const float*>(buffer_of_[r]);
        gc.residual_stride = direct_into[rep] != SIZE_MAX ? g.values[direct_into[rep]].c : g.values[r].c;
      }
      node_bytes_[k] += (gc.w.size() + gc.bias.size() + gc.zeros.size()) * sizeof(float);
      ++gemms;
      continue;
    }
    // Winograd where it pays (xnnpack_winograd.h), in fp32, and not in a quantized model's float stretches: they round
    // values to quantization grids, and Winograd's rounding, some 10x a direct sum's, would move values across the
    // grids' rounding points (region.h).
    if (n.kind == RegionNode::Kind::kConv && !folded[k] && !half && !g.direct_sums && WinogradConv::wanted(n.conv, k < gemm.size() && gemm[k])) {
      const Conv2dCall& c = n.conv;
      winograd_[k] = std::make_unique<WinogradConv>(api, c, lo[k], hi[k], out_stride[k] != 0 ? out_stride[k] : static_cast<size_t>(c.c_out), pool);
      node_bytes_[k] += winograd_[k]->bytes();
      winograd_floats = std::max(winograd_floats, winograd_[k]->scratch_floats());
      ++winograds;
      continue;
    }
#if defined(__x86_64__)
    // Depthwise 3x3 convs in fp32 on neonn's kernel where this CPU has one (xnnpack_nhwc.h).
    if (n.kind == RegionNode::Kind::kConv && !folded[k] && !half) {
      const size_t stride = out_stride[k] != 0 ? out_stride[k] : static_cast<size_t>(n.conv.c_out);
      if (std::unique_ptr<DwConvNhwc> dw = make_dw_conv_nhwc(n.conv, lo[k], hi[k], stride)) {
        node_bytes_[k] += (dw->w.size() + dw->bias.size()) * sizeof(float);
        dw_convs_.resize(nn);
        dw_convs_[k] = std::move(dw);
        ++made;
        continue;
      }
      if (std::unique_ptr<NarrowConvNhwc> nc = make_narrow_conv_nhwc(n.conv, lo[k], hi[k], stride)) {
        node_bytes_[k] += (nc->w.size() + nc->bias.size()) * sizeof(float);
        // A model's stem (an image of 3 channels in, 16 out): read where it lies, no transpose in.
        const size_t v = n.inputs[0];
        if (g.values[v].entry && readers[v] == 1 && narrow_conv_read_nchw(*nc)) {
          in_place_.resize(nv, false);
          in_place_[v] = true;
        }
        narrow_convs_.resize(nn);
        narrow_convs_[k] = std::move(nc);
        ++made;
        continue;
      }
    }
    // Max pooling in fp32 on neonn's kernel: XNNPACK's for x86 takes four channels a step (SSE) whatever the CPU.
    if (n.kind == RegionNode::Kind::kPool && !folded[k] && !half && n.pool.kind == PoolKind::kMax && n.pool.dilation_h == 1 &&
        n.pool.dilation_w == 1) {
      const Pool2dCall& c = n.pool;
      MaxPoolNhwc p;
      p.n = static_cast<size_t>(c.n), p.in_h = static_cast<size_t>(c.in_h), p.in_w = static_cast<size_t>(c.in_w);
      p.channels = static_cast<size_t>(c.c), p.out_h = static_cast<size_t>(c.out_h), p.out_w = static_cast<size_t>(c.out_w);
      p.k_h = static_cast<size_t>(c.k_h), p.k_w = static_cast<size_t>(c.k_w);
      p.stride_h = static_cast<size_t>(c.stride_h), p.stride_w = static_cast<size_t>(c.stride_w);
      p.pad_top = static_cast<size_t>(c.pad_top), p.pad_left = static_cast<size_t>(c.pad_left);
      p.y_stride = out_stride[k] != 0 ? out_stride[k] : p.channels;
      p.lo = lo[k], p.hi = hi[k];
      if (max_pool_nhwc_fits(p)) {
        max_pools_.resize(nn);
        max_pools_[k] = std::make_unique<MaxPoolNhwc>(p);
        ++made;
        continue;
      }
    }
#endif
    if (n.kind == RegionNode::Kind::kKernel && half) throw_range_error("NHWC region: a generic kernel in an fp16 region");
    if (folded[k] || n.kind == RegionNode::Kind::kConcat || n.kind == RegionNode::Kind::kPixels ||
        n.kind == RegionNode::Kind::kKernel || n.kind == RegionNode::Kind::kChannels) {
      continue;
    }
    auto op = std::make_unique<OperatorPtr>(api);
    const RegionValue& in = g.values[n.inputs[0]];
    const void* x = buffer_of_[n.inputs[0]];
    void* y = buffer_of_[n.output];
    const std::string what = "NHWC region, step " + std::to_string(n.step);
    switch (n.kind) {
      case RegionNode::Kind::kConv: {
        const Conv2dCall& c = n.conv;
        const size_t cig = static_cast<size_t>(c.c_in_per_group()), taps = static_cast<size_t>(c.k_h * c.k_w);
        const std::unique_ptr<float[]> w = nhwc_conv_weights(c);
        const auto create = half ? api.create_convolution2d_nhwc_f16 : api.create_convolution2d_nhwc_f32;
        // One operator, or (one group, large weights) one per slice of output channels, each writing its slice of
        // every output pixel: the same sums in the same order, so the same bits.
        const size_t cout = static_cast<size_t>(c.c_out), pixels = static_cast<size_t>(c.n * c.out_h * c.out_w);
        const size_t chunk = c.group == 1 ? conv_chunk(pixels, taps * cig, cout, esize_) : cout;
        for (size_t c0 = 0; c0 < cout; c0 += chunk) {
          const size_t cn = c.group == 1 ? std::min(chunk, cout - c0) : static_cast<size_t>(c.c_out_per_group());
          OperatorPtr* part = op.get();
          if (c0 != 0) {
            split_ops_.resize(nn);
            split_ops_[k].push_back(std::make_unique<OperatorPtr>(api));
            part = split_ops_[k].back().get();
          }
          check_status(create(static_cast<uint32_t>(c.pad_top), static_cast<uint32_t>(c.pad_right),
                              static_cast<uint32_t>(c.pad_bottom), static_cast<uint32_t>(c.pad_left),
                              static_cast<uint32_t>(c.k_h), static_cast<uint32_t>(c.k_w), static_cast<uint32_t>(c.stride_h),
                              static_cast<uint32_t>(c.stride_w), static_cast<uint32_t>(c.dilation_h),
                              static_cast<uint32_t>(c.dilation_w), static_cast<uint32_t>(c.group), cig, cn,
                              static_cast<size_t>(c.c_in), out_stride[k] != 0 ? out_stride[k] : cout, w.get() + c0 * taps * cig,
                              c.bias.data != nullptr ? c.bias.data + c0 : nullptr, lo[k], hi[k], 0, part->out()),
                       what, "xnn_create_convolution2d_nhwc");
          void* y_part = static_cast<char*>(y) + c0 * esize_;
          check_status(half ? api.setup_convolution2d_nhwc_f16(part->get(), in.n, in.h, in.w, x, y_part, pool)
                            : api.setup_convolution2d_nhwc_f32(part->get(), in.n, in.h, in.w, static_cast<const float*>(x),
                                                               static_cast<float*>(y_part), pool),
                       what, "xnn_setup_convolution2d_nhwc");
          if (c0 != 0) ++made;
        }
        node_bytes_[k] += static_cast<size_t>(c.group) * ((static_cast<size_t>(c.c_out_per_group()) + 15) / 16 * 16) *
                          (taps * cig + 1) * esize_;
        break;
      }
      case RegionNode::Kind::kPool: {
        const Pool2dCall& c = n.pool;
        const bool global = c.kind == PoolKind::kGlobalAvg;
        const bool is_max = c.kind == PoolKind::kMax;
        int64_t k_h = c.k_h, k_w = c.k_w, s_h = c.stride_h, s_w = c.stride_w, d_h = c.dilation_h, d_w = c.dilation_w;
        int64_t pt = c.pad_top, pl = c.pad_left, pb = c.pad_bottom, pr = c.pad_right;
        if (global) {
          k_h = c.in_h, k_w = c.in_w, s_h = s_w = d_h = d_w = 1, pt = pl = pb = pr = 0;
        } else {
          const bool padded = pt != 0 || pl != 0 || pb != 0 || pr != 0;
          const bool dilated = d_h != 1 || d_w != 1;
          if (is_max ? dilated && (padded || c.ceil_mode) : dilated || (c.count_include_pad && padded)) {
            throw_range_error(what + ": a pooling XNNPACK does not compute as neonn defines it");
          }
          const int64_t ext_h = d_h * (k_h - 1) + 1, ext_w = d_w * (k_w - 1) + 1;
          pb += std::max<int64_t>(0, (c.out_h - 1) * s_h + ext_h - (c.in_h + pt + pb));
          pr += std::max<int64_t>(0, (c.out_w - 1) * s_w + ext_w - (c.in_w + pl + pr));
          if ((c.in_h + pt + pb - ext_h) / s_h + 1 != c.out_h || (c.in_w + pl + pr - ext_w) / s_w + 1 != c.out_w) {
            throw_range_error(what + ": XNNPACK's pooling output size differs");
          }
        }
        if (k_h * k_w == 1) throw_range_error(what + ": a 1x1 pooling");
        for (int64_t v : {pt, pl, pb, pr, k_h, k_w, s_h, s_w, d_h, d_w}) {
          if (!fits_u32(v)) throw_range_error(what + ": a pooling parameter past 32 bits");
        }
        const size_t ch = static_cast<size_t>(c.c), ch_out = out_stride[k] != 0 ? out_stride[k] : ch;
        const auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
        int status;
        if (is_max) {
          const auto create = half ? api.create_max_pooling2d_nhwc_f16 : api.create_max_pooling2d_nhwc_f32;
          status = create(u(pt), u(pr), u(pb), u(pl), u(k_h), u(k_w), u(s_h), u(s_w), u(d_h), u(d_w), ch, ch, ch_out, lo[k],
                          hi[k], 0, op->out());
        } else {
          const auto create = half ? api.create_average_pooling2d_nhwc_f16 : api.create_average_pooling2d_nhwc_f32;
          status = create(u(pt), u(pr), u(pb), u(pl), u(k_h), u(k_w), u(s_h), u(s_w), ch, ch, ch_out, lo[k], hi[k], 0, op->out());
        }
        check_status(status, what, is_max ? "xnn_create_max_pooling2d_nhwc" : "xnn_create_average_pooling2d_nhwc");
        if (half) {
          const auto setup = is_max ? api.setup_max_pooling2d_nhwc_f16 : api.setup_average_pooling2d_nhwc_f16;
          check_status(setup(op->get(), in.n, in.h, in.w, x, y, pool), what, "xnn_setup_pooling2d_nhwc_f16");
        } else {
          const auto setup = is_max ? api.setup_max_pooling2d_nhwc_f32 : api.setup_average_pooling2d_nhwc_f32;
          check_status(setup(op->get(), in.n, in.h, in.w, static_cast<const float*>(x), static_cast<float*>(y), pool), what,
                       "xnn_setup_pooling2d_nhwc_f32");
        }
        break;
      }
      case RegionNode::Kind::kClamp: {
        const size_t stride = out_stride[k] != 0 ? out_stride[k] : in.c;
        const auto create = half ? api.create_clamp_nc_f16 : api.create_clamp_nc_f32;
        check_status(create(in.c, in.c, stride, lo[k], hi[k], 0, op->out()), what, "xnn_create_clamp_nc");
        check_status(half ? api.setup_clamp_nc_f16(op->get(), in.n * in.h * in.w, x, y, pool)
                          : api.setup_clamp_nc_f32(op->get(), in.n * in.h * in.w, static_cast<const float*>(x),
                                                   static_cast<float*>(y), pool),
                     what, "xnn_setup_clamp_nc");
        break;
      }
      case RegionNode::Kind::kGemm: {
        // XNNPACK's weights are [N][K]: B as it is when transposed, else a transposed copy.
        const GemmParams& p = n.gemm.params;
        const size_t k_in = static_cast<size_t>(p.a_cols), n_out = static_cast<size_t>(p.trans_b ? p.b_rows : p.b_cols);
        std::unique_ptr<float[]> w;
        const float* kernel = n.gemm.buffers.b.data;
        if (!p.trans_b) {
          w = scratch(k_in * n_out);
          for (size_t r = 0; r < k_in; ++r) {
            for (size_t col = 0; col < n_out; ++col) w[col * k_in + r] = kernel[r * n_out + col];
          }
          kernel = w.get();
        }
        const auto create = half ? api.create_fully_connected_nc_f16 : api.create_fully_connected_nc_f32;
        check_status(create(k_in, n_out, k_in, n_out, kernel, p.has_c ? n.gemm.buffers.c.data : nullptr, -kInf, kInf, 0,
                            op->out()),
                     what, "xnn_create_fully_connected_nc");
        const size_t rows = static_cast<size_t>(p.a_rows);
        check_status(half ? api.setup_fully_connected_nc_f16(op->get(), rows, x, y, pool)
                          : api.setup_fully_connected_nc_f32(op->get(), rows, static_cast<const float*>(x),
                                                             static_cast<float*>(y), pool),
                     what, "xnn_setup_fully_connected_nc");
        node_bytes_[k] += (n_out + 16) * (k_in + 1) * esize_;
        break;
      }
      case RegionNode::Kind::kConcat:
      case RegionNode::Kind::kPixels:
      case RegionNode::Kind::kKernel:
      case RegionNode::Kind::kChannels:
      case RegionNode::Kind::kToPlain:
        break;  // in run(), or no work
      case RegionNode::Kind::kQConv:
      case RegionNode::Kind::kQAdd:
      case RegionNode::Kind::kQGlobalAvg:
      case RegionNode::Kind::kQMaxPool:
      case RegionNode::Kind::kQConcat:
      case RegionNode::Kind::kQuantize:
      case RegionNode::Kind::kDequantize:
      case RegionNode::Kind::kQTable:
        throw_range_error(what + ": an 8-bit op in a float region");
      case RegionNode::Kind::kBinary: {
        // NCHW's broadcast dims, in NHWC order: numpy broadcasting of the same dims.
        const RegionValue& bv = g.values[n.inputs[1]];
        const size_t a_shape[4] = {in.n, in.h, in.w, in.c}, b_shape[4] = {bv.n, bv.h, bv.w, bv.c};
        static const BinaryFn fns[] = {BinaryFn::kAdd, BinaryFn::kSub, BinaryFn::kMul, BinaryFn::kDiv};
        const BinaryFn fn = fns[static_cast<int>(n.fn) - static_cast<int>(RegionNode::Fn::kAdd)];
        check_status(api.create_binary_nd(fn, half, 0, op->out()), what, "xnn_create_binary_elementwise_nd");
        check_status(api.setup_binary_nd(op->get(), 4, a_shape, 4, b_shape, x, buffer_of_[n.inputs[1]], y, pool), what,
                     "xnn_setup_binary_elementwise_nd");
        break;
      }
      case RegionNode::Kind::kUnary: {
        const UnaryFn fn = n.fn == RegionNode::Fn::kSigmoid     ? UnaryFn::kSigmoid
                           : n.fn == RegionNode::Fn::kTanh      ? UnaryFn::kTanh
                           : n.fn == RegionNode::Fn::kHardSwish ? UnaryFn::kHardSwish
                                                                : UnaryFn::kLeakyRelu;
        const size_t stride = out_stride[k] != 0 ? out_stride[k] : in.c;
        check_status(api.create_unary_nc(fn, half, n.alpha, in.c, in.c, stride, 0, op->out()), what,
                     "xnn_create_unary_elementwise_nc");
        check_status(api.setup_unary_nc(op->get(), in.n * in.h * in.w, x, y, pool), what, "xnn_setup_unary_elementwise_nc");
        break;
      }
    }
    ops_.back() = std::move(op);
    ++made;
  }
  if (winograd_floats != 0) {
    const size_t before = bytes_;
    winograd_scratch_ = reinterpret_cast<float*>(allocate(winograd_floats * sizeof(float)));
    node_bytes_[0] += bytes_ - before;
  }
  bytes_ = 0;
  for (size_t b : node_bytes_) bytes_ += b;
  size_t entries = 0, exits = 0, plain_exits = 0, in_place = 0;
  for (bool b : in_place_) in_place += b ? 1 : 0;
  for (const RegionValue& v : g.values) {
    entries += v.entry ? 1 : 0;
    exits += v.exit && !v.plain ? 1 : 0;
    plain_exits += v.exit && v.plain ? 1 : 0;
  }
  const char* precision = half ? " in fp16" : g.fp16 ? " in fp32 (fp16 asked for; XNNPACK has no fp16 on this CPU)" : "";
  describe_ = std::string("NHWC region on XNNPACK") + precision + ": " + std::to_string(nn) + " steps (" +
              std::to_string(g.nodes.front().step) + "-" + std::to_string(g.nodes.back().step) + ") as " +
              std::to_string(made + winograds + gemms) + " operators (" + std::to_string(folds) + " clamps folded" +
              (adds != 0 ? ", " + std::to_string(adds) + " adds folded into convs" : std::string()) +
              (winograds != 0 ? ", " + std::to_string(winograds) + " 3x3 convs as Winograd F(4x4, 3x3)" : std::string()) +
              (gemms != 0 ? ", " + std::to_string(gemms) + " convs on neonn's GEMM" : std::string()) + "), " +
              std::to_string(entries) + " transposes in" +
              (in_place != 0 ? " (" + std::to_string(in_place) + " read by its conv as it is instead)" : std::string()) + ", " +
              std::to_string(exits) + " out" +
              (plain_exits != 0 ? ", " + std::to_string(plain_exits) + " copied out as they are (NHWC Transposes)" : std::string());
}

bool XnnpackRegionPlan::run(const std::vector<const float*>& entries, const std::vector<float*>& exits) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const SpinningWorkers spinning;  // neonn's loops here run between XNNPACK's operators
  const Api& api = host_.api();
  const size_t nv = graph_.values.size();
  // The pool is held per XNNPACK call, not for the region: its generic kernels run neonn's loops on it in between.
  auto run_op = [&](const OperatorPtr& op) {
    const PoolLease lease;
    check_status(api.run_operator(op.get(), pool_of(lease)), "NHWC region", "xnn_run_operator");
  };
  auto transpose = [&](const float* src, float* dst, size_t images, size_t rows, size_t cols) {
    const PoolLease lease;
    return host_.transpose(src, dst, images, rows, cols, false, pool_of(lease));
  };
  for (size_t v = 0; v < nv; ++v) {
    const RegionValue& r = graph_.values[v];
    if (!r.entry) continue;
    if (v < in_place_.size() && in_place_[v]) {
      // Read where it lies by its one reader: only checked (the transpose in checks as it goes).
      if (!all_finite(entries[v], r.elements())) return false;
      continue;
    }
    float* nhwc = convert_[v] ? stage_ : reinterpret_cast<float*>(buffer_of_[v]);
    if (!transpose(entries[v], nhwc, r.n, r.c, r.h * r.w)) return false;
    if (convert_[v]) run_op(*convert_[v]);
  }
  size_t next_copy = 0;
  for (size_t k = 0; k < ops_.size(); ++k) {
    if (ops_[k]) run_op(*ops_[k]);
    if (k < split_ops_.size()) {
      for (const auto& part : split_ops_[k]) run_op(*part);
    }
    const RegionNode& node = graph_.nodes[k];
    if (k < dw_convs_.size() && dw_convs_[k]) {
      dw_conv_nhwc(*dw_convs_[k], reinterpret_cast<const float*>(buffer_of_[node.inputs[0]]),
                   reinterpret_cast<float*>(buffer_of_[node.output]));
    }
    if (k < narrow_convs_.size() && narrow_convs_[k]) {
      const size_t v = node.inputs[0];
      const float* x = v < in_place_.size() && in_place_[v] ? entries[v] : reinterpret_cast<const float*>(buffer_of_[v]);
      narrow_conv_nhwc(*narrow_convs_[k], x, reinterpret_cast<float*>(buffer_of_[node.output]));
    }
    if (k < gemm_convs_.size() && gemm_convs_[k]) {
      gemm_conv_nhwc(*gemm_convs_[k], reinterpret_cast<const float*>(buffer_of_[node.inputs[0]]),
                     reinterpret_cast<float*>(buffer_of_[node.output]));
    }
    if (k < max_pools_.size() && max_pools_[k]) {
      max_pool_nhwc(*max_pools_[k], reinterpret_cast<const float*>(buffer_of_[node.inputs[0]]),
                    reinterpret_cast<float*>(buffer_of_[node.output]));
    }
    if (winograd_[k]) {
      winograd_[k]->run(reinterpret_cast<const float*>(buffer_of_[node.inputs[0]]), reinterpret_cast<float*>(buffer_of_[node.output]),
                        winograd_scratch_);
    }
    if (node.kind == RegionNode::Kind::kKernel) {
      // Elementwise: the NHWC buffer as a flat run of floats.
      const RegionValue& in = graph_.values[node.inputs[0]];
      KernelCall call;
      call.op = node.kernel->name;
      call.attrs = node.attrs;
      TensorRef x, y;
      x.dtype = y.dtype = DType::kFloat32;
      x.shape = y.shape = {static_cast<int64_t>(in.elements())};
      x.data = buffer_of_[node.inputs[0]];
      y.data = buffer_of_[node.output];
      call.inputs = {x};
      call.outputs = {y};
      node.kernel->run(call);
    }
    if (node.kind == RegionNode::Kind::kPixels) {
      // Nearest-neighbour resize: each output pixel's channels copied from its input pixel.
      const RegionValue& in = graph_.values[node.inputs[0]];
      const size_t row = in.c * esize_, plane = in.h * in.w, out_plane = node.pixel_map.size();
      for (size_t b = 0; b < in.n; ++b) {
        const char* src = buffer_of_[node.inputs[0]] + b * plane * row;
        char* dst = buffer_of_[node.output] + b * out_plane * row;
        for (size_t p = 0; p < out_plane; ++p) std::memcpy(dst + p * row, src + node.pixel_map[p] * row, row);
      }
    }
    if (node.kind == RegionNode::Kind::kChannels) {
      const RegionValue& in = graph_.values[node.inputs[0]];
      if (esize_ == 4) {
        map_channels(reinterpret_cast<const float*>(buffer_of_[node.inputs[0]]), reinterpret_cast<float*>(buffer_of_[node.output]),
                     in.n * in.h * in.w, in.c, node.channel_map);
      } else {
        map_channels(reinterpret_cast<const uint16_t*>(buffer_of_[node.inputs[0]]), reinterpret_cast<uint16_t*>(buffer_of_[node.output]),
                     in.n * in.h * in.w, in.c, node.channel_map);
      }
    }
    for (; next_copy < copies_.size() && copies_[next_copy].node == k; ++next_copy) {
      const Copy& c = copies_[next_copy];
      const RegionValue& in = graph_.values[c.value];
      const size_t row = in.c * esize_, stride = graph_.values[graph_.nodes[k].output].c * esize_;
      const char* src = buffer_of_[c.value];
      char* dst = buffer_of_[graph_.nodes[k].output] + c.channel * esize_;
      parallel_for(in.n * in.h * in.w, parallel_grain(row / 4 + 1), [&](size_t b, size_t e) {
        for (size_t p = b; p < e; ++p) std::memcpy(dst + p * stride, src + p * row, row);
      });
    }
  }
  // An exit's NHWC values in fp32 (in fp16: converted into the staging buffer).
  auto fp32_of = [&](size_t v) {
    if (!convert_[v]) return reinterpret_cast<const float*>(buffer_of_[v]);
    run_op(*convert_[v]);
    return static_cast<const float*>(stage_);
  };
  // Checked before any exit is written: the steps one by one must still find their inputs. (In fp16 the staging
  // buffer holds one exit at a time, so each is converted twice.)
  for (size_t v = 0; v < nv; ++v) {
    if (!graph_.values[v].exit) continue;
    const float* b = fp32_of(v);
    uint32_t bad = 0;
    for (size_t i = 0, e = graph_.values[v].elements(); i < e; ++i) bad |= non_finite(b[i]);
    if (bad != 0) return false;
  }
  for (size_t v = 0; v < nv; ++v) {
    const RegionValue& r = graph_.values[v];
    if (!r.exit) continue;
    if (r.plain) {
      std::memcpy(exits[v], fp32_of(v), r.elements() * sizeof(float));
    } else {
      transpose(fp32_of(v), exits[v], r.n, r.h * r.w, r.c);
    }
  }
  const Backend& counted = host_.counted();
  for (const RegionNode& n : graph_.nodes) {
    counted.count_op();
    if (n.kind == RegionNode::Kind::kConv) counted.count_conv(ConvAlgorithm::kXnnpack);
  }
  return true;
}

}  // namespace

std::unique_ptr<RegionPlan> make_region_plan(const RegionHost& host, const RegionGraph& graph) {
  if (graph.quantized) return make_quantized_region_plan(host, graph);
  return std::make_unique<XnnpackRegionPlan>(host, graph);
}

bool fp16_supported(const Api& api) {
  // A 1x1 conv of one channel, made and run on two pixels.
  const float w = 1.0f;
  OperatorPtr op(api);
  if (api.create_convolution2d_nhwc_f16(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, &w, nullptr, -kInf, kInf, 0,
                                        op.out()) != kSuccess) {
    return false;
  }
  uint16_t x[2 + kExtraBytes / 2] = {0x3c00, 0x4000}, y[2] = {0, 0};  // 1.0, 2.0
  return api.setup_convolution2d_nhwc_f16(op.get(), 1, 1, 2, x, y, nullptr) == kSuccess &&
         api.run_operator(op.get(), nullptr) == kSuccess && y[0] == 0x3c00 && y[1] == 0x4000;
}

}  // namespace xnn
}  // namespace neonn
