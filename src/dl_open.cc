#include "dl_open.h"

#include <dlfcn.h>

#include <cstdlib>

namespace neonn {

DlOpened dlopen_first(const char* env_var, const std::vector<std::string>& defaults) {
  DlOpened out;
  const char* env = std::getenv(env_var);
  out.from_env = env != nullptr && *env != '\0';
  const std::vector<std::string> tries = out.from_env ? std::vector<std::string>{env} : defaults;
  for (const std::string& t : tries) {
    dlerror();
    out.handle = dlopen(t.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (out.handle != nullptr) {
      out.name = t;
      return out;
    }
    const char* why = dlerror();
    out.failures.emplace_back(t, why != nullptr ? why : t + ": cannot load");
  }
  if (out.from_env) out.name = env;
  return out;
}

}  // namespace neonn
