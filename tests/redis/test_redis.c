/* tests/redis/test_redis.c - ds_redis.h against real redis-server instances
 * (started by tests/redis/run.sh, which passes them in the environment:
 * DS_REDIS_SOCK one node, DS_REDIS_SHARDS three nodes, DS_REDIS_CLUSTER a
 * three-master cluster, DS_REDIS_DIR a scratch folder, DS_REDIS_SERVER the
 * redis-server binary for the tests that start, kill and restart their own).
 * Ends with "N passed, M failed, K skipped". DS_TEST=substring runs some. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#define DS_IMPLEMENTATION
#include "ds.h"
#include "ds_redis.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int t_fail;
#define CHECK(c)                                                                     \
    do {                                                                             \
        if (!(c)) {                                                                  \
            t_fail++;                                                                \
            printf("  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);           \
        }                                                                            \
    } while (0)
#define CHECKST(r, e, want)                                                          \
    do {                                                                             \
        ds_status s_ = (e);                                                          \
        if (s_ != (want)) {                                                          \
            t_fail++;                                                                \
            printf("  %s:%d: %s = %s, want %s [%s]\n", __FILE__, __LINE__, #e,       \
                   ds_status_name(s_), ds_status_name(want), ds_redis_errstr(r));     \
        }                                                                            \
    } while (0)

static const char *env(const char *k) {
    const char *v = getenv(k);
    if (!v || !*v) {
        printf("  environment variable %s is not set: run through tests/redis/run.sh\n", k);
        exit(1);
    }
    return v;
}
static void sleep_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Split "a,b,c" into at most 8 strings (static storage per call site). */
static size_t split(const char *s, char buf[8][64], const char *out[8]) {
    size_t n = 0;
    while (*s && n < 8) {
        size_t k = strcspn(s, ",");
        if (k >= 64) k = 63;
        memcpy(buf[n], s, k);
        buf[n][k] = 0;
        out[n] = buf[n];
        n++;
        s += k;
        if (*s == ',') s++;
    }
    return n;
}

static ds_status open_node(ds_redis *r, const char *addr, int64_t timeout_ns) {
    ds_redis_config c;
    const char *nodes[1];
    memset(&c, 0, sizeof c);
    nodes[0] = addr;
    c.nodes = nodes;
    c.n_nodes = 1;
    c.command_timeout_ns = timeout_ns;
    c.connect_timeout_ns = timeout_ns;
    c.backoff_min_ns = 5000000;
    c.backoff_max_ns = 200000000;
    return ds_redis_init(r, &c);
}
static ds_status open_multi(ds_redis *r, ds_redis_mode mode, const char *list) {
    static char buf[8][64];
    const char *nodes[8];
    ds_redis_config c;
    memset(&c, 0, sizeof c);
    c.mode = mode;
    c.n_nodes = split(list, buf, nodes);
    c.nodes = nodes;
    c.command_timeout_ns = 2000000000;
    c.backoff_min_ns = 5000000;
    c.backoff_max_ns = 200000000;
    return ds_redis_init(r, &c);
}

/* A redis command on a plain hiredis connection to addr (path or host:port). */
static redisContext *raw_connect(const char *addr) {
    struct timeval tv = {2, 0};
    const char *colon = strrchr(addr, ':');
    if (strchr(addr, '/') || !colon) return redisConnectUnixWithTimeout(addr, tv);
    {
        char host[64];
        size_t hl = (size_t)(colon - addr);
        if (hl >= sizeof host) hl = sizeof host - 1;
        memcpy(host, addr, hl);
        host[hl] = 0;
        return redisConnectWithTimeout(host, atoi(colon + 1), tv);
    }
}
static long long raw_int(const char *addr, const char *cmd) {
    redisContext *c = raw_connect(addr);
    redisReply *y;
    long long v = -1;
    if (!c || c->err) { if (c) redisFree(c); return -1; }
    y = (redisReply *)redisCommand(c, cmd);
    if (y && y->type == REDIS_REPLY_INTEGER) v = y->integer;
    else if (y && y->type == REDIS_REPLY_STATUS) v = 0;
    if (y) freeReplyObject(y);
    redisFree(c);
    return v;
}
static int raw_str(const char *addr, const char *cmd, char *out, size_t cap) {
    redisContext *c = raw_connect(addr);
    redisReply *y;
    int ok = 0;
    if (!c || c->err) { if (c) redisFree(c); return 0; }
    y = (redisReply *)redisCommand(c, cmd);
    if (y && (y->type == REDIS_REPLY_STRING || y->type == REDIS_REPLY_STATUS) && y->len < cap) {
        memcpy(out, y->str, y->len);
        out[y->len] = 0;
        ok = 1;
    }
    if (y) freeReplyObject(y);
    redisFree(c);
    return ok;
}
static void flush_all(void) {
    static char buf[8][64];
    const char *n[8];
    size_t i, k = split(env("DS_REDIS_SHARDS"), buf, n);
    raw_int(env("DS_REDIS_SOCK"), "FLUSHALL");
    raw_int(env("DS_REDIS_MSOCK"), "FLUSHALL");
    for (i = 0; i < k; i++) raw_int(n[i], "FLUSHALL");
}

/* A private redis-server on a unix socket, for the fault tests. */
typedef struct priv_server {
    pid_t pid;
    char sock[256], pidfile[300];
} priv_server;
static int priv_start(priv_server *s, const char *name) {
    const char *dir = env("DS_REDIS_DIR"), *bin = env("DS_REDIS_SERVER");
    int i;
    snprintf(s->sock, sizeof s->sock, "%s/%s.sock", dir, name);
    snprintf(s->pidfile, sizeof s->pidfile, "%s/%s.pid", dir, name);
    s->pid = fork();
    if (s->pid == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/%s.log", dir, name);
        execl(bin, bin, "--port", "0", "--unixsocket", s->sock, "--save", "", "--appendonly", "no", "--dir", dir,
              "--logfile", log, "--enable-debug-command", "local", (char *)NULL);
        _exit(127);
    }
    if (s->pid < 0) return 0;
    {
        FILE *f = fopen(s->pidfile, "w");
        if (f) { fprintf(f, "%d\n", (int)s->pid); fclose(f); }
    }
    for (i = 0; i < 200; i++) {
        redisContext *c = redisConnectUnix(s->sock);
        int ok = c && !c->err;
        if (c) redisFree(c);
        if (ok) return 1;
        sleep_ms(10);
    }
    return 0;
}
static void priv_kill(priv_server *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
        unlink(s->pidfile);
        unlink(s->sock);
    }
}

/* ---------------------------------------------------------------------- */
static uint64_t rng_s[2] = {0x9E3779B97F4A7C15u, 0xD1B54A32D192ED03u};
static uint64_t rnd(void) { /* xorshift128+ */
    uint64_t a = rng_s[0], b = rng_s[1];
    rng_s[0] = b;
    a ^= a << 23;
    rng_s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return rng_s[1] + b;
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

static int same_res(const ds_limit_result *a, const ds_limit_result *b) {
    return a->limit == b->limit && a->remaining == b->remaining && a->retry_after_ns == b->retry_after_ns &&
           a->reset_after_ns == b->reset_after_ns && a->delay_ns == b->delay_ns;
}
static void print_res(const char *who, ds_status st, const ds_limit_result *x) {
    printf("    %s: %s limit %llu remaining %llu retry %lld reset %lld delay %lld\n", who, ds_status_name(st),
           (unsigned long long)x->limit, (unsigned long long)x->remaining, (long long)x->retry_after_ns,
           (long long)x->reset_after_ns, (long long)x->delay_ns);
}

/* One random stream on one key: the distributed limiter against ds_limiter.
 * diff_mixed: each step goes at random through a limiter that always
 * uses the script or one that always uses the module (one key, both). */
static ds_redis_engine diff_engine = DS_REDIS_ENGINE_AUTO;
static int diff_mixed;
static int diff_stream(ds_redis *r, const ds_limit_config *cfg, const char *name, int steps, int64_t start) {
    ds_limiter L;
    ds_redis_limiter R, R2;
    ds_redis_limiter_config rc;
    int64_t now = start;
    int i, mixed = diff_mixed && cfg->algo != DS_LIMIT_SLIDING_LOG;
    memset(&rc, 0, sizeof rc);
    rc.limit = *cfg;
    rc.name = name;
    rc.on_error = DS_REDIS_FAIL_REPORT;
    rc.idle_slack_ms = 3600000; /* synthetic time: keep keys for an hour */
    rc.engine = mixed ? DS_REDIS_ENGINE_LUA : diff_engine;
    if (diff_engine == DS_REDIS_ENGINE_MODULE && cfg->algo == DS_LIMIT_SLIDING_LOG) { /* script only */
        CHECKST(r, ds_redis_limiter_init(&R, r, &rc), DS_EINVAL);
        return 1;
    }
    if (ds_limiter_init(&L, cfg, NULL) != DS_OK || ds_redis_limiter_init(&R, r, &rc) != DS_OK) {
        CHECK(0);
        return 0;
    }
    rc.engine = DS_REDIS_ENGINE_MODULE;
    if (mixed && ds_redis_limiter_init(&R2, r, &rc) != DS_OK) {
        CHECK(0);
        return 0;
    }
    for (i = 0; i < steps; i++) {
        ds_limit_result a, b;
        ds_status sa, sb;
        uint64_t n, u = below(100);
        int64_t gap = cfg->period_ns / (int64_t)(cfg->limit < 8 ? cfg->limit : 8) + 1, dt;
        if (u < 4 && now > 0) dt = -(int64_t)below((uint64_t)(gap * 3 < now ? gap * 3 : now) + 1); /* step back */
        else if (u < 8) dt = (int64_t)below((uint64_t)cfg->period_ns * 3 + 1);
        else dt = (int64_t)below((uint64_t)gap + 1);
        if (dt > 0 && now > INT64_MAX - dt) dt = 0;
        now += dt;
        u = below(100);
        n = u < 5 ? 0 : u < 10 ? (cfg->burst ? cfg->burst : cfg->limit) + below(3) : 1 + below(cfg->limit < 4 ? cfg->limit : 4);
        memset(&a, 0x55, sizeof a);
        memset(&b, 0x33, sizeof b);
        sa = ds_limiter_take(&L, n, now, &a);
        sb = ds_redis_limiter_take(mixed && below(2) ? &R2 : &R, "key", 3, n, now, &b);
        if (sa != sb || !same_res(&a, &b)) {
            t_fail++;
            printf("  differential: %s (%s, limit %llu period %lld burst %llu) step %d n %llu now %lld [%s]\n", name,
                   ds_limit_algo_name(cfg->algo), (unsigned long long)cfg->limit, (long long)cfg->period_ns,
                   (unsigned long long)cfg->burst, i, (unsigned long long)n, (long long)now, ds_redis_errstr(r));
            print_res("ds_limiter", sa, &a);
            print_res("ds_redis  ", sb, &b);
            ds_limiter_free(&L);
            return 0;
        }
    }
    ds_limiter_free(&L);
    return 1;
}

static void limiter_differential_on(ds_redis *r, const char *tag, int steps) {
    static const uint64_t limits[] = {1, 3, 10, 1000, 7};
    static const int64_t periods[] = {1000, 1000000007, 1000000000, 3, 60000000000};
    static const uint64_t bursts[] = {0, 2, 0, 50, 20};
    static const int64_t starts[] = {0, 1765000000000000000, 5, INT64_MAX / 2, 987654321};
    int algo, k;
    for (algo = 0; algo < DS_LIMIT_ALGOS; algo++)
        for (k = 0; k < 5; k++) {
            ds_limit_config c;
            char name[64];
            c.limit = limits[k];
            c.algo = (ds_limit_algo)algo;
            c.period_ns = periods[k];
            c.burst = bursts[k];
            snprintf(name, sizeof name, "diff%s_%d_%d", tag, algo, k);
            if (!diff_stream(r, &c, name, steps, starts[k])) return;
        }
}

static void test_limiter_differential(void) {
    ds_redis r;
    CHECKST(&r, open_node(&r, env("DS_REDIS_SOCK"), 2000000000), DS_OK);
    limiter_differential_on(&r, "s", 300);
    ds_redis_free(&r);
}

/* ---------------------------------------------------------------------- */
/* The module (DS.LIMIT, redis/ds_limit_module.c), loaded on DS_REDIS_MSOCK
 * and not on DS_REDIS_SOCK. */
static void test_module_differential(void) {
    ds_redis r;
    uint64_t before;
    CHECKST(&r, open_node(&r, env("DS_REDIS_MSOCK"), 2000000000), DS_OK);
    CHECK(r.nodes[0].module == 1); /* COMMAND INFO found it */
    before = ds_redis_get_stats(&r).module_calls;
    diff_engine = DS_REDIS_ENGINE_MODULE; /* the module or DS_EIO: no silent fallback */
    limiter_differential_on(&r, "m", 300);
    diff_engine = DS_REDIS_ENGINE_AUTO; /* the module, the sliding log by its script */
    limiter_differential_on(&r, "a", 100);
    CHECK(ds_redis_get_stats(&r).module_calls >= before + 6 * 5 * 400);
    /* one key, the script and the module at random: same state format */
    diff_mixed = 1;
    limiter_differential_on(&r, "x", 300);
    diff_mixed = 0;
    ds_redis_free(&r);
}

/* The raw command: every bad argument is an error reply, nothing changes,
 * the server lives on; the state string is the script's. */
static void test_module_raw(void) {
    static const char *const bad[] = {
        "DS.LIMIT",
        "DS.LIMIT k 3 100 1000000000 20 1 1000",                          /* arity */
        "DS.LIMIT k 3 100 1000000000 20 1 1000 1000 extra",
        "DS.LIMIT k 7 100 1000000000 20 1 1000 1000",                     /* algo */
        "DS.LIMIT k 5 100 1000000000 20 1 1000 1000",                     /* the log: Lua only */
        "DS.LIMIT k -1 100 1000000000 20 1 1000 1000",
        "DS.LIMIT k x 100 1000000000 20 1 1000 1000",
        "DS.LIMIT k 3 0 1000000000 20 1 1000 1000",                       /* limit */
        "DS.LIMIT k 3 18446744073709551616 1000000000 20 1 1000 1000",
        "DS.LIMIT k 3 +5 1000000000 20 1 1000 1000",
        "DS.LIMIT k 3 100 0 20 1 1000 1000",                              /* period */
        "DS.LIMIT k 3 100 9223372036854775808 20 1 1000 1000",
        "DS.LIMIT k 3 100 1e9 20 1 1000 1000",
        "DS.LIMIT k 3 100 1000000000 -1 1 1000 1000",                     /* burst */
        "DS.LIMIT k 3 100 1000000000 20 99999999999999999999 1000 1000",  /* n */
        "DS.LIMIT k 3 100 1000000000 20 1 -5 1000",                       /* now */
        "DS.LIMIT k 3 100 1000000000 20 1 9223372036854775808 1000",
        "DS.LIMIT k 3 100 1000000000 20 1 1000x 1000",
        "DS.LIMIT k 3 100 1000000000 20 1 1000 -1",                       /* slack */
        "DS.LIMIT k 3 100 1000000000 20 1 1000 9223372036854775808",
        "DS.LIMIT lst 3 100 1000000000 20 1 1000 1000",                   /* WRONGTYPE */
        "DS.LIMIT junk 3 100 1000000000 20 1 1000 1000",                  /* not a state */
        "DS.LIMIT ds:l:rawb:{k} 4 100 1000000000 20 1 1000 1000",          /* a bucket's state, read as a window's */
        "DS.LIMIT ds:l:raww:{k} 3 100 1000000000 20 1 1000 1000",          /* and the other way */
        "DS.LIMITN 3 100 1000000000 20 1000 1000",                        /* no key */
        "DS.LIMITN 3 100 1000000000 20 1000 1000 nk1 1 nk2",              /* a key without n */
        "DS.LIMITN 3 100 1000000000 20 1000 1000 nk1 1 nk2 x",            /* a bad n: nothing decided */
        "DS.LIMITN 5 100 1000000000 20 1000 1000 nk1 1",
        "DS.LIMITN 3 0 1000000000 20 1000 1000 nk1 1",
    };
    const char *sock = env("DS_REDIS_MSOCK");
    redisContext *c = raw_connect(sock);
    redisReply *y;
    ds_redis r;
    ds_redis_limiter lb, lw;
    ds_redis_limiter_config rc;
    char lua_state[80], mod_state[80];
    size_t i;
    if (!c || c->err) { CHECK(0); if (c) redisFree(c); return; }
    raw_int(sock, "RPUSH lst a");
    raw_int(sock, "SET junk hello");
    /* states written by the scripts (engine LUA) */
    CHECKST(&r, open_node(&r, sock, 2000000000), DS_OK);
    memset(&rc, 0, sizeof rc);
    rc.limit.limit = 100;
    rc.limit.algo = DS_LIMIT_GCRA;
    rc.limit.period_ns = 1000000000;
    rc.limit.burst = 20;
    rc.name = "rawb";
    rc.on_error = DS_REDIS_FAIL_REPORT;
    rc.engine = DS_REDIS_ENGINE_LUA;
    CHECKST(&r, ds_redis_limiter_init(&lb, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&lb, "k", 1, 1, 1000, NULL), DS_OK);
    rc.limit.algo = DS_LIMIT_FIXED_WINDOW;
    rc.name = "raww";
    CHECKST(&r, ds_redis_limiter_init(&lw, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&lw, "k", 1, 1, 1000, NULL), DS_OK);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        y = (redisReply *)redisCommand(c, bad[i]);
        if (!y || y->type != REDIS_REPLY_ERROR) {
            printf("  not an error reply: %s\n", bad[i]);
            CHECK(0);
        }
        if (y) freeReplyObject(y);
    }
    CHECK(raw_int(sock, "EXISTS nk1") == 0); /* the DS.LIMITN errors decided nothing */
    /* DS.LIMITN: one reply per key, in order; a key of another type is an
     * error element, the others are decided */
    y = (redisReply *)redisCommand(c, "DS.LIMITN 3 2 1000000000 0 5000 1000 nk1 1 lst 1 nk1 1 nk1 1");
    CHECK(y && y->type == REDIS_REPLY_ARRAY && y->elements == 4);
    if (y && y->type == REDIS_REPLY_ARRAY && y->elements == 4) {
        CHECK(y->element[0]->type == REDIS_REPLY_ARRAY && y->element[0]->element[0]->integer == 1);
        CHECK(y->element[1]->type == REDIS_REPLY_ERROR);
        CHECK(y->element[2]->type == REDIS_REPLY_ARRAY && y->element[2]->element[0]->integer == 1);
        CHECK(y->element[3]->type == REDIS_REPLY_ARRAY && y->element[3]->element[0]->integer == 0); /* limit 2 */
    }
    if (y) freeReplyObject(y);
    y = (redisReply *)redisCommand(c, "DS.LIMIT %s 3 100 1000000000 20 1 %s 1000", "empty{x}", "");
    CHECK(y && y->type == REDIS_REPLY_ARRAY && y->elements == 3 && y->element[0]->type == REDIS_REPLY_INTEGER &&
          y->element[0]->integer == 1 && y->element[1]->len == 32 && y->element[2]->len == 16);
    if (y) freeReplyObject(y);
    CHECK(raw_int(sock, "PTTL empty{x}") > 1000); /* slack 1000 ms + the debt */
    /* nothing changed by the errors; the lists and junk untouched */
    CHECK(raw_int(sock, "LLEN lst") == 1);
    CHECK(raw_str(sock, "GET junk", mod_state, sizeof mod_state) && !strcmp(mod_state, "hello"));
    CHECK(raw_str(sock, "GET ds:l:rawb:{k}", lua_state, sizeof lua_state) && strlen(lua_state) == 32);
    CHECK(raw_str(sock, "GET ds:l:raww:{k}", lua_state, sizeof lua_state) && strlen(lua_state) == 48);
    /* the same decision by the module on a fresh key writes the same string */
    raw_int(sock, "DEL ds:l:rawb:{k}");
    CHECK(raw_int(sock, "EXISTS ds:l:rawb:{k}") == 0);
    rc.engine = DS_REDIS_ENGINE_LUA;
    rc.limit.algo = DS_LIMIT_GCRA;
    rc.name = "rawb";
    CHECKST(&r, ds_redis_limiter_init(&lb, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&lb, "k", 1, 3, 5000, NULL), DS_OK);
    CHECK(raw_str(sock, "GET ds:l:rawb:{k}", lua_state, sizeof lua_state));
    raw_int(sock, "DEL ds:l:rawb:{k}");
    rc.engine = DS_REDIS_ENGINE_MODULE;
    CHECKST(&r, ds_redis_limiter_init(&lb, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&lb, "k", 1, 3, 5000, NULL), DS_OK);
    CHECK(raw_str(sock, "GET ds:l:rawb:{k}", mod_state, sizeof mod_state) && !strcmp(lua_state, mod_state));
    y = (redisReply *)redisCommand(c, "PING");
    CHECK(y && y->type == REDIS_REPLY_STATUS);
    if (y) freeReplyObject(y);
    redisFree(c);
    ds_redis_free(&r);
}

/* Without the module: AUTO uses the scripts, MODULE fails as a node that
 * cannot answer would; a module unloaded while connected is noticed by
 * its reply and the call resent as the script; loaded again, a new
 * connection finds it. */
static void test_module_absent(void) {
    ds_redis r, m;
    ds_redis_limiter l;
    ds_redis_limiter_config rc;
    ds_limit_result res;
    ds_limiter L;
    ds_limit_config cfg = {10, DS_LIMIT_TOKEN_BUCKET, 1000000000, 5};
    const char *msock = env("DS_REDIS_MSOCK");
    char cmd[600];
    int i;
    memset(&rc, 0, sizeof rc);
    rc.limit = cfg;
    rc.name = "absent";
    rc.on_error = DS_REDIS_FAIL_REPORT;
    rc.idle_slack_ms = 3600000;
    CHECKST(&r, open_node(&r, env("DS_REDIS_SOCK"), 2000000000), DS_OK);
    CHECK(r.nodes[0].module == 0);
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&l, "k", 1, 1, 1000, &res), DS_OK);
    CHECK(ds_redis_get_stats(&r).module_calls == 0);
    rc.engine = DS_REDIS_ENGINE_MODULE;
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&l, "k", 1, 1, 1000, &res), DS_EIO);
    CHECK(strstr(ds_redis_errstr(&r), "module") != NULL);
    rc.on_error = DS_REDIS_FAIL_CLOSED;
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&l, "k", 1, 1, 1000, &res), DS_EREFUSED);
    CHECK(l.degraded == 1);
    rc.on_error = DS_REDIS_FAIL_OPEN;
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&l, "k", 1, 1, 1000, &res), DS_OK);
    rc.on_error = DS_REDIS_FAIL_REPORT;
    rc.engine = (ds_redis_engine)3;
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_EINVAL);
    rc.engine = DS_REDIS_ENGINE_MODULE;
    rc.limit.algo = DS_LIMIT_SLIDING_LOG;
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_EINVAL);
    rc.limit = cfg;
    ds_redis_free(&r);

    /* unloaded under a live connection, then loaded again */
    rc.engine = DS_REDIS_ENGINE_AUTO;
    rc.name = "unload";
    CHECKST(&m, open_node(&m, msock, 2000000000), DS_OK);
    CHECK(m.nodes[0].module == 1);
    CHECKST(&m, ds_redis_limiter_init(&l, &m, &rc), DS_OK);
    ds_limiter_init(&L, &cfg, NULL);
    for (i = 0; i < 40; i++) {
        ds_limit_result a;
        int64_t now = 1000 + (int64_t)i * 37000000;
        ds_status sa = ds_limiter_take(&L, 1, now, &a), sb;
        if (i == 10) {
            /* a batch on a handle that saw the module: DS.LIMITN gets
             * "unknown command" and the scripts decide instead */
            ds_redis m2;
            ds_redis_limiter l2;
            const void *bk[3] = {"b1", "b2", "b1"};
            size_t bl[3] = {2, 2, 2};
            uint64_t bn[3] = {5, 1, 1};
            ds_status bo[3];
            CHECKST(&m2, open_node(&m2, msock, 2000000000), DS_OK);
            CHECK(m2.nodes[0].module == 1);
            CHECKST(&m2, ds_redis_limiter_init(&l2, &m2, &rc), DS_OK);
            CHECK(raw_int(msock, "MODULE UNLOAD dslimit") == 0);
            CHECKST(&m2, ds_redis_limiter_take_batch(&l2, 3, bk, bl, bn, now, bo, NULL), DS_OK);
            CHECK(bo[0] == DS_OK && bo[1] == DS_OK && bo[2] == DS_EREFUSED); /* burst 5 */
            CHECK(m2.nodes[0].module == 0);
            ds_redis_free(&m2);
        }
        if (i == 20) {
            snprintf(cmd, sizeof cmd, "MODULE LOAD %s", env("DS_REDIS_MODULE"));
            CHECK(raw_int(msock, cmd) == 0);
        }
        if (i == 30) { /* a new connection sees it again */
            ds_redis_free(&m);
            CHECKST(&m, open_node(&m, msock, 2000000000), DS_OK);
            CHECK(m.nodes[0].module == 1);
            CHECKST(&m, ds_redis_limiter_init(&l, &m, &rc), DS_OK);
        }
        sb = ds_redis_limiter_take(&l, "k", 1, 1, now, &res);
        CHECK(sa == sb && same_res(&a, &res));
        if (i == 10) CHECK(m.nodes[0].module == 0);
        if (i == 25) CHECK(m.nodes[0].module == 0); /* only reconnects look again */
        if (i == 30) CHECK(ds_redis_get_stats(&m).module_calls == 1);
    }
    ds_limiter_free(&L);
    ds_redis_free(&m);
}

/* Batches: 24 decisions per call over 8 keys (repeats decided in order). */
static void batch_differential(ds_redis *r, const char *tag, ds_limit_algo algo, int rounds) {
    ds_limit_config c = {5, algo, 1000000, 3};
    ds_limiter L[8];
    ds_redis_limiter R;
    ds_redis_limiter_config rc;
    char kb[8][16];
    int i, j, bad = 0;
    int64_t now = 1000;
    memset(&rc, 0, sizeof rc);
    rc.limit = c;
    rc.name = tag;
    rc.on_error = DS_REDIS_FAIL_REPORT;
    rc.idle_slack_ms = 3600000;
    CHECKST(r, ds_redis_limiter_init(&R, r, &rc), DS_OK);
    for (i = 0; i < 8; i++) {
        ds_limiter_init(&L[i], &c, NULL);
        snprintf(kb[i], sizeof kb[i], "bk%d", i * 7919);
    }
    for (j = 0; j < rounds && !bad; j++) {
        const void *keys[24];
        size_t lens[24];
        uint64_t ns[24];
        int which[24];
        ds_status out[24];
        ds_limit_result res[24], a;
        now += (int64_t)below(400000);
        for (i = 0; i < 24; i++) {
            which[i] = (int)below(8);
            keys[i] = kb[which[i]];
            lens[i] = strlen(kb[which[i]]);
            ns[i] = below(3);
        }
        CHECKST(r, ds_redis_limiter_take_batch(&R, 24, keys, lens, ns, now, out, res), DS_OK);
        for (i = 0; i < 24; i++) {
            ds_status sa = ds_limiter_take(&L[which[i]], ns[i], now, &a);
            if (sa != out[i] || !same_res(&a, &res[i])) {
                t_fail++;
                bad = 1;
                printf("  batch differential %s: round %d item %d key %s (last error: %s)\n", tag, j, i, kb[which[i]],
                       ds_redis_errstr(r));
                print_res("ds_limiter", sa, &a);
                print_res("ds_redis  ", out[i], &res[i]);
                break;
            }
        }
    }
    for (i = 0; i < 8; i++) ds_limiter_free(&L[i]);
}

static void test_limiter_batch(void) {
    ds_redis r;
    CHECKST(&r, open_node(&r, env("DS_REDIS_SOCK"), 2000000000), DS_OK);
    batch_differential(&r, "batchg", DS_LIMIT_GCRA, 60);
    batch_differential(&r, "batchc", DS_LIMIT_SLIDING_COUNTER, 30);
    batch_differential(&r, "batchl", DS_LIMIT_SLIDING_LOG, 30);
    ds_redis_free(&r);
    /* with the module: DS.LIMIT pipelined */
    CHECKST(&r, open_node(&r, env("DS_REDIS_MSOCK"), 2000000000), DS_OK);
    batch_differential(&r, "mbatchg", DS_LIMIT_GCRA, 60);
    batch_differential(&r, "mbatchs", DS_LIMIT_LEAKY_SHAPER, 30);
    batch_differential(&r, "mbatchc", DS_LIMIT_SLIDING_COUNTER, 30);
    CHECK(ds_redis_get_stats(&r).module_calls >= 24 * 120);
    CHECK(ds_redis_get_stats(&r).calls < 2 * 120); /* a batch is one DS.LIMITN */
    ds_redis_free(&r);
}

/* Server time: TIME on the node; a burst of 5 then refusals. */
static void test_limiter_server_time(void) {
    ds_redis r;
    ds_redis_limiter l;
    ds_redis_limiter_config rc;
    ds_limit_result res;
    int i, ok = 0;
    int64_t t;
    memset(&rc, 0, sizeof rc);
    rc.limit.limit = 5;
    rc.limit.algo = DS_LIMIT_TOKEN_BUCKET;
    rc.limit.period_ns = 10000000000;
    rc.name = "srvtime";
    CHECKST(&r, open_node(&r, env("DS_REDIS_SOCK"), 2000000000), DS_OK);
    CHECKST(&r, ds_redis_time_ns(&r, &t), DS_OK);
    CHECK(t > 1600000000000000000);
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    for (i = 0; i < 8; i++) ok += ds_redis_limiter_take(&l, "u", 1, 1, DS_REDIS_NOW_SERVER, &res) == DS_OK;
    CHECK(ok == 5);
    CHECK(res.retry_after_ns > 0 && res.retry_after_ns <= 2000000000);
    CHECK(res.remaining == 0 && res.limit == 5);
    /* The script's now * limit on the server's clock agrees with the now it
     * reports: from rest, one unit leaves exactly period / limit of debt. */
    {
        ds_redis_limiter lb;
        ds_limit_config c3 = {3, DS_LIMIT_TOKEN_BUCKET, 1000000000, 1};
        rc.limit = c3;
        rc.name = "srvexact";
        CHECKST(&r, ds_redis_limiter_init(&lb, &r, &rc), DS_OK);
        CHECKST(&r, ds_redis_limiter_take(&lb, "e", 1, 1, DS_REDIS_NOW_SERVER, &res), DS_OK);
        CHECK(res.reset_after_ns == 333333334 && res.remaining == 0);
        rc.limit.limit = 5;
        rc.limit.burst = 0;
    }
    /* Every other algorithm on the server's clock: 5 admitted, then refused. */
    {
        int algo;
        for (algo = 0; algo < DS_LIMIT_ALGOS; algo++) {
            ds_redis_limiter la;
            char nm[32];
            int got = 0;
            snprintf(nm, sizeof nm, "srvtime%d", algo);
            rc.limit.algo = (ds_limit_algo)algo;
            rc.limit.period_ns = 60000000000;
            rc.name = nm;
            CHECKST(&r, ds_redis_limiter_init(&la, &r, &rc), DS_OK);
            for (i = 0; i < 7; i++) got += ds_redis_limiter_take(&la, "u", 1, 1, DS_REDIS_NOW_SERVER, &res) == DS_OK;
            CHECK(got == 5);
            CHECK(res.retry_after_ns > 0 && res.retry_after_ns <= 60000000000);
        }
    }
    /* Idle keys vanish: the key has a TTL. */
    {
        long long ttl = raw_int(env("DS_REDIS_SOCK"), "PTTL ds:l:srvtime:{u}");
        CHECK(ttl > 0 && ttl <= 12000);
    }
    ds_redis_free(&r);
}

/* ---------------------------------------------------------------------- */
/* Global invariant: 8 processes x 2 threads, one shared key, caller's
 * now = the wall clock (one machine). From all admitted times: over every
 * interval [t1, t2], admitted <= burst + limit * (t2 - t1) / period. */
#define INV_PROCS 8
#define INV_THREADS 2
static const ds_limit_config inv_cfg = {200, DS_LIMIT_GCRA, 100000000, 20}; /* 2000/s, burst 20 */
typedef struct inv_arg {
    int64_t *times;
    size_t n, cap;
    int64_t until;
} inv_arg;
static void *inv_thread(void *p) {
    inv_arg *a = (inv_arg *)p;
    ds_redis r;
    ds_redis_limiter l;
    ds_redis_limiter_config rc;
    memset(&rc, 0, sizeof rc);
    rc.limit = inv_cfg;
    rc.name = "inv";
    rc.on_error = DS_REDIS_FAIL_CLOSED;
    if (open_node(&r, getenv("DS_REDIS_SOCK"), 2000000000) != DS_OK) return NULL;
    ds_redis_limiter_init(&l, &r, &rc);
    while (ds_now_ns() < a->until && a->n < a->cap) {
        int64_t now = ds_wall_ns();
        if (ds_redis_limiter_allow(&l, "shared", 6, 1, now) == DS_OK) a->times[a->n++] = now;
    }
    ds_redis_free(&r);
    return NULL;
}
static int cmp_i64(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}
static void test_limiter_global_invariant(void) {
    char path[300];
    pid_t pids[INV_PROCS];
    int p, status;
    int64_t *all;
    size_t n = 0, i, j, cap = 200000;
    FILE *f;
    double rate = (double)inv_cfg.limit / (double)inv_cfg.period_ns;
    snprintf(path, sizeof path, "%s/inv.bin", env("DS_REDIS_DIR"));
    unlink(path);
    for (p = 0; p < INV_PROCS; p++) {
        pids[p] = fork();
        if (pids[p] == 0) {
            pthread_t th[INV_THREADS];
            inv_arg a[INV_THREADS];
            int t;
            FILE *o;
            for (t = 0; t < INV_THREADS; t++) {
                a[t].cap = 20000;
                a[t].n = 0;
                a[t].times = (int64_t *)malloc(a[t].cap * sizeof(int64_t));
                a[t].until = ds_now_ns() + 1500000000;
                pthread_create(&th[t], NULL, inv_thread, &a[t]);
            }
            o = fopen(path, "ab");
            for (t = 0; t < INV_THREADS; t++) {
                pthread_join(th[t], NULL);
                if (o) fwrite(a[t].times, sizeof(int64_t), a[t].n, o);
                free(a[t].times);
            }
            if (o) fclose(o);
            _exit(0);
        }
    }
    for (p = 0; p < INV_PROCS; p++) {
        waitpid(pids[p], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    all = (int64_t *)malloc(cap * sizeof *all);
    f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f) {
        n = fread(all, sizeof *all, cap, f);
        fclose(f);
    }
    qsort(all, n, sizeof *all, cmp_i64);
    CHECK(n > 100); /* admitted something: 1.5 s at 2000/s ~ 3000 */
    for (i = 0; i < n; i++)
        for (j = i; j < n; j++) {
            double bound = (double)inv_cfg.burst + rate * (double)(all[j] - all[i]);
            if ((double)(j - i + 1) > bound + 1e-9) {
                t_fail++;
                printf("  invariant broken: %zu admitted in [%lld, %lld] (bound %.3f)\n", j - i + 1,
                       (long long)all[i], (long long)all[j], bound);
                i = n;
                break;
            }
            if (bound >= (double)(n - i)) break; /* cannot be exceeded further */
        }
    printf("    global invariant: %zu admissions by %d processes x %d threads checked\n", n, INV_PROCS, INV_THREADS);
    free(all);
}

/* ---------------------------------------------------------------------- */
static void test_idem_fencing(void) {
    ds_redis r;
    ds_redis_idem s;
    ds_redis_idem_config ic;
    ds_idem_state st;
    uint64_t ta, tb, t0;
    const void *resp;
    size_t rl;
    int64_t now = 1000000000;
    memset(&ic, 0, sizeof ic);
    ic.lock_timeout_ns = 1000000; /* 1 ms of caller time */
    ic.name = "fence";
    CHECKST(&r, open_node(&r, env("DS_REDIS_SOCK"), 2000000000), DS_OK);
    CHECKST(&r, ds_redis_idem_init(&s, &r, &ic), DS_OK);
    CHECKST(&r, ds_redis_idem_begin(&s, "acct", 4, "k1", 2, 42, now, &st, &ta, &resp, &rl), DS_OK);
    CHECK(st == DS_IDEM_NEW && ta > 0);
    CHECKST(&r, ds_redis_idem_begin(&s, "acct", 4, "k1", 2, 42, now + 10, &st, &t0, NULL, NULL), DS_OK);
    CHECK(st == DS_IDEM_IN_FLIGHT && t0 == 0);
    CHECKST(&r, ds_redis_idem_begin(&s, "acct", 4, "k1", 2, 43, now + 10, &st, &t0, NULL, NULL), DS_OK);
    CHECK(st == DS_IDEM_MISMATCH);
    /* A's lock runs out; B takes over with a larger token. */
    CHECKST(&r, ds_redis_idem_begin(&s, "acct", 4, "k1", 2, 42, now + 2000000, &st, &tb, NULL, NULL), DS_OK);
    CHECK(st == DS_IDEM_NEW && tb > ta);
    CHECKST(&r, ds_redis_idem_complete(&s, "acct", 4, "k1", 2, ta, "A", 1), DS_EMISMATCH);
    CHECKST(&r, ds_redis_idem_abandon(&s, "acct", 4, "k1", 2, ta), DS_EMISMATCH);
    CHECKST(&r, ds_redis_idem_complete(&s, "acct", 4, "k1", 2, tb, "B-result", 8), DS_OK);
    CHECKST(&r, ds_redis_idem_complete(&s, "acct", 4, "k1", 2, tb, "again", 5), DS_ENOTFOUND);
    CHECKST(&r, ds_redis_idem_begin(&s, "acct", 4, "k1", 2, 42, now + 3000000, &st, &t0, &resp, &rl), DS_OK);
    CHECK(st == DS_IDEM_DONE && rl == 8 && memcmp(resp, "B-result", 8) == 0);
    CHECKST(&r, ds_redis_idem_begin(&s, "acct", 4, "k1", 2, 7, now + 3000000, &st, &t0, &resp, &rl), DS_OK);
    CHECK(st == DS_IDEM_MISMATCH);
    /* Scopes are separate; abandon frees the key for a retry (a new token). */
    CHECKST(&r, ds_redis_idem_begin(&s, "other", 5, "k1", 2, 42, now, &st, &ta, NULL, NULL), DS_OK);
    CHECK(st == DS_IDEM_NEW);
    CHECKST(&r, ds_redis_idem_abandon(&s, "other", 5, "k1", 2, ta), DS_OK);
    CHECKST(&r, ds_redis_idem_abandon(&s, "other", 5, "k1", 2, ta), DS_ENOTFOUND);
    CHECKST(&r, ds_redis_idem_begin(&s, "other", 5, "k1", 2, 99, now, &st, &tb, NULL, NULL), DS_OK);
    CHECK(st == DS_IDEM_NEW && tb > ta);
    /* Binary keys and an empty response. */
    CHECKST(&r, ds_redis_idem_begin(&s, "\0{}", 3, "\0\xff}", 3, 1, DS_REDIS_NOW_SERVER, &st, &ta, NULL, NULL), DS_OK);
    CHECK(st == DS_IDEM_NEW);
    CHECKST(&r, ds_redis_idem_complete(&s, "\0{}", 3, "\0\xff}", 3, ta, NULL, 0), DS_OK);
    CHECKST(&r, ds_redis_idem_begin(&s, "\0{}", 3, "\0\xff}", 3, 1, DS_REDIS_NOW_SERVER, &st, &ta, &resp, &rl), DS_OK);
    CHECK(st == DS_IDEM_DONE && rl == 0);
    ds_redis_idem_free(&s);
    ds_redis_free(&r);
}

/* 1,000 duplicate requests over 25 keys from 8 processes; owners die at
 * random points (exit without completing, or stall past the lock and come
 * back stale). Every side effect is logged with its token and start time. */
#define ID_PROCS 8
#define ID_KEYS 25
#define ID_LOCK_MS 30
typedef struct id_rec {
    int key, kind;           /* kind 0: side effect started, 1: complete OK, 2: DONE seen */
    uint64_t token;
    int64_t t;
    char resp[24];
} id_rec;
static void id_worker(int p, const char *path) {
    ds_redis r;
    ds_redis_idem s;
    ds_redis_idem_config ic;
    FILE *o = fopen(path, "ab");
    int i;
    memset(&ic, 0, sizeof ic);
    ic.lock_timeout_ns = (int64_t)ID_LOCK_MS * 1000000;
    ic.name = "dup";
    rng_s[0] ^= (uint64_t)(p + 1) * 0x9E3779B97F4A7C15u;
    if (!o || open_node(&r, getenv("DS_REDIS_SOCK"), 2000000000) != DS_OK) _exit(3);
    ds_redis_idem_init(&s, &r, &ic);
    setvbuf(o, NULL, _IONBF, 0);
    for (i = 0; i < 1000 / ID_PROCS; i++) {
        int key = (int)below(ID_KEYS);
        char kb[16];
        ds_idem_state st;
        uint64_t tok;
        const void *resp;
        size_t rl;
        id_rec rec;
        int64_t now = ds_wall_ns();
        memset(&rec, 0, sizeof rec);
        snprintf(kb, sizeof kb, "pay%d", key);
        if (ds_redis_idem_begin(&s, "shop", 4, kb, strlen(kb), 77, now, &st, &tok, &resp, &rl) != DS_OK) _exit(4);
        rec.key = key;
        if (st == DS_IDEM_NEW) {
            uint64_t u = below(100);
            rec.kind = 0;
            rec.token = tok;
            rec.t = now;
            fwrite(&rec, sizeof rec, 1, o); /* the side effect */
            if (u < 3) _exit(0);            /* killed mid-request */
            if (u < 8) sleep_ms(ID_LOCK_MS + 10); /* stalls past its lock */
            snprintf(rec.resp, sizeof rec.resp, "r%llu", (unsigned long long)tok);
            if (ds_redis_idem_complete(&s, "shop", 4, kb, strlen(kb), tok, rec.resp, strlen(rec.resp)) == DS_OK) {
                rec.kind = 1;
                fwrite(&rec, sizeof rec, 1, o);
            }
        } else if (st == DS_IDEM_DONE) {
            rec.kind = 2;
            if (rl >= sizeof rec.resp) _exit(5);
            memcpy(rec.resp, resp, rl);
            fwrite(&rec, sizeof rec, 1, o);
        } else if (st == DS_IDEM_IN_FLIGHT) {
            sleep_ms(1);
        } else {
            _exit(6); /* same fingerprint everywhere: never a mismatch */
        }
    }
    fclose(o);
    ds_redis_idem_free(&s);
    ds_redis_free(&r);
    _exit(0);
}
static void test_idem_processes(void) {
    char path[300];
    pid_t pids[ID_PROCS];
    int p, status, k, effects = 0, completes = 0, dones = 0;
    id_rec *all;
    size_t n = 0, i;
    FILE *f;
    snprintf(path, sizeof path, "%s/idem.bin", env("DS_REDIS_DIR"));
    unlink(path);
    for (p = 0; p < ID_PROCS; p++) {
        pids[p] = fork();
        if (pids[p] == 0) id_worker(p, path);
    }
    for (p = 0; p < ID_PROCS; p++) {
        waitpid(pids[p], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    all = (id_rec *)malloc(100000 * sizeof *all);
    f = fopen(path, "rb");
    if (f) {
        n = fread(all, sizeof *all, 100000, f);
        fclose(f);
    }
    for (k = 0; k < ID_KEYS; k++) {
        int64_t last_t = INT64_MIN;
        uint64_t last_tok = 0, ok_tok = 0;
        int oks = 0;
        /* Effects in token order: each began a lock period after the last. */
        for (;;) {
            size_t best = n;
            for (i = 0; i < n; i++)
                if (all[i].key == k && all[i].kind == 0 && all[i].token > last_tok &&
                    (best == n || all[i].token < all[best].token))
                    best = i;
            if (best == n) break;
            effects++;
            if (last_t != INT64_MIN && all[best].t - last_t < (int64_t)ID_LOCK_MS * 1000000 - 2000000) {
                t_fail++;
                printf("  key %d: two side effects %lld ns apart (lock %d ms)\n", k, (long long)(all[best].t - last_t),
                       ID_LOCK_MS);
            }
            last_t = all[best].t;
            last_tok = all[best].token;
        }
        for (i = 0; i < n; i++)
            if (all[i].key == k && all[i].kind == 1) { oks++; ok_tok = all[i].token; }
        completes += oks;
        CHECK(oks <= 1); /* one result per key: no stale owner overwrote it */
        for (i = 0; i < n; i++)
            if (all[i].key == k && all[i].kind == 2) {
                char want[24];
                dones++;
                snprintf(want, sizeof want, "r%llu", (unsigned long long)ok_tok);
                if (!oks || strcmp(all[i].resp, want) != 0) {
                    t_fail++;
                    printf("  key %d: a retry got \"%s\", the stored result is \"%s\"\n", k, all[i].resp, want);
                    break;
                }
            }
    }
    printf("    idempotency: %d side effects, %d completions, %d replays over %d keys\n", effects, completes, dones,
           ID_KEYS);
    CHECK(effects >= ID_KEYS / 2 && dones > 0);
    free(all);
}

/* ---------------------------------------------------------------------- */
/* 10^6 ids from 4 processes (blocks of 1000): no duplicates. */
static int cmp_u64(const void *x, const void *y) {
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}
static void test_id_blocks(void) {
    char path[300];
    pid_t pids[4];
    int p, status;
    uint64_t *all;
    size_t n = 0, i, dup = 0;
    FILE *f;
    snprintf(path, sizeof path, "%s/ids.bin", env("DS_REDIS_DIR"));
    unlink(path);
    for (p = 0; p < 4; p++) {
        pids[p] = fork();
        if (pids[p] == 0) {
            ds_redis r;
            ds_redis_idblock b;
            uint64_t *ids = (uint64_t *)malloc(250000 * sizeof *ids);
            FILE *o;
            int j;
            if (open_node(&r, getenv("DS_REDIS_SOCK"), 2000000000) != DS_OK) _exit(3);
            if (ds_redis_idblock_init(&b, &r, "orders", 1000) != DS_OK) _exit(4);
            for (j = 0; j < 250000; j++)
                if (ds_redis_idblock_next(&b, &ids[j]) != DS_OK || (j && ids[j] <= ids[j - 1])) _exit(5);
            o = fopen(path, "ab");
            if (!o || fwrite(ids, sizeof *ids, 250000, o) != 250000) _exit(6);
            fclose(o);
            free(ids);
            ds_redis_free(&r);
            _exit(0);
        }
    }
    for (p = 0; p < 4; p++) {
        waitpid(pids[p], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    all = (uint64_t *)malloc(1000000 * sizeof *all);
    f = fopen(path, "rb");
    if (f) {
        n = fread(all, sizeof *all, 1000000, f);
        fclose(f);
    }
    CHECK(n == 1000000);
    qsort(all, n, sizeof *all, cmp_u64);
    for (i = 1; i < n; i++) dup += all[i] == all[i - 1];
    CHECK(dup == 0);
    CHECK(n && all[0] == 1 && all[n - 1] == 1000000); /* dense */
    free(all);
}

static void test_worker_leases(void) {
    ds_redis r;
    ds_redis_worker w[4], x;
    ds_snowflake_config sc;
    uint64_t id, ids[4000];
    int64_t wait;
    int i, j;
    size_t n = 0, dup = 0;
    memset(&sc, 0, sizeof sc);
    sc.node_bits = 2;   /* 4 worker ids */
    sc.seq_bits = 12;
    sc.time_bits = 41;
    CHECKST(&r, open_node(&r, env("DS_REDIS_SOCK"), 2000000000), DS_OK);
    for (i = 0; i < 4; i++) CHECKST(&r, ds_redis_worker_acquire(&w[i], &r, "gen", &sc, 2000000000), DS_OK);
    for (i = 0; i < 4; i++)
        for (j = 0; j < i; j++) CHECK(ds_redis_worker_id(&w[i]) != ds_redis_worker_id(&w[j]));
    CHECKST(&r, ds_redis_worker_acquire(&x, &r, "gen", &sc, 2000000000), DS_EFULL); /* all 4 leased */
    for (j = 0; j < 1000; j++)
        for (i = 0; i < 4; i++)
            if (ds_redis_worker_next(&w[i], &id, &wait) == DS_OK) ids[n++] = id;
    qsort(ids, n, sizeof ids[0], cmp_u64);
    for (j = 1; j < (int)n; j++) dup += ids[j] == ids[j - 1];
    CHECK(n > 3000 && dup == 0);
    /* Lease loss: someone else holds worker 0's key now. */
    {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "SET %s other", w[0].key);
        raw_int(env("DS_REDIS_SOCK"), cmd);
    }
    CHECKST(&r, ds_redis_worker_renew(&w[0]), DS_EBUSY);
    CHECKST(&r, ds_redis_worker_next(&w[0], &id, &wait), DS_EBUSY);
    CHECK(wait == -1);
    CHECKST(&r, ds_redis_worker_next(&w[1], &id, &wait), DS_OK);
    /* Release frees the id for another generator. */
    ds_redis_worker_release(&w[1]);
    CHECKST(&r, ds_redis_worker_acquire(&x, &r, "gen", &sc, 2000000000), DS_OK);
    CHECK(ds_redis_worker_id(&x) == ds_redis_worker_id(&w[1]));
    ds_redis_free(&r);
}

/* ---------------------------------------------------------------------- */
/* Faults on a private server: killed, restarted, slow past the timeout. */
static void test_faults_kill_restart(void) {
    priv_server ps;
    ds_redis r;
    ds_redis_limiter lo, lc, lr;
    ds_redis_limiter_config rc;
    ds_limit_result res;
    int64_t t0, dt;
    int i, ok = 0;
    memset(&rc, 0, sizeof rc);
    rc.limit.limit = 3;
    rc.limit.algo = DS_LIMIT_FIXED_WINDOW;
    rc.limit.period_ns = 60000000000;
    if (!priv_start(&ps, "fault1")) {
        CHECK(0);
        return;
    }
    CHECKST(&r, open_node(&r, ps.sock, 300000000), DS_OK);
    rc.name = "open"; rc.on_error = DS_REDIS_FAIL_OPEN;
    CHECKST(&r, ds_redis_limiter_init(&lo, &r, &rc), DS_OK);
    rc.name = "closed"; rc.on_error = DS_REDIS_FAIL_CLOSED;
    CHECKST(&r, ds_redis_limiter_init(&lc, &r, &rc), DS_OK);
    rc.name = "report"; rc.on_error = DS_REDIS_FAIL_REPORT;
    CHECKST(&r, ds_redis_limiter_init(&lr, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&lr, "a", 1, 1, 1000, &res), DS_OK);
    priv_kill(&ps);
    t0 = ds_now_ns();
    CHECKST(&r, ds_redis_limiter_take(&lr, "a", 1, 1, 1000, &res), DS_EIO);
    CHECKST(&r, ds_redis_limiter_take(&lo, "a", 1, 1, 1000, &res), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&lc, "a", 1, 1, 1000, &res), DS_EREFUSED);
    dt = ds_now_ns() - t0;
    CHECK(dt < 1000000000); /* three calls, no hang */
    CHECK(lo.degraded == 1 && lc.degraded == 1 && lr.degraded == 0);
    CHECKST(&r, ds_redis_ping(&r), DS_EIO);
    /* Restarted (empty: no persistence): service resumes after the backoff. */
    if (!priv_start(&ps, "fault1")) {
        CHECK(0);
        ds_redis_free(&r);
        return;
    }
    t0 = ds_now_ns();
    for (i = 0; i < 200 && !ok; i++) {
        ok = ds_redis_limiter_take(&lr, "a", 1, 1, 1000, &res) == DS_OK;
        if (!ok) sleep_ms(10);
    }
    CHECK(ok);
    CHECK(ds_now_ns() - t0 < 1500000000);
    CHECKST(&r, ds_redis_ping(&r), DS_OK);
    CHECK(ds_redis_get_stats(&r).connects >= 2);
    /* SCRIPT FLUSH: NOSCRIPT reloads and the call goes through. */
    raw_int(ps.sock, "SCRIPT FLUSH");
    CHECKST(&r, ds_redis_limiter_take(&lr, "a", 1, 1, 1000, &res), DS_OK);
    CHECK(res.remaining == 1);
    CHECK(ds_redis_get_stats(&r).noscript >= 1);
    priv_kill(&ps);
    ds_redis_free(&r);
}

static void test_faults_slow_server(void) {
    priv_server ps;
    ds_redis r;
    ds_redis_limiter l;
    ds_redis_limiter_config rc;
    ds_limit_result res;
    redisContext *slow;
    int64_t t0, dt;
    int i, ok = 0;
    memset(&rc, 0, sizeof rc);
    rc.limit.limit = 5;
    rc.limit.algo = DS_LIMIT_FIXED_WINDOW;
    rc.limit.period_ns = 60000000000;
    rc.name = "slow";
    rc.on_error = DS_REDIS_FAIL_REPORT;
    if (!priv_start(&ps, "slow1")) {
        CHECK(0);
        return;
    }
    CHECKST(&r, open_node(&r, ps.sock, 200000000), DS_OK);
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    slow = redisConnectUnix(ps.sock);
    CHECK(slow && !slow->err);
    redisAppendCommand(slow, "DEBUG SLEEP 1");
    { int done = 0; redisBufferWrite(slow, &done); }
    sleep_ms(50);
    t0 = ds_now_ns();
    CHECKST(&r, ds_redis_limiter_take(&l, "x", 1, 1, 5000, &res), DS_EIO);
    dt = ds_now_ns() - t0;
    CHECK(dt >= 150000000 && dt < 600000000); /* within the 200 ms timeout (+ slack) */
    printf("    slow server: DS_EIO after %lld ms (timeout 200 ms)\n", (long long)(dt / 1000000));
    /* The timed-out call ran once the server woke: it is not resent, so
     * exactly one unit is counted. */
    for (i = 0; i < 300 && !ok; i++) {
        ok = ds_redis_limiter_take(&l, "x", 1, 0, 5000, &res) == DS_OK;
        if (!ok) sleep_ms(10);
    }
    CHECK(ok);
    CHECK(res.remaining == 4);
    redisFree(slow);
    priv_kill(&ps);
    ds_redis_free(&r);
}

/* A fake server on a unix socket: mode 0 answers garbage, 1 answers every
 * command with a 40-byte bulk string (SCRIPT LOAD passes, the rest is the
 * wrong shape), 2 never answers. */
typedef struct fake_srv {
    int fd, mode, stop;
    char path[256];
    pthread_t th;
} fake_srv;
static void *fake_main(void *p) {
    fake_srv *f = (fake_srv *)p;
    while (!f->stop) {
        int c = accept(f->fd, NULL, NULL);
        char buf[4096];
        if (c < 0) continue;
        for (;;) {
            ssize_t k = read(c, buf, sizeof buf);
            if (k <= 0 || f->stop) break;
            if (f->mode == 0) {
                static const char g[] = "%%garbage!\r\n\x01\x02";
                if (write(c, g, sizeof g - 1) < 0) break;
            } else if (f->mode == 1) {
                static const char s[] = "$40\r\n0123456789012345678901234567890123456789\r\n";
                if (write(c, s, sizeof s - 1) < 0) break;
            }
        }
        close(c);
    }
    return NULL;
}
static int fake_start(fake_srv *f, int mode, const char *name) {
    struct sockaddr_un a;
    memset(f, 0, sizeof *f);
    f->mode = mode;
    snprintf(f->path, sizeof f->path, "%s/%s.sock", env("DS_REDIS_DIR"), name);
    unlink(f->path);
    f->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, f->path, sizeof a.sun_path - 1);
    if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(f->fd, 8) != 0) return 0;
    return pthread_create(&f->th, NULL, fake_main, f) == 0;
}
static void fake_stop(fake_srv *f) {
    f->stop = 1;
    shutdown(f->fd, SHUT_RDWR);
    {
        redisContext *c = redisConnectUnix(f->path); /* wake accept */
        if (c) redisFree(c);
    }
    pthread_join(f->th, NULL);
    close(f->fd);
    unlink(f->path);
}

static void test_bad_input(void) {
    ds_redis r, z;
    ds_redis_config c;
    ds_redis_limiter l;
    ds_redis_limiter_config rc;
    ds_redis_idem s;
    ds_redis_idblock b;
    ds_limit_result res;
    ds_status out[2];
    char longkey[600];
    const void *keys[2];
    size_t lens[2];
    uint64_t ns[2] = {1, 1}, id;
    const char *bad1[1] = {"nohostport"}, *bad2[1] = {"127.0.0.1:99999"}, *refused[1] = {"127.0.0.1:1"};
    ds_idem_state st;
    fake_srv f;
    int64_t t0;
    memset(longkey, 'k', sizeof longkey);
    memset(&z, 0, sizeof z);
    ds_redis_free(&z); /* zeroed: a no-op */
    ds_redis_free(NULL);
    CHECK(ds_redis_init(NULL, NULL) == DS_EINVAL);
    memset(&c, 0, sizeof c);
    c.nodes = bad1; c.n_nodes = 1;
    CHECK(ds_redis_init(&z, &c) == DS_EINVAL);
    ds_redis_free(&z); /* after a failed init: a no-op */
    c.nodes = bad2;
    CHECK(ds_redis_init(&z, &c) == DS_EINVAL);
    c.nodes = refused;
    CHECK(ds_redis_init(&z, &c) == DS_EIO);
    c.prefix = "a{b";
    CHECK(ds_redis_init(&z, &c) == DS_EINVAL);
    CHECK(ds_redis_ping(NULL) == DS_EINVAL && ds_redis_time_ns(NULL, NULL) == DS_EINVAL);
    CHECKST(&r, open_node(&r, env("DS_REDIS_SOCK"), 1000000000), DS_OK);
    memset(&rc, 0, sizeof rc);
    rc.limit.limit = 5;
    rc.limit.algo = DS_LIMIT_GCRA;
    rc.limit.period_ns = 1000;
    rc.name = "bad";
    CHECK(ds_redis_limiter_init(NULL, &r, &rc) == DS_EINVAL);
    CHECK(ds_redis_limiter_init(&l, NULL, &rc) == DS_EINVAL);
    rc.name = "";
    CHECK(ds_redis_limiter_init(&l, &r, &rc) == DS_EINVAL);
    rc.name = "x{y}";
    CHECK(ds_redis_limiter_init(&l, &r, &rc) == DS_EINVAL);
    rc.name = "bad";
    rc.limit.period_ns = 0;
    CHECK(ds_redis_limiter_init(&l, &r, &rc) == DS_EINVAL);
    rc.limit.period_ns = 1000;
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    CHECK(ds_redis_limiter_take(NULL, "a", 1, 1, 0, &res) == DS_EINVAL);
    CHECK(ds_redis_limiter_take(&l, NULL, 1, 1, 0, &res) == DS_EINVAL);
    CHECK(ds_redis_limiter_take(&l, "a", 0, 1, 0, &res) == DS_EINVAL);
    CHECK(ds_redis_limiter_take(&l, longkey, 513, 1, 0, &res) == DS_EINVAL);
    CHECK(ds_redis_limiter_take(&l, longkey, 512, 1, 0, &res) == DS_OK);
    CHECK(ds_redis_limiter_take(&l, "a", 1, 1, -5, &res) == DS_EINVAL);
    CHECK(ds_redis_limiter_take(&l, "a", 1, UINT64_MAX, INT64_MAX, &res) == DS_EREFUSED);
    CHECK(res.retry_after_ns == -1);
    keys[0] = "a"; lens[0] = 1; keys[1] = ""; lens[1] = 0;
    CHECK(ds_redis_limiter_take_batch(&l, 2, keys, lens, ns, 0, out, NULL) == DS_EINVAL);
    CHECK(ds_redis_limiter_take_batch(&l, 0, NULL, NULL, NULL, 0, NULL, NULL) == DS_OK);
    CHECK(ds_redis_idem_init(&s, &r, NULL) == DS_OK);
    CHECK(ds_redis_idem_begin(&s, NULL, 1, "k", 1, 1, 0, &st, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_redis_idem_begin(&s, "s", 1, "", 0, 1, 0, &st, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_redis_idem_begin(&s, "s", 1, longkey, 512, 1, 0, &st, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_redis_idem_begin(&s, "s", 1, "k", 1, 1, 0, NULL, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_redis_idem_complete(&s, "s", 1, "k", 1, 0, "x", 1) == DS_EINVAL);
    CHECK(ds_redis_idem_complete(&s, "s", 1, "k", 1, 5, NULL, 3) == DS_EINVAL);
    CHECK(ds_redis_idem_complete(NULL, "s", 1, "k", 1, 5, "x", 1) == DS_EINVAL);
    ds_redis_idem_free(&s);
    CHECK(ds_redis_idblock_init(&b, &r, "", 10) == DS_EINVAL);
    CHECK(ds_redis_idblock_next(NULL, &id) == DS_EINVAL);
    /* A user's key of the wrong type under our name: DS_EIO, no crash. */
    raw_int(env("DS_REDIS_SOCK"), "HSET ds:l:bad:{wrongtype} f v");
    rc.on_error = DS_REDIS_FAIL_REPORT;
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    CHECK(ds_redis_limiter_take(&l, "wrongtype", 9, 1, 0, &res) == DS_EIO);
    ds_redis_free(&r);
    /* A closed handle: every call says DS_EINVAL. */
    CHECK(ds_redis_ping(&r) == DS_EINVAL);
    /* Fake servers. */
    if (fake_start(&f, 0, "fake0")) {
        t0 = ds_now_ns();
        CHECK(open_node(&r, f.path, 300000000) == DS_EIO);
        CHECK(ds_now_ns() - t0 < 1000000000);
        fake_stop(&f);
    } else CHECK(0);
    if (fake_start(&f, 1, "fake1")) {
        CHECKST(&r, open_node(&r, f.path, 300000000), DS_OK);
        rc.name = "fake";
        ds_redis_limiter_init(&l, &r, &rc);
        CHECK(ds_redis_limiter_take(&l, "a", 1, 1, 0, &res) == DS_EIO);
        CHECK(ds_redis_ping(&r) == DS_EIO);
        CHECK(ds_redis_time_ns(&r, &t0) == DS_EIO);
        CHECK(ds_redis_idem_init(&s, &r, NULL) == DS_OK);
        CHECK(ds_redis_idem_begin(&s, "s", 1, "k", 1, 1, 0, &st, NULL, NULL, NULL) == DS_EIO);
        CHECK(ds_redis_idblock_init(&b, &r, "x", 10) == DS_OK && ds_redis_idblock_next(&b, &id) == DS_EIO);
        ds_redis_free(&r);
        fake_stop(&f);
    } else CHECK(0);
    if (fake_start(&f, 2, "fake2")) {
        t0 = ds_now_ns();
        CHECK(open_node(&r, f.path, 200000000) == DS_EIO); /* SCRIPT LOAD times out */
        CHECK(ds_now_ns() - t0 < 800000000);
        fake_stop(&f);
    } else CHECK(0);
}

/* ---------------------------------------------------------------------- */
static void test_sharded_ketama(void) {
    ds_redis r;
    ds_ring ring;
    ds_ring_config rcfg;
    ds_redis_limiter l;
    ds_redis_limiter_config rc;
    static char buf[8][64];
    const char *nodes[8];
    size_t nn = split(env("DS_REDIS_SHARDS"), buf, nodes), i;
    int k, per[8] = {0};
    flush_all();
    CHECKST(&r, open_multi(&r, DS_REDIS_SHARDED, env("DS_REDIS_SHARDS")), DS_OK);
    CHECK(r.nodes[0].module == 1 && r.nodes[1].module == 0 && r.nodes[2].module == 1);
    limiter_differential_on(&r, "k", 60);
    batch_differential(&r, "kbatch", DS_LIMIT_GCRA, 20); /* DS.LIMITN on two shards, the script on one */
    batch_differential(&r, "kbatchw", DS_LIMIT_FIXED_WINDOW, 20);
    memset(&rc, 0, sizeof rc);
    rc.limit.limit = 1;
    rc.limit.algo = DS_LIMIT_FIXED_WINDOW;
    rc.limit.period_ns = 60000000000;
    rc.name = "route";
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    memset(&rcfg, 0, sizeof rcfg);
    rcfg.mode = DS_RING_KETAMA;
    ds_ring_init(&ring, &rcfg);
    for (i = 0; i < nn; i++) ds_ring_add(&ring, nodes[i], strlen(nodes[i]), 1, NULL);
    for (k = 0; k < 300; k++) {
        char key[16];
        snprintf(key, sizeof key, "user%d", k);
        CHECKST(&r, ds_redis_limiter_allow(&l, key, strlen(key), 1, 0), DS_OK);
        per[ds_ring_get(&ring, key, strlen(key))]++;
    }
    /* Each node holds exactly the keys the ketama ring gives it. */
    for (i = 0; i < nn; i++) {
        char cmd[64];
        long long cnt;
        redisContext *c = raw_connect(nodes[i]);
        redisReply *y = (redisReply *)redisCommand(c, "EVAL %s 0", "return #redis.call('KEYS','ds:l:route:*')");
        cnt = y && y->type == REDIS_REPLY_INTEGER ? y->integer : -1;
        if (y) freeReplyObject(y);
        redisFree(c);
        (void)cmd;
        CHECK(cnt == per[i] && per[i] > 30);
    }
    ds_ring_free(&ring);
    ds_redis_free(&r);
}

static void test_cluster(void) {
    ds_redis r;
    ds_redis_limiter l;
    ds_redis_limiter_config rc;
    ds_redis_idem s;
    ds_idem_state st;
    uint64_t tok;
    int k, i;
    const void *keys[64];
    size_t lens[64];
    uint64_t ns[64];
    ds_status out[64];
    char kb[64][16];
    /* The CRC16 of the cluster spec's example and hash tags. */
    CHECK(ds_redis_slot("123456789", 9) == (0x31C3 & 16383));
    CHECK(ds_redis_slot("{user1000}.following", 20) == ds_redis_slot("user1000", 8));
    CHECK(ds_redis_slot("foo{}{bar}", 10) == ds_redis_slot("foo{}{bar}", 10) &&
          ds_redis_slot("foo{}{bar}", 10) != ds_redis_slot("bar", 3));
    CHECK(ds_redis_slot("foo{{bar}}zap", 13) == ds_redis_slot("{bar", 4));
    CHECKST(&r, open_multi(&r, DS_REDIS_CLUSTER, env("DS_REDIS_CLUSTER")), DS_OK);
    CHECK(r.n_nodes == 6); /* the seeds: 3 masters, 3 replicas */
    limiter_differential_on(&r, "c", 40);
    batch_differential(&r, "cbatch", DS_LIMIT_TOKEN_BUCKET, 20);
    CHECK(ds_redis_get_stats(&r).module_calls > 0); /* every cluster node has the module */
    /* The module's admissions reach the replica as SET key state PXAT. */
    {
        ds_redis_limiter lr;
        unsigned slot = ds_redis_slot("ds:l:repl:{rk}", 14);
        char maddr[64], mstate[80], rstate[80];
        static char cb[8][64];
        const char *cn[8];
        size_t nn = split(env("DS_REDIS_CLUSTER"), cb, cn), j;
        int found = 0;
        memset(&rc, 0, sizeof rc);
        rc.limit.limit = 10;
        rc.limit.algo = DS_LIMIT_GCRA;
        rc.limit.period_ns = 1000000000;
        rc.name = "repl";
        rc.on_error = DS_REDIS_FAIL_REPORT;
        rc.engine = DS_REDIS_ENGINE_MODULE;
        CHECKST(&r, ds_redis_limiter_init(&lr, &r, &rc), DS_OK);
        CHECKST(&r, ds_redis_limiter_take(&lr, "rk", 2, 3, DS_REDIS_NOW_SERVER, NULL), DS_OK);
        snprintf(maddr, sizeof maddr, "%s:%d", r.nodes[r.slots[slot]].addr, r.nodes[r.slots[slot]].port);
        CHECK(raw_int(maddr, "WAIT 1 2000") >= 1);
        CHECK(raw_str(maddr, "GET ds:l:repl:{rk}", mstate, sizeof mstate) && strlen(mstate) == 32);
        for (j = 0; j < nn; j++) {
            redisContext *c = raw_connect(cn[j]);
            redisReply *y = c && !c->err ? (redisReply *)redisCommand(c, "ROLE") : NULL;
            int mine = y && y->type == REDIS_REPLY_ARRAY && y->elements >= 3 && y->element[0]->type == REDIS_REPLY_STRING &&
                       !strcmp(y->element[0]->str, "slave") && y->element[2]->type == REDIS_REPLY_INTEGER &&
                       y->element[2]->integer == r.nodes[r.slots[slot]].port;
            if (y) freeReplyObject(y);
            if (mine) {
                y = (redisReply *)redisCommand(c, "READONLY");
                if (y) freeReplyObject(y);
                y = (redisReply *)redisCommand(c, "GET ds:l:repl:{rk}");
                CHECK(y && y->type == REDIS_REPLY_STRING && y->len < sizeof rstate);
                if (y && y->type == REDIS_REPLY_STRING && y->len < sizeof rstate) {
                    memcpy(rstate, y->str, y->len);
                    rstate[y->len] = 0;
                    CHECK(!strcmp(rstate, mstate));
                }
                if (y) freeReplyObject(y);
                y = (redisReply *)redisCommand(c, "PTTL ds:l:repl:{rk}");
                CHECK(y && y->type == REDIS_REPLY_INTEGER && y->integer > 0 && y->integer <= 2000);
                if (y) freeReplyObject(y);
                found = 1;
            }
            if (c) redisFree(c);
        }
        CHECK(found);
    }
    /* A wrong slot map: MOVED is followed and the map refreshed. */
    for (i = 0; i < 16384; i++) r.slots[i] = (uint16_t)((r.slots[i] + 1) % 3);
    memset(&rc, 0, sizeof rc);
    rc.limit.limit = 2;
    rc.limit.algo = DS_LIMIT_SLIDING_LOG;
    rc.limit.period_ns = 60000000000;
    rc.name = "moved";
    rc.on_error = DS_REDIS_FAIL_REPORT;
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    for (k = 0; k < 64; k++) {
        snprintf(kb[k], sizeof kb[k], "m%d", k);
        keys[k] = kb[k];
        lens[k] = strlen(kb[k]);
        ns[k] = 1;
    }
    CHECKST(&r, ds_redis_limiter_take_batch(&l, 64, keys, lens, ns, 1000, out, NULL), DS_OK);
    for (k = 0; k < 64; k++) CHECK(out[k] == DS_OK);
    CHECK(ds_redis_get_stats(&r).moved > 0);
    CHECKST(&r, ds_redis_limiter_take_batch(&l, 64, keys, lens, ns, 1000, out, NULL), DS_OK);
    CHECKST(&r, ds_redis_limiter_take_batch(&l, 64, keys, lens, ns, 1000, out, NULL), DS_OK);
    for (k = 0; k < 64; k++) CHECK(out[k] == DS_EREFUSED);
    /* ASK: the key's slot is being migrated (MIGRATING on its owner,
     * IMPORTING on another node) and the key is not on the owner: the
     * owner answers ASK, the handle sends ASKING + the script there. */
    {
        char a_addr[64], b_addr[64], a_id[64], b_id[64], cmd[200];
        unsigned slot = ds_redis_slot("ds:l:ask:{askkey}", 17);
        size_t ai, bi;
        ds_redis_limiter la;
        rc.limit.algo = DS_LIMIT_GCRA; /* one key (a log's two keys get TRYAGAIN mid-migration) */
        rc.name = "ask";
        CHECKST(&r, ds_redis_limiter_init(&la, &r, &rc), DS_OK);
        ds_redis_refresh(&r);
        ai = r.slots[slot];
        for (bi = ai, i = 0; i < 16384 && bi == ai; i++) bi = r.slots[i]; /* another master */
        snprintf(a_addr, sizeof a_addr, "%s:%d", r.nodes[ai].addr, r.nodes[ai].port);
        snprintf(b_addr, sizeof b_addr, "%s:%d", r.nodes[bi].addr, r.nodes[bi].port);
        CHECK(raw_str(a_addr, "CLUSTER MYID", a_id, sizeof a_id) && raw_str(b_addr, "CLUSTER MYID", b_id, sizeof b_id));
        snprintf(cmd, sizeof cmd, "CLUSTER SETSLOT %u IMPORTING %s", slot, a_id);
        CHECK(raw_int(b_addr, cmd) == 0);
        snprintf(cmd, sizeof cmd, "CLUSTER SETSLOT %u MIGRATING %s", slot, b_id);
        CHECK(raw_int(a_addr, cmd) == 0);
        CHECKST(&r, ds_redis_limiter_take(&la, "askkey", 6, 1, 1000, NULL), DS_OK);
        CHECK(ds_redis_get_stats(&r).ask >= 1);
        snprintf(cmd, sizeof cmd, "CLUSTER SETSLOT %u STABLE", slot);
        raw_int(a_addr, cmd);
        raw_int(b_addr, cmd);
        {
            redisContext *c = raw_connect(b_addr); /* the key landed on b: drop it */
            redisReply *y = (redisReply *)redisCommand(c, "DEL ds:l:ask:{askkey}");
            if (y) freeReplyObject(y);
            redisFree(c);
        }
    }
    CHECKST(&r, ds_redis_idem_init(&s, &r, NULL), DS_OK);
    CHECKST(&r, ds_redis_idem_begin(&s, "c", 1, "k", 1, 5, DS_REDIS_NOW_SERVER, &st, &tok, NULL, NULL), DS_OK);
    CHECK(st == DS_IDEM_NEW);
    CHECKST(&r, ds_redis_idem_complete(&s, "c", 1, "k", 1, tok, "ok", 2), DS_OK);
    ds_redis_idem_free(&s);
    ds_redis_free(&r);
}


/* ---------------------------------------------------------------------- */
static int loads;
static ds_status db_loader(void *ctx, const void *key, size_t len, const void **val, size_t *vlen) {
    static char buf[64];
    (void)ctx;
    loads++;
    if (len == 7 && !memcmp(key, "missing", 7)) return DS_ENOTFOUND;
    snprintf(buf, sizeof buf, "db:%.*s", (int)len, (const char *)key);
    *val = buf;
    *vlen = strlen(buf);
    return DS_OK;
}
static void test_cache_two_tier(void) {
    ds_redis ra, rb;
    ds_redis_cache a, b;
    ds_redis_cache_config cc;
    const void *v;
    size_t vl;
    int64_t now = ds_now_ns();
    int i, seen = 0;
    memset(&cc, 0, sizeof cc);
    cc.name = "c2";
    cc.l1_ttl_ns = 300000000;
    CHECKST(&ra, open_node(&ra, env("DS_REDIS_SOCK"), 1000000000), DS_OK);
    CHECKST(&rb, open_node(&rb, env("DS_REDIS_SOCK"), 1000000000), DS_OK);
    CHECKST(&ra, ds_redis_cache_init(&a, &ra, &cc), DS_OK);
    CHECKST(&rb, ds_redis_cache_init(&b, &rb, &cc), DS_OK);
    loads = 0;
    /* read-through: loader once, then Redis (b), then L1 */
    CHECKST(&ra, ds_redis_cache_get(&a, "u1", 2, now, db_loader, NULL, &v, &vl), DS_OK);
    CHECK(vl == 5 && !memcmp(v, "db:u1", 5) && loads == 1);
    CHECKST(&rb, ds_redis_cache_get(&b, "u1", 2, now, db_loader, NULL, &v, &vl), DS_OK);
    CHECK(vl == 5 && !memcmp(v, "db:u1", 5) && loads == 1 && b.stats.l2_hits == 1);
    CHECKST(&rb, ds_redis_cache_get(&b, "u1", 2, now, db_loader, NULL, &v, &vl), DS_OK);
    CHECK(b.stats.l1_hits == 1);
    CHECKST(&ra, ds_redis_cache_get(&a, "missing", 7, now, db_loader, NULL, &v, &vl), DS_ENOTFOUND);
    CHECKST(&ra, ds_redis_cache_get(&a, "nope", 4, now, NULL, NULL, &v, &vl), DS_ENOTFOUND);
    /* write-through + invalidation: b's L1 drops u1 and sees the new value */
    CHECKST(&ra, ds_redis_cache_set(&a, "u1", 2, "new", 3, now), DS_OK);
    for (i = 0; i < 100 && !seen; i++) {
        CHECKST(&rb, ds_redis_cache_get(&b, "u1", 2, now, db_loader, NULL, &v, &vl), DS_OK);
        seen = vl == 3 && !memcmp(v, "new", 3);
        if (!seen) sleep_ms(2);
    }
    CHECK(seen && b.stats.invalidations >= 1);
    CHECKST(&ra, ds_redis_cache_del(&a, "u1", 2, now), DS_OK);
    sleep_ms(20);
    loads = 0;
    CHECKST(&rb, ds_redis_cache_get(&b, "u1", 2, now, db_loader, NULL, &v, &vl), DS_OK);
    CHECK(loads == 1 && vl == 5);
    /* the hard bound: a stale L1 entry (no invalidation: written behind
     * the cache's back) is gone after l1_ttl */
    raw_int(env("DS_REDIS_SOCK"), "SET ds:c:c2:{u1} behind");
    CHECKST(&rb, ds_redis_cache_get(&b, "u1", 2, now + 100000000, NULL, NULL, &v, &vl), DS_OK);
    CHECK(vl == 5); /* still the L1's */
    CHECKST(&rb, ds_redis_cache_get(&b, "u1", 2, now + 400000000, NULL, NULL, &v, &vl), DS_OK);
    CHECK(vl == 6 && !memcmp(v, "behind", 6));
    CHECK(ds_redis_cache_get(&b, "", 0, now, NULL, NULL, &v, &vl) == DS_EINVAL);
    CHECK(ds_redis_cache_get(NULL, "a", 1, now, NULL, NULL, &v, &vl) == DS_EINVAL);
    ds_redis_cache_free(&a);
    ds_redis_cache_free(&b);
    ds_redis_free(&ra);
    ds_redis_free(&rb);
}

/* Redis killed: reads fall back to the loader and L1; restarted: back. */
static void test_cache_server_down(void) {
    priv_server ps;
    ds_redis r;
    ds_redis_cache c;
    const void *v;
    size_t vl;
    int64_t now = ds_now_ns();
    if (!priv_start(&ps, "cache1")) {
        CHECK(0);
        return;
    }
    CHECKST(&r, open_node(&r, ps.sock, 300000000), DS_OK);
    CHECKST(&r, ds_redis_cache_init(&c, &r, NULL), DS_OK);
    CHECKST(&r, ds_redis_cache_get(&c, "k", 1, now, db_loader, NULL, &v, &vl), DS_OK);
    priv_kill(&ps);
    CHECKST(&r, ds_redis_cache_get(&c, "k", 1, now, db_loader, NULL, &v, &vl), DS_OK); /* L1 cleared: loader */
    CHECKST(&r, ds_redis_cache_get(&c, "k2", 2, now, db_loader, NULL, &v, &vl), DS_OK);
    CHECK(vl == 5 && !memcmp(v, "db:k2", 5));
    CHECK(ds_redis_cache_set(&c, "k", 1, "x", 1, now) == DS_EIO);
    ds_redis_cache_free(&c);
    ds_redis_free(&r);
}

/* The two-tier cache on the cluster: keys spread over the masters, the
 * invalidation channel on one of them (PUBLISH reaches every node). */
static void test_cache_cluster(void) {
    ds_redis ra, rb;
    ds_redis_cache a, b;
    ds_redis_cache_config cc;
    const void *v;
    size_t vl;
    int k, seen = 0, i;
    int64_t now = ds_now_ns();
    memset(&cc, 0, sizeof cc);
    cc.name = "cc";
    CHECKST(&ra, open_multi(&ra, DS_REDIS_CLUSTER, env("DS_REDIS_CLUSTER")), DS_OK);
    CHECKST(&rb, open_multi(&rb, DS_REDIS_CLUSTER, env("DS_REDIS_CLUSTER")), DS_OK);
    CHECKST(&ra, ds_redis_cache_init(&a, &ra, &cc), DS_OK);
    CHECKST(&rb, ds_redis_cache_init(&b, &rb, &cc), DS_OK);
    for (k = 0; k < 50; k++) {
        char key[16];
        snprintf(key, sizeof key, "item%d", k);
        CHECKST(&ra, ds_redis_cache_get(&a, key, strlen(key), now, db_loader, NULL, &v, &vl), DS_OK);
        CHECKST(&rb, ds_redis_cache_get(&b, key, strlen(key), now, db_loader, NULL, &v, &vl), DS_OK);
    }
    CHECK(b.stats.l2_hits == 50); /* b found every key a loaded, on its master */
    CHECKST(&ra, ds_redis_cache_set(&a, "item7", 5, "v2", 2, now), DS_OK);
    for (i = 0; i < 200 && !seen; i++) {
        CHECKST(&rb, ds_redis_cache_get(&b, "item7", 5, now, db_loader, NULL, &v, &vl), DS_OK);
        seen = vl == 2 && !memcmp(v, "v2", 2);
        if (!seen) sleep_ms(2);
    }
    CHECK(seen);
    ds_redis_cache_free(&a);
    ds_redis_cache_free(&b);
    ds_redis_free(&ra);
    ds_redis_free(&rb);
}

/* AUTH: none, wrong, right; a username (ACL). */
static void test_auth(void) {
    priv_server ps;
    ds_redis r;
    ds_redis_config c;
    const char *nodes[1];
    if (!priv_start(&ps, "auth1")) {
        CHECK(0);
        return;
    }
    CHECK(raw_int(ps.sock, "CONFIG SET requirepass s3cret") == 0);
    memset(&c, 0, sizeof c);
    nodes[0] = ps.sock;
    c.nodes = nodes;
    c.n_nodes = 1;
    c.command_timeout_ns = 500000000;
    CHECK(ds_redis_init(&r, &c) == DS_EIO); /* NOAUTH: the scripts cannot load */
    c.password = "wrong";
    CHECK(ds_redis_init(&r, &c) == DS_EIO);
    c.password = "s3cret";
    CHECKST(&r, ds_redis_init(&r, &c), DS_OK);
    CHECKST(&r, ds_redis_ping(&r), DS_OK);
    ds_redis_free(&r);
    c.username = "default";
    CHECKST(&r, ds_redis_init(&r, &c), DS_OK);
    ds_redis_free(&r);
    c.username = "nobody";
    CHECK(ds_redis_init(&r, &c) == DS_EIO);
    c.password = NULL; /* a username without a password */
    CHECK(ds_redis_init(&r, &c) == DS_EINVAL);
    priv_kill(&ps);
}

/* A master killed: calls fail fast (DS_EIO within the timeout) until its
 * replica takes over, then the refreshed slot map routes to it. */
static void test_cluster_failover(void) {
    ds_redis r;
    ds_redis_limiter l;
    ds_redis_limiter_config rc;
    char pidfile[300];
    unsigned slot = ds_redis_slot("ds:l:fo:{fokey}", 15);
    size_t m;
    FILE *f;
    int pid = 0, ok = 0, fails = 0;
    int64_t t0, worst = 0;
    static char buf[8][64];
    const char *nodes[8];
    ds_redis_config c;
    memset(&c, 0, sizeof c);
    c.mode = DS_REDIS_CLUSTER;
    c.n_nodes = split(env("DS_REDIS_CLUSTER"), buf, nodes);
    c.nodes = nodes;
    c.command_timeout_ns = 300000000;
    c.connect_timeout_ns = 300000000;
    c.backoff_min_ns = 20000000;
    c.backoff_max_ns = 200000000;
    CHECKST(&r, ds_redis_init(&r, &c), DS_OK);
    memset(&rc, 0, sizeof rc);
    rc.limit.limit = 1000;
    rc.limit.algo = DS_LIMIT_GCRA;
    rc.limit.period_ns = 1000000000;
    rc.name = "fo";
    rc.on_error = DS_REDIS_FAIL_REPORT;
    CHECKST(&r, ds_redis_limiter_init(&l, &r, &rc), DS_OK);
    CHECKST(&r, ds_redis_limiter_take(&l, "fokey", 5, 1, DS_REDIS_NOW_SERVER, NULL), DS_OK);
    m = r.slots[slot];
    snprintf(pidfile, sizeof pidfile, "%s/cluster-%d.pid", env("DS_REDIS_DIR"), r.nodes[m].port);
    f = fopen(pidfile, "r");
    if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0) {
        printf("  no pid file %s\n", pidfile);
        CHECK(0);
        if (f) fclose(f);
        ds_redis_free(&r);
        return;
    }
    fclose(f);
    kill((pid_t)pid, SIGKILL);
    t0 = ds_now_ns();
    while (ds_now_ns() - t0 < 20000000000) {
        int64_t s0 = ds_now_ns(), d;
        ds_status st = ds_redis_limiter_take(&l, "fokey", 5, 1, DS_REDIS_NOW_SERVER, NULL);
        d = ds_now_ns() - s0;
        if (d > worst) worst = d;
        if (st == DS_OK) { ok = 1; break; }
        CHECK(st == DS_EIO);
        fails++;
        sleep_ms(50);
    }
    printf("    failover: master on port %d killed; %d calls got DS_EIO (slowest %lld ms), served again after %.1f s\n",
           r.nodes[m].port, fails, (long long)(worst / 1000000), (double)(ds_now_ns() - t0) / 1e9);
    CHECK(ok);
    CHECK(worst < 1500000000); /* nothing hangs past the timeouts */
    CHECK(r.slots[slot] != m);
    ds_redis_free(&r);
}

/* ---------------------------------------------------------------------- */
typedef struct tcase {
    const char *name;
    void (*fn)(void);
} tcase;
static const tcase cases[] = {
    {"bad_input", test_bad_input},
    {"limiter_differential", test_limiter_differential},
    {"limiter_batch", test_limiter_batch},
    {"module_differential", test_module_differential},
    {"module_raw", test_module_raw},
    {"module_absent", test_module_absent},
    {"limiter_server_time", test_limiter_server_time},
    {"limiter_global_invariant", test_limiter_global_invariant},
    {"idem_fencing", test_idem_fencing},
    {"idem_processes", test_idem_processes},
    {"id_blocks", test_id_blocks},
    {"worker_leases", test_worker_leases},
    {"faults_kill_restart", test_faults_kill_restart},
    {"faults_slow_server", test_faults_slow_server},
    {"auth", test_auth},
    {"sharded_ketama", test_sharded_ketama},
    {"cluster", test_cluster},
    {"cache_two_tier", test_cache_two_tier},
    {"cache_server_down", test_cache_server_down},
    {"cache_cluster", test_cache_cluster},
    {"cluster_failover", test_cluster_failover}, /* last: leaves the cluster with a dead master */
};

int main(void) {
    const char *filter = getenv("DS_TEST");
    int passed = 0, failed = 0;
    size_t i;
    setvbuf(stdout, NULL, _IONBF, 0);

    flush_all();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t0;
        if (filter && *filter && !strstr(cases[i].name, filter)) continue;
        t_fail = 0;
        t0 = ds_now_ns();
        cases[i].fn();
        if (t_fail) {
            failed++;
            printf("FAIL  redis_%s\n", cases[i].name);
        } else {
            passed++;
            printf("ok    redis_%s (%.2f s)\n", cases[i].name, (double)(ds_now_ns() - t0) / 1e9);
        }
    }
    printf("%d passed, %d failed, 0 skipped\n", passed, failed);
    return failed ? 1 : 0;
}
