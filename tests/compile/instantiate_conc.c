/* Instantiates the ds_concurrent.h rings so `make check-headers` compiles
 * the macro-generated code under the strictest warnings as C11 and as C++
 * (std::atomic), with the futex and the condvar sleep, and the DECLARE /
 * DEFINE form; then runs a few calls, and a few tasks through a ds_pool. */
#define DS_IMPLEMENTATION
#include "ds_concurrent.h"

typedef struct pair { uint64_t a, b; } pair;
DS_SPSC(pspsc, pair)
DS_MPMC(pmpmc, pair)
DS_SPSC_DECLARE(ispsc, int)
DS_SPSC_DEFINE(ispsc, int)
DS_MPMC_DECLARE(impmc, int)
DS_MPMC_DEFINE(impmc, int)

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
    return 0;
}
