/* bench/bench_text.c - ds_index (ds_text.h) beside SQLite FTS5 on the same
 * documents and tokens.
 *
 * Corpus: every package name + short description `apt-cache dumpavail`
 * prints (about 64k on Debian 12); without apt, the 12,000 shipped in
 * tests/data/debian (--shipped forces those). Each document goes into a
 * ds_index as text (its own tokenizer) and into an in-memory FTS5 table
 * (tokenize='ascii', detail=full, the default) as the same tokens joined
 * by spaces (tokenized before the clock starts), in one transaction.
 * Phases:
 *   build   documents per second (median of BENCH_REPS builds); also a
 *           ds_index with positions (params.positions = 1), which FTS5's
 *           default detail=full always keeps, and its size
 *   size    ds: posting bytes (compressed lists + skip entries) per posting,
 *           and the saved image (postings, terms, document ids and
 *           lengths); FTS5: its %_data blocks + %_idx + %_docsize bytes
 *           (the index and the lengths bm25 needs; the stored text in
 *           %_content is left out)
 *   query   1000 queries of 1-4 distinct terms drawn from random documents
 *           (the corpus's own vocabulary, so frequent terms come often),
 *           "any term", top 10 by BM25: ds_index_search vs
 *           SELECT rowid, bm25(t) ... WHERE t MATCH 'a OR b' ORDER BY rank
 *           LIMIT 10. p50 / p99 microseconds per query; ds also without
 *           pruning (DS_INDEX_EXHAUSTIVE) to show what MaxScore saves, and
 *           the postings it decoded.
 *   phrase  the same number of phrases of 2-3 consecutive tokens of random
 *           documents, top 10: ds_index_search_phrase on the index with
 *           positions vs FTS5 MATCH '"a b"' ORDER BY rank LIMIT 10.
 *   --quick: 1 rep, 200 queries.
 * Writes bench/bin/text_corpus.txt (one document a line) for bench_bpe. */
#define _POSIX_C_SOURCE 200809L
#define DS_IMPLEMENTATION
#include "ds_text.h"
#include "bench/bench.h"
#include <sqlite3.h>

typedef struct corpus {
    char **text, **toks;
    size_t n, cap;
} corpus;

typedef struct jb {
    char *p;
    size_t len, cap;
} jb;
static ds_status jb_emit(void *ctx, const char *t, size_t n) {
    jb *b = (jb *)ctx;
    if (b->len + n + 2 > b->cap) {
        b->cap = (b->cap + n + 2) * 2;
        if (!(b->p = (char *)realloc(b->p, b->cap))) exit(1);
    }
    if (b->len) b->p[b->len++] = ' ';
    memcpy(b->p + b->len, t, n);
    b->len += n;
    b->p[b->len] = 0;
    return DS_OK;
}
static void add(corpus *c, const char *a, size_t al, const char *d, size_t dl) {
    jb b = {NULL, 0, 0};
    char *t;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4096;
        c->text = (char **)realloc(c->text, c->cap * sizeof *c->text);
        c->toks = (char **)realloc(c->toks, c->cap * sizeof *c->toks);
    }
    t = (char *)malloc(al + dl + 2);
    memcpy(t, a, al);
    t[al] = ' ';
    memcpy(t + al + 1, d, dl);
    t[al + 1 + dl] = 0;
    ds_text_tokenize(t, al + 1 + dl, jb_emit, &b);
    if (!b.p) b.p = (char *)calloc(1, 1);
    c->text[c->n] = t;
    c->toks[c->n++] = b.p;
}
static int read_corpus(corpus *c, int shipped) {
    char line[65536], name[512] = "";
    FILE *f;
    if (!shipped && (f = popen("apt-cache dumpavail 2>/dev/null", "r"))) {
        while (fgets(line, sizeof line, f)) {
            size_t len = strcspn(line, "\n");
            line[len] = 0;
            if (!strncmp(line, "Package: ", 9)) {
                size_t nl = len - 9 < sizeof name - 1 ? len - 9 : sizeof name - 1;
                memcpy(name, line + 9, nl);
                name[nl] = 0;
            } else if (name[0] && (!strncmp(line, "Description: ", 13) || !strncmp(line, "Description-en: ", 16))) {
                const char *d = strchr(line, ':') + 2;
                add(c, name, strlen(name), d, strlen(d));
                name[0] = 0;
            }
        }
        pclose(f);
        if (c->n > 1000) return 1;
    }
    if (!(f = popen("xz -dc tests/data/debian/descriptions.txt.xz", "r"))) return 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n"), t = strcspn(line, "\t");
        if (t < len) add(c, line, t, line + t + 1, len - t - 1);
    }
    pclose(f);
    return c->n > 0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double pct(double *v, size_t n, double p) {
    qsort(v, n, sizeof *v, cmp_d);
    return v[(size_t)(p * (double)(n - 1))];
}

int main(int argc, char **argv) {
    corpus c;
    int quick = 0, shipped = 0, reps, r, i;
    size_t nq, q, j;
    bench_samples sb = {{0}, 0}, sf = {{0}, 0}, sp = {{0}, 0};
    ds_index ix, ixp;
    ds_index_params pp = ds_index_params_default();
    sqlite3 *db = NULL;
    char (*qs)[512];
    char (*ms)[600];
    double *tq, *tqx, *tf;
    ds_rng rng;
    size_t decoded = 0, decoded_x = 0;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--shipped")) shipped = 1;
    }
    reps = bench_reps(quick ? 1 : 3);
    memset(&c, 0, sizeof c);
    if (!read_corpus(&c, shipped)) {
        fprintf(stderr, "bench_text: no corpus (apt-cache dumpavail or tests/data/debian)\n");
        return 1;
    }
    {
        FILE *o = fopen("bench/bin/text_corpus.txt", "w");
        if (o) {
            for (j = 0; j < c.n; j++) fprintf(o, "%s\n", c.text[j]);
            fclose(o);
        }
    }
    printf("corpus: %zu documents (%s)\n", c.n, shipped ? "shipped" : "apt-cache dumpavail, or shipped");
    for (r = 0; r < reps; r++) {
        sqlite3_stmt *ins;
        int64_t t0;
        int w;
        for (w = 0; w < 2; w++) { /* the two ds builds take turns going first */
            int withpos = (r + w) & 1;
            ds_index *x = withpos ? &ixp : &ix;
            if (r) ds_index_free(x);
            pp.positions = withpos;
            ds_index_init(x, &pp, NULL);
            t0 = bench_now();
            for (j = 0; j < c.n; j++) ds_index_put(x, j + 1, c.text[j], strlen(c.text[j]));
            bench_add(withpos ? &sp : &sb, (double)(bench_now() - t0));
        }
        if (db) sqlite3_close(db);
        sqlite3_open(":memory:", &db);
        sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='ascii')", 0, 0, 0);
        sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES (?, ?)", -1, &ins, 0);
        t0 = bench_now();
        sqlite3_exec(db, "BEGIN", 0, 0, 0);
        for (j = 0; j < c.n; j++) {
            sqlite3_bind_int64(ins, 1, (sqlite3_int64)j + 1);
            sqlite3_bind_text(ins, 2, c.toks[j], -1, SQLITE_STATIC);
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
        sqlite3_exec(db, "COMMIT", 0, 0, 0);
        bench_add(&sf, (double)(bench_now() - t0));
        sqlite3_finalize(ins);
    }
    {
        double bo = bench_median(&sb), bf = bench_median(&sf), bp = bench_median(&sp);
        ds_index_stats s, sps;
        ds_membuf m, mp;
        sqlite3_stmt *st;
        long long fts = 0;
        ds_index_info(&ix, &s);
        ds_membuf_init(&m, NULL);
        ds_index_save(&ix, ds_membuf_writer(&m));
        sqlite3_prepare_v2(db,
                           "SELECT (SELECT sum(length(block)) FROM t_data) + (SELECT sum(length(term)) + 16 * count(*) FROM t_idx)"
                           " + (SELECT sum(length(sz)) + 8 * count(*) FROM t_docsize)",
                           -1, &st, 0);
        if (sqlite3_step(st) == SQLITE_ROW) fts = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        printf("build   ds_index %9.0f docs/s   FTS5 %9.0f docs/s   ratio %.2fx\n", (double)c.n / (bo / 1e9),
               (double)c.n / (bf / 1e9), bench_ratio(bf, bo));
        printf("size    ds_index %.2f bytes/posting (%zu postings, %zu terms); saved image %.2f MB; in memory %.2f MB\n",
               (double)s.posting_bytes / (double)s.postings, s.postings, s.terms, (double)m.len / 1e6,
               (double)s.memory / 1e6);
        printf("        FTS5 index (data + idx + docsize) %.2f MB = %.2f bytes/posting; ds saved image / FTS5 = %.2f\n",
               (double)fts / 1e6, (double)fts / (double)s.postings, (double)m.len / (double)fts);
        ds_index_info(&ixp, &sps);
        ds_membuf_init(&mp, NULL);
        ds_index_save(&ixp, ds_membuf_writer(&mp));
        printf("positions ds_index %9.0f docs/s (ratio to FTS5 %.2fx); %zu position bytes = %.3f per token; saved "
               "%.2f MB (+%.1f%%, / FTS5 = %.2f); in memory %.2f MB (+%.1f%%)\n",
               (double)c.n / (bp / 1e9), bench_ratio(bf, bp), sps.position_bytes,
               (double)sps.position_bytes / (double)sps.tokens, (double)mp.len / 1e6,
               100.0 * ((double)mp.len / (double)m.len - 1), (double)mp.len / (double)fts, (double)sps.memory / 1e6,
               100.0 * ((double)sps.memory / (double)s.memory - 1));
        ds_membuf_free(&mp);
        ds_membuf_free(&m);
    }
    nq = quick ? 200 : 1000;
    qs = (char (*)[512])malloc(nq * sizeof *qs);
    ms = (char (*)[600])malloc(nq * sizeof *ms);
    tq = (double *)malloc(nq * sizeof *tq);
    tqx = (double *)malloc(nq * sizeof *tqx);
    tf = (double *)malloc(nq * sizeof *tf);
    ds_rng_seed(&rng, 2026);
    for (q = 0; q < nq; q++) {
        size_t nt = 1 + ds_rng_below(&rng, 4), t = 0, ql = 0, ml = 0;
        char terms[4][128];
        while (t < nt) {
            const char *s = c.toks[ds_rng_below(&rng, c.n)], *e;
            size_t ntok = 0, pick, k;
            if (!*s) continue;
            for (e = s; *e; e++) ntok += *e == ' ';
            pick = ds_rng_below(&rng, ntok + 1);
            for (e = s; pick; e++)
                if (*e == ' ') pick--;
            k = strcspn(e, " ");
            if (k >= 128) continue;
            memcpy(terms[t], e, k);
            terms[t][k] = 0;
            for (k = 0; k < t && strcmp(terms[k], terms[t]); k++) {}
            if (k == t) t++;
        }
        for (t = 0; t < nt; t++) {
            ql += (size_t)snprintf(qs[q] + ql, 512 - ql, "%s%s", t ? " " : "", terms[t]);
            ml += (size_t)snprintf(ms[q] + ml, 600 - ml, "%s\"%s\"", t ? " OR " : "", terms[t]);
        }
    }
    {
        sqlite3_stmt *st;
        ds_index_hit h[10];
        size_t n;
        ds_index_qstats qst;
        int pass;
        sqlite3_prepare_v2(db, "SELECT rowid, bm25(t) FROM t WHERE t MATCH ? ORDER BY rank LIMIT 10", -1, &st, 0);
        for (pass = 0; pass < 2; pass++) /* the first pass warms caches */
            for (q = 0; q < nq; q++) {
                int64_t t0 = bench_now();
                ds_index_search(&ix, qs[q], strlen(qs[q]), DS_INDEX_BM25, 10, h, &n, &qst);
                tq[q] = (double)(bench_now() - t0) / 1e3;
                if (pass) decoded += qst.postings_decoded;
                t0 = bench_now();
                ds_index_search(&ix, qs[q], strlen(qs[q]), DS_INDEX_BM25 | DS_INDEX_EXHAUSTIVE, 10, h, &n, &qst);
                tqx[q] = (double)(bench_now() - t0) / 1e3;
                if (pass) decoded_x += qst.postings_decoded;
                t0 = bench_now();
                sqlite3_bind_text(st, 1, ms[q], -1, SQLITE_STATIC);
                while (sqlite3_step(st) == SQLITE_ROW) {}
                sqlite3_reset(st);
                tf[q] = (double)(bench_now() - t0) / 1e3;
            }
        sqlite3_finalize(st);
        {
            double p50 = pct(tq, nq, 0.5), p99 = pct(tq, nq, 0.99), x50 = pct(tqx, nq, 0.5), x99 = pct(tqx, nq, 0.99);
            double f50 = pct(tf, nq, 0.5), f99 = pct(tf, nq, 0.99);
            printf("query   top-10 BM25, %zu queries of 1-4 terms, microseconds p50 / p99:\n", nq);
            printf("        ds_index (MaxScore)   %8.2f / %8.2f   (%zu postings decoded)\n", p50, p99, decoded);
            printf("        ds_index (exhaustive) %8.2f / %8.2f   (%zu postings decoded)\n", x50, x99, decoded_x);
            printf("        FTS5 ORDER BY rank    %8.2f / %8.2f\n", f50, f99);
            printf("        p50 ratio FTS5 / ds   %.1fx   p99 ratio %.1fx\n", f50 / p50, f99 / p99);
        }
    }
    /* Phrases: consecutive tokens of random documents. */
    ds_rng_seed(&rng, 2027);
    for (q = 0; q < nq;) {
        const char *s = c.toks[ds_rng_below(&rng, c.n)], *b, *e;
        size_t ntok = 1, want = 2 + ds_rng_below(&rng, 2), at, k = 0;
        if (!*s) continue;
        for (e = s; *e; e++) ntok += *e == ' ';
        if (ntok < want) continue;
        at = ds_rng_below(&rng, ntok - want + 1);
        for (b = s; at; b++)
            if (*b == ' ') at--;
        for (e = b; *e && !(*e == ' ' && ++k == want); e++) {}
        if ((size_t)(e - b) >= 500) continue;
        snprintf(qs[q], 512, "%.*s", (int)(e - b), b);
        snprintf(ms[q], 600, "\"%.*s\"", (int)(e - b), b);
        q++;
    }
    {
        sqlite3_stmt *st;
        ds_index_hit h[10];
        size_t n, hits = 0;
        int pass;
        sqlite3_prepare_v2(db, "SELECT rowid, bm25(t) FROM t WHERE t MATCH ? ORDER BY rank LIMIT 10", -1, &st, 0);
        for (pass = 0; pass < 2; pass++)
            for (q = 0; q < nq; q++) {
                int64_t t0 = bench_now();
                ds_index_search_phrase(&ixp, qs[q], strlen(qs[q]), DS_INDEX_BM25, 10, h, &n, NULL);
                tq[q] = (double)(bench_now() - t0) / 1e3;
                if (pass) hits += n;
                t0 = bench_now();
                sqlite3_bind_text(st, 1, ms[q], -1, SQLITE_STATIC);
                while (sqlite3_step(st) == SQLITE_ROW) {}
                sqlite3_reset(st);
                tf[q] = (double)(bench_now() - t0) / 1e3;
            }
        sqlite3_finalize(st);
        {
            double p50 = pct(tq, nq, 0.5), p99 = pct(tq, nq, 0.99), f50 = pct(tf, nq, 0.5), f99 = pct(tf, nq, 0.99);
            printf("phrase  top-10 BM25, %zu phrases of 2-3 tokens (%zu hits), microseconds p50 / p99:\n", nq, hits);
            printf("        ds_index_search_phrase %8.2f / %8.2f\n", p50, p99);
            printf("        FTS5 ORDER BY rank     %8.2f / %8.2f\n", f50, f99);
            printf("        p50 ratio FTS5 / ds    %.1fx   p99 ratio %.1fx\n", f50 / p50, f99 / p99);
        }
    }
    sqlite3_close(db);
    ds_index_free(&ix);
    ds_index_free(&ixp);
    for (j = 0; j < c.n; j++) {
        free(c.text[j]);
        free(c.toks[j]);
    }
    free(c.text);
    free(c.toks);
    free(qs);
    free(ms);
    free(tq);
    free(tqx);
    free(tf);
    return 0;
}
