/* src/breaker.h - ds_breaker: circuit breaker
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/breaker.h"
 */
#ifndef DS_SRC_BREAKER_H
#define DS_SRC_BREAKER_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:breaker ==  ds_breaker: circuit breaker
 * ========================================================================
 * A circuit breaker in front of a downstream call: CLOSED (calls go
 * through, outcomes are measured), OPEN (calls fail fast), HALF_OPEN (a few
 * probe calls test whether the downstream has recovered). The rules are
 * resilience4j's CircuitBreaker (its docs and CircuitBreakerMetrics), plus
 * the classic "trip after K consecutive failures" (Nygard):
 *
 *   CLOSED -> OPEN when, after a recorded outcome, either
 *     - consecutive_failures > 0 and that many failures came in a row
 *       (successes reset the run; ignored outcomes do not), or
 *     - the window holds >= min_calls outcomes and the failure rate or the
 *       slow-call rate (percent of the window) is >= its threshold.
 *     A call is slow when its duration is longer than slow_call_ns; a slow
 *     call counts as slow whether it succeeded or failed.
 *   OPEN -> HALF_OPEN once wait_open_ns has passed (applied lazily, by the
 *     first allow/record/advance/snapshot at or after that time: call
 *     ds_breaker_advance from a timer to get it on time).
 *   HALF_OPEN: exactly half_open_calls (P) calls are permitted; further
 *     allows are rejected until the probes' outcomes are recorded. When all
 *     P have reported: OPEN again if their failure rate or slow rate is >=
 *     its threshold (with the failure-rate rule off: if any probe failed),
 *     else CLOSED. An ignored probe gives its permit back. With
 *     half_open_max_ns > 0, a half-open state older than that reopens
 *     (probes that never report cannot wedge the breaker).
 *   FORCED_OPEN (rejects everything, no timeout) and DISABLED (permits
 *     everything, never trips) are entered only by ds_breaker_force.
 * Every transition starts the new state with an empty window (and zero
 * consecutive failures); rates are only measured while CLOSED.
 *
 * Windows: COUNT_BASED keeps the last window_size outcomes in a ring of
 * bytes with running totals (O(1) a record). TIME_BASED keeps window_size
 * buckets of bucket_ns, aligned to multiples of bucket_ns (resilience4j:
 * epoch seconds): the window is the current bucket and the window_size - 1
 * before it. Buckets are partial aggregates subtracted on eviction; only
 * non-empty buckets are visited, so a record is O(1) amortised whatever
 * the clock jumps. A count window clamps min_calls to window_size.
 *
 * Two-step use around any call:
 *     int64_t wait;
 *     if (ds_breaker_allow(&b, now, &wait) != DS_OK) return fail_fast(wait);
 *     int64_t t0 = now_ns(); int ok = call(); int64_t t1 = now_ns();
 *     ds_breaker_record(&b, ok ? DS_BREAKER_SUCCESS : DS_BREAKER_FAILURE, t1 - t0, t1);
 * Every permitted call must be recorded exactly once (IGNORED for an
 * outcome that says nothing about the downstream, e.g. a client error).
 * Records carry no ticket: in HALF_OPEN a record counts as a probe while
 * probes are outstanding, so a late record of a call permitted while CLOSED
 * can stand in for a probe. Times are the caller's monotonic ns; a `now`
 * earlier than one already seen is taken as that one.
 *
 *   ds_status ds_breaker_init(ds_breaker *b, const ds_breaker_config *cfg, const ds_alloc *a)
 *          cfg NULL = all defaults. DS_EINVAL for a rate outside (0, 100]
 *          (other than 0 = default and DS_BREAKER_OFF), a negative time,
 *          an unknown window type, a time window whose span overflows;
 *          DS_ENOMEM (nothing allocated). Starts CLOSED, stats zero.
 *   void   ds_breaker_free(ds_breaker *b)
 *   ds_status ds_breaker_allow(ds_breaker *b, int64_t now, int64_t *retry_after_ns)
 *          DS_OK: the call may go ahead (then record it). DS_EREFUSED:
 *          rejected; *retry_after_ns (may be NULL) is the time until the
 *          next probe is due: OPEN, the rest of the wait; FORCED_OPEN,
 *          INT64_MAX; HALF_OPEN with every probe out, wait_open_ns (the
 *          probes decide; if they fail the breaker stays open that long).
 *   ds_status ds_breaker_record(ds_breaker *b, ds_breaker_outcome outcome,
 *                               int64_t duration_ns, int64_t now)
 *          DS_EINVAL for an unknown outcome or a negative duration
 *   ds_breaker_state ds_breaker_advance(ds_breaker *b, int64_t now)
 *          applies the timed transitions and evicts old buckets; returns
 *          the state
 *   ds_status ds_breaker_force(ds_breaker *b, ds_breaker_state to, int64_t now)
 *          manual transition to any state (OPEN starts a fresh wait;
 *          forcing the current state restarts it); DS_EINVAL if unknown
 *   void   ds_breaker_reset(ds_breaker *b, int64_t now)
 *          back to CLOSED with every statistic zeroed
 *   ds_breaker_state ds_breaker_current(const ds_breaker *b)
 *          the state as of the last call (no timed transition applied)
 *   void   ds_breaker_snapshot(ds_breaker *b, int64_t now, ds_breaker_stats *out)
 *          advance to now, then the counters and the window's rates
 *   const char *ds_breaker_state_name(ds_breaker_state s)   "CLOSED", ...
 * The callback on_state(ctx, from, to, now) runs after each change of
 * state (from != to), with the breaker already in `to`; it may read the
 * breaker (ds_breaker_current) but must not call anything that changes it.
 * Complexity: allow O(1); record O(1) (count window) or O(1) amortised
 * (time window); force/reset O(non-empty buckets). Memory: window_size
 * bytes (count) or 32 bytes a bucket (time), one allocation.
 * Thread-safety: none; every call but ds_breaker_current mutates
 * (ds_cbreaker in ds_concurrent.h shares one between threads). */
typedef enum ds_breaker_state {
    DS_BREAKER_CLOSED = 0,
    DS_BREAKER_OPEN = 1,
    DS_BREAKER_HALF_OPEN = 2,
    DS_BREAKER_FORCED_OPEN = 3,
    DS_BREAKER_DISABLED = 4
} ds_breaker_state;

typedef enum ds_breaker_outcome {
    DS_BREAKER_SUCCESS = 0,
    DS_BREAKER_FAILURE = 1,
    DS_BREAKER_IGNORED = 2
} ds_breaker_outcome;

typedef enum ds_breaker_window { DS_BREAKER_COUNT_BASED = 0, DS_BREAKER_TIME_BASED = 1 } ds_breaker_window;

/* A rate threshold that never trips. */
#define DS_BREAKER_OFF (-1.0)

typedef void (*ds_breaker_fn)(void *ctx, ds_breaker_state from, ds_breaker_state to, int64_t now);

/* Zero means the default (resilience4j's defaults). */
typedef struct ds_breaker_config {
    uint32_t window_size;           /* outcomes, or buckets; 0 = 100 */
    ds_breaker_window window;       /* COUNT_BASED (default) or TIME_BASED */
    int64_t bucket_ns;              /* TIME_BASED bucket width; 0 = 1 s */
    uint32_t min_calls;             /* outcomes before rates count; 0 = 100 */
    double failure_rate;            /* percent in (0, 100]; 0 = 50; or DS_BREAKER_OFF */
    double slow_rate;               /* percent in (0, 100]; 0 = 100; or DS_BREAKER_OFF */
    int64_t slow_call_ns;           /* longer is slow; 0 = 60 s */
    uint32_t consecutive_failures;  /* trip after this many in a row; 0 = off */
    int64_t wait_open_ns;           /* OPEN before HALF_OPEN; 0 = 60 s */
    uint32_t half_open_calls;       /* probes P; 0 = 10 */
    int64_t half_open_max_ns;       /* 0 = wait for the probes forever */
    ds_breaker_fn on_state;         /* NULL = none */
    void *ctx;                      /* passed to on_state */
} ds_breaker_config;

typedef struct ds_breaker_stats {
    int64_t since;                  /* time of the last transition (0 before any) */
    ds_breaker_state state;
    uint64_t transitions;           /* state changes */
    uint64_t permitted, rejected;   /* allow: DS_OK / DS_EREFUSED */
    uint64_t successes, failures, slow, ignored;  /* recorded outcomes, any state */
    /* The current window: CLOSED, the sliding window; HALF_OPEN, the probes
     * reported so far; otherwise empty. Rates in percent, or -1 while the
     * window holds fewer than min_calls (HALF_OPEN: P) outcomes. */
    uint64_t window_calls, window_failures, window_slow;
    double failure_rate, slow_rate;
    uint32_t consecutive_failures;  /* current run (CLOSED) */
    uint32_t probes_out;            /* HALF_OPEN: permits not yet reported */
} ds_breaker_stats;

typedef struct ds__bk_bucket {
    uint64_t calls, fails, slow;
} ds__bk_bucket;

typedef struct ds_breaker {
    ds_breaker_config cfg;          /* effective values */
    const ds_alloc *alloc;
    ds_breaker_state state;
    unsigned char *ring;            /* COUNT: outcomes, bit 0 failed, bit 1 slow */
    ds__bk_bucket *bucket;          /* TIME: bucket of epoch e at e mod window_size */
    int64_t *qepoch;                /* TIME: non-empty buckets' epochs, oldest first */
    size_t bytes;                   /* the one allocation */
    uint32_t head, len;             /* ring, or the qepoch queue */
    uint64_t wcalls, wfails, wslow; /* window (HALF_OPEN: probes) totals */
    uint32_t consec, probes_given, probes_done;
    int64_t deadline;               /* OPEN: half-open due; HALF_OPEN: max wait */
    int64_t last_now, since;        /* latest now seen (INT64_MIN: none); last transition */
    uint64_t transitions, permitted, rejected, successes, failures, slow, ignored;
} ds_breaker;

DSDEF ds_status ds_breaker_init(ds_breaker *b, const ds_breaker_config *cfg, const ds_alloc *a);
DSDEF void ds_breaker_free(ds_breaker *b);
DSDEF ds_status ds_breaker_allow(ds_breaker *b, int64_t now, int64_t *retry_after_ns);
DSDEF ds_status ds_breaker_record(ds_breaker *b, ds_breaker_outcome outcome, int64_t duration_ns,
                                  int64_t now);
DSDEF ds_breaker_state ds_breaker_advance(ds_breaker *b, int64_t now);
DSDEF ds_status ds_breaker_force(ds_breaker *b, ds_breaker_state to, int64_t now);
DSDEF void ds_breaker_reset(ds_breaker *b, int64_t now);
DSDEF ds_breaker_state ds_breaker_current(const ds_breaker *b);
DSDEF void ds_breaker_snapshot(ds_breaker *b, int64_t now, ds_breaker_stats *out);
DSDEF const char *ds_breaker_state_name(ds_breaker_state s);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_BREAKER_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_BREAKER_IMPL)
#define DS_SRC_BREAKER_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:breaker == */

static int64_t ds__bk_add_sat(int64_t t, int64_t d) { return t > INT64_MAX - d ? INT64_MAX : t + d; }
/* floor(t / w) for w > 0: time buckets stay aligned below zero too. */
static int64_t ds__bk_epoch(int64_t t, int64_t w) {
    int64_t q = t / w;
    return (t % w < 0) ? q - 1 : q;
}
/* The slot of bucket epoch e: a true modulo, so consecutive epochs get
 * distinct slots across zero as well. */
static uint32_t ds__bk_slot(int64_t e, uint32_t n) {
    int64_t r = e % (int64_t)n;
    return (uint32_t)(r < 0 ? r + (int64_t)n : r);
}
/* The i-th entry of the epoch queue. */
static int64_t *ds__bk_q(ds_breaker *b, uint64_t i) {
    return &b->qepoch[((uint64_t)b->head + i) % b->cfg.window_size];
}
static int ds__bk_rate_bad(double r) { return !(r == 0 || r == DS_BREAKER_OFF || (r > 0 && r <= 100)); }

DSDEF ds_status ds_breaker_init(ds_breaker *b, const ds_breaker_config *cfg, const ds_alloc *a) {
    ds_breaker_config c;
    size_t bytes;
    void *mem;
    if (!b) return DS_EINVAL;
    memset(b, 0, sizeof *b); /* a failed init leaves a struct free accepts */
    if (cfg) c = *cfg; else memset(&c, 0, sizeof c);
    if (!c.window_size) c.window_size = 100;
    if (!c.bucket_ns) c.bucket_ns = 1000000000;
    if (!c.min_calls) c.min_calls = 100;
    if (c.failure_rate == 0) c.failure_rate = 50;
    if (c.slow_rate == 0) c.slow_rate = 100;
    if (!c.slow_call_ns) c.slow_call_ns = 60000000000LL;
    if (!c.wait_open_ns) c.wait_open_ns = 60000000000LL;
    if (!c.half_open_calls) c.half_open_calls = 10;
    if ((c.window != DS_BREAKER_COUNT_BASED && c.window != DS_BREAKER_TIME_BASED) ||
        ds__bk_rate_bad(c.failure_rate) || ds__bk_rate_bad(c.slow_rate) || c.bucket_ns < 0 ||
        c.slow_call_ns < 0 || c.wait_open_ns < 0 || c.half_open_max_ns < 0)
        return DS_EINVAL;
    if (c.window == DS_BREAKER_COUNT_BASED) {
        if (c.min_calls > c.window_size) c.min_calls = c.window_size; /* as resilience4j */
        bytes = c.window_size;
    } else {
        if (c.bucket_ns > INT64_MAX / (int64_t)c.window_size) return DS_EINVAL;
        if (!ds_size_mul(c.window_size, sizeof(ds__bk_bucket) + sizeof(int64_t), &bytes)) return DS_EINVAL;
    }
    mem = DS_MALLOC(a, bytes);
    if (!mem) return DS_ENOMEM;
    memset(b, 0, sizeof *b);
    b->cfg = c;
    b->alloc = a;
    b->bytes = bytes;
    if (c.window == DS_BREAKER_COUNT_BASED) {
        b->ring = (unsigned char *)mem;
    } else {
        /* buckets first: int64 epochs after 24-byte buckets stay aligned */
        b->bucket = (ds__bk_bucket *)mem;
        b->qepoch = (int64_t *)(void *)(b->bucket + c.window_size);
        memset(b->bucket, 0, c.window_size * sizeof(ds__bk_bucket));
    }
    b->state = DS_BREAKER_CLOSED;
    b->last_now = INT64_MIN;
    return DS_OK;
}

DSDEF void ds_breaker_free(ds_breaker *b) {
    void *mem;
    if (!b) return;
    mem = b->ring ? (void *)b->ring : (void *)b->bucket;
    if (mem) DS_FREE(b->alloc, mem, b->bytes);
    b->bytes = 0;
    b->ring = NULL;
    b->bucket = NULL;
    b->qepoch = NULL;
}

/* Empty the window in O(non-empty buckets). */
static void ds__bk_clear_window(ds_breaker *b) {
    if (b->bucket) {
        uint32_t i;
        for (i = 0; i < b->len; i++)
            memset(&b->bucket[ds__bk_slot(*ds__bk_q(b, i), b->cfg.window_size)], 0, sizeof(ds__bk_bucket));
    }
    b->head = b->len = 0;
    b->wcalls = b->wfails = b->wslow = 0;
}

static void ds__bk_enter(ds_breaker *b, ds_breaker_state to, int64_t t) {
    ds_breaker_state from = b->state;
    ds__bk_clear_window(b);
    b->state = to;
    b->consec = b->probes_given = b->probes_done = 0;
    b->since = t;
    if (to == DS_BREAKER_OPEN) b->deadline = ds__bk_add_sat(t, b->cfg.wait_open_ns);
    else if (to == DS_BREAKER_HALF_OPEN && b->cfg.half_open_max_ns)
        b->deadline = ds__bk_add_sat(t, b->cfg.half_open_max_ns);
    else b->deadline = INT64_MAX;
    if (from != to) {
        b->transitions++;
        if (b->cfg.on_state) b->cfg.on_state(b->cfg.ctx, from, to, t);
    }
}

/* Evict the buckets that left a time window ending in the bucket of t. */
static void ds__bk_evict(ds_breaker *b, int64_t t) {
    uint32_t n = b->cfg.window_size;
    int64_t e;
    if (!b->bucket || b->state != DS_BREAKER_CLOSED) return;
    e = ds__bk_epoch(t, b->cfg.bucket_ns);
    while (b->len && (uint64_t)e - (uint64_t)b->qepoch[b->head] >= n) {
        ds__bk_bucket *k = &b->bucket[ds__bk_slot(b->qepoch[b->head], n)];
        b->wcalls -= k->calls;
        b->wfails -= k->fails;
        b->wslow -= k->slow;
        memset(k, 0, sizeof *k);
        b->head = b->head + 1 == n ? 0 : b->head + 1;
        b->len--;
    }
}

/* Clamp now to the latest seen. */
static int64_t ds__bk_clock(ds_breaker *b, int64_t now) {
    if (now < b->last_now) now = b->last_now;
    return b->last_now = now;
}
/* ... and apply the timed transitions (at most one: each sets a later deadline). */
static int64_t ds__bk_tick(ds_breaker *b, int64_t now) {
    now = ds__bk_clock(b, now);
    if (b->state == DS_BREAKER_OPEN && now >= b->deadline) ds__bk_enter(b, DS_BREAKER_HALF_OPEN, now);
    else if (b->state == DS_BREAKER_HALF_OPEN && b->cfg.half_open_max_ns && now >= b->deadline) ds__bk_enter(b, DS_BREAKER_OPEN, now);
    return now;
}

/* The thresholds, over calls outcomes of which fails failed and slow were
 * slow (resilience4j: rate >= threshold, once min outcomes are in). */
static int ds__bk_over(const ds_breaker *b, uint64_t calls, uint64_t fails, uint64_t slow, uint64_t min) {
    double c;
    if (!calls || calls < min) return 0;
    c = (double)(int64_t)calls; /* counts fit int64: one signed conversion, not the unsigned dance */
    if (b->cfg.failure_rate > 0 && (double)(int64_t)fails * 100.0 >= b->cfg.failure_rate * c) return 1;
    if (b->cfg.slow_rate > 0 && (double)(int64_t)slow * 100.0 >= b->cfg.slow_rate * c) return 1;
    return 0;
}

DSDEF ds_status ds_breaker_allow(ds_breaker *b, int64_t now, int64_t *retry_after_ns) {
    int64_t t, wait = 0;
    if (retry_after_ns) *retry_after_ns = 0;
    if (!b) return DS_EINVAL;
    t = ds__bk_tick(b, now);
    switch (b->state) {
    case DS_BREAKER_CLOSED:
    case DS_BREAKER_DISABLED:
        b->permitted++;
        return DS_OK;
    case DS_BREAKER_HALF_OPEN:
        if (b->probes_given < b->cfg.half_open_calls) {
            b->probes_given++;
            b->permitted++;
            return DS_OK;
        }
        wait = b->cfg.wait_open_ns;
        break;
    case DS_BREAKER_OPEN: wait = b->deadline - t; break;
    default: wait = INT64_MAX; break; /* forced open */
    }
    b->rejected++;
    if (retry_after_ns) *retry_after_ns = wait;
    return DS_EREFUSED;
}

DSDEF ds_status ds_breaker_record(ds_breaker *b, ds_breaker_outcome outcome, int64_t duration_ns,
                                  int64_t now) {
    int64_t t;
    int fail = outcome == DS_BREAKER_FAILURE, slow;
    if (!b || duration_ns < 0 ||
        (outcome != DS_BREAKER_SUCCESS && outcome != DS_BREAKER_FAILURE && outcome != DS_BREAKER_IGNORED))
        return DS_EINVAL;
    t = ds__bk_tick(b, now);
    if (outcome == DS_BREAKER_IGNORED) {
        b->ignored++;
        if (b->state == DS_BREAKER_HALF_OPEN && b->probes_done < b->probes_given)
            b->probes_given--; /* the permit goes back */
        return DS_OK;
    }
    slow = duration_ns > b->cfg.slow_call_ns;
    if (fail) b->failures++; else b->successes++;
    b->slow += (uint64_t)slow;
    if (b->state == DS_BREAKER_CLOSED) {
        uint32_t n = b->cfg.window_size;
        if (b->ring) {
            if (b->len == n) { /* the oldest outcome leaves */
                unsigned char old = b->ring[b->head];
                b->wcalls--;
                b->wfails -= old & 1u;
                b->wslow -= (old >> 1) & 1u;
            } else {
                b->len++;
            }
            b->ring[b->head] = (unsigned char)(fail | slow << 1);
            b->head = b->head + 1 == n ? 0 : b->head + 1;
        } else {
            int64_t e = ds__bk_epoch(t, b->cfg.bucket_ns);
            ds__bk_bucket *k = &b->bucket[ds__bk_slot(e, n)];
            ds__bk_evict(b, t); /* a bucket still in use now holds epoch e */
            if (!k->calls) { /* a bucket comes into use: queue its epoch */
                *ds__bk_q(b, b->len) = e;
                b->len++;
            }
            k->calls++;
            k->fails += (uint64_t)fail;
            k->slow += (uint64_t)slow;
        }
        b->wcalls++;
        b->wfails += (uint64_t)fail;
        b->wslow += (uint64_t)slow;
        b->consec = fail ? b->consec + 1 : 0;
        if ((b->cfg.consecutive_failures && b->consec >= b->cfg.consecutive_failures) ||
            ds__bk_over(b, b->wcalls, b->wfails, b->wslow, b->cfg.min_calls))
            ds__bk_enter(b, DS_BREAKER_OPEN, t);
    } else if (b->state == DS_BREAKER_HALF_OPEN && b->probes_done < b->probes_given) {
        b->probes_done++;
        b->wcalls++;
        b->wfails += (uint64_t)fail;
        b->wslow += (uint64_t)slow;
        if (b->probes_done == b->cfg.half_open_calls) {
            int reopen = ds__bk_over(b, b->wcalls, b->wfails, b->wslow, b->wcalls) ||
                         (b->cfg.failure_rate < 0 && b->wfails > 0);
            ds__bk_enter(b, reopen ? DS_BREAKER_OPEN : DS_BREAKER_CLOSED, t);
        }
    }
    return DS_OK;
}

DSDEF ds_breaker_state ds_breaker_advance(ds_breaker *b, int64_t now) {
    if (!b) return DS_BREAKER_CLOSED;
    ds__bk_evict(b, ds__bk_tick(b, now));
    return b->state;
}

DSDEF ds_status ds_breaker_force(ds_breaker *b, ds_breaker_state to, int64_t now) {
    if (!b || (unsigned)to > (unsigned)DS_BREAKER_DISABLED) return DS_EINVAL;
    ds__bk_enter(b, to, ds__bk_clock(b, now));
    return DS_OK;
}

DSDEF void ds_breaker_reset(ds_breaker *b, int64_t now) {
    int64_t t;
    if (!b) return;
    t = ds__bk_clock(b, now);
    b->permitted = b->rejected = b->successes = b->failures = b->slow = b->ignored = 0;
    ds__bk_enter(b, DS_BREAKER_CLOSED, t);
    b->transitions = 0;
}

DSDEF ds_breaker_state ds_breaker_current(const ds_breaker *b) { return b ? b->state : DS_BREAKER_CLOSED; }

DSDEF void ds_breaker_snapshot(ds_breaker *b, int64_t now, ds_breaker_stats *out) {
    uint64_t min;
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!b) return;
    ds_breaker_advance(b, now);
    out->state = b->state;
    out->since = b->since;
    out->transitions = b->transitions;
    out->permitted = b->permitted;
    out->rejected = b->rejected;
    out->successes = b->successes;
    out->failures = b->failures;
    out->slow = b->slow;
    out->ignored = b->ignored;
    out->window_calls = b->wcalls;
    out->window_failures = b->wfails;
    out->window_slow = b->wslow;
    min = b->state == DS_BREAKER_HALF_OPEN ? b->cfg.half_open_calls : b->cfg.min_calls;
    if (b->wcalls && b->wcalls >= min) {
        out->failure_rate = (double)b->wfails * 100.0 / (double)b->wcalls;
        out->slow_rate = (double)b->wslow * 100.0 / (double)b->wcalls;
    } else {
        out->failure_rate = out->slow_rate = -1.0;
    }
    out->consecutive_failures = b->consec;
    out->probes_out = b->state == DS_BREAKER_HALF_OPEN ? b->probes_given - b->probes_done : 0;
}

DSDEF const char *ds_breaker_state_name(ds_breaker_state s) {
    static const char *const names[] = {"CLOSED", "OPEN", "HALF_OPEN", "FORCED_OPEN", "DISABLED"};
    return (unsigned)s <= (unsigned)DS_BREAKER_DISABLED ? names[s] : "?";
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_BREAKER_IMPL */
