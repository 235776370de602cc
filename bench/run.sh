#!/usr/bin/env bash
# bench/run.sh - build the benchmarks into bench/bin/ and run them; results go
# to stdout. Only bench/bin/ is written: the binaries, the FPP curve fpp.dat
# and, when gnuplot is installed, its plot fpp.png.
#
#   bash bench/run.sh            full run: maps at 1M and 10M, top-k at 10M,
#                                sketches (Bloom beside libbloom, cuckoo,
#                                count-min, HLL) at 10M with the FPP curve at
#                                1M, then a hyperfine whole-process comparison
#   bash bench/run.sh --quick    smoke run (100k elements, 1 rep): seconds
#
# Environment:
#   CXX            C++ compiler (default g++)
#   CC             C compiler for bench_sketch.c (default gcc)
#   BENCH_FLAGS    optimisation flags for every contender alike
#                  (default "-O2 -DNDEBUG"; e.g. "-O2 -DNDEBUG -march=native")
#   BENCH_REPS     reps per measurement (default 5 at <= 1M, 3 at 10M)
# Peers come from Debian packages: sh bench/deps.sh installs them.
set -euo pipefail

cd "$(dirname "$0")/.."
QUICK=""
for a in "$@"; do
    case "$a" in
    --quick) QUICK="--quick" ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$a' (only --quick)" >&2; exit 2 ;;
    esac
done

CXX=${CXX:-g++}
CC=${CC:-gcc}
BENCH_FLAGS=${BENCH_FLAGS:-"-O2 -DNDEBUG"}
BIN=bench/bin
mkdir -p "$BIN"

missing=""
[ -f /usr/include/boost/unordered/unordered_flat_map.hpp ] || missing="$missing libboost1.81-dev"
[ -f /usr/include/absl/container/flat_hash_map.h ] || missing="$missing libabsl-dev"
[ -f /usr/include/uthash.h ] || missing="$missing uthash-dev"
[ -f /usr/include/bloom.h ] || missing="$missing libbloom-dev"
if [ -n "$missing" ]; then
    echo "bench/run.sh: missing peers:$missing -- run: sh bench/deps.sh" >&2
    exit 1
fi
if ABSL_LIBS=$(pkg-config --libs absl_hash absl_raw_hash_set 2>/dev/null); then :; else
    ABSL_LIBS="-labsl_raw_hash_set -labsl_hash -labsl_city -labsl_low_level_hash -labsl_hashtablez_sampler -labsl_exponential_biased -labsl_synchronization -labsl_graphcycles_internal -labsl_stacktrace -labsl_symbolize -labsl_debugging_internal -labsl_demangle_internal -labsl_malloc_internal -labsl_time -labsl_civil_time -labsl_time_zone -labsl_strings -labsl_strings_internal -labsl_int128 -labsl_throw_delegate -labsl_base -labsl_spinlock_wait -labsl_raw_logging_internal -labsl_log_severity"
fi

CXXFLAGS="-std=c++17 $BENCH_FLAGS -Wall -Wextra -I."
CFLAGS="-std=c99 $BENCH_FLAGS -Wall -Wextra -I."
echo "== build: $($CXX --version | head -n1); $($CC --version | head -n1)"
echo "   flags (all contenders alike): $CXXFLAGS (C: $CFLAGS;"
echo "   libbloom is Debian's prebuilt shared library)"
echo "   cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
$CXX $CXXFLAGS bench/bench_map.cc -o "$BIN/bench_map" $ABSL_LIBS
$CXX $CXXFLAGS bench/bench_topk.cc -o "$BIN/bench_topk"
# libbloom is Debian's shared library, built by Debian with its own flags.
$CC $CFLAGS bench/bench_sketch.c -o "$BIN/bench_sketch" -lbloom -lm

echo
echo "== $BIN/bench_map $QUICK"
"$BIN/bench_map" $QUICK
echo
echo "== $BIN/bench_topk $QUICK"
"$BIN/bench_topk" $QUICK
echo
echo "== $BIN/bench_sketch $QUICK --curve $BIN/fpp.dat"
"$BIN/bench_sketch" $QUICK --curve "$BIN/fpp.dat"
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot -c bench/plot_fpp.gp "$BIN/fpp.dat" "$BIN/fpp.png"
    echo "   FPP plot: $BIN/fpp.png"
else
    echo "   (gnuplot not installed: $BIN/fpp.png not drawn; sh bench/deps.sh)"
fi

if command -v hyperfine >/dev/null 2>&1; then
    if [ -n "$QUICK" ]; then N=100000; RUNS=3; else N=1000000; RUNS=10; fi
    echo
    args="--n $N --reps 1 --warmup 0 --fresh-mem"
    echo "== whole process (hyperfine): bench_map $args --only NAME"
    echo "   each process generates the same keys (a fixed cost common to all), then runs"
    echo "   every phase once on one map; this includes the kernel's page faults"
    cmds=()
    for c in ds boost absl uthash std; do cmds+=("$BIN/bench_map $args --only $c"); done
    hyperfine -N --warmup 1 --runs "$RUNS" --style basic "${cmds[@]}"
else
    echo
    echo "(hyperfine not installed: whole-process comparison skipped; sh bench/deps.sh)"
fi
