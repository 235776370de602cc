/* src/tstore.h - DS_TSTORE(name, V): time-indexed storage
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/tstore.h"
 */
#ifndef DS_SRC_TSTORE_H
#define DS_SRC_TSTORE_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:tstore ==  DS_TSTORE(name, V): time-indexed storage
 * ========================================================================
 * Values indexed by int64 timestamps (ns, or any unit), one per timestamp:
 * the API of the seed's TimeBasedStorage, on one structure for all its
 * access patterns. It is a DS_BTREE underneath, so in-order arrival (the
 * common case for events) appends in O(1) amortised, out-of-order
 * arrival is O(log n), a range query costs O(log n) plus O(1) per result,
 * and earliest/latest are O(1) (the first and last leaves).
 *
 *   void   name_init(name *s), name_init_alloc(name *s, const ds_alloc *a)
 *   void   name_free(name *s), name_clear(name *s)
 *   size_t name_len(const name *s); int name_is_empty(const name *s)
 *   ds_status name_insert(name *s, int64_t ts, V v)          DS_EEXIST on a collision
 *   ds_status name_insert_unique(name *s, int64_t ts, V v, int64_t max_offset, int64_t *used)
 *          stores at the first free timestamp in [ts, ts + max_offset]
 *          (*used says which); DS_EFULL if all are taken, DS_EINVAL if
 *          max_offset < 0 or ts + max_offset overflows
 *   ds_status name_insert_batch(name *s, const int64_t *ts, const V *vals, size_t n, size_t *added)
 *          adds each pair, skipping collisions (*added counts the rest);
 *          sorted input into an empty store is bulk-loaded in O(n)
 *   V     *name_value_at(const name *s, int64_t ts)      NULL if none
 *   ds_status name_del(name *s, int64_t ts, V *out)   DS_ENOTFOUND
 *   size_t name_range(const name *s, int64_t start, int64_t end,
 *                     int64_t *ts_out, V *vals_out, size_t cap)
 *          every entry with start <= ts <= end, in time order: copies the
 *          first `cap` (either output may be NULL) and returns how many
 *          there are in all
 *   size_t name_duration(const name *s, int64_t d, int64_t now, int64_t *ts_out,
 *                        V *vals_out, size_t cap)   the range [now - d, now]
 *   ds_status name_earliest(const name *s, int64_t *ts, V **v), name_latest   DS_EEMPTY; O(1)
 *   ds_status name_pop_earliest(name *s, int64_t *ts, V *v)                   DS_EEMPTY
 *   size_t name_expire_before(name *s, int64_t cutoff)   removes ts < cutoff
 *   size_t name_aggregate(const name *s, int64_t start, int64_t end, int64_t width,
 *                         double (*value)(const V *), ds_tbucket *out, size_t cap)
 *          fixed buckets [start + i*width, start + (i+1)*width) up to end
 *          (exclusive): count, sum, min, max of value(v) per bucket; returns
 *          the number of buckets (fills the first cap; SIZE_MAX if there
 *          are more); 0 if width <= 0 or end <= start
 *   iteration: name_it name_first(s), name_last(s), name_seek(s, ts) (first
 *          >= ts); name_it_valid, name_it_next, name_it_prev;
 *          int64_t name_it_ts(it); V *name_it_val(it)
 *   ds_status name_save(const name *s, ds_writer w), name_load(name *s, ds_reader *r, const ds_alloc *a)
 *          V is written as its raw bytes (host byte order): for plain data
 *          without pointers; load checks sizeof(V), order and checksum.
 *
 * Complexity: add/remove/value_at O(log n) (in-order add O(1) amortised);
 * range O(log n + k); earliest/latest O(1); expire_before O(k log n).
 * Errors: DS_ENOMEM leaves the store unchanged. Thread-safety: as DS_MAP. */

typedef struct ds_tbucket {
    int64_t start;       /* the bucket is [start, start + width) */
    uint64_t count;
    double sum, min, max; /* min/max are 0 when count == 0 */
} ds_tbucket;

/* Leaves of ~1 KiB of timestamps and values (64 entries for an 8-byte V), as
 * DS_BTREE's now (4x its 256-byte leaves when this was measured): a range
 * of 100 entries spans 2-3 leaves instead of 7, an in-order load allocates
 * a leaf and splits once per 64 appends instead of 16, and the tree is a
 * level lower. The cost is the memmove in a late
 * insert or a delete, up to 1 KiB instead of 256 bytes (bench_tstore (b)).
 * Inner nodes stay at 256 bytes: the store's descent counts separators
 * linearly (leaf_for below), and appends never descend. */
#define DS__TSTORE_LEAF_BYTES 1024
#define DS__TSTORE_TYPES(name, V)                 \
    DS__BTREE_TYPES_LB(name##__bt, int64_t, V, DS__TSTORE_LEAF_BYTES, 256); \
    typedef struct name {                         \
        name##__bt t;                             \
    } name;                                       \
    typedef name##__bt_it name##_it

#define DS__TSTORE_PROTOS(name, V, LINK)                                                 \
    LINK ds_status name##_init(name *s);                                                \
    LINK ds_status name##_init_alloc(name *s, const ds_alloc *a);                       \
    LINK void name##_free(name *s);                                                      \
    LINK void name##_clear(name *s);                                                     \
    LINK size_t name##_len(const name *s);                                               \
    LINK int name##_is_empty(const name *s);                                             \
    LINK ds_status name##_insert(name *s, int64_t ts, V v);                                 \
    LINK ds_status name##_insert_unique(name *s, int64_t ts, V v, int64_t max_offset, int64_t *used); \
    LINK ds_status name##_insert_batch(name *s, const int64_t *ts, const V *vals, size_t n, size_t *added); \
    LINK V *name##_value_at(const name *s, int64_t ts);                                  \
    LINK ds_status name##_del(name *s, int64_t ts, V *out);                           \
    LINK size_t name##_range(const name *s, int64_t start, int64_t end, int64_t *ts_out, \
                             V *vals_out, size_t cap);                                   \
    LINK size_t name##_duration(const name *s, int64_t d, int64_t now, int64_t *ts_out,  \
                                V *vals_out, size_t cap);                                \
    LINK ds_status name##_earliest(const name *s, int64_t *ts, V **v);                   \
    LINK ds_status name##_latest(const name *s, int64_t *ts, V **v);                     \
    LINK ds_status name##_pop_earliest(name *s, int64_t *ts, V *v);                      \
    LINK size_t name##_expire_before(name *s, int64_t cutoff);                           \
    LINK size_t name##_aggregate(const name *s, int64_t start, int64_t end, int64_t width, \
                                 double (*value)(const V *), ds_tbucket *out, size_t cap); \
    LINK name##_it name##_first(const name *s);                                          \
    LINK name##_it name##_last(const name *s);                                           \
    LINK name##_it name##_seek(const name *s, int64_t ts);                               \
    LINK int name##_it_valid(name##_it it);                                              \
    LINK name##_it name##_it_next(name##_it it);                                         \
    LINK name##_it name##_it_prev(name##_it it);                                         \
    LINK int64_t name##_it_ts(name##_it it);                                             \
    LINK V *name##_it_val(name##_it it);                                                 \
    LINK ds_status name##_save(const name *s, ds_writer w);                              \
    LINK ds_status name##_load(name *s, ds_reader *r, const ds_alloc *a)

#define DS__TSTORE_IMPL(name, V, LINK)                                                  \
    DS__BTREE_PROTOS(name##__bt, int64_t, V, static inline DS__UNUSED);                 \
    DS__BTREE_IMPL(name##__bt, int64_t, V, ds_cmp_i64, static inline DS__UNUSED)        \
    LINK ds_status name##_init_alloc(name *s, const ds_alloc *a) {                      \
        if (!s) return DS_EINVAL;                                                       \
        name##__bt_init_alloc(&s->t, a);                                                \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_init(name *s) { return name##_init_alloc(s, NULL); }          \
    LINK void name##_free(name *s) { if (s) name##__bt_free(&s->t); }                   \
    LINK void name##_clear(name *s) { if (s) name##__bt_clear(&s->t); }                 \
    LINK size_t name##_len(const name *s) { return s ? s->t.len : 0; }                  \
    LINK int name##_is_empty(const name *s) { return !s || s->t.len == 0; }             \
    /* Number of k[0 .. n) below ts (lt) or at most ts (!lt), k sorted: a   \
     * binary search whose steps compile to conditional moves, so a descent  \
     * mispredicts no branch per level. */                                     \
    static inline unsigned name##__count(const int64_t *k, unsigned n, int64_t ts, int lt) { \
        const int64_t *b = k;                                                           \
        if (!n) return 0;                                                               \
        while (n > 1) {                                                                 \
            unsigned half = n / 2;                                                      \
            b = (lt ? b[half] < ts : b[half] <= ts) ? b + half : b;                     \
            n -= half;                                                                  \
        }                                                                               \
        return (unsigned)(b - k) + (lt ? *b < ts : *b <= ts);                           \
    }                                                                                   \
    /* The leaf that holds (or would hold) ts; the store is not empty. */              \
    static inline name##__bt__leaf *name##__leaf_for(const name *s, int64_t ts) {       \
        const void *n = s->t.root;                                                      \
        unsigned h;                                                                     \
        for (h = 0; h < s->t.height; h++) {                                             \
            const name##__bt__inner *in = (const name##__bt__inner *)n;                 \
            unsigned c = 0, j;                                                          \
            for (j = 0; j < in->n; j++) c += in->keys[j] <= ts; /* no chain of loads */  \
            n = in->kids[c];                                                            \
        }                                                                               \
        return (name##__bt__leaf *)n;                                                   \
    }                                                                                   \
    /* In-order arrival into a last leaf with room takes a few instructions  \
     * here; everything else (a full last leaf, a late arrival, the first    \
     * entry) goes to the B+tree's insert. */                                   \
    LINK ds_status name##_insert(name *s, int64_t ts, V v) {                               \
        name##__bt__leaf *l;                                                            \
        if (!s) return DS_EINVAL;                                                       \
        l = s->t.tail;                                                                  \
        if (l && l->n - 1u < (unsigned)name##__bt__LCAP - 1u && l->keys[l->n - 1] < ts) { \
            l->keys[l->n] = ts;                                                         \
            l->vals[l->n++] = v;                                                        \
            s->t.len++;                                                                 \
            return DS_OK;                                                               \
        }                                                                               \
        return name##__bt_insert(&s->t, ts, v);                                         \
    }                                                                                   \
    LINK ds_status name##_insert_unique(name *s, int64_t ts, V v, int64_t max_offset, int64_t *used) { \
        name##_it it;                                                                   \
        int64_t cand = ts;                                                              \
        ds_status st;                                                                   \
        if (!s || max_offset < 0 || ts > INT64_MAX - max_offset) return DS_EINVAL;      \
        /* Walk the run of taken timestamps from ts: the first gap is free. */         \
        for (it = name##__bt_lower_bound(&s->t, ts);                                    \
             name##__bt_it_valid(it) && *name##__bt_it_key(it) == cand;                 \
             it = name##__bt_it_next(it)) {                                             \
            if (cand == ts + max_offset) return DS_EFULL;                               \
            cand++;                                                                     \
        }                                                                               \
        if ((st = name##__bt_insert(&s->t, cand, v)) == DS_OK && used) *used = cand;    \
        return st;                                                                      \
    }                                                                                   \
    LINK ds_status name##_insert_batch(name *s, const int64_t *ts, const V *vals, size_t n, size_t *added) { \
        size_t i, ok = 0;                                                               \
        int sorted = 1;                                                                 \
        ds_status st = DS_OK;                                                           \
        if (added) *added = 0;                                                          \
        if (!s || (n && (!ts || !vals))) return DS_EINVAL;                              \
        for (i = 1; i < n && sorted; i++) sorted = ts[i - 1] < ts[i];                   \
        if (sorted && s->t.len == 0 && n) {                                             \
            st = name##__bt_bulk_load(&s->t, ts, vals, n);                              \
            if (st == DS_OK && added) *added = n;                                       \
            return st;                                                                  \
        }                                                                               \
        for (i = 0; i < n; i++) {                                                       \
            st = name##_insert(s, ts[i], vals[i]);                                      \
            if (st == DS_OK) ok++;                                                      \
            else if (st != DS_EEXIST) break; /* DS_ENOMEM: stop; the first i are in */  \
        }                                                                               \
        if (added) *added = ok;                                                         \
        return st == DS_EEXIST ? DS_OK : st;                                            \
    }                                                                                   \
    LINK V *name##_value_at(const name *s, int64_t ts) {                                \
        name##__bt__leaf *l;                                                            \
        unsigned i;                                                                     \
        if (!s || !s->t.len) return NULL;                                               \
        l = name##__leaf_for(s, ts);                                                    \
        i = name##__count(l->keys, l->n, ts, 1);                                        \
        return i < l->n && l->keys[i] == ts ? &l->vals[i] : NULL;                       \
    }                                                                                   \
    LINK ds_status name##_del(name *s, int64_t ts, V *out) {                         \
        if (!s) return DS_EINVAL;                                                       \
        return name##__bt_del(&s->t, ts, out);                                          \
    }                                                                                   \
    /* A leaf at a time: one descent to the first entry >= start, then each \
     * leaf's run copied out in one forward pass that stops at the first     \
     * key past end (one read of each key and value, in address order, as a  \
     * sorted array's scan does), and the next leaf along the chain while    \
     * the range goes on. Past the caller's room it only counts, a cache     \
     * line of keys (eight) a step. */                                         \
    LINK size_t name##_range(const name *s, int64_t start, int64_t end, int64_t *ts_out, \
                             V *vals_out, size_t cap) {                                 \
        const name##__bt__leaf *l;                                                      \
        unsigned i;                                                                     \
        size_t n = 0;                                                                   \
        if (!s || end < start || !s->t.len) return 0;                                   \
        l = name##__leaf_for(s, start);                                                 \
        /* The first key >= start: a forward scan too, a line of keys a step  \
         * (independent loads, issued together; the lines from start on are the \
         * ones the copy reads next), not a binary search (a chain of misses). */ \
        for (i = 0; i + 8 <= l->n && l->keys[i + 7] < start;) i += 8;                   \
        while (i < l->n && l->keys[i] < start) i++;                                     \
        for (; l; l = l->next, i = 0) {                                                 \
            const int64_t *k = l->keys;                                                 \
            const V *v = l->vals;                                                       \
            unsigned e = i, ln = l->n, m = ln - i, j = 0;                               \
            size_t room = n < cap ? cap - n : 0;                                        \
            if (room < m) m = (unsigned)room;                                           \
            if (ts_out && vals_out) {                                                   \
                for (; j < m && k[i + j] <= end; j++) {                                 \
                    ts_out[n + j] = k[i + j];                                           \
                    vals_out[n + j] = v[i + j];                                         \
                }                                                                       \
            } else if (ts_out) {                                                        \
                for (; j < m && k[i + j] <= end; j++) ts_out[n + j] = k[i + j];         \
            } else if (vals_out) {                                                      \
                for (; j < m && k[i + j] <= end; j++) vals_out[n + j] = v[i + j];       \
            }                                                                           \
            e += j;                                                                     \
            while (e + 8 <= ln && k[e + 7] <= end) e += 8;                              \
            while (e < ln && k[e] <= end) e++;                                          \
            n += e - i;                                                                 \
            if (e < ln) break; /* a key past end: the range ends here */                \
        }                                                                               \
        return n;                                                                       \
    }                                                                                   \
    LINK size_t name##_duration(const name *s, int64_t d, int64_t now, int64_t *ts_out, \
                                V *vals_out, size_t cap) {                              \
        if (d < 0) return 0;                                                            \
        return name##_range(s, now < INT64_MIN + d ? INT64_MIN : now - d, now, ts_out, vals_out, cap); \
    }                                                                                   \
    static inline ds_status name##__report(name##_it it, int64_t *ts, V **v) {          \
        if (!name##__bt_it_valid(it)) return DS_EEMPTY;                                 \
        if (ts) *ts = *name##__bt_it_key(it);                                           \
        if (v) *v = name##__bt_it_val(it);                                              \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_earliest(const name *s, int64_t *ts, V **v) {                 \
        return s ? name##__report(name##__bt_first(&s->t), ts, v) : DS_EINVAL;          \
    }                                                                                   \
    LINK ds_status name##_latest(const name *s, int64_t *ts, V **v) {                   \
        return s ? name##__report(name##__bt_last(&s->t), ts, v) : DS_EINVAL;           \
    }                                                                                   \
    LINK ds_status name##_pop_earliest(name *s, int64_t *ts, V *v) {                    \
        if (!s) return DS_EINVAL;                                                       \
        return name##__bt_pop_first(&s->t, ts, v);                                      \
    }                                                                                   \
    LINK size_t name##_expire_before(name *s, int64_t cutoff) {                         \
        size_t n = 0;                                                                   \
        if (!s) return 0;                                                               \
        while (s->t.len && s->t.head->keys[0] < cutoff) {                               \
            (void)name##__bt_pop_first(&s->t, NULL, NULL);                              \
            n++;                                                                        \
        }                                                                               \
        return n;                                                                       \
    }                                                                                   \
    LINK size_t name##_aggregate(const name *s, int64_t start, int64_t end, int64_t width, \
                                 double (*value)(const V *), ds_tbucket *out, size_t cap) { \
        name##_it it;                                                                   \
        size_t nb, i;                                                                   \
        uint64_t span, nb64;                                                            \
        if (!s || !value || width <= 0 || end <= start) return 0;                       \
        span = (uint64_t)end - (uint64_t)start; /* exact: end > start */                \
        nb64 = span / (uint64_t)width + (span % (uint64_t)width != 0);                  \
        nb = nb64 > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)nb64;                       \
        for (i = 0; i < nb && i < cap; i++) {                                           \
            out[i].start = (int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)width);  \
            out[i].count = 0;                                                           \
            out[i].sum = out[i].min = out[i].max = 0;                                   \
        }                                                                               \
        for (it = name##__bt_lower_bound(&s->t, start);                                 \
             name##__bt_it_valid(it) && *name##__bt_it_key(it) < end;                   \
             it = name##__bt_it_next(it)) {                                             \
            size_t b = (size_t)(((uint64_t)*name##__bt_it_key(it) - (uint64_t)start) / (uint64_t)width); \
            double x;                                                                   \
            if (b >= cap) break; /* later buckets are past the caller's room */         \
            x = value(name##__bt_it_val(it));                                           \
            if (!out[b].count || x < out[b].min) out[b].min = x;                        \
            if (!out[b].count || x > out[b].max) out[b].max = x;                        \
            out[b].sum += x;                                                            \
            out[b].count++;                                                             \
        }                                                                               \
        return nb;                                                                      \
    }                                                                                   \
    LINK name##_it name##_first(const name *s) { return name##__bt_first(s ? &s->t : NULL); } \
    LINK name##_it name##_last(const name *s) { return name##__bt_last(s ? &s->t : NULL); } \
    LINK name##_it name##_seek(const name *s, int64_t ts) {                             \
        return name##__bt_lower_bound(s ? &s->t : NULL, ts);                            \
    }                                                                                   \
    LINK int name##_it_valid(name##_it it) { return name##__bt_it_valid(it); }          \
    LINK name##_it name##_it_next(name##_it it) { return name##__bt_it_next(it); }      \
    LINK name##_it name##_it_prev(name##_it it) { return name##__bt_it_prev(it); }      \
    LINK int64_t name##_it_ts(name##_it it) { return it.leaf ? *name##__bt_it_key(it) : 0; } \
    LINK V *name##_it_val(name##_it it) { return name##__bt_it_val(it); }               \
    LINK ds_status name##_save(const name *s, ds_writer w) {                            \
        ds__enc e;                                                                      \
        name##_it it;                                                                   \
        if (!s) return DS_EINVAL;                                                       \
        ds__enc_init(&e, w, "DSts", 1);                                                 \
        ds__put_u64(&e, sizeof(V));                                                     \
        ds__put_u64(&e, s->t.len);                                                      \
        for (it = name##__bt_first(&s->t); name##__bt_it_valid(it) && e.st == DS_OK;    \
             it = name##__bt_it_next(it)) {                                             \
            ds__put_u64(&e, (uint64_t)*name##__bt_it_key(it));                          \
            ds__put(&e, name##__bt_it_val(it), sizeof(V));                              \
        }                                                                               \
        return ds__enc_end(&e);                                                         \
    }                                                                                   \
    LINK ds_status name##_load(name *s, ds_reader *r, const ds_alloc *a) {              \
        ds__dec d;                                                                      \
        name t;                                                                         \
        uint64_t vsz, n, i;                                                             \
        int64_t prev = 0;                                                               \
        if (!s) return DS_EINVAL;                                                       \
        ds__dec_init(&d, r, "DSts", 1);                                                 \
        vsz = ds__get_u64(&d);                                                          \
        n = ds__get_u64(&d);                                                            \
        if (d.st != DS_OK) return d.st;                                                 \
        if (vsz != sizeof(V)) return DS_ECORRUPT;                                       \
        if (!ds__dec_room(&d, n * (8 + sizeof(V)))) return d.st;                        \
        name##_init_alloc(&t, a);                                                       \
        /* Entries come in time order: each is an append (no per-entry search, */      \
        /* and the tree grows only as far as the bytes that actually arrive). */       \
        for (i = 0; i < n && d.st == DS_OK; i++) {                                      \
            int64_t ts = (int64_t)ds__get_u64(&d);                                      \
            V v;                                                                        \
            ds__get(&d, &v, sizeof(V));                                                 \
            if (d.st != DS_OK) break;                                                   \
            if (i && ts <= prev) {                                                      \
                d.st = DS_ECORRUPT;                                                     \
                break;                                                                  \
            }                                                                           \
            prev = ts;                                                                  \
            d.st = name##_insert(&t, ts, v);                                            \
        }                                                                               \
        if (ds__dec_end(&d) != DS_OK) {                                                 \
            name##_free(&t);                                                            \
            return d.st;                                                                \
        }                                                                               \
        *s = t;                                                                         \
        return DS_OK;                                                                   \
    }

#define DS_TSTORE_DECLARE(name, V) \
    DS__TSTORE_TYPES(name, V);     \
    DS__TSTORE_PROTOS(name, V, extern);
#define DS_TSTORE_DEFINE(name, V) DS__TSTORE_IMPL(name, V, )
#define DS_TSTORE(name, V)                        \
    DS__TSTORE_TYPES(name, V);                    \
    DS__TSTORE_PROTOS(name, V, DS__LINK_STATIC);  \
    DS__TSTORE_IMPL(name, V, DS__LINK_STATIC)

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_TSTORE_H */
