/* src/conc_wrap.h - thread-safe wrappers of ds.h structures
 *
 * One module of ds_concurrent.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/conc_wrap.h"
 */
#ifndef DS_SRC_CONC_WRAP_H
#define DS_SRC_CONC_WRAP_H
#include "conc.h"
#include "cache.h"
#include "limit.h"
#include "breaker.h"
#include "filter.h"
#include "sketch.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds_conc:wrappers ==  thread-safe wrappers of ds.h structures
 * ========================================================================
 * Four ds.h structures behind one pthread mutex each, plus the blocking
 * calls a shared structure needs:
 *
 *   DS_CLRU(name, K, V, hash, eq)   DS_LRU with single-flight read-through
 *   DS_CTSTORE(name, V)             DS_TSTORE whose readers can wait for data
 *   ds_climiter                     ds_limiter whose acquire sleeps until admitted
 *   ds_cbreaker                     ds_breaker shared by many callers
 *
 * Each keeps the ds.h structure's config, semantics and errors, and adds
 * DS_ECLOSED / DS_ETIMEDOUT where it blocks. Values are copied
 * out under the lock: no pointer into shared storage escapes. One lock is
 * the right grain here: an operation costs less than handing the lock
 * between cores, so more cores are served by sharding (ds_conc:cmap), not
 * by finer locks. Sleepers use the eventcount above (futex, or condvar
 * with DS_CONC_NO_FUTEX): a waiter announces itself while it holds the
 * lock and the condition is false, then unlocks and sleeps; a waker
 * changes the state under the lock, unlocks, and notifies - no lost
 * wake-up, and no wake-up system call when nobody sleeps. The lock orders
 * announcement and notify, so the wrappers never need the rings' heavy
 * fence (their queues come from ds__waitq_init_locked: membarrier is
 * neither registered nor run, and a notify is one plain load). A wait
 * whose deadline has passed makes no system call.
 *
 * Common rules: every call but init/free may run from any number of
 * threads at once; free only after every other thread is done with it.
 * Callbacks from the ds.h configs (on_evict, weigher, on_state) run with
 * the lock held: they must not call into the same wrapper (it would
 * deadlock). Blocking calls come in pairs, name_x (waits without limit)
 * and name_x_timeout (relative ns, see TIMEOUTS; DS_ETIMEDOUT). */

/* Statistics of a DS_CLRU: the LRU's own plus the single-flight ones. */
typedef struct ds_clru_stats {
    ds_cache_stats cache; /* hits, misses (waiters included), loads, load_errors, evictions */
    uint64_t coalesced;   /* misses served by another caller's load (no loader call;
                             its result, value or error, reached them) */
    uint64_t uncached;    /* loads handed to their callers but not cached: a put, del
                             or clear of the key raced the load, or DS_ENOMEM */
    uint64_t timeouts;    /* get_or_load_timeout waits that gave up */
} ds_clru_stats;

/* Shared by the wrappers (implementation half). mutex_init: DS_ENOMEM if
 * pthread_mutex_init fails. sleep: called with mu held after the caller saw
 * its condition false; announces the sleep on w (without the heavy fence:
 * see ds__waitq_prepare_locked), unlocks, sleeps until a notify of w, a
 * spurious wake-up or the deadline (ds_now_ns(); INT64_MAX: none), locks
 * again. Returns nonzero once the deadline has passed (at once, without
 * unlocking, if it already had). */
DSDEF ds_status ds__conc_mutex_init(pthread_mutex_t *mu);
DSDEF int ds__conc_sleep(pthread_mutex_t *mu, ds__waitq *w, int64_t deadline);

/* -- DS_CLRU(name, K, V, hash, eq): locked LRU, single-flight loads -------
 * A DS_LRU (instantiated as name_lru: LRU or W-TinyLFU, TTLs, weights,
 * negative caching; see ds:cache) behind a mutex. get_or_load is
 * read-through with single flight, as Go's singleflight, Guava's
 * LoadingCache and Caffeine's get(key, loader): when many threads miss the
 * same key at once, the loader runs ONCE, in the first of them and without
 * the lock held (other keys are served meanwhile); the rest sleep until its
 * result comes and each gets a copy of it. Which gives:
 *   - hit: DS_OK and a copy of the value (or DS_ENOTFOUND for a cached
 *     negative entry, see negative_ttl);
 *   - miss, no load of the key running: this caller loads. It records the
 *     load (one small allocation, made before the lookup touches anything:
 *     DS_ENOMEM if it fails, and nothing else happens - no expired entry
 *     dropped, no miss counted), unlocks, calls load(lctx, &key, &v, &ttl)
 *     (ttl preset to default_ttl), locks again and caches the value with
 *     that ttl, then wakes the waiters. (W-TinyLFU keeps one spare record
 *     for a lookup whose hill-climbing step evicts the key; the call that
 *     first needs it allocates it, and may get DS_ENOMEM, with nothing
 *     changed, though the key was cached);
 *   - miss while another thread loads the key: waits for that load and
 *     returns what it returned: DS_OK and a copy of the value, or the
 *     loader's error. A failed load caches nothing (except DS_ENOTFOUND
 *     with negative_ttl > 0, cached as a negative entry as in DS_LRU) and
 *     the next miss loads again;
 *   - a put, del or clear of the key while it loads wins: the loaded value
 *     still goes to the callers of that load but is not cached, so an
 *     invalidation is never undone by a load that began before it; and a
 *     miss that starts after the put/del/clear returned does not join that
 *     older load (whose value may predate the invalidation): it loads anew;
 *   - if the loaded value cannot be cached (DS_ENOMEM), its callers still
 *     get it (DS_OK; stats.uncached counts it); a negative ttl from the
 *     loader is DS_EINVAL for all of them, whether or not an invalidation
 *     raced the load (the value goes to on_evict as DELETED); a deadline
 *     past INT64_MAX - 1 saturates there, as DS_LRU's put_ttl;
 *   - called from a loader for the key that loader is loading (same
 *     thread): DS_EDEADLK instead of waiting on itself. A loader may use the
 *     cache for other keys; loaders of different threads waiting on each
 *     other's keys in a cycle deadlock (as in every single-flight cache).
 * The loader runs in the caller's thread and must return (a loader that
 * never returns holds its waiters forever; use the _timeout form to bound
 * the wait). The TTL of a loaded entry runs from the `now` of the call
 * that loaded it. V is copied (out, to waiters): plain values, or handles
 * whose lifetime the owner manages (refcounts); on_evict sees the cache's
 * own copy only.
 *
 *   typedef name_lru_config name_config;       (DS_LRU's config)
 *   typedef name_lru_loader name_loader;
 *          ds_status (*)(void *lctx, K const *key, V *out, int64_t *ttl)
 *   ds_status name_init(name *c, const name_config *cfg)   NULL = unbounded
 *          LRU; DS_EINVAL as DS_LRU's init; DS_ENOMEM
 *   void      name_free(name *c)       removes everything (DELETED), frees
 *   void      name_clear(name *c)      removes everything (DELETED)
 *   ds_status name_get(name *c, K key, int64_t now, V *out)   copies the
 *          value to *out (may be NULL); DS_ENOTFOUND on a miss or a
 *          negative entry. Promotes, counts a hit/miss, drops it if expired
 *   ds_status name_put(name *c, K key, V val, int64_t now)
 *   ds_status name_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now)
 *   ds_status name_del(name *c, K key, V *out, int64_t now)   as DS_LRU (DS_ENOTFOUND)
 *   ds_status name_get_or_load(name *c, K key, int64_t now, name_loader load,
 *                              void *lctx, V *out)
 *   ds_status name_get_or_load_timeout(name *c, K key, int64_t now,
 *                              name_loader load, void *lctx, V *out, int64_t timeout_ns)
 *          as above; a caller waiting on another's load gives up after
 *          timeout_ns (DS_ETIMEDOUT; the load goes on and is cached). The
 *          loading caller is never timed out. DS_EINVAL: c or load NULL.
 *   ds_status name_set_capacity(name *c, size_t max_entries, uint64_t max_weight, int64_t now)
 *   size_t    name_expire(name *c, int64_t now, size_t budget)
 *   size_t    name_len(name *c)
 *   ds_clru_stats name_stats(name *c); void name_reset_stats(name *c)
 * Thread safety: every call but init/free from any thread at once. The
 * loader runs without the lock; on_evict and weigher run under it.
 * Complexity: as DS_LRU (O(1) expected) under one lock, plus O(loads in
 * flight) for a miss, and for put/del/clear while loads are in flight.
 * Memory: DS_LRU's, plus sizeof(K) + sizeof(V) + 40 bytes per load in
 * flight (and one spare such record with W-TinyLFU). */

#define DS__CLRU_TYPES(name, K, V)                                                \
    typedef name##_lru_config name##_config;                                      \
    typedef name##_lru_loader name##_loader;                                      \
    typedef struct name##__flight { /* one load in progress */                   \
        struct name##__flight *next;                                              \
        K key;                                                                    \
        V val;             /* the result, once done */                            \
        uint64_t h;        /* the key's hash */                                   \
        pthread_t owner;   /* the loading thread */                               \
        ds_status st;                                                             \
        uint32_t refs;     /* the loader + its waiters; the last one frees it */  \
        int done, stale;   /* stale: a put/del/clear of the key came meanwhile */ \
                           /* (and unlinked it from flights to detached) */     \
    } name##__flight;                                                             \
    typedef struct name {                                                         \
        pthread_mutex_t mu;                                                       \
        name##_lru lru;           /* under mu */                                  \
        name##__flight *flights;  /* under mu: the loads later misses join */     \
        name##__flight *detached; /* under mu: stale loads still running */      \
        name##__flight *spare;    /* under mu: W-TinyLFU: see __load_until */    \
        ds__waitq loaded;         /* notified when a load finishes */             \
        uint64_t coalesced, uncached, timeouts;                                   \
    } name

#define DS__CLRU_PROTOS(name, K, V, LINK)                                                  \
    LINK ds_status name##_init(name *c, const name##_config *cfg);                        \
    LINK void name##_free(name *c);                                                       \
    LINK void name##_clear(name *c);                                                      \
    LINK ds_status name##_get(name *c, K key, int64_t now, V *out);                       \
    LINK ds_status name##_put(name *c, K key, V val, int64_t now);                        \
    LINK ds_status name##_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now);       \
    LINK ds_status name##_del(name *c, K key, V *out, int64_t now);                       \
    LINK ds_status name##_get_or_load(name *c, K key, int64_t now, name##_loader load,    \
                                      void *lctx, V *out);                                \
    LINK ds_status name##_get_or_load_timeout(name *c, K key, int64_t now,                \
                                              name##_loader load, void *lctx, V *out,     \
                                              int64_t timeout_ns);                        \
    LINK ds_status name##_set_capacity(name *c, size_t max_entries, uint64_t max_weight,  \
                                       int64_t now);                                      \
    LINK size_t name##_expire(name *c, int64_t now, size_t budget);                       \
    LINK size_t name##_len(name *c);                                                      \
    LINK ds_clru_stats name##_stats(name *c);                                             \
    LINK void name##_reset_stats(name *c)

/* Uses DS_LRU's internal steps (name_lru__lookup, __touch, __insert, ...)
 * so a load is split around the unlocked loader call exactly as DS_LRU's
 * own get_or_load does it in one piece (same stats, same negative caching). */
#define DS__CLRU_IMPL(name, K, V, hash, eq, LINK)                                          \
    static inline uint64_t name##__hash(const name *c, K key) {                           \
        return hash(key, c->lru.c.index.seed);                                            \
    }                                                                                     \
    static inline name##__flight *name##__flight_of(const name *c, K key, uint64_t h) {   \
        name##__flight *f;                                                                \
        for (f = c->flights; f; f = f->next)                                              \
            if (f->h == h && (eq(f->key, key))) return f;                                 \
        return NULL;                                                                      \
    }                                                                                     \
    /* Whether the calling thread runs a load of key (a loader re-entering for   \
     * its own key), attached or detached. */                                     \
    static inline int name##__own_flight(const name *c, K key, uint64_t h) {             \
        const name##__flight *f;                                                          \
        int pass;                                                                         \
        for (pass = 0; pass < 2; pass++)                                                  \
            for (f = pass ? c->detached : c->flights; f; f = f->next)                     \
                if (f->h == h && pthread_equal(f->owner, pthread_self()) && (eq(f->key, key))) \
                    return 1;                                                             \
        return 0;                                                                         \
    }                                                                                     \
    /* Invalidation of the flight *pp: it is marked stale (its value will not   \
     * be cached) and moved to the detached list, so a miss that starts after   \
     * the put/del/clear starts a new load instead of joining this older one    \
     * (whose result would predate the invalidation). Its loader and the        \
     * callers that joined it before still get its result. */                   \
    static inline void name##__detach(name *c, name##__flight **pp) {                     \
        name##__flight *f = *pp;                                                          \
        *pp = f->next;                                                                    \
        f->stale = 1;                                                                     \
        f->next = c->detached;                                                            \
        c->detached = f;                                                                  \
    }                                                                                     \
    /* A put/del of key while it loads: that load must not be cached over it. */         \
    static inline void name##__invalidate(name *c, K key) {                               \
        name##__flight **pp;                                                              \
        uint64_t h;                                                                       \
        if (!c->flights) return;                                                          \
        h = name##__hash(c, key);                                                         \
        for (pp = &c->flights; *pp; pp = &(*pp)->next)                                    \
            if ((*pp)->h == h && (eq((*pp)->key, key))) {                                 \
                name##__detach(c, pp);                                                    \
                return;                                                                   \
            }                                                                             \
    }                                                                                     \
    static inline void name##__unref(name *c, name##__flight *f) {                        \
        if (--f->refs == 0) DS_FREE(c->lru.cfg.alloc, f, sizeof *f);                      \
    }                                                                                     \
    /* DS_LRU's lookup step: 1 hit (copied to out), -1 negative entry, 0 miss. */        \
    static inline int name##__look(name##_lru *l, K key, int64_t now, V *out) {           \
        uint32_t id;                                                                      \
        int neg;                                                                          \
        name##_lru__climb(l, now);                                                        \
        id = name##_lru__lookup(l, key, now, NULL);                                       \
        if (id == DS__CNIL) {                                                             \
            l->c.stats.misses++;                                                          \
            l->climb_misses++;                                                            \
            return 0;                                                                     \
        }                                                                                 \
        l->c.stats.hits++;                                                                \
        l->climb_hits++;                                                                  \
        name##_lru__touch(l, id, now);                                                    \
        neg = (ds__cl(&l->c, id)->flags & DS__CF_NEG) != 0;                               \
        if (!neg && out) *out = *name##_lru__v(l, id);                                    \
        name##_lru__maintain(l, now);                                                     \
        return neg ? -1 : 1;                                                              \
    }                                                                                     \
    /* Whether name__look will miss, judged without changing anything: the key \
     * is absent or expired. 2: it is live, but the hill climber is due        \
     * (name_lru__climb's own test), which may resize the window and evict it. */ \
    static inline int name##__will_miss(const name##_lru *l, K key, uint64_t h, int64_t now) { \
        uint32_t id = name##_lru__find(l, key, h, NULL);                                  \
        if (id == DS__CNIL || ds__cache_dead(&l->c, id, now)) return 1;                   \
        return l->cfg.policy == DS_CACHE_WTINYLFU &&                                      \
                       l->climb_hits + l->climb_misses >= 10 * name##_lru__base(l)        \
                   ? 2                                                                    \
                   : 0;                                                                   \
    }                                                                                     \
    /* Store a finished load (under the lock); returns the callers' status. */           \
    static inline ds_status name##__store(name *c, name##__flight *f, ds_status st,      \
                                          V *v, int64_t ttl, int64_t now) {               \
        name##_lru *l = &c->lru;                                                          \
        ds_status put;                                                                    \
        if (st != DS_OK) {                                                                \
            l->c.stats.load_errors++;                                                     \
            if (st == DS_ENOTFOUND && l->cfg.negative_ttl > 0 && !f->stale) {             \
                V z;                                                                      \
                memset(&z, 0, sizeof z);                                                  \
                (void)name##_lru__insert(l, f->key, z, l->cfg.negative_ttl, now, DS__CF_NEG); \
            }                                                                             \
            return st;                                                                    \
        }                                                                                 \
        l->c.stats.loads++;                                                               \
        /* The loader's ttl, checked as name_lru__insert does, before the stale  \
         * test: a bad one is DS_EINVAL whether or not a put/del raced the load. */ \
        if (ttl < 0) put = DS_EINVAL; /* a deadline past INT64_MAX - 1 saturates */     \
        else if (f->stale) put = DS_OK;                                                   \
        else put = name##_lru__insert(l, f->key, *v, ttl, now, 0);                        \
        if (put == DS_EINVAL) {                                                           \
            if (l->cfg.on_evict) l->cfg.on_evict(l->cfg.ctx, &f->key, v, DS_EVICT_DELETED); \
            return DS_EINVAL;                                                             \
        }                                                                                 \
        if (f->stale) {                                                                   \
            c->uncached++;                                                                \
            return DS_OK;                                                                 \
        }                                                                                 \
        if (put != DS_OK) c->uncached++;                                                  \
        return DS_OK;                                                                     \
    }                                                                                     \
    static inline ds_status name##__load_until(name *c, K key, int64_t now,               \
                                               name##_loader load, void *lctx, V *out,    \
                                               int64_t deadline) {                        \
        name##__flight *f, *nf = NULL, **pp;                                              \
        ds_status st;                                                                     \
        uint64_t h;                                                                       \
        int64_t ttl;                                                                      \
        int r, own, miss = 0;                                                             \
        V v;                                                                              \
        if (DS__UNLIKELY(!c || !load)) return DS_EINVAL;                                  \
        pthread_mutex_lock(&c->mu);                                                       \
        h = name##__hash(c, key);                                                         \
        f = name##__flight_of(c, key, h);                                                 \
        own = (f && pthread_equal(f->owner, pthread_self())) ||                           \
              (c->detached && name##__own_flight(c, key, h));                             \
        /* Strong guarantee: the lookup drops an expired entry (on_evict), counts \
         * a miss, feeds TinyLFU; so the record a new load needs is allocated     \
         * first when it will miss with no load to join. For the rare miss the    \
         * hill climber causes, a spare record is kept (allocated when first     \
         * due; DS_ENOMEM then, before any change). */                           \
        if (!f && !own) miss = name##__will_miss(&c->lru, key, h, now);                   \
        if (miss == 1 || (miss == 2 && !c->spare)) {                                      \
            nf = (name##__flight *)DS_MALLOC(c->lru.cfg.alloc, sizeof *nf);               \
            if (!nf) {                                                                    \
                pthread_mutex_unlock(&c->mu);                                             \
                return DS_ENOMEM;                                                         \
            }                                                                             \
            if (miss == 2) {                                                              \
                c->spare = nf;                                                            \
                nf = NULL;                                                                \
            }                                                                             \
        }                                                                                 \
        r = name##__look(&c->lru, key, now, out);                                         \
        if (r != 0 || own) {                                                              \
            if (nf) DS_FREE(c->lru.cfg.alloc, nf, sizeof *nf); /* a hit after all */     \
            pthread_mutex_unlock(&c->mu);                                                 \
            /* a hit; else its own load: it never waits on itself */                     \
            return r > 0 ? DS_OK : r < 0 ? DS_ENOTFOUND : DS_EDEADLK;                       \
        }                                                                                 \
        if (f) { /* someone is loading it: wait for that load */                         \
            f->refs++;                                                                    \
            while (!f->done) {                                                            \
                if (ds__conc_sleep(&c->mu, &c->loaded, deadline) && !f->done) {           \
                    c->timeouts++;                                                        \
                    f->refs--; /* the loader still holds its own reference */            \
                    pthread_mutex_unlock(&c->mu);                                         \
                    return DS_ETIMEDOUT;                                                  \
                }                                                                         \
            }                                                                             \
            c->coalesced++; /* served by that load (a timed-out wait was not) */        \
            st = f->st;                                                                   \
            if (st == DS_OK && out) *out = f->val;                                        \
            name##__unref(c, f);                                                          \
            pthread_mutex_unlock(&c->mu);                                                 \
            return st;                                                                    \
        }                                                                                 \
        if (nf) {                                                                         \
            f = nf;                                                                       \
        } else { /* the climber evicted it (will_miss said 2) */                        \
            f = c->spare;                                                                 \
            c->spare = NULL;                                                              \
            DS_ASSERT(f != NULL);                                                         \
        }                                                                                 \
        memset(f, 0, sizeof *f);                                                          \
        f->key = key;                                                                     \
        f->h = h;                                                                         \
        f->owner = pthread_self();                                                        \
        f->refs = 1;                                                                      \
        f->next = c->flights;                                                             \
        c->flights = f;                                                                   \
        ttl = c->lru.cfg.default_ttl;                                                     \
        pthread_mutex_unlock(&c->mu);                                                     \
        memset(&v, 0, sizeof v);                                                          \
        st = load(lctx, &key, &v, &ttl); /* unlocked: other keys go on */               \
        pthread_mutex_lock(&c->mu);                                                       \
        /* unlink it: from flights, or from detached if invalidated meanwhile */         \
        for (pp = f->stale ? &c->detached : &c->flights; *pp != f; pp = &(*pp)->next) {   \
        }                                                                                 \
        *pp = f->next;                                                                    \
        st = name##__store(c, f, st, &v, ttl, now);                                       \
        f->st = st;                                                                       \
        f->val = v;                                                                       \
        f->done = 1;                                                                      \
        if (st == DS_OK && out) *out = v;                                                 \
        name##__unref(c, f);                                                              \
        pthread_mutex_unlock(&c->mu);                                                     \
        ds__waitq_notify(&c->loaded, 1);                                                  \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_init(name *c, const name##_config *cfg) {                       \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        memset((void *)c, 0, sizeof *c); /* a failed init leaves a struct free accepts */ \
        if ((st = name##_lru_init(&c->lru, cfg)) != DS_OK) return st;                     \
        if ((st = ds__conc_mutex_init(&c->mu)) != DS_OK) {                                \
            name##_lru_free(&c->lru);                                                     \
            return st;                                                                    \
        }                                                                                 \
        if ((st = ds__waitq_init_locked(&c->loaded)) != DS_OK) {                                 \
            pthread_mutex_destroy(&c->mu);                                                \
            name##_lru_free(&c->lru);                                                     \
            return st;                                                                    \
        }                                                                                 \
        c->flights = c->detached = c->spare = NULL;                                       \
        c->coalesced = c->uncached = c->timeouts = 0;                                     \
        return DS_OK;                                                                     \
    }                                                                                     \
    LINK void name##_free(name *c) {                                                      \
        if (!c) return;                                                                   \
        if (c->spare) DS_FREE(c->lru.cfg.alloc, c->spare, sizeof *c->spare);              \
        name##_lru_free(&c->lru);                                                         \
        ds__waitq_destroy(&c->loaded);                                                    \
        pthread_mutex_destroy(&c->mu);                                                    \
    }                                                                                     \
    LINK void name##_clear(name *c) {                                                     \
        if (!c) return;                                                                   \
        pthread_mutex_lock(&c->mu);                                                       \
        while (c->flights) name##__detach(c, &c->flights);                                \
        name##_lru_clear(&c->lru);                                                        \
        pthread_mutex_unlock(&c->mu);                                                     \
    }                                                                                     \
    LINK ds_status name##_get(name *c, K key, int64_t now, V *out) {                      \
        V *p;                                                                             \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        p = name##_lru_get(&c->lru, key, now);                                            \
        if (p && out) *out = *p;                                                          \
        pthread_mutex_unlock(&c->mu);                                                     \
        return p ? DS_OK : DS_ENOTFOUND;                                                  \
    }                                                                                     \
    LINK ds_status name##_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now) {      \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        st = name##_lru_put_ttl(&c->lru, key, val, ttl, now);                             \
        if (st == DS_OK) name##__invalidate(c, key);                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_put(name *c, K key, V val, int64_t now) {                       \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        st = name##_lru_put(&c->lru, key, val, now);                                      \
        if (st == DS_OK) name##__invalidate(c, key);                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_del(name *c, K key, V *out, int64_t now) {                      \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        name##__invalidate(c, key); /* found or not: a load in flight may be older */    \
        st = name##_lru_del(&c->lru, key, out, now);                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_get_or_load(name *c, K key, int64_t now, name##_loader load,    \
                                      void *lctx, V *out) {                               \
        return name##__load_until(c, key, now, load, lctx, out, INT64_MAX);               \
    }                                                                                     \
    LINK ds_status name##_get_or_load_timeout(name *c, K key, int64_t now,                \
                                              name##_loader load, void *lctx, V *out,     \
                                              int64_t timeout_ns) {                       \
        return name##__load_until(c, key, now, load, lctx, out, ds__conc_deadline(timeout_ns)); \
    }                                                                                     \
    LINK ds_status name##_set_capacity(name *c, size_t max_entries, uint64_t max_weight,  \
                                       int64_t now) {                                     \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        st = name##_lru_set_capacity(&c->lru, max_entries, max_weight, now);              \
        pthread_mutex_unlock(&c->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK size_t name##_expire(name *c, int64_t now, size_t budget) {                      \
        size_t n;                                                                         \
        if (!c) return 0;                                                                 \
        pthread_mutex_lock(&c->mu);                                                       \
        n = name##_lru_expire(&c->lru, now, budget);                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK size_t name##_len(name *c) {                                                     \
        size_t n;                                                                         \
        if (!c) return 0;                                                                 \
        pthread_mutex_lock(&c->mu);                                                       \
        n = name##_lru_len(&c->lru);                                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK ds_clru_stats name##_stats(name *c) {                                            \
        ds_clru_stats s_;                                                                 \
        memset(&s_, 0, sizeof s_);                                                        \
        if (!c) return s_;                                                                \
        pthread_mutex_lock(&c->mu);                                                       \
        s_.cache = name##_lru_stats(&c->lru);                                             \
        s_.coalesced = c->coalesced;                                                      \
        s_.uncached = c->uncached;                                                        \
        s_.timeouts = c->timeouts;                                                        \
        pthread_mutex_unlock(&c->mu);                                                     \
        return s_;                                                                        \
    }                                                                                     \
    LINK void name##_reset_stats(name *c) {                                               \
        if (!c) return;                                                                   \
        pthread_mutex_lock(&c->mu);                                                       \
        name##_lru_reset_stats(&c->lru);                                                  \
        c->coalesced = c->uncached = c->timeouts = 0;                                     \
        pthread_mutex_unlock(&c->mu);                                                     \
    }

#define DS_CLRU_DECLARE(name, K, V)  \
    DS_LRU_DECLARE(name##_lru, K, V) \
    DS__CLRU_TYPES(name, K, V);      \
    DS__CLRU_PROTOS(name, K, V, extern);
#define DS_CLRU_DEFINE(name, K, V, hash, eq)   \
    DS_LRU_DEFINE(name##_lru, K, V, hash, eq) \
    DS__CLRU_IMPL(name, K, V, hash, eq, )
#define DS_CLRU(name, K, V, hash, eq)                 \
    DS_LRU(name##_lru, K, V, hash, eq)                \
    DS__CLRU_TYPES(name, K, V);                       \
    DS__CLRU_PROTOS(name, K, V, DS__LINK_STATIC);     \
    DS__CLRU_IMPL(name, K, V, hash, eq, DS__LINK_STATIC)

/* -- DS_CTSTORE(name, V): waitable time-indexed store -------------------
 * A DS_TSTORE (instantiated as name_ts) behind a mutex, with readers that
 * can wait for data: the seed's ThreadSafeTimeBasedStorage (a lock, a
 * condition, add notifying wait_for_data). Adds wake every waiter.
 * Closing ends the stream: adds get DS_ECLOSED, waits return DS_ECLOSED
 * once there is nothing left for them, reads go on working.
 *
 *   ds_status name_init(name *s), name_init_alloc(name *s, const ds_alloc *a)
 *          DS_EINVAL (NULL), DS_ENOMEM (pthread_mutex_init failed, or
 *          pthread_cond_init where sleeps use the condvar); allocates nothing
 *   void      name_free(name *s)
 *   void      name_close(name *s); int name_is_closed(const name *s) (lock-free)
 *   ds_status name_insert(name *s, int64_t ts, V v)        DS_EEXIST, DS_ENOMEM
 *          (store unchanged, nobody woken), DS_ECLOSED
 *   ds_status name_insert_unique(name *s, int64_t ts, V v, int64_t max_offset, int64_t *used)
 *   ds_status name_insert_batch(name *s, const int64_t *ts, const V *vals, size_t n, size_t *added)
 *          as DS_TSTORE's, then wake the waiters; DS_ECLOSED
 *   ds_status name_get(name *s, int64_t ts, V *out)     the value at ts
 *          (copied; out may be NULL); DS_ENOTFOUND
 *   ds_status name_del(name *s, int64_t ts, V *out)  DS_ENOTFOUND
 *   size_t    name_range(name *s, int64_t start, int64_t end, int64_t *ts_out,
 *                        V *vals_out, size_t cap)
 *   size_t    name_duration(name *s, int64_t d, int64_t now, int64_t *ts_out,
 *                           V *vals_out, size_t cap)
 *          as DS_TSTORE's (copies the first cap; returns how many in all),
 *          one consistent snapshot
 *   ds_status name_earliest(name *s, int64_t *ts, V *out), name_latest(...)
 *   ds_status name_pop_earliest(name *s, int64_t *ts, V *out)     DS_EEMPTY
 *   size_t    name_expire_before(name *s, int64_t cutoff)
 *   size_t    name_len(name *s); void name_clear(name *s)
 *   uint64_t  name_adds(name *s)   entries added since init (a version)
 *   ds_status name_wait_for_data(name *s)
 *   ds_status name_wait_for_data_timeout(name *s, int64_t timeout_ns)
 *          DS_OK as soon as the store is non-empty (at once if it is);
 *          DS_ECLOSED if closed and empty; DS_ETIMEDOUT
 *   ds_status name_wait_for_insert(name *s, uint64_t *seen)
 *   ds_status name_wait_for_insert_timeout(name *s, uint64_t *seen, int64_t timeout_ns)
 *          DS_OK once name_adds(s) > *seen, and *seen = name_adds(s): data
 *          added after the version the caller last saw (start with
 *          seen = name_adds(s); no add is missed between two calls);
 *          DS_ECLOSED if closed with nothing newer; DS_ETIMEDOUT; DS_EINVAL
 *          if seen is NULL
 *   ds_status name_wait_pop(name *s, int64_t *ts, V *out)
 *   ds_status name_wait_pop_timeout(name *s, int64_t *ts, V *out, int64_t timeout_ns)
 *          wait for data, then pop the earliest entry (both under one lock
 *          hold: each entry goes to exactly one popper); after close they
 *          drain the store, then DS_ECLOSED
 * Thread safety: every call but init/free from any thread at once.
 * Complexity: DS_TSTORE's under one lock; an add that wakes k sleepers
 * costs one wake-up system call (they then take the lock in turn). */

#define DS__CTSTORE_TYPES(name, V)                                 \
    typedef struct name {                                          \
        pthread_mutex_t mu;                                        \
        name##_ts s;        /* under mu */                         \
        ds__waitq added;    /* notified by add and close */        \
        uint64_t adds;      /* under mu */                         \
        DS__ATOMIC(int) closed; /* set under mu */                 \
    } name

#define DS__CTSTORE_PROTOS(name, V, LINK)                                                  \
    LINK ds_status name##_init(name *s);                                                  \
    LINK ds_status name##_init_alloc(name *s, const ds_alloc *a);                         \
    LINK void name##_free(name *s);                                                       \
    LINK void name##_close(name *s);                                                      \
    LINK int name##_is_closed(const name *s);                                             \
    LINK ds_status name##_insert(name *s, int64_t ts, V v);                                  \
    LINK ds_status name##_insert_unique(name *s, int64_t ts, V v, int64_t max_offset,        \
                                     int64_t *used);                                      \
    LINK ds_status name##_insert_batch(name *s, const int64_t *ts, const V *vals, size_t n,  \
                                    size_t *added);                                       \
    LINK ds_status name##_get(name *s, int64_t ts, V *out);                               \
    LINK ds_status name##_del(name *s, int64_t ts, V *out);                            \
    LINK size_t name##_range(name *s, int64_t start, int64_t end, int64_t *ts_out,        \
                             V *vals_out, size_t cap);                                    \
    LINK size_t name##_duration(name *s, int64_t d, int64_t now, int64_t *ts_out,         \
                                V *vals_out, size_t cap);                                 \
    LINK ds_status name##_earliest(name *s, int64_t *ts, V *out);                         \
    LINK ds_status name##_latest(name *s, int64_t *ts, V *out);                           \
    LINK ds_status name##_pop_earliest(name *s, int64_t *ts, V *out);                     \
    LINK size_t name##_expire_before(name *s, int64_t cutoff);                            \
    LINK size_t name##_len(name *s);                                                      \
    LINK void name##_clear(name *s);                                                      \
    LINK uint64_t name##_adds(name *s);                                                   \
    LINK ds_status name##_wait_for_data(name *s);                                         \
    LINK ds_status name##_wait_for_data_timeout(name *s, int64_t timeout_ns);             \
    LINK ds_status name##_wait_for_insert(name *s, uint64_t *seen);                          \
    LINK ds_status name##_wait_for_insert_timeout(name *s, uint64_t *seen, int64_t timeout_ns); \
    LINK ds_status name##_wait_pop(name *s, int64_t *ts, V *out);                         \
    LINK ds_status name##_wait_pop_timeout(name *s, int64_t *ts, V *out, int64_t timeout_ns)

#define DS__CTSTORE_IMPL(name, V, LINK)                                                    \
    /* closed is only set under mu: readers holding mu need no ordering. */           \
    static inline int name##__closed(const name *s) { return DS__ALOAD(&s->closed, relaxed); } \
    LINK ds_status name##_init_alloc(name *s, const ds_alloc *a) {                        \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        if ((st = ds__conc_mutex_init(&s->mu)) != DS_OK) return st;                       \
        if ((st = ds__waitq_init_locked(&s->added)) != DS_OK) {                                  \
            pthread_mutex_destroy(&s->mu);                                                \
            return st;                                                                    \
        }                                                                                 \
        name##_ts_init_alloc(&s->s, a);                                                   \
        s->adds = 0;                                                                      \
        DS__AINIT(&s->closed, 0);                                                         \
        return DS_OK;                                                                     \
    }                                                                                     \
    LINK ds_status name##_init(name *s) { return name##_init_alloc(s, NULL); }            \
    LINK void name##_free(name *s) {                                                      \
        if (!s) return;                                                                   \
        name##_ts_free(&s->s);                                                            \
        ds__waitq_destroy(&s->added);                                                     \
        pthread_mutex_destroy(&s->mu);                                                    \
    }                                                                                     \
    LINK void name##_close(name *s) {                                                     \
        if (!s) return;                                                                   \
        pthread_mutex_lock(&s->mu);                                                       \
        DS__ASTORE(&s->closed, 1, release);                                               \
        pthread_mutex_unlock(&s->mu);                                                     \
        ds__waitq_notify(&s->added, 1);                                                   \
    }                                                                                     \
    LINK int name##_is_closed(const name *s) {                                            \
        return s ? DS__ALOAD(&s->closed, acquire) : 0;                                    \
    }                                                                                     \
    /* The three adds: under the lock unless closed; wake everyone on news. */           \
    LINK ds_status name##_insert(name *s, int64_t ts, V v) {                                 \
        ds_status st = DS_ECLOSED;                                                        \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        if (!name##__closed(s) && (st = name##_ts_insert(&s->s, ts, v)) == DS_OK) s->adds++;         \
        pthread_mutex_unlock(&s->mu);                                                     \
        if (st == DS_OK) ds__waitq_notify(&s->added, 1);                                  \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_insert_unique(name *s, int64_t ts, V v, int64_t max_offset,        \
                                     int64_t *used) {                                     \
        ds_status st = DS_ECLOSED;                                                        \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        if (!name##__closed(s) && (st = name##_ts_insert_unique(&s->s, ts, v, max_offset, used)) == DS_OK) \
            s->adds++;                                                                    \
        pthread_mutex_unlock(&s->mu);                                                     \
        if (st == DS_OK) ds__waitq_notify(&s->added, 1);                                  \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_insert_batch(name *s, const int64_t *ts, const V *vals, size_t n,  \
                                    size_t *added) {                                      \
        ds_status st = DS_ECLOSED;                                                        \
        size_t k = 0;                                                                     \
        if (added) *added = 0;                                                            \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        if (!name##__closed(s)) {                                                         \
            st = name##_ts_insert_batch(&s->s, ts, vals, n, &k);                             \
            s->adds += k;                                                                 \
        }                                                                                 \
        pthread_mutex_unlock(&s->mu);                                                     \
        if (k) ds__waitq_notify(&s->added, 1);                                            \
        if (added) *added = k;                                                            \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_get(name *s, int64_t ts, V *out) {                              \
        V *p;                                                                             \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        p = name##_ts_value_at(&s->s, ts);                                                \
        if (p && out) *out = *p;                                                          \
        pthread_mutex_unlock(&s->mu);                                                     \
        return p ? DS_OK : DS_ENOTFOUND;                                                  \
    }                                                                                     \
    LINK ds_status name##_del(name *s, int64_t ts, V *out) {                           \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = name##_ts_del(&s->s, ts, out);                                            \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK size_t name##_range(name *s, int64_t start, int64_t end, int64_t *ts_out,        \
                             V *vals_out, size_t cap) {                                   \
        size_t n;                                                                         \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = name##_ts_range(&s->s, start, end, ts_out, vals_out, cap);                    \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK size_t name##_duration(name *s, int64_t d, int64_t now, int64_t *ts_out,         \
                                V *vals_out, size_t cap) {                                \
        size_t n;                                                                         \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = name##_ts_duration(&s->s, d, now, ts_out, vals_out, cap);                     \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    static inline ds_status name##__end(name *s, int last, int64_t *ts, V *out) {        \
        ds_status st;                                                                     \
        V *p = NULL;                                                                      \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = last ? name##_ts_latest(&s->s, ts, &p) : name##_ts_earliest(&s->s, ts, &p);  \
        if (st == DS_OK && out) *out = *p;                                                \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_earliest(name *s, int64_t *ts, V *out) { return name##__end(s, 0, ts, out); } \
    LINK ds_status name##_latest(name *s, int64_t *ts, V *out) { return name##__end(s, 1, ts, out); } \
    LINK ds_status name##_pop_earliest(name *s, int64_t *ts, V *out) {                    \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = name##_ts_pop_earliest(&s->s, ts, out);                                      \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK size_t name##_expire_before(name *s, int64_t cutoff) {                           \
        size_t n;                                                                         \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = name##_ts_expire_before(&s->s, cutoff);                                       \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK size_t name##_len(name *s) {                                                     \
        size_t n;                                                                         \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = name##_ts_len(&s->s);                                                         \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK void name##_clear(name *s) {                                                     \
        if (!s) return;                                                                   \
        pthread_mutex_lock(&s->mu);                                                       \
        name##_ts_clear(&s->s);                                                           \
        pthread_mutex_unlock(&s->mu);                                                     \
    }                                                                                     \
    LINK uint64_t name##_adds(name *s) {                                                  \
        uint64_t n;                                                                       \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = s->adds;                                                                      \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    /* Under the lock: sleep until non-empty (DS_OK), closed and empty, or   \
     * the deadline. The caller unlocks. */                                               \
    static inline ds_status name##__await_data(name *s, int64_t deadline) {               \
        while (name##_ts_len(&s->s) == 0) {                                               \
            if (name##__closed(s)) return DS_ECLOSED;                                     \
            if (ds__conc_sleep(&s->mu, &s->added, deadline) && name##_ts_len(&s->s) == 0) \
                return name##__closed(s) ? DS_ECLOSED : DS_ETIMEDOUT;                     \
        }                                                                                 \
        return DS_OK;                                                                     \
    }                                                                                     \
    static inline ds_status name##__wait_data_until(name *s, int64_t deadline) {          \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = name##__await_data(s, deadline);                                             \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_wait_for_data(name *s) { return name##__wait_data_until(s, INT64_MAX); } \
    LINK ds_status name##_wait_for_data_timeout(name *s, int64_t timeout_ns) {            \
        return name##__wait_data_until(s, ds__conc_deadline(timeout_ns));                 \
    }                                                                                     \
    static inline ds_status name##__wait_add_until(name *s, uint64_t *seen, int64_t deadline) { \
        ds_status st = DS_OK;                                                             \
        if (!s || !seen) return DS_EINVAL;                                                \
        pthread_mutex_lock(&s->mu);                                                       \
        while (s->adds <= *seen) {                                                        \
            if (name##__closed(s)) {                                                      \
                st = DS_ECLOSED;                                                          \
                break;                                                                    \
            }                                                                             \
            if (ds__conc_sleep(&s->mu, &s->added, deadline) && s->adds <= *seen) {        \
                st = name##__closed(s) ? DS_ECLOSED : DS_ETIMEDOUT;                       \
                break;                                                                    \
            }                                                                             \
        }                                                                                 \
        if (st == DS_OK) *seen = s->adds;                                                 \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_wait_for_insert(name *s, uint64_t *seen) {                         \
        return name##__wait_add_until(s, seen, INT64_MAX);                                \
    }                                                                                     \
    LINK ds_status name##_wait_for_insert_timeout(name *s, uint64_t *seen, int64_t timeout_ns) { \
        return name##__wait_add_until(s, seen, ds__conc_deadline(timeout_ns));            \
    }                                                                                     \
    static inline ds_status name##__wait_pop_until(name *s, int64_t *ts, V *out,          \
                                                   int64_t deadline) {                    \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = name##__await_data(s, deadline);                                             \
        if (st == DS_OK) st = name##_ts_pop_earliest(&s->s, ts, out);                     \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_wait_pop(name *s, int64_t *ts, V *out) {                        \
        return name##__wait_pop_until(s, ts, out, INT64_MAX);                             \
    }                                                                                     \
    LINK ds_status name##_wait_pop_timeout(name *s, int64_t *ts, V *out, int64_t timeout_ns) { \
        return name##__wait_pop_until(s, ts, out, ds__conc_deadline(timeout_ns));         \
    }

#define DS_CTSTORE_DECLARE(name, V)  \
    DS_TSTORE_DECLARE(name##_ts, V) \
    DS__CTSTORE_TYPES(name, V);      \
    DS__CTSTORE_PROTOS(name, V, extern);
#define DS_CTSTORE_DEFINE(name, V) \
    DS_TSTORE_DEFINE(name##_ts, V) \
    DS__CTSTORE_IMPL(name, V, )
#define DS_CTSTORE(name, V)                       \
    DS_TSTORE(name##_ts, V)                       \
    DS__CTSTORE_TYPES(name, V);                   \
    DS__CTSTORE_PROTOS(name, V, DS__LINK_STATIC); \
    DS__CTSTORE_IMPL(name, V, DS__LINK_STATIC)

/* -- ds_climiter: blocking rate limiter ----------------------------------
 * A ds_limiter (token bucket, leaky meter, GCRA, fixed/sliding windows;
 * see ds:limit) shared by many threads, whose acquire blocks until the
 * units are admitted: a blocking token bucket (Guava's RateLimiter.acquire,
 * but with ds_limiter's exact arithmetic and any of its algorithms). The
 * clock is ds_now_ns(), read under the lock (so the limiter sees time move
 * forward). A refused acquire sleeps for exactly the deficit the limiter
 * reports (ds_limiter_wait_ns: when n would be admitted if nothing else is
 * admitted meanwhile), then retries; sleepers that lose the race to
 * another thread compute their new deficit and sleep again. So the
 * limiter's contract holds across threads (token bucket: at most burst +
 * rate x t units in any interval of length t), and no thread polls. No
 * FIFO order among sleepers: a small request may pass a larger one.
 * DS_LIMIT_LEAKY_SHAPER is refused (DS_EINVAL): its admissions carry a
 * delay instead of a refusal; a token bucket with burst 1 and blocking
 * acquires gives the same evenly spaced output.
 *
 *   ds_status ds_climiter_init(ds_climiter *l, const ds_limit_config *cfg, const ds_alloc *a)
 *          DS_EINVAL (as ds_limiter_init, or the shaper); DS_ENOMEM
 *          (pthread_mutex_init failed, or pthread_cond_init where sleeps
 *          use the condvar). Allocates nothing; starts at rest (a full
 *          bucket).
 *   void      ds_climiter_free(ds_climiter *l)
 *   ds_status ds_climiter_acquire(ds_climiter *l, uint64_t n)
 *          sleeps until n units are admitted: DS_OK; DS_ECLOSED (closed
 *          before or while waiting: nothing taken); DS_EINVAL if n can
 *          never be admitted (more than burst, or limit for the windows,
 *          or due only past INT64_MAX on ds_now_ns's clock: the limiter's
 *          wait_ns of -1; also for the _timeout and try forms);
 *          DS_ENOMEM (sliding log). n = 0: DS_OK at once.
 *   ds_status ds_climiter_acquire_timeout(ds_climiter *l, uint64_t n, int64_t timeout_ns)
 *          as acquire; DS_ETIMEDOUT - at once, without sleeping, when the
 *          deficit already reaches past the deadline (Guava's tryAcquire
 *          with a timeout), else when the deadline passes
 *   ds_status ds_climiter_try_acquire(ds_climiter *l, uint64_t n, int64_t *retry_after_ns)
 *          never sleeps: DS_OK, or DS_EREFUSED with *retry_after_ns (may be
 *          NULL) the deficit now; DS_EINVAL/DS_ECLOSED as acquire
 *   ds_status ds_climiter_set(ds_climiter *l, uint64_t limit, int64_t period_ns, uint64_t burst)
 *          new rate (ds_limiter_set: admitted units stay counted); wakes
 *          the sleepers to recompute their deficits. DS_EINVAL
 *   uint64_t  ds_climiter_remaining(ds_climiter *l)   units admissible now
 *          (0 once closed)
 *   void      ds_climiter_close(ds_climiter *l)      wakes every sleeper
 *          (DS_ECLOSED); later acquires get DS_ECLOSED
 *   int       ds_climiter_is_closed(const ds_climiter *l)   lock-free
 * Thread safety: every call but init/free from any thread at once.
 * Complexity: O(1) a decision (sliding log: as ds_limiter) under one lock;
 * a sleeper wakes once per deficit it computed (plus once per set/close).
 */
typedef struct ds_climiter {
    pthread_mutex_t mu;
    ds_limiter l;      /* under mu */
    ds__waitq wake;    /* sleepers wait on it with their deficit as deadline;
                          set and close notify it */
    DS__ATOMIC(int) closed; /* set under mu; is_closed reads it */
} ds_climiter;

DSDEF ds_status ds_climiter_init(ds_climiter *l, const ds_limit_config *cfg, const ds_alloc *a);
DSDEF void ds_climiter_free(ds_climiter *l);
DSDEF ds_status ds_climiter_acquire(ds_climiter *l, uint64_t n);
DSDEF ds_status ds_climiter_acquire_timeout(ds_climiter *l, uint64_t n, int64_t timeout_ns);
DSDEF ds_status ds_climiter_try_acquire(ds_climiter *l, uint64_t n, int64_t *retry_after_ns);
DSDEF ds_status ds_climiter_set(ds_climiter *l, uint64_t limit, int64_t period_ns, uint64_t burst);
DSDEF uint64_t ds_climiter_remaining(ds_climiter *l);
DSDEF void ds_climiter_close(ds_climiter *l);
DSDEF int ds_climiter_is_closed(const ds_climiter *l);

/* -- ds_cbreaker: shared circuit breaker ----------------------------------
 * A ds_breaker (see ds:breaker) behind a mutex, for many threads calling
 * one downstream. Every call is the ds_breaker call under the lock, so the
 * breaker's rules hold across threads exactly: in HALF_OPEN exactly P
 * (half_open_calls) allows succeed, whichever threads race for them, until
 * the probes' outcomes are recorded. Times are the callers' `now`; a `now`
 * older than one already seen (threads read the clock, then race for the
 * lock) counts as that one, as in ds_breaker.
 *
 *   ds_status ds_cbreaker_init(ds_cbreaker *b, const ds_breaker_config *cfg, const ds_alloc *a)
 *          as ds_breaker_init; DS_ENOMEM also for the mutex
 *   void      ds_cbreaker_free(ds_cbreaker *b)
 *   ds_status ds_cbreaker_allow(ds_cbreaker *b, int64_t now, int64_t *retry_after_ns)
 *          DS_OK (then record the call's outcome), DS_EREFUSED
 *   ds_status ds_cbreaker_record(ds_cbreaker *b, ds_breaker_outcome outcome,
 *                                int64_t duration_ns, int64_t now)
 *   ds_breaker_state ds_cbreaker_advance(ds_cbreaker *b, int64_t now)
 *   ds_status ds_cbreaker_force(ds_cbreaker *b, ds_breaker_state to, int64_t now)
 *   void      ds_cbreaker_reset(ds_cbreaker *b, int64_t now)
 *   ds_breaker_state ds_cbreaker_current(ds_cbreaker *b)
 *   void      ds_cbreaker_snapshot(ds_cbreaker *b, int64_t now, ds_breaker_stats *out)
 *          each as its ds_breaker_ namesake (errors included; DS_EINVAL
 *          for a NULL b)
 * Thread safety: every call but init/free from any thread at once;
 * on_state runs under the lock (it must not call the ds_cbreaker).
 * Complexity: ds_breaker's, under one lock. */
typedef struct ds_cbreaker {
    pthread_mutex_t mu;
    ds_breaker b;      /* under mu */
} ds_cbreaker;

DSDEF ds_status ds_cbreaker_init(ds_cbreaker *b, const ds_breaker_config *cfg, const ds_alloc *a);
DSDEF void ds_cbreaker_free(ds_cbreaker *b);
DSDEF ds_status ds_cbreaker_allow(ds_cbreaker *b, int64_t now, int64_t *retry_after_ns);
DSDEF ds_status ds_cbreaker_record(ds_cbreaker *b, ds_breaker_outcome outcome, int64_t duration_ns,
                                   int64_t now);
DSDEF ds_breaker_state ds_cbreaker_advance(ds_cbreaker *b, int64_t now);
DSDEF ds_status ds_cbreaker_force(ds_cbreaker *b, ds_breaker_state to, int64_t now);
DSDEF void ds_cbreaker_reset(ds_cbreaker *b, int64_t now);
DSDEF ds_breaker_state ds_cbreaker_current(ds_cbreaker *b);
DSDEF void ds_cbreaker_snapshot(ds_cbreaker *b, int64_t now, ds_breaker_stats *out);
/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CONC_WRAP_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_CONCURRENT_IMPLEMENTATION)) && !defined(DS_SRC_CONC_WRAP_IMPL)
#define DS_SRC_CONC_WRAP_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds_conc:wrappers == */

DSDEF ds_status ds__conc_mutex_init(pthread_mutex_t *mu) {
    return pthread_mutex_init(mu, NULL) == 0 ? DS_OK : DS_ENOMEM;
}
/* Announce under the lock (the caller saw its condition false), then
 * sleep unlocked: a waker changes the state under the lock before it
 * notifies, so either this thread's re-check under the lock sees the
 * change, or the notify sees this announcement (ds__waitq_prepare_locked:
 * the lock orders them, no fence needed). A deadline already past returns
 * at once: no announcement, no system call. */
DSDEF int ds__conc_sleep(pthread_mutex_t *mu, ds__waitq *w, int64_t deadline) {
    uint32_t e;
    int late;
    if (deadline != INT64_MAX && ds_now_ns() >= deadline) return 1;
    e = ds__waitq_prepare_locked(w);
    pthread_mutex_unlock(mu);
    late = ds__waitq_wait(w, e, deadline);
    pthread_mutex_lock(mu);
    return late;
}

/* -- ds_climiter -- */
DSDEF ds_status ds_climiter_init(ds_climiter *l, const ds_limit_config *cfg, const ds_alloc *a) {
    ds_status st;
    if (!l) return DS_EINVAL;
    memset((void *)l, 0, sizeof *l); /* a failed init leaves a struct free accepts */
    if (!cfg || cfg->algo == DS_LIMIT_LEAKY_SHAPER) return DS_EINVAL;
    if ((st = ds_limiter_init(&l->l, cfg, a)) != DS_OK) return st;
    if ((st = ds__conc_mutex_init(&l->mu)) != DS_OK) {
        ds_limiter_free(&l->l);
        return st;
    }
    if ((st = ds__waitq_init_locked(&l->wake)) != DS_OK) {
        pthread_mutex_destroy(&l->mu);
        ds_limiter_free(&l->l);
        return st;
    }
    DS__AINIT(&l->closed, 0);
    return DS_OK;
}
DSDEF void ds_climiter_free(ds_climiter *l) {
    if (!l) return;
    ds_limiter_free(&l->l);
    ds__waitq_destroy(&l->wake);
    pthread_mutex_destroy(&l->mu);
}
/* One decision under the lock at ds_now_ns(): DS_OK, or DS_EREFUSED with the
 * clock reading and the deficit; DS_EINVAL when n is never admissible. */
static ds_status ds__climiter_try(ds_climiter *l, uint64_t n, int64_t *now, int64_t *wait) {
    ds_status st;
    if (DS__ALOAD(&l->closed, relaxed)) return DS_ECLOSED; /* under mu */
    *now = ds_now_ns();
    st = ds_limiter_allow(&l->l, n, *now);
    if (st != DS_EREFUSED) return st;
    *wait = ds_limiter_wait_ns(&l->l, n, *now);
    if (*wait < 0) return DS_EINVAL;
    if (*wait == 0) *wait = 1; /* refused yet due now: retry after the clock moves */
    return DS_EREFUSED;
}
static ds_status ds__climiter_until(ds_climiter *l, uint64_t n, int64_t deadline) {
    ds_status st;
    int64_t now = 0, wait = 0, at;
    if (!l) return DS_EINVAL;
    pthread_mutex_lock(&l->mu);
    while ((st = ds__climiter_try(l, n, &now, &wait)) == DS_EREFUSED) {
        at = wait > INT64_MAX - now ? INT64_MAX - 1 : now + wait;
        if (deadline != INT64_MAX && at > deadline) {
            st = DS_ETIMEDOUT; /* the deficit alone outlasts the timeout */
            break;
        }
        /* Sleeps the deficit; set/close cut it short. Whoever takes the
         * units first wins; the others recompute. */
        (void)ds__conc_sleep(&l->mu, &l->wake, at);
    }
    pthread_mutex_unlock(&l->mu);
    return st;
}
DSDEF ds_status ds_climiter_acquire(ds_climiter *l, uint64_t n) {
    return ds__climiter_until(l, n, INT64_MAX);
}
DSDEF ds_status ds_climiter_acquire_timeout(ds_climiter *l, uint64_t n, int64_t timeout_ns) {
    return ds__climiter_until(l, n, ds__conc_deadline(timeout_ns));
}
DSDEF ds_status ds_climiter_try_acquire(ds_climiter *l, uint64_t n, int64_t *retry_after_ns) {
    ds_status st;
    int64_t now = 0, wait = 0;
    if (retry_after_ns) *retry_after_ns = 0;
    if (!l) return DS_EINVAL;
    pthread_mutex_lock(&l->mu);
    st = ds__climiter_try(l, n, &now, &wait);
    pthread_mutex_unlock(&l->mu);
    if (st == DS_EREFUSED && retry_after_ns) *retry_after_ns = wait;
    return st;
}
DSDEF ds_status ds_climiter_set(ds_climiter *l, uint64_t limit, int64_t period_ns, uint64_t burst) {
    ds_status st;
    if (!l) return DS_EINVAL;
    pthread_mutex_lock(&l->mu);
    st = ds_limiter_set(&l->l, limit, period_ns, burst, ds_now_ns());
    pthread_mutex_unlock(&l->mu);
    if (st == DS_OK) ds__waitq_notify(&l->wake, 1);
    return st;
}
DSDEF uint64_t ds_climiter_remaining(ds_climiter *l) {
    uint64_t r;
    if (!l) return 0;
    pthread_mutex_lock(&l->mu);
    r = DS__ALOAD(&l->closed, relaxed) ? 0 : ds_limiter_remaining(&l->l, ds_now_ns());
    pthread_mutex_unlock(&l->mu);
    return r;
}
DSDEF void ds_climiter_close(ds_climiter *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    DS__ASTORE(&l->closed, 1, release);
    pthread_mutex_unlock(&l->mu);
    ds__waitq_notify(&l->wake, 1);
}
DSDEF int ds_climiter_is_closed(const ds_climiter *l) { return l ? DS__ALOAD(&l->closed, acquire) : 0; }

/* -- ds_cbreaker: each call is its ds_breaker namesake under the lock -- */
DSDEF ds_status ds_cbreaker_init(ds_cbreaker *b, const ds_breaker_config *cfg, const ds_alloc *a) {
    ds_status st;
    if (!b) return DS_EINVAL;
    memset((void *)b, 0, sizeof *b); /* a failed init leaves a struct free accepts */
    if ((st = ds_breaker_init(&b->b, cfg, a)) != DS_OK) return st;
    if ((st = ds__conc_mutex_init(&b->mu)) != DS_OK) ds_breaker_free(&b->b);
    return st;
}
DSDEF void ds_cbreaker_free(ds_cbreaker *b) {
    if (!b) return;
    ds_breaker_free(&b->b);
    pthread_mutex_destroy(&b->mu);
}
DSDEF ds_status ds_cbreaker_allow(ds_cbreaker *b, int64_t now, int64_t *retry_after_ns) {
    ds_status st;
    if (retry_after_ns) *retry_after_ns = 0;
    if (!b) return DS_EINVAL;
    pthread_mutex_lock(&b->mu);
    st = ds_breaker_allow(&b->b, now, retry_after_ns);
    pthread_mutex_unlock(&b->mu);
    return st;
}
DSDEF ds_status ds_cbreaker_record(ds_cbreaker *b, ds_breaker_outcome outcome, int64_t duration_ns,
                                   int64_t now) {
    ds_status st;
    if (!b) return DS_EINVAL;
    pthread_mutex_lock(&b->mu);
    st = ds_breaker_record(&b->b, outcome, duration_ns, now);
    pthread_mutex_unlock(&b->mu);
    return st;
}
DSDEF ds_breaker_state ds_cbreaker_advance(ds_cbreaker *b, int64_t now) {
    ds_breaker_state s;
    if (!b) return DS_BREAKER_CLOSED;
    pthread_mutex_lock(&b->mu);
    s = ds_breaker_advance(&b->b, now);
    pthread_mutex_unlock(&b->mu);
    return s;
}
DSDEF ds_status ds_cbreaker_force(ds_cbreaker *b, ds_breaker_state to, int64_t now) {
    ds_status st;
    if (!b) return DS_EINVAL;
    pthread_mutex_lock(&b->mu);
    st = ds_breaker_force(&b->b, to, now);
    pthread_mutex_unlock(&b->mu);
    return st;
}
DSDEF void ds_cbreaker_reset(ds_cbreaker *b, int64_t now) {
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    ds_breaker_reset(&b->b, now);
    pthread_mutex_unlock(&b->mu);
}
DSDEF ds_breaker_state ds_cbreaker_current(ds_cbreaker *b) {
    ds_breaker_state s;
    if (!b) return DS_BREAKER_CLOSED;
    pthread_mutex_lock(&b->mu);
    s = ds_breaker_current(&b->b);
    pthread_mutex_unlock(&b->mu);
    return s;
}
DSDEF void ds_cbreaker_snapshot(ds_cbreaker *b, int64_t now, ds_breaker_stats *out) {
    if (!b) {
        ds_breaker_snapshot(NULL, now, out); /* zeroes *out */
        return;
    }
    if (!out) return;
    pthread_mutex_lock(&b->mu);
    ds_breaker_snapshot(&b->b, now, out);
    pthread_mutex_unlock(&b->mu);
}
/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CONC_WRAP_IMPL */
