/* tests/test_core.c - status codes, checked sizes, rng, hash quality, clock */
#include "prop.h"
#include <math.h>

void test_core_status(void) {
    int s;
    /* Every listed status has a distinct message and its own name. */
    for (s = 0; s < DS__STATUS_COUNT; s++) {
        int t;
        const char *m = ds_strerror((ds_status)s), *n = ds_status_name((ds_status)s);
        CHECK(m && *m && strcmp(m, "unknown status") != 0);
        CHECK(n && strncmp(n, "DS_", 3) == 0 && strcmp(n, "DS_?") != 0);
        for (t = 0; t < s; t++) CHECK(strcmp(m, ds_strerror((ds_status)t)) != 0);
    }
    CHECK(DS_OK == 0);
    CHECK(strcmp(ds_status_name(DS_ENOMEM), "DS_ENOMEM") == 0);
    CHECK(strcmp(ds_strerror((ds_status)999), "unknown status") == 0);
    CHECK(strcmp(ds_status_name((ds_status)-1), "DS_?") == 0);
}

void test_core_size_arith(void) {
    size_t r = 7;
    CHECK(ds_size_mul(0, SIZE_MAX, &r) && r == 0);
    CHECK(ds_size_mul(SIZE_MAX, 1, &r) && r == SIZE_MAX);
    r = 7;
    CHECK(!ds_size_mul(SIZE_MAX / 2 + 1, 2, &r) && r == 7); /* untouched on overflow */
    CHECK(!ds_size_mul((size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4), &r));
    CHECK(ds_size_add(SIZE_MAX - 1, 1, &r) && r == SIZE_MAX);
    CHECK(!ds_size_add(SIZE_MAX, 1, &r));
    CHECK(ds_size_muladd(3, 4, 5, &r) && r == 17);
    CHECK(!ds_size_muladd(SIZE_MAX / 3 + 1, 3, 0, &r));
    CHECK(!ds_size_muladd(SIZE_MAX / 3, 3, 3, &r) || r >= 3);
    CHECK(ds__pow2_ceil(1) == 1 && ds__pow2_ceil(3) == 4 && ds__pow2_ceil(1024) == 1024);
    CHECK(ds__pow2_ceil(SIZE_MAX / 2 + 2) == 0);
}

/* Published outputs of splitmix64 from state 0 (Vigna's reference code). */
void test_core_splitmix_vectors(void) {
    uint64_t st = 0;
    CHECK(ds_splitmix64(&st) == 0xe220a8397b1dcdafull);
    CHECK(ds_splitmix64(&st) == 0x6e789e6aa1b965f4ull);
    CHECK(ds_splitmix64(&st) == 0x06c45d188009454full);
}

void test_core_rng_streams(void) {
    ds_rng a, b, c;
    int i, same = 1, zeros = 0;
    ds_rng_seed(&a, 42);
    ds_rng_seed(&b, 42);
    ds_rng_seed(&c, 43);
    for (i = 0; i < 1000; i++) {
        uint64_t x = ds_rng_next(&a), y = ds_rng_next(&b), z = ds_rng_next(&c);
        CHECK(x == y);
        if (x != z) same = 0;
        zeros += x == 0;
    }
    CHECK(!same);
    CHECK(zeros == 0);
    /* Seed 0 must not give the all-zero (stuck) state. */
    ds_rng_seed(&a, 0);
    CHECK(a.s[0] | a.s[1] | a.s[2] | a.s[3]);
    CHECK(ds_rng_next(&a) != ds_rng_next(&a));
    /* Bit balance: each of the 64 output bits set ~half the time. */
    {
        long cnt[64] = {0};
        int n = 20000, bit;
        ds_rng_seed(&a, 7);
        for (i = 0; i < n; i++) {
            uint64_t x = ds_rng_next(&a);
            for (bit = 0; bit < 64; bit++) cnt[bit] += (long)((x >> bit) & 1);
        }
        for (bit = 0; bit < 64; bit++) /* 6 sigma: sigma = sqrt(n)/2 = 71 */
            CHECKF(labs(cnt[bit] - n / 2) < 425, "bit %d set %ld of %d", bit, cnt[bit], n);
    }
}

void test_core_rng_below(void) {
    ds_rng r;
    long counts[10] = {0};
    int i, n = 200000;
    double chi = 0;
    ds_rng_seed(&r, 99);
    CHECK(ds_rng_below(&r, 0) == 0);
    for (i = 0; i < 100; i++) CHECK(ds_rng_below(&r, 1) == 0);
    for (i = 0; i < n; i++) {
        uint64_t v = ds_rng_below(&r, 10);
        CHECK(v < 10);
        counts[v]++;
    }
    for (i = 0; i < 10; i++) chi += (counts[i] - n / 10.0) * (counts[i] - n / 10.0) / (n / 10.0);
    CHECKF(chi < 40.0, "chi-square %.1f over 10 buckets (df 9)", chi); /* p ~ 1e-5 */
    /* A bound just above 2^63 rejects about half of the raw draws: still uniform
     * in range and both halves hit. */
    {
        uint64_t big = ((uint64_t)1 << 63) + 12345;
        int lo = 0, hi = 0;
        for (i = 0; i < 20000; i++) {
            uint64_t v = ds_rng_below(&r, big);
            CHECK(v < big);
            if (v < big / 2) lo++; else hi++;
        }
        CHECKF(abs(lo - hi) < 1000, "halves %d / %d", lo, hi);
    }
}

void test_core_rng_double(void) {
    ds_rng r;
    int i, n = 100000;
    double sum = 0, mn = 1, mx = 0;
    ds_rng_seed(&r, 5);
    for (i = 0; i < n; i++) {
        double d = ds_rng_double(&r);
        CHECK(d >= 0.0 && d < 1.0);
        sum += d;
        if (d < mn) mn = d;
        if (d > mx) mx = d;
    }
    CHECKF(fabs(sum / n - 0.5) < 0.006, "mean %f", sum / n); /* sigma = 0.0009 */
    CHECK(mn < 0.001 && mx > 0.999);
}

void test_core_rng_jump(void) {
    ds_rng a, b, c, x, ab;
    int i, k, overlap = 0;
    uint64_t first[256];
    ds_rng_seed(&a, 1);
    b = a;
    ds_rng_jump(&b);
    c = a;
    ds_rng_jump(&c);
    for (i = 0; i < 4; i++) CHECK(b.s[i] == c.s[i]); /* deterministic */
    /* The jumped stream shares no 64-bit output with the first 256 of the
     * original over the next 10^5 draws. */
    x = a;
    for (i = 0; i < 256; i++) first[i] = ds_rng_next(&x);
    for (i = 0; i < 100000; i++) {
        uint64_t v = ds_rng_next(&b);
        for (k = 0; k < 4; k++) overlap += v == first[k];
    }
    CHECK(overlap == 0);
    /* xoshiro is linear over GF(2), so the jump must be too:
     * jump(a ^ b) == jump(a) ^ jump(b). */
    ds_rng_seed(&a, 11);
    ds_rng_seed(&b, 12);
    for (i = 0; i < 4; i++) ab.s[i] = a.s[i] ^ b.s[i];
    ds_rng_jump(&a);
    ds_rng_jump(&b);
    ds_rng_jump(&ab);
    for (i = 0; i < 4; i++) CHECK(ab.s[i] == (a.s[i] ^ b.s[i]));
}

void test_core_hash_basics(void) {
    unsigned char buf[300], buf2[320];
    size_t n;
    ds_rng r;
    ds_rng_seed(&r, 3);
    for (n = 0; n < sizeof buf; n++) buf[n] = (unsigned char)ds_rng_next(&r);
    CHECK(ds_hash_bytes(NULL, 0, 1) == ds_hash_bytes(buf, 0, 1));
    CHECK(ds_hash_bytes(NULL, 0, 1) != ds_hash_bytes(NULL, 0, 2));
    for (n = 0; n <= 256; n++) {
        size_t off;
        uint64_t h = ds_hash_bytes(buf, n, 77);
        /* Alignment does not matter. */
        for (off = 1; off < 8; off++) {
            memcpy(buf2 + off, buf, n);
            CHECK(ds_hash_bytes(buf2 + off, n, 77) == h);
        }
        /* Length is part of the hash: a prefix differs. */
        if (n) CHECK(ds_hash_bytes(buf, n - 1, 77) != h);
        /* The seed matters. */
        CHECK(ds_hash_bytes(buf, n, 78) != h);
    }
    CHECK(ds_hash_str("hello", 9) == ds_hash_bytes("hello", 5, 9));
    CHECK(ds_hash_u64(1, 0) != ds_hash_u64(2, 0));
    CHECK(ds_hash_u64(1, 0) != ds_hash_u64(1, 1));
    CHECK(ds_eq_str("ab", "ab") && !ds_eq_str("ab", "ac"));
}

/* Avalanche (SMHasher's criterion): flipping one input bit flips each output
 * bit with probability 1/2. For each (input bit, output bit) pair we count
 * flips over n random inputs; the worst |p - 1/2| must stay under 6
 * standard errors (0.5/sqrt(n)) - a biased mixer misses by far more. */
typedef uint64_t (*hash_under_test)(const unsigned char *p, size_t len, uint64_t seed);
static uint64_t hut_bytes(const unsigned char *p, size_t len, uint64_t seed) {
    return ds_hash_bytes(p, len, seed);
}
static uint64_t hut_u64(const unsigned char *p, size_t len, uint64_t seed) {
    uint64_t x;
    (void)len;
    memcpy(&x, p, 8);
    return ds_hash_u64(x, seed);
}
static uint64_t hut_mix(const unsigned char *p, size_t len, uint64_t seed) {
    uint64_t x;
    (void)len;
    (void)seed;
    memcpy(&x, p, 8);
    return ds_mix64(x);
}
static uint64_t hut_seed(const unsigned char *p, size_t len, uint64_t seed) {
    /* The seed as the varying input (HashDoS: seeds must avalanche too). */
    uint64_t s;
    memcpy(&s, p, 8);
    (void)len;
    (void)seed;
    return ds_hash_bytes("fixed key", 9, s);
}

static double worst_bias(hash_under_test h, size_t len, int n, ds_rng *r) {
    static long flips[128][64];
    unsigned char in[32];
    /* Every input bit up to 16 bytes; beyond that the first and last 64. */
    size_t nbits = len * 8 > 128 ? 128 : len * 8, b, o, j;
    double worst = 0;
    int i;
    memset(flips, 0, sizeof flips);
    for (i = 0; i < n; i++) {
        uint64_t base;
        for (j = 0; j < len; j++) in[j] = (unsigned char)ds_rng_next(r);
        base = h(in, len, 0x1234);
        for (b = 0; b < nbits; b++) {
            size_t bit = b < 64 || len * 8 <= 128 ? b : len * 8 - 128 + b;
            uint64_t d;
            in[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            d = base ^ h(in, len, 0x1234);
            in[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            for (o = 0; o < 64; o++) flips[b][o] += (long)((d >> o) & 1);
        }
    }
    for (b = 0; b < nbits; b++)
        for (o = 0; o < 64; o++) {
            double p = (double)flips[b][o] / n;
            if (fabs(p - 0.5) > worst) worst = fabs(p - 0.5);
        }
    return worst;
}

void test_core_hash_avalanche(void) {
    static const size_t lens[] = {2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32};
    int n = (int)prop_env_long("DS_AVALANCHE_N", 12000);
    double limit = 6.0 * 0.5 / sqrt((double)n), w;
    size_t i;
    ds_rng r;
    ds_rng_seed(&r, 2024);
    for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        w = worst_bias(hut_bytes, lens[i], n, &r);
        CHECKF(w < limit, "ds_hash_bytes len %zu: worst bias %.4f >= %.4f", lens[i], w, limit);
    }
    w = worst_bias(hut_u64, 8, n, &r);
    CHECKF(w < limit, "ds_hash_u64: worst bias %.4f >= %.4f", w, limit);
    w = worst_bias(hut_mix, 8, n, &r);
    CHECKF(w < limit, "ds_mix64: worst bias %.4f >= %.4f", w, limit);
    w = worst_bias(hut_seed, 8, n, &r);
    CHECKF(w < limit, "ds_hash_bytes seed: worst bias %.4f >= %.4f", w, limit);
}

/* Bucket uniformity for structured keys (sequential, strided, short
 * strings): chi-square over 4096 buckets taken from four bit ranges of the
 * hash - including the ones DS_MAP uses (low 7 bits, bits 7..), plus zero
 * full 64-bit collisions among 2^18 keys. */
static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double chi_square_4096(const uint64_t *h, size_t n, int shift) {
    static long cnt[4096];
    size_t i;
    double e = (double)n / 4096, chi = 0;
    memset(cnt, 0, sizeof cnt);
    for (i = 0; i < n; i++) cnt[(h[i] >> shift) & 4095]++;
    for (i = 0; i < 4096; i++) chi += (cnt[i] - e) * (cnt[i] - e) / e;
    return chi;
}

void test_core_hash_buckets(void) {
    enum { N = 1 << 18 };
    static const int shifts[] = {0, 7, 26, 52};
    /* chi-square with 4095 df: mean 4095, sd 90.5; 6 sd above the mean. */
    const double limit = 4095 + 6 * 90.5;
    uint64_t *h = (uint64_t *)malloc(N * sizeof *h);
    int kind, s;
    size_t i;
    CHECK(h);
    for (kind = 0; kind < 7; kind++) {
        const char *what = "";
        for (i = 0; i < N; i++) {
            char sbuf[32];
            uint64_t k = (uint64_t)i;
            switch (kind) {
            case 0: h[i] = ds_hash_u64(k, 0); what = "u64 sequential"; break;
            case 1: h[i] = ds_hash_u64(k << 20, 0); what = "u64 stride 2^20"; break;
            case 2: h[i] = ds_hash_u64(k << 46, 0); what = "u64 stride 2^46 (high bits only)"; break;
            case 3: h[i] = ds_hash_bytes(&k, 8, 0); what = "bytes sequential"; break;
            case 4:
                snprintf(sbuf, sizeof sbuf, "user:%zu", i);
                h[i] = ds_hash_str(sbuf, 0);
                what = "strings user:N";
                break;
            case 5: h[i] = ds_mix64(k); what = "mix64 sequential"; break;
            default: {
                uint32_t k32 = (uint32_t)i * 64u;
                h[i] = ds_hash_bytes(&k32, 4, 0);
                what = "4-byte stride 64";
            }
            }
        }
        for (s = 0; s < 4; s++) {
            double chi = chi_square_4096(h, N, shifts[s]);
            CHECKF(chi < limit, "%s: chi-square %.0f at bits %d.. (limit %.0f)", what, chi,
                   shifts[s], limit);
        }
        qsort(h, N, sizeof *h, cmp_u64);
        for (i = 1; i < N; i++) CHECKF(h[i] != h[i - 1], "%s: 64-bit collision", what);
    }
    free(h);
}

void test_core_now_ns(void) {
    int64_t prev = ds_now_ns(), t0 = prev;
    int i;
    volatile unsigned spin = 0;
    for (i = 0; i < 10000; i++) {
        int64_t t = ds_now_ns();
        CHECK(t >= prev);
        prev = t;
    }
    while (ds_now_ns() - t0 < 2000000) spin++; /* 2 ms must elapse */
    CHECK(ds_now_ns() - t0 >= 2000000);
}

/* The default hooks route through a ds_alloc when one is given. */
DS_VEC(corevec, int)
void test_core_default_allocator_hooks(void) {
    prop_alloc pa;
    corevec v;
    int i;
    prop_alloc_init(&pa);
    corevec_init_alloc(&v, &pa.a);
    for (i = 0; i < 100; i++) CHECK(corevec_push(&v, i) == DS_OK);
    CHECK(pa.attempts > 0 && pa.live_bytes == v.cap * sizeof(int));
    corevec_free(&v);
    CHECK(pa.live_bytes == 0 && pa.live_blocks == 0 && pa.size_errors == 0);
}
