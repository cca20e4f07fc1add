// nn.vision's compute (lib/vision/): box format conversion, SSD prior and
// grid-head decoding, and greedy non-maximum suppression, over float32 [N, 4]
// box lists. These are not ONNX ops and have no schema entry: lib/vision
// validates its arguments (shapes, NaN, option ranges), then calls the kernel
// by name through the generic entry (binding/kernels.cc); each kernel
// re-checks the shapes and values it relies on.
//
// Arithmetic is done in double and rounded to float32 where the result is
// stored, with the operations in the order the documented formulas give, so
// the results are the ones lib/vision's TS computed before (this file is
// built without FP contraction or unsafe-math reassociation; CMakeLists.txt).
//
// NonMaxSuppression's output depends on the data: the caller allocates
// `kept` with room for as many detections as may be kept (the capacity is
// maxDetections when it is smaller), and the kernel writes how many it kept.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../parallel.h"
#include "kernel.h"

namespace neonn {
namespace {

enum class BoxFormat { kXyxy, kXywh, kCxcywh };

BoxFormat box_format(const KernelCall& c, const char* name) {
  const std::string& f = c.attr_string(name);
  if (f == "xyxy") return BoxFormat::kXyxy;
  if (f == "xywh") return BoxFormat::kXywh;
  c.check(f == "cxcywh", std::string(name) + " must be xyxy, xywh or cxcywh, got \"" + f + "\"");
  return BoxFormat::kCxcywh;
}

/// Box `src` (four floats in `from`) as xyxy in `dst` (may be `src`).
void to_xyxy(const float* src, float* dst, BoxFormat from) {
  const double a = src[0], b = src[1], c = src[2], d = src[3];
  switch (from) {
    case BoxFormat::kXyxy:
      dst[0] = src[0], dst[1] = src[1], dst[2] = src[2], dst[3] = src[3];
      break;
    case BoxFormat::kXywh:
      dst[0] = static_cast<float>(a), dst[1] = static_cast<float>(b);
      dst[2] = static_cast<float>(a + c), dst[3] = static_cast<float>(b + d);
      break;
    case BoxFormat::kCxcywh:
      dst[0] = static_cast<float>(a - c / 2), dst[1] = static_cast<float>(b - d / 2);
      dst[2] = static_cast<float>(a + c / 2), dst[3] = static_cast<float>(b + d / 2);
      break;
  }
}

/// The xyxy box `box` rewritten in place in format `to`.
void from_xyxy(float* box, BoxFormat to) {
  const double x1 = box[0], y1 = box[1], x2 = box[2], y2 = box[3];
  switch (to) {
    case BoxFormat::kXyxy:
      break;
    case BoxFormat::kXywh:
      box[2] = static_cast<float>(x2 - x1), box[3] = static_cast<float>(y2 - y1);
      break;
    case BoxFormat::kCxcywh:
      box[0] = static_cast<float>((x1 + x2) / 2), box[1] = static_cast<float>((y1 + y2) / 2);
      box[2] = static_cast<float>(x2 - x1), box[3] = static_cast<float>(y2 - y1);
      break;
  }
}

/// Input `i` as a float32 [rows, cols] matrix (cols checked when given); its row count.
size_t matrix_rows(const KernelCall& c, const TensorRef& t, const char* what, int64_t cols) {
  c.expect_dtype(t, DType::kFloat32, what);
  c.check(t.rank() == 2, std::string(what) + " must be a matrix [rows, cols]");
  if (cols > 0) c.check(t.shape[1] == cols, std::string(what) + " must have " + std::to_string(cols) + " columns");
  return static_cast<size_t>(t.shape[0]);
}

/// Rows of `n` items, each costing about `work` cheap operations, over the pool.
template <typename F>
void rows_for(size_t n, size_t work, F&& fn) {
  parallel_for(n, parallel_grain(work), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) fn(i);
  });
}

// --- VisionConvertBoxes: boxes [N, 4] in `from` -> [N, 4] in `to` ------------

void convert_boxes(const KernelCall& c) {
  const size_t n = matrix_rows(c, c.in(0), "boxes", 4);
  const BoxFormat from = box_format(c, "from"), to = box_format(c, "to");
  c.expect_dtype(c.out(0), DType::kFloat32, "output");
  c.expect_out_shape(0, {static_cast<int64_t>(n), 4});
  const float* src = c.in(0).as<float>();
  float* dst = c.out(0).as<float>();
  rows_for(n, 16, [&](size_t i) {
    to_xyxy(src + 4 * i, dst + 4 * i, from);
    from_xyxy(dst + 4 * i, to);
  });
}

// --- VisionDecodePriors: SSD regression against cxcywh priors ----------------

void decode_priors(const KernelCall& c) {
  const size_t n = matrix_rows(c, c.in(0), "loc", 4);
  c.check(matrix_rows(c, c.in(1), "priors", 4) == n, "loc and priors must have as many rows");
  const std::vector<double> var = c.attr_floats("variances"), scale = c.attr_floats("scale");
  c.check(var.size() == 2 && var[0] > 0 && var[1] > 0 && std::isfinite(var[0]) && std::isfinite(var[1]),
          "variances must be two positive finite numbers");
  c.check(scale.size() == 2 && std::isfinite(scale[0]) && std::isfinite(scale[1]), "scale must be two finite numbers [height, width]");
  const BoxFormat format = box_format(c, "format");
  c.expect_dtype(c.out(0), DType::kFloat32, "output");
  c.expect_out_shape(0, {static_cast<int64_t>(n), 4});
  const double v0 = var[0], v1 = var[1], sh = scale[0], sw = scale[1];
  const float* a = c.in(0).as<float>();
  const float* q = c.in(1).as<float>();
  float* out = c.out(0).as<float>();
  rows_for(n, 64, [&](size_t i) {
    const size_t j = 4 * i;
    const double cx = q[j] + a[j] * v0 * q[j + 2];
    const double cy = q[j + 1] + a[j + 1] * v0 * q[j + 3];
    const double bw = q[j + 2] * std::exp(a[j + 2] * v1);
    const double bh = q[j + 3] * std::exp(a[j + 3] * v1);
    out[j] = static_cast<float>((cx - bw / 2) * sw);
    out[j + 1] = static_cast<float>((cy - bh / 2) * sh);
    out[j + 2] = static_cast<float>((cx + bw / 2) * sw);
    out[j + 3] = static_cast<float>((cy + bh / 2) * sh);
    from_xyxy(out + j, format);
  });
}

// --- VisionDecodeGrid: grid heads (distance / DFL, YOLOX) --------------------

/// Softmax of d[0..n) then its expectation over 0..n-1 (a DFL side).
double expectation(const float* d, size_t n) {
  double mx = -INFINITY;
  for (size_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(d[i]));
  double sum = 0, acc = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = std::exp(d[i] - mx);
    sum += e;
    acc += e * static_cast<double>(i);
  }
  return acc / sum;
}

struct GridMap {
  int64_t stride, rows, cols, first;  // first: the map's first row in pred
};

void decode_grid(const KernelCall& c) {
  const TensorRef& pred = c.in(0);
  const size_t n = matrix_rows(c, pred, "pred", 0);
  const size_t cols = static_cast<size_t>(pred.shape[1]);
  const std::vector<int64_t> size = c.attr_ints("input_size"), strides = c.attr_ints("strides");
  c.check(size.size() == 2 && size[0] > 0 && size[1] > 0 && size[0] <= INT32_MAX && size[1] <= INT32_MAX,
          "input_size must be [height, width], positive");
  c.check(!strides.empty(), "strides must not be empty");
  const std::string& mode = c.attr_string("mode");
  c.check(mode == "distance" || mode == "yolox", "mode must be distance or yolox, got \"" + mode + "\"");
  const bool yolox = mode == "yolox";
  const double offset = c.attr_float("offset");
  c.check(std::isfinite(offset), "offset must be finite");
  const BoxFormat format = box_format(c, "format");
  c.check(cols % 4 == 0 && cols > 0 && (!yolox || cols == 4), "pred rows of " + std::to_string(cols) + " numbers do not fit mode " + mode);
  const size_t bins = cols / 4;
  std::vector<GridMap> maps;
  int64_t cells = 0;
  for (int64_t s : strides) {
    c.check(s > 0 && s <= INT32_MAX, "strides must be positive integers");
    const int64_t fh = (size[0] + s - 1) / s, fw = (size[1] + s - 1) / s;
    maps.push_back({s, fh, fw, cells});
    cells += fh * fw;  // fh * fw < 2^62 and cells was < 2^31: no overflow
    c.check(cells <= INT32_MAX, "the strides make 2^31 cells or more");
  }
  c.check(static_cast<int64_t>(n) == cells, "pred has " + std::to_string(n) + " rows, the strides make " + std::to_string(cells) + " cells");
  c.expect_dtype(c.out(0), DType::kFloat32, "output");
  c.expect_out_shape(0, {cells, 4});
  const float* d = pred.as<float>();
  float* out = c.out(0).as<float>();
  for (const GridMap& m : maps) {
    const double s = static_cast<double>(m.stride);
    rows_for(static_cast<size_t>(m.rows * m.cols), 16 * cols + 32, [&](size_t cell) {
      const size_t r = static_cast<size_t>(m.first) + cell;
      const double col = static_cast<double>(cell % static_cast<size_t>(m.cols));
      const double row = static_cast<double>(cell / static_cast<size_t>(m.cols));
      const float* p = d + r * cols;
      float* o = out + 4 * r;
      const double px = (col + offset) * s, py = (row + offset) * s;
      if (yolox) {
        const double cx = px + p[0] * s, cy = py + p[1] * s;
        const double bw = std::exp(static_cast<double>(p[2])) * s, bh = std::exp(static_cast<double>(p[3])) * s;
        o[0] = static_cast<float>(cx - bw / 2), o[1] = static_cast<float>(cy - bh / 2);
        o[2] = static_cast<float>(cx + bw / 2), o[3] = static_cast<float>(cy + bh / 2);
      } else {
        double side[4];
        for (size_t k = 0; k < 4; ++k) side[k] = bins == 1 ? static_cast<double>(p[k]) : expectation(p + k * bins, bins);
        o[0] = static_cast<float>(px - side[0] * s), o[1] = static_cast<float>(py - side[1] * s);
        o[2] = static_cast<float>(px + side[2] * s), o[3] = static_cast<float>(py + side[3] * s);
      }
      from_xyxy(o, format);
    });
  }
}

// --- VisionNonMaxSuppression ------------------------------------------------

/// A box's extent, in double: its area (0 when empty or inverted) and its longer side.
struct Extent {
  double area, side;
};
Extent extent_of(const float* b) {
  const double w = static_cast<double>(b[2]) - b[0], h = static_cast<double>(b[3]) - b[1];
  if (!(w > 0 && h > 0)) return {0, 0};
  return {w * h, std::max(w, h)};
}

/// The kept boxes, in levels by size: level l holds the boxes whose longer
/// side is at most its cell, base * 2^l, each listed in the (at most 2 x 2)
/// cells of that level's uniform grid it covers. Two boxes with an IoU above
/// any threshold >= 0 overlap with positive area, so a kept box that can
/// suppress a candidate shares a cell of its own level with it; and since
/// IoU <= min(area) / max(area), a level whose kept areas are all too small
/// or too large for the threshold is skipped. A candidate thus meets the kept
/// boxes of similar size near it, whatever the mix of sizes (a detector's
/// 16 px and 512 px priors). Empty or inverted boxes (IoU 0 with everything)
/// are never stored.
class KeptGrid {
 public:
  KeptGrid(const float* xyxy, const std::vector<uint32_t>& cand_box, double threshold) : xyxy_(xyxy), threshold_(threshold) {
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY, smallest = INFINITY, largest = 0;
    for (uint32_t i : cand_box) {
      const float* b = xyxy + 4 * static_cast<size_t>(i);
      const Extent e = extent_of(b);
      if (e.area == 0) continue;
      x0 = std::min(x0, static_cast<double>(b[0])), y0 = std::min(y0, static_cast<double>(b[1]));
      x1 = std::max(x1, static_cast<double>(b[2])), y1 = std::max(y1, static_cast<double>(b[3]));
      smallest = std::min(smallest, e.side), largest = std::max(largest, e.side);
    }
    if (largest == 0) return;  // no box with an area: nothing is ever stored
    x0_ = x0, y0_ = y0;
    // The finest cell: the smallest box's side, doubled until the finest grid
    // has at most about 4 cells per candidate (coarser levels add at most a third).
    const double cap = 4.0 * static_cast<double>(cand_box.size()) + 64;
    double cell = smallest;
    while ((std::floor((x1 - x0) / cell) + 1) * (std::floor((y1 - y0) / cell) + 1) > cap) cell *= 2;
    for (;;) {
      Level l;
      l.cell = cell, l.inv = 1 / cell;
      l.gw = static_cast<int64_t>(std::floor((x1 - x0) / cell)) + 1;
      l.gh = static_cast<int64_t>(std::floor((y1 - y0) / cell)) + 1;
      l.last_col = static_cast<double>(l.gw - 1), l.last_row = static_cast<double>(l.gh - 1);
      levels_.push_back(std::move(l));
      if (cell >= largest) break;
      cell *= 2;
    }
  }

  /// Whether a kept box of class `cls` overlaps box `i` by IoU above the threshold.
  bool suppresses(uint32_t i, int32_t cls) const {
    const float* b = xyxy_ + 4 * static_cast<size_t>(i);
    const Extent e = extent_of(b);
    if (e.area == 0) return false;
    // IoU <= min(areas) / max(areas): a level is skipped when that bound is at
    // most the threshold for all its boxes (with a margin far above rounding).
    const double lo = threshold_ * e.area * (1 - 1e-6), hi = e.area * (1 + 1e-6);
    // Its own level first (where a suppressor most likely is), then the others.
    const size_t own = level_of(e.side);
    for (size_t t = 0; t < levels_.size(); ++t) {
      const Level& l = levels_[t == 0 ? own : t <= own ? t - 1 : t];
      if (l.entries.empty() || l.max_area < lo || l.min_area * threshold_ > hi) continue;
      const Span s = span(l, b);
      if (s.cells() > static_cast<int64_t>(l.entries.size())) {
        for (uint32_t id : l.entries) {
          const Node& k = kept_[id];
          if (overlaps(k, b) && hits(k, b, e.area, cls)) return true;
        }
        continue;
      }
      for (int64_t cy = s.cy0; cy <= s.cy1; ++cy) {
        for (int64_t cx = s.cx0; cx <= s.cx1; ++cx) {
          for (uint32_t id : l.cells[static_cast<size_t>(cy * l.gw + cx)]) {
            const Node& k = kept_[id];
            // The pair shares up to 2 x 2 cells; it is looked at in one of them, the
            // cell of the top-left corner of their overlap: (max of the first columns, max of the first rows).
            if (!overlaps(k, b) || std::max(k.cx0, s.cx0) != cx || std::max(k.cy0, s.cy0) != cy) continue;
            if (hits(k, b, e.area, cls)) return true;
          }
        }
      }
    }
    return false;
  }

  /// Keeps box `i` of class `cls`.
  void add(uint32_t i, int32_t cls) {
    const float* b = xyxy_ + 4 * static_cast<size_t>(i);
    const Extent e = extent_of(b);
    if (e.area == 0) return;  // IoU 0 with everything: suppresses nothing
    Level& l = levels_[level_of(e.side)];
    if (l.cells.empty()) l.cells.resize(static_cast<size_t>(l.gw * l.gh));
    const Span s = span(l, b);
    const uint32_t node = static_cast<uint32_t>(kept_.size());
    kept_.push_back({{b[0], b[1], b[2], b[3]}, e.area, cls, s.cx0, s.cy0});
    l.entries.push_back(node);
    l.min_area = std::min(l.min_area, e.area), l.max_area = std::max(l.max_area, e.area);
    for (int64_t cy = s.cy0; cy <= s.cy1; ++cy) {
      for (int64_t cx = s.cx0; cx <= s.cx1; ++cx) l.cells[static_cast<size_t>(cy * l.gw + cx)].push_back(node);
    }
  }

 private:
  /// The level of a box whose longer side is `side`: the first whose cell is at least that.
  size_t level_of(double side) const {
    size_t at = 0;
    while (at + 1 < levels_.size() && levels_[at].cell < side) ++at;
    return at;
  }

  /// A kept box (the cells list indices into kept_: a small working set).
  struct Node {
    float box[4];
    double area;
    int32_t cls;
    int64_t cx0, cy0;  // its first cell in its level's grid
  };
  struct Level {
    double cell = 1, inv = 1;
    int64_t gw = 1, gh = 1;
    double last_col = 0, last_row = 0;  // gw - 1, gh - 1
    std::vector<std::vector<uint32_t>> cells;  // row-major; allocated on the level's first box
    std::vector<uint32_t> entries;             // every kept box of the level
    double min_area = INFINITY, max_area = 0;
  };
  struct Span {
    int64_t cx0, cy0, cx1, cy1;
    int64_t cells() const { return (cx1 - cx0 + 1) * (cy1 - cy0 + 1); }
  };

  /// The cell of coordinate `v` along an axis of `count` cells from `origin`
  /// (clamped; v >= origin for every box stored or looked up, so truncation floors).
  static int64_t cell_of(double v, double origin, double inv, double last) {
    const double k = std::min((v - origin) * inv, last);
    return k > 0 ? static_cast<int64_t>(k) : 0;
  }

  /// The cells of level `l` box `b` covers (clamped to the grid: boxes beyond it share its edge cells).
  Span span(const Level& l, const float* b) const {
    return {cell_of(b[0], x0_, l.inv, l.last_col), cell_of(b[1], y0_, l.inv, l.last_row), cell_of(b[2], x0_, l.inv, l.last_col), cell_of(b[3], y0_, l.inv, l.last_row)};
  }

  /// Whether the non-empty kept box `k` and the non-empty box `b` overlap with positive area (what IoU > 0 needs).
  static bool overlaps(const Node& k, const float* b) {
    // One test of the four, not four branches: most kept boxes looked at do not overlap.
    return (k.box[0] < b[2]) & (b[0] < k.box[2]) & (k.box[1] < b[3]) & (b[1] < k.box[3]);
  }

  /// Whether kept box `k` has class `cls` and IoU above the threshold with
  /// box `b` (of area `area`), the two overlapping. The IoU is lib/vision's
  /// iou (boxes.ts), operation for operation: (area b + area k - inter) is the
  /// union; the areas were computed as it computes them (max(0, side) is the side here).
  bool hits(const Node& k, const float* b, double area, int32_t cls) const {
    if (k.cls != cls) return false;
    const double iw = std::min<double>(b[2], k.box[2]) - std::max<double>(b[0], k.box[0]);
    const double ih = std::min<double>(b[3], k.box[3]) - std::max<double>(b[1], k.box[1]);
    const double inter = iw * ih;
    const double uni = area + k.area - inter;
    return (uni > 0 ? inter / uni : 0) > threshold_;
  }

  const float* xyxy_;
  const double threshold_;
  double x0_ = 0, y0_ = 0;
  std::vector<Level> levels_;
  std::vector<Node> kept_;
};

// Inputs: boxes [N, 4] (in `format`), scores [N, C]. Outputs: kept int32 [K, 2]
// (box index, class), best first, K the most that may be kept; count int32 [1].
void non_max_suppression(const KernelCall& c) {
  const size_t n = matrix_rows(c, c.in(0), "boxes", 4);
  c.check(n <= UINT32_MAX, "too many boxes");
  c.check(matrix_rows(c, c.in(1), "scores", 0) == n, "boxes and scores must have as many rows");
  const size_t nc = static_cast<size_t>(c.in(1).shape[1]);
  c.check(nc > 0, "scores must have at least one column");
  const double iou_threshold = c.attr_float("iou_threshold");
  c.check(iou_threshold >= 0 && iou_threshold <= 1, "iou_threshold must be in [0, 1]");
  const double score_threshold = c.attr_float("score_threshold");
  c.check(score_threshold == score_threshold, "score_threshold must not be NaN");
  const bool per_class = c.attr_int("class_aware") != 0 && nc > 1;
  const BoxFormat format = box_format(c, "format");
  const TensorRef& kept = c.out(0);
  c.expect_dtype(kept, DType::kInt32, "kept");
  c.check(kept.rank() == 2 && kept.shape[1] == 2, "kept must be [K, 2]");
  c.expect_dtype(c.out(1), DType::kInt32, "count");
  c.expect_out_shape(1, {1});
  const size_t cap = static_cast<size_t>(kept.shape[0]);
  const float* boxes = c.in(0).as<float>();
  const float* scores = c.in(1).as<float>();
  // The grid's arithmetic needs finite corners; the sort a total order (no NaN).
  c.check(std::all_of(boxes, boxes + 4 * n, [](float v) { return std::isfinite(v); }), "boxes must be finite");
  c.check(std::none_of(scores, scores + n * nc, [](float v) { return v != v; }), "scores must not be NaN");

  std::vector<float> converted;
  const float* xyxy = boxes;
  if (format != BoxFormat::kXyxy) {
    converted.resize(4 * n);
    for (size_t i = 0; i < n; ++i) to_xyxy(boxes + 4 * i, converted.data() + 4 * i, format);
    xyxy = converted.data();
    // Finite corners can still overflow float32 as xyxy (a centre of 3e38 and a width of -3e38).
    c.check(std::all_of(converted.begin(), converted.end(), [](float v) { return std::isfinite(v); }),
            "boxes overflow float32 when converted to xyxy");
  }

  // Candidates: (box, class) pairs when class-aware, else each box with its best class (the first on ties).
  std::vector<uint32_t> cand_box;
  std::vector<int32_t> cand_cls;
  std::vector<float> cand_score;
  for (size_t i = 0; i < n; ++i) {
    const float* s = scores + i * nc;
    if (per_class) {
      for (size_t k = 0; k < nc; ++k) {
        if (s[k] >= score_threshold) {
          cand_box.push_back(static_cast<uint32_t>(i)), cand_cls.push_back(static_cast<int32_t>(k)), cand_score.push_back(s[k]);
        }
      }
    } else {
      size_t best = 0;
      for (size_t k = 1; k < nc; ++k) {
        if (s[k] > s[best]) best = k;
      }
      if (s[best] >= score_threshold) {
        cand_box.push_back(static_cast<uint32_t>(i)), cand_cls.push_back(static_cast<int32_t>(best)), cand_score.push_back(s[best]);
      }
    }
  }
  // Best score first; ties by box, then class: the candidates' own order.
  // One 64-bit key per candidate: the score's bits made to order as unsigned
  // integers (descending; -0 as +0), then the candidate's index.
  std::vector<uint64_t> order(cand_box.size());
  for (size_t j = 0; j < order.size(); ++j) {
    const float v = cand_score[j] == 0 ? 0.0f : cand_score[j];
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    const uint32_t ascending = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
    order[j] = (static_cast<uint64_t>(~ascending) << 32) | j;
  }
  std::sort(order.begin(), order.end());

  KeptGrid grid(xyxy, cand_box, iou_threshold);
  int32_t* out = kept.as<int32_t>();
  size_t count = 0;
  for (size_t j = 0; j < order.size() && count < cap; ++j) {
    const uint32_t k = static_cast<uint32_t>(order[j]), i = cand_box[k];
    // Boxes of other classes never suppress each other when class-aware.
    const int32_t cls = per_class ? cand_cls[k] : 0;
    if (grid.suppresses(i, cls)) continue;
    grid.add(i, cls);
    out[2 * count] = static_cast<int32_t>(i);
    out[2 * count + 1] = cand_cls[k];
    ++count;
  }
  c.out(1).as<int32_t>()[0] = static_cast<int32_t>(count);
}

}  // namespace

NEONN_KERNEL(VisionConvertBoxes, convert_boxes);
NEONN_KERNEL(VisionDecodePriors, decode_priors);
NEONN_KERNEL(VisionDecodeGrid, decode_grid);
NEONN_KERNEL(VisionNonMaxSuppression, non_max_suppression);

}  // namespace neonn
