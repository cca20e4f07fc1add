#include "dims.h"

#include "../args.h"
#include "../checked.h"
#include "../status.h"
#include "overlap.h"

namespace neonn {

Dims make_dims(const std::vector<int64_t>& v, const std::string& what) {
  NEONN_THROW_RANGEERROR_IF(v.size() > static_cast<size_t>(kMaxRank),
                            what + " has rank " + std::to_string(v.size()) + ", at most " +
                                std::to_string(kMaxRank) + " is supported");
  Dims s;
  s.rank = static_cast<int>(v.size());
  for (int i = 0; i < s.rank; ++i) s.d[i] = v[static_cast<size_t>(i)];
  return s;
}

std::string fmt_dims(const Dims& s) {
  std::string out = "[";
  for (int i = 0; i < s.rank; ++i) {
    if (i > 0) out += ",";
    out += std::to_string(s.d[i]);
  }
  return out + "]";
}

int64_t dims_size(const Dims& s, const std::string& what) {
  NEONN_THROW_RANGEERROR_IF(s.rank < 0 || s.rank > kMaxRank,
                            what + ": rank " + std::to_string(s.rank) + " is not in [0, 8]");
  int64_t n = 1;
  for (int i = 0; i < s.rank; ++i) {
    NEONN_THROW_RANGEERROR_IF(s.d[i] < 1, what + " " + fmt_dims(s) + ": dimension " +
                                              std::to_string(i) + " must be >= 1");
    n = checked_mul(n, s.d[i], what.c_str());
  }
  return n;
}

size_t check_span(const Dims& s, const float* data, size_t size, const std::string& op,
                  const char* name) {
  const int64_t n = dims_size(s, op + ": " + name);
  NEONN_THROW_RANGEERROR_IF(static_cast<uint64_t>(n) != size,
                            op + ": " + name + " has " + std::to_string(size) +
                                " elements, shape " + fmt_dims(s) + " needs " + std::to_string(n));
  NEONN_THROW_TYPEERROR_IF(data == nullptr, op + ": " + name + " is detached or null");
  return size;
}

void check_no_overlap(const float* out, size_t out_size, const float* in, size_t in_size,
                      bool allow_same, const std::string& op, const char* name) {
  if (allow_same && out == in && out_size == in_size) return;
  const bool overlap = float_ranges_overlap(out, out_size, in, in_size);
  NEONN_THROW_RANGEERROR_IF(overlap, op + ": out overlaps " + name +
                                         (allow_same ? " (only out === " + std::string(name) +
                                                           ", same shape, is allowed)"
                                                     : ""));
}

// TypeError when fewer than `need` arguments were passed (the count of a
// variable-length call is known only once its ranks are read).
static void require_at_least(const ArgList& args, size_t need, const char* op) {
  NEONN_THROW_TYPEERROR_IF(args.size() < need, std::string(op) + ": native binding expects at least " +
                                                   std::to_string(need) + " arguments, got " +
                                                   std::to_string(args.size()));
}

Dims decode_dims(const ArgList& args, size_t* i, const char* op, const char* name) {
  require_at_least(args, *i + 1, op);
  const std::string rank_name = std::string(name) + " rank";
  const int64_t rank = args.integer(*i, op, rank_name.c_str());
  NEONN_THROW_RANGEERROR_IF(rank < 0 || rank > kMaxRank,
                            std::string(op) + ": " + name + " has rank " + std::to_string(rank) +
                                ", expected 0.." + std::to_string(kMaxRank));
  ++*i;
  return make_dims(decode_ints(args, i, static_cast<size_t>(rank), op, name), std::string(op) + ": " + name);
}

std::vector<int64_t> decode_ints(const ArgList& args, size_t* i, size_t n, const char* op,
                                 const char* name) {
  require_at_least(args, *i + n, op);
  std::vector<int64_t> out(n);
  for (size_t k = 0; k < n; ++k) {
    const std::string what = std::string(name) + "[" + std::to_string(k) + "]";
    out[k] = args.integer(*i + k, op, what.c_str());
  }
  *i += n;
  return out;
}

int normalize_axis(int64_t axis, int rank, const std::string& op) {
  NEONN_THROW_RANGEERROR_IF(axis < -rank || axis >= rank,
                            op + ": axis " + std::to_string(axis) + " is out of range for rank " +
                                std::to_string(rank));
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

}  // namespace neonn
