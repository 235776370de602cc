/* examples/trending_hashtags.c - trending hashtags over a stream, in fixed
 * memory: a count-min sketch for "how often was #x used?" and Space-Saving
 * heavy hitters for "what is trending?".
 *
 * A stream of two million hashtag uses over a vocabulary of 200,000 tags
 * follows a Zipf(1.1) law (a few tags are everywhere, most are rare), with
 * a burst: halfway through, #breaking starts appearing in 3% of posts. The
 * program keeps exact counts alongside (it can afford them here; a real
 * service could not) to print the sketches' estimates next to the truth.
 *
 *   count-min (eps = 0.0005, delta = 0.01): 5 x 5437 counters, 106 KiB,
 *     never under-counts, and over-counts by more than eps * N = 1000 for
 *     at most 1% of tags.
 *   heavy hitters (k = 10, 160 counters): the trending list, each count an
 *     upper bound with its error bound; the add() that lets #breaking into
 *     the list reports which tag it pushed out.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/trending_hashtags.c -o trending_hashtags -lm
 *     ./trending_hashtags */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOCAB 200000
#define POSTS 2000000
#define K 10

static const char *named[] = {"#worldcup", "#ai",   "#music", "#news",  "#food",
                              "#travel",   "#tbt",  "#love",  "#photo", "#nba"};

/* Tag i: the popular ones have names, the tail is numbered. */
static size_t tag_name(size_t i, char *out, size_t cap) {
    int n = i < 10 ? snprintf(out, cap, "%s", named[i]) : snprintf(out, cap, "#tag%zu", i);
    return (size_t)n;
}

static void die(const char *what, ds_status s) {
    fprintf(stderr, "trending_hashtags: %s: %s\n", what, ds_strerror(s));
    exit(1);
}

int main(void) {
    double *cdf = (double *)malloc(VOCAB * sizeof *cdf), sum = 0;
    uint32_t *exact = (uint32_t *)calloc(VOCAB + 1, sizeof *exact); /* [VOCAB] = #breaking */
    ds_cms cms;
    ds_topk trending;
    ds_topk_item top[K], out;
    ds_rng rng;
    size_t i, j;
    ds_status s;
    char tag[32];
    int reported_entry = 0;
    long over = 0;

    if (!cdf || !exact) return 1;
    for (i = 0; i < VOCAB; i++) cdf[i] = (sum += 1.0 / pow((double)(i + 1), 1.1));
    for (i = 0; i < VOCAB; i++) cdf[i] /= sum;

    if ((s = ds_cms_init_error(&cms, 0.0005, 0.01, NULL)) != DS_OK) die("ds_cms_init_error", s);
    ds_cms_set_conservative(&cms, 1);
    if ((s = ds_topk_init(&trending, K, 16 * K, NULL)) != DS_OK) die("ds_topk_init", s);

    ds_rng_seed(&rng, 7);
    for (i = 0; i < POSTS; i++) {
        size_t t, len;
        if (i >= POSTS / 2 && ds_rng_below(&rng, 100) < 3) {
            t = VOCAB;
            len = (size_t)snprintf(tag, sizeof tag, "#breaking");
        } else {
            double u = ds_rng_double(&rng);
            size_t lo = 0, hi = VOCAB - 1;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cdf[mid] < u) lo = mid + 1; else hi = mid;
            }
            t = lo;
            len = tag_name(t, tag, sizeof tag);
        }
        exact[t]++;
        ds_cms_add(&cms, tag, len, 1, NULL);
        if ((s = ds_topk_add(&trending, tag, len, 1, &out)) != DS_OK) die("ds_topk_add", s);
        if (t == VOCAB && out.key && !reported_entry) {
            printf("post %zu: #breaking enters the trending list, pushing out %.*s\n", i,
                   (int)out.len, (const char *)out.key);
            reported_entry = 1;
        }
    }

    printf("\ntrending after %d posts (count is an upper bound; true count >= count - err)\n", POSTS);
    printf("  %-12s %9s %7s %9s %9s\n", "tag", "count", "err", "exact", "count-min");
    for (i = 0, j = ds_topk_list(&trending, top, K); i < j; i++) {
        size_t t = VOCAB;
        char buf[32];
        if (!(top[i].len == 9 && memcmp(top[i].key, "#breaking", 9) == 0))
            for (t = 0; t < VOCAB; t++)
                if (tag_name(t, buf, sizeof buf) == top[i].len && memcmp(buf, top[i].key, top[i].len) == 0) break;
        printf("  %-12.*s %9llu %7llu %9u %9u\n", (int)top[i].len, (const char *)top[i].key,
               (unsigned long long)top[i].count, (unsigned long long)top[i].err, exact[t],
               ds_cms_query(&cms, top[i].key, top[i].len));
        if (top[i].count < exact[t] || top[i].count - top[i].err > exact[t]) {
            fprintf(stderr, "bound violated for %.*s\n", (int)top[i].len, (const char *)top[i].key);
            return 1;
        }
    }

    /* Count-min over the whole vocabulary: never under, rarely far over. */
    for (i = 0; i < VOCAB; i++) {
        size_t len = tag_name(i, tag, sizeof tag);
        uint32_t est = ds_cms_query(&cms, tag, len);
        if (est < exact[i]) {
            fprintf(stderr, "count-min under-counted %s\n", tag);
            return 1;
        }
        over += est - exact[i] > 0.0005 * POSTS;
    }
    printf("\ncount-min: %u x %u counters (%zu KiB); %ld of %d tags over-counted by more than "
           "eps*N = %.0f (bound: 1%%)\n", cms.d, cms.w, ds_cms_memory(&cms) / 1024, over, VOCAB,
           0.0005 * POSTS);
    ds_cms_free(&cms);
    ds_topk_free(&trending);
    free(cdf);
    free(exact);
    return over <= VOCAB / 100 ? 0 : 1;
}
