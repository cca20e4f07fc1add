// Positional op arguments, independent of where they come from: the JS call
// (binding/napi_args.h), a snapshot of it for an async op, or a step of a
// compiled model whose buffers are resolved at run time. Each op family
// decodes its call struct from an ArgList once, so the sync binding, the async
// worker and the model runner share one decoder and its checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/gemm.h"  // FloatSpan, MutableFloatSpan
#include "status.h"

namespace neonn {

class ArgList {
 public:
  virtual ~ArgList() = default;

  virtual size_t size() const = 0;
  /// null / undefined / absent.
  virtual bool is_null(size_t i) const = 0;
  /// A float32 buffer; TypeError when argument i is not one.
  virtual MutableFloatSpan span(size_t i, const char* op, const char* name) const = 0;
  /// A list of float32 buffers (e.g. concat's inputs).
  virtual std::vector<FloatSpan> span_list(size_t i, const char* op, const char* name) const = 0;
  /// A number; TypeError when argument i is not one.
  virtual double number(size_t i, const char* op, const char* name) const = 0;

  /// An integral number (RangeError otherwise).
  int64_t integer(size_t i, const char* op, const char* name) const;
  FloatSpan input(size_t i, const char* op, const char* name) const {
    const MutableFloatSpan s = span(i, op, name);
    return FloatSpan{s.data, s.size};
  }
  /// An input that may be null (then data == nullptr).
  FloatSpan optional_input(size_t i, const char* op, const char* name) const {
    return is_null(i) ? FloatSpan{} : input(i, op, name);
  }
  void require_size(size_t n, const char* op) const;
};

/// A stored argument list: the numbers and buffers of one step of a compiled
/// model (its buffers are filled in when the model runs).
class ValueArgs final : public ArgList {
 public:
  struct Value {
    enum class Kind : uint8_t { kNull, kNumber, kSpan, kSpanList } kind = Kind::kNull;
    double number = 0;
    MutableFloatSpan span;
    std::vector<FloatSpan> spans;
  };

  ValueArgs() = default;
  explicit ValueArgs(std::vector<Value> values) : values_(std::move(values)) {}

  std::vector<Value>& values() { return values_; }
  const std::vector<Value>& values() const { return values_; }

  size_t size() const override { return values_.size(); }
  bool is_null(size_t i) const override;
  MutableFloatSpan span(size_t i, const char* op, const char* name) const override;
  std::vector<FloatSpan> span_list(size_t i, const char* op, const char* name) const override;
  double number(size_t i, const char* op, const char* name) const override;

 private:
  std::vector<Value> values_;
};

}  // namespace neonn
