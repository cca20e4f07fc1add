// The "xnnpack" backend: XNNPACK's operators (conv2d, fullyConnected,
// pooling, and add/relu/clip where its kernels keep NaN) from the XNNPACK
// built into the addon (deps/xnnpack.cmake). Always registered; unavailable,
// with the reason, in a build without XNNPACK or on a CPU it does not support.
#pragma once

#include <memory>

#include "../backend.h"

namespace neonn {

/// Initializes XNNPACK while it is constructed; never throws.
std::unique_ptr<Backend> make_xnnpack_backend();

}  // namespace neonn
