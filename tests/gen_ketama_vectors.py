#!/usr/bin/env python3
"""tests/gen_ketama_vectors.py - known answers for ds_ring's ketama mode.

Writes tests/ketama_vectors.h (included by tests/test_ring.c): server lists,
each server's point count, and key -> server assignments computed here,
independently of ds.h, from libketama's published algorithm (ketama.c,
Richard Jones, last.fm, 2007):

  * n servers of total weight W: a server of weight w gets
    floorf(pct * 40.0 * n) digests, pct = (float)w / (float)W; the product
    is double (40.0 is a double literal) rounded to float by floorf;
  * digest k = MD5("<name>-<k>"); four points per digest, bytes 4h..4h+3
    read little-endian;
  * a key's hash: the first 4 bytes of MD5(key), little-endian;
  * a key goes to the first point >= its hash, else to the first point.

Before writing anything the script replays libketama's own regression test
(libketama/test.sh: ketama_test over ketama.servers, keys "0".."999999",
lines "<hash> <point> <server>", MD5 of the whole output must be
5672b131391f5aa2b280936aec1eea74) and stops if that does not match. The C
test replays the first KT_LINES lines of the same output.

Run from the repository root:  python3 tests/gen_ketama_vectors.py
Options: --check-uhashring  compare with python3-uhashring's ketama ring
(reports; its point counts use exact integer arithmetic and it takes the
first point > hash, so it can differ) and write nothing.
"""
import bisect
import hashlib
import math
import struct
import sys

LIBKETAMA_TEST_MD5 = "5672b131391f5aa2b280936aec1eea74"
KT_LINES = 100000


def f32(x):
    """Round a Python float (a double) to the nearest float32."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def le32(d, i):
    return struct.unpack_from("<I", d, i)[0]


def key_hash(key):
    return le32(hashlib.md5(key.encode()).digest(), 0)


def continuum(servers):
    """servers: [(name, weight)] -> (sorted [(point, server index)], counts)."""
    total = sum(w for _, w in servers)
    n = len(servers)
    pts, counts = [], []
    for si, (name, w) in enumerate(servers):
        pct = f32(f32(w) / f32(total))
        ks = math.floor(f32(pct * 40.0 * f32(n)))
        counts.append(4 * ks)
        for k in range(ks):
            d = hashlib.md5(f"{name}-{k}".encode()).digest()
            for h in range(4):
                # (point, server, k, h): equal points keep server order, as
                # a stable qsort over libketama's array would.
                pts.append((le32(d, 4 * h), si, k, h))
    pts.sort()
    return [(p[0], p[1]) for p in pts], counts


def lookup(cont, h):
    i = bisect.bisect_left(cont, (h, -1))
    return cont[0] if i == len(cont) else cont[i]


KETAMA_SERVERS = [("10.0.1.1:11211", 600), ("10.0.1.2:11211", 300), ("10.0.1.3:11211", 200),
                  ("10.0.1.4:11211", 350), ("10.0.1.5:11211", 1000), ("10.0.1.6:11211", 800),
                  ("10.0.1.7:11211", 950), ("10.0.1.8:11211", 100)]


def libketama_test_output(cont, lines):
    m = hashlib.md5(b"\n")  # ketama_test prints ketama_error() (empty) first
    names = [s for s, _ in KETAMA_SERVERS]
    for i in range(lines):
        k = str(i)
        h = key_hash(k)
        p, s = lookup(cont, h)
        m.update(f"{h} {p} {names[s]}\n".encode())
    return m.hexdigest()


SETS = [
    ("libketama's ketama.servers", KETAMA_SERVERS),
    ("3 equal", [(f"cache-{c}:11211", 1) for c in "abc"]),
    ("10 equal", [(f"10.0.0.{i}:11211", 1) for i in range(1, 11)]),
    ("25 equal (twemproxy/libmemcached: 156 points each)", [(f"10.2.0.{i}:11211", 1) for i in range(1, 26)]),
    ("61 equal (libketama: 156 points each)", [(f"10.1.0.{i}:11211", 1) for i in range(1, 62)]),
    ("10 weighted, one of 16", [(f"node{i}.example.com:11211", 16 if i == 9 else 1) for i in range(10)]),
]


def find_tie():
    """Two server names whose continua share a point (a 32-bit birthday
    collision, found in a few hundred names), to pin down tie order."""
    seen = {}
    for i in range(100000):
        name = f"tie{i}:11211"
        for k in range(40):
            d = hashlib.md5(f"{name}-{k}".encode()).digest()
            for h in range(4):
                p = le32(d, 4 * h)
                if p in seen and seen[p] != name:
                    return seen[p], name, p
                seen[p] = name
    raise SystemExit("no tie found")


TIE_A, TIE_B, TIE_POINT = find_tie()
SETS.append((f"2 sharing point {TIE_POINT}", [(TIE_A, 1), (TIE_B, 1)]))


def keys_for(cont, si):
    """40 plain keys, then up to 3 that wrap past the last point and up to
    2 that fall at or below the first (found by search). Returns the keys
    and how many of them (all) wrap and fall low."""
    keys = [f"key:{si}:{i}" for i in range(20)] + [str(i * 7919 + si) for i in range(20)]
    wrap, low, i = [], [], 0
    while (len(wrap) < 3 or len(low) < 2) and i < 400000:
        k = f"edge{si}-{i}"
        h = key_hash(k)
        if h > cont[-1][0] and len(wrap) < 3:
            wrap.append(k)
        elif h <= cont[0][0] and len(low) < 2:
            low.append(k)
        i += 1
    keys += wrap + low
    if any(s == TIE_A for s, _ in SETS[si][1]):  # keys landing on the tied point
        prev = max(p for p, _ in cont if p < TIE_POINT)
        i, tied = 0, []
        while len(tied) < 3:
            k = f"tiekey-{i}"
            if prev < key_hash(k) <= TIE_POINT:
                tied.append(k)
            i += 1
        keys += tied
    hs = [key_hash(k) for k in keys]
    return keys, sum(h > cont[-1][0] for h in hs), sum(h <= cont[0][0] for h in hs)


def check_uhashring():
    from uhashring import HashRing
    for label, servers in SETS:
        cont, counts = continuum(servers)
        ring = HashRing(nodes={s: {"weight": w} for s, w in servers}, hash_fn="ketama")
        dist = ring.distribution
        cdiff = sum(1 for (s, _), c in zip(servers, counts) if dist[s] != c)
        keys = [f"u{i}" for i in range(20000)]
        kdiff = sum(1 for k in keys if ring.get_node(k) != servers[lookup(cont, key_hash(k))[1]][0])
        print(f"uhashring vs libketama, {label}: {cdiff} of {len(servers)} point counts differ, "
              f"{kdiff} of {len(keys)} keys differ")


def c_str(s):
    assert all(" " <= c <= "~" for c in s)
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    if "--check-uhashring" in sys.argv:
        check_uhashring()
        return
    cont, counts = continuum(KETAMA_SERVERS)
    got = libketama_test_output(cont, 1000000)
    if got != LIBKETAMA_TEST_MD5:
        sys.exit(f"libketama's test.sh digest mismatch: {got} != {LIBKETAMA_TEST_MD5}")
    prefix = libketama_test_output(cont, KT_LINES)

    out = ["/* tests/ketama_vectors.h - generated by tests/gen_ketama_vectors.py from",
           " * libketama's published algorithm (independently of ds.h); do not edit.",
           f" * The script first reproduced libketama's own test digest {LIBKETAMA_TEST_MD5}. */",
           "#ifndef DS_TESTS_KETAMA_VECTORS_H", "#define DS_TESTS_KETAMA_VECTORS_H", ""]
    out.append("/* MD5 of the bytes (i * 7 + 3) & 255, i < len, for len = 0..130 (every")
    out.append(" * padding boundary). */")
    out.append("static const char *const kv_md5_pattern[131] = {")
    for n in range(131):
        out.append(f'    "{hashlib.md5(bytes((i * 7 + 3) & 255 for i in range(n))).hexdigest()}",')
    out.append("};")
    out.append("")
    out.append(f"/* libketama's ketama_test over ketama.servers (set 0): MD5 of its first")
    out.append(f" * KT_LINES output lines, counting the empty error line. */")
    out.append(f"#define KT_LINES {KT_LINES}")
    out.append(f'static const char kv_ketama_test_prefix_md5[] = "{prefix}";')
    out.append("")
    servers, weights, points, sets, keyrows = [], [], [], [], []
    for si, (label, sv) in enumerate(SETS):
        c, cnt = continuum(sv)
        keys, nwrap, nlow = keys_for(c, si)
        sets.append((label, len(servers), len(sv), len(keyrows), len(keys), nwrap, nlow))
        for (name, w), n in zip(sv, cnt):
            servers.append(name)
            weights.append(w)
            points.append(n)
        for k in keys:
            keyrows.append((k, lookup(c, key_hash(k))[1]))
    out.append("static const char *const kv_servers[] = {")
    out += [f"    {c_str(s)}," for s in servers]
    out.append("};")
    out.append("static const unsigned kv_weights[] = {" + ", ".join(map(str, weights)) + "};")
    out.append("/* each server's point count, libketama's formula */")
    out.append("static const unsigned kv_points[] = {" + ", ".join(map(str, points)) + "};")
    out.append("typedef struct kv_set {")
    out.append("    const char *label;")
    out.append("    unsigned first, n;         /* servers: kv_servers[first .. first + n) */")
    out.append("    unsigned key_first, nkeys; /* kv_keys[key_first ..] */")
    out.append("    unsigned nwrap, nlow;      /* of those keys: past the last point, at or below the first */")
    out.append("} kv_set;")
    out.append(f"/* set {len(SETS) - 1}: its two servers share this point; the first added owns it */")
    out.append(f"#define KV_TIE_SET {len(SETS) - 1}")
    out.append(f"#define KV_TIE_POINT {TIE_POINT}u")
    out.append("static const kv_set kv_sets[] = {")
    for s in sets:
        out.append(f"    {{{c_str(s[0])}, "
                   + ", ".join(map(str, s[1:])) + "},")
    out.append("};")
    out.append("/* key -> index of its server within its set */")
    out.append("static const struct { const char *key; unsigned server; } kv_keys[] = {")
    out += [f"    {{{c_str(k)}, {s}}}," for k, s in keyrows]
    out.append("};")
    out.append("")
    out.append("#endif")
    with open("tests/ketama_vectors.h", "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"tests/ketama_vectors.h: {len(sets)} sets, {len(servers)} servers, {len(keyrows)} keys")


if __name__ == "__main__":
    main()
