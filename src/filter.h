/* src/filter.h - ds_bloom, ds_sbloom, ds_cuckoo: Bloom and cuckoo filters
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/filter.h"
 */
#ifndef DS_SRC_FILTER_H
#define DS_SRC_FILTER_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
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
 * Standard: k bits anywhere in m, so up to k cache misses per query
 * (a negative stops at the first clear bit: ~2 probes when half full,
 * but where it stops is a branch no predictor can learn, each probed bit
 * being clear with probability ~1/2, so a loop of queries overlaps little).
 * Blocked: a split block filter, the blocked Bloom filter of Putze,
 * Sanders & Singler ("Cache-, Hash- and Space-Efficient Bloom Filters",
 * WEA 2007) in the split form of Apache Parquet's / Impala's split block
 * Bloom filter: every key lives in one 512-bit block (one 64-byte cache
 * line; the bit array is 64-byte aligned), and of its k = 8 probes,
 * probe i sets one bit in 64-bit word i (mod 8) of the block, at bit
 * (h32 * salt_i) >> 26 (multiply-shift, a distinct odd 32-bit salt per
 * word). A query is one cache miss and a branch-free mask test; on x86
 * with gcc/clang an AVX2 kernel (picked at run time; DS_NO_SIMD turns it
 * off) tests the whole line with two 256-bit loads. Keys per block are
 * Poisson, and a word's bits collide more than a free block's, so the
 * filter needs more bits than a standard one for the same p:
 * init_blocked adds bits until the split-block model (keys per block
 * Poisson(512 / bits per key), word j holding its probes) predicts
 * 0.98 p. Measured at n = 10^6 random keys (standard: tests/test_sketch.c,
 * 2*10^5 to 6*10^5 negative queries; blocked: 2*10^7 negative queries, where
 * the test's smaller samples read 0.0976, 0.0103 and 0.00104):
 *     target p   standard: bits/key  FPP       blocked: bits/key  FPP
 *     0.1                  4.79      0.1008             5.92      0.0977
 *     0.01                 9.59      0.0100            10.15      0.00976
 *     0.001               14.38      0.00101           15.79      0.000982
 * (the pre-format-2 layout took 4.84, 9.97 and 15.57 bits/key: the split
 * block costs 1-22% more memory than it, 6-24% more than standard, for a
 * query that is one line and two vector tests). Below p ~ 2e-4, k = 16
 * (two bits per word) needs fewer bits than 8 and init_blocked takes it.
 * At equal m and k (init_mk) the blocked FPP is higher; the measured curve
 * is in bench/bench_sketch.c's output and README's plot.
 * Filters saved by ds before format 2 used another blocked layout (k bits
 * anywhere in the block); they still load and answer as before
 * (blocked == 2 marks them; new filters are never made that way).
 *
 *   ds_status ds_bloom_init(ds_bloom *b, uint64_t n, double p, const ds_alloc *a)
 *   ds_status ds_bloom_init_blocked(ds_bloom *b, uint64_t n, double p, const ds_alloc *a)
 *          size for n keys at false-positive rate p. DS_EINVAL if n == 0,
 *          p not in (0,1), or the size overflows (m > 2^48 bits); DS_ENOMEM.
 *   ds_status ds_bloom_init_mk(ds_bloom *b, uint64_t m, unsigned k, int blocked,
 *                              const ds_alloc *a)
 *          explicit m bits (rounded up to 64, or 512 when blocked) and k
 *          probes (1..64; blocked: probe i in word i mod 8, so k = 8 is
 *          one bit per word and the fast path).
 *   void   ds_bloom_free(ds_bloom *b), ds_bloom_clear(ds_bloom *b)
 *   ds_status ds_bloom_add(ds_bloom *b, const void *key, size_t len, int *added)
 *          DS_OK; *added (may be NULL) = 1 if the key was certainly new
 *          (some bit flipped), else 0 (already present, or a false
 *          positive), as RedisBloom's BF.ADD. DS_EINVAL for a NULL or
 *          freed filter, or a NULL key with len > 0.
 *   int    ds_bloom_has(const ds_bloom *b, const void *key, size_t len)
 *   double ds_bloom_fpp(const ds_bloom *b)     FPP at the current fill:
 *          (bits set / m)^k; blocked: the mean over blocks of the product
 *          over its words of (word fill)^(probes in that word), an O(m) scan
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
 *          Saves write format 2 ("DSbf", and "DSsb" for ds_sbloom); load
 *          reads formats 1 and 2.
 *
 * Complexity: add/has O(k); fpp O(1) standard, O(m) blocked; count O(1);
 * union/intersect/clear O(m). Memory: m/8 bytes plus 64 (alignment).
 * Thread-safety: concurrent has() calls are safe; add needs exclusion. */
typedef struct ds_bloom {
    uint64_t *bits;    /* m / 64 words, 64-byte aligned inside mem */
    uint64_t m;        /* bits; a multiple of 64 (512 when blocked) */
    uint64_t set;      /* bits that are 1 */
    uint64_t n;        /* adds that flipped a bit */
    unsigned k;        /* probes per key, 1..64 */
    int blocked;       /* 0 standard, 1 split block, 2 the pre-format-2
                        * blocked layout (only from old files) */
    int simd;          /* 1: has() takes the AVX2 kernel (split blocks with
                        * k = 8 on a CPU with AVX2; set by init and load;
                        * 0 forces the portable code) */
    void *mem;         /* the allocation: m / 8 + 64 bytes */
    const ds_alloc *alloc;
} ds_bloom;

DSDEF ds_status ds_bloom_init(ds_bloom *b, uint64_t n, double p, const ds_alloc *a);
DSDEF ds_status ds_bloom_init_blocked(ds_bloom *b, uint64_t n, double p, const ds_alloc *a);
DSDEF ds_status ds_bloom_init_mk(ds_bloom *b, uint64_t m, unsigned k, int blocked,
                                 const ds_alloc *a);
DSDEF void ds_bloom_free(ds_bloom *b);
DSDEF void ds_bloom_clear(ds_bloom *b);
DSDEF ds_status ds_bloom_add_hash(ds_bloom *b, uint64_t h, int *added);
DSDEF int ds_bloom_has_hash(const ds_bloom *b, uint64_t h);
static inline ds_status ds_bloom_add(ds_bloom *b, const void *key, size_t len, int *added) {
    if (!key && len) return DS_EINVAL;
    return ds_bloom_add_hash(b, ds_hash_bytes(key, len, 0), added);
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

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_FILTER_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_FILTER_IMPL)
#define DS_SRC_FILTER_IMPL
/*@implprelude*/
/* The blocked Bloom query's AVX2 kernel: run-time dispatched (gcc/clang's
 * target attribute and __builtin_cpu_supports), so the header needs no
 * -mavx2; DS_NO_SIMD leaves only the portable code. */
#if !defined(DS_NO_SIMD) && (defined(__x86_64__) || defined(__i386__)) && \
    ((defined(__clang__) && __clang_major__ >= 4) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 5))
#define DS__BLOOM_AVX2 1
#include <immintrin.h>
#endif
/*@end*/
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:bloom == */

#define DS__BLOOM_MAX_BITS ((uint64_t)1 << 48)
#define DS__BLOOM_STD 0
#define DS__BLOOM_SPLIT 1  /* blocked: split block, probe i in word i mod 8 */
#define DS__BLOOM_LEGACY 2 /* blocked, format 1: k bits anywhere in the block */

static inline uint64_t ds__fastrange64(uint64_t x, uint64_t n) {
    uint64_t hi = n;
    ds__mum128(&x, &hi); /* (x * n) >> 64: x scaled into [0, n) */
    return hi;
}

/* 1 when has() may take the AVX2 kernel: split blocks, k = 8, and a CPU
 * that runs it. */
static int ds__bloom_simd(int kind, unsigned k) {
#ifdef DS__BLOOM_AVX2
    return kind == 1 && k == 8 && __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    (void)kind;
    (void)k;
    return 0;
#endif
}

/* Point b->bits at the first 64-byte boundary inside the allocation
 * mem of m / 8 + 64 bytes, so each 512-bit block is one cache line. */
static void ds__bloom_place(ds_bloom *b, void *mem) {
    size_t off = (size_t)((64 - (uintptr_t)mem % 64) % 64);
    b->mem = mem;
    b->bits = (uint64_t *)(void *)((unsigned char *)mem + off);
}

static ds_status ds__bloom_alloc(ds_bloom *b, uint64_t m, unsigned k, int blocked,
                                 const ds_alloc *a) {
    size_t bytes;
    void *mem;
    if (m == 0 || m > DS__BLOOM_MAX_BITS || k < 1 || k > 64) return DS_EINVAL;
    m = blocked ? (m + 511) / 512 * 512 : (m + 63) / 64 * 64;
    if (m / 64 > SIZE_MAX || !ds_size_mul((size_t)(m / 64), 8, &bytes) ||
        !ds_size_add(bytes, 64, &bytes))
        return DS_EINVAL;
    mem = DS_MALLOC(a, bytes);
    if (!mem) return DS_ENOMEM;
    ds__bloom_place(b, mem);
    memset(b->bits, 0, (size_t)(m / 8));
    b->m = m;
    b->k = k;
    b->blocked = blocked ? DS__BLOOM_SPLIT : DS__BLOOM_STD;
    b->simd = ds__bloom_simd(b->blocked, k);
    b->set = b->n = 0;
    b->alloc = a;
    return DS_OK;
}

/* b^e for a small unsigned e, by squaring. */
static double ds__powu(double b, unsigned e) {
    double r = 1;
    for (; e; e >>= 1, b *= b)
        if (e & 1) r *= b;
    return r;
}
/* FPP of a split-block filter at `bpk` bits per key and k probes (probe i
 * in 64-bit word i mod 8 of a 512-bit block): keys per block are
 * Poisson(512/bpk); a block holding x keys has word j, which takes c_j of
 * each key's probes, filled to 1 - (1 - 1/64)^(c_j x), and answers yes
 * with probability prod_j fill_j^c_j. Averaged over the distribution
 * (Putze, Sanders & Singler 2007, section 3, for a block split in words). */
static double ds__bloom_split_fpp(double bpk, unsigned k) {
    double lam = 512.0 / bpk, pk = exp(-lam), sum = 0, miss = log1p(-1.0 / 64);
    double top = lam + 12 * sqrt(lam) + 30, x;
    /* k % 8 words take c1 = k / 8 + 1 probes, the other 8 - k % 8 take
     * c0 = k / 8: two integer powers a block, not eight pow() calls (init
     * runs this ~25 times) */
    unsigned c0 = k / 8, c1 = c0 + 1, n1 = k % 8, n0 = 8 - n1;
    for (x = 0; x <= top; x += 1) {
        double prod = 1;
        if (x > 0) pk *= lam / x;
        if (pk < 1e-300) continue;
        if (c0 > 0) prod *= ds__powu(1.0 - exp((double)c0 * x * miss), c0 * n0);
        if (n1 > 0) prod *= ds__powu(1.0 - exp((double)c1 * x * miss), c1 * n1);
        sum += pk * prod;
    }
    return sum;
}

/* m and k for n keys at rate p. Standard: the textbook optimum. Blocked:
 * k = 8 (one bit per word; 16 where that needs fewer bits, below p ~
 * 2e-4), and the fewest bits per key (bisection, 0.1%) at which the split
 * block model above predicts 0.98 p, so init_blocked keeps its promise at
 * a memory cost. */
static ds_status ds__bloom_size(uint64_t n, double p, int blocked, uint64_t *m, unsigned *k) {
    double bpk, bits, kk;
    if (n == 0 || !(p > 0.0 && p < 1.0)) return DS_EINVAL;
    bpk = -log(p) / (0.6931471805599453 * 0.6931471805599453);
    kk = floor(bpk * 0.6931471805599453 + 0.5);
    *k = kk < 1 ? 1u : kk > 64 ? 64u : (unsigned)kk;
    if (blocked) {
        static const unsigned ks[2] = {8, 16};
        double best = HUGE_VAL, target = 0.98 * p;
        int c, i;
        for (c = 0; c < 2; c++) {
            double lo = 0.25, hi = bpk + 1;
            for (i = 0; i < 200 && ds__bloom_split_fpp(hi, ks[c]) > target; i++) hi *= 1.5;
            if (i == 200) continue;
            while (hi - lo > 0.001 * hi) {
                double mid = 0.5 * (lo + hi);
                if (ds__bloom_split_fpp(mid, ks[c]) > target) lo = mid;
                else hi = mid;
            }
            if (hi < best) {
                best = hi;
                *k = ks[c];
            }
        }
        if (!(best < HUGE_VAL)) return DS_EINVAL;
        bpk = best;
    }
    bits = ceil((double)n * bpk);
    if (!(bits <= (double)DS__BLOOM_MAX_BITS)) return DS_EINVAL;
    *m = bits < 64 ? 64 : (uint64_t)bits;
    return DS_OK;
}

DSDEF ds_status ds_bloom_init_mk(ds_bloom *b, uint64_t m, unsigned k, int blocked,
                                 const ds_alloc *a) {
    if (!b) return DS_EINVAL;
    memset(b, 0, sizeof *b); /* a failed init leaves a struct free accepts */
    return ds__bloom_alloc(b, m, k, blocked, a);
}
DSDEF ds_status ds_bloom_init(ds_bloom *b, uint64_t n, double p, const ds_alloc *a) {
    uint64_t m;
    unsigned k;
    ds_status s;
    if (!b) return DS_EINVAL;
    memset(b, 0, sizeof *b); /* a failed init leaves a struct free accepts */
    if ((s = ds__bloom_size(n, p, 0, &m, &k)) != DS_OK) return s;
    return ds__bloom_alloc(b, m, k, 0, a);
}
DSDEF ds_status ds_bloom_init_blocked(ds_bloom *b, uint64_t n, double p, const ds_alloc *a) {
    uint64_t m;
    unsigned k;
    ds_status s;
    if (!b) return DS_EINVAL;
    memset(b, 0, sizeof *b); /* a failed init leaves a struct free accepts */
    if ((s = ds__bloom_size(n, p, 1, &m, &k)) != DS_OK) return s;
    return ds__bloom_alloc(b, m, k, 1, a);
}
DSDEF void ds_bloom_free(ds_bloom *b) {
    if (!b) return;
    if (b->mem) DS_FREE(b->alloc, b->mem, (size_t)(b->m / 8) + 64);
    b->bits = NULL;
    b->mem = NULL;
    b->simd = 0;
    b->m = b->set = b->n = 0;
}
DSDEF void ds_bloom_clear(ds_bloom *b) {
    if (!b || !b->bits) return;
    memset(b->bits, 0, (size_t)(b->m / 8));
    b->set = b->n = 0;
}

/* Probe sequence. Standard: enhanced double hashing over [0, m) by
 * fast range reduction of a 64-bit x. Blocked: the block from the high
 * bits of h (fast range: no division); probe i sets bit
 * (uint32)h * salt[i] >> 26 of word i mod 8 in it (multiply-shift with a
 * distinct odd multiplier per probe, as Parquet's split block filter
 * does), so the offsets are independent, computed without a dependency
 * chain, and tested branch-free: each word against its mask, or the line
 * as two 256-bit vectors. Legacy (format 1) blocked filters: offset
 * (uint32)h * salt[i] >> 23 anywhere in the 512 bits. */
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

static inline const uint64_t *ds__bloom_block(const ds_bloom *b, uint64_t h) {
    return b->bits + 8 * ds__fastrange64(h, b->m / 512);
}
/* k = 8, one bit per word: the unrolled portable test. */
static inline int ds__bloom_has8(const uint64_t *blk, uint32_t h32) {
    uint64_t ok = 1;
    unsigned i;
    for (i = 0; i < 8; i++) ok &= blk[i] >> ((h32 * ds__bloom_salt[i]) >> 26);
    return (int)(ok & 1);
}
#ifdef DS__BLOOM_AVX2
/* The same test on the whole line: the 8 offsets by one vector multiply
 * and shift, the 8 masks by a variable shift, two loads, two vptest. */
__attribute__((target("avx2"))) static int ds__bloom_has8_avx2(const uint64_t *blk, uint32_t h32) {
    const __m256i salt = _mm256_loadu_si256((const __m256i *)(const void *)ds__bloom_salt);
    const __m256i one = _mm256_set1_epi64x(1);
    __m256i pos = _mm256_srli_epi32(_mm256_mullo_epi32(_mm256_set1_epi32((int)h32), salt), 26);
    __m256i m0 = _mm256_sllv_epi64(one, _mm256_cvtepu32_epi64(_mm256_castsi256_si128(pos)));
    __m256i m1 = _mm256_sllv_epi64(one, _mm256_cvtepu32_epi64(_mm256_extracti128_si256(pos, 1)));
    __m256i w0 = _mm256_load_si256((const __m256i *)(const void *)blk);
    __m256i w1 = _mm256_load_si256((const __m256i *)(const void *)(blk + 4));
    return _mm256_testc_si256(w0, m0) & _mm256_testc_si256(w1, m1);
}
#endif

DSDEF ds_status ds_bloom_add_hash(ds_bloom *b, uint64_t h, int *added) {
    uint64_t fresh = 0;
    unsigned i;
    if (!b || !b->bits) return DS_EINVAL;
    if (b->blocked) {
        uint64_t *blk = b->bits + 8 * ds__fastrange64(h, b->m / 512);
        uint32_t h32 = (uint32_t)h;
        if (b->blocked == DS__BLOOM_SPLIT) {
            for (i = 0; i < b->k; i++) {
                uint64_t mask = (uint64_t)1 << ((h32 * ds__bloom_salt[i]) >> 26);
                fresh += !(blk[i & 7] & mask);
                blk[i & 7] |= mask;
            }
        } else {
            for (i = 0; i < b->k; i++) {
                uint32_t bit = (h32 * ds__bloom_salt[i]) >> 23;
                uint64_t mask = (uint64_t)1 << (bit & 63);
                fresh += !(blk[bit >> 6] & mask);
                blk[bit >> 6] |= mask;
            }
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
    if (added) *added = fresh != 0;
    return DS_OK;
}
DSDEF int ds_bloom_has_hash(const ds_bloom *b, uint64_t h) {
    unsigned i;
#ifdef DS__BLOOM_AVX2
    /* First and with one test: the fewer instructions a query takes, the
     * more of them the core overlaps, each waiting on its own miss. */
    if (b && b->simd) return ds__bloom_has8_avx2(ds__bloom_block(b, h), (uint32_t)h);
#endif
    if (!b || !b->bits) return 0;
    if (b->blocked) {
        /* No early exit: all k probes hit the one cache line anyway, and
         * a branch per probe would mispredict on negatives. */
        const uint64_t *blk = ds__bloom_block(b, h);
        uint32_t h32 = (uint32_t)h;
        uint64_t ok = 1;
        if (b->blocked == DS__BLOOM_SPLIT) {
            if (b->k == 8) return ds__bloom_has8(blk, h32);
            for (i = 0; i < b->k; i++) ok &= blk[i & 7] >> ((h32 * ds__bloom_salt[i]) >> 26);
        } else {
            for (i = 0; i < b->k; i++) {
                uint32_t bit = (h32 * ds__bloom_salt[i]) >> 23;
                ok &= blk[bit >> 6] >> (bit & 63);
            }
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
            const uint64_t *w = b->bits + blk * 8;
            unsigned c = 0, j;
            if (b->blocked == DS__BLOOM_SPLIT) {
                double prod = 1;
                for (j = 0; j < 8 && prod > 0; j++) {
                    unsigned probes = b->k / 8 + (j < b->k % 8);
                    if (probes) prod *= pow(ds__popcount64(w[j]) / 64.0, (double)probes);
                }
                sum += prod;
            } else {
                for (j = 0; j < 8; j++) c += ds__popcount64(w[j]);
                if (c) sum += pow(c / 512.0, (double)b->k);
            }
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
    return b && b->bits ? (size_t)(b->m / 8) + 64 : 0;
}

/* Formats: 1 wrote blocked = 1 for the legacy layout; 2 (since the split
 * block layout) writes the kind as it is in memory: 0 standard, 1 split
 * block, 2 legacy. Both load. */
#define DS__BLOOM_FORMAT 2

/* The body shared by ds_bloom and each filter of a ds_sbloom. */
static void ds__bloom_put(ds__enc *e, const ds_bloom *b) {
    ds__put_u64(e, b->m);
    ds__put_u64(e, b->k);
    ds__put_u64(e, (uint64_t)b->blocked);
    ds__put_u64(e, b->n);
    ds__put_words(e, b->bits, (size_t)(b->m / 64), 8);
}
static void ds__bloom_get(ds__dec *d, ds_bloom *b, uint32_t version, const ds_alloc *a) {
    uint64_t m = ds__get_u64(d), k = ds__get_u64(d), kind = ds__get_u64(d);
    uint64_t n = ds__get_u64(d), set = 0;
    size_t i, bytes;
    void *mem;
    b->bits = NULL;
    b->mem = NULL;
    if (d->st != DS_OK) return;
    if (version == 1 && kind == 1) kind = DS__BLOOM_LEGACY;
    if (m == 0 || m > DS__BLOOM_MAX_BITS || m % (kind ? 512 : 64) || k < 1 || k > 64 ||
        kind > 2 || (version == 1 && kind == DS__BLOOM_SPLIT)) {
        d->st = DS_ECORRUPT;
        return;
    }
    if (!ds__dec_room(d, m / 8) || m / 64 > SIZE_MAX / 8) return;
    bytes = (size_t)(m / 8);
    if (d->r->avail != UINT64_MAX) {
        /* The input holds the payload (dec_room): read it in place. */
        if (!(mem = DS_MALLOC(a, bytes + 64))) {
            d->st = DS_ENOMEM;
            return;
        }
        ds__bloom_place(b, mem);
        ds__get_words(d, b->bits, (size_t)(m / 64), 8);
    } else {
        /* A pipe: grow as bytes arrive, then make room to align. */
        void *p = ds__get_alloc(d, (size_t)(m / 64), 8, a);
        if (!p) return;
        if (!(mem = DS_REALLOC(a, p, bytes, bytes + 64))) {
            DS_FREE(a, p, bytes);
            d->st = DS_ENOMEM;
            return;
        }
        ds__bloom_place(b, mem);
        memmove(b->bits, mem, bytes);
    }
    if (d->st != DS_OK) {
        DS_FREE(a, mem, bytes + 64);
        b->bits = NULL;
        b->mem = NULL;
        return;
    }
    for (i = 0; i < m / 64; i++) set += ds__popcount64(b->bits[i]);
    b->m = m;
    b->k = (unsigned)k;
    b->blocked = (int)kind;
    b->simd = ds__bloom_simd(b->blocked, b->k);
    b->set = set;
    b->n = n;
    b->alloc = a;
}

DSDEF ds_status ds_bloom_save(const ds_bloom *b, ds_writer w) {
    ds__enc e;
    if (!b || !b->bits) return DS_EINVAL;
    ds__enc_init(&e, w, "DSbf", DS__BLOOM_FORMAT);
    ds__bloom_put(&e, b);
    return ds__enc_end(&e);
}
DSDEF ds_status ds_bloom_load(ds_bloom *b, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_bloom t;
    uint32_t v;
    if (!b) return DS_EINVAL;
    v = ds__dec_init_any(&d, r, "DSbf", 1, DS__BLOOM_FORMAT);
    ds__bloom_get(&d, &t, v, a);
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
    memset(s, 0, sizeof *s); /* a failed init leaves a struct free accepts */
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
    uint64_t cap = 0; /* set when there is a filter (clang -Wconditional-uninitialized) */
    double p;
    ds_status st;
    if (added) *added = 0;
    if (!s) return DS_EINVAL;
    if (ds_sbloom_has_hash(s, h)) return DS_OK;
    if (s->nf) ds__sbloom_params(s, s->nf - 1, &cap, &p);
    if (s->nf == 0 || s->f[s->nf - 1].n >= cap)
        if ((st = ds__sbloom_grow(s)) != DS_OK) return st;
    /* No filter has it, so some bit of the newest is 0: n counts it. */
    ds_bloom_add_hash(&s->f[s->nf - 1], h, NULL);
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
    ds__enc_init(&e, w, "DSsb", DS__BLOOM_FORMAT);
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
    uint32_t v;
    if (!s) return DS_EINVAL;
    v = ds__dec_init_any(&d, r, "DSsb", 1, DS__BLOOM_FORMAT);
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
        ds__bloom_get(&d, &t.f[t.nf], v, a);
        if (d.st == DS_OK) {
            /* Blocked chains hold blocked filters (legacy ones from a
             * format-1 file, or older ones of a chain that grew since). */
            if ((t.f[t.nf].blocked != 0) != (blocked != 0)) d.st = DS_ECORRUPT;
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
    if (!c) return DS_EINVAL;
    memset(c, 0, sizeof *c); /* a failed init leaves a struct free accepts */
    if (capacity == 0 || fp_bits < 4 || fp_bits > 16) return DS_EINVAL;
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

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_FILTER_IMPL */
