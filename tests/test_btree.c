/* tests/test_btree.c - DS_BTREE against a sorted-array model.
 *
 * Two instantiations: uint64 -> uint64 (64 entries a node), and fat keys and
 * values (256 bytes each, more than a 1 KiB node takes four of) that force
 * the minimum fan-out of 4, so random sequences split, borrow and merge at
 * every level many times over. */
#include "prop.h"
#include <math.h>

DS_BTREE(bt64, uint64_t, uint64_t, ds_cmp_u64)

typedef struct fatkey {
    uint32_t k;
    char pad[252];
} fatkey;
typedef struct fatval {
    uint32_t v;
    char pad[252];
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
    CHECK(btfat__LCAP == 4 && btfat__ICAP == 4); /* the premise: minimum fan-out */
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
        size_t mem0 = btfat_memory(&t);
        ds_status s = ds_rng_below(&r, 4) ? btfat_put(&t, FK(k), FV(k), NULL) : btfat_del(&t, FK(k), NULL);
        if (s == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            CHECK_OR(btfat_len(&t) == len && btfat_has(&t, FK(k)) == had && btfat_memory(&t) == mem0, 1);
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
    CHECK(bt64__LCAP == 64 && bt64__ICAP == 64); /* 1 KiB nodes */
    for (i = 0; i < n; i++) CHECK(bt64_put(&t, ds_mix64(i), i, NULL) == DS_OK);
    CHECK(bt64_len(&t) == n && t.height >= 2 && t.height <= 3);
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
    CHECKF(t.leaves <= n / bt64__LCAP + 1, "%zu leaves for %llu in-order keys", t.leaves, (unsigned long long)n);
    /* ... and the inner nodes >= 90% (issue 19; they were half full): the
     * separators, leaves - 1 in all, against inners x ICAP slots. */
    CHECKF((double)(t.leaves - 1) >= 0.9 * (double)t.inners * bt64__ICAP, "in order: %zu leaves, %zu inners of %d",
           t.leaves, t.inners, (int)bt64__ICAP);
    {
        bt64 b;
        uint64_t *ks = (uint64_t *)malloc(n * sizeof *ks);
        CHECK(ks != NULL);
        for (i = 0; i < n; i++) ks[i] = 3 * i;
        bt64_init(&b);
        CHECK(bt64_bulk_load(&b, ks, ks, n) == DS_OK);
        CHECK(b.leaves <= n / bt64__LCAP + 1 && (double)(b.leaves - 1) >= 0.9 * (double)b.inners * bt64__ICAP);
        for (i = 0; i < n; i += 97) CHECK(*bt64_get(&b, 3 * i) == 3 * i && !bt64_has(&b, 3 * i + 1));
        bt64_free(&b);
        free(ks);
    }
    CHECK(*bt64_it_key(bt64_floor(&t, n + 5)) == n - 1 && !bt64_it_valid(bt64_upper_bound(&t, n)));
    bt64_free(&t);
    CHECK(bt64_get(NULL, 1) == NULL && bt64_put(NULL, 1, 1, NULL) == DS_EINVAL && bt64_len(NULL) == 0);
}

/* ---- DS_TSTORE -------------------------------------------------------------- */

/* Every truncation and every single-bit flip of a saved image must load as
 * DS_ECORRUPT. `load` loads into a scratch object and frees it on success. */
typedef ds_status (*image_load_fn)(ds_reader *r);
static int image_rejected(unsigned char *img, size_t len, image_load_fn load) {
    size_t i;
    for (i = 0; i < len; i++) {
        ds_memsrc src;
        ds_reader r = ds_mem_reader(&src, img, i);
        CHECK_OR(load(&r) == DS_ECORRUPT, 0);
    }
    for (i = 0; i < len * 8; i++) {
        ds_memsrc src;
        ds_reader r;
        ds_status st;
        img[i / 8] ^= (unsigned char)(1u << (i % 8));
        r = ds_mem_reader(&src, img, len);
        st = load(&r);
        img[i / 8] ^= (unsigned char)(1u << (i % 8));
        CHECK_OR(st == DS_ECORRUPT, 0);
    }
    return 1;
}


typedef struct reading {
    double celsius;
    uint32_t sensor;
} reading;
DS_TSTORE(tseries, reading)

static double reading_value(const reading *r) { return r->celsius; }
static reading RD(double c, uint32_t s) {
    reading r;
    memset(&r, 0, sizeof r);
    r.celsius = c;
    r.sensor = s;
    return r;
}

typedef struct tmodel {
    int64_t ts[2048];
    double v[2048];
    size_t n;
} tmodel;
static size_t tm_lb(const tmodel *m, int64_t t) {
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->ts[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
}
static void tm_insert(tmodel *m, size_t p, int64_t t, double v) {
    memmove(&m->ts[p + 1], &m->ts[p], (m->n - p) * sizeof m->ts[0]);
    memmove(&m->v[p + 1], &m->v[p], (m->n - p) * sizeof m->v[0]);
    m->ts[p] = t;
    m->v[p] = v;
    m->n++;
}
static void tm_erase(tmodel *m, size_t p) {
    memmove(&m->ts[p], &m->ts[p + 1], (m->n - p - 1) * sizeof m->ts[0]);
    memmove(&m->v[p], &m->v[p + 1], (m->n - p - 1) * sizeof m->v[0]);
    m->n--;
}

static void tstore_case(ds_rng *rng, uint64_t seed) {
    tseries s;
    tmodel *m = (tmodel *)calloc(1, sizeof *m);
    int64_t now = 1000;
    int step;
    (void)seed;
    CHECK(m != NULL);
    tseries_init(&s);
    for (step = 0; step < 3000; step++) {
        int op = (int)ds_rng_below(rng, 100);
        int64_t t = now - (int64_t)ds_rng_below(rng, 300); /* mostly recent, some out of order */
        double v = (double)ds_rng_below(rng, 1000) / 10.0;
        size_t p = tm_lb(m, t);
        int found = p < m->n && m->ts[p] == t;
        if (m->n > 1800) op = 60;
        if (op < 30) { /* add: collisions refused */
            CHECK(tseries_insert(&s, t, RD(v, 1)) == (found ? DS_EEXIST : DS_OK));
            if (!found) tm_insert(m, p, t, v);
        } else if (op < 40) { /* in-order arrival */
            if (m->n && m->ts[m->n - 1] > now) now = m->ts[m->n - 1]; /* add_unique may have gone past */
            now += 1 + (int64_t)ds_rng_below(rng, 3);
            CHECK(tseries_insert(&s, now, RD(v, 2)) == DS_OK);
            tm_insert(m, m->n, now, v);
        } else if (op < 50) { /* add_unique within an offset */
            int64_t off = (int64_t)ds_rng_below(rng, 4), used = -1, c = t;
            size_t q = p;
            ds_status st = tseries_insert_unique(&s, t, RD(v, 3), off, &used);
            while (q < m->n && m->ts[q] == c && c <= t + off) {
                q++;
                c++;
            }
            if (c > t + off) {
                CHECK(st == DS_EFULL);
            } else {
                CHECK(st == DS_OK && used == c);
                tm_insert(m, tm_lb(m, c), c, v);
            }
        } else if (op < 60) { /* remove */
            reading out;
            ds_status st = tseries_del(&s, t, &out);
            CHECK(st == (found ? DS_OK : DS_ENOTFOUND));
            if (found) {
                CHECK(out.celsius == m->v[p]);
                tm_erase(m, p);
            }
        } else if (op < 75) { /* range and duration */
            int64_t a = t, b = t + (int64_t)ds_rng_below(rng, 60) - 10; /* sometimes inverted */
            int64_t ts_out[64];
            reading vs[64];
            size_t n = tseries_range(&s, a, b, ts_out, vs, 64), want = 0, j;
            if (b >= a) want = tm_lb(m, b + 1) - tm_lb(m, a);
            CHECK(n == want);
            for (j = 0; j < n && j < 64; j++)
                CHECK(ts_out[j] == m->ts[tm_lb(m, a) + j] && vs[j].celsius == m->v[tm_lb(m, a) + j]);
            n = tseries_duration(&s, 50, now, NULL, NULL, 0);
            CHECK(n == tm_lb(m, now + 1) - tm_lb(m, now - 50));
        } else if (op < 82) { /* earliest / latest / value_at */
            int64_t e;
            reading *rv;
            if (!m->n) {
                CHECK(tseries_earliest(&s, &e, &rv) == DS_EEMPTY && tseries_latest(&s, &e, &rv) == DS_EEMPTY);
            } else {
                CHECK(tseries_earliest(&s, &e, &rv) == DS_OK && e == m->ts[0] && rv->celsius == m->v[0]);
                CHECK(tseries_latest(&s, &e, &rv) == DS_OK && e == m->ts[m->n - 1]);
            }
            rv = tseries_value_at(&s, t);
            CHECK(found ? (rv && rv->celsius == m->v[p]) : rv == NULL);
        } else if (op < 86) { /* pop_earliest */
            int64_t e;
            reading out;
            ds_status st = tseries_pop_earliest(&s, &e, &out);
            if (!m->n) CHECK(st == DS_EEMPTY);
            else {
                CHECK(st == DS_OK && e == m->ts[0] && out.celsius == m->v[0]);
                tm_erase(m, 0);
            }
        } else if (op < 89) { /* retention */
            int64_t cut = now - 200;
            size_t k = tm_lb(m, cut), j;
            CHECK(tseries_expire_before(&s, cut) == k);
            for (j = 0; j < k; j++) tm_erase(m, 0);
        } else if (op < 95) { /* bucket aggregation vs brute force */
            ds_tbucket bk[8];
            int64_t a = now - 400, w = 1 + (int64_t)ds_rng_below(rng, 80), end = a + 8 * w - (int64_t)ds_rng_below(rng, (uint64_t)w);
            size_t nb = tseries_aggregate(&s, a, end, w, reading_value, bk, 8), b, j;
            CHECK(nb == (size_t)((end - a + w - 1) / w));
            for (b = 0; b < nb; b++) {
                uint64_t cnt = 0;
                double sum = 0, mn = 0, mx = 0;
                int64_t lo = a + (int64_t)b * w, hi = lo + w < end ? lo + w : end;
                for (j = tm_lb(m, lo); j < m->n && m->ts[j] < hi; j++) {
                    if (!cnt || m->v[j] < mn) mn = m->v[j];
                    if (!cnt || m->v[j] > mx) mx = m->v[j];
                    sum += m->v[j];
                    cnt++;
                }
                CHECKF(bk[b].start == lo && bk[b].count == cnt && bk[b].min == mn && bk[b].max == mx &&
                           fabs(bk[b].sum - sum) < 1e-9,
                       "bucket %zu: count %llu want %llu", b, (unsigned long long)bk[b].count, (unsigned long long)cnt);
            }
        } else { /* save, load, compare */
            ds_membuf mb;
            ds_memsrc src;
            ds_reader r;
            tseries u;
            tseries_it a, b;
            ds_membuf_init(&mb, NULL);
            CHECK(tseries_save(&s, ds_membuf_writer(&mb)) == DS_OK);
            r = ds_mem_reader(&src, mb.data, mb.len);
            CHECK(tseries_load(&u, &r, NULL) == DS_OK && tseries_len(&u) == m->n);
            for (a = tseries_first(&s), b = tseries_first(&u); tseries_it_valid(a);
                 a = tseries_it_next(a), b = tseries_it_next(b))
                CHECK(tseries_it_valid(b) && tseries_it_ts(a) == tseries_it_ts(b) &&
                      tseries_it_val(a)->celsius == tseries_it_val(b)->celsius);
            CHECK(!tseries_it_valid(b));
            tseries_free(&u);
            ds_membuf_free(&mb);
        }
        CHECK(tseries_len(&s) == m->n && tseries_is_empty(&s) == (m->n == 0));
    }
    tseries_free(&s);
    free(m);
}
void test_tstore_model(void) { prop_run("tstore_model", tstore_case, 30); }

static ds_status tseries_try_load(ds_reader *r) {
    tseries u;
    ds_status st = tseries_load(&u, r, NULL);
    if (st == DS_OK) tseries_free(&u);
    return st;
}
void test_tstore_edges(void) {
    tseries s;
    int64_t ts[5] = {10, 20, 30, 40, 50}, used;
    reading vs[5];
    size_t added, i;
    ds_membuf mb;
    for (i = 0; i < 5; i++) vs[i] = RD((double)i, 0);
    tseries_init(&s);
    /* Sorted batch into an empty store: bulk-loaded. */
    CHECK(tseries_insert_batch(&s, ts, vs, 5, &added) == DS_OK && added == 5 && tseries_len(&s) == 5);
    /* Unsorted batch with collisions: the new ones go in. */
    {
        int64_t t2[3] = {35, 20, 5};
        CHECK(tseries_insert_batch(&s, t2, vs, 3, &added) == DS_OK && added == 2 && tseries_len(&s) == 7);
    }
    CHECK(tseries_insert_unique(&s, 20, vs[0], 0, &used) == DS_EFULL);
    CHECK(tseries_insert_unique(&s, 20, vs[0], 1, &used) == DS_OK && used == 21);
    CHECK(tseries_insert_unique(&s, 1, vs[0], -1, &used) == DS_EINVAL);
    CHECK(tseries_insert_unique(&s, INT64_MAX, vs[0], 5, &used) == DS_EINVAL);
    CHECK(tseries_range(&s, 30, 10, NULL, NULL, 0) == 0);            /* inverted: empty */
    CHECK(tseries_range(&s, 11, 19, NULL, NULL, 0) == 0);            /* between keys */
    CHECK(tseries_range(&s, 20, 21, NULL, NULL, 0) == 2);            /* bounds inclusive */
    CHECK(tseries_range(&s, INT64_MIN, INT64_MAX, NULL, NULL, 0) == 8);
    CHECK(tseries_duration(&s, 10, 50, NULL, NULL, 0) == 2);        /* 40, 50 */
    CHECK(tseries_aggregate(&s, 0, 60, 0, reading_value, NULL, 0) == 0);
    CHECK(tseries_it_ts(tseries_seek(&s, 36)) == 40);
    /* Corrupt and truncated images. */
    ds_membuf_init(&mb, NULL);
    CHECK(tseries_save(&s, ds_membuf_writer(&mb)) == DS_OK);
    CHECK(image_rejected(mb.data, mb.len, tseries_try_load));
    ds_membuf_free(&mb);
    tseries_free(&s);
    CHECK(tseries_insert(NULL, 1, vs[0]) == DS_EINVAL && tseries_len(NULL) == 0);
}

/* ---- DS_TSTORE's own paths: the in-order append into the last leaf, the
 * descent and range scan (leaf at a time, forward scan for the end), and
 * value_at. Checked against a sorted array with three value sizes, so three
 * leaf capacities: double (64 a leaf), char (113) and reading (42). */
DS_TSTORE(tsd, double)
DS_TSTORE(tsc, char)

typedef struct tsmodel {
    int64_t *ts;
    double *v;
    size_t n;
} tsmodel;
static size_t tsm_lb(const tsmodel *m, int64_t t) {
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->ts[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
}
/* range(a, b) with capacity cap, value_at of a, against the model. */
static int tsd_range_ok(const tsd *s, const tsmodel *m, int64_t a, int64_t b, size_t cap, int64_t *tb,
                        double *vb) {
    size_t lo = tsm_lb(m, a), want = 0, got, j;
    double *pv;
    if (b >= a) want = (b == INT64_MAX ? m->n : tsm_lb(m, b + 1)) - lo;
    tb[cap] = -7; /* past the room: must stay untouched (buffers hold m->n + 1) */
    vb[cap] = -7.0;
    got = tsd_range(s, a, b, tb, vb, cap);
    CHECK_OR(got == want && tb[cap] == -7 && vb[cap] == -7.0, 0);
    for (j = 0; j < got && j < cap; j++) CHECK_OR(tb[j] == m->ts[lo + j] && vb[j] == m->v[lo + j], 0);
    CHECK_OR(tsd_range(s, a, b, NULL, vb, cap) == want && tsd_range(s, a, b, tb, NULL, cap) == want, 0);
    pv = tsd_value_at(s, a);
    CHECK_OR(lo < m->n && m->ts[lo] == a ? (pv && *pv == m->v[lo]) : pv == NULL, 0);
    return 1;
}
/* Ranges starting and ending on, before and after every leaf boundary of
 * an in-order load (leaves full: boundaries at multiples of the capacity)
 * and every eighth entry (the scan's step), with capacities that cut the
 * copy short at those points. */
static void tstore_leaves_check(const tsd *s, const tsmodel *m, int64_t *tb, double *vb) {
    const size_t L = (size_t)tsd__bt__LCAP;
    size_t pts[64], np = 0, i, j;
    size_t caps[4];
    int k;
    pts[np++] = 0;
    for (i = 1; i <= 4 && np < 60; i++) {
        if (i * L - 1 < m->n) pts[np++] = i * L - 1;
        if (i * L < m->n) pts[np++] = i * L;
        if (i * 8 < m->n) pts[np++] = i * 8 - 1;
    }
    if (m->n > 1) pts[np++] = m->n - 1;
    if (m->n > 9) pts[np++] = m->n - 9;
    caps[0] = m->n + 1;
    caps[1] = 0;
    caps[2] = 7;
    caps[3] = L + 1;
    for (i = 0; i < np; i++)
        for (j = 0; j < np; j++)
            for (k = -1; k <= 1; k++) {
                int64_t a, b;
                size_t c;
                if (pts[i] >= m->n || pts[j] >= m->n) continue;
                a = m->ts[pts[i]] + k;
                b = m->ts[pts[j]] - k;
                for (c = 0; c < 4; c++) CHECKF(tsd_range_ok(s, m, a, b, caps[c], tb, vb), "n %zu a %lld b %lld cap %zu",
                                               m->n, (long long)a, (long long)b, caps[c]);
            }
    CHECK(tsd_range_ok(s, m, INT64_MIN, INT64_MAX, m->n + 1, tb, vb));
    if (m->n) {
        CHECK(tsd_range_ok(s, m, INT64_MIN, m->ts[0] - 1, 4, tb, vb));
        CHECK(tsd_range_ok(s, m, m->ts[m->n - 1] + 1, INT64_MAX, 4, tb, vb));
    }
}
void test_tstore_leaves(void) {
    static const size_t sizes[] = {0, 1, 2, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 4159, 4160, 4161, 20000};
    const size_t L = (size_t)tsd__bt__LCAP;
    size_t si, i, cap = 20500;
    tsmodel m;
    int64_t *tb = (int64_t *)malloc(cap * sizeof *tb);
    double *vb = (double *)malloc(cap * sizeof *vb);
    m.ts = (int64_t *)malloc(cap * sizeof *m.ts);
    m.v = (double *)malloc(cap * sizeof *m.v);
    CHECK(tb && vb && m.ts && m.v);
    if (!tb || !vb || !m.ts || !m.v) return;
    /* The leaf capacities this test is written for: the ones the header's note promises. */
    CHECK(tsd__bt__LCAP == 64 && tsc__bt__LCAP == 113 && tseries__bt__LCAP == 42);
    for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        tsd s;
        tsd_init(&s);
        m.n = 0;
        for (i = 0; i < n; i++) { /* in order: the fast path, a full last leaf every L */
            int64_t t = 1000 + 10 * (int64_t)i;
            CHECK(tsd_insert(&s, t, (double)i) == DS_OK);
            if (i) CHECK(tsd_insert(&s, t, -1.0) == DS_EEXIST);             /* equal to the last */
            if (i) CHECK(tsd_insert(&s, t - 10, -1.0) == DS_EEXIST);        /* below it, present */
            m.ts[m.n] = t;
            m.v[m.n++] = (double)i;
        }
        CHECK(tsd_len(&s) == n);
        /* Full leaves, each but the last. */
        if (n > L) CHECK(s.t.head->n == (unsigned)L && s.t.tail->n == (unsigned)(n % L ? n % L : L));
        tstore_leaves_check(&s, &m, tb, vb);
        /* Late arrivals into the gaps (general path), then appends after them. */
        for (i = 0; i + 1 < n && i < 300; i += 3) {
            int64_t t = m.ts[i] + 5;
            size_t p = tsm_lb(&m, t);
            CHECK(tsd_insert(&s, t, 0.5 + (double)i) == DS_OK);
            memmove(&m.ts[p + 1], &m.ts[p], (m.n - p) * sizeof m.ts[0]);
            memmove(&m.v[p + 1], &m.v[p], (m.n - p) * sizeof m.v[0]);
            m.ts[p] = t;
            m.v[p] = 0.5 + (double)i;
            m.n++;
        }
        for (i = 0; i < 3 && m.n < cap - 1; i++) {
            int64_t t = (m.n ? m.ts[m.n - 1] : 0) + 1;
            CHECK(tsd_insert(&s, t, 7.0) == DS_OK);
            m.ts[m.n] = t;
            m.v[m.n++] = 7.0;
        }
        /* Deletes that empty the front and thin the middle. */
        for (i = 0; m.n > 2 && i < 70; i++) {
            size_t p = i % 2 ? m.n / 2 : 0;
            double out = 0;
            CHECK(tsd_del(&s, m.ts[p], &out) == DS_OK && out == m.v[p]);
            memmove(&m.ts[p], &m.ts[p + 1], (m.n - p - 1) * sizeof m.ts[0]);
            memmove(&m.v[p], &m.v[p + 1], (m.n - p - 1) * sizeof m.v[0]);
            m.n--;
        }
        CHECK(tsd_len(&s) == m.n);
        tstore_leaves_check(&s, &m, tb, vb);
        for (i = 0; i < m.n; i++) {
            double *pv = tsd_value_at(&s, m.ts[i]);
            CHECK(pv && *pv == m.v[i]);
            CHECK(tsd_value_at(&s, m.ts[i] + 1) == NULL || (i + 1 < m.n && m.ts[i + 1] == m.ts[i] + 1));
        }
        tsd_free(&s);
        CHECK(tsd_range(&s, INT64_MIN, INT64_MAX, tb, vb, cap) == 0 && tsd_value_at(&s, 0) == NULL);
        CHECK(tsd_insert(&s, 5, 1.0) == DS_OK && tsd_len(&s) == 1); /* after free: the first entry again */
        tsd_free(&s);
    }
    /* Another leaf capacity: char values, a random mix of in-order and late. */
    {
        tsc c;
        ds_rng r;
        int64_t now = 0;
        char cv[64];
        int64_t ct[64];
        ds_rng_seed(&r, 7);
        tsc_init(&c);
        m.n = 0;
        for (i = 0; i < 6000; i++) {
            int64_t t = ds_rng_below(&r, 4) ? (now += 1 + (int64_t)ds_rng_below(&r, 3)) : now - (int64_t)ds_rng_below(&r, 500);
            size_t p = tsm_lb(&m, t);
            int found = p < m.n && m.ts[p] == t;
            CHECK(tsc_insert(&c, t, (char)(t & 63)) == (found ? DS_EEXIST : DS_OK));
            if (!found) {
                memmove(&m.ts[p + 1], &m.ts[p], (m.n - p) * sizeof m.ts[0]);
                memmove(&m.v[p + 1], &m.v[p], (m.n - p) * sizeof m.v[0]);
                m.ts[p] = t;
                m.v[p] = (double)(t & 63);
                m.n++;
            }
            if (i % 7 == 0) {
                int64_t a = now - (int64_t)ds_rng_below(&r, 600), b = a + (int64_t)ds_rng_below(&r, 300);
                size_t lo = tsm_lb(&m, a), want = tsm_lb(&m, b + 1) - lo, got = tsc_range(&c, a, b, ct, cv, 64), j;
                CHECK(got == want);
                for (j = 0; j < got && j < 64; j++) CHECK(ct[j] == m.ts[lo + j] && cv[j] == (char)m.v[lo + j]);
            }
        }
        CHECK(tsc_len(&c) == m.n);
        tsc_free(&c);
    }
    free(tb);
    free(vb);
    free(m.ts);
    free(m.v);
}

/* Allocation failure in DS_TSTORE: an insert that splits (in order: the
 * last leaf full; late: a leaf in the middle), a batch, and a load change
 * nothing and keep nothing; the in-order fast path allocates nothing. */
static int tstore_oom_seq(uint64_t seed, prop_alloc *pa) {
    tsd s;
    ds_rng r;
    int64_t now = 0;
    int step;
    tsd_init_alloc(&s, &pa->a);
    ds_rng_seed(&r, seed);
    for (step = 0; step < 400; step++) {
        int64_t t = ds_rng_below(&r, 5) ? now + 1 + (int64_t)ds_rng_below(&r, 3) : now - (int64_t)ds_rng_below(&r, 200);
        size_t len = tsd_len(&s);
        int had = tsd_value_at(&s, t) != NULL;
        long before = PROP_FAILS(pa);
        ds_status st = ds_rng_below(&r, 10) ? tsd_insert(&s, t, (double)step) : tsd_del(&s, t, NULL);
        if (st == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            CHECK_OR(tsd_len(&s) == len && (tsd_value_at(&s, t) != NULL) == had, 1);
        } else {
            CHECK_OR(st == DS_OK || st == DS_EEXIST || st == DS_ENOTFOUND, 1);
            if (st == DS_OK && t > now) now = t;
        }
    }
    {
        ds_membuf mb;
        ds_memsrc src;
        ds_reader rd;
        tsd u;
        ds_status st;
        long before;
        int64_t ts[200];
        double vs[200];
        size_t j, added = 0, len = tsd_len(&s);
        ds_membuf_init(&mb, NULL);
        CHECK_OR(tsd_save(&s, ds_membuf_writer(&mb)) == DS_OK, 1);
        rd = ds_mem_reader(&src, mb.data, mb.len);
        before = PROP_FAILS(pa);
        st = tsd_load(&u, &rd, &pa->a);
        if (st == DS_OK) {
            CHECK_OR(tsd_len(&u) == len, 1);
            tsd_free(&u);
        } else {
            CHECK_OR(st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, before), 1);
        }
        ds_membuf_free(&mb);
        for (j = 0; j < 200; j++) {
            ts[j] = now + 1 + (int64_t)j;
            vs[j] = (double)j;
        }
        before = PROP_FAILS(pa);
        st = tsd_insert_batch(&s, ts, vs, 200, &added); /* sorted, not empty: one insert each */
        if (st == DS_ENOMEM) CHECK_OR(pa->fails > before && tsd_len(&s) == len + added, 1);
        else CHECK_OR(st == DS_OK && added == 200, 1);
    }
    tsd_free(&s);
    return 0;
}
void test_tstore_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(tstore_oom_seq, 5, &total) == 0);
    CHECK(total > 10);
}

static ds_status bt64_try_load(ds_reader *r) {
    bt64 u;
    ds_status st = bt64_load(&u, r, NULL);
    if (st == DS_OK) bt64_free(&u);
    return st;
}
void test_btree_save_load(void) {
    bt64 t, u;
    ds_membuf mb;
    uint64_t i;
    bt64_it a, b;
    bt64_init(&t);
    for (i = 0; i < 1000; i++) CHECK(bt64_put(&t, ds_mix64(i) % 5000, i, NULL) == DS_OK);
    ds_membuf_init(&mb, NULL);
    CHECK(bt64_save(&t, ds_membuf_writer(&mb)) == DS_OK);
    {
        ds_memsrc src;
        ds_reader r = ds_mem_reader(&src, mb.data, mb.len);
        CHECK(bt64_load(&u, &r, NULL) == DS_OK && bt64_len(&u) == bt64_len(&t));
    }
    for (a = bt64_first(&t), b = bt64_first(&u); bt64_it_valid(a); a = bt64_it_next(a), b = bt64_it_next(b))
        CHECK(bt64_it_valid(b) && *bt64_it_key(a) == *bt64_it_key(b) && *bt64_it_val(a) == *bt64_it_val(b));
    CHECK(!bt64_it_valid(b));
    bt64_free(&u);
    ds_membuf_free(&mb);
    /* A small image: every truncation and every bit flip is refused. */
    bt64_clear(&t);
    for (i = 0; i < 40; i++) CHECK(bt64_put(&t, i * 3, i, NULL) == DS_OK);
    ds_membuf_init(&mb, NULL);
    CHECK(bt64_save(&t, ds_membuf_writer(&mb)) == DS_OK);
    CHECK(image_rejected(mb.data, mb.len, bt64_try_load));
    ds_membuf_free(&mb);
    bt64_free(&t);
}
