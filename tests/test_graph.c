/* tests/test_graph.c - ds_graph and ds_tsp: Dijkstra against Floyd-Warshall,
 * A* against Dijkstra (Euclidean on random geometric graphs, with an
 * inconsistent admissible heuristic too, and Manhattan on grids), BFS
 * depth limits against a level-by-level reference, unweighted paths made
 * of real edges, the CSR form against the incremental one, names, TSP
 * tours against brute force, bad input and allocation failures. */
#include "prop.h"
#include <math.h>

#define GN_MAX 32           /* nodes in the random small graphs */
#define GE_MAX (4 * GN_MAX) /* edges */

typedef struct gmodel {
    size_t n, m;
    ds_graph_edge e[GE_MAX];
} gmodel;

/* A random multigraph: self-loops and parallel edges included; integer
 * weights (exact arithmetic) or real ones. */
static void gm_random(ds_rng *r, gmodel *gm, size_t nmax, int integer) {
    size_t i;
    gm->n = 1 + (size_t)ds_rng_below(r, nmax);
    gm->m = (size_t)ds_rng_below(r, 4 * gm->n + 1);
    if (gm->m > GE_MAX) gm->m = GE_MAX;
    for (i = 0; i < gm->m; i++) {
        gm->e[i].from = (uint32_t)ds_rng_below(r, gm->n);
        gm->e[i].to = (uint32_t)ds_rng_below(r, gm->n);
        gm->e[i].label = (uint32_t)ds_rng_below(r, 5);
        gm->e[i].weight = integer ? (double)ds_rng_below(r, 10) : ds_rng_double(r) * 10.0;
    }
}

/* The same edges three ways: add_edge (incremental), add_edge + freeze,
 * ds_graph_build. */
static int gm_build3(const gmodel *gm, ds_graph g[3]) {
    size_t i;
    int k;
    for (k = 0; k < 3; k++) ds_graph_init(&g[k], NULL);
    for (k = 0; k < 2; k++) {
        CHECK_OR(ds_graph_add_nodes(&g[k], gm->n, NULL) == DS_OK, 1);
        for (i = 0; i < gm->m; i++)
            CHECK_OR(ds_graph_add_edge(&g[k], gm->e[i].from, gm->e[i].to, gm->e[i].label,
                                       gm->e[i].weight) == DS_OK, 1);
    }
    CHECK_OR(ds_graph_freeze(&g[1]) == DS_OK && ds_graph_is_frozen(&g[1]), 1);
    CHECK_OR(!ds_graph_is_frozen(&g[0]), 1);
    CHECK_OR(ds_graph_build(&g[2], gm->n, gm->e, gm->m) == DS_OK && ds_graph_is_frozen(&g[2]), 1);
    for (k = 0; k < 3; k++)
        CHECK_OR(ds_graph_nodes(&g[k]) == gm->n && ds_graph_edges(&g[k]) == gm->m, 1);
    return 0;
}
static void gm_free3(ds_graph g[3]) {
    int k;
    for (k = 0; k < 3; k++) ds_graph_free(&g[k]);
}

/* The edge from -label-> to with this weight is in the model. */
static int gm_has_edge(const gmodel *gm, const ds_graph_step *st) {
    size_t i;
    for (i = 0; i < gm->m; i++)
        if (gm->e[i].from == st->from && gm->e[i].to == st->to && gm->e[i].label == st->label &&
            gm->e[i].weight == st->weight)
            return 1;
    return 0;
}

/* Fetch the path src -> v and check it: a chain of real edges from src to
 * v, hop count = depth, weights summed in path order = *sum. */
static int check_path(const ds_graph *g, const ds_graph_search *s, const gmodel *gm, uint32_t src,
                      uint32_t v, double *sum, size_t *hops) {
    static ds_graph_step steps[GN_MAX * 4];
    size_t len = 99, i;
    ds_status st = ds_graph_search_path(g, s, v, NULL, 0, &len);
    double w = 0;
    CHECK_OR(st == (len ? DS_EFULL : DS_OK), 1);
    CHECK_OR(len < GN_MAX * 4, 1);
    CHECK_OR(len == 0 || ds_graph_search_path(g, s, v, steps, len - 1, &len) == DS_EFULL, 1);
    CHECK_OR(ds_graph_search_path(g, s, v, steps, len, &len) == DS_OK, 1);
    CHECK_OR(len == ds_graph_search_depth(s, v), 1);
    CHECK_OR(len > 0 || v == src, 1);
    for (i = 0; i < len; i++) {
        CHECK_OR(gm_has_edge(gm, &steps[i]), 1);
        CHECK_OR(i > 0 || steps[i].from == src, 1);
        CHECK_OR(i + 1 == len ? steps[i].to == v : steps[i].to == steps[i + 1].from, 1);
        w += steps[i].weight;
    }
    *sum = w;
    if (hops) *hops = len;
    return 0;
}

/* ---- Dijkstra = Floyd-Warshall ---------------------------------------- */

static void fw(const gmodel *gm, double d[GN_MAX][GN_MAX]) {
    size_t i, j, k;
    for (i = 0; i < gm->n; i++)
        for (j = 0; j < gm->n; j++) d[i][j] = i == j ? 0 : HUGE_VAL;
    for (i = 0; i < gm->m; i++)
        if (gm->e[i].weight < d[gm->e[i].from][gm->e[i].to]) d[gm->e[i].from][gm->e[i].to] = gm->e[i].weight;
    for (k = 0; k < gm->n; k++)
        for (i = 0; i < gm->n; i++)
            for (j = 0; j < gm->n; j++)
                if (d[i][k] + d[k][j] < d[i][j]) d[i][j] = d[i][k] + d[k][j];
}

static int close_enough(double a, double b, int exact) {
    if (a == b) return 1;
    return !exact && fabs(a - b) <= 1e-9 * (1 + fabs(b));
}

static void dijkstra_case(ds_rng *r, uint64_t seed) {
    static gmodel gm;
    static double d[GN_MAX][GN_MAX];
    ds_graph g[3];
    ds_graph_search s;
    int exact = (int)(seed & 2), k;
    uint32_t src, v;
    gm_random(r, &gm, GN_MAX, exact);
    fw(&gm, d);
    if (gm_build3(&gm, g)) return;
    ds_graph_search_init(&s, NULL);
    for (k = 0; k < 3; k++) {
        for (src = 0; src < gm.n; src++) {
            size_t reach = 0, i;
            const uint32_t *order;
            CHECK(ds_graph_dijkstra(&g[k], &s, src, DS_GRAPH_NONE) == DS_OK);
            for (v = 0; v < gm.n; v++) {
                double got = ds_graph_search_dist(&s, v), sum;
                CHECKF(close_enough(got, d[src][v], exact), "form %d %u->%u: %g vs FW %g", k, src, v,
                       got, d[src][v]);
                CHECK(ds_graph_search_reached(&s, v) == (d[src][v] != HUGE_VAL));
                if (!ds_graph_search_reached(&s, v)) {
                    CHECK(ds_graph_search_depth(&s, v) == DS_GRAPH_NONE);
                    continue;
                }
                reach++;
                if (check_path(&g[k], &s, &gm, src, v, &sum, NULL)) return;
                CHECK(sum == got); /* same additions in the same order */
            }
            /* settled in order of distance, each once */
            CHECK(ds_graph_search_count(&s) == reach);
            order = ds_graph_search_nodes(&s);
            CHECK(order && order[0] == src);
            for (i = 1; i < reach; i++)
                CHECK(ds_graph_search_dist(&s, order[i - 1]) <= ds_graph_search_dist(&s, order[i]));
            CHECK(ds_graph_search_expanded(&s) == reach);
            /* with a target: stops early, same distance */
            v = (uint32_t)ds_rng_below(r, gm.n);
            if (d[src][v] == HUGE_VAL) {
                CHECK(ds_graph_dijkstra(&g[k], &s, src, v) == DS_ENOTFOUND);
                CHECK(!ds_graph_search_reached(&s, v) && ds_graph_search_count(&s) == reach);
            } else {
                double sum;
                CHECK(ds_graph_dijkstra(&g[k], &s, src, v) == DS_OK);
                CHECK(close_enough(ds_graph_search_dist(&s, v), d[src][v], exact));
                CHECK(ds_graph_search_count(&s) <= reach);
                if (check_path(&g[k], &s, &gm, src, v, &sum, NULL)) return;
                /* A* with h = 0 is the same search */
                CHECK(ds_graph_astar(&g[k], &s, src, v, NULL, NULL) == DS_OK);
                CHECK(close_enough(ds_graph_search_dist(&s, v), d[src][v], exact));
            }
        }
    }
    ds_graph_search_free(&s);
    gm_free3(g);
}

void test_graph_dijkstra_floyd(void) { prop_run("graph_dijkstra_floyd", dijkstra_case, 150); }

/* ---- A*: optimal with admissible heuristics ---------------------------- */

typedef struct geo {
    double xy[2 * 200];
    double f[200]; /* per-node shrink factors: makes h inconsistent */
    int inconsistent;
} geo;

static double geo_h(void *ctx, uint32_t v, uint32_t t) {
    const geo *G = (const geo *)ctx;
    double dx = G->xy[2 * v] - G->xy[2 * t], dy = G->xy[2 * v + 1] - G->xy[2 * t + 1];
    double e = sqrt(dx * dx + dy * dy);
    return G->inconsistent ? e * G->f[v] : e;
}

/* Random geometric graph: points in the unit square, an edge each way
 * between points closer than rad, weight = distance x [1, 1.5). */
static void astar_geo_case(ds_rng *r, uint64_t seed) {
    static geo G;
    static gmodel dummy;
    ds_graph g;
    ds_graph_search s, sd;
    size_t n = 20 + (size_t)ds_rng_below(r, 180), i, j, q;
    double rad = sqrt(4.0 / (double)n);
    ds_graph_init(&g, NULL);
    ds_graph_search_init(&s, NULL);
    ds_graph_search_init(&sd, NULL);
    G.inconsistent = (int)(seed & 1);
    CHECK(ds_graph_add_nodes(&g, n, NULL) == DS_OK);
    for (i = 0; i < n; i++) {
        G.xy[2 * i] = ds_rng_double(r);
        G.xy[2 * i + 1] = ds_rng_double(r);
        G.f[i] = ds_rng_double(r);
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++) {
            double dx = G.xy[2 * i] - G.xy[2 * j], dy = G.xy[2 * i + 1] - G.xy[2 * j + 1];
            double e = sqrt(dx * dx + dy * dy);
            if (i != j && e < rad)
                CHECK(ds_graph_add_edge(&g, (uint32_t)i, (uint32_t)j, 0, e * (1 + 0.5 * ds_rng_double(r))) == DS_OK);
        }
    if (seed & 2) CHECK(ds_graph_freeze(&g) == DS_OK);
    for (q = 0; q < 20; q++) {
        uint32_t a = (uint32_t)ds_rng_below(r, n), b = (uint32_t)ds_rng_below(r, n);
        ds_status sa = ds_graph_astar(&g, &s, a, b, geo_h, &G), sdj = ds_graph_dijkstra(&g, &sd, a, b);
        CHECK(sa == sdj);
        if (sa == DS_OK) {
            static ds_graph_step steps[256];
            size_t len;
            double sum = 0, got = ds_graph_search_dist(&s, b), want = ds_graph_search_dist(&sd, b);
            (void)dummy;
            CHECKF(fabs(got - want) <= 1e-9 * want, "%u->%u: A* %.17g Dijkstra %.17g", a, b, got, want);
            CHECK(ds_graph_search_path(&g, &s, b, steps, 256, &len) == DS_OK);
            for (i = 0; i < len; i++) {
                size_t deg, k, hit = 0;
                const ds_graph_arc *arc = ds_graph_out(&g, steps[i].from, &deg);
                for (k = 0; k < deg; k++) hit += arc[k].to == steps[i].to && arc[k].weight == steps[i].weight;
                CHECK(hit > 0);
                CHECK(i + 1 == len ? steps[i].to == b : steps[i].to == steps[i + 1].from);
                sum += steps[i].weight;
            }
            CHECK(len == 0 ? a == b : steps[0].from == a);
            CHECK(sum == got);
            /* a consistent h never expands more nodes than Dijkstra settles */
            if (!G.inconsistent) CHECK(ds_graph_search_expanded(&s) <= ds_graph_search_expanded(&sd));
        } else {
            CHECK(sa == DS_ENOTFOUND && !ds_graph_search_reached(&s, b));
        }
    }
    ds_graph_search_free(&s);
    ds_graph_search_free(&sd);
    ds_graph_free(&g);
}

/* Grid with obstacles, 4-neighbour moves costing 1..4 (integers: exact),
 * h = Manhattan distance x 1 (the least cost). */
typedef struct grid {
    uint32_t w, h;
} grid;
static double grid_h(void *ctx, uint32_t v, uint32_t t) {
    const grid *G = (const grid *)ctx;
    long dx = (long)(v % G->w) - (long)(t % G->w), dy = (long)(v / G->w) - (long)(t / G->w);
    return (double)(labs(dx) + labs(dy));
}
static void astar_grid_case(ds_rng *r, uint64_t seed) {
    grid G;
    ds_graph g;
    ds_graph_search s, sd;
    static unsigned char wall[40 * 40];
    uint32_t x, y, q;
    (void)seed;
    G.w = 5 + (uint32_t)ds_rng_below(r, 36);
    G.h = 5 + (uint32_t)ds_rng_below(r, 36);
    for (x = 0; x < G.w * G.h; x++) wall[x] = ds_rng_below(r, 100) < 25;
    ds_graph_init(&g, NULL);
    ds_graph_search_init(&s, NULL);
    ds_graph_search_init(&sd, NULL);
    CHECK(ds_graph_add_nodes(&g, (size_t)G.w * G.h, NULL) == DS_OK);
    for (y = 0; y < G.h; y++)
        for (x = 0; x < G.w; x++) {
            uint32_t u = y * G.w + x;
            int k;
            static const int DX[4] = {1, -1, 0, 0}, DY[4] = {0, 0, 1, -1};
            if (wall[u]) continue;
            for (k = 0; k < 4; k++) {
                long nx = (long)x + DX[k], ny = (long)y + DY[k];
                uint32_t v;
                if (nx < 0 || ny < 0 || nx >= (long)G.w || ny >= (long)G.h) continue;
                v = (uint32_t)ny * G.w + (uint32_t)nx;
                if (!wall[v]) CHECK(ds_graph_add_edge(&g, u, v, (uint32_t)k, (double)(1 + ds_rng_below(r, 4))) == DS_OK);
            }
        }
    CHECK(ds_graph_freeze(&g) == DS_OK);
    for (q = 0; q < 20; q++) {
        uint32_t a = (uint32_t)ds_rng_below(r, G.w * G.h), b = (uint32_t)ds_rng_below(r, G.w * G.h);
        ds_status sa = ds_graph_astar(&g, &s, a, b, grid_h, &G), sdj = ds_graph_dijkstra(&g, &sd, a, b);
        CHECK(sa == sdj);
        if (sa != DS_OK) continue;
        CHECK(ds_graph_search_dist(&s, b) == ds_graph_search_dist(&sd, b));
        CHECK(ds_graph_search_expanded(&s) <= ds_graph_search_expanded(&sd));
    }
    ds_graph_search_free(&s);
    ds_graph_search_free(&sd);
    ds_graph_free(&g);
}

void test_graph_astar_optimal(void) {
    prop_run("graph_astar_geo", astar_geo_case, 60);
    prop_run("graph_astar_grid", astar_grid_case, 40);
}

/* ---- BFS: depth limits exact, unweighted paths ------------------------- */

/* Level by level over the edge list. */
static void bfs_ref(const gmodel *gm, uint32_t src, uint32_t max_hops, uint32_t *depth) {
    size_t i;
    uint32_t lvl;
    for (i = 0; i < gm->n; i++) depth[i] = DS_GRAPH_NONE;
    depth[src] = 0;
    for (lvl = 0; lvl < max_hops && lvl < GN_MAX; lvl++)
        for (i = 0; i < gm->m; i++)
            if (depth[gm->e[i].from] == lvl && depth[gm->e[i].to] == DS_GRAPH_NONE)
                depth[gm->e[i].to] = lvl + 1;
}

static void bfs_case(ds_rng *r, uint64_t seed) {
    static gmodel gm;
    ds_graph g[3];
    ds_graph_search s;
    uint32_t depth[GN_MAX], src, v;
    int k;
    (void)seed;
    gm_random(r, &gm, GN_MAX, 1);
    if (gm_build3(&gm, g)) return;
    ds_graph_search_init(&s, NULL);
    for (k = 0; k < 3; k++) {
        for (src = 0; src < gm.n; src++) {
            uint32_t hops = ds_rng_below(r, 4) ? (uint32_t)ds_rng_below(r, 5) : DS_GRAPH_UNLIMITED;
            size_t reach = 0, i;
            const uint32_t *order;
            bfs_ref(&gm, src, hops, depth);
            CHECK(ds_graph_bfs(&g[k], &s, src, DS_GRAPH_NONE, hops) == DS_OK);
            for (v = 0; v < gm.n; v++) {
                CHECKF(ds_graph_search_depth(&s, v) == depth[v], "form %d src %u hops %u: node %u depth %u want %u",
                       k, src, hops, v, ds_graph_search_depth(&s, v), depth[v]);
                if (depth[v] == DS_GRAPH_NONE) {
                    CHECK(ds_graph_search_dist(&s, v) == HUGE_VAL);
                } else {
                    double sum;
                    size_t len;
                    reach++;
                    CHECK(ds_graph_search_dist(&s, v) == (double)depth[v]);
                    if (check_path(&g[k], &s, &gm, src, v, &sum, &len)) return;
                }
            }
            CHECK(ds_graph_search_count(&s) == reach);
            order = ds_graph_search_nodes(&s);
            CHECK(order[0] == src);
            for (i = 1; i < reach; i++) CHECK(depth[order[i - 1]] <= depth[order[i]]);
            /* unweighted shortest path to one target: fewest edges */
            v = (uint32_t)ds_rng_below(r, gm.n);
            if (depth[v] == DS_GRAPH_NONE) {
                CHECK(ds_graph_bfs(&g[k], &s, src, v, hops) == DS_ENOTFOUND);
            } else {
                double sum;
                size_t len;
                CHECK(ds_graph_bfs(&g[k], &s, src, v, hops) == DS_OK);
                if (check_path(&g[k], &s, &gm, src, v, &sum, &len)) return;
                CHECK(len == depth[v]);
                CHECK(ds_graph_search_count(&s) <= reach);
            }
        }
    }
    ds_graph_search_free(&s);
    gm_free3(g);
}

void test_graph_bfs_hops(void) { prop_run("graph_bfs_hops", bfs_case, 200); }

/* ---- CSR = incremental ------------------------------------------------- */

static int same_out(const ds_graph *a, const ds_graph *b) {
    uint32_t u;
    CHECK_OR(ds_graph_nodes(a) == ds_graph_nodes(b) && ds_graph_edges(a) == ds_graph_edges(b), 0);
    for (u = 0; u < ds_graph_nodes(a); u++) {
        size_t da, db;
        const ds_graph_arc *x = ds_graph_out(a, u, &da), *y = ds_graph_out(b, u, &db);
        CHECK_OR(da == db, 0);
        CHECK_OR(da == 0 ? x == NULL && y == NULL : memcmp(x, y, da * sizeof *x) == 0, 0);
    }
    return 1;
}

static void csr_case(ds_rng *r, uint64_t seed) {
    static gmodel gm;
    ds_graph g[3], h;
    ds_graph_search s[3];
    size_t half, i;
    uint32_t src;
    int k;
    (void)seed;
    gm_random(r, &gm, GN_MAX, 0);
    if (gm_build3(&gm, g)) return;
    CHECK(same_out(&g[0], &g[1]) && same_out(&g[0], &g[2]));
    /* the model's order, node by node */
    for (src = 0; src < gm.n; src++) {
        size_t deg, j = 0;
        const ds_graph_arc *a = ds_graph_out(&g[2], src, &deg);
        for (i = 0; i < gm.m; i++) {
            if (gm.e[i].from != src) continue;
            CHECK(j < deg && a[j].to == gm.e[i].to && a[j].label == gm.e[i].label && a[j].weight == gm.e[i].weight);
            j++;
        }
        CHECK(j == deg);
    }
    /* searches agree exactly on every form: same order, same distances */
    for (k = 0; k < 3; k++) ds_graph_search_init(&s[k], NULL);
    for (src = 0; src < gm.n; src++) {
        for (k = 0; k < 3; k++) CHECK(ds_graph_dijkstra(&g[k], &s[k], src, DS_GRAPH_NONE) == DS_OK);
        for (k = 1; k < 3; k++) {
            CHECK(ds_graph_search_count(&s[k]) == ds_graph_search_count(&s[0]));
            CHECK(memcmp(ds_graph_search_nodes(&s[k]), ds_graph_search_nodes(&s[0]),
                         ds_graph_search_count(&s[0]) * sizeof(uint32_t)) == 0);
        }
        for (k = 0; k < 3; k++) CHECK(ds_graph_bfs(&g[k], &s[k], src, DS_GRAPH_NONE, 3) == DS_OK);
        for (k = 1; k < 3; k++)
            CHECK(memcmp(ds_graph_search_nodes(&s[k]), ds_graph_search_nodes(&s[0]),
                         ds_graph_search_count(&s[0]) * sizeof(uint32_t)) == 0);
    }
    for (k = 0; k < 3; k++) ds_graph_search_free(&s[k]);
    /* build in two batches on top of existing nodes and arcs (incremental
     * and frozen starts), then thaw by add_edge and freeze again */
    half = gm.m / 2;
    for (k = 0; k < 2; k++) {
        ds_graph_init(&h, NULL);
        CHECK(ds_graph_add_nodes(&h, gm.n, NULL) == DS_OK);
        for (i = 0; i < half / 2; i++)
            CHECK(ds_graph_add_edge(&h, gm.e[i].from, gm.e[i].to, gm.e[i].label, gm.e[i].weight) == DS_OK);
        if (k) CHECK(ds_graph_freeze(&h) == DS_OK);
        CHECK(ds_graph_build(&h, 0, gm.e + half / 2, half - half / 2) == DS_OK);
        for (i = half; i < gm.m; i++) {
            CHECK(ds_graph_add_edge(&h, gm.e[i].from, gm.e[i].to, gm.e[i].label, gm.e[i].weight) == DS_OK);
            CHECK(!ds_graph_is_frozen(&h));
            if (ds_rng_below(r, 4) == 0) CHECK(ds_graph_freeze(&h) == DS_OK && ds_graph_is_frozen(&h));
        }
        CHECK(same_out(&h, &g[0]));
        CHECK(ds_graph_freeze(&h) == DS_OK && ds_graph_freeze(&h) == DS_OK && same_out(&h, &g[2]));
        CHECK(ds_graph_memory(&h) >= gm.m * sizeof(ds_graph_arc));
        ds_graph_free(&h);
    }
    /* nodes added to a frozen graph: no arcs, still frozen */
    {
        uint32_t first;
        CHECK(ds_graph_add_nodes(&g[1], 3, &first) == DS_OK && first == gm.n && ds_graph_is_frozen(&g[1]));
        for (i = 0; i < 3; i++) {
            size_t deg = 7;
            CHECK(ds_graph_out(&g[1], first + (uint32_t)i, &deg) == NULL && deg == 0);
        }
        CHECK(ds_graph_add_edge(&g[1], first + 2, 0, 9, 1.0) == DS_OK && !ds_graph_is_frozen(&g[1]));
        CHECK(ds_graph_dijkstra(&g[1], &s[0], first + 2, 0) == DS_OK && ds_graph_search_dist(&s[0], 0) == 1.0);
        ds_graph_search_free(&s[0]);
    }
    gm_free3(g);
}

void test_graph_csr_equal(void) { prop_run("graph_csr_equal", csr_case, 200); }

/* ---- names: the seed's knowledge graph ---------------------------------- */

void test_graph_names(void) {
    ds_graph g;
    ds_graph_search s;
    uint32_t id, a, b, c, l;
    char name[64];
    int i;
    static char big[100000];
    ds_graph_init(&g, NULL);
    ds_graph_search_init(&s, NULL);
    CHECK(ds_graph_node_get(&g, "nobody", &id) == DS_ENOTFOUND);
    CHECK(ds_graph_link(&g, "Python", "is_a", "programming language", 1) == DS_OK);
    CHECK(ds_graph_link(&g, "Python", "created_by", "Guido van Rossum", 1) == DS_OK);
    CHECK(ds_graph_link(&g, "Guido van Rossum", "worked_at", "Google", 1) == DS_OK);
    CHECK(ds_graph_link(&g, "Google", "developed", "Go", 1) == DS_OK);
    CHECK(ds_graph_link(&g, "Go", "is_a", "programming language", 1) == DS_OK);
    CHECK(ds_graph_nodes(&g) == 5 && ds_graph_edges(&g) == 5);
    CHECK(ds_graph_node_get(&g, "Python", &a) == DS_OK && a == 0);
    CHECK(ds_graph_node_get(&g, "Go", &b) == DS_OK && b == 4);
    CHECK(strcmp(ds_graph_node_name(&g, 3), "Google") == 0);
    CHECK(ds_graph_label_get(&g, "is_a", &l) == DS_OK && l == 0);
    CHECK(ds_graph_label_get(&g, "developed", &l) == DS_OK && l == 3);
    CHECK(strcmp(ds_graph_label_name(&g, 2), "worked_at") == 0);
    CHECK(ds_graph_label_name(&g, 4) == NULL && ds_graph_node_name(&g, 5) == NULL);
    CHECK(ds_graph_label_get(&g, "likes", &l) == DS_ENOTFOUND);
    /* the seed's bfs_reachable(start, max_hops=2) */
    CHECK(ds_graph_bfs(&g, &s, a, DS_GRAPH_NONE, 2) == DS_OK);
    CHECK(ds_graph_search_count(&s) == 4); /* Python, language, Guido, Google */
    CHECK(ds_graph_node_get(&g, "Google", &c) == DS_OK && ds_graph_search_depth(&s, c) == 2);
    CHECK(!ds_graph_search_reached(&s, b));
    /* find_path(Python, Go): Python -created_by-> Guido -worked_at-> Google -developed-> Go */
    {
        ds_graph_step st[8];
        size_t len;
        CHECK(ds_graph_bfs(&g, &s, a, b, DS_GRAPH_UNLIMITED) == DS_OK);
        CHECK(ds_graph_search_path(&g, &s, b, st, 8, &len) == DS_OK && len == 3);
        CHECK(strcmp(ds_graph_label_name(&g, st[0].label), "created_by") == 0);
        CHECK(strcmp(ds_graph_node_name(&g, st[1].to), "Google") == 0);
        CHECK(st[2].to == b && strcmp(ds_graph_label_name(&g, st[2].label), "developed") == 0);
        CHECK(ds_graph_bfs(&g, &s, b, a, DS_GRAPH_UNLIMITED) == DS_ENOTFOUND);
    }
    /* unnamed nodes mixed in; a name for a later node leaves a NULL gap */
    CHECK(ds_graph_add_nodes(&g, 3, &id) == DS_OK && id == 5);
    CHECK(ds_graph_node_put(&g, "late", &id) == DS_OK && id == 8);
    CHECK(ds_graph_node_name(&g, 6) == NULL && strcmp(ds_graph_node_name(&g, 8), "late") == 0);
    CHECK(ds_graph_node_put(&g, "late", &id) == DS_OK && id == 8 && ds_graph_nodes(&g) == 9);
    /* many names: chunk and map growth; every one found again */
    for (i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "entity-%d", i);
        CHECK(ds_graph_node_put(&g, name, &id) == DS_OK && id == 9 + (uint32_t)i);
    }
    memset(big, 'x', sizeof big - 1);
    CHECK(ds_graph_node_put(&g, big, &id) == DS_OK && strcmp(ds_graph_node_name(&g, id), big) == 0);
    CHECK(ds_graph_node_put(&g, "after big", &id) == DS_OK);
    for (i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "entity-%d", i);
        CHECK(ds_graph_node_get(&g, name, &id) == DS_OK && id == 9 + (uint32_t)i);
        CHECK(strcmp(ds_graph_node_name(&g, id), name) == 0);
    }
    CHECK(ds_graph_node_get(&g, "Guido van Rossum", &id) == DS_OK && id == 2);
    CHECK(ds_graph_memory(&g) > sizeof big);
    /* link on a frozen graph: thaws */
    CHECK(ds_graph_freeze(&g) == DS_OK);
    CHECK(ds_graph_link(&g, "Go", "influenced_by", "C", 2) == DS_OK && !ds_graph_is_frozen(&g));
    CHECK(ds_graph_edges(&g) == 6);
    ds_graph_search_free(&s);
    ds_graph_free(&g);
    ds_graph_free(&g); /* twice is harmless */
}

/* ---- search scratch reuse and the epoch wrap ---------------------------- */

void test_graph_search_reuse(void) {
    ds_graph g;
    ds_graph_search s;
    prop_alloc pa;
    uint32_t i, k;
    prop_alloc_init(&pa);
    ds_graph_init(&g, NULL);
    ds_graph_search_init(&s, &pa.a);
    /* a path 0 -> 1 -> ... growing: the scratch grows with it */
    CHECK(ds_graph_add_node(&g, &i) == DS_OK && i == 0);
    for (k = 1; k < 200; k++) {
        CHECK(ds_graph_add_node(&g, &i) == DS_OK && i == k);
        CHECK(ds_graph_add_edge(&g, k - 1, k, 0, 1.0) == DS_OK);
        CHECK(ds_graph_dijkstra(&g, &s, 0, DS_GRAPH_NONE) == DS_OK);
        CHECK(ds_graph_search_dist(&s, k) == (double)k && ds_graph_search_count(&s) == k + 1);
    }
    /* same size again: no allocation at all */
    {
        long before = pa.attempts;
        for (k = 0; k < 100; k++) {
            CHECK(ds_graph_dijkstra(&g, &s, k, DS_GRAPH_NONE) == DS_OK);
            CHECK(ds_graph_bfs(&g, &s, k, DS_GRAPH_NONE, 5) == DS_OK);
            CHECK(ds_graph_search_count(&s) == 6 && ds_graph_search_depth(&s, k + 5) == 5);
        }
        CHECK(pa.attempts == before);
    }
    /* the epoch stamp wraps: stale stamps must not read as reached */
    for (k = 0; k < 8; k++) {
        s.epoch = UINT32_MAX - 8 - 4 * (k % 3);
        CHECK(ds_graph_bfs(&g, &s, 150, DS_GRAPH_NONE, 10) == DS_OK);
        CHECK(ds_graph_search_count(&s) == 11 && !ds_graph_search_reached(&s, 149) && !ds_graph_search_reached(&s, 0));
        CHECK(ds_graph_dijkstra(&g, &s, 10, DS_GRAPH_NONE) == DS_OK);
        CHECK(ds_graph_search_count(&s) == 190 && !ds_graph_search_reached(&s, 9));
        CHECK(ds_graph_search_dist(&s, 199) == 189.0);
    }
    ds_graph_search_free(&s);
    ds_graph_free(&g);
    CHECK(pa.live_bytes == 0 && pa.size_errors == 0);
}

/* ---- TSP ----------------------------------------------------------------- */

static int is_perm(const uint32_t *t, size_t n) {
    static unsigned char seen[512];
    size_t i;
    memset(seen, 0, n);
    for (i = 0; i < n; i++) {
        if (t[i] >= n || seen[t[i]]) return 0;
        seen[t[i]] = 1;
    }
    return 1;
}

/* Shortest closed tour by trying every order of cities 1..n-1 after 0. */
static double bf_best;
static void bf_rec(uint32_t *p, size_t k, size_t n, ds_tsp_dist_fn d, void *ctx) {
    size_t i;
    if (k == n) {
        double l = ds_tsp_length(n, d, ctx, p);
        if (l < bf_best) bf_best = l;
        return;
    }
    for (i = k; i < n; i++) {
        uint32_t t = p[k];
        p[k] = p[i];
        p[i] = t;
        bf_rec(p, k + 1, n, d, ctx);
        p[i] = p[k];
        p[k] = t;
    }
}

static void tsp_case(ds_rng *r, uint64_t seed) {
    static double xy[2 * 400], mat[60 * 60];
    static uint32_t tour[400], tour2[400];
    size_t n, i, j;
    uint32_t start;
    double nn_len, len, len2;
    ds_tsp_dist_fn d;
    void *ctx;
    ds_tsp_matrix M;
    int use_matrix = (int)(seed & 1);
    n = 1 + (size_t)ds_rng_below(r, use_matrix ? 60 : 400);
    if (seed & 4) n = 1 + (size_t)ds_rng_below(r, 8);
    for (i = 0; i < 2 * n; i++) xy[i] = ds_rng_double(r) * 100;
    if (use_matrix) { /* symmetric, not metric */
        for (i = 0; i < n; i++)
            for (j = 0; j <= i; j++) mat[i * n + j] = mat[j * n + i] = i == j ? 0 : (double)ds_rng_below(r, 1000);
        M.d = mat;
        M.n = n;
        d = ds_tsp_matrix_dist;
        ctx = &M;
    } else {
        d = ds_tsp_euclid_dist;
        ctx = xy;
    }
    start = (uint32_t)ds_rng_below(r, n);
    CHECK(ds_tsp_nearest_neighbor(n, d, ctx, start, tour, &nn_len) == DS_OK);
    CHECK(is_perm(tour, n) && tour[0] == start);
    CHECK(nn_len == ds_tsp_length(n, d, ctx, tour));
    /* each step went to a nearest unvisited city */
    for (i = 1; i < n; i++)
        for (j = i + 1; j < n; j++) CHECK(d(ctx, tour[i - 1], tour[i]) <= d(ctx, tour[i - 1], tour[j]));
    memcpy(tour2, tour, n * sizeof *tour);
    CHECK(ds_tsp_two_opt(n, d, ctx, tour, &len) == DS_OK);
    CHECK(is_perm(tour, n));
    CHECKF(len <= nn_len * (1 + 1e-12), "2-opt %.17g > NN %.17g", len, nn_len);
    CHECK(len == ds_tsp_length(n, d, ctx, tour));
    /* a 2-opt local optimum: no reversal helps */
    for (i = 0; n >= 4 && i + 2 < n; i++)
        for (j = i + 2; j < n; j++) {
            uint32_t a = tour[i], b = tour[i + 1], c = tour[j], e = tour[(j + 1) % n];
            if (i == 0 && j == n - 1) continue;
            CHECK(d(ctx, a, c) + d(ctx, b, e) >= (d(ctx, a, b) + d(ctx, c, e)) * (1 - 1e-9));
        }
    /* solve = both */
    CHECK(ds_tsp_solve(n, d, ctx, start, tour2, &len2) == DS_OK && len2 == len);
    CHECK(memcmp(tour, tour2, n * sizeof *tour) == 0);
    /* never below the optimum; on tiny instances often at it */
    if (n <= 8) {
        uint32_t p[8];
        for (i = 0; i < n; i++) p[i] = (uint32_t)i;
        bf_best = HUGE_VAL;
        if (n == 1) bf_best = 0;
        else bf_rec(p, 1, n, d, ctx);
        CHECKF(len >= bf_best * (1 - 1e-12), "n %zu: %.17g below the optimum %.17g", n, len, bf_best);
    }
}

void test_graph_tsp(void) { prop_run("graph_tsp", tsp_case, 120); }

/* ---- bad input ------------------------------------------------------------ */

static double h_bad(void *ctx, uint32_t v, uint32_t t) {
    (void)t;
    return v == *(const uint32_t *)ctx ? (double)-1 : 0.0;
}
static double h_nan(void *ctx, uint32_t v, uint32_t t) {
    (void)ctx;
    (void)t;
    return v == 1 ? sqrt(-1.0 + 0 * (double)v) : 0.0;
}

void test_graph_bad_input(void) {
    ds_graph g, g2;
    ds_graph_search s;
    ds_graph_step st[4];
    ds_graph_edge e;
    uint32_t id, tour[4] = {0, 1, 2, 3};
    size_t len, deg;
    double xy[8] = {0, 0, 1, 0, 1, 1, 0, 1}, bad_m[4] = {0, 1, 1, 0}, L;
    ds_tsp_matrix M = {bad_m, 2};
    ds_graph_init(NULL, NULL);
    ds_graph_free(NULL);
    ds_graph_search_init(NULL, NULL);
    ds_graph_search_free(NULL);
    ds_graph_init(&g, NULL);
    ds_graph_search_init(&s, NULL);
    CHECK(ds_graph_add_node(NULL, &id) == DS_EINVAL);
    CHECK(ds_graph_add_edge(NULL, 0, 0, 0, 1) == DS_EINVAL);
    CHECK(ds_graph_freeze(NULL) == DS_EINVAL && !ds_graph_is_frozen(NULL));
    CHECK(ds_graph_build(NULL, 1, NULL, 0) == DS_EINVAL);
    CHECK(ds_graph_nodes(NULL) == 0 && ds_graph_edges(NULL) == 0 && ds_graph_memory(NULL) == 0);
    CHECK(ds_graph_out(NULL, 0, &deg) == NULL && deg == 0);
    CHECK(ds_graph_node_put(NULL, "a", &id) == DS_EINVAL && ds_graph_node_put(&g, NULL, &id) == DS_EINVAL);
    CHECK(ds_graph_node_put(&g, "a", NULL) == DS_EINVAL && ds_graph_node_get(&g, NULL, &id) == DS_EINVAL);
    CHECK(ds_graph_label_put(NULL, "a", &id) == DS_EINVAL && ds_graph_label_get(NULL, "a", &id) == DS_EINVAL);
    CHECK(ds_graph_node_name(NULL, 0) == NULL && ds_graph_label_name(NULL, 0) == NULL);
    CHECK(ds_graph_link(&g, "a", NULL, "b", 1) == DS_EINVAL);
    CHECK(ds_graph_link(&g, "a", "r", "b", sqrt(-1.0)) == DS_EINVAL);
    CHECK(ds_graph_nodes(&g) == 0);
    /* empty graph: no node to search from */
    CHECK(ds_graph_bfs(&g, &s, 0, DS_GRAPH_NONE, 1) == DS_EINVAL);
    CHECK(ds_graph_dijkstra(&g, &s, 0, DS_GRAPH_NONE) == DS_EINVAL);
    CHECK(ds_graph_freeze(&g) == DS_OK && ds_graph_is_frozen(&g));
    CHECK(ds_graph_add_nodes(&g, 4, &id) == DS_OK && id == 0 && ds_graph_is_frozen(&g));
    /* ids out of range, bad weights */
    CHECK(ds_graph_add_edge(&g, 4, 0, 0, 1) == DS_EINVAL && ds_graph_add_edge(&g, 0, 4, 0, 1) == DS_EINVAL);
    CHECK(ds_graph_add_edge(&g, 0, 1, 0, HUGE_VAL) == DS_EINVAL);
    CHECK(ds_graph_add_edge(&g, 0, 1, 0, -HUGE_VAL) == DS_EINVAL);
    CHECK(ds_graph_add_edge(&g, 0, 1, 0, sqrt(-1.0)) == DS_EINVAL);
    CHECK(ds_graph_is_frozen(&g) && ds_graph_edges(&g) == 0); /* refused before thawing */
    e.from = 0;
    e.to = 9;
    e.label = 0;
    e.weight = 1;
    CHECK(ds_graph_build(&g, 0, &e, 1) == DS_EINVAL && ds_graph_build(&g, 0, NULL, 1) == DS_EINVAL);
    e.to = 1;
    e.weight = sqrt(-1.0);
    CHECK(ds_graph_build(&g, 0, &e, 1) == DS_EINVAL);
    CHECK(ds_graph_add_nodes(&g, UINT32_MAX, NULL) == DS_EINVAL && ds_graph_nodes(&g) == 4);
    CHECK(ds_graph_build(&g, UINT32_MAX, NULL, 0) == DS_EINVAL);
    CHECK(ds_graph_edges(&g) == 0 && ds_graph_nodes(&g) == 4);
    /* 0 -> 1 -> 2, 3 isolated */
    CHECK(ds_graph_add_edge(&g, 0, 1, 7, 1.5) == DS_OK && ds_graph_add_edge(&g, 1, 2, 8, 2.5) == DS_OK);
    CHECK(ds_graph_bfs(NULL, &s, 0, DS_GRAPH_NONE, 1) == DS_EINVAL && ds_graph_bfs(&g, NULL, 0, 1, 1) == DS_EINVAL);
    CHECK(ds_graph_bfs(&g, &s, 4, DS_GRAPH_NONE, 1) == DS_EINVAL && ds_graph_bfs(&g, &s, 0, 4, 1) == DS_EINVAL);
    CHECK(ds_graph_dijkstra(&g, &s, 0, 4) == DS_EINVAL && ds_graph_dijkstra(&g, &s, 7, 0) == DS_EINVAL);
    CHECK(ds_graph_astar(&g, &s, 0, DS_GRAPH_NONE, NULL, NULL) == DS_EINVAL);
    CHECK(ds_graph_astar(NULL, &s, 0, 1, NULL, NULL) == DS_EINVAL);
    CHECK(ds_graph_bfs(&g, &s, 0, 2, 1) == DS_ENOTFOUND); /* 2 is 2 hops away */
    CHECK(ds_graph_bfs(&g, &s, 0, 2, 2) == DS_OK);
    CHECK(ds_graph_search_path(&g, &s, 2, st, 4, &len) == DS_OK && len == 2);
    CHECK(st[0].from == 0 && st[0].label == 7 && st[0].to == 1 && st[0].weight == 1.5);
    CHECK(st[1].from == 1 && st[1].label == 8 && st[1].to == 2 && st[1].weight == 2.5);
    CHECK(ds_graph_search_path(&g, &s, 2, st, 1, &len) == DS_EFULL && len == 2);
    CHECK(ds_graph_search_path(&g, &s, 2, NULL, 4, &len) == DS_EINVAL);
    CHECK(ds_graph_search_path(&g, &s, 2, st, 4, NULL) == DS_EINVAL);
    CHECK(ds_graph_search_path(NULL, &s, 2, st, 4, &len) == DS_EINVAL);
    CHECK(ds_graph_search_path(&g, &s, 3, st, 4, &len) == DS_ENOTFOUND && len == 0);
    CHECK(ds_graph_search_path(&g, &s, 99, st, 4, &len) == DS_ENOTFOUND);
    /* unreachable target */
    CHECK(ds_graph_dijkstra(&g, &s, 0, 3) == DS_ENOTFOUND && !ds_graph_search_reached(&s, 3));
    CHECK(ds_graph_search_dist(&s, 3) == HUGE_VAL && ds_graph_search_dist(&s, 2) == 4.0);
    CHECK(ds_graph_search_path(&g, &s, 3, st, 4, &len) == DS_ENOTFOUND);
    /* a path asked of another graph */
    ds_graph_init(&g2, NULL);
    CHECK(ds_graph_add_nodes(&g2, 4, NULL) == DS_OK && ds_graph_add_edge(&g2, 1, 0, 0, 1) == DS_OK);
    CHECK(ds_graph_search_path(&g2, &s, 2, st, 4, &len) == DS_EINVAL);
    ds_graph_free(&g2);
    /* A*: a heuristic that goes negative or NaN */
    id = 1;
    CHECK(ds_graph_astar(&g, &s, 0, 2, h_bad, &id) == DS_EINVAL);
    CHECK(ds_graph_search_count(&s) == 0 && !ds_graph_search_reached(&s, 0)); /* no result */
    id = 0;
    CHECK(ds_graph_astar(&g, &s, 0, 2, h_bad, &id) == DS_EINVAL);
    CHECK(ds_graph_astar(&g, &s, 0, 2, h_nan, NULL) == DS_EINVAL);
    /* negative weights: BFS fine, Dijkstra and A* refuse */
    CHECK(ds_graph_add_edge(&g, 2, 3, 0, -1.0) == DS_OK);
    CHECK(ds_graph_bfs(&g, &s, 0, 3, DS_GRAPH_UNLIMITED) == DS_OK && ds_graph_search_depth(&s, 3) == 3);
    CHECK(ds_graph_dijkstra(&g, &s, 0, DS_GRAPH_NONE) == DS_EINVAL);
    CHECK(ds_graph_astar(&g, &s, 0, 3, NULL, NULL) == DS_EINVAL);
    CHECK(ds_graph_freeze(&g) == DS_OK && ds_graph_dijkstra(&g, &s, 0, 1) == DS_EINVAL);
    ds_graph_free(&g);
    e.weight = -2;
    CHECK(ds_graph_build(&g, 2, &e, 1) == DS_OK && ds_graph_dijkstra(&g, &s, 0, 1) == DS_EINVAL);
    /* results of a NULL or unused scratch */
    CHECK(ds_graph_search_count(NULL) == 0 && ds_graph_search_nodes(NULL) == NULL);
    CHECK(ds_graph_search_expanded(NULL) == 0 && !ds_graph_search_reached(NULL, 0));
    CHECK(ds_graph_search_depth(NULL, 0) == DS_GRAPH_NONE && ds_graph_search_dist(NULL, 0) == HUGE_VAL);
    ds_graph_search_free(&s);
    CHECK(ds_graph_search_count(&s) == 0 && !ds_graph_search_reached(&s, 0));
    ds_graph_free(&g);
    /* TSP */
    CHECK(ds_tsp_solve(0, ds_tsp_euclid_dist, xy, 0, tour, &L) == DS_EINVAL);
    CHECK(ds_tsp_solve(4, NULL, xy, 0, tour, &L) == DS_EINVAL);
    CHECK(ds_tsp_solve(4, ds_tsp_euclid_dist, xy, 4, tour, &L) == DS_EINVAL);
    CHECK(ds_tsp_solve(4, ds_tsp_euclid_dist, xy, 0, NULL, &L) == DS_EINVAL);
    CHECK(ds_tsp_solve(4, ds_tsp_euclid_dist, NULL, 0, tour, &L) == DS_EINVAL);
    CHECK(ds_tsp_solve(4, ds_tsp_matrix_dist, &M, 0, tour, &L) == DS_EINVAL); /* matrix too small */
    CHECK(is_perm(tour, 4));
    tour[2] = 7;
    CHECK(ds_tsp_two_opt(4, ds_tsp_euclid_dist, xy, tour, &L) == DS_EINVAL);
    CHECK(ds_tsp_two_opt(4, ds_tsp_euclid_dist, xy, NULL, &L) == DS_EINVAL);
    bad_m[1] = -1;
    CHECK(ds_tsp_solve(2, ds_tsp_matrix_dist, &M, 0, tour, &L) == DS_EINVAL);
    bad_m[1] = sqrt(-1.0);
    CHECK(ds_tsp_solve(2, ds_tsp_matrix_dist, &M, 1, tour, &L) == DS_EINVAL);
    CHECK(ds_tsp_length(4, NULL, xy, tour) == 0 && ds_tsp_length(1, ds_tsp_euclid_dist, xy, tour) == 0);
    CHECK(ds_tsp_solve(1, ds_tsp_euclid_dist, xy, 0, tour, &L) == DS_OK && tour[0] == 0 && L == 0);
    CHECK(ds_tsp_solve(4, ds_tsp_euclid_dist, xy, 2, tour, &L) == DS_OK && L == 4.0 && tour[0] == 2);
}

/* ---- allocation failures ------------------------------------------------- */

/* The model: node count, names, labels and arcs in insertion order. */
typedef struct omodel {
    size_t n, m, labels;
    char names[64][12];     /* "" = unnamed */
    char lnames[8][12];
    ds_graph_edge e[256];
} omodel;

static int om_equal(const ds_graph *g, const omodel *o) {
    uint32_t u, id;
    size_t i;
    CHECK_OR(ds_graph_nodes(g) == o->n && ds_graph_edges(g) == o->m, 0);
    for (u = 0; u < o->n; u++) {
        size_t deg, j = 0;
        const ds_graph_arc *a = ds_graph_out(g, u, &deg);
        for (i = 0; i < o->m; i++) {
            if (o->e[i].from != u) continue;
            CHECK_OR(j < deg && a[j].to == o->e[i].to && a[j].label == o->e[i].label &&
                     a[j].weight == o->e[i].weight, 0);
            j++;
        }
        CHECK_OR(j == deg, 0);
        if (o->names[u][0]) {
            CHECK_OR(ds_graph_node_name(g, u) && strcmp(ds_graph_node_name(g, u), o->names[u]) == 0, 0);
            CHECK_OR(ds_graph_node_get(g, o->names[u], &id) == DS_OK && id == u, 0);
        } else {
            CHECK_OR(ds_graph_node_name(g, u) == NULL, 0);
        }
    }
    for (i = 0; i < o->labels; i++) {
        CHECK_OR(strcmp(ds_graph_label_name(g, (uint32_t)i), o->lnames[i]) == 0, 0);
        CHECK_OR(ds_graph_label_get(g, o->lnames[i], &id) == DS_OK && id == i, 0);
    }
    CHECK_OR(ds_graph_label_name(g, (uint32_t)o->labels) == NULL, 0);
    return 1;
}

static uint32_t om_node(omodel *o, const char *name) {
    uint32_t u;
    for (u = 0; u < o->n; u++)
        if (strcmp(o->names[u], name) == 0) return u;
    strcpy(o->names[o->n], name);
    return (uint32_t)o->n++;
}
static uint32_t om_label(omodel *o, const char *name) {
    uint32_t l;
    for (l = 0; l < o->labels; l++)
        if (strcmp(o->lnames[l], name) == 0) return l;
    strcpy(o->lnames[o->labels], name);
    return (uint32_t)o->labels++;
}
static void om_edge(omodel *o, uint32_t a, uint32_t b, uint32_t l, double w) {
    o->e[o->m].from = a;
    o->e[o->m].to = b;
    o->e[o->m].label = l;
    o->e[o->m].weight = w;
    o->m++;
}

static int graph_oom_seq(uint64_t seed, prop_alloc *pa) {
    static omodel o;
    ds_graph g;
    ds_graph_search s;
    ds_rng r;
    int i;
    const ds_alloc *a = pa ? &pa->a : NULL;
    ds_rng_seed(&r, seed);
    memset(&o, 0, sizeof o);
    ds_graph_init(&g, a);
    ds_graph_search_init(&s, a);
    for (i = 0; i < 80; i++) {
        long before = PROP_FAILS(pa);
        int frozen = ds_graph_is_frozen(&g);
        size_t mem = ds_graph_memory(&g);
        ds_status st = DS_OK;
        char x[12], y[12], l[12];
        unsigned op = (unsigned)ds_rng_below(&r, 9);
        if (o.n >= 56 || o.m >= 250) op = 7 + (unsigned)ds_rng_below(&r, 2); /* searches only */
        snprintf(x, sizeof x, "n%u", (unsigned)ds_rng_below(&r, 40));
        snprintf(y, sizeof y, "n%u", (unsigned)ds_rng_below(&r, 40));
        snprintf(l, sizeof l, "r%u", (unsigned)ds_rng_below(&r, 6));
        switch (op) {
        case 0:
        case 1: { /* link by names */
            double w = (double)ds_rng_below(&r, 5);
            st = ds_graph_link(&g, x, l, y, w);
            if (st == DS_OK) {
                uint32_t u = om_node(&o, x), v = om_node(&o, y);
                om_edge(&o, u, v, om_label(&o, l), w);
            }
            break;
        }
        case 2: { /* a named node */
            uint32_t id;
            st = ds_graph_node_put(&g, x, &id);
            if (st == DS_OK) CHECK_OR(id == om_node(&o, x), 1);
            break;
        }
        case 3: { /* unnamed nodes */
            size_t k = (size_t)ds_rng_below(&r, 3);
            st = ds_graph_add_nodes(&g, k, NULL);
            if (st == DS_OK) o.n += k;
            break;
        }
        case 4: /* an edge by id (thaws a frozen graph) */
            if (o.n) {
                uint32_t u = (uint32_t)ds_rng_below(&r, o.n), v = (uint32_t)ds_rng_below(&r, o.n);
                st = ds_graph_add_edge(&g, u, v, 3, 1.0);
                if (st == DS_OK) om_edge(&o, u, v, 3, 1.0);
            }
            break;
        case 5:
            st = ds_graph_freeze(&g);
            if (st == DS_OK) CHECK_OR(ds_graph_is_frozen(&g), 1);
            break;
        case 6: { /* bulk */
            ds_graph_edge e[4];
            size_t k, cnt = (size_t)ds_rng_below(&r, 5), add = 1;
            for (k = 0; k < cnt; k++) {
                e[k].from = (uint32_t)ds_rng_below(&r, o.n + add);
                e[k].to = (uint32_t)ds_rng_below(&r, o.n + add);
                e[k].label = 5;
                e[k].weight = 2.0;
            }
            st = ds_graph_build(&g, add, e, cnt);
            if (st == DS_OK) {
                o.n += add;
                for (k = 0; k < cnt; k++) om_edge(&o, e[k].from, e[k].to, 5, 2.0);
                CHECK_OR(ds_graph_is_frozen(&g), 1);
            }
            break;
        }
        default: /* searches: the scratch and the heap grow */
            if (o.n) {
                uint32_t src = (uint32_t)ds_rng_below(&r, o.n), dst = (uint32_t)ds_rng_below(&r, o.n);
                st = op == 7 ? ds_graph_dijkstra(&g, &s, src, DS_GRAPH_NONE)
                             : ds_graph_bfs(&g, &s, src, dst, DS_GRAPH_UNLIMITED);
                if (st == DS_ENOTFOUND) st = DS_OK;
                if (st == DS_ENOMEM) CHECK_OR(ds_graph_search_count(&s) == 0, 1);
                else CHECK_OR(st == DS_OK && ds_graph_search_reached(&s, src), 1);
            }
        }
        if (st == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            CHECK_OR(ds_graph_is_frozen(&g) == frozen, 1);
            if (op < 7) CHECK_OR(ds_graph_memory(&g) == mem, 1); /* capacity too */
        } else {
            CHECK_OR(st == DS_OK, 1);
        }
        if (!om_equal(&g, &o)) return 1;
    }
    ds_graph_search_free(&s);
    ds_graph_free(&g);
    return 0;
}

void test_graph_oom(void) {
    long total = 0;
    CHECK(graph_oom_seq(11, NULL) == 0);
    CHECK(prop_oom_sweep(graph_oom_seq, 11, &total) == 0);
    CHECK(total > 20);
}
