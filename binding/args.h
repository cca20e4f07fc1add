// Argument readers for the binding: typed array -> span, numbers, and the
// mapping of neonn::Error onto JS error classes. Only the binding includes napi.h.
#pragma once

#include <napi.h>

#include <cmath>
#include <string>

#include "../src/ops/gemm.h"
#include "../src/status.h"

namespace neonn {
namespace binding {

/// A Float32Array value as a span; throws TypeError for anything else.
/// Reads byteOffset/length from the view itself, so subarrays work.
inline MutableFloatSpan float32_value(napi_env env, napi_value v, const char* op, const char* name) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) {
    throw_type_error(std::string(op) + ": expected \"" + name + "\" to be a Float32Array");
  }
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float32_array) {
    throw_type_error(std::string(op) + ": expected \"" + name + "\" to be a Float32Array");
  }
  // A detached buffer reports length 0 and no data; callers' size checks reject it.
  return MutableFloatSpan{static_cast<float*>(data), length};
}

/// Argument i of a call as a Float32Array span (see float32_value).
inline MutableFloatSpan float32_arg(const Napi::CallbackInfo& info, size_t i, const char* op,
                                    const char* name) {
  return float32_value(info.Env(), info[i], op, name);
}

inline bool is_nullish(const Napi::Value& v) { return v.IsNull() || v.IsUndefined(); }

/// An integral number argument (double-checked even though TS validated it).
inline int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* op,
                       const char* name) {
  double d = 0;
  if (napi_get_value_double(info.Env(), info[i], &d) != napi_ok) {
    throw_type_error(std::string(op) + ": expected \"" + name + "\" to be a number");
  }
  if (!(std::floor(d) == d) || std::fabs(d) > 9007199254740991.0) {
    throw_range_error(std::string(op) + ": expected \"" + name + "\" to be an integer");
  }
  return static_cast<int64_t>(d);
}

inline double number_arg(const Napi::CallbackInfo& info, size_t i, const char* op,
                         const char* name) {
  double d = 0;
  if (napi_get_value_double(info.Env(), info[i], &d) != napi_ok) {
    throw_type_error(std::string(op) + ": expected \"" + name + "\" to be a number");
  }
  return d;
}

/// JS error object for a core error: TypeError, RangeError or Error, each with `code`.
inline Napi::Error to_js_error(Napi::Env env, ErrorKind kind, const std::string& code,
                               const std::string& message) {
  Napi::Error err = kind == ErrorKind::kType    ? Napi::TypeError::New(env, message)
                    : kind == ErrorKind::kRange ? Napi::RangeError::New(env, message)
                                                : Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

/// Runs `fn`, turning core exceptions into JS exceptions (never an abort).
template <typename Fn>
auto guarded(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throw to_js_error(env, e.kind(), e.code(), e.what());
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw to_js_error(env, ErrorKind::kInternal, "ERR_NEONN_NO_MEMORY", "out of memory");
  } catch (const std::exception& e) {
    throw to_js_error(env, ErrorKind::kInternal, "ERR_NEONN_INTERNAL", e.what());
  }
}

}  // namespace binding
}  // namespace neonn
