/* examples/circuit_breaker.c - a circuit breaker in front of a flaky
 * downstream service, through a 503 storm and its recovery.
 *
 * A client sends 100 requests per simulated second to a downstream service
 * for 50 s. Healthy, the service answers in 30-60 ms and fails 1% of the
 * time; from t = 20 s to t = 35 s it is down and answers 503 in 2-5 ms
 * (97% of requests); from 35 s on it is healthy again. Every request goes
 * through a ds_breaker (the two-step API: allow, then record the outcome
 * and its duration when the response arrives; requests overlap, so several
 * are in flight at once):
 *   - CLOSED, it watches the last 20 outcomes and trips at a 50% failure
 *     rate once 10 are in (or on 10 failures in a row);
 *   - OPEN, requests fail fast for 3 s: they never reach the dead service;
 *   - HALF_OPEN, 5 probe requests go through and the rest are still
 *     rejected until those 5 have answered; then CLOSED or OPEN again.
 * The clock is simulated (10 ms ticks), so the run is instant and the
 * same every time. It prints one line a second (requests, successes,
 * failures, rejected, the state at the end of the second) and each state
 * change, then checks itself: the breaker must stay closed while the
 * service is healthy, open during the storm and save most of the storm's
 * requests from the dead service, never let more than P probes through in
 * one half-open spell, and close again soon after the recovery. Exit 1
 * otherwise.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/circuit_breaker.c -o circuit_breaker -lm
 *     ./circuit_breaker */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>

#define MS ((int64_t)1000000)
#define SEC (1000 * MS)
#define PROBES 5
#define STORM_START (20 * SEC)
#define STORM_END (35 * SEC)
#define RUN_END (50 * SEC)

typedef struct call {
    int64_t start, done;
    int ok;
} call;

typedef struct sim {
    int64_t first_open;       /* first CLOSED -> OPEN, or -1 */
    int64_t last_close;       /* last -> CLOSED, or -1 */
    int probes, max_probes;   /* probes permitted in the current / worst half-open spell */
    int full_spells;          /* half-open spells that used all P probes */
    int opened_while_healthy;
} sim;

static void on_state(void *ctx, ds_breaker_state from, ds_breaker_state to, int64_t now) {
    sim *s = (sim *)ctx;
    printf("        %6.2fs  %s -> %s\n", (double)now / SEC, ds_breaker_state_name(from),
           ds_breaker_state_name(to));
    if (from == DS_BREAKER_CLOSED && to == DS_BREAKER_OPEN) {
        if (s->first_open < 0) s->first_open = now;
        if (now < STORM_START) s->opened_while_healthy = 1;
    }
    if (from == DS_BREAKER_HALF_OPEN) {
        if (s->probes == PROBES) s->full_spells++;
        s->probes = 0;
    }
    if (to == DS_BREAKER_CLOSED) s->last_close = now;
}

/* The downstream: whether a request sent at t succeeds, and how long it takes. */
static int downstream(ds_rng *rng, int64_t t, int64_t *latency) {
    if (t >= STORM_START && t < STORM_END) {
        *latency = (2 + (int64_t)ds_rng_below(rng, 4)) * MS;
        return ds_rng_below(rng, 100) >= 97;
    }
    *latency = (30 + (int64_t)ds_rng_below(rng, 31)) * MS;
    return ds_rng_below(rng, 100) >= 1;
}

int main(void) {
    ds_breaker b;
    ds_breaker_config cfg;
    ds_breaker_stats st;
    ds_rng rng;
    sim s = {-1, -1, 0, 0, 0, 0};
    call inflight[64];
    int nin = 0, bad = 0;
    long sec_req = 0, sec_ok = 0, sec_fail = 0, sec_rej = 0;
    long storm_req = 0, storm_hits = 0;
    int64_t t;
    ds_status rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.window = DS_BREAKER_COUNT_BASED;
    cfg.window_size = 20;
    cfg.min_calls = 10;
    cfg.failure_rate = 50;
    cfg.slow_call_ns = 1 * SEC;     /* nothing here is that slow */
    cfg.consecutive_failures = 10;
    cfg.wait_open_ns = 3 * SEC;
    cfg.half_open_calls = PROBES;
    cfg.half_open_max_ns = 10 * SEC;
    cfg.on_state = on_state;
    cfg.ctx = &s;
    if ((rc = ds_breaker_init(&b, &cfg, NULL)) != DS_OK) {
        fprintf(stderr, "ds_breaker_init: %s\n", ds_strerror(rc));
        return 1;
    }
    ds_rng_seed(&rng, 7);
    printf("   t  requests  ok  failed  rejected  state\n");
    for (t = 0; t < RUN_END; t += 10 * MS) {
        int i;
        /* responses that arrived by now are recorded with their durations */
        for (i = 0; i < nin;) {
            if (inflight[i].done <= t) {
                ds_breaker_record(&b, inflight[i].ok ? DS_BREAKER_SUCCESS : DS_BREAKER_FAILURE,
                                  inflight[i].done - inflight[i].start, t);
                if (inflight[i].ok) sec_ok++; else sec_fail++;
                inflight[i] = inflight[--nin];
            } else {
                i++;
            }
        }
        /* one new request per tick */
        sec_req++;
        if (t >= STORM_START && t < STORM_END) storm_req++;
        if (ds_breaker_allow(&b, t, NULL) == DS_OK) {
            int64_t lat;
            if (ds_breaker_current(&b) == DS_BREAKER_HALF_OPEN) {
                s.probes++;
                if (s.probes > s.max_probes) s.max_probes = s.probes;
            }
            if (t >= STORM_START && t < STORM_END) storm_hits++;
            if (nin == 64) {
                fprintf(stderr, "too many in flight\n");
                return 1;
            }
            inflight[nin].start = t;
            inflight[nin].ok = downstream(&rng, t, &lat);
            inflight[nin].done = t + lat;
            nin++;
        } else {
            sec_rej++;
        }
        if ((t + 10 * MS) % SEC == 0) {
            printf("%3llds %9ld %4ld %7ld %9ld  %s\n", (long long)((t + 10 * MS) / SEC), sec_req,
                   sec_ok, sec_fail, sec_rej, ds_breaker_state_name(ds_breaker_current(&b)));
            sec_req = sec_ok = sec_fail = sec_rej = 0;
        }
    }
    ds_breaker_snapshot(&b, t, &st);
    printf("total: %llu permitted, %llu rejected (fail fast), %llu ok, %llu failed, %llu transitions\n",
           (unsigned long long)st.permitted, (unsigned long long)st.rejected,
           (unsigned long long)st.successes, (unsigned long long)st.failures,
           (unsigned long long)st.transitions);
    printf("storm: %ld requests, %ld reached the dead service (%.0f%% saved by failing fast)\n",
           storm_req, storm_hits, 100.0 * (double)(storm_req - storm_hits) / (double)storm_req);
    printf("half-open: at most %d probes in one spell (P = %d); %d spells used all %d\n", s.max_probes,
           PROBES, s.full_spells, PROBES);

    if (s.opened_while_healthy) { fprintf(stderr, "FAIL: opened while the service was healthy\n"); bad = 1; }
    if (s.first_open < STORM_START || s.first_open > STORM_START + 1 * SEC) {
        fprintf(stderr, "FAIL: did not open within 1 s of the storm\n");
        bad = 1;
    }
    if (storm_hits * 4 > storm_req) { fprintf(stderr, "FAIL: under 75%% of the storm failed fast\n"); bad = 1; }
    if (s.max_probes > PROBES) { fprintf(stderr, "FAIL: more than P probes in one half-open spell\n"); bad = 1; }
    if (s.full_spells < 1) { fprintf(stderr, "FAIL: no half-open spell used its P probes\n"); bad = 1; }
    if (st.state != DS_BREAKER_CLOSED || s.last_close < STORM_END ||
        s.last_close > STORM_END + cfg.wait_open_ns + 1 * SEC) {
        fprintf(stderr, "FAIL: did not close within wait_open + 1 s of the recovery\n");
        bad = 1;
    }
    ds_breaker_free(&b);
    if (!bad) printf("ok: opened in the storm, probed with at most %d calls, closed after recovery\n", PROBES);
    return bad;
}
