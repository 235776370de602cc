/* Another file that only sees the declarations. */
#include "split.h"
int split_use(void) {
    split_map m;
    split_vec v;
    split_deque d;
    split_heap h;
    split_set s;
    split_lru c;
    split_bt bt;
    split_ts ts;
    int ok, x = 0;
    split_map_init(&m);
    split_vec_init(&v);
    split_deque_init(&d);
    split_heap_init(&h);
    split_set_init(&s);
    if (split_lru_init(&c, NULL) != DS_OK) return 0;
    split_bt_init(&bt);
    split_ts_init(&ts);
    ok = split_map_put(&m, 7, 1, NULL) == DS_OK && *split_map_get(&m, 7) == 1 &&
         split_vec_push(&v, 2) == DS_OK && split_deque_push_front(&d, 3) == DS_OK &&
         split_heap_push(&h, 4) == DS_OK && split_heap_pop(&h, &x) == DS_OK && x == 4 &&
         split_set_put(&s, 9, NULL) == DS_OK && split_set_has(&s, 9) &&
         split_lru_put(&c, 5, 6, 0) == DS_OK && *split_lru_get(&c, 5, 0) == 6 &&
         split_bt_put(&bt, 3, 4, NULL) == DS_OK && *split_bt_get(&bt, 3) == 4 &&
         split_ts_insert(&ts, 7, 1.5) == DS_OK && split_ts_range(&ts, 0, 10, NULL, NULL, 0) == 1;
    split_map_free(&m);
    split_vec_free(&v);
    split_deque_free(&d);
    split_heap_free(&h);
    split_set_free(&s);
    split_lru_free(&c);
    split_bt_free(&bt);
    split_ts_free(&ts);
    return ok;
}
int main(void) { return split_use() ? 0 : 1; }
