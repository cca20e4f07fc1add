// The "xnnpack" backend: XNNPACK's operators (conv2d, fullyConnected,
// pooling, and add/relu/clip where its kernels keep NaN) from the system's
// libXNNPACK, loaded at run time so that neither the build nor a prebuild
// needs it. Always registered; unavailable, with the reason, when the library
// is missing or not the 2022-02 snapshot neonn speaks to.
#pragma once

#include <memory>

#include "../backend.h"

namespace neonn {

/// Loads XNNPACK while it is constructed; never throws for a missing library.
std::unique_ptr<Backend> make_xnnpack_backend();

}  // namespace neonn
