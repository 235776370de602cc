/* bench/bench_trie.c - ds_trie (a radix tree over byte strings) beside
 * JudySL (Debian libjudy-dev) and a sorted array of strings + binary search.
 *
 * Key sets, each inserted in its own order (the value is the key's index + 1):
 *   words   /usr/share/dict/american-english (--words FILE), one key a line,
 *           in file order (~104k words, some UTF-8; duplicates dropped)
 *   binary  N random keys (default 1M) of 8..24 bytes, every byte uniform
 *           in 0..255 and every other key with one more NUL at a random
 *           place (so about 53% of keys hold a NUL); duplicates redrawn.
 *           JudySL takes NUL-terminated strings, so it runs on the words
 *           only, never on these.
 * Contenders:
 *   ds      ds_trie_put / ds_trie_get / ds_trie_walk / ds_trie_complete
 *   JudySL  JudySLIns / JudySLGet / JudySLFirst + JudySLNext (words only)
 *   sorted  one arena of records [len byte][key bytes][8-byte value] and a
 *           sorted array of pointers to them (memcmp order, shorter first
 *           on a tie); qsort to build, binary search to get, lower_bound +
 *           scan for prefixes
 *   scan    (prefix queries only) a linear scan of the word list in file
 *           order, memcmp of the prefix: the seed's trie lab baseline
 * Phases, per key set:
 *   build   insert every key into an empty structure      ns per key
 *   get     look up every key, in a shuffled order (all hits)  ns per get
 *   bytes   per key: ds_trie_memory / ds_trie_len (also checked against
 *           a counting ds_alloc); JudySL: what JudySLFreeArray reports it
 *           freed (JudySL has no MemUsed: FreeArray sums every JudyL array
 *           and shortcut leaf); sorted: arena + pointers. And "malloc'd":
 *           glibc's in-use bytes (mallinfo2 uordblks) the build added,
 *           which includes malloc's per-block overhead (the same allocator
 *           for all three)
 *   prefix  (words) every key with prefix p, for 1000 random prefixes of 2
 *           or 3 letters (the first letters of a uniformly drawn word whose
 *           first three bytes are ASCII letters): ds_trie_walk vs JudySL
 *           First/Next vs sorted (lower_bound + scan) vs scan. ns per query
 *           and per key reported
 *   complete (words) the 10 highest-scored keys under each of the same
 *           prefixes. Scores are Zipf-like popularity: the words in a random
 *           order get 1e9 / rank (rank 1, 2, ...; all distinct). ds_trie_
 *           complete(prefix, 10) beside the sorted array (lower_bound, scan
 *           every match, keep the top 10), twice for ds: searching, then
 *           after ds_trie_complete_index(t, 10, 32) (top-10 lists at every
 *           subtree of >= 32 keys; its build time and bytes reported, the
 *           answers must match the search's). Mean ns per call, and the
 *           p50 / p99 / max of single ds calls (one extra pass, each call
 *           timed on its own; the clock read adds ~20 ns)
 * Reps are interleaved across contenders (each rep builds every structure
 * afresh and runs every phase), after untimed warm-up rounds; the median rep
 * is reported. Ratios are peer/ds time: > 1 means ds is faster. Answers must
 * agree (get sums; prefix counts, value sums and, for the ordered ones, the
 * order; the complete lists key by key), across contenders and reps: exit
 * status 1 otherwise.
 *
 *   bench_trie [--words FILE] [--n N] [--prefixes P] [--k K] [--index-min M]
 *              [--reps R] [--warmup W] [--seed S] [--fresh-mem] [--verbose] [--quick]
 *     --words FILE  word list (default /usr/share/dict/american-english)
 *     --n N         binary keys (default 1000000)
 *     --prefixes P  prefix queries (default 1000)
 *     --k K         completions per query (default 10)
 *     --index-min M ds_trie_complete_index's min_keys (default 32)
 *     --reps R      reps, median reported (default 5; env BENCH_REPS)
 *     --warmup W    untimed rounds first (default 1)
 *     --fresh-mem   give freed memory back to the OS between reps (glibc's
 *                   default); without it the bench keeps it (mallopt)
 *     --verbose     print every rep
 *     --quick       smoke run: N = 100000, 200 prefixes, 1 rep, no warm-up
 */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "bench.h"

#include <Judy.h>

#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define FNV_INIT 0xcbf29ce484222325ull
#define FNV_MUL 0x100000001b3ull
#define MAXK 64

static int g_verbose;
static int g_failed;

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench_trie: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static void check_ok(ds_status s, const char *what) {
    if (s != DS_OK) {
        fprintf(stderr, "bench_trie: %s: %s\n", what, ds_strerror(s));
        exit(1);
    }
}

static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mismatch(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("  MISMATCH: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    g_failed = 1;
}

static size_t heap_in_use(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* ---- key sets ------------------------------------------------------------- */

typedef struct keyset {
    const char *name;
    size_t n;
    uint8_t *arena;       /* each key's bytes, then a NUL (JudySL's Index) */
    const uint8_t **k;    /* key i, in insertion (file / generation) order */
    uint32_t *len;
    size_t *order;        /* the shuffled get order */
    int cstrings;         /* no key holds a NUL: JudySL can run */
    /* words only: prefixes and scores */
    size_t np;
    uint8_t (*pre)[4];
    uint32_t *plen;
    double *score;        /* score of key i */
} keyset;

static int cmp_bytes(const uint8_t *a, size_t la, const uint8_t *b, size_t lb) {
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb;
}

static const keyset *g_sort_ks; /* for qsort's comparator */
static int cmp_idx(const void *x, const void *y) {
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return cmp_bytes(g_sort_ks->k[a], g_sort_ks->len[a], g_sort_ks->k[b], g_sort_ks->len[b]);
}

static void shuffle(size_t *a, size_t n, ds_rng *r) {
    size_t i;
    for (i = n; i > 1; i--) {
        size_t j = (size_t)ds_rng_below(r, i), t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

static void finish_keyset(keyset *ks, ds_rng *r) {
    size_t i;
    ks->order = (size_t *)xmalloc(ks->n * sizeof(size_t));
    for (i = 0; i < ks->n; i++) ks->order[i] = i;
    shuffle(ks->order, ks->n, r);
    ks->cstrings = 1;
    for (i = 0; i < ks->n && ks->cstrings; i++)
        if (memchr(ks->k[i], 0, ks->len[i])) ks->cstrings = 0;
}

static int is_alpha(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* The word list, in file order, duplicates and over-long lines dropped. */
static int load_words(keyset *ks, const char *path, size_t np, ds_rng *r) {
    FILE *f = fopen(path, "rb");
    long sz;
    size_t i, n = 0, at = 0, lines = 0, cand = 0, *idx, *cands;
    uint8_t *buf, *keep;
    memset(ks, 0, sizeof *ks);
    ks->name = "words";
    if (!f) return 0;
    if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return 0;
    }
    buf = (uint8_t *)xmalloc((size_t)sz + 1);
    if (fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        fclose(f);
        free(buf);
        return 0;
    }
    fclose(f);
    for (i = 0; i < (size_t)sz; i++) lines += buf[i] == '\n';
    lines++;
    ks->arena = buf; /* lines are NUL-terminated in place */
    ks->k = (const uint8_t **)xmalloc(lines * sizeof *ks->k);
    ks->len = (uint32_t *)xmalloc(lines * sizeof *ks->len);
    buf[sz] = '\n';
    for (i = 0; i <= (size_t)sz; i++)
        if (buf[i] == '\n') {
            size_t e = i;
            if (e > at && buf[e - 1] == '\r') e--;
            buf[e] = 0;
            if (e > at && e - at <= 255) {
                ks->k[n] = buf + at;
                ks->len[n++] = (uint32_t)(e - at);
            }
            at = i + 1;
        }
    /* drop duplicates (keep the first in file order) */
    idx = (size_t *)xmalloc(n * sizeof *idx);
    keep = (uint8_t *)xmalloc(n);
    for (i = 0; i < n; i++) {
        idx[i] = i;
        keep[i] = 1;
    }
    ks->n = n;
    g_sort_ks = ks;
    qsort(idx, n, sizeof *idx, cmp_idx);
    for (i = 1; i < n; i++)
        if (cmp_bytes(ks->k[idx[i - 1]], ks->len[idx[i - 1]], ks->k[idx[i]], ks->len[idx[i]]) == 0)
            keep[idx[i] > idx[i - 1] ? idx[i] : idx[i - 1]] = 0;
    for (i = 0, at = 0; i < n; i++)
        if (keep[i]) {
            ks->k[at] = ks->k[i];
            ks->len[at++] = ks->len[i];
        }
    ks->n = at;
    free(idx);
    free(keep);
    finish_keyset(ks, r);
    /* prefixes: 2 or 3 leading letters of uniformly drawn words */
    cands = (size_t *)xmalloc(ks->n * sizeof *cands);
    for (i = 0; i < ks->n; i++)
        if (ks->len[i] >= 3 && is_alpha(ks->k[i][0]) && is_alpha(ks->k[i][1]) && is_alpha(ks->k[i][2]))
            cands[cand++] = i;
    if (!cand) {
        free(cands);
        return 0;
    }
    ks->np = np;
    ks->pre = (uint8_t(*)[4])xmalloc(np * sizeof *ks->pre);
    ks->plen = (uint32_t *)xmalloc(np * sizeof *ks->plen);
    for (i = 0; i < np; i++) {
        size_t w = cands[ds_rng_below(r, cand)];
        ks->plen[i] = 2 + (uint32_t)ds_rng_below(r, 2);
        memcpy(ks->pre[i], ks->k[w], ks->plen[i]);
        ks->pre[i][ks->plen[i]] = 0;
    }
    free(cands);
    /* Zipf-like popularity: a random order of the words, score 1e9 / rank */
    {
        size_t *perm = (size_t *)xmalloc(ks->n * sizeof *perm);
        ks->score = (double *)xmalloc(ks->n * sizeof *ks->score);
        for (i = 0; i < ks->n; i++) perm[i] = i;
        shuffle(perm, ks->n, r);
        for (i = 0; i < ks->n; i++) ks->score[perm[i]] = 1e9 / (double)(i + 1);
        free(perm);
    }
    return 1;
}

/* n random binary keys, 8..24 bytes, every other one with an extra NUL. */
static void make_binary(keyset *ks, size_t n, ds_rng *r) {
    size_t i, total = 0, at = 0, *idx;
    int redo = 1;
    memset(ks, 0, sizeof *ks);
    ks->name = "binary";
    ks->n = n;
    ks->len = (uint32_t *)xmalloc(n * sizeof *ks->len);
    ks->k = (const uint8_t **)xmalloc(n * sizeof *ks->k);
    for (i = 0; i < n; i++) total += (ks->len[i] = 8 + (uint32_t)ds_rng_below(r, 17)) + 1;
    ks->arena = (uint8_t *)xmalloc(total);
    for (i = 0; i < n; i++) {
        ks->k[i] = ks->arena + at;
        at += ks->len[i] + 1;
    }
    idx = (size_t *)xmalloc(n * sizeof *idx);
    for (i = 0; i < n; i++) idx[i] = i;
    while (redo) { /* fill (or refill the duplicates), then check */
        size_t j;
        for (j = 0; j < n; j++) {
            uint8_t *p = (uint8_t *)(uintptr_t)ks->k[idx[j]];
            size_t b;
            if (redo == 1 || p[ks->len[idx[j]]] == 1) {
                for (b = 0; b < ks->len[idx[j]]; b++) p[b] = (uint8_t)ds_rng_next(r);
                if (idx[j] % 2) p[ds_rng_below(r, ks->len[idx[j]])] = 0;
                p[ks->len[idx[j]]] = 0;
            }
        }
        g_sort_ks = ks;
        qsort(idx, n, sizeof *idx, cmp_idx);
        redo = 0;
        for (j = 1; j < n; j++)
            if (cmp_bytes(ks->k[idx[j - 1]], ks->len[idx[j - 1]], ks->k[idx[j]], ks->len[idx[j]]) == 0) {
                ((uint8_t *)(uintptr_t)ks->k[idx[j]])[ks->len[idx[j]]] = 1; /* mark: redraw */
                redo = 2;
            }
    }
    free(idx);
    finish_keyset(ks, r);
}

static void free_keyset(keyset *ks) {
    free(ks->arena);
    free((void *)ks->k);
    free(ks->len);
    free(ks->order);
    free(ks->pre);
    free(ks->plen);
    free(ks->score);
}

/* ---- the sorted array ------------------------------------------------------ */

typedef struct sorted {
    uint8_t *arena;      /* records: [len][bytes][value: 8 bytes, unaligned] */
    const uint8_t **rec; /* sorted */
    size_t n, arena_bytes;
} sorted;

static int cmp_rec(const void *x, const void *y) {
    const uint8_t *a = *(const uint8_t *const *)x, *b = *(const uint8_t *const *)y;
    return cmp_bytes(a + 1, a[0], b + 1, b[0]);
}

static NOINLINE void sorted_build(sorted *s, const keyset *ks) {
    size_t i, at = 0;
    s->n = ks->n;
    s->arena_bytes = 0;
    for (i = 0; i < ks->n; i++) s->arena_bytes += 1 + ks->len[i] + 8;
    s->arena = (uint8_t *)xmalloc(s->arena_bytes);
    s->rec = (const uint8_t **)xmalloc(ks->n * sizeof *s->rec);
    for (i = 0; i < ks->n; i++) {
        uint64_t v = i + 1;
        s->rec[i] = s->arena + at;
        s->arena[at] = (uint8_t)ks->len[i];
        memcpy(s->arena + at + 1, ks->k[i], ks->len[i]);
        memcpy(s->arena + at + 1 + ks->len[i], &v, 8);
        at += 1 + ks->len[i] + 8;
    }
    qsort(s->rec, s->n, sizeof *s->rec, cmp_rec);
}
static void sorted_free(sorted *s) {
    free(s->arena);
    free((void *)s->rec);
}
/* First record >= key. */
static inline size_t sorted_lower(const sorted *s, const uint8_t *k, size_t len) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uint8_t *r = s->rec[mid];
        if (cmp_bytes(r + 1, r[0], k, len) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}
static inline uint64_t rec_val(const uint8_t *r) {
    uint64_t v;
    memcpy(&v, r + 1 + r[0], 8);
    return v;
}
static inline const uint8_t *sorted_get(const sorted *s, const uint8_t *k, size_t len) {
    size_t i = sorted_lower(s, k, len);
    if (i < s->n && cmp_bytes(s->rec[i] + 1, s->rec[i][0], k, len) == 0) return s->rec[i];
    return NULL;
}

/* ---- phases ------------------------------------------------------------------ */

static NOINLINE void ds_build(ds_trie *t, const keyset *ks) {
    size_t i;
    for (i = 0; i < ks->n; i++)
        check_ok(ds_trie_put(t, ks->k[i], ks->len[i], (void *)(uintptr_t)(i + 1), NULL), "ds_trie_put");
}
static NOINLINE Pvoid_t judy_build(const keyset *ks) {
    Pvoid_t j = NULL;
    size_t i;
    for (i = 0; i < ks->n; i++) {
        PWord_t pv = (PWord_t)JudySLIns(&j, ks->k[i], NULL);
        if (pv == (PWord_t)PJERR) {
            fprintf(stderr, "bench_trie: JudySLIns failed\n");
            exit(1);
        }
        *pv = i + 1;
    }
    return j;
}

static NOINLINE uint64_t ds_gets(const ds_trie *t, const keyset *ks) {
    uint64_t s = 0;
    size_t i;
    for (i = 0; i < ks->n; i++) {
        size_t x = ks->order[i];
        void **v = ds_trie_get(t, ks->k[x], ks->len[x]);
        if (v) s += (uintptr_t)*v;
    }
    return s;
}
static NOINLINE uint64_t judy_gets(Pcvoid_t j, const keyset *ks) {
    uint64_t s = 0;
    size_t i;
    for (i = 0; i < ks->n; i++) {
        PWord_t pv = (PWord_t)JudySLGet(j, ks->k[ks->order[i]], NULL);
        if (pv) s += *pv;
    }
    return s;
}
static NOINLINE uint64_t sorted_gets(const sorted *so, const keyset *ks) {
    uint64_t s = 0;
    size_t i;
    for (i = 0; i < ks->n; i++) {
        size_t x = ks->order[i];
        const uint8_t *r = sorted_get(so, ks->k[x], ks->len[x]);
        if (r) s += rec_val(r);
    }
    return s;
}

/* What a prefix query (or a complete) found: count, value sum, order hash. */
typedef struct found {
    uint64_t n, sum, hash;
} found;
static inline void found_add(found *f, uint64_t v) {
    f->n++;
    f->sum += v;
    f->hash = (f->hash ^ v) * FNV_MUL;
}
static int walk_cb(void *ctx, const void *key, size_t len, double score, void *val) {
    (void)key;
    (void)len;
    (void)score;
    found_add((found *)ctx, (uintptr_t)val);
    return 0;
}

static NOINLINE found ds_prefix(const ds_trie *t, const keyset *ks) {
    found f = {0, 0, FNV_INIT};
    size_t i;
    for (i = 0; i < ks->np; i++) ds_trie_walk(t, ks->pre[i], ks->plen[i], 0, walk_cb, &f);
    return f;
}
static NOINLINE found judy_prefix(Pcvoid_t j, const keyset *ks) {
    found f = {0, 0, FNV_INIT};
    uint8_t idx[260];
    size_t i;
    for (i = 0; i < ks->np; i++) {
        PWord_t pv;
        size_t pl = ks->plen[i];
        memcpy(idx, ks->pre[i], pl + 1);
        for (pv = (PWord_t)JudySLFirst(j, idx, NULL); pv && memcmp(idx, ks->pre[i], pl) == 0;
             pv = (PWord_t)JudySLNext(j, idx, NULL))
            found_add(&f, *pv);
    }
    return f;
}
static NOINLINE found sorted_prefix(const sorted *s, const keyset *ks) {
    found f = {0, 0, FNV_INIT};
    size_t i, r;
    for (i = 0; i < ks->np; i++) {
        const uint8_t *p = ks->pre[i];
        size_t pl = ks->plen[i];
        for (r = sorted_lower(s, p, pl); r < s->n && s->rec[r][0] >= pl && memcmp(s->rec[r] + 1, p, pl) == 0; r++)
            found_add(&f, rec_val(s->rec[r]));
    }
    return f;
}
static NOINLINE found scan_prefix(const keyset *ks) {
    found f = {0, 0, FNV_INIT};
    size_t i, w;
    for (i = 0; i < ks->np; i++) {
        const uint8_t *p = ks->pre[i];
        size_t pl = ks->plen[i];
        for (w = 0; w < ks->n; w++)
            if (ks->len[w] >= pl && memcmp(ks->k[w], p, pl) == 0) found_add(&f, w + 1);
    }
    return f;
}

static NOINLINE found ds_complete(const ds_trie *t, const keyset *ks, size_t k) {
    found f = {0, 0, FNV_INIT};
    size_t i;
    for (i = 0; i < ks->np; i++) ds_trie_complete(t, ks->pre[i], ks->plen[i], k, walk_cb, &f);
    return f;
}
/* The sorted array's complete: every match of the prefix, keeping the k
 * best (higher score first; equal scores in key order, which is scan order). */
static NOINLINE found sorted_complete(const sorted *s, const keyset *ks, size_t k) {
    found f = {0, 0, FNV_INIT};
    size_t i, r, m, j;
    double bs[MAXK];
    uint64_t bv[MAXK];
    for (i = 0; i < ks->np; i++) {
        const uint8_t *p = ks->pre[i];
        size_t pl = ks->plen[i];
        m = 0;
        for (r = sorted_lower(s, p, pl); r < s->n && s->rec[r][0] >= pl && memcmp(s->rec[r] + 1, p, pl) == 0; r++) {
            uint64_t v = rec_val(s->rec[r]);
            double sc = ks->score[v - 1];
            if (m == k && sc <= bs[m - 1]) continue;
            if (m < k) m++;
            for (j = m - 1; j > 0 && bs[j - 1] < sc; j--) {
                bs[j] = bs[j - 1];
                bv[j] = bv[j - 1];
            }
            bs[j] = sc;
            bv[j] = v;
        }
        for (j = 0; j < m; j++) found_add(&f, bv[j]);
    }
    return f;
}

/* ---- rounds ---------------------------------------------------------------------- */

enum { C_DS, C_JUDY, C_SORTED, C_SCAN, NCON };
static const char *const con_name[NCON] = {"ds", "JudySL", "sorted", "scan"};
enum { P_BUILD, P_GET, P_PREFIX, P_COMPLETE, P_INDEX, P_ICOMPLETE, NPH }; /* the last two: ds's index */
static size_t g_index_min = 32; /* ds_trie_complete_index's min_keys */

typedef struct result {
    bench_samples t[NCON][NPH];
    uint64_t get_sum[NCON];
    found pre[NCON], comp[NCON], icomp; /* icomp: ds through its complete index */
    double index_bytes;
    double bytes[NCON];   /* what the structure says it holds */
    double malloced[NCON]; /* glibc in-use bytes the build added */
    size_t ds_counted, ds_memory, ds_count;
    int have[NCON];
} result;

static void record_found(found *slot, found f, int first, const char *what, const char *who) {
    if (first) *slot = f;
    else if (f.n != slot->n || f.sum != slot->sum || f.hash != slot->hash)
        mismatch("%s %s: answers differ between reps", who, what);
}
static void record_sum(uint64_t *slot, uint64_t s, int first, const char *who) {
    if (first) *slot = s;
    else if (s != *slot) mismatch("%s get: answers differ between reps", who);
}

static void run_rep(const keyset *ks, int words, size_t k, result *res, int first) {
    int64_t t0;
    int c;
    for (c = 0; c < NCON; c++) {
        double tm[NPH] = {0};
        size_t before;
        if (c == C_JUDY && !ks->cstrings) continue;
        if (c == C_SCAN && !words) continue;
        if (c == C_DS) {
            bench_counter cnt;
            ds_alloc al;
            ds_trie t;
            uint64_t s;
            found f;
            size_t i;
            bench_counter_reset(&cnt);
            al = bench_ds_alloc(&cnt);
            before = heap_in_use();
            ds_trie_init(&t, &al);
            t0 = bench_now();
            ds_build(&t, ks);
            tm[P_BUILD] = (double)(bench_now() - t0);
            if (res) {
                res->malloced[c] = (double)(heap_in_use() - before);
                res->ds_counted = cnt.cur;
                res->ds_memory = ds_trie_memory(&t);
                res->ds_count = ds_trie_len(&t);
                res->bytes[c] = (double)res->ds_memory;
            }
            t0 = bench_now();
            s = ds_gets(&t, ks);
            tm[P_GET] = (double)(bench_now() - t0);
            if (res) record_sum(&res->get_sum[c], s, first, con_name[c]);
            if (words) {
                t0 = bench_now();
                f = ds_prefix(&t, ks);
                tm[P_PREFIX] = (double)(bench_now() - t0);
                if (res) record_found(&res->pre[c], f, first, "prefix", con_name[c]);
                for (i = 0; i < ks->n; i++) check_ok(ds_trie_set_score(&t, ks->k[i], ks->len[i], ks->score[i]), "set_score");
                t0 = bench_now();
                f = ds_complete(&t, ks, k);
                tm[P_COMPLETE] = (double)(bench_now() - t0);
                if (res) record_found(&res->comp[c], f, first, "complete", con_name[c]);
                before = ds_trie_memory(&t);
                t0 = bench_now();
                check_ok(ds_trie_complete_index(&t, k, g_index_min), "complete_index");
                tm[P_INDEX] = (double)(bench_now() - t0);
                if (res) res->index_bytes = (double)(ds_trie_memory(&t) - before);
                t0 = bench_now();
                f = ds_complete(&t, ks, k);
                tm[P_ICOMPLETE] = (double)(bench_now() - t0);
                if (res) record_found(&res->icomp, f, first, "indexed complete", con_name[c]);
            }
            ds_trie_free(&t);
        } else if (c == C_JUDY) {
            Pvoid_t j;
            uint64_t s;
            Word_t freed;
            before = heap_in_use();
            t0 = bench_now();
            j = judy_build(ks);
            tm[P_BUILD] = (double)(bench_now() - t0);
            if (res) res->malloced[c] = (double)(heap_in_use() - before);
            t0 = bench_now();
            s = judy_gets(j, ks);
            tm[P_GET] = (double)(bench_now() - t0);
            if (res) record_sum(&res->get_sum[c], s, first, con_name[c]);
            if (words) {
                found f;
                t0 = bench_now();
                f = judy_prefix(j, ks);
                tm[P_PREFIX] = (double)(bench_now() - t0);
                if (res) record_found(&res->pre[c], f, first, "prefix", con_name[c]);
            }
            freed = JudySLFreeArray(&j, NULL);
            if (res) res->bytes[c] = (double)freed;
        } else if (c == C_SORTED) {
            sorted so;
            uint64_t s;
            before = heap_in_use();
            t0 = bench_now();
            sorted_build(&so, ks);
            tm[P_BUILD] = (double)(bench_now() - t0);
            if (res) {
                res->malloced[c] = (double)(heap_in_use() - before);
                res->bytes[c] = (double)(so.arena_bytes + so.n * sizeof *so.rec);
            }
            t0 = bench_now();
            s = sorted_gets(&so, ks);
            tm[P_GET] = (double)(bench_now() - t0);
            if (res) record_sum(&res->get_sum[c], s, first, con_name[c]);
            if (words) {
                found f;
                t0 = bench_now();
                f = sorted_prefix(&so, ks);
                tm[P_PREFIX] = (double)(bench_now() - t0);
                if (res) record_found(&res->pre[c], f, first, "prefix", con_name[c]);
                t0 = bench_now();
                f = sorted_complete(&so, ks, k);
                tm[P_COMPLETE] = (double)(bench_now() - t0);
                if (res) record_found(&res->comp[c], f, first, "complete", con_name[c]);
            }
            sorted_free(&so);
        } else { /* scan: prefix queries only */
            found f;
            t0 = bench_now();
            f = scan_prefix(ks);
            tm[P_PREFIX] = (double)(bench_now() - t0);
            if (res) record_found(&res->pre[c], f, first, "prefix", con_name[c]);
        }
        if (res) {
            int p;
            res->have[c] = 1;
            for (p = 0; p < NPH; p++) bench_add(&res->t[c][p], tm[p]);
            if (g_verbose)
                printf("  rep %d %-7s build %.2f ms, get %.2f ms, prefix %.2f ms, complete %.2f ms\n",
                       res->t[c][0].n, con_name[c], tm[0] / 1e6, tm[1] / 1e6, tm[2] / 1e6, tm[3] / 1e6);
        }
    }
}

/* p50 / p99 / max of single ds_trie_complete calls (one pass, untimed reps aside). */
static int cmp_dbl(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}
static void complete_latency(const keyset *ks, size_t k, int indexed, double *p50, double *p99, double *pmax) {
    ds_trie t;
    double *lat = (double *)xmalloc(ks->np * sizeof *lat);
    size_t i;
    int pass;
    ds_trie_init(&t, NULL);
    ds_build(&t, ks);
    for (i = 0; i < ks->n; i++) check_ok(ds_trie_set_score(&t, ks->k[i], ks->len[i], ks->score[i]), "set_score");
    if (indexed) check_ok(ds_trie_complete_index(&t, k, g_index_min), "complete_index");
    for (pass = 0; pass < 2; pass++) /* the first pass warms the caches */
        for (i = 0; i < ks->np; i++) {
            found f = {0, 0, FNV_INIT};
            int64_t t0 = bench_now();
            ds_trie_complete(&t, ks->pre[i], ks->plen[i], k, walk_cb, &f);
            lat[i] = (double)(bench_now() - t0);
        }
    qsort(lat, ks->np, sizeof *lat, cmp_dbl);
    *p50 = lat[ks->np / 2];
    *p99 = lat[(size_t)((double)(ks->np - 1) * 0.99)];
    *pmax = lat[ks->np - 1];
    free(lat);
    ds_trie_free(&t);
}

/* ---- targets ---------------------------------------------------------------------- */

typedef struct target {
    char line[320];
    int met;
} target;
static target g_targets[16];
static int g_ntargets;

static void add_target(int met, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_target(int met, const char *fmt, ...) {
    va_list ap;
    if (g_ntargets >= (int)(sizeof g_targets / sizeof g_targets[0])) return;
    va_start(ap, fmt);
    vsnprintf(g_targets[g_ntargets].line, sizeof g_targets[g_ntargets].line, fmt, ap);
    va_end(ap);
    g_targets[g_ntargets++].met = met;
}

static double med(const result *r, int c, int p) { return bench_median(&r->t[c][p]); }

static void report(const keyset *ks, int words, size_t k, const result *r) {
    int c;
    uint64_t want = (uint64_t)ks->n * (ks->n + 1) / 2;
    double n = (double)ks->n, dsg = med(r, C_DS, P_GET) / n;
    size_t total = 0, i;
    for (i = 0; i < ks->n; i++) total += ks->len[i];
    printf("\n== %s: %zu keys, %.1f bytes on average%s\n", ks->name, ks->n, (double)total / n,
           ks->cstrings ? "" : "; keys hold NUL bytes, so JudySL (NUL-terminated strings) is not run");
    printf("  %-8s %10s %10s %10s %12s %12s\n", "", "build", "get", "get", "bytes/key", "malloc'd");
    printf("  %-8s %10s %10s %10s %12s %12s\n", "", "ns/key", "ns/get", "peer/ds", "(own count)", "per key");
    for (c = 0; c < NCON; c++) {
        if (!r->have[c] || c == C_SCAN) continue;
        printf("  %-8s %10.1f %10.1f %10.2f %12.1f %12.1f\n", con_name[c], med(r, c, P_BUILD) / n,
               med(r, c, P_GET) / n, bench_ratio(med(r, c, P_GET) / n, dsg), r->bytes[c] / n, r->malloced[c] / n);
        if (r->get_sum[c] != want) mismatch("%s %s get: sum %" PRIu64 ", want %" PRIu64, ks->name, con_name[c],
                                            r->get_sum[c], want);
    }
    printf("  (ds bytes: ds_trie_memory %zu for %zu keys; a counting ds_alloc saw %zu%s. JudySL: JudySLFreeArray's\n"
           "   count. sorted: arena [len][key][8-byte value] + 8-byte pointers; without the values %.1f B/key)\n",
           r->ds_memory, r->ds_count, r->ds_counted, r->ds_counted == r->ds_memory ? ", the same" : " - DIFFERENT",
           r->bytes[C_SORTED] / n - 8);
    if (r->ds_counted != r->ds_memory) mismatch("%s: ds_trie_memory %zu != bytes allocated %zu", ks->name, r->ds_memory,
                                                 r->ds_counted);
    if (r->ds_count != ks->n) mismatch("%s: ds_trie_len %zu != %zu keys", ks->name, r->ds_count, ks->n);
    printf("  get sums agree: %" PRIu64 " (= n(n+1)/2)\n", r->get_sum[C_DS]);

    if (words) {
        double dsp = med(r, C_DS, P_PREFIX);
        double per = (double)r->pre[C_DS].n;
        printf("\n  prefix queries: %zu prefixes of 2-3 letters, %" PRIu64 " keys found (%.0f per query)\n", ks->np,
               r->pre[C_DS].n, per / (double)ks->np);
        printf("  %-8s %12s %10s %10s\n", "", "ns/query", "ns/key", "peer/ds");
        for (c = 0; c < NCON; c++) {
            if (!r->have[c]) continue;
            printf("  %-8s %12.1f %10.2f %10.2f%s\n", con_name[c], med(r, c, P_PREFIX) / (double)ks->np,
                   med(r, c, P_PREFIX) / per, bench_ratio(med(r, c, P_PREFIX), dsp),
                   c == C_DS ? "   ds_trie_walk" : c == C_JUDY ? "   JudySLFirst + JudySLNext"
                           : c == C_SORTED ? "   lower_bound + scan" : "   linear scan of the list (file order)");
        }
        {
            int ok = 1;
            for (c = 1; c < NCON; c++) {
                if (!r->have[c]) continue;
                if (r->pre[c].n != r->pre[C_DS].n || r->pre[c].sum != r->pre[C_DS].sum) ok = 0;
                if (c != C_SCAN && r->pre[c].hash != r->pre[C_DS].hash) ok = 0; /* scan: file order */
            }
            if (ok) printf("  prefix answers agree (count, value sum; and key order for all but the scan)\n");
            else
                for (c = 0; c < NCON; c++)
                    if (r->have[c])
                        mismatch("prefix %s: %" PRIu64 " %" PRIu64 " %016" PRIx64, con_name[c], r->pre[c].n,
                                 r->pre[c].sum, r->pre[c].hash);
        }
        {
            double p50, p99, pmax, x50, x99, xmax, dsc = med(r, C_DS, P_COMPLETE) / (double)ks->np;
            double soc = med(r, C_SORTED, P_COMPLETE) / (double)ks->np;
            double dxc = med(r, C_DS, P_ICOMPLETE) / (double)ks->np;
            complete_latency(ks, k, 0, &p50, &p99, &pmax);
            complete_latency(ks, k, 1, &x50, &x99, &xmax);
            if (r->have[C_JUDY]) { /* the word list: issue 19's target */
                add_target(soc >= 2.0 * dsc,
                           "%s: ds complete(prefix, %zu) >= 2x faster than the sorted scan, searching: ds %.1f ns, "
                           "sorted %.1f ns, sorted/ds %.2fx",
                           ks->name, k, dsc, soc, soc / dsc);
                add_target(soc >= 2.0 * dxc,
                           "%s: ds complete(prefix, %zu) >= 2x faster than the sorted scan, indexed (min_keys %zu, "
                           "+%.1f B/key): ds %.1f ns, sorted %.1f ns, sorted/ds %.2fx",
                           ks->name, k, g_index_min, r->index_bytes / (double)ks->n, dxc, soc, soc / dxc);
            }
            printf("\n  complete(prefix, %zu), Zipf-like scores, the same %zu prefixes (%" PRIu64 " results)\n", k,
                   ks->np, r->comp[C_DS].n);
            printf("  %-8s %12s %10s   %s\n", "", "ns/call", "peer/ds", "single calls");
            printf("  %-8s %12.1f %10.2f   p50 %.0f ns, p99 %.0f ns, max %.0f ns (best-first search)\n", "ds", dsc, 1.0,
                   p50, p99, pmax);
            printf("  %-8s %12.1f %10.2f   p50 %.0f ns, p99 %.0f ns, max %.0f ns (ds_trie_complete_index(t, %zu, %zu):\n"
                   "  %-8s %12s %10s   built in %.2f ms, +%.1f bytes a key)\n",
                   "ds+index", dxc, bench_ratio(dxc, dsc), x50, x99, xmax, k, g_index_min, "", "", "",
                   med(r, C_DS, P_INDEX) / 1e6, r->index_bytes / (double)ks->n);
            printf("  %-8s %12.1f %10.2f   (lower_bound, scan every match, keep the top %zu)\n", "sorted", soc,
                   bench_ratio(soc, dsc), k);
            if (r->icomp.n != r->comp[C_DS].n || r->icomp.sum != r->comp[C_DS].sum || r->icomp.hash != r->comp[C_DS].hash)
                mismatch("complete: ds through its index %" PRIu64 " %" PRIu64 " %016" PRIx64 ", searching %" PRIu64
                         " %" PRIu64 " %016" PRIx64,
                         r->icomp.n, r->icomp.sum, r->icomp.hash, r->comp[C_DS].n, r->comp[C_DS].sum,
                         r->comp[C_DS].hash);
            if (r->comp[C_DS].n == r->comp[C_SORTED].n && r->comp[C_DS].sum == r->comp[C_SORTED].sum &&
                r->comp[C_DS].hash == r->comp[C_SORTED].hash)
                printf("  complete answers agree (every list, in order)\n");
            else
                mismatch("complete: ds %" PRIu64 " %" PRIu64 " %016" PRIx64 ", sorted %" PRIu64 " %" PRIu64
                         " %016" PRIx64,
                         r->comp[C_DS].n, r->comp[C_DS].sum, r->comp[C_DS].hash, r->comp[C_SORTED].n,
                         r->comp[C_SORTED].sum, r->comp[C_SORTED].hash);
        }
    }

    if (r->have[C_JUDY]) {
        double jg = med(r, C_JUDY, P_GET) / n, q = dsg / jg;
        double db = r->bytes[C_DS] / n, jb = r->bytes[C_JUDY] / n;
        add_target(q <= 1.5, "%s: ds get within 1.5x of JudySL: ds %.1f ns, JudySL %.1f ns, ds/JudySL %.2fx", ks->name,
                   dsg, jg, q);
        add_target(q <= 1.0, "%s: ds get within 1.0x of JudySL (issue 19): ds %.1f ns, JudySL %.1f ns, ds/JudySL %.2fx",
                   ks->name, dsg, jg, q);
        add_target(db <= jb, "%s: ds bytes/key <= JudySL's: ds %.1f B, JudySL %.1f B, ds/JudySL %.2f", ks->name, db, jb,
                   db / jb);
    }
}

static void usage(void) {
    fprintf(stderr, "usage: bench_trie [--words FILE] [--n N] [--prefixes P] [--k K] [--index-min M] [--reps R]\n"
                    "                  [--warmup W] [--seed S] [--fresh-mem] [--verbose] [--quick]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *words_path = "/usr/share/dict/american-english";
    size_t n = 1000000, np = 1000, k = 10;
    int reps = 0, warmup = -1, quick = 0, fresh_mem = 0, i, set;
    uint64_t seed = 42;
    keyset sets[2];
    int nsets = 0;
    ds_rng r;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
#define VAL() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (!strcmp(a, "--words")) words_path = VAL();
        else if (!strcmp(a, "--n")) n = (size_t)strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--prefixes")) np = (size_t)strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--k")) k = (size_t)strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--index-min")) g_index_min = (size_t)strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--reps")) reps = atoi(VAL());
        else if (!strcmp(a, "--warmup")) warmup = atoi(VAL());
        else if (!strcmp(a, "--seed")) seed = strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--fresh-mem")) fresh_mem = 1;
        else if (!strcmp(a, "--verbose")) g_verbose = 1;
        else if (!strcmp(a, "--quick")) quick = 1;
        else usage();
#undef VAL
    }
    if (quick) {
        n = 100000;
        np = 200;
        if (reps == 0) reps = 1;
        if (warmup < 0) warmup = 0;
    }
    if (warmup < 0) warmup = 1;
    if (reps <= 0) reps = bench_reps(5);
    if (reps > BENCH_MAX_REPS) reps = BENCH_MAX_REPS;
    if (n < 2 || np == 0 || k == 0 || k > MAXK) {
        fprintf(stderr, "bench_trie: need --n >= 2, --prefixes >= 1, --k 1..%d\n", MAXK);
        return 2;
    }
    if (!fresh_mem) {
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
    }
    ds_rng_seed(&r, seed);
    printf("bench_trie: seed %" PRIu64 ", %d untimed warm-up round%s, %d rep%s (median), freed memory %s\n", seed,
           warmup, warmup == 1 ? "" : "s", reps, reps == 1 ? "" : "s",
           fresh_mem ? "returned to the OS (--fresh-mem)" : "kept in the process");
    if (load_words(&sets[nsets], words_path, np, &r)) nsets++;
    else printf("  (no usable word list at %s: the word-list rounds, JudySL and the targets are skipped;"
                " Debian: wamerican)\n", words_path);
    make_binary(&sets[nsets++], n, &r);

    for (set = 0; set < nsets; set++) {
        const keyset *ks = &sets[set];
        int words = ks->score != NULL;
        result *res = (result *)calloc(1, sizeof *res);
        if (!res) return 1;
        for (i = 0; i < warmup; i++) run_rep(ks, words, k, NULL, 0);
        for (i = 0; i < reps; i++) run_rep(ks, words, k, res, i == 0);
        report(ks, words, k, res);
        free(res);
        fflush(stdout);
    }

    printf("\ntargets (issue 5: ds_trie get within 1.5x of JudySL; bytes/key <= JudySL's; issue 19: get within\n"
           "         1.0x of JudySL, complete >= 2x the sorted scan; on the word list,\n"
           "         the only key set JudySL can hold)\n");
    {
        int met = 0;
        for (i = 0; i < g_ntargets; i++) {
            printf("  %-7s %s\n", g_targets[i].met ? "MET" : "MISSED", g_targets[i].line);
            met += g_targets[i].met;
        }
        if (!g_ntargets) printf("  none measured (no word list)\n");
        else printf("  %d of %d targets met\n", met, g_ntargets);
    }
    printf("\n(peer/ds > 1: ds is faster)   peak RSS %ld KiB\n", bench_peak_rss_kb());
    for (set = 0; set < nsets; set++) free_keyset(&sets[set]);
    if (g_failed) printf("bench_trie: MISMATCH in some answers (see above)\n");
    return g_failed ? 1 : 0;
}
