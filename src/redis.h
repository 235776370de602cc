/* src/redis.h - ds_redis: ds's distributed structures on Redis / Redis Cluster
 *
 * The module of ds_redis.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/redis.h"      (link -lhiredis)
 */
#ifndef DS_SRC_REDIS_H
#define DS_SRC_REDIS_H
#include "core.h"
#include "limit.h"
#include "ids.h"
#include "idem.h"
#include "cache.h"
#include "shard.h"
#include <hiredis/hiredis.h>
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:redis ==  the connection handle: one node, N ketama shards, a cluster
 * ========================================================================
 * ds_redis is one handle over
 *   DS_REDIS_SINGLE   one node (TCP "host:port" or a unix socket path);
 *   DS_REDIS_SHARDED  N independent nodes, each key on the node ds_ring
 *                     picks in ketama mode (libketama's continuum over the
 *                     node strings as given, the memcached/twemproxy way);
 *   DS_REDIS_CLUSTER  a Redis Cluster: the slot map from CLUSTER SLOTS,
 *                     CRC16 (XMODEM) key slots honouring {hash tags}, MOVED
 *                     (the map is refreshed) and ASK (one ASKING + retry).
 * Every structure below keeps all the keys of one logical entry under one
 * hash tag ("ds:l:api:{user42}"), so a script touches one slot, and in
 * SHARDED mode the ring routes by that tag too.
 *
 * Connections are opened at init (DS_EIO if no node answers) and again on
 * demand: a connection that fails is dropped, and the node is retried
 * after a backoff that doubles from backoff_min_ns up to backoff_max_ns
 * (during the backoff calls to it fail at once with DS_EIO: no hang). On
 * each new connection the handle sends AUTH (username/password, when set)
 * and SCRIPT LOAD for its scripts; calls use EVALSHA, and a NOSCRIPT
 * reply (a SCRIPT FLUSH or a restarted server) reloads and resends.
 * A command whose connection is lost, or whose reply does not come within
 * command_timeout_ns (each socket read and write is bounded by it), gives
 * DS_EIO and is NOT resent: it may or may not have run, so nothing is
 * applied twice by the library; the next call reconnects.
 *
 *   ds_status ds_redis_init(ds_redis *r, const ds_redis_config *cfg)
 *          cfg NULL = one node at 127.0.0.1:6379 with the defaults.
 *          DS_EINVAL: bad config (no node, a malformed address, a prefix
 *          with braces or longer than 32 bytes, a password over 255);
 *          DS_EIO: no node could be reached (DS_REDIS_CLUSTER: no seed
 *          answered CLUSTER SLOTS); DS_ENOMEM. On failure *r is freed.
 *          Unless cfg->keep_sigpipe, init ignores SIGPIPE process-wide when
 *          its handler is the default (a write to a closed connection
 *          then gives DS_EIO instead of killing the process).
 *   void   ds_redis_free(ds_redis *r)        closes everything; NULL and a
 *          zeroed or failed-init handle are fine
 *   ds_status ds_redis_ping(ds_redis *r)     PING every known node: DS_OK if
 *          all answer, else DS_EIO
 *   ds_status ds_redis_time_ns(ds_redis *r, int64_t *now)   the first
 *          reachable node's TIME in ns since the Unix epoch
 *   ds_status ds_redis_refresh(ds_redis *r)  cluster: reload the slot map now
 *   const char *ds_redis_errstr(const ds_redis *r)  the last error's text
 *          ("" if none); valid until the next call on r
 *   ds_redis_stats ds_redis_get_stats(const ds_redis *r)
 * Memory: the handle's own allocations go through DS_MALLOC/DS_FREE with
 * cfg->alloc; hiredis allocates its buffers and replies with malloc.
 * Thread-safety: a handle is NOT thread-safe: use one per thread (each has
 * its own connections), or lock around it. Separate handles share nothing.
 * Complexity: one round trip per call (a batch: one per node touched),
 * plus reconnects and redirects (at most 5 per call). */
typedef enum ds_redis_mode {
    DS_REDIS_SINGLE = 0,
    DS_REDIS_SHARDED = 1,
    DS_REDIS_CLUSTER = 2
} ds_redis_mode;

typedef struct ds_redis_config {
    ds_redis_mode mode;
    const char *const *nodes;    /* "host:port", or a unix socket path (has a '/');
                                    CLUSTER: seeds. NULL/0 = "127.0.0.1:6379" */
    size_t n_nodes;
    int64_t connect_timeout_ns;  /* 0 = 1 s */
    int64_t command_timeout_ns;  /* 0 = 1 s */
    int64_t backoff_min_ns;      /* 0 = 10 ms */
    int64_t backoff_max_ns;      /* 0 = 2 s */
    const char *username;        /* AUTH username password (Redis 6 ACL); NULL = none */
    const char *password;        /* AUTH password; NULL = no AUTH */
    const char *prefix;          /* of every key; NULL = "ds:" */
    size_t max_key_len;          /* longest caller key; 0 = 512 */
    int keep_sigpipe;            /* 0: init sets SIGPIPE to SIG_IGN if it is SIG_DFL
                                    (hiredis writes with write(): a peer that closed
                                    would kill the process); 1: leave it alone (then
                                    the application must ignore or handle SIGPIPE) */
    const ds_alloc *alloc;
} ds_redis_config;

typedef struct ds_redis_stats {
    uint64_t calls;          /* round trips sent */
    uint64_t errors;         /* calls that ended in DS_EIO */
    uint64_t connects;       /* connections opened */
    uint64_t moved, ask;     /* cluster redirects followed */
    uint64_t noscript;       /* scripts reloaded after NOSCRIPT */
    uint64_t module_calls;   /* limiter decisions sent as DS.LIMIT (the module) */
    uint64_t refreshes;      /* slot map loads */
} ds_redis_stats;

typedef struct ds__rdnode {
    char *addr;              /* host, or unix path (port 0); owned */
    int port;
    redisContext *c;
    int64_t retry_at, backoff;
    int module;              /* 1: DS.LIMIT is there (COMMAND INFO at connect) */
} ds__rdnode;

#define DS__RD_NSCRIPTS 8
typedef struct ds_redis {
    ds_redis_mode mode;
    ds__rdnode *nodes;
    size_t n_nodes, cap_nodes;
    uint16_t *slots;         /* cluster: slot -> node index; 0xFFFF unknown */
    ds_ring ring;            /* sharded */
    int ring_on, refresh;
    int64_t conn_to, cmd_to, bo_min, bo_max;
    size_t max_key_len;
    char prefix[33];
    char user[256], pass[256];
    char sha[DS__RD_NSCRIPTS][41];
    char err[160];
    void *scratch;           /* batches' call records, kept for the next batch */
    size_t scratch_cap;
    ds_redis_stats stats;
    const ds_alloc *alloc;
} ds_redis;

DSDEF ds_status ds_redis_init(ds_redis *r, const ds_redis_config *cfg);
DSDEF void ds_redis_free(ds_redis *r);
DSDEF ds_status ds_redis_ping(ds_redis *r);
DSDEF ds_status ds_redis_time_ns(ds_redis *r, int64_t *now);
DSDEF ds_status ds_redis_refresh(ds_redis *r);
DSDEF const char *ds_redis_errstr(const ds_redis *r);
DSDEF ds_redis_stats ds_redis_get_stats(const ds_redis *r);
/* CRC16/XMODEM of the key's hash tag mod 16384: the Redis Cluster slot
 * (the bytes between the first '{' and the next '}' when not empty, else
 * the whole key). Thread-safe. O(len). */
DSDEF unsigned ds_redis_slot(const void *key, size_t len);

/* == ds:redis_limit ==  distributed rate limiters
 * ds_redis_limiter: ds_limiter's algorithms with the same decisions for the
 * same sequence of `now` (the in-process ds_limiter on one key, given the
 * same now values in the same order, admits exactly the same calls and
 * reports the same ds_limit_result), for every key of a namespace, shared
 * by every process that uses the same name and config. Each decision is
 * one atomic Lua script (EVALSHA) on the key's node, with exact 128-bit
 * arithmetic in the script; the buckets (token bucket, both leaky
 * buckets, GCRA) and the windows keep one string per key, the sliding log
 * a list of (time, units) and its sum (two keys, one hash tag).
 *
 * Time: `now` is ns, >= 0; DS_REDIS_NOW_SERVER (-1) uses the Redis
 * server's TIME (the wall clock of the key's node, µs resolution), so
 * client clocks do not matter. All clients of one name must use the same
 * time source. A clock step back is ignored as in ds_limiter (never admits
 * more).
 * Expiry: every admission sets PEXPIRE to the time until the key is at
 * rest (ds_limiter_table's rule) plus idle_slack_ms (default 1000), so
 * idle keys vanish and cost nothing; an absent key is a key at rest. The
 * TTL is real time: with a caller's `now` that runs slower than real time
 * (tests), raise idle_slack_ms, or a key may vanish before it is at rest.
 * The module: where a node has loaded redis/ds_limit_module.c (DS.LIMIT,
 * built by make as build/ds_limit_module.so), a decision is that command
 * instead of the script: ds_limiter's own C code on the same key and the
 * same state string, a fraction of the script's server CPU (docs/redis.md).
 * Each connection asks COMMAND INFO DS.LIMIT once when it opens (so a
 * module loaded later is seen after a reconnect; one unloaded later is
 * noticed by its "unknown command" reply, and the call is resent as the
 * script: it did not run). engine picks: DS_REDIS_ENGINE_AUTO (0, the
 * module where loaded, else the script), DS_REDIS_ENGINE_LUA (always the
 * script), DS_REDIS_ENGINE_MODULE (the module only: a node without it
 * fails the call like an unreachable node, DS_EIO into on_error). The
 * sliding log is served by the script only (its state is a list): AUTO
 * uses the script for it, MODULE refuses it at init (DS_EINVAL). Both
 * ways read and write the same state, so they may serve one key at once
 * (a rolling deploy) with the same decisions.
 * Errors: when a decision cannot be made (DS_EIO: node down, timeout,
 * garbage), on_error decides: DS_REDIS_FAIL_CLOSED (default) returns
 * DS_EREFUSED, DS_REDIS_FAIL_OPEN returns DS_OK (admitted unchecked),
 * DS_REDIS_FAIL_REPORT returns DS_EIO; the first two count in
 * l->degraded and leave *res with limit only (retry/reset -1/0).
 *
 *   ds_status ds_redis_limiter_init(ds_redis_limiter *l, ds_redis *r,
 *                                   const ds_redis_limiter_config *cfg)
 *          DS_EINVAL: NULL, a bad ds_limit_config (as ds_limiter_init), an
 *          empty name, a name over 64 bytes or with '{' '}', an unknown
 *          engine, DS_REDIS_ENGINE_MODULE with the sliding log. Allocates
 *          nothing. l borrows r (r must outlive l).
 *   ds_status ds_redis_limiter_take(ds_redis_limiter *l, const void *key, size_t len,
 *                                   uint64_t n, int64_t now, ds_limit_result *res)
 *          DS_OK admitted / DS_EREFUSED refused, as ds_limiter_take, res
 *          may be NULL; DS_EINVAL: NULL or empty key, len > max_key_len,
 *          now < -1. n = 0 only looks.
 *   ds_status ds_redis_limiter_allow(l, key, len, n, now)   take without res
 *   ds_status ds_redis_limiter_take_batch(ds_redis_limiter *l, size_t count,
 *                                         const void *const *keys, const size_t *lens,
 *                                         const uint64_t *ns, int64_t now,
 *                                         ds_status *out, ds_limit_result *res)
 *          count decisions pipelined (one round trip per node), each as
 *          take; out[i] receives each status (res may be NULL). Returns
 *          DS_OK once the batch ran (even if some were refused or failed:
 *          see out), DS_EINVAL (nothing sent) on a bad argument, DS_ENOMEM.
 *          Keys in a batch are decided in order per node; a key repeated
 *          in one batch is decided in order.
 * Complexity: one round trip; the script is O(1) (the log: O(expired
 * entries)). Thread-safety: as the handle. */
#define DS_REDIS_NOW_SERVER (-1)
typedef enum ds_redis_fail {
    DS_REDIS_FAIL_CLOSED = 0,
    DS_REDIS_FAIL_OPEN = 1,
    DS_REDIS_FAIL_REPORT = 2
} ds_redis_fail;

typedef enum ds_redis_engine {
    DS_REDIS_ENGINE_AUTO = 0,    /* DS.LIMIT where the node has the module, else Lua */
    DS_REDIS_ENGINE_LUA = 1,     /* always the Lua scripts */
    DS_REDIS_ENGINE_MODULE = 2   /* DS.LIMIT only (a node without it: DS_EIO) */
} ds_redis_engine;

typedef struct ds_redis_limiter_config {
    ds_limit_config limit;   /* as ds_limiter (burst 0 = limit) */
    const char *name;        /* namespace of the keys (non-empty, <= 64 bytes) */
    ds_redis_fail on_error;
    int64_t idle_slack_ms;   /* added to every TTL; 0 = 1000 */
    ds_redis_engine engine;  /* 0 = AUTO: the module where loaded */
} ds_redis_limiter_config;

typedef struct ds_redis_limiter {
    ds_redis *r;
    ds_limit_config cfg;
    ds_redis_fail on_error;
    ds_redis_engine engine;
    int64_t slack_ms;
    char name[65];
    uint64_t degraded;       /* decisions made by on_error (Redis unreachable) */
    char kpre[104];          /* every key's start: prefix "l:" name ":{" */
    size_t kpl;
} ds_redis_limiter;

DSDEF ds_status ds_redis_limiter_init(ds_redis_limiter *l, ds_redis *r,
                                      const ds_redis_limiter_config *cfg);
DSDEF ds_status ds_redis_limiter_take(ds_redis_limiter *l, const void *key, size_t len, uint64_t n,
                                      int64_t now, ds_limit_result *res);
DSDEF ds_status ds_redis_limiter_allow(ds_redis_limiter *l, const void *key, size_t len, uint64_t n,
                                       int64_t now);
DSDEF ds_status ds_redis_limiter_take_batch(ds_redis_limiter *l, size_t count,
                                            const void *const *keys, const size_t *lens,
                                            const uint64_t *ns, int64_t now, ds_status *out,
                                            ds_limit_result *res);

/* == ds:redis_idem ==  distributed idempotency keys with fencing tokens
 * ds_redis_idem: ds_idem's protocol (src/idem.h) with the records in Redis
 * (one hash per scope+key: state, fingerprint, token, start time,
 * response), shared by every process using the same name. begin answers
 * DS_IDEM_NEW (the caller owns the key: run the request, then complete or
 * abandon with the token), DS_IDEM_IN_FLIGHT, DS_IDEM_DONE (*response: the
 * stored response, valid until the next call on s) or DS_IDEM_MISMATCH
 * (same key, another fingerprint), with ds_idem's rules: a done record
 * answers first; an in-flight record older than lock_timeout is taken
 * over as NEW whatever its fingerprint.
 * Fencing: the token begin returns is the key's previous token + 1, or the
 * time in µs if larger (so tokens keep increasing after the record
 * expires); complete/abandon are accepted only with the current owner's
 * token: DS_EMISMATCH for a stale owner (its lock expired and a retry took
 * the key over: it must not overwrite the new owner's result),
 * DS_ENOTFOUND when the key is not in flight (never begun, abandoned,
 * completed, or expired).
 * Time: `now` in ns (µs resolution), or DS_REDIS_NOW_SERVER for the
 * server's TIME; all processes must use the same source. Records expire
 * (PEXPIRE) `retention` after their last change (default 24 h; in-flight
 * records at least lock_timeout).
 *
 *   ds_status ds_redis_idem_init(ds_redis_idem *s, ds_redis *r, const ds_redis_idem_config *cfg)
 *          cfg may be NULL; DS_EINVAL for a bad name or negative times
 *   void   ds_redis_idem_free(ds_redis_idem *s)     frees the response buffer
 *   ds_status ds_redis_idem_begin(ds_redis_idem *s, const void *scope, size_t scope_len,
 *                                 const void *key, size_t key_len, uint64_t fingerprint,
 *                                 int64_t now, ds_idem_state *state, uint64_t *token,
 *                                 const void **response, size_t *response_len)
 *   ds_status ds_redis_idem_complete(ds_redis_idem *s, const void *scope, size_t scope_len,
 *                                    const void *key, size_t key_len, uint64_t token,
 *                                    const void *response, size_t response_len)
 *   ds_status ds_redis_idem_abandon(ds_redis_idem *s, const void *scope, size_t scope_len,
 *                                   const void *key, size_t key_len, uint64_t token)
 * Errors: DS_EINVAL (NULL s/state, empty key, scope_len + key_len over
 * max_key_len, NULL with a nonzero length), DS_EIO (no answer: the state
 * is unknown; begin again later), DS_ENOMEM. Complexity: one round trip.
 * Thread-safety: as the handle. */
typedef struct ds_redis_idem_config {
    int64_t retention_ns;    /* 0 = 24 h */
    int64_t lock_timeout_ns; /* 0 = 60 s */
    const char *name;        /* NULL = "idem" */
} ds_redis_idem_config;

typedef struct ds_redis_idem {
    ds_redis *r;
    int64_t retention_ns, lock_ns;
    char name[65];
    char *resp;              /* the last DONE response (owned) */
    size_t resp_cap;
} ds_redis_idem;

DSDEF ds_status ds_redis_idem_init(ds_redis_idem *s, ds_redis *r, const ds_redis_idem_config *cfg);
DSDEF void ds_redis_idem_free(ds_redis_idem *s);
DSDEF ds_status ds_redis_idem_begin(ds_redis_idem *s, const void *scope, size_t scope_len,
                                    const void *key, size_t key_len, uint64_t fingerprint,
                                    int64_t now, ds_idem_state *state, uint64_t *token,
                                    const void **response, size_t *response_len);
DSDEF ds_status ds_redis_idem_complete(ds_redis_idem *s, const void *scope, size_t scope_len,
                                       const void *key, size_t key_len, uint64_t token,
                                       const void *response, size_t response_len);
DSDEF ds_status ds_redis_idem_abandon(ds_redis_idem *s, const void *scope, size_t scope_len,
                                      const void *key, size_t key_len, uint64_t token);

/* == ds:redis_ids ==  id blocks and snowflake worker-id leases
 * ds_redis_idblock: unique dense ids from one counter: each process takes
 * a block of `block` ids with one INCRBY and hands them out locally, so
 * ids are unique across processes (a block is never handed out twice,
 * even on reconnect: a lost INCRBY reply wastes its block, no more) and
 * in increasing order per process; ids start at 1.
 *   ds_status ds_redis_idblock_init(ds_redis_idblock *b, ds_redis *r, const char *name,
 *                                   uint64_t block)      block 0 = 1000
 *   ds_status ds_redis_idblock_next(ds_redis_idblock *b, uint64_t *id)
 *          DS_OK; DS_EIO when a new block is needed and Redis does not
 *          answer (nothing handed out); DS_EFULL past 2^63.
 *
 * ds_redis_worker: a ds_snowflake whose node (worker id) is leased in
 * Redis: SET <name>:<id> <owner> NX PX ttl on the first free id of
 * [0, 2^node_bits), renewed by a script that extends it only for its
 * owner. Two live generators never hold the same id: a generator issues
 * ids only while its lease is surely held, i.e. before (time the last
 * successful acquire/renew was SENT) + ttl - ttl/8 on this process's
 * monotonic clock; next renews when half the ttl has passed; once a
 * renewal finds the lease gone or taken, or the lease runs out unrenewed
 * (Redis unreachable), next returns DS_EBUSY (wait_ns = -1) for good:
 * acquire again for a new id. Ids are ds_snowflake's (ds_wall_ns()).
 *   ds_status ds_redis_worker_acquire(ds_redis_worker *w, ds_redis *r, const char *name,
 *                                     const ds_snowflake_config *cfg, int64_t ttl_ns)
 *          cfg NULL = defaults (its node is ignored); ttl 0 = 10 s.
 *          DS_EFULL: every id is leased; DS_EIO; DS_EINVAL.
 *   ds_status ds_redis_worker_next(ds_redis_worker *w, uint64_t *id, int64_t *wait_ns)
 *          as ds_snowflake_next, plus DS_EBUSY with *wait_ns = -1 when the
 *          lease is lost (see above)
 *   ds_status ds_redis_worker_renew(ds_redis_worker *w)   DS_OK, DS_EBUSY (lost), DS_EIO
 *   void   ds_redis_worker_release(ds_redis_worker *w)    deletes the lease if still ours
 *   uint64_t ds_redis_worker_id(const ds_redis_worker *w)
 * Thread-safety: as the handle. Complexity: O(1) per id; a round trip per
 * block / renewal; acquire O(ids tried). */
typedef struct ds_redis_idblock {
    ds_redis *r;
    char name[65];
    uint64_t block, next, end;   /* next id, one past the block */
} ds_redis_idblock;

DSDEF ds_status ds_redis_idblock_init(ds_redis_idblock *b, ds_redis *r, const char *name,
                                      uint64_t block);
DSDEF ds_status ds_redis_idblock_next(ds_redis_idblock *b, uint64_t *id);

typedef struct ds_redis_worker {
    ds_redis *r;
    ds_snowflake sf;
    char key[160];
    size_t key_len;
    char owner[33];
    int64_t ttl_ns, valid_until, renew_at;
    int held;
} ds_redis_worker;

DSDEF ds_status ds_redis_worker_acquire(ds_redis_worker *w, ds_redis *r, const char *name,
                                        const ds_snowflake_config *cfg, int64_t ttl_ns);
DSDEF ds_status ds_redis_worker_next(ds_redis_worker *w, uint64_t *id, int64_t *wait_ns);
DSDEF ds_status ds_redis_worker_renew(ds_redis_worker *w);
DSDEF void ds_redis_worker_release(ds_redis_worker *w);
DSDEF uint64_t ds_redis_worker_id(const ds_redis_worker *w);

/* == ds:redis_cache ==  two-tier cache: DS_LRU in front of Redis
 * ds_redis_cache: byte-string keys and values. Reads go to the local LRU
 * (L1, per process), then Redis (L2, shared), then the caller's loader
 * (the database), filling both tiers on the way back (read-through).
 * Writes go to Redis first (write-through), then an invalidation of the
 * key is PUBLISHed on the cache's channel; every ds_redis_cache of that
 * name SUBSCRIBEs to it and drops the key from its L1 on its next call
 * (each call first drains pending invalidations, without blocking).
 * Staleness bound: another process's L1 may serve the old value until it
 * makes its next call after the invalidation reaches it (pub/sub latency:
 * normally well under a millisecond on a LAN); when invalidations may have
 * been lost (the subscriber connection dropped) the L1 is cleared on
 * resubscribing, and in any case no L1 entry outlives l1_ttl_ns: that is
 * the hard bound on staleness. Entries live ttl_ns in Redis.
 * Redis unreachable: get falls back to the loader (and the L1), set/del
 * return DS_EIO after updating the L1 (the L1 of other processes then
 * stays stale up to l1_ttl_ns).
 *
 *   ds_status ds_redis_cache_init(ds_redis_cache *c, ds_redis *r, const ds_redis_cache_config *cfg)
 *          DS_EINVAL: NULL, a bad name, negative times; DS_ENOMEM. The
 *          subscription is opened lazily (first call) and retried with the
 *          handle's backoff.
 *   void   ds_redis_cache_free(ds_redis_cache *c)
 *   ds_status ds_redis_cache_get(ds_redis_cache *c, const void *key, size_t len, int64_t now,
 *                                ds_redis_cache_loader loader, void *lctx,
 *                                const void **val, size_t *val_len)
 *          DS_OK with *val (valid until the next call on c); DS_ENOTFOUND
 *          if absent and no loader (or the loader said DS_ENOTFOUND); a
 *          loader's other errors are returned as is. now: the caller's
 *          monotonic ns (ds_now_ns()), for the L1's TTL.
 *   ds_status ds_redis_cache_set(ds_redis_cache *c, const void *key, size_t len,
 *                                const void *val, size_t val_len, int64_t now)
 *   ds_status ds_redis_cache_del(ds_redis_cache *c, const void *key, size_t len, int64_t now)
 *   ds_status ds_redis_cache_poll(ds_redis_cache *c)   drain invalidations now
 * The loader: ds_status loader(void *lctx, const void *key, size_t len,
 * const void **val, size_t *val_len) sets *val to bytes that stay valid
 * until it returns to the cache (they are copied).
 * Errors: DS_EINVAL (NULL, empty or too long key), DS_EIO, DS_ENOMEM,
 * DS_EFULL from get for a value heavier than l1_max_bytes (not cached).
 * Complexity: an L1 hit is O(1) and no round trip; a miss one or two.
 * Thread-safety: as the handle (the subscriber connection is the cache's
 * own). */
typedef ds_status (*ds_redis_cache_loader)(void *lctx, const void *key, size_t len, const void **val,
                                           size_t *val_len);
typedef struct ds_redis_cache_config {
    const char *name;         /* keys and channel namespace; NULL = "cache" */
    size_t l1_max_entries;    /* 0 = 10000 */
    uint64_t l1_max_bytes;    /* 0 = 64 MiB (keys + values + 64 bytes each) */
    int64_t l1_ttl_ns;        /* 0 = 1 s: the staleness bound */
    int64_t ttl_ns;           /* in Redis; 0 = 1 h */
} ds_redis_cache_config;

typedef struct ds__rdc_key {
    unsigned char *p;
    size_t len;
    uint64_t h;
} ds__rdc_key;
typedef struct ds__rdc_val {
    unsigned char *p;
    size_t len;
} ds__rdc_val;
static inline uint64_t ds__rdc_hash(ds__rdc_key k, uint64_t seed) { return ds_mix64(k.h ^ seed); }
static inline int ds__rdc_eq(ds__rdc_key a, ds__rdc_key b) {
    return a.h == b.h && a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}
DS__LRU_TYPES(ds__rdc_lru, ds__rdc_key, ds__rdc_val);

typedef struct ds_redis_cache_stats {
    uint64_t l1_hits, l2_hits, loads, invalidations, resubscribes;
} ds_redis_cache_stats;

typedef struct ds_redis_cache {
    ds_redis *r;
    ds__rdc_lru l1;
    int l1_on;
    redisContext *sub;
    int64_t sub_retry_at;
    int64_t l1_ttl, ttl;
    char name[65];
    char chan[110];
    ds_redis_cache_stats stats;
} ds_redis_cache;

DSDEF ds_status ds_redis_cache_init(ds_redis_cache *c, ds_redis *r, const ds_redis_cache_config *cfg);
DSDEF void ds_redis_cache_free(ds_redis_cache *c);
DSDEF ds_status ds_redis_cache_get(ds_redis_cache *c, const void *key, size_t len, int64_t now,
                                   ds_redis_cache_loader loader, void *lctx, const void **val,
                                   size_t *val_len);
DSDEF ds_status ds_redis_cache_set(ds_redis_cache *c, const void *key, size_t len, const void *val,
                                   size_t val_len, int64_t now);
DSDEF ds_status ds_redis_cache_del(ds_redis_cache *c, const void *key, size_t len, int64_t now);
DSDEF ds_status ds_redis_cache_poll(ds_redis_cache *c);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_REDIS_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_REDIS_IMPL)
#define DS_SRC_REDIS_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:redis == */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

/* The scripts. Lua numbers are doubles, so 64- and 128-bit values travel
 * as hex strings and the limiter scripts compute on 8 limbs of 16 bits,
 * wrapping mod 2^128 like ds_limiter's ds__w128. Each literal stays under
 * C99's 4095-byte minimum; they are joined at SCRIPT LOAD. */
static const char ds__rd_lua_big[] =
    "local Z=65536\n"
    "local function N(x) local a={} for i=1,8 do local q=math.floor(x/Z) a[i]=x-q*Z x=q end return a end\n"
    "local function H(s) local a={0,0,0,0,0,0,0,0} local n=#s local i=1 while n>0 and i<=8 do "
    "local b=n-3 if b<1 then b=1 end a[i]=tonumber(string.sub(s,b,n),16) i=i+1 n=b-1 end return a end\n"
    "local function X(a) local t={} for i=8,1,-1 do t[#t+1]=string.format('%04x',a[i]) end return table.concat(t) end\n"
    "local function X16(a) return string.sub(X(a),17) end\n"
    "local function ADD(a,b) local r={} local c=0 for i=1,8 do local s=a[i]+b[i]+c "
    "if s>=Z then r[i]=s-Z c=1 else r[i]=s c=0 end end return r end\n"
    "local function SUB(a,b) local r={} local c=0 for i=1,8 do local s=a[i]-b[i]-c "
    "if s<0 then r[i]=s+Z c=1 else r[i]=s c=0 end end return r end\n"
    "local function CMP(a,b) for i=8,1,-1 do if a[i]~=b[i] then if a[i]<b[i] then return -1 end return 1 end end return 0 end\n"
    "local function MUL(a,b) local r={0,0,0,0,0,0,0,0} for i=1,8 do local x=a[i] if x~=0 then local c=0 "
    "for j=1,9-i do local k=i+j-1 local s=r[k]+x*b[j]+c c=math.floor(s/Z) r[k]=s-c*Z end end end return r end\n"
    "local function DBL(a) local x=0 for i=8,1,-1 do x=x*Z+a[i] end return x end\n"
    /* floor(a / d) for a < 2^63: a double estimate, corrected exactly */
    "local function DIV(a,d) local q=N(math.floor(DBL(a)/DBL(d))) local dd=DBL(d)\n"
    " for it=1,200 do local m=MUL(q,d)\n"
    "  if CMP(m,a)>0 then local k=math.floor(DBL(SUB(m,a))/dd) if k<1 then k=1 end q=SUB(q,N(k))\n"
    "  else local r=SUB(a,m) if CMP(r,d)<0 then return q,r end\n"
    "   local k=math.floor(DBL(r)/dd) if k<1 then k=1 end q=ADD(q,N(k)) end end return q end\n"
    "local ZERO={0,0,0,0,0,0,0,0} local ONE={1,0,0,0,0,0,0,0}\n"
    "local function NOW() if ARGV[1]~='' then return H(ARGV[1]) end local t=redis.call('TIME') "
    "return ADD(MUL(N(tonumber(t[1])),N(1000000000)),N(tonumber(t[2])*1000)) end\n"
    "local function TTL(ns) local ms=math.ceil(ns/1e6)+tonumber(ARGV[#ARGV]) if ms>1e12 then ms=1e12 end "
    "if ms<1 then ms=1 end return ms end\n";

/* Buckets. ARGV: now (16 hex; '' = the server's TIME), now * limit (32
 * hex; with TIME: 1e9 * limit then 1000 * limit, 64 hex), limit, burst *
 * period (32 hex), n * period (32 hex), slack. The client computes the
 * 128-bit products, so the script only adds and compares, on 4 limbs of 32
 * bits (with TIME it scales the two products by seconds and microseconds
 * on 16-bit limbs). Standalone: no shared prelude to run per call. State:
 * TAT (32 hex). */
static const char ds__rd_lua_bucket[] =
    "local W=4294967296 local Z=65536 local sub=string.sub local tn=tonumber local fmt=string.format\n"
    /* 128-bit values as 4 limbs in locals (multiple returns: no tables) */
    "local function H4(s,o) return tn(sub(s,o+25,o+32),16),tn(sub(s,o+17,o+24),16),tn(sub(s,o+9,o+16),16),"
    "tn(sub(s,o+1,o+8),16) end\n"
    "local function A4(a1,a2,a3,a4,b1,b2,b3,b4) local c=0 local s=a1+b1 if s>=W then s=s-W c=1 end local r1=s\n"
    " s=a2+b2+c c=0 if s>=W then s=s-W c=1 end local r2=s s=a3+b3+c c=0 if s>=W then s=s-W c=1 end local r3=s\n"
    " s=a4+b4+c if s>=W then s=s-W end return r1,r2,r3,s end\n"
    "local function S4(a1,a2,a3,a4,b1,b2,b3,b4) local c=0 local s=a1-b1 if s<0 then s=s+W c=1 end local r1=s\n"
    " s=a2-b2-c c=0 if s<0 then s=s+W c=1 end local r2=s s=a3-b3-c c=0 if s<0 then s=s+W c=1 end local r3=s\n"
    " s=a4-b4-c if s<0 then s=s+W end return r1,r2,r3,s end\n"
    "local function C4(a1,a2,a3,a4,b1,b2,b3,b4) if a4~=b4 then if a4<b4 then return -1 end return 1 end\n"
    " if a3~=b3 then if a3<b3 then return -1 end return 1 end if a2~=b2 then if a2<b2 then return -1 end return 1 end\n"
    " if a1~=b1 then if a1<b1 then return -1 end return 1 end return 0 end\n"
    /* one 32-bit limb times k (< 2^36) plus a carry, through 16-bit halves */
    "local function M1(a,k,c) local hi=math.floor(a/Z) local lo=a-hi*Z local x=lo*k+c local xl=x%Z "
    "local y=hi*k+(x-xl)/Z local yl=y%Z return xl+yl*Z,(y-yl)/Z end\n"
    "local function M4(a1,a2,a3,a4,k) local r1,r2,r3,r4,c r1,c=M1(a1,k,0) r2,c=M1(a2,k,c) r3,c=M1(a3,k,c) "
    "r4,c=M1(a4,k,c) return r1,r2,r3,r4 end\n"
    "local n1,n2,n3,n4 local nowx=ARGV[1]\n"
    "if nowx=='' then local t=redis.call('TIME') local sec=tn(t[1]) local us=tn(t[2])\n"
    " local p1,p2,p3,p4=M4(tn(sub(ARGV[2],25,32),16),tn(sub(ARGV[2],17,24),16),tn(sub(ARGV[2],9,16),16),"
    "tn(sub(ARGV[2],1,8),16),sec)\n"
    " local q1,q2,q3,q4=M4(tn(sub(ARGV[2],57,64),16),tn(sub(ARGV[2],49,56),16),tn(sub(ARGV[2],41,48),16),"
    "tn(sub(ARGV[2],33,40),16),us)\n"
    " n1,n2,n3,n4=A4(p1,p2,p3,p4,q1,q2,q3,q4)\n"
    " local w1,w2=M4(1000000000,0,0,0,sec) w1,w2=A4(w1,w2,0,0,us*1000,0,0,0) nowx=fmt('%08x%08x',w2,w1)\n"
    "else n1,n2,n3,n4=H4(ARGV[2],0) end\n"
    "local st=redis.call('GET',KEYS[1]) local t1,t2,t3,t4=0,0,0,0 if st then t1,t2,t3,t4=H4(st,0) end\n"
    "local u1,u2,u3,u4=H4(ARGV[4],0) local i1,i2,i3,i4=H4(ARGV[5],0) local ok=1\n"
    "if i1+i2+i3+i4~=0 then local b1,b2,b3,b4=t1,t2,t3,t4\n"
    " if C4(t1,t2,t3,t4,n1,n2,n3,n4)<0 then b1,b2,b3,b4=n1,n2,n3,n4 end\n"
    " local x1,x2,x3,x4=A4(b1,b2,b3,b4,i1,i2,i3,i4) local d1,d2,d3,d4=S4(x1,x2,x3,x4,n1,n2,n3,n4)\n"
    " if C4(i1,i2,i3,i4,u1,u2,u3,u4)>0 or C4(d1,d2,d3,d4,u1,u2,u3,u4)>0 then ok=0 else t1,t2,t3,t4=x1,x2,x3,x4\n"
    "  local ms=math.ceil((((d4*W+d3)*W+d2)*W+d1)/tn(ARGV[3],16)/1e6)+tn(ARGV[6]) if ms>1e12 then ms=1e12 end\n"
    "  st=fmt('%08x%08x%08x%08x',t4,t3,t2,t1) redis.call('SET',KEYS[1],st,'PX',ms) return {1,st,nowx} end end\n"
    "return {ok,fmt('%08x%08x%08x%08x',t4,t3,t2,t1),nowx}\n";

/* Windows. ARGV: now limit period kind(f|c) n slack. State: t cur prev (3 x 16 hex). */
static const char ds__rd_lua_window[] =
    "local now=NOW() local L=H(ARGV[2]) local P=H(ARGV[3]) local n=H(ARGV[5])\n"
    "local s=redis.call('GET',KEYS[1]) local t,cur,prev=ZERO,ZERO,ZERO\n"
    "if s then t=H(string.sub(s,1,16)) cur=H(string.sub(s,17,32)) prev=H(string.sub(s,33,48)) end\n"
    "local own=now local w=DIV(now,P)\n"
    "if CMP(w,t)<0 then own=MUL(t,P) w=t end\n"
    "local dt,dc,dp=w,cur,prev\n"
    "if CMP(w,t)<=0 then dt=t elseif CMP(w,ADD(t,ONE))==0 then dp=cur dc=ZERO else dp=ZERO dc=ZERO end\n"
    "local ok=1\n"
    "if CMP(n,ZERO)~=0 then\n"
    " if CMP(n,L)>0 then ok=0\n"
    " elseif ARGV[4]=='f' then if CMP(ADD(dc,n),L)>0 then ok=0 end\n"
    " else local e=SUB(own,MUL(dt,P))\n"
    "  if CMP(dc,L)>0 or CMP(n,SUB(L,dc))>0 then ok=0\n"
    "  elseif CMP(ADD(MUL(dp,SUB(P,e)),MUL(SUB(ADD(dc,n),ONE),P)),MUL(L,P))>=0 then ok=0 end end\n"
    " if ok==1 then t=dt prev=dp cur=ADD(dc,n)\n"
    "  local rest=DBL(SUB(ADD(MUL(dt,P),P),own)) if ARGV[4]=='c' then rest=rest+DBL(P) end\n"
    "  redis.call('SET',KEYS[1],X16(t)..X16(cur)..X16(prev),'PX',TTL(rest)) end end\n"
    "return {ok,X16(t)..X16(cur)..X16(prev),X16(now)}\n";

/* Sliding log. KEYS: list, sum. ARGV: now limit period n slack. Entries:
 * time (16 hex) then units (16 hex), oldest first. */
static const char ds__rd_lua_log[] =
    "local now=NOW() local L=H(ARGV[2]) local P=H(ARGV[3]) local n=H(ARGV[4])\n"
    "local own=now local last=redis.call('LINDEX',KEYS[1],-1)\n"
    "if last then local lt=H(string.sub(last,1,16)) if CMP(lt,own)>0 then own=lt end end\n"
    "local s=redis.call('GET',KEYS[2]) local sum=ZERO if s then sum=H(s) end\n"
    "local len=redis.call('LLEN',KEYS[1]) local ws=sum local i=0\n"
    "while i<len do local e=redis.call('LINDEX',KEYS[1],i)\n"
    " if CMP(ADD(H(string.sub(e,1,16)),P),own)>0 then break end ws=SUB(ws,H(string.sub(e,17,32))) i=i+1 end\n"
    "local ok=1 local wait='' local newest='' if last then newest=string.sub(last,1,16) end\n"
    "if CMP(n,ZERO)~=0 then\n"
    " if CMP(n,L)>0 or CMP(ADD(ws,n),L)>0 then ok=0\n"
    "  if CMP(n,L)<=0 then local x=ws local j=i while j<len do local e=redis.call('LINDEX',KEYS[1],j)\n"
    "   x=SUB(x,H(string.sub(e,17,32))) if CMP(ADD(x,n),L)<=0 then\n"
    "   wait=X16(SUB(ADD(H(string.sub(e,1,16)),P),own)) break end j=j+1 end end\n"
    " else\n"
    "  for j=1,i do local e=redis.call('LPOP',KEYS[1]) sum=SUB(sum,H(string.sub(e,17,32))) end\n"
    "  local ox=X16(own)\n"
    "  if last and i<len and string.sub(last,1,16)==ox then\n"
    "   redis.call('LSET',KEYS[1],-1,ox..X16(ADD(H(string.sub(last,17,32)),n)))\n"
    "  else redis.call('RPUSH',KEYS[1],ox..X16(n)) end\n"
    "  sum=ADD(sum,n) ws=ADD(ws,n) newest=ox\n"
    "  redis.call('SET',KEYS[2],X(sum),'PX',TTL(DBL(P))) redis.call('PEXPIRE',KEYS[1],TTL(DBL(P))) end end\n"
    "return {ok,X16(own),X16(ws),wait,newest,X16(now)}\n";

/* Idempotency. begin ARGV: fp now_us lock_us ttl_ms. */
static const char ds__rd_lua_ibegin[] =
    "local now if ARGV[2]=='' then local t=redis.call('TIME') now=tonumber(t[1])*1000000+tonumber(t[2])\n"
    "else now=tonumber(ARGV[2]) end\n"
    "local h=redis.call('HMGET',KEYS[1],'st','fp','tok','t','r')\n"
    "local tok=tonumber(h[3] or '0') or 0\n"
    "if h[1]=='2' then if h[2]==ARGV[1] then return {2,'0',h[5] or ''} end return {3,'0',''} end\n"
    "if h[1]=='1' and now-(tonumber(h[4]) or 0)<tonumber(ARGV[3]) then\n"
    " if h[2]==ARGV[1] then return {1,'0',''} end return {3,'0',''} end\n"
    "local nt=tok+1 if now>nt then nt=now end local ts=string.format('%.0f',nt)\n"
    "redis.call('HSET',KEYS[1],'st','1','fp',ARGV[1],'tok',ts,'t',string.format('%.0f',now),'r','')\n"
    "redis.call('PEXPIRE',KEYS[1],ARGV[4]) return {0,ts,''}\n";
/* complete ARGV: token response ttl_ms; abandon ARGV: token ttl_ms.
 * 1 = done, 0 = not in flight, 2 = another owner's. */
static const char ds__rd_lua_icomplete[] =
    "local h=redis.call('HMGET',KEYS[1],'st','tok')\n"
    "if h[1]~='1' then return 0 end if h[2]~=ARGV[1] then return 2 end\n"
    "redis.call('HSET',KEYS[1],'st','2','r',ARGV[2]) redis.call('HDEL',KEYS[1],'t')\n"
    "redis.call('PEXPIRE',KEYS[1],ARGV[3]) return 1\n";
static const char ds__rd_lua_iabandon[] =
    "local h=redis.call('HMGET',KEYS[1],'st','tok')\n"
    "if h[1]~='1' then return 0 end if h[2]~=ARGV[1] then return 2 end\n"
    "redis.call('HSET',KEYS[1],'st','0') redis.call('HDEL',KEYS[1],'t','fp','r')\n"
    "redis.call('PEXPIRE',KEYS[1],ARGV[2]) return 1\n";
/* Leases. renew ARGV: owner ttl_ms; release ARGV: owner. */
static const char ds__rd_lua_renew[] =
    "if redis.call('GET',KEYS[1])==ARGV[1] then redis.call('PEXPIRE',KEYS[1],ARGV[2]) return 1 end return 0\n";
static const char ds__rd_lua_release[] =
    "if redis.call('GET',KEYS[1])==ARGV[1] then redis.call('DEL',KEYS[1]) return 1 end return 0\n";

enum { DS__RD_BUCKET, DS__RD_WINDOW, DS__RD_LOG, DS__RD_IBEGIN, DS__RD_ICOMPLETE, DS__RD_IABANDON,
       DS__RD_RENEW, DS__RD_RELEASE };
static const char *ds__rd_script(int i, int *big) {
    static const char *const s[DS__RD_NSCRIPTS] = {ds__rd_lua_bucket, ds__rd_lua_window, ds__rd_lua_log,
                                                   ds__rd_lua_ibegin, ds__rd_lua_icomplete, ds__rd_lua_iabandon,
                                                   ds__rd_lua_renew, ds__rd_lua_release};
    *big = i == DS__RD_WINDOW || i == DS__RD_LOG;
    return s[i];
}

static void ds__rd_seterr(ds_redis *r, const char *what, const char *detail) {
    if (r) snprintf(r->err, sizeof r->err, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

DSDEF unsigned ds_redis_slot(const void *key, size_t len) {
    const unsigned char *p = (const unsigned char *)key;
    size_t s, e, i;
    unsigned crc = 0;
    int b;
    if (!p) len = 0;
    for (s = 0; s < len && p[s] != '{'; s++) {}
    if (s < len) {
        for (e = s + 1; e < len && p[e] != '}'; e++) {}
        if (e < len && e > s + 1) { p += s + 1; len = e - s - 1; }
    }
    for (i = 0; i < len; i++) {
        crc ^= (unsigned)p[i] << 8;
        for (b = 0; b < 8; b++) crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x1021u) & 0xFFFFu : (crc << 1) & 0xFFFFu;
    }
    return crc & 16383u;
}

static struct timeval ds__rd_tv(int64_t ns) {
    struct timeval tv;
    tv.tv_sec = (time_t)(ns / 1000000000);
    tv.tv_usec = (suseconds_t)((ns % 1000000000) / 1000);
    return tv;
}

static void ds__rd_drop(ds_redis *r, ds__rdnode *nd, const char *why) {
    if (nd->c) {
        ds__rd_seterr(r, why, nd->c->err ? nd->c->errstr : NULL);
        redisFree(nd->c);
        nd->c = NULL;
    } else {
        ds__rd_seterr(r, why, NULL);
    }
}

static void ds__rd_backoff(ds_redis *r, ds__rdnode *nd) {
    int64_t now = ds_now_ns();
    nd->retry_at = now > INT64_MAX - nd->backoff ? INT64_MAX : now + nd->backoff;
    nd->backoff = nd->backoff > r->bo_max / 2 ? r->bo_max : nd->backoff * 2;
}

static int ds__rd_is_err(const redisReply *y, const char *prefix) {
    size_t n = strlen(prefix);
    return y && y->type == REDIS_REPLY_ERROR && y->len >= n && memcmp(y->str, prefix, n) == 0;
}

/* Open node i's connection: connect, AUTH, SCRIPT LOAD. DS_EIO during the
 * backoff or on any failure (then the backoff grows). */
static ds_status ds__rd_connect(ds_redis *r, ds__rdnode *nd) {
    redisContext *c;
    redisReply *y = NULL;
    int i, big;
    if (nd->c) return DS_OK;
    if (ds_now_ns() < nd->retry_at) {
        ds__rd_seterr(r, "node in reconnect backoff", nd->addr);
        return DS_EIO;
    }
    c = nd->port ? redisConnectWithTimeout(nd->addr, nd->port, ds__rd_tv(r->conn_to))
                 : redisConnectUnixWithTimeout(nd->addr, ds__rd_tv(r->conn_to));
    if (!c || c->err) {
        ds__rd_seterr(r, "connect failed", c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        ds__rd_backoff(r, nd);
        return DS_EIO;
    }
    nd->c = c;
    r->stats.connects++;
    if (redisSetTimeout(c, ds__rd_tv(r->cmd_to)) != REDIS_OK) goto fail;
    if (r->pass[0]) {
        y = r->user[0] ? (redisReply *)redisCommand(c, "AUTH %s %s", r->user, r->pass)
                       : (redisReply *)redisCommand(c, "AUTH %s", r->pass);
        if (!y || y->type == REDIS_REPLY_ERROR) {
            ds__rd_seterr(r, "AUTH refused", y ? y->str : c->errstr);
            if (y) freeReplyObject(y);
            redisFree(c);
            nd->c = NULL;
            ds__rd_backoff(r, nd);
            return DS_EIO;
        }
        freeReplyObject(y);
    }
    for (i = 0; i < DS__RD_NSCRIPTS; i++) {
        const char *body = ds__rd_script(i, &big);
        size_t bl = strlen(body), ll = big ? strlen(ds__rd_lua_big) : 0;
        char *src = (char *)DS_MALLOC(r->alloc, ll + bl + 1);
        if (!src) goto fail;
        if (ll) memcpy(src, ds__rd_lua_big, ll);
        memcpy(src + ll, body, bl + 1);
        y = (redisReply *)redisCommand(c, "SCRIPT LOAD %b", src, ll + bl);
        DS_FREE(r->alloc, src, ll + bl + 1);
        if (!y || y->type != REDIS_REPLY_STRING || y->len != 40) {
            ds__rd_seterr(r, "SCRIPT LOAD failed", y && y->type == REDIS_REPLY_ERROR ? y->str : c->errstr);
            if (y) freeReplyObject(y);
            redisFree(c);
            nd->c = NULL;
            ds__rd_backoff(r, nd);
            return DS_EIO;
        }
        memcpy(r->sha[i], y->str, 40);
        r->sha[i][40] = 0;
        freeReplyObject(y);
    }
    /* Is the limiter module loaded? [nil] if not; an error (COMMAND denied
     * by an ACL) counts as not. */
    y = (redisReply *)redisCommand(c, "COMMAND INFO DS.LIMIT");
    if (!y) goto fail;
    nd->module = y->type == REDIS_REPLY_ARRAY && y->elements == 1 && y->element[0]->type == REDIS_REPLY_ARRAY;
    freeReplyObject(y);
    nd->backoff = r->bo_min;
    nd->retry_at = 0;
    return DS_OK;
fail:
    ds__rd_drop(r, nd, "connection setup failed");
    ds__rd_backoff(r, nd);
    return DS_EIO;
}

/* Parse "host:port" or a socket path into a new node; returns its index. */
static ds_status ds__rd_add_node(ds_redis *r, const char *addr, size_t len, size_t *idx) {
    size_t i, hl = len;
    int port = 0;
    char *s;
    if (!addr || !len || len > 1024) return DS_EINVAL;
    if (!memchr(addr, '/', len)) {
        const char *colon = NULL;
        long pv = 0;
        for (i = len; i > 0; i--) if (addr[i - 1] == ':') { colon = addr + i - 1; break; }
        if (!colon || colon == addr || (size_t)(colon - addr) + 1 >= len) return DS_EINVAL;
        for (i = (size_t)(colon - addr) + 1; i < len; i++) {
            if (addr[i] < '0' || addr[i] > '9' || pv > 65535) return DS_EINVAL;
            pv = pv * 10 + (addr[i] - '0');
        }
        if (pv <= 0 || pv > 65535) return DS_EINVAL;
        port = (int)pv;
        hl = (size_t)(colon - addr);
    }
    for (i = 0; i < r->n_nodes; i++)
        if (r->nodes[i].port == port && strlen(r->nodes[i].addr) == hl && !memcmp(r->nodes[i].addr, addr, hl)) {
            *idx = i;
            return DS_OK;
        }
    if (r->n_nodes == r->cap_nodes) {
        size_t nc = r->cap_nodes ? r->cap_nodes * 2 : 4;
        ds__rdnode *nn;
        if (nc > 0xFFFE) return DS_EFULL;
        nn = (ds__rdnode *)DS_REALLOC(r->alloc, r->nodes, r->cap_nodes * sizeof *nn, nc * sizeof *nn);
        if (!nn) return DS_ENOMEM;
        r->nodes = nn;
        r->cap_nodes = nc;
    }
    s = (char *)DS_MALLOC(r->alloc, hl + 1);
    if (!s) return DS_ENOMEM;
    memcpy(s, addr, hl);
    s[hl] = 0;
    memset(&r->nodes[r->n_nodes], 0, sizeof r->nodes[0]);
    r->nodes[r->n_nodes].addr = s;
    r->nodes[r->n_nodes].port = port;
    r->nodes[r->n_nodes].backoff = r->bo_min;
    *idx = r->n_nodes++;
    return DS_OK;
}

/* One command on one node, synchronously. */
static ds_status ds__rd_cmd(ds_redis *r, size_t node, int argc, const char **argv, const size_t *lens,
                            redisReply **out) {
    ds__rdnode *nd = &r->nodes[node];
    void *y = NULL;
    *out = NULL;
    if (ds__rd_connect(r, nd) != DS_OK) { r->stats.errors++; return DS_EIO; }
    r->stats.calls++;
    if (redisAppendCommandArgv(nd->c, argc, argv, lens) != REDIS_OK || redisGetReply(nd->c, &y) != REDIS_OK || !y) {
        ds__rd_drop(r, nd, "connection lost or timed out");
        r->stats.errors++;
        return DS_EIO;
    }
    *out = (redisReply *)y;
    return DS_OK;
}

/* CLUSTER SLOTS from any reachable node into r->slots (masters only). */
DSDEF ds_status ds_redis_refresh(ds_redis *r) {
    size_t i, j, k, idx;
    const char *argv[2] = {"CLUSTER", "SLOTS"};
    size_t lens[2] = {7, 5};
    if (!r || r->mode != DS_REDIS_CLUSTER) return DS_EINVAL;
    for (i = 0; i < r->n_nodes; i++) {
        redisReply *y;
        int good = 1;
        if (ds__rd_cmd(r, i, 2, argv, lens, &y) != DS_OK) continue;
        if (y->type != REDIS_REPLY_ARRAY || !y->elements) good = 0;
        for (j = 0; good && j < y->elements; j++) {
            redisReply *e = y->element[j], *m;
            char a[300];
            int n;
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->type != REDIS_REPLY_INTEGER ||
                e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY) { good = 0; break; }
            m = e->element[2];
            if (m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING || m->element[1]->type != REDIS_REPLY_INTEGER ||
                e->element[0]->integer < 0 || e->element[1]->integer > 16383 || e->element[0]->integer > e->element[1]->integer ||
                m->element[0]->len > 255) { good = 0; break; }
            n = snprintf(a, sizeof a, "%s:%lld", m->element[0]->len ? m->element[0]->str : "127.0.0.1", m->element[1]->integer);
            if (n <= 0 || ds__rd_add_node(r, a, (size_t)n, &idx) != DS_OK) { good = 0; break; }
            for (k = (size_t)e->element[0]->integer; k <= (size_t)e->element[1]->integer; k++) r->slots[k] = (uint16_t)idx;
        }
        freeReplyObject(y);
        if (good) {
            r->stats.refreshes++;
            r->refresh = 0;
            return DS_OK;
        }
        ds__rd_seterr(r, "CLUSTER SLOTS: unexpected reply", NULL);
    }
    return DS_EIO;
}

DSDEF ds_status ds_redis_init(ds_redis *r, const ds_redis_config *cfg) {
    static const char *const dflt[1] = {"127.0.0.1:6379"};
    const char *const *nodes;
    size_t n, i, idx;
    ds_status st = DS_OK;
    int up = 0;
    if (!r) return DS_EINVAL;
    memset(r, 0, sizeof *r);
    r->conn_to = cfg && cfg->connect_timeout_ns > 0 ? cfg->connect_timeout_ns : 1000000000;
    r->cmd_to = cfg && cfg->command_timeout_ns > 0 ? cfg->command_timeout_ns : 1000000000;
    r->bo_min = cfg && cfg->backoff_min_ns > 0 ? cfg->backoff_min_ns : 10000000;
    r->bo_max = cfg && cfg->backoff_max_ns > 0 ? cfg->backoff_max_ns : 2000000000;
    if (r->bo_max < r->bo_min) r->bo_max = r->bo_min;
    r->max_key_len = cfg && cfg->max_key_len ? cfg->max_key_len : 512;
    r->mode = cfg ? cfg->mode : DS_REDIS_SINGLE;
    r->alloc = cfg ? cfg->alloc : NULL;
    nodes = cfg && cfg->nodes && cfg->n_nodes ? cfg->nodes : dflt;
    n = cfg && cfg->nodes && cfg->n_nodes ? cfg->n_nodes : 1;
    {
        const char *p = cfg && cfg->prefix ? cfg->prefix : "ds:";
        if (strlen(p) >= sizeof r->prefix || strchr(p, '{') || strchr(p, '}')) return DS_EINVAL;
        strcpy(r->prefix, p);
    }
    if (cfg && cfg->password) {
        if (strlen(cfg->password) >= sizeof r->pass || !cfg->password[0]) return DS_EINVAL;
        strcpy(r->pass, cfg->password);
    }
    if (cfg && cfg->username) {
        if (strlen(cfg->username) >= sizeof r->user || !r->pass[0]) return DS_EINVAL;
        strcpy(r->user, cfg->username);
    }
    if (!(cfg && cfg->keep_sigpipe)) {
        void (*old)(int) = signal(SIGPIPE, SIG_IGN);
        if (old != SIG_DFL && old != SIG_ERR) signal(SIGPIPE, old); /* the application's own */
    }
    if ((unsigned)r->mode > DS_REDIS_CLUSTER || (r->mode == DS_REDIS_SINGLE && n != 1) ||
        r->max_key_len > (1u << 20) || n > 1024)
        return DS_EINVAL;
    for (i = 0; i < n; i++) {
        if (!nodes[i]) { st = DS_EINVAL; goto fail; }
        if ((st = ds__rd_add_node(r, nodes[i], strlen(nodes[i]), &idx)) != DS_OK) goto fail;
        if (idx != i) { st = DS_EINVAL; goto fail; } /* a node given twice */
    }
    if (r->mode == DS_REDIS_SHARDED) {
        ds_ring_config rc;
        memset(&rc, 0, sizeof rc);
        rc.mode = DS_RING_KETAMA;
        rc.alloc = r->alloc;
        if ((st = ds_ring_init(&r->ring, &rc)) != DS_OK) goto fail;
        r->ring_on = 1;
        for (i = 0; i < n; i++) {
            uint32_t id;
            if ((st = ds_ring_add(&r->ring, nodes[i], strlen(nodes[i]), 1, &id)) != DS_OK) goto fail;
            if (id != i) { st = DS_EINVAL; goto fail; }
        }
    }
    if (r->mode == DS_REDIS_CLUSTER) {
        r->slots = (uint16_t *)DS_MALLOC(r->alloc, 16384 * sizeof(uint16_t));
        if (!r->slots) { st = DS_ENOMEM; goto fail; }
        memset(r->slots, 0xFF, 16384 * sizeof(uint16_t));
        if ((st = ds_redis_refresh(r)) != DS_OK) goto fail;
        return DS_OK;
    }
    for (i = 0; i < r->n_nodes; i++) up += ds__rd_connect(r, &r->nodes[i]) == DS_OK;
    if (!up) { st = DS_EIO; goto fail; }
    return DS_OK;
fail:
    {
        char keep[sizeof r->err];
        memcpy(keep, r->err, sizeof keep);
        ds_redis_free(r);
        memcpy(r->err, keep, sizeof keep);
    }
    return st;
}

DSDEF void ds_redis_free(ds_redis *r) {
    size_t i;
    if (!r) return;
    for (i = 0; i < r->n_nodes; i++) {
        if (r->nodes[i].c) redisFree(r->nodes[i].c);
        DS_FREE(r->alloc, r->nodes[i].addr, strlen(r->nodes[i].addr) + 1);
    }
    if (r->nodes) DS_FREE(r->alloc, r->nodes, r->cap_nodes * sizeof *r->nodes);
    if (r->slots) DS_FREE(r->alloc, r->slots, 16384 * sizeof(uint16_t));
    if (r->ring_on) ds_ring_free(&r->ring);
    if (r->scratch) DS_FREE(r->alloc, r->scratch, r->scratch_cap);
    memset(r, 0, sizeof *r);
}

DSDEF const char *ds_redis_errstr(const ds_redis *r) { return r ? r->err : "NULL handle"; }
DSDEF ds_redis_stats ds_redis_get_stats(const ds_redis *r) {
    ds_redis_stats s;
    if (r) return r->stats;
    memset(&s, 0, sizeof s);
    return s;
}

DSDEF ds_status ds_redis_ping(ds_redis *r) {
    const char *argv[1] = {"PING"};
    size_t lens[1] = {4}, i;
    ds_status st = DS_OK;
    if (!r || !r->n_nodes) return DS_EINVAL;
    for (i = 0; i < r->n_nodes; i++) {
        redisReply *y;
        if (ds__rd_cmd(r, i, 1, argv, lens, &y) != DS_OK) { st = DS_EIO; continue; }
        if (y->type != REDIS_REPLY_STATUS || strcmp(y->str, "PONG") != 0) {
            ds__rd_seterr(r, "PING: unexpected reply", y->type == REDIS_REPLY_ERROR ? y->str : NULL);
            st = DS_EIO;
        }
        freeReplyObject(y);
    }
    return st;
}

static int ds__rd_u64(const char *s, size_t len, int base, uint64_t *v) {
    uint64_t x = 0;
    size_t i;
    if (!s || !len || len > 20) return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else return 0;
        if (d >= (unsigned)base || x > (UINT64_MAX - d) / (uint64_t)base) return 0;
        x = x * (uint64_t)base + d;
    }
    *v = x;
    return 1;
}

DSDEF ds_status ds_redis_time_ns(ds_redis *r, int64_t *now) {
    const char *argv[1] = {"TIME"};
    size_t lens[1] = {4}, i;
    if (!r || !now || !r->n_nodes) return DS_EINVAL;
    for (i = 0; i < r->n_nodes; i++) {
        redisReply *y;
        uint64_t s, us;
        int ok;
        if (ds__rd_cmd(r, i, 1, argv, lens, &y) != DS_OK) continue;
        ok = y->type == REDIS_REPLY_ARRAY && y->elements == 2 && y->element[0]->type == REDIS_REPLY_STRING &&
             y->element[1]->type == REDIS_REPLY_STRING && ds__rd_u64(y->element[0]->str, y->element[0]->len, 10, &s) &&
             ds__rd_u64(y->element[1]->str, y->element[1]->len, 10, &us) && s < 9000000000u && us < 1000000;
        freeReplyObject(y);
        if (ok) {
            *now = (int64_t)(s * 1000000000u + us * 1000u);
            return DS_OK;
        }
        ds__rd_seterr(r, "TIME: unexpected reply", NULL);
    }
    return DS_EIO;
}

/* -- calls: scripts (and plain commands) routed by their first key,
 *    pipelined per node, following NOSCRIPT, MOVED and ASK. -- */
typedef struct ds__rdcall {
    int script;              /* script index; -1: argv a[] is the command */
    int nkeys, nargs;
    const char *k[2];
    size_t kl[2];
    const char *a[8];
    size_t al[8];
    int pre;                 /* answered before ds__rd_run (DS.LIMITN): y, st set;
                                2: y lives in the batch's arena (not freed) */
    int nmod;                /* > 0: on a node with the module, send m[] instead */
    int mod_only;            /* and fail (DS_EIO) on a node without it */
    const char *m[9];
    size_t ml[9];
    size_t node;
    size_t sent;             /* the node it went to in this round */
    int ask, pending, round;
    redisReply *y;           /* the reply when st == DS_OK */
    ds_status st;
} ds__rdcall;

static size_t ds__rd_route(ds_redis *r, const char *key, size_t len) {
    if (r->mode == DS_REDIS_SINGLE) return 0;
    if (r->mode == DS_REDIS_SHARDED) {
        size_t s, e;
        for (s = 0; s < len && key[s] != '{'; s++) {}
        if (s < len) {
            for (e = s + 1; e < len && key[e] != '}'; e++) {}
            if (e < len && e > s + 1) { key += s + 1; len = e - s - 1; }
        }
        {
            uint32_t id = ds_ring_get(&r->ring, key, len);
            return id == DS_RING_NONE ? SIZE_MAX : (size_t)id;
        }
    }
    {
        unsigned slot = ds_redis_slot(key, len);
        if (r->slots[slot] == 0xFFFF) {
            ds_redis_refresh(r);
            if (r->slots[slot] == 0xFFFF) return SIZE_MAX;
        }
        return r->slots[slot];
    }
}

/* "MOVED 3999 127.0.0.1:6381" / "ASK ...": the target node's index. */
static int ds__rd_redirect(ds_redis *r, const redisReply *y, unsigned *slot, size_t *node) {
    const char *p = y->str, *end = y->str + y->len, *sp;
    uint64_t s;
    while (p < end && *p != ' ') p++;
    if (p == end) return 0;
    sp = ++p;
    while (p < end && *p != ' ') p++;
    if (p == end || !ds__rd_u64(sp, (size_t)(p - sp), 10, &s) || s > 16383) return 0;
    p++;
    if (ds__rd_add_node(r, p, (size_t)(end - p), node) != DS_OK) return 0;
    *slot = (unsigned)s;
    return 1;
}

/* A pipeline's commands, formatted here (RESP) into one buffer and handed
 * to hiredis a buffer at a time: hiredis formats each command with
 * sdscatfmt and appends it on its own, which cost a pipelined decision
 * more client CPU than the server spends on DS.LIMIT. */
typedef struct ds__rdout {
    redisContext *c;
    size_t len;
    int broken;
    char buf[8192];
} ds__rdout;
/* With nothing queued in hiredis's own buffer, the bytes go to the socket
 * here (bounded by the command timeout like hiredis's writes): hiredis
 * would copy them into a buffer it frees after every write. */
static void ds__rd_flush(ds__rdout *o) {
    if (o->len && !o->broken) {
        if (o->c->obuf && sdslen(o->c->obuf) == 0 && (o->c->flags & REDIS_BLOCK) && o->c->fd >= 0) {
            size_t off = 0;
            while (off < o->len) {
#ifdef MSG_NOSIGNAL
                ssize_t w = send(o->c->fd, o->buf + off, o->len - off, MSG_NOSIGNAL);
#else
                ssize_t w = write(o->c->fd, o->buf + off, o->len - off);
#endif
                if (w > 0) off += (size_t)w;
                else if (!(w < 0 && errno == EINTR)) { o->broken = 1; break; } /* timeout, reset */
            }
        } else if (redisAppendFormattedCommand(o->c, o->buf, o->len) != REDIS_OK) {
            o->broken = 1;
        }
    }
    o->len = 0;
}
static size_t ds__rd_putnum(char *p, char lead, size_t v) {
    char t[24];
    size_t n = 0, k = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    p[k++] = lead;
    while (n) p[k++] = t[--n];
    p[k++] = '\r';
    p[k++] = '\n';
    return k;
}
/* One argument (a command may span several flushes: hiredis only
 * appends the bytes). */
static void ds__rd_putarg(ds__rdout *o, const char *p, size_t len) {
    if (len + 32 > sizeof o->buf - o->len) ds__rd_flush(o);
    o->len += ds__rd_putnum(o->buf + o->len, '$', len);
    if (len + 2 > sizeof o->buf - o->len) { /* larger than the buffer */
        ds__rd_flush(o);
        if (!o->broken && len && redisAppendFormattedCommand(o->c, p, len) != REDIS_OK) o->broken = 1;
    } else if (len) {
        memcpy(o->buf + o->len, p, len);
        o->len += len;
    }
    o->buf[o->len++] = '\r';
    o->buf[o->len++] = '\n';
}
static void ds__rd_put(ds__rdout *o, int argc, const char **argv, const size_t *lens) {
    size_t need = 32, i;
    for (i = 0; i < (size_t)argc; i++) need += 32 + lens[i];
    if (need > sizeof o->buf - o->len) {
        ds__rd_flush(o);
        if (need > sizeof o->buf) { /* a large command: hiredis formats it */
            if (!o->broken && redisAppendCommandArgv(o->c, argc, argv, lens) != REDIS_OK) o->broken = 1;
            return;
        }
    }
    o->len += ds__rd_putnum(o->buf + o->len, '*', (size_t)argc);
    for (i = 0; i < (size_t)argc; i++) {
        o->len += ds__rd_putnum(o->buf + o->len, '$', lens[i]);
        if (lens[i]) memcpy(o->buf + o->len, argv[i], lens[i]);
        o->len += lens[i];
        o->buf[o->len++] = '\r';
        o->buf[o->len++] = '\n';
    }
}

/* The replies of one node's pipeline (sent in this round), in order:
 * NOSCRIPT (reload, resend), unknown command (the module went away:
 * resend as the script), MOVED / ASK / TRYAGAIN / CLUSTERDOWN (resend
 * next round), else the answer. A lost connection fails the rest. */
static void ds__rd_read_node(ds_redis *r, ds__rdcall *calls, size_t n, size_t node, int attempt, int broken) {
    ds__rdnode *nd;
    size_t j;
    int reload = 0;
    for (j = 0; j < n; j++) {
        ds__rdcall *c = &calls[j];
        void *y = NULL;
        unsigned slot;
        size_t to;
        if (!c->pending || c->round != attempt || c->sent != node) continue;
        if (!broken && c->ask) {
            if (redisGetReply(r->nodes[node].c, &y) != REDIS_OK || !y) broken = 1;
            else freeReplyObject(y);
            y = NULL;
        }
        if (!broken && (redisGetReply(r->nodes[node].c, &y) != REDIS_OK || !y)) broken = 1;
        if (broken) {
            c->pending = 0;
            r->stats.errors++;
            continue;
        }
        if (ds__rd_is_err((redisReply *)y, "NOSCRIPT")) {
            reload = 1;
            r->stats.noscript++;
            c->ask = 0;
        } else if (c->nmod && ds__rd_is_err((redisReply *)y, "ERR unknown command")) {
            r->nodes[node].module = 0; /* unloaded: did not run; resent as the script */
            c->ask = 0;
        } else if (ds__rd_is_err((redisReply *)y, "MOVED ") && ds__rd_redirect(r, (redisReply *)y, &slot, &to)) {
            if (r->slots) r->slots[slot] = (uint16_t)to;
            r->refresh = 1;
            r->stats.moved++;
            c->ask = 0;
        } else if (ds__rd_is_err((redisReply *)y, "ASK ") && ds__rd_redirect(r, (redisReply *)y, &slot, &to)) {
            c->node = to;
            c->ask = 1;
            r->stats.ask++;
        } else if (ds__rd_is_err((redisReply *)y, "TRYAGAIN") || ds__rd_is_err((redisReply *)y, "CLUSTERDOWN")) {
            r->refresh = 1;
            c->ask = 0;
        } else {
            c->y = (redisReply *)y;
            c->st = DS_OK;
            c->pending = 0;
            y = NULL;
        }
        if (y) {
            if (attempt == 5) ds__rd_seterr(r, "redirected too often", ((redisReply *)y)->str);
            freeReplyObject(y);
        }
    }
    /* a redirect may have added a node (r->nodes moved): index again */
    nd = &r->nodes[node];
    if (broken) {
        ds__rd_drop(r, nd, "connection lost or timed out");
        r->refresh = 1;
    } else if (reload) {
        ds__rd_drop(r, nd, "NOSCRIPT: reloading scripts"); /* reconnect reloads */
    }
    if (reload) nd->retry_at = 0;
}

/* Each round sends every node its pipeline first, then reads the nodes'
 * replies in turn, so the nodes work on a batch at the same time (a
 * cluster batch costs about one round trip, not one per node). */
#define DS__RD_FANOUT 64
static void ds__rd_run(ds_redis *r, ds__rdcall *calls, size_t n) {
    ds__rdout out;
    size_t sent[DS__RD_FANOUT], ns = 0, q;
    int sbroken[DS__RD_FANOUT];
    size_t i, j;
    int attempt;
    for (i = 0; i < n; i++) {
        calls[i].pending = !calls[i].pre;
        calls[i].ask = 0;
        calls[i].round = -1;
        if (calls[i].pre) continue;
        calls[i].y = NULL;
        calls[i].st = DS_EIO;
    }
    for (attempt = 0; attempt < 6; attempt++) {
        int left = 0;
        if (r->mode == DS_REDIS_CLUSTER && r->refresh) ds_redis_refresh(r);
        for (i = 0; i < n; i++) {
            if (!calls[i].pending) continue;
            if (!calls[i].ask) calls[i].node = ds__rd_route(r, calls[i].k[0], calls[i].kl[0]);
            if (calls[i].node == SIZE_MAX) {
                calls[i].pending = 0;
                ds__rd_seterr(r, "no node serves the key's slot", NULL);
                r->stats.errors++;
            } else {
                left = 1;
            }
        }
        if (!left) return;
        ns = 0;
        for (i = 0; i < n; i++) {
            size_t node = calls[i].node;
            ds__rdnode *nd = &r->nodes[node];
            if (!calls[i].pending || calls[i].round == attempt) continue;
            if (ds__rd_connect(r, nd) != DS_OK) {
                for (j = i; j < n; j++)
                    if (calls[j].pending && calls[j].node == node) { calls[j].pending = 0; r->stats.errors++; }
                r->refresh = 1; /* cluster: a failover may have moved its slots */
                continue;
            }
            out.c = nd->c;
            out.len = 0;
            out.broken = 0;
            for (j = i; j < n; j++) {
                const char *argv[16];
                size_t lens[16];
                char nk[4];
                int argc = 0, m;
                ds__rdcall *c = &calls[j];
                if (!c->pending || c->node != node || c->round == attempt) continue;
                if (c->mod_only && !nd->module) { /* DS_REDIS_ENGINE_MODULE on a node without it */
                    c->pending = 0;
                    r->stats.errors++;
                    ds__rd_seterr(r, "DS.LIMIT: the node has no ds_limit_module loaded", nd->addr);
                    continue;
                }
                c->round = attempt;
                c->sent = node;
                if (c->ask) {
                    argv[0] = "ASKING";
                    lens[0] = 6;
                    ds__rd_put(&out, 1, argv, lens);
                }
                if (c->nmod && nd->module) {
                    ds__rd_put(&out, c->nmod, c->m, c->ml);
                    r->stats.calls++;
                    r->stats.module_calls++;
                    continue;
                }
                if (c->script >= 0) {
                    nk[0] = (char)('0' + c->nkeys);
                    nk[1] = 0;
                    argv[argc] = "EVALSHA"; lens[argc++] = 7;
                    argv[argc] = r->sha[c->script]; lens[argc++] = 40;
                    argv[argc] = nk; lens[argc++] = 1;
                }
                for (m = 0; m < c->nkeys && c->script >= 0; m++) { argv[argc] = c->k[m]; lens[argc++] = c->kl[m]; }
                for (m = 0; m < c->nargs; m++) { argv[argc] = c->a[m]; lens[argc++] = c->al[m]; }
                ds__rd_put(&out, argc, argv, lens);
                r->stats.calls++;
            }
            ds__rd_flush(&out);
            if (ns < DS__RD_FANOUT) { /* read after every node has its pipeline */
                sent[ns] = node;
                sbroken[ns++] = out.broken;
            } else {
                ds__rd_read_node(r, calls, n, node, attempt, out.broken);
            }
        }
        for (q = 0; q < ns; q++) ds__rd_read_node(r, calls, n, sent[q], attempt, sbroken[q]);
    }
    for (i = 0; i < n; i++)
        if (calls[i].pending) { calls[i].pending = 0; r->stats.errors++; }
}

static void ds__rd_calls_free(ds__rdcall *calls, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (calls[i].y && calls[i].pre != 2) freeReplyObject(calls[i].y);
        calls[i].y = NULL;
    }
}

/* DS.LIMITN's reply is parsed into an arena in the batch's scratch memory
 * (hiredis's reader with these object functions, for that one reply):
 * hiredis's own objects cost 7 allocations and frees a decision, more
 * client CPU than the rest of a pipelined decision. */
typedef struct ds__rdarena {
    redisReply *rep;
    redisReply **el;
    char *str;
    size_t nrep, caprep, nel, capel, nstr, capstr;
} ds__rdarena;
#define DS__RD_ARENA_STR 256 /* string bytes per decision: state, now, or an error */
/* Replies: per decision an array and its 3 elements, plus one top-level
 * array per node the batch reaches (up to one per decision: a batch whose
 * every key sits on module nodes needs them all; 4 * count + 1 ran out
 * with two). */
static size_t ds__rd_arena_bytes(size_t count) {
    return 5 * count * sizeof(redisReply) + 4 * count * sizeof(redisReply *) + DS__RD_ARENA_STR * count + 64;
}
static void ds__rd_arena_init(ds__rdarena *a, char *mem, size_t count) {
    size_t off = 0;
    mem += (16 - ((uintptr_t)(void *)mem & 15)) & 15; /* the 64 spare bytes cover both roundings */
    a->rep = (redisReply *)(void *)mem;
    a->caprep = 5 * count;
    off += a->caprep * sizeof(redisReply);
    off = (off + 15) & ~(size_t)15;
    a->el = (redisReply **)(void *)(mem + off);
    a->capel = 4 * count;
    off += a->capel * sizeof(redisReply *);
    a->str = mem + off;
    a->capstr = DS__RD_ARENA_STR * count;
    a->nrep = a->nel = a->nstr = 0;
}
static redisReply *ds__rda_new(const redisReadTask *t, int type) {
    ds__rdarena *a = (ds__rdarena *)t->privdata;
    redisReply *y;
    if (!a || a->nrep == a->caprep) return NULL;
    y = &a->rep[a->nrep++];
    memset(y, 0, sizeof *y);
    y->type = type;
    if (t->parent) ((redisReply *)t->parent->obj)->element[t->idx] = y;
    return y;
}
static void *ds__rda_string(const redisReadTask *t, char *str, size_t len) {
    ds__rdarena *a = (ds__rdarena *)t->privdata;
    redisReply *y;
    if (!a || len >= a->capstr - a->nstr || !(y = ds__rda_new(t, t->type))) return NULL;
    y->str = a->str + a->nstr;
    if (len) memcpy(y->str, str, len);
    y->str[len] = 0;
    y->len = len;
    a->nstr += len + 1;
    return y;
}
#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
static void *ds__rda_array(const redisReadTask *t, size_t n) {
#else
static void *ds__rda_array(const redisReadTask *t, int n) {
#endif
    ds__rdarena *a = (ds__rdarena *)t->privdata;
    redisReply *y;
    size_t k = (size_t)n, i;
    if (!a || n < 0 || k > a->capel - a->nel || !(y = ds__rda_new(t, REDIS_REPLY_ARRAY))) return NULL;
    y->element = a->el + a->nel;
    y->elements = k;
    for (i = 0; i < k; i++) y->element[i] = NULL;
    a->nel += k;
    return y;
}
static void *ds__rda_integer(const redisReadTask *t, long long v) {
    redisReply *y = ds__rda_new(t, REDIS_REPLY_INTEGER);
    if (y) y->integer = v;
    return y;
}
static void *ds__rda_nil(const redisReadTask *t) { return ds__rda_new(t, REDIS_REPLY_NIL); }
static void ds__rda_free(void *o) { (void)o; /* the arena goes with the batch */ }

/* Name rules shared by the structures: 1..64 bytes, no braces. */
static int ds__rd_name_ok(const char *name) {
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= 64 && !strchr(name, '{') && !strchr(name, '}');
}

static void ds__rd_hex16(uint64_t v, char out[17]) {
    static const char dg[] = "0123456789abcdef";
    int i;
    for (i = 15; i >= 0; i--) { out[i] = dg[v & 15]; v >>= 4; }
    out[16] = 0;
}

static int ds__rd_str(const redisReply *y, size_t len) { return y && y->type == REDIS_REPLY_STRING && y->len == len; }

/* ---- limiters ---- */
DSDEF ds_status ds_redis_limiter_init(ds_redis_limiter *l, ds_redis *r, const ds_redis_limiter_config *cfg) {
    ds_limiter probe;
    if (!l) return DS_EINVAL;
    memset(l, 0, sizeof *l);
    if (!r || !cfg || !ds__rd_name_ok(cfg->name) || (unsigned)cfg->on_error > DS_REDIS_FAIL_REPORT ||
        cfg->idle_slack_ms < 0 || (unsigned)cfg->engine > DS_REDIS_ENGINE_MODULE ||
        ds_limiter_init(&probe, &cfg->limit, NULL) != DS_OK ||
        (cfg->engine == DS_REDIS_ENGINE_MODULE && cfg->limit.algo == DS_LIMIT_SLIDING_LOG))
        return DS_EINVAL;
    ds_limiter_free(&probe);
    l->r = r;
    l->cfg = cfg->limit;
    if (!l->cfg.burst) l->cfg.burst = l->cfg.limit;
    l->on_error = cfg->on_error;
    l->engine = cfg->engine;
    l->slack_ms = cfg->idle_slack_ms ? cfg->idle_slack_ms : 1000;
    strcpy(l->name, cfg->name);
    l->kpl = (size_t)snprintf(l->kpre, sizeof l->kpre, "%sl:%s:{", r->prefix, l->name); /* <= 32 + 2 + 64 + 2 */
    return DS_OK;
}

typedef struct ds__rdlimargs {
    char now[17], lim[17], per[17], burst[17], slack[24];
    char nowL[65], tau[33];  /* buckets: now * limit (TIME: 1e9 * limit, 1000 * limit), burst * period */
    char d_algo[2], d_lim[21], d_per[21], d_burst[21], d_now[21]; /* DS.LIMIT's, decimal */
} ds__rdlimargs;
#define DS__RD_NBUF 54       /* per call: n (16 hex), or n * period (32 hex); then n in decimal */

/* v in decimal, NUL-terminated; returns the length (1..20). */
static size_t ds__rd_dec(uint64_t v, char out[21]) {
    char t[20];
    size_t n = 0, i;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++) out[i] = t[n - 1 - i];
    out[n] = 0;
    return n;
}

static void ds__rd_hex32(uint64_t a, uint64_t b, char out[33]) { /* the 128-bit product a * b */
    ds__mum128(&a, &b); /* a = low, b = high */
    ds__rd_hex16(b, out);
    ds__rd_hex16(a, out + 16);
}

/* Key bytes for one limiter key: prefix "l:" name ":{" key "}" (+ ":l"/":s"). */
static size_t ds__rd_limkey_len(const ds_redis_limiter *l, size_t len) { return l->kpl + len + 1 + 2; }
static void ds__rd_limkeys(const ds_redis_limiter *l, const void *key, size_t len, char *buf, size_t *kl) {
    memcpy(buf, l->kpre, l->kpl);
    memcpy(buf + l->kpl, key, len);
    buf[l->kpl + len] = '}';
    *kl = l->kpl + len + 1;
}

/* Fill one call; kbuf holds 2 * ds__rd_limkey_len bytes, nbuf DS__RD_NBUF. */
static void ds__rd_limcall(const ds_redis_limiter *l, ds__rdcall *c, const ds__rdlimargs *A, const void *key,
                           size_t len, uint64_t n, char *kbuf, char *nbuf) {
    size_t kl, full = ds__rd_limkey_len(l, len);
    ds_limit_algo g = l->cfg.algo;
    memset(c, 0, sizeof *c);
    ds__rd_limkeys(l, key, len, kbuf, &kl);
    ds__rd_hex16(n, nbuf);
    c->k[0] = kbuf;
    c->kl[0] = kl;
    c->nkeys = 1;
    c->a[0] = A->now; c->al[0] = strlen(A->now);
    c->a[1] = A->lim; c->al[1] = 16;
    c->a[2] = A->per; c->al[2] = 16;
    if (g <= DS_LIMIT_GCRA) {
        c->script = DS__RD_BUCKET;
        ds__rd_hex32(n, (uint64_t)l->cfg.period_ns, nbuf);
        c->a[1] = A->nowL; c->al[1] = strlen(A->nowL);
        c->a[2] = A->lim; c->al[2] = 16;
        c->a[3] = A->tau; c->al[3] = 32;
        c->a[4] = nbuf; c->al[4] = 32;
        c->a[5] = A->slack; c->al[5] = strlen(A->slack);
        c->nargs = 6;
    } else if (g == DS_LIMIT_SLIDING_LOG) {
        c->script = DS__RD_LOG;
        memcpy(kbuf + kl, ":l", 2);
        memcpy(kbuf + full, kbuf, kl);
        memcpy(kbuf + full + kl, ":s", 2);
        c->kl[0] = kl + 2;
        c->k[1] = kbuf + full;
        c->kl[1] = kl + 2;
        c->nkeys = 2;
        c->a[3] = nbuf; c->al[3] = 16;
        c->a[4] = A->slack; c->al[4] = strlen(A->slack);
        c->nargs = 5;
    } else {
        c->script = DS__RD_WINDOW;
        c->a[3] = g == DS_LIMIT_FIXED_WINDOW ? "f" : "c"; c->al[3] = 1;
        c->a[4] = nbuf; c->al[4] = 16;
        c->a[5] = A->slack; c->al[5] = strlen(A->slack);
        c->nargs = 6;
    }
    /* DS.LIMIT key algo limit period_ns burst n now_ns slack_ms, where the
     * node has the module (the sliding log: the script only) */
    if (l->engine != DS_REDIS_ENGINE_LUA && g != DS_LIMIT_SLIDING_LOG) {
        char *dn = nbuf + 33;
        c->mod_only = l->engine == DS_REDIS_ENGINE_MODULE;
        c->m[0] = "DS.LIMIT"; c->ml[0] = 8;
        c->m[1] = kbuf; c->ml[1] = kl;
        c->m[2] = A->d_algo; c->ml[2] = 1;
        c->m[3] = A->d_lim; c->ml[3] = strlen(A->d_lim);
        c->m[4] = A->d_per; c->ml[4] = strlen(A->d_per);
        c->m[5] = A->d_burst; c->ml[5] = strlen(A->d_burst);
        c->m[6] = dn; c->ml[6] = ds__rd_dec(n, dn);
        c->m[7] = A->d_now; c->ml[7] = strlen(A->d_now);
        c->m[8] = A->slack; c->ml[8] = strlen(A->slack);
        c->nmod = 9;
    }
}

static void ds__rd_limargs(const ds_redis_limiter *l, int64_t now, ds__rdlimargs *A) {
    if (now == DS_REDIS_NOW_SERVER) {
        A->now[0] = 0;
        ds__rd_hex32(1000000000u, l->cfg.limit, A->nowL);
        ds__rd_hex32(1000u, l->cfg.limit, A->nowL + 32);
    } else {
        ds__rd_hex16((uint64_t)now, A->now);
        ds__rd_hex32((uint64_t)now, l->cfg.limit, A->nowL);
    }
    ds__rd_hex32(l->cfg.burst, (uint64_t)l->cfg.period_ns, A->tau);
    ds__rd_hex16(l->cfg.limit, A->lim);
    ds__rd_hex16((uint64_t)l->cfg.period_ns, A->per);
    ds__rd_hex16(l->cfg.burst, A->burst);
    snprintf(A->slack, sizeof A->slack, "%lld", (long long)l->slack_ms);
    A->d_algo[0] = (char)('0' + (int)l->cfg.algo);
    A->d_algo[1] = 0;
    ds__rd_dec(l->cfg.limit, A->d_lim);
    ds__rd_dec((uint64_t)l->cfg.period_ns, A->d_per);
    ds__rd_dec(l->cfg.burst, A->d_burst);
    if (now == DS_REDIS_NOW_SERVER) A->d_now[0] = 0;
    else ds__rd_dec((uint64_t)now, A->d_now);
}

static int64_t ds__rd_sat_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

/* Turn one script reply into a decision and ds_limit_result. */
static ds_status ds__rd_limdecode(ds_redis_limiter *l, const redisReply *y, uint64_t n, ds_limit_result *res) {
    const ds_limit_config *c = &l->cfg;
    uint64_t ok, v[6];
    int64_t now;
    ds_limit_result tmp;
    ds_limiter lim;
    size_t i;
    if (!y || y->type != REDIS_REPLY_ARRAY || y->elements < 3 || y->element[0]->type != REDIS_REPLY_INTEGER ||
        (y->element[0]->integer != 0 && y->element[0]->integer != 1))
        goto bad;
    ok = (uint64_t)y->element[0]->integer;
    if (!res) { /* allow: the decision only (the reply's shape is still checked) */
        size_t k;
        if (y->elements != (c->algo == DS_LIMIT_SLIDING_LOG ? 6u : 3u)) goto bad;
        for (k = 1; k < y->elements; k++)
            if (y->element[k]->type != REDIS_REPLY_STRING) goto bad;
        return ok ? DS_OK : DS_EREFUSED;
    }
    memset(res, 0, sizeof *res);
    if (c->algo == DS_LIMIT_SLIDING_LOG) {
        int64_t own, skew, w = -1, rest = 0;
        uint64_t ws;
        if (y->elements != 6) goto bad;
        for (i = 1; i < 6; i++) {
            const redisReply *e = y->element[i];
            v[i] = UINT64_MAX;
            if (e->type != REDIS_REPLY_STRING || (e->len && !ds__rd_u64(e->str, e->len, 16, &v[i]))) goto bad;
            if (!e->len && i != 3 && i != 4) goto bad;
        }
        if (v[1] > (uint64_t)INT64_MAX || v[5] > v[1]) goto bad;
        own = (int64_t)v[1];
        now = (int64_t)v[5];
        ws = v[2];
        skew = own - now;
        res->limit = c->limit;
        res->remaining = ws >= c->limit ? 0 : c->limit - ws;
        if (!ok && v[3] != UINT64_MAX && v[3] <= (uint64_t)INT64_MAX) {
            w = (int64_t)v[3];
            if (w > 0) w = ds__rd_sat_add(w, skew);
            if (w > INT64_MAX - now) w = -1;
            if (w == 0) w = -1;
        }
        res->retry_after_ns = ok ? -1 : w;
        if (v[4] != UINT64_MAX) {
            if (v[4] > (uint64_t)own) goto bad;
            rest = c->period_ns - (own - (int64_t)v[4]);
            if (rest < 0) rest = 0;
        }
        res->reset_after_ns = ds__rd_sat_add(rest, skew);
        return ok ? DS_OK : DS_EREFUSED;
    }
    if (y->elements != 3 || y->element[2]->type != REDIS_REPLY_STRING ||
        !ds__rd_u64(y->element[2]->str, y->element[2]->len, 16, &v[0]) || v[0] > (uint64_t)INT64_MAX)
        goto bad;
    now = (int64_t)v[0];
    memset(&lim, 0, sizeof lim);
    lim.cfg = *c;
    if (c->algo <= DS_LIMIT_GCRA) {
        if (!ds__rd_str(y->element[1], 32) || !ds__rd_u64(y->element[1]->str, 16, 16, &lim.s.hi) ||
            !ds__rd_u64(y->element[1]->str + 16, 16, 16, &lim.s.lo))
            goto bad;
    } else {
        if (!ds__rd_str(y->element[1], 48) || !ds__rd_u64(y->element[1]->str, 16, 16, &v[1]) ||
            !ds__rd_u64(y->element[1]->str + 16, 16, 16, &lim.s.lo) ||
            !ds__rd_u64(y->element[1]->str + 32, 16, 16, &lim.s.hi) || v[1] > (uint64_t)INT64_MAX)
            goto bad;
        lim.s.t = (int64_t)v[1];
    }
    res->limit = c->algo <= DS_LIMIT_GCRA ? c->burst : c->limit;
    res->remaining = ds_limiter_remaining(&lim, now);
    res->retry_after_ns = ok ? -1 : ds_limiter_wait_ns(&lim, n, now);
    if (res->retry_after_ns == 0) res->retry_after_ns = -1;
    ds_limiter_take(&lim, 0, now, &tmp); /* n = 0 only looks */
    res->reset_after_ns = tmp.reset_after_ns;
    res->delay_ns = 0;
    if (ok && n && c->algo == DS_LIMIT_LEAKY_SHAPER) {
        /* start = TAT - n * period: the admitted units leave from there;
         * wait_ns(burst) on that state is ceil((start - now*L) / L). */
        uint64_t a = n, b = (uint64_t)c->period_ns, lo;
        ds__mum128(&a, &b); /* a = low, b = high */
        lo = lim.s.lo - a;
        lim.s.hi = lim.s.hi - b - (lim.s.lo < a);
        lim.s.lo = lo;
        res->delay_ns = ds_limiter_wait_ns(&lim, c->burst, now);
        if (res->delay_ns < 0) res->delay_ns = 0;
    }
    return ok ? DS_OK : DS_EREFUSED;
bad:
    ds__rd_seterr(l->r, "limiter: unexpected reply", y && y->type == REDIS_REPLY_ERROR ? y->str : NULL);
    return DS_EIO;
}

/* A pipelined batch outside a cluster: each node with the module gets its
 * keys as one DS.LIMITN (decided in order, atomically), which spares the
 * server a command's overhead per decision. In a cluster the keys of one
 * command must share a slot, so there every decision is a DS.LIMIT. The
 * calls answered here are marked pre; the rest (a node without the
 * module, one key on a node, a node that is down) go through ds__rd_run.
 * A lost connection fails its calls (DS_EIO, not resent: they may have
 * run); "unknown command" (the module was unloaded) leaves them to the
 * scripts. */
static void ds__rd_limitn(ds_redis_limiter *l, ds__rdcall *calls, size_t n, const ds__rdlimargs *A,
                          char *arena_mem) {
    ds_redis *r = l->r;
    redisReplyObjectFunctions fns;
    ds__rdarena ar;
    size_t i, j;
    memset(&fns, 0, sizeof fns);
    fns.createString = ds__rda_string;
    fns.createArray = ds__rda_array;
    fns.createInteger = ds__rda_integer;
    fns.createNil = ds__rda_nil;
    fns.freeObject = ds__rda_free;
    ds__rd_arena_init(&ar, arena_mem, n); /* every node's reply fits: n decisions in all */
    for (i = 0; i < n; i++) {
        calls[i].node = ds__rd_route(r, calls[i].k[0], calls[i].kl[0]);
        calls[i].round = 0; /* 1: looked at here */
    }
    for (i = 0; i < n; i++) {
        size_t node = calls[i].node, cnt = 0, k;
        ds__rdnode *nd;
        ds__rdout out;
        void *vy = NULL;
        redisReply *y;
        char hdr[24];
        if (calls[i].round || !calls[i].nmod || node == SIZE_MAX) continue;
        for (j = i; j < n; j++)
            if (calls[j].node == node) { cnt++; calls[j].round = 1; }
        nd = &r->nodes[node];
        if (cnt < 2 || ds__rd_connect(r, nd) != DS_OK || !nd->module) continue;
        out.c = nd->c;
        out.len = 0;
        out.broken = 0;
        out.len = ds__rd_putnum(out.buf, '*', 7 + 2 * cnt);
        ds__rd_putarg(&out, "DS.LIMITN", 9);
        for (k = 2; k <= 5; k++) ds__rd_putarg(&out, calls[i].m[k], calls[i].ml[k]); /* algo limit period burst */
        ds__rd_putarg(&out, calls[i].m[7], calls[i].ml[7]);                          /* now */
        ds__rd_putarg(&out, calls[i].m[8], calls[i].ml[8]);                          /* slack */
        for (j = i; j < n; j++)
            if (calls[j].node == node) {
                ds__rd_putarg(&out, calls[j].m[1], calls[j].ml[1]); /* key */
                ds__rd_putarg(&out, calls[j].m[6], calls[j].ml[6]); /* n */
            }
        ds__rd_flush(&out);
        r->stats.calls++;
        r->stats.module_calls += cnt;
        if (!out.broken) {
            redisReader *rd = nd->c->reader;
            redisReplyObjectFunctions *ofn = rd->fn;
            void *opriv = rd->privdata;
            int got;
            rd->fn = &fns;
            rd->privdata = &ar;
            got = redisGetReply(nd->c, &vy) == REDIS_OK && vy;
            rd->fn = ofn;
            rd->privdata = opriv;
            if (!got) out.broken = 1;
        }
        if (out.broken) {
            ds__rd_drop(r, nd, "connection lost or timed out");
            for (j = i; j < n; j++)
                if (calls[j].node == node) { calls[j].pre = 1; calls[j].st = DS_EIO; r->stats.errors++; }
            continue;
        }
        y = (redisReply *)vy;
        if (ds__rd_is_err(y, "ERR unknown command")) { /* unloaded: nothing ran; the scripts decide */
            nd->module = 0;
            continue;
        }
        if (y->type != REDIS_REPLY_ARRAY || y->elements != cnt) {
            snprintf(hdr, sizeof hdr, "%s", "DS.LIMITN");
            ds__rd_seterr(r, "DS.LIMITN: unexpected reply", y->type == REDIS_REPLY_ERROR ? y->str : hdr);
            for (j = i; j < n; j++)
                if (calls[j].node == node) { calls[j].pre = 1; calls[j].st = DS_EIO; r->stats.errors++; }
            continue;
        }
        for (j = i, k = 0; j < n; j++)
            if (calls[j].node == node) {
                calls[j].pre = 2;
                calls[j].st = DS_OK;
                calls[j].y = y->element[k++]; /* in the arena */
            }
    }
    (void)A;
}

static ds_status ds__rd_limfail(ds_redis_limiter *l, ds_limit_result *res) {
    if (res) {
        memset(res, 0, sizeof *res);
        res->limit = l->cfg.algo <= DS_LIMIT_GCRA ? l->cfg.burst : l->cfg.limit;
        res->retry_after_ns = -1;
    }
    if (l->on_error == DS_REDIS_FAIL_REPORT) return DS_EIO;
    l->degraded++;
    return l->on_error == DS_REDIS_FAIL_OPEN ? DS_OK : DS_EREFUSED;
}

DSDEF ds_status ds_redis_limiter_take_batch(ds_redis_limiter *l, size_t count, const void *const *keys,
                                            const size_t *lens, const uint64_t *ns, int64_t now,
                                            ds_status *out, ds_limit_result *res) {
    ds__rdlimargs A;
    ds__rdcall *calls;
    char *kb, *nb;
    size_t i, kbytes = 0, off = 0, total;
    if (!l || !l->r || (count && (!keys || !lens || !ns || !out)) || now < DS_REDIS_NOW_SERVER) return DS_EINVAL;
    for (i = 0; i < count; i++) {
        if (!keys[i] || !lens[i] || lens[i] > l->r->max_key_len) return DS_EINVAL;
        kbytes += 2 * ds__rd_limkey_len(l, lens[i]);
    }
    if (!count) return DS_OK;
    if (count > (SIZE_MAX / 2 - kbytes) / (sizeof(ds__rdcall) + DS__RD_NBUF + ds__rd_arena_bytes(1))) return DS_ENOMEM;
    kbytes = (kbytes + 15) & ~(size_t)15;
    total = count * (sizeof(ds__rdcall) + DS__RD_NBUF) + kbytes + ds__rd_arena_bytes(count);
    if (total > l->r->scratch_cap) { /* kept: a large malloc per batch costs more than the decisions */
        void *p = DS_MALLOC(l->r->alloc, total);
        if (!p) return DS_ENOMEM;
        if (l->r->scratch) DS_FREE(l->r->alloc, l->r->scratch, l->r->scratch_cap);
        l->r->scratch = p;
        l->r->scratch_cap = total;
    }
    calls = (ds__rdcall *)l->r->scratch;
    nb = (char *)(calls + count);
    kb = nb + count * DS__RD_NBUF;
    ds__rd_limargs(l, now, &A);
    for (i = 0; i < count; i++) {
        ds__rd_limcall(l, &calls[i], &A, keys[i], lens[i], ns[i], kb + off, nb + i * DS__RD_NBUF);
        off += 2 * ds__rd_limkey_len(l, lens[i]);
    }
    if (count > 1 && l->r->mode != DS_REDIS_CLUSTER && calls[0].nmod)
        ds__rd_limitn(l, calls, count, &A, kb + kbytes); /* the arena: after the keys */
    ds__rd_run(l->r, calls, count);
    for (i = 0; i < count; i++) {
        ds_status st = calls[i].st == DS_OK ? ds__rd_limdecode(l, calls[i].y, ns[i], res ? &res[i] : NULL) : DS_EIO;
        out[i] = st == DS_EIO ? ds__rd_limfail(l, res ? &res[i] : NULL) : st;
    }
    ds__rd_calls_free(calls, count);
    return DS_OK;
}

DSDEF ds_status ds_redis_limiter_take(ds_redis_limiter *l, const void *key, size_t len, uint64_t n,
                                      int64_t now, ds_limit_result *res) {
    ds__rdlimargs A;
    ds__rdcall call;
    char stack[1200], nbuf[DS__RD_NBUF], *kb = stack;
    size_t need;
    ds_status st;
    if (!l || !l->r || !key || !len || len > l->r->max_key_len || now < DS_REDIS_NOW_SERVER) return DS_EINVAL;
    need = 2 * ds__rd_limkey_len(l, len);
    if (need > sizeof stack && !(kb = (char *)DS_MALLOC(l->r->alloc, need))) return DS_ENOMEM;
    ds__rd_limargs(l, now, &A);
    ds__rd_limcall(l, &call, &A, key, len, n, kb, nbuf);
    ds__rd_run(l->r, &call, 1);
    st = call.st == DS_OK ? ds__rd_limdecode(l, call.y, n, res) : DS_EIO;
    if (st == DS_EIO) st = ds__rd_limfail(l, res);
    ds__rd_calls_free(&call, 1);
    if (kb != stack) DS_FREE(l->r->alloc, kb, need);
    return st;
}

DSDEF ds_status ds_redis_limiter_allow(ds_redis_limiter *l, const void *key, size_t len, uint64_t n,
                                       int64_t now) {
    return ds_redis_limiter_take(l, key, len, n, now, NULL);
}

/* ---- idempotency keys ---- */
DSDEF ds_status ds_redis_idem_init(ds_redis_idem *s, ds_redis *r, const ds_redis_idem_config *cfg) {
    const char *name = cfg && cfg->name ? cfg->name : "idem";
    if (!s) return DS_EINVAL;
    memset(s, 0, sizeof *s);
    if (!r || !ds__rd_name_ok(name) || (cfg && (cfg->retention_ns < 0 || cfg->lock_timeout_ns < 0))) return DS_EINVAL;
    s->r = r;
    s->retention_ns = cfg && cfg->retention_ns ? cfg->retention_ns : (int64_t)86400 * 1000000000;
    s->lock_ns = cfg && cfg->lock_timeout_ns ? cfg->lock_timeout_ns : (int64_t)60 * 1000000000;
    strcpy(s->name, name);
    return DS_OK;
}

DSDEF void ds_redis_idem_free(ds_redis_idem *s) {
    if (!s) return;
    if (s->resp && s->r) DS_FREE(s->r->alloc, s->resp, s->resp_cap);
    s->resp = NULL;
    s->resp_cap = 0;
}

/* The record's key: prefix "i:" name ":{" scope_len ":" scope key "}". */
static ds_status ds__rd_idkey(ds_redis_idem *s, const void *scope, size_t slen, const void *key, size_t klen,
                              char **buf, size_t *len, size_t *cap, char *stack, size_t stack_cap) {
    char num[24];
    size_t p = 0, nl, pl, need;
    if (!s || !s->r || (!scope && slen) || !key || !klen || slen > s->r->max_key_len ||
        klen > s->r->max_key_len - slen)
        return DS_EINVAL;
    nl = (size_t)snprintf(num, sizeof num, "%lu:", (unsigned long)slen);
    pl = strlen(s->r->prefix);
    need = pl + 2 + strlen(s->name) + 2 + nl + slen + klen + 1;
    *buf = stack;
    *cap = need;
    if (need > stack_cap && !(*buf = (char *)DS_MALLOC(s->r->alloc, need))) return DS_ENOMEM;
    memcpy(*buf, s->r->prefix, pl); p = pl;
    memcpy(*buf + p, "i:", 2); p += 2;
    memcpy(*buf + p, s->name, strlen(s->name)); p += strlen(s->name);
    memcpy(*buf + p, ":{", 2); p += 2;
    memcpy(*buf + p, num, nl); p += nl;
    if (slen) memcpy(*buf + p, scope, slen);
    p += slen;
    memcpy(*buf + p, key, klen); p += klen;
    (*buf)[p++] = '}';
    *len = p;
    return DS_OK;
}

static int64_t ds__rd_ms_ceil(int64_t ns) { return ns / 1000000 + (ns % 1000000 != 0); }

DSDEF ds_status ds_redis_idem_begin(ds_redis_idem *s, const void *scope, size_t scope_len,
                                    const void *key, size_t key_len, uint64_t fingerprint,
                                    int64_t now, ds_idem_state *state, uint64_t *token,
                                    const void **response, size_t *response_len) {
    char stack[700], fp[17], nows[24], lock[24], ttl[24], *kb;
    size_t kl, cap;
    ds__rdcall c;
    ds_status st;
    const redisReply *y;
    if (response) *response = NULL;
    if (response_len) *response_len = 0;
    if (token) *token = 0;
    if (!state || now < DS_REDIS_NOW_SERVER) return DS_EINVAL;
    if ((st = ds__rd_idkey(s, scope, scope_len, key, key_len, &kb, &kl, &cap, stack, sizeof stack)) != DS_OK)
        return st;
    ds__rd_hex16(fingerprint, fp);
    if (now == DS_REDIS_NOW_SERVER) nows[0] = 0;
    else snprintf(nows, sizeof nows, "%lld", (long long)(now / 1000));
    snprintf(lock, sizeof lock, "%lld", (long long)(s->lock_ns / 1000));
    snprintf(ttl, sizeof ttl, "%lld",
             (long long)ds__rd_ms_ceil(s->retention_ns > s->lock_ns ? s->retention_ns : s->lock_ns));
    memset(&c, 0, sizeof c);
    c.script = DS__RD_IBEGIN;
    c.nkeys = 1; c.k[0] = kb; c.kl[0] = kl;
    c.a[0] = fp; c.al[0] = 16;
    c.a[1] = nows; c.al[1] = strlen(nows);
    c.a[2] = lock; c.al[2] = strlen(lock);
    c.a[3] = ttl; c.al[3] = strlen(ttl);
    c.nargs = 4;
    ds__rd_run(s->r, &c, 1);
    st = c.st;
    y = c.y;
    if (st == DS_OK) {
        uint64_t tok = 0;
        if (y->type != REDIS_REPLY_ARRAY || y->elements != 3 || y->element[0]->type != REDIS_REPLY_INTEGER ||
            y->element[0]->integer < 0 || y->element[0]->integer > 3 || y->element[1]->type != REDIS_REPLY_STRING ||
            y->element[2]->type != REDIS_REPLY_STRING || !ds__rd_u64(y->element[1]->str, y->element[1]->len, 10, &tok) ||
            (y->element[0]->integer == 0 && !tok)) {
            ds__rd_seterr(s->r, "idem begin: unexpected reply", y->type == REDIS_REPLY_ERROR ? y->str : NULL);
            st = DS_EIO;
        } else {
            *state = (ds_idem_state)y->element[0]->integer;
            if (*state == DS_IDEM_NEW && token) *token = tok;
            if (*state == DS_IDEM_DONE) {
                size_t n = y->element[2]->len;
                if (n + 1 > s->resp_cap) {
                    char *nr = (char *)DS_MALLOC(s->r->alloc, n + 1);
                    if (!nr) {
                        st = DS_ENOMEM;
                        goto out;
                    }
                    if (s->resp) DS_FREE(s->r->alloc, s->resp, s->resp_cap);
                    s->resp = nr;
                    s->resp_cap = n + 1;
                }
                memcpy(s->resp, y->element[2]->str, n);
                s->resp[n] = 0;
                if (response) *response = s->resp;
                if (response_len) *response_len = n;
            }
        }
    }
out:
    ds__rd_calls_free(&c, 1);
    if (kb != stack) DS_FREE(s->r->alloc, kb, cap);
    return st;
}

static ds_status ds__rd_idfinish(ds_redis_idem *s, const void *scope, size_t scope_len, const void *key,
                                 size_t key_len, uint64_t token, const void *response, size_t response_len,
                                 int complete) {
    char stack[700], tok[24], ttl[24], *kb;
    size_t kl, cap;
    ds__rdcall c;
    ds_status st;
    if (!token || (!response && response_len)) return DS_EINVAL;
    if ((st = ds__rd_idkey(s, scope, scope_len, key, key_len, &kb, &kl, &cap, stack, sizeof stack)) != DS_OK)
        return st;
    snprintf(tok, sizeof tok, "%llu", (unsigned long long)token);
    snprintf(ttl, sizeof ttl, "%lld", (long long)ds__rd_ms_ceil(s->retention_ns));
    memset(&c, 0, sizeof c);
    c.script = complete ? DS__RD_ICOMPLETE : DS__RD_IABANDON;
    c.nkeys = 1; c.k[0] = kb; c.kl[0] = kl;
    c.a[0] = tok; c.al[0] = strlen(tok);
    if (complete) {
        c.a[1] = response ? (const char *)response : ""; c.al[1] = response_len;
        c.a[2] = ttl; c.al[2] = strlen(ttl);
        c.nargs = 3;
    } else {
        c.a[1] = ttl; c.al[1] = strlen(ttl);
        c.nargs = 2;
    }
    ds__rd_run(s->r, &c, 1);
    st = c.st;
    if (st == DS_OK) {
        if (c.y->type != REDIS_REPLY_INTEGER || c.y->integer < 0 || c.y->integer > 2) {
            ds__rd_seterr(s->r, "idem: unexpected reply", c.y->type == REDIS_REPLY_ERROR ? c.y->str : NULL);
            st = DS_EIO;
        } else {
            st = c.y->integer == 1 ? DS_OK : c.y->integer == 0 ? DS_ENOTFOUND : DS_EMISMATCH;
        }
    }
    ds__rd_calls_free(&c, 1);
    if (kb != stack) DS_FREE(s->r->alloc, kb, cap);
    return st;
}

DSDEF ds_status ds_redis_idem_complete(ds_redis_idem *s, const void *scope, size_t scope_len,
                                       const void *key, size_t key_len, uint64_t token,
                                       const void *response, size_t response_len) {
    return ds__rd_idfinish(s, scope, scope_len, key, key_len, token, response, response_len, 1);
}
DSDEF ds_status ds_redis_idem_abandon(ds_redis_idem *s, const void *scope, size_t scope_len,
                                      const void *key, size_t key_len, uint64_t token) {
    return ds__rd_idfinish(s, scope, scope_len, key, key_len, token, NULL, 0, 0);
}

/* ---- ids ---- */
DSDEF ds_status ds_redis_idblock_init(ds_redis_idblock *b, ds_redis *r, const char *name, uint64_t block) {
    if (!b) return DS_EINVAL;
    memset(b, 0, sizeof *b);
    if (!r || !ds__rd_name_ok(name) || block > ((uint64_t)1 << 40)) return DS_EINVAL;
    b->r = r;
    strcpy(b->name, name);
    b->block = block ? block : 1000;
    return DS_OK;
}

DSDEF ds_status ds_redis_idblock_next(ds_redis_idblock *b, uint64_t *id) {
    if (!b || !b->r || !id) return DS_EINVAL;
    if (b->next == b->end) {
        char key[120], num[24];
        ds__rdcall c;
        ds_status st;
        long long v = 0;
        size_t kl = (size_t)snprintf(key, sizeof key, "%sid:%s", b->r->prefix, b->name);
        snprintf(num, sizeof num, "%llu", (unsigned long long)b->block);
        memset(&c, 0, sizeof c);
        c.script = -1;
        c.k[0] = key; c.kl[0] = kl;
        c.a[0] = "INCRBY"; c.al[0] = 6;
        c.a[1] = key; c.al[1] = kl;
        c.a[2] = num; c.al[2] = strlen(num);
        c.nargs = 3;
        ds__rd_run(b->r, &c, 1);
        st = c.st;
        if (st == DS_OK) {
            if (c.y->type != REDIS_REPLY_INTEGER) {
                ds__rd_seterr(b->r, "INCRBY: unexpected reply", c.y->type == REDIS_REPLY_ERROR ? c.y->str : NULL);
                st = DS_EIO;
            } else if (c.y->integer < (long long)b->block || (uint64_t)c.y->integer > ((uint64_t)1 << 63) - 1) {
                st = DS_EFULL;
            } else {
                v = c.y->integer;
            }
        }
        ds__rd_calls_free(&c, 1);
        if (st != DS_OK) return st;
        b->end = (uint64_t)v + 1;
        b->next = b->end - b->block;
    }
    *id = b->next++;
    return DS_OK;
}

static ds_status ds__rd_lease_call(ds_redis_worker *w, int script) {
    char ttl[24];
    ds__rdcall c;
    ds_status st;
    snprintf(ttl, sizeof ttl, "%lld", (long long)ds__rd_ms_ceil(w->ttl_ns));
    memset(&c, 0, sizeof c);
    c.script = script;
    c.nkeys = 1; c.k[0] = w->key; c.kl[0] = w->key_len;
    c.a[0] = w->owner; c.al[0] = strlen(w->owner);
    c.a[1] = ttl; c.al[1] = strlen(ttl);
    c.nargs = script == DS__RD_RENEW ? 2 : 1;
    ds__rd_run(w->r, &c, 1);
    st = c.st;
    if (st == DS_OK) {
        if (c.y->type != REDIS_REPLY_INTEGER) st = DS_EIO;
        else st = c.y->integer == 1 ? DS_OK : DS_EBUSY;
    }
    ds__rd_calls_free(&c, 1);
    return st;
}

DSDEF ds_status ds_redis_worker_acquire(ds_redis_worker *w, ds_redis *r, const char *name,
                                        const ds_snowflake_config *cfg, int64_t ttl_ns) {
    ds_snowflake_config sc;
    uint64_t id, nids;
    ds_rng rng;
    ds_status st = DS_EFULL;
    char ttl[24];
    if (!w) return DS_EINVAL;
    memset(w, 0, sizeof *w);
    if (!r || !ds__rd_name_ok(name) || ttl_ns < 0) return DS_EINVAL;
    if (cfg) sc = *cfg;
    else memset(&sc, 0, sizeof sc);
    sc.node = 0;
    if (ds_snowflake_init(&w->sf, &sc) != DS_OK) return DS_EINVAL;
    nids = (uint64_t)1 << w->sf.cfg.node_bits;
    w->r = r;
    w->ttl_ns = ttl_ns ? ttl_ns : (int64_t)10 * 1000000000;
    if (w->ttl_ns < 8000000) w->ttl_ns = 8000000;
    ds_rng_seed(&rng, (uint64_t)ds_wall_ns() ^ (uint64_t)ds_now_ns() ^ (uint64_t)(uintptr_t)w);
    snprintf(w->owner, sizeof w->owner, "%016llx%016llx", (unsigned long long)ds_rng_next(&rng),
             (unsigned long long)ds_rng_next(&rng));
    snprintf(ttl, sizeof ttl, "%lld", (long long)ds__rd_ms_ceil(w->ttl_ns));
    for (id = 0; id < nids; id++) {
        ds__rdcall c;
        int64_t sent = ds_now_ns();
        w->key_len = (size_t)snprintf(w->key, sizeof w->key, "%sw:%s:%llu", r->prefix, name, (unsigned long long)id);
        memset(&c, 0, sizeof c);
        c.script = -1;
        c.k[0] = w->key; c.kl[0] = w->key_len;
        c.a[0] = "SET"; c.al[0] = 3;
        c.a[1] = w->key; c.al[1] = w->key_len;
        c.a[2] = w->owner; c.al[2] = strlen(w->owner);
        c.a[3] = "NX"; c.al[3] = 2;
        c.a[4] = "PX"; c.al[4] = 2;
        c.a[5] = ttl; c.al[5] = strlen(ttl);
        c.nargs = 6;
        ds__rd_run(r, &c, 1);
        if (c.st != DS_OK) {
            st = DS_EIO;
            break;
        }
        if (c.y->type == REDIS_REPLY_STATUS && !strcmp(c.y->str, "OK")) {
            ds__rd_calls_free(&c, 1);
            w->sf.cfg.node = id;
            w->held = 1;
            w->valid_until = sent + w->ttl_ns - w->ttl_ns / 8;
            w->renew_at = sent + w->ttl_ns / 2;
            return DS_OK;
        }
        if (c.y->type != REDIS_REPLY_NIL) st = DS_EIO;
        ds__rd_calls_free(&c, 1);
        if (st == DS_EIO) break;
    }
    w->r = NULL;
    return st;
}

DSDEF ds_status ds_redis_worker_renew(ds_redis_worker *w) {
    int64_t sent;
    ds_status st;
    if (!w || !w->r) return DS_EINVAL;
    if (!w->held) return DS_EBUSY;
    sent = ds_now_ns();
    st = ds__rd_lease_call(w, DS__RD_RENEW);
    if (st == DS_OK) {
        if (sent < w->valid_until) { /* never extend a lease that already ran out */
            w->valid_until = sent + w->ttl_ns - w->ttl_ns / 8;
            w->renew_at = sent + w->ttl_ns / 2;
        } else {
            w->held = 0;
            st = DS_EBUSY;
        }
    } else if (st == DS_EBUSY) {
        w->held = 0;
    }
    return st;
}

DSDEF ds_status ds_redis_worker_next(ds_redis_worker *w, uint64_t *id, int64_t *wait_ns) {
    int64_t t;
    if (wait_ns) *wait_ns = 0;
    if (!w || !w->r || !id) return DS_EINVAL;
    t = ds_now_ns();
    if (w->held && t >= w->renew_at) ds_redis_worker_renew(w); /* DS_EIO: go on while valid */
    if (!w->held || ds_now_ns() >= w->valid_until) {
        w->held = 0;
        if (wait_ns) *wait_ns = -1;
        return DS_EBUSY;
    }
    return ds_snowflake_next(&w->sf, ds_wall_ns(), id, wait_ns);
}

DSDEF void ds_redis_worker_release(ds_redis_worker *w) {
    if (!w || !w->r) return;
    if (w->held) ds__rd_lease_call(w, DS__RD_RELEASE);
    w->held = 0;
}

DSDEF uint64_t ds_redis_worker_id(const ds_redis_worker *w) { return w ? w->sf.cfg.node : 0; }

/* ---- two-tier cache ---- */
#include <poll.h>
DS__LRU_PROTOS(ds__rdc_lru, ds__rdc_key, ds__rdc_val, DS__LINK_STATIC);
DS__LRU_IMPL(ds__rdc_lru, ds__rdc_key, ds__rdc_val, ds__rdc_hash, ds__rdc_eq, DS__LINK_STATIC)

static void ds__rdc_on_evict(void *ctx, ds__rdc_key *k, ds__rdc_val *v, ds_evict why) {
    const ds_alloc *a = (const ds_alloc *)ctx;
    (void)why;
    if (k->p) DS_FREE(a, k->p, k->len ? k->len : 1);
    if (v->p) DS_FREE(a, v->p, v->len ? v->len : 1);
}
static uint64_t ds__rdc_weigh(void *ctx, const ds__rdc_key *k, const ds__rdc_val *v) {
    (void)ctx;
    return (uint64_t)k->len + v->len + 64;
}

DSDEF ds_status ds_redis_cache_init(ds_redis_cache *c, ds_redis *r, const ds_redis_cache_config *cfg) {
    ds__rdc_lru_config lc;
    const char *name = cfg && cfg->name ? cfg->name : "cache";
    ds_status st;
    if (!c) return DS_EINVAL;
    memset(c, 0, sizeof *c);
    if (!r || !ds__rd_name_ok(name) || (cfg && (cfg->l1_ttl_ns < 0 || cfg->ttl_ns < 0))) return DS_EINVAL;
    c->r = r;
    strcpy(c->name, name);
    snprintf(c->chan, sizeof c->chan, "%sc:%s", r->prefix, name);
    c->l1_ttl = cfg && cfg->l1_ttl_ns ? cfg->l1_ttl_ns : 1000000000;
    c->ttl = cfg && cfg->ttl_ns ? cfg->ttl_ns : (int64_t)3600 * 1000000000;
    memset(&lc, 0, sizeof lc);
    lc.max_entries = cfg && cfg->l1_max_entries ? cfg->l1_max_entries : 10000;
    lc.max_weight = cfg && cfg->l1_max_bytes ? cfg->l1_max_bytes : (uint64_t)64 << 20;
    lc.weigher = ds__rdc_weigh;
    lc.default_ttl = c->l1_ttl;
    lc.on_evict = ds__rdc_on_evict;
    lc.ctx = (void *)(uintptr_t)r->alloc;
    lc.alloc = r->alloc;
    if ((st = ds__rdc_lru_init(&c->l1, &lc)) != DS_OK) return st;
    c->l1_on = 1;
    return DS_OK;
}

DSDEF void ds_redis_cache_free(ds_redis_cache *c) {
    if (!c) return;
    if (c->sub) redisFree(c->sub);
    if (c->l1_on) ds__rdc_lru_free(&c->l1);
    memset(c, 0, sizeof *c);
}

static void ds__rdc_l1_del(ds_redis_cache *c, const void *key, size_t len) {
    ds__rdc_key k;
    k.p = (unsigned char *)(uintptr_t)key;
    k.len = len;
    k.h = ds_hash_bytes(key, len, 0);
    ds__rdc_lru_del(&c->l1, k, NULL, 0);
}

/* Open the subscription (on the node that serves the channel's name). */
static void ds__rdc_subscribe(ds_redis_cache *c) {
    ds_redis *r = c->r;
    size_t node;
    ds__rdnode *nd;
    redisReply *y;
    redisContext *s;
    if (c->sub || ds_now_ns() < c->sub_retry_at) return;
    node = ds__rd_route(r, c->chan, strlen(c->chan));
    if (node == SIZE_MAX) return;
    nd = &r->nodes[node];
    s = nd->port ? redisConnectWithTimeout(nd->addr, nd->port, ds__rd_tv(r->conn_to))
                 : redisConnectUnixWithTimeout(nd->addr, ds__rd_tv(r->conn_to));
    c->sub_retry_at = ds_now_ns() + r->bo_max;
    if (!s || s->err) goto fail;
    redisSetTimeout(s, ds__rd_tv(r->cmd_to));
    if (r->pass[0]) {
        y = r->user[0] ? (redisReply *)redisCommand(s, "AUTH %s %s", r->user, r->pass)
                       : (redisReply *)redisCommand(s, "AUTH %s", r->pass);
        if (!y || y->type == REDIS_REPLY_ERROR) { if (y) freeReplyObject(y); goto fail; }
        freeReplyObject(y);
    }
    y = (redisReply *)redisCommand(s, "SUBSCRIBE %s", c->chan);
    if (!y || y->type != REDIS_REPLY_ARRAY) { if (y) freeReplyObject(y); goto fail; }
    freeReplyObject(y);
    c->sub = s;
    c->sub_retry_at = 0;
    /* Invalidations may have been missed while unsubscribed. */
    ds__rdc_lru_clear(&c->l1);
    c->stats.resubscribes++;
    return;
fail:
    if (s) redisFree(s);
}

DSDEF ds_status ds_redis_cache_poll(ds_redis_cache *c) {
    struct pollfd pfd;
    void *y;
    if (!c || !c->r) return DS_EINVAL;
    ds__rdc_subscribe(c);
    if (!c->sub) return DS_EIO;
    for (;;) {
        while (redisGetReplyFromReader(c->sub, &y) == REDIS_OK && y) {
            redisReply *m = (redisReply *)y;
            if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 && m->element[2]->type == REDIS_REPLY_STRING &&
                m->element[0]->type == REDIS_REPLY_STRING && !strcmp(m->element[0]->str, "message")) {
                if (m->element[2]->len) ds__rdc_l1_del(c, m->element[2]->str, m->element[2]->len);
                else ds__rdc_lru_clear(&c->l1);
                c->stats.invalidations++;
            }
            freeReplyObject(y);
        }
        if (c->sub->err) break;
        pfd.fd = c->sub->fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, 0) <= 0) return DS_OK;
        if (redisBufferRead(c->sub) != REDIS_OK) break;
    }
    redisFree(c->sub); /* lost: resubscribe (and clear the L1) later */
    c->sub = NULL;
    c->sub_retry_at = 0;
    ds__rdc_lru_clear(&c->l1);
    return DS_EIO;
}

/* "<prefix>c:<name>:{key}" */
static ds_status ds__rdc_key_make(ds_redis_cache *c, const void *key, size_t len, char *stack, size_t cap,
                                  char **out, size_t *olen, size_t *ocap) {
    size_t pl = strlen(c->chan), need = pl + 3 + len;
    *out = stack;
    *ocap = need;
    if (need > cap && !(*out = (char *)DS_MALLOC(c->r->alloc, need))) return DS_ENOMEM;
    memcpy(*out, c->chan, pl);
    memcpy(*out + pl, ":{", 2);
    memcpy(*out + pl + 2, key, len);
    (*out)[pl + 2 + len] = '}';
    *olen = need;
    return DS_OK;
}

static ds_status ds__rdc_l1_put(ds_redis_cache *c, const void *key, size_t len, const void *val, size_t vlen,
                                int64_t now, const void **outv) {
    ds__rdc_key k;
    ds__rdc_val v;
    ds_status st;
    ds__rdc_val *got;
    k.len = len;
    v.len = vlen;
    k.p = (unsigned char *)DS_MALLOC(c->r->alloc, len ? len : 1);
    v.p = (unsigned char *)DS_MALLOC(c->r->alloc, vlen ? vlen : 1);
    if (!k.p || !v.p) {
        if (k.p) DS_FREE(c->r->alloc, k.p, len ? len : 1);
        if (v.p) DS_FREE(c->r->alloc, v.p, vlen ? vlen : 1);
        return DS_ENOMEM;
    }
    memcpy(k.p, key, len);
    if (vlen) memcpy(v.p, val, vlen);
    k.h = ds_hash_bytes(key, len, 0);
    if ((st = ds__rdc_lru_put(&c->l1, k, v, now)) != DS_OK) {
        DS_FREE(c->r->alloc, k.p, len ? len : 1);
        DS_FREE(c->r->alloc, v.p, vlen ? vlen : 1);
        return st;
    }
    if (outv) {
        got = ds__rdc_lru_peek(&c->l1, k, now);
        if (!got) return DS_EFULL; /* heavier than the L1's bound: not kept */
        *outv = got->p;
    }
    return DS_OK;
}

static ds_status ds__rdc_cmd(ds_redis_cache *c, const char *cmd, const char *k, size_t kl, const void *v,
                             size_t vl, int px, redisReply **out) {
    ds__rdcall call;
    char ttl[24];
    memset(&call, 0, sizeof call);
    call.script = -1;
    call.k[0] = k; call.kl[0] = kl;
    call.a[0] = cmd; call.al[0] = strlen(cmd);
    call.a[1] = k; call.al[1] = kl;
    call.nargs = 2;
    if (v) { call.a[2] = (const char *)v; call.al[2] = vl; call.nargs = 3; }
    if (px) {
        snprintf(ttl, sizeof ttl, "%lld", (long long)ds__rd_ms_ceil(c->ttl));
        call.a[3] = "PX"; call.al[3] = 2;
        call.a[4] = ttl; call.al[4] = strlen(ttl);
        call.nargs = 5;
    }
    ds__rd_run(c->r, &call, 1);
    *out = call.y;
    if (call.st == DS_OK && call.y->type == REDIS_REPLY_ERROR) {
        ds__rd_seterr(c->r, "cache: error reply", call.y->str);
        freeReplyObject(call.y);
        *out = NULL;
        return DS_EIO;
    }
    return call.st;
}

DSDEF ds_status ds_redis_cache_get(ds_redis_cache *c, const void *key, size_t len, int64_t now,
                                   ds_redis_cache_loader loader, void *lctx, const void **val,
                                   size_t *val_len) {
    ds__rdc_key k;
    ds__rdc_val *hit;
    char stack[600], *kb;
    size_t kl, cap, vl = 0;
    redisReply *y = NULL;
    ds_status st;
    const void *v = NULL;
    if (val) *val = NULL;
    if (val_len) *val_len = 0;
    if (!c || !c->r || !key || !len || len > c->r->max_key_len || !val || !val_len) return DS_EINVAL;
    ds_redis_cache_poll(c);
    k.p = (unsigned char *)(uintptr_t)key;
    k.len = len;
    k.h = ds_hash_bytes(key, len, 0);
    if ((hit = ds__rdc_lru_get(&c->l1, k, now)) != NULL) {
        c->stats.l1_hits++;
        *val = hit->p;
        *val_len = hit->len;
        return DS_OK;
    }
    if ((st = ds__rdc_key_make(c, key, len, stack, sizeof stack, &kb, &kl, &cap)) != DS_OK) return st;
    st = ds__rdc_cmd(c, "GET", kb, kl, NULL, 0, 0, &y);
    if (st == DS_OK && y->type == REDIS_REPLY_STRING) {
        c->stats.l2_hits++;
        st = ds__rdc_l1_put(c, key, len, y->str, y->len, now, &v);
        vl = y->len;
    } else if (!loader) {
        st = st == DS_OK ? DS_ENOTFOUND : st;
    } else {
        int redis_up = st == DS_OK;
        c->stats.loads++;
        if ((st = loader(lctx, key, len, &v, &vl)) == DS_OK) {
            if (!v && vl) st = DS_EINVAL;
            else {
                if (redis_up) { /* fill L2; its failure is not the caller's */
                    redisReply *z = NULL;
                    if (ds__rdc_cmd(c, "SET", kb, kl, v ? v : "", vl, 1, &z) == DS_OK && z) freeReplyObject(z);
                }
                st = ds__rdc_l1_put(c, key, len, v ? v : "", vl, now, &v);
            }
        }
    }
    if (y) freeReplyObject(y);
    if (kb != stack) DS_FREE(c->r->alloc, kb, cap);
    if (st == DS_OK) {
        *val = v;
        *val_len = vl;
    }
    return st;
}

static ds_status ds__rdc_write(ds_redis_cache *c, const void *key, size_t len, const void *val, size_t vl,
                               int64_t now, int del) {
    char stack[600], *kb;
    size_t kl, cap;
    redisReply *y = NULL;
    ds_status st, l1 = DS_OK;
    if (!c || !c->r || !key || !len || len > c->r->max_key_len || (!del && !val && vl)) return DS_EINVAL;
    ds_redis_cache_poll(c);
    ds__rdc_l1_del(c, key, len);
    if ((st = ds__rdc_key_make(c, key, len, stack, sizeof stack, &kb, &kl, &cap)) != DS_OK) return st;
    st = del ? ds__rdc_cmd(c, "DEL", kb, kl, NULL, 0, 0, &y) : ds__rdc_cmd(c, "SET", kb, kl, val ? val : "", vl, 1, &y);
    if (y) freeReplyObject(y);
    y = NULL;
    if (st == DS_OK) {
        ds__rdcall call;
        memset(&call, 0, sizeof call);
        call.script = -1;
        call.k[0] = c->chan; call.kl[0] = strlen(c->chan);
        call.a[0] = "PUBLISH"; call.al[0] = 7;
        call.a[1] = c->chan; call.al[1] = strlen(c->chan);
        call.a[2] = (const char *)key; call.al[2] = len;
        call.nargs = 3;
        ds__rd_run(c->r, &call, 1);
        st = call.st;
        ds__rd_calls_free(&call, 1);
        if (!del && st == DS_OK) l1 = ds__rdc_l1_put(c, key, len, val ? val : "", vl, now, NULL);
    }
    if (kb != stack) DS_FREE(c->r->alloc, kb, cap);
    return st != DS_OK ? st : l1;
}

DSDEF ds_status ds_redis_cache_set(ds_redis_cache *c, const void *key, size_t len, const void *val,
                                   size_t val_len, int64_t now) {
    return ds__rdc_write(c, key, len, val, val_len, now, 0);
}
DSDEF ds_status ds_redis_cache_del(ds_redis_cache *c, const void *key, size_t len, int64_t now) {
    return ds__rdc_write(c, key, len, NULL, 0, now, 1);
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_IMPLEMENTATION */
