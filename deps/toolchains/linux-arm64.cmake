# Cross toolchain: Linux on 64-bit ARM (ARMv8-A, aarch64) with Debian's
# cross compiler (apt-get install g++-aarch64-linux-gnu).
#   cmake -DCMAKE_TOOLCHAIN_FILE=deps/toolchains/linux-arm64.cmake ...
# NEONN_TARGET then defaults to linux-arm64 (deps/openblas.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(_neonn_triple aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${_neonn_triple}-gcc)
set(CMAKE_CXX_COMPILER ${_neonn_triple}-g++)

# Debian keeps the target's libc in /usr/<triple> and multiarch libraries
# (e.g. libxnnpack-dev:arm64) in /usr/lib/<triple>, which CMake searches through
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
find_program(_neonn_qemu NAMES qemu-aarch64-static qemu-aarch64)
if(_neonn_qemu)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${_neonn_qemu} -L /usr/${_neonn_triple})
endif()
