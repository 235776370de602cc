/* tests/test_map.c - DS_MAP / DS_SET against a direct-indexed model */
#include "prop.h"

DS_MAP(umap, uint32_t, uint32_t, ds_hash_u32, ds_eq_u32)

/* Deliberately bad hashes: every key in one probe chain, or only four
 * distinct hashes (long chains, many tag collisions). */
static uint64_t hash_const(uint32_t k, uint64_t seed) {
    (void)k;
    (void)seed;
    return 0x2a;
}
static uint64_t hash_four(uint32_t k, uint64_t seed) { return ds_hash_u64(k & 3u, seed); }
DS_MAP(cmap, uint32_t, uint32_t, hash_const, ds_eq_u32)
DS_MAP(fmap, uint32_t, uint32_t, hash_four, ds_eq_u32)

DS_SET(uset, uint64_t, ds_hash_u64, ds_eq_u64)
DS_MAP(smap, const char *, int, ds_hash_str, ds_eq_str)

#define KEYS 1024
typedef struct {
    unsigned char present[KEYS];
    uint32_t val[KEYS];
    size_t n;
} mmodel;

/* The op sequence is written once as a macro over the map type so the
 * good-hash and bad-hash maps run the very same operations. */
#define MAP_EQUALS_FN(M)                                                         \
    static int M##_equals(const M *m, const mmodel *mo) {                        \
        uint32_t k;                                                              \
        size_t seen = 0;                                                         \
        unsigned char *mark = (unsigned char *)calloc(KEYS, 1);                  \
        int ok = mark != NULL && M##_len(m) == mo->n;                            \
        for (k = 0; ok && k < KEYS; k++) {                                       \
            uint32_t *v = M##_get(m, k);                                         \
            if (mo->present[k] ? (!v || *v != mo->val[k]) : (v != NULL)) ok = 0; \
            if (ok && M##_has(m, k) != mo->present[k]) ok = 0;                   \
        }                                                                        \
        if (ok && M##_get(m, KEYS + 5) != NULL) ok = 0;                          \
        if (ok) {                                                                \
            DS_FOREACH(M, m, e) {                                                \
                if (e->key >= KEYS || !mo->present[e->key] || mark[e->key] ||    \
                    e->val != mo->val[e->key]) { ok = 0; break; }                \
                mark[e->key] = 1;                                                \
                seen++;                                                          \
            }                                                                    \
        }                                                                        \
        if (ok && seen != mo->n) ok = 0;                                         \
        if (ok && M##_capacity(m) && m->m.len + m->m.growth_left > m->m.cap - m->m.cap / 8) ok = 0; \
        /* slots on a 64-byte boundary, inside the one allocation */            \
        if (ok && M##_capacity(m) && (((uintptr_t)m->m.slots & 63) != 0 ||      \
            m->m.slots + m->m.cap * sizeof(M##_entry) >                          \
                m->m.ctrl + M##_memory(m))) ok = 0;                              \
        free(mark);                                                              \
        return ok;                                                               \
    }

#define MAP_SEQ_FN(M, NSTEPS)                                                    \
    static int M##_seq_n(uint64_t seed, prop_alloc *pa, int nsteps) {           \
        ds_rng r;                                                                \
        M m;                                                                     \
        mmodel *mo = (mmodel *)calloc(1, sizeof *mo);                            \
        int step;                                                                \
        CHECK_OR(mo != NULL, 1);                                                 \
        ds_rng_seed(&r, seed);                                                   \
        M##_init_seed(&m, pa ? &pa->a : NULL, seed);                             \
        for (step = 0; step < nsteps; step++) {                                  \
            /* Keys from a range that drifts, so the table grows and churns. */ \
            uint32_t range = 16u + (uint32_t)ds_rng_below(&r, KEYS - 16);        \
            uint32_t k = (uint32_t)ds_rng_below(&r, range);                      \
            uint32_t v = (uint32_t)ds_rng_next(&r);                              \
            int op = (int)ds_rng_below(&r, 16), isnew = -1;                      \
            long fails_before = PROP_FAILS(pa);                                  \
            ds_status s = DS_OK;                                                 \
            uint32_t out = 0, *pv;                                               \
            switch (op) {                                                        \
            case 0: case 1: case 2: case 3:                                      \
                s = M##_put(&m, k, v, &isnew);                                   \
                if (s != DS_OK) break;                                           \
                CHECK_OR(isnew == !mo->present[k], 1);                           \
                if (!mo->present[k]) mo->n++;                                    \
                mo->present[k] = 1;                                              \
                mo->val[k] = v;                                                  \
                break;                                                           \
            case 4:                                                              \
                s = M##_insert(&m, k, v);                                        \
                if (mo->present[k]) { CHECK_OR(s == DS_EEXIST, 1); break; }      \
                if (s != DS_OK) break;                                           \
                mo->present[k] = 1;                                              \
                mo->val[k] = v;                                                  \
                mo->n++;                                                         \
                break;                                                           \
            case 5: case 6: case 7: case 8:                                      \
                s = M##_del(&m, k, &out);                                        \
                if (!mo->present[k]) { CHECK_OR(s == DS_ENOTFOUND, 1); break; }  \
                CHECK_OR(s == DS_OK && out == mo->val[k], 1);                    \
                mo->present[k] = 0;                                              \
                mo->n--;                                                         \
                break;                                                           \
            case 9:                                                              \
                pv = M##_get_or_add(&m, k, &isnew);                              \
                if (!pv) { s = DS_ENOMEM; break; }                               \
                CHECK_OR(isnew == !mo->present[k], 1);                           \
                if (isnew) { CHECK_OR(*pv == 0, 1); mo->n++; mo->present[k] = 1; } \
                *pv += 1;                                                        \
                mo->val[k] = isnew ? 1 : mo->val[k] + 1;                         \
                break;                                                           \
            case 10: { /* delete every entry with an odd value while iterating */ \
                M##_entry *e;                                                    \
                if (ds_rng_below(&r, 8)) break;                                  \
                for (e = M##_first(&m); e; e = M##_next(&m, e))                  \
                    if (e->val & 1) {                                            \
                        mo->present[e->key] = 0;                                 \
                        mo->n--;                                                 \
                        M##_del_entry(&m, e);                                    \
                    }                                                            \
                break;                                                           \
            }                                                                    \
            case 11: s = M##_reserve(&m, mo->n + (size_t)ds_rng_below(&r, 300)); break; \
            case 12: s = M##_shrink(&m); break;                                  \
            case 13:                                                             \
                if (ds_rng_below(&r, 16) == 0) {                                 \
                    M##_clear(&m);                                               \
                    memset(mo, 0, sizeof *mo);                                   \
                }                                                                \
                break;                                                           \
            default:                                                             \
                CHECK_OR(M##_has(&m, k) == mo->present[k], 1);                   \
            }                                                                    \
            if (s == DS_ENOMEM) CHECK_OR(PROP_ENOMEM_LEGIT(pa, fails_before), 1); \
            else CHECK_OR(s == DS_OK || s == DS_EEXIST || s == DS_ENOTFOUND, 1); \
            if (step % 16 == 0 || s == DS_ENOMEM || step == nsteps - 1)          \
                CHECK_OR(M##_equals(&m, mo), 1);                                 \
        }                                                                        \
        M##_free(&m);                                                            \
        CHECK_OR(M##_len(&m) == 0 && M##_capacity(&m) == 0, 1);                  \
        free(mo);                                                                \
        return 0;                                                                \
    }                                                                            \
    static int M##_seq(uint64_t seed, prop_alloc *pa) { return M##_seq_n(seed, pa, NSTEPS); } \
    static void M##_case(ds_rng *r, uint64_t seed) {                             \
        (void)r;                                                                 \
        M##_seq_n(seed, NULL, 3000);                                             \
    }

MAP_EQUALS_FN(umap)
MAP_EQUALS_FN(cmap)
MAP_EQUALS_FN(fmap)
MAP_SEQ_FN(umap, 600)
MAP_SEQ_FN(cmap, 300)
MAP_SEQ_FN(fmap, 300)

void test_map_model(void) { prop_run("map_model", umap_case, 60); }

void test_map_model_weak_hash(void) {
    prop_run("map_model_const_hash", cmap_case, 6);
    prop_run("map_model_four_hashes", fmap_case, 10);
}

void test_map_oom(void) {
    long total = 0;
    int i;
    for (i = 1; i <= 2 && !prop_test_failed; i++) {
        CHECK(prop_oom_sweep(umap_seq, 4000 + (uint64_t)i, &total) == 0);
        CHECK(total > 3);
    }
    CHECK(prop_oom_sweep(cmap_seq, 4100, &total) == 0);
    CHECK(prop_oom_sweep(fmap_seq, 4200, &total) == 0);
}

void test_map_edges(void) {
    umap m;
    uint32_t out = 5;
    int isnew = -1;
    umap_init(&m);
    /* Empty table: lookups and deletes work without allocating. */
    CHECK(umap_len(&m) == 0 && umap_capacity(&m) == 0 && umap_memory(&m) == 0);
    CHECK(umap_get(&m, 1) == NULL && !umap_has(&m, 0) && umap_first(&m) == NULL);
    CHECK(umap_del(&m, 1, &out) == DS_ENOTFOUND && out == 5);
    CHECK(umap_shrink(&m) == DS_OK);
    umap_clear(&m);
    /* Impossible sizes: DS_EINVAL, map untouched. */
    CHECK(umap_reserve(&m, SIZE_MAX) == DS_EINVAL);
    CHECK(umap_reserve(&m, SIZE_MAX / 2) == DS_EINVAL);
    CHECK(umap_reserve(&m, SIZE_MAX / 64) == DS_ENOMEM);
    CHECK(umap_capacity(&m) == 0);
    /* One element; overwrite reports not-new; key 0 and UINT32_MAX are keys. */
    CHECK(umap_put(&m, 0, 10, &isnew) == DS_OK && isnew == 1);
    CHECK(umap_put(&m, 0, 11, &isnew) == DS_OK && isnew == 0 && *umap_get(&m, 0) == 11);
    CHECK(umap_put(&m, UINT32_MAX, 12, NULL) == DS_OK && *umap_get(&m, UINT32_MAX) == 12);
    CHECK(umap_insert(&m, 0, 99) == DS_EEXIST && *umap_get(&m, 0) == 11);
    /* Growth boundary: the first table is one group; filling past 7/8 of it
     * doubles. */
    {
        uint32_t k;
        size_t cap0 = umap_capacity(&m);
        CHECK(cap0 >= 8 && (cap0 & (cap0 - 1)) == 0);
        for (k = 1; umap_len(&m) < cap0 - cap0 / 8; k++) CHECK(umap_put(&m, k, k, NULL) == DS_OK);
        CHECK(umap_capacity(&m) == cap0);
        CHECK(umap_put(&m, 100000, 1, NULL) == DS_OK && umap_capacity(&m) == 2 * cap0);
    }
    CHECK(umap_reserve(&m, 1000) == DS_OK && umap_capacity(&m) >= 1000 + 1000 / 7);
    {
        size_t cap = umap_capacity(&m);
        uint32_t k;
        for (k = 200000; umap_len(&m) < 1000; k++) CHECK(umap_put(&m, k, k, NULL) == DS_OK);
        CHECK(umap_capacity(&m) == cap); /* reserve means no rehash up to n */
        CHECK(umap_memory(&m) == cap * (sizeof(umap_entry) + 1) + 64); /* + the slots' alignment slack */
    }
    umap_clear(&m);
    CHECK(umap_len(&m) == 0 && umap_first(&m) == NULL && umap_capacity(&m) > 0);
    CHECK(umap_shrink(&m) == DS_OK && umap_capacity(&m) == 0);
    umap_free(&m);
    umap_free(&m);
    /* Two default-initialised maps get different seeds. */
    {
        umap a, b;
        umap_init(&a);
        umap_init(&b);
        CHECK(a.m.seed != b.m.seed);
    }
}

/* 200k random 64-bit keys: all found, absent keys not found, half deleted. */
void test_map_large(void) {
    enum { N = 200000 };
    uint64_t *keys = (uint64_t *)malloc(N * sizeof *keys);
    uset s;
    ds_rng r;
    size_t i, cnt = 0;
    CHECK(keys);
    ds_rng_seed(&r, 77);
    uset_init(&s);
    for (i = 0; i < N; i++) {
        int isnew;
        keys[i] = ds_rng_next(&r);
        CHECK(uset_put(&s, keys[i], &isnew) == DS_OK && isnew);
    }
    CHECK(uset_len(&s) == N);
    for (i = 0; i < N; i++) CHECK(uset_has(&s, keys[i]) && *uset_get(&s, keys[i]) == keys[i]);
    for (i = 0; i < N; i++) CHECK(!uset_has(&s, ds_rng_next(&r))); /* 2^-64 false alarm */
    for (i = 0; i < N; i += 2) CHECK(uset_del(&s, keys[i]) == DS_OK);
    for (i = 0; i < N; i++) CHECK(uset_has(&s, keys[i]) == (i % 2 == 1));
    DS_FOREACH(uset, &s, e) cnt++;
    CHECK(cnt == N / 2 && uset_len(&s) == N / 2);
    CHECK(uset_shrink(&s) == DS_OK && uset_capacity(&s) <= 2 * ds__map_cap_for(N / 2));
    for (i = 1; i < N; i += 2) CHECK(uset_has(&s, keys[i]));
    uset_free(&s);
    free(keys);
}

/* Churn: delete one key, insert a new one, a million times at constant
 * size. Tombstones must not accumulate into growth: capacity stays bounded
 * and lookups stay correct. */
void test_map_churn_no_tombstone_buildup(void) {
    enum { LIVE = 5000, ROUNDS = 1000000 };
    uint64_t *ring = (uint64_t *)malloc(LIVE * sizeof *ring);
    uset s;
    ds_rng r;
    size_t i, cap_after_fill, max_cap = 0;
    CHECK(ring);
    ds_rng_seed(&r, 1234);
    uset_init_seed(&s, NULL, 99);
    for (i = 0; i < LIVE; i++) {
        ring[i] = ds_rng_next(&r);
        CHECK(uset_put(&s, ring[i], NULL) == DS_OK);
    }
    cap_after_fill = uset_capacity(&s);
    for (i = 0; i < ROUNDS; i++) {
        size_t j = i % LIVE;
        CHECK(uset_del(&s, ring[j]) == DS_OK);
        ring[j] = ds_rng_next(&r);
        CHECK(uset_put(&s, ring[j], NULL) == DS_OK);
        if (uset_capacity(&s) > max_cap) max_cap = uset_capacity(&s);
    }
    CHECK(uset_len(&s) == LIVE);
    CHECKF(max_cap <= 2 * cap_after_fill, "capacity grew from %zu to %zu under churn",
           cap_after_fill, max_cap);
    for (i = 0; i < LIVE; i++) CHECK(uset_has(&s, ring[i]));
    uset_free(&s);
    free(ring);
}

/* Deleting the current entry while iterating visits every other entry
 * exactly once. */
void test_map_iter_delete(void) {
    umap m;
    uint32_t k, visited = 0;
    umap_entry *e;
    umap_init_seed(&m, NULL, 5);
    for (k = 0; k < 3000; k++) CHECK(umap_put(&m, k, k * 2, NULL) == DS_OK);
    for (e = umap_first(&m); e; e = umap_next(&m, e)) {
        visited++;
        if (e->key % 3) umap_del_entry(&m, e);
    }
    CHECK(visited == 3000 && umap_len(&m) == 1000);
    for (k = 0; k < 3000; k++) CHECK(umap_has(&m, k) == (k % 3 == 0));
    umap_free(&m);
}

void test_map_string_keys(void) {
    smap m;
    char buf[64];
    int i;
    static char keys[2000][24];
    smap_init(&m);
    for (i = 0; i < 2000; i++) {
        snprintf(keys[i], sizeof keys[i], "user:%d", i);
        CHECK(smap_put(&m, keys[i], i, NULL) == DS_OK);
    }
    for (i = 0; i < 2000; i++) {
        int *v;
        snprintf(buf, sizeof buf, "user:%d", i); /* a different pointer, same string */
        v = smap_get(&m, buf);
        CHECK(v && *v == i);
    }
    CHECK(smap_get(&m, "user:2000") == NULL && smap_get(&m, "") == NULL);
    CHECK(smap_del(&m, "user:7", NULL) == DS_OK && !smap_has(&m, "user:7"));
    smap_free(&m);
}

/* ---- set --------------------------------------------------------------- */

static int set_seq(uint64_t seed, prop_alloc *pa) {
    ds_rng r;
    uset s;
    unsigned char present[512] = {0};
    size_t n = 0;
    int step;
    ds_rng_seed(&r, seed);
    uset_init_seed(&s, pa ? &pa->a : NULL, seed);
    for (step = 0; step < 800; step++) {
        uint64_t k = ds_rng_below(&r, 512);
        int op = (int)ds_rng_below(&r, 6), isnew = -1;
        long fails_before = PROP_FAILS(pa);
        ds_status st = DS_OK;
        switch (op) {
        case 0: case 1:
            st = uset_put(&s, k, &isnew);
            if (st != DS_OK) break;
            CHECK_OR(isnew == !present[k], 1);
            n += !present[k];
            present[k] = 1;
            break;
        case 2:
            st = uset_insert(&s, k);
            if (present[k]) { CHECK_OR(st == DS_EEXIST, 1); break; }
            if (st != DS_OK) break;
            present[k] = 1;
            n++;
            break;
        case 3: case 4:
            st = uset_del(&s, k);
            CHECK_OR(st == (present[k] ? DS_OK : DS_ENOTFOUND), 1);
            if (present[k]) n--;
            present[k] = 0;
            break;
        default:
            st = ds_rng_below(&r, 2) ? uset_reserve(&s, n + 100) : uset_shrink(&s);
        }
        if (st == DS_ENOMEM) CHECK_OR(PROP_ENOMEM_LEGIT(pa, fails_before), 1);
        CHECK_OR(uset_len(&s) == n, 1);
        CHECK_OR(uset_has(&s, k) == present[k], 1);
        if (present[k]) CHECK_OR(*uset_get(&s, k) == k, 1);
    }
    {
        uint64_t k;
        size_t seen = 0;
        for (k = 0; k < 512; k++) CHECK_OR(uset_has(&s, k) == present[k], 1);
        DS_FOREACH(uset, &s, e) {
            CHECK_OR(e->key < 512 && present[e->key], 1);
            seen++;
        }
        CHECK_OR(seen == n, 1);
    }
    uset_free(&s);
    return 0;
}

static void set_case(ds_rng *r, uint64_t seed) {
    (void)r;
    set_seq(seed, NULL);
}

void test_set_model(void) { prop_run("set_model", set_case, 100); }

void test_set_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(set_seq, 5000, &total) == 0);
    CHECK(total > 3);
}
