/* tests/test_sketch.c - probabilistic structures: Bloom (standard, blocked,
 * scalable), cuckoo filter, count-min sketch, heavy hitters, HyperLogLog,
 * and the save/load machinery they share.
 *
 * Approximate structures are checked statistically against exact models
 * (a sorted key list, exact counts); the tolerances are stated next to
 * each check with the reason. Every test is seeded, so a run is
 * reproducible; the tolerances still hold for any seed. */
#include "prop.h"
#include <math.h>

/* ---- shared helpers ------------------------------------------------------ */

/* Key i as 8 bytes: distinct i give distinct keys. */
static uint64_t key_of(uint64_t i) { return ds_mix64(i ^ 0x5eed); }

/* Zipf(s) over n keys by inverse CDF (binary search in the cumulative). */
typedef struct zipf {
    double *cdf;
    size_t n;
} zipf;
static int zipf_init(zipf *z, size_t n, double s) {
    size_t i;
    double sum = 0;
    z->cdf = (double *)malloc(n * sizeof *z->cdf);
    z->n = n;
    if (!z->cdf) return 0;
    for (i = 0; i < n; i++) z->cdf[i] = (sum += 1.0 / pow((double)(i + 1), s));
    for (i = 0; i < n; i++) z->cdf[i] /= sum;
    return 1;
}
static size_t zipf_draw(const zipf *z, ds_rng *r) {
    double u = ds_rng_double(r);
    size_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z->cdf[mid] < u) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Save into a memory buffer; returns the status. */
typedef ds_status (*save_fn)(const void *obj, ds_writer w);
typedef ds_status (*load_fn)(void *obj, ds_reader *r, const ds_alloc *a);
typedef void (*free_fn)(void *obj);

/* Every truncation and every single-bit flip of a saved image must load as
 * DS_ECORRUPT, leave the target untouched and leak nothing. `stride`
 * thins the bit flips on large images (every byte is still hit). */
/* Also used by tests/test_hnsw.c (hence not static). */
void check_load_rejects(const unsigned char *img, size_t len, load_fn load, free_fn fr,
                        size_t objsz, size_t stride);
/* What a load may hold beyond 16 x its input through a pipe: buffers sized
 * by a bounded parameter rather than a count (2 MiB; HNSW's build buffers,
 * ef_construction <= 2^20, raise it for its own test). */
size_t check_load_fixed_bytes = (size_t)2 << 20;
void check_load_rejects(const unsigned char *img, size_t len, load_fn load, free_fn fr,
                        size_t objsz, size_t stride) {
    prop_alloc pa;
    unsigned char *copy = (unsigned char *)malloc(len), target[1024], before[1024];
    size_t cut, bit;
    CHECK(copy && objsz <= sizeof target);
    prop_alloc_init(&pa);
    memset(target, 0xAB, sizeof target);
    memcpy(before, target, sizeof target);
    for (cut = 0; cut < len; cut++) {
        ds_memsrc src;
        ds_reader r = ds_mem_reader(&src, img, cut);
        ds_status s = load(target, &r, &pa.a);
        CHECKF(s == DS_ECORRUPT, "truncated to %zu of %zu bytes: %s", cut, len, ds_status_name(s));
        CHECK(memcmp(target, before, objsz) == 0);
    }
    memcpy(copy, img, len);
    for (bit = 0; bit < len * 8; bit += (bit % 8 == 7) ? 1 + 8 * (stride - 1) : 1) {
        ds_memsrc src;
        ds_reader r;
        ds_status s;
        copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        r = ds_mem_reader(&src, copy, len);
        s = load(target, &r, &pa.a);
        copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        if (s == DS_OK) fr(target);
        CHECKF(s == DS_ECORRUPT, "bit %zu of %zu flipped: %s", bit, len * 8, ds_status_name(s));
        CHECK(memcmp(target, before, objsz) == 0);
    }
    CHECKF(pa.live_bytes == 0 && pa.size_errors == 0, "load leaked %zu bytes", pa.live_bytes);
    /* The same damage through a reader that cannot tell the size (a pipe):
     * the load must grow as bytes arrive, never to a size the input merely
     * claims. Every request above 64 MiB fails (a hostile claim), and the
     * peak held stays within a small multiple of the image plus 2 MiB. */
    {
        size_t cap = 16 * len + check_load_fixed_bytes;
        pa.limit = (size_t)64 << 20;
        for (cut = 0; cut <= len; cut++) {
            ds_memsrc src;
            ds_reader r = ds_mem_reader(&src, img, cut);
            ds_status s;
            r.avail = UINT64_MAX; /* unknown size */
            pa.max_request = pa.peak_bytes = 0;
            s = load(target, &r, &pa.a);
            if (s == DS_OK) fr(target);
            CHECKF(cut == len ? s == DS_OK : s == DS_ECORRUPT, "pipe truncated to %zu of %zu: %s", cut, len,
                   ds_status_name(s));
            CHECKF(pa.max_request <= cap && pa.peak_bytes <= cap, "pipe, %zu of %zu bytes: asked %zu, held %zu",
                   cut, len, pa.max_request, pa.peak_bytes);
        }
        for (bit = 0; bit < len * 8; bit += (bit % 8 == 7) ? 1 + 8 * (stride - 1) : 1) {
            ds_memsrc src;
            ds_reader r;
            ds_status s;
            copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            r = ds_mem_reader(&src, copy, len);
            r.avail = UINT64_MAX;
            pa.max_request = pa.peak_bytes = 0;
            s = load(target, &r, &pa.a);
            copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            if (s == DS_OK) fr(target);
            CHECKF(s == DS_ECORRUPT, "pipe, bit %zu of %zu flipped: %s", bit, len * 8, ds_status_name(s));
            CHECKF(pa.max_request <= cap && pa.peak_bytes <= cap, "pipe, bit %zu flipped: asked %zu, held %zu",
                   bit, pa.max_request, pa.peak_bytes);
            if (prop_test_failed) break;
        }
        pa.limit = 0;
        CHECKF(pa.live_bytes == 0, "pipe loads leaked %zu bytes", pa.live_bytes);
    }
    /* The intact image loads, and nothing survives a failed allocation. */
    {
        long t, k;
        ds_memsrc src;
        ds_reader r = ds_mem_reader(&src, img, len);
        CHECK(load(target, &r, &pa.a) == DS_OK);
        fr(target);
        t = pa.attempts;
        for (k = 1; k <= t; k++) {
            ds_status s;
            memcpy(target, before, objsz);
            r = ds_mem_reader(&src, img, len);
            prop_alloc_fail_in(&pa, k, 1);
            s = load(target, &r, &pa.a);
            prop_alloc_disarm(&pa);
            CHECKF(s == DS_ENOMEM || s == DS_OK, "alloc %ld failing: %s", k, ds_status_name(s));
            if (s == DS_OK) fr(target);
            else CHECK(memcmp(target, before, objsz) == 0);
        }
        CHECK(pa.live_bytes == 0 && pa.size_errors == 0);
    }
    free(copy);
}

/* Adapters so one checker serves every structure. */
#define SKETCH_IO(T, pre)                                                               \
    static ds_status pre##_save_v(const void *o, ds_writer w) { return pre##_save((const T *)o, w); } \
    static ds_status pre##_load_v(void *o, ds_reader *r, const ds_alloc *a) {           \
        return pre##_load((T *)o, r, a);                                                \
    }                                                                                   \
    static void pre##_free_v(void *o) { pre##_free((T *)o); }
SKETCH_IO(ds_bloom, ds_bloom)
SKETCH_IO(ds_sbloom, ds_sbloom)
SKETCH_IO(ds_cuckoo, ds_cuckoo)
SKETCH_IO(ds_cms, ds_cms)
SKETCH_IO(ds_hll, ds_hll)

static int save_to(ds_membuf *b, save_fn save, const void *obj) {
    ds_membuf_init(b, NULL);
    return save(obj, ds_membuf_writer(b)) == DS_OK;
}

/* ---- io --------------------------------------------------------------------- */

void test_sketch_io(void) {
    ds_membuf b;
    ds_memsrc src;
    ds_reader r;
    unsigned char buf[8];
    ds_bloom f, g;
    FILE *fp;
    size_t i;
    ds_membuf_init(&b, NULL);
    for (i = 0; i < 1000; i++) CHECK(ds_membuf_writer(&b).write(&b, "abc", 3) == DS_OK);
    CHECK(b.len == 3000 && memcmp(b.data + 2997, "abc", 3) == 0);
    r = ds_mem_reader(&src, b.data, b.len);
    CHECK(r.avail == 3000);
    CHECK(r.read(r.ctx, buf, 8) == DS_OK && memcmp(buf, "abcabcab", 8) == 0);
    ds_membuf_free(&b);
    r = ds_mem_reader(&src, "xy", 2);
    CHECK(r.read(r.ctx, buf, 3) == DS_ECORRUPT);
    /* A FILE round trip, and the FILE reader's avail from the file size. */
    CHECK(ds_bloom_init(&f, 1000, 0.01, NULL) == DS_OK);
    for (i = 0; i < 500; i++) ds_bloom_add(&f, &i, sizeof i, NULL);
    fp = tmpfile();
    CHECK(fp != NULL);
    CHECK(ds_bloom_save(&f, ds_file_writer(fp)) == DS_OK);
    rewind(fp);
    r = ds_file_reader(fp);
    CHECK(r.avail == (uint64_t)(4 + 8 + 4 * 8 + f.m / 8 + 8));
    CHECK(ds_bloom_load(&g, &r, NULL) == DS_OK);
    CHECK(g.m == f.m && g.k == f.k && g.set == f.set && memcmp(g.bits, f.bits, f.m / 8) == 0);
    fclose(fp);
    ds_bloom_free(&f);
    ds_bloom_free(&g);
    /* A writer error passes through save unchanged. */
    {
        ds_writer w;
        w.write = NULL;
        w.ctx = NULL;
        CHECK(ds_bloom_init(&f, 10, 0.1, NULL) == DS_OK);
        CHECK(ds_bloom_save(&f, w) == DS_EINVAL);
        ds_bloom_free(&f);
    }
    CHECK(ds_bloom_load(&g, NULL, NULL) == DS_EINVAL);
}

/* ---- bloom ------------------------------------------------------------------ */

/* No false negatives, and add's return value is exact about "new": it
 * returns 1 exactly when has() answered no before the add. */
static void bloom_case(ds_rng *rng, uint64_t seed) {
    ds_bloom f;
    int blocked = (int)(seed & 1);
    uint64_t n = 1 + ds_rng_below(rng, 3000), i, nkeys = 0;
    double p = 0.001 + 0.3 * ds_rng_double(rng);
    uint64_t *keys = (uint64_t *)malloc((size_t)(2 * n + 16) * sizeof *keys);
    CHECK(keys != NULL);
    CHECK((blocked ? ds_bloom_init_blocked(&f, n, p, NULL) : ds_bloom_init(&f, n, p, NULL)) == DS_OK);
    for (i = 0; i < 2 * n; i++) {
        uint64_t k = ds_rng_below(rng, 4 * n);
        int had = ds_bloom_has(&f, &k, 8), added = -1;
        CHECK(ds_bloom_add(&f, &k, 8, &added) == DS_OK);
        CHECKF(added == !had, "add returned %d after has %d", added, had);
        keys[nkeys++] = k;
        if (ds_rng_below(rng, 50) == 0) {
            size_t j;
            for (j = 0; j < nkeys; j++) CHECKF(ds_bloom_has(&f, &keys[j], 8), "false negative");
        }
    }
    for (i = 0; i < nkeys; i++) CHECKF(ds_bloom_has(&f, &keys[i], 8), "false negative");
    {
        uint64_t set = 0;
        size_t w;
        for (w = 0; w < f.m / 64; w++) {
            uint64_t x = f.bits[w];
            while (x) { set++; x &= x - 1; }
        }
        CHECK(set == f.set);
    }
    ds_bloom_clear(&f);
    CHECK(f.set == 0 && f.n == 0 && !ds_bloom_has(&f, &keys[0], 8));
    ds_bloom_free(&f);
    free(keys);
}
void test_bloom_model(void) { prop_run("bloom_model", bloom_case, 60); }

/* Measured FPP against theory. For m bits, k probes and n keys the
 * classic approximation is (1 - e^{-kn/m})^k; the standard filter must
 * land within 15% of it (relative). Enough negative queries are made that
 * the binomial noise is under 4% (>= 600 expected false positives), so a
 * 15% miss means a real defect (a biased probe sequence). Blocked filters
 * are measured and bounded loosely (their FPP is higher by design). */
static double theory_fpp(const ds_bloom *f, uint64_t n) {
    return pow(1.0 - exp(-(double)f->k * (double)n / (double)f->m), (double)f->k);
}
static double measure_fpp(const ds_bloom *f, uint64_t base, uint64_t queries) {
    uint64_t i, fp = 0;
    for (i = 0; i < queries; i++) {
        uint64_t k = key_of(base + i);
        fp += (uint64_t)ds_bloom_has(f, &k, 8);
    }
    return (double)fp / (double)queries;
}
void test_bloom_fpp_random(void) {
    static const double ps[] = {0.1, 0.01, 0.001};
    static const uint64_t ns[] = {100000, 1000000};
    size_t a, b;
    for (b = 0; b < 2; b++)
        for (a = 0; a < 3; a++) {
            uint64_t n = ns[b], i, q = (uint64_t)(600 / ps[a]);
            ds_bloom f, g;
            double th, ms, mb;
            if (q < 200000) q = 200000;
            CHECK(ds_bloom_init(&f, n, ps[a], NULL) == DS_OK);
            CHECK(ds_bloom_init_blocked(&g, n, ps[a], NULL) == DS_OK);
            for (i = 0; i < n; i++) {
                uint64_t k = key_of(i);
                ds_bloom_add(&f, &k, 8, NULL);
                ds_bloom_add(&g, &k, 8, NULL);
            }
            th = theory_fpp(&f, n);
            ms = measure_fpp(&f, 1ull << 40, q);
            mb = measure_fpp(&g, 1ull << 40, q);
            if (prop_env_long("DS_VERBOSE", 0))
                printf("  bloom n=%llu p=%g: m/n=%.2f (blocked %.2f) k=%u theory %.5f standard %.5f blocked %.5f (est %.5f / %.5f)\n",
                       (unsigned long long)n, ps[a], (double)f.m / (double)n, (double)g.m / (double)n, f.k, th, ms, mb,
                       ds_bloom_fpp(&f), ds_bloom_fpp(&g));
            CHECKF(fabs(ms - th) <= 0.15 * th, "n=%llu p=%g: standard FPP %.5f vs theory %.5f",
                   (unsigned long long)n, ps[a], ms, th);
            /* Design target p is met too (theory for rounded m, k <= ~p). */
            CHECKF(ms <= ps[a] * 1.15, "standard FPP %.5f above target %g", ms, ps[a]);
            /* Blocked: init_blocked adds bits until its block model meets
             * p, so the target holds for it too. */
            CHECKF(mb <= ps[a] * 1.15, "blocked FPP %.5f vs target %g", mb, ps[a]);
            /* The fill-based estimates track the measurement. */
            CHECKF(fabs(ds_bloom_fpp(&f) - ms) <= 0.15 * ms, "fpp() %.5f vs measured %.5f",
                   ds_bloom_fpp(&f), ms);
            CHECKF(fabs(ds_bloom_fpp(&g) - mb) <= 0.15 * mb, "blocked fpp() %.5f vs measured %.5f",
                   ds_bloom_fpp(&g), mb);
            CHECKF(fabs(ds_bloom_count(&f) - (double)n) <= 0.02 * (double)n, "count %.0f vs %llu",
                   ds_bloom_count(&f), (unsigned long long)n);
            ds_bloom_free(&f);
            ds_bloom_free(&g);
        }
}

/* The English word list (Debian wamerican): insert every other word,
 * query the rest. ~50k negatives, so the tolerance is binomial: 4 sigma
 * or 15%, whichever is wider. */
void test_bloom_fpp_words(void) {
    static const double ps[] = {0.1, 0.01, 0.001};
    const char *path = getenv("DS_WORDS") ? getenv("DS_WORDS") : "/usr/share/dict/american-english";
    FILE *fp = fopen(path, "r");
    char line[256];
    char **words = NULL;
    size_t n = 0, cap = 0, i, a;
    CHECKF(fp != NULL, "%s missing: apt-get install wamerican (or set DS_WORDS)", path);
    while (fgets(line, sizeof line, fp)) {
        size_t l = strcspn(line, "\r\n");
        line[l] = 0;
        if (!l) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            words = (char **)realloc(words, cap * sizeof *words);
            CHECK(words != NULL);
        }
        words[n] = (char *)malloc(l + 1);
        CHECK(words[n] != NULL);
        memcpy(words[n++], line, l + 1);
    }
    fclose(fp);
    CHECKF(n > 50000, "only %zu words in %s", n, path);
    for (a = 0; a < 3; a++) {
        ds_bloom f;
        uint64_t fpc = 0, neg = 0, ins = 0;
        double th, ms, sigma, tol;
        CHECK(ds_bloom_init(&f, (n + 1) / 2, ps[a], NULL) == DS_OK);
        for (i = 0; i < n; i += 2, ins++) ds_bloom_add(&f, words[i], strlen(words[i]), NULL);
        for (i = 0; i < n; i += 2) CHECK(ds_bloom_has(&f, words[i], strlen(words[i])));
        for (i = 1; i < n; i += 2, neg++) fpc += (uint64_t)ds_bloom_has(&f, words[i], strlen(words[i]));
        th = theory_fpp(&f, ins);
        ms = (double)fpc / (double)neg;
        sigma = sqrt(th * (1 - th) / (double)neg);
        tol = 4 * sigma > 0.15 * th ? 4 * sigma : 0.15 * th;
        if (prop_env_long("DS_VERBOSE", 0))
            printf("  words n=%llu p=%g: theory %.5f measured %.5f (%llu of %llu)\n",
                   (unsigned long long)ins, ps[a], th, ms, (unsigned long long)fpc,
                   (unsigned long long)neg);
        CHECKF(fabs(ms - th) <= tol, "words p=%g: FPP %.5f vs theory %.5f (tol %.5f)", ps[a], ms,
               th, tol);
        ds_bloom_free(&f);
    }
    for (i = 0; i < n; i++) free(words[i]);
    free(words);
}

void test_bloom_ops(void) {
    ds_bloom a, b, u, both, x;
    uint64_t i;
    /* Bad parameters. */
    CHECK(ds_bloom_init(&a, 0, 0.01, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init(&a, 10, 0.0, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init(&a, 10, 1.0, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init(&a, 10, -0.5, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init(&a, 10, NAN, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init(&a, UINT64_MAX, 0.01, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init_blocked(&a, 1ull << 50, 1e-9, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init_mk(&a, 0, 3, 0, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init_mk(&a, 64, 0, 0, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init_mk(&a, 64, 65, 0, NULL) == DS_EINVAL);
    CHECK(ds_bloom_init(NULL, 10, 0.1, NULL) == DS_EINVAL);
    CHECK(ds_bloom_add(NULL, "x", 1, NULL) == DS_EINVAL && ds_bloom_has(NULL, "x", 1) == 0);
    /* Sizing formula: n = 1000, p = 0.01 -> m = 9586 bits (-> 9600), k = 7. */
    CHECK(ds_bloom_init(&a, 1000, 0.01, NULL) == DS_OK);
    CHECKF(a.m == 9600 && a.k == 7, "m=%llu k=%u", (unsigned long long)a.m, a.k);
    CHECK(ds_bloom_add(&a, NULL, 3, NULL) == DS_EINVAL && a.set == 0);
    {
        int added = 0;
        CHECK(ds_bloom_add(&a, NULL, 0, &added) == DS_OK && added == 1 && ds_bloom_has(&a, "", 0));
    }
    ds_bloom_free(&a);
    CHECK(ds_bloom_init_mk(&a, 1000, 5, 1, NULL) == DS_OK && a.m == 1024);
    ds_bloom_free(&a);
    /* Union is exactly the filter of the union; intersection contains the
     * filter of the intersection. */
    for (int blocked = 0; blocked < 2; blocked++) {
        CHECK(ds_bloom_init_mk(&a, 20000, 5, blocked, NULL) == DS_OK);
        CHECK(ds_bloom_init_mk(&b, 20000, 5, blocked, NULL) == DS_OK);
        CHECK(ds_bloom_init_mk(&u, 20000, 5, blocked, NULL) == DS_OK);
        CHECK(ds_bloom_init_mk(&both, 20000, 5, blocked, NULL) == DS_OK);
        for (i = 0; i < 1500; i++) {
            uint64_t k = key_of(i);
            if (i < 1000) ds_bloom_add(&a, &k, 8, NULL);
            if (i >= 500) ds_bloom_add(&b, &k, 8, NULL);
            ds_bloom_add(&u, &k, 8, NULL);
            if (i >= 500 && i < 1000) ds_bloom_add(&both, &k, 8, NULL);
        }
        CHECK(ds_bloom_init_mk(&x, 20000, 5, blocked, NULL) == DS_OK);
        CHECK(ds_bloom_union(&x, &a) == DS_OK && ds_bloom_union(&x, &b) == DS_OK);
        CHECK(memcmp(x.bits, u.bits, u.m / 8) == 0 && x.set == u.set);
        CHECK(ds_bloom_intersect(&a, &b) == DS_OK);
        for (i = 0; i < u.m / 64; i++) CHECK((both.bits[i] & ~a.bits[i]) == 0);
        for (i = 500; i < 1000; i++) {
            uint64_t k = key_of(i);
            CHECK(ds_bloom_has(&a, &k, 8));
        }
        ds_bloom_free(&x);
        CHECK(ds_bloom_init_mk(&x, 20000, 6, blocked, NULL) == DS_OK);
        CHECK(ds_bloom_union(&x, &a) == DS_EINVAL && ds_bloom_intersect(&x, &a) == DS_EINVAL);
        ds_bloom_free(&x);
        CHECK(ds_bloom_init_mk(&x, 20000, 5, !blocked, NULL) == DS_OK);
        CHECK(ds_bloom_union(&x, &a) == DS_EINVAL);
        ds_bloom_free(&x);
        ds_bloom_free(&a);
        ds_bloom_free(&b);
        ds_bloom_free(&u);
        ds_bloom_free(&both);
    }
    /* Saturated: count is infinite, fpp 1. */
    CHECK(ds_bloom_init_mk(&a, 64, 1, 0, NULL) == DS_OK);
    for (i = 0; i < 10000; i++) ds_bloom_add(&a, &i, sizeof i, NULL);
    CHECK(a.set == 64 && ds_bloom_count(&a) == HUGE_VAL && ds_bloom_fpp(&a) == 1.0);
    ds_bloom_free(&a);
}

void test_bloom_save_load(void) {
    ds_bloom f, g;
    ds_membuf b;
    uint64_t i;
    for (int blocked = 0; blocked < 2; blocked++) {
        CHECK(ds_bloom_init_mk(&f, 1024, 4, blocked, NULL) == DS_OK);
        for (i = 0; i < 100; i++) ds_bloom_add(&f, &i, sizeof i, NULL);
        CHECK(save_to(&b, ds_bloom_save_v, &f));
        {
            ds_memsrc src;
            ds_reader r = ds_mem_reader(&src, b.data, b.len);
            CHECK(ds_bloom_load(&g, &r, NULL) == DS_OK);
            CHECK(g.m == f.m && g.k == f.k && g.blocked == f.blocked && g.n == f.n && g.set == f.set);
            CHECK(memcmp(g.bits, f.bits, f.m / 8) == 0);
            for (i = 0; i < 100; i++) CHECK(ds_bloom_has(&g, &i, sizeof i));
            ds_bloom_free(&g);
        }
        check_load_rejects(b.data, b.len, ds_bloom_load_v, ds_bloom_free_v, sizeof(ds_bloom), 1);
        ds_membuf_free(&b);
        ds_bloom_free(&f);
    }
    /* A hostile header claiming 2^47 bits with no payload: DS_ECORRUPT
     * before any allocation (avail bounds it). */
    {
        prop_alloc pa;
        unsigned char img[64];
        ds_writer w;
        ds_membuf mb;
        ds_memsrc src;
        ds_reader r;
        prop_alloc_init(&pa);
        ds_membuf_init(&mb, NULL);
        w = ds_membuf_writer(&mb);
        w.write(w.ctx, "DSbf", 4);
        memset(img, 0, sizeof img);
        img[0] = 1;
        w.write(w.ctx, img, 8);                  /* version 1 */
        img[0] = 0;
        img[5] = 0x80;                            /* m = 2^47 */
        w.write(w.ctx, img, 8);
        memset(img, 0, 8);
        img[0] = 7;
        w.write(w.ctx, img, 8);                   /* k */
        img[0] = 0;
        w.write(w.ctx, img, 16);                  /* blocked, n */
        r = ds_mem_reader(&src, mb.data, mb.len);
        CHECK(ds_bloom_load(&g, &r, &pa.a) == DS_ECORRUPT);
        CHECK(pa.attempts == 0);
        ds_membuf_free(&mb);
    }
}

/* A reader that does not know how much is left (a pipe): hostile lengths
 * must still not buy big allocations. */
static ds_status pipe_read(void *ctx, void *p, size_t n) {
    return ((ds_reader *)ctx)->read(((ds_reader *)ctx)->ctx, p, n);
}
void test_sketch_load_pipe(void) {
    static const struct {
        const char magic[5];
        uint64_t f[4];
    } hostile[] = {
        {"DSbf", {1ull << 47, 7, 0, 0}},        /* 16 TiB of bits */
        {"DSck", {1ull << 40, 16, 0, 0}},       /* 8 TiB of buckets */
        {"DScm", {1ull << 31, 64, 0, 0}},       /* 512 GiB of counters */
    };
    size_t i;
    for (i = 0; i < 3; i++) {
        ds_membuf b;
        ds_memsrc src;
        ds_reader inner, r;
        prop_alloc pa;
        unsigned char v[8] = {1, 0, 0, 0, 0, 0, 0, 0};
        size_t j, q;
        ds_status s;
        union {
            ds_bloom b;
            ds_cuckoo c;
            ds_cms m;
        } o;
        ds_membuf_init(&b, NULL);
        CHECK(ds_membuf_writer(&b).write(&b, hostile[i].magic, 4) == DS_OK);
        CHECK(ds_membuf_writer(&b).write(&b, v, 8) == DS_OK);
        for (j = 0; j < 4; j++) {
            for (q = 0; q < 8; q++) v[q] = (unsigned char)(hostile[i].f[j] >> (8 * q));
            CHECK(ds_membuf_writer(&b).write(&b, v, 8) == DS_OK);
        }
        CHECK(ds_membuf_writer(&b).write(&b, "some payload", 12) == DS_OK);
        inner = ds_mem_reader(&src, b.data, b.len);
        r.read = pipe_read;
        r.ctx = &inner;
        r.avail = UINT64_MAX;
        prop_alloc_init(&pa);
        pa.limit = (size_t)4 << 20; /* anything bigger fails the test */
        s = i == 0 ? ds_bloom_load(&o.b, &r, &pa.a) : i == 1 ? ds_cuckoo_load(&o.c, &r, &pa.a)
                                                             : ds_cms_load(&o.m, &r, &pa.a);
        CHECKF(s == DS_ECORRUPT && pa.fails == 0, "%s: %s after %ld refused allocations",
               hostile[i].magic, ds_status_name(s), pa.fails);
        CHECK(pa.live_bytes == 0);
        ds_membuf_free(&b);
    }
}

static int bloom_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_bloom f;
    ds_sbloom s;
    ds_status st;
    uint64_t i;
    long before = PROP_FAILS(pa);
    st = ds_bloom_init(&f, 100 + seed % 50, 0.01, &pa->a);
    CHECK_OR(st == DS_OK || (st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, before)), 1);
    if (st == DS_OK) ds_bloom_free(&f);
    CHECK_OR(ds_sbloom_init(&s, 16, 0.01, 2, 0.5, (int)(seed & 1), &pa->a) == DS_OK, 1);
    for (i = 0; i < 400; i++) {
        int added = -1;
        uint64_t nf = ds_sbloom_filters(&s), n = ds_sbloom_len(&s);
        size_t mem = ds_sbloom_memory(&s);
        before = PROP_FAILS(pa);
        st = ds_sbloom_add(&s, &i, sizeof i, &added);
        if (st == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && added == 0, 1);
            CHECK_OR(ds_sbloom_filters(&s) == nf && ds_sbloom_len(&s) == n, 1);
            CHECK_OR(ds_sbloom_memory(&s) == mem, 1);
            CHECK_OR(!ds_sbloom_has(&s, &i, sizeof i) || n > 0, 1);
        } else {
            CHECK_OR(st == DS_OK, 1);
        }
    }
    for (i = 0; i < 400; i++)
        if (ds_sbloom_len(&s) == 400) CHECK_OR(ds_sbloom_has(&s, &i, sizeof i), 1);
    ds_sbloom_free(&s);
    return 0;
}
void test_bloom_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(bloom_oom_seq, 1, &total) == 0);
    CHECK(prop_oom_sweep(bloom_oom_seq, 2, &total) == 0);
    CHECK(total > 5);
}

void test_sbloom(void) {
    static const double ps[] = {0.01, 0.001};
    size_t a;
    ds_sbloom s, t;
    CHECK(ds_sbloom_init(&s, 0, 0.01, 2, 0.5, 0, NULL) == DS_EINVAL);
    CHECK(ds_sbloom_init(&s, 10, 1.5, 2, 0.5, 0, NULL) == DS_EINVAL);
    CHECK(ds_sbloom_init(&s, 10, 0.01, 0.5, 0.5, 0, NULL) == DS_EINVAL);
    CHECK(ds_sbloom_init(&s, 10, 0.01, 2, 1.0, 0, NULL) == DS_EINVAL);
    CHECK(ds_sbloom_init(&s, 10, 0.01, 2, 0.0, 0, NULL) == DS_EINVAL);
    for (a = 0; a < 2; a++)
        for (int blocked = 0; blocked < 2; blocked++) {
            /* 100x past the initial capacity: the overall FPP stays under
             * p (it is a bound, so allow binomial noise only). */
            uint64_t n = 100000, i, fp = 0, q = 400000;
            int added;
            double ms;
            CHECK(ds_sbloom_init(&s, 1000, ps[a], 2, 0.5, blocked, NULL) == DS_OK);
            for (i = 0; i < n; i++) {
                uint64_t k = key_of(i);
                CHECK(ds_sbloom_add(&s, &k, 8, &added) == DS_OK);
            }
            for (i = 0; i < n; i++) {
                uint64_t k = key_of(i);
                CHECKF(ds_sbloom_has(&s, &k, 8), "false negative at %llu", (unsigned long long)i);
                CHECK(ds_sbloom_add(&s, &k, 8, &added) == DS_OK && added == 0);
            }
            for (i = 0; i < q; i++) {
                uint64_t k = key_of((1ull << 41) + i);
                fp += (uint64_t)ds_sbloom_has(&s, &k, 8);
            }
            ms = (double)fp / (double)q;
            if (prop_env_long("DS_VERBOSE", 0))
                printf("  sbloom p=%g blocked=%d: %zu filters, len %llu, fpp %.5f (estimate %.5f)\n",
                       ps[a], blocked, ds_sbloom_filters(&s), (unsigned long long)ds_sbloom_len(&s),
                       ms, ds_sbloom_fpp(&s));
            CHECKF(ms <= ps[a] + 4 * sqrt(ps[a] / (double)q),
                   "sbloom FPP %.5f above bound %g", ms, ps[a]);
            /* 1000 * (1 + 2 + ... + 64) = 127000 >= 100000: 7 filters. */
            CHECKF(ds_sbloom_filters(&s) == 7, "%zu filters", ds_sbloom_filters(&s));
            CHECK(ds_sbloom_len(&s) <= n && ds_sbloom_len(&s) >= n - n / 100);
            if (a == 0 && !blocked) {
                ds_membuf b;
                ds_memsrc src;
                ds_reader r;
                size_t f;
                CHECK(save_to(&b, ds_sbloom_save_v, &s));
                r = ds_mem_reader(&src, b.data, b.len);
                CHECK(ds_sbloom_load(&t, &r, NULL) == DS_OK);
                CHECK(t.nf == s.nf && t.n == s.n);
                for (f = 0; f < s.nf; f++)
                    CHECK(t.f[f].m == s.f[f].m && memcmp(t.f[f].bits, s.f[f].bits, s.f[f].m / 8) == 0);
                ds_sbloom_free(&t);
                ds_membuf_free(&b);
            }
            ds_sbloom_free(&s);
        }
    /* Corruption of a small chain. */
    {
        ds_membuf b;
        uint64_t i;
        CHECK(ds_sbloom_init(&s, 8, 0.1, 2, 0.5, 0, NULL) == DS_OK);
        for (i = 0; i < 30; i++) CHECK(ds_sbloom_add(&s, &i, sizeof i, NULL) == DS_OK);
        CHECK(ds_sbloom_filters(&s) >= 2);
        CHECK(save_to(&b, ds_sbloom_save_v, &s));
        check_load_rejects(b.data, b.len, ds_sbloom_load_v, ds_sbloom_free_v, sizeof(ds_sbloom), 1);
        ds_membuf_free(&b);
        ds_sbloom_free(&s);
    }
}

/* ---- cuckoo ----------------------------------------------------------------- */

/* Against a multiset model: keys drawn from a small universe, so adds
 * repeat and deletes hit. has() must be true for every key in the model
 * (no false negatives) and count() >= the model's multiplicity. */
static void cuckoo_case(ds_rng *rng, uint64_t seed) {
    enum { U = 600 };
    static unsigned cnt[U];
    ds_cuckoo c;
    unsigned fpb = 4 + (unsigned)(seed % 13);
    uint64_t cap = 64 + ds_rng_below(rng, 400), len = 0;
    int step;
    memset(cnt, 0, sizeof cnt);
    CHECK(ds_cuckoo_init(&c, cap, fpb, NULL) == DS_OK);
    for (step = 0; step < 3000; step++) {
        uint64_t k = key_of(ds_rng_below(rng, U));
        unsigned idx = 0;
        ds_status s;
        while (key_of(idx) != k) idx++;
        switch (ds_rng_below(rng, 4)) {
        case 0: case 1:
            if (cnt[idx] >= 2) break; /* keep within the 8-copy limit */
            s = ds_cuckoo_add(&c, &k, 8);
            if (s == DS_OK) { cnt[idx]++; len++; }
            else CHECKF(s == DS_EFULL, "add: %s", ds_status_name(s));
            break;
        case 2:
            if (cnt[idx] == 0) break; /* deleting an absent key is a misuse */
            CHECK(ds_cuckoo_del(&c, &k, 8) == DS_OK);
            cnt[idx]--;
            len--;
            break;
        default:
            if (cnt[idx]) CHECK(ds_cuckoo_has(&c, &k, 8));
            CHECK(ds_cuckoo_count(&c, &k, 8) >= cnt[idx]);
        }
        CHECK(ds_cuckoo_len(&c) == len);
        if (step % 500 == 499) {
            unsigned j;
            for (j = 0; j < U; j++) {
                uint64_t kj = key_of(j);
                if (cnt[j]) CHECKF(ds_cuckoo_has(&c, &kj, 8), "false negative key %u", j);
            }
        }
    }
    ds_cuckoo_free(&c);
}
void test_cuckoo_model(void) { prop_run("cuckoo_model", cuckoo_case, 40); }

void test_cuckoo_full_and_fpp(void) {
    static const unsigned fps[] = {8, 12, 16};
    size_t a;
    ds_cuckoo c;
    CHECK(ds_cuckoo_init(&c, 0, 8, NULL) == DS_EINVAL);
    CHECK(ds_cuckoo_init(&c, 100, 3, NULL) == DS_EINVAL);
    CHECK(ds_cuckoo_init(&c, 100, 17, NULL) == DS_EINVAL);
    CHECK(ds_cuckoo_init(&c, 1ull << 60, 8, NULL) == DS_EINVAL);
    CHECK(ds_cuckoo_add(NULL, "a", 1) == DS_EINVAL && ds_cuckoo_has(NULL, "a", 1) == 0);
    for (a = 0; a < 3; a++) {
        uint64_t i, n = 0, fp = 0, q = 400000;
        ds_status s = DS_OK;
        double ms, bound;
        CHECK(ds_cuckoo_init(&c, 100000, fps[a], NULL) == DS_OK);
        /* Fill until the first DS_EFULL: nothing inserted may be lost. A
         * max_kicks above the ceiling is clamped, not an overflow. */
        c.max_kicks = 5000;
        for (i = 0; s == DS_OK; i++) {
            uint64_t k = key_of(i);
            s = ds_cuckoo_add(&c, &k, 8);
            if (s == DS_OK) n++;
        }
        CHECK(s == DS_EFULL && ds_cuckoo_len(&c) == n);
        CHECKF(n >= 100000, "DS_EFULL after %llu of the 100000 keys sized for", (unsigned long long)n);
        for (i = 0; i < n; i++) {
            uint64_t k = key_of(i);
            CHECKF(ds_cuckoo_has(&c, &k, 8), "lost key %llu after DS_EFULL", (unsigned long long)i);
        }
        /* Fan et al. report ~95% occupancy with b = 4. */
        CHECKF(ds_cuckoo_fill(&c) > 0.90, "full at fill %.3f", ds_cuckoo_fill(&c));
        for (i = 0; i < q; i++) {
            uint64_t k = key_of((1ull << 42) + i);
            fp += (uint64_t)ds_cuckoo_has(&c, &k, 8);
        }
        ms = (double)fp / (double)q;
        bound = 8.0 / (double)(1u << fps[a]);
        if (prop_env_long("DS_VERBOSE", 0))
            printf("  cuckoo f=%u: full at %.3f, fpp %.6f (bound %.6f)\n", fps[a], ds_cuckoo_fill(&c),
                   ms, bound);
        CHECKF(ms <= bound + 4 * sqrt(bound / (double)q), "fpp %.6f above 8/2^f = %.6f", ms, bound);
        /* Delete everything: empty again, and no key answers yes from the
         * deleted set except by fingerprint collision. */
        for (i = 0; i < n; i++) {
            uint64_t k = key_of(i);
            CHECK(ds_cuckoo_del(&c, &k, 8) == DS_OK);
        }
        CHECK(ds_cuckoo_len(&c) == 0);
        {
            uint64_t k = key_of(0);
            CHECK(!ds_cuckoo_has(&c, &k, 8) && ds_cuckoo_del(&c, &k, 8) == DS_ENOTFOUND);
        }
        ds_cuckoo_free(&c);
    }
}

void test_cuckoo_save_load(void) {
    ds_cuckoo c, d;
    ds_membuf b;
    uint64_t i;
    for (unsigned f = 8; f <= 12; f += 4) {
        ds_memsrc src;
        ds_reader r;
        CHECK(ds_cuckoo_init(&c, 40, f, NULL) == DS_OK);
        for (i = 0; i < 30; i++) CHECK(ds_cuckoo_add(&c, &i, sizeof i) == DS_OK);
        CHECK(save_to(&b, ds_cuckoo_save_v, &c));
        r = ds_mem_reader(&src, b.data, b.len);
        CHECK(ds_cuckoo_load(&d, &r, NULL) == DS_OK);
        CHECK(d.nb == c.nb && d.len == c.len && d.fp_bits == c.fp_bits);
        CHECK(memcmp(d.t, c.t, (size_t)c.nb * 4 * c.slot_bytes) == 0);
        for (i = 0; i < 30; i++) CHECK(ds_cuckoo_has(&d, &i, sizeof i));
        ds_cuckoo_free(&d);
        check_load_rejects(b.data, b.len, ds_cuckoo_load_v, ds_cuckoo_free_v, sizeof(ds_cuckoo), 1);
        ds_membuf_free(&b);
        ds_cuckoo_free(&c);
    }
}

/* ---- count-min -------------------------------------------------------------- */

void test_cms_zipf(void) {
    enum { KEYS = 100000, N = 1000000 };
    zipf z;
    ds_rng r;
    ds_cms plain, cons;
    uint32_t *truth = (uint32_t *)calloc(KEYS, sizeof *truth);
    size_t i;
    const double eps = 0.001, delta = 0.01;
    uint64_t bad_plain = 0, bad_cons = 0, err_plain = 0, err_cons = 0;
    CHECK(truth && zipf_init(&z, KEYS, 1.1));
    ds_rng_seed(&r, 77);
    CHECK(ds_cms_init_error(&plain, eps, delta, NULL) == DS_OK);
    CHECK(plain.w == 2719 && plain.d == 5);
    CHECK(ds_cms_init_error(&cons, eps, delta, NULL) == DS_OK);
    ds_cms_set_conservative(&cons, 1);
    for (i = 0; i < N; i++) {
        size_t k = zipf_draw(&z, &r);
        uint64_t key = key_of(k);
        uint32_t e1 = 0, e2 = 0;
        CHECK(ds_cms_add(&plain, &key, 8, 1, &e1) == DS_OK && ds_cms_add(&cons, &key, 8, 1, &e2) == DS_OK);
        truth[k]++;
        CHECK(e1 >= truth[k] && e2 >= truth[k] && e2 <= e1);
    }
    CHECK(ds_cms_total(&plain) == N && ds_cms_total(&cons) == N);
    for (i = 0; i < KEYS; i++) {
        uint64_t key = key_of(i);
        uint32_t q1 = ds_cms_query(&plain, &key, 8), q2 = ds_cms_query(&cons, &key, 8);
        CHECKF(q1 >= truth[i] && q2 >= truth[i], "under-count key %zu: %u %u < %u", i, q1, q2,
               truth[i]);
        CHECK(q2 <= q1);
        bad_plain += q1 - truth[i] > eps * N;
        bad_cons += q2 - truth[i] > eps * N;
        err_plain += q1 - truth[i];
        err_cons += q2 - truth[i];
    }
    if (prop_env_long("DS_VERBOSE", 0))
        printf("  cms: %llu / %llu keys over eps*N (plain / conservative), mean error %.2f / %.2f\n",
               (unsigned long long)bad_plain, (unsigned long long)bad_cons,
               (double)err_plain / KEYS, (double)err_cons / KEYS);
    /* The bound says at most delta of queries; allow 1.5x for sampling. */
    CHECKF(bad_plain <= 1.5 * delta * KEYS, "%llu of %d keys off by more than eps*N",
           (unsigned long long)bad_plain, KEYS);
    CHECK(err_cons <= err_plain);
    ds_cms_free(&plain);
    ds_cms_free(&cons);
    free(truth);
    free(z.cdf);
}

void test_cms_ops(void) {
    ds_cms a, b, c, m;
    uint32_t est = 0;
    const ds_cms *src[3];
    uint32_t w[3] = {1, 2, 3};
    uint64_t i;
    CHECK(ds_cms_init(&a, 0, 4, NULL) == DS_EINVAL);
    CHECK(ds_cms_init(&a, 100, 0, NULL) == DS_EINVAL);
    CHECK(ds_cms_init(&a, 100, 65, NULL) == DS_EINVAL);
    CHECK(ds_cms_init(&a, 0x80000001u, 4, NULL) == DS_EINVAL);
    CHECK(ds_cms_init_error(&a, 0, 0.1, NULL) == DS_EINVAL);
    CHECK(ds_cms_init_error(&a, 0.1, 1.0, NULL) == DS_EINVAL);
    CHECK(ds_cms_init_error(&a, NAN, 0.1, NULL) == DS_EINVAL);
    CHECK(ds_cms_init_error(&a, 1e-12, 0.1, NULL) == DS_EINVAL);
    CHECK(ds_cms_add(NULL, "k", 1, 1, NULL) == DS_EINVAL && ds_cms_query(NULL, "k", 1) == 0);
    /* Saturation, not wrap-around. */
    CHECK(ds_cms_init(&a, 16, 3, NULL) == DS_OK);
    CHECK(ds_cms_add(&a, NULL, 1, 1, NULL) == DS_EINVAL);
    CHECK(ds_cms_add(&a, "k", 1, UINT32_MAX - 1, &est) == DS_OK && est == UINT32_MAX - 1);
    CHECK(ds_cms_add(&a, "k", 1, 5, &est) == DS_OK && est == UINT32_MAX && ds_cms_query(&a, "k", 1) == UINT32_MAX);
    CHECK(ds_cms_total(&a) == (uint64_t)UINT32_MAX + 4);
    ds_cms_set_conservative(&a, 1);
    CHECK(ds_cms_add(&a, "k", 1, 5, &est) == DS_OK && est == UINT32_MAX);
    ds_cms_clear(&a);
    CHECK(ds_cms_query(&a, "k", 1) == 0 && ds_cms_total(&a) == 0);
    ds_cms_free(&a);
    /* Weighted merge equals the cell-wise weighted sum; dst may be a source. */
    CHECK(ds_cms_init(&a, 50, 4, NULL) == DS_OK);
    CHECK(ds_cms_init(&b, 50, 4, NULL) == DS_OK);
    CHECK(ds_cms_init(&c, 50, 4, NULL) == DS_OK);
    CHECK(ds_cms_init(&m, 50, 4, NULL) == DS_OK);
    for (i = 0; i < 300; i++) {
        ds_cms_add(&a, &i, sizeof i, 1, NULL);
        if (i % 2) ds_cms_add(&b, &i, sizeof i, 2, NULL);
        if (i % 3) ds_cms_add(&c, &i, sizeof i, 3, NULL);
    }
    src[0] = &a;
    src[1] = &b;
    src[2] = &c;
    CHECK(ds_cms_merge(&m, src, w, 3) == DS_OK);
    for (i = 0; i < 200; i++) CHECK(m.c[i] == a.c[i] + 2 * b.c[i] + 3 * c.c[i]);
    CHECK(m.total == a.total + 2 * b.total + 3 * c.total);
    for (i = 0; i < 300; i++) {
        uint32_t want = 1 + (i % 2 ? 4 : 0) + (i % 3 ? 9 : 0);
        CHECK(ds_cms_query(&m, &i, sizeof i) >= want);
    }
    {
        uint32_t keep[200];
        memcpy(keep, a.c, sizeof keep);
        CHECK(ds_cms_merge(&a, src, NULL, 3) == DS_OK); /* a = a + b + c */
        for (i = 0; i < 200; i++) CHECK(a.c[i] == keep[i] + b.c[i] + c.c[i]);
    }
    ds_cms_free(&c);
    CHECK(ds_cms_init(&c, 51, 4, NULL) == DS_OK);
    src[2] = &c;
    CHECK(ds_cms_merge(&m, src, NULL, 3) == DS_EINVAL);
    CHECK(ds_cms_merge(&m, NULL, NULL, 1) == DS_EINVAL);
    ds_cms_free(&a);
    ds_cms_free(&b);
    ds_cms_free(&c);
    ds_cms_free(&m);
    /* save/load */
    {
        ds_membuf bf;
        ds_memsrc s;
        ds_reader r;
        CHECK(ds_cms_init(&a, 24, 3, NULL) == DS_OK);
        ds_cms_set_conservative(&a, 1);
        for (i = 0; i < 100; i++) ds_cms_add(&a, &i, sizeof i, (uint32_t)i, NULL);
        CHECK(save_to(&bf, ds_cms_save_v, &a));
        r = ds_mem_reader(&s, bf.data, bf.len);
        CHECK(ds_cms_load(&b, &r, NULL) == DS_OK);
        CHECK(b.w == 24 && b.d == 3 && b.conservative && b.total == a.total);
        CHECK(memcmp(a.c, b.c, 24 * 3 * 4) == 0);
        ds_cms_free(&b);
        check_load_rejects(bf.data, bf.len, ds_cms_load_v, ds_cms_free_v, sizeof(ds_cms), 1);
        ds_membuf_free(&bf);
        ds_cms_free(&a);
    }
}

/* ---- heavy hitters ---------------------------------------------------------- */

/* Zipf(1.1), 10^6 items over 10^5 keys: recall of the true top-10 >= 0.95,
 * and Space-Saving's bounds on every listed item. */
void test_topk_zipf(void) {
    enum { KEYS = 100000, N = 1000000, K = 10 };
    zipf z;
    ds_rng r;
    ds_topk t;
    uint64_t *truth = (uint64_t *)calloc(KEYS, sizeof *truth);
    ds_topk_item items[K];
    size_t i, j, n, hit = 0;
    uint64_t top[K];
    CHECK(truth && zipf_init(&z, KEYS, 1.1));
    ds_rng_seed(&r, 99);
    CHECK(ds_topk_init(&t, K, 0, NULL) == DS_OK);
    for (i = 0; i < N; i++) {
        size_t k = zipf_draw(&z, &r);
        uint64_t key = key_of(k);
        CHECK(ds_topk_add(&t, &key, 8, 1, NULL) == DS_OK);
        truth[k]++;
    }
    CHECK(ds_topk_total(&t) == N);
    /* True top-10 (ties broken by index). */
    for (j = 0; j < K; j++) {
        size_t best = SIZE_MAX;
        for (i = 0; i < KEYS; i++) {
            size_t q;
            int used = 0;
            for (q = 0; q < j; q++) used |= top[q] == i;
            if (!used && (best == SIZE_MAX || truth[i] > truth[best])) best = i;
        }
        top[j] = best;
    }
    n = ds_topk_list(&t, items, K);
    CHECK(n == K);
    for (j = 0; j < n; j++) {
        uint64_t key, idx = UINT64_MAX;
        CHECK(items[j].len == 8);
        memcpy(&key, items[j].key, 8);
        for (i = 0; i < K && idx == UINT64_MAX; i++)
            if (key_of(top[i]) == key) idx = top[i];
        if (idx != UINT64_MAX) hit++;
        if (j) CHECK(items[j - 1].count >= items[j].count);
        /* count - err <= true <= count, for whichever key it is. */
        for (i = 0; i < KEYS; i++)
            if (key_of(i) == key) break;
        CHECK(i < KEYS);
        CHECKF(items[j].count >= truth[i] && items[j].count - items[j].err <= truth[i],
               "key %zu: count %llu err %llu true %llu", i, (unsigned long long)items[j].count,
               (unsigned long long)items[j].err, (unsigned long long)truth[i]);
        CHECK(ds_topk_has(&t, &key, 8) && ds_topk_count(&t, &key, 8) == items[j].count);
    }
    CHECKF(hit >= 10 * 95 / 100, "recall %zu / 10", hit);
    free(truth);
    free(z.cdf);
    ds_topk_free(&t);
}

/* Small universes against an exact model of Space-Saving's contract: the
 * top list holds min(monitored, k) keys and changes by at most the one
 * expelled key per add; has() is membership in the list; the bounds
 * count - err <= true <= count hold for every listed key. */
static size_t tk_key(size_t u, char *key) {
    /* The first two bytes identify u; the length varies (2..21). */
    memset(key, 'a' + (int)(u % 26), 32);
    key[0] = (char)('A' + (int)(u / 26));
    return 2 + u % 20;
}
static int tk_in(const ds_topk_item *it, size_t n, const void *key, size_t len) {
    size_t i;
    for (i = 0; i < n; i++)
        if (it[i].len == len && (len == 0 || memcmp(it[i].key, key, len) == 0)) return 1;
    return 0;
}
static void topk_case(ds_rng *rng, uint64_t seed) {
    enum { U = 64 };
    uint64_t truth[U];
    size_t k = 1 + (size_t)ds_rng_below(rng, 6), cap = k + (size_t)ds_rng_below(rng, 10), i;
    ds_topk t;
    ds_topk_item before[16], after[16], ex;
    char bkeys[16][32];
    int step;
    (void)seed;
    memset(truth, 0, sizeof truth);
    CHECK(ds_topk_init(&t, k, cap, NULL) == DS_OK);
    for (step = 0; step < 1500; step++) {
        char key[32];
        size_t u = (size_t)ds_rng_below(rng, U), len = tk_key(u, key), nb, na, a, gone = 0;
        uint64_t w = 1 + ds_rng_below(rng, 3);
        int was_monitored = ds_topk_count(&t, key, len) > 0;
        nb = ds_topk_list(&t, before, 16);
        for (a = 0; a < nb; a++) { /* keys point into t: copy them */
            memcpy(bkeys[a], before[a].key, before[a].len);
            before[a].key = bkeys[a];
        }
        CHECK(ds_topk_add(&t, key, len, w, &ex) == DS_OK);
        truth[u] += w;
        na = ds_topk_list(&t, after, 16);
        CHECKF(na == (nb < k ? nb + !was_monitored : k), "list %zu -> %zu (k %zu)", nb, na, k);
        for (a = 0; a < nb; a++)
            if (!tk_in(after, na, before[a].key, before[a].len)) {
                gone++;
                CHECK(ex.key != NULL && ex.len == before[a].len &&
                      memcmp(ex.key, before[a].key, ex.len) == 0);
            }
        CHECK(gone <= 1 && (ex.key == NULL) == (gone == 0));
        for (i = 0; i < U; i++) {
            char kk[32];
            size_t l = tk_key(i, kk);
            CHECK(ds_topk_has(&t, kk, l) == tk_in(after, na, kk, l));
            if (tk_in(after, na, kk, l)) {
                uint64_t c = ds_topk_count(&t, kk, l);
                size_t b;
                for (b = 0; b < na; b++)
                    if (after[b].len == l && memcmp(after[b].key, kk, l) == 0) break;
                CHECK(after[b].count == c && c >= truth[i] && c - after[b].err <= truth[i]);
            }
        }
        for (a = 1; a < na; a++) CHECK(after[a - 1].count >= after[a].count);
    }
    CHECK(ds_topk_total(&t) > 0);
    ds_topk_clear(&t);
    CHECK(ds_topk_total(&t) == 0 && ds_topk_list(&t, after, 16) == 0);
    for (i = 0; i < 3; i++) CHECK(ds_topk_add(&t, "x", 1, 1, NULL) == DS_OK);
    CHECK(ds_topk_count(&t, "x", 1) == 3);
    ds_topk_free(&t);
}
void test_topk_model(void) { prop_run("topk_model", topk_case, 60); }

static int topk_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_topk t;
    ds_rng r;
    int step;
    long before = PROP_FAILS(pa);
    ds_status s = ds_topk_init(&t, 3, 6, &pa->a);
    if (s == DS_ENOMEM) {
        CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
        return 0;
    }
    CHECK_OR(s == DS_OK, 1);
    ds_rng_seed(&r, seed);
    for (step = 0; step < 200; step++) {
        char key[40];
        size_t len = 1 + (size_t)ds_rng_below(&r, 39);
        uint64_t c0, tot = ds_topk_total(&t);
        memset(key, 'a' + (int)ds_rng_below(&r, 8), sizeof key);
        c0 = ds_topk_count(&t, key, len);
        before = PROP_FAILS(pa);
        s = ds_topk_add(&t, key, len, 1, NULL);
        if (s == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            CHECK_OR(ds_topk_total(&t) == tot && ds_topk_count(&t, key, len) == c0, 1);
        } else {
            CHECK_OR(s == DS_OK && ds_topk_total(&t) == tot + 1, 1);
        }
    }
    ds_topk_free(&t);
    return 0;
}
void test_topk_edges(void) {
    ds_topk t;
    ds_topk_item it[4], ex;
    long total = 0;
    CHECK(ds_topk_init(&t, 0, 0, NULL) == DS_EINVAL);
    CHECK(ds_topk_init(&t, 5, 3, NULL) == DS_EINVAL);
    CHECK(ds_topk_add(NULL, "a", 1, 1, NULL) == DS_EINVAL);
    /* capacity == k == 2: a new key takes over the minimum, which was in
     * the list, so it is expelled. */
    CHECK(ds_topk_init(&t, 2, 2, NULL) == DS_OK);
    CHECK(ds_topk_add(&t, "a", 1, 5, &ex) == DS_OK && ex.key == NULL);
    CHECK(ds_topk_add(&t, "b", 1, 3, &ex) == DS_OK && ex.key == NULL);
    CHECK(ds_topk_add(&t, "c", 1, 1, &ex) == DS_OK);
    CHECK(ex.key != NULL && ex.len == 1 && memcmp(ex.key, "b", 1) == 0);
    CHECK(ds_topk_count(&t, "c", 1) == 4 && ds_topk_count(&t, "b", 1) == 0);
    CHECK(ds_topk_list(&t, it, 4) == 2 && it[0].count == 5 && it[1].count == 4 && it[1].err == 3);
    CHECK(ds_topk_add(&t, "a", 1, 0, NULL) == DS_EINVAL);
    CHECK(ds_topk_add(&t, NULL, 1, 1, NULL) == DS_EINVAL);
    CHECK(ds_topk_add(&t, NULL, 0, 1, NULL) == DS_OK); /* the empty key */
    ds_topk_free(&t);
    /* Larger capacity: a key overtaking the list's minimum expels it. */
    CHECK(ds_topk_init(&t, 1, 4, NULL) == DS_OK);
    CHECK(ds_topk_add(&t, "a", 1, 2, &ex) == DS_OK && ex.key == NULL);
    CHECK(ds_topk_add(&t, "b", 1, 2, &ex) == DS_OK && ex.key == NULL);
    CHECK(ds_topk_has(&t, "a", 1) && !ds_topk_has(&t, "b", 1));
    CHECK(ds_topk_add(&t, "b", 1, 1, &ex) == DS_OK && ex.key && memcmp(ex.key, "a", 1) == 0);
    CHECK(ds_topk_has(&t, "b", 1) && !ds_topk_has(&t, "a", 1));
    CHECK(ex.count == 2 && ex.err == 0);
    ds_topk_free(&t);
    /* The expelled key passed straight back (it lives in t's scratch). */
    CHECK(ds_topk_init(&t, 1, 1, NULL) == DS_OK);
    CHECK(ds_topk_add(&t, "a", 1, 3, &ex) == DS_OK);
    CHECK(ds_topk_add(&t, "b", 1, 1, &ex) == DS_OK && ex.key && ex.len == 1 && ex.count == 3);
    CHECK(ds_topk_add(&t, ex.key, ex.len, 1, &ex) == DS_OK);
    CHECK(ex.key && memcmp(ex.key, "b", 1) == 0);
    CHECK(ds_topk_count(&t, "a", 1) == 5 && ds_topk_has(&t, "a", 1) && ds_topk_count(&t, "b", 1) == 0);
    ds_topk_free(&t);
    CHECK(prop_oom_sweep(topk_oom_seq, 5, &total) == 0);
    CHECK(total > 3);
}

/* ---- hyperloglog ------------------------------------------------------------ */

void test_hll_accuracy(void) {
    static const unsigned ps[] = {10, 14};
    ds_hll h;
    size_t a;
    CHECK(ds_hll_init(&h, 3, NULL) == DS_EINVAL && ds_hll_init(&h, 19, NULL) == DS_EINVAL);
    CHECK(ds_hll_add(NULL, "x", 1, NULL) == DS_EINVAL && ds_hll_count(NULL) == 0.0);
    for (a = 0; a < 2; a++) {
        uint64_t next = 0, target;
        double se;
        CHECK(ds_hll_init(&h, ps[a], NULL) == DS_OK);
        se = ds_hll_error(&h);
        CHECK(fabs(se - 1.04 / sqrt((double)(1u << ps[a]))) < 1e-12);
        CHECK(ds_hll_count(&h) == 0.0);
        for (target = 100; target <= 10000000; target *= 10) {
            double est, rel;
            for (; next < target; next++) {
                uint64_t k = key_of(next + 1000000000ull * a);
                ds_hll_add(&h, &k, 8, NULL);
            }
            /* Duplicates change nothing. */
            {
                uint64_t k = key_of(a * 1000000000ull);
                int changed = -1;
                CHECK(ds_hll_add(&h, &k, 8, &changed) == DS_OK && changed == 0);
            }
            est = ds_hll_count(&h);
            rel = (est - (double)target) / (double)target;
            if (prop_env_long("DS_VERBOSE", 0))
                printf("  hll p=%u n=%llu: estimate %.0f, error %+.4f (3 SE = %.4f)\n", ps[a],
                       (unsigned long long)target, est, rel, 3 * se);
            CHECKF(fabs(rel) <= 3 * se, "p=%u n=%llu: estimate %.0f (error %.4f > 3 SE %.4f)",
                   ps[a], (unsigned long long)target, est, rel, 3 * se);
        }
        ds_hll_free(&h);
    }
}

void test_hll_merge_save(void) {
    ds_hll a, b, u, c;
    uint64_t i;
    ds_membuf bf;
    ds_memsrc s;
    ds_reader r;
    CHECK(ds_hll_init(&a, 12, NULL) == DS_OK && ds_hll_init(&b, 12, NULL) == DS_OK);
    CHECK(ds_hll_init(&u, 12, NULL) == DS_OK && ds_hll_init(&c, 11, NULL) == DS_OK);
    for (i = 0; i < 300000; i++) {
        uint64_t k = key_of(i);
        if (i < 200000) ds_hll_add(&a, &k, 8, NULL);
        if (i >= 100000) ds_hll_add(&b, &k, 8, NULL);
        ds_hll_add(&u, &k, 8, NULL);
    }
    CHECK(ds_hll_merge(&a, &b) == DS_OK);
    CHECK(memcmp(a.reg, u.reg, ds_hll_memory(&u)) == 0 && ds_hll_count(&a) == ds_hll_count(&u));
    CHECK(ds_hll_merge(&a, &c) == DS_EINVAL && ds_hll_merge(NULL, &a) == DS_EINVAL);
    CHECK(ds_hll_memory(&u) == 6 * 4096 / 8 + 1);
    ds_hll_clear(&a);
    CHECK(ds_hll_count(&a) == 0.0);
    ds_hll_free(&a);
    ds_hll_free(&b);
    ds_hll_free(&c);
    CHECK(save_to(&bf, ds_hll_save_v, &u));
    r = ds_mem_reader(&s, bf.data, bf.len);
    CHECK(ds_hll_load(&a, &r, NULL) == DS_OK);
    CHECK(a.p == 12 && memcmp(a.reg, u.reg, ds_hll_memory(&u)) == 0);
    ds_hll_free(&a);
    ds_hll_free(&u);
    ds_membuf_free(&bf);
    /* Corruption checks on the smallest sketch (every bit flipped). */
    CHECK(ds_hll_init(&u, 4, NULL) == DS_OK);
    for (i = 0; i < 100; i++) ds_hll_add(&u, &i, sizeof i, NULL);
    CHECK(save_to(&bf, ds_hll_save_v, &u));
    check_load_rejects(bf.data, bf.len, ds_hll_load_v, ds_hll_free_v, sizeof(ds_hll), 1);
    ds_membuf_free(&bf);
    ds_hll_free(&u);
}

/* The io promise: a load reads exactly one image and leaves the reader
 * just past it, so images saved back to back load in order, and what
 * follows an image is the caller's to check. */
void test_io_back_to_back(void) {
    ds_bloom b, b2;
    ds_hll h, h2;
    ds_membuf mb;
    ds_memsrc src;
    ds_reader r;
    size_t one;
    uint32_t i;
    CHECK(ds_bloom_init(&b, 1000, 0.01, NULL) == DS_OK && ds_hll_init(&h, 10, NULL) == DS_OK);
    for (i = 0; i < 300; i++) {
        CHECK(ds_bloom_add(&b, &i, sizeof i, NULL) == DS_OK);
        ds_hll_add(&h, &i, sizeof i, NULL);
    }
    ds_membuf_init(&mb, NULL);
    CHECK(ds_bloom_save(&b, ds_membuf_writer(&mb)) == DS_OK);
    one = mb.len;
    CHECK(ds_hll_save(&h, ds_membuf_writer(&mb)) == DS_OK);
    {
        ds_writer w = ds_membuf_writer(&mb);
        CHECK(w.write(w.ctx, "junk", 4) == DS_OK);
    }
    r = ds_mem_reader(&src, mb.data, mb.len);
    CHECK(ds_bloom_load(&b2, &r, NULL) == DS_OK && src.pos == one);
    CHECK(ds_hll_load(&h2, &r, NULL) == DS_OK && src.pos == mb.len - 4); /* the junk is left */
    for (i = 0; i < 300; i++) CHECK(ds_bloom_has(&b2, &i, sizeof i));
    CHECK(ds_hll_count(&h2) == ds_hll_count(&h));
    ds_bloom_free(&b), ds_bloom_free(&b2), ds_hll_free(&h), ds_hll_free(&h2);
    ds_membuf_free(&mb);
}

/* ---- blocked Bloom: split blocks, the AVX2 kernel, format-1 files ----------- */

/* The split block layout: 64-byte aligned blocks; one key sets k bits in
 * one block, probe i in word i mod 8 (k = 8: one bit in each word); the
 * AVX2 kernel (where the CPU has it) answers exactly as the portable code
 * for hits and misses; init and both load paths keep the alignment. */
void test_bloom_split(void) {
    static const unsigned ks[] = {8, 3, 13, 64};
    size_t t;
    for (t = 0; t < 4; t++) {
        ds_bloom f, g;
        ds_membuf mb;
        uint64_t i, n = 20000, k0 = 1ull << 50;
        if (t == 0) CHECK(ds_bloom_init_blocked(&f, n, 0.01, NULL) == DS_OK && f.k == 8);
        else CHECK(ds_bloom_init_mk(&f, n * 12, ks[t], 1, NULL) == DS_OK);
        CHECK(f.blocked == 1 && f.m % 512 == 0 && (uintptr_t)f.bits % 64 == 0);
        CHECK(f.k == ks[t] && (f.k != 8 ? f.simd == 0 : 1));
#if defined(DS_NO_SIMD)
        CHECK(f.simd == 0);
#elif defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if (f.k == 8) CHECK(f.simd == (__builtin_cpu_supports("avx2") ? 1 : 0)); /* the kernel is tested */
#endif
        /* One key in an empty filter: k bits, all in one block. */
        {
            uint64_t key = 12345, blk = UINT64_MAX, w, set = 0;
            CHECK(ds_bloom_add(&f, &key, 8, NULL) == DS_OK);
            for (w = 0; w < f.m / 64; w++) {
                uint64_t c = 0, x = f.bits[w];
                while (x) c++, x &= x - 1;
                if (!c) continue;
                if (blk == UINT64_MAX) blk = w / 8;
                CHECKF(w / 8 == blk, "bits of one key in blocks %llu and %llu", (unsigned long long)blk,
                       (unsigned long long)(w / 8));
                if (f.k == 8) CHECK(c == 1);
                set += c;
            }
            CHECK(set == f.set && set <= f.k && (f.k > 8 || set == f.k));
            if (f.k == 8) CHECK(set == 8);
            ds_bloom_clear(&f);
        }
        for (i = 0; i < n; i++) {
            uint64_t key = key_of(i);
            CHECK(ds_bloom_add(&f, &key, 8, NULL) == DS_OK);
        }
        for (i = 0; i < 4 * n; i++) {
            uint64_t key = i < n ? key_of(i) : key_of(k0 + i), h = ds_hash_bytes(&key, 8, 0);
            int a, b;
            g = f;
            g.simd = 0;
            a = ds_bloom_has_hash(&f, h);
            b = ds_bloom_has_hash(&g, h);
            CHECKF(a == b, "AVX2 and portable answers differ for key %llu", (unsigned long long)i);
            if (i < n) CHECKF(a == 1, "false negative for key %llu", (unsigned long long)i);
            if (prop_test_failed) break;
        }
        /* Both load paths: a sized reader and a pipe. */
        CHECK(save_to(&mb, ds_bloom_save_v, &f));
        CHECK(mb.len > 12 && ((unsigned char *)mb.data)[4] == 2); /* format 2 */
        for (i = 0; i < 2; i++) {
            ds_memsrc src;
            ds_reader inner = ds_mem_reader(&src, mb.data, mb.len), r = inner;
            if (i == 1) {
                r.read = pipe_read;
                r.ctx = &inner;
                r.avail = UINT64_MAX;
            }
            CHECK(ds_bloom_load(&g, &r, NULL) == DS_OK);
            CHECK((uintptr_t)g.bits % 64 == 0 && g.blocked == 1 && g.k == f.k && g.simd == f.simd);
            CHECK(memcmp(g.bits, f.bits, f.m / 8) == 0 && g.set == f.set && g.n == f.n);
            ds_bloom_free(&g);
        }
        ds_membuf_free(&mb);
        /* Union with a standard or legacy filter of the same size: refused. */
        CHECK(ds_bloom_init_mk(&g, f.m, f.k, 0, NULL) == DS_OK);
        CHECK(ds_bloom_union(&g, &f) == DS_EINVAL);
        ds_bloom_free(&g);
        ds_bloom_free(&f);
        CHECK(f.bits == NULL && f.mem == NULL && f.simd == 0);
        CHECK(ds_bloom_has_hash(&f, 1) == 0); /* freed: no, never a crash */
    }
}

#include "bloom_v1_fixtures.h"

static int ans_bit(const uint64_t *bm, unsigned i) { return (int)(bm[i / 64] >> (i % 64) & 1); }

/* Filters saved in format 1 (before the split blocks) load, answer
 * exactly as the code that wrote them, take more keys, and save again (in
 * format 2, keeping their layout); damaged copies are refused. */
void test_bloom_v1_files(void) {
    static const unsigned char *const img[2] = {v1_bloom_std, v1_bloom_blocked};
    static const size_t len[2] = {sizeof v1_bloom_std, sizeof v1_bloom_blocked};
    static const uint64_t *const ans[2] = {v1_bloom_std_ans, v1_bloom_blocked_ans};
    ds_membuf mb;
    size_t t;
    for (t = 0; t < 2; t++) {
        ds_bloom f, g, x;
        ds_memsrc src;
        ds_reader r = ds_mem_reader(&src, img[t], len[t]);
        uint64_t i;
        CHECK(ds_bloom_load(&f, &r, NULL) == DS_OK);
        CHECK(f.m == 1024 && f.k == 4 && f.blocked == (t ? 2 : 0) && f.simd == 0);
        CHECK((uintptr_t)f.bits % 64 == 0);
        for (i = 0; i < 200; i++) CHECKF(ds_bloom_has(&f, &i, 8), "format-1 filter lost key %llu", (unsigned long long)i);
        for (i = 0; i < 256; i++) {
            uint64_t key = 200 + i;
            CHECKF(ds_bloom_has(&f, &key, 8) == ans_bit(ans[t], (unsigned)i), "format-1 filter %zu, key %llu",
                   t, (unsigned long long)key);
        }
        /* A legacy blocked filter and a new one never combine. */
        CHECK(ds_bloom_init_mk(&x, 1024, 4, t != 0, NULL) == DS_OK);
        CHECK(ds_bloom_union(&x, &f) == (t ? DS_EINVAL : DS_OK));
        ds_bloom_free(&x);
        for (i = 1000; i < 1010; i++) {
            CHECK(ds_bloom_add(&f, &i, 8, NULL) == DS_OK);
            CHECK(ds_bloom_has(&f, &i, 8));
        }
        CHECK(save_to(&mb, ds_bloom_save_v, &f));
        r = ds_mem_reader(&src, mb.data, mb.len);
        CHECK(ds_bloom_load(&g, &r, NULL) == DS_OK);
        CHECK(g.blocked == f.blocked && g.m == f.m && g.k == f.k && memcmp(g.bits, f.bits, f.m / 8) == 0);
        for (i = 0; i < 2000; i++) CHECK(ds_bloom_has(&g, &i, 8) == ds_bloom_has(&f, &i, 8));
        check_load_rejects(mb.data, mb.len, ds_bloom_load_v, ds_bloom_free_v, sizeof(ds_bloom), 1);
        ds_membuf_free(&mb);
        ds_bloom_free(&g);
        ds_bloom_free(&f);
        check_load_rejects(img[t], len[t], ds_bloom_load_v, ds_bloom_free_v, sizeof(ds_bloom), 3);
    }
    {
        ds_sbloom s, u;
        ds_memsrc src;
        ds_reader r = ds_mem_reader(&src, v1_sbloom_blocked, sizeof v1_sbloom_blocked);
        uint64_t i;
        size_t j;
        CHECK(ds_sbloom_load(&s, &r, NULL) == DS_OK);
        CHECK(ds_sbloom_filters(&s) == 3 && ds_sbloom_len(&s) <= 700 && s.blocked == 1);
        for (j = 0; j < 3; j++) CHECK(s.f[j].blocked == 2);
        for (i = 0; i < 700; i++) CHECKF(ds_sbloom_has(&s, &i, 8), "format-1 chain lost key %llu", (unsigned long long)i);
        for (i = 0; i < 256; i++) {
            uint64_t key = 700 + i;
            CHECKF(ds_sbloom_has(&s, &key, 8) == ans_bit(v1_sbloom_blocked_ans, (unsigned)i),
                   "format-1 chain, key %llu", (unsigned long long)key);
        }
        /* It grows with split-block filters behind the legacy ones. */
        for (i = 700; i < 4000; i++) CHECK(ds_sbloom_add(&s, &i, 8, NULL) == DS_OK);
        CHECK(ds_sbloom_filters(&s) > 3 && s.f[ds_sbloom_filters(&s) - 1].blocked == 1);
        for (i = 0; i < 4000; i++) CHECK(ds_sbloom_has(&s, &i, 8));
        CHECK(save_to(&mb, ds_sbloom_save_v, &s));
        r = ds_mem_reader(&src, mb.data, mb.len);
        CHECK(ds_sbloom_load(&u, &r, NULL) == DS_OK && ds_sbloom_filters(&u) == ds_sbloom_filters(&s));
        for (j = 0; j < ds_sbloom_filters(&s); j++) CHECK(u.f[j].blocked == s.f[j].blocked);
        for (i = 0; i < 8000; i++) CHECK(ds_sbloom_has(&u, &i, 8) == ds_sbloom_has(&s, &i, 8));
        ds_membuf_free(&mb);
        ds_sbloom_free(&u);
        ds_sbloom_free(&s);
        check_load_rejects(v1_sbloom_blocked, sizeof v1_sbloom_blocked, ds_sbloom_load_v, ds_sbloom_free_v,
                           sizeof(ds_sbloom), 7);
    }
}
