/* src/map.h - DS_MAP / DS_SET: open-addressing hash map and set
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/map.h"
 */
#ifndef DS_SRC_MAP_H
#define DS_SRC_MAP_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:map ==  DS_MAP(name, K, V, hash, eq) and DS_SET(name, K, hash, eq)
 * ========================================================================
 * Open addressing in the SwissTable layout (Google's Abseil; also the
 * design of boost::unordered_flat_map): one control byte per slot, holding
 * EMPTY (0), DELETED (1) or an 8-bit tag from the key's hash (2..255, as
 * boost's reduced hash; Abseil keeps 7 bits); slots in aligned
 * groups of 16 (SSE2) or 8 (portable SWAR) probed a group at a time, the
 * group index following the triangular sequence over a power-of-two number
 * of groups. A lookup compares 16 control bytes at once and touches a slot
 * only on a tag match (1/254 false positives: half Abseil's 1/128, which
 * matters because a false positive on a miss costs a cache miss into the
 * slots), so hits cost one control-byte cache line plus one slot line and
 * misses usually just the control line.
 *
 * Why this and not Robin Hood: equal speed on hits, a miss stops at the
 * first group with an EMPTY byte with no distance bookkeeping, and erasing
 * never moves another entry, so pointers and iterators stay valid across
 * del and deleting the current entry while iterating is allowed.
 *
 * Tombstones do not build up: an erased slot in a group that still has an
 * EMPTY byte becomes EMPTY again (no probe ever continued past that group),
 * and only filling an EMPTY slot spends the insert budget. When the budget
 * is spent the table rehashes: at the same size if at most half of the
 * maximum load is live (that purges every tombstone), else at double size.
 * So a churn of del+put at constant size keeps a bounded table.
 *
 * Maximum load factor 7/8. Capacity is 0 or a power of two >= the group
 * width. Memory: capacity * (sizeof(entry) + 1) + 64 bytes in one
 * allocation (the slots start on a 64-byte boundary).
 *
 * hash(K key, uint64_t seed) -> uint64_t must mix all 64 bits (the group
 * comes from bits 8 and up, the tag from the low 8): use
 * ds_hash_u64, ds_hash_str, ds_hash_bytes, or your own well-mixed hash.
 * eq(K a, K b) -> nonzero when equal. Both may be functions or macros.
 *
 * Seeds: init/init_alloc draw a per-instance seed from the clock and the
 * table's address, so iteration order differs between runs and instances
 * (HashDoS hardening). init_seed fixes it for reproducible tests.
 *
 *   void   name_init(name *m), name_init_alloc(name *m, const ds_alloc *a)
 *   void   name_init_seed(name *m, const ds_alloc *a, uint64_t seed)
 *   void   name_free(name *m)                    releases memory, re-inits (same seed)
 *   void   name_clear(name *m)                   removes all, keeps capacity
 *   size_t name_len(const name *m), name_capacity(const name *m)
 *   size_t name_memory(const name *m)            bytes allocated
 *   ds_status name_reserve(name *m, size_t n)    room for n without rehash
 *   ds_status name_shrink(name *m)               smallest capacity holding len
 *   V     *name_get(const name *m, K key)        pointer to the value or NULL
 *   int    name_has(const name *m, K key)
 *   ds_status name_put(name *m, K key, V val, int *is_new)
 *          insert or overwrite; *is_new (may be NULL) = 1 if the key was new
 *   ds_status name_insert(name *m, K key, V val)  DS_EEXIST if present (unchanged)
 *   V     *name_get_or_add(name *m, K key, int *is_new)
 *          the value slot for key, added zero-filled if new; NULL on ENOMEM
 *   ds_status name_del(name *m, K key, V *out)   DS_ENOTFOUND; out may be NULL
 *   void   name_del_entry(name *m, name_entry *e) erase what e points at (an
 *          entry from first/next/get_or_add; anything else is ignored)
 *   name_entry *name_first(const name *m), *name_next(const name *m, const name_entry *e)
 *          iteration in table order (DS_FOREACH(name, m, e): e->key, e->val)
 *   DS_SET: the same without V: put(m, key, is_new), insert(m, key), del(m, key),
 *          get returns const K* of the stored key.
 *
 * Complexity: get/put/del expected O(1); reserve/shrink/rehash O(capacity).
 * Errors: DS_ENOMEM (map unchanged: a put that needs to grow allocates the
 * new table before touching the old), DS_EINVAL (size overflow).
 * Pointers to entries stay valid until the next put/insert/get_or_add/
 * reserve/shrink/clear (which may rehash); del never moves other entries. */

#define DS__CTRL_EMPTY ((uint8_t)0)
#define DS__CTRL_DELETED ((uint8_t)1)
#define DS__CTRL_FULL(c) ((c) >= 2)
/* Tag of a full slot: the hash's low byte moved off 0 and 1 (2 and 3 are
 * twice as likely as other tags; harmless), read from a table that holds
 * it in all four bytes of a word: a lookup broadcasts it across a group
 * with that one load and one shuffle (computing it took seven
 * instructions on the lookup's critical path). */
#define DS__TW1(t) (0x01010101u * (uint32_t)(t))
#define DS__TW4(t) DS__TW1(t), DS__TW1((t) + 1), DS__TW1((t) + 2), DS__TW1((t) + 3)
#define DS__TW16(t) DS__TW4(t), DS__TW4((t) + 4), DS__TW4((t) + 8), DS__TW4((t) + 12)
#define DS__TW64(t) DS__TW16(t), DS__TW16((t) + 16), DS__TW16((t) + 32), DS__TW16((t) + 48)
static const uint32_t ds__map_tagw[256] = {
    DS__TW1(2),   DS__TW1(3),    DS__TW1(2),    DS__TW1(3),   DS__TW4(4),
    DS__TW4(8),   DS__TW4(12),   DS__TW16(16),  DS__TW16(32), DS__TW16(48),
    DS__TW64(64), DS__TW64(128), DS__TW64(192)};
#undef DS__TW64
#undef DS__TW16
#undef DS__TW4
#undef DS__TW1
DS__INLINE uint8_t ds__map_tag(uint64_t h) { return (uint8_t)ds__map_tagw[(uint8_t)h]; }

#if (defined(__SSE2__) || defined(_M_X64) || defined(_M_AMD64)) && !defined(DS_NO_SIMD)
#include <emmintrin.h>
#define DS__GROUP 16
typedef uint32_t ds__bits; /* one bit per slot */
#define DS__BITS_SHIFT 0
/* Slots whose byte is the tag in w (the tag in each byte, ds__map_tagw). */
DS__INLINE ds__bits ds__grp_matchw(const uint8_t *g, uint32_t w) {
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)g);
    __m128i t = _mm_shuffle_epi32(_mm_cvtsi32_si128((int)w), 0);
    return (ds__bits)_mm_movemask_epi8(_mm_cmpeq_epi8(c, t));
}
DS__INLINE ds__bits ds__grp_empty(const uint8_t *g) {
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)g);
    return (ds__bits)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_setzero_si128()));
}
/* EMPTY or DELETED: the bytes <= 1, i.e. equal to their min with 1. */
DS__INLINE ds__bits ds__grp_free(const uint8_t *g) {
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)g);
    return (ds__bits)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(c, _mm_set1_epi8(1)), c));
}
#else
/* Portable fallback: 8 control bytes in a word (SWAR); one bit per slot at
 * bit 8*i+7. Little-endian loads keep slot i in byte i. */
#define DS__GROUP 8
typedef uint64_t ds__bits;
#define DS__BITS_SHIFT 3
#define DS__LSB 0x0101010101010101ull
#define DS__MSB 0x8080808080808080ull
DS__INLINE uint64_t ds__grp_load(const uint8_t *g) {
    uint64_t w = 0;
    int i;
    for (i = 7; i >= 0; i--) w = (w << 8) | g[i];
    return w;
}
/* Zero bytes of x. The lowest reported bit is exact; a byte 0x01 just above
 * a zero byte may be reported too (the borrow). */
DS__INLINE uint64_t ds__swar_zero(uint64_t x) { return (x - DS__LSB) & ~x & DS__MSB; }
/* May report a false match above a true one; callers compare keys. */
DS__INLINE ds__bits ds__grp_matchw(const uint8_t *g, uint32_t w) {
    return ds__swar_zero(ds__grp_load(g) ^ ((uint64_t)w * 0x100000001ull));
}
/* Only ever tested for "any EMPTY", which the borrow cannot fake. */
DS__INLINE ds__bits ds__grp_empty(const uint8_t *g) { return ds__swar_zero(ds__grp_load(g)); }
/* Bytes 0 and 1 are the zero bytes once bit 0 is cleared; no byte is then
 * 0x01, so every reported bit is exact. */
DS__INLINE ds__bits ds__grp_free(const uint8_t *g) {
    return ds__swar_zero(ds__grp_load(g) & ~DS__LSB);
}
#endif
#define DS__BITS_FIRST(b) ((size_t)(ds__ctz64((uint64_t)(b)) >> DS__BITS_SHIFT))
/* A group is named by the index of its first slot: bits 8 and up of the
 * hash, masked by gmask (capacity - group width) after a shift that leaves
 * them in place as that index, so no multiply by the width follows. */
#define DS__GSHIFT (DS__GROUP == 16 ? 4 : 5)
#define DS__MAP_G0(m, h) ((size_t)((h) >> DS__GSHIFT) & (m)->gmask)

/* The type-erased table every DS_MAP/DS_SET wraps. */
typedef struct ds__map {
    uint8_t *ctrl;     /* capacity control bytes; a static EMPTY group when cap == 0 */
    unsigned char *slots;
    size_t gmask;      /* capacity - DS__GROUP: masks a group's first slot index; 0 when cap == 0 */
    size_t cap;        /* slots; 0 before the first insert */
    size_t len;
    size_t growth_left; /* EMPTY slots that may still be filled before a rehash */
    uint64_t seed;
    const ds_alloc *alloc;
} ds__map;

typedef int (*ds__map_eq_fn)(const void *key, const void *entry);
typedef uint64_t (*ds__map_hash_fn)(const void *entry, uint64_t seed);
#define DS__NPOS ((size_t)-1)

/* A shared read-only all-EMPTY group lets lookups on an empty table run
 * the normal path without a NULL check. */
static const uint8_t ds__empty_group[16] = {0};

static inline size_t ds__map_max_load(size_t cap) { return cap - cap / 8; }

static inline void ds__map_init(ds__map *m, const ds_alloc *a, uint64_t seed) {
    m->ctrl = (uint8_t *)(uintptr_t)ds__empty_group;
    m->slots = NULL;
    m->gmask = 0;
    m->cap = m->len = m->growth_left = 0;
    m->seed = seed;
    m->alloc = a;
}
DSDEF uint64_t ds__map_default_seed(uintptr_t addr);

/* Lookups in two parts, so that the loop a caller inlines is the first
 * group only: the slot holding key, DS__NPOS (absent), or DS__MORE (the
 * group is full and key may lie further on). At the loads a table runs at
 * a lookup goes on past its first group a few times in a hundred (an
 * average of 1.005 groups per miss at load 0.48, 1.04 at 0.6), so the
 * typed maps keep the rest of the probe out of line: it then takes no
 * registers in the caller's loop.
 *
 * On a tag match the first cache line of the group's slots is prefetched
 * before the match is decoded: its address depends on the hash only, so
 * on a hit (the branch predicted taken) the CPU fetches it alongside the
 * control bytes instead of after them, and a key in the group's first
 * slots (where inserts go first) costs one memory round trip, not two. */
#define DS__MORE ((size_t)-2)
DS__INLINE size_t ds__map_find_first(const ds__map *m, uint64_t h, const void *key, size_t esz,
                                     ds__map_eq_fn eq) {
    size_t g = DS__MAP_G0(m, h);
    const uint8_t *c = m->ctrl + g;
    ds__bits b = ds__grp_matchw(c, ds__map_tagw[(uint8_t)h]);
    if (b) DS__PREFETCH(m->slots + g * esz);
    while (b) {
        size_t i = g + DS__BITS_FIRST(b);
        if (DS__LIKELY(eq(key, m->slots + i * esz))) return i;
        b &= b - 1;
    }
    return DS__LIKELY(ds__grp_empty(c)) ? DS__NPOS : DS__MORE;
}
/* The groups after the first on h's probe sequence (triangular: the k-th
 * step moves k groups on, which visits every group of a power-of-two table). */
DS__INLINE size_t ds__map_find_rest(const ds__map *m, uint64_t h, const void *key, size_t esz,
                                    ds__map_eq_fn eq) {
    size_t g = DS__MAP_G0(m, h), step = 0;
    uint32_t w = ds__map_tagw[(uint8_t)h];
    for (;;) {
        const uint8_t *c;
        ds__bits b;
        step += DS__GROUP;
        g = (g + step) & m->gmask;
        c = m->ctrl + g;
        b = ds__grp_matchw(c, w);
        while (b) {
            size_t i = g + DS__BITS_FIRST(b);
            if (eq(key, m->slots + i * esz)) return i;
            b &= b - 1;
        }
        if (ds__grp_empty(c)) return DS__NPOS;
    }
}
/* Slot index holding key, or DS__NPOS. */
DS__INLINE size_t ds__map_find(const ds__map *m, uint64_t h, const void *key, size_t esz,
                               ds__map_eq_fn eq) {
    size_t i = ds__map_find_first(m, h, key, esz, eq);
    return DS__LIKELY(i != DS__MORE) ? i : ds__map_find_rest(m, h, key, esz, eq);
}

/* First EMPTY or DELETED slot on h's probe sequence (one always exists). */
DS__INLINE size_t ds__map_find_free(const ds__map *m, uint64_t h) {
    size_t g = DS__MAP_G0(m, h), step = 0;
    for (;;) {
        ds__bits b = ds__grp_free(m->ctrl + g);
        if (DS__LIKELY(b)) return g + DS__BITS_FIRST(b);
        step += DS__GROUP;
        g = (g + step) & m->gmask;
    }
}

/* One allocation per table: cap control bytes, then the slots from the
 * next 64-byte boundary (DS__MAP_PAD bytes of slack cover any malloc
 * alignment), so a group's slots start a cache line: with 16-byte entries
 * its first four share the line ds__map_find_first prefetches. */
#define DS__MAP_PAD 64
static inline size_t ds__map_bytes(size_t cap, size_t esz) { return cap * (esz + 1) + DS__MAP_PAD; }
static inline int ds__map_bytes_ok(size_t cap, size_t esz, size_t *bytes) {
    return ds_size_mul(cap, esz + 1, bytes) && *bytes <= SIZE_MAX - DS__MAP_PAD &&
           (*bytes += DS__MAP_PAD, 1);
}
static inline unsigned char *ds__map_slots_at(uint8_t *ctrl, size_t cap) {
    uintptr_t p = (uintptr_t)(ctrl + cap);
    return ctrl + cap + ((DS__MAP_PAD - (p & (DS__MAP_PAD - 1))) & (DS__MAP_PAD - 1));
}

static inline void ds__map_free(ds__map *m, size_t esz) {
    if (m->cap) DS_FREE(m->alloc, m->ctrl, ds__map_bytes(m->cap, esz));
    ds__map_init(m, m->alloc, m->seed);
}

static inline void ds__map_clear(ds__map *m) {
    if (!m->cap) return;
    memset(m->ctrl, DS__CTRL_EMPTY, m->cap);
    m->len = 0;
    m->growth_left = ds__map_max_load(m->cap);
}

/* Rehash every entry into nctrl, a fresh table of new_cap slots (a power
 * of two >= DS__GROUP that holds len, allocated by the caller), and free
 * the old one: cannot fail. The hash callback is a constant at each call
 * site, so the compiler can specialise this loop per key type. */
static inline void ds__map_adopt(ds__map *m, uint8_t *nctrl, size_t new_cap, size_t esz,
                                 ds__map_hash_fn hash) {
    size_t i;
    ds__map old = *m;
    memset(nctrl, DS__CTRL_EMPTY, new_cap);
    m->ctrl = nctrl;
    m->slots = ds__map_slots_at(nctrl, new_cap);
    m->cap = new_cap;
    m->gmask = new_cap - DS__GROUP;
    for (i = 0; i < old.cap; i++) {
        if (!DS__CTRL_FULL(old.ctrl[i])) continue;
        {
            const unsigned char *e = old.slots + i * esz;
            uint64_t h = hash(e, m->seed);
            size_t j = ds__map_find_free(m, h);
            m->ctrl[j] = ds__map_tag(h);
            memcpy(m->slots + j * esz, e, esz);
        }
    }
    m->growth_left = ds__map_max_load(new_cap) - m->len;
    if (old.cap) DS_FREE(m->alloc, old.ctrl, ds__map_bytes(old.cap, esz));
}

/* Rehash into a fresh table of new_cap slots. Allocates first: on failure
 * the map is untouched. */
static inline ds_status ds__map_resize(ds__map *m, size_t new_cap, size_t esz,
                                       ds__map_hash_fn hash) {
    size_t bytes;
    uint8_t *nctrl;
    if (!ds__map_bytes_ok(new_cap, esz, &bytes)) return DS_EINVAL;
    nctrl = (uint8_t *)DS_MALLOC(m->alloc, bytes);
    if (!nctrl) return DS_ENOMEM;
    ds__map_adopt(m, nctrl, new_cap, esz, hash);
    return DS_OK;
}

/* Capacity needed to hold n entries under the maximum load, or 0 on overflow. */
static inline size_t ds__map_cap_for(size_t n) {
    size_t need = n + n / 7 + 1; /* n / (7/8), rounded up */
    if (need < n) return 0;
    need = ds__pow2_ceil(need < DS__GROUP ? DS__GROUP : need);
    return need;
}

/* The table size a reserve of n needs: 0 when the map holds n already. */
static inline ds_status ds__map_reserve_cap(const ds__map *m, size_t n, size_t *cap) {
    *cap = 0;
    if (n <= m->len + m->growth_left) return DS_OK;
    *cap = ds__map_cap_for(n);
    if (!*cap) return DS_EINVAL;
    if (*cap < m->cap) *cap = m->cap; /* never shrink: tombstones ate the budget */
    return DS_OK;
}

/* Two-phase reserve, for calls with several allocations that must leave
 * everything as it was when a later one fails: *ctrl is a table for n
 * entries, allocated but not installed (NULL when the map holds n
 * already); ds__map_adopt installs it, ds__map_reserve_drop releases it. */
static inline ds_status ds__map_reserve_alloc(const ds__map *m, size_t n, size_t esz, uint8_t **ctrl,
                                              size_t *cap) {
    size_t bytes;
    ds_status st = ds__map_reserve_cap(m, n, cap);
    *ctrl = NULL;
    if (st != DS_OK || !*cap) return st;
    if (!ds__map_bytes_ok(*cap, esz, &bytes)) return DS_EINVAL;
    return (*ctrl = (uint8_t *)DS_MALLOC(m->alloc, bytes)) != NULL ? DS_OK : DS_ENOMEM;
}
static inline void ds__map_reserve_drop(const ds__map *m, uint8_t *ctrl, size_t cap, size_t esz) {
    if (ctrl) DS_FREE(m->alloc, ctrl, ds__map_bytes(cap, esz));
}

static inline ds_status ds__map_reserve(ds__map *m, size_t n, size_t esz, ds__map_hash_fn hash) {
    size_t cap;
    ds_status st = ds__map_reserve_cap(m, n, &cap);
    return st != DS_OK || !cap ? st : ds__map_resize(m, cap, esz, hash);
}

static inline ds_status ds__map_shrink(ds__map *m, size_t esz, ds__map_hash_fn hash) {
    size_t cap;
    if (m->len == 0) {
        ds__map_free(m, esz);
        return DS_OK;
    }
    cap = ds__map_cap_for(m->len);
    if (cap >= m->cap) return DS_OK;
    return ds__map_resize(m, cap, esz, hash);
}

/* Reserve a slot for a key known to be absent: returns its index with the
 * control byte set and len counted, or DS__NPOS on failure (*st says why).
 * The entry bytes are the caller's to fill. */
static inline size_t ds__map_claim(ds__map *m, uint64_t h, size_t esz, ds__map_hash_fn hash,
                                   ds_status *st) {
    size_t i = ds__map_find_free(m, h);
    if (DS__UNLIKELY(m->growth_left == 0 && m->ctrl[i] == DS__CTRL_EMPTY)) {
        /* Out of budget: purge tombstones at the same size when at most
         * half the maximum load is live, else double. */
        size_t cap = m->cap == 0 ? DS__GROUP : m->cap;
        if (m->len > ds__map_max_load(m->cap) / 2) {
            if (cap > SIZE_MAX / 2) { *st = DS_EINVAL; return DS__NPOS; }
            cap *= 2;
        }
        *st = ds__map_resize(m, cap, esz, hash);
        if (*st != DS_OK) return DS__NPOS;
        i = ds__map_find_free(m, h);
    }
    m->growth_left -= (size_t)(m->ctrl[i] == DS__CTRL_EMPTY);
    m->ctrl[i] = ds__map_tag(h);
    m->len++;
    return i;
}

static inline void ds__map_erase_at(ds__map *m, size_t i) {
    /* If the group still has an EMPTY byte, no probe sequence ever went
     * past it, so the slot can be EMPTY again instead of a tombstone. */
    if (ds__grp_empty(m->ctrl + (i & ~(size_t)(DS__GROUP - 1)))) {
        m->ctrl[i] = DS__CTRL_EMPTY;
        m->growth_left++;
    } else {
        m->ctrl[i] = DS__CTRL_DELETED;
    }
    m->len--;
}

/* Index of the first full slot at or after i, or cap. */
static inline size_t ds__map_scan(const ds__map *m, size_t i) {
    while (i < m->cap && !DS__CTRL_FULL(m->ctrl[i])) i++;
    return i;
}

/* Shared by DS_MAP and DS_SET: everything but the value-facing verbs. */
#define DS__TABLE_COMMON(name, K, hash, eq, LINK)                                       \
    static inline int name##__eq(const void *k, const void *e) {                        \
        return (eq(*(K const *)k, ((const name##_entry *)e)->key)) != 0;                \
    }                                                                                   \
    static inline uint64_t name##__hash(const void *e, uint64_t seed) {                 \
        return hash(((const name##_entry *)e)->key, seed);                              \
    }                                                                                   \
    static DS__UNUSED DS__NOINLINE size_t name##__find_rest(const name *m, uint64_t h, K key) { \
        return ds__map_find_rest(&m->m, h, &key, sizeof(name##_entry), name##__eq);     \
    }                                                                                   \
    static inline size_t name##__find_h(const name *m, K key, uint64_t h) {             \
        size_t i = ds__map_find_first(&m->m, h, &key, sizeof(name##_entry), name##__eq); \
        return DS__LIKELY(i != DS__MORE) ? i : name##__find_rest(m, h, key);            \
    }                                                                                   \
    static inline size_t name##__find(const name *m, K key) {                           \
        return name##__find_h(m, key, hash(key, m->m.seed));                            \
    }                                                                                   \
    static inline name##_entry *name##__slot(const name *m, size_t i) {                 \
        return (name##_entry *)(void *)(m->m.slots + i * sizeof(name##_entry));         \
    }                                                                                   \
    LINK ds_status name##_init_seed(name *m, const ds_alloc *a, uint64_t seed) {        \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        ds__map_init(&m->m, a, seed);                                                   \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_init_alloc(name *m, const ds_alloc *a) {                      \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        ds__map_init(&m->m, a, ds__map_default_seed((uintptr_t)(void *)m));                                \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_init(name *m) { return name##_init_alloc(m, NULL); }          \
    LINK void name##_free(name *m) { if (!m) return; ds__map_free(&m->m, sizeof(name##_entry)); } \
    LINK void name##_clear(name *m) { if (!m) return; ds__map_clear(&m->m); }            \
    LINK size_t name##_len(const name *m) { if (!m) return 0; return m->m.len; }         \
    LINK size_t name##_capacity(const name *m) { if (!m) return 0; return m->m.cap; }    \
    LINK size_t name##_memory(const name *m) { if (!m) return 0; return m->m.cap ? ds__map_bytes(m->m.cap, sizeof(name##_entry)) : 0; } \
    LINK ds_status name##_reserve(name *m, size_t n) {                                  \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        return ds__map_reserve(&m->m, n, sizeof(name##_entry), name##__hash);           \
    }                                                                                   \
    LINK ds_status name##_shrink(name *m) {                                             \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        return ds__map_shrink(&m->m, sizeof(name##_entry), name##__hash);               \
    }                                                                                   \
    LINK int name##_has(const name *m, K key) { if (!m) return 0; return name##__find(m, key) != DS__NPOS; } \
    LINK void name##_del_entry(name *m, name##_entry *e) {                              \
        size_t i;                                                                       \
        if (DS__UNLIKELY(!m || !e || !m->m.cap)) return;                                \
        i = (size_t)(e - name##__slot(m, 0));                                           \
        if (i < m->m.cap && DS__CTRL_FULL(m->m.ctrl[i])) ds__map_erase_at(&m->m, i);         \
    }                                                                                   \
    LINK name##_entry *name##_first(const name *m) {                                    \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        size_t i = ds__map_scan(&m->m, 0);                                              \
        return i < m->m.cap ? name##__slot(m, i) : NULL;                                \
    }                                                                                   \
    LINK name##_entry *name##_next(const name *m, const name##_entry *e) {              \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        size_t i = ds__map_scan(&m->m, (size_t)(e - name##__slot(m, 0)) + 1);           \
        return i < m->m.cap ? name##__slot(m, i) : NULL;                                \
    }                                                                                   \
    /* Slot for an absent key, key stored; NULL on failure. */                          \
    static inline name##_entry *name##__add(name *m, K key, uint64_t h, ds_status *st) { \
        size_t i = ds__map_claim(&m->m, h, sizeof(name##_entry), name##__hash, st);     \
        name##_entry *e;                                                                \
        if (i == DS__NPOS) return NULL;                                                 \
        e = name##__slot(m, i);                                                         \
        e->key = key;                                                                   \
        return e;                                                                       \
    }

#define DS__TABLE_COMMON_PROTOS(name, K, LINK)                                          \
    LINK ds_status name##_init(name *m);                                                \
    LINK ds_status name##_init_alloc(name *m, const ds_alloc *a);                       \
    LINK ds_status name##_init_seed(name *m, const ds_alloc *a, uint64_t seed);         \
    LINK void name##_free(name *m);                                                     \
    LINK void name##_clear(name *m);                                                    \
    LINK size_t name##_len(const name *m);                                              \
    LINK size_t name##_capacity(const name *m);                                         \
    LINK size_t name##_memory(const name *m);                                           \
    LINK ds_status name##_reserve(name *m, size_t n);                                   \
    LINK ds_status name##_shrink(name *m);                                              \
    LINK int name##_has(const name *m, K key);                                          \
    LINK void name##_del_entry(name *m, name##_entry *e);                               \
    LINK name##_entry *name##_first(const name *m);                                     \
    LINK name##_entry *name##_next(const name *m, const name##_entry *e)

#define DS__MAP_TYPES(name, K, V)          \
    typedef struct name##_entry {          \
        K key;                             \
        V val;                             \
    } name##_entry;                        \
    typedef struct name {                  \
        ds__map m;                         \
    } name;                                \
    typedef name##_entry *name##_it

#define DS__MAP_PROTOS(name, K, V, LINK)                                      \
    DS__TABLE_COMMON_PROTOS(name, K, LINK);                                   \
    LINK V *name##_get(const name *m, K key);                                 \
    LINK ds_status name##_put(name *m, K key, V val, int *is_new);            \
    LINK ds_status name##_insert(name *m, K key, V val);                      \
    LINK V *name##_get_or_add(name *m, K key, int *is_new);                   \
    LINK ds_status name##_del(name *m, K key, V *out)

#define DS__MAP_IMPL(name, K, V, hash, eq, LINK)                                        \
    DS__TABLE_COMMON(name, K, hash, eq, LINK)                                           \
    LINK V *name##_get(const name *m, K key) {                                          \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        size_t i = name##__find(m, key);                                                \
        return i == DS__NPOS ? NULL : &name##__slot(m, i)->val;                         \
    }                                                                                   \
    LINK ds_status name##_put(name *m, K key, V val, int *is_new) {                     \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        uint64_t h = hash(key, m->m.seed);                                              \
        size_t i = name##__find_h(m, key, h);                                           \
        ds_status st = DS_OK;                                                           \
        name##_entry *e;                                                                \
        if (i != DS__NPOS) {                                                            \
            name##__slot(m, i)->val = val;                                              \
            if (is_new) *is_new = 0;                                                    \
            return DS_OK;                                                               \
        }                                                                               \
        if (!(e = name##__add(m, key, h, &st))) return st;                              \
        e->val = val;                                                                   \
        if (is_new) *is_new = 1;                                                        \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_insert(name *m, K key, V val) {                               \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        uint64_t h = hash(key, m->m.seed);                                              \
        ds_status st = DS_OK;                                                           \
        name##_entry *e;                                                                \
        if (name##__find_h(m, key, h) != DS__NPOS) return DS_EEXIST;                    \
        if (!(e = name##__add(m, key, h, &st))) return st;                              \
        e->val = val;                                                                   \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK V *name##_get_or_add(name *m, K key, int *is_new) {                            \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        uint64_t h = hash(key, m->m.seed);                                              \
        size_t i = name##__find_h(m, key, h);                                           \
        ds_status st = DS_OK;                                                           \
        name##_entry *e;                                                                \
        if (is_new) *is_new = 0;                                                        \
        if (i != DS__NPOS) return &name##__slot(m, i)->val;                             \
        if (!(e = name##__add(m, key, h, &st))) return NULL;                            \
        memset((void *)&e->val, 0, sizeof(V));                                          \
        if (is_new) *is_new = 1;                                                        \
        return &e->val;                                                                 \
    }                                                                                   \
    LINK ds_status name##_del(name *m, K key, V *out) {                                 \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        size_t i = name##__find(m, key);                                                \
        if (i == DS__NPOS) return DS_ENOTFOUND;                                         \
        if (out) *out = name##__slot(m, i)->val;                                        \
        ds__map_erase_at(&m->m, i);                                                     \
        return DS_OK;                                                                   \
    }

#define DS__SET_TYPES(name, K)             \
    typedef struct name##_entry {          \
        K key;                             \
    } name##_entry;                        \
    typedef struct name {                  \
        ds__map m;                         \
    } name;                                \
    typedef name##_entry *name##_it

#define DS__SET_PROTOS(name, K, LINK)                                         \
    DS__TABLE_COMMON_PROTOS(name, K, LINK);                                   \
    LINK K const *name##_get(const name *m, K key);                           \
    LINK ds_status name##_put(name *m, K key, int *is_new);                   \
    LINK ds_status name##_insert(name *m, K key);                             \
    LINK ds_status name##_del(name *m, K key)

#define DS__SET_IMPL(name, K, hash, eq, LINK)                                           \
    DS__TABLE_COMMON(name, K, hash, eq, LINK)                                           \
    LINK K const *name##_get(const name *m, K key) {                                    \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        size_t i = name##__find(m, key);                                                \
        return i == DS__NPOS ? NULL : &name##__slot(m, i)->key;                         \
    }                                                                                   \
    LINK ds_status name##_put(name *m, K key, int *is_new) {                            \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        uint64_t h = hash(key, m->m.seed);                                              \
        ds_status st = DS_OK;                                                           \
        if (is_new) *is_new = 0;                                                        \
        if (name##__find_h(m, key, h) != DS__NPOS) return DS_OK;                        \
        if (!name##__add(m, key, h, &st)) return st;                                    \
        if (is_new) *is_new = 1;                                                        \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_insert(name *m, K key) {                                      \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        uint64_t h = hash(key, m->m.seed);                                              \
        ds_status st = DS_OK;                                                           \
        if (name##__find_h(m, key, h) != DS__NPOS) return DS_EEXIST;                    \
        return name##__add(m, key, h, &st) ? DS_OK : st;                                \
    }                                                                                   \
    LINK ds_status name##_del(name *m, K key) {                                         \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        size_t i = name##__find(m, key);                                                \
        if (i == DS__NPOS) return DS_ENOTFOUND;                                         \
        ds__map_erase_at(&m->m, i);                                                     \
        return DS_OK;                                                                   \
    }

#define DS_MAP_DECLARE(name, K, V) \
    DS__MAP_TYPES(name, K, V);     \
    DS__MAP_PROTOS(name, K, V, extern);
#define DS_MAP_DEFINE(name, K, V, hash, eq) DS__MAP_IMPL(name, K, V, hash, eq, )
#define DS_MAP(name, K, V, hash, eq)                  \
    DS__MAP_TYPES(name, K, V);                        \
    DS__MAP_PROTOS(name, K, V, DS__LINK_STATIC);      \
    DS__MAP_IMPL(name, K, V, hash, eq, DS__LINK_STATIC)

#define DS_SET_DECLARE(name, K) \
    DS__SET_TYPES(name, K);     \
    DS__SET_PROTOS(name, K, extern);
#define DS_SET_DEFINE(name, K, hash, eq) DS__SET_IMPL(name, K, hash, eq, )
#define DS_SET(name, K, hash, eq)                 \
    DS__SET_TYPES(name, K);                       \
    DS__SET_PROTOS(name, K, DS__LINK_STATIC);     \
    DS__SET_IMPL(name, K, hash, eq, DS__LINK_STATIC)

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_MAP_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_MAP_IMPL)
#define DS_SRC_MAP_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:map == */

DSDEF uint64_t ds__map_default_seed(uintptr_t addr) {
    return ds_mix64((uint64_t)addr ^ ds_mix64((uint64_t)ds_now_ns()));
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_MAP_IMPL */
