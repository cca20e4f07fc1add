// Finding a run-time loaded library (nnpack, xnnpack): the path in an
// environment variable, else a list of sonames on the system library path.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace neonn {

struct DlOpened {
  void* handle = nullptr;  ///< nullptr: nothing loaded (see failures)
  std::string name;        ///< the name that loaded; the variable's value when it was set
  bool from_env = false;   ///< the variable was set (then it was the only name tried)
  /// Each failed try: the name and dlerror()'s text.
  std::vector<std::pair<std::string, std::string>> failures;
};

/// dlopen(RTLD_NOW | RTLD_LOCAL) of the value of `env_var` when it is set and
/// non-empty, else of the first of `defaults` that loads. Local symbols: these
/// libraries export internals (kernels, a pthreadpool) that must not capture
/// other libraries' calls.
DlOpened dlopen_first(const char* env_var, const std::vector<std::string>& defaults);

}  // namespace neonn
