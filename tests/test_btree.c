/* tests/test_btree.c - DS_BTREE against a sorted-array model.
 *
 * Two instantiations: uint64 -> uint64 (16 entries a node), and fat keys and
 * values that force the minimum fan-out of 4, so random sequences split,
 * borrow and merge at every level many times over. */
#include "prop.h"

DS_BTREE(bt64, uint64_t, uint64_t, ds_cmp_u64)

typedef struct fatkey {
    uint32_t k;
    char pad[60];
} fatkey;
typedef struct fatval {
    uint32_t v;
    char pad[60];
} fatval;
static int fat_cmp(fatkey a, fatkey b) { return (a.k > b.k) - (a.k < b.k); }
DS_BTREE(btfat, fatkey, fatval, fat_cmp)

static fatkey FK(uint32_t k) {
    fatkey f;
    memset(&f, 0, sizeof f);
    f.k = k;
    return f;
}
static fatval FV(uint32_t v) {
    fatval f;
    memset(&f, 0, sizeof f);
    f.v = v;
    return f;
}

/* The model: sorted keys with values. */
typedef struct bmodel {
    uint32_t k[4096], v[4096];
    size_t n;
} bmodel;
static size_t bm_lb(const bmodel *m, uint32_t k) {
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->k[mid] < k) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* The tree itself: no NULL children, all leaves at one depth, every key
 * inside its separators' bounds. Returns the number of keys, or -1. */
static long bt_walk(const void *n, unsigned h, int has_lo, uint32_t lo, int has_hi, uint32_t hi) {
    unsigned i;
    long sum = 0;
    if (!n) return -1;
    if (h == 0) {
        const btfat__leaf *l = (const btfat__leaf *)n;
        for (i = 0; i < l->n; i++) {
            if ((has_lo && l->keys[i].k < lo) || (has_hi && l->keys[i].k >= hi)) return -1;
            if (i && l->keys[i - 1].k >= l->keys[i].k) return -1;
        }
        return (long)l->n;
    } else {
        const btfat__inner *in = (const btfat__inner *)n;
        for (i = 0; i <= in->n; i++) {
            long c = bt_walk(in->kids[i], h - 1, i ? 1 : has_lo, i ? in->keys[i - 1].k : lo,
                             i < in->n ? 1 : has_hi, i < in->n ? in->keys[i].k : hi);
            if (c < 0) return -1;
            sum += c;
        }
        return sum;
    }
}

/* Every structural invariant a walk can see: sorted leaves, len, links,
 * and that every key is found by get. */
static int bt_check(const btfat *t, const bmodel *m) {
    size_t i = 0;
    btfat_it it;
    if (t->root) CHECK_OR(bt_walk(t->root, t->height, 0, 0, 0, 0) == (long)m->n, 0);
    CHECK_OR(btfat_len(t) == m->n, 0);
    for (it = btfat_first(t); btfat_it_valid(it); it = btfat_it_next(it), i++) {
        CHECK_OR(i < m->n && btfat_it_key(it)->k == m->k[i] && btfat_it_val(it)->v == m->v[i], 0);
    }
    CHECK_OR(i == m->n, 0);
    i = m->n;
    for (it = btfat_last(t); btfat_it_valid(it); it = btfat_it_prev(it)) {
        CHECK_OR(i > 0 && btfat_it_key(it)->k == m->k[i - 1], 0);
        i--;
    }
    CHECK_OR(i == 0, 0);
    return 1;
}

static void btree_case(ds_rng *rng, uint64_t seed) {
    btfat t;
    bmodel *m = (bmodel *)calloc(1, sizeof *m);
    uint32_t range = 50 + (uint32_t)ds_rng_below(rng, 3000);
    int step;
    (void)seed;
    CHECK(m != NULL);
    btfat_init(&t);
    for (step = 0; step < 4000; step++) {
        uint32_t k = (uint32_t)ds_rng_below(rng, range), v = (uint32_t)ds_rng_next(rng);
        size_t p = bm_lb(m, k);
        int found = p < m->n && m->k[p] == k, op = (int)ds_rng_below(rng, 100);
        if (m->n > 3000) op = 50; /* keep within the model's room: delete */
        if (op < 35) { /* put */
            int is_new = -1;
            CHECK(btfat_put(&t, FK(k), FV(v), &is_new) == DS_OK && is_new == !found);
            if (!found) {
                memmove(&m->k[p + 1], &m->k[p], (m->n - p) * 4);
                memmove(&m->v[p + 1], &m->v[p], (m->n - p) * 4);
                m->k[p] = k;
                m->n++;
            }
            m->v[p] = v;
        } else if (op < 40) { /* insert refuses duplicates */
            ds_status s = btfat_insert(&t, FK(k), FV(v));
            CHECK(s == (found ? DS_EEXIST : DS_OK));
            if (!found) {
                memmove(&m->k[p + 1], &m->k[p], (m->n - p) * 4);
                memmove(&m->v[p + 1], &m->v[p], (m->n - p) * 4);
                m->k[p] = k;
                m->v[p] = v;
                m->n++;
            }
        } else if (op < 48) { /* append in order (the fast path) */
            uint32_t nk = m->n ? m->k[m->n - 1] + 1 + (uint32_t)ds_rng_below(rng, 3) : k;
            CHECK(btfat_put(&t, FK(nk), FV(v), NULL) == DS_OK);
            m->k[m->n] = nk;
            m->v[m->n++] = v;
        } else if (op < 75) { /* del */
            fatval out;
            ds_status s = btfat_del(&t, FK(k), &out);
            if (!found) {
                CHECK(s == DS_ENOTFOUND);
            } else {
                CHECK(s == DS_OK && out.v == m->v[p]);
                memmove(&m->k[p], &m->k[p + 1], (m->n - p - 1) * 4);
                memmove(&m->v[p], &m->v[p + 1], (m->n - p - 1) * 4);
                m->n--;
            }
        } else if (op < 80) { /* pop either end */
            fatkey pk;
            fatval pv;
            int last = (int)ds_rng_below(rng, 2);
            ds_status s = last ? btfat_pop_last(&t, &pk, &pv) : btfat_pop_first(&t, &pk, &pv);
            if (!m->n) {
                CHECK(s == DS_EEMPTY);
            } else {
                size_t at = last ? m->n - 1 : 0;
                CHECK(s == DS_OK && pk.k == m->k[at] && pv.v == m->v[at]);
                memmove(&m->k[at], &m->k[at + 1], (m->n - at - 1) * 4);
                memmove(&m->v[at], &m->v[at + 1], (m->n - at - 1) * 4);
                m->n--;
            }
        } else if (op < 95) { /* bounds and get */
            btfat_it lb = btfat_lower_bound(&t, FK(k)), ub = btfat_upper_bound(&t, FK(k)),
                     fl = btfat_floor(&t, FK(k));
            size_t u = found ? p + 1 : p;
            fatval *g = btfat_get(&t, FK(k));
            CHECK(found ? (g && g->v == m->v[p]) : g == NULL);
            CHECK(p < m->n ? (btfat_it_valid(lb) && btfat_it_key(lb)->k == m->k[p]) : !btfat_it_valid(lb));
            CHECK(u < m->n ? (btfat_it_valid(ub) && btfat_it_key(ub)->k == m->k[u]) : !btfat_it_valid(ub));
            CHECK(u > 0 ? (btfat_it_valid(fl) && btfat_it_key(fl)->k == m->k[u - 1]) : !btfat_it_valid(fl));
            { /* range [k, k + span) */
                uint32_t hi = k + (uint32_t)ds_rng_below(rng, 40);
                size_t j = p, cnt = 0;
                btfat_it it;
                for (it = lb; btfat_it_valid(it) && btfat_it_key(it)->k < hi; it = btfat_it_next(it), j++, cnt++)
                    CHECK(j < m->n && btfat_it_key(it)->k == m->k[j]);
                CHECK(j == bm_lb(m, hi));
            }
        } else if (op < 97) { /* clear, then bulk load the model back */
            fatkey *ks = (fatkey *)malloc((m->n + 1) * sizeof *ks);
            fatval *vs = (fatval *)malloc((m->n + 1) * sizeof *vs);
            size_t j;
            CHECK(ks && vs);
            for (j = 0; j < m->n; j++) {
                ks[j] = FK(m->k[j]);
                vs[j] = FV(m->v[j]);
            }
            btfat_clear(&t);
            CHECK(btfat_bulk_load(&t, ks, vs, m->n) == DS_OK);
            if (m->n > 1) CHECK(btfat_bulk_load(&t, ks, vs, m->n) == DS_EINVAL); /* not empty */
            free(ks);
            free(vs);
        } else { /* unsorted bulk input is refused */
            btfat e;
            fatkey ks[2];
            fatval vs[2];
            ks[0] = FK(5);
            ks[1] = FK(5);
            vs[0] = vs[1] = FV(0);
            btfat_init(&e);
            CHECK(btfat_bulk_load(&e, ks, vs, 2) == DS_EINVAL && btfat_len(&e) == 0);
            btfat_free(&e);
        }
        CHECKF(bt_check(&t, m), "step %d op %d", step, op);
    }
    CHECK(bt_check(&t, m));
    btfat_free(&t);
    free(m);
}
void test_btree_model(void) { prop_run("btree_model", btree_case, 40); }

/* Allocation failure: a put that needs a split chain changes nothing. */
static int btree_oom_seq(uint64_t seed, prop_alloc *pa) {
    btfat t;
    ds_rng r;
    int step;
    btfat_init_alloc(&t, &pa->a);
    ds_rng_seed(&r, seed);
    for (step = 0; step < 300; step++) {
        uint32_t k = (uint32_t)ds_rng_below(&r, 500);
        size_t len = btfat_len(&t);
        int had = btfat_has(&t, FK(k));
        long before = PROP_FAILS(pa);
        ds_status s = ds_rng_below(&r, 4) ? btfat_put(&t, FK(k), FV(k), NULL) : btfat_del(&t, FK(k), NULL);
        if (s == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            CHECK_OR(btfat_len(&t) == len && btfat_has(&t, FK(k)) == had, 1);
        } else {
            CHECK_OR(s == DS_OK || s == DS_ENOTFOUND, 1);
        }
    }
    {
        fatkey ks[300];
        fatval vs[300];
        size_t j;
        long before = PROP_FAILS(pa);
        btfat b;
        ds_status s;
        for (j = 0; j < 300; j++) {
            ks[j] = FK((uint32_t)j * 2);
            vs[j] = FV((uint32_t)j);
        }
        btfat_init_alloc(&b, &pa->a);
        s = btfat_bulk_load(&b, ks, vs, 300);
        CHECK_OR(s == DS_OK || (s == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, before) && btfat_len(&b) == 0), 1);
        btfat_free(&b);
    }
    btfat_free(&t);
    return 0;
}
void test_btree_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(btree_oom_seq, 4, &total) == 0);
    CHECK(total > 20);
}

/* Larger: a million keys in random order, then in order; height and
 * memory stay sane, every key is found, iteration is sorted. */
void test_btree_large(void) {
    bt64 t;
    uint64_t i, n = 200000, prev = 0, cnt = 0;
    bt64_it it;
    bt64_init(&t);
    for (i = 0; i < n; i++) CHECK(bt64_put(&t, ds_mix64(i), i, NULL) == DS_OK);
    CHECK(bt64_len(&t) == n && t.height <= 6);
    for (i = 0; i < n; i++) CHECK(*bt64_get(&t, ds_mix64(i)) == i);
    for (it = bt64_first(&t); bt64_it_valid(it); it = bt64_it_next(it), cnt++) {
        CHECK(cnt == 0 || *bt64_it_key(it) > prev);
        prev = *bt64_it_key(it);
    }
    CHECK(cnt == n);
    for (i = 0; i < n; i++) CHECK(bt64_del(&t, ds_mix64(i), NULL) == DS_OK);
    CHECK(bt64_len(&t) == 0 && t.root == NULL && bt64_memory(&t) == 0);
    /* In order: the append path fills leaves completely. */
    for (i = 0; i < n; i++) CHECK(bt64_put(&t, i, i, NULL) == DS_OK);
    CHECKF(t.leaves <= n / 16 + 1, "%zu leaves for %llu in-order keys", t.leaves, (unsigned long long)n);
    CHECK(*bt64_it_key(bt64_floor(&t, n + 5)) == n - 1 && !bt64_it_valid(bt64_upper_bound(&t, n)));
    bt64_free(&t);
    CHECK(bt64_get(NULL, 1) == NULL && bt64_put(NULL, 1, 1, NULL) == DS_EINVAL && bt64_len(NULL) == 0);
}
