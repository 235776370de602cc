/* src/btree.h - DS_BTREE(name, K, V, cmp): in-memory B+tree
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/btree.h"
 */
#ifndef DS_SRC_BTREE_H
#define DS_SRC_BTREE_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:btree ==  DS_BTREE(name, K, V, cmp): in-memory B+tree
 * ========================================================================
 * An ordered map. Leaves hold up to ~1 KiB of keys and values (64 pairs of
 * 8-byte keys and values; so a lookup pays one memory latency per level it
 * misses, not one per comparison as a binary tree does) and are linked
 * both ways for iteration; inner nodes hold up to ~1 KiB of separators and
 * child pointers (64 for 8-byte keys). A descent prefetches each node whole.
 * cmp(a, b) returns <0, 0 or >0 (a function or macro; ds_cmp_u64-style
 * helpers below).
 *
 * Keys appended in increasing order take a fast path: straight into the
 * last leaf, and a full last leaf splits off just the new key, so
 * sequential loads fill leaves completely (O(1) amortised per append);
 * the inner nodes on the right edge then split one key off, not half, so
 * they end (ICAP - 1) / ICAP full (63/64 for 8-byte keys), not half.
 *
 *   void   name_init(name *t), name_init_alloc(name *t, const ds_alloc *a)
 *   void   name_free(name *t), name_clear(name *t)
 *   size_t name_len(const name *t), name_memory(const name *t)
 *   V     *name_get(const name *t, K key)           NULL if absent
 *   int    name_has(const name *t, K key)
 *   ds_status name_put(name *t, K key, V val, int *is_new)   insert or replace
 *   ds_status name_insert(name *t, K key, V val)    DS_EEXIST if present
 *   ds_status name_del(name *t, K key, V *out)      DS_ENOTFOUND
 *   ds_status name_pop_first(name *t, K *key, V *val), name_pop_last   DS_EEMPTY
 *   ds_status name_bulk_load(name *t, K const *keys, V const *vals, size_t n)
 *          into an empty tree, keys strictly increasing (else DS_EINVAL);
 *          O(n), leaves full
 *   iterators (name_it: a leaf and a slot; valid until the next change):
 *   name_it name_first(t), name_last(t)
 *   name_it name_lower_bound(t, key)   first key >= key (also "ceil")
 *   name_it name_upper_bound(t, key)   first key >  key
 *   name_it name_floor(t, key)         last key <= key
 *   int    name_it_valid(it); name_it name_it_next(it), name_it_prev(it)
 *   K *name_it_key(it); V *name_it_val(it)
 *   ds_status name_save(const name *t, ds_writer w), name_load(name *t, ds_reader *r, const ds_alloc *a)
 *          keys and values as raw bytes (plain data without pointers); load
 *          checks sizes, key order (with cmp) and the checksum: DS_ECORRUPT
 *   Range [lo, hi): for (it = name_lower_bound(t, lo); name_it_valid(it) &&
 *          cmp(*name_it_key(it), hi) < 0; it = name_it_next(it))
 *
 * Complexity: get/put/del O(log n); appends in order O(1) amortised;
 * iteration O(1) per step; bulk_load O(n). Errors: DS_ENOMEM (tree
 * unchanged: a put allocates every node a split chain needs before it
 * touches the tree), DS_EINVAL. Thread-safety: as DS_MAP. */

static inline int ds_cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }
static inline int ds_cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }
static inline int ds_cmp_u32(uint32_t a, uint32_t b) { return (a > b) - (a < b); }
static inline int ds_cmp_str(const char *a, const char *b) { return strcmp(a, b); }

/* Inner nodes of up to ibytes bytes of separators and child pointers, 4 to */
/* 128 separators. */
#define DS__BT_CAP(ibytes, each) \
    (((ibytes) / (each)) < 4 ? 4 : ((ibytes) / (each)) > 128 ? 128 : ((ibytes) / (each)))
#define DS__BT_MAXH 40 /* far above any height a 64-bit address space allows */

/* Leaves of up to lbytes bytes of keys and values, 4 to 256 entries. DS_BTREE */
/* takes 1 KiB nodes: a lookup in a tree bigger than the cache pays one */
/* memory latency per level it misses, and 1 KiB nodes keep a 1M-key tree */
/* at three inner levels that stay cached (256-byte nodes: five, and 1.4x */
/* the lookup time). DS_TSTORE takes its own sizes (see there). */
#define DS__BT_LCAP(lbytes, each) \
    (((lbytes) / (each)) < 4 ? 4 : ((lbytes) / (each)) > 256 ? 256 : ((lbytes) / (each)))
#define DS__BTREE_TYPES(name, K, V) DS__BTREE_TYPES_LB(name, K, V, 1024, 1024)
#define DS__BTREE_TYPES_LB(name, K, V, lbytes, ibytes)                                          \
    enum { name##__LCAP = (int)DS__BT_LCAP(lbytes, sizeof(K) + sizeof(V)),              \
           name##__ICAP = (int)DS__BT_CAP(ibytes, sizeof(K) + sizeof(void *)) };                \
    typedef struct name##__leaf {                                                       \
        struct name##__leaf *prev, *next;                                               \
        unsigned n;                                                                     \
        K keys[name##__LCAP];                                                           \
        V vals[name##__LCAP];                                                           \
    } name##__leaf;                                                                     \
    typedef struct name##__inner {                                                      \
        unsigned n; /* separators; n + 1 children */                                    \
        K keys[name##__ICAP];                                                           \
        void *kids[name##__ICAP + 1];                                                   \
    } name##__inner;                                                                    \
    typedef struct name {                                                               \
        void *root; /* a leaf when height == 0 */                                       \
        unsigned height;                                                                \
        size_t len, leaves, inners;                                                     \
        name##__leaf *head, *tail;                                                      \
        const ds_alloc *alloc;                                                          \
    } name;                                                                             \
    typedef struct name##_it {                                                          \
        name##__leaf *leaf;                                                             \
        unsigned i;                                                                     \
    } name##_it

#define DS__BTREE_PROTOS(name, K, V, LINK)                                              \
    LINK ds_status name##_init(name *t);                                                \
    LINK ds_status name##_init_alloc(name *t, const ds_alloc *a);                       \
    LINK void name##_free(name *t);                                                     \
    LINK void name##_clear(name *t);                                                    \
    LINK size_t name##_len(const name *t);                                              \
    LINK size_t name##_memory(const name *t);                                           \
    LINK V *name##_get(const name *t, K key);                                           \
    LINK int name##_has(const name *t, K key);                                          \
    LINK ds_status name##_put(name *t, K key, V val, int *is_new);                      \
    LINK ds_status name##_insert(name *t, K key, V val);                                \
    LINK ds_status name##_del(name *t, K key, V *out);                                  \
    LINK ds_status name##_pop_first(name *t, K *key, V *val);                           \
    LINK ds_status name##_pop_last(name *t, K *key, V *val);                            \
    LINK ds_status name##_bulk_load(name *t, K const *keys, V const *vals, size_t n);   \
    LINK name##_it name##_first(const name *t);                                         \
    LINK name##_it name##_last(const name *t);                                          \
    LINK name##_it name##_lower_bound(const name *t, K key);                            \
    LINK name##_it name##_upper_bound(const name *t, K key);                            \
    LINK name##_it name##_floor(const name *t, K key);                                  \
    LINK int name##_it_valid(name##_it it);                                             \
    LINK name##_it name##_it_next(name##_it it);                                        \
    LINK name##_it name##_it_prev(name##_it it);                                        \
    LINK K *name##_it_key(name##_it it);                                                \
    LINK V *name##_it_val(name##_it it);                                                \
    LINK ds_status name##_save(const name *t, ds_writer w);                             \
    LINK ds_status name##_load(name *t, ds_reader *r, const ds_alloc *a)

#define DS__BTREE_IMPL(name, K, V, cmp, LINK)                                           \
    /* First slot whose key is >= key (le == 0) or > key (le == 1). Both      \
     * searches halve a base index by adding half or nothing, a mask, not a   \
     * branch: a comparison with a random key is a coin toss, and one       \
     * mispredicted branch a step (six a 64-slot node) cost more than the    \
     * step. With a ternary, gcc 12 emits the branch all the same. */         \
    static inline unsigned name##__lsearch(const name##__leaf *l, K key, int le) {      \
        unsigned b = 0, n = l->n; /* an index, not a const K *: K may be a pointer */   \
        int c;                                                                          \
        if (!n) return 0;                                                               \
        while (n > 1) {                                                                 \
            unsigned half = n / 2;                                                      \
            c = cmp(l->keys[b + half - 1], key);                                        \
            b += half & (0u - (unsigned)(c < 0 || (le && c == 0)));                     \
            n -= half;                                                                  \
        }                                                                               \
        c = cmp(l->keys[b], key);                                                       \
        return b + (c < 0 || (le && c == 0));                                           \
    }                                                                                   \
    /* Child to descend into: the number of separators <= key. */                      \
    static inline unsigned name##__isearch(const name##__inner *in, K key) {            \
        unsigned b = 0, n = in->n;                                                      \
        if (!n) return 0;                                                               \
        while (n > 1) {                                                                 \
            unsigned half = n / 2;                                                      \
            b += half & (0u - (unsigned)(cmp(in->keys[b + half - 1], key) <= 0));       \
            n -= half;                                                                  \
        }                                                                               \
        return b + (cmp(in->keys[b], key) <= 0);                                        \
    }                                                                                   \
    /* Start every line of a node at once: their misses overlap, where the  \
     * search would take them one after another. Without it a 1M-key lookup \
     * took 1.4-1.5x the time; every other line only, as long. Unrolled     \
     * (size is a constant), a lookup took 4-7% less time. Always inlined: \
     * GCC 12 deems a function of prefetches alone free of side effects and \
     * drops the call when it does not inline it (it did, at 8 of them).   */\
    DS__INLINE void name##__prefetch(const void *p, size_t size) {                      \
        const char *c = (const char *)p;                                                \
        size_t o;                                                                       \
        DS__UNROLL for (o = 0; o < size; o += 64) DS__PREFETCH(c + o);                  \
        DS__PREFETCH(c + size - 1);                                                     \
    }                                                                                   \
    /* The leaf that holds (or would hold) key, with the path to it. */                \
    static inline name##__leaf *name##__descend(const name *t, K key, name##__inner **path, \
                                                unsigned *idx) {                        \
        void *n = t->root;                                                              \
        unsigned h;                                                                     \
        for (h = 0; h < t->height; h++) {                                               \
            name##__inner *in = (name##__inner *)n;                                     \
            unsigned c = name##__isearch(in, key);                                      \
            if (path) {                                                                 \
                path[h] = in;                                                           \
                idx[h] = c;                                                             \
            }                                                                           \
            n = in->kids[c];                                                            \
            if (h + 1 < t->height) name##__prefetch(n, sizeof(name##__inner));          \
            else name##__prefetch(n, sizeof(name##__leaf));                             \
        }                                                                               \
        return (name##__leaf *)n;                                                       \
    }                                                                                   \
    static inline void *name##__alloc(name *t, size_t sz) { return DS_MALLOC(t->alloc, sz); } \
    LINK ds_status name##_init_alloc(name *t, const ds_alloc *a) {                      \
        if (!t) return DS_EINVAL;                                                       \
        memset(t, 0, sizeof *t);                                                        \
        t->alloc = a;                                                                   \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_init(name *t) { return name##_init_alloc(t, NULL); }          \
    static void name##__free_node(name *t, void *n, unsigned h) {                       \
        if (h) {                                                                        \
            name##__inner *in = (name##__inner *)n;                                     \
            unsigned i;                                                                 \
            for (i = 0; i <= in->n; i++) name##__free_node(t, in->kids[i], h - 1);      \
            DS_FREE(t->alloc, in, sizeof *in);                                          \
        } else {                                                                        \
            DS_FREE(t->alloc, n, sizeof(name##__leaf));                                 \
        }                                                                               \
    }                                                                                   \
    LINK void name##_clear(name *t) {                                                   \
        if (!t) return;                                                                 \
        if (t->root) name##__free_node(t, t->root, t->height);                          \
        name##_init_alloc(t, t->alloc);                                                 \
    }                                                                                   \
    LINK void name##_free(name *t) { name##_clear(t); }                                 \
    LINK size_t name##_len(const name *t) { return t ? t->len : 0; }                    \
    LINK size_t name##_memory(const name *t) {                                          \
        return t ? t->leaves * sizeof(name##__leaf) + t->inners * sizeof(name##__inner) : 0; \
    }                                                                                   \
    LINK V *name##_get(const name *t, K key) {                                          \
        name##__leaf *l;                                                                \
        unsigned i;                                                                     \
        if (!t || !t->root) return NULL;                                                \
        l = name##__descend(t, key, NULL, NULL);                                        \
        i = name##__lsearch(l, key, 0);                                                 \
        return i < l->n && cmp(l->keys[i], key) == 0 ? &l->vals[i] : NULL;              \
    }                                                                                   \
    LINK int name##_has(const name *t, K key) { return name##_get(t, key) != NULL; }   \
    /* Insert (key, val) at slot i of leaf l, which has room. */                       \
    static inline void name##__leaf_ins(name##__leaf *l, unsigned i, K key, V val) {    \
        memmove(&l->keys[i + 1], &l->keys[i], (l->n - i) * sizeof(K));                  \
        memmove(&l->vals[i + 1], &l->vals[i], (l->n - i) * sizeof(V));                  \
        l->keys[i] = key;                                                               \
        l->vals[i] = val;                                                               \
        l->n++;                                                                         \
    }                                                                                   \
    static ds_status name##__put(name *t, K key, V val, int *is_new, int replace) {     \
        name##__inner *path[DS__BT_MAXH], *spare_in[DS__BT_MAXH + 1];                   \
        unsigned idx[DS__BT_MAXH], i, h, need_in = 0, k;                                \
        int append;                                                                     \
        name##__leaf *l, *nl;                                                           \
        K sep;                                                                          \
        void *right;                                                                    \
        if (is_new) *is_new = 0;                                                        \
        if (!t) return DS_EINVAL;                                                       \
        if (!t->root) {                                                                 \
            l = (name##__leaf *)name##__alloc(t, sizeof *l);                            \
            if (!l) return DS_ENOMEM;                                                   \
            l->prev = l->next = NULL;                                                   \
            l->n = 0;                                                                   \
            t->root = t->head = t->tail = l;                                            \
            t->leaves = 1;                                                              \
        }                                                                               \
        /* Appending in order: straight into the last leaf if it has room. */          \
        l = t->tail;                                                                    \
        if (l->n < ((unsigned)name##__LCAP) && (l->n == 0 || cmp(l->keys[l->n - 1], key) < 0) &&    \
            (l->n || t->len == 0)) {                                                    \
            l->keys[l->n] = key;                                                        \
            l->vals[l->n++] = val;                                                      \
            t->len++;                                                                   \
            if (is_new) *is_new = 1;                                                    \
            return DS_OK;                                                               \
        }                                                                               \
        if (l->n && cmp(l->keys[l->n - 1], key) < 0) { /* past the last key: the */    \
            void *x = t->root;                          /* right edge, no search */    \
            for (h = 0; h < t->height; h++) {                                           \
                path[h] = (name##__inner *)x;                                           \
                idx[h] = path[h]->n;                                                    \
                x = path[h]->kids[idx[h]];                                              \
            }                                                                           \
            DS_ASSERT(x == (void *)l);                                                  \
            i = l->n;                                                                   \
        } else {                                                                        \
            l = name##__descend(t, key, path, idx);                                     \
            i = name##__lsearch(l, key, 0);                                             \
        }                                                                               \
        if (i < l->n && cmp(l->keys[i], key) == 0) {                                    \
            if (!replace) return DS_EEXIST;                                             \
            l->keys[i] = key;                                                           \
            l->vals[i] = val;                                                           \
            return DS_OK;                                                               \
        }                                                                               \
        if (l->n < ((unsigned)name##__LCAP)) {                                                      \
            name##__leaf_ins(l, i, key, val);                                           \
            t->len++;                                                                   \
            if (is_new) *is_new = 1;                                                    \
            return DS_OK;                                                               \
        }                                                                               \
        /* A split chain: a new leaf, a new inner node for every full ancestor,   \
         * and a new root if they are all full. All allocated up front. */             \
        for (h = t->height; h > 0 && path[h - 1]->n == ((unsigned)name##__ICAP); h--) need_in++;    \
        if (h == 0) need_in++; /* the root splits: one more for the new root */         \
        nl = (name##__leaf *)name##__alloc(t, sizeof *nl);                              \
        for (k = 0; nl && k < need_in; k++)                                             \
            if (!(spare_in[k] = (name##__inner *)name##__alloc(t, sizeof(name##__inner)))) break; \
        if (!nl || k < need_in) {                                                       \
            while (k-- > 0) DS_FREE(t->alloc, spare_in[k], sizeof(name##__inner));      \
            if (nl) DS_FREE(t->alloc, nl, sizeof *nl);                                  \
            return DS_ENOMEM;                                                           \
        }                                                                               \
        /* Split the leaf. At the very end of the last leaf (in-order loads), */       \
        /* only the new key moves right, so leaves stay full; the inner nodes  */      \
        /* of the right edge then split ICAP - 1 : 1 (both keep two children). */      \
        append = l == t->tail && i == l->n;                                             \
        if (append) {                                                                   \
            nl->n = 0;                                                                  \
            nl->keys[0] = key;                                                          \
            nl->vals[0] = val;                                                          \
            nl->n = 1;                                                                  \
        } else {                                                                        \
            unsigned half = ((unsigned)name##__LCAP + 1) / 2;                                 \
            if (i < half) { /* new key goes left */                                     \
                nl->n = l->n - (half - 1);                                              \
                memcpy(nl->keys, &l->keys[half - 1], nl->n * sizeof(K));                \
                memcpy(nl->vals, &l->vals[half - 1], nl->n * sizeof(V));                \
                l->n = half - 1;                                                        \
                name##__leaf_ins(l, i, key, val);                                       \
            } else {                                                                    \
                nl->n = l->n - half;                                                    \
                memcpy(nl->keys, &l->keys[half], nl->n * sizeof(K));                    \
                memcpy(nl->vals, &l->vals[half], nl->n * sizeof(V));                    \
                l->n = half;                                                            \
                name##__leaf_ins(nl, i - half, key, val);                               \
            }                                                                           \
        }                                                                               \
        nl->prev = l;                                                                   \
        nl->next = l->next;                                                             \
        if (l->next) l->next->prev = nl; else t->tail = nl;                             \
        l->next = nl;                                                                   \
        t->leaves++;                                                                    \
        t->len++;                                                                       \
        if (is_new) *is_new = 1;                                                        \
        sep = nl->keys[0];                                                              \
        right = nl;                                                                     \
        k = 0;                                                                          \
        /* Push (sep, right) up the path, splitting full inner nodes. */                \
        for (h = t->height; h > 0; h--) {                                               \
            name##__inner *in = path[h - 1], *ni;                                       \
            unsigned c = idx[h - 1], m, j;                                              \
            K tk[name##__ICAP + 1];                                                     \
            void *tc[name##__ICAP + 2];                                                 \
            if (in->n < ((unsigned)name##__ICAP)) {                                                 \
                memmove(&in->keys[c + 1], &in->keys[c], (in->n - c) * sizeof(K));       \
                memmove(&in->kids[c + 2], &in->kids[c + 1], (in->n - c) * sizeof(void *)); \
                in->keys[c] = sep;                                                      \
                in->kids[c + 1] = right;                                                \
                in->n++;                                                                \
                return DS_OK;                                                           \
            }                                                                           \
            for (j = 0; j < c; j++) tk[j] = in->keys[j];                                \
            tk[c] = sep;                                                                \
            for (j = c; j < in->n; j++) tk[j + 1] = in->keys[j];                        \
            for (j = 0; j <= c; j++) tc[j] = in->kids[j];                               \
            tc[c + 1] = right;                                                          \
            for (j = c + 1; j <= in->n; j++) tc[j + 1] = in->kids[j];                   \
            m = append && c == in->n ? (unsigned)name##__ICAP - 1                      \
                                     : ((unsigned)name##__ICAP + 1) / 2; /* tk[m] moves up */ \
            ni = spare_in[k++];                                                         \
            t->inners++;                                                                \
            in->n = m;                                                                  \
            for (j = 0; j < m; j++) in->keys[j] = tk[j];                                \
            for (j = 0; j <= m; j++) in->kids[j] = tc[j];                               \
            ni->n = ((unsigned)name##__ICAP) - m;                                                   \
            for (j = 0; j < ni->n; j++) ni->keys[j] = tk[m + 1 + j];                    \
            for (j = 0; j <= ni->n; j++) ni->kids[j] = tc[m + 1 + j];                   \
            sep = tk[m];                                                                \
            right = ni;                                                                 \
        }                                                                               \
        { /* the root split: a new root above */                                        \
            name##__inner *r = spare_in[k++];                                           \
            t->inners++;                                                                \
            r->n = 1;                                                                   \
            r->keys[0] = sep;                                                           \
            r->kids[0] = t->root;                                                       \
            r->kids[1] = right;                                                         \
            t->root = r;                                                                \
            t->height++;                                                                \
        }                                                                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_put(name *t, K key, V val, int *is_new) {                     \
        return name##__put(t, key, val, is_new, 1);                                     \
    }                                                                                   \
    LINK ds_status name##_insert(name *t, K key, V val) {                               \
        return name##__put(t, key, val, NULL, 0);                                       \
    }                                                                                   \
    /* Remove separator c and child c + 1 from in. */                                   \
    static inline void name##__in_remove(name##__inner *in, unsigned c) {               \
        memmove(&in->keys[c], &in->keys[c + 1], (in->n - c - 1) * sizeof(K));           \
        memmove(&in->kids[c + 1], &in->kids[c + 2], (in->n - c - 1) * sizeof(void *));  \
        in->n--;                                                                        \
    }                                                                                   \
    /* Rebalance inner node path[h] (below its minimum) against a sibling. */          \
    static void name##__fix_inner(name *t, name##__inner **path, unsigned *idx, unsigned h) { \
        const unsigned mini = ((unsigned)name##__ICAP) / 2;                                         \
        while (h > 0 && path[h]->n < mini) {                                            \
            name##__inner *in = path[h], *p = path[h - 1], *ls, *rs;                    \
            unsigned c = idx[h - 1], j;                                                 \
            ls = c > 0 ? (name##__inner *)p->kids[c - 1] : NULL;                        \
            rs = c < p->n ? (name##__inner *)p->kids[c + 1] : NULL;                     \
            if (ls && ls->n > mini) { /* rotate one from the left */                    \
                memmove(&in->keys[1], &in->keys[0], in->n * sizeof(K));                 \
                memmove(&in->kids[1], &in->kids[0], (in->n + 1) * sizeof(void *));     \
                in->keys[0] = p->keys[c - 1];                                           \
                in->kids[0] = ls->kids[ls->n];                                          \
                p->keys[c - 1] = ls->keys[ls->n - 1];                                   \
                ls->n--;                                                                \
                in->n++;                                                                \
                return;                                                                 \
            }                                                                           \
            if (rs && rs->n > mini) { /* rotate one from the right */                   \
                in->keys[in->n] = p->keys[c];                                           \
                in->kids[in->n + 1] = rs->kids[0];                                      \
                p->keys[c] = rs->keys[0];                                               \
                memmove(&rs->keys[0], &rs->keys[1], (rs->n - 1) * sizeof(K));           \
                memmove(&rs->kids[0], &rs->kids[1], rs->n * sizeof(void *));            \
                rs->n--;                                                                \
                in->n++;                                                                \
                return;                                                                 \
            }                                                                           \
            if (!ls && !rs) break; /* an only child: nothing to balance with */         \
            if (ls) { /* merge in into ls */                                            \
                ls->keys[ls->n] = p->keys[c - 1];                                       \
                for (j = 0; j < in->n; j++) ls->keys[ls->n + 1 + j] = in->keys[j];      \
                for (j = 0; j <= in->n; j++) ls->kids[ls->n + 1 + j] = in->kids[j];     \
                ls->n += in->n + 1;                                                     \
                DS_FREE(t->alloc, in, sizeof *in);                                      \
                name##__in_remove(p, c - 1);                                         \
            } else { /* merge rs into in */                                             \
                in->keys[in->n] = p->keys[c];                                           \
                for (j = 0; j < rs->n; j++) in->keys[in->n + 1 + j] = rs->keys[j];      \
                for (j = 0; j <= rs->n; j++) in->kids[in->n + 1 + j] = rs->kids[j];     \
                in->n += rs->n + 1;                                                     \
                DS_FREE(t->alloc, rs, sizeof *rs);                                      \
                name##__in_remove(p, c);                                             \
            }                                                                           \
            t->inners--;                                                                \
            h--;                                                                        \
        }                                                                               \
        if (h == 0 && t->height > 0 && path[0]->n == 0) { /* the root lost its last key */ \
            t->root = path[0]->kids[0];                                                 \
            DS_FREE(t->alloc, path[0], sizeof(name##__inner));                          \
            t->inners--;                                                                \
            t->height--;                                                                \
        }                                                                               \
    }                                                                                   \
    static void name##__unlink_leaf(name *t, name##__leaf *l) {                         \
        if (l->prev) l->prev->next = l->next; else t->head = l->next;                   \
        if (l->next) l->next->prev = l->prev; else t->tail = l->prev;                   \
        DS_FREE(t->alloc, l, sizeof *l);                                                \
        t->leaves--;                                                                    \
    }                                                                                   \
    LINK ds_status name##_del(name *t, K key, V *out) {                                 \
        name##__inner *path[DS__BT_MAXH];                                               \
        unsigned idx[DS__BT_MAXH], i, h;                                                \
        const unsigned minl = ((unsigned)name##__LCAP) / 2;                                         \
        name##__leaf *l;                                                                \
        if (!t) return DS_EINVAL;                                                       \
        if (!t->root) return DS_ENOTFOUND;                                              \
        l = name##__descend(t, key, path, idx);                                         \
        i = name##__lsearch(l, key, 0);                                                 \
        if (i >= l->n || cmp(l->keys[i], key) != 0) return DS_ENOTFOUND;               \
        if (out) *out = l->vals[i];                                                     \
        memmove(&l->keys[i], &l->keys[i + 1], (l->n - i - 1) * sizeof(K));             \
        memmove(&l->vals[i], &l->vals[i + 1], (l->n - i - 1) * sizeof(V));              \
        l->n--;                                                                         \
        t->len--;                                                                       \
        h = t->height;                                                                  \
        if (h == 0) { /* the root leaf */                                               \
            if (l->n == 0) name##_clear(t);                                             \
            return DS_OK;                                                               \
        }                                                                               \
        if (l->n >= minl) return DS_OK;                                                 \
        {                                                                               \
            name##__inner *p = path[h - 1];                                             \
            unsigned c = idx[h - 1];                                                    \
            name##__leaf *ls = c > 0 ? (name##__leaf *)p->kids[c - 1] : NULL;           \
            name##__leaf *rs = c < p->n ? (name##__leaf *)p->kids[c + 1] : NULL;        \
            if (ls && ls->n > minl) { /* borrow the left sibling's last */              \
                name##__leaf_ins(l, 0, ls->keys[ls->n - 1], ls->vals[ls->n - 1]);       \
                ls->n--;                                                                \
                p->keys[c - 1] = l->keys[0];                                            \
                return DS_OK;                                                           \
            }                                                                           \
            if (rs && rs->n > minl) { /* borrow the right sibling's first */            \
                l->keys[l->n] = rs->keys[0];                                            \
                l->vals[l->n++] = rs->vals[0];                                          \
                memmove(&rs->keys[0], &rs->keys[1], (rs->n - 1) * sizeof(K));           \
                memmove(&rs->vals[0], &rs->vals[1], (rs->n - 1) * sizeof(V));           \
                rs->n--;                                                                \
                p->keys[c] = rs->keys[0];                                               \
                return DS_OK;                                                           \
            }                                                                           \
            if (!ls && !rs) return DS_OK; /* an only child: nothing to balance with */  \
            if (ls) { /* merge l into ls */                                             \
                memcpy(&ls->keys[ls->n], l->keys, l->n * sizeof(K));                    \
                memcpy(&ls->vals[ls->n], l->vals, l->n * sizeof(V));                    \
                ls->n += l->n;                                                          \
                name##__unlink_leaf(t, l);                                              \
                name##__in_remove(p, c - 1);                                         \
            } else { /* merge rs into l */                                              \
                memcpy(&l->keys[l->n], rs->keys, rs->n * sizeof(K));                    \
                memcpy(&l->vals[l->n], rs->vals, rs->n * sizeof(V));                    \
                l->n += rs->n;                                                          \
                name##__unlink_leaf(t, rs);                                             \
                name##__in_remove(p, c);                                             \
            }                                                                           \
            name##__fix_inner(t, path, idx, h - 1);                                     \
        }                                                                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_pop_first(name *t, K *key, V *val) {                          \
        K k;                                                                            \
        if (!t) return DS_EINVAL;                                                       \
        if (!t->len) return DS_EEMPTY;                                                  \
        k = t->head->keys[0];                                                           \
        if (key) *key = k;                                                              \
        return name##_del(t, k, val);                                                   \
    }                                                                                   \
    LINK ds_status name##_pop_last(name *t, K *key, V *val) {                           \
        K k;                                                                            \
        if (!t) return DS_EINVAL;                                                       \
        if (!t->len) return DS_EEMPTY;                                                  \
        k = t->tail->keys[t->tail->n - 1];                                              \
        if (key) *key = k;                                                              \
        return name##_del(t, k, val);                                                   \
    }                                                                                   \
    LINK ds_status name##_bulk_load(name *t, K const *keys, V const *vals, size_t n) {  \
        size_t i, nl, ni = 0, lv, w, used = 0, total;                                   \
        void **nodes = NULL;                                                            \
        K *mins = NULL;                                                                 \
        name##__leaf *prev = NULL;                                                      \
        const size_t fan = (size_t)((unsigned)name##__ICAP) + 1, lcap = (size_t)((unsigned)name##__LCAP);       \
        if (!t || t->len || (n && (!keys || !vals))) return DS_EINVAL;                  \
        for (i = 1; i < n; i++)                                                         \
            if (cmp(keys[i - 1], keys[i]) >= 0) return DS_EINVAL;                       \
        if (n == 0) return DS_OK;                                                       \
        /* Count every node first and allocate them all: a failure leaves t as  */     \
        /* it was, and building cannot fail halfway. */                                 \
        nl = (n + lcap - 1) / lcap;                                                     \
        for (lv = nl; lv > 1; lv = (lv + fan - 1) / fan) ni += (lv + fan - 1) / fan;    \
        total = nl + ni;                                                                \
        nodes = (void **)DS_MALLOC(t->alloc, total * sizeof(void *));                   \
        mins = (K *)DS_MALLOC(t->alloc, nl * sizeof(K));                                \
        if (nodes && mins)                                                              \
            for (used = 0; used < total; used++)                                        \
                if (!(nodes[used] = name##__alloc(t, used < nl ? sizeof(name##__leaf) : sizeof(name##__inner)))) \
                    break;                                                              \
        if (!nodes || !mins || used < total) {                                          \
            while (used-- > 0)                                                          \
                DS_FREE(t->alloc, nodes[used], used < nl ? sizeof(name##__leaf) : sizeof(name##__inner)); \
            if (nodes) DS_FREE(t->alloc, nodes, total * sizeof(void *));                \
            if (mins) DS_FREE(t->alloc, mins, nl * sizeof(K));                          \
            return DS_ENOMEM;                                                           \
        }                                                                               \
        for (i = 0; i < nl; i++) { /* full leaves, left to right */                     \
            name##__leaf *l = (name##__leaf *)nodes[i];                                 \
            size_t from = i * lcap, cnt = n - from < lcap ? n - from : lcap;            \
            memcpy(l->keys, keys + from, cnt * sizeof(K));                              \
            memcpy(l->vals, vals + from, cnt * sizeof(V));                              \
            l->n = (unsigned)cnt;                                                       \
            l->prev = prev;                                                             \
            l->next = NULL;                                                             \
            if (prev) prev->next = l; else t->head = l;                                 \
            prev = l;                                                                   \
            mins[i] = l->keys[0];                                                       \
        }                                                                               \
        t->tail = prev;                                                                 \
        t->leaves = nl;                                                                 \
        t->inners = ni;                                                                 \
        t->height = 0;                                                                  \
        /* Levels of inner nodes: nodes[base .. base + lv) is the level below. */       \
        {                                                                               \
            size_t base = 0, next = nl;                                                 \
            for (lv = nl; lv > 1; lv = w) {                                             \
                size_t j;                                                               \
                w = (lv + fan - 1) / fan;                                               \
                for (j = 0; j < w; j++) { /* children spread evenly: >= 2 each */      \
                    name##__inner *in = (name##__inner *)nodes[next + j];               \
                    size_t from = j * lv / w, c, cnt = (j + 1) * lv / w - from;         \
                    for (c = 0; c < cnt; c++) {                                         \
                        in->kids[c] = nodes[base + from + c];                           \
                        if (c) in->keys[c - 1] = mins[from + c];                        \
                    }                                                                   \
                    in->n = (unsigned)(cnt - 1);                                        \
                    mins[j] = mins[from];                                               \
                }                                                                       \
                base = next;                                                            \
                next += w;                                                              \
                t->height++;                                                            \
            }                                                                           \
            t->root = nodes[base];                                                      \
        }                                                                               \
        t->len = n;                                                                     \
        DS_FREE(t->alloc, nodes, total * sizeof(void *));                               \
        DS_FREE(t->alloc, mins, nl * sizeof(K));                                        \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK name##_it name##_first(const name *t) {                                        \
        name##_it it;                                                                   \
        it.leaf = t && t->len ? t->head : NULL;                                         \
        it.i = 0;                                                                       \
        return it;                                                                      \
    }                                                                                   \
    LINK name##_it name##_last(const name *t) {                                         \
        name##_it it;                                                                   \
        it.leaf = t && t->len ? t->tail : NULL;                                         \
        it.i = it.leaf ? it.leaf->n - 1 : 0;                                            \
        return it;                                                                      \
    }                                                                                   \
    /* Normalise: slot == n means "first of the next leaf". */                         \
    static inline name##_it name##__it_fix(name##__leaf *l, unsigned i) {               \
        name##_it it;                                                                   \
        while (l && i >= l->n) {                                                        \
            l = l->next;                                                                \
            i = 0;                                                                      \
        }                                                                               \
        it.leaf = l;                                                                    \
        it.i = i;                                                                       \
        return it;                                                                      \
    }                                                                                   \
    LINK name##_it name##_lower_bound(const name *t, K key) {                           \
        name##__leaf *l;                                                                \
        if (!t || !t->len) return name##__it_fix(NULL, 0);                              \
        l = name##__descend(t, key, NULL, NULL);                                        \
        return name##__it_fix(l, name##__lsearch(l, key, 0));                           \
    }                                                                                   \
    LINK name##_it name##_upper_bound(const name *t, K key) {                           \
        name##__leaf *l;                                                                \
        if (!t || !t->len) return name##__it_fix(NULL, 0);                              \
        l = name##__descend(t, key, NULL, NULL);                                        \
        return name##__it_fix(l, name##__lsearch(l, key, 1));                           \
    }                                                                                   \
    LINK int name##_it_valid(name##_it it) { return it.leaf != NULL; }                  \
    LINK name##_it name##_it_next(name##_it it) {                                       \
        if (!it.leaf) return it;                                                        \
        return name##__it_fix(it.leaf, it.i + 1);                                       \
    }                                                                                   \
    LINK name##_it name##_it_prev(name##_it it) {                                       \
        if (!it.leaf) return it;                                                        \
        if (it.i > 0) {                                                                 \
            it.i--;                                                                     \
            return it;                                                                  \
        }                                                                               \
        it.leaf = it.leaf->prev;                                                        \
        while (it.leaf && it.leaf->n == 0) it.leaf = it.leaf->prev;                     \
        it.i = it.leaf ? it.leaf->n - 1 : 0;                                            \
        return it;                                                                      \
    }                                                                                   \
    LINK name##_it name##_floor(const name *t, K key) {                                 \
        name##_it it = name##_upper_bound(t, key);                                      \
        if (it.leaf) return name##_it_prev(it);                                         \
        return name##_last(t); /* every key <= key */                                   \
    }                                                                                   \
    LINK K *name##_it_key(name##_it it) { return it.leaf ? &it.leaf->keys[it.i] : NULL; } \
    LINK V *name##_it_val(name##_it it) { return it.leaf ? &it.leaf->vals[it.i] : NULL; } \
    LINK ds_status name##_save(const name *t, ds_writer w) {                            \
        ds__enc e;                                                                      \
        name##__leaf *l;                                                                \
        K kb[name##__LCAP];                                                             \
        V vb[name##__LCAP];                                                             \
        unsigned j, c = 0;                                                              \
        if (!t) return DS_EINVAL;                                                       \
        ds__enc_init(&e, w, "DSbt", 1);                                                 \
        ds__put_u64(&e, sizeof(K));                                                     \
        ds__put_u64(&e, sizeof(V));                                                     \
        ds__put_u64(&e, t->len);                                                        \
        /* Blocks of exactly LCAP entries (keys, then values), whatever the     */     \
        /* leaves hold: the reader reads the same blocks. Raw bytes: plain data. */     \
        for (l = t->len ? t->head : NULL; l && e.st == DS_OK; l = l->next)              \
            for (j = 0; j < l->n; j++) {                                                \
                kb[c] = l->keys[j];                                                     \
                vb[c++] = l->vals[j];                                                   \
                if (c == (unsigned)name##__LCAP) {                                      \
                    ds__put(&e, kb, c * sizeof(K));                                     \
                    ds__put(&e, vb, c * sizeof(V));                                     \
                    c = 0;                                                              \
                }                                                                       \
            }                                                                           \
        if (c) {                                                                        \
            ds__put(&e, kb, c * sizeof(K));                                             \
            ds__put(&e, vb, c * sizeof(V));                                             \
        }                                                                               \
        return ds__enc_end(&e);                                                         \
    }                                                                                   \
    /* Keys arrive sorted: each is an append; the tree grows only as far as    */     \
    /* the bytes that actually arrive. Order is checked with cmp. */                   \
    LINK ds_status name##_load(name *t, ds_reader *r, const ds_alloc *a) {              \
        ds__dec d;                                                                      \
        name u;                                                                         \
        uint64_t ks, vs, n, i;                                                          \
        K prev;                                                                         \
        if (!t) return DS_EINVAL;                                                       \
        ds__dec_init(&d, r, "DSbt", 1);                                                 \
        ks = ds__get_u64(&d);                                                           \
        vs = ds__get_u64(&d);                                                           \
        n = ds__get_u64(&d);                                                            \
        if (d.st != DS_OK) return d.st;                                                 \
        if (ks != sizeof(K) || vs != sizeof(V)) return DS_ECORRUPT;                     \
        if (!ds__dec_room(&d, n * (sizeof(K) + sizeof(V)))) return d.st;                \
        name##_init_alloc(&u, a);                                                       \
        memset(&prev, 0, sizeof prev);                                                  \
        /* Leaves were written as all keys then all values: read them the same */      \
        /* way, one leaf-sized block at a time. */                                      \
        for (i = 0; i < n && d.st == DS_OK;) {                                          \
            K kb[name##__LCAP];                                                         \
            V vb[name##__LCAP];                                                         \
            uint64_t c = n - i < (uint64_t)name##__LCAP ? n - i : (uint64_t)name##__LCAP, j; \
            ds__get(&d, kb, (size_t)c * sizeof(K));                                     \
            ds__get(&d, vb, (size_t)c * sizeof(V));                                     \
            for (j = 0; j < c && d.st == DS_OK; j++) {                                  \
                if ((i || j) && cmp(prev, kb[j]) >= 0) d.st = DS_ECORRUPT;              \
                else d.st = name##__put(&u, kb[j], vb[j], NULL, 0);                     \
                prev = kb[j];                                                           \
            }                                                                           \
            i += c;                                                                     \
        }                                                                               \
        if (ds__dec_end(&d) != DS_OK) {                                                 \
            name##_free(&u);                                                            \
            return d.st;                                                                \
        }                                                                               \
        *t = u;                                                                         \
        return DS_OK;                                                                   \
    }

#define DS_BTREE_DECLARE(name, K, V) \
    DS__BTREE_TYPES(name, K, V);     \
    DS__BTREE_PROTOS(name, K, V, extern);
#define DS_BTREE_DEFINE(name, K, V, cmp) DS__BTREE_IMPL(name, K, V, cmp, )
#define DS_BTREE(name, K, V, cmp)                  \
    DS__BTREE_TYPES(name, K, V);                   \
    DS__BTREE_PROTOS(name, K, V, DS__LINK_STATIC); \
    DS__BTREE_IMPL(name, K, V, cmp, DS__LINK_STATIC)

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_BTREE_H */
