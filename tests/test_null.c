/* tests/test_null.c - every container call given a NULL container returns
 * DS_EINVAL / NULL / 0 (or does nothing) instead of crashing. */
#include "prop.h"
#include "ds_hnsw.h"

static int nl_less(int a, int b) { return a < b; }
static int nl_cmp(int const *a, int const *b) { return (*a > *b) - (*a < *b); }
DS_VEC(nvec, int)
DS_DEQUE(ndeque, int)
DS_HEAP(nheap, int, nl_less)
DS_MAP(nmap, uint64_t, int, ds_hash_u64, ds_eq_u64)
DS_SET(nset, uint64_t, ds_hash_u64, ds_eq_u64)

void test_null_container_args(void) {
    int x = 1, isnew = 0;
    /* vec */
    CHECK(nvec_init(NULL) == DS_EINVAL);
    CHECK(nvec_init_alloc(NULL, NULL) == DS_EINVAL);
    nvec_free(NULL);
    nvec_clear(NULL);
    CHECK(nvec_len(NULL) == 0 && nvec_at(NULL, 0) == NULL && nvec_last(NULL) == NULL);
    CHECK(nvec_push(NULL, 1) == DS_EINVAL && nvec_pop(NULL, &x) == DS_EINVAL);
    CHECK(nvec_insert_at(NULL, 0, 1) == DS_EINVAL && nvec_del_at(NULL, 0, NULL) == DS_EINVAL);
    CHECK(nvec_swap_remove(NULL, 0, NULL) == DS_EINVAL && nvec_append(NULL, &x, 1) == DS_EINVAL);
    CHECK(nvec_reserve(NULL, 4) == DS_EINVAL && nvec_shrink(NULL) == DS_EINVAL);
    CHECK(nvec_resize(NULL, 4, 0) == DS_EINVAL);
    nvec_sort(NULL, nl_cmp);
    CHECK(nvec_lower_bound(NULL, &x, nl_cmp) == 0 && nvec_upper_bound(NULL, &x, nl_cmp) == 0);
    CHECK(nvec_first(NULL) == NULL && nvec_next(NULL, &x) == NULL);
    /* deque */
    CHECK(ndeque_init(NULL) == DS_EINVAL);
    ndeque_free(NULL);
    ndeque_clear(NULL);
    CHECK(ndeque_len(NULL) == 0 && ndeque_maxlen(NULL) == 0);
    CHECK(ndeque_push_back(NULL, 1) == DS_EINVAL && ndeque_push_front(NULL, 1) == DS_EINVAL);
    CHECK(ndeque_push_back_evict(NULL, 1, &x, &isnew) == DS_EINVAL);
    CHECK(ndeque_pop_back(NULL, &x) == DS_EINVAL && ndeque_pop_front(NULL, &x) == DS_EINVAL);
    CHECK(ndeque_set_maxlen(NULL, 3) == DS_EINVAL && ndeque_reserve(NULL, 3) == DS_EINVAL);
    CHECK(ndeque_at(NULL, 0) == NULL && ndeque_front(NULL) == NULL && ndeque_back(NULL) == NULL);
    CHECK(ndeque_first(NULL) == NULL);
    /* heap */
    CHECK(nheap_init(NULL) == DS_EINVAL);
    nheap_free(NULL);
    nheap_clear(NULL);
    CHECK(nheap_len(NULL) == 0 && nheap_peek(NULL) == NULL);
    CHECK(nheap_push(NULL, 1) == DS_EINVAL && nheap_pop(NULL, &x) == DS_EINVAL);
    CHECK(nheap_replace_top(NULL, 1, &x) == DS_EINVAL && nheap_heapify(NULL, &x, 1) == DS_EINVAL);
    CHECK(nheap_update(NULL, 0) == DS_EINVAL && nheap_remove_at(NULL, 0, NULL) == DS_EINVAL);
    CHECK(nheap_reserve(NULL, 2) == DS_EINVAL && nheap_first(NULL) == NULL);
    CHECK(nheap_topk_init(NULL, 3, NULL) == DS_EINVAL && nheap_topk_offer(NULL, 1, NULL, NULL) == 0);
    CHECK(nheap_topk_sorted(NULL, &x) == 0 && nheap_topk_len(NULL) == 0);
    CHECK(nheap_topk_threshold(NULL) == NULL);
    nheap_topk_clear(NULL);
    nheap_topk_free(NULL);
    /* map and set */
    CHECK(nmap_init(NULL) == DS_EINVAL);
    nmap_init_seed(NULL, NULL, 1);
    nmap_free(NULL);
    nmap_clear(NULL);
    CHECK(nmap_len(NULL) == 0 && nmap_capacity(NULL) == 0 && nmap_memory(NULL) == 0);
    CHECK(nmap_get(NULL, 1) == NULL && nmap_has(NULL, 1) == 0);
    CHECK(nmap_put(NULL, 1, 2, &isnew) == DS_EINVAL && nmap_insert(NULL, 1, 2) == DS_EINVAL);
    CHECK(nmap_get_or_add(NULL, 1, &isnew) == NULL && nmap_del(NULL, 1, NULL) == DS_EINVAL);
    CHECK(nmap_reserve(NULL, 5) == DS_EINVAL && nmap_shrink(NULL) == DS_EINVAL);
    CHECK(nmap_first(NULL) == NULL);
    nmap_del_entry(NULL, NULL);
    CHECK(nset_init(NULL) == DS_EINVAL);
    CHECK(nset_put(NULL, 1, NULL) == DS_EINVAL && nset_insert(NULL, 1) == DS_EINVAL);
    CHECK(nset_del(NULL, 1) == DS_EINVAL && nset_get(NULL, 1) == NULL && !nset_has(NULL, 1));
    {
        /* A NULL entry handed to del_entry is ignored, too. */
        nmap m;
        nmap_init(&m);
        CHECK(nmap_put(&m, 1, 1, NULL) == DS_OK);
        nmap_del_entry(&m, NULL);
        CHECK(nmap_len(&m) == 1);
        nmap_free(&m);
    }
}

/* The rule of the verb table: `free` of a zeroed struct (the common
 * `x = {0}; ... goto cleanup;` pattern) is a no-op, for every type that
 * has a free. Run under ASan: a crash or a leak report fails it. */
static int zf_cmp(int a, int b) { return (a > b) - (a < b); }
DS_BTREE(zbtree, int, int, zf_cmp)
DS_TSTORE(zstore, int)
DS_LRU(zlru, uint64_t, int, ds_hash_u64, ds_eq_u64)
#define ZF(T, fr)                        \
    do {                                 \
        T z_;                            \
        memset(&z_, 0, sizeof z_);       \
        fr(&z_);                         \
        fr(&z_); /* twice: still fine */ \
    } while (0)
void test_free_zeroed(void) {
    ZF(nvec, nvec_free);
    ZF(ndeque, ndeque_free);
    ZF(nheap, nheap_free);
    ZF(nmap, nmap_free);
    ZF(nset, nset_free);
    ZF(zbtree, zbtree_free);
    ZF(zstore, zstore_free);
    ZF(zlru, zlru_free);
    ZF(ds_window, ds_window_free);
    ZF(ds_ddsketch, ds_ddsketch_free);
    ZF(ds_trie, ds_trie_free);
    ZF(ds_ring, ds_ring_free);
    ZF(ds_router, ds_router_free);
    ZF(ds_breaker, ds_breaker_free);
    ZF(ds_bloom, ds_bloom_free);
    ZF(ds_sbloom, ds_sbloom_free);
    ZF(ds_cuckoo, ds_cuckoo_free);
    ZF(ds_cms, ds_cms_free);
    ZF(ds_topk, ds_topk_free);
    ZF(ds_hll, ds_hll_free);
    ZF(ds_idem, ds_idem_free);
    ZF(ds_limiter, ds_limiter_free);
    ZF(ds_limiter_table, ds_limiter_table_free);
    ZF(ds_quadtree, ds_quadtree_free);
    ZF(ds_graph, ds_graph_free);
    ZF(ds_graph_search, ds_graph_search_free);
    ZF(ds_membuf, ds_membuf_free);
    ZF(ds_flat, ds_flat_free);
    ZF(ds_hnsw, ds_hnsw_free);
    ZF(ds_hnsw_scratch, ds_hnsw_scratch_free);
}

/* ... and after an init that failed, whatever the struct held before (the
 * caller need not have zeroed it): every init that can refuse leaves a
 * struct that free accepts. Filled with garbage first; init fails; free
 * runs twice; ASan sees any bad free or leak. */
#define ZINIT(T, call, fr)                                    \
    do {                                                      \
        T z_;                                                 \
        ds_status st_;                                        \
        memset(&z_, 0xA5, sizeof z_);                         \
        st_ = call;                                           \
        CHECKF(st_ != DS_OK, "%s succeeded", #call);          \
        fr(&z_);                                              \
        fr(&z_);                                              \
    } while (0)
void test_free_after_failed_init(void) {
    ds_breaker_config bc;
    ds_limit_config lc;
    ds_limiter_table_config tc;
    ds_quadtree_config qc;
    ds_ring_config rc;
    ds_router_config roc;
    ds_idem_config ic;
    ds_hnsw_params hp = ds_hnsw_params_default(0); /* dim 0: refused */
    zlru_config zc;
    memset(&bc, 0, sizeof bc);
    bc.failure_rate = 200; /* out of (0, 100] */
    memset(&lc, 0, sizeof lc); /* limit 0 */
    memset(&tc, 0, sizeof tc);
    memset(&qc, 0, sizeof qc); /* an empty rectangle */
    memset(&rc, 0, sizeof rc);
    rc.mode = (ds_ring_mode)99;
    memset(&roc, 0, sizeof roc);
    roc.kind = (ds_route_kind)99;
    memset(&ic, 0, sizeof ic);
    ic.retention = -1;
    memset(&zc, 0, sizeof zc);
    zc.default_ttl = -1;
    ZINIT(ds_bloom, ds_bloom_init(&z_, 0, 0.01, NULL), ds_bloom_free);
    ZINIT(ds_bloom, ds_bloom_init_blocked(&z_, 100, 2.0, NULL), ds_bloom_free);
    ZINIT(ds_sbloom, ds_sbloom_init(&z_, 100, 0.01, 0.5, 0.5, 0, NULL), ds_sbloom_free);
    ZINIT(ds_cuckoo, ds_cuckoo_init(&z_, 0, 12, NULL), ds_cuckoo_free);
    ZINIT(ds_cms, ds_cms_init(&z_, 0, 4, NULL), ds_cms_free);
    ZINIT(ds_cms, ds_cms_init_error(&z_, 2.0, 0.1, NULL), ds_cms_free);
    ZINIT(ds_topk, ds_topk_init(&z_, 0, 0, NULL), ds_topk_free);
    ZINIT(ds_hll, ds_hll_init(&z_, 2, NULL), ds_hll_free);
    ZINIT(ds_window, ds_window_init_count(&z_, 0, NULL), ds_window_free);
    ZINIT(ds_window, ds_window_init_time(&z_, -5, NULL), ds_window_free);
    ZINIT(ds_ddsketch, ds_ddsketch_init(&z_, 2.0, 100, NULL), ds_ddsketch_free);
    ZINIT(ds_breaker, ds_breaker_init(&z_, &bc, NULL), ds_breaker_free);
    ZINIT(ds_limiter, ds_limiter_init(&z_, &lc, NULL), ds_limiter_free);
    ZINIT(ds_limiter_table, ds_limiter_table_init(&z_, &tc), ds_limiter_table_free);
    ZINIT(ds_quadtree, ds_quadtree_init(&z_, &qc), ds_quadtree_free);
    ZINIT(ds_ring, ds_ring_init(&z_, &rc), ds_ring_free);
    ZINIT(ds_router, ds_router_init(&z_, &roc), ds_router_free);
    ZINIT(ds_idem, ds_idem_init(&z_, &ic), ds_idem_free);
    ZINIT(zlru, zlru_init(&z_, &zc), zlru_free);
    ZINIT(ds_flat, ds_flat_init(&z_, 0, DS_METRIC_L2, NULL), ds_flat_free);
    ZINIT(ds_hnsw, ds_hnsw_init(&z_, &hp, NULL), ds_hnsw_free);
}
