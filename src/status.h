// Errors and statuses of the C++ core. The core never includes napi.h: the
// binding maps neonn::Error kinds onto TypeError / RangeError / NeonnError.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace neonn {

/// What kind of failure an Error is; the binding turns each into a JS class.
enum class ErrorKind {
  kType,         ///< wrong type of argument -> TypeError
  kRange,        ///< value out of range / inconsistent shapes -> RangeError
  kUnavailable,  ///< backend or feature missing on this machine -> NeonnError
  kInternal,     ///< a library call failed -> NeonnError
};

/// Thrown by the core; carries a stable code such as "ERR_NEONN_RANGE".
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string code, const std::string& message)
      : std::runtime_error(message), kind_(kind), code_(std::move(code)) {}
  ErrorKind kind() const { return kind_; }
  const std::string& code() const { return code_; }

 private:
  ErrorKind kind_;
  std::string code_;
};

[[noreturn]] inline void throw_type_error(const std::string& message) {
  throw Error(ErrorKind::kType, "ERR_NEONN_TYPE", message);
}
[[noreturn]] inline void throw_range_error(const std::string& message) {
  throw Error(ErrorKind::kRange, "ERR_NEONN_RANGE", message);
}

// The message expression is only evaluated when the check fails, so checks on
// hot paths cost a compare and a branch.
#define NEONN_THROW_RANGEERROR_IF(cond, message) \
  do {                                          \
    if (cond) ::neonn::throw_range_error(message); \
  } while (0)
#define NEONN_THROW_TYPEERROR_IF(cond, message) \
  do {                                         \
    if (cond) ::neonn::throw_type_error(message); \
  } while (0)

/// Result of probing a backend once: usable, or the reason it is not.
struct Status {
  bool ok = true;
  std::string reason;

  static Status Ok() { return Status{}; }
  static Status Unavailable(std::string why) { return Status{false, std::move(why)}; }
};

}  // namespace neonn
