// What the xnnpack backend's files share: an owning operator handle, the
// mapping of XNNPACK's status codes to neonn's errors, and scratch buffers
// with XNNPACK's read slack.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "../ops/conv.h"
#include "../status.h"
#include "xnnpack_api.h"

namespace neonn {

constexpr float kInf = std::numeric_limits<float>::infinity();

inline bool fits_u32(int64_t v) { return v >= 0 && v <= static_cast<int64_t>(std::numeric_limits<uint32_t>::max()); }

// Deletes an operator when it goes out of scope.
class OperatorPtr {
 public:
  explicit OperatorPtr(const xnn::Api& api) : api_(api) {}
  ~OperatorPtr() {
    if (op_ != nullptr) api_.delete_operator(op_);
  }
  OperatorPtr(const OperatorPtr&) = delete;
  OperatorPtr& operator=(const OperatorPtr&) = delete;
  xnn::OperatorHandle* out() { return &op_; }
  xnn::OperatorHandle get() const { return op_; }

 private:
  const xnn::Api& api_;
  xnn::OperatorHandle op_ = nullptr;
};

// A refusal: XNNPACK does not run these parameters, or not on this CPU.
inline bool refused(int status) {
  return status == xnn::kInvalidParameter || status == xnn::kUnsupportedParameter ||
         status == xnn::kUnsupportedHardware;
}

// Maps a failed status to neonn's errors. A refusal is a RangeError (the
// call is beyond what XNNPACK runs here; auto skips such a candidate), memory
// is ERR_NEONN_NO_MEMORY as for any allocation, the rest a NeonnError naming
// the library call.
[[noreturn]] inline void throw_status(int status, const std::string& op, const char* fn) {
  const std::string what = op + ": XNNPACK " + fn + " failed: " + xnn::status_name(status);
  if (refused(status)) throw_range_error(what);
  switch (status) {
    case xnn::kOutOfMemory:
      throw Error(ErrorKind::kInternal, "ERR_NEONN_NO_MEMORY", what);
    default:
      throw Error(ErrorKind::kInternal, "ERR_NEONN_XNNPACK", what);
  }
}

inline void check_status(int status, const std::string& op, const char* fn) {
  if (status != xnn::kSuccess) throw_status(status, op, fn);
}

// For an operator creation with a fallback: false when XNNPACK refused (the
// caller then falls back), true when made; any other failure throws.
inline bool created(int status, const std::string& op, const char* fn) {
  if (refused(status)) return false;
  check_status(status, op, fn);
  return true;
}

// An uninitialized float buffer of n values plus XNNPACK's read slack.
inline std::unique_ptr<float[]> scratch(size_t n) { return std::unique_ptr<float[]>(new float[n + xnn::kExtraFloats]); }

// neonn's conv weights [Cout][Cin/g][kH][kW] as XNNPACK takes them, [g][Cout/g][kH][kW][Cin/g], which for
// Cout = g * Cout/g is [Cout][kH][kW][Cin/g] (a copy with the read slack).
inline std::unique_ptr<float[]> nhwc_conv_weights(const Conv2dCall& c) {
  const size_t cig = static_cast<size_t>(c.c_in_per_group()), taps = static_cast<size_t>(c.k_h * c.k_w);
  std::unique_ptr<float[]> w = scratch(c.w.size);
  for (size_t co = 0; co < static_cast<size_t>(c.c_out); ++co) {
    const float* src = c.w.data + co * cig * taps;
    float* dst = w.get() + co * taps * cig;
    for (size_t ci = 0; ci < cig; ++ci) {
      for (size_t t = 0; t < taps; ++t) dst[t * cig + ci] = src[ci * taps + t];
    }
  }
  return w;
}

}  // namespace neonn
