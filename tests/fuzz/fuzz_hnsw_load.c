/* tests/fuzz/fuzz_hnsw_load.c - ds_hnsw_load and ds_flat_load on hostile bytes.
 *
 * Mirrors fuzz_load.c. Two halves per input:
 *   1. The raw input is fed to ds_hnsw_load and ds_flat_load: each must
 *      return DS_OK or an error, never crash, never allocate more than the
 *      input could justify (fz_alloc refuses blocks over FZ_MAX_BLOCK), and
 *      leak nothing; an accepted image must save and load back identically
 *      and answer a search.
 *   2. A valid image is built from input-driven ops (a small HNSW or flat
 *      index: adds, deletes, updates), then damaged as the input says
 *      (truncate, flip bits, overwrite bytes): load must say DS_ECORRUPT
 *      unless the damage left the bytes unchanged.
 *
 *   libFuzzer: clang -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -I. \
 *                tests/fuzz/fuzz_hnsw_load.c -o fuzz_hnsw_load -lm
 *   replay:    gcc -std=c99 -O1 -g -fsanitize=address,undefined -DDS_FUZZ_STANDALONE -I. \
 *                tests/fuzz/fuzz_hnsw_load.c -o fuzz_hnsw_load -lm && ./fuzz_hnsw_load [files]
 */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "ds_hnsw.h"
#include "fuzz_util.h"

/* Load data as kind (0 = hnsw, 1 = flat); if accepted, it must round-trip
 * byte for byte and answer a search. */
static ds_status load_checked(int kind, const uint8_t *data, size_t n, fz_alloc *fa) {
    union {
        ds_hnsw h;
        ds_flat f;
    } obj, again;
    unsigned char pat[sizeof obj];
    ds_memsrc src;
    ds_reader r = ds_mem_reader(&src, data, n);
    ds_status s;
    memset(&obj, 0x5a, sizeof obj);
    memset(pat, 0x5a, sizeof pat);
    s = kind ? ds_flat_load(&obj.f, &r, &fa->a) : ds_hnsw_load(&obj.h, &r, &fa->a);
    if (s != DS_OK) {
        FZ_CHECK(memcmp(&obj, pat, sizeof obj) == 0); /* untouched on error */
        return s;
    }
    {
        ds_membuf b1, b2;
        ds_memsrc s2;
        ds_reader r2;
        ds_neighbor res[4];
        size_t got, dim = kind ? obj.f.dim : obj.h.dim, i;
        float *q = (float *)malloc(dim * sizeof *q);
        FZ_CHECK(q != NULL);
        for (i = 0; i < dim; i++) q[i] = (float)i + 1.0f;
        ds_membuf_init(&b1, NULL);
        ds_membuf_init(&b2, NULL);
        FZ_CHECK((kind ? ds_flat_save(&obj.f, ds_membuf_writer(&b1))
                       : ds_hnsw_save(&obj.h, ds_membuf_writer(&b1))) == DS_OK);
        r2 = ds_mem_reader(&s2, b1.data, b1.len);
        FZ_CHECK((kind ? ds_flat_load(&again.f, &r2, &fa->a) : ds_hnsw_load(&again.h, &r2, &fa->a)) ==
                 DS_OK);
        FZ_CHECK((kind ? ds_flat_save(&again.f, ds_membuf_writer(&b2))
                       : ds_hnsw_save(&again.h, ds_membuf_writer(&b2))) == DS_OK);
        FZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
        s = kind ? ds_flat_search(&obj.f, q, 4, res, &got)
                 : ds_hnsw_search(&obj.h, q, 4, 0, NULL, NULL, res, &got);
        FZ_CHECK(s == DS_OK || s == DS_ENOMEM);
        s = DS_OK;
        free(q);
        if (kind) ds_flat_free(&again.f); else ds_hnsw_free(&again.h);
        ds_membuf_free(&b1);
        ds_membuf_free(&b2);
    }
    if (kind) ds_flat_free(&obj.f); else ds_hnsw_free(&obj.h);
    return s;
}

/* A small valid index of the kind, filled by the input. */
static void build(int kind, fz_reader *in, ds_membuf *out) {
    size_t dim = 1 + fz_u8(in) % 5, n = fz_u8(in) % 48, j, i;
    ds_metric met = (ds_metric)(1 + fz_u8(in) % 3);
    float v[5];
    ds_hnsw h;
    ds_flat f;
    ds_hnsw_params p = ds_hnsw_params_default(dim);
    unsigned flags;
    p.metric = met;
    p.M = 2 + fz_u8(in) % 5;
    p.ef_construction = 1 + fz_u8(in) % 20;
    flags = fz_u8(in);
    p.replace_deleted = flags & 1;
    p.storage = (flags & 2) ? DS_HNSW_STORE_F16 : DS_HNSW_STORE_F32;
    p.seed = fz_u8(in);
    if (kind) FZ_CHECK(ds_flat_init(&f, dim, met, NULL) == DS_OK);
    else FZ_CHECK(ds_hnsw_init(&h, &p, NULL) == DS_OK);
    for (i = 0; i < n; i++) {
        unsigned op = fz_u8(in) % 8, label = fz_u8(in) % 64;
        for (j = 0; j < dim; j++) v[j] = (float)((int)fz_u8(in) - 128) / 16.0f;
        v[0] = v[0] == 0 ? 1.0f : v[0]; /* never a zero vector under cosine */
        if (kind) {
            if (op < 6) (void)ds_flat_insert(&f, label, v);
            else (void)ds_flat_del(&f, label);
        } else if (op < 5) {
            (void)ds_hnsw_insert(&h, label, v);
        } else if (op == 5) {
            (void)ds_hnsw_update(&h, label, v);
        } else if (op == 6) {
            (void)ds_hnsw_del(&h, label);
        } else {
            (void)ds_hnsw_undel(&h, label);
        }
    }
    ds_membuf_init(out, NULL);
    FZ_CHECK((kind ? ds_flat_save(&f, ds_membuf_writer(out)) : ds_hnsw_save(&h, ds_membuf_writer(out))) ==
             DS_OK);
    if (kind) ds_flat_free(&f); else ds_hnsw_free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_alloc fa;
    fz_reader in;
    int kind;
    fz_alloc_init(&fa);
    /* 1. Raw bytes into both loads. */
    for (kind = 0; kind < 2; kind++) (void)load_checked(kind, data, size, &fa);
    FZ_CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    /* 2. A valid image, damaged. */
    in.p = data;
    in.n = size;
    in.pos = 0;
    {
        size_t len;
        ds_membuf img;
        unsigned char *copy;
        ds_status s;
        kind = (int)(fz_u8(&in) & 1);
        build(kind, &in, &img);
        len = img.len;
        copy = (unsigned char *)malloc(len);
        FZ_CHECK(copy != NULL);
        memcpy(copy, img.data, len);
        FZ_CHECK(load_checked(kind, copy, len, &fa) == DS_OK);
        len = fz_damage(&in, copy, len);
        s = load_checked(kind, copy, len, &fa);
        if (len == img.len && memcmp(copy, img.data, len) == 0) FZ_CHECK(s == DS_OK);
        else FZ_CHECK(s == DS_ECORRUPT);
        free(copy);
        ds_membuf_free(&img);
    }
    FZ_CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    return 0;
}
