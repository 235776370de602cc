/* tests/test_conc_hnsw.c - ds_hnsw.h's multi-threaded build and batch search
 * (DS_HNSW_THREADS): ds_hnsw_insert_batch and ds_hnsw_search_batch.
 *
 * A batch built by 2-8 threads reaches the recall of the single-threaded
 * build (>= 0.95, within 0.01) on clustered synthetic sets, every label is
 * found again by its own vector, the link lists keep every invariant (sizes,
 * no self or duplicate links, links only to elements that have the layer,
 * node locks released); levels, slots, labels and the RNG come out exactly
 * as from ds_hnsw_insert, and with threads = 1 the whole index is byte-identical
 * (saved images) to the one ds_hnsw_insert builds, deleted-slot reuse included.
 * Batch search gives exactly the single searches' results. Bad input,
 * duplicates, max_elements and every allocation failure leave the index as
 * it was. Built into the C11 pthread binaries (ASan+UBSan, TSan), so TSan
 * checks the node locks; sizes are smaller under TSan. */
#define _POSIX_C_SOURCE 200809L
#define DS_HNSW_THREADS
/* main.c compiles ds.h's implementation (via ds_concurrent.h) in these
 * binaries; this file compiles ds_hnsw.h's half, once. */
#define DS_HNSW_IMPLEMENTATION
#include "ds_hnsw.h"
#include "prop.h"
#include "hnsw_data.h"
#include <math.h>

#if defined(__SANITIZE_THREAD__)
#define HMT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HMT_TSAN 1
#endif
#endif


/* ---- helpers ------------------------------------------------------------- */

static void hmt_image(const ds_hnsw *h, ds_membuf *b) {
    ds_membuf_init(b, NULL);
    if (ds_hnsw_save(h, ds_membuf_writer(b)) != DS_OK) b->len = 0;
}
static int hmt_same_image(const ds_membuf *a, const ds_membuf *b) {
    return a->len > 0 && a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}
/* Every link list within its bound, no self or repeated links, every link
 * to an element that has the layer, every node lock released. Returns 0
 * or the first bad slot + 1. */
static size_t hmt_graph_bad(const ds_hnsw *h) {
    uint32_t id;
    for (id = 0; id < h->n; id++) {
        int lc;
        if (ds__hn_rec(h, id)[3] != 0) return (size_t)id + 1;
        for (lc = 0; lc <= h->level[id]; lc++) {
            size_t cnt, i, j;
            const uint32_t *ln = ds__hn_links(h, id, lc, &cnt);
            if (cnt > (lc ? h->M : h->M0)) return (size_t)id + 1;
            for (i = 0; i < cnt; i++) {
                if (ln[i] >= h->n || ln[i] == id || h->level[ln[i]] < lc) return (size_t)id + 1;
                for (j = 0; j < i; j++)
                    if (ln[j] == ln[i]) return (size_t)id + 1;
            }
        }
    }
    if (h->n && (h->maxlevel != h->level[h->entry])) return h->entry + (size_t)1;
    return 0;
}
/* How many of labels[0..n) a search for their own vector (k = 1) finds. */
static size_t hmt_self_found(const ds_hnsw *h, const uint64_t *labels, size_t n, size_t ef) {
    ds_hnsw_scratch s;
    float *v = (float *)malloc(h->dim * sizeof(float));
    size_t i, found = 0, got;
    ds_neighbor res[1];
    if (!v) return 0;
    ds_hnsw_scratch_init(&s, NULL);
    for (i = 0; i < n; i++) {
        if (ds_hnsw_get(h, labels[i], v) != DS_OK) continue;
        if (ds_hnsw_search_scratch(h, &s, v, 1, ef, NULL, NULL, res, &got) == DS_OK && got == 1 &&
            res[0].label == labels[i])
            found++;
    }
    ds_hnsw_scratch_free(&s);
    free(v);
    return found;
}

/* ---- multi-threaded build: recall, invariants, findability ---------------- */

/* Clustered sets (20 overlapping blobs), ground truth by ds_flat, M = 8,
 * ef_construction = 40: parameters low enough that recall is not 1 (about
 * 0.97). The single-threaded build and add_batch with 2 and 4 threads
 * (L2: one batch into an empty index; cosine: N/6 singly, then two batches
 * onto it) must each reach recall@10 >= 0.95 at ef = 24, and the threaded
 * ones at least the single-threaded recall - 0.01; every label must be
 * found by its own vector; levels and the RNG match the single-threaded
 * build's exactly. */
static void hmt_build_recall(void) {
#ifdef HMT_TSAN
    enum { N = 1200, D = 16, NQ = 60, K = 10 };
#else
    enum { N = 2000, D = 16, NQ = 100, K = 10 };
#endif
    ds_rng r;
    float *x, *q;
    uint64_t *labels = (uint64_t *)malloc(N * sizeof *labels);
    uint64_t *truth = (uint64_t *)malloc(NQ * K * sizeof *truth);
    int round;
    ds_rng_seed(&r, 31);
    x = clustered(&r, N + NQ, D, 20, 0.5f);
    CHECK(x && labels && truth);
    q = x + N * D;
    for (round = 0; round < 2; round++) {
        ds_metric met = round ? DS_METRIC_COSINE : DS_METRIC_L2;
        size_t threads = round ? 4 : 2, i;
        ds_hnsw_params p = hparams(D, met, 8, 40, 77 + (uint64_t)round);
        ds_hnsw st, mt;
        ds_flat f;
        double rec_st, rec_mt;
        size_t found_st, found_mt, bad;
        CHECK(ds_flat_init(&f, D, met, NULL) == DS_OK);
        for (i = 0; i < N; i++) {
            labels[i] = 5000 + i * 3;
            CHECK(ds_flat_insert(&f, labels[i], x + i * D) == DS_OK);
        }
        CHECK(ds_flat_ground_truth(&f, q, NQ, K, truth) == DS_OK);
        ds_flat_free(&f);
        CHECK(ds_hnsw_init(&st, &p, NULL) == DS_OK && ds_hnsw_init(&mt, &p, NULL) == DS_OK);
        for (i = 0; i < N; i++) CHECK(ds_hnsw_insert(&st, labels[i], x + i * D) == DS_OK);
        if (round == 0) {
            CHECK(ds_hnsw_insert_batch(&mt, labels, x, N, threads) == DS_OK);
        } else {
            const size_t a = N / 6, b = N / 2;
            for (i = 0; i < a; i++) CHECK(ds_hnsw_insert(&mt, labels[i], x + i * D) == DS_OK);
            CHECK(ds_hnsw_insert_batch(&mt, labels + a, x + a * D, b - a, threads) == DS_OK);
            CHECK(ds_hnsw_insert_batch(&mt, labels + b, x + b * D, N - b, threads) == DS_OK);
        }
        CHECK(ds_hnsw_len(&mt) == N && mt.n == N);
        bad = hmt_graph_bad(&mt);
        CHECKF(bad == 0, "threads %zu: bad link list at slot %zu", threads, bad - 1);
        CHECK(hmt_graph_bad(&st) == 0);
        /* levels, slots and the RNG come out as from ds_hnsw_insert */
        CHECK(memcmp(st.level, mt.level, N) == 0);
        CHECK(memcmp(&st.rng, &mt.rng, sizeof st.rng) == 0);
        CHECK(st.maxlevel == mt.maxlevel && st.ulen == mt.ulen);
        for (i = 0; i < N; i += 97) CHECK(ds__hn_label(&mt, (uint32_t)i) == labels[i]);
        rec_st = hnsw_recall(&st, q, NQ, D, truth, K, K, 24);
        rec_mt = hnsw_recall(&mt, q, NQ, D, truth, K, K, 24);
        found_st = hmt_self_found(&st, labels, N, 64);
        found_mt = hmt_self_found(&mt, labels, N, 64);
        if (prop_env_long("DS_VERBOSE", 0))
            printf("  metric %d, %zu threads: recall@10 %.4f (single-threaded %.4f), "
                   "self-found %zu/%zu (single-threaded %zu)\n",
                   (int)met, threads, rec_mt, rec_st, found_mt, (size_t)N, found_st);
        CHECKF(rec_st >= 0.95, "single-threaded recall@10 %.4f", rec_st);
        CHECKF(rec_mt >= 0.95 && rec_mt >= rec_st - 0.01, "%zu threads: recall@10 %.4f vs %.4f",
               threads, rec_mt, rec_st);
        CHECKF(found_mt == N, "%zu threads: %zu of %d labels found by their own vector", threads,
               found_mt, N);
        ds_hnsw_free(&st);
        ds_hnsw_free(&mt);
    }
    free(x);
    free(labels);
    free(truth);
}

/* Many threads, a small M and two tight blobs: the threads keep landing
 * on the same neighbourhoods and the same full lists, so the node locks
 * and the heuristic re-selection under them are exercised hard (TSan
 * checks them). Invariants hold, and as many labels are found by their own
 * vector as in the single-threaded build (within 0.5%: M = 4 on tight
 * blobs loses ~2% either way). */
static void hmt_contention(void) {
#ifdef HMT_TSAN
    enum { N = 1000, D = 8 };
#else
    enum { N = 4000, D = 8 };
#endif
    ds_rng r;
    float *x;
    uint64_t *labels = (uint64_t *)malloc(N * sizeof *labels);
    ds_hnsw h, st;
    ds_hnsw_params p = hparams(D, DS_METRIC_L2, 4, 24, 9);
    size_t i, found, found_st, bad;
    ds_rng_seed(&r, 32);
    x = clustered(&r, N, D, 2, 0.05f);
    CHECK(x && labels);
    for (i = 0; i < N; i++) labels[i] = i;
    CHECK(ds_hnsw_init(&h, &p, NULL) == DS_OK && ds_hnsw_init(&st, &p, NULL) == DS_OK);
    CHECK(ds_hnsw_insert_batch(&h, labels, x, N / 2, 8) == DS_OK); /* 8 threads on any machine */
    CHECK(ds_hnsw_insert_batch(&h, labels + N / 2, x + (N / 2) * D, N - N / 2, 0) == DS_OK);
    CHECK(ds_hnsw_insert_batch(&st, labels, x, N, 1) == DS_OK);
    CHECK(ds_hnsw_len(&h) == N);
    bad = hmt_graph_bad(&h);
    CHECKF(bad == 0, "bad link list at slot %zu", bad - 1);
    found = hmt_self_found(&h, labels, N, 64);
    found_st = hmt_self_found(&st, labels, N, 64);
    if (prop_env_long("DS_VERBOSE", 0))
        printf("  contention: %zu of %d found (single-threaded %zu)\n", found, N, found_st);
    CHECKF(found + N / 200 >= found_st && found_st * 100 >= (size_t)N * 95,
           "%zu of %d found (single-threaded %zu)", found, N, found_st);
    ds_hnsw_free(&h);
    ds_hnsw_free(&st);
    free(x);
    free(labels);
}

/* threads = 1 (and a batch too small to share) is the single-threaded
 * add, byte for byte: the saved images are identical, also when the batch
 * reuses deleted slots (replace_deleted) and when it comes in pieces.
 * With 3 threads everything but the links matches. */
static void hmt_batch_matches_add(void) {
    enum { N = 500, D = 8, DEL = 60, B = 150 };
    ds_rng r;
    float *x;
    uint64_t labels[N + B];
    ds_membuf img[4];
    uint8_t levels[N + B];
    uint64_t slotlab[N + B];
    ds_rng rng_add;
    int k;
    size_t i;
    ds_rng_seed(&r, 33);
    x = clustered(&r, N + B, D, 6, 0.2f);
    CHECK(x != NULL);
    for (i = 0; i < N + B; i++) labels[i] = 1000 + i * 7;
    /* 0: ds_hnsw_insert; 1: one batch, threads = 1; 2: batches of 1..37, threads = 1;
     * 3: one batch, 3 threads */
    for (k = 0; k < 4; k++) {
        ds_hnsw h;
        ds_hnsw_params p = hparams(D, DS_METRIC_COSINE, 6, 40, 5);
        p.replace_deleted = 1;
        CHECK(ds_hnsw_init(&h, &p, NULL) == DS_OK);
        if (k == 0) {
            for (i = 0; i < N; i++) CHECK(ds_hnsw_insert(&h, labels[i], x + i * D) == DS_OK);
        } else if (k == 1 || k == 3) {
            CHECK(ds_hnsw_insert_batch(&h, labels, x, N, k == 1 ? 1 : 3) == DS_OK);
        } else {
            size_t at = 0, step = 1;
            while (at < N) {
                size_t c = step < N - at ? step : N - at;
                CHECK(ds_hnsw_insert_batch(&h, labels + at, x + at * D, c, 1) == DS_OK);
                at += c;
                step = step % 37 + 1;
            }
        }
        for (i = 0; i < DEL; i++) CHECK(ds_hnsw_del(&h, labels[i * 5]) == DS_OK);
        /* DEL of the B reuse deleted slots, the rest are new */
        if (k == 0) {
            for (i = N; i < N + B; i++) CHECK(ds_hnsw_insert(&h, labels[i], x + i * D) == DS_OK);
        } else {
            CHECK(ds_hnsw_insert_batch(&h, labels + N, x + N * D, B, k == 3 ? 3 : 1) == DS_OK);
        }
        CHECK(ds_hnsw_deleted(&h) == 0 && ds_hnsw_len(&h) == N + B - DEL && h.n == N + B - DEL);
        CHECK(hmt_graph_bad(&h) == 0);
        for (i = 0; i < N + B; i++) CHECK(ds_hnsw_has(&h, labels[i]) == (i >= DEL * 5 || i % 5));
        hmt_image(&h, &img[k]);
        CHECK(img[k].len > 0);
        if (k == 0) {
            memcpy(levels, h.level, h.n);
            rng_add = h.rng;
            for (i = 0; i < h.n; i++) slotlab[i] = ds__hn_label(&h, (uint32_t)i);
        } else {
            CHECK(memcmp(levels, h.level, h.n) == 0 && memcmp(&rng_add, &h.rng, sizeof rng_add) == 0);
            for (i = 0; i < h.n; i++) {
                float a[D], b[D];
                uint64_t l = ds__hn_label(&h, (uint32_t)i);
                CHECK(l == slotlab[i]); /* the same label in the same slot */
                CHECK(ds_hnsw_get(&h, l, a) == DS_OK);
                memcpy(b, ds__hn_vec(&h, (uint32_t)i), sizeof b);
                CHECK(memcmp(a, b, sizeof a) == 0);
            }
        }
        ds_hnsw_free(&h);
    }
    CHECK(hmt_same_image(&img[0], &img[1]));
    CHECK(hmt_same_image(&img[0], &img[2]));
    /* 3 threads: the same levels give the same file length; the links differ */
    CHECK(img[3].len == img[0].len);
    for (k = 0; k < 4; k++) ds_membuf_free(&img[k]);
    free(x);
}

/* ---- batch search ---------------------------------------------------------- */

static int hmt_mod3(uint64_t label, void *ctx) {
    (void)ctx;
    return label % 3 != 0;
}

/* Exactly the results of ds_hnsw_search, query by query, for 1, 2, 3 and
 * "all CPUs" threads, with and without a filter, for k larger than the
 * index, and on an empty index. */
static void hmt_search_batch(void) {
#ifdef HMT_TSAN
    enum { N = 700, D = 12, NQ = 103, K = 10 };
#else
    enum { N = 1500, D = 12, NQ = 203, K = 10 };
#endif
    ds_rng r;
    float *x;
    ds_hnsw h, empty;
    ds_hnsw_params p = hparams(D, DS_METRIC_L2, 8, 60, 3);
    ds_neighbor *want = (ds_neighbor *)malloc(NQ * K * sizeof *want);
    ds_neighbor *got = (ds_neighbor *)malloc(NQ * K * sizeof *got);
    size_t wantn[NQ], gotn[NQ], i, j, t;
    int f;
    ds_rng_seed(&r, 34);
    x = clustered(&r, N + NQ, D, 10, 0.2f);
    CHECK(x && want && got);
    CHECK(ds_hnsw_init(&h, &p, NULL) == DS_OK);
    for (i = 0; i < N; i++) CHECK(ds_hnsw_insert(&h, i, x + i * D) == DS_OK);
    for (f = 0; f < 2; f++) {
        ds_hnsw_filter filt = f ? hmt_mod3 : NULL;
        for (i = 0; i < NQ; i++)
            CHECK(ds_hnsw_search(&h, x + (N + i) * D, K, 24, filt, NULL, want + i * K, &wantn[i]) ==
                  DS_OK);
        for (t = 0; t < 4; t++) {
            memset(got, 0, NQ * K * sizeof *got);
            memset(gotn, 0xff, sizeof gotn);
            CHECK(ds_hnsw_search_batch(&h, x + N * D, NQ, K, 24, filt, NULL, got, gotn, t) == DS_OK);
            for (i = 0; i < NQ; i++) {
                CHECKF(gotn[i] == wantn[i], "threads %zu query %zu: %zu results, want %zu", t, i,
                       gotn[i], wantn[i]);
                for (j = 0; j < wantn[i]; j++)
                    CHECKF(got[i * K + j].label == want[i * K + j].label &&
                               got[i * K + j].dist == want[i * K + j].dist,
                           "threads %zu query %zu result %zu differs", t, i, j);
            }
        }
    }
    /* k larger than the index; an empty index */
    {
        ds_hnsw small;
        ds_neighbor res[3 * 20];
        size_t n3[3];
        CHECK(ds_hnsw_init(&small, &p, NULL) == DS_OK);
        for (i = 0; i < 7; i++) CHECK(ds_hnsw_insert(&small, i, x + i * D) == DS_OK);
        CHECK(ds_hnsw_search_batch(&small, x, 3, 20, 0, NULL, NULL, res, n3, 2) == DS_OK);
        CHECK(n3[0] == 7 && n3[1] == 7 && n3[2] == 7 && res[0].label == 0 && res[20].label == 1);
        ds_hnsw_free(&small);
        CHECK(ds_hnsw_init(&empty, &p, NULL) == DS_OK);
        n3[0] = n3[1] = n3[2] = 9;
        CHECK(ds_hnsw_search_batch(&empty, x, 3, 5, 0, NULL, NULL, res, n3, 2) == DS_OK);
        CHECK(n3[0] == 0 && n3[1] == 0 && n3[2] == 0);
        ds_hnsw_free(&empty);
    }
    ds_hnsw_free(&h);
    free(x);
    free(want);
    free(got);
}

/* ---- bad input, limits, allocation failure --------------------------------- */

static void hmt_batch_errors(void) {
    enum { D = 4 };
    ds_hnsw h;
    ds_hnsw_params p = hparams(D, DS_METRIC_COSINE, 4, 20, 6);
    float v[12 * D], q[2 * D];
    uint64_t lab[12];
    ds_membuf before, after;
    ds_neighbor res[4];
    size_t nres[2], i;
    ds_rng r;
    ds_rng_seed(&r, 35);
    for (i = 0; i < 12 * D; i++) v[i] = gauss(&r);
    for (i = 0; i < 2 * D; i++) q[i] = gauss(&r);
    for (i = 0; i < 12; i++) lab[i] = 100 + i;
    p.max_elements = 20;
    CHECK(ds_hnsw_init(&h, &p, NULL) == DS_OK);
    CHECK(ds_hnsw_insert_batch(NULL, lab, v, 2, 2) == DS_EINVAL);
    CHECK(ds_hnsw_insert_batch(&h, NULL, v, 2, 2) == DS_EINVAL);
    CHECK(ds_hnsw_insert_batch(&h, lab, NULL, 2, 2) == DS_EINVAL);
    CHECK(ds_hnsw_insert_batch(&h, NULL, NULL, 0, 2) == DS_OK && ds_hnsw_len(&h) == 0);
    CHECK(ds_hnsw_insert_batch(&h, lab, v, 10, 2) == DS_OK && ds_hnsw_len(&h) == 10);
    hmt_image(&h, &before);
    /* a NaN, a zero vector under cosine: nothing added */
    v[10 * D + 1] = NAN;
    CHECK(ds_hnsw_insert_batch(&h, lab + 10, v + 10 * D, 2, 2) == DS_EINVAL);
    v[10 * D + 1] = 0;
    memset(v + 11 * D, 0, D * sizeof(float));
    CHECK(ds_hnsw_insert_batch(&h, lab + 10, v + 10 * D, 2, 2) == DS_EINVAL);
    v[11 * D] = 1;
    /* a label already there; one repeated inside the batch */
    lab[11] = 105;
    CHECK(ds_hnsw_insert_batch(&h, lab + 10, v + 10 * D, 2, 2) == DS_EEXIST);
    lab[11] = 110;
    CHECK(ds_hnsw_insert_batch(&h, lab + 10, v + 10 * D, 2, 2) == DS_EEXIST);
    CHECK(!ds_hnsw_has(&h, 110) && ds_hnsw_len(&h) == 10);
    /* past max_elements (20): all or nothing */
    {
        uint64_t many[11];
        float mv[11 * D];
        for (i = 0; i < 11; i++) many[i] = 500 + i;
        for (i = 0; i < 11 * D; i++) mv[i] = 1.0f + (float)i;
        CHECK(ds_hnsw_insert_batch(&h, many, mv, 11, 2) == DS_EFULL);
        hmt_image(&h, &after);
        CHECK(hmt_same_image(&before, &after));
        ds_membuf_free(&after);
        CHECK(ds_hnsw_insert_batch(&h, many, mv, 10, 2) == DS_OK && ds_hnsw_len(&h) == 20);
        CHECK(ds_hnsw_insert_batch(&h, many + 10, mv, 1, 2) == DS_EFULL);
    }
    ds_membuf_free(&before);
    /* search_batch */
    CHECK(ds_hnsw_search_batch(NULL, q, 2, 2, 0, NULL, NULL, res, nres, 2) == DS_EINVAL);
    CHECK(ds_hnsw_search_batch(&h, q, 2, 0, 0, NULL, NULL, res, nres, 2) == DS_EINVAL);
    CHECK(ds_hnsw_search_batch(&h, NULL, 2, 2, 0, NULL, NULL, res, nres, 2) == DS_EINVAL);
    CHECK(ds_hnsw_search_batch(&h, q, 2, 2, 0, NULL, NULL, NULL, nres, 2) == DS_EINVAL);
    CHECK(ds_hnsw_search_batch(&h, q, 2, 2, 0, NULL, NULL, res, NULL, 2) == DS_EINVAL);
    CHECK(ds_hnsw_search_batch(&h, q, 2, 2, (size_t)1 << 21, NULL, NULL, res, nres, 2) == DS_EINVAL);
    CHECK(ds_hnsw_search_batch(&h, q, 0, 2, 0, NULL, NULL, NULL, NULL, 2) == DS_OK);
    q[D + 2] = INFINITY;
    CHECK(ds_hnsw_search_batch(&h, q, 2, 2, 0, NULL, NULL, res, nres, 2) == DS_EINVAL);
    q[D + 2] = 0.5f;
    CHECK(ds_hnsw_search_batch(&h, q, 2, 2, 0, NULL, NULL, res, nres, 2) == DS_OK);
    CHECK(nres[0] == 2 && nres[1] == 2);
    ds_hnsw_free(&h);
}

/* Every allocation of add_batch (storage growth, arena, label map, the
 * per-thread buffers) and of search_batch failing in turn: DS_ENOMEM only
 * from an injected failure, the index byte-identical to before, nothing
 * leaked. (The index stays small enough that no search grows its
 * candidate heap inside a worker thread, so every allocation happens on
 * the calling thread.) */
#ifndef HMT_TSAN
static int hmt_oom_seq(uint64_t seed, prop_alloc *pa) {
    enum { D = 4, N = 70 };
    ds_hnsw h;
    ds_hnsw_params p = hparams(D, DS_METRIC_L2, 3, 10, seed);
    ds_rng r;
    float v[N * D];
    uint64_t lab[N];
    ds_neighbor res[3 * 4];
    size_t nres[4], i, at = 0, iter;
    p.replace_deleted = (seed & 1) != 0;
    p.storage = (seed & 2) ? DS_HNSW_STORE_F16 : DS_HNSW_STORE_F32;
    ds_rng_seed(&r, seed);
    for (i = 0; i < N * D; i++) v[i] = gauss(&r);
    for (i = 0; i < N; i++) lab[i] = i * 11;
    CHECK_OR(ds_hnsw_init(&h, &p, &pa->a) == DS_OK, 1);
    for (iter = 0; iter < 40 && at < N; iter++) { /* bounded: persistent failures */
        size_t c = 1 + (size_t)ds_rng_below(&r, 25);
        ds_membuf before, after;
        long f0 = PROP_FAILS(pa);
        ds_status st;
        size_t mem0 = ds_hnsw_memory(&h);
        if (c > N - at) c = N - at;
        hmt_image(&h, &before);
        st = ds_hnsw_insert_batch(&h, lab + at, v + at * D, c, 1 + (size_t)ds_rng_below(&r, 3));
        if (st == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, f0), 1);
            hmt_image(&h, &after);
            CHECK_OR(hmt_same_image(&before, &after), 1);
            CHECK_OR(ds_hnsw_memory(&h) == mem0, 1); /* nothing grown and kept */
            ds_membuf_free(&after);
        } else {
            CHECK_OR(st == DS_OK, 1);
            at += c;
        }
        ds_membuf_free(&before);
        if (at >= 30 && at < 40) /* delete a few: later batches reuse them */
            CHECK_OR(ds_hnsw_del(&h, lab[at - 20]) == DS_OK, 1);
        f0 = PROP_FAILS(pa);
        st = ds_hnsw_search_batch(&h, v, 4, 3, 0, NULL, NULL, res, nres, 2);
        CHECK_OR(st == DS_OK || (st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, f0)), 1);
    }
    CHECK_OR(hmt_graph_bad(&h) == 0, 1);
    ds_hnsw_free(&h);
    return 0;
}
#endif
#ifndef HMT_TSAN /* every allocation is on the calling thread: not in the TSan lists */
static void hmt_batch_oom(void) {
    CHECK(prop_oom_sweep(hmt_oom_seq, 4, NULL) == 0);
    CHECK(prop_oom_sweep(hmt_oom_seq, 5, NULL) == 0);
    CHECK(prop_oom_sweep(hmt_oom_seq, 7, NULL) == 0); /* F16, replace_deleted */
}
#endif

/* ---- fp16 storage ----------------------------------------------------------- */

/* An F16 index (cosine, so the stored vectors are normalised then
 * rounded): add_batch with threads = 1 gives the single-threaded add's
 * image byte for byte; 3 threads a valid graph whose recall@10 (against
 * ds_flat over the same stored vectors) is within 0.01 of the
 * single-threaded one, labels found by their own vector as often;
 * search_batch returns exactly ds_hnsw_search's results. */
static void hmt_f16(void) {
#ifdef HMT_TSAN
    enum { N = 600, D = 24, NQ = 40, K = 10 };
#else
    enum { N = 1200, D = 24, NQ = 60, K = 10 };
#endif
    ds_rng r;
    float *x, v[D];
    uint64_t *labels = (uint64_t *)malloc(N * sizeof *labels);
    uint64_t *truth = (uint64_t *)malloc(NQ * K * sizeof *truth);
    ds_neighbor *want = (ds_neighbor *)malloc(NQ * K * sizeof *want);
    ds_neighbor *got = (ds_neighbor *)malloc(NQ * K * sizeof *got);
    size_t wantn[NQ], gotn[NQ], i, j, bad;
    ds_hnsw st, b1, mt;
    ds_hnsw_params p = hparams(D, DS_METRIC_COSINE, 8, 40, 12);
    ds_membuf i0, i1;
    ds_flat f;
    double rec_st, rec_mt;
    ds_rng_seed(&r, 35);
    x = clustered(&r, N + NQ, D, 10, 0.3f);
    CHECK(x && labels && truth && want && got);
    p.storage = DS_HNSW_STORE_F16;
    for (i = 0; i < N; i++) labels[i] = 77 + 2 * i;
    CHECK(ds_hnsw_init(&st, &p, NULL) == DS_OK && ds_hnsw_init(&b1, &p, NULL) == DS_OK &&
          ds_hnsw_init(&mt, &p, NULL) == DS_OK);
    for (i = 0; i < N; i++) CHECK(ds_hnsw_insert(&st, labels[i], x + i * D) == DS_OK);
    CHECK(ds_hnsw_insert_batch(&b1, labels, x, N, 1) == DS_OK);
    CHECK(ds_hnsw_insert_batch(&mt, labels, x, N / 3, 3) == DS_OK);
    CHECK(ds_hnsw_insert_batch(&mt, labels + N / 3, x + (N / 3) * D, N - N / 3, 3) == DS_OK);
    hmt_image(&st, &i0);
    hmt_image(&b1, &i1);
    CHECK(hmt_same_image(&i0, &i1));
    bad = hmt_graph_bad(&mt);
    CHECKF(bad == 0, "bad link list at slot %zu", bad - 1);
    CHECK(ds_flat_init(&f, D, DS_METRIC_IP, NULL) == DS_OK);
    for (i = 0; i < N; i++) {
        CHECK(ds_hnsw_get(&mt, labels[i], v) == DS_OK);
        CHECK(ds_flat_insert(&f, labels[i], v) == DS_OK);
    }
    for (i = 0; i < NQ; i++) {
        memcpy(v, x + (N + i) * D, sizeof v);
        CHECK(ds_l2_normalize(v, D) == DS_OK);
        CHECK(ds_flat_ground_truth(&f, v, 1, K, truth + i * K) == DS_OK);
    }
    rec_st = hnsw_recall(&st, x + N * D, NQ, D, truth, K, K, 32);
    rec_mt = hnsw_recall(&mt, x + N * D, NQ, D, truth, K, K, 32);
    if (prop_env_long("DS_VERBOSE", 0))
        printf("  f16: recall@10 %.4f (single-threaded %.4f)\n", rec_mt, rec_st);
    CHECKF(rec_st >= 0.9 && rec_mt >= rec_st - 0.01, "recall@10 %.4f vs %.4f", rec_mt, rec_st);
    {
        size_t fs = hmt_self_found(&st, labels, N, 64), fm = hmt_self_found(&mt, labels, N, 64);
        /* (a cosine self-distance of a rounded vector is not exactly 0: a
         * near twin may tie or win, 1 of 1200 here) */
        CHECKF(fm + 2 >= fs && fs + N / 100 >= N, "found %zu (single-threaded %zu) of %d", fm,
               fs, N);
    }
    for (i = 0; i < NQ; i++)
        CHECK(ds_hnsw_search(&mt, x + (N + i) * D, K, 24, NULL, NULL, want + i * K, &wantn[i]) == DS_OK);
    CHECK(ds_hnsw_search_batch(&mt, x + N * D, NQ, K, 24, NULL, NULL, got, gotn, 2) == DS_OK);
    for (i = 0; i < NQ; i++) {
        CHECK(gotn[i] == wantn[i]);
        for (j = 0; j < wantn[i]; j++)
            CHECK(got[i * K + j].label == want[i * K + j].label && got[i * K + j].dist == want[i * K + j].dist);
    }
    ds_membuf_free(&i0);
    ds_membuf_free(&i1);
    ds_flat_free(&f);
    ds_hnsw_free(&st);
    ds_hnsw_free(&b1);
    ds_hnsw_free(&mt);
    free(x);
    free(labels);
    free(truth);
    free(want);
    free(got);
}

/* The registered tests (tests/tests.h). */
#define HMT_TEST(name)                   \
    void test_conc_hnsw_##name(void) {   \
        hmt_##name();                    \
    }
HMT_TEST(build_recall)
HMT_TEST(contention)
HMT_TEST(batch_matches_add)
HMT_TEST(search_batch)
HMT_TEST(batch_errors)
HMT_TEST(f16)
#ifndef HMT_TSAN
HMT_TEST(batch_oom)
#endif
