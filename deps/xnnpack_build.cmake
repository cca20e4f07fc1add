# deps/xnnpack_build.cmake — builds XNNPACK into one object (see xnnpack.cmake).
#
#   cmake -DXNN_PARAMS=<params file written by xnnpack.cmake> -P xnnpack_build.cmake
#
# Steps: reuse the cache entry if complete; else fetch Debian's source packages
# (orig tarballs only, checked against the pinned SHA256s), extract them into the
# shared cache, configure and build XNNPACK's static library (production
# microkernels only, no tests or benchmarks) with the addon's compilers, merge
# it with pthreadpool and neonn's cpuinfo into one relocatable object, keep only
# the names of xnnpack_symbols.txt global, check, cache. Then copy the object
# and the headers to where the addon's build expects them.
cmake_minimum_required(VERSION 3.18)
include("${XNN_PARAMS}")

set(obj_cached "${XNN_ENTRY}/neonn_xnnpack.o")

function(xnn_status msg)
  message(STATUS "neonn: XNNPACK: ${msg}")
endfunction()

function(xnn_run what)
  execute_process(${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "neonn: XNNPACK: ${what} failed (${rc}):\n${out}${err}")
  endif()
  set(xnn_out "${out}" PARENT_SCOPE)
endfunction()

function(xnn_deliver)
  file(REMOVE_RECURSE "${XNN_INCLUDE_OUT}")
  file(COPY "${XNN_ENTRY}/include/" DESTINATION "${XNN_INCLUDE_OUT}")
  xnn_run("copy to the build tree" COMMAND "${XNN_CMAKE}" -E copy "${obj_cached}" "${XNN_OUTPUT}.tmp")
  file(RENAME "${XNN_OUTPUT}.tmp" "${XNN_OUTPUT}")
endfunction()

if(EXISTS "${obj_cached}")
  xnn_deliver()
  return()
endif()

file(MAKE_DIRECTORY "${XNN_ENTRY}")
file(LOCK "${XNN_ENTRY}.lock" GUARD PROCESS TIMEOUT 14400 RESULT_VARIABLE lockrc)
if(lockrc)
  message(FATAL_ERROR "neonn: cannot lock ${XNN_ENTRY}.lock: ${lockrc}")
endif()
if(EXISTS "${obj_cached}")
  xnn_deliver()
  return()
endif()

# --- sources (shared by all targets, under the cache's source lock) -----------
set(debdir "${XNN_CACHE}/downloads/debian")
file(MAKE_DIRECTORY "${debdir}" "${XNN_CACHE}/src")
file(LOCK "${XNN_CACHE}/src/.lock" RESULT_VARIABLE lockrc TIMEOUT 3600)
set(trees "")
foreach(s IN LISTS XNN_SOURCES)
  string(REPLACE "|" ";" f "${s}")
  list(GET f 0 pkg)
  list(GET f 1 ver)
  list(GET f 2 orig)
  list(GET f 3 sha)
  set(tree "${XNN_CACHE}/src/${pkg}-${ver}")
  if(NOT EXISTS "${tree}/.neonn-source")
    if(NOT EXISTS "${debdir}/${orig}")
      find_program(apt NAMES apt-get)
      if(NOT apt)
        message(FATAL_ERROR "neonn: XNNPACK's sources come from Debian's source packages "
                            "(apt-get source ${pkg}/trixie), and apt-get is not available.")
      endif()
      xnn_status("fetching Debian's source package: apt-get source --download-only ${pkg}/trixie")
      execute_process(COMMAND "${apt}" source --download-only "${pkg}/trixie"
                      WORKING_DIRECTORY "${debdir}" RESULT_VARIABLE rc OUTPUT_VARIABLE aout ERROR_VARIABLE aerr)
      if(NOT EXISTS "${debdir}/${orig}")
        message(FATAL_ERROR "neonn: cannot obtain ${orig}: 'apt-get source --download-only "
                            "${pkg}/trixie' (${rc}):\n${aout}${aerr}\nIt needs a deb-src entry for "
                            "Debian trixie (scripts/setup.sh adds one), then 'apt-get update'.")
      endif()
    endif()
    file(SHA256 "${debdir}/${orig}" h)
    if(NOT h STREQUAL sha)
      message(FATAL_ERROR "neonn: ${debdir}/${orig} has SHA256 ${h}, expected ${sha} "
                          "(pinned in deps/xnnpack.cmake). Delete it to fetch it again.")
    endif()
    set(tmp "${tree}.partial")
    file(REMOVE_RECURSE "${tmp}" "${tree}")
    file(MAKE_DIRECTORY "${tmp}")
    file(ARCHIVE_EXTRACT INPUT "${debdir}/${orig}" DESTINATION "${tmp}")
    file(GLOB top LIST_DIRECTORIES true "${tmp}/*")
    list(LENGTH top n)
    if(n EQUAL 1 AND IS_DIRECTORY "${top}")
      file(RENAME "${top}" "${tree}")
      file(REMOVE_RECURSE "${tmp}")
    else()  # xnnpack's orig tarball has no top-level directory
      file(RENAME "${tmp}" "${tree}")
    endif()
    if(NOT EXISTS "${tree}/CMakeLists.txt")
      message(FATAL_ERROR "neonn: ${orig} has no CMakeLists.txt at its top")
    endif()
    file(WRITE "${tree}/.neonn-source" "Debian source package, ${debdir}/${orig} (SHA256 verified)")
  endif()
  set(src_${pkg} "${tree}")
endforeach()
file(LOCK "${XNN_CACHE}/src/.lock" RELEASE)

# --- configure and build ----------------------------------------------------------
set(bld "${XNN_ENTRY}/build")
file(REMOVE_RECURSE "${bld}")
set(gen "")
if(XNN_NINJA)
  set(gen -G Ninja "-DCMAKE_MAKE_PROGRAM=${XNN_NINJA}")
endif()
set(cfg
    "-DCMAKE_BUILD_TYPE=Release"
    "-DCMAKE_C_COMPILER=${XNN_C_COMPILER}" "-DCMAKE_CXX_COMPILER=${XNN_CXX_COMPILER}"
    "-DCMAKE_POSITION_INDEPENDENT_CODE=ON"
    # Hidden: nothing of XNNPACK is exported from the addon even before objcopy.
    "-DCMAKE_C_VISIBILITY_PRESET=hidden" "-DCMAKE_CXX_VISIBILITY_PRESET=hidden"
    "-DXNNPACK_LIBRARY_TYPE=static" "-DXNNPACK_BUILD_TESTS=OFF" "-DXNNPACK_BUILD_BENCHMARKS=OFF"
    # Only the kernels XNNPACK's configs select ("production"), not every variant.
    "-DXNNPACK_BUILD_ALL_MICROKERNELS=OFF"
    # KleidiAI is a further download; SME needs a newer assembler and such CPUs.
    "-DXNNPACK_ENABLE_KLEIDIAI=OFF" "-DXNNPACK_ENABLE_ARM_SME=OFF" "-DXNNPACK_ENABLE_ARM_SME2=OFF"
    "-DPython_EXECUTABLE=${XNN_PYTHON}"
    "-DCPUINFO_SOURCE_DIR=${XNN_DIR}/cpuinfo"
    "-DPTHREADPOOL_SOURCE_DIR=${src_pthreadpool}" "-DFXDIV_SOURCE_DIR=${src_fxdiv}")
if(XNN_TOOLCHAIN)
  list(APPEND cfg "-DCMAKE_TOOLCHAIN_FILE=${XNN_TOOLCHAIN}")
endif()
foreach(v CFLAGS CXXFLAGS LDFLAGS MAKEFLAGS)
  unset(ENV{${v}})
endforeach()
set(log "${XNN_ENTRY}/build.log")
string(TIMESTAMP t0 "%s")
xnn_status("configuring in ${bld} (log: ${log})")
execute_process(COMMAND "${XNN_CMAKE}" -S "${src_xnnpack}" -B "${bld}" ${gen} ${cfg}
                OUTPUT_FILE "${log}" ERROR_FILE "${log}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "neonn: XNNPACK: configure failed (${rc}); see ${log}")
endif()
xnn_status("building (${XNN_JOBS} jobs)")
execute_process(COMMAND "${XNN_CMAKE}" --build "${bld}" --target XNNPACK -j "${XNN_JOBS}"
                OUTPUT_FILE "${log}.build" ERROR_FILE "${log}.build" RESULT_VARIABLE rc)
string(TIMESTAMP t1 "%s")
math(EXPR secs "${t1} - ${t0}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "neonn: XNNPACK: build failed (${rc}) after ${secs} s; see ${log}.build")
endif()
xnn_status("configure and build took ${secs} s")

# --- merge, localize, check ---------------------------------------------------------
set(libs "")
foreach(l libXNNPACK.a libmicrokernels-prod.a pthreadpool/libpthreadpool.a cpuinfo/libcpuinfo.a)
  if(NOT EXISTS "${bld}/${l}")
    message(FATAL_ERROR "neonn: XNNPACK: the build made no ${l}")
  endif()
  list(APPEND libs "${bld}/${l}")
endforeach()
set(merged "${XNN_ENTRY}/merged.o")
xnn_run("ld -r" COMMAND "${XNN_LD}" -r -d -o "${merged}" --whole-archive ${libs} --no-whole-archive)
file(STRINGS "${XNN_DIR}/xnnpack_symbols.txt" names REGEX "^[A-Za-z_]")
set(expected "")
foreach(s IN LISTS names)
  string(STRIP "${s}" s)
  list(APPEND expected "${s}")
endforeach()
list(JOIN expected "\n" keep)
file(WRITE "${XNN_ENTRY}/keep.txt" "${keep}\n")
set(partial "${obj_cached}.partial")
xnn_run("objcopy" COMMAND "${XNN_OBJCOPY}" "--keep-global-symbols=${XNN_ENTRY}/keep.txt" "${merged}" "${partial}")
xnn_run("nm" COMMAND "${XNN_NM}" -g --defined-only "${partial}")
string(REGEX MATCHALL "[^ \n]+\n" got "${xnn_out}")
string(REPLACE "\n" "" got "${got}")
list(SORT got)
list(SORT expected)
if(NOT got STREQUAL expected)
  message(FATAL_ERROR "neonn: XNNPACK: global symbols of the merged object are\n  ${got}\nexpected\n  ${expected}")
endif()

file(REMOVE_RECURSE "${XNN_ENTRY}/include")
file(MAKE_DIRECTORY "${XNN_ENTRY}/include")
file(COPY "${src_xnnpack}/include/xnnpack.h" "${src_pthreadpool}/include/pthreadpool.h"
     DESTINATION "${XNN_ENTRY}/include")
string(TIMESTAMP now UTC)
file(WRITE "${XNN_ENTRY}/build-info.txt"
  "built: ${now}; configure + build ${secs} s\ntarget: ${XNN_TARGET}\nsources:\n  ${src_xnnpack}\n"
  "  ${src_pthreadpool}\n  ${src_fxdiv}\n  cpuinfo: ${XNN_DIR}/cpuinfo (neonn's)\n"
  "global symbols: ${got}\n--- cache key ---\n${XNN_KEY}")
file(RENAME "${partial}" "${obj_cached}")
file(REMOVE "${merged}")
file(REMOVE_RECURSE "${bld}")
xnn_status("cached ${obj_cached}")
xnn_deliver()
