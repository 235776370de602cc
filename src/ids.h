/* src/ids.h - ds_snowflake ids, base62 and base58
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/ids.h"
 */
#ifndef DS_SRC_IDS_H
#define DS_SRC_IDS_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:ids ==  snowflake ids, base62 and base58
 * ========================================================================
 * ds_snowflake: 64-bit ids that sort by creation time (Twitter's layout:
 * 41 bits of milliseconds since an epoch, 10 of node, 12 of sequence; all
 * three widths and the epoch configurable). Ids from one generator are
 * strictly increasing, so never repeat; generators with distinct nodes
 * never collide. Time is the caller's `now`, ns since the Unix epoch
 * (ds_wall_ns(), not the monotonic ds_now_ns(), which gives DS_EFULL);
 * nothing blocks:
 *   - the sequence running out within a millisecond gives DS_EBUSY and
 *     *wait_ns, the time until the next millisecond;
 *   - the clock stepping back by at most max_backstep_ms is absorbed: ids
 *     continue on the generator's own (later) millisecond;
 *   - a larger step back gives DS_EBUSY and *wait_ns until the clock has
 *     caught up (never a duplicate or smaller id);
 *   - time past the layout's range (or before the epoch), or the
 *     sequence running out in the layout's last millisecond, gives
 *     DS_EFULL.
 *
 *   ds_status ds_snowflake_init(ds_snowflake *s, const ds_snowflake_config *cfg)
 *          cfg NULL = defaults; DS_EINVAL if the widths do not sum to at
 *          most 63, time_bits < 20, node_bits or seq_bits > 32, node does
 *          not fit node_bits, max_backstep_ms < 0, or the layout's last
 *          millisecond (epoch_ms + 2^time_bits - 1) is past INT64_MAX.
 *          Any int64 now_ns is fine: milliseconds are floored, and a
 *          *wait_ns longer than INT64_MAX ns saturates there.
 *   ds_status ds_snowflake_next(ds_snowflake *s, int64_t now_ns, uint64_t *id, int64_t *wait_ns)
 *   void   ds_snowflake_decompose(const ds_snowflake_config *cfg, uint64_t id,
 *                                 int64_t *unix_ms, uint64_t *node, uint64_t *seq)
 *          bits above the layout are ignored; a cfg init would refuse
 *          gives zeros
 *
 * Base62 (0-9, A-Z, a-z) and base58 (Bitcoin's alphabet: no 0, O, I, l) of
 * a uint64, most significant digit first:
 *   size_t ds_base62_encode(uint64_t v, char *out, size_t cap)   digits written
 *          (plus a NUL); 0 if cap is too small (12 always suffices)
 *   ds_status ds_base62_decode(const char *s, size_t len, uint64_t *out)
 *          DS_EINVAL for an empty string, a character outside the alphabet,
 *          or a value above UINT64_MAX
 *   ds_base58_encode / ds_base58_decode: the same (13 bytes suffice).
 * Complexity: O(1) per id; O(digits) per conversion. */
typedef struct ds_snowflake_config {
    int64_t epoch_ms;          /* 0 = Twitter's, 1288834974657 */
    unsigned time_bits, node_bits, seq_bits; /* 0,0,0 = 41/10/12 */
    uint64_t node;
    int64_t max_backstep_ms;   /* clock steps back up to this are absorbed; default 5 */
} ds_snowflake_config;

typedef struct ds_snowflake {
    ds_snowflake_config cfg;
    int64_t last_ms;           /* since the epoch; -1 before the first id */
    uint64_t seq;
} ds_snowflake;

DSDEF ds_status ds_snowflake_init(ds_snowflake *s, const ds_snowflake_config *cfg);
DSDEF ds_status ds_snowflake_next(ds_snowflake *s, int64_t now_ns, uint64_t *id, int64_t *wait_ns);
DSDEF void ds_snowflake_decompose(const ds_snowflake_config *cfg, uint64_t id, int64_t *unix_ms,
                                  uint64_t *node, uint64_t *seq);
DSDEF size_t ds_base62_encode(uint64_t v, char *out, size_t cap);
DSDEF ds_status ds_base62_decode(const char *s, size_t len, uint64_t *out);
DSDEF size_t ds_base58_encode(uint64_t v, char *out, size_t cap);
DSDEF ds_status ds_base58_decode(const char *s, size_t len, uint64_t *out);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_IDS_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_IDS_IMPL)
#define DS_SRC_IDS_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:ids == */

static void ds__snowflake_defaults(ds_snowflake_config *c) {
    if (!c->epoch_ms) c->epoch_ms = 1288834974657;
    if (!c->time_bits && !c->node_bits && !c->seq_bits) {
        c->time_bits = 41;
        c->node_bits = 10;
        c->seq_bits = 12;
    }
    if (!c->max_backstep_ms) c->max_backstep_ms = 5;
}
/* The layout fits 63 bits and its last millisecond, epoch + 2^time_bits
 * - 1, is an int64 (so decompose and next never overflow). */
static int ds__snowflake_valid(const ds_snowflake_config *c) {
    return c->time_bits >= 20 && c->time_bits + c->node_bits + c->seq_bits <= 63 && c->node_bits <= 32 &&
           c->seq_bits <= 32 && c->max_backstep_ms >= 0 &&
           c->epoch_ms <= INT64_MAX - (int64_t)(((uint64_t)1 << c->time_bits) - 1);
}
DSDEF ds_status ds_snowflake_init(ds_snowflake *s, const ds_snowflake_config *cfg) {
    ds_snowflake_config c;
    if (!s) return DS_EINVAL;
    memset(s, 0, sizeof *s); /* a failed init leaves a struct free accepts */
    if (cfg) c = *cfg; else memset(&c, 0, sizeof c);
    ds__snowflake_defaults(&c);
    if (!ds__snowflake_valid(&c) || c.node >> c.node_bits) return DS_EINVAL;
    s->cfg = c;
    s->last_ms = -1;
    s->seq = 0;
    return DS_OK;
}
/* ms whole milliseconds (>= 1) less rem ns, saturating at INT64_MAX. */
static int64_t ds__snowflake_wait(int64_t ms, int64_t rem) {
    return ms > INT64_MAX / 1000000 ? INT64_MAX : ms * 1000000 - rem;
}
DSDEF ds_status ds_snowflake_next(ds_snowflake *s, int64_t now_ns, uint64_t *id, int64_t *wait_ns) {
    int64_t ms, real, rem;
    uint64_t max_seq;
    const int64_t NS = 1000000;
    if (wait_ns) *wait_ns = 0;
    if (!s || !id) return DS_EINVAL;
    real = now_ns / NS; /* floored, so rem is in [0, NS) */
    rem = now_ns % NS;
    if (rem < 0) {
        real--;
        rem += NS;
    }
    if (real < s->cfg.epoch_ms || ((uint64_t)real - (uint64_t)s->cfg.epoch_ms) >> s->cfg.time_bits)
        return DS_EFULL;
    real = (int64_t)((uint64_t)real - (uint64_t)s->cfg.epoch_ms);
    max_seq = ((uint64_t)1 << s->cfg.seq_bits) - 1;
    ms = real;
    if (ms < s->last_ms) {
        if (s->last_ms - ms > s->cfg.max_backstep_ms) { /* too far back: wait it out */
            if (wait_ns) *wait_ns = ds__snowflake_wait(s->last_ms - ms, rem);
            return DS_EBUSY;
        }
        ms = s->last_ms; /* a small step back: stay on our own clock */
    }
    if (ms == s->last_ms) {
        if (s->seq == max_seq) { /* this millisecond is used up */
            if ((uint64_t)s->last_ms == ((uint64_t)1 << s->cfg.time_bits) - 1) return DS_EFULL; /* the layout's last */
            if (wait_ns) *wait_ns = ds__snowflake_wait(s->last_ms + 1 - real, rem);
            return DS_EBUSY;
        }
        s->seq++;
    } else {
        s->last_ms = ms;
        s->seq = 0;
    }
    *id = (uint64_t)ms << (s->cfg.node_bits + s->cfg.seq_bits) | s->cfg.node << s->cfg.seq_bits | s->seq;
    return DS_OK;
}
DSDEF void ds_snowflake_decompose(const ds_snowflake_config *cfg, uint64_t id, int64_t *unix_ms,
                                  uint64_t *node, uint64_t *seq) {
    ds_snowflake_config c;
    if (cfg) c = *cfg; else memset(&c, 0, sizeof c);
    ds__snowflake_defaults(&c);
    if (!ds__snowflake_valid(&c)) { /* a layout init refuses: zeros */
        if (seq) *seq = 0;
        if (node) *node = 0;
        if (unix_ms) *unix_ms = 0;
        return;
    }
    if (seq) *seq = id & (((uint64_t)1 << c.seq_bits) - 1);
    if (node) *node = (id >> c.seq_bits) & (((uint64_t)1 << c.node_bits) - 1);
    /* the time field masked to time_bits: at most the layout's last ms */
    if (unix_ms)
        *unix_ms = (int64_t)((id >> (c.seq_bits + c.node_bits)) & (((uint64_t)1 << c.time_bits) - 1)) + c.epoch_ms;
}

static const char ds__b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char ds__b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static size_t ds__baseN_encode(uint64_t v, char *out, size_t cap, const char *alpha, unsigned base) {
    char tmp[24];
    size_t n = 0, i;
    do {
        tmp[n++] = alpha[v % base];
        v /= base;
    } while (v);
    if (!out || cap < n + 1) return 0;
    for (i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}
static ds_status ds__baseN_decode(const char *s, size_t len, uint64_t *out, const char *alpha, unsigned base) {
    uint64_t v = 0;
    size_t i;
    if (!s || !len || !out) return DS_EINVAL;
    for (i = 0; i < len; i++) {
        const char *p = s[i] ? strchr(alpha, s[i]) : NULL;
        uint64_t d;
        if (!p) return DS_EINVAL;
        d = (uint64_t)(p - alpha);
        if (v > (UINT64_MAX - d) / base) return DS_EINVAL; /* overflow */
        v = v * base + d;
    }
    *out = v;
    return DS_OK;
}
DSDEF size_t ds_base62_encode(uint64_t v, char *out, size_t cap) { return ds__baseN_encode(v, out, cap, ds__b62, 62); }
DSDEF ds_status ds_base62_decode(const char *s, size_t len, uint64_t *out) {
    return ds__baseN_decode(s, len, out, ds__b62, 62);
}
DSDEF size_t ds_base58_encode(uint64_t v, char *out, size_t cap) { return ds__baseN_encode(v, out, cap, ds__b58, 58); }
DSDEF ds_status ds_base58_decode(const char *s, size_t len, uint64_t *out) {
    return ds__baseN_decode(s, len, out, ds__b58, 58);
}


/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_IDS_IMPL */
