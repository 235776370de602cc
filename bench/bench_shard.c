/* bench/bench_shard.c - choosing a node for a key: ds_ring (160 virtual
 * nodes per node), ds_jump_hash and ds_rendezvous at 10, 100 and 1000
 * nodes; and ds_ring's ketama mode beside libmemcached's ketama (Debian
 * libmemcached-dev), the peer a C memcached client would use.
 *
 * Contenders, per node count n (all nodes weight 1):
 *   ring        ds_ring_get(ring, key, 8): ds_hash_bytes + binary search
 *               over 160 n points
 *   ring-search ds_ring_get_hash on precomputed key hashes: the search alone
 *   jump        ds_jump_hash(ds_hash_bytes(key, 8), n)
 *   rendezvous  ds_rendezvous(ds_hash_bytes(key, 8), nodes, NULL, n): O(n)
 *   ketama      ds_ring in DS_RING_KETAMA mode, ds_ring_get on string keys
 *               ("key:<i>"): MD5 of the key + binary search
 *   libmemcached memcached_generate_hash() with MEMCACHED_BEHAVIOR_KETAMA_
 *               WEIGHTED and MD5 key hashing, servers "10.0.<a>.<b>" port
 *               11211 added (never connected); the same keys. libmemcached
 *               asserts at more than 100 servers (its continuum is sized
 *               MEMCACHED_CONTINUUM_SIZE = 100 servers x 100 points), so
 *               the 1000-node row has no peer
 * Keys: N random 64-bit keys (binary, 8 bytes) and N strings "key:<i>";
 * rendezvous at 1000 nodes runs on N/10 keys (it costs O(n) per key). The
 * ratio printed is libmemcached / ds ketama time: > 1 means ds is faster.
 * The bench also reports how many keys libmemcached and ds's ketama mode
 * send to the same server: they differ only where libmemcached's point
 * count differs from libketama's (float arithmetic: 156 points instead of
 * 160 at some n, e.g. 100; see ds.h's ds:shard comment), and the ring's
 * build time (ds: one add per node; libmemcached: one push of all).
 * Reps are interleaved; the median is reported.
 *
 *   bench_shard [--n N] [--reps R] [--quick]
 *     --n N      keys per measurement (default 1000000)
 *     --reps R   reps, median reported (default 5; env BENCH_REPS)
 *     --quick    smoke run: N = 100000, 1 rep
 * Without libmemcached, build with -DBENCH_NO_LIBMEMCACHED (the peer
 * columns are skipped). */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "bench/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef BENCH_NO_LIBMEMCACHED
#include <libmemcached/memcached.h>
#endif

static volatile uint64_t sink;

typedef struct skeys {
    char *arena;
    size_t *off, *len, n;
} skeys;

static void fail(const char *what) {
    fprintf(stderr, "bench_shard: %s\n", what);
    exit(1);
}

static void node_name(char *out, size_t cap, int i) { snprintf(out, cap, "10.0.%d.%d", i / 250, i % 250 + 1); }

static double time_ring(const ds_ring *r, const uint64_t *k, size_t n) {
    int64_t t0 = bench_now();
    uint64_t s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += ds_ring_get(r, &k[i], sizeof k[i]);
    sink += s;
    return (double)(bench_now() - t0);
}
static double time_ring_search(const ds_ring *r, const uint64_t *h, size_t n) {
    int64_t t0 = bench_now();
    uint64_t s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += ds_ring_get_hash(r, h[i]);
    sink += s;
    return (double)(bench_now() - t0);
}
static double time_jump(const uint64_t *k, size_t n, int32_t nodes) {
    int64_t t0 = bench_now();
    uint64_t s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += (uint64_t)ds_jump_hash(ds_hash_bytes(&k[i], sizeof k[i], 7), nodes);
    sink += s;
    return (double)(bench_now() - t0);
}
static double time_hrw(const uint64_t *k, size_t n, const uint64_t *nodes, size_t nn) {
    int64_t t0 = bench_now();
    uint64_t s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += ds_rendezvous(ds_hash_bytes(&k[i], sizeof k[i], 7), nodes, NULL, nn);
    sink += s;
    return (double)(bench_now() - t0);
}
static double time_ketama(const ds_ring *r, const skeys *sk) {
    int64_t t0 = bench_now();
    uint64_t s = 0;
    size_t i;
    for (i = 0; i < sk->n; i++) s += ds_ring_get(r, sk->arena + sk->off[i], sk->len[i]);
    sink += s;
    return (double)(bench_now() - t0);
}
#ifndef BENCH_NO_LIBMEMCACHED
static double time_memc(memcached_st *m, const skeys *sk) {
    int64_t t0 = bench_now();
    uint64_t s = 0;
    size_t i;
    for (i = 0; i < sk->n; i++) s += memcached_generate_hash(m, sk->arena + sk->off[i], sk->len[i]);
    sink += s;
    return (double)(bench_now() - t0);
}
static memcached_st *memc_ketama(int n, double *build_ns) {
    memcached_st *m = memcached_create(NULL);
    memcached_server_list_st list = NULL;
    memcached_return_t rc;
    int64_t t0;
    int i;
    if (!m) fail("memcached_create");
    for (i = 0; i < n; i++) {
        char host[32];
        node_name(host, sizeof host, i);
        list = memcached_server_list_append_with_weight(list, host, 11211, 1, &rc);
        if (rc != MEMCACHED_SUCCESS) fail("memcached_server_list_append");
    }
    t0 = bench_now();
    if (memcached_behavior_set(m, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) != MEMCACHED_SUCCESS ||
        memcached_behavior_set(m, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_MD5) != MEMCACHED_SUCCESS ||
        memcached_behavior_set(m, MEMCACHED_BEHAVIOR_KETAMA_HASH, MEMCACHED_HASH_MD5) != MEMCACHED_SUCCESS)
        fail("memcached_behavior_set");
    if (memcached_server_push(m, list) != MEMCACHED_SUCCESS) fail("memcached_server_push");
    *build_ns = (double)(bench_now() - t0);
    memcached_server_list_free(list);
    return m;
}
#endif

static void build_ring(ds_ring *r, ds_ring_mode mode, int n) {
    ds_ring_config c;
    int i;
    memset(&c, 0, sizeof c);
    c.mode = mode;
    c.seed = 99;
    if (ds_ring_init(r, &c) != DS_OK) fail("ring init");
    for (i = 0; i < n; i++) {
        char name[32];
        node_name(name, sizeof name, i);
        if (ds_ring_add(r, name, strlen(name), 1, NULL) != DS_OK) fail("ring add");
    }
}

int main(int argc, char **argv) {
    static const int counts[3] = {10, 100, 1000};
    size_t N = 1000000, i;
    int reps = 0, quick = 0, ci, rep;
    uint64_t *keys, *hashes, *nodes;
    skeys sk;
    ds_rng rng;
    for (i = 1; i < (size_t)argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--n") && i + 1 < (size_t)argc) N = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--reps") && i + 1 < (size_t)argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_shard [--n N] [--reps R] [--quick]\n");
            return 2;
        }
    }
    if (quick) {
        N = 100000;
        reps = 1;
    }
    if (!reps) reps = bench_reps(5);
    keys = (uint64_t *)malloc(N * sizeof *keys);
    hashes = (uint64_t *)malloc(N * sizeof *hashes);
    nodes = (uint64_t *)malloc(1000 * sizeof *nodes);
    sk.n = N;
    sk.arena = (char *)malloc(N * 16);
    sk.off = (size_t *)malloc(N * sizeof *sk.off);
    sk.len = (size_t *)malloc(N * sizeof *sk.len);
    if (!keys || !hashes || !nodes || !sk.arena || !sk.off || !sk.len) fail("out of memory");
    ds_rng_seed(&rng, 42);
    for (i = 0, sk.off[0] = 0; i < N; i++) {
        keys[i] = ds_rng_next(&rng);
        if (i) sk.off[i] = sk.off[i - 1] + sk.len[i - 1];
        sk.len[i] = (size_t)snprintf(sk.arena + sk.off[i], 16, "key:%zu", i);
    }
    for (i = 0; i < 1000; i++) nodes[i] = i;
    printf("%zu keys, %d rep(s), median; ns per lookup (key hashing included except ring-search)\n", N, reps);
#ifndef BENCH_NO_LIBMEMCACHED
    printf("%6s %8s %11s %8s %10s | %8s %12s %6s %9s | %s\n", "nodes", "ring", "ring-search", "jump", "rendezvous",
           "ketama", "libmemcached", "ratio", "agree", "build ms: ring ketama libmemcached");
#else
    printf("%6s %8s %11s %8s %10s | %8s | %s\n", "nodes", "ring", "ring-search", "jump", "rendezvous", "ketama",
           "build ms: ring ketama");
#endif
    for (ci = 0; ci < 3; ci++) {
        int n = counts[ci];
        size_t nh = n >= 1000 ? N / 10 : N, agree = 0;
        bench_samples s_ring = {{0}, 0}, s_search = {{0}, 0}, s_jump = {{0}, 0}, s_hrw = {{0}, 0},
                      s_ket = {{0}, 0}, s_memc = {{0}, 0};
        ds_ring ring, ket;
        double b_ring, b_ket, b_memc = 0;
        int64_t t0;
        void *peer = NULL; /* libmemcached's memcached_st, when there is one */
        t0 = bench_now();
        build_ring(&ring, DS_RING_DEFAULT, n);
        b_ring = (double)(bench_now() - t0);
        t0 = bench_now();
        build_ring(&ket, DS_RING_KETAMA, n);
        b_ket = (double)(bench_now() - t0);
        for (i = 0; i < N; i++) hashes[i] = ds_ring_hash(&ring, &keys[i], sizeof keys[i]);
#ifndef BENCH_NO_LIBMEMCACHED
        if (n <= 100) {
            memcached_st *m = memc_ketama(n, &b_memc);
            peer = m;
            for (i = 0; i < N; i++) /* ids are the add order, as libmemcached's indexes */
                agree += ds_ring_get(&ket, sk.arena + sk.off[i], sk.len[i]) ==
                         memcached_generate_hash(m, sk.arena + sk.off[i], sk.len[i]);
        }
#endif
        for (rep = 0; rep < reps; rep++) {
            bench_add(&s_ring, time_ring(&ring, keys, N));
            bench_add(&s_search, time_ring_search(&ring, hashes, N));
            bench_add(&s_jump, time_jump(keys, N, n));
            bench_add(&s_hrw, time_hrw(keys, nh, nodes, (size_t)n));
            bench_add(&s_ket, time_ketama(&ket, &sk));
#ifndef BENCH_NO_LIBMEMCACHED
            if (peer) bench_add(&s_memc, time_memc((memcached_st *)peer, &sk));
#endif
        }
        printf("%6d %8.1f %11.1f %8.1f %10.1f | %8.1f", n, bench_ns_per_op(bench_median(&s_ring), (double)N),
               bench_ns_per_op(bench_median(&s_search), (double)N), bench_ns_per_op(bench_median(&s_jump), (double)N),
               bench_ns_per_op(bench_median(&s_hrw), (double)nh), bench_ns_per_op(bench_median(&s_ket), (double)N));
#ifndef BENCH_NO_LIBMEMCACHED
        if (peer) {
            printf(" %12.1f %6.2f %8.2f%%", bench_ns_per_op(bench_median(&s_memc), (double)N),
                   bench_ratio(bench_median(&s_memc), bench_median(&s_ket)), 100.0 * (double)agree / (double)N);
            memcached_free((memcached_st *)peer);
        } else {
            printf(" %12s %6s %9s", "-", "-", "-");
        }
#endif
        printf(" | %.2f %.2f", b_ring / 1e6, b_ket / 1e6);
#ifndef BENCH_NO_LIBMEMCACHED
        if (peer) printf(" %.2f", b_memc / 1e6);
        else printf(" -");
#endif
        printf("\n");
        (void)agree;
        (void)s_memc;
        (void)b_memc;
        (void)peer;
        fflush(stdout);
        ds_ring_free(&ring);
        ds_ring_free(&ket);
    }
    free(keys);
    free(hashes);
    free(nodes);
    free(sk.arena);
    free(sk.off);
    free(sk.len);
    return 0;
}
