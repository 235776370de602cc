/* The header half of the DECLARE/DEFINE split: types and prototypes only. */
#include "ds.h"
DS_MAP_DECLARE(split_map, uint64_t, int)
DS_VEC_DECLARE(split_vec, int)
DS_DEQUE_DECLARE(split_deque, int)
DS_HEAP_DECLARE(split_heap, int)
DS_SET_DECLARE(split_set, uint64_t)
DS_LRU_DECLARE(split_lru, uint64_t, int)
DS_BTREE_DECLARE(split_bt, uint64_t, int)
DS_TSTORE_DECLARE(split_ts, double)
int split_use(void);
