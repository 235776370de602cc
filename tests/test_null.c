/* tests/test_null.c - every container call given a NULL container returns
 * DS_EINVAL / NULL / 0 (or does nothing) instead of crashing. */
#include "prop.h"

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
    nvec_init(NULL);
    nvec_init_alloc(NULL, NULL);
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
    ndeque_init(NULL);
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
    nheap_init(NULL);
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
    nmap_init(NULL);
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
    nset_init(NULL);
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
