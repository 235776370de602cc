/* bench/bench_tstore.c - DS_TSTORE(ts64, double) on the three access
 * patterns the seed's TimeBasedStorage had three backends for, each beside
 * the structure the seed built for that pattern.
 *
 * (a) range queries. N timestamps (default 1M; gaps uniform in 1..1999 ns,
 *     mean 1000), values whole numbers below 2^20 (sums are exact in a
 *     double, so every contender's checksum must match to the bit). Q random
 *     inclusive ranges [a, a + width*1000 - 1] (default Q = 100000, width
 *     100: ~100 items per query). Each query copies the timestamps and the
 *     values out (ts64_range(s, a, b, ts_out, vals_out, cap)) and sums them.
 *       ds           ts64_range on a store built by in-order ts64_insert
 *       sorted array two arrays (timestamps, values), lower_bound + scan,
 *                    the same copy-out (the seed's dict + sorted keys)
 *       SortedDict   Python sortedcontainers.SortedDict (the seed's
 *                    TimeBasedStorageRBTree), bench/tstore_sorteddict.py run
 *                    as a subprocess over the same data and queries, two
 *                    ways: irange + lookups (the seed's), bisect + slice + map
 *     Reported: ns per returned item (and per query).
 * (b) earliest / pop-earliest on a stream with late arrivals: N events with
 *     times i*1000; a fraction (default 20%) arrive late by up to L
 *     positions (default 1000), so the insert stream is out of order
 *     (timestamps unique). Three phases, each from an empty structure:
 *       fill    add all N in arrival order                   ns per add
 *       drain   earliest (peek) + pop_earliest until empty   ns per pop
 *       stream  a reorder buffer: add each arrival, peek the earliest,
 *               pop the earliest while more than W (default 4096) are
 *               held; then drain                             ns per event
 *       ds      ts64_insert / ts64_earliest / ts64_pop_earliest
 *       heap    a binary min-heap of (ts, value) written here (the seed's
 *               heapq backend). It does not detect timestamp collisions
 *               (the seed paired it with a dict for that); ds_add does.
 * (c) in-order append of the N timestamps of (a) into an empty store:
 *       ds           ts64_insert, one at a time
 *       sorted array append when ts > last (else binary search + memmove;
 *                    equal: refused), capacity doubling by realloc
 *       ds batch     ts64_insert_batch of all N at once (bulk load; shown for
 *                    reference, not a contender)
 *     plus the bytes each holds after the load, per entry (ds: a counting
 *     ds_alloc; sorted array: capacity * 16).
 *
 * Reps are interleaved across the C contenders after untimed warm-up
 * rounds; the median rep is reported. The Python script does its own
 * warm-up and reps (the same counts) in one process and reports its median.
 * Ratios are peer/ds time: > 1 means ds is faster. Answers must agree (item
 * counts, timestamp and value sums, the order in which events pop), within
 * and across contenders and Python: exit status 1 otherwise.
 *
 *   bench_tstore [--n N] [--queries Q] [--width K] [--window W]
 *                [--late-frac F] [--late-max L] [--reps R] [--warmup W]
 *                [--seed S] [--python PY] [--script PATH] [--no-python]
 *                [--fresh-mem] [--verbose] [--quick]
 *     --n N         timestamps / events (default 1000000)
 *     --queries Q   range queries (default 100000)
 *     --width K     items a range covers on average (default 100)
 *     --window W    (b) events the reorder buffer holds (default 4096)
 *     --late-frac F (b) fraction of events that arrive late (default 0.2)
 *     --late-max L  (b) how late, at most, in positions (default 1000)
 *     --reps R      reps, median reported (default 5; env BENCH_REPS)
 *     --warmup W    untimed rounds first (default 1)
 *     --python PY   interpreter with sortedcontainers (default: the first of
 *                   /usr/bin/python3, python3 that imports it)
 *     --script PATH the Python side (default bench/tstore_sorteddict.py, or
 *                   ../tstore_sorteddict.py next to this binary)
 *     --no-python   skip SortedDict (its target is then not measured)
 *     --fresh-mem   give freed memory back to the OS between reps (glibc's
 *                   default); without it the bench keeps it (mallopt), so
 *                   timings after the warm-up exclude first-touch faults
 *     --verbose     print every rep
 *     --quick       smoke run: N = 100000, Q = 10000, 1 rep, no warm-up
 */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "bench.h"

#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

DS_TSTORE(ts64, double)

#define NOINLINE __attribute__((noinline))
#define T0 INT64_C(1700000000000000000) /* a 2023 epoch in ns: realistic magnitudes */

static int g_verbose;
static int g_failed;

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench_tstore: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static void check_ok(ds_status s, const char *what) {
    if (s != DS_OK) {
        fprintf(stderr, "bench_tstore: %s: %s\n", what, ds_strerror(s));
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

/* ---- the peers: a sorted array and a binary min-heap ----------------------- */

typedef struct sarr {
    int64_t *ts;
    double *v;
    size_t n, cap;
} sarr;

static void sarr_free(sarr *a) {
    free(a->ts);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* First index whose timestamp is >= x (n if none). */
static inline size_t lower_bound_i64(const int64_t *a, size_t n, int64_t x) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* 0 added, 1 collision (refused, like ds_add's DS_EEXIST). */
static inline int sarr_add(sarr *a, int64_t ts, double v) {
    size_t i;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        int64_t *t = (int64_t *)realloc(a->ts, nc * sizeof *t);
        double *w;
        if (!t) exit(1);
        a->ts = t;
        if (!(w = (double *)realloc(a->v, nc * sizeof *w))) exit(1);
        a->v = w;
        a->cap = nc;
    }
    if (a->n == 0 || a->ts[a->n - 1] < ts) { /* in order: append */
        a->ts[a->n] = ts;
        a->v[a->n++] = v;
        return 0;
    }
    i = lower_bound_i64(a->ts, a->n, ts);
    if (a->ts[i] == ts) return 1;
    memmove(&a->ts[i + 1], &a->ts[i], (a->n - i) * sizeof *a->ts);
    memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof *a->v);
    a->ts[i] = ts;
    a->v[i] = v;
    a->n++;
    return 0;
}

typedef struct hent {
    int64_t ts;
    double v;
} hent;
typedef struct heap {
    hent *a;
    size_t n, cap;
} heap;

static inline void heap_push(heap *h, int64_t ts, double v) {
    size_t i;
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 16;
        hent *p = (hent *)realloc(h->a, nc * sizeof *p);
        if (!p) exit(1);
        h->a = p;
        h->cap = nc;
    }
    for (i = h->n++; i > 0 && h->a[(i - 1) / 2].ts > ts; i = (i - 1) / 2) h->a[i] = h->a[(i - 1) / 2];
    h->a[i].ts = ts;
    h->a[i].v = v;
}
static inline int heap_top(const heap *h, int64_t *ts, double *v) {
    if (!h->n) return 0;
    *ts = h->a[0].ts;
    *v = h->a[0].v;
    return 1;
}
static inline int heap_pop(heap *h, int64_t *ts, double *v) {
    hent last;
    size_t i = 0, j, n;
    if (!h->n) return 0;
    *ts = h->a[0].ts;
    *v = h->a[0].v;
    last = h->a[--h->n];
    n = h->n;
    while ((j = 2 * i + 1) < n) { /* move the hole down, then drop `last` in */
        if (j + 1 < n && h->a[j + 1].ts < h->a[j].ts) j++;
        if (h->a[j].ts >= last.ts) break;
        h->a[i] = h->a[j];
        i = j;
    }
    if (n) h->a[i] = last;
    return 1;
}
static void heap_free(heap *h) {
    free(h->a);
    memset(h, 0, sizeof *h);
}

/* ---- data ----------------------------------------------------------------- */

typedef struct data {
    size_t n, q, width;
    int64_t *ts;   /* strictly increasing */
    double *vals;
    int64_t *qs, *qe;
    size_t cap;    /* the most items one query can return: the output buffers */
    /* (b) */
    int64_t *arr_ts; /* arrival order */
    double *arr_v;
    size_t window;
} data;

typedef struct arrival {
    int64_t at, ts;
} arrival;
static int cmp_arrival(const void *x, const void *y) {
    const arrival *a = (const arrival *)x, *b = (const arrival *)y;
    if (a->at != b->at) return a->at < b->at ? -1 : 1;
    return a->ts < b->ts ? -1 : a->ts > b->ts;
}

static void make_data(data *d, size_t n, size_t q, size_t width, size_t window, double late_frac,
                      size_t late_max, uint64_t seed) {
    ds_rng r;
    size_t i;
    int64_t span, w;
    arrival *ar;
    ds_rng_seed(&r, seed);
    d->n = n;
    d->q = q;
    d->width = width;
    d->window = window;
    d->ts = (int64_t *)xmalloc(n * sizeof(int64_t));
    d->vals = (double *)xmalloc(n * sizeof(double));
    d->ts[0] = T0;
    for (i = 1; i < n; i++) d->ts[i] = d->ts[i - 1] + 1 + (int64_t)ds_rng_below(&r, 1999);
    for (i = 0; i < n; i++) d->vals[i] = (double)ds_rng_below(&r, 1u << 20);
    w = (int64_t)width * 1000; /* the range's length in ns */
    span = d->ts[n - 1] - d->ts[0];
    d->qs = (int64_t *)xmalloc(q * sizeof(int64_t));
    d->qe = (int64_t *)xmalloc(q * sizeof(int64_t));
    for (i = 0; i < q; i++) {
        d->qs[i] = T0 + (int64_t)ds_rng_below(&r, (uint64_t)(span > w ? span - w : 1));
        d->qe[i] = d->qs[i] + w - 1;
    }
    d->cap = (size_t)w + 1; /* gaps are >= 1 ns */
    /* (b): events at i*1000 ns; a fraction arrive late by up to late_max
     * positions; sort by arrival time. */
    ar = (arrival *)xmalloc(n * sizeof *ar);
    for (i = 0; i < n; i++) {
        ar[i].ts = T0 + (int64_t)i * 1000;
        ar[i].at = ar[i].ts;
        if (late_max && ds_rng_double(&r) < late_frac)
            ar[i].at += (int64_t)(1 + ds_rng_below(&r, late_max)) * 1000 + 500;
    }
    qsort(ar, n, sizeof *ar, cmp_arrival);
    d->arr_ts = (int64_t *)xmalloc(n * sizeof(int64_t));
    d->arr_v = (double *)xmalloc(n * sizeof(double));
    for (i = 0; i < n; i++) {
        d->arr_ts[i] = ar[i].ts;
        d->arr_v[i] = (double)(((uint64_t)ar[i].ts / 1000) & 0xfffff);
    }
    free(ar);
}

static void free_data(data *d) {
    free(d->ts);
    free(d->vals);
    free(d->qs);
    free(d->qe);
    free(d->arr_ts);
    free(d->arr_v);
}

/* ---- phases: one out-of-line loop per structure and operation ------------- */

typedef struct rsum {
    uint64_t items, tsum; /* tsum modulo 2^64 */
    double vsum;
} rsum;

static NOINLINE rsum ds_range_phase(const ts64 *s, const data *d, int64_t *tb, double *vb) {
    rsum r = {0, 0, 0.0};
    size_t i, j;
    for (i = 0; i < d->q; i++) {
        size_t m = ts64_range(s, d->qs[i], d->qe[i], tb, vb, d->cap);
        if (m > d->cap) m = d->cap; /* cannot happen: cap bounds every range */
        for (j = 0; j < m; j++) {
            r.tsum += (uint64_t)tb[j];
            r.vsum += vb[j];
        }
        r.items += m;
    }
    return r;
}

static NOINLINE rsum sa_range_phase(const sarr *a, const data *d, int64_t *tb, double *vb) {
    rsum r = {0, 0, 0.0};
    size_t i, j;
    for (i = 0; i < d->q; i++) {
        size_t k = lower_bound_i64(a->ts, a->n, d->qs[i]), m = 0;
        const int64_t e = d->qe[i];
        for (; k < a->n && a->ts[k] <= e && m < d->cap; k++, m++) {
            tb[m] = a->ts[k];
            vb[m] = a->v[k];
        }
        for (j = 0; j < m; j++) {
            r.tsum += (uint64_t)tb[j];
            r.vsum += vb[j];
        }
        r.items += m;
    }
    return r;
}

/* (b) order-sensitive hash of what pops, plus a sum of what was peeked. */
typedef struct pops {
    uint64_t n, hash, peek;
} pops;
static inline void pops_add(pops *p, int64_t ts, double v) {
    p->hash = (p->hash ^ (uint64_t)ts ^ ((uint64_t)v << 40)) * 0x100000001b3ull;
    p->n++;
}

static NOINLINE uint64_t ds_fill(ts64 *s, const int64_t *ts, const double *v, size_t n) {
    uint64_t added = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        ds_status st = ts64_insert(s, ts[i], v[i]);
        if (st == DS_OK) added++;
        else if (st != DS_EEXIST) check_ok(st, "ts64_insert");
    }
    return added;
}
static NOINLINE pops ds_drain(ts64 *s) {
    pops p = {0, 0xcbf29ce484222325ull, 0};
    int64_t t;
    double v, *pv;
    while (ts64_earliest(s, &t, &pv) == DS_OK) {
        p.peek += (uint64_t)t + (uint64_t)*pv;
        if (ts64_pop_earliest(s, &t, &v) != DS_OK) abort();
        pops_add(&p, t, v);
    }
    return p;
}
static NOINLINE pops ds_stream(ts64 *s, const int64_t *ts, const double *vs, size_t n, size_t w) {
    pops p = {0, 0xcbf29ce484222325ull, 0};
    int64_t t;
    double v, *pv;
    size_t i;
    for (i = 0; i < n; i++) {
        ds_status st = ts64_insert(s, ts[i], vs[i]);
        if (st != DS_OK && st != DS_EEXIST) check_ok(st, "ts64_insert");
        if (ts64_earliest(s, &t, &pv) == DS_OK) p.peek += (uint64_t)t;
        while (ts64_len(s) > w) {
            if (ts64_pop_earliest(s, &t, &v) != DS_OK) abort();
            pops_add(&p, t, v);
        }
    }
    while (ts64_pop_earliest(s, &t, &v) == DS_OK) pops_add(&p, t, v);
    return p;
}

static NOINLINE uint64_t heap_fill(heap *h, const int64_t *ts, const double *v, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) heap_push(h, ts[i], v[i]);
    return h->n;
}
static NOINLINE pops heap_drain(heap *h) {
    pops p = {0, 0xcbf29ce484222325ull, 0};
    int64_t t;
    double v;
    while (heap_top(h, &t, &v)) {
        p.peek += (uint64_t)t + (uint64_t)v;
        heap_pop(h, &t, &v);
        pops_add(&p, t, v);
    }
    return p;
}
static NOINLINE pops heap_stream(heap *h, const int64_t *ts, const double *vs, size_t n, size_t w) {
    pops p = {0, 0xcbf29ce484222325ull, 0};
    int64_t t;
    double v;
    size_t i;
    for (i = 0; i < n; i++) {
        heap_push(h, ts[i], vs[i]);
        if (heap_top(h, &t, &v)) p.peek += (uint64_t)t;
        while (h->n > w) {
            heap_pop(h, &t, &v);
            pops_add(&p, t, v);
        }
    }
    while (heap_pop(h, &t, &v)) pops_add(&p, t, v);
    return p;
}

static NOINLINE uint64_t ds_append(ts64 *s, const int64_t *ts, const double *v, size_t n) {
    uint64_t added = 0;
    size_t i;
    for (i = 0; i < n; i++) added += ts64_insert(s, ts[i], v[i]) == DS_OK;
    return added;
}
static NOINLINE uint64_t sa_append(sarr *a, const int64_t *ts, const double *v, size_t n) {
    uint64_t added = 0;
    size_t i;
    for (i = 0; i < n; i++) added += sarr_add(a, ts[i], v[i]) == 0;
    return added;
}
static NOINLINE uint64_t ds_append_batch(ts64 *s, const int64_t *ts, const double *v, size_t n) {
    size_t added = 0;
    check_ok(ts64_insert_batch(s, ts, v, n, &added), "ts64_insert_batch");
    return added;
}

/* ---- rounds ----------------------------------------------------------------- */

enum { R_DS, R_SA, NR };                          /* (a) */
enum { B_FILL, B_DRAIN, B_STREAM, NB };           /* (b) phases */
enum { S_DS, S_HEAP, NS };                        /* (b) contenders */
enum { C_DS, C_SA, C_BATCH, NC };                 /* (c) */
static const char *const range_name[NR] = {"ds", "sorted array"};
static const char *const b_name[NB] = {"fill", "drain", "stream"};
static const char *const s_name[NS] = {"ds", "heap"};
static const char *const c_name[NC] = {"ds", "sorted array", "ds batch"};

typedef struct results {
    bench_samples range[NR];
    rsum rs[NR];
    bench_samples b[NS][NB];
    pops bp[NS][NB];
    uint64_t bfill[NS];
    bench_samples c[NC];
    uint64_t cadded[NC];
    double c_bytes[NC]; /* bytes per entry after the load */
} results;

static int same_rsum(rsum a, rsum b) { return a.items == b.items && a.tsum == b.tsum && a.vsum == b.vsum; }
static int same_pops(pops a, pops b) { return a.n == b.n && a.hash == b.hash && a.peek == b.peek; }

/* One rep of everything; timed into res unless res is NULL (warm-up). */
static void run_rep(const data *d, const ts64 *built, const sarr *sa, int64_t *tb, double *vb, results *res,
                    int first) {
    int64_t t0;
    rsum rr;
    int k;
    /* (a) */
    for (k = 0; k < NR; k++) {
        t0 = bench_now();
        rr = k == R_DS ? ds_range_phase(built, d, tb, vb) : sa_range_phase(sa, d, tb, vb);
        if (res) {
            bench_add(&res->range[k], (double)(bench_now() - t0));
            if (first) res->rs[k] = rr;
            else if (!same_rsum(rr, res->rs[k])) mismatch("range %s: answers differ between reps", range_name[k]);
        }
    }
    /* (b) */
    for (k = 0; k < NS; k++) {
        double t[NB];
        pops p[NB];
        uint64_t filled;
        int j;
        if (k == S_DS) {
            ts64 s;
            ts64_init(&s);
            t0 = bench_now();
            filled = ds_fill(&s, d->arr_ts, d->arr_v, d->n);
            t[B_FILL] = (double)(bench_now() - t0);
            t0 = bench_now();
            p[B_DRAIN] = ds_drain(&s);
            t[B_DRAIN] = (double)(bench_now() - t0);
            t0 = bench_now();
            p[B_STREAM] = ds_stream(&s, d->arr_ts, d->arr_v, d->n, d->window);
            t[B_STREAM] = (double)(bench_now() - t0);
            ts64_free(&s);
        } else {
            heap h = {NULL, 0, 0};
            t0 = bench_now();
            filled = heap_fill(&h, d->arr_ts, d->arr_v, d->n);
            t[B_FILL] = (double)(bench_now() - t0);
            t0 = bench_now();
            p[B_DRAIN] = heap_drain(&h);
            t[B_DRAIN] = (double)(bench_now() - t0);
            t0 = bench_now();
            p[B_STREAM] = heap_stream(&h, d->arr_ts, d->arr_v, d->n, d->window);
            t[B_STREAM] = (double)(bench_now() - t0);
            heap_free(&h);
        }
        p[B_FILL].n = filled;
        p[B_FILL].hash = p[B_FILL].peek = 0;
        if (!res) continue;
        for (j = 0; j < NB; j++) {
            bench_add(&res->b[k][j], t[j]);
            if (first) res->bp[k][j] = p[j];
            else if (!same_pops(p[j], res->bp[k][j]))
                mismatch("%s %s: answers differ between reps", s_name[k], b_name[j]);
        }
    }
    /* (c) */
    for (k = 0; k < NC; k++) {
        uint64_t added;
        double bytes;
        if (k == C_SA) {
            sarr a = {NULL, NULL, 0, 0};
            t0 = bench_now();
            added = sa_append(&a, d->ts, d->vals, d->n);
            t0 = bench_now() - t0;
            bytes = (double)a.cap * (sizeof(int64_t) + sizeof(double));
            sarr_free(&a);
        } else {
            bench_counter cnt;
            ds_alloc al;
            ts64 s;
            bench_counter_reset(&cnt);
            al = bench_ds_alloc(&cnt);
            ts64_init_alloc(&s, &al);
            t0 = bench_now();
            added = k == C_DS ? ds_append(&s, d->ts, d->vals, d->n) : ds_append_batch(&s, d->ts, d->vals, d->n);
            t0 = bench_now() - t0;
            bytes = (double)cnt.cur;
            ts64_free(&s);
        }
        if (!res) continue;
        bench_add(&res->c[k], (double)t0);
        res->cadded[k] = added;
        res->c_bytes[k] = bytes / (double)d->n;
    }
    if (res && g_verbose) {
        int i = res->range[0].n - 1;
        printf("  rep %d: range ds %.0f sa %.0f ms; (b) ds %.0f/%.0f/%.0f heap %.0f/%.0f/%.0f ms; (c) ds %.1f sa %.1f "
               "batch %.1f ms\n",
               i + 1, res->range[R_DS].ns[i] / 1e6, res->range[R_SA].ns[i] / 1e6, res->b[S_DS][0].ns[i] / 1e6,
               res->b[S_DS][1].ns[i] / 1e6, res->b[S_DS][2].ns[i] / 1e6, res->b[S_HEAP][0].ns[i] / 1e6,
               res->b[S_HEAP][1].ns[i] / 1e6, res->b[S_HEAP][2].ns[i] / 1e6, res->c[C_DS].ns[i] / 1e6,
               res->c[C_SA].ns[i] / 1e6, res->c[C_BATCH].ns[i] / 1e6);
    }
}

/* ---- the Python side ---------------------------------------------------------- */

typedef struct pyres {
    int ok;
    double build_ns, ns[2];
    rsum rs[2];
    long rss_kb;
} pyres;

static int file_exists(const char *p) { return access(p, R_OK) == 0; }

static void put_u64(FILE *f, uint64_t x) {
    unsigned char b[8];
    int i;
    for (i = 0; i < 8; i++) b[i] = (unsigned char)(x >> (8 * i));
    if (fwrite(b, 1, 8, f) != 8) exit(1);
}

static int write_query_file(const char *path, const data *d, int reps, int warmup) {
    FILE *f = fopen(path, "wb");
    size_t i;
    if (!f) return 0;
    if (fwrite("DSTSQ001", 1, 8, f) != 8) exit(1);
    put_u64(f, d->n);
    put_u64(f, d->q);
    put_u64(f, (uint64_t)reps);
    put_u64(f, (uint64_t)warmup);
    for (i = 0; i < d->n; i++) put_u64(f, (uint64_t)d->ts[i]);
    for (i = 0; i < d->n; i++) {
        uint64_t u;
        memcpy(&u, &d->vals[i], 8);
        put_u64(f, u);
    }
    for (i = 0; i < d->q; i++) put_u64(f, (uint64_t)d->qs[i]);
    for (i = 0; i < d->q; i++) put_u64(f, (uint64_t)d->qe[i]);
    return fclose(f) == 0;
}

/* The interpreter to use: the given one, else the first that imports it. */
static const char *pick_python(const char *want) {
    static const char *const cands[] = {"/usr/bin/python3", "python3"};
    size_t i;
    if (want) return want;
    for (i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -c 'import sortedcontainers' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0) return cands[i];
    }
    return NULL;
}

static pyres run_python(const data *d, const char *py, const char *script, int reps, int warmup) {
    pyres pr;
    char path[256], line[256], *cmd;
    size_t cmdlen;
    const char *tmp = getenv("TMPDIR");
    FILE *p;
    int fd;
    memset(&pr, 0, sizeof pr);
    snprintf(path, sizeof path, "%s/bench_tstore_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if ((fd = mkstemp(path)) < 0) {
        printf("  SortedDict: cannot create a temporary file in %s\n", tmp && *tmp ? tmp : "/tmp");
        return pr;
    }
    close(fd);
    if (!write_query_file(path, d, reps, warmup)) {
        printf("  SortedDict: cannot write %s\n", path);
        remove(path);
        return pr;
    }
    if (strchr(py, '\'') || strchr(script, '\'') || strchr(path, '\'')) {
        printf("  SortedDict: a path holds a single quote; not run\n");
        remove(path);
        return pr;
    }
    cmdlen = strlen(py) + strlen(script) + strlen(path) + 16;
    cmd = (char *)xmalloc(cmdlen);
    snprintf(cmd, cmdlen, "'%s' '%s' '%s'", py, script, path);
    if (!(p = popen(cmd, "r"))) {
        printf("  SortedDict: cannot run %s\n", cmd);
        free(cmd);
        remove(path);
        return pr;
    }
    while (fgets(line, sizeof line, p)) {
        char name[16];
        double ns, vsum;
        uint64_t items, tsum;
        if (sscanf(line, "build %lf", &ns) == 1) pr.build_ns = ns;
        else if (sscanf(line, "rss_kb %ld", &pr.rss_kb) == 1) {
        } else if (sscanf(line, "%15s %lf %" SCNu64 " %" SCNu64 " %lf", name, &ns, &items, &tsum, &vsum) == 5) {
            int k = !strcmp(name, "irange") ? 0 : !strcmp(name, "slice") ? 1 : -1;
            if (k < 0) continue;
            pr.ns[k] = ns;
            pr.rs[k].items = items;
            pr.rs[k].tsum = tsum;
            pr.rs[k].vsum = vsum;
            pr.ok |= 1 << k;
        }
    }
    if (pclose(p) != 0 || pr.ok != 3) {
        printf("  SortedDict: %s failed (see its message above)\n", cmd);
        pr.ok = 0;
    }
    free(cmd);
    remove(path);
    return pr;
}

/* ---- targets ------------------------------------------------------------------- */

typedef struct target {
    char line[320];
    int met; /* 1 met, 0 missed, -1 not measured */
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

static const char *size_label(size_t n, char *buf, size_t cap) {
    if (n % 1000000 == 0) snprintf(buf, cap, "%zuM", n / 1000000);
    else if (n % 1000 == 0) snprintf(buf, cap, "%zuk", n / 1000);
    else snprintf(buf, cap, "%zu", n);
    return buf;
}

static void usage(void) {
    fprintf(stderr, "usage: bench_tstore [--n N] [--queries Q] [--width K] [--window W] [--late-frac F] [--late-max L]\n"
                    "                    [--reps R] [--warmup W] [--seed S] [--python PY] [--script PATH] [--no-python]\n"
                    "                    [--fresh-mem] [--verbose] [--quick]\n");
    exit(2);
}

int main(int argc, char **argv) {
    size_t n = 1000000, q = 100000, width = 100, window = 4096, late_max = 1000;
    double late_frac = 0.2;
    int reps = 0, warmup = -1, quick = 0, use_py = 1, fresh_mem = 0, i, k;
    uint64_t seed = 42;
    const char *py_want = NULL, *script = NULL, *py;
    char script_buf[1024], lbl[32];
    data d;
    ts64 built;
    sarr sa = {NULL, NULL, 0, 0};
    int64_t *tb;
    double *vb;
    results *res;
    pyres pr;
    int agree = 1;
    const double match = 0.95; /* "matches": within 5% */

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
#define VAL() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (!strcmp(a, "--n")) n = (size_t)strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--queries")) q = (size_t)strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--width")) width = (size_t)strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--window")) window = (size_t)strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--late-frac")) late_frac = atof(VAL());
        else if (!strcmp(a, "--late-max")) late_max = (size_t)strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--reps")) reps = atoi(VAL());
        else if (!strcmp(a, "--warmup")) warmup = atoi(VAL());
        else if (!strcmp(a, "--seed")) seed = strtoull(VAL(), NULL, 10);
        else if (!strcmp(a, "--python")) py_want = VAL();
        else if (!strcmp(a, "--script")) script = VAL();
        else if (!strcmp(a, "--no-python")) use_py = 0;
        else if (!strcmp(a, "--fresh-mem")) fresh_mem = 1;
        else if (!strcmp(a, "--verbose")) g_verbose = 1;
        else if (!strcmp(a, "--quick")) quick = 1;
        else usage();
#undef VAL
    }
    if (quick) {
        n = 100000;
        q = 10000;
        if (reps == 0) reps = 1;
        if (warmup < 0) warmup = 0;
    }
    if (warmup < 0) warmup = 1;
    if (reps <= 0) reps = bench_reps(5);
    if (reps > BENCH_MAX_REPS) reps = BENCH_MAX_REPS;
    if (n < 1000 || q == 0 || width == 0 || width > 1000000 || window == 0 || !(late_frac >= 0 && late_frac <= 1)) {
        fprintf(stderr, "bench_tstore: need --n >= 1000, --queries >= 1, --width 1..1000000, --window >= 1,\n"
                        "              --late-frac in [0, 1]\n");
        return 2;
    }
    if (!fresh_mem) { /* as bench_map: keep freed memory, so reps after the warm-up do not fault pages in */
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
    }
    if (use_py && !script) {
        const char *slash = strrchr(argv[0], '/');
        script = "bench/tstore_sorteddict.py";
        if (!file_exists(script) && slash) {
            snprintf(script_buf, sizeof script_buf, "%.*s/../tstore_sorteddict.py", (int)(slash - argv[0]), argv[0]);
            script = script_buf;
        }
    }

    printf("bench_tstore: seed %" PRIu64 ", %d untimed warm-up round%s, %d rep%s (median), freed memory %s\n", seed,
           warmup, warmup == 1 ? "" : "s", reps, reps == 1 ? "" : "s",
           fresh_mem ? "returned to the OS (--fresh-mem)" : "kept in the process");
    make_data(&d, n, q, width, window, late_frac, late_max, seed);
    printf("  %s timestamps (gaps 1..1999 ns), values double; %zu range queries of %zu us (~%zu items each)\n",
           size_label(n, lbl, sizeof lbl), q, width, width);
    printf("  (b) %zu events at 1 us steps, %.0f%% arriving up to %zu positions late; reorder window %zu\n", n,
           100 * late_frac, late_max, window);
    fflush(stdout);

    /* the structures the range queries read (built once; read-only after) */
    ts64_init(&built);
    for (i = 0; i < (int)n; i++) check_ok(ts64_insert(&built, d.ts[i], d.vals[i]), "ts64_insert");
    for (i = 0; i < (int)n; i++)
        if (sarr_add(&sa, d.ts[i], d.vals[i])) abort();
    tb = (int64_t *)xmalloc(d.cap * sizeof *tb);
    vb = (double *)xmalloc(d.cap * sizeof *vb);
    res = (results *)calloc(1, sizeof *res);
    if (!res) return 1;

    for (k = 0; k < warmup; k++) run_rep(&d, &built, &sa, tb, vb, NULL, 0);
    for (k = 0; k < reps; k++) run_rep(&d, &built, &sa, tb, vb, res, k == 0);

    pr.ok = 0;
    py = NULL;
    if (use_py) {
        if (!file_exists(script)) printf("  SortedDict: %s not found (--script)\n", script);
        else if (!(py = pick_python(py_want)))
            printf("  SortedDict: no Python that imports sortedcontainers (apt-get install python3-sortedcontainers;"
                   " it is for /usr/bin/python3)\n");
        else pr = run_python(&d, py, script, reps, warmup);
    }

    /* ---- (a) */
    {
        double ds_item = res->range[R_DS].n ? bench_median(&res->range[R_DS]) / (double)res->rs[R_DS].items : 0;
        double items_q = (double)res->rs[R_DS].items / (double)q;
        printf("\n(a) range queries: %zu queries, %" PRIu64 " items returned (%.1f per query)\n", q,
               res->rs[R_DS].items, items_q);
        printf("  %-28s %12s %12s %10s\n", "contender", "ns/item", "ns/query", "peer/ds");
        for (k = 0; k < NR; k++) {
            double t = bench_median(&res->range[k]);
            printf("  %-28s %12.2f %12.1f %10.2f\n", range_name[k], t / (double)res->rs[k].items, t / (double)q,
                   bench_ratio(t / (double)res->rs[k].items, ds_item));
        }
        if (pr.ok) {
            static const char *const pyname[2] = {"SortedDict irange+lookup", "SortedDict bisect+slice+map"};
            for (k = 0; k < 2; k++)
                printf("  %-28s %12.2f %12.1f %10.2f\n", pyname[k], pr.ns[k] / (double)pr.rs[k].items,
                       pr.ns[k] / (double)q, bench_ratio(pr.ns[k] / (double)pr.rs[k].items, ds_item));
            printf("  (%s %s; SortedDict built in %.0f ms, Python peak RSS %ld KiB)\n", py, script,
                   pr.build_ns / 1e6, pr.rss_kb);
        }
        for (k = 1; k < NR; k++)
            if (!same_rsum(res->rs[k], res->rs[R_DS])) agree = 0;
        for (k = 0; pr.ok && k < 2; k++)
            if (!same_rsum(pr.rs[k], res->rs[R_DS])) agree = 0;
        printf("  checksums (items, ts sum mod 2^64, value sum): %" PRIu64 " %" PRIu64 " %.0f %s\n",
               res->rs[R_DS].items, res->rs[R_DS].tsum, res->rs[R_DS].vsum,
               agree ? (pr.ok ? "- all contenders and Python agree" : "- all contenders agree") : "");
        if (!agree) {
            for (k = 0; k < NR; k++)
                mismatch("%s: %" PRIu64 " %" PRIu64 " %.0f", range_name[k], res->rs[k].items, res->rs[k].tsum,
                         res->rs[k].vsum);
            for (k = 0; pr.ok && k < 2; k++)
                mismatch("python %d: %" PRIu64 " %" PRIu64 " %.0f", k, pr.rs[k].items, pr.rs[k].tsum, pr.rs[k].vsum);
        }
        if (pr.ok) {
            double best = pr.ns[0] / (double)pr.rs[0].items, q2 = pr.ns[1] / (double)pr.rs[1].items;
            const char *which = "irange+lookup";
            if (q2 < best) {
                best = q2;
                which = "bisect+slice+map";
            }
            add_target(bench_ratio(best, ds_item) >= 50,
                       "range: ds >= 50x faster per returned item than SortedDict (its faster way, %s): ds %.2f ns, "
                       "SortedDict %.1f ns, SortedDict/ds %.1fx",
                       which, ds_item, best, bench_ratio(best, ds_item));
        } else {
            add_target(-1, "range: ds >= 50x faster per returned item than SortedDict: not measured (no Python run)");
        }
        {
            double sa_item = bench_median(&res->range[R_SA]) / (double)res->rs[R_SA].items;
            double r = bench_ratio(sa_item, ds_item);
            add_target(r >= match,
                       "range: ds matches or beats the sorted array + binary search: ds %.2f ns/item, sorted array "
                       "%.2f ns/item, array/ds %.2fx",
                       ds_item, sa_item, r);
        }
    }

    /* ---- (b) */
    printf("\n(b) earliest / pop-earliest, out-of-order arrivals (%zu events)\n", n);
    printf("  %-8s %-10s %12s %10s   %s\n", "phase", "contender", "ns/op", "heap/ds", "op");
    for (k = 0; k < NB; k++) {
        static const char *const opname[NB] = {"add", "earliest + pop", "add + earliest (+ pop past window)"};
        double tds = bench_median(&res->b[S_DS][k]) / (double)n;
        double th = bench_median(&res->b[S_HEAP][k]) / (double)n;
        printf("  %-8s %-10s %12.2f %10s   %s\n", b_name[k], s_name[S_DS], tds, "", opname[k]);
        printf("  %-8s %-10s %12.2f %10.2f\n", "", s_name[S_HEAP], th, bench_ratio(th, tds));
    }
    {
        int ok = res->bp[S_DS][B_FILL].n == n && res->bp[S_HEAP][B_FILL].n == n;
        for (k = B_DRAIN; k < NB; k++) ok &= same_pops(res->bp[S_DS][k], res->bp[S_HEAP][k]) && res->bp[S_DS][k].n == n;
        printf("  checksums (pops, order hash, peek sum): drain %" PRIu64 " %016" PRIx64 " %" PRIu64 ", stream %" PRIu64
               " %016" PRIx64 " %" PRIu64 " %s\n",
               res->bp[S_DS][B_DRAIN].n, res->bp[S_DS][B_DRAIN].hash, res->bp[S_DS][B_DRAIN].peek,
               res->bp[S_DS][B_STREAM].n, res->bp[S_DS][B_STREAM].hash, res->bp[S_DS][B_STREAM].peek,
               ok ? "- ds and heap agree" : "");
        if (!ok) {
            agree = 0;
            for (k = 0; k < NB; k++)
                mismatch("%s: ds %" PRIu64 " %016" PRIx64 " %" PRIu64 ", heap %" PRIu64 " %016" PRIx64 " %" PRIu64,
                         b_name[k], res->bp[S_DS][k].n, res->bp[S_DS][k].hash, res->bp[S_DS][k].peek,
                         res->bp[S_HEAP][k].n, res->bp[S_HEAP][k].hash, res->bp[S_HEAP][k].peek);
        }
        {
            double tds = bench_median(&res->b[S_DS][B_STREAM]) / (double)n;
            double th = bench_median(&res->b[S_HEAP][B_STREAM]) / (double)n;
            double r = bench_ratio(th, tds);
            add_target(r >= match,
                       "earliest/pop: ds matches or beats the binary heap on the reorder stream: ds %.2f ns/event, "
                       "heap %.2f ns/event, heap/ds %.2fx",
                       tds, th, r);
            tds = (bench_median(&res->b[S_DS][B_FILL]) + bench_median(&res->b[S_DS][B_DRAIN])) / (double)n;
            th = (bench_median(&res->b[S_HEAP][B_FILL]) + bench_median(&res->b[S_HEAP][B_DRAIN])) / (double)n;
            r = bench_ratio(th, tds);
            add_target(r >= match,
                       "earliest/pop: ds matches or beats the binary heap on fill + drain of all %s: ds %.2f ns/event, "
                       "heap %.2f ns/event, heap/ds %.2fx",
                       size_label(n, lbl, sizeof lbl), tds, th, r);
        }
    }

    /* ---- (c) */
    printf("\n(c) in-order append of %zu timestamps into an empty store\n", n);
    printf("  %-14s %12s %10s %14s\n", "contender", "ns/append", "peer/ds", "bytes/entry");
    {
        double tds = bench_median(&res->c[C_DS]) / (double)n;
        for (k = 0; k < NC; k++) {
            double t = bench_median(&res->c[k]) / (double)n;
            printf("  %-14s %12.2f %10.2f %14.1f%s\n", c_name[k], t, bench_ratio(t, tds), res->c_bytes[k],
                   k == C_BATCH ? "   (ts64_insert_batch: bulk load, reference only)" : "");
        }
        for (k = 0; k < NC; k++)
            if (res->cadded[k] != n) {
                agree = 0;
                mismatch("%s added %" PRIu64 " of %zu", c_name[k], res->cadded[k], n);
            }
        if (agree) printf("  every contender added all %zu\n", n);
        {
            double tsa = bench_median(&res->c[C_SA]) / (double)n, r = bench_ratio(tsa, tds);
            add_target(r >= match,
                       "append: ds matches or beats appending to a sorted array: ds %.2f ns, sorted array %.2f ns, "
                       "array/ds %.2fx",
                       tds, tsa, r);
        }
    }

    printf("\ntargets (range query >= 50x faster than SortedDict per returned item; and ds matches (>= %.2fx)\n"
           "         or beats each backend on its own pattern)\n",
           match);
    {
        int met = 0, measured = 0;
        for (k = 0; k < g_ntargets; k++) {
            printf("  %-7s %s\n", g_targets[k].met > 0 ? "MET" : g_targets[k].met == 0 ? "MISSED" : "N/A",
                   g_targets[k].line);
            met += g_targets[k].met > 0;
            measured += g_targets[k].met >= 0;
        }
        printf("  %d of %d targets met%s\n", met, g_ntargets, measured < g_ntargets ? " (some not measured)" : "");
    }
    printf("\n(peer/ds > 1: ds is faster)   peak RSS %ld KiB\n", bench_peak_rss_kb());

    ts64_free(&built);
    sarr_free(&sa);
    free(tb);
    free(vb);
    free(res);
    free_data(&d);
    if (g_failed || !agree) printf("bench_tstore: MISMATCH in some answers (see above)\n");
    return g_failed || !agree ? 1 : 0;
}
