/* tests/prop.c - implementation of the harness declared in prop.h */
#include "prop.h"
#include <stdarg.h>

int prop_test_failed;
uint64_t prop_cur_seed;
int prop_test_skipped;
const char *prop_cur_test;

void prop_skip(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "    SKIP %s: ", prop_cur_test ? prop_cur_test : "?");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    prop_test_skipped++;
}

int prop_data_overridden(void) {
    const char *d = getenv("DS_DATA");
    return d && *d;
}

const char *prop_data_dir(void) {
    return prop_data_overridden() ? getenv("DS_DATA") : "tests/data";
}

void prop_fail(const char *file, int line, const char *what) {
    if (prop_cur_seed)
        fprintf(stderr, "    FAIL %s:%d: %s  [seed %llu: replay with DS_SEED=%llu]\n", file, line,
                what, (unsigned long long)prop_cur_seed, (unsigned long long)prop_cur_seed);
    else
        fprintf(stderr, "    FAIL %s:%d: %s\n", file, line, what);
    prop_test_failed = 1;
}

long prop_env_long(const char *var, long dflt) {
    const char *s = getenv(var);
    char *end;
    long v;
    if (!s || !*s) return dflt;
    v = strtol(s, &end, 10);
    return *end ? dflt : v;
}

void prop_run(const char *name, prop_case_fn fn, int n) {
    const char *replay = getenv("DS_SEED");
    uint64_t base = ds_hash_bytes(name, strlen(name), 0x5eed);
    long scale = prop_env_long("DS_PROP_SCALE", 1);
    long i, total = (long)n * (scale > 0 ? scale : 1);
    ds_rng rng;
    if (replay && *replay) {
        uint64_t seed = strtoull(replay, NULL, 10);
        prop_cur_seed = seed;
        ds_rng_seed(&rng, seed);
        fn(&rng, seed);
        prop_cur_seed = 0;
        return;
    }
    for (i = 0; i < total && !prop_test_failed; i++) {
        uint64_t seed = ds_mix64(base + (uint64_t)i) | 1; /* never 0: 0 means "no seed" */
        prop_cur_seed = seed;
        ds_rng_seed(&rng, seed);
        fn(&rng, seed);
    }
    prop_cur_seed = 0;
}

/* ---- allocator: a 16-byte header holds the block size and a magic ---- */

#define PROP_MAGIC 0x0ddba11c0ffee000ull

static int prop_alloc_should_fail(prop_alloc *pa, size_t size) {
    pa->attempts++;
    if (size > pa->max_request) pa->max_request = size;
    if ((pa->limit && size > pa->limit) ||
        (pa->fail_at &&
         (pa->attempts == pa->fail_at || (pa->persistent && pa->attempts > pa->fail_at)))) {
        pa->fails++;
        return pa->failed = 1;
    }
    return 0;
}

static void *prop_malloc(void *ctx, size_t size) {
    prop_alloc *pa = (prop_alloc *)ctx;
    uint64_t *h;
    if (prop_alloc_should_fail(pa, size) || size > SIZE_MAX - 16) return NULL;
    h = (uint64_t *)malloc(size + 16);
    if (!h) return NULL;
    h[0] = (uint64_t)size;
    h[1] = PROP_MAGIC;
    pa->live_bytes += size;
    pa->live_blocks++;
    if (pa->live_bytes > pa->peak_bytes) pa->peak_bytes = pa->live_bytes;
    return h + 2;
}

static void prop_free(void *ctx, void *p, size_t size) {
    prop_alloc *pa = (prop_alloc *)ctx;
    uint64_t *h;
    if (!p) return;
    h = (uint64_t *)p - 2;
    if (h[1] != PROP_MAGIC || h[0] != (uint64_t)size) pa->size_errors++;
    h[1] = 0;
    pa->live_bytes -= (size_t)h[0];
    pa->live_blocks--;
    free(h);
}

static void *prop_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    prop_alloc *pa = (prop_alloc *)ctx;
    uint64_t *h, *nh;
    if (!p) return prop_malloc(ctx, new_size);
    h = (uint64_t *)p - 2;
    if (h[1] != PROP_MAGIC || h[0] != (uint64_t)old_size) pa->size_errors++;
    if (prop_alloc_should_fail(pa, new_size) || new_size > SIZE_MAX - 16) return NULL;
    nh = (uint64_t *)realloc(h, new_size + 16);
    if (!nh) return NULL;
    pa->live_bytes = pa->live_bytes - (size_t)nh[0] + new_size;
    if (pa->live_bytes > pa->peak_bytes) pa->peak_bytes = pa->live_bytes;
    nh[0] = (uint64_t)new_size;
    return nh + 2;
}

void prop_alloc_init(prop_alloc *pa) {
    memset(pa, 0, sizeof *pa);
    pa->a.malloc_fn = prop_malloc;
    pa->a.realloc_fn = prop_realloc;
    pa->a.free_fn = prop_free;
    pa->a.ctx = pa;
}

void prop_alloc_fail_in(prop_alloc *pa, long k, int persistent) {
    pa->fail_at = pa->attempts + k;
    pa->persistent = persistent;
    pa->failed = 0;
}

void prop_alloc_disarm(prop_alloc *pa) {
    pa->fail_at = 0;
    pa->persistent = 0;
}

int prop_oom_sweep(prop_oom_seq_fn seq, uint64_t seed, long *total_out) {
    prop_alloc pa;
    long k, total;
    int mode;
    prop_alloc_init(&pa);
    if (seq(seed, &pa) != 0) return 1;
    CHECK_OR(pa.live_bytes == 0 && pa.live_blocks == 0, 1);
    CHECK_OR(pa.size_errors == 0, 1);
    total = pa.attempts;
    if (total_out) *total_out = total;
    for (mode = 0; mode < 2; mode++) {
        for (k = 1; k <= total; k++) {
            prop_alloc_init(&pa);
            prop_alloc_fail_in(&pa, k, mode);
            if (seq(seed, &pa) != 0) {
                fprintf(stderr, "    (oom sweep: allocation %ld of %ld failing, %s)\n", k, total,
                        mode ? "persistent" : "transient");
                return 1;
            }
            if (pa.live_bytes != 0 || pa.live_blocks != 0 || pa.size_errors != 0) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "after failing allocation %ld (%s): %zu bytes in %ld blocks live, "
                         "%d size errors", k, mode ? "persistent" : "transient", pa.live_bytes,
                         pa.live_blocks, pa.size_errors);
                prop_fail(__FILE__, __LINE__, msg);
                return 1;
            }
        }
    }
    return 0;
}

/* PROP_ENOMEM_LEGIT's second half: says which op kept bytes, once. */
int prop_live_same(prop_alloc *pa) {
    if (pa->live_bytes == pa->mark_live) return 1;
    fprintf(stderr, "    a failed call changed the bytes allocated: %zu before, %zu after\n", pa->mark_live,
            pa->live_bytes);
    return 0;
}
