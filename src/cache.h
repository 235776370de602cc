/* src/cache.h - DS_LRU(name, K, V, hash, eq): LRU / W-TinyLFU cache with TTL; DS_MEMO
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/cache.h"
 */
#ifndef DS_SRC_CACHE_H
#define DS_SRC_CACHE_H
#include "core.h"
#include "map.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:cache ==  DS_LRU(name, K, V, hash, eq): LRU / W-TinyLFU cache
 * ========================================================================
 * A bounded key-value cache with O(1) get/put/del: the foundation's hash
 * table as the index (4-byte slots holding node ids) over a dense node
 * array, with intrusive recency lists linked by 32-bit indexes.
 *
 * Bounds: max_entries and/or max_weight (a weigher callback gives each
 * entry's weight; it must return the same weight for the same entry, as it
 * is asked again at removal rather than stored). set_capacity evicts down
 * to a new bound at once.
 *
 * Expiry: a default TTL and per-entry TTLs (0 = never expires), measured
 * from the write, or from every access with expire_after_access. Time is
 * always the caller's `now` (int64 ns). An entry with expire <= now is
 * dead: get/peek never return it (get removes it, reason EXPIRED), and
 * expire(now, budget) removes up to `budget` dead entries, soonest
 * deadline first (a min-heap on deadlines), for active sweeping.
 *
 * When a bound is exceeded, dead entries go first (soonest deadline, reason
 * EXPIRED), then live ones by policy (reason CAPACITY). Pointers returned by
 * get/peek/get_or_load stay valid until the next call that changes the
 * cache (any put, get, del, expire, set_capacity, clear).
 *
 * Removal callback on_evict(ctx, key, val, reason) for every entry that
 * leaves, with the reason: DS_EVICT_CAPACITY, DS_EVICT_EXPIRED,
 * DS_EVICT_DELETED (del without an out pointer, clear, free) or
 * DS_EVICT_REPLACED (put over an existing key: the old key and value).
 * So owned keys and values can be freed and nothing is lost silently. The
 * callback must not call back into the cache.
 *
 * Policies, chosen at init:
 *   DS_CACHE_LRU       evict the least recently used.
 *   DS_CACHE_WTINYLFU  Einziger, Friedman & Manes, "TinyLFU: A Highly
 *     Efficient Cache Admission Policy" (2017), as in Caffeine: a window
 *     LRU of 1% of the capacity in front of a segmented main LRU
 *     (probation 20%, protected 80%). An entry leaving the window enters
 *     main only if its estimated frequency beats main's victim (the
 *     probation LRU), from a 4-bit count-min sketch (4 rows, as
 *     Caffeine's, no doorkeeper) counting each access once (a get that
 *     misses and the put that follows it are one access), halved every
 *     10 x capacity accesses (aging). A hit in probation promotes to
 *     protected. The window's share adapts by hill climbing (below).
 *     Bounded by entries or by weight, not both.
 *
 * Config (zero-initialise, then set what you need):
 *   size_t max_entries; uint64_t max_weight;    0 = no such bound
 *   uint64_t (*weigher)(void *ctx, K const *key, V const *val);  NULL = 1
 *   int64_t default_ttl;      ns; 0 = entries never expire
 *   int expire_after_access;  deadlines move to now + ttl on every hit
 *   int64_t negative_ttl;     > 0: get_or_load caches a DS_ENOTFOUND from
 *                             the loader as a negative entry this long
 *   void (*on_evict)(void *ctx, K *key, V *val, ds_evict why);
 *   void *ctx;                passed to weigher, on_evict
 *   ds_cache_policy policy;   DS_CACHE_LRU (default) or DS_CACHE_WTINYLFU
 *   const ds_alloc *alloc; uint64_t seed (0 = per-instance random)
 *
 *   ds_status name_init(name *c, const name_config *cfg)
 *          DS_EINVAL: negative TTLs, W-TinyLFU with both bounds or none,
 *          max_entries of 2^31 or more.
 *   void   name_free(name *c)       removes everything (DELETED), frees
 *   void   name_clear(name *c)      removes everything (DELETED)
 *   V     *name_get(name *c, K key, int64_t now)    hit: promotes, may
 *          extend the deadline; NULL on miss (or a negative entry)
 *   V     *name_peek(const name *c, K key, int64_t now)  no promotion, no
 *          stats, no removal
 *   ds_status name_put(name *c, K key, V val, int64_t now)   default TTL
 *   ds_status name_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now)
 *          insert or replace (REPLACED callback for the old pair; an old
 *          pair already expired goes as EXPIRED), then evict down to the
 *          bounds. A deadline past INT64_MAX - 1 saturates there. An entry
 *          heavier than max_weight is not kept: the callback gets it at
 *          once (CAPACITY) and nothing else is evicted for it (Caffeine's
 *          rule). DS_EINVAL: ttl < 0, or with no max_weight a total weight
 *          past UINT64_MAX (with max_weight, colder entries go first so
 *          the total never wraps); DS_ENOMEM: the cache, its timed state
 *          and W-TinyLFU's sketch are unchanged.
 *   ds_status name_del(name *c, K key, V *out, int64_t now)   DS_ENOTFOUND
 *          (also for an entry expired at now, which goes as EXPIRED); with
 *          out, the value moves to the caller and no callback runs;
 *          without, the callback runs with DELETED
 *   ds_status name_get_or_load(name *c, K key, int64_t now,
 *              ds_status (*loader)(void *lctx, K const *key, V *out, int64_t *ttl),
 *              void *lctx, V **out)
 *          read-through: a hit returns DS_OK and *out; a miss calls the
 *          loader once (which may set *ttl, preset to the default TTL) and
 *          caches what it returns. A loader error caches nothing and is
 *          returned, except DS_ENOTFOUND with negative_ttl > 0, which is
 *          cached as a negative entry (later calls return DS_ENOTFOUND
 *          without loading until it expires).
 *   ds_status name_set_capacity(name *c, size_t max_entries, uint64_t max_weight, int64_t now)
 *          DS_EINVAL (nothing changes): max_entries of 2^31 or more, or
 *          W-TinyLFU switching between an entry and a weight bound
 *   size_t name_expire(name *c, int64_t now, size_t budget)  dead entries removed
 *   size_t name_len(c); uint64_t name_weight(c); ds_cache_stats name_stats(c)
 *   void   name_reset_stats(c)
 *   uint32_t name_first(c), name_next(c, it)   most to least recent (W-TinyLFU:
 *          window, then protected, then probation); DS_CACHE_END at the end.
 *          K *name_key(c, it), V *name_val(c, it). Do not modify the cache
 *          while iterating.
 *
 * Complexity: get/put/del O(1) expected (O(log n) with TTLs: the deadline
 * heap); expire O(budget log n); set_capacity O(evicted).
 * Memory: one node per entry, sizeof(K) + sizeof(V) + 9 bytes of links
 * (padded to the node's alignment); plus 16 bytes per entry for deadlines
 * once any entry has a TTL (24 with expire_after_access); plus the index, 5
 * bytes a slot at up to 7/8 load; plus, for W-TinyLFU, about 8 bytes per entry
 * of frequency sketch (as Caffeine). DS_ENOMEM leaves the cache unchanged.
 * Thread-safety: none; get mutates (recency, stats). */

typedef enum ds_evict {
    DS_EVICT_CAPACITY = 0,
    DS_EVICT_EXPIRED = 1,
    DS_EVICT_DELETED = 2,
    DS_EVICT_REPLACED = 3
} ds_evict;
#define DS_EVICT_REASONS 4
DSDEF const char *ds_evict_name(ds_evict why);

typedef enum ds_cache_policy { DS_CACHE_LRU = 0, DS_CACHE_WTINYLFU = 1 } ds_cache_policy;

typedef struct ds_cache_stats {
    uint64_t hits, misses;           /* get, get_or_load lookups: a value returned, or not */
    uint64_t negative_hits;          /* misses answered by a cached "not found" (no load) */
    uint64_t loads, load_errors;     /* loader calls that succeeded / failed */
    uint64_t evictions[DS_EVICT_REASONS];
} ds_cache_stats;
/* hits / (hits + misses), 0 when there were no lookups. */
static inline double ds_cache_hit_rate(const ds_cache_stats *s) {
    uint64_t n = s->hits + s->misses;
    return n ? (double)s->hits / (double)n : 0.0;
}

#define DS_CACHE_END UINT32_MAX
#define DS__CSEG_WINDOW 0    /* the only list of plain LRU */
#define DS__CSEG_PROBATION 1
#define DS__CSEG_PROTECTED 2
#define DS__CF_SEG 3u        /* flags: segment bits */
#define DS__CF_NEG 4u        /* flags: a negative (known-absent) entry */

/* W-TinyLFU's frequency sketch: 4 rows of 4-bit counters packed 16 to a
 * word. No doorkeeper (Caffeine has none either): with one count per
 * access it cost hit rate on gli (250 entries, 5 seeds: 9.0-12.9% with it,
 * 15.4-16.0% without; 500: 27.7-31.0% vs 33.2-33.5%) and left OLTP within
 * 0.3 points. */
typedef struct ds__freq {
    uint64_t *rows;    /* 4 * width / 16 words, 64-byte aligned in mem */
    void *mem;         /* the allocation: DS__FREQ_BYTES(width) */
    size_t width;      /* counters per row, a power of two */
    uint64_t adds, sample;
    uint64_t missed;   /* the key a lookup just missed (and counted) ... */
    int pending;       /* ... while the put that follows it is still to come */
} ds__freq;

/* Per-node links, at the start of each typed node (before key and value). */
typedef struct ds__clink {
    uint32_t prev, next;
    uint8_t flags;           /* segment (DS__CF_SEG) | DS__CF_NEG */
} ds__clink;

/* The type-erased state every DS_LRU wraps. Nodes are one array of typed
 * structs {key, val, links}, so a hit touches the index and one node (plus
 * its list neighbours); deadlines live in side arrays that exist only once
 * an entry has a TTL, so a cache without TTLs pays nothing for them. */
typedef struct ds__cache {
    ds__map index;           /* slots: uint32 node id */
    unsigned char *nodes;    /* node_cap nodes of nsz bytes */
    size_t nsz;              /* node size (its ds__clink comes first) */
    int64_t *expire;         /* per node (INT64_MAX: never), when timed */
    int64_t *ttl;            /* per node, with expire_after_access */
    uint32_t *hpos, *heap;   /* deadline min-heap, when timed */
    int timed;               /* the deadline arrays are kept */
    uint32_t head[3], tail[3], free_list;
    size_t len, node_cap, used, nheap;
    uint64_t weight, segw[3];
    ds__freq freq;
    ds_cache_stats stats;
} ds__cache;

/* -- type-erased helpers (static inline; the _n forms take the node size,
 *    which the typed hit path passes as a constant, so they specialise:
 *    no load and no multiply by a runtime size per link) -- */

#define DS__CNIL UINT32_MAX

static inline ds__clink *ds__cln(const ds__cache *c, uint32_t id, size_t nsz) {
    return (ds__clink *)(void *)(c->nodes + (size_t)id * nsz);
}
static inline ds__clink *ds__cl(const ds__cache *c, uint32_t id) { return ds__cln(c, id, c->nsz); }
static inline unsigned ds__cache_seg(const ds__cache *c, uint32_t id) { return ds__cl(c, id)->flags & DS__CF_SEG; }
/* INT64_MAX is "never", even at now == INT64_MAX. */
static inline int ds__cache_dead(const ds__cache *c, uint32_t id, int64_t now) {
    return c->expire && c->expire[id] != INT64_MAX && c->expire[id] <= now;
}
static inline void ds__cache_unlink_n(ds__cache *c, uint32_t id, size_t nsz) {
    ds__clink *l = ds__cln(c, id, nsz);
    unsigned s = l->flags & DS__CF_SEG;
    if (l->prev != DS__CNIL) ds__cln(c, l->prev, nsz)->next = l->next; else c->head[s] = l->next;
    if (l->next != DS__CNIL) ds__cln(c, l->next, nsz)->prev = l->prev; else c->tail[s] = l->prev;
}
static inline void ds__cache_push_front_n(ds__cache *c, unsigned s, uint32_t id, size_t nsz) {
    ds__clink *l = ds__cln(c, id, nsz);
    l->flags = (uint8_t)((l->flags & ~DS__CF_SEG) | s);
    l->prev = DS__CNIL;
    l->next = c->head[s];
    if (c->head[s] != DS__CNIL) ds__cln(c, c->head[s], nsz)->prev = id; else c->tail[s] = id;
    c->head[s] = id;
}
static inline void ds__cache_unlink(ds__cache *c, uint32_t id) { ds__cache_unlink_n(c, id, c->nsz); }
static inline void ds__cache_push_front(ds__cache *c, unsigned s, uint32_t id) {
    ds__cache_push_front_n(c, s, id, c->nsz);
}

/* now + ttl (ttl > 0), saturating at INT64_MAX - 1 (INT64_MAX is "never"):
 * a TTL that reaches past the end of time is as good as forever, and a
 * negative now cannot overflow the sum. */
static inline int64_t ds__cache_deadline(int64_t now, int64_t ttl) {
    return now > 0 && ttl > INT64_MAX - 1 - now ? INT64_MAX - 1 : now + ttl;
}
/* Undo a first put_ttl's switch to timed when that put then fails: free the
 * deadline arrays it allocated (no entry has a deadline yet). */
static inline void ds__cache_untime(ds__cache *c, const ds_alloc *a) {
    if (c->expire) {
        DS_FREE(a, c->expire, c->node_cap * 8);
        DS_FREE(a, c->hpos, c->node_cap * 4);
        DS_FREE(a, c->heap, c->node_cap * 4);
        if (c->ttl) DS_FREE(a, c->ttl, c->node_cap * 8);
    }
    c->expire = c->ttl = NULL;
    c->hpos = c->heap = NULL;
    c->nheap = 0;
    c->timed = 0;
}

/* Deadline min-heap over node ids (nodes that never expire are not in it). */
static inline void ds__cheap_place(ds__cache *c, size_t i, uint32_t id) {
    c->heap[i] = id;
    c->hpos[id] = (uint32_t)i;
}
static inline void ds__cheap_sift(ds__cache *c, size_t i) {
    uint32_t id = c->heap[i];
    int64_t e = c->expire[id];
    size_t k;
    while (i > 0 && e < c->expire[c->heap[(i - 1) / 2]]) {
        ds__cheap_place(c, i, c->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    while ((k = 2 * i + 1) < c->nheap) {
        if (k + 1 < c->nheap && c->expire[c->heap[k + 1]] < c->expire[c->heap[k]]) k++;
        if (c->expire[c->heap[k]] >= e) break;
        ds__cheap_place(c, i, c->heap[k]);
        i = k;
    }
    ds__cheap_place(c, i, id);
}
/* Set id's deadline, entering or leaving the heap as needed. */
static inline void ds__cache_set_expire(ds__cache *c, uint32_t id, int64_t when) {
    uint32_t at;
    if (!c->expire) return; /* untimed: every entry is "never" (callers make it timed first) */
    at = c->hpos[id];
    c->expire[id] = when;
    if (when == INT64_MAX) {
        if (at != DS__CNIL) {
            uint32_t last = c->heap[--c->nheap];
            c->hpos[id] = DS__CNIL;
            if (last != id) {
                ds__cheap_place(c, at, last);
                ds__cheap_sift(c, at);
            }
        }
    } else if (at == DS__CNIL) {
        ds__cheap_place(c, c->nheap++, id);
        ds__cheap_sift(c, c->nheap - 1);
    } else {
        ds__cheap_sift(c, at);
    }
}

/* -- W-TinyLFU frequency sketch -- */
/* The counters plus room to start them on a cache line: a key's 64-byte
 * block must not straddle two lines, or each access costs two misses. */
#define DS__FREQ_BYTES(width) ((width) / 4 * 8 + 56)
static inline void ds__freq_free(ds__freq *f, const ds_alloc *a) {
    if (f->mem) DS_FREE(a, f->mem, DS__FREQ_BYTES(f->width));
    memset(f, 0, sizeof *f);
}
/* Counters for about `entries` keys (4 per key), zeroed; the old ones go. */
static inline ds_status ds__freq_alloc(ds__freq *f, size_t entries, const ds_alloc *a) {
    size_t w = 64;
    unsigned char *mem;
    while (w < 4 * entries && w < ((size_t)1 << 40)) w <<= 1;
    /* 4 rows * w counters * 4 bits = w / 2 bytes = w / 16 words per row */
    if (!(mem = (unsigned char *)DS_MALLOC(a, DS__FREQ_BYTES(w)))) return DS_ENOMEM;
    if (f->mem) DS_FREE(a, f->mem, DS__FREQ_BYTES(f->width));
    f->mem = mem;
    f->rows = (uint64_t *)(void *)(mem + ((64 - (uintptr_t)mem % 64) % 64)); /* malloc: 8-aligned at least */
    memset(f->rows, 0, w / 4 * 8);
    f->width = w;
    f->adds = 0;
    return DS_OK;
}
/* At init, sized for max_entries up to 2^16 entries (512 KiB; weight
 * bounds: 1024 entries), so the sketch has counts from the first access,
 * as in Caffeine's simulator; past that it grows with the entries actually
 * held (below): a cache bounded at 2^31 entries does not pay 17 GiB up
 * front. Aging runs every 10 x capacity accesses. */
static inline ds_status ds__freq_init(ds__freq *f, size_t max_entries, const ds_alloc *a) {
    size_t first = max_entries ? max_entries : 1024;
    memset(f, 0, sizeof *f);
    f->sample = 10 * (uint64_t)first;
    return ds__freq_alloc(f, first < ((size_t)1 << 16) ? first : ((size_t)1 << 16), a);
}
/* Caffeine's ensureCapacity: once the keys held outgrow the sketch (4
 * counters each) it moves to twice their number, at most max_entries when
 * bounded by entries; counts restart. A failed allocation keeps the old,
 * smaller sketch: it only estimates less well. */
static inline void ds__freq_ensure(ds__freq *f, size_t len, size_t max_entries, const ds_alloc *a) {
    size_t want = 2 * len;
    if (4 * len <= f->width || f->width >= ((size_t)1 << 40)) return;
    if (max_entries && want > max_entries) want = max_entries;
    /* At the bound already (len passes max_entries for a moment in every
     * insert into a full cache): reallocating would only zero the counts. */
    if (4 * want <= f->width) return;
    (void)ds__freq_alloc(f, want, a);
}
/* A key's counters (x = ds_mix64 of its hash, mixed once per access): all
 * four sit in one 64-byte block of 8 words, so an access costs one cache
 * miss, not four (the layout of Caffeine's newer sketch). Row r uses words
 * 2r and 2r+1: 5 bits of x from bit 40 + 5r pick the word (1) and the
 * nibble (4). The rows are written out, not looped: an access is on every
 * W-TinyLFU hit, and the loop spent ~125 instructions (now ~55). */
static inline uint64_t *ds__freq_block(const ds__freq *f, uint64_t x) {
    return f->rows + ((size_t)x & (f->width / 32 - 1)) * 8; /* width / 32 blocks */
}
DS__INLINE unsigned ds__freq_get1(const uint64_t *row, unsigned sel) {
    return (unsigned)(row[sel & 1u] >> ((sel >> 1 & 15u) * 4)) & 15u;
}
/* +1 unless saturated at 15, without a branch (the counter is random). */
DS__INLINE void ds__freq_inc1(uint64_t *row, unsigned sel) {
    uint64_t *w = row + (sel & 1u);
    unsigned shift = (sel >> 1 & 15u) * 4;
    *w += (uint64_t)(((*w >> shift) & 15u) != 15u) << shift;
}
static inline unsigned ds__freq_estimate(const ds__freq *f, uint64_t h) {
    uint64_t x = ds_mix64(h);
    const uint64_t *b = ds__freq_block(f, x);
    unsigned sel = (unsigned)(x >> 40);
    unsigned e0 = ds__freq_get1(b, sel), e1 = ds__freq_get1(b + 2, sel >> 5);
    unsigned e2 = ds__freq_get1(b + 4, sel >> 10), e3 = ds__freq_get1(b + 6, sel >> 15);
    e0 = e0 < e1 ? e0 : e1;
    e2 = e2 < e3 ? e2 : e3;
    return e0 < e2 ? e0 : e2;
}
/* Every 10 x capacity adds: halve every counter (out of line: rare). */
static DS__NOINLINE void ds__freq_age(ds__freq *f) {
    size_t i;
    for (i = 0; i < f->width / 4; i++) f->rows[i] = (f->rows[i] >> 1) & 0x7777777777777777ull;
    f->adds /= 2;
}
static inline void ds__freq_add(ds__freq *f, uint64_t h) {
    uint64_t x = ds_mix64(h);
    uint64_t *b = ds__freq_block(f, x);
    unsigned sel = (unsigned)(x >> 40);
    ds__freq_inc1(b, sel);
    ds__freq_inc1(b + 2, sel >> 5);
    ds__freq_inc1(b + 4, sel >> 10);
    ds__freq_inc1(b + 6, sel >> 15);
    if (DS__UNLIKELY(++f->adds >= f->sample)) ds__freq_age(f);
}
/* One count per access: a get that missed counted the key already, so the
 * put that follows it (the read-through pattern) does not count it again;
 * any other put is an access of its own. */
static inline void ds__freq_count(ds__freq *f, uint64_t h) {
    if (f->pending && f->missed == h) f->pending = 0;
    else ds__freq_add(f, h);
}

/* Free the node block and the deadline arrays (fields left as they are). */
static inline void ds__cache_free_arrays(ds__cache *c, const ds_alloc *a) {
    if (c->nodes) DS_FREE(a, c->nodes, c->node_cap * c->nsz);
    if (c->expire) {
        DS_FREE(a, c->expire, c->node_cap * 8);
        DS_FREE(a, c->hpos, c->node_cap * 4);
        DS_FREE(a, c->heap, c->node_cap * 4);
        if (c->ttl) DS_FREE(a, c->ttl, c->node_cap * 8);
    }
}
/* (Re)allocate the nodes for cap entries, and the deadline arrays if the
 * cache is timed, copying the live prefix [0, used). Everything is
 * allocated before anything is freed: on DS_ENOMEM nothing changed. */
static inline ds_status ds__cache_grow(ds__cache *c, size_t cap, int with_ttl, const ds_alloc *a) {
    unsigned char *nn;
    int64_t *ne = NULL, *nt = NULL;
    uint32_t *nh = NULL, *np = NULL;
    size_t nb, i, u = c->used;
    int ok;
    if (cap == 0 || cap > (size_t)DS__CNIL - 1 || cap > SIZE_MAX / 8 || !ds_size_mul(cap, c->nsz, &nb))
        return DS_EINVAL;
    nn = (unsigned char *)DS_MALLOC(a, nb);
    ok = nn != NULL;
    if (ok && c->timed) {
        ne = (int64_t *)DS_MALLOC(a, cap * 8);
        np = (uint32_t *)DS_MALLOC(a, cap * 4);
        nh = (uint32_t *)DS_MALLOC(a, cap * 4);
        if (with_ttl) nt = (int64_t *)DS_MALLOC(a, cap * 8);
        ok = ne && np && nh && (!with_ttl || nt);
    }
    if (!ok) {
        if (nn) DS_FREE(a, nn, nb);
        if (ne) DS_FREE(a, ne, cap * 8);
        if (np) DS_FREE(a, np, cap * 4);
        if (nh) DS_FREE(a, nh, cap * 4);
        if (nt) DS_FREE(a, nt, cap * 8);
        return DS_ENOMEM;
    }
    if (u) memcpy(nn, c->nodes, u * c->nsz);
    if (c->timed && c->expire) { /* carry the deadlines over */
        memcpy(ne, c->expire, u * 8);
        memcpy(np, c->hpos, u * 4);
        memcpy(nh, c->heap, c->nheap * 4);
        if (with_ttl) memcpy(nt, c->ttl, u * 8);
    } else if (c->timed) { /* becoming timed: every existing entry never expires */
        for (i = 0; i < u; i++) {
            ne[i] = INT64_MAX;
            np[i] = DS__CNIL;
            if (with_ttl) nt[i] = 0;
        }
    }
    ds__cache_free_arrays(c, a);
    c->nodes = nn;
    c->expire = ne;
    c->hpos = np;
    c->heap = nh;
    c->ttl = nt;
    c->node_cap = cap;
    return DS_OK;
}
/* Free the node and deadline arrays (the entries must be gone). */
static inline void ds__cache_release(ds__cache *c, const ds_alloc *a) {
    ds__cache_free_arrays(c, a);
    c->nodes = NULL;
    c->expire = c->ttl = NULL;
    c->hpos = c->heap = NULL;
    c->node_cap = c->used = c->nheap = 0;
    c->free_list = DS__CNIL;
}

#define DS__LRU_TYPES(name, K, V)                                                       \
    typedef struct name##_config {                                                      \
        size_t max_entries;                                                             \
        uint64_t max_weight;                                                            \
        uint64_t (*weigher)(void *ctx, K const *key, V const *val);                     \
        int64_t default_ttl;                                                            \
        int expire_after_access;                                                        \
        int64_t negative_ttl;                                                           \
        void (*on_evict)(void *ctx, K *key, V *val, ds_evict why);                      \
        void *ctx;                                                                      \
        ds_cache_policy policy;                                                         \
        const ds_alloc *alloc;                                                          \
        uint64_t seed;                                                                  \
    } name##_config;                                                                    \
    typedef struct name##_node { /* links and key share the first cache line */        \
        ds__clink l;                                                                    \
        K key;                                                                          \
        V val;                                                                          \
    } name##_node;                                                                      \
    typedef struct name {                                                               \
        ds__cache c;                                                                    \
        name##_config cfg;                                                              \
        uint64_t wmax, main_max, prot_max; /* W-TinyLFU segment budgets */              \
        uint64_t climb_hits, climb_misses; /* the hill climber's current sample */      \
        double climb_rate, climb_step;                                                  \
    } name;                                                                             \
    typedef ds_status (*name##_loader)(void *lctx, K const *key, V *out, int64_t *ttl)

#define DS__LRU_PROTOS(name, K, V, LINK)                                               \
    LINK ds_status name##_init(name *c, const name##_config *cfg);                     \
    LINK void name##_free(name *c);                                                    \
    LINK void name##_clear(name *c);                                                   \
    LINK V *name##_get(name *c, K key, int64_t now);                                   \
    LINK V *name##_peek(const name *c, K key, int64_t now);                            \
    LINK ds_status name##_put(name *c, K key, V val, int64_t now);                     \
    LINK ds_status name##_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now);    \
    LINK ds_status name##_del(name *c, K key, V *out, int64_t now);                    \
    LINK ds_status name##_get_or_load(name *c, K key, int64_t now, name##_loader load, \
                                      void *lctx, V **out);                            \
    LINK ds_status name##_set_capacity(name *c, size_t max_entries, uint64_t max_weight, \
                                       int64_t now);                                   \
    LINK size_t name##_expire(name *c, int64_t now, size_t budget);                    \
    LINK size_t name##_len(const name *c);                                             \
    LINK uint64_t name##_weight(const name *c);                                        \
    LINK size_t name##_memory(const name *c);                                          \
    LINK ds_cache_stats name##_stats(const name *c);                                   \
    LINK void name##_reset_stats(name *c);                                             \
    LINK uint32_t name##_first(const name *c);                                         \
    LINK uint32_t name##_next(const name *c, uint32_t it);                             \
    LINK K *name##_key(const name *c, uint32_t it);                                    \
    LINK V *name##_val(const name *c, uint32_t it)

#define DS__LRU_IMPL(name, K, V, hash, eq, LINK)                                        \
    typedef struct name##__probe {                                                      \
        const name##_node *nodes;                                                       \
        K key;                                                                          \
    } name##__probe;                                                                    \
    static inline name##_node *name##__n(const name *c, uint32_t id) {                  \
        return (name##_node *)(void *)c->c.nodes + id;                                  \
    }                                                                                   \
    static inline K *name##__k(const name *c, uint32_t id) { return &name##__n(c, id)->key; } \
    static inline V *name##__v(const name *c, uint32_t id) { return &name##__n(c, id)->val; } \
    static inline int name##__ieq(const void *p, const void *slot) {                    \
        const name##__probe *q = (const name##__probe *)p;                              \
        uint32_t id;                                                                    \
        memcpy(&id, slot, 4);                                                           \
        return (eq(q->nodes[id].key, q->key)) != 0;                                     \
    }                                                                                   \
    /* Node id of key (DS__CNIL if absent) and its index slot. */                       \
    DS__INLINE uint32_t name##__find(const name *c, K key, uint64_t h, size_t *slot) {   \
        name##__probe q;                                                                \
        size_t i;                                                                       \
        uint32_t id = DS__CNIL;                                                         \
        q.nodes = (const name##_node *)(const void *)c->c.nodes;                        \
        q.key = key;                                                                    \
        i = ds__map_find(&c->c.index, h, &q, 4, name##__ieq);                           \
        if (i != DS__NPOS) memcpy(&id, c->c.index.slots + 4 * i, 4);                   \
        if (slot) *slot = i;                                                            \
        return id;                                                                      \
    }                                                                                   \
    static inline uint64_t name##__weight_of(const name *c, uint32_t id) {             \
        return c->cfg.weigher ? c->cfg.weigher(c->cfg.ctx, name##__k(c, id), name##__v(c, id)) : 1u; \
    }                                                                                   \
    /* A fresh index with room for n live nodes, filled from the lists. */              \
    static inline ds_status name##__build_index(const name *c, size_t n, ds__map *out) { \
        size_t cap = ds__map_cap_for(n);                                                \
        unsigned s;                                                                     \
        ds_status st;                                                                   \
        if (!cap) return DS_EINVAL;                                                     \
        ds__map_init(out, c->cfg.alloc, c->c.index.seed);                               \
        if ((st = ds__map_resize(out, cap, 4, NULL)) != DS_OK) return st;               \
        for (s = 0; s < 3; s++) {                                                       \
            uint32_t id;                                                                \
            for (id = c->c.head[s]; id != DS__CNIL; id = ds__cl(&c->c, id)->next) {     \
                uint64_t h = hash(*name##__k(c, id), out->seed);                        \
                size_t i = ds__map_find_free(out, h);                                   \
                out->ctrl[i] = ds__map_tag(h);                                          \
                memcpy(out->slots + 4 * i, &id, 4);                                     \
                out->len++;                                                             \
                out->growth_left--;                                                     \
            }                                                                           \
        }                                                                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    /* Room for one more node and its index slot; nothing changes on failure. */        \
    static inline ds_status name##__reserve_one(name *c) {                              \
        ds__map idx;                                                                    \
        ds_status st;                                                                   \
        if (c->c.free_list == DS__CNIL && c->c.used == c->c.node_cap) {                 \
            size_t cap = c->c.node_cap < 8 ? 16 : c->c.node_cap * 2;                    \
            if (c->cfg.max_entries && cap > c->cfg.max_entries + 1)                     \
                cap = c->cfg.max_entries + 1 > c->c.node_cap ? c->cfg.max_entries + 1 : c->c.node_cap + 1; \
            if ((st = name##__build_index(c, cap, &idx)) != DS_OK) return st;           \
            st = ds__cache_grow(&c->c, cap, c->cfg.expire_after_access, c->cfg.alloc);   \
            if (st != DS_OK) {                                                          \
                ds__map_free(&idx, 4);                                                  \
                return st;                                                              \
            }                                                                           \
            ds__map_free(&c->c.index, 4);                                               \
            c->c.index = idx;                                                           \
        } else if (c->c.index.growth_left == 0) {                                       \
            /* Tombstones used the budget: rebuild at the same size. */                 \
            if ((st = name##__build_index(c, c->c.node_cap, &idx)) != DS_OK) return st; \
            ds__map_free(&c->c.index, 4);                                               \
            c->c.index = idx;                                                           \
        }                                                                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    /* Take id out of every structure, then tell the owner (call != 0). */              \
    static inline void name##__remove(name *c, uint32_t id, ds_evict why, int call) {   \
        K k = *name##__k(c, id);                                                        \
        V v = *name##__v(c, id);                                                        \
        uint64_t w = name##__weight_of(c, id);                                          \
        size_t slot;                                                                    \
        unsigned s = ds__cache_seg(&c->c, id);                                          \
        (void)name##__find(c, k, hash(k, c->c.index.seed), &slot);                      \
        ds__map_erase_at(&c->c.index, slot);                                            \
        ds__cache_unlink(&c->c, id);                                                    \
        ds__cache_set_expire(&c->c, id, INT64_MAX);                                     \
        c->c.segw[s] -= w;                                                              \
        c->c.weight -= w;                                                               \
        c->c.len--;                                                                     \
        ds__cl(&c->c, id)->flags = 0;                                                   \
        ds__cl(&c->c, id)->next = c->c.free_list;                                       \
        c->c.free_list = id;                                                            \
        c->c.stats.evictions[why]++;                                                    \
        if (call && c->cfg.on_evict) c->cfg.on_evict(c->cfg.ctx, &k, &v, why);          \
    }                                                                                   \
    static inline int name##__over(const name *c) {                                     \
        return (c->cfg.max_entries && c->c.len > c->cfg.max_entries) ||                 \
               (c->cfg.max_weight && c->c.weight > c->cfg.max_weight);                  \
    }                                                                                   \
    static inline uint64_t name##__base(const name *c) {                                \
        return c->cfg.max_weight ? c->cfg.max_weight : (uint64_t)c->cfg.max_entries;   \
    }                                                                                   \
    /* Segment budgets for a window of w (clamped to [1, base]). */                    \
    static inline void name##__split(name *c, uint64_t w) {                             \
        uint64_t base = name##__base(c);                                                \
        c->wmax = w < 1 ? 1 : w > base ? base : w;                                      \
        c->main_max = base > c->wmax ? base - c->wmax : 0;                              \
        c->prot_max = c->main_max - c->main_max / 5;                                    \
    }                                                                                   \
    static inline void name##__sizes(name *c) {                                         \
        uint64_t base = name##__base(c);                                                \
        name##__split(c, base / 100);                                                   \
        c->climb_hits = c->climb_misses = 0;                                            \
        c->climb_rate = 0;                                                              \
        c->climb_step = -0.0625 * (double)base;                                         \
    }                                                                                   \
    static inline uint64_t name##__key_hash(const name *c, uint32_t id) {              \
        return hash(*name##__k(c, id), c->c.index.seed);                                \
    }                                                                                   \
    /* Evict down to the bounds, and only while over them: dead entries first           \
     * (soonest deadline), then by policy. W-TinyLFU: the window's overflow             \
     * moves to main's probation (nothing evicted for it); while the cache is           \
     * over its bound, the entries it moved (oldest first) contest probation's          \
     * LRU victim on estimated frequency and the loser leaves (Caffeine's               \
     * evictFromMain). With no contest left, LRU order: probation, protected,           \
     * window. */                                                                       \
    /* Protected's overflow back to probation's front (most recent). */                \
    static inline void name##__demote(name *c) {                                        \
        ds__cache *x = &c->c;                                                           \
        while (x->segw[DS__CSEG_PROTECTED] > c->prot_max) {                             \
            uint32_t d = x->tail[DS__CSEG_PROTECTED];                                   \
            uint64_t w = name##__weight_of(c, d);                                       \
            ds__cache_unlink(x, d);                                                     \
            x->segw[DS__CSEG_PROTECTED] -= w;                                           \
            ds__cache_push_front(x, DS__CSEG_PROBATION, d);                             \
            x->segw[DS__CSEG_PROBATION] += w;                                           \
        }                                                                               \
    }                                                                                   \
    static inline void name##__maintain(name *c, int64_t now) {                         \
        ds__cache *x = &c->c;                                                           \
        uint32_t cand = DS__CNIL;                                                       \
        while (x->len && name##__over(c) && x->nheap && x->expire[x->heap[0]] <= now)   \
            name##__remove(c, x->heap[0], DS_EVICT_EXPIRED, 1);                         \
        if (c->cfg.policy != DS_CACHE_WTINYLFU) {                                       \
            while (x->len && name##__over(c)) name##__remove(c, x->tail[0], DS_EVICT_CAPACITY, 1); \
            return;                                                                     \
        }                                                                               \
        while (x->segw[DS__CSEG_WINDOW] > c->wmax && x->tail[DS__CSEG_WINDOW] != DS__CNIL) { \
            uint32_t m = x->tail[DS__CSEG_WINDOW];                                      \
            uint64_t w = name##__weight_of(c, m);                                       \
            ds__cache_unlink(x, m);                                                     \
            x->segw[DS__CSEG_WINDOW] -= w;                                              \
            ds__cache_push_front(x, DS__CSEG_PROBATION, m);                             \
            x->segw[DS__CSEG_PROBATION] += w;                                           \
            if (cand == DS__CNIL) cand = m; /* the first moved is the oldest */         \
        }                                                                               \
        while (x->len && name##__over(c)) {                                             \
            uint32_t victim = x->tail[DS__CSEG_PROBATION];                              \
            if (cand != DS__CNIL && victim != DS__CNIL && victim != cand) {             \
                if (ds__freq_estimate(&x->freq, name##__key_hash(c, cand)) >            \
                    ds__freq_estimate(&x->freq, name##__key_hash(c, victim))) {         \
                    name##__remove(c, victim, DS_EVICT_CAPACITY, 1);                    \
                } else {                                                                \
                    uint32_t next = ds__cl(x, cand)->prev; /* the next one moved */     \
                    name##__remove(c, cand, DS_EVICT_CAPACITY, 1);                      \
                    cand = next;                                                        \
                }                                                                       \
            } else {                                                                    \
                uint32_t v = victim != DS__CNIL ? victim                                \
                             : x->tail[DS__CSEG_PROTECTED] != DS__CNIL ? x->tail[DS__CSEG_PROTECTED] \
                                                                      : x->tail[DS__CSEG_WINDOW]; \
                if (v == cand) cand = ds__cl(x, cand)->prev;                            \
                name##__remove(c, v, DS_EVICT_CAPACITY, 1);                             \
            }                                                                           \
        }                                                                               \
        name##__demote(c);                                                              \
    }                                                                                   \
    /* Adaptive window (Einziger et al., "Adaptive Software Cache Management",  \
     * 2018; Caffeine's hill climber): every 10 x capacity lookups, compare the \
     * sample's hit rate with the last one; keep moving the window size the    \
     * same way if it helped, else turn back; steps decay by 0.98 and restart  \
     * at 6.25% of the capacity when the rate jumps by 5 points. A larger      \
     * window suits recency-heavy traces, a smaller one frequency-heavy ones.  \
     * Growing the window moves main's LRU entries into it (nothing evicted);  \
     * shrinking it lets the window's overflow through admission. */           \
    static inline void name##__climb(name *c, int64_t now) {                            \
        ds__cache *x = &c->c;                                                           \
        uint64_t base = name##__base(c), n;                                             \
        double rate, change, amount;                                                    \
        if (c->cfg.policy != DS_CACHE_WTINYLFU) return;                                 \
        n = c->climb_hits + c->climb_misses;                                            \
        if (n < 10 * base) return;                                                      \
        rate = (double)c->climb_hits / (double)n;                                       \
        change = rate - c->climb_rate;                                                  \
        amount = change >= 0 ? c->climb_step : -c->climb_step;                          \
        c->climb_step = (change >= 0.05 || change <= -0.05)                             \
                            ? 0.0625 * (double)base * (amount >= 0 ? 1.0 : -1.0)        \
                            : 0.98 * amount;                                            \
        c->climb_rate = rate;                                                           \
        c->climb_hits = c->climb_misses = 0;                                            \
        if (amount >= 1.0 || amount <= -1.0) {                                          \
            double w = (double)c->wmax + amount;                                        \
            name##__split(c, w <= 1.0 ? 1u : (uint64_t)w);                              \
            while (x->segw[DS__CSEG_PROBATION] + x->segw[DS__CSEG_PROTECTED] > c->main_max) { \
                uint32_t m = x->tail[DS__CSEG_PROBATION] != DS__CNIL                    \
                                 ? x->tail[DS__CSEG_PROBATION] : x->tail[DS__CSEG_PROTECTED]; \
                uint64_t mw = name##__weight_of(c, m);                                  \
                unsigned s = ds__cache_seg(x, m);                                       \
                ds__cache_unlink(x, m);                                                 \
                x->segw[s] -= mw;                                                       \
                ds__cache_push_front(x, DS__CSEG_WINDOW, m);                            \
                x->segw[DS__CSEG_WINDOW] += mw;                                         \
            }                                                                           \
            name##__maintain(c, now);                                                        \
        }                                                                               \
    }                                                                                   \
    /* A hit: recency (and promotion from probation), deadline on access. */            \
    static inline void name##__touch(name *c, uint32_t id, int64_t now) {               \
        ds__cache *x = &c->c;                                                           \
        unsigned s = ds__cln(x, id, sizeof(name##_node))->flags & DS__CF_SEG;           \
        if (x->head[s] != id || s == DS__CSEG_PROBATION) { /* already first: nothing */ \
            ds__cache_unlink_n(x, id, sizeof(name##_node));                             \
            if (s == DS__CSEG_PROBATION) {                                              \
                uint64_t w = name##__weight_of(c, id);                                  \
                x->segw[DS__CSEG_PROBATION] -= w;                                       \
                x->segw[DS__CSEG_PROTECTED] += w;                                       \
                s = DS__CSEG_PROTECTED;                                                 \
            }                                                                           \
            ds__cache_push_front_n(x, s, id, sizeof(name##_node));                      \
        }                                                                               \
        if (x->ttl && x->ttl[id] > 0)                                                   \
            ds__cache_set_expire(x, id, ds__cache_deadline(now, x->ttl[id]));           \
    }                                                                                   \
    /* After a hit: a touch changes no size and leaves the window as it    \
     * was, so there is nothing to evict (unless a bound was already        \
     * exceeded); W-TinyLFU may have promoted into a full protected         \
     * segment. The same as name##__maintain, without its idle loops. */    \
    static inline void name##__after_hit(name *c, int64_t now) {                        \
        if (name##__over(c)) name##__maintain(c, now);                                  \
        else if (c->cfg.policy == DS_CACHE_WTINYLFU) name##__demote(c);                 \
    }                                                                                   \
    static inline ds_status name##__insert(name *c, K key, V val, int64_t ttl, int64_t now, \
                                           unsigned flags) {                            \
        ds__cache *x = &c->c;                                                           \
        uint64_t h, nw, ow;                                                             \
        uint32_t id;                                                                    \
        int64_t deadline;                                                               \
        int flipped = 0;                                                                \
        ds_status st;                                                                   \
        if (ttl < 0) return DS_EINVAL;                                                  \
        deadline = ttl ? ds__cache_deadline(now, ttl) : INT64_MAX;                      \
        h = hash(key, x->index.seed);                                                   \
        id = name##__find(c, key, h, NULL);                                             \
        if (id != DS__CNIL && ds__cache_dead(x, id, now)) { /* an expiry, not a replace */ \
            name##__remove(c, id, DS_EVICT_EXPIRED, 1);                                 \
            id = DS__CNIL;                                                              \
        }                                                                               \
        nw = c->cfg.weigher ? c->cfg.weigher(c->cfg.ctx, &key, &val) : 1u;              \
        ow = id != DS__CNIL ? name##__weight_of(c, id) : 0;                             \
        if (c->cfg.max_weight && nw > c->cfg.max_weight) {                              \
            /* Heavier than the whole bound: it leaves at once and nothing              \
             * else is evicted for it (Caffeine's rule); an old pair under              \
             * the key is replaced all the same. */                                     \
            if (x->freq.rows) ds__freq_count(&x->freq, h);                              \
            if (id != DS__CNIL) name##__remove(c, id, DS_EVICT_REPLACED, 1);            \
            x->stats.evictions[DS_EVICT_CAPACITY]++;                                    \
            if (c->cfg.on_evict) c->cfg.on_evict(c->cfg.ctx, &key, &val, DS_EVICT_CAPACITY); \
            return DS_OK;                                                               \
        }                                                                               \
        if (nw > UINT64_MAX - (x->weight - ow)) { /* the total would wrap */            \
            if (!c->cfg.max_weight) return DS_EINVAL;                                   \
            /* Past max_weight anyway: evict the coldest others first, so the           \
             * sum never wraps (a node freed here means no allocation below). */        \
            while (nw > UINT64_MAX - (x->weight - ow)) {                                \
                unsigned s;                                                             \
                uint32_t v = DS__CNIL;                                                  \
                for (s = 0; s < 3 && v == DS__CNIL; s++) {                              \
                    v = x->tail[s == 0 ? DS__CSEG_PROBATION : s == 1 ? DS__CSEG_WINDOW : DS__CSEG_PROTECTED]; \
                    if (v == id && v != DS__CNIL) v = ds__cl(x, v)->prev;               \
                }                                                                       \
                if (v == DS__CNIL) return DS_EINVAL; /* only id itself: cannot be */    \
                name##__remove(c, v, ds__cache_dead(x, v, now) ? DS_EVICT_EXPIRED : DS_EVICT_CAPACITY, 1); \
            }                                                                           \
        }                                                                               \
        if (ttl && !x->timed) { /* the first TTL: start keeping deadlines */            \
            x->timed = flipped = 1;                                                     \
            if (x->node_cap &&                                                          \
                (st = ds__cache_grow(x, x->node_cap, c->cfg.expire_after_access, c->cfg.alloc)) != DS_OK) { \
                x->timed = 0;                                                           \
                return st;                                                              \
            }                                                                           \
        }                                                                               \
        if (id != DS__CNIL) { /* replace: the old pair goes to the callback */          \
            K ok = *name##__k(c, id);                                                   \
            V ov = *name##__v(c, id);                                                   \
            unsigned s = ds__cache_seg(x, id);                                          \
            if (x->freq.rows) ds__freq_count(&x->freq, h);                              \
            x->segw[s] -= ow;                                                           \
            x->weight -= ow;                                                            \
            *name##__k(c, id) = key;                                                    \
            *name##__v(c, id) = val;                                                    \
            ds__cl(x, id)->flags = (uint8_t)((ds__cl(x, id)->flags & DS__CF_SEG) | flags); \
            x->segw[s] += nw;                                                           \
            x->weight += nw;                                                            \
            if (x->ttl) x->ttl[id] = ttl;                                               \
            name##__touch(c, id, now);                                                  \
            ds__cache_set_expire(x, id, deadline);                                      \
            x->stats.evictions[DS_EVICT_REPLACED]++;                                    \
            if (c->cfg.on_evict) c->cfg.on_evict(c->cfg.ctx, &ok, &ov, DS_EVICT_REPLACED); \
            name##__maintain(c, now);                                                   \
            return DS_OK;                                                               \
        }                                                                               \
        if ((st = name##__reserve_one(c)) != DS_OK) {                                   \
            if (flipped) ds__cache_untime(x, c->cfg.alloc); /* as it was: untimed */    \
            return st;                                                                  \
        }                                                                               \
        if (x->freq.rows) ds__freq_count(&x->freq, h); /* once it cannot fail */        \
        if (x->free_list != DS__CNIL) {                                                 \
            id = x->free_list;                                                          \
            x->free_list = ds__cl(x, id)->next;                                         \
        } else {                                                                        \
            id = (uint32_t)x->used++;                                                   \
        }                                                                               \
        *name##__k(c, id) = key;                                                        \
        *name##__v(c, id) = val;                                                        \
        ds__cl(x, id)->flags = (uint8_t)flags;                                          \
        if (x->expire) {                                                                \
            x->hpos[id] = DS__CNIL;                                                     \
            x->expire[id] = INT64_MAX;                                                  \
        }                                                                               \
        if (x->ttl) x->ttl[id] = ttl;                                                   \
        ds__cache_set_expire(x, id, deadline);                                          \
        {                                                                               \
            size_t i = ds__map_find_free(&x->index, h);                                 \
            x->index.growth_left -= (size_t)(x->index.ctrl[i] == DS__CTRL_EMPTY);       \
            x->index.ctrl[i] = ds__map_tag(h);                                          \
            memcpy(x->index.slots + 4 * i, &id, 4);                                     \
            x->index.len++;                                                             \
        }                                                                               \
        ds__cache_push_front(x, DS__CSEG_WINDOW, id);                                   \
        x->segw[DS__CSEG_WINDOW] += nw;                                                 \
        x->weight += nw;                                                                \
        x->len++;                                                                       \
        if (x->freq.rows) ds__freq_ensure(&x->freq, x->len, c->cfg.max_entries, c->cfg.alloc); \
        name##__maintain(c, now);                                                            \
        return DS_OK;                                                                   \
    }                                                                                   \
    /* Live node of key at now, removing it if its deadline passed. */                  \
    static inline uint32_t name##__lookup(name *c, K key, int64_t now, uint64_t *hp) {  \
        uint64_t h = hash(key, c->c.index.seed);                                        \
        uint32_t id = name##__find(c, key, h, NULL);                                    \
        if (hp) *hp = h;                                                                \
        if (id != DS__CNIL && ds__cache_dead(&c->c, id, now)) {                         \
            name##__remove(c, id, DS_EVICT_EXPIRED, 1);                                 \
            id = DS__CNIL;                                                              \
        }                                                                               \
        if (c->c.freq.rows) {                                                           \
            ds__freq_add(&c->c.freq, h);                                                \
            c->c.freq.missed = h; /* a put of it next is the same access */            \
            c->c.freq.pending = id == DS__CNIL;                                         \
        }                                                                               \
        return id;                                                                      \
    }                                                                                   \
    LINK ds_status name##_init(name *c, const name##_config *cfg) {                     \
        name##_config z;                                                                \
        unsigned s;                                                                     \
        if (!c) return DS_EINVAL;                                                       \
        memset(c, 0, sizeof *c); /* a failed init leaves a struct free accepts */       \
        if (!cfg) {                                                                     \
            memset(&z, 0, sizeof z);                                                    \
            cfg = &z;                                                                   \
        }                                                                               \
        if (cfg->default_ttl < 0 || cfg->negative_ttl < 0 ||                            \
            cfg->max_entries >= ((size_t)1 << 31) ||                                    \
            (cfg->policy != DS_CACHE_LRU && cfg->policy != DS_CACHE_WTINYLFU) ||        \
            (cfg->policy == DS_CACHE_WTINYLFU && !cfg->max_entries == !cfg->max_weight)) \
            return DS_EINVAL;                                                           \
        memset(c, 0, sizeof *c);                                                        \
        c->cfg = *cfg;                                                                  \
        for (s = 0; s < 3; s++) c->c.head[s] = c->c.tail[s] = DS__CNIL;                 \
        c->c.free_list = DS__CNIL;                                                      \
        c->c.nsz = sizeof(name##_node);                                                 \
        c->c.timed = cfg->default_ttl > 0 || cfg->negative_ttl > 0 || cfg->expire_after_access; \
        ds__map_init(&c->c.index, cfg->alloc,                                           \
                     cfg->seed ? cfg->seed : ds__map_default_seed((uintptr_t)(void *)c)); \
        name##__sizes(c);                                                               \
        if (cfg->policy == DS_CACHE_WTINYLFU)                                           \
            return ds__freq_init(&c->c.freq, cfg->max_entries, cfg->alloc);             \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK void name##_clear(name *c) {                                                   \
        unsigned s;                                                                     \
        if (!c || !c->c.nodes) return; /* zeroed, freed or never filled: empty */      \
        for (s = 0; s < 3; s++)                                                         \
            while (c->c.tail[s] != DS__CNIL) name##__remove(c, c->c.tail[s], DS_EVICT_DELETED, 1); \
    }                                                                                   \
    LINK void name##_free(name *c) {                                                    \
        if (!c) return;                                                                 \
        name##_clear(c);                                                                \
        ds__map_free(&c->c.index, 4);                                                   \
        ds__cache_release(&c->c, c->cfg.alloc);                                         \
        ds__freq_free(&c->c.freq, c->cfg.alloc);                                        \
    }                                                                                   \
    LINK V *name##_get(name *c, K key, int64_t now) {                                   \
        uint32_t id;                                                                    \
        if (!c) return NULL;                                                            \
        name##__climb(c, now);                                                               \
        id = name##__lookup(c, key, now, NULL);                                         \
        if (id == DS__CNIL) {                                                           \
            c->c.stats.misses++;                                                        \
            c->climb_misses++;                                                          \
            return NULL;                                                                \
        }                                                                               \
        c->climb_hits++; /* the policy served it, value or not */                       \
        name##__touch(c, id, now);                                                      \
        name##__after_hit(c, now);                                                      \
        if (ds__cln(&c->c, id, sizeof(name##_node))->flags & DS__CF_NEG) {              \
            c->c.stats.misses++;                                                        \
            c->c.stats.negative_hits++;                                                 \
            return NULL;                                                                \
        }                                                                               \
        c->c.stats.hits++;                                                              \
        return name##__v(c, id);                                                        \
    }                                                                                   \
    LINK V *name##_peek(const name *c, K key, int64_t now) {                            \
        uint32_t id;                                                                    \
        if (!c) return NULL;                                                            \
        id = name##__find(c, key, hash(key, c->c.index.seed), NULL);                    \
        if (id == DS__CNIL || ds__cache_dead(&c->c, id, now) || (ds__cl(&c->c, id)->flags & DS__CF_NEG)) \
            return NULL;                                                                \
        return name##__v(c, id);                                                        \
    }                                                                                   \
    LINK ds_status name##_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now) {    \
        if (!c) return DS_EINVAL;                                                       \
        return name##__insert(c, key, val, ttl, now, 0);                                \
    }                                                                                   \
    LINK ds_status name##_put(name *c, K key, V val, int64_t now) {                     \
        if (!c) return DS_EINVAL;                                                       \
        return name##__insert(c, key, val, c->cfg.default_ttl, now, 0);                 \
    }                                                                                   \
    LINK ds_status name##_del(name *c, K key, V *out, int64_t now) {                    \
        uint32_t id;                                                                    \
        if (!c) return DS_EINVAL;                                                       \
        id = name##__find(c, key, hash(key, c->c.index.seed), NULL);                    \
        if (id == DS__CNIL) return DS_ENOTFOUND;                                        \
        if (ds__cache_dead(&c->c, id, now)) { /* gone already: an expiry, not a del */  \
            name##__remove(c, id, DS_EVICT_EXPIRED, 1);                                 \
            return DS_ENOTFOUND;                                                        \
        }                                                                               \
        if (out) *out = *name##__v(c, id);                                              \
        name##__remove(c, id, DS_EVICT_DELETED, out == NULL);                           \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_get_or_load(name *c, K key, int64_t now, name##_loader load,  \
                                      void *lctx, V **out) {                            \
        uint32_t id;                                                                    \
        V v;                                                                            \
        int64_t ttl;                                                                    \
        ds_status st;                                                                   \
        if (out) *out = NULL;                                                           \
        if (!c || !load) return DS_EINVAL;                                              \
        name##__climb(c, now);                                                               \
        id = name##__lookup(c, key, now, NULL);                                         \
        if (id != DS__CNIL) {                                                           \
            c->climb_hits++;                                                            \
            name##__touch(c, id, now);                                                  \
            name##__after_hit(c, now);                                                  \
            if (ds__cln(&c->c, id, sizeof(name##_node))->flags & DS__CF_NEG) {          \
                c->c.stats.misses++;                                                    \
                c->c.stats.negative_hits++;                                             \
                return DS_ENOTFOUND;                                                    \
            }                                                                           \
            c->c.stats.hits++;                                                          \
            if (out) *out = name##__v(c, id);                                           \
            return DS_OK;                                                               \
        }                                                                               \
        c->c.stats.misses++;                                                            \
        c->climb_misses++;                                                              \
        memset(&v, 0, sizeof v);                                                        \
        ttl = c->cfg.default_ttl;                                                       \
        st = load(lctx, &key, &v, &ttl);                                                \
        if (st != DS_OK) {                                                              \
            c->c.stats.load_errors++;                                                   \
            if (st == DS_ENOTFOUND && c->cfg.negative_ttl > 0) {                        \
                memset(&v, 0, sizeof v);                                                \
                (void)name##__insert(c, key, v, c->cfg.negative_ttl, now, DS__CF_NEG);  \
            }                                                                           \
            return st;                                                                  \
        }                                                                               \
        c->c.stats.loads++;                                                             \
        if ((st = name##__insert(c, key, v, ttl, now, 0)) != DS_OK) {                   \
            /* Not cached: hand the loaded pair to the owner, not lost. */              \
            if (c->cfg.on_evict) c->cfg.on_evict(c->cfg.ctx, &key, &v, DS_EVICT_DELETED); \
            return st;                                                                  \
        }                                                                               \
        id = name##__find(c, key, hash(key, c->c.index.seed), NULL);                    \
        if (out && id != DS__CNIL) *out = name##__v(c, id);                             \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_set_capacity(name *c, size_t max_entries, uint64_t max_weight, \
                                       int64_t now) {                                   \
        if (!c || max_entries >= ((size_t)1 << 31) ||                                   \
            (c->cfg.policy == DS_CACHE_WTINYLFU &&                                      \
             (!max_entries != !c->cfg.max_entries || !max_weight != !c->cfg.max_weight))) \
            return DS_EINVAL;                                                           \
        c->cfg.max_entries = max_entries;                                               \
        c->cfg.max_weight = max_weight;                                                 \
        name##__sizes(c);                                                               \
        name##__maintain(c, now);                                                            \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK size_t name##_expire(name *c, int64_t now, size_t budget) {                    \
        size_t n = 0;                                                                   \
        if (!c) return 0;                                                               \
        while (n < budget && c->c.nheap && c->c.expire[c->c.heap[0]] <= now) {          \
            name##__remove(c, c->c.heap[0], DS_EVICT_EXPIRED, 1);                       \
            n++;                                                                        \
        }                                                                               \
        return n;                                                                       \
    }                                                                                   \
    LINK size_t name##_len(const name *c) { return c ? c->c.len : 0; }                 \
    LINK uint64_t name##_weight(const name *c) { return c ? c->c.weight : 0; }          \
    LINK size_t name##_memory(const name *c) {                                          \
        if (!c) return 0;                                                               \
        return c->c.node_cap * (c->c.nsz + (c->c.expire ? 16u : 0u) + (c->c.ttl ? 8u : 0u)) + \
               (c->c.index.cap ? ds__map_bytes(c->c.index.cap, 4) : 0) +                \
               (c->c.freq.rows ? DS__FREQ_BYTES(c->c.freq.width) : 0);                  \
    }                                                                                   \
    LINK ds_cache_stats name##_stats(const name *c) {                                   \
        ds_cache_stats z;                                                               \
        if (c) return c->c.stats;                                                       \
        memset(&z, 0, sizeof z);                                                        \
        return z;                                                                       \
    }                                                                                   \
    LINK void name##_reset_stats(name *c) {                                             \
        if (c) memset(&c->c.stats, 0, sizeof c->c.stats);                               \
    }                                                                                   \
    /* Iteration order: window (the whole list for LRU), protected, probation. */       \
    static inline uint32_t name##__seg_from(const name *c, int k) {                     \
        static const unsigned order[3] = {DS__CSEG_WINDOW, DS__CSEG_PROTECTED, DS__CSEG_PROBATION}; \
        for (; k < 3; k++)                                                              \
            if (c->c.head[order[k]] != DS__CNIL) return c->c.head[order[k]];            \
        return DS_CACHE_END;                                                            \
    }                                                                                   \
    LINK uint32_t name##_first(const name *c) { return c ? name##__seg_from(c, 0) : DS_CACHE_END; } \
    LINK uint32_t name##_next(const name *c, uint32_t it) {                             \
        unsigned s;                                                                     \
        if (!c || it == DS_CACHE_END) return DS_CACHE_END;                              \
        if (ds__cl(&c->c, it)->next != DS__CNIL) return ds__cl(&c->c, it)->next;        \
        s = ds__cache_seg(&c->c, it);                                                   \
        return name##__seg_from(c, s == DS__CSEG_WINDOW ? 1 : s == DS__CSEG_PROTECTED ? 2 : 3); \
    }                                                                                   \
    LINK K *name##_key(const name *c, uint32_t it) { return c && it != DS_CACHE_END ? name##__k(c, it) : NULL; } \
    LINK V *name##_val(const name *c, uint32_t it) { return c && it != DS_CACHE_END ? name##__v(c, it) : NULL; }

#define DS_LRU_DECLARE(name, K, V) \
    DS__LRU_TYPES(name, K, V);     \
    DS__LRU_PROTOS(name, K, V, extern);
#define DS_LRU_DEFINE(name, K, V, hash, eq) DS__LRU_IMPL(name, K, V, hash, eq, )
#define DS_LRU(name, K, V, hash, eq)                 \
    DS__LRU_TYPES(name, K, V);                       \
    DS__LRU_PROTOS(name, K, V, DS__LINK_STATIC);     \
    DS__LRU_IMPL(name, K, V, hash, eq, DS__LINK_STATIC)

/* -- memoization ----------------------------------------------------------
 * DS_MEMO(name, A, R, fn, hash, eq): wrap a pure function R fn(A) with an
 * LRU of its results (Python's functools.lru_cache; the embedding-cache
 * pattern). It instantiates DS_LRU(name##_lru, A, R, hash, eq).
 *
 *   ds_status name_init(name *m, size_t maxsize, const ds_alloc *a)
 *          maxsize 0 = unbounded. name_init_config for TTLs, weights,
 *          W-TinyLFU or an on_evict that frees owned results.
 *   R      name_call(name *m, A arg)   fn(arg), from the cache when it can;
 *          if the cache cannot take a new result (DS_ENOMEM) the computed
 *          result is still returned, just not kept. With a default_ttl in
 *          the config it measures TTLs on ds_now_ns().
 *   R      name_call_at(name *m, A arg, int64_t now)   the same at a
 *          caller's clock (simulated time, tests)
 *   ds_memo_info name_info(const name *m)   hits, misses, maxsize, currsize
 *   void   name_clear(name *m)          forget every result and the stats
 *   void   name_free(name *m)
 * Complexity: call O(1) expected plus fn on a miss. */
typedef struct ds_memo_info {
    uint64_t hits, misses;
    size_t maxsize, currsize;
} ds_memo_info;

#define DS_MEMO(name, A, R, fn, hash, eq)                                               \
    DS_LRU(name##_lru, A, R, hash, eq)                                                  \
    typedef struct name {                                                               \
        name##_lru lru;                                                                 \
    } name;                                                                             \
    static inline DS__UNUSED ds_status name##_init_config(name *m, const name##_lru_config *cfg) { \
        if (!m) return DS_EINVAL;                                                       \
        return name##_lru_init(&m->lru, cfg);                                           \
    }                                                                                   \
    static inline DS__UNUSED ds_status name##_init(name *m, size_t maxsize, const ds_alloc *a) { \
        name##_lru_config cfg;                                                          \
        memset(&cfg, 0, sizeof cfg);                                                    \
        cfg.max_entries = maxsize;                                                      \
        cfg.alloc = a;                                                                  \
        return name##_init_config(m, &cfg);                                             \
    }                                                                                   \
    static inline DS__UNUSED R name##_call_at(name *m, A arg, int64_t now) {            \
        R *hit = name##_lru_get(&m->lru, arg, now);                                     \
        R r;                                                                            \
        if (hit) return *hit;                                                           \
        r = fn(arg);                                                                    \
        (void)name##_lru_put(&m->lru, arg, r, now);                                     \
        return r;                                                                       \
    }                                                                                   \
    /* The clock is read only when the config has a TTL to measure. */                  \
    static inline DS__UNUSED R name##_call(name *m, A arg) {                            \
        return name##_call_at(m, arg, m->lru.cfg.default_ttl ? ds_now_ns() : 0);        \
    }                                                                                   \
    static inline DS__UNUSED ds_memo_info name##_info(const name *m) {                  \
        ds_memo_info i;                                                                 \
        ds_cache_stats s = name##_lru_stats(&m->lru);                                   \
        i.hits = s.hits;                                                                \
        i.misses = s.misses;                                                            \
        i.maxsize = m->lru.cfg.max_entries;                                             \
        i.currsize = name##_lru_len(&m->lru);                                           \
        return i;                                                                       \
    }                                                                                   \
    static inline DS__UNUSED void name##_clear(name *m) {                               \
        name##_lru_clear(&m->lru);                                                      \
        name##_lru_reset_stats(&m->lru);                                                \
    }                                                                                   \
    static inline DS__UNUSED void name##_free(name *m) { name##_lru_free(&m->lru); }

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CACHE_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_CACHE_IMPL)
#define DS_SRC_CACHE_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:cache == */

DSDEF const char *ds_evict_name(ds_evict why) {
    switch (why) {
    case DS_EVICT_CAPACITY: return "capacity";
    case DS_EVICT_EXPIRED: return "expired";
    case DS_EVICT_DELETED: return "deleted";
    case DS_EVICT_REPLACED: return "replaced";
    default: return "?";
    }
}


/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CACHE_IMPL */
