/* bench/bench_breaker.c - ds_breaker: allow + record pairs per second.
 *
 * There is no C circuit breaker a user would pick instead (resilience4j is
 * Java), so this prints ds's ns per pair only. Each pair is
 * ds_breaker_allow(now) then, when permitted, ds_breaker_record(outcome,
 * duration, now); outcomes and durations come from a pre-drawn table (the
 * RNG is not timed). Scenarios:
 *   count     COUNT_BASED window of 100 outcomes, 5% failures: stays CLOSED
 *   time      TIME_BASED, 10 buckets of 1 s, the clock +1 us a pair
 *             (a bucket fills with 10^6 outcomes, then is evicted)
 *   time-sparse  TIME_BASED, 60 buckets of 1 s, the clock +250 ms a pair:
 *             every record evicts a bucket
 *   storm     COUNT_BASED window of 100, 60% failures, open for 1 ms, 10
 *             probes, the clock +1 us: cycles CLOSED -> OPEN -> HALF_OPEN
 *             (most pairs are fast rejections)
 * Reps: untimed warm-up, then the median of R reps.
 *
 *   bench_breaker [--n N] [--reps R] [--quick]
 *     --n N      pairs per rep (default 10000000)
 *     --reps R   reps, median reported (default 5; env BENCH_REPS)
 *     --quick    smoke run: N = 200000, 1 rep */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE 4096 /* power of two */

typedef struct scenario {
    const char *name;
    ds_breaker_window window;
    uint32_t window_size, fail_pct;
    int64_t step_ns, wait_open_ns;
} scenario;

static unsigned char g_fail[TABLE];
static int64_t g_dur[TABLE];

/* One rep: n pairs on a fresh breaker; returns ns, adds the permitted count to *sink. */
static double run(const scenario *sc, long n, uint64_t *sink) {
    ds_breaker b;
    ds_breaker_config c;
    ds_breaker_stats st;
    int64_t now = INT64_C(1700000000000000000), t0;
    long i;
    memset(&c, 0, sizeof c);
    c.window = sc->window;
    c.window_size = sc->window_size;
    c.min_calls = 20;
    c.wait_open_ns = sc->wait_open_ns;
    c.slow_call_ns = 1000000;
    if (ds_breaker_init(&b, &c, NULL) != DS_OK) {
        fprintf(stderr, "bench_breaker: init failed\n");
        exit(1);
    }
    t0 = bench_now();
    for (i = 0; i < n; i++) {
        size_t k = (size_t)i & (TABLE - 1);
        if (ds_breaker_allow(&b, now, NULL) == DS_OK)
            ds_breaker_record(&b, g_fail[k] ? DS_BREAKER_FAILURE : DS_BREAKER_SUCCESS, g_dur[k], now);
        now += sc->step_ns;
    }
    t0 = bench_now() - t0;
    ds_breaker_snapshot(&b, now, &st);
    *sink += st.permitted + st.transitions;
    ds_breaker_free(&b);
    return (double)t0;
}

int main(int argc, char **argv) {
    static const scenario scs[] = {
        {"count", DS_BREAKER_COUNT_BASED, 100, 5, 1000, 0},
        {"time", DS_BREAKER_TIME_BASED, 10, 5, 1000, 0},
        {"time-sparse", DS_BREAKER_TIME_BASED, 60, 5, 250000000, 0},
        {"storm", DS_BREAKER_COUNT_BASED, 100, 60, 1000, 1000000},
    };
    long n = 10000000;
    int reps = 0, quick = 0, i, r;
    uint64_t sink = 0;
    ds_rng rng;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_breaker [--n N] [--reps R] [--quick]\n");
            return 2;
        }
    }
    if (quick) {
        n = 200000;
        reps = 1;
    }
    if (reps <= 0) reps = bench_reps(5);
    if (reps > BENCH_MAX_REPS) reps = BENCH_MAX_REPS;
    printf("ds_breaker: allow + record pairs, %ld per rep, median of %d\n", n, reps);
    printf("  %-12s %10s %10s %12s\n", "scenario", "ns/pair", "Mpairs/s", "permitted");
    for (i = 0; i < (int)(sizeof scs / sizeof scs[0]); i++) {
        const scenario *sc = &scs[i];
        bench_samples s;
        uint64_t perm = 0;
        double med;
        memset(&s, 0, sizeof s);
        ds_rng_seed(&rng, 1 + (uint64_t)i);
        for (r = 0; r < TABLE; r++) {
            g_fail[r] = ds_rng_below(&rng, 100) < sc->fail_pct;
            g_dur[r] = (int64_t)ds_rng_below(&rng, 2000000); /* 0-2 ms: half slow */
        }
        run(sc, n / 10 + 1, &sink); /* warm-up */
        for (r = 0; r < reps; r++) {
            uint64_t before = sink;
            bench_add(&s, run(sc, n, &sink));
            perm = sink - before;
        }
        med = bench_ns_per_op(bench_median(&s), (double)n);
        printf("  %-12s %10.2f %10.1f %12llu\n", sc->name, med, bench_mops(med), (unsigned long long)perm);
    }
    if (sink == 0) printf("(nothing permitted?)\n");
    return 0;
}
