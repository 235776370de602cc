/* tests/tests.h - every test the runner knows, in run order.
 * Add a test: write `void test_NAME(void)` in a tests/test_*.c file and
 * list NAME here. */
#ifndef DS_TESTS_TESTS_H
#define DS_TESTS_TESTS_H

#define DS_TEST_LIST(X)                                                    \
    /* core */                                                             \
    X(core_status) X(core_size_arith) X(core_splitmix_vectors)             \
    X(core_rng_streams) X(core_rng_below) X(core_rng_double)               \
    X(core_rng_jump) X(core_hash_basics) X(core_hash_avalanche)            \
    X(core_hash_buckets) X(core_now_ns) X(core_default_allocator_hooks)    \
    /* vec */                                                              \
    X(vec_model) X(vec_oom) X(vec_edges) X(vec_sort_bounds)                \
    /* deque */                                                            \
    X(deque_model) X(deque_oom) X(deque_edges)                             \
    /* heap */                                                             \
    X(heap_model) X(heap_oom) X(heap_edges) X(heap_top_k) X(heap_topk_stream) \
    /* map / set */                                                        \
    X(map_model) X(map_model_weak_hash) X(map_oom) X(map_edges)            \
    X(map_large) X(map_churn_no_tombstone_buildup) X(map_iter_delete)      \
    X(map_string_keys) X(set_model) X(set_oom)                         \
    /* btree */                                                            \
    X(btree_model) X(btree_oom) X(btree_large) X(btree_save_load) X(tstore_model)             \
    X(tstore_edges) X(tstore_leaves) X(tstore_oom) X(window_model) X(window_edges) X(ddsketch)            \
    X(trie_model) X(trie_words) X(trie_scores) X(trie_shapes)                           \
    /* ids */                                                              \
    X(snowflake) X(snowflake_wall_clock) X(base62_58) X(jump_rendezvous)   \
    /* consistent hashing, shard routing */                                \
    X(ring_md5) X(ring_ketama_vectors) X(ring_model) X(ring_oom)           \
    X(ring_edges) X(ring_balance) X(ring_get_n) X(router_hash)             \
    X(router_range) X(router_prefix) X(router_edges) X(router_oom)         \
    /* breaker */                                                          \
    X(breaker_transitions) X(breaker_probes) X(breaker_windows)            \
    X(breaker_bad_input) X(breaker_oom) X(breaker_model)                   \
    /* probabilistic */                                                  \
    X(sketch_io) X(sketch_load_pipe) X(io_back_to_back) X(bloom_model) X(bloom_fpp_random) X(bloom_fpp_words)     \
    X(bloom_ops) X(bloom_save_load) X(bloom_oom) X(sbloom) X(bloom_split) X(bloom_v1_files) \
    X(cuckoo_model) X(cuckoo_full_and_fpp) X(cuckoo_save_load)             \
    X(cms_zipf) X(cms_ops) X(topk_zipf) X(topk_model) X(topk_edges)        \
    X(hll_accuracy) X(hll_merge_save)                                      \
    /* caches */                                                           \
    X(cache_model) X(cache_edges) X(cache_oom) X(cache_tinylfu)            \
    X(cache_traces) X(cache_memo) X(cache_weight_edges) X(cache_oom_state) X(cache_evict_rule) X(cache_sketch_size) X(idem_states) X(idem_fencing) X(idem_oom)               \
    /* rate limiters */                                                    \
    X(limit_model) X(limit_bounds) X(limit_long_run) X(limit_conforming)   \
    X(limit_gcra_redis_cell) X(limit_edges) X(limit_step_back) X(limit_oom)                   \
    X(limit_table_model) X(limit_table_memory) X(limit_table_oom)          \
    X(limit_set_and_clock) X(limit_large) X(limit_table_expire)            \
    /* geohash, quadtree */                                                \
    X(geo_vectors) X(geo_round_trip) X(geo_neighbors) X(geo_cover)         \
    X(geo_bad_input) X(quad_model) X(quad_knn_ties) X(quad_knn_brute) X(quad_duplicates) \
    X(quad_bad_input) X(quad_oom)                                          \
    /* graphs, TSP */                                                      \
    X(graph_dijkstra_floyd) X(graph_astar_optimal) X(graph_bfs_hops)       \
    X(graph_csr_equal) X(graph_names) X(graph_search_reuse) X(graph_tsp)   \
    X(graph_bad_input) X(graph_oom)                                        \
    /* vector search (ds_hnsw.h) */                                        \
    X(hnsw_distance) X(hnsw_flat_model) X(hnsw_flat_view_batch)            \
    X(hnsw_flat_bad_input) X(hnsw_flat_oom) X(hnsw_vecs_read)              \
    X(hnsw_flat_siftsmall) X(hnsw_siftsmall_recall) X(hnsw_synthetic_recall) \
    X(hnsw_delete_filter) X(hnsw_exhaustive_ties)                          \
    X(hnsw_update_replace_compact)                                         \
    X(hnsw_update_repair) X(hnsw_resize)                                   \
    X(hnsw_determinism) X(hnsw_oom) X(hnsw_bad_input) X(hnsw_save_load)    \
    X(hnsw_flat_save_load) X(hnsw_concurrent_search)                        \
    X(hnsw_f16_convert) X(hnsw_f16_kernels) X(hnsw_f16_index)              \
    X(hnsw_f16_bad_input) X(hnsw_f16_save_load) X(hnsw_f16_oom)            \
    /* text retrieval (ds_text.h) */                                       \
    X(text_tokenize) X(text_model) X(text_pruning) X(text_edges)           \
    X(text_oom) X(text_save_load) X(text_hostile) X(text_rrf)              \
    X(text_phrase)                                                         \
    X(bpe_model) X(bpe_roundtrip) X(bpe_save_load) X(bpe_edges)            \
    X(bpe_gpt2) X(bpe_oom) X(bpe_gpt2_vocab)                               \
    /* bad input */                                                        \
    X(null_container_args) X(free_zeroed) X(free_after_failed_init) X(hnsw_huge_k) X(hnsw_tiny_cosine) X(hnsw_update_deleted)               \
    X(edges_sizes) X(edges_doubles) X(edges_times) X(edges_more)        \
    X(edges_geo) X(edges_window) X(edges_trie) X(edges_ids) X(edges_shard)   \
    X(edges_graph) X(edges_cache) X(edges_limit_table) X(edges_idem)        \
    X(edges_breaker_cfg) X(edges_vectors) X(edges_containers) X(edges_filters) \
    X(edges_misc)

/* ds_concurrent.h (C11, pthreads): run by their own binaries
 * (build/test_conc, build/test_tsan*), built with -DDS_TESTS_CONC. */
/* ds_hnsw.h's threaded build does not use ds_concurrent.h's sleep, so the
 * second TSan binary (DS_CONC_NO_FUTEX) would run it again for nothing: it
 * is left out of that list rather than counted as passed. The OOM sweep's
 * allocations are all on the calling thread: the ASan binary runs it. */
#if defined(__SANITIZE_THREAD__)
#define DS_TESTS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DS_TESTS_TSAN 1
#endif
#endif
#if defined(DS_TESTS_TSAN) && defined(DS_CONC_NO_FUTEX)
#define DS_TESTS_CONC_HNSW(X)
#elif defined(DS_TESTS_TSAN)
#define DS_TESTS_CONC_HNSW(X)                                              \
    X(conc_hnsw_build_recall) X(conc_hnsw_contention)                      \
    X(conc_hnsw_batch_matches_add) X(conc_hnsw_search_batch)               \
    X(conc_hnsw_batch_errors) X(conc_hnsw_f16)
#else
#define DS_TESTS_CONC_HNSW(X)                                              \
    X(conc_hnsw_build_recall) X(conc_hnsw_contention)                      \
    X(conc_hnsw_batch_matches_add) X(conc_hnsw_search_batch)               \
    X(conc_hnsw_batch_errors) X(conc_hnsw_batch_oom) X(conc_hnsw_f16)
#endif

#define DS_TEST_LIST_CONC(X)                                               \
    X(conc_free_zeroed) X(conc_free_after_failed_init)                     \
    X(conc_spsc_model) X(conc_mpmc_model) X(conc_ring_edges)               \
    X(conc_wakeup) X(conc_mpmc_many_sleepers) X(conc_spsc_threads)         \
    X(conc_mpmc_threads) X(conc_mpmc_close_race)                          \
    X(conc_lost_wakeup) X(conc_fence_fallback)                             \
    X(conc_mpmc_close_inflight)                                            \
    /* thread-safe wrappers (tests/test_conc_wrap.c) */                    \
    X(conc_wrap_clru_single_flight) X(conc_wrap_clru_failure)              \
    X(conc_wrap_clru_invalidate) X(conc_wrap_clru_model)                   \
    X(conc_wrap_clru_edges_oom) X(conc_wrap_tstore_wait)                   \
    X(conc_wrap_tstore_threads) X(conc_wrap_tstore_model_oom)              \
    X(conc_wrap_limiter_contract) X(conc_wrap_limiter_edges)               \
    X(conc_wrap_breaker_probes) X(conc_wrap_breaker_mix)                   \
    X(conc_wrap_clru_no_join_after_invalidate) X(conc_wrap_sleep_no_fence) \
    /* sharded concurrent map (tests/test_conc_map.c) */                   \
    X(conc_cmap_model) X(conc_cmap_oom) X(conc_cmap_edges)                 \
    X(conc_cmap_disjoint) X(conc_cmap_counters) X(conc_cmap_compute_once)  \
    X(conc_cmap_cas) X(conc_cmap_bounded)                                  \
    /* ds_hnsw.h with DS_HNSW_THREADS */                                   \
    DS_TESTS_CONC_HNSW(X)                                                  \
    /* worker pool */                                                      \
    X(conc_pool_model) X(conc_pool_shutdown_race) X(conc_pool_cancel_race) \
    X(conc_pool_backpressure) X(conc_pool_wait_idle) X(conc_pool_from_task) \
    X(conc_pool_metrics) X(conc_pool_bad_input) X(conc_pool_oom)           \
    X(conc_pool_thread_fail) X(conc_edges)

#define DS_TEST_DECL(name) void test_##name(void);
DS_TEST_LIST(DS_TEST_DECL)
DS_TEST_LIST_CONC(DS_TEST_DECL)
#undef DS_TEST_DECL

#endif
