/* examples/autocomplete.c - search-box suggestions from a search history.
 *
 * Every search increments its query's score in a radix trie (ds_trie); the
 * suggestions for what the user has typed so far are the top 5 queries
 * under that prefix (ds_trie_complete: a best-first search on per-node
 * subtree maxima, not a scan of every match). Suggestions for hot prefixes
 * are memoized in a small LRU, and a search invalidates the cached lists
 * of every prefix of the query it touched, so the cache is never stale.
 * The program replays a search history (English words with Zipf-like
 * popularity, or generated queries without the word list), types a few
 * prefixes, and checks every suggestion list against a brute-force sort.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/autocomplete.c -o autocomplete -lm
 *     ./autocomplete */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPK 5
#define MAXQ 32

typedef struct suggestions {
    char q[TOPK][MAXQ];
    double score[TOPK];
    size_t n;
} suggestions;

/* Cached suggestion lists by prefix (prefixes up to 8 bytes packed in a u64). */
DS_LRU(sugg_cache, uint64_t, suggestions, ds_hash_u64, ds_eq_u64)

static uint64_t pack(const char *p, size_t len) {
    uint64_t k = (uint64_t)len << 56;
    size_t i;
    for (i = 0; i < len && i < 7; i++) k |= (uint64_t)(unsigned char)p[i] << (8 * i);
    return k;
}
static int collect(void *ctx, const void *key, size_t len, double score, void *val) {
    suggestions *s = (suggestions *)ctx;
    (void)val;
    if (len >= MAXQ) len = MAXQ - 1;
    memcpy(s->q[s->n], key, len);
    s->q[s->n][len] = 0;
    s->score[s->n++] = score;
    return 0;
}

static char **g_words;
static size_t g_nwords;

int main(void) {
    ds_trie t;
    sugg_cache cache;
    sugg_cache_config cfg;
    ds_rng rng;
    size_t i, searches = 0, computed = 0, served = 0;
    char line[128];
    FILE *f = fopen("/usr/share/dict/american-english", "r");
    const char *typed[] = {"s", "st", "sta", "star", "q", "pre", "th", "the"};

    ds_trie_init(&t, NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = 256;
    if (sugg_cache_init(&cache, &cfg) != DS_OK) return 1;
    /* The vocabulary. */
    g_words = (char **)malloc(120000 * sizeof *g_words);
    if (!g_words) return 1;
    while (f && g_nwords < 120000 && fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\n'");
        if (!l || line[l] == '\'' || l >= MAXQ) continue;
        line[l] = 0;
        g_words[g_nwords] = (char *)malloc(l + 1);
        memcpy(g_words[g_nwords++], line, l + 1);
    }
    if (f) fclose(f);
    for (; g_nwords < 2000; g_nwords++) { /* no word list: generated queries */
        g_words[g_nwords] = (char *)malloc(16);
        snprintf(g_words[g_nwords], 16, "star%zu", g_nwords);
    }
    printf("vocabulary: %zu queries\n", g_nwords);

    /* The search history: popularity ~ 1/rank (rank = a random permutation). */
    ds_rng_seed(&rng, 99);
    for (i = 0; i < 200000; i++) {
        size_t r = (size_t)(ds_rng_double(&rng) * ds_rng_double(&rng) * ds_rng_double(&rng) * (double)g_nwords);
        const char *q = g_words[(r * 7919) % g_nwords];
        size_t ql = strlen(q), p;
        if (ds_trie_incr(&t, q, ql, 1.0, NULL) != DS_OK) return 1;
        searches++;
        for (p = 1; p <= ql && p <= 7; p++) sugg_cache_del(&cache, pack(q, p), NULL, 0); /* invalidate */
        if (i % 20 == 0) { /* someone types a prefix */
            const char *pre = typed[(i / 20) % 8];
            size_t pl = strlen(pre);
            suggestions *hit = sugg_cache_get(&cache, pack(pre, pl), 0), s;
            if (hit) {
                served++;
                continue;
            }
            memset(&s, 0, sizeof s);
            ds_trie_complete(&t, pre, pl, TOPK, collect, &s);
            computed++;
            if (sugg_cache_put(&cache, pack(pre, pl), s, 0) != DS_OK) return 1;
        }
    }
    printf("%zu searches over %zu distinct queries (%zu trie bytes, %.1f per query)\n", searches,
           ds_trie_len(&t), ds_trie_memory(&t), (double)ds_trie_memory(&t) / (double)ds_trie_len(&t));
    printf("suggestion lists: %zu computed, %zu served from the cache\n", computed, served);

    /* Show and verify the suggestions for each typed prefix. */
    for (i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        suggestions s;
        size_t pl = strlen(typed[i]), j, better = 0;
        memset(&s, 0, sizeof s);
        ds_trie_complete(&t, typed[i], pl, TOPK, collect, &s);
        printf("  %-5s ->", typed[i]);
        for (j = 0; j < s.n; j++) printf(" %s(%.0f)", s.q[j], s.score[j]);
        printf("\n");
        /* brute force: no key under the prefix beats the last suggestion */
        for (j = 0; j < g_nwords; j++) {
            double sc = ds_trie_score(&t, g_words[j], strlen(g_words[j]));
            if (s.n == TOPK && strncmp(g_words[j], typed[i], pl) == 0 && sc > s.score[TOPK - 1]) {
                size_t m;
                int listed = 0;
                for (m = 0; m < s.n; m++) listed |= strcmp(s.q[m], g_words[j]) == 0;
                better += !listed;
            }
        }
        if (better) {
            fprintf(stderr, "suggestions for %s missed %zu better queries\n", typed[i], better);
            return 1;
        }
    }
    sugg_cache_free(&cache);
    ds_trie_free(&t);
    for (i = 0; i < g_nwords; i++) free(g_words[i]);
    free(g_words);
    return 0;
}
