/* src/vecdist.h - vector-search options and distance kernels (scalar + SIMD)
 *
 * One module of ds_hnsw.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/vecdist.h"
 */
#ifndef DS_SRC_VECDIST_H
#define DS_SRC_VECDIST_H
#include "core.h"
#include "map.h"
#include "heap.h"
/*@prelude*/
/* ========================================================================
 * == ds_hnsw:options ==
 * ======================================================================== */
#define DS_HNSW_VERSION_MAJOR 0
#define DS_HNSW_VERSION_MINOR 2
#define DS_HNSW_VERSION_PATCH 0

#if defined(DS_NO_SIMD) && !defined(DS_HNSW_NO_SIMD)
#define DS_HNSW_NO_SIMD
#endif
/* Run-time dispatched x86 kernels need gcc/clang's target attribute and
 * __builtin_cpu_supports; the header itself compiles without -mavx2. */
#if !defined(DS_HNSW_NO_SIMD) && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define DS__HNSW_X86 1
#if (defined(__clang__) && __clang_major__ >= 5) || (!defined(__clang__) && __GNUC__ >= 7)
#define DS__HNSW_AVX512 1
#endif
#endif

/*@end*/
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds_hnsw:distance ==
 * ========================================================================
 * Metrics (the values are part of the file format):
 *   DS_METRIC_L2       squared Euclidean distance, sum (a_i - b_i)^2
 *   DS_METRIC_IP       inner product, as the distance 1 - a.b (hnswlib's
 *                      convention: smaller is nearer, may be negative)
 *   DS_METRIC_COSINE   1 - a.b / (|a||b|); the indexes normalise vectors at
 *                      insert (and the query at search) and then use 1 - a.b,
 *                      so ds_hnsw_get returns the normalised vector.
 *
 *   float ds_dist_l2sq(a, b, dim), ds_dist_dot(a, b, dim)
 *          the best kernel this CPU runs (raw squared L2 and dot product).
 *   float ds_distance(metric, a, b, dim)      the metric's distance as above
 *          (cosine computed in full; a zero vector gives distance 1).
 *   ds_status ds_l2_normalize(float *v, size_t dim)
 *          v /= |v|; DS_EINVAL if |v| is 0 or not finite (v unchanged).
 *   int ds_dist_simd_level(void)   DS_SIMD_SCALAR, DS_SIMD_AVX2 (AVX2+FMA) or
 *          DS_SIMD_AVX512 (AVX-512F): what this build and CPU use.
 *   ds_dist_fn ds_dist_l2sq_kernel(int level), ds_dist_dot_kernel(int level)
 *          one kernel by level, NULL if this build/CPU lacks it (tests
 *          compare every level against the scalar reference).
 * The kernels accumulate in a different order than the scalar loop, so
 * results agree to float rounding (relative ~1e-6), not bit for bit; an
 * index picks its kernel once at init, so its results are reproducible on
 * one machine. Complexity O(dim). Thread-safe. */
typedef enum ds_metric { DS_METRIC_L2 = 1, DS_METRIC_IP = 2, DS_METRIC_COSINE = 3 } ds_metric;

typedef float (*ds_dist_fn)(const float *a, const float *b, size_t dim);
#define DS_SIMD_SCALAR 0
#define DS_SIMD_AVX2 1
#define DS_SIMD_AVX512 2

DSDEF int ds_dist_simd_level(void);
DSDEF ds_dist_fn ds_dist_l2sq_kernel(int level);
DSDEF ds_dist_fn ds_dist_dot_kernel(int level);

/* Half precision (IEEE 754 binary16), for ds_hnsw's DS_HNSW_STORE_F16:
 *   uint16_t ds_f32_to_f16(float x)
 *          x rounded to nearest, ties to even (subnormals included); |x| >=
 *          65520 gives +-inf (65504 is the largest finite half), NaN a
 *          quiet NaN. Done on the bits: the same on every target.
 *   float  ds_f16_to_f32(uint16_t h)      exact (every half is a float).
 *   int    ds_dist_f16_level(void)   the SIMD level the fp16 kernels use:
 *          ds_dist_simd_level(), but DS_SIMD_SCALAR where AVX2 comes
 *          without F16C (no such CPU is known; checked all the same).
 *   ds_dist_f16_fn ds_dist_l2sq_f16_kernel(int level), ds_dist_dot_f16_kernel(int level)
 *          a (fp32) against b (fp16, widened to fp32): the same value, bit
 *          for bit, as the fp32 kernel of that level gives on a and the
 *          widened b (same lanes, same order of additions). NULL above
 *          ds_dist_f16_level(). Complexity O(dim). Thread-safe. */
typedef float (*ds_dist_f16_fn)(const float *a, const uint16_t *b, size_t dim);
DSDEF uint16_t ds_f32_to_f16(float x);
DSDEF float ds_f16_to_f32(uint16_t h);
DSDEF int ds_dist_f16_level(void);
DSDEF ds_dist_f16_fn ds_dist_l2sq_f16_kernel(int level);
DSDEF ds_dist_f16_fn ds_dist_dot_f16_kernel(int level);
DSDEF float ds_dist_l2sq(const float *a, const float *b, size_t dim);
DSDEF float ds_dist_dot(const float *a, const float *b, size_t dim);
DSDEF float ds_distance(ds_metric m, const float *a, const float *b, size_t dim);
DSDEF ds_status ds_l2_normalize(float *v, size_t dim);

/* One search result: the label and its distance under the index's metric.
 * Results come nearest first; equal distances in ascending label order. */
typedef struct ds_neighbor {
    uint64_t label;
    float dist;
} ds_neighbor;

/* Label -> slot map shared by both indexes (internal). */
DS_MAP(ds__vlabel_map, uint64_t, uint64_t, ds_hash_u64, ds_eq_u64)

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_VECDIST_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_HNSW_IMPLEMENTATION)) && !defined(DS_SRC_VECDIST_IMPL)
#define DS_SRC_VECDIST_IMPL
/*@implprelude*/
#include <math.h>
#ifdef DS_HNSW_THREADS
#if !defined(__GNUC__) && !defined(__clang__)
#error "DS_HNSW_THREADS needs gcc or clang (__atomic builtins)"
#endif
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif
#ifdef DS__HNSW_X86
#include <immintrin.h>
#include <cpuid.h>
#endif
/* Transparent huge pages for the HNSW level-0 block (ds__hn_advise_huge):
 * Linux on x86 and arm64, where MADV_HUGEPAGE is 14. Strict -std=c99 hides
 * madvise and the constant (_DEFAULT_SOURCE), so both are spelled here. */
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__))
#include <sys/mman.h>
#define DS__MADV_HUGEPAGE 14
#if !defined(__cplusplus) && !defined(__USE_MISC) && !defined(_GNU_SOURCE) && \
    !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
extern int madvise(void *addr, size_t len, int advice);
#endif
#endif

/*@end*/
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds_hnsw:distance == */

/* Finite means the exponent bits are not all ones (no NaN, no inf); done
 * on the bits so -ffast-math cannot fold it away. */
static DS__UNUSED int ds__vec_finite(const float *v, size_t dim) {
    size_t i;
    for (i = 0; i < dim; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        if ((u & 0x7f800000u) == 0x7f800000u) return 0;
    }
    return 1;
}

/* binary16: 1 sign, 5 exponent (bias 15), 10 fraction bits. Widening is
 * exact: a normal half moves its exponent to float's bias (127 - 15 =
 * 112), a subnormal is its fraction times 2^-24 (an exact float product). */
DSDEF float ds_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (uint32_t)(h >> 10) & 0x1fu,
             m = (uint32_t)h & 0x3ffu, u;
    float f;
    if (e == 0) {
        f = (float)m * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    u = sign | (e == 31 ? 0x7f800000u : (e + 112u) << 23) | m << 13;
    memcpy(&f, &u, 4);
    return f;
}
/* Narrowing, round to nearest even on the bits (no dependence on the FPU's
 * rounding mode or flush-to-zero). */
DSDEF uint16_t ds_f32_to_f16(float x) {
    uint32_t u, a, sign, m, q, rem, half;
    int shift;
    memcpy(&u, &x, 4);
    sign = (u >> 16) & 0x8000u;
    a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | (a >> 13 & 0x3ffu)); /* NaN, quiet */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 (or inf): inf */
    if (a >= 0x38800000u) { /* >= 2^-14: a normal half; rebias and round the 13 dropped bits */
        a -= 0x38000000u;
        return (uint16_t)(sign | (a + 0xfffu + (a >> 13 & 1u)) >> 13);
    }
    if (a <= 0x33000000u) return (uint16_t)sign; /* <= 2^-25: ties to the even 0 */
    /* A subnormal half counts 2^-24 units: the significand (implicit bit
     * set) shifted right by 126 - exponent (14..24), rounded; a carry into
     * 0x400 is the smallest normal, as it should be. */
    m = (a & 0x7fffffu) | 0x800000u;
    shift = 126 - (int)(a >> 23);
    q = m >> shift;
    rem = m & ((1u << shift) - 1u);
    half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

/* Every kernel below is one body per level and operation, shared by the
 * fp32 kernel (b floats, half = 0) and the fp32 x fp16 one (b halves,
 * half = 1, widened exactly as they load): the same lanes and the same
 * order of additions, so the fp16 kernel's result is the fp32 kernel's on
 * the widened b, bit for bit. The bodies are forced inline and the
 * wrappers pass a constant, so each kernel compiles to its own loop. */

/* b[i] as a float. */
DS__INLINE float ds__vat(const void *b, size_t i, int half) {
    return half ? ds_f16_to_f32(((const uint16_t *)b)[i]) : ((const float *)b)[i];
}
/* Scalar references: one plain accumulator, the order a reader expects. */
DS__INLINE float ds__l2sq_scalar_any(const float *a, const void *b, int half, size_t dim) {
    float s = 0.0f;
    size_t i;
    for (i = 0; i < dim; i++) {
        float t = a[i] - ds__vat(b, i, half);
        s += t * t;
    }
    return s;
}
DS__INLINE float ds__dot_scalar_any(const float *a, const void *b, int half, size_t dim) {
    float s = 0.0f;
    size_t i;
    for (i = 0; i < dim; i++) s += a[i] * ds__vat(b, i, half);
    return s;
}
static float ds__l2sq_scalar(const float *a, const float *b, size_t dim) {
    return ds__l2sq_scalar_any(a, b, 0, dim);
}
static float ds__dot_scalar(const float *a, const float *b, size_t dim) {
    return ds__dot_scalar_any(a, b, 0, dim);
}
static float ds__l2sq_f16_scalar(const float *a, const uint16_t *b, size_t dim) {
    return ds__l2sq_scalar_any(a, b, 1, dim);
}
static float ds__dot_f16_scalar(const float *a, const uint16_t *b, size_t dim) {
    return ds__dot_scalar_any(a, b, 1, dim);
}
static void ds__f16_widen_scalar(const uint16_t *src, float *dst, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) dst[i] = ds_f16_to_f32(src[i]);
}

#ifdef DS__HNSW_X86
/* AVX2+FMA: two 8-lane accumulators (hides the FMA latency), then 8 and
 * the scalar tail. F16C is in the target for the fp16 kernels' vcvtph2ps;
 * the fp32 ones hold no F16C instruction (half is 0 there), so they still
 * run wherever AVX2 and FMA do. */
#define DS__AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
DS__AVX2_TARGET static float ds__hsum256(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}
/* 8 lanes of b from b[i]: floats, or halves widened. */
DS__AVX2_TARGET DS__INLINE __m256 ds__ld8(const void *b, size_t i, int half) {
    if (half) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)b + i)));
    return _mm256_loadu_ps((const float *)b + i);
}
DS__AVX2_TARGET DS__INLINE float ds__l2sq_avx2_any(const float *a, const void *b, int half,
                                                   size_t dim) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    float s;
    for (; i + 16 <= dim; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), ds__ld8(b, i, half));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), ds__ld8(b, i + 8, half));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    if (i + 8 <= dim) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), ds__ld8(b, i, half));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        i += 8;
    }
    s = ds__hsum256(_mm256_add_ps(s0, s1));
    for (; i < dim; i++) {
        float t = a[i] - ds__vat(b, i, half);
        s += t * t;
    }
    return s;
}
DS__AVX2_TARGET DS__INLINE float ds__dot_avx2_any(const float *a, const void *b, int half,
                                                  size_t dim) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    float s;
    for (; i + 16 <= dim; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), ds__ld8(b, i, half), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), ds__ld8(b, i + 8, half), s1);
    }
    if (i + 8 <= dim) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), ds__ld8(b, i, half), s0);
        i += 8;
    }
    s = ds__hsum256(_mm256_add_ps(s0, s1));
    for (; i < dim; i++) s += a[i] * ds__vat(b, i, half);
    return s;
}
DS__AVX2_TARGET static float ds__l2sq_avx2(const float *a, const float *b, size_t dim) {
    return ds__l2sq_avx2_any(a, b, 0, dim);
}
DS__AVX2_TARGET static float ds__dot_avx2(const float *a, const float *b, size_t dim) {
    return ds__dot_avx2_any(a, b, 0, dim);
}
DS__AVX2_TARGET static float ds__l2sq_f16_avx2(const float *a, const uint16_t *b, size_t dim) {
    return ds__l2sq_avx2_any(a, b, 1, dim);
}
DS__AVX2_TARGET static float ds__dot_f16_avx2(const float *a, const uint16_t *b, size_t dim) {
    return ds__dot_avx2_any(a, b, 1, dim);
}
DS__AVX2_TARGET static void ds__f16_widen_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, ds__ld8(src, i, 1));
    for (; i < n; i++) dst[i] = ds_f16_to_f32(src[i]);
}
#ifdef DS__HNSW_AVX512
/* gcc 12's AVX-512 intrinsics start from _mm512_undefined_*() and warn
 * -Wuninitialized in C++ at -O2 (gcc bug 105593, fixed in 13): silence
 * that warning around these kernels only. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/* AVX-512F: 16 lanes, the tail as one masked load (no scalar loop). */
#define DS__AVX512_TARGET __attribute__((target("avx512f")))
/* 16 lanes of b from b[i], the first `left` of them (all when left >= 16;
 * the rest read as +0): floats, or halves widened. A partial tail of
 * halves goes through a zeroed copy (a masked 16-bit load needs
 * AVX-512BW); its lanes widen to +0 as the float kernel's masked lanes
 * read, so the sums agree bit for bit. */
DS__AVX512_TARGET DS__INLINE __m512 ds__ld16(const void *b, size_t i, size_t left, int half) {
    const uint16_t *h = (const uint16_t *)b + i;
    uint16_t t[16];
    if (!half) {
        if (left >= 16) return _mm512_loadu_ps((const float *)b + i);
        return _mm512_maskz_loadu_ps((__mmask16)((1u << left) - 1u), (const float *)b + i);
    }
    if (left < 16) {
        memset(t, 0, sizeof t);
        memcpy(t, h, left * sizeof *h);
        h = t;
    }
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)h));
}
DS__AVX512_TARGET DS__INLINE float ds__l2sq_avx512_any(const float *a, const void *b, int half,
                                                       size_t dim) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), ds__ld16(b, i, 16, half));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), ds__ld16(b, i + 16, 16, half));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; i < dim; i += 16) {
        size_t left = dim - i;
        __mmask16 m = (__mmask16)(left >= 16 ? 0xffffu : ((1u << left) - 1u));
        __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), ds__ld16(b, i, left, half));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
DS__AVX512_TARGET DS__INLINE float ds__dot_avx512_any(const float *a, const void *b, int half,
                                                      size_t dim) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), ds__ld16(b, i, 16, half), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), ds__ld16(b, i + 16, 16, half), s1);
    }
    for (; i < dim; i += 16) {
        size_t left = dim - i;
        __mmask16 m = (__mmask16)(left >= 16 ? 0xffffu : ((1u << left) - 1u));
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), ds__ld16(b, i, left, half), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
DS__AVX512_TARGET static float ds__l2sq_avx512(const float *a, const float *b, size_t dim) {
    return ds__l2sq_avx512_any(a, b, 0, dim);
}
DS__AVX512_TARGET static float ds__dot_avx512(const float *a, const float *b, size_t dim) {
    return ds__dot_avx512_any(a, b, 0, dim);
}
DS__AVX512_TARGET static float ds__l2sq_f16_avx512(const float *a, const uint16_t *b, size_t dim) {
    return ds__l2sq_avx512_any(a, b, 1, dim);
}
DS__AVX512_TARGET static float ds__dot_f16_avx512(const float *a, const uint16_t *b, size_t dim) {
    return ds__dot_avx512_any(a, b, 1, dim);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
#endif

DSDEF int ds_dist_simd_level(void) {
#ifdef DS__HNSW_X86
#ifdef DS__HNSW_AVX512
    if (__builtin_cpu_supports("avx512f")) return DS_SIMD_AVX512;
#endif
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return DS_SIMD_AVX2;
#endif
    return DS_SIMD_SCALAR;
}
/* A level's kernels, {scalar, AVX2, AVX-512}; a level this build lacks is
 * NULL, and never asked for (the getters stop at the CPU's level, which
 * counts only what the build has). */
#if defined(DS__HNSW_AVX512)
#define DS__KERNELS(scalar, avx2, avx512) {scalar, avx2, avx512}
#elif defined(DS__HNSW_X86)
#define DS__KERNELS(scalar, avx2, avx512) {scalar, avx2, NULL}
#else
#define DS__KERNELS(scalar, avx2, avx512) {scalar, NULL, NULL}
#endif
DSDEF ds_dist_fn ds_dist_l2sq_kernel(int level) {
    static const ds_dist_fn k[3] = DS__KERNELS(ds__l2sq_scalar, ds__l2sq_avx2, ds__l2sq_avx512);
    return level < 0 || level > ds_dist_simd_level() ? NULL : k[level];
}
DSDEF ds_dist_fn ds_dist_dot_kernel(int level) {
    static const ds_dist_fn k[3] = DS__KERNELS(ds__dot_scalar, ds__dot_avx2, ds__dot_avx512);
    return level < 0 || level > ds_dist_simd_level() ? NULL : k[level];
}
/* AVX2 and F16C: F16C is CPUID.1:ECX bit 29 (clang 14's
 * __builtin_cpu_supports does not know "f16c"); the AVX state it needs is
 * what the avx2 check found enabled. */
static int ds__cpu_f16c(void) {
#ifdef DS__HNSW_X86
    unsigned ea, eb, ec = 0, ed;
    return ds_dist_simd_level() >= DS_SIMD_AVX2 && __get_cpuid(1, &ea, &eb, &ec, &ed) &&
           (ec >> 29 & 1u);
#else
    return 0;
#endif
}
DSDEF int ds_dist_f16_level(void) {
    int level = ds_dist_simd_level();
    return level == DS_SIMD_AVX2 && !ds__cpu_f16c() ? DS_SIMD_SCALAR : level;
}
DSDEF ds_dist_f16_fn ds_dist_l2sq_f16_kernel(int level) {
    static const ds_dist_f16_fn k[3] =
        DS__KERNELS(ds__l2sq_f16_scalar, ds__l2sq_f16_avx2, ds__l2sq_f16_avx512);
    return level < 0 || level > ds_dist_f16_level() ? NULL : k[level];
}
DSDEF ds_dist_f16_fn ds_dist_dot_f16_kernel(int level) {
    static const ds_dist_f16_fn k[3] =
        DS__KERNELS(ds__dot_f16_scalar, ds__dot_f16_avx2, ds__dot_f16_avx512);
    return level < 0 || level > ds_dist_f16_level() ? NULL : k[level];
}
/* Widen n halves to floats (internal: the HNSW build's stored-vs-stored
 * distances widen one side once, then use the fp32 x fp16 kernel). F16C
 * where the CPU has it (AVX-512 CPUs do). */
typedef void (*ds__f16_widen_fn)(const uint16_t *src, float *dst, size_t n);
static DS__UNUSED ds__f16_widen_fn ds__f16_widener(void) {
#ifdef DS__HNSW_X86
    if (ds__cpu_f16c()) return ds__f16_widen_f16c;
#endif
    return ds__f16_widen_scalar;
}
DSDEF float ds_dist_l2sq(const float *a, const float *b, size_t dim) {
    return ds_dist_l2sq_kernel(ds_dist_simd_level())(a, b, dim);
}
DSDEF float ds_dist_dot(const float *a, const float *b, size_t dim) {
    return ds_dist_dot_kernel(ds_dist_simd_level())(a, b, dim);
}
DSDEF float ds_distance(ds_metric m, const float *a, const float *b, size_t dim) {
    ds_dist_fn dot = ds_dist_dot_kernel(ds_dist_simd_level());
    if (m == DS_METRIC_L2) return ds_dist_l2sq(a, b, dim);
    if (m == DS_METRIC_IP) return 1.0f - dot(a, b, dim);
    {
        float na = dot(a, a, dim), nb = dot(b, b, dim);
        if (na <= 0.0f || nb <= 0.0f) return 1.0f;
        return 1.0f - dot(a, b, dim) / (sqrtf(na) * sqrtf(nb));
    }
}
/* |v|^2 in double: a float sum underflows to 0 for norms near 1e-20 and
 * below, which would call such a vector zero under cosine. */
static DS__UNUSED double ds__vec_norm2(const float *v, size_t dim) {
    double s = 0.0;
    size_t i;
    for (i = 0; i < dim; i++) s += (double)v[i] * (double)v[i];
    return s;
}
/* The largest |v|^2 the L2 and IP indexes take: 2^126 (about 8.5e37, a
 * quarter of FLT_MAX), so |a - b|^2 <= (|a| + |b|)^2 and |a . b| stay
 * finite in float, partial sums included (the distance kernels add
 * nonnegative terms, and Cauchy-Schwarz bounds a dot product's partial
 * sums). Past it a distance could be inf, or NaN where +inf and -inf
 * terms meet, and results would lose their order. */
#define DS__VEC_MAX_NORM2 85070591730234615865843651857942052864.0 /* 2^126 */
static DS__UNUSED int ds__vec_in_range(const float *v, size_t dim) {
    return ds__vec_finite(v, dim) && ds__vec_norm2(v, dim) <= DS__VEC_MAX_NORM2;
}
DSDEF ds_status ds_l2_normalize(float *v, size_t dim) {
    double s;
    size_t i;
    if (!v || !dim) return DS_EINVAL;
    s = ds__vec_norm2(v, dim);
    if (!(s > 0.0) || s > 1e300) return DS_EINVAL; /* zero, NaN or inf */
    s = 1.0 / sqrt(s);
    for (i = 0; i < dim; i++) v[i] = (float)((double)v[i] * s);
    return DS_OK;
}

/* Result order: nearer first, then smaller label (deterministic ties). */
static int ds__nb_worse(const void *pa, const void *pb) {
    const ds_neighbor *a = (const ds_neighbor *)pa, *b = (const ds_neighbor *)pb;
    return a->dist > b->dist || (a->dist == b->dist && a->label > b->label);
}
/* Offer x to a bounded max-heap (worst on top) of up to k results. */
static DS__UNUSED void ds__nb_offer(ds_neighbor *heap, size_t *len, size_t k, ds_neighbor x) {
    ds_neighbor tmp;
    if (*len < k) {
        heap[(*len)++] = x;
        ds__heap_sift_up((unsigned char *)heap, *len - 1, sizeof x, ds__nb_worse, &tmp);
    } else if (ds__nb_worse(heap, &x)) {
        heap[0] = x;
        ds__heap_sift_down((unsigned char *)heap, *len, 0, sizeof x, ds__nb_worse, &tmp);
    }
}
/* Heap-sort the max-heap in place into nearest-first order. */
static DS__UNUSED void ds__nb_sort(ds_neighbor *heap, size_t len) {
    ds_neighbor tmp;
    while (len > 1) {
        ds_neighbor top = heap[0];
        heap[0] = heap[--len];
        heap[len] = top;
        ds__heap_sift_down((unsigned char *)heap, len, 0, sizeof top, ds__nb_worse, &tmp);
    }
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_VECDIST_IMPL */
