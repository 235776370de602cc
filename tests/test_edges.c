/* tests/test_edges.c - the arithmetic-at-the-edges rule (DESIGN §2), for
 * every module: a count, size, k, weight or time at its extremes (0,
 * SIZE_MAX, SIZE_MAX - 1, UINT64_MAX, INT64_MIN/MAX, NaN) gets a status or
 * a documented neutral result, never undefined behaviour. Run under
 * ASan+UBSan, where an overflowed size or a wrapped signed add aborts.
 * tests/test_edges2.c holds the rest, and the audit list of every such
 * function with the tests that reach it. */
#include "prop.h"
#include <math.h>

static const size_t E_SIZES[] = {0, 1, SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2, (size_t)1 << 40};
#define E_NS (sizeof E_SIZES / sizeof E_SIZES[0])
static const int64_t E_TIMES[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, 999, INT64_MAX - 2000, INT64_MAX - 954,
                                  INT64_MAX - 500, INT64_MAX - 1, INT64_MAX};
#define E_NT (sizeof E_TIMES / sizeof E_TIMES[0])

/* A status a sizing call may give for an absurd request. */
static int e_sizing(ds_status st) { return st == DS_OK || st == DS_EINVAL || st == DS_ENOMEM; }

DS_VEC(evec, int)
DS_DEQUE(edeque, int)
DS_MAP(emap, uint64_t, int, ds_hash_u64, ds_eq_u64)

static int e_trie_fn(void *ctx, const void *key, size_t len, double score, void *val) {
    (void)key, (void)len, (void)score, (void)val;
    ++*(size_t *)ctx;
    return 0;
}

void test_edges_sizes(void) {
    size_t i;
    for (i = 0; i < E_NS; i++) {
        size_t n = E_SIZES[i];
        ds_status st;
        {
            evec v;
            edeque d;
            emap m;
            evec_init(&v);
            edeque_init(&d);
            emap_init(&m);
            CHECKF(e_sizing(evec_reserve(&v, n)), "vec reserve %zu", n);
            CHECKF(e_sizing(evec_resize(&v, n, 0)), "vec resize %zu", n);
            CHECKF(e_sizing(edeque_reserve(&d, n)), "deque reserve %zu", n);
            CHECKF(e_sizing(emap_reserve(&m, n)), "map reserve %zu", n);
            evec_free(&v);
            edeque_free(&d);
            emap_free(&m);
        }
        {
            ds_topk t;
            st = ds_topk_init(&t, n, n, NULL);
            CHECKF(e_sizing(st), "topk init %zu", n);
            if (st == DS_OK) ds_topk_free(&t);
        }
        {
            ds_window w;
            st = ds_window_init_count(&w, n, NULL);
            CHECKF(e_sizing(st), "window init_count %zu", n);
            if (st == DS_OK) ds_window_free(&w);
        }
        {
            ds_ddsketch s;
            st = ds_ddsketch_init(&s, 0.01, n, NULL);
            CHECKF(e_sizing(st), "ddsketch max_buckets %zu", n);
            if (st == DS_OK) ds_ddsketch_free(&s);
        }
        {
            ds_bloom b;
            st = ds_bloom_init(&b, (uint64_t)n, 0.01, NULL);
            CHECKF(e_sizing(st), "bloom n %zu", n);
            if (st == DS_OK) ds_bloom_free(&b);
            st = ds_bloom_init_mk(&b, (uint64_t)n, 7, 1, NULL);
            CHECKF(e_sizing(st), "bloom m %zu", n);
            if (st == DS_OK) ds_bloom_free(&b);
        }
        {
            ds_cuckoo c;
            st = ds_cuckoo_init(&c, (uint64_t)n, 12, NULL);
            CHECKF(e_sizing(st), "cuckoo capacity %zu", n);
            if (st == DS_OK) ds_cuckoo_free(&c);
        }
        {
            ds_trie t;
            size_t got = 0;
            ds_trie_init(&t, NULL);
            CHECK(ds_trie_put(&t, "ab", 2, NULL, NULL) == DS_OK && ds_trie_put(&t, "ac", 2, NULL, NULL) == DS_OK);
            CHECKF(ds_trie_complete(&t, "a", 1, n, e_trie_fn, &got) == (n < 2 ? n : 2) && got == (n < 2 ? n : 2),
                   "trie complete k=%zu: %zu", n, got);
            ds_trie_free(&t);
        }
        {
            ds_quadtree_config qc;
            ds_quadtree q;
            ds_qt_hit hits[4];
            size_t found = 99;
            memset(&qc, 0, sizeof qc);
            qc.x_max = qc.y_max = 1.0;
            CHECK(ds_quadtree_init(&q, &qc) == DS_OK);
            CHECK(ds_quadtree_add(&q, 0.5, 0.5, 7) == DS_OK && ds_quadtree_add(&q, 0.25, 0.5, 8) == DS_OK);
            st = ds_quadtree_knn(&q, 0.0, 0.0, n, hits, &found);
            CHECKF(st == DS_OK ? found == (n < 2 ? n : 2) : st == DS_EINVAL, "quadtree knn k=%zu: %s %zu", n,
                   ds_status_name(st), found);
            ds_quadtree_free(&q);
        }
    }
}

void test_edges_doubles(void) {
    static const double bad[] = {NAN, HUGE_VAL, -HUGE_VAL, 0.0, 1.0, -0.5, 2.0};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double p = bad[i];
        ds_bloom b;
        ds_sbloom s;
        ds_cms c;
        ds_ddsketch d;
        CHECKF(ds_bloom_init(&b, 1000, p, NULL) == DS_EINVAL, "bloom p=%g", p);
        CHECKF(ds_sbloom_init(&s, 1000, p, 2.0, 0.5, 0, NULL) == DS_EINVAL, "sbloom p=%g", p);
        CHECKF(ds_cms_init_error(&c, p, 0.01, NULL) == DS_EINVAL || p > 0.0, "cms eps=%g", p);
        CHECKF(ds_ddsketch_init(&d, p, 100, NULL) == DS_EINVAL, "ddsketch alpha=%g", p);
    }
}

void test_edges_times(void) {
    size_t i, j, a;
    for (a = 0; a < DS_LIMIT_ALGOS; a++)
        for (i = 0; i < E_NT; i++)
            for (j = 0; j < E_NT; j++) {
                ds_limit_config c;
                ds_limiter l;
                ds_limit_result res;
                int64_t w;
                ds_status st;
                memset(&c, 0, sizeof c);
                c.algo = (ds_limit_algo)a;
                c.limit = 1000;
                c.period_ns = 1000;
                CHECK(ds_limiter_init(&l, &c, NULL) == DS_OK);
                st = ds_limiter_take(&l, 516, E_TIMES[i], &res);
                CHECK(st == DS_OK || st == DS_EREFUSED || st == DS_EINVAL);
                st = ds_limiter_take(&l, 756, E_TIMES[j], &res);
                CHECK(st == DS_OK || st == DS_EREFUSED || st == DS_EINVAL);
                w = ds_limiter_wait_ns(&l, 234, E_TIMES[j]);
                /* a wait is -1 ("never") or lands at or before INT64_MAX */
                CHECKF(w == -1 || (w >= 0 && (E_TIMES[j] < 0 || w <= INT64_MAX - E_TIMES[j])),
                       "%s: wait %lld at now %lld", ds_limit_algo_name(c.algo), (long long)w, (long long)E_TIMES[j]);
                CHECK(ds_limiter_set(&l, UINT64_MAX, INT64_MAX, UINT64_MAX, E_TIMES[i]) != DS_ENOMEM);
                ds_limiter_free(&l);
            }
}

static int e_less(int a, int b) { return a < b; }
DS_HEAP(eheap, int, e_less)
DS_TSTORE(etstore, int)

/* More modules at their extremes: times through the window, breaker,
 * snowflake and time store; counts through heaps, deques, rings and
 * graphs; positions through vectors. */
void test_edges_more(void) {
    size_t i, j;
    for (i = 0; i < E_NT; i++) {
        int64_t t = E_TIMES[i];
        ds_window w;
        ds_breaker b;
        ds_breaker_config bc;
        ds_snowflake sf;
        uint64_t id;
        int64_t wait;
        ds_status st;
        etstore s;
        int64_t ts[4];
        int vals[4];
        CHECK(ds_window_init_time(&w, 1000, NULL) == DS_OK);
        for (j = 0; j < E_NT; j++) {
            st = ds_window_add(&w, 1.0, E_TIMES[j]);
            CHECK(st == DS_OK || st == DS_EINVAL);
        }
        ds_window_advance(&w, t);
        (void)ds_window_sum(&w);
        ds_window_free(&w);
        memset(&bc, 0, sizeof bc);
        bc.window = DS_BREAKER_TIME_BASED;
        CHECK(ds_breaker_init(&b, &bc, NULL) == DS_OK);
        for (j = 0; j < E_NT; j++) {
            int64_t retry = 0;
            st = ds_breaker_record(&b, DS_BREAKER_FAILURE, INT64_MAX, E_TIMES[j]);
            CHECK(st == DS_OK || st == DS_EINVAL);
            st = ds_breaker_allow(&b, E_TIMES[j], &retry);
            CHECK(st == DS_OK || st == DS_EREFUSED || st == DS_EINVAL);
            CHECK(st != DS_EREFUSED || retry == -1 || retry == INT64_MAX ||
                  (retry >= 0 && (E_TIMES[j] < 0 || retry <= INT64_MAX - E_TIMES[j])));
        }
        ds_breaker_free(&b);
        CHECK(ds_snowflake_init(&sf, NULL) == DS_OK);
        st = ds_snowflake_next(&sf, t, &id, &wait);
        CHECK(st == DS_OK || st == DS_EINVAL || st == DS_EBUSY || st == DS_EFULL); /* EFULL: past the layout */
        CHECK(etstore_init(&s) == DS_OK);
        st = etstore_insert(&s, t, 1);
        CHECK(st == DS_OK || st == DS_EINVAL);
        for (j = 0; j < E_NT; j++) {
            size_t n = etstore_range(&s, E_TIMES[j], E_TIMES[E_NT - 1 - j], ts, vals, 4);
            CHECK(n <= 1);
            (void)etstore_duration(&s, INT64_MAX, E_TIMES[j], ts, vals, 4);
        }
        etstore_free(&s);
    }
    for (i = 0; i < E_NS; i++) {
        size_t n = E_SIZES[i];
        eheap_topk tk;
        edeque d;
        evec v;
        ds_status st;
        st = eheap_topk_init(&tk, n, NULL);
        CHECKF(e_sizing(st), "topk_init %zu", n);
        if (st == DS_OK) {
            int ev, did;
            (void)eheap_topk_offer(&tk, 1, &ev, &did);
            eheap_topk_free(&tk);
        }
        edeque_init(&d);
        CHECKF(e_sizing(edeque_set_maxlen(&d, n)), "set_maxlen %zu", n);
        CHECK(edeque_push_back(&d, 1) == DS_OK || n == 0);
        edeque_free(&d);
        evec_init(&v);
        CHECK(evec_push(&v, 1) == DS_OK);
        CHECKF(evec_insert_at(&v, n, 2) == (n <= 1 ? DS_OK : DS_EINVAL), "insert_at %zu", n);
        {
            size_t len = evec_len(&v);
            CHECKF(evec_del_at(&v, n, NULL) == (n < len ? DS_OK : DS_EINVAL), "del_at %zu of %zu", n, len);
        }
        evec_free(&v);
        {
            ds_ring_config rc;
            ds_ring r;
            uint32_t out[4];
            memset(&rc, 0, sizeof rc);
            CHECK(ds_ring_init(&r, &rc) == DS_OK);
            CHECK(ds_ring_add(&r, "a", 1, 1, NULL) == DS_OK && ds_ring_add(&r, "b", 1, 1, NULL) == DS_OK);
            CHECKF(ds_ring_get_n(&r, "k", 1, out, n < 4 ? n : 4) == (n < 2 ? n : 2), "get_n %zu", n);
            ds_ring_free(&r);
        }
        {
            ds_graph g;
            uint32_t first;
            CHECK(ds_graph_init(&g, NULL) == DS_OK);
            st = ds_graph_add_nodes(&g, n, &first);
            CHECKF(e_sizing(st) || st == DS_EFULL, "graph add_nodes %zu: %s", n, ds_status_name(st));
            ds_graph_free(&g);
        }
    }
}
