/* bench/bench_redis.c - ds_redis.h's distributed GCRA and token bucket on a
 * local redis-server (started here on a unix socket, no persistence):
 * decisions per second and p50/p99 latency per call, one decision per
 * round trip and pipelined batches of 16 and 64 keys, beside
 *   (a) a seed-style token bucket script sent with EVAL on every call (the
 *       seed's DistributedTokenBucket as usually written: HMGET tokens and
 *       last refill, float refill, HMSET, EXPIRE; reconstructed here), and
 *   (b) redis-benchmark's INCR and SET at the same pipeline depth on the
 *       same server (the roof: one Redis core).
 * Keys: 10,000 distinct, random; time: the server's TIME.
 *     bench/bin/bench_redis [--quick]
 * Needs redis-server and redis-benchmark (Debian redis-server, redis-tools). */
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

static char dir[64], sock[128];
static pid_t srv;

static void nap_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}
static int start_server(void) {
    int i;
    char d[64];
    strcpy(dir, "/tmp/ds-bench-redis-XXXXXX");
    if (!mkdtemp(dir)) return 0;
    memcpy(d, dir, sizeof d);
    snprintf(sock, sizeof sock, "%s/r.sock", d);
    srv = fork();
    if (srv == 0) {
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly",
               "no", "--dir", d, "--logfile", "/dev/null", (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 300; i++) {
        redisContext *c = redisConnectUnix(sock);
        int up = c && !c->err;
        if (c) redisFree(c);
        if (up) return 1;
        nap_ms(10);
    }
    return 0;
}
static void stop_server(void) {
    if (srv > 0) {
        kill(srv, SIGKILL);
        waitpid(srv, NULL, 0);
    }
    unlink(sock);
    rmdir(dir);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
typedef struct result {
    double per_sec, p50_us, p99_us;
} result;
static result summarize(double *lat, size_t n, double total_ns, size_t decisions) {
    result r;
    qsort(lat, n, sizeof *lat, cmp_d);
    r.per_sec = (double)decisions / (total_ns / 1e9);
    r.p50_us = lat[n / 2] / 1e3;
    r.p99_us = lat[(size_t)((double)n * 0.99)] / 1e3;
    return r;
}

static char keys[10000][16];
static size_t klen[10000];

static result run_ds(ds_redis *r, ds_limit_algo algo, int depth, size_t decisions) {
    ds_redis_limiter l;
    ds_redis_limiter_config lc;
    size_t calls = decisions / (size_t)depth, i, j;
    double *lat = (double *)malloc(calls * sizeof *lat);
    int64_t t0 = ds_now_ns();
    ds_rng rng;
    result res;
    memset(&lc, 0, sizeof lc);
    lc.limit.limit = 100;
    lc.limit.algo = algo;
    lc.limit.period_ns = 1000000000;
    lc.limit.burst = 20;
    lc.name = algo == DS_LIMIT_GCRA ? "bg" : "bt";
    lc.on_error = DS_REDIS_FAIL_REPORT;
    ds_redis_limiter_init(&l, r, &lc);
    ds_rng_seed(&rng, 7);
    for (i = 0; i < calls; i++) {
        int64_t s = ds_now_ns();
        if (depth == 1) {
            size_t k = (size_t)ds_rng_below(&rng, 10000);
            ds_status st = ds_redis_limiter_allow(&l, keys[k], klen[k], 1, DS_REDIS_NOW_SERVER);
            if (st != DS_OK && st != DS_EREFUSED) { fprintf(stderr, "error: %s\n", ds_redis_errstr(r)); exit(1); }
        } else {
            const void *kp[64];
            size_t kl[64];
            uint64_t ns[64];
            ds_status out[64];
            for (j = 0; j < (size_t)depth; j++) {
                size_t k = (size_t)ds_rng_below(&rng, 10000);
                kp[j] = keys[k];
                kl[j] = klen[k];
                ns[j] = 1;
            }
            ds_redis_limiter_take_batch(&l, (size_t)depth, kp, kl, ns, DS_REDIS_NOW_SERVER, out, NULL);
            for (j = 0; j < (size_t)depth; j++)
                if (out[j] != DS_OK && out[j] != DS_EREFUSED) { fprintf(stderr, "error: %s\n", ds_redis_errstr(r)); exit(1); }
        }
        lat[i] = (double)(ds_now_ns() - s);
    }
    res = summarize(lat, calls, (double)(ds_now_ns() - t0), calls * (size_t)depth);
    free(lat);
    return res;
}

/* The seed's way: the whole script text with EVAL on every call. */
static const char seed_lua[] =
    "local key = KEYS[1]\n"
    "local capacity = tonumber(ARGV[1])\n"
    "local rate = tonumber(ARGV[2])\n"
    "local now = tonumber(ARGV[3])\n"
    "local requested = tonumber(ARGV[4])\n"
    "local bucket = redis.call('HMGET', key, 'tokens', 'last_refill')\n"
    "local tokens = tonumber(bucket[1]) or capacity\n"
    "local last = tonumber(bucket[2]) or now\n"
    "tokens = math.min(capacity, tokens + (now - last) * rate)\n"
    "local allowed = 0\n"
    "if tokens >= requested then tokens = tokens - requested allowed = 1 end\n"
    "redis.call('HMSET', key, 'tokens', tokens, 'last_refill', now)\n"
    "redis.call('EXPIRE', key, math.ceil(capacity / rate) * 2)\n"
    "return allowed\n";
static result run_seed(size_t decisions) {
    redisContext *c = redisConnectUnix(sock);
    double *lat = (double *)malloc(decisions * sizeof *lat);
    int64_t t0 = ds_now_ns();
    ds_rng rng;
    size_t i;
    result res;
    ds_rng_seed(&rng, 7);
    for (i = 0; i < decisions; i++) {
        int64_t s = ds_now_ns();
        size_t k = (size_t)ds_rng_below(&rng, 10000);
        char now[32];
        redisReply *y;
        snprintf(now, sizeof now, "%.6f", (double)ds_wall_ns() / 1e9); /* the client's clock, as the seed */
        y = (redisReply *)redisCommand(c, "EVAL %s 1 %s 20 100 %s 1", seed_lua, keys[k], now);
        if (!y || y->type != REDIS_REPLY_INTEGER) { fprintf(stderr, "seed script failed\n"); exit(1); }
        freeReplyObject(y);
        lat[i] = (double)(ds_now_ns() - s);
    }
    res = summarize(lat, decisions, (double)(ds_now_ns() - t0), decisions);
    free(lat);
    redisFree(c);
    return res;
}

/* redis-benchmark at a pipeline depth: requests per second for one test. */
static double redis_bench(const char *test, int depth, int n) {
    char cmd[300], line[512];
    double v = 0;
    FILE *p;
    snprintf(cmd, sizeof cmd, "redis-benchmark -s %s -n %d -P %d -c 1 -r 10000 -t %s --csv 2>/dev/null", sock, n,
             depth, test);
    p = popen(cmd, "r");
    if (!p) return 0;
    while (fgets(line, sizeof line, p)) {
        char *q = strchr(line, ',');
        if (line[0] == '"' && q && q[1] == '"' && strncmp(line + 1, "test", 4) != 0) v = atof(q + 2);
    }
    pclose(p);
    return v;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    size_t n1 = quick ? 5000 : 40000, nb = quick ? 40000 : 400000;
    ds_redis r;
    ds_redis_config rc;
    const char *nodes[1];
    int i, d;
    static const int depths[3] = {1, 16, 64};
    if (!start_server()) {
        printf("bench_redis: redis-server not found or did not start (apt-get install redis-server redis-tools)\n");
        stop_server();
        return 1;
    }
    for (i = 0; i < 10000; i++) klen[i] = (size_t)snprintf(keys[i], sizeof keys[i], "client%d", i);
    memset(&rc, 0, sizeof rc);
    nodes[0] = sock;
    rc.nodes = nodes;
    rc.n_nodes = 1;
    if (ds_redis_init(&r, &rc) != DS_OK) { stop_server(); return 1; }
    printf("ds_redis limiter decisions on one local redis-server (unix socket, one client connection)\n");
    printf("%-34s %6s %14s %10s %10s\n", "", "depth", "decisions/s", "p50 us", "p99 us");
    for (d = 0; d < 3; d++) {
        size_t n = depths[d] == 1 ? n1 : nb;
        result g = run_ds(&r, DS_LIMIT_GCRA, depths[d], n), t = run_ds(&r, DS_LIMIT_TOKEN_BUCKET, depths[d], n);
        printf("%-34s %6d %14.0f %10.1f %10.1f\n", "ds_redis GCRA (EVALSHA)", depths[d], g.per_sec, g.p50_us, g.p99_us);
        printf("%-34s %6d %14.0f %10.1f %10.1f\n", "ds_redis token bucket (EVALSHA)", depths[d], t.per_sec, t.p50_us,
               t.p99_us);
        if (depths[d] == 1) {
            result s = run_seed(n1);
            printf("%-34s %6d %14.0f %10.1f %10.1f\n", "seed token bucket (EVAL per call)", 1, s.per_sec, s.p50_us,
                   s.p99_us);
            printf("%-34s        GCRA %.2fx, token bucket %.2fx the seed's EVAL way\n", "", g.per_sec / s.per_sec,
                   t.per_sec / s.per_sec);
        }
        {
            double incr = redis_bench("incr", depths[d], quick ? 20000 : 200000);
            double set = redis_bench("set", depths[d], quick ? 20000 : 200000);
            printf("%-34s %6d %14.0f\n", "redis-benchmark INCR", depths[d], incr);
            printf("%-34s %6d %14.0f\n", "redis-benchmark SET", depths[d], set);
            if (incr > 0)
                printf("%-34s        GCRA %.0f%%, token bucket %.0f%% of INCR at this depth\n", "",
                       100.0 * g.per_sec / incr, 100.0 * t.per_sec / incr);
        }
    }
    ds_redis_free(&r);
    stop_server();
    return 0;
}
