// The two OpenBLAS builds merged into the addon. deps/openblas.cmake renames
// each build's entry points with a per-build prefix and makes everything else
// local, so both keep their own state and thread pools in one binary.
#include "openblas_backend.h"

#define NEONN_DECLARE_OPENBLAS(P)                                                             \
  extern "C" {                                                                                \
  void P##cblas_sgemm(int, int, int, int, int, int, float, const float*, int, const float*,  \
                      int, float, float*, int);                                              \
  void P##cblas_sgemv(int, int, int, int, float, const float*, int, const float*, int, float, \
                      float*, int);                                                          \
  char* P##openblas_get_config(void);                                                        \
  char* P##openblas_get_corename(void);                                                      \
  void P##openblas_set_num_threads(int);                                                     \
  int P##openblas_get_num_threads(void);                                                     \
  int P##openblas_get_num_procs(void);                                                       \
  int P##openblas_get_parallel(void);                                                        \
  }

#define NEONN_OPENBLAS_API(P)                                                               \
  [] {                                                                                      \
    CblasApi api;                                                                           \
    api.sgemm = P##cblas_sgemm;                                                             \
    api.sgemv = P##cblas_sgemv;                                                             \
    api.get_config = P##openblas_get_config;                                                \
    api.get_corename = P##openblas_get_corename;                                            \
    api.set_num_threads = P##openblas_set_num_threads;                                      \
    api.get_num_threads = P##openblas_get_num_threads;                                      \
    api.get_num_procs = P##openblas_get_num_procs;                                          \
    api.get_parallel = P##openblas_get_parallel;                                            \
    return api;                                                                             \
  }()

NEONN_DECLARE_OPENBLAS(neonn_ob_)
NEONN_DECLARE_OPENBLAS(neonn_obdl_)

namespace neonn {

std::unique_ptr<Backend> make_openblas_backend() {
  return make_blas_backend("openblas", NEONN_OPENBLAS_API(neonn_ob_),
                           "OpenBLAS, stock threading (bundled)");
}

std::unique_ptr<Backend> make_openblas_dl_backend() {
  // USE_SIMPLE_THREADED_LEVEL3=1, GEMM_THREAD=gemm_thread_m: threads split the
  // row-major N (column-major M) dimension, the pixel count of an im2col GEMM.
  return make_blas_backend("openblas-dl", NEONN_OPENBLAS_API(neonn_obdl_),
                           "OpenBLAS, deep-learning build (bundled)");
}

}  // namespace neonn
