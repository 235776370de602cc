/* examples/cache_cluster_redis.c - seed 003's cache client on real Redis
 * nodes: three redis-servers behind the ketama ring, SQLite as the storage,
 * one node killed mid-run.
 *
 *     client -> ds_redis (ketama over 3 nodes) -> Redis node -> SQLite
 *                 with a per-process DS_LRU in front (ds_redis_cache)
 *
 *   - storage: an SQLite table products(id, price), the source of truth;
 *   - ds_redis_cache: read-through (L1 LRU, then the key's Redis node, then
 *     SQLite), write-through (SQLite, then Redis, then a pub/sub
 *     invalidation of every process's L1);
 *   - the ring: each key lives on the node libketama would pick for the
 *     same "node" strings, so adding a node moves only ~1/n of the keys.
 * The run: 3000 reads of 300 products (hot ones more often) and a price
 * change every 20 reads; after 1500 reads one node is killed. Reads of its
 * keys then fall back to SQLite (slower, still correct) and the others keep
 * hitting. Every read is checked against SQLite: the program exits 0 only
 * if no read returned a stale or wrong price.
 *
 * Needs redis-server (the example starts three in a /tmp folder) and
 * SQLite. Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/cache_cluster_redis.c -o cache_cluster_redis \
 *        -lhiredis -lsqlite3 -lm
 *     ./cache_cluster_redis */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define DS_IMPLEMENTATION
#include "ds_redis.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "local_redis.h" /* a private redis-server (shared by the Redis examples) */

#define PRODUCTS 300
static sqlite3 *db;
static int db_reads;

static ds_status load_price(void *ctx, const void *key, size_t len, const void **val, size_t *vlen) {
    static char buf[32];
    sqlite3_stmt *st;
    ds_status rc = DS_ENOTFOUND;
    (void)ctx;
    db_reads++;
    sqlite3_prepare_v2(db, "SELECT price FROM products WHERE id = ?", -1, &st, NULL);
    sqlite3_bind_text(st, 1, (const char *)key, (int)len, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(buf, sizeof buf, "%d", sqlite3_column_int(st, 0));
        *val = buf;
        *vlen = strlen(buf);
        rc = DS_OK;
    }
    sqlite3_finalize(st);
    return rc;
}
static int db_price(const char *id) {
    sqlite3_stmt *st;
    int p = -1;
    sqlite3_prepare_v2(db, "SELECT price FROM products WHERE id = ?", -1, &st, NULL);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) p = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return p;
}
static void db_set(const char *id, int price) {
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "UPDATE products SET price = ? WHERE id = ?", -1, &st, NULL);
    sqlite3_bind_int(st, 1, price);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

int main(void) {
    local_redis srv[3];
    static const char *const names[3] = {"node1", "node2", "node3"};
    const char *nodes[3];
    char dbpath[96];
    ds_redis r;
    ds_redis_config rc;
    ds_redis_cache cache;
    ds_redis_cache_config cc;
    ds_rng rng;
    int i, wrong = 0, reads = 0, dbr_before = 0, dbr_after = 0;
    memset(srv, 0, sizeof srv);
    for (i = 0; i < 3; i++) {
        if (i) strcpy(srv[i].dir, srv[0].dir);
        if (!local_redis_start(&srv[i], names[i])) {
            printf("redis-server not found or did not start (Debian: apt-get install redis-server); nothing to show\n");
            while (i-- > 0) local_redis_stop(&srv[i]);
            local_redis_cleanup(&srv[0], names, 3);
            return 0;
        }
        nodes[i] = srv[i].sock;
    }
    snprintf(dbpath, sizeof dbpath, "%s/store.db", srv[0].dir);
    sqlite3_open(dbpath, &db);
    sqlite3_exec(db, "CREATE TABLE products(id TEXT PRIMARY KEY, price INTEGER); BEGIN", NULL, NULL, NULL);
    for (i = 0; i < PRODUCTS; i++) {
        char q[96];
        snprintf(q, sizeof q, "INSERT INTO products VALUES('sku%d', %d)", i, 100 + i);
        sqlite3_exec(db, q, NULL, NULL, NULL);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

    memset(&rc, 0, sizeof rc);
    rc.mode = DS_REDIS_SHARDED;
    rc.nodes = nodes;
    rc.n_nodes = 3;
    rc.command_timeout_ns = 200000000;
    rc.backoff_max_ns = 1000000000;
    memset(&cc, 0, sizeof cc);
    cc.name = "products";
    cc.l1_max_entries = 50;        /* a small L1: most reads go to Redis */
    cc.l1_ttl_ns = 1000000000;
    if (ds_redis_init(&r, &rc) != DS_OK || ds_redis_cache_init(&cache, &r, &cc) != DS_OK) {
        printf("cannot open the cache: %s\n", ds_redis_errstr(&r));
        return 1;
    }
    ds_rng_seed(&rng, 3);
    for (reads = 0; reads < 3000; reads++) {
        char id[16];
        const void *v;
        size_t vl;
        int k = (int)(ds_rng_below(&rng, 4) == 0 ? ds_rng_below(&rng, PRODUCTS) : ds_rng_below(&rng, 30));
        snprintf(id, sizeof id, "sku%d", k);
        if (reads == 1500) {
            local_redis_stop(&srv[1]);
            printf("-- %s killed after %d reads (%d SQLite loads so far)\n", names[1], reads, db_reads);
            dbr_before = db_reads;
        }
        if (reads % 20 == 0) { /* a price change, written through */
            int np = 1000 + reads;
            db_set(id, np);
            char pv[16];
            snprintf(pv, sizeof pv, "%d", np);
            ds_redis_cache_set(&cache, id, strlen(id), pv, strlen(pv), ds_now_ns()); /* DS_EIO on the dead node */
        }
        if (ds_redis_cache_get(&cache, id, strlen(id), ds_now_ns(), load_price, NULL, &v, &vl) != DS_OK || vl > 15) {
            wrong++;
        } else {
            char got[16];
            memcpy(got, v, vl);
            got[vl] = 0;
            wrong += atoi(got) != db_price(id);
        }
    }
    dbr_after = db_reads - dbr_before;
    printf("%d reads of %d products: L1 hits %llu, Redis hits %llu, SQLite loads %d (%d after the kill)\n",
           reads, PRODUCTS, (unsigned long long)cache.stats.l1_hits, (unsigned long long)cache.stats.l2_hits,
           db_reads, dbr_after);
    printf("wrong or stale reads: %d\n", wrong);
    ds_redis_cache_free(&cache);
    ds_redis_free(&r);
    sqlite3_close(db);
    for (i = 0; i < 3; i++) local_redis_stop(&srv[i]);
    unlink(dbpath);
    local_redis_cleanup(&srv[0], names, 3);
    return wrong ? 1 : 0;
}
