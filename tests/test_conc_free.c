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
