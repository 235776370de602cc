/* src/shard.h - ds_ring, ds_jump_hash, ds_rendezvous, ds_router: consistent hashing and shard routing
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/shard.h"
 */
#ifndef DS_SRC_SHARD_H
#define DS_SRC_SHARD_H
#include "core.h"
#include "vec.h"
#include "trie.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:shard ==  consistent hashing and shard routing
 * ========================================================================
 * ds_jump_hash(key, n): Lamping & Veach, "A Fast, Minimal Memory,
 * Consistent Hash Algorithm" (2014): a bucket in [0, n) with no table;
 * growing n to n + 1 moves only the keys that land in the new bucket
 * (1/(n+1) of them). Buckets can only be added or removed at the end.
 * Returns -1 if n < 1. O(log n).
 *
 * ds_rendezvous(key, nodes, weights, n): highest-random-weight hashing
 * (Thaler & Ravishankar 1998): the node whose hash with the key scores
 * highest; removing a node moves only its keys, and any node set works.
 * With weights (NULL = all equal), node i gets a share weights[i] / sum
 * (the logarithmic method: score = -w / ln(u), u uniform in (0, 1)).
 * A weight that is not a finite number > 0 (0, negative, NaN, +-inf)
 * takes no keys. Returns the index of the chosen node, or SIZE_MAX if
 * n == 0 or no weight is usable. O(n).
 *
 * ds_ring: a consistent-hash ring with weighted virtual nodes (Karger et
 * al. 1997). Each node puts points on a circle of hash values; a key goes
 * to the node owning the first point at or after the key's hash, wrapping
 * past the largest point to the smallest. A new node takes over only the
 * arcs its points cut (about weight / total of the keys); a removed one
 * hands its arcs to the next points. The points are one sorted array, so a
 * lookup is one hash and a binary search. Balance: a node's share has a
 * relative spread of about 1/sqrt(points), so with 160 points per node the
 * busiest of 10 nodes carries about 1.12x the mean (above 1.15x for about
 * one ring in four); more vnodes tighten it.
 *
 * Modes, chosen at init (ds_ring_config.mode):
 *   DS_RING_DEFAULT  vnodes points per weight unit (default 160); point j
 *     of a node is ds_mix64(ds_hash_bytes(name, seed) + (j + 1) * phi) and
 *     a key's hash is ds_hash_bytes(key, seed): 64-bit points, seedable.
 *   DS_RING_KETAMA   libketama's continuum (Richard Jones, last.fm, 2007),
 *     so a key maps to the server a libketama client picks, given the same
 *     server strings ("10.0.1.1:11211") and weights added in file order.
 *     With n nodes of total weight W, a node of weight w gets
 *     4 * floorf(pct * 40.0 * n) points, pct = (float)w / (float)W, the
 *     product in double, rounded to float, as libketama computes it: 160
 *     for equal weights, but 156 at n = 61, 122, 237, 244, ... where
 *     rounding lands just below 40. Digest k = MD5("name-k") gives four
 *     points, bytes 4h..4h+3 little-endian; a key's hash is MD5(key)'s
 *     first 4 bytes, little-endian. A key takes the first point >= its
 *     hash, else the first point: what libketama's binary search returns
 *     in every case (its "h > previous point" test makes it a lower
 *     bound), so a hash equal to a point goes to that point. Equal points
 *     of different nodes sort by add order (libketama leaves that to qsort;
 *     a stable one keeps file order; libmemcached sorts by server index:
 *     the same). Every add/del/set_weight recounts every node, as a
 *     libketama reload does. vnodes and seed are ignored; names with a NUL
 *     byte cannot match (libketama uses C strings).
 *     Not twemproxy's nor libmemcached's ketama: both compute
 *     floorf(pct * 160 / 4 * n + 1e-10) entirely in float (the epsilon
 *     vanishes at that magnitude), so some counts differ: with equal
 *     weights they give 156 points where libketama gives 160 at n = 25,
 *     47, 50, 55, 71, 94, 100, ... (92 values of n up to 1000; both give
 *     156 at 61, 122, ...), and some weighted counts differ (10 nodes, one
 *     of weight 16: 1020 points for it, not 1024). Where the counts agree
 *     the continuum is the same (bench_shard: libmemcached agrees on every
 *     key at 10 servers, on 97% at 100). twemproxy also hashes keys with
 *     the pool's `hash:` (md5 is needed to match) and names nodes by their
 *     `name` or "host:port"; libmemcached appends ":port" to the host
 *     unless the port is 11211.
 *
 *   ds_status ds_ring_init(ds_ring *r, const ds_ring_config *cfg)
 *          cfg NULL = defaults (DS_RING_DEFAULT, 160 vnodes, seed 0);
 *          DS_EINVAL for an unknown mode. Allocates nothing.
 *   void   ds_ring_free(ds_ring *r)
 *   ds_status ds_ring_add(ds_ring *r, const void *name, size_t len, uint32_t weight, uint32_t *id)
 *          a node (the name's bytes are copied); *id (may be NULL) gets its
 *          id: stable while the node lives, then reused by later adds
 *          (smallest free id first). DS_EEXIST (*id = the node's) if the
 *          name is there; DS_EINVAL for weight 0, NULL name with len > 0,
 *          or more than 2^32 - 2 points or nodes in all.
 *   ds_status ds_ring_del(ds_ring *r, uint32_t id)      DS_ENOTFOUND
 *   ds_status ds_ring_set_weight(ds_ring *r, uint32_t id, uint32_t weight)
 *          DS_ENOTFOUND, DS_EINVAL (0, or too many points)
 *   ds_status ds_ring_find(const ds_ring *r, const void *name, size_t len, uint32_t *id)
 *          DS_ENOTFOUND
 *   uint32_t ds_ring_get(const ds_ring *r, const void *key, size_t len)
 *          the key's node; DS_RING_NONE on an empty ring
 *   uint64_t ds_ring_hash(const ds_ring *r, const void *key, size_t len)
 *   uint32_t ds_ring_get_hash(const ds_ring *r, uint64_t h)
 *          the two halves of get: a key's hash in the ring's mode, and the
 *          node for a hash (DS_RING_KETAMA: h < 2^32)
 *   size_t ds_ring_get_n(const ds_ring *r, const void *key, size_t len, uint32_t *out, size_t n)
 *          replicas: the first n distinct nodes met walking clockwise from
 *          the key (out[0] is get's answer); returns how many were written,
 *          min(n, nodes)
 *   const char *ds_ring_name(const ds_ring *r, uint32_t id, size_t *len)
 *          the node's name bytes (*len of them, not NUL-terminated); NULL
 *          if no such node (a live empty name is a non-NULL pointer)
 *   uint32_t ds_ring_weight(r, id)  0 if none;  size_t ds_ring_node_points(r, id)
 *   size_t ds_ring_count(r) nodes;  size_t ds_ring_points(r) points
 *   uint64_t ds_ring_point(const ds_ring *r, size_t i, uint32_t *id)
 *          the i-th smallest point and its node (for printing the
 *          continuum, measuring arcs)
 *   uint32_t ds_ring_first(r), ds_ring_next(r, id)   live ids ascending,
 *          DS_RING_NONE after the last
 * Complexity: get O(log P) for P points; get_n walks until it has met n
 * nodes (about n * P / nodes points); add/del/set_weight O(P + p log p + N)
 * for p new points and N nodes (ketama: p = the new node's points unless
 * recounting moved others' counts), merging in place. Memory: 16 bytes
 * per point (the block grows by half again when full) plus the names.
 * DS_ENOMEM leaves the ring unchanged; a del that adds no point to another
 * node (every DS_RING_DEFAULT del) allocates nothing and cannot fail.
 * Thread-safety: none for writers; concurrent readers are fine.
 *
 * ds_router: one call, route(key) -> shard, over any strategy, as the
 * seed's ShardedDatabase (hash, range and geo strategies):
 *   DS_ROUTE_MODULO      ds_hash_bytes(key, seed) % nshards. This is what
 *                        the seed calls ConsistentHashingStrategy (md5 %
 *                        n): not consistent, changing n moves about
 *                        n/(n+1) of the keys (examples/sharding.c).
 *   DS_ROUTE_JUMP        ds_jump_hash(ds_hash_bytes(key, seed), nshards)
 *   DS_ROUTE_RENDEZVOUS  ds_rendezvous over shards 0..nshards-1 with
 *                        optional weights (copied)
 *   DS_ROUTE_RING        ds_ring_get(ring, key): the shard is the ring's
 *                        node id. The ring is borrowed and may change
 *                        between routes (not during one).
 *   DS_ROUTE_RANGE       integer ranges {first, last, shard} (inclusive)
 *                        or byte-string ranges {lo, hi, shard} meaning
 *                        lo <= key < hi in memcmp order, hi_len 0 = no
 *                        upper bound. Given in any order; sorted into a
 *                        copy; overlapping or empty ranges are DS_EINVAL;
 *                        gaps are allowed. Binary search.
 *   DS_ROUTE_PREFIX      the longest listed prefix of the key (region
 *                        codes: "eu-", "us-west-"), through a ds_trie;
 *                        a repeated prefix is DS_EINVAL.
 * A key outside every range, or with no listed prefix, goes to
 * default_shard when has_default is set, else DS_ENOTFOUND.
 *
 *   ds_status ds_router_init(ds_router *r, const ds_router_config *cfg)
 *          DS_EINVAL: nshards 0 (or above INT32_MAX for JUMP), a weight
 *          that is not a finite number > 0, no ring, no ranges, both kinds of ranges, bad ranges
 *          or prefixes, or an unknown kind; DS_ENOMEM. Nothing is kept on
 *          failure.
 *   void   ds_router_free(ds_router *r)
 *   ds_status ds_router_route(const ds_router *r, const void *key, size_t len, uint32_t *shard)
 *          integer ranges read the key as a decimal number (the seed's
 *          int(key)): DS_EINVAL unless it is 1-20 digits within uint64.
 *          DS_ENOTFOUND as above, or for an empty ring.
 *   ds_status ds_router_route_u64(const ds_router *r, uint64_t key, uint32_t *shard)
 *          integer ranges compare key; every other strategy routes the 8
 *          bytes of key, little-endian.
 * Complexity: route O(len) hashing plus MODULO/JUMP O(1)/O(log n),
 * RENDEZVOUS O(n), RING O(log P), RANGE O(log ranges), PREFIX O(len).
 * Thread-safety: route is read-only; concurrent routes are fine. */
DSDEF int32_t ds_jump_hash(uint64_t key, int32_t n);
DSDEF size_t ds_rendezvous(uint64_t key, const uint64_t *nodes, const double *weights, size_t n);

#define DS_RING_NONE UINT32_MAX
typedef enum ds_ring_mode { DS_RING_DEFAULT = 0, DS_RING_KETAMA = 1 } ds_ring_mode;

typedef struct ds_ring_config {
    uint32_t vnodes;            /* DS_RING_DEFAULT: points per weight unit; 0 = 160 */
    ds_ring_mode mode;
    uint64_t seed;              /* DS_RING_DEFAULT: point and key hash seed */
    const ds_alloc *alloc;
} ds_ring_config;

typedef struct ds__rnode {
    unsigned char *name;        /* copied bytes (NULL when len == 0) */
    size_t len;
    uint64_t base;              /* DS_RING_DEFAULT: the name's hash */
    uint64_t seq;               /* add order: breaks ties between equal points */
    uint32_t weight;            /* 0: a free id */
    uint32_t npts, want;        /* points on the ring; target of an update */
} ds__rnode;

typedef struct ds_ring {
    uint64_t *pts;              /* sorted points, then in the same block: */
    uint32_t *owner;            /*   the node of each point */
    uint32_t *gen;              /*   its index among its node's points */
    size_t npts, pcap;
    ds__rnode *nodes;
    uint32_t nslots, ncap, count;
    uint64_t seq, seed, total_weight;
    uint32_t vnodes;
    ds_ring_mode mode;
    const ds_alloc *alloc;
} ds_ring;

DSDEF ds_status ds_ring_init(ds_ring *r, const ds_ring_config *cfg);
DSDEF void ds_ring_free(ds_ring *r);
DSDEF ds_status ds_ring_add(ds_ring *r, const void *name, size_t len, uint32_t weight, uint32_t *id);
DSDEF ds_status ds_ring_del(ds_ring *r, uint32_t id);
DSDEF ds_status ds_ring_set_weight(ds_ring *r, uint32_t id, uint32_t weight);
DSDEF ds_status ds_ring_find(const ds_ring *r, const void *name, size_t len, uint32_t *id);
DSDEF uint64_t ds_ring_hash(const ds_ring *r, const void *key, size_t len);
DSDEF uint32_t ds_ring_get_hash(const ds_ring *r, uint64_t h);
DSDEF uint32_t ds_ring_get(const ds_ring *r, const void *key, size_t len);
DSDEF size_t ds_ring_get_n(const ds_ring *r, const void *key, size_t len, uint32_t *out, size_t n);
DSDEF const char *ds_ring_name(const ds_ring *r, uint32_t id, size_t *len);
DSDEF uint32_t ds_ring_weight(const ds_ring *r, uint32_t id);
DSDEF size_t ds_ring_node_points(const ds_ring *r, uint32_t id);
DSDEF size_t ds_ring_count(const ds_ring *r);
DSDEF size_t ds_ring_points(const ds_ring *r);
DSDEF uint64_t ds_ring_point(const ds_ring *r, size_t i, uint32_t *id);
DSDEF uint32_t ds_ring_first(const ds_ring *r);
DSDEF uint32_t ds_ring_next(const ds_ring *r, uint32_t id);

/* MD5 (RFC 1321), for ketama mode only: not for security. Internal, but
 * declared here so the tests can check it against RFC 1321's suite. */
typedef struct ds__md5_ctx {
    uint32_t h[4];
    uint64_t len;               /* bytes so far */
    unsigned char buf[64];
} ds__md5_ctx;
DSDEF void ds__md5_init(ds__md5_ctx *m);
DSDEF void ds__md5_update(ds__md5_ctx *m, const void *p, size_t n);
DSDEF void ds__md5_final(ds__md5_ctx *m, unsigned char out[16]);
DSDEF void ds__md5(const void *p, size_t n, unsigned char out[16]);

typedef enum ds_route_kind {
    DS_ROUTE_MODULO = 0,
    DS_ROUTE_JUMP = 1,
    DS_ROUTE_RENDEZVOUS = 2,
    DS_ROUTE_RING = 3,
    DS_ROUTE_RANGE = 4,
    DS_ROUTE_PREFIX = 5
} ds_route_kind;

typedef struct ds_range_u64 {
    uint64_t first, last;       /* inclusive */
    uint32_t shard;
} ds_range_u64;
typedef struct ds_range_bytes {
    const void *lo, *hi;        /* lo <= key < hi; hi_len 0: no upper bound */
    size_t lo_len, hi_len;
    uint32_t shard;
} ds_range_bytes;
typedef struct ds_prefix_route {
    const void *prefix;
    size_t len;
    uint32_t shard;
} ds_prefix_route;

typedef struct ds_router_config {
    uint32_t nshards;                 /* MODULO, JUMP, RENDEZVOUS */
    ds_route_kind kind;
    uint64_t seed;                    /* their key hash seed */
    const double *weights;            /* RENDEZVOUS: nshards weights, or NULL */
    const ds_ring *ring;              /* RING */
    const ds_range_u64 *ranges;       /* RANGE over integers ... */
    size_t nranges;
    const ds_range_bytes *branges;    /* ... or over byte strings */
    size_t nbranges;
    const ds_prefix_route *prefixes;  /* PREFIX */
    size_t nprefixes;
    int has_default;                  /* RANGE, PREFIX: unmatched keys go */
    uint32_t default_shard;           /*   here instead of DS_ENOTFOUND */
    const ds_alloc *alloc;
} ds_router_config;

typedef struct ds__brange {
    size_t lo, lo_len, hi, hi_len;    /* offsets into the router's bytes */
    uint32_t shard;
} ds__brange;

typedef struct ds_router {
    uint32_t nshards, default_shard;
    ds_route_kind kind;
    int has_default;
    uint64_t seed;
    const ds_ring *ring;
    uint64_t *nodes;                  /* RENDEZVOUS: 0..n-1 */
    double *weights;
    ds_range_u64 *ranges;             /* sorted by first */
    ds__brange *br;                   /* sorted by lo */
    unsigned char *bytes;
    size_t nranges, bytes_len;
    ds_trie trie;
    const ds_alloc *alloc;
} ds_router;

DSDEF ds_status ds_router_init(ds_router *r, const ds_router_config *cfg);
DSDEF void ds_router_free(ds_router *r);
DSDEF ds_status ds_router_route(const ds_router *r, const void *key, size_t len, uint32_t *shard);
DSDEF ds_status ds_router_route_u64(const ds_router *r, uint64_t key, uint32_t *shard);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_SHARD_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_SHARD_IMPL)
#define DS_SRC_SHARD_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:shard == */

DSDEF int32_t ds_jump_hash(uint64_t key, int32_t n) {
    int64_t b = -1, j = 0;
    if (n < 1) return -1;
    while (j < n) { /* the paper's loop: a 64-bit LCG picks the next jump */
        b = j;
        key = key * 2862933555777941757ull + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1ll << 31) / (double)((key >> 33) + 1)));
    }
    return (int32_t)b;
}
DSDEF size_t ds_rendezvous(uint64_t key, const uint64_t *nodes, const double *weights, size_t n) {
    size_t i, best = SIZE_MAX;
    double top = -HUGE_VAL;
    if (!nodes) return SIZE_MAX;
    for (i = 0; i < n; i++) {
        uint64_t h = ds_mix64(ds_mix64(key) ^ ds_mix64(nodes[i] + 0x9e3779b97f4a7c15ull));
        double score;
        if (weights) {
            /* u in (0, 1) from the top 53 bits; -w / ln(u) > 0 */
            double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
            if (!(weights[i] > 0 && weights[i] < HUGE_VAL)) continue;
            score = -weights[i] / log(u);
        } else {
            score = (double)h;
        }
        if (best == SIZE_MAX || score > top) {
            top = score;
            best = i;
        }
    }
    return best;
}

/* -- MD5, from RFC 1321 (Rivest 1992): for ketama compatibility only -- */

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4. */
static const uint32_t ds__md5_t[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu, 0xf57c0fafu, 0x4787c62au, 0xa8304613u, 0xfd469501u,
    0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu, 0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u,
    0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau, 0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
    0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu, 0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au,
    0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu, 0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u,
    0x289b7ec6u, 0xeaa127fau, 0xd4ef3085u, 0x04881d05u, 0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
    0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u, 0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u, 0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u};

static uint32_t ds__le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
/* One 64-byte block: RFC 1321's four rounds of 16 steps, each step
 * a = b + ((a + f(b, c, d) + X[k] + T[i]) <<< s), written out as the RFC
 * lists them ([abcd k s i]) so the compiler sees constants. */
#define DS__MD5_F(x, y, z) (((x) & (y)) | (~(x) & (z)))
#define DS__MD5_G(x, y, z) (((x) & (z)) | ((y) & ~(z)))
#define DS__MD5_H(x, y, z) ((x) ^ (y) ^ (z))
#define DS__MD5_I(x, y, z) ((y) ^ ((x) | ~(z)))
#define DS__MD5_STEP(f, a, b, c, d, k, s, i)                   \
    do {                                                       \
        uint32_t t_ = (a) + f((b), (c), (d)) + x[k] + ds__md5_t[i]; \
        (a) = (b) + ((t_ << (s)) | (t_ >> (32 - (s))));         \
    } while (0)
static void ds__md5_block(uint32_t h[4], const unsigned char *p) {
    uint32_t x[16], a = h[0], b = h[1], c = h[2], d = h[3];
    unsigned i;
    for (i = 0; i < 16; i++) x[i] = ds__le32(p + 4 * i);
    for (i = 0; i < 16; i += 4) { /* round 1: k = i, s = 7 12 17 22 */
        DS__MD5_STEP(DS__MD5_F, a, b, c, d, i, 7, i);
        DS__MD5_STEP(DS__MD5_F, d, a, b, c, i + 1, 12, i + 1);
        DS__MD5_STEP(DS__MD5_F, c, d, a, b, i + 2, 17, i + 2);
        DS__MD5_STEP(DS__MD5_F, b, c, d, a, i + 3, 22, i + 3);
    }
    for (i = 0; i < 16; i += 4) { /* round 2: k = 5i + 1, s = 5 9 14 20 */
        DS__MD5_STEP(DS__MD5_G, a, b, c, d, (5 * i + 1) & 15, 5, 16 + i);
        DS__MD5_STEP(DS__MD5_G, d, a, b, c, (5 * i + 6) & 15, 9, 17 + i);
        DS__MD5_STEP(DS__MD5_G, c, d, a, b, (5 * i + 11) & 15, 14, 18 + i);
        DS__MD5_STEP(DS__MD5_G, b, c, d, a, (5 * i + 16) & 15, 20, 19 + i);
    }
    for (i = 0; i < 16; i += 4) { /* round 3: k = 3i + 5, s = 4 11 16 23 */
        DS__MD5_STEP(DS__MD5_H, a, b, c, d, (3 * i + 5) & 15, 4, 32 + i);
        DS__MD5_STEP(DS__MD5_H, d, a, b, c, (3 * i + 8) & 15, 11, 33 + i);
        DS__MD5_STEP(DS__MD5_H, c, d, a, b, (3 * i + 11) & 15, 16, 34 + i);
        DS__MD5_STEP(DS__MD5_H, b, c, d, a, (3 * i + 14) & 15, 23, 35 + i);
    }
    for (i = 0; i < 16; i += 4) { /* round 4: k = 7i, s = 6 10 15 21 */
        DS__MD5_STEP(DS__MD5_I, a, b, c, d, (7 * i) & 15, 6, 48 + i);
        DS__MD5_STEP(DS__MD5_I, d, a, b, c, (7 * i + 7) & 15, 10, 49 + i);
        DS__MD5_STEP(DS__MD5_I, c, d, a, b, (7 * i + 14) & 15, 15, 50 + i);
        DS__MD5_STEP(DS__MD5_I, b, c, d, a, (7 * i + 21) & 15, 21, 51 + i);
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}
DSDEF void ds__md5_init(ds__md5_ctx *m) {
    m->h[0] = 0x67452301u;
    m->h[1] = 0xefcdab89u;
    m->h[2] = 0x98badcfeu;
    m->h[3] = 0x10325476u;
    m->len = 0;
}
DSDEF void ds__md5_update(ds__md5_ctx *m, const void *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    size_t used = (size_t)(m->len & 63);
    if (!n) return;
    m->len += n;
    if (used) {
        size_t take = 64 - used < n ? 64 - used : n;
        memcpy(m->buf + used, s, take);
        s += take;
        n -= take;
        if (used + take < 64) return;
        ds__md5_block(m->h, m->buf);
    }
    for (; n >= 64; s += 64, n -= 64) ds__md5_block(m->h, s);
    if (n) memcpy(m->buf, s, n);
}
DSDEF void ds__md5_final(ds__md5_ctx *m, unsigned char out[16]) {
    uint64_t bits = m->len * 8;
    size_t used = (size_t)(m->len & 63);
    unsigned i;
    m->buf[used++] = 0x80; /* a 1 bit, zeros to 56 mod 64, the bit length */
    if (used > 56) {
        memset(m->buf + used, 0, 64 - used);
        ds__md5_block(m->h, m->buf);
        used = 0;
    }
    memset(m->buf + used, 0, 56 - used);
    for (i = 0; i < 8; i++) m->buf[56 + i] = (unsigned char)(bits >> (8 * i));
    ds__md5_block(m->h, m->buf);
    for (i = 0; i < 16; i++) out[i] = (unsigned char)(m->h[i / 4] >> (8 * (i % 4)));
}
DSDEF void ds__md5(const void *p, size_t n, unsigned char out[16]) {
    ds__md5_ctx m;
    ds__md5_init(&m);
    ds__md5_update(&m, p, n);
    ds__md5_final(&m, out);
}

/* -- ds_ring -- */

#define DS__RING_MAX ((size_t)UINT32_MAX - 1) /* points, and node ids */

typedef struct ds__rpt {
    uint64_t pt;
    uint32_t node, gen;
} ds__rpt;

/* Ring order: by point, equal points by the nodes' add order, then by the
 * point's index within its node (all distinct: a total order). */
static int ds__ring_before(const ds_ring *r, uint64_t pa, uint32_t na, uint32_t ga, uint64_t pb,
                           uint32_t nb, uint32_t gb) {
    if (pa != pb) return pa < pb;
    if (na != nb) return r->nodes[na].seq < r->nodes[nb].seq;
    return ga < gb;
}
static int ds__rpt_cmp(const void *a, const void *b, void *ctx) {
    const ds__rpt *x = (const ds__rpt *)a, *y = (const ds__rpt *)b;
    const ds_ring *r = (const ds_ring *)ctx;
    if (ds__ring_before(r, x->pt, x->node, x->gen, y->pt, y->node, y->gen)) return -1;
    return ds__ring_before(r, y->pt, y->node, y->gen, x->pt, x->node, x->gen);
}

/* "name-k" hashed: libketama's sprintf("%s-%d") then MD5. */
static void ds__ketama_digest(const ds__rnode *nd, uint32_t k, unsigned char d[16]) {
    char num[12];
    size_t n = sizeof num;
    ds__md5_ctx m;
    do {
        num[--n] = (char)('0' + k % 10);
        k /= 10;
    } while (k);
    num[--n] = '-';
    ds__md5_init(&m);
    ds__md5_update(&m, nd->name, nd->len);
    ds__md5_update(&m, num + n, sizeof num - n);
    ds__md5_final(&m, d);
}

/* A node's point count for its weight: libketama's formula (float pct,
 * the product in double, floorf) or weight x vnodes. */
static uint64_t ds__ring_want(const ds_ring *r, const ds__rnode *nd) {
    if (!nd->weight) return 0;
    if (r->mode == DS_RING_KETAMA) {
        float pct = (float)nd->weight / (float)r->total_weight;
        return 4 * (uint64_t)(float)((double)pct * 40.0 * (double)(float)r->count);
    }
    return (uint64_t)nd->weight * r->vnodes;
}
/* Sets every node's target count (want). DS_EINVAL, nothing set, past
 * the limits. */
static ds_status ds__ring_targets(ds_ring *r) {
    uint64_t sum = 0, w;
    uint32_t i;
    for (i = 0; i < r->nslots; i++) {
        w = ds__ring_want(r, &r->nodes[i]);
        if (w > UINT32_MAX) return DS_EINVAL;
        sum += w;
    }
    if (sum > DS__RING_MAX) return DS_EINVAL;
    for (i = 0; i < r->nslots; i++) r->nodes[i].want = (uint32_t)ds__ring_want(r, &r->nodes[i]);
    return DS_OK;
}
static void ds__ring_settle(ds_ring *r, int ok) {
    uint32_t i;
    for (i = 0; i < r->nslots; i++) {
        if (ok) r->nodes[i].npts = r->nodes[i].want;
        else r->nodes[i].want = r->nodes[i].npts;
    }
}
/* Drops, in place, the points whose index is >= their node's want. */
static void ds__ring_filter(ds_ring *r) {
    size_t i, j;
    for (i = j = 0; i < r->npts; i++) {
        if (r->gen[i] >= r->nodes[r->owner[i]].want) continue;
        r->pts[j] = r->pts[i];
        r->owner[j] = r->owner[i];
        r->gen[j++] = r->gen[i];
    }
    r->npts = j;
}
/* Move every node from npts to want points: drop the points whose index
 * is >= want, add the missing ones (generated, sorted, merged in). Both
 * halves work in place when the point block is big enough (it grows by
 * half again), so a del or an add that fits allocates only the new
 * points' scratch; with nothing to add, nothing is allocated. */
static ds_status ds__ring_update(ds_ring *r) {
    size_t add = 0, total = 0, cap, i, j, k, bytes = 0, tbytes;
    ds__rpt *tmp;
    uint64_t *pts = NULL;
    uint32_t s, g;
    for (s = 0; s < r->nslots; s++) {
        total += r->nodes[s].want;
        if (r->nodes[s].want > r->nodes[s].npts) add += r->nodes[s].want - r->nodes[s].npts;
    }
    if (!add) {
        ds__ring_filter(r);
        ds__ring_settle(r, 1);
        return DS_OK;
    }
    cap = total > r->pcap ? total + total / 2 : r->pcap;
    if (!ds_size_mul(add, sizeof *tmp, &tbytes) || !ds_size_mul(cap, 16, &bytes)) {
        ds__ring_settle(r, 0);
        return DS_EINVAL;
    }
    tmp = (ds__rpt *)DS_MALLOC(r->alloc, tbytes);
    if (tmp && cap != r->pcap) {
        pts = (uint64_t *)DS_MALLOC(r->alloc, bytes);
        if (!pts) {
            DS_FREE(r->alloc, tmp, tbytes);
            tmp = NULL;
        }
    }
    if (!tmp) {
        ds__ring_settle(r, 0);
        return DS_ENOMEM;
    }
    /* Nothing can fail from here on. */
    for (s = 0, k = 0; s < r->nslots; s++) {
        const ds__rnode *nd = &r->nodes[s];
        for (g = nd->npts; g < nd->want; g++) {
            tmp[k].node = s;
            tmp[k].gen = g;
            if (r->mode == DS_RING_KETAMA) { /* counts are multiples of 4 */
                unsigned char d[16];
                unsigned h;
                ds__ketama_digest(nd, g / 4, d);
                for (h = 1; h < 4; h++) {
                    tmp[k + h].node = s;
                    tmp[k + h].gen = g + h;
                    tmp[k + h].pt = ds__le32(d + 4 * h);
                }
                tmp[k].pt = ds__le32(d);
                k += 4;
                g += 3;
            } else {
                tmp[k++].pt = ds_mix64(nd->base + (uint64_t)(g + 1) * 0x9e3779b97f4a7c15ull);
            }
        }
    }
    DS_ASSERT(k == add);
    ds__sort(tmp, add, sizeof *tmp, ds__rpt_cmp, r);
    ds__ring_filter(r);
    if (pts) { /* a bigger block: lay the old points out in it */
        uint32_t *own = (uint32_t *)(pts + cap), *gen = own + cap;
        if (r->npts) {
            memcpy(pts, r->pts, r->npts * sizeof *pts);
            memcpy(own, r->owner, r->npts * sizeof *own);
            memcpy(gen, r->gen, r->npts * sizeof *gen);
        }
        if (r->pts) DS_FREE(r->alloc, r->pts, r->pcap * 16);
        r->pts = pts;
        r->owner = own;
        r->gen = gen;
        r->pcap = cap;
    }
    /* Merge from the back: the larger of the two tails goes last. */
    for (i = r->npts, k = add, j = total; k;) {
        j--;
        if (i && ds__ring_before(r, tmp[k - 1].pt, tmp[k - 1].node, tmp[k - 1].gen, r->pts[i - 1],
                                 r->owner[i - 1], r->gen[i - 1])) {
            i--;
            r->pts[j] = r->pts[i];
            r->owner[j] = r->owner[i];
            r->gen[j] = r->gen[i];
        } else {
            k--;
            r->pts[j] = tmp[k].pt;
            r->owner[j] = tmp[k].node;
            r->gen[j] = tmp[k].gen;
        }
    }
    DS_FREE(r->alloc, tmp, tbytes);
    r->npts = total;
    ds__ring_settle(r, 1);
    return DS_OK;
}

DSDEF ds_status ds_ring_init(ds_ring *r, const ds_ring_config *cfg) {
    if (!r) return DS_EINVAL;
    memset(r, 0, sizeof *r); /* a failed init leaves a struct free accepts */
    memset(r, 0, sizeof *r);
    if (cfg) {
        if (cfg->mode != DS_RING_DEFAULT && cfg->mode != DS_RING_KETAMA) return DS_EINVAL;
        r->mode = cfg->mode;
        r->vnodes = cfg->vnodes;
        r->seed = cfg->seed;
        r->alloc = cfg->alloc;
    }
    if (!r->vnodes) r->vnodes = 160;
    return DS_OK;
}
DSDEF void ds_ring_free(ds_ring *r) {
    uint32_t i;
    if (!r) return;
    for (i = 0; i < r->nslots; i++)
        if (r->nodes[i].weight && r->nodes[i].len) DS_FREE(r->alloc, r->nodes[i].name, r->nodes[i].len);
    if (r->nodes) DS_FREE(r->alloc, r->nodes, r->ncap * sizeof *r->nodes);
    if (r->pts) DS_FREE(r->alloc, r->pts, r->pcap * 16);
    r->nodes = NULL;
    r->pts = NULL;
    r->owner = r->gen = NULL;
    r->npts = r->pcap = 0;
    r->nslots = r->ncap = r->count = 0;
    r->total_weight = 0;
}
DSDEF ds_status ds_ring_find(const ds_ring *r, const void *name, size_t len, uint32_t *id) {
    uint32_t i;
    if (!r || (!name && len)) return DS_EINVAL;
    for (i = 0; i < r->nslots; i++) {
        const ds__rnode *nd = &r->nodes[i];
        if (nd->weight && nd->len == len && (!len || memcmp(nd->name, name, len) == 0)) {
            if (id) *id = i;
            return DS_OK;
        }
    }
    return DS_ENOTFOUND;
}
DSDEF ds_status ds_ring_add(ds_ring *r, const void *name, size_t len, uint32_t weight, uint32_t *id) {
    uint32_t s, old_cap = 0;
    ds__rnode *nd, *old_nodes = NULL;
    ds_status st = DS_OK;
    int appended, grew = 0;
    if (!r || (!name && len) || !weight) return DS_EINVAL;
    if (ds_ring_find(r, name, len, id) == DS_OK) return DS_EEXIST;
    for (s = 0; s < r->nslots && r->nodes[s].weight; s++) {}
    if (s == r->nslots) {
        if (s >= DS__RING_MAX) return DS_EINVAL;
        if (s == r->ncap) { /* a bigger copy; the old array stays until the add succeeded */
            uint32_t nc = r->ncap ? (r->ncap > UINT32_MAX / 2 ? UINT32_MAX - 1 : r->ncap * 2) : 8;
            size_t nb;
            ds__rnode *p;
            if (!ds_size_mul(nc, sizeof *r->nodes, &nb)) return DS_EINVAL;
            if (!(p = (ds__rnode *)DS_MALLOC(r->alloc, nb))) return DS_ENOMEM;
            if (r->nslots) memcpy(p, r->nodes, r->nslots * sizeof *r->nodes);
            old_nodes = r->nodes;
            old_cap = r->ncap;
            r->nodes = p;
            r->ncap = nc;
            grew = 1;
        }
    }
    nd = &r->nodes[s];
    memset(nd, 0, sizeof *nd);
    if (len) {
        if ((nd->name = (unsigned char *)DS_MALLOC(r->alloc, len)) == NULL) st = DS_ENOMEM;
        else memcpy(nd->name, name, len);
    }
    appended = s == r->nslots;
    if (st == DS_OK) {
        nd->len = len;
        nd->base = ds_hash_bytes(name, len, r->seed);
        nd->seq = r->seq;
        nd->weight = weight;
        if (appended) r->nslots++;
        r->count++;
        r->total_weight += weight;
        st = ds__ring_targets(r);
        if (st == DS_OK) st = ds__ring_update(r);
        if (st != DS_OK) { /* undo: the slot is free again */
            if (len) DS_FREE(r->alloc, nd->name, len);
            nd->name = NULL;
            nd->weight = 0;
            r->count--;
            r->total_weight -= weight;
            if (appended) r->nslots--;
        }
    }
    if (grew) { /* keep one of the two arrays: the new on success, else the old */
        ds__rnode *drop = st == DS_OK ? old_nodes : r->nodes;
        size_t bytes = (size_t)(st == DS_OK ? old_cap : r->ncap) * sizeof *r->nodes;
        if (drop) DS_FREE(r->alloc, drop, bytes);
        if (st != DS_OK) {
            r->nodes = old_nodes;
            r->ncap = old_cap;
        }
    }
    if (st != DS_OK) return st;
    r->seq++;
    if (id) *id = s;
    return DS_OK;
}
/* Change node id's weight (0 removes it), all or nothing. */
static ds_status ds__ring_reweigh(ds_ring *r, uint32_t id, uint32_t weight) {
    ds__rnode *nd = &r->nodes[id];
    uint32_t old = nd->weight;
    ds_status st;
    nd->weight = weight;
    r->total_weight = r->total_weight - old + weight;
    if (!weight) r->count--;
    st = ds__ring_targets(r);
    if (st == DS_OK) st = ds__ring_update(r);
    if (st != DS_OK) {
        nd->weight = old;
        r->total_weight = r->total_weight - weight + old;
        if (!weight) r->count++;
    }
    return st;
}
DSDEF ds_status ds_ring_del(ds_ring *r, uint32_t id) {
    ds__rnode *nd;
    ds_status st;
    if (!r) return DS_EINVAL;
    if (id >= r->nslots || !r->nodes[id].weight) return DS_ENOTFOUND;
    nd = &r->nodes[id];
    st = ds__ring_reweigh(r, id, 0);
    if (st != DS_OK) return st;
    if (nd->len) DS_FREE(r->alloc, nd->name, nd->len);
    nd->name = NULL;
    nd->len = 0;
    while (r->nslots && !r->nodes[r->nslots - 1].weight) r->nslots--;
    return DS_OK;
}
DSDEF ds_status ds_ring_set_weight(ds_ring *r, uint32_t id, uint32_t weight) {
    if (!r || !weight) return DS_EINVAL;
    if (id >= r->nslots || !r->nodes[id].weight) return DS_ENOTFOUND;
    if (weight == r->nodes[id].weight) return DS_OK;
    return ds__ring_reweigh(r, id, weight);
}
DSDEF uint64_t ds_ring_hash(const ds_ring *r, const void *key, size_t len) {
    unsigned char d[16];
    if (!r || (!key && len)) return 0;
    if (r->mode != DS_RING_KETAMA) return ds_hash_bytes(key, len, r->seed);
    ds__md5(key, len, d);
    return ds__le32(d);
}
/* Index of the first point >= h, wrapping to 0 past the last (npts > 0).
 * Branch-free halving (the compiler emits a conditional move). */
static size_t ds__ring_index(const ds_ring *r, uint64_t h) {
    const uint64_t *p = r->pts;
    size_t lo = 0, n = r->npts;
    while (n > 1) {
        size_t half = n / 2;
        lo = p[lo + half] < h ? lo + half : lo;
        n -= half;
    }
    lo += p[lo] < h;
    return lo == r->npts ? 0 : lo;
}
DSDEF uint32_t ds_ring_get_hash(const ds_ring *r, uint64_t h) {
    if (!r || !r->npts) return DS_RING_NONE;
    return r->owner[ds__ring_index(r, h)];
}
DSDEF uint32_t ds_ring_get(const ds_ring *r, const void *key, size_t len) {
    if (!r || !r->npts || (!key && len)) return DS_RING_NONE;
    return r->owner[ds__ring_index(r, ds_ring_hash(r, key, len))];
}
DSDEF size_t ds_ring_get_n(const ds_ring *r, const void *key, size_t len, uint32_t *out, size_t n) {
    size_t i, got = 0, step, j;
    if (!r || !r->npts || !out || (!key && len)) return 0;
    i = ds__ring_index(r, ds_ring_hash(r, key, len));
    for (step = 0; step < r->npts && got < n && got < r->count; step++) {
        uint32_t o = r->owner[i];
        for (j = 0; j < got && out[j] != o; j++) {}
        if (j == got) out[got++] = o;
        if (++i == r->npts) i = 0;
    }
    return got;
}
DSDEF const char *ds_ring_name(const ds_ring *r, uint32_t id, size_t *len) {
    static const char empty = 0;
    if (!r || id >= r->nslots || !r->nodes[id].weight) return NULL;
    if (len) *len = r->nodes[id].len;
    return r->nodes[id].len ? (const char *)r->nodes[id].name : &empty;
}
DSDEF uint32_t ds_ring_weight(const ds_ring *r, uint32_t id) {
    return r && id < r->nslots ? r->nodes[id].weight : 0;
}
DSDEF size_t ds_ring_node_points(const ds_ring *r, uint32_t id) {
    return r && id < r->nslots ? r->nodes[id].npts : 0;
}
DSDEF size_t ds_ring_count(const ds_ring *r) { return r ? r->count : 0; }
DSDEF size_t ds_ring_points(const ds_ring *r) { return r ? r->npts : 0; }
DSDEF uint64_t ds_ring_point(const ds_ring *r, size_t i, uint32_t *id) {
    if (!r || i >= r->npts) {
        if (id) *id = DS_RING_NONE;
        return 0;
    }
    if (id) *id = r->owner[i];
    return r->pts[i];
}
DSDEF uint32_t ds_ring_next(const ds_ring *r, uint32_t id) {
    uint32_t i;
    if (!r) return DS_RING_NONE;
    for (i = id == DS_RING_NONE ? 0 : id + 1; i < r->nslots; i++)
        if (r->nodes[i].weight) return i;
    return DS_RING_NONE;
}
DSDEF uint32_t ds_ring_first(const ds_ring *r) { return ds_ring_next(r, DS_RING_NONE); }

/* -- ds_router -- */

static int ds__bytes_cmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl) {
    int c = al && bl ? memcmp(a, b, al < bl ? al : bl) : 0;
    return c ? c : (al > bl) - (al < bl);
}
static int ds__range_u64_cmp(const void *a, const void *b, void *ctx) {
    uint64_t x = ((const ds_range_u64 *)a)->first, y = ((const ds_range_u64 *)b)->first;
    (void)ctx;
    return (x > y) - (x < y);
}
static int ds__brange_cmp(const void *a, const void *b, void *ctx) {
    const ds__brange *x = (const ds__brange *)a, *y = (const ds__brange *)b;
    const unsigned char *bytes = (const unsigned char *)ctx;
    return ds__bytes_cmp(bytes + x->lo, x->lo_len, bytes + y->lo, y->lo_len);
}
/* Copies, sorts and checks the integer ranges. */
static ds_status ds__router_ranges(ds_router *r, const ds_range_u64 *in, size_t n) {
    size_t i, b;
    if (!in || !n || !ds_size_mul(n, sizeof *in, &b)) return DS_EINVAL;
    for (i = 0; i < n; i++)
        if (in[i].first > in[i].last) return DS_EINVAL;
    r->ranges = (ds_range_u64 *)DS_MALLOC(r->alloc, b);
    if (!r->ranges) return DS_ENOMEM;
    memcpy(r->ranges, in, b);
    r->nranges = n;
    ds__sort(r->ranges, n, sizeof *in, ds__range_u64_cmp, NULL);
    for (i = 1; i < n; i++)
        if (r->ranges[i].first <= r->ranges[i - 1].last) return DS_EINVAL; /* overlap */
    return DS_OK;
}
/* Copies (bytes into one block), sorts and checks the byte ranges. */
static ds_status ds__router_branges(ds_router *r, const ds_range_bytes *in, size_t n) {
    size_t i, total = 0, b, off = 0;
    if (!in || !n || !ds_size_mul(n, sizeof *r->br, &b)) return DS_EINVAL;
    for (i = 0; i < n; i++) {
        if ((!in[i].lo && in[i].lo_len) || (!in[i].hi && in[i].hi_len)) return DS_EINVAL;
        if (in[i].hi_len && ds__bytes_cmp((const unsigned char *)in[i].lo, in[i].lo_len,
                                          (const unsigned char *)in[i].hi, in[i].hi_len) >= 0)
            return DS_EINVAL; /* empty */
        if (!ds_size_add(total, in[i].lo_len, &total) || !ds_size_add(total, in[i].hi_len, &total))
            return DS_EINVAL;
    }
    r->br = (ds__brange *)DS_MALLOC(r->alloc, b);
    if (!r->br) return DS_ENOMEM;
    r->nranges = n;
    r->bytes = (unsigned char *)DS_MALLOC(r->alloc, total ? total : 1);
    if (!r->bytes) return DS_ENOMEM;
    r->bytes_len = total ? total : 1;
    for (i = 0; i < n; i++) {
        ds__brange *x = &r->br[i];
        x->lo = off;
        x->lo_len = in[i].lo_len;
        if (x->lo_len) memcpy(r->bytes + off, in[i].lo, x->lo_len);
        off += x->lo_len;
        x->hi = off;
        x->hi_len = in[i].hi_len;
        if (x->hi_len) memcpy(r->bytes + off, in[i].hi, x->hi_len);
        off += x->hi_len;
        x->shard = in[i].shard;
    }
    ds__sort(r->br, n, sizeof *r->br, ds__brange_cmp, r->bytes);
    for (i = 1; i < n; i++) { /* the previous range must end at or before this one's lo */
        const ds__brange *p = &r->br[i - 1], *x = &r->br[i];
        if (!p->hi_len || ds__bytes_cmp(r->bytes + p->hi, p->hi_len, r->bytes + x->lo, x->lo_len) > 0)
            return DS_EINVAL;
    }
    return DS_OK;
}
DSDEF void ds_router_free(ds_router *r) {
    if (!r) return;
    if (r->nodes) DS_FREE(r->alloc, r->nodes, r->nshards * sizeof *r->nodes);
    if (r->weights) DS_FREE(r->alloc, r->weights, r->nshards * sizeof *r->weights);
    if (r->ranges) DS_FREE(r->alloc, r->ranges, r->nranges * sizeof *r->ranges);
    if (r->br) DS_FREE(r->alloc, r->br, r->nranges * sizeof *r->br);
    if (r->bytes) DS_FREE(r->alloc, r->bytes, r->bytes_len);
    ds_trie_free(&r->trie);
    r->nodes = NULL;
    r->weights = NULL;
    r->ranges = NULL;
    r->br = NULL;
    r->bytes = NULL;
    r->nranges = r->bytes_len = 0;
}
static ds_status ds__router_setup(ds_router *r, const ds_router_config *cfg) {
    size_t i, b;
    switch (cfg->kind) {
    case DS_ROUTE_MODULO:
    case DS_ROUTE_JUMP:
        if (!cfg->nshards || (cfg->kind == DS_ROUTE_JUMP && cfg->nshards > INT32_MAX)) return DS_EINVAL;
        return DS_OK;
    case DS_ROUTE_RENDEZVOUS:
        if (!cfg->nshards || !ds_size_mul(cfg->nshards, sizeof(uint64_t), &b)) return DS_EINVAL;
        if (cfg->weights)
            for (i = 0; i < cfg->nshards; i++)
                if (!(cfg->weights[i] > 0) || cfg->weights[i] > 1e300) return DS_EINVAL;
        r->nodes = (uint64_t *)DS_MALLOC(r->alloc, b);
        if (!r->nodes) return DS_ENOMEM;
        for (i = 0; i < cfg->nshards; i++) r->nodes[i] = i;
        if (cfg->weights) {
            r->weights = (double *)DS_MALLOC(r->alloc, b);
            if (!r->weights) return DS_ENOMEM;
            memcpy(r->weights, cfg->weights, b);
        }
        return DS_OK;
    case DS_ROUTE_RING:
        return cfg->ring ? DS_OK : DS_EINVAL;
    case DS_ROUTE_RANGE:
        if ((cfg->ranges || cfg->nranges) == (cfg->branges || cfg->nbranges)) return DS_EINVAL;
        return cfg->ranges || cfg->nranges ? ds__router_ranges(r, cfg->ranges, cfg->nranges)
                                           : ds__router_branges(r, cfg->branges, cfg->nbranges);
    case DS_ROUTE_PREFIX:
        if (!cfg->prefixes || !cfg->nprefixes) return DS_EINVAL;
        for (i = 0; i < cfg->nprefixes; i++) {
            const ds_prefix_route *p = &cfg->prefixes[i];
            int is_new = 0;
            ds_status st;
            if (!p->prefix && p->len) return DS_EINVAL;
            st = ds_trie_put(&r->trie, p->prefix, p->len, (void *)(uintptr_t)p->shard, &is_new);
            if (st != DS_OK) return st;
            if (!is_new) return DS_EINVAL; /* listed twice */
        }
        return DS_OK;
    }
    return DS_EINVAL;
}
DSDEF ds_status ds_router_init(ds_router *r, const ds_router_config *cfg) {
    ds_status st;
    if (!r) return DS_EINVAL;
    memset(r, 0, sizeof *r); /* a failed init leaves a struct free accepts */
    memset(r, 0, sizeof *r);
    if (!cfg) return DS_EINVAL;
    r->kind = cfg->kind;
    r->nshards = cfg->nshards;
    r->seed = cfg->seed;
    r->ring = cfg->ring;
    r->has_default = cfg->has_default != 0;
    r->default_shard = cfg->default_shard;
    r->alloc = cfg->alloc;
    ds_trie_init(&r->trie, cfg->alloc);
    st = ds__router_setup(r, cfg);
    if (st != DS_OK) ds_router_free(r);
    return st;
}
static ds_status ds__router_miss(const ds_router *r, uint32_t *shard) {
    if (!r->has_default) return DS_ENOTFOUND;
    *shard = r->default_shard;
    return DS_OK;
}
static ds_status ds__route_int(const ds_router *r, uint64_t key, uint32_t *shard) {
    size_t lo = 0, hi = r->nranges; /* ranges with first <= key: [0, lo) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->ranges[mid].first <= key) lo = mid + 1; else hi = mid;
    }
    if (lo && key <= r->ranges[lo - 1].last) {
        *shard = r->ranges[lo - 1].shard;
        return DS_OK;
    }
    return ds__router_miss(r, shard);
}
DSDEF ds_status ds_router_route(const ds_router *r, const void *key, size_t len, uint32_t *shard) {
    const unsigned char *k = (const unsigned char *)key;
    if (!r || !shard || (!key && len)) return DS_EINVAL;
    switch (r->kind) {
    case DS_ROUTE_MODULO:
        *shard = (uint32_t)(ds_hash_bytes(key, len, r->seed) % r->nshards);
        return DS_OK;
    case DS_ROUTE_JUMP:
        *shard = (uint32_t)ds_jump_hash(ds_hash_bytes(key, len, r->seed), (int32_t)r->nshards);
        return DS_OK;
    case DS_ROUTE_RENDEZVOUS:
        *shard = (uint32_t)ds_rendezvous(ds_hash_bytes(key, len, r->seed), r->nodes, r->weights, r->nshards);
        return DS_OK;
    case DS_ROUTE_RING: {
        uint32_t id = ds_ring_get(r->ring, key, len);
        if (id == DS_RING_NONE) return DS_ENOTFOUND;
        *shard = id;
        return DS_OK;
    }
    case DS_ROUTE_RANGE:
        if (r->ranges) { /* a decimal key, as the seed's int(key) */
            uint64_t v = 0;
            size_t i;
            if (!len || len > 20) return DS_EINVAL;
            for (i = 0; i < len; i++) {
                unsigned d = (unsigned)k[i] - '0';
                if (d > 9 || v > (UINT64_MAX - d) / 10) return DS_EINVAL;
                v = v * 10 + d;
            }
            return ds__route_int(r, v, shard);
        } else {
            size_t lo = 0, hi = r->nranges;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const ds__brange *x = &r->br[mid];
                if (ds__bytes_cmp(r->bytes + x->lo, x->lo_len, k, len) <= 0) lo = mid + 1; else hi = mid;
            }
            if (lo) {
                const ds__brange *x = &r->br[lo - 1];
                if (!x->hi_len || ds__bytes_cmp(k, len, r->bytes + x->hi, x->hi_len) < 0) {
                    *shard = x->shard;
                    return DS_OK;
                }
            }
            return ds__router_miss(r, shard);
        }
    case DS_ROUTE_PREFIX: {
        void **v = ds_trie_longest_prefix(&r->trie, key, len, NULL);
        if (!v) return ds__router_miss(r, shard);
        *shard = (uint32_t)(uintptr_t)*v;
        return DS_OK;
    }
    }
    return DS_EINVAL;
}
DSDEF ds_status ds_router_route_u64(const ds_router *r, uint64_t key, uint32_t *shard) {
    unsigned char b[8];
    unsigned i;
    if (!r || !shard) return DS_EINVAL;
    if (r->kind == DS_ROUTE_RANGE && r->ranges) return ds__route_int(r, key, shard);
    for (i = 0; i < 8; i++) b[i] = (unsigned char)(key >> (8 * i));
    return ds_router_route(r, b, 8, shard);
}


/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_SHARD_IMPL */
