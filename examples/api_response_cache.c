/* examples/api_response_cache.c - a read-through TTL cache in front of a
 * slow backend, with negative caching and an eviction callback that frees
 * the owned response bodies.
 *
 * A simulated API (GET /users/<id>) answers in "50 ms" of simulated time
 * and returns a heap-allocated JSON body, or 404 for ids that do not
 * exist. The cache (DS_LRU with get_or_load):
 *   - keeps 1000 responses, each for 30 s (expire-after-write);
 *   - caches a 404 for 5 s (negative_ttl), so a storm of requests for a
 *     missing id costs one backend call, not one per request;
 *   - calls the loader once per miss: a burst of identical requests after
 *     an expiry reloads once (no stampede within one thread; see
 *     ds_concurrent.h for request coalescing across threads);
 *   - frees each body in on_evict, whatever the reason it leaves.
 * The clock is simulated (int64 ns passed as `now`), so the run is exact
 * and instant. It exits 0 when every response matched the backend and no
 * body leaked (the counts of allocated and freed bodies agree).
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/api_response_cache.c -o api_response_cache -lm
 *     ./api_response_cache */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC ((int64_t)1000000000)
#define MS (SEC / 1000)

typedef struct body {
    char *json; /* owned */
    size_t len;
} body;

typedef struct backend {
    long calls, bodies_alloc, bodies_freed;
    int64_t busy_ns; /* time spent waiting for the backend */
} backend;

DS_LRU(resp_cache, uint32_t, body, ds_hash_u32, ds_eq_u32)

/* GET /users/<id>: ids divisible by 7 do not exist. */
static ds_status fetch_user(void *ctx, uint32_t const *id, body *out, int64_t *ttl) {
    backend *b = (backend *)ctx;
    char buf[96];
    int n;
    b->calls++;
    b->busy_ns += 50 * MS;
    if (*id % 7 == 0) return DS_ENOTFOUND;
    n = snprintf(buf, sizeof buf, "{\"id\":%u,\"name\":\"user%u\",\"plan\":\"%s\"}", *id, *id,
                 *id % 3 ? "free" : "pro");
    out->json = (char *)malloc((size_t)n + 1);
    if (!out->json) return DS_ENOMEM;
    memcpy(out->json, buf, (size_t)n + 1);
    out->len = (size_t)n;
    b->bodies_alloc++;
    if (*id % 10 == 1) *ttl = 5 * SEC; /* volatile records: shorter TTL */
    return DS_OK;
}

static void free_body(void *ctx, uint32_t *id, body *v, ds_evict why) {
    backend *b = (backend *)ctx;
    (void)id;
    (void)why;
    if (v->json) {
        free(v->json);
        b->bodies_freed++;
    }
}

int main(void) {
    backend be;
    resp_cache cache;
    resp_cache_config cfg;
    ds_cache_stats st;
    ds_rng rng;
    int64_t now = 0;
    long requests = 0, not_found = 0;
    int i;

    memset(&be, 0, sizeof be);
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = 1000;
    cfg.default_ttl = 30 * SEC;
    cfg.negative_ttl = 5 * SEC;
    cfg.on_evict = free_body;
    cfg.ctx = &be;
    if (resp_cache_init(&cache, &cfg) != DS_OK) return 1;

    ds_rng_seed(&rng, 3);
    /* Two simulated minutes of traffic, 200 requests per second; ids from a
     * hot set of 300 users plus a long tail of 20000. */
    for (i = 0; i < 24000; i++) {
        uint32_t id = ds_rng_below(&rng, 10) < 8 ? (uint32_t)ds_rng_below(&rng, 300)
                                                 : (uint32_t)ds_rng_below(&rng, 20000);
        body *b = NULL;
        ds_status s;
        now += 5 * MS;
        requests++;
        s = resp_cache_get_or_load(&cache, id, now, fetch_user, &be, &b);
        if (s == DS_ENOTFOUND) {
            if (id % 7 != 0) return 1;
            not_found++;
            continue;
        }
        if (s != DS_OK || !b) {
            fprintf(stderr, "request for %u failed: %s\n", id, ds_strerror(s));
            return 1;
        }
        {
            char want[96];
            snprintf(want, sizeof want, "{\"id\":%u,", id);
            if (strncmp(b->json, want, strlen(want)) != 0) return 1;
        }
        if (i % 1000 == 0) resp_cache_expire(&cache, now, 64); /* active sweeping */
    }
    st = resp_cache_stats(&cache);
    printf("%ld requests in %.0f s simulated: %ld backend calls (%.1f%% of requests), %ld 404s served\n",
           requests, (double)now / SEC, be.calls, 100.0 * (double)be.calls / (double)requests, not_found);
    printf("  hit rate %.1f%%; evicted: %llu capacity, %llu expired; %zu cached now\n",
           100.0 * ds_cache_hit_rate(&st), (unsigned long long)st.evictions[DS_EVICT_CAPACITY],
           (unsigned long long)st.evictions[DS_EVICT_EXPIRED], resp_cache_len(&cache));
    printf("  backend time: %.1f s with the cache, %.1f s without\n", (double)be.busy_ns / SEC,
           (double)requests * 0.05);
    resp_cache_free(&cache); /* frees the remaining bodies through on_evict */
    printf("  bodies allocated %ld, freed %ld\n", be.bodies_alloc, be.bodies_freed);
    return be.bodies_alloc == be.bodies_freed ? 0 : 1;
}
