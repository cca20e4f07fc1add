#!/usr/bin/env bash
# Sets up what the emulated ARM tests need (test/arm): Debian's cross
# compilers, qemu-user, and a sysroot with Debian's own nodejs for arm64 and
# armhf. Then `npm run prebuilds` makes the linux-arm64, linux-arm and
# linux-x64 prebuilds the tests load. Run as root. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || echo "setup-arm: apt-get update reported errors; continuing with the package lists at hand" >&2
apt-get install -y -qq --no-install-recommends g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user >/dev/null
bash scripts/arm-sysroot.sh arm64 "${NEONN_SYSROOT_ARM64:-/opt/neonn-sysroot-arm64}"
bash scripts/arm-sysroot.sh armhf "${NEONN_SYSROOT_ARMHF:-/opt/neonn-sysroot-armhf}"
