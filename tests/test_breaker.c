/* tests/test_breaker.c - ds_breaker: every transition by hand, the
 * half-open probe count, window arithmetic (count and time windows, minimum
 * calls, slow calls), and long random op sequences against a reference
 * model that keeps the whole outcome history and rescans it. */
#include "prop.h"
#include <math.h>

#define CHECKF_OR(cond, ret, ...)                \
    do {                                         \
        if (!(cond)) {                           \
            fprintf(stderr, "    ");             \
            fprintf(stderr, __VA_ARGS__);        \
            fprintf(stderr, "\n");               \
            CHECK_OR(cond, ret);                 \
        }                                        \
    } while (0)

/* ---- the state-change callback, logged ---------------------------------- */

/* The last 64 transitions, and how many in all. */
typedef struct bk_log {
    int n;
    ds_breaker_state from[64], to[64];
    int64_t at[64];
} bk_log;

static void bk_on_state(void *ctx, ds_breaker_state from, ds_breaker_state to, int64_t now) {
    bk_log *l = (bk_log *)ctx;
    l->from[l->n % 64] = from;
    l->to[l->n % 64] = to;
    l->at[l->n % 64] = now;
    l->n++;
}

/* The last logged transition was from -> to at `at`. */
static int bk_last(const bk_log *l, ds_breaker_state from, ds_breaker_state to, int64_t at) {
    int i = (l->n - 1) % 64;
    return l->n >= 1 && l->from[i] == from && l->to[i] == to && l->at[i] == at;
}

/* allow + record at one instant; returns allow's status. */
static ds_status bk_call(ds_breaker *b, ds_breaker_outcome o, int64_t dur, int64_t now) {
    ds_status st = ds_breaker_allow(b, now, NULL);
    if (st == DS_OK) ds_breaker_record(b, o, dur, now);
    return st;
}

static ds_breaker_config bk_cfg(void) {
    ds_breaker_config c;
    memset(&c, 0, sizeof c);
    return c;
}

/* ---- every transition --------------------------------------------------- */

void test_breaker_transitions(void) {
    ds_breaker b;
    ds_breaker_config c = bk_cfg();
    ds_breaker_stats s;
    bk_log log;
    int64_t wait, t = 1000;
    int i;
    memset(&log, 0, sizeof log);
    c.window_size = 4;
    c.min_calls = 4;
    c.failure_rate = 50;
    c.slow_rate = DS_BREAKER_OFF;
    c.wait_open_ns = 100;
    c.half_open_calls = 2;
    c.on_state = bk_on_state;
    c.ctx = &log;
    CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_CLOSED);

    /* CLOSED -> OPEN on the failure rate, once min_calls are in */
    for (i = 0; i < 3; i++) CHECK(bk_call(&b, DS_BREAKER_FAILURE, 1, t) == DS_OK);
    ds_breaker_snapshot(&b, t, &s);
    CHECK(s.state == DS_BREAKER_CLOSED && s.window_calls == 3 && s.failure_rate == -1.0);
    CHECK(bk_call(&b, DS_BREAKER_SUCCESS, 1, t) == DS_OK); /* 3 of 4 failed: 75% >= 50% */
    CHECK(ds_breaker_current(&b) == DS_BREAKER_OPEN && log.n == 1);
    CHECK(bk_last(&log, DS_BREAKER_CLOSED, DS_BREAKER_OPEN, t));

    /* OPEN rejects, saying how long until the probe */
    CHECK(ds_breaker_allow(&b, t + 30, &wait) == DS_EREFUSED && wait == 70);
    CHECK(ds_breaker_allow(&b, t + 99, &wait) == DS_EREFUSED && wait == 1);
    ds_breaker_snapshot(&b, t + 99, &s);
    CHECK(s.state == DS_BREAKER_OPEN && s.rejected == 2 && s.since == t && s.window_calls == 0);

    /* OPEN -> HALF_OPEN lazily at the first call after the wait */
    t += 150;
    CHECK(ds_breaker_allow(&b, t, &wait) == DS_OK && wait == 0);
    CHECK(bk_last(&log, DS_BREAKER_OPEN, DS_BREAKER_HALF_OPEN, t));
    CHECK(ds_breaker_allow(&b, t, &wait) == DS_OK);
    CHECK(ds_breaker_allow(&b, t, &wait) == DS_EREFUSED && wait == 100); /* P = 2 out */

    /* HALF_OPEN -> CLOSED: both probes succeed */
    CHECK(ds_breaker_record(&b, DS_BREAKER_SUCCESS, 1, t + 1) == DS_OK);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_HALF_OPEN);
    CHECK(ds_breaker_record(&b, DS_BREAKER_SUCCESS, 1, t + 2) == DS_OK);
    CHECK(bk_last(&log, DS_BREAKER_HALF_OPEN, DS_BREAKER_CLOSED, t + 2));
    ds_breaker_snapshot(&b, t + 2, &s);
    CHECK(s.window_calls == 0 && s.consecutive_failures == 0 && s.transitions == 3);

    /* trip again; HALF_OPEN -> OPEN: one of two probes failed (50% >= 50%) */
    t += 10;
    for (i = 0; i < 4; i++) bk_call(&b, DS_BREAKER_FAILURE, 1, t);
    CHECK(bk_last(&log, DS_BREAKER_CLOSED, DS_BREAKER_OPEN, t));
    t += 100;
    CHECK(ds_breaker_advance(&b, t) == DS_BREAKER_HALF_OPEN); /* a timer tick does it too */
    CHECK(ds_breaker_allow(&b, t, NULL) == DS_OK && ds_breaker_allow(&b, t, NULL) == DS_OK);
    ds_breaker_record(&b, DS_BREAKER_SUCCESS, 1, t);
    ds_breaker_record(&b, DS_BREAKER_FAILURE, 1, t);
    CHECK(bk_last(&log, DS_BREAKER_HALF_OPEN, DS_BREAKER_OPEN, t));
    /* a late record while OPEN counts in the totals only */
    ds_breaker_snapshot(&b, t, &s);
    CHECK(ds_breaker_record(&b, DS_BREAKER_FAILURE, 1, t + 1) == DS_OK);
    {
        ds_breaker_stats s2;
        ds_breaker_snapshot(&b, t + 1, &s2);
        CHECK(s2.state == DS_BREAKER_OPEN && s2.failures == s.failures + 1 && s2.window_calls == 0);
    }

    /* forced states */
    CHECK(ds_breaker_force(&b, DS_BREAKER_FORCED_OPEN, t + 1) == DS_OK);
    CHECK(bk_last(&log, DS_BREAKER_OPEN, DS_BREAKER_FORCED_OPEN, t + 1));
    CHECK(ds_breaker_allow(&b, t + 1000000, &wait) == DS_EREFUSED && wait == INT64_MAX);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_FORCED_OPEN);
    CHECK(ds_breaker_force(&b, DS_BREAKER_DISABLED, t + 1000000) == DS_OK);
    for (i = 0; i < 50; i++) CHECK(bk_call(&b, DS_BREAKER_FAILURE, 1, t + 1000000) == DS_OK);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_DISABLED);
    t += 1000000;
    CHECK(ds_breaker_force(&b, DS_BREAKER_HALF_OPEN, t) == DS_OK);
    CHECK(bk_last(&log, DS_BREAKER_DISABLED, DS_BREAKER_HALF_OPEN, t));
    CHECK(ds_breaker_force(&b, DS_BREAKER_OPEN, t) == DS_OK);
    CHECK(ds_breaker_allow(&b, t + 40, &wait) == DS_EREFUSED && wait == 60);
    i = log.n;
    CHECK(ds_breaker_force(&b, DS_BREAKER_OPEN, t + 40) == DS_OK); /* restarts the wait, no callback */
    CHECK(log.n == i && ds_breaker_allow(&b, t + 80, &wait) == DS_EREFUSED && wait == 60);
    CHECK(ds_breaker_force(&b, DS_BREAKER_CLOSED, t + 80) == DS_OK);
    CHECK(bk_last(&log, DS_BREAKER_OPEN, DS_BREAKER_CLOSED, t + 80));
    CHECK(ds_breaker_force(&b, (ds_breaker_state)5, t) == DS_EINVAL);
    CHECK(ds_breaker_force(&b, (ds_breaker_state)-1, t) == DS_EINVAL);

    /* reset: CLOSED, statistics zeroed */
    ds_breaker_force(&b, DS_BREAKER_OPEN, t + 80);
    ds_breaker_reset(&b, t + 90);
    CHECK(bk_last(&log, DS_BREAKER_OPEN, DS_BREAKER_CLOSED, t + 90));
    ds_breaker_snapshot(&b, t + 90, &s);
    CHECK(s.state == DS_BREAKER_CLOSED && s.permitted == 0 && s.rejected == 0 && s.failures == 0 &&
          s.successes == 0 && s.transitions == 0 && s.since == t + 90 && s.window_calls == 0);
    CHECK(strcmp(ds_breaker_state_name(DS_BREAKER_HALF_OPEN), "HALF_OPEN") == 0);
    CHECK(strcmp(ds_breaker_state_name((ds_breaker_state)9), "?") == 0);
    ds_breaker_free(&b);

    /* the seed's rule: K consecutive failures; ignored outcomes do not break
     * the run, a success does. Rates off: any failed probe reopens. */
    c = bk_cfg();
    c.failure_rate = DS_BREAKER_OFF;
    c.slow_rate = DS_BREAKER_OFF;
    c.consecutive_failures = 3;
    c.wait_open_ns = 10;
    c.half_open_calls = 3;
    CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
    t = 0;
    bk_call(&b, DS_BREAKER_FAILURE, 1, t);
    bk_call(&b, DS_BREAKER_FAILURE, 1, t);
    bk_call(&b, DS_BREAKER_SUCCESS, 1, t);
    bk_call(&b, DS_BREAKER_FAILURE, 1, t);
    bk_call(&b, DS_BREAKER_IGNORED, 1, t);
    bk_call(&b, DS_BREAKER_FAILURE, 1, t);
    ds_breaker_snapshot(&b, t, &s);
    CHECK(s.state == DS_BREAKER_CLOSED && s.consecutive_failures == 2 && s.ignored == 1);
    bk_call(&b, DS_BREAKER_FAILURE, 1, t);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_OPEN);
    t = 10;
    for (i = 0; i < 3; i++) CHECK(ds_breaker_allow(&b, t, NULL) == DS_OK);
    ds_breaker_record(&b, DS_BREAKER_SUCCESS, 1, t);
    ds_breaker_record(&b, DS_BREAKER_FAILURE, 1, t);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_HALF_OPEN); /* waits for all P */
    ds_breaker_record(&b, DS_BREAKER_SUCCESS, 1, t);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_OPEN);
    t = 20;
    for (i = 0; i < 3; i++) CHECK(bk_call(&b, DS_BREAKER_SUCCESS, 1, t) == DS_OK);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_CLOSED);
    ds_breaker_free(&b);

    /* half_open_max_ns: probes that never report reopen the breaker */
    c = bk_cfg();
    c.consecutive_failures = 1;
    c.wait_open_ns = 10;
    c.half_open_calls = 2;
    c.half_open_max_ns = 50;
    CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
    bk_call(&b, DS_BREAKER_FAILURE, 1, 0);
    CHECK(ds_breaker_allow(&b, 10, NULL) == DS_OK); /* half-open at 10, one probe lost */
    CHECK(ds_breaker_advance(&b, 59) == DS_BREAKER_HALF_OPEN);
    CHECK(ds_breaker_advance(&b, 60) == DS_BREAKER_OPEN);
    CHECK(ds_breaker_allow(&b, 65, &wait) == DS_EREFUSED && wait == 5);
    ds_breaker_record(&b, DS_BREAKER_SUCCESS, 1, 66); /* the lost probe, late: not a probe now */
    CHECK(ds_breaker_allow(&b, 70, NULL) == DS_OK && ds_breaker_allow(&b, 70, NULL) == DS_OK);
    ds_breaker_snapshot(&b, 70, &s);
    CHECK(s.state == DS_BREAKER_HALF_OPEN && s.probes_out == 2 && s.window_calls == 0);
    ds_breaker_free(&b);
}

/* ---- exactly P probes ------------------------------------------------------ */

void test_breaker_probes(void) {
    uint32_t P;
    for (P = 1; P <= 12; P++) {
        ds_breaker b;
        ds_breaker_config c = bk_cfg();
        ds_breaker_stats s;
        int64_t wait;
        uint32_t i;
        c.consecutive_failures = 1;
        c.wait_open_ns = 1000;
        c.half_open_calls = P;
        CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
        bk_call(&b, DS_BREAKER_FAILURE, 0, 0);
        CHECK(ds_breaker_current(&b) == DS_BREAKER_OPEN);
        for (i = 0; i < P; i++) CHECK(ds_breaker_allow(&b, 1000 + i, NULL) == DS_OK);
        CHECK(ds_breaker_allow(&b, 1000 + P, &wait) == DS_EREFUSED && wait == 1000);
        /* outcomes coming in do not free permits: still P in all */
        for (i = 0; i + 1 < P; i++) {
            CHECK(ds_breaker_record(&b, DS_BREAKER_SUCCESS, 0, 2000) == DS_OK);
            CHECK(ds_breaker_allow(&b, 2000, NULL) == DS_EREFUSED);
        }
        /* an ignored probe gives its permit back, exactly one */
        CHECK(ds_breaker_record(&b, DS_BREAKER_IGNORED, 0, 2000) == DS_OK);
        ds_breaker_snapshot(&b, 2000, &s);
        CHECK(s.state == DS_BREAKER_HALF_OPEN && s.probes_out == 0 && s.window_calls == P - 1);
        CHECK(s.failure_rate == -1.0); /* fewer than P probes reported */
        CHECK(ds_breaker_allow(&b, 2000, NULL) == DS_OK);
        CHECK(ds_breaker_allow(&b, 2000, NULL) == DS_EREFUSED);
        CHECK(ds_breaker_record(&b, DS_BREAKER_SUCCESS, 0, 2001) == DS_OK);
        CHECK(ds_breaker_current(&b) == DS_BREAKER_CLOSED);
        /* a record with no probe outstanding is not a probe */
        bk_call(&b, DS_BREAKER_FAILURE, 0, 3000);
        CHECK(ds_breaker_allow(&b, 4000, NULL) == DS_OK);
        ds_breaker_record(&b, DS_BREAKER_SUCCESS, 0, 4000);
        if (P > 1) {
            ds_breaker_record(&b, DS_BREAKER_SUCCESS, 0, 4000); /* stray */
            ds_breaker_snapshot(&b, 4000, &s);
            CHECK(s.state == DS_BREAKER_HALF_OPEN && s.window_calls == 1 && s.successes == P + 2);
        }
        ds_breaker_free(&b);
    }
}

/* ---- window arithmetic ------------------------------------------------------- */

void test_breaker_windows(void) {
    ds_breaker b;
    ds_breaker_config c;
    ds_breaker_stats s;
    static const int seq[] = {1, 1, 0, 0, 0, 0, 1, 0};
    static const double want_fr[] = {-1, -1, 200.0 / 3, 50, 40, 20, 20, 20};
    int i;

    /* count window of 5, min 3, rates never trip */
    c = bk_cfg();
    c.window_size = 5;
    c.min_calls = 3;
    c.failure_rate = 100;
    c.slow_rate = DS_BREAKER_OFF;
    c.slow_call_ns = 10;
    CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
    for (i = 0; i < 8; i++) {
        bk_call(&b, seq[i] ? DS_BREAKER_FAILURE : DS_BREAKER_SUCCESS, i == 7 ? 11 : 10, i);
        ds_breaker_snapshot(&b, i, &s);
        CHECKF(s.failure_rate == want_fr[i], "step %d: rate %g want %g", i, s.failure_rate, want_fr[i]);
        CHECK(s.window_calls == (uint64_t)(i < 5 ? i + 1 : 5));
    }
    /* duration == slow_call_ns is not slow; longer is */
    CHECK(s.window_slow == 1 && s.slow == 1 && s.slow_rate == 20.0);
    ds_breaker_free(&b);

    /* a count window clamps min_calls to its size (resilience4j) */
    c = bk_cfg();
    c.window_size = 4;
    c.min_calls = 1000;
    CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
    for (i = 0; i < 3; i++) bk_call(&b, DS_BREAKER_FAILURE, 0, 0);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_CLOSED);
    bk_call(&b, DS_BREAKER_FAILURE, 0, 0);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_OPEN);
    ds_breaker_free(&b);

    /* slow-call rate trips on its own, and a slow failure counts in both */
    c = bk_cfg();
    c.window_size = 5;
    c.min_calls = 4;
    c.failure_rate = DS_BREAKER_OFF;
    c.slow_rate = 60;
    c.slow_call_ns = 100;
    CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
    bk_call(&b, DS_BREAKER_SUCCESS, 500, 0);
    bk_call(&b, DS_BREAKER_FAILURE, 500, 0);
    bk_call(&b, DS_BREAKER_SUCCESS, 5, 0);
    bk_call(&b, DS_BREAKER_SUCCESS, 5, 0);
    ds_breaker_snapshot(&b, 0, &s);
    CHECK(s.state == DS_BREAKER_CLOSED && s.slow_rate == 50 && s.failure_rate == 25 && s.slow == 2);
    bk_call(&b, DS_BREAKER_SUCCESS, 101, 0); /* 3 slow of 5: 60% */
    CHECK(ds_breaker_current(&b) == DS_BREAKER_OPEN);
    ds_breaker_free(&b);

    /* time window: 3 buckets of 10 ns; the window is the current bucket
     * and the two before it, aligned to multiples of 10 */
    c = bk_cfg();
    c.window = DS_BREAKER_TIME_BASED;
    c.window_size = 3;
    c.bucket_ns = 10;
    c.min_calls = 1;
    c.failure_rate = 100;
    c.slow_rate = DS_BREAKER_OFF;
    CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
    bk_call(&b, DS_BREAKER_FAILURE, 0, 0);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_OPEN); /* 1 of 1 */
    ds_breaker_reset(&b, 0);
    bk_call(&b, DS_BREAKER_SUCCESS, 0, 0);
    bk_call(&b, DS_BREAKER_FAILURE, 0, 5);
    bk_call(&b, DS_BREAKER_SUCCESS, 0, 12);
    bk_call(&b, DS_BREAKER_FAILURE, 0, 25);
    bk_call(&b, DS_BREAKER_SUCCESS, 0, 29);
    ds_breaker_snapshot(&b, 29, &s);
    CHECK(s.window_calls == 5 && s.window_failures == 2 && s.failure_rate == 40);
    ds_breaker_snapshot(&b, 30, &s); /* bucket 0 leaves */
    CHECK(s.window_calls == 3 && s.window_failures == 1);
    ds_breaker_snapshot(&b, 20, &s); /* the clock does not go back */
    CHECK(s.window_calls == 3);
    ds_breaker_snapshot(&b, 49, &s); /* bucket 1 left: [20, 50) */
    CHECK(s.window_calls == 2 && s.window_failures == 1);
    ds_breaker_snapshot(&b, 50, &s);
    CHECK(s.window_calls == 0 && s.failure_rate == -1.0);
    bk_call(&b, DS_BREAKER_SUCCESS, 0, 40); /* taken as 50 */
    ds_breaker_snapshot(&b, 79, &s);
    CHECK(s.window_calls == 1);
    ds_breaker_snapshot(&b, 80, &s);
    CHECK(s.window_calls == 0);
    /* a jump of a few hundred years is one eviction */
    bk_call(&b, DS_BREAKER_SUCCESS, 0, 71);
    bk_call(&b, DS_BREAKER_SUCCESS, 0, INT64_MAX / 2);
    ds_breaker_snapshot(&b, INT64_MAX / 2, &s);
    CHECK(s.window_calls == 1 && s.successes == 6);
    ds_breaker_free(&b);

    /* negative times: buckets stay aligned below zero (floor, not truncation) */
    c.window_size = 2;
    c.failure_rate = DS_BREAKER_OFF;
    CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
    bk_call(&b, DS_BREAKER_FAILURE, 0, -25); /* bucket -3 */
    bk_call(&b, DS_BREAKER_FAILURE, 0, -11); /* bucket -2 */
    bk_call(&b, DS_BREAKER_SUCCESS, 0, -1);  /* bucket -1 */
    ds_breaker_snapshot(&b, -1, &s);
    CHECK(s.window_calls == 2 && s.window_failures == 1);
    bk_call(&b, DS_BREAKER_SUCCESS, 0, 0);   /* bucket 0 */
    ds_breaker_snapshot(&b, 0, &s);
    CHECK(s.window_calls == 2 && s.window_failures == 0);
    ds_breaker_free(&b);
    /* 3 buckets: epochs -1 and 0 must not share a slot (2^64 - 1 is 0 mod 3) */
    c.window_size = 3;
    CHECK(ds_breaker_init(&b, &c, NULL) == DS_OK);
    bk_call(&b, DS_BREAKER_FAILURE, 0, -15);
    bk_call(&b, DS_BREAKER_FAILURE, 0, -5);
    bk_call(&b, DS_BREAKER_SUCCESS, 0, 5);
    ds_breaker_snapshot(&b, 5, &s);
    CHECK(s.window_calls == 3 && s.window_failures == 2);
    ds_breaker_snapshot(&b, 25, &s); /* epochs 0..2 */
    CHECK(s.window_calls == 1 && s.window_failures == 0);
    ds_breaker_free(&b);

    /* the defaults are resilience4j's */
    CHECK(ds_breaker_init(&b, NULL, NULL) == DS_OK);
    CHECK(b.cfg.window == DS_BREAKER_COUNT_BASED && b.cfg.window_size == 100 && b.cfg.min_calls == 100);
    CHECK(b.cfg.failure_rate == 50 && b.cfg.slow_rate == 100 && b.cfg.slow_call_ns == 60000000000LL);
    CHECK(b.cfg.wait_open_ns == 60000000000LL && b.cfg.half_open_calls == 10 && b.cfg.half_open_max_ns == 0);
    for (i = 0; i < 99; i++) bk_call(&b, i < 50 ? DS_BREAKER_FAILURE : DS_BREAKER_SUCCESS, 0, 0);
    CHECK(ds_breaker_current(&b) == DS_BREAKER_CLOSED);
    bk_call(&b, DS_BREAKER_SUCCESS, 0, 0); /* 50 of 100 */
    CHECK(ds_breaker_current(&b) == DS_BREAKER_OPEN);
    ds_breaker_free(&b);
}

/* ---- bad input and allocation failure ----------------------------------------- */

void test_breaker_bad_input(void) {
    ds_breaker b;
    ds_breaker_config c;
    ds_breaker_stats s;
    int k;
    for (k = 0; k < 14; k++) {
        c = bk_cfg();
        switch (k) {
        case 0: c.failure_rate = 100.5; break;
        case 1: c.failure_rate = -0.5; break;
        case 2: c.slow_rate = 101; break;
        case 3: c.slow_rate = -2; break;
        case 4: c.failure_rate = NAN; break;
        case 5: c.window = (ds_breaker_window)2; break;
        case 6: c.bucket_ns = -1; break;
        case 7: c.slow_call_ns = -1; break;
        case 8: c.wait_open_ns = -5; break;
        case 9: c.half_open_max_ns = -1; break;
        case 10: c.window = DS_BREAKER_TIME_BASED; c.window_size = 1000; c.bucket_ns = INT64_MAX / 100; break;
        case 11: c.slow_rate = 1e300; break;
        case 12: c.failure_rate = 1e-300; c.slow_rate = 100; break; /* valid: tiny but > 0 */
        default: c.window = DS_BREAKER_TIME_BASED; c.window_size = 1; c.bucket_ns = INT64_MAX; break; /* valid */
        }
        if (k >= 12) {
            CHECKF(ds_breaker_init(&b, &c, NULL) == DS_OK, "config %d", k);
            ds_breaker_free(&b);
        } else {
            CHECKF(ds_breaker_init(&b, &c, NULL) == DS_EINVAL, "config %d", k);
        }
    }
    CHECK(ds_breaker_init(NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_breaker_allow(NULL, 0, NULL) == DS_EINVAL);
    CHECK(ds_breaker_record(NULL, DS_BREAKER_SUCCESS, 0, 0) == DS_EINVAL);
    CHECK(ds_breaker_force(NULL, DS_BREAKER_OPEN, 0) == DS_EINVAL);
    ds_breaker_reset(NULL, 0);
    ds_breaker_free(NULL);
    memset(&s, 0xff, sizeof s);
    ds_breaker_snapshot(NULL, 0, &s);
    CHECK(s.permitted == 0);
    CHECK(ds_breaker_init(&b, NULL, NULL) == DS_OK);
    CHECK(ds_breaker_record(&b, (ds_breaker_outcome)3, 0, 0) == DS_EINVAL);
    CHECK(ds_breaker_record(&b, DS_BREAKER_SUCCESS, -1, 0) == DS_EINVAL);
    ds_breaker_snapshot(&b, 0, NULL);
    ds_breaker_snapshot(&b, 0, &s);
    CHECK(s.successes == 0 && s.permitted == 0); /* refused records changed nothing */
    ds_breaker_free(&b);
    ds_breaker_free(&b); /* twice is harmless */
}

void test_breaker_oom(void) {
    int w;
    for (w = 0; w < 2; w++) {
        prop_alloc pa;
        ds_breaker b;
        ds_breaker_config c = bk_cfg();
        long k;
        c.window = w ? DS_BREAKER_TIME_BASED : DS_BREAKER_COUNT_BASED;
        c.window_size = 64;
        prop_alloc_init(&pa);
        for (k = 0; k < 2; k++) {
            prop_alloc_fail_in(&pa, 1, (int)k);
            CHECK(ds_breaker_init(&b, &c, &pa.a) == DS_ENOMEM);
            CHECK(pa.live_bytes == 0 && pa.live_blocks == 0);
        }
        prop_alloc_disarm(&pa);
        CHECK(ds_breaker_init(&b, &c, &pa.a) == DS_OK && pa.live_blocks == 1);
        bk_call(&b, DS_BREAKER_FAILURE, 0, 5);
        ds_breaker_free(&b);
        CHECK(pa.live_bytes == 0 && pa.live_blocks == 0 && pa.size_errors == 0);
        /* a window too big for memory: DS_ENOMEM, nothing held */
        c.window_size = UINT32_MAX;
        pa.limit = (size_t)1 << 20;
        CHECK(ds_breaker_init(&b, &c, &pa.a) == DS_ENOMEM && pa.live_blocks == 0);
    }
}

/* ---- random op sequences against a reference model ------------------------------ */

/* The model keeps every outcome recorded in the current CLOSED period and
 * rescans it for the window and the run of failures; time windows by
 * comparing each outcome's bucket with now's. */
typedef struct bm_ev {
    int64_t t;
    int fail, slow;
} bm_ev;

typedef struct bmodel {
    ds_breaker_config c;
    ds_breaker_state state;
    bm_ev hist[4096];
    size_t nhist;
    uint32_t given, done, pfail, pslow;
    int64_t deadline, since, last;
    uint64_t transitions, permitted, rejected, succ, fail, slow, ign;
    bk_log log;
} bmodel;

static int64_t bm_floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0)) ? q - 1 : q;
}

/* Coverage over a whole run: transitions by kind, half-open rejections,
 * trips by each rule. */
static uint64_t bm_seen[5][5], bm_ho_rejects, bm_trips_consec, bm_trips_rate, bm_ho_timeouts;

static void bm_enter(bmodel *m, ds_breaker_state to, int64_t t) {
    ds_breaker_state from = m->state;
    bm_seen[from][to]++;
    m->state = to;
    m->nhist = 0;
    m->given = m->done = m->pfail = m->pslow = 0;
    m->since = t;
    m->deadline = to == DS_BREAKER_OPEN ? t + m->c.wait_open_ns
                : to == DS_BREAKER_HALF_OPEN && m->c.half_open_max_ns ? t + m->c.half_open_max_ns
                : INT64_MAX;
    if (from != to) {
        m->transitions++;
        bk_on_state(&m->log, from, to, t);
    }
}

static int64_t bm_clock(bmodel *m, int64_t now) {
    if (now > m->last) m->last = now;
    return m->last;
}

static int64_t bm_tick(bmodel *m, int64_t now) {
    int64_t t = bm_clock(m, now);
    if (m->state == DS_BREAKER_OPEN && t >= m->deadline) bm_enter(m, DS_BREAKER_HALF_OPEN, t);
    else if (m->state == DS_BREAKER_HALF_OPEN && m->c.half_open_max_ns && t >= m->deadline)
    {
        bm_ho_timeouts++;
        bm_enter(m, DS_BREAKER_OPEN, t);
    }
    return t;
}

/* The window's totals at time t, by scanning. */
static void bm_window(const bmodel *m, int64_t t, uint64_t *calls, uint64_t *fails, uint64_t *slow) {
    size_t i, from = 0;
    *calls = *fails = *slow = 0;
    if (m->state == DS_BREAKER_HALF_OPEN) {
        *calls = m->done;
        *fails = m->pfail;
        *slow = m->pslow;
        return;
    }
    if (m->state != DS_BREAKER_CLOSED) return;
    if (m->c.window == DS_BREAKER_COUNT_BASED && m->nhist > m->c.window_size) from = m->nhist - m->c.window_size;
    for (i = from; i < m->nhist; i++) {
        if (m->c.window == DS_BREAKER_TIME_BASED &&
            bm_floor_div(m->hist[i].t, m->c.bucket_ns) <= bm_floor_div(t, m->c.bucket_ns) - (int64_t)m->c.window_size)
            continue;
        (*calls)++;
        *fails += (uint64_t)m->hist[i].fail;
        *slow += (uint64_t)m->hist[i].slow;
    }
}

static uint32_t bm_min_calls(const bmodel *m) {
    if (m->state == DS_BREAKER_HALF_OPEN) return m->c.half_open_calls;
    if (m->c.window == DS_BREAKER_COUNT_BASED && m->c.min_calls > m->c.window_size) return m->c.window_size;
    return m->c.min_calls;
}

static int bm_over(const bmodel *m, uint64_t calls, uint64_t fails, uint64_t slow) {
    if (calls == 0 || calls < bm_min_calls(m)) return 0;
    if (m->c.failure_rate > 0 && (double)fails * 100.0 >= m->c.failure_rate * (double)calls) return 1;
    if (m->c.slow_rate > 0 && (double)slow * 100.0 >= m->c.slow_rate * (double)calls) return 1;
    return 0;
}

static ds_status bm_allow(bmodel *m, int64_t now, int64_t *wait) {
    int64_t t = bm_tick(m, now);
    *wait = 0;
    if (m->state == DS_BREAKER_CLOSED || m->state == DS_BREAKER_DISABLED ||
        (m->state == DS_BREAKER_HALF_OPEN && m->given < m->c.half_open_calls)) {
        if (m->state == DS_BREAKER_HALF_OPEN) m->given++;
        m->permitted++;
        return DS_OK;
    }
    m->rejected++;
    bm_ho_rejects += m->state == DS_BREAKER_HALF_OPEN;
    *wait = m->state == DS_BREAKER_OPEN ? m->deadline - t
          : m->state == DS_BREAKER_HALF_OPEN ? m->c.wait_open_ns : INT64_MAX;
    return DS_EREFUSED;
}

static void bm_record(bmodel *m, ds_breaker_outcome o, int64_t dur, int64_t now) {
    int64_t t = bm_tick(m, now);
    int fail = o == DS_BREAKER_FAILURE, slow = dur > m->c.slow_call_ns;
    if (o == DS_BREAKER_IGNORED) {
        m->ign++;
        if (m->state == DS_BREAKER_HALF_OPEN && m->done < m->given) m->given--;
        return;
    }
    if (fail) m->fail++; else m->succ++;
    m->slow += (uint64_t)slow;
    if (m->state == DS_BREAKER_CLOSED) {
        uint64_t calls, fails, slows;
        uint32_t run = 0;
        size_t i;
        m->hist[m->nhist].t = t;
        m->hist[m->nhist].fail = fail;
        m->hist[m->nhist].slow = slow;
        m->nhist++;
        for (i = m->nhist; i > 0 && m->hist[i - 1].fail; i--) run++;
        bm_window(m, t, &calls, &fails, &slows);
        if (m->c.consecutive_failures && run >= m->c.consecutive_failures) {
            bm_trips_consec++;
            bm_enter(m, DS_BREAKER_OPEN, t);
        } else if (bm_over(m, calls, fails, slows)) {
            bm_trips_rate++;
            bm_enter(m, DS_BREAKER_OPEN, t);
        }
    } else if (m->state == DS_BREAKER_HALF_OPEN && m->done < m->given) {
        m->done++;
        m->pfail += (uint32_t)fail;
        m->pslow += (uint32_t)slow;
        if (m->done == m->c.half_open_calls) {
            int reopen = bm_over(m, m->done, m->pfail, m->pslow) || (m->c.failure_rate < 0 && m->pfail > 0);
            bm_enter(m, reopen ? DS_BREAKER_OPEN : DS_BREAKER_CLOSED, t);
        }
    }
}

static int bm_compare(bmodel *m, ds_breaker *b, bk_log *log, int64_t now) {
    ds_breaker_stats s;
    uint64_t calls, fails, slow;
    uint32_t run = 0;
    size_t i;
    int64_t t;
    ds_breaker_snapshot(b, now, &s);
    t = bm_tick(m, now);
    bm_window(m, t, &calls, &fails, &slow);
    for (i = m->nhist; m->state == DS_BREAKER_CLOSED && i > 0 && m->hist[i - 1].fail; i--) run++;
    CHECK_OR(s.state == m->state, 1);
    CHECK_OR(s.since == m->since && s.transitions == m->transitions, 1);
    CHECK_OR(s.permitted == m->permitted && s.rejected == m->rejected, 1);
    CHECK_OR(s.successes == m->succ && s.failures == m->fail && s.slow == m->slow && s.ignored == m->ign, 1);
    CHECKF_OR(s.window_calls == calls && s.window_failures == fails && s.window_slow == slow, 1,
              "window %llu/%llu/%llu, model %llu/%llu/%llu", (unsigned long long)s.window_calls,
              (unsigned long long)s.window_failures, (unsigned long long)s.window_slow,
              (unsigned long long)calls, (unsigned long long)fails, (unsigned long long)slow);
    if (calls && calls >= bm_min_calls(m)) {
        CHECK_OR(s.failure_rate == (double)fails * 100.0 / (double)calls, 1);
        CHECK_OR(s.slow_rate == (double)slow * 100.0 / (double)calls, 1);
    } else {
        CHECK_OR(s.failure_rate == -1.0 && s.slow_rate == -1.0, 1);
    }
    CHECK_OR(s.consecutive_failures == run, 1);
    CHECK_OR(s.probes_out == (m->state == DS_BREAKER_HALF_OPEN ? m->given - m->done : 0), 1);
    CHECK_OR(log->n == m->log.n, 1);
    CHECK_OR(memcmp(log, &m->log, sizeof *log) == 0, 1);
    return 0;
}

static void breaker_model_case(ds_rng *r, uint64_t seed) {
    static const double rates[] = {DS_BREAKER_OFF, 10, 25, 33.3, 50, 50.5, 75, 100};
    static bmodel m; /* big: keep it off the stack */
    ds_breaker b;
    bk_log log;
    int64_t now = (int64_t)ds_rng_below(r, 1000) - 500, outstanding = 0;
    int step, storm = 0;
    (void)seed;
    memset(&m, 0, sizeof m);
    memset(&log, 0, sizeof log);
    m.c.window = ds_rng_below(r, 2) ? DS_BREAKER_TIME_BASED : DS_BREAKER_COUNT_BASED;
    m.c.window_size = 1 + (uint32_t)ds_rng_below(r, 20);
    m.c.bucket_ns = 1 + (int64_t)ds_rng_below(r, 50);
    m.c.min_calls = 1 + (uint32_t)ds_rng_below(r, 25);
    m.c.failure_rate = rates[ds_rng_below(r, 8)];
    m.c.slow_rate = rates[ds_rng_below(r, 8)];
    m.c.slow_call_ns = 1 + (int64_t)ds_rng_below(r, 30);
    m.c.consecutive_failures = (uint32_t)ds_rng_below(r, 7);
    m.c.wait_open_ns = 1 + (int64_t)ds_rng_below(r, 200);
    m.c.half_open_calls = 1 + (uint32_t)ds_rng_below(r, 5);
    m.c.half_open_max_ns = ds_rng_below(r, 2) ? 0 : 1 + (int64_t)ds_rng_below(r, 300);
    m.c.on_state = bk_on_state;
    m.c.ctx = &log;
    m.state = DS_BREAKER_CLOSED;
    m.last = INT64_MIN;
    CHECK(ds_breaker_init(&b, &m.c, NULL) == DS_OK);
    for (step = 0; step < 3000; step++) {
        uint64_t op = ds_rng_below(r, 100);
        if (step % 250 == 0) storm = !storm;
        if (op < 35) { /* allow */
            int64_t w1, w2;
            ds_status s1 = ds_breaker_allow(&b, now, &w1), s2 = bm_allow(&m, now, &w2);
            CHECKF(s1 == s2 && w1 == w2, "step %d: allow %d/%lld, model %d/%lld", step, (int)s1,
                   (long long)w1, (int)s2, (long long)w2);
            if (s1 == DS_OK) outstanding++;
        } else if (op < 70) { /* record one outstanding call (or a stray, rarely) */
            uint64_t roll = ds_rng_below(r, 100);
            ds_breaker_outcome o = roll < 8 ? DS_BREAKER_IGNORED
                                 : roll < (storm ? 85u : 15u) ? DS_BREAKER_FAILURE : DS_BREAKER_SUCCESS;
            int64_t dur = (int64_t)ds_rng_below(r, 60);
            if (outstanding == 0 && ds_rng_below(r, 10)) continue;
            if (outstanding) outstanding--;
            CHECK(ds_breaker_record(&b, o, dur, now) == DS_OK);
            bm_record(&m, o, dur, now);
        } else if (op < 88) { /* time passes */
            uint64_t k = ds_rng_below(r, 100);
            now += k < 70 ? (int64_t)ds_rng_below(r, 10) : k < 97 ? (int64_t)ds_rng_below(r, 150)
                 : (int64_t)ds_rng_below(r, 5000);
        } else if (op < 90) { /* the clock steps back: taken as the latest */
            now -= (int64_t)ds_rng_below(r, 50);
        } else if (op < 93) {
            ds_breaker_state st = ds_breaker_advance(&b, now);
            bm_tick(&m, now);
            CHECK(st == m.state);
        } else if (op < 95) {
            ds_breaker_state to = (ds_breaker_state)ds_rng_below(r, 5);
            CHECK(ds_breaker_force(&b, to, now) == DS_OK);
            bm_enter(&m, to, bm_clock(&m, now));
            outstanding = 0;
        } else if (op < 96) {
            ds_breaker_reset(&b, now);
            m.permitted = m.rejected = m.succ = m.fail = m.slow = m.ign = 0;
            bm_enter(&m, DS_BREAKER_CLOSED, bm_clock(&m, now));
            m.transitions = 0;
            outstanding = 0;
        } else { /* a full comparison (it advances both to now) */
            if (bm_compare(&m, &b, &log, now)) {
                fprintf(stderr, "    (step %d)\n", step);
                break;
            }
        }
        /* the state, unadvanced, after every step */
        CHECKF(ds_breaker_current(&b) == m.state, "step %d: state %s, model %s", step,
               ds_breaker_state_name(ds_breaker_current(&b)), ds_breaker_state_name(m.state));
        CHECK(log.n == m.log.n);
        if (m.nhist > 4000) { /* keep the model's history bounded */
            ds_breaker_reset(&b, now);
            m.permitted = m.rejected = m.succ = m.fail = m.slow = m.ign = 0;
            bm_enter(&m, DS_BREAKER_CLOSED, bm_clock(&m, now));
            m.transitions = 0;
        }
    }
    if (!prop_test_failed && bm_compare(&m, &b, &log, now)) fprintf(stderr, "    (end)\n");
    ds_breaker_free(&b);
}

void test_breaker_model(void) {
    int i, j;
    memset(bm_seen, 0, sizeof bm_seen);
    bm_ho_rejects = bm_trips_consec = bm_trips_rate = bm_ho_timeouts = 0;
    prop_run("breaker_model", breaker_model_case, 300);
    if (prop_test_failed || getenv("DS_SEED")) return;
    /* the sequences reached every transition and every rule, often */
    for (i = 0; i < 5; i++)
        for (j = 0; j < 5; j++)
            CHECKF(i == j || bm_seen[i][j] >= 20, "%s -> %s seen %llu times", ds_breaker_state_name((ds_breaker_state)i),
                   ds_breaker_state_name((ds_breaker_state)j), (unsigned long long)bm_seen[i][j]);
    CHECKF(bm_ho_rejects >= 100 && bm_trips_consec >= 100 && bm_trips_rate >= 100 && bm_ho_timeouts >= 20,
           "coverage: %llu half-open rejections, %llu/%llu trips, %llu half-open timeouts",
           (unsigned long long)bm_ho_rejects, (unsigned long long)bm_trips_consec,
           (unsigned long long)bm_trips_rate, (unsigned long long)bm_ho_timeouts);
    if (prop_env_long("DS_VERBOSE", 0))
        printf("    breaker_model: C->O %llu, O->H %llu, H->C %llu, H->O %llu (timeouts %llu), "
               "half-open rejections %llu, trips consec/rate %llu/%llu\n",
               (unsigned long long)bm_seen[0][1], (unsigned long long)bm_seen[1][2],
               (unsigned long long)bm_seen[2][0], (unsigned long long)bm_seen[2][1],
               (unsigned long long)bm_ho_timeouts, (unsigned long long)bm_ho_rejects,
               (unsigned long long)bm_trips_consec, (unsigned long long)bm_trips_rate);
}
