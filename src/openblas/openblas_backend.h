#pragma once

#include <memory>
#include <string>

#include "../backend.h"
#include "cblas_api.h"

namespace neonn {

/// A backend whose gemm is a CBLAS library described by `api`.
/// `library` is the file it was loaded from (empty for the bundled builds).
std::unique_ptr<Backend> make_blas_backend(std::string name, const CblasApi& api,
                                           std::string description, std::string library = "");

/// blas:<path>: the CBLAS library at `path`, loaded with local symbols so it
/// cannot collide with the bundled builds. nullptr and `*error` when it cannot
/// load or lacks cblas_sgemm.
std::unique_ptr<Backend> make_dl_blas_backend(const std::string& name, const std::string& path,
                                              std::string* error);

/// The two OpenBLAS builds linked into the addon (deps/openblas.cmake).
std::unique_ptr<Backend> make_openblas_backend();
std::unique_ptr<Backend> make_openblas_dl_backend();

}  // namespace neonn
