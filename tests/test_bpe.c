/* tests/test_bpe.c - ds_bpe (ds_text.h): training against the seed's
 * simple algorithm (recount every pair after every merge, here per
 * pre-tokenized word with its frequency, same tie rule), encode/decode
 * round trips (random bytes, invalid UTF-8, empty input), the training
 * segmentation reproduced by the encoder, save/load and corrupt images,
 * GPT-2 merges import, bad input and OOM. */
#include "prop.h"
#include "ds_text.h"

typedef ds_status (*bp_load_fn)(void *obj, ds_reader *r, const ds_alloc *a);
void check_load_rejects(const unsigned char *img, size_t len, bp_load_fn load, void (*fr)(void *),
                        size_t objsz, size_t stride);

/* ---- the model: words with frequencies, full recount per merge ---------- */

#define BM_MAXW 512
#define BM_MAXL 300

typedef struct bm_word {
    uint32_t s[BM_MAXL];
    size_t n;
    uint64_t freq;
    unsigned char bytes[BM_MAXL];
    size_t blen;
} bm_word;

typedef struct bm_model {
    bm_word *w;
    size_t nw;
    int overflow;
    size_t toklen[4096];
} bm_model;

static ds_status bm_emit(void *ctx, const char *tok, size_t len) {
    bm_model *m = (bm_model *)ctx;
    size_t i;
    for (i = 0; i < m->nw; i++)
        if (m->w[i].blen == len && memcmp(m->w[i].bytes, tok, len) == 0) {
            m->w[i].freq++;
            return DS_OK;
        }
    if (m->nw == BM_MAXW || len > BM_MAXL) {
        m->overflow = 1;
        return DS_OK;
    }
    memcpy(m->w[m->nw].bytes, tok, len);
    m->w[m->nw].blen = len;
    m->w[m->nw].freq = 1;
    for (i = 0; i < len; i++) m->w[m->nw].s[i] = (unsigned char)tok[i];
    m->w[m->nw].n = len;
    m->nw++;
    return DS_OK;
}

/* Merges of the model, into out (2 per merge); returns the count. */
static size_t bm_train(bm_model *m, const unsigned char *text, size_t len, size_t vocab, uint64_t minf,
                       uint32_t *out) {
    size_t nm = 0, i;
    for (i = 0; i < 256; i++) m->toklen[i] = 1;
    (void)ds_bpe_split(text, len, bm_emit, m);
    while (256 + nm < vocab) {
        /* count every pair */
        uint64_t best = 0, bestkey = 0;
        static uint64_t keys[1 << 14], counts[1 << 14];
        size_t nk = 0, k;
        for (i = 0; i < m->nw; i++) {
            size_t j;
            for (j = 0; j + 1 < m->w[i].n; j++) {
                uint64_t key = ((uint64_t)m->w[i].s[j] << 32) | m->w[i].s[j + 1];
                for (k = 0; k < nk && keys[k] != key; k++) {}
                if (k == nk) {
                    keys[nk] = key;
                    counts[nk++] = 0;
                }
                counts[k] += m->w[i].freq;
            }
        }
        for (k = 0; k < nk; k++) {
            uint32_t l = (uint32_t)(keys[k] >> 32), r = (uint32_t)keys[k];
            if (m->toklen[l] + m->toklen[r] > DS_BPE_MAX_TOKEN) continue;
            if (counts[k] > best || (counts[k] == best && best && keys[k] < bestkey)) {
                best = counts[k];
                bestkey = keys[k];
            }
        }
        if (!best || best < minf) break;
        {
            uint32_t l = (uint32_t)(bestkey >> 32), r = (uint32_t)bestkey, id = (uint32_t)(256 + nm);
            out[2 * nm] = l;
            out[2 * nm + 1] = r;
            m->toklen[id] = m->toklen[l] + m->toklen[r];
            nm++;
            for (i = 0; i < m->nw; i++) {
                bm_word *w = &m->w[i];
                size_t a = 0, o = 0;
                while (a < w->n) {
                    if (a + 1 < w->n && w->s[a] == l && w->s[a + 1] == r) {
                        w->s[o++] = id;
                        a += 2;
                    } else {
                        w->s[o++] = w->s[a++];
                    }
                }
                w->n = o;
            }
        }
    }
    return nm;
}

static size_t bp_text(ds_rng *r, unsigned char *t, size_t max) {
    static const char alpha[] = "aabbbccd  e.1";
    size_t n = 1 + ds_rng_below(r, max), i;
    int mode = (int)ds_rng_below(r, 3);
    for (i = 0; i < n; i++) {
        if (mode == 2 && ds_rng_below(r, 10) == 0) t[i] = (unsigned char)ds_rng_below(r, 256);
        else t[i] = (unsigned char)alpha[ds_rng_below(r, sizeof alpha - 1)];
    }
    return n;
}

static void bpe_case(ds_rng *r, uint64_t seed) {
    unsigned char text[3000];
    size_t len = bp_text(r, text, sizeof text), vocab = 256 + ds_rng_below(r, 120), nm, i, n, dl;
    uint64_t minf = 1 + ds_rng_below(r, 2);
    uint32_t *want = (uint32_t *)malloc(2 * 4096 * sizeof(uint32_t)), *ids = (uint32_t *)malloc((len + 1) * 4);
    bm_model *m = (bm_model *)calloc(1, sizeof *m);
    ds_bpe b;
    ds_bpe_params p = ds_bpe_params_default();
    unsigned char back[3000];
    (void)seed;
    CHECK(want && ids && m && (m->w = (bm_word *)calloc(BM_MAXW, sizeof(bm_word))) != NULL);
    nm = bm_train(m, text, len, vocab, minf, want);
    CHECK(!m->overflow);
    p.min_frequency = minf;
    CHECK(ds_bpe_init(&b, NULL) == DS_OK);
    CHECK(ds_bpe_train(&b, text, len, vocab, &p) == DS_OK);
    CHECKF(ds_bpe_vocab(&b) == 256 + nm, "%zu merges, model %zu", ds_bpe_vocab(&b) - 256, nm);
    for (i = 0; i < nm; i++) {
        uint32_t l, rr;
        CHECK(ds_bpe_merge(&b, i, &l, &rr) == DS_OK);
        CHECKF(l == want[2 * i] && rr == want[2 * i + 1], "merge %zu: (%u %u), model (%u %u)", i, l, rr,
               want[2 * i], want[2 * i + 1]);
    }
    /* The encoder reproduces the training segmentation, word by word. */
    for (i = 0; i < m->nw; i++) {
        size_t j;
        CHECK(ds_bpe_encode(&b, m->w[i].bytes, m->w[i].blen, ids, len + 1, &n) == DS_OK);
        CHECKF(n == m->w[i].n, "word %zu: %zu ids, model %zu", i, n, m->w[i].n);
        for (j = 0; j < n; j++) CHECK(ids[j] == m->w[i].s[j]);
    }
    /* Round trip of the whole text (the cache is warm now). */
    CHECK(ds_bpe_encode(&b, text, len, ids, len + 1, &n) == DS_OK && n <= len);
    CHECK(ds_bpe_decode(&b, ids, n, back, sizeof back, &dl) == DS_OK && dl == len && memcmp(back, text, len) == 0);
    ds_bpe_free(&b);
    free(m->w);
    free(m);
    free(want);
    free(ids);
}

void test_bpe_model(void) { prop_run("bpe_model", bpe_case, 150); }

/* Random bytes, invalid UTF-8 and empty input round-trip on a model
 * trained on English-ish text. */
static const char bp_corpus[] =
    "the quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away! "
    "Then the fox returns to the lazy dog and the dog wakes up, 1234 times, 1234 times. "
    "\xC3\xA9t\xC3\xA9 \xC3\xA9t\xC3\xA9 caf\xC3\xA9 caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC "
    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E    indented\n\n\tcode();   code();\r\n";

void test_bpe_roundtrip(void) {
    ds_bpe b;
    ds_rng r;
    int it;
    uint32_t ids[600];
    unsigned char in[600], out[600];
    size_t n, dl;
    CHECK(ds_bpe_init(&b, NULL) == DS_OK);
    CHECK(ds_bpe_train(&b, bp_corpus, sizeof bp_corpus - 1, 400, NULL) == DS_OK && ds_bpe_vocab(&b) > 300);
    CHECK(ds_bpe_encode(&b, NULL, 0, ids, 0, &n) == DS_OK && n == 0);
    CHECK(ds_bpe_encode(&b, "", 0, ids, 10, &n) == DS_OK && n == 0);
    CHECK(ds_bpe_decode(&b, ids, 0, out, 0, &dl) == DS_OK && dl == 0);
    CHECK(ds_bpe_encode(&b, bp_corpus, sizeof bp_corpus - 1, ids, 600, &n) == DS_OK && n < (sizeof bp_corpus - 1) / 2);
    ds_rng_seed(&r, 11);
    for (it = 0; it < 3000; it++) {
        size_t len = ds_rng_below(&r, 600), i, k = ds_rng_below(&r, 3);
        for (i = 0; i < len; i++) {
            if (k == 0) in[i] = (unsigned char)ds_rng_below(&r, 256);                       /* random bytes */
            else if (k == 1) in[i] = (unsigned char)(0x80 + ds_rng_below(&r, 0x80));        /* invalid UTF-8 */
            else in[i] = (unsigned char)bp_corpus[ds_rng_below(&r, sizeof bp_corpus - 1)]; /* text-like */
        }
        CHECK(ds_bpe_encode(&b, in, len, ids, 600, &n) == DS_OK && n <= len);
        CHECK(ds_bpe_decode(&b, ids, n, out, sizeof out, &dl) == DS_OK && dl == len && memcmp(in, out, len) == 0);
    }
    /* Buffers too small: the count needed. */
    {
        size_t need;
        CHECK(ds_bpe_encode(&b, "the fox", 7, ids, 600, &need) == DS_OK && need >= 2);
        CHECK(ds_bpe_encode(&b, "the fox", 7, ids, 1, &n) == DS_EFULL && n == need);
        CHECK(ds_bpe_encode(&b, "the fox", 7, ids, 600, &n) == DS_OK);
        CHECK(ds_bpe_decode(&b, ids, n, out, 3, &dl) == DS_EFULL && dl == 7);
    }
    ids[0] = (uint32_t)ds_bpe_vocab(&b);
    CHECK(ds_bpe_decode(&b, ids, 1, out, 10, &dl) == DS_EINVAL);
    ds_bpe_free(&b);
}

static ds_status bpe_load_v(void *o, ds_reader *r, const ds_alloc *a) { return ds_bpe_load((ds_bpe *)o, r, a); }
static void bpe_free_v(void *o) { ds_bpe_free((ds_bpe *)o); }

void test_bpe_save_load(void) {
    ds_bpe b, t;
    ds_membuf m1, m2;
    ds_memsrc src;
    ds_reader r;
    size_t i, n1, n2;
    uint32_t i1[300], i2[300];
    CHECK(ds_bpe_init(&b, NULL) == DS_OK);
    CHECK(ds_bpe_train(&b, bp_corpus, sizeof bp_corpus - 1, 300, NULL) == DS_OK);
    ds_membuf_init(&m1, NULL);
    ds_membuf_init(&m2, NULL);
    CHECK(ds_bpe_save(&b, ds_membuf_writer(&m1)) == DS_OK);
    r = ds_mem_reader(&src, m1.data, m1.len);
    CHECK(ds_bpe_load(&t, &r, NULL) == DS_OK && src.pos == src.len && ds_bpe_vocab(&t) == ds_bpe_vocab(&b));
    CHECK(ds_bpe_save(&t, ds_membuf_writer(&m2)) == DS_OK);
    CHECK(m1.len == m2.len && memcmp(m1.data, m2.data, m1.len) == 0);
    CHECK(ds_bpe_encode(&b, bp_corpus, sizeof bp_corpus - 1, i1, 300, &n1) == DS_OK);
    CHECK(ds_bpe_encode(&t, bp_corpus, sizeof bp_corpus - 1, i2, 300, &n2) == DS_OK && n1 == n2);
    for (i = 0; i < n1; i++) CHECK(i1[i] == i2[i]);
    ds_bpe_free(&t);
    check_load_rejects(m1.data, m1.len, bpe_load_v, bpe_free_v, sizeof(ds_bpe), 1);
    /* Hostile merge tables: an id not yet defined, a pair twice, an
     * over-long token; all with valid checksums. */
    {
        ds__enc e;
        ds_membuf h;
        int bad;
        for (bad = 0; bad < 3; bad++) {
            ds_membuf_init(&h, NULL);
            ds__enc_init(&e, ds_membuf_writer(&h), "DSbp", 1);
            if (bad == 0) {
                ds__put_u64(&e, 1);
                ds__put_u64(&e, 256 | ((uint64_t)1 << 32));
            } else if (bad == 1) {
                ds__put_u64(&e, 2);
                ds__put_u64(&e, 97 | ((uint64_t)98 << 32));
                ds__put_u64(&e, 97 | ((uint64_t)98 << 32));
            } else {
                uint64_t k;
                ds__put_u64(&e, 8);
                ds__put_u64(&e, 97 | ((uint64_t)97 << 32));
                for (k = 0; k < 7; k++) ds__put_u64(&e, (256 + k) | ((uint64_t)(256 + k) << 32));
            }
            CHECK(ds__enc_end(&e) == DS_OK);
            r = ds_mem_reader(&src, h.data, h.len);
            CHECK(ds_bpe_load(&t, &r, NULL) == DS_OK ? (ds_bpe_free(&t), 0) : 1);
            ds_membuf_free(&h);
        }
    }
    ds_membuf_free(&m1);
    ds_membuf_free(&m2);
    ds_bpe_free(&b);
}

void test_bpe_edges(void) {
    ds_bpe b;
    ds_bpe_params p = ds_bpe_params_default();
    uint32_t ids[8], l, r;
    size_t n;
    CHECK(ds_bpe_init(NULL, NULL) == DS_EINVAL);
    ds_bpe_free(NULL);
    memset(&b, 0, sizeof b);
    ds_bpe_free(&b);
    CHECK(ds_bpe_init(&b, NULL) == DS_OK && ds_bpe_vocab(&b) == 256);
    CHECK(ds_bpe_train(&b, "ab", 2, 255, NULL) == DS_EINVAL);
    CHECK(ds_bpe_train(NULL, "ab", 2, 300, NULL) == DS_EINVAL);
    CHECK(ds_bpe_train(&b, NULL, 2, 300, NULL) == DS_EINVAL);
    p.min_frequency = 0;
    CHECK(ds_bpe_train(&b, "ab", 2, 300, &p) == DS_EINVAL);
    CHECK(ds_bpe_train(&b, NULL, 0, 300, NULL) == DS_OK && ds_bpe_vocab(&b) == 256);
    CHECK(ds_bpe_train(&b, "abab", 4, 300, NULL) == DS_OK && ds_bpe_vocab(&b) == 257); /* ab x2, then none */
    CHECK(ds_bpe_merge(&b, 0, &l, &r) == DS_OK && l == 'a' && r == 'b' && ds_bpe_merge(&b, 1, &l, &r) == DS_ENOTFOUND);
    CHECK(ds_bpe_token(&b, 256, &n) && n == 2 && !ds_bpe_token(&b, 257, &n));
    CHECK(ds_bpe_encode(&b, "abab", 4, ids, 8, &n) == DS_OK && n == 2 && ids[0] == 256 && ids[1] == 256);
    CHECK(ds_bpe_encode(&b, "ab", 2, NULL, 8, &n) == DS_EINVAL && ds_bpe_encode(&b, "ab", 2, ids, 8, NULL) == DS_EINVAL);
    CHECK(ds_bpe_encode(&b, "ab", 2, NULL, 0, &n) == DS_EFULL && n == 1);
    CHECK(ds_bpe_decode(&b, NULL, 1, NULL, 0, &n) == DS_EINVAL);
    CHECK(ds_bpe_split(NULL, 1, NULL, NULL) == DS_EINVAL);
    /* Long runs: no token beyond DS_BPE_MAX_TOKEN bytes. */
    {
        static char run[4000];
        size_t i;
        memset(run, 'z', sizeof run);
        CHECK(ds_bpe_train(&b, run, sizeof run, 300, NULL) == DS_OK);
        for (i = 256; i < ds_bpe_vocab(&b); i++) CHECK(ds_bpe_token(&b, (uint32_t)i, &n) && n <= DS_BPE_MAX_TOKEN);
    }
    ds_bpe_free(&b);
}

/* GPT-2's merges.txt format, in its byte-to-unicode alphabet: U+0120 'Ġ'
 * is the space byte. */
void test_bpe_gpt2(void) {
    static const char merges[] = "#version: 0.2\n"
                                 "\xC4\xA0 t\n"      /* 256: " t" */
                                 "h e\n"             /* 257: "he" */
                                 "\xC4\xA0t he\n"    /* 258: " the" */
                                 "t he\n"            /* 259: "the" */
                                 "\xC4\xA0 a\n"      /* 260: " a" */
                                 "\xC4\x8A \xC4\x8A\n"; /* 261: "\n\n" (U+010A is byte 0x0A) */
    ds_bpe b;
    uint32_t ids[16];
    size_t n;
    CHECK(ds_bpe_init(&b, NULL) == DS_OK);
    CHECK(ds_bpe_import_gpt2(&b, merges, sizeof merges - 1, NULL) == DS_OK && ds_bpe_vocab(&b) == 262);
    CHECK(ds_bpe_encode(&b, "the the at\n\n", 12, ids, 16, &n) == DS_OK);
    CHECKF(n == 5 && ids[0] == 259 && ids[1] == 258 && ids[2] == 260 && ids[3] == 't' && ids[4] == 261,
           "%zu ids: %u %u %u %u %u", n, ids[0], ids[1], ids[2], ids[3], ids[4]);
    CHECK(ds_bpe_import_gpt2(&b, "a\n", 2, NULL) == DS_ECORRUPT && ds_bpe_vocab(&b) == 262);
    CHECK(ds_bpe_import_gpt2(&b, "a b\na b\n", 8, NULL) == DS_ECORRUPT);
    CHECK(ds_bpe_import_gpt2(&b, "ab c\n", 5, NULL) == DS_ECORRUPT); /* "ab" is no token yet */
    CHECK(ds_bpe_import_gpt2(&b, "\x01 b\n", 4, NULL) == DS_ECORRUPT); /* raw control byte: not GPT-2's alphabet */
    ds_bpe_free(&b);
}

/* ---- GPT-2 merges.txt + vocab.json: the file's own ids ------------------ */

/* tests/data/gpt2-mini (hand-made, see tests/data/README.md): 34 merges
 * and a vocab.json numbered as GPT-2's is for the bytes (ids 0-93 are the
 * bytes '!'..'~', 94-105 0xA1..0xAC, 106-187 0xAE..0xFF, 188-255 the other
 * 68 bytes in byte order: the space 0x20 is 188 + 32 = 220, as in GPT-2),
 * but with the merged tokens numbered in reverse merge order (merge r is
 * id 289 - r, where ds numbers it 256 + r) and "<|endoftext|>" = 290.
 * Hand derivation of "Hello world, hello there! café\n\n": the pieces are
 * "Hello" " world" "," " hello" " there" "!" " café" "\n\n"; each merges
 * its lowest-ranked pair first:
 *   Hello:  l l (2) -> He(7) -> ll o(8) -> He llo(9)          = merge 9  -> 280
 *   " world": Ġ w(3) -> o r(4) -> Ġw or(10) -> l(11) -> d(12)  = merge 12 -> 277
 *   ",":    byte 0x2C = ',' -> 0x2C - 33                         -> 11
 *   " hello": h e(1) -> l l(2) -> ll o(8) -> Ġ he(13) -> Ġhe llo(14) = merge 14 -> 275
 *   " there": Ġ t(0) -> h e(1) -> r e(17) -> Ġt he(18) -> Ġthe re(19) = merge 19 -> 270
 *   "!":    byte 0x21 -> 0
 *   " café": Ġ c(30) -> Ã ©(33, the bytes C3 A9); 'a' and 'f' stay bytes
 *           -> Ġc 259, a 0x61 - 33 = 64, f 0x66 - 33 = 69, é 256
 *   "\n\n": Ċ Ċ (32: U+010A is the byte 0x0A)                   -> 257 */
static char *bp_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *p;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (char *)malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static const char bp_gtext[] = "Hello world, hello there! caf\xC3\xA9\n\n";
static const uint32_t bp_gids[11] = {280, 277, 11, 275, 270, 0, 259, 64, 69, 256, 257};
static char *bp_gmerges, *bp_gvocab;
static size_t bp_gml, bp_gvl;

/* Imports vocab with one edit: the first `what` replaced by `with`. */
static ds_status bp_vocab_edit(const char *what, const char *with) {
    char *v = (char *)malloc(bp_gvl + strlen(with) + 1), *at;
    size_t n;
    ds_bpe b;
    ds_status st;
    memcpy(v, bp_gvocab, bp_gvl);
    v[bp_gvl] = 0;
    at = strstr(v, what);
    if (!at) {
        free(v);
        return DS_EIO;
    }
    n = (size_t)(at - v);
    memmove(at + strlen(with), at + strlen(what), bp_gvl - n - strlen(what) + 1);
    memcpy(at, with, strlen(with));
    st = ds_bpe_import_gpt2_vocab(&b, bp_gmerges, bp_gml, v, strlen(v), NULL);
    if (st == DS_OK) ds_bpe_free(&b);
    free(v);
    return st;
}

static int bpe_vocab_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_bpe b;
    long before = PROP_FAILS(pa);
    ds_status st;
    uint32_t ids[16];
    size_t n, i;
    (void)seed;
    memset(&b, 0, sizeof b);
    st = ds_bpe_import_gpt2_vocab(&b, bp_gmerges, bp_gml, bp_gvocab, bp_gvl, &pa->a);
    if (st == DS_ENOMEM) {
        CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && !b.merges && !b.vid, 1);
        return 0;
    }
    CHECK_OR(st == DS_OK, 1);
    CHECK_OR(ds_bpe_encode_vocab(&b, bp_gtext, sizeof bp_gtext - 1, ids, 16, &n) == DS_OK && n == 11, 1);
    for (i = 0; i < n; i++) CHECK_OR(ids[i] == bp_gids[i], 1);
    ds_bpe_free(&b);
    return 0;
}

void test_bpe_gpt2_vocab(void) {
    ds_bpe b, plain;
    uint32_t ids[16], v;
    size_t n, i;
    char back[64];
    long total = 0;
    bp_gmerges = bp_slurp("tests/data/gpt2-mini/merges.txt", &bp_gml);
    bp_gvocab = bp_slurp("tests/data/gpt2-mini/vocab.json", &bp_gvl);
    CHECKF(bp_gmerges && bp_gvocab, "tests/data/gpt2-mini: cannot read merges.txt / vocab.json (run from the repository root)");
    CHECK(ds_bpe_import_gpt2_vocab(&b, bp_gmerges, bp_gml, bp_gvocab, bp_gvl, NULL) == DS_OK);
    CHECK(ds_bpe_vocab(&b) == 256 + 34);
    CHECK(ds_bpe_encode_vocab(&b, bp_gtext, sizeof bp_gtext - 1, ids, 16, &n) == DS_OK);
    CHECKF(n == 11, "%zu ids", n);
    for (i = 0; i < n && i < 11; i++) CHECKF(ids[i] == bp_gids[i], "id %zu: %u, want %u", i, ids[i], bp_gids[i]);
    /* ds's own ids for the same text: 256 + rank for merges, bytes as bytes */
    CHECK(ds_bpe_encode(&b, bp_gtext, sizeof bp_gtext - 1, ids, 16, &n) == DS_OK && n == 11);
    CHECK(ids[0] == 256 + 9 && ids[1] == 256 + 12 && ids[2] == ',' && ids[5] == '!' && ids[10] == 256 + 32);
    CHECK(ds_bpe_to_vocab_id(&b, ' ', &v) == DS_OK && v == 220); /* GPT-2's id of 'Ġ' */
    CHECK(ds_bpe_to_vocab_id(&b, 256, &v) == DS_OK && v == 289);
    CHECK(ds_bpe_from_vocab_id(&b, 289, &v) == DS_OK && v == 256);
    CHECK(ds_bpe_from_vocab_id(&b, 290, &v) == DS_ENOTFOUND); /* <|endoftext|>: no bytes */
    CHECK(ds_bpe_from_vocab_id(&b, 291, &v) == DS_ENOTFOUND && ds_bpe_to_vocab_id(&b, 290, &v) == DS_ENOTFOUND);
    CHECK(ds_bpe_decode_vocab(&b, bp_gids, 11, back, sizeof back, &n) == DS_OK);
    CHECK(n == sizeof bp_gtext - 1 && memcmp(back, bp_gtext, n) == 0);
    CHECK(ds_bpe_decode_vocab(&b, bp_gids, 11, back, 4, &n) == DS_EFULL && n == sizeof bp_gtext - 1);
    ids[0] = 290;
    CHECK(ds_bpe_decode_vocab(&b, ids, 1, back, sizeof back, &n) == DS_EINVAL);
    ids[0] = 5000;
    CHECK(ds_bpe_decode_vocab(&b, ids, 1, back, sizeof back, &n) == DS_EINVAL);
    /* Without a vocab.json: DS_EINVAL. */
    CHECK(ds_bpe_import_gpt2(&plain, bp_gmerges, bp_gml, NULL) == DS_OK);
    CHECK(ds_bpe_encode_vocab(&plain, "a", 1, ids, 16, &n) == DS_EINVAL);
    CHECK(ds_bpe_decode_vocab(&plain, bp_gids, 1, back, sizeof back, &n) == DS_EINVAL);
    CHECK(ds_bpe_to_vocab_id(&plain, 1, &v) == DS_EINVAL && ds_bpe_from_vocab_id(&plain, 1, &v) == DS_EINVAL);
    ds_bpe_free(&plain);
    /* Bad files: DS_ECORRUPT, *b untouched, nothing leaked. */
    CHECK(ds_bpe_import_gpt2_vocab(&b, bp_gmerges, bp_gml, "", 0, NULL) == DS_ECORRUPT);
    CHECK(ds_bpe_import_gpt2_vocab(&b, bp_gmerges, bp_gml, "{}", 2, NULL) == DS_ECORRUPT); /* bytes missing */
    CHECK(ds_bpe_import_gpt2_vocab(&b, bp_gmerges, bp_gml, bp_gvocab, bp_gvl - 1, NULL) == DS_ECORRUPT);
    CHECK(ds_bpe_import_gpt2_vocab(&b, "a\n", 2, bp_gvocab, bp_gvl, NULL) == DS_ECORRUPT); /* bad merges */
    CHECK(ds_bpe_import_gpt2_vocab(NULL, bp_gmerges, bp_gml, bp_gvocab, bp_gvl, NULL) == DS_EINVAL);
    CHECK(ds_bpe_import_gpt2_vocab(&b, bp_gmerges, bp_gml, NULL, 5, NULL) == DS_EINVAL);
    CHECK(bp_vocab_edit("{", "[") == DS_ECORRUPT);                       /* not an object */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"!\" 0,") == DS_ECORRUPT);        /* no colon */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"!\": 0,,") == DS_ECORRUPT);      /* stray comma */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"!: 0,") == DS_ECORRUPT);         /* unterminated string */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"\\q\": 0,") == DS_ECORRUPT);     /* bad escape */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"\\uD800\": 0,") == DS_ECORRUPT); /* lone surrogate */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"!\": 0.0,") == DS_ECORRUPT);     /* not an integer */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"!\": -1,") == DS_ECORRUPT);      /* negative */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"!\": 00,") == DS_ECORRUPT);      /* leading zero */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"!\": 1,") == DS_ECORRUPT);       /* id 1 twice */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"!\": 291,") == DS_ECORRUPT);     /* out of range: 291 entries */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"\\u0120\": 0,") == DS_ECORRUPT); /* the space's symbol twice */
    CHECK(bp_vocab_edit("\"Hello\": 280", "\"Hellp\": 280") == DS_ECORRUPT); /* merge 9's token missing */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"\\u0021x\": 0,") == DS_ECORRUPT);    /* byte '!' missing */
    CHECK(bp_vocab_edit("}", "} x") == DS_ECORRUPT);                     /* trailing bytes */
    /* Valid variants: escapes, whitespace, a special token outside the
     * alphabet (U+1F600 as a surrogate pair) that keeps its id. */
    CHECK(bp_vocab_edit("\"!\": 0,", "\"\\u0021\" :\n 0 ,") == DS_OK);
    CHECK(bp_vocab_edit("\"<|endoftext|>\": 290", "\"\\ud83d\\ude00\": 290") == DS_OK);
    CHECK(bp_vocab_edit("\"<|endoftext|>\": 290", "\"<|endoftext|>\": 290, \"x\\ud83d\": 291") == DS_ECORRUPT);
    CHECK(ds_bpe_encode_vocab(&b, bp_gtext, sizeof bp_gtext - 1, ids, 16, &n) == DS_OK && n == 11 && ids[0] == 280);
    ds_bpe_free(&b);
    CHECK(prop_oom_sweep(bpe_vocab_oom_seq, 1, &total) == 0 && total > 5);
    free(bp_gmerges);
    free(bp_gvocab);
}

static int bpe_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_bpe b;
    ds_membuf m;
    ds_memsrc src;
    ds_reader r;
    long before;
    ds_status st;
    uint32_t ids[400];
    size_t n, v0;
    (void)seed;
    CHECK_OR(ds_bpe_init(&b, &pa->a) == DS_OK, 1);
    before = PROP_FAILS(pa);
    st = ds_bpe_train(&b, bp_corpus, sizeof bp_corpus - 1, 280, NULL);
    if (st == DS_ENOMEM) CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && ds_bpe_vocab(&b) == 256, 1);
    else CHECK_OR(st == DS_OK && ds_bpe_vocab(&b) == 280, 1);
    v0 = ds_bpe_vocab(&b);
    CHECK_OR(ds_bpe_encode(&b, bp_corpus, sizeof bp_corpus - 1, ids, 400, &n) == DS_OK, 1);
    ds_membuf_init(&m, NULL);
    CHECK_OR(ds_bpe_save(&b, ds_membuf_writer(&m)) == DS_OK, 1);
    r = ds_mem_reader(&src, m.data, m.len);
    ds_bpe_free(&b);
    memset(&b, 0, sizeof b);
    before = PROP_FAILS(pa);
    st = ds_bpe_load(&b, &r, &pa->a);
    if (st == DS_ENOMEM) CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && ds_bpe_vocab(&b) == 256 && !b.merges, 1);
    else CHECK_OR(st == DS_OK && ds_bpe_vocab(&b) == v0, 1);
    ds_membuf_free(&m);
    ds_bpe_free(&b);
    return 0;
}

void test_bpe_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(bpe_oom_seq, 1, &total) == 0 && total > 10);
}
