/* src/bpe.h - ds_bpe: byte-level BPE tokenizer (training, encode, decode, save/load)
 *
 * One module of ds_text.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/bpe.h"
 */
#ifndef DS_SRC_BPE_H
#define DS_SRC_BPE_H
#include "text.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds_text:bpe ==  ds_bpe: byte-level byte-pair encoding
 * ========================================================================
 * Token ids 0..255 are the bytes; merge r (r = 0, 1, ...) joins two
 * existing tokens (left, right) into token 256 + r. Any byte string
 * encodes (no unknown token) and decodes back exactly.
 *
 * Pre-tokenization (ds_bpe_split): text is cut into pieces, and merges
 * never cross a piece boundary. Byte classes: letters (ASCII letters and
 * every byte >= 0x80, so UTF-8 sequences stay whole), digits, whitespace
 * (space, \t, \n, \v, \f, \r) and other (punctuation, controls). A piece
 * is a run of one class, letters, digits or other, optionally with one
 * space in front (GPT-2 style " word"); a run of whitespace is a piece,
 * except that its last byte, when a space followed by a non-space, starts
 * the next piece. Pieces are cut at DS_BPE_MAX_PIECE bytes.
 *
 * Training (Sennrich et al. 2016, byte-level as GPT-2): the pieces of the
 * corpus are counted into a word-frequency table; every adjacent pair of
 * tokens in every distinct word is counted (times the word's frequency),
 * the counts sit in a max-heap (lazy deletion), and each pair records the
 * words it occurs in. Each step pops the most frequent pair, makes it a
 * new token, rewrites only the words that hold it (left to right,
 * non-overlapping) and updates the counts of the pairs those words lose
 * and gain: no recount of the corpus per merge. Ties between equally
 * frequent pairs go to the smallest (left id, right id), so training is
 * deterministic. Training stops at vocab_size tokens, or when no pair
 * occurs min_frequency times. A merge whose token would exceed
 * DS_BPE_MAX_TOKEN bytes is never made.
 *
 * Encoding: each piece (after a cache of recent pieces, DS_BPE_CACHE
 * entries, direct-mapped) starts as its bytes in a linked list; a min-heap
 * holds the adjacent pairs that have a merge, by (rank, position); the
 * lowest rank merges first (leftmost first among equal ranks), and its two
 * new neighbour pairs join the heap: O(m log m) for a piece of m bytes.
 * This applies the merges in training order, so it reproduces the
 * training segmentation.
 *
 *   ds_status ds_bpe_init(ds_bpe *b, const ds_alloc *a)   256 byte tokens,
 *          no merges; allocates nothing; DS_EINVAL if b is NULL.
 *   void ds_bpe_free(ds_bpe *b)                  zeroed or failed-init: no-op
 *   ds_bpe_params ds_bpe_params_default(void)    min_frequency 2
 *   ds_status ds_bpe_train(ds_bpe *b, const void *text, size_t len, size_t vocab_size,
 *                          const ds_bpe_params *p)
 *          replaces b's merges with those learnt from text (p NULL:
 *          defaults). DS_EINVAL: vocab_size < 256 or > DS_BPE_MAX_VOCAB,
 *          text NULL with len > 0, min_frequency 0. DS_ENOMEM: b unchanged.
 *          Memory O(distinct pieces' bytes + pairs); time O(len) to count
 *          plus, per merge, O(log P) and the lengths of the words it
 *          rewrites.
 *   ds_status ds_bpe_encode(ds_bpe *b, const void *text, size_t len, uint32_t *ids,
 *                           size_t cap, size_t *n)
 *          ids[0..*n) for text (never more than len ids). DS_EFULL when
 *          cap is too small: *n is then the count needed and ids holds the
 *          first cap. Allocates only its cache, once (if that fails it
 *          runs without). Not thread-safe on one b (the cache).
 *   ds_status ds_bpe_decode(const ds_bpe *b, const uint32_t *ids, size_t n, void *out,
 *                           size_t cap, size_t *len)
 *          the bytes of ids; DS_EINVAL for an id >= ds_bpe_vocab(b);
 *          DS_EFULL when cap is too small (*len = bytes needed).
 *   size_t ds_bpe_vocab(const ds_bpe *b)        256 + merges
 *   const unsigned char *ds_bpe_token(const ds_bpe *b, uint32_t id, size_t *len)
 *          the bytes of token id (NULL if out of range)
 *   ds_status ds_bpe_merge(const ds_bpe *b, size_t rank, uint32_t *left, uint32_t *right)
 *          the rank-th merge (DS_ENOTFOUND past the last)
 *   ds_status ds_bpe_split(const void *text, size_t len, ds_text_emit emit, void *ectx)
 *          the pre-tokenizer, piece by piece
 *   ds_status ds_bpe_save(const ds_bpe *b, ds_writer w)
 *   ds_status ds_bpe_load(ds_bpe *b, ds_reader *r, const ds_alloc *a)
 *          format "DSbp" v1: the merge count, then each merge as a u64
 *          (left | right << 32), a checksum. load checks every merge:
 *          both ids below its own, no pair twice, no token longer than
 *          DS_BPE_MAX_TOKEN, the count against the bytes left (tables grow
 *          as merges arrive through a pipe). DS_ECORRUPT on any mismatch,
 *          truncation or bit flip; *b untouched on error. Like every
 *          ds load, *b is taken as uninitialised (free a model it holds
 *          first).
 *   ds_status ds_bpe_import_gpt2(ds_bpe *b, const char *merges, size_t len, const ds_alloc *a)
 *          a GPT-2 style merges.txt ("#version" line, then "left right"
 *          per line in GPT-2's byte-to-unicode alphabet: printable bytes
 *          as themselves, the others as U+0100 + n). Merge r gives token
 *          256 + r here; GPT-2's own vocab.json numbers tokens differently
 *          (its byte tokens are not 0..255 in byte order), so map ids
 *          through the token bytes when comparing with GPT-2 ids.
 *          DS_ECORRUPT: a malformed line, an unknown symbol, a pair twice.
 *          *b is taken as uninitialised, as by load; untouched on error.
 *   ds_status ds_bpe_import_gpt2_vocab(ds_bpe *b, const char *merges, size_t mlen,
 *                                      const char *vocab, size_t vlen, const ds_alloc *a)
 *          the merges as ds_bpe_import_gpt2, plus the file's own token
 *          numbering from a GPT-2 style vocab.json: one JSON object
 *          {"symbol": id, ...}, symbols in the byte-to-unicode alphabet
 *          (JSON escapes, \uXXXX and surrogate pairs included), ids the
 *          integers 0..n-1 for n entries, each once. Every byte and every
 *          merge's token must be there; entries that are no token of the
 *          merges (special tokens such as "<|endoftext|>") keep their id
 *          but no decoding. DS_ECORRUPT: malformed JSON, an id out of
 *          range (not an integer in 0..n-1) or twice, a symbol twice, a
 *          byte or merged token missing; plus the merges' errors. The
 *          numbering is not saved by ds_bpe_save (import again); train
 *          drops it. *b as by ds_bpe_import_gpt2.
 *   ds_status ds_bpe_encode_vocab(ds_bpe *b, const void *text, size_t len, uint32_t *ids,
 *                                 size_t cap, size_t *n)
 *   ds_status ds_bpe_decode_vocab(const ds_bpe *b, const uint32_t *ids, size_t n, void *out,
 *                                 size_t cap, size_t *len)
 *          encode and decode with the vocab.json's ids. DS_EINVAL: no
 *          vocab.json imported; for decode, an id out of range or of an
 *          entry that is no token (a special token).
 *   ds_status ds_bpe_to_vocab_id(const ds_bpe *b, uint32_t id, uint32_t *vid)
 *   ds_status ds_bpe_from_vocab_id(const ds_bpe *b, uint32_t vid, uint32_t *id)
 *          one id each way (tokens with the same bytes share a vocab id;
 *          from_vocab_id gives the first). DS_EINVAL: no vocab.json;
 *          DS_ENOTFOUND: out of range, or no token.
 * Thread-safety: decode, token, merge, vocab and save only read; encode
 * writes the cache; train/load/import need exclusive access. */
#define DS_BPE_MAX_TOKEN 255
#define DS_BPE_MAX_PIECE 255
#define DS_BPE_MAX_VOCAB ((size_t)1 << 24)
#define DS_BPE_CACHE 4096

typedef struct ds_bpe_params {
    uint64_t min_frequency; /* pairs seen fewer times are never merged (2) */
} ds_bpe_params;

typedef struct ds__bpecache {
    uint64_t h;
    uint8_t len, nid, pad_[6];
    unsigned char w[24];
    uint32_t ids[12];
} ds__bpecache;

typedef struct ds_bpe {
    uint32_t *merges;        /* 2 per merge: left, right */
    uint32_t *tokoff;        /* per merge: offset of its bytes */
    uint8_t *toklen;         /* per merge: byte length */
    unsigned char *bytes;    /* merged tokens' bytes */
    size_t nmerges, mcap, nbytes, bcap;
    uint64_t *rkeys;         /* rank table: (left << 32 | right) -> rank */
    uint32_t *rvals;         /* rank + 1, 0 = empty */
    size_t rslots;
    ds__bpecache *cache;
    int cache_failed;
    uint32_t *vid;           /* vocab.json import: the file's id of each token */
    uint32_t *vtok;          /* and each file id's token + 1 (0: none) */
    size_t nvid;             /* file ids (0: no vocab.json) */
    const ds_alloc *alloc;
} ds_bpe;

DSDEF ds_status ds_bpe_init(ds_bpe *b, const ds_alloc *a);
DSDEF void ds_bpe_free(ds_bpe *b);
DSDEF ds_bpe_params ds_bpe_params_default(void);
DSDEF ds_status ds_bpe_train(ds_bpe *b, const void *text, size_t len, size_t vocab_size, const ds_bpe_params *p);
DSDEF ds_status ds_bpe_encode(ds_bpe *b, const void *text, size_t len, uint32_t *ids, size_t cap, size_t *n);
DSDEF ds_status ds_bpe_decode(const ds_bpe *b, const uint32_t *ids, size_t n, void *out, size_t cap, size_t *len);
DSDEF size_t ds_bpe_vocab(const ds_bpe *b);
DSDEF const unsigned char *ds_bpe_token(const ds_bpe *b, uint32_t id, size_t *len);
DSDEF ds_status ds_bpe_merge(const ds_bpe *b, size_t rank, uint32_t *left, uint32_t *right);
DSDEF ds_status ds_bpe_split(const void *text, size_t len, ds_text_emit emit, void *ectx);
DSDEF ds_status ds_bpe_save(const ds_bpe *b, ds_writer w);
DSDEF ds_status ds_bpe_load(ds_bpe *b, ds_reader *r, const ds_alloc *a);
DSDEF ds_status ds_bpe_import_gpt2(ds_bpe *b, const char *merges, size_t len, const ds_alloc *a);
DSDEF ds_status ds_bpe_import_gpt2_vocab(ds_bpe *b, const char *merges, size_t mlen, const char *vocab, size_t vlen,
                                         const ds_alloc *a);
DSDEF ds_status ds_bpe_encode_vocab(ds_bpe *b, const void *text, size_t len, uint32_t *ids, size_t cap, size_t *n);
DSDEF ds_status ds_bpe_decode_vocab(const ds_bpe *b, const uint32_t *ids, size_t n, void *out, size_t cap,
                                    size_t *len);
DSDEF ds_status ds_bpe_to_vocab_id(const ds_bpe *b, uint32_t id, uint32_t *vid);
DSDEF ds_status ds_bpe_from_vocab_id(const ds_bpe *b, uint32_t vid, uint32_t *id);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_BPE_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_TEXT_IMPLEMENTATION)) && !defined(DS_SRC_BPE_IMPL)
#define DS_SRC_BPE_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds_text:bpe == */

static const unsigned char ds__bpe_bytes[256] = {
    0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14,  15,  16,  17,  18,  19,
    20,  21,  22,  23,  24,  25,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,
    40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  52,  53,  54,  55,  56,  57,  58,  59,
    60,  61,  62,  63,  64,  65,  66,  67,  68,  69,  70,  71,  72,  73,  74,  75,  76,  77,  78,  79,
    80,  81,  82,  83,  84,  85,  86,  87,  88,  89,  90,  91,  92,  93,  94,  95,  96,  97,  98,  99,
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
    120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139,
    140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159,
    160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179,
    180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199,
    200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219,
    220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239,
    240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255};

DSDEF ds_bpe_params ds_bpe_params_default(void) {
    ds_bpe_params p;
    p.min_frequency = 2;
    return p;
}

DSDEF ds_status ds_bpe_init(ds_bpe *b, const ds_alloc *a) {
    if (!b) return DS_EINVAL;
    memset(b, 0, sizeof *b);
    b->alloc = a;
    return DS_OK;
}

DSDEF void ds_bpe_free(ds_bpe *b) {
    if (!b) return;
    if (b->merges) DS_FREE(b->alloc, b->merges, b->mcap * 2 * sizeof(uint32_t));
    if (b->tokoff) DS_FREE(b->alloc, b->tokoff, b->mcap * sizeof(uint32_t));
    if (b->toklen) DS_FREE(b->alloc, b->toklen, b->mcap);
    if (b->bytes) DS_FREE(b->alloc, b->bytes, b->bcap);
    if (b->rkeys) DS_FREE(b->alloc, b->rkeys, b->rslots * sizeof(uint64_t));
    if (b->rvals) DS_FREE(b->alloc, b->rvals, b->rslots * sizeof(uint32_t));
    if (b->cache) DS_FREE(b->alloc, b->cache, DS_BPE_CACHE * sizeof(ds__bpecache));
    if (b->vid) DS_FREE(b->alloc, b->vid, (256 + b->nmerges) * sizeof(uint32_t));
    if (b->vtok) DS_FREE(b->alloc, b->vtok, b->nvid * sizeof(uint32_t));
    memset(b, 0, sizeof *b);
}

DSDEF size_t ds_bpe_vocab(const ds_bpe *b) { return b ? 256 + b->nmerges : 0; }

DSDEF const unsigned char *ds_bpe_token(const ds_bpe *b, uint32_t id, size_t *len) {
    if (!b || id >= 256 + b->nmerges) return NULL;
    if (id < 256) {
        if (len) *len = 1;
        return ds__bpe_bytes + id;
    }
    if (len) *len = b->toklen[id - 256];
    return b->bytes + b->tokoff[id - 256];
}

DSDEF ds_status ds_bpe_merge(const ds_bpe *b, size_t rank, uint32_t *left, uint32_t *right) {
    if (!b) return DS_EINVAL;
    if (rank >= b->nmerges) return DS_ENOTFOUND;
    if (left) *left = b->merges[2 * rank];
    if (right) *right = b->merges[2 * rank + 1];
    return DS_OK;
}

static size_t ds__bpe_tlen(const ds_bpe *b, uint32_t id) { return id < 256 ? 1 : b->toklen[id - 256]; }

static size_t ds__bpe_rslot(const ds_bpe *b, uint64_t key) {
    size_t m = b->rslots - 1, i = (size_t)ds_mix64(key) & m;
    while (b->rvals[i] && b->rkeys[i] != key) i = (i + 1) & m;
    return i;
}
/* Rank + 1 of pair (l, r), 0 if not a merge. */
static uint32_t ds__bpe_rank(const ds_bpe *b, uint32_t l, uint32_t r) {
    if (!b->rslots) return 0;
    return b->rvals[ds__bpe_rslot(b, ((uint64_t)l << 32) | r)];
}

static void *ds__bpe_regrow(const ds_alloc *a, void *p, size_t old, size_t nw) {
    return p ? DS_REALLOC(a, p, old, nw) : DS_MALLOC(a, nw);
}

/* Appends merge (l, r); DS_ECORRUPT for a bad one (ids, length, twice). */
static ds_status ds__bpe_push(ds_bpe *b, uint32_t l, uint32_t r) {
    size_t ll, rl, id = 256 + b->nmerges, i;
    uint64_t key = ((uint64_t)l << 32) | r;
    if (l >= id || r >= id) return DS_ECORRUPT;
    ll = ds__bpe_tlen(b, l);
    rl = ds__bpe_tlen(b, r);
    if (ll + rl > DS_BPE_MAX_TOKEN || id >= DS_BPE_MAX_VOCAB) return DS_ECORRUPT;
    if (ds__bpe_rank(b, l, r)) return DS_ECORRUPT;
    if (b->nmerges == b->mcap) {
        size_t nc = b->mcap ? 2 * b->mcap : 64;
        uint32_t *m = (uint32_t *)DS_MALLOC(b->alloc, nc * 8), *o = (uint32_t *)DS_MALLOC(b->alloc, nc * 4);
        uint8_t *t = (uint8_t *)DS_MALLOC(b->alloc, nc);
        if (!m || !o || !t) {
            if (m) DS_FREE(b->alloc, m, nc * 8);
            if (o) DS_FREE(b->alloc, o, nc * 4);
            if (t) DS_FREE(b->alloc, t, nc);
            return DS_ENOMEM;
        }
        if (b->mcap) {
            memcpy(m, b->merges, b->nmerges * 8);
            memcpy(o, b->tokoff, b->nmerges * 4);
            memcpy(t, b->toklen, b->nmerges);
            DS_FREE(b->alloc, b->merges, b->mcap * 8);
            DS_FREE(b->alloc, b->tokoff, b->mcap * 4);
            DS_FREE(b->alloc, b->toklen, b->mcap);
        }
        b->merges = m;
        b->tokoff = o;
        b->toklen = t;
        b->mcap = nc;
    }
    if (b->nbytes + ll + rl > b->bcap) {
        size_t nc = b->bcap ? 2 * b->bcap : 1024;
        unsigned char *q;
        while (nc < b->nbytes + ll + rl) nc *= 2;
        if (!(q = (unsigned char *)ds__bpe_regrow(b->alloc, b->bytes, b->bcap, nc))) return DS_ENOMEM;
        b->bytes = q;
        b->bcap = nc;
    }
    if ((b->nmerges + 1) * 2 > b->rslots) {
        size_t nn = b->rslots ? 2 * b->rslots : 256, j;
        uint64_t *k = (uint64_t *)DS_MALLOC(b->alloc, nn * sizeof(uint64_t));
        uint32_t *v = (uint32_t *)DS_MALLOC(b->alloc, nn * sizeof(uint32_t));
        if (!k || !v) {
            if (k) DS_FREE(b->alloc, k, nn * sizeof(uint64_t));
            if (v) DS_FREE(b->alloc, v, nn * sizeof(uint32_t));
            return DS_ENOMEM;
        }
        memset(v, 0, nn * sizeof(uint32_t));
        for (j = 0; j < b->rslots; j++) {
            size_t s;
            if (!b->rvals[j]) continue;
            s = (size_t)ds_mix64(b->rkeys[j]) & (nn - 1);
            while (v[s]) s = (s + 1) & (nn - 1);
            k[s] = b->rkeys[j];
            v[s] = b->rvals[j];
        }
        if (b->rkeys) DS_FREE(b->alloc, b->rkeys, b->rslots * sizeof(uint64_t));
        if (b->rvals) DS_FREE(b->alloc, b->rvals, b->rslots * sizeof(uint32_t));
        b->rkeys = k;
        b->rvals = v;
        b->rslots = nn;
    }
    i = b->nmerges;
    b->merges[2 * i] = l;
    b->merges[2 * i + 1] = r;
    b->tokoff[i] = (uint32_t)b->nbytes;
    b->toklen[i] = (uint8_t)(ll + rl);
    memcpy(b->bytes + b->nbytes, ds_bpe_token(b, l, NULL), ll);
    memcpy(b->bytes + b->nbytes + ll, ds_bpe_token(b, r, NULL), rl);
    b->nbytes += ll + rl;
    {
        size_t s = ds__bpe_rslot(b, key);
        b->rkeys[s] = key;
        b->rvals[s] = (uint32_t)i + 1;
    }
    b->nmerges++;
    return DS_OK;
}

/* ---- pre-tokenizer ---- */

static int ds__bpe_cls(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80) return 0;
    if (c >= '0' && c <= '9') return 1;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') return 2;
    return 3;
}

DSDEF ds_status ds_bpe_split(const void *text, size_t len, ds_text_emit emit, void *ectx) {
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    ds_status st;
    if (!emit || (!text && len)) return DS_EINVAL;
    while (i < len) {
        size_t start = i, j;
        int c = ds__bpe_cls(s[i]);
        if (c == 2 && !(s[i] == ' ' && i + 1 < len && ds__bpe_cls(s[i + 1]) != 2)) {
            j = i;
            while (j < len && ds__bpe_cls(s[j]) == 2 && j - start < DS_BPE_MAX_PIECE) j++;
            /* leave a last space before a non-space to the next piece */
            if (j < len && j - 1 > start && s[j - 1] == ' ' && ds__bpe_cls(s[j]) != 2) j--;
        } else {
            j = i;
            if (c == 2) { /* one space, then the run */
                j++;
                c = ds__bpe_cls(s[j]);
            }
            while (j < len && ds__bpe_cls(s[j]) == c && j - start < DS_BPE_MAX_PIECE) j++;
        }
        if ((st = emit(ectx, (const char *)s + start, j - start)) != DS_OK) return st;
        i = j;
    }
    return DS_OK;
}

/* ---- encode ---- */

typedef struct ds__bpeenc {
    ds_bpe *b;
    uint32_t *ids;
    size_t cap, n;
} ds__bpeenc;

/* Merges one piece (m <= DS_BPE_MAX_PIECE bytes) into out; returns the count. */
static size_t ds__bpe_piece(const ds_bpe *b, const unsigned char *w, size_t m, uint32_t *out) {
    uint32_t sym[DS_BPE_MAX_PIECE];
    int16_t nxt[DS_BPE_MAX_PIECE], prv[DS_BPE_MAX_PIECE];
    uint64_t heap[3 * DS_BPE_MAX_PIECE + 3]; /* rank << 16 | position */
    size_t nh = 0, i, n = 0;
    for (i = 0; i < m; i++) {
        sym[i] = w[i];
        nxt[i] = (int16_t)(i + 1 < m ? (int)i + 1 : -1);
        prv[i] = (int16_t)((int)i - 1);
    }
#define DS__BPE_HPUSH(v)                                                 \
    do {                                                                 \
        size_t k_ = nh++;                                                \
        uint64_t x_ = (v);                                               \
        while (k_ && heap[(k_ - 1) / 2] > x_) {                          \
            heap[k_] = heap[(k_ - 1) / 2];                               \
            k_ = (k_ - 1) / 2;                                           \
        }                                                                \
        heap[k_] = x_;                                                   \
    } while (0)
    for (i = 0; i + 1 < m; i++) {
        uint32_t r = ds__bpe_rank(b, sym[i], sym[i + 1]);
        if (r) DS__BPE_HPUSH(((uint64_t)r << 16) | i);
    }
    while (nh) {
        uint64_t top = heap[0], x;
        size_t k = 0;
        uint32_t r = (uint32_t)(top >> 16);
        int p = (int)(top & 0xFFFF), q;
        x = heap[--nh];
        for (;;) { /* pop */
            size_t l = 2 * k + 1, s = k;
            uint64_t best = x;
            if (l < nh && heap[l] < best) { s = l; best = heap[l]; }
            if (l + 1 < nh && heap[l + 1] < best) s = l + 1;
            if (s == k) break;
            heap[k] = heap[s];
            k = s;
        }
        if (nh) heap[k] = x;
        /* still valid: p alive with a right neighbour forming this pair */
        if (sym[p] == UINT32_MAX || (q = nxt[p]) < 0 || ds__bpe_rank(b, sym[p], sym[q]) != r) continue;
        sym[p] = 256 + r - 1;
        sym[q] = UINT32_MAX;
        nxt[p] = nxt[q];
        if (nxt[q] >= 0) prv[nxt[q]] = (int16_t)p;
        if (prv[p] >= 0) {
            uint32_t r2 = ds__bpe_rank(b, sym[prv[p]], sym[p]);
            if (r2) DS__BPE_HPUSH(((uint64_t)r2 << 16) | (uint64_t)prv[p]);
        }
        if (nxt[p] >= 0) {
            uint32_t r2 = ds__bpe_rank(b, sym[p], sym[nxt[p]]);
            if (r2) DS__BPE_HPUSH(((uint64_t)r2 << 16) | (uint64_t)p);
        }
    }
#undef DS__BPE_HPUSH
    for (i = 0; i < m; i = (size_t)nxt[i]) {
        out[n++] = sym[i];
        if (nxt[i] < 0) break;
    }
    return n;
}

static ds_status ds__bpe_enc_emit(void *ctx, const char *tok, size_t len) {
    ds__bpeenc *e = (ds__bpeenc *)ctx;
    uint32_t tmp[DS_BPE_MAX_PIECE];
    const uint32_t *src = tmp;
    size_t k, i;
    ds__bpecache *c = NULL;
    if (len == 1) {
        if (e->n < e->cap) e->ids[e->n] = (unsigned char)tok[0];
        e->n++;
        return DS_OK;
    }
    if (e->b->cache && len <= sizeof c->w) {
        uint64_t h = ds_hash_bytes(tok, len, 0x62706531);
        c = &e->b->cache[h & (DS_BPE_CACHE - 1)];
        if (c->h == h && c->len == len && memcmp(c->w, tok, len) == 0) {
            k = c->nid;
            src = c->ids;
            goto copy;
        }
        k = ds__bpe_piece(e->b, (const unsigned char *)tok, len, tmp);
        if (k <= 12) {
            c->h = h;
            c->len = (uint8_t)len;
            c->nid = (uint8_t)k;
            memcpy(c->w, tok, len);
            memcpy(c->ids, tmp, k * sizeof(uint32_t));
        }
    } else {
        k = ds__bpe_piece(e->b, (const unsigned char *)tok, len, tmp);
    }
copy:
    for (i = 0; i < k; i++)
        if (e->n + i < e->cap) e->ids[e->n + i] = src[i];
    e->n += k;
    return DS_OK;
}

DSDEF ds_status ds_bpe_encode(ds_bpe *b, const void *text, size_t len, uint32_t *ids, size_t cap, size_t *n) {
    ds__bpeenc e;
    if (n) *n = 0;
    if (!b || !n || (!text && len) || (!ids && cap)) return DS_EINVAL;
    if (!b->cache && !b->cache_failed && b->nmerges) {
        b->cache = (ds__bpecache *)DS_MALLOC(b->alloc, DS_BPE_CACHE * sizeof(ds__bpecache));
        if (b->cache) memset(b->cache, 0, DS_BPE_CACHE * sizeof(ds__bpecache));
        else b->cache_failed = 1;
    }
    e.b = b;
    e.ids = ids;
    e.cap = cap;
    e.n = 0;
    (void)ds_bpe_split(text, len, ds__bpe_enc_emit, &e);
    *n = e.n;
    return e.n > cap ? DS_EFULL : DS_OK;
}

DSDEF ds_status ds_bpe_decode(const ds_bpe *b, const uint32_t *ids, size_t n, void *out, size_t cap, size_t *len) {
    size_t i, need = 0;
    unsigned char *o = (unsigned char *)out;
    if (len) *len = 0;
    if (!b || !len || (!ids && n) || (!out && cap)) return DS_EINVAL;
    for (i = 0; i < n; i++) {
        size_t tl = 0;
        const unsigned char *t = ds_bpe_token(b, ids[i], &tl);
        if (!t) return DS_EINVAL;
        if (need + tl <= cap) memcpy(o + need, t, tl);
        need += tl;
    }
    *len = need;
    return need > cap ? DS_EFULL : DS_OK;
}

/* ---- training ---- */

typedef struct ds__bpepair {
    uint64_t key;
    int64_t count;
    uint32_t *occ;       /* words holding it (maybe stale, maybe repeated) */
    uint32_t nocc, ocap;
    uint32_t stamp;      /* last merge step that touched it */
    uint32_t forbid;
} ds__bpepair;

typedef struct ds__bpeheap {
    int64_t count;
    uint64_t key;
} ds__bpeheap;

typedef struct ds__bpetr {
    const ds_alloc *a;
    /* words */
    unsigned char *wb;   /* distinct pieces' bytes */
    size_t wblen, wbcap;
    size_t *woff;        /* word w: bytes wb[woff[w]..], symbols sy[woff[w]..] */
    uint32_t *wlen;      /* current symbol count */
    uint32_t *wstamp;
    uint64_t *wfreq;
    size_t nw, wcap, fcap;
    size_t *wslots;      /* word table: w + 1 */
    size_t nwslots;
    uint32_t *sy;
    /* pairs */
    ds__bpepair *pairs;
    size_t np, pcap;
    uint32_t *pslots;    /* pair table: index + 1 */
    size_t npslots;
    ds__bpeheap *heap;
    size_t nh, hcap;
    uint32_t *touched;
    size_t nt, tcap;
    ds_status st;
} ds__bpetr;

static int ds__bpe_grow(ds__bpetr *t, void **p, size_t *cap, size_t need, size_t elt) {
    size_t nc;
    void *q;
    if (need <= *cap) return 1;
    nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    if (nc > SIZE_MAX / elt || !(q = ds__bpe_regrow(t->a, *p, *cap * elt, nc * elt))) {
        t->st = DS_ENOMEM;
        return 0;
    }
    *p = q;
    *cap = nc;
    return 1;
}
/* Type-safe wrapper: q holds the pointer as void * (no punning). */
#define DS__BPE_RESERVE(ok, t, ptr, cap, need, T)                                \
    do {                                                                         \
        void *q_ = (void *)(ptr);                                                \
        (ok) = ds__bpe_grow((t), &q_, &(cap), (need), sizeof(T));                \
        (ptr) = (T *)q_;                                                         \
    } while (0)

static ds_status ds__bpe_count_emit(void *ctx, const char *tok, size_t len) {
    ds__bpetr *t = (ds__bpetr *)ctx;
    uint64_t h = ds_hash_bytes(tok, len, 0x77);
    size_t i, m;
    int ok;
    if (!t->nwslots || (t->nw + 1) * 2 > t->nwslots) {
        size_t nn = t->nwslots ? 2 * t->nwslots : 1024, j;
        size_t *s = (size_t *)DS_MALLOC(t->a, nn * sizeof(size_t));
        if (!s) return t->st = DS_ENOMEM;
        memset(s, 0, nn * sizeof(size_t));
        for (j = 0; j < t->nw; j++) {
            size_t k = (size_t)ds_hash_bytes(t->wb + t->woff[j], t->woff[j + 1] - t->woff[j], 0x77) & (nn - 1);
            while (s[k]) k = (k + 1) & (nn - 1);
            s[k] = j + 1;
        }
        if (t->wslots) DS_FREE(t->a, t->wslots, t->nwslots * sizeof(size_t));
        t->wslots = s;
        t->nwslots = nn;
    }
    m = t->nwslots - 1;
    i = (size_t)h & m;
    while (t->wslots[i]) {
        size_t w = t->wslots[i] - 1;
        if (t->woff[w + 1] - t->woff[w] == len && memcmp(t->wb + t->woff[w], tok, len) == 0) {
            t->wfreq[w]++;
            return DS_OK;
        }
        i = (i + 1) & m;
    }
    DS__BPE_RESERVE(ok, t, t->wb, t->wbcap, t->wblen + len, unsigned char);
    if (!ok) return t->st;
    DS__BPE_RESERVE(ok, t, t->woff, t->wcap, t->nw + 2, size_t);
    if (!ok) return t->st;
    DS__BPE_RESERVE(ok, t, t->wfreq, t->fcap, t->nw + 2, uint64_t);
    if (!ok) return t->st;
    memcpy(t->wb + t->wblen, tok, len);
    if (!t->nw) t->woff[0] = 0;
    t->wblen += len;
    t->woff[t->nw + 1] = t->wblen;
    t->wfreq[t->nw] = 1;
    t->wslots[i] = ++t->nw;
    return DS_OK;
}

static size_t ds__bpe_pslot(const ds__bpetr *t, uint64_t key) {
    size_t m = t->npslots - 1, i = (size_t)ds_mix64(key) & m;
    while (t->pslots[i] && t->pairs[t->pslots[i] - 1].key != key) i = (i + 1) & m;
    return i;
}

/* The pair record of key, created if absent; NULL on ENOMEM. */
static ds__bpepair *ds__bpe_pair(ds__bpetr *t, uint64_t key) {
    size_t i;
    int ok;
    if ((t->np + 1) * 2 > t->npslots) {
        size_t nn = t->npslots ? 2 * t->npslots : 4096, j;
        uint32_t *s = (uint32_t *)DS_MALLOC(t->a, nn * sizeof(uint32_t));
        if (!s) {
            t->st = DS_ENOMEM;
            return NULL;
        }
        memset(s, 0, nn * sizeof(uint32_t));
        for (j = 0; j < t->np; j++) {
            size_t k = (size_t)ds_mix64(t->pairs[j].key) & (nn - 1);
            while (s[k]) k = (k + 1) & (nn - 1);
            s[k] = (uint32_t)j + 1;
        }
        if (t->pslots) DS_FREE(t->a, t->pslots, t->npslots * sizeof(uint32_t));
        t->pslots = s;
        t->npslots = nn;
    }
    i = ds__bpe_pslot(t, key);
    if (t->pslots[i]) return &t->pairs[t->pslots[i] - 1];
    DS__BPE_RESERVE(ok, t, t->pairs, t->pcap, t->np + 1, ds__bpepair);
    if (!ok) return NULL;
    memset(&t->pairs[t->np], 0, sizeof(ds__bpepair));
    t->pairs[t->np].key = key;
    t->pslots[i] = (uint32_t)++t->np;
    return &t->pairs[t->np - 1];
}

static int ds__bpe_hless(const ds__bpeheap *x, const ds__bpeheap *y) {
    /* x before y: higher count, then smaller (left, right) */
    return x->count > y->count || (x->count == y->count && x->key < y->key);
}
static int ds__bpe_hpush(ds__bpetr *t, int64_t count, uint64_t key) {
    size_t k;
    int ok;
    ds__bpeheap x;
    DS__BPE_RESERVE(ok, t, t->heap, t->hcap, t->nh + 1, ds__bpeheap);
    if (!ok) return 0;
    x.count = count;
    x.key = key;
    k = t->nh++;
    while (k && ds__bpe_hless(&x, &t->heap[(k - 1) / 2])) {
        t->heap[k] = t->heap[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    t->heap[k] = x;
    return 1;
}
static ds__bpeheap ds__bpe_hpop(ds__bpetr *t) {
    ds__bpeheap top = t->heap[0], x = t->heap[--t->nh];
    size_t k = 0;
    for (;;) {
        size_t l = 2 * k + 1, s = k;
        const ds__bpeheap *best = &x;
        if (l < t->nh && ds__bpe_hless(&t->heap[l], best)) { s = l; best = &t->heap[l]; }
        if (l + 1 < t->nh && ds__bpe_hless(&t->heap[l + 1], best)) s = l + 1;
        if (s == k) break;
        t->heap[k] = t->heap[s];
        k = s;
    }
    if (t->nh) t->heap[k] = x;
    return top;
}

/* Adds delta * (pairs of word w) to the counts; with add, records w in
 * each pair's occurrence list and the touched list. */
static int ds__bpe_word_pairs(ds__bpetr *t, uint32_t w, int64_t delta, uint32_t step) {
    const uint32_t *s = t->sy + t->woff[w];
    uint32_t i, n = t->wlen[w];
    int ok;
    for (i = 0; i + 1 < n; i++) {
        ds__bpepair *p = ds__bpe_pair(t, ((uint64_t)s[i] << 32) | s[i + 1]);
        if (!p) return 0;
        p->count += delta;
        if (delta > 0 && (!p->nocc || p->occ[p->nocc - 1] != w)) {
            size_t oc = p->ocap;
            DS__BPE_RESERVE(ok, t, p->occ, oc, (size_t)p->nocc + 1, uint32_t);
            if (!ok) return 0;
            p->ocap = (uint32_t)oc;
            p->occ[p->nocc++] = w;
        }
        if (p->stamp != step) {
            p->stamp = step;
            DS__BPE_RESERVE(ok, t, t->touched, t->tcap, t->nt + 1, uint32_t);
            if (!ok) return 0;
            t->touched[t->nt++] = (uint32_t)(p - t->pairs);
        }
    }
    return 1;
}

static void ds__bpetr_free(ds__bpetr *t) {
    size_t i;
    for (i = 0; i < t->np; i++)
        if (t->pairs[i].occ) DS_FREE(t->a, t->pairs[i].occ, (size_t)t->pairs[i].ocap * sizeof(uint32_t));
    if (t->pairs) DS_FREE(t->a, t->pairs, t->pcap * sizeof(ds__bpepair));
    if (t->pslots) DS_FREE(t->a, t->pslots, t->npslots * sizeof(uint32_t));
    if (t->heap) DS_FREE(t->a, t->heap, t->hcap * sizeof(ds__bpeheap));
    if (t->touched) DS_FREE(t->a, t->touched, t->tcap * sizeof(uint32_t));
    if (t->wb) DS_FREE(t->a, t->wb, t->wbcap);
    if (t->woff) DS_FREE(t->a, t->woff, t->wcap * sizeof(size_t));
    if (t->wfreq) DS_FREE(t->a, t->wfreq, t->fcap * sizeof(uint64_t));
    if (t->wslots) DS_FREE(t->a, t->wslots, t->nwslots * sizeof(size_t));
    if (t->wlen) DS_FREE(t->a, t->wlen, (t->nw ? t->nw : 1) * sizeof(uint32_t));
    if (t->wstamp) DS_FREE(t->a, t->wstamp, (t->nw ? t->nw : 1) * sizeof(uint32_t));
    if (t->sy) DS_FREE(t->a, t->sy, (t->wblen ? t->wblen : 1) * sizeof(uint32_t));
}

static ds_status ds__bpe_train(ds__bpetr *t, ds_bpe *out, const void *text, size_t len, size_t vocab,
                               uint64_t minf) {
    size_t w, i;
    uint32_t step = 1;
    if (ds_bpe_split(text, len, ds__bpe_count_emit, t) != DS_OK) return t->st ? t->st : DS_ENOMEM;
    if (!t->nw) return DS_OK;
    t->wlen = (uint32_t *)DS_MALLOC(t->a, t->nw * sizeof(uint32_t));
    t->wstamp = (uint32_t *)DS_MALLOC(t->a, t->nw * sizeof(uint32_t));
    t->sy = (uint32_t *)DS_MALLOC(t->a, t->wblen * sizeof(uint32_t));
    if (!t->wlen || !t->wstamp || !t->sy) return DS_ENOMEM;
    for (w = 0; w < t->nw; w++) {
        t->wlen[w] = (uint32_t)(t->woff[w + 1] - t->woff[w]);
        t->wstamp[w] = 0;
        for (i = t->woff[w]; i < t->woff[w + 1]; i++) t->sy[i] = t->wb[i];
        if (!ds__bpe_word_pairs(t, (uint32_t)w, (int64_t)t->wfreq[w], 0)) return t->st;
    }
    for (i = 0; i < t->np; i++)
        if (!ds__bpe_hpush(t, t->pairs[i].count, t->pairs[i].key)) return t->st;
    t->nt = 0;
    while (256 + out->nmerges < vocab && t->nh) {
        ds__bpeheap top = ds__bpe_hpop(t);
        ds__bpepair *p;
        uint32_t l = (uint32_t)(top.key >> 32), r = (uint32_t)top.key, id, k, nocc;
        ds_status st;
        size_t pi = t->pslots[ds__bpe_pslot(t, top.key)] - 1;
        p = &t->pairs[pi];
        if (p->count != top.count || p->forbid || p->count <= 0) continue;
        if ((uint64_t)top.count < minf) break;
        if (ds__bpe_tlen(out, l) + ds__bpe_tlen(out, r) > DS_BPE_MAX_TOKEN) {
            p->forbid = 1;
            continue;
        }
        if ((st = ds__bpe_push(out, l, r)) != DS_OK) return st == DS_ECORRUPT ? DS_EINVAL : st;
        id = (uint32_t)(255 + out->nmerges);
        step++;
        t->nt = 0;
        nocc = p->nocc;
        for (k = 0; k < nocc; k++) {
            uint32_t ww = t->pairs[pi].occ[k], n, a, o;
            uint32_t *s;
            if (t->wstamp[ww] == step) continue;
            t->wstamp[ww] = step;
            s = t->sy + t->woff[ww];
            n = t->wlen[ww];
            for (a = 0; a + 1 < n && !(s[a] == l && s[a + 1] == r); a++) {}
            if (a + 1 >= n) continue; /* stale */
            if (!ds__bpe_word_pairs(t, ww, -(int64_t)t->wfreq[ww], step)) return t->st;
            for (a = 0, o = 0; a < n; o++) {
                if (a + 1 < n && s[a] == l && s[a + 1] == r) {
                    s[o] = id;
                    a += 2;
                } else {
                    s[o] = s[a++];
                }
            }
            t->wlen[ww] = o;
            if (!ds__bpe_word_pairs(t, ww, (int64_t)t->wfreq[ww], step)) return t->st;
        }
        /* pairs may have moved (the array grew): re-find by index */
        p = &t->pairs[pi];
        if (p->occ) DS_FREE(t->a, p->occ, (size_t)p->ocap * sizeof(uint32_t));
        p->occ = NULL;
        p->nocc = p->ocap = 0;
        for (k = 0; k < t->nt; k++) {
            const ds__bpepair *q = &t->pairs[t->touched[k]];
            if (q->count > 0 && !ds__bpe_hpush(t, q->count, q->key)) return t->st;
        }
    }
    return DS_OK;
}

DSDEF ds_status ds_bpe_train(ds_bpe *b, const void *text, size_t len, size_t vocab_size, const ds_bpe_params *p) {
    ds__bpetr t;
    ds_bpe out;
    ds_status st;
    ds_bpe_params d = ds_bpe_params_default();
    if (p) d = *p;
    if (!b || (!text && len) || vocab_size < 256 || vocab_size > DS_BPE_MAX_VOCAB || !d.min_frequency)
        return DS_EINVAL;
    memset(&t, 0, sizeof t);
    t.a = b->alloc;
    (void)ds_bpe_init(&out, b->alloc);
    st = ds__bpe_train(&t, &out, text, len, vocab_size, d.min_frequency);
    ds__bpetr_free(&t);
    if (st != DS_OK) {
        ds_bpe_free(&out);
        return st;
    }
    ds_bpe_free(b);
    *b = out;
    return DS_OK;
}

/* ---- save / load ---- */

DSDEF ds_status ds_bpe_save(const ds_bpe *b, ds_writer w) {
    ds__enc e;
    size_t i;
    if (!b) return DS_EINVAL;
    ds__enc_init(&e, w, "DSbp", 1);
    ds__put_u64(&e, b->nmerges);
    for (i = 0; i < b->nmerges; i++) ds__put_u64(&e, b->merges[2 * i] | ((uint64_t)b->merges[2 * i + 1] << 32));
    return ds__enc_end(&e);
}

DSDEF ds_status ds_bpe_load(ds_bpe *b, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_bpe t;
    uint64_t n, i;
    if (!b) return DS_EINVAL;
    ds__dec_init(&d, r, "DSbp", 1);
    n = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    if (n > DS_BPE_MAX_VOCAB - 256 || !ds__dec_room(&d, n * 8)) return DS_ECORRUPT;
    (void)ds_bpe_init(&t, a);
    for (i = 0; i < n && d.st == DS_OK; i++) {
        uint64_t m = ds__get_u64(&d);
        if (d.st != DS_OK) break;
        d.st = ds__bpe_push(&t, (uint32_t)m, (uint32_t)(m >> 32));
    }
    if (ds__dec_end(&d) != DS_OK) {
        ds_bpe_free(&t);
        return d.st;
    }
    *b = t;
    return DS_OK;
}

/* ---- GPT-2 merges.txt ---- */

/* GPT-2's byte-to-unicode table: printable bytes ('!'..'~', 0xA1..0xAC,
 * 0xAE..0xFF) map to themselves, the other 68 to U+0100 + n in byte order. */
static int ds__gpt2_byte(uint32_t cp) {
    uint32_t n = 0, c;
    if ((cp >= '!' && cp <= '~') || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF)) return (int)cp;
    if (cp < 0x100 || cp >= 0x100 + 68) return -1;
    for (c = 0; c < 256; c++) {
        if ((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF)) continue;
        if (n == cp - 0x100) return (int)c;
        n++;
    }
    return -1;
}

/* Token ids by their bytes, for the import (an open-addressing table). */
typedef struct ds__gpt2map {
    uint32_t *slot; /* id + 1 */
    size_t n;
    const ds_alloc *a;
} ds__gpt2map;
static size_t ds__gpt2_find(const ds__gpt2map *m, const ds_bpe *b, const unsigned char *s, size_t n) {
    size_t i = (size_t)ds_hash_bytes(s, n, 0x67) & (m->n - 1);
    while (m->slot[i]) {
        size_t tl = 0;
        const unsigned char *t = ds_bpe_token(b, m->slot[i] - 1, &tl);
        if (tl == n && memcmp(t, s, n) == 0) break;
        i = (i + 1) & (m->n - 1);
    }
    return i;
}
/* Adds the newest merge of b to m, growing it first. */
static ds_status ds__gpt2_add(ds__gpt2map *m, const ds_bpe *b) {
    size_t tl = 0, j;
    const unsigned char *t;
    if ((b->nmerges + 1) * 2 > m->n) {
        ds__gpt2map g;
        g.n = m->n ? 2 * m->n : 1024;
        g.a = m->a;
        if (!(g.slot = (uint32_t *)DS_MALLOC(m->a, g.n * sizeof(uint32_t)))) return DS_ENOMEM;
        memset(g.slot, 0, g.n * sizeof(uint32_t));
        for (j = 0; j < m->n; j++)
            if (m->slot[j]) {
                t = ds_bpe_token(b, m->slot[j] - 1, &tl);
                g.slot[ds__gpt2_find(&g, b, t, tl)] = m->slot[j];
            }
        if (m->slot) DS_FREE(m->a, m->slot, m->n * sizeof(uint32_t));
        *m = g;
    }
    t = ds_bpe_token(b, (uint32_t)(255 + b->nmerges), &tl);
    j = ds__gpt2_find(m, b, t, tl);
    if (!m->slot[j]) m->slot[j] = (uint32_t)(256 + b->nmerges); /* the first token with these bytes */
    return DS_OK;
}

/* The token whose bytes are the GPT-2 symbol s[0..n), or -1. */
static long ds__gpt2_sym(const ds__gpt2map *m, const ds_bpe *b, const unsigned char *s, size_t n) {
    unsigned char buf[DS_BPE_MAX_TOKEN];
    size_t bl = 0, i = 0, j;
    while (i < n) {
        uint32_t cp;
        size_t w = ds__utf8(s + i, n - i, &cp);
        int by;
        if (!w || (by = ds__gpt2_byte(cp)) < 0 || bl == sizeof buf) return -1;
        buf[bl++] = (unsigned char)by;
        i += w;
    }
    if (bl == 1) return buf[0];
    if (!m->n) return -1;
    j = ds__gpt2_find(m, b, buf, bl);
    return m->slot[j] ? (long)m->slot[j] - 1 : -1;
}

/* Reads merges.txt into t (initialised) and m (its tokens by bytes). */
static ds_status ds__gpt2_merges(ds_bpe *t, ds__gpt2map *m, const char *merges, size_t len) {
    size_t i = 0;
    ds_status st = DS_OK;
    while (i < len && st == DS_OK) {
        size_t e = i, sp;
        long l, r;
        while (e < len && merges[e] != '\n') e++;
        if (e > i && merges[e - 1] == '\r') e--;
        if (e == i || merges[i] == '#') {
            i = e;
            while (i < len && (merges[i] == '\r' || merges[i] == '\n')) i++;
            continue;
        }
        for (sp = i; sp < e && merges[sp] != ' '; sp++) {}
        if (sp == e || sp == i || sp + 1 == e) {
            st = DS_ECORRUPT;
            break;
        }
        l = ds__gpt2_sym(m, t, (const unsigned char *)merges + i, sp - i);
        r = ds__gpt2_sym(m, t, (const unsigned char *)merges + sp + 1, e - sp - 1);
        if (l < 0 || r < 0) st = DS_ECORRUPT;
        else if ((st = ds__bpe_push(t, (uint32_t)l, (uint32_t)r)) == DS_OK) st = ds__gpt2_add(m, t);
        i = e;
        while (i < len && (merges[i] == '\r' || merges[i] == '\n')) i++;
    }
    return st;
}

DSDEF ds_status ds_bpe_import_gpt2(ds_bpe *b, const char *merges, size_t len, const ds_alloc *a) {
    ds_bpe t;
    ds__gpt2map m;
    ds_status st;
    if (!b || (!merges && len)) return DS_EINVAL;
    (void)ds_bpe_init(&t, a);
    m.slot = NULL;
    m.n = 0;
    m.a = a;
    st = ds__gpt2_merges(&t, &m, merges, len);
    if (m.slot) DS_FREE(a, m.slot, m.n * sizeof(uint32_t));
    if (st != DS_OK) {
        ds_bpe_free(&t);
        return st;
    }
    *b = t;
    return DS_OK;
}

/* ---- GPT-2 vocab.json ---- */

typedef struct ds__json {
    const unsigned char *p, *end;
    int bad;
} ds__json;

static void ds__json_ws(ds__json *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}
static int ds__json_lit(ds__json *j, unsigned char c) {
    ds__json_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}
static uint32_t ds__json_hex4(ds__json *j) {
    uint32_t v = 0;
    int i;
    if (j->end - j->p < 4) {
        j->bad = 1;
        return 0;
    }
    for (i = 0; i < 4; i++) {
        unsigned char c = *j->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else j->bad = 1;
    }
    return v;
}
/* A JSON string (j->p at its quote), its code points mapped through
 * GPT-2's alphabet into buf: the byte count, or -1 if some code point is
 * outside the alphabet or the bytes exceed DS_BPE_MAX_TOKEN (still valid
 * JSON: such an entry is no token). Malformed JSON sets bad. */
static long ds__json_sym(ds__json *j, unsigned char *buf) {
    long n = 0;
    int ok = 1;
    if (j->p >= j->end || *j->p != '"') {
        j->bad = 1;
        return -1;
    }
    j->p++;
    while (!j->bad) {
        uint32_t cp = 0;
        unsigned char c;
        if (j->p >= j->end) {
            j->bad = 1;
            break;
        }
        c = *j->p;
        if (c == '"') {
            j->p++;
            return ok ? n : -1;
        }
        if (c < 0x20) {
            j->bad = 1;
            break;
        }
        if (c == '\\') {
            j->p++;
            if (j->p >= j->end) {
                j->bad = 1;
                break;
            }
            switch (*j->p++) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = 8; break;
            case 'f': cp = 12; break;
            case 'n': cp = 10; break;
            case 'r': cp = 13; break;
            case 't': cp = 9; break;
            case 'u':
                cp = ds__json_hex4(j);
                if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair */
                    uint32_t lo;
                    if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u') {
                        j->bad = 1;
                        break;
                    }
                    j->p += 2;
                    lo = ds__json_hex4(j);
                    if (lo < 0xDC00 || lo > 0xDFFF) j->bad = 1;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    j->bad = 1;
                }
                break;
            default: j->bad = 1; break;
            }
        } else {
            size_t w = ds__utf8(j->p, (size_t)(j->end - j->p), &cp);
            if (!w) {
                j->bad = 1;
                break;
            }
            j->p += w;
        }
        if (ok) {
            int by = ds__gpt2_byte(cp);
            if (by < 0 || n == DS_BPE_MAX_TOKEN) ok = 0;
            else buf[n++] = (unsigned char)by;
        }
    }
    return -1;
}
/* A JSON integer in 0..max (else bad: fractions, exponents, signs, range). */
static uint64_t ds__json_uint(ds__json *j, uint64_t max) {
    uint64_t v = 0;
    const unsigned char *s;
    ds__json_ws(j);
    s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        v = v * 10 + (uint64_t)(*j->p++ - '0');
        if (v > max) {
            j->bad = 1;
            return 0;
        }
    }
    if (j->p == s || (j->p - s > 1 && *s == '0') ||
        (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')))
        j->bad = 1;
    return v;
}

/* One pass over vocab.json: counts the entries (vtok NULL) or fills
 * t->vid / vtok (ids checked against n, each once; a symbol once). */
static ds_status ds__gpt2_vocab(ds_bpe *t, const ds__gpt2map *m, const char *vocab, size_t vlen, uint32_t *vtok,
                                size_t n, size_t *count) {
    ds__json j;
    unsigned char buf[DS_BPE_MAX_TOKEN];
    size_t k = 0;
    j.p = (const unsigned char *)vocab;
    j.end = j.p + vlen;
    j.bad = 0;
    if (!ds__json_lit(&j, '{')) return DS_ECORRUPT;
    if (!ds__json_lit(&j, '}')) {
        do {
            long bl;
            uint64_t id;
            ds__json_ws(&j);
            bl = ds__json_sym(&j, buf);
            if (j.bad || !ds__json_lit(&j, ':')) return DS_ECORRUPT;
            id = ds__json_uint(&j, vtok ? n - 1 : DS_BPE_MAX_VOCAB - 1);
            if (j.bad) return DS_ECORRUPT;
            if (vtok) {
                long tok = -1;
                if (vtok[id]) return DS_ECORRUPT; /* an id twice */
                if (bl == 1) {
                    tok = buf[0];
                } else if (bl > 1 && m->n) {
                    size_t s = ds__gpt2_find(m, t, buf, (size_t)bl);
                    if (m->slot[s]) tok = (long)m->slot[s] - 1;
                }
                if (tok >= 0) {
                    if (t->vid[tok] != UINT32_MAX) return DS_ECORRUPT; /* a symbol twice */
                    t->vid[tok] = (uint32_t)id;
                    vtok[id] = (uint32_t)tok + 1;
                } else {
                    vtok[id] = UINT32_MAX; /* no token: a special one */
                }
            }
            if (++k > DS_BPE_MAX_VOCAB) return DS_ECORRUPT;
        } while (ds__json_lit(&j, ','));
        if (!ds__json_lit(&j, '}')) return DS_ECORRUPT;
    }
    ds__json_ws(&j);
    if (j.p != j.end) return DS_ECORRUPT;
    *count = k;
    return DS_OK;
}

DSDEF ds_status ds_bpe_import_gpt2_vocab(ds_bpe *b, const char *merges, size_t mlen, const char *vocab, size_t vlen,
                                         const ds_alloc *a) {
    ds_bpe t;
    ds__gpt2map m;
    ds_status st;
    size_t n = 0, i, nt;
    uint32_t *vtok = NULL;
    if (!b || (!merges && mlen) || (!vocab && vlen)) return DS_EINVAL;
    (void)ds_bpe_init(&t, a);
    m.slot = NULL;
    m.n = 0;
    m.a = a;
    if ((st = ds__gpt2_merges(&t, &m, merges, mlen)) != DS_OK) goto out;
    if ((st = ds__gpt2_vocab(&t, &m, vocab, vlen, NULL, 0, &n)) != DS_OK) goto out;
    nt = 256 + t.nmerges;
    if (n < nt) { /* too few entries for every token */
        st = DS_ECORRUPT;
        goto out;
    }
    vtok = (uint32_t *)DS_MALLOC(a, n * sizeof(uint32_t));
    t.vid = (uint32_t *)DS_MALLOC(a, nt * sizeof(uint32_t));
    if (!vtok || !t.vid) {
        st = DS_ENOMEM;
        goto out;
    }
    memset(vtok, 0, n * sizeof(uint32_t));
    for (i = 0; i < nt; i++) t.vid[i] = UINT32_MAX;
    if ((st = ds__gpt2_vocab(&t, &m, vocab, vlen, vtok, n, &n)) != DS_OK) goto out;
    /* Every token has a file id: its own, or that of the first token with
     * its bytes (two merges may spell the same bytes). */
    for (i = 256; i < nt; i++) {
        size_t tl = 0;
        const unsigned char *tb = ds_bpe_token(&t, (uint32_t)i, &tl);
        uint32_t f = m.slot[ds__gpt2_find(&m, &t, tb, tl)] - 1;
        t.vid[i] = t.vid[f];
    }
    for (i = 0; i < nt; i++)
        if (t.vid[i] == UINT32_MAX) {
            st = DS_ECORRUPT; /* a byte or merged token missing */
            goto out;
        }
    for (i = 0; i < n; i++)
        if (vtok[i] == UINT32_MAX) vtok[i] = 0;
    t.vtok = vtok;
    t.nvid = n;
    vtok = NULL;
out:
    if (m.slot) DS_FREE(a, m.slot, m.n * sizeof(uint32_t));
    if (vtok) DS_FREE(a, vtok, n * sizeof(uint32_t));
    if (st != DS_OK) {
        ds_bpe_free(&t);
        return st;
    }
    *b = t;
    return DS_OK;
}

DSDEF ds_status ds_bpe_to_vocab_id(const ds_bpe *b, uint32_t id, uint32_t *vid) {
    if (!b || !vid || !b->nvid) return DS_EINVAL;
    if (id >= 256 + b->nmerges) return DS_ENOTFOUND;
    *vid = b->vid[id];
    return DS_OK;
}
DSDEF ds_status ds_bpe_from_vocab_id(const ds_bpe *b, uint32_t vid, uint32_t *id) {
    if (!b || !id || !b->nvid) return DS_EINVAL;
    if (vid >= b->nvid || !b->vtok[vid]) return DS_ENOTFOUND;
    *id = b->vtok[vid] - 1;
    return DS_OK;
}
DSDEF ds_status ds_bpe_encode_vocab(ds_bpe *b, const void *text, size_t len, uint32_t *ids, size_t cap, size_t *n) {
    ds_status st;
    size_t i;
    if (n) *n = 0;
    if (!b || !b->nvid) return DS_EINVAL;
    st = ds_bpe_encode(b, text, len, ids, cap, n);
    if (st == DS_OK || st == DS_EFULL)
        for (i = 0; i < *n && i < cap; i++) ids[i] = b->vid[ids[i]];
    return st;
}
DSDEF ds_status ds_bpe_decode_vocab(const ds_bpe *b, const uint32_t *ids, size_t n, void *out, size_t cap,
                                    size_t *len) {
    size_t i, need = 0;
    unsigned char *o = (unsigned char *)out;
    if (len) *len = 0;
    if (!b || !len || !b->nvid || (!ids && n) || (!out && cap)) return DS_EINVAL;
    for (i = 0; i < n; i++) {
        size_t tl = 0;
        const unsigned char *t;
        if (ids[i] >= b->nvid || !b->vtok[ids[i]]) return DS_EINVAL;
        t = ds_bpe_token(b, b->vtok[ids[i]] - 1, &tl);
        if (need + tl <= cap) memcpy(o + need, t, tl);
        need += tl;
    }
    *len = need;
    return need > cap ? DS_EFULL : DS_OK;
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_BPE_IMPL */
