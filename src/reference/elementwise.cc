// Reference kernels for the elementwise family.
#include <algorithm>
#include <cmath>
#include <limits>

#include "../parallel.h"
#include "reference_ops.h"

namespace neonn {
namespace reference {
namespace {

// Work per element, in cheap operations, for the grain: exp/tanh cost about
// twenty adds, a compare or an add one.
constexpr size_t kCheap = 1;
constexpr size_t kTranscendental = 20;

template <typename F>
void map(const float* x, float* y, size_t n, size_t work, F f) {
  // Index by index, so y == x (in place) is safe; chunks of elements run on
  // the pool threads, each element computed the same way by whichever runs it.
  parallel_for(n, parallel_grain(work), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) y[i] = f(x[i]);
  });
}

// y[e] = f(a[..], b[..]) for e in [e0, e1) over a collapsed broadcast: an
// odometer over the outer dims, started at e0's row, the innermost dim as a
// loop specialised for strides 1 and 0.
template <typename F>
void broadcast_range(const Broadcast& bc, const float* a, const float* b, float* y, F f, size_t e0,
                     size_t e1) {
  const int r = bc.rank;
  const size_t inner = static_cast<size_t>(bc.dims[r - 1]);
  const int64_t sa = bc.a_strides[r - 1], sb = bc.b_strides[r - 1];
  int64_t idx[kMaxRank] = {};
  int64_t oa = 0, ob = 0;
  size_t row = e0 / inner;
  for (int k = r - 2; k >= 0; --k) {
    idx[k] = static_cast<int64_t>(row % static_cast<size_t>(bc.dims[k]));
    row /= static_cast<size_t>(bc.dims[k]);
    oa += idx[k] * bc.a_strides[k];
    ob += idx[k] * bc.b_strides[k];
  }
  for (size_t done = e0 - e0 % inner; done < e1; done += inner) {
    const float* pa = a + oa;
    const float* pb = b + ob;
    float* py = y + done;
    const size_t j0 = done < e0 ? e0 - done : 0;
    const size_t j1 = e1 - done < inner ? e1 - done : inner;
    if (sa == 1 && sb == 1) {
      for (size_t j = j0; j < j1; ++j) py[j] = f(pa[j], pb[j]);
    } else if (sa == 1) {  // sb == 0
      const float bv = pb[0];
      for (size_t j = j0; j < j1; ++j) py[j] = f(pa[j], bv);
    } else if (sb == 1) {  // sa == 0
      const float av = pa[0];
      for (size_t j = j0; j < j1; ++j) py[j] = f(av, pb[j]);
    } else {
      for (size_t j = j0; j < j1; ++j) py[j] = f(pa[j * sa], pb[j * sb]);
    }
    for (int k = r - 2; k >= 0; --k) {
      oa += bc.a_strides[k];
      ob += bc.b_strides[k];
      if (++idx[k] < bc.dims[k]) break;
      oa -= bc.a_strides[k] * bc.dims[k];
      ob -= bc.b_strides[k] * bc.dims[k];
      idx[k] = 0;
    }
  }
}

// The whole broadcast, in chunks of output elements on the pool threads.
template <typename F>
void broadcast_apply(const Broadcast& bc, const float* a, const float* b, float* y, F f) {
  parallel_for(bc.size, parallel_grain(kCheap),
               [&](size_t begin, size_t end) { broadcast_range(bc, a, b, y, f, begin, end); });
}

}  // namespace

void unary(const UnaryCall& c) {
  switch (c.kind) {
    case UnaryKind::kRelu:
      // NaN passes through (as numpy's maximum and ONNX's reference do).
      map(c.x, c.y, c.size, kCheap, [](float v) { return v < 0.0f ? 0.0f : v; });
      break;
    case UnaryKind::kLeakyRelu: {
      const float alpha = c.alpha;
      map(c.x, c.y, c.size, kCheap, [alpha](float v) { return v >= 0.0f ? v : alpha * v; });
      break;
    }
    case UnaryKind::kSigmoid:
      map(c.x, c.y, c.size, kTranscendental, [](float v) {
        // Both branches stay finite: exp of a non-positive number.
        const double e = std::exp(-std::fabs(static_cast<double>(v)));
        return static_cast<float>(v >= 0.0f ? 1.0 / (1.0 + e) : e / (1.0 + e));
      });
      break;
    case UnaryKind::kTanh:
      map(c.x, c.y, c.size, kTranscendental, [](float v) { return std::tanh(v); });
      break;
    case UnaryKind::kClip: {
      const float lo = c.min, hi = c.max;
      // NaN stays NaN (comparisons with NaN are false), as ONNX Clip.
      map(c.x, c.y, c.size, kCheap, [lo, hi](float v) { return v < lo ? lo : (v > hi ? hi : v); });
      break;
    }
  }
}

void prelu(const PreluCall& c) {
  broadcast_apply(c.bc, c.x, c.slope, c.y, [](float x, float s) { return x < 0.0f ? s * x : x; });
}

void binary(const BinaryCall& c) {
  switch (c.kind) {
    case BinaryKind::kAdd:
      broadcast_apply(c.bc, c.a, c.b, c.y, [](float a, float b) { return a + b; });
      break;
    case BinaryKind::kMul:
      broadcast_apply(c.bc, c.a, c.b, c.y, [](float a, float b) { return a * b; });
      break;
    case BinaryKind::kSub:
      broadcast_apply(c.bc, c.a, c.b, c.y, [](float a, float b) { return a - b; });
      break;
    case BinaryKind::kDiv:
      broadcast_apply(c.bc, c.a, c.b, c.y, [](float a, float b) { return a / b; });
      break;
  }
}

void softmax(const SoftmaxCall& c) {
  const size_t n = c.axis, inner = c.inner;
  // Each of the outer * inner columns is independent: columns go to threads.
  parallel_for(c.outer * inner, parallel_grain(n * 2 * kTranscendental), [&](size_t begin, size_t end) {
    for (size_t col = begin; col < end; ++col) {
      const size_t o = col / inner, i = col % inner;
      const float* x = c.x + o * n * inner + i;
      float* y = c.y + o * n * inner + i;
      // Subtract the max so exp never overflows; accumulate in double.
      float mx = -std::numeric_limits<float>::infinity();
      for (size_t k = 0; k < n; ++k) mx = std::max(mx, x[k * inner]);
      double sum = 0.0;
      for (size_t k = 0; k < n; ++k) sum += std::exp(static_cast<double>(x[k * inner]) - mx);
      // y may be x: each element is read (above and here) before it is written.
      if (c.log) {
        const double lse = std::log(sum);
        for (size_t k = 0; k < n; ++k) {
          y[k * inner] = static_cast<float>(static_cast<double>(x[k * inner]) - mx - lse);
        }
      } else {
        for (size_t k = 0; k < n; ++k) {
          y[k * inner] = static_cast<float>(std::exp(static_cast<double>(x[k * inner]) - mx) / sum);
        }
      }
    }
  });
}

}  // namespace reference
}  // namespace neonn
