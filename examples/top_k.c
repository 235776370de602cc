/* examples/top_k.c - the k best-scoring documents out of a million, two ways.
 *
 * The Python this replaces:
 *
 *     def top_k_documents(scores, k=10):           # everything in memory
 *         return heapq.nlargest(k, scores, key=lambda x: x[0])
 *
 *     class StreamingTopK:                         # one item at a time
 *         def add(self, score, doc_id):
 *             if len(self._heap) < self.k: heapq.heappush(self._heap, (score, doc_id))
 *             elif score > self._heap[0][0]: heapq.heapreplace(self._heap, (score, doc_id))
 *
 * In C both come from one DS_HEAP instantiation:
 *   name_top_k(xs, n, k, out)   top k of an array, O(n log k), no allocation
 *   name_topk_*                 streaming top k in fixed memory (k elements)
 * "Best" means greatest under the heap's less function. Here a document is
 * better when its score is higher, and on equal scores when its id is lower
 * (it arrived first), so the answer is unique and can be checked against a
 * full sort, which this program does: it exits 0 when all three agree.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/top_k.c -o top_k
 *     ./top_k */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(call)                                                               \
    do {                                                                        \
        ds_status st_ = (call);                                                 \
        if (st_ != DS_OK) {                                                     \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, \
                    ds_strerror(st_));                                          \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

typedef struct doc {
    uint32_t id;
    double score; /* relevance, 0.0000 .. 99.9999 */
} doc;

/* a < b: a ranks below b (lower score, or same score and later id). */
static int doc_less(doc a, doc b) {
    return a.score < b.score || (a.score == b.score && a.id > b.id);
}

DS_HEAP(dheap, doc, doc_less)

/* qsort comparator: best first. */
static int doc_cmp_best_first(const void *pa, const void *pb) {
    doc a = *(const doc *)pa, b = *(const doc *)pb;
    return doc_less(b, a) ? -1 : doc_less(a, b) ? 1 : 0;
}

static const char *const topics[] = {"databases", "networking", "compilers", "security",
                                     "graphics", "storage", "kernels", "search"};

/* The document stream: scores on a 1e-4 grid, so equal scores happen and
 * the tie-break on id matters. Same seed, same stream. */
static doc make_doc(ds_rng *rng, uint32_t id) {
    doc d;
    d.id = id;
    d.score = (double)ds_rng_below(rng, 1000000) / 10000.0;
    return d;
}

#define NDOCS 1000000u
#define K 5
#define SEED 2024

static int same_docs(const doc *a, const doc *b, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (a[i].id != b[i].id || a[i].score != b[i].score) return 0;
    return 1;
}

static double ms_since(int64_t t0) { return (double)(ds_now_ns() - t0) / 1e6; }

int main(void) {
    dheap_topk stream;
    doc best_stream[K], best_array[K], *all, *sorted;
    ds_rng rng;
    uint32_t i;
    size_t n, accepted = 0;
    int64_t t0;
    double t_stream, t_array, t_sort;

    /* 1. Streaming: documents arrive one at a time and are not kept. */
    printf("== Streaming top-%d over %u documents (memory: %d documents) ==\n", K, NDOCS, K);
    TRY(dheap_topk_init(&stream, K, NULL));
    ds_rng_seed(&rng, SEED);
    t0 = ds_now_ns();
    for (i = 0; i < NDOCS; i++) accepted += (size_t)dheap_topk_offer(&stream, make_doc(&rng, i), NULL, NULL);
    t_stream = ms_since(t0);
    n = dheap_topk_sorted(&stream, best_stream);
    EXPECT(n == K);
    for (i = 0; i < K; i++) {
        printf("  #%u  doc %7u  score %8.4f  (%s)\n", i + 1, (unsigned)best_stream[i].id,
               best_stream[i].score, topics[best_stream[i].id % 8]);
    }
    printf("  %zu of %u documents ever entered the top %d; a newcomer now needs a score"
           " above %.4f\n",
           accepted, NDOCS, K, dheap_topk_threshold(&stream)->score);

    /* 2. The same documents in an array: top_k over it. */
    all = (doc *)malloc(NDOCS * sizeof *all);
    sorted = (doc *)malloc(NDOCS * sizeof *sorted);
    if (!all || !sorted) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    ds_rng_seed(&rng, SEED);
    for (i = 0; i < NDOCS; i++) all[i] = make_doc(&rng, i);
    t0 = ds_now_ns();
    n = dheap_top_k(all, NDOCS, K, best_array);
    t_array = ms_since(t0);
    EXPECT(n == K);

    /* 3. The slow, obviously right answer: sort everything. */
    memcpy(sorted, all, NDOCS * sizeof *all);
    t0 = ds_now_ns();
    qsort(sorted, NDOCS, sizeof *sorted, doc_cmp_best_first);
    t_sort = ms_since(t0);

    printf("\n== Checking against a full sort ==\n");
    EXPECT(same_docs(best_stream, sorted, K));
    EXPECT(same_docs(best_array, sorted, K));
    printf("  streaming topk:   %7.1f ms (includes generating the scores)\n", t_stream);
    printf("  top_k on array:   %7.1f ms\n", t_array);
    printf("  qsort everything: %7.1f ms\n", t_sort);
    printf("  all three agree on the top %d (timings are indicative; see make bench)\n", K);

    /* More k, and the edge cases, against sorting. The streaming check uses
     * every 7th document, so it is not just the array run again. */
    {
        static const size_t ks[] = {1, 2, 10, 100, 1000};
        doc *out = (doc *)malloc(1000 * sizeof *out);
        doc *sub = (doc *)malloc((NDOCS / 7 + 1) * sizeof *sub);
        size_t j, nsub = 0;
        if (!out || !sub) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        for (i = 0; i < NDOCS; i += 7) sub[nsub++] = all[i];
        qsort(sub, nsub, sizeof *sub, doc_cmp_best_first);
        for (j = 0; j < sizeof ks / sizeof ks[0]; j++) {
            dheap_topk t;
            EXPECT(dheap_top_k(all, NDOCS, ks[j], out) == ks[j]);
            EXPECT(same_docs(out, sorted, ks[j]));
            TRY(dheap_topk_init(&t, ks[j], NULL));
            for (i = 0; i < NDOCS; i += 7) (void)dheap_topk_offer(&t, all[i], NULL, NULL);
            EXPECT(dheap_topk_sorted(&t, out) == ks[j]);
            EXPECT(same_docs(out, sub, ks[j]));
            dheap_topk_free(&t);
        }
        free(sub);
        printf("  k = 1, 2, 10, 100, 1000: top_k and streaming topk match the sort\n");

        /* Fewer documents than k: you get them all, best first. */
        EXPECT(dheap_top_k(all, 3, K, out) == 3);
        EXPECT(doc_less(out[1], out[0]) && doc_less(out[2], out[1]));
        /* k == 0 is a caller error, reported rather than crashing. */
        {
            dheap_topk t;
            ds_status st = dheap_topk_init(&t, 0, NULL);
            EXPECT(st == DS_EINVAL);
            printf("  topk_init(k = 0) -> %s (\"%s\"), as documented\n", ds_status_name(st),
                   ds_strerror(st));
            dheap_topk_free(&t);
        }
        free(out);
    }

    free(all);
    free(sorted);
    dheap_topk_free(&stream);
    printf("\ntop_k: all checks passed\n");
    return 0;
}
