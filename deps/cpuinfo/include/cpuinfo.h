/*
 * neonn's cpuinfo: the part of the cpuinfo library's interface that XNNPACK
 * (and pthreadpool, built without its cpuinfo option) calls, implemented by
 * neonn itself (src/cpuinfo.c beside this directory) because no cpuinfo
 * source package recent enough for XNNPACK 0.0~git20241108 is reachable.
 *
 * Same names and meanings as cpuinfo's; the values of enum cpuinfo_uarch are
 * this header's own (XNNPACK only compares them with these constants). One
 * core type per system is reported (the first CPU's, or the fastest one's
 * where the kernel gives capacities): XNNPACK picks its main kernels for it.
 */
#ifndef NEONN_CPUINFO_H
#define NEONN_CPUINFO_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cpuinfo_uarch {
  cpuinfo_uarch_unknown = 0,
  /* x86-64 */
  cpuinfo_uarch_zen,
  cpuinfo_uarch_zen2,
  cpuinfo_uarch_zen3,
  cpuinfo_uarch_zen4,
  cpuinfo_uarch_zen5,
  cpuinfo_uarch_dhyana,
  /* ARM Ltd */
  cpuinfo_uarch_cortex_a5,
  cpuinfo_uarch_cortex_a7,
  cpuinfo_uarch_cortex_a32,
  cpuinfo_uarch_cortex_a35,
  cpuinfo_uarch_cortex_a53,
  cpuinfo_uarch_cortex_a55r0,
  cpuinfo_uarch_cortex_a55,
  cpuinfo_uarch_cortex_a57,
  cpuinfo_uarch_cortex_a72,
  cpuinfo_uarch_cortex_a73,
  cpuinfo_uarch_cortex_a75,
  cpuinfo_uarch_cortex_a76,
  cpuinfo_uarch_cortex_a77,
  cpuinfo_uarch_cortex_a78,
  cpuinfo_uarch_cortex_a510,
  cpuinfo_uarch_cortex_a710,
  cpuinfo_uarch_cortex_a715,
  cpuinfo_uarch_cortex_x1,
  cpuinfo_uarch_cortex_x2,
  cpuinfo_uarch_cortex_x3,
  cpuinfo_uarch_neoverse_n1,
  cpuinfo_uarch_neoverse_n2,
  cpuinfo_uarch_neoverse_v1,
  cpuinfo_uarch_neoverse_v2,
  /* Others XNNPACK names in its kernel tables; never detected here. */
  cpuinfo_uarch_krait,
  cpuinfo_uarch_kryo,
  cpuinfo_uarch_exynos_m1,
  cpuinfo_uarch_exynos_m2,
  cpuinfo_uarch_exynos_m3,
  cpuinfo_uarch_exynos_m4,
  cpuinfo_uarch_exynos_m5,
};

struct cpuinfo_core {
  enum cpuinfo_uarch uarch;
  uint32_t midr; /* ARM: MIDR of that core; 0 elsewhere */
};

struct cpuinfo_uarch_info {
  enum cpuinfo_uarch uarch;
  uint32_t midr;
  uint32_t processor_count;
  uint32_t core_count;
};

/* Detects once (thread-safe); true on success. */
bool cpuinfo_initialize(void);
void cpuinfo_deinitialize(void);

uint32_t cpuinfo_get_processors_count(void);
uint32_t cpuinfo_get_cores_count(void);
uint32_t cpuinfo_get_uarchs_count(void);
/* Core 0 only (one core type is reported); NULL for other indices. */
const struct cpuinfo_core* cpuinfo_get_core(uint32_t index);
/* Index 0 only; NULL for other indices ("no more microarchitectures"). */
const struct cpuinfo_uarch_info* cpuinfo_get_uarch(uint32_t index);
uint32_t cpuinfo_get_current_uarch_index(void);
uint32_t cpuinfo_get_current_uarch_index_with_default(uint32_t default_uarch_index);

/* x86 (false elsewhere). True only when the OS also saves the registers. */
bool cpuinfo_has_x86_sse2(void);
bool cpuinfo_has_x86_ssse3(void);
bool cpuinfo_has_x86_sse4_1(void);
bool cpuinfo_has_x86_avx(void);
bool cpuinfo_has_x86_f16c(void);
bool cpuinfo_has_x86_fma3(void);
bool cpuinfo_has_x86_avx2(void);
bool cpuinfo_has_x86_avx512f(void);
bool cpuinfo_has_x86_avx512bw(void);
bool cpuinfo_has_x86_avx512dq(void);
bool cpuinfo_has_x86_avx512vl(void);
bool cpuinfo_has_x86_avx512vbmi(void);
bool cpuinfo_has_x86_avx512vnni(void);
bool cpuinfo_has_x86_avx512fp16(void);
bool cpuinfo_has_x86_gfni(void);
bool cpuinfo_has_x86_avxvnni(void);
bool cpuinfo_has_x86_avx_vnni_int8(void);
bool cpuinfo_has_x86_amx_int8(void);
bool cpuinfo_has_x86_avx10(void);

/* ARM (false elsewhere). */
bool cpuinfo_has_arm_v6(void);
bool cpuinfo_has_arm_vfpv2(void);
bool cpuinfo_has_arm_vfpv3(void);
bool cpuinfo_has_arm_neon(void);
bool cpuinfo_has_arm_neon_fp16(void);
bool cpuinfo_has_arm_neon_fma(void);
bool cpuinfo_has_arm_neon_v8(void);
bool cpuinfo_has_arm_fp16_arith(void);
bool cpuinfo_has_arm_neon_fp16_arith(void);
bool cpuinfo_has_arm_neon_dot(void);
bool cpuinfo_has_arm_neon_bf16(void);
bool cpuinfo_has_arm_i8mm(void);
bool cpuinfo_has_arm_sve(void);
bool cpuinfo_has_arm_sve2(void);
bool cpuinfo_has_arm_sme(void);
bool cpuinfo_has_arm_sme2(void);

#ifdef __cplusplus
}
#endif

#endif /* NEONN_CPUINFO_H */
