#include "kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "../checked.h"

namespace neonn {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kUint8: return 1;
    case DType::kInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kBool: return 1;
    case DType::kFloat16: return 2;
    default: return 0;
  }
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kUint8: return "uint8";
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
    case DType::kFloat16: return "float16";
    default: return "undefined";
  }
}

bool dtype_valid(int64_t code) {
  switch (code) {
    case 1: case 2: case 3: case 6: case 7: case 9: case 10: return true;
    default: return false;
  }
}

size_t TensorRef::count() const {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

const TensorRef& KernelCall::in(size_t i) const {
  check(i < inputs.size() && inputs[i].present(), "input " + std::to_string(i) + " is required");
  return inputs[i];
}

const TensorRef* KernelCall::opt_in(size_t i) const {
  return i < inputs.size() && inputs[i].present() ? &inputs[i] : nullptr;
}

const TensorRef& KernelCall::out(size_t i) const {
  check(i < outputs.size() && outputs[i].present(), "output " + std::to_string(i) + " is required");
  return outputs[i];
}

bool KernelCall::has_attr(const char* name) const {
  for (const auto& a : attrs) {
    if (a.first == name) return true;
  }
  return false;
}

const Attr& KernelCall::attr(const char* name) const {
  for (const auto& a : attrs) {
    if (a.first == name) return a.second;
  }
  throw_range_error(op + ": attribute \"" + name + "\" is missing");
}

static int64_t integral(double v, const std::string& op, const char* name) {
  if (!(std::fabs(v) <= 9007199254740992.0) || std::trunc(v) != v) {
    throw_range_error(op + ": attribute \"" + name + "\" must be an integer");
  }
  return static_cast<int64_t>(v);
}

int64_t KernelCall::attr_int(const char* name) const {
  const Attr& a = attr(name);
  check(a.kind == Attr::Kind::kNumber, std::string("attribute \"") + name + "\" must be a number");
  return integral(a.number, op, name);
}

int64_t KernelCall::attr_int(const char* name, int64_t dflt) const {
  return has_attr(name) ? attr_int(name) : dflt;
}

double KernelCall::attr_float(const char* name) const {
  const Attr& a = attr(name);
  check(a.kind == Attr::Kind::kNumber, std::string("attribute \"") + name + "\" must be a number");
  return a.number;
}

double KernelCall::attr_float(const char* name, double dflt) const {
  return has_attr(name) ? attr_float(name) : dflt;
}

std::vector<int64_t> KernelCall::attr_ints(const char* name) const {
  const Attr& a = attr(name);
  check(a.kind == Attr::Kind::kNumbers, std::string("attribute \"") + name + "\" must be a list of numbers");
  std::vector<int64_t> out;
  out.reserve(a.numbers.size());
  for (double v : a.numbers) out.push_back(integral(v, op, name));
  return out;
}

std::vector<double> KernelCall::attr_floats(const char* name) const {
  const Attr& a = attr(name);
  check(a.kind == Attr::Kind::kNumbers, std::string("attribute \"") + name + "\" must be a list of numbers");
  return a.numbers;
}

const std::string& KernelCall::attr_string(const char* name) const {
  const Attr& a = attr(name);
  check(a.kind == Attr::Kind::kString, std::string("attribute \"") + name + "\" must be a string");
  return a.text;
}

std::vector<std::string> KernelCall::attr_strings(const char* name) const {
  const Attr& a = attr(name);
  if (a.kind == Attr::Kind::kNumbers && a.numbers.empty()) return {};
  check(a.kind == Attr::Kind::kStrings, std::string("attribute \"") + name + "\" must be a list of strings");
  return a.texts;
}

void KernelCall::expect_dtype(const TensorRef& t, DType want, const char* what) const {
  if (t.dtype != want) {
    throw_range_error(op + ": " + what + " must be " + dtype_name(want) + ", got " + dtype_name(t.dtype));
  }
}

static std::string fmt_shape(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

void KernelCall::expect_out_shape(size_t i, const std::vector<int64_t>& shape) const {
  const TensorRef& o = out(i);
  if (o.shape != shape) {
    throw_range_error(op + ": output " + std::to_string(i) + " must have shape " + fmt_shape(shape) + ", got " +
                      fmt_shape(o.shape));
  }
}

void KernelCall::check(bool ok, const std::string& message) const {
  if (!ok) throw_range_error(op + ": " + message);
}

std::vector<int64_t> KernelCall::int_values(const TensorRef& t, const char* what) const {
  std::vector<int64_t> v(t.count());
  if (t.dtype == DType::kInt64) {
    // An empty tensor (ReduceMin's empty axes) may have no storage: memcpy of null is UB even for 0 bytes.
    if (!v.empty()) std::memcpy(v.data(), t.data, v.size() * 8);
  } else if (t.dtype == DType::kInt32) {
    const int32_t* p = t.as<int32_t>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  } else {
    throw_range_error(op + ": " + what + " must be int64 or int32, got " + dtype_name(t.dtype));
  }
  return v;
}

std::vector<double> KernelCall::float_values(const TensorRef& t, const char* what) const {
  expect_dtype(t, DType::kFloat32, what);
  std::vector<double> v(t.count());
  const float* p = t.as<float>();
  for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  return v;
}

namespace {
std::map<std::string, KernelDef>& table() {
  static std::map<std::string, KernelDef> t;  // function-local: registrars run before main, in any order
  return t;
}
}  // namespace

bool register_kernel(const char* name, KernelFn fn) {
  table()[name] = KernelDef{name, fn};
  return true;
}

const KernelDef* find_kernel(const std::string& name) {
  auto it = table().find(name);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> out;
  for (const auto& kv : table()) out.push_back(kv.first);
  return out;
}

void run_kernel(const KernelCall& call) {
  const KernelDef* def = find_kernel(call.op);
  if (def == nullptr) throw_range_error("no kernel named \"" + call.op + "\"");
  def->run(call);
}

std::vector<int64_t> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b, const std::string& op) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    if (da != db && da != 1 && db != 1) {
      throw_range_error(op + ": shapes " + fmt_shape(a) + " and " + fmt_shape(b) + " do not broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size());
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape, const std::vector<int64_t>& out) {
  std::vector<int64_t> s(out.size(), 0);
  const std::vector<int64_t> own = strides_of(shape);
  const size_t off = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) s[off + i] = shape[i] == 1 ? 0 : own[i];
  return s;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& op) {
  if (axis < -rank || axis >= rank) {
    throw_range_error(op + ": axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

}  // namespace neonn
