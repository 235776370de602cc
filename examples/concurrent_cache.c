/* examples/concurrent_cache.c - a read-through cache shared by worker
 * threads, in front of a slow "database", with single-flight loads.
 *
 * Eight request threads look up user profiles (a skewed key distribution:
 * a few hot users, a long tail) through one DS_CLRU. A miss calls the
 * loader, which pretends to be a 2 ms database query. When several threads
 * miss the same user at once - a cold start, or a hot entry just evicted -
 * the query runs once and the others wait for its result (Go's
 * singleflight): the database sees one query per miss, not one per thread.
 *
 * Phase 1 is a thundering herd: every thread asks for the same cold key at
 * the same moment. Phase 2 is steady traffic. Build: cc -std=c11 -pthread. */
#define DS_IMPLEMENTATION
#include "ds_concurrent.h"
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

typedef struct profile {
    uint64_t user_id;
    uint32_t followers;
    char name[32];
} profile;

DS_CLRU(profile_cache, uint64_t, profile, ds_hash_u64, ds_eq_u64)

#define THREADS 8
#define REQUESTS 400 /* per thread, phase 2 */
#define USERS 2000

static atomic_uint_fast64_t db_queries;

/* The "database": 2 ms per query, called without the cache's lock held. */
static ds_status load_profile(void *ctx, uint64_t const *id, profile *out, int64_t *ttl) {
    struct timespec ts = {0, 2000000};
    (void)ctx;
    (void)ttl; /* keep the cache's default TTL */
    atomic_fetch_add(&db_queries, 1);
    nanosleep(&ts, NULL);
    if (*id == 0) return DS_ENOTFOUND; /* no such user */
    out->user_id = *id;
    out->followers = (uint32_t)(ds_mix64(*id) % 100000);
    snprintf(out->name, sizeof out->name, "user-%llu", (unsigned long long)*id);
    return DS_OK;
}

typedef struct worker {
    profile_cache *cache;
    pthread_t t;
    int id, herd;
    atomic_int *go;
    uint64_t served, errors;
} worker;

/* A skewed pick: about half the requests go to the hottest 1% of users. */
static uint64_t pick_user(ds_rng *r) {
    if (ds_rng_below(r, 2) == 0) return 1 + ds_rng_below(r, USERS / 100);
    return 1 + ds_rng_below(r, USERS);
}

static void *worker_main(void *arg) {
    worker *w = (worker *)arg;
    ds_rng r;
    int i;
    profile p = {0};
    ds_rng_seed(&r, 1000 + (uint64_t)w->id);
    while (!atomic_load(w->go)) sched_yield(); /* start together */
    for (i = 0; i < (w->herd ? 1 : REQUESTS); i++) {
        uint64_t user = w->herd ? 424242 : pick_user(&r);
        /* `now` for the TTL: the real monotonic clock */
        ds_status s = profile_cache_get_or_load(w->cache, user, ds_now_ns(), load_profile, NULL, &p);
        if (s == DS_OK && p.user_id == user) w->served++;
        else w->errors++;
    }
    return NULL;
}

static int run_phase(profile_cache *cache, int herd) {
    worker w[THREADS];
    atomic_int go;
    int i;
    atomic_init(&go, 0);
    for (i = 0; i < THREADS; i++) {
        w[i].cache = cache;
        w[i].id = i;
        w[i].herd = herd;
        w[i].go = &go;
        w[i].served = w[i].errors = 0;
        if (pthread_create(&w[i].t, NULL, worker_main, &w[i]) != 0) return 1;
    }
    atomic_store(&go, 1);
    for (i = 0; i < THREADS; i++) pthread_join(w[i].t, NULL);
    for (i = 0; i < THREADS; i++)
        if (w[i].errors) return 1;
    return 0;
}

int main(void) {
    profile_cache cache;
    profile_cache_config cfg = {0};
    ds_clru_stats st;
    uint64_t q;
    int64_t t0;
    cfg.max_entries = 300;                 /* far fewer than USERS: evictions happen */
    cfg.default_ttl = 60LL * 1000000000;   /* a minute */
    cfg.policy = DS_CACHE_WTINYLFU;        /* keeps the hot users */
    if (profile_cache_init(&cache, &cfg) != DS_OK) return 1;
    atomic_init(&db_queries, 0);

    /* Phase 1: the thundering herd */
    if (run_phase(&cache, 1) != 0) return 1;
    st = profile_cache_stats(&cache);
    q = atomic_load(&db_queries);
    printf("herd: %d threads missed user 424242 at once -> %llu database query, "
           "%llu callers waited for it\n",
           THREADS, (unsigned long long)q, (unsigned long long)st.coalesced);
    if (q != 1) return 1; /* single flight is exact here: nothing evicts the key meanwhile */

    /* Phase 2: steady, skewed traffic */
    profile_cache_reset_stats(&cache);
    atomic_store(&db_queries, 0);
    t0 = ds_now_ns();
    if (run_phase(&cache, 0) != 0) return 1;
    st = profile_cache_stats(&cache);
    q = atomic_load(&db_queries);
    printf("traffic: %d requests in %.0f ms: %llu hits (%.1f%%), %llu misses -> %llu database "
           "queries (%llu misses shared another thread's query)\n",
           THREADS * REQUESTS, (double)(ds_now_ns() - t0) / 1e6, (unsigned long long)st.cache.hits,
           100.0 * ds_cache_hit_rate(&st.cache), (unsigned long long)st.cache.misses,
           (unsigned long long)q, (unsigned long long)st.coalesced);
    printf("cache: %zu profiles held (bound %zu), %llu evicted for capacity\n", profile_cache_len(&cache),
           cfg.max_entries, (unsigned long long)st.cache.evictions[DS_EVICT_CAPACITY]);
    /* every miss either queried the database or waited for a query */
    if (q != st.cache.loads || st.cache.loads + st.coalesced != st.cache.misses) return 1;
    profile_cache_free(&cache);
    return 0;
}
