/* ds_text.h - text retrieval for ds: inverted index (TF-IDF, BM25), byte-level BPE   v0.2.0
 *
 * An inverted index (ds_index) with compressed, block-skipping posting
 * lists, top-k queries with MaxScore dynamic pruning, the seed's TF-IDF and
 * SQLite FTS5's BM25 (same scores on the same tokens), delete and update,
 * versioned and checksummed save/load; a UTF-8 aware word tokenizer;
 * reciprocal-rank fusion (ds_rrf_fuse) to merge a BM25 ranking with a
 * vector ranking from ds_hnsw.h; and a byte-level BPE tokenizer (ds_bpe):
 * training with incremental pair counts, encoding by merge rank, decoding,
 * save/load of the merge table.
 *
 * Needs ds.h (included below). In exactly one file:
 *
 *     #define DS_IMPLEMENTATION        (or DS_TEXT_IMPLEMENTATION)
 *     #include "ds_text.h"
 *
 * (DS_TEXT_IMPLEMENTATION alone compiles only this header's half; ds.h's
 * implementation must then come from another file.) Link with -lm.
 *
 * QUICK START
 *     ds_index ix;
 *     ds_index_hit hits[10];
 *     size_t n;
 *     ds_index_init(&ix, NULL, NULL);                  // BM25 k1 1.2, b 0.75
 *     ds_index_put(&ix, 1, "the quick brown fox", 19);
 *     ds_index_put(&ix, 2, "a lazy dog", 10);
 *     ds_index_search(&ix, "fox dog", 7, DS_INDEX_BM25, 10, hits, &n, NULL);
 *     ds_index_free(&ix);
 *
 * TABLE OF CONTENTS (tags mark banners in both halves)
 *   ds_text:tokenize   the default UTF-8 aware word splitter
 *   ds_text:index      ds_index: inverted index, TF-IDF, BM25, top-k, save/load
 *   ds_text:rrf        reciprocal-rank fusion of ranked lists
 *   ds_text:bpe        ds_bpe: byte-level BPE training, encode, decode, save/load
 *
 * OPTIONS
 *   Allocation, assertions and linkage follow ds.h (DS_MALLOC..., DSDEF).
 *
 * ERRORS
 *   As ds.h: DS_EINVAL for bad input (NULL, k = 0, a zero-length token, a
 *   vocabulary below 256, bad parameters), DS_EEXIST for a document
 *   inserted twice, DS_ENOTFOUND for an unknown document, DS_EFULL when
 *   a caller's output buffer is too small (BPE) or a 32-bit limit is
 *   reached, DS_ENOMEM with the structure left as it was, DS_ECORRUPT from
 *   load.
 *
 * THREAD SAFETY
 *   Index searches, has, len, info and save only read and may run
 *   concurrently; every other index call needs exclusive access.
 *   ds_bpe_encode updates the word cache: one thread at a time per ds_bpe
 *   (or give each thread its own copy); decode and save only read.
 */
#ifndef DS_TEXT_H_INCLUDED
#define DS_TEXT_H_INCLUDED

#include "ds.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * == ds_text:tokenize ==  the default word splitter
 * ========================================================================
 * A token is a maximal run of word characters: ASCII letters and digits,
 * and every well-formed UTF-8 sequence of two to four bytes except the
 * Latin-1 punctuation block (U+0080..U+00BF, U+00D7, U+00F7), General
 * Punctuation (U+2000..U+206F) and CJK punctuation (U+3000..U+303F).
 * Everything else (ASCII punctuation and space, control bytes, malformed
 * UTF-8) separates tokens. ASCII letters are lowercased, and so are the
 * upper-case letters of Latin-1 (U+00C0..U+00DE), Greek (U+0391..U+03A9)
 * and Cyrillic (U+0400..U+042F); nothing else is folded (no diacritic
 * removal, no stemming). The output therefore never holds an ASCII
 * separator, so the same tokens joined by spaces pass unchanged through
 * SQLite FTS5's "ascii" tokenizer (tests/test_text_fts5.c relies on this).
 *
 *   typedef ds_status (*ds_text_emit)(void *ectx, const char *tok, size_t len)
 *          receives each token (valid during the call); a status other
 *          than DS_OK stops the tokenizer, which returns it.
 *   ds_status ds_text_tokenize(const char *text, size_t len, ds_text_emit emit, void *ectx)
 *          splits text[0..len) (text may be NULL when len is 0).
 *          Lowercasing never changes a token's length. Runs longer than
 *          DS_TEXT_MAX_TOKEN bytes are cut into pieces of at most that
 *          (at character boundaries). O(len), no allocation.
 *          DS_EINVAL: emit NULL, or text NULL with len > 0.
 *          Thread-safe (no state).
 *
 * A user tokenizer (ds_index_set_tokenizer) has the same shape as
 * ds_text_tokenize with a context: it calls emit once per token.
 */
#define DS_TEXT_MAX_TOKEN 255 /* longer word runs are cut into pieces this long */

typedef ds_status (*ds_text_emit)(void *ectx, const char *tok, size_t len);
typedef ds_status (*ds_text_tokenizer)(void *ctx, const char *text, size_t len, ds_text_emit emit,
                                       void *ectx);
DSDEF ds_status ds_text_tokenize(const char *text, size_t len, ds_text_emit emit, void *ectx);

/* ========================================================================
 * == ds_text:index ==  ds_index: inverted index, TF-IDF and BM25, top-k
 * ========================================================================
 * Documents (a uint64 id each) are added as text (through the tokenizer),
 * as a list of tokens, or as a list of uint32 token ids (a BPE encoding,
 * say: id t is stored as the 5-byte term 0xFF + t little-endian, which no
 * UTF-8 token can equal). Each distinct term keeps a posting list of
 * (document, term frequency) pairs in document order, compressed: blocks of
 * up to 128 postings, each posting a variable-byte doc-number delta and a
 * variable-byte frequency (1-2 bytes per posting on real text), and per
 * block a skip entry (last document, byte offset) with the block's largest
 * frequency and shortest document, used as a block-max score bound.
 * With the positions option, each posting also holds the term's token
 * positions in the document (token indices counting every token, stop
 * words included: the first, then the gaps, as varints), right after its
 * frequency; an index without the option stores nothing more.
 *
 * Scoring, over the live documents (N of them, avgdl their mean length in
 * tokens, df(t) the live documents holding term t, tf the term's count in
 * the document, dl the document's length):
 *   DS_INDEX_TFIDF   the seed's TF-IDF: sum over query terms of
 *                    (tf / dl) * log(N / (df + 1))   (may be negative: a
 *                    term in every document scores below one in none)
 *   DS_INDEX_BM25    SQLite FTS5's bm25() (fts5_aux.c), negated back to
 *                    "higher is better": sum over query terms of
 *                    idf * (tf * (k1 + 1)) / (tf + k1 * (1 - b + b * dl / avgdl))
 *                    with idf = log((N - df + 0.5) / (df + 0.5)), and
 *                    idf = 1e-6 where that is <= 0. Same operations in the
 *                    same order as FTS5, so scores agree to the last bits
 *                    on the same tokens (tests/test_text_fts5.c).
 * A query is a set of terms: repeated query terms count once; terms the
 * index has never seen and stop words are dropped. Scores are summed in
 * query order (of first occurrence), so a document's score does not
 * depend on how the search reached it.
 *
 * Top-k: the k best documents by score, ties by ascending document id.
 * A document matches when it holds at least one query term (default) or
 * every query term (DS_INDEX_ALL). Dynamic pruning (MaxScore, Turtle &
 * Flood 1995): lists ordered by their score bound; once the k-th score
 * exceeds the bounds of the weakest lists together, documents found only
 * in those are never scored and the lists are only probed through their
 * skip entries for candidates from the others, each block's bound checked
 * before it is decoded; when a single list is left essential, its blocks
 * whose bound cannot reach the k-th score are skipped undecoded. The
 * result is exactly that of scoring every document (the bounds are upper
 * bounds in floating point, compared with a 1e-9 relative margin);
 * DS_INDEX_EXHAUSTIVE turns pruning off for measurements.
 *
 * Deletes mark the document dead (its postings stay until ds_index_compact
 * or a save/load, and are skipped); statistics (N, df, avgdl) always count
 * live documents only. put on an existing id replaces the document.
 *
 *   ds_index_params ds_index_params_default(void)    k1 1.2, b 0.75, positions 0
 *   ds_status ds_index_init(ds_index *ix, const ds_index_params *p, const ds_alloc *a)
 *          p NULL: defaults. The fields are used as given (b = 0 is a
 *          valid choice), so start from ds_index_params_default().
 *          positions 1 keeps token positions for phrase queries (one
 *          varint per indexed token: 1 byte while the gaps stay under
 *          128; see docs/text.md for measurements). DS_EINVAL: ix NULL, k1 < 0 or not finite, b
 *          outside [0, 1], positions not 0 or 1. Allocates nothing.
 *   void ds_index_free(ds_index *ix)             zeroed or failed-init: no-op
 *   ds_status ds_index_set_tokenizer(ds_index *ix, ds_text_tokenizer fn, void *ctx)
 *          fn NULL: ds_text_tokenize. Used for documents and queries given
 *          as text; not saved (set it again after a load). A zero-length
 *          token from fn gives DS_EINVAL. Change it only while empty,
 *          unless the new one splits the same way.
 *   ds_status ds_index_add_stopword(ds_index *ix, const char *w, size_t len)
 *          w (as the tokenizer outputs it: lowercase) is no longer indexed
 *          nor counted in document lengths from now on, and is dropped from
 *          queries. Documents already indexed keep their postings for it.
 *          DS_EINVAL: len 0 or > DS_TEXT_MAX_TOKEN * 16.
 *   ds_status ds_index_insert(ds_index *ix, uint64_t doc, const char *text, size_t len)
 *          DS_EEXIST if doc is live. A document with no tokens is still a
 *          document (it counts in N, like an FTS5 row) and matches nothing.
 *   ds_status ds_index_put(ds_index *ix, uint64_t doc, const char *text, size_t len)
 *          insert, or replace the live document doc (update).
 *   ds_status ds_index_put_tokens(ds_index *ix, uint64_t doc, const char *const *toks,
 *                                 const size_t *lens, size_t n)
 *   ds_status ds_index_put_ids(ds_index *ix, uint64_t doc, const uint32_t *ids, size_t n)
 *          put with the tokens given (no tokenizer; stop words still apply).
 *          DS_EINVAL: a zero-length token, NULL arrays with n > 0; with
 *          positions, a document of more than 2^32 - 2 tokens.
 *   ds_status ds_index_del(ds_index *ix, uint64_t doc)          DS_ENOTFOUND
 *   int ds_index_has(const ds_index *ix, uint64_t doc)
 *   size_t ds_index_len(const ds_index *ix)       live documents
 *   size_t ds_index_df(const ds_index *ix, const char *term, size_t len)
 *          live documents holding the term (as the tokenizer outputs it);
 *          0 if unknown. O(len).
 *   ds_status ds_index_search(const ds_index *ix, const char *q, size_t len, int flags,
 *                             size_t k, ds_index_hit *hits, size_t *n, ds_index_qstats *st)
 *   ds_status ds_index_search_tokens(const ds_index *ix, const char *const *toks,
 *                                    const size_t *lens, size_t nt, int flags, size_t k,
 *                                    ds_index_hit *hits, size_t *n, ds_index_qstats *st)
 *   ds_status ds_index_search_ids(const ds_index *ix, const uint32_t *ids, size_t nt,
 *                                 int flags, size_t k, ds_index_hit *hits, size_t *n,
 *                                 ds_index_qstats *st)
 *          the top k (hits[0..*n), best first). flags: DS_INDEX_BM25 (0) or
 *          DS_INDEX_TFIDF, | DS_INDEX_ALL, | DS_INDEX_EXHAUSTIVE. st
 *          (optional) counts the postings decoded and documents scored.
 *          DS_EINVAL: k 0, hits or n NULL, unknown flags. DS_ENOMEM: the
 *          query's cursors (about 1.5 KiB per term) and heap (k entries).
 *          A query with more than DS_INDEX_MAX_QTERMS distinct terms keeps
 *          the first DS_INDEX_MAX_QTERMS.
 *   ds_status ds_index_search_phrase(const ds_index *ix, const char *q, size_t len, int flags,
 *                                    size_t k, ds_index_hit *hits, size_t *n, ds_index_qstats *st)
 *   ds_status ds_index_search_phrase_tokens(... toks, lens, nt, flags, k, hits, n, st)
 *   ds_status ds_index_search_phrase_ids(... ids, nt, flags, k, hits, n, st)
 *          the top k documents holding the query's tokens consecutively
 *          and in order (an index with positions only). A stop word inside
 *          the phrase matches any one token; stop words at its ends are
 *          dropped; a phrase of stop words only, or with a term no live
 *          document holds, matches nothing. Scored as one term (SQLite
 *          FTS5's bm25() of a phrase, and the same for TF-IDF): tf = the
 *          phrase's occurrences in the document (overlapping ones count:
 *          "a a" occurs twice in "a a a"), df = the live documents holding
 *          it; a one-word phrase scores as that term. flags: DS_INDEX_BM25
 *          or DS_INDEX_TFIDF (DS_INDEX_ALL and DS_INDEX_EXHAUSTIVE change
 *          nothing). st->docs_scored counts the matching documents.
 *          Exhaustive: every document holding all the terms is checked
 *          (leapfrog over the lists, rarest first, then a merge of the
 *          terms' positions), since df needs every match.
 *          DS_EINVAL: no positions kept, no tokens (or nt 0), more than
 *          DS_INDEX_MAX_QTERMS tokens, k 0, hits or n NULL, unknown flags.
 *          DS_ENOMEM: cursors (about 1.5 KiB per term) and the matches.
 *   ds_status ds_index_compact(ds_index *ix)
 *          drops dead postings and renumbers (through a save and a load in
 *          memory: needs about twice the index's size transiently).
 *   void ds_index_info(const ds_index *ix, ds_index_stats *s)
 *          documents, terms, postings (live and stored), tokens, posting
 *          bytes and every byte the index holds.
 *   ds_status ds_index_save(const ds_index *ix, ds_writer w)
 *   ds_status ds_index_load(ds_index *ix, ds_reader *r, const ds_alloc *a)
 *          format "DSix" v2 (ds.h's ds:io layout): k1, b, flags (1:
 *          positions), counts, then one checksummed payload of
 *          variable-byte fields: every live document's id and length, then
 *          the stop words and terms in byte order with their live postings
 *          (renumbered densely; with positions, each posting's positions
 *          after its frequency), so the
 *          same documents give the same bytes whatever the history. load checks the checksum before
 *          parsing, then every field: counts against the payload's size
 *          before allocating, terms non-empty and in increasing order, document
 *          numbers increasing and in range, frequencies >= 1 and summing to
 *          each document's length, ids distinct, positions increasing
 *          and below 2^32 - 2, no trailing bytes. v1 images (no flags,
 *          saved before positions existed) still load.
 *          DS_ECORRUPT on any mismatch, truncation or bit flip; *ix
 *          untouched on error. save then load gives the same results and
 *          the same saved bytes.
 *
 * Complexity: an add is O(tokens) expected (hashing) plus O(u log u) for
 * its u distinct terms; del O(u); a query O(postings probed) with pruning,
 * at most O(sum of the query terms' list lengths + N_hits log k).
 * Errors: a failed call (DS_ENOMEM included) leaves the index exactly as
 * it was (documents, statistics, results, saved bytes) and its memory too
 * (ds_index_info's memory): an add copies each array it grows and frees
 * the old copies only once nothing can fail.
 * DS_EFULL past 2^32 - 2 documents added since the last compaction, or
 * posting/term/key storage past 4 GiB.
 * Thread-safety: searches, has, len, info and save only read and may run
 * concurrently; every other call needs exclusive access. */
#define DS_INDEX_BM25 0
#define DS_INDEX_TFIDF 1
#define DS_INDEX_ALL 2
#define DS_INDEX_EXHAUSTIVE 4
#define DS_INDEX_MAX_QTERMS 1024

typedef struct ds_index_params {
    double k1;     /* BM25 term-frequency saturation, >= 0 (1.2) */
    double b;      /* BM25 length normalisation, in [0, 1] (0.75) */
    int positions; /* 1: keep each posting's token positions (phrase queries); 0 */
} ds_index_params;

typedef struct ds_index_hit {
    uint64_t doc;
    double score;
} ds_index_hit;

typedef struct ds_index_qstats {
    size_t terms;            /* distinct known query terms */
    size_t postings_total;   /* postings stored in their lists */
    size_t postings_decoded; /* postings decoded while searching */
    size_t docs_scored;      /* documents fully scored */
} ds_index_qstats;

typedef struct ds_index_stats {
    size_t docs, terms, stopwords;
    size_t postings;        /* live (document, term) pairs */
    size_t postings_stored; /* including dead documents' */
    uint64_t tokens;        /* sum of live document lengths */
    size_t posting_bytes;   /* compressed lists, skip entries included (positions not) */
    size_t position_bytes;  /* the positions in those lists (0 without the option) */
    size_t memory;          /* every byte allocated */
} ds_index_stats;

typedef struct ds__ixblk {
    uint32_t off, base, last, maxtf, mindl, cnt;
} ds__ixblk;

typedef struct ds__ixterm {
    unsigned char *data;   /* postings: varint doc delta, varint tf[, tf varint positions] */
    ds__ixblk *blk;        /* closed blocks */
    uint32_t len, cap, nblk, bcap;
    ds__ixblk open;        /* the block being filled */
    uint32_t df, npost;    /* live documents; postings stored */
    uint32_t gmaxtf, gmindl;
    uint32_t koff, klen;   /* the term's bytes in keys */
    uint32_t hash, stop;
} ds__ixterm;

typedef struct ds__ixdoc {
    uint64_t id;
    uint64_t fwd;          /* offset of its sorted term ids (varint deltas) */
    uint32_t len, nterm;   /* tokens, distinct terms */
    uint32_t alive, pad_;
} ds__ixdoc;

typedef struct ds_index {
    ds_index_params p;
    ds__ixterm *terms;
    size_t nterms, tcap, nstop;
    uint64_t *slots;       /* term dictionary: open addressing, hash << 32 | id + 1 */
    size_t nslots;
    char *keys;
    size_t klen, kcap;
    ds__ixdoc *docs;       /* by internal number, in insertion order */
    size_t ndocs, dcap, nlive;
    uint64_t *dslots;      /* document id -> hash's high half << 32 | internal number + 1 */
    size_t ndslots;
    unsigned char *fwd;
    size_t fwdlen, fwdcap;
    uint64_t tokens, live_post, post_bytes, pos_bytes;
    uint64_t seed;
    ds_text_tokenizer tok;
    void *tokctx;
    const ds_alloc *alloc;
} ds_index;

DSDEF ds_index_params ds_index_params_default(void);
DSDEF ds_status ds_index_init(ds_index *ix, const ds_index_params *p, const ds_alloc *a);
DSDEF void ds_index_free(ds_index *ix);
DSDEF ds_status ds_index_set_tokenizer(ds_index *ix, ds_text_tokenizer fn, void *ctx);
DSDEF ds_status ds_index_add_stopword(ds_index *ix, const char *w, size_t len);
DSDEF ds_status ds_index_insert(ds_index *ix, uint64_t doc, const char *text, size_t len);
DSDEF ds_status ds_index_put(ds_index *ix, uint64_t doc, const char *text, size_t len);
DSDEF ds_status ds_index_put_tokens(ds_index *ix, uint64_t doc, const char *const *toks,
                                    const size_t *lens, size_t n);
DSDEF ds_status ds_index_put_ids(ds_index *ix, uint64_t doc, const uint32_t *ids, size_t n);
DSDEF ds_status ds_index_del(ds_index *ix, uint64_t doc);
DSDEF int ds_index_has(const ds_index *ix, uint64_t doc);
DSDEF size_t ds_index_len(const ds_index *ix);
DSDEF size_t ds_index_df(const ds_index *ix, const char *term, size_t len);
DSDEF ds_status ds_index_search(const ds_index *ix, const char *q, size_t len, int flags, size_t k,
                                ds_index_hit *hits, size_t *n, ds_index_qstats *st);
DSDEF ds_status ds_index_search_tokens(const ds_index *ix, const char *const *toks,
                                       const size_t *lens, size_t nt, int flags, size_t k,
                                       ds_index_hit *hits, size_t *n, ds_index_qstats *st);
DSDEF ds_status ds_index_search_ids(const ds_index *ix, const uint32_t *ids, size_t nt, int flags,
                                    size_t k, ds_index_hit *hits, size_t *n, ds_index_qstats *st);
DSDEF ds_status ds_index_search_phrase(const ds_index *ix, const char *q, size_t len, int flags, size_t k,
                                       ds_index_hit *hits, size_t *n, ds_index_qstats *st);
DSDEF ds_status ds_index_search_phrase_tokens(const ds_index *ix, const char *const *toks, const size_t *lens,
                                              size_t nt, int flags, size_t k, ds_index_hit *hits, size_t *n,
                                              ds_index_qstats *st);
DSDEF ds_status ds_index_search_phrase_ids(const ds_index *ix, const uint32_t *ids, size_t nt, int flags,
                                           size_t k, ds_index_hit *hits, size_t *n, ds_index_qstats *st);
DSDEF ds_status ds_index_compact(ds_index *ix);
DSDEF void ds_index_info(const ds_index *ix, ds_index_stats *s);
DSDEF ds_status ds_index_save(const ds_index *ix, ds_writer w);
DSDEF ds_status ds_index_load(ds_index *ix, ds_reader *r, const ds_alloc *a);

/* ========================================================================
 * == ds_text:rrf ==  reciprocal-rank fusion
 * ========================================================================
 * Cormack, Clarke & Buettcher (SIGIR 2009): each document's fused score
 * is the sum over the ranked lists that hold it of 1 / (c + rank), rank
 * counted from 1; c = 60 in the paper (c <= 0 or not finite: 60). Merges
 * a BM25 top-k and a vector top-k (ds_hnsw) into one ranking.
 *   ds_status ds_rrf_fuse(const uint64_t *const *lists, const size_t *lens, size_t nlists,
 *                         double c, size_t k, ds_index_hit *out, size_t *n,
 *                         const ds_alloc *a)
 *          the k best fused documents, ties by ascending id; a document
 *          repeated within one list counts at its best rank there.
 *          DS_EINVAL: out or n NULL, k 0, lists/lens NULL with nlists > 0,
 *          a NULL list with a nonzero length. DS_ENOMEM (scratch of the
 *          total length). O(L log L) for L ids in all. Thread-safe. */
DSDEF ds_status ds_rrf_fuse(const uint64_t *const *lists, const size_t *lens, size_t nlists,
                            double c, size_t k, ds_index_hit *out, size_t *n, const ds_alloc *a);

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


#ifdef __cplusplus
}
#endif
#endif /* DS_TEXT_H_INCLUDED */

#if (defined(DS_IMPLEMENTATION) || defined(DS_TEXT_IMPLEMENTATION)) && !defined(DS_TEXT_IMPLEMENTATION_DONE)
#define DS_TEXT_IMPLEMENTATION_DONE
#include <math.h>
#include <stdlib.h>
#ifdef __cplusplus
extern "C" {
#endif
/* == ds_text:tokenize == */

/* Length of the well-formed UTF-8 sequence at s[0..n) and its code point,
 * or 0 if malformed (overlong, surrogate, > U+10FFFF, truncated). */
static size_t ds__utf8(const unsigned char *s, size_t n, uint32_t *cp) {
    uint32_t c = s[0];
    size_t need, i;
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) { need = 2; c &= 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { need = 3; c &= 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 4; c &= 0x07; }
    else return 0;
    if (n < need) return 0;
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if ((need == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) || (need == 4 && (c < 0x10000 || c > 0x10FFFF)))
        return 0;
    *cp = c;
    return need;
}

static int ds__tx_wordcp(uint32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (c < 0xC0 || c == 0xD7 || c == 0xF7) return 0;
    if (c >= 0x2000 && c <= 0x206F) return 0;
    if (c >= 0x3000 && c <= 0x303F) return 0;
    return 1;
}

/* Lowercase of a word code point, same UTF-8 length. */
static uint32_t ds__tx_lower(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

static size_t ds__utf8_put(unsigned char *o, uint32_t c) {
    if (c < 0x80) { o[0] = (unsigned char)c; return 1; }
    if (c < 0x800) {
        o[0] = (unsigned char)(0xC0 | (c >> 6));
        o[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (c >> 12));
        o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (c >> 18));
    o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}

/* ASCII word bytes, lowercased; 0 for separators. */
static const unsigned char ds__tx_ascii[128] = {
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     48,  49,  50,  51,  52,  53,  54,  55,  56,  57,   0,   0,   0,   0,   0,   0,
      0,  97,  98,  99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,   0,   0,   0,   0,   0,
      0,  97,  98,  99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,   0,   0,   0,   0,   0};

DSDEF ds_status ds_text_tokenize(const char *text, size_t len, ds_text_emit emit, void *ectx) {
    const unsigned char *s = (const unsigned char *)text;
    unsigned char buf[DS_TEXT_MAX_TOKEN + 4];
    size_t i = 0, bl = 0;
    ds_status st;
    if (!emit || (!text && len)) return DS_EINVAL;
    while (i < len) {
        uint32_t c;
        size_t w;
        /* ASCII fast path: letters and digits straight into the token. */
        while (i < len && s[i] < 0x80) {
            unsigned char a = ds__tx_ascii[s[i]];
            if (a) {
                if (bl == DS_TEXT_MAX_TOKEN) {
                    if ((st = emit(ectx, (const char *)buf, bl)) != DS_OK) return st;
                    bl = 0;
                }
                buf[bl++] = a;
            } else if (bl) {
                if ((st = emit(ectx, (const char *)buf, bl)) != DS_OK) return st;
                bl = 0;
            }
            i++;
        }
        if (i >= len) break;
        w = ds__utf8(s + i, len - i, &c);
        if (w && ds__tx_wordcp(c)) {
            if (bl + w > DS_TEXT_MAX_TOKEN) {
                if ((st = emit(ectx, (const char *)buf, bl)) != DS_OK) return st;
                bl = 0;
            }
            bl += ds__utf8_put(buf + bl, ds__tx_lower(c));
            i += w;
            continue;
        }
        if (bl) {
            if ((st = emit(ectx, (const char *)buf, bl)) != DS_OK) return st;
            bl = 0;
        }
        i += w ? w : 1;
    }
    if (bl && (st = emit(ectx, (const char *)buf, bl)) != DS_OK) return st;
    return DS_OK;
}

/* == ds_text:index == */

#define DS__IX_BLOCK 128u
#define DS__IX_MAXDOCS 0xFFFFFFFEu

static size_t ds__vput(unsigned char *o, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        o[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    o[n++] = (unsigned char)v;
    return n;
}
static size_t ds__vlen(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}
/* Trusted decode (the index's own lists). */
static const unsigned char *ds__vget32(const unsigned char *p, uint32_t *v) {
    uint32_t x = 0;
    unsigned sh = 0;
    while (*p & 0x80) {
        x |= (uint32_t)(*p++ & 0x7F) << sh;
        sh += 7;
    }
    *v = x | ((uint32_t)*p++ << sh);
    return p;
}

DSDEF ds_index_params ds_index_params_default(void) {
    ds_index_params p;
    p.k1 = 1.2;
    p.b = 0.75;
    p.positions = 0;
    return p;
}

static int ds__ix_params_ok(const ds_index_params *p) {
    return p->k1 >= 0 && p->k1 <= 1e300 && p->b >= 0 && p->b <= 1 && (p->positions == 0 || p->positions == 1);
}

DSDEF ds_status ds_index_init(ds_index *ix, const ds_index_params *p, const ds_alloc *a) {
    ds_index_params d = ds_index_params_default();
    int here = 0;
    if (!ix) return DS_EINVAL;
    if (p) d = *p;
    if (!ds__ix_params_ok(&d)) return DS_EINVAL;
    memset(ix, 0, sizeof *ix);
    ix->p = d;
    ix->alloc = a;
    /* Per-instance hash seed (untrusted text keys): from the address and a
     * stack address; results never depend on it. */
    ix->seed = ds_mix64((uint64_t)(uintptr_t)ix ^ ((uint64_t)(uintptr_t)&here << 17) ^ 0x7465787469647821ull);
    return DS_OK;
}

static void ds__ix_term_free(const ds_alloc *a, ds__ixterm *t) {
    if (t->data) DS_FREE(a, t->data, t->cap);
    if (t->blk) DS_FREE(a, t->blk, (size_t)t->bcap * sizeof(ds__ixblk));
}

DSDEF void ds_index_free(ds_index *ix) {
    size_t i;
    if (!ix) return;
    for (i = 0; i < ix->nterms; i++) ds__ix_term_free(ix->alloc, &ix->terms[i]);
    if (ix->terms) DS_FREE(ix->alloc, ix->terms, ix->tcap * sizeof(ds__ixterm));
    if (ix->slots) DS_FREE(ix->alloc, ix->slots, ix->nslots * sizeof(uint64_t));
    if (ix->keys) DS_FREE(ix->alloc, ix->keys, ix->kcap);
    if (ix->docs) DS_FREE(ix->alloc, ix->docs, ix->dcap * sizeof(ds__ixdoc));
    if (ix->dslots) DS_FREE(ix->alloc, ix->dslots, ix->ndslots * sizeof(uint64_t));
    if (ix->fwd) DS_FREE(ix->alloc, ix->fwd, ix->fwdcap);
    memset(ix, 0, sizeof *ix);
}

DSDEF ds_status ds_index_set_tokenizer(ds_index *ix, ds_text_tokenizer fn, void *ctx) {
    if (!ix) return DS_EINVAL;
    ix->tok = fn;
    ix->tokctx = ctx;
    return DS_OK;
}

/* ---- growth ----
 * An add reserves everything it needs before it changes anything. So that
 * a failed add also leaves the memory as it was (ds_index_info's memory),
 * growth during an add goes through a journal: each grown array is a new
 * block holding a copy (a rebuilt hash table, a new block), and the old
 * block is kept; on success the old blocks are freed (commit), on failure
 * the new ones are (undo) and the old pointers and capacities come back,
 * newest first. Growing by realloc and shrinking back on failure would
 * rely on shrinks never failing, which a user's allocator need not
 * promise. Posting lists check for room before any of this (most adds
 * grow nothing). Without a journal (load, which builds a fresh index)
 * arrays grow by realloc. */

enum { DS__IXJ_TERMS, DS__IXJ_KEYS, DS__IXJ_SLOTS, DS__IXJ_DOCS, DS__IXJ_FWD, DS__IXJ_DSLOTS, DS__IXJ_TDATA, DS__IXJ_TBLK };
typedef struct ds__ixjent {
    void *old;
    size_t oldcap;
    uint32_t kind, tid;
} ds__ixjent;
#define DS__IXJ_STACK 48
typedef struct ds__ixjour {
    ds__ixjent *e;
    size_t n, cap;
    ds__ixjent s[DS__IXJ_STACK];
} ds__ixjour;

/* Room for `need` entries (6 for the index's arrays + 2 per term touched). */
static ds_status ds__ixj_init(const ds_alloc *a, ds__ixjour *j, size_t need) {
    j->n = 0;
    j->e = j->s;
    j->cap = DS__IXJ_STACK;
    if (need <= DS__IXJ_STACK) return DS_OK;
    if (need > SIZE_MAX / sizeof(ds__ixjent) || !(j->e = (ds__ixjent *)DS_MALLOC(a, need * sizeof(ds__ixjent))))
        return DS_ENOMEM;
    j->cap = need;
    return DS_OK;
}
static void ds__ixj_release(const ds_alloc *a, ds__ixjour *j) {
    if (j->e != j->s) DS_FREE(a, j->e, j->cap * sizeof(ds__ixjent));
    j->e = j->s;
    j->cap = DS__IXJ_STACK;
    j->n = 0;
}

/* Every journaled array: where its pointer and capacity live, its element size. */
typedef struct ds__ixjref {
    void *p;
    size_t cap, elt;
} ds__ixjref;
static ds__ixjref ds__ixj_get(const ds_index *ix, uint32_t kind, uint32_t tid) {
    ds__ixjref r;
    switch (kind) {
    case DS__IXJ_TERMS: r.p = ix->terms; r.cap = ix->tcap; r.elt = sizeof(ds__ixterm); break;
    case DS__IXJ_KEYS: r.p = ix->keys; r.cap = ix->kcap; r.elt = 1; break;
    case DS__IXJ_SLOTS: r.p = ix->slots; r.cap = ix->nslots; r.elt = sizeof(uint64_t); break;
    case DS__IXJ_DOCS: r.p = ix->docs; r.cap = ix->dcap; r.elt = sizeof(ds__ixdoc); break;
    case DS__IXJ_FWD: r.p = ix->fwd; r.cap = ix->fwdcap; r.elt = 1; break;
    case DS__IXJ_DSLOTS: r.p = ix->dslots; r.cap = ix->ndslots; r.elt = sizeof(uint64_t); break;
    case DS__IXJ_TDATA: r.p = ix->terms[tid].data; r.cap = ix->terms[tid].cap; r.elt = 1; break;
    default: r.p = ix->terms[tid].blk; r.cap = ix->terms[tid].bcap; r.elt = sizeof(ds__ixblk); break;
    }
    return r;
}
static void ds__ixj_set(ds_index *ix, uint32_t kind, uint32_t tid, void *p, size_t cap) {
    switch (kind) {
    case DS__IXJ_TERMS: ix->terms = (ds__ixterm *)p; ix->tcap = cap; break;
    case DS__IXJ_KEYS: ix->keys = (char *)p; ix->kcap = cap; break;
    case DS__IXJ_SLOTS: ix->slots = (uint64_t *)p; ix->nslots = cap; break;
    case DS__IXJ_DOCS: ix->docs = (ds__ixdoc *)p; ix->dcap = cap; break;
    case DS__IXJ_FWD: ix->fwd = (unsigned char *)p; ix->fwdcap = cap; break;
    case DS__IXJ_DSLOTS: ix->dslots = (uint64_t *)p; ix->ndslots = cap; break;
    case DS__IXJ_TDATA: ix->terms[tid].data = (unsigned char *)p; ix->terms[tid].cap = (uint32_t)cap; break;
    default: ix->terms[tid].blk = (ds__ixblk *)p; ix->terms[tid].bcap = (uint32_t)cap; break;
    }
}
/* Success: free the replaced blocks. */
static void ds__ixj_commit(ds_index *ix, ds__ixjour *j) {
    size_t i;
    for (i = 0; i < j->n; i++) {
        ds__ixjref r = ds__ixj_get(ix, j->e[i].kind, j->e[i].tid);
        if (j->e[i].old) DS_FREE(ix->alloc, j->e[i].old, j->e[i].oldcap * r.elt);
    }
    ds__ixj_release(ix->alloc, j);
}
/* Failure: free the new blocks, newest first, and put the old ones back. */
static void ds__ixj_undo(ds_index *ix, ds__ixjour *j) {
    while (j->n) {
        ds__ixjent *e = &j->e[--j->n];
        ds__ixjref r = ds__ixj_get(ix, e->kind, e->tid);
        if (r.p) DS_FREE(ix->alloc, r.p, r.cap * r.elt);
        ds__ixj_set(ix, e->kind, e->tid, e->old, e->oldcap);
    }
    ds__ixj_release(ix->alloc, j);
}
/* Array `kind` to hold `need` elements: a new copy recorded in j. */
static ds_status ds__ixj_grow(ds_index *ix, ds__ixjour *j, uint32_t kind, uint32_t tid, size_t need) {
    ds__ixjref r = ds__ixj_get(ix, kind, tid);
    size_t nc, nb, ob;
    void *q;
    if (need <= r.cap) return DS_OK;
    nc = r.cap ? r.cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return DS_ENOMEM;
        nc *= 2;
    }
    if ((kind == DS__IXJ_TDATA || kind == DS__IXJ_TBLK) && nc > 0xFFFFFFFFu) return DS_EFULL;
    if (!ds_size_mul(nc, r.elt, &nb) || !ds_size_mul(r.cap, r.elt, &ob)) return DS_ENOMEM;
    if (!j) { /* in place */
        if (!(q = r.p ? DS_REALLOC(ix->alloc, r.p, ob, nb) : DS_MALLOC(ix->alloc, nb))) return DS_ENOMEM;
        ds__ixj_set(ix, kind, tid, q, nc);
        return DS_OK;
    }
    if (!(q = DS_MALLOC(ix->alloc, nb))) return DS_ENOMEM;
    if (ob) memcpy(q, r.p, ob);
    DS_ASSERT(j->n < j->cap);
    j->e[j->n].old = r.p;
    j->e[j->n].oldcap = r.cap;
    j->e[j->n].kind = kind;
    j->e[j->n].tid = tid;
    j->n++;
    ds__ixj_set(ix, kind, tid, q, nc);
    return DS_OK;
}
/* A rebuilt table replaces array `kind`: the old one is kept in j (or freed). */
static void ds__ixj_replace(ds_index *ix, ds__ixjour *j, uint32_t kind, void *p, size_t cap) {
    ds__ixjref r = ds__ixj_get(ix, kind, 0);
    if (j) {
        DS_ASSERT(j->n < j->cap);
        j->e[j->n].old = r.p;
        j->e[j->n].oldcap = r.cap;
        j->e[j->n].kind = kind;
        j->e[j->n].tid = 0;
        j->n++;
    } else if (r.p) {
        DS_FREE(ix->alloc, r.p, r.cap * r.elt);
    }
    ds__ixj_set(ix, kind, 0, p, cap);
}

static ds_status ds__ix_grow(const ds_alloc *a, void **p, size_t *cap, size_t need, size_t elt) {
    /* *p is a void * of the caller's (see DS__IX_GROW): no type punning. */
    size_t nc, ob, nb;
    void *q;
    if (need <= *cap) return DS_OK;
    nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return DS_ENOMEM;
        nc *= 2;
    }
    if (!ds_size_mul(nc, elt, &nb) || !ds_size_mul(*cap, elt, &ob)) return DS_ENOMEM;
    q = *p ? DS_REALLOC(a, *p, ob, nb) : DS_MALLOC(a, nb);
    if (!q) return DS_ENOMEM;
    *p = q;
    *cap = nc;
    return DS_OK;
}

#define DS__IX_GROW(st, a, ptr, cap, need, T)                       \
    do {                                                            \
        void *q_ = (void *)(ptr);                                   \
        (st) = ds__ix_grow((a), &q_, &(cap), (need), sizeof(T));    \
        (ptr) = (T *)q_;                                            \
    } while (0)

static uint32_t ds__ix_hash(const ds_index *ix, const char *k, size_t n) {
    return (uint32_t)ds_hash_bytes(k, n, ix->seed);
}

/* Slot of term (k, n) in the dictionary, or of the empty slot it would
 * take. Each slot holds the term's hash beside its id, so a probe reads
 * the term's entry and bytes only when the hashes agree. */
static size_t ds__ix_tslot(const ds_index *ix, const char *k, size_t n, uint32_t h) {
    size_t m = ix->nslots - 1, i = h & m;
    for (;;) {
        uint64_t s = ix->slots[i];
        if (!s) return i;
        if ((uint32_t)(s >> 32) == h) {
            const ds__ixterm *t = &ix->terms[(uint32_t)s - 1];
            if (t->klen == n && memcmp(ix->keys + t->koff, k, n) == 0) return i;
        }
        i = (i + 1) & m;
    }
}

static long ds__ix_find_h(const ds_index *ix, const char *k, size_t n, uint32_t h) {
    size_t i;
    if (!ix->nslots) return -1;
    i = ds__ix_tslot(ix, k, n, h);
    return ix->slots[i] ? (long)(uint32_t)ix->slots[i] - 1 : -1;
}
static long ds__ix_find(const ds_index *ix, const char *k, size_t n) {
    return ds__ix_find_h(ix, k, n, ds__ix_hash(ix, k, n));
}

/* Room for `more` new terms and `kbytes` key bytes. */
static ds_status ds__ix_reserve_terms(ds_index *ix, ds__ixjour *jr, size_t more, size_t kbytes) {
    size_t need, ns;
    ds_status st;
    if (!more) return DS_OK;
    if (!ds_size_add(ix->nterms, more, &need) || need > 0xFFFFFFF0u) return DS_EFULL;
    if (!ds_size_add(ix->klen, kbytes, &ns) || ns > 0xFFFFFFF0u) return DS_EFULL;
    if ((st = ds__ixj_grow(ix, jr, DS__IXJ_TERMS, 0, need)) != DS_OK) return st;
    if ((st = ds__ixj_grow(ix, jr, DS__IXJ_KEYS, 0, ns)) != DS_OK) return st;
    if (need * 2 > ix->nslots) {
        size_t nn = ix->nslots ? ix->nslots : 16, i;
        uint64_t *s;
        while (nn < need * 2) nn *= 2;
        if (!(s = (uint64_t *)DS_MALLOC(ix->alloc, nn * sizeof(uint64_t)))) return DS_ENOMEM;
        memset(s, 0, nn * sizeof(uint64_t));
        for (i = 0; i < ix->nterms; i++) {
            size_t j = ix->terms[i].hash & (nn - 1);
            while (s[j]) j = (j + 1) & (nn - 1);
            s[j] = ((uint64_t)ix->terms[i].hash << 32) | ((uint64_t)i + 1);
        }
        ds__ixj_replace(ix, jr, DS__IXJ_SLOTS, s, nn);
    }
    return DS_OK;
}

/* Adds a term (room reserved); returns its id. */
static uint32_t ds__ix_new_term(ds_index *ix, const char *k, size_t n, uint32_t h) {
    size_t i = ds__ix_tslot(ix, k, n, h);
    ds__ixterm *t = &ix->terms[ix->nterms];
    memset(t, 0, sizeof *t);
    t->koff = (uint32_t)ix->klen;
    t->klen = (uint32_t)n;
    t->hash = h;
    t->open.mindl = UINT32_MAX;
    t->gmindl = UINT32_MAX;
    memcpy(ix->keys + ix->klen, k, n);
    ix->klen += n;
    ix->slots[i] = ((uint64_t)h << 32) | ((uint64_t)ix->nterms + 1);
    return (uint32_t)ix->nterms++;
}

/* Room in term tid for one more posting with pbytes of positions (data
 * and, if the open block is full, one more skip entry). */
static ds_status ds__ix_reserve_post(ds_index *ix, ds__ixjour *jr, uint32_t tid, size_t pbytes) {
    const ds__ixterm *t = &ix->terms[tid];
    ds_status st;
    if (pbytes > 0xFFFFFFF0u || (size_t)t->len + 10 + pbytes > 0xFFFFFFF0u) return DS_EFULL;
    if ((size_t)t->len + 10 + pbytes <= t->cap && (t->open.cnt < DS__IX_BLOCK || t->nblk < t->bcap))
        return DS_OK; /* the common case: room already */
    if ((st = ds__ixj_grow(ix, jr, DS__IXJ_TDATA, tid, (size_t)t->len + 10 + pbytes)) != DS_OK) return st;
    t = &ix->terms[tid];
    if (t->open.cnt == DS__IX_BLOCK)
        if ((st = ds__ixj_grow(ix, jr, DS__IXJ_TBLK, tid, (size_t)t->nblk + 1)) != DS_OK) return st;
    return DS_OK;
}

/* Appends (d, tf) to t; room reserved; d above every doc in t. */
static void ds__ix_append(ds_index *ix, ds__ixterm *t, uint32_t d, uint32_t tf, uint32_t dl) {
    size_t w;
    if (t->open.cnt == DS__IX_BLOCK) {
        t->blk[t->nblk++] = t->open;
        t->open.off = t->len;
        t->open.base = t->open.last;
        t->open.cnt = 0;
        t->open.maxtf = 0;
        t->open.mindl = UINT32_MAX;
        ix->post_bytes += sizeof(ds__ixblk);
    }
    w = ds__vput(t->data + t->len, d - (t->open.cnt ? t->open.last : t->open.base));
    w += ds__vput(t->data + t->len + w, tf);
    t->len += (uint32_t)w;
    ix->post_bytes += w;
    t->open.last = d;
    t->open.cnt++;
    if (tf > t->open.maxtf) t->open.maxtf = tf;
    if (dl < t->open.mindl) t->open.mindl = dl;
    if (tf > t->gmaxtf) t->gmaxtf = tf;
    if (dl < t->gmindl) t->gmindl = dl;
    t->npost++;
    t->df++;
    ix->live_post++;
}

/* Positions of one posting: the token indices first, nxt[first], ...
 * (UINT32_MAX ends the chain), as varints: the first, then the gaps. */
static size_t ds__ix_pos_bytes(size_t first, const uint32_t *nxt) {
    size_t n = 0;
    uint32_t i = (uint32_t)first, prev = 0;
    for (; i != UINT32_MAX; i = nxt[i]) {
        n += ds__vlen(i - prev);
        prev = i;
    }
    return n;
}
static void ds__ix_put_pos(ds_index *ix, ds__ixterm *t, size_t first, const uint32_t *nxt) {
    uint32_t i = (uint32_t)first, prev = 0;
    size_t w = 0;
    for (; i != UINT32_MAX; i = nxt[i]) {
        w += ds__vput(t->data + t->len + w, i - prev);
        prev = i;
    }
    t->len += (uint32_t)w;
    ix->pos_bytes += w;
}
/* Skips the n varints at p (a posting's positions). */
static const unsigned char *ds__ix_skipv(const unsigned char *p, uint32_t n) {
    while (n--)
        while (*p++ & 0x80) {}
    return p;
}

/* Document id map: open addressing; a slot holds the high half of the
 * id's hash (its home slot is that value's low bits) beside the internal
 * number + 1, so a probe reads the document only when the halves agree. */
static uint32_t ds__ix_dhash(const ds_index *ix, uint64_t id) { return (uint32_t)(ds_hash_u64(id, ix->seed) >> 32); }
static size_t ds__ix_dslot(const ds_index *ix, uint64_t id) {
    uint32_t h = ds__ix_dhash(ix, id);
    size_t m = ix->ndslots - 1, i = h & m;
    for (;;) {
        uint64_t s = ix->dslots[i];
        if (!s || ((uint32_t)(s >> 32) == h && ix->docs[(uint32_t)s - 1].id == id)) return i;
        i = (i + 1) & m;
    }
}
static uint64_t ds__ix_dval(const ds_index *ix, uint64_t id, uint32_t num) {
    return ((uint64_t)ds__ix_dhash(ix, id) << 32) | ((uint64_t)num + 1);
}
static long ds__ix_doc(const ds_index *ix, uint64_t id) {
    size_t i;
    if (!ix->ndslots) return -1;
    i = ds__ix_dslot(ix, id);
    return ix->dslots[i] ? (long)(uint32_t)ix->dslots[i] - 1 : -1;
}
static ds_status ds__ix_reserve_docs(ds_index *ix, ds__ixjour *jr, size_t fwdbytes) {
    ds_status st;
    size_t need;
    if (ix->ndocs >= DS__IX_MAXDOCS) return DS_EFULL;
    if ((st = ds__ixj_grow(ix, jr, DS__IXJ_DOCS, 0, ix->ndocs + 1)) != DS_OK) return st;
    if (!ds_size_add(ix->fwdlen, fwdbytes, &need)) return DS_ENOMEM;
    if ((st = ds__ixj_grow(ix, jr, DS__IXJ_FWD, 0, need)) != DS_OK) return st;
    if ((ix->nlive + 1) * 2 > ix->ndslots) {
        size_t nn = ix->ndslots ? ix->ndslots : 16, i;
        uint64_t *s;
        while (nn < (ix->nlive + 1) * 2) nn *= 2;
        if (!(s = (uint64_t *)DS_MALLOC(ix->alloc, nn * sizeof(uint64_t)))) return DS_ENOMEM;
        memset(s, 0, nn * sizeof(uint64_t));
        for (i = 0; i < ix->ndocs; i++) {
            size_t j;
            uint64_t v;
            if (!ix->docs[i].alive) continue;
            v = ds__ix_dval(ix, ix->docs[i].id, (uint32_t)i);
            j = (size_t)(v >> 32) & (nn - 1);
            while (s[j]) j = (j + 1) & (nn - 1);
            s[j] = v;
        }
        ds__ixj_replace(ix, jr, DS__IXJ_DSLOTS, s, nn);
    }
    return DS_OK;
}
static void ds__ix_dmap_del(ds_index *ix, uint64_t id) {
    size_t m = ix->ndslots - 1, i = ds__ix_dslot(ix, id), j = i;
    ix->dslots[i] = 0;
    for (;;) { /* backward-shift deletion */
        size_t h;
        j = (j + 1) & m;
        if (!ix->dslots[j]) break;
        h = (size_t)(ix->dslots[j] >> 32) & m;
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            ix->dslots[i] = ix->dslots[j];
            ix->dslots[j] = 0;
            i = j;
        }
    }
}

/* Marks internal doc d dead: df of each of its terms, stats. */
static void ds__ix_kill(ds_index *ix, uint32_t d) {
    ds__ixdoc *doc = &ix->docs[d];
    const unsigned char *p = doc->nterm ? ix->fwd + doc->fwd : NULL; /* no terms: fwd may be NULL */
    uint32_t i, tid = 0;
    for (i = 0; i < doc->nterm; i++) {
        uint32_t delta;
        p = ds__vget32(p, &delta);
        tid += delta;
        ix->terms[tid].df--;
    }
    ix->live_post -= doc->nterm;
    ix->tokens -= doc->len;
    ds__ix_dmap_del(ix, doc->id);
    doc->alive = 0;
    ix->nlive--;
}

/* ---- adding a document ---- */

/* The tokens of one document or query, gathered before anything changes. */
#define DS__IX_SBYTES 1024
#define DS__IX_SOFF 128
typedef struct ds__ixtoks {
    char *bytes;
    size_t blen, bcap;
    size_t *off;   /* token i: bytes[off[i] .. off[i + 1]) */
    size_t n, ocap;
    ds_status st;
    const ds_alloc *a;
    char sbytes[DS__IX_SBYTES]; /* small documents need no allocation */
    size_t soff[DS__IX_SOFF];
} ds__ixtoks;

static void ds__ixtoks_init(ds__ixtoks *t, const ds_alloc *a) {
    t->bytes = t->sbytes;
    t->blen = 0;
    t->bcap = DS__IX_SBYTES;
    t->off = t->soff;
    t->n = 0;
    t->ocap = DS__IX_SOFF;
    t->st = DS_OK;
    t->a = a;
}

/* Growth of a buffer that starts in caller storage (inl). */
static ds_status ds__ix_grow_inl(const ds_alloc *a, void **p, size_t *cap, size_t need, size_t elt,
                                 const void *inl) {
    void *q;
    size_t nc;
    if (need <= *cap) return DS_OK;
    if (*p != inl) return ds__ix_grow(a, p, cap, need, elt);
    nc = *cap * 2;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return DS_ENOMEM;
        nc *= 2;
    }
    if (nc > SIZE_MAX / elt || !(q = DS_MALLOC(a, nc * elt))) return DS_ENOMEM;
    memcpy(q, *p, *cap * elt);
    *p = q;
    *cap = nc;
    return DS_OK;
}

static ds_status ds__ixtoks_emit(void *ctx, const char *tok, size_t len) {
    ds__ixtoks *t = (ds__ixtoks *)ctx;
    size_t need;
    ds_status st;
    if (!len || !tok) return DS_EINVAL;
    if (!ds_size_add(t->blen, len, &need)) return DS_ENOMEM;
    if (need > t->bcap || t->n + 2 > t->ocap) {
        void *q = t->bytes;
        if ((st = ds__ix_grow_inl(t->a, &q, &t->bcap, need, 1, t->sbytes)) != DS_OK) return st;
        t->bytes = (char *)q;
        q = t->off;
        if ((st = ds__ix_grow_inl(t->a, &q, &t->ocap, t->n + 2, sizeof(size_t), t->soff)) != DS_OK) return st;
        t->off = (size_t *)q;
    }
    memcpy(t->bytes + t->blen, tok, len);
    if (t->n == 0) t->off[0] = 0;
    t->blen += len;
    t->off[++t->n] = t->blen;
    return DS_OK;
}
static void ds__ixtoks_free(ds__ixtoks *t) {
    if (t->bytes != t->sbytes) DS_FREE(t->a, t->bytes, t->bcap);
    if (t->off != t->soff) DS_FREE(t->a, t->off, t->ocap * sizeof(size_t));
    ds__ixtoks_init(t, t->a);
}

/* Distinct tokens of a document: a small open-addressing table. */
typedef struct ds__ixdist {
    size_t first;  /* token index of the first occurrence */
    uint32_t tf, hash;
    long term;     /* existing term id, or -1 (new) */
    uint32_t tid;  /* term id once committed */
    uint32_t last; /* token index of the last occurrence (positions) */
} ds__ixdist;

static int ds__ix_cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Builds the distinct-token table of toks: fills *dist (allocated, ndist
 * entries) and the document length (non-stop tokens); with nxt, chains
 * each non-stop token to the next occurrence of its term (positions). */
#define DS__IX_SDIST 64
static ds_status ds__ix_distinct(const ds_index *ix, const ds__ixtoks *tk, ds__ixdist *sd, ds__ixdist **dist,
                                 size_t *ndist, size_t *dcap_out, uint64_t *dlen, uint32_t *nxt) {
    size_t cap = 16, i, nd = 0, *tab, tb, stab[2 * DS__IX_SDIST];
    ds__ixdist *d = sd;
    uint64_t len = 0;
    while (cap < tk->n * 2) cap *= 2;
    if (!ds_size_mul(cap, sizeof(size_t), &tb)) return DS_ENOMEM;
    if (cap <= 2 * DS__IX_SDIST) {
        tab = stab;
    } else {
        if (!(tab = (size_t *)DS_MALLOC(ix->alloc, tb))) return DS_ENOMEM;
        if (!(d = (ds__ixdist *)DS_MALLOC(ix->alloc, tk->n * sizeof(ds__ixdist)))) {
            DS_FREE(ix->alloc, tab, tb);
            return DS_ENOMEM;
        }
    }
    memset(tab, 0, tb);
    for (i = 0; i < tk->n; i++) {
        const char *k = tk->bytes + tk->off[i];
        size_t n = tk->off[i + 1] - tk->off[i], j;
        uint32_t h = ds__ix_hash(ix, k, n);
        j = h & (cap - 1);
        while (tab[j]) {
            ds__ixdist *e = &d[tab[j] - 1];
            size_t en = tk->off[e->first + 1] - tk->off[e->first];
            if (e->hash == h && en == n && memcmp(tk->bytes + tk->off[e->first], k, n) == 0) break;
            j = (j + 1) & (cap - 1);
        }
        if (tab[j]) {
            ds__ixdist *e = &d[tab[j] - 1];
            if (e->term >= 0 && ix->terms[e->term].stop) continue;
            e->tf++;
            len++;
            if (nxt) {
                nxt[e->last] = (uint32_t)i;
                nxt[i] = UINT32_MAX;
                e->last = (uint32_t)i;
            }
            continue;
        }
        d[nd].first = i;
        d[nd].tf = 1;
        d[nd].hash = h;
        d[nd].term = ds__ix_find_h(ix, k, n, h);
        d[nd].tid = 0;
        d[nd].last = (uint32_t)i;
        if (nxt) nxt[i] = UINT32_MAX;
        tab[j] = ++nd;
        if (d[nd - 1].term >= 0 && ix->terms[d[nd - 1].term].stop) d[nd - 1].tf = 0;
        else len++;
    }
    if (tab != stab) DS_FREE(ix->alloc, tab, tb);
    *dist = d;
    *ndist = nd;
    *dcap_out = d == sd ? 0 : tk->n;
    *dlen = len;
    return DS_OK;
}

#define DS__IX_SNXT 256
static ds_status ds__ix_add_toks(ds_index *ix, uint64_t id, const ds__ixtoks *tk, int replace) {
    ds__ixdist sd[DS__IX_SDIST], *d = NULL;
    size_t nd = 0, dcap = 0, i, nnew = 0, kb = 0, fwdb = 0, k = 0, nexist = 0, dsl = 0, ndsl = ix->ndslots;
    uint64_t dlen = 0;
    long old = -1;
    ds_status st;
    uint32_t dn, prev = 0, snxt[DS__IX_SNXT], *nxt = NULL, stids[DS__IX_SDIST], *tids = stids;
    unsigned char **bufs = NULL;
    size_t *bcaps = NULL;
    ds__ixjour jr;
    int pos = ix->p.positions;
    if (ndsl) { /* the slot is kept for the insertion, unless the table changes */
        dsl = ds__ix_dslot(ix, id);
        if (ix->dslots[dsl]) old = (long)(uint32_t)ix->dslots[dsl] - 1;
    }
    if (old >= 0 && !replace) return DS_EEXIST;
    if (pos) {
        /* positions are uint32 token indices */
        if (tk->n > 0xFFFFFFFEu) return DS_EINVAL;
        if (tk->n <= DS__IX_SNXT) nxt = snxt;
        else if (!(nxt = (uint32_t *)DS_MALLOC(ix->alloc, tk->n * sizeof(uint32_t)))) return DS_ENOMEM;
    }
    jr.e = jr.s;
    jr.cap = DS__IXJ_STACK;
    jr.n = 0;
    if ((st = ds__ix_distinct(ix, tk, sd, &d, &nd, &dcap, &dlen, nxt)) != DS_OK) goto out;
    if (dlen > 0xFFFFFFFEu) {
        st = DS_EINVAL;
        goto out;
    }
    if (nd > DS__IX_SDIST && !(tids = (uint32_t *)DS_MALLOC(ix->alloc, nd * sizeof(uint32_t)))) {
        tids = stids;
        st = DS_ENOMEM;
        goto out;
    }
    for (i = 0; i < nd; i++) {
        if (d[i].term < 0) {
            nnew++;
            kb += tk->off[d[i].first + 1] - tk->off[d[i].first];
        } else if (d[i].tf) {
            nexist++;
        }
        if (d[i].tf) fwdb += 5;
    }
    /* Reserve everything (journaled), then commit: nothing below fails. */
    if ((st = ds__ixj_init(ix->alloc, &jr, 6 + 2 * nexist)) != DS_OK) goto out;
    if ((st = ds__ix_reserve_terms(ix, &jr, nnew, kb)) != DS_OK) goto undo;
    if ((st = ds__ix_reserve_docs(ix, &jr, fwdb)) != DS_OK) goto undo;
    for (i = 0; i < nd && st == DS_OK; i++)
        if (d[i].term >= 0 && d[i].tf)
            st = ds__ix_reserve_post(ix, &jr, (uint32_t)d[i].term, pos ? ds__ix_pos_bytes(d[i].first, nxt) : 0);
    if (st != DS_OK) goto undo;
    /* New terms' buffers: allocate them all before any is added. */
    if (nnew) {
        size_t m = 0;
        if (!(bufs = (unsigned char **)DS_MALLOC(ix->alloc, nnew * (sizeof *bufs + sizeof *bcaps)))) {
            st = DS_ENOMEM;
            goto undo;
        }
        bcaps = (size_t *)(void *)(bufs + nnew);
        for (i = 0; i < nd; i++) {
            size_t c = 16;
            if (d[i].term >= 0) continue;
            if (pos && d[i].tf) {
                size_t need = 10 + ds__ix_pos_bytes(d[i].first, nxt);
                while (c < need) c *= 2;
            }
            bcaps[m] = c;
            if (!(bufs[m] = (unsigned char *)DS_MALLOC(ix->alloc, c))) break;
            m++;
        }
        if (m < nnew) {
            while (m-- > 0) DS_FREE(ix->alloc, bufs[m], bcaps[m]);
            DS_FREE(ix->alloc, bufs, nnew * (sizeof *bufs + sizeof *bcaps));
            bufs = NULL;
            st = DS_ENOMEM;
            goto undo;
        }
    }
    /* Commit. */
    ds__ixj_commit(ix, &jr);
    if (old >= 0) ds__ix_kill(ix, (uint32_t)old);
    for (i = 0; i < nd; i++) {
        if (d[i].term < 0) {
            const char *kp = tk->bytes + tk->off[d[i].first];
            uint32_t t = ds__ix_new_term(ix, kp, tk->off[d[i].first + 1] - tk->off[d[i].first], d[i].hash);
            ix->terms[t].data = bufs[k];
            ix->terms[t].cap = (uint32_t)bcaps[k];
            k++;
            d[i].tid = t;
        } else {
            d[i].tid = (uint32_t)d[i].term;
        }
    }
    if (bufs) DS_FREE(ix->alloc, bufs, nnew * (sizeof *bufs + sizeof *bcaps));
    dn = (uint32_t)ix->ndocs;
    ix->docs[dn].id = id;
    ix->docs[dn].fwd = ix->fwdlen;
    ix->docs[dn].len = (uint32_t)dlen;
    ix->docs[dn].alive = 1;
    ix->docs[dn].pad_ = 0;
    /* Postings in any term order; the forward list wants the term ids sorted. */
    k = 0;
    for (i = 0; i < nd; i++) {
        ds__ixterm *t;
        if (!d[i].tf) continue;
        t = &ix->terms[d[i].tid];
        ds__ix_append(ix, t, dn, d[i].tf, (uint32_t)dlen);
        if (pos) ds__ix_put_pos(ix, t, d[i].first, nxt);
        tids[k++] = d[i].tid;
    }
    if (k > 32) {
        qsort(tids, k, sizeof *tids, ds__ix_cmp_u32);
    } else { /* insertion sort: documents have few distinct terms */
        for (i = 1; i < k; i++) {
            uint32_t x = tids[i];
            size_t j = i;
            while (j && tids[j - 1] > x) {
                tids[j] = tids[j - 1];
                j--;
            }
            tids[j] = x;
        }
    }
    for (i = 0; i < k; i++) {
        ix->fwdlen += ds__vput(ix->fwd + ix->fwdlen, tids[i] - prev); /* reserved: fwd is not NULL */
        prev = tids[i];
    }
    ix->docs[dn].nterm = (uint32_t)k;
    ix->ndocs++;
    ix->nlive++;
    ix->tokens += dlen;
    if (old >= 0 || ix->ndslots != ndsl) dsl = ds__ix_dslot(ix, id); /* a deletion shifted it, or a rehash */
    ix->dslots[dsl] = ds__ix_dval(ix, id, dn);
    goto out;
undo:
    ds__ixj_undo(ix, &jr);
out:
    if (d && d != sd) DS_FREE(ix->alloc, d, dcap * sizeof(ds__ixdist));
    if (nxt && nxt != snxt) DS_FREE(ix->alloc, nxt, tk->n * sizeof(uint32_t));
    if (tids != stids) DS_FREE(ix->alloc, tids, nd * sizeof(uint32_t));
    return st;
}

static ds_status ds__ix_tokenize(const ds_index *ix, const char *text, size_t len, ds__ixtoks *tk) {
    ds_status st;
    ds__ixtoks_init(tk, ix->alloc);
    if (!text && len) return DS_EINVAL;
    st = ix->tok ? ix->tok(ix->tokctx, text, len, ds__ixtoks_emit, tk)
                 : ds_text_tokenize(text, len, ds__ixtoks_emit, tk);
    if (st != DS_OK) ds__ixtoks_free(tk);
    return st;
}

static ds_status ds__ix_put_text(ds_index *ix, uint64_t doc, const char *text, size_t len, int replace) {
    ds__ixtoks tk;
    ds_status st;
    if (!ix || (!text && len)) return DS_EINVAL;
    if (!replace && ds__ix_doc(ix, doc) >= 0) return DS_EEXIST;
    if ((st = ds__ix_tokenize(ix, text, len, &tk)) != DS_OK) return st;
    st = ds__ix_add_toks(ix, doc, &tk, replace);
    ds__ixtoks_free(&tk);
    return st;
}

DSDEF ds_status ds_index_insert(ds_index *ix, uint64_t doc, const char *text, size_t len) {
    return ds__ix_put_text(ix, doc, text, len, 0);
}
DSDEF ds_status ds_index_put(ds_index *ix, uint64_t doc, const char *text, size_t len) {
    return ds__ix_put_text(ix, doc, text, len, 1);
}

static ds_status ds__ix_toks_from(const ds_index *ix, const char *const *toks, const size_t *lens,
                                  const uint32_t *ids, size_t n, ds__ixtoks *tk) {
    size_t i;
    ds_status st = DS_OK;
    ds__ixtoks_init(tk, ix->alloc);
    for (i = 0; i < n && st == DS_OK; i++) {
        if (ids) {
            unsigned char b[5];
            b[0] = 0xFF;
            b[1] = (unsigned char)ids[i];
            b[2] = (unsigned char)(ids[i] >> 8);
            b[3] = (unsigned char)(ids[i] >> 16);
            b[4] = (unsigned char)(ids[i] >> 24);
            st = ds__ixtoks_emit(tk, (const char *)b, 5);
        } else {
            st = toks[i] ? ds__ixtoks_emit(tk, toks[i], lens[i]) : DS_EINVAL;
        }
    }
    if (st != DS_OK) ds__ixtoks_free(tk);
    return st;
}

DSDEF ds_status ds_index_put_tokens(ds_index *ix, uint64_t doc, const char *const *toks, const size_t *lens,
                                    size_t n) {
    ds__ixtoks tk;
    ds_status st;
    if (!ix || (n && (!toks || !lens))) return DS_EINVAL;
    if ((st = ds__ix_toks_from(ix, toks, lens, NULL, n, &tk)) != DS_OK) return st;
    st = ds__ix_add_toks(ix, doc, &tk, 1);
    ds__ixtoks_free(&tk);
    return st;
}
DSDEF ds_status ds_index_put_ids(ds_index *ix, uint64_t doc, const uint32_t *ids, size_t n) {
    ds__ixtoks tk;
    ds_status st;
    if (!ix || (n && !ids)) return DS_EINVAL;
    if ((st = ds__ix_toks_from(ix, NULL, NULL, ids, n, &tk)) != DS_OK) return st;
    st = ds__ix_add_toks(ix, doc, &tk, 1);
    ds__ixtoks_free(&tk);
    return st;
}

DSDEF ds_status ds_index_add_stopword(ds_index *ix, const char *w, size_t len) {
    long t;
    ds_status st;
    if (!ix || !w || !len || len > DS_TEXT_MAX_TOKEN * 16) return DS_EINVAL;
    t = ds__ix_find(ix, w, len);
    if (t < 0) {
        ds__ixjour jr;
        (void)ds__ixj_init(ix->alloc, &jr, 3); /* on the stack: cannot fail */
        if ((st = ds__ix_reserve_terms(ix, &jr, 1, len)) != DS_OK) {
            ds__ixj_undo(ix, &jr);
            return st;
        }
        ds__ixj_commit(ix, &jr);
        t = (long)ds__ix_new_term(ix, w, len, ds__ix_hash(ix, w, len));
    }
    if (!ix->terms[t].stop) {
        ix->terms[t].stop = 1;
        ix->nstop++;
    }
    return DS_OK;
}

DSDEF ds_status ds_index_del(ds_index *ix, uint64_t doc) {
    long d;
    if (!ix) return DS_EINVAL;
    if ((d = ds__ix_doc(ix, doc)) < 0) return DS_ENOTFOUND;
    ds__ix_kill(ix, (uint32_t)d);
    return DS_OK;
}
DSDEF int ds_index_has(const ds_index *ix, uint64_t doc) { return ix && ds__ix_doc(ix, doc) >= 0; }
DSDEF size_t ds_index_len(const ds_index *ix) { return ix ? ix->nlive : 0; }
DSDEF size_t ds_index_df(const ds_index *ix, const char *term, size_t len) {
    long t;
    if (!ix || !term || !len || (t = ds__ix_find(ix, term, len)) < 0) return 0;
    return ix->terms[t].df;
}

DSDEF void ds_index_info(const ds_index *ix, ds_index_stats *s) {
    size_t i, mem = 0;
    if (!s) return;
    memset(s, 0, sizeof *s);
    if (!ix) return;
    s->docs = ix->nlive;
    s->stopwords = ix->nstop;
    s->postings = (size_t)ix->live_post;
    s->tokens = ix->tokens;
    for (i = 0; i < ix->nterms; i++) {
        const ds__ixterm *t = &ix->terms[i];
        if (t->df) s->terms++;
        s->postings_stored += t->npost;
        mem += t->cap + (size_t)t->bcap * sizeof(ds__ixblk);
    }
    s->posting_bytes = (size_t)ix->post_bytes;
    s->position_bytes = (size_t)ix->pos_bytes;
    mem += ix->tcap * sizeof(ds__ixterm) + ix->nslots * 8 + ix->kcap + ix->dcap * sizeof(ds__ixdoc) +
           ix->ndslots * 8 + ix->fwdcap;
    s->memory = mem;
}

/* ---- search ---- */

typedef struct ds__ixcur {
    const ds__ixterm *t;
    uint32_t bi, nb;      /* block index; blocks (closed + open) */
    uint32_t pos, n;      /* position in the decoded block */
    uint32_t cur;         /* current doc, UINT32_MAX at the end */
    uint32_t qi;          /* query position */
    uint32_t loaded;      /* doc/tf hold block bi (else cur is a lower bound) */
    double idf, ub;
    uint32_t doc[DS__IX_BLOCK], tf[DS__IX_BLOCK];
    uint32_t poff[DS__IX_BLOCK]; /* positions: offset of each posting's in data */
} ds__ixcur;

typedef struct ds__ixq {
    const ds_index *ix;
    int tfidf;
    double k1, b, avgdl;
    size_t decoded;
} ds__ixq;

static const ds__ixblk *ds__ix_block(const ds__ixterm *t, uint32_t bi) {
    return bi < t->nblk ? &t->blk[bi] : &t->open;
}

static void ds__ixcur_load(ds__ixq *q, ds__ixcur *c) {
    const ds__ixblk *b = ds__ix_block(c->t, c->bi);
    const unsigned char *p = c->t->data + b->off;
    uint32_t i, d = b->base, v;
    if (q->ix->p.positions) {
        for (i = 0; i < b->cnt; i++) {
            p = ds__vget32(p, &v);
            d += v;
            c->doc[i] = d;
            p = ds__vget32(p, &c->tf[i]);
            c->poff[i] = (uint32_t)(p - c->t->data);
            p = ds__ix_skipv(p, c->tf[i]);
        }
    } else {
        for (i = 0; i < b->cnt; i++) {
            p = ds__vget32(p, &v);
            d += v;
            c->doc[i] = d;
            p = ds__vget32(p, &c->tf[i]);
        }
    }
    c->n = b->cnt;
    c->pos = 0;
    c->loaded = 1;
    c->cur = c->n ? c->doc[0] : UINT32_MAX;
    q->decoded += b->cnt;
}

/* Moves c to the block that may hold target, through the skip entries
 * only (nothing decoded): 0 if the list ends before target. */
static int ds__ixcur_skip(ds__ixcur *c, uint32_t target) {
    if (c->cur == UINT32_MAX) return 0;
    if (ds__ix_block(c->t, c->bi)->last < target) {
        c->bi++;
        while (c->bi < c->nb && ds__ix_block(c->t, c->bi)->last < target) c->bi++;
        if (c->bi >= c->nb) {
            c->cur = UINT32_MAX;
            return 0;
        }
        c->loaded = 0;
        c->cur = ds__ix_block(c->t, c->bi)->base + 1; /* bi > 0 here */
    }
    return 1;
}
/* Moves c to its first posting with doc >= target. */
static void ds__ixcur_seek(ds__ixq *q, ds__ixcur *c, uint32_t target) {
    if (c->loaded && c->cur >= target) return;
    if (!ds__ixcur_skip(c, target)) return;
    if (!c->loaded) ds__ixcur_load(q, c);
    while (c->doc[c->pos] < target) c->pos++;
    c->cur = c->doc[c->pos];
}
static void ds__ixcur_next(ds__ixq *q, ds__ixcur *c) {
    if (c->cur == UINT32_MAX) return;
    if (++c->pos < c->n) {
        c->cur = c->doc[c->pos];
        return;
    }
    if (++c->bi >= c->nb) {
        c->cur = UINT32_MAX;
        return;
    }
    ds__ixcur_load(q, c);
}

static double ds__ix_contrib(const ds__ixq *q, double idf, uint32_t tf, uint32_t dl) {
    if (q->tfidf) return ((double)tf / (double)dl) * idf;
    {
        double f = (double)tf, D = (double)dl, k1 = q->k1, b = q->b;
        return idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * D / q->avgdl)));
    }
}
/* An upper bound of every contribution of a list whose postings have
 * tf <= maxtf and dl >= mindl (each operation is monotone in floating
 * point, so it bounds the computed values exactly); never negative. */
static double ds__ix_bound(const ds__ixq *q, double idf, uint32_t maxtf, uint32_t mindl) {
    double u;
    if (idf <= 0 || !maxtf) return 0;
    if (q->tfidf) u = idf * (maxtf >= mindl ? 1.0 : (double)maxtf / (double)mindl);
    else u = ds__ix_contrib(q, idf, maxtf, mindl);
    return u > 0 ? u : 0;
}
/* A document bounded by x cannot enter a top-k whose k-th score is theta
 * (1e-9 relative margin for summation order). */
static int ds__ix_prunable(double x, double theta) {
    return x + 1e-9 * (fabs(x) + fabs(theta)) < theta;
}

/* Top-k heap: the worst (lowest score, then highest id) at the root. */
static int ds__ix_worse(const ds_index_hit *a, const ds_index_hit *b) {
    return a->score < b->score || (a->score == b->score && a->doc > b->doc);
}
static void ds__ix_heap_offer(ds_index_hit *h, size_t *n, size_t k, ds_index_hit x) {
    size_t i;
    if (*n < k) {
        i = (*n)++;
        while (i && ds__ix_worse(&x, &h[(i - 1) / 2])) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = x;
        return;
    }
    if (!ds__ix_worse(&h[0], &x)) return;
    i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const ds_index_hit *best = &x;
        if (l < k && ds__ix_worse(&h[l], best)) { m = l; best = &h[l]; }
        if (l + 1 < k && ds__ix_worse(&h[l + 1], best)) m = l + 1;
        if (m == i) break;
        h[i] = h[m];
        i = m;
    }
    h[i] = x;
}

static int ds__ix_cmp_hit(const void *a, const void *b) {
    const ds_index_hit *x = (const ds_index_hit *)a, *y = (const ds_index_hit *)b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}
static int ds__ix_cmp_ub(const void *a, const void *b) {
    const ds__ixcur *x = *(const ds__ixcur *const *)a, *y = *(const ds__ixcur *const *)b;
    if (x->ub != y->ub) return x->ub < y->ub ? -1 : 1;
    return x->qi < y->qi ? -1 : x->qi > y->qi;
}
static int ds__ix_cmp_df(const void *a, const void *b) {
    const ds__ixcur *x = *(const ds__ixcur *const *)a, *y = *(const ds__ixcur *const *)b;
    if (x->t->npost != y->t->npost) return x->t->npost < y->t->npost ? -1 : 1;
    return x->qi < y->qi ? -1 : x->qi > y->qi;
}

/* Scores doc d from contributions c[0..nq) in query order. */
static double ds__ix_sum(const double *c, size_t nq) {
    double s = 0;
    size_t i;
    for (i = 0; i < nq; i++) s += c[i];
    return s;
}

static ds_status ds__ix_run(const ds_index *ix, const ds__ixtoks *tk, int flags, size_t k, ds_index_hit *hits,
                            size_t *nout, ds_index_qstats *st) {
    ds__ixq q;
    ds__ixcur *cur = NULL, **ord = NULL;
    double *c = NULL, *pre = NULL;
    ds_index_hit *heap = NULL;
    size_t nq = 0, i, nh = 0, kk, ne = 0, scored = 0, total = 0;
    int all = (flags & DS_INDEX_ALL) != 0, exh = (flags & DS_INDEX_EXHAUSTIVE) != 0;
    uint32_t *tids = NULL;
    ds_status rc = DS_OK;
    *nout = 0;
    memset(&q, 0, sizeof q);
    q.ix = ix;
    q.tfidf = (flags & DS_INDEX_TFIDF) != 0;
    q.k1 = ix->p.k1;
    q.b = ix->p.b;
    if (st) memset(st, 0, sizeof *st);
    if (!ix->nlive || !tk->n) return DS_OK;
    q.avgdl = (double)ix->tokens / (double)ix->nlive;
    /* Distinct known, non-stop query terms in query order. */
    if (!(tids = (uint32_t *)DS_MALLOC(ix->alloc, tk->n * sizeof(uint32_t)))) return DS_ENOMEM;
    for (i = 0; i < tk->n && nq < DS_INDEX_MAX_QTERMS; i++) {
        long t = ds__ix_find(ix, tk->bytes + tk->off[i], tk->off[i + 1] - tk->off[i]);
        size_t j;
        if (t < 0) {
            if (all) goto done; /* a term no document holds */
            continue;
        }
        if (ix->terms[t].stop) continue;
        for (j = 0; j < nq && tids[j] != (uint32_t)t; j++) {}
        if (j < nq) continue;
        if (!ix->terms[t].df) {
            if (all) goto done;
            continue;
        }
        tids[nq++] = (uint32_t)t;
    }
    if (!nq) goto done;
    kk = k < ix->nlive ? k : ix->nlive;
    cur = (ds__ixcur *)DS_MALLOC(ix->alloc, nq * sizeof *cur);
    ord = (ds__ixcur **)DS_MALLOC(ix->alloc, nq * sizeof *ord);
    c = (double *)DS_MALLOC(ix->alloc, nq * sizeof *c);
    pre = (double *)DS_MALLOC(ix->alloc, (nq + 1) * sizeof *pre);
    heap = (ds_index_hit *)DS_MALLOC(ix->alloc, kk * sizeof *heap);
    if (!cur || !ord || !c || !pre || !heap) {
        rc = DS_ENOMEM;
        goto done;
    }
    for (i = 0; i < nq; i++) {
        const ds__ixterm *t = &ix->terms[tids[i]];
        double N = (double)ix->nlive, df = (double)t->df;
        cur[i].t = t;
        cur[i].qi = (uint32_t)i;
        cur[i].bi = 0;
        cur[i].nb = t->nblk + (t->open.cnt ? 1u : 0u);
        if (q.tfidf) {
            cur[i].idf = log(N / (df + 1));
        } else {
            double idf = log(((double)ix->nlive - (double)t->df + 0.5) / (df + 0.5));
            cur[i].idf = idf <= 0.0 ? 1e-6 : idf;
        }
        cur[i].ub = ds__ix_bound(&q, cur[i].idf, t->gmaxtf, t->gmindl);
        total += t->npost;
        ds__ixcur_load(&q, &cur[i]);
        ord[i] = &cur[i];
    }
    if (all) {
        /* Leapfrog intersection, rarest list first; block-max bound. */
        double ubsum = 0;
        qsort(ord, nq, sizeof *ord, ds__ix_cmp_df);
        for (i = 0; i < nq; i++) ubsum += ord[i]->ub;
        for (;;) {
            uint32_t d = ord[0]->cur;
            size_t j;
            if (d == UINT32_MAX) break;
            if (!exh && nh == kk && ds__ix_prunable(ubsum, heap[0].score)) break;
            for (j = 1; j < nq; j++) {
                ds__ixcur_seek(&q, ord[j], d);
                if (ord[j]->cur != d) break;
            }
            if (j < nq) {
                if (ord[j]->cur == UINT32_MAX) break;
                ds__ixcur_seek(&q, ord[0], ord[j]->cur);
                continue;
            }
            if (ix->docs[d].alive) {
                int skip = 0;
                if (!exh && nh == kk) {
                    double bb = 0;
                    for (j = 0; j < nq; j++) {
                        const ds__ixblk *b = ds__ix_block(ord[j]->t, ord[j]->bi);
                        bb += ds__ix_bound(&q, ord[j]->idf, b->maxtf, b->mindl);
                    }
                    skip = ds__ix_prunable(bb, heap[0].score);
                }
                if (!skip) {
                    ds_index_hit h;
                    for (j = 0; j < nq; j++)
                        c[ord[j]->qi] = ds__ix_contrib(&q, ord[j]->idf, ord[j]->tf[ord[j]->pos], ix->docs[d].len);
                    h.doc = ix->docs[d].id;
                    h.score = ds__ix_sum(c, nq);
                    ds__ix_heap_offer(heap, &nh, kk, h);
                    scored++;
                }
            }
            ds__ixcur_next(&q, ord[0]);
        }
    } else {
        /* MaxScore: lists by bound ascending; ord[0..ne) non-essential. */
        qsort(ord, nq, sizeof *ord, ds__ix_cmp_ub);
        pre[0] = 0;
        for (i = 0; i < nq; i++) pre[i + 1] = pre[i] + ord[i]->ub;
        for (;;) {
            uint32_t d = UINT32_MAX;
            size_t j;
            double part = 0;
            int pruned = 0;
            if (!exh && nh == kk)
                while (ne < nq && ds__ix_prunable(pre[ne + 1], heap[0].score)) ne++;
            if (ne == nq) break;
            if (!exh && nh == kk && ne == nq - 1 && ord[ne]->cur != UINT32_MAX) {
                /* One essential list left: skip its blocks whose bound,
                 * with every other list's, cannot reach the k-th score
                 * (block-max), without decoding them. */
                ds__ixcur *e = ord[ne];
                const ds__ixblk *bk = ds__ix_block(e->t, e->bi);
                if (ds__ix_prunable(pre[ne] + ds__ix_bound(&q, e->idf, bk->maxtf, bk->mindl), heap[0].score)) {
                    do {
                        e->bi++;
                        bk = ds__ix_block(e->t, e->bi);
                    } while (e->bi < e->nb &&
                             ds__ix_prunable(pre[ne] + ds__ix_bound(&q, e->idf, bk->maxtf, bk->mindl), heap[0].score));
                    if (e->bi >= e->nb) break;
                    ds__ixcur_load(&q, e);
                    continue;
                }
            }
            for (j = ne; j < nq; j++)
                if (ord[j]->cur < d) d = ord[j]->cur;
            if (d == UINT32_MAX) break;
            if (!ix->docs[d].alive) {
                for (j = ne; j < nq; j++)
                    if (ord[j]->cur == d) ds__ixcur_next(&q, ord[j]);
                continue;
            }
            for (j = 0; j < nq; j++) c[j] = 0;
            for (j = ne; j < nq; j++) {
                if (ord[j]->cur == d) {
                    double v = ds__ix_contrib(&q, ord[j]->idf, ord[j]->tf[ord[j]->pos], ix->docs[d].len);
                    c[ord[j]->qi] = v;
                    part += v;
                    ds__ixcur_next(&q, ord[j]);
                }
            }
            for (j = ne; j-- > 0;) {
                if (ds__ix_prunable(part + pre[j + 1], heap[0].score)) {
                    pruned = 1;
                    break;
                }
                /* Block-max: the block that may hold d bounds this list's
                 * share before it is decoded. */
                if (!(ord[j]->loaded && ord[j]->cur >= d)) {
                    const ds__ixblk *bk;
                    if (!ds__ixcur_skip(ord[j], d)) continue;
                    bk = ds__ix_block(ord[j]->t, ord[j]->bi);
                    if (bk->maxtf && ds__ix_prunable(part + pre[j] + ds__ix_bound(&q, ord[j]->idf, bk->maxtf, bk->mindl),
                                                     heap[0].score)) {
                        pruned = 1;
                        break;
                    }
                }
                ds__ixcur_seek(&q, ord[j], d);
                if (ord[j]->cur == d) {
                    double v = ds__ix_contrib(&q, ord[j]->idf, ord[j]->tf[ord[j]->pos], ix->docs[d].len);
                    c[ord[j]->qi] = v;
                    part += v;
                }
            }
            if (!pruned) {
                ds_index_hit h;
                h.doc = ix->docs[d].id;
                h.score = ds__ix_sum(c, nq);
                ds__ix_heap_offer(heap, &nh, kk, h);
                scored++;
            }
        }
    }
    qsort(heap, nh, sizeof *heap, ds__ix_cmp_hit);
    memcpy(hits, heap, nh * sizeof *heap);
    *nout = nh;
done:
    if (st) {
        st->terms = nq;
        st->postings_total = total;
        st->postings_decoded = q.decoded;
        st->docs_scored = scored;
    }
    DS_FREE(ix->alloc, tids, tk->n * sizeof(uint32_t));
    if (cur) DS_FREE(ix->alloc, cur, nq * sizeof *cur);
    if (ord) DS_FREE(ix->alloc, ord, nq * sizeof *ord);
    if (c) DS_FREE(ix->alloc, c, nq * sizeof *c);
    if (pre) DS_FREE(ix->alloc, pre, (nq + 1) * sizeof *pre);
    if (heap) DS_FREE(ix->alloc, heap, (k < ix->nlive ? k : ix->nlive) * sizeof *heap);
    return rc;
}

/* ---- phrase queries ----
 * The phrase's tokens in order; stop words at its ends are dropped, those
 * inside match any one token. Candidates: documents holding every term
 * (leapfrog over the lists, rarest first); in each, the positions of the
 * terms are merged as streams to count the start positions s where each
 * term j sits at s + off[j] (overlapping occurrences count). Then the
 * phrase is scored as one term: its frequency in the document and the
 * number of live documents holding it (as FTS5's bm25() does for a
 * phrase), so every match is found before any is scored. */

typedef struct ds__ixpstream {
    const unsigned char *p;
    uint32_t left, cur;
} ds__ixpstream;

static void ds__ixps_next(ds__ixpstream *s) {
    uint32_t v;
    if (!s->left) {
        s->cur = UINT32_MAX;
        return;
    }
    s->p = ds__vget32(s->p, &v);
    s->cur += v;
    s->left--;
}

/* Occurrences of the phrase in the document under every cursor. */
static uint32_t ds__ix_phrase_count(ds__ixcur *const *cur, const uint32_t *off, ds__ixpstream *ps, size_t m) {
    size_t j;
    uint32_t cnt = 0;
    for (j = 0; j < m; j++) {
        const ds__ixcur *c = cur[j];
        ps[j].p = c->t->data + c->poff[c->pos];
        ps[j].left = c->tf[c->pos];
        ps[j].cur = 0;
        ds__ixps_next(&ps[j]);
    }
    /* Stream 0 (offset 0) drives: each of its positions is a start. */
    for (; ps[0].cur != UINT32_MAX; ds__ixps_next(&ps[0])) {
        uint32_t s = ps[0].cur;
        for (j = 1; j < m; j++) {
            uint64_t want = (uint64_t)s + off[j];
            while (ps[j].cur != UINT32_MAX && (uint64_t)ps[j].cur < want) ds__ixps_next(&ps[j]);
            if (ps[j].cur == UINT32_MAX) return cnt; /* no later start can match */
            if (ps[j].cur != want) break;
        }
        if (j == m) cnt++;
    }
    return cnt;
}

typedef struct ds__ixpm {
    uint32_t d, pf;
} ds__ixpm;

static ds_status ds__ix_phrase(const ds_index *ix, const ds__ixtoks *tk, int flags, size_t k, ds_index_hit *hits,
                               size_t *nout, ds_index_qstats *st) {
    ds__ixq q;
    ds__ixcur *cur = NULL, **ord = NULL, **byoff = NULL;
    ds__ixpstream *ps = NULL;
    ds__ixpm *mt = NULL;
    ds_index_hit *heap = NULL;
    uint32_t *tids = NULL, *off = NULL;
    size_t m = 0, i, first = SIZE_MAX, nm = 0, mcap = 0, nh = 0, kk = 0, total = 0;
    ds_status rc = DS_OK;
    *nout = 0;
    memset(&q, 0, sizeof q);
    q.ix = ix;
    q.tfidf = (flags & DS_INDEX_TFIDF) != 0;
    q.k1 = ix->p.k1;
    q.b = ix->p.b;
    if (st) memset(st, 0, sizeof *st);
    if (!ix->nlive) return DS_OK;
    q.avgdl = (double)ix->tokens / (double)ix->nlive;
    tids = (uint32_t *)DS_MALLOC(ix->alloc, tk->n * sizeof(uint32_t));
    off = (uint32_t *)DS_MALLOC(ix->alloc, tk->n * sizeof(uint32_t));
    if (!tids || !off) {
        rc = DS_ENOMEM;
        goto done;
    }
    for (i = 0; i < tk->n; i++) {
        long t = ds__ix_find(ix, tk->bytes + tk->off[i], tk->off[i + 1] - tk->off[i]);
        if (t < 0 || (!ix->terms[t].stop && !ix->terms[t].df)) goto done; /* no document holds it */
        if (ix->terms[t].stop) continue;
        if (first == SIZE_MAX) first = i;
        tids[m] = (uint32_t)t;
        off[m++] = (uint32_t)(i - first);
    }
    if (!m) goto done; /* only stop words */
    cur = (ds__ixcur *)DS_MALLOC(ix->alloc, m * sizeof *cur);
    ord = (ds__ixcur **)DS_MALLOC(ix->alloc, 2 * m * sizeof *ord);
    ps = (ds__ixpstream *)DS_MALLOC(ix->alloc, m * sizeof *ps);
    if (!cur || !ord || !ps) {
        rc = DS_ENOMEM;
        goto done;
    }
    byoff = ord + m;
    for (i = 0; i < m; i++) {
        const ds__ixterm *t = &ix->terms[tids[i]];
        cur[i].t = t;
        cur[i].qi = (uint32_t)i;
        cur[i].bi = 0;
        cur[i].nb = t->nblk + (t->open.cnt ? 1u : 0u);
        cur[i].idf = cur[i].ub = 0;
        total += t->npost;
        ds__ixcur_load(&q, &cur[i]);
        ord[i] = byoff[i] = &cur[i];
    }
    qsort(ord, m, sizeof *ord, ds__ix_cmp_df);
    for (;;) {
        uint32_t d = ord[0]->cur;
        size_t j;
        if (d == UINT32_MAX) break;
        for (j = 1; j < m; j++) {
            ds__ixcur_seek(&q, ord[j], d);
            if (ord[j]->cur != d) break;
        }
        if (j < m) {
            if (ord[j]->cur == UINT32_MAX) break;
            ds__ixcur_seek(&q, ord[0], ord[j]->cur);
            continue;
        }
        if (ix->docs[d].alive) {
            uint32_t pf = m == 1 ? byoff[0]->tf[byoff[0]->pos] : ds__ix_phrase_count(byoff, off, ps, m);
            if (pf) {
                if (nm == mcap) {
                    void *p = mt;
                    if ((rc = ds__ix_grow(ix->alloc, &p, &mcap, nm + 1, sizeof *mt)) != DS_OK) goto done;
                    mt = (ds__ixpm *)p;
                }
                mt[nm].d = d;
                mt[nm].pf = pf;
                nm++;
            }
        }
        ds__ixcur_next(&q, ord[0]);
    }
    if (nm) {
        double N = (double)ix->nlive, df = (double)nm, idf;
        kk = k < nm ? k : nm;
        if (!(heap = (ds_index_hit *)DS_MALLOC(ix->alloc, kk * sizeof *heap))) {
            rc = DS_ENOMEM;
            goto done;
        }
        if (q.tfidf) {
            idf = log(N / (df + 1));
        } else {
            idf = log((N - df + 0.5) / (df + 0.5));
            if (idf <= 0.0) idf = 1e-6;
        }
        for (i = 0; i < nm; i++) {
            ds_index_hit h;
            h.doc = ix->docs[mt[i].d].id;
            h.score = ds__ix_contrib(&q, idf, mt[i].pf, ix->docs[mt[i].d].len);
            ds__ix_heap_offer(heap, &nh, kk, h);
        }
        qsort(heap, nh, sizeof *heap, ds__ix_cmp_hit);
        memcpy(hits, heap, nh * sizeof *heap);
        *nout = nh;
    }
done:
    if (st) {
        st->terms = m;
        st->postings_total = total;
        st->postings_decoded = q.decoded;
        st->docs_scored = nm;
    }
    if (tids) DS_FREE(ix->alloc, tids, tk->n * sizeof(uint32_t));
    if (off) DS_FREE(ix->alloc, off, tk->n * sizeof(uint32_t));
    if (cur) DS_FREE(ix->alloc, cur, m * sizeof *cur);
    if (ord) DS_FREE(ix->alloc, ord, 2 * m * sizeof *ord);
    if (ps) DS_FREE(ix->alloc, ps, m * sizeof *ps);
    if (mt) DS_FREE(ix->alloc, mt, mcap * sizeof *mt);
    if (heap) DS_FREE(ix->alloc, heap, kk * sizeof *heap);
    return rc;
}

#define DS__IX_FLAGS (DS_INDEX_TFIDF | DS_INDEX_ALL | DS_INDEX_EXHAUSTIVE)

DSDEF ds_status ds_index_search_phrase(const ds_index *ix, const char *qtext, size_t len, int flags, size_t k,
                                       ds_index_hit *hits, size_t *n, ds_index_qstats *st) {
    ds__ixtoks tk;
    ds_status rc;
    if (n) *n = 0;
    if (!ix || !hits || !n || !k || (!qtext && len) || (flags & ~DS__IX_FLAGS) || !ix->p.positions)
        return DS_EINVAL;
    if ((rc = ds__ix_tokenize(ix, qtext, len, &tk)) != DS_OK) return rc;
    rc = tk.n && tk.n <= DS_INDEX_MAX_QTERMS ? ds__ix_phrase(ix, &tk, flags, k, hits, n, st) : DS_EINVAL;
    ds__ixtoks_free(&tk);
    return rc;
}
/* The phrase calls given tokens: as strings (toks, lens) or as ids. */
static ds_status ds__ix_phrase_given(const ds_index *ix, const char *const *toks, const size_t *lens,
                                     const uint32_t *ids, size_t nt, int flags, size_t k, ds_index_hit *hits,
                                     size_t *n, ds_index_qstats *st) {
    ds__ixtoks tk;
    ds_status rc;
    if (n) *n = 0;
    if (!ix || !hits || !n || !k || !nt || nt > DS_INDEX_MAX_QTERMS || (!ids && (!toks || !lens)) ||
        (flags & ~DS__IX_FLAGS) || !ix->p.positions)
        return DS_EINVAL;
    if ((rc = ds__ix_toks_from(ix, toks, lens, ids, nt, &tk)) != DS_OK) return rc;
    rc = ds__ix_phrase(ix, &tk, flags, k, hits, n, st);
    ds__ixtoks_free(&tk);
    return rc;
}
DSDEF ds_status ds_index_search_phrase_tokens(const ds_index *ix, const char *const *toks, const size_t *lens,
                                              size_t nt, int flags, size_t k, ds_index_hit *hits, size_t *n,
                                              ds_index_qstats *st) {
    return ds__ix_phrase_given(ix, toks, lens, NULL, nt, flags, k, hits, n, st);
}
DSDEF ds_status ds_index_search_phrase_ids(const ds_index *ix, const uint32_t *ids, size_t nt, int flags, size_t k,
                                           ds_index_hit *hits, size_t *n, ds_index_qstats *st) {
    return ds__ix_phrase_given(ix, NULL, NULL, ids, nt, flags, k, hits, n, st);
}

DSDEF ds_status ds_index_search(const ds_index *ix, const char *qtext, size_t len, int flags, size_t k,
                                ds_index_hit *hits, size_t *n, ds_index_qstats *st) {
    ds__ixtoks tk;
    ds_status rc;
    if (n) *n = 0;
    if (!ix || !hits || !n || !k || (!qtext && len) || (flags & ~DS__IX_FLAGS)) return DS_EINVAL;
    if ((rc = ds__ix_tokenize(ix, qtext, len, &tk)) != DS_OK) return rc;
    rc = ds__ix_run(ix, &tk, flags, k, hits, n, st);
    ds__ixtoks_free(&tk);
    return rc;
}
DSDEF ds_status ds_index_search_tokens(const ds_index *ix, const char *const *toks, const size_t *lens, size_t nt,
                                       int flags, size_t k, ds_index_hit *hits, size_t *n, ds_index_qstats *st) {
    ds__ixtoks tk;
    ds_status rc;
    if (n) *n = 0;
    if (!ix || !hits || !n || !k || (nt && (!toks || !lens)) || (flags & ~DS__IX_FLAGS)) return DS_EINVAL;
    if ((rc = ds__ix_toks_from(ix, toks, lens, NULL, nt, &tk)) != DS_OK) return rc;
    rc = ds__ix_run(ix, &tk, flags, k, hits, n, st);
    ds__ixtoks_free(&tk);
    return rc;
}
DSDEF ds_status ds_index_search_ids(const ds_index *ix, const uint32_t *ids, size_t nt, int flags, size_t k,
                                    ds_index_hit *hits, size_t *n, ds_index_qstats *st) {
    ds__ixtoks tk;
    ds_status rc;
    if (n) *n = 0;
    if (!ix || !hits || !n || !k || (nt && !ids) || (flags & ~DS__IX_FLAGS)) return DS_EINVAL;
    if ((rc = ds__ix_toks_from(ix, NULL, NULL, ids, nt, &tk)) != DS_OK) return rc;
    rc = ds__ix_run(ix, &tk, flags, k, hits, n, st);
    ds__ixtoks_free(&tk);
    return rc;
}

/* ---- save / load ---- */

/* Payload writer: variable-byte fields into DS__IO_CHUNK-sized pieces, or
 * (count) only their total size; the reader reads the same pieces. */
#define DS__TX_CHUNK 4096
typedef struct ds__txsink {
    ds__enc *e;
    uint64_t total;
    size_t n;
    int count;
    unsigned char buf[DS__TX_CHUNK];
} ds__txsink;
static void ds__txs_bytes(ds__txsink *s, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    s->total += n;
    if (s->count) return;
    while (n) {
        size_t c = DS__TX_CHUNK - s->n < n ? DS__TX_CHUNK - s->n : n;
        memcpy(s->buf + s->n, b, c);
        s->n += c;
        b += c;
        n -= c;
        if (s->n == DS__TX_CHUNK) {
            ds__put(s->e, s->buf, s->n);
            s->n = 0;
        }
    }
}
static void ds__txs_v(ds__txsink *s, uint64_t v) {
    unsigned char b[10];
    ds__txs_bytes(s, b, ds__vput(b, v));
}
static void ds__txs_flush(ds__txsink *s) {
    if (!s->count && s->n) ds__put(s->e, s->buf, s->n);
    s->n = 0;
}

/* Reads n payload bytes in the writer's pieces into a new block that grows
 * as they arrive when the input's size is unknown. (The core's
 * ds__get_alloc does the same, but it lives in ds.h's implementation half,
 * which DS_TEXT_IMPLEMENTATION alone does not compile.) */
static unsigned char *ds__tx_get_blob(ds__dec *d, size_t n, const ds_alloc *a, size_t *capo) {
    size_t cap, got = 0;
    unsigned char *p;
    if (d->st != DS_OK) return NULL;
    cap = d->r->avail != UINT64_MAX || n <= ((size_t)1 << 20) ? n : ((size_t)1 << 20);
    if (!cap) cap = 1;
    if (!(p = (unsigned char *)DS_MALLOC(a, cap))) {
        d->st = DS_ENOMEM;
        return NULL;
    }
    while (got < n && d->st == DS_OK) {
        size_t c = n - got < DS__TX_CHUNK ? n - got : DS__TX_CHUNK;
        if (got + c > cap) {
            size_t nc = cap > n / 2 ? n : cap * 2;
            void *q = DS_REALLOC(a, p, cap, nc);
            if (!q) {
                d->st = DS_ENOMEM;
                break;
            }
            p = (unsigned char *)q;
            cap = nc;
        }
        ds__get(d, p + got, c);
        got += c;
    }
    if (d->st != DS_OK) {
        DS_FREE(a, p, cap);
        return NULL;
    }
    *capo = cap;
    return p;
}

/* Term a before term b in byte order (shorter first on a common prefix). */
static int ds__ix_key_less(const ds_index *ix, uint32_t a, uint32_t b) {
    const ds__ixterm *x = &ix->terms[a], *y = &ix->terms[b];
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(ix->keys + x->koff, ix->keys + y->koff, n);
    return c < 0 || (c == 0 && x->klen < y->klen);
}
/* Sorts ids[0..n) by key bytes (bottom-up merge sort through tmp), so a
 * saved image does not depend on the order terms were first seen. */
static void ds__ix_sort_terms(const ds_index *ix, uint32_t *ids, uint32_t *tmp, size_t n) {
    size_t w, i;
    uint32_t *a = ids, *b = tmp;
    for (w = 1; w < n; w *= 2) {
        for (i = 0; i < n; i += 2 * w) {
            size_t l = i, m = i + w < n ? i + w : n, r = i + 2 * w < n ? i + 2 * w : n, x = l, y = m, o = l;
            while (x < m && y < r) b[o++] = ds__ix_key_less(ix, a[y], a[x]) ? a[y++] : a[x++];
            while (x < m) b[o++] = a[x++];
            while (y < r) b[o++] = a[y++];
        }
        {
            uint32_t *t = a;
            a = b;
            b = t;
        }
    }
    if (a != ids) memcpy(ids, a, n * sizeof *ids);
}

static void ds__ix_payload(const ds_index *ix, ds__txsink *s, const uint32_t *dense, const uint32_t *order,
                           size_t nterms) {
    size_t i, oi;
    uint32_t j;
    for (i = 0; i < ix->ndocs; i++) {
        if (!ix->docs[i].alive) continue;
        ds__txs_v(s, ix->docs[i].id);
        ds__txs_v(s, ix->docs[i].len);
    }
    for (oi = 0; oi < nterms; oi++) {
        const ds__ixterm *t = &ix->terms[order[oi]];
        uint32_t nb = t->nblk + (t->open.cnt ? 1u : 0u), prev = 0;
        int first = 1;
        (void)i;
        ds__txs_v(s, t->klen);
        ds__txs_bytes(s, ix->keys + t->koff, t->klen);
        ds__txs_v(s, t->stop);
        ds__txs_v(s, t->df);
        for (j = 0; j < nb; j++) {
            const ds__ixblk *b = ds__ix_block(t, j);
            const unsigned char *p = t->data + b->off, *pe;
            uint32_t m, d = b->base, v, tf;
            for (m = 0; m < b->cnt; m++) {
                p = ds__vget32(p, &v);
                d += v;
                p = ds__vget32(p, &tf);
                pe = ix->p.positions ? ds__ix_skipv(p, tf) : p;
                if (!ix->docs[d].alive) {
                    p = pe;
                    continue;
                }
                ds__txs_v(s, first ? dense[d] : dense[d] - prev);
                ds__txs_v(s, tf);
                ds__txs_bytes(s, p, (size_t)(pe - p)); /* positions: stored as saved */
                p = pe;
                prev = dense[d];
                first = 0;
            }
        }
    }
}

DSDEF ds_status ds_index_save(const ds_index *ix, ds_writer w) {
    ds__enc e;
    ds__txsink *s;
    uint32_t *dense = NULL, *order = NULL, *tmp = NULL;
    size_t i, nterms = 0, tb = (ix && ix->nterms ? ix->nterms : 1) * sizeof(uint32_t);
    uint32_t nd = 0;
    uint64_t k1, b;
    if (!ix) return DS_EINVAL;
    s = (ds__txsink *)DS_MALLOC(ix->alloc, sizeof *s);
    order = (uint32_t *)DS_MALLOC(ix->alloc, tb);
    tmp = (uint32_t *)DS_MALLOC(ix->alloc, tb);
    if (ix->ndocs) dense = (uint32_t *)DS_MALLOC(ix->alloc, ix->ndocs * sizeof(uint32_t));
    if (!s || !order || !tmp || (ix->ndocs && !dense)) {
        if (s) DS_FREE(ix->alloc, s, sizeof *s);
        if (order) DS_FREE(ix->alloc, order, tb);
        if (tmp) DS_FREE(ix->alloc, tmp, tb);
        if (dense) DS_FREE(ix->alloc, dense, ix->ndocs * sizeof(uint32_t));
        return DS_ENOMEM;
    }
    for (i = 0; i < ix->ndocs; i++) dense[i] = ix->docs[i].alive ? nd++ : 0;
    for (i = 0; i < ix->nterms; i++)
        if (ix->terms[i].df || ix->terms[i].stop) order[nterms++] = (uint32_t)i;
    ds__ix_sort_terms(ix, order, tmp, nterms);
    DS_FREE(ix->alloc, tmp, tb);
    memset(s, 0, sizeof *s);
    s->count = 1;
    ds__ix_payload(ix, s, dense, order, nterms);
    ds__enc_init(&e, w, "DSix", 2);
    memcpy(&k1, &ix->p.k1, 8);
    memcpy(&b, &ix->p.b, 8);
    ds__put_u64(&e, k1);
    ds__put_u64(&e, b);
    ds__put_u64(&e, ix->p.positions ? 1u : 0u); /* v2: flags */
    ds__put_u64(&e, ix->nlive);
    ds__put_u64(&e, nterms);
    ds__put_u64(&e, ix->live_post);
    ds__put_u64(&e, ix->tokens);
    ds__put_u64(&e, s->total);
    s->count = 0;
    s->e = &e;
    s->total = 0;
    ds__ix_payload(ix, s, dense, order, nterms);
    ds__txs_flush(s);
    DS_FREE(ix->alloc, order, tb);
    if (dense) DS_FREE(ix->alloc, dense, ix->ndocs * sizeof(uint32_t));
    DS_FREE(ix->alloc, s, sizeof *s);
    return ds__enc_end(&e);
}

/* Bounds-checked variable-byte reader over the payload. */
typedef struct ds__txin {
    const unsigned char *p, *end;
    int bad;
} ds__txin;
static uint64_t ds__txin_v(ds__txin *in) {
    uint64_t x = 0;
    unsigned sh = 0;
    while (!in->bad) {
        unsigned char c;
        if (in->p == in->end || sh > 63) {
            in->bad = 1;
            break;
        }
        c = *in->p++;
        if (sh == 63 && c > 1) {
            in->bad = 1;
            break;
        }
        x |= (uint64_t)(c & 0x7F) << sh;
        if (!(c & 0x80)) {
            /* canonical: no trailing zero groups */
            if (c == 0 && sh) in->bad = 1;
            return x;
        }
        sh += 7;
    }
    return 0;
}

static ds_status ds__ix_parse(ds_index *t, ds__txin *in, uint64_t ndocs, uint64_t nterms, uint64_t npost,
                              uint64_t tokens) {
    uint64_t i, sumlen = 0, seen = 0;
    uint64_t *tfsum = NULL;
    uint32_t *cnt = NULL, *list = NULL, *fill = NULL;
    ds_status st = DS_OK;
    size_t fb = 0;
    /* Documents. */
    if (ndocs) {
        DS__IX_GROW(st, t->alloc, t->docs, t->dcap, (size_t)ndocs, ds__ixdoc);
        if (st != DS_OK) return st;
        {
            size_t nn = 16;
            while (nn < ndocs * 2) nn *= 2;
            if (!(t->dslots = (uint64_t *)DS_MALLOC(t->alloc, nn * sizeof(uint64_t)))) return DS_ENOMEM;
            t->ndslots = nn;
            memset(t->dslots, 0, nn * sizeof(uint64_t));
        }
        tfsum = (uint64_t *)DS_MALLOC(t->alloc, (size_t)ndocs * 8);
        cnt = (uint32_t *)DS_MALLOC(t->alloc, (size_t)ndocs * 4);
        if (!tfsum || !cnt) {
            st = DS_ENOMEM;
            goto out;
        }
        memset(tfsum, 0, (size_t)ndocs * 8);
        memset(cnt, 0, (size_t)ndocs * 4);
    }
    for (i = 0; i < ndocs && !in->bad; i++) {
        uint64_t id = ds__txin_v(in), len = ds__txin_v(in);
        size_t s;
        if (in->bad || len > 0xFFFFFFFEu) break;
        t->docs[i].id = id;
        t->docs[i].len = (uint32_t)len;
        t->docs[i].alive = 1;
        t->docs[i].pad_ = 0;
        t->docs[i].fwd = 0;
        t->docs[i].nterm = 0;
        t->ndocs = (size_t)i; /* the slot search reads docs[0..i] */
        s = ds__ix_dslot(t, id);
        if (t->dslots[s]) {
            in->bad = 1;
            break;
        }
        t->dslots[s] = ds__ix_dval(t, id, (uint32_t)i);
        sumlen += len;
    }
    if (in->bad || sumlen != tokens) goto bad;
    t->ndocs = t->nlive = (size_t)ndocs;
    t->tokens = tokens;
    /* Terms. */
    for (i = 0; i < nterms && !in->bad; i++) {
        uint64_t kl = ds__txin_v(in), stop, df, j;
        const char *k;
        uint32_t h, tid, d = 0;
        ds__ixterm *tm;
        if (in->bad || kl == 0 || kl > (uint64_t)(in->end - in->p)) goto bad;
        k = (const char *)in->p;
        in->p += kl;
        stop = ds__txin_v(in);
        df = ds__txin_v(in);
        if (in->bad || stop > 1 || df > ndocs || (!df && !stop) || df > (uint64_t)(in->end - in->p) / 2) goto bad;
        h = ds__ix_hash(t, k, (size_t)kl);
        if (i) { /* strictly increasing byte order: canonical, so no duplicates */
            const ds__ixterm *pt = &t->terms[t->nterms - 1];
            size_t mn = pt->klen < kl ? pt->klen : (size_t)kl;
            int c = memcmp(t->keys + pt->koff, k, mn);
            if (c > 0 || (c == 0 && pt->klen >= kl)) goto bad;
        }
        if ((st = ds__ix_reserve_terms(t, NULL, 1, (size_t)kl)) != DS_OK) goto out;
        tid = ds__ix_new_term(t, k, (size_t)kl, h);
        tm = &t->terms[tid];
        tm->stop = (uint32_t)stop;
        if (stop) t->nstop++;
        for (j = 0; j < df; j++) {
            uint64_t v = ds__txin_v(in), tf = ds__txin_v(in), dd, m, at = 0;
            const unsigned char *pp = in->p;
            if (in->bad || (j && v == 0) || tf == 0 || tf > 0xFFFFFFFEu) goto bad;
            dd = j ? (uint64_t)d + v : v;
            if (dd >= ndocs || tf > t->docs[dd].len) goto bad;
            if (t->p.positions) { /* tf positions: increasing token indices below 2^32 - 2 */
                for (m = 0; m < tf && !in->bad; m++) {
                    uint64_t g = ds__txin_v(in);
                    if (m && g == 0) in->bad = 1;
                    at += g;
                    if (at > 0xFFFFFFFDu) in->bad = 1;
                }
                if (in->bad) goto bad;
            }
            if ((st = ds__ix_reserve_post(t, NULL, tid, (size_t)(in->p - pp))) != DS_OK) goto out;
            tm = &t->terms[tid];
            ds__ix_append(t, tm, (uint32_t)dd, (uint32_t)tf, t->docs[dd].len);
            if (in->p != pp) { /* the saved bytes are the stored form */
                memcpy(tm->data + tm->len, pp, (size_t)(in->p - pp));
                tm->len += (uint32_t)(in->p - pp);
                t->pos_bytes += (uint64_t)(in->p - pp);
            }
            d = (uint32_t)dd;
            tfsum[dd] += tf;
            cnt[dd]++;
            seen++;
        }
    }
    if (in->bad || in->p != in->end || seen != npost) goto bad;
    for (i = 0; i < ndocs; i++)
        if (tfsum[i] != t->docs[i].len) goto bad;
    /* Forward lists (term ids per document, ascending: terms came in id order). */
    if (npost) {
        size_t off = 0;
        list = (uint32_t *)DS_MALLOC(t->alloc, (size_t)npost * 4);
        fill = (uint32_t *)DS_MALLOC(t->alloc, (size_t)ndocs * 4);
        if (!list || !fill) {
            st = DS_ENOMEM;
            goto out;
        }
        for (i = 0; i < ndocs; i++) {
            fill[i] = (uint32_t)off;
            off += cnt[i];
        }
        for (i = 0; i < t->nterms; i++) {
            const ds__ixterm *tm = &t->terms[i];
            uint32_t nb = tm->nblk + (tm->open.cnt ? 1u : 0u), j;
            for (j = 0; j < nb; j++) {
                const ds__ixblk *b = ds__ix_block(tm, j);
                const unsigned char *p = tm->data + b->off;
                uint32_t m, d = b->base, v, tf;
                for (m = 0; m < b->cnt; m++) {
                    p = ds__vget32(p, &v);
                    d += v;
                    p = ds__vget32(p, &tf);
                    if (t->p.positions) p = ds__ix_skipv(p, tf);
                    list[fill[d]++] = (uint32_t)i;
                }
            }
        }
        for (i = 0; i < npost; i++) fb += ds__vlen(list[i]); /* bound: deltas are no larger */
        DS__IX_GROW(st, t->alloc, t->fwd, t->fwdcap, fb, unsigned char);
        if (st != DS_OK) goto out;
        off = 0;
        for (i = 0; i < ndocs; i++) {
            uint32_t m, prev = 0, start = fill[i] - cnt[i];
            t->docs[i].fwd = t->fwdlen;
            t->docs[i].nterm = cnt[i];
            for (m = 0; m < cnt[i]; m++) {
                t->fwdlen += ds__vput(t->fwd + t->fwdlen, list[start + m] - prev);
                prev = list[start + m];
            }
        }
    }
    goto out;
bad:
    st = DS_ECORRUPT;
out:
    if (tfsum) DS_FREE(t->alloc, tfsum, (size_t)ndocs * 8);
    if (cnt) DS_FREE(t->alloc, cnt, (size_t)ndocs * 4);
    if (list) DS_FREE(t->alloc, list, (size_t)npost * 4);
    if (fill) DS_FREE(t->alloc, fill, (size_t)ndocs * 4);
    return st;
}

DSDEF ds_status ds_index_load(ds_index *ix, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_index t;
    ds_index_params p;
    uint64_t k1, b, flags = 0, ndocs, nterms, npost, tokens, size, ver;
    unsigned char *blob;
    size_t cap = 0;
    ds__txin in;
    ds_status st;
    char m[4];
    if (!ix) return DS_EINVAL;
    /* ds__dec_init, taking version 1 (no flags, no positions) or 2 */
    d.r = r;
    d.sum = 0x6473;
    d.st = r && r->read ? DS_OK : DS_EINVAL;
    ds__get(&d, m, 4);
    if (d.st == DS_OK && memcmp(m, "DSix", 4) != 0) d.st = DS_ECORRUPT;
    ver = ds__get_u64(&d);
    if (d.st == DS_OK && ver != 1 && ver != 2) d.st = DS_ECORRUPT;
    k1 = ds__get_u64(&d);
    b = ds__get_u64(&d);
    if (ver == 2) flags = ds__get_u64(&d);
    ndocs = ds__get_u64(&d);
    nterms = ds__get_u64(&d);
    npost = ds__get_u64(&d);
    tokens = ds__get_u64(&d);
    size = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    memcpy(&p.k1, &k1, 8);
    memcpy(&p.b, &b, 8);
    if (flags > 1) return DS_ECORRUPT;
    p.positions = (int)flags;
    /* Every document takes >= 2 payload bytes, every term >= 4, every
     * posting >= 2: counts beyond that are lies, refused before allocating. */
    if (!ds__ix_params_ok(&p) || size > SIZE_MAX / 2 || ndocs > size / 2 || nterms > size / 4 ||
        npost > size / 2 || ndocs > DS__IX_MAXDOCS || !ds__dec_room(&d, size))
        return DS_ECORRUPT;
    if (!(blob = ds__tx_get_blob(&d, (size_t)size, a, &cap))) return d.st;
    if ((st = ds__dec_end(&d)) != DS_OK) {
        DS_FREE(a, blob, cap);
        return st;
    }
    (void)ds_index_init(&t, &p, a);
    in.p = blob;
    in.end = blob + size;
    in.bad = 0;
    st = ds__ix_parse(&t, &in, ndocs, nterms, npost, tokens);
    DS_FREE(a, blob, cap);
    if (st != DS_OK) {
        ds_index_free(&t);
        return st;
    }
    *ix = t;
    return DS_OK;
}

DSDEF ds_status ds_index_compact(ds_index *ix) {
    ds_membuf mb;
    ds_memsrc src;
    ds_reader r;
    ds_index t;
    ds_status st;
    if (!ix) return DS_EINVAL;
    (void)ds_membuf_init(&mb, ix->alloc);
    if ((st = ds_index_save(ix, ds_membuf_writer(&mb))) == DS_OK) {
        r = ds_mem_reader(&src, mb.data, mb.len);
        st = ds_index_load(&t, &r, ix->alloc);
    }
    ds_membuf_free(&mb);
    if (st != DS_OK) return st == DS_ECORRUPT ? DS_ENOMEM : st;
    t.tok = ix->tok;
    t.tokctx = ix->tokctx;
    ds_index_free(ix);
    *ix = t;
    return DS_OK;
}

/* == ds_text:rrf == */

typedef struct ds__rrfe {
    uint64_t id;
    uint32_t list, rank;
} ds__rrfe;
static int ds__rrf_cmp(const void *a, const void *b) {
    const ds__rrfe *x = (const ds__rrfe *)a, *y = (const ds__rrfe *)b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    if (x->list != y->list) return x->list < y->list ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

DSDEF ds_status ds_rrf_fuse(const uint64_t *const *lists, const size_t *lens, size_t nlists, double c, size_t k,
                            ds_index_hit *out, size_t *n, const ds_alloc *a) {
    size_t total = 0, i, j, m = 0, nh = 0;
    ds__rrfe *e;
    ds_index_hit *heap;
    if (n) *n = 0;
    if (!out || !n || !k || (nlists && (!lists || !lens))) return DS_EINVAL;
    if (!(c > 0 && c <= 1e300)) c = 60;
    for (i = 0; i < nlists; i++) {
        if (lens[i] && !lists[i]) return DS_EINVAL;
        if (lens[i] > 0xFFFFFFFEu || !ds_size_add(total, lens[i], &total)) return DS_EINVAL;
    }
    if (!total) return DS_OK;
    if (total > SIZE_MAX / sizeof *e) return DS_ENOMEM;
    if (!(e = (ds__rrfe *)DS_MALLOC(a, total * sizeof *e))) return DS_ENOMEM;
    if (!(heap = (ds_index_hit *)DS_MALLOC(a, (k < total ? k : total) * sizeof *heap))) {
        DS_FREE(a, e, total * sizeof *e);
        return DS_ENOMEM;
    }
    for (i = 0; i < nlists; i++)
        for (j = 0; j < lens[i]; j++) {
            e[m].id = lists[i][j];
            e[m].list = (uint32_t)i;
            e[m].rank = (uint32_t)j + 1;
            m++;
        }
    qsort(e, total, sizeof *e, ds__rrf_cmp);
    for (i = 0; i < total;) {
        ds_index_hit h;
        double s = 0;
        h.doc = e[i].id;
        for (j = i; j < total && e[j].id == h.doc; j++)
            if (j == i || e[j].list != e[j - 1].list) s += 1.0 / (c + (double)e[j].rank);
        h.score = s;
        ds__ix_heap_offer(heap, &nh, k < total ? k : total, h);
        i = j;
    }
    qsort(heap, nh, sizeof *heap, ds__ix_cmp_hit);
    memcpy(out, heap, nh * sizeof *heap);
    *n = nh;
    DS_FREE(a, heap, (k < total ? k : total) * sizeof *heap);
    DS_FREE(a, e, total * sizeof *e);
    return DS_OK;
}

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

#ifdef __cplusplus
}
#endif
#endif
