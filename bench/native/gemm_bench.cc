// Native sgemm benchmark: the very OpenBLAS builds linked into the addon,
// called from C++ with no JS in between, so bench/gemm.js can report the JS
// API's throughput as a fraction of this.
//
//   neonn_gemm_bench <backend> <threads> <seconds> M N K [M N K ...]
//
// Prints one JSON object per case: {"backend","threads","m","n","k","reps","median_ms","gflops"}.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../../src/registry.h"

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7 || (argc - 4) % 3 != 0) {
    std::fprintf(stderr, "usage: %s <backend> <threads> <seconds> M N K [M N K ...]\n", argv[0]);
    return 2;
  }
  neonn::Registry& reg = neonn::Registry::instance();
  const neonn::Backend* backend = reg.find(argv[1]);
  if (backend == nullptr || !backend->status().ok) {
    std::fprintf(stderr, "backend %s unavailable; available: %s\n", argv[1], reg.available_names().c_str());
    return 2;
  }
  reg.set_threads(std::atoi(argv[2]));
  const double seconds = std::atof(argv[3]);
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);

  for (int c = 4; c + 2 < argc; c += 3) {
    const int m = std::atoi(argv[c]), n = std::atoi(argv[c + 1]), k = std::atoi(argv[c + 2]);
    if (m <= 0 || n <= 0 || k <= 0) {
      std::fprintf(stderr, "bad case %s %s %s\n", argv[c], argv[c + 1], argv[c + 2]);
      return 2;
    }
    std::vector<float> a(static_cast<size_t>(m) * k), b(static_cast<size_t>(k) * n),
        y(static_cast<size_t>(m) * n);
    for (float& v : a) v = dist(rng);
    for (float& v : b) v = dist(rng);
    neonn::SgemmArgs s;
    s.m = m; s.n = n; s.k = k;
    s.a = a.data(); s.lda = k;
    s.b = b.data(); s.ldb = n;
    s.c = y.data(); s.ldc = n;
    s.alpha = 1.0f; s.beta = 0.0f;
    // Warm-up: thread pool, buffers, caches (as long as the JS side gets).
    const double warm = now_seconds();
    do backend->sgemm(s); while (now_seconds() - warm < std::min(0.05, seconds / 2));
    std::vector<double> times;
    const double start = now_seconds();
    while (times.size() < 3 || (now_seconds() - start < seconds && times.size() < 100000)) {
      const double t0 = now_seconds();
      backend->sgemm(s);
      times.push_back(now_seconds() - t0);
    }
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    std::printf(
        "{\"backend\":\"%s\",\"threads\":%d,\"m\":%d,\"n\":%d,\"k\":%d,\"reps\":%zu,"
        "\"median_ms\":%.6f,\"gflops\":%.4f}\n",
        argv[1], reg.threads(), m, n, k, times.size(), median * 1e3,
        2.0 * m * n * k / median * 1e-9);
    std::fflush(stdout);
  }
  return 0;
}
