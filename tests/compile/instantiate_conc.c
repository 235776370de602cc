/* Instantiates the ds_concurrent.h rings and the sharded map so `make
 * check-headers` compiles the macro-generated code under the strictest
 * warnings as C11 and as C++ (std::atomic), with the futex and the condvar
 * sleep, and the DECLARE / DEFINE form; then runs a few calls. */
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
    return 0;
}
