/* examples/embedding_cache.c - memoize an expensive embedding function.
 *
 * The Python this replaces:
 *
 *     @functools.lru_cache(maxsize=4096)
 *     def embed(token_id): ...          # a slow model call
 *     embed.cache_info()                # CacheInfo(hits=..., misses=..., ...)
 *
 * Here "embedding" a token is a deliberately slow pure function (a few
 * thousand multiply-adds into a 64-float vector). Queries draw tokens from
 * a Zipf distribution, as words in text do, so a small cache absorbs most
 * calls. The program times the same query stream with and without the
 * cache, checks every cached answer equals a fresh computation, and prints
 * cache_info-style statistics.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/embedding_cache.c -o embedding_cache -lm
 *     ./embedding_cache */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM 64
#define VOCAB 50000
#define QUERIES 60000

typedef struct embedding {
    float v[DIM];
} embedding;

/* The "model": deterministic in the token, and slow on purpose. */
static embedding embed(uint32_t token) {
    embedding e;
    uint64_t s = ds_mix64(token + 1);
    int i, r;
    for (i = 0; i < DIM; i++) {
        double acc = 0;
        for (r = 0; r < 32; r++) {
            s = ds_mix64(s + (uint64_t)r);
            acc += (double)(s >> 40) / (double)(1 << 24) - 0.5;
        }
        e.v[i] = (float)(acc / 5.66);
    }
    return e;
}

DS_MEMO(embed_cache, uint32_t, embedding, embed, ds_hash_u32, ds_eq_u32)

int main(void) {
    double *cdf = (double *)malloc(VOCAB * sizeof *cdf), sum = 0, checksum_a = 0, checksum_b = 0;
    uint32_t *tokens = (uint32_t *)malloc(QUERIES * sizeof *tokens);
    embed_cache cache;
    ds_memo_info info;
    ds_rng rng;
    int64_t t0, t1, t2;
    size_t i, j;
    if (!cdf || !tokens) return 1;
    for (i = 0; i < VOCAB; i++) cdf[i] = (sum += 1.0 / (double)(i + 1));
    ds_rng_seed(&rng, 11);
    for (i = 0; i < QUERIES; i++) {
        double u = ds_rng_double(&rng) * sum;
        size_t lo = 0, hi = VOCAB - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cdf[mid] < u) lo = mid + 1; else hi = mid;
        }
        tokens[i] = (uint32_t)lo;
    }
    if (embed_cache_init(&cache, 4096, NULL) != DS_OK) return 1;

    t0 = ds_now_ns();
    for (i = 0; i < QUERIES; i++) checksum_a += embed(tokens[i]).v[0];
    t1 = ds_now_ns();
    for (i = 0; i < QUERIES; i++) checksum_b += embed_cache_call(&cache, tokens[i]).v[0];
    t2 = ds_now_ns();

    /* Cached answers are the function's answers. */
    for (i = 0; i < 1000; i++) {
        embedding a = embed(tokens[i]), b = embed_cache_call(&cache, tokens[i]);
        for (j = 0; j < DIM; j++)
            if (a.v[j] != b.v[j]) {
                fprintf(stderr, "cached embedding differs for token %u\n", tokens[i]);
                return 1;
            }
    }
    info = embed_cache_info(&cache);
    printf("%d queries over %d tokens (Zipf), cache of %zu embeddings\n", QUERIES, VOCAB, info.maxsize);
    printf("  uncached: %.1f ms   cached: %.1f ms   (%.1fx)\n", (double)(t1 - t0) / 1e6,
           (double)(t2 - t1) / 1e6, (double)(t1 - t0) / (double)(t2 - t1));
    printf("  CacheInfo(hits=%llu, misses=%llu, maxsize=%zu, currsize=%zu), hit rate %.1f%%\n",
           (unsigned long long)info.hits, (unsigned long long)info.misses, info.maxsize,
           info.currsize, 100.0 * (double)info.hits / (double)(info.hits + info.misses));
    if (fabs(checksum_a - checksum_b) > 1e-6 * (1 + fabs(checksum_a))) return 1;
    embed_cache_clear(&cache);
    embed_cache_free(&cache);
    free(cdf);
    free(tokens);
    return 0;
}
