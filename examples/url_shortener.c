/* examples/url_shortener.c - bit.ly-style short codes three ways, checked.
 *
 * The seed's URLShortener / DistributedURLShortener, rebuilt on ds:
 *
 *   (a) counter-based: the next value of a counter, in base62. A url -> code
 *       map makes shortening idempotent, a code -> url map serves redirects.
 *       The seed starts its counter at 100000 "for 6-char codes", but
 *       100000 is only 3 base62 digits ("Q0u"); 6-digit codes start at
 *       62^5. Both are shown; 10^5 URLs get distinct 6-char codes.
 *   (b) hash-based: hash the URL, keep the hash modulo 62^L as exactly L
 *       base62 digits. A code already held by a DIFFERENT URL is a
 *       collision: either re-hash with the next salt (codes stay L long) or
 *       append a suffix as the seed does (codes grow). The probe sequence
 *       is a function of the URL alone, so shortening the same URL again
 *       walks it to the code it got before: no url -> code map is needed
 *       (the seed's version skips this check and hands a repeated URL a
 *       new code each time). With L = 3 and 10^5 URLs collisions are
 *       forced by the thousand; their count must match the birthday
 *       estimate n(n-1)/2m, and every code must still be distinct and
 *       expand to its URL.
 *   (c) distributed: two servers (snowflake nodes 1 and 2) shorten
 *       interleaved URLs at the same simulated instants; full 11-digit
 *       codes never collide and decode back to the node and millisecond
 *       that made them (which also routes a redirect to the right server).
 *       The seed cuts codes to 7 digits, which throws away the node and
 *       sequence bits: counted here, that makes most codes collide.
 *   (d) capacity: 62^L codes of L digits, L = 4..8, as exact integers.
 *
 * The program checks everything it prints and exits 1 on any duplicate
 * code, failed round trip or wrong count.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/url_shortener.c -o url_shortener -lm
 *     ./url_shortener */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NURLS 100000

DS_MAP(strmap, const char *, const char *, ds_hash_str, ds_eq_str)
DS_SET(u64set, uint64_t, ds_hash_u64, ds_eq_u64)

static int failures;
#define EXPECT(cond, ...)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "url_shortener: FAILED %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            failures++;                                                       \
        }                                                                     \
    } while (0)

static void die(const char *what, ds_status s) {
    fprintf(stderr, "url_shortener: %s: %s\n", what, ds_strerror(s));
    exit(1);
}

static char *copy_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = (char *)malloc(n);
    if (!p) die("malloc", DS_ENOMEM);
    return (char *)memcpy(p, s, n);
}

/* The test set: NURLS distinct URLs, made once. */
static char *urls[NURLS];
static void make_urls(void) {
    static const char *hosts[] = {"www.example.com", "github.com", "news.ycombinator.com",
                                  "en.wikipedia.org", "docs.python.org"};
    char buf[160];
    size_t i;
    for (i = 0; i < NURLS; i++) {
        snprintf(buf, sizeof buf, "https://%s/articles/%zu/%08llx?utm_source=feed&id=%zu", hosts[i % 5],
                 i / 5, (unsigned long long)(ds_mix64(i) & 0xffffffffu), i);
        urls[i] = copy_str(buf);
    }
}

/* ---- the store: code -> url (redirects) and url -> code (idempotence) ---- */
typedef struct store {
    strmap code_to_url, url_to_code;
} store;

static void store_init(store *st) {
    strmap_init(&st->code_to_url);
    strmap_init(&st->url_to_code);
}
/* Frees a map that owns its keys and values. */
static void free_owning(strmap *m) {
    DS_FOREACH(strmap, m, e) {
        free((void *)(uintptr_t)e->key);
        free((void *)(uintptr_t)e->val);
    }
    strmap_free(m);
}
/* The strings are owned once, through code_to_url. */
static void store_free(store *st) {
    free_owning(&st->code_to_url);
    strmap_free(&st->url_to_code);
}
static const char *expand(const store *st, const char *code) {
    const char **u = strmap_get(&st->code_to_url, code);
    return u ? *u : NULL;
}
/* Records code <-> url (copies both); returns the stored code. */
static const char *store_add(store *st, const char *url, const char *code) {
    char *c = copy_str(code), *u = copy_str(url);
    ds_status s;
    if ((s = strmap_insert(&st->code_to_url, c, u)) != DS_OK) die("code_to_url insert", s);
    if ((s = strmap_insert(&st->url_to_code, u, c)) != DS_OK) die("url_to_code insert", s);
    return c;
}

/* ---- (a) counter-based ---------------------------------------------------- */
static const char *shorten_counter(store *st, uint64_t *counter, const char *url) {
    const char **have = strmap_get(&st->url_to_code, url);
    char code[16];
    if (have) return *have; /* the same URL keeps its code */
    ds_base62_encode((*counter)++, code, sizeof code);
    return store_add(st, url, code);
}

/* ---- (b) hash-based --------------------------------------------------------- */
static uint64_t pow62(unsigned n) {
    uint64_t p = 1;
    while (n--) p *= 62;
    return p;
}
/* v as exactly `len` base62 digits, zero-padded (v < 62^len). */
static void fixed_code(uint64_t v, unsigned len, char *out) {
    char digits[16];
    size_t n = ds_base62_encode(v, digits, sizeof digits);
    memset(out, '0', len - n);
    memcpy(out + (len - n), digits, n + 1);
}

enum { BY_SALT, BY_SUFFIX };
typedef struct hash_stats {
    size_t collided; /* URLs whose first code was taken by another URL */
    size_t probes;   /* extra codes tried because of collisions */
    size_t max_len;  /* longest code handed out */
} hash_stats;

/* The k-th candidate code of a URL: k = 0 is hash(url) mod 62^len; later
 * ones re-hash with salt k, or append k in base62 to the first one. The
 * seed is fixed here for reproducibility; a public service would keep it
 * secret so nobody can craft URLs that collide. */
static void candidate(const char *url, size_t ulen, unsigned len, int how, uint64_t k, char *out) {
    if (k == 0 || how == BY_SALT) {
        fixed_code(ds_hash_bytes(url, ulen, k) % pow62(len), len, out);
    } else {
        fixed_code(ds_hash_bytes(url, ulen, 0) % pow62(len), len, out);
        ds_base62_encode(k, out + len, 16); /* base codes are all `len` long: no clash */
    }
}

/* Walks the URL's candidates to its own code or the first free one, and
 * writes it to code (32 bytes). Needs only code_to_url: a repeated URL
 * finds its code where it left it (codes are never removed). Returns 0 if
 * 1000 candidates were all taken. */
static int shorten_hash(store *st, const char *url, unsigned len, int how, hash_stats *hs, char *code) {
    size_t ulen = strlen(url);
    uint64_t k;
    for (k = 0; k < 1000; k++) {
        const char *owner;
        candidate(url, ulen, len, how, k, code);
        owner = expand(st, code);
        if (owner && strcmp(owner, url) == 0) return 1; /* shortened before */
        if (!owner) {
            size_t n = strlen(code);
            if (k > 0) hs->collided++, hs->probes += (size_t)k;
            if (n > hs->max_len) hs->max_len = n;
            store_add(st, url, code);
            return 1;
        }
    }
    return 0;
}

/* Shortens NURLS URLs with codes of `len` digits, then checks: every code
 * distinct, every code expands to its URL, shortening again gives the same
 * code without growing the store. Returns the first-try collision count. */
static size_t run_hash(unsigned len, int how) {
    typedef char code_buf[32];
    store st;
    hash_stats hs = {0, 0, 0};
    char again_code[32];
    size_t i, bad = 0, again = 0;
    double m = (double)pow62(len), expect = (double)NURLS * (NURLS - 1) / (2 * m);
    code_buf *codes = (code_buf *)malloc(NURLS * sizeof *codes);
    if (!codes) die("malloc", DS_ENOMEM);
    store_init(&st);
    for (i = 0; i < NURLS; i++)
        if (!shorten_hash(&st, urls[i], len, how, &hs, codes[i])) die("no free code", DS_EFULL);
    for (i = 0; i < NURLS; i++) {
        const char *u = expand(&st, codes[i]);
        if (!u || strcmp(u, urls[i]) != 0) bad++;
        if (!shorten_hash(&st, urls[i], len, how, &hs, again_code) || strcmp(again_code, codes[i]) != 0) again++;
    }
    EXPECT(strmap_len(&st.code_to_url) == NURLS, "%zu distinct codes for %d URLs",
           strmap_len(&st.code_to_url), NURLS);
    EXPECT(bad == 0, "%zu codes do not expand to their URL", bad);
    EXPECT(again == 0, "%zu URLs got a different code the second time", again);
    printf("  %u digits, by %-6s | %6zu URLs collided", len, how == BY_SALT ? "salt" : "suffix", hs.collided);
    if (how == BY_SALT) printf(" (birthday estimate %7.1f)", expect); else printf("%28s", "");
    printf(" | %6zu extra probes | codes up to %zu long\n", hs.probes, hs.max_len);
    if (how == BY_SALT) {
        /* Every code has `len` digits, so URL i finds i of m codes taken:
         * P(first try collides) = i/m, summing to n(n-1)/2m. */
        EXPECT(hs.max_len == len, "salted codes must stay %u long", len);
        EXPECT((double)hs.collided >= 0.95 * expect - 3 && (double)hs.collided <= 1.05 * expect + 3,
               "collisions %zu, birthday estimate %.1f", hs.collided, expect);
    }
    free(codes);
    store_free(&st);
    return hs.collided;
}

/* ---- (c) distributed: snowflake ids ---------------------------------------- */
typedef struct server {
    ds_snowflake gen;
    ds_snowflake_config cfg;
    strmap code_to_url; /* this server's own redirects */
} server;

static const char *shorten_snowflake(server *sv, const char *url, int64_t *now, uint64_t *id) {
    int64_t wait;
    ds_status s;
    char code[16], *c, *u;
    /* Past 4096 ids in one millisecond the generator says how long to wait;
     * the simulated clock just moves on by that much. */
    while ((s = ds_snowflake_next(&sv->gen, *now, id, &wait)) == DS_EBUSY) *now += wait;
    if (s != DS_OK) die("ds_snowflake_next", s);
    ds_base62_encode(*id, code, sizeof code);
    c = copy_str(code);
    u = copy_str(url);
    if ((s = strmap_insert(&sv->code_to_url, c, u)) != DS_OK) die("server insert", s);
    return c;
}

static void run_distributed(void) {
    server sv[2];
    u64set all, seed7;
    const int64_t start_ms = 1700000000000LL; /* 2023-11-14, a fixed simulated date */
    int64_t now = start_ms * 1000000, t_first = 0;
    char prev[2][16] = {"", ""};
    size_t i, same_instant = 0, bad = 0, misordered = 0;
    int k;
    ds_status s;

    for (k = 0; k < 2; k++) {
        memset(&sv[k].cfg, 0, sizeof sv[k].cfg);
        sv[k].cfg.node = (uint64_t)k + 1;
        if ((s = ds_snowflake_init(&sv[k].gen, &sv[k].cfg)) != DS_OK) die("ds_snowflake_init", s);
        strmap_init(&sv[k].code_to_url);
    }
    u64set_init(&all);
    u64set_init(&seed7);
    for (i = 0; i < NURLS; i += 2) {
        uint64_t id[2];
        const char *code[2];
        int64_t at[2];
        for (k = 0; k < 2; k++) { /* both servers, the same instant */
            at[k] = now;
            code[k] = shorten_snowflake(&sv[k], urls[i + (size_t)k], &at[k], &id[k]);
        }
        now = at[0] > at[1] ? at[0] : at[1];
        if (i == 0) t_first = now;
        for (k = 0; k < 2; k++) {
            int64_t ms;
            uint64_t node, seq, back;
            int isnew;
            /* A code names its server and its millisecond. */
            if (ds_base62_decode(code[k], strlen(code[k]), &back) != DS_OK || back != id[k]) bad++;
            ds_snowflake_decompose(&sv[k].cfg, back, &ms, &node, &seq);
            if (node != (uint64_t)k + 1 || ms != at[k] / 1000000) bad++;
            if ((s = u64set_put(&all, id[k], &isnew)) != DS_OK) die("u64set_put", s);
            EXPECT(isnew, "id %llu issued twice", (unsigned long long)id[k]);
            /* ds's base62 alphabet is in ASCII order, so equal-length codes
             * sort like the ids: by time. */
            if (strlen(prev[k]) == strlen(code[k]) && strcmp(prev[k], code[k]) >= 0) misordered++;
            memcpy(prev[k], code[k], strlen(code[k]) + 1);
            /* The seed's code: the first 7 digits only. */
            {
                uint64_t cut = 0;
                if (ds_base62_decode(code[k], 7, &cut) != DS_OK) bad++;
                if ((s = u64set_put(&seed7, cut, NULL)) != DS_OK) die("u64set_put", s);
            }
        }
        {
            int64_t ms0, ms1;
            uint64_t n0, n1, q0, q1;
            ds_snowflake_decompose(NULL, id[0], &ms0, &n0, &q0);
            ds_snowflake_decompose(NULL, id[1], &ms1, &n1, &q1);
            if (ms0 == ms1 && q0 == q1) same_instant++; /* only the node tells them apart */
        }
        now += 150; /* ns: ~6700 pairs a millisecond, more than 4096 */
    }
    /* Redirect: route each code to the server its node names. */
    for (k = 0; k < 2; k++) {
        DS_FOREACH(strmap, &sv[k].code_to_url, e) {
            uint64_t id, node;
            const char **u;
            if (ds_base62_decode(e->key, strlen(e->key), &id) != DS_OK) { bad++; continue; }
            ds_snowflake_decompose(NULL, id, NULL, &node, NULL);
            u = node >= 1 && node <= 2 ? strmap_get(&sv[node - 1].code_to_url, e->key) : NULL;
            if (!u || *u != e->val) bad++;
        }
    }
    printf("  2 servers, %d URLs over %.1f simulated ms: %zu distinct ids, %zu pairs made in the same\n"
           "  millisecond with the same sequence number (only the node bits differ)\n",
           NURLS, (double)(now - t_first) / 1e6, u64set_len(&all), same_instant);
    printf("  every code decodes to its server and millisecond; the seed's 7-digit cut would leave\n"
           "  %zu distinct codes for %d URLs\n", u64set_len(&seed7), NURLS);
    EXPECT(u64set_len(&all) == NURLS, "%zu distinct ids", u64set_len(&all));
    EXPECT(strmap_len(&sv[0].code_to_url) + strmap_len(&sv[1].code_to_url) == NURLS, "codes lost");
    EXPECT(bad == 0, "%zu codes failed to decode to their server / time / URL", bad);
    EXPECT(misordered == 0, "%zu codes out of time order", misordered);
    EXPECT(same_instant > NURLS / 4, "only %zu pairs shared an instant", same_instant);
    EXPECT(u64set_len(&seed7) < NURLS / 100, "the 7-digit cut should collide massively");
    for (k = 0; k < 2; k++) free_owning(&sv[k].code_to_url);
    u64set_free(&all);
    u64set_free(&seed7);
}

int main(void) {
    size_t i;

    make_urls();
    /* (a) */
    {
        store st;
        uint64_t counter = 100000; /* the seed's start */
        const char *u1 = "https://www.example.com/very/long/path/to/resource?param=value";
        const char *u2 = "https://github.com/user/repo/pull/12345";
        const char *c1, *c2;
        size_t bad = 0, wrong_len = 0;
        printf("== (a) counter-based base62\n");
        store_init(&st);
        c1 = shorten_counter(&st, &counter, u1);
        c2 = shorten_counter(&st, &counter, u2);
        printf("  %s\n    -> bit.ly/%s\n  %s\n    -> bit.ly/%s\n", u1, c1, u2, c2);
        printf("  expand bit.ly/%s -> %s\n", c1, expand(&st, c1));
        EXPECT(strcmp(c1, "Q0u") == 0 && strcmp(c2, "Q0v") == 0, "100000, 100001 are Q0u, Q0v");
        EXPECT(shorten_counter(&st, &counter, u1) == c1, "same URL, same code");
        EXPECT(strcmp(expand(&st, c2), u2) == 0 && !expand(&st, "Q0w"), "expand");
        printf("  (a counter from 100000 gives 3-digit codes; 6-digit ones start at 62^5 = %llu)\n",
               (unsigned long long)pow62(5));
        store_free(&st);

        store_init(&st);
        counter = pow62(5);
        for (i = 0; i < NURLS; i++) {
            const char *c = shorten_counter(&st, &counter, urls[i]);
            uint64_t v;
            if (strlen(c) != 6) wrong_len++;
            /* The code is the counter: sequential, hence guessable. */
            if (ds_base62_decode(c, strlen(c), &v) != DS_OK || v != pow62(5) + i) bad++;
        }
        for (i = 0; i < NURLS; i++) {
            const char **c = strmap_get(&st.url_to_code, urls[i]);
            const char *u = c ? expand(&st, *c) : NULL;
            if (!u || strcmp(u, urls[i]) != 0 || shorten_counter(&st, &counter, urls[i]) != *c) bad++;
        }
        printf("  %d URLs from 62^5: codes %s .. ", NURLS, *strmap_get(&st.url_to_code, urls[0]));
        printf("%s, all 6 digits, distinct, round-trip\n", *strmap_get(&st.url_to_code, urls[NURLS - 1]));
        EXPECT(strmap_len(&st.code_to_url) == NURLS && counter == pow62(5) + NURLS, "distinct codes");
        EXPECT(wrong_len == 0 && bad == 0, "%zu codes not 6 long, %zu failed round trips", wrong_len, bad);
        store_free(&st);
    }

    /* (b) */
    printf("\n== (b) hash-based, %d URLs; a code taken by another URL: re-hash with a salt, or\n"
           "   append a suffix (the seed's way)\n", NURLS);
    EXPECT(run_hash(3, BY_SALT) > 10000, "3 digits must force collisions");
    EXPECT(run_hash(3, BY_SUFFIX) > 10000, "3 digits must force collisions");
    run_hash(6, BY_SALT);
    printf("  each run: all %d codes distinct, each expands to its URL, and shortening a URL\n"
           "  again returns its code\n", NURLS);

    /* (c) */
    printf("\n== (c) distributed: snowflake ids (nodes 1 and 2) in base62\n");
    run_distributed();

    /* (d) */
    printf("\n== (d) capacity\n");
    {
        static const uint64_t want[] = {14776336ull, 916132832ull, 56800235584ull, 3521614606208ull,
                                        218340105584896ull};
        unsigned len;
        for (len = 4; len <= 8; len++) {
            uint64_t cap = pow62(len);
            char top[16], over[16];
            printf("  %u characters: %20llu unique codes\n", len, (unsigned long long)cap);
            EXPECT(cap == want[len - 4], "62^%u", len);
            /* The largest L-digit code is 62^L - 1; 62^L needs L + 1 digits. */
            EXPECT(ds_base62_encode(cap - 1, top, sizeof top) == len &&
                       ds_base62_encode(cap, over, sizeof over) == len + 1,
                   "62^%u - 1 has %u digits", len, len);
        }
    }

    for (i = 0; i < NURLS; i++) free(urls[i]);
    if (failures) {
        fprintf(stderr, "url_shortener: %d check(s) failed\n", failures);
        return 1;
    }
    printf("\nall checks passed\n");
    return 0;
}
