/* bench/cache_hitrates.c - hit rates of DS_LRU's two policies on real cache
 * traces (shared/data/cache-traces, described in shared/data/README.md
 * section 4), with the plain LRU checked against the README's exact counts.
 *
 * Each trace is read through its decompressor (gzip -dc, zstd -dc, xz -dc
 * via popen) into an array of uint64 keys:
 *   lirs/NAME.trace.gz   text, one block number per line; lines that are
 *                        not numbers ("*" checkpoints, the empty line in
 *                        gli) are skipped; CRLF is accepted
 *   arc/NAME.lis.zst     text "start count ignored req": count consecutive
 *                        keys start .. start+count-1
 *   cache2k/NAME.trace.xz raw big-endian int32 keys (negative ones kept as
 *                        their 32-bit pattern)
 * and replayed at each capacity the README lists (entries), from an empty
 * cache: for every request, get; on a miss, put. Both policies of
 * DS_LRU(u64 -> uint8): DS_CACHE_LRU and DS_CACHE_WTINYLFU (fixed seed,
 * so the W-TinyLFU numbers repeat run to run; its sketch hashes with the
 * seed, so another seed moves them slightly).
 *
 * Prints a markdown table: trace, requests, capacity, LRU hit %, W-TinyLFU
 * hit %, the difference in percentage points, LRU hits and the README's
 * reference count, and OK / MISMATCH. Then two rows beside published
 * figures of Caffeine's simulator (gli at 750 entries, OLTP at 1000). Exit
 * status 1 if any LRU count differs from the README, 2 if a trace cannot be
 * read.
 *
 *   cache_hitrates [--data DIR] [--trace NAME]... [--seed S] [--quick]
 *     --data DIR    the folder holding cache-traces/ (default $DS_DATA if
 *                   set, else ../shared/data, the repository's sibling, tried
 *                   relative to the current folder, then to the repository
 *                   root found from argv[0])
 *     --trace NAME  only traces whose name contains NAME (repeatable)
 *     --seed S      W-TinyLFU seed (default 42)
 *     --quick       the small lirs traces only (no arc, no cache2k)
 */
#define _POSIX_C_SOURCE 200809L /* popen, pclose */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DS_LRU(hcache, uint64_t, uint8_t, ds_hash_u64, ds_eq_u64)

enum { F_LIRS, F_ARC, F_CACHE2K };

typedef struct spec {
    const char *file; /* under cache-traces/ */
    int fmt;
    int ncap;
    size_t cap[5];
    uint64_t ref[5]; /* exact LRU hits, shared/data/README.md section 4 */
} spec;

#define LIRS_CAPS 5, {100, 200, 500, 1000, 2000}
#define C2K_CAPS 5, {500, 1000, 2000, 5000, 10000}
#define ARCP_CAPS 4, {1024, 4096, 32768, 131072}
static const spec specs[] = {
    {"lirs/2_pools.trace.gz", F_LIRS, LIRS_CAPS, {21946, 36794, 51062, 54415, 59326}},
    {"lirs/backf.trace.gz", F_LIRS, LIRS_CAPS, {1100, 2200, 5500, 8249, 8249}},
    {"lirs/cpp.trace.gz", F_LIRS, LIRS_CAPS, {6307, 7433, 7670, 7817, 7824}},
    {"lirs/cs.trace.gz", F_LIRS, LIRS_CAPS, {124, 124, 124, 124, 5372}},
    {"lirs/gli.trace.gz", F_LIRS, LIRS_CAPS, {55, 55, 57, 674, 3453}},
    {"lirs/loop.trace.gz", F_LIRS, LIRS_CAPS, {0, 0, 0, 0, 504489}},
    {"lirs/multi1.trace.gz", F_LIRS, LIRS_CAPS, {2881, 6458, 7375, 7648, 13196}},
    {"lirs/multi2.trace.gz", F_LIRS, LIRS_CAPS, {1772, 4659, 9466, 12577, 12892}},
    {"lirs/multi3.trace.gz", F_LIRS, LIRS_CAPS, {1978, 4459, 9875, 11401, 13485}},
    {"lirs/ps.trace.gz", F_LIRS, LIRS_CAPS, {770, 1274, 5072, 5072, 7364}},
    {"lirs/scan.trace.gz", F_LIRS, LIRS_CAPS, {0, 0, 0, 0, 0}},
    {"lirs/sprite.trace.gz", F_LIRS, LIRS_CAPS, {28917, 53435, 104922, 121452, 125255}},
    {"lirs/zigzag.trace.gz", F_LIRS, LIRS_CAPS, {2475, 4975, 12475, 24975, 49975}},
    {"cache2k/web07.trace.xz", F_CACHE2K, C2K_CAPS, {34693, 38368, 42245, 47702, 52519}},
    {"cache2k/web12.trace.xz", F_CACHE2K, C2K_CAPS, {53329, 61882, 69371, 77153, 81091}},
    {"cache2k/orm-night.trace.xz", F_CACHE2K, C2K_CAPS, {3047708, 3365780, 3488287, 4392413, 4702964}},
    {"cache2k/orm-busy.trace.xz", F_CACHE2K, C2K_CAPS, {3464206, 3938943, 4069541, 4273062, 4474313}},
    {"arc/OLTP.lis.zst", F_ARC, 5, {1000, 2000, 5000, 10000, 15000}, {300122, 388235, 490443, 554906, 590851}},
    {"arc/P2.lis.zst", F_ARC, ARCP_CAPS, {329931, 443721, 2350757, 6554444}},
    {"arc/P3.lis.zst", F_ARC, ARCP_CAPS, {41051, 51596, 139485, 1752194}},
    {"arc/P6.lis.zst", F_ARC, ARCP_CAPS, {89738, 138584, 537345, 9653237}},
    {"arc/P12.lis.zst", F_ARC, ARCP_CAPS, {539564, 741237, 1179069, 3859015}},
};
#define NSPECS (sizeof specs / sizeof specs[0])

/* Published figures of Caffeine's simulator (approximate hit rates, %). */
typedef struct published {
    const char *file;
    int fmt;
    size_t cap;
    double lru, wtinylfu;
} published;
static const published pubs[] = {
    {"lirs/gli.trace.gz", F_LIRS, 750, 1.0, 43.5},
    {"arc/OLTP.lis.zst", F_ARC, 1000, 32.8, 39.5},
};
#define NPUBS (sizeof pubs / sizeof pubs[0])

/* ---- reading traces ------------------------------------------------------ */

typedef struct keys {
    uint64_t *k;
    size_t n, cap;
} keys;

static int keys_push(keys *t, uint64_t k) {
    if (t->n == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : (size_t)1 << 16;
        uint64_t *p = (uint64_t *)realloc(t->k, nc * sizeof *p);
        if (!p) return 0;
        t->k = p;
        t->cap = nc;
    }
    t->k[t->n++] = k;
    return 1;
}

/* Parses a decimal unsigned number at *s, advancing past it; 0 if none. */
static int parse_u64(const char **s, uint64_t *out) {
    const char *p = *s;
    uint64_t v = 0;
    while (*p == ' ' || *p == '\t') p++;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') {
        if (v > (UINT64_MAX - 9) / 10) return 0;
        v = v * 10 + (uint64_t)(*p++ - '0');
    }
    *s = p;
    *out = v;
    return 1;
}
static int only_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return *p == '\0';
}

/* Loads dir/cache-traces/file into t; returns 0 (with a message) on error. */
static int load_trace(const char *dir, const char *file, int fmt, keys *t) {
    char cmd[4200], line[512];
    FILE *f;
    int st, ok = 1;
    const char *tool = fmt == F_LIRS ? "gzip" : fmt == F_ARC ? "zstd" : "xz";
    t->n = 0;
    if (strchr(dir, '\'') || strchr(file, '\'')) {
        fprintf(stderr, "cache_hitrates: quote in path %s/%s\n", dir, file);
        return 0;
    }
    snprintf(cmd, sizeof cmd, "%s -dc '%s/cache-traces/%s'", tool, dir, file);
    if (!(f = popen(cmd, "r"))) {
        fprintf(stderr, "cache_hitrates: cannot run: %s\n", cmd);
        return 0;
    }
    if (fmt == F_CACHE2K) {
        unsigned char b[4];
        size_t got;
        while (ok && (got = fread(b, 1, 4, f)) == 4)
            ok = keys_push(t, (uint64_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]));
        if (ok && got != 0) {
            fprintf(stderr, "cache_hitrates: %s: trailing %zu bytes\n", file, got);
            ok = 0;
        }
    } else {
        while (ok && fgets(line, sizeof line, f)) {
            const char *p = line;
            uint64_t a, cnt = 1, j;
            if (!parse_u64(&p, &a)) continue; /* "*", empty lines */
            if (fmt == F_ARC) {
                uint64_t ign, req;
                if (!parse_u64(&p, &cnt) || !parse_u64(&p, &ign) || !parse_u64(&p, &req) || !only_space(p)) {
                    fprintf(stderr, "cache_hitrates: %s: bad line: %s", file, line);
                    ok = 0;
                    break;
                }
            } else if (!only_space(p)) {
                continue; /* not a number */
            }
            for (j = 0; ok && j < cnt; j++) ok = keys_push(t, a + j);
        }
    }
    st = pclose(f);
    if (st != 0) {
        fprintf(stderr, "cache_hitrates: '%s' failed (status %d)\n", cmd, st);
        ok = 0;
    }
    if (ok && t->n == 0) {
        fprintf(stderr, "cache_hitrates: %s: no requests\n", file);
        ok = 0;
    }
    return ok;
}

/* ---- replay -------------------------------------------------------------- */

/* Hits of a read-through replay (get; on a miss put) at capacity cap. The
 * count is kept here and checked against the cache's own stats. */
static double g_ns[2], g_reqs[2]; /* replay time and requests per policy */

static uint64_t replay(const keys *t, size_t cap, ds_cache_policy pol, uint64_t seed) {
    int64_t t0 = ds_now_ns();
    hcache c;
    hcache_config cfg;
    ds_cache_stats s;
    uint64_t hits = 0;
    size_t i;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = cap;
    cfg.policy = pol;
    cfg.seed = seed;
    if (hcache_init(&c, &cfg) != DS_OK) {
        fprintf(stderr, "cache_hitrates: hcache_init(%zu) failed\n", cap);
        exit(2);
    }
    for (i = 0; i < t->n; i++) {
        if (hcache_get(&c, t->k[i], 0)) hits++;
        else if (hcache_put(&c, t->k[i], 1, 0) != DS_OK) {
            fprintf(stderr, "cache_hitrates: hcache_put failed\n");
            exit(2);
        }
    }
    s = hcache_stats(&c);
    if (s.hits != hits || s.hits + s.misses != t->n || hcache_len(&c) > cap) {
        fprintf(stderr, "cache_hitrates: stats disagree: counted %" PRIu64 " hits, stats %" PRIu64 " + %" PRIu64
                        ", len %zu, capacity %zu\n",
                hits, s.hits, s.misses, hcache_len(&c), cap);
        exit(2);
    }
    hcache_free(&c);
    g_ns[pol == DS_CACHE_WTINYLFU] += (double)(ds_now_ns() - t0);
    g_reqs[pol == DS_CACHE_WTINYLFU] += (double)t->n;
    return hits;
}

static const char *basename_of(const char *file, char *buf, size_t cap) {
    const char *b = strrchr(file, '/');
    size_t n;
    b = b ? b + 1 : file;
    n = strcspn(b, ".");
    if (n >= cap) n = cap - 1;
    memcpy(buf, b, n);
    buf[n] = '\0';
    return buf;
}

static int dir_has_traces(const char *dir) {
    char path[4200];
    FILE *f;
    snprintf(path, sizeof path, "%s/cache-traces/lirs/gli.trace.gz", dir);
    if (!(f = fopen(path, "rb"))) return 0;
    fclose(f);
    return 1;
}

static void usage(void) {
    fprintf(stderr, "usage: cache_hitrates [--data DIR] [--trace NAME]... [--seed S] [--quick]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *data = NULL, *only[64];
    char guess[4096], name[64];
    int nonly = 0, quick = 0, i, mismatches = 0, rows = 0;
    uint64_t seed = 42;
    size_t si, pi;
    keys t = {NULL, 0, 0};
    int64_t t_start = ds_now_ns();

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--trace") && i + 1 < argc && nonly < 64) only[nonly++] = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else usage();
    }
    if (!data) data = getenv("DS_DATA");
    if (!data) {
        /* ../shared/data from the repository root: the current folder when
         * run as bench/bin/cache_hitrates from there, else argv[0]/../../.. */
        data = "../shared/data";
        if (!dir_has_traces(data)) {
            const char *slash = strrchr(argv[0], '/');
            if (slash && (size_t)(slash - argv[0]) + 32 < sizeof guess) {
                snprintf(guess, sizeof guess, "%.*s/../../../shared/data", (int)(slash - argv[0]), argv[0]);
                if (dir_has_traces(guess)) data = guess;
            }
        }
    }
    if (!dir_has_traces(data)) {
        fprintf(stderr, "cache_hitrates: no traces under %s/cache-traces (use --data DIR)\n", data);
        return 2;
    }

    printf("cache_hitrates: traces from %s/cache-traces; read-through replay (get, on a miss put), empty cache,\n"
           "capacity in entries; W-TinyLFU seed %" PRIu64 "%s\n\n",
           data, seed, quick ? "; --quick: lirs traces only" : "");
    printf("| trace | requests | capacity | LRU hit %% | W-TinyLFU hit %% | W-TinyLFU - LRU | LRU hits | README LRU hits "
           "| check |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    fflush(stdout);
    for (si = 0; si < NSPECS; si++) {
        const spec *sp = &specs[si];
        int c, want = nonly == 0;
        for (c = 0; c < nonly; c++)
            if (strstr(sp->file, only[c])) want = 1;
        if (!want || (quick && sp->fmt != F_LIRS)) continue;
        if (!load_trace(data, sp->file, sp->fmt, &t)) return 2;
        basename_of(sp->file, name, sizeof name);
        for (c = 0; c < sp->ncap; c++) {
            uint64_t lru = replay(&t, sp->cap[c], DS_CACHE_LRU, seed);
            uint64_t tl = replay(&t, sp->cap[c], DS_CACHE_WTINYLFU, seed);
            double pl = 100.0 * (double)lru / (double)t.n, pt = 100.0 * (double)tl / (double)t.n;
            int ok = lru == sp->ref[c];
            mismatches += !ok;
            rows++;
            printf("| %s | %zu | %zu | %.2f | %.2f | %+.2f | %" PRIu64 " | %" PRIu64 " | %s |\n", name, t.n, sp->cap[c],
                   pl, pt, pt - pl, lru, sp->ref[c], ok ? "OK" : "MISMATCH");
            fflush(stdout);
        }
    }

    printf("\nBeside published figures (Caffeine's simulator; approximate):\n\n");
    printf("| trace | requests | capacity | LRU hit %% | published LRU %% | W-TinyLFU hit %% | published W-TinyLFU "
           "%% |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (pi = 0; pi < NPUBS; pi++) {
        const published *p = &pubs[pi];
        int c, want = nonly == 0;
        uint64_t lru, tl;
        for (c = 0; c < nonly; c++)
            if (strstr(p->file, only[c])) want = 1;
        if (!want || (quick && p->fmt != F_LIRS)) continue;
        if (!load_trace(data, p->file, p->fmt, &t)) return 2;
        lru = replay(&t, p->cap, DS_CACHE_LRU, seed);
        tl = replay(&t, p->cap, DS_CACHE_WTINYLFU, seed);
        printf("| %s | %zu | %zu | %.2f | ~%.1f | %.2f | ~%.1f |\n", basename_of(p->file, name, sizeof name), t.n,
               p->cap, 100.0 * (double)lru / (double)t.n, p->lru, 100.0 * (double)tl / (double)t.n, p->wtinylfu);
        fflush(stdout);
    }

    printf("\nLRU against the README's exact counts: %d of %d rows %s\n", rows - mismatches, rows,
           mismatches ? "match - MISMATCH" : "match - OK");
    if (g_reqs[0] > 0 && g_reqs[1] > 0)
        printf("replay speed over all rows: LRU %.1f ns/request, W-TinyLFU %.1f ns/request (get + put on a miss);\n",
               g_ns[0] / g_reqs[0], g_ns[1] / g_reqs[1]);
    printf("%.1f s in all, reading the traces included\n", (double)(ds_now_ns() - t_start) / 1e9);
    free(t.k);
    return mismatches ? 1 : 0;
}
