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

# The deb-src entry that provides the pinned version, for the error message.
function(ob_debsrc_hint out)
  set(${out}
"apt-get needs a deb-src entry for Debian trixie, whose openblas source package is
${OB_VERSION} (scripts/setup.sh adds it). Add the file
/etc/apt/sources.list.d/neonn-trixie-src.sources containing
    Types: deb-src
    URIs: http://deb.debian.org/debian
    Suites: trixie
    Components: main
    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
then run 'apt-get update'. Alternatively set NEONN_OPENBLAS_SOURCE to an OpenBLAS
${OB_VERSION} source tarball or directory." PARENT_SCOPE)
endfunction()

# Debian's orig tarball of the pinned version (not Debian's patches), fetched
# with apt-get source unless already downloaded, and checked against the pinned
# SHA256 either way.
function(ob_debian_orig out)
  set(debdir "${OB_CACHE}/downloads/debian")
  set(orig "${debdir}/${OB_DEB_ORIG}")
  file(MAKE_DIRECTORY "${debdir}")
  if(NOT EXISTS "${orig}")
    find_program(apt NAMES apt-get)
    if(NOT apt)
      message(FATAL_ERROR "neonn: the OpenBLAS ${OB_VERSION} source comes from Debian's source "
                          "package (apt-get source), and apt-get is not available. Set "
                          "NEONN_OPENBLAS_SOURCE to an OpenBLAS ${OB_VERSION} tarball or directory.")
    endif()
    # trixie's version first (the pinned one); then whatever this system's
    # default release has, in case it is a later Debian with the same tarball.
    set(log "")
    foreach(spec openblas/trixie openblas)
      ob_status("fetching Debian's source package: apt-get source --download-only ${spec}")
      execute_process(COMMAND "${apt}" source --download-only "${spec}"
                      WORKING_DIRECTORY "${debdir}"
                      RESULT_VARIABLE rc OUTPUT_VARIABLE aout ERROR_VARIABLE aerr)
      string(APPEND log "'apt-get source --download-only ${spec}' (${rc}):\n${aout}${aerr}\n")
      if(EXISTS "${orig}")
        break()
      endif()
    endforeach()
    if(NOT EXISTS "${orig}")
      ob_debsrc_hint(hint)
      message(FATAL_ERROR "neonn: cannot obtain ${OB_DEB_ORIG} (OpenBLAS ${OB_VERSION}).\n"
                          "${log}\n${hint}")
    endif()
  endif()
  file(SHA256 "${orig}" h)
  if(NOT h STREQUAL OB_SHA256)
    message(FATAL_ERROR "neonn: ${orig} has SHA256 ${h}, expected ${OB_SHA256} (pinned in "
                        "deps/openblas.cmake). Delete it to fetch it again.")
  endif()
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
      ob_debian_orig(orig)
      ob_extract("${orig}" "${tree}" "Debian source package, ${orig} (SHA256 verified)")
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

# --- Source edits ----------------------------------------------------------------
# A few small changes to the copy, each checked: if the text to replace is not
# there exactly once (a changed file), the build of the pinned source stops
# rather than silently building without it. A NEONN_OPENBLAS_SOURCE of another
# version may not need an edit (or differ around it): there it is reported and
# skipped.
function(ob_edit file old new why)
  file(READ "${work}/${file}" text)
  string(FIND "${text}" "${old}" at)
  string(FIND "${text}" "${old}" last REVERSE)
  if((at EQUAL -1 OR NOT at EQUAL last) AND OB_SOURCE)
    ob_status("source edit '${why}' does not apply to ${file} of NEONN_OPENBLAS_SOURCE; skipped")
    return()
  elseif(at EQUAL -1 OR NOT at EQUAL last)
    message(FATAL_ERROR "neonn: OpenBLAS ${OB_FLAVOUR}: source edit '${why}' does not apply "
                        "to ${file} (expected text found 0 or several times)")
  endif()
  string(REPLACE "${old}" "${new}" text "${text}")
  file(WRITE "${work}/${file}" "${text}")
  ob_status("source edit: ${why}")
  set_property(GLOBAL APPEND PROPERTY OB_EDITS "${file}: ${why}")
endfunction()

# 1. Run-time detection of the Cortex-A76 (MIDR part 0xd0b: Raspberry Pi 5),
#    which 0.3.29 does not know and would run with generic ARMV8 kernels, as the
#    Neoverse N1 (part 0xd0c), the server core derived from it. Only
#    dynamic_arm64.c reads it (linux-arm64 builds).
ob_edit(driver/others/dynamic_arm64.c
  "        case 0xd0c: // Neoverse N1\n          return &gotoblas_NEOVERSEN1;\n"
  "        case 0xd0c: // Neoverse N1\n          return &gotoblas_NEOVERSEN1;\n        case 0xd0b: // Cortex-A76 (added by neonn)\n          return &gotoblas_NEOVERSEN1;\n"
  "Cortex-A76 uses the NEOVERSEN1 kernels")
# 2. The memory-order half of the thread-safety fix upstream made after 0.3.29
#    (OpenMathLib/OpenBLAS #5170; Debian's 0.3.29 package carries it): the
#    thread server publishes its work queue pointers with release/acquire order
#    instead of relaxed, so that a worker on a weakly ordered CPU (arm64) never
#    sees a queue pointer before the queue's contents. Its other half (taking
#    server_lock around the re-initialisation after a fork) is left out:
#    blas_thread_init takes that non-recursive lock itself, so in a forked child
#    the first threaded call would deadlock.
ob_edit(driver/others/blas_server.c
  "#define\tatomic_load_queue(p)\t\t__atomic_load_n(p, __ATOMIC_RELAXED)\n#define\tatomic_store_queue(p, v)\t__atomic_store_n(p, v, __ATOMIC_RELAXED)\n"
  "#define\tatomic_load_queue(p)\t\t__atomic_load_n(p, __ATOMIC_ACQUIRE)\n#define\tatomic_store_queue(p, v)\t__atomic_store_n(p, v, __ATOMIC_RELEASE)\n"
  "thread server queue with acquire/release atomics (upstream #5170)")

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
get_property(edits GLOBAL PROPERTY OB_EDITS)
list(JOIN edits "\n  " edits)
file(WRITE "${OB_DIR}/build-info.txt"
  "built: ${now} in ${secs} s\nsource: ${description}\nsource edits:\n  ${edits}\nflavour: ${OB_FLAVOUR}\n"
  "target: ${OB_TARGET}\nmake (in a copy of the source): '${shown}'\nprefix: ${OB_PREFIX}\n"
  "global symbols: ${got}\n--- cache key ---\n${OB_KEY}")

file(RENAME "${partial}" "${OB_CACHED_OBJ}")
file(REMOVE "${merged}")
file(REMOVE_RECURSE "${work}")
ob_status("cached ${OB_CACHED_OBJ}")
ob_deliver()
