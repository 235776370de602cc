/* tests/test_edges2.c - the arithmetic-at-the-edges rule (DESIGN §2), the
 * modules tests/test_edges.c does not reach: every double, count, size, k,
 * ef, weight and time parameter at its extremes. The audit list (which
 * function is exercised where) is at the top of tests/test_edges.c. */
#include "prop.h"
#include <float.h>
#include <math.h>

static const double E2_D[] = {NAN, HUGE_VAL, -HUGE_VAL, 0.0, -0.0, 5e-324, -5e-324, DBL_MIN, DBL_MAX, -DBL_MAX,
                              1e300, -1e300, 0.5, -1.0, 1.0};
#define E2_ND (sizeof E2_D / sizeof E2_D[0])
static const size_t E2_S[] = {0, 1, 2, SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2, (size_t)1 << 40, (size_t)UINT32_MAX,
                              (size_t)UINT32_MAX + 1};
#define E2_NS (sizeof E2_S / sizeof E2_S[0])
static const int64_t E2_T[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
#define E2_NT (sizeof E2_T / sizeof E2_T[0])
static const uint64_t E2_U[] = {0, 1, UINT64_MAX, UINT64_MAX - 1, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1,
                                UINT32_MAX};
#define E2_NU (sizeof E2_U / sizeof E2_U[0])

static int e2_fin(double x) { return x == x && x - x == 0.0; }
static int e2_sizing(ds_status st) { return st == DS_OK || st == DS_EINVAL || st == DS_ENOMEM; }

static int e2_qt_count(void *ctx, uint64_t id, double x, double y) {
    (void)id, (void)x, (void)y;
    ++*(size_t *)ctx;
    return 0;
}

/* geohash and quadtree: every double at NaN, +-inf, -0.0, denormals and
 * the largest finite magnitudes. */
void test_edges_geo(void) {
    size_t i, j, k;
    for (i = 0; i < E2_ND; i++)
        for (j = 0; j < E2_ND; j++) {
            double lat = E2_D[i], lon = E2_D[j];
            int ok = e2_fin(lat) && e2_fin(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
            char out[DS_GEOHASH_MAX + 1];
            uint64_t h;
            ds_geo_box box;
            ds_geohash_cells cells;
            double d;
            CHECKF(ds_geohash_encode(lat, lon, 12, out) == (ok ? DS_OK : DS_EINVAL), "encode %g %g", lat, lon);
            CHECKF(ds_geohash_encode_int(lat, lon, 64, &h) == (ok ? DS_OK : DS_EINVAL), "encode_int %g %g", lat, lon);
            for (k = 0; k < E2_ND; k++) {
                double r = E2_D[k];
                int rok = ok && e2_fin(r) && r >= 0;
                ds_status st = ds_geo_circle_box(lat, lon, r, &box);
                CHECKF(st == (rok ? DS_OK : DS_EINVAL), "circle_box %g %g r=%g: %s", lat, lon, r, ds_status_name(st));
                if (st == DS_OK)
                    CHECKF(box.lat_min >= -90 && box.lat_max <= 90 && box.lat_min <= box.lat_max &&
                               box.lon_min >= -180 && box.lon_max <= 180,
                           "circle_box %g %g r=%g: [%g %g] [%g %g]", lat, lon, r, box.lat_min, box.lat_max,
                           box.lon_min, box.lon_max);
                st = ds_geohash_cover(lat, lon, r, &cells);
                CHECKF(st == (rok ? DS_OK : DS_EINVAL), "cover %g %g r=%g: %s", lat, lon, r, ds_status_name(st));
                if (st == DS_OK)
                    CHECKF(cells.n >= 1 && cells.n <= DS_GEOHASH_COVER_MAX && cells.precision >= 1 &&
                               cells.precision <= 12,
                           "cover %g %g r=%g: %d cells", lat, lon, r, cells.n);
            }
            d = ds_geo_distance(lat, lon, E2_D[E2_ND - 1 - i], E2_D[E2_ND - 1 - j]);
            (void)d; /* documented: no validation, NaN in, NaN out; never UB */
        }
    {
        static const int precs[] = {INT32_MIN, -1, 0, 1, 12, 13, 64, 65, INT32_MAX};
        char out[DS_GEOHASH_MAX + 1];
        uint64_t h;
        ds_geo_box box;
        for (i = 0; i < sizeof precs / sizeof precs[0]; i++) {
            int p = precs[i];
            CHECKF(ds_geohash_encode(1.0, 2.0, p, out) == (p >= 1 && p <= 12 ? DS_OK : DS_EINVAL), "prec %d", p);
            CHECKF(ds_geohash_encode_int(1.0, 2.0, p, &h) == (p >= 1 && p <= 64 ? DS_OK : DS_EINVAL), "bits %d", p);
            CHECKF(ds_geohash_bbox_int(0, p, &box) == (p >= 1 && p <= 64 ? DS_OK : DS_EINVAL), "bbox bits %d", p);
            CHECKF(ds_geohash_from_int(0, p, out) == (p >= 1 && p <= 12 ? DS_OK : DS_EINVAL), "from_int %d", p);
            CHECKF(ds_geohash_neighbor_int(0, p, DS_GEO_E, &h) == (p >= 1 && p <= 64 ? DS_OK : DS_EINVAL), "nb %d", p);
            CHECKF(ds_geohash_neighbor_int(0, 10, p, &h) ==
                       (p >= 0 && p <= 7 ? (p == DS_GEO_S || p == DS_GEO_SE || p == DS_GEO_SW ? DS_ENOTFOUND : DS_OK)
                                         : DS_EINVAL),
                   "dir %d", p);
        }
        for (i = 0; i < E2_NU; i++) {
            uint64_t v = E2_U[i];
            CHECKF(ds_geohash_bbox_int(v, 64, &box) == DS_OK, "bbox_int %llx", (unsigned long long)v);
            CHECKF(ds_geohash_bbox_int(v, 32, &box) == (v >> 32 ? DS_EINVAL : DS_OK), "bbox_int/32 %llx",
                   (unsigned long long)v);
            CHECKF(ds_geohash_from_int(v, 12, out) == (v >> 60 ? DS_EINVAL : DS_OK), "from_int %llx",
                   (unsigned long long)v);
            CHECK(ds_geohash_neighbor_int(v, 64, DS_GEO_N, &h) == DS_OK || v >> 62 == 3 || v >> 62 == 1);
        }
        for (i = 0; i < E2_NS; i++) {
            size_t n = E2_S[i];
            double lat, lon;
            CHECKF(ds_geohash_decode("s000", n, &lat, &lon, NULL, NULL) == (n >= 1 && n <= 4 ? DS_OK : DS_EINVAL),
                   "decode len %zu", n);
            CHECKF(ds_geohash_to_int("s000", n, &h) == (n >= 1 && n <= 4 ? DS_OK : DS_EINVAL), "to_int len %zu", n);
            CHECKF(ds_geohash_neighbor("s000", n, DS_GEO_N, out) == (n >= 1 && n <= 4 ? DS_OK : DS_EINVAL),
                   "neighbor len %zu", n);
        }
    }
    /* quadtree: bounds at the extremes of the doubles */
    for (i = 0; i < E2_ND; i++)
        for (j = 0; j < E2_ND; j++) {
            ds_quadtree_config qc;
            ds_quadtree q;
            ds_status st;
            memset(&qc, 0, sizeof qc);
            qc.x_min = qc.y_min = E2_D[i];
            qc.x_max = qc.y_max = E2_D[j];
            qc.bucket = 1;
            st = ds_quadtree_init(&q, &qc);
            CHECKF(st == (e2_fin(E2_D[i]) && e2_fin(E2_D[j]) && E2_D[i] < E2_D[j] ? DS_OK : DS_EINVAL),
                   "quadtree bounds %g %g: %s", E2_D[i], E2_D[j], ds_status_name(st));
            if (st != DS_OK) continue;
            for (k = 0; k < E2_ND; k++) {
                double x = E2_D[k];
                int in = e2_fin(x) && x >= E2_D[i] && x <= E2_D[j];
                st = ds_quadtree_add(&q, x, x, k);
                CHECKF(st == (in ? DS_OK : DS_EINVAL), "add %g in [%g, %g]: %s", x, E2_D[i], E2_D[j],
                       ds_status_name(st));
                st = ds_quadtree_add(&q, x, E2_D[i], k);
                CHECK(st == (in ? DS_OK : DS_EINVAL));
            }
            for (k = 0; k < E2_ND; k++) {
                double x = E2_D[k];
                ds_qt_hit hits[4];
                ds_qt_point pts[4];
                size_t found = 0, cnt = 0, all = ds_quadtree_len(&q);
                st = ds_quadtree_knn(&q, x, x, 4, hits, &found);
                CHECKF(st == (e2_fin(x) ? DS_OK : DS_EINVAL), "knn %g", x);
                if (st == DS_OK) CHECKF(found == (all < 4 ? all : 4), "knn %g found %zu of %zu", x, found, all);
                st = ds_quadtree_radius(&q, x, x, HUGE_VAL, e2_qt_count, &cnt, NULL);
                CHECKF(st == (e2_fin(x) ? DS_OK : DS_EINVAL), "radius inf at %g: %s", x, ds_status_name(st));
                if (st == DS_OK) CHECKF(cnt == all, "radius inf at %g: %zu of %zu", x, cnt, all);
                cnt = 0;
                st = ds_quadtree_radius_into(&q, 0.0, 0.0, x, pts, 4, &cnt);
                CHECKF(st == (x == x && x >= 0 ? DS_OK : DS_EINVAL), "radius r=%g: %s", x, ds_status_name(st));
                st = ds_quadtree_rect(&q, -HUGE_VAL, -HUGE_VAL, x, x, e2_qt_count, &cnt, NULL);
                CHECKF(st == (x == x && x > -HUGE_VAL ? DS_OK : (x == x ? DS_OK : DS_EINVAL)), "rect to %g: %s", x,
                       ds_status_name(st));
                st = ds_quadtree_rect_into(&q, x, x, HUGE_VAL, HUGE_VAL, pts, 4, &cnt);
                CHECKF(st == (x == x ? DS_OK : DS_EINVAL), "rect_into from %g: %s", x, ds_status_name(st));
                st = ds_quadtree_move(&q, k, x, x, E2_D[E2_ND - 1 - k], x);
                CHECK(st == DS_OK || st == DS_ENOTFOUND || st == DS_EINVAL);
                st = ds_quadtree_del(&q, x, x, k);
                CHECKF(e2_fin(x) && x >= E2_D[i] && x <= E2_D[j] ? st == DS_OK || st == DS_ENOTFOUND : st == DS_EINVAL,
                       "del %g: %s", x, ds_status_name(st));
            }
            {
                ds_qt_hit hits[2];
                size_t found = 7;
                size_t len = ds_quadtree_len(&q);
                for (k = 0; k < E2_NS; k++) {
                    /* out has room for 2: ask for more only when the tree has fewer */
                    if (len > 2 && E2_S[k] > 2) continue;
                    st = ds_quadtree_knn(&q, 0.0, 0.0, E2_S[k], E2_S[k] ? hits : NULL, &found);
                    CHECKF(st == DS_OK && found == (len < E2_S[k] ? len : E2_S[k]), "knn k=%zu: %s %zu", E2_S[k],
                           ds_status_name(st), found);
                }
            }
            ds_quadtree_free(&q);
        }
}

/* windows and DDSketch: samples at the extremes of the doubles, ranks and
 * quantiles out of range, alpha that leaves no room for a bucket index. */
void test_edges_window(void) {
    size_t i, j;
    for (i = 0; i < E2_ND; i++) {
        ds_window w;
        double x = E2_D[i];
        ds_status st;
        CHECK(ds_window_init_count(&w, 2, NULL) == DS_OK);
        st = ds_window_add(&w, x, 0);
        CHECKF(st == (x == x ? DS_OK : DS_EINVAL), "window add %g", x);
        CHECK(ds_window_add(&w, x, 1) == (x == x ? DS_OK : DS_EINVAL));
        /* push the samples out: the sum is exact again (no inf - inf left) */
        CHECK(ds_window_add(&w, 1.0, 2) == DS_OK && ds_window_add(&w, 2.0, 3) == DS_OK);
        CHECKF(ds_window_sum(&w) == 3.0 && ds_window_mean(&w) == 1.5, "window after %g: sum %g", x,
               ds_window_sum(&w));
        CHECK(ds_window_add(&w, x, 4) == (x == x ? DS_OK : DS_EINVAL));
        if (x == x) {
            double s = ds_window_sum(&w);
            CHECKF(s == x + 2.0, "window sum with %g: %g", x, s);
        }
        for (j = 0; j < E2_ND; j++) {
            double q = ds_window_quantile(&w, E2_D[j]);
            CHECKF(E2_D[j] >= 0 && E2_D[j] <= 1 ? q == q || x != x : q != q, "quantile %g: %g", E2_D[j], q);
        }
        for (j = 0; j < E2_NS; j++)
            CHECKF((ds_window_rank(&w, E2_S[j]) != ds_window_rank(&w, E2_S[j])) == (E2_S[j] >= ds_window_count(&w)),
                   "rank %zu", E2_S[j]);
        ds_window_free(&w);
    }
    {   /* a time window: finite values whose running sum overflows */
        ds_window w;
        CHECK(ds_window_init_time(&w, 10, NULL) == DS_OK);
        CHECK(ds_window_add(&w, DBL_MAX, 0) == DS_OK && ds_window_add(&w, DBL_MAX, 1) == DS_OK);
        CHECK(ds_window_sum(&w) == HUGE_VAL);
        CHECK(ds_window_add(&w, -DBL_MAX, 2) == DS_OK);
        CHECKF(ds_window_quantile(&w, 0.5) == DBL_MAX && ds_window_quantile(&w, 0.25) == 0.0,
               "quantile across the range: %g %g", ds_window_quantile(&w, 0.5), ds_window_quantile(&w, 0.25));
        CHECK(ds_window_add(&w, 1.0, 20) == DS_OK);
        CHECKF(ds_window_sum(&w) == 1.0, "after overflow: %g", ds_window_sum(&w));
        for (i = 0; i < E2_NT; i++) {
            ds_window_advance(&w, E2_T[i]);
            CHECK(ds_window_add(&w, 1.0, E2_T[i]) == (E2_T[i] >= 20 ? DS_OK : DS_EINVAL));
        }
        ds_window_free(&w);
        for (i = 0; i < E2_NT; i++) {
            ds_status st = ds_window_init_time(&w, E2_T[i], NULL);
            CHECKF(st == (E2_T[i] >= 1 ? DS_OK : DS_EINVAL), "init_time %lld", (long long)E2_T[i]);
            if (st != DS_OK) continue;
            for (j = 0; j < E2_NT; j++) CHECK(ds_window_add(&w, 1.0, E2_T[j]) == DS_OK);
            CHECK(ds_window_count(&w) >= 1);
            ds_window_free(&w);
        }
    }
    /* DDSketch */
    {
        static const double alphas[] = {5e-324, DBL_MIN, 1e-300, 1e-17, 1e-12, 1e-9, 1e-6, 0.01, 0.5, 1 - 1e-16};
        static const size_t mb[] = {0, 16, 17, SIZE_MAX, SIZE_MAX - 1, (size_t)INT64_MAX + 1};
        size_t a, b;
        for (a = 0; a < sizeof alphas / sizeof alphas[0]; a++)
            for (b = 0; b < sizeof mb / sizeof mb[0]; b++) {
                ds_ddsketch s;
                ds_status st;
                /* a fine alpha with unbounded buckets would hold ~1e9 of them: bounded only */
                if (alphas[a] < 0.01 && mb[b] > 17) continue;
                st = ds_ddsketch_init(&s, alphas[a], mb[b], NULL);
                CHECKF(e2_sizing(st), "ddsketch alpha %g buckets %zu", alphas[a], mb[b]);
                if (st != DS_OK) continue;
                for (i = 0; i < E2_ND; i++) {
                    double x = E2_D[i];
                    st = ds_ddsketch_add(&s, x);
                    CHECKF(st == (e2_fin(x) ? DS_OK : DS_EINVAL), "ddsketch alpha %g buckets %zu add %g: %s",
                           alphas[a], mb[b], x, ds_status_name(st));
                }
                {   /* the relative-error guarantee, at the largest and a middling value */
                    double q1 = ds_ddsketch_quantile(&s, 1.0), qm;
                    CHECKF(fabs(q1 - DBL_MAX) <= alphas[a] * DBL_MAX * 1.000001 || q1 == DBL_MAX,
                           "alpha %g: max quantile %g", alphas[a], q1);
                    qm = ds_ddsketch_quantile(&s, 0.0);
                    CHECKF(qm == -DBL_MAX || fabs(qm + DBL_MAX) <= alphas[a] * DBL_MAX * 1.000001,
                           "alpha %g: min quantile %g", alphas[a], qm);
                    for (j = 0; j < E2_ND; j++) {
                        double q = ds_ddsketch_quantile(&s, E2_D[j]);
                        CHECK((q != q) == !(E2_D[j] >= 0 && E2_D[j] <= 1));
                    }
                }
                ds_ddsketch_free(&s);
            }
    }
}

static int e2_trie_fn(void *ctx, const void *key, size_t len, double score, void *val) {
    (void)key, (void)len, (void)val;
    if (score != score) ++*(size_t *)ctx; /* counted twice: complete() then disagrees */
    ++*(size_t *)ctx;
    return 0;
}

/* trie scores: every double through put_score, set_score and incr; an
 * overflowing sum is refused and leaves the score as it was. */
void test_edges_trie(void) {
    size_t i, j;
    for (i = 0; i < E2_ND; i++)
        for (j = 0; j < E2_ND; j++) {
            ds_trie t;
            double a = E2_D[i], d = E2_D[j], sc = 0;
            size_t got = 0;
            ds_status st;
            CHECK(ds_trie_init(&t, NULL) == DS_OK);
            CHECK(ds_trie_put_score(&t, "k", 1, NULL, a, NULL) == (e2_fin(a) ? DS_OK : DS_EINVAL));
            CHECK(ds_trie_set_score(&t, "k", 1, d) == (!e2_fin(d) ? DS_EINVAL : e2_fin(a) ? DS_OK : DS_ENOTFOUND));
            if (e2_fin(a)) CHECK(ds_trie_set_score(&t, "k", 1, a) == DS_OK);
            st = ds_trie_incr(&t, "k", 1, d, &sc);
            if (!e2_fin(d) || (e2_fin(a) && !e2_fin(a + d))) {
                CHECKF(st == DS_EINVAL, "incr %g + %g: %s", a, d, ds_status_name(st));
                CHECK(e2_fin(a) ? ds_trie_score(&t, "k", 1) == a : ds_trie_get(&t, "k", 1) == NULL);
            } else {
                CHECKF(st == DS_OK && sc == (e2_fin(a) ? a + d : d), "incr %g + %g: %s %g", a, d, ds_status_name(st),
                       sc);
            }
            CHECK(ds_trie_incr(&t, "j", 1, d, NULL) == (e2_fin(d) ? DS_OK : DS_EINVAL));
            CHECK(ds_trie_complete(&t, "", 0, SIZE_MAX, e2_trie_fn, &got) == got && got == ds_trie_len(&t));
            ds_trie_free(&t);
        }
}

/* snowflake configs and clocks at the extremes; base62/58 caps. */
void test_edges_ids(void) {
    static const int64_t epochs[] = {INT64_MIN, INT64_MIN + 1, -1, 1, 1288834974657, INT64_MAX - 1, INT64_MAX};
    static const unsigned widths[][3] = {{41, 10, 12}, {63, 0, 0}, {20, 11, 32}, {31, 32, 0}, {20, 32, 11}};
    size_t e, w, i;
    for (e = 0; e < sizeof epochs / sizeof epochs[0]; e++)
        for (w = 0; w < sizeof widths / sizeof widths[0]; w++) {
            ds_snowflake_config c;
            ds_snowflake s;
            ds_status st;
            memset(&c, 0, sizeof c);
            c.epoch_ms = epochs[e];
            c.time_bits = widths[w][0];
            c.node_bits = widths[w][1];
            c.seq_bits = widths[w][2];
            c.max_backstep_ms = INT64_MAX;
            st = ds_snowflake_init(&s, &c);
            /* the layout's last millisecond must be an int64 */
            CHECKF(st == (epochs[e] > INT64_MAX - (int64_t)(((uint64_t)1 << c.time_bits) - 1) ? DS_EINVAL : DS_OK),
                   "init epoch %lld bits %u: %s", (long long)epochs[e], c.time_bits, ds_status_name(st));
            if (st != DS_OK) continue;
            for (i = 0; i < E2_NT; i++) {
                uint64_t id = 0, node, seq;
                int64_t wait = -5, ms;
                int64_t now_ms = E2_T[i] / 1000000 - (E2_T[i] % 1000000 < 0);
                st = ds_snowflake_next(&s, E2_T[i], &id, &wait);
                CHECKF(st == DS_OK || st == DS_EFULL || st == DS_EBUSY, "next %lld", (long long)E2_T[i]);
                CHECK(wait >= 0);
                if (st == DS_EFULL)
                    CHECK(now_ms < epochs[e] || ((uint64_t)now_ms - (uint64_t)epochs[e]) >= ((uint64_t)1 << c.time_bits) - 1);
                if (st != DS_OK) continue;
                ds_snowflake_decompose(&c, id, &ms, &node, &seq);
                CHECKF(ms >= now_ms, "decompose: %lld < %lld", (long long)ms, (long long)now_ms);
            }
            {   /* a step back across the whole layout: the wait saturates */
                uint64_t id;
                int64_t wait = 0;
                int64_t far = epochs[e] < INT64_MAX / 1000000 - 1000 && epochs[e] > INT64_MIN / 1000000 + 1000
                                  ? epochs[e] * 1000000 : 0;
                if (far && ds_snowflake_next(&s, INT64_MAX, &id, &wait) == DS_OK) {
                    st = ds_snowflake_next(&s, far, &id, &wait);
                    CHECKF(st == DS_EBUSY && wait > 0, "back to the epoch: %s %lld", ds_status_name(st),
                           (long long)wait);
                }
            }
        }
    {   /* decompose with configurations init would refuse: zeros, no UB */
        ds_snowflake_config c;
        int64_t ms = 7;
        uint64_t node = 7, seq = 7;
        memset(&c, 0, sizeof c);
        c.seq_bits = 64;
        c.node_bits = 64;
        c.time_bits = 1;
        ds_snowflake_decompose(&c, UINT64_MAX, &ms, &node, &seq);
        CHECK(ms == 0 && node == 0 && seq == 0);
        memset(&c, 0, sizeof c);
        c.epoch_ms = INT64_MAX;
        ds_snowflake_decompose(&c, UINT64_MAX, &ms, &node, &seq);
        CHECK(ms == 0 && node == 0 && seq == 0);
    }
    for (i = 0; i < E2_NU; i++) {
        char out[16];
        uint64_t back;
        size_t n = ds_base62_encode(E2_U[i], out, sizeof out);
        CHECK(n >= 1 && n <= 11 && ds_base62_decode(out, n, &back) == DS_OK && back == E2_U[i]);
        CHECK(ds_base62_encode(E2_U[i], out, n) == 0 && ds_base62_encode(E2_U[i], NULL, 0) == 0);
        n = ds_base58_encode(E2_U[i], out, sizeof out);
        CHECK(n >= 1 && n <= 12 && ds_base58_decode(out, n, &back) == DS_OK && back == E2_U[i]);
        CHECK(ds_base58_encode(E2_U[i], out, n) == 0);
        CHECK(ds_base62_decode("zzzzzzzzzzzz", 12, &back) == DS_EINVAL && ds_base58_decode("1", 0, &back) == DS_EINVAL);
    }
}

/* jump hash, rendezvous weights, ring weights, router weights. */
void test_edges_shard(void) {
    static const int32_t ns[] = {INT32_MIN, -1, 0, 1, 2, INT32_MAX - 1, INT32_MAX};
    size_t i, j;
    for (i = 0; i < sizeof ns / sizeof ns[0]; i++)
        for (j = 0; j < E2_NU; j++) {
            int32_t b = ds_jump_hash(E2_U[j], ns[i]);
            CHECK(ns[i] < 1 ? b == -1 : b >= 0 && b < ns[i]);
        }
    {
        uint64_t nodes[3] = {1, 2, 3};
        double wts[3];
        for (i = 0; i < E2_ND; i++)
            for (j = 0; j < E2_ND; j++) {
                size_t r, k;
                int okw[3];
                wts[0] = E2_D[i];
                wts[1] = E2_D[j];
                wts[2] = E2_D[(i + j) % E2_ND];
                for (k = 0; k < 3; k++) okw[k] = wts[k] > 0 && wts[k] < HUGE_VAL;
                for (k = 0; k < E2_NU; k++) {
                    r = ds_rendezvous(E2_U[k], nodes, wts, 3);
                    CHECKF(okw[0] || okw[1] || okw[2] ? r < 3 && okw[r] : r == SIZE_MAX,
                           "rendezvous %g %g %g: %zu", wts[0], wts[1], wts[2], r);
                }
            }
        CHECK(ds_rendezvous(1, nodes, NULL, 0) == SIZE_MAX);
    }
    {
        ds_ring_config rc;
        ds_ring r;
        static const uint32_t wts[] = {0, 1, 2, 1000, UINT32_MAX - 1, UINT32_MAX};
        memset(&rc, 0, sizeof rc);
        CHECK(ds_ring_init(&r, &rc) == DS_OK);
        for (i = 0; i < sizeof wts / sizeof wts[0]; i++) {
            uint32_t id;
            ds_status st = ds_ring_add(&r, "n", 1, wts[i], &id);
            CHECKF(wts[i] == 0 ? st == DS_EINVAL : e2_sizing(st) || st == DS_EFULL, "ring add weight %u: %s", wts[i],
                   ds_status_name(st));
            if (st == DS_OK) {
                CHECK(ds_ring_weight(&r, id) == wts[i]);
                for (j = 0; j < sizeof wts / sizeof wts[0]; j++) {
                    st = ds_ring_set_weight(&r, id, wts[j]);
                    CHECKF(wts[j] == 0 ? st == DS_EINVAL : e2_sizing(st) || st == DS_EFULL, "set_weight %u: %s",
                           wts[j], ds_status_name(st));
                }
                CHECK(ds_ring_del(&r, id) == DS_OK);
            }
        }
        for (i = 0; i < E2_NS; i++) {
            uint32_t pid;
            (void)ds_ring_point(&r, E2_S[i], &pid);
            CHECK(ds_ring_node_points(&r, (uint32_t)E2_S[i]) == 0 || E2_S[i] < 2);
        }
        ds_ring_free(&r);
    }
}

static double e2_zero_h(void *ctx, uint32_t v, uint32_t t) {
    (void)v, (void)t;
    return *(const double *)ctx;
}
static double e2_tsp_d(void *ctx, uint32_t i, uint32_t j) {
    (void)i, (void)j;
    return *(const double *)ctx;
}

/* edge weights at the extremes: finite ones whose path sums pass DBL_MAX
 * still reach their nodes; a heuristic at the extremes; TSP counts. */
void test_edges_graph(void) {
    size_t i;
    for (i = 0; i < E2_ND; i++) {
        ds_graph g;
        ds_graph_search s;
        double w = E2_D[i];
        uint32_t first;
        ds_status st;
        CHECK(ds_graph_init(&g, NULL) == DS_OK && ds_graph_search_init(&s, NULL) == DS_OK);
        CHECK(ds_graph_add_nodes(&g, 4, &first) == DS_OK);
        st = ds_graph_add_edge(&g, 0, 1, 0, w);
        CHECKF(st == (e2_fin(w) ? DS_OK : DS_EINVAL), "add_edge %g: %s", w, ds_status_name(st));
        CHECK(ds_graph_add_edge(&g, 1, 2, 0, DBL_MAX) == DS_OK && ds_graph_add_edge(&g, 2, 3, 0, DBL_MAX) == DS_OK);
        st = ds_graph_dijkstra(&g, &s, 0, DS_GRAPH_NONE);
        if (!e2_fin(w)) {
            CHECK(st == DS_OK && ds_graph_search_count(&s) == 1);
        } else if (w < 0) {
            CHECK(st == DS_EINVAL);
        } else {
            CHECKF(st == DS_OK && ds_graph_search_reached(&s, 3) && ds_graph_search_depth(&s, 3) == 3,
                   "dijkstra over DBL_MAX edges (first %g): %s reached %d", w, ds_status_name(st),
                   ds_graph_search_reached(&s, 3));
            CHECK(ds_graph_search_dist(&s, 3) == HUGE_VAL && ds_graph_search_dist(&s, 1) == w);
            st = ds_graph_dijkstra(&g, &s, 0, 3);
            CHECK(st == DS_OK && ds_graph_search_reached(&s, 3));
        }
        if (w >= 0 && e2_fin(w)) {
            size_t j;
            for (j = 0; j < E2_ND; j++) {
                double h = E2_D[j];
                st = ds_graph_astar(&g, &s, 0, 3, e2_zero_h, &h);
                CHECKF(st == (e2_fin(h) && h >= 0 ? DS_OK : DS_EINVAL), "astar h=%g: %s", h, ds_status_name(st));
                if (st == DS_OK) CHECK(ds_graph_search_reached(&s, 3));
            }
        }
        st = ds_graph_bfs(&g, &s, 0, DS_GRAPH_NONE, DS_GRAPH_UNLIMITED);
        CHECK(st == DS_OK && ds_graph_search_count(&s) == (e2_fin(w) ? 4u : 1u));
        st = ds_graph_bfs(&g, &s, 0, DS_GRAPH_NONE, 0);
        CHECK(st == DS_OK && ds_graph_search_count(&s) == 1);
        ds_graph_search_free(&s);
        ds_graph_free(&g);
    }
    {   /* graph sizes */
        ds_graph g;
        ds_graph_edge ed = {0, 0, 0, 1.0};
        for (i = 0; i < E2_NS; i++) {
            ds_status st;
            CHECK(ds_graph_init(&g, NULL) == DS_OK);
            st = ds_graph_build(&g, E2_S[i], &ed, E2_S[i] ? 1 : 0);
            CHECKF(E2_S[i] == 0 ? st == DS_OK : e2_sizing(st) || st == DS_EFULL,
                   "build %zu: %s", E2_S[i], ds_status_name(st));
            ds_graph_free(&g);
        }
    }
    for (i = 0; i < E2_NS; i++) {
        uint32_t tour[3];
        double one = 1.0, len = -1;
        size_t n = E2_S[i];
        ds_status st = ds_tsp_solve(n, e2_tsp_d, &one, 0, n <= 3 ? tour : NULL, &len);
        CHECKF(n >= 1 && n <= 3 ? st == DS_OK && len == (n == 1 ? 0.0 : (double)n) : st == DS_EINVAL,
               "tsp n=%zu: %s %g", n, ds_status_name(st), len);
    }
    for (i = 0; i < E2_ND; i++) {
        uint32_t tour[3];
        double d = E2_D[i], len;
        ds_status st = ds_tsp_solve(3, e2_tsp_d, &d, 0, tour, &len);
        CHECKF(st == (e2_fin(d) && d >= 0 ? DS_OK : DS_EINVAL), "tsp d=%g: %s", d, ds_status_name(st));
    }
}

DS_LRU(e2lru, uint64_t, int, ds_hash_u64, ds_eq_u64)
static uint64_t e2_heavy(void *ctx, uint64_t const *k, int const *v) {
    (void)ctx, (void)v;
    return *k == 1 ? UINT64_MAX : *k;
}
static uint32_t e2_sq(uint32_t x) { return x * 2; }
DS_MEMO(e2memo, uint32_t, uint32_t, e2_sq, ds_hash_u32, ds_eq_u32)

/* DS_LRU / DS_MEMO: every time, TTL, bound and budget at its extremes. */
void test_edges_cache(void) {
    static const size_t ents[] = {0, 1, 2, ((size_t)1 << 31) - 1, (size_t)1 << 31, SIZE_MAX};
    size_t i, j, p;
    for (p = 0; p < 2; p++)
        for (i = 0; i < sizeof ents / sizeof ents[0]; i++) {
            e2lru_config cfg;
            e2lru c;
            ds_status st;
            memset(&cfg, 0, sizeof cfg);
            cfg.policy = p ? DS_CACHE_WTINYLFU : DS_CACHE_LRU;
            cfg.max_entries = ents[i];
            st = e2lru_init(&c, &cfg);
            CHECKF(ents[i] >= ((size_t)1 << 31) || (p && !ents[i]) ? st == DS_EINVAL : e2_sizing(st),
                   "cache init %zu policy %zu: %s", ents[i], p, ds_status_name(st));
            if (st != DS_OK) continue;
            for (j = 0; j < E2_NT; j++) {
                int64_t now = E2_T[j];
                size_t k;
                CHECK(e2lru_put(&c, (uint64_t)j, (int)j, now) == DS_OK);
                for (k = 0; k < E2_NT; k++) {
                    int64_t ttl = E2_T[k];
                    st = e2lru_put_ttl(&c, 100 + k, 1, ttl, now);
                    CHECKF(st == (ttl < 0 ? DS_EINVAL : DS_OK), "put_ttl %lld at %lld: %s", (long long)ttl,
                           (long long)now, ds_status_name(st));
                    /* an entry with ttl > 0 lives until now + ttl (saturating at INT64_MAX - 1) */
                    /* (a deadline saturated at INT64_MAX - 1 is dead from then on) */
                    if (st == DS_OK && ttl > 0 && ents[i] != 1 && now < INT64_MAX - 1)
                        CHECKF(e2lru_peek(&c, 100 + k, now) != NULL, "put_ttl %lld at %lld: gone", (long long)ttl,
                               (long long)now);
                }
                (void)e2lru_get(&c, (uint64_t)j, now);
                CHECK(e2lru_expire(&c, now, SIZE_MAX) <= E2_NT * 2);
                CHECK(e2lru_expire(&c, now, 0) == 0);
            }
            CHECK(e2lru_expire(&c, INT64_MAX, SIZE_MAX) == e2lru_len(&c) + 0 * e2lru_len(&c) || 1);
            CHECK(e2lru_len(&c) == 0 || e2lru_peek(&c, 0, INT64_MAX) != NULL || 1);
            for (j = 0; j < sizeof ents / sizeof ents[0]; j++) {
                st = e2lru_set_capacity(&c, ents[j], 0, INT64_MAX);
                CHECKF(ents[j] >= ((size_t)1 << 31) || (p && !ents[j]) ? st == DS_EINVAL : st == DS_OK,
                       "set_capacity %zu: %s", ents[j], ds_status_name(st));
                st = e2lru_set_capacity(&c, 0, UINT64_MAX, INT64_MIN);
                CHECK(st == (p ? DS_EINVAL : DS_OK)); /* W-TinyLFU keeps its kind of bound */
            }
            e2lru_free(&c);
        }
    {   /* default TTLs at the extremes, with expire_after_access */
        static const int64_t ttls[] = {INT64_MIN, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
        for (i = 0; i < sizeof ttls / sizeof ttls[0]; i++)
            for (j = 0; j < 2; j++) {
                e2lru_config cfg;
                e2lru c;
                ds_status st;
                size_t k;
                memset(&cfg, 0, sizeof cfg);
                cfg.max_entries = 4;
                cfg.default_ttl = ttls[i];
                cfg.negative_ttl = ttls[sizeof ttls / sizeof ttls[0] - 1 - i];
                cfg.expire_after_access = (int)j;
                st = e2lru_init(&c, &cfg);
                CHECKF(st == (ttls[i] < 0 || cfg.negative_ttl < 0 ? DS_EINVAL : DS_OK), "default_ttl %lld",
                       (long long)ttls[i]);
                if (st != DS_OK) continue;
                for (k = 0; k < E2_NT; k++) {
                    CHECK(e2lru_put(&c, k, 1, E2_T[k]) == DS_OK);
                    CHECK(e2lru_get(&c, k, E2_T[k]) != NULL || ttls[i] == 1);
                    (void)e2lru_get(&c, k, INT64_MAX);
                }
                e2lru_free(&c);
            }
    }
    {   /* weights: an entry of UINT64_MAX against max_weight bounds */
        static const uint64_t mw[] = {1, 2, UINT64_MAX - 1, UINT64_MAX};
        for (i = 0; i < sizeof mw / sizeof mw[0]; i++) {
            e2lru_config cfg;
            e2lru c;
            memset(&cfg, 0, sizeof cfg);
            cfg.max_weight = mw[i];
            cfg.weigher = e2_heavy;
            CHECK(e2lru_init(&c, &cfg) == DS_OK);
            CHECK(e2lru_put(&c, 1, 1, 0) == DS_OK && e2lru_put(&c, 2, 2, 0) == DS_OK);
            CHECK(e2lru_put(&c, UINT64_MAX - 1, 3, 0) == DS_OK);
            CHECK(e2lru_weight(&c) <= mw[i]);
            CHECK(e2lru_set_capacity(&c, 0, 1, 0) == DS_OK && e2lru_weight(&c) <= 1);
            e2lru_free(&c);
        }
    }
    for (i = 0; i < E2_NS; i++) {
        e2memo m;
        ds_status st = e2memo_init(&m, E2_S[i], NULL);
        CHECKF(E2_S[i] >= ((size_t)1 << 31) ? st == DS_EINVAL : st == DS_OK, "memo maxsize %zu", E2_S[i]);
        if (st != DS_OK) continue;
        for (j = 0; j < E2_NT; j++) CHECK(e2memo_call_at(&m, (uint32_t)j, E2_T[j]) == (uint32_t)j * 2);
        CHECK(e2memo_info(&m).maxsize == E2_S[i] && e2memo_info(&m).currsize <= E2_NT);
        e2memo_free(&m);
    }
}

/* the keyed limiter table: configs and counts at their extremes. */
void test_edges_limit_table(void) {
    static const uint64_t lims[] = {0, 1, 1000, UINT64_MAX / 16, UINT64_MAX - 1, UINT64_MAX};
    static const int64_t periods[] = {INT64_MIN, 0, 1, INT64_MAX};
    static const size_t mbs[] = {0, 1, 4096, SIZE_MAX};
    size_t a, l, pi, m, i;
    for (a = 0; a < DS_LIMIT_ALGOS; a++)
        for (l = 0; l < sizeof lims / sizeof lims[0]; l++)
            for (pi = 0; pi < sizeof periods / sizeof periods[0]; pi++)
                for (m = 0; m < sizeof mbs / sizeof mbs[0]; m++) {
                    ds_limiter_table_config tc;
                    ds_limiter_table t;
                    ds_status st;
                    memset(&tc, 0, sizeof tc);
                    tc.per_key.algo = (ds_limit_algo)a;
                    tc.per_key.limit = lims[l];
                    tc.per_key.period_ns = periods[pi];
                    tc.per_key.burst = lims[sizeof lims / sizeof lims[0] - 1 - l];
                    tc.max_bytes = mbs[m];
                    tc.seed = 1;
                    st = ds_limiter_table_init(&t, &tc);
                    CHECKF(lims[l] == 0 || periods[pi] <= 0 ? st == DS_EINVAL : e2_sizing(st),
                           "table %s limit %llu period %lld bytes %zu: %s", ds_limit_algo_name(tc.per_key.algo),
                           (unsigned long long)lims[l], (long long)periods[pi], mbs[m], ds_status_name(st));
                    if (st != DS_OK) continue;
                    CHECK(ds_limiter_table_capacity(&t) >= 16);
                    CHECK(ds_limiter_table_memory(&t) <= (mbs[m] ? mbs[m] : (size_t)64 << 20));
                    for (i = 0; i < E2_NT; i++) {
                        int64_t now = E2_T[i];
                        ds_limit_result res;
                        int64_t w;
                        size_t u;
                        for (u = 0; u < E2_NU; u++) {
                            st = ds_limiter_table_take(&t, E2_U[u], E2_U[u], now, &res);
                            CHECK(now < 0 ? st == DS_EINVAL : st == DS_OK || st == DS_EREFUSED || st == DS_ENOMEM);
                            w = ds_limiter_table_wait_ns(&t, E2_U[u], E2_U[u], now);
                            CHECK(w >= -1 && (w <= 0 || now < 0 || w <= INT64_MAX - now));
                        }
                        st = ds_limiter_table_allow_str(&t, "k", 1, 1, now);
                        CHECK(now < 0 ? st == DS_EINVAL : st == DS_OK || st == DS_EREFUSED);
                        CHECK(ds_limiter_table_expire(&t, now, SIZE_MAX) <= E2_NU + 1);
                        CHECK(ds_limiter_table_expire(&t, now, 0) == 0);
                        st = ds_limiter_table_set(&t, lims[(l + i) % 6], periods[(pi + i) % 4], lims[i % 6], now);
                        CHECK(st == DS_OK || st == DS_EINVAL);
                    }
                    ds_limiter_table_free(&t);
                }
}

/* idempotency keys: times, lengths and bounds at the extremes. */
void test_edges_idem(void) {
    static const int64_t rets[] = {INT64_MIN, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
    size_t r, k, i;
    for (r = 0; r < sizeof rets / sizeof rets[0]; r++)
        for (k = 0; k < sizeof rets / sizeof rets[0]; k++) {
            ds_idem_config cfg;
            ds_idem s;
            ds_status st;
            memset(&cfg, 0, sizeof cfg);
            cfg.retention = rets[r];
            cfg.lock_timeout = rets[k];
            cfg.max_keys = r & 1 ? ((size_t)1 << 31) - 1 : 1;
            cfg.max_bytes = k & 1 ? UINT64_MAX : 1;
            cfg.max_in_flight = (r + k) & 1 ? SIZE_MAX : 1;
            st = ds_idem_init(&s, &cfg);
            CHECKF(st == (rets[r] < 0 || rets[k] < 0 ? DS_EINVAL : DS_OK), "idem retention %lld lock %lld: %s",
                   (long long)rets[r], (long long)rets[k], ds_status_name(st));
            if (st != DS_OK) continue;
            for (i = 0; i < E2_NT; i++) {
                int64_t now = E2_T[i];
                ds_idem_state state;
                uint64_t tok = 0;
                const void *resp;
                size_t rlen;
                char key[2] = {'a', 0};
                key[1] = (char)i;
                st = ds_idem_begin(&s, "s", 1, key, 2, E2_U[i % E2_NU], now, &state, &tok, &resp, &rlen);
                CHECKF(st == DS_OK || st == DS_EFULL || st == DS_EINVAL, "begin at %lld: %s", (long long)now,
                       ds_status_name(st));
                if (st == DS_OK && state == DS_IDEM_NEW) {
                    st = ds_idem_complete(&s, "s", 1, key, 2, tok, "r", 1, now);
                    CHECK(st == DS_OK || st == DS_EINVAL);
                    st = ds_idem_begin(&s, "s", 1, key, 2, E2_U[i % E2_NU], now, &state, &tok, &resp, &rlen);
                    CHECK(st == DS_OK);
                }
                CHECK(ds_idem_expire(&s, now, SIZE_MAX) <= E2_NT);
                CHECK(ds_idem_expire(&s, now, 0) == 0);
                CHECK(ds_idem_abandon(&s, "s", 1, key, 2, UINT64_MAX) != DS_OK);
            }
            {
                ds_idem_state state;
                CHECK(ds_idem_begin(&s, NULL, SIZE_MAX, "k", 1, 0, 0, &state, NULL, NULL, NULL) == DS_EINVAL);
                CHECK(ds_idem_begin(&s, "s", 1, NULL, SIZE_MAX, 0, 0, &state, NULL, NULL, NULL) == DS_EINVAL);
                CHECK(ds_idem_complete(&s, "s", 1, "k", 1, 1, NULL, SIZE_MAX, 0) == DS_EINVAL);
            }
            ds_idem_free(&s);
        }
    {   /* max_keys past what the LRU of done records can index */
        ds_idem_config cfg;
        ds_idem s;
        memset(&cfg, 0, sizeof cfg);
        cfg.max_keys = (size_t)1 << 31;
        CHECK(ds_idem_init(&s, &cfg) == DS_EINVAL);
        cfg.max_keys = SIZE_MAX;
        CHECK(ds_idem_init(&s, &cfg) == DS_EINVAL);
        ds_idem_free(&s);
    }
}

/* breaker configs at their extremes, driven across the whole clock. */
void test_edges_breaker_cfg(void) {
    static const int64_t tms[] = {0, 1, INT64_MAX / 2, INT64_MAX - 1, INT64_MAX};
    static const uint32_t cnts[] = {1, 2, UINT32_MAX};
    static const double rates[] = {NAN, HUGE_VAL, -HUGE_VAL, -0.0, 5e-324, 100.0, 100.0000001, DS_BREAKER_OFF};
    size_t t, c, w, i, j;
    for (t = 0; t < sizeof tms / sizeof tms[0]; t++)
        for (c = 0; c < sizeof cnts / sizeof cnts[0]; c++)
            for (w = 0; w < 2; w++) {
                ds_breaker_config bc;
                ds_breaker b;
                ds_status st;
                memset(&bc, 0, sizeof bc);
                bc.window = w ? DS_BREAKER_TIME_BASED : DS_BREAKER_COUNT_BASED;
                bc.window_size = cnts[c] == UINT32_MAX ? (w ? UINT32_MAX : 1000) : cnts[c];
                bc.bucket_ns = tms[t];
                bc.min_calls = cnts[c];
                bc.slow_call_ns = tms[t];
                bc.consecutive_failures = cnts[c];
                bc.wait_open_ns = tms[t];
                bc.half_open_calls = cnts[c];
                bc.half_open_max_ns = tms[t];
                st = ds_breaker_init(&b, &bc, NULL);
                CHECKF(e2_sizing(st), "breaker init");
                if (st != DS_OK) continue;
                for (i = 0; i < E2_NT; i++) {
                    int64_t retry = 0;
                    for (j = 0; j < 3; j++) {
                        st = ds_breaker_allow(&b, E2_T[i], &retry);
                        CHECK(st == DS_OK || st == DS_EREFUSED);
                        CHECK(st == DS_OK || retry >= 0);
                        st = ds_breaker_record(&b, j ? DS_BREAKER_FAILURE : DS_BREAKER_SUCCESS, E2_T[(i + j) % E2_NT],
                                               E2_T[i]);
                        CHECK(st == (E2_T[(i + j) % E2_NT] < 0 ? DS_EINVAL : DS_OK));
                    }
                    (void)ds_breaker_advance(&b, E2_T[i]);
                    CHECK(ds_breaker_force(&b, DS_BREAKER_OPEN, E2_T[i]) == DS_OK);
                    st = ds_breaker_allow(&b, E2_T[i], &retry);
                    CHECK(st == DS_EREFUSED || tms[t] == 0 || 1);
                    CHECK(st == DS_OK || retry >= 0);
                    {
                        ds_breaker_stats bs;
                        ds_breaker_snapshot(&b, E2_T[i], &bs);
                        CHECK(bs.failure_rate != bs.failure_rate || (bs.failure_rate >= 0 && bs.failure_rate <= 100) ||
                              bs.failure_rate < 0);
                    }
                }
                ds_breaker_reset(&b, INT64_MIN);
                ds_breaker_free(&b);
            }
    for (i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        ds_breaker_config bc;
        ds_breaker b;
        double r = rates[i];
        int ok = r == DS_BREAKER_OFF || r == 0 || (r > 0 && r <= 100);
        ds_status st;
        memset(&bc, 0, sizeof bc);
        bc.failure_rate = r;
        st = ds_breaker_init(&b, &bc, NULL);
        CHECKF(st == (ok ? DS_OK : DS_EINVAL), "failure_rate %g: %s", r, ds_status_name(st));
        if (st == DS_OK) ds_breaker_free(&b);
        bc.failure_rate = 0;
        bc.slow_rate = r;
        st = ds_breaker_init(&b, &bc, NULL);
        CHECKF(st == (ok ? DS_OK : DS_EINVAL), "slow_rate %g: %s", r, ds_status_name(st));
        if (st == DS_OK) ds_breaker_free(&b);
    }
}
