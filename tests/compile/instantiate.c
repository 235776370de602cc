/* Instantiates every ds.h container so `make check-headers` compiles the
 * macro-generated code under the strictest warnings, in C and C++, with and
 * without DS_STATIC, DS_NO_SIMD and custom allocator macros; then runs a
 * few calls so a broken configuration cannot pass silently. */
#ifdef INST_CUSTOM_ALLOC
#include <stdlib.h>
static long inst_live;
static void *inst_malloc(size_t n) { inst_live++; return malloc(n); }
static void *inst_realloc(void *p, size_t n) { if (!p) inst_live++; return realloc(p, n); }
static void inst_free(void *p) { if (p) inst_live--; free(p); }
#define DS_MALLOC(a, sz) ((void)(a), inst_malloc(sz))
#define DS_REALLOC(a, p, o, n) ((void)(a), (void)(o), inst_realloc((p), (n)))
#define DS_FREE(a, p, sz) ((void)(a), (void)(sz), inst_free(p))
#endif
#define DS_IMPLEMENTATION
#include "ds.h"

static int cmp_int(int const *a, int const *b) { return (*a > *b) - (*a < *b); }
static int less_int(int a, int b) { return a < b; }
DS_VEC(ivec, int)
DS_VEC(svec, const char *)
DS_DEQUE(ideq, int)
DS_HEAP(iheap, int, less_int)
DS_MAP(u64map, uint64_t, double, ds_hash_u64, ds_eq_u64)
DS_MAP(strmap, const char *, int, ds_hash_str, ds_eq_str)
DS_SET(strset, const char *, ds_hash_str, ds_eq_str)
DS_LRU(strcache, const char *, int, ds_hash_str, ds_eq_str)
DS_BTREE(strtree, const char *, int, ds_cmp_str)
DS_TSTORE(series, float)

int main(void) {
    ivec v;
    svec sv;
    ideq d;
    iheap h;
    iheap_topk t;
    u64map m;
    strmap sm;
    strset ss;
    strcache sc;
    strtree st;
    series ser;
    int x = 0, top[2];
    double *p;
    int xs[3] = {5, 1, 3};
    if (strcache_init(&sc, NULL) || strcache_put(&sc, "k", 1, 0) || !strcache_get(&sc, "k", 0)) return 1;
    strcache_free(&sc);
    strtree_init(&st);
    if (strtree_put(&st, "b", 2, NULL) || strtree_put(&st, "a", 1, NULL) || *strtree_it_key(strtree_first(&st))[0] != 'a') return 1;
    strtree_free(&st);
    series_init(&ser);
    if (series_insert(&ser, 5, 1.0f) || !series_value_at(&ser, 5)) return 1;
    series_free(&ser);
    ivec_init(&v);
    if (ivec_push(&v, 3) || ivec_push(&v, 1)) return 1;
    ivec_sort(&v, cmp_int);
    if (v.data[0] != 1 || ivec_lower_bound(&v, &x, cmp_int) != 0) return 1;
    ivec_free(&v);
    svec_init(&sv);
    if (svec_push(&sv, "a")) return 1;
    svec_free(&sv);
    ideq_init(&d);
    if (ideq_push_back(&d, 1) || ideq_pop_front(&d, &x) || x != 1) return 1;
    ideq_free(&d);
    iheap_init(&h);
    if (iheap_heapify(&h, xs, 3) || *iheap_peek(&h) != 1) return 1;
    iheap_free(&h);
    if (iheap_top_k(xs, 3, 2, top) != 2 || top[0] != 5 || top[1] != 3) return 1;
    if (iheap_topk_init(&t, 2, NULL)) return 1;
    iheap_topk_offer(&t, 4, NULL, NULL);
    iheap_topk_free(&t);
    u64map_init(&m);
    if (u64map_put(&m, 1, 2.0, NULL)) return 1;
    p = u64map_get(&m, 1);
    DS_FOREACH(u64map, &m, e) x += (int)e->key;
    if (!p || *p != 2.0 || x != 2) return 1;
    u64map_free(&m);
    strmap_init(&sm);
    if (strmap_put(&sm, "k", 1, NULL) || !strmap_has(&sm, "k")) return 1;
    strmap_free(&sm);
    strset_init(&ss);
    if (strset_put(&ss, "a", NULL) || strset_insert(&ss, "a") != DS_EEXIST) return 1;
    strset_free(&ss);
#ifdef INST_CUSTOM_ALLOC
    if (inst_live != 0) return 2;
#endif
    return 0;
}
