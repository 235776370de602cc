/* examples/latency_metrics.c - p50 / p99 latency over a sliding window,
 * and over all time with a quantile sketch.
 *
 * A service handles ~2000 requests per simulated second for two minutes.
 * Latencies are log-normal-ish around 4 ms; at t = 60 s a dependency slows
 * down and 5% of requests take 200-400 ms for twenty seconds. A dashboard
 * shows, every 10 s, the exact p50/p90/p99 of the last 10 seconds
 * (ds_window: the answers equal sorting the window) next to the all-time
 * p99 from a DDSketch (1% relative error, a few KiB however long it runs).
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/latency_metrics.c -o latency_metrics -lm
 *     ./latency_metrics */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <math.h>
#include <stdio.h>

#define MS ((int64_t)1000000)
#define SEC (1000 * MS)

int main(void) {
    ds_window last10s;
    ds_ddsketch alltime;
    ds_rng rng;
    int64_t now = 0, next_report = 10 * SEC;
    ds_status st;

    if ((st = ds_window_init_time(&last10s, 10 * SEC, NULL)) != DS_OK ||
        (st = ds_ddsketch_init(&alltime, 0.01, 0, NULL)) != DS_OK) {
        fprintf(stderr, "init: %s\n", ds_strerror(st));
        return 1;
    }
    ds_rng_seed(&rng, 42);
    printf("   t    n(10s)   p50 ms   p90 ms   p99 ms   max ms | all-time p99 ms\n");
    while (now < 120 * SEC) {
        double ms = 4.0 * exp((ds_rng_double(&rng) + ds_rng_double(&rng) - 1.0) * 0.8);
        if (now >= 60 * SEC && now < 80 * SEC && ds_rng_below(&rng, 100) < 5)
            ms = 200.0 + 200.0 * ds_rng_double(&rng); /* the slow dependency */
        now += (int64_t)ds_rng_below(&rng, 1000000); /* ~0.5 ms between requests */
        if (ds_window_add(&last10s, ms, now) != DS_OK || ds_ddsketch_add(&alltime, ms) != DS_OK) return 1;
        if (now >= next_report) {
            printf("%4.0fs %9zu %8.2f %8.2f %8.2f %8.2f | %8.2f\n", (double)now / SEC,
                   ds_window_count(&last10s), ds_window_quantile(&last10s, 0.5),
                   ds_window_quantile(&last10s, 0.9), ds_window_quantile(&last10s, 0.99),
                   ds_window_max(&last10s), ds_ddsketch_quantile(&alltime, 0.99));
            next_report += 10 * SEC;
        }
    }
    printf("all time: %llu requests, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms (sketch: %zu buckets)\n",
           (unsigned long long)ds_ddsketch_count(&alltime), ds_ddsketch_quantile(&alltime, 0.5),
           ds_ddsketch_quantile(&alltime, 0.99), ds_ddsketch_quantile(&alltime, 0.999),
           alltime.pos.nbins);
    ds_window_free(&last10s);
    ds_ddsketch_free(&alltime);
    return 0;
}
