/* tests/hnsw_data.h - synthetic vectors and parameters shared by the
 * vector-search tests (test_hnsw.c, C99; test_conc_hnsw.c, C11 threads),
 * which build into different binaries: data, parameters and recall.
 * Include after ds_hnsw.h. */
#ifndef DS_TESTS_HNSW_DATA_H
#define DS_TESTS_HNSW_DATA_H
#include <math.h>
#include <stdlib.h>

static float gauss(ds_rng *r) {
    double u = 1.0 - ds_rng_double(r), v = ds_rng_double(r);
    return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}
/* n points in `clusters` Gaussian blobs (centres uniform in [-1,1]^dim,
 * spread sigma), row-major. Caller frees. */
static float *clustered(ds_rng *r, size_t n, size_t dim, size_t clusters, float sigma) {
    float *c = (float *)malloc(clusters * dim * sizeof(float));
    float *x = (float *)malloc(n * dim * sizeof(float));
    size_t i, j;
    if (!c || !x) {
        free(c);
        free(x);
        return NULL;
    }
    for (i = 0; i < clusters * dim; i++) c[i] = (float)(2.0 * ds_rng_double(r) - 1.0);
    for (i = 0; i < n; i++) {
        size_t k = (size_t)ds_rng_below(r, clusters);
        for (j = 0; j < dim; j++) x[i * dim + j] = c[k * dim + j] + sigma * gauss(r);
    }
    free(c);
    return x;
}
static ds_hnsw_params hparams(size_t dim, ds_metric m, size_t M, size_t efc, uint64_t seed) {
    ds_hnsw_params p = ds_hnsw_params_default(dim);
    p.metric = m;
    p.M = M;
    p.ef_construction = efc;
    p.seed = seed;
    return p;
}

/* Mean recall@k of an index over queries against label ground truth. */
static double hnsw_recall(const ds_hnsw *h, const float *qs, size_t nq, size_t dim,
                          const uint64_t *truth, size_t tstride, size_t k, size_t ef) {
    ds_neighbor res[100];
    ds_hnsw_scratch s;
    double sum = 0;
    size_t i, got;
    ds_hnsw_scratch_init(&s, NULL);
    for (i = 0; i < nq; i++) {
        if (ds_hnsw_search_scratch(h, &s, qs + i * dim, k, ef, NULL, NULL, res, &got) != DS_OK)
            return -1;
        sum += ds_recall_at_k(res, got, truth + i * tstride, k);
    }
    ds_hnsw_scratch_free(&s);
    return sum / (double)nq;
}
#endif
