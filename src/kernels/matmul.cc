// MatMul and Einsum. MatMul, float32, numpy semantics: 1-D operands promoted ([K] -> [1,K] on
// the left, [K,1] on the right, the added dim dropped from the result) and
// the batch dims broadcast. One sgemm per batch on the active backend (the
// GEMM the conv and gemm families resolve), a batch whose B repeats reads
// the same B; when B is shared by every batch and A is contiguous, the
// batches fold into M and it is one GEMM.
#include <algorithm>
#include <string>
#include <vector>

#include "../parallel.h"
#include "../registry.h"
#include "kernel.h"

namespace neonn {
namespace {

int gemm_dim(const KernelCall& c, int64_t v, const char* what) {
  c.check(v >= 0 && v <= 0x7fffffff, std::string(what) + " is too large for the GEMM");
  return static_cast<int>(v);
}

void matmul(const KernelCall& c) {
  const TensorRef& a = c.in(0);
  const TensorRef& b = c.in(1);
  c.expect_dtype(a, DType::kFloat32, "A");
  c.expect_dtype(b, DType::kFloat32, "B");
  c.expect_dtype(c.out(0), DType::kFloat32, "Y");
  c.check(a.rank() >= 1 && b.rank() >= 1, "A and B must have at least one dim");
  std::vector<int64_t> as = a.shape, bs = b.shape;
  const bool a1 = as.size() == 1, b1 = bs.size() == 1;
  if (a1) as.insert(as.begin(), 1);
  if (b1) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  c.check(bs[bs.size() - 2] == k, "A's last dim (" + std::to_string(k) + ") must equal B's second to last (" + std::to_string(bs[bs.size() - 2]) + ")");
  const std::vector<int64_t> abatch(as.begin(), as.end() - 2), bbatch(bs.begin(), bs.end() - 2);
  const std::vector<int64_t> batch = broadcast_shapes(abatch, bbatch, c.op);
  std::vector<int64_t> out = batch;
  if (!a1) out.push_back(m);
  if (!b1) out.push_back(n);
  c.expect_out_shape(0, out);
  size_t nb = 1;
  for (int64_t d : batch) nb *= static_cast<size_t>(d);
  const std::vector<int64_t> astr = broadcast_strides(abatch, batch), bstr = broadcast_strides(bbatch, batch);
  const float* pa = a.as<float>();
  const float* pb = b.as<float>();
  float* py = c.out(0).as<float>();
  if (nb == 0 || m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(py, py + c.out(0).count(), 0.0f);
    return;
  }
  Registry& r = Registry::instance();
  const Backend& be = r.resolve(r.active(), Op::kGemm);
  bool b_shared = true, a_dense = true;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (bstr[i] != 0) b_shared = false;
    if (astr[i] == 0 && batch[i] != 1) a_dense = false;
  }
  SgemmArgs s;
  s.k = gemm_dim(c, k, "K");
  s.n = gemm_dim(c, n, "N");
  s.lda = s.k;
  s.ldb = s.n;
  s.ldc = s.n;
  s.alpha = 1.0f;
  s.beta = 0.0f;
  s.on_shared_pool = shares_pool_with_xnnpack(r.active());
  if (b_shared && a_dense) {
    s.m = gemm_dim(c, static_cast<int64_t>(nb) * m, "batch * M");
    s.a = pa;
    s.b = pb;
    s.c = py;
    be.sgemm(s);
    return;
  }
  s.m = gemm_dim(c, m, "M");
  for (size_t i = 0; i < nb; ++i) {
    size_t rem = i;
    int64_t ao = 0, bo = 0;
    for (size_t d = batch.size(); d-- > 0;) {
      const int64_t idx = static_cast<int64_t>(rem % static_cast<size_t>(batch[d]));
      rem /= static_cast<size_t>(batch[d]);
      ao += idx * astr[d];
      bo += idx * bstr[d];
    }
    s.a = pa + ao * m * k;
    s.b = pb + bo * k * n;
    s.c = py + i * static_cast<size_t>(m * n);
    be.sgemm(s);
  }
}

}  // namespace

NEONN_KERNEL(MatMul, matmul);

}  // namespace neonn

// ---- Einsum ------------------------------------------------------------------
// A reference loop: every output element sums, over the labels the output
// drops, the product of the inputs at that index. A label repeated within a
// term (a diagonal) adds its axes' strides; "..." dims broadcast numpy-style.
// Right for any equation, fast for none: MatMul-shaped einsums should be
// rewritten to MatMul by the importer.
namespace neonn {
namespace {

constexpr int kLetters = 52;

struct EinsumTerm {
  std::vector<int> labels;  // per letter, in order; -1 marks the ellipsis
  bool ellipsis = false;
};

int letter_id(const KernelCall& c, char ch) {
  if (ch >= 'a' && ch <= 'z') return ch - 'a';
  if (ch >= 'A' && ch <= 'Z') return 26 + (ch - 'A');
  c.check(false, std::string("equation has an unexpected character '") + ch + "'");
  return 0;
}

EinsumTerm parse_term(const KernelCall& c, const std::string& t) {
  EinsumTerm r;
  for (size_t i = 0; i < t.size();) {
    if (t[i] == ' ') {
      ++i;
      continue;
    }
    if (t[i] == '.') {
      c.check(t.compare(i, 3, "...") == 0 && !r.ellipsis, "equation has a malformed or repeated \"...\"");
      r.ellipsis = true;
      r.labels.push_back(-1);
      i += 3;
      continue;
    }
    r.labels.push_back(letter_id(c, t[i]));
    ++i;
  }
  return r;
}

void einsum(const KernelCall& c) {
  const std::string eq = c.attr_string("equation");
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<EinsumTerm> terms;
  for (size_t b = 0;;) {
    const size_t e = lhs.find(',', b);
    terms.push_back(parse_term(c, lhs.substr(b, e == std::string::npos ? std::string::npos : e - b)));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  const size_t ni = c.num_inputs();
  c.check(terms.size() == ni, "equation has " + std::to_string(terms.size()) + " terms for " + std::to_string(ni) + " inputs");
  // Ellipsis dims: as many as the widest term's, right-aligned, labels kLetters + k.
  size_t ell = 0;
  for (size_t i = 0; i < ni; ++i) {
    const TensorRef& t = c.in(i);
    c.expect_dtype(t, DType::kFloat32, "Inputs");
    const size_t letters = terms[i].labels.size() - (terms[i].ellipsis ? 1 : 0);
    c.check(terms[i].ellipsis ? t.rank() >= letters : t.rank() == letters,
            "term " + std::to_string(i) + " has " + std::to_string(letters) + " labels for an input of rank " + std::to_string(t.rank()));
    if (terms[i].ellipsis) ell = std::max(ell, t.rank() - letters);
  }
  const size_t nl = kLetters + ell;
  std::vector<int64_t> dim(nl, -1);
  std::vector<int> count(nl, 0);
  // Per input: the stride of each label (summed over repeated axes).
  std::vector<std::vector<int64_t>> lstride(ni, std::vector<int64_t>(nl, 0));
  for (size_t i = 0; i < ni; ++i) {
    const TensorRef& t = c.in(i);
    const std::vector<int64_t> st = strides_of(t.shape);
    const size_t letters = terms[i].labels.size() - (terms[i].ellipsis ? 1 : 0);
    const size_t ne = t.rank() - letters;
    size_t axis = 0;
    auto bind = [&](size_t label, size_t ax, bool broadcastable) {
      const int64_t d = t.shape[ax];
      if (dim[label] < 0 || (broadcastable && dim[label] == 1)) {
        dim[label] = d;
      } else {
        c.check(d == dim[label] || (broadcastable && d == 1),
                "dimension " + std::to_string(d) + " of input " + std::to_string(i) + " does not match " + std::to_string(dim[label]));
      }
      if (!(broadcastable && d == 1)) lstride[i][label] += st[ax];
    };
    for (int l : terms[i].labels) {
      if (l < 0) {
        for (size_t k = 0; k < ne; ++k) bind(kLetters + (ell - ne) + k, axis++, true);
      } else {
        ++count[static_cast<size_t>(l)];
        bind(static_cast<size_t>(l), axis++, false);
      }
    }
  }
  for (size_t k = 0; k < ell; ++k) {
    if (dim[kLetters + k] < 0) dim[kLetters + k] = 1;
  }
  std::vector<size_t> out_labels;
  if (arrow != std::string::npos) {
    const EinsumTerm o = parse_term(c, eq.substr(arrow + 2));
    std::vector<bool> seen(nl, false);
    for (int l : o.labels) {
      if (l < 0) {
        for (size_t k = 0; k < ell; ++k) out_labels.push_back(kLetters + k);
        continue;
      }
      const size_t ul = static_cast<size_t>(l);
      c.check(dim[ul] >= 0, "output label is not in any input");
      c.check(!seen[ul], "output labels must not repeat");
      seen[ul] = true;
      out_labels.push_back(ul);
    }
    c.check(o.ellipsis || ell == 0 || [&] {
      for (size_t k = 0; k < ell; ++k) if (dim[kLetters + k] != 1) return false;
      return true;
    }(), "the output must keep \"...\" when the inputs' \"...\" dims are not 1");
  } else {
    for (size_t k = 0; k < ell; ++k) out_labels.push_back(kLetters + k);
    for (size_t l = 0; l < kLetters; ++l) {
      if (count[l] == 1) out_labels.push_back(l);
    }
  }
  std::vector<bool> is_out(nl, false);
  for (size_t l : out_labels) is_out[l] = true;
  std::vector<size_t> sum_labels;
  for (size_t l = 0; l < nl; ++l) {
    if (dim[l] >= 0 && !is_out[l]) sum_labels.push_back(l);
  }
  std::vector<int64_t> out_shape;
  for (size_t l : out_labels) out_shape.push_back(dim[l]);
  c.expect_dtype(c.out(0), DType::kFloat32, "Output");
  c.expect_out_shape(0, out_shape);
  size_t inner = 1;
  for (size_t l : sum_labels) inner *= static_cast<size_t>(dim[l]);
  float* py = c.out(0).as<float>();
  const size_t total = c.out(0).count();
  std::vector<const float*> src(ni);
  for (size_t i = 0; i < ni; ++i) src[i] = c.in(i).as<float>();
  parallel_for(total, parallel_grain(inner * ni + 1), [&](size_t b, size_t e) {
    std::vector<int64_t> base(ni), idx(sum_labels.size());
    for (size_t o = b; o < e; ++o) {
      size_t rem = o;
      std::fill(base.begin(), base.end(), 0);
      for (size_t a = out_labels.size(); a-- > 0;) {
        const size_t l = out_labels[a];
        const int64_t v = static_cast<int64_t>(rem % static_cast<size_t>(dim[l]));
        rem /= static_cast<size_t>(dim[l]);
        for (size_t i = 0; i < ni; ++i) base[i] += v * lstride[i][l];
      }
      double acc = 0;
      if (inner > 0) {
        std::fill(idx.begin(), idx.end(), 0);
        for (;;) {
          double p = 1;
          for (size_t i = 0; i < ni; ++i) {
            int64_t off = base[i];
            for (size_t a = 0; a < sum_labels.size(); ++a) off += idx[a] * lstride[i][sum_labels[a]];
            p *= src[i][off];
          }
          acc += p;
          size_t a = sum_labels.size();
          while (a-- > 0) {
            if (++idx[a] < dim[sum_labels[a]]) break;
            idx[a] = 0;
          }
          if (a == static_cast<size_t>(-1)) break;
        }
      }
      py[o] = static_cast<float>(acc);
    }
  });
}

}  // namespace

NEONN_KERNEL(Einsum, einsum);

}  // namespace neonn
