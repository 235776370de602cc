// bench/bench_spatial_boost.cc - the Boost.Geometry R-tree contender for
// bench_spatial.c (which is C): points (x, y, id) in a
// boost::geometry::index::rtree, built by the packing (bulk-loading)
// constructor or by one insert at a time, queried by box (intersects)
// and by k nearest. Debian's libboost1.81-dev, header-only, compiled with
// the same flags as ds.
#include <boost/geometry.hpp>
#include <boost/geometry/geometries/point.hpp>
#include <boost/geometry/geometries/box.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

namespace {
typedef bg::model::point<double, 2, bg::cs::cartesian> pt;
typedef bg::model::box<pt> box;
typedef std::pair<pt, uint64_t> value;
// quadratic<16>: Boost's documented default-style choice; rstar builds slower.
typedef bgi::rtree<value, bgi::quadratic<16>> tree;

// Writes ids to out (up to cap), counts all.
struct id_sink {
    uint64_t *out;
    size_t cap, n;
};
struct id_iter {
    typedef std::output_iterator_tag iterator_category;
    typedef void value_type;
    typedef void difference_type;
    typedef void pointer;
    typedef void reference;
    id_sink *s;
    id_iter &operator*() { return *this; }
    id_iter &operator++() { return *this; }
    id_iter &operator++(int) { return *this; }
    id_iter &operator=(const value &v) {
        if (s->n < s->cap) s->out[s->n] = v.second;
        s->n++;
        return *this;
    }
};
} // namespace

extern "C" {

void *bq_build(const double *x, const double *y, size_t n, int bulk) {
    if (bulk) {
        std::vector<value> v;
        v.reserve(n);
        for (size_t i = 0; i < n; i++) v.push_back(value(pt(x[i], y[i]), (uint64_t)i));
        return new tree(v.begin(), v.end()); // packing algorithm (STR-like)
    }
    tree *t = new tree();
    for (size_t i = 0; i < n; i++) t->insert(value(pt(x[i], y[i]), (uint64_t)i));
    return t;
}

void bq_free(void *t) { delete static_cast<tree *>(t); }

size_t bq_rect(void *t, double x0, double y0, double x1, double y1, uint64_t *out, size_t cap) {
    id_sink s = {out, cap, 0};
    id_iter it;
    it.s = &s;
    static_cast<tree *>(t)->query(bgi::intersects(box(pt(x0, y0), pt(x1, y1))), it);
    return s.n;
}

size_t bq_knn(void *t, double x, double y, size_t k, uint64_t *out) {
    id_sink s = {out, k, 0};
    id_iter it;
    it.s = &s;
    static_cast<tree *>(t)->query(bgi::nearest(pt(x, y), (unsigned)k), it);
    return s.n;
}

} // extern "C"
