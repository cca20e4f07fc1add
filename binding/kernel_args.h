// Reading the generic kernel interface's arguments from JS: typed tensors
// { data, shape, dtype } and attribute objects { name: number | number[] | string }.
// Shared by binding/kernels.cc (nn ops) and binding/model.cc (program steps).
#pragma once

#include <napi.h>

#include <string>
#include <utility>
#include <vector>

#include "../src/checked.h"
#include "../src/kernels/kernel.h"
#include "args.h"

namespace neonn {
namespace binding {

/// A shape: an array of non-negative integers, rank <= 8.
inline std::vector<int64_t> shape_value(const Napi::Value& v, const std::string& what) {
  NEONN_THROW_TYPEERROR_IF(!v.IsArray(), what + ": expected the shape to be an array");
  Napi::Array a = v.As<Napi::Array>();
  NEONN_THROW_RANGEERROR_IF(a.Length() > 8, what + ": rank " + std::to_string(a.Length()) + " is above 8");
  std::vector<int64_t> s(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value d = a.Get(i);
    NEONN_THROW_TYPEERROR_IF(!d.IsNumber(), what + ": shape[" + std::to_string(i) + "] must be a number");
    const double x = d.As<Napi::Number>().DoubleValue();
    NEONN_THROW_RANGEERROR_IF(!(x >= 0) || x > 2147483647.0 || static_cast<double>(static_cast<int64_t>(x)) != x,
                              what + ": shape[" + std::to_string(i) + "] must be an integer in [0, 2^31)");
    s[i] = static_cast<int64_t>(x);
  }
  return s;
}

/// Element count of a shape, overflow-checked.
inline size_t shape_count(const std::vector<int64_t>& s, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : s) n = checked_mul(n, d, what.c_str());
  return static_cast<size_t>(n);
}

inline DType dtype_value(const Napi::Value& v, const std::string& what) {
  NEONN_THROW_TYPEERROR_IF(!v.IsNumber(), what + ": expected dtype to be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  NEONN_THROW_RANGEERROR_IF(!dtype_valid(static_cast<int64_t>(d)) || static_cast<double>(static_cast<int64_t>(d)) != d,
                            what + ": unknown dtype code " + std::to_string(d));
  return static_cast<DType>(static_cast<int32_t>(d));
}

/// { data: TypedArray, shape, dtype } -> TensorRef over the typed array's memory;
/// null/undefined -> an omitted tensor. The typed array must hold at least the
/// shape's bytes; a detached one is ERR_NEONN_DETACHED.
inline TensorRef tensor_value(Napi::Env env, const Napi::Value& v, const std::string& what) {
  TensorRef t;
  if (is_nullish(v)) return t;
  NEONN_THROW_TYPEERROR_IF(!v.IsObject(), what + ": expected a tensor { data, shape, dtype }");
  Napi::Object o = v.As<Napi::Object>();
  t.dtype = dtype_value(o.Get("dtype"), what);
  t.shape = shape_value(o.Get("shape"), what);
  const TypedView view = typed_view(env, o.Get("data"), what, "data");
  const size_t need = shape_count(t.shape, what) * dtype_size(t.dtype);
  NEONN_THROW_RANGEERROR_IF(view.bytes < need, what + ": data has " + std::to_string(view.bytes) + " bytes, " +
                                                   dtype_name(t.dtype) + " shape needs " + std::to_string(need));
  t.data = view.data;
  return t;
}

inline std::vector<TensorRef> tensor_list(Napi::Env env, const Napi::Value& v, const std::string& what) {
  NEONN_THROW_TYPEERROR_IF(!v.IsArray(), what + ": expected an array of tensors");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<TensorRef> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = tensor_value(env, a.Get(i), what + "[" + std::to_string(i) + "]");
  return out;
}

/// { name: number | number[] | string | string[] } -> attribute list (in property order).
inline std::vector<std::pair<std::string, Attr>> attrs_value(const Napi::Value& v, const std::string& what) {
  std::vector<std::pair<std::string, Attr>> out;
  if (is_nullish(v)) return out;
  NEONN_THROW_TYPEERROR_IF(!v.IsObject() || v.IsArray(), what + ": expected attributes to be an object");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Array names = o.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string name = names.Get(i).ToString().Utf8Value();
    Napi::Value x = o.Get(name);
    Attr a;
    if (x.IsNumber()) {
      a.kind = Attr::Kind::kNumber;
      a.number = x.As<Napi::Number>().DoubleValue();
    } else if (x.IsString()) {
      a.kind = Attr::Kind::kString;
      a.text = x.As<Napi::String>().Utf8Value();
    } else if (x.IsArray()) {
      Napi::Array l = x.As<Napi::Array>();
      NEONN_THROW_RANGEERROR_IF(l.Length() > (1u << 20), what + ": attribute \"" + name + "\" is too long");
      // A list of strings when its first element is one; an empty list is kNumbers.
      const bool strings = l.Length() > 0 && l.Get(0u).IsString();
      a.kind = strings ? Attr::Kind::kStrings : Attr::Kind::kNumbers;
      for (uint32_t k = 0; k < l.Length(); ++k) {
        Napi::Value e = l.Get(k);
        if (strings) {
          NEONN_THROW_TYPEERROR_IF(!e.IsString(), what + ": attribute \"" + name + "\" must hold strings only");
          a.texts.push_back(e.As<Napi::String>().Utf8Value());
        } else {
          NEONN_THROW_TYPEERROR_IF(!e.IsNumber(), what + ": attribute \"" + name + "\" must hold numbers");
          a.numbers.push_back(e.As<Napi::Number>().DoubleValue());
        }
      }
    } else {
      throw_type_error(what + ": attribute \"" + name + "\" must be a number, a string or an array of either");
    }
    out.emplace_back(name, std::move(a));
  }
  return out;
}

}  // namespace binding
}  // namespace neonn
