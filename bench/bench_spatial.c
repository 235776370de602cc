/* bench/bench_spatial.c - ds_quadtree: rectangle and k-nearest queries at
 * 10^6 points beside a brute-force scan and Boost.Geometry's R-tree, plus
 * the build time.
 *
 * Data (fixed seeds): "uniform", N points uniform in the unit square; and
 * "clustered", N points in 1000 Gaussian clusters (sigma 0.002) at uniform
 * centres, clamped into the square. Queries are centred on points drawn
 * from the data (so clustered queries land where the points are):
 *   rect-10     a square of side sqrt(10 / N): ~10 points when uniform
 *   rect-1000   side sqrt(1000 / N): ~1000 points when uniform
 *   knn-10      the 10 nearest (exact), knn-100 the 100 nearest
 * Every contender reports ids into a buffer. Contenders:
 *   ds          ds_quadtree (default bucket 32 unless --bucket), built by
 *               ds_quadtree_add_many (Z-order sorted: the bulk load);
 *               rect via ds_quadtree_rect_into, kNN via ds_quadtree_knn.
 *               Its queries are also timed on the tree built by N single
 *               inserts in random order ("ds ins"), and on that tree after
 *               ds_quadtree_compact ("ins+cmp")
 *   brute       a scan of the points in two arrays (x[], y[]), branch-free
 *               test, ids written as found; kNN keeps a
 *               max-heap of the k best. Run on the first --bq queries only
 *               (it costs ~1 ms a query at 10^6)
 *   boost       boost::geometry::index::rtree<pair<point, id>,
 *               quadratic<16>> from the packing (bulk-loading) constructor;
 *               its one-at-a-time insert build is timed too
 * Before timing, the answers are checked equal: rect counts and the sets
 * of kNN ids, all three.
 *
 * Ratios are peer / ds, > 1 means ds is faster. Medians of the reps; each
 * build rep starts from an empty structure.
 *
 *   bench_spatial [--n N] [--q Q] [--bq B] [--reps R] [--bucket B] [--quick]
 *     --n N      points (default 1000000)
 *     --q Q      queries per rep for ds and boost (default 20000)
 *     --bq B     queries per rep for brute force (default 200)
 *     --reps R   reps, median reported (default 5; env BENCH_REPS)
 *     --bucket B the quadtree's leaf bucket (default: the library's, 32)
 *     --knn      kNN only (k = 10 and 100), ds (add_many tree) beside boost
 *                (packing constructor), interleaved rep by rep; no brute
 *                force timing (it still checks the answers) and no builds
 *     --quick    smoke run: N = 100000, Q = 2000, B = 50, 1 rep */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Boost contender (bench_spatial_boost.cc). */
void *bq_build(const double *x, const double *y, size_t n, int bulk);
void bq_free(void *t);
size_t bq_rect(void *t, double x0, double y0, double x1, double y1, uint64_t *out, size_t cap);
size_t bq_knn(void *t, double x, double y, size_t k, uint64_t *out);

static size_t g_n, g_q, g_bq;
static double *g_x, *g_y;  /* the points */
static double *g_qx, *g_qy; /* query centres */
static uint64_t *g_ids;     /* result buffer */
static ds_qt_point *g_pts;
static ds_qt_hit *g_hits;
#define RESULT_CAP 1000000

static void die(const char *what) {
    fprintf(stderr, "bench_spatial: %s\n", what);
    exit(1);
}

static double gauss(ds_rng *r) { /* Box-Muller */
    double u = ds_rng_double(r), v = ds_rng_double(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static double clamp01(double v) { return v < 0 ? 0 : v >= 1 ? nextafter(1.0, 0.0) : v; }

static void make_data(int clustered) {
    ds_rng r;
    size_t i;
    double cx[1000], cy[1000];
    ds_rng_seed(&r, clustered ? 77 : 42);
    for (i = 0; i < 1000; i++) {
        cx[i] = ds_rng_double(&r);
        cy[i] = ds_rng_double(&r);
    }
    for (i = 0; i < g_n; i++) {
        if (clustered) {
            size_t c = (size_t)ds_rng_below(&r, 1000);
            g_x[i] = clamp01(cx[c] + 0.002 * gauss(&r));
            g_y[i] = clamp01(cy[c] + 0.002 * gauss(&r));
        } else {
            g_x[i] = ds_rng_double(&r);
            g_y[i] = ds_rng_double(&r);
        }
    }
    for (i = 0; i < g_q; i++) { /* centred on data points, jittered */
        size_t j = (size_t)ds_rng_below(&r, g_n);
        g_qx[i] = clamp01(g_x[j] + (ds_rng_double(&r) - 0.5) * 1e-4);
        g_qy[i] = clamp01(g_y[j] + (ds_rng_double(&r) - 0.5) * 1e-4);
    }
}

static ds_qt_point *g_in; /* the points as ds_qt_point, for insert_many */

/* many: one ds_quadtree_add_many; else N inserts in random order. */
static void build_ds(ds_quadtree *q, uint32_t bucket, int many) {
    ds_quadtree_config c;
    size_t i;
    memset(&c, 0, sizeof c);
    c.x_max = c.y_max = 1;
    c.bucket = bucket;
    if (ds_quadtree_init(q, &c) != DS_OK) die("init");
    if (many) {
        if (ds_quadtree_add_many(q, g_in, g_n) != DS_OK) die("insert_many");
        return;
    }
    for (i = 0; i < g_n; i++)
        if (ds_quadtree_add(q, g_x[i], g_y[i], i) != DS_OK) die("insert");
}

/* ---- brute force ---- */

static size_t brute_rect(double x0, double y0, double x1, double y1, uint64_t *out, size_t cap) {
    size_t i, n = 0;
    for (i = 0; i < g_n; i++) {
        size_t in = (size_t)((g_x[i] >= x0) & (g_x[i] <= x1) & (g_y[i] >= y0) & (g_y[i] <= y1));
        if (n < cap) out[n] = i; /* overwritten unless it matched */
        n += in;
    }
    return n;
}

typedef struct bh {
    double d2;
    uint64_t id;
} bh;

static size_t brute_knn(double x, double y, size_t k, uint64_t *out) {
    static bh heap[1024];
    size_t i, n = 0;
    for (i = 0; i < g_n; i++) {
        double dx = g_x[i] - x, dy = g_y[i] - y, d2 = dx * dx + dy * dy;
        size_t j;
        if (n < k) { /* sift up */
            j = n++;
            while (j > 0 && heap[(j - 1) / 2].d2 < d2) {
                heap[j] = heap[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            heap[j].d2 = d2;
            heap[j].id = i;
        } else if (d2 < heap[0].d2) { /* replace the worst, sift down */
            j = 0;
            for (;;) {
                size_t c = 2 * j + 1;
                if (c >= n) break;
                if (c + 1 < n && heap[c + 1].d2 > heap[c].d2) c++;
                if (!(heap[c].d2 > d2)) break;
                heap[j] = heap[c];
                j = c;
            }
            heap[j].d2 = d2;
            heap[j].id = i;
        }
    }
    for (i = 0; i < n; i++) out[i] = heap[i].id;
    return n;
}

/* ---- one query kind, every contender ---- */

typedef enum { Q_RECT, Q_KNN } qkind;

typedef struct qspec {
    const char *name;
    qkind kind;
    double side; /* rect */
    size_t k;    /* knn */
} qspec;

/* Runs queries [0, nq) with contender c (0 ds, 1 brute, 2 boost); returns
 * the total result count. */
static size_t run_queries(int c, const qspec *s, const ds_quadtree *q, void *bt, size_t nq) {
    size_t i, total = 0, n;
    for (i = 0; i < nq; i++) {
        double x = g_qx[i], y = g_qy[i], h = s->side / 2;
        if (s->kind == Q_RECT) {
            if (c == 0) ds_quadtree_rect_into(q, x - h, y - h, x + h, y + h, g_pts, RESULT_CAP, &n);
            else if (c == 1) n = brute_rect(x - h, y - h, x + h, y + h, g_ids, RESULT_CAP);
            else n = bq_rect(bt, x - h, y - h, x + h, y + h, g_ids, RESULT_CAP);
        } else {
            if (c == 0) ds_quadtree_knn(q, x, y, s->k, g_hits, &n);
            else if (c == 1) n = brute_knn(x, y, s->k, g_ids);
            else n = bq_knn(bt, x, y, s->k, g_ids);
        }
        total += n;
    }
    return total;
}

/* Queries [o, o + m) with contender c (0 ds, 2 boost). */
static size_t run_queries_from(int c, const qspec *s, const ds_quadtree *q, void *bt, size_t o,
                               size_t m) {
    size_t i, total = 0, n;
    for (i = o; i < o + m; i++) {
        if (c == 0) ds_quadtree_knn(q, g_qx[i], g_qy[i], s->k, g_hits, &n);
        else n = bq_knn(bt, g_qx[i], g_qy[i], s->k, g_ids);
        total += n;
    }
    return total;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* All three agree on the first nq queries. */
static void verify(const qspec *s, const ds_quadtree *q, void *bt, size_t nq) {
    static uint64_t a[1024], b[1024], d[1024];
    size_t i, j;
    for (i = 0; i < nq; i++) {
        double x = g_qx[i], y = g_qy[i], h = s->side / 2;
        size_t na, nb, nd;
        if (s->kind == Q_RECT) {
            ds_quadtree_rect_into(q, x - h, y - h, x + h, y + h, NULL, 0, &nd);
            na = brute_rect(x - h, y - h, x + h, y + h, a, 0);
            nb = bq_rect(bt, x - h, y - h, x + h, y + h, b, 0);
            if (na != nd || nb != nd) die("rect counts differ");
        } else {
            ds_quadtree_knn(q, x, y, s->k, g_hits, &nd);
            for (j = 0; j < nd; j++) d[j] = g_hits[j].id;
            na = brute_knn(x, y, s->k, a);
            nb = bq_knn(bt, x, y, s->k, b);
            if (na != nd || nb != nd) die("knn counts differ");
            qsort(a, na, 8, cmp_u64);
            qsort(b, nb, 8, cmp_u64);
            qsort(d, nd, 8, cmp_u64);
            if (memcmp(a, d, nd * 8) || memcmp(b, d, nd * 8)) die("knn ids differ");
        }
    }
}

int main(int argc, char **argv) {
    static const char *sets[2] = {"uniform", "clustered"};
    qspec specs[4];
    int reps = 0, quick = 0, knn_only = 0, i, r, set;
    uint32_t bucket = 0;
    g_n = 1000000;
    g_q = 20000;
    g_bq = 200;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--knn")) knn_only = 1;
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) g_n = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--q") && i + 1 < argc) g_q = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--bq") && i + 1 < argc) g_bq = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bucket") && i + 1 < argc) bucket = (uint32_t)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_spatial [--n N] [--q Q] [--bq B] [--reps R] [--bucket B] [--knn] [--quick]\n");
            return 2;
        }
    }
    if (quick) {
        g_n = 100000;
        g_q = 2000;
        g_bq = 50;
        reps = 1;
    }
    if (reps <= 0) reps = bench_reps(5);
    if (g_n < 1000 || g_q < 1) die("need --n >= 1000 and --q >= 1");
    if (g_bq > g_q) g_bq = g_q;
    g_x = (double *)malloc(g_n * sizeof *g_x);
    g_y = (double *)malloc(g_n * sizeof *g_y);
    g_qx = (double *)malloc(g_q * sizeof *g_qx);
    g_qy = (double *)malloc(g_q * sizeof *g_qy);
    g_ids = (uint64_t *)malloc(RESULT_CAP * sizeof *g_ids);
    g_pts = (ds_qt_point *)malloc(RESULT_CAP * sizeof *g_pts);
    g_hits = (ds_qt_hit *)malloc(1024 * sizeof *g_hits);
    g_in = (ds_qt_point *)malloc(g_n * sizeof *g_in);
    if (!g_in || !g_x || !g_y || !g_qx || !g_qy || !g_ids || !g_pts || !g_hits) die("out of memory");
    specs[0].name = "rect-10";
    specs[0].kind = Q_RECT;
    specs[0].side = sqrt(10.0 / (double)g_n);
    specs[1].name = "rect-1000";
    specs[1].kind = Q_RECT;
    specs[1].side = sqrt(1000.0 / (double)g_n);
    specs[2].name = "knn-10";
    specs[2].kind = Q_KNN;
    specs[2].k = 10;
    specs[3].name = "knn-100";
    specs[3].kind = Q_KNN;
    specs[3].k = 100;
    specs[0].k = specs[1].k = 0;
    specs[2].side = specs[3].side = 0;

    printf("ds_quadtree (bucket %u) beside brute force and boost::geometry rtree<quadratic<16>>,\n"
           "%zu points, %zu queries a rep (brute force: %zu), median of %d\n",
           bucket ? bucket : 32, g_n, g_q, g_bq, reps);
    for (set = 0; set < 2; set++) {
        ds_quadtree q, qi, qc;
        void *bt;
        bench_samples sb_ds, sb_many, sb_cmp, sb_bulk, sb_ins;
        double t, tm;
        size_t mem_ins;
        make_data(set);
        for (i = 0; i < (int)g_n; i++) {
            g_in[i].x = g_x[i];
            g_in[i].y = g_y[i];
            g_in[i].id = (uint64_t)i;
        }
        if (knn_only) { /* ds add_many tree beside boost bulk, kNN only */
            build_ds(&q, bucket, 1);
            bt = bq_build(g_x, g_y, g_n, 1);
            printf("\n%s: kNN, ns a query\n  %-10s %9s %9s %10s %9s\n", sets[set], "query", "ds ns/q",
                   "ds kq/s", "boost ns/q", "boost/ds");
            for (i = 2; i < 4; i++) {
                const qspec *s = &specs[i];
                bench_samples sd, sbo, srt;
                double d, bo;
                memset(&sd, 0, sizeof sd);
                memset(&sbo, 0, sizeof sbo);
                verify(s, &q, bt, g_bq);
                run_queries(0, s, &q, bt, g_q / 10 + 1); /* warm-up */
                run_queries(2, s, &q, bt, g_q / 10 + 1);
                memset(&srt, 0, sizeof srt);
                /* interleaved 500 queries at a time, so both see the same load */
                for (r = 0; r < reps; r++) {
                    double td = 0, tb = 0;
                    size_t o;
                    for (o = 0; o < g_q; o += 500) {
                        size_t m = g_q - o < 500 ? g_q - o : 500;
                        int64_t t0 = bench_now();
                        run_queries_from(0, s, &q, bt, o, m);
                        td += (double)(bench_now() - t0);
                        t0 = bench_now();
                        run_queries_from(2, s, &q, bt, o, m);
                        tb += (double)(bench_now() - t0);
                    }
                    bench_add(&sd, td);
                    bench_add(&sbo, tb);
                    bench_add(&srt, tb / td);
                }
                d = bench_ns_per_op(bench_median(&sd), (double)g_q);
                bo = bench_ns_per_op(bench_median(&sbo), (double)g_q);
                printf("  %-10s %9.0f %9.1f %10.0f %8.2fx  (median of per-rep ratios %.2fx)\n", s->name,
                       d, bench_mops(d) * 1e3, bo, bench_ratio(bo, d), bench_median(&srt));
            }
            bq_free(bt);
            ds_quadtree_free(&q);
            continue;
        }
        memset(&sb_ds, 0, sizeof sb_ds);
        memset(&sb_many, 0, sizeof sb_many);
        memset(&sb_cmp, 0, sizeof sb_cmp);
        memset(&sb_bulk, 0, sizeof sb_bulk);
        memset(&sb_ins, 0, sizeof sb_ins);
        /* build; the last rep's trees are kept for the queries */
        for (r = 0; r < reps; r++) {
            int64_t t0 = bench_now();
            build_ds(&qi, bucket, 0);
            bench_add(&sb_ds, (double)(bench_now() - t0));
            if (r + 1 < reps) ds_quadtree_free(&qi);
            t0 = bench_now();
            build_ds(&q, bucket, 1);
            bench_add(&sb_many, (double)(bench_now() - t0));
            if (r + 1 < reps) ds_quadtree_free(&q);
            t0 = bench_now();
            bt = bq_build(g_x, g_y, g_n, 1);
            bench_add(&sb_bulk, (double)(bench_now() - t0));
            bq_free(bt);
            if (r < 3) { /* one insert at a time: slow, at most 3 reps */
                t0 = bench_now();
                bt = bq_build(g_x, g_y, g_n, 0);
                bench_add(&sb_ins, (double)(bench_now() - t0));
                bq_free(bt);
            }
        }
        bt = bq_build(g_x, g_y, g_n, 1);
        t = bench_ns_per_op(bench_median(&sb_ds), (double)g_n);
        tm = bench_ns_per_op(bench_median(&sb_many), (double)g_n);
        printf("\n%s: build, ns a point\n", sets[set]);
        printf("  ds insert_many %6.1f   ds insert x N %6.1f   boost bulk %6.1f (%.2fx)   boost insert %6.1f (%.2fx)\n",
               tm, t, bench_ns_per_op(bench_median(&sb_bulk), (double)g_n),
               bench_ratio(bench_ns_per_op(bench_median(&sb_bulk), (double)g_n), tm),
               bench_ns_per_op(bench_median(&sb_ins), (double)g_n),
               bench_ratio(bench_ns_per_op(bench_median(&sb_ins), (double)g_n), t));
        mem_ins = ds_quadtree_memory(&qi);
        printf("  ds memory: %.1f B a point after insert_many, %.1f after inserts, ",
               (double)ds_quadtree_memory(&q) / (double)g_n, (double)mem_ins / (double)g_n);
        {
            int64_t t0;
            build_ds(&qc, bucket, 0);
            t0 = bench_now();
            if (ds_quadtree_compact(&qc) != DS_OK) die("compact");
            t0 = bench_now() - t0;
            printf("%.1f compacted (%.1f ns a point)\n", (double)ds_quadtree_memory(&qc) / (double)g_n,
                   (double)t0 / (double)g_n);
        }
        printf("  %-10s %9s %9s %9s %9s %11s %9s %10s %9s %8s\n", "query", "ds ns/q", "ds kq/s",
               "ds ins", "ins+cmp", "brute ns/q", "brute/ds", "boost ns/q", "boost/ds", "results");
        for (i = 0; i < 4; i++) {
            const qspec *s = &specs[i];
            bench_samples sd, sdi, sdc, sbr, sbo;
            size_t res = 0;
            double d, di, dc, br, bo;
            memset(&sd, 0, sizeof sd);
            memset(&sdc, 0, sizeof sdc);
            memset(&sdi, 0, sizeof sdi);
            memset(&sbr, 0, sizeof sbr);
            memset(&sbo, 0, sizeof sbo);
            verify(s, &q, bt, g_bq < 50 ? g_bq : 50);
            verify(s, &qi, bt, g_bq < 20 ? g_bq : 20);
            verify(s, &qc, bt, g_bq < 20 ? g_bq : 20);
            run_queries(0, s, &q, bt, g_q / 10 + 1); /* warm-up */
            for (r = 0; r < reps; r++) {
                int64_t t0 = bench_now();
                res = run_queries(0, s, &q, bt, g_q);
                bench_add(&sd, (double)(bench_now() - t0));
                t0 = bench_now();
                run_queries(0, s, &qi, bt, g_q);
                bench_add(&sdi, (double)(bench_now() - t0));
                t0 = bench_now();
                run_queries(0, s, &qc, bt, g_q);
                bench_add(&sdc, (double)(bench_now() - t0));
                t0 = bench_now();
                run_queries(2, s, &q, bt, g_q);
                bench_add(&sbo, (double)(bench_now() - t0));
                t0 = bench_now();
                run_queries(1, s, &q, bt, g_bq);
                bench_add(&sbr, (double)(bench_now() - t0));
            }
            d = bench_ns_per_op(bench_median(&sd), (double)g_q);
            di = bench_ns_per_op(bench_median(&sdi), (double)g_q);
            dc = bench_ns_per_op(bench_median(&sdc), (double)g_q);
            br = bench_ns_per_op(bench_median(&sbr), (double)g_bq);
            bo = bench_ns_per_op(bench_median(&sbo), (double)g_q);
            printf("  %-10s %9.0f %9.1f %9.0f %9.0f %11.0f %8.0fx %10.0f %8.2fx %8.1f\n", s->name, d,
                   bench_mops(d) * 1e3, di, dc, br, bench_ratio(br, d), bo, bench_ratio(bo, d),
                   (double)res / (double)g_q);
        }
        bq_free(bt);
        ds_quadtree_free(&q);
        ds_quadtree_free(&qi);
        ds_quadtree_free(&qc);
    }
    printf("\npeak RSS %ld MiB\n", bench_peak_rss_kb() / 1024);
    free(g_x);
    free(g_y);
    free(g_qx);
    free(g_qy);
    free(g_ids);
    free(g_pts);
    free(g_hits);
    free(g_in);
    return 0;
}
