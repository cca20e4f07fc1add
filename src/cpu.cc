#include "cpu.h"

#if defined(__linux__) && (defined(__arm__) || defined(__aarch64__))
#include <sys/auxv.h>
#endif

namespace neonn {

std::vector<std::string> cpu_features() {
  std::vector<std::string> out;
#if defined(__linux__) && defined(__aarch64__)
  // AT_HWCAP bits of the arm64 Linux ABI (asm/hwcap.h).
  const unsigned long hw = getauxval(AT_HWCAP);
  const struct { unsigned long bit; const char* name; } kBits[] = {
      {1UL << 0, "fp"},      {1UL << 1, "asimd"},    {1UL << 9, "fphp"},
      {1UL << 10, "asimdhp"}, {1UL << 20, "asimddp"}, {1UL << 22, "sve"},
  };
  for (const auto& b : kBits) {
    if (hw & b.bit) out.emplace_back(b.name);
  }
#elif defined(__linux__) && defined(__arm__)
  // AT_HWCAP bits of the 32-bit ARM Linux ABI (asm/hwcap.h).
  const unsigned long hw = getauxval(AT_HWCAP);
  const struct { unsigned long bit; const char* name; } kBits[] = {
      {1UL << 6, "vfp"}, {1UL << 12, "neon"}, {1UL << 13, "vfpv3"}, {1UL << 16, "vfpv4"},
      {1UL << 17, "idiva"},
  };
  for (const auto& b : kBits) {
    if (hw & b.bit) out.emplace_back(b.name);
  }
#elif defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse2")) out.emplace_back("sse2");
  if (__builtin_cpu_supports("sse4.2")) out.emplace_back("sse4_2");
  if (__builtin_cpu_supports("avx")) out.emplace_back("avx");
  if (__builtin_cpu_supports("fma")) out.emplace_back("fma");
  if (__builtin_cpu_supports("avx2")) out.emplace_back("avx2");
  if (__builtin_cpu_supports("avx512f")) out.emplace_back("avx512f");
#endif
  return out;
}

}  // namespace neonn
