/* tests/test_deque.c - DS_DEQUE (with and without maxlen) against an array model */
#include "prop.h"

DS_DEQUE(ideque, int)

#define DQ_MAX 2048
typedef struct {
    int a[DQ_MAX];
    size_t n, maxlen;
} dmodel;

static int deque_equals(const ideque *d, const dmodel *m) {
    size_t i = 0;
    if (ideque_len(d) != m->n || ideque_maxlen(d) != m->maxlen) return 0;
    if (d->len > d->cap || (d->cap & (d->cap - 1)) != 0) return 0; /* power of two */
    for (i = 0; i < m->n; i++)
        if (*ideque_at(d, i) != m->a[i]) return 0;
    if (ideque_at(d, m->n) != NULL) return 0;
    if (m->n && (*ideque_front(d) != m->a[0] || *ideque_back(d) != m->a[m->n - 1])) return 0;
    if (!m->n && (ideque_front(d) || ideque_back(d))) return 0;
    i = 0;
    DS_FOREACH(ideque, d, it) {
        if (i >= m->n || *it != m->a[i]) return 0;
        i++;
    }
    return i == m->n;
}

static int deque_seq(uint64_t seed, prop_alloc *pa) {
    ds_rng r;
    ideque d;
    dmodel *m = (dmodel *)calloc(1, sizeof *m);
    int step;
    CHECK_OR(m != NULL, 1);
    ds_rng_seed(&r, seed);
    ideque_init_alloc(&d, pa ? &pa->a : NULL);
    for (step = 0; step < 500; step++) {
        int op = (int)ds_rng_below(&r, 10), x = (int)ds_rng_below(&r, 100000), out = -1, dropped = -1,
            did = -1;
        size_t newmax = (size_t)ds_rng_below(&r, 3) == 0 ? 0 : (size_t)ds_rng_below(&r, 64);
        long fails_before = PROP_FAILS(pa);
        ds_status s = DS_OK;
        if (m->n + 2 >= DQ_MAX) op = 4;
        switch (op) {
        case 0: case 1:
        case 2: case 3: {
            int back = op < 2, evict = op & 1;
            int full = m->maxlen && m->n == m->maxlen;
            if (evict)
                s = back ? ideque_push_back_evict(&d, x, &dropped, &did)
                         : ideque_push_front_evict(&d, x, &dropped, &did);
            else
                s = back ? ideque_push_back(&d, x) : ideque_push_front(&d, x);
            if (s != DS_OK) break;
            if (evict) CHECK_OR(did == full, 1);
            if (full) { /* drop at the opposite end */
                if (back) {
                    if (evict) CHECK_OR(dropped == m->a[0], 1);
                    memmove(m->a, m->a + 1, (m->n - 1) * sizeof(int));
                } else {
                    if (evict) CHECK_OR(dropped == m->a[m->n - 1], 1);
                }
                m->n--;
            }
            if (back) {
                m->a[m->n++] = x;
            } else {
                memmove(m->a + 1, m->a, m->n * sizeof(int));
                m->a[0] = x;
                m->n++;
            }
            break;
        }
        case 4: case 5:
            s = op == 4 ? ideque_pop_front(&d, &out) : ideque_pop_back(&d, &out);
            if (!m->n) { CHECK_OR(s == DS_EEMPTY, 1); break; }
            CHECK_OR(s == DS_OK, 1);
            if (op == 4) {
                CHECK_OR(out == m->a[0], 1);
                memmove(m->a, m->a + 1, (m->n - 1) * sizeof(int));
            } else {
                CHECK_OR(out == m->a[m->n - 1], 1);
            }
            m->n--;
            break;
        case 6:
            s = ideque_set_maxlen(&d, newmax);
            if (newmax && m->n > newmax) { CHECK_OR(s == DS_EINVAL, 1); break; }
            CHECK_OR(s == DS_OK, 1);
            m->maxlen = newmax;
            break;
        case 7: s = ideque_reserve(&d, m->n + (size_t)ds_rng_below(&r, 50)); break;
        case 8:
            if (ds_rng_below(&r, 10) == 0) { ideque_clear(&d); m->n = 0; }
            break;
        default: { /* write through at() */
            if (m->n) {
                size_t i = (size_t)ds_rng_below(&r, m->n);
                *ideque_at(&d, i) = x;
                m->a[i] = x;
            }
        }
        }
        if (s == DS_ENOMEM) CHECK_OR(PROP_ENOMEM_LEGIT(pa, fails_before), 1);
        CHECK_OR(deque_equals(&d, m), 1);
    }
    ideque_free(&d);
    CHECK_OR(d.buf == NULL && d.len == 0, 1);
    free(m);
    return 0;
}

static void deque_case(ds_rng *r, uint64_t seed) {
    (void)r;
    deque_seq(seed, NULL);
}

void test_deque_model(void) { prop_run("deque_model", deque_case, 300); }

void test_deque_oom(void) {
    long total = 0;
    int i;
    for (i = 1; i <= 3 && !prop_test_failed; i++) {
        CHECK(prop_oom_sweep(deque_seq, 2000 + (uint64_t)i, &total) == 0);
        CHECK(total > 3);
    }
}

void test_deque_edges(void) {
    ideque d;
    int out = 9, i, dropped = 0, did = 0;
    ideque_init(&d);
    CHECK(ideque_pop_front(&d, &out) == DS_EEMPTY && ideque_pop_back(&d, NULL) == DS_EEMPTY);
    CHECK(out == 9 && ideque_front(&d) == NULL && ideque_first(&d) == NULL);
    CHECK(ideque_reserve(&d, SIZE_MAX / 2) == DS_EINVAL); /* bytes overflow */
    CHECK(ideque_reserve(&d, SIZE_MAX / sizeof(int) / 8) == DS_ENOMEM);
    CHECK(d.cap == 0);
    /* maxlen 1: every push replaces the only element. */
    CHECK(ideque_set_maxlen(&d, 1) == DS_OK);
    for (i = 0; i < 5; i++) {
        CHECK(ideque_push_back_evict(&d, i, &dropped, &did) == DS_OK);
        CHECK(did == (i > 0) && (i == 0 || dropped == i - 1));
        CHECK(ideque_len(&d) == 1 && *ideque_front(&d) == i);
    }
    CHECK(ideque_set_maxlen(&d, 0) == DS_OK);
    /* Wrap-around growth: interleave front and back pushes past 8, 16. */
    ideque_clear(&d);
    for (i = 0; i < 40; i++) {
        if (i % 3 == 0) CHECK(ideque_push_front(&d, -i) == DS_OK);
        else CHECK(ideque_push_back(&d, i) == DS_OK);
    }
    CHECK(ideque_len(&d) == 40 && *ideque_front(&d) == -39 && *ideque_back(&d) == 38);
    /* The conversation-buffer use: the last 3 of 10, oldest first. */
    ideque_clear(&d);
    CHECK(ideque_set_maxlen(&d, 3) == DS_OK);
    for (i = 1; i <= 10; i++) CHECK(ideque_push_back(&d, i) == DS_OK);
    CHECK(*ideque_at(&d, 0) == 8 && *ideque_at(&d, 1) == 9 && *ideque_at(&d, 2) == 10);
    CHECK(ideque_set_maxlen(&d, 2) == DS_EINVAL && ideque_len(&d) == 3);
    ideque_free(&d);
    CHECK(ideque_maxlen(&d) == 3); /* free keeps the configured maxlen */
    ideque_free(&d);
}
