/* tests/test_conc_free.c - the verb table's rule for ds_concurrent.h: free
 * of a zeroed struct (the `x = {0}; ... goto cleanup;` pattern) is a
 * no-op, twice over, for every type with a free. Under ASan (test_conc)
 * and TSan; a crash, a leak or a report fails it. */
#include "ds_concurrent.h"
#include "prop.h"

DS_SPSC(zspsc, int)
DS_MPMC(zmpmc, int)
DS_CMAP(zcmap, uint64_t, int, ds_hash_u64, ds_eq_u64)
DS_CLRU(zclru, uint64_t, int, ds_hash_u64, ds_eq_u64)
DS_CTSTORE(zcts, int)

#define ZCF(T, fr)                 \
    do {                           \
        T z_;                      \
        memset(&z_, 0, sizeof z_); \
        fr(&z_);                   \
        fr(&z_);                   \
    } while (0)

void test_conc_free_zeroed(void) {
    ZCF(zspsc, zspsc_free);
    ZCF(zmpmc, zmpmc_free);
    ZCF(zcmap, zcmap_free);
    ZCF(zclru, zclru_free);
    ZCF(zcts, zcts_free);
    ZCF(ds_pool, ds_pool_free);
    ZCF(ds_climiter, ds_climiter_free);
    ZCF(ds_cbreaker, ds_cbreaker_free);
}

/* ... and after an init that failed on a garbage-filled struct. */
#define ZCINIT(T, call, fr)                                   \
    do {                                                      \
        T z_;                                                 \
        ds_status st_;                                        \
        memset((void *)&z_, 0xA5, sizeof z_);                 \
        st_ = call;                                           \
        CHECKF(st_ != DS_OK, "%s succeeded", #call);          \
        fr(&z_);                                              \
        fr(&z_);                                              \
    } while (0)
void test_conc_free_after_failed_init(void) {
    ds_limit_config lc;
    ds_breaker_config bc;
    zclru_config cc;
    zcmap_config mc;
    memset(&lc, 0, sizeof lc); /* limit 0 */
    memset(&bc, 0, sizeof bc);
    bc.failure_rate = 200;
    memset(&cc, 0, sizeof cc);
    cc.default_ttl = -1;
    memset(&mc, 0, sizeof mc);
    mc.shards = (size_t)1 << 40; /* absurd */
    ZCINIT(zspsc, zspsc_init(&z_, 0), zspsc_free);
    ZCINIT(zmpmc, zmpmc_init(&z_, 0), zmpmc_free);
    ZCINIT(zclru, zclru_init(&z_, &cc), zclru_free);
    ZCINIT(zcmap, zcmap_init(&z_, &mc), zcmap_free);
    ZCINIT(ds_pool, ds_pool_init(&z_, 1, 0), ds_pool_free);
    ZCINIT(ds_climiter, ds_climiter_init(&z_, &lc, NULL), ds_climiter_free);
    ZCINIT(ds_cbreaker, ds_cbreaker_init(&z_, &bc, NULL), ds_cbreaker_free);
}
