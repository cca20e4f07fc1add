// The "auto" backend: for each conv shape it measures every path the other
// available backends offer (im2col on each BLAS build, each NNPACK algorithm,
// XNNPACK, ...) once, keeps the fastest, and remembers the choice per layer
// shape and thread count, in memory and on disk (tuning_cache.h), so a
// restarted service does not measure again. Other ops go down its fallback
// chain (openblas, then reference).
#pragma once

#include <memory>

#include "../backend.h"

namespace neonn {

std::unique_ptr<Backend> make_auto_backend();

}  // namespace neonn
