// The nnpack backend: NNPACK loaded at run time (dlopen), never a build or
// install dependency. Unavailable, with the reason, when the library is
// missing, lacks an entry point, or nnp_initialize() refuses this CPU.
#pragma once

#include <memory>

#include "../backend.h"

namespace neonn {

/// Loads NNPACK from NEONN_NNPACK_LIBRARY, else libnnpack.so / libnnpack.so.0
/// on the system library path. Always returns a backend; status() says
/// whether it can run here.
std::unique_ptr<Backend> make_nnpack_backend();

}  // namespace neonn
