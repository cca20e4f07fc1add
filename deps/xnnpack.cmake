# deps/xnnpack.cmake — XNNPACK built into neonn, statically, from Debian's sources.
#
#   include(deps/xnnpack.cmake)      # after deps/openblas.cmake (shares its settings)
#   neonn_add_xnnpack(<target>)
#
# <target> is an INTERFACE library: one relocatable object, made at build time by
# xnnpack_build.cmake, holding XNNPACK 0.0~git20241108 (production microkernels
# only), pthreadpool 0.0~git20240616 and neonn's cpuinfo (deps/cpuinfo/), in
# which only the entry points of xnnpack_symbols.txt stay global (every other
# symbol is local); plus XNNPACK's and pthreadpool's headers.
#
# Sources: Debian trixie's source packages (apt-get source, a deb-src entry for
# trixie as for OpenBLAS), their orig tarballs checked against the SHA256s
# pinned below. cpuinfo: trixie's package source (0.0~git20250327) is listed but
# not downloadable from Debian's mirror, and bookworm's is too old for this
# XNNPACK, so deps/cpuinfo/ implements the part of its API XNNPACK calls.
#
# Cached like OpenBLAS in $NEONN_DEPS_CACHE/xnnpack-<version>-<target>-<hash>/,
# keyed by the sources' checksums, these files, deps/cpuinfo/, the target,
# compilers and their versions.
#
# NEONN_XNNPACK=OFF (CMake or environment) leaves XNNPACK out: the xnnpack
# backend then reports itself unavailable with that reason.

include_guard(GLOBAL)

set(_NEONN_XNN_DIR "${CMAKE_CURRENT_LIST_DIR}")

set(NEONN_XNNPACK_VERSION "0.0~git20241108")
# name=version=orig tarball=sha256
set(NEONN_XNNPACK_SOURCES
    "xnnpack|0.0~git20241108.4ea82e5|xnnpack_0.0~git20241108.4ea82e5.orig.tar.xz|90bde2caef0f880f627bab0dc805a86c4b8070cd98e3243db3046ab3f3be1a99"
    "pthreadpool|0.0~git20240616.560c60d|pthreadpool_0.0~git20240616.560c60d.orig.tar.xz|4cc3cbd933b28131d2a34edc54f76af9fb41bc490af5eae1a5bd3cd07ea90708"
    "fxdiv|0.0~git20200417.b408327|fxdiv_0.0~git20200417.b408327.orig.tar.xz|7953482badaf4cb34026c3487c257b8e4ab2df061c019bd6fabbbc12ad52c44b")

function(neonn_add_xnnpack name)
  _neonn_ob_setting(_enabled NEONN_XNNPACK ON)
  add_library(${name} INTERFACE)
  if(NOT _enabled)
    message(STATUS "neonn: XNNPACK left out (NEONN_XNNPACK=${_enabled})")
    return()
  endif()

  # The same compilers and binutils as the addon (the toolchain file when cross).
  foreach(t C_COMPILER CXX_COMPILER LINKER OBJCOPY NM AR RANLIB)
    if(NOT CMAKE_${t})
      message(FATAL_ERROR "neonn: building XNNPACK needs CMAKE_${t}")
    endif()
  endforeach()
  find_program(NEONN_XNN_PYTHON NAMES python3 python)
  mark_as_advanced(NEONN_XNN_PYTHON)
  if(NOT NEONN_XNN_PYTHON)
    message(FATAL_ERROR "neonn: building XNNPACK needs python3 (its build generates its kernel lists)")
  endif()
  find_program(NEONN_XNN_NINJA NAMES ninja ninja-build)
  mark_as_advanced(NEONN_XNN_NINJA)

  set(_key "")
  file(GLOB_RECURSE _shim RELATIVE "${_NEONN_XNN_DIR}" "${_NEONN_XNN_DIR}/cpuinfo/*")
  list(SORT _shim)
  foreach(f xnnpack.cmake xnnpack_build.cmake xnnpack_symbols.txt ${_shim})
    file(SHA256 "${_NEONN_XNN_DIR}/${f}" _h)
    string(APPEND _key "${f}=${_h}\n")
  endforeach()
  set(_ver "")
  foreach(c C_COMPILER CXX_COMPILER)
    execute_process(COMMAND "${CMAKE_${c}}" --version OUTPUT_VARIABLE _v ERROR_QUIET)
    string(REGEX REPLACE "\n.*" "" _v "${_v}")
    string(APPEND _ver "${c}=${CMAKE_${c}} ${_v}\n")
  endforeach()
  string(JOIN "\n" _srcs ${NEONN_XNNPACK_SOURCES})
  # The toolchain file by content, not path: another clone has another path.
  set(_tc "none")
  if(CMAKE_TOOLCHAIN_FILE)
    file(SHA256 "${CMAKE_TOOLCHAIN_FILE}" _tc)
  endif()
  string(APPEND _key "sources=${_srcs}\ntarget=${NEONN_TARGET}\n${_ver}"
                     "toolchain=${_tc}\nld=${CMAKE_LINKER}\nobjcopy=${CMAKE_OBJCOPY}\n")
  string(SHA256 _hash "${_key}")
  string(SUBSTRING "${_hash}" 0 12 _hash)
  set(_id "xnnpack-${NEONN_XNNPACK_VERSION}-${NEONN_TARGET}-${_hash}")
  string(REPLACE "~" "_" _id "${_id}")
  set(_entry "${NEONN_DEPS_CACHE}/${_id}")

  set(_bindir "${CMAKE_CURRENT_BINARY_DIR}/neonn_xnnpack")
  set(_obj "${_bindir}/${name}-${_hash}.o")
  set(_inc "${_bindir}/${name}-${_hash}-include")
  set(_params "${_bindir}/${name}-${_hash}.cmake")
  cmake_host_system_information(RESULT _ncpu QUERY NUMBER_OF_LOGICAL_CORES)
  _neonn_ob_setting(_jobs NEONN_XNNPACK_JOBS "${_ncpu}")

  set(_p "")
  foreach(kv
      "CACHE=${NEONN_DEPS_CACHE}" "ENTRY=${_entry}" "OUTPUT=${_obj}" "INCLUDE_OUT=${_inc}"
      "TARGET=${NEONN_TARGET}" "DIR=${_NEONN_XNN_DIR}" "JOBS=${_jobs}" "KEY=${_key}"
      "C_COMPILER=${CMAKE_C_COMPILER}" "CXX_COMPILER=${CMAKE_CXX_COMPILER}"
      "TOOLCHAIN=${CMAKE_TOOLCHAIN_FILE}" "LD=${CMAKE_LINKER}" "OBJCOPY=${CMAKE_OBJCOPY}"
      "NM=${CMAKE_NM}" "AR=${CMAKE_AR}" "RANLIB=${CMAKE_RANLIB}" "PYTHON=${NEONN_XNN_PYTHON}"
      "NINJA=${NEONN_XNN_NINJA}" "CMAKE=${CMAKE_COMMAND}")
    string(FIND "${kv}" "=" _eq)
    string(SUBSTRING "${kv}" 0 ${_eq} _k)
    math(EXPR _eq "${_eq} + 1")
    string(SUBSTRING "${kv}" ${_eq} -1 _v)
    string(APPEND _p "set(XNN_${_k} [==[${_v}]==])\n")
  endforeach()
  string(APPEND _p "set(XNN_SOURCES")
  foreach(s IN LISTS NEONN_XNNPACK_SOURCES)
    string(APPEND _p "\n  [==[${s}]==]")
  endforeach()
  string(APPEND _p ")\n")
  set(_old "")
  if(EXISTS "${_params}")
    file(READ "${_params}" _old)
  endif()
  if(NOT _old STREQUAL _p)
    file(WRITE "${_params}" "${_p}")
  endif()

  add_custom_command(
    OUTPUT "${_obj}" "${_inc}/xnnpack.h"
    COMMAND "${CMAKE_COMMAND}" "-DXNN_PARAMS=${_params}" -P "${_NEONN_XNN_DIR}/xnnpack_build.cmake"
    COMMENT "XNNPACK (${NEONN_TARGET}): ${_id}"
    VERBATIM)
  add_custom_target(${name}_build DEPENDS "${_obj}" "${_inc}/xnnpack.h")
  file(MAKE_DIRECTORY "${_inc}")
  target_include_directories(${name} INTERFACE "${_inc}")
  target_link_libraries(${name} INTERFACE "${_obj}" Threads::Threads m)
  target_compile_definitions(${name} INTERFACE NEONN_HAVE_XNNPACK=1)
  add_dependencies(${name} ${name}_build)

  if(EXISTS "${_entry}/neonn_xnnpack.o")
    set(_state "cached")
  else()
    set(_state "built at build time, many minutes")
  endif()
  message(STATUS "neonn: XNNPACK ${NEONN_XNNPACK_VERSION} for ${NEONN_TARGET}: ${_state} (${_entry})")
endfunction()
