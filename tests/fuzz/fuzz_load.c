/* tests/fuzz/fuzz_load.c - every sketch's load() on hostile bytes.
 *
 * Two halves per input:
 *   1. The raw input is fed to each load() (bloom, scalable bloom, cuckoo,
 *      count-min, HLL): it must return DS_OK or an error, never crash,
 *      never allocate more than the input could justify, and leak nothing;
 *      a structure it accepts must save and load back identically.
 *   2. A valid image is built from input-driven ops (a small structure of
 *      the kind byte 0 picks), then damaged as the input says (truncate,
 *      flip bits, overwrite bytes): load() must say DS_ECORRUPT unless the
 *      damage left the bytes unchanged.
 *
 *   libFuzzer: clang -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -I. \
 *                tests/fuzz/fuzz_load.c -o fuzz_load -lm
 *   replay:    gcc -std=c99 -O1 -g -fsanitize=address,undefined -DDS_FUZZ_STANDALONE -I. \
 *                tests/fuzz/fuzz_load.c -o fuzz_load -lm && ./fuzz_load [files]
 */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "fuzz_util.h"

typedef struct kind {
    const char *name;
    size_t size; /* of the struct */
    ds_status (*load)(void *, ds_reader *, const ds_alloc *);
    ds_status (*save)(const void *, ds_writer);
    void (*free_)(void *);
} kind;

#define FZ_KIND(T, pre)                                                                  \
    static ds_status pre##_ld(void *o, ds_reader *r, const ds_alloc *a) { return pre##_load((T *)o, r, a); } \
    static ds_status pre##_sv(const void *o, ds_writer w) { return pre##_save((const T *)o, w); } \
    static void pre##_fr(void *o) { pre##_free((T *)o); }
FZ_KIND(ds_bloom, ds_bloom)
FZ_KIND(ds_sbloom, ds_sbloom)
FZ_KIND(ds_cuckoo, ds_cuckoo)
FZ_KIND(ds_cms, ds_cms)
FZ_KIND(ds_hll, ds_hll)

static const kind kinds[] = {
    {"bloom", sizeof(ds_bloom), ds_bloom_ld, ds_bloom_sv, ds_bloom_fr},
    {"sbloom", sizeof(ds_sbloom), ds_sbloom_ld, ds_sbloom_sv, ds_sbloom_fr},
    {"cuckoo", sizeof(ds_cuckoo), ds_cuckoo_ld, ds_cuckoo_sv, ds_cuckoo_fr},
    {"cms", sizeof(ds_cms), ds_cms_ld, ds_cms_sv, ds_cms_fr},
    {"hll", sizeof(ds_hll), ds_hll_ld, ds_hll_sv, ds_hll_fr},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

typedef union any {
    ds_bloom b;
    ds_sbloom s;
    ds_cuckoo c;
    ds_cms m;
    ds_hll h;
} any;

/* Load data; if accepted, the object must round-trip byte for byte. */
static ds_status load_checked(const kind *k, const uint8_t *data, size_t n, fz_alloc *fa) {
    any obj, again;
    ds_memsrc src;
    ds_reader r = ds_mem_reader(&src, data, n);
    ds_status s;
    memset(&obj, 0x5a, sizeof obj);
    s = k->load(&obj, &r, &fa->a);
    if (s != DS_OK) {
        unsigned char pat[sizeof(any)];
        memset(pat, 0x5a, sizeof pat);
        FZ_CHECK(memcmp(&obj, pat, k->size) == 0); /* untouched on error */
        return s;
    }
    {
        ds_membuf b1, b2;
        ds_memsrc s2;
        ds_reader r2;
        ds_membuf_init(&b1, NULL);
        ds_membuf_init(&b2, NULL);
        FZ_CHECK(k->save(&obj, ds_membuf_writer(&b1)) == DS_OK);
        r2 = ds_mem_reader(&s2, b1.data, b1.len);
        FZ_CHECK(k->load(&again, &r2, &fa->a) == DS_OK);
        FZ_CHECK(k->save(&again, ds_membuf_writer(&b2)) == DS_OK);
        FZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
        k->free_(&again);
        ds_membuf_free(&b1);
        ds_membuf_free(&b2);
    }
    k->free_(&obj);
    return s;
}

/* A small valid structure of kind i, filled by the input. */
static int build(size_t i, fz_reader *in, ds_membuf *out) {
    any o;
    unsigned j, n = fz_u8(in) % 64;
    ds_status s;
    switch (i) {
    case 0: s = ds_bloom_init_mk(&o.b, 64 + fz_u8(in) * 8u, 1 + fz_u8(in) % 8, fz_u8(in) & 1, NULL); break;
    case 1: s = ds_sbloom_init(&o.s, 1 + fz_u8(in) % 8, 0.1, 2, 0.5, fz_u8(in) & 1, NULL); break;
    case 2: s = ds_cuckoo_init(&o.c, 1 + fz_u8(in) % 32, 4 + fz_u8(in) % 13, NULL); break;
    case 3: s = ds_cms_init(&o.m, 1 + fz_u8(in) % 16, 1 + fz_u8(in) % 4, NULL); break;
    default: s = ds_hll_init(&o.h, 4 + fz_u8(in) % 3, NULL); break;
    }
    FZ_CHECK(s == DS_OK);
    for (j = 0; j < n; j++) {
        uint32_t key = fz_u32(in);
        switch (i) {
        case 0: ds_bloom_add(&o.b, &key, 4, NULL); break;
        case 1: FZ_CHECK(ds_sbloom_add(&o.s, &key, 4, NULL) == DS_OK); break;
        case 2: (void)ds_cuckoo_add(&o.c, &key, 4); break;
        case 3: ds_cms_add(&o.m, &key, 4, key & 0xff, NULL); break;
        default: ds_hll_add(&o.h, &key, 4, NULL); break;
        }
    }
    ds_membuf_init(out, NULL);
    FZ_CHECK(kinds[i].save(&o, ds_membuf_writer(out)) == DS_OK);
    kinds[i].free_(&o);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_alloc fa;
    fz_reader in;
    size_t i;
    fz_alloc_init(&fa);
    /* 1. Raw bytes into every load. */
    for (i = 0; i < NKINDS; i++) (void)load_checked(&kinds[i], data, size, &fa);
    FZ_CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    /* 2. A valid image, damaged. */
    in.p = data;
    in.n = size;
    in.pos = 0;
    {
        size_t k = fz_u8(&in) % NKINDS, len;
        ds_membuf img;
        unsigned char *copy;
        ds_status s;
        build(k, &in, &img);
        len = img.len;
        copy = (unsigned char *)malloc(len);
        FZ_CHECK(copy != NULL);
        memcpy(copy, img.data, len);
        FZ_CHECK(load_checked(&kinds[k], copy, len, &fa) == DS_OK);
        len = fz_damage(&in, copy, len);
        s = load_checked(&kinds[k], copy, len, &fa);
        if (len == img.len && memcmp(copy, img.data, len) == 0) FZ_CHECK(s == DS_OK);
        else FZ_CHECK(s == DS_ECORRUPT);
        free(copy);
        ds_membuf_free(&img);
    }
    FZ_CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    return 0;
}
