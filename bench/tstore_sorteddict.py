#!/usr/bin/env python3
"""bench/tstore_sorteddict.py - the range-query pattern of bench_tstore on
sortedcontainers.SortedDict, the structure the seed's TimeBasedStorageRBTree
is built on.

    /usr/bin/python3 bench/tstore_sorteddict.py FILE

bench_tstore writes FILE (and runs this script on it as a subprocess):

    8 bytes   magic b"DSTSQ001"
    4 x u64   n, q, reps, warmup                      (little-endian)
    n x i64   timestamps, strictly increasing
    n x f64   values (whole numbers below 2^20, so sums are exact)
    q x i64   query starts
    q x i64   query ends (inclusive, like TimeBasedStorage.get_range)

The store is SortedDict(zip(timestamps, values)) (int keys: cheaper than the
seed's datetime keys, so this flatters Python). Each query fills a list of
timestamps and a list of values, as ds's range(ts_out, vals_out) does, two
ways:

    irange  ks = list(sd.irange(a, b)); vs = [sd[k] for k in ks]
            (the seed's backend: key slicing by irange, then a lookup each)
    slice   i = sd.bisect_left(a); j = sd.bisect_right(b);
            ks = keys[i:j]; vs = list(map(sd.__getitem__, ks))
            (positional slicing of the sorted key list and a C-level map
            for the values: the fastest SortedDict way to get both lists
            that we know of, ~20% faster than irange here)

then adds len(ks), sum(ks) and sum(vs) to the checksums. After `warmup`
untimed passes, `reps` timed passes of all q queries; the median pass is
reported. Output, one line each (times in ns; tsum modulo 2^64; vsum as an
integer):

    build   NS
    irange  NS ITEMS TSUM VSUM
    slice   NS ITEMS TSUM VSUM
    rss_kb  KB
"""
import resource
import struct
import sys
import time
from array import array

try:
    from sortedcontainers import SortedDict
except ImportError:
    sys.exit(f"{sys.argv[0]}: no sortedcontainers for {sys.executable} "
             "(Debian: apt-get install python3-sortedcontainers, for /usr/bin/python3)")


def load(path):
    with open(path, "rb") as f:
        head = f.read(40)
        if len(head) != 40 or head[:8] != b"DSTSQ001":
            sys.exit(f"{sys.argv[0]}: {path} is not a bench_tstore query file")
        n, q, reps, warmup = struct.unpack("<QQQQ", head[8:])

        def read(code, count):
            a = array(code)
            if a.itemsize != 8:
                sys.exit(f"{sys.argv[0]}: array('{code}') is not 8 bytes here")
            a.frombytes(f.read(8 * count))
            if len(a) != count:
                sys.exit(f"{sys.argv[0]}: {path} is truncated")
            if sys.byteorder != "little":
                a.byteswap()
            return a

        ts, vals, qs, qe = read("q", n), read("d", n), read("q", q), read("q", q)
    return ts, vals, qs, qe, reps, warmup


def run_irange(sd, qs, qe):
    irange = sd.irange
    items = tsum = 0
    vsum = 0.0
    for a, b in zip(qs, qe):
        ks = list(irange(a, b))
        vs = [sd[k] for k in ks]
        items += len(ks)
        tsum += sum(ks)
        vsum += sum(vs)
    return items, tsum, vsum


def run_slice(sd, qs, qe):
    keys = sd.keys()
    bl, br, get = sd.bisect_left, sd.bisect_right, sd.__getitem__
    items = tsum = 0
    vsum = 0.0
    for a, b in zip(qs, qe):
        i = bl(a)
        j = br(b)
        ks = keys[i:j]
        vs = list(map(get, ks))
        items += len(ks)
        tsum += sum(ks)
        vsum += sum(vs)
    return items, tsum, vsum


def median(xs):
    xs = sorted(xs)
    m = len(xs)
    return xs[m // 2] if m % 2 else (xs[m // 2 - 1] + xs[m // 2]) / 2


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    ts, vals, qs, qe, reps, warmup = load(sys.argv[1])
    t0 = time.perf_counter_ns()
    sd = SortedDict(zip(ts, vals))
    build = time.perf_counter_ns() - t0
    if len(sd) != len(ts):
        sys.exit(f"{sys.argv[0]}: duplicate timestamps in the file")
    print(f"build {build}")
    for name, fn in (("irange", run_irange), ("slice", run_slice)):
        for _ in range(warmup):
            fn(sd, qs, qe)
        times = []
        res = None
        for _ in range(max(1, reps)):
            t0 = time.perf_counter_ns()
            r = fn(sd, qs, qe)
            times.append(time.perf_counter_ns() - t0)
            if res is not None and r != res:
                sys.exit(f"{sys.argv[0]}: {name}: answers differ between reps")
            res = r
        items, tsum, vsum = res
        print(f"{name} {median(times):.0f} {items} {tsum % (1 << 64)} {int(vsum)}")
    print(f"rss_kb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


if __name__ == "__main__":
    main()
