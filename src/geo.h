/* src/geo.h - ds_geohash, ds_geo_distance, ds_quadtree: geohash cells and a point quadtree
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/geo.h"
 */
#ifndef DS_SRC_GEO_H
#define DS_SRC_GEO_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:geohash ==  geohash cells, neighbours, proximity cover, haversine
 * ========================================================================
 * Geohash (Gustavo Niemeyer, geohash.org, 2008): the world is halved
 * alternately in longitude and latitude, longitude first; each halving
 * gives one bit (1 = the upper half), and the bits, most significant
 * first, are written five at a time in the base32 alphabet
 * "0123456789bcdefghjkmnpqrstuvwxyz". A string of p characters names a
 * cell of 5p bits: ceil(5p/2) of longitude, floor(5p/2) of latitude.
 * Precision 1 is 45 x 45 degrees, 6 about 1.2 km x 0.6 km, 12 about
 * 3.7 cm x 1.9 cm at the equator.
 *
 * Cells are half-open, [min, max) on both axes, except the last row and
 * column, which also hold lat == 90 and lon == 180: a point on a cell
 * boundary belongs to the cell above/east of it (so (0, 0) is "s000...").
 * The point is compared with the exact binary boundaries, never with a
 * rounded scaled value.
 *
 * The integer form holds the same bits right-aligned in a uint64_t (the
 * first bit, longitude's top bit, is bit `bits - 1`); bits may be 1..64
 * (32 per axis; Redis's GEO commands use 52). The integer of a p-character
 * string is the 5p-bit number its characters spell.
 *
 * Neighbours: longitude wraps (east of the last column is the first, so
 * cells at the antimeridian have their true neighbours across it).
 * Latitude does not wrap: a cell in the top row has no N, NE, NW
 * neighbours and one in the bottom row none to the S; those are reported
 * as absent (DS_ENOTFOUND for one direction; an empty string and a
 * smaller count for all eight), never as the cell itself. (Crossing the
 * pole to the cell 180 degrees away is a different notion of "adjacent";
 * ds_geohash_cover handles circles around a pole.)
 *
 * Directions, in this order: DS_GEO_N, DS_GEO_NE, DS_GEO_E, DS_GEO_SE,
 * DS_GEO_S, DS_GEO_SW, DS_GEO_W, DS_GEO_NW.
 *
 *   ds_status ds_geohash_encode(double lat, double lon, int precision, char *out)
 *          out receives precision (1..12) characters and a NUL: room for
 *          precision + 1 bytes (DS_GEOHASH_MAX + 1 always suffices)
 *   ds_status ds_geohash_encode_int(double lat, double lon, int bits, uint64_t *out)
 *   ds_status ds_geohash_decode(const char *hash, size_t len, double *lat, double *lon,
 *                               double *lat_err, double *lon_err)
 *          the cell's centre and half its height and width (degrees): the
 *          encoded point is within +-err of the centre. Any out pointer
 *          may be NULL.
 *   ds_status ds_geohash_bbox(const char *hash, size_t len, ds_geo_box *box)
 *   ds_status ds_geohash_bbox_int(uint64_t h, int bits, ds_geo_box *box)
 *   ds_status ds_geohash_to_int(const char *hash, size_t len, uint64_t *h)  5*len bits
 *   ds_status ds_geohash_from_int(uint64_t h, int precision, char *out)
 *          h must be < 2^(5 * precision)
 *   ds_status ds_geohash_neighbor(const char *hash, size_t len, int dir, char *out)
 *   ds_status ds_geohash_neighbor_int(uint64_t h, int bits, int dir, uint64_t *out)
 *          DS_ENOTFOUND beyond a pole (out untouched). With bits < 5 the
 *          grid has one or two columns, so E and W may be the same cell
 *          or the cell itself.
 *   ds_status ds_geohash_neighbors(const char *hash, size_t len,
 *                                  char out[8][DS_GEOHASH_MAX + 1], int *n)
 *          all eight by direction; absent ones are "" and *n (may be
 *          NULL) counts the rest: 8, or 5 in the top or bottom row.
 *   ds_status ds_geo_circle_box(double lat, double lon, double radius_m, ds_geo_box *box)
 *          a latitude/longitude box holding every point within radius_m
 *          (great circle) of (lat, lon) (Matuschek, "Finding Points
 *          Within a Distance of a Latitude/Longitude Using Bounding
 *          Coordinates", 2010), widened by 1e-9 degrees against rounding.
 *          When the circle reaches a pole the box spans every longitude
 *          and reaches that pole; when it crosses the antimeridian,
 *          lon_min > lon_max (the box is lon >= lon_min or lon <= lon_max).
 *   ds_status ds_geohash_cover(double lat, double lon, double radius_m, ds_geohash_cells *out)
 *          proximity search: cells whose union holds every point within
 *          radius_m of (lat, lon): the cells of one precision meeting
 *          ds_geo_circle_box, at the finest precision (<= 12) at which
 *          there are at most 9 of them (the cell of (lat, lon) and some
 *          of its neighbours; cell 0 is always the point's own cell). If
 *          even precision 1 needs more (a radius of thousands of km, or a
 *          circle around a pole), precision 1 is used with up to 32 cells.
 *          Candidates found in the cells still need the distance check.
 *   double ds_geo_distance(double lat1, double lon1, double lat2, double lon2)
 *          great-circle distance in metres by the haversine formula
 *          (Sinnott, "Virtues of the Haversine", Sky and Telescope 68(2),
 *          1984) on a sphere of radius DS_GEO_EARTH_RADIUS_M (the IUGG mean
 *          radius; the WGS-84 ellipsoid differs by up to about 0.5%). No
 *          validation: NaN in, NaN out.
 * Errors: DS_EINVAL for lat outside [-90, 90], lon outside [-180, 180],
 * NaN, a radius that is negative or not finite, precision outside 1..12,
 * bits outside 1..64, an integer with bits set above `bits`, an empty or
 * too long hash, a character outside the (lowercase) alphabet, a
 * direction outside 0..7, a NULL out pointer. On error nothing is written.
 * Complexity: O(precision) each; cover O(12 * 32). No allocation.
 * Thread-safety: pure functions; any thread, any time. */
#define DS_GEOHASH_MAX 12
#define DS_GEOHASH_COVER_MAX 32
#define DS_GEO_EARTH_RADIUS_M 6371008.8

enum { DS_GEO_N = 0, DS_GEO_NE, DS_GEO_E, DS_GEO_SE, DS_GEO_S, DS_GEO_SW, DS_GEO_W, DS_GEO_NW };

/* A latitude/longitude box in degrees. */
typedef struct ds_geo_box {
    double lat_min, lat_max, lon_min, lon_max;
} ds_geo_box;

/* The cells of a proximity search: n cells of `precision` characters, each
 * as a string and as its 5 * precision-bit integer. */
typedef struct ds_geohash_cells {
    int precision;
    int n;
    char cell[DS_GEOHASH_COVER_MAX][DS_GEOHASH_MAX + 1];
    uint64_t hash[DS_GEOHASH_COVER_MAX];
} ds_geohash_cells;

DSDEF ds_status ds_geohash_encode(double lat, double lon, int precision, char *out);
DSDEF ds_status ds_geohash_encode_int(double lat, double lon, int bits, uint64_t *out);
DSDEF ds_status ds_geohash_decode(const char *hash, size_t len, double *lat, double *lon,
                                  double *lat_err, double *lon_err);
DSDEF ds_status ds_geohash_bbox(const char *hash, size_t len, ds_geo_box *box);
DSDEF ds_status ds_geohash_bbox_int(uint64_t h, int bits, ds_geo_box *box);
DSDEF ds_status ds_geohash_to_int(const char *hash, size_t len, uint64_t *h);
DSDEF ds_status ds_geohash_from_int(uint64_t h, int precision, char *out);
DSDEF ds_status ds_geohash_neighbor(const char *hash, size_t len, int dir, char *out);
DSDEF ds_status ds_geohash_neighbor_int(uint64_t h, int bits, int dir, uint64_t *out);
DSDEF ds_status ds_geohash_neighbors(const char *hash, size_t len, char out[8][DS_GEOHASH_MAX + 1],
                                     int *n);
DSDEF ds_status ds_geo_circle_box(double lat, double lon, double radius_m, ds_geo_box *box);
DSDEF ds_status ds_geohash_cover(double lat, double lon, double radius_m, ds_geohash_cells *out);
DSDEF double ds_geo_distance(double lat1, double lon1, double lat2, double lon2);

/* ========================================================================
 * == ds:quadtree ==  ds_quadtree: bucket point-region quadtree
 * ========================================================================
 * A point-region (PR) quadtree with buckets (Samet, "The Quadtree and
 * Related Hierarchical Data Structures", ACM Computing Surveys 16(2),
 * 1984; the bucket variant of Orenstein 1982) over a fixed rectangle of
 * the plane. Points are (x, y, id): the id is the caller's (a row, a
 * pointer's index); the tree neither checks nor needs it unique. A leaf
 * holds up to `bucket` points; the one more splits it into four equal
 * quadrants (and those again while all points fall in one). At max_depth
 * a leaf takes any number of points in a chain of buckets, which is how
 * duplicate and near-duplicate points are held. Deleting down to
 * bucket/2 points in a subtree folds it back into one leaf.
 *
 * Layout, for speed: nodes live in one pool (12 bytes each; the four
 * children of a node are consecutive), leaf points in a second pool of
 * fixed-size buckets, each bucket x[B], y[B], id[B] contiguous, so a leaf
 * is scanned in one pass over one memory block. No malloc per node or
 * point; freed nodes and buckets are reused. Node bounds are not stored:
 * queries recompute them from the root's rectangle on the way down.
 *
 * A point (x, y) belongs to the closed rectangle [x_min, x_max] x
 * [y_min, y_max]; in a split, x < mid goes west and x >= mid east (so a
 * query's result never depends on where the splits fell). Distances are
 * Euclidean in (x, y); for latitude/longitude use a projection or query a
 * box and filter (see examples/nearby.c).
 *
 *   ds_status ds_quadtree_init(ds_quadtree *q, const ds_quadtree_config *cfg)
 *          DS_EINVAL for NULL, bounds not finite or x_min >= x_max or
 *          y_min >= y_max, bucket > 256, max_depth > 40. Allocates nothing.
 *   void   ds_quadtree_free(ds_quadtree *q); ds_quadtree_clear (keeps the pools)
 *   ds_status ds_quadtree_add(ds_quadtree *q, double x, double y, uint64_t id)
 *          DS_EINVAL outside the bounds or NaN; DS_EFULL at 2^32 - 1 points
 *   ds_status ds_quadtree_add_many(ds_quadtree *q, const ds_qt_point *pts, size_t n)
 *          all n or none: sorts them along the Z-order curve first (an
 *          LSD radix sort; 16 n bytes of scratch), so the tree is built
 *          leaf after leaf in memory order: about twice as fast as n
 *          inserts in random order, and later queries touch neighbouring
 *          memory. DS_EINVAL (nothing inserted) if any point is outside;
 *          on DS_ENOMEM the points that went in are taken out again (the
 *          same points as before; node layout may differ)
 *   ds_status ds_quadtree_compact(ds_quadtree *q)
 *          rewrite both pools in depth-first (Z) order, exactly sized:
 *          returns the memory of removed points and makes a tree built by
 *          random inserts as fast to query as one from insert_many (up to
 *          2x on large rectangle queries). O(n); DS_ENOMEM leaves it as is.
 *   ds_status ds_quadtree_del(ds_quadtree *q, double x, double y, uint64_t id)
 *          removes one point with exactly this id and position;
 *          DS_ENOTFOUND; DS_EINVAL for a position outside the bounds or
 *          NaN (it cannot be there). Never allocates.
 *   ds_status ds_quadtree_move(ds_quadtree *q, uint64_t id, double x, double y,
 *                              double new_x, double new_y)
 *          DS_ENOTFOUND if (x, y, id) is absent, DS_EINVAL if either
 *          position is outside; in place when both fall in the same leaf
 *   ds_status ds_quadtree_rect(const ds_quadtree *q, double x0, double y0, double x1,
 *                              double y1, ds_qt_fn fn, void *ctx, size_t *count)
 *          every point with x0 <= x <= x1 and y0 <= y <= y1, in no
 *          particular order; fn returns nonzero to stop early; *count
 *          (may be NULL) = points reported. DS_EINVAL for NaN or x0 > x1
 *          or y0 > y1; a rectangle beyond the bounds is fine.
 *   ds_status ds_quadtree_rect_into(const ds_quadtree *q, double x0, double y0, double x1,
 *                                   double y1, ds_qt_point *out, size_t cap, size_t *count)
 *          the same into out[0..cap); *count = all matches (which may be
 *          more than cap: only the first cap found are written)
 *   ds_status ds_quadtree_radius(const ds_quadtree *q, double x, double y, double r,
 *                                ds_qt_fn fn, void *ctx, size_t *count)
 *   ds_status ds_quadtree_radius_into(const ds_quadtree *q, double x, double y, double r,
 *                                     ds_qt_point *out, size_t cap, size_t *count)
 *          points with (px-x)^2 + (py-y)^2 <= r^2; DS_EINVAL for NaN, an
 *          infinite (x, y) or r < 0 (r may be +inf: everything)
 *   ds_status ds_quadtree_knn(const ds_quadtree *q, double x, double y, size_t k,
 *                             ds_qt_hit *out, size_t *found)
 *          the k nearest points, exactly, nearest first, into out (room
 *          for k); *found = min(k, len). Ties in distance go to the
 *          smaller id, then the smaller x, then y, so the answer is one
 *          well-defined list. Best-first search (Hjaltason and Samet,
 *          "Distance Browsing in Spatial Databases", ACM TODS 24(2),
 *          1999): a min-heap of nodes by their box's distance (a node's
 *          nearest child is opened next without entering it when nothing
 *          queued is nearer), stopping when the nearest unopened box is
 *          farther than the k-th best. The best k so far are (squared
 *          distance, slot) pairs: for k <= 128 a sorted array (the first
 *          k bucket-sorted by distance, then each better point inserted
 *          by binary search, the k-th dropped), so no sort is left at
 *          the end; above 128 a max-heap and a heap sort. A point's id is
 *          read only to break a tie and for the winners. Uses about 9 KiB
 *          of stack; the node heap (128 on the stack) may grow on the
 *          heap: DS_ENOMEM (nothing found; out[] used as scratch).
 *          DS_EINVAL for NaN or an infinite (x, y), or out NULL with k > 0.
 *   size_t ds_quadtree_len(const ds_quadtree *q); ds_quadtree_memory (bytes held)
 * fn(ctx, id, x, y) must not change the tree.
 * Complexity: insert/remove/move O(depth + bucket) (a split cascade at
 * most O(max_depth * bucket)); depth is about log4(n / bucket) for spread
 * points and at most max_depth. rect/radius O(depth + nodes overlapping
 * the edge + points reported) (subtrees wholly inside are reported
 * without tests); knn visits about the nodes within the k-th distance.
 * Memory: for spread points about 50 bytes a point (24 of them the point
 * itself; buckets are 40-60% full) plus up to 2x that while the pools
 * grow by doubling; ds_quadtree_compact trims the slack.
 * Errors: DS_ENOMEM leaves the tree exactly as it was (insert and move
 * reserve the worst case of a split cascade before changing anything).
 * Thread-safety: none for writers; concurrent queries are fine. */
typedef struct ds_qt_point {
    double x, y;
    uint64_t id;
} ds_qt_point;

typedef struct ds_qt_hit {
    double x, y;
    uint64_t id;
    double dist;  /* Euclidean distance to the query point */
} ds_qt_hit;

typedef int (*ds_qt_fn)(void *ctx, uint64_t id, double x, double y);

/* Zero means the default (bounds excepted: they are required). */
typedef struct ds_quadtree_config {
    double x_min, y_min, x_max, y_max;  /* the closed rectangle points live in */
    uint32_t bucket;                    /* points a leaf holds before it splits: 1..256, 0 = 32 */
    uint32_t max_depth;                 /* 1..40, 0 = 32 */
    const ds_alloc *alloc;              /* NULL = default */
} ds_quadtree_config;

typedef struct ds__qtnode {
    uint32_t kids;   /* first of the 4 children, or DS__QT_NIL for a leaf */
    uint32_t count;  /* points in the subtree */
    uint32_t blk;    /* leaf: first bucket of its chain, or DS__QT_NIL */
} ds__qtnode;

typedef struct ds_quadtree {
    double x0, y0, x1, y1;           /* bounds */
    uint32_t bucket, max_depth, merge_at;
    ds__qtnode *node;                /* node[0] is the root (once allocated) */
    uint32_t node_cap, node_hw;      /* capacity, high-water mark (nodes) */
    uint32_t node_free;              /* freed groups of 4, linked through .kids */
    unsigned char *blk;              /* buckets: {u32 next, u32 n; x[B], y[B], id[B]} */
    size_t blk_stride;
    uint32_t blk_cap, blk_hw, blk_free;
    size_t len;
    const ds_alloc *alloc;
} ds_quadtree;

DSDEF ds_status ds_quadtree_init(ds_quadtree *q, const ds_quadtree_config *cfg);
DSDEF void ds_quadtree_free(ds_quadtree *q);
DSDEF void ds_quadtree_clear(ds_quadtree *q);
DSDEF ds_status ds_quadtree_add(ds_quadtree *q, double x, double y, uint64_t id);
DSDEF ds_status ds_quadtree_del(ds_quadtree *q, double x, double y, uint64_t id);
DSDEF ds_status ds_quadtree_move(ds_quadtree *q, uint64_t id, double x, double y, double new_x,
                                 double new_y);
DSDEF ds_status ds_quadtree_rect(const ds_quadtree *q, double x0, double y0, double x1, double y1,
                                 ds_qt_fn fn, void *ctx, size_t *count);
DSDEF ds_status ds_quadtree_rect_into(const ds_quadtree *q, double x0, double y0, double x1,
                                      double y1, ds_qt_point *out, size_t cap, size_t *count);
DSDEF ds_status ds_quadtree_radius(const ds_quadtree *q, double x, double y, double r, ds_qt_fn fn,
                                   void *ctx, size_t *count);
DSDEF ds_status ds_quadtree_radius_into(const ds_quadtree *q, double x, double y, double r,
                                        ds_qt_point *out, size_t cap, size_t *count);
DSDEF ds_status ds_quadtree_knn(const ds_quadtree *q, double x, double y, size_t k, ds_qt_hit *out,
                                size_t *found);
DSDEF ds_status ds_quadtree_add_many(ds_quadtree *q, const ds_qt_point *pts, size_t n);
DSDEF ds_status ds_quadtree_compact(ds_quadtree *q);
DSDEF size_t ds_quadtree_len(const ds_quadtree *q);
DSDEF size_t ds_quadtree_memory(const ds_quadtree *q);


/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_GEO_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_GEO_IMPL)
#define DS_SRC_GEO_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:geohash == */

static const char ds__geo_b32[33] = "0123456789bcdefghjkmnpqrstuvwxyz";

/* The base32 value of a character, or -1. */
static int ds__geo_val(unsigned char c) {
    static const signed char tab[128] = {
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, 10, 11, 12, 13, 14, 15, 16, -1, 17, 18, -1, 19, 20, -1,
        21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, -1, -1, -1, -1, -1,
    };
    return c < 128 ? tab[c] : -1;
}

static int ds__geo_ok(double lat, double lon) {
    return lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0; /* NaN fails */
}

/* Spread the low 32 bits of x to the even bit positions, and back. */
static uint64_t ds__geo_spread(uint64_t x) {
    x &= 0xffffffffu;
    x = (x | (x << 16)) & 0x0000ffff0000ffffull;
    x = (x | (x << 8)) & 0x00ff00ff00ff00ffull;
    x = (x | (x << 4)) & 0x0f0f0f0f0f0f0f0full;
    x = (x | (x << 2)) & 0x3333333333333333ull;
    x = (x | (x << 1)) & 0x5555555555555555ull;
    return x;
}
static uint64_t ds__geo_squeeze(uint64_t x) {
    x &= 0x5555555555555555ull;
    x = (x | (x >> 1)) & 0x3333333333333333ull;
    x = (x | (x >> 2)) & 0x0f0f0f0f0f0f0f0full;
    x = (x | (x >> 4)) & 0x00ff00ff00ff00ffull;
    x = (x | (x >> 8)) & 0x0000ffff0000ffffull;
    x = (x | (x >> 16)) & 0x00000000ffffffffull;
    return x;
}

/* Lower edge of cell q of 2^n over [lo, lo + span): exact in binary for
 * n <= 32 (q * span needs 41 bits, the sum at most n + 9). */
static double ds__geo_edge(double lo, double span, unsigned n, uint64_t q) {
    return lo + (double)q * (span / (double)((uint64_t)1 << n));
}

/* The cell of v among 2^n equal cells over [lo, lo + span], the last one
 * closed: scaled, then corrected against the exact edges. */
static uint64_t ds__geo_cell(double v, double lo, double span, unsigned n) {
    uint64_t cells = (uint64_t)1 << n, q;
    double f = (v - lo) / span * (double)cells;
    if (n == 0) return 0;
    q = f <= 0 ? 0 : f >= (double)cells ? cells - 1 : (uint64_t)f;
    while (q > 0 && v < ds__geo_edge(lo, span, n, q)) q--;
    while (q + 1 < cells && v >= ds__geo_edge(lo, span, n, q + 1)) q++;
    return q;
}

static uint64_t ds__geo_join(uint64_t qx, uint64_t qy, int bits) {
    return (bits & 1) ? ds__geo_spread(qx) | (ds__geo_spread(qy) << 1)
                      : (ds__geo_spread(qx) << 1) | ds__geo_spread(qy);
}
static void ds__geo_split(uint64_t h, int bits, uint64_t *qx, uint64_t *qy) {
    *qx = ds__geo_squeeze((bits & 1) ? h : h >> 1);
    *qy = ds__geo_squeeze((bits & 1) ? h >> 1 : h);
}

static int ds__geo_bits_ok(uint64_t h, int bits) {
    return bits >= 1 && bits <= 64 && (bits == 64 || (h >> bits) == 0);
}

DSDEF ds_status ds_geohash_encode_int(double lat, double lon, int bits, uint64_t *out) {
    unsigned nx, ny;
    if (!out || bits < 1 || bits > 64 || !ds__geo_ok(lat, lon)) return DS_EINVAL;
    nx = (unsigned)(bits + 1) / 2;
    ny = (unsigned)bits / 2;
    *out = ds__geo_join(ds__geo_cell(lon, -180.0, 360.0, nx), ds__geo_cell(lat, -90.0, 180.0, ny), bits);
    return DS_OK;
}

DSDEF ds_status ds_geohash_from_int(uint64_t h, int precision, char *out) {
    int i;
    if (!out || precision < 1 || precision > DS_GEOHASH_MAX || !ds__geo_bits_ok(h, 5 * precision))
        return DS_EINVAL;
    for (i = precision - 1; i >= 0; i--) {
        out[i] = ds__geo_b32[h & 31u];
        h >>= 5;
    }
    out[precision] = '\0';
    return DS_OK;
}

DSDEF ds_status ds_geohash_encode(double lat, double lon, int precision, char *out) {
    uint64_t h;
    if (!out || precision < 1 || precision > DS_GEOHASH_MAX) return DS_EINVAL;
    if (ds_geohash_encode_int(lat, lon, 5 * precision, &h) != DS_OK) return DS_EINVAL;
    return ds_geohash_from_int(h, precision, out);
}

DSDEF ds_status ds_geohash_to_int(const char *hash, size_t len, uint64_t *h) {
    uint64_t v = 0;
    size_t i;
    if (!hash || !h || len < 1 || len > DS_GEOHASH_MAX) return DS_EINVAL;
    for (i = 0; i < len; i++) {
        int d = ds__geo_val((unsigned char)hash[i]);
        if (d < 0) return DS_EINVAL;
        v = (v << 5) | (uint64_t)d;
    }
    *h = v;
    return DS_OK;
}

DSDEF ds_status ds_geohash_bbox_int(uint64_t h, int bits, ds_geo_box *box) {
    uint64_t qx, qy;
    unsigned nx, ny;
    if (!box || !ds__geo_bits_ok(h, bits)) return DS_EINVAL;
    nx = (unsigned)(bits + 1) / 2;
    ny = (unsigned)bits / 2;
    ds__geo_split(h, bits, &qx, &qy);
    box->lon_min = ds__geo_edge(-180.0, 360.0, nx, qx);
    box->lon_max = ds__geo_edge(-180.0, 360.0, nx, qx + 1);
    box->lat_min = ds__geo_edge(-90.0, 180.0, ny, qy);
    box->lat_max = ds__geo_edge(-90.0, 180.0, ny, qy + 1);
    return DS_OK;
}

DSDEF ds_status ds_geohash_bbox(const char *hash, size_t len, ds_geo_box *box) {
    uint64_t h;
    if (!box || ds_geohash_to_int(hash, len, &h) != DS_OK) return DS_EINVAL;
    return ds_geohash_bbox_int(h, (int)(5 * len), box);
}

DSDEF ds_status ds_geohash_decode(const char *hash, size_t len, double *lat, double *lon,
                                  double *lat_err, double *lon_err) {
    ds_geo_box b;
    if (ds_geohash_bbox(hash, len, &b) != DS_OK) return DS_EINVAL;
    /* Halving the sum of two exact edges is exact here: no overflow. */
    if (lat) *lat = (b.lat_min + b.lat_max) * 0.5;
    if (lon) *lon = (b.lon_min + b.lon_max) * 0.5;
    if (lat_err) *lat_err = (b.lat_max - b.lat_min) * 0.5;
    if (lon_err) *lon_err = (b.lon_max - b.lon_min) * 0.5;
    return DS_OK;
}

DSDEF ds_status ds_geohash_neighbor_int(uint64_t h, int bits, int dir, uint64_t *out) {
    static const signed char dx[8] = {0, 1, 1, 1, 0, -1, -1, -1};
    static const signed char dy[8] = {1, 1, 0, -1, -1, -1, 0, 1};
    uint64_t qx, qy, mx, ny_cells;
    unsigned nx, ny;
    if (!out || !ds__geo_bits_ok(h, bits) || dir < 0 || dir > 7) return DS_EINVAL;
    nx = (unsigned)(bits + 1) / 2;
    ny = (unsigned)bits / 2;
    ds__geo_split(h, bits, &qx, &qy);
    mx = ((uint64_t)1 << nx) - 1;
    ny_cells = (uint64_t)1 << ny;
    if ((dy[dir] > 0 && qy + 1 >= ny_cells) || (dy[dir] < 0 && qy == 0)) return DS_ENOTFOUND;
    qy = dy[dir] > 0 ? qy + 1 : dy[dir] < 0 ? qy - 1 : qy;
    qx = (dx[dir] > 0 ? qx + 1 : dx[dir] < 0 ? qx - 1 : qx) & mx; /* longitude wraps */
    *out = ds__geo_join(qx, qy, bits);
    return DS_OK;
}

DSDEF ds_status ds_geohash_neighbor(const char *hash, size_t len, int dir, char *out) {
    uint64_t h, n;
    ds_status st;
    if (!out || ds_geohash_to_int(hash, len, &h) != DS_OK) return DS_EINVAL;
    st = ds_geohash_neighbor_int(h, (int)(5 * len), dir, &n);
    if (st != DS_OK) return st;
    return ds_geohash_from_int(n, (int)len, out);
}

DSDEF ds_status ds_geohash_neighbors(const char *hash, size_t len, char out[8][DS_GEOHASH_MAX + 1],
                                     int *n) {
    uint64_t h, nb[8];
    int d, cnt = 0, has[8];
    if (!out || ds_geohash_to_int(hash, len, &h) != DS_OK) return DS_EINVAL;
    for (d = 0; d < 8; d++) has[d] = ds_geohash_neighbor_int(h, (int)(5 * len), d, &nb[d]) == DS_OK;
    for (d = 0; d < 8; d++) {
        if (has[d]) {
            (void)ds_geohash_from_int(nb[d], (int)len, out[d]);
            cnt++;
        } else {
            out[d][0] = '\0';
        }
    }
    if (n) *n = cnt;
    return DS_OK;
}

DSDEF double ds_geo_distance(double lat1, double lon1, double lat2, double lon2) {
    const double rad = 3.14159265358979323846 / 180.0;
    double sdlat = sin((lat2 - lat1) * rad * 0.5), sdlon = sin((lon2 - lon1) * rad * 0.5);
    double a = sdlat * sdlat + cos(lat1 * rad) * cos(lat2 * rad) * sdlon * sdlon;
    if (a > 1.0) a = 1.0;
    return 2.0 * DS_GEO_EARTH_RADIUS_M * atan2(sqrt(a), sqrt(1.0 - a));
}

DSDEF ds_status ds_geo_circle_box(double lat, double lon, double radius_m, ds_geo_box *box) {
    const double deg = 180.0 / 3.14159265358979323846, eps = 1e-9;
    double d, dlon;
    if (!box || !ds__geo_ok(lat, lon) || !(radius_m >= 0.0 && radius_m < HUGE_VAL)) return DS_EINVAL;
    d = radius_m / DS_GEO_EARTH_RADIUS_M; /* angular radius, radians */
    box->lat_min = lat - d * deg - eps;
    box->lat_max = lat + d * deg + eps;
    box->lon_min = -180.0;
    box->lon_max = 180.0;
    if (box->lat_min <= -90.0 || box->lat_max >= 90.0 || d >= 3.14159265358979323846 / 2) {
        /* A pole is inside: every longitude. */
        if (box->lat_min < -90.0) box->lat_min = -90.0;
        if (box->lat_max > 90.0) box->lat_max = 90.0;
        return DS_OK;
    }
    /* Matuschek: the circle's extreme longitudes are at asin(sin d / cos lat). */
    dlon = asin(sin(d) / cos(lat / deg)) * deg + eps;
    if (!(dlon < 180.0)) return DS_OK;
    box->lon_min = lon - dlon;
    box->lon_max = lon + dlon;
    if (box->lon_min < -180.0) box->lon_min += 360.0;
    if (box->lon_max > 180.0) box->lon_max -= 360.0;
    return DS_OK;
}

/* Column and row ranges of the cells of `bits` meeting a box, and their count. */
typedef struct ds__geo_span {
    uint64_t x_lo, x_hi, y_lo, y_hi, cols, count;
    int wrap;
} ds__geo_span;

static void ds__geo_span_of(const ds_geo_box *b, int bits, ds__geo_span *s) {
    unsigned nx = (unsigned)(bits + 1) / 2, ny = (unsigned)bits / 2;
    uint64_t ncols = (uint64_t)1 << nx;
    s->y_lo = ds__geo_cell(b->lat_min, -90.0, 180.0, ny);
    s->y_hi = ds__geo_cell(b->lat_max, -90.0, 180.0, ny);
    s->x_lo = ds__geo_cell(b->lon_min, -180.0, 360.0, nx);
    s->x_hi = ds__geo_cell(b->lon_max, -180.0, 360.0, nx);
    s->wrap = b->lon_min > b->lon_max;
    if (s->wrap && s->x_lo <= s->x_hi) { /* the two pieces meet: every column */
        s->wrap = 0;
        s->x_lo = 0;
        s->x_hi = ncols - 1;
    }
    s->cols = s->wrap ? (ncols - s->x_lo) + s->x_hi + 1 : s->x_hi - s->x_lo + 1;
    s->count = s->cols * (s->y_hi - s->y_lo + 1);
}

DSDEF ds_status ds_geohash_cover(double lat, double lon, double radius_m, ds_geohash_cells *out) {
    ds_geo_box b;
    ds__geo_span s;
    uint64_t centre, y, c, ncols;
    int p, best = 1, bits, n = 0;
    if (!out || ds_geo_circle_box(lat, lon, radius_m, &b) != DS_OK) return DS_EINVAL;
    for (p = 1; p <= DS_GEOHASH_MAX; p++) { /* the count only grows with p */
        ds__geo_span_of(&b, 5 * p, &s);
        if (s.count > 9) break;
        best = p;
    }
    bits = 5 * best;
    ds__geo_span_of(&b, bits, &s);
    DS_ASSERT(s.count <= DS_GEOHASH_COVER_MAX);
    ncols = (uint64_t)1 << ((unsigned)(bits + 1) / 2);
    (void)ds_geohash_encode_int(lat, lon, bits, &centre);
    out->precision = best;
    out->hash[n++] = centre;
    for (y = s.y_lo; y <= s.y_hi; y++) {
        for (c = 0; c < s.cols; c++) {
            uint64_t x = (s.x_lo + c) & (ncols - 1), h = ds__geo_join(x, y, bits);
            if (h != centre) out->hash[n++] = h;
        }
    }
    out->n = n;
    for (p = 0; p < n; p++) (void)ds_geohash_from_int(out->hash[p], best, out->cell[p]);
    return DS_OK;
}

/* == ds:quadtree == */

#define DS__QT_NIL UINT32_MAX
/* 2^-50: kNN prunes a box only when it is farther than the k-th best by
 * this much relative, so an FMA-contracted distance cannot lose a tie. */
#define DS__QT_SLACK (1.0 / 1125899906842624.0)

/* Finite (not NaN, not infinite). */
static int ds__qt_finite(double v) { return v - v == 0.0; }

static uint32_t *ds__qt_hdr(const ds_quadtree *q, uint32_t b) {
    return (uint32_t *)(void *)(q->blk + (size_t)b * q->blk_stride);
}
static double *ds__qt_bx(const ds_quadtree *q, uint32_t b) {
    return (double *)(void *)(q->blk + (size_t)b * q->blk_stride + 8);
}
/* y follows x, id follows y, each `bucket` long. */
#define DS__QT_BY(q, bx) ((bx) + (q)->bucket)
#define DS__QT_BID(q, bx) ((uint64_t *)(void *)((bx) + 2 * (size_t)(q)->bucket))

static double ds__qt_mid(double a, double b) { return a * 0.5 + b * 0.5; }

/* Queries touch leaf buckets scattered through the pool: ask for a leaf's
 * three arrays (first lines) before they are read, so the misses of the
 * leaves under one node overlap instead of coming one after another. */
DS__INLINE void ds__qt_prefetch(const ds_quadtree *q, uint32_t ni) {
    uint32_t b = q->node[ni].blk;
    if (b != DS__QT_NIL) {
        const unsigned char *p = q->blk + (size_t)b * q->blk_stride;
        DS__PREFETCH(p);
        DS__PREFETCH(p + 8 + 8 * (size_t)q->bucket);
        DS__PREFETCH(p + 8 + 16 * (size_t)q->bucket);
    }
}

DSDEF ds_status ds_quadtree_init(ds_quadtree *q, const ds_quadtree_config *cfg) {
    uint32_t bucket, depth;
    if (!q) return DS_EINVAL;
    memset(q, 0, sizeof *q); /* a failed init leaves a struct free accepts */
    if (!cfg) return DS_EINVAL;
    if (!(cfg->x_min < cfg->x_max) || !(cfg->y_min < cfg->y_max) || !ds__qt_finite(cfg->x_min) ||
        !ds__qt_finite(cfg->x_max) || !ds__qt_finite(cfg->y_min) || !ds__qt_finite(cfg->y_max))
        return DS_EINVAL;
    bucket = cfg->bucket ? cfg->bucket : 32;
    depth = cfg->max_depth ? cfg->max_depth : 32;
    if (bucket > 256 || depth > 40) return DS_EINVAL;
    memset(q, 0, sizeof *q);
    q->x0 = cfg->x_min;
    q->y0 = cfg->y_min;
    q->x1 = cfg->x_max;
    q->y1 = cfg->y_max;
    q->bucket = bucket;
    q->max_depth = depth;
    q->merge_at = bucket / 2;
    q->node_free = q->blk_free = DS__QT_NIL;
    q->blk_stride = 8 + 24 * (size_t)bucket;
    q->alloc = cfg->alloc;
    return DS_OK;
}

DSDEF void ds_quadtree_free(ds_quadtree *q) {
    if (!q) return;
    if (q->node) DS_FREE(q->alloc, q->node, (size_t)q->node_cap * sizeof(ds__qtnode));
    if (q->blk) DS_FREE(q->alloc, q->blk, (size_t)q->blk_cap * q->blk_stride);
    q->node = NULL;
    q->blk = NULL;
    q->node_cap = q->node_hw = q->blk_cap = q->blk_hw = 0;
    q->node_free = q->blk_free = DS__QT_NIL;
    q->len = 0;
}

DSDEF void ds_quadtree_clear(ds_quadtree *q) {
    if (!q) return;
    q->node_hw = q->blk_hw = 0;
    q->node_free = q->blk_free = DS__QT_NIL;
    q->len = 0;
}

DSDEF size_t ds_quadtree_len(const ds_quadtree *q) { return q ? q->len : 0; }

DSDEF size_t ds_quadtree_memory(const ds_quadtree *q) {
    return q ? (size_t)q->node_cap * sizeof(ds__qtnode) + (size_t)q->blk_cap * q->blk_stride : 0;
}

/* Room for `nodes` more nodes and `blocks` more buckets past the
 * high-water marks (free lists aside): after this, nothing can fail. */
/* The new capacity for an array at hw of cap holding `more`: doubling,
 * at least `least`; 0 if it cannot be done. */
static uint32_t ds__qt_grow_cap(uint32_t hw, uint32_t cap, uint32_t more, uint32_t least) {
    uint64_t want = (uint64_t)hw + more, nc = (uint64_t)cap * 2;
    if (want <= cap) return cap;
    if (nc < want) nc = want;
    if (nc < least) nc = least;
    if (nc >= DS__QT_NIL) nc = DS__QT_NIL - 1;
    return nc < want ? 0 : (uint32_t)nc;
}
/* Room for `nodes` more nodes and `blocks` more buckets. Both new arrays
 * are allocated before either old one is let go: on DS_ENOMEM nothing
 * changed, capacities included (a grown node array beside a failed bucket
 * array was a change a caller could see in ds_quadtree_memory). */
static ds_status ds__qt_reserve(ds_quadtree *q, uint32_t nodes, uint32_t blocks) {
    uint32_t ncap = ds__qt_grow_cap(q->node_hw, q->node_cap, nodes, 64);
    uint32_t bcap = ds__qt_grow_cap(q->blk_hw, q->blk_cap, blocks, 16);
    size_t nbytes = 0, bbytes = 0;
    void *np = NULL, *bp = NULL;
    if (!ncap || !bcap || !ds_size_mul(ncap, sizeof(ds__qtnode), &nbytes) ||
        !ds_size_mul(bcap, q->blk_stride, &bbytes))
        return DS_ENOMEM;
    if (ncap != q->node_cap && !(np = DS_MALLOC(q->alloc, nbytes))) return DS_ENOMEM;
    if (bcap != q->blk_cap && !(bp = DS_MALLOC(q->alloc, bbytes))) {
        if (np) DS_FREE(q->alloc, np, nbytes);
        return DS_ENOMEM;
    }
    if (np) {
        if (q->node) {
            memcpy(np, q->node, (size_t)q->node_hw * sizeof(ds__qtnode));
            DS_FREE(q->alloc, q->node, (size_t)q->node_cap * sizeof(ds__qtnode));
        }
        q->node = (ds__qtnode *)np;
        q->node_cap = ncap;
    }
    if (bp) {
        if (q->blk) {
            memcpy(bp, q->blk, (size_t)q->blk_hw * q->blk_stride);
            DS_FREE(q->alloc, q->blk, (size_t)q->blk_cap * q->blk_stride);
        }
        q->blk = (unsigned char *)bp;
        q->blk_cap = bcap;
    }
    return DS_OK;
}

static uint32_t ds__qt_new_blk(ds_quadtree *q) {
    uint32_t b, *h;
    if (q->blk_free != DS__QT_NIL) {
        b = q->blk_free;
        q->blk_free = ds__qt_hdr(q, b)[0];
    } else {
        DS_ASSERT(q->blk_hw < q->blk_cap);
        b = q->blk_hw++;
    }
    h = ds__qt_hdr(q, b);
    h[0] = DS__QT_NIL;
    h[1] = 0;
    return b;
}
static void ds__qt_free_blk(ds_quadtree *q, uint32_t b) {
    ds__qt_hdr(q, b)[0] = q->blk_free;
    q->blk_free = b;
}

/* Four fresh empty leaves; returns the first. */
static uint32_t ds__qt_new_group(ds_quadtree *q) {
    uint32_t g, i;
    if (q->node_free != DS__QT_NIL) {
        g = q->node_free;
        q->node_free = q->node[g].kids;
    } else {
        DS_ASSERT(q->node_hw + 4 <= q->node_cap);
        g = q->node_hw;
        q->node_hw += 4;
    }
    for (i = 0; i < 4; i++) {
        q->node[g + i].kids = DS__QT_NIL;
        q->node[g + i].count = 0;
        q->node[g + i].blk = DS__QT_NIL;
    }
    return g;
}
static void ds__qt_free_group(ds_quadtree *q, uint32_t g) {
    q->node[g].kids = q->node_free;
    q->node_free = g;
}

/* Append one point to leaf ni's chain (room reserved). Every bucket but
 * the head is full; a full head gets a new head in front. */
static void ds__qt_leaf_add(ds_quadtree *q, uint32_t ni, double x, double y, uint64_t id) {
    uint32_t b = q->node[ni].blk, *h;
    double *bx;
    if (b == DS__QT_NIL || ds__qt_hdr(q, b)[1] == q->bucket) {
        uint32_t nb = ds__qt_new_blk(q);
        ds__qt_hdr(q, nb)[0] = b;
        q->node[ni].blk = b = nb;
    }
    h = ds__qt_hdr(q, b);
    bx = ds__qt_bx(q, b);
    bx[h[1]] = x;
    DS__QT_BY(q, bx)[h[1]] = y;
    DS__QT_BID(q, bx)[h[1]] = id;
    h[1]++;
}

/* Split leaf ni (at `depth`, box x0..y1) holding the n points in px/py/pid
 * (its old bucket already freed), cascading while they all fall in one
 * quadrant. Room reserved by the caller. */
static void ds__qt_split(ds_quadtree *q, uint32_t ni, uint32_t depth, double x0, double y0,
                         double x1, double y1, const double *px, const double *py,
                         const uint64_t *pid, uint32_t n) {
    uint32_t i;
    for (;;) {
        double mx, my;
        uint32_t g, cnt[4] = {0, 0, 0, 0}, k;
        unsigned char quad[257];
        if (n <= q->bucket || depth >= q->max_depth) {
            q->node[ni].blk = DS__QT_NIL;
            for (i = 0; i < n; i++) ds__qt_leaf_add(q, ni, px[i], py[i], pid[i]);
            return;
        }
        mx = ds__qt_mid(x0, x1);
        my = ds__qt_mid(y0, y1);
        for (i = 0; i < n; i++) {
            quad[i] = (unsigned char)((px[i] >= mx) | ((py[i] >= my) << 1));
            cnt[quad[i]]++;
        }
        g = ds__qt_new_group(q);
        q->node[ni].kids = g;
        q->node[ni].blk = DS__QT_NIL;
        for (k = 0; k < 4; k++) q->node[g + k].count = cnt[k];
        for (k = 0; k < 4; k++)
            if (cnt[k] == n) break;
        if (k == 4) {
            for (i = 0; i < n; i++) ds__qt_leaf_add(q, g + quad[i], px[i], py[i], pid[i]);
            return;
        }
        ni = g + k; /* all in one quadrant: split that one */
        if (k & 1) x0 = mx; else x1 = mx;
        if (k & 2) y0 = my; else y1 = my;
        depth++;
    }
}

static int ds__qt_in(const ds_quadtree *q, double x, double y) {
    return x >= q->x0 && x <= q->x1 && y >= q->y0 && y <= q->y1; /* NaN fails */
}

/* Descend to the leaf holding (x, y); fills path[0..depth] when non-NULL. */
static uint32_t ds__qt_descend(const ds_quadtree *q, double x, double y, uint32_t *path,
                               uint32_t *depth_out, double *box) {
    uint32_t ni = 0, d = 0;
    double x0 = q->x0, y0 = q->y0, x1 = q->x1, y1 = q->y1;
    if (path) path[0] = 0;
    while (q->node[ni].kids != DS__QT_NIL) {
        double mx = ds__qt_mid(x0, x1), my = ds__qt_mid(y0, y1);
        uint32_t k = (uint32_t)(x >= mx) | ((uint32_t)(y >= my) << 1);
        if (k & 1) x0 = mx; else x1 = mx;
        if (k & 2) y0 = my; else y1 = my;
        ni = q->node[ni].kids + k;
        d++;
        if (path) path[d] = ni;
    }
    if (depth_out) *depth_out = d;
    if (box) {
        box[0] = x0;
        box[1] = y0;
        box[2] = x1;
        box[3] = y1;
    }
    return ni;
}

DSDEF ds_status ds_quadtree_add(ds_quadtree *q, double x, double y, uint64_t id) {
    uint32_t ni, depth, path[64], i, need_n = 0, need_b = 0, b;
    double box[4];
    ds_status st;
    if (!q || !ds__qt_in(q, x, y)) return DS_EINVAL;
    if (q->len >= (size_t)UINT32_MAX - 1) return DS_EFULL;
    if (q->node_hw == 0) { /* first point: the root */
        if ((st = ds__qt_reserve(q, 1, 1)) != DS_OK) return st;
        q->node_hw = 1;
        q->node[0].kids = DS__QT_NIL;
        q->node[0].count = 0;
        q->node[0].blk = DS__QT_NIL;
    }
    ni = ds__qt_descend(q, x, y, path, &depth, box);
    b = q->node[ni].blk;
    if (q->node[ni].count >= q->bucket && depth < q->max_depth) {
        need_n = 4 * (q->max_depth - depth); /* a cascade down to max_depth */
        need_b = 3 * (q->max_depth - depth) + 2;
    } else if (b == DS__QT_NIL || ds__qt_hdr(q, b)[1] == q->bucket) {
        need_b = 1;
    }
    if ((need_n || need_b) && (st = ds__qt_reserve(q, need_n, need_b)) != DS_OK) return st;
    for (i = 0; i <= depth; i++) q->node[path[i]].count++;
    q->len++;
    if (need_n) {
        double px[257], py[257];
        uint64_t pid[257];
        uint32_t n = ds__qt_hdr(q, b)[1];
        double *bx = ds__qt_bx(q, b);
        DS_ASSERT(n == q->bucket && ds__qt_hdr(q, b)[0] == DS__QT_NIL);
        memcpy(px, bx, n * sizeof(double));
        memcpy(py, DS__QT_BY(q, bx), n * sizeof(double));
        memcpy(pid, DS__QT_BID(q, bx), n * sizeof(uint64_t));
        px[n] = x;
        py[n] = y;
        pid[n] = id;
        ds__qt_free_blk(q, b);
        ds__qt_split(q, ni, depth, box[0], box[1], box[2], box[3], px, py, pid, n + 1);
    } else {
        ds__qt_leaf_add(q, ni, x, y, id);
    }
    return DS_OK;
}

/* Free every node and bucket under ni (not ni itself), copying its points
 * into px/py/pid from *n on. */
static void ds__qt_gather(ds_quadtree *q, uint32_t ni, double *px, double *py, uint64_t *pid,
                          uint32_t *n) {
    ds__qtnode *nd = &q->node[ni];
    if (nd->kids != DS__QT_NIL) {
        uint32_t g = nd->kids, k;
        for (k = 0; k < 4; k++) ds__qt_gather(q, g + k, px, py, pid, n);
        ds__qt_free_group(q, g);
        q->node[ni].kids = DS__QT_NIL;
    } else {
        uint32_t b = nd->blk;
        while (b != DS__QT_NIL) {
            uint32_t *h = ds__qt_hdr(q, b), next = h[0];
            double *bx = ds__qt_bx(q, b);
            memcpy(px + *n, bx, h[1] * sizeof(double));
            memcpy(py + *n, DS__QT_BY(q, bx), h[1] * sizeof(double));
            memcpy(pid + *n, DS__QT_BID(q, bx), h[1] * sizeof(uint64_t));
            *n += h[1];
            ds__qt_free_blk(q, b);
            b = next;
        }
        q->node[ni].blk = DS__QT_NIL;
    }
}

/* Find (x, y, id) in leaf ni: its bucket and slot. */
static int ds__qt_find(const ds_quadtree *q, uint32_t ni, double x, double y, uint64_t id,
                       uint32_t *bo, uint32_t *so) {
    uint32_t b = q->node[ni].blk;
    while (b != DS__QT_NIL) {
        const uint32_t *h = ds__qt_hdr(q, b);
        const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
        const uint64_t *bid = DS__QT_BID(q, bx);
        uint32_t i;
        for (i = 0; i < h[1]; i++) {
            if (bid[i] == id && bx[i] == x && by[i] == y) {
                *bo = b;
                *so = i;
                return 1;
            }
        }
        b = h[0];
    }
    return 0;
}

DSDEF ds_status ds_quadtree_del(ds_quadtree *q, double x, double y, uint64_t id) {
    uint32_t ni, depth, path[64], b, s, head, *hh, i;
    double *hx, *bx;
    if (!q || !ds__qt_in(q, x, y)) return DS_EINVAL;
    if (q->len == 0) return DS_ENOTFOUND;
    ni = ds__qt_descend(q, x, y, path, &depth, NULL);
    if (!ds__qt_find(q, ni, x, y, id, &b, &s)) return DS_ENOTFOUND;
    /* Fill the hole with the head bucket's last point. */
    head = q->node[ni].blk;
    hh = ds__qt_hdr(q, head);
    hx = ds__qt_bx(q, head);
    bx = ds__qt_bx(q, b);
    hh[1]--;
    bx[s] = hx[hh[1]];
    DS__QT_BY(q, bx)[s] = DS__QT_BY(q, hx)[hh[1]];
    DS__QT_BID(q, bx)[s] = DS__QT_BID(q, hx)[hh[1]];
    if (hh[1] == 0) {
        q->node[ni].blk = hh[0];
        ds__qt_free_blk(q, head);
    }
    for (i = 0; i <= depth; i++) q->node[path[i]].count--;
    q->len--;
    /* Fold the highest subtree that got small back into one leaf. */
    for (i = 0; i < depth; i++) {
        uint32_t m = path[i];
        if (q->node[m].count <= q->merge_at) {
            double px[257], py[257];
            uint64_t pid[257];
            uint32_t n = 0, k;
            ds__qt_gather(q, m, px, py, pid, &n);
            DS_ASSERT(n == q->node[m].count);
            for (k = 0; k < n; k++) ds__qt_leaf_add(q, m, px[k], py[k], pid[k]); /* reuses a freed bucket */
            break;
        }
    }
    return DS_OK;
}

/* 16 bits a coordinate, interleaved: the point's position on the Z-order
 * (Morton) curve over the bounds. */
static uint32_t ds__qt_morton(const ds_quadtree *q, double x, double y) {
    double fx = (x - q->x0) / (q->x1 - q->x0) * 65536.0, fy = (y - q->y0) / (q->y1 - q->y0) * 65536.0;
    uint32_t ix = fx >= 65535.0 ? 65535u : fx > 0 ? (uint32_t)fx : 0u;
    uint32_t iy = fy >= 65535.0 ? 65535u : fy > 0 ? (uint32_t)fy : 0u;
    return (uint32_t)(ds__geo_spread(ix) << 1 | ds__geo_spread(iy));
}

DSDEF ds_status ds_quadtree_add_many(ds_quadtree *q, const ds_qt_point *pts, size_t n) {
    uint64_t *a, *b, *t;
    size_t i, bytes;
    unsigned pass;
    ds_status st = DS_OK;
    if (!q || (!pts && n)) return DS_EINVAL;
    for (i = 0; i < n; i++)
        if (!ds__qt_in(q, pts[i].x, pts[i].y)) return DS_EINVAL;
    if (n == 0) return DS_OK;
    if (n >= (size_t)UINT32_MAX - 1 - q->len) return DS_EFULL;
    if (!ds_size_mul(n, 2 * sizeof(uint64_t), &bytes)) return DS_ENOMEM;
    a = (uint64_t *)DS_MALLOC(q->alloc, bytes);
    if (!a) return DS_ENOMEM;
    b = a + n;
    /* LSD radix sort of (Z-order key << 32 | index) on the key's 4 bytes. */
    for (i = 0; i < n; i++) a[i] = (uint64_t)ds__qt_morton(q, pts[i].x, pts[i].y) << 32 | i;
    for (pass = 32; pass < 64; pass += 8) {
        size_t cnt[256], sum = 0;
        memset(cnt, 0, sizeof cnt);
        for (i = 0; i < n; i++) cnt[(a[i] >> pass) & 255u]++;
        for (i = 0; i < 256; i++) {
            size_t c = cnt[i];
            cnt[i] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++) b[cnt[(a[i] >> pass) & 255u]++] = a[i];
        t = a;
        a = b;
        b = t;
    }
    /* Four passes: the sorted keys are back in the first half. */
    /* Insert in that order, gathering 256 points at a time first: a tight
     * gather loop keeps many cache and TLB misses in flight at once. */
    for (i = 0; i < n && st == DS_OK;) {
        ds_qt_point chunk[256];
        size_t m = n - i < 256 ? n - i : 256, j;
        for (j = 0; j < m; j++) chunk[j] = pts[(uint32_t)a[i + j]];
        for (j = 0; j < m; j++, i++)
            if ((st = ds_quadtree_add(q, chunk[j].x, chunk[j].y, chunk[j].id)) != DS_OK) break;
    }
    if (st != DS_OK) { /* all or nothing: take back what went in (removal cannot fail) */
        while (i-- > 0) {
            const ds_qt_point *p = &pts[(uint32_t)a[i]];
            ds_status rs = ds_quadtree_del(q, p->x, p->y, p->id);
            DS_ASSERT(rs == DS_OK);
            (void)rs;
        }
    }
    DS_FREE(q->alloc, a < b ? a : b, bytes);
    return st;
}

/* Copy the subtree of old node `on` into the new pools as new node `nn`:
 * children groups in depth-first (Z) order, each leaf's buckets next to
 * the previous leaf's. */
static void ds__qt_copy(const ds_quadtree *q, uint32_t on, ds__qtnode *nn_pool, uint32_t nn,
                        unsigned char *nb_pool, uint32_t *nnodes, uint32_t *nblks) {
    const ds__qtnode *o = &q->node[on];
    ds__qtnode *n = &nn_pool[nn];
    n->count = o->count;
    n->kids = DS__QT_NIL;
    n->blk = DS__QT_NIL;
    if (o->kids != DS__QT_NIL) {
        uint32_t g = *nnodes, k;
        *nnodes += 4;
        n->kids = g;
        for (k = 0; k < 4; k++) ds__qt_copy(q, o->kids + k, nn_pool, g + k, nb_pool, nnodes, nblks);
    } else {
        uint32_t b = o->blk, *prev = &n->blk;
        while (b != DS__QT_NIL) {
            uint32_t nb = (*nblks)++;
            unsigned char *dst = nb_pool + (size_t)nb * q->blk_stride;
            memcpy(dst, q->blk + (size_t)b * q->blk_stride, q->blk_stride);
            *prev = nb;
            prev = (uint32_t *)(void *)dst; /* its next field, set by the next round */
            b = ds__qt_hdr(q, b)[0];
        }
        *prev = DS__QT_NIL;
    }
}

static void ds__qt_count(const ds_quadtree *q, uint32_t ni, uint32_t *nodes, uint32_t *blks) {
    const ds__qtnode *nd = &q->node[ni];
    if (nd->kids != DS__QT_NIL) {
        uint32_t k;
        *nodes += 4;
        for (k = 0; k < 4; k++) ds__qt_count(q, nd->kids + k, nodes, blks);
    } else {
        uint32_t b = nd->blk;
        for (; b != DS__QT_NIL; b = ds__qt_hdr(q, b)[0]) (*blks)++;
    }
}

DSDEF ds_status ds_quadtree_compact(ds_quadtree *q) {
    uint32_t nodes = 1, blks = 0, nn = 1, nbk = 0;
    size_t nbytes, bbytes;
    ds__qtnode *np;
    unsigned char *bp = NULL;
    if (!q) return DS_EINVAL;
    if (q->node_hw == 0) return DS_OK;
    ds__qt_count(q, 0, &nodes, &blks);
    if (!ds_size_mul(nodes, sizeof(ds__qtnode), &nbytes) || !ds_size_mul(blks, q->blk_stride, &bbytes))
        return DS_ENOMEM;
    np = (ds__qtnode *)DS_MALLOC(q->alloc, nbytes);
    if (!np) return DS_ENOMEM;
    if (blks && !(bp = (unsigned char *)DS_MALLOC(q->alloc, bbytes))) {
        DS_FREE(q->alloc, np, nbytes);
        return DS_ENOMEM;
    }
    ds__qt_copy(q, 0, np, 0, bp, &nn, &nbk);
    DS_ASSERT(nn == nodes && nbk == blks);
    DS_FREE(q->alloc, q->node, (size_t)q->node_cap * sizeof(ds__qtnode));
    if (q->blk) DS_FREE(q->alloc, q->blk, (size_t)q->blk_cap * q->blk_stride);
    q->node = np;
    q->node_cap = q->node_hw = nodes;
    q->node_free = DS__QT_NIL;
    q->blk = bp;
    q->blk_cap = q->blk_hw = blks;
    q->blk_free = DS__QT_NIL;
    return DS_OK;
}

DSDEF ds_status ds_quadtree_move(ds_quadtree *q, uint64_t id, double x, double y, double new_x,
                                 double new_y) {
    uint32_t from, to, b, s;
    ds_status st;
    if (!q || !ds__qt_in(q, x, y) || !ds__qt_in(q, new_x, new_y)) return DS_EINVAL;
    if (q->len == 0) return DS_ENOTFOUND;
    from = ds__qt_descend(q, x, y, NULL, NULL, NULL);
    if (!ds__qt_find(q, from, x, y, id, &b, &s)) return DS_ENOTFOUND;
    to = ds__qt_descend(q, new_x, new_y, NULL, NULL, NULL);
    if (from == to) {
        double *bx = ds__qt_bx(q, b);
        bx[s] = new_x;
        DS__QT_BY(q, bx)[s] = new_y;
        return DS_OK;
    }
    if ((st = ds_quadtree_add(q, new_x, new_y, id)) != DS_OK) return st;
    st = ds_quadtree_del(q, x, y, id);
    DS_ASSERT(st == DS_OK);
    return st;
}

/* ---- queries ---- */

typedef struct ds__qtq {
    const ds_quadtree *q;
    double a0, b0, a1, b1; /* rect: x0, y0, x1, y1; radius: x, y, r^2, - */
    ds_qt_fn fn;
    void *ctx;
    ds_qt_point *out;
    size_t cap, count;
    int stop;
} ds__qtq;

static void ds__qt_emit(ds__qtq *c, double x, double y, uint64_t id) {
    if (c->out) {
        if (c->count < c->cap) {
            c->out[c->count].x = x;
            c->out[c->count].y = y;
            c->out[c->count].id = id;
        }
        c->count++;
    } else {
        c->count++;
        if (c->fn(c->ctx, id, x, y)) c->stop = 1;
    }
}

/* Every point under ni. */
static void ds__qt_all(ds__qtq *c, uint32_t ni) {
    const ds_quadtree *q = c->q;
    const ds__qtnode *nd = &q->node[ni];
    if (nd->kids != DS__QT_NIL) {
        uint32_t k;
        for (k = 0; k < 4; k++) ds__qt_prefetch(q, nd->kids + k);
        for (k = 0; k < 4 && !c->stop; k++)
            if (q->node[nd->kids + k].count) ds__qt_all(c, nd->kids + k);
        return;
    }
    {
        uint32_t b = nd->blk;
        while (b != DS__QT_NIL && !c->stop) {
            const uint32_t *h = ds__qt_hdr(q, b);
            const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
            const uint64_t *bid = DS__QT_BID(q, bx);
            uint32_t i, n = h[1];
            if (c->out && c->count + n <= c->cap) {
                ds_qt_point *o = c->out + c->count;
                for (i = 0; i < n; i++) {
                    o[i].x = bx[i];
                    o[i].y = by[i];
                    o[i].id = bid[i];
                }
                c->count += n;
            } else {
                for (i = 0; i < n && !c->stop; i++) ds__qt_emit(c, bx[i], by[i], bid[i]);
            }
            b = h[0];
        }
    }
}

static void ds__qt_rect_rec(ds__qtq *c, uint32_t ni, double x0, double y0, double x1, double y1) {
    const ds_quadtree *q = c->q;
    const ds__qtnode *nd = &q->node[ni];
    if (x0 >= c->a0 && x1 <= c->a1 && y0 >= c->b0 && y1 <= c->b1) {
        ds__qt_all(c, ni);
        return;
    }
    if (nd->kids != DS__QT_NIL) {
        double mx = ds__qt_mid(x0, x1), my = ds__qt_mid(y0, y1);
        uint32_t g = nd->kids;
        int w = c->a0 <= mx, e = c->a1 >= mx, s = c->b0 <= my, n = c->b1 >= my;
        if (s && w) ds__qt_prefetch(q, g);
        if (s && e) ds__qt_prefetch(q, g + 1);
        if (n && w) ds__qt_prefetch(q, g + 2);
        if (n && e) ds__qt_prefetch(q, g + 3);
        if (s && w && q->node[g].count) ds__qt_rect_rec(c, g, x0, y0, mx, my);
        if (c->stop) return;
        if (s && e && q->node[g + 1].count) ds__qt_rect_rec(c, g + 1, mx, y0, x1, my);
        if (c->stop) return;
        if (n && w && q->node[g + 2].count) ds__qt_rect_rec(c, g + 2, x0, my, mx, y1);
        if (c->stop) return;
        if (n && e && q->node[g + 3].count) ds__qt_rect_rec(c, g + 3, mx, my, x1, y1);
        return;
    }
    {
        uint32_t b = nd->blk;
        while (b != DS__QT_NIL && !c->stop) {
            const uint32_t *h = ds__qt_hdr(q, b);
            const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
            const uint64_t *bid = DS__QT_BID(q, bx);
            uint32_t i, n = h[1];
            for (i = 0; i < n; i++) {
                if (bx[i] >= c->a0 && bx[i] <= c->a1 && by[i] >= c->b0 && by[i] <= c->b1) {
                    ds__qt_emit(c, bx[i], by[i], bid[i]);
                    if (c->stop) return;
                }
            }
            b = h[0];
        }
    }
}

static double ds__qt_box_d2(double x, double y, double x0, double y0, double x1, double y1) {
    double dx = x < x0 ? x0 - x : x > x1 ? x - x1 : 0.0;
    double dy = y < y0 ? y0 - y : y > y1 ? y - y1 : 0.0;
    return dx * dx + dy * dy;
}
static double ds__qt_box_far2(double x, double y, double x0, double y0, double x1, double y1) {
    double dx = x - x0 > x1 - x ? x - x0 : x1 - x;
    double dy = y - y0 > y1 - y ? y - y0 : y1 - y;
    return dx * dx + dy * dy;
}

static void ds__qt_radius_rec(ds__qtq *c, uint32_t ni, double x0, double y0, double x1, double y1) {
    const ds_quadtree *q = c->q;
    const ds__qtnode *nd = &q->node[ni];
    double x = c->a0, y = c->b0, r2 = c->a1;
    if (ds__qt_box_d2(x, y, x0, y0, x1, y1) > r2) return;
    if (ds__qt_box_far2(x, y, x0, y0, x1, y1) <= r2) {
        ds__qt_all(c, ni);
        return;
    }
    if (nd->kids != DS__QT_NIL) {
        double mx = ds__qt_mid(x0, x1), my = ds__qt_mid(y0, y1);
        uint32_t g = nd->kids, k;
        for (k = 0; k < 4; k++) ds__qt_prefetch(q, g + k);
        if (q->node[g].count) ds__qt_radius_rec(c, g, x0, y0, mx, my);
        if (!c->stop && q->node[g + 1].count) ds__qt_radius_rec(c, g + 1, mx, y0, x1, my);
        if (!c->stop && q->node[g + 2].count) ds__qt_radius_rec(c, g + 2, x0, my, mx, y1);
        if (!c->stop && q->node[g + 3].count) ds__qt_radius_rec(c, g + 3, mx, my, x1, y1);
        return;
    }
    {
        uint32_t b = nd->blk;
        while (b != DS__QT_NIL && !c->stop) {
            const uint32_t *h = ds__qt_hdr(q, b);
            const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
            const uint64_t *bid = DS__QT_BID(q, bx);
            uint32_t i, n = h[1];
            for (i = 0; i < n; i++) {
                double dx = bx[i] - x, dy = by[i] - y;
                if (dx * dx + dy * dy <= r2) {
                    ds__qt_emit(c, bx[i], by[i], bid[i]);
                    if (c->stop) return;
                }
            }
            b = h[0];
        }
    }
}

static ds_status ds__qt_rect_run(const ds_quadtree *q, double x0, double y0, double x1, double y1,
                                 ds__qtq *c, size_t *count) {
    if (count) *count = 0;
    if (!q || !(x0 <= x1) || !(y0 <= y1)) return DS_EINVAL;
    c->q = q;
    c->a0 = x0;
    c->b0 = y0;
    c->a1 = x1;
    c->b1 = y1;
    c->count = 0;
    c->stop = 0;
    if (q->len && x0 <= q->x1 && x1 >= q->x0 && y0 <= q->y1 && y1 >= q->y0)
        ds__qt_rect_rec(c, 0, q->x0, q->y0, q->x1, q->y1);
    if (count) *count = c->count;
    return DS_OK;
}

DSDEF ds_status ds_quadtree_rect(const ds_quadtree *q, double x0, double y0, double x1, double y1,
                                 ds_qt_fn fn, void *ctx, size_t *count) {
    ds__qtq c;
    if (!fn) {
        if (count) *count = 0;
        return DS_EINVAL;
    }
    c.fn = fn;
    c.ctx = ctx;
    c.out = NULL;
    c.cap = 0;
    return ds__qt_rect_run(q, x0, y0, x1, y1, &c, count);
}

DSDEF ds_status ds_quadtree_rect_into(const ds_quadtree *q, double x0, double y0, double x1,
                                      double y1, ds_qt_point *out, size_t cap, size_t *count) {
    ds__qtq c;
    static ds_qt_point none;
    if (!out && cap) {
        if (count) *count = 0;
        return DS_EINVAL;
    }
    c.fn = NULL;
    c.ctx = NULL;
    c.out = out ? out : &none; /* cap 0: count only */
    c.cap = cap;
    return ds__qt_rect_run(q, x0, y0, x1, y1, &c, count);
}

static ds_status ds__qt_radius_run(const ds_quadtree *q, double x, double y, double r, ds__qtq *c,
                                   size_t *count) {
    if (count) *count = 0;
    if (!q || !ds__qt_finite(x) || !ds__qt_finite(y) || !(r >= 0))
        return DS_EINVAL;
    c->q = q;
    c->a0 = x;
    c->b0 = y;
    c->a1 = r * r;
    c->b1 = 0;
    c->count = 0;
    c->stop = 0;
    if (q->len) ds__qt_radius_rec(c, 0, q->x0, q->y0, q->x1, q->y1);
    if (count) *count = c->count;
    return DS_OK;
}

DSDEF ds_status ds_quadtree_radius(const ds_quadtree *q, double x, double y, double r, ds_qt_fn fn,
                                   void *ctx, size_t *count) {
    ds__qtq c;
    if (!fn) {
        if (count) *count = 0;
        return DS_EINVAL;
    }
    c.fn = fn;
    c.ctx = ctx;
    c.out = NULL;
    c.cap = 0;
    return ds__qt_radius_run(q, x, y, r, &c, count);
}

DSDEF ds_status ds_quadtree_radius_into(const ds_quadtree *q, double x, double y, double r,
                                        ds_qt_point *out, size_t cap, size_t *count) {
    ds__qtq c;
    static ds_qt_point none;
    if (!out && cap) {
        if (count) *count = 0;
        return DS_EINVAL;
    }
    c.fn = NULL;
    c.ctx = NULL;
    c.out = out ? out : &none;
    c.cap = cap;
    return ds__qt_radius_run(q, x, y, r, &c, count);
}

/* kNN: a min-heap of boxes to open, and the best k so far as (squared
 * distance, slot in the bucket pool: bucket << 8 | slot) pairs, 16 bytes
 * to move instead of a 32-byte hit; x, y and id are read from the pool
 * only to break a tie in distance and, for the k winners, at the end. For
 * k <= DS__QT_KNN_SORT the pairs are a sorted array on the stack; above,
 * a max-heap in out[] itself (out[i].dist = d2, out[i].id = slot). */
typedef struct ds__qtbox {
    double d2, x0, y0, x1, y1;
    uint32_t ni;
} ds__qtbox;

/* The point in slot ref orders after the one in slot o at equal distance:
 * the larger (id, x, y). */
static int ds__qt_ref_after(const ds_quadtree *q, uint64_t ref, uint64_t o) {
    const double *ax = ds__qt_bx(q, (uint32_t)(ref >> 8)), *bx = ds__qt_bx(q, (uint32_t)(o >> 8));
    size_t a = (size_t)(ref & 255u), b = (size_t)(o & 255u);
    uint64_t ia = DS__QT_BID(q, ax)[a], ib = DS__QT_BID(q, bx)[b];
    if (ia != ib) return ia > ib;
    if (ax[a] != bx[b]) return ax[a] > bx[b];
    return DS__QT_BY(q, ax)[a] > DS__QT_BY(q, bx)[b];
}
/* Result a orders after result b: farther, or as far and after in ties. */
static int ds__qt_after(const ds_quadtree *q, const ds_qt_hit *a, const ds_qt_hit *b) {
    if (a->dist != b->dist) return a->dist > b->dist;
    return ds__qt_ref_after(q, a->id, b->id);
}
/* Sift the hole at i down the max-heap h[0..n) and put (d2, ref) there. */
static void ds__qt_res_down(const ds_quadtree *q, ds_qt_hit *h, size_t n, size_t i, double d2,
                            uint64_t ref) {
    ds_qt_hit t;
    t.dist = d2;
    t.id = ref;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n) c += (size_t)ds__qt_after(q, &h[c + 1], &h[c]);
        if (!ds__qt_after(q, &h[c], &t)) break;
        h[i].dist = h[c].dist;
        h[i].id = h[c].id;
        i = c;
    }
    h[i].dist = d2;
    h[i].id = ref;
}
static void ds__qt_res_up(const ds_quadtree *q, ds_qt_hit *h, size_t i, double d2, uint64_t ref) {
    ds_qt_hit t;
    t.dist = d2;
    t.id = ref;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ds__qt_after(q, &t, &h[p])) break;
        h[i].dist = h[p].dist;
        h[i].id = h[p].id;
        i = p;
    }
    h[i].dist = d2;
    h[i].id = ref;
}
/* Heap sort, bottom-up (Floyd): the largest leaves the root, the hole
 * walks down the larger children to the bottom, and the last item climbs
 * from there (it mostly belongs near the bottom): about one comparison a
 * level instead of two. For k above DS__QT_KNN_SORT. */
static void ds__qt_res_heapsort(const ds_quadtree *q, ds_qt_hit *h, size_t n) {
    while (n > 1) {
        double d2 = h[n - 1].dist, td = h[0].dist;
        uint64_t ref = h[n - 1].id, tr = h[0].id;
        size_t i = 0, c;
        n--;
        while ((c = 2 * i + 1) < n) {
            if (c + 1 < n) c += (size_t)ds__qt_after(q, &h[c + 1], &h[c]);
            h[i].dist = h[c].dist;
            h[i].id = h[c].id;
            i = c;
        }
        ds__qt_res_up(q, h, i, d2, ref);
        h[n].dist = td;
        h[n].id = tr;
    }
}

typedef struct ds__qtres {
    double d2;
    uint64_t ref; /* bucket << 8 | slot */
} ds__qtres;
/* Up to this k the best k so far are kept sorted in 2 KiB of stack
 * (at most 256: ds__qt_res_sort keeps a slot in a byte). */
#define DS__QT_KNN_SORT 128

/* r orders after o: farther, or as far and after in ties. */
static int ds__qt_res_after(const ds_quadtree *q, const ds__qtres *r, const ds__qtres *o) {
    if (r->d2 != o->d2) return r->d2 > o->d2;
    return ds__qt_ref_after(q, r->ref, o->ref);
}

/* Merge sort of a[0..n) through t[0..n): the pick is a compare of two
 * doubles (ties in distance are rare), branch-free. */
static void ds__qt_res_msort(const ds_quadtree *q, ds__qtres *a, ds__qtres *t, size_t n) {
    ds__qtres *src = a, *dst = t, *x;
    size_t i, w;
    for (w = 1; w < n; w *= 2) {
        for (i = 0; i < n; i += 2 * w) {
            size_t l = i, le = i + w < n ? i + w : n, r = le, re = i + 2 * w < n ? i + 2 * w : n, o = i;
            while (l < le && r < re) {
                int right = ds__qt_res_after(q, &src[l], &src[r]);
                dst[o++] = right ? src[r] : src[l];
                r += (size_t)right;
                l += (size_t)!right;
            }
            while (l < le) dst[o++] = src[l++];
            while (r < re) dst[o++] = src[r++];
        }
        x = src;
        src = dst;
        dst = x;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

/* Sort the first k results r[0..k) (k <= DS__QT_KNN_SORT), using out[]'s
 * dist and id fields as scratch. Squared distances of points in a disc
 * are near uniform over [0, max]: a counting sort into k slots by d2 / max
 * leaves about one a slot, and an insertion pass finishes it in about k
 * moves. Many equal or skewed distances (duplicates) would make that pass
 * quadratic: past 8k moves, or when max is 0 or infinite, merge sort. */
static void ds__qt_res_sort(const ds_quadtree *q, ds__qtres *r, size_t k, ds_qt_hit *out) {
    uint16_t cnt[DS__QT_KNN_SORT + 1];
    unsigned char slot[DS__QT_KNN_SORT];
    double mx = 0, scale = 0;
    size_t i, moves = 0;
    for (i = 0; i < k; i++) mx = r[i].d2 > mx ? r[i].d2 : mx;
    /* scale finite (mx may be subnormal): every d2 * scale in [0, k] */
    if (k > 1 && mx > 0 && mx < HUGE_VAL && (scale = (double)k / mx) < HUGE_VAL) {
        memset(cnt, 0, (k + 1) * sizeof cnt[0]);
        for (i = 0; i < k; i++) {
            size_t c = (size_t)(r[i].d2 * scale);
            slot[i] = (unsigned char)(c < k ? c : k - 1);
            cnt[slot[i] + 1]++;
        }
        for (i = 1; i <= k; i++) cnt[i] = (uint16_t)(cnt[i] + cnt[i - 1]);
        for (i = 0; i < k; i++) {
            size_t o = cnt[slot[i]]++;
            out[o].dist = r[i].d2;
            out[o].id = r[i].ref;
        }
        /* insertion from out[] back into r[] */
        for (i = 0; i < k && moves <= 8 * k; i++) {
            ds__qtres v;
            size_t j = i;
            v.d2 = out[i].dist;
            v.ref = out[i].id;
            while (j > 0 && ds__qt_res_after(q, &r[j - 1], &v)) {
                r[j] = r[j - 1];
                j--;
            }
            moves += i - j;
            r[j] = v;
        }
        if (i == k) return;
        for (i = 0; i < k; i++) { /* too many moves: merge sort it all */
            r[i].d2 = out[i].dist;
            r[i].ref = out[i].id;
        }
    }
    {
        ds__qtres t[DS__QT_KNN_SORT];
        ds__qt_res_msort(q, r, t, k);
    }
}

/* Push b onto the box heap (room made by the caller). */
static void ds__qt_box_push(ds__qtbox *heap, size_t *hn, const ds__qtbox *b) {
    size_t j = (*hn)++;
    while (j > 0 && b->d2 < heap[(j - 1) / 2].d2) {
        heap[j] = heap[(j - 1) / 2];
        j = (j - 1) / 2;
    }
    heap[j] = *b;
}
/* Replace the top of the box heap (n > 0) with b, sifting it down. */
static void ds__qt_box_down(ds__qtbox *heap, size_t hn, const ds__qtbox *b) {
    size_t j = 0;
    for (;;) {
        size_t c = 2 * j + 1;
        if (c >= hn) break;
        if (c + 1 < hn) c += (size_t)(heap[c + 1].d2 < heap[c].d2); /* branch-free */
        if (!(heap[c].d2 < b->d2)) break;
        heap[j] = heap[c];
        j = c;
    }
    heap[j] = *b;
}

#define DS__QT_KNN_STACK 128 /* boxes on the stack: 6 KiB */

DSDEF ds_status ds_quadtree_knn(const ds_quadtree *q, double x, double y, size_t k, ds_qt_hit *out,
                                size_t *found) {
    ds__qtbox stackbuf[DS__QT_KNN_STACK], *heap = stackbuf, e;
    ds__qtres res[DS__QT_KNN_SORT]; /* k <= DS__QT_KNN_SORT: the best so far, sorted */
    size_t hn = 0, hcap = DS__QT_KNN_STACK, nres = 0, i;
    double tau = HUGE_VAL, cut = HUGE_VAL; /* the k-th best d^2 once k are found; with slack */
    if (found) *found = 0;
    if (!q || !ds__qt_finite(x) || !ds__qt_finite(y) || (!out && k))
        return DS_EINVAL;
    if (k > q->len) k = q->len;
    if (k == 0) return DS_OK;
    e.d2 = ds__qt_box_d2(x, y, q->x0, q->y0, q->x1, q->y1);
    e.x0 = q->x0;
    e.y0 = q->y0;
    e.x1 = q->x1;
    e.y1 = q->y1;
    e.ni = 0;
    /* e is the box being opened: boxes come in order of distance, and a
     * node's nearest child is opened next without a trip through the heap
     * when nothing in the heap is nearer. */
    for (;;) {
        const ds__qtnode *nd = &q->node[e.ni];
        /* Slack of 2^-50 relative: robust to an FMA-contracted distance. */
        if (e.d2 > cut) break;
        if (nd->kids == DS__QT_NIL) {
            uint32_t b = nd->blk;
            while (b != DS__QT_NIL) {
                const uint32_t *h = ds__qt_hdr(q, b);
                const double *bx = ds__qt_bx(q, b), *by = DS__QT_BY(q, bx);
                uint32_t j, n = h[1];
                for (j = 0; j < n; j++) {
                    double dx = bx[j] - x, dy = by[j] - y, d2 = dx * dx + dy * dy;
                    uint64_t ref;
                    if (d2 > tau) continue; /* the common case once k are found */
                    ref = (uint64_t)b << 8 | j;
                    DS__PREFETCH(DS__QT_BID(q, bx) + j); /* read at the end if it stays */
                    if (k <= DS__QT_KNN_SORT) { /* sorted: insert, the k-th falls off */
                        size_t lo = 0, hi = k - 1;
                        if (nres < k) {
                            res[nres].d2 = d2;
                            res[nres].ref = ref;
                            if (++nres < k) continue;
                            ds__qt_res_sort(q, res, k, out);
                        } else {
                            if (!(d2 < tau) && !ds__qt_ref_after(q, res[k - 1].ref, ref)) continue;
                            /* the first that orders after (d2, ref); res[k - 1] does */
                            while (lo < hi) {
                                size_t mid = (lo + hi) / 2;
                                if (res[mid].d2 > d2 ||
                                    (res[mid].d2 == d2 && ds__qt_ref_after(q, res[mid].ref, ref)))
                                    hi = mid;
                                else
                                    lo = mid + 1;
                            }
                            memmove(&res[lo + 1], &res[lo], (k - 1 - lo) * sizeof res[0]);
                            res[lo].d2 = d2;
                            res[lo].ref = ref;
                        }
                        tau = res[k - 1].d2;
                    } else if (nres < k) { /* a max-heap in out[]: the first k as they come, one heapify */
                        out[nres].dist = d2;
                        out[nres].id = ref;
                        if (++nres == k) {
                            size_t m;
                            for (m = k / 2; m-- > 0;) ds__qt_res_down(q, out, k, m, out[m].dist, out[m].id);
                            tau = out[0].dist;
                        }
                    } else if (d2 < tau || ds__qt_ref_after(q, out[0].id, ref)) {
                        ds__qt_res_down(q, out, nres, 0, d2, ref);
                        tau = out[0].dist;
                    } else {
                        continue;
                    }
                    if (nres == k) cut = tau + tau * DS__QT_SLACK;
                }
                b = h[0];
            }
            if (!hn) break;
            /* pop the nearest box */
            e = heap[0];
            if (--hn) ds__qt_box_down(heap, hn, &heap[hn]);
            continue;
        }
        {
            double mx = ds__qt_mid(e.x0, e.x1), my = ds__qt_mid(e.y0, e.y1);
            ds__qtbox cb[4];
            uint32_t c, nc = 0, best = 0;
            for (c = 0; c < 4; c++) {
                ds__qtbox *t = &cb[nc];
                if (!q->node[nd->kids + c].count) continue;
                t->x0 = (c & 1) ? mx : e.x0;
                t->x1 = (c & 1) ? e.x1 : mx;
                t->y0 = (c & 2) ? my : e.y0;
                t->y1 = (c & 2) ? e.y1 : my;
                t->d2 = ds__qt_box_d2(x, y, t->x0, t->y0, t->x1, t->y1);
                if (t->d2 > cut) continue;
                t->ni = nd->kids + c;
                ds__qt_prefetch(q, t->ni);
                if (t->d2 < cb[best].d2) best = nc;
                nc++;
            }
            if (hn + nc > hcap) {
                size_t ncap = hcap * 2, bytes;
                ds__qtbox *nh;
                if (!ds_size_mul(ncap, sizeof *nh, &bytes) ||
                    !(nh = (ds__qtbox *)DS_MALLOC(q->alloc, bytes))) {
                    if (heap != stackbuf) DS_FREE(q->alloc, heap, hcap * sizeof *heap);
                    return DS_ENOMEM;
                }
                memcpy(nh, heap, hn * sizeof *nh);
                if (heap != stackbuf) DS_FREE(q->alloc, heap, hcap * sizeof *heap);
                heap = nh;
                hcap = ncap;
            }
            for (c = 0; c < nc; c++)
                if (c != best) ds__qt_box_push(heap, &hn, &cb[c]);
            if (nc && (!hn || cb[best].d2 <= heap[0].d2)) {
                e = cb[best]; /* straight down */
            } else if (nc) {
                e = heap[0]; /* something in the heap is nearer: swap */
                ds__qt_box_down(heap, hn, &cb[best]);
            } else if (hn) {
                e = heap[0];
                if (--hn) ds__qt_box_down(heap, hn, &heap[hn]);
            } else {
                break;
            }
        }
    }
    if (heap != stackbuf) DS_FREE(q->alloc, heap, hcap * sizeof *heap);
    DS_ASSERT(nres == k); /* k <= len, and nothing is pruned before k are found */
    /* Nearest first, then the points themselves in place of their slots. */
    if (k <= DS__QT_KNN_SORT) {
        for (i = 0; i < nres; i++) {
            out[i].dist = res[i].d2;
            out[i].id = res[i].ref;
        }
    } else {
        ds__qt_res_heapsort(q, out, nres);
    }
    for (i = 0; i < nres; i++) {
        uint64_t ref = out[i].id;
        const double *bx = ds__qt_bx(q, (uint32_t)(ref >> 8));
        size_t s = (size_t)(ref & 255u);
        out[i].x = bx[s];
        out[i].y = DS__QT_BY(q, bx)[s];
        out[i].id = DS__QT_BID(q, bx)[s];
        out[i].dist = sqrt(out[i].dist);
    }
    if (found) *found = nres;
    return DS_OK;
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_GEO_IMPL */
