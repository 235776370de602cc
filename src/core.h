/* src/core.h - core: options, status codes, allocator hooks, checked sizes, RNG, hashing, clock, io
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/core.h"
 */
#ifndef DS_SRC_CORE_H
#define DS_SRC_CORE_H
/*@prelude*/
#define DS_VERSION_MAJOR 0
#define DS_VERSION_MINOR 2
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
#define DS__NOINLINE __attribute__((noinline))
#define DS__PREFETCH(p) __builtin_prefetch(p) /* a read soon: start the miss now */
#else
#define DS__UNUSED
#define DS__LIKELY(x) (x)
#define DS__UNLIKELY(x) (x)
#define DS__INLINE static inline
#define DS__NOINLINE
#define DS__PREFETCH(p) ((void)0)
#endif
/* Unroll the next loop completely (a constant trip count): for loops of a
 * few prefetches, whose loop overhead would be most of their cost. */
#if defined(__clang__)
#define DS__UNROLL _Pragma("unroll")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define DS__UNROLL _Pragma("GCC unroll 32")
#else
#define DS__UNROLL
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

/*@end*/
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
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
    X(DS_EBUSY, 11, "busy, try again later")                \
    X(DS_EREFUSED, 12, "refused: over the limit or circuit open") \
    X(DS_EMISMATCH, 13, "current value does not match")     \
    X(DS_EDEADLK, 14, "would deadlock: the caller holds it")

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
 * QueryPerformanceCounter on Windows, whatever the include order (where it
 * cannot, the implementation fails to compile with a message saying how to
 * fix it; there is no coarse fallback). Thread-safe. */
DSDEF int64_t ds_now_ns(void);

/* Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME; jumps when
 * the system clock is set). For what must carry real dates, such as
 * ds_snowflake's `now`: ds_now_ns()'s zero is arbitrary (boot, on Linux),
 * so a snowflake fed it would be before its epoch. Same clock rules as
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
 *   an oversized allocation. When the reader cannot tell how much is left
 *   (avail = UINT64_MAX: a pipe, a socket), buffers start small (about
 *   1 MiB) and grow as bytes actually arrive, so a hostile length costs at
 *   most a small multiple of the bytes really sent.
 *   A load reads exactly one image and leaves the reader just past it:
 *   several structures can be saved back to back into one stream and
 *   loaded in the same order. Bytes after an image are not its concern;
 *   to reject a file with anything appended, check that the reader is at
 *   its end afterwards (for ds_mem_reader: src.pos == src.len). */

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
DSDEF ds_status ds_membuf_init(ds_membuf *b, const ds_alloc *a);
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
DSDEF uint32_t ds__dec_init_any(ds__dec *d, ds_reader *r, const char magic[4], uint32_t min_version,
                                uint32_t max_version);
DSDEF void ds__get(ds__dec *d, void *p, size_t n);
DSDEF uint64_t ds__get_u64(ds__dec *d);
DSDEF int ds__dec_room(ds__dec *d, uint64_t bytes);
DSDEF ds_status ds__dec_end(ds__dec *d);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CORE_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_CORE_IMPL)
#define DS_SRC_CORE_IMPL
/*@implprelude*/
#include <math.h>
#include <time.h>
#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#endif

/*@end*/
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
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

/* A system header included before ds.h under strict -std=c99/c11 hides
 * clock_gettime (no POSIX feature macro was set in time). The function is
 * in libc all the same: on LP64 Linux with gcc/clang, declare it under a
 * name of our own (struct timespec is two longs there, and CLOCK_REALTIME
 * 0 / CLOCK_MONOTONIC 1 are the kernel's ABI). Elsewhere that case is a
 * compile error that says how to fix it, never a silent 1 s clock. */
#if !defined(_WIN32) && !defined(CLOCK_MONOTONIC) && defined(__linux__) && defined(__LP64__) && \
    (defined(__GNUC__) || defined(__clang__))
#define DS__CLOCK_BY_NAME 1
typedef struct ds__timespec {
    long sec, nsec;
} ds__timespec;
extern int ds__clock_gettime(int clk, ds__timespec *ts) __asm__("clock_gettime");
#endif

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
#elif defined(DS__CLOCK_BY_NAME)
    ds__timespec ts;
    ds__clock_gettime(wall ? 0 : 1, &ts); /* CLOCK_REALTIME, CLOCK_MONOTONIC */
    return (int64_t)ts.sec * 1000000000 + (int64_t)ts.nsec;
#else
#error "ds.h: no monotonic clock here. In the file that defines DS_IMPLEMENTATION, include ds.h before any system header, or compile with -D_POSIX_C_SOURCE=200809L"
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

DSDEF ds_status ds_membuf_init(ds_membuf *b, const ds_alloc *a) {
    if (!b) return DS_EINVAL;
    b->data = NULL;
    b->len = b->cap = 0;
    b->alloc = a;
    return DS_OK;
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
/* A loader that reads several format versions: the one found (valid when
 * d->st is DS_OK), DS_ECORRUPT outside [min_version, max_version]. */
DSDEF uint32_t ds__dec_init_any(ds__dec *d, ds_reader *r, const char magic[4], uint32_t min_version,
                                uint32_t max_version) {
    char m[4];
    uint64_t v;
    d->r = r;
    d->sum = 0x6473;
    d->st = r && r->read ? DS_OK : DS_EINVAL;
    ds__get(d, m, 4);
    if (d->st == DS_OK && memcmp(m, magic, 4) != 0) d->st = DS_ECORRUPT;
    v = ds__get_u64(d);
    if ((v < min_version || v > max_version) && d->st == DS_OK) d->st = DS_ECORRUPT;
    return d->st == DS_OK ? (uint32_t)v : 0;
}
DSDEF void ds__dec_init(ds__dec *d, ds_reader *r, const char magic[4], uint32_t version) {
    (void)ds__dec_init_any(d, r, magic, version, version);
}
DSDEF ds_status ds__dec_end(ds__dec *d) {
    uint64_t want = d->sum, got = ds__get_u64(d);
    if (d->st == DS_OK && got != want) d->st = DS_ECORRUPT;
    return d->st;
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CORE_IMPL */
