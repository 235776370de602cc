/* tests/fuzz/fuzz_util.h - shared by the ds libFuzzer targets.
 *
 *   fz_reader     reads the fuzz input as a stream of small integers; past
 *                 the end every read gives 0, so any byte string is a valid
 *                 program.
 *   FZ_CHECK(c)   prints file:line and the expression, then abort()s: a
 *                 crash for libFuzzer, a nonzero exit for the replay build.
 *   fz_alloc      a ds_alloc that stores each block's size in a header and
 *                 checks the size ds passes back on realloc/free, counts
 *                 live blocks and bytes, refuses blocks over FZ_MAX_BLOCK
 *                 (so hostile reserve() sizes cannot trip libFuzzer's
 *                 malloc limit), and fails the k-th attempt on request.
 *   main()        only with -DDS_FUZZ_STANDALONE: replays the files named on
 *                 the command line, or with no arguments DS_FUZZ_RUNS
 *                 (default 300) pseudo-random inputs from ds_rng seeded by
 *                 DS_SEED (default 1), through LLVMFuzzerTestOneInput.
 *
 * Include after ds.h (the target defines DS_IMPLEMENTATION first). */
#ifndef DS_FUZZ_UTIL_H
#define DS_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                              \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz check failed: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* ---- input reader --------------------------------------------------------- */

typedef struct fz_reader {
    const uint8_t *p;
    size_t n, pos;
} fz_reader;

static inline int fz_more(const fz_reader *r) { return r->pos < r->n; }
static inline unsigned fz_u8(fz_reader *r) { return r->pos < r->n ? r->p[r->pos++] : 0u; }
static inline unsigned fz_u16(fz_reader *r) {
    unsigned lo = fz_u8(r);
    return lo | (fz_u8(r) << 8);
}
static inline uint32_t fz_u32(fz_reader *r) {
    uint32_t lo = fz_u16(r);
    return lo | ((uint32_t)fz_u16(r) << 16);
}
/* Up to three fuzzer-chosen edits of a saved image p[0, len): truncate,
 * flip a bit, overwrite a byte. Returns the new length (stops at 0). */
static inline size_t fz_damage(fz_reader *r, unsigned char *p, size_t len) {
    size_t edits = fz_u8(r) % 4, e;
    for (e = 0; e < edits && len; e++) {
        unsigned op = fz_u8(r) % 3;
        size_t at = fz_u32(r) % len;
        if (op == 0) len = at;                                        /* truncate */
        else if (op == 1) p[at] ^= (unsigned char)(1u << (fz_u8(r) % 8)); /* flip */
        else p[at] = (unsigned char)fz_u8(r);                         /* overwrite */
    }
    return len;
}

/* ---- accounting, fault-injecting allocator -------------------------------- */

#define FZ_MAX_BLOCK ((size_t)64 << 20)
#define FZ_HDR 16 /* keeps the user pointer 16-byte aligned */

typedef struct fz_alloc {
    ds_alloc a;         /* pass &fa.a to *_init_alloc */
    long attempts;      /* malloc and realloc calls so far */
    long fail_at;       /* attempt number that fails (once); 0 = none armed */
    long fails;         /* NULL returns so far (injected or over the limit) */
    long live_blocks;
    size_t live_bytes;
} fz_alloc;

static size_t fz__hdr_size(const void *user) {
    size_t n;
    memcpy(&n, (const unsigned char *)user - FZ_HDR, sizeof n);
    return n;
}

static int fz__refuse(fz_alloc *fa, size_t n) {
    fa->attempts++;
    if ((fa->fail_at && fa->attempts == fa->fail_at) || n > FZ_MAX_BLOCK) {
        if (fa->attempts == fa->fail_at) fa->fail_at = 0;
        fa->fails++;
        return 1;
    }
    return 0;
}

static void *fz__malloc(void *ctx, size_t n) {
    fz_alloc *fa = (fz_alloc *)ctx;
    unsigned char *b;
    if (fz__refuse(fa, n)) return NULL;
    b = (unsigned char *)malloc(n + FZ_HDR);
    FZ_CHECK(b != NULL);
    memcpy(b, &n, sizeof n);
    fa->live_blocks++;
    fa->live_bytes += n;
    return b + FZ_HDR;
}

static void *fz__realloc(void *ctx, void *p, size_t old_n, size_t new_n) {
    fz_alloc *fa = (fz_alloc *)ctx;
    unsigned char *b;
    if (!p) return fz__malloc(ctx, new_n);
    FZ_CHECK(fz__hdr_size(p) == old_n); /* ds passed the size it was given */
    if (fz__refuse(fa, new_n)) return NULL;
    b = (unsigned char *)realloc((unsigned char *)p - FZ_HDR, new_n + FZ_HDR);
    FZ_CHECK(b != NULL);
    memcpy(b, &new_n, sizeof new_n);
    fa->live_bytes = fa->live_bytes - old_n + new_n;
    return b + FZ_HDR;
}

static void fz__free(void *ctx, void *p, size_t n) {
    fz_alloc *fa = (fz_alloc *)ctx;
    if (!p) return;
    FZ_CHECK(fz__hdr_size(p) == n);
    FZ_CHECK(fa->live_blocks > 0 && fa->live_bytes >= n);
    fa->live_blocks--;
    fa->live_bytes -= n;
    free((unsigned char *)p - FZ_HDR);
}

static void fz_alloc_init(fz_alloc *fa) {
    memset(fa, 0, sizeof *fa);
    fa->a.malloc_fn = fz__malloc;
    fa->a.realloc_fn = fz__realloc;
    fa->a.free_fn = fz__free;
    fa->a.ctx = fa;
}

/* Arm: the k-th allocation attempt from now (k >= 1) fails, once. */
static inline void fz_alloc_fail_in(fz_alloc *fa, long k) { fa->fail_at = fa->attempts + k; }

/* An op saw DS_ENOMEM (or a NULL from get_or_add) exactly when an attempt
 * failed during it: no invented failures, no swallowed ones. */
#define FZ_ENOMEM_MATCHES(fa, fails_before, got_enomem) \
    FZ_CHECK((!!(got_enomem)) == ((fa)->fails > (fails_before)))

/* ---- standalone replay driver ------------------------------------------- */

#ifdef DS_FUZZ_STANDALONE
static int fz__run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL, *nb;
    size_t len = 0, cap = 0, got;
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return 1;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            nb = (unsigned char *)realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                fprintf(stderr, "%s: out of memory\n", path);
                return 1;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        if (got == 0) break;
        len += got;
    }
    fclose(f);
    (void)LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    int i, bad = 0;
    if (argc > 1) {
        for (i = 1; i < argc; i++) bad |= fz__run_file(argv[i]);
        printf("%s: replayed %d file(s)%s\n", argv[0], argc - 1, bad ? ", some unreadable" : "");
        return bad;
    } else {
        const char *e_runs = getenv("DS_FUZZ_RUNS"), *e_seed = getenv("DS_SEED");
        long runs = e_runs ? strtol(e_runs, NULL, 10) : 300;
        uint64_t seed = e_seed ? (uint64_t)strtoull(e_seed, NULL, 10) : 1;
        ds_rng rng;
        unsigned char *buf = (unsigned char *)malloc(8192);
        long r;
        if (!buf) return 1;
        ds_rng_seed(&rng, seed);
        for (r = 0; r < runs; r++) {
            /* Mostly short inputs, some long ones: like a young corpus. */
            size_t n = (size_t)ds_rng_below(&rng, (r & 3) == 0 ? 8192 : 1024), j;
            for (j = 0; j < n; j++) buf[j] = (unsigned char)ds_rng_next(&rng);
            (void)LLVMFuzzerTestOneInput(buf, n);
        }
        free(buf);
        printf("%s: %ld pseudo-random inputs (DS_SEED=%llu) ok\n", argv[0], runs,
               (unsigned long long)seed);
        return 0;
    }
}
#endif /* DS_FUZZ_STANDALONE */

#endif /* DS_FUZZ_UTIL_H */
