/* tests/fts5_text.c - ds_index's BM25 against SQLite FTS5's bm25().
 *
 * The corpus: 12,000 real documents, Debian package names and
 * descriptions (tests/data/debian/descriptions.txt.xz, read through
 * `xz -dc`; see tests/data/README.md). Each document goes into a ds_index
 * as text (the default tokenizer) and into an FTS5 table as the same
 * tokens joined by spaces, with tokenize='ascii' (the tokens hold no
 * ASCII separator, so FTS5 sees exactly the same tokens). Queries of 1 to
 * 4 distinct terms drawn from the documents, as "any term" (FTS5 OR) and
 * "all terms" (AND): our top 20 against every FTS5 match sorted by
 * -bm25() then rowid. Identical ranking (documents may swap only where
 * their scores tie to 1e-12) and scores within 1e-9 relative; the match
 * counts agree for conjunctive queries. Phrase queries ("a b c", 2 to 4
 * consecutive tokens of a live document) against an index that keeps
 * positions: FTS5 scores a phrase by its occurrences in the row and the
 * rows holding it, and so does ds_index_search_phrase; same checks, and
 * the match counts agree. Then again after deleting and updating
 * documents in both. Missing data or SQLite is a failure with a message,
 * never a skip. */
#define _POSIX_C_SOURCE 200809L /* popen */
#define DS_TEXT_IMPLEMENTATION
#include "prop.h"
#include "ds_text.h"
#include <math.h>
#include <sqlite3.h>

typedef struct fts_corpus {
    char **text;   /* original line (description) */
    char **toks;   /* tokens joined by spaces */
    size_t n;
} fts_corpus;

typedef struct joinbuf {
    char *p;
    size_t len, cap;
} joinbuf;
static ds_status join_emit(void *ctx, const char *tok, size_t len) {
    joinbuf *b = (joinbuf *)ctx;
    if (b->len + len + 2 > b->cap) {
        size_t nc = (b->cap + len + 2) * 2;
        char *q = (char *)realloc(b->p, nc);
        if (!q) return DS_ENOMEM;
        b->p = q;
        b->cap = nc;
    }
    if (b->len) b->p[b->len++] = ' ';
    memcpy(b->p + b->len, tok, len);
    b->len += len;
    b->p[b->len] = 0;
    return DS_OK;
}
static char *join_tokens(const char *s, size_t len) {
    joinbuf b = {NULL, 0, 0};
    if (ds_text_tokenize(s, len, join_emit, &b) != DS_OK) {
        free(b.p);
        return NULL;
    }
    if (!b.p) b.p = (char *)calloc(1, 1);
    return b.p;
}

static int corpus_read(fts_corpus *c) {
    char path[512], cmd[600], line[65536];
    FILE *f;
    size_t cap = 0;
    memset(c, 0, sizeof *c);
    snprintf(path, sizeof path, "%s/debian/descriptions.txt.xz", prop_data_dir());
    if (!(f = fopen(path, "rb"))) return 0;
    fclose(f);
    snprintf(cmd, sizeof cmd, "xz -dc '%s'", path);
    if (!(f = popen(cmd, "r"))) return 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        char *tab;
        line[len] = 0;
        if ((tab = strchr(line, '\t'))) *tab = ' '; /* name and description: one text */
        if (c->n == cap) {
            cap = cap ? 2 * cap : 1024;
            c->text = (char **)realloc(c->text, cap * sizeof *c->text);
            c->toks = (char **)realloc(c->toks, cap * sizeof *c->toks);
            if (!c->text || !c->toks) break;
        }
        c->text[c->n] = (char *)malloc(len + 1);
        memcpy(c->text[c->n], line, len + 1);
        c->toks[c->n] = join_tokens(line, len);
        c->n++;
    }
    return pclose(f) == 0 && c->n > 0;
}
static void corpus_free(fts_corpus *c) {
    size_t i;
    for (i = 0; i < c->n; i++) {
        free(c->text[i]);
        free(c->toks[i]);
    }
    free(c->text);
    free(c->toks);
}

typedef struct fhit {
    int64_t rowid;
    double score;
} fhit;
static int fhit_cmp(const void *a, const void *b) {
    const fhit *x = (const fhit *)a, *y = (const fhit *)b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

/* Runs nq random queries against both; 0 on agreement. */
static int compare_queries(sqlite3 *db, const ds_index *ix, const fts_corpus *c, const int *live, ds_rng *r,
                           int nq, int *checked) {
    sqlite3_stmt *st;
    fhit *fh = (fhit *)malloc(c->n * sizeof *fh);
    int qi, ok = 0;
    size_t ranks = 0;
    CHECK_OR(fh != NULL, 1);
    CHECK_OR(sqlite3_prepare_v2(db, "SELECT rowid, bm25(t) FROM t WHERE t MATCH ?", -1, &st, NULL) == SQLITE_OK, 1);
    for (qi = 0; qi < nq && !ok; qi++) {
        char terms[4][300], match[1400], qtext[1300];
        size_t nt = 1 + ds_rng_below(r, 4), t, qlen = 0, mlen = 0, nf = 0, nh, i;
        int all = (int)ds_rng_below(r, 3) == 0, rc;
        ds_index_hit hits[20];
        /* Terms: tokens of random live documents, distinct. */
        for (t = 0; t < nt;) {
            size_t d = ds_rng_below(r, c->n), ntok = 0, pick, j;
            const char *s = c->toks[d], *e;
            if (!live[d] || !*s) continue;
            for (e = s; *e; e++) ntok += *e == ' ';
            pick = ds_rng_below(r, ntok + 1);
            for (e = s; pick; e++)
                if (*e == ' ') pick--;
            j = strcspn(e, " ");
            memcpy(terms[t], e, j);
            terms[t][j] = 0;
            for (j = 0; j < t && strcmp(terms[j], terms[t]) != 0; j++) {}
            if (j == t) t++;
        }
        for (t = 0; t < nt; t++) {
            qlen += (size_t)sprintf(qtext + qlen, "%s%s", t ? " " : "", terms[t]);
            mlen += (size_t)sprintf(match + mlen, "%s\"%s\"", t ? (all ? " AND " : " OR ") : "", terms[t]);
        }
        sqlite3_bind_text(st, 1, match, (int)mlen, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            fh[nf].rowid = sqlite3_column_int64(st, 0);
            fh[nf].score = -sqlite3_column_double(st, 1);
            nf++;
        }
        if (rc != SQLITE_DONE) {
            printf("    fts5: %s (%s)\n", sqlite3_errmsg(db), match);
            ok = 1;
            break;
        }
        sqlite3_reset(st);
        qsort(fh, nf, sizeof *fh, fhit_cmp);
        CHECK_OR(ds_index_search(ix, qtext, qlen, all ? DS_INDEX_ALL : 0, 20, hits, &nh, NULL) == DS_OK, 1);
        if (nh != (nf < 20 ? nf : 20)) {
            printf("    query [%s]: %zu hits, fts5 %zu\n", match, nh, nf);
            ok = 1;
            break;
        }
        for (i = 0; i < nh; i++) {
            double s = fh[i].score, rel = fabs(hits[i].score - s) / (fabs(s) > 1e-300 ? fabs(s) : 1);
            if (rel > 1e-9) {
                printf("    query [%s] rank %zu: score %.17g, fts5 %.17g\n", match, i, hits[i].score, s);
                ok = 1;
                break;
            }
            if ((int64_t)hits[i].doc != fh[i].rowid) {
                /* Only a tie (to 1e-12) may order them differently. */
                double o = -1;
                size_t j;
                for (j = 0; j < nf; j++)
                    if (fh[j].rowid == (int64_t)hits[i].doc) o = fh[j].score;
                if (!(o >= 0 && fabs(o - s) <= 1e-12 * fabs(s))) {
                    printf("    query [%s] rank %zu: doc %llu (%.17g), fts5 doc %lld (%.17g)\n", match, i,
                           (unsigned long long)hits[i].doc, hits[i].score, (long long)fh[i].rowid, s);
                    ok = 1;
                    break;
                }
            }
        }
        (*checked)++;
        ranks += nh;
    }
    if (!ok && prop_env_long("DS_VERBOSE", 0)) printf("    %d queries, %zu ranks compared\n", nq, ranks);
    if (!ok && ranks < (size_t)nq * 5) {
        printf("    only %zu ranks compared in %d queries\n", ranks, nq);
        ok = 1;
    }
    sqlite3_finalize(st);
    free(fh);
    return ok;
}

/* Phrase queries: 2-4 consecutive tokens of a random live document, as an
 * FTS5 phrase ("a b c") and through ds_index_search_phrase. 0 on agreement. */
static int compare_phrases(sqlite3 *db, const ds_index *ix, const fts_corpus *c, const int *live, ds_rng *r,
                           int nq, int *checked) {
    sqlite3_stmt *st;
    fhit *fh = (fhit *)malloc(c->n * sizeof *fh);
    ds_index_hit *hits = (ds_index_hit *)malloc(c->n * sizeof *hits);
    int qi, ok = 0;
    size_t ranks = 0, multi = 0;
    CHECK_OR(fh != NULL && hits != NULL, 1);
    CHECK_OR(sqlite3_prepare_v2(db, "SELECT rowid, bm25(t) FROM t WHERE t MATCH ?", -1, &st, NULL) == SQLITE_OK, 1);
    for (qi = 0; qi < nq && !ok; qi++) {
        char match[1400], qtext[1300];
        size_t want = 2 + ds_rng_below(r, 3), ntok = 0, at, qlen, nf = 0, nh, nall, i, d;
        const char *s, *e, *b;
        int rc;
        do d = ds_rng_below(r, c->n);
        while (!live[d]);
        s = c->toks[d];
        if (*s) ntok = 1;
        for (e = s; *e; e++) ntok += *e == ' ';
        if (ntok < want) {
            qi--;
            continue;
        }
        at = ds_rng_below(r, ntok - want + 1);
        for (b = s; at; b++)
            if (*b == ' ') at--;
        for (e = b, i = 0; *e && !(*e == ' ' && ++i == want); e++) {}
        qlen = (size_t)(e - b);
        if (qlen >= sizeof qtext) {
            qi--;
            continue;
        }
        memcpy(qtext, b, qlen);
        qtext[qlen] = 0;
        snprintf(match, sizeof match, "\"%s\"", qtext);
        sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            fh[nf].rowid = sqlite3_column_int64(st, 0);
            fh[nf].score = -sqlite3_column_double(st, 1);
            nf++;
        }
        if (rc != SQLITE_DONE) {
            printf("    fts5: %s (%s)\n", sqlite3_errmsg(db), match);
            ok = 1;
            break;
        }
        sqlite3_reset(st);
        qsort(fh, nf, sizeof *fh, fhit_cmp);
        /* every match (the counts must agree), then the top 20 */
        CHECK_OR(ds_index_search_phrase(ix, qtext, qlen, 0, c->n, hits, &nall, NULL) == DS_OK, 1);
        CHECK_OR(ds_index_search_phrase(ix, qtext, qlen, 0, 20, hits, &nh, NULL) == DS_OK, 1);
        if (nall != nf || nh != (nf < 20 ? nf : 20)) {
            printf("    phrase [%s]: %zu matches (top %zu), fts5 %zu\n", match, nall, nh, nf);
            ok = 1;
            break;
        }
        for (i = 0; i < nh; i++) {
            double sc = fh[i].score, rel = fabs(hits[i].score - sc) / (fabs(sc) > 1e-300 ? fabs(sc) : 1);
            if (rel > 1e-9) {
                printf("    phrase [%s] rank %zu: score %.17g, fts5 %.17g\n", match, i, hits[i].score, sc);
                ok = 1;
                break;
            }
            if ((int64_t)hits[i].doc != fh[i].rowid) {
                double o = -1;
                size_t j;
                for (j = 0; j < nf; j++)
                    if (fh[j].rowid == (int64_t)hits[i].doc) o = fh[j].score;
                if (!(o >= 0 && fabs(o - sc) <= 1e-12 * fabs(sc))) {
                    printf("    phrase [%s] rank %zu: doc %llu (%.17g), fts5 doc %lld (%.17g)\n", match, i,
                           (unsigned long long)hits[i].doc, hits[i].score, (long long)fh[i].rowid, sc);
                    ok = 1;
                    break;
                }
            }
        }
        multi += nf > 1;
        (*checked)++;
        ranks += nh;
    }
    if (!ok && prop_env_long("DS_VERBOSE", 0))
        printf("    %d phrases, %zu ranks compared, %zu with several matches\n", nq, ranks, multi);
    if (!ok && multi < (size_t)nq / 8) {
        printf("    only %zu of %d phrases matched several documents\n", multi, nq);
        ok = 1;
    }
    sqlite3_finalize(st);
    free(fh);
    free(hits);
    return ok;
}

static sqlite3 *fts_open(void) {
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return NULL;
    if (sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='ascii')", NULL, NULL, NULL) !=
        SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}
static int fts_put(sqlite3 *db, sqlite3_stmt *ins, int64_t rowid, const char *toks) {
    int rc;
    (void)db;
    sqlite3_bind_int64(ins, 1, rowid);
    sqlite3_bind_text(ins, 2, toks, -1, SQLITE_STATIC);
    rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    return rc == SQLITE_DONE;
}

static void fts_run(int deletes) {
    fts_corpus c;
    sqlite3 *db;
    sqlite3_stmt *ins, *del;
    ds_index ix, px; /* px keeps positions (phrase queries) */
    ds_index_params pp = ds_index_params_default();
    ds_rng r;
    size_t i;
    int *live, checked = 0;
    if (!corpus_read(&c)) {
        corpus_free(&c);
        PROP_DATA_MISSING("cannot read %s/debian/descriptions.txt.xz through `xz -dc` (apt-get install xz-utils)",
                          prop_data_dir());
    }
    CHECKF(c.n >= 10000, "only %zu documents", c.n);
    CHECKF((db = fts_open()) != NULL, "SQLite without FTS5 (apt-get install libsqlite3-dev)");
    CHECK(ds_index_init(&ix, NULL, NULL) == DS_OK);
    pp.positions = 1;
    CHECK(ds_index_init(&px, &pp, NULL) == DS_OK);
    CHECK((live = (int *)calloc(c.n, sizeof *live)) != NULL);
    CHECK(sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO t(rowid, body) VALUES (?, ?)", -1, &ins, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "DELETE FROM t WHERE rowid = ?", -1, &del, NULL) == SQLITE_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (i = 0; i < c.n; i++) {
        CHECK(fts_put(db, ins, (int64_t)i + 1, c.toks[i]));
        CHECK(ds_index_put(&ix, i + 1, c.text[i], strlen(c.text[i])) == DS_OK);
        CHECK(ds_index_put(&px, i + 1, c.text[i], strlen(c.text[i])) == DS_OK);
        live[i] = 1;
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    ds_rng_seed(&r, deletes ? 99 : 42);
    if (deletes) {
        /* Delete 10% and give 10% another document's text, in both. */
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        for (i = 0; i < c.n / 10; i++) {
            size_t d = ds_rng_below(&r, c.n), s = ds_rng_below(&r, c.n);
            if (live[d]) {
                ds_index_hit h;
                (void)h;
                CHECK(ds_index_del(&ix, d + 1) == DS_OK && ds_index_del(&px, d + 1) == DS_OK);
                sqlite3_bind_int64(del, 1, (int64_t)d + 1);
                CHECK(sqlite3_step(del) == SQLITE_DONE);
                sqlite3_reset(del);
                live[d] = 0;
            }
            d = ds_rng_below(&r, c.n);
            CHECK(ds_index_put(&ix, d + 1, c.text[s], strlen(c.text[s])) == DS_OK);
            CHECK(ds_index_put(&px, d + 1, c.text[s], strlen(c.text[s])) == DS_OK);
            CHECK(fts_put(db, ins, (int64_t)d + 1, c.toks[s]));
            free(c.toks[d]);
            free(c.text[d]);
            c.toks[d] = (char *)malloc(strlen(c.toks[s]) + 1);
            c.text[d] = (char *)malloc(strlen(c.text[s]) + 1);
            strcpy(c.toks[d], c.toks[s]);
            strcpy(c.text[d], c.text[s]);
            live[d] = 1;
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (ds_rng_below(&r, 2) == 0) CHECK(ds_index_compact(&ix) == DS_OK && ds_index_compact(&px) == DS_OK);
    }
    CHECK(compare_queries(db, &ix, &c, live, &r, 400, &checked) == 0);
    CHECK(checked == 400);
    checked = 0;
    CHECK(compare_phrases(db, &px, &c, live, &r, 300, &checked) == 0);
    CHECK(checked == 300);
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    sqlite3_close(db);
    ds_index_free(&ix);
    ds_index_free(&px);
    free(live);
    corpus_free(&c);
}

void test_text_fts5_agree(void) { fts_run(0); }
void test_text_fts5_deletes(void) { fts_run(1); }
