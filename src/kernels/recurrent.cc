// ONNX's recurrent ops LSTM, GRU and RNN over float32 sequences. One driver does what they
// share: the checks and shapes, the input projection X·Wᵀ + Wb of every time
// step at once (one GEMM per direction on the active backend), the
// directions, sequence_lens (reverse starts at each row's own last step;
// rows past their length write zeros to Y and keep their state for Y_h),
// both layouts, and per step the recurrent projection Hₜ₋₁·Rᵀ + Rb of every
// row at once. A cell (LSTM, ...) turns those two projections into the new
// state.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../parallel.h"
#include "../registry.h"
#include "kernel.h"

namespace neonn {
namespace {

// ---- activations ---------------------------------------------------------------

enum class Act { kSigmoid, kTanh, kRelu, kHardSigmoid, kLeakyRelu, kThresholdedRelu, kScaledTanh, kAffine, kElu, kSoftsign, kSoftplus };

struct ActInfo {
  const char* name;  // lower case
  Act kind;
  int params;  // how many of (alpha, beta) it takes from activation_alpha/_beta
  float alpha, beta;  // ONNX's defaults
};

// The same list as lib/ir/schema/recurrent.ts's RECURRENT_ACTIVATIONS.
constexpr ActInfo kActs[] = {
    {"sigmoid", Act::kSigmoid, 0, 0, 0},         {"tanh", Act::kTanh, 0, 0, 0},
    {"relu", Act::kRelu, 0, 0, 0},               {"hardsigmoid", Act::kHardSigmoid, 2, 0.2f, 0.5f},
    {"leakyrelu", Act::kLeakyRelu, 1, 0.01f, 0}, {"thresholdedrelu", Act::kThresholdedRelu, 1, 1.0f, 0},
    {"scaledtanh", Act::kScaledTanh, 2, 1.0f, 1.0f}, {"affine", Act::kAffine, 2, 1.0f, 0.0f},
    {"elu", Act::kElu, 1, 1.0f, 0},              {"softsign", Act::kSoftsign, 0, 0, 0},
    {"softplus", Act::kSoftplus, 0, 0, 0},
};

inline float sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

struct Activation {
  Act kind = Act::kSigmoid;
  float alpha = 0, beta = 0;

  /// v[i] = f(v[i]) for i < n (the switch outside the loop).
  void apply(float* v, size_t n) const {
    const float a = alpha, b = beta;
    switch (kind) {
      case Act::kSigmoid: for (size_t i = 0; i < n; ++i) v[i] = sigmoid(v[i]); break;
      case Act::kTanh: for (size_t i = 0; i < n; ++i) v[i] = std::tanh(v[i]); break;
      case Act::kRelu: for (size_t i = 0; i < n; ++i) v[i] = v[i] > 0 ? v[i] : 0.0f; break;
      case Act::kHardSigmoid: for (size_t i = 0; i < n; ++i) v[i] = std::max(0.0f, std::min(1.0f, a * v[i] + b)); break;
      case Act::kLeakyRelu: for (size_t i = 0; i < n; ++i) v[i] = v[i] >= 0 ? v[i] : a * v[i]; break;
      case Act::kThresholdedRelu: for (size_t i = 0; i < n; ++i) v[i] = v[i] > a ? v[i] : 0.0f; break;
      case Act::kScaledTanh: for (size_t i = 0; i < n; ++i) v[i] = a * std::tanh(b * v[i]); break;
      case Act::kAffine: for (size_t i = 0; i < n; ++i) v[i] = a * v[i] + b; break;
      case Act::kElu: for (size_t i = 0; i < n; ++i) v[i] = v[i] >= 0 ? v[i] : a * std::expm1(v[i]); break;
      case Act::kSoftsign: for (size_t i = 0; i < n; ++i) v[i] = v[i] / (1.0f + std::fabs(v[i])); break;
      case Act::kSoftplus:
        for (size_t i = 0; i < n; ++i) v[i] = v[i] > 0 ? v[i] + std::log1p(std::exp(-v[i])) : std::log1p(std::exp(v[i]));
        break;
    }
  }
};

/// The activations of every direction, `per` each: the attribute (one set
/// for both directions when it names only `per`) or `defaults`. alpha and
/// beta are taken in order by the functions that use them, ONNX's defaults
/// once the lists run out.
std::vector<Activation> activations(const KernelCall& c, const std::vector<const char*>& defaults, int64_t dirs) {
  const size_t per = defaults.size();
  std::vector<std::string> names;
  if (c.has_attr("activations")) names = c.attr_strings("activations");
  if (names.empty()) names.assign(defaults.begin(), defaults.end());
  if (names.size() == per && dirs == 2) {
    const std::vector<std::string> one = names;
    names.insert(names.end(), one.begin(), one.end());
  }
  c.check(names.size() == per * static_cast<size_t>(dirs),
          "activations must name " + std::to_string(per * dirs) + " functions, got " + std::to_string(names.size()));
  const std::vector<double> alphas = c.has_attr("activation_alpha") ? c.attr_floats("activation_alpha") : std::vector<double>();
  const std::vector<double> betas = c.has_attr("activation_beta") ? c.attr_floats("activation_beta") : std::vector<double>();
  size_t ai = 0, bi = 0;
  std::vector<Activation> out;
  for (const std::string& name : names) {
    std::string low = name;
    for (char& ch : low) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const ActInfo* info = nullptr;
    for (const ActInfo& a : kActs) {
      if (low == a.name) info = &a;
    }
    c.check(info != nullptr, "activation \"" + name + "\" is not supported");
    Activation a;
    a.kind = info->kind;
    a.alpha = info->params >= 1 && ai < alphas.size() ? static_cast<float>(alphas[ai++]) : info->alpha;
    a.beta = info->params >= 2 && bi < betas.size() ? static_cast<float>(betas[bi++]) : info->beta;
    out.push_back(a);
  }
  return out;
}

// ---- the problem ---------------------------------------------------------------

/// What a cell is: its gate count, its activations and its extra inputs.
struct CellKind {
  int64_t gates;
  std::vector<const char*> activations;
  bool has_cell_state;  // LSTM: initial_c (input 6), P (input 7), Y_c (output 2)
};

/// One call's checked sizes and data.
struct Problem {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 1, gates = 1;
  bool batch_first = false;  // layout 1
  bool reverse_only = false;  // direction "reverse"
  bool has_cell_state = false;  // LSTM's Cₜ
  const float *x = nullptr, *w = nullptr, *r = nullptr, *bias = nullptr, *h0 = nullptr, *c0 = nullptr, *peep = nullptr;
  std::vector<int64_t> lens;  // per batch row
  float clip = std::numeric_limits<float>::infinity();
  std::vector<Activation> acts;  // per direction, the cell's count each
  float *y = nullptr, *yh = nullptr, *yc = nullptr;

  int64_t gh() const { return gates * hidden; }
  /// Offset of (time t, batch row b) in X (input floats each) or in Y (direction d).
  int64_t x_row(int64_t t, int64_t b) const { return batch_first ? b * seq + t : t * batch + b; }
  int64_t y_off(int64_t t, int64_t d, int64_t b) const {
    return (batch_first ? (b * seq + t) * dirs + d : (t * dirs + d) * batch + b) * hidden;
  }
  /// Offset of direction d, row b in initial_h/initial_c/Y_h/Y_c.
  int64_t state_off(int64_t d, int64_t b) const { return (batch_first ? b * dirs + d : d * batch + b) * hidden; }
};

int64_t checked_mul(const KernelCall& c, int64_t a, int64_t b) {
  c.check(a >= 0 && b >= 0 && (a == 0 || b <= std::numeric_limits<int32_t>::max() / a), "sizes are too large");
  return a * b;
}

void expect_shape(const KernelCall& c, const TensorRef* t, const std::vector<int64_t>& want, const char* what) {
  if (t == nullptr) return;
  c.expect_dtype(*t, DType::kFloat32, what);
  c.check(t->shape == want, std::string(what) + " has the wrong shape");
}

Problem parse(const KernelCall& c, const CellKind& kind) {
  Problem p;
  const TensorRef& x = c.in(0);
  const TensorRef& w = c.in(1);
  const TensorRef& r = c.in(2);
  c.expect_dtype(x, DType::kFloat32, "X");
  c.expect_dtype(w, DType::kFloat32, "W");
  c.expect_dtype(r, DType::kFloat32, "R");
  const int64_t layout = c.attr_int("layout", 0);
  c.check(layout == 0 || layout == 1, "layout must be 0 or 1");
  p.batch_first = layout == 1;
  const std::string dir = c.has_attr("direction") ? c.attr_string("direction") : "forward";
  c.check(dir == "forward" || dir == "reverse" || dir == "bidirectional", "direction must be forward, reverse or bidirectional");
  p.dirs = dir == "bidirectional" ? 2 : 1;
  p.reverse_only = dir == "reverse";
  c.check(x.rank() == 3 && r.rank() == 3 && w.rank() == 3, "X, W and R must have 3 dims");
  p.seq = p.batch_first ? x.shape[1] : x.shape[0];
  p.batch = p.batch_first ? x.shape[0] : x.shape[1];
  p.input = x.shape[2];
  p.hidden = r.shape[2];
  c.check(p.hidden >= 1 && (!c.has_attr("hidden_size") || c.attr_int("hidden_size") == p.hidden), "hidden_size does not match R");
  p.gates = kind.gates;
  p.has_cell_state = kind.has_cell_state;
  const int64_t gh = checked_mul(c, p.gates, p.hidden);
  c.check(w.shape == std::vector<int64_t>({p.dirs, gh, p.input}), "W has the wrong shape");
  c.check(r.shape == std::vector<int64_t>({p.dirs, gh, p.hidden}), "R has the wrong shape");
  // Sizes the driver's buffers and GEMMs take (X·Wᵀ of every step, per direction).
  checked_mul(c, checked_mul(c, p.seq, p.batch), std::max(gh, p.input));
  checked_mul(c, p.dirs, gh);
  const std::vector<int64_t> state = p.batch_first ? std::vector<int64_t>{p.batch, p.dirs, p.hidden}
                                                   : std::vector<int64_t>{p.dirs, p.batch, p.hidden};
  const TensorRef* b = c.opt_in(3);
  expect_shape(c, b, {p.dirs, 2 * gh}, "B");
  const TensorRef* h0 = c.opt_in(5);
  expect_shape(c, h0, state, "initial_h");
  p.x = x.as<float>();
  p.w = w.as<float>();
  p.r = r.as<float>();
  p.bias = b ? b->as<float>() : nullptr;
  p.h0 = h0 ? h0->as<float>() : nullptr;
  if (kind.has_cell_state) {
    const TensorRef* c0 = c.opt_in(6);
    const TensorRef* peep = c.opt_in(7);
    expect_shape(c, c0, state, "initial_c");
    expect_shape(c, peep, {p.dirs, 3 * p.hidden}, "P");
    p.c0 = c0 ? c0->as<float>() : nullptr;
    p.peep = peep ? peep->as<float>() : nullptr;
  }
  p.lens.assign(static_cast<size_t>(p.batch), p.seq);
  if (const TensorRef* sl = c.opt_in(4)) {
    c.check(sl->shape == std::vector<int64_t>({p.batch}), "sequence_lens must have shape [batch_size]");
    p.lens = c.int_values(*sl, "sequence_lens");
    for (int64_t l : p.lens) c.check(l >= 0 && l <= p.seq, "sequence_lens values must be in [0, seq_length]");
  }
  if (c.has_attr("clip")) {
    const double clip = c.attr_float("clip");
    c.check(clip > 0, "clip must be positive");
    p.clip = static_cast<float>(clip);
  }
  p.acts = activations(c, kind.activations, p.dirs);
  const size_t max_outputs = kind.has_cell_state ? 3 : 2;
  c.check(c.num_outputs() >= 1 && c.num_outputs() <= max_outputs, "has 1 to " + std::to_string(max_outputs) + " outputs");
  for (size_t i = 0; i < c.num_outputs(); ++i) c.expect_dtype(c.out(i), DType::kFloat32, "outputs");
  c.expect_out_shape(0, p.batch_first ? std::vector<int64_t>{p.batch, p.seq, p.dirs, p.hidden}
                                      : std::vector<int64_t>{p.seq, p.dirs, p.batch, p.hidden});
  p.y = c.out(0).as<float>();
  if (c.num_outputs() > 1) {
    c.expect_out_shape(1, state);
    p.yh = c.out(1).as<float>();
  }
  if (c.num_outputs() > 2) {
    c.expect_out_shape(2, state);
    p.yc = c.out(2).as<float>();
  }
  return p;
}

// ---- the driver ----------------------------------------------------------------

/// C[m, n] = A[m, k] · B[n, k]ᵀ + beta·C (row-major, leading dims given) on the active backend.
void gemm_abt(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta, float* out, int ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0.0f) {
      for (int i = 0; i < m; ++i) std::fill(out + static_cast<size_t>(i) * ldc, out + static_cast<size_t>(i) * ldc + n, 0.0f);
    }
    return;
  }
  Registry& reg = Registry::instance();
  const Backend& be = reg.resolve(reg.active(), Op::kGemm);
  if (m == 1) {
    // One row (batch 1, the usual OCR case): a matrix-vector product, C = B·a, with no packing of B.
    SgemvArgs v;
    v.m = n;
    v.n = k;
    v.a = b;
    v.lda = ldb;
    v.x = a;
    v.beta = beta;
    v.y = out;
    be.sgemv(v);
    return;
  }
  SgemmArgs s;
  s.trans_b = true;
  s.m = m;
  s.n = n;
  s.k = k;
  s.a = a;
  s.lda = lda;
  s.b = b;
  s.ldb = ldb;
  s.beta = beta;
  s.c = out;
  s.ldc = ldc;
  s.on_shared_pool = shares_pool_with_xnnpack(reg.active());
  be.sgemm(s);
}

/// One step of one direction, as a cell sees it.
struct Step {
  const Problem& p;
  int64_t d;                   // direction
  const Activation* acts;      // this direction's
  const float* r;              // R of this direction [gates·hidden, hidden]
  const float* rb;             // Rb of this direction [gates·hidden], or nullptr
  const float* peep;           // P of this direction [3·hidden], or nullptr
  const std::vector<int64_t>& time;  // per row: the time index of this step, -1 when the row is done
  const float* xw;             // X·Wᵀ + Wb, row (time, b) at x_row(time, b)·gates·hidden
  float* hr;                   // [batch, gates·hidden]: Hₜ₋₁·Rᵀ + Rb (the columns the driver computed)
  float* h;                    // [batch, hidden]: the state, updated in place
  float* cst;                  // [batch, hidden]: LSTM's cell state

  const float* xw_row(int64_t b) const { return xw + p.x_row(time[static_cast<size_t>(b)], b) * p.gh(); }
  float clip(float v) const { return std::max(-p.clip, std::min(p.clip, v)); }
  /// Runs fn(b) for every row still in its sequence, rows spread over the threads.
  template <typename F>
  void rows(F fn) const {
    parallel_for(static_cast<size_t>(p.batch), parallel_grain(static_cast<size_t>(p.gh()) * 8), [&](size_t lo, size_t hi) {
      for (size_t b = lo; b < hi; ++b) {
        if (time[b] >= 0) fn(static_cast<int64_t>(b));
      }
    });
  }
};

/// Runs the recurrence of every direction. `rcols`: the columns of
/// Hₜ₋₁·Rᵀ the driver computes each step (a cell that needs the rest
/// computes them itself); `cell(step)` updates the state of every active row.
template <typename Cell>
void drive(const Problem& p, int64_t rcols, Cell cell) {
  const int64_t gh = p.gh(), hid = p.hidden, batch = p.batch;
  const size_t y_count = static_cast<size_t>(p.seq * p.dirs * batch * hid);
  std::fill(p.y, p.y + y_count, 0.0f);  // rows past their sequence_lens stay 0
  std::vector<float> xw(static_cast<size_t>(std::max<int64_t>(1, p.seq * batch * gh)));
  std::vector<float> hr(static_cast<size_t>(std::max<int64_t>(1, batch * gh)));
  std::vector<float> h(static_cast<size_t>(std::max<int64_t>(1, batch * hid)));
  const bool has_cell = p.has_cell_state;
  std::vector<float> cst(has_cell ? h.size() : 0);
  std::vector<int64_t> time(static_cast<size_t>(batch));
  for (int64_t d = 0; d < p.dirs; ++d) {
    const bool reverse = p.reverse_only || d == 1;
    // X·Wᵀ for every (time, row) at once, then + Wb.
    gemm_abt(static_cast<int>(p.seq * batch), static_cast<int>(gh), static_cast<int>(p.input), p.x, static_cast<int>(p.input),
             p.w + d * gh * p.input, static_cast<int>(p.input), 0.0f, xw.data(), static_cast<int>(gh));
    const float* wb = p.bias ? p.bias + d * 2 * gh : nullptr;
    const float* rb = p.bias ? wb + gh : nullptr;
    if (wb) {
      parallel_for(static_cast<size_t>(p.seq * batch), parallel_grain(static_cast<size_t>(gh)), [&](size_t lo, size_t hi) {
        for (size_t i = lo; i < hi; ++i) {
          float* row = xw.data() + i * static_cast<size_t>(gh);
          for (int64_t j = 0; j < gh; ++j) row[j] += wb[j];
        }
      });
    }
    for (int64_t b = 0; b < batch; ++b) {
      float* hb = h.data() + b * hid;
      if (p.h0) std::copy(p.h0 + p.state_off(d, b), p.h0 + p.state_off(d, b) + hid, hb);
      else std::fill(hb, hb + hid, 0.0f);
      if (has_cell) {
        float* cb = cst.data() + b * hid;
        if (p.c0) std::copy(p.c0 + p.state_off(d, b), p.c0 + p.state_off(d, b) + hid, cb);
        else std::fill(cb, cb + hid, 0.0f);
      }
    }
    const float* rd = p.r + d * gh * hid;
    Step st{p, d, p.acts.data() + d * static_cast<int64_t>(p.acts.size()) / p.dirs, rd, rb,
            p.peep ? p.peep + d * 3 * hid : nullptr, time, xw.data(), hr.data(), h.data(), has_cell ? cst.data() : nullptr};
    for (int64_t s = 0; s < p.seq; ++s) {
      bool any = false;
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t len = p.lens[static_cast<size_t>(b)];
        time[static_cast<size_t>(b)] = s < len ? (reverse ? len - 1 - s : s) : -1;
        any = any || s < len;
      }
      if (!any) break;
      // hr = Rb + Hₜ₋₁·Rᵀ (rows already done compute too: one GEMM for all).
      for (int64_t b = 0; b < batch; ++b) {
        float* row = hr.data() + b * gh;
        if (rb) std::copy(rb, rb + gh, row);
        else std::fill(row, row + gh, 0.0f);
      }
      gemm_abt(static_cast<int>(batch), static_cast<int>(rcols), static_cast<int>(hid), h.data(), static_cast<int>(hid), rd,
               static_cast<int>(hid), 1.0f, hr.data(), static_cast<int>(gh));
      cell(st);
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t t = time[static_cast<size_t>(b)];
        if (t >= 0) std::copy(h.data() + b * hid, h.data() + (b + 1) * hid, p.y + p.y_off(t, d, b));
      }
    }
    for (int64_t b = 0; b < batch; ++b) {
      if (p.yh) std::copy(h.data() + b * hid, h.data() + (b + 1) * hid, p.yh + p.state_off(d, b));
      if (p.yc) std::copy(cst.data() + b * hid, cst.data() + (b + 1) * hid, p.yc + p.state_off(d, b));
    }
  }
}

// ---- the cells -----------------------------------------------------------------

// LSTM, gates i, o, f, c in W, R and B; P holds the peepholes of i, o, f.
//   i = f(Xi + Hri + Pi⊙Cₜ₋₁)   f = f(Xf + Hrf + Pf⊙Cₜ₋₁) (1 − i with input_forget)
//   c̃ = g(Xc + Hrc)   Cₜ = f⊙Cₜ₋₁ + i⊙c̃   o = f(Xo + Hro + Po⊙Cₜ)   Hₜ = o⊙h(Cₜ)
// clip bounds each gate's pre-activation.
void lstm(const KernelCall& c) {
  const Problem p = parse(c, {4, {"Sigmoid", "Tanh", "Tanh"}, true});
  const bool input_forget = c.attr_int("input_forget", 0) != 0;
  const int64_t hid = p.hidden;
  drive(p, p.gh(), [&](const Step& s) {
    const Activation &fa = s.acts[0], &ga = s.acts[1], &ha = s.acts[2];
    s.rows([&](int64_t b) {
      float* g = s.hr + b * p.gh();
      const float* xw = s.xw_row(b);
      float* h = s.h + b * hid;
      float* cs = s.cst + b * hid;
      float *gi = g, *go = g + hid, *gf = g + 2 * hid, *gc = g + 3 * hid;
      const float* pi = s.peep;
      const float* po = s.peep ? s.peep + hid : nullptr;
      const float* pf = s.peep ? s.peep + 2 * hid : nullptr;
      for (int64_t j = 0; j < hid; ++j) {
        gi[j] = s.clip(gi[j] + xw[j] + (pi ? pi[j] * cs[j] : 0.0f));
        gf[j] = s.clip(gf[j] + xw[2 * hid + j] + (pf ? pf[j] * cs[j] : 0.0f));
        gc[j] = s.clip(gc[j] + xw[3 * hid + j]);
      }
      fa.apply(gi, static_cast<size_t>(hid));
      if (input_forget) {
        for (int64_t j = 0; j < hid; ++j) gf[j] = 1.0f - gi[j];
      } else {
        fa.apply(gf, static_cast<size_t>(hid));
      }
      ga.apply(gc, static_cast<size_t>(hid));
      for (int64_t j = 0; j < hid; ++j) {
        cs[j] = gf[j] * cs[j] + gi[j] * gc[j];
        go[j] = s.clip(go[j] + xw[hid + j] + (po ? po[j] * cs[j] : 0.0f));
        h[j] = cs[j];  // h(Cₜ) computed in place, then times o
      }
      fa.apply(go, static_cast<size_t>(hid));
      ha.apply(h, static_cast<size_t>(hid));
      for (int64_t j = 0; j < hid; ++j) h[j] *= go[j];
    });
  });
}

// GRU, gates z, r, h in W, R and B:
//   z = f(Xz + Hrz)   r = f(Xr + Hrr)   Hₜ = (1 − z)⊙h̃ + z⊙Hₜ₋₁
//   h̃ = g(Xh + (r⊙Hₜ₋₁)·Rhᵀ + Rbh)       linear_before_reset 0
//   h̃ = g(Xh + r⊙(Hₜ₋₁·Rhᵀ + Rbh))       linear_before_reset 1
void gru(const KernelCall& c) {
  const Problem p = parse(c, {3, {"Sigmoid", "Tanh"}, false});
  const bool lbr = c.attr_int("linear_before_reset", 0) != 0;
  const int64_t hid = p.hidden, gh = p.gh();
  const size_t n = static_cast<size_t>(hid);
  // linear_before_reset 0: the driver computes Hₜ₋₁·Rᵀ for z and r; h's needs r first.
  std::vector<float> rh(lbr ? 0 : static_cast<size_t>(std::max<int64_t>(1, p.batch * hid)));
  drive(p, lbr ? gh : 2 * hid, [&](const Step& s) {
    const Activation &fa = s.acts[0], &ga = s.acts[1];
    s.rows([&](int64_t b) {
      float* g = s.hr + b * gh;
      const float* xw = s.xw_row(b);
      for (int64_t j = 0; j < 2 * hid; ++j) g[j] = s.clip(g[j] + xw[j]);
      fa.apply(g, 2 * n);
      if (!lbr) {
        const float* h = s.h + b * hid;
        for (int64_t j = 0; j < hid; ++j) rh[static_cast<size_t>(b * hid + j)] = g[hid + j] * h[j];
      }
    });
    // The driver left Rbh in h's columns: they become Rbh + (r⊙Hₜ₋₁)·Rhᵀ.
    if (!lbr) {
      gemm_abt(static_cast<int>(p.batch), static_cast<int>(hid), static_cast<int>(hid), rh.data(), static_cast<int>(hid),
               s.r + 2 * hid * hid, static_cast<int>(hid), 1.0f, s.hr + 2 * hid, static_cast<int>(gh));
    }
    s.rows([&](int64_t b) {
      float* g = s.hr + b * gh;
      const float* xw = s.xw_row(b);
      float* h = s.h + b * hid;
      const float *z = g, *r = g + hid;
      float* hh = g + 2 * hid;
      for (int64_t j = 0; j < hid; ++j) hh[j] = s.clip(xw[2 * hid + j] + (lbr ? r[j] * hh[j] : hh[j]));
      ga.apply(hh, n);
      for (int64_t j = 0; j < hid; ++j) h[j] = (1.0f - z[j]) * hh[j] + z[j] * h[j];
    });
  });
}

// RNN: Hₜ = f(Xₜ·Wᵀ + Hₜ₋₁·Rᵀ + Wb + Rb).
void rnn(const KernelCall& c) {
  const Problem p = parse(c, {1, {"Tanh"}, false});
  const int64_t hid = p.hidden;
  drive(p, hid, [&](const Step& s) {
    s.rows([&](int64_t b) {
      const float* g = s.hr + b * hid;
      const float* xw = s.xw_row(b);
      float* h = s.h + b * hid;
      for (int64_t j = 0; j < hid; ++j) h[j] = s.clip(g[j] + xw[j]);
      s.acts[0].apply(h, static_cast<size_t>(hid));
    });
  });
}

}  // namespace

NEONN_KERNEL(LSTM, lstm);
NEONN_KERNEL(GRU, gru);
NEONN_KERNEL(RNN, rnn);

}  // namespace neonn
