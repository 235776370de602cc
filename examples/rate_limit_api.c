/* examples/rate_limit_api.c - an API gateway's rate limiting: every
 * algorithm in ds_limiter side by side on one bursty arrival trace, then
 * per-client limits for thousands of API keys with ds_limiter_table and
 * the HTTP headers a gateway would send.
 *
 * The policy is "10 requests per second", burst 20 where the algorithm has
 * one. The trace (12 simulated seconds) has a steady 6 req/s background
 * plus three kinds of trouble:
 *   t = 2.0 s   a burst of 40 requests within 100 ms;
 *   t = 5.9 s   15 requests just before a second boundary and 15 just
 *               after it (the fixed window's weak spot: ~2x the limit
 *               within 200 ms);
 *   t = 8-10 s  a client retrying in a loop at 40 req/s.
 * The table shows what each algorithm admits per second. The program
 * checks each algorithm's documented guarantee on what it admitted (the
 * most admitted in any 1-second window) and exits non-zero if one fails.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/rate_limit_api.c -o rate_limit_api -lm
 *     ./rate_limit_api */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC ((int64_t)1000000000)
#define MS ((int64_t)1000000)
#define SECONDS 12
#define MAXREQ 4096

static int64_t arrivals[MAXREQ];
static int narrivals;

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}
static void build_trace(void) {
    ds_rng r;
    int64_t t;
    int i;
    ds_rng_seed(&r, 2026);
    for (t = 0; t < SECONDS * SEC;) { /* background: ~6/s, gaps jittered +-80% */
        t += (int64_t)((double)SEC / 6 * (0.2 + 1.6 * ds_rng_double(&r)));
        if (t < SECONDS * SEC) arrivals[narrivals++] = t;
    }
    for (i = 0; i < 40; i++) arrivals[narrivals++] = 2 * SEC + (int64_t)ds_rng_below(&r, 100 * MS);
    for (i = 0; i < 15; i++) arrivals[narrivals++] = 5 * SEC + 900 * MS + (int64_t)ds_rng_below(&r, 99 * MS);
    for (i = 0; i < 15; i++) arrivals[narrivals++] = 6 * SEC + (int64_t)ds_rng_below(&r, 100 * MS);
    for (t = 8 * SEC; t < 10 * SEC; t += 25 * MS) arrivals[narrivals++] = t;
    qsort(arrivals, (size_t)narrivals, sizeof arrivals[0], cmp_i64);
}

/* The token bucket written out plainly (tokens scaled by the period, so
 * exact), as an independent reference for the first column. */
typedef struct ref_bucket {
    int64_t tokens, last; /* tokens x period_ns */
} ref_bucket;
static int ref_allow(ref_bucket *b, int64_t now, int64_t rate, int64_t burst, int64_t period) {
    int64_t add = (now - b->last) * rate; /* fits: gaps here are under 2 s */
    b->tokens = b->tokens + add > burst * period ? burst * period : b->tokens + add;
    b->last = now;
    if (b->tokens < period) return 0;
    b->tokens -= period;
    return 1;
}

/* The most admissions in any window [x, x + span). */
static int max_in_window(const int64_t *t, int n, int64_t span) {
    int i, j = 0, best = 0;
    for (i = 0; i < n; i++) {
        while (t[i] - t[j] >= span) j++;
        if (i - j + 1 > best) best = i - j + 1;
    }
    return best;
}

int main(void) {
    static int64_t admitted_at[DS_LIMIT_ALGOS][MAXREQ];
    static char decision[DS_LIMIT_ALGOS][MAXREQ];
    int nadm[DS_LIMIT_ALGOS] = {0}, per_sec[DS_LIMIT_ALGOS][SECONDS], arr_sec[SECONDS];
    int a, i, s, failures = 0;
    int64_t shaper_last_release = -SEC;

    build_trace();
    memset(per_sec, 0, sizeof per_sec);
    memset(arr_sec, 0, sizeof arr_sec);
    for (i = 0; i < narrivals; i++) arr_sec[arrivals[i] / SEC]++;

    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        ds_limiter l;
        ds_limit_config c;
        memset(&c, 0, sizeof c);
        c.algo = (ds_limit_algo)a;
        c.limit = 10;
        c.period_ns = SEC;
        c.burst = 20;
        if (ds_limiter_init(&l, &c, NULL) != DS_OK) return 1;
        for (i = 0; i < narrivals; i++) {
            ds_limit_result res;
            ds_status st = ds_limiter_take(&l, 1, arrivals[i], &res);
            if (st != DS_OK && st != DS_EREFUSED) {
                printf("%s: %s\n", ds_limit_algo_name(c.algo), ds_strerror(st));
                return 1;
            }
            decision[a][i] = st == DS_OK;
            if (st != DS_OK) continue;
            per_sec[a][arrivals[i] / SEC]++;
            if (c.algo == DS_LIMIT_LEAKY_SHAPER) { /* queued: it leaves at its release time */
                int64_t release = arrivals[i] + res.delay_ns;
                if (release - shaper_last_release < SEC / 10) {
                    printf("shaper released two requests %lld ns apart\n", (long long)(release - shaper_last_release));
                    failures++;
                }
                shaper_last_release = release;
                admitted_at[a][nadm[a]++] = release;
            } else {
                admitted_at[a][nadm[a]++] = arrivals[i];
            }
        }
        ds_limiter_free(&l);
    }

    printf("10 req/s, burst 20; admitted per second (%d requests in all)\n\n", narrivals);
    printf("  sec arrived | token  meter  shaper  GCRA  fixed  s.log  s.cnt\n");
    for (s = 0; s < SECONDS; s++) {
        printf("  %3d %7d |", s, arr_sec[s]);
        for (a = 0; a < DS_LIMIT_ALGOS; a++) printf(" %6d", per_sec[a][s]);
        printf("\n");
    }
    printf("  total %5d |", narrivals);
    for (a = 0; a < DS_LIMIT_ALGOS; a++) printf(" %6d", nadm[a]);
    printf("\n\nmost admitted in any 1 s window (the guarantee):\n");
    for (a = 0; a < DS_LIMIT_ALGOS; a++) {
        /* token bucket family: burst + rate * 1 s; windows: 2 x limit;
         * sliding log: exactly the limit; the shaper releases at the rate
         * (one every 100 ms, so at most 10 + 1 in a window). */
        static const int bound[DS_LIMIT_ALGOS] = {30, 30, 11, 30, 20, 10, 20};
        int got = max_in_window(admitted_at[a], nadm[a], SEC);
        printf("  %-22s %3d  (bound %d)%s\n", ds_limit_algo_name((ds_limit_algo)a), got, bound[a],
               got > bound[a] ? "  VIOLATED" : "");
        failures += got > bound[a];
    }
    {   /* the token bucket against the plain reference */
        ref_bucket rb = {20 * SEC, 0};
        int same_meter = 1, same_gcra = 1;
        for (i = 0; i < narrivals; i++) {
            if (ref_allow(&rb, arrivals[i], 10, 20, SEC) != decision[DS_LIMIT_TOKEN_BUCKET][i]) {
                printf("token bucket differs from the reference at request %d\n", i);
                failures++;
                break;
            }
            same_meter &= decision[DS_LIMIT_LEAKY_METER][i] == decision[DS_LIMIT_TOKEN_BUCKET][i];
            same_gcra &= decision[DS_LIMIT_GCRA][i] == decision[DS_LIMIT_TOKEN_BUCKET][i];
        }
        printf("\n  the token bucket matches a plain reference bucket; the meter %s and\n"
               "  GCRA %s its decisions (one algorithm seen three ways, ITU-T I.371)\n",
               same_meter ? "repeats" : "differs from", same_gcra ? "repeats" : "differs from");
    }
    {   /* the fixed window's weak spot: 5.5 s .. 6.5 s straddles a boundary */
        int edge = 0;
        for (i = 0; i < nadm[DS_LIMIT_FIXED_WINDOW]; i++)
            edge += admitted_at[DS_LIMIT_FIXED_WINDOW][i] >= 5500 * MS && admitted_at[DS_LIMIT_FIXED_WINDOW][i] < 6500 * MS;
        printf("  fixed window: %d admitted between 5.5 s and 6.5 s (limit 10 per second)\n", edge);
        if (edge <= 10) {
            printf("expected the fixed window to let a double burst through at the 6 s boundary\n");
            failures++;
        }
    }

    /* ---- per-client limits for many API keys ------------------------------ */
    {
        ds_limiter_table_config tc;
        ds_limiter_table t;
        ds_limit_stats st;
        ds_limit_result res;
        ds_rng r;
        int64_t now = 0;
        int k, refused_good = 0, refused_abuser = 0;
        char key[32];
        memset(&tc, 0, sizeof tc);
        tc.per_key.algo = DS_LIMIT_GCRA;
        tc.per_key.limit = 100;             /* 100 req/min per API key, burst 10 */
        tc.per_key.period_ns = 60 * SEC;
        tc.per_key.burst = 10;
        tc.max_bytes = 4 << 20;
        if (ds_limiter_table_init(&t, &tc) != DS_OK) return 1;
        ds_rng_seed(&r, 7);
        for (i = 0; i < 200000; i++) { /* 5000 well-behaved keys at ~1 req/min each, one abuser */
            now += 12 * MS;
            if (i % 1000 == 0) ds_limiter_table_expire(&t, now, 2000); /* drop keys at rest */
            if (i % 4 == 0) {
                if (ds_limiter_table_allow_str(&t, "key_abuser", 10, 1, now) != DS_OK) refused_abuser++;
                continue;
            }
            k = (int)ds_rng_below(&r, 5000);
            snprintf(key, sizeof key, "key_%04d", k);
            if (ds_limiter_table_allow_str(&t, key, strlen(key), 1, now) != DS_OK) refused_good++;
        }
        st = ds_limiter_table_stats(&t);
        printf("\nper-key GCRA, 100/min burst 10, %zu keys live (capacity %zu, %zu bytes):\n",
               ds_limiter_table_len(&t), ds_limiter_table_capacity(&t), ds_limiter_table_memory(&t));
        printf("  well-behaved keys refused: %d; the abuser (~%d req/min) refused %d of %d\n", refused_good,
               (int)(60 * SEC / (4 * 12 * MS)), refused_abuser, 200000 / 4);
        printf("  keys dropped at rest: %llu, forced out: %llu\n", (unsigned long long)st.idle_evictions,
               (unsigned long long)st.forced_evictions);
        {   /* the abuser's next request gets the headers of a refusal */
            ds_status rc = ds_limiter_table_take(&t, ds_limiter_table_hash(&t, "key_abuser", 10), 1, now, &res);
            if (rc == DS_EREFUSED)
                printf("  the abuser's next response:\n    HTTP/1.1 429 Too Many Requests\n"
                       "    RateLimit-Limit: %llu\n    RateLimit-Remaining: %llu\n"
                       "    RateLimit-Reset: %lld\n    Retry-After: %lld\n",
                       (unsigned long long)res.limit, (unsigned long long)res.remaining,
                       (long long)((res.reset_after_ns + SEC - 1) / SEC), (long long)((res.retry_after_ns + SEC - 1) / SEC));
            else
                failures++, printf("the abuser's next request was not refused (%s)\n", ds_strerror(rc));
        }
        /* 2400 simulated seconds: the abuser gets 100/min (4000) plus its burst of 10 */
        if (refused_good || 200000 / 4 - refused_abuser < 4000 - 10 || 200000 / 4 - refused_abuser > 4000 + 11 ||
            st.forced_evictions || st.idle_evictions == 0) {
            printf("per-key limits misbehaved\n");
            failures++;
        }
        ds_limiter_table_free(&t);
    }
    if (failures) printf("\n%d check(s) FAILED\n", failures);
    return failures != 0;
}
