/* tests/fuzz/fuzz_text_load.c - ds_index_load and ds_bpe_load on hostile bytes.
 *
 * Mirrors fuzz_hnsw_load.c. Two halves per input:
 *   1. The raw input is fed to ds_index_load and ds_bpe_load: each must
 *      return DS_OK or an error, never crash, never allocate more than the
 *      input could justify (fz_alloc refuses blocks over FZ_MAX_BLOCK), and
 *      leak nothing; an accepted image must save and load back identically
 *      and answer a query (an index) or round-trip a text (a BPE model).
 *      The input is also read as a GPT-2 vocab.json (beside a fixed
 *      merges.txt) and as a merges.txt: DS_OK or DS_ECORRUPT, no leak.
 *   2. A valid image is built from input-driven ops (an index, with or
 *      without positions: puts, deletes, stop words; a BPE model: trained
 *      on input bytes), then
 *      damaged as the input says (truncate, flip bits, overwrite bytes):
 *      load must say DS_ECORRUPT unless the damage left the bytes unchanged.
 *
 *   libFuzzer: clang -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -I. \
 *                tests/fuzz/fuzz_text_load.c -o fuzz_text_load -lm
 *   replay:    gcc -std=c99 -O1 -g -fsanitize=address,undefined -DDS_FUZZ_STANDALONE -I. \
 *                tests/fuzz/fuzz_text_load.c -o fuzz_text_load -lm && ./fuzz_text_load [files]
 */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "ds_text.h"
#include "fuzz_util.h"

static ds_status save_kind(int kind, const void *o, ds_membuf *b) {
    return kind ? ds_bpe_save((const ds_bpe *)o, ds_membuf_writer(b)) : ds_index_save((const ds_index *)o, ds_membuf_writer(b));
}

/* Load data as kind (0 = index, 1 = bpe); if accepted, it must round-trip
 * byte for byte and work. */
static ds_status load_checked(int kind, const uint8_t *data, size_t n, fz_alloc *fa) {
    union {
        ds_index ix;
        ds_bpe b;
    } obj, again;
    unsigned char pat[sizeof obj];
    ds_memsrc src;
    ds_reader r = ds_mem_reader(&src, data, n);
    ds_status s;
    memset(&obj, 0x5a, sizeof obj);
    memset(pat, 0x5a, sizeof pat);
    s = kind ? ds_bpe_load(&obj.b, &r, &fa->a) : ds_index_load(&obj.ix, &r, &fa->a);
    if (s != DS_OK) {
        FZ_CHECK(memcmp(&obj, pat, sizeof obj) == 0); /* untouched on error */
        return s;
    }
    {
        ds_membuf b1, b2;
        ds_memsrc s2;
        ds_reader r2;
        ds_membuf_init(&b1, NULL);
        ds_membuf_init(&b2, NULL);
        FZ_CHECK(save_kind(kind, &obj, &b1) == DS_OK);
        r2 = ds_mem_reader(&s2, b1.data, b1.len);
        FZ_CHECK((kind ? ds_bpe_load(&again.b, &r2, &fa->a) : ds_index_load(&again.ix, &r2, &fa->a)) == DS_OK);
        FZ_CHECK(save_kind(kind, &again, &b2) == DS_OK);
        FZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
        if (kind) {
            uint32_t ids[64];
            unsigned char back[64];
            size_t ni, nb;
            FZ_CHECK(ds_bpe_encode(&obj.b, "hello world", 11, ids, 64, &ni) == DS_OK);
            FZ_CHECK(ds_bpe_decode(&obj.b, ids, ni, back, 64, &nb) == DS_OK && nb == 11 &&
                     memcmp(back, "hello world", 11) == 0);
            ds_bpe_free(&again.b);
            ds_bpe_free(&obj.b);
        } else {
            ds_index_hit h[4];
            size_t nh;
            s = ds_index_search(&obj.ix, "a b c", 5, 0, 4, h, &nh, NULL);
            FZ_CHECK(s == DS_OK || s == DS_ENOMEM);
            s = ds_index_search(&obj.ix, "a b", 3, DS_INDEX_ALL | DS_INDEX_TFIDF, 4, h, &nh, NULL);
            FZ_CHECK(s == DS_OK || s == DS_ENOMEM);
            s = ds_index_search_phrase(&obj.ix, "a b a", 5, 0, 4, h, &nh, NULL);
            FZ_CHECK(s == (obj.ix.p.positions ? DS_OK : DS_EINVAL) || s == DS_ENOMEM);
            s = DS_OK;
            ds_index_free(&again.ix);
            ds_index_free(&obj.ix);
        }
        ds_membuf_free(&b1);
        ds_membuf_free(&b2);
    }
    return s;
}

static void build(int kind, int positions, fz_reader *in, ds_membuf *out) {
    ds_membuf_init(out, NULL);
    if (kind) {
        unsigned char text[256];
        size_t n = fz_u8(in), i;
        ds_bpe b;
        for (i = 0; i < n; i++) text[i] = (unsigned char)("ab c.\xC3\xA9"[fz_u8(in) % 7]);
        FZ_CHECK(ds_bpe_init(&b, NULL) == DS_OK);
        FZ_CHECK(ds_bpe_train(&b, text, n, 256 + fz_u8(in) % 64, NULL) == DS_OK);
        FZ_CHECK(ds_bpe_save(&b, ds_membuf_writer(out)) == DS_OK);
        ds_bpe_free(&b);
    } else {
        ds_index ix;
        ds_index_params p = ds_index_params_default();
        size_t ops = fz_u8(in) % 40, i;
        p.positions = positions;
        FZ_CHECK(ds_index_init(&ix, &p, NULL) == DS_OK);
        for (i = 0; i < ops; i++) {
            unsigned op = fz_u8(in) % 8, id = fz_u8(in) % 16;
            char text[64];
            size_t len = fz_u8(in) % sizeof text, j;
            for (j = 0; j < len; j++) text[j] = "abc de f"[fz_u8(in) % 8];
            if (op < 5) (void)ds_index_put(&ix, id, text, len);
            else if (op < 7) (void)ds_index_del(&ix, id);
            else (void)ds_index_add_stopword(&ix, "a", 1);
        }
        FZ_CHECK(ds_index_save(&ix, ds_membuf_writer(out)) == DS_OK);
        ds_index_free(&ix);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_alloc fa;
    fz_reader in;
    int kind;
    fz_alloc_init(&fa);
    for (kind = 0; kind < 2; kind++) (void)load_checked(kind, data, size, &fa);
    FZ_CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    {
        static const char merges[] = "#version: 0.2\nh e\n\xC4\xA0 he\nl l\n";
        ds_bpe b;
        ds_status s = ds_bpe_import_gpt2_vocab(&b, merges, sizeof merges - 1, (const char *)data, size, &fa.a);
        FZ_CHECK(s == DS_OK || s == DS_ECORRUPT || s == DS_ENOMEM);
        if (s == DS_OK) {
            uint32_t ids[16];
            unsigned char back[16];
            size_t ni, nb;
            FZ_CHECK(ds_bpe_encode_vocab(&b, " hello", 6, ids, 16, &ni) == DS_OK);
            FZ_CHECK(ds_bpe_decode_vocab(&b, ids, ni, back, 16, &nb) == DS_OK && nb == 6 && !memcmp(back, " hello", 6));
            ds_bpe_free(&b);
        }
        s = ds_bpe_import_gpt2(&b, (const char *)data, size, &fa.a);
        FZ_CHECK(s == DS_OK || s == DS_ECORRUPT || s == DS_ENOMEM);
        if (s == DS_OK) ds_bpe_free(&b);
        FZ_CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    }
    in.p = data;
    in.n = size;
    in.pos = 0;
    {
        size_t len;
        ds_membuf img;
        unsigned char *copy;
        ds_status s;
        unsigned kb = fz_u8(&in);
        kind = (int)(kb & 1);
        build(kind, (int)((kb >> 1) & 1), &in, &img); /* bit 1: an index with positions */
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
