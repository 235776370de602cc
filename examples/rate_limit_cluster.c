/* examples/rate_limit_cluster.c - one client's rate limit shared by every
 * server of an API (ds_redis_limiter, GCRA on Redis).
 *
 * Four worker processes (four API servers) receive requests from the same
 * client "acme" as fast as they can for half a second and ask one shared
 * limiter: 200 requests per second, bursts of 20. Each logs its requests'
 * times and decisions; at the end the parent replays every request, in
 * time order, through ONE in-process ds_limiter with the same config and
 * compares the totals: the four servers together admitted what a single
 * limiter would have, and never more than burst + rate x time.
 *
 * Needs a local redis-server: the example starts its own on a unix socket
 * in a /tmp folder (no persistence) and stops it at the end.
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/rate_limit_cluster.c -o rate_limit_cluster -lhiredis -lm
 *     ./rate_limit_cluster */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define DS_IMPLEMENTATION
#include "ds_redis.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "local_redis.h" /* a private redis-server (shared by the Redis examples) */

#define WORKERS 4
#define MAXREQ 400000
typedef struct req {
    int64_t now;
    int admitted;
} req;

static const ds_limit_config cfg = {200, DS_LIMIT_GCRA, 1000000000, 20};

static int worker(const char *sock, int fd, int64_t until) {
    ds_redis r;
    ds_redis_config rc;
    ds_redis_limiter l;
    ds_redis_limiter_config lc;
    const char *nodes[1];
    req *log = (req *)malloc(MAXREQ * sizeof *log);
    size_t n = 0;
    memset(&rc, 0, sizeof rc);
    nodes[0] = sock;
    rc.nodes = nodes;
    rc.n_nodes = 1;
    memset(&lc, 0, sizeof lc);
    lc.limit = cfg;
    lc.name = "api";
    lc.on_error = DS_REDIS_FAIL_CLOSED;
    if (!log || ds_redis_init(&r, &rc) != DS_OK || ds_redis_limiter_init(&l, &r, &lc) != DS_OK) return 1;
    while (ds_now_ns() < until && n < MAXREQ) {
        int64_t now = ds_wall_ns(); /* one machine: one clock for all workers */
        ds_status st = ds_redis_limiter_allow(&l, "acme", 4, 1, now);
        if (st != DS_OK && st != DS_EREFUSED) return 2;
        log[n].now = now;
        log[n].admitted = st == DS_OK;
        n++;
    }
    if (write(fd, log, n * sizeof *log) != (ssize_t)(n * sizeof *log)) return 3;
    free(log);
    ds_redis_free(&r);
    return 0;
}

static int by_time(const void *a, const void *b) {
    int64_t x = ((const req *)a)->now, y = ((const req *)b)->now;
    return x < y ? -1 : x > y;
}

int main(void) {
    local_redis srv;
    static const char *const names[1] = {"limits"};
    char path[96];
    pid_t pids[WORKERS];
    int i, ok = 1, status;
    int64_t until;
    req *all;
    size_t n = 0, admitted = 0, single = 0;
    FILE *f;
    ds_limiter one;
    memset(&srv, 0, sizeof srv);
    if (!local_redis_start(&srv, "limits")) {
        printf("redis-server not found or did not start (Debian: apt-get install redis-server); nothing to show\n");
        local_redis_cleanup(&srv, names, 1);
        return 0;
    }
    snprintf(path, sizeof path, "%s/requests.bin", srv.dir);
    until = ds_now_ns() + 500000000;
    for (i = 0; i < WORKERS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            FILE *o = fopen(path, "ab");
            int rc = o ? worker(srv.sock, fileno(o), until) : 4;
            if (o) fclose(o);
            _exit(rc);
        }
    }
    for (i = 0; i < WORKERS; i++) {
        waitpid(pids[i], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = 0;
    }
    local_redis_stop(&srv);
    all = (req *)malloc((size_t)WORKERS * MAXREQ * sizeof *all);
    f = fopen(path, "rb");
    if (all && f) n = fread(all, sizeof *all, (size_t)WORKERS * MAXREQ, f);
    if (f) fclose(f);
    unlink(path);
    local_redis_cleanup(&srv, names, 1);
    if (!ok || !all || n == 0) {
        printf("a worker failed\n");
        free(all);
        return 1;
    }
    qsort(all, n, sizeof *all, by_time);
    ds_limiter_init(&one, &cfg, NULL);
    for (i = 0; (size_t)i < n; i++) {
        admitted += (size_t)all[i].admitted;
        single += ds_limiter_allow(&one, 1, all[i].now) == DS_OK;
    }
    {
        double secs = (double)(all[n - 1].now - all[0].now) / 1e9;
        double bound = (double)cfg.burst + (double)cfg.limit * secs;
        long diff = (long)admitted - (long)single;
        printf("%d API servers, %zu requests from client \"acme\" in %.3f s\n", WORKERS, n, secs);
        printf("admitted by the shared Redis limiter: %zu\n", admitted);
        printf("admitted by one in-process ds_limiter on the same requests: %zu (difference %ld)\n", single, diff);
        printf("bound burst + rate x time: %.1f\n", bound);
        /* The servers' requests reach Redis in a slightly different order
         * than their timestamps, which can move a boundary decision by one. */
        ok = (double)admitted <= bound && diff >= -2 && diff <= 2;
    }
    ds_limiter_free(&one);
    free(all);
    printf(ok ? "ok: the servers together admitted what one limiter admits\n" : "FAILED\n");
    return ok ? 0 : 1;
}
