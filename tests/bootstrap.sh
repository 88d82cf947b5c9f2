#!/usr/bin/env bash
# Set up everything upglog needs on a Debian machine, then configure and build it.
#
#   bash tests/bootstrap.sh [BUILDDIR [MESON OPTION...]]
#
# Installs the missing Debian packages with apt-get (as root, or through sudo; otherwise it
# prints the apt-get line to run and stops), configures BUILDDIR (default: build) with warnings
# as errors, and compiles. Quiet when all goes well; when configuring or compiling fails it
# shows meson's and the compiler's messages and stops. Safe to run again: it only installs
# what is missing and reconfigures an existing build folder.
set -euo pipefail

cd "$(dirname "$0")/.."
builddir=${1:-build}
[ $# -gt 0 ] && shift

packages=(gcc meson ninja-build pkg-config python3 libpcre2-dev zlib1g-dev libsqlite3-dev
          libcmocka-dev libarchive-dev libpq-dev clang-format scdoc)
# More for special builds or tests, e.g. UPGLOG_EXTRA_PACKAGES="clang" for fuzzing (.ci/run
# adds the sanitizer runtime that goes with this Debian's clang), "chromium" for the HTML
# report's test in a real browser, or "postgresql" for the server the PostgreSQL tests start
# (each skipped without; .ci/run installs both).
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
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "bootstrap: these packages are missing: ${missing[*]}" >&2
            echo "bootstrap: run this as root, then run bootstrap again:" >&2
            echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    echo "bootstrap: installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# Run a step quietly; when it fails, show everything it said (the compiler's errors) and stop.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
step() {
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "bootstrap: failed: $*" >&2
        exit 1
    fi
}

if [ -f "$builddir/build.ninja" ]; then
    step meson setup --reconfigure "$builddir" -Dwerror=true "$@"
else
    step meson setup "$builddir" -Dwerror=true "$@"
fi
step meson compile -C "$builddir"
echo "bootstrap: built $builddir/upglog" >&2
