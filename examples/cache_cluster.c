/* examples/cache_cluster.c - a sharded cache cluster in front of a real
 * database: the seed's flow (003, "mock LLD of in-memory cache")
 *
 *     client -> shard router -> cache node (LRU + TTL) -> storage
 *
 * with the pieces from ds.h:
 *   - storage: an SQLite database file (table kv), the source of truth;
 *   - cache nodes: three DS_LRU caches (50 entries each, 30 s TTL);
 *   - shard router: ds_router over a ds_ring, so adding a node moves only
 *     the keys the new node takes over (the seed's "consistent hashing" is
 *     md5 % n, which would move 3/4 of them: see examples/sharding.c);
 *   - client: read-through get (a miss loads from storage once and caches
 *     it: DS_LRU's get_or_load), set with a write strategy, invalidate.
 *
 * Write strategies:
 *   write-through  write storage, then put the value in the key's node:
 *                  the next read hits and is fresh.
 *   write-around   write storage, then drop the key's cached copy: the
 *                  next read misses and loads the new value (textbook
 *                  write-around; the seed's CacheClient.set also puts the
 *                  value in the node before either strategy runs, which
 *                  makes its write-around behave as write-through).
 *
 * Staleness, by design: a write that bypasses the client (another service
 * updating the database directly) is not seen by the cache until the cached
 * copy expires. TTL bounds it: a copy loaded before the external write is
 * gone 30 s (of simulated time) after it. The program checks that every
 * read returns what storage holds, except exactly those reads, and that
 * the hit and miss counts are the expected ones. It exits non-zero
 * otherwise. The database file is deleted at the end.
 *
 * Build and run from the repository root (Debian: apt-get install
 * libsqlite3-dev):
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/cache_cluster.c -o cache_cluster -lsqlite3 -lm
 *     ./cache_cluster */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC ((int64_t)1000000000)
#define TTL (30 * SEC)
#define NODES_MAX 4
#define KEYS 200

typedef struct ckey {
    char s[32];
} ckey;
typedef struct cval {
    char s[48];
} cval;
static uint64_t ckey_hash(ckey k, uint64_t seed) { return ds_hash_str(k.s, seed); }
static int ckey_eq(ckey a, ckey b) { return strcmp(a.s, b.s) == 0; }
DS_LRU(cnode, ckey, cval, ckey_hash, ckey_eq)

static int failures;
static void expect(int ok, const char *what) {
    if (!ok) {
        printf("  CHECK FAILED: %s\n", what);
        failures++;
    }
}
static void die(const char *what, const char *why) {
    fprintf(stderr, "cache_cluster: %s: %s\n", what, why);
    exit(1);
}

/* ---- storage: SQLite ---------------------------------------------------- */

typedef struct storage {
    sqlite3 *db;
    sqlite3_stmt *get, *put;
    long reads, writes;
} storage;

static void storage_open(storage *st, const char *path) {
    memset(st, 0, sizeof *st);
    remove(path);
    if (sqlite3_open(path, &st->db) != SQLITE_OK) die("sqlite3_open", sqlite3_errmsg(st->db));
    if (sqlite3_exec(st->db,
                     "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;"
                     "CREATE TABLE kv(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        die("create", sqlite3_errmsg(st->db));
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM kv WHERE key = ?", -1, &st->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO kv(key, value) VALUES(?, ?)", -1, &st->put, NULL) !=
            SQLITE_OK)
        die("prepare", sqlite3_errmsg(st->db));
}
static void storage_close(storage *st) {
    sqlite3_finalize(st->get);
    sqlite3_finalize(st->put);
    sqlite3_close(st->db);
}
/* 1 and the value if the key is stored, else 0. */
static int storage_get(storage *st, const char *key, cval *out) {
    int rc, found = 0;
    st->reads++;
    sqlite3_reset(st->get);
    sqlite3_bind_text(st->get, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st->get);
    if (rc == SQLITE_ROW) {
        snprintf(out->s, sizeof out->s, "%s", (const char *)sqlite3_column_text(st->get, 0));
        found = 1;
    } else if (rc != SQLITE_DONE) {
        die("select", sqlite3_errmsg(st->db));
    }
    sqlite3_reset(st->get);
    return found;
}
static void storage_put(storage *st, const char *key, const char *val) {
    st->writes++;
    sqlite3_reset(st->put);
    sqlite3_bind_text(st->put, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st->put, 2, val, -1, SQLITE_STATIC);
    if (sqlite3_step(st->put) != SQLITE_DONE) die("insert", sqlite3_errmsg(st->db));
    sqlite3_reset(st->put);
}

/* ---- the cluster and its client ----------------------------------------- */

typedef enum { WRITE_THROUGH, WRITE_AROUND } write_strategy;

typedef struct cluster {
    cnode nodes[NODES_MAX];   /* indexed by ring node id */
    ds_ring ring;
    ds_router router;
    storage *db;
} cluster;

static void add_node(cluster *c, const char *name) {
    cnode_config cfg;
    uint32_t id;
    if (ds_ring_add(&c->ring, name, strlen(name), 1, &id) != DS_OK || id >= NODES_MAX) die("ring", name);
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = 50;
    cfg.default_ttl = TTL; /* expire-after-write */
    cfg.seed = 7;
    if (cnode_init(&c->nodes[id], &cfg) != DS_OK) die("cache", name);
}
static void cluster_init(cluster *c, storage *db) {
    ds_router_config rc;
    memset(c, 0, sizeof *c);
    c->db = db;
    if (ds_ring_init(&c->ring, NULL) != DS_OK) die("ring", "init");
    add_node(c, "cache-a");
    add_node(c, "cache-b");
    add_node(c, "cache-c");
    memset(&rc, 0, sizeof rc);
    rc.kind = DS_ROUTE_RING; /* the router borrows the ring: nodes added later count */
    rc.ring = &c->ring;
    if (ds_router_init(&c->router, &rc) != DS_OK) die("router", "init");
}
static void cluster_free(cluster *c) {
    uint32_t id;
    for (id = ds_ring_first(&c->ring); id != DS_RING_NONE; id = ds_ring_next(&c->ring, id)) cnode_free(&c->nodes[id]);
    ds_router_free(&c->router);
    ds_ring_free(&c->ring);
}
static ckey mkkey(const char *s) {
    ckey k;
    memset(&k, 0, sizeof k);
    snprintf(k.s, sizeof k.s, "%s", s);
    return k;
}
static cnode *node_of(cluster *c, const char *key) {
    uint32_t shard;
    if (ds_router_route(&c->router, key, strlen(key), &shard) != DS_OK) die("route", key);
    return &c->nodes[shard];
}

/* Read-through: the loader runs on a miss, once, and its value is cached. */
static ds_status load_from_storage(void *lctx, ckey const *key, cval *out, int64_t *ttl) {
    (void)ttl; /* the node's default TTL */
    return storage_get((storage *)lctx, key->s, out) ? DS_OK : DS_ENOTFOUND;
}
/* 1 and the value, or 0 if storage has no such key. */
static int client_get(cluster *c, const char *key, int64_t now, cval *out) {
    cval *v = NULL;
    ds_status st = cnode_get_or_load(node_of(c, key), mkkey(key), now, load_from_storage, c->db, &v);
    if (st == DS_ENOTFOUND) return 0;
    if (st != DS_OK) die("get", ds_strerror(st));
    *out = *v;
    return 1;
}
static void client_set(cluster *c, const char *key, const char *val, write_strategy ws, int64_t now) {
    cnode *n = node_of(c, key);
    storage_put(c->db, key, val); /* storage first: a failure leaves no cached-only value */
    if (ws == WRITE_THROUGH) {
        cval v;
        snprintf(v.s, sizeof v.s, "%s", val);
        if (cnode_put(n, mkkey(key), v, now) != DS_OK) die("put", key);
    } else {
        cnode_del(n, mkkey(key), NULL, now);
    }
}
/* Invalidation removes whatever is cached, live or expired (now = 0 finds it live). */
static void client_invalidate(cluster *c, const char *key) { cnode_del(node_of(c, key), mkkey(key), NULL, 0); }

static ds_cache_stats cluster_stats(const cluster *c) {
    ds_cache_stats t;
    uint32_t id;
    memset(&t, 0, sizeof t);
    for (id = ds_ring_first(&c->ring); id != DS_RING_NONE; id = ds_ring_next(&c->ring, id)) {
        ds_cache_stats s = cnode_stats(&c->nodes[id]);
        t.hits += s.hits;
        t.misses += s.misses;
    }
    return t;
}

/* ---- the runs ------------------------------------------------------------ */

/* Reads and checks one key against storage; returns 1 on a hit. */
static int read_check(cluster *c, const char *key, int64_t now, const char *want_or_null, const char *what) {
    ds_cache_stats before = cluster_stats(c), after;
    cval got, truth;
    int has = client_get(c, key, now, &got);
    char msg[160];
    after = cluster_stats(c);
    if (want_or_null) {
        snprintf(msg, sizeof msg, "%s: %s read '%s', expected '%s'", what, key, has ? got.s : "(none)", want_or_null);
        expect(has && strcmp(got.s, want_or_null) == 0, msg);
    } else { /* no staleness expected: what storage holds */
        long reads = c->db->reads;
        int in_db = storage_get(c->db, key, &truth);
        c->db->reads = reads; /* the check's own read does not count */
        snprintf(msg, sizeof msg, "%s: %s read '%s', storage has '%s'", what, key, has ? got.s : "(none)",
                 in_db ? truth.s : "(none)");
        expect(has == in_db && (!has || strcmp(got.s, truth.s) == 0), msg);
    }
    return after.hits > before.hits;
}

static void seed_scenario(cluster *c, int64_t now) {
    ds_cache_stats s0 = cluster_stats(c), s1;
    long reads0 = c->db->reads;
    printf("The seed's example, then write-through:\n");
    client_set(c, "user:1", "Kuntal", WRITE_AROUND, now);
    client_set(c, "user:2", "Alice", WRITE_AROUND, now);
    printf("  get user:1 -> %s\n", read_check(c, "user:1", now, "Kuntal", "seed") ? "HIT" : "MISS, loaded from storage");
    printf("  get user:1 -> %s\n", read_check(c, "user:1", now, "Kuntal", "seed") ? "HIT" : "MISS");
    client_invalidate(c, "user:1");
    printf("  invalidate user:1; get user:1 -> %s\n",
           read_check(c, "user:1", now, "Kuntal", "seed") ? "HIT" : "MISS, loaded from storage");
    client_set(c, "user:2", "Alicia", WRITE_THROUGH, now);
    printf("  set user:2 (write-through); get user:2 -> %s\n",
           read_check(c, "user:2", now, "Alicia", "seed") ? "HIT" : "MISS");
    client_set(c, "user:2", "Ally", WRITE_AROUND, now);
    printf("  set user:2 (write-around);  get user:2 -> %s\n",
           read_check(c, "user:2", now, "Ally", "seed") ? "HIT" : "MISS, loaded from storage");
    expect(!read_check(c, "user:404", now, NULL, "seed"), "a key storage lacks is a miss");
    s1 = cluster_stats(c);
    /* misses: user:1 twice, user:2 after write-around, user:404; hits: user:1, user:2 */
    expect(s1.hits - s0.hits == 2 && s1.misses - s0.misses == 4, "seed scenario: 2 hits, 4 misses");
    expect(c->db->reads - reads0 == 4, "seed scenario: one storage read per miss");
}

/* Random reads, writes (both strategies) and invalidations over 200 keys
 * on a simulated clock; no external writes, so every read is fresh. The
 * hit/miss expectation for each read comes from peeking at the key's node
 * first. */
static void workload(cluster *c, int64_t *now) {
    ds_rng rng;
    ds_cache_stats s0 = cluster_stats(c), s1;
    long reads0 = c->db->reads, want_hits = 0, want_misses = 0, ops, i;
    char key[32], val[48];
    ds_rng_seed(&rng, 3);
    for (i = 0; i < KEYS; i++) { /* storage starts with every key */
        snprintf(key, sizeof key, "item:%ld", i);
        snprintf(val, sizeof val, "v0-%ld", i);
        storage_put(c->db, key, val);
    }
    for (ops = 0; ops < 6000; ops++) {
        /* skewed keys: a hot fifth gets most of the traffic */
        long k = ds_rng_below(&rng, 4) ? (long)ds_rng_below(&rng, KEYS / 5) : (long)ds_rng_below(&rng, KEYS);
        unsigned op = (unsigned)ds_rng_below(&rng, 100);
        *now += SEC / 10;
        snprintf(key, sizeof key, "item:%ld", k);
        if (op < 80) {
            int cached = cnode_peek(node_of(c, key), mkkey(key), *now) != NULL;
            int hit = read_check(c, key, *now, NULL, "workload");
            expect(hit == cached, "a read hits exactly when the key's node holds it");
            want_hits += cached;
            want_misses += !cached;
        } else if (op < 95) {
            snprintf(val, sizeof val, "v%ld-%ld", ops, k);
            client_set(c, key, val, op < 88 ? WRITE_THROUGH : WRITE_AROUND, *now);
        } else {
            client_invalidate(c, key);
        }
    }
    s1 = cluster_stats(c);
    printf("Workload: %ld reads over %d keys on 3 nodes of 50: %llu hits, %llu misses (%.0f%% hit rate), %ld storage reads\n",
           want_hits + want_misses, KEYS, (unsigned long long)(s1.hits - s0.hits),
           (unsigned long long)(s1.misses - s0.misses),
           100.0 * (double)(s1.hits - s0.hits) / (double)(want_hits + want_misses), c->db->reads - reads0);
    expect((long)(s1.hits - s0.hits) == want_hits && (long)(s1.misses - s0.misses) == want_misses,
           "workload: hits and misses as predicted");
    expect(c->db->reads - reads0 == want_misses, "workload: one storage read per miss");
    /* every cached copy lives on the key's own node */
    for (i = 0; i < KEYS; i++) {
        uint32_t id;
        cnode *home;
        snprintf(key, sizeof key, "item:%ld", i);
        home = node_of(c, key);
        for (id = ds_ring_first(&c->ring); id != DS_RING_NONE; id = ds_ring_next(&c->ring, id))
            if (&c->nodes[id] != home) expect(cnode_peek(&c->nodes[id], mkkey(key), *now) == NULL, "a key cached off its node");
    }
}

/* An external write: stale until the TTL runs out. */
static void staleness(cluster *c, int64_t *now) {
    cval v;
    int64_t loaded;
    printf("External write (bypassing the cache):\n");
    client_set(c, "price:42", "9.99", WRITE_AROUND, *now);
    client_get(c, "price:42", *now, &v); /* cached now, TTL from here */
    loaded = *now;
    storage_put(c->db, "price:42", "12.49"); /* another service writes the database */
    *now += 10 * SEC;
    expect(read_check(c, "price:42", *now, "9.99", "stale by design"), "stale read is a hit");
    printf("  10 s later: price:42 = %s from the cache (stale by design; storage has 12.49)\n", "9.99");
    *now = loaded + TTL; /* the copy's deadline: gone */
    expect(!read_check(c, "price:42", *now, "12.49", "after TTL"), "after the TTL the read misses");
    printf("  30 s after loading: TTL expired, miss, price:42 = 12.49 from storage\n");
    client_set(c, "price:42", "11.00", WRITE_THROUGH, *now); /* through the client: fresh at once */
    expect(read_check(c, "price:42", *now, "11.00", "write-through"), "write-through read hits");
}

/* A fourth node: about a quarter of the keys move to it and miss once. */
static void grow(cluster *c, int64_t *now) {
    char key[32];
    long i, moved = 0, moved_hits = 0;
    uint32_t before[KEYS], s;
    for (i = 0; i < KEYS; i++) { /* warm every key on its node */
        snprintf(key, sizeof key, "item:%ld", i);
        read_check(c, key, *now, NULL, "warm");
        ds_router_route(&c->router, key, strlen(key), &before[i]);
    }
    add_node(c, "cache-d");
    for (i = 0; i < KEYS; i++) {
        int hit;
        snprintf(key, sizeof key, "item:%ld", i);
        ds_router_route(&c->router, key, strlen(key), &s);
        hit = read_check(c, key, *now, NULL, "after growth");
        if (s != before[i]) {
            moved++;
            moved_hits += hit;
            expect(s == 3, "a key moved between old nodes");
        }
    }
    printf("Added cache-d: %ld of %d keys moved to it (expected about 1/4), each missed once\n", moved, KEYS);
    expect(moved > KEYS / 8 && moved < KEYS * 3 / 8 && moved_hits == 0, "growth: ~1/4 moved, all cold");
    /* (their old copies stay on the old nodes until evicted or expired; a
     * cluster that later shrinks back should flush them, or they could
     * come back stale) */
}

int main(void) {
    char path[256];
    const char *dir = getenv("TMPDIR");
    storage db;
    cluster c;
    int64_t now = 1000 * SEC;
    snprintf(path, sizeof path, "%s/ds_cache_cluster_%ld.db", dir && *dir ? dir : "/tmp", (long)(ds_now_ns() % 1000000007));
    storage_open(&db, path);
    cluster_init(&c, &db);
    seed_scenario(&c, now);
    workload(&c, &now);
    staleness(&c, &now);
    grow(&c, &now);
    cluster_free(&c);
    storage_close(&db);
    if (remove(path) != 0) {
        printf("could not delete %s\n", path);
        failures++;
    }
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed; %ld storage reads, %ld writes; %s deleted\n", db.reads, db.writes, path);
    return 0;
}
