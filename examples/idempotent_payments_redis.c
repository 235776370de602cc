/* examples/idempotent_payments_redis.c - charge once across servers, even
 * when a worker dies mid-payment (ds_redis_idem + a SQLite ledger).
 *
 * A payment request (account acct_42, Idempotency-Key pay-7f3a, 1000 cents)
 * reaches several API servers (worker processes sharing one Redis):
 *   1. worker A begins (NEW, token tA), writes the charge to the ledger
 *      (with the key and its token), and is killed before it completes;
 *   2. the client retries at once on worker B: IN_FLIGHT, "409 retry later";
 *   3. after the lock timeout the retry on worker C takes the key over (NEW,
 *      token tC > tA), finds A's charge in the ledger by the key (the side
 *      effect is fenced by the key, so it is not repeated), and completes
 *      with its response;
 *   4. every later retry is answered from the stored response (DONE);
 *   5. a late complete with A's dead token is refused (DS_ENOTFOUND now that
 *      the key is done; DS_EMISMATCH while a newer owner holds it).
 * Exits 0 when the ledger holds exactly one charge and every retry after
 * completion got the stored response.
 *
 * Needs a local redis-server (the example starts its own in a /tmp folder)
 * and SQLite. Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/idempotent_payments_redis.c -o idempotent_payments_redis \
 *        -lhiredis -lsqlite3 -lm
 *     ./idempotent_payments_redis */
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

#define LOCK_MS 300
static const char *ACCT = "acct_42", *KEY = "pay-7f3a", *BODY = "{\"amount\": 1000}";

static int open_all(const char *sock, ds_redis *r, ds_redis_idem *s) {
    ds_redis_config rc;
    ds_redis_idem_config ic;
    const char *nodes[1];
    memset(&rc, 0, sizeof rc);
    nodes[0] = sock;
    rc.nodes = nodes;
    rc.n_nodes = 1;
    memset(&ic, 0, sizeof ic);
    ic.lock_timeout_ns = (int64_t)LOCK_MS * 1000000;
    ic.name = "payments";
    return ds_redis_init(r, &rc) == DS_OK && ds_redis_idem_init(s, r, &ic) == DS_OK;
}

/* The side effect, fenced by the idempotency key: the ledger's primary key
 * is (account, key), so a takeover finds the first owner's charge instead
 * of charging again. Returns the charge id (or -1). */
static long long charge(sqlite3 *db, uint64_t token) {
    sqlite3_stmt *st;
    long long id = -1;
    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO charges(acct, idem_key, cents, token) VALUES(?, ?, 1000, ?)", -1,
                       &st, NULL);
    sqlite3_bind_text(st, 1, ACCT, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, KEY, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)token);
    sqlite3_step(st);
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT rowid FROM charges WHERE acct = ? AND idem_key = ?", -1, &st, NULL);
    sqlite3_bind_text(st, 1, ACCT, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, KEY, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return id;
}

/* One API server handling the request; die_after_charge simulates a crash.
 * Returns 0 on NEW+complete, 1 on IN_FLIGHT, 2 on DONE (resp filled). */
static int handle(const char *sock, const char *dbpath, int die_after_charge, char *resp, size_t cap,
                  uint64_t *token_out) {
    ds_redis r;
    ds_redis_idem s;
    ds_idem_state state = DS_IDEM_MISMATCH;
    uint64_t token = 0, fp = ds_hash_bytes(BODY, strlen(BODY), 0);
    const void *stored;
    size_t len;
    int rc = -1;
    if (!open_all(sock, &r, &s)) return -1;
    if (ds_redis_idem_begin(&s, ACCT, strlen(ACCT), KEY, strlen(KEY), fp, DS_REDIS_NOW_SERVER, &state, &token,
                            &stored, &len) == DS_OK) {
        if (token_out) *token_out = token;
        if (state == DS_IDEM_NEW) {
            sqlite3 *db;
            long long id;
            sqlite3_open(dbpath, &db);
            sqlite3_busy_timeout(db, 2000);
            id = charge(db, token);
            sqlite3_close(db);
            if (die_after_charge) raise(SIGKILL); /* the worker dies here */
            snprintf(resp, cap, "201 charged (charge #%lld)", id);
            rc = ds_redis_idem_complete(&s, ACCT, strlen(ACCT), KEY, strlen(KEY), token, resp, strlen(resp)) == DS_OK
                     ? 0 : -1;
        } else if (state == DS_IDEM_IN_FLIGHT) {
            snprintf(resp, cap, "409 in progress, retry later");
            rc = 1;
        } else if (state == DS_IDEM_DONE) {
            snprintf(resp, cap, "%.*s", (int)len, (const char *)stored);
            rc = 2;
        }
    }
    ds_redis_idem_free(&s);
    ds_redis_free(&r);
    return rc;
}

int main(void) {
    local_redis srv;
    static const char *const names[1] = {"payments"};
    char dbpath[96], resp[128], first[128];
    sqlite3 *db;
    pid_t pid;
    int status, ok = 1, i, charges = -1;
    uint64_t ta = 0;
    memset(&srv, 0, sizeof srv);
    if (!local_redis_start(&srv, "payments")) {
        printf("redis-server not found or did not start (Debian: apt-get install redis-server); nothing to show\n");
        local_redis_cleanup(&srv, names, 1);
        return 0;
    }
    snprintf(dbpath, sizeof dbpath, "%s/ledger.db", srv.dir);
    sqlite3_open(dbpath, &db);
    sqlite3_exec(db, "CREATE TABLE charges(acct TEXT, idem_key TEXT, cents INTEGER, token INTEGER,"
                     " PRIMARY KEY(acct, idem_key))", NULL, NULL, NULL);
    sqlite3_close(db);

    /* 1. worker A: charges, then is killed before completing */
    pid = fork();
    if (pid == 0) _exit(handle(srv.sock, dbpath, 1, resp, sizeof resp, NULL) == 0 ? 0 : 1);
    waitpid(pid, &status, 0);
    printf("worker A: %s\n", WIFSIGNALED(status) ? "killed mid-payment (charged, not completed)" : "?");
    ok &= WIFSIGNALED(status);
    /* 2. immediate retry on worker B */
    i = handle(srv.sock, dbpath, 0, resp, sizeof resp, NULL);
    printf("retry on worker B at once: %s\n", resp);
    ok &= i == 1;
    /* 3. after the lock timeout: worker C takes over */
    nap_ms(LOCK_MS + 50);
    i = handle(srv.sock, dbpath, 0, first, sizeof first, &ta);
    printf("retry on worker C after %d ms: takes over (token %llu): %s\n", LOCK_MS, (unsigned long long)ta, first);
    ok &= i == 0;
    /* 4. later retries replay the stored response */
    for (i = 0; i < 3; i++) {
        int rc = handle(srv.sock, dbpath, 0, resp, sizeof resp, NULL);
        printf("retry %d: %s%s\n", i + 1, resp, rc == 2 ? " (replayed)" : "");
        ok &= rc == 2 && strcmp(resp, first) == 0;
    }
    /* 5. a stale owner's complete is refused */
    {
        ds_redis r;
        ds_redis_idem s;
        if (open_all(srv.sock, &r, &s)) {
            ds_status st = ds_redis_idem_complete(&s, ACCT, strlen(ACCT), KEY, strlen(KEY), ta - 1, "stale", 5);
            printf("a late complete with an older token: %s\n", ds_status_name(st));
            ok &= st == DS_EMISMATCH || st == DS_ENOTFOUND;
            ds_redis_idem_free(&s);
            ds_redis_free(&r);
        }
    }
    sqlite3_open(dbpath, &db);
    {
        sqlite3_stmt *st;
        sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM charges", -1, &st, NULL);
        if (sqlite3_step(st) == SQLITE_ROW) charges = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    printf("charges in the ledger: %d\n", charges);
    ok &= charges == 1;
    local_redis_stop(&srv);
    unlink(dbpath);
    local_redis_cleanup(&srv, names, 1);
    printf(ok ? "ok: exactly one charge\n" : "FAILED\n");
    return ok ? 0 : 1;
}
