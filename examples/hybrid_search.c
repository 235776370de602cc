/* examples/hybrid_search.c - hybrid retrieval: BM25 and vectors, fused.
 *
 * Retrieval-augmented generation often ranks the same documents twice:
 * by keywords (BM25, good at exact names and rare words) and by vectors
 * (good at overall similarity), then fuses the two rankings. Here, over
 * 3,000 Debian package descriptions (tests/data/debian):
 *   1. a ds_index ranks by BM25;
 *   2. each document's TF-IDF row (tf/len * log(N / (df + 1)), the seed's
 *      weights, df from the index) is reduced to 256 dimensions by a random
 *      projection (each term a pseudo-random +-1 vector seeded by its
 *      hash: no model download) and stored in a ds_hnsw (cosine);
 *   3. ds_rrf_fuse merges the two top-10 lists by reciprocal rank
 *      (1 / (60 + rank) summed over the lists).
 * It prints the three rankings for a few queries and exits non-zero if the
 * data cannot be read or a fused list is not made of the two inputs.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/hybrid_search.c -o hybrid_search -lm
 *     ./hybrid_search ["query" ...] */
#define _POSIX_C_SOURCE 200809L /* popen */
#define DS_IMPLEMENTATION
#include "ds_hnsw.h"
#include "ds_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NDOCS 3000
#define DIM 256
#define K 10

static char *docs[NDOCS];
static size_t ndocs;

typedef struct vecctx {
    const ds_index *ix;
    float *v;
    size_t ntok;
    char toks[512][64];
    size_t tl[512];
} vecctx;

static ds_status collect(void *ctx, const char *tok, size_t len) {
    vecctx *c = (vecctx *)ctx;
    if (c->ntok < 512 && len < 64) {
        memcpy(c->toks[c->ntok], tok, len);
        c->tl[c->ntok++] = len;
    }
    return DS_OK;
}

/* The projected TF-IDF row of text. */
static void embed(vecctx *c, const char *text, float *v) {
    size_t i, j, n = ds_index_len(c->ix);
    c->ntok = 0;
    ds_text_tokenize(text, strlen(text), collect, c);
    for (j = 0; j < DIM; j++) v[j] = 0;
    for (i = 0; i < c->ntok; i++) {
        size_t tf = 0, df = ds_index_df(c->ix, c->toks[i], c->tl[i]);
        double w;
        ds_rng r;
        for (j = 0; j < c->ntok; j++) tf += c->tl[j] == c->tl[i] && !memcmp(c->toks[j], c->toks[i], c->tl[i]);
        w = ((double)tf / (double)c->ntok) * log((double)n / ((double)df + 1));
        if (w <= 0) continue;
        w /= (double)tf; /* each occurrence adds its share */
        ds_rng_seed(&r, ds_hash_bytes(c->toks[i], c->tl[i], 17));
        for (j = 0; j < DIM; j++) v[j] += (float)((ds_rng_next(&r) & 1) ? w : -w);
    }
    v[0] += 1e-6f; /* never the zero vector (cosine) */
}

int main(int argc, char **argv) {
    static const char *demo[] = {"lightweight pdf viewer", "python library for http requests", "fonts for code"};
    const char *const *queries = demo;
    int nq = 3, qi, bad = 0;
    FILE *f = popen("xz -dc tests/data/debian/descriptions.txt.xz 2>/dev/null", "r");
    char line[65536];
    ds_index ix;
    ds_hnsw h;
    ds_hnsw_params hp = ds_hnsw_params_default(DIM);
    static vecctx c;
    float v[DIM];
    size_t i;
    if (argc > 1) {
        queries = (const char *const *)(argv + 1);
        nq = argc - 1;
    }
    if (!f) return 1;
    while (ndocs < NDOCS && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        char *tab = strchr(line, '\t');
        line[len] = 0;
        if (tab) *tab = ' ';
        docs[ndocs] = (char *)malloc(len + 1);
        memcpy(docs[ndocs++], line, len + 1);
    }
    pclose(f);
    if (ndocs < 100) {
        fprintf(stderr, "hybrid_search: cannot read tests/data/debian/descriptions.txt.xz (run from the repository root)\n");
        return 1;
    }
    ds_index_init(&ix, NULL, NULL);
    for (i = 0; i < ndocs; i++)
        if (ds_index_put(&ix, i, docs[i], strlen(docs[i])) != DS_OK) return 1;
    hp.metric = DS_METRIC_COSINE;
    hp.ef_construction = 64;
    if (ds_hnsw_init(&h, &hp, NULL) != DS_OK) return 1;
    c.ix = &ix;
    for (i = 0; i < ndocs; i++) {
        embed(&c, docs[i], v);
        if (ds_hnsw_insert(&h, i, v) != DS_OK) return 1;
    }
    printf("%zu documents: BM25 index and %d-d projected TF-IDF vectors in HNSW\n", ndocs, DIM);
    for (qi = 0; qi < nq; qi++) {
        ds_index_hit bm[K], fused[2 * K];
        ds_neighbor nn[K];
        uint64_t l1[K], l2[K];
        const uint64_t *lists[2] = {l1, l2};
        size_t n1 = 0, n2 = 0, nf = 0, lens[2];
        ds_index_search(&ix, queries[qi], strlen(queries[qi]), DS_INDEX_BM25, K, bm, &n1, NULL);
        embed(&c, queries[qi], v);
        ds_hnsw_search(&h, v, K, 64, NULL, NULL, nn, &n2);
        for (i = 0; i < n1; i++) l1[i] = bm[i].doc;
        for (i = 0; i < n2; i++) l2[i] = nn[i].label;
        lens[0] = n1;
        lens[1] = n2;
        if (ds_rrf_fuse(lists, lens, 2, 60, K, fused, &nf, NULL) != DS_OK) return 1;
        printf("\n\"%s\"\n  %-38s %-38s %s\n", queries[qi], "BM25", "vector (TF-IDF projection)", "fused (RRF)");
        for (i = 0; i < K; i++) {
            char a[39] = "", b[39] = "", d[39] = "";
            if (i < n1) snprintf(a, sizeof a, "%.37s", docs[bm[i].doc]);
            if (i < n2) snprintf(b, sizeof b, "%.37s", docs[nn[i].label]);
            if (i < nf) snprintf(d, sizeof d, "%.37s", docs[fused[i].doc]);
            printf("  %-38s %-38s %s\n", a, b, d);
        }
        for (i = 0; i < nf; i++) {
            size_t j;
            int found = 0;
            for (j = 0; j < n1; j++) found |= l1[j] == fused[i].doc;
            for (j = 0; j < n2; j++) found |= l2[j] == fused[i].doc;
            bad |= !found;
        }
    }
    ds_hnsw_free(&h);
    ds_index_free(&ix);
    for (i = 0; i < ndocs; i++) free(docs[i]);
    return bad;
}
