/* src/flat.h - ds_flat: exact k-NN index
 *
 * One module of ds_hnsw.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/flat.h"
 */
#ifndef DS_SRC_FLAT_H
#define DS_SRC_FLAT_H
#include "vecdist.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds_hnsw:flat ==
 * ========================================================================
 * Exact k-nearest-neighbour search by a full scan: every query computes
 * the distance to every vector and keeps the k best in a bounded max-heap
 * built inside the caller's output array (no allocation while searching).
 *
 *   ds_status ds_flat_init(ds_flat *f, size_t dim, ds_metric metric, const ds_alloc *a)
 *          an owning index (copies each vector). Allocates nothing.
 *          DS_EINVAL: dim 0 or > DS_VEC_MAX_DIM, unknown metric.
 *   ds_status ds_flat_init_view(ds_flat *f, const float *data, size_t count,
 *                               size_t dim, size_t stride, ds_metric metric)
 *          a read-only index over count vectors the caller owns, row i at
 *          data + i * stride floats (stride >= dim; a .fvecs file mapped in
 *          memory is data = base + 4 bytes, stride = dim + 1). Labels are
 *          row numbers. Nothing is copied or allocated; data must outlive f
 *          and is not validated (NaNs give NaN distances). add/remove give
 *          DS_EINVAL. Cosine divides by both norms at search time.
 *   void   ds_flat_free(ds_flat *f)
 *   ds_status ds_flat_insert(ds_flat *f, uint64_t label, const float *v)
 *          DS_EEXIST (label present), DS_EINVAL (NaN/inf, a zero vector
 *          under cosine, |v|^2 above 2^126 ~ 8.5e37 under L2 and IP, where
 *          distances could overflow float), DS_ENOMEM. Amortised O(dim).
 *   ds_status ds_flat_del(ds_flat *f, uint64_t label)
 *          DS_ENOTFOUND; moves the last row into the hole. O(dim).
 *   size_t ds_flat_len(const ds_flat *f)
 *   ds_status ds_flat_search(const ds_flat *f, const float *q, size_t k,
 *                            ds_neighbor *out, size_t *nout)
 *          the min(k, len) nearest into out (room for k), nearest first;
 *          *nout = how many. DS_EINVAL: k = 0, NaN in q, zero q under
 *          cosine, |q|^2 above 2^126 under L2 and IP. O(len * dim + len log k).
 *   ds_status ds_flat_search_batch(const ds_flat *f, const float *qs, size_t nq,
 *                                  size_t k, ds_neighbor *out, size_t *nout)
 *          nq queries stored back to back (dim floats each): results of
 *          query i at out + i * k, count in nout[i].
 * Thread-safety: searches may run concurrently; add/remove need exclusion. */
#define DS_VEC_MAX_DIM ((size_t)1 << 16)

typedef struct ds_flat {
    const float *data;    /* row i at data + i * stride */
    float *own;           /* owning mode: the rows (== data); NULL in view mode */
    uint64_t *labels;     /* owning mode: label of row i */
    size_t dim, stride, len, cap;
    ds_metric metric;
    int view;
    ds__vlabel_map map;   /* label -> row (owning mode) */
    const ds_alloc *alloc;
} ds_flat;

DSDEF ds_status ds_flat_init(ds_flat *f, size_t dim, ds_metric metric, const ds_alloc *a);
DSDEF ds_status ds_flat_init_view(ds_flat *f, const float *data, size_t count, size_t dim,
                                  size_t stride, ds_metric metric);
DSDEF void ds_flat_free(ds_flat *f);
DSDEF ds_status ds_flat_insert(ds_flat *f, uint64_t label, const float *v);
DSDEF ds_status ds_flat_del(ds_flat *f, uint64_t label);
DSDEF size_t ds_flat_len(const ds_flat *f);
DSDEF ds_status ds_flat_search(const ds_flat *f, const float *q, size_t k, ds_neighbor *out,
                               size_t *nout);
DSDEF ds_status ds_flat_search_batch(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                     ds_neighbor *out, size_t *nout);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_FLAT_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_HNSW_IMPLEMENTATION)) && !defined(DS_SRC_FLAT_IMPL)
#define DS_SRC_FLAT_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds_hnsw:flat == */

static int ds__metric_ok(ds_metric m) {
    return m == DS_METRIC_L2 || m == DS_METRIC_IP || m == DS_METRIC_COSINE;
}

DSDEF ds_status ds_flat_init(ds_flat *f, size_t dim, ds_metric metric, const ds_alloc *a) {
    if (!f) return DS_EINVAL;
    memset(f, 0, sizeof *f); /* a failed init leaves a struct free accepts */
    if (dim == 0 || dim > DS_VEC_MAX_DIM || !ds__metric_ok(metric)) return DS_EINVAL;
    memset(f, 0, sizeof *f);
    f->dim = f->stride = dim;
    f->metric = metric;
    f->alloc = a;
    ds__vlabel_map_init_seed(&f->map, a, 0x666c6174u);
    return DS_OK;
}
DSDEF ds_status ds_flat_init_view(ds_flat *f, const float *data, size_t count, size_t dim,
                                  size_t stride, ds_metric metric) {
    size_t t;
    if (!f) return DS_EINVAL;
    memset(f, 0, sizeof *f); /* a failed init leaves a struct free accepts */
    if ((!data && count) || dim == 0 || dim > DS_VEC_MAX_DIM || stride < dim ||
        !ds__metric_ok(metric) || (count && !ds_size_muladd(count - 1, stride, dim, &t)))
        return DS_EINVAL;
    memset(f, 0, sizeof *f);
    f->data = data;
    f->dim = dim;
    f->stride = stride;
    f->len = f->cap = count;
    f->metric = metric;
    f->view = 1;
    ds__vlabel_map_init_seed(&f->map, NULL, 0);
    return DS_OK;
}
DSDEF void ds_flat_free(ds_flat *f) {
    if (!f) return;
    if (!f->view) {
        if (f->own) DS_FREE(f->alloc, f->own, f->cap * f->dim * sizeof(float));
        if (f->labels) DS_FREE(f->alloc, f->labels, f->cap * sizeof(uint64_t));
        ds__vlabel_map_free(&f->map);
    }
    f->own = NULL;
    f->labels = NULL;
    f->data = NULL;
    f->len = f->cap = 0;
}
DSDEF size_t ds_flat_len(const ds_flat *f) { return f ? f->len : 0; }

DSDEF ds_status ds_flat_insert(ds_flat *f, uint64_t label, const float *v) {
    size_t row, mcap;
    uint8_t *mtab;
    ds_status st;
    if (!f || !v || f->view || !ds__vec_finite(v, f->dim)) return DS_EINVAL;
    if (f->metric != DS_METRIC_COSINE && !ds__vec_in_range(v, f->dim)) return DS_EINVAL;
    if (ds__vlabel_map_get(&f->map, label)) return DS_EEXIST;
    if (f->metric == DS_METRIC_COSINE && !(ds__vec_norm2(v, f->dim) > 0.0)) return DS_EINVAL;
    /* Every new block first (the label table's too), then commit: nothing
     * changes on ENOMEM, capacity included. */
    if ((st = ds__map_reserve_alloc(&f->map.m, f->len + 1, sizeof(ds__vlabel_map_entry), &mtab, &mcap)) !=
        DS_OK)
        return st;
    if (f->len == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16, vb, lb;
        float *nv;
        uint64_t *nl;
        if (nc < f->cap || !ds_size_mul(nc, f->dim * sizeof(float), &vb) ||
            !ds_size_mul(nc, sizeof(uint64_t), &lb)) {
            ds__map_reserve_drop(&f->map.m, mtab, mcap, sizeof(ds__vlabel_map_entry));
            return DS_EINVAL;
        }
        nv = (float *)DS_MALLOC(f->alloc, vb);
        nl = nv ? (uint64_t *)DS_MALLOC(f->alloc, lb) : NULL;
        if (!nl) {
            if (nv) DS_FREE(f->alloc, nv, vb);
            ds__map_reserve_drop(&f->map.m, mtab, mcap, sizeof(ds__vlabel_map_entry));
            return DS_ENOMEM;
        }
        if (f->len) {
            memcpy(nv, f->own, f->len * f->dim * sizeof(float));
            memcpy(nl, f->labels, f->len * sizeof(uint64_t));
        }
        if (f->own) DS_FREE(f->alloc, f->own, f->cap * f->dim * sizeof(float));
        if (f->labels) DS_FREE(f->alloc, f->labels, f->cap * sizeof(uint64_t));
        f->own = nv;
        f->labels = nl;
        f->data = nv;
        f->cap = nc;
    }
    if (mtab) ds__map_adopt(&f->map.m, mtab, mcap, sizeof(ds__vlabel_map_entry), ds__vlabel_map__hash);
    row = f->len;
    memcpy(f->own + row * f->dim, v, f->dim * sizeof(float));
    if (f->metric == DS_METRIC_COSINE) (void)ds_l2_normalize(f->own + row * f->dim, f->dim);
    f->labels[row] = label;
    (void)ds__vlabel_map_put(&f->map, label, row, NULL); /* reserved: cannot fail */
    f->len++;
    return DS_OK;
}
DSDEF ds_status ds_flat_del(ds_flat *f, uint64_t label) {
    uint64_t row;
    size_t last;
    if (!f || f->view) return DS_EINVAL;
    if (ds__vlabel_map_del(&f->map, label, &row) != DS_OK) return DS_ENOTFOUND;
    last = f->len - 1;
    if ((size_t)row != last) {
        memcpy(f->own + row * f->dim, f->own + last * f->dim, f->dim * sizeof(float));
        f->labels[row] = f->labels[last];
        *ds__vlabel_map_get(&f->map, f->labels[row]) = row;
    }
    f->len--;
    return DS_OK;
}

/* One query against every row. */
/* The distance from q (norm qn under cosine) to row i. */
static float ds__flat_dist(const ds_flat *f, ds_dist_fn l2, ds_dist_fn dot, const float *q, float qn,
                           const float *row, float rn) {
    if (f->metric == DS_METRIC_L2) return l2(q, row, f->dim);
    if (f->metric == DS_METRIC_IP) return 1.0f - dot(q, row, f->dim);
    return rn > 0.0f ? 1.0f - dot(q, row, f->dim) / (qn * rn) : 1.0f;
}
/* Check a query; its norm under cosine (1 otherwise). */
static ds_status ds__flat_prep(const ds_flat *f, const float *q, float *qn) {
    *qn = 1.0f;
    if (!ds__vec_finite(q, f->dim)) return DS_EINVAL;
    if (f->metric != DS_METRIC_COSINE && !ds__vec_in_range(q, f->dim)) return DS_EINVAL;
    if (f->metric == DS_METRIC_COSINE) {
        *qn = (float)sqrt(ds__vec_norm2(q, f->dim));
        if (!(*qn > 0.0f)) return DS_EINVAL;
    }
    return DS_OK;
}
/* Queries [0, nq) in blocks: each row is read from memory once per block
 * and scored against every query of the block while it sits in L1, so a
 * base larger than the cache streams nq / block times, not nq times. The
 * distances are the single-query ones, so results are identical. 32
 * queries of 128 floats (16 KB) stay in L1 beside the row; on a 10^6 x 128
 * base, 100 queries ran at 68 and 95 QPS in two runs, against 46 and 60
 * with blocks of 8 (bench_hnsw --exact-only). */
#define DS__FLAT_BLOCK 32
static ds_status ds__flat_block(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                ds_neighbor *out, size_t *nout) {
    ds_dist_fn l2 = ds_dist_l2sq_kernel(ds_dist_simd_level());
    ds_dist_fn dot = ds_dist_dot_kernel(ds_dist_simd_level());
    float qn[DS__FLAT_BLOCK];
    size_t i, j, b;
    for (b = 0; b < nq; b += DS__FLAT_BLOCK) {
        size_t m = nq - b < DS__FLAT_BLOCK ? nq - b : DS__FLAT_BLOCK;
        for (j = 0; j < m; j++) {
            ds_status st = ds__flat_prep(f, qs + (b + j) * f->dim, &qn[j]);
            if (st != DS_OK) return st;
            nout[b + j] = 0;
        }
        for (i = 0; i < f->len; i++) {
            const float *row = f->data + i * f->stride;
            float rn = f->metric == DS_METRIC_COSINE && f->view ? sqrtf(dot(row, row, f->dim)) : 1.0f;
            ds_neighbor x;
            x.label = f->view ? (uint64_t)i : f->labels[i];
            for (j = 0; j < m; j++) {
                x.dist = ds__flat_dist(f, l2, dot, qs + (b + j) * f->dim, qn[j], row, rn);
                ds__nb_offer(out + (b + j) * k, &nout[b + j], k, x);
            }
        }
        for (j = 0; j < m; j++) ds__nb_sort(out + (b + j) * k, nout[b + j]);
    }
    return DS_OK;
}
static ds_status ds__flat_query(const ds_flat *f, const float *q, size_t k, ds_neighbor *out,
                                size_t *nout) {
    return ds__flat_block(f, q, 1, k, out, nout);
}
DSDEF ds_status ds_flat_search(const ds_flat *f, const float *q, size_t k, ds_neighbor *out,
                               size_t *nout) {
    if (!f || !q || !k || !out || !nout) return DS_EINVAL;
    return ds__flat_query(f, q, k, out, nout);
}
DSDEF ds_status ds_flat_search_batch(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                     ds_neighbor *out, size_t *nout) {
    size_t t;
    if (!f || (!qs && nq) || !k || (!out && nq) || (!nout && nq) ||
        !ds_size_mul(nq, k, &t))
        return DS_EINVAL;
    return ds__flat_block(f, qs, nq, k, out, nout);
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_FLAT_IMPL */
