/* tests/test_limit.c - rate limiters against plain models, their admission
 * bounds over every window, conforming clients, long-run rates, the keyed
 * table (model, idle eviction, memory bound), redis-cell's GCRA vectors. */
#include "prop.h"

/* ---- plain models, one per family (small parameters, no overflow) ---- */

typedef struct model {
    ds_limit_algo algo;
    uint64_t L, B;          /* limit, burst */
    int64_t P;
    /* buckets: tokens scaled by P (tok == B*P: full), refilled L per ns */
    uint64_t tok;
    int64_t last;
    /* windows: counts of the two latest windows */
    int64_t w;
    uint64_t cur, prev;
    /* log: every admission (time, units) still possibly in the window */
    int64_t lt[4096];
    uint64_t ln[4096];
    int nl;
} model;

static void model_init(model *m, const ds_limit_config *c) {
    memset(m, 0, sizeof *m);
    m->algo = c->algo;
    m->L = c->limit;
    m->P = c->period_ns;
    m->B = c->burst ? c->burst : c->limit;
    m->tok = m->B * (uint64_t)m->P;
}
static int is_bucket(ds_limit_algo a) { return a <= DS_LIMIT_GCRA; }

/* Counts (cur, prev) as seen at `now` for the window kinds. */
static void model_windows(const model *m, int64_t now, uint64_t *cur, uint64_t *prev) {
    int64_t w = now / m->P;
    if (w == m->w) { *cur = m->cur; *prev = m->prev; }
    else if (w == m->w + 1) { *cur = 0; *prev = m->cur; }
    else { *cur = 0; *prev = 0; }
}
static uint64_t model_tokens(const model *m, int64_t now) {
    uint64_t cap = m->B * (uint64_t)m->P, add;
    if (now <= m->last) return m->tok;
    if ((uint64_t)(now - m->last) > cap) return cap;
    add = (uint64_t)(now - m->last) * m->L;
    return m->tok + add > cap ? cap : m->tok + add;
}
static uint64_t model_log_sum(const model *m, int64_t now) {
    uint64_t s = 0;
    int i;
    for (i = 0; i < m->nl; i++)
        if (m->lt[i] > now - m->P) s += m->ln[i];
    return s;
}
static int model_fits(const model *m, uint64_t n, int64_t now) {
    uint64_t cur, prev;
    switch (m->algo) {
    case DS_LIMIT_FIXED_WINDOW:
        model_windows(m, now, &cur, &prev);
        return cur + n <= m->L;
    case DS_LIMIT_SLIDING_COUNTER:
        model_windows(m, now, &cur, &prev);
        if (!n) return 1; /* the estimate before the last of n requests is below the limit */
        return cur + n <= m->L && prev * (uint64_t)(m->P - (now - now / m->P * m->P)) + (cur + n - 1) * (uint64_t)m->P <
               m->L * (uint64_t)m->P;
    case DS_LIMIT_SLIDING_LOG:
        return model_log_sum(m, now) + n <= m->L;
    default:
        return model_tokens(m, now) >= n * (uint64_t)m->P;
    }
}
static int model_take(model *m, uint64_t n, int64_t now) {
    int ok = model_fits(m, n, now);
    uint64_t cur, prev;
    switch (m->algo) {
    case DS_LIMIT_FIXED_WINDOW:
    case DS_LIMIT_SLIDING_COUNTER:
        model_windows(m, now, &cur, &prev);
        m->w = now / m->P;
        m->cur = cur + (ok ? n : 0);
        m->prev = prev;
        break;
    case DS_LIMIT_SLIDING_LOG: {
        int i, j = 0;
        for (i = 0; i < m->nl; i++) /* forget what left the window */
            if (m->lt[i] > now - m->P) { m->lt[j] = m->lt[i]; m->ln[j++] = m->ln[i]; }
        m->nl = j;
        if (ok && n) { m->lt[m->nl] = now; m->ln[m->nl++] = n; }
        break;
    }
    default:
        m->tok = model_tokens(m, now);
        if (now > m->last) m->last = now;
        if (ok) m->tok -= n * (uint64_t)m->P;
        break;
    }
    return ok;
}
static uint64_t model_remaining(const model *m, int64_t now) {
    uint64_t k = 0;
    while (k <= m->B + m->L && model_fits(m, k + 1, now)) k++;
    return k;
}

static void random_config(ds_rng *r, ds_limit_config *c, ds_limit_algo algo) {
    memset(c, 0, sizeof *c);
    c->algo = algo;
    c->limit = 1 + ds_rng_below(r, 12);
    c->period_ns = 1 + (int64_t)ds_rng_below(r, 1000);
    c->burst = ds_rng_below(r, 3) ? 1 + ds_rng_below(r, 15) : 0;
}

/* Every algorithm, random arrivals: decision, remaining and wait_ns agree
 * with the model; wait_ns is exact (not admissible a ns earlier). */
static void limit_model_case(ds_rng *r, uint64_t seed) {
    int a;
    (void)seed;
    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        ds_limit_config c;
        ds_limiter l;
        static model m;
        int64_t now = (int64_t)ds_rng_below(r, 5000);
        int step;
        random_config(r, &c, (ds_limit_algo)a);
        CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
        model_init(&m, &c);
        for (step = 0; step < 3000; step++) {
            uint64_t n = ds_rng_below(r, 4) ? 1 : ds_rng_below(r, m.B + 3);
            int64_t w;
            ds_limit_result res;
            ds_status st;
            int ok;
            now += (int64_t)ds_rng_below(r, (uint64_t)(ds_rng_below(r, 4) ? c.period_ns / (int64_t)c.limit + 2 : 3 * c.period_ns));
            w = ds_limiter_wait_ns(&l, n, now);
            if (w == -1) {
                CHECKF(n > (is_bucket(m.algo) ? m.B : m.L), "%s: wait -1 for n=%llu", ds_limit_algo_name(m.algo), (unsigned long long)n);
            } else if (w == 0) {
                CHECKF(model_fits(&m, n, now), "%s: wait 0 but refused", ds_limit_algo_name(m.algo));
            } else {
                CHECKF(!model_fits(&m, n, now + w - 1) && model_fits(&m, n, now + w),
                       "%s step %d: wait %lld for n=%llu not exact", ds_limit_algo_name(m.algo), step,
                       (long long)w, (unsigned long long)n);
            }
            CHECKF(ds_limiter_remaining(&l, now) == model_remaining(&m, now), "%s: remaining %llu vs %llu",
                   ds_limit_algo_name(m.algo), (unsigned long long)ds_limiter_remaining(&l, now),
                   (unsigned long long)model_remaining(&m, now));
            {
                uint64_t tok_before = model_tokens(&m, now);
                st = ds_limiter_take(&l, n, now, &res);
                ok = model_take(&m, n, now);
                CHECKF((st == DS_OK) == ok && (st == DS_OK || st == DS_EREFUSED), "%s step %d: st %d model %d",
                       ds_limit_algo_name(m.algo), step, (int)st, ok);
                CHECK(res.remaining == model_remaining(&m, now));
                CHECK(res.limit == (is_bucket(m.algo) ? m.B : m.L));
                if (ok) CHECK(res.retry_after_ns == -1);
                else CHECK(res.retry_after_ns == (w ? w : -1));
                if (m.algo == DS_LIMIT_LEAKY_SHAPER && ok && n) { /* queued behind the backlog */
                    uint64_t backlog = m.B * (uint64_t)m.P - tok_before;
                    CHECKF(res.delay_ns == (int64_t)((backlog + m.L - 1) / m.L), "delay %lld backlog %llu L %llu P %lld n %llu B %llu", (long long)res.delay_ns, (unsigned long long)backlog, (unsigned long long)m.L, (long long)m.P, (unsigned long long)n, (unsigned long long)m.B);
                } else {
                    CHECK(res.delay_ns == 0);
                }
                /* at rest after reset_after: everything admissible again */
                CHECK(res.reset_after_ns >= 0);
                CHECKF(model_remaining(&m, now + res.reset_after_ns) == (is_bucket(m.algo) ? m.B : m.L),
                       "%s: not at rest after reset_after", ds_limit_algo_name(m.algo));
            }
        }
        ds_limiter_free(&l);
    }
}
void test_limit_model(void) { prop_run("limit_model", limit_model_case, 40); }

/* ---- bounds over windows, conforming clients, long-run rate ---------- */

typedef struct trace {
    int64_t *t;
    uint64_t *n;
    size_t len, cap;
} trace;
static void trace_push(trace *tr, int64_t t, uint64_t n) {
    if (tr->len == tr->cap) {
        tr->cap = tr->cap ? tr->cap * 2 : 1024;
        tr->t = (int64_t *)realloc(tr->t, tr->cap * sizeof *tr->t);
        tr->n = (uint64_t *)realloc(tr->n, tr->cap * sizeof *tr->n);
    }
    tr->t[tr->len] = t;
    tr->n[tr->len++] = n;
}
/* The most units admitted in any closed interval [x, x + span]. */
static uint64_t trace_max_in(const trace *tr, int64_t span) {
    size_t i, j = 0;
    uint64_t sum = 0, best = 0;
    for (i = 0; i < tr->len; i++) {
        sum += tr->n[i];
        while (tr->t[i] - tr->t[j] > span) sum -= tr->n[j++];
        if (sum > best) best = sum;
    }
    return best;
}

void test_limit_bounds(void) {
    ds_rng r;
    int a, rep;
    ds_rng_seed(&r, 77);
    for (rep = 0; rep < 3; rep++)
        for (a = 0; a < DS_LIMIT_ALGOS; a++) {
            ds_limit_config c;
            ds_limiter l;
            trace tr = {0, 0, 0, 0};
            int64_t now = 0, span;
            int i;
            memset(&c, 0, sizeof c);
            c.algo = (ds_limit_algo)a;
            c.limit = 10 + ds_rng_below(&r, 90);
            c.period_ns = 1000000 + (int64_t)ds_rng_below(&r, 1000000);
            c.burst = c.limit / 2 + ds_rng_below(&r, c.limit);
            CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
            /* bursty arrivals at ~3x the rate: quiet gaps, then floods */
            for (i = 0; i < 200000; i++) {
                uint64_t n = ds_rng_below(&r, 8) ? 1 : 1 + ds_rng_below(&r, 4);
                if (ds_rng_below(&r, 1000) == 0) now += (int64_t)ds_rng_below(&r, (uint64_t)c.period_ns * 3);
                else now += (int64_t)ds_rng_below(&r, (uint64_t)(c.period_ns / (int64_t)c.limit / 2));
                if (ds_limiter_allow(&l, n, now) == DS_OK) trace_push(&tr, now, n);
            }
            for (span = c.period_ns / 7; span <= c.period_ns * 5; span += c.period_ns / 3) {
                uint64_t got = trace_max_in(&tr, span), bound;
                switch (c.algo) {
                case DS_LIMIT_FIXED_WINDOW:
                case DS_LIMIT_SLIDING_COUNTER: /* any period holds at most 2 windows' worth */
                    bound = c.limit * (uint64_t)(span / c.period_ns + 2);
                    if (span < c.period_ns) bound = 2 * c.limit;
                    break;
                case DS_LIMIT_SLIDING_LOG: /* exact: limit per (t - P, t] */
                    bound = c.limit * (uint64_t)(span / c.period_ns + 1);
                    break;
                default: /* burst + rate * t (closed interval: floor, no slack) */
                    bound = c.burst + c.limit * (uint64_t)span / (uint64_t)c.period_ns;
                    break;
                }
                CHECKF(got <= bound, "%s: %llu admitted within %lld ns, bound %llu",
                       ds_limit_algo_name(c.algo), (unsigned long long)got, (long long)span,
                       (unsigned long long)bound);
            }
            free(tr.t);
            free(tr.n);
            ds_limiter_free(&l);
        }
}

/* Steady overload (20x the rate, jittered) for 500 periods: the admitted
 * rate is the configured one within 1%. (The sliding log admits only when
 * an old entry has left and a new request arrives, so under light overload
 * it stays below the rate by about the mean gap between arrivals per
 * period; 20x makes that gap small.) */
void test_limit_long_run(void) {
    ds_rng r;
    int a;
    ds_rng_seed(&r, 78);
    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        ds_limit_config c;
        ds_limiter l;
        int64_t now = 0, end;
        uint64_t admitted = 0;
        double rate;
        memset(&c, 0, sizeof c);
        c.algo = (ds_limit_algo)a;
        c.limit = 3 + ds_rng_below(&r, 30);            /* e.g. 3 per 1 s: 333333333.3 ns apart */
        c.period_ns = 1000000000 - (int64_t)ds_rng_below(&r, 1000);
        CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
        end = 500 * c.period_ns;
        while (now < end) {
            now += 1 + (int64_t)ds_rng_below(&r, (uint64_t)(c.period_ns / (int64_t)c.limit / 10));
            if (ds_limiter_allow(&l, 1, now) == DS_OK) admitted++;
        }
        rate = (double)admitted / (500.0 * (double)c.limit);
        CHECKF(rate > 0.99 && rate < 1.01, "%s: long-run rate %.4f of the limit", ds_limit_algo_name(c.algo), rate);
        ds_limiter_free(&l);
    }
}

/* A client that stays within each algorithm's contract is never refused:
 * evenly spaced at the rate after a full burst (buckets), `limit` spread
 * over each window (fixed), `limit` per two windows (sliding counter), and
 * random arrivals filtered by a brute-force sliding count (log). */
void test_limit_conforming(void) {
    ds_rng r;
    int a;
    ds_rng_seed(&r, 79);
    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        ds_limit_config c;
        ds_limiter l;
        trace tr = {0, 0, 0, 0};
        int64_t now = 0;
        uint64_t k, refused = 0, sent = 0;
        memset(&c, 0, sizeof c);
        c.algo = (ds_limit_algo)a;
        c.limit = 7;
        c.period_ns = 1000000007; /* 7 per ~1 s: a fractional emission interval */
        c.burst = 5;
        CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
        if (is_bucket(c.algo)) {
            for (k = 0; k < c.burst; k++, sent++) refused += ds_limiter_allow(&l, 1, 0) != DS_OK;
            for (k = 1; k <= 20000; k++, sent++) /* the k-th token is there at k * P / L */
                refused += ds_limiter_allow(&l, 1, (int64_t)((k * (uint64_t)c.period_ns + c.limit - 1) / c.limit)) != DS_OK;
        } else if (c.algo == DS_LIMIT_FIXED_WINDOW) {
            uint64_t per = c.limit; /* per aligned window, in any order within it */
            int64_t w;
            for (w = 0; w < 3000; w++)
                for (k = 0; k < per; k++, sent++)
                    refused += ds_limiter_allow(&l, 1, w * c.period_ns + (int64_t)ds_rng_below(&r, (uint64_t)c.period_ns)) != DS_OK;
        } else { /* random arrivals kept within limit per (t - P, t] (log) or per (t - 2P, t] (counter) */
            int64_t span = c.algo == DS_LIMIT_SLIDING_LOG ? c.period_ns : 2 * c.period_ns;
            while (sent < 20000) {
                now += (int64_t)ds_rng_below(&r, (uint64_t)c.period_ns / 3);
                size_t j = tr.len, in = 0;
                while (j > 0 && tr.t[j - 1] > now - span) j--, in++;
                if (in + 1 > c.limit) continue; /* would break the contract: (now - P, now] full */
                trace_push(&tr, now, 1);
                sent++;
                refused += ds_limiter_allow(&l, 1, now) != DS_OK;
            }
            free(tr.t);
            free(tr.n);
        }
        CHECKF(refused == 0, "%s: %llu of %llu conforming requests refused", ds_limit_algo_name(c.algo),
               (unsigned long long)refused, (unsigned long long)sent);
        ds_limiter_free(&l);
    }
}

/* redis-cell's own test table (brandur/redis-cell, src/cell/mod.rs,
 * it_rate_limits): max_burst 4 (limit 5), 1 per second. Columns: ms since
 * start, quantity, limited, remaining, reset_after ms, retry_after ms. */
void test_limit_gcra_redis_cell(void) {
    static const struct { int64_t ms; uint64_t n; int limited; uint64_t rem; int64_t reset, retry; } v[] = {
        {0, 6, 1, 5, 0, -1},         {0, 1, 0, 4, 1000, -1},      {0, 1, 0, 3, 2000, -1},
        {0, 1, 0, 2, 3000, -1},      {0, 1, 0, 1, 4000, -1},      {0, 1, 0, 0, 5000, -1},
        {0, 1, 1, 0, 5000, 1000},    {3000, 1, 0, 2, 3000, -1},   {3100, 1, 0, 1, 3900, -1},
        {4000, 1, 0, 1, 4000, -1},   {8000, 1, 0, 4, 1000, -1},   {9500, 1, 0, 4, 1000, -1},
        {9500, 0, 0, 4, 1000, -1},   {9500, 2, 0, 2, 3000, -1},   {9500, 5, 1, 2, 3000, 3000},
    };
    const int64_t MS = 1000000, start = 1700000000000LL * MS;
    ds_limit_config c;
    ds_limiter l;
    size_t i;
    memset(&c, 0, sizeof c);
    c.algo = DS_LIMIT_GCRA;
    c.limit = 1;
    c.period_ns = 1000 * MS;
    c.burst = 4 + 1; /* CL.THROTTLE key 4 1 1: burst = max_burst + 1 */
    CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        ds_limit_result res;
        ds_status st = ds_limiter_take(&l, v[i].n, start + v[i].ms * MS, &res);
        CHECKF((st == DS_EREFUSED) == v[i].limited && res.limit == 5 && res.remaining == v[i].rem &&
                   res.reset_after_ns == v[i].reset * MS && res.retry_after_ns == (v[i].retry < 0 ? -1 : v[i].retry * MS),
               "case %d: st %d remaining %llu reset %lld retry %lld", (int)i, (int)st,
               (unsigned long long)res.remaining, (long long)res.reset_after_ns, (long long)res.retry_after_ns);
    }
}

void test_limit_edges(void) {
    ds_limit_config c;
    ds_limiter l;
    ds_limit_result res;
    int a;
    memset(&c, 0, sizeof c);
    c.limit = 10;
    c.period_ns = 1000;
    CHECK(ds_limiter_init(NULL, &c, NULL) == DS_EINVAL);
    CHECK(ds_limiter_init(&l, NULL, NULL) == DS_EINVAL);
    c.limit = 0;
    CHECK(ds_limiter_init(&l, &c, NULL) == DS_EINVAL);
    c.limit = 10;
    c.period_ns = 0;
    CHECK(ds_limiter_init(&l, &c, NULL) == DS_EINVAL);
    c.period_ns = -5;
    CHECK(ds_limiter_init(&l, &c, NULL) == DS_EINVAL);
    c.period_ns = 1000;
    c.algo = (ds_limit_algo)DS_LIMIT_ALGOS;
    CHECK(ds_limiter_init(&l, &c, NULL) == DS_EINVAL);
    CHECK(ds_limiter_allow(NULL, 1, 0) == DS_EINVAL);
    CHECK(ds_limiter_wait_ns(NULL, 1, 0) == -1 && ds_limiter_remaining(NULL, 0) == 0);
    ds_limiter_free(NULL);
    ds_limiter_reset(NULL);
    CHECK(strcmp(ds_limit_algo_name(DS_LIMIT_GCRA), "GCRA") == 0);
    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        int64_t t;
        uint64_t got;
        c.algo = (ds_limit_algo)a;
        c.limit = 10;
        c.period_ns = 1000;
        c.burst = 0;
        CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
        CHECK(ds_limiter_allow(&l, 1, -1) == DS_EINVAL);
        CHECK(ds_limiter_allow(&l, 0, 5) == DS_OK && ds_limiter_remaining(&l, 5) == 10); /* a look */
        CHECK(ds_limiter_allow(&l, 11, 5) == DS_EREFUSED && ds_limiter_wait_ns(&l, 11, 5) == -1);
        CHECK(ds_limiter_take(&l, 11, 5, &res) == DS_EREFUSED && res.retry_after_ns == -1);
        CHECK(ds_limiter_allow(&l, 10, 5000) == DS_OK && ds_limiter_allow(&l, 1, 5000) == DS_EREFUSED);
        /* the clock steps back: nothing more is admitted */
        for (t = 4999, got = 0; t > 4000; t -= 37) got += ds_limiter_allow(&l, 1, t) == DS_OK;
        CHECKF(got == 0, "%s admitted %llu after a step back", ds_limit_algo_name(c.algo), (unsigned long long)got);
        /* reset: back at rest */
        ds_limiter_reset(&l);
        CHECK(ds_limiter_remaining(&l, 5000) == 10);
        /* set: a slower rate keeps the debt; a faster one applies at once */
        CHECK(ds_limiter_allow(&l, 10, 6000) == DS_OK);
        CHECK(ds_limiter_set(&l, 0, 1000, 0, 6000) == DS_EINVAL);
        CHECK(ds_limiter_set(&l, 20, 1000, 0, 6000) == DS_OK);
        CHECKF(ds_limiter_remaining(&l, 6000) == 10, "%s: %llu after raising the limit", ds_limit_algo_name(c.algo),
               (unsigned long long)ds_limiter_remaining(&l, 6000));
        CHECK(ds_limiter_set(&l, 5, 1000, 0, 6000) == DS_OK);
        CHECK(ds_limiter_allow(&l, 1, 6000) == DS_EREFUSED); /* 10 already admitted */
        CHECK(ds_limiter_remaining(&l, 6000 + 3000) == 5); /* rest again */
        ds_limiter_free(&l);
        /* extremes: no overflow, no UB */
        c.limit = UINT64_MAX;
        c.period_ns = INT64_MAX;
        c.burst = UINT64_MAX;
        CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
        if (a != DS_LIMIT_SLIDING_LOG) { /* a log that long cannot be allocated */
            CHECK(ds_limiter_allow(&l, UINT64_MAX / 2, INT64_MAX - 1) == DS_OK);
            CHECKF(ds_limiter_take(&l, UINT64_MAX, INT64_MAX - 1, &res) == DS_EREFUSED, "%s", ds_limit_algo_name(c.algo));
            /* the buckets owe (2^63 - 1) units x P / L ~ P / 2; the fixed
             * window's ends 1 ns later; the sliding counter's a period after */
            if (is_bucket(c.algo)) CHECKF(res.reset_after_ns >= INT64_MAX / 2 - 2 && res.reset_after_ns <= INT64_MAX / 2 + 2, "%lld", (long long)res.reset_after_ns);
            else if (c.algo == DS_LIMIT_FIXED_WINDOW) CHECK(res.reset_after_ns == 1);
            else CHECK(res.reset_after_ns == INT64_MAX);
            /* n fits once the bucket / window has room again, but that time
             * must still be a time: past INT64_MAX it is -1, "never" */
            CHECK(res.retry_after_ns == -1 || (res.retry_after_ns > 0 && res.retry_after_ns <= 1));
        }
        ds_limiter_free(&l);
        c.limit = 1;
        c.period_ns = INT64_MAX;
        c.burst = 1;
        CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
        CHECK(ds_limiter_allow(&l, 1, 0) == DS_OK && ds_limiter_allow(&l, 1, INT64_MAX - 1) == DS_EREFUSED);
        { /* a wait, if it ends by INT64_MAX; else -1, "never" */
            int64_t w = ds_limiter_wait_ns(&l, 1, INT64_MAX - 1);
            CHECKF(w == -1 || w == 1, "%s: %lld", ds_limit_algo_name(c.algo), (long long)w);
        }
        ds_limiter_free(&l);
    }
}

/* The sliding log grows on demand: a failed growth refuses with DS_ENOMEM
 * and changes nothing; nothing leaks. */
static int limit_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_limit_config c;
    ds_limiter l;
    static model m;
    ds_rng r;
    int64_t now = 0;
    int i;
    ds_rng_seed(&r, seed);
    memset(&c, 0, sizeof c);
    c.algo = DS_LIMIT_SLIDING_LOG;
    c.limit = 40;
    c.period_ns = 1000;
    CHECK_OR(ds_limiter_init(&l, &c, pa ? &pa->a : NULL) == DS_OK, 1);
    model_init(&m, &c);
    for (i = 0; i < 300; i++) {
        long before = PROP_FAILS(pa);
        ds_status st;
        now += (int64_t)ds_rng_below(&r, 40);
        st = ds_limiter_allow(&l, 1, now);
        if (st == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            model_take(&m, 0, now);
        } else {
            CHECK_OR((st == DS_OK) == model_take(&m, 1, now), 1);
        }
        CHECK_OR(ds_limiter_remaining(&l, now) == model_remaining(&m, now), 1);
    }
    ds_limiter_free(&l);
    return 0;
}
void test_limit_oom(void) {
    long total = 0;
    CHECK(limit_oom_seq(5, NULL) == 0);
    CHECK(prop_oom_sweep(limit_oom_seq, 5, &total) == 0);
    CHECK(total >= 3); /* the log grew several times */
}

/* ---- keyed table ------------------------------------------------------ */

/* Against one plain ds_limiter per key: same decisions; keys at rest are
 * dropped (idle), never forced out while there is room. */
static void limit_table_case(ds_rng *r, uint64_t seed) {
    enum { KEYS = 300 };
    static ds_limiter ref[KEYS];
    ds_limiter_table_config tc;
    ds_limiter_table t;
    ds_limit_stats s;
    int64_t now = 0;
    int i, a = (int)(seed % DS_LIMIT_ALGOS);
    memset(&tc, 0, sizeof tc);
    random_config(r, &tc.per_key, (ds_limit_algo)a);
    tc.max_bytes = 1 << 20;
    CHECK(ds_limiter_table_init(&t, &tc) == DS_OK);
    CHECK(ds_limiter_table_capacity(&t) > KEYS);
    for (i = 0; i < KEYS; i++) CHECK(ds_limiter_init(&ref[i], &tc.per_key, NULL) == DS_OK);
    for (i = 0; i < 20000; i++) {
        uint32_t k = (uint32_t)ds_rng_below(r, ds_rng_below(r, 2) ? 10 : KEYS);
        uint64_t n = 1 + ds_rng_below(r, 2);
        ds_status st;
        now += (int64_t)ds_rng_below(r, (uint64_t)tc.per_key.period_ns / 8 + 1);
        if (ds_rng_below(r, 50) == 0) {
            CHECK(ds_limiter_table_wait_ns(&t, k, n, now) == ds_limiter_wait_ns(&ref[k], n, now));
            continue;
        }
        if (ds_rng_below(r, 500) == 0) ds_limiter_table_expire(&t, now, 100);
        if (ds_rng_below(r, 2000) == 0) { /* a table-wide rate change */
            uint64_t lim = 1 + ds_rng_below(r, tc.per_key.limit);
            int j;
            CHECK(ds_limiter_table_set(&t, lim, tc.per_key.period_ns, 0, now) == DS_OK);
            for (j = 0; j < KEYS; j++) CHECK(ds_limiter_set(&ref[j], lim, tc.per_key.period_ns, 0, now) == DS_OK);
        }
        st = ds_limiter_table_allow(&t, k, n, now);
        CHECKF(st == ds_limiter_allow(&ref[k], n, now), "%s: key %u step %d", ds_limit_algo_name(tc.per_key.algo), k, i);
    }
    s = ds_limiter_table_stats(&t);
    CHECK(s.forced_evictions == 0 && s.idle_evictions > 0 && s.allowed > 0 && s.refused > 0);
    /* much later: every key at rest; expire drops them all */
    now += 10 * tc.per_key.period_ns * (int64_t)(tc.per_key.burst + tc.per_key.limit);
    ds_limiter_table_expire(&t, now, SIZE_MAX);
    CHECK(ds_limiter_table_len(&t) == 0);
    for (i = 0; i < KEYS; i++) ds_limiter_free(&ref[i]);
    ds_limiter_table_free(&t);
}
void test_limit_table_model(void) { prop_run("limit_table_model", limit_table_case, 14); }

/* Live memory never exceeds max_bytes, whatever the key churn; string keys. */
void test_limit_table_memory(void) {
    int a;
    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        prop_alloc pa;
        ds_limiter_table_config tc;
        ds_limiter_table t;
        size_t peak = 0;
        int64_t now = 0;
        uint64_t i;
        char key[32];
        prop_alloc_init(&pa);
        memset(&tc, 0, sizeof tc);
        tc.per_key.algo = (ds_limit_algo)a;
        tc.per_key.limit = 20;
        tc.per_key.period_ns = 1000000000;
        tc.max_bytes = 200000;
        tc.alloc = &pa.a;
        CHECK(ds_limiter_table_init(&t, &tc) == DS_OK);
        for (i = 0; i < 30000; i++) { /* 30k distinct live keys through a table of ~2k */
            int len = snprintf(key, sizeof key, "10.0.%u.%u", (unsigned)(i >> 8), (unsigned)(i & 255));
            now += 1000;
            CHECK(ds_limiter_table_allow_str(&t, key, (size_t)len, 1 + i % 3, now) == DS_OK);
            if (i % 7 == 0) CHECK(ds_limiter_table_allow_str(&t, key, (size_t)len, 1, now) == DS_OK);
            if (pa.live_bytes > peak) peak = pa.live_bytes;
            CHECK(ds_limiter_table_len(&t) <= ds_limiter_table_capacity(&t));
        }
        CHECKF(peak <= tc.max_bytes, "%s: %zu bytes live, bound %zu", ds_limit_algo_name(tc.per_key.algo), peak, tc.max_bytes);
        CHECK(ds_limiter_table_memory(&t) <= tc.max_bytes && ds_limiter_table_memory(&t) <= pa.live_bytes);
        CHECK(ds_limiter_table_stats(&t).forced_evictions > 0); /* the table was too small: said so */
        CHECK(ds_limiter_table_len(&t) > ds_limiter_table_capacity(&t) / 2);
        /* one hot key among the churn is still limited (it stays recent) */
        now += 1;
        for (i = 0; i < 25; i++) ds_limiter_table_allow_str(&t, "hot", 3, 1, now);
        CHECK(ds_limiter_table_allow_str(&t, "hot", 3, 1, now) == DS_EREFUSED);
        ds_limiter_table_free(&t);
        CHECK(pa.live_bytes == 0 && pa.size_errors == 0);
    }
    {   /* bad input */
        ds_limiter_table_config tc;
        ds_limiter_table t;
        memset(&tc, 0, sizeof tc);
        CHECK(ds_limiter_table_init(&t, &tc) == DS_EINVAL); /* limit 0 */
        tc.per_key.limit = 5;
        tc.per_key.period_ns = 1000;
        tc.max_bytes = 100;
        CHECK(ds_limiter_table_init(&t, &tc) == DS_EINVAL); /* too small */
        CHECK(ds_limiter_table_init(NULL, &tc) == DS_EINVAL);
        CHECK(ds_limiter_table_allow(NULL, 1, 1, 0) == DS_EINVAL);
        CHECK(ds_limiter_table_allow_str(NULL, "a", 1, 1, 0) == DS_EINVAL);
        CHECK(ds_limiter_table_len(NULL) == 0 && ds_limiter_table_memory(NULL) == 0);
    }
}

/* A new key that cannot be stored: DS_ENOMEM, nothing leaks. */
static int limit_table_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_limiter_table_config tc;
    ds_limiter_table t;
    ds_rng r;
    int64_t now = 0;
    int i;
    ds_rng_seed(&r, seed);
    memset(&tc, 0, sizeof tc);
    tc.per_key.algo = (ds_limit_algo)(seed % DS_LIMIT_ALGOS);
    tc.per_key.limit = 4;
    tc.per_key.period_ns = 1000;
    tc.max_bytes = 1 << 16;
    tc.alloc = pa ? &pa->a : NULL;
    tc.seed = 1;
    CHECK_OR(ds_limiter_table_init(&t, &tc) == DS_OK, 1);
    for (i = 0; i < 200; i++) {
        long before = PROP_FAILS(pa);
        ds_status st;
        now += (int64_t)ds_rng_below(&r, 30);
        st = ds_limiter_table_allow(&t, ds_rng_below(&r, 64), 1, now);
        CHECK_OR(st == DS_OK || st == DS_EREFUSED || (st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, before)), 1);
    }
    ds_limiter_table_free(&t);
    return 0;
}
void test_limit_table_oom(void) {
    long total = 0;
    uint64_t s;
    for (s = 0; s < DS_LIMIT_ALGOS; s++) CHECK(prop_oom_sweep(limit_table_oom_seq, s, &total) == 0);
}

/* set() over time, looks after lowering the limit, and waits after the
 * clock steps back (measured from the caller's clock). */
void test_limit_set_and_clock(void) {
    const int64_t SEC = 1000000000;
    int a;
    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        ds_limit_config c;
        ds_limiter l;
        int64_t t, w;
        int admitted = 0;
        memset(&c, 0, sizeof c);
        c.algo = (ds_limit_algo)a;
        c.limit = 1;
        c.period_ns = SEC;
        CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
        /* set(same) twice per period must not starve the limiter */
        for (t = 0; t < 20 * SEC; t += SEC / 2) {
            CHECK(ds_limiter_set(&l, 1, SEC, 0, t) == DS_OK);
            admitted += ds_limiter_allow(&l, 1, t) == DS_OK;
        }
        CHECKF(admitted >= 20 && admitted <= 21, "%s: %d admitted in 20 s at 1/s", ds_limit_algo_name(c.algo), admitted);
        /* after a long idle spell, a new period: everything admissible */
        CHECK(ds_limiter_set(&l, 10, 2 * SEC, 0, 100 * SEC) == DS_OK);
        CHECKF(ds_limiter_remaining(&l, 100 * SEC) == 10, "%s: %llu after idle + set", ds_limit_algo_name(c.algo),
               (unsigned long long)ds_limiter_remaining(&l, 100 * SEC));
        CHECK(ds_limiter_allow(&l, 10, 100 * SEC) == DS_OK);
        /* lower the limit below what was admitted: n = 0 still only looks */
        CHECK(ds_limiter_set(&l, 2, 2 * SEC, 0, 100 * SEC) == DS_OK);
        CHECK(ds_limiter_allow(&l, 0, 100 * SEC) == DS_OK && ds_limiter_wait_ns(&l, 0, 100 * SEC) == 0);
        CHECK(ds_limiter_allow(&l, 1, 100 * SEC) == DS_EREFUSED);
        /* the clock steps back 3.3 s: the wait is from the caller's clock */
        t = 100 * SEC - 3300 * (SEC / 1000);
        w = ds_limiter_wait_ns(&l, 1, t);
        CHECKF(w > 0, "%s: wait %lld", ds_limit_algo_name(c.algo), (long long)w);
        CHECKF(ds_limiter_allow(&l, 1, t + w - 1) == DS_EREFUSED && ds_limiter_allow(&l, 1, t + w) == DS_OK,
               "%s: wait %lld after a step back is not exact", ds_limit_algo_name(c.algo), (long long)w);
        ds_limiter_free(&l);
    }
}

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 u128;
/* The token bucket and the sliding counter with big numbers (limit up to
 * 2^40, period up to 2^50 ns, now up to 2^61), against __int128 models:
 * decisions and exact waits, through the 128-bit paths. */
void test_limit_large(void) {
    ds_rng r;
    int rep;
    ds_rng_seed(&r, 80);
    for (rep = 0; rep < 40; rep++) {
        ds_limit_config c;
        ds_limiter l;
        u128 tok, cap;      /* token bucket model: tokens x P */
        uint64_t cur = 0, prev = 0;
        int64_t win = 0, now = (int64_t)ds_rng_below(&r, (uint64_t)1 << 61), last;
        int step;
        memset(&c, 0, sizeof c);
        c.algo = rep % 2 ? DS_LIMIT_SLIDING_COUNTER : DS_LIMIT_TOKEN_BUCKET;
        c.limit = 1 + ds_rng_below(&r, (uint64_t)1 << (1 + ds_rng_below(&r, 40)));
        c.period_ns = 1 + (int64_t)ds_rng_below(&r, (uint64_t)1 << (1 + ds_rng_below(&r, 50)));
        c.burst = c.limit + ds_rng_below(&r, c.limit);
        CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
        cap = (u128)c.burst * (u128)c.period_ns;
        tok = cap;
        last = now;
        win = now / c.period_ns;
        for (step = 0; step < 400; step++) {
            uint64_t n = 1 + ds_rng_below(&r, c.limit / 2 + 1);
            int ok;
            now += (int64_t)ds_rng_below(&r, (uint64_t)(c.period_ns / 2 + 1));
            if (c.algo == DS_LIMIT_TOKEN_BUCKET) {
                u128 t2 = tok + (u128)(now - last) * c.limit;
                tok = t2 > cap ? cap : t2;
                last = now;
                ok = tok >= (u128)n * (uint64_t)c.period_ns;
                if (!ok) { /* the wait is exact: tokens(now + w) >= n P > tokens(now + w - 1) */
                    int64_t w = ds_limiter_wait_ns(&l, n, now);
                    u128 need = (u128)n * (uint64_t)c.period_ns;
                    CHECKF(w > 0 && tok + (u128)w * c.limit >= need && tok + (u128)(w - 1) * c.limit < need,
                           "rep %d step %d: wait %lld", rep, step, (long long)w);
                }
                if (ok) tok -= (u128)n * (uint64_t)c.period_ns;
            } else {
                int64_t w = now / c.period_ns, e;
                if (w == win + 1) { prev = cur; cur = 0; }
                else if (w > win + 1) { prev = cur = 0; }
                win = w;
                e = now - w * c.period_ns;
                ok = cur + n <= c.limit &&
                     (u128)prev * (uint64_t)(c.period_ns - e) + (u128)(cur + n - 1) * (uint64_t)c.period_ns <
                         (u128)c.limit * (uint64_t)c.period_ns;
                if (ok) cur += n;
            }
            CHECKF((ds_limiter_allow(&l, n, now) == DS_OK) == ok, "%s rep %d step %d", ds_limit_algo_name(c.algo), rep, step);
        }
        ds_limiter_free(&l);
    }
}
#else
void test_limit_large(void) {}
#endif

/* expire drops exactly the keys at rest; a refused new key (DS_ENOMEM)
 * reports the key as still at rest. */
void test_limit_table_expire(void) {
    ds_limiter_table_config tc;
    ds_limiter_table t;
    prop_alloc pa;
    ds_limit_result res;
    uint64_t k;
    const int64_t SEC = 1000000000;
    memset(&tc, 0, sizeof tc);
    tc.per_key.algo = DS_LIMIT_TOKEN_BUCKET;
    tc.per_key.limit = 10;
    tc.per_key.period_ns = SEC;  /* at rest 1 s after the last admission (burst 10) */
    tc.max_bytes = 1 << 20;
    CHECK(ds_limiter_table_init(&t, &tc) == DS_OK);
    for (k = 0; k < 500; k++) CHECK(ds_limiter_table_allow(&t, k, 10, 0) == DS_OK);         /* old keys */
    for (k = 500; k < 800; k++) CHECK(ds_limiter_table_allow(&t, k, 1, 5 * SEC) == DS_OK);  /* recent */
    CHECK(ds_limiter_table_len(&t) == 800);
    CHECK(ds_limiter_table_expire(&t, 5 * SEC, 100) == 100);
    CHECK(ds_limiter_table_expire(&t, 5 * SEC, SIZE_MAX) == 400);
    CHECK(ds_limiter_table_len(&t) == 300 && ds_limiter_table_stats(&t).idle_evictions == 500);
    for (k = 500; k < 800; k++) CHECK(ds_limiter_table_allow(&t, k, 10, 5 * SEC) == DS_EREFUSED); /* still limited */
    ds_limiter_table_free(&t);

    prop_alloc_init(&pa);
    tc.alloc = &pa.a;
    CHECK(ds_limiter_table_init(&t, &tc) == DS_OK);
    CHECK(ds_limiter_table_allow(&t, 1, 3, 0) == DS_OK);
    prop_alloc_fail_in(&pa, 1, 1);
    for (k = 2; k < 200 && ds_limiter_table_take(&t, k, 3, 0, &res) == DS_OK; k++) {}
    CHECK(k < 200); /* the slot array had to grow, and could not */
    CHECK(res.remaining == 10 && res.reset_after_ns == 0 && ds_limiter_table_len(&t) == k - 1);
    prop_alloc_disarm(&pa);
    CHECK(ds_limiter_table_allow(&t, k, 3, 0) == DS_OK && ds_limiter_table_len(&t) == k);
    ds_limiter_table_free(&t);
    CHECK(pa.live_bytes == 0);
}

/* A clock step back never admits more than the limit: the sliding
 * log sequence (limit 2 per 1000 ns: 1 at 1000, 3 refused at 2500, then 2
 * at 500 was admitted: 3 units in one period), for every algorithm. */
void test_limit_step_back(void) {
    int a;
    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        ds_limit_config c;
        ds_limiter l;
        memset(&c, 0, sizeof c);
        c.algo = (ds_limit_algo)a;
        c.limit = 2;
        c.period_ns = 1000;
        CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
        CHECK(ds_limiter_allow(&l, 1, 1000) == DS_OK);
        CHECK(ds_limiter_allow(&l, 3, 2500) == DS_EREFUSED);
        CHECKF(ds_limiter_allow(&l, 2, 500) == DS_EREFUSED, "%s admitted after the step back", ds_limit_algo_name(c.algo));
        ds_limiter_free(&l);
    }
}
