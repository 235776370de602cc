/* examples/knowledge_graph.c - an entity/relation graph for context
 * expansion: which entities are within 2 hops of the one a question is
 * about, and the chain of relations (the "reasoning path") linking two.
 *
 * The Python this replaces (the seed's KnowledgeGraph):
 *
 *     class KnowledgeGraph:
 *         def __init__(self):
 *             self.graph = defaultdict(list)
 *         def add_edge(self, source, relation, target):
 *             self.graph[source].append((relation, target))
 *         def bfs_reachable(self, start, max_hops=2) -> set[str]:
 *             ...   # BFS, stopping at depth max_hops
 *         def find_path(self, start, end) -> list[tuple[str, str, str]]:
 *             ...   # BFS that carries the path so far, [] if none
 *
 * The seed gives the class but no data, so the facts below are ours: a
 * small graph about language models, the kind a retrieval pipeline would
 * expand a question's entities over.
 *
 * In C: entity and relation names are interned in the ds_graph (name -> id
 * through its hash map, id -> name through an array); add_edge(source,
 * relation, target) is ds_graph_link. bfs_reachable is ds_graph_bfs with
 * max_hops; find_path is ds_graph_bfs to a target plus
 * ds_graph_search_path, which returns (entity, relation, entity) steps. One
 * ds_graph_search is reused by every query, so after the first none
 * allocates. A third query the seed does not have: each fact carries a
 * confidence, and Dijkstra over weights -log(confidence) finds the most
 * believable chain (the largest product of confidences) instead of the
 * shortest.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -Wall -Wextra -I. examples/knowledge_graph.c -o knowledge_graph -lm
 *     ./knowledge_graph
 * It checks its own results and exits 0 on success, 1 on any failure. */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any failing ds call ends the demo with the library's own message. */
#define TRY(call)                                                               \
    do {                                                                        \
        ds_status st_ = (call);                                                 \
        if (st_ != DS_OK) {                                                     \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, \
                    ds_strerror(st_));                                          \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/* Self-checks: the demo verifies what it prints. */
#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

/* source, relation, target, confidence */
static const struct fact {
    const char *source, *relation, *target;
    double confidence;
} FACTS[] = {
    {"ChatGPT", "powered_by", "GPT-4", 0.95},
    {"ChatGPT", "built_by", "OpenAI", 0.99},
    {"GPT-4", "developed_by", "OpenAI", 0.99},
    {"GPT-4", "is_a", "large language model", 0.99},
    {"OpenAI", "partnered_with", "Microsoft", 0.90},
    {"Microsoft", "operates", "Azure", 0.99},
    {"large language model", "based_on", "Transformer", 0.95},
    {"Transformer", "introduced_in", "Attention Is All You Need", 0.99},
    {"Attention Is All You Need", "authored_at", "Google Brain", 0.90},
    {"Google Brain", "part_of", "Google", 0.99},
    {"BERT", "developed_by", "Google", 0.99},
    {"BERT", "based_on", "Transformer", 0.99},
    {"RAG", "augments", "large language model", 0.85},
    {"RAG", "retrieves_from", "vector database", 0.90},
    {"vector database", "indexes_with", "HNSW", 0.80},
    {"Azure", "hosts", "GPT-4", 0.60},
    {"Microsoft", "invested_in", "Google", 0.05}, /* a dubious fact */
};
#define NFACTS (sizeof FACTS / sizeof FACTS[0])

static uint32_t entity(const ds_graph *g, const char *name) {
    uint32_t id;
    TRY(ds_graph_node_get(g, name, &id));
    return id;
}

/* Print a path as the seed's (entity, relation, entity) triples. */
static size_t print_path(const ds_graph *g, const ds_graph_search *s, uint32_t to, double *conf) {
    ds_graph_step steps[32];
    size_t len, i;
    double c = 1;
    TRY(ds_graph_search_path(g, s, to, steps, 32, &len));
    for (i = 0; i < len; i++) {
        printf("    %s -%s-> %s\n", ds_graph_node_name(g, steps[i].from),
               ds_graph_label_name(g, steps[i].label), ds_graph_node_name(g, steps[i].to));
        c *= exp(-steps[i].weight);
    }
    if (conf) *conf = c;
    return len;
}

int main(void) {
    ds_graph g;
    ds_graph_search s;
    size_t i, len;
    uint32_t chatgpt, google;
    double conf;
    ds_status st;

    ds_graph_init(&g, NULL);
    ds_graph_search_init(&s, NULL);
    for (i = 0; i < NFACTS; i++)
        TRY(ds_graph_link(&g, FACTS[i].source, FACTS[i].relation, FACTS[i].target,
                          -log(FACTS[i].confidence)));
    printf("knowledge graph: %zu entities, %zu facts, %zu bytes\n", ds_graph_nodes(&g),
           ds_graph_edges(&g), ds_graph_memory(&g));
    EXPECT(ds_graph_nodes(&g) == 14 && ds_graph_edges(&g) == NFACTS);
    /* queries only from here on: the compact form */
    TRY(ds_graph_freeze(&g));
    chatgpt = entity(&g, "ChatGPT");
    google = entity(&g, "Google");

    /* bfs_reachable("ChatGPT", max_hops=2) */
    printf("\nwithin 2 hops of ChatGPT (context expansion):\n");
    TRY(ds_graph_bfs(&g, &s, chatgpt, DS_GRAPH_NONE, 2));
    for (i = 0; i < ds_graph_search_count(&s); i++) {
        uint32_t v = ds_graph_search_nodes(&s)[i];
        printf("    %u hop%s  %s\n", ds_graph_search_depth(&s, v),
               ds_graph_search_depth(&s, v) == 1 ? " " : "s", ds_graph_node_name(&g, v));
    }
    /* ChatGPT; GPT-4, OpenAI; large language model, Microsoft */
    EXPECT(ds_graph_search_count(&s) == 5);
    EXPECT(ds_graph_search_depth(&s, entity(&g, "large language model")) == 2);
    EXPECT(ds_graph_search_depth(&s, entity(&g, "Microsoft")) == 2);
    EXPECT(!ds_graph_search_reached(&s, entity(&g, "Transformer"))); /* 3 hops */

    /* find_path("ChatGPT", "Google"): fewest hops */
    printf("\nreasoning path ChatGPT -> Google (fewest hops):\n");
    TRY(ds_graph_bfs(&g, &s, chatgpt, google, DS_GRAPH_UNLIMITED));
    len = print_path(&g, &s, google, &conf);
    printf("    %zu hops, confidence %.3f\n", len, conf);
    EXPECT(len == 3); /* ChatGPT -built_by-> OpenAI -partnered_with-> Microsoft -invested_in-> Google */
    EXPECT(conf < 0.1);

    /* the most believable chain: Dijkstra over -log(confidence) */
    printf("\nmost confident path ChatGPT -> Google (Dijkstra on -log confidence):\n");
    TRY(ds_graph_dijkstra(&g, &s, chatgpt, google));
    len = print_path(&g, &s, google, &conf);
    printf("    %zu hops, confidence %.3f (expanded %zu entities)\n", len, conf,
           ds_graph_search_expanded(&s));
    EXPECT(len == 6); /* through GPT-4, LLM, Transformer, the paper, Google Brain */
    EXPECT(fabs(conf - exp(-ds_graph_search_dist(&s, google))) < 1e-12 && conf > 0.7);

    /* the graph is directed: nothing leads back to ChatGPT */
    st = ds_graph_bfs(&g, &s, google, chatgpt, DS_GRAPH_UNLIMITED);
    printf("\npath Google -> ChatGPT: %s\n", st == DS_ENOTFOUND ? "none (find_path returns [])" : "?");
    EXPECT(st == DS_ENOTFOUND);
    {
        uint32_t id;
        EXPECT(ds_graph_node_get(&g, "Claude Shannon", &id) == DS_ENOTFOUND);
    }

    ds_graph_search_free(&s);
    ds_graph_free(&g);
    printf("\nok\n");
    return 0;
}
