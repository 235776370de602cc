/* tests/test_ring.c - ds_ring against a naive model (its own points, a
 * sorted array scanned linearly), MD5 against RFC 1321, ketama mode against
 * vectors computed independently by tests/gen_ketama_vectors.py, the
 * ring's balance and movement, and ds_router's strategies against linear
 * scans. */
#include "prop.h"
#include "ketama_vectors.h"
#include <math.h>

static void hex16(const unsigned char d[16], char out[33]) {
    static const char hx[] = "0123456789abcdef";
    int i;
    for (i = 0; i < 16; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[32] = 0;
}
static uint32_t le32(const unsigned char *d) {
    return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

/* ---- MD5 ------------------------------------------------------------- */

void test_ring_md5(void) {
    /* RFC 1321, appendix A.5: the test suite. */
    static const struct {
        const char *msg, *hex;
    } rfc[] = {{"", "d41d8cd98f00b204e9800998ecf8427e"},
               {"a", "0cc175b9c0f1b6a831c399e269772661"},
               {"abc", "900150983cd24fb0d6963f7d28e17f72"},
               {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
               {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
               {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f"},
               {"1234567890123456789012345678901234567890"
                "1234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a"}};
    unsigned char buf[131], d[16], d2[16];
    char hx[33];
    size_t i, n;
    ds_rng rng;
    for (i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        ds__md5(rfc[i].msg, strlen(rfc[i].msg), d);
        hex16(d, hx);
        CHECKF(strcmp(hx, rfc[i].hex) == 0, "MD5(\"%s\") = %s", rfc[i].msg, hx);
    }
    /* every length across the padding boundaries (55, 56, 63, 64, 119, 120) */
    for (i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)((i * 7 + 3) & 255);
    ds_rng_seed(&rng, 1321);
    for (n = 0; n <= 130; n++) {
        ds__md5_ctx m;
        size_t at = 0;
        ds__md5(buf, n, d);
        hex16(d, hx);
        CHECKF(strcmp(hx, kv_md5_pattern[n]) == 0, "MD5 of %zu pattern bytes = %s", n, hx);
        /* the same bytes fed in random pieces */
        ds__md5_init(&m);
        while (at < n) {
            size_t take = 1 + (size_t)ds_rng_below(&rng, 70);
            if (take > n - at) take = n - at;
            ds__md5_update(&m, buf + at, take);
            if (ds_rng_below(&rng, 3) == 0) ds__md5_update(&m, NULL, 0);
            at += take;
        }
        ds__md5_final(&m, d2);
        CHECK(memcmp(d, d2, 16) == 0);
    }
}

/* ---- ketama vectors -------------------------------------------------- */

static int ketama_ring(ds_ring *r, const kv_set *ks) {
    ds_ring_config c;
    unsigned i;
    memset(&c, 0, sizeof c);
    c.mode = DS_RING_KETAMA;
    CHECK_OR(ds_ring_init(r, &c) == DS_OK, 1);
    for (i = 0; i < ks->n; i++) {
        const char *nm = kv_servers[ks->first + i];
        uint32_t id = 99999;
        CHECK_OR(ds_ring_add(r, nm, strlen(nm), kv_weights[ks->first + i], &id) == DS_OK && id == i, 1);
    }
    return 0;
}

void test_ring_ketama_vectors(void) {
    size_t s, k;
    ds_ring r;
    for (s = 0; s < sizeof kv_sets / sizeof kv_sets[0]; s++) {
        const kv_set *ks = &kv_sets[s];
        unsigned i, wraps = 0, lows = 0;
        uint64_t first, last;
        if (ketama_ring(&r, ks)) return;
        for (i = 0; i < ks->n; i++)
            CHECKF(ds_ring_node_points(&r, i) == kv_points[ks->first + i], "%s: server %u has %zu points, want %u",
                   ks->label, i, ds_ring_node_points(&r, i), kv_points[ks->first + i]);
        first = ds_ring_point(&r, 0, NULL);
        last = ds_ring_point(&r, ds_ring_points(&r) - 1, NULL);
        for (k = ks->key_first; k < ks->key_first + ks->nkeys; k++) {
            const char *key = kv_keys[k].key;
            uint64_t h = ds_ring_hash(&r, key, strlen(key));
            uint32_t got = ds_ring_get(&r, key, strlen(key));
            CHECKF(got == kv_keys[k].server, "%s: key %s -> server %u, want %u", ks->label, key, got,
                   kv_keys[k].server);
            wraps += h > last;
            lows += h <= first;
        }
        /* the edge keys did reach both ends of the continuum */
        CHECK(wraps == ks->nwrap && lows == ks->nlow);
        ds_ring_free(&r);
    }
    /* Equal points: the node added first owns the point, not the smaller
     * id. Delete the first server and add it back: it gets id 0 again but
     * is now the later one. */
    {
        const kv_set *ks = &kv_sets[KV_TIE_SET];
        const char *a = kv_servers[ks->first];
        uint32_t id = 9, o1 = 9, o2 = 9;
        size_t at = 0;
        if (ketama_ring(&r, ks)) return;
        CHECK(ds_ring_get_hash(&r, KV_TIE_POINT) == 0);
        CHECK(ds_ring_del(&r, 0) == DS_OK && ds_ring_add(&r, a, strlen(a), 1, &id) == DS_OK && id == 0);
        CHECK(ds_ring_get_hash(&r, KV_TIE_POINT) == 1);
        while (ds_ring_point(&r, at, NULL) != KV_TIE_POINT) at++;
        CHECK(ds_ring_point(&r, at, &o1) == KV_TIE_POINT && ds_ring_point(&r, at + 1, &o2) == KV_TIE_POINT);
        CHECK(o1 == 1 && o2 == 0);
        ds_ring_free(&r);
    }
    /* libketama's own regression test (test.sh: ketama_test over
     * ketama.servers), its first KT_LINES lines: "hash point server". */
    {
        ds__md5_ctx m;
        unsigned char d[16];
        char hx[33];
        int i;
        if (ketama_ring(&r, &kv_sets[0])) return;
        CHECK(ds_ring_points(&r) == 1264);
        ds__md5_init(&m);
        ds__md5_update(&m, "\n", 1);
        for (i = 0; i < KT_LINES; i++) {
            char key[16], line[96];
            size_t klen = (size_t)snprintf(key, sizeof key, "%d", i), nlen, at, lo = 0, hi;
            uint64_t h = ds_ring_hash(&r, key, klen), pt;
            uint32_t owner, id = ds_ring_get_hash(&r, h);
            const char *name = (const char *)ds_ring_name(&r, id, &nlen);
            hi = ds_ring_points(&r);
            while (lo < hi) { /* the point the key landed on */
                size_t mid = (lo + hi) / 2;
                if (ds_ring_point(&r, mid, NULL) < h) lo = mid + 1; else hi = mid;
            }
            at = lo == ds_ring_points(&r) ? 0 : lo;
            pt = ds_ring_point(&r, at, &owner);
            CHECK(owner == id && name != NULL);
            ds__md5_update(&m, line, (size_t)snprintf(line, sizeof line, "%u %u %.*s\n", (unsigned)h,
                                                      (unsigned)pt, (int)nlen, name));
        }
        ds__md5_final(&m, d);
        hex16(d, hx);
        CHECKF(strcmp(hx, kv_ketama_test_prefix_md5) == 0, "ketama_test prefix digest %s", hx);
        ds_ring_free(&r);
    }
}

/* ---- the model -------------------------------------------------------- */

#define MN 12
typedef struct mpt {
    uint64_t pt, seq;
    uint32_t node, gen;
} mpt;
typedef struct mnode {
    unsigned char name[4];
    size_t len;
    uint32_t weight, npts;
    uint64_t seq;
    uint64_t *pts; /* npts, in generation order */
    int dirty;     /* the name changed: regenerate */
} mnode;
typedef struct model {
    mnode n[MN];
    int ketama;
    uint32_t vnodes;
    uint64_t seed, seq;
    mpt *sorted;
    size_t nsorted;
} model;

static int mpt_cmp(const void *a, const void *b) {
    const mpt *x = (const mpt *)a, *y = (const mpt *)b;
    if (x->pt != y->pt) return x->pt < y->pt ? -1 : 1;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return (x->gen > y->gen) - (x->gen < y->gen);
}
static uint64_t model_hash(const model *m, const void *key, size_t len) {
    unsigned char d[16];
    if (!m->ketama) return ds_hash_bytes(key, len, m->seed);
    ds__md5(key, len, d);
    return le32(d);
}
/* Recomputes every node's points from scratch, then the sorted continuum. */
static void model_rebuild(model *m) {
    uint32_t i, j, live = 0;
    uint64_t total = 0;
    size_t at = 0;
    for (i = 0; i < MN; i++)
        if (m->n[i].weight) {
            live++;
            total += m->n[i].weight;
        }
    for (i = 0; i < MN; i++) {
        mnode *nd = &m->n[i];
        uint32_t want = 0;
        if (nd->weight && m->ketama) {
            float pct = (float)nd->weight / (float)total;
            want = 4 * (uint32_t)floorf((float)((double)pct * 40.0 * (double)(float)live));
        } else if (nd->weight) {
            want = nd->weight * m->vnodes;
        }
        at += want;
        if (want == nd->npts && !nd->dirty) continue;
        nd->dirty = 0;
        free(nd->pts);
        nd->pts = want ? (uint64_t *)malloc(want * sizeof *nd->pts) : NULL;
        nd->npts = want;
        for (j = 0; j < want; j++) {
            if (m->ketama) {
                char s[32];
                unsigned char d[16];
                memcpy(s, nd->name, nd->len);
                ds__md5(s, nd->len + (size_t)snprintf(s + nd->len, sizeof s - nd->len, "-%u", j / 4), d);
                nd->pts[j] = le32(d + 4 * (j % 4));
            } else {
                nd->pts[j] = ds_mix64(ds_hash_bytes(nd->name, nd->len, m->seed) + (uint64_t)(j + 1) * 0x9e3779b97f4a7c15ull);
            }
        }
    }
    free(m->sorted);
    m->sorted = (mpt *)malloc((at ? at : 1) * sizeof *m->sorted);
    m->nsorted = 0;
    for (i = 0; i < MN; i++)
        for (j = 0; j < m->n[i].npts; j++) {
            mpt *p = &m->sorted[m->nsorted++];
            p->pt = m->n[i].pts[j];
            p->seq = m->n[i].seq;
            p->node = i;
            p->gen = j;
        }
    qsort(m->sorted, m->nsorted, sizeof *m->sorted, mpt_cmp);
}
static void model_free(model *m) {
    int i;
    for (i = 0; i < MN; i++) free(m->n[i].pts);
    free(m->sorted);
}
/* The owner of hash h: the first point >= h, by a linear scan. */
static uint32_t model_get(const model *m, uint64_t h) {
    size_t i;
    if (!m->nsorted) return DS_RING_NONE;
    for (i = 0; i < m->nsorted; i++)
        if (m->sorted[i].pt >= h) return m->sorted[i].node;
    return m->sorted[0].node;
}
static size_t model_get_n(const model *m, uint64_t h, uint32_t *out, size_t n) {
    size_t i = 0, step, got = 0, j, live = 0;
    for (j = 0; j < MN; j++) live += m->n[j].weight != 0;
    if (!m->nsorted) return 0;
    while (i < m->nsorted && m->sorted[i].pt < h) i++;
    if (i == m->nsorted) i = 0;
    for (step = 0; step < m->nsorted && got < n && got < live; step++, i = (i + 1) % m->nsorted) {
        for (j = 0; j < got && out[j] != m->sorted[i].node; j++) {}
        if (j == got) out[got++] = m->sorted[i].node;
    }
    return got;
}

static size_t rand_name(ds_rng *rng, unsigned char *nm) {
    unsigned k = (unsigned)ds_rng_below(rng, 18);
    if (k == 16) return 0;           /* the empty name */
    if (k == 17) {                   /* an embedded NUL */
        memcpy(nm, "x\0y", 3);
        return 3;
    }
    nm[0] = 'n';
    nm[1] = (unsigned char)('a' + k);
    return 2;
}

/* Compare everything observable of r with m. */
static int ring_matches(const ds_ring *r, const model *m, ds_rng *rng) {
    size_t i, live = 0;
    uint32_t id, out[MN + 2], want[MN + 2];
    for (i = 0; i < MN; i++) {
        const mnode *nd = &m->n[i];
        size_t len = 99;
        const void *nm = ds_ring_name(r, (uint32_t)i, &len);
        live += nd->weight != 0;
        CHECK_OR(ds_ring_weight(r, (uint32_t)i) == nd->weight, 1);
        CHECK_OR(ds_ring_node_points(r, (uint32_t)i) == nd->npts, 1);
        if (nd->weight) {
            CHECK_OR(nm && len == nd->len && memcmp(nm, nd->name, len) == 0, 1);
            CHECK_OR(ds_ring_find(r, nd->name, nd->len, &id) == DS_OK && id == i, 1);
        } else {
            CHECK_OR(nm == NULL, 1);
        }
    }
    CHECK_OR(ds_ring_count(r) == live && ds_ring_points(r) == m->nsorted, 1);
    for (i = 0, id = ds_ring_first(r); id != DS_RING_NONE; id = ds_ring_next(r, id), i++)
        CHECK_OR(m->n[id].weight != 0, 1);
    CHECK_OR(i == live, 1);
    for (i = 0; i < m->nsorted; i++) { /* the whole continuum */
        uint32_t o;
        CHECK_OR(ds_ring_point(r, i, &o) == m->sorted[i].pt && o == m->sorted[i].node, 1);
    }
    for (i = 0; i < 8; i++) { /* random keys */
        unsigned char key[12];
        size_t len = (size_t)ds_rng_below(rng, sizeof key), j, n, got;
        uint64_t h;
        for (j = 0; j < len; j++) key[j] = (unsigned char)ds_rng_next(rng);
        h = model_hash(m, key, len);
        CHECK_OR(ds_ring_hash(r, key, len) == h, 1);
        CHECK_OR(ds_ring_get(r, key, len) == model_get(m, h), 1);
        n = (size_t)ds_rng_below(rng, MN + 2);
        got = ds_ring_get_n(r, key, len, out, n);
        CHECK_OR(got == model_get_n(m, h, want, n) && memcmp(out, want, got * sizeof *out) == 0, 1);
        CHECK_OR(got == (n < live ? n : live), 1);
        if (got) CHECK_OR(out[0] == ds_ring_get(r, key, len), 1);
    }
    if (m->nsorted) { /* hashes on, just above and just below points, and the extremes */
        uint64_t top = m->ketama ? UINT32_MAX : UINT64_MAX;
        uint64_t hs[5];
        size_t at = (size_t)ds_rng_below(rng, m->nsorted);
        hs[0] = m->sorted[at].pt;
        hs[1] = hs[0] + 1;
        hs[2] = hs[0] - 1;
        hs[3] = 0;
        hs[4] = top;
        for (i = 0; i < 5; i++) CHECK_OR(ds_ring_get_hash(r, hs[i]) == model_get(m, hs[i]), 1);
    } else {
        CHECK_OR(ds_ring_get(r, "k", 1) == DS_RING_NONE && ds_ring_get_n(r, "k", 1, out, 3) == 0, 1);
    }
    return 0;
}

static void ring_case(ds_rng *rng, uint64_t seed) {
    ds_ring r;
    ds_ring_config c;
    model m;
    int step, steps;
    memset(&m, 0, sizeof m);
    memset(&c, 0, sizeof c);
    m.ketama = (int)(seed & 2) != 0;
    c.mode = m.ketama ? DS_RING_KETAMA : DS_RING_DEFAULT;
    c.vnodes = (uint32_t)(ds_rng_below(rng, 6) == 0 ? 0 : 1 + ds_rng_below(rng, 20)); /* 0: 160 */
    c.seed = ds_rng_next(rng);
    m.vnodes = c.vnodes ? c.vnodes : 160;
    m.seed = c.seed;
    steps = m.ketama ? 40 : 150;
    CHECK(ds_ring_init(&r, &c) == DS_OK);
    model_rebuild(&m);
    for (step = 0; step < steps; step++) {
        unsigned char nm[4];
        size_t len = rand_name(rng, nm), i;
        uint32_t id = 12345, w = 1 + (uint32_t)ds_rng_below(rng, m.ketama ? 3 : 4);
        int op = (int)ds_rng_below(rng, 10);
        long at = -1, free_slot = -1;
        ds_status st;
        for (i = 0; i < MN; i++) {
            if (m.n[i].weight && m.n[i].len == len && memcmp(m.n[i].name, nm, len) == 0) at = (long)i;
            if (!m.n[i].weight && free_slot < 0) free_slot = (long)i;
        }
        if (op < 5 && (at >= 0 || free_slot >= 0)) { /* add */
            st = ds_ring_add(&r, len ? nm : NULL, len, w, &id);
            if (at >= 0) {
                CHECK(st == DS_EEXIST && id == (uint32_t)at);
            } else {
                CHECK(st == DS_OK && id == (uint32_t)free_slot);
                memcpy(m.n[id].name, nm, len);
                m.n[id].len = len;
                m.n[id].weight = w;
                m.n[id].seq = m.seq++;
                m.n[id].dirty = 1;
            }
        } else if (op < 8) { /* del, sometimes of a free id */
            id = (uint32_t)ds_rng_below(rng, MN + 1);
            st = ds_ring_del(&r, id);
            CHECK(st == (id < MN && m.n[id].weight ? DS_OK : DS_ENOTFOUND));
            if (st == DS_OK) m.n[id].weight = 0;
        } else { /* set_weight */
            id = (uint32_t)ds_rng_below(rng, MN);
            st = ds_ring_set_weight(&r, id, w);
            CHECK(st == (m.n[id].weight ? DS_OK : DS_ENOTFOUND));
            if (st == DS_OK) m.n[id].weight = w;
        }
        model_rebuild(&m);
        if (ring_matches(&r, &m, rng)) break;
    }
    ds_ring_free(&r);
    model_free(&m);
}
void test_ring_model(void) { prop_run("ring_model", ring_case, 40); }

/* ---- allocation failure ---------------------------------------------- */

typedef struct snap {
    size_t n, count;
    uint64_t *pts;
    uint32_t *own, w[MN];
} snap;
static void take_snap(const ds_ring *r, snap *s) {
    size_t i;
    s->n = ds_ring_points(r);
    s->count = ds_ring_count(r);
    s->pts = (uint64_t *)malloc((s->n + 1) * sizeof *s->pts);
    s->own = (uint32_t *)malloc((s->n + 1) * sizeof *s->own);
    for (i = 0; i < s->n; i++) s->pts[i] = ds_ring_point(r, i, &s->own[i]);
    for (i = 0; i < MN; i++) s->w[i] = ds_ring_weight(r, (uint32_t)i);
}
static int same_snap(const ds_ring *r, const snap *s) {
    size_t i;
    if (ds_ring_points(r) != s->n || ds_ring_count(r) != s->count) return 0;
    for (i = 0; i < s->n; i++) {
        uint32_t o;
        if (ds_ring_point(r, i, &o) != s->pts[i] || o != s->own[i]) return 0;
    }
    for (i = 0; i < MN; i++)
        if (ds_ring_weight(r, (uint32_t)i) != s->w[i]) return 0;
    return 1;
}
static int ring_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_ring r;
    ds_ring_config c;
    ds_rng rng;
    int step;
    memset(&c, 0, sizeof c);
    c.mode = seed & 1 ? DS_RING_KETAMA : DS_RING_DEFAULT;
    c.vnodes = 7;
    c.alloc = &pa->a;
    ds_rng_seed(&rng, seed);
    CHECK_OR(ds_ring_init(&r, &c) == DS_OK, 1);
    for (step = 0; step < 40; step++) {
        unsigned char nm[4];
        size_t len = rand_name(&rng, nm), i;
        uint32_t w = 1 + (uint32_t)ds_rng_below(&rng, 3), id = (uint32_t)ds_rng_below(&rng, MN);
        int op = (int)ds_rng_below(&rng, 10);
        long before = PROP_FAILS(pa);
        ds_status st;
        snap s;
        take_snap(&r, &s);
        if (op < 6) st = ds_ring_add(&r, nm, len, w, NULL);
        else if (op < 8) st = ds_ring_del(&r, id);
        else st = ds_ring_set_weight(&r, id, w);
        if (st == DS_ENOMEM) {
            int same = same_snap(&r, &s);
            free(s.pts);
            free(s.own);
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && same, 1);
        } else {
            free(s.pts);
            free(s.own);
            CHECK_OR(st == DS_OK || st == DS_EEXIST || st == DS_ENOTFOUND, 1);
        }
        for (i = 1; i < ds_ring_points(&r); i++) CHECK_OR(ds_ring_point(&r, i - 1, NULL) <= ds_ring_point(&r, i, NULL), 1);
    }
    ds_ring_free(&r);
    return 0;
}
void test_ring_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(ring_oom_seq, 2, &total) == 0 && total > 10);  /* default mode */
    CHECK(prop_oom_sweep(ring_oom_seq, 7, &total) == 0 && total > 10);  /* ketama */
}

/* ---- bad input and small cases ----------------------------------------- */

void test_ring_edges(void) {
    ds_ring r;
    ds_ring_config c;
    uint32_t id = 0, out[4];
    size_t len = 7;
    memset(&c, 0, sizeof c);
    c.mode = (ds_ring_mode)7;
    CHECK(ds_ring_init(&r, &c) == DS_EINVAL && ds_ring_init(NULL, NULL) == DS_EINVAL);
    CHECK(ds_ring_init(&r, NULL) == DS_OK);
    /* empty ring */
    CHECK(ds_ring_get(&r, "a", 1) == DS_RING_NONE && ds_ring_get_hash(&r, 5) == DS_RING_NONE);
    CHECK(ds_ring_get_n(&r, "a", 1, out, 4) == 0 && ds_ring_count(&r) == 0 && ds_ring_points(&r) == 0);
    CHECK(ds_ring_first(&r) == DS_RING_NONE && ds_ring_name(&r, 0, &len) == NULL);
    CHECK(ds_ring_point(&r, 0, &id) == 0 && id == DS_RING_NONE);
    /* bad input */
    CHECK(ds_ring_add(&r, "a", 1, 0, &id) == DS_EINVAL && ds_ring_add(&r, NULL, 3, 1, &id) == DS_EINVAL);
    CHECK(ds_ring_add(NULL, "a", 1, 1, &id) == DS_EINVAL && ds_ring_find(&r, NULL, 2, &id) == DS_EINVAL);
    CHECK(ds_ring_del(&r, 0) == DS_ENOTFOUND && ds_ring_set_weight(&r, 0, 2) == DS_ENOTFOUND);
    CHECK(ds_ring_del(NULL, 0) == DS_EINVAL && ds_ring_get(NULL, "a", 1) == DS_RING_NONE);
    CHECK(ds_ring_get(&r, NULL, 1) == DS_RING_NONE && ds_ring_count(NULL) == 0);
    /* ids: 0, 1, 2; delete 1; the next add reuses 1 */
    CHECK(ds_ring_add(&r, "a", 1, 1, &id) == DS_OK && id == 0);
    CHECK(ds_ring_add(&r, "b", 1, 2, &id) == DS_OK && id == 1);
    CHECK(ds_ring_add(&r, NULL, 0, 1, &id) == DS_OK && id == 2); /* the empty name */
    CHECK(ds_ring_add(&r, "b", 1, 1, &id) == DS_EEXIST && id == 1);
    CHECK(ds_ring_points(&r) == 160 * 4 && ds_ring_node_points(&r, 1) == 320);
    CHECK(ds_ring_name(&r, 2, &len) != NULL && len == 0);
    CHECK(ds_ring_set_weight(&r, 1, 0) == DS_EINVAL && ds_ring_set_weight(&r, 1, 2) == DS_OK);
    CHECK(ds_ring_set_weight(&r, 1, 1) == DS_OK && ds_ring_points(&r) == 480);
    CHECK(ds_ring_del(&r, 1) == DS_OK && ds_ring_del(&r, 1) == DS_ENOTFOUND);
    CHECK(ds_ring_find(&r, "b", 1, &id) == DS_ENOTFOUND && ds_ring_count(&r) == 2);
    CHECK(ds_ring_first(&r) == 0 && ds_ring_next(&r, 0) == 2 && ds_ring_next(&r, 2) == DS_RING_NONE);
    CHECK(ds_ring_add(&r, "c", 1, 1, &id) == DS_OK && id == 1);
    CHECK(ds_ring_get_n(&r, "k", 1, out, 4) == 3);
    CHECK(ds_ring_get_n(&r, "k", 1, NULL, 4) == 0);
    /* every node deleted: empty again, and reusable */
    CHECK(ds_ring_del(&r, 0) == DS_OK && ds_ring_del(&r, 1) == DS_OK && ds_ring_del(&r, 2) == DS_OK);
    CHECK(ds_ring_points(&r) == 0 && ds_ring_get(&r, "k", 1) == DS_RING_NONE);
    CHECK(ds_ring_add(&r, "z", 1, 1, &id) == DS_OK && id == 0 && ds_ring_get(&r, "k", 1) == 0);
    ds_ring_free(&r);
    ds_ring_free(&r); /* twice is fine */
    /* too many points: weight x vnodes past 2^32 */
    c.mode = DS_RING_DEFAULT;
    c.vnodes = 1u << 16;
    CHECK(ds_ring_init(&r, &c) == DS_OK);
    CHECK(ds_ring_add(&r, "a", 1, 1u << 16, &id) == DS_EINVAL && ds_ring_count(&r) == 0);
    CHECK(ds_ring_add(&r, "a", 1, 1, &id) == DS_OK && ds_ring_set_weight(&r, id, 1u << 16) == DS_EINVAL);
    CHECK(ds_ring_weight(&r, id) == 1 && ds_ring_points(&r) == 1u << 16);
    ds_ring_free(&r);
    /* ketama: one server gets every key, 160 points */
    c.mode = DS_RING_KETAMA;
    CHECK(ds_ring_init(&r, &c) == DS_OK);
    CHECK(ds_ring_add(&r, "10.0.0.1:11211", 14, 5, &id) == DS_OK && ds_ring_points(&r) == 160);
    CHECK(ds_ring_get(&r, "anything", 8) == id && ds_ring_hash(&r, "a", 1) == 0xb975c10cu); /* MD5("a") = 0cc175b9... */
    ds_ring_free(&r);
}

/* ---- balance and movement --------------------------------------------- */

static void ring_of(ds_ring *r, ds_ring_mode mode, uint64_t seed, int n) {
    ds_ring_config c;
    int i;
    memset(&c, 0, sizeof c);
    c.mode = mode;
    c.seed = seed;
    ds_ring_init(r, &c);
    for (i = 0; i < n; i++) {
        char nm[32];
        int l = snprintf(nm, sizeof nm, "10.0.0.%d:11211", i + 1);
        ds_ring_add(r, nm, (size_t)l, 1, NULL);
    }
}
/* The largest node's share of the circle over the mean, from the arcs
 * (the arc before each point belongs to the point's node). */
static double arc_max_over_mean(const ds_ring *r, double circle) {
    double share[64] = {0}, mx = 0;
    size_t i, n = ds_ring_points(r);
    uint32_t o;
    uint64_t prev = ds_ring_point(r, n - 1, NULL);
    for (i = 0; i < n; i++) {
        uint64_t p = ds_ring_point(r, i, &o);
        share[o] += i ? (double)(p - prev) : (double)p + (circle - (double)prev);
        prev = p;
    }
    for (i = 0; i < ds_ring_count(r); i++) mx = share[i] > mx ? share[i] : mx;
    return mx / (circle / (double)ds_ring_count(r));
}

void test_ring_balance(void) {
    const int N = 10;
    const size_t K = 1000000;
    ds_ring r, r2;
    size_t counts[16] = {0}, i, moved = 0, wrong = 0, mx = 0, within = 0;
    double sum = 0;
    int s;
    ds_rng rng;
    ds_rng_seed(&rng, 6);
    /* 10 nodes, 160 vnodes each, 10^6 keys: the busiest carries <= 1.15x
     * the mean. Then an 11th node: it takes 1/11 +- 30% of the keys, and
     * every key that moves, moves to it. */
    ring_of(&r, DS_RING_DEFAULT, 0, N);
    ring_of(&r2, DS_RING_DEFAULT, 0, N + 1);
    for (i = 0; i < K; i++) {
        uint64_t k = ds_rng_next(&rng);
        uint32_t a = ds_ring_get(&r, &k, sizeof k), b = ds_ring_get(&r2, &k, sizeof k);
        counts[a]++;
        if (a != b) {
            moved++;
            wrong += b != (uint32_t)N;
        }
    }
    for (i = 0; i < (size_t)N; i++) mx = counts[i] > mx ? counts[i] : mx;
    CHECKF((double)mx / ((double)K / N) <= 1.15, "max/mean load %.3f", (double)mx / ((double)K / N));
    CHECKF(fabs((double)moved / K - 1.0 / (N + 1)) <= 0.3 / (N + 1), "moved %.4f", (double)moved / K);
    CHECK(wrong == 0);
    /* Removing it again restores every key's node exactly. */
    CHECK(ds_ring_del(&r2, (uint32_t)N) == DS_OK && ds_ring_points(&r2) == ds_ring_points(&r));
    for (i = 0; i < ds_ring_points(&r); i++) {
        uint32_t o1, o2;
        CHECK(ds_ring_point(&r, i, &o1) == ds_ring_point(&r2, i, &o2) && o1 == o2);
    }
    ds_ring_free(&r);
    ds_ring_free(&r2);
    /* That one ring is not luck: over 64 seeds, the exact arc shares.
     * With 160 points a node's share spreads by 1/sqrt(160) = 7.9%, so the
     * busiest of 10 averages about 1.13x the mean and passes 1.15x in
     * about a quarter of rings (a simulation of random points: 27%). */
    for (s = 0; s < 64; s++) {
        double x;
        ring_of(&r, DS_RING_DEFAULT, ds_mix64((uint64_t)s + 1), N);
        x = arc_max_over_mean(&r, 18446744073709551616.0);
        sum += x;
        within += x <= 1.15;
        ds_ring_free(&r);
    }
    CHECKF(sum / 64 > 1.08 && sum / 64 < 1.16, "mean max/mean %.3f", sum / 64);
    CHECKF(within >= 40, "%zu of 64 rings within 1.15", within);
    /* Ketama mode: the same movement, on fewer keys (MD5 per key). */
    ring_of(&r, DS_RING_KETAMA, 0, N);
    ring_of(&r2, DS_RING_KETAMA, 0, N + 1);
    moved = wrong = 0;
    for (i = 0; i < K / 10; i++) {
        char key[24];
        size_t l = (size_t)snprintf(key, sizeof key, "user:%zu", i);
        uint32_t a = ds_ring_get(&r, key, l), b = ds_ring_get(&r2, key, l);
        if (a != b) {
            moved++;
            wrong += b != (uint32_t)N;
        }
    }
    CHECKF(fabs((double)moved / (double)(K / 10) - 1.0 / (N + 1)) <= 0.3 / (N + 1), "ketama moved %.4f",
           (double)moved / (double)(K / 10));
    CHECK(wrong == 0);
    CHECKF(arc_max_over_mean(&r, 4294967296.0) < 1.3, "ketama max/mean %.3f", arc_max_over_mean(&r, 4294967296.0));
    ds_ring_free(&r);
    ds_ring_free(&r2);
}

/* get_n: n distinct nodes, the first is get's; with weights. */
void test_ring_get_n(void) {
    ds_ring r;
    ds_rng rng;
    uint32_t out[8];
    size_t i, j, k, primary[5] = {0};
    ds_rng_seed(&rng, 3);
    CHECK(ds_ring_init(&r, NULL) == DS_OK);
    for (i = 0; i < 5; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "s%zu", i);
        CHECK(ds_ring_add(&r, nm, 2, i == 4 ? 3 : 1, NULL) == DS_OK);
    }
    for (i = 0; i < 20000; i++) {
        uint64_t key = ds_rng_next(&rng);
        size_t n = 1 + (size_t)ds_rng_below(&rng, 7), got = ds_ring_get_n(&r, &key, sizeof key, out, n);
        CHECK(got == (n < 5 ? n : 5) && out[0] == ds_ring_get(&r, &key, sizeof key));
        for (j = 0; j < got; j++) {
            CHECK(out[j] < 5);
            for (k = 0; k < j; k++) CHECK(out[j] != out[k]);
        }
        primary[out[0]]++;
    }
    /* s4 (weight 3 of 7) is the primary for about 3/7 of keys */
    CHECKF(fabs((double)primary[4] / 20000 - 3.0 / 7) < 0.06, "share %.3f", (double)primary[4] / 20000);
    ds_ring_free(&r);
}

/* ---- ds_router --------------------------------------------------------- */

void test_router_hash(void) {
    ds_router_config c;
    ds_router rm, rj, rh, rr, rm11;
    ds_ring ring;
    double w[4] = {1, 1, 1, 5};
    size_t i, counts[4] = {0}, moved_mod = 0;
    uint32_t s, t;
    ds_rng rng;
    ds_rng_seed(&rng, 9);
    memset(&c, 0, sizeof c);
    c.kind = DS_ROUTE_MODULO;
    c.nshards = 10;
    c.seed = 42;
    CHECK(ds_router_init(&rm, &c) == DS_OK);
    c.nshards = 11;
    CHECK(ds_router_init(&rm11, &c) == DS_OK);
    c.kind = DS_ROUTE_JUMP;
    c.nshards = 10;
    CHECK(ds_router_init(&rj, &c) == DS_OK);
    c.kind = DS_ROUTE_RENDEZVOUS;
    c.nshards = 4;
    c.weights = w;
    CHECK(ds_router_init(&rh, &c) == DS_OK);
    CHECK(ds_ring_init(&ring, NULL) == DS_OK);
    memset(&c, 0, sizeof c);
    c.kind = DS_ROUTE_RING;
    c.ring = &ring;
    CHECK(ds_router_init(&rr, &c) == DS_OK);
    CHECK(ds_router_route(&rr, "k", 1, &s) == DS_ENOTFOUND); /* the ring is empty */
    CHECK(ds_ring_add(&ring, "a", 1, 1, NULL) == DS_OK && ds_ring_add(&ring, "b", 1, 1, NULL) == DS_OK);
    for (i = 0; i < 20000; i++) {
        char key[24];
        size_t l = (size_t)snprintf(key, sizeof key, "user_%zu", i);
        uint64_t h = ds_hash_bytes(key, l, 42), u = ds_rng_next(&rng);
        unsigned char le[8];
        int b;
        CHECK(ds_router_route(&rm, key, l, &s) == DS_OK && s == h % 10);
        CHECK(ds_router_route(&rm11, key, l, &t) == DS_OK && t == h % 11);
        moved_mod += s != t;
        CHECK(ds_router_route(&rj, key, l, &s) == DS_OK && s == (uint32_t)ds_jump_hash(h, 10));
        CHECK(ds_router_route(&rh, key, l, &s) == DS_OK && s < 4);
        counts[s]++;
        CHECK(ds_router_route(&rr, key, l, &s) == DS_OK && s == ds_ring_get(&ring, key, l));
        /* route_u64 routes the 8 little-endian bytes */
        for (b = 0; b < 8; b++) le[b] = (unsigned char)(u >> (8 * b));
        CHECK(ds_router_route_u64(&rj, u, &s) == DS_OK && ds_router_route(&rj, le, 8, &t) == DS_OK && s == t);
        CHECK(ds_router_route_u64(&rr, u, &s) == DS_OK && s == ds_ring_get(&ring, le, 8));
    }
    /* modulo moves about 10/11 of the keys going from 10 to 11 shards */
    CHECKF(fabs((double)moved_mod / 20000 - 10.0 / 11) < 0.03, "modulo moved %.3f", (double)moved_mod / 20000);
    CHECKF(fabs((double)counts[3] / 20000 - 5.0 / 8) < 0.03, "weighted share %.3f", (double)counts[3] / 20000);
    ds_router_free(&rm);
    ds_router_free(&rm11);
    ds_router_free(&rj);
    ds_router_free(&rh);
    ds_router_free(&rr);
    ds_ring_free(&ring);
}

/* Integer ranges against a linear scan; the seed's example. */
static void range_case(ds_rng *rng, uint64_t seed) {
    ds_range_u64 rs[16];
    ds_router_config c;
    ds_router r;
    size_t n = 1 + (size_t)ds_rng_below(rng, 16), i, j;
    uint64_t at = ds_rng_below(rng, 50);
    (void)seed;
    for (i = 0; i < n; i++) { /* ascending, with random gaps, then shuffled */
        rs[i].first = at;
        rs[i].last = at + ds_rng_below(rng, 40);
        rs[i].shard = (uint32_t)ds_rng_below(rng, 8);
        at = rs[i].last + 1 + ds_rng_below(rng, 3);
    }
    if (ds_rng_below(rng, 4) == 0) rs[n - 1].last = UINT64_MAX;
    for (i = n; i > 1; i--) {
        size_t k = (size_t)ds_rng_below(rng, i);
        ds_range_u64 t = rs[k];
        rs[k] = rs[i - 1];
        rs[i - 1] = t;
    }
    memset(&c, 0, sizeof c);
    c.kind = DS_ROUTE_RANGE;
    c.ranges = rs;
    c.nranges = n;
    c.has_default = (int)ds_rng_below(rng, 2);
    c.default_shard = 99;
    CHECK(ds_router_init(&r, &c) == DS_OK);
    for (j = 0; j < 300; j++) {
        uint64_t k = j < 250 ? ds_rng_below(rng, at + 5) : UINT64_MAX - ds_rng_below(rng, 3);
        uint32_t s = 12345, s2 = 54321;
        long want = -1;
        char dec[24];
        ds_status st;
        for (i = 0; i < n; i++)
            if (rs[i].first <= k && k <= rs[i].last) want = rs[i].shard;
        st = ds_router_route_u64(&r, k, &s);
        if (want >= 0) CHECK(st == DS_OK && s == (uint32_t)want);
        else if (c.has_default) CHECK(st == DS_OK && s == 99);
        else CHECK(st == DS_ENOTFOUND);
        snprintf(dec, sizeof dec, "%llu", (unsigned long long)k);
        CHECK(ds_router_route(&r, dec, strlen(dec), &s2) == st && (st != DS_OK || s2 == s));
    }
    ds_router_free(&r);
    /* stretching the lowest range into the next one is an overlap; a
     * range ending before it starts is empty: both refused */
    if (n > 1) {
        size_t lo = 0, nx = SIZE_MAX;
        for (i = 1; i < n; i++)
            if (rs[i].first < rs[lo].first) lo = i;
        for (i = 0; i < n; i++)
            if (i != lo && (nx == SIZE_MAX || rs[i].first < rs[nx].first)) nx = i;
        rs[lo].last = rs[nx].first;
        CHECK(ds_router_init(&r, &c) == DS_EINVAL);
        rs[lo].last = rs[lo].first - 1;
        if (rs[lo].first) CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    }
}
void test_router_range(void) {
    /* the seed's RangeBasedSharding: [0,25) [25,50) [50,75) [75,100) */
    static const ds_range_u64 seed_ranges[4] = {{50, 74, 2}, {0, 24, 0}, {75, 99, 3}, {25, 49, 1}};
    ds_range_bytes br[4];
    ds_router_config c;
    ds_router r;
    uint32_t s;
    static const char *bad[] = {"", "4a", "-1", "+1", " 1", "18446744073709551616", "000000000000000000001"};
    size_t i;
    prop_run("router_range", range_case, 60);
    memset(&c, 0, sizeof c);
    c.kind = DS_ROUTE_RANGE;
    c.ranges = seed_ranges;
    c.nranges = 4;
    CHECK(ds_router_init(&r, &c) == DS_OK);
    CHECK(ds_router_route(&r, "42", 2, &s) == DS_OK && s == 1);
    CHECK(ds_router_route(&r, "0", 1, &s) == DS_OK && s == 0);
    CHECK(ds_router_route(&r, "99", 2, &s) == DS_OK && s == 3);
    CHECK(ds_router_route(&r, "100", 3, &s) == DS_ENOTFOUND);
    CHECK(ds_router_route(&r, "18446744073709551615", 20, &s) == DS_ENOTFOUND);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(ds_router_route(&r, bad[i], strlen(bad[i]), &s) == DS_EINVAL);
    CHECK(ds_router_route(&r, NULL, 1, &s) == DS_EINVAL && ds_router_route(&r, "1", 1, NULL) == DS_EINVAL);
    ds_router_free(&r);
    /* byte-string ranges: ["", "g") ["g", "n") ["t", unbounded); a gap [n, t) */
    memset(br, 0, sizeof br);
    br[0].lo = "t"; br[0].lo_len = 1; br[0].shard = 2;
    br[1].hi = "g"; br[1].hi_len = 1; br[1].shard = 0;
    br[2].lo = "g"; br[2].lo_len = 1; br[2].hi = "n"; br[2].hi_len = 1; br[2].shard = 1;
    c.ranges = NULL;
    c.nranges = 0;
    c.branges = br;
    c.nbranges = 3;
    c.has_default = 1;
    c.default_shard = 7;
    CHECK(ds_router_init(&r, &c) == DS_OK);
    CHECK(ds_router_route(&r, "", 0, &s) == DS_OK && s == 0);
    CHECK(ds_router_route(&r, "apple", 5, &s) == DS_OK && s == 0);
    CHECK(ds_router_route(&r, "g", 1, &s) == DS_OK && s == 1);
    CHECK(ds_router_route(&r, "mzzz", 4, &s) == DS_OK && s == 1);
    CHECK(ds_router_route(&r, "n", 1, &s) == DS_OK && s == 7); /* the gap: default */
    CHECK(ds_router_route(&r, "t", 1, &s) == DS_OK && s == 2);
    CHECK(ds_router_route(&r, "\xff\xff", 2, &s) == DS_OK && s == 2);
    ds_router_free(&r);
    /* overlaps and empty ranges */
    br[2].hi = "u"; /* ["g", "u") overlaps ["t", ...) */
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    br[2].hi = "g"; /* ["g", "g") is empty */
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    br[2].hi = "n";
    br[3] = br[0]; /* two unbounded ranges */
    br[3].lo = "z";
    c.nbranges = 4;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    br[3].lo = NULL;
    br[3].lo_len = 2;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    /* both kinds of ranges, or neither */
    c.ranges = seed_ranges;
    c.nranges = 4;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    c.ranges = NULL;
    c.nranges = 0;
    c.branges = NULL;
    c.nbranges = 0;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
}

/* Prefixes against a linear scan for the longest. */
static void prefix_case(ds_rng *rng, uint64_t seed) {
    ds_prefix_route pr[24];
    unsigned char store[24][5];
    ds_router_config c;
    ds_router r;
    size_t n = 0, i, j, tries;
    (void)seed;
    for (tries = 0; tries < 24; tries++) { /* distinct prefixes over "ab" */
        size_t len = (size_t)ds_rng_below(rng, 5), dup = 0;
        for (j = 0; j < len; j++) store[n][j] = (unsigned char)('a' + ds_rng_below(rng, 2));
        for (i = 0; i < n; i++) dup |= pr[i].len == len && memcmp(pr[i].prefix, store[n], len) == 0;
        if (dup) continue;
        pr[n].prefix = store[n];
        pr[n].len = len;
        pr[n].shard = (uint32_t)ds_rng_below(rng, 1000);
        n++;
    }
    memset(&c, 0, sizeof c);
    c.kind = DS_ROUTE_PREFIX;
    c.prefixes = pr;
    c.nprefixes = n;
    c.has_default = (int)ds_rng_below(rng, 2);
    c.default_shard = 5000;
    CHECK(ds_router_init(&r, &c) == DS_OK);
    for (j = 0; j < 200; j++) {
        unsigned char key[7];
        size_t len = (size_t)ds_rng_below(rng, 8), best = 0;
        long want = -1;
        uint32_t s = 0;
        ds_status st;
        for (i = 0; i < len; i++) key[i] = (unsigned char)('a' + ds_rng_below(rng, 2));
        for (i = 0; i < n; i++)
            if (pr[i].len <= len && memcmp(pr[i].prefix, key, pr[i].len) == 0 && (want < 0 || pr[i].len > best)) {
                want = pr[i].shard;
                best = pr[i].len;
            }
        st = ds_router_route(&r, key, len, &s);
        if (want >= 0) CHECK(st == DS_OK && s == (uint32_t)want);
        else if (c.has_default) CHECK(st == DS_OK && s == 5000);
        else CHECK(st == DS_ENOTFOUND);
    }
    ds_router_free(&r);
    if (n > 1) { /* a prefix listed twice */
        pr[1] = pr[0];
        CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    }
}
void test_router_prefix(void) {
    /* the seed's GeoBasedSharding, as key prefixes */
    ds_prefix_route geo[3] = {{"user_US_", 8, 0}, {"user_EU_", 8, 1}, {"user_ASIA_", 10, 2}};
    ds_router_config c;
    ds_router r;
    uint32_t s;
    prop_run("router_prefix", prefix_case, 60);
    memset(&c, 0, sizeof c);
    c.kind = DS_ROUTE_PREFIX;
    c.prefixes = geo;
    c.nprefixes = 3;
    CHECK(ds_router_init(&r, &c) == DS_OK);
    CHECK(ds_router_route(&r, "user_EU_12345", 13, &s) == DS_OK && s == 1);
    CHECK(ds_router_route(&r, "user_ASIA_7", 11, &s) == DS_OK && s == 2);
    CHECK(ds_router_route(&r, "user_AF_1", 9, &s) == DS_ENOTFOUND);
    CHECK(ds_router_route_u64(&r, 7, &s) == DS_ENOTFOUND);
    ds_router_free(&r);
    geo[2].prefix = NULL;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
}

void test_router_edges(void) {
    ds_router_config c;
    ds_router r;
    double w[2] = {1, 0};
    memset(&c, 0, sizeof c);
    CHECK(ds_router_init(NULL, &c) == DS_EINVAL && ds_router_init(&r, NULL) == DS_EINVAL);
    c.kind = DS_ROUTE_MODULO;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL); /* no shards */
    c.kind = DS_ROUTE_JUMP;
    c.nshards = 0x80000000u;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    c.kind = DS_ROUTE_RENDEZVOUS;
    c.nshards = 2;
    c.weights = w;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL); /* a zero weight */
    w[1] = NAN;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    c.kind = DS_ROUTE_RING;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL); /* no ring */
    c.kind = DS_ROUTE_PREFIX;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL); /* no prefixes */
    c.kind = (ds_route_kind)42;
    CHECK(ds_router_init(&r, &c) == DS_EINVAL);
    CHECK(ds_router_route(NULL, "a", 1, NULL) == DS_EINVAL && ds_router_route_u64(NULL, 1, NULL) == DS_EINVAL);
    ds_router_free(NULL);
}

/* Every allocation of every strategy's init fails once: DS_ENOMEM, nothing
 * left allocated. */
static int router_oom_seq(uint64_t seed, prop_alloc *pa) {
    static const ds_range_u64 rs[2] = {{10, 19, 1}, {0, 9, 0}};
    ds_range_bytes br[2];
    ds_prefix_route pr[3] = {{"eu-", 3, 0}, {"us-", 3, 1}, {"us-west-", 8, 2}};
    double w[3] = {1, 2, 3};
    ds_router_config c;
    ds_router r;
    int kind;
    uint32_t s;
    (void)seed;
    memset(br, 0, sizeof br);
    br[0].hi = "m";
    br[0].hi_len = 1;
    br[1].lo = "m";
    br[1].lo_len = 1;
    br[1].shard = 1;
    for (kind = 0; kind < 4; kind++) {
        long before = PROP_FAILS(pa);
        ds_status st;
        memset(&c, 0, sizeof c);
        c.alloc = &pa->a;
        if (kind == 0) {
            c.kind = DS_ROUTE_RENDEZVOUS;
            c.nshards = 3;
            c.weights = w;
        } else if (kind == 1) {
            c.kind = DS_ROUTE_RANGE;
            c.ranges = rs;
            c.nranges = 2;
        } else if (kind == 2) {
            c.kind = DS_ROUTE_RANGE;
            c.branges = br;
            c.nbranges = 2;
        } else {
            c.kind = DS_ROUTE_PREFIX;
            c.prefixes = pr;
            c.nprefixes = 3;
        }
        st = ds_router_init(&r, &c);
        if (st == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            continue;
        }
        CHECK_OR(st == DS_OK, 1);
        if (kind == 1) CHECK_OR(ds_router_route_u64(&r, 12, &s) == DS_OK && s == 1, 1);
        else CHECK_OR(ds_router_route(&r, "us-west-2", 9, &s) == DS_OK, 1);
        if (kind == 2) CHECK_OR(s == 1, 1); /* "us-west-2" >= "m" */
        if (kind == 3) CHECK_OR(s == 2, 1); /* the longest prefix */
        ds_router_free(&r);
    }
    return 0;
}
void test_router_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(router_oom_seq, 1, &total) == 0 && total >= 6);
}
