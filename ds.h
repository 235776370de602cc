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
 *   top-k helpers, and an open-addressing hash map / set.
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
 *   ds:time       ds_now_ns
 *   ds:vec        DS_VEC(name, T)            dynamic array
 *   ds:deque      DS_DEQUE(name, T)          ring deque with optional maxlen
 *   ds:heap       DS_HEAP(name, T, less)     binary heap, top-k helpers
 *   ds:map        DS_MAP(name, K, V, hash, eq), DS_SET(name, K, hash, eq)
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
 *   DS_NO_STDIO       compile out FILE*-based helpers (none in the core yet).
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

#ifdef __cplusplus
extern "C" {
#endif

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
 * == ds:time ==  monotonic clock
 * ======================================================================== */

/* Nanoseconds from an arbitrary fixed point, never decreasing: the default
 * `now` for every time-taking call in ds. Uses CLOCK_MONOTONIC on POSIX and
 * QueryPerformanceCounter on Windows. If the implementation file included a
 * system header before ds.h under strict -std=c99, POSIX clocks are hidden
 * and it falls back to timespec_get (C11) or time() (seconds): include ds.h
 * first there. Thread-safe. */
DSDEF int64_t ds_now_ns(void);

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

/* Bottom-up sift (Floyd; Wegener's "bottom-up heapsort"): walk the hole
 * from i to a leaf along the smaller children (one compare per level), then
 * sift the element up from there. Used where the element placed at i is
 * likely to belong near the bottom - pop, replace_top, top-k - where it
 * saves about half the compares of a plain sift-down. */
DS__INLINE void ds__heap_sift_leaf(unsigned char *b, size_t n, size_t i, size_t esz,
                                   ds__less_fn less, void *tmp) {
    size_t top = i, c;
    memcpy(tmp, b + i * esz, esz);
    while ((c = 2 * i + 1) < n) {
        /* A branch, not c += less(..): on the streams where this path is hot
         * (every element enters the top-k) the pick is predictable, and a
         * predicted branch breaks the load->compare->index chain. */
        if (c + 1 < n && less(b + (c + 1) * esz, b + c * esz)) c++;
        memcpy(b + i * esz, b + c * esz, esz);
        i = c;
    }
    while (i > top) {
        size_t p = (i - 1) / 2;
        if (!less(tmp, b + p * esz)) break;
        memcpy(b + i * esz, b + p * esz, esz);
        i = p;
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
    static inline void name##__leaf(T *d, size_t n, size_t i) {                         \
        T tmp;                                                                          \
        ds__heap_sift_leaf((unsigned char *)d, n, i, sizeof(T), name##__less, &tmp);    \
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

DSDEF int64_t ds_now_ns(void) {
#if defined(_WIN32)
    static LARGE_INTEGER freq; /* written once with the same value: benign */
    LARGE_INTEGER c;
    if (!freq.QuadPart) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&c);
    return (int64_t)((double)c.QuadPart * 1e9 / (double)freq.QuadPart);
#elif defined(CLOCK_MONOTONIC)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && defined(TIME_UTC)
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
#else
    return (int64_t)time(NULL) * 1000000000;
#endif
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
