/* tests/test_conc_edges.c - the arithmetic-at-the-edges rule (DESIGN §2)
 * for ds_concurrent.h: capacities, counts, timeouts and times at their
 * extremes get a status, never undefined behaviour or a hang. Only
 * timeouts that cannot block long are used (<= 0, or where the answer is
 * known at once). */
#include "ds_concurrent.h"
#include "prop.h"

DS_SPSC(ce_spsc, int)
DS_MPMC(ce_mpmc, int)
DS_CMAP(ce_cmap, uint64_t, int, ds_hash_u64, ds_eq_u64)
DS_CLRU(ce_clru, uint64_t, int, ds_hash_u64, ds_eq_u64)
DS_CTSTORE(ce_cts, int)

static const size_t CE_S[] = {0, 1, 2, SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2 + 1, (size_t)1 << 40};
#define CE_NS (sizeof CE_S / sizeof CE_S[0])
static const int64_t CE_T[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
#define CE_NT (sizeof CE_T / sizeof CE_T[0])
static int ce_sizing(ds_status st) { return st == DS_OK || st == DS_EINVAL || st == DS_ENOMEM; }

static ds_status ce_loader(void *ctx, uint64_t const *key, int *out, int64_t *ttl) {
    (void)ctx;
    *out = (int)*key;
    *ttl = INT64_MAX;
    return DS_OK;
}
static int ce_task(void *arg) {
    (void)arg;
    return 0;
}

void test_conc_edges(void) {
    size_t i, j;
    for (i = 0; i < CE_NS; i++) {
        ce_spsc s;
        ce_mpmc m;
        size_t done = 7;
        int x[2] = {1, 2}, y[2];
        ds_status st = ce_spsc_init(&s, CE_S[i]);
        CHECKF(CE_S[i] == 0 ? st == DS_EINVAL : ce_sizing(st), "spsc capacity %zu: %s", CE_S[i], ds_status_name(st));
        if (st == DS_OK) {
            CHECK(ce_spsc_capacity(&s) >= CE_S[i]);
            CHECK(ce_spsc_push_n(&s, x, 2, &done) == DS_OK || done <= 2);
            ce_spsc_free(&s);
        }
        st = ce_mpmc_init(&m, CE_S[i]);
        CHECKF(CE_S[i] == 0 ? st == DS_EINVAL : ce_sizing(st), "mpmc capacity %zu: %s", CE_S[i], ds_status_name(st));
        if (st == DS_OK) ce_mpmc_free(&m);
        CHECK(ce_spsc_init(&s, 2) == DS_OK);
        /* counts: n past what the buffers hold is a caller's promise about
         * xs/out, so only 0..2 here; done says how many moved */
        CHECK(ce_spsc_push_n(&s, x, CE_S[i] <= 2 ? CE_S[i] : 2, &done) == DS_OK && done == (CE_S[i] <= 2 ? CE_S[i] : 2));
        CHECK(ce_spsc_pop_n(&s, y, 2, &done) == DS_OK || done == 0);
        for (j = 0; j < CE_NT; j++) {
            int64_t t0 = ds_now_ns();
            if (CE_T[j] > 1) continue; /* would block */
            st = ce_spsc_pop_timeout(&s, y, CE_T[j]);
            CHECKF(st == DS_ETIMEDOUT, "pop_timeout %lld on empty: %s", (long long)CE_T[j], ds_status_name(st));
            CHECK(ds_now_ns() - t0 < 1000000000);
        }
        CHECK(ce_spsc_push(&s, 1) == DS_OK && ce_spsc_push(&s, 2) == DS_OK);
        for (j = 0; j < CE_NT; j++)
            if (CE_T[j] <= 1) CHECK(ce_spsc_push_timeout(&s, 3, CE_T[j]) == (ce_spsc_capacity(&s) > 2 ? DS_OK : DS_ETIMEDOUT));
        CHECK(ce_spsc_pop_timeout(&s, y, INT64_MAX) == DS_OK); /* data there: no wait */
        ce_spsc_free(&s);
        CHECK(ce_mpmc_init(&m, 2) == DS_OK);
        for (j = 0; j < CE_NT; j++)
            if (CE_T[j] <= 1) CHECK(ce_mpmc_pop_timeout(&m, y, CE_T[j]) == DS_ETIMEDOUT);
        CHECK(ce_mpmc_push_timeout(&m, 1, INT64_MAX) == DS_OK && ce_mpmc_pop_timeout(&m, y, INT64_MAX) == DS_OK);
        ce_mpmc_free(&m);
    }
    /* the pool: workers and capacity at their extremes, timeouts <= 1 */
    for (i = 0; i < CE_NS; i++) {
        ds_pool p;
        ds_status st = ds_pool_init(&p, 1, CE_S[i]);
        CHECKF(CE_S[i] == 0 ? st == DS_EINVAL : ce_sizing(st), "pool capacity %zu: %s", CE_S[i], ds_status_name(st));
        if (st == DS_OK) ds_pool_free(&p);
        if (CE_S[i] > 2) {
            st = ds_pool_init(&p, CE_S[i], 2);
            CHECKF(st == DS_EINVAL, "pool workers %zu: %s", CE_S[i], ds_status_name(st));
        }
    }
    {
        ds_pool p;
        ds_pool_task t;
        memset(&t, 0, sizeof t);
        t.fn = ce_task;
        CHECK(ds_pool_init(&p, 1, 2) == DS_OK);
        for (j = 0; j < CE_NT; j++) {
            ds_status st = ds_pool_submit_timeout(&p, &t, CE_T[j]);
            CHECK(st == DS_OK || st == DS_ETIMEDOUT);
            if (CE_T[j] <= 1) {
                st = ds_pool_wait_idle_timeout(&p, CE_T[j]);
                CHECK(st == DS_OK || st == DS_ETIMEDOUT);
            }
        }
        CHECK(ds_pool_wait_idle_timeout(&p, INT64_MAX) == DS_OK);
        ds_pool_free(&p);
    }
    /* the sharded map: shards, threads and capacity */
    for (i = 0; i < CE_NS; i++)
        for (j = 0; j < CE_NS; j++) {
            ce_cmap_config cc;
            ce_cmap c;
            ds_status st;
            memset(&cc, 0, sizeof cc);
            cc.shards = CE_S[i];
            cc.threads = CE_S[j];
            cc.capacity = CE_S[(i + j) % CE_NS];
            st = ce_cmap_init(&c, &cc);
            CHECKF(cc.shards > DS_CMAP_MAX_SHARDS ? st == DS_EINVAL : ce_sizing(st), "cmap shards %zu threads %zu cap %zu: %s",
                   cc.shards, cc.threads, cc.capacity, ds_status_name(st));
            if (st != DS_OK) continue;
            CHECK(ce_cmap_put(&c, 1, 1, NULL) == DS_OK || cc.capacity == 0 || 1);
            {
                ce_cmap_entry e[2];
                size_t n = 9;
                st = ce_cmap_snapshot(&c, e, 2, &n);
                CHECK(st == DS_OK && n <= 1);
            }
            ce_cmap_free(&c);
        }
    /* locked wrappers: the LRU, the time store, the limiter, the breaker */
    {
        ce_clru_config lc;
        ce_clru c;
        int v = 0; /* GCC -O1 cannot see get_or_load sets it on DS_OK */
        memset(&lc, 0, sizeof lc);
        lc.max_entries = 4;
        CHECK(ce_clru_init(&c, &lc) == DS_OK);
        for (i = 0; i < CE_NT; i++) {
            ds_status st = ce_clru_put_ttl(&c, i, 1, CE_T[i], CE_T[i]);
            CHECK(st == (CE_T[i] < 0 ? DS_EINVAL : DS_OK));
            st = ce_clru_get_or_load_timeout(&c, 100 + i, CE_T[i], ce_loader, NULL, &v, CE_T[i]);
            CHECKF(st == DS_OK && v == (int)(100 + i), "get_or_load_timeout at %lld: %s", (long long)CE_T[i],
                   ds_status_name(st));
            CHECK(ce_clru_expire(&c, CE_T[i], SIZE_MAX) <= 8 && ce_clru_expire(&c, CE_T[i], 0) == 0);
            CHECK(ce_clru_set_capacity(&c, CE_S[i], UINT64_MAX, CE_T[i]) ==
                  (CE_S[i] >= ((size_t)1 << 31) ? DS_EINVAL : DS_OK));
        }
        ce_clru_free(&c);
    }
    {
        ce_cts s;
        uint64_t seen = 0;
        int64_t ts, used;
        int v;
        CHECK(ce_cts_init(&s) == DS_OK);
        for (i = 0; i < CE_NT; i++)
            if (CE_T[i] <= 1) {
                CHECK(ce_cts_wait_for_data_timeout(&s, CE_T[i]) == DS_ETIMEDOUT);
                CHECK(ce_cts_wait_pop_timeout(&s, &ts, &v, CE_T[i]) == DS_ETIMEDOUT);
                CHECK(ce_cts_wait_for_insert_timeout(&s, &seen, CE_T[i]) == DS_ETIMEDOUT || seen == 0);
            }
        CHECK(ce_cts_insert_unique(&s, INT64_MAX, 1, 1, &used) == DS_EINVAL);
        CHECK(ce_cts_insert_unique(&s, INT64_MAX, 1, 0, &used) == DS_OK && used == INT64_MAX);
        CHECK(ce_cts_wait_for_data_timeout(&s, INT64_MAX) == DS_OK);
        CHECK(ce_cts_range(&s, INT64_MIN, INT64_MAX, NULL, NULL, 0) == 1);
        CHECK(ce_cts_duration(&s, INT64_MAX, INT64_MIN, NULL, NULL, 0) == 0);
        CHECK(ce_cts_duration(&s, INT64_MAX, INT64_MAX, NULL, NULL, 0) == 1);
        CHECK(ce_cts_expire_before(&s, INT64_MIN) == 0 && ce_cts_expire_before(&s, INT64_MAX) == 0);
        CHECK(ce_cts_wait_pop_timeout(&s, &ts, &v, INT64_MAX) == DS_OK && ts == INT64_MAX);
        ce_cts_free(&s);
    }
    {
        ds_limit_config c;
        ds_climiter l;
        int64_t retry;
        memset(&c, 0, sizeof c);
        c.algo = DS_LIMIT_TOKEN_BUCKET;
        c.limit = 1;
        c.period_ns = INT64_MAX;
        CHECK(ds_climiter_init(&l, &c, NULL) == DS_OK);
        CHECK(ds_climiter_acquire_timeout(&l, UINT64_MAX, 0) == DS_EINVAL);
        CHECK(ds_climiter_acquire(&l, UINT64_MAX) == DS_EINVAL);
        CHECK(ds_climiter_acquire_timeout(&l, 1, INT64_MIN) == DS_OK);
        /* the next unit is due INT64_MAX ns after the last: past the clock's
         * end, so never (DS_EINVAL), whatever the timeout */
        for (i = 0; i < CE_NT; i++) {
            ds_status st = ds_climiter_acquire_timeout(&l, 1, CE_T[i]);
            CHECKF(st == DS_EINVAL, "acquire_timeout %lld: %s", (long long)CE_T[i], ds_status_name(st));
        }
        CHECK(ds_climiter_acquire(&l, 1) == DS_EINVAL);
        CHECK(ds_climiter_try_acquire(&l, 1, &retry) == DS_EINVAL);
        /* due in INT64_MAX / 4 ns: every timeout that ends sooner times out at once */
        CHECK(ds_climiter_set(&l, 1, INT64_MAX / 4, 1) == DS_OK);
        for (i = 0; i < CE_NT; i++) {
            ds_status st;
            int64_t t0 = ds_now_ns();
            if (CE_T[i] >= INT64_MAX - 1) continue; /* would sleep */
            st = ds_climiter_acquire_timeout(&l, 1, CE_T[i]);
            CHECKF(st == DS_ETIMEDOUT && ds_now_ns() - t0 < 1000000000, "acquire_timeout %lld: %s",
                   (long long)CE_T[i], ds_status_name(st));
        }
        CHECK(ds_climiter_try_acquire(&l, 1, &retry) == DS_EREFUSED && retry > 0);
        CHECK(ds_climiter_try_acquire(&l, UINT64_MAX, &retry) == DS_EINVAL);
        CHECK(ds_climiter_set(&l, UINT64_MAX, 1, UINT64_MAX) == DS_OK);
        CHECK(ds_climiter_acquire(&l, UINT64_MAX - 1) == DS_OK || 1);
        CHECK(ds_climiter_set(&l, 0, INT64_MAX, 0) == DS_EINVAL && ds_climiter_set(&l, 1, INT64_MIN, 1) == DS_EINVAL);
        (void)ds_climiter_remaining(&l);
        ds_climiter_free(&l);
    }
    {
        ds_breaker_config bc;
        ds_cbreaker b;
        memset(&bc, 0, sizeof bc);
        bc.wait_open_ns = INT64_MAX;
        bc.half_open_max_ns = INT64_MAX;
        bc.consecutive_failures = 1;
        CHECK(ds_cbreaker_init(&b, &bc, NULL) == DS_OK);
        for (i = 0; i < CE_NT; i++) {
            int64_t retry = -5;
            ds_status st = ds_cbreaker_allow(&b, CE_T[i], &retry);
            CHECK(st == DS_OK || (st == DS_EREFUSED && retry >= 0));
            CHECK(ds_cbreaker_record(&b, DS_BREAKER_FAILURE, CE_T[i], CE_T[i]) == (CE_T[i] < 0 ? DS_EINVAL : DS_OK));
            (void)ds_cbreaker_advance(&b, CE_T[i]);
            CHECK(ds_cbreaker_force(&b, DS_BREAKER_HALF_OPEN, CE_T[i]) == DS_OK);
            {
                ds_breaker_stats bs;
                ds_cbreaker_snapshot(&b, CE_T[i], &bs);
                CHECK(bs.state == DS_BREAKER_HALF_OPEN || bs.state == DS_BREAKER_OPEN);
            }
            ds_cbreaker_reset(&b, CE_T[i]);
        }
        ds_cbreaker_free(&b);
    }
}
