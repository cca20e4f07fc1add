#!/usr/bin/env bash
# Unpacks Debian's own nodejs for an ARM architecture (and every library it
# needs) into a sysroot, so neonn's ARM builds can be tested under qemu-user:
#
#   scripts/arm-sysroot.sh arm64 /opt/neonn-sysroot-arm64
#   QEMU_LD_PREFIX=/opt/neonn-sysroot-arm64 qemu-aarch64 -cpu cortex-a53 \
#     /opt/neonn-sysroot-arm64/usr/bin/node -e 'console.log(process.arch)'
#
# Needs root (dpkg --add-architecture, apt-get update). Idempotent: an existing
# sysroot with a node binary is kept.
set -euo pipefail
arch="${1:?usage: arm-sysroot.sh arm64|armhf DIR}"
dir="${2:?usage: arm-sysroot.sh arm64|armhf DIR}"
case "$arch" in arm64|armhf) ;; *) echo "arm-sysroot: arch must be arm64 or armhf" >&2; exit 2 ;; esac
if [ -x "$dir/usr/bin/node" ]; then echo "arm-sysroot: $dir already has node"; exit 0; fi

if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
  dpkg --add-architecture "$arch"
fi
apt-get update -qq || true  # a stale third-party list must not stop us; missing packages fail below

# The dependency closure of nodejs for that architecture, plus the builtins
# Debian's node loads from separate packages (architecture "all").
pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
         --no-replaces --no-enhances "nodejs:$arch" 2>/dev/null |
       grep -E "^[a-z0-9].*:$arch\$" | sort -u)
pkgs="$pkgs node-acorn node-cjs-module-lexer node-undici node-busboy"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download $pkgs >/dev/null)
mkdir -p "$dir"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$dir"; done
echo "arm-sysroot: $(ls "$work"/*.deb | wc -l) packages unpacked into $dir"
