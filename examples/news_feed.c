/* examples/news_feed.c - a Twitter-style home feed three ways, checked
 * against brute force: the seed's FanoutService on ds.
 *
 *   push (fan-out on write): a post is appended to the feed of every
 *     follower (and the author's own); a feed is a DS_DEQUE bounded to the
 *     newest FEED_MAX posts. Reading is a copy of its newest N. A celebrity
 *     with 1500 followers costs 1500 writes per post.
 *   pull (fan-out on read): a post is appended to its author's timeline
 *     only. Reading merges the timelines of everyone the reader follows (and
 *     their own), newest first, with a k-way merge on a DS_HEAP: one cursor
 *     per timeline, pop the newest, advance that cursor; O(k + N log k) for
 *     k timelines and N posts, never touching the rest of any timeline.
 *   hybrid: authors with more than T followers (celebrities) are not fanned
 *     out; everyone else is. Reading merges the pushed feed with the
 *     timelines of the celebrities the reader follows (same heap merge).
 *
 * A generated social graph: 3000 users, 5 celebrities followed by about
 * half of everyone, 50 "mid-tier" accounts with a few hundred followers,
 * the rest with a few dozen; 12000 posts at increasing timestamps, 10% of
 * them by celebrities. Halfway through and at the end every user's feed is
 * read with all three models and compared with brute force (collect every
 * post of the reader and the accounts they follow, sort, keep N): any
 * difference exits 1. Then the work each model did is printed: writes per
 * post against posts read per feed, the trade-off the seed describes.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/news_feed.c -o news_feed -lm
 *     ./news_feed */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERS 3000
#define CELEBS 5     /* users 0..4 */
#define MIDTIER 50   /* users 5..54 */
#define POSTS 12000
#define FEED_MAX 100 /* pushed feeds keep this many posts */
#define LIMIT 20     /* posts per feed read (<= FEED_MAX) */
#define THRESHOLD 1000

typedef struct post {
    int64_t ts; /* ms; strictly increasing, so ts orders posts totally */
    uint32_t author;
} post;

DS_VEC(idvec, uint32_t)   /* user ids, or post ids (indexes into posts) */
DS_DEQUE(feedq, uint32_t) /* a pushed feed: post ids, oldest at the front */
DS_SET(edgeset, uint64_t, ds_hash_u64, ds_eq_u64)

static post posts[POSTS];
static size_t nposts;

/* Per user: whom they follow, who follows them, their own posts. */
static idvec following[USERS], followers[USERS], timeline[USERS];
static feedq push_feed[USERS], hybrid_feed[USERS];

typedef struct work {
    uint64_t writes, max_writes;      /* feed/timeline appends, total and per post */
    uint64_t reads, max_reads, feeds; /* entries touched per feed read */
} work;
static work w_push, w_pull, w_hybrid;

static void die(const char *what, ds_status s) {
    fprintf(stderr, "news_feed: %s: %s\n", what, ds_strerror(s));
    exit(1);
}
static void count_write(work *w, uint64_t n) {
    w->writes += n;
    if (n > w->max_writes) w->max_writes = n;
}
static void count_read(work *w, uint64_t n) {
    w->reads += n;
    w->feeds++;
    if (n > w->max_reads) w->max_reads = n;
}
static int is_celeb(uint32_t u) { return idvec_len(&followers[u]) > THRESHOLD; }

/* ---- writing: one post, all three models ------------------------------- */
static void publish(uint32_t author, int64_t ts) {
    uint32_t id = (uint32_t)nposts;
    size_t i, nf = idvec_len(&followers[author]);
    ds_status s;
    posts[id].ts = ts;
    posts[id].author = author;
    nposts++;
    /* Every model keeps the author's timeline (the seed's user_posts). */
    if ((s = idvec_push(&timeline[author], id)) != DS_OK) die("timeline", s);
    /* push: the author's own feed and every follower's; a full feed drops
     * its oldest post. */
    if ((s = feedq_push_back(&push_feed[author], id)) != DS_OK) die("feed", s);
    for (i = 0; i < nf; i++)
        if ((s = feedq_push_back(&push_feed[followers[author].data[i]], id)) != DS_OK) die("feed", s);
    count_write(&w_push, 2 + nf);
    count_write(&w_pull, 1);
    /* hybrid: the same as push, except for celebrities. */
    if (is_celeb(author)) {
        count_write(&w_hybrid, 1);
    } else {
        if ((s = feedq_push_back(&hybrid_feed[author], id)) != DS_OK) die("feed", s);
        for (i = 0; i < nf; i++)
            if ((s = feedq_push_back(&hybrid_feed[followers[author].data[i]], id)) != DS_OK) die("feed", s);
        count_write(&w_hybrid, 2 + nf);
    }
}

/* ---- reading: k-way merge of newest-first sources ---------------------- */
/* A source is a list of post ids in time order, read from its end: a
 * timeline (ids) or a pushed feed (q). */
typedef struct source {
    const uint32_t *ids;
    const feedq *q;
    size_t len;
} source;
static uint32_t source_get(const source *s, size_t back) { /* back = 0: newest */
    size_t i = s->len - 1 - back;
    return s->q ? *feedq_at(s->q, i) : s->ids[i];
}

typedef struct cursor {
    int64_t ts;
    uint32_t post, src;
    size_t back; /* how far from the newest end */
} cursor;
/* DS_HEAP is a min-heap under `less`: order by "newer" to pop the newest. */
static int newer(cursor a, cursor b) { return a.ts > b.ts; }
DS_HEAP(mergeheap, cursor, newer)

/* The `limit` newest posts over all sources, newest first, into out;
 * *touched = source entries read. Returns how many were written. */
static size_t merge_newest(mergeheap *h, const source *src, size_t k, size_t limit, uint32_t *out,
                           uint64_t *touched) {
    size_t n = 0, i;
    ds_status s;
    mergeheap_clear(h);
    *touched = 0;
    for (i = 0; i < k; i++) {
        if (src[i].len == 0) continue;
        {
            uint32_t p = source_get(&src[i], 0);
            cursor c;
            c.ts = posts[p].ts;
            c.post = p;
            c.src = (uint32_t)i;
            c.back = 0;
            if ((s = mergeheap_push(h, c)) != DS_OK) die("heap", s);
            ++*touched;
        }
    }
    while (n < limit && mergeheap_len(h) > 0) {
        cursor top = *mergeheap_peek(h);
        out[n++] = top.post;
        if (top.back + 1 < src[top.src].len) { /* advance this source */
            top.back++;
            top.post = source_get(&src[top.src], top.back);
            top.ts = posts[top.post].ts;
            mergeheap_replace_top(h, top, NULL);
            ++*touched;
        } else {
            mergeheap_pop(h, NULL);
        }
    }
    return n;
}

static source from_timeline(uint32_t u) {
    source s;
    s.ids = timeline[u].data;
    s.q = NULL;
    s.len = idvec_len(&timeline[u]);
    return s;
}
static source from_feed(const feedq *q) {
    source s;
    s.ids = NULL;
    s.q = q;
    s.len = feedq_len(q);
    return s;
}

static size_t read_push(uint32_t u, uint32_t *out) {
    const feedq *q = &push_feed[u];
    size_t n = feedq_len(q) < LIMIT ? feedq_len(q) : LIMIT, i;
    for (i = 0; i < n; i++) out[i] = *feedq_at(q, feedq_len(q) - 1 - i);
    count_read(&w_push, n);
    return n;
}

static source srcbuf[USERS + 1];
static size_t read_pull(mergeheap *h, uint32_t u, uint32_t *out) {
    size_t k = 0, i, n;
    uint64_t touched;
    srcbuf[k++] = from_timeline(u);
    for (i = 0; i < idvec_len(&following[u]); i++) srcbuf[k++] = from_timeline(following[u].data[i]);
    n = merge_newest(h, srcbuf, k, LIMIT, out, &touched);
    count_read(&w_pull, touched);
    return n;
}
static size_t read_hybrid(mergeheap *h, uint32_t u, uint32_t *out) {
    size_t k = 0, i, n;
    uint64_t touched;
    srcbuf[k++] = from_feed(&hybrid_feed[u]);
    if (is_celeb(u)) srcbuf[k++] = from_timeline(u); /* own posts were not pushed */
    for (i = 0; i < idvec_len(&following[u]); i++)
        if (is_celeb(following[u].data[i])) srcbuf[k++] = from_timeline(following[u].data[i]);
    n = merge_newest(h, srcbuf, k, LIMIT, out, &touched);
    count_read(&w_hybrid, touched);
    return n;
}

/* ---- brute force: every post of the reader and their followees, sorted -- */
typedef struct stamped {
    int64_t ts;
    uint32_t post;
} stamped;
DS_VEC(stampvec, stamped)
static int by_time_desc(const stamped *a, const stamped *b) { return (a->ts < b->ts) - (a->ts > b->ts); }
static size_t read_brute(stampvec *all, const size_t *first, const uint32_t *by_author, uint32_t u,
                         uint32_t *out) {
    size_t i, j, n;
    ds_status s;
    stampvec_clear(all);
    for (i = 0; i <= idvec_len(&following[u]); i++) {
        uint32_t a = i == 0 ? u : following[u].data[i - 1];
        for (j = first[a]; j < first[a + 1]; j++) {
            stamped e;
            e.ts = posts[by_author[j]].ts;
            e.post = by_author[j];
            if ((s = stampvec_push(all, e)) != DS_OK) die("brute", s);
        }
    }
    stampvec_sort(all, by_time_desc);
    n = stampvec_len(all) < LIMIT ? stampvec_len(all) : LIMIT;
    for (i = 0; i < n; i++) out[i] = all->data[i].post;
    return n;
}

/* Reads every user's feed with all three models; each must equal brute
 * force. The brute force indexes the global post list itself (a counting
 * sort by author), independent of the timelines and feeds. */
static size_t check_all(mergeheap *h) {
    static size_t first[USERS + 1];
    static uint32_t by_author[POSTS];
    uint32_t want[LIMIT], got[LIMIT];
    stampvec all;
    size_t i, nw, ng, bad = 0;
    uint32_t u;
    memset(first, 0, sizeof first);
    for (i = 0; i < nposts; i++) first[posts[i].author + 1]++;
    for (u = 0; u < USERS; u++) first[u + 1] += first[u];
    {
        static size_t fill[USERS];
        memcpy(fill, first, sizeof fill);
        for (i = 0; i < nposts; i++) by_author[fill[posts[i].author]++] = (uint32_t)i;
    }
    stampvec_init(&all);
    for (u = 0; u < USERS; u++) {
        nw = read_brute(&all, first, by_author, u, want);
        ng = read_push(u, got);
        if (ng != nw || memcmp(got, want, nw * sizeof *want) != 0) bad++;
        ng = read_pull(h, u, got);
        if (ng != nw || memcmp(got, want, nw * sizeof *want) != 0) bad++;
        ng = read_hybrid(h, u, got);
        if (ng != nw || memcmp(got, want, nw * sizeof *want) != 0) bad++;
    }
    stampvec_free(&all);
    return bad;
}

/* Adds u -> v once (no self-follows). */
static void follow(edgeset *edges, uint32_t u, uint32_t v) {
    int isnew;
    ds_status s;
    if (u == v) return;
    if ((s = edgeset_put(edges, (uint64_t)u << 32 | v, &isnew)) != DS_OK) die("edges", s);
    if (!isnew) return;
    if ((s = idvec_push(&following[u], v)) != DS_OK || (s = idvec_push(&followers[v], u)) != DS_OK)
        die("follow", s);
}

static void print_row(const char *name, const work *w) {
    printf("  %-14s %10llu %9.1f %7llu   %9.1f %7llu\n", name, (unsigned long long)w->writes,
           (double)w->writes / (double)nposts, (unsigned long long)w->max_writes,
           (double)w->reads / (double)w->feeds, (unsigned long long)w->max_reads);
}

int main(void) {
    ds_rng rng;
    edgeset edges;
    mergeheap heap;
    uint32_t u, feed[LIMIT];
    size_t i, n, bad = 0, checks = 0, held_push = 0, held_hybrid = 0, celebs = 0;
    size_t min_celeb = SIZE_MAX, max_other = 0;
    int64_t ts = 1700000000000LL;
    ds_status s;

    ds_rng_seed(&rng, 2024);
    edgeset_init(&edges);
    mergeheap_init(&heap);
    for (u = 0; u < USERS; u++) {
        idvec_init(&following[u]);
        idvec_init(&followers[u]);
        idvec_init(&timeline[u]);
        feedq_init(&push_feed[u]);
        feedq_init(&hybrid_feed[u]);
        if ((s = feedq_set_maxlen(&push_feed[u], FEED_MAX)) != DS_OK ||
            (s = feedq_set_maxlen(&hybrid_feed[u], FEED_MAX)) != DS_OK)
            die("set_maxlen", s);
    }
    /* The graph: about half of everyone follows each celebrity; each user
     * follows ~4 of the 50 mid-tier accounts and 5..44 random others. */
    for (u = 0; u < USERS; u++) {
        uint32_t c, others = 5 + (uint32_t)ds_rng_below(&rng, 40);
        for (c = 0; c < CELEBS; c++)
            if (ds_rng_below(&rng, 100) < 50) follow(&edges, u, c);
        for (c = 0; c < 4; c++) follow(&edges, u, CELEBS + (uint32_t)ds_rng_below(&rng, MIDTIER));
        for (c = 0; c < others; c++) follow(&edges, u, (uint32_t)ds_rng_below(&rng, USERS));
    }
    for (u = 0; u < USERS; u++) {
        size_t f = idvec_len(&followers[u]);
        if (is_celeb(u)) {
            celebs++;
            if (f < min_celeb) min_celeb = f;
        } else if (f > max_other) {
            max_other = f;
        }
    }
    printf("graph: %d users, %zu follow edges; %zu celebrities over T = %d followers (the fewest\n"
           "has %zu); the most-followed other user has %zu\n",
           USERS, edgeset_len(&edges), celebs, THRESHOLD, min_celeb, max_other);

    /* The stream: posts at increasing times, 10% by celebrities; every
     * user's feed checked halfway and at the end. */
    for (i = 0; i < POSTS; i++) {
        uint32_t author = ds_rng_below(&rng, 10) == 0 ? (uint32_t)ds_rng_below(&rng, CELEBS)
                                                       : (uint32_t)ds_rng_below(&rng, USERS);
        ts += 1 + (int64_t)ds_rng_below(&rng, 2000);
        publish(author, ts);
        if (i + 1 == POSTS / 2 || i + 1 == POSTS) {
            bad += check_all(&heap);
            checks += USERS;
        }
    }

    /* One reader's feed, as the seed prints it. */
    u = 100;
    printf("\nuser%u follows %zu accounts; their newest posts (hybrid read):\n", u, idvec_len(&following[u]));
    n = read_hybrid(&heap, u, feed);
    for (i = 0; i < n && i < 5; i++)
        printf("  t=%lld  @user%u%s  post #%u\n", (long long)posts[feed[i]].ts, posts[feed[i]].author,
               is_celeb(posts[feed[i]].author) ? " (celebrity, pulled)" : "", feed[i]);

    for (u = 0; u < USERS; u++) {
        held_push += feedq_len(&push_feed[u]);
        held_hybrid += feedq_len(&hybrid_feed[u]);
    }
    printf("\n%d posts; %zu feed reads per model, each equal to brute force (newest %d)\n", POSTS, checks,
           LIMIT);
    printf("  %-14s %10s %9s %7s   %9s %7s\n", "model", "writes", "per post", "max", "read/feed", "max");
    print_row("push (write)", &w_push);
    print_row("pull (read)", &w_pull);
    print_row("hybrid", &w_hybrid);
    printf("  pushed feed entries held: push %zu, hybrid %zu (bounded at %d per user)\n", held_push,
           held_hybrid, FEED_MAX);

    if (bad) {
        fprintf(stderr, "news_feed: FAILED: %zu feeds differ from brute force\n", bad);
        return 1;
    }
    /* The graph and the trade-off are what this scenario is meant to show. */
    if (celebs != CELEBS || max_other > THRESHOLD || w_hybrid.max_writes >= w_push.max_writes ||
        w_push.reads >= w_hybrid.reads || w_hybrid.reads >= w_pull.reads) {
        fprintf(stderr, "news_feed: FAILED: %zu celebrities, or hybrid is not between push and pull\n", celebs);
        return 1;
    }
    printf("\nall checks passed\n");

    for (u = 0; u < USERS; u++) {
        idvec_free(&following[u]);
        idvec_free(&followers[u]);
        idvec_free(&timeline[u]);
        feedq_free(&push_feed[u]);
        feedq_free(&hybrid_feed[u]);
    }
    edgeset_free(&edges);
    mergeheap_free(&heap);
    return 0;
}
