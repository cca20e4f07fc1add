# Cross toolchain: Linux on 32-bit ARM, ARMv7-A with NEON-VFPv4, hard float
# (Raspberry Pi 2 and later on a 32-bit OS), with Debian's cross compiler
# (apt-get install g++-arm-linux-gnueabihf).
#   cmake -DCMAKE_TOOLCHAIN_FILE=deps/toolchains/linux-arm.cmake ...
# NEONN_TARGET then defaults to linux-arm (deps/openblas.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(_neonn_triple arm-linux-gnueabihf)
set(CMAKE_C_COMPILER ${_neonn_triple}-gcc)
set(CMAKE_CXX_COMPILER ${_neonn_triple}-g++)

# No ISA flags here: Debian's armhf compiler defaults to ARMv7-A, VFPv3-D16,
# Thumb-2, hard float, and NEON is added by neonn's build flavour (NEONN_FLAVOUR
# neon: -mfpu=neon-vfpv4), so that the vanilla flavour stays a plain build.
# OpenBLAS gets its own flags from deps/openblas.cmake.

# Debian keeps the target's libc in /usr/<triple> and multiarch libraries
# (e.g. libxnnpack-dev:armhf) in /usr/lib/<triple>, which CMake searches through
# CMAKE_LIBRARY_ARCHITECTURE. Programs are the build machine's.
set(CMAKE_LIBRARY_ARCHITECTURE ${_neonn_triple})
set(CMAKE_FIND_ROOT_PATH /usr/${_neonn_triple})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

find_program(_neonn_pkg_config ${_neonn_triple}-pkg-config)
if(_neonn_pkg_config)
  set(PKG_CONFIG_EXECUTABLE ${_neonn_pkg_config} CACHE FILEPATH "pkg-config for ${_neonn_triple}")
endif()

# Run target programs (try_run, tests) under qemu-user (apt-get install qemu-user).
find_program(_neonn_qemu NAMES qemu-arm-static qemu-arm)
if(_neonn_qemu)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${_neonn_qemu} -L /usr/${_neonn_triple})
endif()
