#!/usr/bin/env bash
# Set up everything upglog needs on a Debian machine, then configure and build it.
#
#   bash tests/bootstrap.sh [BUILDDIR [MESON OPTION...]]
#
# Installs the missing Debian packages with apt-get (as root, or through sudo), configures
# BUILDDIR (default: build) with warnings as errors, and compiles. Safe to run again: it only
# installs what is missing and reconfigures an existing build folder.
set -euo pipefail

cd "$(dirname "$0")/.."
builddir=${1:-build}
[ $# -gt 0 ] && shift

packages=(gcc meson ninja-build pkg-config python3 libpcre2-dev zlib1g-dev libsqlite3-dev
          libcmocka-dev libarchive-dev clang-format)
# More for special builds, e.g. UPGLOG_EXTRA_PACKAGES="clang libclang-rt-14-dev" for fuzzing.
read -r -a extra <<< "${UPGLOG_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
# Hyperscan (the multi-pattern prefilter) exists for x86-64 only; elsewhere upglog builds
# without it and gives the same findings.
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
    packages+=(libhyperscan-dev)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    echo "bootstrap: installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

if [ -f "$builddir/build.ninja" ]; then
    meson setup --reconfigure "$builddir" -Dwerror=true "$@" >/dev/null
else
    meson setup "$builddir" -Dwerror=true "$@" >/dev/null
fi
meson compile -C "$builddir" >/dev/null
echo "bootstrap: built $builddir/upglog" >&2
