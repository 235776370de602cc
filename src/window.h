/* src/window.h - ds_window, ds_ddsketch: sliding-window statistics and quantiles
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/window.h"
 */
#ifndef DS_SRC_WINDOW_H
#define DS_SRC_WINDOW_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:window ==  sliding-window statistics and a quantile sketch
 * ========================================================================
 * ds_window: count, sum, mean, min, max and exact quantiles over the last
 * N samples (count window) or the samples of the last T time units (time
 * window: a sample added at `now` leaves once now' - now >= T). Samples
 * sit in arrival order in a ring and in an order-statistic treap (subtree
 * sizes), so add/evict are O(log n) and any quantile is one O(log n)
 * select, with no sort on read. The sum is compensated (Neumaier), so it
 * does not drift as samples come and go.
 *
 *   ds_status ds_window_init_count(ds_window *w, size_t n, const ds_alloc *a)   n >= 1
 *   ds_status ds_window_init_time(ds_window *w, int64_t span, const ds_alloc *a) span >= 1
 *   void   ds_window_free(ds_window *w), ds_window_clear(ds_window *w)
 *   ds_status ds_window_add(ds_window *w, double x, int64_t now)
 *          DS_EINVAL for NaN or a `now` older than the last one;
 *          DS_ENOMEM (window unchanged). +-inf and any finite x are
 *          samples: while the window holds +inf (-inf) the sum and mean
 *          are +inf (-inf), NaN with both; a total of finite samples past
 *          the double range is +-inf; either way the sum is exact again
 *          once those samples have left (never a lasting inf - inf).
 *   void   ds_window_advance(ds_window *w, int64_t now)   evict by time only
 *   size_t ds_window_count(w); double ds_window_sum(w), ds_window_mean(w),
 *          ds_window_min(w), ds_window_max(w)      (NaN when empty)
 *   double ds_window_rank(const ds_window *w, size_t k)  k-th smallest (0-based)
 *   double ds_window_quantile(const ds_window *w, double q)  q in [0,1],
 *          linear interpolation between the closest ranks (numpy's
 *          default), so it equals sorting the window
 * Complexity: add O(log n) amortised; quantile/rank O(log n); min/max
 * O(log n); count/sum/mean O(1). Memory: ~40 bytes a sample.
 *
 * ds_ddsketch: a mergeable quantile sketch for unbounded streams with a
 * relative-error guarantee (Masson, Rim & Lee, "DDSketch", VLDB 2019):
 * bucket i holds values in (g^(i-1), g^i], g = (1 + alpha)/(1 - alpha), so
 * any quantile it returns is within alpha (relative) of a value of the
 * right rank. Positive and negative values and zero are kept apart. When a
 * store would exceed max_buckets the lowest buckets are collapsed (the
 * paper's collapsing policy: accuracy is kept for the higher quantiles).
 *
 *   ds_status ds_ddsketch_init(ds_ddsketch *s, double alpha, size_t max_buckets, const ds_alloc *a)
 *          alpha in [3.6e-7, 1) (below, the bucket index of the
 *          largest doubles would not fit an int32); max_buckets >= 16
 *          (0 = 2048; any larger size_t works, the index range bounds it)
 *   ds_status ds_ddsketch_add(ds_ddsketch *s, double x)   DS_EINVAL for NaN/inf
 *   double ds_ddsketch_quantile(const ds_ddsketch *s, double q)   NaN when empty
 *   ds_status ds_ddsketch_merge(ds_ddsketch *dst, const ds_ddsketch *src)  same alpha
 *          (DS_EINVAL otherwise); on DS_ENOMEM dst may hold part of src
 *   uint64_t ds_ddsketch_count(s); double ds_ddsketch_min(s), _max(s), _sum(s)
 *   void ds_ddsketch_free(ds_ddsketch *s)
 * Complexity: add O(1) amortised; quantile O(buckets). */
typedef struct ds__wnode {
    double x;
    uint32_t left, right, size, prio;
} ds__wnode;

typedef struct ds_window {
    double *ring_x;        /* samples in arrival order */
    int64_t *ring_t;
    uint32_t *ring_node;   /* each sample's treap node */
    size_t cap, head, len, max_len;
    int64_t span, last_now;
    ds__wnode *nodes;      /* treap nodes, 1-based (0 = none) */
    uint32_t root, free_node;
    size_t node_cap;
    double sum, comp;      /* Neumaier-compensated sum of the finite samples */
    size_t inf_pos, inf_neg; /* samples that are +inf, -inf (not in sum) */
    uint64_t rng;
    const ds_alloc *alloc;
} ds_window;

DSDEF ds_status ds_window_init_count(ds_window *w, size_t n, const ds_alloc *a);
DSDEF ds_status ds_window_init_time(ds_window *w, int64_t span, const ds_alloc *a);
DSDEF void ds_window_free(ds_window *w);
DSDEF void ds_window_clear(ds_window *w);
DSDEF ds_status ds_window_add(ds_window *w, double x, int64_t now);
DSDEF void ds_window_advance(ds_window *w, int64_t now);
DSDEF size_t ds_window_count(const ds_window *w);
DSDEF double ds_window_sum(const ds_window *w);
DSDEF double ds_window_mean(const ds_window *w);
DSDEF double ds_window_min(const ds_window *w);
DSDEF double ds_window_max(const ds_window *w);
DSDEF double ds_window_rank(const ds_window *w, size_t k);
DSDEF double ds_window_quantile(const ds_window *w, double q);

typedef struct ds__ddstore {
    uint64_t *bins;
    size_t nbins;
    int32_t offset;        /* bucket index of bins[0] */
} ds__ddstore;
typedef struct ds_ddsketch {
    ds__ddstore pos, neg;
    uint64_t zero, count;
    double alpha, gamma, log_gamma, min, max, sum;
    size_t max_buckets;
    const ds_alloc *alloc;
} ds_ddsketch;

DSDEF ds_status ds_ddsketch_init(ds_ddsketch *s, double alpha, size_t max_buckets, const ds_alloc *a);
DSDEF void ds_ddsketch_free(ds_ddsketch *s);
DSDEF ds_status ds_ddsketch_add(ds_ddsketch *s, double x);
DSDEF double ds_ddsketch_quantile(const ds_ddsketch *s, double q);
DSDEF ds_status ds_ddsketch_merge(ds_ddsketch *dst, const ds_ddsketch *src);
DSDEF uint64_t ds_ddsketch_count(const ds_ddsketch *s);
DSDEF double ds_ddsketch_min(const ds_ddsketch *s);
DSDEF double ds_ddsketch_max(const ds_ddsketch *s);
DSDEF double ds_ddsketch_sum(const ds_ddsketch *s);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_WINDOW_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_WINDOW_IMPL)
#define DS_SRC_WINDOW_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:window == */

static uint32_t ds__wsize(const ds_window *w, uint32_t n) { return n ? w->nodes[n].size : 0; }
static void ds__wupd(ds_window *w, uint32_t n) {
    w->nodes[n].size = 1 + ds__wsize(w, w->nodes[n].left) + ds__wsize(w, w->nodes[n].right);
}
/* Total order on samples: by value, ties by node id. */
static int ds__wless(const ds_window *w, uint32_t a, uint32_t b) {
    double xa = w->nodes[a].x, xb = w->nodes[b].x;
    return xa < xb || (xa == xb && a < b);
}
/* Split t into the nodes ordered before k (*l) and the rest (*r). */
static void ds__wsplit(ds_window *w, uint32_t t, uint32_t k, uint32_t *l, uint32_t *r) {
    uint32_t a, b;
    if (!t) {
        *l = *r = 0;
        return;
    }
    if (ds__wless(w, t, k)) {
        ds__wsplit(w, w->nodes[t].right, k, &a, &b);
        w->nodes[t].right = a;
        *l = t;
        *r = b;
    } else {
        ds__wsplit(w, w->nodes[t].left, k, &a, &b);
        w->nodes[t].left = b;
        *l = a;
        *r = t;
    }
    ds__wupd(w, t);
}
static uint32_t ds__wmerge(ds_window *w, uint32_t a, uint32_t b) {
    uint32_t m;
    if (!a) return b;
    if (!b) return a;
    if (w->nodes[a].prio > w->nodes[b].prio) {
        m = ds__wmerge(w, w->nodes[a].right, b);
        w->nodes[a].right = m;
        ds__wupd(w, a);
        return a;
    }
    m = ds__wmerge(w, a, w->nodes[b].left);
    w->nodes[b].left = m;
    ds__wupd(w, b);
    return b;
}
static uint32_t ds__wremove_min(ds_window *w, uint32_t t) {
    uint32_t l = w->nodes[t].left;
    if (!l) return w->nodes[t].right;
    w->nodes[t].left = ds__wremove_min(w, l);
    ds__wupd(w, t);
    return t;
}
static void ds__wsum(ds_window *w, double x) { /* Neumaier */
    double t = w->sum + x;
    w->comp += fabs(w->sum) >= fabs(x) ? (w->sum - t) + x : (x - t) + w->sum;
    w->sum = t;
}
/* Sample x joins (sign 1) or leaves (-1) the sum. Infinities are counted
 * apart, so one leaving does not leave inf - inf = NaN behind; a finite
 * sum that overflowed is recounted from the ring once samples leave (the
 * rare case: the finite samples' total past DBL_MAX). */
static void ds__wsum_move(ds_window *w, double x, int sign) {
    size_t i;
    if (x == HUGE_VAL || x == -HUGE_VAL) {
        size_t *n = x > 0 ? &w->inf_pos : &w->inf_neg;
        *n = sign > 0 ? *n + 1 : *n - 1;
        return;
    }
    if (sign > 0 || (w->sum - w->sum == 0.0 && w->comp - w->comp == 0.0)) {
        ds__wsum(w, sign > 0 ? x : -x);
        return;
    }
    w->sum = w->comp = 0; /* called after x left the ring: recount the rest */
    for (i = 0; i < w->len; i++) {
        double y = w->ring_x[(w->head + i) % w->cap];
        if (y != HUGE_VAL && y != -HUGE_VAL) ds__wsum(w, y);
    }
}
static double ds__wtotal(const ds_window *w) {
    if (w->inf_pos || w->inf_neg) return w->inf_pos && w->inf_neg ? NAN : w->inf_pos ? HUGE_VAL : -HUGE_VAL;
    /* past the finite range the compensation is inf - inf: the sum says it */
    return w->sum - w->sum == 0.0 ? w->sum + w->comp : w->sum;
}

static ds_status ds__window_init(ds_window *w, size_t n, int64_t span, const ds_alloc *a) {
    memset(w, 0, sizeof *w);
    w->alloc = a;
    w->max_len = n;
    w->span = span;
    w->last_now = INT64_MIN;
    w->rng = 0x243f6a8885a308d3ull;
    return DS_OK;
}
DSDEF ds_status ds_window_init_count(ds_window *w, size_t n, const ds_alloc *a) {
    if (!w) return DS_EINVAL;
    memset(w, 0, sizeof *w); /* a failed init leaves a struct free accepts */
    if (n == 0 || n >= UINT32_MAX - 1) return DS_EINVAL;
    return ds__window_init(w, n, 0, a);
}
DSDEF ds_status ds_window_init_time(ds_window *w, int64_t span, const ds_alloc *a) {
    if (!w) return DS_EINVAL;
    memset(w, 0, sizeof *w); /* a failed init leaves a struct free accepts */
    if (span < 1) return DS_EINVAL;
    return ds__window_init(w, 0, span, a);
}
DSDEF void ds_window_free(ds_window *w) {
    if (!w) return;
    if (w->cap) {
        DS_FREE(w->alloc, w->ring_x, w->cap * sizeof(double));
        DS_FREE(w->alloc, w->ring_t, w->cap * sizeof(int64_t));
        DS_FREE(w->alloc, w->ring_node, w->cap * sizeof(uint32_t));
    }
    if (w->node_cap) DS_FREE(w->alloc, w->nodes, (w->node_cap + 1) * sizeof(ds__wnode));
    ds__window_init(w, w->max_len, w->span, w->alloc);
}
DSDEF void ds_window_clear(ds_window *w) {
    size_t i;
    if (!w) return;
    w->head = w->len = 0;
    w->root = 0;
    w->free_node = 0;
    for (i = w->node_cap; i >= 1; i--) { /* every node back on the free list */
        w->nodes[i].left = w->free_node;
        w->free_node = (uint32_t)i;
    }
    w->sum = w->comp = 0;
    w->inf_pos = w->inf_neg = 0;
    w->last_now = INT64_MIN;
}
/* Room for one more sample (ring slot and node), allocating before any
 * change: on DS_ENOMEM the window is as it was. */
/* Room for one more sample: the ring and the node pool grow together,
 * every new block allocated before any old one goes, so on DS_ENOMEM the
 * window is exactly as it was, capacities included. */
static ds_status ds__window_reserve(ds_window *w) {
    /* A full count window evicts its oldest sample into the slot it frees:
     * its ring (allocated at max_len) never grows. */
    int grow_ring = w->len == w->cap && !(w->max_len && w->cap >= w->max_len);
    int grow_nodes = !w->free_node;
    size_t rc = 0, ncap = 0, i, nbytes = 0;
    double *nx = NULL;
    int64_t *nt = NULL;
    uint32_t *nr = NULL;
    ds__wnode *nn = NULL;
    if (!grow_ring && !grow_nodes) return DS_OK;
    if (grow_ring) {
        rc = w->max_len ? w->max_len : (w->cap ? w->cap * 2 : 64);
        if (rc > UINT32_MAX - 2 || rc > SIZE_MAX / 8) return DS_EINVAL;
    }
    if (grow_nodes) {
        ncap = w->node_cap ? w->node_cap * 2 : (w->max_len ? w->max_len + 1 : 64);
        if (ncap > UINT32_MAX - 2 || !ds_size_mul(ncap + 1, sizeof(ds__wnode), &nbytes)) return DS_EINVAL;
    }
    if (grow_ring) {
        nx = (double *)DS_MALLOC(w->alloc, rc * sizeof(double));
        nt = (int64_t *)DS_MALLOC(w->alloc, rc * sizeof(int64_t));
        nr = (uint32_t *)DS_MALLOC(w->alloc, rc * sizeof(uint32_t));
    }
    if (grow_nodes) nn = (ds__wnode *)DS_MALLOC(w->alloc, nbytes);
    if ((grow_ring && (!nx || !nt || !nr)) || (grow_nodes && !nn)) {
        if (nx) DS_FREE(w->alloc, nx, rc * sizeof(double));
        if (nt) DS_FREE(w->alloc, nt, rc * sizeof(int64_t));
        if (nr) DS_FREE(w->alloc, nr, rc * sizeof(uint32_t));
        if (nn) DS_FREE(w->alloc, nn, nbytes);
        return DS_ENOMEM;
    }
    if (grow_ring) {
        for (i = 0; i < w->len; i++) { /* unroll the ring */
            size_t j = (w->head + i) % w->cap;
            nx[i] = w->ring_x[j];
            nt[i] = w->ring_t[j];
            nr[i] = w->ring_node[j];
        }
        if (w->cap) {
            DS_FREE(w->alloc, w->ring_x, w->cap * sizeof(double));
            DS_FREE(w->alloc, w->ring_t, w->cap * sizeof(int64_t));
            DS_FREE(w->alloc, w->ring_node, w->cap * sizeof(uint32_t));
        }
        w->ring_x = nx;
        w->ring_t = nt;
        w->ring_node = nr;
        w->cap = rc;
        w->head = 0;
    }
    if (grow_nodes) {
        if (w->nodes) {
            memcpy(nn, w->nodes, (w->node_cap + 1) * sizeof(ds__wnode));
            DS_FREE(w->alloc, w->nodes, (w->node_cap + 1) * sizeof(ds__wnode));
        }
        w->nodes = nn;
        for (i = ncap; i > w->node_cap; i--) {
            w->nodes[i].left = w->free_node;
            w->free_node = (uint32_t)i;
        }
        w->node_cap = ncap;
    }
    return DS_OK;
}
static void ds__window_pop(ds_window *w) {
    uint32_t k = w->ring_node[w->head], l, r;
    ds__wsplit(w, w->root, k, &l, &r);  /* k is the least of r */
    w->root = ds__wmerge(w, l, ds__wremove_min(w, r));
    w->nodes[k].left = w->free_node;
    w->free_node = k;
    {
        double x = w->ring_x[w->head];
        w->head = (w->head + 1) % w->cap;
        w->len--;
        ds__wsum_move(w, x, -1);
    }
}
DSDEF void ds_window_advance(ds_window *w, int64_t now) {
    int64_t cut;
    if (!w || !w->span || now < INT64_MIN + w->span) return; /* nothing is that old */
    cut = now - w->span; /* an entry at t leaves when now - t >= span: t <= cut, no overflow */
    while (w->len && w->ring_t[w->head] <= cut) ds__window_pop(w);
}
DSDEF ds_status ds_window_add(ds_window *w, double x, int64_t now) {
    uint32_t k, l, r;
    ds_status st;
    if (!w || x != x || now < w->last_now) return DS_EINVAL;
    if ((st = ds__window_reserve(w)) != DS_OK) return st;
    w->last_now = now;
    ds_window_advance(w, now);
    if (w->max_len && w->len == w->max_len) ds__window_pop(w);
    k = w->free_node;
    w->free_node = w->nodes[k].left;
    w->rng += 0x9e3779b97f4a7c15ull;
    w->nodes[k].x = x;
    w->nodes[k].left = w->nodes[k].right = 0;
    w->nodes[k].size = 1;
    w->nodes[k].prio = (uint32_t)(ds_mix64(w->rng) >> 32);
    ds__wsplit(w, w->root, k, &l, &r);
    w->root = ds__wmerge(w, ds__wmerge(w, l, k), r);
    {
        size_t j = (w->head + w->len) % w->cap;
        w->ring_x[j] = x;
        w->ring_t[j] = now;
        w->ring_node[j] = k;
    }
    w->len++;
    ds__wsum_move(w, x, 1);
    return DS_OK;
}
DSDEF size_t ds_window_count(const ds_window *w) { return w ? w->len : 0; }
DSDEF double ds_window_sum(const ds_window *w) { return w ? ds__wtotal(w) : 0.0; }
DSDEF double ds_window_mean(const ds_window *w) {
    return w && w->len ? ds__wtotal(w) / (double)w->len : NAN;
}
DSDEF double ds_window_rank(const ds_window *w, size_t k) {
    uint32_t t;
    if (!w || k >= w->len) return NAN;
    t = w->root;
    for (;;) {
        size_t ls = ds__wsize(w, w->nodes[t].left);
        if (k < ls) {
            t = w->nodes[t].left;
        } else if (k == ls) {
            return w->nodes[t].x;
        } else {
            k -= ls + 1;
            t = w->nodes[t].right;
        }
    }
}
DSDEF double ds_window_min(const ds_window *w) { return ds_window_rank(w, 0); }
DSDEF double ds_window_max(const ds_window *w) { return w && w->len ? ds_window_rank(w, w->len - 1) : NAN; }
DSDEF double ds_window_quantile(const ds_window *w, double q) {
    double pos, frac, lo, hi, d;
    size_t i;
    if (!w || !w->len || !(q >= 0.0 && q <= 1.0)) return NAN;
    pos = q * (double)(w->len - 1);
    i = (size_t)pos;
    frac = pos - (double)i;
    lo = ds_window_rank(w, i);
    if (!(frac > 0) || i + 1 >= w->len) return lo;
    hi = ds_window_rank(w, i + 1);
    if (lo == hi) return lo;
    /* Between -inf and anything the line is -inf; between anything and
     * +inf it is +inf (never -inf + inf = NaN). */
    if (lo == -HUGE_VAL || hi == HUGE_VAL) return lo == -HUGE_VAL ? lo : hi;
    d = hi - lo;
    /* hi - lo past the double range: the same line, weighted the other way */
    return d < HUGE_VAL ? lo + frac * d : lo * (1.0 - frac) + hi * frac;
}

/* -- DDSketch -- */

DSDEF ds_status ds_ddsketch_init(ds_ddsketch *s, double alpha, size_t max_buckets, const ds_alloc *a) {
    if (!s) return DS_EINVAL;
    memset(s, 0, sizeof *s); /* a failed init leaves a struct free accepts */
    if (!(alpha > 0.0 && alpha < 1.0) || (max_buckets && max_buckets < 16)) return DS_EINVAL;
    memset(s, 0, sizeof *s);
    s->alpha = alpha;
    s->gamma = (1 + alpha) / (1 - alpha);
    s->log_gamma = log(s->gamma);
    /* The bucket index of every finite double, log(x) / log(gamma), must
     * fit the +-1e9 the stores hold: alpha below about 3.6e-7 (or one so
     * small that gamma rounds to 1) could not keep its error bound. */
    if (!(709.8 / s->log_gamma < 1e9)) {
        memset(s, 0, sizeof *s);
        return DS_EINVAL;
    }
    s->max_buckets = max_buckets ? max_buckets : 2048;
    s->min = HUGE_VAL;
    s->max = -HUGE_VAL;
    s->alloc = a;
    return DS_OK;
}
static void ds__dd_free_store(ds_ddsketch *s, ds__ddstore *st) {
    if (st->bins) DS_FREE(s->alloc, st->bins, st->nbins * sizeof(uint64_t));
    memset(st, 0, sizeof *st);
}
DSDEF void ds_ddsketch_free(ds_ddsketch *s) {
    if (!s) return;
    ds__dd_free_store(s, &s->pos);
    ds__dd_free_store(s, &s->neg);
}
/* Add n to bucket i of st, growing the store (at most max_buckets wide;
 * beyond that the lowest buckets collapse into one). */
static ds_status ds__dd_store_add(ds_ddsketch *s, ds__ddstore *st, int32_t i, uint64_t n) {
    int64_t lo, hi, want;
    if (!st->bins || i < st->offset || i >= st->offset + (int64_t)st->nbins) {
        uint64_t *nb;
        size_t nn, j;
        lo = st->bins ? (i < st->offset ? i : st->offset) : i;
        hi = st->bins ? (i >= st->offset + (int64_t)st->nbins ? i + 1 : st->offset + (int64_t)st->nbins) : i + 1;
        want = hi - lo;
        if (want < 32) { /* slack on the side that grew */
            if (!st->bins || i < st->offset) lo = hi - 32; else hi = lo + 32;
            want = 32;
        }
        if ((uint64_t)want > s->max_buckets) { /* collapse the low end (max_buckets < want fits) */
            lo = hi - (int64_t)s->max_buckets;
            want = (int64_t)s->max_buckets;
        }
        nn = (size_t)want;
        if (!st->bins || lo != st->offset || nn != st->nbins) {
            nb = (uint64_t *)DS_MALLOC(s->alloc, nn * sizeof(uint64_t));
            if (!nb) return DS_ENOMEM;
            memset(nb, 0, nn * sizeof(uint64_t));
            for (j = 0; st->bins && j < st->nbins; j++) {
                int64_t idx = st->offset + (int64_t)j;
                nb[idx < lo ? 0 : (size_t)(idx - lo)] += st->bins[j];
            }
            if (st->bins) DS_FREE(s->alloc, st->bins, st->nbins * sizeof(uint64_t));
            st->bins = nb;
            st->nbins = nn;
            st->offset = (int32_t)lo;
        }
    }
    st->bins[i < st->offset ? 0 : (size_t)(i - st->offset)] += n;
    return DS_OK;
}
static int32_t ds__dd_index(const ds_ddsketch *s, double x) { /* x > 0 */
    double v = ceil(log(x) / s->log_gamma);
    return v < -1e9 ? -1000000000 : v > 1e9 ? 1000000000 : (int32_t)v;
}
DSDEF ds_status ds_ddsketch_add(ds_ddsketch *s, double x) {
    ds_status st = DS_OK;
    if (!s || x != x || x == HUGE_VAL || x == -HUGE_VAL) return DS_EINVAL;
    /* Values too close to zero for the bucket range count as zero. */
    if (x > 1e-300) st = ds__dd_store_add(s, &s->pos, ds__dd_index(s, x), 1);
    else if (x < -1e-300) st = ds__dd_store_add(s, &s->neg, ds__dd_index(s, -x), 1);
    else s->zero++;
    if (st != DS_OK) return st;
    s->count++;
    s->sum += x;
    if (x < s->min) s->min = x;
    if (x > s->max) s->max = x;
    return DS_OK;
}
static double ds__dd_value(const ds_ddsketch *s, int64_t i) { /* the bucket's midpoint */
    return 2.0 * pow(s->gamma, (double)i) / (s->gamma + 1.0);
}
DSDEF double ds_ddsketch_quantile(const ds_ddsketch *s, double q) {
    double rank, v = NAN;
    uint64_t seen = 0;
    size_t j;
    if (!s || !s->count || !(q >= 0.0 && q <= 1.0)) return NAN;
    rank = q * (double)(s->count - 1);
    /* Most negative first: the negative store from its highest bucket. */
    for (j = s->neg.nbins; j-- > 0 && v != v;) {
        seen += s->neg.bins[j];
        if ((double)seen > rank) v = -ds__dd_value(s, s->neg.offset + (int64_t)j);
    }
    if (v != v) {
        seen += s->zero;
        if ((double)seen > rank) v = 0.0;
    }
    for (j = 0; j < s->pos.nbins && v != v; j++) {
        seen += s->pos.bins[j];
        if ((double)seen > rank) v = ds__dd_value(s, s->pos.offset + (int64_t)j);
    }
    if (v != v) v = s->max;
    return v < s->min ? s->min : v > s->max ? s->max : v;
}
DSDEF ds_status ds_ddsketch_merge(ds_ddsketch *dst, const ds_ddsketch *src) {
    size_t j;
    ds_status st;
    if (!dst || !src || dst->gamma != src->gamma) return DS_EINVAL;
    for (j = 0; j < src->pos.nbins; j++)
        if (src->pos.bins[j] &&
            (st = ds__dd_store_add(dst, &dst->pos, src->pos.offset + (int32_t)j, src->pos.bins[j])) != DS_OK)
            return st;
    for (j = 0; j < src->neg.nbins; j++)
        if (src->neg.bins[j] &&
            (st = ds__dd_store_add(dst, &dst->neg, src->neg.offset + (int32_t)j, src->neg.bins[j])) != DS_OK)
            return st;
    dst->zero += src->zero;
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    return DS_OK;
}
DSDEF uint64_t ds_ddsketch_count(const ds_ddsketch *s) { return s ? s->count : 0; }
DSDEF double ds_ddsketch_min(const ds_ddsketch *s) { return s && s->count ? s->min : NAN; }
DSDEF double ds_ddsketch_max(const ds_ddsketch *s) { return s && s->count ? s->max : NAN; }
DSDEF double ds_ddsketch_sum(const ds_ddsketch *s) { return s ? s->sum : 0.0; }


/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_WINDOW_IMPL */
