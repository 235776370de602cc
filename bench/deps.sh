#!/bin/sh
# bench/deps.sh - install the peers the benchmarks compare ds against, from
# Debian packages (never vendored): boost unordered_flat_map, absl
# flat_hash_map, uthash, libbloom, JudyL (libjudy), libuuid (uuid-dev, for
# bench_ids), libmemcached (ketama, for bench_shard), hnswlib and faiss (with
# OpenBLAS, for bench_hnsw), Concurrency Kit (libck-dev: ck_ring, for
# bench_ring; boost.lockfree, Boost.Graph (bench_graph) and Boost.Geometry's
# rtree (bench_spatial) come with boost), GLib (libglib2.0-dev: GThreadPool,
# for bench_pool), cachetools (Python, for
# bench/cache_ttl.py), hyperfine for whole-process comparisons, and gnuplot
# (no X) for the FPP plot.
# Idempotent: prints nothing and installs nothing when all are present.
# Needs root or sudo (apt-get). POSIX sh.
set -eu

PKGS="libboost1.81-dev libabsl-dev uthash-dev libbloom-dev libjudy-dev uuid-dev libmemcached-dev libhnswlib-dev libfaiss-dev libopenblas-dev libck-dev libglib2.0-dev python3-cachetools python3-sortedcontainers wamerican hyperfine gnuplot-nox"

missing=""
for p in $PKGS; do
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "bench/deps.sh: need root or sudo to install:$missing" >&2
    exit 1
fi

echo "bench/deps.sh: installing$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
