/* tests/test_spatial.c - ds_geohash and ds_quadtree.
 *
 * Geohash: published vectors (Wikipedia's "u4pruydqqvj", Veness's
 * "u120fxw", Redis's GEOHASH and GEODIST examples, Veness's haversine
 * example); encode equal to an independent bit-by-bit bisection written
 * here; round trips within the cell error at every precision and at every
 * integer width; neighbours equal a reference that decodes the cell and
 * offsets its centre by one cell size (with cells forced onto the
 * antimeridian and the polar rows); the proximity cover holds every point
 * sampled inside the circle; bad input.
 *
 * Quadtree: random operation sequences (inserts, removes, moves) against a
 * brute-force array, comparing rectangle, radius and kNN queries after
 * every step, with the tree's invariants walked; many duplicates; bad
 * input; allocation failure at every allocation. */
#include "prop.h"
#include <math.h>

#define PI 3.14159265358979323846

/* ======================================================================
 * geohash
 * ====================================================================== */

/* Reference encoder: the textbook bisection (Niemeyer; Wikipedia
 * "Geohash"), one bit at a time, longitude first, 1 when v >= mid (the
 * upper half), the top edge kept in the last cell. */
static void ref_encode_bits(double lat, double lon, int bits, uint64_t *out) {
    double lat_lo = -90, lat_hi = 90, lon_lo = -180, lon_hi = 180;
    uint64_t h = 0;
    int i;
    for (i = 0; i < bits; i++) {
        if (i % 2 == 0) {
            double mid = (lon_lo + lon_hi) / 2;
            h <<= 1;
            if (lon >= mid) { h |= 1; lon_lo = mid; } else lon_hi = mid;
        } else {
            double mid = (lat_lo + lat_hi) / 2;
            h <<= 1;
            if (lat >= mid) { h |= 1; lat_lo = mid; } else lat_hi = mid;
        }
    }
    *out = h;
}

static void ref_encode(double lat, double lon, int prec, char *out) {
    static const char b32[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    uint64_t h;
    int i;
    ref_encode_bits(lat, lon, 5 * prec, &h);
    for (i = prec - 1; i >= 0; i--) {
        out[i] = b32[h & 31];
        h >>= 5;
    }
    out[prec] = 0;
}

/* Is (lat, lon) in the half-open box (closed at 90 and 180)? */
static int in_cell(const ds_geo_box *b, double lat, double lon) {
    return lat >= b->lat_min && (lat < b->lat_max || (lat == 90 && b->lat_max == 90)) &&
           lon >= b->lon_min && (lon < b->lon_max || (lon == 180 && b->lon_max == 180));
}

/* A random coordinate: uniform, an exact cell edge, or an extreme. */
static double rand_coord(ds_rng *r, double lim) {
    switch (ds_rng_below(r, 8)) {
    case 0: return lim;
    case 1: return -lim;
    case 2: return 0.0;
    case 3: { /* an exact edge at a random depth */
        int n = (int)ds_rng_below(r, 33);
        double step = 2 * lim / ldexp(1.0, n);
        return -lim + step * (double)ds_rng_below(r, (uint64_t)1 << n);
    }
    case 4: { /* next to an edge */
        int n = (int)ds_rng_below(r, 30);
        double step = 2 * lim / ldexp(1.0, n), v = -lim + step * (double)ds_rng_below(r, (uint64_t)1 << n);
        v = nextafter(v, ds_rng_below(r, 2) ? 1e9 : -1e9);
        return v > lim ? lim : v < -lim ? -lim : v;
    }
    default: return (ds_rng_double(r) * 2 - 1) * lim;
    }
}

void test_geo_vectors(void) {
    char s[DS_GEOHASH_MAX + 1];
    double lat, lon, le, oe, d;
    uint64_t h, h2;
    ds_geo_box b;
    /* Wikipedia, "Geohash": 57.64911, 10.40744 (Jutland) is u4pruydqqvj. */
    CHECK(ds_geohash_encode(57.64911, 10.40744, 11, s) == DS_OK && !strcmp(s, "u4pruydqqvj"));
    CHECK(ds_geohash_decode("u4pruydqqvj", 11, &lat, &lon, &le, &oe) == DS_OK);
    CHECK(fabs(lat - 57.64911) <= le && fabs(lon - 10.40744) <= oe && le < 1e-5 && oe < 1e-5);
    /* Wikipedia's worked decoding: ezs42 is the cell 42.583..42.627, -5.625..-5.581
     * with centre 42.60498046875, -5.60302734375. */
    CHECK(ds_geohash_decode("ezs42", 5, &lat, &lon, &le, &oe) == DS_OK);
    CHECK(lat == 42.60498046875 && lon == -5.60302734375 && le == 0.02197265625 && oe == 0.02197265625);
    CHECK(ds_geohash_bbox("ezs42", 5, &b) == DS_OK && b.lat_min == 42.5830078125 &&
          b.lat_max == 42.626953125 && b.lon_min == -5.625 && b.lon_max == -5.5810546875);
    /* Chris Veness, "Geohashes" (movable-type.co.uk, latlon-geohash README):
     * Geohash.encode(52.205, 0.119, 7) = 'u120fxw'. */
    CHECK(ds_geohash_encode(52.205, 0.119, 7, s) == DS_OK && !strcmp(s, "u120fxw"));
    /* Redis GEOHASH docs: Palermo (13.361389, 38.115556) sqc8b49rny0, Catania
     * (15.087269, 37.502669) sqdtr74hyu0. Redis stores 52 bits, so its 11th
     * character is padding: the first 10 are the standard ones. */
    CHECK(ds_geohash_encode(38.115556, 13.361389, 10, s) == DS_OK && !strcmp(s, "sqc8b49rny"));
    CHECK(ds_geohash_encode(37.502669, 15.087269, 10, s) == DS_OK && !strcmp(s, "sqdtr74hyu"));
    /* A point on edges belongs to the cell above / east of it. */
    CHECK(ds_geohash_encode(0, 0, 12, s) == DS_OK && !strcmp(s, "s00000000000"));
    CHECK(ds_geohash_encode(90, 180, 12, s) == DS_OK && !strcmp(s, "zzzzzzzzzzzz"));
    CHECK(ds_geohash_encode(-90, -180, 12, s) == DS_OK && !strcmp(s, "000000000000"));
    CHECK(ds_geohash_encode(-1e-300, -1e-300, 3, s) == DS_OK && !strcmp(s, "7zz"));
    /* The integer form is the string's bits; 64 bits hold the 60 of 12 chars. */
    CHECK(ds_geohash_to_int("u4pruydqqvj", 11, &h) == DS_OK);
    CHECK(ds_geohash_encode_int(57.64911, 10.40744, 55, &h2) == DS_OK && h == h2);
    CHECK(ds_geohash_encode_int(57.64911, 10.40744, 64, &h2) == DS_OK && (h2 >> 9) == h);
    CHECK(ds_geohash_from_int(h, 11, s) == DS_OK && !strcmp(s, "u4pruydqqvj"));
    CHECK(ds_geohash_encode_int(0, 0, 1, &h) == DS_OK && h == 1);
    CHECK(ds_geohash_encode_int(0, 0, 2, &h) == DS_OK && h == 3);
    /* Haversine. Veness, "Calculate distance, bearing and more between
     * Latitude/Longitude points": Land's End 50 03 59N 005 42 53W to John
     * o' Groats 58 38 38N 003 04 12W is 968.9 km with R = 6371 km. */
    d = ds_geo_distance(50 + 3 / 60. + 59 / 3600., -(5 + 42 / 60. + 53 / 3600.), 58 + 38 / 60. + 38 / 3600.,
                        -(3 + 4 / 60. + 12 / 3600.));
    CHECKF(fabs(d * 6371e3 / DS_GEO_EARTH_RADIUS_M - 968.9e3) < 50, "%.1f", d);
    /* Redis GEODIST Sicily Palermo Catania = 166274.1516 m, on Redis's sphere
     * of 6372797.560856 m (and its 52-bit positions: ~0.1 m). */
    d = ds_geo_distance(38.115556, 13.361389, 37.502669, 15.087269);
    CHECKF(fabs(d * 6372797.560856 / DS_GEO_EARTH_RADIUS_M - 166274.1516) < 1.0, "%.4f", d);
    CHECK(ds_geo_distance(10, 20, 10, 20) == 0.0);
    CHECK(fabs(ds_geo_distance(0, 0, 0, 180) - PI * DS_GEO_EARTH_RADIUS_M) < 1e-6);
    CHECK(fabs(ds_geo_distance(90, 0, -90, 77) - PI * DS_GEO_EARTH_RADIUS_M) < 1e-6);
    CHECK(fabs(ds_geo_distance(0, 179.5, 0, -179.5) - PI / 180 * DS_GEO_EARTH_RADIUS_M) < 1e-6);
    CHECK(isnan(ds_geo_distance(NAN, 0, 0, 0)));
}

static void geo_round_case(ds_rng *r, uint64_t seed) {
    int i, p;
    (void)seed;
    for (i = 0; i < 300; i++) {
        double lat = rand_coord(r, 90), lon = rand_coord(r, 180);
        char s[DS_GEOHASH_MAX + 1], ref[DS_GEOHASH_MAX + 1], full[DS_GEOHASH_MAX + 1];
        uint64_t h64, h, rh;
        int bits;
        CHECK(ds_geohash_encode(lat, lon, 12, full) == DS_OK);
        CHECK(ds_geohash_encode_int(lat, lon, 64, &h64) == DS_OK);
        for (p = 1; p <= DS_GEOHASH_MAX; p++) {
            double clat, clon, le, oe;
            ds_geo_box b;
            CHECK(ds_geohash_encode(lat, lon, p, s) == DS_OK && strlen(s) == (size_t)p);
            ref_encode(lat, lon, p, ref);
            CHECKF(!strcmp(s, ref), "%.17g,%.17g p%d: %s vs reference %s", lat, lon, p, s, ref);
            CHECK(!strncmp(s, full, (size_t)p)); /* a prefix of the finer hash */
            CHECK(ds_geohash_decode(s, (size_t)p, &clat, &clon, &le, &oe) == DS_OK);
            CHECKF(fabs(lat - clat) <= le && fabs(lon - clon) <= oe, "%.17g,%.17g p%d", lat, lon, p);
            CHECK(ds_geohash_bbox(s, (size_t)p, &b) == DS_OK && in_cell(&b, lat, lon));
            CHECK(b.lat_max - b.lat_min == 2 * le && b.lon_max - b.lon_min == 2 * oe);
            CHECK(ds_geohash_to_int(s, (size_t)p, &h) == DS_OK && h == (h64 >> (64 - 5 * p)));
        }
        for (bits = 1; bits <= 64; bits++) {
            ds_geo_box b;
            CHECK(ds_geohash_encode_int(lat, lon, bits, &h) == DS_OK);
            CHECK(h == (h64 >> (64 - bits)));
            ref_encode_bits(lat, lon, bits, &rh);
            CHECKF(h == rh, "%.17g,%.17g bits %d", lat, lon, bits);
            CHECK(ds_geohash_bbox_int(h, bits, &b) == DS_OK && in_cell(&b, lat, lon));
        }
    }
}

void test_geo_round_trip(void) { prop_run("geo_round_trip", geo_round_case, 20); }

/* Reference neighbour: decode, move the centre one cell, wrap longitude,
 * re-encode; absent past a pole. Returns 0 when absent. */
static int ref_neighbor(uint64_t h, int bits, int dir, uint64_t *out) {
    static const int dx[8] = {0, 1, 1, 1, 0, -1, -1, -1}, dy[8] = {1, 1, 0, -1, -1, -1, 0, 1};
    ds_geo_box b;
    double clat, clon;
    if (ds_geohash_bbox_int(h, bits, &b) != DS_OK) return -1;
    clat = (b.lat_min + b.lat_max) / 2 + dy[dir] * (b.lat_max - b.lat_min);
    clon = (b.lon_min + b.lon_max) / 2 + dx[dir] * (b.lon_max - b.lon_min);
    if (clat > 90 || clat < -90) return 0;
    if (clon >= 180) clon -= 360;
    if (clon < -180) clon += 360;
    if (ds_geohash_encode_int(clat, clon, bits, out) != DS_OK) return -1;
    return 1;
}

static void geo_neighbor_case(ds_rng *r, uint64_t seed) {
    int i;
    (void)seed;
    for (i = 0; i < 400; i++) {
        int bits = 1 + (int)ds_rng_below(r, 64), p = 1 + (int)ds_rng_below(r, 12), d, n, absent = 0;
        double lat = rand_coord(r, 90), lon = rand_coord(r, 180);
        char s[DS_GEOHASH_MAX + 1], nb[8][DS_GEOHASH_MAX + 1], one[DS_GEOHASH_MAX + 1];
        uint64_t h, got, want;
        ds_geo_box cb;
        /* force the antimeridian columns and the polar rows often */
        switch (ds_rng_below(r, 6)) {
        case 0: lon = 180; break;
        case 1: lon = -180; break;
        case 2: lat = 90; break;
        case 3: lat = -90; break;
        default: break;
        }
        CHECK(ds_geohash_encode_int(lat, lon, bits, &h) == DS_OK);
        for (d = 0; d < 8; d++) {
            int ok = ref_neighbor(h, bits, d, &want);
            ds_status st = ds_geohash_neighbor_int(h, bits, d, &got);
            CHECK(ok >= 0);
            if (!ok) {
                CHECKF(st == DS_ENOTFOUND, "bits %d dir %d", bits, d);
                continue;
            }
            CHECKF(st == DS_OK && got == want, "bits %d dir %d: %llx vs %llx", bits, d,
                   (unsigned long long)got, (unsigned long long)want);
            /* and back again */
            CHECK(ds_geohash_neighbor_int(got, bits, (d + 4) % 8, &want) == DS_OK);
            if (bits >= 4) CHECK(want == h); /* with 1-2 columns E/W are one cell */
        }
        /* string form, all eight */
        CHECK(ds_geohash_encode(lat, lon, p, s) == DS_OK && ds_geohash_bbox(s, (size_t)p, &cb) == DS_OK);
        CHECK(ds_geohash_neighbors(s, (size_t)p, nb, &n) == DS_OK);
        CHECK(ds_geohash_to_int(s, (size_t)p, &h) == DS_OK);
        for (d = 0; d < 8; d++) {
            int ok = ref_neighbor(h, 5 * p, d, &want);
            ds_status st = ds_geohash_neighbor(s, (size_t)p, d, one);
            if (!ok) {
                CHECK(nb[d][0] == 0 && st == DS_ENOTFOUND);
                absent++;
                continue;
            }
            CHECK(st == DS_OK && !strcmp(one, nb[d]));
            CHECK(ds_geohash_to_int(nb[d], (size_t)p, &got) == DS_OK && got == want);
            {
                /* the neighbour's box touches the cell's (across 180 too) */
                ds_geo_box b;
                double dlon;
                CHECK(ds_geohash_bbox(nb[d], (size_t)p, &b) == DS_OK);
                CHECK(b.lat_min == cb.lat_max || b.lat_max == cb.lat_min || b.lat_min == cb.lat_min);
                dlon = fabs((b.lon_min + b.lon_max) / 2 - (cb.lon_min + cb.lon_max) / 2);
                if (dlon > 180) dlon = 360 - dlon;
                CHECK(fabs(dlon - (d == 0 || d == 4 ? 0 : b.lon_max - b.lon_min)) < 1e-9);
            }
        }
        CHECK(n == 8 - absent && (n == 8 || n == 5));
        CHECK((absent > 0) == (cb.lat_max == 90 || cb.lat_min == -90));
    }
    {
        /* Named cells: across the antimeridian and at the poles, precision 1. */
        char nb[8][DS_GEOHASH_MAX + 1];
        int n;
        CHECK(ds_geohash_neighbors("z", 1, nb, &n) == DS_OK && n == 5);
        /* z is the top-right cell: east wraps to b, no north */
        CHECK(!strcmp(nb[DS_GEO_E], "b") && !strcmp(nb[DS_GEO_W], "y") && !strcmp(nb[DS_GEO_S], "x"));
        CHECK(!strcmp(nb[DS_GEO_SE], "8") && !strcmp(nb[DS_GEO_SW], "w") && nb[DS_GEO_N][0] == 0);
        CHECK(ds_geohash_neighbors("0", 1, nb, &n) == DS_OK && n == 5);
        CHECK(!strcmp(nb[DS_GEO_W], "p") && !strcmp(nb[DS_GEO_N], "2") && !strcmp(nb[DS_GEO_NW], "r"));
        CHECK(nb[DS_GEO_S][0] == 0 && nb[DS_GEO_SE][0] == 0 && nb[DS_GEO_SW][0] == 0);
        CHECK(ds_geohash_neighbors("s0000", 5, nb, &n) == DS_OK && n == 8);
        CHECK(!strcmp(nb[DS_GEO_SW], "7zzzz") && !strcmp(nb[DS_GEO_W], "ebpbp") && !strcmp(nb[DS_GEO_S], "kpbpb"));
    }
}

void test_geo_neighbors(void) { prop_run("geo_neighbors", geo_neighbor_case, 20); }

/* The point at distance d (metres) and bearing t (radians) from (lat, lon):
 * the spherical destination formula (Veness). */
static void geo_dest(double lat, double lon, double d, double t, double *olat, double *olon) {
    double p1 = lat * PI / 180, l1 = lon * PI / 180, a = d / DS_GEO_EARTH_RADIUS_M;
    double s = sin(p1) * cos(a) + cos(p1) * sin(a) * cos(t), p2, l2;
    if (s > 1) s = 1;
    if (s < -1) s = -1;
    p2 = asin(s);
    l2 = l1 + atan2(sin(t) * sin(a) * cos(p1), cos(a) - sin(p1) * sin(p2));
    *olat = p2 * 180 / PI;
    *olon = remainder(l2 * 180 / PI, 360.0);
    if (*olat > 90) *olat = 90;
    if (*olat < -90) *olat = -90;
    if (*olon > 180) *olon = 180;
    if (*olon < -180) *olon = -180;
}

static void geo_cover_case(ds_rng *r, uint64_t seed) {
    int i;
    (void)seed;
    for (i = 0; i < 60; i++) {
        double lat = rand_coord(r, 90), lon = rand_coord(r, 180), rad;
        ds_geohash_cells c;
        ds_geo_box box;
        char own[DS_GEOHASH_MAX + 1];
        int j, k, hits = 0;
        switch (ds_rng_below(r, 5)) {
        case 0: lat = 90 - ds_rng_double(r) * 0.5; break;      /* near the north pole */
        case 1: lon = 180 - ds_rng_double(r) * 0.01; break;    /* at the antimeridian */
        case 2: lon = -180 + ds_rng_double(r) * 0.01; break;
        default: break;
        }
        rad = pow(10.0, ds_rng_double(r) * 7); /* 1 m .. 10,000 km */
        CHECK(ds_geohash_cover(lat, lon, rad, &c) == DS_OK);
        CHECK(ds_geo_circle_box(lat, lon, rad, &box) == DS_OK);
        CHECK(c.precision >= 1 && c.precision <= 12 && c.n >= 1 && c.n <= DS_GEOHASH_COVER_MAX);
        CHECKF(c.n <= 9 || c.precision == 1, "n %d at precision %d", c.n, c.precision);
        CHECK(ds_geohash_encode(lat, lon, c.precision, own) == DS_OK && !strcmp(own, c.cell[0]));
        for (j = 0; j < c.n; j++) {
            uint64_t h;
            CHECK(strlen(c.cell[j]) == (size_t)c.precision);
            CHECK(ds_geohash_to_int(c.cell[j], (size_t)c.precision, &h) == DS_OK && h == c.hash[j]);
            for (k = 0; k < j; k++) CHECK(c.hash[k] != c.hash[j]);
        }
        /* Every point within the radius is in the box and in a cover cell. */
        for (j = 0; j < 200; j++) {
            double plat, plon, d = rad * (j < 60 ? 1.0 : ds_rng_double(r)), dist, t = ds_rng_double(r) * 2 * PI;
            double ct = tan(rad / DS_GEO_EARTH_RADIUS_M) * tan(lat * PI / 180);
            char s[DS_GEOHASH_MAX + 1];
            /* the circle's extremes: due north and south, and the two
             * bearings of its extreme longitudes (cos t = tan d tan lat) */
            if (j < 10) t = (j % 2) * PI;
            else if (j < 20 && fabs(ct) <= 1) t = (j % 2 ? 1 : -1) * acos(ct);
            geo_dest(lat, lon, d, t, &plat, &plon);
            dist = ds_geo_distance(lat, lon, plat, plon);
            if (dist > rad) continue; /* rounding pushed it out: not required */
            hits++;
            CHECKF(plat >= box.lat_min && plat <= box.lat_max, "%.17g in %.17g..%.17g", plat, box.lat_min, box.lat_max);
            CHECKF(box.lon_min <= box.lon_max ? plon >= box.lon_min && plon <= box.lon_max
                                              : plon >= box.lon_min || plon <= box.lon_max,
                   "lon %.17g not in %.17g..%.17g (centre %.17g,%.17g r %.17g)", plon, box.lon_min,
                   box.lon_max, lat, lon, rad);
            CHECK(ds_geohash_encode(plat, plon, c.precision, s) == DS_OK);
            for (k = 0; k < c.n && strcmp(s, c.cell[k]); k++) {}
            CHECKF(k < c.n, "%.9g,%.9g (d %.3f of r %.3f) in %s: not in the %d cells", plat, plon, dist, rad, s, c.n);
        }
        CHECK(hits > 100);
    }
    {
        /* 500 m around Jutland: 6 characters, 9 cells (the cell and its 8). */
        ds_geohash_cells c;
        char nb[8][DS_GEOHASH_MAX + 1];
        int n, j, k;
        CHECK(ds_geohash_cover(57.64911, 10.40744, 500, &c) == DS_OK && c.precision == 6 && c.n == 9);
        CHECK(!strcmp(c.cell[0], "u4pruy") && ds_geohash_neighbors("u4pruy", 6, nb, &n) == DS_OK);
        for (j = 0; j < 8; j++) {
            for (k = 1; k < 9 && strcmp(nb[j], c.cell[k]); k++) {}
            CHECK(k < 9);
        }
        /* radius 0: the point's own cell at full precision */
        CHECK(ds_geohash_cover(57.64911, 10.40744, 0, &c) == DS_OK && c.precision == 12 && c.n == 1);
        /* the whole world: precision 1, all 32 cells */
        CHECK(ds_geohash_cover(0, 0, 3e7, &c) == DS_OK && c.precision == 1 && c.n == 32);
    }
}

void test_geo_cover(void) { prop_run("geo_cover", geo_cover_case, 10); }

void test_geo_bad_input(void) {
    char s[DS_GEOHASH_MAX + 1] = "unchanged", nb[8][DS_GEOHASH_MAX + 1];
    double v = 7;
    uint64_t h = 7;
    ds_geo_box b;
    ds_geohash_cells c;
    int n = -1;
    CHECK(ds_geohash_encode(90.0000001, 0, 5, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(-91, 0, 5, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(0, 180.0000001, 5, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(0, -180.5, 5, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(NAN, 0, 5, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(0, NAN, 5, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(INFINITY, 0, 5, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(0, 0, 0, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(0, 0, 13, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(0, 0, -1, s) == DS_EINVAL);
    CHECK(ds_geohash_encode(0, 0, 5, NULL) == DS_EINVAL);
    CHECK(!strcmp(s, "unchanged"));
    CHECK(ds_geohash_encode_int(0, 0, 0, &h) == DS_EINVAL && ds_geohash_encode_int(0, 0, 65, &h) == DS_EINVAL);
    CHECK(ds_geohash_encode_int(95, 0, 10, &h) == DS_EINVAL && h == 7);
    CHECK(ds_geohash_encode_int(0, 0, 10, NULL) == DS_EINVAL);
    /* decode: bad characters, lengths */
    CHECK(ds_geohash_decode("u4pa", 4, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode("u4pi", 4, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode("u4pl", 4, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode("u4po", 4, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode("U4PR", 4, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode("u4 r", 4, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode("u4\xc3\xa9", 4, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode("u4\0r", 4, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode("", 0, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode("u4pruydqqvjxx", 13, &v, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_geohash_decode(NULL, 3, &v, NULL, NULL, NULL) == DS_EINVAL && v == 7);
    CHECK(ds_geohash_decode("u4p", 3, NULL, NULL, NULL, NULL) == DS_OK);
    CHECK(ds_geohash_bbox("u4p", 3, NULL) == DS_EINVAL && ds_geohash_bbox("a", 1, &b) == DS_EINVAL);
    CHECK(ds_geohash_to_int("u4p!", 4, &h) == DS_EINVAL && h == 7);
    CHECK(ds_geohash_bbox_int(4, 2, &b) == DS_EINVAL && ds_geohash_bbox_int(0, 0, &b) == DS_EINVAL);
    CHECK(ds_geohash_bbox_int(0, 65, &b) == DS_EINVAL && ds_geohash_bbox_int(UINT64_MAX, 64, &b) == DS_OK);
    CHECK(ds_geohash_from_int(32, 1, s) == DS_EINVAL && ds_geohash_from_int(0, 13, s) == DS_EINVAL);
    CHECK(ds_geohash_from_int(0, 0, s) == DS_EINVAL && ds_geohash_from_int(0, 3, NULL) == DS_EINVAL);
    /* neighbours */
    CHECK(ds_geohash_neighbor("u4p", 3, 8, s) == DS_EINVAL && ds_geohash_neighbor("u4p", 3, -1, s) == DS_EINVAL);
    CHECK(ds_geohash_neighbor("u4o", 3, 0, s) == DS_EINVAL && ds_geohash_neighbor("u4p", 3, 0, NULL) == DS_EINVAL);
    CHECK(ds_geohash_neighbor_int(1u << 5, 5, 0, &h) == DS_EINVAL && ds_geohash_neighbor_int(0, 5, 9, &h) == DS_EINVAL);
    CHECK(ds_geohash_neighbor_int(0, 0, 0, &h) == DS_EINVAL && h == 7);
    CHECK(ds_geohash_neighbors("u4pl", 4, nb, &n) == DS_EINVAL && n == -1);
    CHECK(ds_geohash_neighbors("u4p", 3, NULL, &n) == DS_EINVAL);
    CHECK(ds_geohash_neighbors("u4p", 3, nb, NULL) == DS_OK);
    /* cover and box */
    CHECK(ds_geohash_cover(0, 0, -1, &c) == DS_EINVAL && ds_geohash_cover(0, 0, NAN, &c) == DS_EINVAL);
    CHECK(ds_geohash_cover(0, 0, INFINITY, &c) == DS_EINVAL && ds_geohash_cover(91, 0, 10, &c) == DS_EINVAL);
    CHECK(ds_geohash_cover(0, NAN, 10, &c) == DS_EINVAL && ds_geohash_cover(0, 0, 10, NULL) == DS_EINVAL);
    CHECK(ds_geo_circle_box(0, 0, -0.5, &b) == DS_EINVAL && ds_geo_circle_box(0, 181, 1, &b) == DS_EINVAL);
    CHECK(ds_geo_circle_box(0, 0, 1, NULL) == DS_EINVAL);
    /* a huge but finite radius is the whole world */
    CHECK(ds_geo_circle_box(10, 10, 1e200, &b) == DS_OK && b.lat_min == -90 && b.lat_max == 90 &&
          b.lon_min == -180 && b.lon_max == 180);
    /* the antimeridian: 10 km around (0, 179.99) wraps */
    CHECK(ds_geo_circle_box(0, 179.99, 10000, &b) == DS_OK && b.lon_min > b.lon_max &&
          b.lon_min < 179.99 && b.lon_max > -180 && b.lon_max < -179.9);
    /* a pole inside: every longitude */
    CHECK(ds_geo_circle_box(-89.95, 3, 10000, &b) == DS_OK && b.lat_min == -90 && b.lon_min == -180 &&
          b.lon_max == 180);
}

/* ======================================================================
 * quadtree
 * ====================================================================== */

typedef struct qpt {
    double x, y;
    uint64_t id;
} qpt;

typedef struct qmodel {
    qpt *p;
    size_t n, cap;
} qmodel;

static int qm_push(qmodel *m, double x, double y, uint64_t id) {
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 256;
        qpt *np = (qpt *)realloc(m->p, nc * sizeof *np);
        if (!np) return 0;
        m->p = np;
        m->cap = nc;
    }
    m->p[m->n].x = x;
    m->p[m->n].y = y;
    m->p[m->n].id = id;
    m->n++;
    return 1;
}

static int qm_find(const qmodel *m, double x, double y, uint64_t id) {
    size_t i;
    for (i = 0; i < m->n; i++)
        if (m->p[i].id == id && m->p[i].x == x && m->p[i].y == y) return (int)i;
    return -1;
}

static int qpt_cmp(const void *a, const void *b) {
    const qpt *p = (const qpt *)a, *q = (const qpt *)b;
    if (p->id != q->id) return p->id < q->id ? -1 : 1;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    return 0;
}

/* The tree's invariants: counts add up, every point inside its node's box,
 * every bucket but a chain's head full, chains only at max_depth, every
 * internal node above merge_at. Returns the number of points seen. */
static long qt_walk(const ds_quadtree *q, uint32_t ni, uint32_t depth, double x0, double y0,
                    double x1, double y1, int *bad) {
    const ds__qtnode *nd = &q->node[ni];
    long n = 0;
    if (nd->kids != UINT32_MAX) {
        double mx = x0 * 0.5 + x1 * 0.5, my = y0 * 0.5 + y1 * 0.5;
        uint32_t g = nd->kids;
        if (nd->count <= q->merge_at || depth >= q->max_depth || nd->blk != UINT32_MAX) *bad = 1;
        n += qt_walk(q, g, depth + 1, x0, y0, mx, my, bad);
        n += qt_walk(q, g + 1, depth + 1, mx, y0, x1, my, bad);
        n += qt_walk(q, g + 2, depth + 1, x0, my, mx, y1, bad);
        n += qt_walk(q, g + 3, depth + 1, mx, my, x1, y1, bad);
    } else {
        uint32_t b = nd->blk, first = 1;
        while (b != UINT32_MAX) {
            const uint32_t *h = (const uint32_t *)(const void *)(q->blk + (size_t)b * q->blk_stride);
            const double *bx = (const double *)(const void *)(h + 2), *by = bx + q->bucket;
            uint32_t i;
            if (h[1] == 0 || h[1] > q->bucket || (!first && h[1] != q->bucket)) *bad = 2;
            for (i = 0; i < h[1]; i++) {
                if (!(bx[i] >= x0 && by[i] >= y0 && bx[i] <= x1 && by[i] <= y1)) *bad = 3;
                if ((bx[i] == x1 && x1 != q->x1) || (by[i] == y1 && y1 != q->y1)) *bad = 4; /* [lo, mid) */
            }
            n += h[1];
            first = 0;
            b = h[0];
        }
        if (n > (long)q->bucket && depth < q->max_depth) *bad = 5;
    }
    if ((long)nd->count != n) *bad = 6;
    return n;
}

static int qt_check(const ds_quadtree *q) {
    int bad = 0;
    if (q->len == 0) return 0;
    if (qt_walk(q, 0, 0, q->x0, q->y0, q->x1, q->y1, &bad) != (long)q->len) return 7;
    return bad;
}

typedef struct qcollect {
    qpt *p;
    size_t n, cap, stop_at;
} qcollect;

static int qc_fn(void *ctx, uint64_t id, double x, double y) {
    qcollect *c = (qcollect *)ctx;
    if (c->n < c->cap) {
        c->p[c->n].x = x;
        c->p[c->n].y = y;
        c->p[c->n].id = id;
    }
    c->n++;
    return c->stop_at && c->n >= c->stop_at;
}

/* Sorted copies of a result and of the model's answer must be equal. */
static int q_same(qpt *a, size_t na, qpt *b, size_t nb) {
    size_t i;
    if (na != nb) return 0;
    if (na == 0) return 1;
    qsort(a, na, sizeof *a, qpt_cmp);
    qsort(b, nb, sizeof *b, qpt_cmp);
    for (i = 0; i < na; i++)
        if (qpt_cmp(&a[i], &b[i])) return 0;
    return 1;
}

typedef struct qhit {
    double d2;
    qpt p;
} qhit;
static int qhit_cmp(const void *a, const void *b) {
    const qhit *p = (const qhit *)a, *q = (const qhit *)b;
    if (p->d2 != q->d2) return p->d2 < q->d2 ? -1 : 1;
    return qpt_cmp(&p->p, &q->p);
}

/* Every query at (x, y) against the model: rect, radius, kNN. Returns 0 if
 * all agree. */
static int q_queries(const ds_quadtree *q, const qmodel *m, ds_rng *r, double x, double y, double w,
                     double h, double rad, size_t k) {
    size_t n = m->n, i, got, want;
    qpt *a = (qpt *)malloc((n + 1) * sizeof *a), *b = (qpt *)malloc((n + 1) * sizeof *b);
    ds_qt_point *o = (ds_qt_point *)malloc((n + 1) * sizeof *o);
    ds_qt_hit *kh = (ds_qt_hit *)malloc((k + 1) * sizeof *kh);
    qhit *all = (qhit *)malloc((n + 1) * sizeof *all);
    qcollect c;
    int ok = 0;
    if (!a || !b || !o || !kh || !all) goto done;
    /* rect by callback */
    c.p = a;
    c.n = 0;
    c.cap = n + 1;
    c.stop_at = 0;
    if (ds_quadtree_rect(q, x, y, x + w, y + h, qc_fn, &c, &got) != DS_OK || got != c.n) goto done;
    for (i = want = 0; i < n; i++)
        if (m->p[i].x >= x && m->p[i].x <= x + w && m->p[i].y >= y && m->p[i].y <= y + h) b[want++] = m->p[i];
    if (!q_same(a, c.n, b, want)) { fprintf(stderr, "    rect: %zu vs %zu\n", c.n, want); goto done; }
    /* rect into a buffer, whole and truncated */
    if (ds_quadtree_rect_into(q, x, y, x + w, y + h, o, n + 1, &got) != DS_OK || got != want) goto done;
    for (i = 0; i < got; i++) { a[i].x = o[i].x; a[i].y = o[i].y; a[i].id = o[i].id; }
    if (!q_same(a, got, b, want)) goto done;
    if (want > 1) {
        size_t cap = (size_t)ds_rng_below(r, want);
        if (ds_quadtree_rect_into(q, x, y, x + w, y + h, o, cap, &got) != DS_OK || got != want) goto done;
        for (i = 0; i < cap; i++) { /* each of the first cap is a real match */
            qpt t;
            t.x = o[i].x; t.y = o[i].y; t.id = o[i].id;
            if (!bsearch(&t, b, want, sizeof *b, qpt_cmp)) goto done;
        }
        /* stop early */
        c.n = 0;
        c.stop_at = 1 + (size_t)ds_rng_below(r, want);
        if (ds_quadtree_rect(q, x, y, x + w, y + h, qc_fn, &c, &got) != DS_OK || got != c.stop_at) goto done;
    }
    /* radius */
    c.n = 0;
    c.stop_at = 0;
    if (ds_quadtree_radius(q, x, y, rad, qc_fn, &c, &got) != DS_OK || got != c.n) goto done;
    for (i = want = 0; i < n; i++) {
        double dx = m->p[i].x - x, dy = m->p[i].y - y;
        if (dx * dx + dy * dy <= rad * rad) b[want++] = m->p[i];
    }
    if (!q_same(a, c.n, b, want)) { fprintf(stderr, "    radius: %zu vs %zu\n", c.n, want); goto done; }
    if (ds_quadtree_radius_into(q, x, y, rad, NULL, 0, &got) != DS_OK || got != want) goto done;
    /* kNN: the model sorted by (d^2, id, x, y) */
    for (i = 0; i < n; i++) {
        double dx = m->p[i].x - x, dy = m->p[i].y - y;
        all[i].d2 = dx * dx + dy * dy;
        all[i].p = m->p[i];
    }
    qsort(all, n, sizeof *all, qhit_cmp);
    if (ds_quadtree_knn(q, x, y, k, kh, &got) != DS_OK || got != (k < n ? k : n)) {
        fprintf(stderr, "    knn: found %zu of k %zu, n %zu\n", got, k, n);
        goto done;
    }
    for (i = 0; i < got; i++) {
        if (kh[i].id != all[i].p.id || kh[i].x != all[i].p.x || kh[i].y != all[i].p.y ||
            kh[i].dist != sqrt(all[i].d2)) {
            fprintf(stderr, "    knn[%zu]: id %llu (%.17g,%.17g) vs id %llu (%.17g,%.17g)\n", i,
                    (unsigned long long)kh[i].id, kh[i].x, kh[i].y, (unsigned long long)all[i].p.id,
                    all[i].p.x, all[i].p.y);
            goto done;
        }
    }
    ok = 1;
done:
    free(a);
    free(b);
    free(o);
    free(kh);
    free(all);
    return !ok;
}

/* A point: uniform, clustered, on a coarse grid (duplicates), or on the
 * boundary. */
static void q_rand_point(ds_rng *r, const ds_quadtree *q, int mode, double *x, double *y) {
    double w = q->x1 - q->x0, h = q->y1 - q->y0;
    switch (mode == 3 ? ds_rng_below(r, 4) : (uint64_t)mode) {
    case 0:
        *x = q->x0 + ds_rng_double(r) * w;
        *y = q->y0 + ds_rng_double(r) * h;
        break;
    case 1: { /* a few tight clusters */
        uint64_t k = ds_rng_below(r, 3);
        *x = q->x0 + w * (0.2 + 0.3 * (double)k) + ds_rng_double(r) * w * 1e-6;
        *y = q->y0 + h * (0.7 - 0.25 * (double)k) + ds_rng_double(r) * h * 1e-6;
        break;
    }
    case 2:
        *x = q->x0 + w * (double)ds_rng_below(r, 5) / 4; /* includes both edges */
        *y = q->y0 + h * (double)ds_rng_below(r, 5) / 4;
        break;
    default:
        *x = ds_rng_below(r, 2) ? q->x1 : q->x0 + ds_rng_double(r) * w;
        *y = ds_rng_below(r, 2) ? q->y0 : q->y1;
        break;
    }
    if (*x > q->x1) *x = q->x1;
    if (*y > q->y1) *y = q->y1;
}

static void quad_case(ds_rng *r, uint64_t seed) {
    static const uint32_t buckets[] = {1, 2, 3, 8, 16, 32};
    ds_quadtree_config cfg;
    ds_quadtree q;
    qmodel m = {NULL, 0, 0};
    int step, steps = 300 + (int)ds_rng_below(r, 900), mode = (int)ds_rng_below(r, 4);
    uint64_t next_id = 1;
    (void)seed;
    memset(&cfg, 0, sizeof cfg);
    cfg.x_min = -1000 + ds_rng_double(r) * 10;
    cfg.y_min = ds_rng_double(r) * 5;
    cfg.x_max = cfg.x_min + 0.001 + ds_rng_double(r) * 2000;
    cfg.y_max = cfg.y_min + 0.001 + ds_rng_double(r) * 2000;
    cfg.bucket = buckets[ds_rng_below(r, 6)];
    cfg.max_depth = ds_rng_below(r, 3) ? 0 : 1 + (uint32_t)ds_rng_below(r, 10);
    CHECK(ds_quadtree_init(&q, &cfg) == DS_OK);
    for (step = 0; step < steps; step++) {
        uint64_t op = ds_rng_below(r, 100);
        double x, y;
        if (op < 3) { /* a batch, all or nothing */
            ds_qt_point batch[64];
            size_t nb = (size_t)ds_rng_below(r, 64), j;
            for (j = 0; j < nb; j++) {
                q_rand_point(r, &q, mode, &batch[j].x, &batch[j].y);
                batch[j].id = ds_rng_below(r, 8) ? next_id++ : ds_rng_below(r, next_id + 1);
            }
            if (nb && ds_rng_below(r, 4) == 0) { /* one bad point: nothing goes in */
                size_t bad = (size_t)ds_rng_below(r, nb);
                double keep = batch[bad].x;
                batch[bad].x = ds_rng_below(r, 2) ? NAN : q.x1 + (q.x1 - q.x0);
                CHECK(ds_quadtree_add_many(&q, batch, nb) == DS_EINVAL);
                batch[bad].x = keep;
            }
            CHECK(ds_quadtree_add_many(&q, batch, nb) == DS_OK);
            for (j = 0; j < nb; j++) CHECK(qm_push(&m, batch[j].x, batch[j].y, batch[j].id));
        } else if (op < 5) {
            CHECK(ds_quadtree_compact(&q) == DS_OK);
            CHECK(q.node_free == UINT32_MAX && q.blk_free == UINT32_MAX && q.node_cap == q.node_hw);
        } else if (op < 55 || m.n == 0) {
            q_rand_point(r, &q, mode, &x, &y);
            /* ids: mostly fresh, sometimes repeated */
            {
                uint64_t id = ds_rng_below(r, 8) ? next_id++ : ds_rng_below(r, next_id + 1);
                CHECK(ds_quadtree_add(&q, x, y, id) == DS_OK);
                CHECK(qm_push(&m, x, y, id));
            }
        } else if (op < 80) {
            size_t i = (size_t)ds_rng_below(r, m.n);
            qpt p = m.p[i];
            CHECK(ds_quadtree_del(&q, p.x, p.y, p.id) == DS_OK);
            m.p[i] = m.p[--m.n];
            if (ds_rng_below(r, 4) == 0) { /* absent: a fresh id, or a moved position */
                if (qm_find(&m, p.x, p.y, p.id) < 0) CHECK(ds_quadtree_del(&q, p.x, p.y, p.id) == DS_ENOTFOUND);
                CHECK(ds_quadtree_del(&q, p.x, p.y, next_id + 5) == DS_ENOTFOUND);
            }
        } else if (op < 92) {
            size_t i = (size_t)ds_rng_below(r, m.n);
            qpt p = m.p[i];
            if (ds_rng_below(r, 2)) { /* a small step: often the same leaf */
                x = p.x + (ds_rng_double(r) - 0.5) * (q.x1 - q.x0) * 1e-3;
                y = p.y + (ds_rng_double(r) - 0.5) * (q.y1 - q.y0) * 1e-3;
                if (x < q.x0) x = q.x0;
                if (x > q.x1) x = q.x1;
                if (y < q.y0) y = q.y0;
                if (y > q.y1) y = q.y1;
            } else {
                q_rand_point(r, &q, mode, &x, &y);
            }
            CHECK(ds_quadtree_move(&q, p.id, p.x, p.y, x, y) == DS_OK);
            m.p[i].x = x;
            m.p[i].y = y;
        } else {
            double qx, qy, w, h, rad;
            size_t k = 1 + (size_t)ds_rng_below(r, ds_rng_below(r, 4) ? 16 : m.n + 3);
            if (ds_rng_below(r, 2)) q_rand_point(r, &q, mode, &qx, &qy);
            else { qx = q.x0 + (ds_rng_double(r) * 1.4 - 0.2) * (q.x1 - q.x0); qy = q.y0 + (ds_rng_double(r) * 1.4 - 0.2) * (q.y1 - q.y0); }
            w = (q.x1 - q.x0) * pow(ds_rng_double(r), 3);
            h = (q.y1 - q.y0) * pow(ds_rng_double(r), 3);
            rad = (q.x1 - q.x0) * pow(ds_rng_double(r), 3) * 0.5;
            if (ds_rng_below(r, 10) == 0) w = h = rad = 0; /* exact hits only */
            CHECKF(!q_queries(&q, &m, r, qx - w / 2, qy - h / 2, w, h, rad, k), "queries at step %d (n %zu, bucket %u, depth %u)", step, m.n, q.bucket, q.max_depth);
        }
        CHECK(ds_quadtree_len(&q) == m.n);
        if (step % 16 == 0) CHECKF(qt_check(&q) == 0, "invariant %d at step %d", qt_check(&q), step);
    }
    CHECK(qt_check(&q) == 0);
    /* the whole rectangle is everything */
    CHECK(!q_queries(&q, &m, r, q.x0, q.y0, q.x1 - q.x0, q.y1 - q.y0, INFINITY, m.n + 1));
    /* drain: every point removes, the tree folds back to one empty leaf */
    while (m.n) {
        size_t i = (size_t)ds_rng_below(r, m.n);
        CHECK(ds_quadtree_del(&q, m.p[i].x, m.p[i].y, m.p[i].id) == DS_OK);
        m.p[i] = m.p[--m.n];
    }
    CHECK(ds_quadtree_len(&q) == 0 && q.node[0].kids == UINT32_MAX && q.node[0].blk == UINT32_MAX);
    ds_quadtree_free(&q);
    free(m.p);
}

void test_quad_model(void) { prop_run("quad_model", quad_case, 30); }

/* Ties: points on a 9 x 9 grid (several ids a position, in random order),
 * queried at grid points and between them, where many points are equally
 * far and sit on the near edges of the boxes around them: kNN must still
 * give the smallest ids among the tied, for every k. */
static void quad_ties_case(ds_rng *r, uint64_t seed) {
    ds_quadtree_config cfg;
    ds_quadtree q;
    qmodel m = {NULL, 0, 0};
    int i, j;
    (void)seed;
    memset(&cfg, 0, sizeof cfg);
    cfg.x_max = cfg.y_max = 8;
    cfg.bucket = 1 + (uint32_t)ds_rng_below(r, 3);
    CHECK(ds_quadtree_init(&q, &cfg) == DS_OK);
    for (i = 0; i < 300; i++) {
        double x = (double)ds_rng_below(r, 9), y = (double)ds_rng_below(r, 9);
        uint64_t id = ds_rng_below(r, 1000);
        CHECK(ds_quadtree_add(&q, x, y, id) == DS_OK && qm_push(&m, x, y, id));
    }
    for (i = 0; i < 25; i++) {
        double x = (double)ds_rng_below(r, 17) / 2, y = (double)ds_rng_below(r, 17) / 2;
        for (j = 1; j <= 40; j += 1 + (int)ds_rng_below(r, 3))
            CHECKF(!q_queries(&q, &m, r, x, y, 1, 1, 1.5, (size_t)j), "query %g,%g k %d", x, y, j);
    }
    ds_quadtree_free(&q);
    free(m.p);
}

void test_quad_knn_ties(void) { prop_run("quad_knn_ties", quad_ties_case, 6); }

/* kNN against brute force, every answer in full (ids, positions, distances,
 * the tie order): many k on both sides of the sorted-array limit (128) and
 * past n, uniform, clustered, on a grid (ties), with duplicates, near the
 * origin at subnormal squared distances, a tight cluster beside one far point (the first k's distances all but one
 * near 0), on trees built by add_many or single adds, and again after
 * deleting part of the points. Returns 0 if all agree. */
static int qk_check(const ds_quadtree *q, const qmodel *m, double x, double y, size_t k) {
    qhit *all = (qhit *)malloc((m->n + 1) * sizeof *all);
    ds_qt_hit *kh = (ds_qt_hit *)malloc((k + 1) * sizeof *kh);
    size_t i, got = 99, want = k < m->n ? k : m->n;
    int ok = 0;
    if (!all || !kh) goto done;
    for (i = 0; i < m->n; i++) {
        double dx = m->p[i].x - x, dy = m->p[i].y - y;
        all[i].d2 = dx * dx + dy * dy;
        all[i].p = m->p[i];
    }
    qsort(all, m->n, sizeof *all, qhit_cmp);
    if (ds_quadtree_knn(q, x, y, k, kh, &got) != DS_OK || got != want) {
        fprintf(stderr, "    knn k %zu: found %zu, want %zu\n", k, got, want);
        goto done;
    }
    for (i = 0; i < got; i++) {
        if (kh[i].id != all[i].p.id || kh[i].x != all[i].p.x || kh[i].y != all[i].p.y ||
            kh[i].dist != sqrt(all[i].d2)) {
            fprintf(stderr, "    knn k %zu at (%.17g,%.17g) [%zu]: id %llu (%.17g,%.17g) vs id %llu (%.17g,%.17g)\n",
                    k, x, y, i, (unsigned long long)kh[i].id, kh[i].x, kh[i].y,
                    (unsigned long long)all[i].p.id, all[i].p.x, all[i].p.y);
            goto done;
        }
    }
    ok = 1;
done:
    free(all);
    free(kh);
    return !ok;
}

static void quad_knn_brute_case(ds_rng *r, uint64_t seed) {
    static const uint32_t buckets[] = {1, 3, 8, 32, 64, 256};
    static const size_t ks[] = {1, 2, 3, 10, 31, 100, 127, 128, 129, 200, 500};
    ds_quadtree_config cfg;
    ds_quadtree q;
    qmodel m = {NULL, 0, 0};
    ds_qt_point *pts;
    size_t n = 1 + (size_t)ds_rng_below(r, ds_rng_below(r, 3) ? 700 : 3000), i, j, round;
    int mode = (int)ds_rng_below(r, 6);
    (void)seed;
    memset(&cfg, 0, sizeof cfg);
    cfg.x_max = cfg.y_max = 1;
    cfg.bucket = buckets[ds_rng_below(r, 6)];
    CHECK(ds_quadtree_init(&q, &cfg) == DS_OK);
    pts = (ds_qt_point *)malloc(n * sizeof *pts);
    CHECK(pts != NULL);
    for (i = 0; i < n; i++) {
        double x, y;
        switch (mode) {
        case 0: /* uniform */
            x = ds_rng_double(r);
            y = ds_rng_double(r);
            break;
        case 1: /* 5 clusters */
            j = (size_t)ds_rng_below(r, 5);
            x = 0.1 + 0.19 * (double)j + ds_rng_double(r) * 1e-3;
            y = 0.9 - 0.17 * (double)j + ds_rng_double(r) * 1e-3;
            break;
        case 2: /* a 7 x 7 grid: many equal distances */
            x = (double)ds_rng_below(r, 7) / 6;
            y = (double)ds_rng_below(r, 7) / 6;
            break;
        case 3: /* duplicates: 3 positions */
            x = y = 0.25 * (double)(1 + ds_rng_below(r, 3));
            break;
        case 4: /* near the origin, 1e-160 apart: squared distances subnormal */
            x = ds_rng_double(r) * 1e-158;
            y = ds_rng_double(r) * 1e-158;
            break;
        default: /* one tight cluster and one far point */
            x = i == 0 ? 1.0 : 0.5 + ds_rng_double(r) * 1e-9;
            y = i == 0 ? 0.0 : 0.5 + ds_rng_double(r) * 1e-9;
            break;
        }
        pts[i].x = x;
        pts[i].y = y;
        pts[i].id = ds_rng_below(r, 4) ? (uint64_t)i : ds_rng_below(r, n); /* some ids repeat */
        CHECK(qm_push(&m, x, y, pts[i].id));
    }
    if (ds_rng_below(r, 2)) {
        CHECK(ds_quadtree_add_many(&q, pts, n) == DS_OK);
    } else {
        for (i = 0; i < n; i++) CHECK(ds_quadtree_add(&q, pts[i].x, pts[i].y, pts[i].id) == DS_OK);
    }
    for (round = 0; round < 2; round++) {
        for (i = 0; i < 12; i++) {
            double x, y;
            size_t kk;
            if (i < 6 && m.n) { /* at a point, or just beside one */
                qpt p = m.p[ds_rng_below(r, m.n)];
                x = p.x + (i & 1 ? (ds_rng_double(r) - 0.5) * 1e-4 : 0);
                y = p.y + (i & 1 ? (ds_rng_double(r) - 0.5) * 1e-4 : 0);
            } else { /* anywhere, outside the bounds too */
                x = ds_rng_double(r) * 1.4 - 0.2;
                y = ds_rng_double(r) * 1.4 - 0.2;
            }
            for (kk = 0; kk < sizeof ks / sizeof ks[0]; kk++)
                CHECKF(!qk_check(&q, &m, x, y, ks[kk]), "mode %d n %zu bucket %u round %zu", mode,
                       m.n, q.bucket, round);
            CHECKF(!qk_check(&q, &m, x, y, m.n + (size_t)ds_rng_below(r, 3)), "k >= n, mode %d", mode);
            if (m.n > 1) CHECK(!qk_check(&q, &m, x, y, m.n - 1));
        }
        /* delete about half, then again */
        for (i = m.n / 2; i > 0 && m.n; i--) {
            size_t d = (size_t)ds_rng_below(r, m.n);
            CHECK(ds_quadtree_del(&q, m.p[d].x, m.p[d].y, m.p[d].id) == DS_OK);
            m.p[d] = m.p[--m.n];
        }
    }
    ds_quadtree_free(&q);
    free(pts);
    free(m.p);
}

void test_quad_knn_brute(void) { prop_run("quad_knn_brute", quad_knn_brute_case, 40); }

/* Thousands of points at one position (and a few elsewhere): chains at
 * max_depth, kNN ties by id, removal down to nothing. */
void test_quad_duplicates(void) {
    ds_quadtree_config cfg;
    ds_quadtree q;
    ds_qt_hit hits[40];
    size_t n, i, nodes_full;
    uint64_t id;
    memset(&cfg, 0, sizeof cfg);
    cfg.x_max = cfg.y_max = 1;
    cfg.bucket = 8;
    CHECK(ds_quadtree_init(&q, &cfg) == DS_OK);
    for (id = 5000; id > 0; id--) CHECK(ds_quadtree_add(&q, 0.3, 0.3, id) == DS_OK); /* ids descending */
    CHECK(ds_quadtree_add(&q, 0.9, 0.9, 9001) == DS_OK && ds_quadtree_add(&q, 0.3, 0.30001, 9002) == DS_OK);
    CHECK(ds_quadtree_len(&q) == 5002 && qt_check(&q) == 0);
    nodes_full = q.node_hw;
    CHECK(nodes_full <= 4 * 32 + 1); /* one cascade down to max_depth, not one per point */
    CHECK(ds_quadtree_knn(&q, 0.3, 0.3, 40, hits, &n) == DS_OK && n == 40);
    for (i = 0; i < 40; i++) CHECK(hits[i].id == i + 1 && hits[i].dist == 0); /* ties by id */
    CHECK(ds_quadtree_knn(&q, 0.9, 0.9, 2, hits, &n) == DS_OK && n == 2 && hits[0].id == 9001 && hits[1].id == 9002);
    CHECK(ds_quadtree_rect_into(&q, 0.3, 0.3, 0.3, 0.3, NULL, 0, &n) == DS_OK && n == 5000);
    CHECK(ds_quadtree_radius_into(&q, 0.3, 0.3, 1e-4, NULL, 0, &n) == DS_OK && n == 5001);
    CHECK(ds_quadtree_move(&q, 77, 0.3, 0.3, 0.31, 0.3) == DS_OK);
    CHECK(ds_quadtree_rect_into(&q, 0.3, 0.3, 0.3, 0.3, NULL, 0, &n) == DS_OK && n == 4999);
    CHECK(ds_quadtree_move(&q, 77, 0.3, 0.3, 0.31, 0.3) == DS_ENOTFOUND);
    CHECK(qt_check(&q) == 0);
    for (id = 1; id <= 5000; id++)
        if (id != 77) CHECK(ds_quadtree_del(&q, 0.3, 0.3, id) == DS_OK);
    CHECK(ds_quadtree_del(&q, 0.3, 0.3, 1) == DS_ENOTFOUND);
    CHECK(ds_quadtree_len(&q) == 3 && qt_check(&q) == 0);
    CHECK(q.node[0].kids == UINT32_MAX); /* folded back into the root leaf */
    /* the pools are reused: refilling needs no new nodes */
    for (id = 1; id <= 5000; id++) CHECK(ds_quadtree_add(&q, 0.3, 0.3, id) == DS_OK);
    CHECK(q.node_hw == nodes_full && qt_check(&q) == 0);
    ds_quadtree_clear(&q);
    CHECK(ds_quadtree_len(&q) == 0 && ds_quadtree_knn(&q, 0, 0, 3, hits, &n) == DS_OK && n == 0);
    CHECK(ds_quadtree_memory(&q) > 0);
    CHECK(ds_quadtree_add(&q, 1, 1, 1) == DS_OK && ds_quadtree_len(&q) == 1);
    ds_quadtree_free(&q);
    CHECK(ds_quadtree_memory(&q) == 0 && ds_quadtree_len(&q) == 0);
    /* max_depth 1 and bucket 1: long chains in four leaves */
    cfg.bucket = 1;
    cfg.max_depth = 1;
    CHECK(ds_quadtree_init(&q, &cfg) == DS_OK);
    for (id = 0; id < 400; id++) CHECK(ds_quadtree_add(&q, (double)(id % 7) / 6, (double)(id % 5) / 4, id) == DS_OK);
    CHECK(qt_check(&q) == 0 && ds_quadtree_knn(&q, 0, 0, 400, NULL, &n) == DS_EINVAL);
    {
        ds_qt_hit *all = (ds_qt_hit *)malloc(400 * sizeof *all);
        CHECK(all != NULL);
        CHECK(ds_quadtree_knn(&q, 0.5, 0.5, 1000, all, &n) == DS_OK && n == 400);
        for (i = 1; i < n; i++)
            CHECK(all[i - 1].dist < all[i].dist || (all[i - 1].dist == all[i].dist && all[i - 1].id < all[i].id));
        free(all);
    }
    ds_quadtree_free(&q);
}

static int q_never(void *ctx, uint64_t id, double x, double y) {
    (void)ctx; (void)id; (void)x; (void)y;
    return 0;
}

void test_quad_bad_input(void) {
    ds_quadtree_config cfg;
    ds_quadtree q;
    ds_qt_hit h[2];
    ds_qt_point pt[2];
    size_t n = 99;
    int i;
    memset(&cfg, 0, sizeof cfg);
    CHECK(ds_quadtree_init(&q, &cfg) == DS_EINVAL); /* empty bounds */
    for (i = 0; i < 9; i++) {
        memset(&cfg, 0, sizeof cfg);
        cfg.x_max = cfg.y_max = 1;
        switch (i) {
        case 0: cfg.x_min = 2; break;
        case 1: cfg.y_max = 0; break;
        case 2: cfg.x_min = NAN; break;
        case 3: cfg.y_max = INFINITY; break;
        case 4: cfg.x_min = -INFINITY; break;
        case 5: cfg.bucket = 257; break;
        case 6: cfg.max_depth = 41; break;
        case 7: cfg.y_min = NAN; break;
        default: cfg.x_max = NAN; break;
        }
        CHECKF(ds_quadtree_init(&q, &cfg) == DS_EINVAL, "config %d", i);
    }
    CHECK(ds_quadtree_init(NULL, &cfg) == DS_EINVAL && ds_quadtree_init(&q, NULL) == DS_EINVAL);
    memset(&cfg, 0, sizeof cfg);
    cfg.x_min = -1;
    cfg.y_min = -2;
    cfg.x_max = 1;
    cfg.y_max = 2;
    cfg.bucket = 256;
    cfg.max_depth = 40;
    CHECK(ds_quadtree_init(&q, &cfg) == DS_OK && q.bucket == 256);
    ds_quadtree_free(&q);
    cfg.bucket = 0;
    cfg.max_depth = 0;
    CHECK(ds_quadtree_init(&q, &cfg) == DS_OK && q.bucket == 32 && q.max_depth == 32);
    CHECK(ds_quadtree_memory(&q) == 0); /* init allocates nothing */
    /* queries on an empty tree */
    CHECK(ds_quadtree_rect(&q, -1, -1, 1, 1, q_never, NULL, &n) == DS_OK && n == 0);
    CHECK(ds_quadtree_knn(&q, 0, 0, 2, h, &n) == DS_OK && n == 0);
    CHECK(ds_quadtree_del(&q, 0, 0, 1) == DS_ENOTFOUND && ds_quadtree_move(&q, 1, 0, 0, 0, 0) == DS_ENOTFOUND);
    /* outside, NaN */
    CHECK(ds_quadtree_add(&q, 1.0000001, 0, 1) == DS_EINVAL);
    CHECK(ds_quadtree_add(&q, 0, -2.5, 1) == DS_EINVAL);
    CHECK(ds_quadtree_add(&q, NAN, 0, 1) == DS_EINVAL && ds_quadtree_add(&q, 0, NAN, 1) == DS_EINVAL);
    CHECK(ds_quadtree_add(&q, INFINITY, 0, 1) == DS_EINVAL && ds_quadtree_add(NULL, 0, 0, 1) == DS_EINVAL);
    CHECK(ds_quadtree_len(&q) == 0);
    CHECK(ds_quadtree_add(&q, 1, 2, 1) == DS_OK && ds_quadtree_add(&q, -1, -2, 2) == DS_OK); /* corners are in */
    CHECK(ds_quadtree_del(&q, 5, 5, 1) == DS_EINVAL && ds_quadtree_del(&q, 1, 2, 3) == DS_ENOTFOUND);
    CHECK(ds_quadtree_del(&q, 1, 1.9, 1) == DS_ENOTFOUND && ds_quadtree_del(NULL, 1, 2, 1) == DS_EINVAL);
    CHECK(ds_quadtree_move(&q, 1, 1, 2, 1, 3) == DS_EINVAL && ds_quadtree_move(&q, 1, 1, 3, 1, 1) == DS_EINVAL);
    CHECK(ds_quadtree_move(&q, 1, 1, 2, NAN, 1) == DS_EINVAL && ds_quadtree_move(&q, 9, 1, 2, 0, 0) == DS_ENOTFOUND);
    CHECK(ds_quadtree_len(&q) == 2);
    /* bad query shapes */
    n = 99;
    CHECK(ds_quadtree_rect(&q, 1, 0, 0, 1, q_never, NULL, &n) == DS_EINVAL && n == 0);
    CHECK(ds_quadtree_rect(&q, 0, 1, 1, 0, q_never, NULL, &n) == DS_EINVAL);
    CHECK(ds_quadtree_rect(&q, NAN, 0, 1, 1, q_never, NULL, &n) == DS_EINVAL);
    CHECK(ds_quadtree_rect(&q, 0, 0, 1, 1, NULL, NULL, &n) == DS_EINVAL);
    CHECK(ds_quadtree_rect(NULL, 0, 0, 1, 1, q_never, NULL, &n) == DS_EINVAL);
    CHECK(ds_quadtree_rect_into(&q, 0, 0, 1, 1, NULL, 3, &n) == DS_EINVAL);
    CHECK(ds_quadtree_rect(&q, -INFINITY, -INFINITY, INFINITY, INFINITY, q_never, NULL, &n) == DS_OK && n == 2);
    CHECK(ds_quadtree_rect(&q, 5, 5, 6, 6, q_never, NULL, NULL) == DS_OK);
    CHECK(ds_quadtree_rect_into(&q, -9, -9, 9, 9, pt, 1, &n) == DS_OK && n == 2); /* only one written */
    CHECK(ds_quadtree_radius(&q, 0, 0, -1, q_never, NULL, &n) == DS_EINVAL);
    CHECK(ds_quadtree_radius(&q, 0, 0, NAN, q_never, NULL, &n) == DS_EINVAL);
    CHECK(ds_quadtree_radius(&q, INFINITY, 0, 1, q_never, NULL, &n) == DS_EINVAL);
    CHECK(ds_quadtree_radius(&q, 0, 0, 1, NULL, NULL, &n) == DS_EINVAL);
    CHECK(ds_quadtree_radius_into(&q, 0, 0, 1, NULL, 1, &n) == DS_EINVAL);
    CHECK(ds_quadtree_radius_into(&q, 0, 0, INFINITY, NULL, 0, &n) == DS_OK && n == 2);
    CHECK(ds_quadtree_radius_into(&q, 100, 100, 0, pt, 2, &n) == DS_OK && n == 0);
    CHECK(ds_quadtree_knn(&q, NAN, 0, 1, h, &n) == DS_EINVAL && ds_quadtree_knn(&q, 0, INFINITY, 1, h, &n) == DS_EINVAL);
    CHECK(ds_quadtree_knn(&q, 0, 0, 1, NULL, &n) == DS_EINVAL && ds_quadtree_knn(NULL, 0, 0, 1, h, &n) == DS_EINVAL);
    CHECK(ds_quadtree_knn(&q, 0, 0, 0, NULL, &n) == DS_OK && n == 0);
    CHECK(ds_quadtree_knn(&q, 100, -100, 5, h, &n) == DS_OK && n == 2 && h[0].id == 2); /* far outside */
    {
        ds_qt_point batch[3] = {{0, 0, 7}, {0.5, 0.5, 8}, {1, 2.5, 9}};
        CHECK(ds_quadtree_add_many(&q, batch, 3) == DS_EINVAL && ds_quadtree_len(&q) == 2);
        CHECK(ds_quadtree_add_many(&q, NULL, 1) == DS_EINVAL && ds_quadtree_add_many(NULL, batch, 1) == DS_EINVAL);
        CHECK(ds_quadtree_add_many(&q, NULL, 0) == DS_OK && ds_quadtree_add_many(&q, batch, 2) == DS_OK);
        CHECK(ds_quadtree_len(&q) == 4 && ds_quadtree_del(&q, 0.5, 0.5, 8) == DS_OK);
        CHECK(ds_quadtree_del(&q, 0, 0, 7) == DS_OK && ds_quadtree_compact(NULL) == DS_EINVAL);
    }
    CHECK(ds_quadtree_len(NULL) == 0 && ds_quadtree_memory(NULL) == 0);
    ds_quadtree_clear(NULL);
    ds_quadtree_free(NULL);
    ds_quadtree_free(&q);
    ds_quadtree_free(&q); /* twice is harmless */
}

/* Allocation failure: every insert / move / kNN that fails with DS_ENOMEM
 * leaves the tree equal to the model. */
static int quad_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_quadtree_config cfg;
    ds_quadtree q;
    qmodel m = {NULL, 0, 0};
    ds_rng r;
    ds_qt_hit *hits;
    int step, ret = 1;
    ds_rng_seed(&r, seed);
    memset(&cfg, 0, sizeof cfg);
    cfg.x_max = cfg.y_max = 100;
    cfg.bucket = 2;
    cfg.max_depth = 12;
    cfg.alloc = &pa->a;
    hits = (ds_qt_hit *)malloc(600 * sizeof *hits);
    CHECK_OR(hits && ds_quadtree_init(&q, &cfg) == DS_OK, 1);
    for (step = 0; step < 300; step++) {
        uint64_t op = ds_rng_below(&r, 10);
        long before = PROP_FAILS(pa);
        size_t mem0 = ds_quadtree_memory(&q);
        ds_status st;
        double x = ds_rng_double(&r) * 100, y = ds_rng_double(&r) * 100;
        if (ds_rng_below(&r, 4) == 0) x = y = 50; /* duplicates: chains at max_depth */
        if (op == 0 && ds_rng_below(&r, 3) == 0) { /* a batch */
            ds_qt_point batch[24];
            size_t j, nb = 1 + (size_t)ds_rng_below(&r, 24);
            for (j = 0; j < nb; j++) {
                batch[j].x = j % 3 ? ds_rng_double(&r) * 100 : 50;
                batch[j].y = j % 3 ? ds_rng_double(&r) * 100 : 50;
                batch[j].id = 100000 + (uint64_t)step * 32 + j;
            }
            st = ds_quadtree_add_many(&q, batch, nb);
            if (st == DS_OK) {
                for (j = 0; j < nb; j++) CHECK_OR(qm_push(&m, batch[j].x, batch[j].y, batch[j].id), 1);
            } else {
                CHECK_OR(st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, before), 1);
            }
        } else if (op == 1 && ds_rng_below(&r, 4) == 0) {
            st = ds_quadtree_compact(&q);
            CHECK_OR(st == DS_OK || (st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, before)), 1);
        } else if (op < 6 || m.n == 0) {
            st = ds_quadtree_add(&q, x, y, (uint64_t)step);
            if (st == DS_OK) CHECK_OR(qm_push(&m, x, y, (uint64_t)step), 1);
            else CHECK_OR(st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, before), 1);
        } else if (op < 8) {
            size_t i = (size_t)ds_rng_below(&r, m.n);
            st = ds_quadtree_move(&q, m.p[i].id, m.p[i].x, m.p[i].y, x, y);
            if (st == DS_OK) { m.p[i].x = x; m.p[i].y = y; }
            else CHECK_OR(st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, before), 1);
        } else if (op < 9) {
            size_t i = (size_t)ds_rng_below(&r, m.n);
            CHECK_OR(ds_quadtree_del(&q, m.p[i].x, m.p[i].y, m.p[i].id) == DS_OK, 1); /* never allocates */
            m.p[i] = m.p[--m.n];
        } else {
            size_t n;
            st = ds_quadtree_knn(&q, x, y, m.n, hits, &n); /* every point: a big frontier */
            CHECK_OR(st == DS_OK ? n == m.n : st == DS_ENOMEM && PROP_ENOMEM_LEGIT(pa, before) && n == 0, 1);
        }
        CHECK_OR(ds_quadtree_len(&q) == m.n, 1);
        /* an operation that failed changed nothing, capacities included */
        if (PROP_ENOMEM_LEGIT(pa, before)) CHECK_OR(ds_quadtree_memory(&q) == mem0, 1);
        if (PROP_ENOMEM_LEGIT(pa, before) || step % 50 == 0) {
            /* unchanged: the same points, the invariants intact */
            qpt *a = (qpt *)malloc((m.n + 1) * sizeof *a);
            qcollect c;
            size_t got;
            CHECK_OR(a != NULL, 1);
            c.p = a;
            c.n = 0;
            c.cap = m.n + 1;
            c.stop_at = 0;
            CHECK_OR(ds_quadtree_rect(&q, 0, 0, 100, 100, qc_fn, &c, &got) == DS_OK, 1);
            CHECK_OR(q_same(a, c.n, m.p, m.n), 1);
            free(a);
            CHECK_OR(qt_check(&q) == 0, 1);
        }
    }
    ret = 0;
    ds_quadtree_free(&q);
    free(m.p);
    free(hits);
    return ret;
}

void test_quad_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(quad_oom_seq, 11, &total) == 0);
    CHECKF(total >= 20, "only %ld allocations", total);
}
