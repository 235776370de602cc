/* examples/routing.c - shortest routes on a grid map with obstacles:
 * Dijkstra beside A*, and a delivery round over several stops.
 *
 * The map below is a city block plan: '#' is a wall, '~' a park that is
 * slow to cross (cost 4 a step instead of 1), letters are delivery stops,
 * 'S' the depot. Each open cell is a node with an edge to each open
 * 4-neighbour, weighted by the cost of entering that cell.
 *
 * Dijkstra settles nodes in order of their distance from the start, so
 * before it reaches the goal it has settled everything closer, in every
 * direction. A* orders them by distance + h(node), where h is the
 * Manhattan distance to the goal (admissible and consistent here, as no
 * step costs less than 1): it heads for the goal and settles far fewer
 * nodes for the same, optimal, cost. Both report how many nodes they
 * expanded (ds_graph_search_expanded).
 *
 * Then a round trip from the depot through every stop: the distance
 * between each pair of stops comes from one Dijkstra per stop (the search
 * scratch is reused, nothing is allocated after the first), and ds_tsp_solve
 * orders the stops (nearest neighbour, then 2-opt).
 *
 * Build and run from the repository root:
 *     cc -std=c99 -Wall -Wextra -I. examples/routing.c -o routing -lm
 *     ./routing
 * It checks its own results and exits 0 on success, 1 on any failure. */
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

static const char *const MAP[] = {
    "############################################################",
    "#S.........#...............#..............#..............a.#",
    "#..........#...............#..............#................#",
    "#..........#.......~~~~~~~~#.......b......#.......#####....#",
    "#..........#.......~~~~~~~~#..............#.......#........#",
    "#....###########...~~~~~~~~#####....#######.......#........#",
    "#..........#.......~~~~~~~~.......................#....#####",
    "#..........#.......~~~~~~~~.......................#........#",
    "#..........#.......~~~~~~~~#######....######......#........#",
    "#..c.......#...............#..............#.......######...#",
    "#..........................#..............#................#",
    "#######.....................~~~~~~~~~~~...#........d.......#",
    "#..........#...............#~~~~~~~~~~~...#................#",
    "#..........#...............#~~~~~~~~~~~...##########.......#",
    "#....e.....#######.....#####..............#................#",
    "#..........#..............................#.......#######..#",
    "#..........#..............................#.............#..#",
    "#..........#.............#####............#.............#..#",
    "#..........#.............#.......................G.......#.#",
    "#........................#...............................#.#",
    "############################################################",
};
#define H ((uint32_t)(sizeof MAP / sizeof MAP[0]))
#define W ((uint32_t)60)

static int open_cell(uint32_t x, uint32_t y) { return MAP[y][x] != '#'; }
static double cost(uint32_t x, uint32_t y) { return MAP[y][x] == '~' ? 4.0 : 1.0; }

/* Manhattan distance to the target: no step costs less than 1. */
static double manhattan(void *ctx, uint32_t v, uint32_t t) {
    long dx = (long)(v % W) - (long)(t % W), dy = (long)(v / W) - (long)(t / W);
    (void)ctx;
    return (double)(labs(dx) + labs(dy));
}

static uint32_t find(char c) {
    uint32_t x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            if (MAP[y][x] == c) return y * W + x;
    fprintf(stderr, "no '%c' on the map\n", c);
    exit(1);
}

/* The map with the path drawn in '*'. */
static void draw(const ds_graph *g, const ds_graph_search *s, uint32_t goal) {
    static char rows[32][64];
    ds_graph_step steps[W * 32];
    size_t len, i;
    uint32_t y;
    for (y = 0; y < H; y++) memcpy(rows[y], MAP[y], W + 1);
    TRY(ds_graph_search_path(g, s, goal, steps, sizeof steps / sizeof steps[0], &len));
    for (i = 0; i + 1 < len; i++) {
        char *c = &rows[steps[i].to / W][steps[i].to % W];
        *c = *c == '~' ? '=' : '*';
    }
    for (y = 0; y < H; y++) printf("    %s\n", rows[y]);
}

int main(void) {
    ds_graph g;
    ds_graph_search s;
    uint32_t x, y, start, goal, k;
    double dcost, acost;
    size_t dexp, aexp;
    static const char stops[] = "Sabcde";
    enum { NSTOPS = sizeof stops - 1 };
    double dist[NSTOPS * NSTOPS], len;
    uint32_t tour[NSTOPS];
    ds_tsp_matrix m;

    for (y = 0; y < H; y++) EXPECT(strlen(MAP[y]) == W);
    ds_graph_init(&g, NULL);
    ds_graph_search_init(&s, NULL);
    TRY(ds_graph_add_nodes(&g, (size_t)W * H, NULL));
    for (y = 1; y + 1 < H; y++)
        for (x = 1; x + 1 < W; x++) {
            static const int DX[4] = {1, -1, 0, 0}, DY[4] = {0, 0, 1, -1};
            int d;
            if (!open_cell(x, y)) continue;
            for (d = 0; d < 4; d++) {
                uint32_t nx = (uint32_t)((int)x + DX[d]), ny = (uint32_t)((int)y + DY[d]);
                if (open_cell(nx, ny)) TRY(ds_graph_add_edge(&g, y * W + x, ny * W + nx, 0, cost(nx, ny)));
            }
        }
    TRY(ds_graph_freeze(&g));
    start = find('S');
    goal = find('G');
    printf("grid %ux%u: %zu cells, %zu moves\n\n", W, H, ds_graph_nodes(&g), ds_graph_edges(&g));

    TRY(ds_graph_dijkstra(&g, &s, start, goal));
    dcost = ds_graph_search_dist(&s, goal);
    dexp = ds_graph_search_expanded(&s);
    printf("Dijkstra S -> G: cost %.0f, %u steps, %zu nodes expanded\n", dcost,
           ds_graph_search_depth(&s, goal), dexp);

    TRY(ds_graph_astar(&g, &s, start, goal, manhattan, NULL));
    acost = ds_graph_search_dist(&s, goal);
    aexp = ds_graph_search_expanded(&s);
    printf("A* (Manhattan) S -> G: cost %.0f, %u steps, %zu nodes expanded (%.1fx fewer)\n", acost,
           ds_graph_search_depth(&s, goal), aexp, (double)dexp / (double)aexp);
    draw(&g, &s, goal);
    EXPECT(acost == dcost);   /* both optimal */
    EXPECT(aexp * 2 < dexp);  /* and A* looked at far fewer nodes */

    /* the delivery round: all-pairs distances between stops, then a tour */
    for (k = 0; k < NSTOPS; k++) {
        uint32_t j;
        TRY(ds_graph_dijkstra(&g, &s, find(stops[k]), DS_GRAPH_NONE));
        for (j = 0; j < NSTOPS; j++) {
            dist[k * NSTOPS + j] = ds_graph_search_dist(&s, find(stops[j]));
            EXPECT(dist[k * NSTOPS + j] != HUGE_VAL);
        }
    }
    for (k = 0; k < NSTOPS * NSTOPS; k++) /* 4-neighbour moves both ways: symmetric */
        EXPECT(dist[k] == dist[(k % NSTOPS) * NSTOPS + k / NSTOPS]);
    m.d = dist;
    m.n = NSTOPS;
    TRY(ds_tsp_nearest_neighbor(NSTOPS, ds_tsp_matrix_dist, &m, 0, tour, &len));
    printf("\ndelivery round, nearest neighbour: ");
    for (k = 0; k < NSTOPS; k++) printf("%c -> ", stops[tour[k]]);
    printf("S, cost %.0f\n", len);
    {
        double nn = len;
        TRY(ds_tsp_two_opt(NSTOPS, ds_tsp_matrix_dist, &m, tour, &len));
        printf("delivery round, after 2-opt:       ");
        for (k = 0; k < NSTOPS; k++) printf("%c -> ", stops[tour[k]]);
        printf("S, cost %.0f\n", len);
        EXPECT(len <= nn && tour[0] == 0);
    }

    ds_graph_search_free(&s);
    ds_graph_free(&g);
    printf("\nok\n");
    return 0;
}
