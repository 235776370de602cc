/* bench/bench_cmap.c - DS_CMAP (sharded) beside one global lock around a DS_MAP.
 *
 * Contenders, all over the same uint64 -> uint64 DS_MAP code:
 *   global   one pthread mutex around one DS_MAP (what a user writes first)
 *   sharded  DS_CMAP, default shards (16 on this machine), mutex per shard
 *   rwlock   DS_CMAP built with DS_CMAP_RWLOCK (a pthread rwlock per shard);
 *            this file compiled a second time with -DBENCH_CMAP_RW_PART
 *            provides it, since the lock type is a header option
 *   private  the control: every thread its own unlocked DS_MAP (nothing
 *            shared), so its 1 -> 2 thread scaling shows how much of a
 *            second core the machine gave the run
 * Workload: keys drawn uniformly from [0, 2N) with about N present (the
 * prefill puts a random half); each op is a get (copied out) with
 * probability read%, else a put or a del (half each), so the size stays
 * near N. 1 and 2 threads (the machine has 2 cores), 90/10 and 50/50
 * read/write. Each thread runs a fixed number of ops after a common start;
 * throughput = all ops / wall time from start to the last join. Medians of
 * the reps (interleaved: every contender once per rep), and the ratios
 * sharded / global and rwlock / sharded at the same thread count.
 *
 *   bench_cmap [--quick] [--n N] [--ops OPS]    (BENCH_REPS overrides reps) */
#ifndef BENCH_CMAP_RW_PART
#define _GNU_SOURCE
#define DS_IMPLEMENTATION
#else
#define _POSIX_C_SOURCE 200809L
#define DS_CMAP_RWLOCK
#endif
#include "ds_concurrent.h"
#include "bench/bench.h"
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run_cfg {
    uint64_t keymask; /* 2N - 1 */
    long ops;         /* per thread */
    int read_pct;
} run_cfg;

/* One thread's op loop, GET/PUT/DEL spliced in so each contender's calls
 * are inlined alike. The key and the op come from one xoshiro draw. */
#define BENCH_CMAP_WORKER(fn, MAP_T, GET, PUT, DEL)                          \
    typedef struct fn##_arg {                                                \
        MAP_T *m;                                                            \
        const run_cfg *rc;                                                   \
        uint64_t seed, sum;                                                  \
        _Atomic int *go;                                                     \
    } fn##_arg;                                                              \
    static void *fn(void *p) {                                               \
        fn##_arg *a = (fn##_arg *)p;                                         \
        MAP_T *m = a->m;                                                     \
        ds_rng r;                                                            \
        uint64_t sum = 0, mask = a->rc->keymask;                             \
        uint64_t reads = (uint64_t)a->rc->read_pct * 1024 / 100;             \
        long i, n = a->rc->ops;                                              \
        ds_rng_seed(&r, a->seed);                                            \
        while (!*a->go) sched_yield();                                       \
        for (i = 0; i < n; i++) {                                            \
            uint64_t x = ds_rng_next(&r), k = x & mask, v = 0;               \
            uint64_t op = (x >> 40) & 1023;                                  \
            if (op < reads) {                                                \
                if (GET(m, k, &v) == DS_OK) sum += v;                        \
            } else if (x >> 63) {                                            \
                PUT(m, k, x);                                                \
            } else {                                                         \
                DEL(m, k);                                                   \
            }                                                                \
        }                                                                    \
        a->sum = sum;                                                        \
        return NULL;                                                         \
    }

/* Runs fn on `threads` threads; returns the wall ns from go to the last join. */
#define BENCH_CMAP_RUNNER(fn, MAP_T)                                         \
    static double fn##_run(MAP_T *m, int own, const run_cfg *rc, int threads, uint64_t seed) { \
        pthread_t t[8];                                                      \
        fn##_arg a[8];                                                       \
        _Atomic int go = 0;                                                  \
        int64_t t0;                                                          \
        int i;                                                               \
        for (i = 0; i < threads; i++) {                                      \
            a[i].m = own ? m + i : m; /* own: one map per thread */         \
            a[i].rc = rc;                                                    \
            a[i].seed = seed * 16 + (uint64_t)i;                             \
            a[i].go = &go;                                                   \
            pthread_create(&t[i], NULL, fn, &a[i]);                          \
        }                                                                    \
        t0 = bench_now();                                                    \
        go = 1;                                                              \
        for (i = 0; i < threads; i++) pthread_join(t[i], NULL);              \
        return (double)(bench_now() - t0);                                   \
    }

#ifdef BENCH_CMAP_RW_PART
/* ---- the rwlock build of DS_CMAP (linked into the main part) ---------- */
DS_CMAP(rwmap, uint64_t, uint64_t, ds_hash_u64, ds_eq_u64)
#define RW_GET(m, k, out) rwmap_get((m), (k), (out))
#define RW_PUT(m, k, v) rwmap_put((m), (k), (v), NULL)
#define RW_DEL(m, k) rwmap_del((m), (k), NULL)
BENCH_CMAP_WORKER(rw_worker, rwmap, RW_GET, RW_PUT, RW_DEL)
BENCH_CMAP_RUNNER(rw_worker, rwmap)

static rwmap g_rw;
void bench_cmap_rw_setup(uint64_t keymask);
double bench_cmap_rw_run(const run_cfg *rc, int threads, uint64_t seed);
void bench_cmap_rw_free(void);
void bench_cmap_rw_setup(uint64_t keymask) {
    uint64_t k;
    if (rwmap_init(&g_rw, NULL) != DS_OK) abort();
    for (k = 0; k <= keymask; k++)
        if (ds_mix64(k) & 1) rwmap_put(&g_rw, k, k, NULL);
}
double bench_cmap_rw_run(const run_cfg *rc, int threads, uint64_t seed) {
    return rw_worker_run(&g_rw, 0, rc, threads, seed);
}
void bench_cmap_rw_free(void) { rwmap_free(&g_rw); }

#else
/* ---- main part: global lock, sharded, and the driver ------------------ */
void bench_cmap_rw_setup(uint64_t keymask);
double bench_cmap_rw_run(const run_cfg *rc, int threads, uint64_t seed);
void bench_cmap_rw_free(void);

DS_MAP(gmap_t, uint64_t, uint64_t, ds_hash_u64, ds_eq_u64)
typedef struct gmap {
    pthread_mutex_t mu;
    gmap_t m;
} gmap;
static inline ds_status g_get(gmap *g, uint64_t k, uint64_t *out) {
    uint64_t *p;
    ds_status s = DS_ENOTFOUND;
    pthread_mutex_lock(&g->mu);
    if ((p = gmap_t_get(&g->m, k)) != NULL) {
        *out = *p;
        s = DS_OK;
    }
    pthread_mutex_unlock(&g->mu);
    return s;
}
static inline ds_status g_put(gmap *g, uint64_t k, uint64_t v) {
    ds_status s;
    pthread_mutex_lock(&g->mu);
    s = gmap_t_put(&g->m, k, v, NULL);
    pthread_mutex_unlock(&g->mu);
    return s;
}
static inline ds_status g_del(gmap *g, uint64_t k) {
    ds_status s;
    pthread_mutex_lock(&g->mu);
    s = gmap_t_del(&g->m, k, NULL);
    pthread_mutex_unlock(&g->mu);
    return s;
}
BENCH_CMAP_WORKER(g_worker, gmap, g_get, g_put, g_del)
BENCH_CMAP_RUNNER(g_worker, gmap)

/* The control: each thread its own DS_MAP, no lock, nothing shared. Its 1
 * -> 2 thread scaling is what the machine allows right now (about 2x on two
 * idle cores, about 1x when other load leaves one core). */
static inline ds_status p_get(gmap_t *m, uint64_t k, uint64_t *out) {
    uint64_t *p = gmap_t_get(m, k);
    if (!p) return DS_ENOTFOUND;
    *out = *p;
    return DS_OK;
}
#define P_PUT(m, k, v) gmap_t_put((m), (k), (v), NULL)
#define P_DEL(m, k) gmap_t_del((m), (k), NULL)
BENCH_CMAP_WORKER(p_worker, gmap_t, p_get, P_PUT, P_DEL)
BENCH_CMAP_RUNNER(p_worker, gmap_t)

DS_CMAP(smap, uint64_t, uint64_t, ds_hash_u64, ds_eq_u64)
#define S_GET(m, k, out) smap_get((m), (k), (out))
#define S_PUT(m, k, v) smap_put((m), (k), (v), NULL)
#define S_DEL(m, k) smap_del((m), (k), NULL)
BENCH_CMAP_WORKER(s_worker, smap, S_GET, S_PUT, S_DEL)
BENCH_CMAP_RUNNER(s_worker, smap)

#define NIMPL 4 /* global mutex + DS_MAP, DS_CMAP (mutex), DS_CMAP (rwlock), private maps */

int main(int argc, char **argv) {
    int quick = 0, i, mix, th, rep, reps, impl;
    long n = 1L << 16, ops = 2000000;
    static const int mixes[2] = {90, 50};
    static const int nthreads[2] = {1, 2};
    bench_samples s[2][2][NIMPL];
    gmap g;
    gmap_t own[2];
    smap sm;
    uint64_t k, keymask;
    double load[3] = {0, 0, 0};
    FILE *f;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--ops") && i + 1 < argc) ops = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_cmap [--quick] [--n N] [--ops OPS]\n");
            return 2;
        }
    }
    if (quick) {
        n = 1L << 14;
        ops = 200000;
    }
    reps = bench_reps(quick ? 1 : 5);
    keymask = (uint64_t)ds__pow2_ceil((size_t)(2 * n)) - 1;
    memset(s, 0, sizeof s);

    pthread_mutex_init(&g.mu, NULL);
    gmap_t_init(&g.m);
    gmap_t_init(&own[0]);
    gmap_t_init(&own[1]);
    if (smap_init(&sm, NULL) != DS_OK) return 1;
    for (k = 0; k <= keymask; k++)
        if (ds_mix64(k) & 1) {
            gmap_t_put(&g.m, k, k, NULL);
            gmap_t_put(&own[0], k, k, NULL);
            gmap_t_put(&own[1], k, k, NULL);
            smap_put(&sm, k, k, NULL);
        }
    bench_cmap_rw_setup(keymask);
    if ((f = fopen("/proc/loadavg", "r")) != NULL) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
        fclose(f);
    }
    printf("DS_CMAP vs one global mutex: uint64 keys in [0, %llu), ~%llu present, %ld ops/thread,\n"
           "%d reps (median), %zu shards, load average %.2f %.2f %.2f at start\n",
           (unsigned long long)keymask + 1, (unsigned long long)smap_len(&sm), ops, reps,
           smap_shards(&sm), load[0], load[1], load[2]);
    for (rep = 0; rep < reps; rep++)
        for (mix = 0; mix < 2; mix++)
            for (th = 0; th < 2; th++) {
                run_cfg rc;
                rc.keymask = keymask;
                rc.ops = ops;
                rc.read_pct = mixes[mix];
                for (impl = 0; impl < NIMPL; impl++) {
                    uint64_t seed = (uint64_t)(rep * 100 + mix * 10 + th + 1);
                    double ns = impl == 0   ? g_worker_run(&g, 0, &rc, nthreads[th], seed)
                                : impl == 1 ? s_worker_run(&sm, 0, &rc, nthreads[th], seed)
                                : impl == 2 ? bench_cmap_rw_run(&rc, nthreads[th], seed)
                                            : p_worker_run(own, 1, &rc, nthreads[th], seed);
                    bench_add(&s[mix][th][impl], (double)(ops * nthreads[th]) / ns * 1e3); /* Mops/s */
                }
            }
    printf("\n| read/write | threads | global mutex Mops/s | DS_CMAP mutex Mops/s | DS_CMAP rwlock Mops/s "
           "| private maps (control) | sharded / global | rwlock / mutex |\n|---|---|---|---|---|---|---|---|\n");
    for (mix = 0; mix < 2; mix++)
        for (th = 0; th < 2; th++) {
            double gm = bench_median(&s[mix][th][0]), sh = bench_median(&s[mix][th][1]),
                   rw = bench_median(&s[mix][th][2]), pv = bench_median(&s[mix][th][3]);
            printf("| %d/%d | %d | %.2f | %.2f | %.2f | %.2f | %.2fx | %.2fx |\n", mixes[mix], 100 - mixes[mix],
                   nthreads[th], gm, sh, rw, pv, sh / gm, rw / sh);
        }
    {
        double g2 = bench_median(&s[0][1][0]), s2 = bench_median(&s[0][1][1]);
        printf("\ntarget (issue 8): DS_CMAP >= 1.6x the global lock at 2 threads, 90/10: %.2fx %s\n", s2 / g2,
               s2 / g2 >= 1.6 ? "(met)" : "(MISSED)");
        printf("scaling 1 -> 2 threads, 90/10: global %.2fx, DS_CMAP %.2fx, private maps (what the machine\n"
               "allowed: ~2x on two idle cores, ~1x when other load leaves one) %.2fx\n",
               g2 / bench_median(&s[0][0][0]), s2 / bench_median(&s[0][0][1]),
               bench_median(&s[0][1][3]) / bench_median(&s[0][0][3]));
    }
    smap_free(&sm);
    gmap_t_free(&g.m);
    gmap_t_free(&own[0]);
    gmap_t_free(&own[1]);
    pthread_mutex_destroy(&g.mu);
    bench_cmap_rw_free();
    return 0;
}
#endif
