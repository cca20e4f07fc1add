// blas:<path> — any CBLAS shared library as a GEMM backend (Debian's BLIS,
// the system OpenBLAS, ...). It is dlopen'd with RTLD_LOCAL: its symbols stay
// out of the global namespace, so a second OpenBLAS cannot capture the bundled
// builds' calls (theirs are renamed anyway) nor the other way round. The
// handle is kept for the process's life, like every registered backend.
#include <dlfcn.h>

#include "openblas_backend.h"

namespace neonn {
namespace {

template <typename Fn>
Fn symbol(void* handle, const char* name) {
  return reinterpret_cast<Fn>(dlsym(handle, name));
}

}  // namespace

std::unique_ptr<Backend> make_dl_blas_backend(const std::string& name, const std::string& path,
                                              std::string* error) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    *error = "cannot load " + path + ": " + (why != nullptr ? why : "unknown dlopen error");
    return nullptr;
  }
  CblasApi api;
  api.sgemm = symbol<decltype(api.sgemm)>(handle, "cblas_sgemm");
  if (api.sgemm == nullptr) {
    *error = path + " has no cblas_sgemm: not a CBLAS library";
    dlclose(handle);
    return nullptr;
  }
  api.sgemv = symbol<decltype(api.sgemv)>(handle, "cblas_sgemv");
  // OpenBLAS's extensions, when the library is an OpenBLAS.
  api.get_config = symbol<decltype(api.get_config)>(handle, "openblas_get_config");
  api.get_corename = symbol<decltype(api.get_corename)>(handle, "openblas_get_corename");
  api.set_num_threads = symbol<decltype(api.set_num_threads)>(handle, "openblas_set_num_threads");
  api.get_num_threads = symbol<decltype(api.get_num_threads)>(handle, "openblas_get_num_threads");
  api.get_num_procs = symbol<decltype(api.get_num_procs)>(handle, "openblas_get_num_procs");
  api.get_parallel = symbol<decltype(api.get_parallel)>(handle, "openblas_get_parallel");
  return make_blas_backend(name, api, "CBLAS from " + path, path);
}

}  // namespace neonn
