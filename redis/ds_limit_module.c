/* redis/ds_limit_module.c - DS.LIMIT: ds_limiter's decisions as a Redis
 * module command, the optional fast path of ds_redis_limiter.
 *
 * ds_redis.h decides with Lua scripts that redo ds_limiter's exact 128-bit
 * arithmetic on 16- and 32-bit limbs, about 10 us of server CPU a decision.
 * This module runs the very same C code as the in-process ds_limiter (the
 * ds.h it includes: ds__lim_take on a ds__lstate) on the state kept in a
 * Redis string, so its decisions are those of ds_limiter by construction,
 * at the cost of an ordinary key command. ds_redis_limiter uses it where a
 * node has it loaded and falls back to the scripts elsewhere.
 *
 *   build:  make build/ds_limit_module.so     (gcc -shared -fPIC, no deps)
 *   load:   redis-server --loadmodule /path/ds_limit_module.so
 *           (or MODULE LOAD; redis.conf: loadmodule /path/...)
 *
 *   DS.LIMIT key algo limit period_ns burst n now_ns slack_ms
 *     algo       ds_limit_algo: 0 token bucket, 1 leaky meter, 2 leaky
 *                shaper, 3 GCRA, 4 fixed window, 6 sliding counter (the
 *                sliding log, 5, keeps a list per key: Lua only)
 *     limit      units per period, 1..2^64-1
 *     period_ns  1..2^63-1
 *     burst      bucket size (0 = limit; the windows ignore it)
 *     n          units asked for, 0..2^64-1 (0 only looks)
 *     now_ns     the caller's time, 0..2^63-1, or "" for the server's
 *                clock (clock_gettime(CLOCK_REALTIME) in ns: the same clock
 *                as TIME, which the scripts read)
 *     slack_ms   added to the key's TTL, 0..2^63-1 (the TTL is at most
 *                10^12 ms, as the scripts')
 *   (all decimal). Reply, the shape of the scripts' reply:
 *     1) 1 admitted / 0 refused
 *     2) the key's state after the call: buckets the TAT as 32 lowercase
 *        hex digits (high 64 bits first), windows window index, current
 *        count, previous count as 3 x 16 hex digits
 *     3) now_ns as 16 hex digits (the resolved time when "" was given)
 *   Errors: wrong arity, a malformed or out-of-range number, an unknown
 *   algorithm or the sliding log, a key of another type (WRONGTYPE), a
 *   string that is not this algorithm's state: an error reply, nothing
 *   changed.
 *
 * State and TTL: exactly the scripts' (same key, same string), so the
 * scripts and the module can serve the same key (a rolling deploy, a node
 * without the module): an admission with n > 0 writes the new state and
 * sets the TTL to the time until the key is back at rest plus slack_ms
 * (at most 10^12 ms); a refusal or a look writes nothing. An absent key is
 * a key at rest.
 *
 * Replication: the command is not replicated verbatim (with now_ns = ""
 * a replica would decide again on its own clock, and it would need the
 * module). An admission propagates its effect instead, SET key state PXAT
 * <absolute ms>, to replicas and the AOF, so neither needs the module and
 * a replayed AOF restores the same state and expiry; a refusal or a look
 * propagates nothing. In a cluster the command is routed by its one key
 * (first/last/step 1/1/1), as any key command. */
#define _POSIX_C_SOURCE 200809L
#define DS_IMPLEMENTATION
#define DS_STATIC
#include "ds.h"
#include "ds_redismodule.h"

#include <time.h>

#define DS__RM_VERSION (DS_VERSION_MAJOR * 10000 + DS_VERSION_MINOR * 100 + DS_VERSION_PATCH)
#define DS__RM_MAX_TTL_MS 1000000000000LL

/* A decimal number with no sign, no spaces, no leading '+': 1..20 digits
 * that fit in 64 bits. */
static int ds__rm_u64(RedisModuleString *arg, uint64_t *v) {
    size_t len, i;
    const char *s = RedisModule_StringPtrLen(arg, &len);
    uint64_t x = 0;
    if (!s || !len || len > 20) return 0;
    for (i = 0; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9 || x > (UINT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

static void ds__rm_hex16(uint64_t v, char *out) {
    static const char dg[] = "0123456789abcdef";
    int i;
    for (i = 15; i >= 0; i--) {
        out[i] = dg[v & 15];
        v >>= 4;
    }
}
/* 16 lowercase hex digits (what the scripts write); 0 if not. */
static int ds__rm_unhex16(const char *s, uint64_t *v) {
    uint64_t x = 0;
    int i;
    for (i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else return 0;
        x = x << 4 | d;
    }
    *v = x;
    return 1;
}

/* The state as the scripts store it: buckets hi, lo (32 hex); windows t,
 * cur (lo), prev (hi) (48 hex). Returns the length. */
static size_t ds__rm_encode(int bucket, const ds__lstate *s, char *out) {
    if (bucket) {
        ds__rm_hex16(s->hi, out);
        ds__rm_hex16(s->lo, out + 16);
        return 32;
    }
    ds__rm_hex16((uint64_t)s->t, out);
    ds__rm_hex16(s->lo, out + 16);
    ds__rm_hex16(s->hi, out + 32);
    return 48;
}
static int ds__rm_decode(int bucket, const char *p, size_t len, ds__lstate *s) {
    uint64_t t;
    if (bucket) return len == 32 && ds__rm_unhex16(p, &s->hi) && ds__rm_unhex16(p + 16, &s->lo);
    if (len != 48 || !ds__rm_unhex16(p, &t) || !ds__rm_unhex16(p + 16, &s->lo) || !ds__rm_unhex16(p + 32, &s->hi) ||
        t > (uint64_t)INT64_MAX)
        return 0;
    s->t = (int64_t)t;
    return 1;
}

static int64_t ds__rm_clock_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0) return -1;
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

/* One request's settings, shared by every key of a DS.LIMITN. */
typedef struct ds__rmreq {
    ds_limit_config c;
    int bucket;
    int64_t now, wall;       /* wall: the clock in ns when read, else -1 */
    long long slack;
} ds__rmreq;

/* algo limit period_ns burst now_ns slack_ms; NULL or the error text. */
static const char *ds__rm_parse(RedisModuleString *const a[6], ds__rmreq *q) {
    uint64_t algo, limit, period, burst, nowu, slack;
    size_t nowlen;
    if (!ds__rm_u64(a[0], &algo) || algo >= DS_LIMIT_ALGOS) return "ERR DS.LIMIT: algo must be 0..6 (ds_limit_algo)";
    if (algo == DS_LIMIT_SLIDING_LOG) return "ERR DS.LIMIT: the sliding log (algo 5) is served by the Lua script only";
    if (!ds__rm_u64(a[1], &limit) || !limit) return "ERR DS.LIMIT: limit must be an integer in 1..2^64-1";
    if (!ds__rm_u64(a[2], &period) || !period || period > (uint64_t)INT64_MAX)
        return "ERR DS.LIMIT: period_ns must be an integer in 1..2^63-1";
    if (!ds__rm_u64(a[3], &burst)) return "ERR DS.LIMIT: burst must be an integer in 0..2^64-1";
    RedisModule_StringPtrLen(a[4], &nowlen);
    if (nowlen == 0) {
        if ((q->now = q->wall = ds__rm_clock_ns()) < 0) return "ERR DS.LIMIT: the clock failed";
    } else if (!ds__rm_u64(a[4], &nowu) || nowu > (uint64_t)INT64_MAX) {
        return "ERR DS.LIMIT: now_ns must be an integer in 0..2^63-1 or empty";
    } else {
        q->now = (int64_t)nowu;
        q->wall = -1; /* read when an admission needs it */
    }
    if (!ds__rm_u64(a[5], &slack) || slack > (uint64_t)INT64_MAX)
        return "ERR DS.LIMIT: slack_ms must be an integer in 0..2^63-1";
    q->slack = slack > (uint64_t)DS__RM_MAX_TTL_MS ? DS__RM_MAX_TTL_MS : (long long)slack; /* the TTL's cap anyway */
    q->c.limit = limit;
    q->c.algo = (ds_limit_algo)algo;
    q->c.period_ns = (int64_t)period;
    q->c.burst = burst;
    q->bucket = algo <= DS_LIMIT_GCRA;
    return NULL;
}

/* One decision on one key: its reply (the 3-element array, or an error). */
static void ds__rm_decide(RedisModuleCtx *ctx, ds__rmreq *q, RedisModuleString *keyname, uint64_t n) {
    ds__lstate s;
    size_t len;
    RedisModuleKey *key;
    int type, admitted;
    char buf[48], nowhex[16];
    memset(&s, 0, sizeof s);
    key = (RedisModuleKey *)RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ | REDISMODULE_WRITE);
    type = RedisModule_KeyType(key);
    if (type == REDISMODULE_KEYTYPE_STRING) {
        const char *p = RedisModule_StringDMA(key, &len, REDISMODULE_READ);
        if (!p || !ds__rm_decode(q->bucket, p, len, &s)) {
            RedisModule_CloseKey(key);
            RedisModule_ReplyWithError(ctx, q->bucket ? "ERR DS.LIMIT: the key holds no bucket state (32 hex digits)"
                                                      : "ERR DS.LIMIT: the key holds no window state (48 hex digits)");
            return;
        }
    } else if (type != REDISMODULE_KEYTYPE_EMPTY) {
        RedisModule_CloseKey(key);
        RedisModule_ReplyWithError(ctx, "WRONGTYPE Operation against a key holding the wrong kind of value");
        return;
    }
    /* ds_limiter's own decision (no allocation for these algorithms) */
    admitted = ds__lim_take(&q->c, &s, n, q->now, NULL, NULL) == DS_OK;
    len = ds__rm_encode(q->bucket, &s, buf);
    if (admitted && n) {
        int64_t rest = ds__lim_rest_in(&q->c, &s, ds__lim_clamp(&q->c, &s, q->now));
        long long ttl = (long long)(rest / 1000000 + (rest % 1000000 != 0)) + q->slack;
        char *w;
        size_t wl;
        if (ttl > DS__RM_MAX_TTL_MS) ttl = DS__RM_MAX_TTL_MS;
        if (ttl < 1) ttl = 1;
        if (RedisModule_StringTruncate(key, len) != REDISMODULE_OK ||
            !(w = RedisModule_StringDMA(key, &wl, REDISMODULE_WRITE)) || wl != len) {
            RedisModule_CloseKey(key);
            RedisModule_ReplyWithError(ctx, "ERR DS.LIMIT: could not write the key");
            return;
        }
        memcpy(w, buf, len);
        RedisModule_SetExpire(key, ttl);
        if (q->wall < 0) q->wall = ds__rm_clock_ns();
        RedisModule_Replicate(ctx, "SET", "sbcl", keyname, buf, len, "PXAT",
                              (q->wall < 0 ? RedisModule_Milliseconds() : q->wall / 1000000) + ttl);
    }
    RedisModule_CloseKey(key);
    ds__rm_hex16((uint64_t)q->now, nowhex);
    RedisModule_ReplyWithArray(ctx, 3);
    RedisModule_ReplyWithLongLong(ctx, admitted);
    RedisModule_ReplyWithStringBuffer(ctx, buf, len);
    RedisModule_ReplyWithStringBuffer(ctx, nowhex, 16);
}

/* DS.LIMIT key algo limit period_ns burst n now_ns slack_ms */
static int ds__rm_limit(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    RedisModuleString *a[6];
    ds__rmreq q;
    const char *err;
    uint64_t n;
    if (argc != 9) return RedisModule_WrongArity(ctx);
    a[0] = argv[2], a[1] = argv[3], a[2] = argv[4], a[3] = argv[5], a[4] = argv[7], a[5] = argv[8];
    if ((err = ds__rm_parse(a, &q)) != NULL) return RedisModule_ReplyWithError(ctx, err);
    if (!ds__rm_u64(argv[6], &n)) return RedisModule_ReplyWithError(ctx, "ERR DS.LIMIT: n must be an integer in 0..2^64-1");
    ds__rm_decide(ctx, &q, argv[1], n);
    return REDISMODULE_OK;
}

/* DS.LIMITN algo limit period_ns burst now_ns slack_ms key n [key n ...]:
 * the keys decided in order, in one command (a pipelined batch's keys on
 * one node, without a command's overhead each); the reply is an array
 * with each key's DS.LIMIT reply (or its error). Every argument is
 * checked before the first decision: a bad one fails the whole call. */
static int ds__rm_limitn(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    ds__rmreq q;
    const char *err;
    uint64_t n;
    int i;
    if (argc < 9 || (argc - 7) % 2 != 0) return RedisModule_WrongArity(ctx);
    if ((err = ds__rm_parse(argv + 1, &q)) != NULL) return RedisModule_ReplyWithError(ctx, err);
    for (i = 8; i < argc; i += 2)
        if (!ds__rm_u64(argv[i], &n)) return RedisModule_ReplyWithError(ctx, "ERR DS.LIMIT: n must be an integer in 0..2^64-1");
    RedisModule_ReplyWithArray(ctx, (argc - 7) / 2);
    for (i = 7; i < argc; i += 2) {
        ds__rm_u64(argv[i + 1], &n);
        ds__rm_decide(ctx, &q, argv[i], n);
    }
    return REDISMODULE_OK;
}

__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv,
                                                              int argc);
__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv,
                                                              int argc) {
    (void)argv;
    (void)argc;
    if (ds__rm_init(ctx, "dslimit", DS__RM_VERSION) != REDISMODULE_OK) return REDISMODULE_ERR;
    if (RedisModule_CreateCommand(ctx, "ds.limit", ds__rm_limit, "write deny-oom fast", 1, 1, 1) != REDISMODULE_OK ||
        RedisModule_CreateCommand(ctx, "ds.limitn", ds__rm_limitn, "write deny-oom", 7, -1, 2) != REDISMODULE_OK)
        return REDISMODULE_ERR;
    return REDISMODULE_OK;
}
