/* tests/test_vec.c - DS_VEC against a plain-array model */
#include "prop.h"

DS_VEC(ivec, int)

static int cmp_int(int const *a, int const *b) { return (*a > *b) - (*a < *b); }

#define MODEL_MAX 4096
typedef struct {
    int a[MODEL_MAX];
    size_t n;
} vmodel;

static int vec_equals(const ivec *v, const vmodel *m) {
    size_t i;
    if (v->len != m->n || ivec_len(v) != m->n || v->len > v->cap) return 0;
    for (i = 0; i < m->n; i++)
        if (v->data[i] != m->a[i] || *ivec_at(v, i) != m->a[i]) return 0;
    return ivec_at(v, m->n) == NULL;
}

/* One seeded op sequence. With pa armed, an op may fail with DS_ENOMEM
 * only if an allocation failed inside it, and then nothing may change. */
static int vec_seq(uint64_t seed, prop_alloc *pa) {
    ds_rng r;
    ivec v;
    vmodel *m = (vmodel *)calloc(1, sizeof *m);
    int step, nsteps = 400;
    CHECK_OR(m != NULL, 1);
    ds_rng_seed(&r, seed);
    ivec_init_alloc(&v, pa ? &pa->a : NULL);
    for (step = 0; step < nsteps; step++) {
        int op = (int)ds_rng_below(&r, 12), x = (int)ds_rng_below(&r, 1000), out = -1;
        size_t i = (size_t)ds_rng_below(&r, m->n + 2);
        size_t cnt = (size_t)ds_rng_below(&r, 20);
        int xs[20];
        ds_status s = DS_OK, want = DS_OK;
        size_t k;
        long fails_before = PROP_FAILS(pa);
        for (k = 0; k < 20; k++) xs[k] = (int)ds_rng_below(&r, 1000);
        if (m->n + 40 >= MODEL_MAX) op = 3; /* keep the model bounded: pop */
        switch (op) {
        case 0: case 1: case 2:
            s = ivec_push(&v, x);
            if (s == DS_OK) m->a[m->n++] = x;
            break;
        case 3:
            s = ivec_pop(&v, &out);
            want = m->n ? DS_OK : DS_EEMPTY;
            CHECK_OR(s == want, 1);
            if (s == DS_OK) CHECK_OR(out == m->a[--m->n], 1);
            break;
        case 4:
            s = ivec_insert_at(&v, i, x);
            if (i > m->n) { CHECK_OR(s == DS_EINVAL, 1); break; }
            if (s == DS_OK) {
                memmove(m->a + i + 1, m->a + i, (m->n - i) * sizeof(int));
                m->a[i] = x;
                m->n++;
            }
            break;
        case 5:
            s = ivec_del_at(&v, i, &out);
            if (i >= m->n) { CHECK_OR(s == DS_EINVAL, 1); break; }
            CHECK_OR(s == DS_OK && out == m->a[i], 1);
            memmove(m->a + i, m->a + i + 1, (m->n - i - 1) * sizeof(int));
            m->n--;
            break;
        case 6:
            s = ivec_swap_remove(&v, i, &out);
            if (i >= m->n) { CHECK_OR(s == DS_EINVAL, 1); break; }
            CHECK_OR(s == DS_OK && out == m->a[i], 1);
            m->a[i] = m->a[--m->n];
            break;
        case 7:
            s = ivec_append(&v, xs, cnt);
            if (s == DS_OK) {
                memcpy(m->a + m->n, xs, cnt * sizeof(int));
                m->n += cnt;
            }
            break;
        case 8: {
            size_t nl = (size_t)ds_rng_below(&r, m->n + 30);
            s = ivec_resize(&v, nl, x);
            if (s == DS_OK) {
                for (k = m->n; k < nl; k++) m->a[k] = x;
                m->n = nl;
            }
            break;
        }
        case 9: s = ivec_reserve(&v, m->n + cnt * 10); break;
        case 10: s = ivec_shrink(&v); if (s == DS_OK) CHECK_OR(v.cap == v.len, 1); break;
        default:
            if (ds_rng_below(&r, 8) == 0) { ivec_clear(&v); m->n = 0; }
            break;
        }
        if (s == DS_ENOMEM) CHECK_OR(PROP_ENOMEM_LEGIT(pa, fails_before), 1);
        else CHECK_OR(s == DS_OK || s == DS_EEMPTY || s == DS_EINVAL, 1);
        CHECK_OR(vec_equals(&v, m), 1);
    }
    ivec_free(&v);
    CHECK_OR(v.data == NULL && v.len == 0 && v.cap == 0, 1);
    free(m);
    return 0;
}

static void vec_case(ds_rng *r, uint64_t seed) {
    (void)r;
    vec_seq(seed, NULL);
}

void test_vec_model(void) { prop_run("vec_model", vec_case, 300); }

void test_vec_oom(void) {
    long total = 0;
    int i;
    for (i = 1; i <= 3 && !prop_test_failed; i++) {
        CHECK(prop_oom_sweep(vec_seq, 1000 + (uint64_t)i, &total) == 0);
        CHECK(total > 5); /* the sweep must have had allocations to fail */
    }
}

void test_vec_edges(void) {
    ivec v;
    int out = 7;
    prop_alloc pa;
    ivec_init(&v);
    CHECK(ivec_len(&v) == 0 && ivec_first(&v) == NULL && ivec_last(&v) == NULL);
    CHECK(ivec_pop(&v, &out) == DS_EEMPTY && out == 7);
    CHECK(ivec_del_at(&v, 0, NULL) == DS_EINVAL);
    CHECK(ivec_swap_remove(&v, 0, NULL) == DS_EINVAL);
    CHECK(ivec_insert_at(&v, 1, 5) == DS_EINVAL);
    CHECK(ivec_at(&v, 0) == NULL);
    CHECK(ivec_append(&v, NULL, 0) == DS_OK);
    CHECK(ivec_append(&v, NULL, 3) == DS_EINVAL);
    CHECK(ivec_shrink(&v) == DS_OK);
    /* Appending a vec to itself: the source lives in the storage that
     * growing reallocates, so it must be rebased (ASan catches a miss). */
    {
        int k;
        for (k = 0; k < 5; k++) CHECK(ivec_push(&v, k) == DS_OK);
        CHECK(ivec_shrink(&v) == DS_OK && v.cap == 5);
        CHECK(ivec_append(&v, v.data + 1, 4) == DS_OK && v.len == 9);
        for (k = 0; k < 9; k++) CHECKF(v.data[k] == (k < 5 ? k : k - 4), "k=%d got %d", k, v.data[k]);
        ivec_free(&v);
        ivec_init(&v);
    }
    /* Byte size overflows size_t: DS_EINVAL, nothing changes. */
    CHECK(ivec_reserve(&v, SIZE_MAX / sizeof(int) + 1) == DS_EINVAL);
    CHECK(ivec_resize(&v, SIZE_MAX / 2, 0) == DS_EINVAL);
    CHECK(v.len == 0 && v.data == NULL);
    /* Representable but impossible: the allocator says no -> DS_ENOMEM. */
    CHECK(ivec_reserve(&v, SIZE_MAX / sizeof(int) / 2) == DS_ENOMEM);
    CHECK(v.cap == 0);
    /* One element, growth boundary at 8, iteration. */
    CHECK(ivec_insert_at(&v, 0, 1) == DS_OK && *ivec_last(&v) == 1);
    {
        int i, sum = 0, cnt = 0;
        for (i = 2; i <= 9; i++) CHECK(ivec_push(&v, i) == DS_OK);
        CHECK(v.cap >= 9);
        DS_FOREACH(ivec, &v, it) { sum += *it; cnt++; }
        CHECK(sum == 45 && cnt == 9);
    }
    ivec_free(&v);
    ivec_free(&v); /* double free is a no-op */
    /* A custom allocator with a size limit: growth past it is DS_ENOMEM and
     * the contents survive. */
    prop_alloc_init(&pa);
    pa.limit = 64 * sizeof(int);
    ivec_init_alloc(&v, &pa.a);
    {
        int i;
        ds_status s = DS_OK;
        for (i = 0; i < 100 && s == DS_OK; i++) s = ivec_push(&v, i);
        CHECK(s == DS_ENOMEM && v.len == 64);
        for (i = 0; i < 64; i++) CHECK(v.data[i] == i);
    }
    ivec_free(&v);
    CHECK(pa.live_bytes == 0 && pa.size_errors == 0);
}

static int int_cmp_q(const void *a, const void *b) { return cmp_int((int const *)a, (int const *)b); }

static void sort_case(ds_rng *r, uint64_t seed) {
    ivec v;
    size_t n = (size_t)ds_rng_below(r, 3000), i, k;
    int range = 1 + (int)ds_rng_below(r, seed % 3 == 0 ? 5 : 100000); /* many duplicates sometimes */
    int *ref = (int *)malloc((n + 1) * sizeof(int));
    int pattern = (int)ds_rng_below(r, 4);
    CHECK(ref);
    ivec_init(&v);
    for (i = 0; i < n; i++) {
        int x = (int)ds_rng_below(r, (uint64_t)range);
        if (pattern == 1) x = (int)i;            /* sorted */
        if (pattern == 2) x = (int)(n - i);      /* reversed */
        CHECK(ivec_push(&v, x) == DS_OK);
        ref[i] = x;
    }
    ivec_sort(&v, cmp_int);
    qsort(ref, n, sizeof(int), int_cmp_q);
    for (i = 0; i < n; i++) CHECK(v.data[i] == ref[i]);
    /* Bounds against a linear scan, for present and absent keys. */
    for (k = 0; k < 50; k++) {
        int key = (int)ds_rng_below(r, (uint64_t)range + 2) - 1;
        size_t lo = 0, hi = 0;
        while (lo < n && ref[lo] < key) lo++;
        hi = lo;
        while (hi < n && ref[hi] <= key) hi++;
        CHECK(ivec_lower_bound(&v, &key, cmp_int) == lo);
        CHECK(ivec_upper_bound(&v, &key, cmp_int) == hi);
    }
    ivec_free(&v);
    free(ref);
}

void test_vec_sort_bounds(void) { prop_run("vec_sort_bounds", sort_case, 60); }
