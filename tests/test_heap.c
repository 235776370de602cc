/* tests/test_heap.c - DS_HEAP against a multiset model; top-k against sorting */
#include "prop.h"

static int int_less(int a, int b) { return a < b; }
DS_HEAP(iheap, int, int_less)

/* Pairs ordered by score only, so ties carry distinguishable payloads. */
typedef struct {
    double score;
    int id;
} scored;
static int scored_less(scored a, scored b) { return a.score < b.score; }
DS_HEAP(sheap, scored, scored_less)

#define HM_MAX 2048
typedef struct {
    int a[HM_MAX];
    size_t n;
} hmodel;

static int heap_ok(const iheap *h) {
    size_t i;
    for (i = 1; i < h->len; i++)
        if (h->data[i] < h->data[(i - 1) / 2]) return 0;
    return 1;
}
static size_t model_min(const hmodel *m) {
    size_t i, best = 0;
    for (i = 1; i < m->n; i++)
        if (m->a[i] < m->a[best]) best = i;
    return best;
}
static int model_remove_value(hmodel *m, int x) {
    size_t i;
    for (i = 0; i < m->n; i++)
        if (m->a[i] == x) {
            m->a[i] = m->a[--m->n];
            return 1;
        }
    return 0;
}
/* Same multiset: sort copies and compare. */
static int cmp_iq(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int heap_equals(const iheap *h, const hmodel *m) {
    static int x[HM_MAX], y[HM_MAX];
    if (h->len != m->n || !heap_ok(h)) return 0;
    if (m->n == 0) return iheap_peek(h) == NULL;
    memcpy(x, h->data, h->len * sizeof(int));
    memcpy(y, m->a, m->n * sizeof(int));
    qsort(x, m->n, sizeof(int), cmp_iq);
    qsort(y, m->n, sizeof(int), cmp_iq);
    return memcmp(x, y, m->n * sizeof(int)) == 0 &&
           (m->n == 0 ? iheap_peek(h) == NULL : *iheap_peek(h) == m->a[model_min(m)]);
}

static int heap_seq(uint64_t seed, prop_alloc *pa) {
    ds_rng r;
    iheap h;
    hmodel *m = (hmodel *)calloc(1, sizeof *m);
    int step;
    CHECK_OR(m != NULL, 1);
    ds_rng_seed(&r, seed);
    iheap_init_alloc(&h, pa ? &pa->a : NULL);
    for (step = 0; step < 500; step++) {
        int op = (int)ds_rng_below(&r, 9), x = (int)ds_rng_below(&r, 500), out = -1;
        size_t i = m->n ? (size_t)ds_rng_below(&r, m->n) : 0;
        long fails_before = PROP_FAILS(pa);
        ds_status s = DS_OK;
        if (m->n + 64 >= HM_MAX) op = 3;
        switch (op) {
        case 0: case 1: case 2:
            s = iheap_push(&h, x);
            if (s == DS_OK) m->a[m->n++] = x;
            break;
        case 3:
            s = iheap_pop(&h, &out);
            if (!m->n) { CHECK_OR(s == DS_EEMPTY, 1); break; }
            CHECK_OR(s == DS_OK && out == m->a[model_min(m)], 1);
            {
                size_t at = model_min(m);
                m->a[at] = m->a[--m->n];
            }
            break;
        case 4:
            s = iheap_replace_top(&h, x, &out);
            if (!m->n) { CHECK_OR(s == DS_EEMPTY, 1); break; }
            CHECK_OR(s == DS_OK && out == m->a[model_min(m)], 1);
            m->a[model_min(m)] = x;
            break;
        case 5: /* change an element in place, then update */
            if (!m->n) { CHECK_OR(iheap_update(&h, 0) == DS_EINVAL, 1); break; }
            CHECK_OR(model_remove_value(m, h.data[i]), 1);
            h.data[i] = x;
            m->a[m->n++] = x;
            CHECK_OR(iheap_update(&h, i) == DS_OK, 1);
            break;
        case 6:
            if (!m->n) { CHECK_OR(iheap_remove_at(&h, 0, NULL) == DS_EINVAL, 1); break; }
            s = iheap_remove_at(&h, i, &out);
            CHECK_OR(s == DS_OK && model_remove_value(m, out), 1);
            break;
        case 7: { /* heapify from a fresh random array */
            int xs[100];
            size_t n = (size_t)ds_rng_below(&r, 100), k;
            for (k = 0; k < n; k++) xs[k] = (int)ds_rng_below(&r, 500);
            s = iheap_heapify(&h, xs, n);
            if (s == DS_OK) {
                memcpy(m->a, xs, n * sizeof(int));
                m->n = n;
            }
            break;
        }
        default:
            s = iheap_reserve(&h, m->n + (size_t)ds_rng_below(&r, 100));
        }
        if (s == DS_ENOMEM) CHECK_OR(PROP_ENOMEM_LEGIT(pa, fails_before), 1);
        CHECK_OR(heap_equals(&h, m), 1);
    }
    iheap_free(&h);
    free(m);
    return 0;
}

static void heap_case(ds_rng *r, uint64_t seed) {
    (void)r;
    heap_seq(seed, NULL);
}

void test_heap_model(void) { prop_run("heap_model", heap_case, 300); }

void test_heap_oom(void) {
    long total = 0;
    int i;
    for (i = 1; i <= 3 && !prop_test_failed; i++) {
        CHECK(prop_oom_sweep(heap_seq, 3000 + (uint64_t)i, &total) == 0);
        CHECK(total > 3);
    }
}

void test_heap_edges(void) {
    iheap h;
    int out = 4, xs[3] = {3, 1, 2};
    iheap_topk t;
    iheap_init(&h);
    CHECK(iheap_pop(&h, &out) == DS_EEMPTY && out == 4 && iheap_peek(&h) == NULL);
    CHECK(iheap_replace_top(&h, 1, NULL) == DS_EEMPTY);
    CHECK(iheap_heapify(&h, NULL, 2) == DS_EINVAL);
    CHECK(iheap_heapify(&h, NULL, 0) == DS_OK && iheap_len(&h) == 0);
    CHECK(iheap_reserve(&h, SIZE_MAX / 2) == DS_EINVAL);
    CHECK(iheap_heapify(&h, xs, 3) == DS_OK && *iheap_peek(&h) == 1);
    CHECK(iheap_pop(&h, &out) == DS_OK && out == 1);
    CHECK(iheap_pop(&h, &out) == DS_OK && out == 2);
    CHECK(iheap_pop(&h, &out) == DS_OK && out == 3);
    iheap_free(&h);
    /* top_k degenerate arguments */
    CHECK(iheap_top_k(xs, 3, 0, &out) == 0);
    CHECK(iheap_top_k(NULL, 3, 1, &out) == 0);
    CHECK(iheap_top_k(xs, 0, 2, &out) == 0);
    /* topk with k == 0 is rejected; offers on it are refused, not crashes. */
    CHECK(iheap_topk_init(&t, 0, NULL) == DS_EINVAL);
    CHECK(iheap_topk_offer(&t, 5, NULL, NULL) == 0 && iheap_topk_threshold(&t) == NULL);
    iheap_topk_free(&t);
    CHECK(iheap_topk_init(&t, SIZE_MAX / 2, NULL) == DS_EINVAL);
    iheap_topk_free(&t);
}

static int cmp_scored_desc(const void *a, const void *b) {
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x < y) - (x > y);
}

/* top_k(xs, k) returns the k greatest, greatest first: the scores equal the
 * first k of a descending sort (ties may pick different payloads). */
static void top_k_case(ds_rng *r, uint64_t seed) {
    size_t n = (size_t)ds_rng_below(r, 3000), k = 1 + (size_t)ds_rng_below(r, 300), i, got;
    scored *xs = (scored *)malloc((n + 1) * sizeof *xs), *ref = (scored *)malloc((n + 1) * sizeof *xs);
    scored *out = (scored *)malloc(k * sizeof *out);
    CHECK(xs && ref && out);
    for (i = 0; i < n; i++) {
        xs[i].score = seed % 2 ? (double)ds_rng_below(r, 50) : ds_rng_double(r);
        xs[i].id = (int)i;
    }
    memcpy(ref, xs, n * sizeof *xs);
    qsort(ref, n, sizeof *ref, cmp_scored_desc);
    got = sheap_top_k(xs, n, k, out);
    CHECK(got == (n < k ? n : k));
    for (i = 0; i < got; i++) {
        CHECK(out[i].score == ref[i].score);
        CHECK(out[i].id >= 0 && (size_t)out[i].id < n && xs[out[i].id].score == out[i].score);
    }
    free(xs);
    free(ref);
    free(out);
}

void test_heap_top_k(void) { prop_run("heap_top_k", top_k_case, 200); }

/* Streaming: after any prefix, the kept set holds the k best so far; every
 * offered item is kept, evicted exactly once, or rejected. */
static void topk_stream_case(ds_rng *r, uint64_t seed) {
    size_t n = 1 + (size_t)ds_rng_below(r, 2000), k = 1 + (size_t)ds_rng_below(r, 64), i, got;
    scored *xs = (scored *)malloc(n * sizeof *xs), *ref = (scored *)malloc(n * sizeof *xs);
    scored *out = (scored *)malloc(k * sizeof *out);
    unsigned char *fate = (unsigned char *)calloc(n, 1); /* 1 kept, 2 evicted, 3 rejected */
    sheap_topk t;
    CHECK(xs && ref && out && fate);
    CHECK(sheap_topk_init(&t, k, NULL) == DS_OK);
    for (i = 0; i < n; i++) {
        scored ev;
        int did = 0, kept;
        xs[i].score = seed % 3 == 0 ? (double)i : (double)ds_rng_below(r, 100); /* rising = worst case */
        xs[i].id = (int)i;
        kept = sheap_topk_offer(&t, xs[i], &ev, &did);
        fate[i] = kept ? 1 : 3;
        if (did) {
            CHECK(kept && ev.id >= 0 && (size_t)ev.id < i && fate[ev.id] == 1);
            fate[ev.id] = 2;
        }
        CHECK(sheap_topk_len(&t) == (i + 1 < k ? i + 1 : k));
        if (i + 1 >= k) CHECK(sheap_topk_threshold(&t) != NULL);
        else CHECK(sheap_topk_threshold(&t) == NULL);
    }
    memcpy(ref, xs, n * sizeof *xs);
    qsort(ref, n, sizeof *ref, cmp_scored_desc);
    got = sheap_topk_sorted(&t, out);
    CHECK(got == (n < k ? n : k));
    for (i = 0; i < got; i++) {
        CHECK(out[i].score == ref[i].score);
        CHECK(fate[out[i].id] == 1);
        fate[out[i].id] = 0;
    }
    for (i = 0; i < n; i++) CHECK(fate[i] != 1); /* every kept item was in the output */
    sheap_topk_clear(&t);
    CHECK(sheap_topk_len(&t) == 0);
    sheap_topk_free(&t);
    free(xs);
    free(ref);
    free(out);
    free(fate);
}

void test_heap_topk_stream(void) { prop_run("heap_topk_stream", topk_stream_case, 200); }
