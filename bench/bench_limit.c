/* bench/bench_limit.c - rate limiter decisions per second, per algorithm:
 * one limiter (single key) and a ds_limiter_table over 10^6 keys.
 *
 * There is no C library peer to put beside it, so the baseline is the
 * seed's own token bucket (shared/seeds/001: `tokens` a double refilled by
 * elapsed * rate) written plainly in C: what a user would hand-roll. It
 * drifts (floating point) and knows no burst/wait/remaining, but it is the
 * bar for speed. For 10^6 keys the baseline is that bucket in a DS_MAP
 * keyed by the id, unbounded (no memory bound, no eviction).
 *
 * Arrivals come at ~2x the configured rate, so about half are refused.
 *
 *   bench/bin/bench_limit [--quick] */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "bench/bench.h"

typedef struct naive_bucket {
    double tokens, last;
} naive_bucket;
static int naive_allow(naive_bucket *b, double now, double cap, double rate) {
    double t = b->tokens + (now - b->last) * rate;
    b->tokens = t < cap ? t : cap;
    b->last = now;
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return 1;
    }
    return 0;
}
DS_MAP(naive_map, uint64_t, naive_bucket, ds_hash_u64, ds_eq_u64)

static volatile uint64_t sink;

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    size_t N = quick ? 1000000 : 20000000, KEYS = quick ? 100000 : 1000000, i;
    int reps = bench_reps(quick ? 1 : 5), r, a;
    const int64_t SEC = 1000000000;
    int64_t *gap;
    uint64_t *keys;
    ds_rng rng;
    double base1, basek;

    gap = (int64_t *)malloc(N * sizeof *gap);
    keys = (uint64_t *)malloc(N * sizeof *keys);
    if (!gap || !keys) return 1;
    ds_rng_seed(&rng, 42);
    for (i = 0; i < N; i++) {
        gap[i] = (int64_t)ds_rng_below(&rng, 100); /* 1000 per 100 us configured; ~2x that arrives */
        keys[i] = ds_rng_below(&rng, KEYS) * 0x9e3779b97f4a7c15ull;
    }
    printf("rate limiter decisions: %zu per run, median of %d; ~50%% refused\n", N, reps);
    printf("%-24s %12s %10s %14s %10s\n", "", "1 key ns/op", "Mdec/s", "10^6 keys ns", "Mdec/s");

    { /* baselines */
        bench_samples s1 = {0}, sk = {0};
        for (r = 0; r < reps; r++) {
            naive_bucket b = {1000, 0};
            naive_map m;
            int64_t t0, now = 0;
            uint64_t ok = 0;
            t0 = bench_now();
            for (i = 0; i < N; i++) {
                now += gap[i];
                ok += (uint64_t)naive_allow(&b, (double)now / 1e9, 1000, 1e7);
            }
            bench_add(&s1, (double)(bench_now() - t0));
            naive_map_init(&m);
            now = 0;
            t0 = bench_now();
            for (i = 0; i < N; i++) {
                naive_bucket *e, fresh = {10, (double)now / 1e9};
                now += gap[i] * (int64_t)(KEYS / 1000);
                if (!(e = naive_map_get(&m, keys[i]))) {
                    naive_map_put(&m, keys[i], fresh, NULL);
                    e = naive_map_get(&m, keys[i]);
                }
                ok += (uint64_t)naive_allow(e, (double)now / 1e9, 10, 10);
            }
            bench_add(&sk, (double)(bench_now() - t0));
            naive_map_free(&m);
            sink += ok;
        }
        base1 = bench_ns_per_op(bench_median(&s1), (double)N);
        basek = bench_ns_per_op(bench_median(&sk), (double)N);
        printf("%-24s %12.2f %10.1f %14.2f %10.1f\n", "seed's bucket (double)", base1, bench_mops(base1), basek,
               bench_mops(basek));
    }
    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        bench_samples s1 = {0}, sk = {0};
        ds_limit_config c;
        double one, many;
        size_t live = 0, mem = 0;
        memset(&c, 0, sizeof c);
        c.algo = (ds_limit_algo)a;
        for (r = 0; r < reps; r++) {
            ds_limiter l;
            ds_limiter_table t;
            ds_limiter_table_config tc;
            int64_t t0, now = 0;
            uint64_t ok = 0;
            c.limit = 1000;
            c.period_ns = SEC / 10000; /* 1000 per 100 us */
            c.burst = 1000;
            ds_limiter_init(&l, &c, NULL);
            t0 = bench_now();
            for (i = 0; i < N; i++) {
                now += gap[i];
                ok += ds_limiter_allow(&l, 1, now) == DS_OK;
            }
            bench_add(&s1, (double)(bench_now() - t0));
            ds_limiter_free(&l);
            /* 10^6 keys, each 10 per second (burst 10), arrivals ~2x that */
            memset(&tc, 0, sizeof tc);
            tc.limit = c;
            tc.per_key.limit = 10;
            tc.per_key.period_ns = SEC;
            tc.per_key.burst = 10;
            tc.max_bytes = (size_t)1 << 30;
            if (ds_limiter_table_init(&t, &tc) != DS_OK) return 1;
            now = 0;
            t0 = bench_now();
            for (i = 0; i < N; i++) {
                now += gap[i] * (int64_t)(KEYS / 1000);
                ok += ds_limiter_table_allow(&t, keys[i], 1, now) == DS_OK;
            }
            bench_add(&sk, (double)(bench_now() - t0));
            live = ds_limiter_table_len(&t);
            mem = ds_limiter_table_memory(&t);
            ds_limiter_table_free(&t);
            sink += ok;
        }
        one = bench_ns_per_op(bench_median(&s1), (double)N);
        many = bench_ns_per_op(bench_median(&sk), (double)N);
        printf("%-24s %12.2f %10.1f %14.2f %10.1f   (%zu keys live, %.0f B/key)\n", ds_limit_algo_name(c.algo), one,
               bench_mops(one), many, bench_mops(many), live, live ? (double)mem / (double)live : 0.0);
    }
    printf("(ratios: seed's double bucket ns / ours; > 1 = ours faster)\n");
    free(gap);
    free(keys);
    return 0;
}
