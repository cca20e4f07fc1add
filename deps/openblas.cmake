# deps/openblas.cmake — OpenBLAS for neonn, built from source in two flavours.
#
#   include(deps/openblas.cmake)
#   neonn_add_openblas(<target> FLAVOUR openblas|openblas-dl PREFIX <symbol prefix>)
#
# <target> is an INTERFACE library. Linking it links one relocatable object,
# made at build time by openblas_build.cmake, in which the only global symbols
# are the entry points of openblas_symbols.txt renamed with PREFIX
# (cblas_sgemm -> neonn_ob_cblas_sgemm); every other OpenBLAS symbol is local,
# so both flavours live in one addon, each with its own state and threads.
#
# Flavours (see DESIGN.md, "The OpenBLAS deep-learning branch, precisely"):
#   openblas     stock threading
#   openblas-dl  USE_SIMPLE_THREADED_LEVEL3=1 and GEMM_THREAD=gemm_thread_m
#
# Settings (a CMake variable wins over the environment variable of that name):
#   NEONN_TARGET           linux-x64 | linux-arm64 | linux-arm
#                          (default: from CMAKE_SYSTEM_PROCESSOR)
#   NEONN_DEPS_CACHE       cache root, outside the clone so a fresh clone reuses it
#                          (default: $XDG_CACHE_HOME/neonn-deps, else ~/.cache/neonn-deps,
#                          else <this dir>/.cache when there is no home); outlives build dirs
#   NEONN_OPENBLAS_SOURCE  OpenBLAS source: a directory or a tarball, used instead
#                          of the pinned Debian source package
#   NEONN_OPENBLAS_CC      C compiler for OpenBLAS (default: see _neonn_ob_pick_cc)
#   NEONN_OPENBLAS_JOBS    make -j for the OpenBLAS build (default: logical cores)

include_guard(GLOBAL)

if(CMAKE_VERSION VERSION_LESS 3.18)
  message(FATAL_ERROR "neonn: deps/openblas.cmake needs CMake 3.18 or newer (found ${CMAKE_VERSION})")
endif()

set(_NEONN_OB_DIR "${CMAKE_CURRENT_LIST_DIR}")

# The pinned source: Debian's orig tarball of OpenBLAS 0.3.29 (trixie's
# openblas 0.3.29+ds-*), fetched with `apt-get source` and checked against this
# SHA256 before use. It is upstream's release tree minus lapack-netlib/ and
# relapack/ (Debian's Files-Excluded), which a NO_LAPACK build never reads.
# Debian's own patches are not applied; openblas_build.cmake makes its few
# edits itself (see "Source edits" there).
set(NEONN_OPENBLAS_VERSION "0.3.29")
set(NEONN_OPENBLAS_DEB_ORIG "openblas_0.3.29+ds.orig.tar.xz")
set(NEONN_OPENBLAS_SHA256
    "eb691e2cff83799400da22aa6ab93ebaa346ad317fea578b7ae119e226ce1b01")

# A CMake variable if set, else the environment variable, else <default>.
function(_neonn_ob_setting out name default)
  if(DEFINED ${name} AND NOT "${${name}}" STREQUAL "")
    set(${out} "${${name}}" PARENT_SCOPE)
  elseif(DEFINED ENV{${name}} AND NOT "$ENV{${name}}" STREQUAL "")
    set(${out} "$ENV{${name}}" PARENT_SCOPE)
  else()
    set(${out} "${default}" PARENT_SCOPE)
  endif()
endfunction()

# --- target ---------------------------------------------------------------
# CMAKE_SYSTEM_PROCESSOR is uname -m for native builds: a Raspberry Pi with a
# 64-bit kernel and a 32-bit userland says aarch64, so the pointer size decides.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND NOT CMAKE_SIZEOF_VOID_P EQUAL 4)
  set(_neonn_default_target linux-x64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$" AND NOT CMAKE_SIZEOF_VOID_P EQUAL 4)
  set(_neonn_default_target linux-arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(arm|armv7.*|armv8l|armhf|aarch64|arm64)$")
  set(_neonn_default_target linux-arm)
else()
  set(_neonn_default_target "")
endif()
_neonn_ob_setting(NEONN_TARGET NEONN_TARGET "${_neonn_default_target}")
if(NOT NEONN_TARGET)
  message(FATAL_ERROR "neonn: no OpenBLAS configuration for processor '${CMAKE_SYSTEM_PROCESSOR}'; "
                      "set NEONN_TARGET to linux-x64, linux-arm64 or linux-arm")
endif()

if(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
  set(_neonn_default_cache "$ENV{XDG_CACHE_HOME}/neonn-deps")
elseif(DEFINED ENV{HOME} AND NOT "$ENV{HOME}" STREQUAL "" AND IS_DIRECTORY "$ENV{HOME}")
  set(_neonn_default_cache "$ENV{HOME}/.cache/neonn-deps")
else()
  set(_neonn_default_cache "${_NEONN_OB_DIR}/.cache")
endif()
_neonn_ob_setting(NEONN_DEPS_CACHE NEONN_DEPS_CACHE "${_neonn_default_cache}")
get_filename_component(NEONN_DEPS_CACHE "${NEONN_DEPS_CACHE}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")

# Per-target table:
#   _triple  GNU triple of Debian's cross toolchain
#   _make    make variables that differ between targets
#   _cflags  extra C flags
#
# DYNAMIC_ARCH builds every core in DYNAMIC_CORE = <baseline> + DYNAMIC_LIST and
# picks one at run time (driver/others/dynamic*.c). A detected core that is not
# in the list is #defined to the next older one that is.
#
# linux-x64: baseline PRESCOTT (SSE3). TARGET=PRESCOTT also keeps the common
#   (non-kernel) code at the baseline ISA: without TARGET, Makefile.x86_64 adds
#   the *build machine's* -mavx2 to every file, which would make the prebuild
#   crash on older CPUs.
#     NEHALEM      SSE4.2 Intel; AMD Barcelona..Bobcat fall back to it too
#     SANDYBRIDGE  AVX: Sandy/Ivy Bridge; Bulldozer..Excavator fall back to it
#     HASWELL      AVX2+FMA; also serves Zen 1-3: ZEN (not listed) falls back to
#                  HASWELL. In 0.3.29 their SGEMM kernel and blocking are the same
#                  (ZEN differs only in its beta and packing copy routines), so
#                  leaving ZEN out saves one of six kernel sets of build time.
#     SKYLAKEX     AVX-512. COOPERLAKE and SAPPHIRERAPIDS (not listed) fall back
#                  to it; in 0.3.29 they add only bf16 (SBGEMM) kernels to
#                  SKYLAKEX's, which neonn never calls. Detected as COOPERLAKE:
#                  Cooper Lake, Zen 4, and (by 0.3.29's AVX512_BF16 fallback for
#                  an unknown family) Zen 5; as SAPPHIRERAPIDS: Sapphire Rapids.
#                  A KVM guest showing family 6 model 0xA7 (this project's build
#                  machine, AVX-512 with AMX) is SKYLAKEX.
#   Caveat (still in 0.3.29): a Zen 1-3 whose hypervisor hides AVX2 is detected as
#   ZEN (AVX2 kernels). OPENBLAS_CORETYPE=SandyBridge in the environment (read by
#   both builds) overrides the detection.
# linux-arm64: baseline ARMV8. NEOVERSEN1 is the A76-class core (Neoverse N1 is
#   a Cortex-A76 derivative). 0.3.29's run-time detection knows Neoverse N1
#   (0xd0c) but not the Cortex-A76 itself (0xd0b, Raspberry Pi 5), which would
#   get generic ARMV8: openblas_build.cmake adds that one case (see "Source
#   edits"). Cortex-A73 (not listed) gets ARMV8, and so does Cortex-A55: 0.3.29
#   tests DYN_CORTEX_A55, which DYNAMIC_LIST's -DDYN_CORTEXA55 never defines.
# linux-arm: ARMV7 has no DYNAMIC_ARCH. Note that Makefile.arm appends
#   -mfpu=vfpv3 after these flags, so OpenBLAS's own code stays VFPv3 (its ARMV7
#   kernels are VFP assembly anyway); -mfloat-abi=hard and -march stay in effect.
function(_neonn_ob_target_table target)
  if(target STREQUAL "linux-x64")
    set(_triple "x86_64-linux-gnu")
    set(_make TARGET=PRESCOTT DYNAMIC_ARCH=1 "DYNAMIC_LIST=NEHALEM SANDYBRIDGE HASWELL SKYLAKEX")
    set(_cflags "")
  elseif(target STREQUAL "linux-arm64")
    set(_triple "aarch64-linux-gnu")
    set(_make TARGET=ARMV8 DYNAMIC_ARCH=1 "DYNAMIC_LIST=CORTEXA53 CORTEXA57 CORTEXA72 NEOVERSEN1")
    set(_cflags "")
  elseif(target STREQUAL "linux-arm")
    set(_triple "arm-linux-gnueabihf")
    set(_make TARGET=ARMV7)
    set(_cflags "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard")
  else()
    message(FATAL_ERROR "neonn: unknown NEONN_TARGET '${target}' (linux-x64, linux-arm64 or linux-arm)")
  endif()
  foreach(v _triple _make _cflags)
    set(${v} "${${v}}" PARENT_SCOPE)
  endforeach()
endfunction()

# Every pthread_* and sqrt that OpenBLAS calls.
find_package(Threads REQUIRED)

# Finds a program for the OpenBLAS build; fatal with a hint if it is missing.
# Cached per name list (NEONN_OB_TOOL_<first name>), as find_program does.
function(_neonn_ob_require out)
  list(GET ARGN 0 _first)
  string(MAKE_C_IDENTIFIER "NEONN_OB_TOOL_${_first}" _var)
  find_program(${_var} NAMES ${ARGN})
  mark_as_advanced(${_var})
  set(_p "${${_var}}")
  if(NOT _p)
    list(JOIN ARGN " or " _names)
    message(FATAL_ERROR "neonn: building OpenBLAS needs ${_names} in PATH "
                        "(on Debian: apt-get install build-essential; for cross builds "
                        "gcc-aarch64-linux-gnu / gcc-arm-linux-gnueabihf)")
  endif()
  set(${out} "${_p}" PARENT_SCOPE)
endfunction()

function(neonn_add_openblas name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "FLAVOUR;PREFIX" "")
  if(ARG_UNPARSED_ARGUMENTS OR NOT ARG_FLAVOUR OR NOT ARG_PREFIX)
    message(FATAL_ERROR "neonn_add_openblas(<target> FLAVOUR openblas|openblas-dl PREFIX <prefix>)")
  endif()
  if(NOT ARG_PREFIX MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "neonn_add_openblas: PREFIX '${ARG_PREFIX}' is not a C identifier prefix")
  endif()

  # Threads exit after 2^THREAD_TIMEOUT ticks of idle spinning (rdtsc on x86, a
  # scaled counter on arm64, nanoseconds on armv7). The default 28 is ~70-130 ms
  # at 2-4 GHz and ~270 ms on armv7: an idle service would keep every core busy
  # that long after each call. 24 is ~4-8 ms (17 ms on armv7): still longer than
  # the gap between the layers of one forward pass, so threads stay warm within a
  # model run, yet go to sleep almost as soon as the service is idle.
  # 0.3.29's Makefiles have no THREAD_TIMEOUT variable, so it goes into CFLAGS.
  # NO_EXPRECISION: 0.3.29 turns on x86 extended precision (80-bit long double)
  # for gcc whenever the Fortran compiler is assumed to be gfortran, even with
  # NOFORTRAN, and then builds every xdouble/xcomplex level-3 driver despite
  # BUILD_SINGLE: about a third more compile time for code neonn never calls.
  set(_common
      BUILD_SINGLE=1 NO_LAPACK=1 NO_LAPACKE=1 NOFORTRAN=1 NO_SHARED=1 NO_EXPRECISION=1
      USE_THREAD=1 USE_OPENMP=0 USE_LOCKING=1 NO_AFFINITY=1 NUM_THREADS=64
      COMMON_OPT=-O2)
  set(_flavour_cflags "-DTHREAD_TIMEOUT=24")
  if(ARG_FLAVOUR STREQUAL "openblas")
    set(_flavour_make "")
  elseif(ARG_FLAVOUR STREQUAL "openblas-dl")
    # GEMM_THREAD is #ifndef-guarded in common_param.h. It must go in CFLAGS on
    # the make command line: Makefile.system appends its own flags to that with
    # 'override CFLAGS +=', so it reaches every compile, interface/gemm.c included.
    # (CCOMMON_OPT on the command line would replace all of Makefile.system's
    # CCOMMON_OPT += lines: -fPIC, -DSMP_SERVER, -DDYNAMIC_ARCH, ...)
    # USE_SIMPLE_THREADED_LEVEL3 is tested with ifdef, so it is left out entirely
    # for the stock flavour (USE_SIMPLE_THREADED_LEVEL3=0 would still enable it).
    set(_flavour_make USE_SIMPLE_THREADED_LEVEL3=1)
    string(APPEND _flavour_cflags " -DGEMM_THREAD=gemm_thread_m")
  else()
    message(FATAL_ERROR "neonn_add_openblas: unknown FLAVOUR '${ARG_FLAVOUR}' (openblas or openblas-dl)")
  endif()

  _neonn_ob_target_table("${NEONN_TARGET}")
  # Cross: a toolchain file, or a NEONN_TARGET other than this machine's.
  if(CMAKE_CROSSCOMPILING OR NOT NEONN_TARGET STREQUAL _neonn_default_target)
    set(_cross 1)
  else()
    set(_cross 0)
  endif()

  # Compiler: NEONN_OPENBLAS_CC; else the toolchain file's C compiler when cross
  # compiling; else <triple>-gcc when NEONN_TARGET is foreign without a toolchain
  # file; else this project's C compiler (or cc).
  _neonn_ob_setting(_cc NEONN_OPENBLAS_CC "")
  if(NOT _cc)
    if(CMAKE_CROSSCOMPILING AND CMAKE_C_COMPILER)
      set(_cc "${CMAKE_C_COMPILER}")
    elseif(_cross)
      _neonn_ob_require(_cc ${_triple}-gcc)
    elseif(CMAKE_C_COMPILER)
      set(_cc "${CMAKE_C_COMPILER}")
    else()
      _neonn_ob_require(_cc cc gcc clang)
    endif()
  endif()
  if(_cross)
    _neonn_ob_require(_hostcc gcc cc clang)
  else()
    set(_hostcc "${_cc}")
  endif()
  _neonn_ob_require(_make_prog gmake make)

  # Binutils for the merge: the toolchain's (CMake found them next to the
  # compiler) unless NEONN_TARGET is foreign without a toolchain file.
  if(_cross AND NOT CMAKE_CROSSCOMPILING)
    _neonn_ob_require(_ld ${_triple}-ld)
    _neonn_ob_require(_objcopy ${_triple}-objcopy)
    _neonn_ob_require(_nm ${_triple}-nm)
  else()
    foreach(t ld objcopy nm)
      string(TOUPPER "${t}" T)
      if(t STREQUAL "ld")
        set(T LINKER)
      endif()
      if(CMAKE_${T})
        set(_${t} "${CMAKE_${T}}")
      else()
        _neonn_ob_require(_${t} ${t})
      endif()
    endforeach()
  endif()
  set(_make_args ${_common} ${_make} ${_flavour_make} "CC=${_cc}" "HOSTCC=${_hostcc}")
  if(_cross)
    # Makefile.system's 'AR ?= $(CROSS_SUFFIX)ar' never fires (make predefines AR).
    get_filename_component(_ccdir "${_cc}" DIRECTORY)
    get_filename_component(_ccname "${_cc}" NAME)
    string(REGEX REPLACE "(gcc|cc|clang)(-[0-9.]+)?$" "" _prefix "${_ccname}")
    find_program(NEONN_OB_TOOL_${_triple}_ar NAMES ${_prefix}ar ${_triple}-ar HINTS "${_ccdir}")
    find_program(NEONN_OB_TOOL_${_triple}_ranlib NAMES ${_prefix}ranlib ${_triple}-ranlib HINTS "${_ccdir}")
    mark_as_advanced(NEONN_OB_TOOL_${_triple}_ar NEONN_OB_TOOL_${_triple}_ranlib)
    list(APPEND _make_args CROSS=1)
    if(NEONN_OB_TOOL_${_triple}_ar AND NEONN_OB_TOOL_${_triple}_ranlib)
      list(APPEND _make_args "AR=${NEONN_OB_TOOL_${_triple}_ar}" "RANLIB=${NEONN_OB_TOOL_${_triple}_ranlib}")
    endif()
  endif()
  string(STRIP "${_cflags} ${_flavour_cflags}" _all_cflags)
  list(APPEND _make_args "CFLAGS=${_all_cflags}")

  # Source identity (not the path it will be read from: the same pinned
  # tarball in another cache root builds the same library).
  _neonn_ob_setting(_source NEONN_OPENBLAS_SOURCE "")
  if(_source)
    get_filename_component(_source "${_source}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
    if(IS_DIRECTORY "${_source}")
      # A directory is keyed by its path and version: after editing files in
      # it, delete its entries in the cache.
      set(_rule "")
      if(EXISTS "${_source}/Makefile.rule")
        file(STRINGS "${_source}/Makefile.rule" _rule REGEX "^VERSION *=")
      endif()
      set(_source_id "dir:${_source}:${_rule}")
    elseif(EXISTS "${_source}")
      file(SHA256 "${_source}" _h)
      set(_source_id "tarball:${_h}")
    else()
      message(FATAL_ERROR "neonn: NEONN_OPENBLAS_SOURCE '${_source}' does not exist")
    endif()
    set(_vtag "src")
  else()
    set(_source_id "debian-orig:${NEONN_OPENBLAS_VERSION}:${NEONN_OPENBLAS_SHA256}")
    set(_vtag "${NEONN_OPENBLAS_VERSION}")
  endif()

  # Compiler identity: its --version banner (path alone misses upgrades).
  execute_process(COMMAND "${_cc}" --version OUTPUT_VARIABLE _ccver ERROR_QUIET
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "neonn: cannot run the OpenBLAS C compiler '${_cc}'")
  endif()
  string(REGEX REPLACE "\n.*" "" _ccver "${_ccver}")

  set(_key "")
  foreach(f openblas.cmake openblas_build.cmake openblas_symbols.txt)
    file(SHA256 "${_NEONN_OB_DIR}/${f}" _h)
    string(APPEND _key "${f}=${_h}\n")
  endforeach()
  list(JOIN _make_args "' '" _make_shown)
  string(APPEND _key "source=${_source_id}\nflavour=${ARG_FLAVOUR}\nprefix=${ARG_PREFIX}\n"
                     "target=${NEONN_TARGET}\ncc=${_cc}\nccver=${_ccver}\nhostcc=${_hostcc}\n"
                     "ld=${_ld}\nobjcopy=${_objcopy}\nmake='${_make_shown}'\n")
  string(SHA256 _hash "${_key}")
  string(SUBSTRING "${_hash}" 0 12 _hash)

  set(_id "openblas-${_vtag}-${NEONN_TARGET}-${ARG_FLAVOUR}-${_hash}")
  set(_cached "${NEONN_DEPS_CACHE}/${_id}/neonn_${ARG_FLAVOUR}.o")
  # The link uses a copy in the build tree: 'make clean' deletes custom command
  # outputs, and must not delete the cache. The hash in the name makes a changed
  # configuration a new output, so no DEPENDS are needed and an existing output
  # is never rebuilt.
  set(_bindir "${CMAKE_CURRENT_BINARY_DIR}/neonn_openblas")
  set(_obj "${_bindir}/${name}-${_hash}.o")
  set(_params "${_bindir}/${name}-${_hash}.cmake")

  cmake_host_system_information(RESULT _ncpu QUERY NUMBER_OF_LOGICAL_CORES)
  _neonn_ob_setting(_jobs NEONN_OPENBLAS_JOBS "${_ncpu}")

  set(_pv_VERSION "${NEONN_OPENBLAS_VERSION}")
  set(_pv_DEB_ORIG "${NEONN_OPENBLAS_DEB_ORIG}")
  set(_pv_SHA256 "${NEONN_OPENBLAS_SHA256}")
  set(_pv_SOURCE "${_source}")
  set(_pv_CACHE "${NEONN_DEPS_CACHE}")
  set(_pv_ID "${_id}")
  set(_pv_CACHED_OBJ "${_cached}")
  set(_pv_OUTPUT "${_obj}")
  set(_pv_FLAVOUR "${ARG_FLAVOUR}")
  set(_pv_PREFIX "${ARG_PREFIX}")
  set(_pv_TARGET "${NEONN_TARGET}")
  set(_pv_SYMBOLS "${_NEONN_OB_DIR}/openblas_symbols.txt")
  set(_pv_MAKE "${_make_prog}")
  set(_pv_JOBS "${_jobs}")
  set(_pv_LD "${_ld}")
  set(_pv_OBJCOPY "${_objcopy}")
  set(_pv_NM "${_nm}")
  set(_pv_KEY "${_key}")
  # Parameters of the build step, as a CMake script it includes. Bracket
  # arguments keep paths and flags verbatim (no ';' list splitting).
  set(_p "")
  foreach(k VERSION DEB_ORIG SHA256 SOURCE CACHE ID CACHED_OBJ OUTPUT FLAVOUR PREFIX TARGET
            SYMBOLS MAKE JOBS LD OBJCOPY NM KEY)
    string(APPEND _p "set(OB_${k} [==[${_pv_${k}}]==])\n")
  endforeach()
  string(APPEND _p "set(OB_MAKE_ARGS")
  foreach(a IN LISTS _make_args)
    string(APPEND _p "\n  [==[${a}]==]")
  endforeach()
  string(APPEND _p ")\n")
  # Rewritten only when it changes (it is read by the build step, not a DEPENDS).
  set(_old "")
  if(EXISTS "${_params}")
    file(READ "${_params}" _old)
  endif()
  if(NOT _old STREQUAL _p)
    file(WRITE "${_params}" "${_p}")
  endif()

  add_custom_command(
    OUTPUT "${_obj}"
    COMMAND "${CMAKE_COMMAND}" "-DOB_PARAMS=${_params}" -P "${_NEONN_OB_DIR}/openblas_build.cmake"
    COMMENT "OpenBLAS ${ARG_FLAVOUR} (${NEONN_TARGET}): ${_id}"
    VERBATIM)
  add_custom_target(${name}_build DEPENDS "${_obj}")

  add_library(${name} INTERFACE)
  target_link_libraries(${name} INTERFACE "${_obj}" Threads::Threads m)
  add_dependencies(${name} ${name}_build)

  if(EXISTS "${_cached}")
    set(_state "cached")
    if(EXISTS "${NEONN_DEPS_CACHE}/${_id}/build-info.txt")
      file(STRINGS "${NEONN_DEPS_CACHE}/${_id}/build-info.txt" _src REGEX "^source: ")
      string(REPLACE "source: " "" _src "${_src}")
      string(APPEND _state ", from ${_src}")
    endif()
  else()
    set(_state "built at build time, ~1-2 min")
  endif()
  message(STATUS "neonn: OpenBLAS ${ARG_FLAVOUR} for ${NEONN_TARGET}: ${_state} "
                 "(${NEONN_DEPS_CACHE}/${_id})")
endfunction()
