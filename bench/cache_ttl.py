#!/usr/bin/env python3
"""bench/cache_ttl.py - replay a bench_cache op file through cachetools.TTLCache.

    python3 bench/cache_ttl.py bench/bin/cache_ops.bin [TTL_SECONDS]

The cache is cachetools.TTLCache(maxsize=capacity, ttl=TTL_SECONDS) (Debian
python3-cachetools; default TTL 3600 s, so nothing expires during the run and
it behaves as an LRU: TTLCache evicts the least recently used). A get is
read-through: c.get(k), and on a miss c[k] = the 64-byte value; a put is
c[k] = value (insert or replace). A hit is an op whose key was present: for
a put that takes one extra `k in c` (no reordering), only to count. Hits,
misses and the final length must equal those of
`bench_cache --replay FILE --only ds --ttl 3600`.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cache_lru import load_ops  # noqa: E402

try:
    from cachetools import TTLCache
except ImportError:
    sys.exit(f"{sys.argv[0]}: cachetools is missing: apt-get install python3-cachetools "
             "(sh bench/deps.sh), and run it with /usr/bin/python3")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: cache_ttl.py OPFILE [TTL_SECONDS]")
    cap, ops, keys = load_ops(sys.argv[1])
    ttl = float(sys.argv[2]) if len(sys.argv) == 3 else 3600.0
    c = TTLCache(maxsize=cap, ttl=ttl)
    hits = misses = 0
    t0 = time.perf_counter()
    for op, k in zip(ops, keys):
        if op == 0:  # get, read-through
            v = c.get(k)
            if v is None:
                misses += 1
                c[k] = k.to_bytes(8, "little") * 8
            else:
                hits += 1
        else:  # put
            if k in c:
                hits += 1
            else:
                misses += 1
            c[k] = k.to_bytes(8, "little") * 8
    ms = (time.perf_counter() - t0) * 1e3
    print(f"cache_replay python-TTLCache: capacity {cap} ops {len(keys)} hits {hits} "
          f"misses {misses} len {len(c)} (loop {ms:.1f} ms)")


if __name__ == "__main__":
    main()
