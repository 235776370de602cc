/* bench/bloom_kernels.c - the blocked and standard Bloom negative query
 * taken apart (issue 19): one process, ds_bloom_has over N absent keys,
 * contenders interleaved rep by rep, medians and the median of the
 * per-rep ratios:
 *   standard (early exit)       ds_bloom_init(n, 0.01), the library query
 *   standard, no branch         the same probes, all k, AND-accumulated
 *   blocked, AVX2 kernel        ds_bloom_init_blocked(n, 0.01) (simd = 1
 *                               where the CPU has AVX2)
 *   blocked, portable           the same filter with simd = 0 (the code
 *                               non-x86 builds and DS_NO_SIMD run)
 * and the mean number of probes a negative query of the standard filter
 * makes before its first clear bit. Keys: ds_rng(42) stream, n inserted,
 * the next n queried (64-bit random: collisions with the inserted keys are
 * negligible, and both filters see the same keys).
 *
 *   gcc -std=c99 -O2 -DNDEBUG -I. bench/bloom_kernels.c -o bench/bin/bloom_kernels -lm
 *   bench/bin/bloom_kernels N REPS      e.g. 10000000 7, 100000000 3
 */
#define _POSIX_C_SOURCE 199309L
#define DS_IMPLEMENTATION
#include "ds.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}
/* the standard filter's probes, no early exit (branch-free) */
static inline int std_nox(const ds_bloom *b, uint64_t h) {
    uint64_t x = h, y = ds_mix64(h), ok = 1;
    unsigned i;
    for (i = 0; i < b->k; i++) {
        uint64_t bit = ds__fastrange64(x, b->m);
        ok &= b->bits[bit >> 6] >> (bit & 63);
        x += y;
        y += i;
    }
    return (int)(ok & 1);
}
static inline unsigned std_probes(const ds_bloom *b, uint64_t h) {
    uint64_t x = h, y = ds_mix64(h);
    unsigned i;
    for (i = 0; i < b->k; i++) {
        uint64_t bit = ds__fastrange64(x, b->m);
        if (!(b->bits[bit >> 6] >> (bit & 63) & 1))
            return i + 1;
        x += y;
        y += i;
    }
    return b->k;
}
__attribute__((noinline)) static uint64_t q_lib(const ds_bloom *b, const uint64_t *k, size_t n) {
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ds_bloom_has(b, &k[i], 8);
    return c;
}
__attribute__((noinline)) static uint64_t q_nox(const ds_bloom *b, const uint64_t *k, size_t n) {
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += std_nox(b, ds_hash_bytes(&k[i], 8, 0));
    return c;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bloom_kernels N REPS\n");
        return 2;
    }
    size_t n = strtoull(argv[1], 0, 10), i;
    int reps = atoi(argv[2]), rp, j;
    if (reps < 1 || reps > 64 || n < 1000) {
        fprintf(stderr, "bloom_kernels: N >= 1000, 1 <= REPS <= 64\n");
        return 2;
    }
    uint64_t *keys = malloc(n * 8), *miss = malloc(n * 8), probes = 0;
    ds_rng r;
    ds_rng_seed(&r, 42);
    ds_bloom st, bl, bs;
    for (i = 0; i < n; i++)
        keys[i] = ds_rng_next(&r);
    for (i = 0; i < n; i++)
        miss[i] = ds_rng_next(&r);
    ds_bloom_init(&st, n, 0.01, NULL);
    ds_bloom_init_blocked(&bl, n, 0.01, NULL);
    for (i = 0; i < n; i++) {
        ds_bloom_add(&st, &keys[i], 8, NULL);
        ds_bloom_add(&bl, &keys[i], 8, NULL);
    }
    bs = bl;
    bs.simd = 0;
    for (i = 0; i < n; i++)
        probes += std_probes(&st, ds_hash_bytes(&miss[i], 8, 0));
    printf("standard: k=%u, fill %.3f, mean probes per negative query %.3f; blocked simd=%d\n", st.k,
           (double)st.set / st.m, (double)probes / n, bl.simd);
    double t[4][64], rt[3][64];
    uint64_t a[4];
    const char *nm[4] = {"standard (early exit)", "standard, all k probes, no branch",
                         "blocked (AVX2 kernel)", "blocked (portable, simd=0)"};
    for (rp = 0; rp < reps; rp++) {
        double t0;
        t0 = now();
        a[0] = q_lib(&st, miss, n);
        t[0][rp] = (now() - t0) / n;
        t0 = now();
        a[1] = q_nox(&st, miss, n);
        t[1][rp] = (now() - t0) / n;
        t0 = now();
        a[2] = q_lib(&bl, miss, n);
        t[2][rp] = (now() - t0) / n;
        t0 = now();
        a[3] = q_lib(&bs, miss, n);
        t[3][rp] = (now() - t0) / n;
        for (j = 1; j < 4; j++)
            rt[j - 1][rp] = t[0][rp] / t[j][rp];
    }
    for (j = 0; j < 4; j++) {
        qsort(t[j], reps, 8, cmp);
        printf("  %-36s %7.2f ns/neg query (fp %llu)", nm[j], t[j][reps / 2], (unsigned long long)a[j]);
        if (j) {
            qsort(rt[j - 1], reps, 8, cmp);
            printf("  standard/this per-rep median %.2fx", rt[j - 1][reps / 2]);
        }
        printf("\n");
    }
    return 0;
}
