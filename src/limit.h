/* src/limit.h - ds_limiter, ds_limiter_table: rate limiters
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/limit.h"
 */
#ifndef DS_SRC_LIMIT_H
#define DS_SRC_LIMIT_H
#include "core.h"
#include "map.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:limit ==  rate limiters and a keyed limiter table
 * ========================================================================
 * Seven algorithms behind one shape. A limiter admits `units` (requests,
 * bytes, tokens) at a rate of `limit` per `period_ns`; each call takes the
 * caller's `now` (int64 ns, monotonic, >= 0) and never reads a clock.
 *
 *   DS_LIMIT_TOKEN_BUCKET     capacity `burst`, refilled at limit/period.
 *       Admits n if n tokens are there. Over any interval of length t it
 *       admits at most burst + rate * t.
 *   DS_LIMIT_LEAKY_METER      a bucket of size `burst` that leaks at the
 *       rate; n is admitted if it fits. This is the token bucket seen from
 *       the other side (ITU-T I.371): the decisions are identical, and
 *       `remaining` is the room left in the bucket.
 *   DS_LIMIT_LEAKY_SHAPER     the leaky bucket as a queue: admitted units
 *       wait their turn and leave at exactly the rate; at most `burst`
 *       units are queued (further ones are refused). `take` reports each
 *       admission's delay_ns, the time it must wait before going on.
 *   DS_LIMIT_GCRA             the generic cell rate algorithm with
 *       redis-cell's semantics (CL.THROTTLE key max_burst count period):
 *       limit = count, period = period, burst = max_burst + 1; `take`
 *       fills redis-cell's five results. Same admissions as the token
 *       bucket; state is one theoretical arrival time.
 *   DS_LIMIT_FIXED_WINDOW     at most `limit` per window [k*period,
 *       (k+1)*period). Cheap, but a burst at a window edge can admit up to
 *       2 * limit within one period.
 *   DS_LIMIT_SLIDING_LOG      exact: at most `limit` in every window
 *       (t - period, t]. Keeps one timestamp per admission (merged when
 *       equal), so memory grows up to 16 bytes x limit.
 *   DS_LIMIT_SLIDING_COUNTER  Cloudflare's estimate (and the seed's): a
 *       request is admitted while the previous fixed window's count,
 *       weighted by the share of it the sliding window still covers, plus
 *       the current count is below limit (n units: n requests in a row).
 *       Two counters; at most `limit` per fixed window, so never more than
 *       2 * limit in any period; under overload exactly `limit` per
 *       window; a client sending at most `limit` per 2 periods is never
 *       refused.
 *
 * Arithmetic is exact: the bucket kinds keep their state as a time in
 * units of 1/limit ns (128-bit), so a rate like 3 per second neither
 * drifts nor rounds; over a long run the admitted count is within one unit
 * of burst + rate * t. A clock that steps back never admits more: the
 * state's own time is kept and the step is ignored.
 *
 *   ds_status ds_limiter_init(ds_limiter *l, const ds_limit_config *cfg, const ds_alloc *a)
 *          DS_EINVAL: NULL, limit 0, period <= 0, unknown algorithm. burst
 *          0 means limit (windows ignore burst). Allocates nothing (the
 *          sliding log grows on demand, up to `limit` entries).
 *   void   ds_limiter_free(ds_limiter *l)
 *   ds_status ds_limiter_allow(ds_limiter *l, uint64_t n, int64_t now)
 *          DS_OK: admitted (and counted); DS_EREFUSED: refused (nothing
 *          counted); DS_EINVAL: now < 0; DS_ENOMEM: the sliding log could
 *          not grow (refused, nothing counted). n = 0 only looks: DS_OK.
 *   ds_status ds_limiter_take(ds_limiter *l, uint64_t n, int64_t now, ds_limit_result *res)
 *          allow, and fill *res (see ds_limit_result) as of after the call
 *   int64_t ds_limiter_wait_ns(const ds_limiter *l, uint64_t n, int64_t now)
 *          0 if n would be admitted now, else the ns until it would be
 *          (assuming nothing else is admitted meanwhile), measured from
 *          `now` even after a clock step back; -1 if never (n exceeds
 *          burst, or limit for the windows, or the wait would end past
 *          INT64_MAX) or on bad input (NULL, now < 0). take's
 *          retry_after_ns follows the same rule.
 *   uint64_t ds_limiter_remaining(const ds_limiter *l, int64_t now)
 *          units that would be admitted now
 *   ds_status ds_limiter_set(ds_limiter *l, uint64_t limit, int64_t period_ns, uint64_t burst,
 *                            int64_t now)
 *          change the rate at runtime. Units already admitted stay counted:
 *          the bucket kinds keep their debt in units (rounded up), the
 *          windows keep their counts, the log its timestamps.
 *   void   ds_limiter_reset(ds_limiter *l)   back to rest (full bucket, empty windows)
 * Complexity: O(1) per call; the sliding log's allow is O(expired
 * entries) amortised O(1), its wait_ns O(entries).
 * Thread-safety: none; see ds_concurrent.h for a blocking, shared limiter.
 *
 * Keyed table: one limiter per key (an API key, a user id, a client IP)
 * for millions of keys in bounded memory. All keys share one config. A
 * key at rest (its limiter fully recovered: burst emission intervals after
 * its last admission for the buckets, the end of its window for the fixed
 * window and the log, one more window for the sliding counter) is the same
 * as an absent key, so dropping it loses nothing. When the table is full,
 * a new key takes the place of a key at rest if one of a few sampled keys
 * is (Redis's approximated LRU: 5 random keys), else of the least recently
 * used of them; only that last case loses state (the key restarts at rest:
 * stats.forced_evictions counts these; size max_bytes so it stays 0).
 * Keys are uint64 (exact); byte-string keys are hashed to 64 bits with a
 * per-table seed (two distinct strings share a limiter with probability
 * about n^2 / 2^65 over n live keys: 3e-8 at a million).
 *
 *   ds_status ds_limiter_table_init(ds_limiter_table *t, const ds_limiter_table_config *cfg)
 *          DS_EINVAL: bad limit config, or max_bytes too small for 16 keys
 *   void   ds_limiter_table_free(ds_limiter_table *t)
 *   ds_status ds_limiter_table_allow(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now)
 *   ds_status ds_limiter_table_take(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now,
 *                                   ds_limit_result *res)
 *          as ds_limiter_allow/take; DS_ENOMEM if a new key could not be
 *          stored (refused, table unchanged)
 *   ds_status ds_limiter_table_allow_str(ds_limiter_table *t, const void *key, size_t len,
 *                                        uint64_t n, int64_t now)
 *   ds_status ds_limiter_table_take_str(ds_limiter_table *t, const void *key, size_t len,
 *                                       uint64_t n, int64_t now, ds_limit_result *res)
 *          allow/take keyed by a byte string (hashed with the table's seed)
 *   int64_t ds_limiter_table_wait_ns(const ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now)
 *   uint64_t ds_limiter_table_hash(const ds_limiter_table *t, const void *key, size_t len)
 *          the uint64 key a byte string maps to
 *   ds_status ds_limiter_table_set(ds_limiter_table *t, uint64_t limit, int64_t period_ns,
 *                                  uint64_t burst, int64_t now)
 *          new rate for every key, each keeping what it admitted (as
 *          ds_limiter_set); O(keys). DS_EINVAL if a sliding log's limit
 *          would exceed the one the table was sized for
 *   size_t ds_limiter_table_expire(ds_limiter_table *t, int64_t now, size_t budget)
 *          drop up to budget keys at rest (one sweep of the table, going on
 *          where the last call stopped); returns how many
 *   size_t ds_limiter_table_len(t), ds_limiter_table_memory(t) (bytes held)
 *   ds_limit_stats ds_limiter_table_stats(t)
 * Memory: at most cfg.max_bytes held between calls (a growth step holds
 * the old slot array too for a moment). The worst-case cost per key sets
 * the capacity (ds_limiter_table_capacity): 60 bytes (a 48-byte slot at
 * 4/5 load; open addressing, so a decision touches one cache line), plus
 * 24 + 16 x limit for a sliding log.
 * Complexity: O(1) expected per call; expire O(table) per full sweep.
 * Thread-safety: none; shard keys across threads. */
typedef enum ds_limit_algo {
    DS_LIMIT_TOKEN_BUCKET = 0,
    DS_LIMIT_LEAKY_METER = 1,
    DS_LIMIT_LEAKY_SHAPER = 2,
    DS_LIMIT_GCRA = 3,
    DS_LIMIT_FIXED_WINDOW = 4,
    DS_LIMIT_SLIDING_LOG = 5,
    DS_LIMIT_SLIDING_COUNTER = 6
} ds_limit_algo;
#define DS_LIMIT_ALGOS 7
DSDEF const char *ds_limit_algo_name(ds_limit_algo a);

typedef struct ds_limit_config {
    uint64_t limit;         /* units per period (> 0) */
    ds_limit_algo algo;
    int64_t period_ns;      /* > 0 */
    uint64_t burst;         /* bucket size / shaper queue bound; 0 = limit */
} ds_limit_config;

/* What `take` reports, as of after the decision (redis-cell's fields for
 * GCRA; the same meaning for every algorithm). */
typedef struct ds_limit_result {
    uint64_t limit;          /* most units admissible at once from rest */
    uint64_t remaining;      /* units admissible right now */
    int64_t retry_after_ns;  /* refused: when the same request would be
                                admitted; -1 if admitted or never */
    int64_t reset_after_ns;  /* until the limiter is back at rest */
    int64_t delay_ns;        /* shaper: how long the admitted units queue */
} ds_limit_result;

/* Per-limiter state, 32 bytes whatever the algorithm. */
typedef struct ds__lstate {
    uint64_t hi, lo;         /* buckets: 128-bit time in 1/limit ns units;
                                windows: lo = current count, hi = previous */
    int64_t t;               /* windows: the current window's index */
    void *log;               /* the sliding log's ring (ds__llog) */
} ds__lstate;

typedef struct ds_limiter {
    ds_limit_config cfg;
    ds__lstate s;
    const ds_alloc *alloc;
} ds_limiter;

DSDEF ds_status ds_limiter_init(ds_limiter *l, const ds_limit_config *cfg, const ds_alloc *a);
DSDEF void ds_limiter_free(ds_limiter *l);
DSDEF ds_status ds_limiter_allow(ds_limiter *l, uint64_t n, int64_t now);
DSDEF ds_status ds_limiter_take(ds_limiter *l, uint64_t n, int64_t now, ds_limit_result *res);
DSDEF int64_t ds_limiter_wait_ns(const ds_limiter *l, uint64_t n, int64_t now);
DSDEF uint64_t ds_limiter_remaining(const ds_limiter *l, int64_t now);
DSDEF ds_status ds_limiter_set(ds_limiter *l, uint64_t limit, int64_t period_ns, uint64_t burst,
                               int64_t now);
DSDEF void ds_limiter_reset(ds_limiter *l);

typedef struct ds_limiter_table_config {
    ds_limit_config per_key; /* every key's limiter */
    size_t max_bytes;        /* live memory bound; 0 = 64 MiB */
    uint64_t seed;           /* key hashing; 0 = per-instance random */
    const ds_alloc *alloc;
} ds_limiter_table_config;

typedef struct ds_limit_stats {
    uint64_t allowed, refused;
    uint64_t new_keys;          /* keys created (absent or dropped before) */
    uint64_t idle_evictions;    /* keys dropped at rest (lossless) */
    uint64_t forced_evictions;  /* live keys forgotten for room (lossy) */
} ds_limit_stats;

/* A key's slot: linear probing, no tombstones (deletion shifts back). */
typedef struct ds__lslot {
    uint64_t key;
    uint32_t used, tick;       /* occupied; last use, in 2^20 ns (~1 ms) units */
    ds__lstate s;
} ds__lslot;

typedef struct ds_limiter_table {
    ds__lslot *slots;
    size_t nslots, max_slots;  /* now; the most max_bytes allows */
    size_t len, capacity;      /* keys; the most there may be (4/5 of max_slots) */
    size_t hand;               /* where expire's sweep goes on */
    ds_rng rng;                /* eviction samples */
    size_t key_bytes;          /* worst-case bytes per key it was sized for */
    ds_limit_config cfg;
    uint64_t seed;
    ds_limit_stats stats;
    const ds_alloc *alloc;
} ds_limiter_table;

DSDEF ds_status ds_limiter_table_init(ds_limiter_table *t, const ds_limiter_table_config *cfg);
DSDEF void ds_limiter_table_free(ds_limiter_table *t);
DSDEF ds_status ds_limiter_table_allow(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now);
DSDEF ds_status ds_limiter_table_take(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now,
                                      ds_limit_result *res);
DSDEF ds_status ds_limiter_table_allow_str(ds_limiter_table *t, const void *key, size_t len,
                                           uint64_t n, int64_t now);
DSDEF ds_status ds_limiter_table_take_str(ds_limiter_table *t, const void *key, size_t len,
                                          uint64_t n, int64_t now, ds_limit_result *res);
DSDEF int64_t ds_limiter_table_wait_ns(const ds_limiter_table *t, uint64_t key, uint64_t n,
                                       int64_t now);
DSDEF uint64_t ds_limiter_table_hash(const ds_limiter_table *t, const void *key, size_t len);
DSDEF ds_status ds_limiter_table_set(ds_limiter_table *t, uint64_t limit, int64_t period_ns,
                                     uint64_t burst, int64_t now);
DSDEF size_t ds_limiter_table_expire(ds_limiter_table *t, int64_t now, size_t budget);
DSDEF size_t ds_limiter_table_len(const ds_limiter_table *t);
DSDEF size_t ds_limiter_table_capacity(const ds_limiter_table *t);
DSDEF size_t ds_limiter_table_memory(const ds_limiter_table *t);
DSDEF ds_limit_stats ds_limiter_table_stats(const ds_limiter_table *t);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_LIMIT_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_LIMIT_IMPL)
#define DS_SRC_LIMIT_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:limit == */

DSDEF const char *ds_limit_algo_name(ds_limit_algo a) {
    switch (a) {
    case DS_LIMIT_TOKEN_BUCKET: return "token bucket";
    case DS_LIMIT_LEAKY_METER: return "leaky bucket (meter)";
    case DS_LIMIT_LEAKY_SHAPER: return "leaky bucket (shaper)";
    case DS_LIMIT_GCRA: return "GCRA";
    case DS_LIMIT_FIXED_WINDOW: return "fixed window";
    case DS_LIMIT_SLIDING_LOG: return "sliding log";
    case DS_LIMIT_SLIDING_COUNTER: return "sliding counter";
    default: return "?";
    }
}

/* -- 128-bit unsigned arithmetic, portable: the bucket kinds count time in
 *    units of 1/limit ns, which needs 64 + 64 bits. -- */
typedef struct ds__w128 {
    uint64_t hi, lo;
} ds__w128;
static inline ds__w128 ds__w_mul(uint64_t a, uint64_t b) {
    ds__w128 r;
    ds__mum128(&a, &b);
    r.lo = a;
    r.hi = b;
    return r;
}
static inline ds__w128 ds__w_add(ds__w128 a, ds__w128 b) {
    ds__w128 r;
    r.lo = a.lo + b.lo;
    r.hi = a.hi + b.hi + (r.lo < a.lo);
    return r;
}
static inline ds__w128 ds__w_sub(ds__w128 a, ds__w128 b) { /* a >= b */
    ds__w128 r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo);
    return r;
}
static inline int ds__w_cmp(ds__w128 a, ds__w128 b) {
    if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}
/* floor(a / d), saturated at UINT64_MAX; *rem = a mod d when it fits. */
static inline uint64_t ds__w_div(ds__w128 a, uint64_t d, uint64_t *rem) {
    uint64_t q = 0, r = a.hi;
    int i;
    if (rem) *rem = 0;
    if (a.hi == 0) {
        if (rem) *rem = a.lo % d;
        return a.lo / d;
    }
    if (a.hi >= d) return UINT64_MAX;
    for (i = 63; i >= 0; i--) { /* restoring division; r < d throughout */
        uint64_t top = r >> 63;
        r = r << 1 | (a.lo >> i & 1);
        q <<= 1;
        if (top || r >= d) {
            r -= d;
            q |= 1;
        }
    }
    if (rem) *rem = r;
    return q;
}
/* ceil(a / d) as a non-negative int64 ns count, saturated. */
static inline int64_t ds__w_ceil_ns(ds__w128 a, uint64_t d) {
    uint64_t rem, q = ds__w_div(a, d, &rem);
    if (q == UINT64_MAX || q + (rem != 0) > (uint64_t)INT64_MAX) return INT64_MAX;
    return (int64_t)(q + (rem != 0));
}
static inline ds__w128 ds__w_max(ds__w128 a, ds__w128 b) { return ds__w_cmp(a, b) < 0 ? b : a; }

/* The sliding log: a ring of (time, units) after a small header. */
typedef struct ds__llog {
    uint32_t cap, head, len, pad_;
    uint64_t sum;            /* units in the ring */
} ds__llog;
typedef struct ds__lent {
    int64_t t;
    uint64_t n;
} ds__lent;
#define DS__LOG_AT(g, i) (((ds__lent *)((g) + 1))[((g)->head + (i)) % (g)->cap])
static size_t ds__llog_bytes(uint64_t cap) { return sizeof(ds__llog) + (size_t)cap * sizeof(ds__lent); }
static void ds__llog_free(ds__lstate *s, const ds_alloc *a) {
    ds__llog *g = (ds__llog *)s->log;
    if (g) DS_FREE(a, g, ds__llog_bytes(g->cap));
    s->log = NULL;
}
/* Drop entries that left the window (t <= now - period). */
static void ds__llog_expire(ds__llog *g, int64_t now, int64_t period) {
    while (g && g->len && DS__LOG_AT(g, 0).t <= now - period) {
        g->sum -= DS__LOG_AT(g, 0).n;
        g->head = (g->head + 1) % g->cap;
        g->len--;
    }
}
/* Room for one more entry (the ring never needs more than `limit`). */
static ds_status ds__llog_reserve(ds__lstate *s, uint64_t limit, const ds_alloc *a) {
    ds__llog *g = (ds__llog *)s->log, *ng;
    uint64_t cap, i;
    if (g && g->len < g->cap) return DS_OK;
    cap = g ? (uint64_t)g->cap * 2 : 4;
    if (cap > limit) cap = limit;
    if (g && cap <= g->cap) cap = (uint64_t)g->cap + 1;
    if (cap > UINT32_MAX || cap > (SIZE_MAX - sizeof(ds__llog)) / sizeof(ds__lent)) return DS_ENOMEM;
    ng = (ds__llog *)DS_MALLOC(a, ds__llog_bytes(cap));
    if (!ng) return DS_ENOMEM;
    memset(ng, 0, sizeof *ng);
    ng->cap = (uint32_t)cap;
    if (g) {
        for (i = 0; i < g->len; i++) ((ds__lent *)(ng + 1))[i] = DS__LOG_AT(g, i);
        ng->len = g->len;
        ng->sum = g->sum;
        DS_FREE(a, g, ds__llog_bytes(g->cap));
    }
    s->log = ng;
    return DS_OK;
}

/* Bucket kinds: the state is TAT, the theoretical arrival time (Turner's
 * virtual scheduling), in units of 1/limit ns; one unit costs `period`
 * such units, and the tolerance is burst units. */
static inline ds__w128 ds__lim_tat(const ds__lstate *s) {
    ds__w128 r;
    r.hi = s->hi;
    r.lo = s->lo;
    return r;
}
static inline uint64_t ds__lim_burst(const ds_limit_config *c) { return c->burst ? c->burst : c->limit; }
static inline int ds__lim_is_bucket(ds_limit_algo a) { return a <= DS_LIMIT_GCRA; }

/* The decision for n units at `now`, without changing anything: whether
 * they fit, and the result fields as they would be after admitting (ok) or
 * refusing (!ok). `now` was already clamped to the state's own time. */
typedef struct ds__ldec {
    int ok, never;
    ds__w128 tat;            /* buckets: TAT after admitting */
    int64_t t;               /* windows: the window index now */
    uint64_t cur, prev;      /* windows: counts now (before admitting) */
} ds__ldec;

static void ds__lim_window(const ds_limit_config *c, const ds__lstate *s, int64_t now, ds__ldec *d) {
    int64_t w = now / c->period_ns;
    d->t = w;
    d->cur = s->lo;
    d->prev = s->hi;
    if (w <= s->t) {          /* same window (or the clock stepped back) */
        d->t = s->t;
    } else if (w == s->t + 1) {
        d->prev = s->lo;
        d->cur = 0;
    } else {
        d->prev = d->cur = 0;
    }
}
/* The seed's and Cloudflare's rule, n requests in a row: the estimate
 * before the last of them is below the limit:
 * prev * (period - elapsed) + (cur + n - 1) * period < limit * period. */
static int ds__lim_counter_fits(const ds_limit_config *c, uint64_t prev, uint64_t cur, uint64_t n,
                                int64_t elapsed) {
    uint64_t P = (uint64_t)c->period_ns;
    ds__w128 lhs;
    if (!n) return 1;
    if (cur > c->limit || n > c->limit - cur) return 0;
    lhs = ds__w_add(ds__w_mul(prev, P - (uint64_t)elapsed), ds__w_mul(cur + n - 1, P));
    return ds__w_cmp(lhs, ds__w_mul(c->limit, P)) < 0;
}
/* The earliest elapsed time in a window with counts (p, k) at which n
 * fits: p * (P - e) < y * P with y = limit - k - n + 1, i.e.
 * e >= P - ceil(y * P / p) + 1; P if it never fits in this window. */
static int64_t ds__lim_counter_from(const ds_limit_config *c, uint64_t p, uint64_t k, uint64_t n) {
    uint64_t P = (uint64_t)c->period_ns, rem, q;
    if (k > c->limit || n > c->limit - k) return c->period_ns;
    if (!p) return 0;
    q = ds__w_div(ds__w_mul(c->limit - k - n + 1, P), p, &rem);
    q += rem != 0;
    return q > P ? 0 : (int64_t)(P - q + 1);
}

static void ds__lim_decide(const ds_limit_config *c, const ds__lstate *s, uint64_t n, int64_t now,
                           ds__ldec *d) {
    memset(d, 0, sizeof *d);
    if (!n) { /* a look: fill the fields, admit nothing */
        ds__lim_decide(c, s, 1, now, d);
        if (ds__lim_is_bucket(c->algo)) d->tat = ds__w_sub(d->tat, ds__w_mul(1, (uint64_t)c->period_ns));
        d->ok = 1;
        d->never = 0;
        return;
    }
    switch (c->algo) {
    case DS_LIMIT_FIXED_WINDOW:
        ds__lim_window(c, s, now, d);
        d->never = n > c->limit;
        d->ok = !d->never && d->cur <= c->limit - n;
        break;
    case DS_LIMIT_SLIDING_COUNTER:
        ds__lim_window(c, s, now, d);
        d->never = n > c->limit;
        d->ok = !d->never && ds__lim_counter_fits(c, d->prev, d->cur, n, now - d->t * c->period_ns);
        break;
    case DS_LIMIT_SLIDING_LOG: {
        const ds__llog *g = (const ds__llog *)s->log;
        uint64_t sum = g ? g->sum : 0, i;
        for (i = 0; g && i < g->len && DS__LOG_AT(g, i).t <= now - c->period_ns; i++)
            sum -= DS__LOG_AT(g, i).n; /* left the window (an admission drops them) */
        d->cur = sum;
        d->never = n > c->limit;
        d->ok = !d->never && sum <= c->limit - n;
        break;
    }
    default: { /* bucket kinds */
        ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit);
        ds__w128 base = ds__w_max(ds__lim_tat(s), nowL);
        ds__w128 tau = ds__w_mul(ds__lim_burst(c), (uint64_t)c->period_ns);
        ds__w128 inc = ds__w_mul(n, (uint64_t)c->period_ns);
        d->never = ds__w_cmp(inc, tau) > 0;
        d->tat = ds__w_add(base, inc);
        d->ok = !d->never && ds__w_cmp(ds__w_sub(d->tat, nowL), tau) <= 0;
        break;
    }
    }
}

static inline int64_t ds__lim_sat_add(int64_t a, int64_t b) { /* b >= 0 */
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}
/* ns from `now` (the state's own, clamped time) until the state is back at
 * rest; 0 = at rest. An offset, saturated, so it stays right near
 * INT64_MAX. */
static int64_t ds__lim_rest_in(const ds_limit_config *c, const ds__lstate *s, int64_t now) {
    ds__ldec d;
    int64_t in;
    switch (c->algo) {
    case DS_LIMIT_FIXED_WINDOW:
    case DS_LIMIT_SLIDING_COUNTER: /* counts as of now; each lasts to its window's end (+1) */
        ds__lim_window(c, s, now, &d);
        if (!d.cur && (!d.prev || c->algo == DS_LIMIT_FIXED_WINDOW)) return 0;
        in = d.t * c->period_ns - now + c->period_ns; /* window start <= now */
        return c->algo == DS_LIMIT_SLIDING_COUNTER && d.cur ? ds__lim_sat_add(in, c->period_ns) : in;
    case DS_LIMIT_SLIDING_LOG: {
        const ds__llog *g = (const ds__llog *)s->log;
        if (!g || !g->len) return 0;
        in = DS__LOG_AT(g, g->len - 1).t - now + c->period_ns; /* newest <= now */
        return in > 0 ? in : 0;
    }
    default: {
        ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit), tat = ds__lim_tat(s);
        return ds__w_cmp(tat, nowL) <= 0 ? 0 : ds__w_ceil_ns(ds__w_sub(tat, nowL), c->limit);
    }
    }
}

/* Units admissible at `now`. */
static uint64_t ds__lim_remaining(const ds_limit_config *c, const ds__lstate *s, int64_t now) {
    ds__ldec d;
    ds__lim_decide(c, s, 0, now, &d);
    switch (c->algo) {
    case DS_LIMIT_FIXED_WINDOW:
    case DS_LIMIT_SLIDING_LOG:
        return d.cur >= c->limit ? 0 : c->limit - d.cur;
    case DS_LIMIT_SLIDING_COUNTER: { /* largest m: (cur + m - 1) * P < limit * P - prev * (P - e) */
        uint64_t P = (uint64_t)c->period_ns, rem, m;
        ds__w128 cap = ds__w_mul(c->limit, P);
        ds__w128 used = ds__w_mul(d.prev, P - (uint64_t)(now - d.t * c->period_ns));
        if (ds__w_cmp(used, cap) >= 0) return 0;
        m = ds__w_div(ds__w_sub(cap, used), P, &rem);
        m += rem != 0;
        return m > d.cur ? m - d.cur : 0;
    }
    default: {
        ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit);
        ds__w128 tau = ds__w_mul(ds__lim_burst(c), (uint64_t)c->period_ns);
        ds__w128 debt = ds__w_sub(d.tat, nowL); /* d.tat = max(TAT, now) */
        return ds__w_cmp(debt, tau) >= 0 ? 0 : ds__w_div(ds__w_sub(tau, debt), (uint64_t)c->period_ns, NULL);
    }
    }
}

/* ns until n units would be admitted (0 = now, -1 = never). */
static int64_t ds__lim_wait(const ds_limit_config *c, const ds__lstate *s, uint64_t n, int64_t now) {
    ds__ldec d;
    ds__lim_decide(c, s, n, now, &d);
    if (d.never) return -1;
    if (d.ok) return 0;
    switch (c->algo) {
    case DS_LIMIT_FIXED_WINDOW:
        return d.t * c->period_ns - now + c->period_ns;
    case DS_LIMIT_SLIDING_COUNTER: { /* this window, else the next (p = k, k = 0) */
        int64_t W = d.t * c->period_ns, e = ds__lim_counter_from(c, d.prev, d.cur, n);
        if (e < c->period_ns && e > now - W) return e - (now - W); /* W <= now: no overflow */
        return ds__lim_sat_add(W - now + c->period_ns, ds__lim_counter_from(c, d.cur, 0, n));
    }
    case DS_LIMIT_SLIDING_LOG: {
        const ds__llog *g = (const ds__llog *)s->log;
        uint64_t sum = d.cur, i;
        for (i = 0; i < g->len; i++) {
            const ds__lent *e = &DS__LOG_AT(g, i);
            if (e->t <= now - c->period_ns) continue;
            sum -= e->n;
            if (sum <= c->limit - n) return e->t - now + c->period_ns;
        }
        return -1; /* unreachable: sum reaches 0 */
    }
    default: { /* admitted once TAT' - tau <= now */
        ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit);
        ds__w128 tau = ds__w_mul(ds__lim_burst(c), (uint64_t)c->period_ns);
        return ds__w_ceil_ns(ds__w_sub(ds__w_sub(d.tat, tau), nowL), c->limit);
    }
    }
}

/* The state's own clock: a step back is ignored (never admits more). */
static int64_t ds__lim_clamp(const ds_limit_config *c, const ds__lstate *s, int64_t now) {
    if (c->algo == DS_LIMIT_SLIDING_LOG) {
        const ds__llog *g = (const ds__llog *)s->log;
        if (g && g->len && DS__LOG_AT(g, g->len - 1).t > now) return DS__LOG_AT(g, g->len - 1).t;
    } else if (!ds__lim_is_bucket(c->algo) && now / c->period_ns < s->t) {
        return s->t * c->period_ns;
    }
    return now;
}

/* ns until n would be admitted, from the caller's clock (the state's own
 * time may be ahead of it after a step back). */
static int64_t ds__lim_wait_from(const ds_limit_config *c, const ds__lstate *s, uint64_t n, int64_t now) {
    int64_t own = ds__lim_clamp(c, s, now), w = ds__lim_wait(c, s, n, own);
    if (w > 0) w = ds__lim_sat_add(w, own - now);
    /* A wait that would end past INT64_MAX never ends: -1, "never". */
    return w > 0 && now >= 0 && w > INT64_MAX - now ? -1 : w;
}
/* allow/take on a bare state: the one code path for limiters and tables. */
static ds_status ds__lim_take(const ds_limit_config *c, ds__lstate *s, uint64_t n, int64_t now,
                              const ds_alloc *a, ds_limit_result *res) {
    ds__ldec d;
    ds_status st = DS_OK;
    int64_t delay = 0, skew;
    if (now < 0) return DS_EINVAL;
    skew = ds__lim_clamp(c, s, now) - now; /* > 0: the clock stepped back */
    now += skew;
    ds__lim_decide(c, s, n, now, &d);
    if (d.ok && n) {
        switch (c->algo) {
        case DS_LIMIT_FIXED_WINDOW:
        case DS_LIMIT_SLIDING_COUNTER:
            s->t = d.t;
            s->hi = d.prev;
            s->lo = d.cur + n;
            break;
        case DS_LIMIT_SLIDING_LOG: {
            /* Entries leave the log only when something is admitted: a
             * refused call far ahead must not wipe the memory a clock step
             * back would then need (issue 15, defect 9). */
            ds__llog *g = (ds__llog *)s->log;
            ds__llog_expire(g, now, c->period_ns);
            if (g && g->len && DS__LOG_AT(g, g->len - 1).t == now) { /* merge */
                DS__LOG_AT(g, g->len - 1).n += n;
            } else {
                ds__lent *e;
                if ((st = ds__llog_reserve(s, c->limit, a)) != DS_OK) break;
                g = (ds__llog *)s->log;
                g->len++;
                e = &DS__LOG_AT(g, g->len - 1);
                e->t = now;
                e->n = n;
            }
            g->sum += n;
            break;
        }
        default: {
            ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit);
            ds__w128 start = ds__w_sub(d.tat, ds__w_mul(n, (uint64_t)c->period_ns));
            if (ds__w_cmp(start, nowL) > 0) delay = ds__w_ceil_ns(ds__w_sub(start, nowL), c->limit);
            s->hi = d.tat.hi;
            s->lo = d.tat.lo;
            break;
        }
        }
    }
    if (res) {
        res->limit = ds__lim_is_bucket(c->algo) ? ds__lim_burst(c) : c->limit;
        res->remaining = ds__lim_remaining(c, s, now);
        /* waits are from the caller's clock: the state's own time is now + skew */
        res->retry_after_ns = d.ok && st == DS_OK ? -1 : ds__lim_wait_from(c, s, n, now - skew);
        if (res->retry_after_ns == 0) res->retry_after_ns = -1; /* admissible after ENOMEM: not a wait */
        res->reset_after_ns = ds__lim_sat_add(ds__lim_rest_in(c, s, now), skew);
        res->delay_ns = c->algo == DS_LIMIT_LEAKY_SHAPER ? ds__lim_sat_add(delay, delay ? skew : 0) : 0;
    }
    if (st != DS_OK) return st;
    return d.ok ? DS_OK : DS_EREFUSED;
}

static ds_status ds__lim_check(const ds_limit_config *c) {
    if (!c || !c->limit || c->period_ns <= 0 || (unsigned)c->algo >= DS_LIMIT_ALGOS) return DS_EINVAL;
    return DS_OK;
}

/* Move a state to a new config, keeping what was admitted (see _set). */
static void ds__lim_convert(const ds_limit_config *old, const ds_limit_config *nw, ds__lstate *s,
                            int64_t now) {
    if (nw->limit == old->limit && nw->period_ns == old->period_ns) return; /* burst only: TAT holds */
    if (ds__lim_is_bucket(nw->algo)) {
        /* The debt D (1/L_old ns) is D / P_old units = q + r / P_old; in
         * the new units it is q * P_new + ceil(r * P_new / P_old). */
        ds__w128 nowL = ds__w_mul((uint64_t)now, old->limit), tat = ds__lim_tat(s), debt;
        uint64_t q = 0, r = 0, frac = 0, rem;
        if (ds__w_cmp(tat, nowL) > 0) {
            q = ds__w_div(ds__w_sub(tat, nowL), (uint64_t)old->period_ns, &r);
            frac = ds__w_div(ds__w_mul(r, (uint64_t)nw->period_ns), (uint64_t)old->period_ns, &rem);
            frac += rem != 0;
        }
        debt = ds__w_add(ds__w_mul((uint64_t)now, nw->limit), ds__w_mul(q, (uint64_t)nw->period_ns));
        debt = ds__w_add(debt, ds__w_mul(frac, 1));
        s->hi = debt.hi;
        s->lo = debt.lo;
    } else if (nw->algo != DS_LIMIT_SLIDING_LOG && nw->period_ns != old->period_ns) {
        ds__ldec d; /* the counts as of now, kept in the new window holding now */
        ds__lim_window(old, s, now, &d);
        s->lo = d.cur;
        s->hi = d.prev;
        s->t = now / nw->period_ns;
    }
}

DSDEF ds_status ds_limiter_init(ds_limiter *l, const ds_limit_config *cfg, const ds_alloc *a) {
    if (!l) return DS_EINVAL;
    memset(l, 0, sizeof *l); /* a failed init leaves a struct free accepts */
    if (ds__lim_check(cfg) != DS_OK) return DS_EINVAL;
    memset(l, 0, sizeof *l);
    l->cfg = *cfg;
    l->alloc = a;
    return DS_OK;
}
DSDEF void ds_limiter_free(ds_limiter *l) {
    if (l) ds__llog_free(&l->s, l->alloc);
}
DSDEF void ds_limiter_reset(ds_limiter *l) {
    if (!l) return;
    ds__llog_free(&l->s, l->alloc);
    memset(&l->s, 0, sizeof l->s);
}
DSDEF ds_status ds_limiter_allow(ds_limiter *l, uint64_t n, int64_t now) {
    return l ? ds__lim_take(&l->cfg, &l->s, n, now, l->alloc, NULL) : DS_EINVAL;
}
DSDEF ds_status ds_limiter_take(ds_limiter *l, uint64_t n, int64_t now, ds_limit_result *res) {
    return l ? ds__lim_take(&l->cfg, &l->s, n, now, l->alloc, res) : DS_EINVAL;
}
DSDEF int64_t ds_limiter_wait_ns(const ds_limiter *l, uint64_t n, int64_t now) {
    if (!l || now < 0) return -1;
    return ds__lim_wait_from(&l->cfg, &l->s, n, now);
}
DSDEF uint64_t ds_limiter_remaining(const ds_limiter *l, int64_t now) {
    if (!l || now < 0) return 0;
    return ds__lim_remaining(&l->cfg, &l->s, ds__lim_clamp(&l->cfg, &l->s, now));
}
DSDEF ds_status ds_limiter_set(ds_limiter *l, uint64_t limit, int64_t period_ns, uint64_t burst,
                               int64_t now) {
    ds_limit_config c;
    if (!l || now < 0) return DS_EINVAL;
    c = l->cfg;
    c.limit = limit;
    c.period_ns = period_ns;
    c.burst = burst;
    if (ds__lim_check(&c) != DS_OK) return DS_EINVAL;
    ds__lim_convert(&l->cfg, &c, &l->s, ds__lim_clamp(&l->cfg, &l->s, now));
    l->cfg = c;
    return DS_OK;
}

/* -- keyed table: open addressing (one cache line per decision) with CLOCK
 *    replacement; whether a key is at rest is computed from its state -- */
/* At rest = the same as an absent key. */
static inline int ds__ltab_at_rest(const ds_limiter_table *t, const ds__lstate *s, int64_t now) {
    return ds__lim_rest_in(&t->cfg, s, ds__lim_clamp(&t->cfg, s, now)) == 0;
}
static inline size_t ds__ltab_home(const ds_limiter_table *t, uint64_t key) {
    uint64_t lo = ds_hash_u64(key, t->seed), hi = t->nslots;
    ds__mum128(&lo, &hi); /* the hash scaled to [0, nslots): any slot count works */
    return (size_t)hi;
}
static inline size_t ds__ltab_find(const ds_limiter_table *t, uint64_t key) {
    size_t i;
    if (!t->nslots) return SIZE_MAX;
    for (i = ds__ltab_home(t, key); t->slots[i].used; i = i + 1 == t->nslots ? 0 : i + 1)
        if (t->slots[i].key == key) return i;
    return SIZE_MAX;
}
/* Remove slot i, shifting later members of its run back (Knuth 6.4 R). */
static void ds__ltab_remove(ds_limiter_table *t, size_t i) {
    size_t j = i;
    ds__llog_free(&t->slots[i].s, t->alloc);
    for (;;) {
        size_t h;
        t->slots[i].used = 0;
        do {
            j = j + 1 == t->nslots ? 0 : j + 1;
            if (!t->slots[j].used) { t->len--; return; }
            h = ds__ltab_home(t, t->slots[j].key);
        } while (i <= j ? (i < h && h <= j) : (i < h || h <= j)); /* j's home lies in (i, j]: stays */
        t->slots[i] = t->slots[j];
        i = j;
    }
}
static void ds__ltab_place(ds_limiter_table *t, const ds__lslot *e) {
    size_t i = ds__ltab_home(t, e->key);
    while (t->slots[i].used) i = i + 1 == t->nslots ? 0 : i + 1;
    t->slots[i] = *e;
}
/* Room for one more key: grow the slot array, or evict. The victim is
 * picked as Redis picks (approximated LRU): among a few random slots, a
 * key at rest if there is one (lossless), else the least recently used.
 * Random picks keep the occupied slots spread evenly, which linear probing
 * needs; a sweeping hand would leave a dense region ahead of it. */
#define DS__LTAB_SAMPLES 5
static ds_status ds__ltab_make_room(ds_limiter_table *t, int64_t now) {
    if (t->len + 1 > t->nslots / 5 * 4 && t->nslots < t->max_slots) {
        size_t n = t->nslots ? t->nslots * 2 : 64, i, old = t->nslots;
        ds__lslot *ns, *os = t->slots;
        if (n > t->max_slots) n = t->max_slots;
        ns = (ds__lslot *)DS_MALLOC(t->alloc, n * sizeof *ns);
        if (!ns) return DS_ENOMEM;
        memset(ns, 0, n * sizeof *ns);
        t->slots = ns;
        t->nslots = n;
        for (i = 0; i < old; i++)
            if (os[i].used) ds__ltab_place(t, &os[i]);
        if (os) DS_FREE(t->alloc, os, old * sizeof *os);
    }
    if (t->len >= t->capacity) {
        uint32_t tick = (uint32_t)((uint64_t)now >> 20), oldest = 0;
        size_t victim = SIZE_MAX, k = 0;
        while (k < DS__LTAB_SAMPLES || victim == SIZE_MAX) {
            size_t i = (size_t)ds_rng_below(&t->rng, t->nslots);
            if (!t->slots[i].used) continue;
            k++;
            if (ds__ltab_at_rest(t, &t->slots[i].s, now)) {
                t->stats.idle_evictions++;
                ds__ltab_remove(t, i);
                return DS_OK;
            }
            if (victim == SIZE_MAX || (uint32_t)(tick - t->slots[i].tick) > oldest) {
                victim = i;
                oldest = (uint32_t)(tick - t->slots[i].tick);
            }
        }
        t->stats.forced_evictions++;
        ds__ltab_remove(t, victim);
    }
    return DS_OK;
}
/* Worst-case bytes per key: its share of the slots (at 4/5 load), and a
 * full sliding log. */
static size_t ds__ltab_key_bytes(const ds_limit_config *c) {
    size_t b = sizeof(ds__lslot) * 5 / 4;
    if (c->algo == DS_LIMIT_SLIDING_LOG)
        b += c->limit > (SIZE_MAX / 4) / sizeof(ds__lent) ? SIZE_MAX / 4 : ds__llog_bytes(c->limit);
    return b;
}
DSDEF ds_status ds_limiter_table_init(ds_limiter_table *t, const ds_limiter_table_config *cfg) {
    size_t budget;
    if (!t) return DS_EINVAL;
    memset(t, 0, sizeof *t); /* a failed init leaves a struct free accepts */
    if (!cfg || ds__lim_check(&cfg->per_key) != DS_OK) return DS_EINVAL;
    memset(t, 0, sizeof *t);
    budget = cfg->max_bytes ? cfg->max_bytes : (size_t)64 << 20;
    t->key_bytes = ds__ltab_key_bytes(&cfg->per_key);
    t->capacity = budget / t->key_bytes;
    if (t->capacity < 16) return DS_EINVAL;
    t->max_slots = t->capacity / 4 * 5;
    t->capacity = t->max_slots / 5 * 4;
    t->cfg = cfg->per_key;
    t->alloc = cfg->alloc;
    t->seed = cfg->seed ? cfg->seed : ds__map_default_seed((uintptr_t)(void *)t);
    ds_rng_seed(&t->rng, t->seed ^ 0x6c696d6974ull);
    return DS_OK;
}
DSDEF void ds_limiter_table_free(ds_limiter_table *t) {
    size_t i;
    if (!t) return;
    for (i = 0; i < t->nslots; i++)
        if (t->slots[i].used) ds__llog_free(&t->slots[i].s, t->alloc);
    if (t->slots) DS_FREE(t->alloc, t->slots, t->nslots * sizeof *t->slots);
    t->slots = NULL;
    t->nslots = t->len = 0;
}
DSDEF ds_status ds_limiter_table_take(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now,
                                      ds_limit_result *res) {
    ds__lslot fresh;
    ds_status st;
    size_t i;
    if (!t || now < 0) return DS_EINVAL;
    if ((i = ds__ltab_find(t, key)) != SIZE_MAX) {
        t->slots[i].tick = (uint32_t)((uint64_t)now >> 20);
        st = ds__lim_take(&t->cfg, &t->slots[i].s, n, now, t->alloc, res);
    } else {
        memset(&fresh, 0, sizeof fresh);
        st = ds__lim_take(&t->cfg, &fresh.s, n, now, t->alloc, res);
        if (ds__ltab_at_rest(t, &fresh.s, now)) {
            ds__llog_free(&fresh.s, t->alloc); /* nothing to remember */
        } else {
            ds_status ps = ds__ltab_make_room(t, now);
            if (ps != DS_OK) { /* refused: report the key as it stays, at rest */
                ds__llog_free(&fresh.s, t->alloc);
                memset(&fresh, 0, sizeof fresh);
                if (res) ds__lim_take(&t->cfg, &fresh.s, 0, now, NULL, res);
                return ps;
            }
            fresh.key = key;
            fresh.used = 1;
            fresh.tick = (uint32_t)((uint64_t)now >> 20);
            ds__ltab_place(t, &fresh);
            t->len++;
            t->stats.new_keys++;
        }
    }
    if (st == DS_OK) t->stats.allowed++;
    else if (st == DS_EREFUSED) t->stats.refused++;
    return st;
}
DSDEF ds_status ds_limiter_table_allow(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now) {
    return ds_limiter_table_take(t, key, n, now, NULL);
}
DSDEF uint64_t ds_limiter_table_hash(const ds_limiter_table *t, const void *key, size_t len) {
    return t && (key || !len) ? ds_hash_bytes(key, len, t->seed) : 0;
}
DSDEF ds_status ds_limiter_table_take_str(ds_limiter_table *t, const void *key, size_t len,
                                          uint64_t n, int64_t now, ds_limit_result *res) {
    if (!t || (!key && len)) return DS_EINVAL;
    return ds_limiter_table_take(t, ds_limiter_table_hash(t, key, len), n, now, res);
}
DSDEF ds_status ds_limiter_table_allow_str(ds_limiter_table *t, const void *key, size_t len,
                                           uint64_t n, int64_t now) {
    return ds_limiter_table_take_str(t, key, len, n, now, NULL);
}
DSDEF int64_t ds_limiter_table_wait_ns(const ds_limiter_table *t, uint64_t key, uint64_t n,
                                       int64_t now) {
    ds__lstate rest;
    size_t i;
    if (!t || now < 0) return -1;
    if ((i = ds__ltab_find(t, key)) != SIZE_MAX) return ds__lim_wait_from(&t->cfg, &t->slots[i].s, n, now);
    memset(&rest, 0, sizeof rest);
    return ds__lim_wait_from(&t->cfg, &rest, n, now);
}
DSDEF ds_status ds_limiter_table_set(ds_limiter_table *t, uint64_t limit, int64_t period_ns,
                                     uint64_t burst, int64_t now) {
    ds_limit_config c;
    size_t i;
    if (!t || now < 0) return DS_EINVAL;
    c = t->cfg;
    c.limit = limit;
    c.period_ns = period_ns;
    c.burst = burst;
    if (ds__lim_check(&c) != DS_OK) return DS_EINVAL;
    /* The capacity was sized for the first config: a sliding log may not
     * grow past the limit it had then. */
    if (ds__ltab_key_bytes(&c) > t->key_bytes) return DS_EINVAL;
    for (i = 0; i < t->nslots; i++)
        if (t->slots[i].used) {
            ds__lstate *s = &t->slots[i].s;
            ds__lim_convert(&t->cfg, &c, s, ds__lim_clamp(&t->cfg, s, now));
        }
    t->cfg = c;
    return DS_OK;
}
DSDEF size_t ds_limiter_table_expire(ds_limiter_table *t, int64_t now, size_t budget) {
    size_t dropped = 0, seen;
    if (!t) return 0;
    /* One sweep from the CLOCK hand; a removal shifts a later key into
     * this slot, so the slot is looked at again. */
    for (seen = 0; seen < t->nslots && dropped < budget;) {
        if (t->hand >= t->nslots) t->hand = 0;
        if (t->slots[t->hand].used && ds__ltab_at_rest(t, &t->slots[t->hand].s, now)) {
            ds__ltab_remove(t, t->hand);
            t->stats.idle_evictions++;
            dropped++;
        } else {
            t->hand++;
            seen++;
        }
    }
    return dropped;
}
DSDEF size_t ds_limiter_table_len(const ds_limiter_table *t) { return t ? t->len : 0; }
DSDEF size_t ds_limiter_table_capacity(const ds_limiter_table *t) { return t ? t->capacity : 0; }
DSDEF size_t ds_limiter_table_memory(const ds_limiter_table *t) {
    size_t b, i;
    if (!t) return 0;
    b = t->nslots * sizeof *t->slots;
    for (i = 0; i < t->nslots; i++) {
        const ds__llog *g = t->slots[i].used ? (const ds__llog *)t->slots[i].s.log : NULL;
        if (g) b += ds__llog_bytes(g->cap);
    }
    return b;
}
DSDEF ds_limit_stats ds_limiter_table_stats(const ds_limiter_table *t) {
    ds_limit_stats z;
    if (t) return t->stats;
    memset(&z, 0, sizeof z);
    return z;
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_LIMIT_IMPL */
