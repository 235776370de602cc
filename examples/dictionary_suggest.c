/* examples/dictionary_suggest.c - type-ahead over a read-mostly dictionary.
 *
 * A search box suggests the 8 most popular entries of a dictionary that
 * changes in nightly batches, not per keystroke (a product catalogue, a
 * place-name gazetteer, a word list). Load it into a ds_trie with each
 * entry's popularity as its score, then ds_trie_complete_index: every
 * subtree of 32 keys or more keeps its top 8, so a suggestion is one list
 * read instead of a best-first search. The night's batch of score updates
 * drops the index (it would go stale); the program rebuilds it afterwards.
 * Every suggestion list is checked against the plain search (the same
 * trie without its index), before and after the batch.
 *
 * The dictionary is /usr/share/dict/american-english (apt-get install
 * wamerican) when present, else 50,000 generated names.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/dictionary_suggest.c -o dictionary_suggest -lm
 *     ./dictionary_suggest */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPK 8
#define MAXW 64

typedef struct list {
    char w[TOPK][MAXW];
    double score[TOPK];
    size_t n;
} list;

static int collect(void *ctx, const void *key, size_t len, double score, void *val) {
    list *l = (list *)ctx;
    (void)val;
    if (l->n < TOPK && len < MAXW) {
        memcpy(l->w[l->n], key, len);
        l->w[l->n][len] = '\0';
        l->score[l->n] = score;
    }
    l->n++;
    return 0;
}

/* The suggestions for p, and a check against the search without the index
 * (ds_trie_complete with k above the index's k never uses the lists). */
static int suggest(const ds_trie *t, const char *p, int print) {
    list a, b;
    size_t i;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    ds_trie_complete(t, p, strlen(p), TOPK, collect, &a);          /* from the index */
    ds_trie_complete(t, p, strlen(p), TOPK + 1, collect, &b);      /* searched */
    if (b.n > TOPK) b.n = TOPK;
    if (a.n != b.n) return 0;
    for (i = 0; i < a.n; i++)
        if (strcmp(a.w[i], b.w[i]) != 0 || a.score[i] != b.score[i]) return 0;
    if (print) {
        printf("  %-5s ->", p);
        for (i = 0; i < a.n && i < 5; i++) printf(" %s", a.w[i]);
        printf("%s\n", a.n > 5 ? " ..." : "");
    }
    return 1;
}

int main(void) {
    static const char *typed[] = {"a", "co", "pre", "str", "un", "the", "qu", "x"};
    FILE *f = fopen("/usr/share/dict/american-english", "r");
    char w[MAXW];
    ds_trie t;
    ds_rng rng;
    size_t n = 0, i, before;
    int ok = 1;
    ds_trie_init(&t, NULL);
    ds_rng_seed(&rng, 7);
    while (f ? fgets(w, sizeof w, f) != NULL : n < 50000) {
        size_t len;
        double pop = 1e6 / (double)(1 + ds_rng_below(&rng, 100000)); /* Zipf-like popularity */
        if (!f) snprintf(w, sizeof w, "%c%c%c-%zu", 'a' + (int)(n % 26), 'a' + (int)(n / 26 % 26), 'a' + (int)(n / 676 % 26), n);
        len = strcspn(w, "\n");
        if (ds_trie_put_score(&t, w, len, NULL, pop, NULL) != DS_OK) return 1;
        n++;
    }
    if (f) fclose(f);
    before = ds_trie_memory(&t);
    if (ds_trie_complete_index(&t, TOPK, 32) != DS_OK) return 1;
    printf("%zu entries, %.1f bytes each; the index adds %.1f\n", ds_trie_len(&t),
           (double)before / (double)ds_trie_len(&t), (double)(ds_trie_memory(&t) - before) / (double)ds_trie_len(&t));
    for (i = 0; i < sizeof typed / sizeof *typed; i++) ok &= suggest(&t, typed[i], 1);

    /* The nightly batch: under each typed prefix, the 8th suggestion
     * trends and goes to the top. The first write drops the index (the
     * lists would be stale); until the rebuild, complete searches. */
    for (i = 0; i < sizeof typed / sizeof *typed; i++) {
        list l;
        memset(&l, 0, sizeof l);
        ds_trie_complete(&t, typed[i], strlen(typed[i]), TOPK, collect, &l);
        if (l.n == TOPK && ds_trie_incr(&t, l.w[TOPK - 1], strlen(l.w[TOPK - 1]), 1e7, NULL) != DS_OK) return 1;
    }
    ok &= ds_trie_memory(&t) == before;                                /* the index is gone */
    if (ds_trie_complete_index(&t, TOPK, 32) != DS_OK) return 1;       /* and back */
    printf("after the nightly batch:\n");
    for (i = 0; i < sizeof typed / sizeof *typed; i++) ok &= suggest(&t, typed[i], i < 3);
    ds_trie_free(&t);
    printf("%s\n", ok ? "every suggestion list matches the search" : "MISMATCH");
    return ok ? 0 : 1;
}
