/* ds.h - data structures for production systems                 v0.1.0
 *
 * Header-only, STB-style. In exactly one C or C++ file write
 *
 *     #define DS_IMPLEMENTATION
 *     #include "ds.h"
 *
 * and include "ds.h" normally everywhere else. Put that include first in
 * its file (before any system header) so the monotonic clock is available
 * under strict -std=c99; see ds_now_ns().
 *
 * WHAT IS IN IT
 *   Core: status codes, allocator hooks, overflow-checked sizes, the
 *   xoshiro256** RNG, a fast 64-bit hash, a monotonic clock; and typed,
 *   macro-generated containers: dynamic array, ring deque, binary heap with
 *   top-k helpers, and an open-addressing hash map / set. Probabilistic
 *   structures: Bloom filters (standard, cache-blocked, scalable), cuckoo
 *   filter, count-min sketch, heavy hitters, HyperLogLog, with save/load.
 *   Spatial: geohash (cells, neighbours, proximity cover, haversine) and a
 *   bucket point quadtree (rectangle, radius and exact k-nearest queries).
 *   Link with -lm (the sketches size themselves with log/pow).
 *   Vector search lives in ds_hnsw.h, threads in ds_concurrent.h.
 *
 * QUICK START
 *     #include "ds.h"
 *     DS_MAP(idmap, uint64_t, double, ds_hash_u64, ds_eq_u64)
 *
 *     idmap m;
 *     idmap_init(&m);                         // allocates nothing
 *     if (idmap_put(&m, 42, 1.5, NULL) != DS_OK) { ... }   // DS_ENOMEM
 *     double *v = idmap_get(&m, 42);          // pointer into the table or NULL
 *     DS_FOREACH(idmap, &m, e) printf("%llu\n", (unsigned long long)e->key);
 *     idmap_free(&m);
 *
 * TABLE OF CONTENTS (each tag marks a banner in both halves of the file)
 *   ds:options    user-overridable macros
 *   ds:core       ds_status, ds_strerror, ds_alloc, checked size arithmetic
 *   ds:rng        ds_rng: xoshiro256** seeded by splitmix64
 *   ds:hash       ds_hash_bytes, ds_hash_u64, ds_mix64, ready-made hash/eq
 *   ds:time       ds_now_ns (monotonic), ds_wall_ns (Unix epoch)
 *   ds:vec        DS_VEC(name, T)            dynamic array
 *   ds:deque      DS_DEQUE(name, T)          ring deque with optional maxlen
 *   ds:heap       DS_HEAP(name, T, less)     binary heap, top-k helpers
 *   ds:map        DS_MAP(name, K, V, hash, eq), DS_SET(name, K, hash, eq)
 *   ds:btree      DS_BTREE(name, K, V, cmp): ordered map (B+tree)
 *   ds:tstore     DS_TSTORE(name, V): time-indexed storage
 *   ds:window     ds_window (sliding-window stats, exact quantiles), ds_ddsketch
 *   ds:trie       ds_trie: radix tree, longest prefix, autocomplete
 *   ds:ids        ds_snowflake ids; base62 / base58
 *   ds:shard      ds_ring (consistent hashing, ketama mode), ds_jump_hash,
 *                 ds_rendezvous; ds_router (modulo/ring/jump/HRW/range/prefix)
 *   ds:breaker    ds_breaker: circuit breaker (count/time windows, half-open probes)
 *   ds:io         ds_writer/ds_reader for save/load; memory and FILE* adapters
 *   ds:bloom      ds_bloom (standard, blocked), ds_sbloom (scalable)
 *   ds:cuckoo     ds_cuckoo: cuckoo filter with deletion
 *   ds:cms        ds_cms: count-min sketch
 *   ds:topk       ds_topk: heavy hitters (Space-Saving)
 *   ds:hll        ds_hll: HyperLogLog
 *   ds:cache      DS_LRU(name, K, V, hash, eq): LRU / W-TinyLFU cache with TTL;
 *                 DS_MEMO (memoization); ds_idem (idempotency keys)
 *   ds:limit      ds_limiter: token/leaky bucket, GCRA, fixed/sliding windows;
 *                 ds_limiter_table (one limiter per key, bounded memory)
 *   ds:geohash    ds_geohash_*: encode/decode (string and 64-bit), bounding box,
 *                 neighbours, proximity cover; ds_geo_distance (haversine)
 *   ds:quadtree   ds_quadtree: bucket PR quadtree (rect, radius, exact kNN)
 *   ds:graph      ds_graph: labelled weighted digraph (incremental or CSR), BFS,
 *                 Dijkstra, A*, paths, named nodes; ds_tsp (nearest neighbour + 2-opt)
 *
 * OPTIONS (define before including; every default shown)
 *   DS_MALLOC(a, sz), DS_REALLOC(a, p, old_sz, new_sz), DS_FREE(a, p, sz)
 *       All three or none (#error otherwise). `a` is the structure's
 *       `const ds_alloc *` (NULL = default). Default: the ds_alloc's
 *       functions when `a` is non-NULL, else libc malloc/realloc/free.
 *   DS_ASSERT(x)      internal invariants only; default assert(x).
 *   DS_STATIC         make every DSDEF function static to the including file.
 *   DS_API            decoration of non-static DSDEF functions (DLL export);
 *                     default empty.
 *   DS_NO_STDIO       compile out the FILE* adapters (ds_file_writer/reader)
 *                     and the <stdio.h> include.
 *
 * ERRORS
 *   Fallible calls return ds_status (DS_OK == 0). Bad input (NULL where a
 *   structure is required, out-of-range index, a size whose byte count
 *   overflows size_t) gives DS_EINVAL; allocation failure gives DS_ENOMEM
 *   and leaves the structure exactly as it was (strong guarantee). Nothing
 *   asserts on user input; DS_ASSERT guards internal invariants only.
 *
 * THREAD SAFETY
 *   Nothing in ds.h locks. Distinct instances may be used from distinct
 *   threads freely; one instance may be read (get/has/len/iteration) from
 *   several threads at once as long as nobody writes it. The only global
 *   state is the allocator hooks you define. See ds_concurrent.h for
 *   shared structures.
 *
 * LICENSE
 *   MIT. See the end of the file.
 */
#ifndef DS_H_INCLUDED
#define DS_H_INCLUDED

#define DS_VERSION_MAJOR 0
#define DS_VERSION_MINOR 1
#define DS_VERSION_PATCH 0

/* The clock needs POSIX clock_gettime, which strict -std=c99 hides unless a
 * feature macro is set before the first system header. */
#if defined(DS_IMPLEMENTATION) && !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifndef DS_NO_STDIO
#include <stdio.h>
#endif

/* ========================================================================
 * == ds:options ==  user-overridable macros
 * ======================================================================== */

#if defined(DS_MALLOC) || defined(DS_REALLOC) || defined(DS_FREE)
#if !defined(DS_MALLOC) || !defined(DS_REALLOC) || !defined(DS_FREE)
#error "ds.h: define all of DS_MALLOC, DS_REALLOC and DS_FREE, or none of them"
#endif
#else
#include <stdlib.h>
#define DS_MALLOC(a, sz) ds__default_malloc((a), (sz))
#define DS_REALLOC(a, p, old_sz, new_sz) ds__default_realloc((a), (p), (old_sz), (new_sz))
#define DS_FREE(a, p, sz) ds__default_free((a), (p), (sz))
#define DS__DEFAULT_ALLOCATOR 1
#endif

#ifndef DS_ASSERT
#include <assert.h>
#define DS_ASSERT(x) assert(x)
#endif

#ifndef DS_API
#define DS_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DS__UNUSED __attribute__((unused))
#define DS__LIKELY(x) __builtin_expect(!!(x), 1)
#define DS__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define DS__INLINE static inline __attribute__((always_inline))
#else
#define DS__UNUSED
#define DS__LIKELY(x) (x)
#define DS__UNLIKELY(x) (x)
#define DS__INLINE static inline
#endif

#ifdef DS_STATIC
#define DSDEF static DS__UNUSED
#else
#define DSDEF extern DS_API
#endif

/* Generated container functions: static inline in the one-TU form. */
#define DS__LINK_STATIC static inline DS__UNUSED

/* C99-compatible static assertion (the typedef trick; _Static_assert is C11). */
#define DS__CAT_(a, b) a##b
#define DS__CAT(a, b) DS__CAT_(a, b)
#define DS_STATIC_ASSERT(cond, msg) \
    typedef char DS__CAT(ds__static_assert_, __LINE__)[(cond) ? 1 : -1] DS__UNUSED

/* ========================================================================
 * == ds:core ==  status codes, allocator, checked size arithmetic
 * ======================================================================== */

/* Every status, its value and its message, defined once: the enum and
 * ds_strerror() are generated from this list so they cannot drift. */
#define DS_STATUS_LIST(X)                                   \
    X(DS_OK, 0, "ok")                                       \
    X(DS_ENOMEM, 1, "out of memory")                        \
    X(DS_EINVAL, 2, "invalid argument")                     \
    X(DS_EEXIST, 3, "already exists")                       \
    X(DS_ENOTFOUND, 4, "not found")                         \
    X(DS_EFULL, 5, "full")                                  \
    X(DS_EEMPTY, 6, "empty")                                \
    X(DS_ECORRUPT, 7, "corrupt or truncated data")          \
    X(DS_EIO, 8, "input/output error")                      \
    X(DS_ECLOSED, 9, "closed")                              \
    X(DS_ETIMEDOUT, 10, "timed out")                        \
    X(DS_EBUSY, 11, "busy, try again later")

#define DS__STATUS_ENUM(id, val, msg) id = val,
typedef enum ds_status { DS_STATUS_LIST(DS__STATUS_ENUM) DS__STATUS_COUNT } ds_status;
#undef DS__STATUS_ENUM

/* Human-readable message for a status; "unknown status" for values outside
 * the list. Never NULL. Thread-safe (returns string literals). */
DSDEF const char *ds_strerror(ds_status s);
/* The identifier of a status ("DS_ENOMEM"), or "DS_?" if unknown. */
DSDEF const char *ds_status_name(ds_status s);

/* Per-instance allocator. Every structure holds a `const ds_alloc *` (NULL =
 * default) and passes it to DS_MALLOC/DS_REALLOC/DS_FREE, which also receive
 * the old and freed sizes so sized allocators (arenas, accounting) work.
 * All three functions are required. The ds_alloc must outlive the
 * structures that use it. */
typedef struct ds_alloc {
    void *(*malloc_fn)(void *ctx, size_t size);
    void *(*realloc_fn)(void *ctx, void *p, size_t old_size, size_t new_size);
    void (*free_fn)(void *ctx, void *p, size_t size);
    void *ctx;
} ds_alloc;

#ifdef DS__DEFAULT_ALLOCATOR
static inline void *ds__default_malloc(const ds_alloc *a, size_t sz) {
    return a ? a->malloc_fn(a->ctx, sz) : malloc(sz);
}
static inline void *ds__default_realloc(const ds_alloc *a, void *p, size_t old_sz, size_t new_sz) {
    return a ? a->realloc_fn(a->ctx, p, old_sz, new_sz) : realloc(p, new_sz);
}
static inline void ds__default_free(const ds_alloc *a, void *p, size_t sz) {
    if (a) a->free_fn(a->ctx, p, sz); else free(p);
}
#endif

/* Overflow-checked size arithmetic. Every allocation size in ds is computed
 * through these: they store the result and return 1, or return 0 (and leave
 * *out untouched) when the exact result does not fit in size_t. */
static inline int ds_size_mul(size_t a, size_t b, size_t *out) {
#if defined(__GNUC__) || defined(__clang__)
    size_t r;
    if (__builtin_mul_overflow(a, b, &r)) return 0;
    *out = r;
#else
    if (b != 0 && a > SIZE_MAX / b) return 0;
    *out = a * b;
#endif
    return 1;
}
static inline int ds_size_add(size_t a, size_t b, size_t *out) {
    if (a > SIZE_MAX - b) return 0;
    *out = a + b;
    return 1;
}
/* *out = a * b + c, all checked. */
static inline int ds_size_muladd(size_t a, size_t b, size_t c, size_t *out) {
    size_t t;
    return ds_size_mul(a, b, &t) && ds_size_add(t, c, out);
}

/* Count-trailing-zeros and round-up-to-power-of-two, used by several
 * containers. ds__ctz64(0) is undefined: callers never pass 0. */
static inline unsigned ds__ctz64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;
    while (!(x & 1u)) { x >>= 1; n++; }
    return n;
#endif
}
/* Smallest power of two >= x (x >= 1), or 0 if that does not fit. */
static inline size_t ds__pow2_ceil(size_t x) {
    size_t p = 1;
    while (p < x) {
        if (p > SIZE_MAX / 2) return 0;
        p <<= 1;
    }
    return p;
}

/* ========================================================================
 * == ds:rng ==  xoshiro256** (Blackman & Vigna, 2018) seeded by splitmix64
 * ========================================================================
 * Fast, 256-bit state, period 2^256-1, passes BigCrush. Not cryptographic.
 * A ds_rng is a plain value: copy it to fork a stream, or use
 * ds_rng_jump() to get 2^64 non-overlapping streams of length 2^128.
 * Not thread-safe per instance: give each thread its own. */
typedef struct ds_rng {
    uint64_t s[4];
} ds_rng;

/* splitmix64 step (Steele, Lea, Flood 2014): advances *state, returns the
 * next output. Used to expand one seed into a full xoshiro state. */
static inline uint64_t ds_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Seed from any 64-bit value (0 included). Same seed, same sequence. */
static inline void ds_rng_seed(ds_rng *r, uint64_t seed) {
    uint64_t sm = seed;
    int i;
    for (i = 0; i < 4; i++) r->s[i] = ds_splitmix64(&sm);
}

static inline uint64_t ds__rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* Next 64 uniformly random bits. O(1). */
static inline uint64_t ds_rng_next(ds_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = ds__rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ds__rotl64(s[3], 45);
    return result;
}

/* Uniform integer in [0, n), unbiased (Lemire's multiply-shift with
 * rejection, "Fast Random Integer Generation in an Interval", 2019).
 * n == 0 returns 0. */
DSDEF uint64_t ds_rng_below(ds_rng *r, uint64_t n);

/* Uniform double in [0, 1) with 53 random bits. */
static inline double ds_rng_double(ds_rng *r) {
    return (double)(ds_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Advance the state by 2^128 steps: call it k times on copies of one
 * generator to get k streams that never overlap in practice. O(256). */
DSDEF void ds_rng_jump(ds_rng *r);

/* ========================================================================
 * == ds:hash ==  64-bit hashing
 * ========================================================================
 * ds_hash_bytes follows the wyhash construction (Wang Yi, public domain):
 * 64x64->128-bit multiplies folded by xor ("mum"), 48-byte stripes on three
 * independent lanes, overlapping reads for the tail so there is no
 * byte-by-byte loop. Quality is checked by tests/test_core.c: avalanche
 * (each input bit flips each output bit with probability 1/2, within 6
 * standard errors over 12,000 random inputs, for 2..32-byte keys, integers
 * and the seed) and bucket uniformity (sequential, strided and string keys
 * over 4096 buckets from four bit ranges, chi-square; no 64-bit collision
 * among 2^18 structured keys). Not
 * cryptographic; seed it per table against HashDoS. Values are identical on
 * little- and big-endian machines. */

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 ds__u128;
#endif

/* 128-bit product of a and b, returned as (lo, hi) in (*a, *b). */
static inline void ds__mum128(uint64_t *a, uint64_t *b) {
#if defined(__SIZEOF_INT128__)
    ds__u128 r = (ds__u128)*a * *b;
    *a = (uint64_t)r;
    *b = (uint64_t)(r >> 64);
#else
    uint64_t ha = *a >> 32, hb = *b >> 32, la = (uint32_t)*a, lb = (uint32_t)*b;
    uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb;
    uint64_t t = rl + (rm0 << 32), c = t < rl, lo = t + (rm1 << 32);
    c += lo < t;
    *a = lo;
    *b = rh + (rm0 >> 32) + (rm1 >> 32) + c;
#endif
}
/* Folded multiply: the xor of the two halves of a*b. */
static inline uint64_t ds__mum(uint64_t a, uint64_t b) {
    ds__mum128(&a, &b);
    return a ^ b;
}

#define DS__HK0 0xa0761d6478bd642full
#define DS__HK1 0xe7037ed1a0b428dbull
#define DS__HK2 0x8ebc6af09c88c6e3ull
#define DS__HK3 0x589965cc75374cc3ull

/* Hash n bytes at p (p may be NULL when n == 0). O(n), ~0.1 ns/byte on long
 * inputs, a few ns for short ones. */
DSDEF uint64_t ds_hash_bytes(const void *p, size_t n, uint64_t seed);

/* Bijective 64-bit finalizer (splitmix64 / MurmurHash3 fmix64 style): every
 * output bit depends on every input bit. Use it to scramble ids. */
static inline uint64_t ds_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Seeded hash of one integer: two folded multiplies, full avalanche. These
 * and the eq functions below have the signatures DS_MAP and DS_SET take. */
static inline uint64_t ds_hash_u64(uint64_t x, uint64_t seed) {
    uint64_t a = x ^ DS__HK0, b = seed ^ DS__HK1;
    ds__mum128(&a, &b);
    return ds__mum(a ^ DS__HK2, b ^ DS__HK3);
}
static inline uint64_t ds_hash_u32(uint32_t x, uint64_t seed) { return ds_hash_u64(x, seed); }
static inline uint64_t ds_hash_i64(int64_t x, uint64_t seed) { return ds_hash_u64((uint64_t)x, seed); }
static inline uint64_t ds_hash_ptr(const void *p, uint64_t seed) { return ds_hash_u64((uint64_t)(uintptr_t)p, seed); }
/* NUL-terminated string (the terminator is not hashed). */
static inline uint64_t ds_hash_str(const char *s, uint64_t seed) { return ds_hash_bytes(s, strlen(s), seed); }

static inline int ds_eq_u64(uint64_t a, uint64_t b) { return a == b; }
static inline int ds_eq_u32(uint32_t a, uint32_t b) { return a == b; }
static inline int ds_eq_i64(int64_t a, int64_t b) { return a == b; }
static inline int ds_eq_ptr(const void *a, const void *b) { return a == b; }
static inline int ds_eq_str(const char *a, const char *b) { return strcmp(a, b) == 0; }

/* ========================================================================
 * == ds:time ==  monotonic and wall clocks
 * ======================================================================== */

/* Nanoseconds from an arbitrary fixed point, never decreasing: the default
 * `now` for every time-taking call in ds. Uses CLOCK_MONOTONIC on POSIX and
 * QueryPerformanceCounter on Windows. If the implementation file included a
 * system header before ds.h under strict -std=c99, POSIX clocks are hidden
 * and it falls back to timespec_get (C11) or time() (seconds): include ds.h
 * first there. Thread-safe. */
DSDEF int64_t ds_now_ns(void);

/* Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME; jumps when
 * the system clock is set). For what must carry real dates, such as
 * ds_snowflake's `now`: ds_now_ns()'s zero is arbitrary (boot, on Linux),
 * so a snowflake fed it would be before its epoch. Same fallbacks as
 * ds_now_ns(). Thread-safe. */
DSDEF int64_t ds_wall_ns(void);

/* Durations in the int64_t nanoseconds that every `now`, period and TTL in
 * ds uses: `30 * DS_SEC`, `250 * DS_MS`, `24 * DS_HOUR`. */
#define DS_NS INT64_C(1)
#define DS_US INT64_C(1000)
#define DS_MS INT64_C(1000000)
#define DS_SEC INT64_C(1000000000)
#define DS_MIN (60 * DS_SEC)
#define DS_HOUR (3600 * DS_SEC)

/* ========================================================================
 * == ds:io ==  writer/reader callbacks for save/load
 * ========================================================================
 * Every save/load in ds goes through these two small structs, so a
 * structure can be written to a file, a memory buffer, a socket or a
 * compressor alike. Ready-made: a growable memory buffer (ds_membuf), a
 * memory reader (ds_memsrc), and FILE* adapters (unless DS_NO_STDIO).
 *
 * Format of every saved structure (all integers little-endian):
 *   magic (4 bytes, e.g. "DSbf"), format version (u64), parameters,
 *   payload, then a 64-bit checksum (ds_hash_bytes chained over every
 *   field before it). load() checks the magic, the version, every
 *   parameter and length against its limits and against the bytes the
 *   reader says are left, before allocating; then the checksum. Any
 *   mismatch, truncation or bit flip gives DS_ECORRUPT, never a crash or
 *   an oversized allocation. */

/* write: store all n bytes, return DS_OK or an error (DS_EIO, DS_ENOMEM),
 * which save() passes through unchanged. */
typedef struct ds_writer {
    ds_status (*write)(void *ctx, const void *p, size_t n);
    void *ctx;
} ds_writer;

/* read: fill all n bytes, or return DS_ECORRUPT if the input ends first
 * (or DS_EIO). `avail` is how many bytes are left, or UINT64_MAX if
 * unknown; load() decrements it and refuses sizes that exceed it, so a
 * hostile length field cannot make it allocate more than the input holds. */
typedef struct ds_reader {
    ds_status (*read)(void *ctx, void *p, size_t n);
    void *ctx;
    uint64_t avail;
} ds_reader;

/* A growable in-memory output. Zero-initialise or ds_membuf_init; free
 * with ds_membuf_free. data/len are the bytes written so far. */
typedef struct ds_membuf {
    unsigned char *data;
    size_t len, cap;
    const ds_alloc *alloc;
} ds_membuf;
DSDEF void ds_membuf_init(ds_membuf *b, const ds_alloc *a);
DSDEF void ds_membuf_free(ds_membuf *b);
DSDEF ds_writer ds_membuf_writer(ds_membuf *b);

/* An in-memory input: reads p[0..n) from the start. The ds_memsrc holds
 * the position and must outlive the reader. */
typedef struct ds_memsrc {
    const unsigned char *p;
    size_t len, pos;
} ds_memsrc;
DSDEF ds_reader ds_mem_reader(ds_memsrc *src, const void *p, size_t n);

#ifndef DS_NO_STDIO
/* FILE* adapters (fwrite/fread; errors give DS_EIO, a short read
 * DS_ECORRUPT). The reader sets avail from the file size when the stream
 * is seekable. The caller opens (in binary mode) and closes the file. */
DSDEF ds_writer ds_file_writer(FILE *f);
DSDEF ds_reader ds_file_reader(FILE *f);
#endif

/* The field codec every save/load uses (internal, but typed containers
 * such as DS_TSTORE expand it in user code): little-endian fields, a
 * running checksum, and a sticky status so callers check once at the end. */
typedef struct ds__enc {
    ds_writer w;
    uint64_t sum;
    ds_status st;
} ds__enc;
typedef struct ds__dec {
    ds_reader *r;
    uint64_t sum;
    ds_status st;
} ds__dec;
DSDEF void ds__enc_init(ds__enc *e, ds_writer w, const char magic[4], uint32_t version);
DSDEF void ds__put(ds__enc *e, const void *p, size_t n);
DSDEF void ds__put_u64(ds__enc *e, uint64_t v);
DSDEF ds_status ds__enc_end(ds__enc *e);
DSDEF void ds__dec_init(ds__dec *d, ds_reader *r, const char magic[4], uint32_t version);
DSDEF void ds__get(ds__dec *d, void *p, size_t n);
DSDEF uint64_t ds__get_u64(ds__dec *d);
DSDEF int ds__dec_room(ds__dec *d, uint64_t bytes);
DSDEF ds_status ds__dec_end(ds__dec *d);

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * == ds:vec ==  DS_VEC(name, T): dynamic array
 * ========================================================================
 *   DS_VEC(name, T)              everything, static inline, for one file
 *   DS_VEC_DECLARE(name, T)      type + prototypes, for a header
 *   DS_VEC_DEFINE(name, T)       function bodies, in one .c file
 * (Every container has these three forms; none takes a trailing ';'.)
 *
 * struct name { T *data; size_t len, cap; const ds_alloc *alloc; }
 * The fields are public for reading; data[0..len) are the elements.
 *
 *   void   name_init(name *v)                     allocates nothing
 *   void   name_init_alloc(name *v, const ds_alloc *a)
 *   void   name_free(name *v)                     releases memory, re-inits
 *   void   name_clear(name *v)                    len = 0, keeps capacity
 *   size_t name_len(const name *v)
 *   T     *name_at(const name *v, size_t i)       NULL if i >= len
 *   T     *name_last(const name *v)               NULL if empty
 *   ds_status name_reserve(name *v, size_t n)     capacity >= n
 *   ds_status name_shrink(name *v)                capacity = len
 *   ds_status name_resize(name *v, size_t n, T fill)
 *   ds_status name_push(name *v, T x)             amortized O(1)
 *   ds_status name_append(name *v, T const *xs, size_t n)
 *   ds_status name_pop(name *v, T *out)           DS_EEMPTY; out may be NULL
 *   ds_status name_insert(name *v, size_t i, T x) O(len-i); DS_EINVAL if i > len
 *   ds_status name_remove(name *v, size_t i, T *out)      O(len-i), keeps order
 *   ds_status name_swap_remove(name *v, size_t i, T *out) O(1), last moves to i
 *   void   name_sort(name *v, int (*cmp)(T const *, T const *))
 *          introsort, O(n log n) worst case, not stable
 *   size_t name_lower_bound(const name *v, T const *key, cmp)  first i: !(data[i] < key)
 *   size_t name_upper_bound(const name *v, T const *key, cmp)  first i: key < data[i]
 *          on a vec sorted by cmp; O(log n); len if none
 *   T     *name_first(const name *v), *name_next(const name *v, T const *it)
 *          iteration (DS_FOREACH); NULL at the end
 *
 * Errors: DS_ENOMEM (vec unchanged), DS_EINVAL (index out of range, or the
 * byte size overflows size_t). Growth doubles the capacity (minimum 8).
 * Pointers into data are invalidated by anything that may grow or shrink. */

/* Type-independent parts (element size passed as a constant). */
static inline ds_status ds__vec_setcap(void **data, size_t *cap, size_t newcap, size_t esz,
                                       const ds_alloc *a) {
    size_t oldb, newb;
    void *p;
    if (!ds_size_mul(newcap, esz, &newb)) return DS_EINVAL;
    oldb = *cap * esz;
    if (newb == 0) {
        if (*data) DS_FREE(a, *data, oldb);
        *data = NULL;
        *cap = 0;
        return DS_OK;
    }
    p = *data ? DS_REALLOC(a, *data, oldb, newb) : DS_MALLOC(a, newb);
    if (!p) return DS_ENOMEM;
    *data = p;
    *cap = newcap;
    return DS_OK;
}
/* Make room for `need` elements, doubling (minimum 8). */
static inline ds_status ds__vec_grow(void **data, size_t *cap, size_t need, size_t esz,
                                     const ds_alloc *a) {
    size_t nc = *cap < 8 ? 8 : *cap;
    if (need <= *cap) return DS_OK;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    return ds__vec_setcap(data, cap, nc, esz, a);
}

/* Generic introsort over esz-byte elements. cmp gets a context pointer so
 * typed wrappers can pass the user's comparator without casting function
 * pointer types. */
typedef int (*ds__cmp_fn)(const void *a, const void *b, void *ctx);
static inline void ds__swap_bytes(unsigned char *a, unsigned char *b, size_t n) {
    while (n--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}
DSDEF void ds__sort(void *base, size_t n, size_t esz, ds__cmp_fn cmp, void *ctx);

#define DS__VEC_TYPES(name, T)                 \
    typedef struct name {                      \
        T *data;                               \
        size_t len, cap;                       \
        const ds_alloc *alloc;                 \
    } name;                                    \
    typedef T *name##_it;                      \
    typedef int (*name##_cmp)(T const *, T const *)

#define DS__VEC_PROTOS(name, T, LINK)                                                   \
    LINK void name##_init(name *v);                                                     \
    LINK void name##_init_alloc(name *v, const ds_alloc *a);                            \
    LINK void name##_free(name *v);                                                     \
    LINK void name##_clear(name *v);                                                    \
    LINK size_t name##_len(const name *v);                                              \
    LINK T *name##_at(const name *v, size_t i);                                         \
    LINK T *name##_last(const name *v);                                                 \
    LINK ds_status name##_reserve(name *v, size_t n);                                   \
    LINK ds_status name##_shrink(name *v);                                              \
    LINK ds_status name##_resize(name *v, size_t n, T fill);                            \
    LINK ds_status name##_push(name *v, T x);                                           \
    LINK ds_status name##_append(name *v, T const *xs, size_t n);                       \
    LINK ds_status name##_pop(name *v, T *out);                                         \
    LINK ds_status name##_insert(name *v, size_t i, T x);                               \
    LINK ds_status name##_remove(name *v, size_t i, T *out);                            \
    LINK ds_status name##_swap_remove(name *v, size_t i, T *out);                       \
    LINK void name##_sort(name *v, name##_cmp cmp);                                     \
    LINK size_t name##_lower_bound(const name *v, T const *key, name##_cmp cmp);        \
    LINK size_t name##_upper_bound(const name *v, T const *key, name##_cmp cmp);        \
    LINK T *name##_first(const name *v);                                                \
    LINK T *name##_next(const name *v, T const *it)

#define DS__VEC_IMPL(name, T, LINK)                                                     \
    typedef struct name##__cmpbox { name##_cmp fn; } name##__cmpbox;                    \
    static inline int name##__cmp_tramp(const void *a, const void *b, void *ctx) {      \
        return ((const name##__cmpbox *)ctx)->fn((T const *)a, (T const *)b);           \
    }                                                                                   \
    LINK void name##_init(name *v) { name##_init_alloc(v, NULL); }                      \
    LINK void name##_init_alloc(name *v, const ds_alloc *a) {                           \
        if (DS__UNLIKELY(!v)) return;                                                   \
        v->data = NULL;                                                                 \
        v->len = v->cap = 0;                                                            \
        v->alloc = a;                                                                   \
    }                                                                                   \
    LINK void name##_free(name *v) {                                                    \
        if (DS__UNLIKELY(!v)) return;                                                   \
        if (v->data) DS_FREE(v->alloc, v->data, v->cap * sizeof(T));                    \
        name##_init_alloc(v, v->alloc);                                                 \
    }                                                                                   \
    LINK void name##_clear(name *v) { if (!v) return; v->len = 0; }                      \
    LINK size_t name##_len(const name *v) { if (!v) return 0; return v->len; }           \
    LINK T *name##_at(const name *v, size_t i) { if (!v) return NULL; return i < v->len ? v->data + i : NULL; } \
    LINK T *name##_last(const name *v) { if (!v) return NULL; return v->len ? v->data + v->len - 1 : NULL; } \
    LINK ds_status name##_reserve(name *v, size_t n) {                                  \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        void *d = v->data;                                                              \
        ds_status s = n <= v->cap ? DS_OK : ds__vec_setcap(&d, &v->cap, n, sizeof(T), v->alloc); \
        v->data = (T *)d;                                                               \
        return s;                                                                       \
    }                                                                                   \
    LINK ds_status name##_shrink(name *v) {                                             \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        void *d = v->data;                                                              \
        ds_status s = v->len == v->cap ? DS_OK : ds__vec_setcap(&d, &v->cap, v->len, sizeof(T), v->alloc); \
        v->data = (T *)d;                                                               \
        return s;                                                                       \
    }                                                                                   \
    static inline ds_status name##__grow(name *v, size_t need) {                        \
        void *d = v->data;                                                              \
        ds_status s = ds__vec_grow(&d, &v->cap, need, sizeof(T), v->alloc);             \
        v->data = (T *)d;                                                               \
        return s;                                                                       \
    }                                                                                   \
    LINK ds_status name##_resize(name *v, size_t n, T fill) {                           \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        size_t i;                                                                       \
        if (n > v->cap) {                                                               \
            ds_status s = name##__grow(v, n);                                           \
            if (s != DS_OK) return s;                                                   \
        }                                                                               \
        for (i = v->len; i < n; i++) v->data[i] = fill;                                 \
        v->len = n;                                                                     \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_push(name *v, T x) {                                          \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (DS__UNLIKELY(v->len == v->cap)) {                                           \
            ds_status s = v->len == SIZE_MAX ? DS_EINVAL : name##__grow(v, v->len + 1); \
            if (s != DS_OK) return s;                                                   \
        }                                                                               \
        v->data[v->len++] = x;                                                          \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_append(name *v, T const *xs, size_t n) {                      \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        size_t need;                                                                    \
        ds_status s;                                                                    \
        if (n == 0) return DS_OK;                                                       \
        if (!xs || !ds_size_add(v->len, n, &need)) return DS_EINVAL;                    \
        /* xs may point into our own storage, which growing frees: rebase it. */        \
        uintptr_t at = (uintptr_t)xs, lo = (uintptr_t)v->data;                         \
        int self = v->data && at >= lo && at < lo + v->len * sizeof(T);                 \
        if ((s = name##__grow(v, need)) != DS_OK) return s;                             \
        if (self) xs = (T const *)(void *)((char *)v->data + (at - lo));                \
        memcpy(v->data + v->len, xs, n * sizeof(T));                                    \
        v->len = need;                                                                  \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_pop(name *v, T *out) {                                        \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (v->len == 0) return DS_EEMPTY;                                              \
        v->len--;                                                                       \
        if (out) *out = v->data[v->len];                                                \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_insert(name *v, size_t i, T x) {                              \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (i > v->len) return DS_EINVAL;                                               \
        if (v->len == v->cap) {                                                         \
            ds_status s = v->len == SIZE_MAX ? DS_EINVAL : name##__grow(v, v->len + 1); \
            if (s != DS_OK) return s;                                                   \
        }                                                                               \
        memmove(v->data + i + 1, v->data + i, (v->len - i) * sizeof(T));                \
        v->data[i] = x;                                                                 \
        v->len++;                                                                       \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_remove(name *v, size_t i, T *out) {                           \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (i >= v->len) return DS_EINVAL;                                              \
        if (out) *out = v->data[i];                                                     \
        memmove(v->data + i, v->data + i + 1, (v->len - i - 1) * sizeof(T));            \
        v->len--;                                                                       \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_swap_remove(name *v, size_t i, T *out) {                      \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (i >= v->len) return DS_EINVAL;                                              \
        if (out) *out = v->data[i];                                                     \
        v->data[i] = v->data[v->len - 1];                                               \
        v->len--;                                                                       \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK void name##_sort(name *v, name##_cmp cmp) {                                    \
        if (DS__UNLIKELY(!v)) return;                                                   \
        name##__cmpbox box;                                                             \
        box.fn = cmp;                                                                   \
        ds__sort(v->data, v->len, sizeof(T), name##__cmp_tramp, &box);                  \
    }                                                                                   \
    LINK size_t name##_lower_bound(const name *v, T const *key, name##_cmp cmp) {       \
        if (DS__UNLIKELY(!v)) return 0;                                                 \
        size_t lo = 0, hi = v->len;                                                     \
        while (lo < hi) {                                                               \
            size_t mid = lo + (hi - lo) / 2;                                            \
            if (cmp(v->data + mid, key) < 0) lo = mid + 1; else hi = mid;               \
        }                                                                               \
        return lo;                                                                      \
    }                                                                                   \
    LINK size_t name##_upper_bound(const name *v, T const *key, name##_cmp cmp) {       \
        if (DS__UNLIKELY(!v)) return 0;                                                 \
        size_t lo = 0, hi = v->len;                                                     \
        while (lo < hi) {                                                               \
            size_t mid = lo + (hi - lo) / 2;                                            \
            if (cmp(key, v->data + mid) < 0) hi = mid; else lo = mid + 1;               \
        }                                                                               \
        return lo;                                                                      \
    }                                                                                   \
    LINK T *name##_first(const name *v) { if (!v) return NULL; return v->len ? v->data : NULL; } \
    LINK T *name##_next(const name *v, T const *it) {                                   \
        if (DS__UNLIKELY(!v)) return NULL;                                              \
        return it + 1 < v->data + v->len ? (T *)(it + 1) : NULL;                        \
    }

#define DS_VEC_DECLARE(name, T) \
    DS__VEC_TYPES(name, T);     \
    DS__VEC_PROTOS(name, T, extern);
#define DS_VEC_DEFINE(name, T) DS__VEC_IMPL(name, T, )
#define DS_VEC(name, T)                   \
    DS__VEC_TYPES(name, T);               \
    DS__VEC_PROTOS(name, T, DS__LINK_STATIC); \
    DS__VEC_IMPL(name, T, DS__LINK_STATIC)

/* Iterate any ds container: `DS_FOREACH(name, &c, it) use(*it);` where it
 * is a pointer to the element (vec, deque, heap) or to the entry (map/set:
 * it->key, it->val). */
#define DS_FOREACH(name, c, it) \
    for (name##_it it = name##_first(c); it != NULL; it = name##_next((c), it))

/* ========================================================================
 * == ds:deque ==  DS_DEQUE(name, T): ring-buffer deque
 * ========================================================================
 * A power-of-two ring; index access in O(1); push/pop at both ends
 * amortized O(1). With a maximum length (set_maxlen, 0 = unbounded) a push
 * on a full deque drops the element at the opposite end, as Python's
 * deque(maxlen=...): push_back drops the front (the oldest), push_front
 * drops the back. The *_evict variants hand the dropped element back so
 * owned values can be released; nothing is dropped without maxlen.
 *
 *   void   name_init(name *d), name_init_alloc(name *d, const ds_alloc *a)
 *   void   name_free(name *d), name_clear(name *d)
 *   size_t name_len(const name *d)
 *   ds_status name_set_maxlen(name *d, size_t maxlen)
 *          DS_EINVAL if len > maxlen (pop first: nothing is dropped here)
 *   size_t name_maxlen(const name *d)
 *   ds_status name_reserve(name *d, size_t n)
 *   ds_status name_push_back(name *d, T x), name_push_front(name *d, T x)
 *   ds_status name_push_back_evict(name *d, T x, T *dropped, int *did_drop)
 *   ds_status name_push_front_evict(name *d, T x, T *dropped, int *did_drop)
 *   ds_status name_pop_back(name *d, T *out), name_pop_front(name *d, T *out)
 *          DS_EEMPTY when empty; out may be NULL
 *   T     *name_front(const name *d), *name_back(const name *d)   NULL if empty
 *   T     *name_at(const name *d, size_t i)   i = 0 is the front; NULL if i >= len
 *   T     *name_first / name_next             front-to-back iteration
 *
 * Errors: DS_ENOMEM (deque unchanged), DS_EINVAL (size overflow). */

/* Re-lay the ring into a new buffer of newcap (power of two >= len). */
static inline ds_status ds__deque_setcap(void **buf, size_t *cap, size_t *head, size_t len,
                                         size_t newcap, size_t esz, const ds_alloc *a) {
    size_t nb, first;
    unsigned char *nbuf, *ob = (unsigned char *)*buf;
    if (!ds_size_mul(newcap, esz, &nb)) return DS_EINVAL;
    nbuf = (unsigned char *)DS_MALLOC(a, nb);
    if (!nbuf) return DS_ENOMEM;
    first = *cap - *head < len ? *cap - *head : len; /* elements before the wrap */
    if (len) {
        memcpy(nbuf, ob + *head * esz, first * esz);
        memcpy(nbuf + first * esz, ob, (len - first) * esz);
    }
    if (ob) DS_FREE(a, ob, *cap * esz);
    *buf = nbuf;
    *cap = newcap;
    *head = 0;
    return DS_OK;
}
static inline ds_status ds__deque_grow(void **buf, size_t *cap, size_t *head, size_t len,
                                       size_t need, size_t esz, const ds_alloc *a) {
    size_t nc;
    if (need <= *cap) return DS_OK;
    nc = ds__pow2_ceil(need < 8 ? 8 : need);
    if (nc == 0) return DS_EINVAL;
    return ds__deque_setcap(buf, cap, head, len, nc, esz, a);
}

#define DS__DEQUE_TYPES(name, T)              \
    typedef struct name {                     \
        T *buf;                               \
        size_t cap, head, len, maxlen;        \
        const ds_alloc *alloc;                \
    } name;                                   \
    typedef T *name##_it

#define DS__DEQUE_PROTOS(name, T, LINK)                                            \
    LINK void name##_init(name *d);                                                \
    LINK void name##_init_alloc(name *d, const ds_alloc *a);                       \
    LINK void name##_free(name *d);                                                \
    LINK void name##_clear(name *d);                                               \
    LINK size_t name##_len(const name *d);                                         \
    LINK size_t name##_maxlen(const name *d);                                      \
    LINK ds_status name##_set_maxlen(name *d, size_t maxlen);                      \
    LINK ds_status name##_reserve(name *d, size_t n);                              \
    LINK ds_status name##_push_back_evict(name *d, T x, T *dropped, int *did_drop); \
    LINK ds_status name##_push_front_evict(name *d, T x, T *dropped, int *did_drop); \
    LINK ds_status name##_push_back(name *d, T x);                                 \
    LINK ds_status name##_push_front(name *d, T x);                                \
    LINK ds_status name##_pop_back(name *d, T *out);                               \
    LINK ds_status name##_pop_front(name *d, T *out);                              \
    LINK T *name##_at(const name *d, size_t i);                                    \
    LINK T *name##_front(const name *d);                                           \
    LINK T *name##_back(const name *d);                                            \
    LINK T *name##_first(const name *d);                                           \
    LINK T *name##_next(const name *d, T const *it)

#define DS__DEQUE_IMPL(name, T, LINK)                                                    \
    LINK void name##_init(name *d) { name##_init_alloc(d, NULL); }                       \
    LINK void name##_init_alloc(name *d, const ds_alloc *a) {                            \
        if (DS__UNLIKELY(!d)) return;                                                   \
        d->buf = NULL;                                                                   \
        d->cap = d->head = d->len = d->maxlen = 0;                                       \
        d->alloc = a;                                                                    \
    }                                                                                    \
    LINK void name##_free(name *d) {                                                     \
        if (DS__UNLIKELY(!d)) return;                                                   \
        size_t ml = d->maxlen;                                                           \
        if (d->buf) DS_FREE(d->alloc, d->buf, d->cap * sizeof(T));                       \
        name##_init_alloc(d, d->alloc);                                                  \
        d->maxlen = ml;                                                                  \
    }                                                                                    \
    LINK void name##_clear(name *d) { if (!d) return; d->head = d->len = 0; }            \
    LINK size_t name##_len(const name *d) { if (!d) return 0; return d->len; }           \
    LINK size_t name##_maxlen(const name *d) { if (!d) return 0; return d->maxlen; }     \
    LINK ds_status name##_set_maxlen(name *d, size_t maxlen) {                           \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                         \
        if (maxlen && d->len > maxlen) return DS_EINVAL;                                 \
        d->maxlen = maxlen;                                                              \
        return DS_OK;                                                                    \
    }                                                                                    \
    static inline ds_status name##__grow(name *d, size_t need) {                         \
        void *b = d->buf;                                                                \
        ds_status s = ds__deque_grow(&b, &d->cap, &d->head, d->len, need, sizeof(T), d->alloc); \
        d->buf = (T *)b;                                                                 \
        return s;                                                                        \
    }                                                                                    \
    LINK ds_status name##_reserve(name *d, size_t n) { if (!d) return DS_EINVAL; return name##__grow(d, n); } \
    LINK T *name##_at(const name *d, size_t i) {                                         \
        if (DS__UNLIKELY(!d)) return NULL;                                              \
        return i < d->len ? d->buf + ((d->head + i) & (d->cap - 1)) : NULL;              \
    }                                                                                    \
    LINK T *name##_front(const name *d) { if (!d) return NULL; return name##_at(d, 0); } \
    LINK T *name##_back(const name *d) { if (!d) return NULL; return d->len ? name##_at(d, d->len - 1) : NULL; } \
    LINK ds_status name##_pop_back(name *d, T *out) {                                    \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                         \
        if (d->len == 0) return DS_EEMPTY;                                               \
        if (out) *out = *name##_at(d, d->len - 1);                                       \
        d->len--;                                                                        \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_pop_front(name *d, T *out) {                                   \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                         \
        if (d->len == 0) return DS_EEMPTY;                                               \
        if (out) *out = d->buf[d->head];                                                 \
        d->head = (d->head + 1) & (d->cap - 1);                                          \
        d->len--;                                                                        \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_push_back_evict(name *d, T x, T *dropped, int *did_drop) {     \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                         \
        if (did_drop) *did_drop = 0;                                                     \
        if (d->maxlen && d->len == d->maxlen) {                                          \
            if (did_drop) *did_drop = 1;                                                 \
            name##_pop_front(d, dropped);                                                \
        } else if (d->len == d->cap) {                                                   \
            ds_status s = d->len == SIZE_MAX ? DS_EINVAL : name##__grow(d, d->len + 1);  \
            if (s != DS_OK) return s;                                                    \
        }                                                                                \
        d->buf[(d->head + d->len) & (d->cap - 1)] = x;                                   \
        d->len++;                                                                        \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_push_front_evict(name *d, T x, T *dropped, int *did_drop) {    \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                         \
        if (did_drop) *did_drop = 0;                                                     \
        if (d->maxlen && d->len == d->maxlen) {                                          \
            if (did_drop) *did_drop = 1;                                                 \
            name##_pop_back(d, dropped);                                                 \
        } else if (d->len == d->cap) {                                                   \
            ds_status s = d->len == SIZE_MAX ? DS_EINVAL : name##__grow(d, d->len + 1);  \
            if (s != DS_OK) return s;                                                    \
        }                                                                                \
        d->head = (d->head + d->cap - 1) & (d->cap - 1);                                 \
        d->buf[d->head] = x;                                                             \
        d->len++;                                                                        \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_push_back(name *d, T x) {                                      \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                         \
        return name##_push_back_evict(d, x, NULL, NULL);                                 \
    }                                                                                    \
    LINK ds_status name##_push_front(name *d, T x) {                                     \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                         \
        return name##_push_front_evict(d, x, NULL, NULL);                                \
    }                                                                                    \
    LINK T *name##_first(const name *d) { if (!d) return NULL; return name##_at(d, 0); } \
    LINK T *name##_next(const name *d, T const *it) {                                    \
        if (DS__UNLIKELY(!d)) return NULL;                                              \
        size_t pos = (size_t)(it - d->buf);                                              \
        size_t i = ((pos - d->head) & (d->cap - 1)) + 1; /* logical index of next */     \
        return name##_at(d, i);                                                          \
    }

#define DS_DEQUE_DECLARE(name, T) \
    DS__DEQUE_TYPES(name, T);     \
    DS__DEQUE_PROTOS(name, T, extern);
#define DS_DEQUE_DEFINE(name, T) DS__DEQUE_IMPL(name, T, )
#define DS_DEQUE(name, T)                     \
    DS__DEQUE_TYPES(name, T);                 \
    DS__DEQUE_PROTOS(name, T, DS__LINK_STATIC); \
    DS__DEQUE_IMPL(name, T, DS__LINK_STATIC)

/* ========================================================================
 * == ds:heap ==  DS_HEAP(name, T, less): binary heap and top-k
 * ========================================================================
 * A binary min-heap under `less(T a, T b)` (a function or function-like
 * macro returning nonzero when a orders before b): peek/pop give the least
 * element. For a max-heap pass a "greater" function.
 *
 *   void   name_init(name *h), name_init_alloc(name *h, const ds_alloc *a)
 *   void   name_free(name *h), name_clear(name *h)
 *   size_t name_len(const name *h)
 *   ds_status name_reserve(name *h, size_t n)
 *   ds_status name_push(name *h, T x)                   O(log n)
 *   ds_status name_pop(name *h, T *out)                 O(log n), DS_EEMPTY
 *   T const *name_peek(const name *h)                   O(1), NULL if empty
 *   ds_status name_replace_top(name *h, T x, T *old)    pop+push in one sift,
 *                                                       DS_EEMPTY if empty
 *   ds_status name_heapify(name *h, T const *xs, size_t n)
 *          replace the contents with xs[0..n) in O(n) (Floyd)
 *   ds_status name_update(name *h, size_t i)
 *          restore order after the caller changed h->data[i]; O(log n)
 *   ds_status name_remove_at(name *h, size_t i, T *out) O(log n)
 *   T *name_first / name_next                           array order (unsorted)
 *
 * Top-k, "k best" meaning the k greatest under less:
 *   size_t name_top_k(T const *xs, size_t n, size_t k, T *out)
 *          O(n log k), no allocation: out (room for k) receives the
 *          min(n, k) greatest, greatest first.
 *   name_topk: streaming top-k in fixed memory (k elements, allocated once).
 *     ds_status name_topk_init(name_topk *t, size_t k, const ds_alloc *a)
 *          DS_EINVAL if k == 0; DS_ENOMEM
 *     int    name_topk_offer(name_topk *t, T x, T *evicted, int *did_evict)
 *          1 if x is now among the k best; when that pushed one out it is
 *          stored in *evicted (both out pointers may be NULL). A rejected x
 *          costs one comparison.
 *     T const *name_topk_threshold(const name_topk *t)  the k-th best so far
 *          (NULL until k items were seen): anything not greater is rejected
 *     size_t name_topk_sorted(const name_topk *t, T *out) greatest first, O(k log k)
 *     size_t name_topk_len(const name_topk *t); void name_topk_clear / name_topk_free
 *
 * Errors: DS_ENOMEM (heap unchanged), DS_EINVAL (index out of range, size
 * overflow). Indexes of elements change on every push/pop. */

typedef int (*ds__less_fn)(const void *a, const void *b);

/* Sift helpers on an esz-byte element array; with a constant esz and less
 * they inline into typed code. `tmp` is scratch for one element. */
DS__INLINE void ds__heap_sift_up(unsigned char *b, size_t i, size_t esz, ds__less_fn less,
                                 void *tmp) {
    memcpy(tmp, b + i * esz, esz);
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!less(tmp, b + p * esz)) break;
        memcpy(b + i * esz, b + p * esz, esz);
        i = p;
    }
    memcpy(b + i * esz, tmp, esz);
}
DS__INLINE void ds__heap_sift_down(unsigned char *b, size_t n, size_t i, size_t esz,
                                   ds__less_fn less, void *tmp) {
    memcpy(tmp, b + i * esz, esz);
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        /* Branch-free child pick: on random data the comparison is a coin
         * flip, and a mispredict costs more than the compare. */
        if (c + 1 < n) c += (size_t)less(b + (c + 1) * esz, b + c * esz);
        if (!less(b + c * esz, tmp)) break;
        memcpy(b + i * esz, b + c * esz, esz);
        i = c;
    }
    memcpy(b + i * esz, tmp, esz);
}

#define DS__HEAP_TYPES(name, T)        \
    typedef struct name {              \
        T *data;                       \
        size_t len, cap;               \
        const ds_alloc *alloc;         \
    } name;                            \
    typedef T *name##_it;              \
    typedef struct name##_topk {       \
        name heap;                     \
        size_t k;                      \
    } name##_topk

#define DS__HEAP_PROTOS(name, T, LINK)                                                 \
    LINK void name##_init(name *h);                                                    \
    LINK void name##_init_alloc(name *h, const ds_alloc *a);                           \
    LINK void name##_free(name *h);                                                    \
    LINK void name##_clear(name *h);                                                   \
    LINK size_t name##_len(const name *h);                                             \
    LINK ds_status name##_reserve(name *h, size_t n);                                  \
    LINK ds_status name##_push(name *h, T x);                                          \
    LINK ds_status name##_pop(name *h, T *out);                                        \
    LINK T const *name##_peek(const name *h);                                          \
    LINK ds_status name##_replace_top(name *h, T x, T *old);                           \
    LINK ds_status name##_heapify(name *h, T const *xs, size_t n);                     \
    LINK ds_status name##_update(name *h, size_t i);                                   \
    LINK ds_status name##_remove_at(name *h, size_t i, T *out);                        \
    LINK T *name##_first(const name *h);                                               \
    LINK T *name##_next(const name *h, T const *it);                                   \
    LINK size_t name##_top_k(T const *xs, size_t n, size_t k, T *out);                 \
    LINK ds_status name##_topk_init(name##_topk *t, size_t k, const ds_alloc *a);      \
    LINK int name##_topk_offer(name##_topk *t, T x, T *evicted, int *did_evict);       \
    LINK T const *name##_topk_threshold(const name##_topk *t);                         \
    LINK size_t name##_topk_sorted(const name##_topk *t, T *out);                      \
    LINK size_t name##_topk_len(const name##_topk *t);                                 \
    LINK void name##_topk_clear(name##_topk *t);                                       \
    LINK void name##_topk_free(name##_topk *t)

#define DS__HEAP_IMPL(name, T, less, LINK)                                              \
    static inline int name##__less(const void *a, const void *b) {                     \
        return (less(*(T const *)a, *(T const *)b)) != 0;                               \
    }                                                                                   \
    static inline void name##__up(T *d, size_t i) {                                     \
        T tmp;                                                                          \
        ds__heap_sift_up((unsigned char *)d, i, sizeof(T), name##__less, &tmp);         \
    }                                                                                   \
    static inline void name##__down(T *d, size_t n, size_t i) {                         \
        T tmp;                                                                          \
        ds__heap_sift_down((unsigned char *)d, n, i, sizeof(T), name##__less, &tmp);    \
    }                                                                                   \
    /* Bottom-up sift (Floyd; Wegener's bottom-up heapsort): walk the hole   \
     * from i to a leaf along the smaller children, one compare per level,     \
     * then sift the element up from there. For pop, replace_top and top-k,    \
     * where the new element usually belongs near the bottom. Typed, with      \
     * the element in a register: this is the hot loop of streaming top-k.     \
     * Small heaps pick children with a branch (few distinct paths, so it      \
     * predicts); large ones without (the pick is a coin flip on random data); \
     * measured on bench_topk: k = 10 and 1000 each ~2x faster than the other  \
     * choice. */                                                               \
    static inline void name##__leaf(T *d, size_t n, size_t i) {                         \
        T x = d[i];                                                                     \
        size_t top = i, c;                                                              \
        if (n <= 64) {                                                                  \
            while ((c = 2 * i + 1) < n) {                                               \
                if (c + 1 < n && less(d[c + 1], d[c])) c++;                             \
                d[i] = d[c];                                                            \
                i = c;                                                                  \
            }                                                                           \
        } else {                                                                        \
            while ((c = 2 * i + 1) < n) {                                               \
                if (c + 1 < n) c += (size_t)(less(d[c + 1], d[c]) != 0);                \
                d[i] = d[c];                                                            \
                i = c;                                                                  \
            }                                                                           \
        }                                                                               \
        while (i > top) {                                                               \
            size_t p = (i - 1) / 2;                                                     \
            if (!less(x, d[p])) break;                                                  \
            d[i] = d[p];                                                                \
            i = p;                                                                      \
        }                                                                               \
        d[i] = x;                                                                       \
    }                                                                                   \
    LINK void name##_init(name *h) { name##_init_alloc(h, NULL); }                      \
    LINK void name##_init_alloc(name *h, const ds_alloc *a) {                           \
        if (DS__UNLIKELY(!h)) return;                                                   \
        h->data = NULL;                                                                 \
        h->len = h->cap = 0;                                                            \
        h->alloc = a;                                                                   \
    }                                                                                   \
    LINK void name##_free(name *h) {                                                    \
        if (DS__UNLIKELY(!h)) return;                                                   \
        if (h->data) DS_FREE(h->alloc, h->data, h->cap * sizeof(T));                    \
        name##_init_alloc(h, h->alloc);                                                 \
    }                                                                                   \
    LINK void name##_clear(name *h) { if (!h) return; h->len = 0; }                      \
    LINK size_t name##_len(const name *h) { if (!h) return 0; return h->len; }           \
    LINK ds_status name##_reserve(name *h, size_t n) {                                  \
        if (DS__UNLIKELY(!h)) return DS_EINVAL;                                         \
        void *d = h->data;                                                              \
        ds_status s = n <= h->cap ? DS_OK : ds__vec_setcap(&d, &h->cap, n, sizeof(T), h->alloc); \
        h->data = (T *)d;                                                               \
        return s;                                                                       \
    }                                                                                   \
    LINK ds_status name##_push(name *h, T x) {                                          \
        if (DS__UNLIKELY(!h)) return DS_EINVAL;                                         \
        if (DS__UNLIKELY(h->len == h->cap)) {                                           \
            void *d = h->data;                                                          \
            ds_status s = h->len == SIZE_MAX ? DS_EINVAL                                \
                          : ds__vec_grow(&d, &h->cap, h->len + 1, sizeof(T), h->alloc); \
            h->data = (T *)d;                                                           \
            if (s != DS_OK) return s;                                                   \
        }                                                                               \
        h->data[h->len] = x;                                                            \
        name##__up(h->data, h->len++);                                                  \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_pop(name *h, T *out) {                                        \
        if (DS__UNLIKELY(!h)) return DS_EINVAL;                                         \
        if (h->len == 0) return DS_EEMPTY;                                              \
        if (out) *out = h->data[0];                                                     \
        h->data[0] = h->data[--h->len];                                                 \
        if (h->len > 1) name##__leaf(h->data, h->len, 0);                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK T const *name##_peek(const name *h) { if (!h) return NULL; return h->len ? h->data : NULL; } \
    LINK ds_status name##_replace_top(name *h, T x, T *old) {                           \
        if (DS__UNLIKELY(!h)) return DS_EINVAL;                                         \
        if (h->len == 0) return DS_EEMPTY;                                              \
        if (old) *old = h->data[0];                                                     \
        h->data[0] = x;                                                                 \
        name##__leaf(h->data, h->len, 0);                                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_heapify(name *h, T const *xs, size_t n) {                     \
        if (DS__UNLIKELY(!h)) return DS_EINVAL;                                         \
        size_t i;                                                                       \
        ds_status s;                                                                    \
        if (n && !xs) return DS_EINVAL;                                                 \
        if ((s = name##_reserve(h, n)) != DS_OK) return s;                              \
        if (n) memmove(h->data, xs, n * sizeof(T));                                     \
        h->len = n;                                                                     \
        for (i = n / 2; i-- > 0;) name##__down(h->data, n, i);                          \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_update(name *h, size_t i) {                                   \
        if (DS__UNLIKELY(!h)) return DS_EINVAL;                                         \
        if (i >= h->len) return DS_EINVAL;                                              \
        if (i > 0 && name##__less(h->data + i, h->data + (i - 1) / 2))                  \
            name##__up(h->data, i);                                                     \
        else                                                                            \
            name##__down(h->data, h->len, i);                                           \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_remove_at(name *h, size_t i, T *out) {                        \
        if (DS__UNLIKELY(!h)) return DS_EINVAL;                                         \
        if (i >= h->len) return DS_EINVAL;                                              \
        if (out) *out = h->data[i];                                                     \
        h->data[i] = h->data[--h->len];                                                 \
        if (i < h->len) name##_update(h, i);                                            \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK T *name##_first(const name *h) { if (!h) return NULL; return h->len ? h->data : NULL; } \
    LINK T *name##_next(const name *h, T const *it) {                                   \
        if (DS__UNLIKELY(!h)) return NULL;                                              \
        return it + 1 < h->data + h->len ? (T *)(it + 1) : NULL;                        \
    }                                                                                   \
    /* Heap-sort a min-heap of n in place: ends greatest first. */                      \
    static inline void name##__sort_desc(T *d, size_t n) {                              \
        while (n > 1) {                                                                 \
            T t = d[0];                                                                 \
            d[0] = d[--n];                                                              \
            d[n] = t;                                                                   \
            name##__leaf(d, n, 0);                                                      \
        }                                                                               \
    }                                                                                   \
    LINK size_t name##_top_k(T const *xs, size_t n, size_t k, T *out) {                 \
        size_t i, m = 0;                                                                \
        if (!xs || !out || k == 0) return 0;                                            \
        for (i = 0; i < n; i++) {                                                       \
            if (m < k) {                                                                \
                out[m] = xs[i];                                                         \
                name##__up(out, m++);                                                   \
            } else if (name##__less(out, xs + i)) {                                     \
                out[0] = xs[i];                                                         \
                name##__leaf(out, m, 0);                                                \
            }                                                                           \
        }                                                                               \
        name##__sort_desc(out, m);                                                      \
        return m;                                                                       \
    }                                                                                   \
    LINK ds_status name##_topk_init(name##_topk *t, size_t k, const ds_alloc *a) {      \
        if (DS__UNLIKELY(!t)) return DS_EINVAL;                                         \
        name##_init_alloc(&t->heap, a);                                                 \
        t->k = 0;                                                                       \
        if (k == 0) return DS_EINVAL;                                                   \
        t->k = k;                                                                       \
        return name##_reserve(&t->heap, k);                                             \
    }                                                                                   \
    LINK int name##_topk_offer(name##_topk *t, T x, T *evicted, int *did_evict) {       \
        if (DS__UNLIKELY(!t)) return 0;                                                 \
        name *h = &t->heap;                                                             \
        if (did_evict) *did_evict = 0;                                                  \
        if (DS__LIKELY(h->len == t->k)) {                                               \
            if (t->k == 0 || !name##__less(h->data, &x)) return 0;                      \
            if (evicted) *evicted = h->data[0];                                         \
            if (did_evict) *did_evict = 1;                                              \
            h->data[0] = x;                                                             \
            name##__leaf(h->data, h->len, 0);                                           \
            return 1;                                                                   \
        }                                                                               \
        if (h->len >= h->cap) return 0; /* topk_init failed or was not called */        \
        h->data[h->len] = x;                                                            \
        name##__up(h->data, h->len++);                                                  \
        return 1;                                                                       \
    }                                                                                   \
    LINK T const *name##_topk_threshold(const name##_topk *t) {                         \
        if (DS__UNLIKELY(!t)) return NULL;                                              \
        return t->k && t->heap.len == t->k ? t->heap.data : NULL;                       \
    }                                                                                   \
    LINK size_t name##_topk_sorted(const name##_topk *t, T *out) {                      \
        if (DS__UNLIKELY(!t)) return 0;                                                 \
        size_t n = t->heap.len;                                                         \
        if (!out || n == 0) return 0;                                                   \
        memcpy(out, t->heap.data, n * sizeof(T));                                       \
        name##__sort_desc(out, n);                                                      \
        return n;                                                                       \
    }                                                                                   \
    LINK size_t name##_topk_len(const name##_topk *t) { if (!t) return 0; return t->heap.len; } \
    LINK void name##_topk_clear(name##_topk *t) { if (!t) return; t->heap.len = 0; }     \
    LINK void name##_topk_free(name##_topk *t) {                                        \
        if (DS__UNLIKELY(!t)) return;                                                   \
        name##_free(&t->heap);                                                          \
        t->k = 0;                                                                       \
    }

#define DS_HEAP_DECLARE(name, T) \
    DS__HEAP_TYPES(name, T);     \
    DS__HEAP_PROTOS(name, T, extern);
#define DS_HEAP_DEFINE(name, T, less) DS__HEAP_IMPL(name, T, less, )
#define DS_HEAP(name, T, less)                   \
    DS__HEAP_TYPES(name, T);                     \
    DS__HEAP_PROTOS(name, T, DS__LINK_STATIC);   \
    DS__HEAP_IMPL(name, T, less, DS__LINK_STATIC)

/* ========================================================================
 * == ds:map ==  DS_MAP(name, K, V, hash, eq) and DS_SET(name, K, hash, eq)
 * ========================================================================
 * Open addressing in the SwissTable layout (Google's Abseil; also the
 * design of boost::unordered_flat_map): one control byte per slot, holding
 * EMPTY (0), DELETED (1) or an 8-bit tag from the key's hash (2..255, as
 * boost's reduced hash; Abseil keeps 7 bits); slots in aligned
 * groups of 16 (SSE2) or 8 (portable SWAR) probed a group at a time, the
 * group index following the triangular sequence over a power-of-two number
 * of groups. A lookup compares 16 control bytes at once and touches a slot
 * only on a tag match (1/254 false positives: half Abseil's 1/128, which
 * matters because a false positive on a miss costs a cache miss into the
 * slots), so hits cost one control-byte cache line plus one slot line and
 * misses usually just the control line.
 *
 * Why this and not Robin Hood: equal speed on hits, a miss stops at the
 * first group with an EMPTY byte with no distance bookkeeping, and erasing
 * never moves another entry, so pointers and iterators stay valid across
 * del and deleting the current entry while iterating is allowed.
 *
 * Tombstones do not build up: an erased slot in a group that still has an
 * EMPTY byte becomes EMPTY again (no probe ever continued past that group),
 * and only filling an EMPTY slot spends the insert budget. When the budget
 * is spent the table rehashes: at the same size if at most half of the
 * maximum load is live (that purges every tombstone), else at double size.
 * So a churn of del+put at constant size keeps a bounded table.
 *
 * Maximum load factor 7/8. Capacity is 0 or a power of two >= the group
 * width. Memory: capacity * (sizeof(entry) + 1) bytes in one allocation.
 *
 * hash(K key, uint64_t seed) -> uint64_t must mix all 64 bits (the group
 * comes from bits 8 and up, the tag from the low 8): use
 * ds_hash_u64, ds_hash_str, ds_hash_bytes, or your own well-mixed hash.
 * eq(K a, K b) -> nonzero when equal. Both may be functions or macros.
 *
 * Seeds: init/init_alloc draw a per-instance seed from the clock and the
 * table's address, so iteration order differs between runs and instances
 * (HashDoS hardening). init_seed fixes it for reproducible tests.
 *
 *   void   name_init(name *m), name_init_alloc(name *m, const ds_alloc *a)
 *   void   name_init_seed(name *m, const ds_alloc *a, uint64_t seed)
 *   void   name_free(name *m)                    releases memory, re-inits (same seed)
 *   void   name_clear(name *m)                   removes all, keeps capacity
 *   size_t name_len(const name *m), name_capacity(const name *m)
 *   size_t name_memory(const name *m)            bytes allocated
 *   ds_status name_reserve(name *m, size_t n)    room for n without rehash
 *   ds_status name_shrink(name *m)               smallest capacity holding len
 *   V     *name_get(const name *m, K key)        pointer to the value or NULL
 *   int    name_has(const name *m, K key)
 *   ds_status name_put(name *m, K key, V val, int *is_new)
 *          insert or overwrite; *is_new (may be NULL) = 1 if the key was new
 *   ds_status name_insert(name *m, K key, V val)  DS_EEXIST if present (unchanged)
 *   V     *name_get_or_add(name *m, K key, int *is_new)
 *          the value slot for key, added zero-filled if new; NULL on ENOMEM
 *   ds_status name_del(name *m, K key, V *out)   DS_ENOTFOUND; out may be NULL
 *   void   name_del_entry(name *m, name_entry *e) erase what e points at (an
 *          entry from first/next/get_or_add; anything else is ignored)
 *   name_entry *name_first(const name *m), *name_next(const name *m, const name_entry *e)
 *          iteration in table order (DS_FOREACH(name, m, e): e->key, e->val)
 *   DS_SET: the same without V: put(m, key, is_new), insert(m, key), del(m, key),
 *          get returns const K* of the stored key.
 *
 * Complexity: get/put/del expected O(1); reserve/shrink/rehash O(capacity).
 * Errors: DS_ENOMEM (map unchanged: a put that needs to grow allocates the
 * new table before touching the old), DS_EINVAL (size overflow).
 * Pointers to entries stay valid until the next put/insert/get_or_add/
 * reserve/shrink/clear (which may rehash); del never moves other entries. */

#define DS__CTRL_EMPTY ((uint8_t)0)
#define DS__CTRL_DELETED ((uint8_t)1)
#define DS__CTRL_FULL(c) ((c) >= 2)
/* Tag of a full slot: the hash's low byte moved off 0 and 1 (2 and 3 are
 * twice as likely as other tags; harmless). Groups come from h >> 8. */
DS__INLINE uint8_t ds__map_tag(uint64_t h) {
    uint8_t t = (uint8_t)h;
    return (uint8_t)(t < 2 ? t + 2 : t);
}
#define DS__MAP_GROUP(m, h) ((size_t)((h) >> 8) & (m)->gmask)

#if (defined(__SSE2__) || defined(_M_X64) || defined(_M_AMD64)) && !defined(DS_NO_SIMD)
#include <emmintrin.h>
#define DS__GROUP 16
typedef uint32_t ds__bits; /* one bit per slot */
#define DS__BITS_SHIFT 0
DS__INLINE ds__bits ds__grp_match(const uint8_t *g, uint8_t h2) {
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)g);
    return (ds__bits)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8((char)h2)));
}
DS__INLINE ds__bits ds__grp_empty(const uint8_t *g) { return ds__grp_match(g, DS__CTRL_EMPTY); }
/* EMPTY or DELETED: the bytes <= 1, i.e. equal to their min with 1. */
DS__INLINE ds__bits ds__grp_free(const uint8_t *g) {
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)g);
    return (ds__bits)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(c, _mm_set1_epi8(1)), c));
}
#else
/* Portable fallback: 8 control bytes in a word (SWAR); one bit per slot at
 * bit 8*i+7. Little-endian loads keep slot i in byte i. */
#define DS__GROUP 8
typedef uint64_t ds__bits;
#define DS__BITS_SHIFT 3
#define DS__LSB 0x0101010101010101ull
#define DS__MSB 0x8080808080808080ull
DS__INLINE uint64_t ds__grp_load(const uint8_t *g) {
    uint64_t w = 0;
    int i;
    for (i = 7; i >= 0; i--) w = (w << 8) | g[i];
    return w;
}
/* Zero bytes of x. The lowest reported bit is exact; a byte 0x01 just above
 * a zero byte may be reported too (the borrow). */
DS__INLINE uint64_t ds__swar_zero(uint64_t x) { return (x - DS__LSB) & ~x & DS__MSB; }
/* May report a false match above a true one; callers compare keys. */
DS__INLINE ds__bits ds__grp_match(const uint8_t *g, uint8_t h2) {
    return ds__swar_zero(ds__grp_load(g) ^ (DS__LSB * h2));
}
/* Only ever tested for "any EMPTY", which the borrow cannot fake. */
DS__INLINE ds__bits ds__grp_empty(const uint8_t *g) { return ds__swar_zero(ds__grp_load(g)); }
/* Bytes 0 and 1 are the zero bytes once bit 0 is cleared; no byte is then
 * 0x01, so every reported bit is exact. */
DS__INLINE ds__bits ds__grp_free(const uint8_t *g) {
    return ds__swar_zero(ds__grp_load(g) & ~DS__LSB);
}
#endif
#define DS__BITS_FIRST(b) ((size_t)(ds__ctz64((uint64_t)(b)) >> DS__BITS_SHIFT))

/* The type-erased table every DS_MAP/DS_SET wraps. */
typedef struct ds__map {
    uint8_t *ctrl;     /* capacity control bytes; a static EMPTY group when cap == 0 */
    unsigned char *slots;
    size_t gmask;      /* number of groups - 1 */
    size_t cap;        /* slots; 0 before the first insert */
    size_t len;
    size_t growth_left; /* EMPTY slots that may still be filled before a rehash */
    uint64_t seed;
    const ds_alloc *alloc;
} ds__map;

typedef int (*ds__map_eq_fn)(const void *key, const void *entry);
typedef uint64_t (*ds__map_hash_fn)(const void *entry, uint64_t seed);
#define DS__NPOS ((size_t)-1)

/* A shared read-only all-EMPTY group lets lookups on an empty table run
 * the normal path without a NULL check. */
static const uint8_t ds__empty_group[16] = {0};

static inline size_t ds__map_max_load(size_t cap) { return cap - cap / 8; }

static inline void ds__map_init(ds__map *m, const ds_alloc *a, uint64_t seed) {
    m->ctrl = (uint8_t *)(uintptr_t)ds__empty_group;
    m->slots = NULL;
    m->gmask = 0;
    m->cap = m->len = m->growth_left = 0;
    m->seed = seed;
    m->alloc = a;
}
DSDEF uint64_t ds__map_default_seed(uintptr_t addr);

/* Slot index holding key, or DS__NPOS. */
DS__INLINE size_t ds__map_find(const ds__map *m, uint64_t h, const void *key, size_t esz,
                               ds__map_eq_fn eq) {
    size_t g = DS__MAP_GROUP(m, h), step = 0;
    uint8_t h2 = ds__map_tag(h);
    for (;;) {
        const uint8_t *c = m->ctrl + g * DS__GROUP;
        ds__bits b = ds__grp_match(c, h2);
        while (b) {
            size_t i = g * DS__GROUP + DS__BITS_FIRST(b);
            if (DS__LIKELY(eq(key, m->slots + i * esz))) return i;
            b &= b - 1;
        }
        if (DS__LIKELY(ds__grp_empty(c))) return DS__NPOS;
        g = (g + ++step) & m->gmask;
    }
}

/* First EMPTY or DELETED slot on h's probe sequence (one always exists). */
DS__INLINE size_t ds__map_find_free(const ds__map *m, uint64_t h) {
    size_t g = DS__MAP_GROUP(m, h), step = 0;
    for (;;) {
        ds__bits b = ds__grp_free(m->ctrl + g * DS__GROUP);
        if (b) return g * DS__GROUP + DS__BITS_FIRST(b);
        g = (g + ++step) & m->gmask;
    }
}

static inline void ds__map_free(ds__map *m, size_t esz) {
    if (m->cap) DS_FREE(m->alloc, m->ctrl, m->cap * (esz + 1));
    ds__map_init(m, m->alloc, m->seed);
}

static inline void ds__map_clear(ds__map *m) {
    if (!m->cap) return;
    memset(m->ctrl, DS__CTRL_EMPTY, m->cap);
    m->len = 0;
    m->growth_left = ds__map_max_load(m->cap);
}

/* Rehash every entry into a fresh table of new_cap slots (a power of two
 * >= DS__GROUP that holds len). Allocates first: on failure the map is
 * untouched. The hash callback is a constant at each call site, so the
 * compiler can specialise this loop per key type. */
static inline ds_status ds__map_resize(ds__map *m, size_t new_cap, size_t esz,
                                       ds__map_hash_fn hash) {
    size_t bytes, i;
    uint8_t *nctrl;
    ds__map old = *m;
    if (!ds_size_mul(new_cap, esz + 1, &bytes)) return DS_EINVAL;
    nctrl = (uint8_t *)DS_MALLOC(m->alloc, bytes);
    if (!nctrl) return DS_ENOMEM;
    memset(nctrl, DS__CTRL_EMPTY, new_cap);
    m->ctrl = nctrl;
    m->slots = nctrl + new_cap;
    m->cap = new_cap;
    m->gmask = new_cap / DS__GROUP - 1;
    for (i = 0; i < old.cap; i++) {
        if (!DS__CTRL_FULL(old.ctrl[i])) continue;
        {
            const unsigned char *e = old.slots + i * esz;
            uint64_t h = hash(e, m->seed);
            size_t j = ds__map_find_free(m, h);
            m->ctrl[j] = ds__map_tag(h);
            memcpy(m->slots + j * esz, e, esz);
        }
    }
    m->growth_left = ds__map_max_load(new_cap) - m->len;
    if (old.cap) DS_FREE(m->alloc, old.ctrl, old.cap * (esz + 1));
    return DS_OK;
}

/* Capacity needed to hold n entries under the maximum load, or 0 on overflow. */
static inline size_t ds__map_cap_for(size_t n) {
    size_t need = n + n / 7 + 1; /* n / (7/8), rounded up */
    if (need < n) return 0;
    need = ds__pow2_ceil(need < DS__GROUP ? DS__GROUP : need);
    return need;
}

static inline ds_status ds__map_reserve(ds__map *m, size_t n, size_t esz, ds__map_hash_fn hash) {
    size_t cap;
    if (n <= m->len + m->growth_left) return DS_OK;
    cap = ds__map_cap_for(n);
    if (!cap) return DS_EINVAL;
    /* Never shrink here: if tombstones ate the budget, rehash in place. */
    return ds__map_resize(m, cap > m->cap ? cap : m->cap, esz, hash);
}

static inline ds_status ds__map_shrink(ds__map *m, size_t esz, ds__map_hash_fn hash) {
    size_t cap;
    if (m->len == 0) {
        ds__map_free(m, esz);
        return DS_OK;
    }
    cap = ds__map_cap_for(m->len);
    if (cap >= m->cap) return DS_OK;
    return ds__map_resize(m, cap, esz, hash);
}

/* Reserve a slot for a key known to be absent: returns its index with the
 * control byte set and len counted, or DS__NPOS on failure (*st says why).
 * The entry bytes are the caller's to fill. */
static inline size_t ds__map_claim(ds__map *m, uint64_t h, size_t esz, ds__map_hash_fn hash,
                                   ds_status *st) {
    size_t i = ds__map_find_free(m, h);
    if (DS__UNLIKELY(m->growth_left == 0 && m->ctrl[i] == DS__CTRL_EMPTY)) {
        /* Out of budget: purge tombstones at the same size when at most
         * half the maximum load is live, else double. */
        size_t cap = m->cap == 0 ? DS__GROUP : m->cap;
        if (m->len > ds__map_max_load(m->cap) / 2) {
            if (cap > SIZE_MAX / 2) { *st = DS_EINVAL; return DS__NPOS; }
            cap *= 2;
        }
        *st = ds__map_resize(m, cap, esz, hash);
        if (*st != DS_OK) return DS__NPOS;
        i = ds__map_find_free(m, h);
    }
    m->growth_left -= (size_t)(m->ctrl[i] == DS__CTRL_EMPTY);
    m->ctrl[i] = ds__map_tag(h);
    m->len++;
    return i;
}

static inline void ds__map_erase_at(ds__map *m, size_t i) {
    /* If the group still has an EMPTY byte, no probe sequence ever went
     * past it, so the slot can be EMPTY again instead of a tombstone. */
    if (ds__grp_empty(m->ctrl + (i & ~(size_t)(DS__GROUP - 1)))) {
        m->ctrl[i] = DS__CTRL_EMPTY;
        m->growth_left++;
    } else {
        m->ctrl[i] = DS__CTRL_DELETED;
    }
    m->len--;
}

/* Index of the first full slot at or after i, or cap. */
static inline size_t ds__map_scan(const ds__map *m, size_t i) {
    while (i < m->cap && !DS__CTRL_FULL(m->ctrl[i])) i++;
    return i;
}

/* Shared by DS_MAP and DS_SET: everything but the value-facing verbs. */
#define DS__TABLE_COMMON(name, K, hash, eq, LINK)                                       \
    static inline int name##__eq(const void *k, const void *e) {                        \
        return (eq(*(K const *)k, ((const name##_entry *)e)->key)) != 0;                \
    }                                                                                   \
    static inline uint64_t name##__hash(const void *e, uint64_t seed) {                 \
        return hash(((const name##_entry *)e)->key, seed);                              \
    }                                                                                   \
    static inline size_t name##__find(const name *m, K key) {                           \
        return ds__map_find(&m->m, hash(key, m->m.seed), &key, sizeof(name##_entry),    \
                            name##__eq);                                                \
    }                                                                                   \
    static inline name##_entry *name##__slot(const name *m, size_t i) {                 \
        return (name##_entry *)(void *)(m->m.slots + i * sizeof(name##_entry));         \
    }                                                                                   \
    LINK void name##_init_seed(name *m, const ds_alloc *a, uint64_t seed) {             \
        if (DS__UNLIKELY(!m)) return;                                                   \
        ds__map_init(&m->m, a, seed);                                                   \
    }                                                                                   \
    LINK void name##_init_alloc(name *m, const ds_alloc *a) {                           \
        if (DS__UNLIKELY(!m)) return;                                                   \
        ds__map_init(&m->m, a, ds__map_default_seed((uintptr_t)(void *)m));                                \
    }                                                                                   \
    LINK void name##_init(name *m) { name##_init_alloc(m, NULL); }                      \
    LINK void name##_free(name *m) { if (!m) return; ds__map_free(&m->m, sizeof(name##_entry)); } \
    LINK void name##_clear(name *m) { if (!m) return; ds__map_clear(&m->m); }            \
    LINK size_t name##_len(const name *m) { if (!m) return 0; return m->m.len; }         \
    LINK size_t name##_capacity(const name *m) { if (!m) return 0; return m->m.cap; }    \
    LINK size_t name##_memory(const name *m) { if (!m) return 0; return m->m.cap * (sizeof(name##_entry) + 1); } \
    LINK ds_status name##_reserve(name *m, size_t n) {                                  \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        return ds__map_reserve(&m->m, n, sizeof(name##_entry), name##__hash);           \
    }                                                                                   \
    LINK ds_status name##_shrink(name *m) {                                             \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        return ds__map_shrink(&m->m, sizeof(name##_entry), name##__hash);               \
    }                                                                                   \
    LINK int name##_has(const name *m, K key) { if (!m) return 0; return name##__find(m, key) != DS__NPOS; } \
    LINK void name##_del_entry(name *m, name##_entry *e) {                              \
        size_t i;                                                                       \
        if (DS__UNLIKELY(!m || !e || !m->m.cap)) return;                                \
        i = (size_t)(e - name##__slot(m, 0));                                           \
        if (i < m->m.cap && DS__CTRL_FULL(m->m.ctrl[i])) ds__map_erase_at(&m->m, i);         \
    }                                                                                   \
    LINK name##_entry *name##_first(const name *m) {                                    \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        size_t i = ds__map_scan(&m->m, 0);                                              \
        return i < m->m.cap ? name##__slot(m, i) : NULL;                                \
    }                                                                                   \
    LINK name##_entry *name##_next(const name *m, const name##_entry *e) {              \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        size_t i = ds__map_scan(&m->m, (size_t)(e - name##__slot(m, 0)) + 1);           \
        return i < m->m.cap ? name##__slot(m, i) : NULL;                                \
    }                                                                                   \
    /* Slot for an absent key, key stored; NULL on failure. */                          \
    static inline name##_entry *name##__add(name *m, K key, ds_status *st) {            \
        uint64_t h = hash(key, m->m.seed);                                              \
        size_t i = ds__map_claim(&m->m, h, sizeof(name##_entry), name##__hash, st);     \
        name##_entry *e;                                                                \
        if (i == DS__NPOS) return NULL;                                                 \
        e = name##__slot(m, i);                                                         \
        e->key = key;                                                                   \
        return e;                                                                       \
    }

#define DS__TABLE_COMMON_PROTOS(name, K, LINK)                                          \
    LINK void name##_init(name *m);                                                     \
    LINK void name##_init_alloc(name *m, const ds_alloc *a);                            \
    LINK void name##_init_seed(name *m, const ds_alloc *a, uint64_t seed);              \
    LINK void name##_free(name *m);                                                     \
    LINK void name##_clear(name *m);                                                    \
    LINK size_t name##_len(const name *m);                                              \
    LINK size_t name##_capacity(const name *m);                                         \
    LINK size_t name##_memory(const name *m);                                           \
    LINK ds_status name##_reserve(name *m, size_t n);                                   \
    LINK ds_status name##_shrink(name *m);                                              \
    LINK int name##_has(const name *m, K key);                                          \
    LINK void name##_del_entry(name *m, name##_entry *e);                               \
    LINK name##_entry *name##_first(const name *m);                                     \
    LINK name##_entry *name##_next(const name *m, const name##_entry *e)

#define DS__MAP_TYPES(name, K, V)          \
    typedef struct name##_entry {          \
        K key;                             \
        V val;                             \
    } name##_entry;                        \
    typedef struct name {                  \
        ds__map m;                         \
    } name;                                \
    typedef name##_entry *name##_it

#define DS__MAP_PROTOS(name, K, V, LINK)                                      \
    DS__TABLE_COMMON_PROTOS(name, K, LINK);                                   \
    LINK V *name##_get(const name *m, K key);                                 \
    LINK ds_status name##_put(name *m, K key, V val, int *is_new);            \
    LINK ds_status name##_insert(name *m, K key, V val);                      \
    LINK V *name##_get_or_add(name *m, K key, int *is_new);                   \
    LINK ds_status name##_del(name *m, K key, V *out)

#define DS__MAP_IMPL(name, K, V, hash, eq, LINK)                                        \
    DS__TABLE_COMMON(name, K, hash, eq, LINK)                                           \
    LINK V *name##_get(const name *m, K key) {                                          \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        size_t i = name##__find(m, key);                                                \
        return i == DS__NPOS ? NULL : &name##__slot(m, i)->val;                         \
    }                                                                                   \
    LINK ds_status name##_put(name *m, K key, V val, int *is_new) {                     \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        size_t i = name##__find(m, key);                                                \
        ds_status st = DS_OK;                                                           \
        name##_entry *e;                                                                \
        if (i != DS__NPOS) {                                                            \
            name##__slot(m, i)->val = val;                                              \
            if (is_new) *is_new = 0;                                                    \
            return DS_OK;                                                               \
        }                                                                               \
        if (!(e = name##__add(m, key, &st))) return st;                                 \
        e->val = val;                                                                   \
        if (is_new) *is_new = 1;                                                        \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_insert(name *m, K key, V val) {                               \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        ds_status st = DS_OK;                                                           \
        name##_entry *e;                                                                \
        if (name##__find(m, key) != DS__NPOS) return DS_EEXIST;                         \
        if (!(e = name##__add(m, key, &st))) return st;                                 \
        e->val = val;                                                                   \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK V *name##_get_or_add(name *m, K key, int *is_new) {                            \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        size_t i = name##__find(m, key);                                                \
        ds_status st = DS_OK;                                                           \
        name##_entry *e;                                                                \
        if (is_new) *is_new = 0;                                                        \
        if (i != DS__NPOS) return &name##__slot(m, i)->val;                             \
        if (!(e = name##__add(m, key, &st))) return NULL;                               \
        memset((void *)&e->val, 0, sizeof(V));                                          \
        if (is_new) *is_new = 1;                                                        \
        return &e->val;                                                                 \
    }                                                                                   \
    LINK ds_status name##_del(name *m, K key, V *out) {                                 \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        size_t i = name##__find(m, key);                                                \
        if (i == DS__NPOS) return DS_ENOTFOUND;                                         \
        if (out) *out = name##__slot(m, i)->val;                                        \
        ds__map_erase_at(&m->m, i);                                                     \
        return DS_OK;                                                                   \
    }

#define DS__SET_TYPES(name, K)             \
    typedef struct name##_entry {          \
        K key;                             \
    } name##_entry;                        \
    typedef struct name {                  \
        ds__map m;                         \
    } name;                                \
    typedef name##_entry *name##_it

#define DS__SET_PROTOS(name, K, LINK)                                         \
    DS__TABLE_COMMON_PROTOS(name, K, LINK);                                   \
    LINK K const *name##_get(const name *m, K key);                           \
    LINK ds_status name##_put(name *m, K key, int *is_new);                   \
    LINK ds_status name##_insert(name *m, K key);                             \
    LINK ds_status name##_del(name *m, K key)

#define DS__SET_IMPL(name, K, hash, eq, LINK)                                           \
    DS__TABLE_COMMON(name, K, hash, eq, LINK)                                           \
    LINK K const *name##_get(const name *m, K key) {                                    \
        if (DS__UNLIKELY(!m)) return NULL;                                              \
        size_t i = name##__find(m, key);                                                \
        return i == DS__NPOS ? NULL : &name##__slot(m, i)->key;                         \
    }                                                                                   \
    LINK ds_status name##_put(name *m, K key, int *is_new) {                            \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        ds_status st = DS_OK;                                                           \
        if (is_new) *is_new = 0;                                                        \
        if (name##__find(m, key) != DS__NPOS) return DS_OK;                             \
        if (!name##__add(m, key, &st)) return st;                                       \
        if (is_new) *is_new = 1;                                                        \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_insert(name *m, K key) {                                      \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        ds_status st = DS_OK;                                                           \
        if (name##__find(m, key) != DS__NPOS) return DS_EEXIST;                         \
        return name##__add(m, key, &st) ? DS_OK : st;                                   \
    }                                                                                   \
    LINK ds_status name##_del(name *m, K key) {                                         \
        if (DS__UNLIKELY(!m)) return DS_EINVAL;                                         \
        size_t i = name##__find(m, key);                                                \
        if (i == DS__NPOS) return DS_ENOTFOUND;                                         \
        ds__map_erase_at(&m->m, i);                                                     \
        return DS_OK;                                                                   \
    }

#define DS_MAP_DECLARE(name, K, V) \
    DS__MAP_TYPES(name, K, V);     \
    DS__MAP_PROTOS(name, K, V, extern);
#define DS_MAP_DEFINE(name, K, V, hash, eq) DS__MAP_IMPL(name, K, V, hash, eq, )
#define DS_MAP(name, K, V, hash, eq)                  \
    DS__MAP_TYPES(name, K, V);                        \
    DS__MAP_PROTOS(name, K, V, DS__LINK_STATIC);      \
    DS__MAP_IMPL(name, K, V, hash, eq, DS__LINK_STATIC)

#define DS_SET_DECLARE(name, K) \
    DS__SET_TYPES(name, K);     \
    DS__SET_PROTOS(name, K, extern);
#define DS_SET_DEFINE(name, K, hash, eq) DS__SET_IMPL(name, K, hash, eq, )
#define DS_SET(name, K, hash, eq)                 \
    DS__SET_TYPES(name, K);                       \
    DS__SET_PROTOS(name, K, DS__LINK_STATIC);     \
    DS__SET_IMPL(name, K, hash, eq, DS__LINK_STATIC)

/* ========================================================================
 * == ds:btree ==  DS_BTREE(name, K, V, cmp): in-memory B+tree
 * ========================================================================
 * An ordered map. Leaves hold up to ~256 bytes of keys and values (so a
 * leaf search touches a few cache lines, not one per level as a binary
 * tree does) and are linked both ways for iteration; inner nodes hold up to
 * ~256 bytes of separators and child pointers. cmp(a, b) returns <0, 0 or
 * >0 (a function or macro; ds_cmp_u64-style helpers below).
 *
 * Keys appended in increasing order take a fast path: straight into the
 * last leaf, and a full last leaf splits off just the new key, so
 * sequential loads fill leaves completely (O(1) amortised per append).
 *
 *   void   name_init(name *t), name_init_alloc(name *t, const ds_alloc *a)
 *   void   name_free(name *t), name_clear(name *t)
 *   size_t name_len(const name *t), name_memory(const name *t)
 *   V     *name_get(const name *t, K key)           NULL if absent
 *   int    name_has(const name *t, K key)
 *   ds_status name_put(name *t, K key, V val, int *is_new)   insert or replace
 *   ds_status name_insert(name *t, K key, V val)    DS_EEXIST if present
 *   ds_status name_del(name *t, K key, V *out)      DS_ENOTFOUND
 *   ds_status name_pop_first(name *t, K *key, V *val), name_pop_last   DS_EEMPTY
 *   ds_status name_bulk_load(name *t, K const *keys, V const *vals, size_t n)
 *          into an empty tree, keys strictly increasing (else DS_EINVAL);
 *          O(n), leaves full
 *   iterators (name_it: a leaf and a slot; valid until the next change):
 *   name_it name_first(t), name_last(t)
 *   name_it name_lower_bound(t, key)   first key >= key (also "ceil")
 *   name_it name_upper_bound(t, key)   first key >  key
 *   name_it name_floor(t, key)         last key <= key
 *   int    name_it_valid(it); name_it name_it_next(it), name_it_prev(it)
 *   K *name_it_key(it); V *name_it_val(it)
 *   ds_status name_save(const name *t, ds_writer w), name_load(name *t, ds_reader *r, const ds_alloc *a)
 *          keys and values as raw bytes (plain data without pointers); load
 *          checks sizes, key order (with cmp) and the checksum: DS_ECORRUPT
 *   Range [lo, hi): for (it = name_lower_bound(t, lo); name_it_valid(it) &&
 *          cmp(*name_it_key(it), hi) < 0; it = name_it_next(it))
 *
 * Complexity: get/put/del O(log n); appends in order O(1) amortised;
 * iteration O(1) per step; bulk_load O(n). Errors: DS_ENOMEM (tree
 * unchanged: a put allocates every node a split chain needs before it
 * touches the tree), DS_EINVAL. Thread-safety: as DS_MAP. */

static inline int ds_cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }
static inline int ds_cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }
static inline int ds_cmp_u32(uint32_t a, uint32_t b) { return (a > b) - (a < b); }
static inline int ds_cmp_str(const char *a, const char *b) { return strcmp(a, b); }

#define DS__BT_CAP(bytes_each) ((256 / (bytes_each)) < 4 ? 4 : (256 / (bytes_each)) > 128 ? 128 : (256 / (bytes_each)))
#define DS__BT_MAXH 40 /* far above any height a 64-bit address space allows */

#define DS__BTREE_TYPES(name, K, V)                                                     \
    enum { name##__LCAP = (int)DS__BT_CAP(sizeof(K) + sizeof(V)),                       \
           name##__ICAP = (int)DS__BT_CAP(sizeof(K) + sizeof(void *)) };                \
    typedef struct name##__leaf {                                                       \
        struct name##__leaf *prev, *next;                                               \
        unsigned n;                                                                     \
        K keys[name##__LCAP];                                                           \
        V vals[name##__LCAP];                                                           \
    } name##__leaf;                                                                     \
    typedef struct name##__inner {                                                      \
        unsigned n; /* separators; n + 1 children */                                    \
        K keys[name##__ICAP];                                                           \
        void *kids[name##__ICAP + 1];                                                   \
    } name##__inner;                                                                    \
    typedef struct name {                                                               \
        void *root; /* a leaf when height == 0 */                                       \
        unsigned height;                                                                \
        size_t len, leaves, inners;                                                     \
        name##__leaf *head, *tail;                                                      \
        const ds_alloc *alloc;                                                          \
    } name;                                                                             \
    typedef struct name##_it {                                                          \
        name##__leaf *leaf;                                                             \
        unsigned i;                                                                     \
    } name##_it

#define DS__BTREE_PROTOS(name, K, V, LINK)                                              \
    LINK void name##_init(name *t);                                                     \
    LINK void name##_init_alloc(name *t, const ds_alloc *a);                            \
    LINK void name##_free(name *t);                                                     \
    LINK void name##_clear(name *t);                                                    \
    LINK size_t name##_len(const name *t);                                              \
    LINK size_t name##_memory(const name *t);                                           \
    LINK V *name##_get(const name *t, K key);                                           \
    LINK int name##_has(const name *t, K key);                                          \
    LINK ds_status name##_put(name *t, K key, V val, int *is_new);                      \
    LINK ds_status name##_insert(name *t, K key, V val);                                \
    LINK ds_status name##_del(name *t, K key, V *out);                                  \
    LINK ds_status name##_pop_first(name *t, K *key, V *val);                           \
    LINK ds_status name##_pop_last(name *t, K *key, V *val);                            \
    LINK ds_status name##_bulk_load(name *t, K const *keys, V const *vals, size_t n);   \
    LINK name##_it name##_first(const name *t);                                         \
    LINK name##_it name##_last(const name *t);                                          \
    LINK name##_it name##_lower_bound(const name *t, K key);                            \
    LINK name##_it name##_upper_bound(const name *t, K key);                            \
    LINK name##_it name##_floor(const name *t, K key);                                  \
    LINK int name##_it_valid(name##_it it);                                             \
    LINK name##_it name##_it_next(name##_it it);                                        \
    LINK name##_it name##_it_prev(name##_it it);                                        \
    LINK K *name##_it_key(name##_it it);                                                \
    LINK V *name##_it_val(name##_it it);                                                \
    LINK ds_status name##_save(const name *t, ds_writer w);                             \
    LINK ds_status name##_load(name *t, ds_reader *r, const ds_alloc *a)

#define DS__BTREE_IMPL(name, K, V, cmp, LINK)                                           \
    /* First slot whose key is >= key (le == 0) or > key (le == 1). */                 \
    static inline unsigned name##__lsearch(const name##__leaf *l, K key, int le) {      \
        unsigned lo = 0, hi = l->n;                                                     \
        while (lo < hi) {                                                               \
            unsigned mid = (lo + hi) / 2;                                               \
            int c = cmp(l->keys[mid], key);                                             \
            if (c < 0 || (le && c == 0)) lo = mid + 1; else hi = mid;                   \
        }                                                                               \
        return lo;                                                                      \
    }                                                                                   \
    /* Child to descend into: the number of separators <= key. */                      \
    static inline unsigned name##__isearch(const name##__inner *in, K key) {            \
        unsigned lo = 0, hi = in->n;                                                    \
        while (lo < hi) {                                                               \
            unsigned mid = (lo + hi) / 2;                                               \
            if (cmp(in->keys[mid], key) <= 0) lo = mid + 1; else hi = mid;              \
        }                                                                               \
        return lo;                                                                      \
    }                                                                                   \
    /* The leaf that holds (or would hold) key, with the path to it. */                \
    static inline name##__leaf *name##__descend(const name *t, K key, name##__inner **path, \
                                                unsigned *idx) {                        \
        void *n = t->root;                                                              \
        unsigned h;                                                                     \
        for (h = 0; h < t->height; h++) {                                               \
            name##__inner *in = (name##__inner *)n;                                     \
            unsigned c = name##__isearch(in, key);                                      \
            if (path) {                                                                 \
                path[h] = in;                                                           \
                idx[h] = c;                                                             \
            }                                                                           \
            n = in->kids[c];                                                            \
        }                                                                               \
        return (name##__leaf *)n;                                                       \
    }                                                                                   \
    static inline void *name##__alloc(name *t, size_t sz) { return DS_MALLOC(t->alloc, sz); } \
    LINK void name##_init_alloc(name *t, const ds_alloc *a) {                           \
        if (!t) return;                                                                 \
        memset(t, 0, sizeof *t);                                                        \
        t->alloc = a;                                                                   \
    }                                                                                   \
    LINK void name##_init(name *t) { name##_init_alloc(t, NULL); }                      \
    static void name##__free_node(name *t, void *n, unsigned h) {                       \
        if (h) {                                                                        \
            name##__inner *in = (name##__inner *)n;                                     \
            unsigned i;                                                                 \
            for (i = 0; i <= in->n; i++) name##__free_node(t, in->kids[i], h - 1);      \
            DS_FREE(t->alloc, in, sizeof *in);                                          \
        } else {                                                                        \
            DS_FREE(t->alloc, n, sizeof(name##__leaf));                                 \
        }                                                                               \
    }                                                                                   \
    LINK void name##_clear(name *t) {                                                   \
        if (!t) return;                                                                 \
        if (t->root) name##__free_node(t, t->root, t->height);                          \
        name##_init_alloc(t, t->alloc);                                                 \
    }                                                                                   \
    LINK void name##_free(name *t) { name##_clear(t); }                                 \
    LINK size_t name##_len(const name *t) { return t ? t->len : 0; }                    \
    LINK size_t name##_memory(const name *t) {                                          \
        return t ? t->leaves * sizeof(name##__leaf) + t->inners * sizeof(name##__inner) : 0; \
    }                                                                                   \
    LINK V *name##_get(const name *t, K key) {                                          \
        name##__leaf *l;                                                                \
        unsigned i;                                                                     \
        if (!t || !t->root) return NULL;                                                \
        l = name##__descend(t, key, NULL, NULL);                                        \
        i = name##__lsearch(l, key, 0);                                                 \
        return i < l->n && cmp(l->keys[i], key) == 0 ? &l->vals[i] : NULL;              \
    }                                                                                   \
    LINK int name##_has(const name *t, K key) { return name##_get(t, key) != NULL; }   \
    /* Insert (key, val) at slot i of leaf l, which has room. */                       \
    static inline void name##__leaf_ins(name##__leaf *l, unsigned i, K key, V val) {    \
        memmove(&l->keys[i + 1], &l->keys[i], (l->n - i) * sizeof(K));                  \
        memmove(&l->vals[i + 1], &l->vals[i], (l->n - i) * sizeof(V));                  \
        l->keys[i] = key;                                                               \
        l->vals[i] = val;                                                               \
        l->n++;                                                                         \
    }                                                                                   \
    static ds_status name##__put(name *t, K key, V val, int *is_new, int replace) {     \
        name##__inner *path[DS__BT_MAXH], *spare_in[DS__BT_MAXH + 1];                   \
        unsigned idx[DS__BT_MAXH], i, h, need_in = 0, k;                                \
        name##__leaf *l, *nl;                                                           \
        K sep;                                                                          \
        void *right;                                                                    \
        if (is_new) *is_new = 0;                                                        \
        if (!t) return DS_EINVAL;                                                       \
        if (!t->root) {                                                                 \
            l = (name##__leaf *)name##__alloc(t, sizeof *l);                            \
            if (!l) return DS_ENOMEM;                                                   \
            l->prev = l->next = NULL;                                                   \
            l->n = 0;                                                                   \
            t->root = t->head = t->tail = l;                                            \
            t->leaves = 1;                                                              \
        }                                                                               \
        /* Appending in order: straight into the last leaf if it has room. */          \
        l = t->tail;                                                                    \
        if (l->n < ((unsigned)name##__LCAP) && (l->n == 0 || cmp(l->keys[l->n - 1], key) < 0) &&    \
            (l->n || t->len == 0)) {                                                    \
            l->keys[l->n] = key;                                                        \
            l->vals[l->n++] = val;                                                      \
            t->len++;                                                                   \
            if (is_new) *is_new = 1;                                                    \
            return DS_OK;                                                               \
        }                                                                               \
        l = name##__descend(t, key, path, idx);                                         \
        i = name##__lsearch(l, key, 0);                                                 \
        if (i < l->n && cmp(l->keys[i], key) == 0) {                                    \
            if (!replace) return DS_EEXIST;                                             \
            l->keys[i] = key;                                                           \
            l->vals[i] = val;                                                           \
            return DS_OK;                                                               \
        }                                                                               \
        if (l->n < ((unsigned)name##__LCAP)) {                                                      \
            name##__leaf_ins(l, i, key, val);                                           \
            t->len++;                                                                   \
            if (is_new) *is_new = 1;                                                    \
            return DS_OK;                                                               \
        }                                                                               \
        /* A split chain: a new leaf, a new inner node for every full ancestor,   \
         * and a new root if they are all full. All allocated up front. */             \
        for (h = t->height; h > 0 && path[h - 1]->n == ((unsigned)name##__ICAP); h--) need_in++;    \
        if (h == 0) need_in++; /* the root splits: one more for the new root */         \
        nl = (name##__leaf *)name##__alloc(t, sizeof *nl);                              \
        for (k = 0; nl && k < need_in; k++)                                             \
            if (!(spare_in[k] = (name##__inner *)name##__alloc(t, sizeof(name##__inner)))) break; \
        if (!nl || k < need_in) {                                                       \
            while (k-- > 0) DS_FREE(t->alloc, spare_in[k], sizeof(name##__inner));      \
            if (nl) DS_FREE(t->alloc, nl, sizeof *nl);                                  \
            return DS_ENOMEM;                                                           \
        }                                                                               \
        /* Split the leaf. At the very end of the last leaf (in-order loads), */       \
        /* only the new key moves right, so leaves stay full. */                       \
        if (l == t->tail && i == l->n) {                                                \
            nl->n = 0;                                                                  \
            nl->keys[0] = key;                                                          \
            nl->vals[0] = val;                                                          \
            nl->n = 1;                                                                  \
        } else {                                                                        \
            unsigned half = ((unsigned)name##__LCAP + 1) / 2;                                 \
            if (i < half) { /* new key goes left */                                     \
                nl->n = l->n - (half - 1);                                              \
                memcpy(nl->keys, &l->keys[half - 1], nl->n * sizeof(K));                \
                memcpy(nl->vals, &l->vals[half - 1], nl->n * sizeof(V));                \
                l->n = half - 1;                                                        \
                name##__leaf_ins(l, i, key, val);                                       \
            } else {                                                                    \
                nl->n = l->n - half;                                                    \
                memcpy(nl->keys, &l->keys[half], nl->n * sizeof(K));                    \
                memcpy(nl->vals, &l->vals[half], nl->n * sizeof(V));                    \
                l->n = half;                                                            \
                name##__leaf_ins(nl, i - half, key, val);                               \
            }                                                                           \
        }                                                                               \
        nl->prev = l;                                                                   \
        nl->next = l->next;                                                             \
        if (l->next) l->next->prev = nl; else t->tail = nl;                             \
        l->next = nl;                                                                   \
        t->leaves++;                                                                    \
        t->len++;                                                                       \
        if (is_new) *is_new = 1;                                                        \
        sep = nl->keys[0];                                                              \
        right = nl;                                                                     \
        k = 0;                                                                          \
        /* Push (sep, right) up the path, splitting full inner nodes. */                \
        for (h = t->height; h > 0; h--) {                                               \
            name##__inner *in = path[h - 1], *ni;                                       \
            unsigned c = idx[h - 1], m, j;                                              \
            K tk[name##__ICAP + 1];                                                     \
            void *tc[name##__ICAP + 2];                                                 \
            if (in->n < ((unsigned)name##__ICAP)) {                                                 \
                memmove(&in->keys[c + 1], &in->keys[c], (in->n - c) * sizeof(K));       \
                memmove(&in->kids[c + 2], &in->kids[c + 1], (in->n - c) * sizeof(void *)); \
                in->keys[c] = sep;                                                      \
                in->kids[c + 1] = right;                                                \
                in->n++;                                                                \
                return DS_OK;                                                           \
            }                                                                           \
            for (j = 0; j < c; j++) tk[j] = in->keys[j];                                \
            tk[c] = sep;                                                                \
            for (j = c; j < in->n; j++) tk[j + 1] = in->keys[j];                        \
            for (j = 0; j <= c; j++) tc[j] = in->kids[j];                               \
            tc[c + 1] = right;                                                          \
            for (j = c + 1; j <= in->n; j++) tc[j + 1] = in->kids[j];                   \
            m = ((unsigned)name##__ICAP + 1) / 2; /* tk[m] moves up */                        \
            ni = spare_in[k++];                                                         \
            t->inners++;                                                                \
            in->n = m;                                                                  \
            for (j = 0; j < m; j++) in->keys[j] = tk[j];                                \
            for (j = 0; j <= m; j++) in->kids[j] = tc[j];                               \
            ni->n = ((unsigned)name##__ICAP) - m;                                                   \
            for (j = 0; j < ni->n; j++) ni->keys[j] = tk[m + 1 + j];                    \
            for (j = 0; j <= ni->n; j++) ni->kids[j] = tc[m + 1 + j];                   \
            sep = tk[m];                                                                \
            right = ni;                                                                 \
        }                                                                               \
        { /* the root split: a new root above */                                        \
            name##__inner *r = spare_in[k++];                                           \
            t->inners++;                                                                \
            r->n = 1;                                                                   \
            r->keys[0] = sep;                                                           \
            r->kids[0] = t->root;                                                       \
            r->kids[1] = right;                                                         \
            t->root = r;                                                                \
            t->height++;                                                                \
        }                                                                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_put(name *t, K key, V val, int *is_new) {                     \
        return name##__put(t, key, val, is_new, 1);                                     \
    }                                                                                   \
    LINK ds_status name##_insert(name *t, K key, V val) {                               \
        return name##__put(t, key, val, NULL, 0);                                       \
    }                                                                                   \
    /* Remove separator c and child c + 1 from in. */                                   \
    static inline void name##__in_remove(name##__inner *in, unsigned c) {               \
        memmove(&in->keys[c], &in->keys[c + 1], (in->n - c - 1) * sizeof(K));           \
        memmove(&in->kids[c + 1], &in->kids[c + 2], (in->n - c - 1) * sizeof(void *));  \
        in->n--;                                                                        \
    }                                                                                   \
    /* Rebalance inner node path[h] (below its minimum) against a sibling. */          \
    static void name##__fix_inner(name *t, name##__inner **path, unsigned *idx, unsigned h) { \
        const unsigned mini = ((unsigned)name##__ICAP) / 2;                                         \
        while (h > 0 && path[h]->n < mini) {                                            \
            name##__inner *in = path[h], *p = path[h - 1], *ls, *rs;                    \
            unsigned c = idx[h - 1], j;                                                 \
            ls = c > 0 ? (name##__inner *)p->kids[c - 1] : NULL;                        \
            rs = c < p->n ? (name##__inner *)p->kids[c + 1] : NULL;                     \
            if (ls && ls->n > mini) { /* rotate one from the left */                    \
                memmove(&in->keys[1], &in->keys[0], in->n * sizeof(K));                 \
                memmove(&in->kids[1], &in->kids[0], (in->n + 1) * sizeof(void *));     \
                in->keys[0] = p->keys[c - 1];                                           \
                in->kids[0] = ls->kids[ls->n];                                          \
                p->keys[c - 1] = ls->keys[ls->n - 1];                                   \
                ls->n--;                                                                \
                in->n++;                                                                \
                return;                                                                 \
            }                                                                           \
            if (rs && rs->n > mini) { /* rotate one from the right */                   \
                in->keys[in->n] = p->keys[c];                                           \
                in->kids[in->n + 1] = rs->kids[0];                                      \
                p->keys[c] = rs->keys[0];                                               \
                memmove(&rs->keys[0], &rs->keys[1], (rs->n - 1) * sizeof(K));           \
                memmove(&rs->kids[0], &rs->kids[1], rs->n * sizeof(void *));            \
                rs->n--;                                                                \
                in->n++;                                                                \
                return;                                                                 \
            }                                                                           \
            if (!ls && !rs) break; /* an only child: nothing to balance with */         \
            if (ls) { /* merge in into ls */                                            \
                ls->keys[ls->n] = p->keys[c - 1];                                       \
                for (j = 0; j < in->n; j++) ls->keys[ls->n + 1 + j] = in->keys[j];      \
                for (j = 0; j <= in->n; j++) ls->kids[ls->n + 1 + j] = in->kids[j];     \
                ls->n += in->n + 1;                                                     \
                DS_FREE(t->alloc, in, sizeof *in);                                      \
                name##__in_remove(p, c - 1);                                         \
            } else { /* merge rs into in */                                             \
                in->keys[in->n] = p->keys[c];                                           \
                for (j = 0; j < rs->n; j++) in->keys[in->n + 1 + j] = rs->keys[j];      \
                for (j = 0; j <= rs->n; j++) in->kids[in->n + 1 + j] = rs->kids[j];     \
                in->n += rs->n + 1;                                                     \
                DS_FREE(t->alloc, rs, sizeof *rs);                                      \
                name##__in_remove(p, c);                                             \
            }                                                                           \
            t->inners--;                                                                \
            h--;                                                                        \
        }                                                                               \
        if (h == 0 && t->height > 0 && path[0]->n == 0) { /* the root lost its last key */ \
            t->root = path[0]->kids[0];                                                 \
            DS_FREE(t->alloc, path[0], sizeof(name##__inner));                          \
            t->inners--;                                                                \
            t->height--;                                                                \
        }                                                                               \
    }                                                                                   \
    static void name##__unlink_leaf(name *t, name##__leaf *l) {                         \
        if (l->prev) l->prev->next = l->next; else t->head = l->next;                   \
        if (l->next) l->next->prev = l->prev; else t->tail = l->prev;                   \
        DS_FREE(t->alloc, l, sizeof *l);                                                \
        t->leaves--;                                                                    \
    }                                                                                   \
    LINK ds_status name##_del(name *t, K key, V *out) {                                 \
        name##__inner *path[DS__BT_MAXH];                                               \
        unsigned idx[DS__BT_MAXH], i, h;                                                \
        const unsigned minl = ((unsigned)name##__LCAP) / 2;                                         \
        name##__leaf *l;                                                                \
        if (!t) return DS_EINVAL;                                                       \
        if (!t->root) return DS_ENOTFOUND;                                              \
        l = name##__descend(t, key, path, idx);                                         \
        i = name##__lsearch(l, key, 0);                                                 \
        if (i >= l->n || cmp(l->keys[i], key) != 0) return DS_ENOTFOUND;               \
        if (out) *out = l->vals[i];                                                     \
        memmove(&l->keys[i], &l->keys[i + 1], (l->n - i - 1) * sizeof(K));             \
        memmove(&l->vals[i], &l->vals[i + 1], (l->n - i - 1) * sizeof(V));              \
        l->n--;                                                                         \
        t->len--;                                                                       \
        h = t->height;                                                                  \
        if (h == 0) { /* the root leaf */                                               \
            if (l->n == 0) name##_clear(t);                                             \
            return DS_OK;                                                               \
        }                                                                               \
        if (l->n >= minl) return DS_OK;                                                 \
        {                                                                               \
            name##__inner *p = path[h - 1];                                             \
            unsigned c = idx[h - 1];                                                    \
            name##__leaf *ls = c > 0 ? (name##__leaf *)p->kids[c - 1] : NULL;           \
            name##__leaf *rs = c < p->n ? (name##__leaf *)p->kids[c + 1] : NULL;        \
            if (ls && ls->n > minl) { /* borrow the left sibling's last */              \
                name##__leaf_ins(l, 0, ls->keys[ls->n - 1], ls->vals[ls->n - 1]);       \
                ls->n--;                                                                \
                p->keys[c - 1] = l->keys[0];                                            \
                return DS_OK;                                                           \
            }                                                                           \
            if (rs && rs->n > minl) { /* borrow the right sibling's first */            \
                l->keys[l->n] = rs->keys[0];                                            \
                l->vals[l->n++] = rs->vals[0];                                          \
                memmove(&rs->keys[0], &rs->keys[1], (rs->n - 1) * sizeof(K));           \
                memmove(&rs->vals[0], &rs->vals[1], (rs->n - 1) * sizeof(V));           \
                rs->n--;                                                                \
                p->keys[c] = rs->keys[0];                                               \
                return DS_OK;                                                           \
            }                                                                           \
            if (!ls && !rs) return DS_OK; /* an only child: nothing to balance with */ \
            if (ls) { /* merge l into ls */                                             \
                memcpy(&ls->keys[ls->n], l->keys, l->n * sizeof(K));                    \
                memcpy(&ls->vals[ls->n], l->vals, l->n * sizeof(V));                    \
                ls->n += l->n;                                                          \
                name##__unlink_leaf(t, l);                                              \
                name##__in_remove(p, c - 1);                                         \
            } else { /* merge rs into l */                                              \
                memcpy(&l->keys[l->n], rs->keys, rs->n * sizeof(K));                    \
                memcpy(&l->vals[l->n], rs->vals, rs->n * sizeof(V));                    \
                l->n += rs->n;                                                          \
                name##__unlink_leaf(t, rs);                                             \
                name##__in_remove(p, c);                                             \
            }                                                                           \
            name##__fix_inner(t, path, idx, h - 1);                                     \
        }                                                                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_pop_first(name *t, K *key, V *val) {                          \
        K k;                                                                            \
        if (!t) return DS_EINVAL;                                                       \
        if (!t->len) return DS_EEMPTY;                                                  \
        k = t->head->keys[0];                                                           \
        if (key) *key = k;                                                              \
        return name##_del(t, k, val);                                                   \
    }                                                                                   \
    LINK ds_status name##_pop_last(name *t, K *key, V *val) {                           \
        K k;                                                                            \
        if (!t) return DS_EINVAL;                                                       \
        if (!t->len) return DS_EEMPTY;                                                  \
        k = t->tail->keys[t->tail->n - 1];                                              \
        if (key) *key = k;                                                              \
        return name##_del(t, k, val);                                                   \
    }                                                                                   \
    LINK ds_status name##_bulk_load(name *t, K const *keys, V const *vals, size_t n) {  \
        size_t i, nl, ni = 0, lv, w, used = 0, total;                                   \
        void **nodes = NULL;                                                            \
        K *mins = NULL;                                                                 \
        name##__leaf *prev = NULL;                                                      \
        const size_t fan = (size_t)((unsigned)name##__ICAP) + 1, lcap = (size_t)((unsigned)name##__LCAP);       \
        if (!t || t->len || (n && (!keys || !vals))) return DS_EINVAL;                  \
        for (i = 1; i < n; i++)                                                         \
            if (cmp(keys[i - 1], keys[i]) >= 0) return DS_EINVAL;                       \
        if (n == 0) return DS_OK;                                                       \
        /* Count every node first and allocate them all: a failure leaves t as  */     \
        /* it was, and building cannot fail halfway. */                                 \
        nl = (n + lcap - 1) / lcap;                                                     \
        for (lv = nl; lv > 1; lv = (lv + fan - 1) / fan) ni += (lv + fan - 1) / fan;    \
        total = nl + ni;                                                                \
        nodes = (void **)DS_MALLOC(t->alloc, total * sizeof(void *));                   \
        mins = (K *)DS_MALLOC(t->alloc, nl * sizeof(K));                                \
        if (nodes && mins)                                                              \
            for (used = 0; used < total; used++)                                        \
                if (!(nodes[used] = name##__alloc(t, used < nl ? sizeof(name##__leaf) : sizeof(name##__inner)))) \
                    break;                                                              \
        if (!nodes || !mins || used < total) {                                          \
            while (used-- > 0)                                                          \
                DS_FREE(t->alloc, nodes[used], used < nl ? sizeof(name##__leaf) : sizeof(name##__inner)); \
            if (nodes) DS_FREE(t->alloc, nodes, total * sizeof(void *));                \
            if (mins) DS_FREE(t->alloc, mins, nl * sizeof(K));                          \
            return DS_ENOMEM;                                                           \
        }                                                                               \
        for (i = 0; i < nl; i++) { /* full leaves, left to right */                     \
            name##__leaf *l = (name##__leaf *)nodes[i];                                 \
            size_t from = i * lcap, cnt = n - from < lcap ? n - from : lcap;            \
            memcpy(l->keys, keys + from, cnt * sizeof(K));                              \
            memcpy(l->vals, vals + from, cnt * sizeof(V));                              \
            l->n = (unsigned)cnt;                                                       \
            l->prev = prev;                                                             \
            l->next = NULL;                                                             \
            if (prev) prev->next = l; else t->head = l;                                 \
            prev = l;                                                                   \
            mins[i] = l->keys[0];                                                       \
        }                                                                               \
        t->tail = prev;                                                                 \
        t->leaves = nl;                                                                 \
        t->inners = ni;                                                                 \
        t->height = 0;                                                                  \
        /* Levels of inner nodes: nodes[base .. base + lv) is the level below. */       \
        {                                                                               \
            size_t base = 0, next = nl;                                                 \
            for (lv = nl; lv > 1; lv = w) {                                             \
                size_t j;                                                               \
                w = (lv + fan - 1) / fan;                                               \
                for (j = 0; j < w; j++) { /* children spread evenly: >= 2 each */      \
                    name##__inner *in = (name##__inner *)nodes[next + j];               \
                    size_t from = j * lv / w, c, cnt = (j + 1) * lv / w - from;         \
                    for (c = 0; c < cnt; c++) {                                         \
                        in->kids[c] = nodes[base + from + c];                           \
                        if (c) in->keys[c - 1] = mins[from + c];                        \
                    }                                                                   \
                    in->n = (unsigned)(cnt - 1);                                        \
                    mins[j] = mins[from];                                               \
                }                                                                       \
                base = next;                                                            \
                next += w;                                                              \
                t->height++;                                                            \
            }                                                                           \
            t->root = nodes[base];                                                      \
        }                                                                               \
        t->len = n;                                                                     \
        DS_FREE(t->alloc, nodes, total * sizeof(void *));                               \
        DS_FREE(t->alloc, mins, nl * sizeof(K));                                        \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK name##_it name##_first(const name *t) {                                        \
        name##_it it;                                                                   \
        it.leaf = t && t->len ? t->head : NULL;                                         \
        it.i = 0;                                                                       \
        return it;                                                                      \
    }                                                                                   \
    LINK name##_it name##_last(const name *t) {                                         \
        name##_it it;                                                                   \
        it.leaf = t && t->len ? t->tail : NULL;                                         \
        it.i = it.leaf ? it.leaf->n - 1 : 0;                                            \
        return it;                                                                      \
    }                                                                                   \
    /* Normalise: slot == n means "first of the next leaf". */                         \
    static inline name##_it name##__it_fix(name##__leaf *l, unsigned i) {               \
        name##_it it;                                                                   \
        while (l && i >= l->n) {                                                        \
            l = l->next;                                                                \
            i = 0;                                                                      \
        }                                                                               \
        it.leaf = l;                                                                    \
        it.i = i;                                                                       \
        return it;                                                                      \
    }                                                                                   \
    LINK name##_it name##_lower_bound(const name *t, K key) {                           \
        name##__leaf *l;                                                                \
        if (!t || !t->len) return name##__it_fix(NULL, 0);                              \
        l = name##__descend(t, key, NULL, NULL);                                        \
        return name##__it_fix(l, name##__lsearch(l, key, 0));                           \
    }                                                                                   \
    LINK name##_it name##_upper_bound(const name *t, K key) {                           \
        name##__leaf *l;                                                                \
        if (!t || !t->len) return name##__it_fix(NULL, 0);                              \
        l = name##__descend(t, key, NULL, NULL);                                        \
        return name##__it_fix(l, name##__lsearch(l, key, 1));                           \
    }                                                                                   \
    LINK int name##_it_valid(name##_it it) { return it.leaf != NULL; }                  \
    LINK name##_it name##_it_next(name##_it it) {                                       \
        if (!it.leaf) return it;                                                        \
        return name##__it_fix(it.leaf, it.i + 1);                                       \
    }                                                                                   \
    LINK name##_it name##_it_prev(name##_it it) {                                       \
        if (!it.leaf) return it;                                                        \
        if (it.i > 0) {                                                                 \
            it.i--;                                                                     \
            return it;                                                                  \
        }                                                                               \
        it.leaf = it.leaf->prev;                                                        \
        while (it.leaf && it.leaf->n == 0) it.leaf = it.leaf->prev;                     \
        it.i = it.leaf ? it.leaf->n - 1 : 0;                                            \
        return it;                                                                      \
    }                                                                                   \
    LINK name##_it name##_floor(const name *t, K key) {                                 \
        name##_it it = name##_upper_bound(t, key);                                      \
        if (it.leaf) return name##_it_prev(it);                                         \
        return name##_last(t); /* every key <= key */                                   \
    }                                                                                   \
    LINK K *name##_it_key(name##_it it) { return it.leaf ? &it.leaf->keys[it.i] : NULL; } \
    LINK V *name##_it_val(name##_it it) { return it.leaf ? &it.leaf->vals[it.i] : NULL; } \
    LINK ds_status name##_save(const name *t, ds_writer w) {                            \
        ds__enc e;                                                                      \
        name##__leaf *l;                                                                \
        K kb[name##__LCAP];                                                             \
        V vb[name##__LCAP];                                                             \
        unsigned j, c = 0;                                                              \
        if (!t) return DS_EINVAL;                                                       \
        ds__enc_init(&e, w, "DSbt", 1);                                                 \
        ds__put_u64(&e, sizeof(K));                                                     \
        ds__put_u64(&e, sizeof(V));                                                     \
        ds__put_u64(&e, t->len);                                                        \
        /* Blocks of exactly LCAP entries (keys, then values), whatever the     */     \
        /* leaves hold: the reader reads the same blocks. Raw bytes: plain data. */     \
        for (l = t->len ? t->head : NULL; l && e.st == DS_OK; l = l->next)              \
            for (j = 0; j < l->n; j++) {                                                \
                kb[c] = l->keys[j];                                                     \
                vb[c++] = l->vals[j];                                                   \
                if (c == (unsigned)name##__LCAP) {                                      \
                    ds__put(&e, kb, c * sizeof(K));                                     \
                    ds__put(&e, vb, c * sizeof(V));                                     \
                    c = 0;                                                              \
                }                                                                       \
            }                                                                           \
        if (c) {                                                                        \
            ds__put(&e, kb, c * sizeof(K));                                             \
            ds__put(&e, vb, c * sizeof(V));                                             \
        }                                                                               \
        return ds__enc_end(&e);                                                         \
    }                                                                                   \
    /* Keys arrive sorted: each is an append; the tree grows only as far as    */     \
    /* the bytes that actually arrive. Order is checked with cmp. */                   \
    LINK ds_status name##_load(name *t, ds_reader *r, const ds_alloc *a) {              \
        ds__dec d;                                                                      \
        name u;                                                                         \
        uint64_t ks, vs, n, i;                                                          \
        K prev;                                                                         \
        if (!t) return DS_EINVAL;                                                       \
        ds__dec_init(&d, r, "DSbt", 1);                                                 \
        ks = ds__get_u64(&d);                                                           \
        vs = ds__get_u64(&d);                                                           \
        n = ds__get_u64(&d);                                                            \
        if (d.st != DS_OK) return d.st;                                                 \
        if (ks != sizeof(K) || vs != sizeof(V)) return DS_ECORRUPT;                     \
        if (!ds__dec_room(&d, n * (sizeof(K) + sizeof(V)))) return d.st;                \
        name##_init_alloc(&u, a);                                                       \
        memset(&prev, 0, sizeof prev);                                                  \
        /* Leaves were written as all keys then all values: read them the same */      \
        /* way, one leaf-sized block at a time. */                                      \
        for (i = 0; i < n && d.st == DS_OK;) {                                          \
            K kb[name##__LCAP];                                                         \
            V vb[name##__LCAP];                                                         \
            uint64_t c = n - i < (uint64_t)name##__LCAP ? n - i : (uint64_t)name##__LCAP, j; \
            ds__get(&d, kb, (size_t)c * sizeof(K));                                     \
            ds__get(&d, vb, (size_t)c * sizeof(V));                                     \
            for (j = 0; j < c && d.st == DS_OK; j++) {                                  \
                if ((i || j) && cmp(prev, kb[j]) >= 0) d.st = DS_ECORRUPT;              \
                else d.st = name##__put(&u, kb[j], vb[j], NULL, 0);                     \
                prev = kb[j];                                                           \
            }                                                                           \
            i += c;                                                                     \
        }                                                                               \
        if (ds__dec_end(&d) != DS_OK) {                                                 \
            name##_free(&u);                                                            \
            return d.st;                                                                \
        }                                                                               \
        *t = u;                                                                         \
        return DS_OK;                                                                   \
    }

#define DS_BTREE_DECLARE(name, K, V) \
    DS__BTREE_TYPES(name, K, V);     \
    DS__BTREE_PROTOS(name, K, V, extern);
#define DS_BTREE_DEFINE(name, K, V, cmp) DS__BTREE_IMPL(name, K, V, cmp, )
#define DS_BTREE(name, K, V, cmp)                  \
    DS__BTREE_TYPES(name, K, V);                   \
    DS__BTREE_PROTOS(name, K, V, DS__LINK_STATIC); \
    DS__BTREE_IMPL(name, K, V, cmp, DS__LINK_STATIC)

/* ========================================================================
 * == ds:tstore ==  DS_TSTORE(name, V): time-indexed storage
 * ========================================================================
 * Values indexed by int64 timestamps (ns, or any unit), one per timestamp:
 * the API of the seed's TimeBasedStorage, on one structure for all its
 * access patterns. It is a DS_BTREE underneath, so in-order arrival (the
 * common case for events) appends in O(1) amortised, out-of-order
 * arrival is O(log n), a range query costs O(log n) plus O(1) per result,
 * and earliest/latest are O(1) (the first and last leaves).
 *
 *   void   name_init(name *s), name_init_alloc(name *s, const ds_alloc *a)
 *   void   name_free(name *s), name_clear(name *s)
 *   size_t name_len(const name *s); int name_is_empty(const name *s)
 *   ds_status name_add(name *s, int64_t ts, V v)          DS_EEXIST on a collision
 *   ds_status name_add_unique(name *s, int64_t ts, V v, int64_t max_offset, int64_t *used)
 *          stores at the first free timestamp in [ts, ts + max_offset]
 *          (*used says which); DS_EFULL if all are taken, DS_EINVAL if
 *          max_offset < 0 or ts + max_offset overflows
 *   ds_status name_add_batch(name *s, const int64_t *ts, const V *vals, size_t n, size_t *added)
 *          adds each pair, skipping collisions (*added counts the rest);
 *          sorted input into an empty store is bulk-loaded in O(n)
 *   V     *name_value_at(const name *s, int64_t ts)      NULL if none
 *   ds_status name_remove(name *s, int64_t ts, V *out)   DS_ENOTFOUND
 *   size_t name_range(const name *s, int64_t start, int64_t end,
 *                     int64_t *ts_out, V *vals_out, size_t cap)
 *          every entry with start <= ts <= end, in time order: copies the
 *          first `cap` (either output may be NULL) and returns how many
 *          there are in all
 *   size_t name_duration(const name *s, int64_t d, int64_t now, int64_t *ts_out,
 *                        V *vals_out, size_t cap)   the range [now - d, now]
 *   ds_status name_earliest(const name *s, int64_t *ts, V **v), name_latest   DS_EEMPTY; O(1)
 *   ds_status name_pop_earliest(name *s, int64_t *ts, V *v)                   DS_EEMPTY
 *   size_t name_expire_before(name *s, int64_t cutoff)   removes ts < cutoff
 *   size_t name_aggregate(const name *s, int64_t start, int64_t end, int64_t width,
 *                         double (*value)(const V *), ds_tbucket *out, size_t cap)
 *          fixed buckets [start + i*width, start + (i+1)*width) up to end
 *          (exclusive): count, sum, min, max of value(v) per bucket; returns
 *          the number of buckets (fills the first cap); 0 if width <= 0
 *   iteration: name_it name_first(s), name_last(s), name_seek(s, ts) (first
 *          >= ts); name_it_valid, name_it_next, name_it_prev;
 *          int64_t name_it_ts(it); V *name_it_val(it)
 *   ds_status name_save(const name *s, ds_writer w), name_load(name *s, ds_reader *r, const ds_alloc *a)
 *          V is written as its raw bytes (host byte order): for plain data
 *          without pointers; load checks sizeof(V), order and checksum.
 *
 * Complexity: add/remove/value_at O(log n) (in-order add O(1) amortised);
 * range O(log n + k); earliest/latest O(1); expire_before O(k log n).
 * Errors: DS_ENOMEM leaves the store unchanged. Thread-safety: as DS_MAP. */

typedef struct ds_tbucket {
    int64_t start;       /* the bucket is [start, start + width) */
    uint64_t count;
    double sum, min, max; /* min/max are 0 when count == 0 */
} ds_tbucket;

#define DS__TSTORE_TYPES(name, V)                 \
    DS__BTREE_TYPES(name##__bt, int64_t, V);      \
    typedef struct name {                         \
        name##__bt t;                             \
    } name;                                       \
    typedef name##__bt_it name##_it

#define DS__TSTORE_PROTOS(name, V, LINK)                                                 \
    LINK void name##_init(name *s);                                                      \
    LINK void name##_init_alloc(name *s, const ds_alloc *a);                             \
    LINK void name##_free(name *s);                                                      \
    LINK void name##_clear(name *s);                                                     \
    LINK size_t name##_len(const name *s);                                               \
    LINK int name##_is_empty(const name *s);                                             \
    LINK ds_status name##_add(name *s, int64_t ts, V v);                                 \
    LINK ds_status name##_add_unique(name *s, int64_t ts, V v, int64_t max_offset, int64_t *used); \
    LINK ds_status name##_add_batch(name *s, const int64_t *ts, const V *vals, size_t n, size_t *added); \
    LINK V *name##_value_at(const name *s, int64_t ts);                                  \
    LINK ds_status name##_remove(name *s, int64_t ts, V *out);                           \
    LINK size_t name##_range(const name *s, int64_t start, int64_t end, int64_t *ts_out, \
                             V *vals_out, size_t cap);                                   \
    LINK size_t name##_duration(const name *s, int64_t d, int64_t now, int64_t *ts_out,  \
                                V *vals_out, size_t cap);                                \
    LINK ds_status name##_earliest(const name *s, int64_t *ts, V **v);                   \
    LINK ds_status name##_latest(const name *s, int64_t *ts, V **v);                     \
    LINK ds_status name##_pop_earliest(name *s, int64_t *ts, V *v);                      \
    LINK size_t name##_expire_before(name *s, int64_t cutoff);                           \
    LINK size_t name##_aggregate(const name *s, int64_t start, int64_t end, int64_t width, \
                                 double (*value)(const V *), ds_tbucket *out, size_t cap); \
    LINK name##_it name##_first(const name *s);                                          \
    LINK name##_it name##_last(const name *s);                                           \
    LINK name##_it name##_seek(const name *s, int64_t ts);                               \
    LINK int name##_it_valid(name##_it it);                                              \
    LINK name##_it name##_it_next(name##_it it);                                         \
    LINK name##_it name##_it_prev(name##_it it);                                         \
    LINK int64_t name##_it_ts(name##_it it);                                             \
    LINK V *name##_it_val(name##_it it);                                                 \
    LINK ds_status name##_save(const name *s, ds_writer w);                              \
    LINK ds_status name##_load(name *s, ds_reader *r, const ds_alloc *a)

#define DS__TSTORE_IMPL(name, V, LINK)                                                  \
    DS__BTREE_PROTOS(name##__bt, int64_t, V, static inline DS__UNUSED);                 \
    DS__BTREE_IMPL(name##__bt, int64_t, V, ds_cmp_i64, static inline DS__UNUSED)        \
    LINK void name##_init_alloc(name *s, const ds_alloc *a) {                           \
        if (s) name##__bt_init_alloc(&s->t, a);                                         \
    }                                                                                   \
    LINK void name##_init(name *s) { name##_init_alloc(s, NULL); }                      \
    LINK void name##_free(name *s) { if (s) name##__bt_free(&s->t); }                   \
    LINK void name##_clear(name *s) { if (s) name##__bt_clear(&s->t); }                 \
    LINK size_t name##_len(const name *s) { return s ? s->t.len : 0; }                  \
    LINK int name##_is_empty(const name *s) { return !s || s->t.len == 0; }             \
    LINK ds_status name##_add(name *s, int64_t ts, V v) {                               \
        if (!s) return DS_EINVAL;                                                       \
        return name##__bt_insert(&s->t, ts, v);                                         \
    }                                                                                   \
    LINK ds_status name##_add_unique(name *s, int64_t ts, V v, int64_t max_offset, int64_t *used) { \
        name##_it it;                                                                   \
        int64_t cand = ts;                                                              \
        ds_status st;                                                                   \
        if (!s || max_offset < 0 || ts > INT64_MAX - max_offset) return DS_EINVAL;      \
        /* Walk the run of taken timestamps from ts: the first gap is free. */         \
        for (it = name##__bt_lower_bound(&s->t, ts);                                    \
             name##__bt_it_valid(it) && *name##__bt_it_key(it) == cand;                 \
             it = name##__bt_it_next(it)) {                                             \
            if (cand == ts + max_offset) return DS_EFULL;                               \
            cand++;                                                                     \
        }                                                                               \
        if ((st = name##__bt_insert(&s->t, cand, v)) == DS_OK && used) *used = cand;    \
        return st;                                                                      \
    }                                                                                   \
    LINK ds_status name##_add_batch(name *s, const int64_t *ts, const V *vals, size_t n, size_t *added) { \
        size_t i, ok = 0;                                                               \
        int sorted = 1;                                                                 \
        ds_status st = DS_OK;                                                           \
        if (added) *added = 0;                                                          \
        if (!s || (n && (!ts || !vals))) return DS_EINVAL;                              \
        for (i = 1; i < n && sorted; i++) sorted = ts[i - 1] < ts[i];                   \
        if (sorted && s->t.len == 0 && n) {                                             \
            st = name##__bt_bulk_load(&s->t, ts, vals, n);                              \
            if (st == DS_OK && added) *added = n;                                       \
            return st;                                                                  \
        }                                                                               \
        for (i = 0; i < n; i++) {                                                       \
            st = name##__bt_insert(&s->t, ts[i], vals[i]);                              \
            if (st == DS_OK) ok++;                                                      \
            else if (st != DS_EEXIST) break; /* DS_ENOMEM: stop; the first i are in */  \
        }                                                                               \
        if (added) *added = ok;                                                         \
        return st == DS_EEXIST ? DS_OK : st;                                            \
    }                                                                                   \
    LINK V *name##_value_at(const name *s, int64_t ts) {                                \
        return s ? name##__bt_get(&s->t, ts) : NULL;                                    \
    }                                                                                   \
    LINK ds_status name##_remove(name *s, int64_t ts, V *out) {                         \
        if (!s) return DS_EINVAL;                                                       \
        return name##__bt_del(&s->t, ts, out);                                          \
    }                                                                                   \
    LINK size_t name##_range(const name *s, int64_t start, int64_t end, int64_t *ts_out, \
                             V *vals_out, size_t cap) {                                 \
        name##_it it;                                                                   \
        size_t n = 0;                                                                   \
        if (!s || end < start) return 0;                                                \
        for (it = name##__bt_lower_bound(&s->t, start);                                 \
             name##__bt_it_valid(it) && *name##__bt_it_key(it) <= end;                  \
             it = name##__bt_it_next(it), n++) {                                        \
            if (n < cap) {                                                              \
                if (ts_out) ts_out[n] = *name##__bt_it_key(it);                         \
                if (vals_out) vals_out[n] = *name##__bt_it_val(it);                     \
            }                                                                           \
        }                                                                               \
        return n;                                                                       \
    }                                                                                   \
    LINK size_t name##_duration(const name *s, int64_t d, int64_t now, int64_t *ts_out, \
                                V *vals_out, size_t cap) {                              \
        if (d < 0) return 0;                                                            \
        return name##_range(s, now < INT64_MIN + d ? INT64_MIN : now - d, now, ts_out, vals_out, cap); \
    }                                                                                   \
    static inline ds_status name##__report(name##_it it, int64_t *ts, V **v) {          \
        if (!name##__bt_it_valid(it)) return DS_EEMPTY;                                 \
        if (ts) *ts = *name##__bt_it_key(it);                                           \
        if (v) *v = name##__bt_it_val(it);                                              \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_earliest(const name *s, int64_t *ts, V **v) {                 \
        return s ? name##__report(name##__bt_first(&s->t), ts, v) : DS_EINVAL;          \
    }                                                                                   \
    LINK ds_status name##_latest(const name *s, int64_t *ts, V **v) {                   \
        return s ? name##__report(name##__bt_last(&s->t), ts, v) : DS_EINVAL;           \
    }                                                                                   \
    LINK ds_status name##_pop_earliest(name *s, int64_t *ts, V *v) {                    \
        if (!s) return DS_EINVAL;                                                       \
        return name##__bt_pop_first(&s->t, ts, v);                                      \
    }                                                                                   \
    LINK size_t name##_expire_before(name *s, int64_t cutoff) {                         \
        size_t n = 0;                                                                   \
        if (!s) return 0;                                                               \
        while (s->t.len && s->t.head->keys[0] < cutoff) {                               \
            (void)name##__bt_pop_first(&s->t, NULL, NULL);                              \
            n++;                                                                        \
        }                                                                               \
        return n;                                                                       \
    }                                                                                   \
    LINK size_t name##_aggregate(const name *s, int64_t start, int64_t end, int64_t width, \
                                 double (*value)(const V *), ds_tbucket *out, size_t cap) { \
        name##_it it;                                                                   \
        size_t nb, i;                                                                   \
        if (!s || !value || width <= 0 || end <= start) return 0;                       \
        if ((uint64_t)end - (uint64_t)start > (uint64_t)SIZE_MAX - (uint64_t)width) return 0; \
        nb = (size_t)(((uint64_t)end - (uint64_t)start + (uint64_t)width - 1) / (uint64_t)width); \
        for (i = 0; i < nb && i < cap; i++) {                                           \
            out[i].start = (int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)width);  \
            out[i].count = 0;                                                           \
            out[i].sum = out[i].min = out[i].max = 0;                                   \
        }                                                                               \
        for (it = name##__bt_lower_bound(&s->t, start);                                 \
             name##__bt_it_valid(it) && *name##__bt_it_key(it) < end;                   \
             it = name##__bt_it_next(it)) {                                             \
            size_t b = (size_t)(((uint64_t)*name##__bt_it_key(it) - (uint64_t)start) / (uint64_t)width); \
            double x;                                                                   \
            if (b >= cap) break; /* later buckets are past the caller's room */         \
            x = value(name##__bt_it_val(it));                                           \
            if (!out[b].count || x < out[b].min) out[b].min = x;                        \
            if (!out[b].count || x > out[b].max) out[b].max = x;                        \
            out[b].sum += x;                                                            \
            out[b].count++;                                                             \
        }                                                                               \
        return nb;                                                                      \
    }                                                                                   \
    LINK name##_it name##_first(const name *s) { return name##__bt_first(s ? &s->t : NULL); } \
    LINK name##_it name##_last(const name *s) { return name##__bt_last(s ? &s->t : NULL); } \
    LINK name##_it name##_seek(const name *s, int64_t ts) {                             \
        return name##__bt_lower_bound(s ? &s->t : NULL, ts);                            \
    }                                                                                   \
    LINK int name##_it_valid(name##_it it) { return name##__bt_it_valid(it); }          \
    LINK name##_it name##_it_next(name##_it it) { return name##__bt_it_next(it); }      \
    LINK name##_it name##_it_prev(name##_it it) { return name##__bt_it_prev(it); }      \
    LINK int64_t name##_it_ts(name##_it it) { return it.leaf ? *name##__bt_it_key(it) : 0; } \
    LINK V *name##_it_val(name##_it it) { return name##__bt_it_val(it); }               \
    LINK ds_status name##_save(const name *s, ds_writer w) {                            \
        ds__enc e;                                                                      \
        name##_it it;                                                                   \
        if (!s) return DS_EINVAL;                                                       \
        ds__enc_init(&e, w, "DSts", 1);                                                 \
        ds__put_u64(&e, sizeof(V));                                                     \
        ds__put_u64(&e, s->t.len);                                                      \
        for (it = name##__bt_first(&s->t); name##__bt_it_valid(it) && e.st == DS_OK;    \
             it = name##__bt_it_next(it)) {                                             \
            ds__put_u64(&e, (uint64_t)*name##__bt_it_key(it));                          \
            ds__put(&e, name##__bt_it_val(it), sizeof(V));                              \
        }                                                                               \
        return ds__enc_end(&e);                                                         \
    }                                                                                   \
    LINK ds_status name##_load(name *s, ds_reader *r, const ds_alloc *a) {              \
        ds__dec d;                                                                      \
        name t;                                                                         \
        uint64_t vsz, n, i;                                                             \
        int64_t prev = 0;                                                               \
        if (!s) return DS_EINVAL;                                                       \
        ds__dec_init(&d, r, "DSts", 1);                                                 \
        vsz = ds__get_u64(&d);                                                          \
        n = ds__get_u64(&d);                                                            \
        if (d.st != DS_OK) return d.st;                                                 \
        if (vsz != sizeof(V)) return DS_ECORRUPT;                                       \
        if (!ds__dec_room(&d, n * (8 + sizeof(V)))) return d.st;                        \
        name##_init_alloc(&t, a);                                                       \
        /* Entries come in time order: each is an append (no per-entry search, */      \
        /* and the tree grows only as far as the bytes that actually arrive). */       \
        for (i = 0; i < n && d.st == DS_OK; i++) {                                      \
            int64_t ts = (int64_t)ds__get_u64(&d);                                      \
            V v;                                                                        \
            ds__get(&d, &v, sizeof(V));                                                 \
            if (d.st != DS_OK) break;                                                   \
            if (i && ts <= prev) {                                                      \
                d.st = DS_ECORRUPT;                                                     \
                break;                                                                  \
            }                                                                           \
            prev = ts;                                                                  \
            d.st = name##__bt_insert(&t.t, ts, v);                                      \
        }                                                                               \
        if (ds__dec_end(&d) != DS_OK) {                                                 \
            name##_free(&t);                                                            \
            return d.st;                                                                \
        }                                                                               \
        *s = t;                                                                         \
        return DS_OK;                                                                   \
    }

#define DS_TSTORE_DECLARE(name, V) \
    DS__TSTORE_TYPES(name, V);     \
    DS__TSTORE_PROTOS(name, V, extern);
#define DS_TSTORE_DEFINE(name, V) DS__TSTORE_IMPL(name, V, )
#define DS_TSTORE(name, V)                        \
    DS__TSTORE_TYPES(name, V);                    \
    DS__TSTORE_PROTOS(name, V, DS__LINK_STATIC);  \
    DS__TSTORE_IMPL(name, V, DS__LINK_STATIC)

/* ========================================================================
 * == ds:window ==  sliding-window statistics and a quantile sketch
 * ========================================================================
 * ds_window: count, sum, mean, min, max and exact quantiles over the last
 * N samples (count window) or the samples of the last T time units (time
 * window: a sample added at `now` leaves once now' - now >= T). Samples
 * sit in arrival order in a ring and in an order-statistic treap (subtree
 * sizes), so add/evict are O(log n) and any quantile is one O(log n)
 * select, with no sort on read. The sum is compensated (Neumaier), so it
 * does not drift as samples come and go.
 *
 *   ds_status ds_window_init_count(ds_window *w, size_t n, const ds_alloc *a)   n >= 1
 *   ds_status ds_window_init_time(ds_window *w, int64_t span, const ds_alloc *a) span >= 1
 *   void   ds_window_free(ds_window *w), ds_window_clear(ds_window *w)
 *   ds_status ds_window_add(ds_window *w, double x, int64_t now)
 *          DS_EINVAL for NaN or a `now` older than the last one;
 *          DS_ENOMEM (window unchanged)
 *   void   ds_window_advance(ds_window *w, int64_t now)   evict by time only
 *   size_t ds_window_count(w); double ds_window_sum(w), ds_window_mean(w),
 *          ds_window_min(w), ds_window_max(w)      (NaN when empty)
 *   double ds_window_rank(const ds_window *w, size_t k)  k-th smallest (0-based)
 *   double ds_window_quantile(const ds_window *w, double q)  q in [0,1],
 *          linear interpolation between the closest ranks (numpy's
 *          default), so it equals sorting the window
 * Complexity: add O(log n) amortised; quantile/rank O(log n); min/max
 * O(log n); count/sum/mean O(1). Memory: ~40 bytes a sample.
 *
 * ds_ddsketch: a mergeable quantile sketch for unbounded streams with a
 * relative-error guarantee (Masson, Rim & Lee, "DDSketch", VLDB 2019):
 * bucket i holds values in (g^(i-1), g^i], g = (1 + alpha)/(1 - alpha), so
 * any quantile it returns is within alpha (relative) of a value of the
 * right rank. Positive and negative values and zero are kept apart. When a
 * store would exceed max_buckets the lowest buckets are collapsed (the
 * paper's collapsing policy: accuracy is kept for the higher quantiles).
 *
 *   ds_status ds_ddsketch_init(ds_ddsketch *s, double alpha, size_t max_buckets, const ds_alloc *a)
 *          alpha in (0, 1); max_buckets >= 16 (0 = 2048)
 *   ds_status ds_ddsketch_add(ds_ddsketch *s, double x)   DS_EINVAL for NaN/inf
 *   double ds_ddsketch_quantile(const ds_ddsketch *s, double q)   NaN when empty
 *   ds_status ds_ddsketch_merge(ds_ddsketch *dst, const ds_ddsketch *src)  same alpha
 *          (DS_EINVAL otherwise); on DS_ENOMEM dst may hold part of src
 *   uint64_t ds_ddsketch_count(s); double ds_ddsketch_min(s), _max(s), _sum(s)
 *   void ds_ddsketch_free(ds_ddsketch *s)
 * Complexity: add O(1) amortised; quantile O(buckets). */
typedef struct ds__wnode {
    double x;
    uint32_t left, right, size, prio;
} ds__wnode;

typedef struct ds_window {
    double *ring_x;        /* samples in arrival order */
    int64_t *ring_t;
    uint32_t *ring_node;   /* each sample's treap node */
    size_t cap, head, len, max_len;
    int64_t span, last_now;
    ds__wnode *nodes;      /* treap nodes, 1-based (0 = none) */
    uint32_t root, free_node;
    size_t node_cap;
    double sum, comp;      /* Neumaier-compensated sum */
    uint64_t rng;
    const ds_alloc *alloc;
} ds_window;

DSDEF ds_status ds_window_init_count(ds_window *w, size_t n, const ds_alloc *a);
DSDEF ds_status ds_window_init_time(ds_window *w, int64_t span, const ds_alloc *a);
DSDEF void ds_window_free(ds_window *w);
DSDEF void ds_window_clear(ds_window *w);
DSDEF ds_status ds_window_add(ds_window *w, double x, int64_t now);
DSDEF void ds_window_advance(ds_window *w, int64_t now);
DSDEF size_t ds_window_count(const ds_window *w);
DSDEF double ds_window_sum(const ds_window *w);
DSDEF double ds_window_mean(const ds_window *w);
DSDEF double ds_window_min(const ds_window *w);
DSDEF double ds_window_max(const ds_window *w);
DSDEF double ds_window_rank(const ds_window *w, size_t k);
DSDEF double ds_window_quantile(const ds_window *w, double q);

typedef struct ds__ddstore {
    uint64_t *bins;
    size_t nbins;
    int32_t offset;        /* bucket index of bins[0] */
} ds__ddstore;
typedef struct ds_ddsketch {
    ds__ddstore pos, neg;
    uint64_t zero, count;
    double alpha, gamma, log_gamma, min, max, sum;
    size_t max_buckets;
    const ds_alloc *alloc;
} ds_ddsketch;

DSDEF ds_status ds_ddsketch_init(ds_ddsketch *s, double alpha, size_t max_buckets, const ds_alloc *a);
DSDEF void ds_ddsketch_free(ds_ddsketch *s);
DSDEF ds_status ds_ddsketch_add(ds_ddsketch *s, double x);
DSDEF double ds_ddsketch_quantile(const ds_ddsketch *s, double q);
DSDEF ds_status ds_ddsketch_merge(ds_ddsketch *dst, const ds_ddsketch *src);
DSDEF uint64_t ds_ddsketch_count(const ds_ddsketch *s);
DSDEF double ds_ddsketch_min(const ds_ddsketch *s);
DSDEF double ds_ddsketch_max(const ds_ddsketch *s);
DSDEF double ds_ddsketch_sum(const ds_ddsketch *s);

/* ========================================================================
 * == ds:trie ==  ds_trie: radix tree with autocomplete
 * ========================================================================
 * A compressed radix tree over arbitrary byte strings (embedded NULs are
 * fine) mapping each key to a user pointer and a score. Edges carry byte
 * strings; children are kept sorted by first byte, so every walk is in
 * lexicographic byte order (a key before its extensions).
 *
 * Autocomplete: every node keeps the maximum score in its subtree, kept
 * exact under incr, set and delete. complete(prefix, k) is a best-first
 * search from the prefix's node: it expands only subtrees whose maximum can
 * still make the top k, so it costs about O(|prefix| + k log k) node visits
 * (times the fan-out of the nodes expanded), not a walk of every match.
 * Ties in score are broken by key, lexicographically.
 *
 *   void   ds_trie_init(ds_trie *t, const ds_alloc *a); void ds_trie_free(ds_trie *t)
 *   ds_status ds_trie_put(ds_trie *t, const void *key, size_t len, void *val, int *is_new)
 *          a new key starts with score 0; an existing one keeps its score
 *   void **ds_trie_get(const ds_trie *t, const void *key, size_t len)   NULL if absent
 *   ds_status ds_trie_del(ds_trie *t, const void *key, size_t len, void **out)  DS_ENOTFOUND;
 *          nodes merge back (if that merge cannot allocate, the tree stays
 *          correct, one edge longer than it could be)
 *   ds_status ds_trie_incr(ds_trie *t, const void *key, size_t len, double delta, double *score)
 *          adds to the key's score, inserting it (value NULL) if absent
 *   ds_status ds_trie_set_score(ds_trie *t, const void *key, size_t len, double score)  DS_ENOTFOUND
 *          scores must stay finite (DS_EINVAL otherwise)
 *   double ds_trie_score(const ds_trie *t, const void *key, size_t len)   NaN if absent
 *   size_t ds_trie_complete(const ds_trie *t, const void *prefix, size_t plen, size_t k,
 *                           ds_trie_fn fn, void *ctx)
 *          the k highest-scored keys under prefix, best first; fn may be
 *          NULL; returns how many were reported (DS_ENOMEM-free: the search
 *          frontier uses a fixed 4 KiB of stack, then the heap; on
 *          allocation failure it returns what it found so far)
 *   size_t ds_trie_walk(const ds_trie *t, const void *prefix, size_t plen, int reverse,
 *                       ds_trie_fn fn, void *ctx)
 *          every key with the prefix, in (reverse) lexicographic order
 *   size_t ds_trie_seek(const ds_trie *t, const void *key, size_t len, int dir,
 *                       ds_trie_fn fn, void *ctx)
 *          dir > 0: keys >= key ascending; dir < 0: keys <= key descending
 *   void **ds_trie_longest_prefix(const ds_trie *t, const void *key, size_t len, size_t *mlen)
 *          the value of the longest stored key that is a prefix of key
 *          (routing tables, tokenizers); *mlen its length
 *   size_t ds_trie_count(const ds_trie *t), ds_trie_memory(const ds_trie *t)
 * fn(ctx, key, len, score, val) returns nonzero to stop; the key buffer is
 * valid during the call. Walks return the number of keys reported.
 * Complexity: put/get/del O(len) plus O(fan-out) per node on the path to
 * keep the subtree maxima; walks O(1) amortised per key.
 * Thread-safety: none for writers; concurrent readers are fine. */
typedef int (*ds_trie_fn)(void *ctx, const void *key, size_t len, double score, void *val);

typedef struct ds__tnode {
    struct ds__tnode *parent;
    struct ds__tnode **kids;   /* sorted by their label's first byte */
    unsigned char *firsts;     /* those first bytes (after kids, one block):
                                  a child search reads no child node */
    unsigned char *label;      /* the edge from the parent */
    uint32_t len;
    uint16_t nkids, kcap;
    int has;                   /* a key ends here */
    void *val;
    double score, best;        /* own score; max over the subtree's keys */
} ds__tnode;

typedef struct ds_trie {
    ds__tnode root;
    size_t count, bytes;
    const ds_alloc *alloc;
} ds_trie;

DSDEF void ds_trie_init(ds_trie *t, const ds_alloc *a);
DSDEF void ds_trie_free(ds_trie *t);
DSDEF ds_status ds_trie_put(ds_trie *t, const void *key, size_t len, void *val, int *is_new);
DSDEF void **ds_trie_get(const ds_trie *t, const void *key, size_t len);
DSDEF ds_status ds_trie_del(ds_trie *t, const void *key, size_t len, void **out);
DSDEF ds_status ds_trie_incr(ds_trie *t, const void *key, size_t len, double delta, double *score);
DSDEF ds_status ds_trie_set_score(ds_trie *t, const void *key, size_t len, double score);
DSDEF double ds_trie_score(const ds_trie *t, const void *key, size_t len);
DSDEF size_t ds_trie_complete(const ds_trie *t, const void *prefix, size_t plen, size_t k,
                              ds_trie_fn fn, void *ctx);
DSDEF size_t ds_trie_walk(const ds_trie *t, const void *prefix, size_t plen, int reverse,
                          ds_trie_fn fn, void *ctx);
DSDEF size_t ds_trie_seek(const ds_trie *t, const void *key, size_t len, int dir, ds_trie_fn fn,
                          void *ctx);
DSDEF void **ds_trie_longest_prefix(const ds_trie *t, const void *key, size_t len, size_t *mlen);
DSDEF size_t ds_trie_count(const ds_trie *t);
DSDEF size_t ds_trie_memory(const ds_trie *t);

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
 *   - time past the layout's range (or before the epoch) gives DS_EFULL.
 *
 *   ds_status ds_snowflake_init(ds_snowflake *s, const ds_snowflake_config *cfg)
 *          cfg NULL = defaults; DS_EINVAL if the widths do not sum to at
 *          most 63, time_bits < 20, or node does not fit node_bits
 *   ds_status ds_snowflake_next(ds_snowflake *s, int64_t now_ns, uint64_t *id, int64_t *wait_ns)
 *   void   ds_snowflake_decompose(const ds_snowflake_config *cfg, uint64_t id,
 *                                 int64_t *unix_ms, uint64_t *node, uint64_t *seq)
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
 * Returns the index of the chosen node, or SIZE_MAX if n == 0. O(n).
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

/* ========================================================================
 * == ds:breaker ==  ds_breaker: circuit breaker
 * ========================================================================
 * A circuit breaker in front of a downstream call: CLOSED (calls go
 * through, outcomes are measured), OPEN (calls fail fast), HALF_OPEN (a few
 * probe calls test whether the downstream has recovered). The rules are
 * resilience4j's CircuitBreaker (its docs and CircuitBreakerMetrics), plus
 * the classic "trip after K consecutive failures" (Nygard):
 *
 *   CLOSED -> OPEN when, after a recorded outcome, either
 *     - consecutive_failures > 0 and that many failures came in a row
 *       (successes reset the run; ignored outcomes do not), or
 *     - the window holds >= min_calls outcomes and the failure rate or the
 *       slow-call rate (percent of the window) is >= its threshold.
 *     A call is slow when its duration is longer than slow_call_ns; a slow
 *     call counts as slow whether it succeeded or failed.
 *   OPEN -> HALF_OPEN once wait_open_ns has passed (applied lazily, by the
 *     first allow/record/advance/snapshot at or after that time: call
 *     ds_breaker_advance from a timer to get it on time).
 *   HALF_OPEN: exactly half_open_calls (P) calls are permitted; further
 *     allows are rejected until the probes' outcomes are recorded. When all
 *     P have reported: OPEN again if their failure rate or slow rate is >=
 *     its threshold (with the failure-rate rule off: if any probe failed),
 *     else CLOSED. An ignored probe gives its permit back. With
 *     half_open_max_ns > 0, a half-open state older than that reopens
 *     (probes that never report cannot wedge the breaker).
 *   FORCED_OPEN (rejects everything, no timeout) and DISABLED (permits
 *     everything, never trips) are entered only by ds_breaker_force.
 * Every transition starts the new state with an empty window (and zero
 * consecutive failures); rates are only measured while CLOSED.
 *
 * Windows: COUNT_BASED keeps the last window_size outcomes in a ring of
 * bytes with running totals (O(1) a record). TIME_BASED keeps window_size
 * buckets of bucket_ns, aligned to multiples of bucket_ns (resilience4j:
 * epoch seconds): the window is the current bucket and the window_size - 1
 * before it. Buckets are partial aggregates subtracted on eviction; only
 * non-empty buckets are visited, so a record is O(1) amortised whatever
 * the clock jumps. A count window clamps min_calls to window_size.
 *
 * Two-step use around any call:
 *     int64_t wait;
 *     if (ds_breaker_allow(&b, now, &wait) != DS_OK) return fail_fast(wait);
 *     int64_t t0 = now_ns(); int ok = call(); int64_t t1 = now_ns();
 *     ds_breaker_record(&b, ok ? DS_BREAKER_SUCCESS : DS_BREAKER_FAILURE, t1 - t0, t1);
 * Every permitted call must be recorded exactly once (IGNORED for an
 * outcome that says nothing about the downstream, e.g. a client error).
 * Records carry no ticket: in HALF_OPEN a record counts as a probe while
 * probes are outstanding, so a late record of a call permitted while CLOSED
 * can stand in for a probe. Times are the caller's monotonic ns; a `now`
 * earlier than one already seen is taken as that one.
 *
 *   ds_status ds_breaker_init(ds_breaker *b, const ds_breaker_config *cfg, const ds_alloc *a)
 *          cfg NULL = all defaults. DS_EINVAL for a rate outside (0, 100]
 *          (other than 0 = default and DS_BREAKER_OFF), a negative time,
 *          an unknown window type, a time window whose span overflows;
 *          DS_ENOMEM (nothing allocated). Starts CLOSED, stats zero.
 *   void   ds_breaker_free(ds_breaker *b)
 *   ds_status ds_breaker_allow(ds_breaker *b, int64_t now, int64_t *retry_after_ns)
 *          DS_OK: the call may go ahead (then record it). DS_EBUSY:
 *          rejected; *retry_after_ns (may be NULL) is the time until the
 *          next probe is due: OPEN, the rest of the wait; FORCED_OPEN,
 *          INT64_MAX; HALF_OPEN with every probe out, wait_open_ns (the
 *          probes decide; if they fail the breaker stays open that long).
 *   ds_status ds_breaker_record(ds_breaker *b, ds_breaker_outcome outcome,
 *                               int64_t duration_ns, int64_t now)
 *          DS_EINVAL for an unknown outcome or a negative duration
 *   ds_breaker_state ds_breaker_advance(ds_breaker *b, int64_t now)
 *          applies the timed transitions and evicts old buckets; returns
 *          the state
 *   ds_status ds_breaker_force(ds_breaker *b, ds_breaker_state to, int64_t now)
 *          manual transition to any state (OPEN starts a fresh wait;
 *          forcing the current state restarts it); DS_EINVAL if unknown
 *   void   ds_breaker_reset(ds_breaker *b, int64_t now)
 *          back to CLOSED with every statistic zeroed
 *   ds_breaker_state ds_breaker_current(const ds_breaker *b)
 *          the state as of the last call (no timed transition applied)
 *   void   ds_breaker_snapshot(ds_breaker *b, int64_t now, ds_breaker_stats *out)
 *          advance to now, then the counters and the window's rates
 *   const char *ds_breaker_state_name(ds_breaker_state s)   "CLOSED", ...
 * The callback on_state(ctx, from, to, now) runs after each change of
 * state (from != to), with the breaker already in `to`; it may read the
 * breaker (ds_breaker_current) but must not call anything that changes it.
 * Complexity: allow O(1); record O(1) (count window) or O(1) amortised
 * (time window); force/reset O(non-empty buckets). Memory: window_size
 * bytes (count) or 32 bytes a bucket (time), one allocation.
 * Thread-safety: none; every call but ds_breaker_current mutates
 * (ds_cbreaker in ds_concurrent.h shares one between threads). */
typedef enum ds_breaker_state {
    DS_BREAKER_CLOSED = 0,
    DS_BREAKER_OPEN = 1,
    DS_BREAKER_HALF_OPEN = 2,
    DS_BREAKER_FORCED_OPEN = 3,
    DS_BREAKER_DISABLED = 4
} ds_breaker_state;

typedef enum ds_breaker_outcome {
    DS_BREAKER_SUCCESS = 0,
    DS_BREAKER_FAILURE = 1,
    DS_BREAKER_IGNORED = 2
} ds_breaker_outcome;

typedef enum ds_breaker_window { DS_BREAKER_COUNT_BASED = 0, DS_BREAKER_TIME_BASED = 1 } ds_breaker_window;

/* A rate threshold that never trips. */
#define DS_BREAKER_OFF (-1.0)

typedef void (*ds_breaker_fn)(void *ctx, ds_breaker_state from, ds_breaker_state to, int64_t now);

/* Zero means the default (resilience4j's defaults). */
typedef struct ds_breaker_config {
    uint32_t window_size;           /* outcomes, or buckets; 0 = 100 */
    ds_breaker_window window;       /* COUNT_BASED (default) or TIME_BASED */
    int64_t bucket_ns;              /* TIME_BASED bucket width; 0 = 1 s */
    uint32_t min_calls;             /* outcomes before rates count; 0 = 100 */
    double failure_rate;            /* percent in (0, 100]; 0 = 50; or DS_BREAKER_OFF */
    double slow_rate;               /* percent in (0, 100]; 0 = 100; or DS_BREAKER_OFF */
    int64_t slow_call_ns;           /* longer is slow; 0 = 60 s */
    uint32_t consecutive_failures;  /* trip after this many in a row; 0 = off */
    int64_t wait_open_ns;           /* OPEN before HALF_OPEN; 0 = 60 s */
    uint32_t half_open_calls;       /* probes P; 0 = 10 */
    int64_t half_open_max_ns;       /* 0 = wait for the probes forever */
    ds_breaker_fn on_state;         /* NULL = none */
    void *ctx;                      /* passed to on_state */
} ds_breaker_config;

typedef struct ds_breaker_stats {
    int64_t since;                  /* time of the last transition (0 before any) */
    ds_breaker_state state;
    uint64_t transitions;           /* state changes */
    uint64_t permitted, rejected;   /* allow: DS_OK / DS_EBUSY */
    uint64_t successes, failures, slow, ignored;  /* recorded outcomes, any state */
    /* The current window: CLOSED, the sliding window; HALF_OPEN, the probes
     * reported so far; otherwise empty. Rates in percent, or -1 while the
     * window holds fewer than min_calls (HALF_OPEN: P) outcomes. */
    uint64_t window_calls, window_failures, window_slow;
    double failure_rate, slow_rate;
    uint32_t consecutive_failures;  /* current run (CLOSED) */
    uint32_t probes_out;            /* HALF_OPEN: permits not yet reported */
} ds_breaker_stats;

typedef struct ds__bk_bucket {
    uint64_t calls, fails, slow;
} ds__bk_bucket;

typedef struct ds_breaker {
    ds_breaker_config cfg;          /* effective values */
    const ds_alloc *alloc;
    ds_breaker_state state;
    unsigned char *ring;            /* COUNT: outcomes, bit 0 failed, bit 1 slow */
    ds__bk_bucket *bucket;          /* TIME: bucket of epoch e at e mod window_size */
    int64_t *qepoch;                /* TIME: non-empty buckets' epochs, oldest first */
    size_t bytes;                   /* the one allocation */
    uint32_t head, len;             /* ring, or the qepoch queue */
    uint64_t wcalls, wfails, wslow; /* window (HALF_OPEN: probes) totals */
    uint32_t consec, probes_given, probes_done;
    int64_t deadline;               /* OPEN: half-open due; HALF_OPEN: max wait */
    int64_t last_now, since;        /* latest now seen (INT64_MIN: none); last transition */
    uint64_t transitions, permitted, rejected, successes, failures, slow, ignored;
} ds_breaker;

DSDEF ds_status ds_breaker_init(ds_breaker *b, const ds_breaker_config *cfg, const ds_alloc *a);
DSDEF void ds_breaker_free(ds_breaker *b);
DSDEF ds_status ds_breaker_allow(ds_breaker *b, int64_t now, int64_t *retry_after_ns);
DSDEF ds_status ds_breaker_record(ds_breaker *b, ds_breaker_outcome outcome, int64_t duration_ns,
                                  int64_t now);
DSDEF ds_breaker_state ds_breaker_advance(ds_breaker *b, int64_t now);
DSDEF ds_status ds_breaker_force(ds_breaker *b, ds_breaker_state to, int64_t now);
DSDEF void ds_breaker_reset(ds_breaker *b, int64_t now);
DSDEF ds_breaker_state ds_breaker_current(const ds_breaker *b);
DSDEF void ds_breaker_snapshot(ds_breaker *b, int64_t now, ds_breaker_stats *out);
DSDEF const char *ds_breaker_state_name(ds_breaker_state s);

/* ========================================================================
 * == ds:bloom ==  Bloom filters: standard, cache-blocked, scalable
 * ========================================================================
 * A set that answers "definitely not present" or "probably present", in
 * about -ln(p)/ln(2)^2 bits per key (9.6 bits at p = 1%). No false
 * negatives, ever; false positives with probability ~p at the designed
 * load. Keys are bytes; each *_hash variant takes a precomputed 64-bit
 * hash instead (use ds_hash_bytes or any well-mixed 64-bit hash, the same
 * one for every call on a filter).
 *
 * Sizing (Bloom 1970; the usual optimum): m = -n ln p / (ln 2)^2 bits,
 * k = round(m/n ln 2) probes. The k probe positions come from the one
 * 64-bit hash by enhanced double hashing (Kirsch & Mitzenmacher 2006,
 * Dillinger & Manolios 2004): x += y, y += i, with no per-probe rehash.
 *
 * Standard: k bits anywhere in m, so up to k cache misses per query.
 * Blocked (Putze, Sanders & Singler 2007): all k bits of a key in one
 * 512-bit (64-byte) block, so one cache miss per query. Blocks fill
 * unevenly (keys per block are Poisson), which costs FPP at equal memory;
 * init_blocked pays it in memory instead: it keeps k and adds bits per key
 * until the Poisson block model meets p. Measured by tests/test_sketch.c
 * (n = 10^6 random keys, 2*10^5 to 6*10^5 negative queries):
 *     target p   standard: bits/key  FPP       blocked: bits/key  FPP
 *     0.1                  4.79      0.1008             4.84      0.0991
 *     0.01                 9.59      0.0100             9.97      0.0093
 *     0.001               14.38      0.00101           15.57      0.00098
 * At equal m and k (init_mk) the blocked FPP is higher; the measured curve
 * is in bench/bench_sketch.c's output and README's plot.
 *
 *   ds_status ds_bloom_init(ds_bloom *b, uint64_t n, double p, const ds_alloc *a)
 *   ds_status ds_bloom_init_blocked(ds_bloom *b, uint64_t n, double p, const ds_alloc *a)
 *          size for n keys at false-positive rate p. DS_EINVAL if n == 0,
 *          p not in (0,1), or the size overflows (m > 2^48 bits); DS_ENOMEM.
 *   ds_status ds_bloom_init_mk(ds_bloom *b, uint64_t m, unsigned k, int blocked,
 *                              const ds_alloc *a)
 *          explicit m bits (rounded up to 64, or 512 when blocked) and k
 *          probes (1..64).
 *   void   ds_bloom_free(ds_bloom *b), ds_bloom_clear(ds_bloom *b)
 *   int    ds_bloom_add(ds_bloom *b, const void *key, size_t len)
 *          1 if the key was certainly new (some bit flipped), else 0
 *          (already present, or a false positive); as RedisBloom's BF.ADD.
 *   int    ds_bloom_has(const ds_bloom *b, const void *key, size_t len)
 *   double ds_bloom_fpp(const ds_bloom *b)     FPP at the current fill:
 *          (bits set / m)^k; blocked: the mean over blocks of
 *          (block fill)^k, an O(m) scan
 *   double ds_bloom_count(const ds_bloom *b)   estimated distinct keys from
 *          the fill (Swamidass & Baldi 2007): -(m/k) ln(1 - X/m);
 *          HUGE_VAL when every bit is set
 *   ds_status ds_bloom_union(ds_bloom *dst, const ds_bloom *src)
 *   ds_status ds_bloom_intersect(ds_bloom *dst, const ds_bloom *src)
 *          bitwise OR / AND into dst; DS_EINVAL unless m, k and kind match.
 *          The union is exactly the filter of the union of the key sets;
 *          the intersection may answer yes more often than a filter built
 *          from the intersection.
 *   ds_status ds_bloom_save(const ds_bloom *b, ds_writer w)
 *   ds_status ds_bloom_load(ds_bloom *b, ds_reader *r, const ds_alloc *a)
 *          on success *b is a new filter (free it); on error *b is untouched.
 *
 * Complexity: add/has O(k); fpp O(1) standard, O(m) blocked; count O(1);
 * union/intersect/clear O(m). Memory: m/8 bytes.
 * Thread-safety: concurrent has() calls are safe; add needs exclusion. */
typedef struct ds_bloom {
    uint64_t *bits;
    uint64_t m;        /* bits; a multiple of 64 (512 when blocked) */
    uint64_t set;      /* bits that are 1 */
    uint64_t n;        /* adds that returned 1 */
    unsigned k;        /* probes per key, 1..64 */
    int blocked;
    const ds_alloc *alloc;
} ds_bloom;

DSDEF ds_status ds_bloom_init(ds_bloom *b, uint64_t n, double p, const ds_alloc *a);
DSDEF ds_status ds_bloom_init_blocked(ds_bloom *b, uint64_t n, double p, const ds_alloc *a);
DSDEF ds_status ds_bloom_init_mk(ds_bloom *b, uint64_t m, unsigned k, int blocked,
                                 const ds_alloc *a);
DSDEF void ds_bloom_free(ds_bloom *b);
DSDEF void ds_bloom_clear(ds_bloom *b);
DSDEF int ds_bloom_add_hash(ds_bloom *b, uint64_t h);
DSDEF int ds_bloom_has_hash(const ds_bloom *b, uint64_t h);
static inline int ds_bloom_add(ds_bloom *b, const void *key, size_t len) {
    if (!key && len) return 0;
    return ds_bloom_add_hash(b, ds_hash_bytes(key, len, 0));
}
static inline int ds_bloom_has(const ds_bloom *b, const void *key, size_t len) {
    if (!key && len) return 0;
    return ds_bloom_has_hash(b, ds_hash_bytes(key, len, 0));
}
DSDEF double ds_bloom_fpp(const ds_bloom *b);
DSDEF double ds_bloom_count(const ds_bloom *b);
DSDEF ds_status ds_bloom_union(ds_bloom *dst, const ds_bloom *src);
DSDEF ds_status ds_bloom_intersect(ds_bloom *dst, const ds_bloom *src);
DSDEF size_t ds_bloom_memory(const ds_bloom *b);
DSDEF ds_status ds_bloom_save(const ds_bloom *b, ds_writer w);
DSDEF ds_status ds_bloom_load(ds_bloom *b, ds_reader *r, const ds_alloc *a);

/* Scalable Bloom filter (Almeida, Baquero, Preguica & Hutchison 2007; the
 * scheme of RedisBloom's EXPANSION): a chain of filters. When the newest
 * one holds its capacity a new one is added, `growth` times larger, with
 * its error rate tightened by `ratio`: filter i has capacity n0 growth^i
 * and rate p (1 - ratio) ratio^i, so the rates sum to at most p however
 * many filters there are. A key is added only if no filter has it.
 *
 *   ds_status ds_sbloom_init(ds_sbloom *s, uint64_t n0, double p, double growth,
 *                            double ratio, int blocked, const ds_alloc *a)
 *          n0 >= 1, p in (0,1), growth in [1, 64], ratio in (0,1)
 *          (RedisBloom: growth 2, ratio 0.5). DS_EINVAL otherwise.
 *   ds_status ds_sbloom_add(ds_sbloom *s, const void *key, size_t len, int *added)
 *          *added (may be NULL) = 1 if the key was new; DS_ENOMEM when a
 *          new filter cannot be allocated, DS_EFULL when the next filter's
 *          rate underflows or it would exceed 2^48 bits (nothing changes
 *          in either case).
 *   int    ds_sbloom_has(const ds_sbloom *s, const void *key, size_t len)
 *   uint64_t ds_sbloom_len(s)    keys added; size_t ds_sbloom_filters(s)
 *   double ds_sbloom_fpp(s)      1 - prod(1 - fpp_i) at the current fills
 *   save/load/free/clear/memory as for ds_bloom.
 * Complexity: add/has O(k * filters), filters = O(log(n/n0)). */
typedef struct ds_sbloom {
    ds_bloom *f;       /* f[0..nf) oldest first */
    size_t nf, capf;
    uint64_t n0, n;    /* first capacity; keys added */
    double p, growth, ratio;
    int blocked;
    const ds_alloc *alloc;
} ds_sbloom;

DSDEF ds_status ds_sbloom_init(ds_sbloom *s, uint64_t n0, double p, double growth, double ratio,
                               int blocked, const ds_alloc *a);
DSDEF void ds_sbloom_free(ds_sbloom *s);
DSDEF void ds_sbloom_clear(ds_sbloom *s);
DSDEF ds_status ds_sbloom_add_hash(ds_sbloom *s, uint64_t h, int *added);
DSDEF int ds_sbloom_has_hash(const ds_sbloom *s, uint64_t h);
static inline ds_status ds_sbloom_add(ds_sbloom *s, const void *key, size_t len, int *added) {
    if (!key && len) return DS_EINVAL;
    return ds_sbloom_add_hash(s, ds_hash_bytes(key, len, 0), added);
}
static inline int ds_sbloom_has(const ds_sbloom *s, const void *key, size_t len) {
    if (!key && len) return 0;
    return ds_sbloom_has_hash(s, ds_hash_bytes(key, len, 0));
}
DSDEF uint64_t ds_sbloom_len(const ds_sbloom *s);
DSDEF size_t ds_sbloom_filters(const ds_sbloom *s);
DSDEF double ds_sbloom_fpp(const ds_sbloom *s);
DSDEF size_t ds_sbloom_memory(const ds_sbloom *s);
DSDEF ds_status ds_sbloom_save(const ds_sbloom *s, ds_writer w);
DSDEF ds_status ds_sbloom_load(ds_sbloom *s, ds_reader *r, const ds_alloc *a);

/* ========================================================================
 * == ds:cuckoo ==  cuckoo filter with deletion
 * ========================================================================
 * Fan, Andersen, Kaminsky & Mitzenmacher, "Cuckoo Filter: Practically
 * Better Than Bloom" (CoNEXT 2014): a table of buckets of 4 fingerprints;
 * a key's fingerprint f lives in bucket i1 (from the hash) or
 * i2 = (H(f) - i1) mod buckets (partial-key cuckoo hashing: either bucket
 * finds the other from f alone, which is what makes deletion possible;
 * Fan et al. use i1 ^ H(f), which needs a power-of-two table). Up to ~95% full.
 * False-positive rate <= 8 / 2^fp_bits (two buckets of 4): 3% at 8 bits,
 * 0.2% at 12, 0.012% at 16.
 *
 * Insert into a full table relocates fingerprints for at most max_kicks
 * steps (500, the field's default and its ceiling); if that fails it undoes every move and returns DS_EFULL,
 * so no previously inserted key is ever lost. The same key may be added
 * several times (a multiset: up to 8 copies, 4 if its two buckets
 * coincide); del removes one copy. Only
 * delete keys you added, or another key with the same fingerprint may
 * lose its entry (a false negative for that key).
 *
 *   ds_status ds_cuckoo_init(ds_cuckoo *c, uint64_t capacity, unsigned fp_bits,
 *                            const ds_alloc *a)
 *          room for `capacity` keys at 92% occupancy (buckets =
 *          ceil(capacity / 3.68); inserts usually succeed to ~95%, and
 *          DS_EFULL says when not); fp_bits 4..16, stored in 1 byte up to 8
 *          and 2 bytes above (so 8 and 16 waste nothing).
 *          DS_EINVAL if capacity == 0, fp_bits out of range, or > 2^40
 *          buckets; DS_ENOMEM.
 *   ds_status ds_cuckoo_add(ds_cuckoo *c, const void *key, size_t len)  DS_EFULL
 *   int    ds_cuckoo_has(const ds_cuckoo *c, const void *key, size_t len)
 *   ds_status ds_cuckoo_del(ds_cuckoo *c, const void *key, size_t len)  DS_ENOTFOUND
 *   unsigned ds_cuckoo_count(const ds_cuckoo *c, const void *key, size_t len)
 *          copies of the key's fingerprint in its two buckets (0..8)
 *   uint64_t ds_cuckoo_len(c), ds_cuckoo_capacity(c) (slots = buckets * 4)
 *   double ds_cuckoo_fill(c)     len / slots (the load factor)
 *   save/load/clear/free/memory as for ds_bloom.
 * Complexity: has/del/count O(1) (two buckets); add expected O(1),
 * worst O(max_kicks). Memory: buckets * 4 * (1 or 2) bytes. */
typedef struct ds_cuckoo {
    unsigned char *t;  /* buckets * 4 slots of 1 or 2 bytes; 0 = empty */
    uint64_t nb;       /* buckets (any count: see ds__ck_alt) */
    uint64_t len;
    uint64_t rng;      /* victim choice when kicking (splitmix64 state) */
    unsigned fp_bits, slot_bytes, max_kicks;
    const ds_alloc *alloc;
} ds_cuckoo;

DSDEF ds_status ds_cuckoo_init(ds_cuckoo *c, uint64_t capacity, unsigned fp_bits,
                               const ds_alloc *a);
DSDEF void ds_cuckoo_free(ds_cuckoo *c);
DSDEF void ds_cuckoo_clear(ds_cuckoo *c);
DSDEF ds_status ds_cuckoo_add_hash(ds_cuckoo *c, uint64_t h);
DSDEF int ds_cuckoo_has_hash(const ds_cuckoo *c, uint64_t h);
DSDEF ds_status ds_cuckoo_del_hash(ds_cuckoo *c, uint64_t h);
DSDEF unsigned ds_cuckoo_count_hash(const ds_cuckoo *c, uint64_t h);
static inline ds_status ds_cuckoo_add(ds_cuckoo *c, const void *key, size_t len) {
    if (!key && len) return DS_EINVAL;
    return ds_cuckoo_add_hash(c, ds_hash_bytes(key, len, 0));
}
static inline int ds_cuckoo_has(const ds_cuckoo *c, const void *key, size_t len) {
    if (!key && len) return 0;
    return ds_cuckoo_has_hash(c, ds_hash_bytes(key, len, 0));
}
static inline ds_status ds_cuckoo_del(ds_cuckoo *c, const void *key, size_t len) {
    if (!key && len) return DS_EINVAL;
    return ds_cuckoo_del_hash(c, ds_hash_bytes(key, len, 0));
}
static inline unsigned ds_cuckoo_count(const ds_cuckoo *c, const void *key, size_t len) {
    if (!key && len) return 0;
    return ds_cuckoo_count_hash(c, ds_hash_bytes(key, len, 0));
}
DSDEF uint64_t ds_cuckoo_len(const ds_cuckoo *c);
DSDEF uint64_t ds_cuckoo_capacity(const ds_cuckoo *c);
DSDEF double ds_cuckoo_fill(const ds_cuckoo *c);
DSDEF size_t ds_cuckoo_memory(const ds_cuckoo *c);
DSDEF ds_status ds_cuckoo_save(const ds_cuckoo *c, ds_writer w);
DSDEF ds_status ds_cuckoo_load(ds_cuckoo *c, ds_reader *r, const ds_alloc *a);

/* ========================================================================
 * == ds:cms ==  count-min sketch
 * ========================================================================
 * Cormode & Muthukrishnan 2005: d rows of w counters; add increments one
 * counter per row, query takes the row minimum. Never under-counts; with
 * w = ceil(e/eps) and d = ceil(ln(1/delta)), an estimate exceeds the true
 * count by more than eps * total with probability at most delta.
 * Conservative update (Estan & Varghese 2002) raises each of the key's
 * counters only as far as the new estimate needs: the same guarantee,
 * much smaller error on skewed streams, but merge/subtract semantics are
 * lost for the result (merged sketches still never under-count).
 * 32-bit counters saturate at UINT32_MAX instead of wrapping; the total
 * is 64-bit.
 *
 *   ds_status ds_cms_init(ds_cms *s, uint32_t width, uint32_t depth, const ds_alloc *a)
 *          width 1..2^31, depth 1..64; DS_EINVAL otherwise or if w*d*4
 *          bytes overflow; DS_ENOMEM.
 *   ds_status ds_cms_init_error(ds_cms *s, double eps, double delta, const ds_alloc *a)
 *          eps, delta in (0,1).
 *   void   ds_cms_set_conservative(ds_cms *s, int on)
 *   uint32_t ds_cms_add(ds_cms *s, const void *key, size_t len, uint32_t count)
 *          adds count, returns the key's new estimate (as CMS.INCRBY).
 *   uint32_t ds_cms_query(const ds_cms *s, const void *key, size_t len)
 *   uint64_t ds_cms_total(const ds_cms *s)   sum of all counts added
 *   ds_status ds_cms_merge(ds_cms *dst, const ds_cms *const *src, const uint32_t *weights,
 *                          size_t n)
 *          dst = sum of weights[i] * src[i] (weights NULL = all 1), as
 *          CMS.MERGE; dst may be one of the sources. DS_EINVAL unless every
 *          width and depth equal dst's.
 *   save/load/clear/free/memory as for ds_bloom.
 * Complexity: add/query O(d); merge O(n w d). Memory: 4 w d bytes. */
typedef struct ds_cms {
    uint32_t *c;       /* depth rows of width counters */
    uint32_t w, d;
    int conservative;
    uint64_t total;
    const ds_alloc *alloc;
} ds_cms;

DSDEF ds_status ds_cms_init(ds_cms *s, uint32_t width, uint32_t depth, const ds_alloc *a);
DSDEF ds_status ds_cms_init_error(ds_cms *s, double eps, double delta, const ds_alloc *a);
DSDEF void ds_cms_free(ds_cms *s);
DSDEF void ds_cms_clear(ds_cms *s);
DSDEF void ds_cms_set_conservative(ds_cms *s, int on);
DSDEF uint32_t ds_cms_add_hash(ds_cms *s, uint64_t h, uint32_t count);
DSDEF uint32_t ds_cms_query_hash(const ds_cms *s, uint64_t h);
static inline uint32_t ds_cms_add(ds_cms *s, const void *key, size_t len, uint32_t count) {
    if (!key && len) return 0;
    return ds_cms_add_hash(s, ds_hash_bytes(key, len, 0), count);
}
static inline uint32_t ds_cms_query(const ds_cms *s, const void *key, size_t len) {
    if (!key && len) return 0;
    return ds_cms_query_hash(s, ds_hash_bytes(key, len, 0));
}
DSDEF uint64_t ds_cms_total(const ds_cms *s);
DSDEF ds_status ds_cms_merge(ds_cms *dst, const ds_cms *const *src, const uint32_t *weights,
                             size_t n);
DSDEF size_t ds_cms_memory(const ds_cms *s);
DSDEF ds_status ds_cms_save(const ds_cms *s, ds_writer w);
DSDEF ds_status ds_cms_load(ds_cms *s, ds_reader *r, const ds_alloc *a);

/* ========================================================================
 * == ds:topk ==  heavy hitters: Space-Saving
 * ========================================================================
 * The k most frequent keys of an unbounded stream in fixed memory, by
 * Space-Saving (Metwally, Agrawal & El Abbadi 2005): `capacity` counters
 * each monitor one key; a new key takes over the counter with the least
 * count c, starting at c + weight with error c.
 *
 * Why Space-Saving and not HeavyKeeper (RedisBloom's TOPK): its bounds are
 * deterministic, with no hash collisions or random decay. For every
 * monitored key, count - err <= true count <= count; every key whose true
 * count exceeds total/capacity is monitored; and the reported counts
 * overestimate by at most total/capacity. HeavyKeeper can use less memory
 * per key on very skewed streams but gives only probabilistic bounds.
 * Keys are copied (any length); memory is capacity * (~64 + key bytes).
 *
 * The "top list" is the k monitored keys with the largest counts.
 *
 *   ds_status ds_topk_init(ds_topk *t, size_t k, size_t capacity, const ds_alloc *a)
 *          k >= 1; capacity >= k counters (0 = max(8k, 64)); DS_EINVAL /
 *          DS_ENOMEM.
 *   ds_status ds_topk_add(ds_topk *t, const void *key, size_t len, uint64_t weight,
 *                         ds_topk_item *expelled)
 *          count the key `weight` times (weight >= 1). If that pushed a key
 *          out of the top list, *expelled (may be NULL) describes it (key,
 *          count and err as it left; the key bytes live in t, valid until
 *          the next add, and may be passed straight back to add); else
 *          expelled->key = NULL. DS_ENOMEM (a longer key needs a buffer;
 *          nothing changes), DS_EINVAL.
 *   int    ds_topk_has(const ds_topk *t, const void *key, size_t len)   in the top list
 *   uint64_t ds_topk_count(const ds_topk *t, const void *key, size_t len)
 *          the estimated count (0 if not monitored)
 *   size_t ds_topk_list(const ds_topk *t, ds_topk_item *out, size_t cap)
 *          the top list, largest count first; returns how many written.
 *          Item keys point into t, valid until the next add/clear/free.
 *   uint64_t ds_topk_total(t); void ds_topk_clear(t), ds_topk_free(t)
 * Complexity: add O(log capacity) expected; has/count O(1) expected;
 * list O(k * cap) (insertion into the caller's array). */
typedef struct ds_topk_item {
    const void *key;
    size_t len;
    uint64_t count;    /* estimated count (an upper bound) */
    uint64_t err;      /* count - err is a lower bound */
} ds_topk_item;

typedef struct ds__ss_ctr ds__ss_ctr;
typedef struct ds_topk {
    ds__ss_ctr *ctr;   /* capacity counters */
    uint32_t *heap;    /* min-heap of all used counters by count */
    uint32_t *top;     /* min-heap of the top list (<= k counters) */
    uint32_t *index;   /* open addressing: counter + 1, 0 = empty */
    size_t k, cap, used, ntop, imask;
    uint64_t total;
    unsigned char *scratch; /* the expelled key */
    size_t scratch_cap;
    const ds_alloc *alloc;
} ds_topk;

DSDEF ds_status ds_topk_init(ds_topk *t, size_t k, size_t capacity, const ds_alloc *a);
DSDEF void ds_topk_free(ds_topk *t);
DSDEF void ds_topk_clear(ds_topk *t);
DSDEF ds_status ds_topk_add(ds_topk *t, const void *key, size_t len, uint64_t weight,
                            ds_topk_item *expelled);
DSDEF int ds_topk_has(const ds_topk *t, const void *key, size_t len);
DSDEF uint64_t ds_topk_count(const ds_topk *t, const void *key, size_t len);
DSDEF size_t ds_topk_list(const ds_topk *t, ds_topk_item *out, size_t cap);
DSDEF uint64_t ds_topk_total(const ds_topk *t);

/* ========================================================================
 * == ds:hll ==  HyperLogLog cardinality estimation
 * ========================================================================
 * Flajolet, Fusy, Gandouet & Meunier 2007, with Ertl's improved estimator
 * ("New cardinality estimation algorithms for HyperLogLog sketches",
 * 2017; as Redis since 4.0): it uses the register histogram, needs no
 * empirical bias tables, and is accurate from 0 to far beyond 2^32 with
 * no small- or large-range switch-over. m = 2^p registers of 6 bits,
 * packed; standard error 1.04/sqrt(m) (0.81% at p = 14, 12 KiB).
 *
 *   ds_status ds_hll_init(ds_hll *h, unsigned p, const ds_alloc *a)   p in 4..18
 *   int    ds_hll_add(ds_hll *h, const void *key, size_t len)  1 if a register changed
 *   double ds_hll_count(const ds_hll *h)       estimated distinct keys
 *   double ds_hll_error(const ds_hll *h)       1.04 / sqrt(m)
 *   ds_status ds_hll_merge(ds_hll *dst, const ds_hll *src)  register max;
 *          equals the sketch of the union; DS_EINVAL if p differs
 *   save/load/clear/free/memory as for ds_bloom.
 * Complexity: add O(1); count O(m); merge O(m). Memory: 6m/8 bytes. */
typedef struct ds_hll {
    unsigned char *reg; /* m 6-bit registers, packed little-endian, + 1 pad byte */
    unsigned p;
    const ds_alloc *alloc;
} ds_hll;

DSDEF ds_status ds_hll_init(ds_hll *h, unsigned p, const ds_alloc *a);
DSDEF void ds_hll_free(ds_hll *h);
DSDEF void ds_hll_clear(ds_hll *h);
DSDEF int ds_hll_add_hash(ds_hll *h, uint64_t hash);
static inline int ds_hll_add(ds_hll *h, const void *key, size_t len) {
    if (!key && len) return 0;
    return ds_hll_add_hash(h, ds_hash_bytes(key, len, 0));
}
DSDEF double ds_hll_count(const ds_hll *h);
DSDEF double ds_hll_error(const ds_hll *h);
DSDEF ds_status ds_hll_merge(ds_hll *dst, const ds_hll *src);
DSDEF size_t ds_hll_memory(const ds_hll *h);
DSDEF ds_status ds_hll_save(const ds_hll *h, ds_writer w);
DSDEF ds_status ds_hll_load(ds_hll *h, ds_reader *r, const ds_alloc *a);

/* ========================================================================
 * == ds:cache ==  DS_LRU(name, K, V, hash, eq): LRU / W-TinyLFU cache
 * ========================================================================
 * A bounded key-value cache with O(1) get/put/del: the foundation's hash
 * table as the index (4-byte slots holding node ids) over a dense node
 * array, with intrusive recency lists linked by 32-bit indexes.
 *
 * Bounds: max_entries and/or max_weight (a weigher callback gives each
 * entry's weight; it must return the same weight for the same entry, as it
 * is asked again at removal rather than stored). set_capacity evicts down
 * to a new bound at once.
 *
 * Expiry: a default TTL and per-entry TTLs (0 = never expires), measured
 * from the write, or from every access with expire_after_access. Time is
 * always the caller's `now` (int64 ns). An entry with expire <= now is
 * dead: get/peek never return it (get removes it, reason EXPIRED), and
 * expire(now, budget) removes up to `budget` dead entries, soonest
 * deadline first (a min-heap on deadlines), for active sweeping.
 *
 * When a bound is exceeded, dead entries go first (soonest deadline, reason
 * EXPIRED), then live ones by policy (reason CAPACITY). Pointers returned by
 * get/peek/get_or_load stay valid until the next call that changes the
 * cache (any put, get, del, expire, set_capacity, clear).
 *
 * Removal callback on_evict(ctx, key, val, reason) for every entry that
 * leaves, with the reason: DS_EVICT_CAPACITY, DS_EVICT_EXPIRED,
 * DS_EVICT_DELETED (del without an out pointer, clear, free) or
 * DS_EVICT_REPLACED (put over an existing key: the old key and value).
 * So owned keys and values can be freed and nothing is lost silently. The
 * callback must not call back into the cache.
 *
 * Policies, chosen at init:
 *   DS_CACHE_LRU       evict the least recently used.
 *   DS_CACHE_WTINYLFU  Einziger, Friedman & Manes, "TinyLFU: A Highly
 *     Efficient Cache Admission Policy" (2017), as in Caffeine: a window
 *     LRU of 1% of the capacity in front of a segmented main LRU
 *     (probation 20%, protected 80%). An entry leaving the window enters
 *     main only if its estimated frequency beats main's victim (the
 *     probation LRU), from a 4-bit count-min sketch (4 rows) with a
 *     doorkeeper bit set, halved every 10 x capacity accesses (aging). A
 *     hit in probation promotes to protected. Bounded by entries or by
 *     weight, not both.
 *
 * Config (zero-initialise, then set what you need):
 *   size_t max_entries; uint64_t max_weight;    0 = no such bound
 *   uint64_t (*weigher)(void *ctx, K const *key, V const *val);  NULL = 1
 *   int64_t default_ttl;      ns; 0 = entries never expire
 *   int expire_after_access;  deadlines move to now + ttl on every hit
 *   int64_t negative_ttl;     > 0: get_or_load caches a DS_ENOTFOUND from
 *                             the loader as a negative entry this long
 *   void (*on_evict)(void *ctx, K *key, V *val, ds_evict why);
 *   void *ctx;                passed to weigher, on_evict
 *   ds_cache_policy policy;   DS_CACHE_LRU (default) or DS_CACHE_WTINYLFU
 *   const ds_alloc *alloc; uint64_t seed (0 = per-instance random)
 *
 *   ds_status name_init(name *c, const name_config *cfg)
 *          DS_EINVAL: negative TTLs, W-TinyLFU with both bounds or none,
 *          max_entries above 2^31.
 *   void   name_free(name *c)       removes everything (DELETED), frees
 *   void   name_clear(name *c)      removes everything (DELETED)
 *   V     *name_get(name *c, K key, int64_t now)    hit: promotes, may
 *          extend the deadline; NULL on miss (or a negative entry)
 *   V     *name_peek(const name *c, K key, int64_t now)  no promotion, no
 *          stats, no removal
 *   ds_status name_put(name *c, K key, V val, int64_t now)   default TTL
 *   ds_status name_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now)
 *          insert or replace (REPLACED callback for the old pair), then
 *          evict down to the bounds. DS_EINVAL: ttl < 0 or now + ttl
 *          overflows; DS_ENOMEM (cache unchanged). An entry heavier than
 *          the whole bound is admitted and evicted at once (CAPACITY).
 *   ds_status name_del(name *c, K key, V *out)   DS_ENOTFOUND; with out,
 *          the value moves to the caller and no callback runs; without,
 *          the callback runs with DELETED
 *   ds_status name_get_or_load(name *c, K key, int64_t now,
 *              ds_status (*loader)(void *lctx, K const *key, V *out, int64_t *ttl),
 *              void *lctx, V **out)
 *          read-through: a hit returns DS_OK and *out; a miss calls the
 *          loader once (which may set *ttl, preset to the default TTL) and
 *          caches what it returns. A loader error caches nothing and is
 *          returned, except DS_ENOTFOUND with negative_ttl > 0, which is
 *          cached as a negative entry (later calls return DS_ENOTFOUND
 *          without loading until it expires).
 *   ds_status name_set_capacity(name *c, size_t max_entries, uint64_t max_weight, int64_t now)
 *   size_t name_expire(name *c, int64_t now, size_t budget)  dead entries removed
 *   size_t name_len(c); uint64_t name_weight(c); ds_cache_stats name_stats(c)
 *   void   name_reset_stats(c)
 *   uint32_t name_first(c), name_next(c, it)   most to least recent (W-TinyLFU:
 *          window, then protected, then probation); DS_CACHE_END at the end.
 *          K *name_key(c, it), V *name_val(c, it). Do not modify the cache
 *          while iterating.
 *
 * Complexity: get/put/del O(1) expected (O(log n) with TTLs: the deadline
 * heap); expire O(budget log n); set_capacity O(evicted).
 * Memory: one node per entry, sizeof(K) + sizeof(V) + 9 bytes of links
 * (padded to the node's alignment); plus 16 bytes per entry for deadlines
 * once any entry has a TTL (24 with expire_after_access); plus the index, 5
 * bytes a slot at up to 7/8 load; plus, for W-TinyLFU, about 8 bytes per entry
 * of frequency sketch (as Caffeine). DS_ENOMEM leaves the cache unchanged.
 * Thread-safety: none; get mutates (recency, stats). */

typedef enum ds_evict {
    DS_EVICT_CAPACITY = 0,
    DS_EVICT_EXPIRED = 1,
    DS_EVICT_DELETED = 2,
    DS_EVICT_REPLACED = 3
} ds_evict;
#define DS_EVICT_REASONS 4
DSDEF const char *ds_evict_name(ds_evict why);

typedef enum ds_cache_policy { DS_CACHE_LRU = 0, DS_CACHE_WTINYLFU = 1 } ds_cache_policy;

typedef struct ds_cache_stats {
    uint64_t hits, misses;           /* get, get_or_load lookups */
    uint64_t loads, load_errors;     /* loader calls that succeeded / failed */
    uint64_t evictions[DS_EVICT_REASONS];
} ds_cache_stats;
/* hits / (hits + misses), 0 when there were no lookups. */
static inline double ds_cache_hit_rate(const ds_cache_stats *s) {
    uint64_t n = s->hits + s->misses;
    return n ? (double)s->hits / (double)n : 0.0;
}

#define DS_CACHE_END UINT32_MAX
#define DS__CSEG_WINDOW 0    /* the only list of plain LRU */
#define DS__CSEG_PROBATION 1
#define DS__CSEG_PROTECTED 2
#define DS__CF_SEG 3u        /* flags: segment bits */
#define DS__CF_NEG 4u        /* flags: a negative (known-absent) entry */

/* W-TinyLFU's frequency sketch: 4 rows of 4-bit counters packed 16 to a
 * word, plus a doorkeeper bit array that absorbs one-hit wonders. */
typedef struct ds__freq {
    uint64_t *rows;    /* 4 * width / 16 words */
    uint64_t *door;    /* width bits */
    size_t width;      /* counters per row, a power of two */
    uint64_t adds, sample;
} ds__freq;

/* Per-node links, at the start of each typed node (before key and value). */
typedef struct ds__clink {
    uint32_t prev, next;
    uint8_t flags;           /* segment (DS__CF_SEG) | DS__CF_NEG */
} ds__clink;

/* The type-erased state every DS_LRU wraps. Nodes are one array of typed
 * structs {key, val, links}, so a hit touches the index and one node (plus
 * its list neighbours); deadlines live in side arrays that exist only once
 * an entry has a TTL, so a cache without TTLs pays nothing for them. */
typedef struct ds__cache {
    ds__map index;           /* slots: uint32 node id */
    unsigned char *nodes;    /* node_cap nodes of nsz bytes */
    size_t nsz, link;        /* node size; offset of its ds__clink */
    int64_t *expire;         /* per node (INT64_MAX: never), when timed */
    int64_t *ttl;            /* per node, with expire_after_access */
    uint32_t *hpos, *heap;   /* deadline min-heap, when timed */
    int timed;               /* the deadline arrays are kept */
    uint32_t head[3], tail[3], free_list;
    size_t len, node_cap, used, nheap;
    uint64_t weight, segw[3];
    ds__freq freq;
    ds_cache_stats stats;
} ds__cache;

/* -- type-erased helpers (static inline: the typed code below calls them
 *    with constants, so they specialise) -- */

#define DS__CNIL UINT32_MAX

static inline ds__clink *ds__cl(const ds__cache *c, uint32_t id) {
    return (ds__clink *)(void *)(c->nodes + (size_t)id * c->nsz + c->link);
}
static inline unsigned ds__cache_seg(const ds__cache *c, uint32_t id) { return ds__cl(c, id)->flags & DS__CF_SEG; }
/* INT64_MAX is "never", even at now == INT64_MAX. */
static inline int ds__cache_dead(const ds__cache *c, uint32_t id, int64_t now) {
    return c->expire && c->expire[id] != INT64_MAX && c->expire[id] <= now;
}
static inline void ds__cache_unlink(ds__cache *c, uint32_t id) {
    ds__clink *l = ds__cl(c, id);
    unsigned s = l->flags & DS__CF_SEG;
    if (l->prev != DS__CNIL) ds__cl(c, l->prev)->next = l->next; else c->head[s] = l->next;
    if (l->next != DS__CNIL) ds__cl(c, l->next)->prev = l->prev; else c->tail[s] = l->prev;
}
static inline void ds__cache_push_front(ds__cache *c, unsigned s, uint32_t id) {
    ds__clink *l = ds__cl(c, id);
    l->flags = (uint8_t)((l->flags & ~DS__CF_SEG) | s);
    l->prev = DS__CNIL;
    l->next = c->head[s];
    if (c->head[s] != DS__CNIL) ds__cl(c, c->head[s])->prev = id; else c->tail[s] = id;
    c->head[s] = id;
}

/* Deadline min-heap over node ids (nodes that never expire are not in it). */
static inline void ds__cheap_place(ds__cache *c, size_t i, uint32_t id) {
    c->heap[i] = id;
    c->hpos[id] = (uint32_t)i;
}
static inline void ds__cheap_sift(ds__cache *c, size_t i) {
    uint32_t id = c->heap[i];
    int64_t e = c->expire[id];
    size_t k;
    while (i > 0 && e < c->expire[c->heap[(i - 1) / 2]]) {
        ds__cheap_place(c, i, c->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    while ((k = 2 * i + 1) < c->nheap) {
        if (k + 1 < c->nheap && c->expire[c->heap[k + 1]] < c->expire[c->heap[k]]) k++;
        if (c->expire[c->heap[k]] >= e) break;
        ds__cheap_place(c, i, c->heap[k]);
        i = k;
    }
    ds__cheap_place(c, i, id);
}
/* Set id's deadline, entering or leaving the heap as needed. */
static inline void ds__cache_set_expire(ds__cache *c, uint32_t id, int64_t when) {
    uint32_t at;
    if (!c->expire) return; /* untimed: every entry is "never" (callers make it timed first) */
    at = c->hpos[id];
    c->expire[id] = when;
    if (when == INT64_MAX) {
        if (at != DS__CNIL) {
            uint32_t last = c->heap[--c->nheap];
            c->hpos[id] = DS__CNIL;
            if (last != id) {
                ds__cheap_place(c, at, last);
                ds__cheap_sift(c, at);
            }
        }
    } else if (at == DS__CNIL) {
        ds__cheap_place(c, c->nheap++, id);
        ds__cheap_sift(c, c->nheap - 1);
    } else {
        ds__cheap_sift(c, at);
    }
}

/* -- W-TinyLFU frequency sketch -- */
static inline void ds__freq_free(ds__freq *f, const ds_alloc *a) {
    if (f->rows) DS_FREE(a, f->rows, f->width / 4 * 8);
    if (f->door) DS_FREE(a, f->door, f->width / 8);
    memset(f, 0, sizeof *f);
}
static inline ds_status ds__freq_init(ds__freq *f, size_t entries, const ds_alloc *a) {
    size_t w = 64;
    while (w < 4 * entries && w < ((size_t)1 << 40)) w <<= 1;
    /* 4 rows * w counters * 4 bits = w / 2 bytes = w / 16 words per row */
    f->rows = (uint64_t *)DS_MALLOC(a, w / 4 * 8);
    f->door = (uint64_t *)DS_MALLOC(a, w / 8);
    if (!f->rows || !f->door) {
        if (f->rows) DS_FREE(a, f->rows, w / 4 * 8);
        if (f->door) DS_FREE(a, f->door, w / 8);
        f->rows = f->door = NULL;
        return DS_ENOMEM;
    }
    memset(f->rows, 0, w / 4 * 8);
    memset(f->door, 0, w / 8);
    f->width = w;
    f->adds = 0;
    f->sample = 10 * (uint64_t)(entries ? entries : 1);
    return DS_OK;
}
/* Counter r of a key (x = ds_mix64 of its hash, mixed once per access):
 * its word and nibble. All four counters of a key sit in
 * one 64-byte block (8 words; row r uses words 2r and 2r+1), so an access
 * costs one cache miss, not four (the layout of Caffeine's newer sketch). */
static inline size_t ds__freq_at(const ds__freq *f, uint64_t x, unsigned r, unsigned *shift) {
    unsigned sel = (unsigned)(x >> 40) >> (5 * r);
    size_t block = (size_t)x & (f->width / 32 - 1); /* width / 4 words = width / 32 blocks */
    *shift = ((sel >> 1) & 15u) * 4;
    return block * 8 + 2 * r + (sel & 1u);
}
/* The doorkeeper: two bits of one word. */
static inline int ds__freq_door(const ds__freq *f, uint64_t h, int set) {
    size_t w = (size_t)(h >> 20) & (f->width / 64 - 1);
    uint64_t bits = ((uint64_t)1 << ((h >> 8) & 63)) | ((uint64_t)1 << ((h >> 14) & 63));
    int had = (f->door[w] & bits) == bits;
    if (set) f->door[w] |= bits;
    return had;
}
static inline unsigned ds__freq_estimate(const ds__freq *f, uint64_t h) {
    unsigned r, shift, est = 15;
    uint64_t x = ds_mix64(h);
    for (r = 0; r < 4; r++) {
        size_t w = ds__freq_at(f, x, r, &shift);
        unsigned v = (unsigned)(f->rows[w] >> shift) & 15u;
        if (v < est) est = v;
    }
    return est + (unsigned)ds__freq_door(f, h, 0);
}
static inline void ds__freq_add(ds__freq *f, uint64_t h) {
    unsigned r, shift;
    uint64_t x;
    if (!ds__freq_door(f, h, 1)) return; /* first sighting since the last reset */
    x = ds_mix64(h);
    for (r = 0; r < 4; r++) {
        size_t w = ds__freq_at(f, x, r, &shift);
        if (((f->rows[w] >> shift) & 15u) < 15u) f->rows[w] += (uint64_t)1 << shift;
    }
    if (++f->adds >= f->sample) { /* age: halve every counter, forget the door */
        size_t i;
        for (i = 0; i < f->width / 4; i++) f->rows[i] = (f->rows[i] >> 1) & 0x7777777777777777ull;
        memset(f->door, 0, f->width / 8);
        f->adds /= 2;
    }
}

/* Free the node block and the deadline arrays (fields left as they are). */
static inline void ds__cache_free_arrays(ds__cache *c, const ds_alloc *a) {
    if (c->nodes) DS_FREE(a, c->nodes, c->node_cap * c->nsz);
    if (c->expire) {
        DS_FREE(a, c->expire, c->node_cap * 8);
        DS_FREE(a, c->hpos, c->node_cap * 4);
        DS_FREE(a, c->heap, c->node_cap * 4);
        if (c->ttl) DS_FREE(a, c->ttl, c->node_cap * 8);
    }
}
/* (Re)allocate the nodes for cap entries, and the deadline arrays if the
 * cache is timed, copying the live prefix [0, used). Everything is
 * allocated before anything is freed: on DS_ENOMEM nothing changed. */
static inline ds_status ds__cache_grow(ds__cache *c, size_t cap, int with_ttl, const ds_alloc *a) {
    unsigned char *nn;
    int64_t *ne = NULL, *nt = NULL;
    uint32_t *nh = NULL, *np = NULL;
    size_t nb, i, u = c->used;
    int ok;
    if (cap == 0 || cap > (size_t)DS__CNIL - 1 || cap > SIZE_MAX / 8 || !ds_size_mul(cap, c->nsz, &nb))
        return DS_EINVAL;
    nn = (unsigned char *)DS_MALLOC(a, nb);
    ok = nn != NULL;
    if (ok && c->timed) {
        ne = (int64_t *)DS_MALLOC(a, cap * 8);
        np = (uint32_t *)DS_MALLOC(a, cap * 4);
        nh = (uint32_t *)DS_MALLOC(a, cap * 4);
        if (with_ttl) nt = (int64_t *)DS_MALLOC(a, cap * 8);
        ok = ne && np && nh && (!with_ttl || nt);
    }
    if (!ok) {
        if (nn) DS_FREE(a, nn, nb);
        if (ne) DS_FREE(a, ne, cap * 8);
        if (np) DS_FREE(a, np, cap * 4);
        if (nh) DS_FREE(a, nh, cap * 4);
        if (nt) DS_FREE(a, nt, cap * 8);
        return DS_ENOMEM;
    }
    if (u) memcpy(nn, c->nodes, u * c->nsz);
    if (c->timed && c->expire) { /* carry the deadlines over */
        memcpy(ne, c->expire, u * 8);
        memcpy(np, c->hpos, u * 4);
        memcpy(nh, c->heap, c->nheap * 4);
        if (with_ttl) memcpy(nt, c->ttl, u * 8);
    } else if (c->timed) { /* becoming timed: every existing entry never expires */
        for (i = 0; i < u; i++) {
            ne[i] = INT64_MAX;
            np[i] = DS__CNIL;
            if (with_ttl) nt[i] = 0;
        }
    }
    ds__cache_free_arrays(c, a);
    c->nodes = nn;
    c->expire = ne;
    c->hpos = np;
    c->heap = nh;
    c->ttl = nt;
    c->node_cap = cap;
    return DS_OK;
}
/* Free the node and deadline arrays (the entries must be gone). */
static inline void ds__cache_release(ds__cache *c, const ds_alloc *a) {
    ds__cache_free_arrays(c, a);
    c->nodes = NULL;
    c->expire = c->ttl = NULL;
    c->hpos = c->heap = NULL;
    c->node_cap = c->used = c->nheap = 0;
    c->free_list = DS__CNIL;
}

#define DS__LRU_TYPES(name, K, V)                                                       \
    typedef struct name##_config {                                                      \
        size_t max_entries;                                                             \
        uint64_t max_weight;                                                            \
        uint64_t (*weigher)(void *ctx, K const *key, V const *val);                     \
        int64_t default_ttl;                                                            \
        int expire_after_access;                                                        \
        int64_t negative_ttl;                                                           \
        void (*on_evict)(void *ctx, K *key, V *val, ds_evict why);                      \
        void *ctx;                                                                      \
        ds_cache_policy policy;                                                         \
        const ds_alloc *alloc;                                                          \
        uint64_t seed;                                                                  \
    } name##_config;                                                                    \
    typedef struct name##_node { /* links and key share the first cache line */        \
        ds__clink l;                                                                    \
        K key;                                                                          \
        V val;                                                                          \
    } name##_node;                                                                      \
    typedef struct name {                                                               \
        ds__cache c;                                                                    \
        name##_config cfg;                                                              \
        uint64_t wmax, main_max, prot_max; /* W-TinyLFU segment budgets */              \
        uint64_t climb_hits, climb_misses; /* the hill climber's current sample */      \
        double climb_rate, climb_step;                                                  \
    } name;                                                                             \
    typedef ds_status (*name##_loader)(void *lctx, K const *key, V *out, int64_t *ttl)

#define DS__LRU_PROTOS(name, K, V, LINK)                                               \
    LINK ds_status name##_init(name *c, const name##_config *cfg);                     \
    LINK void name##_free(name *c);                                                    \
    LINK void name##_clear(name *c);                                                   \
    LINK V *name##_get(name *c, K key, int64_t now);                                   \
    LINK V *name##_peek(const name *c, K key, int64_t now);                            \
    LINK ds_status name##_put(name *c, K key, V val, int64_t now);                     \
    LINK ds_status name##_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now);    \
    LINK ds_status name##_del(name *c, K key, V *out);                                 \
    LINK ds_status name##_get_or_load(name *c, K key, int64_t now, name##_loader load, \
                                      void *lctx, V **out);                            \
    LINK ds_status name##_set_capacity(name *c, size_t max_entries, uint64_t max_weight, \
                                       int64_t now);                                   \
    LINK size_t name##_expire(name *c, int64_t now, size_t budget);                    \
    LINK size_t name##_len(const name *c);                                             \
    LINK uint64_t name##_weight(const name *c);                                        \
    LINK size_t name##_memory(const name *c);                                          \
    LINK ds_cache_stats name##_stats(const name *c);                                   \
    LINK void name##_reset_stats(name *c);                                             \
    LINK uint32_t name##_first(const name *c);                                         \
    LINK uint32_t name##_next(const name *c, uint32_t it);                             \
    LINK K *name##_key(const name *c, uint32_t it);                                    \
    LINK V *name##_val(const name *c, uint32_t it)

#define DS__LRU_IMPL(name, K, V, hash, eq, LINK)                                        \
    typedef struct name##__probe {                                                      \
        const name##_node *nodes;                                                       \
        K key;                                                                          \
    } name##__probe;                                                                    \
    static inline name##_node *name##__n(const name *c, uint32_t id) {                  \
        return (name##_node *)(void *)c->c.nodes + id;                                  \
    }                                                                                   \
    static inline K *name##__k(const name *c, uint32_t id) { return &name##__n(c, id)->key; } \
    static inline V *name##__v(const name *c, uint32_t id) { return &name##__n(c, id)->val; } \
    static inline int name##__ieq(const void *p, const void *slot) {                    \
        const name##__probe *q = (const name##__probe *)p;                              \
        uint32_t id;                                                                    \
        memcpy(&id, slot, 4);                                                           \
        return (eq(q->nodes[id].key, q->key)) != 0;                                     \
    }                                                                                   \
    /* Node id of key (DS__CNIL if absent) and its index slot. */                       \
    static inline uint32_t name##__find(const name *c, K key, uint64_t h, size_t *slot) { \
        name##__probe q;                                                                \
        size_t i;                                                                       \
        uint32_t id = DS__CNIL;                                                         \
        q.nodes = (const name##_node *)(const void *)c->c.nodes;                        \
        q.key = key;                                                                    \
        i = ds__map_find(&c->c.index, h, &q, 4, name##__ieq);                           \
        if (i != DS__NPOS) memcpy(&id, c->c.index.slots + 4 * i, 4);                   \
        if (slot) *slot = i;                                                            \
        return id;                                                                      \
    }                                                                                   \
    static inline uint64_t name##__weight_of(const name *c, uint32_t id) {             \
        return c->cfg.weigher ? c->cfg.weigher(c->cfg.ctx, name##__k(c, id), name##__v(c, id)) : 1u; \
    }                                                                                   \
    /* A fresh index with room for n live nodes, filled from the lists. */              \
    static inline ds_status name##__build_index(const name *c, size_t n, ds__map *out) { \
        size_t cap = ds__map_cap_for(n);                                                \
        unsigned s;                                                                     \
        ds_status st;                                                                   \
        if (!cap) return DS_EINVAL;                                                     \
        ds__map_init(out, c->cfg.alloc, c->c.index.seed);                               \
        if ((st = ds__map_resize(out, cap, 4, NULL)) != DS_OK) return st;               \
        for (s = 0; s < 3; s++) {                                                       \
            uint32_t id;                                                                \
            for (id = c->c.head[s]; id != DS__CNIL; id = ds__cl(&c->c, id)->next) {     \
                uint64_t h = hash(*name##__k(c, id), out->seed);                        \
                size_t i = ds__map_find_free(out, h);                                   \
                out->ctrl[i] = ds__map_tag(h);                                          \
                memcpy(out->slots + 4 * i, &id, 4);                                     \
                out->len++;                                                             \
                out->growth_left--;                                                     \
            }                                                                           \
        }                                                                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    /* Room for one more node and its index slot; nothing changes on failure. */        \
    static inline ds_status name##__reserve_one(name *c) {                              \
        ds__map idx;                                                                    \
        ds_status st;                                                                   \
        if (c->c.free_list == DS__CNIL && c->c.used == c->c.node_cap) {                 \
            size_t cap = c->c.node_cap < 8 ? 16 : c->c.node_cap * 2;                    \
            if (c->cfg.max_entries && cap > c->cfg.max_entries + 1)                     \
                cap = c->cfg.max_entries + 1 > c->c.node_cap ? c->cfg.max_entries + 1 : c->c.node_cap + 1; \
            if ((st = name##__build_index(c, cap, &idx)) != DS_OK) return st;           \
            st = ds__cache_grow(&c->c, cap, c->cfg.expire_after_access, c->cfg.alloc);   \
            if (st != DS_OK) {                                                          \
                ds__map_free(&idx, 4);                                                  \
                return st;                                                              \
            }                                                                           \
            ds__map_free(&c->c.index, 4);                                               \
            c->c.index = idx;                                                           \
        } else if (c->c.index.growth_left == 0) {                                       \
            /* Tombstones used the budget: rebuild at the same size. */                 \
            if ((st = name##__build_index(c, c->c.node_cap, &idx)) != DS_OK) return st; \
            ds__map_free(&c->c.index, 4);                                               \
            c->c.index = idx;                                                           \
        }                                                                               \
        return DS_OK;                                                                   \
    }                                                                                   \
    /* Take id out of every structure, then tell the owner (call != 0). */              \
    static inline void name##__remove(name *c, uint32_t id, ds_evict why, int call) {   \
        K k = *name##__k(c, id);                                                        \
        V v = *name##__v(c, id);                                                        \
        uint64_t w = name##__weight_of(c, id);                                          \
        size_t slot;                                                                    \
        unsigned s = ds__cache_seg(&c->c, id);                                          \
        (void)name##__find(c, k, hash(k, c->c.index.seed), &slot);                      \
        ds__map_erase_at(&c->c.index, slot);                                            \
        ds__cache_unlink(&c->c, id);                                                    \
        ds__cache_set_expire(&c->c, id, INT64_MAX);                                     \
        c->c.segw[s] -= w;                                                              \
        c->c.weight -= w;                                                               \
        c->c.len--;                                                                     \
        ds__cl(&c->c, id)->flags = 0;                                                   \
        ds__cl(&c->c, id)->next = c->c.free_list;                                       \
        c->c.free_list = id;                                                            \
        c->c.stats.evictions[why]++;                                                    \
        if (call && c->cfg.on_evict) c->cfg.on_evict(c->cfg.ctx, &k, &v, why);          \
    }                                                                                   \
    static inline int name##__over(const name *c) {                                     \
        return (c->cfg.max_entries && c->c.len > c->cfg.max_entries) ||                 \
               (c->cfg.max_weight && c->c.weight > c->cfg.max_weight);                  \
    }                                                                                   \
    static inline uint64_t name##__base(const name *c) {                                \
        return c->cfg.max_weight ? c->cfg.max_weight : (uint64_t)c->cfg.max_entries;   \
    }                                                                                   \
    /* Segment budgets for a window of w (clamped to [1, base]). */                    \
    static inline void name##__split(name *c, uint64_t w) {                             \
        uint64_t base = name##__base(c);                                                \
        c->wmax = w < 1 ? 1 : w > base ? base : w;                                      \
        c->main_max = base > c->wmax ? base - c->wmax : 0;                              \
        c->prot_max = c->main_max - c->main_max / 5;                                    \
    }                                                                                   \
    static inline void name##__sizes(name *c) {                                         \
        uint64_t base = name##__base(c);                                                \
        name##__split(c, base / 100);                                                   \
        c->climb_hits = c->climb_misses = 0;                                            \
        c->climb_rate = 0;                                                              \
        c->climb_step = -0.0625 * (double)base;                                         \
    }                                                                                   \
    static inline uint64_t name##__key_hash(const name *c, uint32_t id) {              \
        return hash(*name##__k(c, id), c->c.index.seed);                                \
    }                                                                                   \
    /* Evict down to the bounds: dead entries first (soonest deadline), then   \
     * by policy. W-TinyLFU: window overflow goes to main's probation only if   \
     * its frequency beats main's victim. */                                    \
    static inline void name##__maintain(name *c, int64_t now) {                         \
        ds__cache *x = &c->c;                                                           \
        while (x->len && name##__over(c) && x->nheap && x->expire[x->heap[0]] <= now)   \
            name##__remove(c, x->heap[0], DS_EVICT_EXPIRED, 1);                         \
        if (c->cfg.policy != DS_CACHE_WTINYLFU) {                                       \
            while (x->len && name##__over(c)) name##__remove(c, x->tail[0], DS_EVICT_CAPACITY, 1); \
            return;                                                                     \
        }                                                                               \
        while (x->segw[DS__CSEG_WINDOW] > c->wmax) {                                    \
            uint32_t cand = x->tail[DS__CSEG_WINDOW];                                   \
            uint64_t w = name##__weight_of(c, cand);                                    \
            ds__cache_unlink(x, cand);                                                  \
            x->segw[DS__CSEG_WINDOW] -= w;                                              \
            ds__cache_push_front(x, DS__CSEG_PROBATION, cand);                          \
            x->segw[DS__CSEG_PROBATION] += w;                                           \
            while (x->segw[DS__CSEG_PROBATION] + x->segw[DS__CSEG_PROTECTED] > c->main_max) { \
                uint32_t victim = x->tail[DS__CSEG_PROBATION];                          \
                if (victim == cand) victim = x->tail[DS__CSEG_PROTECTED];               \
                if (victim == DS__CNIL ||                                               \
                    ds__freq_estimate(&x->freq, name##__key_hash(c, cand)) <=           \
                        ds__freq_estimate(&x->freq, name##__key_hash(c, victim))) {     \
                    name##__remove(c, cand, DS_EVICT_CAPACITY, 1);                      \
                    break;                                                              \
                }                                                                       \
                name##__remove(c, victim, DS_EVICT_CAPACITY, 1);                        \
            }                                                                           \
        }                                                                               \
        /* After a capacity cut main may still be over: trim it from the tails. */       \
        while (x->segw[DS__CSEG_PROBATION] + x->segw[DS__CSEG_PROTECTED] > c->main_max) { \
            uint32_t v = x->tail[DS__CSEG_PROBATION] != DS__CNIL ? x->tail[DS__CSEG_PROBATION] \
                                                                 : x->tail[DS__CSEG_PROTECTED]; \
            name##__remove(c, v, DS_EVICT_CAPACITY, 1);                                 \
        }                                                                               \
        while (x->segw[DS__CSEG_PROTECTED] > c->prot_max) {                             \
            uint32_t d = x->tail[DS__CSEG_PROTECTED];                                   \
            uint64_t w = name##__weight_of(c, d);                                       \
            ds__cache_unlink(x, d);                                                     \
            x->segw[DS__CSEG_PROTECTED] -= w;                                           \
            ds__cache_push_front(x, DS__CSEG_PROBATION, d);                             \
            x->segw[DS__CSEG_PROBATION] += w;                                           \
        }                                                                               \
    }                                                                                   \
    /* Adaptive window (Einziger et al., "Adaptive Software Cache Management",  \
     * 2018; Caffeine's hill climber): every 10 x capacity lookups, compare the \
     * sample's hit rate with the last one; keep moving the window size the    \
     * same way if it helped, else turn back; steps decay by 0.98 and restart  \
     * at 6.25% of the capacity when the rate jumps by 5 points. A larger      \
     * window suits recency-heavy traces, a smaller one frequency-heavy ones.  \
     * Growing the window moves main's LRU entries into it (nothing evicted);  \
     * shrinking it lets the window's overflow through admission. */           \
    static inline void name##__climb(name *c, int64_t now) {                            \
        ds__cache *x = &c->c;                                                           \
        uint64_t base = name##__base(c), n;                                             \
        double rate, change, amount;                                                    \
        if (c->cfg.policy != DS_CACHE_WTINYLFU) return;                                 \
        n = c->climb_hits + c->climb_misses;                                            \
        if (n < 10 * base) return;                                                      \
        rate = (double)c->climb_hits / (double)n;                                       \
        change = rate - c->climb_rate;                                                  \
        amount = change >= 0 ? c->climb_step : -c->climb_step;                          \
        c->climb_step = (change >= 0.05 || change <= -0.05)                             \
                            ? 0.0625 * (double)base * (amount >= 0 ? 1.0 : -1.0)        \
                            : 0.98 * amount;                                            \
        c->climb_rate = rate;                                                           \
        c->climb_hits = c->climb_misses = 0;                                            \
        if (amount >= 1.0 || amount <= -1.0) {                                          \
            double w = (double)c->wmax + amount;                                        \
            name##__split(c, w <= 1.0 ? 1u : (uint64_t)w);                              \
            while (x->segw[DS__CSEG_PROBATION] + x->segw[DS__CSEG_PROTECTED] > c->main_max) { \
                uint32_t m = x->tail[DS__CSEG_PROBATION] != DS__CNIL                    \
                                 ? x->tail[DS__CSEG_PROBATION] : x->tail[DS__CSEG_PROTECTED]; \
                uint64_t mw = name##__weight_of(c, m);                                  \
                unsigned s = ds__cache_seg(x, m);                                       \
                ds__cache_unlink(x, m);                                                 \
                x->segw[s] -= mw;                                                       \
                ds__cache_push_front(x, DS__CSEG_WINDOW, m);                            \
                x->segw[DS__CSEG_WINDOW] += mw;                                         \
            }                                                                           \
            name##__maintain(c, now);                                                        \
        }                                                                               \
    }                                                                                   \
    /* A hit: recency (and promotion from probation), deadline on access. */            \
    static inline void name##__touch(name *c, uint32_t id, int64_t now) {               \
        ds__cache *x = &c->c;                                                           \
        unsigned s = ds__cache_seg(x, id);                                              \
        if (x->head[s] != id || s == DS__CSEG_PROBATION) { /* already first: nothing */ \
            ds__cache_unlink(x, id);                                                    \
            if (s == DS__CSEG_PROBATION) {                                              \
                uint64_t w = name##__weight_of(c, id);                                  \
                x->segw[DS__CSEG_PROBATION] -= w;                                       \
                x->segw[DS__CSEG_PROTECTED] += w;                                       \
                s = DS__CSEG_PROTECTED;                                                 \
            }                                                                           \
            ds__cache_push_front(x, s, id);                                             \
        }                                                                               \
        if (x->ttl && x->ttl[id] > 0)                                                   \
            ds__cache_set_expire(x, id, x->ttl[id] > INT64_MAX - 1 - now ? INT64_MAX - 1 : now + x->ttl[id]); \
    }                                                                                   \
    static inline ds_status name##__insert(name *c, K key, V val, int64_t ttl, int64_t now, \
                                           unsigned flags) {                            \
        ds__cache *x = &c->c;                                                           \
        uint64_t h, w;                                                                  \
        uint32_t id;                                                                    \
        int64_t deadline;                                                               \
        ds_status st;                                                                   \
        if (ttl < 0 || (ttl > 0 && now > 0 && ttl > INT64_MAX - 1 - now)) return DS_EINVAL; \
        deadline = ttl ? now + ttl : INT64_MAX;                                         \
        if (ttl && !x->timed) { /* the first TTL: start keeping deadlines */            \
            x->timed = 1;                                                               \
            if (x->node_cap &&                                                          \
                (st = ds__cache_grow(x, x->node_cap, c->cfg.expire_after_access, c->cfg.alloc)) != DS_OK) { \
                x->timed = 0;                                                           \
                return st;                                                              \
            }                                                                           \
        }                                                                               \
        h = hash(key, x->index.seed);                                                   \
        id = name##__find(c, key, h, NULL);                                             \
        if (x->freq.rows) ds__freq_add(&x->freq, h);                                    \
        if (id != DS__CNIL) { /* replace: the old pair goes to the callback */          \
            K ok = *name##__k(c, id);                                                   \
            V ov = *name##__v(c, id);                                                   \
            unsigned s = ds__cache_seg(x, id);                                          \
            w = name##__weight_of(c, id);                                               \
            x->segw[s] -= w;                                                            \
            x->weight -= w;                                                             \
            *name##__k(c, id) = key;                                                    \
            *name##__v(c, id) = val;                                                    \
            ds__cl(x, id)->flags = (uint8_t)((ds__cl(x, id)->flags & DS__CF_SEG) | flags); \
            w = name##__weight_of(c, id);                                               \
            x->segw[s] += w;                                                            \
            x->weight += w;                                                             \
            if (x->ttl) x->ttl[id] = ttl;                                               \
            name##__touch(c, id, now);                                                  \
            ds__cache_set_expire(x, id, deadline);                                      \
            x->stats.evictions[DS_EVICT_REPLACED]++;                                    \
            if (c->cfg.on_evict) c->cfg.on_evict(c->cfg.ctx, &ok, &ov, DS_EVICT_REPLACED); \
            name##__maintain(c, now);                                                        \
            return DS_OK;                                                               \
        }                                                                               \
        if ((st = name##__reserve_one(c)) != DS_OK) return st;                          \
        if (x->free_list != DS__CNIL) {                                                 \
            id = x->free_list;                                                          \
            x->free_list = ds__cl(x, id)->next;                                         \
        } else {                                                                        \
            id = (uint32_t)x->used++;                                                   \
        }                                                                               \
        *name##__k(c, id) = key;                                                        \
        *name##__v(c, id) = val;                                                        \
        ds__cl(x, id)->flags = (uint8_t)flags;                                          \
        if (x->expire) {                                                                \
            x->hpos[id] = DS__CNIL;                                                     \
            x->expire[id] = INT64_MAX;                                                  \
        }                                                                               \
        if (x->ttl) x->ttl[id] = ttl;                                                   \
        ds__cache_set_expire(x, id, deadline);                                          \
        {                                                                               \
            size_t i = ds__map_find_free(&x->index, h);                                 \
            x->index.growth_left -= (size_t)(x->index.ctrl[i] == DS__CTRL_EMPTY);       \
            x->index.ctrl[i] = ds__map_tag(h);                                          \
            memcpy(x->index.slots + 4 * i, &id, 4);                                     \
            x->index.len++;                                                             \
        }                                                                               \
        ds__cache_push_front(x, DS__CSEG_WINDOW, id);                                   \
        w = name##__weight_of(c, id);                                                   \
        x->segw[DS__CSEG_WINDOW] += w;                                                  \
        x->weight += w;                                                                 \
        x->len++;                                                                       \
        name##__maintain(c, now);                                                            \
        return DS_OK;                                                                   \
    }                                                                                   \
    /* Live node of key at now, removing it if its deadline passed. */                  \
    static inline uint32_t name##__lookup(name *c, K key, int64_t now, uint64_t *hp) {  \
        uint64_t h = hash(key, c->c.index.seed);                                        \
        uint32_t id = name##__find(c, key, h, NULL);                                    \
        if (hp) *hp = h;                                                                \
        if (c->c.freq.rows) ds__freq_add(&c->c.freq, h);                                \
        if (id != DS__CNIL && ds__cache_dead(&c->c, id, now)) {                         \
            name##__remove(c, id, DS_EVICT_EXPIRED, 1);                                 \
            id = DS__CNIL;                                                              \
        }                                                                               \
        return id;                                                                      \
    }                                                                                   \
    LINK ds_status name##_init(name *c, const name##_config *cfg) {                     \
        name##_config z;                                                                \
        unsigned s;                                                                     \
        if (!c) return DS_EINVAL;                                                       \
        if (!cfg) {                                                                     \
            memset(&z, 0, sizeof z);                                                    \
            cfg = &z;                                                                   \
        }                                                                               \
        if (cfg->default_ttl < 0 || cfg->negative_ttl < 0 ||                            \
            cfg->max_entries >= ((size_t)1 << 31) ||                                    \
            (cfg->policy != DS_CACHE_LRU && cfg->policy != DS_CACHE_WTINYLFU) ||        \
            (cfg->policy == DS_CACHE_WTINYLFU && !cfg->max_entries == !cfg->max_weight)) \
            return DS_EINVAL;                                                           \
        memset(c, 0, sizeof *c);                                                        \
        c->cfg = *cfg;                                                                  \
        for (s = 0; s < 3; s++) c->c.head[s] = c->c.tail[s] = DS__CNIL;                 \
        c->c.free_list = DS__CNIL;                                                      \
        c->c.nsz = sizeof(name##_node);                                                 \
        c->c.link = offsetof(name##_node, l);                                           \
        c->c.timed = cfg->default_ttl > 0 || cfg->negative_ttl > 0 || cfg->expire_after_access; \
        ds__map_init(&c->c.index, cfg->alloc,                                           \
                     cfg->seed ? cfg->seed : ds__map_default_seed((uintptr_t)(void *)c)); \
        name##__sizes(c);                                                               \
        if (cfg->policy == DS_CACHE_WTINYLFU)                                           \
            return ds__freq_init(&c->c.freq, cfg->max_entries ? cfg->max_entries : 1024, cfg->alloc); \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK void name##_clear(name *c) {                                                   \
        unsigned s;                                                                     \
        if (!c) return;                                                                 \
        for (s = 0; s < 3; s++)                                                         \
            while (c->c.tail[s] != DS__CNIL) name##__remove(c, c->c.tail[s], DS_EVICT_DELETED, 1); \
    }                                                                                   \
    LINK void name##_free(name *c) {                                                    \
        if (!c) return;                                                                 \
        name##_clear(c);                                                                \
        ds__map_free(&c->c.index, 4);                                                   \
        ds__cache_release(&c->c, c->cfg.alloc);                                         \
        ds__freq_free(&c->c.freq, c->cfg.alloc);                                        \
    }                                                                                   \
    LINK V *name##_get(name *c, K key, int64_t now) {                                   \
        uint32_t id;                                                                    \
        if (!c) return NULL;                                                            \
        name##__climb(c, now);                                                               \
        id = name##__lookup(c, key, now, NULL);                                         \
        if (id == DS__CNIL) {                                                           \
            c->c.stats.misses++;                                                        \
            c->climb_misses++;                                                          \
            return NULL;                                                                \
        }                                                                               \
        c->c.stats.hits++;                                                              \
        c->climb_hits++;                                                                \
        name##__touch(c, id, now);                                                      \
        name##__maintain(c, now);                                                            \
        return (ds__cl(&c->c, id)->flags & DS__CF_NEG) ? NULL : name##__v(c, id);       \
    }                                                                                   \
    LINK V *name##_peek(const name *c, K key, int64_t now) {                            \
        uint32_t id;                                                                    \
        if (!c) return NULL;                                                            \
        id = name##__find(c, key, hash(key, c->c.index.seed), NULL);                    \
        if (id == DS__CNIL || ds__cache_dead(&c->c, id, now) || (ds__cl(&c->c, id)->flags & DS__CF_NEG)) \
            return NULL;                                                                \
        return name##__v(c, id);                                                        \
    }                                                                                   \
    LINK ds_status name##_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now) {    \
        if (!c) return DS_EINVAL;                                                       \
        return name##__insert(c, key, val, ttl, now, 0);                                \
    }                                                                                   \
    LINK ds_status name##_put(name *c, K key, V val, int64_t now) {                     \
        if (!c) return DS_EINVAL;                                                       \
        return name##__insert(c, key, val, c->cfg.default_ttl, now, 0);                 \
    }                                                                                   \
    LINK ds_status name##_del(name *c, K key, V *out) {                                 \
        uint32_t id;                                                                    \
        if (!c) return DS_EINVAL;                                                       \
        id = name##__find(c, key, hash(key, c->c.index.seed), NULL);                    \
        if (id == DS__CNIL) return DS_ENOTFOUND;                                        \
        if (out) *out = *name##__v(c, id);                                              \
        name##__remove(c, id, DS_EVICT_DELETED, out == NULL);                           \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_get_or_load(name *c, K key, int64_t now, name##_loader load,  \
                                      void *lctx, V **out) {                            \
        uint32_t id;                                                                    \
        V v;                                                                            \
        int64_t ttl;                                                                    \
        ds_status st;                                                                   \
        if (out) *out = NULL;                                                           \
        if (!c || !load) return DS_EINVAL;                                              \
        name##__climb(c, now);                                                               \
        id = name##__lookup(c, key, now, NULL);                                         \
        if (id != DS__CNIL) {                                                           \
            c->c.stats.hits++;                                                          \
            c->climb_hits++;                                                            \
            name##__touch(c, id, now);                                                  \
            name##__maintain(c, now);                                                        \
            if (ds__cl(&c->c, id)->flags & DS__CF_NEG) return DS_ENOTFOUND;             \
            if (out) *out = name##__v(c, id);                                           \
            return DS_OK;                                                               \
        }                                                                               \
        c->c.stats.misses++;                                                            \
        c->climb_misses++;                                                              \
        memset(&v, 0, sizeof v);                                                        \
        ttl = c->cfg.default_ttl;                                                       \
        st = load(lctx, &key, &v, &ttl);                                                \
        if (st != DS_OK) {                                                              \
            c->c.stats.load_errors++;                                                   \
            if (st == DS_ENOTFOUND && c->cfg.negative_ttl > 0) {                        \
                memset(&v, 0, sizeof v);                                                \
                (void)name##__insert(c, key, v, c->cfg.negative_ttl, now, DS__CF_NEG);  \
            }                                                                           \
            return st;                                                                  \
        }                                                                               \
        c->c.stats.loads++;                                                             \
        if ((st = name##__insert(c, key, v, ttl, now, 0)) != DS_OK) {                   \
            /* Not cached: hand the loaded pair to the owner, not lost. */              \
            if (c->cfg.on_evict) c->cfg.on_evict(c->cfg.ctx, &key, &v, DS_EVICT_DELETED); \
            return st;                                                                  \
        }                                                                               \
        id = name##__find(c, key, hash(key, c->c.index.seed), NULL);                    \
        if (out && id != DS__CNIL) *out = name##__v(c, id);                             \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_set_capacity(name *c, size_t max_entries, uint64_t max_weight, \
                                       int64_t now) {                                   \
        if (!c || max_entries >= ((size_t)1 << 31) ||                                   \
            (c->cfg.policy == DS_CACHE_WTINYLFU &&                                      \
             (!max_entries != !c->cfg.max_entries || !max_weight != !c->cfg.max_weight))) \
            return DS_EINVAL;                                                           \
        c->cfg.max_entries = max_entries;                                               \
        c->cfg.max_weight = max_weight;                                                 \
        name##__sizes(c);                                                               \
        name##__maintain(c, now);                                                            \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK size_t name##_expire(name *c, int64_t now, size_t budget) {                    \
        size_t n = 0;                                                                   \
        if (!c) return 0;                                                               \
        while (n < budget && c->c.nheap && c->c.expire[c->c.heap[0]] <= now) {          \
            name##__remove(c, c->c.heap[0], DS_EVICT_EXPIRED, 1);                       \
            n++;                                                                        \
        }                                                                               \
        return n;                                                                       \
    }                                                                                   \
    LINK size_t name##_len(const name *c) { return c ? c->c.len : 0; }                 \
    LINK uint64_t name##_weight(const name *c) { return c ? c->c.weight : 0; }          \
    LINK size_t name##_memory(const name *c) {                                          \
        if (!c) return 0;                                                               \
        return c->c.node_cap * (c->c.nsz + (c->c.expire ? 16u : 0u) + (c->c.ttl ? 8u : 0u)) + \
               c->c.index.cap * 5 + (c->c.freq.rows ? c->c.freq.width * 2 + c->c.freq.width / 8 : 0); \
    }                                                                                   \
    LINK ds_cache_stats name##_stats(const name *c) {                                   \
        ds_cache_stats z;                                                               \
        if (c) return c->c.stats;                                                       \
        memset(&z, 0, sizeof z);                                                        \
        return z;                                                                       \
    }                                                                                   \
    LINK void name##_reset_stats(name *c) {                                             \
        if (c) memset(&c->c.stats, 0, sizeof c->c.stats);                               \
    }                                                                                   \
    /* Iteration order: window (the whole list for LRU), protected, probation. */       \
    static inline uint32_t name##__seg_from(const name *c, int k) {                     \
        static const unsigned order[3] = {DS__CSEG_WINDOW, DS__CSEG_PROTECTED, DS__CSEG_PROBATION}; \
        for (; k < 3; k++)                                                              \
            if (c->c.head[order[k]] != DS__CNIL) return c->c.head[order[k]];            \
        return DS_CACHE_END;                                                            \
    }                                                                                   \
    LINK uint32_t name##_first(const name *c) { return c ? name##__seg_from(c, 0) : DS_CACHE_END; } \
    LINK uint32_t name##_next(const name *c, uint32_t it) {                             \
        unsigned s;                                                                     \
        if (!c || it == DS_CACHE_END) return DS_CACHE_END;                              \
        if (ds__cl(&c->c, it)->next != DS__CNIL) return ds__cl(&c->c, it)->next;        \
        s = ds__cache_seg(&c->c, it);                                                   \
        return name##__seg_from(c, s == DS__CSEG_WINDOW ? 1 : s == DS__CSEG_PROTECTED ? 2 : 3); \
    }                                                                                   \
    LINK K *name##_key(const name *c, uint32_t it) { return c && it != DS_CACHE_END ? name##__k(c, it) : NULL; } \
    LINK V *name##_val(const name *c, uint32_t it) { return c && it != DS_CACHE_END ? name##__v(c, it) : NULL; }

#define DS_LRU_DECLARE(name, K, V) \
    DS__LRU_TYPES(name, K, V);     \
    DS__LRU_PROTOS(name, K, V, extern);
#define DS_LRU_DEFINE(name, K, V, hash, eq) DS__LRU_IMPL(name, K, V, hash, eq, )
#define DS_LRU(name, K, V, hash, eq)                 \
    DS__LRU_TYPES(name, K, V);                       \
    DS__LRU_PROTOS(name, K, V, DS__LINK_STATIC);     \
    DS__LRU_IMPL(name, K, V, hash, eq, DS__LINK_STATIC)

/* -- memoization ----------------------------------------------------------
 * DS_MEMO(name, A, R, fn, hash, eq): wrap a pure function R fn(A) with an
 * LRU of its results (Python's functools.lru_cache; the embedding-cache
 * pattern). It instantiates DS_LRU(name##_lru, A, R, hash, eq).
 *
 *   ds_status name_init(name *m, size_t maxsize, const ds_alloc *a)
 *          maxsize 0 = unbounded. name_init_config for TTLs, weights,
 *          W-TinyLFU or an on_evict that frees owned results.
 *   R      name_call(name *m, A arg)   fn(arg), from the cache when it can;
 *          if the cache cannot take a new result (DS_ENOMEM) the computed
 *          result is still returned, just not kept
 *   ds_memo_info name_info(const name *m)   hits, misses, maxsize, currsize
 *   void   name_clear(name *m)          forget every result and the stats
 *   void   name_free(name *m)
 * Complexity: call O(1) expected plus fn on a miss. */
typedef struct ds_memo_info {
    uint64_t hits, misses;
    size_t maxsize, currsize;
} ds_memo_info;

#define DS_MEMO(name, A, R, fn, hash, eq)                                               \
    DS_LRU(name##_lru, A, R, hash, eq)                                                  \
    typedef struct name {                                                               \
        name##_lru lru;                                                                 \
    } name;                                                                             \
    static inline DS__UNUSED ds_status name##_init_config(name *m, const name##_lru_config *cfg) { \
        if (!m) return DS_EINVAL;                                                       \
        return name##_lru_init(&m->lru, cfg);                                           \
    }                                                                                   \
    static inline DS__UNUSED ds_status name##_init(name *m, size_t maxsize, const ds_alloc *a) { \
        name##_lru_config cfg;                                                          \
        memset(&cfg, 0, sizeof cfg);                                                    \
        cfg.max_entries = maxsize;                                                      \
        cfg.alloc = a;                                                                  \
        return name##_init_config(m, &cfg);                                             \
    }                                                                                   \
    static inline DS__UNUSED R name##_call(name *m, A arg) {                            \
        R *hit = name##_lru_get(&m->lru, arg, 0);                                       \
        R r;                                                                            \
        if (hit) return *hit;                                                           \
        r = fn(arg);                                                                    \
        (void)name##_lru_put(&m->lru, arg, r, 0);                                       \
        return r;                                                                       \
    }                                                                                   \
    static inline DS__UNUSED ds_memo_info name##_info(const name *m) {                  \
        ds_memo_info i;                                                                 \
        ds_cache_stats s = name##_lru_stats(&m->lru);                                   \
        i.hits = s.hits;                                                                \
        i.misses = s.misses;                                                            \
        i.maxsize = m->lru.cfg.max_entries;                                             \
        i.currsize = name##_lru_len(&m->lru);                                           \
        return i;                                                                       \
    }                                                                                   \
    static inline DS__UNUSED void name##_clear(name *m) {                               \
        name##_lru_clear(&m->lru);                                                      \
        name##_lru_reset_stats(&m->lru);                                                \
    }                                                                                   \
    static inline DS__UNUSED void name##_free(name *m) { name##_lru_free(&m->lru); }

/* -- idempotency keys -----------------------------------------------------
 * ds_idem: Stripe-style idempotency for side-effecting requests (a payment
 * retried after a timeout must charge once). Keys live in the caller's
 * scope (account, endpoint...): scope and key are folded into one
 * length-prefixed byte string, so two tenants' equal keys never collide.
 * A request carries a fingerprint (a hash of its body) so a reused key
 * with a different request is caught.
 *
 *   begin(scope, key, fingerprint, now) answers
 *     DS_IDEM_NEW        first sight: the caller runs the request, then
 *                        calls complete (or abandon if it failed)
 *     DS_IDEM_IN_FLIGHT  a duplicate while the first is running: answer
 *                        "409 conflict, retry later"
 *     DS_IDEM_DONE       a retry of a finished request: *response points
 *                        at the stored response bytes (valid until the
 *                        next call on s); replay it, do not re-run
 *     DS_IDEM_MISMATCH   same key, different fingerprint: refuse (422)
 *   complete(scope, key, response, len, now): in-flight -> done, response
 *     copied; DS_ENOTFOUND if not in flight (never begun, abandoned, or
 *     its lock expired and was taken over).
 *   abandon(scope, key): releases an in-flight key so a retry can run.
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
 *                           int64_t now, ds_idem_state *state,
 *                           const void **response, size_t *response_len)
 *   ds_status ds_idem_complete(ds_idem *s, const void *scope, size_t scope_len,
 *                              const void *key, size_t key_len,
 *                              const void *response, size_t response_len, int64_t now)
 *   ds_status ds_idem_abandon(ds_idem *s, const void *scope, size_t scope_len,
 *                             const void *key, size_t key_len)
 *   size_t ds_idem_expire(ds_idem *s, int64_t now, size_t budget)
 *   size_t ds_idem_in_flight(const ds_idem *s), ds_idem_done(const ds_idem *s)
 *   void   ds_idem_free(ds_idem *s)
 * Errors: DS_EINVAL (NULL with a nonzero length, bad config), DS_ENOMEM
 * (nothing changes), DS_EFULL. Complexity: O(1) expected per call plus
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
    size_t max_keys;        /* done records; 0 = 1M */
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
} ds_idem;

DSDEF ds_status ds_idem_init(ds_idem *s, const ds_idem_config *cfg);
DSDEF void ds_idem_free(ds_idem *s);
DSDEF ds_status ds_idem_begin(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                              size_t key_len, uint64_t fingerprint, int64_t now,
                              ds_idem_state *state, const void **response, size_t *response_len);
DSDEF ds_status ds_idem_complete(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                                 size_t key_len, const void *response, size_t response_len,
                                 int64_t now);
DSDEF ds_status ds_idem_abandon(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                                size_t key_len);
DSDEF size_t ds_idem_expire(ds_idem *s, int64_t now, size_t budget);
DSDEF size_t ds_idem_in_flight(const ds_idem *s);
DSDEF size_t ds_idem_done(const ds_idem *s);

/* ========================================================================
 * == ds:limit ==  rate limiters and a keyed limiter table
 * ========================================================================
 * Seven algorithms behind one shape. A limiter admits `units` (requests,
 * bytes, tokens) at a rate of `limit` per `period_ns`; each call takes the
 * caller's `now` (int64 ns, monotonic, >= 0) and never reads a clock.
 *
 *   DS_LIMIT_TOKEN_BUCKET     capacity `burst`, refilled at limit/period.
 *       Admits n if n tokens are there. Over any interval of length t it
 *       admits at most burst + rate * t.
 *   DS_LIMIT_LEAKY_METER      a bucket of size `burst` that leaks at the
 *       rate; n is admitted if it fits. This is the token bucket seen from
 *       the other side (ITU-T I.371): the decisions are identical, and
 *       `remaining` is the room left in the bucket.
 *   DS_LIMIT_LEAKY_SHAPER     the leaky bucket as a queue: admitted units
 *       wait their turn and leave at exactly the rate; at most `burst`
 *       units are queued (further ones are refused). `take` reports each
 *       admission's delay_ns, the time it must wait before going on.
 *   DS_LIMIT_GCRA             the generic cell rate algorithm with
 *       redis-cell's semantics (CL.THROTTLE key max_burst count period):
 *       limit = count, period = period, burst = max_burst + 1; `take`
 *       fills redis-cell's five results. Same admissions as the token
 *       bucket; state is one theoretical arrival time.
 *   DS_LIMIT_FIXED_WINDOW     at most `limit` per window [k*period,
 *       (k+1)*period). Cheap, but a burst at a window edge can admit up to
 *       2 * limit within one period.
 *   DS_LIMIT_SLIDING_LOG      exact: at most `limit` in every window
 *       (t - period, t]. Keeps one timestamp per admission (merged when
 *       equal), so memory grows up to 16 bytes x limit.
 *   DS_LIMIT_SLIDING_COUNTER  Cloudflare's estimate (and the seed's): a
 *       request is admitted while the previous fixed window's count,
 *       weighted by the share of it the sliding window still covers, plus
 *       the current count is below limit (n units: n requests in a row).
 *       Two counters; at most `limit` per fixed window, so never more than
 *       2 * limit in any period; under overload exactly `limit` per
 *       window; a client sending at most `limit` per 2 periods is never
 *       refused.
 *
 * Arithmetic is exact: the bucket kinds keep their state as a time in
 * units of 1/limit ns (128-bit), so a rate like 3 per second neither
 * drifts nor rounds; over a long run the admitted count is within one unit
 * of burst + rate * t. A clock that steps back never admits more: the
 * state's own time is kept and the step is ignored.
 *
 *   ds_status ds_limiter_init(ds_limiter *l, const ds_limit_config *cfg, const ds_alloc *a)
 *          DS_EINVAL: NULL, limit 0, period <= 0, unknown algorithm. burst
 *          0 means limit (windows ignore burst). Allocates nothing (the
 *          sliding log grows on demand, up to `limit` entries).
 *   void   ds_limiter_free(ds_limiter *l)
 *   ds_status ds_limiter_allow(ds_limiter *l, uint64_t n, int64_t now)
 *          DS_OK: admitted (and counted); DS_EBUSY: refused (nothing
 *          counted); DS_EINVAL: now < 0; DS_ENOMEM: the sliding log could
 *          not grow (refused, nothing counted). n = 0 only looks: DS_OK.
 *   ds_status ds_limiter_take(ds_limiter *l, uint64_t n, int64_t now, ds_limit_result *res)
 *          allow, and fill *res (see ds_limit_result) as of after the call
 *   int64_t ds_limiter_wait_ns(const ds_limiter *l, uint64_t n, int64_t now)
 *          0 if n would be admitted now, else the ns until it would be
 *          (assuming nothing else is admitted meanwhile), measured from
 *          `now` even after a clock step back; -1 if never (n exceeds
 *          burst, or limit for the windows) or on bad input (NULL, now < 0)
 *   uint64_t ds_limiter_remaining(const ds_limiter *l, int64_t now)
 *          units that would be admitted now
 *   ds_status ds_limiter_set(ds_limiter *l, uint64_t limit, int64_t period_ns, uint64_t burst,
 *                            int64_t now)
 *          change the rate at runtime. Units already admitted stay counted:
 *          the bucket kinds keep their debt in units (rounded up), the
 *          windows keep their counts, the log its timestamps.
 *   void   ds_limiter_reset(ds_limiter *l)   back to rest (full bucket, empty windows)
 * Complexity: O(1) per call; the sliding log's allow is O(expired
 * entries) amortised O(1), its wait_ns O(entries).
 * Thread-safety: none; see ds_concurrent.h for a blocking, shared limiter.
 *
 * Keyed table: one limiter per key (an API key, a user id, a client IP)
 * for millions of keys in bounded memory. All keys share one config. A
 * key at rest (its limiter fully recovered: burst emission intervals after
 * its last admission for the buckets, the end of its window for the fixed
 * window and the log, one more window for the sliding counter) is the same
 * as an absent key, so dropping it loses nothing. When the table is full,
 * a new key takes the place of a key at rest if one of a few sampled keys
 * is (Redis's approximated LRU: 5 random keys), else of the least recently
 * used of them; only that last case loses state (the key restarts at rest:
 * stats.forced_evictions counts these; size max_bytes so it stays 0).
 * Keys are uint64 (exact); byte-string keys are hashed to 64 bits with a
 * per-table seed (two distinct strings share a limiter with probability
 * about n^2 / 2^65 over n live keys: 3e-8 at a million).
 *
 *   ds_status ds_limiter_table_init(ds_limiter_table *t, const ds_limiter_table_config *cfg)
 *          DS_EINVAL: bad limit config, or max_bytes too small for 16 keys
 *   void   ds_limiter_table_free(ds_limiter_table *t)
 *   ds_status ds_limiter_table_allow(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now)
 *   ds_status ds_limiter_table_take(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now,
 *                                   ds_limit_result *res)
 *          as ds_limiter_allow/take; DS_ENOMEM if a new key could not be
 *          stored (refused, table unchanged)
 *   ds_status ds_limiter_table_allow_str(ds_limiter_table *t, const void *key, size_t len,
 *                                        uint64_t n, int64_t now)
 *   int64_t ds_limiter_table_wait_ns(const ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now)
 *   uint64_t ds_limiter_table_hash(const ds_limiter_table *t, const void *key, size_t len)
 *          the uint64 key a byte string maps to
 *   ds_status ds_limiter_table_set(ds_limiter_table *t, uint64_t limit, int64_t period_ns,
 *                                  uint64_t burst, int64_t now)
 *          new rate for every key, each keeping what it admitted (as
 *          ds_limiter_set); O(keys). DS_EINVAL if a sliding log's limit
 *          would exceed the one the table was sized for
 *   size_t ds_limiter_table_expire(ds_limiter_table *t, int64_t now, size_t budget)
 *          drop up to budget keys at rest (one sweep of the table, going on
 *          where the last call stopped); returns how many
 *   size_t ds_limiter_table_len(t), ds_limiter_table_memory(t) (bytes held)
 *   ds_limit_stats ds_limiter_table_stats(t)
 * Memory: at most cfg.max_bytes held between calls (a growth step holds
 * the old slot array too for a moment). The worst-case cost per key sets
 * the capacity (ds_limiter_table_capacity): 60 bytes (a 48-byte slot at
 * 4/5 load; open addressing, so a decision touches one cache line), plus
 * 24 + 16 x limit for a sliding log.
 * Complexity: O(1) expected per call; expire O(table) per full sweep.
 * Thread-safety: none; shard keys across threads. */
typedef enum ds_limit_algo {
    DS_LIMIT_TOKEN_BUCKET = 0,
    DS_LIMIT_LEAKY_METER = 1,
    DS_LIMIT_LEAKY_SHAPER = 2,
    DS_LIMIT_GCRA = 3,
    DS_LIMIT_FIXED_WINDOW = 4,
    DS_LIMIT_SLIDING_LOG = 5,
    DS_LIMIT_SLIDING_COUNTER = 6
} ds_limit_algo;
#define DS_LIMIT_ALGOS 7
DSDEF const char *ds_limit_algo_name(ds_limit_algo a);

typedef struct ds_limit_config {
    uint64_t limit;         /* units per period (> 0) */
    ds_limit_algo algo;
    int64_t period_ns;      /* > 0 */
    uint64_t burst;         /* bucket size / shaper queue bound; 0 = limit */
} ds_limit_config;

/* What `take` reports, as of after the decision (redis-cell's fields for
 * GCRA; the same meaning for every algorithm). */
typedef struct ds_limit_result {
    uint64_t limit;          /* most units admissible at once from rest */
    uint64_t remaining;      /* units admissible right now */
    int64_t retry_after_ns;  /* refused: when the same request would be
                                admitted; -1 if admitted or never */
    int64_t reset_after_ns;  /* until the limiter is back at rest */
    int64_t delay_ns;        /* shaper: how long the admitted units queue */
} ds_limit_result;

/* Per-limiter state, 32 bytes whatever the algorithm. */
typedef struct ds__lstate {
    uint64_t hi, lo;         /* buckets: 128-bit time in 1/limit ns units;
                                windows: lo = current count, hi = previous */
    int64_t t;               /* windows: the current window's index */
    void *log;               /* the sliding log's ring (ds__llog) */
} ds__lstate;

typedef struct ds_limiter {
    ds_limit_config cfg;
    ds__lstate s;
    const ds_alloc *alloc;
} ds_limiter;

DSDEF ds_status ds_limiter_init(ds_limiter *l, const ds_limit_config *cfg, const ds_alloc *a);
DSDEF void ds_limiter_free(ds_limiter *l);
DSDEF ds_status ds_limiter_allow(ds_limiter *l, uint64_t n, int64_t now);
DSDEF ds_status ds_limiter_take(ds_limiter *l, uint64_t n, int64_t now, ds_limit_result *res);
DSDEF int64_t ds_limiter_wait_ns(const ds_limiter *l, uint64_t n, int64_t now);
DSDEF uint64_t ds_limiter_remaining(const ds_limiter *l, int64_t now);
DSDEF ds_status ds_limiter_set(ds_limiter *l, uint64_t limit, int64_t period_ns, uint64_t burst,
                               int64_t now);
DSDEF void ds_limiter_reset(ds_limiter *l);

typedef struct ds_limiter_table_config {
    ds_limit_config per_key; /* every key's limiter */
    size_t max_bytes;        /* live memory bound; 0 = 64 MiB */
    uint64_t seed;           /* key hashing; 0 = per-instance random */
    const ds_alloc *alloc;
} ds_limiter_table_config;

typedef struct ds_limit_stats {
    uint64_t allowed, refused;
    uint64_t new_keys;          /* keys created (absent or dropped before) */
    uint64_t idle_evictions;    /* keys dropped at rest (lossless) */
    uint64_t forced_evictions;  /* live keys forgotten for room (lossy) */
} ds_limit_stats;

/* A key's slot: linear probing, no tombstones (deletion shifts back). */
typedef struct ds__lslot {
    uint64_t key;
    uint32_t used, tick;       /* occupied; last use, in 2^20 ns (~1 ms) units */
    ds__lstate s;
} ds__lslot;

typedef struct ds_limiter_table {
    ds__lslot *slots;
    size_t nslots, max_slots;  /* now; the most max_bytes allows */
    size_t len, capacity;      /* keys; the most there may be (4/5 of max_slots) */
    size_t hand;               /* where expire's sweep goes on */
    ds_rng rng;                /* eviction samples */
    size_t key_bytes;          /* worst-case bytes per key it was sized for */
    ds_limit_config cfg;
    uint64_t seed;
    ds_limit_stats stats;
    const ds_alloc *alloc;
} ds_limiter_table;

DSDEF ds_status ds_limiter_table_init(ds_limiter_table *t, const ds_limiter_table_config *cfg);
DSDEF void ds_limiter_table_free(ds_limiter_table *t);
DSDEF ds_status ds_limiter_table_allow(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now);
DSDEF ds_status ds_limiter_table_take(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now,
                                      ds_limit_result *res);
DSDEF ds_status ds_limiter_table_allow_str(ds_limiter_table *t, const void *key, size_t len,
                                           uint64_t n, int64_t now);
DSDEF int64_t ds_limiter_table_wait_ns(const ds_limiter_table *t, uint64_t key, uint64_t n,
                                       int64_t now);
DSDEF uint64_t ds_limiter_table_hash(const ds_limiter_table *t, const void *key, size_t len);
DSDEF ds_status ds_limiter_table_set(ds_limiter_table *t, uint64_t limit, int64_t period_ns,
                                     uint64_t burst, int64_t now);
DSDEF size_t ds_limiter_table_expire(ds_limiter_table *t, int64_t now, size_t budget);
DSDEF size_t ds_limiter_table_len(const ds_limiter_table *t);
DSDEF size_t ds_limiter_table_capacity(const ds_limiter_table *t);
DSDEF size_t ds_limiter_table_memory(const ds_limiter_table *t);
DSDEF ds_limit_stats ds_limiter_table_stats(const ds_limiter_table *t);

/* ========================================================================
 * == ds:geohash ==  geohash cells, neighbours, proximity cover, haversine
 * ========================================================================
 * Geohash (Gustavo Niemeyer, geohash.org, 2008): the world is halved
 * alternately in longitude and latitude, longitude first; each halving
 * gives one bit (1 = the upper half), and the bits, most significant
 * first, are written five at a time in the base32 alphabet
 * "0123456789bcdefghjkmnpqrstuvwxyz". A string of p characters names a
 * cell of 5p bits: ceil(5p/2) of longitude, floor(5p/2) of latitude.
 * Precision 1 is 45 x 45 degrees, 6 about 1.2 km x 0.6 km, 12 about
 * 3.7 cm x 1.9 cm at the equator.
 *
 * Cells are half-open, [min, max) on both axes, except the last row and
 * column, which also hold lat == 90 and lon == 180: a point on a cell
 * boundary belongs to the cell above/east of it (so (0, 0) is "s000...").
 * The point is compared with the exact binary boundaries, never with a
 * rounded scaled value.
 *
 * The integer form holds the same bits right-aligned in a uint64_t (the
 * first bit, longitude's top bit, is bit `bits - 1`); bits may be 1..64
 * (32 per axis; Redis's GEO commands use 52). The integer of a p-character
 * string is the 5p-bit number its characters spell.
 *
 * Neighbours: longitude wraps (east of the last column is the first, so
 * cells at the antimeridian have their true neighbours across it).
 * Latitude does not wrap: a cell in the top row has no N, NE, NW
 * neighbours and one in the bottom row none to the S; those are reported
 * as absent (DS_ENOTFOUND for one direction; an empty string and a
 * smaller count for all eight), never as the cell itself. (Crossing the
 * pole to the cell 180 degrees away is a different notion of "adjacent";
 * ds_geohash_cover handles circles around a pole.)
 *
 * Directions, in this order: DS_GEO_N, DS_GEO_NE, DS_GEO_E, DS_GEO_SE,
 * DS_GEO_S, DS_GEO_SW, DS_GEO_W, DS_GEO_NW.
 *
 *   ds_status ds_geohash_encode(double lat, double lon, int precision, char *out)
 *          out receives precision (1..12) characters and a NUL: room for
 *          precision + 1 bytes (DS_GEOHASH_MAX + 1 always suffices)
 *   ds_status ds_geohash_encode_int(double lat, double lon, int bits, uint64_t *out)
 *   ds_status ds_geohash_decode(const char *hash, size_t len, double *lat, double *lon,
 *                               double *lat_err, double *lon_err)
 *          the cell's centre and half its height and width (degrees): the
 *          encoded point is within +-err of the centre. Any out pointer
 *          may be NULL.
 *   ds_status ds_geohash_bbox(const char *hash, size_t len, ds_geo_box *box)
 *   ds_status ds_geohash_bbox_int(uint64_t h, int bits, ds_geo_box *box)
 *   ds_status ds_geohash_to_int(const char *hash, size_t len, uint64_t *h)  5*len bits
 *   ds_status ds_geohash_from_int(uint64_t h, int precision, char *out)
 *          h must be < 2^(5 * precision)
 *   ds_status ds_geohash_neighbor(const char *hash, size_t len, int dir, char *out)
 *   ds_status ds_geohash_neighbor_int(uint64_t h, int bits, int dir, uint64_t *out)
 *          DS_ENOTFOUND beyond a pole (out untouched). With bits < 5 the
 *          grid has one or two columns, so E and W may be the same cell
 *          or the cell itself.
 *   ds_status ds_geohash_neighbors(const char *hash, size_t len,
 *                                  char out[8][DS_GEOHASH_MAX + 1], int *n)
 *          all eight by direction; absent ones are "" and *n (may be
 *          NULL) counts the rest: 8, or 5 in the top or bottom row.
 *   ds_status ds_geo_circle_box(double lat, double lon, double radius_m, ds_geo_box *box)
 *          a latitude/longitude box holding every point within radius_m
 *          (great circle) of (lat, lon) (Matuschek, "Finding Points
 *          Within a Distance of a Latitude/Longitude Using Bounding
 *          Coordinates", 2010), widened by 1e-9 degrees against rounding.
 *          When the circle reaches a pole the box spans every longitude
 *          and reaches that pole; when it crosses the antimeridian,
 *          lon_min > lon_max (the box is lon >= lon_min or lon <= lon_max).
 *   ds_status ds_geohash_cover(double lat, double lon, double radius_m, ds_geohash_cells *out)
 *          proximity search: cells whose union holds every point within
 *          radius_m of (lat, lon): the cells of one precision meeting
 *          ds_geo_circle_box, at the finest precision (<= 12) at which
 *          there are at most 9 of them (the cell of (lat, lon) and some
 *          of its neighbours; cell 0 is always the point's own cell). If
 *          even precision 1 needs more (a radius of thousands of km, or a
 *          circle around a pole), precision 1 is used with up to 32 cells.
 *          Candidates found in the cells still need the distance check.
 *   double ds_geo_distance(double lat1, double lon1, double lat2, double lon2)
 *          great-circle distance in metres by the haversine formula
 *          (Sinnott, "Virtues of the Haversine", Sky and Telescope 68(2),
 *          1984) on a sphere of radius DS_GEO_EARTH_RADIUS_M (the IUGG mean
 *          radius; the WGS-84 ellipsoid differs by up to about 0.5%). No
 *          validation: NaN in, NaN out.
 * Errors: DS_EINVAL for lat outside [-90, 90], lon outside [-180, 180],
 * NaN, a radius that is negative or not finite, precision outside 1..12,
 * bits outside 1..64, an integer with bits set above `bits`, an empty or
 * too long hash, a character outside the (lowercase) alphabet, a
 * direction outside 0..7, a NULL out pointer. On error nothing is written.
 * Complexity: O(precision) each; cover O(12 * 32). No allocation.
 * Thread-safety: pure functions; any thread, any time. */
#define DS_GEOHASH_MAX 12
#define DS_GEOHASH_COVER_MAX 32
#define DS_GEO_EARTH_RADIUS_M 6371008.8

enum { DS_GEO_N = 0, DS_GEO_NE, DS_GEO_E, DS_GEO_SE, DS_GEO_S, DS_GEO_SW, DS_GEO_W, DS_GEO_NW };

/* A latitude/longitude box in degrees. */
typedef struct ds_geo_box {
    double lat_min, lat_max, lon_min, lon_max;
} ds_geo_box;

/* The cells of a proximity search: n cells of `precision` characters, each
 * as a string and as its 5 * precision-bit integer. */
typedef struct ds_geohash_cells {
    int precision;
    int n;
    char cell[DS_GEOHASH_COVER_MAX][DS_GEOHASH_MAX + 1];
    uint64_t hash[DS_GEOHASH_COVER_MAX];
} ds_geohash_cells;

DSDEF ds_status ds_geohash_encode(double lat, double lon, int precision, char *out);
DSDEF ds_status ds_geohash_encode_int(double lat, double lon, int bits, uint64_t *out);
DSDEF ds_status ds_geohash_decode(const char *hash, size_t len, double *lat, double *lon,
                                  double *lat_err, double *lon_err);
DSDEF ds_status ds_geohash_bbox(const char *hash, size_t len, ds_geo_box *box);
DSDEF ds_status ds_geohash_bbox_int(uint64_t h, int bits, ds_geo_box *box);
DSDEF ds_status ds_geohash_to_int(const char *hash, size_t len, uint64_t *h);
DSDEF ds_status ds_geohash_from_int(uint64_t h, int precision, char *out);
DSDEF ds_status ds_geohash_neighbor(const char *hash, size_t len, int dir, char *out);
DSDEF ds_status ds_geohash_neighbor_int(uint64_t h, int bits, int dir, uint64_t *out);
DSDEF ds_status ds_geohash_neighbors(const char *hash, size_t len, char out[8][DS_GEOHASH_MAX + 1],
                                     int *n);
DSDEF ds_status ds_geo_circle_box(double lat, double lon, double radius_m, ds_geo_box *box);
DSDEF ds_status ds_geohash_cover(double lat, double lon, double radius_m, ds_geohash_cells *out);
DSDEF double ds_geo_distance(double lat1, double lon1, double lat2, double lon2);

/* ========================================================================
 * == ds:quadtree ==  ds_quadtree: bucket point-region quadtree
 * ========================================================================
 * A point-region (PR) quadtree with buckets (Samet, "The Quadtree and
 * Related Hierarchical Data Structures", ACM Computing Surveys 16(2),
 * 1984; the bucket variant of Orenstein 1982) over a fixed rectangle of
 * the plane. Points are (x, y, id): the id is the caller's (a row, a
 * pointer's index); the tree neither checks nor needs it unique. A leaf
 * holds up to `bucket` points; the one more splits it into four equal
 * quadrants (and those again while all points fall in one). At max_depth
 * a leaf takes any number of points in a chain of buckets, which is how
 * duplicate and near-duplicate points are held. Deleting down to
 * bucket/2 points in a subtree folds it back into one leaf.
 *
 * Layout, for speed: nodes live in one pool (12 bytes each; the four
 * children of a node are consecutive), leaf points in a second pool of
 * fixed-size buckets, each bucket x[B], y[B], id[B] contiguous, so a leaf
 * is scanned in one pass over one memory block. No malloc per node or
 * point; freed nodes and buckets are reused. Node bounds are not stored:
 * queries recompute them from the root's rectangle on the way down.
 *
 * A point (x, y) belongs to the closed rectangle [x_min, x_max] x
 * [y_min, y_max]; in a split, x < mid goes west and x >= mid east (so a
 * query's result never depends on where the splits fell). Distances are
 * Euclidean in (x, y); for latitude/longitude use a projection or query a
 * box and filter (see examples/nearby.c).
 *
 *   ds_status ds_quadtree_init(ds_quadtree *q, const ds_quadtree_config *cfg)
 *          DS_EINVAL for NULL, bounds not finite or x_min >= x_max or
 *          y_min >= y_max, bucket > 256, max_depth > 40. Allocates nothing.
 *   void   ds_quadtree_free(ds_quadtree *q); ds_quadtree_clear (keeps the pools)
 *   ds_status ds_quadtree_insert(ds_quadtree *q, double x, double y, uint64_t id)
 *          DS_EINVAL outside the bounds or NaN; DS_EFULL at 2^32 - 1 points
 *   ds_status ds_quadtree_insert_many(ds_quadtree *q, const ds_qt_point *pts, size_t n)
 *          all n or none: sorts them along the Z-order curve first (an
 *          LSD radix sort; 16 n bytes of scratch), so the tree is built
 *          leaf after leaf in memory order: about twice as fast as n
 *          inserts in random order, and later queries touch neighbouring
 *          memory. DS_EINVAL (nothing inserted) if any point is outside;
 *          on DS_ENOMEM the points that went in are taken out again (the
 *          same points as before; node layout may differ)
 *   ds_status ds_quadtree_compact(ds_quadtree *q)
 *          rewrite both pools in depth-first (Z) order, exactly sized:
 *          returns the memory of removed points and makes a tree built by
 *          random inserts as fast to query as one from insert_many (up to
 *          2x on large rectangle queries). O(n); DS_ENOMEM leaves it as is.
 *   ds_status ds_quadtree_remove(ds_quadtree *q, double x, double y, uint64_t id)
 *          removes one point with exactly this id and position;
 *          DS_ENOTFOUND. Never allocates.
 *   ds_status ds_quadtree_move(ds_quadtree *q, uint64_t id, double x, double y,
 *                              double new_x, double new_y)
 *          DS_ENOTFOUND if (x, y, id) is absent, DS_EINVAL if either
 *          position is outside; in place when both fall in the same leaf
 *   ds_status ds_quadtree_rect(const ds_quadtree *q, double x0, double y0, double x1,
 *                              double y1, ds_qt_fn fn, void *ctx, size_t *count)
 *          every point with x0 <= x <= x1 and y0 <= y <= y1, in no
 *          particular order; fn returns nonzero to stop early; *count
 *          (may be NULL) = points reported. DS_EINVAL for NaN or x0 > x1
 *          or y0 > y1; a rectangle beyond the bounds is fine.
 *   ds_status ds_quadtree_rect_into(const ds_quadtree *q, double x0, double y0, double x1,
 *                                   double y1, ds_qt_point *out, size_t cap, size_t *count)
 *          the same into out[0..cap); *count = all matches (which may be
 *          more than cap: only the first cap found are written)
 *   ds_status ds_quadtree_radius(const ds_quadtree *q, double x, double y, double r,
 *                                ds_qt_fn fn, void *ctx, size_t *count)
 *   ds_status ds_quadtree_radius_into(const ds_quadtree *q, double x, double y, double r,
 *                                     ds_qt_point *out, size_t cap, size_t *count)
 *          points with (px-x)^2 + (py-y)^2 <= r^2; DS_EINVAL for NaN, an
 *          infinite (x, y) or r < 0 (r may be +inf: everything)
 *   ds_status ds_quadtree_knn(const ds_quadtree *q, double x, double y, size_t k,
 *                             ds_qt_hit *out, size_t *found)
 *          the k nearest points, exactly, nearest first, into out (room
 *          for k); *found = min(k, len). Ties in distance go to the
 *          smaller id, then the smaller x, then y, so the answer is one
 *          well-defined list. Best-first search (Hjaltason and Samet,
 *          "Distance Browsing in Spatial Databases", ACM TODS 24(2),
 *          1999): a min-heap of nodes by their box's distance, a max-heap
 *          of the k best points so far, stopping when the nearest unopened
 *          box is farther than the k-th best. The node heap starts in 2 KiB
 *          of stack and may grow on the heap: DS_ENOMEM (nothing found).
 *          DS_EINVAL for NaN or an infinite (x, y), or out NULL with k > 0.
 *   size_t ds_quadtree_len(const ds_quadtree *q); ds_quadtree_memory (bytes held)
 * fn(ctx, id, x, y) must not change the tree.
 * Complexity: insert/remove/move O(depth + bucket) (a split cascade at
 * most O(max_depth * bucket)); depth is about log4(n / bucket) for spread
 * points and at most max_depth. rect/radius O(depth + nodes overlapping
 * the edge + points reported) (subtrees wholly inside are reported
 * without tests); knn visits about the nodes within the k-th distance.
 * Memory: for spread points about 50 bytes a point (24 of them the point
 * itself; buckets are 40-60% full) plus up to 2x that while the pools
 * grow by doubling; ds_quadtree_compact trims the slack.
 * Errors: DS_ENOMEM leaves the tree exactly as it was (insert and move
 * reserve the worst case of a split cascade before changing anything).
 * Thread-safety: none for writers; concurrent queries are fine. */
typedef struct ds_qt_point {
    double x, y;
    uint64_t id;
} ds_qt_point;

typedef struct ds_qt_hit {
    double x, y;
    uint64_t id;
    double dist;  /* Euclidean distance to the query point */
} ds_qt_hit;

typedef int (*ds_qt_fn)(void *ctx, uint64_t id, double x, double y);

/* Zero means the default (bounds excepted: they are required). */
typedef struct ds_quadtree_config {
    double x_min, y_min, x_max, y_max;  /* the closed rectangle points live in */
    uint32_t bucket;                    /* points a leaf holds before it splits: 1..256, 0 = 32 */
    uint32_t max_depth;                 /* 1..40, 0 = 32 */
    const ds_alloc *alloc;              /* NULL = default */
} ds_quadtree_config;

typedef struct ds__qtnode {
    uint32_t kids;   /* first of the 4 children, or DS__QT_NIL for a leaf */
    uint32_t count;  /* points in the subtree */
    uint32_t blk;    /* leaf: first bucket of its chain, or DS__QT_NIL */
} ds__qtnode;

typedef struct ds_quadtree {
    double x0, y0, x1, y1;           /* bounds */
    uint32_t bucket, max_depth, merge_at;
    ds__qtnode *node;                /* node[0] is the root (once allocated) */
    uint32_t node_cap, node_hw;      /* capacity, high-water mark (nodes) */
    uint32_t node_free;              /* freed groups of 4, linked through .kids */
    unsigned char *blk;              /* buckets: {u32 next, u32 n; x[B], y[B], id[B]} */
    size_t blk_stride;
    uint32_t blk_cap, blk_hw, blk_free;
    size_t len;
    const ds_alloc *alloc;
} ds_quadtree;

DSDEF ds_status ds_quadtree_init(ds_quadtree *q, const ds_quadtree_config *cfg);
DSDEF void ds_quadtree_free(ds_quadtree *q);
DSDEF void ds_quadtree_clear(ds_quadtree *q);
DSDEF ds_status ds_quadtree_insert(ds_quadtree *q, double x, double y, uint64_t id);
DSDEF ds_status ds_quadtree_remove(ds_quadtree *q, double x, double y, uint64_t id);
DSDEF ds_status ds_quadtree_move(ds_quadtree *q, uint64_t id, double x, double y, double new_x,
                                 double new_y);
DSDEF ds_status ds_quadtree_rect(const ds_quadtree *q, double x0, double y0, double x1, double y1,
                                 ds_qt_fn fn, void *ctx, size_t *count);
DSDEF ds_status ds_quadtree_rect_into(const ds_quadtree *q, double x0, double y0, double x1,
                                      double y1, ds_qt_point *out, size_t cap, size_t *count);
DSDEF ds_status ds_quadtree_radius(const ds_quadtree *q, double x, double y, double r, ds_qt_fn fn,
                                   void *ctx, size_t *count);
DSDEF ds_status ds_quadtree_radius_into(const ds_quadtree *q, double x, double y, double r,
                                        ds_qt_point *out, size_t cap, size_t *count);
DSDEF ds_status ds_quadtree_knn(const ds_quadtree *q, double x, double y, size_t k, ds_qt_hit *out,
                                size_t *found);
DSDEF ds_status ds_quadtree_insert_many(ds_quadtree *q, const ds_qt_point *pts, size_t n);
DSDEF ds_status ds_quadtree_compact(ds_quadtree *q);
DSDEF size_t ds_quadtree_len(const ds_quadtree *q);
DSDEF size_t ds_quadtree_memory(const ds_quadtree *q);


/* ========================================================================
 * == ds:graph ==  ds_graph: labelled weighted digraph, BFS, Dijkstra, A*; TSP
 * ========================================================================
 * A directed multigraph over dense node ids 0..nodes-1 (uint32). Each edge
 * carries a label (a uint32 of the caller's choosing, or an interned string
 * id from ds_graph_label_put) and a finite double weight. Parallel edges
 * and self-loops are allowed. Nodes may have string names (a knowledge
 * graph's entities): name -> id through a hash map, id -> name through an
 * array; labels likewise.
 *
 * Two storage forms, one type:
 *   incremental  each node owns a growable vector of its out-arcs:
 *                add_node / add_edge are O(1) amortised
 *   frozen (CSR) one offsets array (nodes + 1) and one arc array (edges),
 *                arcs of a node contiguous and in insertion order: 16 bytes
 *                an edge plus 8 a node, no per-node allocation, the fastest
 *                to search. ds_graph_freeze converts in place; ds_graph_build
 *                bulk-loads an edge list straight into it (counting sort).
 * Every search runs on either form and gives identical results (same arc
 * order, same tie-breaking). Adding a node to a frozen graph is O(1)
 * amortised; adding an edge to one first converts it back to the
 * incremental form, O(nodes + edges) once.
 *
 *   void   ds_graph_init(ds_graph *g, const ds_alloc *a)     allocates nothing
 *   void   ds_graph_free(ds_graph *g)
 *   ds_status ds_graph_add_node(ds_graph *g, uint32_t *id)   a new unnamed node
 *   ds_status ds_graph_add_nodes(ds_graph *g, size_t count, uint32_t *first)
 *          ids first .. first + count - 1. DS_EINVAL past UINT32_MAX - 1 nodes
 *   ds_status ds_graph_add_edge(ds_graph *g, uint32_t from, uint32_t to, uint32_t label,
 *                               double weight)
 *          DS_EINVAL: a node id >= nodes, weight NaN or infinite, a node
 *          with UINT32_MAX out-arcs. Negative weights are accepted (BFS
 *          ignores weights) but make Dijkstra and A* refuse (DS_EINVAL)
 *   ds_status ds_graph_freeze(ds_graph *g)       to CSR; O(nodes + edges)
 *   int    ds_graph_is_frozen(const ds_graph *g)
 *   ds_status ds_graph_build(ds_graph *g, size_t nodes, const ds_graph_edge *edges, size_t m)
 *          add `nodes` new nodes, then the m edges (ends < the new node
 *          count), leaving the graph frozen; a node's existing arcs stay
 *          first, new ones follow in the order given. O(nodes + edges),
 *          two allocations. Same DS_EINVAL cases as add_edge (checked
 *          before anything changes)
 *   const ds_graph_arc *ds_graph_out(const ds_graph *g, uint32_t u, size_t *deg)
 *          u's out-arcs (to, label, weight) and their count; NULL and 0
 *          for an unknown u or no arcs. Valid until the graph changes
 *   size_t ds_graph_nodes(g), ds_graph_edges(g), ds_graph_memory(g) (bytes held)
 *
 * Names (NUL-terminated strings, copied into the graph):
 *   ds_status ds_graph_node_put(ds_graph *g, const char *name, uint32_t *id)
 *          the id of the node with this name, added if new
 *   ds_status ds_graph_node_get(const ds_graph *g, const char *name, uint32_t *id)
 *          DS_ENOTFOUND if no node has this name
 *   const char *ds_graph_node_name(const ds_graph *g, uint32_t id)   NULL if unnamed
 *   ds_status ds_graph_label_put / ds_graph_label_get / ds_graph_label_name
 *          the same for labels: interned ids are dense from 0 in order of
 *          first use (mixing them with ids of your own is up to you)
 *   ds_status ds_graph_link(ds_graph *g, const char *from, const char *label,
 *                           const char *to, double weight)
 *          put both nodes and the label, then add the edge (the seed's
 *          add_edge(source, relation, target)); all or nothing
 *
 * Searches. A ds_graph_search holds the scratch and the result of one
 * search: per-node distance and predecessor, plus the heap. It is
 * sized to the graph on first use and reused: a later search on a graph
 * no larger allocates nothing (a per-search epoch stamp means nothing is
 * cleared either; the stamps are reset once every 2^30 searches). Results
 * stay readable until the next search on the same scratch; path queries
 * need the graph unchanged since. One scratch per thread: searches only
 * read the graph, so any number may run on one graph at once.
 *
 *   void   ds_graph_search_init(ds_graph_search *s, const ds_alloc *a)   allocates nothing
 *   void   ds_graph_search_free(ds_graph_search *s)
 *   ds_status ds_graph_bfs(const ds_graph *g, ds_graph_search *s, uint32_t src,
 *                          uint32_t dst, uint32_t max_hops)
 *          breadth-first from src over at most max_hops edges
 *          (DS_GRAPH_UNLIMITED for no limit): every node within max_hops
 *          is reached, with its exact hop count as depth. dst ==
 *          DS_GRAPH_NONE explores all of them; otherwise the search stops
 *          once dst is reached, and the path to it is an unweighted
 *          shortest path (fewest edges). DS_ENOTFOUND: dst not within
 *          max_hops. O(nodes reached + their out-arcs)
 *   ds_status ds_graph_dijkstra(const ds_graph *g, ds_graph_search *s, uint32_t src,
 *                               uint32_t dst)
 *          shortest weighted paths from src (Dijkstra 1959) on a DS_HEAP
 *          binary heap with lazy deletion: DS_HEAP keeps no positions, so
 *          an improved node is pushed again instead of decreased, and its
 *          stale entry skipped when popped (the no-decrease-key variant of
 *          Chen, Chowdhury, Ramachandran, Lan Roche and Tong, "Priority
 *          Queues and Dijkstra's Algorithm", 2007; on bench_graph's random
 *          graph about 2 pushes a node). dst == DS_GRAPH_NONE settles every
 *          reachable node; otherwise it stops once dst is settled.
 *          DS_EINVAL: the graph has a negative weight. DS_ENOTFOUND: dst
 *          unreachable (the reachable set is still the result).
 *          O((nodes + edges) log edges)
 *   ds_status ds_graph_astar(const ds_graph *g, ds_graph_search *s, uint32_t src,
 *                            uint32_t dst, ds_graph_heuristic h, void *ctx)
 *          A* (Hart, Nilsson, Raphael 1968) to dst: expands by g + h(v), h
 *          called once per node reached, ties at equal g + h broken toward
 *          smaller h (deeper first). With an admissible h (never above the true
 *          remaining cost) the path to dst is a shortest one; a consistent
 *          h (h(u) <= w(u,v) + h(v)) expands each node at most once, an
 *          inconsistent one may reopen nodes. h NULL is Dijkstra stopping
 *          at dst. DS_EINVAL also when dst is DS_GRAPH_NONE or h returns a
 *          negative, NaN or infinite value
 *   Shared errors: DS_EINVAL for NULL g or s, or src/dst >= nodes;
 *   DS_ENOMEM when the scratch or heap cannot grow (the scratch then holds
 *   no result; the graph is never changed by a search).
 *
 * Reading a result (O(1) unless said otherwise):
 *   size_t ds_graph_search_count(s); const uint32_t *ds_graph_search_nodes(s)
 *          the nodes reached: BFS in discovery order (source first, depth
 *          non-decreasing), Dijkstra and A* in the order they were settled
 *   size_t ds_graph_search_expanded(s)
 *          nodes expanded: BFS, those whose arcs were scanned; Dijkstra and
 *          A*, those taken off the heap to be settled, dst included (A*
 *          counts a reopened node again)
 *   int    ds_graph_search_reached(s, v)
 *   uint32_t ds_graph_search_depth(s, v)   hops on the path found; DS_GRAPH_NONE if not reached
 *          (O(1) after BFS, O(hops) after Dijkstra and A*)
 *   double ds_graph_search_dist(s, v)      weight of that path (BFS: hops);
 *          HUGE_VAL if not reached. After Dijkstra every reached node's
 *          distance is the shortest; after A* dst's is, and with a
 *          consistent h so is every settled node's
 *   ds_status ds_graph_search_path(const ds_graph *g, const ds_graph_search *s, uint32_t v,
 *                                  ds_graph_step *out, size_t cap, size_t *len)
 *          the path src -> v as steps (from, label, to, weight), in order;
 *          *len = its length (0 for v == src). DS_ENOTFOUND: v not reached;
 *          DS_EFULL: cap < *len (nothing written; call with cap 0 to size);
 *          DS_EINVAL: NULL s/len, or g is not the graph searched. O(hops)
 * Scratch memory: 24 bytes a node, plus the heap (16 bytes an entry; lazy
 * deletion keeps stale entries, up to one per improvement: on bench_graph's
 * random graph, mean degree 10, its peak stayed under 1.31 x nodes), plus 8
 * bytes a node for A*.
 *
 * TSP heuristic for small instances (up to about a thousand cities):
 * nearest neighbour (Rosenkrantz, Stearns, Lewis 1977) then 2-opt (Croes
 * 1958) to a local optimum. Distances come from a callback (a matrix and
 * planar points are ready-made below) and must be finite, >= 0 and
 * symmetric. A tour is a permutation of 0..n-1, closed back to its start.
 * Nothing allocates.
 *   ds_status ds_tsp_nearest_neighbor(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
 *                                     uint32_t *tour, double *length)
 *          tour[0] = start, then always the nearest unvisited city; O(n^2)
 *   ds_status ds_tsp_two_opt(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t *tour,
 *                            double *length)
 *          improve a tour in place by segment reversals until none helps;
 *          the result is never longer than the input. O(n^2) a pass
 *   ds_status ds_tsp_solve(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
 *                          uint32_t *tour, double *length)
 *          both; *length (may be NULL) is the closed tour's length
 *   double ds_tsp_length(size_t n, ds_tsp_dist_fn d, void *ctx, const uint32_t *tour)
 *   double ds_tsp_matrix_dist(void *ctx, uint32_t i, uint32_t j)  ctx: a ds_tsp_matrix
 *   double ds_tsp_euclid_dist(void *ctx, uint32_t i, uint32_t j)  ctx: const double xy[2n]
 *   DS_EINVAL: n == 0 or above UINT32_MAX, NULL d or tour, start >= n, a
 *   tour entry >= n, a distance negative, NaN or infinite (the tour is
 *   then still a permutation).
 * Thread-safety: none for writers; concurrent readers (searches with their
 * own scratch, out, names) are fine. */
#define DS_GRAPH_NONE UINT32_MAX      /* no node: "no target", "not reached" */
#define DS_GRAPH_UNLIMITED UINT32_MAX /* max_hops: no limit */

/* One out-arc as stored: 16 bytes. */
typedef struct ds_graph_arc {
    uint32_t to, label;
    double weight;
} ds_graph_arc;

/* An edge for ds_graph_build. */
typedef struct ds_graph_edge {
    uint32_t from, to, label;
    double weight;
} ds_graph_edge;

/* One step of a path: the edge from -label-> to and its weight. */
typedef struct ds_graph_step {
    uint32_t from, label, to;
    double weight;
} ds_graph_step;

/* A* heuristic: an estimate of the cost from node to target (>= 0). */
typedef double (*ds_graph_heuristic)(void *ctx, uint32_t node, uint32_t target);

typedef struct ds__garcs { /* a node's out-arcs in the incremental form */
    ds_graph_arc *a;
    uint32_t len, cap;
} ds__garcs;

DS__MAP_TYPES(ds__gnames, const char *, uint32_t);

typedef struct ds_graph {
    size_t nodes, edges;
    size_t negative;          /* edges with weight < 0 */
    ds__garcs *adj;           /* incremental form (NULL when frozen) */
    size_t adj_cap;
    size_t *off;              /* frozen: arcs of u are arcs[off[u] .. off[u+1]) */
    size_t off_cap;
    ds_graph_arc *arcs;
    const char **node_name;   /* [0, name_len): NULL for unnamed */
    size_t name_len, name_cap;
    const char **label_name;  /* interned labels [0, label_len) */
    size_t label_len, label_cap;
    ds__gnames node_ids, label_ids;
    void *chunks;             /* name bytes: a list of chunks, newest first */
    size_t chunk_used, chunk_size, chunk_bytes;
    const ds_alloc *alloc;
} ds_graph;

typedef struct ds__gslot { /* a node's search state, 16 bytes */
    double dist;              /* BFS: the hop count */
    uint32_t pred, via;       /* predecessor and the index of the arc in its out-list */
} ds__gslot;
typedef struct ds__gitem {
    double key;
    uint32_t node, tie;       /* A*: tie, smaller first at equal key */
} ds__gitem;
DS__HEAP_TYPES(ds__gheap, ds__gitem);   /* Dijkstra: by key */
DS__HEAP_TYPES(ds__gheapt, ds__gitem);  /* A*: by key, then tie */

typedef struct ds_graph_search {
    /* one block: slot[cap], stamp[cap], order[cap]. stamp: epoch open,
     * +1 settled, +2 reopened, anything else untouched (4 bytes a node,
     * apart: it stays in cache, and a settled target costs no miss) */
    ds__gslot *slot;
    uint32_t *stamp;
    uint32_t *order;          /* nodes reached / settled, in that order */
    double *h;                /* A*: the heuristic of each node reached */
    size_t cap, hcap;
    size_t count, expanded;
    uint32_t epoch, source;
    int valid;                /* holds a result */
    int hops;                 /* it was a BFS: slot.dist is the hop count */
    ds__gheap heap;
    ds__gheapt theap;
    const ds_alloc *alloc;
} ds_graph_search;

DSDEF void ds_graph_init(ds_graph *g, const ds_alloc *a);
DSDEF void ds_graph_free(ds_graph *g);
DSDEF ds_status ds_graph_add_node(ds_graph *g, uint32_t *id);
DSDEF ds_status ds_graph_add_nodes(ds_graph *g, size_t count, uint32_t *first);
DSDEF ds_status ds_graph_add_edge(ds_graph *g, uint32_t from, uint32_t to, uint32_t label,
                                  double weight);
DSDEF ds_status ds_graph_freeze(ds_graph *g);
DSDEF int ds_graph_is_frozen(const ds_graph *g);
DSDEF ds_status ds_graph_build(ds_graph *g, size_t nodes, const ds_graph_edge *edges, size_t m);
DSDEF const ds_graph_arc *ds_graph_out(const ds_graph *g, uint32_t u, size_t *deg);
DSDEF size_t ds_graph_nodes(const ds_graph *g);
DSDEF size_t ds_graph_edges(const ds_graph *g);
DSDEF size_t ds_graph_memory(const ds_graph *g);
DSDEF ds_status ds_graph_node_put(ds_graph *g, const char *name, uint32_t *id);
DSDEF ds_status ds_graph_node_get(const ds_graph *g, const char *name, uint32_t *id);
DSDEF const char *ds_graph_node_name(const ds_graph *g, uint32_t id);
DSDEF ds_status ds_graph_label_put(ds_graph *g, const char *name, uint32_t *id);
DSDEF ds_status ds_graph_label_get(const ds_graph *g, const char *name, uint32_t *id);
DSDEF const char *ds_graph_label_name(const ds_graph *g, uint32_t id);
DSDEF ds_status ds_graph_link(ds_graph *g, const char *from, const char *label, const char *to,
                              double weight);

DSDEF void ds_graph_search_init(ds_graph_search *s, const ds_alloc *a);
DSDEF void ds_graph_search_free(ds_graph_search *s);
DSDEF ds_status ds_graph_bfs(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst,
                             uint32_t max_hops);
DSDEF ds_status ds_graph_dijkstra(const ds_graph *g, ds_graph_search *s, uint32_t src,
                                  uint32_t dst);
DSDEF ds_status ds_graph_astar(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst,
                               ds_graph_heuristic h, void *ctx);
DSDEF size_t ds_graph_search_count(const ds_graph_search *s);
DSDEF const uint32_t *ds_graph_search_nodes(const ds_graph_search *s);
DSDEF size_t ds_graph_search_expanded(const ds_graph_search *s);
DSDEF int ds_graph_search_reached(const ds_graph_search *s, uint32_t v);
DSDEF uint32_t ds_graph_search_depth(const ds_graph_search *s, uint32_t v);
DSDEF double ds_graph_search_dist(const ds_graph_search *s, uint32_t v);
DSDEF ds_status ds_graph_search_path(const ds_graph *g, const ds_graph_search *s, uint32_t v,
                                     ds_graph_step *out, size_t cap, size_t *len);

typedef double (*ds_tsp_dist_fn)(void *ctx, uint32_t i, uint32_t j);
/* A row-major n x n distance matrix: d[i * n + j]. */
typedef struct ds_tsp_matrix {
    const double *d;
    size_t n;
} ds_tsp_matrix;
DSDEF ds_status ds_tsp_nearest_neighbor(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
                                        uint32_t *tour, double *length);
DSDEF ds_status ds_tsp_two_opt(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t *tour,
                               double *length);
DSDEF ds_status ds_tsp_solve(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
                             uint32_t *tour, double *length);
DSDEF double ds_tsp_length(size_t n, ds_tsp_dist_fn d, void *ctx, const uint32_t *tour);
DSDEF double ds_tsp_matrix_dist(void *ctx, uint32_t i, uint32_t j);
DSDEF double ds_tsp_euclid_dist(void *ctx, uint32_t i, uint32_t j);

#ifdef __cplusplus
}
#endif
#endif /* DS_H_INCLUDED */

/* ************************************************************************
 *
 *                           IMPLEMENTATION
 *
 * ************************************************************************ */
#if defined(DS_IMPLEMENTATION) && !defined(DS_IMPLEMENTATION_DONE)
#define DS_IMPLEMENTATION_DONE

#include <math.h>
#include <time.h>
#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* == ds:core == */

DSDEF const char *ds_strerror(ds_status s) {
    switch (s) {
#define DS__STATUS_MSG(id, val, msg) case id: return msg;
        DS_STATUS_LIST(DS__STATUS_MSG)
#undef DS__STATUS_MSG
    default: return "unknown status";
    }
}

DSDEF const char *ds_status_name(ds_status s) {
    switch (s) {
#define DS__STATUS_NAME(id, val, msg) case id: return #id;
        DS_STATUS_LIST(DS__STATUS_NAME)
#undef DS__STATUS_NAME
    default: return "DS_?";
    }
}

/* == ds:rng == */

DSDEF uint64_t ds_rng_below(ds_rng *r, uint64_t n) {
    uint64_t lo, hi, x;
    if (n == 0) return 0;
    /* Lemire: hi of x*n is uniform once the low half is >= 2^64 mod n. */
    x = ds_rng_next(r);
    lo = x;
    hi = n;
    ds__mum128(&lo, &hi);
    if (lo < n) {
        uint64_t t = (0 - n) % n;
        while (lo < t) {
            x = ds_rng_next(r);
            lo = x;
            hi = n;
            ds__mum128(&lo, &hi);
        }
    }
    return hi;
}

DSDEF void ds_rng_jump(ds_rng *r) {
    /* The jump polynomial for 2^128 steps, from the xoshiro256** paper. */
    static const uint64_t jump[4] = {0x180ec6d33cfd0abaull, 0xd5a61266f0c9392cull,
                                     0xa9582618e03fc9aaull, 0x39abdc4529b1661cull};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i, b;
    for (i = 0; i < 4; i++) {
        for (b = 0; b < 64; b++) {
            if (jump[i] & ((uint64_t)1 << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            (void)ds_rng_next(r);
        }
    }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
}

/* == ds:hash == */

static inline uint64_t ds__rd64(const uint8_t *p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
#endif
}
static inline uint64_t ds__rd32(const uint8_t *p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
#endif
}

DSDEF uint64_t ds_hash_bytes(const void *key, size_t n, uint64_t seed) {
    const uint8_t *p = (const uint8_t *)key;
    uint64_t a, b;
    seed ^= ds__mum(seed ^ DS__HK0, DS__HK1);
    if (n <= 16) {
        if (n >= 4) {
            /* Two overlapping 4-byte reads from each end cover 4..16 bytes. */
            size_t q = (n >> 3) << 2;
            a = (ds__rd32(p) << 32) | ds__rd32(p + q);
            b = (ds__rd32(p + n - 4) << 32) | ds__rd32(p + n - 4 - q);
        } else if (n > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = n;
        if (i > 48) {
            uint64_t s1 = seed, s2 = seed;
            do {
                seed = ds__mum(ds__rd64(p) ^ DS__HK1, ds__rd64(p + 8) ^ seed);
                s1 = ds__mum(ds__rd64(p + 16) ^ DS__HK2, ds__rd64(p + 24) ^ s1);
                s2 = ds__mum(ds__rd64(p + 32) ^ DS__HK3, ds__rd64(p + 40) ^ s2);
                p += 48;
                i -= 48;
            } while (i > 48);
            seed ^= s1 ^ s2;
        }
        while (i > 16) {
            seed = ds__mum(ds__rd64(p) ^ DS__HK1, ds__rd64(p + 8) ^ seed);
            i -= 16;
            p += 16;
        }
        /* The last 16 bytes, overlapping what came before if needed. */
        a = ds__rd64(p + i - 16);
        b = ds__rd64(p + i - 8);
    }
    a ^= DS__HK1;
    b ^= seed;
    ds__mum128(&a, &b);
    return ds__mum(a ^ DS__HK0 ^ (uint64_t)n, b ^ DS__HK1);
}

/* == ds:time == */

/* Both clocks in one place: they differ only in which one is read. */
static int64_t ds__clock_ns(int wall) {
#if defined(_WIN32)
    static LARGE_INTEGER freq; /* written once with the same value: benign */
    LARGE_INTEGER c;
    if (wall) {
        FILETIME ft; /* 100 ns ticks since 1601 */
        ULARGE_INTEGER u;
        GetSystemTimeAsFileTime(&ft);
        u.LowPart = ft.dwLowDateTime;
        u.HighPart = ft.dwHighDateTime;
        return ((int64_t)u.QuadPart - 116444736000000000LL) * 100;
    }
    if (!freq.QuadPart) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&c);
    return (int64_t)((double)c.QuadPart * 1e9 / (double)freq.QuadPart);
#elif defined(CLOCK_MONOTONIC)
    struct timespec ts;
    clock_gettime(wall ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && defined(TIME_UTC)
    struct timespec ts;
    (void)wall; /* only the wall clock is available */
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
#else
    (void)wall;
    return (int64_t)time(NULL) * 1000000000;
#endif
}
DSDEF int64_t ds_now_ns(void) { return ds__clock_ns(0); }
DSDEF int64_t ds_wall_ns(void) { return ds__clock_ns(1); }

/* == ds:io == */

static int ds__little_endian(void) {
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

DSDEF void ds_membuf_init(ds_membuf *b, const ds_alloc *a) {
    if (!b) return;
    b->data = NULL;
    b->len = b->cap = 0;
    b->alloc = a;
}
DSDEF void ds_membuf_free(ds_membuf *b) {
    if (!b) return;
    if (b->data) DS_FREE(b->alloc, b->data, b->cap);
    ds_membuf_init(b, b->alloc);
}
static ds_status ds__membuf_write(void *ctx, const void *p, size_t n) {
    ds_membuf *b = (ds_membuf *)ctx;
    size_t need;
    if (!ds_size_add(b->len, n, &need)) return DS_EINVAL;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        void *d;
        while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        d = b->data ? DS_REALLOC(b->alloc, b->data, b->cap, cap) : DS_MALLOC(b->alloc, cap);
        if (!d) return DS_ENOMEM;
        b->data = (unsigned char *)d;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len = need;
    return DS_OK;
}
DSDEF ds_writer ds_membuf_writer(ds_membuf *b) {
    ds_writer w;
    w.write = ds__membuf_write;
    w.ctx = b;
    return w;
}

static ds_status ds__memsrc_read(void *ctx, void *p, size_t n) {
    ds_memsrc *s = (ds_memsrc *)ctx;
    if (n > s->len - s->pos) return DS_ECORRUPT;
    if (n) memcpy(p, s->p + s->pos, n);
    s->pos += n;
    return DS_OK;
}
DSDEF ds_reader ds_mem_reader(ds_memsrc *src, const void *p, size_t n) {
    ds_reader r;
    src->p = (const unsigned char *)p;
    src->len = p ? n : 0;
    src->pos = 0;
    r.read = ds__memsrc_read;
    r.ctx = src;
    r.avail = src->len;
    return r;
}

#ifndef DS_NO_STDIO
static ds_status ds__file_write(void *ctx, const void *p, size_t n) {
    return fwrite(p, 1, n, (FILE *)ctx) == n ? DS_OK : DS_EIO;
}
static ds_status ds__file_read(void *ctx, void *p, size_t n) {
    FILE *f = (FILE *)ctx;
    if (fread(p, 1, n, f) == n) return DS_OK;
    return ferror(f) ? DS_EIO : DS_ECORRUPT;
}
DSDEF ds_writer ds_file_writer(FILE *f) {
    ds_writer w;
    w.write = ds__file_write;
    w.ctx = f;
    return w;
}
DSDEF ds_reader ds_file_reader(FILE *f) {
    ds_reader r;
    long here, end;
    r.read = ds__file_read;
    r.ctx = f;
    r.avail = UINT64_MAX;
    /* Bytes left in a seekable file bound every length load() believes. */
    if (f && (here = ftell(f)) >= 0 && fseek(f, 0, SEEK_END) == 0) {
        end = ftell(f);
        if (fseek(f, here, SEEK_SET) == 0 && end >= here) r.avail = (uint64_t)(end - here);
    }
    return r;
}
#endif

/* Encoder/decoder: little-endian fields, a running checksum, and a sticky
 * status so callers check once at the end. */
DSDEF void ds__put(ds__enc *e, const void *p, size_t n) {
    if (e->st != DS_OK) return;
    e->sum = ds_hash_bytes(p, n, e->sum);
    e->st = e->w.write(e->w.ctx, p, n);
}
DSDEF void ds__put_u64(ds__enc *e, uint64_t v) {
    unsigned char b[8];
    int i;
    for (i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    ds__put(e, b, 8);
}
static DS__UNUSED void ds__put_f64(ds__enc *e, double d) {
    uint64_t v;
    memcpy(&v, &d, 8);
    ds__put_u64(e, v);
}
/* Arrays go out in DS__IO_CHUNK-byte pieces, each checksummed as it is
 * written, so the reader (same pieces) agrees; big-endian hosts encode
 * each piece into a buffer first. */
#define DS__IO_CHUNK 4096
static DS__UNUSED void ds__put_words(ds__enc *e, const void *a, size_t n, size_t wsz) {
    const unsigned char *p = (const unsigned char *)a;
    size_t left = n * wsz, i, j;
    int le = ds__little_endian() || wsz == 1;
    while (left && e->st == DS_OK) {
        size_t c = left < DS__IO_CHUNK ? left : DS__IO_CHUNK;
        if (le) {
            ds__put(e, p, c);
        } else {
            unsigned char buf[DS__IO_CHUNK];
            for (i = 0; i < c; i += wsz) {
                uint64_t v = 0;
                if (wsz == 8) memcpy(&v, p + i, 8);
                else if (wsz == 4) { uint32_t u; memcpy(&u, p + i, 4); v = u; }
                else { uint16_t u; memcpy(&u, p + i, 2); v = u; }
                for (j = 0; j < wsz; j++) buf[i + j] = (unsigned char)(v >> (8 * j));
            }
            ds__put(e, buf, c);
        }
        p += c;
        left -= c;
    }
}
DSDEF void ds__enc_init(ds__enc *e, ds_writer w, const char magic[4], uint32_t version) {
    e->w = w;
    e->sum = 0x6473; /* "ds" */
    e->st = w.write ? DS_OK : DS_EINVAL;
    ds__put(e, magic, 4);
    ds__put_u64(e, version);
}
DSDEF ds_status ds__enc_end(ds__enc *e) {
    uint64_t sum = e->sum;
    ds__put_u64(e, sum);
    return e->st;
}

DSDEF void ds__get(ds__dec *d, void *p, size_t n) {
    if (d->st != DS_OK) return;
    if (d->r->avail < n) {
        d->st = DS_ECORRUPT;
        return;
    }
    d->st = d->r->read(d->r->ctx, p, n);
    if (d->st != DS_OK) return;
    if (d->r->avail != UINT64_MAX) d->r->avail -= n;
    d->sum = ds_hash_bytes(p, n, d->sum);
}
DSDEF uint64_t ds__get_u64(ds__dec *d) {
    unsigned char b[8];
    uint64_t v = 0;
    int i;
    memset(b, 0, 8);
    ds__get(d, b, 8);
    for (i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return d->st == DS_OK ? v : 0;
}
static DS__UNUSED double ds__get_f64(ds__dec *d) {
    uint64_t v = ds__get_u64(d);
    double x;
    memcpy(&x, &v, 8);
    return x;
}
/* Little-endian words read into a, to host order. */
static void ds__words_from_le(void *a, size_t n, size_t wsz) {
    size_t i, j;
    if (ds__little_endian() || wsz == 1) return;
    for (i = 0; i < n; i++) {
        const unsigned char *b = (const unsigned char *)a + i * wsz;
        uint64_t v = 0;
        for (j = wsz; j-- > 0;) v = (v << 8) | b[j];
        if (wsz == 8) ((uint64_t *)a)[i] = v;
        else if (wsz == 4) ((uint32_t *)a)[i] = (uint32_t)v;
        else ((uint16_t *)a)[i] = (uint16_t)v;
    }
}
static DS__UNUSED void ds__get_words(ds__dec *d, void *a, size_t n, size_t wsz) {
    unsigned char *p = (unsigned char *)a;
    size_t left = n * wsz;
    while (left && d->st == DS_OK) {
        size_t c = left < DS__IO_CHUNK ? left : DS__IO_CHUNK;
        ds__get(d, p, c);
        p += c;
        left -= c;
    }
    if (d->st == DS_OK) ds__words_from_le(a, n, wsz);
}
/* An array of n words (n * wsz bytes, checked by the caller) read into a
 * new block of exactly that size. When the input's size is unknown (a
 * pipe), the block starts at 1 MiB and doubles as data arrives, so a
 * hostile length costs at most twice the bytes actually sent. NULL with
 * d->st set on failure. */
static DS__UNUSED void *ds__get_alloc(ds__dec *d, size_t n, size_t wsz, const ds_alloc *a) {
    size_t bytes = n * wsz, cap, got = 0;
    unsigned char *p;
    if (d->st != DS_OK) return NULL;
    cap = d->r->avail != UINT64_MAX || bytes <= ((size_t)1 << 20) ? bytes : ((size_t)1 << 20);
    if (!(p = (unsigned char *)DS_MALLOC(a, cap ? cap : 1))) {
        d->st = DS_ENOMEM;
        return NULL;
    }
    if (!cap) cap = 1;
    while (got < bytes && d->st == DS_OK) {
        size_t c = bytes - got < DS__IO_CHUNK ? bytes - got : DS__IO_CHUNK;
        if (got + c > cap) {
            size_t nc = cap > bytes / 2 ? bytes : cap * 2;
            void *q = DS_REALLOC(a, p, cap, nc);
            if (!q) {
                d->st = DS_ENOMEM;
                break;
            }
            p = (unsigned char *)q;
            cap = nc;
        }
        ds__get(d, p + got, c);
        got += c;
    }
    if (d->st != DS_OK) {
        DS_FREE(a, p, cap);
        return NULL;
    }
    ds__words_from_le(p, n, wsz);
    return p;
}
/* Reject a payload of `bytes` the input cannot hold, before allocating it. */
DSDEF int ds__dec_room(ds__dec *d, uint64_t bytes) {
    if (d->st == DS_OK && bytes > d->r->avail) d->st = DS_ECORRUPT;
    return d->st == DS_OK;
}
DSDEF void ds__dec_init(ds__dec *d, ds_reader *r, const char magic[4], uint32_t version) {
    char m[4];
    d->r = r;
    d->sum = 0x6473;
    d->st = r && r->read ? DS_OK : DS_EINVAL;
    ds__get(d, m, 4);
    if (d->st == DS_OK && memcmp(m, magic, 4) != 0) d->st = DS_ECORRUPT;
    if (ds__get_u64(d) != version && d->st == DS_OK) d->st = DS_ECORRUPT;
}
DSDEF ds_status ds__dec_end(ds__dec *d) {
    uint64_t want = d->sum, got = ds__get_u64(d);
    if (d->st == DS_OK && got != want) d->st = DS_ECORRUPT;
    return d->st;
}

/* == ds:vec == */

/* Introsort: median-of-three quicksort, insertion sort below 16 elements,
 * heapsort when recursion passes 2 log2 n (so O(n log n) worst case). */
static void ds__sort_heap_down(unsigned char *b, size_t n, size_t i, size_t esz, ds__cmp_fn cmp,
                               void *ctx) {
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && cmp(b + c * esz, b + (c + 1) * esz, ctx) < 0) c++;
        if (cmp(b + i * esz, b + c * esz, ctx) >= 0) return;
        ds__swap_bytes(b + i * esz, b + c * esz, esz);
        i = c;
    }
}

static void ds__sort_rec(unsigned char *b, size_t n, size_t esz, ds__cmp_fn cmp, void *ctx,
                         int depth) {
    while (n > 16) {
        size_t i, j, mid = n / 2;
        unsigned char *lo = b, *md = b + mid * esz, *hi = b + (n - 1) * esz;
        if (depth-- == 0) {
            for (i = n / 2; i-- > 0;) ds__sort_heap_down(b, n, i, esz, cmp, ctx);
            for (i = n - 1; i > 0; i--) {
                ds__swap_bytes(b, b + i * esz, esz);
                ds__sort_heap_down(b, i, 0, esz, cmp, ctx);
            }
            return;
        }
        /* Median of three into b[0]; it is the pivot. */
        if (cmp(md, lo, ctx) < 0) ds__swap_bytes(md, lo, esz);
        if (cmp(hi, md, ctx) < 0) {
            ds__swap_bytes(hi, md, esz);
            if (cmp(md, lo, ctx) < 0) ds__swap_bytes(md, lo, esz);
        }
        ds__swap_bytes(lo, md, esz);
        /* Hoare partition around b[0]. */
        i = 0;
        j = n;
        for (;;) {
            do i++; while (i < n && cmp(b + i * esz, b, ctx) < 0);
            do j--; while (cmp(b, b + j * esz, ctx) < 0);
            if (i >= j) break;
            ds__swap_bytes(b + i * esz, b + j * esz, esz);
        }
        ds__swap_bytes(b, b + j * esz, esz);
        /* Recurse into the smaller side, loop on the larger. */
        if (j < n - j - 1) {
            ds__sort_rec(b, j, esz, cmp, ctx, depth);
            b += (j + 1) * esz;
            n -= j + 1;
        } else {
            ds__sort_rec(b + (j + 1) * esz, n - j - 1, esz, cmp, ctx, depth);
            n = j;
        }
    }
    {
        size_t i, j;
        for (i = 1; i < n; i++)
            for (j = i; j > 0 && cmp(b + j * esz, b + (j - 1) * esz, ctx) < 0; j--)
                ds__swap_bytes(b + j * esz, b + (j - 1) * esz, esz);
    }
}

DSDEF void ds__sort(void *base, size_t n, size_t esz, ds__cmp_fn cmp, void *ctx) {
    int depth = 0;
    size_t m = n;
    if (!base || n < 2 || esz == 0) return;
    while (m) {
        depth += 2;
        m >>= 1;
    }
    ds__sort_rec((unsigned char *)base, n, esz, cmp, ctx, depth);
}

/* == ds:map == */

DSDEF uint64_t ds__map_default_seed(uintptr_t addr) {
    return ds_mix64((uint64_t)addr ^ ds_mix64((uint64_t)ds_now_ns()));
}

/* == ds:window == */

static uint32_t ds__wsize(const ds_window *w, uint32_t n) { return n ? w->nodes[n].size : 0; }
static void ds__wupd(ds_window *w, uint32_t n) {
    w->nodes[n].size = 1 + ds__wsize(w, w->nodes[n].left) + ds__wsize(w, w->nodes[n].right);
}
/* Total order on samples: by value, ties by node id. */
static int ds__wless(const ds_window *w, uint32_t a, uint32_t b) {
    double xa = w->nodes[a].x, xb = w->nodes[b].x;
    return xa < xb || (xa == xb && a < b);
}
/* Split t into the nodes ordered before k (*l) and the rest (*r). */
static void ds__wsplit(ds_window *w, uint32_t t, uint32_t k, uint32_t *l, uint32_t *r) {
    uint32_t a, b;
    if (!t) {
        *l = *r = 0;
        return;
    }
    if (ds__wless(w, t, k)) {
        ds__wsplit(w, w->nodes[t].right, k, &a, &b);
        w->nodes[t].right = a;
        *l = t;
        *r = b;
    } else {
        ds__wsplit(w, w->nodes[t].left, k, &a, &b);
        w->nodes[t].left = b;
        *l = a;
        *r = t;
    }
    ds__wupd(w, t);
}
static uint32_t ds__wmerge(ds_window *w, uint32_t a, uint32_t b) {
    uint32_t m;
    if (!a) return b;
    if (!b) return a;
    if (w->nodes[a].prio > w->nodes[b].prio) {
        m = ds__wmerge(w, w->nodes[a].right, b);
        w->nodes[a].right = m;
        ds__wupd(w, a);
        return a;
    }
    m = ds__wmerge(w, a, w->nodes[b].left);
    w->nodes[b].left = m;
    ds__wupd(w, b);
    return b;
}
static uint32_t ds__wremove_min(ds_window *w, uint32_t t) {
    uint32_t l = w->nodes[t].left;
    if (!l) return w->nodes[t].right;
    w->nodes[t].left = ds__wremove_min(w, l);
    ds__wupd(w, t);
    return t;
}
static void ds__wsum(ds_window *w, double x) { /* Neumaier */
    double t = w->sum + x;
    w->comp += fabs(w->sum) >= fabs(x) ? (w->sum - t) + x : (x - t) + w->sum;
    w->sum = t;
}

static ds_status ds__window_init(ds_window *w, size_t n, int64_t span, const ds_alloc *a) {
    memset(w, 0, sizeof *w);
    w->alloc = a;
    w->max_len = n;
    w->span = span;
    w->last_now = INT64_MIN;
    w->rng = 0x243f6a8885a308d3ull;
    return DS_OK;
}
DSDEF ds_status ds_window_init_count(ds_window *w, size_t n, const ds_alloc *a) {
    if (!w || n == 0 || n >= UINT32_MAX - 1) return DS_EINVAL;
    return ds__window_init(w, n, 0, a);
}
DSDEF ds_status ds_window_init_time(ds_window *w, int64_t span, const ds_alloc *a) {
    if (!w || span < 1) return DS_EINVAL;
    return ds__window_init(w, 0, span, a);
}
DSDEF void ds_window_free(ds_window *w) {
    if (!w) return;
    if (w->cap) {
        DS_FREE(w->alloc, w->ring_x, w->cap * sizeof(double));
        DS_FREE(w->alloc, w->ring_t, w->cap * sizeof(int64_t));
        DS_FREE(w->alloc, w->ring_node, w->cap * sizeof(uint32_t));
    }
    if (w->node_cap) DS_FREE(w->alloc, w->nodes, (w->node_cap + 1) * sizeof(ds__wnode));
    ds__window_init(w, w->max_len, w->span, w->alloc);
}
DSDEF void ds_window_clear(ds_window *w) {
    size_t i;
    if (!w) return;
    w->head = w->len = 0;
    w->root = 0;
    w->free_node = 0;
    for (i = w->node_cap; i >= 1; i--) { /* every node back on the free list */
        w->nodes[i].left = w->free_node;
        w->free_node = (uint32_t)i;
    }
    w->sum = w->comp = 0;
    w->last_now = INT64_MIN;
}
/* Room for one more sample (ring slot and node), allocating before any
 * change: on DS_ENOMEM the window is as it was. */
static ds_status ds__window_reserve(ds_window *w) {
    /* A full count window evicts its oldest sample into the slot it frees:
     * its ring (allocated at max_len) never grows. */
    if (w->len == w->cap && !(w->max_len && w->cap >= w->max_len)) {
        size_t nc = w->max_len ? w->max_len : (w->cap ? w->cap * 2 : 64), i;
        double *nx;
        int64_t *nt;
        uint32_t *nn;
        if (nc > UINT32_MAX - 2 || nc > SIZE_MAX / 8) return DS_EINVAL;
        nx = (double *)DS_MALLOC(w->alloc, nc * sizeof(double));
        nt = (int64_t *)DS_MALLOC(w->alloc, nc * sizeof(int64_t));
        nn = (uint32_t *)DS_MALLOC(w->alloc, nc * sizeof(uint32_t));
        if (!nx || !nt || !nn) {
            if (nx) DS_FREE(w->alloc, nx, nc * sizeof(double));
            if (nt) DS_FREE(w->alloc, nt, nc * sizeof(int64_t));
            if (nn) DS_FREE(w->alloc, nn, nc * sizeof(uint32_t));
            return DS_ENOMEM;
        }
        for (i = 0; i < w->len; i++) { /* unroll the ring */
            size_t j = (w->head + i) % w->cap;
            nx[i] = w->ring_x[j];
            nt[i] = w->ring_t[j];
            nn[i] = w->ring_node[j];
        }
        if (w->cap) {
            DS_FREE(w->alloc, w->ring_x, w->cap * sizeof(double));
            DS_FREE(w->alloc, w->ring_t, w->cap * sizeof(int64_t));
            DS_FREE(w->alloc, w->ring_node, w->cap * sizeof(uint32_t));
        }
        w->ring_x = nx;
        w->ring_t = nt;
        w->ring_node = nn;
        w->cap = nc;
        w->head = 0;
    }
    if (!w->free_node) {
        size_t nc = w->node_cap ? w->node_cap * 2 : (w->max_len ? w->max_len + 1 : 64), i;
        ds__wnode *nn;
        if (nc > UINT32_MAX - 2 || !ds_size_mul(nc + 1, sizeof(ds__wnode), &i)) return DS_EINVAL;
        nn = (ds__wnode *)(w->nodes ? DS_REALLOC(w->alloc, w->nodes, (w->node_cap + 1) * sizeof(ds__wnode),
                                                 (nc + 1) * sizeof(ds__wnode))
                                    : DS_MALLOC(w->alloc, (nc + 1) * sizeof(ds__wnode)));
        if (!nn) return DS_ENOMEM;
        w->nodes = nn;
        for (i = nc; i > w->node_cap; i--) {
            w->nodes[i].left = w->free_node;
            w->free_node = (uint32_t)i;
        }
        w->node_cap = nc;
    }
    return DS_OK;
}
static void ds__window_pop(ds_window *w) {
    uint32_t k = w->ring_node[w->head], l, r;
    ds__wsplit(w, w->root, k, &l, &r);  /* k is the least of r */
    w->root = ds__wmerge(w, l, ds__wremove_min(w, r));
    w->nodes[k].left = w->free_node;
    w->free_node = k;
    ds__wsum(w, -w->ring_x[w->head]);
    w->head = (w->head + 1) % w->cap;
    w->len--;
}
DSDEF void ds_window_advance(ds_window *w, int64_t now) {
    if (!w || !w->span) return;
    while (w->len && now - w->ring_t[w->head] >= w->span) ds__window_pop(w);
}
DSDEF ds_status ds_window_add(ds_window *w, double x, int64_t now) {
    uint32_t k, l, r;
    ds_status st;
    if (!w || x != x || now < w->last_now) return DS_EINVAL;
    if ((st = ds__window_reserve(w)) != DS_OK) return st;
    w->last_now = now;
    ds_window_advance(w, now);
    if (w->max_len && w->len == w->max_len) ds__window_pop(w);
    k = w->free_node;
    w->free_node = w->nodes[k].left;
    w->rng += 0x9e3779b97f4a7c15ull;
    w->nodes[k].x = x;
    w->nodes[k].left = w->nodes[k].right = 0;
    w->nodes[k].size = 1;
    w->nodes[k].prio = (uint32_t)(ds_mix64(w->rng) >> 32);
    ds__wsplit(w, w->root, k, &l, &r);
    w->root = ds__wmerge(w, ds__wmerge(w, l, k), r);
    {
        size_t j = (w->head + w->len) % w->cap;
        w->ring_x[j] = x;
        w->ring_t[j] = now;
        w->ring_node[j] = k;
    }
    w->len++;
    ds__wsum(w, x);
    return DS_OK;
}
DSDEF size_t ds_window_count(const ds_window *w) { return w ? w->len : 0; }
DSDEF double ds_window_sum(const ds_window *w) { return w ? w->sum + w->comp : 0.0; }
DSDEF double ds_window_mean(const ds_window *w) {
    return w && w->len ? (w->sum + w->comp) / (double)w->len : NAN;
}
DSDEF double ds_window_rank(const ds_window *w, size_t k) {
    uint32_t t;
    if (!w || k >= w->len) return NAN;
    t = w->root;
    for (;;) {
        size_t ls = ds__wsize(w, w->nodes[t].left);
        if (k < ls) {
            t = w->nodes[t].left;
        } else if (k == ls) {
            return w->nodes[t].x;
        } else {
            k -= ls + 1;
            t = w->nodes[t].right;
        }
    }
}
DSDEF double ds_window_min(const ds_window *w) { return ds_window_rank(w, 0); }
DSDEF double ds_window_max(const ds_window *w) { return w && w->len ? ds_window_rank(w, w->len - 1) : NAN; }
DSDEF double ds_window_quantile(const ds_window *w, double q) {
    double pos, frac, lo;
    size_t i;
    if (!w || !w->len || !(q >= 0.0 && q <= 1.0)) return NAN;
    pos = q * (double)(w->len - 1);
    i = (size_t)pos;
    frac = pos - (double)i;
    lo = ds_window_rank(w, i);
    return frac > 0 && i + 1 < w->len ? lo + frac * (ds_window_rank(w, i + 1) - lo) : lo;
}

/* -- DDSketch -- */

DSDEF ds_status ds_ddsketch_init(ds_ddsketch *s, double alpha, size_t max_buckets, const ds_alloc *a) {
    if (!s || !(alpha > 0.0 && alpha < 1.0) || (max_buckets && max_buckets < 16)) return DS_EINVAL;
    memset(s, 0, sizeof *s);
    s->alpha = alpha;
    s->gamma = (1 + alpha) / (1 - alpha);
    s->log_gamma = log(s->gamma);
    s->max_buckets = max_buckets ? max_buckets : 2048;
    s->min = HUGE_VAL;
    s->max = -HUGE_VAL;
    s->alloc = a;
    return DS_OK;
}
static void ds__dd_free_store(ds_ddsketch *s, ds__ddstore *st) {
    if (st->bins) DS_FREE(s->alloc, st->bins, st->nbins * sizeof(uint64_t));
    memset(st, 0, sizeof *st);
}
DSDEF void ds_ddsketch_free(ds_ddsketch *s) {
    if (!s) return;
    ds__dd_free_store(s, &s->pos);
    ds__dd_free_store(s, &s->neg);
}
/* Add n to bucket i of st, growing the store (at most max_buckets wide;
 * beyond that the lowest buckets collapse into one). */
static ds_status ds__dd_store_add(ds_ddsketch *s, ds__ddstore *st, int32_t i, uint64_t n) {
    int64_t lo, hi, want;
    if (!st->bins || i < st->offset || i >= st->offset + (int64_t)st->nbins) {
        uint64_t *nb;
        size_t nn, j;
        lo = st->bins ? (i < st->offset ? i : st->offset) : i;
        hi = st->bins ? (i >= st->offset + (int64_t)st->nbins ? i + 1 : st->offset + (int64_t)st->nbins) : i + 1;
        want = hi - lo;
        if (want < 32) { /* slack on the side that grew */
            if (!st->bins || i < st->offset) lo = hi - 32; else hi = lo + 32;
            want = 32;
        }
        if (want > (int64_t)s->max_buckets) { /* collapse the low end */
            lo = hi - (int64_t)s->max_buckets;
            want = (int64_t)s->max_buckets;
        }
        nn = (size_t)want;
        if (!st->bins || lo != st->offset || nn != st->nbins) {
            nb = (uint64_t *)DS_MALLOC(s->alloc, nn * sizeof(uint64_t));
            if (!nb) return DS_ENOMEM;
            memset(nb, 0, nn * sizeof(uint64_t));
            for (j = 0; st->bins && j < st->nbins; j++) {
                int64_t idx = st->offset + (int64_t)j;
                nb[idx < lo ? 0 : (size_t)(idx - lo)] += st->bins[j];
            }
            if (st->bins) DS_FREE(s->alloc, st->bins, st->nbins * sizeof(uint64_t));
            st->bins = nb;
            st->nbins = nn;
            st->offset = (int32_t)lo;
        }
    }
    st->bins[i < st->offset ? 0 : (size_t)(i - st->offset)] += n;
    return DS_OK;
}
static int32_t ds__dd_index(const ds_ddsketch *s, double x) { /* x > 0 */
    double v = ceil(log(x) / s->log_gamma);
    return v < -1e9 ? -1000000000 : v > 1e9 ? 1000000000 : (int32_t)v;
}
DSDEF ds_status ds_ddsketch_add(ds_ddsketch *s, double x) {
    ds_status st = DS_OK;
    if (!s || x != x || x == HUGE_VAL || x == -HUGE_VAL) return DS_EINVAL;
    /* Values too close to zero for the bucket range count as zero. */
    if (x > 1e-300) st = ds__dd_store_add(s, &s->pos, ds__dd_index(s, x), 1);
    else if (x < -1e-300) st = ds__dd_store_add(s, &s->neg, ds__dd_index(s, -x), 1);
    else s->zero++;
    if (st != DS_OK) return st;
    s->count++;
    s->sum += x;
    if (x < s->min) s->min = x;
    if (x > s->max) s->max = x;
    return DS_OK;
}
static double ds__dd_value(const ds_ddsketch *s, int64_t i) { /* the bucket's midpoint */
    return 2.0 * pow(s->gamma, (double)i) / (s->gamma + 1.0);
}
DSDEF double ds_ddsketch_quantile(const ds_ddsketch *s, double q) {
    double rank, v = NAN;
    uint64_t seen = 0;
    size_t j;
    if (!s || !s->count || !(q >= 0.0 && q <= 1.0)) return NAN;
    rank = q * (double)(s->count - 1);
    /* Most negative first: the negative store from its highest bucket. */
    for (j = s->neg.nbins; j-- > 0 && v != v;) {
        seen += s->neg.bins[j];
        if ((double)seen > rank) v = -ds__dd_value(s, s->neg.offset + (int64_t)j);
    }
    if (v != v) {
        seen += s->zero;
        if ((double)seen > rank) v = 0.0;
    }
    for (j = 0; j < s->pos.nbins && v != v; j++) {
        seen += s->pos.bins[j];
        if ((double)seen > rank) v = ds__dd_value(s, s->pos.offset + (int64_t)j);
    }
    if (v != v) v = s->max;
    return v < s->min ? s->min : v > s->max ? s->max : v;
}
DSDEF ds_status ds_ddsketch_merge(ds_ddsketch *dst, const ds_ddsketch *src) {
    size_t j;
    ds_status st;
    if (!dst || !src || dst->gamma != src->gamma) return DS_EINVAL;
    for (j = 0; j < src->pos.nbins; j++)
        if (src->pos.bins[j] &&
            (st = ds__dd_store_add(dst, &dst->pos, src->pos.offset + (int32_t)j, src->pos.bins[j])) != DS_OK)
            return st;
    for (j = 0; j < src->neg.nbins; j++)
        if (src->neg.bins[j] &&
            (st = ds__dd_store_add(dst, &dst->neg, src->neg.offset + (int32_t)j, src->neg.bins[j])) != DS_OK)
            return st;
    dst->zero += src->zero;
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    return DS_OK;
}
DSDEF uint64_t ds_ddsketch_count(const ds_ddsketch *s) { return s ? s->count : 0; }
DSDEF double ds_ddsketch_min(const ds_ddsketch *s) { return s && s->count ? s->min : NAN; }
DSDEF double ds_ddsketch_max(const ds_ddsketch *s) { return s && s->count ? s->max : NAN; }
DSDEF double ds_ddsketch_sum(const ds_ddsketch *s) { return s ? s->sum : 0.0; }


/* == ds:trie == */

static ds__tnode *ds__tnew(ds_trie *t, const unsigned char *label, size_t len) {
    ds__tnode *n = (ds__tnode *)DS_MALLOC(t->alloc, sizeof *n);
    if (!n) return NULL;
    memset(n, 0, sizeof *n);
    n->label = (unsigned char *)DS_MALLOC(t->alloc, len);
    if (!n->label) {
        DS_FREE(t->alloc, n, sizeof *n);
        return NULL;
    }
    memcpy(n->label, label, len);
    n->len = (uint32_t)len;
    n->best = -HUGE_VAL;
    t->bytes += sizeof *n + len;
    return n;
}
static void ds__tdelete_node(ds_trie *t, ds__tnode *n) { /* one node, not its subtree */
    if (n->kids) DS_FREE(t->alloc, n->kids, n->kcap * (sizeof *n->kids + 1));
    if (n->label) DS_FREE(t->alloc, n->label, n->len);
    t->bytes -= sizeof *n + n->len + n->kcap * (sizeof *n->kids + 1);
    DS_FREE(t->alloc, n, sizeof *n);
}
static void ds__tfree_tree(ds_trie *t, ds__tnode *n) {
    uint16_t i;
    for (i = 0; i < n->nkids; i++) ds__tfree_tree(t, n->kids[i]);
    ds__tdelete_node(t, n);
}
DSDEF void ds_trie_init(ds_trie *t, const ds_alloc *a) {
    if (!t) return;
    memset(t, 0, sizeof *t);
    t->alloc = a;
    t->root.best = -HUGE_VAL;
}
DSDEF void ds_trie_free(ds_trie *t) {
    uint16_t i;
    if (!t) return;
    for (i = 0; i < t->root.nkids; i++) ds__tfree_tree(t, t->root.kids[i]);
    if (t->root.kids) DS_FREE(t->alloc, t->root.kids, t->root.kcap * (sizeof *t->root.kids + 1));
    ds_trie_init(t, t->alloc);
}
/* Child of n whose label starts with b (NULL if none); *pos = its slot or
 * where it would go. */
static ds__tnode *ds__tchild(const ds__tnode *n, unsigned char b, size_t *pos) {
    size_t lo = 0, hi = n->nkids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (n->firsts[mid] < b) lo = mid + 1; else hi = mid;
    }
    if (pos) *pos = lo;
    return lo < n->nkids && n->firsts[lo] == b ? n->kids[lo] : NULL;
}
/* Recompute subtree maxima from n up; stops where nothing changes. */
static double ds__tbest_of(const ds__tnode *n) { /* own score vs the children's maxima */
    double b = n->has ? n->score : -HUGE_VAL;
    uint16_t i;
    for (i = 0; i < n->nkids; i++)
        if (n->kids[i]->best > b) b = n->kids[i]->best;
    return b;
}
static void ds__tfix_best(ds__tnode *n) {
    for (; n; n = n->parent) {
        double b = ds__tbest_of(n);
        if (b == n->best) break;
        n->best = b;
    }
}
/* A key node's new score: n itself always (its own score changed), then up. */
static void ds__tset_score(ds__tnode *n, double score) {
    n->score = score;
    n->best = ds__tbest_of(n);
    ds__tfix_best(n->parent);
}
static int ds__tgrow_kids(ds_trie *t, ds__tnode *n) {
    uint16_t nc;
    unsigned char *p;
    if (n->nkids < n->kcap) return 1;
    nc = (uint16_t)(n->kcap ? (n->kcap >= 128 ? 256 : n->kcap * 2) : 2);
    p = (unsigned char *)DS_MALLOC(t->alloc, nc * (sizeof *n->kids + 1));
    if (!p) return 0;
    if (n->kids) {
        memcpy(p, n->kids, n->nkids * sizeof *n->kids);
        memcpy(p + nc * sizeof *n->kids, n->firsts, n->nkids);
        DS_FREE(t->alloc, n->kids, n->kcap * (sizeof *n->kids + 1));
    }
    t->bytes += (size_t)(nc - n->kcap) * (sizeof *n->kids + 1);
    n->kids = (ds__tnode **)(void *)p;
    n->firsts = p + nc * sizeof *n->kids;
    n->kcap = nc;
    return 1;
}
/* Put child c at slot pos of n (room is there). */
static void ds__tkid_insert(ds__tnode *n, size_t pos, ds__tnode *c) {
    memmove(&n->kids[pos + 1], &n->kids[pos], (n->nkids - pos) * sizeof *n->kids);
    memmove(&n->firsts[pos + 1], &n->firsts[pos], n->nkids - pos);
    n->kids[pos] = c;
    n->firsts[pos] = c->label[0];
    n->nkids++;
}
/* The node whose path is exactly key, or NULL. */
static ds__tnode *ds__tfind(const ds_trie *t, const unsigned char *k, size_t len) {
    const ds__tnode *n = &t->root;
    size_t i = 0;
    while (i < len) {
        const ds__tnode *c = ds__tchild(n, k[i], NULL);
        if (!c || c->len > len - i || memcmp(c->label, k + i, c->len) != 0) return NULL;
        i += c->len;
        n = c;
    }
    return (ds__tnode *)n;
}
DSDEF ds_status ds_trie_put(ds_trie *t, const void *key, size_t len, void *val, int *is_new) {
    const unsigned char *k = (const unsigned char *)key;
    ds__tnode *n, *c, *s, *leaf;
    size_t i = 0, pos, m;
    unsigned char *rest;
    if (is_new) *is_new = 0;
    if (!t || (!key && len) || len > UINT32_MAX) return DS_EINVAL;
    n = &t->root;
    for (;;) {
        if (i == len) { /* the key ends at n */
            if (!n->has) {
                n->has = 1;
                n->score = 0;
                t->count++;
                if (is_new) *is_new = 1;
                ds__tfix_best(n);
            }
            n->val = val;
            return DS_OK;
        }
        c = ds__tchild(n, k[i], &pos);
        if (!c) { /* a new leaf under n */
            if (!(leaf = ds__tnew(t, k + i, len - i))) return DS_ENOMEM;
            if (!ds__tgrow_kids(t, n)) {
                ds__tdelete_node(t, leaf);
                return DS_ENOMEM;
            }
            ds__tkid_insert(n, pos, leaf);
            leaf->parent = n;
            leaf->has = 1;
            leaf->val = val;
            t->count++;
            if (is_new) *is_new = 1;
            ds__tfix_best(leaf);
            return DS_OK;
        }
        for (m = 0; m < c->len && i + m < len && c->label[m] == k[i + m]; m++) {
        }
        if (m == c->len) {
            n = c;
            i += m;
            continue;
        }
        /* Split c's edge after m bytes: everything is allocated first. */
        s = ds__tnew(t, c->label, m);
        rest = (unsigned char *)DS_MALLOC(t->alloc, c->len - m);
        leaf = i + m < len ? ds__tnew(t, k + i + m, len - i - m) : NULL;
        if (!s || !rest || (i + m < len && !leaf) || !ds__tgrow_kids(t, s)) {
            if (s) ds__tdelete_node(t, s);
            if (rest) DS_FREE(t->alloc, rest, c->len - m);
            if (leaf) ds__tdelete_node(t, leaf);
            return DS_ENOMEM;
        }
        memcpy(rest, c->label + m, c->len - m);
        DS_FREE(t->alloc, c->label, c->len);
        t->bytes -= m;
        c->label = rest;
        c->len -= (uint32_t)m;
        n->kids[pos] = s;
        s->parent = n;
        c->parent = s;
        ds__tkid_insert(s, 0, c);
        s->best = c->best;
        if (leaf) {
            ds__tkid_insert(s, leaf->label[0] < c->label[0] ? 0 : 1, leaf);
            leaf->parent = s;
            leaf->has = 1;
            leaf->val = val;
            ds__tfix_best(leaf);
        } else {
            s->has = 1;
            s->val = val;
            s->score = 0;
            s->best = -HUGE_VAL; /* recompute: own 0 against c's subtree */
            ds__tfix_best(s);
        }
        t->count++;
        if (is_new) *is_new = 1;
        return DS_OK;
    }
}
DSDEF void **ds_trie_get(const ds_trie *t, const void *key, size_t len) {
    ds__tnode *n;
    if (!t || (!key && len)) return NULL;
    n = ds__tfind(t, (const unsigned char *)key, len);
    return n && n->has ? &n->val : NULL;
}
/* n has no key and one child: fold it into the child (one longer edge).
 * Best effort: if the longer label cannot be allocated, n stays. */
static void ds__tmerge_down(ds_trie *t, ds__tnode *n) {
    ds__tnode *c = n->kids[0], *p = n->parent;
    unsigned char *lab = (unsigned char *)DS_MALLOC(t->alloc, (size_t)n->len + c->len);
    size_t pos;
    if (!lab) return;
    memcpy(lab, n->label, n->len);
    memcpy(lab + n->len, c->label, c->len);
    DS_FREE(t->alloc, c->label, c->len);
    t->bytes += n->len;
    c->label = lab;
    c->len += n->len;
    c->parent = p;
    (void)ds__tchild(p, n->label[0], &pos);
    p->kids[pos] = c;
    n->nkids = 0;
    ds__tdelete_node(t, n);
}
DSDEF ds_status ds_trie_del(ds_trie *t, const void *key, size_t len, void **out) {
    ds__tnode *n, *p;
    size_t pos;
    if (!t || (!key && len)) return DS_EINVAL;
    n = ds__tfind(t, (const unsigned char *)key, len);
    if (!n || !n->has) return DS_ENOTFOUND;
    if (out) *out = n->val;
    n->has = 0;
    n->val = NULL;
    n->score = 0;
    t->count--;
    p = n;
    if (n != &t->root && n->nkids == 0) { /* drop the leaf */
        p = n->parent;
        (void)ds__tchild(p, n->label[0], &pos);
        memmove(&p->kids[pos], &p->kids[pos + 1], (p->nkids - pos - 1) * sizeof *p->kids);
        memmove(&p->firsts[pos], &p->firsts[pos + 1], p->nkids - pos - 1u);
        p->nkids--;
        ds__tdelete_node(t, n);
    }
    if (p != &t->root && !p->has && p->nkids == 1) {
        ds__tnode *up = p->parent;
        ds__tmerge_down(t, p);
        /* if the merge failed p is still there and its maximum is unchanged */
        ds__tfix_best(up);
    } else {
        ds__tfix_best(p);
    }
    return DS_OK;
}
DSDEF ds_status ds_trie_set_score(ds_trie *t, const void *key, size_t len, double score) {
    ds__tnode *n;
    if (!t || (!key && len) || !(score > -HUGE_VAL && score < HUGE_VAL)) return DS_EINVAL;
    n = ds__tfind(t, (const unsigned char *)key, len);
    if (!n || !n->has) return DS_ENOTFOUND;
    ds__tset_score(n, score);
    return DS_OK;
}
DSDEF ds_status ds_trie_incr(ds_trie *t, const void *key, size_t len, double delta, double *score) {
    ds__tnode *n;
    ds_status st;
    if (!t || (!key && len) || !(delta > -HUGE_VAL && delta < HUGE_VAL)) return DS_EINVAL;
    n = ds__tfind(t, (const unsigned char *)key, len);
    if (n && n->has && !(n->score + delta > -HUGE_VAL && n->score + delta < HUGE_VAL)) return DS_EINVAL;
    if (!n || !n->has) {
        if ((st = ds_trie_put(t, key, len, NULL, NULL)) != DS_OK) return st;
        n = ds__tfind(t, (const unsigned char *)key, len);
    }
    ds__tset_score(n, n->score + delta);
    if (score) *score = n->score;
    return DS_OK;
}
DSDEF double ds_trie_score(const ds_trie *t, const void *key, size_t len) {
    ds__tnode *n;
    if (!t || (!key && len)) return NAN;
    n = ds__tfind(t, (const unsigned char *)key, len);
    return n && n->has ? n->score : NAN;
}
DSDEF size_t ds_trie_count(const ds_trie *t) { return t ? t->count : 0; }
DSDEF size_t ds_trie_memory(const ds_trie *t) { return t ? t->bytes : 0; }

/* -- walks: a key buffer that starts on the stack -- */
typedef struct ds__tbuf {
    unsigned char *p;
    size_t len, cap;
    unsigned char local[256];
    const ds_alloc *a;
    int fail, stop;
    size_t reported;
    ds_trie_fn fn;
    void *ctx;
} ds__tbuf;
static void ds__tbuf_init(ds__tbuf *b, const ds_alloc *a, ds_trie_fn fn, void *ctx) {
    b->p = b->local;
    b->len = 0;
    b->cap = sizeof b->local;
    b->a = a;
    b->fail = b->stop = 0;
    b->reported = 0;
    b->fn = fn;
    b->ctx = ctx;
}
static void ds__tbuf_done(ds__tbuf *b) {
    if (b->p != b->local) DS_FREE(b->a, b->p, b->cap);
}
/* Room for `need` bytes, keeping the first b->len. */
static int ds__tbuf_reserve(ds__tbuf *b, size_t need) {
    size_t nc = b->cap;
    unsigned char *np;
    if (need <= b->cap) return 1;
    while (nc < need) nc *= 2;
    if (!(np = (unsigned char *)DS_MALLOC(b->a, nc))) {
        b->fail = 1;
        return 0;
    }
    memcpy(np, b->p, b->len);
    ds__tbuf_done(b);
    b->p = np;
    b->cap = nc;
    return 1;
}
static int ds__tbuf_push(ds__tbuf *b, const unsigned char *s, size_t n) {
    if (!ds__tbuf_reserve(b, b->len + n)) return 0;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 1;
}
/* The path of n from the root into b. */
static int ds__tbuf_path(ds__tbuf *b, const ds__tnode *n) {
    const ds__tnode *x;
    size_t total = 0, at;
    for (x = n; x->parent; x = x->parent) total += x->len;
    b->len = 0; /* the old contents are not kept */
    if (!ds__tbuf_reserve(b, total)) return 0;
    at = total;
    for (x = n; x->parent; x = x->parent) {
        at -= x->len;
        memcpy(b->p + at, x->label, x->len);
    }
    b->len = total;
    return 1;
}
static void ds__temit(ds__tbuf *b, const ds__tnode *n) {
    if (b->stop) return;
    b->reported++;
    if (b->fn && b->fn(b->ctx, b->p, b->len, n->score, n->val)) b->stop = 1;
}
/* Every key in n's subtree (b holds n's path), in (reverse) order. */
static void ds__twalk(ds__tbuf *b, const ds__tnode *n, int reverse) {
    uint16_t i;
    if (b->stop || b->fail) return;
    if (!reverse && n->has) ds__temit(b, n);
    for (i = 0; i < n->nkids && !b->stop && !b->fail; i++) {
        const ds__tnode *c = n->kids[reverse ? n->nkids - 1 - i : i];
        size_t keep = b->len;
        if (!ds__tbuf_push(b, c->label, c->len)) return;
        ds__twalk(b, c, reverse);
        b->len = keep;
    }
    if (reverse && n->has) ds__temit(b, n);
}
/* The node at the end of the prefix (its path extends the prefix), or NULL. */
static const ds__tnode *ds__tprefix(const ds_trie *t, const unsigned char *p, size_t plen) {
    const ds__tnode *n = &t->root;
    size_t i = 0;
    while (i < plen) {
        const ds__tnode *c = ds__tchild(n, p[i], NULL);
        size_t m = c ? (c->len < plen - i ? c->len : plen - i) : 0;
        if (!c || memcmp(c->label, p + i, m) != 0) return NULL;
        i += c->len;
        n = c;
    }
    return n;
}
DSDEF size_t ds_trie_walk(const ds_trie *t, const void *prefix, size_t plen, int reverse,
                          ds_trie_fn fn, void *ctx) {
    const ds__tnode *n;
    ds__tbuf b;
    size_t r;
    if (!t || (!prefix && plen)) return 0;
    if (!(n = ds__tprefix(t, (const unsigned char *)prefix, plen))) return 0;
    ds__tbuf_init(&b, t->alloc, fn, ctx);
    if (ds__tbuf_path(&b, n)) ds__twalk(&b, n, reverse);
    r = b.reported;
    ds__tbuf_done(&b);
    return r;
}
/* seek: prune by comparing each node's path P with the key K. */
static void ds__tseek(ds__tbuf *b, const ds__tnode *n, const unsigned char *k, size_t klen, int dir) {
    size_t m = b->len < klen ? b->len : klen;
    int c = memcmp(b->p, k, m);
    uint16_t i;
    if (b->stop || b->fail) return;
    if (dir > 0) { /* keys >= K ascending */
        if (c < 0) return;
        if (c > 0 || b->len >= klen) {
            ds__twalk(b, n, 0);
            return;
        }
        for (i = 0; i < n->nkids && !b->stop && !b->fail; i++) { /* P is a proper prefix of K */
            size_t keep = b->len;
            if (!ds__tbuf_push(b, n->kids[i]->label, n->kids[i]->len)) return;
            ds__tseek(b, n->kids[i], k, klen, dir);
            b->len = keep;
        }
    } else { /* keys <= K descending */
        if (c > 0 || (c == 0 && b->len > klen)) return;
        if (c < 0) {
            ds__twalk(b, n, 1);
            return;
        }
        if (b->len < klen)
            for (i = n->nkids; i-- > 0 && !b->stop && !b->fail;) {
                size_t keep = b->len;
                if (!ds__tbuf_push(b, n->kids[i]->label, n->kids[i]->len)) return;
                ds__tseek(b, n->kids[i], k, klen, dir);
                b->len = keep;
            }
        if (n->has) ds__temit(b, n);
    }
}
DSDEF size_t ds_trie_seek(const ds_trie *t, const void *key, size_t len, int dir, ds_trie_fn fn,
                          void *ctx) {
    ds__tbuf b;
    size_t r;
    if (!t || (!key && len) || dir == 0) return 0;
    ds__tbuf_init(&b, t->alloc, fn, ctx);
    ds__tseek(&b, &t->root, (const unsigned char *)key, len, dir);
    r = b.reported;
    ds__tbuf_done(&b);
    return r;
}
DSDEF void **ds_trie_longest_prefix(const ds_trie *t, const void *key, size_t len, size_t *mlen) {
    const unsigned char *k = (const unsigned char *)key;
    const ds__tnode *n, *best = NULL;
    size_t i = 0, at = 0;
    if (mlen) *mlen = 0;
    if (!t || (!key && len)) return NULL;
    n = &t->root;
    if (n->has) best = n;
    while (i < len) {
        const ds__tnode *c = ds__tchild(n, k[i], NULL);
        if (!c || c->len > len - i || memcmp(c->label, k + i, c->len) != 0) break;
        i += c->len;
        n = c;
        if (n->has) {
            best = n;
            at = i;
        }
    }
    if (!best) return NULL;
    if (mlen) *mlen = at;
    return (void **)(uintptr_t)&best->val;
}

/* -- complete: best-first over subtree maxima -- */
typedef struct ds__titem {
    const ds__tnode *n;
    double s;
    int emit; /* 0: expand the subtree; 1: report n's own key */
} ds__titem;
/* Lexicographic order of two distinct nodes' paths. */
static int ds__tnode_cmp(const ds__tnode *a, const ds__tnode *b) {
    size_t da = 0, db = 0;
    const ds__tnode *x;
    for (x = a; x->parent; x = x->parent) da++;
    for (x = b; x->parent; x = x->parent) db++;
    while (da > db) {
        a = a->parent;
        da--;
        if (a == b) return 1; /* b is a's ancestor: b's key is a prefix of a's */
    }
    while (db > da) {
        b = b->parent;
        db--;
        if (b == a) return -1;
    }
    while (a->parent != b->parent) {
        a = a->parent;
        b = b->parent;
    }
    return a->label[0] < b->label[0] ? -1 : 1;
}
/* x before y: higher score; at equal score expand before report; reports
 * at equal score in key order. */
static int ds__titem_before(const ds__titem *x, const ds__titem *y) {
    if (x->s != y->s) return x->s > y->s;
    if (x->emit != y->emit) return !x->emit;
    return x->emit && ds__tnode_cmp(x->n, y->n) < 0;
}
DSDEF size_t ds_trie_complete(const ds_trie *t, const void *prefix, size_t plen, size_t k,
                              ds_trie_fn fn, void *ctx) {
    ds__titem local[128], *h = local;
    size_t n = 0, cap = 128, got = 0;
    const ds__tnode *p;
    ds__tbuf b;
    if (!t || (!prefix && plen) || k == 0) return 0;
    if (!(p = ds__tprefix(t, (const unsigned char *)prefix, plen)) || p->best == -HUGE_VAL) return 0;
    ds__tbuf_init(&b, t->alloc, fn, ctx);
    h[n].n = p;
    h[n].s = p->best;
    h[n++].emit = 0;
    while (n && got < k && !b.stop) {
        ds__titem top = h[0];
        size_t i, j, adds = top.emit ? 0 : (size_t)top.n->nkids + 1;
        /* pop the heap's top */
        h[0] = h[--n];
        for (i = 0; (j = 2 * i + 1) < n; i = j) {
            if (j + 1 < n && ds__titem_before(&h[j + 1], &h[j])) j++;
            if (!ds__titem_before(&h[j], &h[i])) break;
            { ds__titem tmp = h[i]; h[i] = h[j]; h[j] = tmp; }
        }
        if (top.emit) {
            if (ds__tbuf_path(&b, top.n)) ds__temit(&b, top.n);
            if (b.fail) break;
            got++;
            continue;
        }
        if (n + adds > cap) { /* grow the frontier (off the stack) */
            size_t nc = cap * 2 > n + adds ? cap * 2 : n + adds;
            ds__titem *nh = (ds__titem *)DS_MALLOC(t->alloc, nc * sizeof *nh);
            if (!nh) break;
            memcpy(nh, h, n * sizeof *nh);
            if (h != local) DS_FREE(t->alloc, h, cap * sizeof *h);
            h = nh;
            cap = nc;
        }
        for (i = 0; i < adds; i++) { /* push the own key, then the children */
            ds__titem it;
            if (i == 0) {
                if (!top.n->has) continue;
                it.n = top.n;
                it.s = top.n->score;
                it.emit = 1;
            } else {
                it.n = top.n->kids[i - 1];
                if (it.n->best == -HUGE_VAL) continue;
                it.s = it.n->best;
                it.emit = 0;
            }
            for (j = n++; j > 0 && ds__titem_before(&it, &h[(j - 1) / 2]); j = (j - 1) / 2) h[j] = h[(j - 1) / 2];
            h[j] = it;
        }
    }
    if (h != local) DS_FREE(t->alloc, h, cap * sizeof *h);
    ds__tbuf_done(&b);
    return got;
}


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
DSDEF ds_status ds_snowflake_init(ds_snowflake *s, const ds_snowflake_config *cfg) {
    ds_snowflake_config c;
    if (!s) return DS_EINVAL;
    if (cfg) c = *cfg; else memset(&c, 0, sizeof c);
    ds__snowflake_defaults(&c);
    if (c.time_bits < 20 || c.time_bits + c.node_bits + c.seq_bits > 63 || c.node_bits > 32 ||
        c.seq_bits > 32 || c.node >> c.node_bits || c.max_backstep_ms < 0)
        return DS_EINVAL;
    s->cfg = c;
    s->last_ms = -1;
    s->seq = 0;
    return DS_OK;
}
DSDEF ds_status ds_snowflake_next(ds_snowflake *s, int64_t now_ns, uint64_t *id, int64_t *wait_ns) {
    int64_t ms, real;
    uint64_t max_seq;
    const int64_t NS = 1000000;
    if (wait_ns) *wait_ns = 0;
    if (!s || !id) return DS_EINVAL;
    real = now_ns / NS - s->cfg.epoch_ms;
    if (real < 0 || (uint64_t)real >> s->cfg.time_bits) return DS_EFULL;
    max_seq = ((uint64_t)1 << s->cfg.seq_bits) - 1;
    ms = real;
    if (ms < s->last_ms) {
        if (s->last_ms - ms > s->cfg.max_backstep_ms) { /* too far back: wait it out */
            if (wait_ns) *wait_ns = (s->last_ms - ms) * NS - now_ns % NS;
            return DS_EBUSY;
        }
        ms = s->last_ms; /* a small step back: stay on our own clock */
    }
    if (ms == s->last_ms) {
        if (s->seq == max_seq) { /* this millisecond is used up */
            if (wait_ns) *wait_ns = (s->last_ms + 1 - real) * NS - now_ns % NS;
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
    if (seq) *seq = id & (((uint64_t)1 << c.seq_bits) - 1);
    if (node) *node = (id >> c.seq_bits) & (((uint64_t)1 << c.node_bits) - 1);
    if (unix_ms) *unix_ms = (int64_t)(id >> (c.seq_bits + c.node_bits)) + c.epoch_ms;
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
            if (!(weights[i] > 0)) continue;
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
    uint32_t s;
    ds__rnode *nd;
    ds_status st;
    int appended;
    if (!r || (!name && len) || !weight) return DS_EINVAL;
    if (ds_ring_find(r, name, len, id) == DS_OK) return DS_EEXIST;
    for (s = 0; s < r->nslots && r->nodes[s].weight; s++) {}
    if (s == r->nslots) {
        if (s >= DS__RING_MAX) return DS_EINVAL;
        if (s == r->ncap) { /* growing keeps the old array on failure */
            uint32_t nc = r->ncap ? (r->ncap > UINT32_MAX / 2 ? UINT32_MAX - 1 : r->ncap * 2) : 8;
            size_t nb;
            void *p;
            if (!ds_size_mul(nc, sizeof *r->nodes, &nb)) return DS_EINVAL;
            p = r->nodes ? DS_REALLOC(r->alloc, r->nodes, r->ncap * sizeof *r->nodes, nb)
                         : DS_MALLOC(r->alloc, nb);
            if (!p) return DS_ENOMEM;
            r->nodes = (ds__rnode *)p;
            r->ncap = nc;
        }
    }
    nd = &r->nodes[s];
    memset(nd, 0, sizeof *nd);
    if (len) {
        nd->name = (unsigned char *)DS_MALLOC(r->alloc, len);
        if (!nd->name) return DS_ENOMEM;
        memcpy(nd->name, name, len);
    }
    nd->len = len;
    nd->base = ds_hash_bytes(name, len, r->seed);
    nd->seq = r->seq;
    nd->weight = weight;
    appended = s == r->nslots;
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
        return st;
    }
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


/* == ds:breaker == */

static int64_t ds__bk_add_sat(int64_t t, int64_t d) { return t > INT64_MAX - d ? INT64_MAX : t + d; }
/* floor(t / w) for w > 0: time buckets stay aligned below zero too. */
static int64_t ds__bk_epoch(int64_t t, int64_t w) {
    int64_t q = t / w;
    return (t % w < 0) ? q - 1 : q;
}
/* The slot of bucket epoch e: a true modulo, so consecutive epochs get
 * distinct slots across zero as well. */
static uint32_t ds__bk_slot(int64_t e, uint32_t n) {
    int64_t r = e % (int64_t)n;
    return (uint32_t)(r < 0 ? r + (int64_t)n : r);
}
/* The i-th entry of the epoch queue. */
static int64_t *ds__bk_q(ds_breaker *b, uint64_t i) {
    return &b->qepoch[((uint64_t)b->head + i) % b->cfg.window_size];
}
static int ds__bk_rate_bad(double r) { return !(r == 0 || r == DS_BREAKER_OFF || (r > 0 && r <= 100)); }

DSDEF ds_status ds_breaker_init(ds_breaker *b, const ds_breaker_config *cfg, const ds_alloc *a) {
    ds_breaker_config c;
    size_t bytes;
    void *mem;
    if (!b) return DS_EINVAL;
    if (cfg) c = *cfg; else memset(&c, 0, sizeof c);
    if (!c.window_size) c.window_size = 100;
    if (!c.bucket_ns) c.bucket_ns = 1000000000;
    if (!c.min_calls) c.min_calls = 100;
    if (c.failure_rate == 0) c.failure_rate = 50;
    if (c.slow_rate == 0) c.slow_rate = 100;
    if (!c.slow_call_ns) c.slow_call_ns = 60000000000LL;
    if (!c.wait_open_ns) c.wait_open_ns = 60000000000LL;
    if (!c.half_open_calls) c.half_open_calls = 10;
    if ((c.window != DS_BREAKER_COUNT_BASED && c.window != DS_BREAKER_TIME_BASED) ||
        ds__bk_rate_bad(c.failure_rate) || ds__bk_rate_bad(c.slow_rate) || c.bucket_ns < 0 ||
        c.slow_call_ns < 0 || c.wait_open_ns < 0 || c.half_open_max_ns < 0)
        return DS_EINVAL;
    if (c.window == DS_BREAKER_COUNT_BASED) {
        if (c.min_calls > c.window_size) c.min_calls = c.window_size; /* as resilience4j */
        bytes = c.window_size;
    } else {
        if (c.bucket_ns > INT64_MAX / (int64_t)c.window_size) return DS_EINVAL;
        if (!ds_size_mul(c.window_size, sizeof(ds__bk_bucket) + sizeof(int64_t), &bytes)) return DS_EINVAL;
    }
    mem = DS_MALLOC(a, bytes);
    if (!mem) return DS_ENOMEM;
    memset(b, 0, sizeof *b);
    b->cfg = c;
    b->alloc = a;
    b->bytes = bytes;
    if (c.window == DS_BREAKER_COUNT_BASED) {
        b->ring = (unsigned char *)mem;
    } else {
        /* buckets first: int64 epochs after 24-byte buckets stay aligned */
        b->bucket = (ds__bk_bucket *)mem;
        b->qepoch = (int64_t *)(void *)(b->bucket + c.window_size);
        memset(b->bucket, 0, c.window_size * sizeof(ds__bk_bucket));
    }
    b->state = DS_BREAKER_CLOSED;
    b->last_now = INT64_MIN;
    return DS_OK;
}

DSDEF void ds_breaker_free(ds_breaker *b) {
    void *mem;
    if (!b) return;
    mem = b->ring ? (void *)b->ring : (void *)b->bucket;
    if (mem) DS_FREE(b->alloc, mem, b->bytes);
    b->bytes = 0;
    b->ring = NULL;
    b->bucket = NULL;
    b->qepoch = NULL;
}

/* Empty the window in O(non-empty buckets). */
static void ds__bk_clear_window(ds_breaker *b) {
    if (b->bucket) {
        uint32_t i;
        for (i = 0; i < b->len; i++)
            memset(&b->bucket[ds__bk_slot(*ds__bk_q(b, i), b->cfg.window_size)], 0, sizeof(ds__bk_bucket));
    }
    b->head = b->len = 0;
    b->wcalls = b->wfails = b->wslow = 0;
}

static void ds__bk_enter(ds_breaker *b, ds_breaker_state to, int64_t t) {
    ds_breaker_state from = b->state;
    ds__bk_clear_window(b);
    b->state = to;
    b->consec = b->probes_given = b->probes_done = 0;
    b->since = t;
    if (to == DS_BREAKER_OPEN) b->deadline = ds__bk_add_sat(t, b->cfg.wait_open_ns);
    else if (to == DS_BREAKER_HALF_OPEN && b->cfg.half_open_max_ns)
        b->deadline = ds__bk_add_sat(t, b->cfg.half_open_max_ns);
    else b->deadline = INT64_MAX;
    if (from != to) {
        b->transitions++;
        if (b->cfg.on_state) b->cfg.on_state(b->cfg.ctx, from, to, t);
    }
}

/* Evict the buckets that left a time window ending in the bucket of t. */
static void ds__bk_evict(ds_breaker *b, int64_t t) {
    uint32_t n = b->cfg.window_size;
    int64_t e;
    if (!b->bucket || b->state != DS_BREAKER_CLOSED) return;
    e = ds__bk_epoch(t, b->cfg.bucket_ns);
    while (b->len && (uint64_t)e - (uint64_t)b->qepoch[b->head] >= n) {
        ds__bk_bucket *k = &b->bucket[ds__bk_slot(b->qepoch[b->head], n)];
        b->wcalls -= k->calls;
        b->wfails -= k->fails;
        b->wslow -= k->slow;
        memset(k, 0, sizeof *k);
        b->head = b->head + 1 == n ? 0 : b->head + 1;
        b->len--;
    }
}

/* Clamp now to the latest seen. */
static int64_t ds__bk_clock(ds_breaker *b, int64_t now) {
    if (now < b->last_now) now = b->last_now;
    return b->last_now = now;
}
/* ... and apply the timed transitions (at most one: each sets a later deadline). */
static int64_t ds__bk_tick(ds_breaker *b, int64_t now) {
    now = ds__bk_clock(b, now);
    if (b->state == DS_BREAKER_OPEN && now >= b->deadline) ds__bk_enter(b, DS_BREAKER_HALF_OPEN, now);
    else if (b->state == DS_BREAKER_HALF_OPEN && b->cfg.half_open_max_ns && now >= b->deadline) ds__bk_enter(b, DS_BREAKER_OPEN, now);
    return now;
}

/* The thresholds, over calls outcomes of which fails failed and slow were
 * slow (resilience4j: rate >= threshold, once min outcomes are in). */
static int ds__bk_over(const ds_breaker *b, uint64_t calls, uint64_t fails, uint64_t slow, uint64_t min) {
    double c;
    if (!calls || calls < min) return 0;
    c = (double)(int64_t)calls; /* counts fit int64: one signed conversion, not the unsigned dance */
    if (b->cfg.failure_rate > 0 && (double)(int64_t)fails * 100.0 >= b->cfg.failure_rate * c) return 1;
    if (b->cfg.slow_rate > 0 && (double)(int64_t)slow * 100.0 >= b->cfg.slow_rate * c) return 1;
    return 0;
}

DSDEF ds_status ds_breaker_allow(ds_breaker *b, int64_t now, int64_t *retry_after_ns) {
    int64_t t, wait = 0;
    if (retry_after_ns) *retry_after_ns = 0;
    if (!b) return DS_EINVAL;
    t = ds__bk_tick(b, now);
    switch (b->state) {
    case DS_BREAKER_CLOSED:
    case DS_BREAKER_DISABLED:
        b->permitted++;
        return DS_OK;
    case DS_BREAKER_HALF_OPEN:
        if (b->probes_given < b->cfg.half_open_calls) {
            b->probes_given++;
            b->permitted++;
            return DS_OK;
        }
        wait = b->cfg.wait_open_ns;
        break;
    case DS_BREAKER_OPEN: wait = b->deadline - t; break;
    default: wait = INT64_MAX; break; /* forced open */
    }
    b->rejected++;
    if (retry_after_ns) *retry_after_ns = wait;
    return DS_EBUSY;
}

DSDEF ds_status ds_breaker_record(ds_breaker *b, ds_breaker_outcome outcome, int64_t duration_ns,
                                  int64_t now) {
    int64_t t;
    int fail = outcome == DS_BREAKER_FAILURE, slow;
    if (!b || duration_ns < 0 ||
        (outcome != DS_BREAKER_SUCCESS && outcome != DS_BREAKER_FAILURE && outcome != DS_BREAKER_IGNORED))
        return DS_EINVAL;
    t = ds__bk_tick(b, now);
    if (outcome == DS_BREAKER_IGNORED) {
        b->ignored++;
        if (b->state == DS_BREAKER_HALF_OPEN && b->probes_done < b->probes_given)
            b->probes_given--; /* the permit goes back */
        return DS_OK;
    }
    slow = duration_ns > b->cfg.slow_call_ns;
    if (fail) b->failures++; else b->successes++;
    b->slow += (uint64_t)slow;
    if (b->state == DS_BREAKER_CLOSED) {
        uint32_t n = b->cfg.window_size;
        if (b->ring) {
            if (b->len == n) { /* the oldest outcome leaves */
                unsigned char old = b->ring[b->head];
                b->wcalls--;
                b->wfails -= old & 1u;
                b->wslow -= (old >> 1) & 1u;
            } else {
                b->len++;
            }
            b->ring[b->head] = (unsigned char)(fail | slow << 1);
            b->head = b->head + 1 == n ? 0 : b->head + 1;
        } else {
            int64_t e = ds__bk_epoch(t, b->cfg.bucket_ns);
            ds__bk_bucket *k = &b->bucket[ds__bk_slot(e, n)];
            ds__bk_evict(b, t); /* a bucket still in use now holds epoch e */
            if (!k->calls) { /* a bucket comes into use: queue its epoch */
                *ds__bk_q(b, b->len) = e;
                b->len++;
            }
            k->calls++;
            k->fails += (uint64_t)fail;
            k->slow += (uint64_t)slow;
        }
        b->wcalls++;
        b->wfails += (uint64_t)fail;
        b->wslow += (uint64_t)slow;
        b->consec = fail ? b->consec + 1 : 0;
        if ((b->cfg.consecutive_failures && b->consec >= b->cfg.consecutive_failures) ||
            ds__bk_over(b, b->wcalls, b->wfails, b->wslow, b->cfg.min_calls))
            ds__bk_enter(b, DS_BREAKER_OPEN, t);
    } else if (b->state == DS_BREAKER_HALF_OPEN && b->probes_done < b->probes_given) {
        b->probes_done++;
        b->wcalls++;
        b->wfails += (uint64_t)fail;
        b->wslow += (uint64_t)slow;
        if (b->probes_done == b->cfg.half_open_calls) {
            int reopen = ds__bk_over(b, b->wcalls, b->wfails, b->wslow, b->wcalls) ||
                         (b->cfg.failure_rate < 0 && b->wfails > 0);
            ds__bk_enter(b, reopen ? DS_BREAKER_OPEN : DS_BREAKER_CLOSED, t);
        }
    }
    return DS_OK;
}

DSDEF ds_breaker_state ds_breaker_advance(ds_breaker *b, int64_t now) {
    if (!b) return DS_BREAKER_CLOSED;
    ds__bk_evict(b, ds__bk_tick(b, now));
    return b->state;
}

DSDEF ds_status ds_breaker_force(ds_breaker *b, ds_breaker_state to, int64_t now) {
    if (!b || (unsigned)to > (unsigned)DS_BREAKER_DISABLED) return DS_EINVAL;
    ds__bk_enter(b, to, ds__bk_clock(b, now));
    return DS_OK;
}

DSDEF void ds_breaker_reset(ds_breaker *b, int64_t now) {
    int64_t t;
    if (!b) return;
    t = ds__bk_clock(b, now);
    b->permitted = b->rejected = b->successes = b->failures = b->slow = b->ignored = 0;
    ds__bk_enter(b, DS_BREAKER_CLOSED, t);
    b->transitions = 0;
}

DSDEF ds_breaker_state ds_breaker_current(const ds_breaker *b) { return b ? b->state : DS_BREAKER_CLOSED; }

DSDEF void ds_breaker_snapshot(ds_breaker *b, int64_t now, ds_breaker_stats *out) {
    uint64_t min;
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!b) return;
    ds_breaker_advance(b, now);
    out->state = b->state;
    out->since = b->since;
    out->transitions = b->transitions;
    out->permitted = b->permitted;
    out->rejected = b->rejected;
    out->successes = b->successes;
    out->failures = b->failures;
    out->slow = b->slow;
    out->ignored = b->ignored;
    out->window_calls = b->wcalls;
    out->window_failures = b->wfails;
    out->window_slow = b->wslow;
    min = b->state == DS_BREAKER_HALF_OPEN ? b->cfg.half_open_calls : b->cfg.min_calls;
    if (b->wcalls && b->wcalls >= min) {
        out->failure_rate = (double)b->wfails * 100.0 / (double)b->wcalls;
        out->slow_rate = (double)b->wslow * 100.0 / (double)b->wcalls;
    } else {
        out->failure_rate = out->slow_rate = -1.0;
    }
    out->consecutive_failures = b->consec;
    out->probes_out = b->state == DS_BREAKER_HALF_OPEN ? b->probes_given - b->probes_done : 0;
}

DSDEF const char *ds_breaker_state_name(ds_breaker_state s) {
    static const char *const names[] = {"CLOSED", "OPEN", "HALF_OPEN", "FORCED_OPEN", "DISABLED"};
    return (unsigned)s <= (unsigned)DS_BREAKER_DISABLED ? names[s] : "?";
}

/* == ds:bloom == */

#define DS__BLOOM_MAX_BITS ((uint64_t)1 << 48)

static inline uint64_t ds__fastrange64(uint64_t x, uint64_t n) {
    uint64_t hi = n;
    ds__mum128(&x, &hi); /* (x * n) >> 64: x scaled into [0, n) */
    return hi;
}

static ds_status ds__bloom_alloc(ds_bloom *b, uint64_t m, unsigned k, int blocked,
                                 const ds_alloc *a) {
    size_t bytes;
    uint64_t *bits;
    if (m == 0 || m > DS__BLOOM_MAX_BITS || k < 1 || k > 64) return DS_EINVAL;
    m = blocked ? (m + 511) / 512 * 512 : (m + 63) / 64 * 64;
    if (m / 64 > SIZE_MAX || !ds_size_mul((size_t)(m / 64), 8, &bytes)) return DS_EINVAL;
    bits = (uint64_t *)DS_MALLOC(a, bytes);
    if (!bits) return DS_ENOMEM;
    memset(bits, 0, bytes);
    b->bits = bits;
    b->m = m;
    b->k = k;
    b->blocked = blocked != 0;
    b->set = b->n = 0;
    b->alloc = a;
    return DS_OK;
}

/* FPP of a blocked filter at `bpk` bits per key and k probes: keys per
 * 512-bit block are Poisson(512/bpk), so average the per-block FPP over
 * that distribution (Putze, Sanders & Singler 2007, section 3). */
static double ds__bloom_blocked_fpp(double bpk, unsigned k) {
    double lam = 512.0 / bpk, pk = exp(-lam), sum = 0, miss = log1p(-1.0 / 512);
    double top = lam + 12 * sqrt(lam) + 30, x;
    for (x = 0; x <= top; x += 1) {
        if (x > 0) pk *= lam / x;
        sum += pk * pow(1.0 - exp(k * x * miss), (double)k);
    }
    return sum;
}

/* m and k for n keys at rate p. Standard: the textbook optimum. Blocked:
 * the same k, and bits per key raised (1% steps) until the block model
 * above meets p, so init_blocked keeps its promise at a memory cost. */
static ds_status ds__bloom_size(uint64_t n, double p, int blocked, uint64_t *m, unsigned *k) {
    double bpk, bits, kk;
    int i;
    if (n == 0 || !(p > 0.0 && p < 1.0)) return DS_EINVAL;
    bpk = -log(p) / (0.6931471805599453 * 0.6931471805599453);
    kk = floor(bpk * 0.6931471805599453 + 0.5);
    *k = kk < 1 ? 1u : kk > 64 ? 64u : (unsigned)kk;
    for (i = 0; blocked && i < 400 && ds__bloom_blocked_fpp(bpk, *k) > p; i++) bpk *= 1.01;
    bits = ceil((double)n * bpk);
    if (!(bits <= (double)DS__BLOOM_MAX_BITS)) return DS_EINVAL;
    *m = bits < 64 ? 64 : (uint64_t)bits;
    return DS_OK;
}

DSDEF ds_status ds_bloom_init_mk(ds_bloom *b, uint64_t m, unsigned k, int blocked,
                                 const ds_alloc *a) {
    if (!b) return DS_EINVAL;
    return ds__bloom_alloc(b, m, k, blocked, a);
}
DSDEF ds_status ds_bloom_init(ds_bloom *b, uint64_t n, double p, const ds_alloc *a) {
    uint64_t m;
    unsigned k;
    ds_status s;
    if (!b) return DS_EINVAL;
    if ((s = ds__bloom_size(n, p, 0, &m, &k)) != DS_OK) return s;
    return ds__bloom_alloc(b, m, k, 0, a);
}
DSDEF ds_status ds_bloom_init_blocked(ds_bloom *b, uint64_t n, double p, const ds_alloc *a) {
    uint64_t m;
    unsigned k;
    ds_status s;
    if (!b) return DS_EINVAL;
    if ((s = ds__bloom_size(n, p, 1, &m, &k)) != DS_OK) return s;
    return ds__bloom_alloc(b, m, k, 1, a);
}
DSDEF void ds_bloom_free(ds_bloom *b) {
    if (!b) return;
    if (b->bits) DS_FREE(b->alloc, b->bits, (size_t)(b->m / 8));
    b->bits = NULL;
    b->m = b->set = b->n = 0;
}
DSDEF void ds_bloom_clear(ds_bloom *b) {
    if (!b || !b->bits) return;
    memset(b->bits, 0, (size_t)(b->m / 8));
    b->set = b->n = 0;
}

/* Probe sequence. Standard: enhanced double hashing over [0, m) by
 * fast range reduction of a 64-bit x. Blocked: the block from the high
 * bits of h; offset i inside it is the top 9 bits of (uint32)h * salt[i]
 * (multiply-shift with a distinct odd multiplier per probe, as Parquet's
 * split-block filter does), so the k offsets are independent, computed
 * without a dependency chain, and tested branch-free. (An arithmetic
 * progression a + i*b was tried first: its correlated patterns doubled
 * the FPP at p = 0.001.) */
static const uint32_t ds__bloom_salt[64] = {
    0x58dc9587u, 0x6297dec5u, 0x558aaf69u, 0x43aab951u, 0x8388d311u, 0x4847b04bu,
    0x8fe428bbu, 0x8ffc24d1u, 0x4c806d99u, 0xa1effa73u, 0xf5f87dfdu, 0x887e71efu,
    0x1ae3f845u, 0xb7347dc1u, 0x7a62494du, 0xfab7f841u, 0x11a5addfu, 0x730feb25u,
    0x17af830bu, 0xa64b22f7u, 0x0d45621du, 0xc4af7f5bu, 0xf35a767bu, 0x6623a735u,
    0xfba50d1du, 0x70910667u, 0x66159321u, 0x0c279997u, 0x3c464987u, 0x9c283635u,
    0xe0832fcfu, 0x19b7b0f7u, 0xc81e3c27u, 0x85a3048du, 0x8c820361u, 0x7b611fa1u,
    0xb3c21255u, 0xe94a24d5u, 0xbafb97ffu, 0x5d13d843u, 0x4f569c7bu, 0xe6275897u,
    0x3353f5f7u, 0x79c5bfc5u, 0xe30e2545u, 0x6367bfd3u, 0x6e2f9427u, 0x305512d7u,
    0xad596303u, 0xee6c8ccdu, 0x1f8a7827u, 0x2b993d89u, 0x14ae79f7u, 0x8aa7e611u,
    0xc4263275u, 0x1b4755e3u, 0xb9677e6bu, 0x4bfe42ddu, 0x35045ee5u, 0xea5a5d6du,
    0x0ae2e007u, 0x398cc813u, 0x430b73a9u, 0xdcb6d57bu};
DSDEF int ds_bloom_add_hash(ds_bloom *b, uint64_t h) {
    uint64_t fresh = 0;
    unsigned i;
    if (!b || !b->bits) return 0;
    if (b->blocked) {
        uint64_t *blk = b->bits + 8 * ds__fastrange64(h, b->m / 512);
        uint32_t h32 = (uint32_t)h;
        for (i = 0; i < b->k; i++) {
            uint32_t bit = (h32 * ds__bloom_salt[i]) >> 23;
            uint64_t mask = (uint64_t)1 << (bit & 63);
            fresh += !(blk[bit >> 6] & mask);
            blk[bit >> 6] |= mask;
        }
    } else {
        uint64_t x = h, y = ds_mix64(h);
        for (i = 0; i < b->k; i++) {
            uint64_t bit = ds__fastrange64(x, b->m), mask = (uint64_t)1 << (bit & 63);
            fresh += !(b->bits[bit >> 6] & mask);
            b->bits[bit >> 6] |= mask;
            x += y;
            y += i;
        }
    }
    b->set += fresh;
    b->n += fresh != 0;
    return fresh != 0;
}
DSDEF int ds_bloom_has_hash(const ds_bloom *b, uint64_t h) {
    unsigned i;
    if (!b || !b->bits) return 0;
    if (b->blocked) {
        /* No early exit: all k probes hit the one cache line anyway, and
         * a branch per probe would mispredict on negatives. */
        const uint64_t *blk = b->bits + 8 * ds__fastrange64(h, b->m / 512);
        uint32_t h32 = (uint32_t)h;
        uint64_t ok = 1;
        for (i = 0; i < b->k; i++) {
            uint32_t bit = (h32 * ds__bloom_salt[i]) >> 23;
            ok &= blk[bit >> 6] >> (bit & 63);
        }
        return (int)(ok & 1);
    } else {
        uint64_t x = h, y = ds_mix64(h);
        for (i = 0; i < b->k; i++) {
            uint64_t bit = ds__fastrange64(x, b->m);
            if (!(b->bits[bit >> 6] & ((uint64_t)1 << (bit & 63)))) return 0;
            x += y;
            y += i;
        }
    }
    return 1;
}

static unsigned ds__popcount64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_popcountll(x);
#else
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
#endif
}

DSDEF double ds_bloom_fpp(const ds_bloom *b) {
    if (!b || !b->bits) return 0.0;
    if (b->blocked) {
        uint64_t blk, nb = b->m / 512;
        double sum = 0;
        for (blk = 0; blk < nb; blk++) {
            unsigned c = 0, j;
            for (j = 0; j < 8; j++) c += ds__popcount64(b->bits[blk * 8 + j]);
            if (c) sum += pow(c / 512.0, (double)b->k);
        }
        return sum / (double)nb;
    }
    return pow((double)b->set / (double)b->m, (double)b->k);
}
DSDEF double ds_bloom_count(const ds_bloom *b) {
    if (!b || !b->bits) return 0.0;
    if (b->set >= b->m) return HUGE_VAL;
    return -((double)b->m / b->k) * log1p(-(double)b->set / (double)b->m);
}

static ds_status ds__bloom_combine(ds_bloom *dst, const ds_bloom *src, int and_) {
    size_t i, words;
    uint64_t set = 0;
    if (!dst || !src || !dst->bits || !src->bits || dst->m != src->m || dst->k != src->k ||
        dst->blocked != src->blocked)
        return DS_EINVAL;
    words = (size_t)(dst->m / 64);
    for (i = 0; i < words; i++) {
        dst->bits[i] = and_ ? dst->bits[i] & src->bits[i] : dst->bits[i] | src->bits[i];
        set += ds__popcount64(dst->bits[i]);
    }
    dst->set = set;
    /* Keys added is no longer known exactly: keep the fill estimate. */
    dst->n = set >= dst->m ? dst->m : (uint64_t)(ds_bloom_count(dst) + 0.5);
    return DS_OK;
}
DSDEF ds_status ds_bloom_union(ds_bloom *dst, const ds_bloom *src) {
    return ds__bloom_combine(dst, src, 0);
}
DSDEF ds_status ds_bloom_intersect(ds_bloom *dst, const ds_bloom *src) {
    return ds__bloom_combine(dst, src, 1);
}
DSDEF size_t ds_bloom_memory(const ds_bloom *b) {
    return b && b->bits ? (size_t)(b->m / 8) : 0;
}

/* The body shared by ds_bloom and each filter of a ds_sbloom. */
static void ds__bloom_put(ds__enc *e, const ds_bloom *b) {
    ds__put_u64(e, b->m);
    ds__put_u64(e, b->k);
    ds__put_u64(e, (uint64_t)b->blocked);
    ds__put_u64(e, b->n);
    ds__put_words(e, b->bits, (size_t)(b->m / 64), 8);
}
static void ds__bloom_get(ds__dec *d, ds_bloom *b, const ds_alloc *a) {
    uint64_t m = ds__get_u64(d), k = ds__get_u64(d), blocked = ds__get_u64(d);
    uint64_t n = ds__get_u64(d), set = 0;
    size_t i;
    b->bits = NULL;
    if (d->st != DS_OK) return;
    if (m == 0 || m > DS__BLOOM_MAX_BITS || m % (blocked ? 512 : 64) || k < 1 || k > 64 ||
        blocked > 1) {
        d->st = DS_ECORRUPT;
        return;
    }
    if (!ds__dec_room(d, m / 8) || m / 64 > SIZE_MAX / 8) return;
    if (!(b->bits = (uint64_t *)ds__get_alloc(d, (size_t)(m / 64), 8, a))) return;
    for (i = 0; i < m / 64; i++) set += ds__popcount64(b->bits[i]);
    b->m = m;
    b->k = (unsigned)k;
    b->blocked = (int)blocked;
    b->set = set;
    b->n = n;
    b->alloc = a;
}

DSDEF ds_status ds_bloom_save(const ds_bloom *b, ds_writer w) {
    ds__enc e;
    if (!b || !b->bits) return DS_EINVAL;
    ds__enc_init(&e, w, "DSbf", 1);
    ds__bloom_put(&e, b);
    return ds__enc_end(&e);
}
DSDEF ds_status ds_bloom_load(ds_bloom *b, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_bloom t;
    if (!b) return DS_EINVAL;
    ds__dec_init(&d, r, "DSbf", 1);
    ds__bloom_get(&d, &t, a);
    if (ds__dec_end(&d) != DS_OK) {
        if (t.bits) ds_bloom_free(&t);
        return d.st;
    }
    *b = t;
    return DS_OK;
}

/* -- scalable -- */

DSDEF ds_status ds_sbloom_init(ds_sbloom *s, uint64_t n0, double p, double growth, double ratio,
                               int blocked, const ds_alloc *a) {
    uint64_t m;
    unsigned k;
    if (!s) return DS_EINVAL;
    if (!(growth >= 1.0 && growth <= 64.0) || !(ratio > 0.0 && ratio < 1.0)) return DS_EINVAL;
    if (ds__bloom_size(n0, p, 0, &m, &k) != DS_OK) return DS_EINVAL;
    s->f = NULL;
    s->nf = s->capf = 0;
    s->n0 = n0;
    s->n = 0;
    s->p = p;
    s->growth = growth;
    s->ratio = ratio;
    s->blocked = blocked != 0;
    s->alloc = a;
    return DS_OK;
}
DSDEF void ds_sbloom_clear(ds_sbloom *s) {
    size_t i;
    if (!s) return;
    for (i = 0; i < s->nf; i++) ds_bloom_free(&s->f[i]);
    s->nf = 0;
    s->n = 0;
}
DSDEF void ds_sbloom_free(ds_sbloom *s) {
    if (!s) return;
    ds_sbloom_clear(s);
    if (s->f) DS_FREE(s->alloc, s->f, s->capf * sizeof *s->f);
    s->f = NULL;
    s->capf = 0;
}
/* Capacity and error rate of filter i. */
static void ds__sbloom_params(const ds_sbloom *s, size_t i, uint64_t *cap, double *p) {
    double c = (double)s->n0 * pow(s->growth, (double)i);
    *cap = c >= 1e18 ? (uint64_t)1e18 : (uint64_t)c;
    *p = s->p * (1.0 - s->ratio) * pow(s->ratio, (double)i);
}
/* Room in s->f for one more filter (doubling); nothing changes on failure. */
static ds_status ds__sbloom_room(ds_sbloom *s) {
    size_t nc = s->capf ? s->capf * 2 : 4, bytes;
    void *nf = NULL;
    if (s->nf < s->capf) return DS_OK;
    if (ds_size_mul(nc, sizeof *s->f, &bytes))
        nf = s->f ? DS_REALLOC(s->alloc, s->f, s->capf * sizeof *s->f, bytes) : DS_MALLOC(s->alloc, bytes);
    if (!nf) return DS_ENOMEM;
    s->f = (ds_bloom *)nf;
    s->capf = nc;
    return DS_OK;
}
static ds_status ds__sbloom_grow(ds_sbloom *s) {
    uint64_t cap, m;
    unsigned k;
    double p;
    ds_status st;
    ds_bloom f;
    /* The new filter first, then room for it: a failure of either leaves
     * the chain exactly as it was. */
    ds__sbloom_params(s, s->nf, &cap, &p);
    if (!(p > 0.0) || ds__bloom_size(cap, p, s->blocked, &m, &k) != DS_OK) return DS_EFULL;
    if ((st = ds__bloom_alloc(&f, m, k, s->blocked, s->alloc)) != DS_OK) return st;
    if ((st = ds__sbloom_room(s)) != DS_OK) {
        ds_bloom_free(&f);
        return st;
    }
    s->f[s->nf++] = f;
    return DS_OK;
}
DSDEF int ds_sbloom_has_hash(const ds_sbloom *s, uint64_t h) {
    size_t i;
    if (!s) return 0;
    for (i = s->nf; i-- > 0;)
        if (ds_bloom_has_hash(&s->f[i], h)) return 1;
    return 0;
}
DSDEF ds_status ds_sbloom_add_hash(ds_sbloom *s, uint64_t h, int *added) {
    uint64_t cap;
    double p;
    ds_status st;
    if (added) *added = 0;
    if (!s) return DS_EINVAL;
    if (ds_sbloom_has_hash(s, h)) return DS_OK;
    if (s->nf) ds__sbloom_params(s, s->nf - 1, &cap, &p);
    if (s->nf == 0 || s->f[s->nf - 1].n >= cap)
        if ((st = ds__sbloom_grow(s)) != DS_OK) return st;
    /* No filter has it, so some bit of the newest is 0: n counts it. */
    ds_bloom_add_hash(&s->f[s->nf - 1], h);
    s->n++;
    if (added) *added = 1;
    return DS_OK;
}
DSDEF uint64_t ds_sbloom_len(const ds_sbloom *s) { return s ? s->n : 0; }
DSDEF size_t ds_sbloom_filters(const ds_sbloom *s) { return s ? s->nf : 0; }
DSDEF double ds_sbloom_fpp(const ds_sbloom *s) {
    double keep = 1.0;
    size_t i;
    if (!s) return 0.0;
    for (i = 0; i < s->nf; i++) keep *= 1.0 - ds_bloom_fpp(&s->f[i]);
    return 1.0 - keep;
}
DSDEF size_t ds_sbloom_memory(const ds_sbloom *s) {
    size_t i, sum;
    if (!s) return 0;
    sum = s->capf * sizeof *s->f;
    for (i = 0; i < s->nf; i++) sum += ds_bloom_memory(&s->f[i]);
    return sum;
}
DSDEF ds_status ds_sbloom_save(const ds_sbloom *s, ds_writer w) {
    ds__enc e;
    size_t i;
    if (!s) return DS_EINVAL;
    ds__enc_init(&e, w, "DSsb", 1);
    ds__put_u64(&e, s->n0);
    ds__put_f64(&e, s->p);
    ds__put_f64(&e, s->growth);
    ds__put_f64(&e, s->ratio);
    ds__put_u64(&e, (uint64_t)s->blocked);
    ds__put_u64(&e, s->n);
    ds__put_u64(&e, s->nf);
    for (i = 0; i < s->nf; i++) ds__bloom_put(&e, &s->f[i]);
    return ds__enc_end(&e);
}
DSDEF ds_status ds_sbloom_load(ds_sbloom *s, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_sbloom t;
    uint64_t n0, n, nf, blocked, i;
    double p, growth, ratio;
    if (!s) return DS_EINVAL;
    ds__dec_init(&d, r, "DSsb", 1);
    n0 = ds__get_u64(&d);
    p = ds__get_f64(&d);
    growth = ds__get_f64(&d);
    ratio = ds__get_f64(&d);
    blocked = ds__get_u64(&d);
    n = ds__get_u64(&d);
    nf = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    /* Each filter takes at least 40 bytes of input: bounds nf. */
    if (blocked > 1 || nf > 4096 || ds_sbloom_init(&t, n0, p, growth, ratio, (int)blocked, a) != DS_OK)
        return DS_ECORRUPT;
    if (!ds__dec_room(&d, nf * 40)) return d.st;
    for (i = 0; i < nf && d.st == DS_OK; i++) {
        if ((d.st = ds__sbloom_room(&t)) != DS_OK) break;
        ds__bloom_get(&d, &t.f[t.nf], a);
        if (d.st == DS_OK) {
            if (t.f[t.nf].blocked != (int)blocked) d.st = DS_ECORRUPT;
            t.nf++;
        }
    }
    t.n = n;
    if (ds__dec_end(&d) != DS_OK) {
        ds_sbloom_free(&t);
        return d.st;
    }
    *s = t;
    return DS_OK;
}

/* == ds:cuckoo == */

#define DS__CK_KICKS_MAX 500

static inline uint32_t ds__ck_get(const ds_cuckoo *c, uint64_t slot) {
    if (c->slot_bytes == 1) return c->t[slot];
    {
        uint16_t v;
        memcpy(&v, c->t + 2 * slot, 2);
        return v;
    }
}
static inline void ds__ck_set(ds_cuckoo *c, uint64_t slot, uint32_t fp) {
    if (c->slot_bytes == 1) {
        c->t[slot] = (unsigned char)fp;
    } else {
        uint16_t v = (uint16_t)fp;
        memcpy(c->t + 2 * slot, &v, 2);
    }
}
/* Fingerprint from the top bits (never 0: 0 marks an empty slot); first
 * bucket from the bits below it. The other bucket is (H(fp) - i) mod nb:
 * an involution like Fan et al.'s i ^ H(fp), so either bucket finds the
 * other from the print alone, but valid for any bucket count, so the table
 * need not round up to a power of two (which left it 60% full at 10M). */
static inline uint32_t ds__ck_fp(const ds_cuckoo *c, uint64_t h) {
    uint32_t fp = (uint32_t)(h >> (64 - c->fp_bits));
    return fp ? fp : 1u;
}
static inline uint64_t ds__ck_home(const ds_cuckoo *c, uint64_t h) {
    return ds__fastrange64(h << c->fp_bits, c->nb);
}
static inline uint64_t ds__ck_alt(const ds_cuckoo *c, uint64_t i, uint32_t fp) {
    uint64_t hf = ds__fastrange64(fp * 0x9e3779b97f4a7c15ull, c->nb);
    return hf >= i ? hf - i : hf + c->nb - i;
}

#define DS__CK_MAX_BUCKETS ((uint64_t)1 << 40)
static ds_status ds__cuckoo_alloc(ds_cuckoo *c, uint64_t nb, unsigned fp_bits, const ds_alloc *a) {
    size_t bytes;
    unsigned sb = fp_bits <= 8 ? 1u : 2u;
    if (nb == 0 || nb > DS__CK_MAX_BUCKETS || nb > SIZE_MAX / 8 ||
        !ds_size_mul((size_t)nb, 4 * sb, &bytes))
        return DS_EINVAL;
    c->t = (unsigned char *)DS_MALLOC(a, bytes);
    if (!c->t) return DS_ENOMEM;
    memset(c->t, 0, bytes);
    c->slot_bytes = sb;
    c->nb = nb;
    c->len = 0;
    c->rng = 0x853c49e6748fea9bull;
    c->fp_bits = fp_bits;
    c->max_kicks = DS__CK_KICKS_MAX;
    c->alloc = a;
    return DS_OK;
}
DSDEF ds_status ds_cuckoo_init(ds_cuckoo *c, uint64_t capacity, unsigned fp_bits,
                               const ds_alloc *a) {
    double nb;
    if (!c || capacity == 0 || fp_bits < 4 || fp_bits > 16) return DS_EINVAL;
    /* Fan et al. fill b = 4 tables to ~95%; sizing for 92% leaves the
     * slack that makes inserting `capacity` keys succeed in practice. */
    nb = ceil((double)capacity / (4 * 0.92));
    if (nb > (double)DS__CK_MAX_BUCKETS) return DS_EINVAL;
    return ds__cuckoo_alloc(c, (uint64_t)nb, fp_bits, a);
}
DSDEF void ds_cuckoo_free(ds_cuckoo *c) {
    if (!c) return;
    if (c->t) DS_FREE(c->alloc, c->t, (size_t)(c->nb * 4 * c->slot_bytes));
    c->t = NULL;
    c->nb = c->len = 0;
}
DSDEF void ds_cuckoo_clear(ds_cuckoo *c) {
    if (!c || !c->t) return;
    memset(c->t, 0, (size_t)(c->nb * 4 * c->slot_bytes));
    c->len = 0;
}

static inline int ds__ck_put(ds_cuckoo *c, uint64_t b, uint32_t fp) {
    unsigned s;
    for (s = 0; s < 4; s++)
        if (ds__ck_get(c, b * 4 + s) == 0) {
            ds__ck_set(c, b * 4 + s, fp);
            return 1;
        }
    return 0;
}
DSDEF ds_status ds_cuckoo_add_hash(ds_cuckoo *c, uint64_t h) {
    /* The path of swaps, so a failed insert can be undone exactly. */
    uint64_t path[DS__CK_KICKS_MAX];
    uint32_t fp, i, n;
    uint64_t b;
    if (!c || !c->t) return DS_EINVAL;
    fp = ds__ck_fp(c, h);
    b = ds__ck_home(c, h);
    if (ds__ck_put(c, b, fp) || ds__ck_put(c, (b = ds__ck_alt(c, b, fp)), fp)) {
        c->len++;
        return DS_OK;
    }
    for (n = 0; n < c->max_kicks && n < DS__CK_KICKS_MAX; n++) {
        uint64_t slot;
        uint32_t old;
        c->rng += 0x9e3779b97f4a7c15ull;
        slot = b * 4 + (ds_mix64(c->rng) >> 62);
        old = ds__ck_get(c, slot);
        ds__ck_set(c, slot, fp);
        path[n] = slot;
        fp = old;
        b = ds__ck_alt(c, b, fp);
        if (ds__ck_put(c, b, fp)) {
            c->len++;
            return DS_OK;
        }
    }
    /* Undo: walk the swaps back; fp ends as the new key's print again. */
    for (i = n; i-- > 0;) {
        uint32_t cur = ds__ck_get(c, path[i]);
        ds__ck_set(c, path[i], fp);
        fp = cur;
    }
    return DS_EFULL;
}
static inline int ds__ck_find(const ds_cuckoo *c, uint64_t b, uint32_t fp) {
    unsigned s;
    for (s = 0; s < 4; s++)
        if (ds__ck_get(c, b * 4 + s) == fp) return (int)s;
    return -1;
}
DSDEF int ds_cuckoo_has_hash(const ds_cuckoo *c, uint64_t h) {
    uint32_t fp;
    uint64_t b1, b2;
    if (!c || !c->t) return 0;
    fp = ds__ck_fp(c, h);
    b1 = ds__ck_home(c, h);
    b2 = ds__ck_alt(c, b1, fp);
    /* Both buckets as words, a zero-lane test on each (SWAR): two
     * independent loads and no data-dependent branch. */
    if (c->slot_bytes == 1) {
        const uint32_t lo = 0x01010101u, hi = 0x80808080u;
        uint32_t w1, w2, x = fp * lo;
        memcpy(&w1, c->t + 4 * b1, 4);
        memcpy(&w2, c->t + 4 * b2, 4);
        w1 ^= x;
        w2 ^= x;
        return (((w1 - lo) & ~w1) | ((w2 - lo) & ~w2)) & hi ? 1 : 0;
    } else {
        const uint64_t lo = 0x0001000100010001ull, hi = 0x8000800080008000ull;
        uint64_t w1, w2, x = fp * lo;
        memcpy(&w1, c->t + 8 * b1, 8);
        memcpy(&w2, c->t + 8 * b2, 8);
        w1 ^= x;
        w2 ^= x;
        return (((w1 - lo) & ~w1) | ((w2 - lo) & ~w2)) & hi ? 1 : 0;
    }
}
DSDEF ds_status ds_cuckoo_del_hash(ds_cuckoo *c, uint64_t h) {
    uint32_t fp;
    uint64_t b;
    int s;
    if (!c || !c->t) return DS_EINVAL;
    fp = ds__ck_fp(c, h);
    b = ds__ck_home(c, h);
    if ((s = ds__ck_find(c, b, fp)) < 0 && (s = ds__ck_find(c, (b = ds__ck_alt(c, b, fp)), fp)) < 0)
        return DS_ENOTFOUND;
    ds__ck_set(c, b * 4 + (unsigned)s, 0);
    c->len--;
    return DS_OK;
}
DSDEF unsigned ds_cuckoo_count_hash(const ds_cuckoo *c, uint64_t h) {
    uint32_t fp;
    uint64_t b1, b2;
    unsigned s, n = 0;
    if (!c || !c->t) return 0;
    fp = ds__ck_fp(c, h);
    b1 = ds__ck_home(c, h);
    b2 = ds__ck_alt(c, b1, fp);
    for (s = 0; s < 4; s++) n += ds__ck_get(c, b1 * 4 + s) == fp;
    if (b2 != b1)
        for (s = 0; s < 4; s++) n += ds__ck_get(c, b2 * 4 + s) == fp;
    return n;
}
DSDEF uint64_t ds_cuckoo_len(const ds_cuckoo *c) { return c ? c->len : 0; }
DSDEF uint64_t ds_cuckoo_capacity(const ds_cuckoo *c) { return c && c->t ? c->nb * 4 : 0; }
DSDEF double ds_cuckoo_fill(const ds_cuckoo *c) {
    return c && c->t ? (double)c->len / (double)(c->nb * 4) : 0.0;
}
DSDEF size_t ds_cuckoo_memory(const ds_cuckoo *c) {
    return c && c->t ? (size_t)(c->nb * 4 * c->slot_bytes) : 0;
}
DSDEF ds_status ds_cuckoo_save(const ds_cuckoo *c, ds_writer w) {
    ds__enc e;
    if (!c || !c->t) return DS_EINVAL;
    ds__enc_init(&e, w, "DSck", 1);
    ds__put_u64(&e, c->nb);
    ds__put_u64(&e, c->fp_bits);
    ds__put_u64(&e, c->len);
    ds__put_u64(&e, c->rng);
    ds__put_words(&e, c->t, (size_t)(c->nb * 4), c->slot_bytes);
    return ds__enc_end(&e);
}
DSDEF ds_status ds_cuckoo_load(ds_cuckoo *c, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_cuckoo t;
    uint64_t nb, fpb, len, rng, i, used = 0;
    if (!c) return DS_EINVAL;
    ds__dec_init(&d, r, "DSck", 1);
    nb = ds__get_u64(&d);
    fpb = ds__get_u64(&d);
    len = ds__get_u64(&d);
    rng = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    if (nb == 0 || nb > DS__CK_MAX_BUCKETS || fpb < 4 || fpb > 16 || len > nb * 4)
        return DS_ECORRUPT;
    if (!ds__dec_room(&d, nb * 4 * (fpb <= 8 ? 1 : 2))) return d.st;
    if (nb > SIZE_MAX / 8) return DS_ECORRUPT;
    memset(&t, 0, sizeof t);
    t.slot_bytes = fpb <= 8 ? 1u : 2u;
    t.nb = nb;
    t.fp_bits = (unsigned)fpb;
    t.max_kicks = DS__CK_KICKS_MAX;
    t.alloc = a;
    if (!(t.t = (unsigned char *)ds__get_alloc(&d, (size_t)(nb * 4), t.slot_bytes, a))) return d.st;
    for (i = 0; d.st == DS_OK && i < nb * 4; i++) {
        uint32_t v = ds__ck_get(&t, i);
        used += v != 0;
        if (v >> fpb) d.st = DS_ECORRUPT;
    }
    if (d.st == DS_OK && used != len) d.st = DS_ECORRUPT;
    if (ds__dec_end(&d) != DS_OK) {
        ds_cuckoo_free(&t);
        return d.st;
    }
    t.len = len;
    t.rng = rng;
    *c = t;
    return DS_OK;
}

/* == ds:cms == */

DSDEF ds_status ds_cms_init(ds_cms *s, uint32_t width, uint32_t depth, const ds_alloc *a) {
    size_t bytes;
    if (!s || width == 0 || width > ((uint32_t)1 << 31) || depth == 0 || depth > 64) return DS_EINVAL;
    if (!ds_size_mul(width, depth, &bytes) || !ds_size_mul(bytes, 4, &bytes)) return DS_EINVAL;
    s->c = (uint32_t *)DS_MALLOC(a, bytes);
    if (!s->c) return DS_ENOMEM;
    memset(s->c, 0, bytes);
    s->w = width;
    s->d = depth;
    s->conservative = 0;
    s->total = 0;
    s->alloc = a;
    return DS_OK;
}
DSDEF ds_status ds_cms_init_error(ds_cms *s, double eps, double delta, const ds_alloc *a) {
    double w, d;
    if (!s || !(eps > 0.0 && eps < 1.0) || !(delta > 0.0 && delta < 1.0)) return DS_EINVAL;
    w = ceil(2.718281828459045 / eps);
    d = ceil(log(1.0 / delta));
    if (w > 2147483648.0 || d > 64) return DS_EINVAL;
    return ds_cms_init(s, (uint32_t)w, d < 1 ? 1u : (uint32_t)d, a);
}
DSDEF void ds_cms_free(ds_cms *s) {
    if (!s) return;
    if (s->c) DS_FREE(s->alloc, s->c, (size_t)s->w * s->d * 4);
    s->c = NULL;
    s->w = s->d = 0;
    s->total = 0;
}
DSDEF void ds_cms_clear(ds_cms *s) {
    if (!s || !s->c) return;
    memset(s->c, 0, (size_t)s->w * s->d * 4);
    s->total = 0;
}
DSDEF void ds_cms_set_conservative(ds_cms *s, int on) {
    if (s) s->conservative = on != 0;
}
/* Row r's column: double hashing over the one 64-bit hash, reduced by
 * multiply-shift. */
static inline size_t ds__cms_col(const ds_cms *s, uint64_t h, uint64_t g, uint32_t r) {
    uint64_t x = h + r * g;
    return (size_t)r * s->w + (size_t)(((x >> 32) * s->w) >> 32);
}
DSDEF uint32_t ds_cms_add_hash(ds_cms *s, uint64_t h, uint32_t count) {
    uint64_t g;
    uint32_t r, est = UINT32_MAX;
    if (!s || !s->c) return 0;
    g = ds_mix64(h) | 1;
    s->total += count;
    if (s->conservative) {
        size_t col[64]; /* depth <= 64 */
        uint32_t target;
        for (r = 0; r < s->d; r++) {
            uint32_t v = s->c[col[r] = ds__cms_col(s, h, g, r)];
            if (v < est) est = v;
        }
        target = est > UINT32_MAX - count ? UINT32_MAX : est + count;
        for (r = 0; r < s->d; r++)
            if (s->c[col[r]] < target) s->c[col[r]] = target;
        return target;
    }
    for (r = 0; r < s->d; r++) {
        uint32_t *v = &s->c[ds__cms_col(s, h, g, r)];
        *v = *v > UINT32_MAX - count ? UINT32_MAX : *v + count;
        if (*v < est) est = *v;
    }
    return est;
}
DSDEF uint32_t ds_cms_query_hash(const ds_cms *s, uint64_t h) {
    uint64_t g;
    uint32_t r, est = UINT32_MAX;
    if (!s || !s->c) return 0;
    g = ds_mix64(h) | 1;
    for (r = 0; r < s->d; r++) {
        uint32_t v = s->c[ds__cms_col(s, h, g, r)];
        if (v < est) est = v;
    }
    return est;
}
DSDEF uint64_t ds_cms_total(const ds_cms *s) { return s ? s->total : 0; }
DSDEF ds_status ds_cms_merge(ds_cms *dst, const ds_cms *const *src, const uint32_t *weights,
                             size_t n) {
    size_t i, j, cells;
    uint64_t total = 0;
    if (!dst || !dst->c || (n && !src)) return DS_EINVAL;
    for (i = 0; i < n; i++)
        if (!src[i] || !src[i]->c || src[i]->w != dst->w || src[i]->d != dst->d) return DS_EINVAL;
    cells = (size_t)dst->w * dst->d;
    /* Cell by cell, reading every source before writing dst[j]: dst may
     * be a source. */
    for (j = 0; j < cells; j++) {
        uint64_t sum = 0;
        for (i = 0; i < n; i++) {
            uint64_t add = (uint64_t)src[i]->c[j] * (weights ? weights[i] : 1u);
            sum += add;
            if (sum >= UINT32_MAX) {
                sum = UINT32_MAX;
                break;
            }
        }
        dst->c[j] = (uint32_t)sum;
    }
    for (i = 0; i < n; i++) {
        uint64_t w = weights ? weights[i] : 1u, t = src[i]->total;
        total = (w && t > UINT64_MAX / w) || total > UINT64_MAX - t * w ? UINT64_MAX : total + t * w;
    }
    dst->total = total;
    return DS_OK;
}
DSDEF size_t ds_cms_memory(const ds_cms *s) { return s && s->c ? (size_t)s->w * s->d * 4 : 0; }
DSDEF ds_status ds_cms_save(const ds_cms *s, ds_writer w) {
    ds__enc e;
    if (!s || !s->c) return DS_EINVAL;
    ds__enc_init(&e, w, "DScm", 1);
    ds__put_u64(&e, s->w);
    ds__put_u64(&e, s->d);
    ds__put_u64(&e, (uint64_t)s->conservative);
    ds__put_u64(&e, s->total);
    ds__put_words(&e, s->c, (size_t)s->w * s->d, 4);
    return ds__enc_end(&e);
}
DSDEF ds_status ds_cms_load(ds_cms *s, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_cms t;
    uint64_t w, dd, cons, total;
    if (!s) return DS_EINVAL;
    ds__dec_init(&d, r, "DScm", 1);
    w = ds__get_u64(&d);
    dd = ds__get_u64(&d);
    cons = ds__get_u64(&d);
    total = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    if (w == 0 || w > ((uint64_t)1 << 31) || dd == 0 || dd > 64 || cons > 1) return DS_ECORRUPT;
    if (!ds__dec_room(&d, w * dd * 4)) return d.st;
    if (w * dd > SIZE_MAX / 4) return DS_ECORRUPT;
    t.w = (uint32_t)w;
    t.d = (uint32_t)dd;
    t.alloc = a;
    if (!(t.c = (uint32_t *)ds__get_alloc(&d, (size_t)(w * dd), 4, a))) return d.st;
    if (ds__dec_end(&d) != DS_OK) {
        ds_cms_free(&t);
        return d.st;
    }
    t.conservative = (int)cons;
    t.total = total;
    *s = t;
    return DS_OK;
}

/* == ds:topk == */

struct ds__ss_ctr {
    uint64_t count, err, hash;
    unsigned char *key;
    size_t len, kcap;
    uint32_t hpos;     /* position in t->heap */
    uint32_t tpos;     /* position in t->top, or UINT32_MAX */
};
#define DS__SS_NONE UINT32_MAX

static int ds__ss_less(const ds_topk *t, uint32_t a, uint32_t b) {
    return t->ctr[a].count < t->ctr[b].count;
}
/* Sift counter heaps. `pos` selects the back-pointer field to keep. */
static void ds__ss_sift(ds_topk *t, uint32_t *h, size_t n, size_t i, int is_top) {
    uint32_t x = h[i];
    size_t c;
    while (i > 0 && ds__ss_less(t, x, h[(i - 1) / 2])) { /* up */
        h[i] = h[(i - 1) / 2];
        if (is_top) t->ctr[h[i]].tpos = (uint32_t)i; else t->ctr[h[i]].hpos = (uint32_t)i;
        i = (i - 1) / 2;
    }
    while ((c = 2 * i + 1) < n) { /* down */
        if (c + 1 < n && ds__ss_less(t, h[c + 1], h[c])) c++;
        if (!ds__ss_less(t, h[c], x)) break;
        h[i] = h[c];
        if (is_top) t->ctr[h[i]].tpos = (uint32_t)i; else t->ctr[h[i]].hpos = (uint32_t)i;
        i = c;
    }
    h[i] = x;
    if (is_top) t->ctr[x].tpos = (uint32_t)i; else t->ctr[x].hpos = (uint32_t)i;
}

DSDEF ds_status ds_topk_init(ds_topk *t, size_t k, size_t capacity, const ds_alloc *a) {
    size_t isz = 1, i, b1, b2, b3, b4;
    if (!t || k == 0) return DS_EINVAL;
    if (capacity == 0) capacity = k > SIZE_MAX / 8 ? SIZE_MAX : (8 * k < 64 ? 64 : 8 * k);
    if (capacity < k || capacity >= DS__SS_NONE / 2) return DS_EINVAL;
    while (isz < 2 * capacity) isz <<= 1;
    if (!ds_size_mul(capacity, sizeof(ds__ss_ctr), &b1) || !ds_size_mul(capacity, 4, &b2) ||
        !ds_size_mul(k, 4, &b3) || !ds_size_mul(isz, 4, &b4))
        return DS_EINVAL;
    memset(t, 0, sizeof *t);
    t->alloc = a;
    t->ctr = (ds__ss_ctr *)DS_MALLOC(a, b1);
    t->heap = (uint32_t *)DS_MALLOC(a, b2);
    t->top = (uint32_t *)DS_MALLOC(a, b3);
    t->index = (uint32_t *)DS_MALLOC(a, b4);
    if (!t->ctr || !t->heap || !t->top || !t->index) {
        if (t->ctr) DS_FREE(a, t->ctr, b1);
        if (t->heap) DS_FREE(a, t->heap, b2);
        if (t->top) DS_FREE(a, t->top, b3);
        if (t->index) DS_FREE(a, t->index, b4);
        memset(t, 0, sizeof *t);
        return DS_ENOMEM;
    }
    for (i = 0; i < capacity; i++) {
        t->ctr[i].key = NULL;
        t->ctr[i].kcap = 0;
    }
    memset(t->index, 0, b4);
    t->k = k;
    t->cap = capacity;
    t->imask = isz - 1;
    return DS_OK;
}
DSDEF void ds_topk_clear(ds_topk *t) {
    size_t i;
    if (!t || !t->ctr) return;
    t->used = t->ntop = 0;
    t->total = 0;
    memset(t->index, 0, (t->imask + 1) * 4);
    for (i = 0; i < t->cap; i++) t->ctr[i].len = 0;
}
DSDEF void ds_topk_free(ds_topk *t) {
    size_t i;
    if (!t || !t->ctr) return;
    for (i = 0; i < t->cap; i++)
        if (t->ctr[i].key) DS_FREE(t->alloc, t->ctr[i].key, t->ctr[i].kcap);
    DS_FREE(t->alloc, t->ctr, t->cap * sizeof(ds__ss_ctr));
    DS_FREE(t->alloc, t->heap, t->cap * 4);
    DS_FREE(t->alloc, t->top, t->k * 4);
    DS_FREE(t->alloc, t->index, (t->imask + 1) * 4);
    if (t->scratch) DS_FREE(t->alloc, t->scratch, t->scratch_cap);
    memset(t, 0, sizeof *t);
}

/* Index slot of the key, or of the empty slot where it would go. */
static size_t ds__ss_slot(const ds_topk *t, uint64_t h, const void *key, size_t len) {
    size_t i = (size_t)h & t->imask;
    for (;; i = (i + 1) & t->imask) {
        uint32_t c = t->index[i];
        const ds__ss_ctr *e;
        if (c == 0) return i;
        e = &t->ctr[c - 1];
        if (e->hash == h && e->len == len && (len == 0 || memcmp(e->key, key, len) == 0)) return i;
    }
}
/* Remove index slot i, shifting back later entries of the cluster
 * (linear probing: no tombstones). */
static void ds__ss_unindex(ds_topk *t, size_t i) {
    size_t j = i;
    for (;;) {
        size_t home;
        j = (j + 1) & t->imask;
        if (t->index[j] == 0) break;
        home = (size_t)t->ctr[t->index[j] - 1].hash & t->imask;
        /* Move j into the hole i unless its home lies cyclically in (i, j]. */
        if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) continue;
        t->index[i] = t->index[j];
        i = j;
    }
    t->index[i] = 0;
}
/* Grow scratch / key buffers without touching the structure on failure. */
static int ds__ss_reserve(const ds_alloc *a, unsigned char **buf, size_t *cap, size_t need) {
    void *p;
    size_t nc = *cap ? *cap : 16;
    if (need <= *cap) return 1;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    p = *buf ? DS_REALLOC(a, *buf, *cap, nc) : DS_MALLOC(a, nc);
    if (!p) return 0;
    *buf = (unsigned char *)p;
    *cap = nc;
    return 1;
}
/* Counter x changed (grew, or is new): keep the top list right. */
static void ds__ss_top_update(ds_topk *t, uint32_t x, int *expelled, ds_topk_item *gone) {
    if (t->ctr[x].tpos != DS__SS_NONE) {
        ds__ss_sift(t, t->top, t->ntop, t->ctr[x].tpos, 1);
    } else if (t->ntop < t->k) {
        t->top[t->ntop] = x;
        t->ntop++;
        ds__ss_sift(t, t->top, t->ntop, t->ntop - 1, 1);
    } else if (ds__ss_less(t, t->top[0], x)) {
        uint32_t out = t->top[0];
        ds__ss_ctr *o = &t->ctr[out];
        memcpy(t->scratch, o->key, o->len);
        *expelled = 1;
        gone->len = o->len;
        gone->count = o->count;
        gone->err = o->err;
        o->tpos = DS__SS_NONE;
        t->top[0] = x;
        ds__ss_sift(t, t->top, t->ntop, 0, 1);
    }
}
DSDEF ds_status ds_topk_add(ds_topk *t, const void *key, size_t len, uint64_t weight,
                            ds_topk_item *expelled) {
    uint64_t h;
    size_t slot;
    uint32_t x;
    int ex = 0;
    ds__ss_ctr *e;
    ds_topk_item gone;
    unsigned char *old_scratch = NULL;
    size_t old_cap = 0;
    memset(&gone, 0, sizeof gone);
    if (expelled) memset(expelled, 0, sizeof *expelled);
    if (!t || !t->ctr || (!key && len) || weight == 0) return DS_EINVAL;
    /* Re-adding the key an earlier add expelled: it lives in the scratch
     * this add may overwrite, so give the scratch a fresh buffer first. */
    if (t->scratch && (uintptr_t)key >= (uintptr_t)t->scratch &&
        (uintptr_t)key < (uintptr_t)t->scratch + t->scratch_cap) {
        unsigned char *fresh = (unsigned char *)DS_MALLOC(t->alloc, t->scratch_cap);
        if (!fresh) return DS_ENOMEM;
        old_scratch = t->scratch;
        old_cap = t->scratch_cap;
        t->scratch = fresh;
    }
    h = ds_hash_bytes(key, len, 0x746f706b);
    slot = ds__ss_slot(t, h, key, len);
    /* Every buffer a path may need is reserved first: the strong
     * guarantee. The scratch holds any expelled key (<= longest key). */
    if (t->index[slot]) {
        x = t->index[slot] - 1;
        e = &t->ctr[x];
        e->count = e->count > UINT64_MAX - weight ? UINT64_MAX : e->count + weight;
        ds__ss_sift(t, t->heap, t->used, e->hpos, 0);
    } else {
        uint32_t victim = t->used < t->cap ? (uint32_t)t->used : t->heap[0];
        ds__ss_ctr *v = &t->ctr[victim];
        /* The scratch stays as long as the longest key ever stored, so any
         * expelled key fits without allocating later. */
        if (!ds__ss_reserve(t->alloc, &t->scratch, &t->scratch_cap, len ? len : 1) ||
            !ds__ss_reserve(t->alloc, &v->key, &v->kcap, len ? len : 1)) {
            if (old_scratch) { /* back to the caller's buffer, as it was */
                DS_FREE(t->alloc, t->scratch, t->scratch_cap);
                t->scratch = old_scratch;
                t->scratch_cap = old_cap;
            }
            return DS_ENOMEM;
        }
        if (t->used < t->cap) {
            v->count = 0;
            v->err = 0;
            v->tpos = DS__SS_NONE;
            v->hpos = (uint32_t)t->used;
            t->heap[t->used++] = victim;
        } else {
            /* Take over the least counter: unindex it, and if it was in the
             * top list (ties, or capacity == k) that is the expulsion. */
            ds__ss_unindex(t, ds__ss_slot(t, v->hash, v->key, v->len));
            slot = ds__ss_slot(t, h, key, len);
            if (v->tpos != DS__SS_NONE) {
                size_t p = v->tpos;
                memcpy(t->scratch, v->key, v->len);
                gone.len = v->len;
                gone.count = v->count;
                gone.err = v->err;
                ex = 1;
                t->top[p] = t->top[--t->ntop];
                t->ctr[t->top[p]].tpos = (uint32_t)p;
                v->tpos = DS__SS_NONE;
                if (p < t->ntop) ds__ss_sift(t, t->top, t->ntop, p, 1);
            }
            v->err = v->count;
        }
        x = victim;
        e = v;
        if (len) memcpy(e->key, key, len);
        e->len = len;
        e->hash = h;
        e->count = e->count > UINT64_MAX - weight ? UINT64_MAX : e->count + weight;
        t->index[slot] = x + 1;
        ds__ss_sift(t, t->heap, t->used, e->hpos, 0);
    }
    t->total = t->total > UINT64_MAX - weight ? UINT64_MAX : t->total + weight;
    {
        /* If the takeover above already expelled, the top list has room
         * and this cannot expel again. */
        int ex2 = 0;
        ds__ss_top_update(t, x, &ex2, &gone);
        ex |= ex2;
    }
    if (ex && expelled) {
        *expelled = gone;
        expelled->key = t->scratch;
    }
    if (old_scratch) DS_FREE(t->alloc, old_scratch, old_cap);
    return DS_OK;
}
DSDEF int ds_topk_has(const ds_topk *t, const void *key, size_t len) {
    size_t slot;
    if (!t || !t->ctr || (!key && len)) return 0;
    slot = ds__ss_slot(t, ds_hash_bytes(key, len, 0x746f706b), key, len);
    return t->index[slot] && t->ctr[t->index[slot] - 1].tpos != DS__SS_NONE;
}
DSDEF uint64_t ds_topk_count(const ds_topk *t, const void *key, size_t len) {
    size_t slot;
    if (!t || !t->ctr || (!key && len)) return 0;
    slot = ds__ss_slot(t, ds_hash_bytes(key, len, 0x746f706b), key, len);
    return t->index[slot] ? t->ctr[t->index[slot] - 1].count : 0;
}
DSDEF size_t ds_topk_list(const ds_topk *t, ds_topk_item *out, size_t cap) {
    size_t i, j, n = 0;
    if (!t || !t->ctr || !out) return 0;
    /* Insertion into out, kept sorted and cut at cap: O(k cap), and the
     * top heap stays untouched (list is a read-only call). */
    for (i = 0; i < t->ntop; i++) {
        const ds__ss_ctr *e = &t->ctr[t->top[i]];
        if (n == cap && (cap == 0 || out[n - 1].count >= e->count)) continue;
        j = n < cap ? n++ : n - 1;
        for (; j > 0 && out[j - 1].count < e->count; j--) out[j] = out[j - 1];
        out[j].key = e->key;
        out[j].len = e->len;
        out[j].count = e->count;
        out[j].err = e->err;
    }
    return n;
}
DSDEF uint64_t ds_topk_total(const ds_topk *t) { return t ? t->total : 0; }

/* == ds:hll == */

static inline unsigned ds__hll_get(const unsigned char *r, size_t i) {
    size_t bit = i * 6;
    unsigned v = (unsigned)r[bit >> 3] | (unsigned)r[(bit >> 3) + 1] << 8;
    return (v >> (bit & 7)) & 63u;
}
static inline void ds__hll_set(unsigned char *r, size_t i, unsigned x) {
    size_t bit = i * 6;
    unsigned v = (unsigned)r[bit >> 3] | (unsigned)r[(bit >> 3) + 1] << 8;
    v = (v & ~(63u << (bit & 7))) | (x << (bit & 7));
    r[bit >> 3] = (unsigned char)v;
    r[(bit >> 3) + 1] = (unsigned char)(v >> 8);
}
static inline size_t ds__hll_bytes(unsigned p) { return ((size_t)6 << p) / 8 + 1; }

DSDEF ds_status ds_hll_init(ds_hll *h, unsigned p, const ds_alloc *a) {
    if (!h || p < 4 || p > 18) return DS_EINVAL;
    h->reg = (unsigned char *)DS_MALLOC(a, ds__hll_bytes(p));
    if (!h->reg) return DS_ENOMEM;
    memset(h->reg, 0, ds__hll_bytes(p));
    h->p = p;
    h->alloc = a;
    return DS_OK;
}
DSDEF void ds_hll_free(ds_hll *h) {
    if (!h) return;
    if (h->reg) DS_FREE(h->alloc, h->reg, ds__hll_bytes(h->p));
    h->reg = NULL;
}
DSDEF void ds_hll_clear(ds_hll *h) {
    if (h && h->reg) memset(h->reg, 0, ds__hll_bytes(h->p));
}
DSDEF int ds_hll_add_hash(ds_hll *h, uint64_t hash) {
    size_t i;
    unsigned rank;
    if (!h || !h->reg) return 0;
    i = (size_t)(hash & (((uint64_t)1 << h->p) - 1));
    /* Rank: position of the first 1 in the other 64 - p bits (a sentinel
     * bit caps it at 65 - p, which fits 6 bits for p >= 4). */
    rank = ds__ctz64((hash >> h->p) | ((uint64_t)1 << (64 - h->p))) + 1;
    if (rank <= ds__hll_get(h->reg, i)) return 0;
    ds__hll_set(h->reg, i, rank);
    return 1;
}
/* Ertl 2017, Algorithm 6 (the "improved raw estimator"). */
static double ds__hll_sigma(double x) {
    double y = 1, z = x, zp;
    if (x == 1.0) return HUGE_VAL;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}
static double ds__hll_tau(double x) {
    double y = 1, z = 1 - x, zp;
    if (x == 0.0 || x == 1.0) return 0.0;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (zp != z);
    return z / 3;
}
DSDEF double ds_hll_count(const ds_hll *h) {
    uint64_t c[66];
    size_t i, m;
    unsigned q, k;
    double z;
    if (!h || !h->reg) return 0.0;
    m = (size_t)1 << h->p;
    q = 64 - h->p;
    memset(c, 0, sizeof c);
    for (i = 0; i < m; i++) c[ds__hll_get(h->reg, i)]++;
    z = (double)m * ds__hll_tau(1.0 - (double)c[q + 1] / (double)m);
    for (k = q; k >= 1; k--) z = 0.5 * (z + (double)c[k]);
    z += (double)m * ds__hll_sigma((double)c[0] / (double)m);
    return (0.5 / 0.6931471805599453) * (double)m * (double)m / z;
}
DSDEF double ds_hll_error(const ds_hll *h) {
    return h && h->reg ? 1.04 / sqrt((double)((size_t)1 << h->p)) : 0.0;
}
DSDEF ds_status ds_hll_merge(ds_hll *dst, const ds_hll *src) {
    size_t i, m;
    if (!dst || !src || !dst->reg || !src->reg || dst->p != src->p) return DS_EINVAL;
    m = (size_t)1 << dst->p;
    for (i = 0; i < m; i++) {
        unsigned a = ds__hll_get(dst->reg, i), b = ds__hll_get(src->reg, i);
        if (b > a) ds__hll_set(dst->reg, i, b);
    }
    return DS_OK;
}
DSDEF size_t ds_hll_memory(const ds_hll *h) { return h && h->reg ? ds__hll_bytes(h->p) : 0; }
DSDEF ds_status ds_hll_save(const ds_hll *h, ds_writer w) {
    ds__enc e;
    if (!h || !h->reg) return DS_EINVAL;
    ds__enc_init(&e, w, "DShl", 1);
    ds__put_u64(&e, h->p);
    ds__put_words(&e, h->reg, ds__hll_bytes(h->p), 1);
    return ds__enc_end(&e);
}
DSDEF ds_status ds_hll_load(ds_hll *h, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_hll t;
    uint64_t p;
    size_t i, m;
    ds_status st;
    if (!h) return DS_EINVAL;
    ds__dec_init(&d, r, "DShl", 1);
    p = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    if (p < 4 || p > 18) return DS_ECORRUPT;
    if (!ds__dec_room(&d, ds__hll_bytes((unsigned)p))) return d.st;
    if ((st = ds_hll_init(&t, (unsigned)p, a)) != DS_OK) return st;
    ds__get_words(&d, t.reg, ds__hll_bytes(t.p), 1);
    /* Registers above 65 - p cannot come from any hash; the pad bits stay 0. */
    m = (size_t)1 << p;
    for (i = 0; d.st == DS_OK && i < m; i++)
        if (ds__hll_get(t.reg, i) > 65 - p) d.st = DS_ECORRUPT;
    if (d.st == DS_OK && (t.reg[ds__hll_bytes(t.p) - 1] != 0 ||
                          ((6 * m) % 8 && (t.reg[(6 * m) / 8] >> ((6 * m) % 8)) != 0)))
        d.st = DS_ECORRUPT;
    if (ds__dec_end(&d) != DS_OK) {
        ds_hll_free(&t);
        return d.st;
    }
    *h = t;
    return DS_OK;
}

/* == ds:cache == */

DSDEF const char *ds_evict_name(ds_evict why) {
    switch (why) {
    case DS_EVICT_CAPACITY: return "capacity";
    case DS_EVICT_EXPIRED: return "expired";
    case DS_EVICT_DELETED: return "deleted";
    case DS_EVICT_REPLACED: return "replaced";
    default: return "?";
    }
}


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
                              ds_idem_state *state, const void **response, size_t *response_len) {
    ds__idem_key k;
    ds__idem_done *d;
    ds__idem_flymap_entry *f;
    ds__idem_fly fly;
    ds_status st;
    if (response) *response = NULL;
    if (response_len) *response_len = 0;
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
    if ((st = ds__idem_flymap_put(&s->fly, k, fly, NULL)) != DS_OK) {
        ds__idem_release(s->cfg.alloc, &k, NULL);
        return st;
    }
    *state = DS_IDEM_NEW;
    return DS_OK;
}
DSDEF ds_status ds_idem_complete(ds_idem *s, const void *scope, size_t scope_len, const void *key,
                                 size_t key_len, const void *response, size_t response_len,
                                 int64_t now) {
    ds__idem_key k;
    ds__idem_flymap_entry *f;
    ds__idem_done d;
    ds_status st;
    if (!s || (!response && response_len)) return DS_EINVAL;
    if ((st = ds__idem_key_make(s, scope, scope_len, key, key_len, &k)) != DS_OK) return st;
    f = ds__idem_fly_find(s, k);
    ds__idem_release(s->cfg.alloc, &k, NULL);
    if (!f) return DS_ENOTFOUND;
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
                                size_t key_len) {
    ds__idem_key k;
    ds__idem_flymap_entry *f;
    ds_status st;
    if (!s) return DS_EINVAL;
    if ((st = ds__idem_key_make(s, scope, scope_len, key, key_len, &k)) != DS_OK) return st;
    f = ds__idem_fly_find(s, k);
    ds__idem_release(s->cfg.alloc, &k, NULL);
    if (!f) return DS_ENOTFOUND;
    ds__idem_release(s->cfg.alloc, &f->key, NULL);
    ds__idem_flymap_del_entry(&s->fly, f);
    return DS_OK;
}
DSDEF size_t ds_idem_expire(ds_idem *s, int64_t now, size_t budget) {
    return s ? ds__idem_lru_expire(&s->done, now, budget) : 0;
}
DSDEF size_t ds_idem_in_flight(const ds_idem *s) { return s ? ds__idem_flymap_len(&s->fly) : 0; }
DSDEF size_t ds_idem_done(const ds_idem *s) { return s ? ds__idem_lru_len(&s->done) : 0; }


/* == ds:limit == */

DSDEF const char *ds_limit_algo_name(ds_limit_algo a) {
    switch (a) {
    case DS_LIMIT_TOKEN_BUCKET: return "token bucket";
    case DS_LIMIT_LEAKY_METER: return "leaky bucket (meter)";
    case DS_LIMIT_LEAKY_SHAPER: return "leaky bucket (shaper)";
    case DS_LIMIT_GCRA: return "GCRA";
    case DS_LIMIT_FIXED_WINDOW: return "fixed window";
    case DS_LIMIT_SLIDING_LOG: return "sliding log";
    case DS_LIMIT_SLIDING_COUNTER: return "sliding counter";
    default: return "?";
    }
}

/* -- 128-bit unsigned arithmetic, portable: the bucket kinds count time in
 *    units of 1/limit ns, which needs 64 + 64 bits. -- */
typedef struct ds__w128 {
    uint64_t hi, lo;
} ds__w128;
static inline ds__w128 ds__w_mul(uint64_t a, uint64_t b) {
    ds__w128 r;
    ds__mum128(&a, &b);
    r.lo = a;
    r.hi = b;
    return r;
}
static inline ds__w128 ds__w_add(ds__w128 a, ds__w128 b) {
    ds__w128 r;
    r.lo = a.lo + b.lo;
    r.hi = a.hi + b.hi + (r.lo < a.lo);
    return r;
}
static inline ds__w128 ds__w_sub(ds__w128 a, ds__w128 b) { /* a >= b */
    ds__w128 r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo);
    return r;
}
static inline int ds__w_cmp(ds__w128 a, ds__w128 b) {
    if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}
/* floor(a / d), saturated at UINT64_MAX; *rem = a mod d when it fits. */
static inline uint64_t ds__w_div(ds__w128 a, uint64_t d, uint64_t *rem) {
    uint64_t q = 0, r = a.hi;
    int i;
    if (rem) *rem = 0;
    if (a.hi == 0) {
        if (rem) *rem = a.lo % d;
        return a.lo / d;
    }
    if (a.hi >= d) return UINT64_MAX;
    for (i = 63; i >= 0; i--) { /* restoring division; r < d throughout */
        uint64_t top = r >> 63;
        r = r << 1 | (a.lo >> i & 1);
        q <<= 1;
        if (top || r >= d) {
            r -= d;
            q |= 1;
        }
    }
    if (rem) *rem = r;
    return q;
}
/* ceil(a / d) as a non-negative int64 ns count, saturated. */
static inline int64_t ds__w_ceil_ns(ds__w128 a, uint64_t d) {
    uint64_t rem, q = ds__w_div(a, d, &rem);
    if (q == UINT64_MAX || q + (rem != 0) > (uint64_t)INT64_MAX) return INT64_MAX;
    return (int64_t)(q + (rem != 0));
}
static inline ds__w128 ds__w_max(ds__w128 a, ds__w128 b) { return ds__w_cmp(a, b) < 0 ? b : a; }

/* The sliding log: a ring of (time, units) after a small header. */
typedef struct ds__llog {
    uint32_t cap, head, len, pad_;
    uint64_t sum;            /* units in the ring */
} ds__llog;
typedef struct ds__lent {
    int64_t t;
    uint64_t n;
} ds__lent;
#define DS__LOG_AT(g, i) (((ds__lent *)((g) + 1))[((g)->head + (i)) % (g)->cap])
static size_t ds__llog_bytes(uint64_t cap) { return sizeof(ds__llog) + (size_t)cap * sizeof(ds__lent); }
static void ds__llog_free(ds__lstate *s, const ds_alloc *a) {
    ds__llog *g = (ds__llog *)s->log;
    if (g) DS_FREE(a, g, ds__llog_bytes(g->cap));
    s->log = NULL;
}
/* Drop entries that left the window (t <= now - period). */
static void ds__llog_expire(ds__llog *g, int64_t now, int64_t period) {
    while (g && g->len && DS__LOG_AT(g, 0).t <= now - period) {
        g->sum -= DS__LOG_AT(g, 0).n;
        g->head = (g->head + 1) % g->cap;
        g->len--;
    }
}
/* Room for one more entry (the ring never needs more than `limit`). */
static ds_status ds__llog_reserve(ds__lstate *s, uint64_t limit, const ds_alloc *a) {
    ds__llog *g = (ds__llog *)s->log, *ng;
    uint64_t cap, i;
    if (g && g->len < g->cap) return DS_OK;
    cap = g ? (uint64_t)g->cap * 2 : 4;
    if (cap > limit) cap = limit;
    if (g && cap <= g->cap) cap = (uint64_t)g->cap + 1;
    if (cap > UINT32_MAX || cap > (SIZE_MAX - sizeof(ds__llog)) / sizeof(ds__lent)) return DS_ENOMEM;
    ng = (ds__llog *)DS_MALLOC(a, ds__llog_bytes(cap));
    if (!ng) return DS_ENOMEM;
    memset(ng, 0, sizeof *ng);
    ng->cap = (uint32_t)cap;
    if (g) {
        for (i = 0; i < g->len; i++) ((ds__lent *)(ng + 1))[i] = DS__LOG_AT(g, i);
        ng->len = g->len;
        ng->sum = g->sum;
        DS_FREE(a, g, ds__llog_bytes(g->cap));
    }
    s->log = ng;
    return DS_OK;
}

/* Bucket kinds: the state is TAT, the theoretical arrival time (Turner's
 * virtual scheduling), in units of 1/limit ns; one unit costs `period`
 * such units, and the tolerance is burst units. */
static inline ds__w128 ds__lim_tat(const ds__lstate *s) {
    ds__w128 r;
    r.hi = s->hi;
    r.lo = s->lo;
    return r;
}
static inline uint64_t ds__lim_burst(const ds_limit_config *c) { return c->burst ? c->burst : c->limit; }
static inline int ds__lim_is_bucket(ds_limit_algo a) { return a <= DS_LIMIT_GCRA; }

/* The decision for n units at `now`, without changing anything: whether
 * they fit, and the result fields as they would be after admitting (ok) or
 * refusing (!ok). `now` was already clamped to the state's own time. */
typedef struct ds__ldec {
    int ok, never;
    ds__w128 tat;            /* buckets: TAT after admitting */
    int64_t t;               /* windows: the window index now */
    uint64_t cur, prev;      /* windows: counts now (before admitting) */
} ds__ldec;

static void ds__lim_window(const ds_limit_config *c, const ds__lstate *s, int64_t now, ds__ldec *d) {
    int64_t w = now / c->period_ns;
    d->t = w;
    d->cur = s->lo;
    d->prev = s->hi;
    if (w <= s->t) {          /* same window (or the clock stepped back) */
        d->t = s->t;
    } else if (w == s->t + 1) {
        d->prev = s->lo;
        d->cur = 0;
    } else {
        d->prev = d->cur = 0;
    }
}
/* The seed's and Cloudflare's rule, n requests in a row: the estimate
 * before the last of them is below the limit:
 * prev * (period - elapsed) + (cur + n - 1) * period < limit * period. */
static int ds__lim_counter_fits(const ds_limit_config *c, uint64_t prev, uint64_t cur, uint64_t n,
                                int64_t elapsed) {
    uint64_t P = (uint64_t)c->period_ns;
    ds__w128 lhs;
    if (!n) return 1;
    if (cur > c->limit || n > c->limit - cur) return 0;
    lhs = ds__w_add(ds__w_mul(prev, P - (uint64_t)elapsed), ds__w_mul(cur + n - 1, P));
    return ds__w_cmp(lhs, ds__w_mul(c->limit, P)) < 0;
}
/* The earliest elapsed time in a window with counts (p, k) at which n
 * fits: p * (P - e) < y * P with y = limit - k - n + 1, i.e.
 * e >= P - ceil(y * P / p) + 1; P if it never fits in this window. */
static int64_t ds__lim_counter_from(const ds_limit_config *c, uint64_t p, uint64_t k, uint64_t n) {
    uint64_t P = (uint64_t)c->period_ns, rem, q;
    if (k > c->limit || n > c->limit - k) return c->period_ns;
    if (!p) return 0;
    q = ds__w_div(ds__w_mul(c->limit - k - n + 1, P), p, &rem);
    q += rem != 0;
    return q > P ? 0 : (int64_t)(P - q + 1);
}

static void ds__lim_decide(const ds_limit_config *c, const ds__lstate *s, uint64_t n, int64_t now,
                           ds__ldec *d) {
    memset(d, 0, sizeof *d);
    if (!n) { /* a look: fill the fields, admit nothing */
        ds__lim_decide(c, s, 1, now, d);
        if (ds__lim_is_bucket(c->algo)) d->tat = ds__w_sub(d->tat, ds__w_mul(1, (uint64_t)c->period_ns));
        d->ok = 1;
        d->never = 0;
        return;
    }
    switch (c->algo) {
    case DS_LIMIT_FIXED_WINDOW:
        ds__lim_window(c, s, now, d);
        d->never = n > c->limit;
        d->ok = !d->never && d->cur <= c->limit - n;
        break;
    case DS_LIMIT_SLIDING_COUNTER:
        ds__lim_window(c, s, now, d);
        d->never = n > c->limit;
        d->ok = !d->never && ds__lim_counter_fits(c, d->prev, d->cur, n, now - d->t * c->period_ns);
        break;
    case DS_LIMIT_SLIDING_LOG: {
        const ds__llog *g = (const ds__llog *)s->log;
        uint64_t sum = g ? g->sum : 0, i;
        for (i = 0; g && i < g->len && DS__LOG_AT(g, i).t <= now - c->period_ns; i++)
            sum -= DS__LOG_AT(g, i).n; /* left the window (take drops them first) */
        d->cur = sum;
        d->never = n > c->limit;
        d->ok = !d->never && sum <= c->limit - n;
        break;
    }
    default: { /* bucket kinds */
        ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit);
        ds__w128 base = ds__w_max(ds__lim_tat(s), nowL);
        ds__w128 tau = ds__w_mul(ds__lim_burst(c), (uint64_t)c->period_ns);
        ds__w128 inc = ds__w_mul(n, (uint64_t)c->period_ns);
        d->never = ds__w_cmp(inc, tau) > 0;
        d->tat = ds__w_add(base, inc);
        d->ok = !d->never && ds__w_cmp(ds__w_sub(d->tat, nowL), tau) <= 0;
        break;
    }
    }
}

static inline int64_t ds__lim_sat_add(int64_t a, int64_t b) { /* b >= 0 */
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}
/* ns from `now` (the state's own, clamped time) until the state is back at
 * rest; 0 = at rest. An offset, saturated, so it stays right near
 * INT64_MAX. */
static int64_t ds__lim_rest_in(const ds_limit_config *c, const ds__lstate *s, int64_t now) {
    ds__ldec d;
    int64_t in;
    switch (c->algo) {
    case DS_LIMIT_FIXED_WINDOW:
    case DS_LIMIT_SLIDING_COUNTER: /* counts as of now; each lasts to its window's end (+1) */
        ds__lim_window(c, s, now, &d);
        if (!d.cur && (!d.prev || c->algo == DS_LIMIT_FIXED_WINDOW)) return 0;
        in = d.t * c->period_ns - now + c->period_ns; /* window start <= now */
        return c->algo == DS_LIMIT_SLIDING_COUNTER && d.cur ? ds__lim_sat_add(in, c->period_ns) : in;
    case DS_LIMIT_SLIDING_LOG: {
        const ds__llog *g = (const ds__llog *)s->log;
        if (!g || !g->len) return 0;
        in = DS__LOG_AT(g, g->len - 1).t - now + c->period_ns; /* newest <= now */
        return in > 0 ? in : 0;
    }
    default: {
        ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit), tat = ds__lim_tat(s);
        return ds__w_cmp(tat, nowL) <= 0 ? 0 : ds__w_ceil_ns(ds__w_sub(tat, nowL), c->limit);
    }
    }
}

/* Units admissible at `now`. */
static uint64_t ds__lim_remaining(const ds_limit_config *c, const ds__lstate *s, int64_t now) {
    ds__ldec d;
    ds__lim_decide(c, s, 0, now, &d);
    switch (c->algo) {
    case DS_LIMIT_FIXED_WINDOW:
    case DS_LIMIT_SLIDING_LOG:
        return d.cur >= c->limit ? 0 : c->limit - d.cur;
    case DS_LIMIT_SLIDING_COUNTER: { /* largest m: (cur + m - 1) * P < limit * P - prev * (P - e) */
        uint64_t P = (uint64_t)c->period_ns, rem, m;
        ds__w128 cap = ds__w_mul(c->limit, P);
        ds__w128 used = ds__w_mul(d.prev, P - (uint64_t)(now - d.t * c->period_ns));
        if (ds__w_cmp(used, cap) >= 0) return 0;
        m = ds__w_div(ds__w_sub(cap, used), P, &rem);
        m += rem != 0;
        return m > d.cur ? m - d.cur : 0;
    }
    default: {
        ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit);
        ds__w128 tau = ds__w_mul(ds__lim_burst(c), (uint64_t)c->period_ns);
        ds__w128 debt = ds__w_sub(d.tat, nowL); /* d.tat = max(TAT, now) */
        return ds__w_cmp(debt, tau) >= 0 ? 0 : ds__w_div(ds__w_sub(tau, debt), (uint64_t)c->period_ns, NULL);
    }
    }
}

/* ns until n units would be admitted (0 = now, -1 = never). */
static int64_t ds__lim_wait(const ds_limit_config *c, const ds__lstate *s, uint64_t n, int64_t now) {
    ds__ldec d;
    ds__lim_decide(c, s, n, now, &d);
    if (d.never) return -1;
    if (d.ok) return 0;
    switch (c->algo) {
    case DS_LIMIT_FIXED_WINDOW:
        return d.t * c->period_ns - now + c->period_ns;
    case DS_LIMIT_SLIDING_COUNTER: { /* this window, else the next (p = k, k = 0) */
        int64_t W = d.t * c->period_ns, e = ds__lim_counter_from(c, d.prev, d.cur, n);
        if (e < c->period_ns && W + e > now) return W + e - now;
        return ds__lim_sat_add(W - now + c->period_ns, ds__lim_counter_from(c, d.cur, 0, n));
    }
    case DS_LIMIT_SLIDING_LOG: {
        const ds__llog *g = (const ds__llog *)s->log;
        uint64_t sum = d.cur, i;
        for (i = 0; i < g->len; i++) {
            const ds__lent *e = &DS__LOG_AT(g, i);
            if (e->t <= now - c->period_ns) continue;
            sum -= e->n;
            if (sum <= c->limit - n) return e->t - now + c->period_ns;
        }
        return -1; /* unreachable: sum reaches 0 */
    }
    default: { /* admitted once TAT' - tau <= now */
        ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit);
        ds__w128 tau = ds__w_mul(ds__lim_burst(c), (uint64_t)c->period_ns);
        return ds__w_ceil_ns(ds__w_sub(ds__w_sub(d.tat, tau), nowL), c->limit);
    }
    }
}

/* The state's own clock: a step back is ignored (never admits more). */
static int64_t ds__lim_clamp(const ds_limit_config *c, const ds__lstate *s, int64_t now) {
    if (c->algo == DS_LIMIT_SLIDING_LOG) {
        const ds__llog *g = (const ds__llog *)s->log;
        if (g && g->len && DS__LOG_AT(g, g->len - 1).t > now) return DS__LOG_AT(g, g->len - 1).t;
    } else if (!ds__lim_is_bucket(c->algo) && now / c->period_ns < s->t) {
        return s->t * c->period_ns;
    }
    return now;
}

/* ns until n would be admitted, from the caller's clock (the state's own
 * time may be ahead of it after a step back). */
static int64_t ds__lim_wait_from(const ds_limit_config *c, const ds__lstate *s, uint64_t n, int64_t now) {
    int64_t own = ds__lim_clamp(c, s, now), w = ds__lim_wait(c, s, n, own);
    return w > 0 ? ds__lim_sat_add(w, own - now) : w;
}
/* allow/take on a bare state: the one code path for limiters and tables. */
static ds_status ds__lim_take(const ds_limit_config *c, ds__lstate *s, uint64_t n, int64_t now,
                              const ds_alloc *a, ds_limit_result *res) {
    ds__ldec d;
    ds_status st = DS_OK;
    int64_t delay = 0, skew;
    if (now < 0) return DS_EINVAL;
    skew = ds__lim_clamp(c, s, now) - now; /* > 0: the clock stepped back */
    now += skew;
    if (c->algo == DS_LIMIT_SLIDING_LOG) ds__llog_expire((ds__llog *)s->log, now, c->period_ns);
    ds__lim_decide(c, s, n, now, &d);
    if (d.ok && n) {
        switch (c->algo) {
        case DS_LIMIT_FIXED_WINDOW:
        case DS_LIMIT_SLIDING_COUNTER:
            s->t = d.t;
            s->hi = d.prev;
            s->lo = d.cur + n;
            break;
        case DS_LIMIT_SLIDING_LOG: {
            ds__llog *g = (ds__llog *)s->log;
            if (g && g->len && DS__LOG_AT(g, g->len - 1).t == now) { /* merge */
                DS__LOG_AT(g, g->len - 1).n += n;
            } else {
                ds__lent *e;
                if ((st = ds__llog_reserve(s, c->limit, a)) != DS_OK) break;
                g = (ds__llog *)s->log;
                g->len++;
                e = &DS__LOG_AT(g, g->len - 1);
                e->t = now;
                e->n = n;
            }
            g->sum += n;
            break;
        }
        default: {
            ds__w128 nowL = ds__w_mul((uint64_t)now, c->limit);
            ds__w128 start = ds__w_sub(d.tat, ds__w_mul(n, (uint64_t)c->period_ns));
            if (ds__w_cmp(start, nowL) > 0) delay = ds__w_ceil_ns(ds__w_sub(start, nowL), c->limit);
            s->hi = d.tat.hi;
            s->lo = d.tat.lo;
            break;
        }
        }
    }
    if (res) {
        res->limit = ds__lim_is_bucket(c->algo) ? ds__lim_burst(c) : c->limit;
        res->remaining = ds__lim_remaining(c, s, now);
        /* waits are from the caller's clock: the state's own time is now + skew */
        res->retry_after_ns = d.ok && st == DS_OK ? -1 : ds__lim_wait_from(c, s, n, now - skew);
        if (res->retry_after_ns == 0) res->retry_after_ns = -1; /* admissible after ENOMEM: not a wait */
        res->reset_after_ns = ds__lim_sat_add(ds__lim_rest_in(c, s, now), skew);
        res->delay_ns = c->algo == DS_LIMIT_LEAKY_SHAPER ? ds__lim_sat_add(delay, delay ? skew : 0) : 0;
    }
    if (st != DS_OK) return st;
    return d.ok ? DS_OK : DS_EBUSY;
}

static ds_status ds__lim_check(const ds_limit_config *c) {
    if (!c || !c->limit || c->period_ns <= 0 || (unsigned)c->algo >= DS_LIMIT_ALGOS) return DS_EINVAL;
    return DS_OK;
}

/* Move a state to a new config, keeping what was admitted (see _set). */
static void ds__lim_convert(const ds_limit_config *old, const ds_limit_config *nw, ds__lstate *s,
                            int64_t now) {
    if (nw->limit == old->limit && nw->period_ns == old->period_ns) return; /* burst only: TAT holds */
    if (ds__lim_is_bucket(nw->algo)) {
        /* The debt D (1/L_old ns) is D / P_old units = q + r / P_old; in
         * the new units it is q * P_new + ceil(r * P_new / P_old). */
        ds__w128 nowL = ds__w_mul((uint64_t)now, old->limit), tat = ds__lim_tat(s), debt;
        uint64_t q = 0, r = 0, frac = 0, rem;
        if (ds__w_cmp(tat, nowL) > 0) {
            q = ds__w_div(ds__w_sub(tat, nowL), (uint64_t)old->period_ns, &r);
            frac = ds__w_div(ds__w_mul(r, (uint64_t)nw->period_ns), (uint64_t)old->period_ns, &rem);
            frac += rem != 0;
        }
        debt = ds__w_add(ds__w_mul((uint64_t)now, nw->limit), ds__w_mul(q, (uint64_t)nw->period_ns));
        debt = ds__w_add(debt, ds__w_mul(frac, 1));
        s->hi = debt.hi;
        s->lo = debt.lo;
    } else if (nw->algo != DS_LIMIT_SLIDING_LOG && nw->period_ns != old->period_ns) {
        ds__ldec d; /* the counts as of now, kept in the new window holding now */
        ds__lim_window(old, s, now, &d);
        s->lo = d.cur;
        s->hi = d.prev;
        s->t = now / nw->period_ns;
    }
}

DSDEF ds_status ds_limiter_init(ds_limiter *l, const ds_limit_config *cfg, const ds_alloc *a) {
    if (!l || ds__lim_check(cfg) != DS_OK) return DS_EINVAL;
    memset(l, 0, sizeof *l);
    l->cfg = *cfg;
    l->alloc = a;
    return DS_OK;
}
DSDEF void ds_limiter_free(ds_limiter *l) {
    if (l) ds__llog_free(&l->s, l->alloc);
}
DSDEF void ds_limiter_reset(ds_limiter *l) {
    if (!l) return;
    ds__llog_free(&l->s, l->alloc);
    memset(&l->s, 0, sizeof l->s);
}
DSDEF ds_status ds_limiter_allow(ds_limiter *l, uint64_t n, int64_t now) {
    return l ? ds__lim_take(&l->cfg, &l->s, n, now, l->alloc, NULL) : DS_EINVAL;
}
DSDEF ds_status ds_limiter_take(ds_limiter *l, uint64_t n, int64_t now, ds_limit_result *res) {
    return l ? ds__lim_take(&l->cfg, &l->s, n, now, l->alloc, res) : DS_EINVAL;
}
DSDEF int64_t ds_limiter_wait_ns(const ds_limiter *l, uint64_t n, int64_t now) {
    if (!l || now < 0) return -1;
    return ds__lim_wait_from(&l->cfg, &l->s, n, now);
}
DSDEF uint64_t ds_limiter_remaining(const ds_limiter *l, int64_t now) {
    if (!l || now < 0) return 0;
    return ds__lim_remaining(&l->cfg, &l->s, ds__lim_clamp(&l->cfg, &l->s, now));
}
DSDEF ds_status ds_limiter_set(ds_limiter *l, uint64_t limit, int64_t period_ns, uint64_t burst,
                               int64_t now) {
    ds_limit_config c;
    if (!l || now < 0) return DS_EINVAL;
    c = l->cfg;
    c.limit = limit;
    c.period_ns = period_ns;
    c.burst = burst;
    if (ds__lim_check(&c) != DS_OK) return DS_EINVAL;
    ds__lim_convert(&l->cfg, &c, &l->s, ds__lim_clamp(&l->cfg, &l->s, now));
    l->cfg = c;
    return DS_OK;
}

/* -- keyed table: open addressing (one cache line per decision) with CLOCK
 *    replacement; whether a key is at rest is computed from its state -- */
/* At rest = the same as an absent key. */
static inline int ds__ltab_at_rest(const ds_limiter_table *t, const ds__lstate *s, int64_t now) {
    return ds__lim_rest_in(&t->cfg, s, ds__lim_clamp(&t->cfg, s, now)) == 0;
}
static inline size_t ds__ltab_home(const ds_limiter_table *t, uint64_t key) {
    uint64_t lo = ds_hash_u64(key, t->seed), hi = t->nslots;
    ds__mum128(&lo, &hi); /* the hash scaled to [0, nslots): any slot count works */
    return (size_t)hi;
}
static inline size_t ds__ltab_find(const ds_limiter_table *t, uint64_t key) {
    size_t i;
    if (!t->nslots) return SIZE_MAX;
    for (i = ds__ltab_home(t, key); t->slots[i].used; i = i + 1 == t->nslots ? 0 : i + 1)
        if (t->slots[i].key == key) return i;
    return SIZE_MAX;
}
/* Remove slot i, shifting later members of its run back (Knuth 6.4 R). */
static void ds__ltab_remove(ds_limiter_table *t, size_t i) {
    size_t j = i;
    ds__llog_free(&t->slots[i].s, t->alloc);
    for (;;) {
        size_t h;
        t->slots[i].used = 0;
        do {
            j = j + 1 == t->nslots ? 0 : j + 1;
            if (!t->slots[j].used) { t->len--; return; }
            h = ds__ltab_home(t, t->slots[j].key);
        } while (i <= j ? (i < h && h <= j) : (i < h || h <= j)); /* j's home lies in (i, j]: stays */
        t->slots[i] = t->slots[j];
        i = j;
    }
}
static void ds__ltab_place(ds_limiter_table *t, const ds__lslot *e) {
    size_t i = ds__ltab_home(t, e->key);
    while (t->slots[i].used) i = i + 1 == t->nslots ? 0 : i + 1;
    t->slots[i] = *e;
}
/* Room for one more key: grow the slot array, or evict. The victim is
 * picked as Redis picks (approximated LRU): among a few random slots, a
 * key at rest if there is one (lossless), else the least recently used.
 * Random picks keep the occupied slots spread evenly, which linear probing
 * needs; a sweeping hand would leave a dense region ahead of it. */
#define DS__LTAB_SAMPLES 5
static ds_status ds__ltab_make_room(ds_limiter_table *t, int64_t now) {
    if (t->len + 1 > t->nslots / 5 * 4 && t->nslots < t->max_slots) {
        size_t n = t->nslots ? t->nslots * 2 : 64, i, old = t->nslots;
        ds__lslot *ns, *os = t->slots;
        if (n > t->max_slots) n = t->max_slots;
        ns = (ds__lslot *)DS_MALLOC(t->alloc, n * sizeof *ns);
        if (!ns) return DS_ENOMEM;
        memset(ns, 0, n * sizeof *ns);
        t->slots = ns;
        t->nslots = n;
        for (i = 0; i < old; i++)
            if (os[i].used) ds__ltab_place(t, &os[i]);
        if (os) DS_FREE(t->alloc, os, old * sizeof *os);
    }
    if (t->len >= t->capacity) {
        uint32_t tick = (uint32_t)((uint64_t)now >> 20), oldest = 0;
        size_t victim = SIZE_MAX, k = 0;
        while (k < DS__LTAB_SAMPLES || victim == SIZE_MAX) {
            size_t i = (size_t)ds_rng_below(&t->rng, t->nslots);
            if (!t->slots[i].used) continue;
            k++;
            if (ds__ltab_at_rest(t, &t->slots[i].s, now)) {
                t->stats.idle_evictions++;
                ds__ltab_remove(t, i);
                return DS_OK;
            }
            if (victim == SIZE_MAX || (uint32_t)(tick - t->slots[i].tick) > oldest) {
                victim = i;
                oldest = (uint32_t)(tick - t->slots[i].tick);
            }
        }
        t->stats.forced_evictions++;
        ds__ltab_remove(t, victim);
    }
    return DS_OK;
}
/* Worst-case bytes per key: its share of the slots (at 4/5 load), and a
 * full sliding log. */
static size_t ds__ltab_key_bytes(const ds_limit_config *c) {
    size_t b = sizeof(ds__lslot) * 5 / 4;
    if (c->algo == DS_LIMIT_SLIDING_LOG)
        b += c->limit > (SIZE_MAX / 4) / sizeof(ds__lent) ? SIZE_MAX / 4 : ds__llog_bytes(c->limit);
    return b;
}
DSDEF ds_status ds_limiter_table_init(ds_limiter_table *t, const ds_limiter_table_config *cfg) {
    size_t budget;
    if (!t || !cfg || ds__lim_check(&cfg->per_key) != DS_OK) return DS_EINVAL;
    memset(t, 0, sizeof *t);
    budget = cfg->max_bytes ? cfg->max_bytes : (size_t)64 << 20;
    t->key_bytes = ds__ltab_key_bytes(&cfg->per_key);
    t->capacity = budget / t->key_bytes;
    if (t->capacity < 16) return DS_EINVAL;
    t->max_slots = t->capacity / 4 * 5;
    t->capacity = t->max_slots / 5 * 4;
    t->cfg = cfg->per_key;
    t->alloc = cfg->alloc;
    t->seed = cfg->seed ? cfg->seed : ds__map_default_seed((uintptr_t)(void *)t);
    ds_rng_seed(&t->rng, t->seed ^ 0x6c696d6974ull);
    return DS_OK;
}
DSDEF void ds_limiter_table_free(ds_limiter_table *t) {
    size_t i;
    if (!t) return;
    for (i = 0; i < t->nslots; i++)
        if (t->slots[i].used) ds__llog_free(&t->slots[i].s, t->alloc);
    if (t->slots) DS_FREE(t->alloc, t->slots, t->nslots * sizeof *t->slots);
    t->slots = NULL;
    t->nslots = t->len = 0;
}
DSDEF ds_status ds_limiter_table_take(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now,
                                      ds_limit_result *res) {
    ds__lslot fresh;
    ds_status st;
    size_t i;
    if (!t || now < 0) return DS_EINVAL;
    if ((i = ds__ltab_find(t, key)) != SIZE_MAX) {
        t->slots[i].tick = (uint32_t)((uint64_t)now >> 20);
        st = ds__lim_take(&t->cfg, &t->slots[i].s, n, now, t->alloc, res);
    } else {
        memset(&fresh, 0, sizeof fresh);
        st = ds__lim_take(&t->cfg, &fresh.s, n, now, t->alloc, res);
        if (ds__ltab_at_rest(t, &fresh.s, now)) {
            ds__llog_free(&fresh.s, t->alloc); /* nothing to remember */
        } else {
            ds_status ps = ds__ltab_make_room(t, now);
            if (ps != DS_OK) { /* refused: report the key as it stays, at rest */
                ds__llog_free(&fresh.s, t->alloc);
                memset(&fresh, 0, sizeof fresh);
                if (res) ds__lim_take(&t->cfg, &fresh.s, 0, now, NULL, res);
                return ps;
            }
            fresh.key = key;
            fresh.used = 1;
            fresh.tick = (uint32_t)((uint64_t)now >> 20);
            ds__ltab_place(t, &fresh);
            t->len++;
            t->stats.new_keys++;
        }
    }
    if (st == DS_OK) t->stats.allowed++;
    else if (st == DS_EBUSY) t->stats.refused++;
    return st;
}
DSDEF ds_status ds_limiter_table_allow(ds_limiter_table *t, uint64_t key, uint64_t n, int64_t now) {
    return ds_limiter_table_take(t, key, n, now, NULL);
}
DSDEF uint64_t ds_limiter_table_hash(const ds_limiter_table *t, const void *key, size_t len) {
    return t && (key || !len) ? ds_hash_bytes(key, len, t->seed) : 0;
}
DSDEF ds_status ds_limiter_table_allow_str(ds_limiter_table *t, const void *key, size_t len,
                                           uint64_t n, int64_t now) {
    if (!t || (!key && len)) return DS_EINVAL;
    return ds_limiter_table_take(t, ds_limiter_table_hash(t, key, len), n, now, NULL);
}
DSDEF int64_t ds_limiter_table_wait_ns(const ds_limiter_table *t, uint64_t key, uint64_t n,
                                       int64_t now) {
    ds__lstate rest;
    size_t i;
    if (!t || now < 0) return -1;
    if ((i = ds__ltab_find(t, key)) != SIZE_MAX) return ds__lim_wait_from(&t->cfg, &t->slots[i].s, n, now);
    memset(&rest, 0, sizeof rest);
    return ds__lim_wait(&t->cfg, &rest, n, now);
}
DSDEF ds_status ds_limiter_table_set(ds_limiter_table *t, uint64_t limit, int64_t period_ns,
                                     uint64_t burst, int64_t now) {
    ds_limit_config c;
    size_t i;
    if (!t || now < 0) return DS_EINVAL;
    c = t->cfg;
    c.limit = limit;
    c.period_ns = period_ns;
    c.burst = burst;
    if (ds__lim_check(&c) != DS_OK) return DS_EINVAL;
    /* The capacity was sized for the first config: a sliding log may not
     * grow past the limit it had then. */
    if (ds__ltab_key_bytes(&c) > t->key_bytes) return DS_EINVAL;
    for (i = 0; i < t->nslots; i++)
        if (t->slots[i].used) {
            ds__lstate *s = &t->slots[i].s;
            ds__lim_convert(&t->cfg, &c, s, ds__lim_clamp(&t->cfg, s, now));
        }
    t->cfg = c;
    return DS_OK;
}
DSDEF size_t ds_limiter_table_expire(ds_limiter_table *t, int64_t now, size_t budget) {
    size_t dropped = 0, seen;
    if (!t) return 0;
    /* One sweep from the CLOCK hand; a removal shifts a later key into
     * this slot, so the slot is looked at again. */
    for (seen = 0; seen < t->nslots && dropped < budget;) {
        if (t->hand >= t->nslots) t->hand = 0;
        if (t->slots[t->hand].used && ds__ltab_at_rest(t, &t->slots[t->hand].s, now)) {
            ds__ltab_remove(t, t->hand);
            t->stats.idle_evictions++;
            dropped++;
        } else {
            t->hand++;
            seen++;
        }
    }
    return dropped;
}
DSDEF size_t ds_limiter_table_len(const ds_limiter_table *t) { return t ? t->len : 0; }
DSDEF size_t ds_limiter_table_capacity(const ds_limiter_table *t) { return t ? t->capacity : 0; }
DSDEF size_t ds_limiter_table_memory(const ds_limiter_table *t) {
    size_t b, i;
    if (!t) return 0;
    b = t->nslots * sizeof *t->slots;
    for (i = 0; i < t->nslots; i++) {
        const ds__llog *g = t->slots[i].used ? (const ds__llog *)t->slots[i].s.log : NULL;
        if (g) b += ds__llog_bytes(g->cap);
    }
    return b;
}
DSDEF ds_limit_stats ds_limiter_table_stats(const ds_limiter_table *t) {
    ds_limit_stats z;
    if (t) return t->stats;
    memset(&z, 0, sizeof z);
    return z;
}

/* == ds:geohash == */

static const char ds__geo_b32[33] = "0123456789bcdefghjkmnpqrstuvwxyz";

/* The base32 value of a character, or -1. */
static int ds__geo_val(unsigned char c) {
    static const signed char tab[128] = {
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, 10, 11, 12, 13, 14, 15, 16, -1, 17, 18, -1, 19, 20, -1,
        21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, -1, -1, -1, -1, -1,
    };
    return c < 128 ? tab[c] : -1;
}

static int ds__geo_ok(double lat, double lon) {
    return lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0; /* NaN fails */
}

/* Spread the low 32 bits of x to the even bit positions, and back. */
static uint64_t ds__geo_spread(uint64_t x) {
    x &= 0xffffffffu;
    x = (x | (x << 16)) & 0x0000ffff0000ffffull;
    x = (x | (x << 8)) & 0x00ff00ff00ff00ffull;
    x = (x | (x << 4)) & 0x0f0f0f0f0f0f0f0full;
    x = (x | (x << 2)) & 0x3333333333333333ull;
    x = (x | (x << 1)) & 0x5555555555555555ull;
    return x;
}
static uint64_t ds__geo_squeeze(uint64_t x) {
    x &= 0x5555555555555555ull;
    x = (x | (x >> 1)) & 0x3333333333333333ull;
    x = (x | (x >> 2)) & 0x0f0f0f0f0f0f0f0full;
    x = (x | (x >> 4)) & 0x00ff00ff00ff00ffull;
    x = (x | (x >> 8)) & 0x0000ffff0000ffffull;
    x = (x | (x >> 16)) & 0x00000000ffffffffull;
    return x;
}

/* Lower edge of cell q of 2^n over [lo, lo + span): exact in binary for
 * n <= 32 (q * span needs 41 bits, the sum at most n + 9). */
static double ds__geo_edge(double lo, double span, unsigned n, uint64_t q) {
    return lo + (double)q * (span / (double)((uint64_t)1 << n));
}

/* The cell of v among 2^n equal cells over [lo, lo + span], the last one
 * closed: scaled, then corrected against the exact edges. */
static uint64_t ds__geo_cell(double v, double lo, double span, unsigned n) {
    uint64_t cells = (uint64_t)1 << n, q;
    double f = (v - lo) / span * (double)cells;
    if (n == 0) return 0;
    q = f <= 0 ? 0 : f >= (double)cells ? cells - 1 : (uint64_t)f;
    while (q > 0 && v < ds__geo_edge(lo, span, n, q)) q--;
    while (q + 1 < cells && v >= ds__geo_edge(lo, span, n, q + 1)) q++;
    return q;
}

static uint64_t ds__geo_join(uint64_t qx, uint64_t qy, int bits) {
    return (bits & 1) ? ds__geo_spread(qx) | (ds__geo_spread(qy) << 1)
                      : (ds__geo_spread(qx) << 1) | ds__geo_spread(qy);
}
static void ds__geo_split(uint64_t h, int bits, uint64_t *qx, uint64_t *qy) {
    *qx = ds__geo_squeeze((bits & 1) ? h : h >> 1);
    *qy = ds__geo_squeeze((bits & 1) ? h >> 1 : h);
}

static int ds__geo_bits_ok(uint64_t h, int bits) {
    return bits >= 1 && bits <= 64 && (bits == 64 || (h >> bits) == 0);
}

DSDEF ds_status ds_geohash_encode_int(double lat, double lon, int bits, uint64_t *out) {
    unsigned nx, ny;
    if (!out || bits < 1 || bits > 64 || !ds__geo_ok(lat, lon)) return DS_EINVAL;
    nx = (unsigned)(bits + 1) / 2;
    ny = (unsigned)bits / 2;
    *out = ds__geo_join(ds__geo_cell(lon, -180.0, 360.0, nx), ds__geo_cell(lat, -90.0, 180.0, ny), bits);
    return DS_OK;
}

DSDEF ds_status ds_geohash_from_int(uint64_t h, int precision, char *out) {
    int i;
    if (!out || precision < 1 || precision > DS_GEOHASH_MAX || !ds__geo_bits_ok(h, 5 * precision))
        return DS_EINVAL;
    for (i = precision - 1; i >= 0; i--) {
        out[i] = ds__geo_b32[h & 31u];
        h >>= 5;
    }
    out[precision] = '\0';
    return DS_OK;
}

DSDEF ds_status ds_geohash_encode(double lat, double lon, int precision, char *out) {
    uint64_t h;
    if (!out || precision < 1 || precision > DS_GEOHASH_MAX) return DS_EINVAL;
    if (ds_geohash_encode_int(lat, lon, 5 * precision, &h) != DS_OK) return DS_EINVAL;
    return ds_geohash_from_int(h, precision, out);
}

DSDEF ds_status ds_geohash_to_int(const char *hash, size_t len, uint64_t *h) {
    uint64_t v = 0;
    size_t i;
    if (!hash || !h || len < 1 || len > DS_GEOHASH_MAX) return DS_EINVAL;
    for (i = 0; i < len; i++) {
        int d = ds__geo_val((unsigned char)hash[i]);
        if (d < 0) return DS_EINVAL;
        v = (v << 5) | (uint64_t)d;
    }
    *h = v;
    return DS_OK;
}

DSDEF ds_status ds_geohash_bbox_int(uint64_t h, int bits, ds_geo_box *box) {
    uint64_t qx, qy;
    unsigned nx, ny;
    if (!box || !ds__geo_bits_ok(h, bits)) return DS_EINVAL;
    nx = (unsigned)(bits + 1) / 2;
    ny = (unsigned)bits / 2;
    ds__geo_split(h, bits, &qx, &qy);
    box->lon_min = ds__geo_edge(-180.0, 360.0, nx, qx);
    box->lon_max = ds__geo_edge(-180.0, 360.0, nx, qx + 1);
    box->lat_min = ds__geo_edge(-90.0, 180.0, ny, qy);
    box->lat_max = ds__geo_edge(-90.0, 180.0, ny, qy + 1);
    return DS_OK;
}

DSDEF ds_status ds_geohash_bbox(const char *hash, size_t len, ds_geo_box *box) {
    uint64_t h;
    if (!box || ds_geohash_to_int(hash, len, &h) != DS_OK) return DS_EINVAL;
    return ds_geohash_bbox_int(h, (int)(5 * len), box);
}

DSDEF ds_status ds_geohash_decode(const char *hash, size_t len, double *lat, double *lon,
                                  double *lat_err, double *lon_err) {
    ds_geo_box b;
    if (ds_geohash_bbox(hash, len, &b) != DS_OK) return DS_EINVAL;
    /* Halving the sum of two exact edges is exact here: no overflow. */
    if (lat) *lat = (b.lat_min + b.lat_max) * 0.5;
    if (lon) *lon = (b.lon_min + b.lon_max) * 0.5;
    if (lat_err) *lat_err = (b.lat_max - b.lat_min) * 0.5;
    if (lon_err) *lon_err = (b.lon_max - b.lon_min) * 0.5;
    return DS_OK;
}

DSDEF ds_status ds_geohash_neighbor_int(uint64_t h, int bits, int dir, uint64_t *out) {
    static const signed char dx[8] = {0, 1, 1, 1, 0, -1, -1, -1};
    static const signed char dy[8] = {1, 1, 0, -1, -1, -1, 0, 1};
    uint64_t qx, qy, mx, ny_cells;
    unsigned nx, ny;
    if (!out || !ds__geo_bits_ok(h, bits) || dir < 0 || dir > 7) return DS_EINVAL;
    nx = (unsigned)(bits + 1) / 2;
    ny = (unsigned)bits / 2;
    ds__geo_split(h, bits, &qx, &qy);
    mx = ((uint64_t)1 << nx) - 1;
    ny_cells = (uint64_t)1 << ny;
    if ((dy[dir] > 0 && qy + 1 >= ny_cells) || (dy[dir] < 0 && qy == 0)) return DS_ENOTFOUND;
    qy = dy[dir] > 0 ? qy + 1 : dy[dir] < 0 ? qy - 1 : qy;
    qx = (dx[dir] > 0 ? qx + 1 : dx[dir] < 0 ? qx - 1 : qx) & mx; /* longitude wraps */
    *out = ds__geo_join(qx, qy, bits);
    return DS_OK;
}

DSDEF ds_status ds_geohash_neighbor(const char *hash, size_t len, int dir, char *out) {
    uint64_t h, n;
    ds_status st;
    if (!out || ds_geohash_to_int(hash, len, &h) != DS_OK) return DS_EINVAL;
    st = ds_geohash_neighbor_int(h, (int)(5 * len), dir, &n);
    if (st != DS_OK) return st;
    return ds_geohash_from_int(n, (int)len, out);
}

DSDEF ds_status ds_geohash_neighbors(const char *hash, size_t len, char out[8][DS_GEOHASH_MAX + 1],
                                     int *n) {
    uint64_t h, nb[8];
    int d, cnt = 0, has[8];
    if (!out || ds_geohash_to_int(hash, len, &h) != DS_OK) return DS_EINVAL;
    for (d = 0; d < 8; d++) has[d] = ds_geohash_neighbor_int(h, (int)(5 * len), d, &nb[d]) == DS_OK;
    for (d = 0; d < 8; d++) {
        if (has[d]) {
            (void)ds_geohash_from_int(nb[d], (int)len, out[d]);
            cnt++;
        } else {
            out[d][0] = '\0';
        }
    }
    if (n) *n = cnt;
    return DS_OK;
}

DSDEF double ds_geo_distance(double lat1, double lon1, double lat2, double lon2) {
    const double rad = 3.14159265358979323846 / 180.0;
    double sdlat = sin((lat2 - lat1) * rad * 0.5), sdlon = sin((lon2 - lon1) * rad * 0.5);
    double a = sdlat * sdlat + cos(lat1 * rad) * cos(lat2 * rad) * sdlon * sdlon;
    if (a > 1.0) a = 1.0;
    return 2.0 * DS_GEO_EARTH_RADIUS_M * atan2(sqrt(a), sqrt(1.0 - a));
}

DSDEF ds_status ds_geo_circle_box(double lat, double lon, double radius_m, ds_geo_box *box) {
    const double deg = 180.0 / 3.14159265358979323846, eps = 1e-9;
    double d, dlon;
    if (!box || !ds__geo_ok(lat, lon) || !(radius_m >= 0.0) || radius_m > 1e300) return DS_EINVAL;
    d = radius_m / DS_GEO_EARTH_RADIUS_M; /* angular radius, radians */
    box->lat_min = lat - d * deg - eps;
    box->lat_max = lat + d * deg + eps;
    box->lon_min = -180.0;
    box->lon_max = 180.0;
    if (box->lat_min <= -90.0 || box->lat_max >= 90.0 || d >= 3.14159265358979323846 / 2) {
        /* A pole is inside: every longitude. */
        if (box->lat_min < -90.0) box->lat_min = -90.0;
        if (box->lat_max > 90.0) box->lat_max = 90.0;
        return DS_OK;
    }
    /* Matuschek: the circle's extreme longitudes are at asin(sin d / cos lat). */
    dlon = asin(sin(d) / cos(lat / deg)) * deg + eps;
    if (!(dlon < 180.0)) return DS_OK;
    box->lon_min = lon - dlon;
    box->lon_max = lon + dlon;
    if (box->lon_min < -180.0) box->lon_min += 360.0;
    if (box->lon_max > 180.0) box->lon_max -= 360.0;
    return DS_OK;
}

/* Column and row ranges of the cells of `bits` meeting a box, and their count. */
typedef struct ds__geo_span {
    uint64_t x_lo, x_hi, y_lo, y_hi, cols, count;
    int wrap;
} ds__geo_span;

static void ds__geo_span_of(const ds_geo_box *b, int bits, ds__geo_span *s) {
    unsigned nx = (unsigned)(bits + 1) / 2, ny = (unsigned)bits / 2;
    uint64_t ncols = (uint64_t)1 << nx;
    s->y_lo = ds__geo_cell(b->lat_min, -90.0, 180.0, ny);
    s->y_hi = ds__geo_cell(b->lat_max, -90.0, 180.0, ny);
    s->x_lo = ds__geo_cell(b->lon_min, -180.0, 360.0, nx);
    s->x_hi = ds__geo_cell(b->lon_max, -180.0, 360.0, nx);
    s->wrap = b->lon_min > b->lon_max;
    if (s->wrap && s->x_lo <= s->x_hi) { /* the two pieces meet: every column */
        s->wrap = 0;
        s->x_lo = 0;
        s->x_hi = ncols - 1;
    }
    s->cols = s->wrap ? (ncols - s->x_lo) + s->x_hi + 1 : s->x_hi - s->x_lo + 1;
    s->count = s->cols * (s->y_hi - s->y_lo + 1);
}

DSDEF ds_status ds_geohash_cover(double lat, double lon, double radius_m, ds_geohash_cells *out) {
    ds_geo_box b;
    ds__geo_span s;
    uint64_t centre, y, c, ncols;
    int p, best = 1, bits, n = 0;
    if (!out || ds_geo_circle_box(lat, lon, radius_m, &b) != DS_OK) return DS_EINVAL;
    for (p = 1; p <= DS_GEOHASH_MAX; p++) { /* the count only grows with p */
        ds__geo_span_of(&b, 5 * p, &s);
        if (s.count > 9) break;
        best = p;
    }
    bits = 5 * best;
    ds__geo_span_of(&b, bits, &s);
    DS_ASSERT(s.count <= DS_GEOHASH_COVER_MAX);
    ncols = (uint64_t)1 << ((unsigned)(bits + 1) / 2);
    (void)ds_geohash_encode_int(lat, lon, bits, &centre);
    out->precision = best;
    out->hash[n++] = centre;
    for (y = s.y_lo; y <= s.y_hi; y++) {
        for (c = 0; c < s.cols; c++) {
            uint64_t x = (s.x_lo + c) & (ncols - 1), h = ds__geo_join(x, y, bits);
            if (h != centre) out->hash[n++] = h;
        }
    }
    out->n = n;
    for (p = 0; p < n; p++) (void)ds_geohash_from_int(out->hash[p], best, out->cell[p]);
    return DS_OK;
}

/* == ds:quadtree == */

#define DS__QT_NIL UINT32_MAX
/* 2^-50: kNN prunes a box only when it is farther than the k-th best by
 * this much relative, so an FMA-contracted distance cannot lose a tie. */
#define DS__QT_SLACK (1.0 / 1125899906842624.0)

/* Finite (not NaN, not infinite). */
static int ds__qt_finite(double v) { return v - v == 0.0; }

static uint32_t *ds__qt_hdr(const ds_quadtree *q, uint32_t b) {
    return (uint32_t *)(void *)(q->blk + (size_t)b * q->blk_stride);
}
static double *ds__qt_bx(const ds_quadtree *q, uint32_t b) {
    return (double *)(void *)(q->blk + (size_t)b * q->blk_stride + 8);
}
/* y follows x, id follows y, each `bucket` long. */
#define DS__QT_BY(q, bx) ((bx) + (q)->bucket)
#define DS__QT_BID(q, bx) ((uint64_t *)(void *)((bx) + 2 * (size_t)(q)->bucket))

static double ds__qt_mid(double a, double b) { return a * 0.5 + b * 0.5; }

/* Queries touch leaf buckets scattered through the pool: ask for a leaf's
 * three arrays (first lines) before they are read, so the misses of the
 * leaves under one node overlap instead of coming one after another. */
#if defined(__GNUC__) || defined(__clang__)
#define DS__QT_PREFETCH(p) __builtin_prefetch(p)
#else
#define DS__QT_PREFETCH(p) ((void)0)
#endif
static void ds__qt_prefetch(const ds_quadtree *q, uint32_t ni) {
    uint32_t b = q->node[ni].blk;
    if (b != DS__QT_NIL) {
        const unsigned char *p = q->blk + (size_t)b * q->blk_stride;
        DS__QT_PREFETCH(p);
        DS__QT_PREFETCH(p + 8 + 8 * (size_t)q->bucket);
        DS__QT_PREFETCH(p + 8 + 16 * (size_t)q->bucket);
    }
}

DSDEF ds_status ds_quadtree_init(ds_quadtree *q, const ds_quadtree_config *cfg) {
    uint32_t bucket, depth;
    if (!q || !cfg) return DS_EINVAL;
    if (!(cfg->x_min < cfg->x_max) || !(cfg->y_min < cfg->y_max) || !ds__qt_finite(cfg->x_min) ||
        !ds__qt_finite(cfg->x_max) || !ds__qt_finite(cfg->y_min) || !ds__qt_finite(cfg->y_max))
        return DS_EINVAL;
    bucket = cfg->bucket ? cfg->bucket : 32;
    depth = cfg->max_depth ? cfg->max_depth : 32;
    if (bucket > 256 || depth > 40) return DS_EINVAL;
    memset(q, 0, sizeof *q);
    q->x0 = cfg->x_min;
    q->y0 = cfg->y_min;
    q->x1 = cfg->x_max;
    q->y1 = cfg->y_max;
    q->bucket = bucket;
    q->max_depth = depth;
    q->merge_at = bucket / 2;
    q->node_free = q->blk_free = DS__QT_NIL;
    q->blk_stride = 8 + 24 * (size_t)bucket;
    q->alloc = cfg->alloc;
    return DS_OK;
}

DSDEF void ds_quadtree_free(ds_quadtree *q) {
    if (!q) return;
    if (q->node) DS_FREE(q->alloc, q->node, (size_t)q->node_cap * sizeof(ds__qtnode));
    if (q->blk) DS_FREE(q->alloc, q->blk, (size_t)q->blk_cap * q->blk_stride);
    q->node = NULL;
    q->blk = NULL;
    q->node_cap = q->node_hw = q->blk_cap = q->blk_hw = 0;
    q->node_free = q->blk_free = DS__QT_NIL;
    q->len = 0;
}

DSDEF void ds_quadtree_clear(ds_quadtree *q) {
    if (!q) return;
    q->node_hw = q->blk_hw = 0;
    q->node_free = q->blk_free = DS__QT_NIL;
    q->len = 0;
}

DSDEF size_t ds_quadtree_len(const ds_quadtree *q) { return q ? q->len : 0; }

DSDEF size_t ds_quadtree_memory(const ds_quadtree *q) {
    return q ? (size_t)q->node_cap * sizeof(ds__qtnode) + (size_t)q->blk_cap * q->blk_stride : 0;
}

/* Room for `nodes` more nodes and `blocks` more buckets past the
 * high-water marks (free lists aside): after this, nothing can fail. */
static ds_status ds__qt_reserve(ds_quadtree *q, uint32_t nodes, uint32_t blocks) {
    if ((uint64_t)q->node_hw + nodes > q->node_cap) {
        uint64_t want = (uint64_t)q->node_hw + nodes, cap = (uint64_t)q->node_cap * 2;
        size_t bytes;
        void *p;
        if (cap < want) cap = want;
        if (cap < 64) cap = 64;
        if (cap >= DS__QT_NIL) cap = DS__QT_NIL - 1;
        if (cap < want || !ds_size_mul((size_t)cap, sizeof(ds__qtnode), &bytes)) return DS_ENOMEM;
        p = q->node ? DS_REALLOC(q->alloc, q->node, (size_t)q->node_cap * sizeof(ds__qtnode), bytes)
                    : DS_MALLOC(q->alloc, bytes);
        if (!p) return DS_ENOMEM;
        q->node = (ds__qtnode *)p;
        q->node_cap = (uint32_t)cap;
    }
    if ((uint64_t)q->blk_hw + blocks > q->blk_cap) {
        uint64_t want = (uint64_t)q->blk_hw + blocks, cap = (uint64_t)q->blk_cap * 2;
        size_t bytes;
        void *p;
        if (cap < want) cap = want;
        if (cap < 16) cap = 16;
        if (cap >= DS__QT_NIL) cap = DS__QT_NIL - 1;
        if (cap < want || !ds_size_mul((size_t)cap, q->blk_stride, &bytes)) return DS_ENOMEM;
        p = q->blk ? DS_REALLOC(q->alloc, q->blk, (size_t)q->blk_cap * q->blk_stride, bytes)
                   : DS_MALLOC(q->alloc, bytes);
        if (!p) return DS_ENOMEM;
        q->blk = (unsigned char *)p;
        q->blk_cap = (uint32_t)cap;
    }
    return DS_OK;
}

static uint32_t ds__qt_new_blk(ds_quadtree *q) {
    uint32_t b, *h;
    if (q->blk_free != DS__QT_NIL) {
        b = q->blk_free;
        q->blk_free = ds__qt_hdr(q, b)[0];
    } else {
        DS_ASSERT(q->blk_hw < q->blk_cap);
        b = q->blk_hw++;
    }
    h = ds__qt_hdr(q, b);
    h[0] = DS__QT_NIL;
    h[1] = 0;
    return b;
}
static void ds__qt_free_blk(ds_quadtree *q, uint32_t b) {
    ds__qt_hdr(q, b)[0] = q->blk_free;
    q->blk_free = b;
}

/* Four fresh empty leaves; returns the first. */
static uint32_t ds__qt_new_group(ds_quadtree *q) {
    uint32_t g, i;
    if (q->node_free != DS__QT_NIL) {
        g = q->node_free;
        q->node_free = q->node[g].kids;
    } else {
        DS_ASSERT(q->node_hw + 4 <= q->node_cap);
        g = q->node_hw;
        q->node_hw += 4;
    }
    for (i = 0; i < 4; i++) {
        q->node[g + i].kids = DS__QT_NIL;
        q->node[g + i].count = 0;
        q->node[g + i].blk = DS__QT_NIL;
    }
    return g;
}
static void ds__qt_free_group(ds_quadtree *q, uint32_t g) {
    q->node[g].kids = q->node_free;
    q->node_free = g;
}

/* Append one point to leaf ni's chain (room reserved). Every bucket but
 * the head is full; a full head gets a new head in front. */
static void ds__qt_leaf_add(ds_quadtree *q, uint32_t ni, double x, double y, uint64_t id) {
    uint32_t b = q->node[ni].blk, *h;
    double *bx;
    if (b == DS__QT_NIL || ds__qt_hdr(q, b)[1] == q->bucket) {
        uint32_t nb = ds__qt_new_blk(q);
        ds__qt_hdr(q, nb)[0] = b;
        q->node[ni].blk = b = nb;
    }
    h = ds__qt_hdr(q, b);
    bx = ds__qt_bx(q, b);
    bx[h[1]] = x;
    DS__QT_BY(q, bx)[h[1]] = y;
    DS__QT_BID(q, bx)[h[1]] = id;
    h[1]++;
}

/* Split leaf ni (at `depth`, box x0..y1) holding the n points in px/py/pid
 * (its old bucket already freed), cascading while they all fall in one
 * quadrant. Room reserved by the caller. */
static void ds__qt_split(ds_quadtree *q, uint32_t ni, uint32_t depth, double x0, double y0,
                         double x1, double y1, const double *px, const double *py,
                         const uint64_t *pid, uint32_t n) {
    uint32_t i;
    for (;;) {
        double mx, my;
        uint32_t g, cnt[4] = {0, 0, 0, 0}, k;
        unsigned char quad[257];
        if (n <= q->bucket || depth >= q->max_depth) {
            q->node[ni].blk = DS__QT_NIL;
            for (i = 0; i < n; i++) ds__qt_leaf_add(q, ni, px[i], py[i], pid[i]);
            return;
        }
        mx = ds__qt_mid(x0, x1);
        my = ds__qt_mid(y0, y1);
        for (i = 0; i < n; i++) {
            quad[i] = (unsigned char)((px[i] >= mx) | ((py[i] >= my) << 1));
            cnt[quad[i]]++;
        }
        g = ds__qt_new_group(q);
        q->node[ni].kids = g;
        q->node[ni].blk = DS__QT_NIL;
        for (k = 0; k < 4; k++) q->node[g + k].count = cnt[k];
        for (k = 0; k < 4; k++)
            if (cnt[k] == n) break;
        if (k == 4) {
            for (i = 0; i < n; i++) ds__qt_leaf_add(q, g + quad[i], px[i], py[i], pid[i]);
            return;
        }
        ni = g + k; /* all in one quadrant: split that one */
        if (k & 1) x0 = mx; else x1 = mx;
        if (k & 2) y0 = my; else y1 = my;
        depth++;
    }
}

static int ds__qt_in(const ds_quadtree *q, double x, double y) {
    return x >= q->x0 && x <= q->x1 && y >= q->y0 && y <= q->y1; /* NaN fails */
}

/* Descend to the leaf holding (x, y); fills path[0..depth] when non-NULL. */
static uint32_t ds__qt_descend(const ds_quadtree *q, double x, double y, uint32_t *path,
                               uint32_t *depth_out, double *box) {
    uint32_t ni = 0, d = 0;
    double x0 = q->x0, y0 = q->y0, x1 = q->x1, y1 = q->y1;
    if (path) path[0] = 0;
    while (q->node[ni].kids != DS__QT_NIL) {
        double mx = ds__qt_mid(x0, x1), my = ds__qt_mid(y0, y1);
        uint32_t k = (uint32_t)(x >= mx) | ((uint32_t)(y >= my) << 1);
        if (k & 1) x0 = mx; else x1 = mx;
        if (k & 2) y0 = my; else y1 = my;
        ni = q->node[ni].kids + k;
        d++;
        if (path) path[d] = ni;
    }
    if (depth_out) *depth_out = d;
    if (box) {
        box[0] = x0;
        box[1] = y0;
        box[2] = x1;
        box[3] = y1;
    }
    return ni;
}

DSDEF ds_status ds_quadtree_insert(ds_quadtree *q, double x, double y, uint64_t id) {
    uint32_t ni, depth, path[64], i, need_n = 0, need_b = 0, b;
    double box[4];
    ds_status st;
    if (!q || !ds__qt_in(q, x, y)) return DS_EINVAL;
    if (q->len >= (size_t)UINT32_MAX - 1) return DS_EFULL;
    if (q->node_hw == 0) { /* first point: the root */
        if ((st = ds__qt_reserve(q, 1, 1)) != DS_OK) return st;
        q->node_hw = 1;
        q->node[0].kids = DS__QT_NIL;
        q->node[0].count = 0;
        q->node[0].blk = DS__QT_NIL;
    }
    ni = ds__qt_descend(q, x, y, path, &depth, box);
    b = q->node[ni].blk;
    if (q->node[ni].count >= q->bucket && depth < q->max_depth) {
        need_n = 4 * (q->max_depth - depth); /* a cascade down to max_depth */
        need_b = 3 * (q->max_depth - depth) + 2;
    } else if (b == DS__QT_NIL || ds__qt_hdr(q, b)[1] == q->bucket) {
        need_b = 1;
    }
    if ((need_n || need_b) && (st = ds__qt_reserve(q, need_n, need_b)) != DS_OK) return st;
    for (i = 0; i <= depth; i++) q->node[path[i]].count++;
    q->len++;
    if (need_n) {
        double px[257], py[257];
        uint64_t pid[257];
        uint32_t n = ds__qt_hdr(q, b)[1];
        double *bx = ds__qt_bx(q, b);
        DS_ASSERT(n == q->bucket && ds__qt_hdr(q, b)[0] == DS__QT_NIL);
        memcpy(px, bx, n * sizeof(double));
        memcpy(py, DS__QT_BY(q, bx), n * sizeof(double));
        memcpy(pid, DS__QT_BID(q, bx), n * sizeof(uint64_t));
        px[n] = x;
        py[n] = y;
        pid[n] = id;
        ds__qt_free_blk(q, b);
        ds__qt_split(q, ni, depth, box[0], box[1], box[2], box[3], px, py, pid, n + 1);
    } else {
        ds__qt_leaf_add(q, ni, x, y, id);
    }
    return DS_OK;
}

/* Free every node and bucket under ni (not ni itself), copying its points
 * into px/py/pid from *n on. */
static void ds__qt_gather(ds_quadtree *q, uint32_t ni, double *px, double *py, uint64_t *pid,
                          uint32_t *n) {
    ds__qtnode *nd = &q->node[ni];
    if (nd->kids != DS__QT_NIL) {
        uint32_t g = nd->kids, k;
        for (k = 0; k < 4; k++) ds__qt_gather(q, g + k, px, py, pid, n);
        ds__qt_free_group(q, g);
        q->node[ni].kids = DS__QT_NIL;
    } else {
        uint32_t b = nd->blk;
        while (b != DS__QT_NIL) {
            uint32_t *h = ds__qt_hdr(q, b), next = h[0];
            double *bx = ds__qt_bx(q, b);
            memcpy(px + *n, bx, h[1] * sizeof(double));
            memcpy(py + *n, DS__QT_BY(q, bx), h[1] * sizeof(double));
            memcpy(pid + *n, DS__QT_BID(q, bx), h[1] * sizeof(uint64_t));
            *n += h[1];
            ds__qt_free_blk(q, b);
            b = next;
        }
        q->node[ni].blk = DS__QT_NIL;
    }
}

/* Find (x, y, id) in leaf ni: its bucket and slot. */
static int ds__qt_find(const ds_quadtree *q, uint32_t ni, double x, double y, uint64_t id,
                       uint32_t *bo, uint32_t *so) {
    uint32_t b = q->node[ni].blk;
    while (b != DS__QT_NIL) {
        const uint32_t *h = ds__qt_hdr(q, b);
        const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
        const uint64_t *bid = DS__QT_BID(q, bx);
        uint32_t i;
        for (i = 0; i < h[1]; i++) {
            if (bid[i] == id && bx[i] == x && by[i] == y) {
                *bo = b;
                *so = i;
                return 1;
            }
        }
        b = h[0];
    }
    return 0;
}

DSDEF ds_status ds_quadtree_remove(ds_quadtree *q, double x, double y, uint64_t id) {
    uint32_t ni, depth, path[64], b, s, head, *hh, i;
    double *hx, *bx;
    if (!q || !ds__qt_in(q, x, y)) return DS_EINVAL;
    if (q->len == 0) return DS_ENOTFOUND;
    ni = ds__qt_descend(q, x, y, path, &depth, NULL);
    if (!ds__qt_find(q, ni, x, y, id, &b, &s)) return DS_ENOTFOUND;
    /* Fill the hole with the head bucket's last point. */
    head = q->node[ni].blk;
    hh = ds__qt_hdr(q, head);
    hx = ds__qt_bx(q, head);
    bx = ds__qt_bx(q, b);
    hh[1]--;
    bx[s] = hx[hh[1]];
    DS__QT_BY(q, bx)[s] = DS__QT_BY(q, hx)[hh[1]];
    DS__QT_BID(q, bx)[s] = DS__QT_BID(q, hx)[hh[1]];
    if (hh[1] == 0) {
        q->node[ni].blk = hh[0];
        ds__qt_free_blk(q, head);
    }
    for (i = 0; i <= depth; i++) q->node[path[i]].count--;
    q->len--;
    /* Fold the highest subtree that got small back into one leaf. */
    for (i = 0; i < depth; i++) {
        uint32_t m = path[i];
        if (q->node[m].count <= q->merge_at) {
            double px[257], py[257];
            uint64_t pid[257];
            uint32_t n = 0, k;
            ds__qt_gather(q, m, px, py, pid, &n);
            DS_ASSERT(n == q->node[m].count);
            for (k = 0; k < n; k++) ds__qt_leaf_add(q, m, px[k], py[k], pid[k]); /* reuses a freed bucket */
            break;
        }
    }
    return DS_OK;
}

/* 16 bits a coordinate, interleaved: the point's position on the Z-order
 * (Morton) curve over the bounds. */
static uint32_t ds__qt_morton(const ds_quadtree *q, double x, double y) {
    double fx = (x - q->x0) / (q->x1 - q->x0) * 65536.0, fy = (y - q->y0) / (q->y1 - q->y0) * 65536.0;
    uint32_t ix = fx >= 65535.0 ? 65535u : fx > 0 ? (uint32_t)fx : 0u;
    uint32_t iy = fy >= 65535.0 ? 65535u : fy > 0 ? (uint32_t)fy : 0u;
    return (uint32_t)(ds__geo_spread(ix) << 1 | ds__geo_spread(iy));
}

DSDEF ds_status ds_quadtree_insert_many(ds_quadtree *q, const ds_qt_point *pts, size_t n) {
    uint64_t *a, *b, *t;
    size_t i, bytes;
    unsigned pass;
    ds_status st = DS_OK;
    if (!q || (!pts && n)) return DS_EINVAL;
    for (i = 0; i < n; i++)
        if (!ds__qt_in(q, pts[i].x, pts[i].y)) return DS_EINVAL;
    if (n == 0) return DS_OK;
    if (n >= (size_t)UINT32_MAX - 1 - q->len) return DS_EFULL;
    if (!ds_size_mul(n, 2 * sizeof(uint64_t), &bytes)) return DS_ENOMEM;
    a = (uint64_t *)DS_MALLOC(q->alloc, bytes);
    if (!a) return DS_ENOMEM;
    b = a + n;
    /* LSD radix sort of (Z-order key << 32 | index) on the key's 4 bytes. */
    for (i = 0; i < n; i++) a[i] = (uint64_t)ds__qt_morton(q, pts[i].x, pts[i].y) << 32 | i;
    for (pass = 32; pass < 64; pass += 8) {
        size_t cnt[256], sum = 0;
        memset(cnt, 0, sizeof cnt);
        for (i = 0; i < n; i++) cnt[(a[i] >> pass) & 255u]++;
        for (i = 0; i < 256; i++) {
            size_t c = cnt[i];
            cnt[i] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++) b[cnt[(a[i] >> pass) & 255u]++] = a[i];
        t = a;
        a = b;
        b = t;
    }
    /* Four passes: the sorted keys are back in the first half. */
    /* Insert in that order, gathering 256 points at a time first: a tight
     * gather loop keeps many cache and TLB misses in flight at once. */
    for (i = 0; i < n && st == DS_OK;) {
        ds_qt_point chunk[256];
        size_t m = n - i < 256 ? n - i : 256, j;
        for (j = 0; j < m; j++) chunk[j] = pts[(uint32_t)a[i + j]];
        for (j = 0; j < m; j++, i++)
            if ((st = ds_quadtree_insert(q, chunk[j].x, chunk[j].y, chunk[j].id)) != DS_OK) break;
    }
    if (st != DS_OK) { /* all or nothing: take back what went in (removal cannot fail) */
        while (i-- > 0) {
            const ds_qt_point *p = &pts[(uint32_t)a[i]];
            ds_status rs = ds_quadtree_remove(q, p->x, p->y, p->id);
            DS_ASSERT(rs == DS_OK);
            (void)rs;
        }
    }
    DS_FREE(q->alloc, a < b ? a : b, bytes);
    return st;
}

/* Copy the subtree of old node `on` into the new pools as new node `nn`:
 * children groups in depth-first (Z) order, each leaf's buckets next to
 * the previous leaf's. */
static void ds__qt_copy(const ds_quadtree *q, uint32_t on, ds__qtnode *nn_pool, uint32_t nn,
                        unsigned char *nb_pool, uint32_t *nnodes, uint32_t *nblks) {
    const ds__qtnode *o = &q->node[on];
    ds__qtnode *n = &nn_pool[nn];
    n->count = o->count;
    n->kids = DS__QT_NIL;
    n->blk = DS__QT_NIL;
    if (o->kids != DS__QT_NIL) {
        uint32_t g = *nnodes, k;
        *nnodes += 4;
        n->kids = g;
        for (k = 0; k < 4; k++) ds__qt_copy(q, o->kids + k, nn_pool, g + k, nb_pool, nnodes, nblks);
    } else {
        uint32_t b = o->blk, *prev = &n->blk;
        while (b != DS__QT_NIL) {
            uint32_t nb = (*nblks)++;
            unsigned char *dst = nb_pool + (size_t)nb * q->blk_stride;
            memcpy(dst, q->blk + (size_t)b * q->blk_stride, q->blk_stride);
            *prev = nb;
            prev = (uint32_t *)(void *)dst; /* its next field, set by the next round */
            b = ds__qt_hdr(q, b)[0];
        }
        *prev = DS__QT_NIL;
    }
}

static void ds__qt_count(const ds_quadtree *q, uint32_t ni, uint32_t *nodes, uint32_t *blks) {
    const ds__qtnode *nd = &q->node[ni];
    if (nd->kids != DS__QT_NIL) {
        uint32_t k;
        *nodes += 4;
        for (k = 0; k < 4; k++) ds__qt_count(q, nd->kids + k, nodes, blks);
    } else {
        uint32_t b = nd->blk;
        for (; b != DS__QT_NIL; b = ds__qt_hdr(q, b)[0]) (*blks)++;
    }
}

DSDEF ds_status ds_quadtree_compact(ds_quadtree *q) {
    uint32_t nodes = 1, blks = 0, nn = 1, nbk = 0;
    size_t nbytes, bbytes;
    ds__qtnode *np;
    unsigned char *bp = NULL;
    if (!q) return DS_EINVAL;
    if (q->node_hw == 0) return DS_OK;
    ds__qt_count(q, 0, &nodes, &blks);
    if (!ds_size_mul(nodes, sizeof(ds__qtnode), &nbytes) || !ds_size_mul(blks, q->blk_stride, &bbytes))
        return DS_ENOMEM;
    np = (ds__qtnode *)DS_MALLOC(q->alloc, nbytes);
    if (!np) return DS_ENOMEM;
    if (blks && !(bp = (unsigned char *)DS_MALLOC(q->alloc, bbytes))) {
        DS_FREE(q->alloc, np, nbytes);
        return DS_ENOMEM;
    }
    ds__qt_copy(q, 0, np, 0, bp, &nn, &nbk);
    DS_ASSERT(nn == nodes && nbk == blks);
    DS_FREE(q->alloc, q->node, (size_t)q->node_cap * sizeof(ds__qtnode));
    if (q->blk) DS_FREE(q->alloc, q->blk, (size_t)q->blk_cap * q->blk_stride);
    q->node = np;
    q->node_cap = q->node_hw = nodes;
    q->node_free = DS__QT_NIL;
    q->blk = bp;
    q->blk_cap = q->blk_hw = blks;
    q->blk_free = DS__QT_NIL;
    return DS_OK;
}

DSDEF ds_status ds_quadtree_move(ds_quadtree *q, uint64_t id, double x, double y, double new_x,
                                 double new_y) {
    uint32_t from, to, b, s;
    ds_status st;
    if (!q || !ds__qt_in(q, x, y) || !ds__qt_in(q, new_x, new_y)) return DS_EINVAL;
    if (q->len == 0) return DS_ENOTFOUND;
    from = ds__qt_descend(q, x, y, NULL, NULL, NULL);
    if (!ds__qt_find(q, from, x, y, id, &b, &s)) return DS_ENOTFOUND;
    to = ds__qt_descend(q, new_x, new_y, NULL, NULL, NULL);
    if (from == to) {
        double *bx = ds__qt_bx(q, b);
        bx[s] = new_x;
        DS__QT_BY(q, bx)[s] = new_y;
        return DS_OK;
    }
    if ((st = ds_quadtree_insert(q, new_x, new_y, id)) != DS_OK) return st;
    st = ds_quadtree_remove(q, x, y, id);
    DS_ASSERT(st == DS_OK);
    return st;
}

/* ---- queries ---- */

typedef struct ds__qtq {
    const ds_quadtree *q;
    double a0, b0, a1, b1; /* rect: x0, y0, x1, y1; radius: x, y, r^2, - */
    ds_qt_fn fn;
    void *ctx;
    ds_qt_point *out;
    size_t cap, count;
    int stop;
} ds__qtq;

static void ds__qt_emit(ds__qtq *c, double x, double y, uint64_t id) {
    if (c->out) {
        if (c->count < c->cap) {
            c->out[c->count].x = x;
            c->out[c->count].y = y;
            c->out[c->count].id = id;
        }
        c->count++;
    } else {
        c->count++;
        if (c->fn(c->ctx, id, x, y)) c->stop = 1;
    }
}

/* Every point under ni. */
static void ds__qt_all(ds__qtq *c, uint32_t ni) {
    const ds_quadtree *q = c->q;
    const ds__qtnode *nd = &q->node[ni];
    if (nd->kids != DS__QT_NIL) {
        uint32_t k;
        for (k = 0; k < 4; k++) ds__qt_prefetch(q, nd->kids + k);
        for (k = 0; k < 4 && !c->stop; k++)
            if (q->node[nd->kids + k].count) ds__qt_all(c, nd->kids + k);
        return;
    }
    {
        uint32_t b = nd->blk;
        while (b != DS__QT_NIL && !c->stop) {
            const uint32_t *h = ds__qt_hdr(q, b);
            const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
            const uint64_t *bid = DS__QT_BID(q, bx);
            uint32_t i, n = h[1];
            if (c->out && c->count + n <= c->cap) {
                ds_qt_point *o = c->out + c->count;
                for (i = 0; i < n; i++) {
                    o[i].x = bx[i];
                    o[i].y = by[i];
                    o[i].id = bid[i];
                }
                c->count += n;
            } else {
                for (i = 0; i < n && !c->stop; i++) ds__qt_emit(c, bx[i], by[i], bid[i]);
            }
            b = h[0];
        }
    }
}

static void ds__qt_rect_rec(ds__qtq *c, uint32_t ni, double x0, double y0, double x1, double y1) {
    const ds_quadtree *q = c->q;
    const ds__qtnode *nd = &q->node[ni];
    if (x0 >= c->a0 && x1 <= c->a1 && y0 >= c->b0 && y1 <= c->b1) {
        ds__qt_all(c, ni);
        return;
    }
    if (nd->kids != DS__QT_NIL) {
        double mx = ds__qt_mid(x0, x1), my = ds__qt_mid(y0, y1);
        uint32_t g = nd->kids;
        int w = c->a0 <= mx, e = c->a1 >= mx, s = c->b0 <= my, n = c->b1 >= my;
        if (s && w) ds__qt_prefetch(q, g);
        if (s && e) ds__qt_prefetch(q, g + 1);
        if (n && w) ds__qt_prefetch(q, g + 2);
        if (n && e) ds__qt_prefetch(q, g + 3);
        if (s && w && q->node[g].count) ds__qt_rect_rec(c, g, x0, y0, mx, my);
        if (c->stop) return;
        if (s && e && q->node[g + 1].count) ds__qt_rect_rec(c, g + 1, mx, y0, x1, my);
        if (c->stop) return;
        if (n && w && q->node[g + 2].count) ds__qt_rect_rec(c, g + 2, x0, my, mx, y1);
        if (c->stop) return;
        if (n && e && q->node[g + 3].count) ds__qt_rect_rec(c, g + 3, mx, my, x1, y1);
        return;
    }
    {
        uint32_t b = nd->blk;
        while (b != DS__QT_NIL && !c->stop) {
            const uint32_t *h = ds__qt_hdr(q, b);
            const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
            const uint64_t *bid = DS__QT_BID(q, bx);
            uint32_t i, n = h[1];
            for (i = 0; i < n; i++) {
                if (bx[i] >= c->a0 && bx[i] <= c->a1 && by[i] >= c->b0 && by[i] <= c->b1) {
                    ds__qt_emit(c, bx[i], by[i], bid[i]);
                    if (c->stop) return;
                }
            }
            b = h[0];
        }
    }
}

static double ds__qt_box_d2(double x, double y, double x0, double y0, double x1, double y1) {
    double dx = x < x0 ? x0 - x : x > x1 ? x - x1 : 0.0;
    double dy = y < y0 ? y0 - y : y > y1 ? y - y1 : 0.0;
    return dx * dx + dy * dy;
}
static double ds__qt_box_far2(double x, double y, double x0, double y0, double x1, double y1) {
    double dx = x - x0 > x1 - x ? x - x0 : x1 - x;
    double dy = y - y0 > y1 - y ? y - y0 : y1 - y;
    return dx * dx + dy * dy;
}

static void ds__qt_radius_rec(ds__qtq *c, uint32_t ni, double x0, double y0, double x1, double y1) {
    const ds_quadtree *q = c->q;
    const ds__qtnode *nd = &q->node[ni];
    double x = c->a0, y = c->b0, r2 = c->a1;
    if (ds__qt_box_d2(x, y, x0, y0, x1, y1) > r2) return;
    if (ds__qt_box_far2(x, y, x0, y0, x1, y1) <= r2) {
        ds__qt_all(c, ni);
        return;
    }
    if (nd->kids != DS__QT_NIL) {
        double mx = ds__qt_mid(x0, x1), my = ds__qt_mid(y0, y1);
        uint32_t g = nd->kids, k;
        for (k = 0; k < 4; k++) ds__qt_prefetch(q, g + k);
        if (q->node[g].count) ds__qt_radius_rec(c, g, x0, y0, mx, my);
        if (!c->stop && q->node[g + 1].count) ds__qt_radius_rec(c, g + 1, mx, y0, x1, my);
        if (!c->stop && q->node[g + 2].count) ds__qt_radius_rec(c, g + 2, x0, my, mx, y1);
        if (!c->stop && q->node[g + 3].count) ds__qt_radius_rec(c, g + 3, mx, my, x1, y1);
        return;
    }
    {
        uint32_t b = nd->blk;
        while (b != DS__QT_NIL && !c->stop) {
            const uint32_t *h = ds__qt_hdr(q, b);
            const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
            const uint64_t *bid = DS__QT_BID(q, bx);
            uint32_t i, n = h[1];
            for (i = 0; i < n; i++) {
                double dx = bx[i] - x, dy = by[i] - y;
                if (dx * dx + dy * dy <= r2) {
                    ds__qt_emit(c, bx[i], by[i], bid[i]);
                    if (c->stop) return;
                }
            }
            b = h[0];
        }
    }
}

static ds_status ds__qt_rect_run(const ds_quadtree *q, double x0, double y0, double x1, double y1,
                                 ds__qtq *c, size_t *count) {
    if (count) *count = 0;
    if (!q || !(x0 <= x1) || !(y0 <= y1)) return DS_EINVAL;
    c->q = q;
    c->a0 = x0;
    c->b0 = y0;
    c->a1 = x1;
    c->b1 = y1;
    c->count = 0;
    c->stop = 0;
    if (q->len && x0 <= q->x1 && x1 >= q->x0 && y0 <= q->y1 && y1 >= q->y0)
        ds__qt_rect_rec(c, 0, q->x0, q->y0, q->x1, q->y1);
    if (count) *count = c->count;
    return DS_OK;
}

DSDEF ds_status ds_quadtree_rect(const ds_quadtree *q, double x0, double y0, double x1, double y1,
                                 ds_qt_fn fn, void *ctx, size_t *count) {
    ds__qtq c;
    if (!fn) {
        if (count) *count = 0;
        return DS_EINVAL;
    }
    c.fn = fn;
    c.ctx = ctx;
    c.out = NULL;
    c.cap = 0;
    return ds__qt_rect_run(q, x0, y0, x1, y1, &c, count);
}

DSDEF ds_status ds_quadtree_rect_into(const ds_quadtree *q, double x0, double y0, double x1,
                                      double y1, ds_qt_point *out, size_t cap, size_t *count) {
    ds__qtq c;
    static ds_qt_point none;
    if (!out && cap) {
        if (count) *count = 0;
        return DS_EINVAL;
    }
    c.fn = NULL;
    c.ctx = NULL;
    c.out = out ? out : &none; /* cap 0: count only */
    c.cap = cap;
    return ds__qt_rect_run(q, x0, y0, x1, y1, &c, count);
}

static ds_status ds__qt_radius_run(const ds_quadtree *q, double x, double y, double r, ds__qtq *c,
                                   size_t *count) {
    if (count) *count = 0;
    if (!q || !ds__qt_finite(x) || !ds__qt_finite(y) || !(r >= 0))
        return DS_EINVAL;
    c->q = q;
    c->a0 = x;
    c->b0 = y;
    c->a1 = r * r;
    c->b1 = 0;
    c->count = 0;
    c->stop = 0;
    if (q->len) ds__qt_radius_rec(c, 0, q->x0, q->y0, q->x1, q->y1);
    if (count) *count = c->count;
    return DS_OK;
}

DSDEF ds_status ds_quadtree_radius(const ds_quadtree *q, double x, double y, double r, ds_qt_fn fn,
                                   void *ctx, size_t *count) {
    ds__qtq c;
    if (!fn) {
        if (count) *count = 0;
        return DS_EINVAL;
    }
    c.fn = fn;
    c.ctx = ctx;
    c.out = NULL;
    c.cap = 0;
    return ds__qt_radius_run(q, x, y, r, &c, count);
}

DSDEF ds_status ds_quadtree_radius_into(const ds_quadtree *q, double x, double y, double r,
                                        ds_qt_point *out, size_t cap, size_t *count) {
    ds__qtq c;
    static ds_qt_point none;
    if (!out && cap) {
        if (count) *count = 0;
        return DS_EINVAL;
    }
    c.fn = NULL;
    c.ctx = NULL;
    c.out = out ? out : &none;
    c.cap = cap;
    return ds__qt_radius_run(q, x, y, r, &c, count);
}

/* kNN: a min-heap of boxes to open, a max-heap (in out[]) of the best k. */
typedef struct ds__qtbox {
    double d2, x0, y0, x1, y1;
    uint32_t ni;
} ds__qtbox;

/* a orders after b among results: farther, or as far with a larger (id, x, y). */
static int ds__qt_tie_worse(const ds_qt_hit *a, const ds_qt_hit *b) {
    if (a->id != b->id) return a->id > b->id;
    if (a->x != b->x) return a->x > b->x;
    return a->y > b->y;
}
static int ds__qt_worse(const ds_qt_hit *a, const ds_qt_hit *b) {
    return a->dist > b->dist || (a->dist == b->dist && ds__qt_tie_worse(a, b));
}
static void ds__qt_res_down(ds_qt_hit *h, size_t n, size_t i) {
    ds_qt_hit t = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        /* branch-free pick of the worse child: a coin flip to predict */
        if (c + 1 < n) c += (size_t)ds__qt_worse(&h[c + 1], &h[c]);
        if (!ds__qt_worse(&h[c], &t)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = t;
}
static void ds__qt_res_up(ds_qt_hit *h, size_t i) {
    ds_qt_hit t = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ds__qt_worse(&t, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = t;
}

DSDEF ds_status ds_quadtree_knn(const ds_quadtree *q, double x, double y, size_t k, ds_qt_hit *out,
                                size_t *found) {
    ds__qtbox stackbuf[42], *heap = stackbuf;
    size_t hn = 0, hcap = sizeof stackbuf / sizeof stackbuf[0], nres = 0, i;
    if (found) *found = 0;
    if (!q || !ds__qt_finite(x) || !ds__qt_finite(y) || (!out && k))
        return DS_EINVAL;
    if (k > q->len) k = q->len;
    if (k == 0) return DS_OK;
    heap[0].d2 = ds__qt_box_d2(x, y, q->x0, q->y0, q->x1, q->y1);
    heap[0].x0 = q->x0;
    heap[0].y0 = q->y0;
    heap[0].x1 = q->x1;
    heap[0].y1 = q->y1;
    heap[0].ni = 0;
    hn = 1;
    while (hn) {
        ds__qtbox e = heap[0];
        const ds__qtnode *nd = &q->node[e.ni];
        /* pop the nearest box */
        {
            ds__qtbox t = heap[--hn];
            size_t j = 0;
            for (;;) {
                size_t c = 2 * j + 1;
                if (c >= hn) break;
                if (c + 1 < hn) c += (size_t)(heap[c + 1].d2 < heap[c].d2); /* branch-free */
                if (!(heap[c].d2 < t.d2)) break;
                heap[j] = heap[c];
                j = c;
            }
            if (hn) heap[j] = t;
        }
        /* Slack of 2^-50 relative: robust to an FMA-contracted distance. */
        if (nres == k && e.d2 > out[0].dist + out[0].dist * DS__QT_SLACK) break;
        if (nd->kids == DS__QT_NIL) {
            uint32_t b = nd->blk;
            while (b != DS__QT_NIL) {
                const uint32_t *h = ds__qt_hdr(q, b);
                const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
                const uint64_t *bid = DS__QT_BID(q, bx);
                uint32_t j, n = h[1];
                for (j = 0; j < n; j++) {
                    double dx = bx[j] - x, dy = by[j] - y;
                    ds_qt_hit p;
                    p.dist = dx * dx + dy * dy;
                    if (nres == k && p.dist > out[0].dist) continue;
                    p.x = bx[j];
                    p.y = by[j];
                    p.id = bid[j];
                    if (nres < k) {
                        out[nres] = p;
                        ds__qt_res_up(out, nres++);
                    } else if (ds__qt_worse(&out[0], &p)) {
                        out[0] = p;
                        ds__qt_res_down(out, nres, 0);
                    }
                }
                b = h[0];
            }
            continue;
        }
        {
            double mx = ds__qt_mid(e.x0, e.x1), my = ds__qt_mid(e.y0, e.y1);
            uint32_t c;
            for (c = 0; c < 4; c++) {
                ds__qtbox cb;
                size_t j;
                if (!q->node[nd->kids + c].count) continue;
                cb.x0 = (c & 1) ? mx : e.x0;
                cb.x1 = (c & 1) ? e.x1 : mx;
                cb.y0 = (c & 2) ? my : e.y0;
                cb.y1 = (c & 2) ? e.y1 : my;
                cb.d2 = ds__qt_box_d2(x, y, cb.x0, cb.y0, cb.x1, cb.y1);
                cb.ni = nd->kids + c;
                if (nres == k && cb.d2 > out[0].dist + out[0].dist * DS__QT_SLACK) continue;
                ds__qt_prefetch(q, cb.ni);
                if (hn == hcap) {
                    size_t ncap = hcap * 2, bytes;
                    ds__qtbox *nh;
                    if (!ds_size_mul(ncap, sizeof *nh, &bytes) ||
                        !(nh = (ds__qtbox *)DS_MALLOC(q->alloc, bytes))) {
                        if (heap != stackbuf) DS_FREE(q->alloc, heap, hcap * sizeof *heap);
                        return DS_ENOMEM;
                    }
                    memcpy(nh, heap, hn * sizeof *nh);
                    if (heap != stackbuf) DS_FREE(q->alloc, heap, hcap * sizeof *heap);
                    heap = nh;
                    hcap = ncap;
                }
                j = hn++;
                while (j > 0 && cb.d2 < heap[(j - 1) / 2].d2) {
                    heap[j] = heap[(j - 1) / 2];
                    j = (j - 1) / 2;
                }
                heap[j] = cb;
            }
        }
    }
    if (heap != stackbuf) DS_FREE(q->alloc, heap, hcap * sizeof *heap);
    /* Heap sort: the max-heap becomes nearest first. */
    for (i = nres; i > 1; i--) {
        ds_qt_hit t = out[0];
        out[0] = out[i - 1];
        out[i - 1] = t;
        ds__qt_res_down(out, i - 1, 0);
    }
    for (i = 0; i < nres; i++) out[i].dist = sqrt(out[i].dist);
    if (found) *found = nres;
    return DS_OK;
}

/* == ds:graph == */

DS__MAP_PROTOS(ds__gnames, const char *, uint32_t, DS__LINK_STATIC);
DS__MAP_IMPL(ds__gnames, const char *, uint32_t, ds_hash_str, ds_eq_str, DS__LINK_STATIC)

/* Heap order: smaller key, then smaller tie (A* passes UINT32_MAX - hops,
 * so at equal f the deeper node comes first). */
#define ds__gitem_less(a, b) ((a).key < (b).key)
#define ds__gitem_less_tie(a, b) ((a).key < (b).key || ((a).key == (b).key && (a).tie < (b).tie))
DS__HEAP_PROTOS(ds__gheap, ds__gitem, DS__LINK_STATIC);
DS__HEAP_IMPL(ds__gheap, ds__gitem, ds__gitem_less, DS__LINK_STATIC)
DS__HEAP_PROTOS(ds__gheapt, ds__gitem, DS__LINK_STATIC);
DS__HEAP_IMPL(ds__gheapt, ds__gitem, ds__gitem_less_tie, DS__LINK_STATIC)

/* A chunk of name bytes; the bytes follow the header. */
typedef struct ds__gchunk {
    struct ds__gchunk *next;
    size_t size;
} ds__gchunk;

static int ds__gw_ok(double w) { return w == w && w != HUGE_VAL && w != -HUGE_VAL; }

/* u's out-arcs on either form; NULL when it has none (no NULL + 0). */
DS__INLINE const ds_graph_arc *ds__graph_arcs(const ds_graph *g, uint32_t u, size_t *deg) {
    if (g->off) {
        size_t d = g->off[u + 1] - g->off[u];
        *deg = d;
        return d ? g->arcs + g->off[u] : NULL;
    }
    *deg = g->adj[u].len;
    return g->adj[u].a;
}

static void ds__graph_free_adj(const ds_alloc *a, ds__garcs *adj, size_t n, size_t cap) {
    size_t i;
    if (!adj) return;
    for (i = 0; i < n; i++)
        if (adj[i].a) DS_FREE(a, adj[i].a, (size_t)adj[i].cap * sizeof(ds_graph_arc));
    DS_FREE(a, adj, cap * sizeof *adj);
}

/* Release the arc storage of whichever form g is in. */
static void ds__graph_free_storage(ds_graph *g) {
    ds__graph_free_adj(g->alloc, g->adj, g->nodes, g->adj_cap);
    if (g->off) DS_FREE(g->alloc, g->off, g->off_cap * sizeof(size_t));
    if (g->arcs) DS_FREE(g->alloc, g->arcs, g->edges * sizeof(ds_graph_arc));
    g->adj = NULL;
    g->off = NULL;
    g->arcs = NULL;
    g->adj_cap = g->off_cap = 0;
}

DSDEF void ds_graph_init(ds_graph *g, const ds_alloc *a) {
    if (!g) return;
    memset(g, 0, sizeof *g);
    g->alloc = a;
    ds__gnames_init_alloc(&g->node_ids, a);
    ds__gnames_init_alloc(&g->label_ids, a);
}

DSDEF void ds_graph_free(ds_graph *g) {
    ds__gchunk *c;
    const ds_alloc *a;
    if (!g) return;
    a = g->alloc;
    ds__graph_free_storage(g);
    if (g->node_name) DS_FREE(a, (void *)g->node_name, g->name_cap * sizeof(char *));
    if (g->label_name) DS_FREE(a, (void *)g->label_name, g->label_cap * sizeof(char *));
    ds__gnames_free(&g->node_ids);
    ds__gnames_free(&g->label_ids);
    for (c = (ds__gchunk *)g->chunks; c;) {
        ds__gchunk *next = c->next;
        DS_FREE(a, c, sizeof *c + c->size);
        c = next;
    }
    ds_graph_init(g, a);
}

/* Room for k more nodes in the node storage of g's current form. */
static ds_status ds__graph_node_room(ds_graph *g, size_t k) {
    void *p;
    ds_status st;
    if (k > (size_t)UINT32_MAX - g->nodes) return DS_EINVAL; /* ids stay below DS_GRAPH_NONE */
    if (g->off) {
        p = g->off;
        st = ds__vec_grow(&p, &g->off_cap, g->nodes + k + 1, sizeof(size_t), g->alloc);
        g->off = (size_t *)p;
    } else {
        p = g->adj;
        st = ds__vec_grow(&p, &g->adj_cap, g->nodes + k, sizeof(ds__garcs), g->alloc);
        g->adj = (ds__garcs *)p;
    }
    return st;
}

/* Add k nodes whose room was made: cannot fail. */
static void ds__graph_node_commit(ds_graph *g, size_t k) {
    size_t i;
    if (g->off) {
        for (i = 1; i <= k; i++) g->off[g->nodes + i] = g->off[g->nodes];
    } else if (k) {
        memset(g->adj + g->nodes, 0, k * sizeof *g->adj);
    }
    g->nodes += k;
}

DSDEF ds_status ds_graph_add_nodes(ds_graph *g, size_t count, uint32_t *first) {
    ds_status st;
    if (!g) return DS_EINVAL;
    if ((st = ds__graph_node_room(g, count)) != DS_OK) return st;
    if (first) *first = (uint32_t)g->nodes;
    ds__graph_node_commit(g, count);
    return DS_OK;
}

DSDEF ds_status ds_graph_add_node(ds_graph *g, uint32_t *id) { return ds_graph_add_nodes(g, 1, id); }

/* Back to the incremental form, O(nodes + edges). Node `extra` gets room
 * for one more arc, so the add_edge that asked cannot fail afterwards.
 * All or nothing. */
static ds_status ds__graph_thaw(ds_graph *g, uint32_t extra) {
    size_t cap = g->nodes < 8 ? 8 : g->nodes, bytes, i;
    ds__garcs *adj;
    if (!ds_size_mul(cap, sizeof *adj, &bytes)) return DS_EINVAL;
    adj = (ds__garcs *)DS_MALLOC(g->alloc, bytes);
    if (!adj) return DS_ENOMEM;
    for (i = 0; i < g->nodes; i++) {
        size_t deg = g->off[i + 1] - g->off[i];
        uint32_t c = (uint32_t)deg + (uint32_t)(i == extra);
        adj[i].len = (uint32_t)deg;
        adj[i].cap = c;
        adj[i].a = NULL;
        if (c) {
            adj[i].a = (ds_graph_arc *)DS_MALLOC(g->alloc, (size_t)c * sizeof(ds_graph_arc));
            if (!adj[i].a) {
                ds__graph_free_adj(g->alloc, adj, i, cap);
                return DS_ENOMEM;
            }
            if (deg) memcpy(adj[i].a, g->arcs + g->off[i], deg * sizeof(ds_graph_arc));
        }
    }
    ds__graph_free_storage(g);
    g->adj = adj;
    g->adj_cap = cap;
    return DS_OK;
}

DSDEF ds_status ds_graph_add_edge(ds_graph *g, uint32_t from, uint32_t to, uint32_t label,
                                  double weight) {
    ds__garcs *e;
    ds_status st;
    if (!g || from >= g->nodes || to >= g->nodes || !ds__gw_ok(weight)) return DS_EINVAL;
    if (g->off) {
        if (g->off[from + 1] - g->off[from] >= UINT32_MAX) return DS_EINVAL;
        if ((st = ds__graph_thaw(g, from)) != DS_OK) return st;
    }
    e = &g->adj[from];
    if (e->len == UINT32_MAX) return DS_EINVAL;
    if (e->len == e->cap) {
        uint32_t nc = e->cap == 0 ? 2 : e->cap > UINT32_MAX / 2 ? UINT32_MAX : e->cap * 2;
        size_t nb = (size_t)nc * sizeof(ds_graph_arc), ob = (size_t)e->cap * sizeof(ds_graph_arc);
        void *p = e->a ? DS_REALLOC(g->alloc, e->a, ob, nb) : DS_MALLOC(g->alloc, nb);
        if (!p) return DS_ENOMEM;
        e->a = (ds_graph_arc *)p;
        e->cap = nc;
    }
    e->a[e->len].to = to;
    e->a[e->len].label = label;
    e->a[e->len].weight = weight;
    e->len++;
    g->edges++;
    if (weight < 0) g->negative++;
    return DS_OK;
}

DSDEF ds_status ds_graph_freeze(ds_graph *g) {
    size_t ocap, bytes, i, k = 0;
    size_t *off;
    ds_graph_arc *arcs = NULL;
    if (!g) return DS_EINVAL;
    if (g->off) return DS_OK;
    ocap = g->nodes + 1;
    if (!ds_size_mul(ocap, sizeof(size_t), &bytes)) return DS_EINVAL;
    off = (size_t *)DS_MALLOC(g->alloc, bytes);
    if (!off) return DS_ENOMEM;
    if (g->edges) {
        if (!ds_size_mul(g->edges, sizeof(ds_graph_arc), &bytes) ||
            !(arcs = (ds_graph_arc *)DS_MALLOC(g->alloc, bytes))) {
            DS_FREE(g->alloc, off, ocap * sizeof(size_t));
            return DS_ENOMEM;
        }
    }
    for (i = 0; i < g->nodes; i++) {
        off[i] = k;
        if (g->adj[i].len) memcpy(arcs + k, g->adj[i].a, g->adj[i].len * sizeof(ds_graph_arc));
        k += g->adj[i].len;
    }
    off[g->nodes] = k;
    DS_ASSERT(k == g->edges);
    ds__graph_free_storage(g);
    g->off = off;
    g->off_cap = ocap;
    g->arcs = arcs;
    return DS_OK;
}

DSDEF int ds_graph_is_frozen(const ds_graph *g) { return g && g->off != NULL; }

/* Bulk load by counting sort (two passes over the edges); the offsets
 * array doubles as the write cursors, then shifts back by one. */
DSDEF ds_status ds_graph_build(ds_graph *g, size_t nodes, const ds_graph_edge *edges, size_t m) {
    size_t n, total, ocap, obytes, abytes, i, neg = 0;
    size_t *off;
    ds_graph_arc *arcs = NULL;
    if (!g || (m && !edges)) return DS_EINVAL;
    if (nodes > (size_t)UINT32_MAX - g->nodes) return DS_EINVAL;
    n = g->nodes + nodes;
    for (i = 0; i < m; i++) {
        if (edges[i].from >= n || edges[i].to >= n || !ds__gw_ok(edges[i].weight)) return DS_EINVAL;
        if (edges[i].weight < 0) neg++;
    }
    if (!ds_size_add(g->edges, m, &total) || !ds_size_mul(total, sizeof(ds_graph_arc), &abytes) ||
        !ds_size_mul(n + 1, sizeof(size_t), &obytes))
        return DS_EINVAL;
    ocap = n + 1;
    off = (size_t *)DS_MALLOC(g->alloc, obytes);
    if (!off) return DS_ENOMEM;
    memset(off, 0, obytes);
    for (i = 0; i < g->nodes; i++) {
        size_t d;
        ds__graph_arcs(g, (uint32_t)i, &d);
        off[i + 1] = d;
    }
    for (i = 0; i < m; i++) off[edges[i].from + 1]++;
    for (i = 1; i <= n; i++) {
        if (off[i] > UINT32_MAX) { /* a node with 2^32 out-arcs */
            DS_FREE(g->alloc, off, obytes);
            return DS_EINVAL;
        }
    }
    if (total && !(arcs = (ds_graph_arc *)DS_MALLOC(g->alloc, abytes))) {
        DS_FREE(g->alloc, off, obytes);
        return DS_ENOMEM;
    }
    for (i = 1; i <= n; i++) off[i] += off[i - 1]; /* off[u] = start of u */
    for (i = 0; i < g->nodes; i++) { /* existing arcs first; off[u] becomes a cursor */
        size_t d;
        const ds_graph_arc *a = ds__graph_arcs(g, (uint32_t)i, &d);
        if (d) memcpy(arcs + off[i], a, d * sizeof *a);
        off[i] += d;
    }
    for (i = 0; i < m; i++) {
        ds_graph_arc *x = &arcs[off[edges[i].from]++];
        x->to = edges[i].to;
        x->label = edges[i].label;
        x->weight = edges[i].weight;
    }
    for (i = n; i > 0; i--) off[i] = off[i - 1]; /* cursors are at the ends: shift back */
    off[0] = 0;
    ds__graph_free_storage(g);
    g->off = off;
    g->off_cap = ocap;
    g->arcs = arcs;
    g->nodes = n;
    g->edges = total;
    g->negative += neg;
    return DS_OK;
}

DSDEF const ds_graph_arc *ds_graph_out(const ds_graph *g, uint32_t u, size_t *deg) {
    size_t d = 0;
    const ds_graph_arc *a = NULL;
    if (g && u < g->nodes) a = ds__graph_arcs(g, u, &d);
    if (deg) *deg = d;
    return d ? a : NULL;
}

DSDEF size_t ds_graph_nodes(const ds_graph *g) { return g ? g->nodes : 0; }
DSDEF size_t ds_graph_edges(const ds_graph *g) { return g ? g->edges : 0; }

DSDEF size_t ds_graph_memory(const ds_graph *g) {
    size_t b, i;
    if (!g) return 0;
    b = g->chunk_bytes + (g->name_cap + g->label_cap) * sizeof(char *) +
        ds__gnames_memory(&g->node_ids) + ds__gnames_memory(&g->label_ids);
    if (g->off) return b + g->off_cap * sizeof(size_t) + g->edges * sizeof(ds_graph_arc);
    b += g->adj_cap * sizeof(ds__garcs);
    for (i = 0; i < g->nodes; i++) b += (size_t)g->adj[i].cap * sizeof(ds_graph_arc);
    return b;
}

/* ---- names ---- */

/* Room for n name bytes in the newest chunk (not yet counted as used). */
static char *ds__graph_name_room(ds_graph *g, size_t n, ds_status *st) {
    ds__gchunk *c = (ds__gchunk *)g->chunks;
    size_t sz, bytes;
    if (c && g->chunk_size - g->chunk_used >= n) return (char *)(void *)(c + 1) + g->chunk_used;
    sz = g->chunk_size ? g->chunk_size * 2 : 256;
    if (sz > 65536) sz = 65536;
    if (sz < n) sz = n;
    if (!ds_size_add(sizeof *c, sz, &bytes)) {
        *st = DS_EINVAL;
        return NULL;
    }
    c = (ds__gchunk *)DS_MALLOC(g->alloc, bytes);
    if (!c) {
        *st = DS_ENOMEM;
        return NULL;
    }
    c->next = (ds__gchunk *)g->chunks;
    c->size = sz;
    g->chunks = c;
    g->chunk_size = sz;
    g->chunk_used = 0;
    g->chunk_bytes += bytes;
    return (char *)(void *)(c + 1);
}

static ds_status ds__graph_grow_names(const char ***arr, size_t *cap, size_t need, const ds_alloc *a) {
    void *p = (void *)*arr;
    ds_status st = ds__vec_grow(&p, cap, need, sizeof(char *), a);
    *arr = (const char **)p;
    return st;
}

/* Intern name in map m as id (nodes: g->nodes, a new node; labels:
 * label_len). Everything that can fail happens before anything changes. */
static ds_status ds__graph_intern(ds_graph *g, int node, const char *name, uint32_t *id) {
    ds__gnames *m = node ? &g->node_ids : &g->label_ids;
    uint32_t *v, nid;
    size_t len;
    char *p;
    ds_status st = DS_OK;
    if (!name || !id) return DS_EINVAL;
    if ((v = ds__gnames_get(m, name)) != NULL) {
        *id = *v;
        return DS_OK;
    }
    len = strlen(name) + 1;
    if (node) {
        if ((st = ds__graph_node_room(g, 1)) != DS_OK) return st;
        if ((st = ds__graph_grow_names(&g->node_name, &g->name_cap, g->nodes + 1, g->alloc)) != DS_OK)
            return st;
    } else {
        if (g->label_len >= UINT32_MAX) return DS_EINVAL;
        if ((st = ds__graph_grow_names(&g->label_name, &g->label_cap, g->label_len + 1, g->alloc)) != DS_OK)
            return st;
    }
    if ((st = ds__gnames_reserve(m, ds__gnames_len(m) + 1)) != DS_OK) return st;
    if (!(p = ds__graph_name_room(g, len, &st))) return st;
    /* nothing below fails */
    memcpy(p, name, len);
    g->chunk_used += len;
    if (node) {
        nid = (uint32_t)g->nodes;
        ds__graph_node_commit(g, 1);
        while (g->name_len < nid) g->node_name[g->name_len++] = NULL;
        g->node_name[g->name_len++] = p;
    } else {
        nid = (uint32_t)g->label_len;
        g->label_name[g->label_len++] = p;
    }
    st = ds__gnames_insert(m, p, nid);
    DS_ASSERT(st == DS_OK); /* reserved above */
    *id = nid;
    return st;
}

DSDEF ds_status ds_graph_node_put(ds_graph *g, const char *name, uint32_t *id) {
    return g ? ds__graph_intern(g, 1, name, id) : DS_EINVAL;
}
DSDEF ds_status ds_graph_label_put(ds_graph *g, const char *name, uint32_t *id) {
    return g ? ds__graph_intern(g, 0, name, id) : DS_EINVAL;
}

DSDEF ds_status ds_graph_node_get(const ds_graph *g, const char *name, uint32_t *id) {
    uint32_t *v;
    if (!g || !name || !id) return DS_EINVAL;
    if (!(v = ds__gnames_get(&g->node_ids, name))) return DS_ENOTFOUND;
    *id = *v;
    return DS_OK;
}
DSDEF ds_status ds_graph_label_get(const ds_graph *g, const char *name, uint32_t *id) {
    uint32_t *v;
    if (!g || !name || !id) return DS_EINVAL;
    if (!(v = ds__gnames_get(&g->label_ids, name))) return DS_ENOTFOUND;
    *id = *v;
    return DS_OK;
}
DSDEF const char *ds_graph_node_name(const ds_graph *g, uint32_t id) {
    return g && id < g->name_len ? g->node_name[id] : NULL;
}
DSDEF const char *ds_graph_label_name(const ds_graph *g, uint32_t id) {
    return g && id < g->label_len ? g->label_name[id] : NULL;
}

DSDEF ds_status ds_graph_link(ds_graph *g, const char *from, const char *label, const char *to,
                              double weight) {
    size_t nodes, name_len, label_len, used, i;
    void *chunks;
    uint32_t a, b, l;
    ds_status st;
    if (!g || !from || !label || !to || !ds__gw_ok(weight)) return DS_EINVAL;
    nodes = g->nodes;
    name_len = g->name_len;
    label_len = g->label_len;
    chunks = g->chunks;
    used = g->chunk_used;
    if ((st = ds_graph_node_put(g, from, &a)) == DS_OK && (st = ds_graph_node_put(g, to, &b)) == DS_OK &&
        (st = ds_graph_label_put(g, label, &l)) == DS_OK && (st = ds_graph_add_edge(g, a, b, l, weight)) == DS_OK)
        return DS_OK;
    /* undo the names this call added (erasing from the maps never allocates) */
    for (i = name_len; i < g->name_len; i++)
        if (g->node_name[i]) ds__gnames_del(&g->node_ids, g->node_name[i], NULL);
    for (i = label_len; i < g->label_len; i++) ds__gnames_del(&g->label_ids, g->label_name[i], NULL);
    g->nodes = nodes;
    g->name_len = name_len;
    g->label_len = label_len;
    g->chunk_used = g->chunks == chunks ? used : 0; /* a chunk added here stays, empty */
    return st;
}

/* ---- searches ---- */

DSDEF void ds_graph_search_init(ds_graph_search *s, const ds_alloc *a) {
    if (!s) return;
    memset(s, 0, sizeof *s);
    s->alloc = a;
    s->source = DS_GRAPH_NONE;
    ds__gheap_init_alloc(&s->heap, a);
    ds__gheapt_init_alloc(&s->theap, a);
}

#define DS__GS_NODE_BYTES (sizeof(ds__gslot) + 2 * sizeof(uint32_t))

DSDEF void ds_graph_search_free(ds_graph_search *s) {
    if (!s) return;
    if (s->slot) DS_FREE(s->alloc, s->slot, s->cap * DS__GS_NODE_BYTES);
    if (s->h) DS_FREE(s->alloc, s->h, s->hcap * sizeof(double));
    ds__gheap_free(&s->heap);
    ds__gheapt_free(&s->theap);
    ds_graph_search_init(s, s->alloc);
}

/* Size the scratch for n nodes and start a new epoch. Growing allocates a
 * fresh block (nothing in it is worth keeping) with every stamp cleared. */
static ds_status ds__gs_prepare(ds_graph_search *s, size_t n, int want_h) {
    s->valid = 0; /* from here on, the previous result is gone */
    if (s->cap < n) {
        size_t cap = n + n / 4 + 16, bytes;
        void *p;
        if (cap < n) cap = n;
        if (!ds_size_mul(cap, DS__GS_NODE_BYTES, &bytes)) return DS_EINVAL;
        if (!(p = DS_MALLOC(s->alloc, bytes))) return DS_ENOMEM;
        if (s->slot) DS_FREE(s->alloc, s->slot, s->cap * DS__GS_NODE_BYTES);
        s->slot = (ds__gslot *)p;
        s->stamp = (uint32_t *)(void *)(s->slot + cap);
        s->order = s->stamp + cap;
        s->cap = cap;
        memset(s->stamp, 0, cap * sizeof(uint32_t));
        s->epoch = 0;
    }
    if (want_h && s->hcap < n) {
        size_t cap = n + n / 4 + 16, bytes;
        void *p;
        if (cap < n) cap = n;
        if (!ds_size_mul(cap, sizeof(double), &bytes)) return DS_EINVAL;
        if (!(p = DS_MALLOC(s->alloc, bytes))) return DS_ENOMEM;
        if (s->h) DS_FREE(s->alloc, s->h, s->hcap * sizeof(double));
        s->h = (double *)p;
        s->hcap = cap;
    }
    if (s->epoch > UINT32_MAX - 8) { /* once every 2^30 searches */
        memset(s->stamp, 0, s->cap * sizeof(uint32_t));
        s->epoch = 0;
    }
    s->epoch += 4; /* stamps: epoch open, +1 settled, +2 reopened */
    s->count = s->expanded = 0;
    return DS_OK;
}

DSDEF ds_status ds_graph_bfs(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst,
                             uint32_t max_hops) {
    size_t head = 0;
    uint32_t seen, *stamp;
    int found;
    ds_status st;
    if (!g || !s || src >= g->nodes || (dst != DS_GRAPH_NONE && dst >= g->nodes)) return DS_EINVAL;
    if ((st = ds__gs_prepare(s, g->nodes, 0)) != DS_OK) return st;
    seen = s->epoch + 1; /* discovered = settled: BFS depths are final */
    stamp = s->stamp;
    s->source = src;
    s->hops = 1;
    s->slot[src].dist = 0;
    s->slot[src].pred = s->slot[src].via = DS_GRAPH_NONE;
    stamp[src] = seen;
    s->order[s->count++] = src;
    found = src == dst;
    while (!found && head < s->count) {
        uint32_t u = s->order[head++], d = (uint32_t)s->slot[u].dist; /* the hop count */
        size_t deg, i;
        const ds_graph_arc *a;
        if (d >= max_hops) break; /* the queue's depths never decrease */
        s->expanded++;
        a = ds__graph_arcs(g, u, &deg);
        for (i = 0; i < deg; i++) {
            uint32_t v = a[i].to;
            if (stamp[v] == seen) continue;
            stamp[v] = seen;
            s->slot[v].dist = (double)(d + 1);
            s->slot[v].pred = u;
            s->slot[v].via = (uint32_t)i;
            s->order[s->count++] = v;
            if (v == dst) {
                found = 1;
                break;
            }
        }
    }
    s->valid = 1;
    return dst == DS_GRAPH_NONE || found ? DS_OK : DS_ENOTFOUND;
}

static int ds__gh_ok(double h) { return h >= 0 && h != HUGE_VAL; } /* NaN fails h >= 0 */
/* A*'s tie-break at equal f: smaller h first (= larger g, deeper). The
 * bits of a non-negative float order as the floats do. */
static uint32_t ds__gtie(double h) {
    float f = (float)h;
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* Dijkstra (use_h 0) and A* (use_h 1), on the lazy-deletion heap: a node
 * is pushed again whenever its distance drops, and stale entries are
 * skipped when popped (the node is settled by then). With use_h a constant
 * at each call, the compiler emits the two loops separately. Dijkstra's
 * heap orders by key alone (a tie-break costs its branch-free child pick),
 * and a settled target is skipped on its 4-byte stamp without touching its
 * 16-byte slot (measured on bench_graph). */
#define DS__GBF_PUSH(s, it) (use_h ? ds__gheapt_push(&(s)->theap, it) : ds__gheap_push(&(s)->heap, it))
DS__INLINE ds_status ds__graph_best_first(const ds_graph *g, ds_graph_search *s, uint32_t src,
                                          uint32_t dst, ds_graph_heuristic h, void *ctx,
                                          const int use_h) {
    uint32_t open, settled, reopened, *stamp;
    ds__gslot *slot;
    ds__gitem it;
    ds_status st;
    int found = 0;
    double hv = 0;
    if (g->negative) return DS_EINVAL;
    if ((st = ds__gs_prepare(s, g->nodes, use_h)) != DS_OK) return st;
    open = s->epoch;
    settled = open + 1;
    reopened = open + 2;
    stamp = s->stamp;
    slot = s->slot;
    s->hops = 0;
    if (use_h) ds__gheapt_clear(&s->theap);
    else ds__gheap_clear(&s->heap);
    s->source = src;
    if (use_h) {
        hv = h(ctx, src, dst);
        if (!ds__gh_ok(hv)) return DS_EINVAL;
        s->h[src] = hv;
    }
    slot[src].dist = 0;
    slot[src].pred = slot[src].via = DS_GRAPH_NONE;
    stamp[src] = open;
    it.key = hv;
    it.node = src;
    it.tie = use_h ? ds__gtie(hv) : 0;
    if ((st = DS__GBF_PUSH(s, it)) != DS_OK) return st;
    while (use_h ? s->theap.len : s->heap.len) {
        uint32_t u;
        double du;
        size_t deg, i;
        const ds_graph_arc *a;
        if (use_h) ds__gheapt_pop(&s->theap, &it);
        else ds__gheap_pop(&s->heap, &it);
        u = it.node;
        if (stamp[u] == settled) continue; /* stale entry */
        if (stamp[u] == open) s->order[s->count++] = u; /* first settlement */
        stamp[u] = settled;
        s->expanded++;
        if (u == dst) {
            found = 1;
            break;
        }
        du = slot[u].dist;
        a = ds__graph_arcs(g, u, &deg);
        for (i = 0; i < deg; i++) {
            uint32_t v = a[i].to, sv = stamp[v];
            double nd;
            if (!use_h && sv == settled) continue; /* final: no need to read its slot */
            nd = du + a[i].weight;
            if (sv - open < 3u) { /* seen this search */
                if (!(nd < slot[v].dist)) continue;
                if (sv == settled) stamp[v] = reopened; /* only with an inconsistent h */
                if (use_h) hv = s->h[v];
            } else {
                stamp[v] = open;
                if (use_h) {
                    hv = h(ctx, v, dst);
                    if (!ds__gh_ok(hv)) return DS_EINVAL;
                    s->h[v] = hv;
                }
            }
            slot[v].dist = nd;
            slot[v].pred = u;
            slot[v].via = (uint32_t)i;
            it.key = use_h ? nd + hv : nd;
            it.node = v;
            it.tie = use_h ? ds__gtie(hv) : 0;
            if ((st = DS__GBF_PUSH(s, it)) != DS_OK) return st;
        }
    }
    s->valid = 1;
    return dst == DS_GRAPH_NONE || found ? DS_OK : DS_ENOTFOUND;
}
#undef DS__GBF_PUSH

DSDEF ds_status ds_graph_dijkstra(const ds_graph *g, ds_graph_search *s, uint32_t src,
                                  uint32_t dst) {
    if (!g || !s || src >= g->nodes || (dst != DS_GRAPH_NONE && dst >= g->nodes)) return DS_EINVAL;
    return ds__graph_best_first(g, s, src, dst, NULL, NULL, 0);
}

DSDEF ds_status ds_graph_astar(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst,
                               ds_graph_heuristic h, void *ctx) {
    if (!g || !s || src >= g->nodes || dst >= g->nodes) return DS_EINVAL;
    if (!h) return ds__graph_best_first(g, s, src, dst, NULL, NULL, 0);
    return ds__graph_best_first(g, s, src, dst, h, ctx, 1);
}

DSDEF size_t ds_graph_search_count(const ds_graph_search *s) { return s && s->valid ? s->count : 0; }
DSDEF const uint32_t *ds_graph_search_nodes(const ds_graph_search *s) {
    return s && s->valid && s->count ? s->order : NULL;
}
DSDEF size_t ds_graph_search_expanded(const ds_graph_search *s) { return s && s->valid ? s->expanded : 0; }
DSDEF int ds_graph_search_reached(const ds_graph_search *s, uint32_t v) {
    return s && s->valid && v < s->cap && s->stamp[v] == s->epoch + 1;
}
/* Hops from the source to a reached v by walking the predecessors;
 * DS_GRAPH_NONE if the chain is broken (cannot happen for a reached v). */
static uint32_t ds__gs_hops(const ds_graph_search *s, uint32_t v) {
    uint32_t x, n = 0;
    for (x = v; x != s->source; x = s->slot[x].pred)
        if (s->slot[x].pred >= s->cap || ++n >= s->cap) return DS_GRAPH_NONE;
    return n;
}

DSDEF uint32_t ds_graph_search_depth(const ds_graph_search *s, uint32_t v) {
    if (!ds_graph_search_reached(s, v)) return DS_GRAPH_NONE;
    return s->hops ? (uint32_t)s->slot[v].dist : ds__gs_hops(s, v);
}
DSDEF double ds_graph_search_dist(const ds_graph_search *s, uint32_t v) {
    return ds_graph_search_reached(s, v) ? s->slot[v].dist : HUGE_VAL;
}

DSDEF ds_status ds_graph_search_path(const ds_graph *g, const ds_graph_search *s, uint32_t v,
                                     ds_graph_step *out, size_t cap, size_t *len) {
    size_t n, i;
    uint32_t x;
    if (len) *len = 0;
    if (!g || !s || !len) return DS_EINVAL;
    if (!ds_graph_search_reached(s, v)) return DS_ENOTFOUND;
    if ((x = ds__gs_hops(s, v)) == DS_GRAPH_NONE) return DS_EINVAL;
    *len = n = x;
    if (cap < n) return DS_EFULL;
    if (n && !out) return DS_EINVAL;
    for (i = n, x = v; i > 0; i--) {
        uint32_t p = s->slot[x].pred, via = s->slot[x].via;
        size_t deg;
        const ds_graph_arc *a;
        if (p >= g->nodes) return DS_EINVAL;
        a = ds__graph_arcs(g, p, &deg);
        if (via >= deg || a[via].to != x) return DS_EINVAL; /* not the graph searched */
        out[i - 1].from = p;
        out[i - 1].label = a[via].label;
        out[i - 1].to = x;
        out[i - 1].weight = a[via].weight;
        x = p;
    }
    return DS_OK;
}

/* ---- TSP: nearest neighbour + 2-opt ---- */

static int ds__tsp_ok(double x) { return x >= 0 && x != HUGE_VAL; } /* NaN fails x >= 0 */

DSDEF double ds_tsp_length(size_t n, ds_tsp_dist_fn d, void *ctx, const uint32_t *tour) {
    double sum = 0;
    size_t i;
    if (!d || !tour || n < 2) return 0;
    for (i = 0; i < n; i++) sum += d(ctx, tour[i], tour[i + 1 < n ? i + 1 : 0]);
    return sum;
}

DSDEF ds_status ds_tsp_nearest_neighbor(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
                                        uint32_t *tour, double *length) {
    size_t i, j;
    if (!d || !tour || n == 0 || n > UINT32_MAX || start >= n) return DS_EINVAL;
    for (i = 0; i < n; i++) tour[i] = (uint32_t)i;
    tour[0] = start;
    tour[start] = 0;
    /* tour[i..n) are the unvisited cities: pick the nearest into slot i */
    for (i = 1; i < n; i++) {
        uint32_t cur = tour[i - 1], t;
        size_t best = i;
        double bd = d(ctx, cur, tour[i]);
        if (!ds__tsp_ok(bd)) return DS_EINVAL;
        for (j = i + 1; j < n; j++) {
            double x = d(ctx, cur, tour[j]);
            if (!ds__tsp_ok(x)) return DS_EINVAL;
            if (x < bd) {
                bd = x;
                best = j;
            }
        }
        t = tour[i];
        tour[i] = tour[best];
        tour[best] = t;
    }
    if (n > 1 && !ds__tsp_ok(d(ctx, tour[n - 1], tour[0]))) return DS_EINVAL;
    if (length) *length = ds_tsp_length(n, d, ctx, tour);
    return DS_OK;
}

/* First-improvement 2-opt: replacing edges (a,b) and (c,e) by (a,c) and
 * (b,e) reverses tour[i+1..j]; with symmetric distances the length changes
 * by exactly d(a,c) + d(b,e) - d(a,b) - d(c,e). A move is taken only when
 * that is below a relative 1e-12 of the edges removed, well above the
 * rounding of four terms, so each move truly shortens the tour and the
 * loop ends. */
DSDEF ds_status ds_tsp_two_opt(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t *tour,
                               double *length) {
    size_t i, j;
    int improved = 1;
    if (!d || !tour || n == 0 || n > UINT32_MAX) return DS_EINVAL;
    for (i = 0; i < n; i++)
        if (tour[i] >= n) return DS_EINVAL;
    while (n >= 4 && improved) {
        improved = 0;
        for (i = 0; i + 2 < n; i++) {
            uint32_t a = tour[i], b = tour[i + 1];
            double dab = d(ctx, a, b);
            if (!ds__tsp_ok(dab)) return DS_EINVAL;
            for (j = i + 2; j < n; j++) {
                uint32_t c, e;
                double dce, dac, dbe;
                if (i == 0 && j == n - 1) continue; /* (c,e) would be (t[n-1], t[0]) = next to (a,b) */
                c = tour[j];
                e = tour[j + 1 < n ? j + 1 : 0];
                dce = d(ctx, c, e);
                dac = d(ctx, a, c);
                dbe = d(ctx, b, e);
                if (!ds__tsp_ok(dce) || !ds__tsp_ok(dac) || !ds__tsp_ok(dbe)) return DS_EINVAL;
                if ((dac + dbe) - (dab + dce) < -1e-12 * (dab + dce)) {
                    size_t lo = i + 1, hi = j;
                    while (lo < hi) {
                        uint32_t t = tour[lo];
                        tour[lo++] = tour[hi];
                        tour[hi--] = t;
                    }
                    b = c;
                    dab = dac;
                    improved = 1;
                }
            }
        }
    }
    if (length) *length = ds_tsp_length(n, d, ctx, tour);
    return DS_OK;
}

DSDEF ds_status ds_tsp_solve(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
                             uint32_t *tour, double *length) {
    ds_status st = ds_tsp_nearest_neighbor(n, d, ctx, start, tour, NULL);
    return st != DS_OK ? st : ds_tsp_two_opt(n, d, ctx, tour, length);
}

DSDEF double ds_tsp_matrix_dist(void *ctx, uint32_t i, uint32_t j) {
    const ds_tsp_matrix *m = (const ds_tsp_matrix *)ctx;
    if (!m || !m->d || i >= m->n || j >= m->n) return -1.0; /* refused as a distance */
    return m->d[(size_t)i * m->n + j];
}

DSDEF double ds_tsp_euclid_dist(void *ctx, uint32_t i, uint32_t j) {
    const double *xy = (const double *)ctx;
    double dx, dy;
    if (!xy) return -1.0;
    dx = xy[2 * (size_t)i] - xy[2 * (size_t)j];
    dy = xy[2 * (size_t)i + 1] - xy[2 * (size_t)j + 1];
    return sqrt(dx * dx + dy * dy);
}

#ifdef __cplusplus
}
#endif
#endif /* DS_IMPLEMENTATION */

/*
 * MIT License. Copyright (c) 2026 the ds authors.
 * Permission is hereby granted, free of charge, to any person obtaining a
 * copy of this software and associated documentation files (the
 * "Software"), to deal in the Software without restriction, including
 * without limitation the rights to use, copy, modify, merge, publish,
 * distribute, sublicense, and/or sell copies of the Software, and to permit
 * persons to whom the Software is furnished to do so, subject to the
 * following conditions: The above copyright notice and this permission
 * notice shall be included in all copies or substantial portions of the
 * Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
 */
