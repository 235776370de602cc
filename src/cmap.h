/* src/cmap.h - DS_CMAP: sharded concurrent map
 *
 * One module of ds_concurrent.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/cmap.h"
 */
#ifndef DS_SRC_CMAP_H
#define DS_SRC_CMAP_H
#include "conc.h"
#include "map.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds_conc:cmap ==  DS_CMAP(name, K, V, hash, eq): sharded concurrent map
 * ========================================================================
 * A hash map many threads share: a power-of-two number of shards, each a
 * lock plus a DS_MAP (or, with a capacity, a DS_LRU) on its own cache
 * lines, so threads touching different shards never wait for each other
 * and never write each other's lines (lock striping, as in Java's
 * ConcurrentHashMap before JDK 8 and Guava's LocalCache; the per-shard LRU
 * with a split budget is Guava's bounded segments). A key's hash is
 * computed once: bits 48..63 pick the shard, and the shard's table (which
 * uses the low bits: tag bits 0..7, group bits 8 and up) reuses the same
 * hash, so within a shard the keys stay well spread.
 *
 * The lock is a pthread mutex per shard (define DS_CMAP_RWLOCK before the
 * include for a pthread rwlock: readers of one shard then share it).
 * Measured by bench/bench_cmap.c, 2 threads, 90% get / 10% put+del over
 * uint64 keys: the rwlock was slower in every full run (0.43-0.85x the
 * mutex, on a loaded 2-core VM; README has the table). A read lock is
 * itself a read-modify-write of the lock word, so readers still pass its
 * cache line back and forth and save nothing when the critical section is
 * a short probe, while glibc's rwlock does more work per lock/unlock than
 * its mutex. Prefer the rwlock only when reads hold the lock for long (big
 * values copied out, an expensive eq).
 *
 * Nothing hands out a pointer into the map: get copies the value out, and
 * every call that looks at or changes a stored value (upsert,
 * compute_if_absent, cas) does it under the shard lock. Callbacks run
 * under that lock: they must be short and must not call into the same map
 * (self-deadlock).
 *
 * Bounded mode (config.capacity > 0): a global entry budget split across
 * the shards (shard i holds at most capacity / n, plus one for the first
 * capacity % n shards), each shard a DS_LRU that evicts its own least
 * recently used entry when a new key would exceed its share, so
 * len() <= capacity at every instant, even as seen by a concurrent reader.
 * Eviction is per shard: the entry evicted is the shard's LRU, not
 * necessarily the global one, and with an uneven key spread a shard may
 * evict while others have room (the usual price of striping; a shard's
 * share should stay in the tens or more, so the default shard count
 * shrinks to keep shares >= 16). In bounded mode get (and every call that
 * finds a key: upsert, compute_if_absent, cas) counts as a use and takes
 * the shard's write lock.
 *
 * Config (zero-initialise, then set what you need; NULL = all defaults):
 *   size_t shards;     rounded up to a power of two, at most
 *                      DS_CMAP_MAX_SHARDS; 0 = 4 x threads (at least 16,
 *                      at most 1024). With a capacity: at most capacity
 *                      (default: at most capacity / 16, at least 1).
 *   size_t threads;    hint for the default: threads sharing the map;
 *                      0 = the online CPUs (sysconf), else 4.
 *   size_t capacity;   0 = unbounded; else the global entry budget.
 *   void (*on_evict)(void *ctx, K *key, V *val, ds_evict why);
 *                      every pair the map drops without handing it back:
 *                      DS_EVICT_CAPACITY (bounded: the shard's LRU entry
 *                      made room), DS_EVICT_REPLACED (put over a present
 *                      key: the old key and value), DS_EVICT_DELETED (del
 *                      with out == NULL, clear, free). Not for del with an
 *                      out pointer, cas, or upsert (the caller sees those
 *                      values). Runs under the shard lock. NULL = none.
 *   void *ctx;         passed to on_evict
 *   int (*val_eq)(V const *a, V const *b);   cas's comparison; NULL =
 *                      memcmp of the bytes (then V must have no padding,
 *                      or the padding must be zeroed).
 *   const ds_alloc *alloc;  uint64_t seed (0 = per-instance random)
 *
 *   ds_status name_init(name *c, const name_config *cfg)
 *          DS_EINVAL: NULL c, shards > DS_CMAP_MAX_SHARDS, a share of
 *          2^31 or more; DS_ENOMEM (nothing allocated). The struct must not
 *          move between init and free. Alone: nothing else on this map
 *          runs until init returns (publish the map to other threads after).
 *   void   name_free(name *c)        on_evict(DELETED) for each entry.
 *          Alone: after every other thread is done with the map. Twice is
 *          harmless; calls after free get DS_EINVAL (or 0).
 *   ds_status name_get(name *c, K key, V *out)
 *          copies the value into *out (out may be NULL: a membership test
 *          that still counts as a use); DS_ENOTFOUND. Any thread: the
 *          shard's read lock (bounded: its write lock).
 *   int    name_has(name *c, K key)  present? (never counts as a use).
 *          Any thread: the shard's read lock.
 *   ds_status name_put(name *c, K key, V val, int *is_new)
 *          insert or overwrite (REPLACED for the old pair); *is_new (may be
 *          NULL) = 1 if the key was absent. Bounded: may evict one entry
 *          of the shard (CAPACITY). DS_ENOMEM: map unchanged. Any thread:
 *          the shard's write lock (so are insert, del, upsert,
 *          compute_if_absent and cas).
 *   ds_status name_insert(name *c, K key, V val)   put if absent: DS_EEXIST
 *          (unchanged) when present
 *   ds_status name_del(name *c, K key, V *out)     DS_ENOTFOUND; with out
 *          the value moves to the caller, without it on_evict(DELETED)
 *   ds_status name_upsert(name *c, K key, name_upsert_fn fn, void *ctx)
 *          int fn(void *ctx, K const *key, V *val, int is_new): runs once,
 *          under the shard lock, on the stored value (is_new = 0) or on a
 *          zero-filled new one (is_new = 1) and changes it in place; it
 *          returns 0 to keep the entry, nonzero to remove it (a count that
 *          reached zero). Read-modify-write without races: n threads each
 *          adding 1 to a counter add exactly n. DS_ENOMEM (fn not called,
 *          map unchanged).
 *   ds_status name_compute_if_absent(name *c, K key, name_make_fn make,
 *                                    void *ctx, V *out)
 *          ds_status make(void *ctx, K const *key, V *out): if key is
 *          present, copies its value to *out (out may be NULL); else calls
 *          make under the shard lock (out preset to zeros), stores what it
 *          made and copies it out. So make runs at most once per key however
 *          many threads ask at once (again only after the key was deleted
 *          or evicted, or make failed). make's error is returned and
 *          nothing stored; DS_ENOMEM: make not called, map unchanged.
 *   ds_status name_cas(name *c, K key, V expected, V desired, V *actual)
 *          compare-and-set: if the stored value equals expected (val_eq or
 *          memcmp) it becomes desired: DS_OK; else DS_EMISMATCH (unchanged);
 *          DS_ENOTFOUND if absent. *actual (may be NULL) gets the value
 *          found, so a retry loop needs no extra get.
 *   size_t name_len(const name *c)   sum of per-shard counts, read without
 *          locks: exact when no writer runs, otherwise approximate (each
 *          shard's count is exact at some instant during the call, the
 *          instants differ); never above the capacity. Any thread, no lock.
 *   size_t name_capacity(const name *c)   the budget (0: unbounded)
 *   size_t name_shards(const name *c)     both fixed at init; any thread
 *   void   name_clear(name *c)       shard by shard: each is emptied under
 *          its lock (on_evict DELETED for each entry); not atomic across
 *          shards: a put into an already-cleared shard survives. Keeps the
 *          tables' memory. Any thread: each shard's write lock in turn.
 *   ds_status name_snapshot(name *c, name_entry *out, size_t cap, size_t *n)
 *          copies the entries (key, val), shard by shard, each shard under
 *          its lock, into out[0..cap): *n (may be NULL) = pairs copied;
 *          DS_EFULL if more did not fit (size the array from len() plus
 *          slack and retry). Consistency: per shard, not global - each
 *          shard's part is that shard at one instant, and the instants
 *          differ: if one thread puts key a and then key b, the snapshot
 *          may hold b without a (a's shard was copied before a arrived,
 *          b's after b did). A key never appears twice (it lives in one
 *          shard). Does not count as a use. Any thread: each shard's read
 *          lock in turn, one at a time.
 *   size_t name_foreach(name *c, name_visit_fn fn, void *ctx)
 *          int fn(void *ctx, K const *key, V const *val) for every entry,
 *          shard by shard under each shard's lock (same consistency as
 *          snapshot); fn returns nonzero to stop. Returns the number of
 *          calls made. Any thread: each shard's read lock in turn.
 *
 * Thread safety: init and free alone (no other call on that map running);
 * every other call from any number of threads at once. Calls on one key are
 * linearizable (each runs entirely under its shard's lock); calls that span
 * shards (len, clear, snapshot, foreach) are not atomic as a whole, as
 * described above. A callback must not call into the same map.
 * Complexity: get/put/del/upsert/cas/compute_if_absent O(1) expected plus
 * the lock; len O(shards); clear, snapshot, foreach O(shards + entries).
 * Memory: per shard one cache-line-padded header (lock, count, table
 * header: 576 bytes for uint64 -> uint64 on x86-64) plus its table
 * (DS_MAP: sizeof(entry) + 1 bytes per slot at <= 7/8 load; bounded:
 * DS_LRU's node and index costs). DS_ENOMEM from any call leaves the map
 * as it was. */

#include <pthread.h>

/* Top limit of shards: the shard index comes from hash bits 48..63. */
#define DS_CMAP_MAX_SHARDS ((size_t)1 << 16)

#ifdef DS_CMAP_RWLOCK
#define DS__CMAP_LOCK_T pthread_rwlock_t
#define DS__CMAP_LOCK_INIT(l) pthread_rwlock_init((l), NULL)
#define DS__CMAP_LOCK_DESTROY(l) pthread_rwlock_destroy(l)
#define DS__CMAP_RDLOCK(l) pthread_rwlock_rdlock(l)
#define DS__CMAP_WRLOCK(l) pthread_rwlock_wrlock(l)
#define DS__CMAP_UNLOCK(l) pthread_rwlock_unlock(l)
#else
#define DS__CMAP_LOCK_T pthread_mutex_t
#define DS__CMAP_LOCK_INIT(l) pthread_mutex_init((l), NULL)
#define DS__CMAP_LOCK_DESTROY(l) pthread_mutex_destroy(l)
#define DS__CMAP_RDLOCK(l) pthread_mutex_lock(l)
#define DS__CMAP_WRLOCK(l) pthread_mutex_lock(l)
#define DS__CMAP_UNLOCK(l) pthread_mutex_unlock(l)
#endif

/* Type-independent parts. The shard count for a config (see above), or
 * DS_EINVAL. */
DSDEF ds_status ds__cmap_nshards(size_t shards, size_t threads, size_t capacity, size_t *out);
/* One block of n shards of ssz bytes (a multiple of DS_CONC_CACHELINE),
 * aligned to DS_CONC_CACHELINE: the aligned start, *raw the block to free
 * (ds__cmap_block_bytes(n, ssz) bytes). NULL on overflow or DS_ENOMEM. */
DSDEF void *ds__cmap_block(size_t n, size_t ssz, const ds_alloc *a, void **raw);
static inline size_t ds__cmap_block_bytes(size_t n, size_t ssz) { return n * ssz + DS_CONC_CACHELINE; }

#define DS__CMAP_TYPES(name, K, V)                                                        \
    DS__MAP_TYPES(name##__m, K, V);                                                       \
    DS__LRU_TYPES(name##__l, K, V);                                                       \
    typedef name##__m_entry name##_entry;                                                 \
    typedef struct name##_config {                                                        \
        size_t shards;                                                                    \
        size_t threads;                                                                   \
        size_t capacity;                                                                  \
        void (*on_evict)(void *ctx, K *key, V *val, ds_evict why);                        \
        void *ctx;                                                                        \
        int (*val_eq)(V const *a, V const *b);                                            \
        const ds_alloc *alloc;                                                            \
        uint64_t seed;                                                                    \
    } name##_config;                                                                      \
    typedef int (*name##_upsert_fn)(void *ctx, K const *key, V *val, int is_new);         \
    typedef ds_status (*name##_make_fn)(void *ctx, K const *key, V *out);                 \
    typedef int (*name##_visit_fn)(void *ctx, K const *key, V const *val);                \
    typedef struct name##__shard_core {                                                   \
        DS__CMAP_LOCK_T lock;                                                             \
        DS__ATOMIC(size_t) len; /* written under the lock, read by len() */               \
        union {                                                                           \
            name##__m map; /* unbounded */                                                \
            name##__l lru; /* bounded */                                                  \
        } u;                                                                              \
    } name##__shard_core;                                                                 \
    typedef struct name##__shard { /* a whole number of cache lines */                    \
        name##__shard_core s;                                                             \
        char pad_[DS_CONC_CACHELINE - sizeof(name##__shard_core) % DS_CONC_CACHELINE];    \
    } name##__shard;                                                                      \
    typedef struct name {                                                                 \
        name##__shard *shards; /* DS_CONC_CACHELINE-aligned, in raw */                    \
        void *raw;                                                                        \
        size_t mask;           /* shards - 1 */                                           \
        uint64_t seed;                                                                    \
        name##_config cfg;                                                                \
    } name

#define DS__CMAP_PROTOS(name, K, V, LINK)                                                 \
    LINK ds_status name##_init(name *c, const name##_config *cfg);                        \
    LINK void name##_free(name *c);                                                       \
    LINK ds_status name##_get(name *c, K key, V *out);                                    \
    LINK int name##_has(name *c, K key);                                                  \
    LINK ds_status name##_put(name *c, K key, V val, int *is_new);                        \
    LINK ds_status name##_insert(name *c, K key, V val);                                  \
    LINK ds_status name##_del(name *c, K key, V *out);                                    \
    LINK ds_status name##_upsert(name *c, K key, name##_upsert_fn fn, void *ctx);         \
    LINK ds_status name##_compute_if_absent(name *c, K key, name##_make_fn make, void *ctx, \
                                            V *out);                                      \
    LINK ds_status name##_cas(name *c, K key, V expected, V desired, V *actual);          \
    LINK size_t name##_len(const name *c);                                                \
    LINK size_t name##_capacity(const name *c);                                           \
    LINK size_t name##_shards(const name *c);                                             \
    LINK void name##_clear(name *c);                                                      \
    LINK ds_status name##_snapshot(name *c, name##_entry *out, size_t cap, size_t *n);    \
    LINK size_t name##_foreach(name *c, name##_visit_fn fn, void *ctx)

/* The inner tables: DS_MAP name__m (unbounded) and DS_LRU name__l
 * (bounded), static to the file that holds the implementation. Uses of the
 * inner DS_LRU's private helper name__l__reserve_one: it makes room for one
 * more node, after which that DS_LRU's put of a new key cannot fail; so a
 * callback that creates a value runs only once its slot is certain. */
#define DS__CMAP_IMPL(name, K, V, hash, eq, LINK)                                         \
    DS__MAP_PROTOS(name##__m, K, V, DS__LINK_STATIC);                                     \
    DS__MAP_IMPL(name##__m, K, V, hash, eq, DS__LINK_STATIC)                              \
    DS__LRU_PROTOS(name##__l, K, V, DS__LINK_STATIC);                                     \
    DS__LRU_IMPL(name##__l, K, V, hash, eq, DS__LINK_STATIC)                              \
    static inline name##__shard_core *name##__shard_of(const name *c, uint64_t h) {       \
        return &c->shards[(size_t)(h >> 48) & c->mask].s;                                 \
    }                                                                                     \
    static inline size_t name##__find(const name##__shard_core *s, K key, uint64_t h) {   \
        return ds__map_find(&s->u.map.m, h, &key, sizeof(name##_entry), name##__m__eq);   \
    }                                                                                     \
    static inline name##_entry *name##__at(name##__shard_core *s, size_t i) {             \
        return name##__m__slot(&s->u.map, i);                                             \
    }                                                                                     \
    /* Publish the shard's count for len(): after the change, under the lock. */          \
    static inline void name##__count(const name *c, name##__shard_core *s) {              \
        DS__ASTORE(&s->len, c->cfg.capacity ? s->u.lru.c.len : s->u.map.m.len, relaxed);  \
    }                                                                                     \
    static inline void name##__drop(const name *c, K *key, V *val, ds_evict why) {        \
        if (c->cfg.on_evict) c->cfg.on_evict(c->cfg.ctx, key, val, why);                  \
    }                                                                                     \
    /* DS_LRU's callback, forwarded with the user's ctx. */                               \
    static void name##__lru_evict(void *ctx, K *key, V *val, ds_evict why) {              \
        name##__drop((const name *)ctx, key, val, why);                                   \
    }                                                                                     \
    static inline int name##__val_eq(const name *c, V const *a, V const *b) {             \
        return c->cfg.val_eq ? c->cfg.val_eq(a, b) != 0 : memcmp(a, b, sizeof(V)) == 0;   \
    }                                                                                     \
    /* Room for one more entry in an unbounded shard: afterwards claiming a               \
     * slot cannot rehash, so cannot fail. */                                             \
    static inline ds_status name##__room(name##__shard_core *s) {                         \
        return ds__map_reserve(&s->u.map.m, s->u.map.m.len + 1, sizeof(name##_entry),     \
                               name##__m__hash);                                          \
    }                                                                                     \
    static inline name##_entry *name##__claim(name##__shard_core *s, K key, uint64_t h) { \
        ds_status st = DS_OK;                                                             \
        size_t i = ds__map_claim(&s->u.map.m, h, sizeof(name##_entry), name##__m__hash, &st); \
        name##_entry *e;                                                                  \
        DS_ASSERT(i != DS__NPOS); /* name__room made the room */                          \
        e = name##__at(s, i);                                                             \
        e->key = key;                                                                     \
        return e;                                                                         \
    }                                                                                     \
    /* Every entry of an unbounded shard to on_evict(DELETED). */                         \
    static inline void name##__drop_all(const name *c, name##__shard_core *s) {           \
        name##_entry *e;                                                                  \
        if (!c->cfg.on_evict) return;                                                     \
        for (e = name##__m_first(&s->u.map); e; e = name##__m_next(&s->u.map, e))         \
            c->cfg.on_evict(c->cfg.ctx, &e->key, &e->val, DS_EVICT_DELETED);              \
    }                                                                                     \
    LINK ds_status name##_init(name *c, const name##_config *cfg) {                       \
        name##_config z;                                                                  \
        size_t n, i;                                                                      \
        void *raw = NULL;                                                                 \
        name##__shard *sh;                                                                \
        ds_status st;                                                                     \
        if (DS__UNLIKELY(!c)) return DS_EINVAL;                                           \
        memset((void *)c, 0, sizeof *c); /* a failed init leaves a struct free accepts */ \
        if (!cfg) {                                                                       \
            memset(&z, 0, sizeof z);                                                      \
            cfg = &z;                                                                     \
        }                                                                                 \
        st = ds__cmap_nshards(cfg->shards, cfg->threads, cfg->capacity, &n);              \
        if (st != DS_OK) return st;                                                       \
        sh = (name##__shard *)ds__cmap_block(n, sizeof(name##__shard), cfg->alloc, &raw); \
        if (!sh) return DS_ENOMEM;                                                        \
        c->shards = sh;                                                                   \
        c->raw = raw;                                                                     \
        c->mask = n - 1;                                                                  \
        c->cfg = *cfg;                                                                    \
        c->seed = cfg->seed ? cfg->seed : ds__map_default_seed((uintptr_t)(void *)c);     \
        for (i = 0; i < n; i++) {                                                         \
            name##__shard_core *s = &sh[i].s;                                             \
            if (DS__CMAP_LOCK_INIT(&s->lock) != 0) {                                      \
                while (i--) DS__CMAP_LOCK_DESTROY(&sh[i].s.lock);                         \
                DS_FREE(cfg->alloc, raw, ds__cmap_block_bytes(n, sizeof(name##__shard))); \
                c->shards = NULL;                                                         \
                return DS_ENOMEM;                                                         \
            }                                                                             \
            DS__AINIT(&s->len, (size_t)0);                                                \
            if (cfg->capacity) {                                                          \
                name##__l_config lc;                                                      \
                memset(&lc, 0, sizeof lc);                                                \
                lc.max_entries = cfg->capacity / n + (size_t)(i < cfg->capacity % n);     \
                lc.on_evict = cfg->on_evict ? name##__lru_evict : NULL;                   \
                lc.ctx = c;                                                               \
                lc.policy = DS_CACHE_LRU;                                                 \
                lc.alloc = cfg->alloc;                                                    \
                lc.seed = c->seed;                                                        \
                st = name##__l_init(&s->u.lru, &lc); /* allocates nothing */              \
                DS_ASSERT(st == DS_OK);                                                   \
                (void)st;                                                                 \
            } else {                                                                      \
                name##__m_init_seed(&s->u.map, cfg->alloc, c->seed);                      \
            }                                                                             \
        }                                                                                 \
        return DS_OK;                                                                     \
    }                                                                                     \
    LINK void name##_free(name *c) {                                                      \
        size_t i, n;                                                                      \
        if (DS__UNLIKELY(!c || !c->shards)) return;                                       \
        n = c->mask + 1;                                                                  \
        for (i = 0; i < n; i++) {                                                         \
            name##__shard_core *s = &c->shards[i].s;                                      \
            if (c->cfg.capacity) {                                                        \
                name##__l_free(&s->u.lru);                                                \
            } else {                                                                      \
                name##__drop_all(c, s);                                                   \
                name##__m_free(&s->u.map);                                                \
            }                                                                             \
            DS__CMAP_LOCK_DESTROY(&s->lock);                                              \
        }                                                                                 \
        DS_FREE(c->cfg.alloc, c->raw, ds__cmap_block_bytes(n, sizeof(name##__shard)));    \
        c->shards = NULL;                                                                 \
        c->raw = NULL;                                                                    \
    }                                                                                     \
    LINK ds_status name##_get(name *c, K key, V *out) {                                   \
        name##__shard_core *s;                                                            \
        ds_status st = DS_ENOTFOUND;                                                      \
        uint64_t h;                                                                       \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        if (c->cfg.capacity) {                                                            \
            V *p;                                                                         \
            DS__CMAP_WRLOCK(&s->lock); /* a hit moves the entry: a write */               \
            if ((p = name##__l_get(&s->u.lru, key, 0)) != NULL) {                         \
                if (out) *out = *p;                                                       \
                st = DS_OK;                                                               \
            }                                                                             \
        } else {                                                                          \
            size_t i;                                                                     \
            DS__CMAP_RDLOCK(&s->lock);                                                    \
            if ((i = name##__find(s, key, h)) != DS__NPOS) {                              \
                if (out) *out = name##__at(s, i)->val;                                    \
                st = DS_OK;                                                               \
            }                                                                             \
        }                                                                                 \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK int name##_has(name *c, K key) {                                                 \
        name##__shard_core *s;                                                            \
        uint64_t h;                                                                       \
        int r;                                                                            \
        if (DS__UNLIKELY(!c || !c->shards)) return 0;                                     \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_RDLOCK(&s->lock);                                                        \
        r = c->cfg.capacity ? name##__l_peek(&s->u.lru, key, 0) != NULL                   \
                            : name##__find(s, key, h) != DS__NPOS;                        \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return r;                                                                         \
    }                                                                                     \
    LINK ds_status name##_put(name *c, K key, V val, int *is_new) {                       \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        int added = 0;                                                                    \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            added = name##__l_peek(&s->u.lru, key, 0) == NULL;                            \
            st = name##__l_put(&s->u.lru, key, val, 0); /* REPLACED, CAPACITY */          \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            if (i != DS__NPOS) {                                                          \
                name##_entry *e = name##__at(s, i);                                       \
                name##_entry old = *e;                                                    \
                e->key = key;                                                             \
                e->val = val;                                                             \
                name##__drop(c, &old.key, &old.val, DS_EVICT_REPLACED);                   \
            } else if ((st = name##__room(s)) == DS_OK) {                                 \
                name##__claim(s, key, h)->val = val;                                      \
                added = 1;                                                                \
            }                                                                             \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        if (is_new) *is_new = st == DS_OK && added;                                       \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_insert(name *c, K key, V val) {                                 \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            if (name##__l_peek(&s->u.lru, key, 0) != NULL) st = DS_EEXIST;                \
            else st = name##__l_put(&s->u.lru, key, val, 0);                              \
        } else {                                                                          \
            if (name##__find(s, key, h) != DS__NPOS) st = DS_EEXIST;                      \
            else if ((st = name##__room(s)) == DS_OK) name##__claim(s, key, h)->val = val; \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_del(name *c, K key, V *out) {                                   \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            st = name##__l_del(&s->u.lru, key, out, 0); /* DELETED when out == NULL */    \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            if (i == DS__NPOS) {                                                          \
                st = DS_ENOTFOUND;                                                        \
            } else {                                                                      \
                name##_entry old = *name##__at(s, i);                                     \
                ds__map_erase_at(&s->u.map.m, i);                                         \
                if (out) *out = old.val;                                                  \
                else name##__drop(c, &old.key, &old.val, DS_EVICT_DELETED);               \
            }                                                                             \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_upsert(name *c, K key, name##_upsert_fn fn, void *ctx) {        \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        if (DS__UNLIKELY(!c || !c->shards || !fn)) return DS_EINVAL;                      \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            V *p = name##__l_get(&s->u.lru, key, 0);                                      \
            if (p) {                                                                      \
                if (fn(ctx, &key, p, 0)) {                                                \
                    V gone;                                                               \
                    (void)name##__l_del(&s->u.lru, key, &gone, 0);                        \
                }                                                                         \
            } else if ((st = name##__l__reserve_one(&s->u.lru)) == DS_OK) {               \
                V v;                                                                      \
                memset((void *)&v, 0, sizeof v);                                          \
                if (!fn(ctx, &key, &v, 1)) {                                              \
                    st = name##__l_put(&s->u.lru, key, v, 0);                             \
                    DS_ASSERT(st == DS_OK); /* the room was reserved */                   \
                }                                                                         \
            }                                                                             \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            if (i != DS__NPOS) {                                                          \
                name##_entry *e = name##__at(s, i);                                       \
                if (fn(ctx, &e->key, &e->val, 0)) ds__map_erase_at(&s->u.map.m, i);       \
            } else if ((st = name##__room(s)) == DS_OK) {                                 \
                V v;                                                                      \
                memset((void *)&v, 0, sizeof v);                                          \
                if (!fn(ctx, &key, &v, 1)) name##__claim(s, key, h)->val = v;             \
            }                                                                             \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_compute_if_absent(name *c, K key, name##_make_fn make, void *ctx, \
                                            V *out) {                                     \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        V v;                                                                              \
        if (DS__UNLIKELY(!c || !c->shards || !make)) return DS_EINVAL;                    \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            V *p = name##__l_get(&s->u.lru, key, 0);                                      \
            if (p) {                                                                      \
                v = *p;                                                                   \
            } else if ((st = name##__l__reserve_one(&s->u.lru)) == DS_OK) {               \
                memset((void *)&v, 0, sizeof v);                                          \
                if ((st = make(ctx, &key, &v)) == DS_OK) {                                \
                    st = name##__l_put(&s->u.lru, key, v, 0);                             \
                    DS_ASSERT(st == DS_OK); /* the room was reserved */                   \
                }                                                                         \
            }                                                                             \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            if (i != DS__NPOS) {                                                          \
                v = name##__at(s, i)->val;                                                \
            } else if ((st = name##__room(s)) == DS_OK) {                                 \
                memset((void *)&v, 0, sizeof v);                                          \
                if ((st = make(ctx, &key, &v)) == DS_OK) name##__claim(s, key, h)->val = v; \
            }                                                                             \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        if (st == DS_OK && out) *out = v;                                                 \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_cas(name *c, K key, V expected, V desired, V *actual) {         \
        name##__shard_core *s;                                                            \
        ds_status st = DS_ENOTFOUND;                                                      \
        uint64_t h;                                                                       \
        V *p;                                                                             \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            p = name##__l_get(&s->u.lru, key, 0);                                         \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            p = i == DS__NPOS ? NULL : &name##__at(s, i)->val;                            \
        }                                                                                 \
        if (p) {                                                                          \
            if (actual) *actual = *p;                                                     \
            if (name##__val_eq(c, p, &expected)) {                                        \
                *p = desired;                                                             \
                st = DS_OK;                                                               \
            } else {                                                                      \
                st = DS_EMISMATCH;                                                            \
            }                                                                             \
        }                                                                                 \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK size_t name##_len(const name *c) {                                               \
        size_t i, n = 0;                                                                  \
        if (DS__UNLIKELY(!c || !c->shards)) return 0;                                     \
        for (i = 0; i <= c->mask; i++) n += DS__ALOAD(&c->shards[i].s.len, relaxed);      \
        return n;                                                                         \
    }                                                                                     \
    LINK size_t name##_capacity(const name *c) { return c && c->shards ? c->cfg.capacity : 0; } \
    LINK size_t name##_shards(const name *c) { return c && c->shards ? c->mask + 1 : 0; } \
    LINK void name##_clear(name *c) {                                                     \
        size_t i;                                                                         \
        if (DS__UNLIKELY(!c || !c->shards)) return;                                       \
        for (i = 0; i <= c->mask; i++) {                                                  \
            name##__shard_core *s = &c->shards[i].s;                                      \
            DS__CMAP_WRLOCK(&s->lock);                                                    \
            if (c->cfg.capacity) {                                                        \
                name##__l_clear(&s->u.lru);                                               \
            } else {                                                                      \
                name##__drop_all(c, s);                                                   \
                name##__m_clear(&s->u.map);                                               \
            }                                                                             \
            name##__count(c, s);                                                          \
            DS__CMAP_UNLOCK(&s->lock);                                                    \
        }                                                                                 \
    }                                                                                     \
    LINK size_t name##_foreach(name *c, name##_visit_fn fn, void *ctx) {                  \
        size_t i, calls = 0;                                                              \
        int stop = 0;                                                                     \
        if (DS__UNLIKELY(!c || !c->shards || !fn)) return 0;                              \
        for (i = 0; i <= c->mask && !stop; i++) {                                         \
            name##__shard_core *s = &c->shards[i].s;                                      \
            DS__CMAP_RDLOCK(&s->lock);                                                    \
            if (c->cfg.capacity) {                                                        \
                uint32_t it;                                                              \
                for (it = name##__l_first(&s->u.lru); it != DS_CACHE_END && !stop;        \
                     it = name##__l_next(&s->u.lru, it)) {                                \
                    calls++;                                                              \
                    stop = fn(ctx, name##__l_key(&s->u.lru, it), name##__l_val(&s->u.lru, it)); \
                }                                                                         \
            } else {                                                                      \
                name##_entry *e;                                                          \
                for (e = name##__m_first(&s->u.map); e && !stop; e = name##__m_next(&s->u.map, e)) { \
                    calls++;                                                              \
                    stop = fn(ctx, &e->key, &e->val);                                     \
                }                                                                         \
            }                                                                             \
            DS__CMAP_UNLOCK(&s->lock);                                                    \
        }                                                                                 \
        return calls;                                                                     \
    }                                                                                     \
    /* snapshot is foreach with a copying visitor. */                                     \
    typedef struct name##__snap {                                                         \
        name##_entry *out;                                                                \
        size_t cap, n;                                                                    \
        int full;                                                                         \
    } name##__snap;                                                                       \
    static int name##__snap_one(void *ctx, K const *key, V const *val) {                  \
        name##__snap *sn = (name##__snap *)ctx;                                           \
        if (sn->n == sn->cap) {                                                           \
            sn->full = 1;                                                                 \
            return 1;                                                                     \
        }                                                                                 \
        sn->out[sn->n].key = *key;                                                        \
        sn->out[sn->n].val = *val;                                                        \
        sn->n++;                                                                          \
        return 0;                                                                         \
    }                                                                                     \
    LINK ds_status name##_snapshot(name *c, name##_entry *out, size_t cap, size_t *n) {   \
        name##__snap sn;                                                                  \
        if (n) *n = 0;                                                                    \
        if (DS__UNLIKELY(!c || !c->shards || (!out && cap))) return DS_EINVAL;            \
        sn.out = out;                                                                     \
        sn.cap = cap;                                                                     \
        sn.n = 0;                                                                         \
        sn.full = 0;                                                                      \
        (void)name##_foreach(c, name##__snap_one, &sn);                                   \
        if (n) *n = sn.n;                                                                 \
        return sn.full ? DS_EFULL : DS_OK;                                                \
    }

#define DS_CMAP_DECLARE(name, K, V)                                                       \
    DS__CMAP_TYPES(name, K, V);                                                           \
    DS__CMAP_PROTOS(name, K, V, extern);
#define DS_CMAP_DEFINE(name, K, V, hash, eq) DS__CMAP_IMPL(name, K, V, hash, eq, )
#define DS_CMAP(name, K, V, hash, eq)                                                     \
    DS__CMAP_TYPES(name, K, V);                                                           \
    DS__CMAP_PROTOS(name, K, V, DS__LINK_STATIC);                                         \
    DS__CMAP_IMPL(name, K, V, hash, eq, DS__LINK_STATIC)


/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CMAP_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_CONCURRENT_IMPLEMENTATION)) && !defined(DS_SRC_CMAP_IMPL)
#define DS_SRC_CMAP_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds_conc:cmap == */

#include <unistd.h> /* sysconf: the default shard count */

DSDEF ds_status ds__cmap_nshards(size_t shards, size_t threads, size_t capacity, size_t *out) {
    size_t n;
    if (shards > DS_CMAP_MAX_SHARDS) return DS_EINVAL;
    if (shards) {
        n = ds__pow2_ceil(shards);
        if (capacity)
            while (n > capacity) n >>= 1; /* every shard holds at least one */
    } else {
        if (!threads) {
#ifdef _SC_NPROCESSORS_ONLN
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            threads = cpus > 0 ? (size_t)cpus : 4;
#else
            threads = 4;
#endif
        }
        n = threads > 256 ? 1024 : ds__pow2_ceil(4 * threads);
        if (n < 16) n = 16;
        /* Bounded: shares of at least 16 entries, so that a shard's LRU
         * still approximates the global one. */
        if (capacity)
            while (n > 1 && capacity / n < 16) n >>= 1;
    }
    /* DS_LRU bounds a shard below 2^31 entries. */
    if (capacity && capacity / n >= ((size_t)1 << 31) - 1) return DS_EINVAL;
    *out = n;
    return DS_OK;
}

DSDEF void *ds__cmap_block(size_t n, size_t ssz, const ds_alloc *a, void **raw) {
    size_t bytes;
    uintptr_t p;
    if (!ds_size_muladd(n, ssz, DS_CONC_CACHELINE, &bytes)) return NULL;
    *raw = DS_MALLOC(a, bytes);
    if (!*raw) return NULL;
    p = ((uintptr_t)*raw + DS_CONC_CACHELINE - 1) & ~(uintptr_t)(DS_CONC_CACHELINE - 1);
    return (void *)p;
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CMAP_IMPL */
