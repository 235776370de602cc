/* examples/nearby.c - "what's near me": nearest-k and within-radius over
 * points of interest, answered two ways that must agree.
 *
 * The system-design version: a location service keeps every POI's
 * geohash in a sorted index (a database index, a Redis sorted set) and
 * answers "within r of me" by scanning the prefix ranges of the geohash
 * cells that cover the circle; an in-memory service keeps a quadtree and
 * queries a box. Here both run over the same 24,000 synthetic POIs (fixed
 * seed) around six places, one of them Taveuni in Fiji, whose POIs lie on
 * both sides of the 180th meridian, and one Longyearbyen at 78 N, where a
 * kilometre is 0.04 degrees of longitude.
 *
 *   geohash path: every POI's 60-bit geohash (12 characters) in a sorted
 *     array. ds_geohash_cover(lat, lon, r) picks a precision and the cells
 *     (at most 9 here) that hold the whole circle; each cell of p
 *     characters is one contiguous range of the sorted array (its 60-bit
 *     descendants share its top 5p bits), found by two binary searches.
 *     Candidates are then filtered by ds_geo_distance (haversine).
 *   quadtree path: a ds_quadtree over x = longitude, y = latitude.
 *     Radius: ds_geo_circle_box gives the circle's lat/lon box (two boxes
 *     when it crosses the antimeridian), ds_quadtree_rect collects the
 *     candidates, haversine filters them.
 *   nearest k: the quadtree's exact kNN works in its own plane (degrees),
 *     not on the sphere, but its k answers are k real POIs: the farthest of
 *     them by haversine, R_k, bounds the true k-th distance, so a radius
 *     query of R_k followed by a sort gives the exact k nearest. The
 *     geohash path doubles a radius from 100 m until the cover holds k.
 *
 * Both paths sort by (distance, id), so the answers are one well-defined
 * list; the program checks them against each other and, for a sample,
 * against a scan of every POI, and exits 0 when everything agrees. A POI
 * then moves (a food truck drives 2 km): ds_quadtree_move and one update
 * of the sorted index, and the next query finds it at its new place.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/nearby.c -o nearby -lm
 *     ./nearby */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(call)                                                               \
    do {                                                                        \
        ds_status st_ = (call);                                                 \
        if (st_ != DS_OK) {                                                     \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, \
                    ds_strerror(st_));                                          \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

#define PER_CITY 4000
#define NCITY 6
#define NPOI (PER_CITY * NCITY)
#define K 5
#define RADIUS_M 750.0
#define QUERIES 400

typedef struct city {
    const char *name;
    double lat, lon, spread_km;
} city;

static const city cities[NCITY] = {
    {"Paris", 48.8566, 2.3522, 6},        {"New York", 40.7128, -74.0060, 8},
    {"Tokyo", 35.6762, 139.6503, 10},     {"Reykjavik", 64.1466, -21.9426, 4},
    {"Taveuni (Fiji)", -16.85, 179.98, 6}, {"Longyearbyen", 78.2232, 15.6267, 3},
};

static const char *kinds[] = {"cafe", "pharmacy", "bakery", "charger", "atm", "bike dock"};

typedef struct poi {
    double lat, lon;
    uint64_t id;
    int kind;
} poi;

static poi pois[NPOI];

/* The geohash index: (60-bit geohash, POI index), sorted. */
typedef struct gh_entry {
    uint64_t h;
    uint32_t i;
} gh_entry;
static gh_entry ghx[NPOI];

static int gh_cmp(const void *a, const void *b) {
    const gh_entry *x = (const gh_entry *)a, *y = (const gh_entry *)b;
    return x->h < y->h ? -1 : x->h > y->h ? 1 : (x->i > y->i) - (x->i < y->i);
}

/* First entry with h >= key. */
static size_t gh_lower(uint64_t key) {
    size_t lo = 0, hi = NPOI;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ghx[mid].h < key) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* A result: POI index and its distance. */
typedef struct hit {
    double d;
    uint32_t i;
} hit;

static int hit_cmp(const void *a, const void *b) {
    const hit *x = (const hit *)a, *y = (const hit *)b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

typedef struct hits {
    hit *h;
    size_t n, cap;
} hits;

static void hits_push(hits *s, uint32_t i, double d) {
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        hit *p = (hit *)realloc(s->h, nc * sizeof *p);
        EXPECT(p != NULL);
        s->h = p;
        s->cap = nc;
    }
    s->h[s->n].i = i;
    s->h[s->n].d = d;
    s->n++;
}

/* ---- the geohash path ---- */

static size_t gh_scanned; /* candidates looked at, for the report */

/* POIs within r of (lat, lon), sorted by (distance, id). */
static void gh_within(double lat, double lon, double r, hits *out) {
    ds_geohash_cells c;
    int k;
    out->n = 0;
    TRY(ds_geohash_cover(lat, lon, r, &c));
    for (k = 0; k < c.n; k++) {
        unsigned shift = (unsigned)(60 - 5 * c.precision);
        size_t a = gh_lower(c.hash[k] << shift), b = gh_lower((c.hash[k] + 1) << shift);
        for (; a < b; a++) {
            const poi *p = &pois[ghx[a].i];
            double d = ds_geo_distance(lat, lon, p->lat, p->lon);
            gh_scanned++;
            if (d <= r) hits_push(out, ghx[a].i, d);
        }
    }
    qsort(out->h, out->n, sizeof *out->h, hit_cmp);
}

/* The k nearest: double the radius until the cover holds k. */
static void gh_nearest(double lat, double lon, size_t k, hits *out) {
    double r = 100;
    for (;;) {
        gh_within(lat, lon, r, out);
        if (out->n >= k || r > 2.1e7) break;
        r *= 2;
    }
    if (out->n > k) out->n = k;
}

/* ---- the quadtree path ---- */

typedef struct qctx {
    double lat, lon, r;
    hits *out;
    size_t scanned;
} qctx;

static int q_filter(void *ctx, uint64_t id, double x, double y) {
    qctx *c = (qctx *)ctx;
    double d = ds_geo_distance(c->lat, c->lon, y, x);
    c->scanned++;
    if (d <= c->r) hits_push(c->out, (uint32_t)id, d);
    return 0;
}

static size_t qt_scanned;

static void qt_within(const ds_quadtree *q, double lat, double lon, double r, hits *out) {
    ds_geo_box b;
    qctx c;
    c.lat = lat;
    c.lon = lon;
    c.r = r;
    c.out = out;
    c.scanned = 0;
    out->n = 0;
    TRY(ds_geo_circle_box(lat, lon, r, &b));
    if (b.lon_min <= b.lon_max) {
        TRY(ds_quadtree_rect(q, b.lon_min, b.lat_min, b.lon_max, b.lat_max, q_filter, &c, NULL));
    } else { /* across the antimeridian: two boxes */
        TRY(ds_quadtree_rect(q, b.lon_min, b.lat_min, 180, b.lat_max, q_filter, &c, NULL));
        TRY(ds_quadtree_rect(q, -180, b.lat_min, b.lon_max, b.lat_max, q_filter, &c, NULL));
    }
    qt_scanned += c.scanned;
    qsort(out->h, out->n, sizeof *out->h, hit_cmp);
}

static void qt_nearest(const ds_quadtree *q, double lat, double lon, size_t k, hits *out) {
    ds_qt_hit near[K];
    size_t n, j;
    double rk = 0;
    EXPECT(k <= K);
    TRY(ds_quadtree_knn(q, lon, lat, k, near, &n));
    for (j = 0; j < n; j++) {
        double d = ds_geo_distance(lat, lon, near[j].y, near[j].x);
        if (d > rk) rk = d;
    }
    qt_within(q, lat, lon, rk, out);
    if (out->n > k) out->n = k;
}

/* ---- checks ---- */

static int same(const hits *a, const hits *b) {
    size_t j;
    if (a->n != b->n) return 0;
    for (j = 0; j < a->n; j++)
        if (a->h[j].i != b->h[j].i || a->h[j].d != b->h[j].d) return 0;
    return 1;
}

static void brute_within(double lat, double lon, double r, hits *out) {
    uint32_t i;
    out->n = 0;
    for (i = 0; i < NPOI; i++) {
        double d = ds_geo_distance(lat, lon, pois[i].lat, pois[i].lon);
        if (d <= r) hits_push(out, i, d);
    }
    qsort(out->h, out->n, sizeof *out->h, hit_cmp);
}

/* A point about `km` from the city centre (Gaussian-ish, fixed seed),
 * longitude wrapped into [-180, 180]. */
static void near_city(ds_rng *r, const city *c, double km, double *lat, double *lon) {
    double u = ds_rng_double(r) + ds_rng_double(r) + ds_rng_double(r) - 1.5; /* ~N(0, 0.25) */
    double v = ds_rng_double(r) + ds_rng_double(r) + ds_rng_double(r) - 1.5;
    double dlat = u * 2 * km / 111.2, dlon = v * 2 * km / (111.2 * cos(c->lat * 3.14159265358979 / 180));
    *lat = c->lat + dlat;
    *lon = c->lon + dlon;
    if (*lon > 180) *lon -= 360;
    if (*lon < -180) *lon += 360;
}

int main(void) {
    ds_quadtree q;
    ds_quadtree_config cfg;
    ds_rng rng;
    hits a = {NULL, 0, 0}, b = {NULL, 0, 0};
    uint32_t i;
    int qi, across = 0;
    size_t found_within = 0, found_near = 0, brute_checked = 0, nwithin;
    char gh[DS_GEOHASH_MAX + 1];

    ds_rng_seed(&rng, 20240909);
    memset(&cfg, 0, sizeof cfg);
    cfg.x_min = -180;
    cfg.x_max = 180;
    cfg.y_min = -90;
    cfg.y_max = 90;
    TRY(ds_quadtree_init(&q, &cfg));
    for (i = 0; i < NPOI; i++) {
        const city *c = &cities[i / PER_CITY];
        poi *p = &pois[i];
        near_city(&rng, c, c->spread_km, &p->lat, &p->lon);
        p->id = i;
        p->kind = (int)ds_rng_below(&rng, sizeof kinds / sizeof kinds[0]);
        if (p->lon < 0 && c->lon > 170) across++;
        TRY(ds_quadtree_add(&q, p->lon, p->lat, i));
        TRY(ds_geohash_encode_int(p->lat, p->lon, 60, &ghx[i].h));
        ghx[i].i = i;
    }
    qsort(ghx, NPOI, sizeof ghx[0], gh_cmp);
    printf("%d POIs around %d places (%d of Taveuni's across the antimeridian, at longitude < -179);\n"
           "quadtree: %zu points, %zu KiB\n\n", NPOI, NCITY, across, ds_quadtree_len(&q),
           ds_quadtree_memory(&q) / 1024);

    for (qi = 0; qi < QUERIES; qi++) {
        const city *c = &cities[qi % NCITY];
        double lat, lon;
        near_city(&rng, c, c->spread_km * 1.2, &lat, &lon);
        /* within the radius */
        gh_within(lat, lon, RADIUS_M, &a);
        qt_within(&q, lat, lon, RADIUS_M, &b);
        if (!same(&a, &b)) {
            fprintf(stderr, "within %.0f m of %.6f,%.6f: geohash %zu vs quadtree %zu\n", RADIUS_M, lat,
                    lon, a.n, b.n);
            return 1;
        }
        found_within += a.n;
        nwithin = a.n;
        if (qi % 20 == 0) { /* and a scan of everything, now and then */
            brute_within(lat, lon, RADIUS_M, &b);
            EXPECT(same(&a, &b));
            brute_checked++;
        }
        /* the k nearest */
        gh_nearest(lat, lon, K, &a);
        qt_nearest(&q, lat, lon, K, &b);
        if (!same(&a, &b)) {
            fprintf(stderr, "nearest %d to %.6f,%.6f disagree\n", K, lat, lon);
            return 1;
        }
        found_near += a.n;
        if (qi < NCITY) {
            size_t j;
            TRY(ds_geohash_encode(lat, lon, 7, gh));
            printf("near %s (%.5f, %.5f, geohash %s): %zu within %.0f m; nearest %d:\n", c->name,
                   lat, lon, gh, nwithin, RADIUS_M, K);
            for (j = 0; j < a.n; j++)
                printf("    %-9s #%-5u %6.0f m\n", kinds[pois[a.h[j].i].kind], a.h[j].i, a.h[j].d);
        }
    }
    printf("\n%d queries: nearest-%d and within %.0f m agree between the geohash index and the\n"
           "quadtree (%zu and %zu POIs found; %zu radius answers also equal a scan of all POIs).\n"
           "candidates examined: geohash cells %zu, quadtree boxes %zu\n",
           QUERIES, K, RADIUS_M, found_near, found_within, brute_checked, gh_scanned, qt_scanned);

    /* A food truck moves 2 km north-east; both indexes follow. */
    {
        poi *p = &pois[123];
        double nlat = p->lat + 0.0127, nlon = p->lon + 0.0127 / cos(p->lat * 3.14159265358979 / 180);
        size_t j;
        int seen = 0;
        TRY(ds_quadtree_move(&q, p->id, p->lon, p->lat, nlon, nlat));
        for (j = 0; j < NPOI && ghx[j].i != 123; j++) {}
        EXPECT(j < NPOI);
        p->lat = nlat;
        p->lon = nlon;
        TRY(ds_geohash_encode_int(nlat, nlon, 60, &ghx[j].h));
        qsort(ghx, NPOI, sizeof ghx[0], gh_cmp);
        gh_nearest(nlat, nlon, 1, &a);
        qt_nearest(&q, nlat, nlon, 1, &b);
        EXPECT(same(&a, &b) && a.n == 1 && a.h[0].i == 123 && a.h[0].d == 0);
        qt_within(&q, nlat, nlon, 2500, &b);
        for (j = 0; j < b.n; j++) seen += b.h[j].i == 123;
        EXPECT(seen == 1);
        printf("%s #123 moved to %.5f, %.5f: both indexes find it there\n", kinds[p->kind], nlat, nlon);
    }

    free(a.h);
    free(b.h);
    ds_quadtree_free(&q);
    return 0;
}
