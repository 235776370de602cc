/* bench/bench_graph.cc - Dijkstra on a random graph: ds_graph beside Boost.Graph.
 *
 * One random directed graph (default 10^5 nodes, 10^6 edges: ends uniform,
 * weights uniform in [1, 100), fixed seed), loaded into
 *   ds (CSR)              ds_graph_build: the frozen form
 *   ds (incremental)      ds_graph_add_edge per edge, not frozen
 *   boost CSR             boost::compressed_sparse_row_graph (its fastest
 *                         graph), built from the same edge list
 *   boost adjacency_list  adjacency_list<vecS, vecS, directedS> with an
 *                         edge_weight property, the common choice
 * Each runs single-source shortest paths to every node from the same
 * sources (default 15, drawn with a fixed seed), interleaved source by
 * source: ds_graph_dijkstra(g, s, src, DS_GRAPH_NONE) on one reused
 * ds_graph_search, boost::dijkstra_shortest_paths(g, src, predecessor_map,
 * distance_map, weight_map) into reused vectors (Boost's default: a 4-ary
 * heap with decrease-key and a two-bit colour map). Every distance of
 * every source is compared between all four (OK / MISMATCH; exit status 1
 * on a mismatch). Reported: the median per source, ns per edge, and the
 * ratio peer / ds (CSR). Build times are printed once, for information.
 *
 *   bench_graph [--nodes N] [--edges M] [--sources S] [--quick]
 *     --quick   smoke run: 10^4 nodes, 10^5 edges, 3 sources
 */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "bench.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

struct EdgeW {
    double w;
};
typedef boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, EdgeW> BCsr;
typedef boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                              boost::property<boost::edge_weight_t, double>>
    BAdj;

#define NOINLINE __attribute__((noinline))

static NOINLINE void run_ds(const ds_graph *g, ds_graph_search *s, uint32_t src) {
    if (ds_graph_dijkstra(g, s, src, DS_GRAPH_NONE) != DS_OK) abort();
}
static NOINLINE void run_bcsr(const BCsr &g, size_t src, std::vector<size_t> &pred, std::vector<double> &dist) {
    boost::dijkstra_shortest_paths(
        g, src,
        boost::predecessor_map(boost::make_iterator_property_map(pred.begin(), boost::get(boost::vertex_index, g)))
            .distance_map(boost::make_iterator_property_map(dist.begin(), boost::get(boost::vertex_index, g)))
            .weight_map(boost::get(&EdgeW::w, g)));
}
static NOINLINE void run_badj(const BAdj &g, size_t src, std::vector<size_t> &pred, std::vector<double> &dist) {
    boost::dijkstra_shortest_paths(
        g, src,
        boost::predecessor_map(boost::make_iterator_property_map(pred.begin(), boost::get(boost::vertex_index, g)))
            .distance_map(boost::make_iterator_property_map(dist.begin(), boost::get(boost::vertex_index, g))));
}

static bool same_dist(double ours, double boost_d) {
    bool ours_inf = ours == HUGE_VAL, theirs_inf = boost_d == std::numeric_limits<double>::max();
    if (ours_inf || theirs_inf) return ours_inf && theirs_inf;
    return std::fabs(ours - boost_d) <= 1e-9 * boost_d; /* equal-cost paths may add in another order */
}

int main(int argc, char **argv) {
    size_t n = 100000, m = 1000000;
    int nsrc = 15;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--nodes" && i + 1 < argc) n = (size_t)strtoull(argv[++i], nullptr, 10);
        else if (a == "--edges" && i + 1 < argc) m = (size_t)strtoull(argv[++i], nullptr, 10);
        else if (a == "--sources" && i + 1 < argc) nsrc = atoi(argv[++i]);
        else if (a == "--quick") quick = true;
        else {
            fprintf(stderr, "usage: bench_graph [--nodes N] [--edges M] [--sources S] [--quick]\n");
            return 2;
        }
    }
    if (quick) {
        n = 10000;
        m = 100000;
        nsrc = 3;
    }
    if (n < 2 || n > UINT32_MAX - 1 || nsrc < 1 || nsrc > BENCH_MAX_REPS) {
        fprintf(stderr, "bench_graph: need 2 <= nodes < 2^32 - 1 and 1 <= sources <= %d\n", BENCH_MAX_REPS);
        return 2;
    }

    /* the graph */
    ds_rng r;
    ds_rng_seed(&r, 42);
    std::vector<ds_graph_edge> e(m);
    std::vector<std::pair<size_t, size_t>> be(m);
    std::vector<EdgeW> bw(m);
    for (size_t i = 0; i < m; i++) {
        e[i].from = (uint32_t)ds_rng_below(&r, n);
        e[i].to = (uint32_t)ds_rng_below(&r, n);
        e[i].label = 0;
        e[i].weight = 1.0 + 99.0 * ds_rng_double(&r);
        be[i] = std::make_pair((size_t)e[i].from, (size_t)e[i].to);
        bw[i].w = e[i].weight;
    }
    printf("bench_graph: Dijkstra, one source to all nodes; %zu nodes, %zu edges (ends uniform, weights\n"
           "  uniform in [1, 100), seed 42); median over %d sources, interleaved; a graph load is timed once\n",
           n, m, nsrc);

    ds_graph gc, gi;
    ds_graph_init(&gc, NULL);
    ds_graph_init(&gi, NULL);
    int64_t t = bench_now();
    if (ds_graph_build(&gc, n, e.data(), m) != DS_OK) abort();
    double build_ds = (double)(bench_now() - t);
    t = bench_now();
    if (ds_graph_add_nodes(&gi, n, NULL) != DS_OK) abort();
    for (size_t i = 0; i < m; i++)
        if (ds_graph_add_edge(&gi, e[i].from, e[i].to, 0, e[i].weight) != DS_OK) abort();
    double build_dsi = (double)(bench_now() - t);
    t = bench_now();
    BCsr bc(boost::edges_are_unsorted_multi_pass, be.begin(), be.end(), bw.begin(), n);
    double build_bc = (double)(bench_now() - t);
    t = bench_now();
    BAdj ba(n);
    for (size_t i = 0; i < m; i++) boost::add_edge(be[i].first, be[i].second, bw[i].w, ba);
    double build_ba = (double)(bench_now() - t);
    printf("  load: ds_graph_build %.1f ms (%zu bytes), ds add_edge x M %.1f ms (%zu bytes), boost CSR %.1f ms,\n"
           "        boost adjacency_list add_edge x M %.1f ms\n",
           build_ds / 1e6, ds_graph_memory(&gc), build_dsi / 1e6, ds_graph_memory(&gi), build_bc / 1e6,
           build_ba / 1e6);

    /* the searches */
    ds_graph_search s;
    ds_graph_search_init(&s, NULL);
    std::vector<size_t> pred(n);
    std::vector<double> dist(n);
    enum { DS_CSR, DS_INC, B_CSR, B_ADJ, NC };
    static const char *names[NC] = {"ds (CSR)", "ds (incremental)", "boost CSR", "boost adjacency_list"};
    bench_samples smp[NC];
    memset(smp, 0, sizeof smp);
    bool ok = true;
    size_t reached_total = 0, expanded_total = 0;
    run_ds(&gc, &s, 0); /* warm-up: sizes the scratch */
    ds_rng_seed(&r, 7);
    for (int k = 0; k < nsrc; k++) {
        uint32_t src = (uint32_t)ds_rng_below(&r, n);
        for (int c = 0; c < NC; c++) {
            t = bench_now();
            switch (c) {
            case DS_CSR: run_ds(&gc, &s, src); break;
            case DS_INC: run_ds(&gi, &s, src); break;
            case B_CSR: run_bcsr(bc, src, pred, dist); break;
            default: run_badj(ba, src, pred, dist); break;
            }
            bench_add(&smp[c], (double)(bench_now() - t));
            if (c == DS_INC) { /* the incremental search's result is still in s */
                reached_total += ds_graph_search_count(&s);
                expanded_total += ds_graph_search_expanded(&s);
            }
            if (c >= B_CSR) { /* compare with ds's distances (ds (CSR) rerun into s) */
                ds_graph_search chk;
                ds_graph_search_init(&chk, NULL);
                run_ds(&gc, &chk, src);
                for (size_t v = 0; v < n; v++)
                    if (!same_dist(ds_graph_search_dist(&chk, (uint32_t)v), dist[v])) {
                        if (ok)
                            fprintf(stderr, "MISMATCH: %s, source %u, node %zu: ds %.17g boost %.17g\n", names[c],
                                    src, v, ds_graph_search_dist(&chk, (uint32_t)v), dist[v]);
                        ok = false;
                    }
                ds_graph_search_free(&chk);
            }
        }
    }
    printf("  reached per source: %.0f of %zu nodes (%.0f settled by ds)\n", (double)reached_total / nsrc, n,
           (double)expanded_total / nsrc);
    printf("\n== Dijkstra, %zu nodes, %zu edges, median of %d sources ==  distances %s\n", n, m, nsrc,
           ok ? "OK: all agree" : "MISMATCH");
    printf("  %-22s %12s %10s %18s\n", "contender", "ms/source", "ns/edge", "contender/ds (CSR)");
    double ours = bench_median(&smp[DS_CSR]);
    for (int c = 0; c < NC; c++) {
        double med = bench_median(&smp[c]);
        printf("  %-22s %12.2f %10.2f %17.2fx\n", names[c], med / 1e6, med / (double)m, med / ours);
    }
    printf("\n(contender/ds (CSR) > 1: ds (CSR) is faster)   peak RSS %ld KiB\n", bench_peak_rss_kb());
    ds_graph_search_free(&s);
    ds_graph_free(&gc);
    ds_graph_free(&gi);
    return ok ? 0 : 1;
}
