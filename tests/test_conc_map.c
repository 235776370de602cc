/* tests/test_conc_map.c - ds_concurrent.h DS_CMAP: the sharded concurrent map.
 *
 * Single-threaded: long random op sequences against a model (an array
 * indexed by key; bounded maps add one recency list per shard, with the
 * shard computed from the documented hash bits and the documented share
 * split), checking every return value, every copied-out value, len, the
 * snapshot, and every on_evict call (key, value, reason). Allocation
 * failure at every k-th allocation (transient and persistent), bad input.
 * Threaded: threads on disjoint key sets must each see exactly the results
 * of their own sequential replay, and the final map is the union; shared
 * counters through upsert and cas add up exactly; compute_if_absent runs
 * make once per key under contention; a bounded map never holds more than
 * its budget (nor a shard more than its share), as seen by a concurrent
 * observer through len and snapshot. Built into the C11 test binaries
 * (ASan+UBSan, ThreadSanitizer with futex and with condvar). */
#define _POSIX_C_SOURCE 200809L
#include "ds_concurrent.h"
#include "prop.h"
#include <pthread.h>
#include <sched.h>

#if defined(__SANITIZE_THREAD__)
#define CMAP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CMAP_TSAN 1
#endif
#endif
/* TSan runs 5-15x slower and adds nothing to the single-threaded tests
 * but coverage: smaller runs there. */
#ifdef CMAP_TSAN
#define CMAP_OPS 6000 /* per thread */
#define CMAP_MODEL_CASES 8
#define CMAP_OOM_SEEDS 2
#else
#define CMAP_OPS 40000
#define CMAP_MODEL_CASES 60
#define CMAP_OOM_SEEDS 4
#endif
#define CMAP_THREADS 4

DS_CMAP(cm, uint64_t, uint64_t, ds_hash_u64, ds_eq_u64)

/* ---- the eviction log ---------------------------------------------------- */

typedef struct evrec {
    uint64_t key, val;
    ds_evict why;
} evrec;
typedef struct evlog {
    evrec e[512];
    size_t n;
    int overflow;
} evlog;
static void log_evict(void *ctx, uint64_t *key, uint64_t *val, ds_evict why) {
    evlog *l = (evlog *)ctx;
    if (l->n == sizeof l->e / sizeof l->e[0]) {
        l->overflow = 1;
        return;
    }
    l->e[l->n].key = *key;
    l->e[l->n].val = *val;
    l->e[l->n].why = why;
    l->n++;
}
static int cmp_evrec(const void *a, const void *b) {
    const evrec *x = (const evrec *)a, *y = (const evrec *)b;
    return x->key < y->key ? -1 : x->key > y->key;
}
static int cmp_entry(const void *a, const void *b) {
    const cm_entry *x = (const cm_entry *)a, *y = (const cm_entry *)b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* ---- callbacks ---------------------------------------------------------- */

/* upsert: add delta; drop the entry when the sum is a multiple of 5. */
typedef struct addctx {
    uint64_t delta;
    int calls, saw_new;
} addctx;
static int add_fn(void *ctx, uint64_t const *key, uint64_t *val, int is_new) {
    addctx *a = (addctx *)ctx;
    (void)key;
    a->calls++;
    a->saw_new = is_new;
    if (is_new && *val != 0) a->saw_new = -1; /* new values must start zeroed */
    *val += a->delta;
    return *val % 5 == 0;
}
/* compute_if_absent: key * 1000 + 1, or a failure. */
typedef struct makectx {
    int fail, calls;
} makectx;
static ds_status make_fn(void *ctx, uint64_t const *key, uint64_t *out) {
    makectx *m = (makectx *)ctx;
    m->calls++;
    if (*out != 0) return DS_ECORRUPT; /* out must start zeroed */
    if (m->fail) {
        *out = 99; /* must not be stored */
        return DS_ENOTFOUND;
    }
    *out = *key * 1000 + 1;
    return DS_OK;
}
typedef struct sumctx {
    uint64_t keys, vals;
    size_t n, stop_after;
} sumctx;
static int sum_fn(void *ctx, uint64_t const *key, uint64_t const *val) {
    sumctx *s = (sumctx *)ctx;
    s->keys += *key;
    s->vals += *val;
    return ++s->n == s->stop_after;
}

/* ---- single-threaded model ---------------------------------------------- */

#define MKEYS 300
#define MSHARDS 8
typedef struct model {
    int present[MKEYS];
    uint64_t val[MKEYS];
    size_t len;
    /* bounded: per shard, keys most recent first */
    size_t cap, nshards, share[MSHARDS], rlen[MSHARDS];
    uint64_t rec[MSHARDS][MKEYS];
    uint64_t seed;
    evlog want; /* evictions the model expects from the current op */
} model;

static size_t model_shard(const model *m, uint64_t k) {
    return (size_t)(ds_hash_u64(k, m->seed) >> 48) & (m->nshards - 1);
}
static void model_unlink(model *m, uint64_t k) {
    size_t s = model_shard(m, k), i;
    for (i = 0; i < m->rlen[s] && m->rec[s][i] != k; i++) {}
    if (i == m->rlen[s]) return;
    memmove(&m->rec[s][i], &m->rec[s][i + 1], (m->rlen[s] - i - 1) * sizeof(uint64_t));
    m->rlen[s]--;
}
static void model_front(model *m, uint64_t k) {
    size_t s = model_shard(m, k);
    memmove(&m->rec[s][1], &m->rec[s][0], m->rlen[s] * sizeof(uint64_t));
    m->rec[s][0] = k;
    m->rlen[s]++;
}
static void model_touch(model *m, uint64_t k) {
    if (!m->cap) return;
    model_unlink(m, k);
    model_front(m, k);
}
static void model_expect(model *m, uint64_t k, uint64_t v, ds_evict why) {
    m->want.e[m->want.n].key = k;
    m->want.e[m->want.n].val = v;
    m->want.e[m->want.n].why = why;
    m->want.n++;
}
static void model_add(model *m, uint64_t k, uint64_t v) {
    m->present[k] = 1;
    m->val[k] = v;
    m->len++;
    if (m->cap) {
        size_t s = model_shard(m, k);
        model_front(m, k);
        if (m->rlen[s] > m->share[s]) {
            uint64_t victim = m->rec[s][--m->rlen[s]];
            model_expect(m, victim, m->val[victim], DS_EVICT_CAPACITY);
            m->present[victim] = 0;
            m->len--;
        }
    }
}
static void model_remove(model *m, uint64_t k) {
    m->present[k] = 0;
    m->len--;
    if (m->cap) model_unlink(m, k);
}

/* Evictions seen == evictions expected (in order), then both cleared. */
static int evictions_match(evlog *got, model *m) {
    size_t i;
    int ok = !got->overflow && got->n == m->want.n;
    for (i = 0; ok && i < got->n; i++)
        ok = got->e[i].key == m->want.e[i].key && got->e[i].val == m->want.e[i].val &&
             got->e[i].why == m->want.e[i].why;
    if (!ok) {
        fprintf(stderr, "    evictions: got %zu, want %zu\n", got->n, m->want.n);
        for (i = 0; i < got->n || i < m->want.n; i++)
            fprintf(stderr, "      %zu: got %llu/%llu/%d want %llu/%llu/%d\n", i,
                    (unsigned long long)(i < got->n ? got->e[i].key : 0),
                    (unsigned long long)(i < got->n ? got->e[i].val : 0), i < got->n ? (int)got->e[i].why : -1,
                    (unsigned long long)(i < m->want.n ? m->want.e[i].key : 0),
                    (unsigned long long)(i < m->want.n ? m->want.e[i].val : 0),
                    i < m->want.n ? (int)m->want.e[i].why : -1);
    }
    got->n = 0;
    m->want.n = 0;
    return ok;
}

static void cmap_model_case(ds_rng *rng, uint64_t seed) {
    static model m;
    static evlog got;
    static cm_entry snap[MKEYS + 8];
    cm c;
    cm_config cfg;
    size_t i, n;
    int op;
    memset(&m, 0, sizeof m);
    memset(&got, 0, sizeof got);
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = m.seed = seed | 1;
    cfg.shards = 1 + (size_t)ds_rng_below(rng, MSHARDS);
    cfg.on_evict = log_evict;
    cfg.ctx = &got;
    if (ds_rng_below(rng, 2)) cfg.capacity = m.cap = 1 + (size_t)ds_rng_below(rng, 120);
    CHECK(cm_init(&c, &cfg) == DS_OK);
    m.nshards = cm_shards(&c);
    CHECK(m.nshards >= 1 && m.nshards <= MSHARDS && (m.nshards & (m.nshards - 1)) == 0);
    CHECK(m.nshards >= cfg.shards || (m.cap && m.nshards <= m.cap));
    CHECK(cm_capacity(&c) == m.cap);
    for (i = 0; i < m.nshards; i++) m.share[i] = m.cap / m.nshards + (i < m.cap % m.nshards);
    for (op = 0; op < 2500; op++) {
        uint64_t k = ds_rng_below(rng, MKEYS), v = 1 + ds_rng_below(rng, 1000000), out = 0;
        int r = (int)ds_rng_below(rng, 100), is_new = -1;
        ds_status s;
        if (r < 15) { /* get */
            s = cm_get(&c, k, r < 10 ? &out : NULL);
            CHECK(s == (m.present[k] ? DS_OK : DS_ENOTFOUND));
            if (m.present[k]) {
                CHECK(r >= 10 || out == m.val[k]);
                model_touch(&m, k);
            }
        } else if (r < 20) { /* has: no use */
            CHECK(cm_has(&c, k) == m.present[k]);
        } else if (r < 40) { /* put */
            s = cm_put(&c, k, v, r < 30 ? &is_new : NULL);
            CHECK(s == DS_OK);
            CHECK(r >= 30 || is_new == !m.present[k]);
            if (m.present[k]) {
                model_expect(&m, k, m.val[k], DS_EVICT_REPLACED);
                m.val[k] = v;
                model_touch(&m, k);
            } else {
                model_add(&m, k, v);
            }
        } else if (r < 48) { /* insert */
            s = cm_insert(&c, k, v);
            if (m.present[k]) {
                CHECK(s == DS_EEXIST);
            } else {
                CHECK(s == DS_OK);
                model_add(&m, k, v);
            }
        } else if (r < 58) { /* del */
            s = cm_del(&c, k, r < 53 ? &out : NULL);
            if (!m.present[k]) {
                CHECK(s == DS_ENOTFOUND);
            } else {
                CHECK(s == DS_OK);
                if (r < 53) CHECK(out == m.val[k]);
                else model_expect(&m, k, m.val[k], DS_EVICT_DELETED);
                model_remove(&m, k);
            }
        } else if (r < 70) { /* upsert */
            addctx a = {0, 0, 0};
            a.delta = 1 + ds_rng_below(rng, 9);
            s = cm_upsert(&c, k, add_fn, &a);
            CHECK(s == DS_OK && a.calls == 1 && a.saw_new == !m.present[k]);
            if (m.present[k]) {
                uint64_t nv = m.val[k] + a.delta;
                model_touch(&m, k);
                if (nv % 5 == 0) model_remove(&m, k);
                else m.val[k] = nv;
            } else if (a.delta % 5 != 0) {
                model_add(&m, k, a.delta);
            }
        } else if (r < 80) { /* compute_if_absent */
            makectx mk = {0, 0};
            mk.fail = ds_rng_below(rng, 4) == 0;
            s = cm_compute_if_absent(&c, k, make_fn, &mk, r < 77 ? &out : NULL);
            if (m.present[k]) {
                CHECK(s == DS_OK && mk.calls == 0);
                CHECK(r >= 77 || out == m.val[k]);
                model_touch(&m, k);
            } else if (mk.fail) {
                CHECK(s == DS_ENOTFOUND && mk.calls == 1);
            } else {
                CHECK(s == DS_OK && mk.calls == 1);
                CHECK(r >= 77 || out == k * 1000 + 1);
                model_add(&m, k, k * 1000 + 1);
            }
        } else if (r < 92) { /* cas */
            uint64_t exp = m.present[k] && ds_rng_below(rng, 3) ? m.val[k] : v;
            out = 12345;
            s = cm_cas(&c, k, exp, v + 7, r < 88 ? &out : NULL);
            if (!m.present[k]) {
                CHECK(s == DS_ENOTFOUND && out == 12345);
            } else {
                CHECK(r >= 88 || out == m.val[k]);
                model_touch(&m, k);
                if (exp == m.val[k]) {
                    CHECK(s == DS_OK);
                    m.val[k] = v + 7;
                } else {
                    CHECK(s == DS_EMISMATCH);
                }
            }
        } else if (r < 96) { /* snapshot */
            size_t cap = ds_rng_below(rng, 4) ? MKEYS + 8 : (size_t)ds_rng_below(rng, m.len + 1);
            s = cm_snapshot(&c, snap, cap, &n);
            if (cap < m.len) {
                CHECK(s == DS_EFULL && n == cap);
            } else {
                CHECK(s == DS_OK && n == m.len);
            }
            for (i = 0; i < n; i++) {
                CHECK(snap[i].key < MKEYS && m.present[snap[i].key] && snap[i].val == m.val[snap[i].key]);
                CHECK(i == 0 || model_shard(&m, snap[i].key) >= model_shard(&m, snap[i - 1].key));
            }
            qsort(snap, n, sizeof snap[0], cmp_entry);
            for (i = 1; i < n; i++) CHECK(snap[i].key != snap[i - 1].key);
        } else if (r < 99) { /* foreach, sometimes stopped early */
            sumctx sc = {0, 0, 0, 0};
            uint64_t ks = 0, vs = 0;
            sc.stop_after = ds_rng_below(rng, 2) ? 0 : 1 + (size_t)ds_rng_below(rng, m.len + 1);
            n = cm_foreach(&c, sum_fn, &sc);
            for (i = 0; i < MKEYS; i++)
                if (m.present[i]) {
                    ks += i;
                    vs += m.val[i];
                }
            if (sc.stop_after && sc.stop_after <= m.len) {
                CHECK(n == sc.stop_after);
            } else {
                CHECK(n == m.len && sc.keys == ks && sc.vals == vs);
            }
        } else { /* clear: every entry DELETED, in some order */
            for (i = 0; i < MKEYS; i++)
                if (m.present[i]) model_expect(&m, i, m.val[i], DS_EVICT_DELETED);
            cm_clear(&c);
            qsort(got.e, got.n, sizeof got.e[0], cmp_evrec);
            memset(m.present, 0, sizeof m.present);
            memset(m.rlen, 0, sizeof m.rlen);
            m.len = 0;
        }
        CHECKF(evictions_match(&got, &m), "op %d (r %d) key %llu", op, r, (unsigned long long)k);
        CHECKF(cm_len(&c) == m.len, "op %d: len %zu, model %zu", op, cm_len(&c), m.len);
        CHECK(!m.cap || m.len <= m.cap);
    }
    /* free hands every remaining entry to on_evict */
    for (i = 0; i < MKEYS; i++)
        if (m.present[i]) model_expect(&m, i, m.val[i], DS_EVICT_DELETED);
    cm_free(&c);
    qsort(got.e, got.n, sizeof got.e[0], cmp_evrec);
    CHECK(evictions_match(&got, &m));
    CHECK(cm_len(&c) == 0 && cm_get(&c, 1, NULL) == DS_EINVAL);
}

void test_conc_cmap_model(void) { prop_run("conc_cmap_model", cmap_model_case, CMAP_MODEL_CASES); }

/* ---- allocation failure ------------------------------------------------- */

/* Unbounded maps are compared with the full model after every op; bounded
 * ones (whose evictions the model would have to replay) check that an op
 * failing with DS_ENOMEM changed nothing about its key and the length and
 * called no callback. */
static int cmap_oom_seq(uint64_t seed, prop_alloc *pa) {
    cm c;
    cm_config cfg;
    ds_rng r;
    int present[100] = {0}, step;
    uint64_t val[100] = {0};
    size_t len = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.alloc = &pa->a;
    cfg.seed = seed;
    cfg.shards = seed % 3 == 0 ? 1 : 4;
    cfg.capacity = seed % 2 ? 0 : 40;
    {
        long before = PROP_FAILS(pa);
        ds_status s = cm_init(&c, &cfg);
        if (s == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            return 0;
        }
        CHECK_OR(s == DS_OK, 1);
    }
    ds_rng_seed(&r, seed);
    for (step = 0; step < 400; step++) {
        uint64_t k = ds_rng_below(&r, 100), v = 1 + ds_rng_below(&r, 1000), got = 0;
        int op = (int)ds_rng_below(&r, 5), had = cm_has(&c, k), is_new = 0;
        uint64_t hadv = 0;
        size_t len0 = cm_len(&c);
        long before = PROP_FAILS(pa);
        addctx a = {3, 0, 0};
        makectx mk = {0, 0};
        ds_status s;
        if (had) CHECK_OR(cm_get(&c, k, &hadv) == DS_OK, 1);
        if (op == 0) s = cm_put(&c, k, v, &is_new);
        else if (op == 1) s = cm_insert(&c, k, v);
        else if (op == 2) s = cm_upsert(&c, k, add_fn, &a);
        else if (op == 3) s = cm_compute_if_absent(&c, k, make_fn, &mk, &got);
        else s = cm_del(&c, k, &got);
        if (s == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            CHECK_OR(op != 4 && !had, 1); /* only adding a key allocates */
            CHECK_OR(a.calls == 0 && mk.calls == 0, 1);
            CHECK_OR(cm_len(&c) == len0 && !cm_has(&c, k), 1);
            continue;
        }
        if (cfg.capacity) {
            CHECK_OR(cm_len(&c) <= cfg.capacity, 1);
            continue;
        }
        /* unbounded: the model */
        if (op == 0) {
            CHECK_OR(s == DS_OK && is_new == !present[k], 1);
            len += !present[k];
            present[k] = 1;
            val[k] = v;
        } else if (op == 1) {
            CHECK_OR(s == (present[k] ? DS_EEXIST : DS_OK), 1);
            if (!present[k]) {
                present[k] = 1;
                val[k] = v;
                len++;
            }
        } else if (op == 2) {
            uint64_t nv = (present[k] ? val[k] : 0) + 3;
            CHECK_OR(s == DS_OK, 1);
            if (nv % 5 == 0) {
                len -= (size_t)present[k];
                present[k] = 0;
            } else {
                len += !present[k];
                present[k] = 1;
                val[k] = nv;
            }
        } else if (op == 3) {
            CHECK_OR(s == DS_OK, 1);
            if (!present[k]) {
                present[k] = 1;
                val[k] = k * 1000 + 1;
                len++;
            }
            CHECK_OR(got == val[k], 1);
        } else {
            CHECK_OR(s == (present[k] ? DS_OK : DS_ENOTFOUND), 1);
            if (present[k]) {
                CHECK_OR(got == val[k], 1);
                present[k] = 0;
                len--;
            }
        }
        CHECK_OR(cm_len(&c) == len, 1);
        {
            uint64_t kk;
            for (kk = 0; kk < 100; kk++) {
                uint64_t x = 0;
                ds_status g = cm_get(&c, kk, &x);
                CHECK_OR(g == (present[kk] ? DS_OK : DS_ENOTFOUND), 1);
                CHECK_OR(!present[kk] || x == val[kk], 1);
            }
        }
    }
    cm_free(&c);
    return 0;
}
void test_conc_cmap_oom(void) {
    long total = 0;
    uint64_t seed;
    for (seed = 1; seed <= CMAP_OOM_SEEDS; seed++) {
        CHECK(prop_oom_sweep(cmap_oom_seq, seed, &total) == 0);
        CHECK(total > 4);
    }
}

/* ---- bad input, sizing, odd calls --------------------------------------- */

static ds_status make_ok(void *ctx, uint64_t const *key, uint64_t *out) {
    (void)ctx;
    *out = *key + 1;
    return DS_OK;
}
static int keep_fn(void *ctx, uint64_t const *key, uint64_t *val, int is_new) {
    (void)ctx;
    (void)key;
    (void)is_new;
    (*val)++;
    return 0;
}
typedef struct pt {
    int x;
    int y;
} pt;
static int pt_eq_x(pt const *a, pt const *b) { return a->x == b->x; } /* y ignored */
DS_CMAP(ptmap, uint64_t, pt, ds_hash_u64, ds_eq_u64)
DS_CMAP(strmap, const char *, int, ds_hash_str, ds_eq_str)

void test_conc_cmap_edges(void) {
    cm c;
    cm_config cfg;
    cm_entry e[4];
    uint64_t v = 0;
    size_t n = 9, i, sum;
    ptmap pm;
    ptmap_config pcfg;
    strmap sm;
    pt a = {1, 2}, b = {1, 99}, d = {3, 4}, got = {0, 0};
    char key1[8] = "alpha", key2[8] = "alpha";
    int iv = 0;
    memset(&cfg, 0, sizeof cfg);
    /* bad input */
    CHECK(cm_init(NULL, NULL) == DS_EINVAL);
    cfg.shards = DS_CMAP_MAX_SHARDS + 1;
    CHECK(cm_init(&c, &cfg) == DS_EINVAL);
    cfg.shards = 1;
    cfg.capacity = SIZE_MAX;
    CHECK(cm_init(&c, &cfg) == DS_EINVAL); /* a share of 2^31 or more */
    memset(&cfg, 0, sizeof cfg);
    CHECK(cm_get(NULL, 1, &v) == DS_EINVAL && cm_put(NULL, 1, 1, NULL) == DS_EINVAL);
    CHECK(cm_insert(NULL, 1, 1) == DS_EINVAL && cm_del(NULL, 1, NULL) == DS_EINVAL);
    CHECK(cm_upsert(NULL, 1, keep_fn, NULL) == DS_EINVAL && cm_cas(NULL, 1, 1, 2, NULL) == DS_EINVAL);
    CHECK(cm_compute_if_absent(NULL, 1, make_ok, NULL, NULL) == DS_EINVAL);
    CHECK(cm_snapshot(NULL, e, 4, &n) == DS_EINVAL && n == 0);
    CHECK(cm_len(NULL) == 0 && cm_shards(NULL) == 0 && cm_capacity(NULL) == 0 && !cm_has(NULL, 1));
    CHECK(cm_foreach(NULL, sum_fn, NULL) == 0);
    cm_clear(NULL);
    cm_free(NULL);
    /* defaults: a power of two >= 16 shards */
    CHECK(cm_init(&c, NULL) == DS_OK);
    CHECK(cm_shards(&c) >= 16 && (cm_shards(&c) & (cm_shards(&c) - 1)) == 0 && cm_capacity(&c) == 0);
    CHECK(cm_upsert(&c, 1, NULL, NULL) == DS_EINVAL && cm_compute_if_absent(&c, 1, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(cm_snapshot(&c, NULL, 1, &n) == DS_EINVAL);
    CHECK(cm_snapshot(&c, NULL, 0, &n) == DS_OK && n == 0); /* empty map, no array */
    CHECK(cm_foreach(&c, NULL, NULL) == 0);
    CHECK(cm_put(&c, 5, 50, NULL) == DS_OK);
    CHECK(cm_snapshot(&c, NULL, 0, &n) == DS_EFULL && n == 0);
    CHECK(cm_snapshot(&c, e, 4, NULL) == DS_OK);
    CHECK(cm_compute_if_absent(&c, 5, make_ok, NULL, &v) == DS_OK && v == 50);
    CHECK(cm_compute_if_absent(&c, 6, make_ok, NULL, NULL) == DS_OK && cm_get(&c, 6, &v) == DS_OK && v == 7);
    CHECK(cm_upsert(&c, 6, keep_fn, NULL) == DS_OK && cm_get(&c, 6, &v) == DS_OK && v == 8);
    cm_free(&c);
    cm_free(&c); /* twice is harmless; calls after free are refused */
    CHECK(cm_put(&c, 1, 1, NULL) == DS_EINVAL && cm_len(&c) == 0 && cm_shards(&c) == 0);
    /* sizing: explicit counts round up; the thread hint; a capacity caps
     * the count, and the shares add up to it */
    cfg.shards = 5;
    CHECK(cm_init(&c, &cfg) == DS_OK && cm_shards(&c) == 8);
    cm_free(&c);
    cfg.shards = 0;
    cfg.threads = 64;
    CHECK(cm_init(&c, &cfg) == DS_OK && cm_shards(&c) == 256);
    cm_free(&c);
    cfg.threads = 1;
    CHECK(cm_init(&c, &cfg) == DS_OK && cm_shards(&c) == 16);
    cm_free(&c);
    cfg.threads = 0;
    cfg.shards = 8;
    cfg.capacity = 3;
    CHECK(cm_init(&c, &cfg) == DS_OK && cm_shards(&c) == 2);
    for (i = 0; i < 1000; i++) CHECK(cm_put(&c, i, i, NULL) == DS_OK && cm_len(&c) <= 3);
    CHECK(cm_len(&c) == 3); /* shares 2 + 1, both full after 1000 keys */
    cm_free(&c);
    cfg.shards = 0;
    cfg.capacity = 100; /* default count: shares of >= 16 */
    CHECK(cm_init(&c, &cfg) == DS_OK && cm_shards(&c) == 4);
    for (i = 0; i < 1000; i++) CHECK(cm_put(&c, i * 7919, i, NULL) == DS_OK);
    sum = cm_len(&c);
    CHECK(sum == 100); /* every shard saw far more keys than its share */
    cm_free(&c);
    cfg.capacity = 1; /* one shard, one entry */
    CHECK(cm_init(&c, &cfg) == DS_OK && cm_shards(&c) == 1);
    CHECK(cm_put(&c, 1, 10, NULL) == DS_OK && cm_put(&c, 2, 20, NULL) == DS_OK);
    CHECK(cm_len(&c) == 1 && !cm_has(&c, 1) && cm_get(&c, 2, &v) == DS_OK && v == 20);
    cm_free(&c);
    /* cas with a value equality that ignores part of the value */
    memset(&pcfg, 0, sizeof pcfg);
    pcfg.val_eq = pt_eq_x;
    CHECK(ptmap_init(&pm, &pcfg) == DS_OK);
    CHECK(ptmap_put(&pm, 1, a, NULL) == DS_OK);
    CHECK(ptmap_cas(&pm, 1, b, d, &got) == DS_OK && got.y == 2); /* b.x == a.x */
    CHECK(ptmap_cas(&pm, 1, a, d, &got) == DS_EMISMATCH && got.x == 3 && got.y == 4);
    CHECK(ptmap_cas(&pm, 2, a, d, NULL) == DS_ENOTFOUND);
    ptmap_free(&pm);
    /* string keys: equal strings at different addresses are one key */
    CHECK(strmap_init(&sm, NULL) == DS_OK);
    CHECK(strmap_put(&sm, key1, 1, NULL) == DS_OK && strmap_insert(&sm, key2, 2) == DS_EEXIST);
    CHECK(strmap_get(&sm, "alpha", &iv) == DS_OK && iv == 1 && strmap_len(&sm) == 1);
    CHECK(strmap_del(&sm, key2, NULL) == DS_OK && strmap_len(&sm) == 0);
    strmap_free(&sm);
}

/* ---- threads ------------------------------------------------------------ */

typedef struct worker {
    cm *c;
    int id, nthreads;
    uint64_t seed;
    long bad;
    /* disjoint: the thread's own model, keys k * nthreads + id */
    int present[64];
    uint64_t val[64];
    /* counters */
    uint64_t adds[16];
    uint64_t ops;
} worker;

static void run_threads(worker *w, int n, void *(*fn)(void *)) {
    pthread_t t[CMAP_THREADS + 2];
    int i;
    for (i = 0; i < n; i++) pthread_create(&t[i], NULL, fn, &w[i]);
    for (i = 0; i < n; i++) pthread_join(t[i], NULL);
}

/* Each thread owns the keys == id mod nthreads; every result must be what
 * its own sequential replay gives, whatever the others do to their keys
 * in the same shards. */
static void *disjoint_main(void *arg) {
    worker *w = (worker *)arg;
    ds_rng r;
    int op;
    ds_rng_seed(&r, w->seed);
    for (op = 0; op < CMAP_OPS; op++) {
        size_t j = (size_t)ds_rng_below(&r, 64);
        uint64_t k = (uint64_t)j * (uint64_t)w->nthreads + (uint64_t)w->id, v = ds_rng_next(&r) >> 8, out = 0;
        int kind = (int)ds_rng_below(&r, 7), is_new = -1;
        ds_status s;
        if (kind == 0) {
            s = cm_get(w->c, k, &out);
            if (s != (w->present[j] ? DS_OK : DS_ENOTFOUND) || (w->present[j] && out != w->val[j])) w->bad++;
        } else if (kind == 1) {
            s = cm_put(w->c, k, v, &is_new);
            if (s != DS_OK || is_new != !w->present[j]) w->bad++;
            w->present[j] = 1;
            w->val[j] = v;
        } else if (kind == 2) {
            s = cm_del(w->c, k, &out);
            if (s != (w->present[j] ? DS_OK : DS_ENOTFOUND) || (w->present[j] && out != w->val[j])) w->bad++;
            w->present[j] = 0;
        } else if (kind == 3) {
            addctx a = {0, 0, 0};
            a.delta = 1 + (v % 9);
            s = cm_upsert(w->c, k, add_fn, &a);
            if (s != DS_OK || a.calls != 1 || a.saw_new != !w->present[j]) w->bad++;
            v = (w->present[j] ? w->val[j] : 0) + a.delta;
            w->present[j] = v % 5 != 0;
            w->val[j] = v;
        } else if (kind == 4) {
            makectx mk = {0, 0};
            s = cm_compute_if_absent(w->c, k, make_fn, &mk, &out);
            if (s != DS_OK || mk.calls != !w->present[j] || out != (w->present[j] ? w->val[j] : k * 1000 + 1))
                w->bad++;
            if (!w->present[j]) {
                w->present[j] = 1;
                w->val[j] = k * 1000 + 1;
            }
        } else if (kind == 5) {
            uint64_t exp = w->present[j] && (v & 1) ? w->val[j] : v;
            s = cm_cas(w->c, k, exp, v + 1, &out);
            if (!w->present[j]) {
                if (s != DS_ENOTFOUND) w->bad++;
            } else if (out != w->val[j] || s != (exp == w->val[j] ? DS_OK : DS_EMISMATCH)) {
                w->bad++;
            } else if (s == DS_OK) {
                w->val[j] = v + 1;
            }
        } else {
            s = cm_insert(w->c, k, v);
            if (s != (w->present[j] ? DS_EEXIST : DS_OK)) w->bad++;
            if (!w->present[j]) {
                w->present[j] = 1;
                w->val[j] = v;
            }
        }
    }
    return NULL;
}

void test_conc_cmap_disjoint(void) {
    static cm_entry snap[64 * CMAP_THREADS + 1];
    worker w[CMAP_THREADS];
    size_t shards[2] = {1, 0}, n, i, want;
    int round, t;
    for (round = 0; round < 2; round++) {
        cm c;
        cm_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.shards = shards[round]; /* one shared shard, then the default */
        CHECK(cm_init(&c, &cfg) == DS_OK);
        memset(w, 0, sizeof w);
        for (t = 0; t < CMAP_THREADS; t++) {
            w[t].c = &c;
            w[t].id = t;
            w[t].nthreads = CMAP_THREADS;
            w[t].seed = 1000u * (uint64_t)round + (uint64_t)t + 1;
        }
        run_threads(w, CMAP_THREADS, disjoint_main);
        want = 0;
        for (t = 0; t < CMAP_THREADS; t++) {
            CHECKF(w[t].bad == 0, "thread %d: %ld results differ from its replay", t, w[t].bad);
            for (i = 0; i < 64; i++) want += (size_t)w[t].present[i];
        }
        /* the final map is the union of the replays */
        CHECK(cm_len(&c) == want);
        CHECK(cm_snapshot(&c, snap, sizeof snap / sizeof snap[0], &n) == DS_OK && n == want);
        for (i = 0; i < n; i++) {
            uint64_t k = snap[i].key;
            worker *o = &w[k % CMAP_THREADS];
            size_t j = (size_t)(k / CMAP_THREADS);
            CHECK(j < 64 && o->present[j] && o->val[j] == snap[i].val);
        }
        cm_free(&c);
    }
}

/* Shared counters: every thread adds 1 to random keys of 16 through upsert
 * (odd threads) or a cas retry loop (even threads); a reader thread runs
 * get, len and snapshot meanwhile. Each key must end at the exact total. */
typedef struct shared_run {
    cm *c;
    DS__ATOMIC(int) done;
    long bad;
    uint64_t busy; /* cas attempts that lost a race */
} shared_run;
static shared_run g_shared;

static int inc_fn(void *ctx, uint64_t const *key, uint64_t *val, int is_new) {
    (void)ctx;
    (void)key;
    (void)is_new;
    (*val)++;
    return 0;
}
static void *counter_main(void *arg) {
    worker *w = (worker *)arg;
    ds_rng r;
    uint64_t i, busy = 0;
    ds_rng_seed(&r, w->seed);
    for (i = 0; i < (uint64_t)CMAP_OPS; i++) {
        size_t k = (size_t)ds_rng_below(&r, 16);
        if (w->id % 2) {
            if (cm_upsert(w->c, k, inc_fn, NULL) != DS_OK) w->bad++;
        } else {
            uint64_t cur = 0;
            ds_status s = cm_get(w->c, k, &cur);
            if (s != DS_OK) w->bad++; /* all 16 exist from the start */
            while ((s = cm_cas(w->c, k, cur, cur + 1, &cur)) == DS_EMISMATCH) busy++;
            if (s != DS_OK) w->bad++;
        }
        w->adds[k]++;
    }
    w->ops = busy;
    return NULL;
}
static void *counter_reader(void *arg) {
    worker *w = (worker *)arg;
    cm_entry snap[32];
    uint64_t last[16] = {0};
    size_t n, i;
    while (!DS__ALOAD(&g_shared.done, acquire)) {
        if (cm_len(w->c) != 16) w->bad++;
        if (cm_snapshot(w->c, snap, 32, &n) != DS_OK || n != 16) w->bad++;
        for (i = 0; i < n; i++) { /* counters only grow */
            if (snap[i].key >= 16 || snap[i].val < last[snap[i].key]) w->bad++;
            else last[snap[i].key] = snap[i].val;
        }
        sched_yield();
    }
    return NULL;
}
static void *counter_writers(void *arg) {
    worker *w = (worker *)arg;
    pthread_t t[CMAP_THREADS];
    int i;
    for (i = 0; i < CMAP_THREADS; i++) pthread_create(&t[i], NULL, counter_main, &w[i]);
    for (i = 0; i < CMAP_THREADS; i++) pthread_join(t[i], NULL);
    DS__ASTORE(&g_shared.done, 1, release);
    return NULL;
}

void test_conc_cmap_counters(void) {
    cm c;
    cm_config cfg;
    worker w[CMAP_THREADS + 1];
    pthread_t wt, rt;
    uint64_t k, busy = 0;
    int t;
    memset(&cfg, 0, sizeof cfg);
    cfg.shards = 4;
    CHECK(cm_init(&c, &cfg) == DS_OK);
    for (k = 0; k < 16; k++) CHECK(cm_put(&c, k, 0, NULL) == DS_OK);
    memset(w, 0, sizeof w);
    for (t = 0; t <= CMAP_THREADS; t++) {
        w[t].c = &c;
        w[t].id = t;
        w[t].seed = 77 + (uint64_t)t;
    }
    DS__AINIT(&g_shared.done, 0);
    pthread_create(&rt, NULL, counter_reader, &w[CMAP_THREADS]);
    pthread_create(&wt, NULL, counter_writers, w);
    pthread_join(wt, NULL);
    pthread_join(rt, NULL);
    for (t = 0; t <= CMAP_THREADS; t++) {
        CHECKF(w[t].bad == 0, "thread %d: %ld bad results", t, w[t].bad);
        busy += w[t].ops;
    }
    for (k = 0; k < 16; k++) {
        uint64_t want = 0, got = 0;
        for (t = 0; t < CMAP_THREADS; t++) want += w[t].adds[k];
        CHECK(cm_get(&c, k, &got) == DS_OK);
        CHECKF(got == want, "key %llu: %llu, want %llu (lost updates)", (unsigned long long)k,
               (unsigned long long)got, (unsigned long long)want);
    }
    if (prop_env_long("DS_VERBOSE", 0)) printf("      (cas lost %llu races)\n", (unsigned long long)busy);
    cm_free(&c);
}

/* compute_if_absent under contention: every thread asks for every key (in
 * its own random order, with a yield inside make to widen the window);
 * make must run exactly once per key and every caller get its value. */
#define ONCE_KEYS 256
static DS__ATOMIC(int) g_made[ONCE_KEYS];
static ds_status make_once(void *ctx, uint64_t const *key, uint64_t *out) {
    (void)ctx;
    DS__AADD(&g_made[*key], 1, relaxed);
    if (*key % 8 == 0) sched_yield();
    *out = *key * 31 + 7;
    return DS_OK;
}
static void *once_main(void *arg) {
    worker *w = (worker *)arg;
    uint64_t order[ONCE_KEYS], i;
    ds_rng r;
    ds_rng_seed(&r, w->seed);
    for (i = 0; i < ONCE_KEYS; i++) order[i] = i;
    for (i = ONCE_KEYS - 1; i > 0; i--) { /* Fisher-Yates */
        uint64_t j = ds_rng_below(&r, i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (i = 0; i < ONCE_KEYS; i++) {
        uint64_t v = 0;
        if (cm_compute_if_absent(w->c, order[i], make_once, NULL, &v) != DS_OK || v != order[i] * 31 + 7)
            w->bad++;
    }
    return NULL;
}
void test_conc_cmap_compute_once(void) {
    cm c;
    cm_config cfg;
    worker w[CMAP_THREADS];
    int t, round;
    size_t k;
    for (round = 0; round < 3; round++) {
        memset(&cfg, 0, sizeof cfg);
        cfg.shards = round == 0 ? 1 : 8;
        cfg.capacity = round == 2 ? 4 * ONCE_KEYS : 0; /* bounded, nothing evicted */
        CHECK(cm_init(&c, &cfg) == DS_OK);
        for (k = 0; k < ONCE_KEYS; k++) DS__AINIT(&g_made[k], 0);
        memset(w, 0, sizeof w);
        for (t = 0; t < CMAP_THREADS; t++) {
            w[t].c = &c;
            w[t].seed = 500 + (uint64_t)t + 10u * (uint64_t)round;
        }
        run_threads(w, CMAP_THREADS, once_main);
        for (t = 0; t < CMAP_THREADS; t++) CHECK(w[t].bad == 0);
        for (k = 0; k < ONCE_KEYS; k++)
            CHECKF(DS__ALOAD(&g_made[k], relaxed) == 1, "round %d key %zu: make ran %d times", round, k,
                   DS__ALOAD(&g_made[k], relaxed));
        CHECK(cm_len(&c) == ONCE_KEYS);
        cm_free(&c);
    }
}

/* A bounded map under writers never holds more than its budget: an
 * observer checks len and, through snapshot (consistent per shard), that
 * no shard holds more than its share. At the end the books balance: new
 * keys - capacity evictions - deletions == len. */
typedef struct bounded_run {
    DS__ATOMIC(uint64_t) evicted, replaced, deleted_cb, wrong;
    DS__ATOMIC(int) done;
    size_t cap, nshards;
    uint64_t seed;
    long bad;
} bounded_run;
static bounded_run g_bounded;

static void count_evict(void *ctx, uint64_t *key, uint64_t *val, ds_evict why) {
    bounded_run *b = (bounded_run *)ctx;
    (void)key;
    if (*val != *key * 3) DS__AADD(&b->wrong, 1u, relaxed); /* shard locks differ: atomic */
    if (why == DS_EVICT_CAPACITY) DS__AADD(&b->evicted, 1u, relaxed);
    else if (why == DS_EVICT_REPLACED) DS__AADD(&b->replaced, 1u, relaxed);
    else DS__AADD(&b->deleted_cb, 1u, relaxed);
}
static void *bounded_writer(void *arg) {
    worker *w = (worker *)arg;
    ds_rng r;
    int op;
    ds_rng_seed(&r, w->seed);
    for (op = 0; op < CMAP_OPS; op++) {
        uint64_t k = ds_rng_below(&r, 3000), out;
        int is_new = 0, kind = (int)ds_rng_below(&r, 10);
        if (kind < 7) {
            if (cm_put(w->c, k, k * 3, &is_new) != DS_OK) w->bad++;
            w->adds[0] += (uint64_t)is_new;
        } else if (kind < 9) {
            if (cm_get(w->c, k, &out) == DS_OK && out != k * 3) w->bad++;
        } else if (cm_del(w->c, k, &out) == DS_OK) {
            w->adds[1]++;
            if (out != k * 3) w->bad++;
        }
    }
    return NULL;
}
static void *bounded_observer(void *arg) {
    worker *w = (worker *)arg;
    static cm_entry snap[1024];
    size_t n, i, per[64];
    while (!DS__ALOAD(&g_bounded.done, acquire)) {
        ds_status s;
        if (cm_len(w->c) > g_bounded.cap) w->bad++;
        s = cm_snapshot(w->c, snap, 1024, &n);
        if (s != DS_OK || n > g_bounded.cap) w->bad++;
        memset(per, 0, sizeof per);
        for (i = 0; i < n; i++) per[(size_t)(ds_hash_u64(snap[i].key, g_bounded.seed) >> 48) & (g_bounded.nshards - 1)]++;
        for (i = 0; i < g_bounded.nshards; i++)
            if (per[i] > g_bounded.cap / g_bounded.nshards + (i < g_bounded.cap % g_bounded.nshards)) w->bad++;
        w->ops++;
        sched_yield();
    }
    return NULL;
}
static void *bounded_writers(void *arg) {
    worker *w = (worker *)arg;
    pthread_t t[CMAP_THREADS];
    int i;
    for (i = 0; i < 3; i++) pthread_create(&t[i], NULL, bounded_writer, &w[i]);
    for (i = 0; i < 3; i++) pthread_join(t[i], NULL);
    DS__ASTORE(&g_bounded.done, 1, release);
    return NULL;
}
void test_conc_cmap_bounded(void) {
    cm c;
    cm_config cfg;
    worker w[4];
    pthread_t wt, ot;
    uint64_t added = 0, deleted = 0;
    int t;
    memset(&g_bounded, 0, sizeof g_bounded);
    DS__AINIT(&g_bounded.evicted, (uint64_t)0);
    DS__AINIT(&g_bounded.replaced, (uint64_t)0);
    DS__AINIT(&g_bounded.deleted_cb, (uint64_t)0);
    DS__AINIT(&g_bounded.wrong, (uint64_t)0);
    DS__AINIT(&g_bounded.done, 0);
    memset(&cfg, 0, sizeof cfg);
    cfg.capacity = g_bounded.cap = 203; /* uneven shares: 26 x 3, 25 x 5 */
    cfg.shards = 8;
    cfg.seed = g_bounded.seed = 12345;
    cfg.on_evict = count_evict;
    cfg.ctx = &g_bounded;
    CHECK(cm_init(&c, &cfg) == DS_OK);
    g_bounded.nshards = cm_shards(&c);
    CHECK(g_bounded.nshards == 8);
    memset(w, 0, sizeof w);
    for (t = 0; t < 4; t++) {
        w[t].c = &c;
        w[t].seed = 900 + (uint64_t)t;
    }
    pthread_create(&ot, NULL, bounded_observer, &w[3]);
    pthread_create(&wt, NULL, bounded_writers, w);
    pthread_join(wt, NULL);
    pthread_join(ot, NULL);
    for (t = 0; t < 4; t++) CHECKF(w[t].bad == 0, "thread %d: %ld violations", t, w[t].bad);
    CHECK(DS__ALOAD(&g_bounded.wrong, relaxed) == 0);
    CHECK(w[3].ops > 0);
    for (t = 0; t < 3; t++) {
        added += w[t].adds[0];
        deleted += w[t].adds[1];
    }
    CHECK(DS__ALOAD(&g_bounded.evicted, relaxed) > 0 && DS__ALOAD(&g_bounded.replaced, relaxed) > 0);
    CHECK(DS__ALOAD(&g_bounded.deleted_cb, relaxed) == 0); /* del always took the value */
    CHECKF(added - DS__ALOAD(&g_bounded.evicted, relaxed) - deleted == cm_len(&c),
           "added %llu evicted %llu deleted %llu len %zu", (unsigned long long)added,
           (unsigned long long)DS__ALOAD(&g_bounded.evicted, relaxed), (unsigned long long)deleted, cm_len(&c));
    CHECK(cm_len(&c) <= 203);
    cm_free(&c);
    CHECK(DS__ALOAD(&g_bounded.deleted_cb, relaxed) == added - DS__ALOAD(&g_bounded.evicted, relaxed) - deleted);
}

/* cas under contention: all threads increment the same two counters with
 * get + cas retry loops (a yield now and then between the read and the
 * cas widens the race); losers get DS_EMISMATCH and the value they lost to,
 * and retry from it. No increment may be lost or doubled. */
static void *cas_main(void *arg) {
    worker *w = (worker *)arg;
    ds_rng r;
    int i;
    ds_rng_seed(&r, w->seed);
    for (i = 0; i < CMAP_OPS / 2; i++) {
        uint64_t k = ds_rng_below(&r, 2), cur = 0, seen = 0;
        ds_status s;
        if (cm_get(w->c, k, &cur) != DS_OK) w->bad++;
        if (ds_rng_below(&r, 16) == 0) sched_yield();
        while ((s = cm_cas(w->c, k, cur, cur + 1, &seen)) == DS_EMISMATCH) {
            if (seen <= cur) w->bad++; /* lost to an older value: impossible */
            cur = seen;
            w->ops++;
        }
        if (s != DS_OK || seen != cur) w->bad++;
        w->adds[k]++;
    }
    return NULL;
}
void test_conc_cmap_cas(void) {
    cm c;
    cm_config cfg;
    worker w[CMAP_THREADS];
    uint64_t k, busy = 0;
    int t;
    memset(&cfg, 0, sizeof cfg);
    CHECK(cm_init(&c, &cfg) == DS_OK);
    CHECK(cm_put(&c, 0, 1000, NULL) == DS_OK && cm_put(&c, 1, 0, NULL) == DS_OK);
    memset(w, 0, sizeof w);
    for (t = 0; t < CMAP_THREADS; t++) {
        w[t].c = &c;
        w[t].seed = 4242 + (uint64_t)t;
    }
    run_threads(w, CMAP_THREADS, cas_main);
    for (t = 0; t < CMAP_THREADS; t++) {
        CHECKF(w[t].bad == 0, "thread %d: %ld bad cas results", t, w[t].bad);
        busy += w[t].ops;
    }
    for (k = 0; k < 2; k++) {
        uint64_t want = k ? 0 : 1000, got = 0;
        for (t = 0; t < CMAP_THREADS; t++) want += w[t].adds[k];
        CHECK(cm_get(&c, k, &got) == DS_OK);
        CHECKF(got == want, "key %llu: %llu, want %llu", (unsigned long long)k, (unsigned long long)got,
               (unsigned long long)want);
    }
    if (prop_env_long("DS_VERBOSE", 0)) printf("      (%llu cas calls lost a race)\n", (unsigned long long)busy);
    cm_free(&c);
}
