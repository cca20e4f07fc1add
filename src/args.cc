#include "args.h"

#include <cmath>

namespace neonn {

int64_t ArgList::integer(size_t i, const char* op, const char* name) const {
  const double d = number(i, op, name);
  if (!(std::floor(d) == d) || std::fabs(d) > 9007199254740991.0) {
    throw_range_error(std::string(op) + ": expected \"" + name + "\" to be an integer");
  }
  return static_cast<int64_t>(d);
}

void ArgList::require_size(size_t n, const char* op) const {
  NEONN_THROW_TYPEERROR_IF(size() != n, std::string(op) + ": native binding expects " +
                                            std::to_string(n) + " arguments, got " +
                                            std::to_string(size()));
}

bool ValueArgs::is_null(size_t i) const {
  return i >= values_.size() || values_[i].kind == Value::Kind::kNull;
}

MutableFloatSpan ValueArgs::span(size_t i, const char* op, const char* name) const {
  NEONN_THROW_TYPEERROR_IF(i >= values_.size() || values_[i].kind != Value::Kind::kSpan,
                           std::string(op) + ": expected \"" + name + "\" to be a Float32Array");
  return values_[i].span;
}

std::vector<FloatSpan> ValueArgs::span_list(size_t i, const char* op, const char* name) const {
  NEONN_THROW_TYPEERROR_IF(
      i >= values_.size() || values_[i].kind != Value::Kind::kSpanList,
      std::string(op) + ": expected \"" + name + "\" to be an array of Float32Arrays");
  return values_[i].spans;
}

double ValueArgs::number(size_t i, const char* op, const char* name) const {
  NEONN_THROW_TYPEERROR_IF(i >= values_.size() || values_[i].kind != Value::Kind::kNumber,
                           std::string(op) + ": expected \"" + name + "\" to be a number");
  return values_[i].number;
}

}  // namespace neonn
