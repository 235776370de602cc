#!/bin/sh
# tools/deps.sh [check|bench|all] - install the Debian packages that
# `make check` (the default set) or `make bench` needs and this machine
# lacks. The one place the package lists live: .ci/run, `make check` and
# bench/deps.sh all call it.
#   check  compilers, clang's sanitizer runtime, the word list and SQLite
#          the tests and examples use, and the decompressors for tests/data
#   bench  the peers the benchmarks compare against (never vendored)
# Installs with apt-get as root, through sudo otherwise; prints what to
# install and exits 1 when it can do neither. Idempotent and quiet when
# everything is present. POSIX sh.
set -eu

CHECK_PKGS="make gcc g++ clang libclang-rt-14-dev wamerican libsqlite3-dev xz-utils zstd gzip redis-server redis-tools libhiredis-dev"
BENCH_PKGS="libboost1.81-dev libabsl-dev uthash-dev libbloom-dev libjudy-dev uuid-dev libmemcached-dev libhnswlib-dev libfaiss-dev libopenblas-dev libck-dev libglib2.0-dev python3-cachetools python3-sortedcontainers wamerican hyperfine gnuplot-nox sentencepiece libsentencepiece-dev"

case "${1:-check}" in
    check) pkgs=$CHECK_PKGS ;;
    bench) pkgs=$BENCH_PKGS ;;
    all) pkgs="$CHECK_PKGS $BENCH_PKGS" ;;
    *) echo "usage: tools/deps.sh [check|bench|all]" >&2; exit 2 ;;
esac

if ! command -v dpkg >/dev/null 2>&1; then
    echo "tools/deps.sh: not a Debian system; install the equivalents of: $pkgs" >&2
    exit 0
fi

missing=""
for p in $pkgs; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "tools/deps.sh: these Debian packages are missing:$missing" >&2
    echo "tools/deps.sh: install them as root:  apt-get install$missing" >&2
    exit 1
fi

echo "tools/deps.sh: installing$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
