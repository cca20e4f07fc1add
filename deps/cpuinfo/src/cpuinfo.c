/*
 * neonn's implementation of include/cpuinfo.h for Linux on x86-64, arm64 and
 * 32-bit ARM: CPUID and XGETBV on x86 (a feature counts only when the OS
 * saves its registers), the kernel's HWCAP bits on ARM, and the MIDR register
 * of the fastest core for the ARM microarchitecture.
 */
#define _GNU_SOURCE
#include "cpuinfo.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define NEONN_CPUINFO_X86 1
#include <cpuid.h>
#elif defined(__aarch64__) || defined(__arm__)
#define NEONN_CPUINFO_ARM 1
#include <sys/auxv.h>
#endif

struct features {
  /* x86 */
  bool sse2, ssse3, sse4_1, avx, f16c, fma3, avx2, avx512f, avx512bw, avx512dq, avx512vl,
      avx512vbmi, avx512vnni, avx512fp16, gfni, avxvnni, avx_vnni_int8;
  /* ARM */
  bool arm_v6, vfpv2, vfpv3, neon, neon_fp16, neon_fma, neon_v8, fp16_arith, neon_fp16_arith,
      neon_dot, neon_bf16, i8mm, sve, sve2;
};

static struct features g_features;
static struct cpuinfo_core g_core;
static struct cpuinfo_uarch_info g_uarch;
static uint32_t g_processors = 1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#if NEONN_CPUINFO_X86
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

#define BIT(r, n) ((((r) >> (n)) & 1u) != 0)

static void detect_x86(void) {
  uint32_t r[4];
  cpuid(0, 0, r);
  const uint32_t max_leaf = r[0];
  char vendor[13];
  memcpy(vendor, &r[1], 4);
  memcpy(vendor + 4, &r[3], 4);
  memcpy(vendor + 8, &r[2], 4);
  vendor[12] = '\0';

  cpuid(1, 0, r);
  const uint32_t eax1 = r[0], ecx1 = r[2], edx1 = r[3];
  const bool osxsave = BIT(ecx1, 27);
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;             /* XMM and YMM state */
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */

  struct features* f = &g_features;
  f->sse2 = BIT(edx1, 26);
  f->ssse3 = BIT(ecx1, 9);
  f->sse4_1 = BIT(ecx1, 19);
  f->avx = os_avx && BIT(ecx1, 28);
  f->f16c = f->avx && BIT(ecx1, 29);
  f->fma3 = f->avx && BIT(ecx1, 12);

  if (max_leaf >= 7) {
    cpuid(7, 0, r);
    const uint32_t ebx7 = r[1], ecx7 = r[2], edx7 = r[3];
    const uint32_t max_sub7 = r[0];
    f->avx2 = f->avx && BIT(ebx7, 5);
    f->avx512f = os_avx512 && BIT(ebx7, 16);
    f->avx512dq = f->avx512f && BIT(ebx7, 17);
    f->avx512bw = f->avx512f && BIT(ebx7, 30);
    f->avx512vl = f->avx512f && BIT(ebx7, 31);
    f->avx512vbmi = f->avx512f && BIT(ecx7, 1);
    f->gfni = BIT(ecx7, 8);
    f->avx512vnni = f->avx512f && BIT(ecx7, 11);
    f->avx512fp16 = f->avx512f && BIT(edx7, 23);
    if (max_sub7 >= 1) {
      cpuid(7, 1, r);
      f->avxvnni = f->avx2 && BIT(r[0], 4);
      f->avx_vnni_int8 = f->avx2 && BIT(r[3], 4);
    }
  }

  /* Family as CPUID reports it: base family, plus the extended one for 0xf. */
  uint32_t family = (eax1 >> 8) & 0xf;
  uint32_t model = (eax1 >> 4) & 0xf;
  if (family == 0xf) {
    family += (eax1 >> 20) & 0xff;
    model |= ((eax1 >> 16) & 0xf) << 4;
  }
  enum cpuinfo_uarch u = cpuinfo_uarch_unknown;
  if (strcmp(vendor, "AuthenticAMD") == 0) {
    if (family == 0x17) {
      u = model < 0x30 ? cpuinfo_uarch_zen : cpuinfo_uarch_zen2;
    } else if (family == 0x19) {
      u = (model >= 0x10 && model <= 0x1f) || (model >= 0x60 && model <= 0x7f) || (model >= 0xa0 && model <= 0xaf)
              ? cpuinfo_uarch_zen4
              : cpuinfo_uarch_zen3;
    } else if (family == 0x1a) {
      u = cpuinfo_uarch_zen5;
    }
  } else if (strcmp(vendor, "HygonGenuine") == 0 && family == 0x18) {
    u = cpuinfo_uarch_dhyana;
  }
  g_core.uarch = u;
}
#endif /* NEONN_CPUINFO_X86 */

#if NEONN_CPUINFO_ARM
static enum cpuinfo_uarch arm_uarch(uint32_t midr) {
  const uint32_t implementer = midr >> 24;
  const uint32_t variant = (midr >> 20) & 0xf;
  const uint32_t part = (midr >> 4) & 0xfff;
  if (implementer != 0x41) return cpuinfo_uarch_unknown;
  switch (part) {
    case 0xc05: return cpuinfo_uarch_cortex_a5;
    case 0xc07: return cpuinfo_uarch_cortex_a7;
    case 0xd01: return cpuinfo_uarch_cortex_a32;
    case 0xd04: return cpuinfo_uarch_cortex_a35;
    case 0xd03: return cpuinfo_uarch_cortex_a53;
    case 0xd05: return variant == 0 ? cpuinfo_uarch_cortex_a55r0 : cpuinfo_uarch_cortex_a55;
    case 0xd07: return cpuinfo_uarch_cortex_a57;
    case 0xd08: return cpuinfo_uarch_cortex_a72;
    case 0xd09: return cpuinfo_uarch_cortex_a73;
    case 0xd0a: return cpuinfo_uarch_cortex_a75;
    case 0xd0b: return cpuinfo_uarch_cortex_a76;
    case 0xd0c: return cpuinfo_uarch_neoverse_n1;
    case 0xd0d: return cpuinfo_uarch_cortex_a77;
    case 0xd40: return cpuinfo_uarch_neoverse_v1;
    case 0xd41: return cpuinfo_uarch_cortex_a78;
    case 0xd44: return cpuinfo_uarch_cortex_x1;
    case 0xd46: return cpuinfo_uarch_cortex_a510;
    case 0xd47: return cpuinfo_uarch_cortex_a710;
    case 0xd48: return cpuinfo_uarch_cortex_x2;
    case 0xd49: return cpuinfo_uarch_neoverse_n2;
    case 0xd4d: return cpuinfo_uarch_cortex_a715;
    case 0xd4e: return cpuinfo_uarch_cortex_x3;
    case 0xd4f: return cpuinfo_uarch_neoverse_v2;
  }
  return cpuinfo_uarch_unknown;
}

static bool read_hex_file(const char* path, unsigned long* out) {
  FILE* f = fopen(path, "r");
  if (f == NULL) return false;
  char buf[64];
  const bool ok = fgets(buf, sizeof buf, f) != NULL;
  fclose(f);
  if (!ok) return false;
  char* end = NULL;
  *out = strtoul(buf, &end, 0);
  return end != buf;
}

/* MIDR of the fastest core by the kernel's cpu_capacity (the first on equal
 * or unknown capacities); 0 when the kernel does not expose MIDRs. */
static uint32_t fastest_midr(void) {
  uint32_t midr = 0;
  unsigned long best = 0;
  for (uint32_t cpu = 0; cpu < g_processors && cpu < 1024; cpu++) {
    char path[128];
    unsigned long m = 0, cap = 0;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/regs/identification/midr_el1", cpu);
    if (!read_hex_file(path, &m)) continue;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpu_capacity", cpu);
    FILE* f = fopen(path, "r");
    if (f != NULL) {
      if (fscanf(f, "%lu", &cap) != 1) cap = 0;
      fclose(f);
    }
    if (midr == 0 || cap > best) {
      midr = (uint32_t)m;
      best = cap;
    }
  }
#if defined(__aarch64__)
  /* No sysfs (e.g. qemu-user): the kernel (or emulator) traps and emulates
   * reading MIDR_EL1 from EL0 when it advertises HWCAP_CPUID (bit 11). */
  if (midr == 0 && (getauxval(AT_HWCAP) & (1ul << 11)) != 0) {
    uint64_t v;
    __asm__ volatile("mrs %0, MIDR_EL1" : "=r"(v));
    midr = (uint32_t)v;
  }
#endif
  return midr;
}

static void detect_arm(void) {
  const unsigned long hwcap = getauxval(AT_HWCAP);
  const unsigned long hwcap2 = getauxval(AT_HWCAP2);
  struct features* f = &g_features;
#if defined(__aarch64__)
  /* AArch64 Linux HWCAP bits (asm/hwcap.h): FP 0, ASIMD 1, FPHP 9, ASIMDHP 10,
   * ASIMDDP 20, SVE 22; HWCAP2: SVE2 1, I8MM 13, BF16 14. Advanced SIMD with
   * FMA, the ARMv8 rounding instructions and fp16 conversions are baseline. */
  f->arm_v6 = f->vfpv2 = f->vfpv3 = true;
  f->neon = f->neon_fma = f->neon_v8 = f->neon_fp16 = (hwcap & (1ul << 1)) != 0;
  f->fp16_arith = (hwcap & (1ul << 9)) != 0;
  f->neon_fp16_arith = (hwcap & (1ul << 10)) != 0;
  f->neon_dot = (hwcap & (1ul << 20)) != 0;
  f->sve = (hwcap & (1ul << 22)) != 0;
  f->sve2 = (hwcap2 & (1ul << 1)) != 0;
  f->i8mm = (hwcap2 & (1ul << 13)) != 0;
  f->neon_bf16 = (hwcap2 & (1ul << 14)) != 0;
#else
  /* 32-bit ARM Linux HWCAP bits: VFP 6, NEON 12, VFPv3 13, VFPv4 16,
   * FPHP 22, ASIMDHP 23, ASIMDDP 24, I8MM 27 (the last four set by an ARMv8
   * kernel only). neon_v8 stays false: ARMv8's AArch32 rounding instructions
   * are not told apart reliably by HWCAP on every kernel, and XNNPACK then
   * uses its ARMv7 NEON kernels, which every such core runs. */
  f->arm_v6 = true; /* this build targets ARMv7-A */
  f->vfpv2 = (hwcap & (1ul << 6)) != 0;
  f->vfpv3 = (hwcap & (1ul << 13)) != 0;
  f->neon = (hwcap & (1ul << 12)) != 0;
  f->neon_fma = f->neon && (hwcap & (1ul << 16)) != 0;
  f->neon_fp16 = f->neon_fma; /* VFPv4 includes the half-precision conversions */
  f->fp16_arith = (hwcap & (1ul << 22)) != 0;
  f->neon_fp16_arith = f->neon && (hwcap & (1ul << 23)) != 0;
  f->neon_dot = f->neon && (hwcap & (1ul << 24)) != 0;
  f->i8mm = f->neon && (hwcap & (1ul << 27)) != 0;
  (void)hwcap2;
#endif
  const uint32_t midr = fastest_midr();
  g_core.midr = midr;
  g_core.uarch = arm_uarch(midr);
}
#endif /* NEONN_CPUINFO_ARM */

static void detect(void) {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  g_processors = n > 0 ? (uint32_t)n : 1;
#if NEONN_CPUINFO_X86
  detect_x86();
#elif NEONN_CPUINFO_ARM
  detect_arm();
#endif
  g_uarch.uarch = g_core.uarch;
  g_uarch.midr = g_core.midr;
  g_uarch.processor_count = g_processors;
  g_uarch.core_count = g_processors;
}

bool cpuinfo_initialize(void) {
  return pthread_once(&g_once, detect) == 0;
}

void cpuinfo_deinitialize(void) {}

uint32_t cpuinfo_get_processors_count(void) { return g_processors; }
uint32_t cpuinfo_get_cores_count(void) { return g_processors; }
uint32_t cpuinfo_get_uarchs_count(void) { return 1; }
const struct cpuinfo_core* cpuinfo_get_core(uint32_t index) { return index == 0 ? &g_core : NULL; }
const struct cpuinfo_uarch_info* cpuinfo_get_uarch(uint32_t index) { return index == 0 ? &g_uarch : NULL; }
uint32_t cpuinfo_get_current_uarch_index(void) { return 0; }
uint32_t cpuinfo_get_current_uarch_index_with_default(uint32_t default_uarch_index) {
  (void)default_uarch_index;
  return 0;
}

#define FEATURE(name, field) \
  bool cpuinfo_has_##name(void) { return g_features.field; }
FEATURE(x86_sse2, sse2)
FEATURE(x86_ssse3, ssse3)
FEATURE(x86_sse4_1, sse4_1)
FEATURE(x86_avx, avx)
FEATURE(x86_f16c, f16c)
FEATURE(x86_fma3, fma3)
FEATURE(x86_avx2, avx2)
FEATURE(x86_avx512f, avx512f)
FEATURE(x86_avx512bw, avx512bw)
FEATURE(x86_avx512dq, avx512dq)
FEATURE(x86_avx512vl, avx512vl)
FEATURE(x86_avx512vbmi, avx512vbmi)
FEATURE(x86_avx512vnni, avx512vnni)
FEATURE(x86_avx512fp16, avx512fp16)
FEATURE(x86_gfni, gfni)
FEATURE(x86_avxvnni, avxvnni)
FEATURE(x86_avx_vnni_int8, avx_vnni_int8)
FEATURE(arm_v6, arm_v6)
FEATURE(arm_vfpv2, vfpv2)
FEATURE(arm_vfpv3, vfpv3)
FEATURE(arm_neon, neon)
FEATURE(arm_neon_fp16, neon_fp16)
FEATURE(arm_neon_fma, neon_fma)
FEATURE(arm_neon_v8, neon_v8)
FEATURE(arm_fp16_arith, fp16_arith)
FEATURE(arm_neon_fp16_arith, neon_fp16_arith)
FEATURE(arm_neon_dot, neon_dot)
FEATURE(arm_neon_bf16, neon_bf16)
FEATURE(arm_i8mm, i8mm)
FEATURE(arm_sve, sve)
FEATURE(arm_sve2, sve2)

/* Not used by the kernels neonn's XNNPACK build contains (AMX and AVX10
 * kernels are int8/bf16 only, SME is disabled in the build): reported absent
 * so that XNNPACK never selects them. */
bool cpuinfo_has_x86_amx_int8(void) { return false; }
bool cpuinfo_has_x86_avx10(void) { return false; }
bool cpuinfo_has_arm_sme(void) { return false; }
bool cpuinfo_has_arm_sme2(void) { return false; }
