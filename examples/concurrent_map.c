/* examples/concurrent_map.c - a session store shared by worker threads.
 *
 * Scenario: a web server's worker threads look up, create and update user
 * sessions in one in-memory store with a global budget of 2,000 sessions.
 * DS_CMAP spreads the sessions over lock-striped shards, so workers rarely
 * wait for each other; with a capacity, each shard evicts its least
 * recently used session when it is full, and the eviction callback "writes
 * the session back" (here: adds its hit count to a total).
 *
 *   login     compute_if_absent: the session is made (token drawn) at most
 *             once per user, even when several workers race on one user
 *   request   upsert: bump the hit count in place, under the shard lock
 *             (a session evicted meanwhile is re-created)
 *   check     get: copy the session out and validate its token
 *   logout    del: the session moves out to the caller
 *   admin     snapshot: copy every session out, shard by shard, to list
 *             the busiest users while the workers keep going
 *
 * The program checks its own books: every request's hit ends up exactly
 * once in a live session, an evicted one, or a logged-out one; the store
 * never held more than its budget (a monitor thread watches len()); every
 * session's token matches its user. Exit status 0 only if all of that holds.
 *
 * Build and run (C11 + pthreads):
 *     cc -std=c11 -O2 -I. examples/concurrent_map.c -o concurrent_map -pthread -lm
 *     ./concurrent_map
 */
#define DS_IMPLEMENTATION
#include "ds_concurrent.h"
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct session {
    uint64_t user;
    uint64_t token; /* ds_mix64(user ^ TOKEN_SALT): checkable */
    uint64_t hits;
} session;

DS_CMAP(store, uint64_t, session, ds_hash_u64, ds_eq_u64)

#define WORKERS 4
#define REQUESTS 40000 /* per worker */
#define USERS 20000
#define BUDGET 2000
#define TOKEN_SALT 0x5e55104ull

/* Totals the callbacks and workers add to (atomics: callbacks of different
 * shards run at the same time). */
static _Atomic uint64_t evicted_hits, evicted_sessions, logged_out_hits, made, bad;
static _Atomic uint64_t freed_hits;
static _Atomic int done;
static _Atomic size_t max_len_seen;

static void on_evict(void *ctx, uint64_t *user, session *s, ds_evict why) {
    (void)ctx;
    if (s->user != *user || s->token != ds_mix64(*user ^ TOKEN_SALT)) bad++;
    if (why == DS_EVICT_CAPACITY) { /* the budget made room: write it back */
        evicted_hits += s->hits;
        evicted_sessions++;
    } else if (why == DS_EVICT_DELETED) { /* store_free at the end */
        freed_hits += s->hits;
    } else {
        bad++; /* no put: nothing is ever REPLACED */
    }
}

/* login: runs under the shard lock, at most once per absent user. */
static ds_status make_session(void *ctx, uint64_t const *user, session *out) {
    (void)ctx;
    out->user = *user;
    out->token = ds_mix64(*user ^ TOKEN_SALT);
    out->hits = 0;
    made++;
    return DS_OK;
}

/* request: one more hit; a new (zero-filled) session is filled in first. */
static int hit(void *ctx, uint64_t const *user, session *s, int is_new) {
    (void)ctx;
    if (is_new) {
        s->user = *user;
        s->token = ds_mix64(*user ^ TOKEN_SALT);
        made++;
    }
    s->hits++;
    return 0; /* keep it */
}

typedef struct worker {
    store *st;
    uint64_t seed, hits;
} worker;

static void *worker_main(void *arg) {
    worker *w = (worker *)arg;
    ds_rng r;
    int i;
    ds_rng_seed(&r, w->seed);
    for (i = 0; i < REQUESTS; i++) {
        /* skewed traffic: user = USERS * u^3 puts half the requests on
         * the lowest 1/8 of the ids */
        double u = ds_rng_double(&r);
        uint64_t user = (uint64_t)((double)USERS * u * u * u);
        uint64_t kind = ds_rng_below(&r, 100);
        session s;
        if (kind < 80) {
            if (store_upsert(w->st, user, hit, NULL) != DS_OK) bad++;
            else w->hits++;
        } else if (kind < 90) {
            if (store_compute_if_absent(w->st, user, make_session, NULL, &s) != DS_OK || s.user != user) bad++;
        } else if (kind < 97) {
            if (store_get(w->st, user, &s) == DS_OK && s.token != ds_mix64(user ^ TOKEN_SALT)) bad++;
        } else if (store_del(w->st, user, &s) == DS_OK) {
            logged_out_hits += s.hits;
        }
    }
    return NULL;
}

static void *monitor_main(void *arg) {
    store *st = (store *)arg;
    while (!done) {
        size_t n = store_len(st);
        if (n > max_len_seen) max_len_seen = n;
        sched_yield();
    }
    return NULL;
}

static int by_hits(const void *x, const void *y) {
    const store_entry *a = (const store_entry *)x, *b = (const store_entry *)y;
    return a->val.hits < b->val.hits ? 1 : a->val.hits > b->val.hits ? -1 : 0;
}

int main(void) {
    static store_entry snap[BUDGET + 16];
    store st;
    store_config cfg = {0};
    worker w[WORKERS];
    pthread_t t[WORKERS], mon;
    uint64_t requests = 0, live_hits = 0;
    size_t n = 0, i;
    int ok;

    cfg.capacity = BUDGET; /* split over the shards; never exceeded */
    cfg.on_evict = on_evict;
    if (store_init(&st, &cfg) != DS_OK) return 1;
    printf("session store: %zu shards, budget %zu sessions\n", store_shards(&st), store_capacity(&st));

    pthread_create(&mon, NULL, monitor_main, &st);
    for (i = 0; i < WORKERS; i++) {
        w[i].st = &st;
        w[i].seed = 1000 + i;
        w[i].hits = 0;
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    /* The admin view, taken while the workers run (once the store is half
     * full): consistent per shard, not across shards. */
    {
        int64_t give_up = ds_now_ns() + 2000000000;
        while (store_len(&st) < BUDGET / 2 && ds_now_ns() < give_up) sched_yield();
    }
    if (store_snapshot(&st, snap, BUDGET + 16, &n) != DS_OK || n > BUDGET) bad++;
    printf("mid-run snapshot: %zu sessions\n", n);
    for (i = 0; i < WORKERS; i++) {
        pthread_join(t[i], NULL);
        requests += w[i].hits;
    }
    done = 1;
    pthread_join(mon, NULL);

    if (store_snapshot(&st, snap, BUDGET + 16, &n) != DS_OK) bad++;
    for (i = 0; i < n; i++) {
        live_hits += snap[i].val.hits;
        if (snap[i].val.token != ds_mix64(snap[i].key ^ TOKEN_SALT)) bad++;
    }
    qsort(snap, n, sizeof snap[0], by_hits);
    printf("busiest users now:");
    for (i = 0; i < n && i < 5; i++)
        printf(" %llu (%llu hits)", (unsigned long long)snap[i].key, (unsigned long long)snap[i].val.hits);
    printf("\n");
    printf("%llu hits = %llu live + %llu in %llu evicted sessions + %llu logged out\n",
           (unsigned long long)requests, (unsigned long long)live_hits, (unsigned long long)evicted_hits,
           (unsigned long long)evicted_sessions, (unsigned long long)logged_out_hits);
    printf("sessions made %llu, live %zu, largest len() seen %zu\n", (unsigned long long)made, store_len(&st),
           (size_t)max_len_seen);
    store_free(&st); /* hands the live sessions to on_evict (DELETED) */

    ok = bad == 0 && requests == live_hits + evicted_hits + logged_out_hits && freed_hits == live_hits &&
         max_len_seen <= BUDGET && n <= BUDGET && evicted_sessions > 0;
    printf("%s\n", ok ? "ok: every hit accounted for once, budget held" : "FAILED");
    return ok ? 0 : 1;
}
