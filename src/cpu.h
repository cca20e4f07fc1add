// CPU features seen at run time, from the kernel's hardware capabilities
// (getauxval) on ARM and from cpuid on x86. Under qemu-user these are the
// emulated CPU's, which is what a prebuild will meet on that board.
#pragma once

#include <string>
#include <vector>

namespace neonn {

/// e.g. {"neon", "vfpv4"} on a Raspberry Pi 2, {"asimd", "fphp", "asimdhp"} on a Pi 5.
std::vector<std::string> cpu_features();

}  // namespace neonn
