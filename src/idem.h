/* src/idem.h - ds_idem: idempotency keys
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/idem.h"
 */
#ifndef DS_SRC_IDEM_H
#define DS_SRC_IDEM_H
#include "core.h"
#include "map.h"
#include "cache.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* -- idempotency keys -----------------------------------------------------
 * ds_idem: Stripe-style idempotency for side-effecting requests (a payment
 * retried after a timeout must charge once). Keys live in the caller's
 * scope (account, endpoint...): scope and key are folded into one
 * length-prefixed byte string, so two tenants' equal keys never collide.
 * A request carries a fingerprint (a hash of its body) so a reused key
 * with a different request is caught.
 *
 *   begin(scope, key, fingerprint, now, &token) answers
 *     DS_IDEM_NEW        first sight: the caller owns the key, runs the
 *                        request, then calls complete (or abandon if it
 *                        failed) with the fencing token begin gave it
 *     DS_IDEM_IN_FLIGHT  a duplicate while the first is running: answer
 *                        "409 conflict, retry later"
 *     DS_IDEM_DONE       a retry of a finished request: *response points
 *                        at the stored response bytes (valid until the
 *                        next call on s); replay it, do not re-run
 *     DS_IDEM_MISMATCH   same key, different fingerprint: refuse (422)
 *   complete(scope, key, token, response, len, now): in-flight -> done,
 *     response copied; DS_ENOTFOUND if not in flight (never begun,
 *     abandoned, or already completed), DS_EMISMATCH if in flight under
 *     another token: the lock expired, a retry took the key over, and only
 *     that new owner may finish it (a stale owner never overwrites it).
 *   abandon(scope, key, token): releases an in-flight key so a retry can
 *     run; the same token rule.
 * Tokens (fencing tokens, Kleppmann's term) are nonzero, never reused by
 * an instance, and increase with every NEW, takeovers included.
 *
 * Done records are kept for `retention` (default 24 h) in an LRU bounded
 * by max_keys and max_bytes (key + response + 64 bytes each); when memory
 * runs out the oldest done records go first (a retry after that runs as
 * NEW: size the bounds for your retry window). In-flight records are never
 * evicted for space: begin returns DS_EFULL past max_in_flight. An
 * in-flight record older than lock_timeout (default 60 s) is presumed
 * crashed: the next begin takes it over as NEW.
 *
 *   ds_status ds_idem_init(ds_idem *s, const ds_idem_config *cfg)   cfg may be NULL
 *   ds_status ds_idem_begin(ds_idem *s, const void *scope, size_t scope_len,
 *                           const void *key, size_t key_len, uint64_t fingerprint,
 *                           int64_t now, ds_idem_state *state, uint64_t *token,
 *                           const void **response, size_t *response_len)
 *          *token (may be NULL) is set on NEW, else 0
 *   ds_status ds_idem_complete(ds_idem *s, const void *scope, size_t scope_len,
 *                              const void *key, size_t key_len, uint64_t token,
 *                              const void *response, size_t response_len, int64_t now)
 *   ds_status ds_idem_abandon(ds_idem *s, const void *scope, size_t scope_len,
 *                             const void *key, size_t key_len, uint64_t token)
 *   size_t ds_idem_expire(ds_idem *s, int64_t now, size_t budget)
 *   size_t ds_idem_in_flight(const ds_idem *s), ds_idem_done(const ds_idem *s)
 *   void   ds_idem_free(ds_idem *s)
 * Errors: DS_EINVAL (NULL with a nonzero length, bad config: a negative
 * retention or lock_timeout, max_keys of 2^31 or more), DS_ENOMEM
 * (nothing changes), DS_EFULL, DS_ENOTFOUND / DS_EMISMATCH (above). Complexity: O(1) expected per call plus
 * copying the key and response. Thread-safety: none (ds_concurrent.h). */
typedef enum ds_idem_state {
    DS_IDEM_NEW = 0,
    DS_IDEM_IN_FLIGHT = 1,
    DS_IDEM_DONE = 2,
    DS_IDEM_MISMATCH = 3
} ds_idem_state;

typedef struct ds_idem_config {
    int64_t retention;      /* ns; 0 = 24 h */
    int64_t lock_timeout;   /* ns; 0 = 60 s */
    size_t max_keys;        /* done records; 0 = 1M; below 2^31 */
    uint64_t max_bytes;     /* done records' bytes; 0 = 256 MiB */
    size_t max_in_flight;   /* 0 = 100k */
    const ds_alloc *alloc;
} ds_idem_config;

typedef struct ds__idem_key {
    unsigned char *p;       /* owned: 8-byte scope length, scope, key */
    size_t len;
    uint64_t h;
} ds__idem_key;
typedef struct ds__idem_fly {
    uint64_t fp;
    int64_t started;
    uint64_t token;         /* the current owner's fencing token */
} ds__idem_fly;
typedef struct ds__idem_done {
    uint64_t fp;
    unsigned char *resp;    /* owned */
    size_t len;
} ds__idem_done;
static inline uint64_t ds__idem_hash(ds__idem_key k, uint64_t seed) { return ds_mix64(k.h ^ seed); }
static inline int ds__idem_eq(ds__idem_key a, ds__idem_key b) {
    return a.h == b.h && a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}
DS__MAP_TYPES(ds__idem_flymap, ds__idem_key, ds__idem_fly);
DS__LRU_TYPES(ds__idem_lru, ds__idem_key, ds__idem_done);

typedef struct ds_idem {
    ds__idem_flymap fly;
    ds__idem_lru done;
    ds_idem_config cfg;
    uint64_t seed;          /* keys hash with it: per instance (HashDoS) */
    uint64_t last_token;    /* the last fencing token handed out */
} ds_idem;

DSDEF ds_status ds_idem_init(ds_idem *s, const ds_idem_config *cfg);
DSDEF void ds_idem_free(ds_idem *s);
DSDEF ds_status ds_idem_begin(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                              size_t key_len, uint64_t fingerprint, int64_t now,
                              ds_idem_state *state, uint64_t *token, const void **response,
                              size_t *response_len);
DSDEF ds_status ds_idem_complete(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                                 size_t key_len, uint64_t token, const void *response,
                                 size_t response_len, int64_t now);
DSDEF ds_status ds_idem_abandon(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                                size_t key_len, uint64_t token);
DSDEF size_t ds_idem_expire(ds_idem *s, int64_t now, size_t budget);
DSDEF size_t ds_idem_in_flight(const ds_idem *s);
DSDEF size_t ds_idem_done(const ds_idem *s);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_IDEM_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_IDEM_IMPL)
#define DS_SRC_IDEM_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:idem == */

DS__MAP_PROTOS(ds__idem_flymap, ds__idem_key, ds__idem_fly, DS__LINK_STATIC);
DS__MAP_IMPL(ds__idem_flymap, ds__idem_key, ds__idem_fly, ds__idem_hash, ds__idem_eq, DS__LINK_STATIC)
DS__LRU_PROTOS(ds__idem_lru, ds__idem_key, ds__idem_done, DS__LINK_STATIC);
DS__LRU_IMPL(ds__idem_lru, ds__idem_key, ds__idem_done, ds__idem_hash, ds__idem_eq, DS__LINK_STATIC)

static void ds__idem_release(const ds_alloc *a, ds__idem_key *k, ds__idem_done *v) {
    if (k && k->p) DS_FREE(a, k->p, k->len);
    if (v && v->resp) DS_FREE(a, v->resp, v->len ? v->len : 1);
}
/* Done records leave the LRU only through here: free what they own. */
static void ds__idem_on_evict(void *ctx, ds__idem_key *k, ds__idem_done *v, ds_evict why) {
    (void)why;
    ds__idem_release((const ds_alloc *)ctx, k, v);
}
static uint64_t ds__idem_weigh(void *ctx, const ds__idem_key *k, const ds__idem_done *v) {
    (void)ctx;
    return (uint64_t)k->len + v->len + 64;
}
/* scope and key folded into one owned byte string: 8-byte LE scope length,
 * scope, key. The length prefix keeps ("ab","c") and ("a","bc") apart. */
static ds_status ds__idem_key_make(const ds_idem *s, const void *scope, size_t slen,
                                   const void *key, size_t klen, ds__idem_key *out) {
    size_t len, i;
    if ((!scope && slen) || (!key && klen) || !ds_size_add(slen, klen, &len) ||
        !ds_size_add(len, 8, &len))
        return DS_EINVAL;
    out->p = (unsigned char *)DS_MALLOC(s->cfg.alloc, len);
    if (!out->p) return DS_ENOMEM;
    for (i = 0; i < 8; i++) out->p[i] = (unsigned char)((uint64_t)slen >> (8 * i));
    if (slen) memcpy(out->p + 8, scope, slen);
    if (klen) memcpy(out->p + 8 + slen, key, klen);
    out->len = len;
    out->h = ds_hash_bytes(out->p, len, s->seed);
    return DS_OK;
}

DSDEF ds_status ds_idem_init(ds_idem *s, const ds_idem_config *cfg) {
    ds__idem_lru_config lc;
    ds_status st;
    if (!s) return DS_EINVAL;
    memset(s, 0, sizeof *s);
    if (cfg) s->cfg = *cfg;
    if (s->cfg.retention < 0 || s->cfg.lock_timeout < 0) return DS_EINVAL;
    if (!s->cfg.retention) s->cfg.retention = (int64_t)24 * 3600 * 1000000000;
    if (!s->cfg.lock_timeout) s->cfg.lock_timeout = (int64_t)60 * 1000000000;
    if (!s->cfg.max_keys) s->cfg.max_keys = 1000000;
    if (!s->cfg.max_bytes) s->cfg.max_bytes = (uint64_t)256 << 20;
    if (!s->cfg.max_in_flight) s->cfg.max_in_flight = 100000;
    s->seed = ds__map_default_seed((uintptr_t)(void *)s);
    memset(&lc, 0, sizeof lc);
    lc.max_entries = s->cfg.max_keys;
    lc.max_weight = s->cfg.max_bytes;
    lc.weigher = ds__idem_weigh;
    lc.default_ttl = s->cfg.retention;
    lc.on_evict = ds__idem_on_evict;
    lc.ctx = (void *)(uintptr_t)s->cfg.alloc;
    lc.alloc = s->cfg.alloc;
    if ((st = ds__idem_lru_init(&s->done, &lc)) != DS_OK) return st;
    ds__idem_flymap_init_seed(&s->fly, s->cfg.alloc, ds_mix64(s->seed));
    return DS_OK;
}
DSDEF void ds_idem_free(ds_idem *s) {
    ds__idem_flymap_entry *e;
    if (!s || !s->done.c.index.ctrl) return; /* never initialised (init failed) */
    for (e = ds__idem_flymap_first(&s->fly); e; e = ds__idem_flymap_next(&s->fly, e))
        ds__idem_release(s->cfg.alloc, &e->key, NULL);
    ds__idem_flymap_free(&s->fly);
    ds__idem_lru_free(&s->done);
}
/* The in-flight entry for k, or NULL. */
static ds__idem_flymap_entry *ds__idem_fly_find(const ds_idem *s, ds__idem_key k) {
    size_t i = ds__idem_flymap__find(&s->fly, k);
    return i == DS__NPOS ? NULL : ds__idem_flymap__slot(&s->fly, i);
}
DSDEF ds_status ds_idem_begin(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                              size_t key_len, uint64_t fingerprint, int64_t now,
                              ds_idem_state *state, uint64_t *token, const void **response,
                              size_t *response_len) {
    ds__idem_key k;
    ds__idem_done *d;
    ds__idem_flymap_entry *f;
    ds__idem_fly fly;
    ds_status st;
    if (response) *response = NULL;
    if (response_len) *response_len = 0;
    if (token) *token = 0;
    if (!s || !state) return DS_EINVAL;
    if ((st = ds__idem_key_make(s, scope, scope_len, key, key_len, &k)) != DS_OK) return st;
    if ((d = ds__idem_lru_get(&s->done, k, now)) != NULL) {
        *state = d->fp == fingerprint ? DS_IDEM_DONE : DS_IDEM_MISMATCH;
        if (*state == DS_IDEM_DONE) {
            if (response) *response = d->resp;
            if (response_len) *response_len = d->len;
        }
        ds__idem_release(s->cfg.alloc, &k, NULL);
        return DS_OK;
    }
    if ((f = ds__idem_fly_find(s, k)) != NULL) {
        if (now - f->val.started >= s->cfg.lock_timeout) {
            /* The first attempt went quiet past its lock: presume it died. */
            f->val.fp = fingerprint;
            f->val.started = now;
            f->val.token = ++s->last_token; /* the old owner's token is dead */
            if (token) *token = f->val.token;
            *state = DS_IDEM_NEW;
        } else {
            *state = f->val.fp == fingerprint ? DS_IDEM_IN_FLIGHT : DS_IDEM_MISMATCH;
        }
        ds__idem_release(s->cfg.alloc, &k, NULL);
        return DS_OK;
    }
    if (ds__idem_flymap_len(&s->fly) >= s->cfg.max_in_flight) {
        ds__idem_release(s->cfg.alloc, &k, NULL);
        return DS_EFULL;
    }
    fly.fp = fingerprint;
    fly.started = now;
    fly.token = s->last_token + 1;
    if ((st = ds__idem_flymap_put(&s->fly, k, fly, NULL)) != DS_OK) {
        ds__idem_release(s->cfg.alloc, &k, NULL);
        return st;
    }
    s->last_token = fly.token; /* only now: a failed begin uses no token */
    if (token) *token = fly.token;
    *state = DS_IDEM_NEW;
    return DS_OK;
}
DSDEF ds_status ds_idem_complete(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                                 size_t key_len, uint64_t token, const void *response,
                                 size_t response_len, int64_t now) {
    ds__idem_key k;
    ds__idem_flymap_entry *f;
    ds__idem_done d;
    ds_status st;
    if (!s || (!response && response_len)) return DS_EINVAL;
    if ((st = ds__idem_key_make(s, scope, scope_len, key, key_len, &k)) != DS_OK) return st;
    f = ds__idem_fly_find(s, k);
    ds__idem_release(s->cfg.alloc, &k, NULL);
    if (!f) return DS_ENOTFOUND;
    if (f->val.token != token) return DS_EMISMATCH; /* taken over: not the owner */
    d.fp = f->val.fp;
    d.len = response_len;
    d.resp = (unsigned char *)DS_MALLOC(s->cfg.alloc, response_len ? response_len : 1);
    if (!d.resp) return DS_ENOMEM;
    if (response_len) memcpy(d.resp, response, response_len);
    /* The stored key moves from the in-flight map to the done LRU. */
    if ((st = ds__idem_lru_put(&s->done, f->key, d, now)) != DS_OK) {
        ds__idem_release(s->cfg.alloc, NULL, &d);
        return st;
    }
    ds__idem_flymap_del_entry(&s->fly, f);
    return DS_OK;
}
DSDEF ds_status ds_idem_abandon(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                                size_t key_len, uint64_t token) {
    ds__idem_key k;
    ds__idem_flymap_entry *f;
    ds_status st;
    if (!s) return DS_EINVAL;
    if ((st = ds__idem_key_make(s, scope, scope_len, key, key_len, &k)) != DS_OK) return st;
    f = ds__idem_fly_find(s, k);
    ds__idem_release(s->cfg.alloc, &k, NULL);
    if (!f) return DS_ENOTFOUND;
    if (f->val.token != token) return DS_EMISMATCH;
    ds__idem_release(s->cfg.alloc, &f->key, NULL);
    ds__idem_flymap_del_entry(&s->fly, f);
    return DS_OK;
}
DSDEF size_t ds_idem_expire(ds_idem *s, int64_t now, size_t budget) {
    return s ? ds__idem_lru_expire(&s->done, now, budget) : 0;
}
DSDEF size_t ds_idem_in_flight(const ds_idem *s) { return s ? ds__idem_flymap_len(&s->fly) : 0; }
DSDEF size_t ds_idem_done(const ds_idem *s) { return s ? ds__idem_lru_len(&s->done) : 0; }


/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_IDEM_IMPL */
