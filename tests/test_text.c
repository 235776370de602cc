/* tests/test_text.c - ds_text.h's index, tokenizer and fusion.
 *
 * The index is checked against a brute-force model (every live document
 * scored with the same formulas, sorted by score then id) over random
 * corpora and queries with deletes, updates, stop words, compactions and
 * save/load round trips interleaved: identical top-k, bit-identical
 * scores, and pruning never changes the result. Also the tokenizer's
 * rules, bad input, OOM injection (strong guarantee) and corrupt loads.
 * The FTS5 agreement test lives in tests/fts5_text.c (own binary,
 * -lsqlite3). This file compiles ds_text.h's implementation for the test
 * binaries (ds.h's comes from tests/main.c). */
#define DS_TEXT_IMPLEMENTATION
#include "prop.h"
#include "ds_text.h"
#include <math.h>

typedef ds_status (*tx_load_fn)(void *obj, ds_reader *r, const ds_alloc *a);
void check_load_rejects(const unsigned char *img, size_t len, tx_load_fn load, void (*fr)(void *),
                        size_t objsz, size_t stride);

/* ---- tokenizer ----------------------------------------------------------- */

typedef struct toklist {
    char buf[4096];
    size_t len, n;
} toklist;
static ds_status tl_emit(void *ctx, const char *tok, size_t len) {
    toklist *t = (toklist *)ctx;
    if (t->len + len + 1 >= sizeof t->buf) return DS_EFULL;
    if (t->n) t->buf[t->len++] = '|';
    memcpy(t->buf + t->len, tok, len);
    t->len += len;
    t->buf[t->len] = 0;
    t->n++;
    return DS_OK;
}
static const char *toks_of(toklist *t, const char *s, size_t len) {
    memset(t, 0, sizeof *t);
    if (ds_text_tokenize(s, len, tl_emit, t) != DS_OK) return "<error>";
    return t->buf;
}

void test_text_tokenize(void) {
    toklist t;
    char big[600];
    size_t i;
    CHECK(strcmp(toks_of(&t, "Hello, World! x2 C++ e-mail", 27), "hello|world|x2|c|e|mail") == 0);
    CHECK(strcmp(toks_of(&t, "", 0), "") == 0 && t.n == 0);
    CHECK(ds_text_tokenize(NULL, 0, tl_emit, &t) == DS_OK);
    CHECK(ds_text_tokenize(NULL, 1, tl_emit, &t) == DS_EINVAL);
    CHECK(ds_text_tokenize("a", 1, NULL, &t) == DS_EINVAL);
    /* Latin-1, Greek, Cyrillic upper case fold; NBSP, the multiplication
     * sign and General Punctuation separate; malformed UTF-8 separates. */
    CHECK(strcmp(toks_of(&t, "\xC3\x89T\xC3\x89\xC2\xA0\xCE\x91\xCE\xB2\xC3\x97\xD0\x96\xD0\x81", 17),
                 "\xC3\xA9t\xC3\xA9|\xCE\xB1\xCE\xB2|\xD0\xB6\xD1\x91") == 0);
    CHECK(strcmp(toks_of(&t, "ab\xE2\x80\x94" "cd\xFF" "ef\xC3(gh\xED\xA0\x80ij", 19), "ab|cd|ef|gh|ij") == 0);
    CHECK(strcmp(toks_of(&t, "\xE6\x97\xA5\xE6\x9C\xAC\xE3\x80\x82x", 10), "\xE6\x97\xA5\xE6\x9C\xAC|x") == 0);
    /* Long runs are cut at DS_TEXT_MAX_TOKEN bytes. */
    for (i = 0; i < sizeof big; i++) big[i] = 'A';
    toks_of(&t, big, sizeof big);
    CHECK(t.n == 3 && t.len == 600 + 2);
    /* The emit status stops the tokenizer. */
    memset(&t, 0, sizeof t);
    t.len = sizeof t.buf - 2;
    CHECK(ds_text_tokenize("abc def", 7, tl_emit, &t) == DS_EFULL);
}

/* ---- the brute-force model ------------------------------------------------ */

#define TX_VOCAB 40
#define TX_MAXD 96
#define TX_MAXLEN 24

typedef struct txdoc {
    uint64_t id;
    int live;
    size_t n;                 /* non-stop tokens */
    int tok[TX_MAXLEN];       /* word indices */
    size_t nall;              /* every token, stop words included (positions) */
    int all[TX_MAXLEN];
} txdoc;

typedef struct txmodel {
    char words[TX_VOCAB][8];
    int stop[TX_VOCAB];
    txdoc d[TX_MAXD];
    size_t nd;
    double k1, b;
} txmodel;

static void tx_words(txmodel *m, ds_rng *r) {
    int i, j;
    for (i = 0; i < TX_VOCAB; i++) {
        for (;;) {
            int len = 1 + (int)ds_rng_below(r, 4);
            for (j = 0; j < len; j++) m->words[i][j] = (char)('a' + ds_rng_below(r, 6));
            m->words[i][len] = 0;
            for (j = 0; j < i && strcmp(m->words[j], m->words[i]) != 0; j++) {}
            if (j == i) break;
        }
    }
}

/* Zipf-ish word choice: low indices are frequent. */
static int tx_pick(ds_rng *r) {
    uint64_t a = ds_rng_below(r, TX_VOCAB), b = ds_rng_below(r, TX_VOCAB);
    return (int)(a < b ? a : b);
}

/* Text for word list w (random case and separators); model keeps non-stop words. */
static size_t tx_text(const txmodel *m, ds_rng *r, const int *w, size_t n, char *out) {
    static const char *seps[] = {" ", ", ", "  ", "-", ".\n", " (", "'"};
    size_t i, len = 0;
    for (i = 0; i < n; i++) {
        const char *s = m->words[w[i]];
        size_t j, l = strlen(s);
        if (i) {
            const char *sp = seps[ds_rng_below(r, 7)];
            memcpy(out + len, sp, strlen(sp));
            len += strlen(sp);
        }
        for (j = 0; j < l; j++) out[len + j] = ds_rng_below(r, 5) ? s[j] : (char)(s[j] - 32);
        len += l;
    }
    return len;
}

static int tx_tf(const txdoc *d, int w) {
    size_t i;
    int c = 0;
    for (i = 0; i < d->n; i++) c += d->tok[i] == w;
    return c;
}

/* The model's top k, scored exactly as documented. */
static size_t tx_brute(const txmodel *m, const int *q, size_t nq, int flags, size_t k, ds_index_hit *out) {
    int uq[16];
    size_t nu = 0, i, j, nlive = 0, n = 0;
    uint64_t tokens = 0;
    double avgdl, idf[16];
    ds_index_hit all[TX_MAXD];
    for (i = 0; i < m->nd; i++)
        if (m->d[i].live) {
            nlive++;
            tokens += m->d[i].n;
        }
    if (!nlive) return 0;
    avgdl = (double)tokens / (double)nlive;
    for (i = 0; i < nq; i++) {
        size_t df = 0;
        if (m->stop[q[i]]) continue;
        for (j = 0; j < nu && uq[j] != q[i]; j++) {}
        if (j < nu) continue;
        for (j = 0; j < m->nd; j++) df += m->d[j].live && tx_tf(&m->d[j], q[i]) > 0;
        if (!df) {
            if (flags & DS_INDEX_ALL) return 0;
            continue;
        }
        if (flags & DS_INDEX_TFIDF) {
            idf[nu] = log((double)nlive / ((double)df + 1));
        } else {
            double v = log(((double)nlive - (double)df + 0.5) / ((double)df + 0.5));
            idf[nu] = v <= 0.0 ? 1e-6 : v;
        }
        uq[nu++] = q[i];
    }
    if (!nu) return 0;
    for (i = 0; i < m->nd; i++) {
        const txdoc *d = &m->d[i];
        double s = 0;
        size_t hit = 0;
        if (!d->live) continue;
        for (j = 0; j < nu; j++) {
            int tf = tx_tf(d, uq[j]);
            double c = 0;
            if (tf) {
                double f = (double)tf, D = (double)d->n;
                hit++;
                if (flags & DS_INDEX_TFIDF) c = ((double)tf / (double)d->n) * idf[j];
                else c = idf[j] * ((f * (m->k1 + 1.0)) / (f + m->k1 * (1 - m->b + m->b * D / avgdl)));
            }
            s += c;
        }
        if (!hit || ((flags & DS_INDEX_ALL) && hit < nu)) continue;
        all[n].doc = d->id;
        all[n].score = s;
        n++;
    }
    /* sort: score desc, id asc */
    for (i = 1; i < n; i++) {
        ds_index_hit x = all[i];
        j = i;
        while (j && (all[j - 1].score < x.score || (all[j - 1].score == x.score && all[j - 1].doc > x.doc))) {
            all[j] = all[j - 1];
            j--;
        }
        all[j] = x;
    }
    if (n > k) n = k;
    memcpy(out, all, n * sizeof *out);
    return n;
}

static void tx_sort_hits(ds_index_hit *all, size_t n) {
    size_t i, j;
    for (i = 1; i < n; i++) {
        ds_index_hit x = all[i];
        j = i;
        while (j && (all[j - 1].score < x.score || (all[j - 1].score == x.score && all[j - 1].doc > x.doc))) {
            all[j] = all[j - 1];
            j--;
        }
        all[j] = x;
    }
}

/* The model's phrase top k: scan each live document's token list for the
 * phrase (stop words at its ends dropped, inside it matching any token),
 * then score the phrase as one term (its frequency and document count). */
static size_t tx_brute_phrase(const txmodel *m, const int *q, size_t nq, int flags, size_t k, ds_index_hit *out) {
    size_t lo = 0, hi = nq, i, nlive = 0, n = 0, L;
    uint64_t tokens = 0;
    double avgdl, idf, N;
    ds_index_hit all[TX_MAXD];
    uint32_t pf[TX_MAXD];
    while (lo < hi && m->stop[q[lo]]) lo++;
    while (hi > lo && m->stop[q[hi - 1]]) hi--;
    for (i = 0; i < m->nd; i++)
        if (m->d[i].live) {
            nlive++;
            tokens += m->d[i].n;
        }
    if (!nlive || lo == hi) return 0;
    L = hi - lo;
    for (i = 0; i < m->nd; i++) {
        const txdoc *d = &m->d[i];
        size_t s, j;
        pf[i] = 0;
        if (!d->live) continue;
        for (s = 0; s + L <= d->nall; s++) {
            for (j = lo; j < hi; j++)
                if (!m->stop[q[j]] && d->all[s + j - lo] != q[j]) break;
            pf[i] += j == hi;
        }
        n += pf[i] > 0;
    }
    if (!n) return 0;
    avgdl = (double)tokens / (double)nlive;
    N = (double)nlive;
    if (flags & DS_INDEX_TFIDF) {
        idf = log(N / ((double)n + 1));
    } else {
        idf = log((N - (double)n + 0.5) / ((double)n + 0.5));
        if (idf <= 0.0) idf = 1e-6;
    }
    n = 0;
    for (i = 0; i < m->nd; i++) {
        const txdoc *d = &m->d[i];
        double f = (double)pf[i], D = (double)d->n;
        if (!d->live || !pf[i]) continue;
        all[n].doc = d->id;
        if (flags & DS_INDEX_TFIDF) all[n].score = (f / D) * idf;
        else all[n].score = idf * ((f * (m->k1 + 1.0)) / (f + m->k1 * (1 - m->b + m->b * D / avgdl)));
        n++;
    }
    tx_sort_hits(all, n);
    if (n > k) n = k;
    memcpy(out, all, n * sizeof *out);
    return n;
}

static txdoc *tx_find(txmodel *m, uint64_t id) {
    size_t i;
    for (i = 0; i < m->nd; i++)
        if (m->d[i].live && m->d[i].id == id) return &m->d[i];
    return NULL;
}

static ds_status ix_load_v(void *o, ds_reader *r, const ds_alloc *a) { return ds_index_load((ds_index *)o, r, a); }
static void ix_free_v(void *o) { ds_index_free((ds_index *)o); }

static void tx_save(const ds_index *ix, ds_membuf *b) {
    ds_membuf_init(b, NULL);
    CHECK(ds_index_save(ix, ds_membuf_writer(b)) == DS_OK);
}

static size_t tx_phrase_hits; /* multi-word phrase queries with hits */

static void text_case(ds_rng *r, uint64_t seed) {
    txmodel *m = (txmodel *)calloc(1, sizeof *m);
    ds_index ix;
    ds_index_params p = ds_index_params_default();
    int step, steps = 400;
    (void)seed;
    CHECK(m != NULL);
    tx_words(m, r);
    if (ds_rng_below(r, 2)) {
        p.k1 = ds_rng_double(r) * 3;
        p.b = ds_rng_double(r);
    }
    p.positions = (int)ds_rng_below(r, 2);
    m->k1 = p.k1;
    m->b = p.b;
    CHECK(ds_index_init(&ix, &p, NULL) == DS_OK);
    if (ds_rng_below(r, 2)) {
        int w = (int)ds_rng_below(r, 4);
        m->stop[w] = 1;
        CHECK(ds_index_add_stopword(&ix, m->words[w], strlen(m->words[w])) == DS_OK);
    }
    for (step = 0; step < steps; step++) {
        unsigned op = (unsigned)ds_rng_below(r, 20);
        uint64_t id = ds_rng_below(r, 60) * 1000003u;
        char text[TX_MAXLEN * 12];
        if (op < 8) { /* put: insert or update */
            int w[TX_MAXLEN];
            size_t n = ds_rng_below(r, TX_MAXLEN + 1), i, len;
            txdoc *d = tx_find(m, id);
            ds_status st;
            for (i = 0; i < n; i++) w[i] = tx_pick(r);
            len = tx_text(m, r, w, n, text);
            if (ds_rng_below(r, 2)) {
                st = ds_index_insert(&ix, id, text, len);
                if (d) {
                    CHECK(st == DS_EEXIST);
                    continue;
                }
            } else {
                st = ds_index_put(&ix, id, text, len);
            }
            CHECK(st == DS_OK);
            if (d) d->live = 0;
            if (m->nd == TX_MAXD) { /* recycle a dead slot */
                size_t j;
                for (j = 0; j < m->nd && m->d[j].live; j++) {}
                CHECK(j < m->nd);
                memmove(&m->d[j], &m->d[j + 1], (m->nd - j - 1) * sizeof m->d[0]);
                m->nd--;
            }
            d = &m->d[m->nd++];
            d->id = id;
            d->live = 1;
            d->n = 0;
            for (i = 0; i < n; i++)
                if (!m->stop[w[i]]) d->tok[d->n++] = w[i];
            d->nall = n;
            memcpy(d->all, w, n * sizeof w[0]);
        } else if (op < 11) {
            txdoc *d = tx_find(m, id);
            ds_status st = ds_index_del(&ix, id);
            CHECK(st == (d ? DS_OK : DS_ENOTFOUND));
            if (d) d->live = 0;
            CHECK(!ds_index_has(&ix, id));
        } else if (op == 11 && ds_rng_below(r, 4) == 0) {
            CHECK(ds_index_compact(&ix) == DS_OK);
        } else if (op == 11 && ds_rng_below(r, 8) == 0) {
            /* A stop word mid-stream: indexed documents keep it (and their
             * lengths), later ones and queries drop it. */
            int w = (int)ds_rng_below(r, TX_VOCAB);
            m->stop[w] = 1;
            CHECK(ds_index_add_stopword(&ix, m->words[w], strlen(m->words[w])) == DS_OK);
        } else if (op == 12 && ds_rng_below(r, 4) == 0) {
            ds_membuf b1, b2;
            ds_memsrc src;
            ds_reader rd;
            ds_index t;
            tx_save(&ix, &b1);
            rd = ds_mem_reader(&src, b1.data, b1.len);
            CHECK(ds_index_load(&t, &rd, NULL) == DS_OK && src.pos == src.len);
            tx_save(&t, &b2);
            CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
            ds_membuf_free(&b1);
            ds_membuf_free(&b2);
            ds_index_free(&ix);
            ix = t;
        } else if (op >= 17) { /* a phrase */
            int q[6];
            size_t nq = 1 + ds_rng_below(r, 4), i, k = 1 + ds_rng_below(r, 12), n1, nb;
            int flags = (int)ds_rng_below(r, 2);
            ds_index_hit h1[16], hb[16];
            char qt[128];
            size_t ql;
            ds_status st;
            const txdoc *src = m->nd ? &m->d[ds_rng_below(r, m->nd)] : NULL;
            if (src && src->nall && ds_rng_below(r, 4)) { /* mostly from a document: hits */
                size_t at = ds_rng_below(r, src->nall);
                if (nq > src->nall - at) nq = src->nall - at;
                for (i = 0; i < nq; i++) q[i] = src->all[at + i];
                if (ds_rng_below(r, 4) == 0) q[ds_rng_below(r, nq)] = tx_pick(r); /* one word changed */
            } else {
                for (i = 0; i < nq; i++) q[i] = tx_pick(r);
            }
            ql = tx_text(m, r, q, nq, qt);
            st = ds_index_search_phrase(&ix, qt, ql, flags, k, h1, &n1, NULL);
            if (!p.positions) {
                CHECK(st == DS_EINVAL && n1 == 0);
                continue;
            }
            CHECK(st == DS_OK);
            nb = tx_brute_phrase(m, q, nq, flags, k, hb);
            tx_phrase_hits += nq > 1 && nb > 0;
            CHECKF(n1 == nb, "step %d: phrase %zu hits, model %zu (flags %d, k %zu)", step, n1, nb, flags, k);
            for (i = 0; i < nb && i < n1; i++)
                CHECKF(h1[i].doc == hb[i].doc && h1[i].score == hb[i].score,
                       "step %d phrase rank %zu: %llu %.17g, model %llu %.17g", step, i,
                       (unsigned long long)h1[i].doc, h1[i].score, (unsigned long long)hb[i].doc, hb[i].score);
        } else {
            int q[6];
            size_t nq = 1 + ds_rng_below(r, 5), i, k = 1 + ds_rng_below(r, 12), n1, n2, nb;
            int flags = (int)ds_rng_below(r, 4);
            ds_index_hit h1[16], h2[16], hb[16];
            ds_index_qstats qs;
            char qt[128];
            size_t ql;
            for (i = 0; i < nq; i++) q[i] = tx_pick(r);
            ql = tx_text(m, r, q, nq, qt);
            if (ds_rng_below(r, 4) == 0) { /* an unknown word */
                memcpy(qt + ql, " zzzzq", 6);
                ql += 6;
                if (flags & DS_INDEX_ALL) nq = 0; /* then nothing matches */
            }
            CHECK(ds_index_search(&ix, qt, ql, flags, k, h1, &n1, &qs) == DS_OK);
            CHECK(ds_index_search(&ix, qt, ql, flags | DS_INDEX_EXHAUSTIVE, k, h2, &n2, NULL) == DS_OK);
            nb = nq ? tx_brute(m, q, nq, flags, k, hb) : 0;
            CHECKF(n1 == nb && n2 == nb, "step %d: %zu / %zu hits, model %zu (flags %d, k %zu)", step, n1, n2, nb,
                   flags, k);
            for (i = 0; i < nb; i++) {
                CHECKF(h1[i].doc == hb[i].doc && h1[i].score == hb[i].score,
                       "step %d flags %d rank %zu: %llu %.17g, model %llu %.17g", step, flags, i,
                       (unsigned long long)h1[i].doc, h1[i].score, (unsigned long long)hb[i].doc, hb[i].score);
                CHECK(h2[i].doc == hb[i].doc && h2[i].score == hb[i].score);
            }
            CHECK(qs.postings_decoded <= qs.postings_total);
        }
        CHECK(ds_index_len(&ix) == (size_t)0 + ds_index_len(&ix));
    }
    {
        size_t i, live = 0;
        ds_index_stats s;
        for (i = 0; i < m->nd; i++) live += m->d[i].live;
        ds_index_info(&ix, &s);
        CHECK(s.docs == live && ds_index_len(&ix) == live);
    }
    ds_index_free(&ix);
    free(m);
}

void test_text_model(void) {
    tx_phrase_hits = 0;
    prop_run("text_model", text_case, 200);
    CHECKF(tx_phrase_hits > 1000, "only %zu phrase queries of 2+ words had hits", tx_phrase_hits);
}

/* ---- pruning touches few postings on a larger corpus ------------------------ */

void test_text_pruning(void) {
    ds_index ix;
    ds_rng r;
    size_t i, dec_p = 0, dec_x = 0;
    char text[512], q[64];
    ds_rng_seed(&r, 7);
    CHECK(ds_index_init(&ix, NULL, NULL) == DS_OK);
    for (i = 0; i < 20000; i++) {
        size_t n = 5 + ds_rng_below(&r, 30), j, len = 0;
        for (j = 0; j < n; j++) {
            /* about Zipf over 2000 words: log-uniform ranks */
            uint64_t w = (uint64_t)floor(pow(2000.0, ds_rng_double(&r))) - 1;
            len += (size_t)snprintf(text + len, sizeof text - len, "w%llu ", (unsigned long long)w);
        }
        CHECK(ds_index_insert(&ix, i, text, len) == DS_OK);
    }
    for (i = 0; i < 50; i++) {
        ds_index_hit h1[10], h2[10];
        size_t n1, n2, j;
        ds_index_qstats s1, s2;
        int ql = snprintf(q, sizeof q, "w%llu w%llu w%llu", (unsigned long long)ds_rng_below(&r, 3),
                          (unsigned long long)ds_rng_below(&r, 60), (unsigned long long)(60 + ds_rng_below(&r, 1900)));
        CHECK(ds_index_search(&ix, q, (size_t)ql, DS_INDEX_BM25, 10, h1, &n1, &s1) == DS_OK);
        CHECK(ds_index_search(&ix, q, (size_t)ql, DS_INDEX_EXHAUSTIVE, 10, h2, &n2, &s2) == DS_OK);
        CHECK(n1 == n2);
        for (j = 0; j < n1; j++) CHECK(h1[j].doc == h2[j].doc && h1[j].score == h2[j].score);
        CHECK(s2.postings_decoded == s2.postings_total);
        dec_p += s1.postings_decoded;
        dec_x += s2.postings_decoded;
    }
    /* The frequent term's list is mostly skipped block by block. */
    CHECKF(dec_p * 2 < dec_x, "pruned search decoded %zu postings, exhaustive %zu", dec_p, dec_x);
    {
        ds_index_stats s;
        ds_index_info(&ix, &s);
        CHECK(s.docs == 20000 && s.postings > 20000 && s.posting_bytes < s.postings * 3);
    }
    ds_index_free(&ix);
}

/* ---- bad input, ids, tokens, stop words, user tokenizer ------------------- */

static ds_status split_commas(void *ctx, const char *text, size_t len, ds_text_emit emit, void *ectx) {
    size_t i, s = 0;
    (void)ctx;
    for (i = 0; i <= len; i++)
        if (i == len || text[i] == ',') {
            ds_status st = emit(ectx, text + s, i - s); /* empty pieces: DS_EINVAL */
            if (st != DS_OK) return st;
            s = i + 1;
        }
    return DS_OK;
}

void test_text_edges(void) {
    ds_index ix;
    ds_index_params p = ds_index_params_default();
    ds_index_hit h[4];
    size_t n;
    const char *toks[3] = {"x y", "z", "x y"};
    size_t lens[3] = {3, 1, 3}, zl[1] = {0};
    uint32_t ids[4] = {7, 9, 7, 70000};
    ds_index_stats s;
    CHECK(ds_index_init(NULL, NULL, NULL) == DS_EINVAL);
    p.b = 1.5;
    CHECK(ds_index_init(&ix, &p, NULL) == DS_EINVAL);
    p.b = 0.5;
    p.k1 = -1;
    CHECK(ds_index_init(&ix, &p, NULL) == DS_EINVAL);
    p.k1 = NAN;
    CHECK(ds_index_init(&ix, &p, NULL) == DS_EINVAL);
    ds_index_free(NULL);
    memset(&ix, 0, sizeof ix);
    ds_index_free(&ix);
    CHECK(ds_index_init(&ix, NULL, NULL) == DS_OK);
    CHECK(ds_index_search(&ix, "a", 1, 0, 4, h, &n, NULL) == DS_OK && n == 0);
    CHECK(ds_index_put(NULL, 1, "a", 1) == DS_EINVAL && ds_index_put(&ix, 1, NULL, 1) == DS_EINVAL);
    CHECK(ds_index_search(&ix, "a", 1, 0, 0, h, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_search(&ix, "a", 1, 0, 4, NULL, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_search(&ix, "a", 1, 64, 4, h, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_add_stopword(&ix, "", 0) == DS_EINVAL && ds_index_add_stopword(&ix, NULL, 1) == DS_EINVAL);
    CHECK(ds_index_del(&ix, 5) == DS_ENOTFOUND && ds_index_del(NULL, 5) == DS_EINVAL);
    /* Empty documents count in N and match nothing. */
    CHECK(ds_index_put(&ix, 1, NULL, 0) == DS_OK && ds_index_put(&ix, 2, "...", 3) == DS_OK);
    CHECK(ds_index_len(&ix) == 2 && ds_index_insert(&ix, 2, "a", 1) == DS_EEXIST);
    CHECK(ds_index_put(&ix, 3, "the cat", 7) == DS_OK);
    CHECK(ds_index_search(&ix, "cat", 3, 0, 4, h, &n, NULL) == DS_OK && n == 1 && h[0].doc == 3);
    /* idf = log((3 - 1 + 0.5) / 1.5), dl 2, avgdl 2/3 */
    {
        double idf = log(2.5 / 1.5), want = idf * ((1 * 2.2) / (1 + 1.2 * (1 - 0.75 + 0.75 * 2 / (2.0 / 3))));
        CHECK(h[0].score == want);
    }
    /* Stop words: dropped from later documents and from queries. */
    CHECK(ds_index_add_stopword(&ix, "the", 3) == DS_OK && ds_index_add_stopword(&ix, "the", 3) == DS_OK);
    CHECK(ds_index_put(&ix, 4, "The the THE dog", 15) == DS_OK);
    CHECK(ds_index_search(&ix, "the", 3, 0, 4, h, &n, NULL) == DS_OK && n == 0);
    CHECK(ds_index_search(&ix, "the dog", 7, DS_INDEX_ALL, 4, h, &n, NULL) == DS_OK && n == 1 && h[0].doc == 4);
    ds_index_info(&ix, &s);
    CHECK(s.docs == 4 && s.tokens == 3 && s.stopwords == 1);
    CHECK(ds_index_df(&ix, "dog", 3) == 1 && ds_index_df(&ix, "cat", 3) == 1 && ds_index_df(&ix, "cow", 3) == 0);
    CHECK(ds_index_df(NULL, "dog", 3) == 0 && ds_index_df(&ix, NULL, 3) == 0);
    /* Tokens and ids. */
    CHECK(ds_index_put_tokens(&ix, 5, toks, lens, 3) == DS_OK);
    CHECK(ds_index_put_tokens(&ix, 6, toks, zl, 1) == DS_EINVAL && !ds_index_has(&ix, 6));
    CHECK(ds_index_put_tokens(&ix, 6, NULL, lens, 1) == DS_EINVAL);
    CHECK(ds_index_search_tokens(&ix, toks, lens, 1, 0, 4, h, &n, NULL) == DS_OK && n == 1 && h[0].doc == 5);
    CHECK(ds_index_search(&ix, "x y", 3, 0, 4, h, &n, NULL) == DS_OK && n == 0);
    CHECK(ds_index_put_ids(&ix, 7, ids, 4) == DS_OK && ds_index_put_ids(&ix, 8, NULL, 1) == DS_EINVAL);
    CHECK(ds_index_search_ids(&ix, ids + 3, 1, 0, 4, h, &n, NULL) == DS_OK && n == 1 && h[0].doc == 7);
    CHECK(ds_index_search_ids(&ix, ids, 2, DS_INDEX_ALL | DS_INDEX_TFIDF, 4, h, &n, NULL) == DS_OK && n == 1);
    /* A user tokenizer; zero-length tokens are refused. */
    CHECK(ds_index_set_tokenizer(&ix, split_commas, NULL) == DS_OK);
    CHECK(ds_index_put(&ix, 9, "New York,Paris", 14) == DS_OK);
    CHECK(ds_index_put(&ix, 10, "a,,b", 4) == DS_EINVAL && !ds_index_has(&ix, 10));
    CHECK(ds_index_search(&ix, "New York", 8, 0, 4, h, &n, NULL) == DS_OK && n == 1 && h[0].doc == 9);
    CHECK(ds_index_set_tokenizer(&ix, NULL, NULL) == DS_OK);
    /* Update moves a document; deleting everything leaves no hits. */
    CHECK(ds_index_put(&ix, 3, "dog", 3) == DS_OK);
    CHECK(ds_index_search(&ix, "cat", 3, 0, 4, h, &n, NULL) == DS_OK && n == 0);
    CHECK(ds_index_search(&ix, "dog", 3, 0, 4, h, &n, NULL) == DS_OK && n == 2 && h[0].doc == 3);
    CHECK(ds_index_del(&ix, 3) == DS_OK && ds_index_del(&ix, 4) == DS_OK);
    CHECK(ds_index_search(&ix, "dog", 3, DS_INDEX_ALL, 4, h, &n, NULL) == DS_OK && n == 0);
    CHECK(ds_index_compact(&ix) == DS_OK && ds_index_len(&ix) == 5 && ds_index_has(&ix, 9));
    ds_index_free(&ix);
}

/* ---- OOM: strong guarantee against a twin that never fails ---------------- */

static int tx_same(ds_index *a, ds_index *b) {
    ds_membuf x, y;
    int same;
    ds_membuf_init(&x, NULL);
    ds_membuf_init(&y, NULL);
    if (ds_index_save(a, ds_membuf_writer(&x)) != DS_OK) {
        ds_membuf_free(&x);
        ds_membuf_free(&y);
        return 1; /* the failing allocator refused the save's scratch: nothing to compare */
    }
    same = ds_index_save(b, ds_membuf_writer(&y)) == DS_OK && x.len == y.len &&
           memcmp(x.data, y.data, x.len) == 0 && ds_index_len(a) == ds_index_len(b);
    if (!same) {
        size_t i = 0;
        while (i < x.len && i < y.len && x.data[i] == y.data[i]) i++;
        fprintf(stderr, "    images differ: %zu vs %zu bytes, first at %zu; len %zu vs %zu\n", x.len, y.len, i,
                ds_index_len(a), ds_index_len(b));
    }
    ds_membuf_free(&x);
    ds_membuf_free(&y);
    return same;
}

static int text_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_index ix, twin;
    ds_rng r;
    int step;
    static const char *words[] = {"alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta",
                                  "iota", "kappa", "lambda", "mu"};
    ds_index_params p = ds_index_params_default();
    ds_rng_seed(&r, seed);
    p.positions = (int)(seed & 1); /* odd seeds: positions and phrase queries */
    CHECK_OR(ds_index_init(&ix, &p, &pa->a) == DS_OK && ds_index_init(&twin, &p, NULL) == DS_OK, 1);
    for (step = 0; step < 60; step++) {
        unsigned op = (unsigned)ds_rng_below(&r, 10);
        ds_index_stats s0, s1;
        uint64_t id = ds_rng_below(&r, 12);
        char text[4096];
        /* now and then a long document: the token buffers leave the stack */
        size_t len = 0, i, n = ds_rng_below(&r, 12) ? ds_rng_below(&r, 10) : 150 + ds_rng_below(&r, 100);
        long before = PROP_FAILS(pa);
        ds_status st, st2;
        ds_index_info(&ix, &s0);
        for (i = 0; i < n; i++) {
            /* mostly known words, sometimes fresh ones (new terms) */
            if (ds_rng_below(&r, 4)) len += (size_t)sprintf(text + len, "%s ", words[ds_rng_below(&r, 12)]);
            else len += (size_t)sprintf(text + len, "n%d%u ", step, (unsigned)i);
        }
        if (op < 5) {
            st = ds_index_put(&ix, id, text, len);
            st2 = st == DS_OK ? ds_index_put(&twin, id, text, len) : DS_OK;
        } else if (op < 6) {
            st = ds_index_insert(&ix, id, text, len);
            st2 = st == DS_OK ? ds_index_insert(&twin, id, text, len) : DS_OK;
        } else if (op < 7) {
            st = ds_index_del(&ix, id);
            st2 = st == DS_OK ? ds_index_del(&twin, id) : DS_OK;
        } else if (op < 8) {
            const char *w = words[ds_rng_below(&r, 12)];
            if (ds_rng_below(&r, 3)) continue;
            st = ds_index_add_stopword(&ix, w, strlen(w));
            st2 = st == DS_OK ? ds_index_add_stopword(&twin, w, strlen(w)) : DS_OK;
        } else if (op < 9) {
            st = ds_rng_below(&r, 3) ? DS_OK : ds_index_compact(&ix);
            st2 = DS_OK;
        } else {
            ds_index_hit h1[5], h2[5];
            size_t n1, n2, j;
            int f = (int)ds_rng_below(&r, 4);
            if (p.positions && ds_rng_below(&r, 2)) { /* a phrase from a known document's words */
                len = (size_t)sprintf(text, "%s %s", words[ds_rng_below(&r, 12)], words[ds_rng_below(&r, 12)]);
                st = ds_index_search_phrase(&ix, text, len, f & 1, 5, h1, &n1, NULL);
                st2 = ds_index_search_phrase(&twin, text, len, f & 1, 5, h2, &n2, NULL);
            } else {
                st = ds_index_search(&ix, text, len, f, 5, h1, &n1, NULL);
                st2 = ds_index_search(&twin, text, len, f, 5, h2, &n2, NULL);
            }
            if (st == DS_OK) {
                CHECK_OR(n1 == n2, 1);
                for (j = 0; j < n1; j++) CHECK_OR(h1[j].doc == h2[j].doc && h1[j].score == h2[j].score, 1);
            }
        }
        CHECK_OR(st2 == DS_OK, 1);
        if (st == DS_ENOMEM) CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
        else CHECK_OR(st == DS_OK || st == DS_EEXIST || st == DS_ENOTFOUND, 1);
        if (st != DS_OK) { /* a failed operation: nothing grown and kept either */
            ds_index_info(&ix, &s1);
            if (s1.memory != s0.memory)
                fprintf(stderr, "    step %d op %u: %s, memory %zu -> %zu\n", step, op, ds_status_name(st), s0.memory,
                        s1.memory);
            CHECK_OR(s1.memory == s0.memory, 1);
        }
        if (!tx_same(&ix, &twin)) {
            fprintf(stderr, "    step %d op %u: %s (twin %s), fail_at %ld attempts %ld\n", step, op, ds_status_name(st),
                   ds_status_name(st2), pa ? pa->fail_at : 0L, pa ? pa->attempts : 0L);
            CHECK_OR(0, 1);
        }
    }
    ds_index_free(&ix);
    ds_index_free(&twin);
    return 0;
}

void test_text_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(text_oom_seq, 5, &total) == 0 && total > 50);
    CHECK(prop_oom_sweep(text_oom_seq, 6, &total) == 0 && total > 50); /* 5 keeps positions, 6 not */
}

/* ---- save/load: corrupt images, pipes ---------------------------------- */

void test_text_save_load(void) {
    ds_index ix;
    ds_membuf b;
    size_t i;
    ds_index_hit h[3];
    size_t n;
    CHECK(ds_index_init(&ix, NULL, NULL) == DS_OK);
    CHECK(ds_index_add_stopword(&ix, "of", 2) == DS_OK);
    for (i = 0; i < 12; i++) {
        char t[64];
        int l = snprintf(t, sizeof t, "doc %u of set %u, word%u", (unsigned)i, (unsigned)(i % 3), (unsigned)(i * 7 % 5));
        CHECK(ds_index_put(&ix, 100 + i * 3, t, (size_t)l) == DS_OK);
    }
    CHECK(ds_index_del(&ix, 103) == DS_OK);
    tx_save(&ix, &b);
    check_load_rejects(b.data, b.len, ix_load_v, ix_free_v, sizeof(ds_index), 1);
    /* A loaded index answers like the original. */
    {
        ds_index t;
        ds_memsrc src;
        ds_reader r = ds_mem_reader(&src, b.data, b.len);
        ds_index_hit h2[3];
        size_t n2;
        CHECK(ds_index_load(&t, &r, NULL) == DS_OK);
        CHECK(ds_index_search(&ix, "set word2 of", 12, 0, 3, h, &n, NULL) == DS_OK);
        CHECK(ds_index_search(&t, "set word2 of", 12, 0, 3, h2, &n2, NULL) == DS_OK);
        CHECK(n == 3 && n2 == 3);
        for (i = 0; i < n; i++) CHECK(h[i].doc == h2[i].doc && h[i].score == h2[i].score);
        CHECK(ds_index_load(NULL, &r, NULL) == DS_EINVAL && ds_index_save(NULL, ds_membuf_writer(&b)) == DS_EINVAL);
        ds_index_free(&t);
    }
    ds_membuf_free(&b);
    /* A positional index: the same, and its phrases survive the trip. */
    ds_index_free(&ix);
    {
        ds_index_params pp = ds_index_params_default();
        ds_index t;
        ds_memsrc src;
        ds_reader r;
        ds_index_hit h2[3];
        size_t n2;
        ds_membuf b2;
        pp.positions = 1;
        CHECK(ds_index_init(&ix, &pp, NULL) == DS_OK);
        CHECK(ds_index_add_stopword(&ix, "of", 2) == DS_OK);
        for (i = 0; i < 12; i++) {
            char tx[96];
            int l = snprintf(tx, sizeof tx, "doc %u of set %u, word%u new york new york%u", (unsigned)i,
                             (unsigned)(i % 3), (unsigned)(i * 7 % 5), (unsigned)(i % 2));
            CHECK(ds_index_put(&ix, 100 + i * 3, tx, (size_t)l) == DS_OK);
        }
        CHECK(ds_index_del(&ix, 103) == DS_OK && ds_index_put(&ix, 106, "of set new york", 15) == DS_OK);
        tx_save(&ix, &b);
        check_load_rejects(b.data, b.len, ix_load_v, ix_free_v, sizeof(ds_index), 1);
        r = ds_mem_reader(&src, b.data, b.len);
        CHECK(ds_index_load(&t, &r, NULL) == DS_OK);
        CHECK(ds_index_search_phrase(&ix, "new york", 8, 0, 3, h, &n, NULL) == DS_OK && n == 3);
        CHECK(ds_index_search_phrase(&t, "new york", 8, 0, 3, h2, &n2, NULL) == DS_OK && n2 == 3);
        for (i = 0; i < n; i++) CHECK(h[i].doc == h2[i].doc && h[i].score == h2[i].score);
        CHECK(ds_index_search_phrase(&t, "doc 7 of set", 12, 0, 3, h2, &n2, NULL) == DS_OK && n2 == 1 &&
              h2[0].doc == 121);
        tx_save(&t, &b2); /* the same bytes back */
        CHECK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
        CHECK(ds_index_compact(&t) == DS_OK);
        CHECK(ds_index_search_phrase(&t, "new york", 8, 0, 3, h2, &n2, NULL) == DS_OK && n2 == 3);
        for (i = 0; i < n; i++) CHECK(h[i].doc == h2[i].doc && h[i].score == h2[i].score);
        ds_membuf_free(&b2);
        ds_membuf_free(&b);
        ds_index_free(&t);
        ds_index_free(&ix);
    }
    /* A version-1 image (saved by the code before positions, format
     * "DSix" v1: no flags field) still loads: stop word "the"; 10 "new
     * york is big", 30 "york new", 40 "big big york" (20 deleted). */
    {
        static const unsigned char v1[] = {
            0x44, 0x53, 0x69, 0x78, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0xf3, 0x3f, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xe8, 0x3f, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x34, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x04, 0x1e, 0x02,
    0x28, 0x03, 0x03, 0x62, 0x69, 0x67, 0x00, 0x02, 0x00, 0x01, 0x02, 0x02,
    0x02, 0x69, 0x73, 0x00, 0x01, 0x00, 0x01, 0x03, 0x6e, 0x65, 0x77, 0x00,
    0x02, 0x00, 0x01, 0x01, 0x01, 0x03, 0x74, 0x68, 0x65, 0x01, 0x00, 0x04,
    0x79, 0x6f, 0x72, 0x6b, 0x00, 0x03, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01,
    0xb5, 0x0c, 0x28, 0x91, 0xca, 0xb5, 0x70, 0x17
        };
        ds_index t;
        ds_memsrc src;
        ds_reader r = ds_mem_reader(&src, v1, sizeof v1);
        ds_index_stats st;
        CHECK(ds_index_load(&t, &r, NULL) == DS_OK);
        ds_index_info(&t, &st);
        CHECK(st.docs == 3 && st.tokens == 9 && st.stopwords == 1 && st.position_bytes == 0);
        CHECK(ds_index_search(&t, "york", 4, 0, 3, h, &n, NULL) == DS_OK && n == 3);
        CHECK(ds_index_search(&t, "big", 3, 0, 3, h, &n, NULL) == DS_OK && n == 2 && h[0].doc == 40);
        CHECK(ds_index_search_phrase(&t, "new york", 8, 0, 3, h, &n, NULL) == DS_EINVAL); /* no positions */
        check_load_rejects(v1, sizeof v1, ix_load_v, ix_free_v, sizeof(ds_index), 1);
        ds_index_free(&t);
    }
    /* An empty index round-trips. */
    CHECK(ds_index_init(&ix, NULL, NULL) == DS_OK);
    tx_save(&ix, &b);
    check_load_rejects(b.data, b.len, ix_load_v, ix_free_v, sizeof(ds_index), 1);
    ds_membuf_free(&b);
    ds_index_free(&ix);
}

/* Hostile payloads with valid checksums: every byte of a saved image's
 * payload (and the header counts) changed, the checksum recomputed: load
 * says DS_OK or DS_ECORRUPT, leaks nothing, and what it accepts saves back
 * to a loadable image. */
static void reseal(const unsigned char *img, size_t len, ds_membuf *out) {
    ds__enc e;
    size_t i, off = 12 + 8 * 8;
    ds_membuf_init(out, NULL);
    ds__enc_init(&e, ds_membuf_writer(out), "DSix", 2);
    for (i = 0; i < 8; i++) {
        uint64_t v = 0;
        int j;
        for (j = 7; j >= 0; j--) v = (v << 8) | img[12 + 8 * i + (size_t)j];
        ds__put_u64(&e, v);
    }
    while (off < len - 8) {
        size_t c = len - 8 - off < 4096 ? len - 8 - off : 4096;
        ds__put(&e, img + off, c);
        off += c;
    }
    (void)ds__enc_end(&e);
}

static void text_hostile(int positions) {
    ds_index ix;
    ds_membuf b;
    size_t i, pos, accepted = 0;
    prop_alloc pa;
    unsigned char *copy;
    ds_index_params p = ds_index_params_default();
    p.positions = positions;
    CHECK(ds_index_init(&ix, &p, NULL) == DS_OK);
    CHECK(ds_index_add_stopword(&ix, "zz", 2) == DS_OK);
    for (i = 0; i < 6; i++) {
        char t[64];
        int l = snprintf(t, sizeof t, "a%u b c%u a", (unsigned)(i % 2), (unsigned)i);
        CHECK(ds_index_put(&ix, i * 5, t, (size_t)l) == DS_OK);
    }
    tx_save(&ix, &b);
    ds_index_free(&ix);
    CHECK((copy = (unsigned char *)malloc(b.len)) != NULL);
    prop_alloc_init(&pa);
    for (pos = 20; pos + 8 < b.len; pos++) {
        static const unsigned char vals[] = {0, 1, 2, 3, 5, 0x7f, 0x80, 0xff};
        size_t v;
        for (v = 0; v < sizeof vals; v++) {
            ds_membuf h;
            ds_memsrc src;
            ds_reader r;
            ds_index t;
            ds_status st;
            memcpy(copy, b.data, b.len);
            if (pos < 12 + 64 && (pos - 12) % 8 != 0) continue; /* header: low bytes only */
            copy[pos] = vals[v];
            reseal(copy, b.len, &h);
            r = ds_mem_reader(&src, h.data, h.len);
            st = ds_index_load(&t, &r, &pa.a);
            CHECKF(st == DS_OK || st == DS_ECORRUPT, "byte %zu = %u: %s", pos, vals[v], ds_status_name(st));
            if (st == DS_OK) {
                ds_membuf again;
                ds_index t2;
                ds_index_hit hh[4];
                size_t nh;
                accepted++;
                CHECK(ds_index_search(&t, "a0 b c3", 7, 0, 4, hh, &nh, NULL) == DS_OK);
                if (t.p.positions) CHECK(ds_index_search_phrase(&t, "c3 a", 4, 0, 4, hh, &nh, NULL) == DS_OK);
                tx_save(&t, &again);
                r = ds_mem_reader(&src, again.data, again.len);
                CHECK(ds_index_load(&t2, &r, NULL) == DS_OK);
                ds_index_free(&t2);
                ds_membuf_free(&again);
                ds_index_free(&t);
            }
            ds_membuf_free(&h);
        }
    }
    CHECKF(pa.live_bytes == 0 && pa.size_errors == 0, "hostile loads leaked %zu bytes", pa.live_bytes);
    CHECK(accepted > 0); /* some edits are consistent (an id changed) */
    free(copy);
    ds_membuf_free(&b);
}
void test_text_hostile(void) {
    text_hostile(0);
    text_hostile(1);
}

/* ---- reciprocal-rank fusion -------------------------------------------- */

void test_text_rrf(void) {
    uint64_t a[4] = {1, 2, 3, 4}, b[4] = {3, 1, 5, 3};
    const uint64_t *lists[2] = {a, b};
    size_t lens[2] = {4, 4}, n;
    ds_index_hit h[8];
    prop_alloc pa;
    long k;
    CHECK(ds_rrf_fuse(lists, lens, 2, 60, 8, h, &n, NULL) == DS_OK && n == 5);
    /* 1: 1/61 + 1/62; 3: 1/63 + 1/61 (its second place in b ignored) */
    CHECK(h[0].doc == 1 && h[0].score == 1.0 / 61 + 1.0 / 62);
    CHECK(h[1].doc == 3 && h[1].score == 1.0 / 63 + 1.0 / 61);
    CHECK(h[2].doc == 2 && h[3].doc == 5 && h[4].doc == 4);
    CHECK(h[3].score == 1.0 / 63 && h[2].score == 1.0 / 62);
    CHECK(ds_rrf_fuse(lists, lens, 2, 0, 2, h, &n, NULL) == DS_OK && n == 2 && h[1].doc == 3);
    CHECK(ds_rrf_fuse(NULL, NULL, 0, 60, 2, h, &n, NULL) == DS_OK && n == 0);
    CHECK(ds_rrf_fuse(lists, NULL, 2, 60, 2, h, &n, NULL) == DS_EINVAL);
    CHECK(ds_rrf_fuse(lists, lens, 2, 60, 0, h, &n, NULL) == DS_EINVAL);
    prop_alloc_init(&pa);
    for (k = 1; k <= 2; k++) {
        prop_alloc_fail_in(&pa, k, 0);
        CHECK(ds_rrf_fuse(lists, lens, 2, 60, 8, h, &n, &pa.a) == DS_ENOMEM && n == 0);
    }
    CHECK(pa.live_bytes == 0);
}

/* ---- phrase queries: bad input, stop words, ids, FTS5's counting ------- */

void test_text_phrase(void) {
    ds_index ix, plain;
    ds_index_params p = ds_index_params_default();
    ds_index_hit h[4];
    size_t n, i;
    const char *toks[2] = {"new", "york"};
    size_t lens[2] = {3, 4};
    uint32_t ids1[6] = {5, 6, 7, 5, 6, 9}, ids2[3] = {6, 5, 6}, q56[2] = {5, 6}, q65[2] = {6, 5};
    ds_index_stats s;
    ds_index_qstats qs;
    CHECK(ds_index_init(&plain, NULL, NULL) == DS_OK);
    CHECK(ds_index_put(&plain, 1, "new york", 8) == DS_OK);
    CHECK(ds_index_search_phrase(&plain, "new york", 8, 0, 4, h, &n, NULL) == DS_EINVAL && n == 0);
    ds_index_info(&plain, &s);
    CHECK(s.position_bytes == 0);
    p.positions = 2;
    CHECK(ds_index_init(&ix, &p, NULL) == DS_EINVAL);
    p.positions = 1;
    CHECK(ds_index_init(&ix, &p, NULL) == DS_OK);
    CHECK(ds_index_search_phrase(&ix, "new york", 8, 0, 4, h, &n, NULL) == DS_OK && n == 0); /* empty index */
    CHECK(ds_index_add_stopword(&ix, "of", 2) == DS_OK && ds_index_add_stopword(&ix, "the", 3) == DS_OK);
    CHECK(ds_index_put(&ix, 1, "New York, New York", 18) == DS_OK);
    CHECK(ds_index_put(&ix, 2, "york new; new... york", 21) == DS_OK);
    CHECK(ds_index_put(&ix, 3, "university of york", 18) == DS_OK);
    CHECK(ds_index_put(&ix, 4, "university york, the university the york", 40) == DS_OK);
    CHECK(ds_index_put(&ix, 5, "a a a b", 7) == DS_OK);
    /* Bad input: no tokens, k 0, flags, NULLs. */
    CHECK(ds_index_search_phrase(&ix, "", 0, 0, 4, h, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_search_phrase(&ix, " ,. ", 4, 0, 4, h, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_search_phrase(&ix, "new", 3, 0, 0, h, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_search_phrase(&ix, "new", 3, 64, 4, h, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_search_phrase(&ix, "new", 3, 0, 4, NULL, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_search_phrase(NULL, "new", 3, 0, 4, h, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_search_phrase_tokens(&ix, toks, lens, 0, 0, 4, h, &n, NULL) == DS_EINVAL);
    CHECK(ds_index_search_phrase_ids(&ix, NULL, 2, 0, 4, h, &n, NULL) == DS_EINVAL);
    /* Unknown terms, only stop words: no hits. */
    CHECK(ds_index_search_phrase(&ix, "new jersey", 10, 0, 4, h, &n, NULL) == DS_OK && n == 0);
    CHECK(ds_index_search_phrase(&ix, "the of", 6, 0, 4, h, &n, NULL) == DS_OK && n == 0);
    /* In order, adjacent: doc 1 twice, doc 2 once. */
    CHECK(ds_index_search_phrase(&ix, "new york", 8, 0, 4, h, &n, &qs) == DS_OK && n == 2);
    CHECK(h[0].doc == 1 && h[1].doc == 2 && qs.terms == 2 && qs.docs_scored == 2);
    CHECK(ds_index_search_phrase_tokens(&ix, toks, lens, 2, DS_INDEX_TFIDF, 4, h, &n, NULL) == DS_OK && n == 2);
    /* "york new" only in 1 (across the comma) and 2. */
    CHECK(ds_index_search_phrase(&ix, "york new", 8, 0, 4, h, &n, NULL) == DS_OK && n == 2);
    /* A stop word inside matches any one token; at the ends it is dropped. */
    CHECK(ds_index_search_phrase(&ix, "university of york", 18, 0, 4, h, &n, NULL) == DS_OK && n == 2);
    CHECK(h[0].doc == 3 || h[1].doc == 3);
    CHECK(ds_index_search_phrase(&ix, "the university york of", 22, 0, 4, h, &n, NULL) == DS_OK && n == 1 &&
          h[0].doc == 4);
    /* Overlapping occurrences count (as FTS5 counts phrase instances):
     * "a a" twice in "a a a b"; the same score as a term of tf 2, df 1. */
    CHECK(ds_index_search_phrase(&ix, "a a", 3, 0, 4, h, &n, NULL) == DS_OK && n == 1 && h[0].doc == 5);
    {
        double N = 5, avgdl = (double)(4 + 4 + 2 + 4 + 4) / 5, f = 2, D = 4;
        double idf = log((N - 1 + 0.5) / (1 + 0.5));
        CHECK(h[0].score == idf * ((f * 2.2) / (f + 1.2 * (1 - 0.75 + 0.75 * D / avgdl))));
    }
    /* A one-word phrase scores as the term does. */
    {
        ds_index_hit g[4];
        size_t m;
        CHECK(ds_index_search_phrase(&ix, "york", 4, 0, 4, h, &n, NULL) == DS_OK && n == 4);
        CHECK(ds_index_search(&ix, "york", 4, 0, 4, g, &m, NULL) == DS_OK && m == 4);
        for (i = 0; i < n; i++) CHECK(h[i].doc == g[i].doc && h[i].score == g[i].score);
    }
    /* Deletes and updates. */
    CHECK(ds_index_del(&ix, 1) == DS_OK);
    CHECK(ds_index_search_phrase(&ix, "new york", 8, 0, 4, h, &n, NULL) == DS_OK && n == 1 && h[0].doc == 2);
    CHECK(ds_index_put(&ix, 2, "york", 4) == DS_OK);
    CHECK(ds_index_search_phrase(&ix, "new york", 8, 0, 4, h, &n, NULL) == DS_OK && n == 0);
    ds_index_info(&ix, &s);
    CHECK(s.position_bytes > 0);
    /* Token ids: [5 6 7 5 6 9] holds 5 6 twice, [6 5 6] once; 6 5 only in the second. */
    CHECK(ds_index_put_ids(&ix, 10, ids1, 6) == DS_OK && ds_index_put_ids(&ix, 11, ids2, 3) == DS_OK);
    CHECK(ds_index_search_phrase_ids(&ix, q56, 2, 0, 4, h, &n, NULL) == DS_OK && n == 2 && h[0].doc == 10);
    CHECK(ds_index_search_phrase_ids(&ix, q65, 2, 0, 4, h, &n, NULL) == DS_OK && n == 1 && h[0].doc == 11);
    ds_index_free(&ix);
    ds_index_free(&plain);
}
