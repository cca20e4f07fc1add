// The generic kernel interface: every op declared in the op schema
// (lib/ir/schema.ts) that is not one of the hand-tuned families (gemm, conv,
// pool, ...) runs through it. A kernel gets typed tensors (dtype, data,
// shape) and the node's attributes by name, exactly as the schema declares
// them; it re-checks what it relies on (dtypes, ranks, the output shape it
// computes) and throws neonn::Error, never aborts.
//
// Adding a kernel: write `void my_op(const KernelCall& c)` in a file under
// src/kernels/ and register it there with NEONN_KERNEL(MyOp, my_op). The name
// is the schema op's name (ONNX's where ONNX has the op).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../status.h"

namespace neonn {

/// Element types, numbered as ONNX's TensorProto.DataType.
enum class DType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUint8 = 2,
  kInt8 = 3,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat16 = 10,
};

/// Bytes per element (0 for kUndefined or an unknown code).
size_t dtype_size(DType t);
/// "float32", "int64", ...
const char* dtype_name(DType t);
/// Whether `code` is one of the DType values above (and not kUndefined).
bool dtype_valid(int64_t code);

/// A typed view of one tensor. An omitted optional input has dtype kUndefined.
struct TensorRef {
  DType dtype = DType::kUndefined;
  void* data = nullptr;
  std::vector<int64_t> shape;

  bool present() const { return dtype != DType::kUndefined; }
  size_t rank() const { return shape.size(); }
  /// Product of the dims (1 for a scalar); the binding and the program
  /// checked that it fits the buffer.
  size_t count() const;
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

/// One attribute value: a number, a list of numbers, a string or a list of strings.
struct Attr {
  enum class Kind : uint8_t { kNumber, kNumbers, kString, kStrings };
  Kind kind = Kind::kNumber;
  double number = 0;
  std::vector<double> numbers;
  std::string text;
  std::vector<std::string> texts;
};

class KernelCall {
 public:
  std::string op;  ///< the kernel name, for messages
  std::vector<TensorRef> inputs, outputs;
  std::vector<std::pair<std::string, Attr>> attrs;

  /// Input i; RangeError when it is omitted or out of range.
  const TensorRef& in(size_t i) const;
  /// Input i, or nullptr when omitted or beyond the list.
  const TensorRef* opt_in(size_t i) const;
  /// Output i; RangeError when out of range.
  const TensorRef& out(size_t i) const;
  size_t num_inputs() const { return inputs.size(); }
  size_t num_outputs() const { return outputs.size(); }

  bool has_attr(const char* name) const;
  /// RangeError when missing, not an integer, or of another kind.
  int64_t attr_int(const char* name) const;
  double attr_float(const char* name) const;
  std::vector<int64_t> attr_ints(const char* name) const;
  std::vector<double> attr_floats(const char* name) const;
  const std::string& attr_string(const char* name) const;
  /// A list of strings (an empty list, which JS cannot type, is accepted as either kind).
  std::vector<std::string> attr_strings(const char* name) const;
  /// The attribute when present, else `dflt`.
  int64_t attr_int(const char* name, int64_t dflt) const;
  double attr_float(const char* name, double dflt) const;

  /// RangeError "<op>: <what> must be float32, got int64" unless t.dtype == want.
  void expect_dtype(const TensorRef& t, DType want, const char* what) const;
  /// RangeError unless out(i) has exactly `shape` (the kernel's own computation).
  void expect_out_shape(size_t i, const std::vector<int64_t>& shape) const;
  /// RangeError "<op>: <message>" when cond holds.
  void check(bool ok, const std::string& message) const;
  /// The values of an int64 or int32 tensor (a shape, axes, indices).
  std::vector<int64_t> int_values(const TensorRef& t, const char* what) const;
  /// The values of a float32 tensor, as doubles (scales, ...).
  std::vector<double> float_values(const TensorRef& t, const char* what) const;

 private:
  const Attr& attr(const char* name) const;
};

using KernelFn = void (*)(const KernelCall&);

struct KernelDef {
  const char* name;
  KernelFn run;
};

/// Called from the NEONN_KERNEL registrars at static initialization.
bool register_kernel(const char* name, KernelFn fn);
/// nullptr when no kernel has that name.
const KernelDef* find_kernel(const std::string& name);
/// Every registered kernel's name, sorted.
std::vector<std::string> kernel_names();
/// Runs `call` on its kernel (RangeError for an unknown name).
void run_kernel(const KernelCall& call);

/// Shape helpers shared by kernels.
/// Numpy/ONNX multidirectional broadcast of two shapes; RangeError naming op if incompatible.
std::vector<int64_t> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b, const std::string& op);
/// Row-major strides of `shape` (in elements).
std::vector<int64_t> strides_of(const std::vector<int64_t>& shape);
/// Strides of `shape` broadcast to rank `rank` ending at `out`'s dims: 0 where the dim is 1 (and out's isn't).
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape, const std::vector<int64_t>& out);
/// An axis in [-rank, rank) made non-negative; RangeError otherwise.
int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& op);

}  // namespace neonn

#define NEONN_KERNEL_CAT2(a, b) a##b
#define NEONN_KERNEL_CAT(a, b) NEONN_KERNEL_CAT2(a, b)
/// Registers `fn` as the kernel `NAME` (an identifier: the schema op's name).
#define NEONN_KERNEL(NAME, fn) \
  static const bool NEONN_KERNEL_CAT(neonn_kernel_registered_, NAME) = ::neonn::register_kernel(#NAME, fn)
