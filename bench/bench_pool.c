/* bench/bench_pool.c - ds_pool beside GLib's GThreadPool.
 *
 * Throughput: one submitter thread (main) hands N tiny tasks (each adds 1
 * to an atomic counter) to a pool of 1 or 2 workers and then waits for all
 * of them: ds_pool_submit + ds_pool_shutdown, g_thread_pool_push +
 * g_thread_pool_free(pool, FALSE, TRUE) (both: run everything queued, then
 * join). Pools are created (threads started) before the clock starts.
 * ds_pool runs with its defaults (latency sampled one task in 16) and a
 * 1024-slot queue, so the submitter meets backpressure whenever the workers
 * fall behind; GThreadPool's queue is unbounded. Reported: tasks/s (median
 * of the reps) and ds / GLib.
 *
 * Submit latency: the time of each submit call alone (bench_now() around
 * it; the clock read's own cost, printed, is in both), in bursts of 256
 * tasks with the pool drained between bursts (so ds's queue never fills and
 * both measure the hand-off, not backpressure), 2 workers. Reported: median
 * and p99 ns over all submits of all reps.
 *
 *   bench_pool [--quick] [--tasks N]      (BENCH_REPS overrides the reps)
 *
 * Build (bench/run.sh does this):
 *   gcc -std=c11 -O2 -DNDEBUG -I. bench/bench_pool.c -o bench/bin/bench_pool \
 *       $(pkg-config --cflags --libs glib-2.0) -pthread -lm */
#define _GNU_SOURCE
#define DS_IMPLEMENTATION
#include "ds_concurrent.h"
#include "bench/bench.h"
#include <glib.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPACITY 1024
#define BURST 256

static DS__ATOMIC(long) counter;

static int ds_task(void *arg) {
    (void)arg;
    DS__AADD(&counter, 1L, relaxed);
    return 0;
}
static void glib_task(gpointer data, gpointer user) {
    (void)data;
    (void)user;
    DS__AADD(&counter, 1L, relaxed);
}

/* ---- throughput -------------------------------------------------------------- */

static double run_ds(long n, int workers) {
    ds_pool p;
    ds_pool_task t = {ds_task, NULL, NULL, NULL};
    int64_t t0;
    double ns;
    long i;
    DS__ASTORE(&counter, 0L, relaxed);
    if (ds_pool_init(&p, (size_t)workers, CAPACITY) != DS_OK) exit(1);
    t0 = bench_now();
    for (i = 0; i < n; i++)
        if (ds_pool_submit(&p, &t) != DS_OK) exit(1);
    ds_pool_shutdown(&p);
    ns = (double)(bench_now() - t0);
    if (DS__ALOAD(&counter, relaxed) != n) {
        fprintf(stderr, "ds_pool: %ld of %ld tasks ran\n", DS__ALOAD(&counter, relaxed), n);
        exit(1);
    }
    ds_pool_free(&p);
    return ns;
}

static double run_glib(long n, int workers) {
    GThreadPool *gp;
    GError *err = NULL;
    int64_t t0;
    double ns;
    long i;
    DS__ASTORE(&counter, 0L, relaxed);
    /* exclusive: the threads start now and belong to this pool */
    gp = g_thread_pool_new(glib_task, NULL, workers, TRUE, &err);
    if (!gp) exit(1);
    t0 = bench_now();
    for (i = 0; i < n; i++) g_thread_pool_push(gp, GINT_TO_POINTER(1), NULL); /* data must be non-NULL */
    g_thread_pool_free(gp, FALSE, TRUE);
    ns = (double)(bench_now() - t0);
    if (DS__ALOAD(&counter, relaxed) != n) {
        fprintf(stderr, "GThreadPool: %ld of %ld tasks ran\n", DS__ALOAD(&counter, relaxed), n);
        exit(1);
    }
    return ns;
}

/* ---- submit latency ---------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}
static void wait_count(long want) {
    while (DS__ALOAD(&counter, acquire) < want) sched_yield();
}

/* Fills lat[0..n) with the ns of each submit call. */
static void lat_ds(int64_t *lat, long n) {
    ds_pool p;
    ds_pool_task t = {ds_task, NULL, NULL, NULL};
    long i;
    DS__ASTORE(&counter, 0L, relaxed);
    if (ds_pool_init(&p, 2, CAPACITY) != DS_OK) exit(1);
    for (i = 0; i < n; i++) {
        int64_t t0 = bench_now();
        if (ds_pool_submit(&p, &t) != DS_OK) exit(1);
        lat[i] = bench_now() - t0;
        if ((i + 1) % BURST == 0) ds_pool_wait_idle(&p);
    }
    ds_pool_free(&p);
}
static void lat_glib(int64_t *lat, long n) {
    GThreadPool *gp = g_thread_pool_new(glib_task, NULL, 2, TRUE, NULL);
    long i;
    DS__ASTORE(&counter, 0L, relaxed);
    if (!gp) exit(1);
    for (i = 0; i < n; i++) {
        int64_t t0 = bench_now();
        g_thread_pool_push(gp, GINT_TO_POINTER(1), NULL);
        lat[i] = bench_now() - t0;
        if ((i + 1) % BURST == 0) wait_count(i + 1); /* GThreadPool has no wait-idle */
    }
    g_thread_pool_free(gp, FALSE, TRUE);
}

int main(int argc, char **argv) {
    long n = 1000000, nlat = 200000;
    int quick = 0, reps, r, w, a;
    int64_t *lat_a, *lat_b, c0;
    double clock_ns;
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--quick") == 0) quick = 1;
        else if (strcmp(argv[a], "--tasks") == 0 && a + 1 < argc) n = atol(argv[++a]);
        else {
            fprintf(stderr, "usage: bench_pool [--quick] [--tasks N]\n");
            return 2;
        }
    }
    if (quick) {
        n = n < 100000 ? n : 100000;
        nlat = 20000;
    }
    if (n <= 0) return 2;
    reps = bench_reps(quick ? 1 : 5);
    /* the clock's own cost, inside every latency sample */
    c0 = bench_now();
    for (a = 0; a < 1000000; a++) (void)bench_now();
    clock_ns = (double)(bench_now() - c0) / 1e6;

    printf("Pool throughput: %ld tiny tasks (an atomic add) from one submitter, then wait for all\n"
           "(ds_pool_shutdown / g_thread_pool_free(wait)); ds queue %d slots, GLib unbounded;\n"
           "Mtasks/s, median of %d\n", n, CAPACITY, reps);
    printf("  %-8s %10s %12s %8s\n", "workers", "ds_pool", "GThreadPool", "ds/GLib");
    for (w = 1; w <= 2; w++) {
        bench_samples sd = {{0}, 0}, sg = {{0}, 0};
        double d, g;
        for (r = 0; r < reps; r++) {
            /* alternate which goes first, so neither always meets the warmer cache */
            if (r % 2 == 0) {
                bench_add(&sd, run_ds(n, w));
                bench_add(&sg, run_glib(n, w));
            } else {
                bench_add(&sg, run_glib(n, w));
                bench_add(&sd, run_ds(n, w));
            }
        }
        d = bench_median(&sd);
        g = bench_median(&sg);
        printf("  %-8d %10.2f %12.2f %7.2fx\n", w, (double)n / d * 1e3, (double)n / g * 1e3,
               bench_ratio(g, d));
    }

    lat_a = (int64_t *)malloc((size_t)(nlat * reps) * sizeof(int64_t));
    lat_b = (int64_t *)malloc((size_t)(nlat * reps) * sizeof(int64_t));
    if (!lat_a || !lat_b) return 1;
    for (r = 0; r < reps; r++) {
        lat_ds(lat_a + (long)r * nlat, nlat);
        lat_glib(lat_b + (long)r * nlat, nlat);
    }
    qsort(lat_a, (size_t)(nlat * reps), sizeof(int64_t), cmp_i64);
    qsort(lat_b, (size_t)(nlat * reps), sizeof(int64_t), cmp_i64);
    {
        long m = nlat * reps;
        printf("\nSubmit latency: %ld submits x %d reps in bursts of %d (drained between bursts),\n"
               "2 workers; ns per call including one clock read (%.0f ns)\n", nlat, reps, BURST, clock_ns);
        printf("  %-12s %8s %8s %8s\n", "", "median", "p99", "p99.9");
        printf("  %-12s %8lld %8lld %8lld\n", "ds_pool", (long long)lat_a[m / 2],
               (long long)lat_a[m * 99 / 100], (long long)lat_a[m * 999 / 1000]);
        printf("  %-12s %8lld %8lld %8lld\n", "GThreadPool", (long long)lat_b[m / 2],
               (long long)lat_b[m * 99 / 100], (long long)lat_b[m * 999 / 1000]);
        printf("  GLib/ds: median %.2fx, p99 %.2fx\n", (double)lat_b[m / 2] / (double)lat_a[m / 2],
               (double)lat_b[m * 99 / 100] / (double)lat_a[m * 99 / 100]);
    }
    free(lat_a);
    free(lat_b);
    printf("  peak RSS %ld KiB\n", bench_peak_rss_kb());
    return 0;
}
