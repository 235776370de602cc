/* examples/package_search.c - BM25 search over Debian package descriptions.
 *
 * "Which package does X?" over real text: each package's name and
 * description is a document in a ds_index (the default tokenizer, BM25
 * with FTS5's k1 = 1.2, b = 0.75; English stop words dropped). The
 * program
 *   1. reads the corpus: with --apt, every package `apt-cache dumpavail`
 *      lists (about 60,000 on Debian 12); otherwise the 12,000 shipped in
 *      tests/data/debian/descriptions.txt.xz (through `xz -dc`),
 *   2. indexes it and prints the documents, terms, postings and bytes,
 *   3. answers the queries given as arguments, or with -i one query per
 *      line from standard input, or with no query a few examples ("any
 *      term" ranking; prefix a query with + for "all terms"; a query in
 *      double quotes, "like this", is a phrase: the words adjacent and
 *      in order, which needs the positions the index keeps with -p),
 *   4. saves the index, loads it back as a restarted service would, and
 *      checks the reloaded index answers the same.
 * It exits non-zero if the corpus cannot be read or a reload differs.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/package_search.c -o package_search -lm
 *     ./package_search                        # example queries
 *     ./package_search --apt "pdf viewer" "+python yaml parser"
 *     ./package_search -p '"web browser"'      # a phrase (positions kept)
 *     ./package_search --apt -i               # interactive */
#define _POSIX_C_SOURCE 200809L /* popen */
#define DS_IMPLEMENTATION
#include "ds_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct corpus {
    char **name, **desc;
    size_t n, cap;
} corpus;

static void add_doc(corpus *c, const char *name, size_t nl, const char *desc, size_t dl) {
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4096;
        c->name = (char **)realloc(c->name, c->cap * sizeof *c->name);
        c->desc = (char **)realloc(c->desc, c->cap * sizeof *c->desc);
        if (!c->name || !c->desc) exit(1);
    }
    c->name[c->n] = (char *)malloc(nl + 1);
    c->desc[c->n] = (char *)malloc(dl + 1);
    if (!c->name[c->n] || !c->desc[c->n]) exit(1);
    memcpy(c->name[c->n], name, nl);
    c->name[c->n][nl] = 0;
    memcpy(c->desc[c->n], desc, dl);
    c->desc[c->n][dl] = 0;
    c->n++;
}

/* "name<TAB>description" lines (the shipped file). */
static int read_shipped(corpus *c) {
    char line[65536];
    FILE *f = fopen("tests/data/debian/descriptions.txt.xz", "rb");
    if (!f) return 0;
    fclose(f);
    if (!(f = popen("xz -dc tests/data/debian/descriptions.txt.xz", "r"))) return 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n"), t = strcspn(line, "\t");
        if (t >= len) continue;
        add_doc(c, line, t, line + t + 1, len - t - 1);
    }
    return pclose(f) == 0 && c->n > 0;
}

/* apt-cache dumpavail: Package: and Description: (first line) per stanza. */
static int read_apt(corpus *c) {
    char line[65536], name[512] = "";
    FILE *f = popen("apt-cache dumpavail 2>/dev/null", "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        line[len] = 0;
        if (!strncmp(line, "Package: ", 9)) {
            size_t nl = strlen(line + 9) < sizeof name - 1 ? strlen(line + 9) : sizeof name - 1;
            memcpy(name, line + 9, nl);
            name[nl] = 0;
        } else if (name[0] && (!strncmp(line, "Description: ", 13) || !strncmp(line, "Description-en: ", 16))) {
            const char *d = strchr(line, ':') + 2;
            add_doc(c, name, strlen(name), d, strlen(d));
            name[0] = 0; /* one description per stanza */
        }
    }
    return pclose(f) == 0 && c->n > 0;
}

static void search(const ds_index *ix, const corpus *c, const char *q) {
    ds_index_hit hits[8];
    ds_index_qstats st;
    size_t n, i;
    int flags = DS_INDEX_BM25, phrase = 0;
    size_t ql = strlen(q);
    ds_status rc;
    int64_t t0;
    if (q[0] == '+') {
        flags |= DS_INDEX_ALL;
        q++;
        ql--;
    } else if (ql >= 2 && q[0] == '"' && q[ql - 1] == '"') {
        phrase = 1;
        q++;
        ql -= 2;
    }
    t0 = ds_now_ns();
    rc = phrase ? ds_index_search_phrase(ix, q, ql, flags, 8, hits, &n, &st)
                : ds_index_search(ix, q, ql, flags, 8, hits, &n, &st);
    if (rc != DS_OK) {
        printf("\nquery failed: %s%s\n", ds_strerror(rc), phrase ? " (phrases need -p)" : "");
        return;
    }
    printf("\n\"%.*s\" (%s): %zu hits in %.0f us, %zu of %zu postings decoded, %zu documents %s\n", (int)ql, q,
           phrase ? "phrase" : flags & DS_INDEX_ALL ? "all terms" : "any term", n, (double)(ds_now_ns() - t0) / 1e3,
           st.postings_decoded, st.postings_total, st.docs_scored, phrase ? "matched" : "scored");
    for (i = 0; i < n; i++)
        printf("  %6.3f  %-28s %.70s\n", hits[i].score, c->name[hits[i].doc], c->desc[hits[i].doc]);
}

int main(int argc, char **argv) {
    static const char *stop[] = {"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"};
    static const char *demo[] = {"pdf viewer", "+yaml parser", "bittorrent client", "font for programming",
                                 "+rust compiler"};
    corpus c;
    ds_index ix;
    ds_index_params p = ds_index_params_default();
    ds_index_stats s;
    size_t i;
    int argi = 1, apt = 0, inter = 0, nq = 0, bad = 0;
    int64_t t0;
    memset(&c, 0, sizeof c);
    for (; argi < argc && argv[argi][0] == '-'; argi++) {
        if (!strcmp(argv[argi], "--apt")) apt = 1;
        else if (!strcmp(argv[argi], "-i")) inter = 1;
        else if (!strcmp(argv[argi], "-p")) p.positions = 1;
        else {
            fprintf(stderr, "usage: %s [--apt] [-i] [-p] [query ...]\n", argv[0]);
            return 2;
        }
    }
    if (!(apt ? read_apt(&c) : read_shipped(&c))) {
        fprintf(stderr, "package_search: cannot read the corpus (%s)\n",
                apt ? "apt-cache dumpavail" : "tests/data/debian/descriptions.txt.xz; run from the repository root");
        return 1;
    }
    if (ds_index_init(&ix, &p, NULL) != DS_OK) return 1;
    for (i = 0; i < sizeof stop / sizeof *stop; i++) ds_index_add_stopword(&ix, stop[i], strlen(stop[i]));
    t0 = ds_now_ns();
    for (i = 0; i < c.n; i++) {
        static char buf[140000];
        size_t nl = strlen(c.name[i]), dl = strlen(c.desc[i]);
        memcpy(buf, c.name[i], nl);
        buf[nl] = ' ';
        memcpy(buf + nl + 1, c.desc[i], dl);
        if (ds_index_put(&ix, i, buf, nl + 1 + dl) != DS_OK) return 1;
    }
    ds_index_info(&ix, &s);
    printf("indexed %zu packages in %.0f ms: %zu terms, %zu postings, %.2f bytes per posting, %.1f MB in all\n",
           s.docs, (double)(ds_now_ns() - t0) / 1e6, s.terms, s.postings, (double)s.posting_bytes / (double)s.postings,
           (double)s.memory / 1e6);
    if (p.positions)
        printf("positions kept: %zu bytes (%.2f per token)\n", s.position_bytes,
               (double)s.position_bytes / (double)(s.tokens ? s.tokens : 1));
    for (; argi < argc; argi++, nq++) search(&ix, &c, argv[argi]);
    if (inter) {
        char line[1024];
        printf("query> ");
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {
            line[strcspn(line, "\n")] = 0;
            if (line[0]) search(&ix, &c, line);
            printf("query> ");
            fflush(stdout);
            nq++;
        }
        printf("\n");
    }
    if (!nq)
        for (i = 0; i < sizeof demo / sizeof *demo; i++) search(&ix, &c, demo[i]);
    /* Save, reload, same answers. */
    {
        ds_membuf m;
        ds_memsrc src;
        ds_reader r;
        ds_index back;
        ds_index_hit h1[10], h2[10];
        size_t n1, n2;
        ds_membuf_init(&m, NULL);
        if (ds_index_save(&ix, ds_membuf_writer(&m)) != DS_OK) return 1;
        r = ds_mem_reader(&src, m.data, m.len);
        if (ds_index_load(&back, &r, NULL) != DS_OK) return 1;
        for (i = 0; i < sizeof demo / sizeof *demo; i++) {
            size_t j;
            const char *q = demo[i][0] == '+' ? demo[i] + 1 : demo[i];
            int fl = demo[i][0] == '+' ? DS_INDEX_ALL : 0;
            ds_index_search(&ix, q, strlen(q), fl, 10, h1, &n1, NULL);
            ds_index_search(&back, q, strlen(q), fl, 10, h2, &n2, NULL);
            bad |= n1 != n2;
            for (j = 0; j < n1 && j < n2; j++) bad |= h1[j].doc != h2[j].doc || h1[j].score != h2[j].score;
        }
        printf("\nsaved %.1f MB, reloaded: %s\n", (double)m.len / 1e6, bad ? "ANSWERS DIFFER" : "same answers");
        ds_index_free(&back);
        ds_membuf_free(&m);
    }
    ds_index_free(&ix);
    for (i = 0; i < c.n; i++) {
        free(c.name[i]);
        free(c.desc[i]);
    }
    free(c.name);
    free(c.desc);
    return bad;
}
