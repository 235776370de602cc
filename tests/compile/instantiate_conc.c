/* Instantiates the ds_concurrent.h rings, the sharded map and the wrappers
 * so `make check-headers` compiles the macro-generated code under the
 * strictest warnings as C11 and as C++ (std::atomic), with the futex and
 * the condvar sleep, and the DECLARE / DEFINE form; then runs a few calls,
 * and a few tasks through a ds_pool. */
#define DS_IMPLEMENTATION
#include "ds_concurrent.h"

typedef struct pair { uint64_t a, b; } pair;
DS_SPSC(pspsc, pair)
DS_MPMC(pmpmc, pair)
DS_SPSC_DECLARE(ispsc, int)
DS_SPSC_DEFINE(ispsc, int)
DS_MPMC_DECLARE(impmc, int)
DS_MPMC_DEFINE(impmc, int)
DS_CMAP(pcmap, uint64_t, pair, ds_hash_u64, ds_eq_u64)
DS_CMAP_DECLARE(scmap, const char *, int)
DS_CMAP_DEFINE(scmap, const char *, int, ds_hash_str, ds_eq_str)

static int add_one(void *ctx, const char *const *key, int *val, int is_new) {
    (void)ctx;
    (void)key;
    (void)is_new;
    ++*val;
    return 0;
}

DS_CLRU(pcache, uint64_t, pair, ds_hash_u64, ds_eq_u64)
DS_CLRU_DECLARE(icache, uint32_t, int)
DS_CLRU_DEFINE(icache, uint32_t, int, ds_hash_u32, ds_eq_u32)
DS_CTSTORE(pstore, pair)
DS_CTSTORE_DECLARE(istore, int)
DS_CTSTORE_DEFINE(istore, int)

static ds_status load_pair(void *ctx, uint64_t const *k, pair *out, int64_t *ttl) {
    (void)ctx;
    (void)ttl;
    out->a = *k;
    out->b = *k + 1;
    return DS_OK;
}
static ds_status load_int(void *ctx, uint32_t const *k, int *out, int64_t *ttl) {
    (void)ctx;
    (void)ttl;
    *out = (int)(*k * 2u);
    return DS_OK;
}

/* The wrappers: a few calls of each. */
static int wrappers(void) {
    pcache pc;
    icache ic;
    pstore ps;
    istore is;
    ds_climiter l;
    ds_cbreaker b;
    ds_limit_config lc;
    pair p = {0, 0};
    int x = 0;
    int64_t ts = 0;
    uint64_t seen = 0;
    memset(&lc, 0, sizeof lc);
    lc.limit = 1000;
    lc.period_ns = 1000000000;
    if (pcache_init(&pc, NULL) != DS_OK || icache_init(&ic, NULL) != DS_OK) return 10;
    if (pcache_get_or_load(&pc, 3, 0, load_pair, NULL, &p) != DS_OK || p.b != 4) return 11;
    if (icache_get_or_load_timeout(&ic, 3, 0, load_int, NULL, &x, 1000) != DS_OK || x != 6) return 12;
    if (pcache_get(&pc, 3, 0, &p) != DS_OK || icache_del(&ic, 3, &x, 0) != DS_OK || pcache_stats(&pc).cache.loads != 1) return 13;
    pcache_free(&pc);
    icache_free(&ic);
    if (pstore_init(&ps) != DS_OK || istore_init(&is) != DS_OK) return 14;
    if (pstore_insert(&ps, 5, p) != DS_OK || pstore_wait_for_data_timeout(&ps, 1000) != DS_OK) return 15;
    if (istore_insert(&is, 5, 9) != DS_OK || istore_wait_for_insert(&is, &seen) != DS_OK || seen != 1) return 16;
    if (istore_wait_pop(&is, &ts, &x) != DS_OK || ts != 5 || x != 9) return 17;
    pstore_close(&ps);
    pstore_free(&ps);
    istore_free(&is);
    if (ds_climiter_init(&l, &lc, NULL) != DS_OK || ds_climiter_acquire(&l, 10) != DS_OK) return 18;
    ds_climiter_free(&l);
    if (ds_cbreaker_init(&b, NULL, NULL) != DS_OK || ds_cbreaker_allow(&b, 0, NULL) != DS_OK) return 19;
    ds_cbreaker_free(&b);
    return 0;
}

/* The worker pool (ds_conc:pool): a few tasks through it, as C11 and C++. */
static int pool_task(void *arg) { return *(int *)arg += 1, 0; }
static int pool_smoke(void) {
    ds_pool pool;
    ds_pool_metrics m;
    int v = 0;
    ds_pool_task t = {pool_task, &v, NULL, NULL};
    if (ds_pool_init(&pool, 1, 4) != DS_OK) return 1;
    if (ds_pool_submit(&pool, &t) != DS_OK || ds_pool_wait_idle(&pool) != DS_OK) return 2;
    ds_pool_shutdown(&pool);
    ds_pool_snapshot(&pool, &m);
    ds_pool_free(&pool);
    return v == 1 && m.succeeded == 1 ? 0 : 3;
}

int main(void) {
    pspsc s;
    pmpmc m;
    ispsc is;
    impmc im;
    pair p = {1, 2}, out = {0, 0};
    pair batch[3] = {{1, 1}, {2, 2}, {3, 3}};
    size_t done = 0;
    int x = 0;
    if (pspsc_init(&s, 4) != DS_OK || pmpmc_init(&m, 4) != DS_OK) return 1;
    if (ispsc_init(&is, 2) != DS_OK || impmc_init(&im, 2) != DS_OK) return 1;
    if (pspsc_push(&s, p) != DS_OK || pspsc_push_n(&s, batch, 3, &done) != DS_OK || done != 3) return 2;
    if (pspsc_try_push(&s, p) != DS_EFULL || pspsc_pop(&s, &out) != DS_OK || out.b != 2) return 3;
    if (pmpmc_push_timeout(&m, p, 1000) != DS_OK || pmpmc_pop_timeout(&m, &out, 1000) != DS_OK) return 4;
    if (ispsc_try_push(&is, 7) != DS_OK || ispsc_try_pop(&is, &x) != DS_OK || x != 7) return 5;
    impmc_close(&im);
    if (impmc_push(&im, 1) != DS_ECLOSED || impmc_pop(&im, &x) != DS_ECLOSED) return 6;
    if (pool_smoke() != 0) return 7;
    pspsc_free(&s);
    pmpmc_free(&m);
    ispsc_free(&is);
    impmc_free(&im);
    {
        pcmap pc;
        scmap sc;
        pcmap_config cfg;
        pcmap_entry snap[4];
        size_t n = 0;
        memset(&cfg, 0, sizeof cfg);
        cfg.capacity = 2;
        if (pcmap_init(&pc, &cfg) != DS_OK || pcmap_put(&pc, 1, p, NULL) != DS_OK) return 7;
        if (pcmap_put(&pc, 2, p, NULL) != DS_OK || pcmap_put(&pc, 3, p, NULL) != DS_OK) return 7;
        if (pcmap_len(&pc) != 2 || pcmap_cas(&pc, 3, p, out, NULL) != DS_OK) return 8;
        if (pcmap_snapshot(&pc, snap, 4, &n) != DS_OK || n != 2) return 8;
        pcmap_free(&pc);
        if (scmap_init(&sc, NULL) != DS_OK || scmap_upsert(&sc, "k", add_one, NULL) != DS_OK) return 9;
        if (scmap_upsert(&sc, "k", add_one, NULL) != DS_OK || scmap_get(&sc, "k", &x) != DS_OK || x != 2) return 9;
        scmap_free(&sc);
    }
    return wrappers();
}
