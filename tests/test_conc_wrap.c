/* tests/test_conc_wrap.c - ds_concurrent.h thread-safe wrappers: DS_CLRU,
 * DS_CTSTORE, ds_climiter, ds_cbreaker.
 *
 * Single flight: threads missing one key together cause exactly one loader
 * call (made deterministic by a loader that holds its flight open until
 * every other thread is waiting on it), and under free-running races a key
 * is still loaded exactly once while nothing evicts it; a failure reaches
 * every waiter and caches nothing; a put/del/clear during a load wins over
 * it; waiters time out. Random concurrent op mixes on per-thread key ranges
 * are checked against per-thread sequential models (the contract makes
 * them exact there), shared keys against invariants. The time store wakes
 * waiters on add, times out, closes and drains; single-threaded op streams
 * match a plain DS_TSTORE replay. The blocking limiter's admissions, timed
 * by the threads that got them (just after acquire returns), never run
 * ahead of burst + rate x elapsed. The shared breaker admits exactly P probes
 * to threads racing in HALF_OPEN. Plus bad input and allocation failure.
 * C11 + pthreads: built into build/test_conc (ASan) and the TSan binaries. */
#define _POSIX_C_SOURCE 200809L
#include "ds_concurrent.h"
#include "prop.h"
#include <pthread.h>
#include <sched.h>
#include <time.h>

#if defined(__SANITIZE_THREAD__)
#define WRAP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WRAP_TSAN 1
#endif
#endif
#ifdef WRAP_TSAN
#define WRAP_SCALE 1
#else
#define WRAP_SCALE 3
#endif

#define WRAP_THREADS 8
#define SEC 1000000000LL
#define MS 1000000LL

DS_CLRU(wcache, uint64_t, uint64_t, ds_hash_u64, ds_eq_u64)
DS_CTSTORE(wstore, uint64_t)
DS_TSTORE(pstore, uint64_t) /* the plain store the replays compare with */

static void sleep_ns(int64_t ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / SEC);
    ts.tv_nsec = (long)(ns % SEC);
    nanosleep(&ts, NULL);
}
/* Until *w has at least n announced sleepers (or 5 s): 1 if it did. */
static int wait_sleepers(ds__waitq *w, uint32_t n) {
    int64_t end = ds_now_ns() + 5 * SEC;
    while (DS__ALOAD(&w->waiters, acquire) < n) {
        if (ds_now_ns() > end) return 0;
        sched_yield();
    }
    sleep_ns(2 * MS);
    return 1;
}
/* Until the atomic flag is set (or 5 s): 1 if it was. */
static int wait_flag(atomic_int *f) {
    int64_t end = ds_now_ns() + 5 * SEC;
    while (!atomic_load(f)) {
        if (ds_now_ns() > end) return 0;
        sched_yield();
    }
    return 1;
}
static uint64_t db_value(uint64_t k) { return k * 1000003u + 7; }

/* ==== DS_CLRU ============================================================ */

/* A loader that counts its calls per key, returns db_value (or fail_with),
 * and, with hold set, keeps its flight open until `hold` callers are
 * asleep on it (the cache's wait queue counts them) so every thread provably
 * joined this one load. */
typedef struct sf_ctx {
    wcache *c;
    atomic_int calls[256];   /* per key & 255 */
    atomic_int shared_calls[16]; /* keys 90000..90015 (the model test's shared set) */
    atomic_int entered;      /* a load is running */
    atomic_int release;      /* gate: the loader returns once set (gate mode) */
    int gate;                /* wait for release */
    uint32_t hold;           /* wait until `hold` callers sleep on the load */
    ds_status fail_with;
    int64_t sleep_ns;
    int64_t ttl;             /* > 0: the loader sets it */
    atomic_int hold_timeouts;
} sf_ctx;

static ds_status sf_loader(void *lctx, uint64_t const *key, uint64_t *out, int64_t *ttl) {
    sf_ctx *x = (sf_ctx *)lctx;
    if (*key >= 90000 && *key < 90016) atomic_fetch_add(&x->shared_calls[*key - 90000], 1);
    else atomic_fetch_add(&x->calls[*key & 255], 1);
    atomic_store(&x->entered, 1);
    if (x->hold) {
        int64_t end = ds_now_ns() + 5 * SEC;
        while (DS__ALOAD(&x->c->loaded.waiters, acquire) < x->hold) {
            if (ds_now_ns() > end) {
                atomic_fetch_add(&x->hold_timeouts, 1);
                break;
            }
            sched_yield();
        }
    }
    if (x->gate) (void)wait_flag(&x->release);
    if (x->sleep_ns) sleep_ns(x->sleep_ns);
    if (x->ttl) *ttl = x->ttl;
    if (x->fail_with != DS_OK) return x->fail_with;
    *out = db_value(*key);
    return DS_OK;
}

typedef struct sf_thread {
    sf_ctx *x;
    pthread_t t;
    uint64_t first, nkeys;   /* keys first .. first + nkeys - 1 */
    int shuffle;             /* random order instead of ascending */
    uint64_t seed;
    int bad;                 /* wrong value or status seen */
    ds_status last;
} sf_thread;

static void *sf_main(void *arg) {
    sf_thread *t = (sf_thread *)arg;
    uint64_t i, order[256];
    ds_rng r;
    ds_rng_seed(&r, t->seed);
    for (i = 0; i < t->nkeys; i++) order[i] = t->first + i;
    if (t->shuffle)
        for (i = t->nkeys; i > 1; i--) {
            uint64_t j = ds_rng_below(&r, i), tmp = order[i - 1];
            order[i - 1] = order[j];
            order[j] = tmp;
        }
    for (i = 0; i < t->nkeys; i++) {
        uint64_t v = 0;
        ds_status s = wcache_get_or_load(t->x->c, order[i], 0, sf_loader, t->x, &v);
        t->last = s;
        if (t->x->fail_with != DS_OK) {
            if (s != t->x->fail_with) t->bad = 1;
        } else if (s != DS_OK || v != db_value(order[i])) {
            t->bad = 1;
        }
    }
    return NULL;
}

static void sf_ctx_init(sf_ctx *x, wcache *c) {
    int i;
    memset(x, 0, sizeof *x);
    x->c = c;
    for (i = 0; i < 256; i++) atomic_init(&x->calls[i], 0);
    for (i = 0; i < 16; i++) atomic_init(&x->shared_calls[i], 0);
    atomic_init(&x->entered, 0);
    atomic_init(&x->release, 0);
    atomic_init(&x->hold_timeouts, 0);
}

/* N threads miss the same key at once: one loader call per key, everyone
 * gets the value; then free-running threads over shuffled key sets. */
void test_conc_wrap_clru_single_flight(void) {
    static sf_ctx x;
    sf_thread th[WRAP_THREADS];
    wcache c;
    ds_clru_stats st;
    int i;
    uint64_t k, rounds = 6;
    CHECK(wcache_init(&c, NULL) == DS_OK);
    sf_ctx_init(&x, &c);
    /* Phase 1: keys in lockstep; each load waits for the other N-1. */
    x.hold = WRAP_THREADS - 1;
    for (k = 0; k < rounds; k++) {
        for (i = 0; i < WRAP_THREADS; i++) {
            memset(&th[i], 0, sizeof th[i]);
            th[i].x = &x;
            th[i].first = k;
            th[i].nkeys = 1;
            CHECK(pthread_create(&th[i].t, NULL, sf_main, &th[i]) == 0);
        }
        for (i = 0; i < WRAP_THREADS; i++) pthread_join(th[i].t, NULL);
        for (i = 0; i < WRAP_THREADS; i++) CHECKF(!th[i].bad, "round %d thread %d: %s", (int)k, i, ds_status_name(th[i].last));
        CHECKF(atomic_load(&x.calls[k]) == 1, "key %d loaded %d times", (int)k, atomic_load(&x.calls[k]));
    }
    CHECK(atomic_load(&x.hold_timeouts) == 0);
    st = wcache_stats(&c);
    CHECK(st.cache.loads == rounds && st.coalesced == rounds * (WRAP_THREADS - 1));
    CHECK(st.cache.misses == rounds * WRAP_THREADS && st.cache.hits == 0);
    CHECK(wcache_len(&c) == rounds);
    /* Phase 2: free-running races over 64 keys in each thread's own order,
     * with a slow loader: never evicted, so each key loads exactly once. */
    x.hold = 0;
    x.sleep_ns = 200000;
    for (i = 0; i < WRAP_THREADS; i++) {
        memset(&th[i], 0, sizeof th[i]);
        th[i].x = &x;
        th[i].first = 100;
        th[i].nkeys = 64;
        th[i].shuffle = 1;
        th[i].seed = 77 + (uint64_t)i;
        CHECK(pthread_create(&th[i].t, NULL, sf_main, &th[i]) == 0);
    }
    for (i = 0; i < WRAP_THREADS; i++) pthread_join(th[i].t, NULL);
    for (i = 0; i < WRAP_THREADS; i++) CHECK(!th[i].bad);
    for (k = 100; k < 164; k++) CHECKF(atomic_load(&x.calls[k]) == 1, "key %d loaded %d times", (int)k, atomic_load(&x.calls[k]));
    st = wcache_stats(&c);
    CHECK(st.cache.loads == rounds + 64);
    CHECK(st.cache.hits + st.cache.misses == rounds * WRAP_THREADS + 64 * WRAP_THREADS);
    CHECK(st.cache.misses == rounds * WRAP_THREADS + 64 + (st.coalesced - rounds * (WRAP_THREADS - 1)));
    CHECK(wcache_len(&c) == rounds + 64 && c.flights == NULL && c.detached == NULL);
    wcache_free(&c);
}

/* A failing load: every caller that joined it gets the error, nothing is
 * cached, the next miss loads again. Negative caching when asked for. */
void test_conc_wrap_clru_failure(void) {
    static sf_ctx x;
    sf_thread th[WRAP_THREADS];
    wcache c;
    wcache_config cfg;
    ds_clru_stats st;
    uint64_t v = 0;
    int i, pass;
    for (pass = 0; pass < 2; pass++) { /* 0: DS_EIO; 1: DS_ENOTFOUND with negative_ttl */
        memset(&cfg, 0, sizeof cfg);
        if (pass) cfg.negative_ttl = 1000;
        CHECK(wcache_init(&c, &cfg) == DS_OK);
        sf_ctx_init(&x, &c);
        x.fail_with = pass ? DS_ENOTFOUND : DS_EIO;
        x.hold = WRAP_THREADS - 1;
        for (i = 0; i < WRAP_THREADS; i++) {
            memset(&th[i], 0, sizeof th[i]);
            th[i].x = &x;
            th[i].first = 5;
            th[i].nkeys = 1;
            CHECK(pthread_create(&th[i].t, NULL, sf_main, &th[i]) == 0);
        }
        for (i = 0; i < WRAP_THREADS; i++) pthread_join(th[i].t, NULL);
        for (i = 0; i < WRAP_THREADS; i++) CHECKF(!th[i].bad, "thread %d got %s", i, ds_status_name(th[i].last));
        CHECK(atomic_load(&x.calls[5]) == 1 && atomic_load(&x.hold_timeouts) == 0);
        st = wcache_stats(&c);
        CHECK(st.cache.load_errors == 1 && st.cache.loads == 0 && st.coalesced == WRAP_THREADS - 1);
        x.hold = 0;
        if (!pass) {
            CHECK(wcache_len(&c) == 0 && wcache_get(&c, 5, 0, &v) == DS_ENOTFOUND);
            /* nothing cached: the next miss loads again, and now succeeds */
            x.fail_with = DS_OK;
            CHECK(wcache_get_or_load(&c, 5, 0, sf_loader, &x, &v) == DS_OK && v == db_value(5));
            CHECK(atomic_load(&x.calls[5]) == 2 && wcache_len(&c) == 1);
        } else {
            /* a negative entry: DS_ENOTFOUND without loading until it expires */
            CHECK(wcache_len(&c) == 1);
            CHECK(wcache_get_or_load(&c, 5, 999, sf_loader, &x, &v) == DS_ENOTFOUND);
            CHECK(wcache_get(&c, 5, 999, &v) == DS_ENOTFOUND);
            CHECK(atomic_load(&x.calls[5]) == 1);
            x.fail_with = DS_OK;
            CHECK(wcache_get_or_load(&c, 5, 1000, sf_loader, &x, &v) == DS_OK && v == db_value(5));
            CHECK(atomic_load(&x.calls[5]) == 2);
        }
        CHECK(c.flights == NULL && c.detached == NULL);
        wcache_free(&c);
    }
}

/* One get_or_load in a thread whose loader blocks on the gate. */
typedef struct gl_arg {
    sf_ctx *x;
    uint64_t key;
    uint64_t v;
    ds_status st;
    int64_t timeout;  /* >= 0: the _timeout form */
    atomic_int done;
} gl_arg;
static void *gl_main(void *p) {
    gl_arg *a = (gl_arg *)p;
    a->st = a->timeout >= 0 ? wcache_get_or_load_timeout(a->x->c, a->key, 0, sf_loader, a->x, &a->v, a->timeout)
                            : wcache_get_or_load(a->x->c, a->key, 0, sf_loader, a->x, &a->v);
    atomic_store(&a->done, 1);
    return NULL;
}
static void gl_start(gl_arg *a, sf_ctx *x, uint64_t key, int64_t timeout, pthread_t *t) {
    memset(a, 0, sizeof *a);
    a->x = x;
    a->key = key;
    a->timeout = timeout;
    atomic_init(&a->done, 0);
    if (pthread_create(t, NULL, gl_main, a) != 0) abort();
}

/* A loader that calls back into the cache: the same key (DS_EDEADLK) and
 * another key (works: the lock is not held while loading). */
static ds_status reentrant_loader(void *lctx, uint64_t const *key, uint64_t *out, int64_t *ttl) {
    wcache *c = (wcache *)lctx;
    uint64_t v = 0;
    (void)ttl;
    if (*key == 1) {
        if (wcache_get_or_load(c, 1, 0, reentrant_loader, c, &v) != DS_EDEADLK) return DS_EIO;
        if (wcache_get_or_load(c, 2, 0, reentrant_loader, c, &v) != DS_OK || v != 22) return DS_EIO;
        if (wcache_put(c, 3, 33, 0) != DS_OK) return DS_EIO;
    }
    *out = *key * 11;
    return DS_OK;
}

/* put/del/clear during a load win over it; waiters time out; re-entry. */
void test_conc_wrap_clru_invalidate(void) {
    static sf_ctx x;
    wcache c;
    gl_arg a, b;
    pthread_t ta, tb;
    uint64_t v = 0;
    int64_t t0;
    int mode;
    CHECK(wcache_init(&c, NULL) == DS_OK);
    for (mode = 0; mode < 3; mode++) { /* a put, a del, a clear while key 9 loads */
        sf_ctx_init(&x, &c);
        x.gate = 1;
        wcache_clear(&c);
        if (mode == 1) CHECK(wcache_put(&c, 10, 1, 0) == DS_OK);
        gl_start(&a, &x, 9, -1, &ta);
        CHECK(wait_flag(&x.entered));
        if (mode == 0) CHECK(wcache_put(&c, 9, 4242, 0) == DS_OK);
        if (mode == 1) CHECK(wcache_del(&c, 9, NULL, 0) == DS_ENOTFOUND); /* absent, still invalidates */
        if (mode == 2) wcache_clear(&c);
        atomic_store(&x.release, 1);
        pthread_join(ta, NULL);
        /* the loading caller gets its load; the cache keeps the newer state */
        CHECK(a.st == DS_OK && a.v == db_value(9));
        if (mode == 0) CHECK(wcache_get(&c, 9, 0, &v) == DS_OK && v == 4242);
        else CHECK(wcache_get(&c, 9, 0, &v) == DS_ENOTFOUND);
        CHECK(wcache_stats(&c).uncached == (uint64_t)mode + 1);
    }
    /* a failed put (bad ttl) does not invalidate */
    sf_ctx_init(&x, &c);
    x.gate = 1;
    gl_start(&a, &x, 12, -1, &ta);
    CHECK(wait_flag(&x.entered));
    CHECK(wcache_put_ttl(&c, 12, 5, -1, 0) == DS_EINVAL);
    atomic_store(&x.release, 1);
    pthread_join(ta, NULL);
    CHECK(a.st == DS_OK && wcache_get(&c, 12, 0, &v) == DS_OK && v == db_value(12));
    /* a waiter times out (no earlier than asked); the load goes on and is cached */
    sf_ctx_init(&x, &c);
    x.gate = 1;
    gl_start(&a, &x, 20, -1, &ta);
    CHECK(wait_flag(&x.entered));
    t0 = ds_now_ns();
    CHECK(wcache_get_or_load_timeout(&c, 20, 0, sf_loader, &x, &v, 20 * MS) == DS_ETIMEDOUT);
    CHECK(ds_now_ns() - t0 >= 20 * MS);
    CHECK(wcache_get_or_load_timeout(&c, 20, 0, sf_loader, &x, &v, 0) == DS_ETIMEDOUT);
    CHECK(wcache_stats(&c).timeouts == 2 && wcache_stats(&c).coalesced == 0); /* not served */
    /* a second waiter with a long timeout is woken by the load */
    gl_start(&b, &x, 20, 10 * SEC, &tb);
    CHECK(wait_sleepers(&c.loaded, 1));
    atomic_store(&x.release, 1);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.st == DS_OK && b.st == DS_OK && a.v == db_value(20) && b.v == db_value(20));
    CHECK(atomic_load(&x.calls[20]) == 1 && wcache_stats(&c).coalesced == 1);
    CHECK(wcache_get(&c, 20, 0, &v) == DS_OK && v == db_value(20));
    CHECK(c.flights == NULL && c.detached == NULL && DS__ALOAD(&c.loaded.waiters, acquire) == 0);
    /* a hit with the _timeout form never waits */
    CHECK(wcache_get_or_load_timeout(&c, 20, 0, sf_loader, &x, &v, -1) == DS_OK);
    /* the loader's ttl: a bad one is DS_EINVAL for its callers; a good one applies */
    sf_ctx_init(&x, &c);
    x.ttl = -5;
    CHECK(wcache_get_or_load(&c, 30, 0, sf_loader, &x, &v) == DS_EINVAL);
    CHECK(wcache_get(&c, 30, 0, &v) == DS_ENOTFOUND);
    /* ... also when a del raced the load (its value is not cached either way) */
    x.gate = 1;
    atomic_store(&x.entered, 0);
    gl_start(&a, &x, 31, -1, &ta);
    CHECK(wait_flag(&x.entered));
    CHECK(wcache_del(&c, 31, NULL, 0) == DS_ENOTFOUND);
    atomic_store(&x.release, 1);
    pthread_join(ta, NULL);
    CHECKF(a.st == DS_EINVAL, "a bad loader ttl after a racing del gave %s", ds_status_name(a.st));
    CHECK(wcache_get(&c, 31, 0, &v) == DS_ENOTFOUND);
    x.gate = 0;
    x.ttl = 100;
    CHECK(wcache_get_or_load(&c, 30, 50, sf_loader, &x, &v) == DS_OK);
    CHECK(wcache_get(&c, 30, 149, &v) == DS_OK && wcache_get(&c, 30, 150, &v) == DS_ENOTFOUND);
    /* re-entry from the loader: same key DS_EDEADLK, other keys work */
    wcache_clear(&c);
    CHECK(wcache_get_or_load(&c, 1, 0, reentrant_loader, &c, &v) == DS_OK && v == 11);
    CHECK(wcache_get(&c, 2, 0, &v) == DS_OK && v == 22);
    CHECK(wcache_get(&c, 3, 0, &v) == DS_OK && v == 33);
    wcache_free(&c);
}

/* Random concurrent op mixes. Each thread owns a key range and keeps a
 * sequential model of it: nobody else touches those keys, so every result
 * must match the model exactly. All threads also read through a shared
 * key set (loaded exactly once each, never changed). Then a bounded cache
 * with every thread on the same keys: bounds and value integrity. */
#define MIX_KEYS 48
typedef struct mix_thread {
    wcache *c;
    sf_ctx *x;
    pthread_t t;
    int id, ops, bounded;
    uint64_t seed;
    uint64_t model[MIX_KEYS];
    int present[MIX_KEYS];
    int bad;
    char why[96];
} mix_thread;

static void *mix_main(void *arg) {
    mix_thread *m = (mix_thread *)arg;
    ds_rng r;
    int op;
    ds_rng_seed(&r, m->seed);
    for (op = 0; op < m->ops && !m->bad; op++) {
        unsigned kind = (unsigned)ds_rng_below(&r, 100);
        uint64_t i = ds_rng_below(&r, MIX_KEYS), v = 0, val;
        ds_status s;
        if (m->bounded) { /* shared keys; values carry their key */
            uint64_t k = i;
            if (kind < 30) {
                s = wcache_put(m->c, k, k << 32 | (uint64_t)op, 0);
                if (s != DS_OK) m->bad = 1;
            } else if (kind < 45) {
                s = wcache_del(m->c, k, &v, 0);
                if ((s != DS_OK && s != DS_ENOTFOUND) || (s == DS_OK && v >> 32 != k && v != db_value(k))) m->bad = 1;
            } else if (kind < 70) {
                s = wcache_get(m->c, k, 0, &v);
                if ((s != DS_OK && s != DS_ENOTFOUND) || (s == DS_OK && v >> 32 != k && v != db_value(k))) m->bad = 1;
            } else {
                s = wcache_get_or_load(m->c, k, 0, sf_loader, m->x, &v);
                if (s != DS_OK || (v >> 32 != k && v != db_value(k))) m->bad = 1;
            }
            if (wcache_len(m->c) > 16) m->bad = 1;
            if (m->bad) snprintf(m->why, sizeof m->why, "bounded op %d kind %u key %d: %s", op, kind, (int)k, ds_status_name(s));
            continue;
        }
        {
            uint64_t k = (uint64_t)(m->id + 1) * 1000 + i;
            if (kind < 25) {
                val = ds_rng_next(&r);
                s = wcache_put(m->c, k, val, 0);
                if (s != DS_OK) m->bad = 1;
                m->model[i] = val;
                m->present[i] = 1;
            } else if (kind < 40) {
                s = wcache_del(m->c, k, &v, 0);
                if (s != (m->present[i] ? DS_OK : DS_ENOTFOUND) || (s == DS_OK && v != m->model[i])) m->bad = 1;
                m->present[i] = 0;
            } else if (kind < 65) {
                s = wcache_get(m->c, k, 0, &v);
                if (s != (m->present[i] ? DS_OK : DS_ENOTFOUND) || (s == DS_OK && v != m->model[i])) m->bad = 1;
            } else if (kind < 85) {
                s = wcache_get_or_load(m->c, k, 0, sf_loader, m->x, &v);
                if (!m->present[i]) {
                    m->model[i] = db_value(k);
                    m->present[i] = 1;
                }
                if (s != DS_OK || v != m->model[i]) m->bad = 1;
            } else { /* the shared read-through keys */
                k = 90000 + i % 16;
                s = wcache_get_or_load(m->c, k, 0, sf_loader, m->x, &v);
                if (s != DS_OK || v != db_value(k)) m->bad = 1;
            }
            if (m->bad) snprintf(m->why, sizeof m->why, "op %d kind %u key %d: %s", op, kind, (int)k, ds_status_name(s));
        }
    }
    return NULL;
}

static void mix_case(ds_rng *rng, uint64_t seed) {
    static sf_ctx x;
    static mix_thread th[WRAP_THREADS];
    wcache c;
    wcache_config cfg;
    int i, nthreads = 2 + (int)ds_rng_below(rng, WRAP_THREADS - 1);
    size_t expect = 0;
    uint64_t j, v;
    CHECK(wcache_init(&c, NULL) == DS_OK);
    sf_ctx_init(&x, &c);
    for (i = 0; i < nthreads; i++) {
        memset(&th[i], 0, sizeof th[i]);
        th[i].c = &c;
        th[i].x = &x;
        th[i].id = i;
        th[i].ops = 400 * WRAP_SCALE;
        th[i].seed = seed * 31 + (uint64_t)i;
        CHECK(pthread_create(&th[i].t, NULL, mix_main, &th[i]) == 0);
    }
    for (i = 0; i < nthreads; i++) pthread_join(th[i].t, NULL);
    for (i = 0; i < nthreads; i++) CHECKF(!th[i].bad, "thread %d: %s", i, th[i].why);
    /* the shared keys: each loaded at most once (never evicted or changed) */
    for (j = 90000; j < 90016; j++) {
        int n = atomic_load(&x.shared_calls[j - 90000]);
        CHECKF(n <= 1, "shared key %d loaded %d times", (int)j, n);
        if (n) expect++;
    }
    /* the final state is the union of the models */
    for (i = 0; i < nthreads; i++)
        for (j = 0; j < MIX_KEYS; j++) {
            ds_status s = wcache_get(&c, (uint64_t)(i + 1) * 1000 + j, 0, &v);
            CHECK(s == (th[i].present[j] ? DS_OK : DS_ENOTFOUND));
            if (th[i].present[j]) {
                CHECK(v == th[i].model[j]);
                expect++;
            }
        }
    CHECK(wcache_len(&c) == expect && c.flights == NULL && c.detached == NULL);
    wcache_free(&c);
    /* bounded, everyone on the same keys, LRU or W-TinyLFU */
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = 16;
    cfg.policy = seed % 2 ? DS_CACHE_WTINYLFU : DS_CACHE_LRU;
    CHECK(wcache_init(&c, &cfg) == DS_OK);
    sf_ctx_init(&x, &c);
    for (i = 0; i < nthreads; i++) {
        memset(&th[i], 0, sizeof th[i]);
        th[i].c = &c;
        th[i].x = &x;
        th[i].ops = 300 * WRAP_SCALE;
        th[i].bounded = 1;
        th[i].seed = seed * 77 + (uint64_t)i;
        CHECK(pthread_create(&th[i].t, NULL, mix_main, &th[i]) == 0);
    }
    for (i = 0; i < nthreads; i++) pthread_join(th[i].t, NULL);
    for (i = 0; i < nthreads; i++) CHECKF(!th[i].bad, "thread %d: %s", i, th[i].why);
    CHECK(wcache_len(&c) <= 16 && c.flights == NULL && c.detached == NULL);
    {
        ds_clru_stats st = wcache_stats(&c);
        CHECK(st.cache.loads + st.cache.load_errors + st.coalesced <= st.cache.misses);
    }
    wcache_free(&c);
}
void test_conc_wrap_clru_model(void) { prop_run("conc_wrap_clru_model", mix_case, 4 * WRAP_SCALE); }

/* Allocation failure in a sequential op stream with TTLs and a moving
 * clock: DS_ENOMEM only when an allocation failed inside that call, the
 * cache then exactly as it was (no expired entry dropped, no callback, no
 * hit or miss counted); a loaded value that cannot be cached still reaches
 * its caller (uncached). The model tracks which keys are stored (present)
 * and until when they live (expiry); an expired entry stays stored until a
 * lookup of its key (or the bound) drops it. */
static void count_evict(void *ctx, uint64_t *k, uint64_t *v, ds_evict why) {
    (void)k;
    (void)v;
    (void)why;
    (*(long *)ctx)++;
}
static int clru_oom_seq(uint64_t seed, prop_alloc *pa) {
    wcache c;
    wcache_config cfg;
    static sf_ctx x;
    ds_rng r;
    uint64_t model[64];
    int64_t expiry[64], now = 0;
    int present[64], step;
    long evicted = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.alloc = &pa->a;
    cfg.seed = seed;
    cfg.max_entries = seed % 2 ? 0 : 40;
    cfg.policy = seed % 4 == 0 ? DS_CACHE_WTINYLFU : DS_CACHE_LRU; /* hill climber and admission too */
    cfg.on_evict = count_evict;
    cfg.ctx = &evicted;
    {
        long before = PROP_FAILS(pa);
        ds_status s = wcache_init(&c, &cfg);
        if (s == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            return 0;
        }
        CHECK_OR(s == DS_OK, 1);
    }
    sf_ctx_init(&x, &c);
    memset(present, 0, sizeof present);
    ds_rng_seed(&r, seed);
    for (step = 0; step < 200; step++) {
        uint64_t k = ds_rng_below(&r, cfg.max_entries ? 30 : 64), v = 0;
        unsigned kind = (unsigned)ds_rng_below(&r, 3);
        int64_t ttl = ds_rng_below(&r, 3) == 0 ? 1 + (int64_t)ds_rng_below(&r, 20) : 0;
        size_t len;
        ds_clru_stats st0 = wcache_stats(&c);
        long ev0;
        int calls = atomic_load(&x.calls[k]), live;
        long before = PROP_FAILS(pa);
        ds_status s;
        now += (int64_t)ds_rng_below(&r, 4);
        live = present[k] && now < expiry[k];
        len = wcache_len(&c);
        ev0 = evicted;
        if (kind == 0) {
            s = ttl ? wcache_put_ttl(&c, k, k + 5, ttl, now) : wcache_put(&c, k, k + 5, now);
            if (s == DS_ENOMEM) {
                CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && wcache_len(&c) == len && evicted == ev0, 1);
            } else {
                CHECK_OR(s == DS_OK, 1);
                model[k] = k + 5;
                present[k] = 1;
                expiry[k] = ttl ? now + ttl : INT64_MAX;
            }
        } else if (kind == 1) {
            x.ttl = ttl; /* the loader sets it (0: the default, none) */
            s = wcache_get_or_load(&c, k, now, sf_loader, &x, &v);
            if (live && cfg.policy == DS_CACHE_WTINYLFU && s == DS_ENOMEM) {
                /* the spare record for a miss the hill climber may cause */
                CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && wcache_len(&c) == len && evicted == ev0, 1);
                CHECK_OR(wcache_stats(&c).cache.hits == st0.cache.hits && atomic_load(&x.calls[k]) == calls, 1);
            } else if (live && cfg.policy == DS_CACHE_WTINYLFU && atomic_load(&x.calls[k]) == calls + 1) {
                CHECK_OR(s == DS_OK && v == db_value(k), 1); /* the climber evicted it: loaded */
                present[k] = 0;
                if (wcache_get(&c, k, now, NULL) == DS_OK) {
                    model[k] = v;
                    present[k] = 1;
                    expiry[k] = ttl ? now + ttl : INT64_MAX;
                }
            } else if (live) {
                CHECK_OR(s == DS_OK && v == model[k] && atomic_load(&x.calls[k]) == calls, 1);
            } else if (s == DS_ENOMEM) { /* the flight record: nothing happened at all */
                ds_clru_stats st1 = wcache_stats(&c);
                CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && atomic_load(&x.calls[k]) == calls, 1);
                CHECK_OR(wcache_len(&c) == len && evicted == ev0, 1);
                CHECK_OR(st1.cache.misses == st0.cache.misses && st1.cache.hits == st0.cache.hits, 1);
            } else {
                CHECK_OR(s == DS_OK && v == db_value(k) && atomic_load(&x.calls[k]) == calls + 1, 1);
                if (wcache_stats(&c).uncached == st0.uncached + 1) { /* loaded, not cached */
                    CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
                    CHECK_OR(wcache_len(&c) == len - (size_t)present[k], 1); /* the expired one went */
                    present[k] = 0;
                } else {
                    model[k] = v;
                    present[k] = 1;
                    expiry[k] = ttl ? now + ttl : INT64_MAX;
                }
            }
        } else {
            s = wcache_del(&c, k, &v, 0);
            if (live) CHECK_OR(s == DS_OK && v == model[k], 1);
            else if (!present[k]) CHECK_OR(s == DS_ENOTFOUND, 1);
            else CHECK_OR(s == DS_ENOTFOUND || (s == DS_OK && v == model[k]), 1); /* expired, maybe still stored */
            present[k] = 0;
        }
        { /* forget what the cache dropped (bound, expiry); a get drops the expired */
            uint64_t j;
            for (j = 0; j < 64; j++)
                if (present[j] && (cfg.max_entries || now >= expiry[j]) && wcache_get(&c, j, now, NULL) != DS_OK)
                    present[j] = 0;
        }
    }
    wcache_free(&c);
    return 0;
}

static void noop_evict(void *ctx, uint64_t *k, uint64_t *v, ds_evict why) {
    (void)ctx;
    (void)k;
    (void)v;
    (void)why;
}

void test_conc_wrap_clru_edges_oom(void) {
    wcache c;
    wcache_config cfg;
    sf_ctx *x = (sf_ctx *)malloc(sizeof *x);
    prop_alloc pa;
    uint64_t v = 0;
    long total = 0, evicted = 0;
    CHECK(x != NULL);
    /* bad input */
    memset(&cfg, 0, sizeof cfg);
    CHECK(wcache_init(NULL, NULL) == DS_EINVAL);
    cfg.default_ttl = -1;
    CHECK(wcache_init(&c, &cfg) == DS_EINVAL);
    cfg.default_ttl = 0;
    cfg.policy = DS_CACHE_WTINYLFU; /* needs exactly one bound */
    CHECK(wcache_init(&c, &cfg) == DS_EINVAL);
    CHECK(wcache_get(NULL, 1, 0, &v) == DS_EINVAL && wcache_put(NULL, 1, 1, 0) == DS_EINVAL);
    CHECK(wcache_put_ttl(NULL, 1, 1, 5, 0) == DS_EINVAL && wcache_del(NULL, 1, NULL, 0) == DS_EINVAL);
    CHECK(wcache_get_or_load(NULL, 1, 0, sf_loader, x, &v) == DS_EINVAL);
    CHECK(wcache_get_or_load_timeout(NULL, 1, 0, sf_loader, x, &v, 5) == DS_EINVAL);
    CHECK(wcache_set_capacity(NULL, 1, 0, 0) == DS_EINVAL && wcache_expire(NULL, 0, 9) == 0);
    CHECK(wcache_len(NULL) == 0 && wcache_stats(NULL).coalesced == 0);
    wcache_free(NULL);
    wcache_clear(NULL);
    wcache_reset_stats(NULL);
    CHECK(wcache_init(&c, NULL) == DS_OK);
    sf_ctx_init(x, &c);
    CHECK(wcache_get_or_load(&c, 1, 0, NULL, x, &v) == DS_EINVAL);
    CHECK(wcache_put_ttl(&c, 1, 1, -1, 0) == DS_EINVAL && wcache_len(&c) == 0);
    CHECK(wcache_get_or_load(&c, 1, 0, sf_loader, x, NULL) == DS_OK); /* out may be NULL */
    CHECK(wcache_get(&c, 1, 0, NULL) == DS_OK && wcache_len(&c) == 1);
    /* TTLs, expire and set_capacity pass through */
    CHECK(wcache_put_ttl(&c, 2, 2, 10, 0) == DS_OK && wcache_expire(&c, 10, 5) == 1);
    CHECK(wcache_put(&c, 3, 3, 0) == DS_OK && wcache_set_capacity(&c, 1, 0, 0) == DS_OK);
    CHECK(wcache_len(&c) == 1 && wcache_get(&c, 3, 0, &v) == DS_OK && v == 3);
    CHECK(wcache_set_capacity(&c, (size_t)1 << 31, 0, 0) == DS_EINVAL);
    wcache_reset_stats(&c);
    CHECK(wcache_stats(&c).cache.hits == 0);
    wcache_free(&c);
    /* allocation failure, by hand */
    prop_alloc_init(&pa);
    memset(&cfg, 0, sizeof cfg);
    cfg.alloc = &pa.a;
    cfg.max_entries = 100;
    cfg.policy = DS_CACHE_WTINYLFU; /* its sketch is allocated at init */
    prop_alloc_fail_in(&pa, 1, 0);
    CHECK(wcache_init(&c, &cfg) == DS_ENOMEM && pa.live_blocks == 0);
    cfg.policy = DS_CACHE_LRU;
    cfg.on_evict = noop_evict;
    CHECK(wcache_init(&c, &cfg) == DS_OK);
    sf_ctx_init(x, &c);
    prop_alloc_fail_in(&pa, 1, 0); /* the flight record */
    CHECK(wcache_get_or_load(&c, 7, 0, sf_loader, x, &v) == DS_ENOMEM);
    CHECK(atomic_load(&x->calls[7]) == 0 && wcache_len(&c) == 0 && c.flights == NULL && c.detached == NULL);
    prop_alloc_fail_in(&pa, 2, 1); /* the flight works, the insert cannot */
    v = 0;
    CHECK(wcache_get_or_load(&c, 7, 0, sf_loader, x, &v) == DS_OK && v == db_value(7));
    CHECK(atomic_load(&x->calls[7]) == 1 && wcache_len(&c) == 0 && wcache_stats(&c).uncached == 1);
    prop_alloc_disarm(&pa);
    CHECK(wcache_get_or_load(&c, 7, 0, sf_loader, x, &v) == DS_OK && wcache_len(&c) == 1);
    /* DS_ENOMEM for the flight of an expired key: the entry stays, no
     * callback, no miss counted (the reviewer's clru_enomem_side.c) */
    {
        ds_clru_stats s0, s1;
        wcache_free(&c);
        cfg.on_evict = count_evict;
        cfg.ctx = &evicted;
        CHECK(wcache_init(&c, &cfg) == DS_OK);
        sf_ctx_init(x, &c);
        CHECK(wcache_put_ttl(&c, 1, 11, 10, 0) == DS_OK); /* expires at 10 */
        s0 = wcache_stats(&c);
        prop_alloc_fail_in(&pa, 1, 0);
        CHECK(wcache_get_or_load(&c, 1, 20, sf_loader, x, &v) == DS_ENOMEM);
        s1 = wcache_stats(&c);
        CHECKF(wcache_len(&c) == 1 && evicted == 0 && s1.cache.misses == s0.cache.misses,
               "len %d, %ld evicted, misses %d -> %d", (int)wcache_len(&c), evicted, (int)s0.cache.misses,
               (int)s1.cache.misses);
        CHECK(atomic_load(&x->calls[1]) == 0 && c.flights == NULL);
        prop_alloc_disarm(&pa);
        CHECK(wcache_get_or_load(&c, 1, 20, sf_loader, x, &v) == DS_OK && v == db_value(1) && evicted == 1);
        CHECK(wcache_stats(&c).cache.misses == s0.cache.misses + 1);
    }
    wcache_free(&c);
    CHECK(pa.live_blocks == 0 && pa.live_bytes == 0 && pa.size_errors == 0);
    /* every allocation of a sequential stream, failing once and from then on */
    CHECK(prop_oom_sweep(clru_oom_seq, 1, &total) == 0);
    CHECK(prop_oom_sweep(clru_oom_seq, 2, &total) == 0);
    CHECK(prop_oom_sweep(clru_oom_seq, 4, &total) == 0);
    CHECK(total > 3);
    free(x);
}

/* ==== DS_CTSTORE ========================================================== */

typedef struct ws_arg {
    wstore *s;
    int op;            /* 0 wait_for_data, 1 wait_for_insert, 2 wait_pop, 3..5 the _timeout forms */
    int64_t timeout;
    uint64_t seen;
    int64_t ts;
    uint64_t v;
    ds_status st;
    atomic_int done;
} ws_arg;
static void *ws_main(void *p) {
    ws_arg *a = (ws_arg *)p;
    switch (a->op) {
    case 0: a->st = wstore_wait_for_data(a->s); break;
    case 1: a->st = wstore_wait_for_insert(a->s, &a->seen); break;
    case 2: a->st = wstore_wait_pop(a->s, &a->ts, &a->v); break;
    case 3: a->st = wstore_wait_for_data_timeout(a->s, a->timeout); break;
    case 4: a->st = wstore_wait_for_insert_timeout(a->s, &a->seen, a->timeout); break;
    default: a->st = wstore_wait_pop_timeout(a->s, &a->ts, &a->v, a->timeout); break;
    }
    atomic_store(&a->done, 1);
    return NULL;
}

/* Wakes on add, on close; times out; wait_for_insert counts versions; pops drain. */
void test_conc_wrap_tstore_wait(void) {
    wstore s;
    ws_arg a[6];
    pthread_t t[6];
    int i;
    uint64_t seen = 0, v = 0;
    int64_t t0, ts = 0;
    CHECK(wstore_init(&s) == DS_OK);
    /* one try, and timeouts no shorter than asked */
    CHECK(wstore_wait_for_data_timeout(&s, 0) == DS_ETIMEDOUT);
    CHECK(wstore_wait_for_insert_timeout(&s, &seen, -1) == DS_ETIMEDOUT);
    t0 = ds_now_ns();
    CHECK(wstore_wait_for_data_timeout(&s, 15 * MS) == DS_ETIMEDOUT && ds_now_ns() - t0 >= 15 * MS);
    t0 = ds_now_ns();
    CHECK(wstore_wait_pop_timeout(&s, &ts, &v, 15 * MS) == DS_ETIMEDOUT && ds_now_ns() - t0 >= 15 * MS);
    /* data and add waiters (plain and _timeout) asleep at once: one add
     * wakes all four */
    for (i = 0; i < 6; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].s = &s;
        a[i].op = i;
        a[i].timeout = 30 * SEC;
        atomic_init(&a[i].done, 0);
    }
    for (i = 0; i < 6; i++)
        if (i != 2 && i != 5) CHECK(pthread_create(&t[i], NULL, ws_main, &a[i]) == 0);
    if (!wait_sleepers(&s.added, 4)) wstore_close(&s); /* fail below, not hang */
    CHECK(wstore_insert(&s, 100, 7) == DS_OK);
    {   /* a lost wake-up fails below (close wakes them) instead of hanging */
        int64_t end = ds_now_ns() + 3 * SEC;
        while (!(atomic_load(&a[0].done) && atomic_load(&a[1].done) && atomic_load(&a[3].done) &&
                 atomic_load(&a[4].done)) && ds_now_ns() < end)
            sched_yield();
        if (ds_now_ns() >= end) wstore_close(&s);
    }
    for (i = 0; i < 6; i++)
        if (i != 2 && i != 5) pthread_join(t[i], NULL);
    CHECK(a[0].st == DS_OK && a[3].st == DS_OK);
    CHECK(a[1].st == DS_OK && a[1].seen == 1 && a[4].st == DS_OK && a[4].seen == 1);
    CHECK(wstore_pop_earliest(&s, &ts, &v) == DS_OK && ts == 100 && v == 7);
    /* two poppers asleep: one add feeds exactly one of them, close the other */
    CHECK(pthread_create(&t[2], NULL, ws_main, &a[2]) == 0);
    CHECK(pthread_create(&t[5], NULL, ws_main, &a[5]) == 0);
    if (!wait_sleepers(&s.added, 2)) wstore_close(&s);
    CHECK(wstore_insert(&s, 200, 8) == DS_OK);
    {
        int64_t end = ds_now_ns() + 5 * SEC;
        while (!atomic_load(&a[2].done) && !atomic_load(&a[5].done) && ds_now_ns() < end) sched_yield();
    }
    sleep_ns(5 * MS);
    wstore_close(&s);
    pthread_join(t[2], NULL);
    pthread_join(t[5], NULL);
    CHECK((a[2].st == DS_OK) + (a[5].st == DS_OK) == 1);
    CHECK((a[2].st == DS_ECLOSED) + (a[5].st == DS_ECLOSED) == 1);
    {
        ws_arg *got = a[2].st == DS_OK ? &a[2] : &a[5];
        CHECK(got->ts == 200 && got->v == 8);
    }
    CHECK(wstore_len(&s) == 0 && wstore_adds(&s) == 2);
    CHECK(wstore_is_closed((const wstore *)&s) && wstore_insert(&s, 1, 1) == DS_ECLOSED);
    CHECK(DS__ALOAD(&s.added.waiters, acquire) == 0);
    wstore_free(&s);
    /* wait_for_insert: nothing missed between two calls; closed with nothing newer */
    CHECK(wstore_init(&s) == DS_OK);
    seen = wstore_adds(&s);
    CHECK(wstore_insert(&s, 1, 1) == DS_OK && wstore_insert(&s, 2, 2) == DS_OK);
    CHECK(wstore_insert(&s, 2, 9) == DS_EEXIST && wstore_adds(&s) == 2); /* a collision adds nothing */
    CHECK(wstore_wait_for_insert(&s, &seen) == DS_OK && seen == 2);
    CHECK(wstore_wait_for_insert_timeout(&s, &seen, 1 * MS) == DS_ETIMEDOUT && seen == 2);
    CHECK(wstore_wait_for_insert(&s, NULL) == DS_EINVAL);
    /* a sleeping add-waiter is woken by close */
    memset(&a[0], 0, sizeof a[0]);
    a[0].s = &s;
    a[0].op = 1;
    a[0].seen = 2;
    atomic_init(&a[0].done, 0);
    CHECK(pthread_create(&t[0], NULL, ws_main, &a[0]) == 0);
    CHECK(wait_sleepers(&s.added, 1));
    wstore_close(&s);
    pthread_join(t[0], NULL);
    CHECK(a[0].st == DS_ECLOSED);
    /* after close: data waits succeed while there is data; pops drain in time order */
    seen = 0;
    CHECK(wstore_wait_for_insert(&s, &seen) == DS_OK && seen == 2); /* newer than 0: still reported */
    CHECK(wstore_wait_for_insert(&s, &seen) == DS_ECLOSED);
    CHECK(wstore_wait_for_data(&s) == DS_OK);
    CHECK(wstore_wait_pop(&s, &ts, &v) == DS_OK && ts == 1 && v == 1);
    CHECK(wstore_wait_pop(&s, &ts, &v) == DS_OK && ts == 2 && v == 2);
    CHECK(wstore_wait_pop(&s, &ts, &v) == DS_ECLOSED && wstore_wait_for_data(&s) == DS_ECLOSED);
    CHECK(wstore_wait_pop_timeout(&s, &ts, &v, 5 * SEC) == DS_ECLOSED);
    wstore_free(&s);
}

/* Producers add distinct timestamps; consumers wait_pop until close; range
 * readers check snapshot consistency. Every entry popped exactly once. Then
 * per-thread add/remove models against the final contents. */
#define TS_PRODUCERS 3
#define TS_CONSUMERS 3
typedef struct tsp {
    wstore *s;
    pthread_t t;
    int id, n, mode;  /* mode 0 producer, 1 consumer, 2 reader, 3 model thread */
    uint64_t seed;
    uint64_t got, sum;
    int bad;
    unsigned char *seen;  /* consumers: per-entry receipt counts (shared, atomic) */
    atomic_int *stop;
    int64_t mts[128];
    int mpresent[128];
} tsp;
static uint64_t ts_val(int64_t ts) { return (uint64_t)ts * 2654435761u + 1; }

static void *tsp_main(void *arg) {
    tsp *p = (tsp *)arg;
    ds_rng r;
    int i;
    ds_rng_seed(&r, p->seed);
    if (p->mode == 0) {
        for (i = 0; i < p->n; i++) {
            int64_t ts = (int64_t)i * TS_PRODUCERS + p->id;
            if (wstore_insert(p->s, ts, ts_val(ts)) != DS_OK) p->bad = 1;
            if (ds_rng_below(&r, 8) == 0) sched_yield();
        }
    } else if (p->mode == 1) {
        int64_t ts;
        uint64_t v;
        ds_status st;
        while ((st = wstore_wait_pop(p->s, &ts, &v)) == DS_OK) {
            if (v != ts_val(ts)) p->bad = 1;
            p->got++;
            p->sum += (uint64_t)ts;
        }
        if (st != DS_ECLOSED) p->bad = 1;
    } else if (p->mode == 2) {
        int64_t tsb[64];
        uint64_t vb[64];
        while (!atomic_load(p->stop)) {
            int64_t lo = (int64_t)ds_rng_below(&r, 3000);
            size_t n = wstore_range(p->s, lo, lo + 200, tsb, vb, 64), k;
            for (k = 0; k < n && k < 64; k++) {
                if (tsb[k] < lo || tsb[k] > lo + 200 || vb[k] != ts_val(tsb[k])) p->bad = 1;
                if (k && tsb[k] <= tsb[k - 1]) p->bad = 1;
            }
            sched_yield();
        }
    } else { /* own timestamps, own model: adds, removes, gets */
        for (i = 0; i < p->n; i++) {
            int j = (int)ds_rng_below(&r, 128);
            int64_t ts = 100000 + (int64_t)j * 16 + p->id;
            uint64_t v = 0;
            unsigned kind = (unsigned)ds_rng_below(&r, 3);
            if (kind == 0) {
                ds_status st = wstore_insert(p->s, ts, ts_val(ts));
                if (st != (p->mpresent[j] ? DS_EEXIST : DS_OK)) p->bad = 1;
                p->mpresent[j] = 1;
            } else if (kind == 1) {
                ds_status st = wstore_del(p->s, ts, &v);
                if (st != (p->mpresent[j] ? DS_OK : DS_ENOTFOUND) || (st == DS_OK && v != ts_val(ts))) p->bad = 1;
                p->mpresent[j] = 0;
            } else {
                ds_status st = wstore_get(p->s, ts, &v);
                if (st != (p->mpresent[j] ? DS_OK : DS_ENOTFOUND) || (st == DS_OK && v != ts_val(ts))) p->bad = 1;
            }
        }
    }
    return NULL;
}

void test_conc_wrap_tstore_threads(void) {
    wstore s;
    static tsp th[TS_PRODUCERS + TS_CONSUMERS + 2];
    atomic_int stop;
    int i, n = 600 * WRAP_SCALE, nt = TS_PRODUCERS + TS_CONSUMERS + 2;
    uint64_t got = 0, sum = 0, want_sum = 0;
    CHECK(wstore_init(&s) == DS_OK);
    atomic_init(&stop, 0);
    for (i = 0; i < nt; i++) {
        memset(&th[i], 0, sizeof th[i]);
        th[i].s = &s;
        th[i].id = i < TS_PRODUCERS ? i : 0;
        th[i].n = n;
        th[i].mode = i < TS_PRODUCERS ? 0 : i < TS_PRODUCERS + TS_CONSUMERS ? 1 : 2;
        th[i].seed = 900 + (uint64_t)i;
        th[i].stop = &stop;
        CHECK(pthread_create(&th[i].t, NULL, tsp_main, &th[i]) == 0);
    }
    for (i = 0; i < TS_PRODUCERS; i++) pthread_join(th[i].t, NULL);
    wstore_close(&s); /* after the last add: consumers drain, then DS_ECLOSED */
    for (i = TS_PRODUCERS; i < TS_PRODUCERS + TS_CONSUMERS; i++) pthread_join(th[i].t, NULL);
    atomic_store(&stop, 1);
    for (i = TS_PRODUCERS + TS_CONSUMERS; i < nt; i++) pthread_join(th[i].t, NULL);
    for (i = 0; i < nt; i++) CHECKF(!th[i].bad, "thread %d (mode %d) saw a bad result", i, th[i].mode);
    for (i = TS_PRODUCERS; i < TS_PRODUCERS + TS_CONSUMERS; i++) {
        got += th[i].got;
        sum += th[i].sum;
    }
    for (i = 0; i < n * TS_PRODUCERS; i++) want_sum += (uint64_t)i;
    /* distinct timestamps 0..N-1: count and sum together show each once */
    CHECKF(got == (uint64_t)n * TS_PRODUCERS && sum == want_sum, "%llu popped", (unsigned long long)got);
    CHECK(wstore_len(&s) == 0 && wstore_adds(&s) == (uint64_t)n * TS_PRODUCERS);
    wstore_free(&s);
    /* per-thread models: the final contents are their union */
    CHECK(wstore_init(&s) == DS_OK);
    for (i = 0; i < 4; i++) {
        memset(&th[i], 0, sizeof th[i]);
        th[i].s = &s;
        th[i].id = i;
        th[i].n = 800 * WRAP_SCALE;
        th[i].mode = 3;
        th[i].seed = 4242 + (uint64_t)i;
        CHECK(pthread_create(&th[i].t, NULL, tsp_main, &th[i]) == 0);
    }
    for (i = 0; i < 4; i++) pthread_join(th[i].t, NULL);
    {
        static int64_t tsb[4 * 128];
        size_t total = 0, k, n_all;
        int j;
        for (i = 0; i < 4; i++) {
            CHECK(!th[i].bad);
            for (j = 0; j < 128; j++) total += (size_t)th[i].mpresent[j];
        }
        n_all = wstore_range(&s, INT64_MIN, INT64_MAX, tsb, NULL, 4 * 128);
        CHECK(n_all == total && wstore_len(&s) == total);
        for (k = 0; k < n_all; k++) {
            int64_t off = tsb[k] - 100000;
            CHECK(off >= 0 && th[off % 16].mpresent[off / 16]);
        }
    }
    wstore_free(&s);
}

/* Single-threaded op streams against a plain DS_TSTORE replay; bad input;
 * allocation failure. */
static void tstore_replay_case(ds_rng *r, uint64_t seed) {
    wstore s;
    pstore m;
    int step;
    (void)seed;
    CHECK(wstore_init(&s) == DS_OK);
    pstore_init(&m);
    for (step = 0; step < 600; step++) {
        int64_t ts = (int64_t)ds_rng_below(r, 200), ts2 = 0, mts = 0, used = -1, mused = -2;
        uint64_t v = ds_rng_next(r), got = 0, *mp = NULL;
        unsigned kind = (unsigned)ds_rng_below(r, 11);
        int64_t tsb[16], mtsb[16];
        uint64_t vb[16], mvb[16];
        ds_status a, b;
        size_t n1, n2;
        switch (kind) {
        case 0: CHECK(wstore_insert(&s, ts, v) == pstore_insert(&m, ts, v)); break;
        case 1:
            a = wstore_insert_unique(&s, ts, v, 3, &used);
            b = pstore_insert_unique(&m, ts, v, 3, &mused);
            CHECK(a == b && (a != DS_OK || used == mused));
            break;
        case 2:
            a = wstore_get(&s, ts, &got);
            mp = pstore_value_at(&m, ts);
            CHECK(a == (mp ? DS_OK : DS_ENOTFOUND) && (!mp || *mp == got));
            break;
        case 3: {
            uint64_t mv = 0;
            a = wstore_del(&s, ts, &got);
            CHECK(a == pstore_del(&m, ts, &mv) && (a != DS_OK || got == mv));
            break;
        }
        case 4:
            n1 = wstore_range(&s, ts, ts + 30, tsb, vb, 16);
            n2 = pstore_range(&m, ts, ts + 30, mtsb, mvb, 16);
            CHECK(n1 == n2 && memcmp(tsb, mtsb, (n1 < 16 ? n1 : 16) * sizeof tsb[0]) == 0);
            CHECK(memcmp(vb, mvb, (n1 < 16 ? n1 : 16) * sizeof vb[0]) == 0);
            break;
        case 5:
            n1 = wstore_duration(&s, 20, ts, tsb, vb, 16);
            n2 = pstore_duration(&m, 20, ts, mtsb, mvb, 16);
            CHECK(n1 == n2 && memcmp(tsb, mtsb, (n1 < 16 ? n1 : 16) * sizeof tsb[0]) == 0);
            break;
        case 6:
            a = wstore_earliest(&s, &ts2, &got);
            b = pstore_earliest(&m, &mts, &mp);
            CHECK(a == b && (a != DS_OK || (ts2 == mts && got == *mp)));
            a = wstore_latest(&s, &ts2, &got);
            b = pstore_latest(&m, &mts, &mp);
            CHECK(a == b && (a != DS_OK || (ts2 == mts && got == *mp)));
            break;
        case 7: {
            uint64_t mv = 0;
            a = wstore_pop_earliest(&s, &ts2, &got);
            CHECK(a == pstore_pop_earliest(&m, &mts, &mv) && (a != DS_OK || (ts2 == mts && got == mv)));
            break;
        }
        case 8: CHECK(wstore_expire_before(&s, ts / 4) == pstore_expire_before(&m, ts / 4)); break;
        case 9: {
            int64_t bts[5];
            uint64_t bv[5];
            size_t k, added = 0, madded = 0;
            for (k = 0; k < 5; k++) {
                bts[k] = ts + (int64_t)k * 2;
                bv[k] = v + k;
            }
            a = wstore_insert_batch(&s, bts, bv, 5, &added);
            CHECK(a == pstore_insert_batch(&m, bts, bv, 5, &madded) && added == madded);
            break;
        }
        default:
            if (ds_rng_below(r, 20) == 0) {
                wstore_clear(&s);
                pstore_clear(&m);
            }
            break;
        }
        CHECK(wstore_len(&s) == pstore_len(&m));
    }
    pstore_free(&m);
    wstore_free(&s);
}

void test_conc_wrap_tstore_model_oom(void) {
    wstore s;
    prop_alloc pa;
    int64_t ts = 0;
    uint64_t v = 0, seen = 0;
    size_t added = 9;
    int i, fails = 0;
    prop_run("conc_wrap_tstore_replay", tstore_replay_case, 8 * WRAP_SCALE);
    /* bad input */
    CHECK(wstore_init(NULL) == DS_EINVAL && wstore_init_alloc(NULL, NULL) == DS_EINVAL);
    CHECK(wstore_insert(NULL, 1, 1) == DS_EINVAL && wstore_insert_unique(NULL, 1, 1, 1, &ts) == DS_EINVAL);
    CHECK(wstore_insert_batch(NULL, &ts, &v, 1, &added) == DS_EINVAL && added == 0);
    CHECK(wstore_get(NULL, 1, &v) == DS_EINVAL && wstore_del(NULL, 1, &v) == DS_EINVAL);
    CHECK(wstore_earliest(NULL, &ts, &v) == DS_EINVAL && wstore_latest(NULL, &ts, &v) == DS_EINVAL);
    CHECK(wstore_pop_earliest(NULL, &ts, &v) == DS_EINVAL);
    CHECK(wstore_wait_for_data(NULL) == DS_EINVAL && wstore_wait_for_insert(NULL, &seen) == DS_EINVAL);
    CHECK(wstore_wait_pop(NULL, &ts, &v) == DS_EINVAL && wstore_wait_pop_timeout(NULL, &ts, &v, 1) == DS_EINVAL);
    CHECK(wstore_range(NULL, 0, 9, NULL, NULL, 0) == 0 && wstore_len(NULL) == 0 && wstore_adds(NULL) == 0);
    CHECK(wstore_duration(NULL, 1, 1, NULL, NULL, 0) == 0 && wstore_expire_before(NULL, 5) == 0);
    CHECK(!wstore_is_closed(NULL));
    wstore_close(NULL);
    wstore_clear(NULL);
    wstore_free(NULL);
    CHECK(wstore_init(&s) == DS_OK);
    CHECK(wstore_insert_unique(&s, INT64_MAX, 1, 1, &ts) == DS_EINVAL && wstore_adds(&s) == 0);
    CHECK(wstore_insert_batch(&s, NULL, &v, 1, &added) == DS_EINVAL);
    CHECK(wstore_earliest(&s, &ts, &v) == DS_EEMPTY && wstore_pop_earliest(&s, &ts, &v) == DS_EEMPTY);
    CHECK(wstore_insert(&s, 4, 4) == DS_OK && wstore_earliest(&s, NULL, NULL) == DS_OK);
    wstore_free(&s);
    /* allocation failure: DS_ENOMEM, store and version unchanged, no leak */
    prop_alloc_init(&pa);
    CHECK(wstore_init_alloc(&s, &pa.a) == DS_OK);
    for (i = 0; i < 3000; i++) {
        long before = pa.fails;
        ds_status st;
        size_t len = wstore_len(&s);
        uint64_t adds = wstore_adds(&s);
        if (i % 7 == 5) prop_alloc_fail_in(&pa, 1, 0); /* often: a 64-entry leaf splits on ~1 insert in 32 */
        st = wstore_insert(&s, (int64_t)(i * 7919 % 3001), (uint64_t)i);
        if (st == DS_ENOMEM) {
            CHECK(pa.fails > before && wstore_len(&s) == len && wstore_adds(&s) == adds);
            fails++;
        } else {
            CHECK(st == DS_OK && wstore_adds(&s) == adds + 1);
        }
        prop_alloc_disarm(&pa);
    }
    CHECK(fails > 0 && wstore_len(&s) == 3000 - (size_t)fails);
    wstore_free(&s);
    CHECK(pa.live_blocks == 0 && pa.size_errors == 0);
}

/* ==== ds_climiter ========================================================= */

typedef struct lim_thread {
    ds_climiter *l;
    pthread_t t;
    int n;
    uint64_t seed;
    int64_t *at;      /* completion times */
    uint64_t *units;  /* units of each acquire */
    int64_t timeout;  /* >= 0: acquire_timeout */
    ds_status st;
    int bad;
} lim_thread;

static void *lim_main(void *arg) {
    lim_thread *t = (lim_thread *)arg;
    ds_rng r;
    int i;
    ds_rng_seed(&r, t->seed);
    for (i = 0; i < t->n; i++) {
        uint64_t u = 1 + ds_rng_below(&r, 3);
        ds_status s = t->timeout >= 0 ? ds_climiter_acquire_timeout(t->l, u, t->timeout)
                                      : ds_climiter_acquire(t->l, u);
        t->st = s;
        if (s != DS_OK) {
            t->bad = 1;
            return NULL;
        }
        t->at[i] = ds_now_ns();  /* after acquire returned: no earlier than the admission */
        t->units[i] = u;
    }
    return NULL;
}

typedef struct stamp {
    int64_t at;
    uint64_t units;
} stamp;
static int stamp_cmp(const void *a, const void *b) {
    int64_t x = ((const stamp *)a)->at, y = ((const stamp *)b)->at;
    return (x > y) - (x < y);
}

/* Real threads, real time: the units admitted by time t never exceed
 * burst + rate x (t - t0) (plus one unit of rounding: ds_limiter is exact
 * to within one unit). Each acquire is timed by its thread when it returns,
 * i.e. after the admission (which happened under the limiter's lock, at a
 * clock reading the test cannot see). So the units counted by a stamp's
 * time were all admitted by then, and a failure is a real violation; but
 * an early admission is missed when its stamp comes late enough to cover
 * it: the check is blind to violations smaller than the gap between
 * admission and stamp (an unlock and a clock read, microseconds against
 * 0.5 ms per unit here, unless the thread is preempted in between).
 * Throughput gets a loose bound the other way (liveness). */
void test_conc_wrap_limiter_contract(void) {
    enum { NT = 6, PER = 20 };
    ds_climiter l;
    ds_limit_config cfg;
    lim_thread th[NT];
    static int64_t at[NT][PER];
    static uint64_t units[NT][PER];
    static stamp all[NT * PER];
    int algo, i, j;
    for (algo = 0; algo < 3; algo++) {
        const ds_limit_algo algos[3] = {DS_LIMIT_TOKEN_BUCKET, DS_LIMIT_GCRA, DS_LIMIT_LEAKY_METER};
        uint64_t total = 0, cum = 0, rate = 2000, burst = 10;
        int64_t t0, t1;
        memset(&cfg, 0, sizeof cfg);
        cfg.algo = algos[algo];
        cfg.limit = rate;
        cfg.period_ns = SEC;
        cfg.burst = burst;
        CHECK(ds_climiter_init(&l, &cfg, NULL) == DS_OK);
        t0 = ds_now_ns();
        for (i = 0; i < NT; i++) {
            memset(&th[i], 0, sizeof th[i]);
            th[i].l = &l;
            th[i].n = PER;
            th[i].seed = 31 * (uint64_t)algo + (uint64_t)i;
            th[i].at = at[i];
            th[i].units = units[i];
            th[i].timeout = i % 2 ? 10 * SEC : -1;
            CHECK(pthread_create(&th[i].t, NULL, lim_main, &th[i]) == 0);
        }
        for (i = 0; i < NT; i++) pthread_join(th[i].t, NULL);
        t1 = ds_now_ns();
        for (i = 0; i < NT; i++) CHECKF(!th[i].bad, "thread %d: %s", i, ds_status_name(th[i].st));
        for (i = 0; i < NT; i++)
            for (j = 0; j < PER; j++) {
                all[i * PER + j].at = at[i][j];
                all[i * PER + j].units = units[i][j];
                total += units[i][j];
            }
        qsort(all, NT * PER, sizeof all[0], stamp_cmp);
        for (i = 0; i < NT * PER; i++) {
            /* cum units admitted by all[i].at: cum <= burst + rate (at - t0) + 1 */
            int64_t need;
            cum += all[i].units;
            need = cum > burst + 1 ? (int64_t)((cum - burst - 1) * (uint64_t)SEC / rate) : 0;
            CHECKF(all[i].at - t0 >= need, "%s: %llu units by %.3f ms, the contract allows them from %.3f ms",
                   ds_limit_algo_name(cfg.algo), (unsigned long long)cum, (double)(all[i].at - t0) / 1e6,
                   (double)need / 1e6);
        }
        /* liveness: not far slower than the rate (sleeps are the deficit);
         * loose, so a loaded 2-core machine cannot fail it, yet a lost
         * wake-up of an unbounded sleep or a polling bug of seconds would */
        CHECKF(t1 - t0 <= (int64_t)((total - burst) * (uint64_t)SEC / rate) * 4 + 3 * SEC,
               "%s: %llu units took %.1f ms", ds_limit_algo_name(cfg.algo), (unsigned long long)total,
               (double)(t1 - t0) / 1e6);
        ds_climiter_free(&l);
    }
}

typedef struct acq_arg {
    ds_climiter *l;
    uint64_t n;
    ds_status st;
    atomic_int done;
} acq_arg;
static void *acq_main(void *p) {
    acq_arg *a = (acq_arg *)p;
    a->st = ds_climiter_acquire(a->l, a->n);
    atomic_store(&a->done, 1);
    return NULL;
}

void test_conc_wrap_limiter_edges(void) {
    ds_climiter l;
    ds_limit_config cfg;
    prop_alloc pa;
    acq_arg a[4];
    pthread_t t[4];
    int64_t retry = -7, t0, el;
    int i;
    memset(&cfg, 0, sizeof cfg);
    cfg.algo = DS_LIMIT_TOKEN_BUCKET;
    cfg.limit = 100;
    cfg.period_ns = SEC;
    cfg.burst = 2;
    /* bad input */
    CHECK(ds_climiter_init(NULL, &cfg, NULL) == DS_EINVAL && ds_climiter_init(&l, NULL, NULL) == DS_EINVAL);
    cfg.algo = DS_LIMIT_LEAKY_SHAPER;
    CHECK(ds_climiter_init(&l, &cfg, NULL) == DS_EINVAL);
    cfg.algo = DS_LIMIT_TOKEN_BUCKET;
    cfg.limit = 0;
    CHECK(ds_climiter_init(&l, &cfg, NULL) == DS_EINVAL);
    cfg.limit = 100;
    CHECK(ds_climiter_acquire(NULL, 1) == DS_EINVAL && ds_climiter_acquire_timeout(NULL, 1, 5) == DS_EINVAL);
    CHECK(ds_climiter_try_acquire(NULL, 1, &retry) == DS_EINVAL && retry == 0);
    CHECK(ds_climiter_set(NULL, 1, 1, 1) == DS_EINVAL && ds_climiter_remaining(NULL) == 0);
    CHECK(!ds_climiter_is_closed(NULL));
    ds_climiter_close(NULL);
    ds_climiter_free(NULL);
    CHECK(ds_climiter_init(&l, &cfg, NULL) == DS_OK);
    CHECK(ds_climiter_remaining(&l) == 2);
    CHECK(ds_climiter_acquire(&l, 3) == DS_EINVAL && ds_climiter_try_acquire(&l, 3, &retry) == DS_EINVAL);
    CHECK(ds_climiter_acquire(&l, 0) == DS_OK && ds_climiter_set(&l, 0, SEC, 1) == DS_EINVAL);
    /* the deficit: try_acquire reports it, acquire sleeps it (not less;
     * not more than the rate's whole period, 1 s, beyond it: a loose bound
     * that scheduling delays on a loaded machine cannot reach) */
    t0 = ds_now_ns(); /* before the bucket empties: 2 more units come 20 ms after */
    CHECK(ds_climiter_try_acquire(&l, 2, &retry) == DS_OK && retry == 0);
    CHECK(ds_climiter_try_acquire(&l, 1, &retry) == DS_EREFUSED && retry > 0 && retry <= SEC / 100);
    CHECK(ds_climiter_acquire(&l, 2) == DS_OK);
    el = ds_now_ns() - t0;
    CHECKF(el >= 2 * SEC / 100 && el < 2 * SEC / 100 + SEC, "acquire(2) came %.2f ms after", (double)el / 1e6);
    /* a deficit past the deadline: DS_ETIMEDOUT, nothing taken */
    CHECK(ds_climiter_acquire_timeout(&l, 2, 5 * MS) == DS_ETIMEDOUT);
    CHECK(ds_climiter_acquire_timeout(&l, 1, 0) == DS_ETIMEDOUT);
    CHECK(ds_climiter_acquire_timeout(&l, 1, 500 * MS) == DS_OK); /* fits: sleeps ~10 ms */
    ds_climiter_free(&l);
    /* sleepers woken by set (they recompute) and by close */
    cfg.limit = 1;
    cfg.period_ns = 100 * SEC;
    cfg.burst = 1;
    CHECK(ds_climiter_init(&l, &cfg, NULL) == DS_OK);
    CHECK(ds_climiter_acquire(&l, 1) == DS_OK); /* empty for 100 s now */
    t0 = ds_now_ns(); /* a 100 s deficit, a 5 s timeout: refused without sleeping it out */
    CHECK(ds_climiter_acquire_timeout(&l, 1, 5 * SEC) == DS_ETIMEDOUT);
    CHECKF(ds_now_ns() - t0 < 2500 * MS, "the refusal took %.1f ms", (double)(ds_now_ns() - t0) / 1e6);
    for (i = 0; i < 4; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].l = &l;
        a[i].n = 1;
        atomic_init(&a[i].done, 0);
        CHECK(pthread_create(&t[i], NULL, acq_main, &a[i]) == 0);
    }
    CHECK(wait_sleepers(&l.wake, 4));
    CHECK(ds_climiter_set(&l, 1000, SEC, 2) == DS_OK); /* each now waits 1 ms or less */
    {
        int64_t end = ds_now_ns() + 5 * SEC;
        int done = 0;
        while (done < 2 && ds_now_ns() < end) {
            done = 0;
            for (i = 0; i < 4; i++) done += atomic_load(&a[i].done);
            sched_yield();
        }
        CHECK(done >= 2);
    }
    CHECK(ds_climiter_set(&l, 1, 100 * SEC, 1) == DS_OK);
    sleep_ns(20 * MS);
    ds_climiter_close(&l);
    for (i = 0; i < 4; i++) pthread_join(t[i], NULL);
    {
        int ok = 0, closed = 0;
        for (i = 0; i < 4; i++) {
            ok += a[i].st == DS_OK;
            closed += a[i].st == DS_ECLOSED;
        }
        CHECKF(ok + closed == 4 && ok >= 2, "%d admitted, %d closed", ok, closed);
    }
    CHECK(ds_climiter_is_closed((const ds_climiter *)&l) && ds_climiter_acquire(&l, 0) == DS_ECLOSED);
    CHECK(ds_climiter_try_acquire(&l, 1, NULL) == DS_ECLOSED && ds_climiter_remaining(&l) == 0);
    CHECK(DS__ALOAD(&l.wake.waiters, acquire) == 0);
    ds_climiter_free(&l);
    /* a window algorithm, and allocation failure in the sliding log */
    prop_alloc_init(&pa);
    cfg.algo = DS_LIMIT_SLIDING_LOG;
    cfg.limit = 50;
    cfg.period_ns = SEC;
    cfg.burst = 0;
    CHECK(ds_climiter_init(&l, &cfg, &pa.a) == DS_OK);
    prop_alloc_fail_in(&pa, 1, 1);
    CHECK(ds_climiter_try_acquire(&l, 1, NULL) == DS_ENOMEM && ds_climiter_acquire(&l, 1) == DS_ENOMEM);
    prop_alloc_disarm(&pa);
    CHECK(ds_climiter_acquire(&l, 50) == DS_OK && ds_climiter_try_acquire(&l, 1, &retry) == DS_EREFUSED);
    CHECK(retry > 0 && retry <= SEC && ds_climiter_acquire(&l, 51) == DS_EINVAL);
    ds_climiter_free(&l);
    CHECK(pa.live_blocks == 0 && pa.size_errors == 0);
}

/* ==== ds_cbreaker ========================================================= */

typedef struct bk_thread {
    ds_cbreaker *b;
    pthread_t t;
    atomic_int *go;
    int64_t now;
    int calls, permits;
    int mode;         /* 0: allow race at `now`; 1: mixed real-time traffic */
    uint64_t seed;
    uint64_t allows, records;
    int bad;
} bk_thread;

static void *bk_main(void *arg) {
    bk_thread *t = (bk_thread *)arg;
    int i;
    while (!atomic_load(t->go)) sched_yield();
    if (t->mode == 0) {
        for (i = 0; i < t->calls; i++)
            if (ds_cbreaker_allow(t->b, t->now, NULL) == DS_OK) t->permits++;
        return NULL;
    }
    {
        ds_rng r;
        ds_rng_seed(&r, t->seed);
        for (i = 0; i < t->calls; i++) {
            int64_t now = ds_now_ns(), retry = -1;
            ds_status s = ds_cbreaker_allow(t->b, now, &retry);
            t->allows++;
            if (s == DS_OK) {
                unsigned o = (unsigned)ds_rng_below(&r, 10);
                ds_breaker_outcome out = o < 4 ? DS_BREAKER_FAILURE : o < 9 ? DS_BREAKER_SUCCESS : DS_BREAKER_IGNORED;
                if (ds_cbreaker_record(t->b, out, (int64_t)ds_rng_below(&r, 2000), ds_now_ns()) != DS_OK) t->bad = 1;
                t->records++;
            } else if (s != DS_EREFUSED || retry < 0) {
                t->bad = 1;
            }
            if (ds_rng_below(&r, 16) == 0) sched_yield();
        }
    }
    return NULL;
}

typedef struct rec_arg {
    ds_cbreaker *b;
    int fail;
    int64_t now;
    atomic_int *go;
    ds_status st;
} rec_arg;
static void *rec_main(void *p) {
    rec_arg *a = (rec_arg *)p;
    while (!atomic_load(a->go)) sched_yield();
    a->st = ds_cbreaker_record(a->b, a->fail ? DS_BREAKER_FAILURE : DS_BREAKER_SUCCESS, 10, a->now);
    return NULL;
}

/* Threads racing in HALF_OPEN: exactly P allows succeed, over many rounds;
 * the probes' outcomes, recorded from the threads, decide the next state. */
void test_conc_wrap_breaker_probes(void) {
    enum { NT = 8 };
    ds_cbreaker b;
    ds_breaker_config cfg;
    bk_thread th[NT];
    atomic_int go;
    ds_rng r;
    int round, i, rounds = 8 * WRAP_SCALE;
    int64_t now = 1000;
    ds_rng_seed(&r, 5150);
    for (round = 0; round < rounds; round++) {
        uint32_t P = 1 + (uint32_t)ds_rng_below(&r, 6);
        int permits = 0, fails = 0;
        ds_breaker_stats st;
        memset(&cfg, 0, sizeof cfg);
        cfg.half_open_calls = P;
        cfg.wait_open_ns = 500;
        CHECK(ds_cbreaker_init(&b, &cfg, NULL) == DS_OK);
        CHECK(ds_cbreaker_force(&b, DS_BREAKER_OPEN, now) == DS_OK);
        CHECK(ds_cbreaker_allow(&b, now + 499, NULL) == DS_EREFUSED);
        atomic_init(&go, 0);
        for (i = 0; i < NT; i++) {
            memset(&th[i], 0, sizeof th[i]);
            th[i].b = &b;
            th[i].go = &go;
            th[i].now = now + 500 + i; /* all at or after the half-open time */
            th[i].calls = 3;
            CHECK(pthread_create(&th[i].t, NULL, bk_main, &th[i]) == 0);
        }
        atomic_store(&go, 1);
        for (i = 0; i < NT; i++) pthread_join(th[i].t, NULL);
        for (i = 0; i < NT; i++) permits += th[i].permits;
        CHECKF(permits == (int)P, "round %d: %d probes admitted, P = %u", round, permits, P);
        CHECK(ds_cbreaker_current(&b) == DS_BREAKER_HALF_OPEN);
        ds_cbreaker_snapshot(&b, now + 600, &st);
        CHECK(st.probes_out == P && st.permitted == P && st.rejected == (uint64_t)(NT * 3) - P + 1);
        /* the probes' outcomes, recorded concurrently from P threads */
        {
            pthread_t rt[NT];
            rec_arg ra[NT];
            for (i = 0; i < (int)P; i++) {
                ra[i].b = &b;
                ra[i].fail = ds_rng_below(&r, 3) == 0;
                ra[i].now = now + 700 + i;
                ra[i].go = &go;
                fails += ra[i].fail;
            }
            atomic_store(&go, 0);
            for (i = 0; i < (int)P; i++) CHECK(pthread_create(&rt[i], NULL, rec_main, &ra[i]) == 0);
            atomic_store(&go, 1);
            for (i = 0; i < (int)P; i++) pthread_join(rt[i], NULL);
            for (i = 0; i < (int)P; i++) CHECK(ra[i].st == DS_OK);
        }
        /* failure_rate 50 (default): OPEN when fails * 100 >= 50 * P */
        CHECKF(ds_cbreaker_current(&b) == (fails * 2 >= (int)P ? DS_BREAKER_OPEN : DS_BREAKER_CLOSED),
               "round %d: P %u, %d failed, state %s", round, P, fails,
               ds_breaker_state_name(ds_cbreaker_current(&b)));
        ds_cbreaker_free(&b);
        now += 10000;
    }
}

/* Mixed real-time traffic from many threads: the counters add up, nothing
 * is lost; bad input; allocation failure at init. */
void test_conc_wrap_breaker_mix(void) {
    enum { NT = 6 };
    ds_cbreaker b;
    ds_breaker_config cfg;
    bk_thread th[NT];
    atomic_int go;
    ds_breaker_stats st;
    prop_alloc pa;
    uint64_t allows = 0, records = 0;
    int i, w;
    int64_t retry = 5;
    for (w = 0; w < 2; w++) {
        memset(&cfg, 0, sizeof cfg);
        cfg.window = w ? DS_BREAKER_TIME_BASED : DS_BREAKER_COUNT_BASED;
        cfg.window_size = w ? 5 : 20;
        cfg.bucket_ns = 2 * MS;
        cfg.min_calls = 10;
        cfg.failure_rate = 35;
        cfg.slow_call_ns = 1500;
        cfg.wait_open_ns = 1 * MS;
        cfg.half_open_calls = 3;
        CHECK(ds_cbreaker_init(&b, &cfg, NULL) == DS_OK);
        atomic_init(&go, 0);
        allows = records = 0;
        for (i = 0; i < NT; i++) {
            memset(&th[i], 0, sizeof th[i]);
            th[i].b = &b;
            th[i].go = &go;
            th[i].mode = 1;
            th[i].calls = 1500 * WRAP_SCALE;
            th[i].seed = 61 + (uint64_t)i + 100 * (uint64_t)w;
            CHECK(pthread_create(&th[i].t, NULL, bk_main, &th[i]) == 0);
        }
        atomic_store(&go, 1);
        for (i = 0; i < NT; i++) pthread_join(th[i].t, NULL);
        for (i = 0; i < NT; i++) {
            CHECK(!th[i].bad);
            allows += th[i].allows;
            records += th[i].records;
        }
        ds_cbreaker_snapshot(&b, ds_now_ns(), &st);
        CHECK(st.permitted + st.rejected == allows && st.permitted == records);
        CHECK(st.successes + st.failures + st.ignored == records);
        CHECKF(st.transitions > 0, "no transition in %llu calls", (unsigned long long)allows);
        CHECK(ds_cbreaker_advance(&b, ds_now_ns()) == st.state || st.state == DS_BREAKER_OPEN);
        ds_cbreaker_reset(&b, ds_now_ns());
        CHECK(ds_cbreaker_current(&b) == DS_BREAKER_CLOSED);
        ds_cbreaker_free(&b);
    }
    /* bad input */
    CHECK(ds_cbreaker_init(NULL, NULL, NULL) == DS_EINVAL);
    memset(&cfg, 0, sizeof cfg);
    cfg.failure_rate = 150;
    CHECK(ds_cbreaker_init(&b, &cfg, NULL) == DS_EINVAL);
    CHECK(ds_cbreaker_allow(NULL, 0, &retry) == DS_EINVAL && retry == 0);
    CHECK(ds_cbreaker_record(NULL, DS_BREAKER_SUCCESS, 0, 0) == DS_EINVAL);
    CHECK(ds_cbreaker_force(NULL, DS_BREAKER_OPEN, 0) == DS_EINVAL);
    CHECK(ds_cbreaker_advance(NULL, 0) == DS_BREAKER_CLOSED && ds_cbreaker_current(NULL) == DS_BREAKER_CLOSED);
    st.permitted = 9;
    ds_cbreaker_snapshot(NULL, 0, &st);
    CHECK(st.permitted == 0);
    ds_cbreaker_reset(NULL, 0);
    ds_cbreaker_free(NULL);
    CHECK(ds_cbreaker_init(&b, NULL, NULL) == DS_OK);
    CHECK(ds_cbreaker_record(&b, (ds_breaker_outcome)7, 0, 0) == DS_EINVAL);
    CHECK(ds_cbreaker_record(&b, DS_BREAKER_SUCCESS, -1, 0) == DS_EINVAL);
    CHECK(ds_cbreaker_force(&b, (ds_breaker_state)9, 0) == DS_EINVAL);
    CHECK(ds_cbreaker_force(&b, DS_BREAKER_FORCED_OPEN, 0) == DS_OK);
    CHECK(ds_cbreaker_allow(&b, 5, &retry) == DS_EREFUSED && retry == INT64_MAX);
    ds_cbreaker_snapshot(&b, 5, NULL);
    ds_cbreaker_free(&b);
    /* allocation failure: the window's allocation at init */
    prop_alloc_init(&pa);
    prop_alloc_fail_in(&pa, 1, 0);
    CHECK(ds_cbreaker_init(&b, NULL, &pa.a) == DS_ENOMEM && pa.live_blocks == 0);
    CHECK(ds_cbreaker_init(&b, NULL, &pa.a) == DS_OK && pa.live_blocks == 1);
    ds_cbreaker_free(&b);
    CHECK(pa.live_blocks == 0 && pa.size_errors == 0);
}

/* A miss that starts after a del/clear of a key returned must not join a
 * load of that key which began before the invalidation (it would get the
 * pre-invalidation value): it starts its own load. The first load still
 * goes to its own callers, uncached. */
static atomic_int nj_version;
static ds_status nj_loader(void *lctx, uint64_t const *key, uint64_t *out, int64_t *ttl) {
    sf_ctx *x = (sf_ctx *)lctx;
    uint64_t v = (uint64_t)atomic_load(&nj_version); /* read the source */
    (void)ttl;
    atomic_fetch_add(&x->calls[*key & 255], 1);
    atomic_store(&x->entered, 1);
    if (atomic_load(&x->calls[*key & 255]) == 1) (void)wait_flag(&x->release); /* the first load waits */
    *out = v;
    return DS_OK;
}
static void *nj_main(void *p) {
    gl_arg *a = (gl_arg *)p;
    a->st = wcache_get_or_load(a->x->c, a->key, 0, nj_loader, a->x, &a->v);
    atomic_store(&a->done, 1);
    return NULL;
}
/* A loader that invalidates its own key, then asks for it again: DS_EDEADLK
 * (its own load is still running), never a nested load of the same key. */
static atomic_int self_depth, self_nested;
static ds_status self_inval_loader(void *lctx, uint64_t const *key, uint64_t *out, int64_t *ttl) {
    wcache *c = (wcache *)lctx;
    uint64_t v = 0;
    ds_status s = DS_OK;
    (void)ttl;
    if (atomic_fetch_add(&self_depth, 1) > 0) {
        atomic_store(&self_nested, 1);
    } else {
        if (*key == 40) (void)wcache_del(c, 40, NULL, 0);
        else wcache_clear(c);
        if (wcache_get_or_load(c, *key, 0, self_inval_loader, c, &v) != DS_EDEADLK) s = DS_EIO;
        if (wcache_get_or_load_timeout(c, *key, 0, self_inval_loader, c, &v, SEC) != DS_EDEADLK) s = DS_EIO;
    }
    atomic_fetch_sub(&self_depth, 1);
    *out = *key + 1;
    return s;
}
void test_conc_wrap_clru_no_join_after_invalidate(void) {
    static sf_ctx x;
    wcache c;
    gl_arg a, b;
    pthread_t ta, tb;
    uint64_t v = 0;
    int mode;
    CHECK(wcache_init(&c, NULL) == DS_OK);
    for (mode = 0; mode < 3; mode++) { /* del, clear, put */
        int64_t end;
        sf_ctx_init(&x, &c);
        atomic_store(&nj_version, 1);
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        a.x = b.x = &x;
        a.key = b.key = 9;
        atomic_init(&a.done, 0);
        atomic_init(&b.done, 0);
        CHECK(pthread_create(&ta, NULL, nj_main, &a) == 0);
        CHECK(wait_flag(&x.entered));
        atomic_store(&nj_version, 2); /* the source changes, then the cache is invalidated */
        if (mode == 0) CHECK(wcache_del(&c, 9, NULL, 0) == DS_ENOTFOUND);
        else if (mode == 1) wcache_clear(&c);
        else CHECK(wcache_put(&c, 9, 2, 0) == DS_OK && wcache_del(&c, 9, NULL, 0) == DS_OK);
        CHECK(pthread_create(&tb, NULL, nj_main, &b) == 0);
        /* b either loads itself (done at once: only the first load waits) or,
         * the bug, waits on a's load */
        end = ds_now_ns() + 5 * SEC;
        while (!atomic_load(&b.done) && DS__ALOAD(&c.loaded.waiters, acquire) == 0 && ds_now_ns() < end)
            sched_yield();
        atomic_store(&x.release, 1);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        CHECK(a.st == DS_OK && a.v == 1);
        CHECKF(b.st == DS_OK && b.v == 2, "mode %d: a miss after the invalidation got version %d", mode, (int)b.v);
        CHECK(atomic_load(&x.calls[9]) == 2);
        /* b's load is cached, a's (older) is not */
        CHECK(wcache_get(&c, 9, 0, &v) == DS_OK && v == 2);
        CHECK(c.flights == NULL && c.detached == NULL);
        wcache_clear(&c);
    }
    /* a loader that invalidates its own key and re-enters: DS_EDEADLK */
    atomic_init(&self_depth, 0);
    atomic_init(&self_nested, 0);
    CHECK(wcache_get_or_load(&c, 40, 0, self_inval_loader, &c, &v) == DS_OK && v == 41);
    CHECK(wcache_get_or_load(&c, 41, 0, self_inval_loader, &c, &v) == DS_OK && v == 42);
    CHECK(atomic_load(&self_nested) == 0);
    CHECK(wcache_len(&c) == 0 && c.flights == NULL && c.detached == NULL); /* both invalidated: nothing cached */
    wcache_free(&c);
}

/* The wrappers announce their sleeps under their mutex, which orders them
 * against the notify: no heavy fence (membarrier) is run while the lock is
 * held, and a notify is a plain load (asym). Shown with the fence's test
 * hook: were the fence run, failing, it would mark the queue degraded (in
 * builds without membarrier the hook does nothing: the results still hold). */
extern int ds_test_fence_fail; /* tests/main.c */
void test_conc_wrap_sleep_no_fence(void) {
    wstore s;
    ds_climiter l;
    ds_limit_config cfg;
    CHECK(wstore_init(&s) == DS_OK);
    memset(&cfg, 0, sizeof cfg);
    cfg.algo = DS_LIMIT_TOKEN_BUCKET;
    cfg.limit = 1000;
    cfg.period_ns = SEC;
    cfg.burst = 1;
    CHECK(ds_climiter_init(&l, &cfg, NULL) == DS_OK);
    CHECK(s.added.asym == 1 && l.wake.asym == 1);
    ds_test_fence_fail = 2;
    CHECK(wstore_wait_for_data_timeout(&s, 5 * MS) == DS_ETIMEDOUT); /* sleeps 5 ms */
    CHECK(ds_climiter_acquire(&l, 1) == DS_OK && ds_climiter_acquire(&l, 1) == DS_OK); /* sleeps ~1 ms */
    ds_test_fence_fail = 0;
    CHECK(DS__ALOAD(&s.added.degraded, relaxed) == 0 && DS__ALOAD(&l.wake.degraded, relaxed) == 0);
    CHECK(DS__ALOAD(&s.added.waiters, relaxed) == 0 && DS__ALOAD(&l.wake.waiters, relaxed) == 0);
    ds_climiter_free(&l);
    wstore_free(&s);
}
