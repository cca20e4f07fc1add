#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine to build neonn from this checkout:
# the compiler toolchain, cmake, and a deb-src entry for Debian trixie, whose
# OpenBLAS source package the build fetches (unless NEONN_OPENBLAS_SOURCE is
# set). Then installs the npm dependencies, which builds the addon.
# Run as root, or with sudo available. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: not root and no sudo: install build-essential cmake dpkg-dev xz-utils perl yourself" >&2
  fi
fi
export DEBIAN_FRONTEND=noninteractive

if [ -n "$SUDO" ] || [ "$(id -u)" = 0 ]; then
  # Debian trixie's source packages: the OpenBLAS, XNNPACK, pthreadpool and FXdiv
  # the build pins (deps/openblas.cmake, deps/xnnpack.cmake) are trixie's, fetched
  # with `apt-get source <package>/trixie`.
  # Source entries only (Types: deb-src): no binary package comes from trixie.
  # From deb.debian.org, like a stock Debian system's own entries.
  if [ -r /usr/share/keyrings/debian-archive-keyring.gpg ] &&
     ! grep -rqs '^Suites:.*\btrixie\b' /etc/apt/sources.list.d/neonn-trixie-src.sources; then
    $SUDO tee /etc/apt/sources.list.d/neonn-trixie-src.sources >/dev/null <<EOT
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
  fi
  # A mirror caught mid-sync fails one index now and then: go on with the
  # lists we have; a package that is really missing fails the install below.
  $SUDO apt-get update -qq || echo "setup: apt-get update reported errors; continuing with the package lists at hand" >&2
  $SUDO apt-get install -y -qq --no-install-recommends build-essential cmake dpkg-dev xz-utils perl python3 ninja-build >/dev/null
  # Debian's BLIS: a second CBLAS library for the blas:<path> backend's tests and bench.
  $SUDO apt-get install -y -qq --no-install-recommends libblis4-pthread >/dev/null
  # ONNX's backend node tests (ONNX 1.12's, under /usr/share/libonnx-testdata/data/node)
  # for test/onnx-node: optional, the suite says it is skipped without them.
  $SUDO apt-get install -y -qq --no-install-recommends libonnx-testdata >/dev/null ||
    echo "setup: libonnx-testdata is not available here; the ONNX node tests (test/onnx-node) will be skipped" >&2
fi

# npm ci runs the root project's install script (the native build, OpenBLAS
# included: a few minutes the first time, cached in ~/.cache/neonn-deps after, so
# a fresh clone reuses it) and
# prepare (TypeScript).
if [ -f package-lock.json ]; then npm ci; else npm install; fi
