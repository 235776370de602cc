/* src/graph.h - ds_graph, ds_tsp: weighted digraph, BFS, Dijkstra, A*; TSP heuristics
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/graph.h"
 */
#ifndef DS_SRC_GRAPH_H
#define DS_SRC_GRAPH_H
#include "core.h"
#include "map.h"
#include "heap.h"
#include "vec.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:graph ==  ds_graph: labelled weighted digraph, BFS, Dijkstra, A*; TSP
 * ========================================================================
 * A directed multigraph over dense node ids 0..nodes-1 (uint32). Each edge
 * carries a label (a uint32 of the caller's choosing, or an interned string
 * id from ds_graph_label_put) and a finite double weight. Parallel edges
 * and self-loops are allowed. Nodes may have string names (a knowledge
 * graph's entities): name -> id through a hash map, id -> name through an
 * array; labels likewise.
 *
 * Two storage forms, one type:
 *   incremental  each node owns a growable vector of its out-arcs:
 *                add_node / add_edge are O(1) amortised
 *   frozen (CSR) one offsets array (nodes + 1) and one arc array (edges),
 *                arcs of a node contiguous and in insertion order: 16 bytes
 *                an edge plus 8 a node, no per-node allocation, the fastest
 *                to search. ds_graph_freeze converts in place; ds_graph_build
 *                bulk-loads an edge list straight into it (counting sort).
 * Every search runs on either form and gives identical results (same arc
 * order, same tie-breaking). Adding a node to a frozen graph is O(1)
 * amortised; adding an edge to one first converts it back to the
 * incremental form, O(nodes + edges) once.
 *
 *   ds_status ds_graph_init(ds_graph *g, const ds_alloc *a)     allocates nothing
 *   void   ds_graph_free(ds_graph *g)
 *   ds_status ds_graph_add_node(ds_graph *g, uint32_t *id)   a new unnamed node
 *   ds_status ds_graph_add_nodes(ds_graph *g, size_t count, uint32_t *first)
 *          ids first .. first + count - 1. DS_EINVAL past UINT32_MAX - 1 nodes
 *   ds_status ds_graph_add_edge(ds_graph *g, uint32_t from, uint32_t to, uint32_t label,
 *                               double weight)
 *          DS_EINVAL: a node id >= nodes, weight NaN or infinite, a node
 *          with UINT32_MAX out-arcs. Negative weights are accepted (BFS
 *          ignores weights) but make Dijkstra and A* refuse (DS_EINVAL)
 *   ds_status ds_graph_freeze(ds_graph *g)       to CSR; O(nodes + edges)
 *   int    ds_graph_is_frozen(const ds_graph *g)
 *   ds_status ds_graph_build(ds_graph *g, size_t nodes, const ds_graph_edge *edges, size_t m)
 *          add `nodes` new nodes, then the m edges (ends < the new node
 *          count), leaving the graph frozen; a node's existing arcs stay
 *          first, new ones follow in the order given. O(nodes + edges),
 *          two allocations. Same DS_EINVAL cases as add_edge (checked
 *          before anything changes)
 *   const ds_graph_arc *ds_graph_out(const ds_graph *g, uint32_t u, size_t *deg)
 *          u's out-arcs (to, label, weight) and their count; NULL and 0
 *          for an unknown u or no arcs. Valid until the graph changes
 *   size_t ds_graph_nodes(g), ds_graph_edges(g), ds_graph_memory(g) (bytes held)
 *
 * Names (NUL-terminated strings, copied into the graph):
 *   ds_status ds_graph_node_put(ds_graph *g, const char *name, uint32_t *id)
 *          the id of the node with this name, added if new
 *   ds_status ds_graph_node_get(const ds_graph *g, const char *name, uint32_t *id)
 *          DS_ENOTFOUND if no node has this name
 *   const char *ds_graph_node_name(const ds_graph *g, uint32_t id)   NULL if unnamed
 *   ds_status ds_graph_label_put / ds_graph_label_get / ds_graph_label_name
 *          the same for labels: interned ids are dense from 0 in order of
 *          first use (mixing them with ids of your own is up to you)
 *   ds_status ds_graph_link(ds_graph *g, const char *from, const char *label,
 *                           const char *to, double weight)
 *          put both nodes and the label, then add the edge (the seed's
 *          add_edge(source, relation, target)); all or nothing
 *
 * Searches. A ds_graph_search holds the scratch and the result of one
 * search: per-node distance and predecessor, plus the heap. It is
 * sized to the graph on first use and reused: a later search on a graph
 * no larger allocates nothing (a per-search epoch stamp means nothing is
 * cleared either; the stamps are reset once every 2^30 searches). Results
 * stay readable until the next search on the same scratch; path queries
 * need the graph unchanged since. One scratch per thread: searches only
 * read the graph, so any number may run on one graph at once.
 *
 *   ds_status ds_graph_search_init(ds_graph_search *s, const ds_alloc *a)   allocates nothing
 *   void   ds_graph_search_free(ds_graph_search *s)
 *   ds_status ds_graph_bfs(const ds_graph *g, ds_graph_search *s, uint32_t src,
 *                          uint32_t dst, uint32_t max_hops)
 *          breadth-first from src over at most max_hops edges
 *          (DS_GRAPH_UNLIMITED for no limit): every node within max_hops
 *          is reached, with its exact hop count as depth. dst ==
 *          DS_GRAPH_NONE explores all of them; otherwise the search stops
 *          once dst is reached, and the path to it is an unweighted
 *          shortest path (fewest edges). DS_ENOTFOUND: dst not within
 *          max_hops. O(nodes reached + their out-arcs)
 *   ds_status ds_graph_dijkstra(const ds_graph *g, ds_graph_search *s, uint32_t src,
 *                               uint32_t dst)
 *          shortest weighted paths from src (Dijkstra 1959) on an indexed
 *          4-ary heap with decrease-key (each node enters and leaves the
 *          queue once; Johnson's d-heap, 1975, as Boost.Graph uses; the
 *          lazy-deletion binary heap it replaced pushed about 2 entries a
 *          node on bench_graph's random graph). dst == DS_GRAPH_NONE
 *          settles every reachable node; otherwise it stops once dst is
 *          settled. DS_EINVAL: the graph has a negative weight.
 *          DS_ENOTFOUND: dst unreachable (the reachable set is still the
 *          result). O(edges + nodes log nodes) comparisons at most 4 per
 *          level; scratch 20 bytes a node beside the 24 every search keeps
 *   ds_status ds_graph_astar(const ds_graph *g, ds_graph_search *s, uint32_t src,
 *                            uint32_t dst, ds_graph_heuristic h, void *ctx)
 *          A* (Hart, Nilsson, Raphael 1968) to dst: expands by g + h(v), h
 *          called once per node reached, ties at equal g + h broken toward
 *          smaller h (deeper first). With an admissible h (never above the true
 *          remaining cost) the path to dst is a shortest one; a consistent
 *          h (h(u) <= w(u,v) + h(v)) expands each node at most once, an
 *          inconsistent one may reopen nodes. h NULL is Dijkstra stopping
 *          at dst. DS_EINVAL also when dst is DS_GRAPH_NONE or h returns a
 *          negative, NaN or infinite value
 *   Shared errors: DS_EINVAL for NULL g or s, or src/dst >= nodes;
 *   DS_ENOMEM when the scratch or A*'s heap cannot grow (the scratch then
 *   holds no result; the graph is never changed by a search).
 *
 * Reading a result (O(1) unless said otherwise):
 *   size_t ds_graph_search_count(s); const uint32_t *ds_graph_search_nodes(s)
 *          the nodes reached: BFS in discovery order (source first, depth
 *          non-decreasing), Dijkstra and A* in the order they were settled
 *   size_t ds_graph_search_expanded(s)
 *          nodes expanded: BFS, those whose arcs were scanned; Dijkstra and
 *          A*, those taken off the heap to be settled, dst included (A*
 *          counts a reopened node again)
 *   int    ds_graph_search_reached(s, v)
 *   uint32_t ds_graph_search_depth(s, v)   hops on the path found; DS_GRAPH_NONE if not reached
 *          (O(1) after BFS, O(hops) after Dijkstra and A*)
 *   double ds_graph_search_dist(s, v)      weight of that path (BFS: hops);
 *          HUGE_VAL if not reached. After Dijkstra every reached node's
 *          distance is the shortest; after A* dst's is, and with a
 *          consistent h so is every settled node's
 *   ds_status ds_graph_search_path(const ds_graph *g, const ds_graph_search *s, uint32_t v,
 *                                  ds_graph_step *out, size_t cap, size_t *len)
 *          the path src -> v as steps (from, label, to, weight), in order;
 *          *len = its length (0 for v == src). DS_ENOTFOUND: v not reached;
 *          DS_EFULL: cap < *len (nothing written; call with cap 0 to size);
 *          DS_EINVAL: NULL s/len, or g is not the graph searched. O(hops)
 * Scratch memory: 24 bytes a node, plus the heap (16 bytes an entry; lazy
 * deletion keeps stale entries, up to one per improvement: on bench_graph's
 * random graph, mean degree 10, its peak stayed under 1.31 x nodes), plus 8
 * bytes a node for A*.
 *
 * TSP heuristic for small instances (up to about a thousand cities):
 * nearest neighbour (Rosenkrantz, Stearns, Lewis 1977) then 2-opt (Croes
 * 1958) to a local optimum. Distances come from a callback (a matrix and
 * planar points are ready-made below) and must be finite, >= 0 and
 * symmetric. A tour is a permutation of 0..n-1, closed back to its start.
 * Nothing allocates.
 *   ds_status ds_tsp_nearest_neighbor(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
 *                                     uint32_t *tour, double *length)
 *          tour[0] = start, then always the nearest unvisited city; O(n^2)
 *   ds_status ds_tsp_two_opt(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t *tour,
 *                            double *length)
 *          improve a tour in place by segment reversals until none helps;
 *          the result is never longer than the input. O(n^2) a pass
 *   ds_status ds_tsp_solve(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
 *                          uint32_t *tour, double *length)
 *          both; *length (may be NULL) is the closed tour's length
 *   double ds_tsp_length(size_t n, ds_tsp_dist_fn d, void *ctx, const uint32_t *tour)
 *   double ds_tsp_matrix_dist(void *ctx, uint32_t i, uint32_t j)  ctx: a ds_tsp_matrix
 *   double ds_tsp_euclid_dist(void *ctx, uint32_t i, uint32_t j)  ctx: const double xy[2n]
 *   DS_EINVAL: n == 0 or above UINT32_MAX, NULL d or tour, start >= n, a
 *   tour entry >= n, a distance negative, NaN or infinite (the tour is
 *   then still a permutation).
 * Thread-safety: none for writers; concurrent readers (searches with their
 * own scratch, out, names) are fine. */
#define DS_GRAPH_NONE UINT32_MAX      /* no node: "no target", "not reached" */
#define DS_GRAPH_UNLIMITED UINT32_MAX /* max_hops: no limit */

/* One out-arc as stored: 16 bytes. */
typedef struct ds_graph_arc {
    uint32_t to, label;
    double weight;
} ds_graph_arc;

/* An edge for ds_graph_build. */
typedef struct ds_graph_edge {
    uint32_t from, to, label;
    double weight;
} ds_graph_edge;

/* One step of a path: the edge from -label-> to and its weight. */
typedef struct ds_graph_step {
    uint32_t from, label, to;
    double weight;
} ds_graph_step;

/* A* heuristic: an estimate of the cost from node to target (>= 0). */
typedef double (*ds_graph_heuristic)(void *ctx, uint32_t node, uint32_t target);

typedef struct ds__garcs { /* a node's out-arcs in the incremental form */
    ds_graph_arc *a;
    uint32_t len, cap;
} ds__garcs;

DS__MAP_TYPES(ds__gnames, const char *, uint32_t);

typedef struct ds_graph {
    size_t nodes, edges;
    size_t negative;          /* edges with weight < 0 */
    ds__garcs *adj;           /* incremental form (NULL when frozen) */
    size_t adj_cap;
    size_t *off;              /* frozen: arcs of u are arcs[off[u] .. off[u+1]) */
    size_t off_cap;
    ds_graph_arc *arcs;
    const char **node_name;   /* [0, name_len): NULL for unnamed */
    size_t name_len, name_cap;
    const char **label_name;  /* interned labels [0, label_len) */
    size_t label_len, label_cap;
    ds__gnames node_ids, label_ids;
    void *chunks;             /* name bytes: a list of chunks, newest first */
    size_t chunk_used, chunk_size, chunk_bytes;
    const ds_alloc *alloc;
} ds_graph;

typedef struct ds__gslot { /* a node's search state, 16 bytes */
    double dist;              /* BFS: the hop count */
    uint32_t pred, via;       /* predecessor and the index of the arc in its out-list */
} ds__gslot;
typedef struct ds__gitem {
    double key;
    uint32_t node, tie;       /* A*: tie, smaller first at equal key; the 4-ary queue: unused */
} ds__gitem;
DS__HEAP_TYPES(ds__gheapt, ds__gitem);  /* A*: by key, then tie */

typedef struct ds_graph_search {
    /* one block: slot[cap], stamp[cap], order[cap]. stamp: epoch open,
     * +1 settled, +2 reopened, anything else untouched (4 bytes a node,
     * apart: it stays in cache, and a settled target costs no miss) */
    ds__gslot *slot;
    uint32_t *stamp;
    uint32_t *order;          /* nodes reached / settled, in that order */
    double *h;                /* A*: the heuristic of each node reached */
    size_t cap, hcap;
    size_t count, expanded;
    uint32_t epoch, source;
    int valid;                /* holds a result */
    int hops;                 /* it was a BFS: slot.dist is the hop count */
    ds__gitem *q;             /* Dijkstra: an indexed 4-ary heap of open nodes */
    uint32_t *qpos;           /* each open node's place in q */
    size_t qcap;
    ds__gheapt theap;         /* A*: a lazy-deletion binary heap */
    const ds_alloc *alloc;
} ds_graph_search;

DSDEF ds_status ds_graph_init(ds_graph *g, const ds_alloc *a);
DSDEF void ds_graph_free(ds_graph *g);
DSDEF ds_status ds_graph_add_node(ds_graph *g, uint32_t *id);
DSDEF ds_status ds_graph_add_nodes(ds_graph *g, size_t count, uint32_t *first);
DSDEF ds_status ds_graph_add_edge(ds_graph *g, uint32_t from, uint32_t to, uint32_t label,
                                  double weight);
DSDEF ds_status ds_graph_freeze(ds_graph *g);
DSDEF int ds_graph_is_frozen(const ds_graph *g);
DSDEF ds_status ds_graph_build(ds_graph *g, size_t nodes, const ds_graph_edge *edges, size_t m);
DSDEF const ds_graph_arc *ds_graph_out(const ds_graph *g, uint32_t u, size_t *deg);
DSDEF size_t ds_graph_nodes(const ds_graph *g);
DSDEF size_t ds_graph_edges(const ds_graph *g);
DSDEF size_t ds_graph_memory(const ds_graph *g);
DSDEF ds_status ds_graph_node_put(ds_graph *g, const char *name, uint32_t *id);
DSDEF ds_status ds_graph_node_get(const ds_graph *g, const char *name, uint32_t *id);
DSDEF const char *ds_graph_node_name(const ds_graph *g, uint32_t id);
DSDEF ds_status ds_graph_label_put(ds_graph *g, const char *name, uint32_t *id);
DSDEF ds_status ds_graph_label_get(const ds_graph *g, const char *name, uint32_t *id);
DSDEF const char *ds_graph_label_name(const ds_graph *g, uint32_t id);
DSDEF ds_status ds_graph_link(ds_graph *g, const char *from, const char *label, const char *to,
                              double weight);

DSDEF ds_status ds_graph_search_init(ds_graph_search *s, const ds_alloc *a);
DSDEF void ds_graph_search_free(ds_graph_search *s);
DSDEF ds_status ds_graph_bfs(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst,
                             uint32_t max_hops);
DSDEF ds_status ds_graph_dijkstra(const ds_graph *g, ds_graph_search *s, uint32_t src,
                                  uint32_t dst);
DSDEF ds_status ds_graph_astar(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst,
                               ds_graph_heuristic h, void *ctx);
DSDEF size_t ds_graph_search_count(const ds_graph_search *s);
DSDEF const uint32_t *ds_graph_search_nodes(const ds_graph_search *s);
DSDEF size_t ds_graph_search_expanded(const ds_graph_search *s);
DSDEF int ds_graph_search_reached(const ds_graph_search *s, uint32_t v);
DSDEF uint32_t ds_graph_search_depth(const ds_graph_search *s, uint32_t v);
DSDEF double ds_graph_search_dist(const ds_graph_search *s, uint32_t v);
DSDEF ds_status ds_graph_search_path(const ds_graph *g, const ds_graph_search *s, uint32_t v,
                                     ds_graph_step *out, size_t cap, size_t *len);

typedef double (*ds_tsp_dist_fn)(void *ctx, uint32_t i, uint32_t j);
/* A row-major n x n distance matrix: d[i * n + j]. */
typedef struct ds_tsp_matrix {
    const double *d;
    size_t n;
} ds_tsp_matrix;
DSDEF ds_status ds_tsp_nearest_neighbor(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
                                        uint32_t *tour, double *length);
DSDEF ds_status ds_tsp_two_opt(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t *tour,
                               double *length);
DSDEF ds_status ds_tsp_solve(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
                             uint32_t *tour, double *length);
DSDEF double ds_tsp_length(size_t n, ds_tsp_dist_fn d, void *ctx, const uint32_t *tour);
DSDEF double ds_tsp_matrix_dist(void *ctx, uint32_t i, uint32_t j);
DSDEF double ds_tsp_euclid_dist(void *ctx, uint32_t i, uint32_t j);

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_GRAPH_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_GRAPH_IMPL)
#define DS_SRC_GRAPH_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:graph == */

DS__MAP_PROTOS(ds__gnames, const char *, uint32_t, DS__LINK_STATIC);
DS__MAP_IMPL(ds__gnames, const char *, uint32_t, ds_hash_str, ds_eq_str, DS__LINK_STATIC)

/* Heap order: smaller key, then smaller tie (A* passes UINT32_MAX - hops,
 * so at equal f the deeper node comes first). */
#define ds__gitem_less_tie(a, b) ((a).key < (b).key || ((a).key == (b).key && (a).tie < (b).tie))
DS__HEAP_PROTOS(ds__gheapt, ds__gitem, DS__LINK_STATIC);
DS__HEAP_IMPL(ds__gheapt, ds__gitem, ds__gitem_less_tie, DS__LINK_STATIC)

/* A chunk of name bytes; the bytes follow the header. */
typedef struct ds__gchunk {
    struct ds__gchunk *next;
    size_t size;
} ds__gchunk;

static int ds__gw_ok(double w) { return w == w && w != HUGE_VAL && w != -HUGE_VAL; }

/* u's out-arcs on either form; NULL when it has none (no NULL + 0). */
DS__INLINE const ds_graph_arc *ds__graph_arcs(const ds_graph *g, uint32_t u, size_t *deg) {
    if (g->off) {
        size_t d = g->off[u + 1] - g->off[u];
        *deg = d;
        return d ? g->arcs + g->off[u] : NULL;
    }
    *deg = g->adj[u].len;
    return g->adj[u].a;
}

static void ds__graph_free_adj(const ds_alloc *a, ds__garcs *adj, size_t n, size_t cap) {
    size_t i;
    if (!adj) return;
    for (i = 0; i < n; i++)
        if (adj[i].a) DS_FREE(a, adj[i].a, (size_t)adj[i].cap * sizeof(ds_graph_arc));
    DS_FREE(a, adj, cap * sizeof *adj);
}

/* Release the arc storage of whichever form g is in. */
static void ds__graph_free_storage(ds_graph *g) {
    ds__graph_free_adj(g->alloc, g->adj, g->nodes, g->adj_cap);
    if (g->off) DS_FREE(g->alloc, g->off, g->off_cap * sizeof(size_t));
    if (g->arcs) DS_FREE(g->alloc, g->arcs, g->edges * sizeof(ds_graph_arc));
    g->adj = NULL;
    g->off = NULL;
    g->arcs = NULL;
    g->adj_cap = g->off_cap = 0;
}

DSDEF ds_status ds_graph_init(ds_graph *g, const ds_alloc *a) {
    if (!g) return DS_EINVAL;
    memset(g, 0, sizeof *g);
    g->alloc = a;
    ds__gnames_init_alloc(&g->node_ids, a);
    ds__gnames_init_alloc(&g->label_ids, a);
    return DS_OK;
}

DSDEF void ds_graph_free(ds_graph *g) {
    ds__gchunk *c;
    const ds_alloc *a;
    if (!g) return;
    a = g->alloc;
    ds__graph_free_storage(g);
    if (g->node_name) DS_FREE(a, (void *)g->node_name, g->name_cap * sizeof(char *));
    if (g->label_name) DS_FREE(a, (void *)g->label_name, g->label_cap * sizeof(char *));
    ds__gnames_free(&g->node_ids);
    ds__gnames_free(&g->label_ids);
    for (c = (ds__gchunk *)g->chunks; c;) {
        ds__gchunk *next = c->next;
        DS_FREE(a, c, sizeof *c + c->size);
        c = next;
    }
    ds_graph_init(g, a);
}

/* Room for k more nodes in the node storage of g's current form. */
static ds_status ds__graph_node_room(ds_graph *g, size_t k) {
    void *p;
    ds_status st;
    if (k > (size_t)UINT32_MAX - g->nodes) return DS_EINVAL; /* ids stay below DS_GRAPH_NONE */
    if (g->off) {
        p = g->off;
        st = ds__vec_grow(&p, &g->off_cap, g->nodes + k + 1, sizeof(size_t), g->alloc);
        g->off = (size_t *)p;
    } else {
        p = g->adj;
        st = ds__vec_grow(&p, &g->adj_cap, g->nodes + k, sizeof(ds__garcs), g->alloc);
        g->adj = (ds__garcs *)p;
    }
    return st;
}

/* Add k nodes whose room was made: cannot fail. */
static void ds__graph_node_commit(ds_graph *g, size_t k) {
    size_t i;
    if (g->off) {
        for (i = 1; i <= k; i++) g->off[g->nodes + i] = g->off[g->nodes];
    } else if (k) {
        memset(g->adj + g->nodes, 0, k * sizeof *g->adj);
    }
    g->nodes += k;
}

DSDEF ds_status ds_graph_add_nodes(ds_graph *g, size_t count, uint32_t *first) {
    ds_status st;
    if (!g) return DS_EINVAL;
    if ((st = ds__graph_node_room(g, count)) != DS_OK) return st;
    if (first) *first = (uint32_t)g->nodes;
    ds__graph_node_commit(g, count);
    return DS_OK;
}

DSDEF ds_status ds_graph_add_node(ds_graph *g, uint32_t *id) { return ds_graph_add_nodes(g, 1, id); }

/* Back to the incremental form, O(nodes + edges): a new adjacency array
 * of at least min_cap nodes, built beside the frozen one (which stays until
 * ds__graph_thaw_commit). Node `extra` gets room for one more arc, so the
 * add that asked cannot fail afterwards. All or nothing. */
static ds_status ds__graph_thaw_alloc(const ds_graph *g, uint32_t extra, size_t min_cap, ds__garcs **out,
                                      size_t *out_cap) {
    size_t cap = g->nodes < 8 ? 8 : g->nodes, bytes, i;
    ds__garcs *adj;
    if (cap < min_cap) cap = min_cap;
    if (!ds_size_mul(cap, sizeof *adj, &bytes)) return DS_EINVAL;
    adj = (ds__garcs *)DS_MALLOC(g->alloc, bytes);
    if (!adj) return DS_ENOMEM;
    for (i = 0; i < g->nodes; i++) {
        size_t deg = g->off[i + 1] - g->off[i];
        uint32_t c = (uint32_t)deg + (uint32_t)(i == extra);
        adj[i].len = (uint32_t)deg;
        adj[i].cap = c;
        adj[i].a = NULL;
        if (c) {
            adj[i].a = (ds_graph_arc *)DS_MALLOC(g->alloc, (size_t)c * sizeof(ds_graph_arc));
            if (!adj[i].a) {
                ds__graph_free_adj(g->alloc, adj, i, cap);
                return DS_ENOMEM;
            }
            if (deg) memcpy(adj[i].a, g->arcs + g->off[i], deg * sizeof(ds_graph_arc));
        }
    }
    *out = adj;
    *out_cap = cap;
    return DS_OK;
}
static void ds__graph_thaw_commit(ds_graph *g, ds__garcs *adj, size_t cap) {
    ds__graph_free_storage(g);
    g->adj = adj;
    g->adj_cap = cap;
}
static ds_status ds__graph_thaw(ds_graph *g, uint32_t extra) {
    ds__garcs *adj;
    size_t cap;
    ds_status st = ds__graph_thaw_alloc(g, extra, 0, &adj, &cap);
    if (st == DS_OK) ds__graph_thaw_commit(g, adj, cap);
    return st;
}

/* The next out-list capacity after c (0 -> 2, doubling, capped). */
static uint32_t ds__graph_arcs_next(uint32_t c) {
    return c == 0 ? 2 : c > UINT32_MAX / 2 ? UINT32_MAX : c * 2;
}

DSDEF ds_status ds_graph_add_edge(ds_graph *g, uint32_t from, uint32_t to, uint32_t label,
                                  double weight) {
    ds__garcs *e;
    ds_status st;
    if (!g || from >= g->nodes || to >= g->nodes || !ds__gw_ok(weight)) return DS_EINVAL;
    if (g->off) {
        if (g->off[from + 1] - g->off[from] >= UINT32_MAX) return DS_EINVAL;
        if ((st = ds__graph_thaw(g, from)) != DS_OK) return st;
    }
    e = &g->adj[from];
    if (e->len == UINT32_MAX) return DS_EINVAL;
    if (e->len == e->cap) {
        uint32_t nc = ds__graph_arcs_next(e->cap);
        size_t nb = (size_t)nc * sizeof(ds_graph_arc), ob = (size_t)e->cap * sizeof(ds_graph_arc);
        void *p = e->a ? DS_REALLOC(g->alloc, e->a, ob, nb) : DS_MALLOC(g->alloc, nb);
        if (!p) return DS_ENOMEM;
        e->a = (ds_graph_arc *)p;
        e->cap = nc;
    }
    e->a[e->len].to = to;
    e->a[e->len].label = label;
    e->a[e->len].weight = weight;
    e->len++;
    g->edges++;
    if (weight < 0) g->negative++;
    return DS_OK;
}

DSDEF ds_status ds_graph_freeze(ds_graph *g) {
    size_t ocap, bytes, i, k = 0;
    size_t *off;
    ds_graph_arc *arcs = NULL;
    if (!g) return DS_EINVAL;
    if (g->off) return DS_OK;
    ocap = g->nodes + 1;
    if (!ds_size_mul(ocap, sizeof(size_t), &bytes)) return DS_EINVAL;
    off = (size_t *)DS_MALLOC(g->alloc, bytes);
    if (!off) return DS_ENOMEM;
    if (g->edges) {
        if (!ds_size_mul(g->edges, sizeof(ds_graph_arc), &bytes) ||
            !(arcs = (ds_graph_arc *)DS_MALLOC(g->alloc, bytes))) {
            DS_FREE(g->alloc, off, ocap * sizeof(size_t));
            return DS_ENOMEM;
        }
    }
    for (i = 0; i < g->nodes; i++) {
        off[i] = k;
        if (g->adj[i].len) memcpy(arcs + k, g->adj[i].a, g->adj[i].len * sizeof(ds_graph_arc));
        k += g->adj[i].len;
    }
    off[g->nodes] = k;
    DS_ASSERT(k == g->edges);
    ds__graph_free_storage(g);
    g->off = off;
    g->off_cap = ocap;
    g->arcs = arcs;
    return DS_OK;
}

DSDEF int ds_graph_is_frozen(const ds_graph *g) { return g && g->off != NULL; }

/* Bulk load by counting sort (two passes over the edges); the offsets
 * array doubles as the write cursors, then shifts back by one. */
DSDEF ds_status ds_graph_build(ds_graph *g, size_t nodes, const ds_graph_edge *edges, size_t m) {
    size_t n, total, ocap, obytes, abytes, i, neg = 0;
    size_t *off;
    ds_graph_arc *arcs = NULL;
    if (!g || (m && !edges)) return DS_EINVAL;
    if (nodes > (size_t)UINT32_MAX - g->nodes) return DS_EINVAL;
    n = g->nodes + nodes;
    for (i = 0; i < m; i++) {
        if (edges[i].from >= n || edges[i].to >= n || !ds__gw_ok(edges[i].weight)) return DS_EINVAL;
        if (edges[i].weight < 0) neg++;
    }
    if (!ds_size_add(g->edges, m, &total) || !ds_size_mul(total, sizeof(ds_graph_arc), &abytes) ||
        !ds_size_mul(n + 1, sizeof(size_t), &obytes))
        return DS_EINVAL;
    ocap = n + 1;
    off = (size_t *)DS_MALLOC(g->alloc, obytes);
    if (!off) return DS_ENOMEM;
    memset(off, 0, obytes);
    for (i = 0; i < g->nodes; i++) {
        size_t d;
        ds__graph_arcs(g, (uint32_t)i, &d);
        off[i + 1] = d;
    }
    for (i = 0; i < m; i++) off[edges[i].from + 1]++;
    for (i = 1; i <= n; i++) {
        if (off[i] > UINT32_MAX) { /* a node with 2^32 out-arcs */
            DS_FREE(g->alloc, off, obytes);
            return DS_EINVAL;
        }
    }
    if (total && !(arcs = (ds_graph_arc *)DS_MALLOC(g->alloc, abytes))) {
        DS_FREE(g->alloc, off, obytes);
        return DS_ENOMEM;
    }
    for (i = 1; i <= n; i++) off[i] += off[i - 1]; /* off[u] = start of u */
    for (i = 0; i < g->nodes; i++) { /* existing arcs first; off[u] becomes a cursor */
        size_t d;
        const ds_graph_arc *a = ds__graph_arcs(g, (uint32_t)i, &d);
        if (d) memcpy(arcs + off[i], a, d * sizeof *a);
        off[i] += d;
    }
    for (i = 0; i < m; i++) {
        ds_graph_arc *x = &arcs[off[edges[i].from]++];
        x->to = edges[i].to;
        x->label = edges[i].label;
        x->weight = edges[i].weight;
    }
    for (i = n; i > 0; i--) off[i] = off[i - 1]; /* cursors are at the ends: shift back */
    off[0] = 0;
    ds__graph_free_storage(g);
    g->off = off;
    g->off_cap = ocap;
    g->arcs = arcs;
    g->nodes = n;
    g->edges = total;
    g->negative += neg;
    return DS_OK;
}

DSDEF const ds_graph_arc *ds_graph_out(const ds_graph *g, uint32_t u, size_t *deg) {
    size_t d = 0;
    const ds_graph_arc *a = NULL;
    if (g && u < g->nodes) a = ds__graph_arcs(g, u, &d);
    if (deg) *deg = d;
    return d ? a : NULL;
}

DSDEF size_t ds_graph_nodes(const ds_graph *g) { return g ? g->nodes : 0; }
DSDEF size_t ds_graph_edges(const ds_graph *g) { return g ? g->edges : 0; }

DSDEF size_t ds_graph_memory(const ds_graph *g) {
    size_t b, i;
    if (!g) return 0;
    b = g->chunk_bytes + (g->name_cap + g->label_cap) * sizeof(char *) +
        ds__gnames_memory(&g->node_ids) + ds__gnames_memory(&g->label_ids);
    if (g->off) return b + g->off_cap * sizeof(size_t) + g->edges * sizeof(ds_graph_arc);
    b += g->adj_cap * sizeof(ds__garcs);
    for (i = 0; i < g->nodes; i++) b += (size_t)g->adj[i].cap * sizeof(ds_graph_arc);
    return b;
}

/* ---- names ---- */

/* Calls that add names (node_put, label_put, link) make every allocation
 * first, into a plan, and change g only once all of them succeeded: a
 * failure leaves g as it was, memory() included. */
typedef struct ds__gplan {
    size_t k;                        /* new nodes (0..2), ids g->nodes, g->nodes + 1 */
    const char *node[2];             /* their names */
    const char *label;               /* a new label, or NULL */
    int edge;                        /* an arc tail -> head is added */
    uint32_t tail, head, lab;        /* its ends and label (new ids included) */
    double weight;
    ds__garcs *adj;                  /* a grown or thawed incremental form */
    size_t adj_cap;
    int thawed;
    size_t *off, off_cap;            /* a grown frozen form */
    ds_graph_arc *arcs;              /* a grown out-list for the tail */
    uint32_t arcs_cap;
    const char **names, **labels;    /* grown name arrays */
    size_t names_cap, labels_cap;
    uint8_t *nmap, *lmap;            /* grown name maps (ds__map_adopt) */
    size_t nmap_cap, lmap_cap;
    ds__gchunk *chunk;               /* a new chunk for the name bytes */
    size_t chunk_sz, chunk_bytes, bytes;
} ds__gplan;

/* A copy of an array's first `len` elements in a block of at least `need`
 * (doubling from cap, minimum 8); *out stays NULL when cap is enough. */
static ds_status ds__graph_pend(const ds_graph *g, const void *old, size_t len, size_t cap, size_t need,
                                size_t esz, void **out, size_t *out_cap) {
    size_t nc = cap < 8 ? 8 : cap, bytes;
    *out = NULL;
    if (need <= cap) return DS_OK;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    if (!ds_size_mul(nc, esz, &bytes)) return DS_EINVAL;
    if (!(*out = DS_MALLOC(g->alloc, bytes))) return DS_ENOMEM;
    if (len) memcpy(*out, old, len * esz);
    *out_cap = nc;
    return DS_OK;
}

static void ds__graph_plan_drop(const ds_graph *g, ds__gplan *p) {
    const ds_alloc *a = g->alloc;
    if (p->thawed) ds__graph_free_adj(a, p->adj, g->nodes, p->adj_cap);
    else if (p->adj) DS_FREE(a, p->adj, p->adj_cap * sizeof *p->adj);
    if (p->off) DS_FREE(a, p->off, p->off_cap * sizeof *p->off);
    if (p->arcs) DS_FREE(a, p->arcs, (size_t)p->arcs_cap * sizeof *p->arcs);
    if (p->names) DS_FREE(a, (void *)p->names, p->names_cap * sizeof(char *));
    if (p->labels) DS_FREE(a, (void *)p->labels, p->labels_cap * sizeof(char *));
    ds__map_reserve_drop(&g->node_ids.m, p->nmap, p->nmap_cap, sizeof(ds__gnames_entry));
    ds__map_reserve_drop(&g->label_ids.m, p->lmap, p->lmap_cap, sizeof(ds__gnames_entry));
    if (p->chunk) DS_FREE(a, p->chunk, p->chunk_bytes);
}

/* Every allocation the plan needs; on failure, those made are released. */
static ds_status ds__graph_plan_alloc(const ds_graph *g, ds__gplan *p) {
    size_t i, need = g->nodes + p->k;
    ds__gchunk *c = (ds__gchunk *)g->chunks;
    void *q = NULL;
    ds_status st = DS_OK;
    if (p->k > (size_t)UINT32_MAX - g->nodes || (p->label && g->label_len >= UINT32_MAX)) return DS_EINVAL;
    for (i = 0; i < p->k; i++)
        if (!ds_size_add(p->bytes, strlen(p->node[i]) + 1, &p->bytes)) return DS_EINVAL;
    if (p->label && !ds_size_add(p->bytes, strlen(p->label) + 1, &p->bytes)) return DS_EINVAL;
    if (p->edge && p->tail < g->nodes) { /* an existing tail: its out-list must take one more */
        size_t deg;
        (void)ds__graph_arcs(g, p->tail, &deg);
        if (deg >= UINT32_MAX) return DS_EINVAL;
    }
    /* node storage: thaw for an arc, else grow whichever form g is in */
    if (p->edge && g->off) {
        st = ds__graph_thaw_alloc(g, p->tail, need, &p->adj, &p->adj_cap);
        p->thawed = st == DS_OK;
    } else if (g->off) {
        st = ds__graph_pend(g, g->off, g->nodes + 1, g->off_cap, need + 1, sizeof *g->off, &q, &p->off_cap);
        p->off = (size_t *)q;
    } else {
        st = ds__graph_pend(g, g->adj, g->nodes, g->adj_cap, need, sizeof *g->adj, &q, &p->adj_cap);
        p->adj = (ds__garcs *)q;
    }
    /* the tail's out-list (a thawed old one has room already) */
    if (st == DS_OK && p->edge && !(p->thawed && p->tail < g->nodes)) {
        int old = p->tail < g->nodes; /* else a new node: an empty list */
        uint32_t len = old ? g->adj[p->tail].len : 0, cap = old ? g->adj[p->tail].cap : 0;
        if (len == cap) {
            p->arcs_cap = ds__graph_arcs_next(cap);
            p->arcs = (ds_graph_arc *)DS_MALLOC(g->alloc, (size_t)p->arcs_cap * sizeof(ds_graph_arc));
            if (!p->arcs) st = DS_ENOMEM;
            else if (len) memcpy(p->arcs, g->adj[p->tail].a, (size_t)len * sizeof(ds_graph_arc));
        }
    }
    if (st == DS_OK && p->k) {
        st = ds__graph_pend(g, g->node_name, g->name_len, g->name_cap, need, sizeof(char *), &q, &p->names_cap);
        p->names = (const char **)q;
        if (st == DS_OK)
            st = ds__map_reserve_alloc(&g->node_ids.m, ds__gnames_len(&g->node_ids) + p->k, sizeof(ds__gnames_entry),
                                       &p->nmap, &p->nmap_cap);
    }
    if (st == DS_OK && p->label) {
        st = ds__graph_pend(g, g->label_name, g->label_len, g->label_cap, g->label_len + 1, sizeof(char *), &q,
                            &p->labels_cap);
        p->labels = (const char **)q;
        if (st == DS_OK)
            st = ds__map_reserve_alloc(&g->label_ids.m, ds__gnames_len(&g->label_ids) + 1, sizeof(ds__gnames_entry),
                                       &p->lmap, &p->lmap_cap);
    }
    if (st == DS_OK && p->bytes && !(c && g->chunk_size - g->chunk_used >= p->bytes)) {
        size_t sz = g->chunk_size ? g->chunk_size * 2 : 256;
        if (sz > 65536) sz = 65536;
        if (sz < p->bytes) sz = p->bytes;
        p->chunk_sz = sz;
        if (!ds_size_add(sizeof *c, sz, &p->chunk_bytes)) st = DS_EINVAL;
        else if (!(p->chunk = (ds__gchunk *)DS_MALLOC(g->alloc, p->chunk_bytes))) st = DS_ENOMEM;
    }
    if (st != DS_OK) ds__graph_plan_drop(g, p);
    return st;
}

/* Install what the plan allocated, then add its names and arc: cannot fail. */
static void ds__graph_plan_commit(ds_graph *g, ds__gplan *p) {
    const ds_alloc *a = g->alloc;
    size_t i;
    char *bytes;
    ds_status st;
    if (p->thawed) {
        ds__graph_thaw_commit(g, p->adj, p->adj_cap);
    } else if (p->adj) {
        if (g->adj) DS_FREE(a, g->adj, g->adj_cap * sizeof *g->adj);
        g->adj = p->adj;
        g->adj_cap = p->adj_cap;
    } else if (p->off) {
        DS_FREE(a, g->off, g->off_cap * sizeof *g->off);
        g->off = p->off;
        g->off_cap = p->off_cap;
    }
    if (p->names) {
        if (g->node_name) DS_FREE(a, (void *)g->node_name, g->name_cap * sizeof(char *));
        g->node_name = p->names;
        g->name_cap = p->names_cap;
    }
    if (p->labels) {
        if (g->label_name) DS_FREE(a, (void *)g->label_name, g->label_cap * sizeof(char *));
        g->label_name = p->labels;
        g->label_cap = p->labels_cap;
    }
    if (p->nmap) ds__map_adopt(&g->node_ids.m, p->nmap, p->nmap_cap, sizeof(ds__gnames_entry), ds__gnames__hash);
    if (p->lmap) ds__map_adopt(&g->label_ids.m, p->lmap, p->lmap_cap, sizeof(ds__gnames_entry), ds__gnames__hash);
    if (p->chunk) {
        p->chunk->next = (ds__gchunk *)g->chunks;
        p->chunk->size = p->chunk_sz;
        g->chunks = p->chunk;
        g->chunk_size = p->chunk_sz;
        g->chunk_used = 0;
        g->chunk_bytes += p->chunk_bytes;
    }
    bytes = p->bytes ? (char *)(void *)((ds__gchunk *)g->chunks + 1) + g->chunk_used : NULL;
    for (i = 0; i < p->k; i++) {
        size_t len = strlen(p->node[i]) + 1;
        uint32_t id = (uint32_t)g->nodes;
        memcpy(bytes, p->node[i], len);
        ds__graph_node_commit(g, 1);
        while (g->name_len < id) g->node_name[g->name_len++] = NULL;
        g->node_name[g->name_len++] = bytes;
        st = ds__gnames_insert(&g->node_ids, bytes, id);
        DS_ASSERT(st == DS_OK); /* reserved */
        bytes += len;
        g->chunk_used += len;
    }
    if (p->label) {
        size_t len = strlen(p->label) + 1;
        memcpy(bytes, p->label, len);
        g->label_name[g->label_len] = bytes;
        st = ds__gnames_insert(&g->label_ids, bytes, (uint32_t)g->label_len);
        DS_ASSERT(st == DS_OK); /* reserved */
        g->label_len++;
        g->chunk_used += len;
    }
    if (p->edge) {
        ds__garcs *e = &g->adj[p->tail];
        if (p->arcs) {
            if (e->a) DS_FREE(a, e->a, (size_t)e->cap * sizeof(ds_graph_arc));
            e->a = p->arcs;
            e->cap = p->arcs_cap;
        }
        DS_ASSERT(e->len < e->cap);
        e->a[e->len].to = p->head;
        e->a[e->len].label = p->lab;
        e->a[e->len].weight = p->weight;
        e->len++;
        g->edges++;
        if (p->weight < 0) g->negative++;
    }
    (void)st;
}

/* A node id by name, or the id it gets as the plan's next new node. */
static uint32_t ds__graph_plan_node(const ds_graph *g, ds__gplan *p, const char *name) {
    const uint32_t *v = ds__gnames_get(&g->node_ids, name);
    size_t i;
    if (v) return *v;
    for (i = 0; i < p->k; i++)
        if (strcmp(p->node[i], name) == 0) return (uint32_t)(g->nodes + i);
    p->node[p->k] = name;
    return (uint32_t)(g->nodes + p->k++);
}

static ds_status ds__graph_plan_run(ds_graph *g, ds__gplan *p) {
    ds_status st = ds__graph_plan_alloc(g, p);
    if (st == DS_OK) ds__graph_plan_commit(g, p);
    return st;
}

DSDEF ds_status ds_graph_node_put(ds_graph *g, const char *name, uint32_t *id) {
    ds__gplan p;
    if (!g || !name || !id) return DS_EINVAL;
    memset(&p, 0, sizeof p);
    *id = ds__graph_plan_node(g, &p, name);
    return p.k ? ds__graph_plan_run(g, &p) : DS_OK;
}
DSDEF ds_status ds_graph_label_put(ds_graph *g, const char *name, uint32_t *id) {
    const uint32_t *v;
    ds__gplan p;
    if (!g || !name || !id) return DS_EINVAL;
    if ((v = ds__gnames_get(&g->label_ids, name)) != NULL) {
        *id = *v;
        return DS_OK;
    }
    memset(&p, 0, sizeof p);
    p.label = name;
    *id = (uint32_t)g->label_len;
    return ds__graph_plan_run(g, &p);
}

DSDEF ds_status ds_graph_node_get(const ds_graph *g, const char *name, uint32_t *id) {
    uint32_t *v;
    if (!g || !name || !id) return DS_EINVAL;
    if (!(v = ds__gnames_get(&g->node_ids, name))) return DS_ENOTFOUND;
    *id = *v;
    return DS_OK;
}
DSDEF ds_status ds_graph_label_get(const ds_graph *g, const char *name, uint32_t *id) {
    uint32_t *v;
    if (!g || !name || !id) return DS_EINVAL;
    if (!(v = ds__gnames_get(&g->label_ids, name))) return DS_ENOTFOUND;
    *id = *v;
    return DS_OK;
}
DSDEF const char *ds_graph_node_name(const ds_graph *g, uint32_t id) {
    return g && id < g->name_len ? g->node_name[id] : NULL;
}
DSDEF const char *ds_graph_label_name(const ds_graph *g, uint32_t id) {
    return g && id < g->label_len ? g->label_name[id] : NULL;
}

DSDEF ds_status ds_graph_link(ds_graph *g, const char *from, const char *label, const char *to,
                              double weight) {
    const uint32_t *v;
    ds__gplan p;
    if (!g || !from || !label || !to || !ds__gw_ok(weight)) return DS_EINVAL;
    memset(&p, 0, sizeof p);
    p.edge = 1;
    p.weight = weight;
    p.tail = ds__graph_plan_node(g, &p, from);
    p.head = ds__graph_plan_node(g, &p, to);
    if ((v = ds__gnames_get(&g->label_ids, label)) != NULL) {
        p.lab = *v;
    } else {
        p.label = label;
        p.lab = (uint32_t)g->label_len;
    }
    return ds__graph_plan_run(g, &p);
}

/* ---- searches ---- */

DSDEF ds_status ds_graph_search_init(ds_graph_search *s, const ds_alloc *a) {
    if (!s) return DS_EINVAL;
    memset(s, 0, sizeof *s);
    s->alloc = a;
    s->source = DS_GRAPH_NONE;
    ds__gheapt_init_alloc(&s->theap, a);
    return DS_OK;
}

#define DS__GS_NODE_BYTES (sizeof(ds__gslot) + 2 * sizeof(uint32_t))
/* The queue's block: room to start q 3 items past a 64-byte boundary, so
 * that the 4 children of every node share one cache line. */
#define DS__GQ_PAD (7 * sizeof(ds__gitem))

DSDEF void ds_graph_search_free(ds_graph_search *s) {
    if (!s) return;
    if (s->slot) DS_FREE(s->alloc, s->slot, s->cap * DS__GS_NODE_BYTES);
    if (s->h) DS_FREE(s->alloc, s->h, s->hcap * sizeof(double));
    if (s->q) DS_FREE(s->alloc, s->q, s->qcap * (sizeof(ds__gitem) + sizeof(uint32_t)) + DS__GQ_PAD);
    ds__gheapt_free(&s->theap);
    ds_graph_search_init(s, s->alloc);
}

/* Size the scratch for n nodes and start a new epoch. Growing allocates
 * fresh blocks (nothing in them is worth keeping; the stamps start
 * cleared), all of them before any is installed: on failure the scratch
 * keeps its size. */
#define DS__GS_WANT_H 1 /* A*: the heuristic of each node */
#define DS__GS_WANT_Q 2 /* Dijkstra: the indexed queue */
static const size_t ds__gs_esz[3] = {DS__GS_NODE_BYTES, sizeof(double), sizeof(ds__gitem) + sizeof(uint32_t)};
static const size_t ds__gs_pad[3] = {0, 0, DS__GQ_PAD};
static ds_status ds__gs_prepare(ds_graph_search *s, size_t n, int want) {
    size_t *caps[3], cap = n + n / 4 + 16, bytes, k;
    void *p[3] = {NULL, NULL, NULL};
    int need[3];
    caps[0] = &s->cap;
    caps[1] = &s->hcap;
    caps[2] = &s->qcap;
    need[0] = s->cap < n;
    need[1] = (want & DS__GS_WANT_H) && s->hcap < n;
    need[2] = (want & DS__GS_WANT_Q) && s->qcap < n;
    s->valid = 0; /* from here on, the previous result is gone */
    if (cap < n) cap = n;
    for (k = 0; k < 3; k++) {
        ds_status st = DS_OK;
        if (!need[k]) continue;
        if (!ds_size_mul(cap, ds__gs_esz[k], &bytes) || !ds_size_add(bytes, ds__gs_pad[k], &bytes))
            st = DS_EINVAL;
        else if (!(p[k] = DS_MALLOC(s->alloc, bytes))) st = DS_ENOMEM;
        if (st != DS_OK) {
            while (k--)
                if (p[k]) DS_FREE(s->alloc, p[k], cap * ds__gs_esz[k] + ds__gs_pad[k]);
            return st;
        }
    }
    if (p[0]) {
        if (s->slot) DS_FREE(s->alloc, s->slot, s->cap * DS__GS_NODE_BYTES);
        s->slot = (ds__gslot *)p[0];
        s->stamp = (uint32_t *)(void *)(s->slot + cap);
        s->order = s->stamp + cap;
        memset(s->stamp, 0, cap * sizeof(uint32_t));
        s->epoch = 0;
    }
    if (p[1]) {
        if (s->h) DS_FREE(s->alloc, s->h, s->hcap * sizeof(double));
        s->h = (double *)p[1];
    }
    if (p[2]) {
        if (s->q) DS_FREE(s->alloc, s->q, s->qcap * ds__gs_esz[2] + DS__GQ_PAD);
        s->q = (ds__gitem *)p[2];
        s->qpos = (uint32_t *)(void *)(s->q + cap + 7);
    }
    for (k = 0; k < 3; k++)
        if (p[k]) *caps[k] = cap;
    if (s->epoch > UINT32_MAX - 8) { /* once every 2^30 searches */
        memset(s->stamp, 0, s->cap * sizeof(uint32_t));
        s->epoch = 0;
    }
    s->epoch += 4; /* stamps: epoch open, +1 settled, +2 reopened */
    s->count = s->expanded = 0;
    return DS_OK;
}

DSDEF ds_status ds_graph_bfs(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst,
                             uint32_t max_hops) {
    size_t head = 0;
    uint32_t seen, *stamp;
    int found;
    ds_status st;
    if (!g || !s || src >= g->nodes || (dst != DS_GRAPH_NONE && dst >= g->nodes)) return DS_EINVAL;
    if ((st = ds__gs_prepare(s, g->nodes, 0)) != DS_OK) return st;
    seen = s->epoch + 1; /* discovered = settled: BFS depths are final */
    stamp = s->stamp;
    s->source = src;
    s->hops = 1;
    s->slot[src].dist = 0;
    s->slot[src].pred = s->slot[src].via = DS_GRAPH_NONE;
    stamp[src] = seen;
    s->order[s->count++] = src;
    found = src == dst;
    while (!found && head < s->count) {
        uint32_t u = s->order[head++], d = (uint32_t)s->slot[u].dist; /* the hop count */
        size_t deg, i;
        const ds_graph_arc *a;
        if (d >= max_hops) break; /* the queue's depths never decrease */
        s->expanded++;
        a = ds__graph_arcs(g, u, &deg);
        for (i = 0; i < deg; i++) {
            uint32_t v = a[i].to;
            if (stamp[v] == seen) continue;
            stamp[v] = seen;
            s->slot[v].dist = (double)(d + 1);
            s->slot[v].pred = u;
            s->slot[v].via = (uint32_t)i;
            s->order[s->count++] = v;
            if (v == dst) {
                found = 1;
                break;
            }
        }
    }
    s->valid = 1;
    return dst == DS_GRAPH_NONE || found ? DS_OK : DS_ENOTFOUND;
}

static int ds__gh_ok(double h) { return h >= 0 && h != HUGE_VAL; } /* NaN fails h >= 0 */
/* A*'s tie-break at equal f: smaller h first (= larger g, deeper). The
 * bits of a non-negative float order as the floats do. */
static uint32_t ds__gtie(double h) {
    float f = (float)h;
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* Dijkstra on an indexed 4-ary heap with decrease-key: each node enters
 * the queue once and leaves it once, settled (a lazy-deletion binary heap
 * pushed a duplicate for every improvement: 1.96 pops a node on
 * bench_graph's 10^5 nodes / 10^6 edges, each a full sift down). Four
 * 16-byte children fill one cache line, and the tree is half as deep; the
 * keys sit in the queue, so a sift reads no node slot. A settled target is
 * skipped on its 4-byte stamp. */
static void ds__gq_up(ds__gitem *q, uint32_t *qpos, size_t i, ds__gitem x) {
    while (i > 0) {
        size_t p = (i - 1) >> 2;
        if (!(x.key < q[p].key)) break;
        q[i] = q[p];
        qpos[q[i].node] = (uint32_t)i;
        i = p;
    }
    q[i] = x;
    qpos[x.node] = (uint32_t)i;
}
/* Take the root off q[0, n + 1): the hole it leaves walks down the
 * smaller children to a leaf, then the last item rises from there
 * (Wegener's bottom-up heapsort idea: the last item belongs near the
 * bottom, so this saves the comparison with it at every level). */
static void ds__gq_pop(ds__gitem *q, uint32_t *qpos, size_t n) {
    size_t i = 0;
    for (;;) {
        size_t c = 4 * i + 1, best = c, end;
        if (c >= n) break;
        end = n - c > 4 ? c + 4 : n;
        for (c++; c < end; c++)
            if (q[c].key < q[best].key) best = c;
        q[i] = q[best];
        qpos[q[i].node] = (uint32_t)i;
        i = best;
    }
    if (i != n) ds__gq_up(q, qpos, i, q[n]);
}

static ds_status ds__graph_dijkstra(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst) {
    uint32_t open, settled, *stamp, *qpos;
    ds__gslot *slot;
    ds__gitem *q, it;
    size_t qlen = 0;
    ds_status st;
    int found = 0;
    if (g->negative) return DS_EINVAL;
    if ((st = ds__gs_prepare(s, g->nodes, DS__GS_WANT_Q)) != DS_OK) return st;
    open = s->epoch;
    settled = open + 1;
    stamp = s->stamp;
    slot = s->slot;
    q = (ds__gitem *)(void *)(((uintptr_t)s->q + 63) & ~(uintptr_t)63) + 3; /* see DS__GQ_PAD */
    qpos = s->qpos;
    s->hops = 0;
    s->source = src;
    slot[src].dist = 0;
    slot[src].pred = slot[src].via = DS_GRAPH_NONE;
    stamp[src] = open;
    it.key = 0;
    it.node = src;
    it.tie = 0;
    q[qlen++] = it;
    qpos[src] = 0;
    while (qlen) {
        uint32_t u = q[0].node;
        double du;
        size_t deg, i;
        const ds_graph_arc *a;
        ds__gq_pop(q, qpos, --qlen);
        s->order[s->count++] = u;
        stamp[u] = settled;
        s->expanded++;
        if (u == dst) {
            found = 1;
            break;
        }
        du = slot[u].dist;
        a = ds__graph_arcs(g, u, &deg);
        for (i = 0; i < deg; i++) {
            uint32_t v = a[i].to, sv = stamp[v];
            double nd;
            if (sv == settled) continue; /* final: no need to read its slot */
            nd = du + a[i].weight;
            if (sv == open) {
                if (!(nd < slot[v].dist)) continue;
                it.key = nd;
                it.node = v;
                ds__gq_up(q, qpos, qpos[v], it); /* decrease-key */
            } else {
                stamp[v] = open;
                it.key = nd;
                it.node = v;
                ds__gq_up(q, qpos, qlen++, it);
            }
            slot[v].dist = nd;
            slot[v].pred = u;
            slot[v].via = (uint32_t)i;
        }
    }
    s->valid = 1;
    return dst == DS_GRAPH_NONE || found ? DS_OK : DS_ENOTFOUND;
}

/* A*, on a lazy-deletion heap: a node is pushed again whenever its
 * distance drops, and stale entries are skipped when popped (the node is
 * settled by then); with an inconsistent h a settled node may reopen. At
 * equal f the deeper node comes first. */
static ds_status ds__graph_astar(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst,
                                 ds_graph_heuristic h, void *ctx) {
    uint32_t open, settled, reopened, *stamp;
    ds__gslot *slot;
    ds__gitem it;
    ds_status st;
    int found = 0;
    double hv;
    if (g->negative) return DS_EINVAL;
    if ((st = ds__gs_prepare(s, g->nodes, DS__GS_WANT_H)) != DS_OK) return st;
    open = s->epoch;
    settled = open + 1;
    reopened = open + 2;
    stamp = s->stamp;
    slot = s->slot;
    s->hops = 0;
    ds__gheapt_clear(&s->theap);
    s->source = src;
    hv = h(ctx, src, dst);
    if (!ds__gh_ok(hv)) return DS_EINVAL;
    s->h[src] = hv;
    slot[src].dist = 0;
    slot[src].pred = slot[src].via = DS_GRAPH_NONE;
    stamp[src] = open;
    it.key = hv;
    it.node = src;
    it.tie = ds__gtie(hv);
    if ((st = ds__gheapt_push(&s->theap, it)) != DS_OK) return st;
    while (s->theap.len) {
        uint32_t u;
        double du;
        size_t deg, i;
        const ds_graph_arc *a;
        ds__gheapt_pop(&s->theap, &it);
        u = it.node;
        if (stamp[u] == settled) continue; /* stale entry */
        if (stamp[u] == open) s->order[s->count++] = u; /* first settlement */
        stamp[u] = settled;
        s->expanded++;
        if (u == dst) {
            found = 1;
            break;
        }
        du = slot[u].dist;
        a = ds__graph_arcs(g, u, &deg);
        for (i = 0; i < deg; i++) {
            uint32_t v = a[i].to, sv = stamp[v];
            double nd = du + a[i].weight;
            if (sv - open < 3u) { /* seen this search */
                if (!(nd < slot[v].dist)) continue;
                if (sv == settled) stamp[v] = reopened; /* only with an inconsistent h */
                hv = s->h[v];
            } else {
                stamp[v] = open;
                hv = h(ctx, v, dst);
                if (!ds__gh_ok(hv)) return DS_EINVAL;
                s->h[v] = hv;
            }
            slot[v].dist = nd;
            slot[v].pred = u;
            slot[v].via = (uint32_t)i;
            it.key = nd + hv;
            it.node = v;
            it.tie = ds__gtie(hv);
            if ((st = ds__gheapt_push(&s->theap, it)) != DS_OK) return st;
        }
    }
    s->valid = 1;
    return dst == DS_GRAPH_NONE || found ? DS_OK : DS_ENOTFOUND;
}

DSDEF ds_status ds_graph_dijkstra(const ds_graph *g, ds_graph_search *s, uint32_t src,
                                  uint32_t dst) {
    if (!g || !s || src >= g->nodes || (dst != DS_GRAPH_NONE && dst >= g->nodes)) return DS_EINVAL;
    return ds__graph_dijkstra(g, s, src, dst);
}

DSDEF ds_status ds_graph_astar(const ds_graph *g, ds_graph_search *s, uint32_t src, uint32_t dst,
                               ds_graph_heuristic h, void *ctx) {
    if (!g || !s || src >= g->nodes || dst >= g->nodes) return DS_EINVAL;
    return h ? ds__graph_astar(g, s, src, dst, h, ctx) : ds__graph_dijkstra(g, s, src, dst);
}

DSDEF size_t ds_graph_search_count(const ds_graph_search *s) { return s && s->valid ? s->count : 0; }
DSDEF const uint32_t *ds_graph_search_nodes(const ds_graph_search *s) {
    return s && s->valid && s->count ? s->order : NULL;
}
DSDEF size_t ds_graph_search_expanded(const ds_graph_search *s) { return s && s->valid ? s->expanded : 0; }
DSDEF int ds_graph_search_reached(const ds_graph_search *s, uint32_t v) {
    return s && s->valid && v < s->cap && s->stamp[v] == s->epoch + 1;
}
/* Hops from the source to a reached v by walking the predecessors;
 * DS_GRAPH_NONE if the chain is broken (cannot happen for a reached v). */
static uint32_t ds__gs_hops(const ds_graph_search *s, uint32_t v) {
    uint32_t x, n = 0;
    for (x = v; x != s->source; x = s->slot[x].pred)
        if (s->slot[x].pred >= s->cap || ++n >= s->cap) return DS_GRAPH_NONE;
    return n;
}

DSDEF uint32_t ds_graph_search_depth(const ds_graph_search *s, uint32_t v) {
    if (!ds_graph_search_reached(s, v)) return DS_GRAPH_NONE;
    return s->hops ? (uint32_t)s->slot[v].dist : ds__gs_hops(s, v);
}
DSDEF double ds_graph_search_dist(const ds_graph_search *s, uint32_t v) {
    return ds_graph_search_reached(s, v) ? s->slot[v].dist : HUGE_VAL;
}

DSDEF ds_status ds_graph_search_path(const ds_graph *g, const ds_graph_search *s, uint32_t v,
                                     ds_graph_step *out, size_t cap, size_t *len) {
    size_t n, i;
    uint32_t x;
    if (len) *len = 0;
    if (!g || !s || !len) return DS_EINVAL;
    if (!ds_graph_search_reached(s, v)) return DS_ENOTFOUND;
    if ((x = ds__gs_hops(s, v)) == DS_GRAPH_NONE) return DS_EINVAL;
    *len = n = x;
    if (cap < n) return DS_EFULL;
    if (n && !out) return DS_EINVAL;
    for (i = n, x = v; i > 0; i--) {
        uint32_t p = s->slot[x].pred, via = s->slot[x].via;
        size_t deg;
        const ds_graph_arc *a;
        if (p >= g->nodes) return DS_EINVAL;
        a = ds__graph_arcs(g, p, &deg);
        if (via >= deg || a[via].to != x) return DS_EINVAL; /* not the graph searched */
        out[i - 1].from = p;
        out[i - 1].label = a[via].label;
        out[i - 1].to = x;
        out[i - 1].weight = a[via].weight;
        x = p;
    }
    return DS_OK;
}

/* ---- TSP: nearest neighbour + 2-opt ---- */

static int ds__tsp_ok(double x) { return x >= 0 && x != HUGE_VAL; } /* NaN fails x >= 0 */

DSDEF double ds_tsp_length(size_t n, ds_tsp_dist_fn d, void *ctx, const uint32_t *tour) {
    double sum = 0;
    size_t i;
    if (!d || !tour || n < 2) return 0;
    for (i = 0; i < n; i++) sum += d(ctx, tour[i], tour[i + 1 < n ? i + 1 : 0]);
    return sum;
}

DSDEF ds_status ds_tsp_nearest_neighbor(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
                                        uint32_t *tour, double *length) {
    size_t i, j;
    if (!d || !tour || n == 0 || n > UINT32_MAX || start >= n) return DS_EINVAL;
    for (i = 0; i < n; i++) tour[i] = (uint32_t)i;
    tour[0] = start;
    tour[start] = 0;
    /* tour[i..n) are the unvisited cities: pick the nearest into slot i */
    for (i = 1; i < n; i++) {
        uint32_t cur = tour[i - 1], t;
        size_t best = i;
        double bd = d(ctx, cur, tour[i]);
        if (!ds__tsp_ok(bd)) return DS_EINVAL;
        for (j = i + 1; j < n; j++) {
            double x = d(ctx, cur, tour[j]);
            if (!ds__tsp_ok(x)) return DS_EINVAL;
            if (x < bd) {
                bd = x;
                best = j;
            }
        }
        t = tour[i];
        tour[i] = tour[best];
        tour[best] = t;
    }
    if (n > 1 && !ds__tsp_ok(d(ctx, tour[n - 1], tour[0]))) return DS_EINVAL;
    if (length) *length = ds_tsp_length(n, d, ctx, tour);
    return DS_OK;
}

/* First-improvement 2-opt: replacing edges (a,b) and (c,e) by (a,c) and
 * (b,e) reverses tour[i+1..j]; with symmetric distances the length changes
 * by exactly d(a,c) + d(b,e) - d(a,b) - d(c,e). A move is taken only when
 * that is below a relative 1e-12 of the edges removed, well above the
 * rounding of four terms, so each move truly shortens the tour and the
 * loop ends. */
DSDEF ds_status ds_tsp_two_opt(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t *tour,
                               double *length) {
    size_t i, j;
    int improved = 1;
    if (!d || !tour || n == 0 || n > UINT32_MAX) return DS_EINVAL;
    for (i = 0; i < n; i++)
        if (tour[i] >= n) return DS_EINVAL;
    while (n >= 4 && improved) {
        improved = 0;
        for (i = 0; i + 2 < n; i++) {
            uint32_t a = tour[i], b = tour[i + 1];
            double dab = d(ctx, a, b);
            if (!ds__tsp_ok(dab)) return DS_EINVAL;
            for (j = i + 2; j < n; j++) {
                uint32_t c, e;
                double dce, dac, dbe;
                if (i == 0 && j == n - 1) continue; /* (c,e) would be (t[n-1], t[0]) = next to (a,b) */
                c = tour[j];
                e = tour[j + 1 < n ? j + 1 : 0];
                dce = d(ctx, c, e);
                dac = d(ctx, a, c);
                dbe = d(ctx, b, e);
                if (!ds__tsp_ok(dce) || !ds__tsp_ok(dac) || !ds__tsp_ok(dbe)) return DS_EINVAL;
                if ((dac + dbe) - (dab + dce) < -1e-12 * (dab + dce)) {
                    size_t lo = i + 1, hi = j;
                    while (lo < hi) {
                        uint32_t t = tour[lo];
                        tour[lo++] = tour[hi];
                        tour[hi--] = t;
                    }
                    b = c;
                    dab = dac;
                    improved = 1;
                }
            }
        }
    }
    if (length) *length = ds_tsp_length(n, d, ctx, tour);
    return DS_OK;
}

DSDEF ds_status ds_tsp_solve(size_t n, ds_tsp_dist_fn d, void *ctx, uint32_t start,
                             uint32_t *tour, double *length) {
    ds_status st = ds_tsp_nearest_neighbor(n, d, ctx, start, tour, NULL);
    return st != DS_OK ? st : ds_tsp_two_opt(n, d, ctx, tour, length);
}

DSDEF double ds_tsp_matrix_dist(void *ctx, uint32_t i, uint32_t j) {
    const ds_tsp_matrix *m = (const ds_tsp_matrix *)ctx;
    if (!m || !m->d || i >= m->n || j >= m->n) return -1.0; /* refused as a distance */
    return m->d[(size_t)i * m->n + j];
}

DSDEF double ds_tsp_euclid_dist(void *ctx, uint32_t i, uint32_t j) {
    const double *xy = (const double *)ctx;
    double dx, dy;
    if (!xy) return -1.0;
    dx = xy[2 * (size_t)i] - xy[2 * (size_t)j];
    dy = xy[2 * (size_t)i + 1] - xy[2 * (size_t)j + 1];
    return sqrt(dx * dx + dy * dy);
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_GRAPH_IMPL */
