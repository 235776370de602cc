/* The one .c file that defines the split containers. */
#define DS_IMPLEMENTATION
#include "split.h"
static int split_less(int a, int b) { return a < b; }
DS_MAP_DEFINE(split_map, uint64_t, int, ds_hash_u64, ds_eq_u64)
DS_VEC_DEFINE(split_vec, int)
DS_DEQUE_DEFINE(split_deque, int)
DS_HEAP_DEFINE(split_heap, int, split_less)
DS_SET_DEFINE(split_set, uint64_t, ds_hash_u64, ds_eq_u64)
DS_LRU_DEFINE(split_lru, uint64_t, int, ds_hash_u64, ds_eq_u64)
DS_BTREE_DEFINE(split_bt, uint64_t, int, ds_cmp_u64)
DS_TSTORE_DEFINE(split_ts, double)
