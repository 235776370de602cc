/* src/sketch.h - ds_cms, ds_topk, ds_hll: count-min, heavy hitters, HyperLogLog
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/sketch.h"
 */
#ifndef DS_SRC_SKETCH_H
#define DS_SRC_SKETCH_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:cms ==  count-min sketch
 * ========================================================================
 * Cormode & Muthukrishnan 2005: d rows of w counters; add increments one
 * counter per row, query takes the row minimum. Never under-counts; with
 * w = ceil(e/eps) and d = ceil(ln(1/delta)), an estimate exceeds the true
 * count by more than eps * total with probability at most delta.
 * Conservative update (Estan & Varghese 2002) raises each of the key's
 * counters only as far as the new estimate needs: the same guarantee,
 * much smaller error on skewed streams, but merge/subtract semantics are
 * lost for the result (merged sketches still never under-count).
 * 32-bit counters saturate at UINT32_MAX instead of wrapping; the total
 * is 64-bit.
 *
 *   ds_status ds_cms_init(ds_cms *s, uint32_t width, uint32_t depth, const ds_alloc *a)
 *          width 1..2^31, depth 1..64; DS_EINVAL otherwise or if w*d*4
 *          bytes overflow; DS_ENOMEM.
 *   ds_status ds_cms_init_error(ds_cms *s, double eps, double delta, const ds_alloc *a)
 *          eps, delta in (0,1).
 *   void   ds_cms_set_conservative(ds_cms *s, int on)
 *   ds_status ds_cms_add(ds_cms *s, const void *key, size_t len, uint32_t count,
 *                        uint32_t *estimate)
 *          adds count; *estimate (may be NULL) = the key's new estimate (as
 *          CMS.INCRBY). DS_EINVAL: a NULL or freed sketch, a NULL key with
 *          len > 0.
 *   uint32_t ds_cms_query(const ds_cms *s, const void *key, size_t len)
 *   uint64_t ds_cms_total(const ds_cms *s)   sum of all counts added
 *   ds_status ds_cms_merge(ds_cms *dst, const ds_cms *const *src, const uint32_t *weights,
 *                          size_t n)
 *          dst = sum of weights[i] * src[i] (weights NULL = all 1), as
 *          CMS.MERGE; dst may be one of the sources. DS_EINVAL unless every
 *          width and depth equal dst's.
 *   save/load/clear/free/memory as for ds_bloom.
 * Complexity: add/query O(d); merge O(n w d). Memory: 4 w d bytes. */
typedef struct ds_cms {
    uint32_t *c;       /* depth rows of width counters */
    uint32_t w, d;
    int conservative;
    uint64_t total;
    const ds_alloc *alloc;
} ds_cms;

DSDEF ds_status ds_cms_init(ds_cms *s, uint32_t width, uint32_t depth, const ds_alloc *a);
DSDEF ds_status ds_cms_init_error(ds_cms *s, double eps, double delta, const ds_alloc *a);
DSDEF void ds_cms_free(ds_cms *s);
DSDEF void ds_cms_clear(ds_cms *s);
DSDEF void ds_cms_set_conservative(ds_cms *s, int on);
DSDEF ds_status ds_cms_add_hash(ds_cms *s, uint64_t h, uint32_t count, uint32_t *estimate);
DSDEF uint32_t ds_cms_query_hash(const ds_cms *s, uint64_t h);
static inline ds_status ds_cms_add(ds_cms *s, const void *key, size_t len, uint32_t count,
                                   uint32_t *estimate) {
    if (!key && len) return DS_EINVAL;
    return ds_cms_add_hash(s, ds_hash_bytes(key, len, 0), count, estimate);
}
static inline uint32_t ds_cms_query(const ds_cms *s, const void *key, size_t len) {
    if (!key && len) return 0;
    return ds_cms_query_hash(s, ds_hash_bytes(key, len, 0));
}
DSDEF uint64_t ds_cms_total(const ds_cms *s);
DSDEF ds_status ds_cms_merge(ds_cms *dst, const ds_cms *const *src, const uint32_t *weights,
                             size_t n);
DSDEF size_t ds_cms_memory(const ds_cms *s);
DSDEF ds_status ds_cms_save(const ds_cms *s, ds_writer w);
DSDEF ds_status ds_cms_load(ds_cms *s, ds_reader *r, const ds_alloc *a);

/* ========================================================================
 * == ds:topk ==  heavy hitters: Space-Saving
 * ========================================================================
 * The k most frequent keys of an unbounded stream in fixed memory, by
 * Space-Saving (Metwally, Agrawal & El Abbadi 2005): `capacity` counters
 * each monitor one key; a new key takes over the counter with the least
 * count c, starting at c + weight with error c.
 *
 * Why Space-Saving and not HeavyKeeper (RedisBloom's TOPK): its bounds are
 * deterministic, with no hash collisions or random decay. For every
 * monitored key, count - err <= true count <= count; every key whose true
 * count exceeds total/capacity is monitored; and the reported counts
 * overestimate by at most total/capacity. HeavyKeeper can use less memory
 * per key on very skewed streams but gives only probabilistic bounds.
 * Keys are copied (any length); memory is capacity * (~64 + key bytes).
 *
 * The "top list" is the k monitored keys with the largest counts.
 *
 *   ds_status ds_topk_init(ds_topk *t, size_t k, size_t capacity, const ds_alloc *a)
 *          k >= 1; capacity >= k counters (0 = max(8k, 64)); DS_EINVAL /
 *          DS_ENOMEM.
 *   ds_status ds_topk_add(ds_topk *t, const void *key, size_t len, uint64_t weight,
 *                         ds_topk_item *expelled)
 *          count the key `weight` times (weight >= 1). If that pushed a key
 *          out of the top list, *expelled (may be NULL) describes it (key,
 *          count and err as it left; the key bytes live in t, valid until
 *          the next add, and may be passed straight back to add); else
 *          expelled->key = NULL. DS_ENOMEM (a longer key needs a buffer;
 *          nothing changes), DS_EINVAL.
 *   int    ds_topk_has(const ds_topk *t, const void *key, size_t len)   in the top list
 *   uint64_t ds_topk_count(const ds_topk *t, const void *key, size_t len)
 *          the estimated count (0 if not monitored)
 *   size_t ds_topk_list(const ds_topk *t, ds_topk_item *out, size_t cap)
 *          the top list, largest count first; returns how many written.
 *          Item keys point into t, valid until the next add/clear/free.
 *   uint64_t ds_topk_total(t); void ds_topk_clear(t), ds_topk_free(t)
 * Complexity: add O(log capacity) expected; has/count O(1) expected;
 * list O(k * cap) (insertion into the caller's array). */
typedef struct ds_topk_item {
    const void *key;
    size_t len;
    uint64_t count;    /* estimated count (an upper bound) */
    uint64_t err;      /* count - err is a lower bound */
} ds_topk_item;

typedef struct ds__ss_ctr ds__ss_ctr;
typedef struct ds_topk {
    ds__ss_ctr *ctr;   /* capacity counters */
    uint32_t *heap;    /* min-heap of all used counters by count */
    uint32_t *top;     /* min-heap of the top list (<= k counters) */
    uint32_t *index;   /* open addressing: counter + 1, 0 = empty */
    size_t k, cap, used, ntop, imask;
    uint64_t total;
    unsigned char *scratch; /* the expelled key */
    size_t scratch_cap;
    const ds_alloc *alloc;
} ds_topk;

DSDEF ds_status ds_topk_init(ds_topk *t, size_t k, size_t capacity, const ds_alloc *a);
DSDEF void ds_topk_free(ds_topk *t);
DSDEF void ds_topk_clear(ds_topk *t);
DSDEF ds_status ds_topk_add(ds_topk *t, const void *key, size_t len, uint64_t weight,
                            ds_topk_item *expelled);
DSDEF int ds_topk_has(const ds_topk *t, const void *key, size_t len);
DSDEF uint64_t ds_topk_count(const ds_topk *t, const void *key, size_t len);
DSDEF size_t ds_topk_list(const ds_topk *t, ds_topk_item *out, size_t cap);
DSDEF uint64_t ds_topk_total(const ds_topk *t);

/* ========================================================================
 * == ds:hll ==  HyperLogLog cardinality estimation
 * ========================================================================
 * Flajolet, Fusy, Gandouet & Meunier 2007, with Ertl's improved estimator
 * ("New cardinality estimation algorithms for HyperLogLog sketches",
 * 2017; as Redis since 4.0): it uses the register histogram, needs no
 * empirical bias tables, and is accurate from 0 to far beyond 2^32 with
 * no small- or large-range switch-over. m = 2^p registers of 6 bits,
 * packed; standard error 1.04/sqrt(m) (0.81% at p = 14, 12 KiB).
 *
 *   ds_status ds_hll_init(ds_hll *h, unsigned p, const ds_alloc *a)   p in 4..18
 *   ds_status ds_hll_add(ds_hll *h, const void *key, size_t len, int *changed)
 *          *changed (may be NULL) = 1 if a register changed; DS_EINVAL for a
 *          NULL or freed sketch, or a NULL key with len > 0
 *   double ds_hll_count(const ds_hll *h)       estimated distinct keys
 *   double ds_hll_error(const ds_hll *h)       1.04 / sqrt(m)
 *   ds_status ds_hll_merge(ds_hll *dst, const ds_hll *src)  register max;
 *          equals the sketch of the union; DS_EINVAL if p differs
 *   save/load/clear/free/memory as for ds_bloom.
 * Complexity: add O(1); count O(m); merge O(m). Memory: 6m/8 bytes. */
typedef struct ds_hll {
    unsigned char *reg; /* m 6-bit registers, packed little-endian, + 1 pad byte */
    unsigned p;
    const ds_alloc *alloc;
} ds_hll;

DSDEF ds_status ds_hll_init(ds_hll *h, unsigned p, const ds_alloc *a);
DSDEF void ds_hll_free(ds_hll *h);
DSDEF void ds_hll_clear(ds_hll *h);
DSDEF ds_status ds_hll_add_hash(ds_hll *h, uint64_t hash, int *changed);
static inline ds_status ds_hll_add(ds_hll *h, const void *key, size_t len, int *changed) {
    if (!key && len) return DS_EINVAL;
    return ds_hll_add_hash(h, ds_hash_bytes(key, len, 0), changed);
}
DSDEF double ds_hll_count(const ds_hll *h);
DSDEF double ds_hll_error(const ds_hll *h);
DSDEF ds_status ds_hll_merge(ds_hll *dst, const ds_hll *src);
DSDEF size_t ds_hll_memory(const ds_hll *h);
DSDEF ds_status ds_hll_save(const ds_hll *h, ds_writer w);
DSDEF ds_status ds_hll_load(ds_hll *h, ds_reader *r, const ds_alloc *a);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_SKETCH_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_SKETCH_IMPL)
#define DS_SRC_SKETCH_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:cms == */

DSDEF ds_status ds_cms_init(ds_cms *s, uint32_t width, uint32_t depth, const ds_alloc *a) {
    size_t bytes;
    if (!s) return DS_EINVAL;
    memset(s, 0, sizeof *s); /* a failed init leaves a struct free accepts */
    if (width == 0 || width > ((uint32_t)1 << 31) || depth == 0 || depth > 64) return DS_EINVAL;
    if (!ds_size_mul(width, depth, &bytes) || !ds_size_mul(bytes, 4, &bytes)) return DS_EINVAL;
    s->c = (uint32_t *)DS_MALLOC(a, bytes);
    if (!s->c) return DS_ENOMEM;
    memset(s->c, 0, bytes);
    s->w = width;
    s->d = depth;
    s->conservative = 0;
    s->total = 0;
    s->alloc = a;
    return DS_OK;
}
DSDEF ds_status ds_cms_init_error(ds_cms *s, double eps, double delta, const ds_alloc *a) {
    double w, d;
    if (!s) return DS_EINVAL;
    memset(s, 0, sizeof *s); /* a failed init leaves a struct free accepts */
    if (!(eps > 0.0 && eps < 1.0) || !(delta > 0.0 && delta < 1.0)) return DS_EINVAL;
    w = ceil(2.718281828459045 / eps);
    d = ceil(log(1.0 / delta));
    if (w > 2147483648.0 || d > 64) return DS_EINVAL;
    return ds_cms_init(s, (uint32_t)w, d < 1 ? 1u : (uint32_t)d, a);
}
DSDEF void ds_cms_free(ds_cms *s) {
    if (!s) return;
    if (s->c) DS_FREE(s->alloc, s->c, (size_t)s->w * s->d * 4);
    s->c = NULL;
    s->w = s->d = 0;
    s->total = 0;
}
DSDEF void ds_cms_clear(ds_cms *s) {
    if (!s || !s->c) return;
    memset(s->c, 0, (size_t)s->w * s->d * 4);
    s->total = 0;
}
DSDEF void ds_cms_set_conservative(ds_cms *s, int on) {
    if (s) s->conservative = on != 0;
}
/* Row r's column: double hashing over the one 64-bit hash, reduced by
 * multiply-shift. */
static inline size_t ds__cms_col(const ds_cms *s, uint64_t h, uint64_t g, uint32_t r) {
    uint64_t x = h + r * g;
    return (size_t)r * s->w + (size_t)(((x >> 32) * s->w) >> 32);
}
static uint32_t ds__cms_add(ds_cms *s, uint64_t h, uint32_t count) {
    uint64_t g;
    uint32_t r, est = UINT32_MAX;
    if (!s || !s->c) return 0;
    g = ds_mix64(h) | 1;
    s->total += count;
    if (s->conservative) {
        size_t col[64]; /* depth <= 64 */
        uint32_t target;
        for (r = 0; r < s->d; r++) {
            uint32_t v = s->c[col[r] = ds__cms_col(s, h, g, r)];
            if (v < est) est = v;
        }
        target = est > UINT32_MAX - count ? UINT32_MAX : est + count;
        for (r = 0; r < s->d; r++)
            if (s->c[col[r]] < target) s->c[col[r]] = target;
        return target;
    }
    for (r = 0; r < s->d; r++) {
        uint32_t *v = &s->c[ds__cms_col(s, h, g, r)];
        *v = *v > UINT32_MAX - count ? UINT32_MAX : *v + count;
        if (*v < est) est = *v;
    }
    return est;
}
DSDEF ds_status ds_cms_add_hash(ds_cms *s, uint64_t h, uint32_t count, uint32_t *estimate) {
    uint32_t e;
    if (estimate) *estimate = 0;
    if (!s || !s->c) return DS_EINVAL;
    e = ds__cms_add(s, h, count);
    if (estimate) *estimate = e;
    return DS_OK;
}
DSDEF uint32_t ds_cms_query_hash(const ds_cms *s, uint64_t h) {
    uint64_t g;
    uint32_t r, est = UINT32_MAX;
    if (!s || !s->c) return 0;
    g = ds_mix64(h) | 1;
    for (r = 0; r < s->d; r++) {
        uint32_t v = s->c[ds__cms_col(s, h, g, r)];
        if (v < est) est = v;
    }
    return est;
}
DSDEF uint64_t ds_cms_total(const ds_cms *s) { return s ? s->total : 0; }
DSDEF ds_status ds_cms_merge(ds_cms *dst, const ds_cms *const *src, const uint32_t *weights,
                             size_t n) {
    size_t i, j, cells;
    uint64_t total = 0;
    if (!dst || !dst->c || (n && !src)) return DS_EINVAL;
    for (i = 0; i < n; i++)
        if (!src[i] || !src[i]->c || src[i]->w != dst->w || src[i]->d != dst->d) return DS_EINVAL;
    cells = (size_t)dst->w * dst->d;
    /* Cell by cell, reading every source before writing dst[j]: dst may
     * be a source. */
    for (j = 0; j < cells; j++) {
        uint64_t sum = 0;
        for (i = 0; i < n; i++) {
            uint64_t add = (uint64_t)src[i]->c[j] * (weights ? weights[i] : 1u);
            sum += add;
            if (sum >= UINT32_MAX) {
                sum = UINT32_MAX;
                break;
            }
        }
        dst->c[j] = (uint32_t)sum;
    }
    for (i = 0; i < n; i++) {
        uint64_t w = weights ? weights[i] : 1u, t = src[i]->total;
        total = (w && t > UINT64_MAX / w) || total > UINT64_MAX - t * w ? UINT64_MAX : total + t * w;
    }
    dst->total = total;
    return DS_OK;
}
DSDEF size_t ds_cms_memory(const ds_cms *s) { return s && s->c ? (size_t)s->w * s->d * 4 : 0; }
DSDEF ds_status ds_cms_save(const ds_cms *s, ds_writer w) {
    ds__enc e;
    if (!s || !s->c) return DS_EINVAL;
    ds__enc_init(&e, w, "DScm", 1);
    ds__put_u64(&e, s->w);
    ds__put_u64(&e, s->d);
    ds__put_u64(&e, (uint64_t)s->conservative);
    ds__put_u64(&e, s->total);
    ds__put_words(&e, s->c, (size_t)s->w * s->d, 4);
    return ds__enc_end(&e);
}
DSDEF ds_status ds_cms_load(ds_cms *s, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_cms t;
    uint64_t w, dd, cons, total;
    if (!s) return DS_EINVAL;
    ds__dec_init(&d, r, "DScm", 1);
    w = ds__get_u64(&d);
    dd = ds__get_u64(&d);
    cons = ds__get_u64(&d);
    total = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    if (w == 0 || w > ((uint64_t)1 << 31) || dd == 0 || dd > 64 || cons > 1) return DS_ECORRUPT;
    if (!ds__dec_room(&d, w * dd * 4)) return d.st;
    if (w * dd > SIZE_MAX / 4) return DS_ECORRUPT;
    t.w = (uint32_t)w;
    t.d = (uint32_t)dd;
    t.alloc = a;
    if (!(t.c = (uint32_t *)ds__get_alloc(&d, (size_t)(w * dd), 4, a))) return d.st;
    if (ds__dec_end(&d) != DS_OK) {
        ds_cms_free(&t);
        return d.st;
    }
    t.conservative = (int)cons;
    t.total = total;
    *s = t;
    return DS_OK;
}

/* == ds:topk == */

struct ds__ss_ctr {
    uint64_t count, err, hash;
    unsigned char *key;
    size_t len, kcap;
    uint32_t hpos;     /* position in t->heap */
    uint32_t tpos;     /* position in t->top, or UINT32_MAX */
};
#define DS__SS_NONE UINT32_MAX

static int ds__ss_less(const ds_topk *t, uint32_t a, uint32_t b) {
    return t->ctr[a].count < t->ctr[b].count;
}
/* Sift counter heaps. `pos` selects the back-pointer field to keep. */
static void ds__ss_sift(ds_topk *t, uint32_t *h, size_t n, size_t i, int is_top) {
    uint32_t x = h[i];
    size_t c;
    while (i > 0 && ds__ss_less(t, x, h[(i - 1) / 2])) { /* up */
        h[i] = h[(i - 1) / 2];
        if (is_top) t->ctr[h[i]].tpos = (uint32_t)i; else t->ctr[h[i]].hpos = (uint32_t)i;
        i = (i - 1) / 2;
    }
    while ((c = 2 * i + 1) < n) { /* down */
        if (c + 1 < n && ds__ss_less(t, h[c + 1], h[c])) c++;
        if (!ds__ss_less(t, h[c], x)) break;
        h[i] = h[c];
        if (is_top) t->ctr[h[i]].tpos = (uint32_t)i; else t->ctr[h[i]].hpos = (uint32_t)i;
        i = c;
    }
    h[i] = x;
    if (is_top) t->ctr[x].tpos = (uint32_t)i; else t->ctr[x].hpos = (uint32_t)i;
}

DSDEF ds_status ds_topk_init(ds_topk *t, size_t k, size_t capacity, const ds_alloc *a) {
    size_t isz = 1, i, b1, b2, b3, b4;
    if (!t) return DS_EINVAL;
    memset(t, 0, sizeof *t); /* a failed init leaves a struct free accepts */
    if (k == 0) return DS_EINVAL;
    if (capacity == 0) capacity = k > SIZE_MAX / 8 ? SIZE_MAX : (8 * k < 64 ? 64 : 8 * k);
    if (capacity < k || capacity >= DS__SS_NONE / 2) return DS_EINVAL;
    while (isz < 2 * capacity) isz <<= 1;
    if (!ds_size_mul(capacity, sizeof(ds__ss_ctr), &b1) || !ds_size_mul(capacity, 4, &b2) ||
        !ds_size_mul(k, 4, &b3) || !ds_size_mul(isz, 4, &b4))
        return DS_EINVAL;
    memset(t, 0, sizeof *t);
    t->alloc = a;
    t->ctr = (ds__ss_ctr *)DS_MALLOC(a, b1);
    t->heap = (uint32_t *)DS_MALLOC(a, b2);
    t->top = (uint32_t *)DS_MALLOC(a, b3);
    t->index = (uint32_t *)DS_MALLOC(a, b4);
    if (!t->ctr || !t->heap || !t->top || !t->index) {
        if (t->ctr) DS_FREE(a, t->ctr, b1);
        if (t->heap) DS_FREE(a, t->heap, b2);
        if (t->top) DS_FREE(a, t->top, b3);
        if (t->index) DS_FREE(a, t->index, b4);
        memset(t, 0, sizeof *t);
        return DS_ENOMEM;
    }
    for (i = 0; i < capacity; i++) {
        t->ctr[i].key = NULL;
        t->ctr[i].kcap = 0;
    }
    memset(t->index, 0, b4);
    t->k = k;
    t->cap = capacity;
    t->imask = isz - 1;
    return DS_OK;
}
DSDEF void ds_topk_clear(ds_topk *t) {
    size_t i;
    if (!t || !t->ctr) return;
    t->used = t->ntop = 0;
    t->total = 0;
    memset(t->index, 0, (t->imask + 1) * 4);
    for (i = 0; i < t->cap; i++) t->ctr[i].len = 0;
}
DSDEF void ds_topk_free(ds_topk *t) {
    size_t i;
    if (!t || !t->ctr) return;
    for (i = 0; i < t->cap; i++)
        if (t->ctr[i].key) DS_FREE(t->alloc, t->ctr[i].key, t->ctr[i].kcap);
    DS_FREE(t->alloc, t->ctr, t->cap * sizeof(ds__ss_ctr));
    DS_FREE(t->alloc, t->heap, t->cap * 4);
    DS_FREE(t->alloc, t->top, t->k * 4);
    DS_FREE(t->alloc, t->index, (t->imask + 1) * 4);
    if (t->scratch) DS_FREE(t->alloc, t->scratch, t->scratch_cap);
    memset(t, 0, sizeof *t);
}

/* Index slot of the key, or of the empty slot where it would go. */
static size_t ds__ss_slot(const ds_topk *t, uint64_t h, const void *key, size_t len) {
    size_t i = (size_t)h & t->imask;
    for (;; i = (i + 1) & t->imask) {
        uint32_t c = t->index[i];
        const ds__ss_ctr *e;
        if (c == 0) return i;
        e = &t->ctr[c - 1];
        if (e->hash == h && e->len == len && (len == 0 || memcmp(e->key, key, len) == 0)) return i;
    }
}
/* Remove index slot i, shifting back later entries of the cluster
 * (linear probing: no tombstones). */
static void ds__ss_unindex(ds_topk *t, size_t i) {
    size_t j = i;
    for (;;) {
        size_t home;
        j = (j + 1) & t->imask;
        if (t->index[j] == 0) break;
        home = (size_t)t->ctr[t->index[j] - 1].hash & t->imask;
        /* Move j into the hole i unless its home lies cyclically in (i, j]. */
        if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) continue;
        t->index[i] = t->index[j];
        i = j;
    }
    t->index[i] = 0;
}
/* Grow scratch / key buffers without touching the structure on failure. */
/* A copy of buf in a block of at least need bytes (doubling from cap,
 * minimum 16), not yet installed: *out stays NULL when cap is enough. */
static int ds__ss_pend(const ds_alloc *a, const unsigned char *buf, size_t cap, size_t need, unsigned char **out,
                       size_t *ocap) {
    size_t nc = cap ? cap : 16;
    *out = NULL;
    if (need <= cap) return 1;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    if (!(*out = (unsigned char *)DS_MALLOC(a, nc))) return 0;
    if (cap) memcpy(*out, buf, cap);
    *ocap = nc;
    return 1;
}
static void ds__ss_install(const ds_alloc *a, unsigned char **buf, size_t *cap, unsigned char *p, size_t pcap) {
    if (!p) return;
    if (*buf) DS_FREE(a, *buf, *cap);
    *buf = p;
    *cap = pcap;
}
/* Counter x changed (grew, or is new): keep the top list right. */
static void ds__ss_top_update(ds_topk *t, uint32_t x, int *expelled, ds_topk_item *gone) {
    if (t->ctr[x].tpos != DS__SS_NONE) {
        ds__ss_sift(t, t->top, t->ntop, t->ctr[x].tpos, 1);
    } else if (t->ntop < t->k) {
        t->top[t->ntop] = x;
        t->ntop++;
        ds__ss_sift(t, t->top, t->ntop, t->ntop - 1, 1);
    } else if (ds__ss_less(t, t->top[0], x)) {
        uint32_t out = t->top[0];
        ds__ss_ctr *o = &t->ctr[out];
        memcpy(t->scratch, o->key, o->len);
        *expelled = 1;
        gone->len = o->len;
        gone->count = o->count;
        gone->err = o->err;
        o->tpos = DS__SS_NONE;
        t->top[0] = x;
        ds__ss_sift(t, t->top, t->ntop, 0, 1);
    }
}
DSDEF ds_status ds_topk_add(ds_topk *t, const void *key, size_t len, uint64_t weight,
                            ds_topk_item *expelled) {
    uint64_t h;
    size_t slot;
    uint32_t x;
    int ex = 0;
    ds__ss_ctr *e;
    ds_topk_item gone;
    unsigned char *old_scratch = NULL;
    size_t old_cap = 0;
    memset(&gone, 0, sizeof gone);
    if (expelled) memset(expelled, 0, sizeof *expelled);
    if (!t || !t->ctr || (!key && len) || weight == 0) return DS_EINVAL;
    /* Re-adding the key an earlier add expelled: it lives in the scratch
     * this add may overwrite, so give the scratch a fresh buffer first. */
    if (t->scratch && (uintptr_t)key >= (uintptr_t)t->scratch &&
        (uintptr_t)key < (uintptr_t)t->scratch + t->scratch_cap) {
        unsigned char *fresh = (unsigned char *)DS_MALLOC(t->alloc, t->scratch_cap);
        if (!fresh) return DS_ENOMEM;
        old_scratch = t->scratch;
        old_cap = t->scratch_cap;
        t->scratch = fresh;
    }
    h = ds_hash_bytes(key, len, 0x746f706b);
    slot = ds__ss_slot(t, h, key, len);
    /* Every buffer a path may need is reserved first: the strong
     * guarantee. The scratch holds any expelled key (<= longest key). */
    if (t->index[slot]) {
        x = t->index[slot] - 1;
        e = &t->ctr[x];
        e->count = e->count > UINT64_MAX - weight ? UINT64_MAX : e->count + weight;
        ds__ss_sift(t, t->heap, t->used, e->hpos, 0);
    } else {
        uint32_t victim = t->used < t->cap ? (uint32_t)t->used : t->heap[0];
        ds__ss_ctr *v = &t->ctr[victim];
        /* The scratch stays as long as the longest key ever stored, so any
         * expelled key fits without allocating later. */
        unsigned char *ns = NULL, *nk = NULL;
        size_t nsc = 0, nkc = 0;
        if (!ds__ss_pend(t->alloc, t->scratch, t->scratch_cap, len ? len : 1, &ns, &nsc) ||
            !ds__ss_pend(t->alloc, v->key, v->kcap, len ? len : 1, &nk, &nkc)) {
            if (ns) DS_FREE(t->alloc, ns, nsc);
            if (old_scratch) { /* back to the caller's buffer, as it was */
                DS_FREE(t->alloc, t->scratch, t->scratch_cap);
                t->scratch = old_scratch;
                t->scratch_cap = old_cap;
            }
            return DS_ENOMEM;
        }
        ds__ss_install(t->alloc, &t->scratch, &t->scratch_cap, ns, nsc);
        ds__ss_install(t->alloc, &v->key, &v->kcap, nk, nkc);
        if (t->used < t->cap) {
            v->count = 0;
            v->err = 0;
            v->tpos = DS__SS_NONE;
            v->hpos = (uint32_t)t->used;
            t->heap[t->used++] = victim;
        } else {
            /* Take over the least counter: unindex it, and if it was in the
             * top list (ties, or capacity == k) that is the expulsion. */
            ds__ss_unindex(t, ds__ss_slot(t, v->hash, v->key, v->len));
            slot = ds__ss_slot(t, h, key, len);
            if (v->tpos != DS__SS_NONE) {
                size_t p = v->tpos;
                memcpy(t->scratch, v->key, v->len);
                gone.len = v->len;
                gone.count = v->count;
                gone.err = v->err;
                ex = 1;
                t->top[p] = t->top[--t->ntop];
                t->ctr[t->top[p]].tpos = (uint32_t)p;
                v->tpos = DS__SS_NONE;
                if (p < t->ntop) ds__ss_sift(t, t->top, t->ntop, p, 1);
            }
            v->err = v->count;
        }
        x = victim;
        e = v;
        if (len) memcpy(e->key, key, len);
        e->len = len;
        e->hash = h;
        e->count = e->count > UINT64_MAX - weight ? UINT64_MAX : e->count + weight;
        t->index[slot] = x + 1;
        ds__ss_sift(t, t->heap, t->used, e->hpos, 0);
    }
    t->total = t->total > UINT64_MAX - weight ? UINT64_MAX : t->total + weight;
    {
        /* If the takeover above already expelled, the top list has room
         * and this cannot expel again. */
        int ex2 = 0;
        ds__ss_top_update(t, x, &ex2, &gone);
        ex |= ex2;
    }
    if (ex && expelled) {
        *expelled = gone;
        expelled->key = t->scratch;
    }
    if (old_scratch) DS_FREE(t->alloc, old_scratch, old_cap);
    return DS_OK;
}
DSDEF int ds_topk_has(const ds_topk *t, const void *key, size_t len) {
    size_t slot;
    if (!t || !t->ctr || (!key && len)) return 0;
    slot = ds__ss_slot(t, ds_hash_bytes(key, len, 0x746f706b), key, len);
    return t->index[slot] && t->ctr[t->index[slot] - 1].tpos != DS__SS_NONE;
}
DSDEF uint64_t ds_topk_count(const ds_topk *t, const void *key, size_t len) {
    size_t slot;
    if (!t || !t->ctr || (!key && len)) return 0;
    slot = ds__ss_slot(t, ds_hash_bytes(key, len, 0x746f706b), key, len);
    return t->index[slot] ? t->ctr[t->index[slot] - 1].count : 0;
}
DSDEF size_t ds_topk_list(const ds_topk *t, ds_topk_item *out, size_t cap) {
    size_t i, j, n = 0;
    if (!t || !t->ctr || !out) return 0;
    /* Insertion into out, kept sorted and cut at cap: O(k cap), and the
     * top heap stays untouched (list is a read-only call). */
    for (i = 0; i < t->ntop; i++) {
        const ds__ss_ctr *e = &t->ctr[t->top[i]];
        if (n == cap && (cap == 0 || out[n - 1].count >= e->count)) continue;
        j = n < cap ? n++ : n - 1;
        for (; j > 0 && out[j - 1].count < e->count; j--) out[j] = out[j - 1];
        out[j].key = e->key;
        out[j].len = e->len;
        out[j].count = e->count;
        out[j].err = e->err;
    }
    return n;
}
DSDEF uint64_t ds_topk_total(const ds_topk *t) { return t ? t->total : 0; }

/* == ds:hll == */

static inline unsigned ds__hll_get(const unsigned char *r, size_t i) {
    size_t bit = i * 6;
    unsigned v = (unsigned)r[bit >> 3] | (unsigned)r[(bit >> 3) + 1] << 8;
    return (v >> (bit & 7)) & 63u;
}
static inline void ds__hll_set(unsigned char *r, size_t i, unsigned x) {
    size_t bit = i * 6;
    unsigned v = (unsigned)r[bit >> 3] | (unsigned)r[(bit >> 3) + 1] << 8;
    v = (v & ~(63u << (bit & 7))) | (x << (bit & 7));
    r[bit >> 3] = (unsigned char)v;
    r[(bit >> 3) + 1] = (unsigned char)(v >> 8);
}
static inline size_t ds__hll_bytes(unsigned p) { return ((size_t)6 << p) / 8 + 1; }

DSDEF ds_status ds_hll_init(ds_hll *h, unsigned p, const ds_alloc *a) {
    if (!h) return DS_EINVAL;
    memset(h, 0, sizeof *h); /* a failed init leaves a struct free accepts */
    if (p < 4 || p > 18) return DS_EINVAL;
    h->reg = (unsigned char *)DS_MALLOC(a, ds__hll_bytes(p));
    if (!h->reg) return DS_ENOMEM;
    memset(h->reg, 0, ds__hll_bytes(p));
    h->p = p;
    h->alloc = a;
    return DS_OK;
}
DSDEF void ds_hll_free(ds_hll *h) {
    if (!h) return;
    if (h->reg) DS_FREE(h->alloc, h->reg, ds__hll_bytes(h->p));
    h->reg = NULL;
}
DSDEF void ds_hll_clear(ds_hll *h) {
    if (h && h->reg) memset(h->reg, 0, ds__hll_bytes(h->p));
}
DSDEF ds_status ds_hll_add_hash(ds_hll *h, uint64_t hash, int *changed) {
    size_t i;
    unsigned rank;
    if (changed) *changed = 0;
    if (!h || !h->reg) return DS_EINVAL;
    i = (size_t)(hash & (((uint64_t)1 << h->p) - 1));
    /* Rank: position of the first 1 in the other 64 - p bits (a sentinel
     * bit caps it at 65 - p, which fits 6 bits for p >= 4). */
    rank = ds__ctz64((hash >> h->p) | ((uint64_t)1 << (64 - h->p))) + 1;
    if (rank <= ds__hll_get(h->reg, i)) return DS_OK;
    ds__hll_set(h->reg, i, rank);
    if (changed) *changed = 1;
    return DS_OK;
}
/* Ertl 2017, Algorithm 6 (the "improved raw estimator"). */
static double ds__hll_sigma(double x) {
    double y = 1, z = x, zp;
    if (x == 1.0) return HUGE_VAL;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}
static double ds__hll_tau(double x) {
    double y = 1, z = 1 - x, zp;
    if (x == 0.0 || x == 1.0) return 0.0;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (zp != z);
    return z / 3;
}
DSDEF double ds_hll_count(const ds_hll *h) {
    uint64_t c[66];
    size_t i, m;
    unsigned q, k;
    double z;
    if (!h || !h->reg) return 0.0;
    m = (size_t)1 << h->p;
    q = 64 - h->p;
    memset(c, 0, sizeof c);
    for (i = 0; i < m; i++) c[ds__hll_get(h->reg, i)]++;
    z = (double)m * ds__hll_tau(1.0 - (double)c[q + 1] / (double)m);
    for (k = q; k >= 1; k--) z = 0.5 * (z + (double)c[k]);
    z += (double)m * ds__hll_sigma((double)c[0] / (double)m);
    return (0.5 / 0.6931471805599453) * (double)m * (double)m / z;
}
DSDEF double ds_hll_error(const ds_hll *h) {
    return h && h->reg ? 1.04 / sqrt((double)((size_t)1 << h->p)) : 0.0;
}
DSDEF ds_status ds_hll_merge(ds_hll *dst, const ds_hll *src) {
    size_t i, m;
    if (!dst || !src || !dst->reg || !src->reg || dst->p != src->p) return DS_EINVAL;
    m = (size_t)1 << dst->p;
    for (i = 0; i < m; i++) {
        unsigned a = ds__hll_get(dst->reg, i), b = ds__hll_get(src->reg, i);
        if (b > a) ds__hll_set(dst->reg, i, b);
    }
    return DS_OK;
}
DSDEF size_t ds_hll_memory(const ds_hll *h) { return h && h->reg ? ds__hll_bytes(h->p) : 0; }
DSDEF ds_status ds_hll_save(const ds_hll *h, ds_writer w) {
    ds__enc e;
    if (!h || !h->reg) return DS_EINVAL;
    ds__enc_init(&e, w, "DShl", 1);
    ds__put_u64(&e, h->p);
    ds__put_words(&e, h->reg, ds__hll_bytes(h->p), 1);
    return ds__enc_end(&e);
}
DSDEF ds_status ds_hll_load(ds_hll *h, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_hll t;
    uint64_t p;
    size_t i, m;
    ds_status st;
    if (!h) return DS_EINVAL;
    ds__dec_init(&d, r, "DShl", 1);
    p = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    if (p < 4 || p > 18) return DS_ECORRUPT;
    if (!ds__dec_room(&d, ds__hll_bytes((unsigned)p))) return d.st;
    if ((st = ds_hll_init(&t, (unsigned)p, a)) != DS_OK) return st;
    ds__get_words(&d, t.reg, ds__hll_bytes(t.p), 1);
    /* Registers above 65 - p cannot come from any hash; the pad bits stay 0. */
    m = (size_t)1 << p;
    for (i = 0; d.st == DS_OK && i < m; i++)
        if (ds__hll_get(t.reg, i) > 65 - p) d.st = DS_ECORRUPT;
    if (d.st == DS_OK && (t.reg[ds__hll_bytes(t.p) - 1] != 0 ||
                          ((6 * m) % 8 && (t.reg[(6 * m) / 8] >> ((6 * m) % 8)) != 0)))
        d.st = DS_ECORRUPT;
    if (ds__dec_end(&d) != DS_OK) {
        ds_hll_free(&t);
        return d.st;
    }
    *h = t;
    return DS_OK;
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_SKETCH_IMPL */
