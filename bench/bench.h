/* bench/bench.h - the small timing harness shared by ds's benchmarks (C or C++)
 *
 * Include it after ds.h (it uses ds_now_ns, the monotonic clock, and
 * ds_alloc). Everything is static; there is nothing to link.
 *
 *   int64_t bench_now(void)                 monotonic nanoseconds
 *   bench_samples s = {0}; bench_add(&s, ns) collect one timing per rep
 *   double bench_median(const bench_samples*) median of the reps (the middle
 *                                           one, or the mean of the two middle)
 *   double bench_ns_per_op(ns, ops)         ns / ops
 *   double bench_mops(ns_per_op)            million operations per second
 *   double bench_ratio(peer, ours)          peer / ours: > 1 means ours is faster
 *   long   bench_peak_rss_kb(void)          peak resident set size (getrusage)
 *   int    bench_reps(def)                  BENCH_REPS from the environment,
 *                                           else the default
 *   bench_counter                           bytes/allocations a structure asked
 *                                           for: cur (live), peak, allocs
 *   bench_count_alloc / bench_count_free    update a counter by hand (C hooks)
 *   ds_alloc bench_ds_alloc(bench_counter*) a ds_alloc over malloc that counts
 *   bench::counting_allocator<T, Tag>       (C++) a std allocator that counts
 *                                           into bench::counter_for<Tag>()
 *
 * Counted bytes are what the structure requested: malloc's own per-block
 * overhead (8-16 bytes a block in glibc) is not included, which flatters
 * node-based containers (one block per entry) a little.
 *
 * Typical use:
 *     bench_samples s = {0};
 *     for (r = 0; r < reps; r++) {
 *         setup();                         // not timed
 *         int64_t t0 = bench_now();
 *         work();
 *         bench_add(&s, (double)(bench_now() - t0));
 *     }
 *     printf("%.2f ns/op\n", bench_ns_per_op(bench_median(&s), n));
 */
#ifndef DS_BENCH_H
#define DS_BENCH_H

#ifndef DS_H_INCLUDED
#error "bench.h: include ds.h first"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define BENCH_MAX_REPS 64

static inline int64_t bench_now(void) { return ds_now_ns(); }

typedef struct bench_samples {
    double ns[BENCH_MAX_REPS];
    int n;
} bench_samples;

static inline void bench_add(bench_samples *s, double ns) {
    if (s->n >= 0 && s->n < BENCH_MAX_REPS) s->ns[s->n++] = ns;
}

static inline double bench_median(const bench_samples *s) {
    double v[BENCH_MAX_REPS];
    int i, j, n = s->n;
    if (n == 0) return 0.0;
    memcpy(v, s->ns, (size_t)n * sizeof(double));
    for (i = 1; i < n; i++) /* insertion sort: n is a handful */
        for (j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static inline double bench_ns_per_op(double ns, double ops) { return ops > 0 ? ns / ops : 0.0; }
static inline double bench_mops(double ns_per_op) { return ns_per_op > 0 ? 1e3 / ns_per_op : 0.0; }
static inline double bench_ratio(double peer, double ours) { return ours > 0 ? peer / ours : 0.0; }

/* Peak resident set size of this process so far, in KiB (Linux ru_maxrss). */
static inline long bench_peak_rss_kb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return (long)ru.ru_maxrss;
}

/* Repetition count: $BENCH_REPS if set to a positive number, else def. */
static inline int bench_reps(int def) {
    const char *e = getenv("BENCH_REPS");
    int r = e ? atoi(e) : 0;
    if (r <= 0) r = def;
    return r > BENCH_MAX_REPS ? BENCH_MAX_REPS : r;
}

/* ---- counting allocation ------------------------------------------------ */

typedef struct bench_counter {
    size_t cur, peak;  /* live bytes now / at most */
    size_t allocs;     /* allocations made */
} bench_counter;

static inline void bench_count_alloc(bench_counter *c, size_t n) {
    c->cur += n;
    c->allocs++;
    if (c->cur > c->peak) c->peak = c->cur;
}
static inline void bench_count_free(bench_counter *c, size_t n) { c->cur -= n; }
static inline void bench_counter_reset(bench_counter *c) { c->cur = c->peak = c->allocs = 0; }

static inline void *bench__ds_malloc(void *ctx, size_t n) {
    void *p = malloc(n);
    if (p) bench_count_alloc((bench_counter *)ctx, n);
    return p;
}
static inline void *bench__ds_realloc(void *ctx, void *p, size_t old_n, size_t new_n) {
    void *q = realloc(p, new_n);
    if (q) {
        bench_count_free((bench_counter *)ctx, old_n);
        bench_count_alloc((bench_counter *)ctx, new_n);
    }
    return q;
}
static inline void bench__ds_free(void *ctx, void *p, size_t n) {
    if (p) bench_count_free((bench_counter *)ctx, n);
    free(p);
}
/* A ds_alloc over libc that counts into *c (which must outlive its users). */
static inline ds_alloc bench_ds_alloc(bench_counter *c) {
    ds_alloc a;
    a.malloc_fn = bench__ds_malloc;
    a.realloc_fn = bench__ds_realloc;
    a.free_fn = bench__ds_free;
    a.ctx = c;
    return a;
}

#ifdef __cplusplus
#include <cstddef>
#include <new>

namespace bench {

/* One counter per tag type, so each container counts separately. */
template <class Tag> inline bench_counter &counter_for() {
    static bench_counter c;
    return c;
}

/* A stateless std allocator that counts every byte requested through it. */
template <class T, class Tag> struct counting_allocator {
    typedef T value_type;
    counting_allocator() noexcept {}
    template <class U> counting_allocator(const counting_allocator<U, Tag> &) noexcept {}
    template <class U> struct rebind { typedef counting_allocator<U, Tag> other; };
    T *allocate(std::size_t n) {
        void *p = ::operator new(n * sizeof(T));
        bench_count_alloc(&counter_for<Tag>(), n * sizeof(T));
        return static_cast<T *>(p);
    }
    void deallocate(T *p, std::size_t n) noexcept {
        bench_count_free(&counter_for<Tag>(), n * sizeof(T));
        ::operator delete(p);
    }
    template <class U> bool operator==(const counting_allocator<U, Tag> &) const noexcept { return true; }
    template <class U> bool operator!=(const counting_allocator<U, Tag> &) const noexcept { return false; }
};

} /* namespace bench */
#endif /* __cplusplus */

/* uthash's allocation hooks, counting into g_uthash_count (define
 * BENCH_UTHASH before including this file, and include <uthash.h> after
 * it). Item structs allocated by the bench go through the same pair. */
#ifdef BENCH_UTHASH
static bench_counter g_uthash_count;
static void *bench_ut_malloc(size_t n) {
    void *p = malloc(n);
    if (p) bench_count_alloc(&g_uthash_count, n);
    return p;
}
static void bench_ut_free(void *p, size_t n) {
    if (p) bench_count_free(&g_uthash_count, n);
    free(p);
}
#define uthash_malloc(sz) bench_ut_malloc(sz)
#define uthash_free(ptr, sz) bench_ut_free((ptr), (sz))
#endif

#endif /* DS_BENCH_H */
