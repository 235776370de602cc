/* src/trie.h - ds_trie: radix tree with autocomplete
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/trie.h"
 */
#ifndef DS_SRC_TRIE_H
#define DS_SRC_TRIE_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:trie ==  ds_trie: radix tree with autocomplete
 * ========================================================================
 * A compressed radix tree over arbitrary byte strings (embedded NULs are
 * fine) mapping each key to a user pointer and a score. Edges carry byte
 * strings; children are kept sorted by first byte, so every walk is in
 * lexicographic byte order (a key before its extensions).
 *
 * Autocomplete: every node keeps the maximum score in its subtree, kept
 * exact under incr, set and delete. complete(prefix, k) is a best-first
 * search from the prefix's node: it expands only subtrees whose maximum can
 * still make the top k, so it costs about O(|prefix| + k log k) node visits
 * (times the fan-out of the nodes expanded), not a walk of every match.
 * Ties in score are broken by key, lexicographically.
 *
 *   ds_status ds_trie_init(ds_trie *t, const ds_alloc *a)   allocates nothing;
 *          DS_EINVAL if t is NULL.   void ds_trie_free(ds_trie *t)
 *   ds_status ds_trie_put(ds_trie *t, const void *key, size_t len, void *val, int *is_new)
 *          a new key starts with score 0; an existing one keeps its score
 *   ds_status ds_trie_put_score(ds_trie *t, const void *key, size_t len, void *val,
 *                               double score, int *is_new)
 *          put with a score (finite, else DS_EINVAL), new or existing key
 *   void **ds_trie_get(const ds_trie *t, const void *key, size_t len)   NULL if absent;
 *          the pointer (also longest_prefix's) stays valid until the next
 *          put, put_score, incr or del (nodes move when their fan-out changes)
 *   ds_status ds_trie_del(ds_trie *t, const void *key, size_t len, void **out)  DS_ENOTFOUND;
 *          nodes merge back (if that merge cannot allocate, the tree stays
 *          correct, one edge longer than it could be)
 *   ds_status ds_trie_incr(ds_trie *t, const void *key, size_t len, double delta, double *score)
 *          adds to the key's score, inserting it (value NULL) if absent
 *   ds_status ds_trie_set_score(ds_trie *t, const void *key, size_t len, double score)  DS_ENOTFOUND
 *          scores must stay finite (DS_EINVAL otherwise)
 *   double ds_trie_score(const ds_trie *t, const void *key, size_t len)   NaN if absent
 *   size_t ds_trie_complete(const ds_trie *t, const void *prefix, size_t plen, size_t k,
 *                           ds_trie_fn fn, void *ctx)
 *          the k highest-scored keys under prefix, best first; fn may be
 *          NULL; returns how many were reported (DS_ENOMEM-free: the search
 *          frontier uses a fixed 4 KiB of stack, then the heap; on
 *          allocation failure it returns what it found so far)
 *   ds_status ds_trie_complete_index(ds_trie *t, size_t k, size_t min_keys)
 *          for read-mostly dictionaries: keeps, for every node whose
 *          subtree holds >= min_keys keys (2 at least), its k best keys;
 *          complete(prefix, <= k) from such a node then reads one list
 *          instead of searching (on 104k words with min_keys 32: ~300 ns
 *          against ~2.3 us, +5 bytes a key, built in ~7 ms). The next
 *          successful put, put_score, incr, set_score or del drops it (a
 *          failed one keeps it); k = 0 drops it; calling it again rebuilds
 *          it. Values are read from the keys at report time, so a value set
 *          through ds_trie_get's pointer shows. DS_EINVAL (t NULL,
 *          k > 65536), DS_ENOMEM (the old index, if any, stays). O(n) plus
 *          a search per list; ds_trie_memory counts it. A write: not
 *          concurrently with readers
 *   size_t ds_trie_walk(const ds_trie *t, const void *prefix, size_t plen, int reverse,
 *                       ds_trie_fn fn, void *ctx)
 *          every key with the prefix, in (reverse) lexicographic order
 *   size_t ds_trie_seek(const ds_trie *t, const void *key, size_t len, int dir,
 *                       ds_trie_fn fn, void *ctx)
 *          dir > 0: keys >= key ascending; dir < 0: keys <= key descending
 *   void **ds_trie_longest_prefix(const ds_trie *t, const void *key, size_t len, size_t *mlen)
 *          the value of the longest stored key that is a prefix of key
 *          (routing tables, tokenizers); *mlen its length
 *   size_t ds_trie_len(const ds_trie *t), ds_trie_memory(const ds_trie *t)
 * fn(ctx, key, len, score, val) returns nonzero to stop; the key buffer is
 * valid during the call. Walks return the number of keys reported.
 * Complexity: put/get/del O(len) plus O(fan-out) per node on the path to
 * keep the subtree maxima; walks O(1) amortised per key.
 * Thread-safety: none for writers; concurrent readers are fine. */
typedef int (*ds_trie_fn)(void *ctx, const void *key, size_t len, double score, void *val);

/* One allocation a node, sized by its fan-out (after Judy's idea of nodes
 * shaped by their population, Baskins' "Judy IV shop manual"): the header,
 * then only what the node uses. What a lookup reads comes first, so a
 * small node's lookup touches one cache line; the doubles after the label
 * are unaligned and read with memcpy (no padding):
 *   void *val                   if DS__TVAL (the node can hold a key)
 *   ds__tnode *kids[kcap]       sorted by their label's first byte
 *   unsigned char firsts[kcap]  those first bytes: a child search reads
 *                               no child node
 *   unsigned char label[len]    the edge from the parent
 *   double score                if DS__TVAL and kcap > 0
 *   double kbest[kcap]          each child's subtree maximum, so complete
 *                               ranks children without visiting them
 * A leaf (kcap 0) keeps its score only in its parent's kbest: a leaf's
 * maximum is its score. So a leaf is the header, val and label (~18
 * bytes for a word, a 32-byte malloc chunk); the root, which has no
 * parent, keeps a slot while it holds a key. No parent pointers: writers
 * walk from the root again, see ds__tlower. */
typedef struct ds__tnode {
    uint32_t len;   /* label bytes */
    uint16_t nkids; /* children in use */
    uint16_t bits;  /* child slots allocated (kcap, <= 256) | DS__THAS | DS__TVAL */
} ds__tnode;

typedef struct ds__tcx ds__tcx; /* ds_trie_complete_index's lists */
typedef struct ds_trie {
    ds__tnode *root; /* NULL until the first put; its label is empty */
    size_t count, bytes;
    const ds_alloc *alloc;
    ds__tcx *cx; /* NULL unless indexed since the last write */
} ds_trie;
/* ds_trie_complete_index's lists: see "the complete index" below. */
struct ds__tcx {
    size_t k, min, slots, lists; /* table slots (a power of two), lists held */
    const ds__tnode **node;      /* node[slots]: NULL marks a free slot */
    size_t *off;                 /* off[slots]: each node's list in arena */
    unsigned char *arena;
    size_t used, cap, bytes;     /* arena bytes used / allocated; everything */
};

DSDEF ds_status ds_trie_init(ds_trie *t, const ds_alloc *a);
DSDEF void ds_trie_free(ds_trie *t);
DSDEF ds_status ds_trie_put(ds_trie *t, const void *key, size_t len, void *val, int *is_new);
DSDEF void **ds_trie_get(const ds_trie *t, const void *key, size_t len);
DSDEF ds_status ds_trie_del(ds_trie *t, const void *key, size_t len, void **out);
DSDEF ds_status ds_trie_incr(ds_trie *t, const void *key, size_t len, double delta, double *score);
DSDEF ds_status ds_trie_set_score(ds_trie *t, const void *key, size_t len, double score);
DSDEF ds_status ds_trie_put_score(ds_trie *t, const void *key, size_t len, void *val, double score,
                                  int *is_new);
DSDEF double ds_trie_score(const ds_trie *t, const void *key, size_t len);
DSDEF size_t ds_trie_complete(const ds_trie *t, const void *prefix, size_t plen, size_t k,
                              ds_trie_fn fn, void *ctx);
DSDEF ds_status ds_trie_complete_index(ds_trie *t, size_t k, size_t min_keys);
DSDEF size_t ds_trie_walk(const ds_trie *t, const void *prefix, size_t plen, int reverse,
                          ds_trie_fn fn, void *ctx);
DSDEF size_t ds_trie_seek(const ds_trie *t, const void *key, size_t len, int dir, ds_trie_fn fn,
                          void *ctx);
DSDEF void **ds_trie_longest_prefix(const ds_trie *t, const void *key, size_t len, size_t *mlen);
DSDEF size_t ds_trie_len(const ds_trie *t);
DSDEF size_t ds_trie_memory(const ds_trie *t);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_TRIE_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_TRIE_IMPL)
#define DS_SRC_TRIE_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:trie == */

#define DS__TCAP 0x1ffu  /* bits: child slots allocated */
#define DS__THAS 0x200u  /* a key ends here */
#define DS__TVAL 0x400u  /* the node has val (and score if kcap > 0): kept when a shrink fails */

DS__INLINE unsigned ds__tkcap(const ds__tnode *n) { return n->bits & DS__TCAP; }
static size_t ds__tsize(size_t len, unsigned kcap, int v) {
    return sizeof(ds__tnode) + (v ? sizeof(void *) : 0) + (v && kcap ? sizeof(double) : 0) +
           kcap * (sizeof(double) + sizeof(ds__tnode *) + 1) + len;
}
/* The node has its own score slot (else its parent's kbest holds it). */
DS__INLINE int ds__town(const ds__tnode *n) { return (n->bits & DS__TVAL) && (n->bits & DS__TCAP); }
static size_t ds__tnode_size(const ds__tnode *n) {
    return ds__tsize(n->len, ds__tkcap(n), (n->bits & DS__TVAL) != 0);
}
/* The parts of a node (see the layout above ds__tnode). */
DS__INLINE void **ds__tval(const ds__tnode *n) { return (void **)(uintptr_t)(n + 1); }
DS__INLINE ds__tnode **ds__tkids(const ds__tnode *n) {
    return (ds__tnode **)(uintptr_t)((const unsigned char *)(n + 1) + (n->bits & DS__TVAL ? sizeof(void *) : 0));
}
DS__INLINE unsigned char *ds__tfirsts(const ds__tnode *n) { return (unsigned char *)(ds__tkids(n) + ds__tkcap(n)); }
DS__INLINE unsigned char *ds__tlabel(const ds__tnode *n) { return ds__tfirsts(n) + ds__tkcap(n); }
static unsigned char *ds__tkb(const ds__tnode *n) { /* kbest's bytes */
    return ds__tlabel(n) + n->len + (ds__town(n) ? sizeof(double) : 0);
}
static double ds__tscore(const ds__tnode *n) {
    double d;
    memcpy(&d, ds__tlabel(n) + n->len, sizeof d);
    return d;
}
static void ds__tset_own(ds__tnode *n, double d) { memcpy(ds__tlabel(n) + n->len, &d, sizeof d); }
static double ds__tkbest(const ds__tnode *n, size_t i) {
    double d;
    memcpy(&d, ds__tkb(n) + i * sizeof d, sizeof d);
    return d;
}
static void ds__tset_kbest(ds__tnode *n, size_t i, double d) { memcpy(ds__tkb(n) + i * sizeof d, &d, sizeof d); }
/* Key node n's score, n being child pos of p (p NULL: n is the root). */
static double ds__tkey_score(const ds__tnode *n, const ds__tnode *p, size_t pos) {
    return ds__town(n) || !p ? ds__tscore(n) : ds__tkbest(p, pos);
}
static void ds__tset_key_score(ds__tnode *n, ds__tnode *p, size_t pos, double s) {
    if (ds__town(n) || !p) ds__tset_own(n, s);
    else ds__tset_kbest(p, pos, s);
}

/* A node of the given shape, label = pre[0..plen) + src[0..slen), no
 * children, no key (score 0, val NULL when it has the slots). */
static ds__tnode *ds__tmake(ds_trie *t, const unsigned char *pre, size_t plen, const unsigned char *src,
                            size_t slen, unsigned kcap, int v) {
    size_t sz = ds__tsize(plen + slen, kcap, v);
    ds__tnode *n = (ds__tnode *)DS_MALLOC(t->alloc, sz);
    if (!n) return NULL;
    n->len = (uint32_t)(plen + slen);
    n->nkids = 0;
    n->bits = (uint16_t)(kcap | (v ? DS__TVAL : 0));
    if (v) *ds__tval(n) = NULL;
    if (ds__town(n)) ds__tset_own(n, 0);
    if (plen) memcpy(ds__tlabel(n), pre, plen);
    if (slen) memcpy(ds__tlabel(n) + plen, src, slen);
    t->bytes += sz;
    return n;
}
static void ds__tdelete_node(ds_trie *t, ds__tnode *n) { /* one node, not its subtree */
    size_t sz = ds__tnode_size(n);
    t->bytes -= sz;
    DS_FREE(t->alloc, n, sz);
}
/* A copy of n in another shape (kcap >= n->nkids; the key is kept only if
 * v, with score sc, n's), its label with pre in front and the first cut
 * bytes dropped. n stays. */
static ds__tnode *ds__tcopy(ds_trie *t, const ds__tnode *n, unsigned kcap, int v, double sc,
                            const unsigned char *pre, size_t plen, size_t cut) {
    ds__tnode *c = ds__tmake(t, pre, plen, ds__tlabel(n) + cut, n->len - cut, kcap, v);
    if (!c) return NULL;
    c->nkids = n->nkids;
    memcpy(ds__tkb(c), ds__tkb(n), n->nkids * sizeof(double));
    memcpy(ds__tkids(c), ds__tkids(n), n->nkids * sizeof(ds__tnode *));
    memcpy(ds__tfirsts(c), ds__tfirsts(n), n->nkids);
    if (v && (n->bits & DS__THAS)) {
        c->bits |= DS__THAS;
        if (ds__town(c)) ds__tset_own(c, sc);
        *ds__tval(c) = *ds__tval(n);
    }
    return c;
}
/* Every node under n and n itself, in constant space (no recursion: a
 * chain of nested keys can be deeper than the call stack). Going down
 * into a node's last child, its slot keeps the way back (the pointer to
 * the node's parent); coming back, that child is gone. */
static void ds__tfree_tree(ds_trie *t, ds__tnode *n) {
    ds__tnode *up = NULL;
    for (;;) {
        if (n->nkids) {
            ds__tnode *c = ds__tkids(n)[n->nkids - 1];
            ds__tkids(n)[n->nkids - 1] = up;
            up = n;
            n = c;
            continue;
        }
        ds__tdelete_node(t, n); /* its size comes from its slots, not nkids */
        if (!up) return;
        n = up;
        up = ds__tkids(n)[n->nkids - 1];
        n->nkids--;
    }
}
DSDEF ds_status ds_trie_init(ds_trie *t, const ds_alloc *a) {
    if (!t) return DS_EINVAL;
    memset(t, 0, sizeof *t);
    t->alloc = a;
    return DS_OK;
}
static void ds__tcx_drop(ds_trie *t);
DSDEF void ds_trie_free(ds_trie *t) {
    if (!t) return;
    ds__tcx_drop(t);
    if (t->root) ds__tfree_tree(t, t->root);
    ds_trie_init(t, t->alloc);
}
/* Child of n whose label starts with b (NULL if none); *pos = its slot or
 * where it would go. Most nodes have a few children: a linear scan of
 * their first bytes costs fewer instructions than a binary search. */
DS__INLINE ds__tnode *ds__tchild(const ds__tnode *n, unsigned char b, size_t *pos) {
    const unsigned char *f = ds__tfirsts(n);
    size_t lo = 0, hi = n->nkids;
    if (hi <= 8) {
        while (lo < hi && f[lo] < b) lo++;
    } else {
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (f[mid] < b) lo = mid + 1; else hi = mid;
        }
    }
    *pos = lo;
    return lo < n->nkids && f[lo] == b ? ds__tkids(n)[lo] : NULL;
}
/* c's label is k[0..len)'s next bytes (its first byte already matched). */
DS__INLINE int ds__tlabel_in(const ds__tnode *c, const unsigned char *k, size_t len) {
    const unsigned char *l = ds__tlabel(c);
    size_t j;
    if (c->len > len) return 0;
    for (j = 1; j < c->len; j++)
        if (l[j] != k[j]) return 0;
    return 1;
}
/* n's subtree maximum: its own score against its children's (n has a
 * score slot if it holds a key: not a leaf). */
static double ds__tbest(const ds__tnode *n) {
    double b = n->bits & DS__THAS ? ds__tscore(n) : -HUGE_VAL;
    uint16_t i;
    for (i = 0; i < n->nkids; i++)
        if (ds__tkbest(n, i) > b) b = ds__tkbest(n, i);
    return b;
}
/* Subtree maxima along key's path after a score v arrived there (a new
 * key, or a score raised): every maximum below v becomes v. */
static void ds__traise(ds_trie *t, const unsigned char *k, size_t len, double v) {
    ds__tnode *n = t->root, *c;
    size_t i = 0, pos;
    while (i < len && (c = ds__tchild(n, k[i], &pos)) != NULL && ds__tlabel_in(c, k + i, len - i)) {
        if (ds__tkbest(n, pos) < v) ds__tset_kbest(n, pos, v);
        i += c->len;
        n = c;
    }
}
/* Subtree maxima along key's path after the score old left it (lowered,
 * or its key deleted). Only maxima equal to old can change, and those are
 * a tail of the path (maxima never grow downwards): that tail is
 * recomputed bottom-up. There are no parent pointers and no stack: on the
 * way down each kid pointer on the path is turned to point to the node
 * above, and restored on the way up (pointer reversal, Schorr and Waite,
 * CACM 1967). Readers must not run meanwhile; no writer allows that. */
static void ds__tlower(ds_trie *t, const unsigned char *k, size_t len, double old) {
    ds__tnode *n = t->root, *c, *up = NULL, *top;
    size_t i = 0, pos;
    if (!n) return;
    for (;;) { /* the first maximum on the path equal to old */
        if (i == len || !(c = ds__tchild(n, k[i], &pos)) || !ds__tlabel_in(c, k + i, len - i)) return;
        if (ds__tkbest(n, pos) == old) break;
        i += c->len;
        n = c;
    }
    top = n;
    for (;;) { /* down, reversing */
        ds__tkids(n)[pos] = up;
        up = n;
        n = c;
        i += c->len;
        if (i == len || !(c = ds__tchild(n, k[i], &pos)) || !ds__tlabel_in(c, k + i, len - i)) break;
    }
    for (;;) { /* up, restoring; n's children are all right, so is its maximum */
        ds__tnode *prev;
        (void)ds__tchild(up, ds__tlabel(n)[0], &pos);
        prev = ds__tkids(up)[pos];
        ds__tkids(up)[pos] = n;
        if (ds__tkcap(n)) ds__tset_kbest(up, pos, ds__tbest(n)); /* a leaf's is its score, set */
        if (up == top) break;
        n = up;
        up = prev;
    }
}
/* Put child c (subtree maximum b) at slot pos of n (room is there). */
static void ds__tkid_insert(ds__tnode *n, size_t pos, ds__tnode *c, double b) {
    size_t m = n->nkids - pos;
    memmove(ds__tkb(n) + (pos + 1) * sizeof(double), ds__tkb(n) + pos * sizeof(double), m * sizeof(double));
    memmove(&ds__tkids(n)[pos + 1], &ds__tkids(n)[pos], m * sizeof(ds__tnode *));
    memmove(&ds__tfirsts(n)[pos + 1], &ds__tfirsts(n)[pos], m);
    ds__tset_kbest(n, pos, b);
    ds__tkids(n)[pos] = c;
    ds__tfirsts(n)[pos] = ds__tlabel(c)[0];
    n->nkids++;
}
static void ds__tkid_remove(ds__tnode *n, size_t pos) {
    size_t m = n->nkids - pos - 1u;
    memmove(ds__tkb(n) + pos * sizeof(double), ds__tkb(n) + (pos + 1) * sizeof(double), m * sizeof(double));
    memmove(&ds__tkids(n)[pos], &ds__tkids(n)[pos + 1], m * sizeof(ds__tnode *));
    memmove(&ds__tfirsts(n)[pos], &ds__tfirsts(n)[pos + 1], m);
    n->nkids--;
}
/* Swap n for its copy c at *slot. */
static ds__tnode *ds__treplace(ds_trie *t, ds__tnode **slot, ds__tnode *n, ds__tnode *c) {
    *slot = c;
    ds__tdelete_node(t, n);
    return c;
}
/* The path a writer walked: (node, slot toward the key) from the root
 * down, for up to DS__TPATH levels. The nodes on it are not the ones a put
 * copies (only the last node and the edge it splits are), so after a put
 * or a raised score their maxima are raised bottom-up, stopping at the
 * first that is already >= v: each maximum above covers the one below. A
 * deeper path takes ds__traise's walk from the root instead. */
#define DS__TPATH 48
typedef struct ds__tpath {
    ds__tnode *n[DS__TPATH];
    size_t pos[DS__TPATH];
    size_t depth; /* > DS__TPATH: the path was longer than the record */
} ds__tpath;
static void ds__tpath_raise(ds_trie *t, const ds__tpath *pa, const unsigned char *k, size_t len, double v) {
    size_t d = pa->depth;
    if (d > DS__TPATH) {
        ds__traise(t, k, len, v);
        return;
    }
    while (d-- > 0 && ds__tkbest(pa->n[d], pa->pos[d]) < v) ds__tset_kbest(pa->n[d], pa->pos[d], v);
}
#define DS__TPATH_PUSH(pa, node, p_)                                                               \
    do {                                                                                          \
        if ((pa).depth < DS__TPATH) {                                                             \
            (pa).n[(pa).depth] = (node);                                                          \
            (pa).pos[(pa).depth] = (p_);                                                          \
        }                                                                                         \
        (pa).depth++;                                                                             \
    } while (0)
/* The node whose path is exactly key, or NULL; *p = its parent (NULL for
 * the root), *pos = its slot there; the path into pa unless it is NULL. */
DS__INLINE ds__tnode *ds__tfind_at(const ds_trie *t, const unsigned char *k, size_t len, ds__tnode **p, size_t *pos,
                                   ds__tpath *pa) {
    const ds__tnode *n = t->root;
    size_t i = 0;
    *p = NULL;
    *pos = 0;
    if (pa) pa->depth = 0;
    if (!n) return NULL;
    while (i < len) {
        const ds__tnode *c = ds__tchild(n, k[i], pos);
        if (!c || !ds__tlabel_in(c, k + i, len - i)) return NULL;
        *p = (ds__tnode *)(uintptr_t)n;
        if (pa) DS__TPATH_PUSH(*pa, *p, *pos);
        i += c->len;
        n = c;
    }
    return (ds__tnode *)(uintptr_t)n;
}
static ds__tnode *ds__tfind(const ds_trie *t, const unsigned char *k, size_t len) {
    ds__tnode *p;
    size_t pos;
    return ds__tfind_at(t, k, len, &p, &pos, NULL);
}
static ds_status ds__tput(ds_trie *t, const void *key, size_t len, void *val, int *is_new) {
    const unsigned char *k = (const unsigned char *)key;
    ds__tnode **slot, *n, *p = NULL, *c, *s, *leaf, *g;
    size_t i = 0, pos, ppos = 0, m;
    ds__tpath pa;
    int fresh = 0; /* the root was made for this put */
    if (is_new) *is_new = 0;
    if (!t || (!key && len) || len > UINT32_MAX) return DS_EINVAL;
    if (!t->root) { /* one child slot, so it has a score slot if it holds a key */
        if (!(t->root = ds__tmake(t, NULL, 0, NULL, 0, 1, len == 0))) return DS_ENOMEM;
        fresh = 1;
    }
    slot = &t->root;
    n = *slot;
    pa.depth = 0;
    for (;;) {
        if (i == len) { /* the key ends at n */
            if (!(n->bits & DS__THAS)) {
                if (!(n->bits & DS__TVAL)) { /* room for val (and score) */
                    if (!(c = ds__tcopy(t, n, ds__tkcap(n), 1, 0, NULL, 0, 0))) return DS_ENOMEM;
                    n = ds__treplace(t, slot, n, c);
                }
                n->bits |= DS__THAS;
                ds__tset_key_score(n, p, ppos, 0);
                t->count++;
                if (is_new) *is_new = 1;
                ds__tpath_raise(t, &pa, k, len, 0);
            }
            *ds__tval(n) = val;
            return DS_OK;
        }
        c = ds__tchild(n, k[i], &pos);
        if (!c) { /* a new leaf under n, which grows a slot if it has none spare */
            leaf = ds__tmake(t, NULL, 0, k + i, len - i, 0, 1);
            g = leaf && n->nkids == ds__tkcap(n)
                    ? ds__tcopy(t, n, n->nkids + 1u, (n->bits & DS__TVAL) != 0,
                                n->bits & DS__THAS ? ds__tkey_score(n, p, ppos) : 0, NULL, 0, 0)
                    : n;
            if (!leaf || !g) {
                if (leaf) ds__tdelete_node(t, leaf);
                if (fresh) ds_trie_free(t);
                return DS_ENOMEM;
            }
            if (g != n) n = ds__treplace(t, slot, n, g);
            leaf->bits |= DS__THAS;
            *ds__tval(leaf) = val;
            ds__tkid_insert(n, pos, leaf, 0); /* its score 0 lives there */
            break;
        }
        {
            const unsigned char *l = ds__tlabel(c);
            for (m = 1; m < c->len && i + m < len && l[m] == k[i + m]; m++) {
            }
        }
        if (m == c->len) {
            DS__TPATH_PUSH(pa, n, pos);
            slot = &ds__tkids(n)[pos];
            p = n;
            ppos = pos;
            n = c;
            i += m;
            continue;
        }
        /* Split c's edge after m bytes into s (the first m bytes) and the
         * rest (a copy of c): everything is allocated first. A leaf c's
         * score moves with its maximum, into s's kbest. */
        leaf = i + m < len ? ds__tmake(t, NULL, 0, k + i + m, len - i - m, 0, 1) : NULL;
        s = ds__tmake(t, NULL, 0, ds__tlabel(c), m, leaf ? 2u : 1u, !leaf);
        g = ds__tcopy(t, c, ds__tkcap(c), (c->bits & DS__TVAL) != 0, c->bits & DS__THAS ? ds__tkey_score(c, n, pos) : 0,
                      NULL, 0, m);
        if (!s || !g || (i + m < len && !leaf)) {
            if (s) ds__tdelete_node(t, s);
            if (g) ds__tdelete_node(t, g);
            if (leaf) ds__tdelete_node(t, leaf);
            return DS_ENOMEM;
        }
        ds__tkid_insert(s, 0, g, ds__tkbest(n, pos));
        ds__tdelete_node(t, c);
        ds__tkids(n)[pos] = s;
        DS__TPATH_PUSH(pa, n, pos); /* s's maximum now covers the new key too */
        if (leaf) {
            leaf->bits |= DS__THAS;
            *ds__tval(leaf) = val;
            ds__tkid_insert(s, ds__tlabel(leaf)[0] < ds__tlabel(g)[0] ? 0 : 1, leaf, 0);
        } else {
            s->bits |= DS__THAS; /* score 0 in its own slot (kcap 1) */
            *ds__tval(s) = val;
        }
        break;
    }
    t->count++;
    if (is_new) *is_new = 1;
    ds__tpath_raise(t, &pa, k, len, 0); /* the new key's score 0 */
    return DS_OK;
}
/* A write drops the complete index once it has happened: a failed one
 * leaves the trie, and so the index, as they were. */
DSDEF ds_status ds_trie_put(ds_trie *t, const void *key, size_t len, void *val, int *is_new) {
    ds_status st = ds__tput(t, key, len, val, is_new);
    if (st == DS_OK) ds__tcx_drop(t);
    return st;
}
DSDEF void **ds_trie_get(const ds_trie *t, const void *key, size_t len) {
    ds__tnode *n;
    if (!t || (!key && len)) return NULL;
    n = ds__tfind(t, (const unsigned char *)key, len);
    return n && (n->bits & DS__THAS) ? ds__tval(n) : NULL;
}
/* n (at *slot, child pos of p) has no key and one child: fold it into the
 * child (one longer edge). Best effort: if the merged node cannot be
 * allocated, n stays. */
static void ds__tmerge_down(ds_trie *t, ds__tnode **slot, ds__tnode *p, size_t pos) {
    ds__tnode *n = *slot, *c = ds__tkids(n)[0];
    ds__tnode *mc = ds__tcopy(t, c, ds__tkcap(c), (c->bits & DS__TVAL) != 0,
                              c->bits & DS__THAS ? ds__tkey_score(c, n, 0) : 0, ds__tlabel(n), n->len, 0);
    if (!mc) return;
    ds__tset_kbest(p, pos, ds__tkbest(n, 0));
    ds__tdelete_node(t, c);
    (void)ds__treplace(t, slot, n, mc);
}
/* n (at *slot, child pos of p; p NULL for the root) lost a key or a
 * child: drop the slots it no longer needs. Best effort: on allocation
 * failure n keeps them. */
static void ds__tshrink(ds_trie *t, ds__tnode **slot, ds__tnode *p, size_t pos) {
    ds__tnode *n = *slot, *c;
    int v = (n->bits & DS__THAS) != 0;
    unsigned cap = !p && v && n->nkids == 0 ? 1u : n->nkids; /* the root keeps a score slot */
    double sc = v ? ds__tkey_score(n, p, pos) : -HUGE_VAL;
    if (ds__tkcap(n) == cap && v == ((n->bits & DS__TVAL) != 0)) return;
    if (!(c = ds__tcopy(t, n, cap, v, sc, NULL, 0, 0))) return;
    (void)ds__treplace(t, slot, n, c);
    if (p && cap == 0) ds__tset_kbest(p, pos, sc); /* a leaf's maximum is its score */
}
DSDEF ds_status ds_trie_del(ds_trie *t, const void *key, size_t len, void **out) {
    const unsigned char *k = (const unsigned char *)key;
    ds__tnode **slot, **pslot = NULL, *n, *p = NULL, *gp = NULL;
    size_t i = 0, pos = 0, ppos = 0;
    double old;
    if (!t || (!key && len)) return DS_EINVAL;
    if (!t->root) return DS_ENOTFOUND;
    slot = &t->root;
    n = t->root;
    while (i < len) { /* remember n's parent p and p's parent gp, and their slots */
        size_t cpos;
        ds__tnode *c = ds__tchild(n, k[i], &cpos);
        if (!c || !ds__tlabel_in(c, k + i, len - i)) return DS_ENOTFOUND;
        gp = p;
        ppos = pos;
        p = n;
        pos = cpos;
        pslot = slot;
        slot = &ds__tkids(n)[cpos];
        i += c->len;
        n = c;
    }
    if (!(n->bits & DS__THAS)) return DS_ENOTFOUND;
    ds__tcx_drop(t);
    if (out) *out = *ds__tval(n);
    old = ds__tkey_score(n, p, pos);
    n->bits &= (uint16_t)~DS__THAS;
    *ds__tval(n) = NULL;
    t->count--;
    if (p && n->nkids == 0) { /* drop the leaf; p may merge into its other child */
        ds__tkid_remove(p, pos);
        ds__tdelete_node(t, n);
        if (gp && !(p->bits & DS__THAS) && p->nkids == 1) ds__tmerge_down(t, pslot, gp, ppos);
        if (*pslot == p) ds__tshrink(t, pslot, gp, ppos);
    } else if (p && n->nkids == 1) {
        ds__tmerge_down(t, slot, p, pos);
        if (*slot == n) ds__tshrink(t, slot, p, pos);
    } else {
        ds__tshrink(t, slot, p, pos);
    }
    if (t->root->nkids == 0 && !(t->root->bits & DS__THAS)) { /* empty again */
        ds__tdelete_node(t, t->root);
        t->root = NULL;
    }
    ds__tlower(t, k, len, old);
    return DS_OK;
}
/* Key node n's (child pos of p, reached by path pa) score becomes score;
 * the maxima on its path follow. A raise runs before the score is stored:
 * a leaf's score is its parent's maximum for it, the path's last entry,
 * and the raise stops at the first entry already >= score. */
static void ds__tset_score(ds_trie *t, ds__tnode *n, ds__tnode *p, size_t pos, const ds__tpath *pa,
                           const unsigned char *k, size_t len, double score) {
    double old = ds__tkey_score(n, p, pos);
    if (score > old) ds__tpath_raise(t, pa, k, len, score);
    ds__tset_key_score(n, p, pos, score);
    if (score < old) ds__tlower(t, k, len, old);
}
DSDEF ds_status ds_trie_set_score(ds_trie *t, const void *key, size_t len, double score) {
    ds__tnode *n, *p;
    size_t pos;
    ds__tpath pa;
    if (!t || (!key && len) || !(score > -HUGE_VAL && score < HUGE_VAL)) return DS_EINVAL;
    n = ds__tfind_at(t, (const unsigned char *)key, len, &p, &pos, &pa);
    if (!n || !(n->bits & DS__THAS)) return DS_ENOTFOUND;
    ds__tcx_drop(t);
    ds__tset_score(t, n, p, pos, &pa, (const unsigned char *)key, len, score);
    return DS_OK;
}
DSDEF ds_status ds_trie_put_score(ds_trie *t, const void *key, size_t len, void *val, double score,
                                  int *is_new) {
    ds_status st;
    if (!(score > -HUGE_VAL && score < HUGE_VAL)) return DS_EINVAL;
    if ((st = ds_trie_put(t, key, len, val, is_new)) != DS_OK) return st;
    return ds_trie_set_score(t, key, len, score); /* found: put just stored it */
}
DSDEF ds_status ds_trie_incr(ds_trie *t, const void *key, size_t len, double delta, double *score) {
    const unsigned char *k = (const unsigned char *)key;
    ds__tnode *n, *p;
    size_t pos;
    ds__tpath pa;
    ds_status st;
    double sc;
    if (!t || (!key && len) || !(delta > -HUGE_VAL && delta < HUGE_VAL)) return DS_EINVAL;
    n = ds__tfind_at(t, k, len, &p, &pos, &pa);
    if (n && !(n->bits & DS__THAS)) n = NULL;
    if (n && !(ds__tkey_score(n, p, pos) + delta > -HUGE_VAL && ds__tkey_score(n, p, pos) + delta < HUGE_VAL))
        return DS_EINVAL;
    if (!n) {
        if ((st = ds_trie_put(t, key, len, NULL, NULL)) != DS_OK) return st;
        n = ds__tfind_at(t, k, len, &p, &pos, &pa);
    }
    ds__tcx_drop(t);
    sc = ds__tkey_score(n, p, pos) + delta;
    ds__tset_score(t, n, p, pos, &pa, k, len, sc);
    if (score) *score = sc;
    return DS_OK;
}
DSDEF double ds_trie_score(const ds_trie *t, const void *key, size_t len) {
    ds__tnode *n, *p;
    size_t pos;
    if (!t || (!key && len)) return NAN;
    n = ds__tfind_at(t, (const unsigned char *)key, len, &p, &pos, NULL);
    return n && (n->bits & DS__THAS) ? ds__tkey_score(n, p, pos) : NAN;
}
DSDEF size_t ds_trie_len(const ds_trie *t) { return t ? t->count : 0; }
DSDEF size_t ds_trie_memory(const ds_trie *t) { return t ? t->bytes : 0; }

/* -- walks: a key buffer that starts on the stack -- */
typedef struct ds__tbuf {
    unsigned char *p, *stack; /* the bytes; the caller's stack buffer it starts in */
    size_t len, cap;
    const ds_alloc *a;
    int fail, stop;
    size_t reported;
    ds_trie_fn fn;
    void *ctx;
    const ds__tnode *node; /* the key node being reported (for the index) */
} ds__tbuf;
static void ds__tbuf_init(ds__tbuf *b, unsigned char *stack, size_t cap, const ds_alloc *a, ds_trie_fn fn,
                          void *ctx) {
    b->p = b->stack = stack;
    b->len = 0;
    b->cap = cap;
    b->a = a;
    b->fail = b->stop = 0;
    b->reported = 0;
    b->fn = fn;
    b->ctx = ctx;
}
static void ds__tbuf_done(ds__tbuf *b) {
    if (b->p != b->stack) DS_FREE(b->a, b->p, b->cap);
}
/* Room for `need` bytes, keeping the first b->len. */
static int ds__tbuf_reserve(ds__tbuf *b, size_t need) {
    size_t nc = b->cap;
    unsigned char *np;
    if (need <= b->cap) return 1;
    while (nc < need) nc *= 2;
    if (!(np = (unsigned char *)DS_MALLOC(b->a, nc))) {
        b->fail = 1;
        return 0;
    }
    memcpy(np, b->p, b->len);
    ds__tbuf_done(b);
    b->p = np;
    b->cap = nc;
    return 1;
}
static int ds__tbuf_push(ds__tbuf *b, const unsigned char *s, size_t n) {
    if (!ds__tbuf_reserve(b, b->len + n)) return 0;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    return 1;
}
/* Report key p[0..len) of key node n, whose maximum is s (its score if
 * it has no slot for one: a leaf). */
static void ds__temit_key(ds__tbuf *b, const unsigned char *p, size_t len, const ds__tnode *n, double s) {
    if (b->stop) return;
    b->reported++;
    b->node = n;
    if (b->fn && b->fn(b->ctx, p, len, ds__town(n) ? ds__tscore(n) : s, *ds__tval(n))) b->stop = 1;
}
static void ds__temit(ds__tbuf *b, const ds__tnode *n, double s) { ds__temit_key(b, b->p, b->len, n, s); }
/* Every key in n's subtree (b holds n's path; s its maximum), in
 * (reverse) order. */
static void ds__twalk(ds__tbuf *b, const ds__tnode *n, double s, int reverse) {
    uint16_t i;
    if (b->stop || b->fail) return;
    if (!reverse && (n->bits & DS__THAS)) ds__temit(b, n, s);
    for (i = 0; i < n->nkids && !b->stop && !b->fail; i++) {
        size_t at = reverse ? n->nkids - 1u - i : i, keep = b->len;
        const ds__tnode *c = ds__tkids(n)[at];
        if (!ds__tbuf_push(b, ds__tlabel(c), c->len)) return;
        ds__twalk(b, c, ds__tkbest(n, at), reverse);
        b->len = keep;
    }
    if (reverse && (n->bits & DS__THAS)) ds__temit(b, n, s);
}
/* The node at the end of the prefix (its path extends the prefix), or
 * NULL; *at = where its label starts in its path, *best = its maximum. */
static const ds__tnode *ds__tprefix(const ds_trie *t, const unsigned char *p, size_t plen, size_t *at,
                                    double *best) {
    const ds__tnode *n = t->root;
    size_t i = 0, pos;
    *at = 0;
    if (!n) return NULL;
    if (!plen) *best = ds__tbest(n); /* else the child's, below: no scan of the root */
    while (i < plen) {
        const ds__tnode *c = ds__tchild(n, p[i], &pos);
        size_t m = c ? (c->len < plen - i ? c->len : plen - i) : 0;
        if (!c || memcmp(ds__tlabel(c), p + i, m) != 0) return NULL;
        *best = ds__tkbest(n, pos);
        *at = i;
        i += c->len;
        n = c;
    }
    return n;
}
DSDEF size_t ds_trie_walk(const ds_trie *t, const void *prefix, size_t plen, int reverse,
                          ds_trie_fn fn, void *ctx) {
    const ds__tnode *n;
    ds__tbuf b;
    unsigned char local[256];
    size_t r, at;
    double best;
    if (!t || (!prefix && plen)) return 0;
    if (!(n = ds__tprefix(t, (const unsigned char *)prefix, plen, &at, &best))) return 0;
    ds__tbuf_init(&b, local, sizeof local, t->alloc, fn, ctx);
    if (ds__tbuf_push(&b, (const unsigned char *)prefix, at) && ds__tbuf_push(&b, ds__tlabel(n), n->len))
        ds__twalk(&b, n, best, reverse);
    r = b.reported;
    ds__tbuf_done(&b);
    return r;
}
/* seek: prune by comparing each node's path P with the key K. */
static void ds__tseek(ds__tbuf *b, const ds__tnode *n, double s, const unsigned char *k, size_t klen, int dir) {
    size_t m = b->len < klen ? b->len : klen;
    int c = m ? memcmp(b->p, k, m) : 0;
    uint16_t i;
    if (b->stop || b->fail) return;
    if (dir > 0) { /* keys >= K ascending */
        if (c < 0) return;
        if (c > 0 || b->len >= klen) {
            ds__twalk(b, n, s, 0);
            return;
        }
        for (i = 0; i < n->nkids && !b->stop && !b->fail; i++) { /* P is a proper prefix of K */
            const ds__tnode *ch = ds__tkids(n)[i];
            size_t keep = b->len;
            if (!ds__tbuf_push(b, ds__tlabel(ch), ch->len)) return;
            ds__tseek(b, ch, ds__tkbest(n, i), k, klen, dir);
            b->len = keep;
        }
    } else { /* keys <= K descending */
        if (c > 0 || (c == 0 && b->len > klen)) return;
        if (c < 0) {
            ds__twalk(b, n, s, 1);
            return;
        }
        if (b->len < klen)
            for (i = n->nkids; i-- > 0 && !b->stop && !b->fail;) {
                const ds__tnode *ch = ds__tkids(n)[i];
                size_t keep = b->len;
                if (!ds__tbuf_push(b, ds__tlabel(ch), ch->len)) return;
                ds__tseek(b, ch, ds__tkbest(n, i), k, klen, dir);
                b->len = keep;
            }
        if (n->bits & DS__THAS) ds__temit(b, n, s);
    }
}
DSDEF size_t ds_trie_seek(const ds_trie *t, const void *key, size_t len, int dir, ds_trie_fn fn,
                          void *ctx) {
    ds__tbuf b;
    unsigned char local[256];
    size_t r;
    if (!t || (!key && len) || dir == 0 || !t->root) return 0;
    ds__tbuf_init(&b, local, sizeof local, t->alloc, fn, ctx);
    ds__tseek(&b, t->root, 0, (const unsigned char *)key, len, dir); /* the root has a score slot */
    r = b.reported;
    ds__tbuf_done(&b);
    return r;
}
DSDEF void **ds_trie_longest_prefix(const ds_trie *t, const void *key, size_t len, size_t *mlen) {
    const unsigned char *k = (const unsigned char *)key;
    const ds__tnode *n, *best = NULL;
    size_t i = 0, at = 0, pos;
    if (mlen) *mlen = 0;
    if (!t || (!key && len) || !(n = t->root)) return NULL;
    if (n->bits & DS__THAS) best = n;
    while (i < len) {
        const ds__tnode *c = ds__tchild(n, k[i], &pos);
        if (!c || !ds__tlabel_in(c, k + i, len - i)) break;
        i += c->len;
        n = c;
        if (n->bits & DS__THAS) {
            best = n;
            at = i;
        }
    }
    if (!best) return NULL;
    if (mlen) *mlen = at;
    return ds__tval(best);
}

/* -- complete: best-first over subtree maxima -- */
/* A frontier item: the children of n from slot i on, in the order
 * (maximum descending, slot ascending), s the first one's maximum; or
 * (i == DS__TEMIT) n's own key, score s. Paths live in an arena that
 * only grows during the search: n's is bytes [at, at + len), so ties
 * compare keys without parent pointers.
 * Taking children (n, i) from the frontier puts back (n, the child after
 * i) and descends from child i along best children: a subtree's maximum
 * is some key's score, so the way to that key needs no frontier. On the
 * way each node puts its own key (when it is not the one sought) and its
 * runner-up child on the frontier, and the key at the end is reported at
 * once when nothing on the frontier ties with it. A reported key then
 * costs the nodes of its path and a push or two each, where a search
 * that pushes every opened child pops each again (twice the heap work);
 * children that cannot make the top k are never pushed. */
#define DS__TEMIT 0xffffu
typedef struct ds__titem {
    const ds__tnode *n;
    double s;
    size_t at, len;
    unsigned i;
} ds__titem;
/* The frontier: a binary heap, on the stack until it outgrows it. */
typedef struct ds__tfront {
    ds__titem *h, *local;
    size_t n, cap;
    const ds_alloc *a;
} ds__tfront;
/* Reports at equal score: key order (distinct keys). */
static int ds__titem_tie(const ds__titem *x, const ds__titem *y, const unsigned char *arena) {
    size_t m = x->len < y->len ? x->len : y->len;
    int c = m ? memcmp(arena + x->at, arena + y->at, m) : 0;
    return c ? c < 0 : x->len < y->len;
}
/* x before y: higher score; at equal score open before report. */
DS__INLINE int ds__titem_before(const ds__titem *x, const ds__titem *y, const unsigned char *arena) {
    if (x->s != y->s) return x->s > y->s;
    if ((x->i == DS__TEMIT) != (y->i == DS__TEMIT)) return y->i == DS__TEMIT;
    return x->i == DS__TEMIT && ds__titem_tie(x, y, arena);
}
/* 0 on allocation failure (the frontier is kept). */
static int ds__tfront_push(ds__tfront *f, const ds__tnode *n, unsigned i, double s, size_t at, size_t len,
                           const unsigned char *arena) {
    ds__titem it, *h;
    size_t j;
    if (f->n == f->cap) { /* grow (off the stack) */
        ds__titem *nh = (ds__titem *)DS_MALLOC(f->a, 2 * f->cap * sizeof *nh);
        if (!nh) return 0;
        memcpy(nh, f->h, f->n * sizeof *nh);
        if (f->h != f->local) DS_FREE(f->a, f->h, f->cap * sizeof *f->h);
        f->h = nh;
        f->cap *= 2;
    }
    if (i != DS__TEMIT) DS__PREFETCH(ds__tkids(n)[i]); /* opened if it makes the top k: overlap the miss */
    it.n = n;
    it.s = s;
    it.at = at;
    it.len = len;
    it.i = i;
    h = f->h;
    for (j = f->n++; j > 0 && ds__titem_before(&it, &h[(j - 1) / 2], arena); j = (j - 1) / 2) h[j] = h[(j - 1) / 2];
    h[j] = it;
    return 1;
}
static ds__titem ds__tfront_pop(ds__tfront *f, const unsigned char *arena) {
    ds__titem *h = f->h, top = h[0], last = h[--f->n];
    size_t i, j, n = f->n;
    for (i = 0; (j = 2 * i + 1) < n; i = j) { /* sift the last item down from the root */
        if (j + 1 < n && ds__titem_before(&h[j + 1], &h[j], arena)) j++;
        if (!ds__titem_before(&h[j], &last, arena)) break;
        h[i] = h[j];
    }
    h[i] = last;
    return top;
}
/* n's child after child i in the order (maximum descending, slot
 * ascending), skipping subtrees without keys. nkids if none. */
static unsigned ds__tnext_kid(const ds__tnode *n, unsigned i) {
    const unsigned char *kb = ds__tkb(n);
    double s = ds__tkbest(n, i), bs = -HUGE_VAL;
    unsigned j, best = n->nkids;
    for (j = 0; j < n->nkids; j++) {
        double v;
        memcpy(&v, kb + j * sizeof v, sizeof v);
        if (v > s || (v == s && j <= i)) continue; /* at or before i */
        if (v > bs) {
            bs = v;
            best = j;
        }
    }
    return best;
}
/* n's first child in that order, and (*second) the next: one scan. */
static unsigned ds__tbest_kids(const ds__tnode *n, unsigned *second) {
    const unsigned char *kb = ds__tkb(n);
    double b1 = -HUGE_VAL, b2 = -HUGE_VAL;
    unsigned j, j1 = n->nkids, j2 = n->nkids;
    for (j = 0; j < n->nkids; j++) {
        double v;
        memcpy(&v, kb + j * sizeof v, sizeof v);
        if (v > b1) { /* ties keep the lower slot */
            b2 = b1;
            j2 = j1;
            b1 = v;
            j1 = j;
        } else if (v > b2) {
            b2 = v;
            j2 = j;
        }
    }
    *second = j2;
    return j1;
}
/* The k best keys under c (maximum s), best first, into b's callback:
 * b holds c's path. Returns how many; b->fail when the frontier or the
 * path arena could not grow (what was reported stands). */
static size_t ds__tcomplete(const ds__tnode *c, double s, ds__tbuf *b, size_t k) {
    ds__titem local[64]; /* with the caller's 1 KiB arena: 3.5 KiB of stack */
    size_t got = 0, start = 0, len = b->len; /* the descent's path: [start, start + len), ending at b->len */
    ds__tfront f;
    f.h = f.local = local;
    f.n = 0;
    f.cap = sizeof local / sizeof local[0];
    f.a = b->a;
    for (;;) {
        /* descend from c (maximum s) to the key that holds s */
        for (;;) {
            unsigned j, j2;
            if (c->bits & DS__THAS) {
                double own = ds__town(c) ? ds__tscore(c) : s;
                if (own == s) { /* c's key: it sorts before the rest of its subtree */
                    if (c->nkids && (j = ds__tbest_kids(c, &j2)) < c->nkids &&
                        !ds__tfront_push(&f, c, j, ds__tkbest(c, j), start, len, b->p))
                        goto nomem;
                    if (f.n == 0 || f.h[0].s < s) {
                        ds__temit_key(b, b->p + start, len, c, s);
                        got++;
                    } else if (!ds__tfront_push(&f, c, DS__TEMIT, s, start, len, b->p)) {
                        goto nomem;
                    }
                    break;
                }
                if (!ds__tfront_push(&f, c, DS__TEMIT, own, start, len, b->p)) goto nomem;
            }
            if ((j = ds__tbest_kids(c, &j2)) >= c->nkids) break; /* not reached: s is some key's */
            if (j2 < c->nkids && !ds__tfront_push(&f, c, j2, ds__tkbest(c, j2), start, len, b->p)) goto nomem;
            c = ds__tkids(c)[j];
            if (!ds__tbuf_push(b, ds__tlabel(c), c->len)) goto done;
            len += c->len;
        }
        /* the next: a key to report, or children to descend into */
        for (;;) {
            ds__titem top;
            unsigned nx;
            if (got >= k || b->stop || f.n == 0) goto done;
            top = ds__tfront_pop(&f, b->p);
            if (top.i == DS__TEMIT) {
                ds__temit_key(b, b->p + top.at, top.len, top.n, top.s);
                got++;
                continue;
            }
            if ((nx = ds__tnext_kid(top.n, top.i)) < top.n->nkids &&
                !ds__tfront_push(&f, top.n, nx, ds__tkbest(top.n, nx), top.at, top.len, b->p))
                goto nomem;
            /* c's path: top's and c's label, copied to the arena's end */
            c = ds__tkids(top.n)[top.i];
            s = top.s;
            if (!ds__tbuf_reserve(b, b->len + top.len + c->len)) goto done;
            start = b->len;
            memcpy(b->p + start, b->p + top.at, top.len);
            memcpy(b->p + start + top.len, ds__tlabel(c), c->len);
            len = top.len + c->len;
            b->len += len;
            break;
        }
    }
nomem:
    b->fail = 1;
done:
    if (f.h != local) DS_FREE(b->a, f.h, f.cap * sizeof *f.h);
    return got;
}

/* -- the complete index: top-k lists at the big subtrees -- */
/* A best-first search costs a cache miss or so a node on the paths to
 * its k keys (~19 a complete(prefix, 10) on a word list, against a sorted
 * array's one streamed run). The index answers from one list instead:
 * for each node whose subtree holds at least min keys, its k best keys
 * (best first, ties by key) as the bytes after the node's path, each with
 * its score and key node, the node read at report time for the value
 * (a value set through ds_trie_get's pointer is a write the trie does not
 * see). A hash table finds a node's list. Writes drop the whole index:
 * keeping lists exact under score changes and deletes means a search per
 * list on the path; a read-mostly dictionary indexes once after loading.
 * A list, 8-aligned in one arena: uint64 count, then count key node
 * pointers, count scores, count uint32 key lengths, the key bytes one
 * after another (28 bytes a word's entry). */
typedef struct ds__tcent { /* an entry while its list is built */
    const ds__tnode *n;
    double s;
    size_t len; /* its bytes: the builder's keys, one after another */
} ds__tcent;
static void ds__tcx_free(const ds_alloc *a, ds__tcx *x) {
    if (!x) return;
    if (x->node) DS_FREE(a, x->node, x->slots * sizeof *x->node);
    if (x->off) DS_FREE(a, x->off, x->slots * sizeof *x->off);
    if (x->arena) DS_FREE(a, x->arena, x->cap);
    DS_FREE(a, x, sizeof *x);
}
/* A write that succeeded calls this: the lists would go stale (a failed
 * one leaves the nodes, and so the lists, as they were). */
static void ds__tcx_drop(ds_trie *t) {
    if (!t->cx) return;
    t->bytes -= t->cx->bytes;
    ds__tcx_free(t->alloc, t->cx);
    t->cx = NULL;
}
DS__INLINE size_t ds__tcx_slot(const ds__tcx *x, const ds__tnode *n) {
    return (size_t)ds_mix64((uint64_t)(uintptr_t)n) & (x->slots - 1);
}
/* n's list, or NULL. */
static const unsigned char *ds__tcx_find(const ds__tcx *x, const ds__tnode *n) {
    size_t i = ds__tcx_slot(x, n);
    for (;; i = (i + 1) & (x->slots - 1)) {
        if (x->node[i] == n) return x->arena + x->off[i];
        if (!x->node[i]) return NULL;
    }
}
/* *p (cap bytes, NULL when 0) with room for need more past used: its
 * capacity doubled (from first) until it fits. 0 on allocation failure
 * (*p as it was). The index's arena, key bytes and node list grow so. */
static int ds__tcx_grow(const ds_alloc *a, void **p, size_t *cap, size_t used, size_t need, size_t first) {
    size_t nc = *cap ? *cap : first;
    void *np;
    if (need <= *cap - used) return 1;
    while (nc - used < need) {
        if (nc > SIZE_MAX / 2) return 0;
        nc *= 2;
    }
    if (!(np = *p ? DS_REALLOC(a, *p, *cap, nc) : DS_MALLOC(a, nc))) return 0;
    *p = np;
    *cap = nc;
    return 1;
}
static int ds__tcx_reserve(ds__tcx *x, const ds_alloc *a, size_t need) {
    void *p = x->arena;
    int ok = ds__tcx_grow(a, &p, &x->cap, x->used, need, 4096);
    x->arena = (unsigned char *)p;
    return ok;
}
/* One list being built: its entries (k at most) and key bytes. */
typedef struct ds__tcbuild {
    ds__tcent *e;
    size_t n;
    unsigned char *keys;
    size_t klen, kcap;
    const ds__tbuf *b; /* the search's: its node is the key's */
    const ds_alloc *a;
    int fail;
} ds__tcbuild;
static int ds__tcx_collect(void *ctx, const void *key, size_t len, double score, void *val) {
    ds__tcbuild *l = (ds__tcbuild *)ctx;
    (void)val;
    void *keys = l->keys;
    int ok = ds__tcx_grow(l->a, &keys, &l->kcap, l->klen, len, 256);
    l->keys = (unsigned char *)keys;
    if (!ok) return l->fail = 1;
    if (len) memcpy(l->keys + l->klen, key, len);
    l->e[l->n].n = l->b->node;
    l->e[l->n].s = score;
    l->e[l->n].len = len;
    l->klen += len;
    l->n++;
    return 0;
}
/* Subtree key counts, bottom-up; the nodes holding >= min keys go to
 * v (grown as needed). 0 on allocation failure. Depth-first with its own
 * stack, not recursion: a chain of nested keys can be deeper than the
 * call stack. */
typedef struct ds__tnodes {
    const ds__tnode **v;
    size_t n, cap;
} ds__tnodes;
typedef struct ds__tcframe {
    const ds__tnode *n;
    size_t keys; /* counted so far: n's own and its finished children's */
    unsigned i;  /* the next child */
} ds__tcframe;
static int ds__tcx_count(const ds__tnode *root, size_t min, ds__tnodes *v, const ds_alloc *a) {
    ds__tcframe local[64], *st = local;
    size_t sp = 1, cap = sizeof local / sizeof local[0];
    int ok = 1;
    st[0].n = root;
    st[0].keys = (root->bits & DS__THAS) ? 1 : 0;
    st[0].i = 0;
    while (sp && ok) {
        ds__tcframe *f = &st[sp - 1];
        if (f->i < f->n->nkids) { /* down into the next child */
            const ds__tnode *c = ds__tkids(f->n)[f->i++];
            if (sp == cap) {
                ds__tcframe *ns = (ds__tcframe *)DS_MALLOC(a, 2 * cap * sizeof *ns);
                if (!ns) {
                    ok = 0;
                    break;
                }
                memcpy(ns, st, sp * sizeof *ns);
                if (st != local) DS_FREE(a, st, cap * sizeof *st);
                st = ns;
                cap *= 2;
            }
            st[sp].n = c;
            st[sp].keys = (c->bits & DS__THAS) ? 1 : 0;
            st[sp].i = 0;
            sp++;
            continue;
        }
        sp--; /* f is done: its count goes to its parent */
        if (sp) st[sp - 1].keys += f->keys;
        if (f->keys < min) continue;
        {
            void *nv = (void *)v->v;
            size_t bytes = v->cap * sizeof *v->v;
            ok = ds__tcx_grow(a, &nv, &bytes, v->n * sizeof *v->v, sizeof *v->v, 64 * sizeof *v->v);
            v->v = (const ds__tnode **)nv;
            v->cap = bytes / sizeof *v->v;
            if (!ok) break;
        }
        v->v[v->n++] = f->n;
    }
    if (st != local) DS_FREE(a, st, cap * sizeof *st);
    return ok;
}
/* n's list into x (n holds >= 2 keys, so it is not a leaf: its maximum
 * is its own). 0 on allocation failure. */
static int ds__tcx_list(ds__tcx *x, const ds_alloc *a, const ds__tnode *n, ds__tcbuild *l) {
    unsigned char arena[1024], *p;
    ds__tbuf b;
    size_t sz, i;
    uint64_t cnt;
    ds__tbuf_init(&b, arena, sizeof arena, a, ds__tcx_collect, l);
    l->n = l->klen = 0;
    l->b = &b;
    ds__tcomplete(n, ds__tbest(n), &b, x->k);
    ds__tbuf_done(&b);
    if (b.fail || l->fail) return 0;
    sz = (8 + l->n * (sizeof(void *) + sizeof(double) + 4) + l->klen + 7) & ~(size_t)7;
    if (!ds__tcx_reserve(x, a, sz)) return 0;
    p = x->arena + x->used;
    cnt = l->n;
    memcpy(p, &cnt, 8);
    p += 8;
    for (i = 0; i < l->n; i++, p += sizeof(void *)) memcpy(p, &l->e[i].n, sizeof(void *));
    for (i = 0; i < l->n; i++, p += sizeof(double)) memcpy(p, &l->e[i].s, sizeof(double));
    for (i = 0; i < l->n; i++, p += 4) {
        uint32_t len = (uint32_t)l->e[i].len; /* keys are <= UINT32_MAX bytes */
        memcpy(p, &len, 4);
    }
    if (l->klen) memcpy(p, l->keys, l->klen);
    i = ds__tcx_slot(x, n);
    while (x->node[i]) i = (i + 1) & (x->slots - 1);
    x->node[i] = n;
    x->off[i] = x->used;
    x->used += sz;
    x->lists++;
    return 1;
}
DSDEF ds_status ds_trie_complete_index(ds_trie *t, size_t k, size_t min_keys) {
    ds__tcx *x;
    ds__tnodes v = {NULL, 0, 0};
    ds__tcbuild l;
    size_t i;
    int ok;
    if (!t) return DS_EINVAL;
    if (k == 0) { /* drop it */
        ds__tcx_drop(t);
        return DS_OK;
    }
    if (k > ((size_t)1 << 16)) return DS_EINVAL;
    if (min_keys < 2) min_keys = 2; /* a leaf has no list: its key is its subtree */
    if (!(x = (ds__tcx *)DS_MALLOC(t->alloc, sizeof *x))) return DS_ENOMEM;
    memset(x, 0, sizeof *x);
    x->k = k;
    x->min = min_keys;
    memset(&l, 0, sizeof l);
    l.a = t->alloc;
    ok = !t->root || ds__tcx_count(t->root, min_keys, &v, t->alloc);
    for (x->slots = 8; ok && x->slots < 2 * v.n;) x->slots *= 2; /* load <= 1/2 */
    ok = ok && (x->node = (const ds__tnode **)DS_MALLOC(t->alloc, x->slots * sizeof *x->node)) != NULL &&
         (x->off = (size_t *)DS_MALLOC(t->alloc, x->slots * sizeof *x->off)) != NULL &&
         (l.e = (ds__tcent *)DS_MALLOC(t->alloc, k * sizeof *l.e)) != NULL;
    if (x->node) memset((void *)x->node, 0, x->slots * sizeof *x->node);
    for (i = 0; ok && i < v.n; i++) ok = ds__tcx_list(x, t->alloc, v.v[i], &l);
    if (v.v) DS_FREE(t->alloc, (void *)v.v, v.cap * sizeof *v.v);
    if (l.e) DS_FREE(t->alloc, l.e, k * sizeof *l.e);
    if (l.keys) DS_FREE(t->alloc, l.keys, l.kcap);
    if (!ok) { /* the old index, if any, stays */
        ds__tcx_free(t->alloc, x);
        return DS_ENOMEM;
    }
    if (x->cap > x->used && x->used) { /* the arena to its size (kept as it is if that cannot allocate) */
        unsigned char *np = (unsigned char *)DS_REALLOC(t->alloc, x->arena, x->cap, x->used);
        if (np) {
            x->arena = np;
            x->cap = x->used;
        }
    }
    x->bytes = sizeof *x + x->slots * (sizeof *x->node + sizeof *x->off) + x->cap;
    ds__tcx_drop(t);
    t->cx = x;
    t->bytes += x->bytes;
    return DS_OK;
}
/* complete from n's list (b holds n's path). */
static size_t ds__tcx_report(const unsigned char *list, ds__tbuf *b, size_t k) {
    uint64_t cnt;
    size_t i, got = 0, base = b->len;
    const unsigned char *nodes = list + 8, *scores, *lens, *key;
    memcpy(&cnt, list, 8);
    scores = nodes + cnt * sizeof(void *);
    lens = scores + cnt * sizeof(double);
    key = lens + cnt * 4;
    if (k > cnt) k = (size_t)cnt;
    for (i = 0; i < k; i++) { /* the key nodes' misses overlap */
        const ds__tnode *n;
        memcpy(&n, nodes + i * sizeof n, sizeof n);
        DS__PREFETCH(n);
    }
    for (i = 0; i < k && !b->stop; i++) {
        const ds__tnode *n;
        double s;
        uint32_t len;
        memcpy(&n, nodes + i * sizeof n, sizeof n);
        memcpy(&s, scores + i * sizeof s, sizeof s);
        memcpy(&len, lens + i * 4, 4);
        b->len = base;
        if (!ds__tbuf_push(b, key, len)) break;
        key += len;
        ds__temit_key(b, b->p, b->len, n, s);
        got++;
    }
    return got;
}
DSDEF size_t ds_trie_complete(const ds_trie *t, const void *prefix, size_t plen, size_t k,
                              ds_trie_fn fn, void *ctx) {
    unsigned char arena[1024];
    size_t at, got = 0;
    const ds__tnode *c;
    const unsigned char *list;
    double s;
    ds__tbuf b;
    if (!t || (!prefix && plen) || k == 0) return 0;
    if (!(c = ds__tprefix(t, (const unsigned char *)prefix, plen, &at, &s)) || s == -HUGE_VAL) return 0;
    ds__tbuf_init(&b, arena, sizeof arena, t->alloc, fn, ctx);
    if (ds__tbuf_push(&b, (const unsigned char *)prefix, at) && ds__tbuf_push(&b, ds__tlabel(c), c->len))
        got = t->cx && k <= t->cx->k && (list = ds__tcx_find(t->cx, c)) ? ds__tcx_report(list, &b, k)
                                                                          : ds__tcomplete(c, s, &b, k);
    ds__tbuf_done(&b);
    return got;
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_TRIE_IMPL */
