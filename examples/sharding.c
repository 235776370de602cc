/* examples/sharding.c - how keys spread over shards, and how many move
 * when a shard is added, for five ways of picking a shard.
 *
 * A cluster of 10 shards grows to 11. Every key whose shard changes must be
 * copied (a database) or is a cache miss (a cache cluster), so the fraction
 * that moves is what a strategy costs on every resize:
 *
 *   modulo      hash(key) % n. This is what the seed's
 *               "ConsistentHashingStrategy" really is (md5(key) % len(nodes)):
 *               it is not consistent. Going from n to n + 1 keeps a key only
 *               when both residues agree, so about n/(n+1) of the keys move.
 *   ring        ds_ring, 160 virtual nodes per shard (consistent hashing)
 *   ketama      ds_ring in libketama's mode (what memcached clients use)
 *   jump        ds_jump_hash (Lamping & Veach)
 *   rendezvous  ds_rendezvous (highest random weight)
 * The last four move only the keys the new shard takes over: about
 * 1/(n+1), and every moved key moves to the new shard.
 *
 * Then the seed's ShardedDatabase (hash, range and geo strategies) with
 * ds_router: one route() call whatever the strategy.
 *
 * The program checks its numbers and exits non-zero if a strategy moves
 * the wrong fraction, moves a key anywhere but to the new shard, or
 * spreads keys unevenly.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/sharding.c -o sharding -lm
 *     ./sharding */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define KEYS 100000
#define N 10 /* shards before; N + 1 after */

static int failures;
static void expect(int ok, const char *what) {
    if (!ok) {
        printf("  CHECK FAILED: %s\n", what);
        failures++;
    }
}

/* A router for one strategy at n shards; the ring kinds share one ring
 * that the caller grows. */
static void make_router(ds_router *r, ds_route_kind kind, uint32_t n, const ds_ring *ring) {
    ds_router_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.nshards = n;
    c.seed = 2024;
    c.ring = ring;
    if (ds_router_init(r, &c) != DS_OK) {
        printf("router init failed\n");
        exit(1);
    }
}
static void add_nodes(ds_ring *ring, int from, int to) {
    int i;
    for (i = from; i < to; i++) {
        char name[32];
        uint32_t id;
        int l = snprintf(name, sizeof name, "10.0.0.%d:11211", i + 1);
        if (ds_ring_add(ring, name, (size_t)l, 1, &id) != DS_OK || id != (uint32_t)i) {
            printf("ring add failed\n");
            exit(1);
        }
    }
}

static uint32_t route(const ds_router *r, const char *key) {
    uint32_t s = 0;
    if (ds_router_route(r, key, strlen(key), &s) != DS_OK) {
        printf("route failed\n");
        exit(1);
    }
    return s;
}

static void one_strategy(const char *name, ds_route_kind kind, ds_ring_mode mode) {
    static uint32_t before[KEYS];
    ds_ring ring;
    ds_ring_config rc;
    ds_router r;
    size_t counts[N + 1] = {0}, moved = 0, elsewhere = 0, i, mx = 0, mn = KEYS;
    double moved_frac, want_moved, spread;
    char key[32], msg[128];
    memset(&rc, 0, sizeof rc);
    rc.mode = mode;
    ds_ring_init(&ring, &rc);
    add_nodes(&ring, 0, N);
    make_router(&r, kind, N, &ring);
    for (i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "user_%zu", i);
        before[i] = route(&r, key);
        counts[before[i]]++;
    }
    ds_router_free(&r);
    /* one more shard: a new router (or the same ring, one node more) */
    add_nodes(&ring, N, N + 1);
    make_router(&r, kind, N + 1, &ring);
    for (i = 0; i < KEYS; i++) {
        uint32_t now;
        snprintf(key, sizeof key, "user_%zu", i);
        now = route(&r, key);
        if (now != before[i]) {
            moved++;
            elsewhere += now != N;
        }
    }
    ds_router_free(&r);
    ds_ring_free(&ring);
    for (i = 0; i < N; i++) {
        mx = counts[i] > mx ? counts[i] : mx;
        mn = counts[i] < mn ? counts[i] : mn;
    }
    spread = (double)mx / ((double)KEYS / N);
    moved_frac = (double)moved / KEYS;
    want_moved = kind == DS_ROUTE_MODULO ? (double)N / (N + 1) : 1.0 / (N + 1);
    printf("  %-11s %6zu %6zu %7.3f   %6.1f%% (expected %4.1f%%)  %6zu\n", name, mn, mx, spread,
           100 * moved_frac, 100 * want_moved, elsewhere);
    snprintf(msg, sizeof msg, "%s: moved %.3f, expected %.3f +- 30%%", name, moved_frac, want_moved);
    expect(fabs(moved_frac - want_moved) <= 0.3 * want_moved, msg);
    if (kind != DS_ROUTE_MODULO) {
        snprintf(msg, sizeof msg, "%s: %zu keys moved between old shards", name, elsewhere);
        expect(elsewhere == 0, msg);
    }
    snprintf(msg, sizeof msg, "%s: busiest shard %.3f x the mean", name, spread);
    expect(spread <= 1.25, msg);
}

/* The seed's ShardedDatabase with its three strategies, 100 users each. */
static void sharded_database(void) {
    static const ds_range_u64 ranges[4] = {{0, 24, 0}, {25, 49, 1}, {50, 74, 2}, {75, 99, 3}};
    static const ds_prefix_route geo[3] = {{"user_US_", 8, 0}, {"user_EU_", 8, 1}, {"user_ASIA_", 10, 2}};
    static const char *regions[3] = {"US", "EU", "ASIA"};
    ds_router_config c;
    ds_router hash, range, g;
    size_t counts[3][4], i, total;
    int s;
    memset(counts, 0, sizeof counts);
    memset(&c, 0, sizeof c);
    c.kind = DS_ROUTE_MODULO; /* the seed's HashBasedSharding: hash % 4 */
    c.nshards = 4;
    ds_router_init(&hash, &c);
    c.kind = DS_ROUTE_RANGE; /* user_id 0-24 -> shard 0, ... (inclusive bounds) */
    c.ranges = ranges;
    c.nranges = 4;
    ds_router_init(&range, &c);
    memset(&c, 0, sizeof c);
    c.kind = DS_ROUTE_PREFIX; /* GeoBasedSharding: region in the key */
    c.prefixes = geo;
    c.nprefixes = 3;
    c.has_default = 1; /* the seed sends unknown regions to shard 0 */
    c.default_shard = 0;
    ds_router_init(&g, &c);
    for (i = 0; i < 100; i++) {
        char key[32];
        snprintf(key, sizeof key, "user_%zu", i);
        counts[0][route(&hash, key)]++;
        snprintf(key, sizeof key, "%zu", i);
        counts[1][route(&range, key)]++;
        snprintf(key, sizeof key, "user_%s_%zu", i % 10 == 9 ? "AF" : regions[i % 3], i);
        counts[2][route(&g, key)]++;
    }
    printf("\nThe seed's ShardedDatabase, 100 users, one ds_router_route() call each:\n");
    printf("  %-22s %6s %6s %6s %6s\n", "strategy", "shard0", "shard1", "shard2", "shard3");
    printf("  %-22s %6zu %6zu %6zu %6zu\n", "hash (modulo 4)", counts[0][0], counts[0][1], counts[0][2], counts[0][3]);
    printf("  %-22s %6zu %6zu %6zu %6zu\n", "range (ids 0-99)", counts[1][0], counts[1][1], counts[1][2], counts[1][3]);
    printf("  %-22s %6zu %6zu %6zu %6s\n", "geo (US/EU/ASIA, AF)", counts[2][0], counts[2][1], counts[2][2], "-");
    for (s = 0; s < 4; s++) expect(counts[1][s] == 25, "range: 25 ids per shard");
    for (total = 0, s = 0; s < 4; s++) total += counts[0][s];
    expect(total == 100 && counts[0][0] > 10 && counts[0][0] < 40, "hash: 100 users spread");
    /* i % 3 == 0 is US (shard 0), plus the 10 AF users on the default */
    expect(counts[2][0] == 34 - 4 + 10 && counts[2][1] == 33 - 3 && counts[2][2] == 33 - 3, "geo: by region");
    ds_router_free(&hash);
    ds_router_free(&range);
    ds_router_free(&g);
}

int main(void) {
    printf("%d keys over %d shards, then one shard more (%d):\n", KEYS, N, N + 1);
    printf("  %-11s %6s %6s %7s   %-27s %6s\n", "strategy", "min", "max", "max/avg", "keys moved", "elsewhere");
    one_strategy("modulo", DS_ROUTE_MODULO, DS_RING_DEFAULT);
    one_strategy("ring", DS_ROUTE_RING, DS_RING_DEFAULT);
    one_strategy("ketama", DS_ROUTE_RING, DS_RING_KETAMA);
    one_strategy("jump", DS_ROUTE_JUMP, DS_RING_DEFAULT);
    one_strategy("rendezvous", DS_ROUTE_RENDEZVOUS, DS_RING_DEFAULT);
    printf("  (\"elsewhere\": moved keys that did not go to the new shard)\n");
    printf("The seed's ConsistentHashingStrategy is md5(key) %% len(nodes): the modulo row.\n");
    sharded_database();
    if (failures) {
        printf("\n%d check(s) failed\n", failures);
        return 1;
    }
    printf("\nall checks passed\n");
    return 0;
}
