#!/bin/sh
# bench/deps.sh - install the peers the benchmarks compare ds against
# (boost, absl, uthash, libbloom, Judy, libuuid, libmemcached, hnswlib,
# faiss, Concurrency Kit, GLib, cachetools, sortedcontainers, hyperfine,
# gnuplot): the list lives in tools/deps.sh.
exec sh "$(dirname "$0")/../tools/deps.sh" bench
