# deps/openblas_build.cmake — builds one OpenBLAS flavour into one renamed object.
#
#   cmake -DOB_PARAMS=<params file written by openblas.cmake> -P openblas_build.cmake
#
# Steps: reuse the cached object if there is one; else obtain the source (shared
# by all flavours, under a lock), copy it (OpenBLAS builds in its source tree),
# make the static library, merge it into one relocatable object with ld -r,
# rename the entry points and make every other symbol local with objcopy, check
# the result with nm, and rename it into the cache. Finally copy it to the path
# the addon links.
#
# The cache entry <cache>/<id>/ keeps make.log and build-info.txt. Files appear
# under their final names only when complete (write to a temporary name, then
# rename), so an interrupted build is redone rather than mistaken for finished.
cmake_minimum_required(VERSION 3.18)

if(NOT OB_PARAMS OR NOT EXISTS "${OB_PARAMS}")
  message(FATAL_ERROR "usage: cmake -DOB_PARAMS=<file> -P openblas_build.cmake")
endif()
include("${OB_PARAMS}")

set(OB_DIR "${OB_CACHE}/${OB_ID}")
set(OB_LOG "${OB_DIR}/make.log")

function(ob_status msg)
  message(STATUS "neonn: OpenBLAS ${OB_FLAVOUR}: ${msg}")
endfunction()

# ob_run(<what> <output variable or ""> COMMAND ...): runs a tool, fatal on failure.
function(ob_run what outvar)
  execute_process(${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "neonn: OpenBLAS ${OB_FLAVOUR}: ${what} failed (${rc}):\n${out}${err}")
  endif()
  if(outvar)
    set(${outvar} "${out}" PARENT_SCOPE)
  endif()
endfunction()

# Copies the cached object to the path the addon links (temp name, then rename).
function(ob_deliver)
  get_filename_component(d "${OB_OUTPUT}" DIRECTORY)
  file(MAKE_DIRECTORY "${d}")
  ob_run("copy to the build tree" "" COMMAND "${CMAKE_COMMAND}" -E copy "${OB_CACHED_OBJ}" "${OB_OUTPUT}.tmp")
  file(RENAME "${OB_OUTPUT}.tmp" "${OB_OUTPUT}")
endfunction()

# --- source ------------------------------------------------------------------

function(ob_read_version tree out)
  set(v "")
  if(EXISTS "${tree}/Makefile.rule")
    file(STRINGS "${tree}/Makefile.rule" line REGEX "^VERSION *=")
    string(REGEX REPLACE "^VERSION *= *([^ ]*).*" "\\1" v "${line}")
  endif()
  set(${out} "${v}" PARENT_SCOPE)
endfunction()

# Extracts <archive> into <tree> (its single top-level directory becomes <tree>)
# and marks it complete by writing <tree>/.neonn-source = <description>.
function(ob_extract archive tree description)
  set(tmp "${tree}.partial")
  file(REMOVE_RECURSE "${tmp}" "${tree}")
  file(MAKE_DIRECTORY "${tmp}")
  file(ARCHIVE_EXTRACT INPUT "${archive}" DESTINATION "${tmp}")
  file(GLOB top LIST_DIRECTORIES true "${tmp}/*")
  list(LENGTH top n)
  if(n EQUAL 1 AND IS_DIRECTORY "${top}")
    set(root "${top}")
  else()
    set(root "${tmp}")
  endif()
  if(NOT EXISTS "${root}/Makefile.system")
    message(FATAL_ERROR "neonn: ${archive} does not look like an OpenBLAS source tarball")
  endif()
  file(RENAME "${root}" "${tree}")
  file(REMOVE_RECURSE "${tmp}")
  file(WRITE "${tree}/.neonn-source" "${description}")
endfunction()

# Downloads the pinned release into <dest>; returns quietly on any failure.
# (Not file(DOWNLOAD ... EXPECTED_HASH): with it, a failed download is a fatal
# "HASH mismatch" of the empty file, and there would be no fallback.)
function(ob_download dest)
  set(part "${dest}.part")
  file(REMOVE "${part}")
  file(DOWNLOAD "${OB_URL}" "${part}" STATUS st INACTIVITY_TIMEOUT 15 TIMEOUT 300)
  list(GET st 0 code)
  if(code EQUAL 0)
    file(SHA256 "${part}" h)
    if(h STREQUAL OB_SHA256)
      file(RENAME "${part}" "${dest}")
      return()
    endif()
    ob_status("download of ${OB_URL} has SHA256 ${h}, expected ${OB_SHA256}; not used")
  else()
    list(GET st 1 why)
    ob_status("cannot download ${OB_URL} (${why})")
  endif()
  file(REMOVE "${part}")
endfunction()

# The deb-src line for this system, for the error message.
function(ob_debsrc_hint out)
  set(codename "<codename>")
  if(EXISTS /etc/os-release)
    file(STRINGS /etc/os-release line REGEX "^VERSION_CODENAME=")
    string(REGEX REPLACE "^VERSION_CODENAME=\"?([^\"]*)\"?" "\\1" c "${line}")
    if(c)
      set(codename "${c}")
    endif()
  endif()
  set(${out}
"apt-get needs a deb-src entry to fetch source packages. Add one, e.g. the file
/etc/apt/sources.list.d/debian-src.sources containing
    Types: deb-src
    URIs: http://deb.debian.org/debian
    Suites: ${codename}
    Components: main
    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
(or the line 'deb-src http://deb.debian.org/debian ${codename} main' in
/etc/apt/sources.list), then run 'apt-get update'. Alternatively download
${OB_URL}
yourself and set NEONN_OPENBLAS_SOURCE to the tarball." PARENT_SCOPE)
endfunction()

# Debian's source package (orig tarball only; Debian's patches are not needed).
function(ob_debian_orig out)
  set(debdir "${OB_CACHE}/downloads/debian")
  file(MAKE_DIRECTORY "${debdir}")
  file(GLOB orig "${debdir}/openblas_${OB_VERSION}*.orig.tar.*")
  if(NOT orig)
    find_program(apt NAMES apt-get)
    if(NOT apt)
      message(FATAL_ERROR "neonn: cannot download ${OB_URL}, and apt-get (Debian's source "
                          "package as a fallback) is not available. Download the tarball "
                          "yourself and set NEONN_OPENBLAS_SOURCE to it.")
    endif()
    ob_status("trying Debian's source package: apt-get source --download-only openblas")
    execute_process(COMMAND "${apt}" source --download-only openblas
                    WORKING_DIRECTORY "${debdir}"
                    RESULT_VARIABLE rc OUTPUT_VARIABLE aout ERROR_VARIABLE aerr)
    file(GLOB orig "${debdir}/openblas_${OB_VERSION}*.orig.tar.*")
    if(NOT orig)
      file(GLOB other "${debdir}/openblas_*.orig.tar.*")
      if(other)
        message(FATAL_ERROR "neonn: Debian's source package of openblas is not version "
                            "${OB_VERSION} (${other}). Set NEONN_OPENBLAS_SOURCE to an "
                            "OpenBLAS ${OB_VERSION} tarball or directory.")
      endif()
      ob_debsrc_hint(hint)
      message(FATAL_ERROR "neonn: cannot obtain the OpenBLAS source.\n"
                          "  1. ${OB_URL}: download failed (see above).\n"
                          "  2. 'apt-get source --download-only openblas' failed (${rc}):\n"
                          "${aout}${aerr}\n${hint}")
    endif()
  endif()
  list(GET orig 0 orig)
  set(${out} "${orig}" PARENT_SCOPE)
endfunction()

# Sets <out> to a source tree to copy from and prints which source it is.
# Extraction into the shared cache is serialised by a lock, because both
# flavours may get here at once (make -j2 of the outer project).
function(ob_get_source out)
  if(OB_SOURCE AND IS_DIRECTORY "${OB_SOURCE}")
    if(EXISTS "${OB_SOURCE}/Makefile.conf")
      message(FATAL_ERROR "neonn: NEONN_OPENBLAS_SOURCE ${OB_SOURCE} has been built in "
                          "(Makefile.conf exists); give a clean tree ('make clean' in it).")
    endif()
    ob_status("source: NEONN_OPENBLAS_SOURCE directory ${OB_SOURCE}")
    set(${out} "${OB_SOURCE}" PARENT_SCOPE)
    return()
  endif()

  if(OB_SOURCE)
    file(SHA256 "${OB_SOURCE}" h)
    string(SUBSTRING "${h}" 0 12 h)
    set(tree "${OB_CACHE}/src/user-${h}")
  else()
    set(tree "${OB_CACHE}/src/OpenBLAS-${OB_VERSION}")
  endif()
  file(MAKE_DIRECTORY "${OB_CACHE}/src" "${OB_CACHE}/downloads")
  file(LOCK "${OB_CACHE}/src/.lock" GUARD FUNCTION TIMEOUT 3600 RESULT_VARIABLE lockrc)
  if(lockrc)
    message(FATAL_ERROR "neonn: cannot lock ${OB_CACHE}/src/.lock: ${lockrc}")
  endif()

  if(NOT EXISTS "${tree}/.neonn-source")
    if(OB_SOURCE)
      ob_extract("${OB_SOURCE}" "${tree}" "NEONN_OPENBLAS_SOURCE tarball ${OB_SOURCE}")
    else()
      set(tarball "${OB_CACHE}/downloads/OpenBLAS-${OB_VERSION}.tar.gz")
      if(NOT EXISTS "${tarball}")
        ob_download("${tarball}")
      endif()
      if(EXISTS "${tarball}")
        ob_extract("${tarball}" "${tree}" "upstream release ${OB_URL} (SHA256 verified)")
      else()
        ob_debian_orig(orig)
        ob_extract("${orig}" "${tree}" "Debian source package, ${orig}")
      endif()
      ob_read_version("${tree}" v)
      if(NOT v STREQUAL OB_VERSION)
        file(REMOVE "${tree}/.neonn-source")
        message(FATAL_ERROR "neonn: the OpenBLAS source in ${tree} is version '${v}', "
                            "expected ${OB_VERSION}")
      endif()
    endif()
  endif()
  file(READ "${tree}/.neonn-source" description)
  ob_status("source: ${description}")
  set(${out} "${tree}" PARENT_SCOPE)
endfunction()

# --- main ----------------------------------------------------------------------

if(EXISTS "${OB_CACHED_OBJ}")
  ob_deliver()
  return()
endif()

# One builder per cache entry (another build tree may be building the same one).
file(MAKE_DIRECTORY "${OB_DIR}")
file(LOCK "${OB_DIR}.lock" GUARD PROCESS TIMEOUT 7200 RESULT_VARIABLE lockrc)
if(lockrc)
  message(FATAL_ERROR "neonn: cannot lock ${OB_DIR}.lock: ${lockrc}")
endif()
if(EXISTS "${OB_CACHED_OBJ}")  # finished by the other builder while we waited
  ob_deliver()
  return()
endif()

ob_get_source(src)

set(work "${OB_DIR}/work")
file(REMOVE_RECURSE "${work}")
# lapack-netlib/ and relapack/ are not read by a NO_LAPACK build (Debian's tree
# lacks them) and are most of the tarball's size.
file(COPY "${src}/" DESTINATION "${work}"
     PATTERN ".neonn-source" EXCLUDE
     PATTERN ".git" EXCLUDE
     REGEX "/(lapack-netlib|relapack)$" EXCLUDE)

# OpenBLAS's Makefiles read the environment: drop what an outer make (cmake-js
# -> cmake --build -> make) or the user's shell may have set, so that only the
# command line below decides the build. MAKEFLAGS would also carry the outer
# jobserver, which our explicit -j replaces.
foreach(v MAKEFLAGS MFLAGS GNUMAKEFLAGS MAKELEVEL MAKEOVERRIDES
          CFLAGS CPPFLAGS CXXFLAGS LDFLAGS FFLAGS FCFLAGS FC F77
          COMMON_OPT CCOMMON_OPT FCOMMON_OPT COMMON_PROF EXTRALIB CEXTRALIB FEXTRALIB
          TARGET TARGET_CORE BINARY ARCH CROSS_SUFFIX DEBUG DYNAMIC_ARCH DYNAMIC_LIST
          DYNAMIC_OLDER INTERFACE64 NO_AVX NO_AVX2 NO_AVX512 NO_CBLAS ONLY_CBLAS
          USE_OPENMP USE_THREAD USE_TLS NUM_PARALLEL BUFFERSIZE GEMM_MULTITHREAD_THRESHOLD
          SYMBOLPREFIX SYMBOLSUFFIX LIBNAMESUFFIX NO_STATIC NO_SHARED NO_WARMUP
          MAX_STACK_ALLOC QUAD_PRECISION EXPRECISION CONSISTENT_FPCSR BIGNUMA)
  unset(ENV{${v}})
endforeach()

set(make_cmd "${OB_MAKE}" "-j${OB_JOBS}" libs ${OB_MAKE_ARGS})
list(JOIN make_cmd "' '" shown)
ob_status("building in ${work} (log: ${OB_LOG}):\n   '${shown}'")
string(TIMESTAMP t0 "%s")
execute_process(COMMAND ${make_cmd} WORKING_DIRECTORY "${work}"
                OUTPUT_FILE "${OB_LOG}" ERROR_FILE "${OB_LOG}" RESULT_VARIABLE rc)
string(TIMESTAMP t1 "%s")
math(EXPR secs "${t1} - ${t0}")
if(NOT rc EQUAL 0 OR NOT EXISTS "${work}/libopenblas.a")
  file(STRINGS "${OB_LOG}" lines)
  list(LENGTH lines n)
  math(EXPR first "${n} - 40")
  if(first LESS 0)
    set(first 0)
  endif()
  list(SUBLIST lines ${first} -1 tail)
  list(JOIN tail "\n" tail)
  message(FATAL_ERROR "neonn: OpenBLAS ${OB_FLAVOUR}: make failed (${rc}) after ${secs} s; "
                      "the build tree is kept in ${work}. End of ${OB_LOG}:\n${tail}")
endif()
ob_status("make took ${secs} s")
set(lib "${work}/libopenblas.a")

# The flavour really is what it claims: interface/gemm.c compiled into
# cblas_sgemm.o calls GEMM_THREAD only with USE_SIMPLE_THREADED_LEVEL3, and
# then it must be gemm_thread_m.
ob_run("nm" libsyms COMMAND "${OB_NM}" -A "${lib}")
string(REGEX MATCHALL "[^\n]*cblas_sgemm\\.o:[^\n]* U gemm_thread_[a-z]+" calls "${libsyms}")
string(REGEX REPLACE "[^;]* U (gemm_thread_[a-z]+)" "\\1" calls "${calls}")
if(OB_FLAVOUR STREQUAL "openblas-dl")
  set(want "gemm_thread_m")
else()
  set(want "")
endif()
if(NOT "${calls}" STREQUAL "${want}")
  message(FATAL_ERROR "neonn: OpenBLAS ${OB_FLAVOUR}: cblas_sgemm calls '${calls}', "
                      "expected '${want}' (GEMM_THREAD / USE_SIMPLE_THREADED_LEVEL3 did not "
                      "reach interface/gemm.c)")
endif()

# Merge: one relocatable object. -d allocates common symbols (compilers older
# than GCC 10 default to -fcommon), which could not be made local otherwise.
set(merged "${OB_DIR}/merged.o")
set(partial "${OB_CACHED_OBJ}.partial")
ob_run("ld -r" "" COMMAND "${OB_LD}" -r -d -o "${merged}" --whole-archive "${lib}" --no-whole-archive)

# Rename the entry points, keep them (and only them) global.
file(STRINGS "${OB_SYMBOLS}" names REGEX "^[A-Za-z_]")
set(map "")
set(keep "")
set(expected "")
foreach(s IN LISTS names)
  string(STRIP "${s}" s)
  string(APPEND map "${s} ${OB_PREFIX}${s}\n")
  string(APPEND keep "${OB_PREFIX}${s}\n")
  list(APPEND expected "${OB_PREFIX}${s}")
endforeach()
file(WRITE "${OB_DIR}/redefine.txt" "${map}")
file(WRITE "${OB_DIR}/keep.txt" "${keep}")
ob_run("objcopy" "" COMMAND "${OB_OBJCOPY}" "--redefine-syms=${OB_DIR}/redefine.txt"
       "--keep-global-symbols=${OB_DIR}/keep.txt" "${merged}" "${partial}")

# Check: the global defined symbols are exactly the prefixed entry points.
ob_run("nm" out COMMAND "${OB_NM}" -g --defined-only "${partial}")
string(REGEX MATCHALL "[^ \n]+\n" got "${out}")
string(REPLACE "\n" "" got "${got}")
list(SORT got)
list(SORT expected)
if(NOT got STREQUAL expected)
  message(FATAL_ERROR "neonn: OpenBLAS ${OB_FLAVOUR}: global symbols of the merged object are\n"
                      "  ${got}\nexpected\n  ${expected}")
endif()
ob_run("nm" undef COMMAND "${OB_NM}" -u "${partial}")
if(undef MATCHES "_gfortran|GOMP_|omp_get")
  message(FATAL_ERROR "neonn: OpenBLAS ${OB_FLAVOUR}: the object needs a Fortran or OpenMP "
                      "runtime:\n${undef}")
endif()

string(TIMESTAMP now UTC)
if(EXISTS "${src}/.neonn-source")
  file(READ "${src}/.neonn-source" description)
else()
  set(description "NEONN_OPENBLAS_SOURCE directory ${src}")
endif()
file(WRITE "${OB_DIR}/build-info.txt"
  "built: ${now} in ${secs} s\nsource: ${description}\nflavour: ${OB_FLAVOUR}\n"
  "target: ${OB_TARGET}\nmake (in a copy of the source): '${shown}'\nprefix: ${OB_PREFIX}\n"
  "global symbols: ${got}\n--- cache key ---\n${OB_KEY}")

file(RENAME "${partial}" "${OB_CACHED_OBJ}")
file(REMOVE "${merged}")
file(REMOVE_RECURSE "${work}")
ob_status("cached ${OB_CACHED_OBJ}")
ob_deliver()
