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
 *   void **ds_trie_get(const ds_trie *t, const void *key, size_t len)   NULL if absent
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

typedef struct ds__tnode {
    struct ds__tnode *parent;
    struct ds__tnode **kids;   /* sorted by their label's first byte */
    unsigned char *firsts;     /* those first bytes (after kids, one block):
                                  a child search reads no child node */
    unsigned char *label;      /* the edge from the parent */
    uint32_t len;
    uint16_t nkids, kcap;
    int has;                   /* a key ends here */
    void *val;
    double score, best;        /* own score; max over the subtree's keys */
} ds__tnode;

typedef struct ds_trie {
    ds__tnode root;
    size_t count, bytes;
    const ds_alloc *alloc;
} ds_trie;

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

static ds__tnode *ds__tnew(ds_trie *t, const unsigned char *label, size_t len) {
    ds__tnode *n = (ds__tnode *)DS_MALLOC(t->alloc, sizeof *n);
    if (!n) return NULL;
    memset(n, 0, sizeof *n);
    n->label = (unsigned char *)DS_MALLOC(t->alloc, len);
    if (!n->label) {
        DS_FREE(t->alloc, n, sizeof *n);
        return NULL;
    }
    memcpy(n->label, label, len);
    n->len = (uint32_t)len;
    n->best = -HUGE_VAL;
    t->bytes += sizeof *n + len;
    return n;
}
static void ds__tdelete_node(ds_trie *t, ds__tnode *n) { /* one node, not its subtree */
    if (n->kids) DS_FREE(t->alloc, n->kids, n->kcap * (sizeof *n->kids + 1));
    if (n->label) DS_FREE(t->alloc, n->label, n->len);
    t->bytes -= sizeof *n + n->len + n->kcap * (sizeof *n->kids + 1);
    DS_FREE(t->alloc, n, sizeof *n);
}
static void ds__tfree_tree(ds_trie *t, ds__tnode *n) {
    uint16_t i;
    for (i = 0; i < n->nkids; i++) ds__tfree_tree(t, n->kids[i]);
    ds__tdelete_node(t, n);
}
DSDEF ds_status ds_trie_init(ds_trie *t, const ds_alloc *a) {
    if (!t) return DS_EINVAL;
    memset(t, 0, sizeof *t);
    t->alloc = a;
    t->root.best = -HUGE_VAL;
    return DS_OK;
}
DSDEF void ds_trie_free(ds_trie *t) {
    uint16_t i;
    if (!t) return;
    for (i = 0; i < t->root.nkids; i++) ds__tfree_tree(t, t->root.kids[i]);
    if (t->root.kids) DS_FREE(t->alloc, t->root.kids, t->root.kcap * (sizeof *t->root.kids + 1));
    ds_trie_init(t, t->alloc);
}
/* Child of n whose label starts with b (NULL if none); *pos = its slot or
 * where it would go. */
static ds__tnode *ds__tchild(const ds__tnode *n, unsigned char b, size_t *pos) {
    size_t lo = 0, hi = n->nkids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (n->firsts[mid] < b) lo = mid + 1; else hi = mid;
    }
    if (pos) *pos = lo;
    return lo < n->nkids && n->firsts[lo] == b ? n->kids[lo] : NULL;
}
/* Recompute subtree maxima from n up; stops where nothing changes. */
static double ds__tbest_of(const ds__tnode *n) { /* own score vs the children's maxima */
    double b = n->has ? n->score : -HUGE_VAL;
    uint16_t i;
    for (i = 0; i < n->nkids; i++)
        if (n->kids[i]->best > b) b = n->kids[i]->best;
    return b;
}
static void ds__tfix_best(ds__tnode *n) {
    for (; n; n = n->parent) {
        double b = ds__tbest_of(n);
        if (b == n->best) break;
        n->best = b;
    }
}
/* A key node's new score: n itself always (its own score changed), then up. */
static void ds__tset_score(ds__tnode *n, double score) {
    n->score = score;
    n->best = ds__tbest_of(n);
    ds__tfix_best(n->parent);
}
static int ds__tgrow_kids(ds_trie *t, ds__tnode *n) {
    uint16_t nc;
    unsigned char *p;
    if (n->nkids < n->kcap) return 1;
    nc = (uint16_t)(n->kcap ? (n->kcap >= 128 ? 256 : n->kcap * 2) : 2);
    p = (unsigned char *)DS_MALLOC(t->alloc, nc * (sizeof *n->kids + 1));
    if (!p) return 0;
    if (n->kids) {
        memcpy(p, n->kids, n->nkids * sizeof *n->kids);
        memcpy(p + nc * sizeof *n->kids, n->firsts, n->nkids);
        DS_FREE(t->alloc, n->kids, n->kcap * (sizeof *n->kids + 1));
    }
    t->bytes += (size_t)(nc - n->kcap) * (sizeof *n->kids + 1);
    n->kids = (ds__tnode **)(void *)p;
    n->firsts = p + nc * sizeof *n->kids;
    n->kcap = nc;
    return 1;
}
/* Put child c at slot pos of n (room is there). */
static void ds__tkid_insert(ds__tnode *n, size_t pos, ds__tnode *c) {
    memmove(&n->kids[pos + 1], &n->kids[pos], (n->nkids - pos) * sizeof *n->kids);
    memmove(&n->firsts[pos + 1], &n->firsts[pos], n->nkids - pos);
    n->kids[pos] = c;
    n->firsts[pos] = c->label[0];
    n->nkids++;
}
/* The node whose path is exactly key, or NULL. */
static ds__tnode *ds__tfind(const ds_trie *t, const unsigned char *k, size_t len) {
    const ds__tnode *n = &t->root;
    size_t i = 0;
    while (i < len) {
        const ds__tnode *c = ds__tchild(n, k[i], NULL);
        if (!c || c->len > len - i || memcmp(c->label, k + i, c->len) != 0) return NULL;
        i += c->len;
        n = c;
    }
    return (ds__tnode *)n;
}
DSDEF ds_status ds_trie_put(ds_trie *t, const void *key, size_t len, void *val, int *is_new) {
    const unsigned char *k = (const unsigned char *)key;
    ds__tnode *n, *c, *s, *leaf;
    size_t i = 0, pos, m;
    unsigned char *rest;
    if (is_new) *is_new = 0;
    if (!t || (!key && len) || len > UINT32_MAX) return DS_EINVAL;
    n = &t->root;
    for (;;) {
        if (i == len) { /* the key ends at n */
            if (!n->has) {
                n->has = 1;
                n->score = 0;
                t->count++;
                if (is_new) *is_new = 1;
                ds__tfix_best(n);
            }
            n->val = val;
            return DS_OK;
        }
        c = ds__tchild(n, k[i], &pos);
        if (!c) { /* a new leaf under n */
            if (!(leaf = ds__tnew(t, k + i, len - i))) return DS_ENOMEM;
            if (!ds__tgrow_kids(t, n)) {
                ds__tdelete_node(t, leaf);
                return DS_ENOMEM;
            }
            ds__tkid_insert(n, pos, leaf);
            leaf->parent = n;
            leaf->has = 1;
            leaf->val = val;
            t->count++;
            if (is_new) *is_new = 1;
            ds__tfix_best(leaf);
            return DS_OK;
        }
        for (m = 0; m < c->len && i + m < len && c->label[m] == k[i + m]; m++) {
        }
        if (m == c->len) {
            n = c;
            i += m;
            continue;
        }
        /* Split c's edge after m bytes: everything is allocated first. */
        s = ds__tnew(t, c->label, m);
        rest = (unsigned char *)DS_MALLOC(t->alloc, c->len - m);
        leaf = i + m < len ? ds__tnew(t, k + i + m, len - i - m) : NULL;
        if (!s || !rest || (i + m < len && !leaf) || !ds__tgrow_kids(t, s)) {
            if (s) ds__tdelete_node(t, s);
            if (rest) DS_FREE(t->alloc, rest, c->len - m);
            if (leaf) ds__tdelete_node(t, leaf);
            return DS_ENOMEM;
        }
        memcpy(rest, c->label + m, c->len - m);
        DS_FREE(t->alloc, c->label, c->len);
        t->bytes -= m;
        c->label = rest;
        c->len -= (uint32_t)m;
        n->kids[pos] = s;
        s->parent = n;
        c->parent = s;
        ds__tkid_insert(s, 0, c);
        s->best = c->best;
        if (leaf) {
            ds__tkid_insert(s, leaf->label[0] < c->label[0] ? 0 : 1, leaf);
            leaf->parent = s;
            leaf->has = 1;
            leaf->val = val;
            ds__tfix_best(leaf);
        } else {
            s->has = 1;
            s->val = val;
            s->score = 0;
            s->best = -HUGE_VAL; /* recompute: own 0 against c's subtree */
            ds__tfix_best(s);
        }
        t->count++;
        if (is_new) *is_new = 1;
        return DS_OK;
    }
}
DSDEF void **ds_trie_get(const ds_trie *t, const void *key, size_t len) {
    ds__tnode *n;
    if (!t || (!key && len)) return NULL;
    n = ds__tfind(t, (const unsigned char *)key, len);
    return n && n->has ? &n->val : NULL;
}
/* n has no key and one child: fold it into the child (one longer edge).
 * Best effort: if the longer label cannot be allocated, n stays. */
static void ds__tmerge_down(ds_trie *t, ds__tnode *n) {
    ds__tnode *c = n->kids[0], *p = n->parent;
    unsigned char *lab = (unsigned char *)DS_MALLOC(t->alloc, (size_t)n->len + c->len);
    size_t pos;
    if (!lab) return;
    memcpy(lab, n->label, n->len);
    memcpy(lab + n->len, c->label, c->len);
    DS_FREE(t->alloc, c->label, c->len);
    t->bytes += n->len;
    c->label = lab;
    c->len += n->len;
    c->parent = p;
    (void)ds__tchild(p, n->label[0], &pos);
    p->kids[pos] = c;
    n->nkids = 0;
    ds__tdelete_node(t, n);
}
DSDEF ds_status ds_trie_del(ds_trie *t, const void *key, size_t len, void **out) {
    ds__tnode *n, *p;
    size_t pos;
    if (!t || (!key && len)) return DS_EINVAL;
    n = ds__tfind(t, (const unsigned char *)key, len);
    if (!n || !n->has) return DS_ENOTFOUND;
    if (out) *out = n->val;
    n->has = 0;
    n->val = NULL;
    n->score = 0;
    t->count--;
    p = n;
    if (n != &t->root && n->nkids == 0) { /* drop the leaf */
        p = n->parent;
        (void)ds__tchild(p, n->label[0], &pos);
        memmove(&p->kids[pos], &p->kids[pos + 1], (p->nkids - pos - 1) * sizeof *p->kids);
        memmove(&p->firsts[pos], &p->firsts[pos + 1], p->nkids - pos - 1u);
        p->nkids--;
        ds__tdelete_node(t, n);
    }
    if (p != &t->root && !p->has && p->nkids == 1) {
        ds__tnode *up = p->parent;
        ds__tmerge_down(t, p);
        /* if the merge failed p is still there and its maximum is unchanged */
        ds__tfix_best(up);
    } else {
        ds__tfix_best(p);
    }
    return DS_OK;
}
DSDEF ds_status ds_trie_set_score(ds_trie *t, const void *key, size_t len, double score) {
    ds__tnode *n;
    if (!t || (!key && len) || !(score > -HUGE_VAL && score < HUGE_VAL)) return DS_EINVAL;
    n = ds__tfind(t, (const unsigned char *)key, len);
    if (!n || !n->has) return DS_ENOTFOUND;
    ds__tset_score(n, score);
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
    ds__tnode *n;
    ds_status st;
    if (!t || (!key && len) || !(delta > -HUGE_VAL && delta < HUGE_VAL)) return DS_EINVAL;
    n = ds__tfind(t, (const unsigned char *)key, len);
    if (n && n->has && !(n->score + delta > -HUGE_VAL && n->score + delta < HUGE_VAL)) return DS_EINVAL;
    if (!n || !n->has) {
        if ((st = ds_trie_put(t, key, len, NULL, NULL)) != DS_OK) return st;
        n = ds__tfind(t, (const unsigned char *)key, len);
    }
    ds__tset_score(n, n->score + delta);
    if (score) *score = n->score;
    return DS_OK;
}
DSDEF double ds_trie_score(const ds_trie *t, const void *key, size_t len) {
    ds__tnode *n;
    if (!t || (!key && len)) return NAN;
    n = ds__tfind(t, (const unsigned char *)key, len);
    return n && n->has ? n->score : NAN;
}
DSDEF size_t ds_trie_len(const ds_trie *t) { return t ? t->count : 0; }
DSDEF size_t ds_trie_memory(const ds_trie *t) { return t ? t->bytes : 0; }

/* -- walks: a key buffer that starts on the stack -- */
typedef struct ds__tbuf {
    unsigned char *p;
    size_t len, cap;
    unsigned char local[256];
    const ds_alloc *a;
    int fail, stop;
    size_t reported;
    ds_trie_fn fn;
    void *ctx;
} ds__tbuf;
static void ds__tbuf_init(ds__tbuf *b, const ds_alloc *a, ds_trie_fn fn, void *ctx) {
    b->p = b->local;
    b->len = 0;
    b->cap = sizeof b->local;
    b->a = a;
    b->fail = b->stop = 0;
    b->reported = 0;
    b->fn = fn;
    b->ctx = ctx;
}
static void ds__tbuf_done(ds__tbuf *b) {
    if (b->p != b->local) DS_FREE(b->a, b->p, b->cap);
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
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 1;
}
/* The path of n from the root into b. */
static int ds__tbuf_path(ds__tbuf *b, const ds__tnode *n) {
    const ds__tnode *x;
    size_t total = 0, at;
    for (x = n; x->parent; x = x->parent) total += x->len;
    b->len = 0; /* the old contents are not kept */
    if (!ds__tbuf_reserve(b, total)) return 0;
    at = total;
    for (x = n; x->parent; x = x->parent) {
        at -= x->len;
        memcpy(b->p + at, x->label, x->len);
    }
    b->len = total;
    return 1;
}
static void ds__temit(ds__tbuf *b, const ds__tnode *n) {
    if (b->stop) return;
    b->reported++;
    if (b->fn && b->fn(b->ctx, b->p, b->len, n->score, n->val)) b->stop = 1;
}
/* Every key in n's subtree (b holds n's path), in (reverse) order. */
static void ds__twalk(ds__tbuf *b, const ds__tnode *n, int reverse) {
    uint16_t i;
    if (b->stop || b->fail) return;
    if (!reverse && n->has) ds__temit(b, n);
    for (i = 0; i < n->nkids && !b->stop && !b->fail; i++) {
        const ds__tnode *c = n->kids[reverse ? n->nkids - 1 - i : i];
        size_t keep = b->len;
        if (!ds__tbuf_push(b, c->label, c->len)) return;
        ds__twalk(b, c, reverse);
        b->len = keep;
    }
    if (reverse && n->has) ds__temit(b, n);
}
/* The node at the end of the prefix (its path extends the prefix), or NULL. */
static const ds__tnode *ds__tprefix(const ds_trie *t, const unsigned char *p, size_t plen) {
    const ds__tnode *n = &t->root;
    size_t i = 0;
    while (i < plen) {
        const ds__tnode *c = ds__tchild(n, p[i], NULL);
        size_t m = c ? (c->len < plen - i ? c->len : plen - i) : 0;
        if (!c || memcmp(c->label, p + i, m) != 0) return NULL;
        i += c->len;
        n = c;
    }
    return n;
}
DSDEF size_t ds_trie_walk(const ds_trie *t, const void *prefix, size_t plen, int reverse,
                          ds_trie_fn fn, void *ctx) {
    const ds__tnode *n;
    ds__tbuf b;
    size_t r;
    if (!t || (!prefix && plen)) return 0;
    if (!(n = ds__tprefix(t, (const unsigned char *)prefix, plen))) return 0;
    ds__tbuf_init(&b, t->alloc, fn, ctx);
    if (ds__tbuf_path(&b, n)) ds__twalk(&b, n, reverse);
    r = b.reported;
    ds__tbuf_done(&b);
    return r;
}
/* seek: prune by comparing each node's path P with the key K. */
static void ds__tseek(ds__tbuf *b, const ds__tnode *n, const unsigned char *k, size_t klen, int dir) {
    size_t m = b->len < klen ? b->len : klen;
    int c = memcmp(b->p, k, m);
    uint16_t i;
    if (b->stop || b->fail) return;
    if (dir > 0) { /* keys >= K ascending */
        if (c < 0) return;
        if (c > 0 || b->len >= klen) {
            ds__twalk(b, n, 0);
            return;
        }
        for (i = 0; i < n->nkids && !b->stop && !b->fail; i++) { /* P is a proper prefix of K */
            size_t keep = b->len;
            if (!ds__tbuf_push(b, n->kids[i]->label, n->kids[i]->len)) return;
            ds__tseek(b, n->kids[i], k, klen, dir);
            b->len = keep;
        }
    } else { /* keys <= K descending */
        if (c > 0 || (c == 0 && b->len > klen)) return;
        if (c < 0) {
            ds__twalk(b, n, 1);
            return;
        }
        if (b->len < klen)
            for (i = n->nkids; i-- > 0 && !b->stop && !b->fail;) {
                size_t keep = b->len;
                if (!ds__tbuf_push(b, n->kids[i]->label, n->kids[i]->len)) return;
                ds__tseek(b, n->kids[i], k, klen, dir);
                b->len = keep;
            }
        if (n->has) ds__temit(b, n);
    }
}
DSDEF size_t ds_trie_seek(const ds_trie *t, const void *key, size_t len, int dir, ds_trie_fn fn,
                          void *ctx) {
    ds__tbuf b;
    size_t r;
    if (!t || (!key && len) || dir == 0) return 0;
    ds__tbuf_init(&b, t->alloc, fn, ctx);
    ds__tseek(&b, &t->root, (const unsigned char *)key, len, dir);
    r = b.reported;
    ds__tbuf_done(&b);
    return r;
}
DSDEF void **ds_trie_longest_prefix(const ds_trie *t, const void *key, size_t len, size_t *mlen) {
    const unsigned char *k = (const unsigned char *)key;
    const ds__tnode *n, *best = NULL;
    size_t i = 0, at = 0;
    if (mlen) *mlen = 0;
    if (!t || (!key && len)) return NULL;
    n = &t->root;
    if (n->has) best = n;
    while (i < len) {
        const ds__tnode *c = ds__tchild(n, k[i], NULL);
        if (!c || c->len > len - i || memcmp(c->label, k + i, c->len) != 0) break;
        i += c->len;
        n = c;
        if (n->has) {
            best = n;
            at = i;
        }
    }
    if (!best) return NULL;
    if (mlen) *mlen = at;
    return (void **)(uintptr_t)&best->val;
}

/* -- complete: best-first over subtree maxima -- */
typedef struct ds__titem {
    const ds__tnode *n;
    double s;
    int emit; /* 0: expand the subtree; 1: report n's own key */
} ds__titem;
/* Lexicographic order of two distinct nodes' paths. */
static int ds__tnode_cmp(const ds__tnode *a, const ds__tnode *b) {
    size_t da = 0, db = 0;
    const ds__tnode *x;
    for (x = a; x->parent; x = x->parent) da++;
    for (x = b; x->parent; x = x->parent) db++;
    while (da > db) {
        a = a->parent;
        da--;
        if (a == b) return 1; /* b is a's ancestor: b's key is a prefix of a's */
    }
    while (db > da) {
        b = b->parent;
        db--;
        if (b == a) return -1;
    }
    while (a->parent != b->parent) {
        a = a->parent;
        b = b->parent;
    }
    return a->label[0] < b->label[0] ? -1 : 1;
}
/* x before y: higher score; at equal score expand before report; reports
 * at equal score in key order. */
static int ds__titem_before(const ds__titem *x, const ds__titem *y) {
    if (x->s != y->s) return x->s > y->s;
    if (x->emit != y->emit) return !x->emit;
    return x->emit && ds__tnode_cmp(x->n, y->n) < 0;
}
DSDEF size_t ds_trie_complete(const ds_trie *t, const void *prefix, size_t plen, size_t k,
                              ds_trie_fn fn, void *ctx) {
    ds__titem local[128], *h = local;
    size_t n = 0, cap = 128, got = 0;
    const ds__tnode *p;
    ds__tbuf b;
    if (!t || (!prefix && plen) || k == 0) return 0;
    if (!(p = ds__tprefix(t, (const unsigned char *)prefix, plen)) || p->best == -HUGE_VAL) return 0;
    ds__tbuf_init(&b, t->alloc, fn, ctx);
    h[n].n = p;
    h[n].s = p->best;
    h[n++].emit = 0;
    while (n && got < k && !b.stop) {
        ds__titem top = h[0];
        size_t i, j, adds = top.emit ? 0 : (size_t)top.n->nkids + 1;
        /* pop the heap's top */
        h[0] = h[--n];
        for (i = 0; (j = 2 * i + 1) < n; i = j) {
            if (j + 1 < n && ds__titem_before(&h[j + 1], &h[j])) j++;
            if (!ds__titem_before(&h[j], &h[i])) break;
            { ds__titem tmp = h[i]; h[i] = h[j]; h[j] = tmp; }
        }
        if (top.emit) {
            if (ds__tbuf_path(&b, top.n)) ds__temit(&b, top.n);
            if (b.fail) break;
            got++;
            continue;
        }
        if (n + adds > cap) { /* grow the frontier (off the stack) */
            size_t nc = cap * 2 > n + adds ? cap * 2 : n + adds;
            ds__titem *nh = (ds__titem *)DS_MALLOC(t->alloc, nc * sizeof *nh);
            if (!nh) break;
            memcpy(nh, h, n * sizeof *nh);
            if (h != local) DS_FREE(t->alloc, h, cap * sizeof *h);
            h = nh;
            cap = nc;
        }
        for (i = 0; i < adds; i++) { /* push the own key, then the children */
            ds__titem it;
            if (i == 0) {
                if (!top.n->has) continue;
                it.n = top.n;
                it.s = top.n->score;
                it.emit = 1;
            } else {
                it.n = top.n->kids[i - 1];
                if (it.n->best == -HUGE_VAL) continue;
                it.s = it.n->best;
                it.emit = 0;
            }
            for (j = n++; j > 0 && ds__titem_before(&it, &h[(j - 1) / 2]); j = (j - 1) / 2) h[j] = h[(j - 1) / 2];
            h[j] = it;
        }
    }
    if (h != local) DS_FREE(t->alloc, h, cap * sizeof *h);
    ds__tbuf_done(&b);
    return got;
}


/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_TRIE_IMPL */
