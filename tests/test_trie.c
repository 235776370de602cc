/* tests/test_trie.c - ds_trie against a sorted list of byte strings. */
#include "prop.h"
#include <math.h>

typedef struct tkey {
    unsigned char b[12];
    size_t len;
    uintptr_t val;
    double score;
} tkey;
typedef struct tlist {
    tkey e[1200];
    size_t n;
} tlist;

static int key_cmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl) {
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    return c ? c : (al > bl) - (al < bl);
}
static long tl_find(const tlist *l, const unsigned char *k, size_t len, size_t *pos) {
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (key_cmp(l->e[mid].b, l->e[mid].len, k, len) < 0) lo = mid + 1; else hi = mid;
    }
    *pos = lo;
    return lo < l->n && key_cmp(l->e[lo].b, l->e[lo].len, k, len) == 0 ? (long)lo : -1;
}

/* Collector for walks. */
typedef struct got {
    unsigned char k[64][12];
    size_t len[64];
    double score[64];
    uintptr_t val[64];
    size_t n, stop_at;
} got;
static int collect(void *ctx, const void *key, size_t len, double score, void *val) {
    got *g = (got *)ctx;
    if (g->n < 64 && len <= 12) {
        memcpy(g->k[g->n], key, len);
        g->len[g->n] = len;
        g->score[g->n] = score;
        g->val[g->n] = (uintptr_t)val;
    }
    g->n++;
    return g->stop_at && g->n >= g->stop_at;
}

/* Lengths and scores of keys of any length. */
typedef struct tlens {
    size_t len[8];
    double score[8];
    size_t n;
} tlens;
static int collect_len(void *ctx, const void *key, size_t len, double score, void *val) {
    tlens *g = (tlens *)ctx;
    (void)key, (void)val;
    if (g->n < 8) {
        g->len[g->n] = len;
        g->score[g->n] = score;
    }
    g->n++;
    return 0;
}

/* Random keys over a 3-letter alphabet including NUL, so prefixes, shared
 * edges and embedded zero bytes are everywhere. */
static size_t rand_key(ds_rng *r, unsigned char *k) {
    static const unsigned char alpha[3] = {0, 'a', 'b'};
    size_t len = (size_t)ds_rng_below(r, 9), i;
    for (i = 0; i < len; i++) k[i] = alpha[ds_rng_below(r, 3)];
    return len;
}

static int brute_before(const tkey *x, const tkey *y) {
    if (x->score != y->score) return x->score > y->score;
    return key_cmp(x->b, x->len, y->b, y->len) < 0;
}

static int trie_shape_ok(const ds_trie *t, int tight);

static void trie_case(ds_rng *rng, uint64_t seed) {
    ds_trie t;
    tlist *l = (tlist *)calloc(1, sizeof *l);
    int step;
    (void)seed;
    CHECK(l != NULL);
    ds_trie_init(&t, NULL);
    for (step = 0; step < 3000; step++) {
        unsigned char k[12];
        size_t len = rand_key(rng, k), pos, i, j;
        long at = tl_find(l, k, len, &pos);
        int op = (int)ds_rng_below(rng, 100);
        if (op < 25) { /* put */
            int is_new = -1;
            uintptr_t v = (uintptr_t)ds_rng_next(rng);
            CHECK(ds_trie_put(&t, k, len, (void *)v, &is_new) == DS_OK && is_new == (at < 0));
            if (at < 0) {
                memmove(&l->e[pos + 1], &l->e[pos], (l->n - pos) * sizeof l->e[0]);
                memcpy(l->e[pos].b, k, len);
                l->e[pos].len = len;
                l->e[pos].score = 0;
                l->n++;
            }
            l->e[pos].val = v;
        } else if (op < 40) { /* del */
            void *out = NULL;
            ds_status st = ds_trie_del(&t, k, len, &out);
            CHECK(st == (at >= 0 ? DS_OK : DS_ENOTFOUND));
            if (at >= 0) {
                CHECK((uintptr_t)out == l->e[at].val);
                memmove(&l->e[at], &l->e[at + 1], (l->n - (size_t)at - 1) * sizeof l->e[0]);
                l->n--;
            }
        } else if (op < 55) { /* incr (inserts) / set_score */
            /* negative too: a later put's score 0 must raise the maxima */
            double d = (double)ds_rng_below(rng, 9) - 4.0, sc = -1;
            if (ds_rng_below(rng, 4)) {
                CHECK(ds_trie_incr(&t, k, len, d, &sc) == DS_OK);
                if (at < 0) {
                    memmove(&l->e[pos + 1], &l->e[pos], (l->n - pos) * sizeof l->e[0]);
                    memcpy(l->e[pos].b, k, len);
                    l->e[pos].len = len;
                    l->e[pos].score = 0;
                    l->e[pos].val = 0;
                    l->n++;
                    at = (long)pos;
                }
                l->e[at].score += d;
                CHECK(sc == l->e[at].score);
            } else {
                CHECK(ds_trie_set_score(&t, k, len, d) == (at >= 0 ? DS_OK : DS_ENOTFOUND));
                if (at >= 0) l->e[at].score = d;
            }
        } else if (op < 65) { /* get, score, longest prefix */
            void **v = ds_trie_get(&t, k, len);
            size_t ml = 99, best = 0;
            long bi = -1;
            CHECK(at >= 0 ? (v && (uintptr_t)*v == l->e[at].val) : v == NULL);
            CHECK(at >= 0 ? ds_trie_score(&t, k, len) == l->e[at].score : isnan(ds_trie_score(&t, k, len)));
            if (v && ds_rng_below(rng, 2)) { /* a value set through the pointer: no write call (the index reads it live) */
                l->e[at].val = (uintptr_t)ds_rng_next(rng);
                *v = (void *)l->e[at].val;
            }
            for (i = 0; i <= len; i++) {
                size_t p2;
                long a2 = tl_find(l, k, i, &p2);
                if (a2 >= 0) {
                    bi = a2;
                    best = i;
                }
            }
            v = ds_trie_longest_prefix(&t, k, len, &ml);
            CHECK(bi >= 0 ? (v && (uintptr_t)*v == l->e[bi].val && ml == best) : (v == NULL && ml == 0));
        } else if (op < 75) { /* prefix walk both ways */
            got g;
            size_t plen = len < 3 ? len : 3, n = 0;
            int rev = (int)ds_rng_below(rng, 2);
            memset(&g, 0, sizeof g);
            ds_trie_walk(&t, k, plen, rev, collect, &g);
            for (i = 0; i < l->n; i++)
                if (l->e[i].len >= plen && memcmp(l->e[i].b, k, plen) == 0) n++;
            CHECK(g.n == n);
            for (i = 0, j = 0; i < l->n && j < 64; i++) {
                size_t idx = rev ? l->n - 1 - i : i;
                if (l->e[idx].len >= plen && memcmp(l->e[idx].b, k, plen) == 0) {
                    CHECK(g.len[j] == l->e[idx].len && memcmp(g.k[j], l->e[idx].b, g.len[j]) == 0);
                    j++;
                }
            }
        } else if (op < 85) { /* seek >= and <= */
            got g;
            int dir = ds_rng_below(rng, 2) ? 1 : -1;
            size_t want;
            memset(&g, 0, sizeof g);
            g.stop_at = 5;
            ds_trie_seek(&t, k, len, dir, collect, &g);
            want = dir > 0 ? l->n - pos : (at >= 0 ? pos + 1 : pos);
            CHECK(g.n == (want < 5 ? want : 5));
            for (i = 0; i < g.n; i++) {
                size_t idx = dir > 0 ? pos + i : (at >= 0 ? pos : pos - 1) - i;
                CHECK(g.len[i] == l->e[idx].len && memcmp(g.k[i], l->e[idx].b, g.len[i]) == 0);
            }
        } else { /* complete vs brute force */
            got g;
            size_t plen = len < 2 ? len : 2, kk = 1 + (size_t)ds_rng_below(rng, 8), m = 0, c;
            tkey *all = (tkey *)malloc((l->n + 1) * sizeof *all);
            CHECK(all != NULL);
            for (i = 0; i < l->n; i++)
                if (l->e[i].len >= plen && memcmp(l->e[i].b, k, plen) == 0) all[m++] = l->e[i];
            for (i = 1; i < m; i++) /* insertion sort: score desc, key asc */
                for (j = i; j > 0 && brute_before(&all[j], &all[j - 1]); j--) {
                    tkey tmp = all[j];
                    all[j] = all[j - 1];
                    all[j - 1] = tmp;
                }
            memset(&g, 0, sizeof g);
            if (ds_rng_below(rng, 3) == 0) { /* lists of 1-8 keys at subtrees of >= 0-5 keys, until the next write */
                size_t kx = 1 + (size_t)ds_rng_below(rng, 8), mx = (size_t)ds_rng_below(rng, 6), base, mem;
                CHECK(ds_trie_complete_index(&t, 0, 0) == DS_OK); /* k = 0 drops it */
                base = ds_trie_memory(&t);
                CHECK(ds_trie_complete_index(&t, kx, mx) == DS_OK && (mem = ds_trie_memory(&t)) > base);
                CHECK(ds_trie_complete_index(&t, kx, mx) == DS_OK && ds_trie_memory(&t) == mem); /* a rebuild */
                if (ds_rng_below(rng, 4) == 0) {
                    CHECK(ds_trie_complete_index(&t, 0, 0) == DS_OK && ds_trie_memory(&t) == base);
                    CHECK(ds_trie_complete_index(&t, kx, mx) == DS_OK);
                }
            }
            c = ds_trie_complete(&t, k, plen, kk, collect, &g);
            CHECK(c == (m < kk ? m : kk) && g.n == c);
            for (i = 0; i < c; i++)
                CHECKF(g.len[i] == all[i].len && memcmp(g.k[i], all[i].b, g.len[i]) == 0 && g.score[i] == all[i].score &&
                           g.val[i] == all[i].val,
                       "complete #%zu differs (score %g vs %g)", i, g.score[i], all[i].score);
            free(all);
        }
        CHECK(ds_trie_len(&t) == l->n);
        if (step % 16 == 0) CHECK(trie_shape_ok(&t, 1) == 0);
    }
    ds_trie_free(&t);
    CHECK(ds_trie_len(&t) == 0 && ds_trie_memory(&t) == 0);
    free(l);
}
void test_trie_model(void) { prop_run("trie_model", trie_case, 40); }

static int trie_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_trie t;
    ds_rng r;
    int step;
    ds_trie_init(&t, &pa->a);
    ds_rng_seed(&r, seed);
    for (step = 0; step < 300; step++) {
        unsigned char k[12];
        size_t len = rand_key(&r, k), n = ds_trie_len(&t);
        int had = ds_trie_get(&t, k, len) != NULL;
        long before = PROP_FAILS(pa);
        size_t mem0 = ds_trie_memory(&t);
        ds_status st = ds_rng_below(&r, 4) ? ds_trie_put(&t, k, len, NULL, NULL) : ds_trie_del(&t, k, len, NULL);
        if (st == DS_ENOMEM)
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && ds_trie_len(&t) == n && (ds_trie_get(&t, k, len) != NULL) == had &&
                         ds_trie_memory(&t) == mem0, 1);
        else CHECK_OR(st == DS_OK || st == DS_ENOTFOUND, 1);
    }
    ds_trie_free(&t);
    return 0;
}

/* The word list: every word found, prefix counts right, merges restore
 * the memory, and complete on real words. */
void test_trie_words(void) {
    FILE *f = fopen("/usr/share/dict/american-english", "r");
    char line[128];
    ds_trie t;
    size_t n = 0, mem_before;
    long total = 0;
    CHECK(prop_oom_sweep(trie_oom_seq, 3, &total) == 0 && total > 10);
    CHECKF(f != NULL, "apt-get install wamerican");
    ds_trie_init(&t, NULL);
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        int is_new;
        CHECK(ds_trie_put(&t, line, len, NULL, &is_new) == DS_OK);
        n += (size_t)is_new;
        CHECK(ds_trie_incr(&t, line, len, (double)(len * 7 % 11), NULL) == DS_OK);
    }
    fclose(f);
    CHECK(ds_trie_len(&t) == n && n > 100000);
    {
        got g;
        memset(&g, 0, sizeof g);
        CHECK(ds_trie_complete(&t, "pre", 3, 10, collect, &g) == 10);
        CHECK(g.score[0] >= g.score[9]);
        CHECK(ds_trie_walk(&t, "zz", 2, 0, NULL, NULL) < ds_trie_walk(&t, "z", 1, 0, NULL, NULL));
    }
    { /* the index answers as the search does, on every 0-2 letter prefix (scores tie a lot here) */
        static got before[703];
        char p[2];
        size_t i, j, used = 0, mem = ds_trie_memory(&t);
        for (i = 0; i < 703; i++) {
            size_t pl = i == 0 ? 0 : i <= 26 ? 1 : 2;
            p[0] = (char)('a' + (i <= 26 ? i - 1 : (i - 27) / 26));
            p[1] = (char)('a' + (i - 27) % 26);
            memset(&before[i], 0, sizeof before[i]);
            ds_trie_complete(&t, p, pl, 10, collect, &before[i]);
        }
        CHECK(ds_trie_complete_index(&t, 10, 16) == DS_OK && ds_trie_memory(&t) > mem && t.cx && t.cx->lists > 1000);
        for (i = 0; i < 703; i++) {
            got g;
            size_t pl = i == 0 ? 0 : i <= 26 ? 1 : 2;
            p[0] = (char)('a' + (i <= 26 ? i - 1 : (i - 27) / 26));
            p[1] = (char)('a' + (i - 27) % 26);
            memset(&g, 0, sizeof g);
            CHECK(ds_trie_complete(&t, p, pl, 10, collect, &g) == before[i].n);
            for (j = 0; j < g.n; j++)
                CHECK(g.len[j] == before[i].len[j] && memcmp(g.k[j], before[i].k[j], g.len[j]) == 0 &&
                      g.score[j] == before[i].score[j]);
            used += g.n == 10;
        }
        CHECKF(used > 200, "%zu full lists", used); /* 244 prefixes have 10 keys or more */
        { /* bad input changes nothing; min_keys 0 and 1 mean 2 */
            size_t with = ds_trie_memory(&t), lists = t.cx->lists;
            CHECK(ds_trie_complete_index(NULL, 10, 2) == DS_EINVAL);
            CHECK(ds_trie_complete_index(&t, 65537, 2) == DS_EINVAL && ds_trie_memory(&t) == with && t.cx);
            CHECK(ds_trie_complete_index(&t, 3, 0) == DS_OK && t.cx->k == 3 && t.cx->min == 2);
            lists = t.cx->lists;
            CHECK(ds_trie_complete_index(&t, 3, 1) == DS_OK && t.cx->lists == lists);
            CHECK(ds_trie_complete_index(&t, 3, 2) == DS_OK && t.cx->lists == lists && lists > 20000);
            CHECK(ds_trie_complete_index(&t, 10, 16) == DS_OK && ds_trie_memory(&t) == with);
        }
        CHECK(ds_trie_incr(&t, "zebra", 5, 1, NULL) == DS_OK && ds_trie_memory(&t) == mem); /* a write drops it */
    }
    mem_before = ds_trie_memory(&t);
    CHECK(mem_before > 0);
    ds_trie_free(&t);
    /* A split edge merges back on delete. */
    ds_trie_init(&t, NULL);
    CHECK(ds_trie_put(&t, "abcdef", 6, NULL, NULL) == DS_OK);
    mem_before = ds_trie_memory(&t);
    CHECK(ds_trie_put(&t, "abcxyz", 6, NULL, NULL) == DS_OK);
    CHECK(ds_trie_memory(&t) > mem_before);
    CHECK(ds_trie_del(&t, "abcxyz", 6, NULL) == DS_OK);
    CHECK(ds_trie_memory(&t) == mem_before);
    CHECK(ds_trie_put(&t, "ab\0cd", 5, NULL, NULL) == DS_OK && ds_trie_get(&t, "ab\0cd", 5) && !ds_trie_get(&t, "ab", 2));
    ds_trie_free(&t);
}

static int trie_top_score(void *ctx, const void *key, size_t len, double score, void *val) {
    (void)key;
    (void)len;
    (void)val;
    *(double *)ctx = score;
    return 0;
}
void test_trie_scores(void) {
    ds_trie t;
    ds_trie_init(&t, NULL);
    CHECK(ds_trie_put(&t, "a", 1, NULL, NULL) == DS_OK);
    CHECK(ds_trie_set_score(&t, "a", 1, -HUGE_VAL) == DS_EINVAL && ds_trie_set_score(&t, "a", 1, NAN) == DS_EINVAL);
    CHECK(ds_trie_incr(&t, "b", 1, HUGE_VAL, NULL) == DS_EINVAL && !ds_trie_get(&t, "b", 1));
    CHECK(ds_trie_set_score(&t, "a", 1, 1e308) == DS_OK && ds_trie_incr(&t, "a", 1, 1e308, NULL) == DS_EINVAL);
    CHECK(ds_trie_score(&t, "a", 1) == 1e308 && ds_trie_complete(&t, "", 0, 5, NULL, NULL) == 1);
    ds_trie_free(&t);
    { /* a put deeper than the path ds_trie_put records (48 levels): the
       * maxima of a chain of keys "a", "aa", ... at score -1 must all rise
       * to the new key's 0, so complete ranks it first from every prefix */
        char k[130];
        size_t i;
        memset(k, 'a', sizeof k);
        ds_trie_init(&t, NULL);
        for (i = 1; i <= 120; i++) CHECK(ds_trie_put_score(&t, k, i, NULL, -1.0, NULL) == DS_OK);
        for (i = 1; i <= 120; i += 7) { /* a leaf off the chain at depth i */
            char b = k[i];
            double top = -HUGE_VAL;
            k[i] = 'b';
            CHECK(ds_trie_put(&t, k, i + 1, NULL, NULL) == DS_OK);
            k[i] = b;
            CHECK(ds_trie_complete(&t, k, 1, 1, trie_top_score, &top) == 1 && top == 0.0);
            CHECK(ds_trie_complete(&t, k, i, 1, trie_top_score, &top) == 1 && top == 0.0);
        }
        CHECK(trie_shape_ok(&t, 1) == 0);
        ds_trie_free(&t);
    }
}

/* -- node shapes: fan-out growing to 256 and back, splits and merges,
 * failing allocations everywhere -- */

/* White-box: walk the nodes with the layout documented above ds__tnode in
 * src/trie.h, checking every stored child maximum is exact, the first
 * bytes sorted and matching, and the bytes adding up to ds_trie_memory.
 * tight: no allocation has failed, so every node has exactly the slots it
 * uses and a keyless node below the root has two children or more. */
#define TW_CAP 0x1ffu
#define TW_HAS 0x200u
#define TW_VAL 0x400u
static const unsigned char *tw_base(const ds__tnode *n) {
    return (const unsigned char *)(n + 1) + (n->bits & TW_VAL ? sizeof(void *) : 0);
}
static double tw_get(const unsigned char *p) {
    double d;
    memcpy(&d, p, sizeof d);
    return d;
}
/* entry: n's maximum as its parent holds it (a leaf's score). */
static int tw_check(const ds__tnode *n, int root, int tight, double entry, size_t *bytes, double *best) {
    unsigned cap = n->bits & TW_CAP, i, own = (n->bits & TW_VAL) && cap;
    const unsigned char *f = tw_base(n) + cap * sizeof(ds__tnode *), *label = f + cap;
    const unsigned char *kb = label + n->len + (own ? sizeof(double) : 0);
    double b = !(n->bits & TW_HAS) ? -HUGE_VAL : own ? tw_get(label + n->len) : entry;
    CHECK_OR(n->nkids <= cap && cap <= 256 && (root ? n->len == 0 && (cap || !(n->bits & TW_HAS)) : n->len > 0), 1);
    CHECK_OR(!(n->bits & TW_HAS) || (n->bits & TW_VAL), 1);
    if (tight)
        CHECK_OR((cap == n->nkids || (root && cap == 1 && !n->nkids)) && !(n->bits & TW_HAS) == !(n->bits & TW_VAL) &&
                     (root || (n->bits & TW_HAS) || n->nkids >= 2), 1);
    *bytes += sizeof *n + (n->bits & TW_VAL ? sizeof(void *) : 0) + (own ? sizeof(double) : 0) +
              cap * (sizeof(ds__tnode *) + 1 + sizeof(double)) + n->len;
    for (i = 0; i < n->nkids; i++) {
        const ds__tnode *c;
        const unsigned char *cf;
        double cb;
        memcpy(&c, tw_base(n) + i * sizeof c, sizeof c);
        cf = tw_base(c) + (c->bits & TW_CAP) * sizeof(ds__tnode *);
        CHECK_OR(i == 0 || f[i - 1] < f[i], 1);
        if (tw_check(c, 0, tight, tw_get(kb + i * sizeof(double)), bytes, &cb)) return 1;
        CHECK_OR(c->len > 0 && cf[c->bits & TW_CAP] == f[i], 1);
        CHECK_OR(tw_get(kb + i * sizeof(double)) == cb, 1);
        if (cb > b) b = cb;
    }
    *best = b;
    return 0;
}
static int trie_shape_ok(const ds_trie *t, int tight) {
    size_t bytes = 0;
    double b;
    if (t->cx) bytes += t->cx->bytes; /* ds_trie_complete_index's lists */
    if (!t->root) return ds_trie_memory(t) == bytes && ds_trie_len(t) == 0 ? 0 : 1;
    if (tw_check(t->root, 1, tight, 0, &bytes, &b)) return 1;
    CHECK_OR(bytes == ds_trie_memory(t), 1);
    return 0;
}

/* Keys whose bytes are a third of the time any byte, else 0, 'a' or 'b':
 * the root and the nodes below it reach a fan-out of 256 and shrink
 * again as keys leave. */
static size_t rand_key_wide(ds_rng *r, unsigned char *k) {
    static const unsigned char alpha[3] = {0, 'a', 'b'};
    size_t len = (size_t)ds_rng_below(r, 7), i;
    for (i = 0; i < len; i++) k[i] = ds_rng_below(r, 3) ? alpha[ds_rng_below(r, 3)] : (unsigned char)ds_rng_below(r, 256);
    return len;
}
typedef struct kcoll {
    tkey *e;
    size_t n, cap;
} kcoll;
static int kcoll_add(void *ctx, const void *key, size_t len, double score, void *val) {
    kcoll *c = (kcoll *)ctx;
    if (c->n < c->cap && len <= 12) {
        memcpy(c->e[c->n].b, key, len);
        c->e[c->n].len = len;
        c->e[c->n].score = score;
        c->e[c->n].val = (uintptr_t)val;
    }
    c->n++;
    return 0;
}
/* Everything the trie holds against the model: a full walk, and complete
 * (the subtree maxima) under the empty prefix and a one-byte one. A call
 * that met an injected allocation failure may stop early: not compared. */
static int trie_agrees(ds_trie *t, const tlist *l, prop_alloc *pa, unsigned char b0) {
    kcoll c;
    tkey *all;
    size_t i, j, m, kk, got, plen;
    long f0 = PROP_FAILS(pa);
    c.cap = l->n + 1;
    c.n = 0;
    c.e = (tkey *)malloc(c.cap * sizeof *c.e);
    all = (tkey *)malloc(c.cap * sizeof *all);
    CHECK_OR(c.e != NULL && all != NULL, 1);
    ds_trie_walk(t, NULL, 0, 0, kcoll_add, &c);
    CHECK_OR(c.n == l->n, 1);
    for (i = 0; i < l->n; i++)
        CHECK_OR(c.e[i].len == l->e[i].len && memcmp(c.e[i].b, l->e[i].b, c.e[i].len) == 0 &&
                     c.e[i].score == l->e[i].score && c.e[i].val == l->e[i].val, 1);
    for (plen = 0; plen < 2; plen++) {
        for (i = 0, m = 0; i < l->n; i++)
            if (l->e[i].len >= plen && (!plen || l->e[i].b[0] == b0)) all[m++] = l->e[i];
        for (i = 1; i < m; i++)
            for (j = i; j > 0 && brute_before(&all[j], &all[j - 1]); j--) {
                tkey tmp = all[j];
                all[j] = all[j - 1];
                all[j - 1] = tmp;
            }
        kk = 7;
        c.n = 0;
        got = ds_trie_complete(t, &b0, plen, kk, kcoll_add, &c);
        if (PROP_FAILS(pa) != f0) break; /* the frontier could not grow */
        CHECK_OR(got == (m < kk ? m : kk) && c.n == got, 1);
        for (i = 0; i < got; i++)
            CHECK_OR(c.e[i].len == all[i].len && memcmp(c.e[i].b, all[i].b, all[i].len) == 0 && c.e[i].score == all[i].score, 1);
    }
    free(c.e);
    free(all);
    return 0;
}
/* A model run where any allocation may fail: a failed put, incr or
 * put_score leaves the trie as it was (same keys, scores, bytes); a del
 * whose merge or shrink cannot allocate still deletes, and every subtree
 * maximum stays exact. ds_trie_memory is always the allocator's count. */
static int trie_oom_model(uint64_t seed, prop_alloc *pa) {
    ds_trie t;
    ds_rng r;
    tlist *l = (tlist *)calloc(1, sizeof *l);
    int step;
    CHECK_OR(l != NULL, 1);
    ds_trie_init(&t, &pa->a);
    ds_rng_seed(&r, seed);
    for (step = 0; step < 400; step++) {
        unsigned char k[12];
        size_t len = rand_key_wide(&r, k), pos, n = ds_trie_len(&t);
        long at = tl_find(l, k, len, &pos), before = PROP_FAILS(pa);
        int op = (int)ds_rng_below(&r, 100), is_new = -1;
        uintptr_t v = (uintptr_t)ds_rng_next(&r);
        double d = (double)ds_rng_below(&r, 7) - 3, sc = 0;
        ds_status st;
        if (op < 45) st = ds_trie_put(&t, k, len, (void *)v, &is_new);
        else if (op < 70) st = ds_trie_del(&t, k, len, NULL);
        else if (op < 85) st = ds_trie_incr(&t, k, len, d, &sc);
        else if (op < 93) st = ds_trie_set_score(&t, k, len, d);
        else st = ds_trie_put_score(&t, k, len, (void *)v, d, &is_new);
        if (st == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && ds_trie_len(&t) == n && (ds_trie_get(&t, k, len) != NULL) == (at >= 0), 1);
            CHECK_OR(at < 0 || (ds_trie_score(&t, k, len) == l->e[at].score && (uintptr_t)*ds_trie_get(&t, k, len) == l->e[at].val), 1);
            if (t.cx && trie_agrees(&t, l, pa, len ? k[0] : 'a')) return 1; /* the lists survive a failed write */
        } else if (op < 45 || op >= 93) { /* put, put_score */
            CHECK_OR(st == DS_OK && is_new == (at < 0), 1);
            if (at < 0) {
                memmove(&l->e[pos + 1], &l->e[pos], (l->n - pos) * sizeof l->e[0]);
                memcpy(l->e[pos].b, k, len);
                l->e[pos].len = len;
                l->e[pos].score = 0;
                l->n++;
                at = (long)pos;
            }
            l->e[at].val = v;
            if (op >= 93) l->e[at].score = d;
        } else if (op < 70) { /* del */
            CHECK_OR(st == (at >= 0 ? DS_OK : DS_ENOTFOUND), 1);
            if (at >= 0) {
                memmove(&l->e[at], &l->e[at + 1], (l->n - (size_t)at - 1) * sizeof l->e[0]);
                l->n--;
            }
        } else if (op < 85) { /* incr */
            CHECK_OR(st == DS_OK, 1);
            if (at < 0) {
                memmove(&l->e[pos + 1], &l->e[pos], (l->n - pos) * sizeof l->e[0]);
                memcpy(l->e[pos].b, k, len);
                l->e[pos].len = len;
                l->e[pos].score = 0;
                l->e[pos].val = 0;
                l->n++;
                at = (long)pos;
            }
            l->e[at].score += d;
            CHECK_OR(sc == l->e[at].score, 1);
        } else { /* set_score */
            CHECK_OR(st == (at >= 0 ? DS_OK : DS_ENOTFOUND), 1);
            if (at >= 0) l->e[at].score = d;
        }
        if ((step % 50 == 49 || step % 8 == 3) && ds_rng_below(&r, 2)) { /* a failed build keeps the old lists */
            size_t mem = ds_trie_memory(&t);
            long b2 = PROP_FAILS(pa);
            st = ds_trie_complete_index(&t, 7 + (size_t)ds_rng_below(&r, 2), (size_t)ds_rng_below(&r, 5));
            CHECK_OR(st == DS_OK || (st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, b2) && ds_trie_memory(&t) == mem), 1);
        }
        CHECK_OR(ds_trie_len(&t) == l->n && ds_trie_memory(&t) == pa->live_bytes, 1);
        CHECK_OR(trie_shape_ok(&t, pa->fails == 0) == 0, 1);
        if (step % 50 == 49 && trie_agrees(&t, l, pa, len ? k[0] : 'a')) return 1;
    }
    if (trie_agrees(&t, l, pa, 'a')) return 1;
    ds_trie_free(&t);
    free(l);
    return 0;
}
void test_trie_shapes(void) {
    long total = 0;
    uint64_t seed;
    ds_trie t;
    unsigned i;
    for (seed = 1; seed <= 3; seed++) CHECK(prop_oom_sweep(trie_oom_model, seed, &total) == 0 && total > 100);
    /* Fan-out 256 at the root and under "\xff\xff", then back to nothing. */
    ds_trie_init(&t, NULL);
    for (i = 0; i < 512; i++) {
        unsigned char k[3] = {(unsigned char)i, 'q', 0};
        if (i >= 256) k[0] = k[1] = 0xff, k[2] = (unsigned char)i;
        CHECK(ds_trie_put_score(&t, k, i < 256 ? 2 : 3, NULL, (double)(i * 7 % 512), NULL) == DS_OK);
        if (i % 32 == 31) CHECK(trie_shape_ok(&t, 1) == 0);
    }
    CHECK(ds_trie_len(&t) == 512 && trie_shape_ok(&t, 1) == 0);
    {
        got g;
        double top = 0;
        for (i = 256; i < 512; i++)
            if ((double)(i * 7 % 512) > top) top = (double)(i * 7 % 512);
        memset(&g, 0, sizeof g);
        CHECK(ds_trie_complete(&t, "\xff\xff", 2, 3, collect, &g) == 3 && g.score[0] == top);
    }
    for (i = 0; i < 512; i++) {
        unsigned char k[3] = {(unsigned char)(i * 37 % 256), 'q', 0};
        if (i >= 256) k[0] = k[1] = 0xff, k[2] = (unsigned char)(i * 37 % 256);
        CHECK(ds_trie_del(&t, k, i < 256 ? 2 : 3, NULL) == DS_OK);
        if (i % 32 == 31) CHECK(trie_shape_ok(&t, 1) == 0);
    }
    CHECK(ds_trie_len(&t) == 0 && ds_trie_memory(&t) == 0);
    ds_trie_free(&t);
    { /* a chain of 1000 nested keys ("a", "aa", ...): the index walks it with its own stack */
        static unsigned char k[1000];
        size_t n, j, want[4] = {0, 0, 0, 0};
        memset(k, 'a', sizeof k);
        ds_trie_init(&t, NULL);
        for (n = 1; n <= sizeof k; n++) CHECK(ds_trie_put_score(&t, k, n, NULL, (double)(n * 7919 % 1009), NULL) == DS_OK);
        for (n = 500; n <= sizeof k; n++) /* the top 4 under the 500-byte prefix (distinct scores) */
            for (j = 0; j < 4; j++)
                if (!want[j] || n * 7919 % 1009 > want[j] * 7919 % 1009) {
                    memmove(&want[j + 1], &want[j], (3 - j) * sizeof want[0]);
                    want[j] = n;
                    break;
                }
        for (n = 0; n < 2; n++) {
            tlens g;
            memset(&g, 0, sizeof g);
            if (n) CHECK(ds_trie_complete_index(&t, 4, 2) == DS_OK && t.cx->lists == sizeof k); /* the root and every key but the last */
            CHECK(ds_trie_complete(&t, k, 500, 4, collect_len, &g) == 4);
            for (j = 0; j < 4; j++) CHECK(g.len[j] == want[j] && g.score[j] == (double)(want[j] * 7919 % 1009));
        }
        ds_trie_free(&t);
    }
}
