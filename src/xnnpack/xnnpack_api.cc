// Loading XNNPACK at run time. The handle is never closed once the library
// initialized: XNNPACK keeps process-wide state and pthreadpool threads may
// still reference its code.
#include "xnnpack_api.h"

#include "../dl_open.h"

#include <dlfcn.h>
#include <link.h>

#include <cstdlib>
#include <type_traits>
#include <vector>

namespace neonn {
namespace xnn {
namespace {

// Symbols of XNNPACK snapshots whose operator calls take other arguments
// than the 2022-02 one declared in xnnpack_api.h (weights/code caches in the
// create calls, shapes moved from setup into reshape). The 2022-02 snapshot
// exports none of them.
constexpr const char* kNewerApiSymbols[] = {
    "xnn_create_weights_cache",
    "xnn_create_code_cache",
    "xnn_reshape_convolution2d_nhwc_f32",
};

// The path the dynamic loader actually opened (a bare soname resolves
// through the library search path).
std::string opened_path(void* handle, const std::string& fallback) {
  struct link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr &&
      map->l_name[0] != '\0') {
    return map->l_name;
  }
  return fallback;
}

}  // namespace

std::string status_name(int status) {
  switch (status) {
    case kSuccess: return "success";
    case kUninitialized: return "uninitialized";
    case kInvalidParameter: return "invalid parameter";
    case kInvalidState: return "invalid state";
    case kUnsupportedParameter: return "unsupported parameter";
    case kUnsupportedHardware: return "unsupported hardware";
    case kOutOfMemory: return "out of memory";
  }
  return "status " + std::to_string(status);
}

Loaded load_xnnpack() {
  Loaded out;
  const DlOpened lib = dlopen_first("NEONN_XNNPACK_LIBRARY", {"libXNNPACK.so.0", "libXNNPACK.so"});
  void* handle = lib.handle;
  if (handle != nullptr) out.library = opened_path(handle, lib.name);
  std::string tried;
  for (const auto& f : lib.failures) tried += (tried.empty() ? "" : "; ") + std::string("cannot load ") + f.first + ": " + f.second;
  if (handle == nullptr) {
    out.reason = tried + (lib.from_env
                              ? std::string(" (NEONN_XNNPACK_LIBRARY)")
                              : std::string(" (install libxnnpack0, or set NEONN_XNNPACK_LIBRARY)"));
    return out;
  }

  for (const char* newer : kNewerApiSymbols) {
    if (dlsym(handle, newer) != nullptr) {
      out.reason = out.library + " is a newer XNNPACK than neonn supports (it has " + newer +
                   "; neonn calls the API of the 0.0~git20220216 snapshot, Debian bookworm's libxnnpack0)";
      dlclose(handle);
      return out;
    }
  }

  Api& a = out.api;
  std::string missing;
  auto need = [&](const char* name, auto* fn) {
    void* p = dlsym(handle, name);
    if (p == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(name);
    *fn = reinterpret_cast<std::remove_pointer_t<decltype(fn)>>(p);
  };
  need("xnn_initialize", &a.initialize);
  need("xnn_run_operator", &a.run_operator);
  need("xnn_delete_operator", &a.delete_operator);
  need("xnn_create_convolution2d_nhwc_f32", &a.create_convolution2d_nhwc_f32);
  need("xnn_setup_convolution2d_nhwc_f32", &a.setup_convolution2d_nhwc_f32);
  need("xnn_create_fully_connected_nc_f32", &a.create_fully_connected_nc_f32);
  need("xnn_setup_fully_connected_nc_f32", &a.setup_fully_connected_nc_f32);
  need("xnn_create_max_pooling2d_nhwc_f32", &a.create_max_pooling2d_nhwc_f32);
  need("xnn_setup_max_pooling2d_nhwc_f32", &a.setup_max_pooling2d_nhwc_f32);
  need("xnn_create_average_pooling2d_nhwc_f32", &a.create_average_pooling2d_nhwc_f32);
  need("xnn_setup_average_pooling2d_nhwc_f32", &a.setup_average_pooling2d_nhwc_f32);
  need("xnn_create_global_average_pooling_ncw_f32", &a.create_global_average_pooling_ncw_f32);
  need("xnn_setup_global_average_pooling_ncw_f32", &a.setup_global_average_pooling_ncw_f32);
  need("xnn_create_add_nd_f32", &a.create_add_nd_f32);
  need("xnn_setup_add_nd_f32", &a.setup_add_nd_f32);
  need("xnn_create_clamp_nc_f32", &a.create_clamp_nc_f32);
  need("xnn_setup_clamp_nc_f32", &a.setup_clamp_nc_f32);
  // pthreadpool: not in libXNNPACK itself but in its dependency
  // libpthreadpool.so.0, which dlsym on this handle searches too.
  need("pthreadpool_create", &a.threadpool_create);
  need("pthreadpool_destroy", &a.threadpool_destroy);
  need("pthreadpool_parallelize_1d", &a.threadpool_parallelize_1d);
  if (!missing.empty()) {
    out.reason = out.library + " lacks " + missing + ": not a usable XNNPACK library";
    dlclose(handle);
    return out;
  }

  // Checks the CPU (e.g. SSE2 / NEON) and sets up the kernels; idempotent.
  const int status = a.initialize(nullptr);
  if (status != kSuccess) {
    out.reason = "xnn_initialize failed: " + status_name(status) + " (" + out.library + ")";
    return out;  // handle kept: a failed initialize may still have started state
  }
  out.ok = true;
  return out;
}

}  // namespace xnn
}  // namespace neonn
