// ArgList over a JS call's arguments. Read on the JS thread only; async ops
// and models keep a ValueArgs snapshot instead.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "../src/args.h"
#include "args.h"

namespace neonn {
namespace binding {

class NapiArgs final : public ArgList {
 public:
  explicit NapiArgs(const Napi::CallbackInfo& info) : info_(info) {}

  size_t size() const override { return info_.Length(); }
  bool is_null(size_t i) const override { return i >= info_.Length() || is_nullish(info_[i]); }
  MutableFloatSpan span(size_t i, const char* op, const char* name) const override {
    return float32_arg(info_, i, op, name);
  }
  std::vector<FloatSpan> span_list(size_t i, const char* op, const char* name) const override {
    NEONN_THROW_TYPEERROR_IF(i >= info_.Length() || !info_[i].IsArray(),
                             std::string(op) + ": expected \"" + name + "\" to be an array");
    Napi::Array arr = info_[i].As<Napi::Array>();
    std::vector<FloatSpan> out(arr.Length());
    for (uint32_t j = 0; j < arr.Length(); ++j) {
      const MutableFloatSpan s = float32_value(info_.Env(), arr.Get(j), op, name);
      out[j] = FloatSpan{s.data, s.size};
    }
    return out;
  }
  double number(size_t i, const char* op, const char* name) const override {
    return number_arg(info_, i, op, name);
  }

 private:
  const Napi::CallbackInfo& info_;
};

}  // namespace binding
}  // namespace neonn
