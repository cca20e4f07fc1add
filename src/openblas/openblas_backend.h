#pragma once

#include <memory>
#include <string>

#include "../backend.h"
#include "cblas_api.h"

namespace neonn {

/// A backend whose gemm is a CBLAS library described by `api`.
std::unique_ptr<Backend> make_blas_backend(std::string name, const CblasApi& api,
                                           std::string description);

/// The two OpenBLAS builds linked into the addon (deps/openblas.cmake).
std::unique_ptr<Backend> make_openblas_backend();
std::unique_ptr<Backend> make_openblas_dl_backend();

}  // namespace neonn
