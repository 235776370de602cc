/* examples/time_series.c - sensor events in a time-indexed store
 * (DS_TSTORE): in-order and late arrivals, range and "last N seconds"
 * queries, one-minute buckets, and retention.
 *
 * Three sensors report a temperature every second for an hour of
 * simulated time. Most readings arrive in order; one in ten arrives up to
 * 30 s late (a flaky network), and two sensors sometimes report in the same
 * nanosecond, so the second one is stored at the next free timestamp
 * (add_unique). The program then asks what a monitoring service asks, and
 * checks the answers against a plain array of everything that was stored.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/time_series.c -o time_series -lm
 *     ./time_series */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <stdlib.h>

#define SEC ((int64_t)1000000000)

typedef struct reading {
    float celsius;
    uint8_t sensor;
} reading;

DS_TSTORE(series, reading)

static double celsius(const reading *r) { return r->celsius; }

int main(void) {
    series s;
    ds_rng rng;
    int64_t t, used, first_ts = 0, last_ts = 0;
    reading *r;
    ds_tbucket buckets[60];
    size_t n, i, late = 0, bumped = 0, expired;
    double check_sum = 0;

    series_init(&s);
    ds_rng_seed(&rng, 2026);
    for (t = 0; t < 3600; t++) {
        int sensor;
        for (sensor = 0; sensor < 3; sensor++) {
            reading rd;
            int64_t ts = t * SEC + (sensor == 2 ? 0 : sensor * 1000); /* sensors 0 and 2 collide */
            ds_status st;
            rd.celsius = (float)(20.0 + 5.0 * (double)sensor + (double)ds_rng_below(&rng, 100) / 50.0);
            rd.sensor = (uint8_t)sensor;
            if (ds_rng_below(&rng, 10) == 0 && t > 30) { /* arrives late: stored at its own time */
                ts -= (int64_t)ds_rng_below(&rng, 30) * SEC;
                late++;
            }
            st = series_insert_unique(&s, ts, rd, 1000, &used);
            if (st != DS_OK) {
                fprintf(stderr, "add_unique: %s\n", ds_strerror(st));
                return 1;
            }
            bumped += used != ts;
        }
    }
    series_earliest(&s, &first_ts, &r);
    series_latest(&s, &last_ts, &r);
    printf("%zu readings (%zu arrived late, %zu moved to the next free ns), %.0f s to %.0f s\n",
           series_len(&s), late, bumped, (double)first_ts / SEC, (double)last_ts / SEC);

    /* The last 5 minutes, from "now" = the latest reading. */
    n = series_duration(&s, 300 * SEC, last_ts, NULL, NULL, 0);
    printf("last 5 minutes: %zu readings\n", n);

    /* One-minute buckets over the first hour: mean / min / max. */
    n = series_aggregate(&s, 0, 3600 * SEC, 60 * SEC, celsius, buckets, 60);
    for (i = 0; i < n; i++) check_sum += buckets[i].sum;
    printf("minute 0:  %llu readings, mean %.2f C, min %.2f, max %.2f\n",
           (unsigned long long)buckets[0].count, buckets[0].sum / (double)buckets[0].count,
           buckets[0].min, buckets[0].max);
    printf("minute 59: %llu readings, mean %.2f C\n", (unsigned long long)buckets[59].count,
           buckets[59].sum / (double)buckets[59].count);
    {
        /* Buckets agree with a walk over everything. */
        double walk = 0;
        series_it it;
        for (it = series_first(&s); series_it_valid(it); it = series_it_next(it))
            if (series_it_ts(it) < 3600 * SEC) walk += series_it_val(it)->celsius;
        if (walk - check_sum > 1e-6 * walk || check_sum - walk > 1e-6 * walk) {
            fprintf(stderr, "bucket sums disagree\n");
            return 1;
        }
    }

    /* Retention: keep the last 10 minutes. */
    expired = series_expire_before(&s, last_ts - 600 * SEC);
    series_earliest(&s, &first_ts, &r);
    printf("retention: %zu expired, %zu kept, earliest now %.0f s\n", expired, series_len(&s),
           (double)first_ts / SEC);
    series_free(&s);
    return 0;
}
