#!/usr/bin/env python3
"""bench/cache_lru.py - replay a bench_cache op file through functools.lru_cache.

    python3 bench/cache_lru.py bench/bin/cache_ops.bin

The op file (bench_cache --write-ops FILE) holds a capacity and a sequence of
get/put ops on uint64 keys. The cache is functools.lru_cache(maxsize=capacity)
wrapped around a "loader" that builds a 64-byte value for a key. lru_cache
has no put: every op is a call, which on a hit makes the key the most recent
and on a miss loads and inserts it (evicting the least recent when full).
For a get that is the read-through get the other replayers do; for a put it
leaves the same LRU state as an insert-or-replace (only the value is not
replaced). So hits, misses and the final length (from cache_info()) must
equal those of `bench_cache --replay FILE --only ds`.
"""
import functools
import struct
import sys
import time
from array import array


def load_ops(path):
    with open(path, "rb") as f:
        head = f.read(32)
        if len(head) != 32 or head[:8] != b"DSCOPS01":
            sys.exit(f"{sys.argv[0]}: {path} is not a bench_cache op file")
        cap, n, _space = struct.unpack("<QQQ", head[8:])
        ops = f.read(n)
        keys = array("Q")
        if keys.itemsize != 8:
            sys.exit(f"{sys.argv[0]}: array('Q') is not 8 bytes here")
        keys.frombytes(f.read(8 * n))
        if len(ops) != n or len(keys) != n:
            sys.exit(f"{sys.argv[0]}: {path} is truncated")
        if sys.byteorder != "little":
            keys.byteswap()
    return cap, ops, keys


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: cache_lru.py OPFILE")
    cap, ops, keys = load_ops(sys.argv[1])

    @functools.lru_cache(maxsize=cap)
    def value(k):
        return k.to_bytes(8, "little") * 8  # the 64-byte value

    t0 = time.perf_counter()
    for k in keys:  # a get and a put are both a call (see above)
        value(k)
    ms = (time.perf_counter() - t0) * 1e3
    info = value.cache_info()
    print(f"cache_replay python-lru_cache: capacity {cap} ops {len(keys)} hits {info.hits} "
          f"misses {info.misses} len {info.currsize} (loop {ms:.1f} ms)")


if __name__ == "__main__":
    main()
