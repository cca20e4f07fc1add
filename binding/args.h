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

/// Bytes per element of a typed array type (0 for an unknown one).
inline size_t typed_array_element_size(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: return 8;
    default: return 0;
  }
}

/// What a typed array views: its memory, byte length, element type and offset.
struct TypedView {
  void* data = nullptr;
  size_t length = 0;  ///< elements
  size_t bytes = 0;
  size_t byte_offset = 0;
  napi_typedarray_type type = napi_uint8_array;
};

/// `v` as a typed array view. TypeError for anything else; a detached
/// buffer is a NeonnError ERR_NEONN_DETACHED (it would read as 0 bytes, and
/// the caller meant to pass data, not an empty array). Reads byteOffset and
/// length from the view itself, so subarrays work.
inline TypedView typed_view(napi_env env, napi_value v, const std::string& op, const std::string& name) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) {
    throw_type_error(op + ": expected \"" + name + "\" to be a typed array");
  }
  TypedView t;
  napi_value buffer = nullptr;
  if (napi_get_typedarray_info(env, v, &t.type, &t.length, &t.data, &buffer, &t.byte_offset) != napi_ok) {
    throw_type_error(op + ": unreadable typed array \"" + name + "\"");
  }
  bool detached = false;
  if (napi_is_detached_arraybuffer(env, buffer, &detached) != napi_ok || detached) {
    throw Error(ErrorKind::kInternal, "ERR_NEONN_DETACHED",
                op + ": \"" + name + "\" is backed by a detached ArrayBuffer (transferred or detached)");
  }
  const size_t elem = typed_array_element_size(t.type);
  NEONN_THROW_TYPEERROR_IF(elem == 0, op + ": unsupported typed array \"" + name + "\"");
  t.bytes = t.length * elem;
  return t;
}

/// A Float32Array value as a span; TypeError for anything else,
/// ERR_NEONN_DETACHED for a detached one (see typed_view).
inline MutableFloatSpan float32_value(napi_env env, napi_value v, const char* op, const char* name) {
  bool is_typed = false;
  napi_typedarray_type type = napi_uint8_array;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, nullptr, nullptr, nullptr, nullptr) != napi_ok ||
      type != napi_float32_array) {
    throw_type_error(std::string(op) + ": expected \"" + name + "\" to be a Float32Array");
  }
  const TypedView t = typed_view(env, v, op, name);
  return MutableFloatSpan{static_cast<float*>(t.data), t.length};
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
