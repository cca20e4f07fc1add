// The part of the CBLAS / OpenBLAS C API neonn calls, as a table of function
// pointers, so one BLAS backend class serves both bundled OpenBLAS builds (whose
// entry points carry per-build prefixes) and, later, a dlopen'd blas:<path>.
#pragma once

namespace neonn {

// CBLAS enum values (cblas.h): CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
constexpr int kCblasRowMajor = 101;
constexpr int kCblasNoTrans = 111;
constexpr int kCblasTrans = 112;

struct CblasApi {
  void (*sgemm)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float* a, int lda, const float* b, int ldb, float beta, float* c,
                int ldc) = nullptr;
  void (*sgemv)(int order, int trans, int m, int n, float alpha, const float* a, int lda,
                const float* x, int incx, float beta, float* y, int incy) = nullptr;
  // OpenBLAS extensions; optional for other CBLAS libraries.
  char* (*get_config)() = nullptr;
  char* (*get_corename)() = nullptr;
  void (*set_num_threads)(int n) = nullptr;
  int (*get_num_threads)() = nullptr;
  int (*get_num_procs)() = nullptr;
  int (*get_parallel)() = nullptr;
};

}  // namespace neonn
