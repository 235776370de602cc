#!/usr/bin/env bash
# bench/run.sh - build the benchmarks into bench/bin/ and run them; results go
# to stdout. Only bench/bin/ is written: the binaries, the FPP curve fpp.dat
# and, when gnuplot is installed, its plot fpp.png.
#
#   bash bench/run.sh            full run: maps at 1M and 10M, the B+tree
#                                (DS_BTREE beside std::map, JudyL and a sorted
#                                vector) at 1M and 10M, top-k at 10M, sketches
#                                (Bloom beside libbloom, cuckoo, count-min,
#                                HLL) at 10M with the FPP curve at 1M, the LRU
#                                / W-TinyLFU cache at 1M beside uthash and C++
#                                LRUs, cache hit rates on the real traces
#                                (shared/data), the circuit breaker's
#                                allow+record pairs (no C peer: ns only),
#                                snowflake ids and base62 beside libuuid,
#                                ring / jump / rendezvous lookups at 10, 100,
#                                1000 nodes and ketama beside libmemcached,
#                                HNSW and exact search beside hnswlib and
#                                faiss (siftsmall, 10^6 synthetic; plots),
#                                then hyperfine whole-process
#                                comparisons (maps; cache op replay beside
#                                Python lru_cache / TTLCache); rate limiter
#                                decisions (one key, 10^6 keys); the
#                                distributed limiters on a local
#                                redis-server (bench_redis); the SPSC
#                                ring beside ck_ring and boost.lockfree, the
#                                MPMC queue beside ck_ring and a mutex queue;
#                                the quadtree's rectangle and kNN queries at
#                                10^6 points beside brute force and
#                                Boost.Geometry's rtree, and its build time
#                                Dijkstra on a 10^5-node, 10^6-edge random
#                                graph beside Boost.Graph (CSR, adjacency_list)
#                                DS_CMAP (mutex and rwlock shards) beside one
#                                global mutex around a DS_MAP, 1 and 2 threads
#                                the worker pool beside GLib's GThreadPool
#                                (10^6 tiny tasks, 1 and 2 workers; submit
#                                latency)
#                                ds_index beside SQLite FTS5 (build, size,
#                                top-10 BM25 latency) and ds_bpe beside
#                                sentencepiece BPE (train, encode, bytes
#                                per token) on Debian package descriptions
#   bash bench/run.sh --quick    smoke run (100k elements, 1 rep; only the
#                                lirs traces for hit rates): seconds
#
# Environment:
#   CXX            C++ compiler (default g++)
#   CC             C compiler for the C benchmarks (default gcc)
#   BENCH_FLAGS    optimisation flags for every contender alike
#                  (default "-O2 -DNDEBUG"; e.g. "-O2 -DNDEBUG -march=native")
#   BENCH_REPS     reps per measurement (default 5 at <= 1M, 3 at 10M)
#   DS_DATA        the shared data folder holding cache-traces/ (default
#                  ../shared/data); hit rates are skipped when it is absent
#   PYTHON         Python 3 with cachetools for bench/cache_*.py (default: the
#                  first of /usr/bin/python3, python3 that imports cachetools)
# Peers come from Debian packages: sh bench/deps.sh installs them.
set -euo pipefail

cd "$(dirname "$0")/.."
QUICK=""
for a in "$@"; do
    case "$a" in
    --quick) QUICK="--quick" ;;
    -h | --help) sed -n '2,55p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$a' (only --quick)" >&2; exit 2 ;;
    esac
done

CXX=${CXX:-g++}
CC=${CC:-gcc}
BENCH_FLAGS=${BENCH_FLAGS:-"-O2 -DNDEBUG"}
BIN=bench/bin
mkdir -p "$BIN" "$BIN/native"

missing=""
[ -f /usr/include/boost/unordered/unordered_flat_map.hpp ] || missing="$missing libboost1.81-dev"
[ -f /usr/include/absl/container/flat_hash_map.h ] || missing="$missing libabsl-dev"
[ -f /usr/include/uthash.h ] || missing="$missing uthash-dev"
[ -f /usr/include/bloom.h ] || missing="$missing libbloom-dev"
[ -f /usr/include/Judy.h ] || missing="$missing libjudy-dev"
[ -f /usr/include/uuid/uuid.h ] || missing="$missing uuid-dev"
[ -f /usr/include/libmemcached/memcached.h ] || missing="$missing libmemcached-dev"
[ -f /usr/include/hnswlib/hnswlib.h ] || missing="$missing libhnswlib-dev"
[ -f /usr/include/faiss/IndexHNSW.h ] || missing="$missing libfaiss-dev"
[ -f /usr/include/ck_ring.h ] || missing="$missing libck-dev"
pkg-config --exists glib-2.0 2>/dev/null || missing="$missing libglib2.0-dev"
[ -f /usr/include/sqlite3.h ] || missing="$missing libsqlite3-dev"
[ -f /usr/include/sentencepiece_processor.h ] || missing="$missing libsentencepiece-dev"
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
echo "   libbloom and libJudy are Debian's prebuilt shared libraries)"
echo "   cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
$CXX $CXXFLAGS bench/bench_map.cc -o "$BIN/bench_map" $ABSL_LIBS
# libJudy, like libbloom, is Debian's shared library with Debian's flags.
$CXX $CXXFLAGS bench/bench_btree.cc -o "$BIN/bench_btree" -lJudy
$CXX $CXXFLAGS bench/bench_topk.cc -o "$BIN/bench_topk"
# libbloom is Debian's shared library, built by Debian with its own flags.
$CC $CFLAGS bench/bench_sketch.c -o "$BIN/bench_sketch" -lbloom -lm
# Not run here: the blocked/standard Bloom query taken apart (docs/benchmarks.md).
$CC $CFLAGS bench/bloom_kernels.c -o "$BIN/bloom_kernels" -lm
$CXX $CXXFLAGS bench/bench_cache.cc -o "$BIN/bench_cache"
$CC $CFLAGS bench/cache_hitrates.c -o "$BIN/cache_hitrates" -lm
$CC $CFLAGS bench/bench_tstore.c -o "$BIN/bench_tstore" -lm
$CC $CFLAGS bench/bench_trie.c -o "$BIN/bench_trie" -lJudy -lm
# ds_text.h beside SQLite FTS5 and sentencepiece (Debian's shared libraries).
$CC $CFLAGS bench/bench_text.c -o "$BIN/bench_text" -lsqlite3 -lm
$CXX $CXXFLAGS bench/bench_bpe.cc -o "$BIN/bench_bpe" -lsentencepiece -lsentencepiece_train -lm
$CC $CFLAGS bench/bench_limit.c -o "$BIN/bench_limit" -lm
# ds_redis.h: hiredis; the benchmark starts its own redis-server.
$CC $CFLAGS bench/bench_redis.c -o "$BIN/bench_redis" -lhiredis -lm
$CC -std=c99 -O2 -fPIC -shared -fvisibility=hidden -I. redis/ds_limit_module.c -o "$BIN/ds_limit_module.so" -lm
$CC $CFLAGS bench/bench_breaker.c -o "$BIN/bench_breaker" -lm
$CC $CFLAGS bench/bench_ids.c -o "$BIN/bench_ids" -luuid -lm
# libmemcached (ketama peer) is Debian's shared library, never connected.
$CC $CFLAGS bench/bench_shard.c -o "$BIN/bench_shard" -lmemcached -lm
# faiss is Debian's static library over the system BLAS (OpenBLAS from deps.sh).
$CXX $CXXFLAGS bench/bench_hnsw.cc -o "$BIN/bench_hnsw" -lfaiss -llapack -lblas -fopenmp -lpthread
# hnswlib chooses its SIMD kernels at compile time: the same program built
# with -march=native (every contender alike) is what a user who builds it
# that way gets.
$CXX $CXXFLAGS -march=native bench/bench_hnsw.cc -o "$BIN/bench_hnsw_native" -lfaiss -llapack -lblas -fopenmp -lpthread
# The rings: C11 + pthreads; ck_ring is Debian's libck, boost.lockfree's
# spsc_queue is header-only and compiled here with the same flags.
$CXX $CXXFLAGS -c bench/bench_ring_boost.cc -o "$BIN/bench_ring_boost.o"
$CC -std=c11 $BENCH_FLAGS -Wall -Wextra -I. bench/bench_ring.c "$BIN/bench_ring_boost.o" \
    -o "$BIN/bench_ring" -lck -lstdc++ -pthread -lm
# The quadtree: C, with Boost.Geometry's rtree (header-only, same flags) as
# a C++ object beside it.
$CXX $CXXFLAGS -c bench/bench_spatial_boost.cc -o "$BIN/bench_spatial_boost.o"
$CC $CFLAGS bench/bench_spatial.c "$BIN/bench_spatial_boost.o" -o "$BIN/bench_spatial" -lstdc++ -lm
# Boost.Graph is header-only (libboost1.81-dev): compiled here with the same flags.
$CXX $CXXFLAGS bench/bench_graph.cc -o "$BIN/bench_graph"
# The sharded map: the same file compiled twice, the second time as the
# DS_CMAP_RWLOCK build (the lock type is a header option).
$CC -std=c11 $BENCH_FLAGS -Wall -Wextra -I. -DBENCH_CMAP_RW_PART -c bench/bench_cmap.c -o "$BIN/bench_cmap_rw.o"
$CC -std=c11 $BENCH_FLAGS -Wall -Wextra -I. bench/bench_cmap.c "$BIN/bench_cmap_rw.o" \
    -o "$BIN/bench_cmap" -pthread -lm
# The pool: C11 + pthreads; GThreadPool is Debian's shared libglib-2.0.
$CC -std=c11 $BENCH_FLAGS -Wall -Wextra -I. bench/bench_pool.c -o "$BIN/bench_pool" \
    $(pkg-config --cflags --libs glib-2.0) -pthread -lm

echo
echo "== $BIN/bench_map $QUICK"
"$BIN/bench_map" $QUICK
echo
echo "== $BIN/bench_btree $QUICK"
"$BIN/bench_btree" $QUICK
echo
echo "== $BIN/bench_tstore $QUICK"
"$BIN/bench_tstore" $QUICK
echo
echo "== $BIN/bench_trie $QUICK"
"$BIN/bench_trie" $QUICK
echo
echo "== $BIN/bench_text $QUICK"
"$BIN/bench_text" $QUICK
echo
echo "== $BIN/bench_bpe"
"$BIN/bench_bpe"
echo
echo "== $BIN/bench_breaker $QUICK"
"$BIN/bench_breaker" $QUICK
echo
echo "== $BIN/bench_shard $QUICK"
"$BIN/bench_shard" $QUICK
echo
# One BLAS thread: faiss's exact search is compared single-threaded.
echo "== $BIN/bench_hnsw $QUICK (OPENBLAS_NUM_THREADS=1)"
OPENBLAS_NUM_THREADS=1 "$BIN/bench_hnsw" $QUICK --data "${DS_DATA:-../shared/data}" --out "$BIN"
echo "== $BIN/bench_hnsw_native $QUICK --f16 --sets siftsmall,mnist,fashion (built with -march=native; ds-f16: DS_HNSW_STORE_F16)"
OPENBLAS_NUM_THREADS=1 "$BIN/bench_hnsw_native" $QUICK --f16 --sets siftsmall,mnist,fashion --data "${DS_DATA:-../shared/data}" --out "$BIN/native"
if command -v gnuplot >/dev/null 2>&1; then
    for set in siftsmall synthetic; do
        [ -f "$BIN/hnsw_$set.dat" ] && gnuplot -c bench/plot_hnsw.gp "$BIN/hnsw_$set.dat" "$BIN/hnsw_$set.png" "$set" &&
            echo "   recall/QPS plot: $BIN/hnsw_$set.png"
    done
fi
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
echo
echo "== $BIN/bench_cache $QUICK"
"$BIN/bench_cache" $QUICK
echo
echo "== $BIN/bench_limit $QUICK"
"$BIN/bench_limit" $QUICK
echo
echo "== $BIN/bench_redis $QUICK (a local redis-server it starts; needs redis-server, redis-tools)"
"$BIN/bench_redis" --module "$BIN/ds_limit_module.so" $QUICK || echo "(bench_redis failed: is redis-server installed?)"
DATA=${DS_DATA:-../shared/data}
echo
if [ -d "$DATA/cache-traces" ]; then
    echo "== $BIN/cache_hitrates $QUICK --data $DATA"
    "$BIN/cache_hitrates" $QUICK --data "$DATA"
else
    echo "(no $DATA/cache-traces: cache hit rates skipped; set DS_DATA)"
fi
echo
echo "== $BIN/bench_ids $QUICK"
"$BIN/bench_ids" $QUICK
echo
echo "== $BIN/bench_ring $QUICK"
"$BIN/bench_ring" $QUICK
echo
echo "== $BIN/bench_spatial $QUICK"
"$BIN/bench_spatial" $QUICK
echo "== $BIN/bench_graph $QUICK"
"$BIN/bench_graph" $QUICK
echo "== $BIN/bench_cmap $QUICK"
"$BIN/bench_cmap" $QUICK
echo "== $BIN/bench_pool $QUICK"
"$BIN/bench_pool" $QUICK

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

    # The cache: one op file (Zipf(0.99) gets and 10% puts), replayed whole-
    # process by bench_cache and by the Python scripts; the LRUs must agree.
    if [ -n "$QUICK" ]; then OPS="--ops 100000 --cap 10000 --space 20000"; RUNS=3; else OPS=""; RUNS=10; fi
    F="$BIN/cache_ops.bin"
    echo
    "$BIN/bench_cache" --write-ops "$F" $OPS
    # Debian's python3-cachetools is for /usr/bin/python3, which may not be
    # the python3 first on PATH (pyenv and the like).
    PY=""
    for p in ${PYTHON:-} /usr/bin/python3 python3; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import cachetools' 2>/dev/null; then PY=$p; break; fi
    done
    cmds=("$BIN/bench_cache --replay $F --only ds" "$BIN/bench_cache --replay $F --only ds --ttl 3600"
          "$BIN/bench_cache --replay $F --only ds-wtlfu" "$BIN/bench_cache --replay $F --only uthash"
          "$BIN/bench_cache --replay $F --only std")
    if [ -n "$PY" ]; then
        cmds+=("$PY bench/cache_lru.py $F" "$PY bench/cache_ttl.py $F")
    elif command -v "${PYTHON:-python3}" >/dev/null 2>&1; then
        cmds+=("${PYTHON:-python3} bench/cache_lru.py $F")
        echo "   (no Python with cachetools: cache_ttl.py skipped; sh bench/deps.sh)"
    else
        echo "   (no python3: the Python replays are skipped)"
    fi
    echo "== whole process (hyperfine): replay $F (read-through gets, puts), one process per run"
    echo "   each reads the op file and runs every op on an empty cache; the Python ones"
    echo "   build 64-byte bytes values, ds/uthash/std a 64-byte struct"
    want=""
    for c in "${cmds[@]}"; do
        # shellcheck disable=SC2086 # the command line is split into words on purpose
        line=$($c)
        echo "   $line"
        case "$c" in *ds-wtlfu*) continue ;; esac # not an LRU: its hits differ
        got=$(echo "$line" | sed -n 's/.*\(hits [0-9]* misses [0-9]* len [0-9]*\).*/\1/p')
        if [ -z "$want" ]; then want=$got; elif [ "$got" != "$want" ]; then
            echo "bench/run.sh: the LRU replays disagree ('$got' vs '$want')" >&2
            exit 1
        fi
    done
    echo "   the LRU replays agree: $want"
    hyperfine -N --warmup 1 --runs "$RUNS" --style basic "${cmds[@]}"
else
    echo
    echo "(hyperfine not installed: whole-process comparison skipped; sh bench/deps.sh)"
fi
