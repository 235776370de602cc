/* src/hnsw.h - ds_hnsw: HNSW graph index (and its threaded build)
 *
 * One module of ds_hnsw.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/hnsw.h"
 */
#ifndef DS_SRC_HNSW_H
#define DS_SRC_HNSW_H
#include "flat.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds_hnsw:graph ==
 * ========================================================================
 * Hierarchical Navigable Small World graph (Malkov & Yashunin 2018,
 * arXiv:1603.09320). Each element gets a level l = floor(-ln(U) * mL),
 * mL = 1/ln(M), U uniform in (0,1]; it lives on layers 0..l with at most
 * M links per upper layer and M0 = 2M on layer 0. Insert (the paper's
 * Algorithm 1): greedy descent from the entry point down to layer l+1, then
 * on each layer l..0 a best-first search with ef_construction candidates
 * (Algorithm 2), the neighbour-selection heuristic (Algorithm 4, without
 * the optional candidate extension and kept-pruned connections, as in the
 * authors' hnswlib) picks M links, and each new neighbour that overflows
 * re-runs the heuristic on its own list. Search (Algorithm 5): greedy on
 * the upper layers, then a best-first search with ef >= k on layer 0.
 *
 * Layout (hnswlib's): one block of fixed-size level-0 records, each
 * [u16 link count][u8 flags][u8 pad][M0 u32 links][vector][u64 label],
 * the vector dim floats (or dim halves, DS_HNSW_STORE_F16), so a visit
 * touches one contiguous record (from 64 vector bytes on, the label comes
 * before the vector and the vector starts a cache line: see
 * ds__hn_layout); upper-layer links live in one
 * u32 arena indexed by a per-element offset (no malloc per node). Storage
 * grows by doubling up to max_elements (init allocates nothing).
 *
 *   ds_hnsw_params ds_hnsw_params_default(size_t dim)
 *          dim, L2, M 16, ef_construction 200, ef_search 64, max_elements 0
 *          (no limit but 2^32 - 2), seed 1, replace_deleted 0, storage
 *          DS_HNSW_STORE_F32. A zero field in params passed to init means
 *          that default too.
 *   ds_status ds_hnsw_init(ds_hnsw *h, const ds_hnsw_params *p, const ds_alloc *a)
 *          DS_EINVAL: dim 0 or > DS_VEC_MAX_DIM, metric unknown, M < 2 or
 *          > 4096, ef_construction or ef_search > 2^20, storage unknown.
 *          Allocates nothing.
 *   ds_hnsw_params ds_hnsw_get_params(const ds_hnsw *h)   effective values
 *   void   ds_hnsw_free(ds_hnsw *h)
 *   ds_status ds_hnsw_insert(ds_hnsw *h, uint64_t label, const float *v)
 *          DS_EEXIST if label is present (deleted or not; use update or
 *          unmark), DS_EINVAL (NaN/inf; zero vector under cosine; under
 *          L2 and IP |v|^2 above 2^126, ~8.5e37, where distances could
 *          overflow float; under DS_HNSW_STORE_F16 with L2 or IP, a
 *          component of magnitude 65520 or more, which would round to an
 *          infinite half), DS_EFULL
 *          at max_elements, DS_ENOMEM (strong guarantee: index, RNG and
 *          labels unchanged). With replace_deleted, a deleted slot (the most
 *          recently deleted) is reused for the new label before a new slot
 *          is taken, as hnswlib's replace_deleted. O(ef_construction * M *
 *          log n) distance computations expected.
 *   ds_status ds_hnsw_update(ds_hnsw *h, uint64_t label, const float *v)
 *          replace the vector and repair the graph as hnswlib's updatePoint:
 *          on each of the element's layers, every neighbour it had
 *          re-selects its links (the heuristic over the ef_construction
 *          nearest of the element, its neighbours and their neighbours),
 *          then the element is re-linked from the entry point (its level is
 *          kept). DS_ENOTFOUND (also for a deleted label, as get and
 *          has), DS_EINVAL as insert (index unchanged). Allocates nothing. About M0^3
 *          distance computations on layer 0 (M0 = 2M: ~33k at M = 16) plus
 *          an insert's.
 *   ds_status ds_hnsw_del(ds_hnsw *h, uint64_t label)
 *   ds_status ds_hnsw_undel(ds_hnsw *h, uint64_t label)
 *          soft delete: the element stays in the graph as a waypoint but is
 *          never returned. Idempotent; DS_ENOTFOUND if the label is unknown.
 *          mark O(1), unmark O(deleted). No allocation.
 *   int    ds_hnsw_has(const ds_hnsw *h, uint64_t label)  1 if present
 *          and not deleted
 *   ds_status ds_hnsw_get(const ds_hnsw *h, uint64_t label, float *out)
 *          copy the stored vector (normalised under cosine; under F16 the
 *          stored halves widened, exactly) into out[dim];
 *          DS_ENOTFOUND if unknown or deleted.
 *   size_t ds_hnsw_len(const ds_hnsw *h)       elements not deleted
 *   size_t ds_hnsw_deleted(const ds_hnsw *h)   soft-deleted elements
 *   ds_status ds_hnsw_resize(ds_hnsw *h, size_t max_elements)
 *          set the limit (0 = none) and reserve storage for it (if it is not
 *          0). DS_EINVAL below the current element count; DS_ENOMEM (strong).
 *   ds_status ds_hnsw_compact(ds_hnsw *h)
 *          rebuild the graph from the live elements only (slot order, the
 *          index RNG continuing), dropping soft-deleted ones. DS_ENOMEM
 *          (index unchanged). O(build).
 *   size_t ds_hnsw_memory(const ds_hnsw *h)    bytes allocated
 *
 * Search. A filter, if given, is called with candidate labels and returns
 * nonzero to accept; rejected and deleted elements are still traversed
 * but never returned. Fewer than k results (even 0) when fewer elements
 * exist or pass: that is not an error.
 *   ds_status ds_hnsw_search(const ds_hnsw *h, const float *q, size_t k, size_t ef,
 *                            ds_hnsw_filter filter, void *ctx,
 *                            ds_neighbor *out, size_t *nout)
 *          up to k results into out (room for min(k, len)), nearest first.
 *          ef = 0 means the index's ef_search; ef < k is raised to k, or to
 *          the element count when k is larger (k = SIZE_MAX asks for all).
 *          DS_EINVAL: k = 0, that effective ef > 2^20, NaN in q, zero q
 *          under cosine, |q|^2 above 2^126 under L2 and IP. Allocates a visited list
 *          for the call (O(n) bytes, DS_ENOMEM).
 *   ds_status ds_hnsw_scratch_init(ds_hnsw_scratch *s, const ds_alloc *a)
 *   void   ds_hnsw_scratch_free(ds_hnsw_scratch *s)
 *   ds_status ds_hnsw_search_scratch(const ds_hnsw *h, ds_hnsw_scratch *s, ...same)
 *          the same with a reusable per-thread scratch (epoch-stamped u16
 *          visited marks, heaps): no allocation after the first call at a
 *          given size. One scratch per thread.
 * Storage (ds_hnsw_params.storage; saved with the index):
 *   DS_HNSW_STORE_F32  (0, the default) vectors as given, 4 bytes a value.
 *   DS_HNSW_STORE_F16  vectors as IEEE binary16, rounded to nearest even
 *          (ds_f32_to_f16; under cosine the normalised fp32 vector is what
 *          is rounded): 2 bytes a value, so a level-0 record of a 784-d
 *          vector at M = 16 is 1792 bytes instead of 3328 (ds_hnsw_memory
 *          says what is allocated). Queries stay fp32 and every distance
 *          is computed in fp32 on the widened halves: under L2 and IP the
 *          distances, graph and results are exactly those of an F32 index
 *          given the rounded vectors (same kernel level); under cosine,
 *          1 - q.v with q normalised and v the stored (rounded) vector.
 *          What changes is the data: each value moves by up to 2^-11 of
 *          itself (about 3 significant digits; values below 2^-14 keep an
 *          absolute step of 2^-24), so recall against the fp32 ground
 *          truth drops where neighbours are that close; integers up to
 *          2048 are exact (8-bit data loses nothing). The gain is speed
 *          where search is memory-bound (high dimensions): half the bytes
 *          read per distance (docs/hnsw.md has measurements). L2 and IP
 *          vectors must have |x_i| < 65520.
 * Determinism: the same params (seed) and sequence of calls give the same
 * graph and the same results on the same build (kernel choice included).
 * Thread-safety: see the header comment; searches run concurrently with
 * each other only. A multi-threaded build and batch search are in
 * ds_hnsw:threads (DS_HNSW_THREADS). */
typedef enum ds_hnsw_storage { DS_HNSW_STORE_F32 = 0, DS_HNSW_STORE_F16 = 1 } ds_hnsw_storage;

typedef struct ds_hnsw_params {
    size_t dim;
    ds_metric metric;         /* 0 = DS_METRIC_L2 */
    size_t M;                 /* 0 = 16 */
    size_t ef_construction;   /* 0 = 200 */
    size_t ef_search;         /* 0 = 64 */
    size_t max_elements;      /* 0 = no limit */
    uint64_t seed;
    int replace_deleted;
    ds_hnsw_storage storage;  /* 0 = DS_HNSW_STORE_F32 */
} ds_hnsw_params;

typedef int (*ds_hnsw_filter)(uint64_t label, void *ctx);

/* A (distance, element) pair in the search heaps (internal). */
typedef struct ds__hnsw_pair {
    float d;
    uint32_t id;
} ds__hnsw_pair;

typedef struct ds_hnsw_scratch {
    uint16_t *mark;           /* visited epochs, one per slot */
    size_t nmark;
    uint16_t epoch;
    ds__hnsw_pair *cand, *top; /* candidate min-heap, result max-heap */
    size_t ncand, ntop;       /* capacities */
    float *q;                 /* the normalised query (cosine) */
    size_t nq;
    const ds_alloc *alloc;
} ds_hnsw_scratch;

typedef struct ds_hnsw {
    size_t dim, M, M0, efc, ef, max_elements;
    ds_metric metric;
    double mL;
    uint64_t seed;
    ds_rng rng;
    int replace_deleted;
    int maxlevel;             /* -1 when empty */
    uint32_t entry;
    size_t n;                 /* slots in use (deleted included) */
    size_t room;              /* slots allocated */
    size_t rec, vec_off, label_off; /* level-0 record layout, bytes */
    size_t l0slack;           /* bytes allocated past room records, to align l0 */
    unsigned char *l0;        /* room records (64-byte aligned when l0slack) */
    unsigned char *l0mem;     /* the allocation l0 lies in */
    uint8_t *level;           /* room */
    uint64_t *uoff;           /* room: first word of the element's upper links */
    uint32_t *upper;          /* arena: per upper layer [count][M ids] */
    size_t ulen, ucap;        /* words */
    uint32_t *del;            /* deleted slots, in deletion order */
    size_t ndel;
    ds__hnsw_pair *sel;       /* build scratch: sorted candidates, size nsel */
    size_t nsel;
    ds_hnsw_scratch build;
    ds__vlabel_map map;       /* label -> slot */
    ds_dist_fn dist;          /* l2sq or dot kernel, picked at init */
    int ip;                   /* distance = 1 - dist(): IP and cosine */
    ds_hnsw_storage storage;
    ds_dist_f16_fn dist16;    /* F16: fp32 x fp16 kernel (NULL under F32) */
    void (*widen)(const uint16_t *src, float *dst, size_t n); /* F16 */
    float *wbuf;              /* F16 build: two widened vectors, 2 dim */
    size_t nwbuf;             /* floats in wbuf */
    const ds_alloc *alloc;
} ds_hnsw;

DSDEF ds_hnsw_params ds_hnsw_params_default(size_t dim);
DSDEF ds_status ds_hnsw_init(ds_hnsw *h, const ds_hnsw_params *p, const ds_alloc *a);
DSDEF ds_hnsw_params ds_hnsw_get_params(const ds_hnsw *h);
DSDEF void ds_hnsw_free(ds_hnsw *h);
DSDEF ds_status ds_hnsw_insert(ds_hnsw *h, uint64_t label, const float *v);
DSDEF ds_status ds_hnsw_update(ds_hnsw *h, uint64_t label, const float *v);
DSDEF ds_status ds_hnsw_del(ds_hnsw *h, uint64_t label);
DSDEF ds_status ds_hnsw_undel(ds_hnsw *h, uint64_t label);
DSDEF int ds_hnsw_has(const ds_hnsw *h, uint64_t label);
DSDEF ds_status ds_hnsw_get(const ds_hnsw *h, uint64_t label, float *out);
DSDEF size_t ds_hnsw_len(const ds_hnsw *h);
DSDEF size_t ds_hnsw_deleted(const ds_hnsw *h);
DSDEF ds_status ds_hnsw_resize(ds_hnsw *h, size_t max_elements);
DSDEF ds_status ds_hnsw_compact(ds_hnsw *h);
DSDEF size_t ds_hnsw_memory(const ds_hnsw *h);
DSDEF ds_status ds_hnsw_scratch_init(ds_hnsw_scratch *s, const ds_alloc *a);
DSDEF void ds_hnsw_scratch_free(ds_hnsw_scratch *s);
DSDEF ds_status ds_hnsw_search(const ds_hnsw *h, const float *q, size_t k, size_t ef,
                               ds_hnsw_filter filter, void *ctx, ds_neighbor *out, size_t *nout);
DSDEF ds_status ds_hnsw_search_scratch(const ds_hnsw *h, ds_hnsw_scratch *s, const float *q,
                                       size_t k, size_t ef, ds_hnsw_filter filter, void *ctx,
                                       ds_neighbor *out, size_t *nout);

/* ========================================================================
 * == ds_hnsw:threads ==
 * ========================================================================
 * Only with DS_HNSW_THREADS defined (gcc/clang, POSIX threads, -pthread).
 * threads = 0 means one per online CPU; it is also capped at the work
 * there is and at 256. threads = 1 runs everything on the calling thread (no thread
 * is created). If a thread cannot be created the call goes on with the
 * ones it has (the calling thread always works too).
 *
 *   ds_status ds_hnsw_insert_batch(ds_hnsw *h, const uint64_t *labels,
 *                               const float *vectors, size_t count,
 *                               size_t threads)
 *          add count elements (labels[i], vectors + i * dim) as
 *          ds_hnsw_insert would, linking them into the graph from `threads`
 *          threads at once (hnswlib's parallel addPoint: a lock per node
 *          held while its link lists are read or changed, and by the
 *          inserting thread for the whole insertion of its own element; one
 *          mutex for the entry point and top level, held through an insert
 *          that raises the top level). All or nothing: the whole batch is
 *          checked and every allocation made (storage grown for all of it,
 *          per-thread visited lists and heaps) before the index changes.
 *          DS_EINVAL (NULL with count > 0, a NaN/inf vector, a zero vector
 *          under cosine), DS_EEXIST (a label already present, or twice in
 *          the batch), DS_EFULL (the new elements would pass max_elements),
 *          DS_ENOMEM (index unchanged); count = 0 is DS_OK. Levels and slots
 *          are drawn serially in batch order, so the RNG, slots, levels and
 *          labels come out exactly as from count ds_hnsw_insert calls; with
 *          threads = 1 the graph is identical too (deterministic). With
 *          more threads the links depend on timing: recall is the same to
 *          within noise, the graph is not reproducible. With
 *          replace_deleted, the first min(deleted, count) elements reuse
 *          deleted slots; they are linked serially before the parallel part.
 *          Every label must be absent when the call starts (one that a
 *          replacement earlier in the same batch frees is still DS_EEXIST,
 *          unlike a sequence of add calls).
 *          Transient memory: per extra thread one visited list and one
 *          candidate heap for every slot (10 bytes per slot) plus O(ef + M)
 *          (and 8 dim bytes under DS_HNSW_STORE_F16).
 *   ds_status ds_hnsw_search_batch(const ds_hnsw *h, const float *queries,
 *                                  size_t nq, size_t k, size_t ef,
 *                                  ds_hnsw_filter filter, void *ctx,
 *                                  ds_neighbor *out, size_t *nout,
 *                                  size_t threads)
 *          nq queries stored back to back (dim floats each), searched as
 *          ds_hnsw_search would (same results): query i's up to k results
 *          at out + i * k, their count in nout[i]. The filter, if any, is
 *          called from several threads at once, and so may the allocator
 *          be (a search that outgrows its candidate heap; add_batch
 *          allocates on the calling thread only). DS_EINVAL as search (for
 *          any query, before anything is searched), DS_ENOMEM (per-thread
 *          scratch; out then holds only some of the results).
 * Thread-safety: add_batch needs exclusive access to h, like add: no
 * search (batch or not) and no other call on h may run while it does.
 * search_batch only reads h: it may run alongside other searches. */
#ifdef DS_HNSW_THREADS
DSDEF ds_status ds_hnsw_insert_batch(ds_hnsw *h, const uint64_t *labels, const float *vectors,
                                  size_t count, size_t threads);
DSDEF ds_status ds_hnsw_search_batch(const ds_hnsw *h, const float *queries, size_t nq, size_t k,
                                     size_t ef, ds_hnsw_filter filter, void *ctx,
                                     ds_neighbor *out, size_t *nout, size_t threads);
#endif

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_HNSW_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_HNSW_IMPLEMENTATION)) && !defined(DS_SRC_HNSW_IMPL)
#define DS_SRC_HNSW_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds_hnsw:graph == */

#define DS__HNSW_MAX_LEVEL 64
#define DS__HNSW_MAX_EF ((size_t)1 << 20)
#define DS__HNSW_MAX_M 4096
#define DS__HNSW_NOLIMIT ((size_t)UINT32_MAX - 1)
#define DS__HNSW_DELETED 1u

static unsigned char *ds__hn_rec(const ds_hnsw *h, uint32_t id) {
    return h->l0 + (size_t)id * h->rec;
}
/* The stored vector: dim floats, or dim halves under F16. */
static const void *ds__hn_vec(const ds_hnsw *h, uint32_t id) {
    return ds__hn_rec(h, id) + h->vec_off;
}
/* Element id's vector as floats: in place (F32), or widened into buf
 * (F16: dim floats). */
static const float *ds__hn_vecf(const ds_hnsw *h, uint32_t id, float *buf) {
    if (!h->dist16) return (const float *)ds__hn_vec(h, id);
    h->widen((const uint16_t *)ds__hn_vec(h, id), buf, h->dim);
    return buf;
}
static uint64_t ds__hn_label(const ds_hnsw *h, uint32_t id) {
    uint64_t l;
    memcpy(&l, ds__hn_rec(h, id) + h->label_off, 8);
    return l;
}
static int ds__hn_deleted(const ds_hnsw *h, uint32_t id) {
    return (ds__hn_rec(h, id)[2] & DS__HNSW_DELETED) != 0;
}
/* Links of id on layer lc; *cnt = how many. */
static uint32_t *ds__hn_links(const ds_hnsw *h, uint32_t id, int lc, size_t *cnt) {
    if (lc == 0) {
        unsigned char *r = ds__hn_rec(h, id);
        uint16_t c;
        memcpy(&c, r, 2);
        *cnt = c;
        return (uint32_t *)(void *)(r + 4);
    } else {
        uint32_t *u = h->upper + h->uoff[id] + (size_t)(lc - 1) * (h->M + 1);
        *cnt = u[0];
        return u + 1;
    }
}
static void ds__hn_set_count(ds_hnsw *h, uint32_t id, int lc, size_t c) {
    if (lc == 0) {
        uint16_t v = (uint16_t)c;
        memcpy(ds__hn_rec(h, id), &v, 2);
    } else {
        h->upper[h->uoff[id] + (size_t)(lc - 1) * (h->M + 1)] = (uint32_t)c;
    }
}
/* The distance from fp32 vector q to element id (stored-vs-stored
 * distances widen one side first: ds__hn_vecf). */
static float ds__hn_dist(const ds_hnsw *h, const float *q, uint32_t id) {
    const void *v = ds__hn_vec(h, id);
    float d = h->dist16 ? h->dist16(q, (const uint16_t *)v, h->dim)
                        : h->dist(q, (const float *)v, h->dim);
    return h->ip ? 1.0f - d : d;
}


static int ds__pair_lt(const void *a, const void *b) {
    return ((const ds__hnsw_pair *)a)->d < ((const ds__hnsw_pair *)b)->d;
}
static int ds__pair_gt(const void *a, const void *b) {
    return ((const ds__hnsw_pair *)a)->d > ((const ds__hnsw_pair *)b)->d;
}
/* Total order (distance, then id) so sorting is deterministic. */
static int ds__pair_after(const void *pa, const void *pb) {
    const ds__hnsw_pair *a = (const ds__hnsw_pair *)pa, *b = (const ds__hnsw_pair *)pb;
    return a->d > b->d || (a->d == b->d && a->id > b->id);
}
static void ds__pair_sort(ds__hnsw_pair *p, size_t n) {
    ds__hnsw_pair tmp;
    size_t i;
    for (i = n / 2; i-- > 0;)
        ds__heap_sift_down((unsigned char *)p, n, i, sizeof tmp, ds__pair_after, &tmp);
    while (n > 1) {
        ds__hnsw_pair t = p[0];
        p[0] = p[--n];
        p[n] = t;
        ds__heap_sift_down((unsigned char *)p, n, 0, sizeof tmp, ds__pair_after, &tmp);
    }
}

/* -- scratch -- */

DSDEF ds_status ds_hnsw_scratch_init(ds_hnsw_scratch *s, const ds_alloc *a) {
    if (!s) return DS_EINVAL;
    memset(s, 0, sizeof *s);
    s->alloc = a;
    return DS_OK;
}
DSDEF void ds_hnsw_scratch_free(ds_hnsw_scratch *s) {
    if (!s) return;
    if (s->mark) DS_FREE(s->alloc, s->mark, s->nmark * sizeof *s->mark);
    if (s->cand) DS_FREE(s->alloc, s->cand, s->ncand * sizeof *s->cand);
    if (s->top) DS_FREE(s->alloc, s->top, s->ntop * sizeof *s->top);
    if (s->q) DS_FREE(s->alloc, s->q, s->nq * sizeof *s->q);
    ds_hnsw_scratch_init(s, s->alloc);
}
/* Grow one scratch array to at least n elements of esz bytes (contents
 * are not kept: scratch). */
static int ds__scratch_grow(const ds_alloc *a, void **p, size_t *cap, size_t n, size_t esz) {
    void *np;
    size_t bytes;
    if (*cap >= n) return 1;
    if (!ds_size_mul(n, esz, &bytes) || !(np = DS_MALLOC(a, bytes))) return 0;
    if (*p) DS_FREE(a, *p, *cap * esz);
    *p = np;
    *cap = n;
    return 1;
}
/* Room to search a graph of `nodes` slots with ef and dim. A partial
 * success leaves bigger, still consistent arrays. */
static ds_status ds__scratch_reserve(ds_hnsw_scratch *s, size_t nodes, size_t ef, size_t dim) {
    void *p;
    size_t had = s->nmark;
    p = s->mark;
    if (!ds__scratch_grow(s->alloc, &p, &s->nmark, nodes, sizeof *s->mark)) return DS_ENOMEM;
    s->mark = (uint16_t *)p;
    if (s->nmark != had) {
        memset(s->mark, 0, s->nmark * sizeof *s->mark);
        s->epoch = 0;
    }
    /* Candidates start at a few ef and grow on demand (the bound is the
     * visited count, up to nodes + 1; the build scratch reserves that). */
    p = s->cand;
    if (!ds__scratch_grow(s->alloc, &p, &s->ncand, nodes + 1 < 4 * ef + 64 ? nodes + 1 : 4 * ef + 64,
                          sizeof *s->cand))
        return DS_ENOMEM;
    s->cand = (ds__hnsw_pair *)p;
    p = s->top;
    if (!ds__scratch_grow(s->alloc, &p, &s->ntop, ef + 2, sizeof *s->top)) return DS_ENOMEM;
    s->top = (ds__hnsw_pair *)p;
    p = s->q;
    if (!ds__scratch_grow(s->alloc, &p, &s->nq, dim, sizeof *s->q)) return DS_ENOMEM;
    s->q = (float *)p;
    return DS_OK;
}

/* -- build workers and node locks -- */

/* What one building thread works with: the single-threaded build uses
 * h->build and h->sel; ds_hnsw_insert_batch gives each extra thread its own. */
typedef struct ds__hn_wk {
    ds_hnsw_scratch *s;  /* visited marks and heaps (cand holds every slot) */
    ds__hnsw_pair *sel;  /* candidates being selected: max(efc, M0) + 2 */
    float *qv, *bv;      /* F16: the element's and a base's vector widened (dim) */
    uint32_t *nb;        /* threads: a link list copied under its lock (M0) */
    uint32_t self;       /* the element being linked (its lock is held) */
    int mt;              /* other threads build too: lock nodes */
} ds__hn_wk;

#ifdef DS_HNSW_THREADS
/* The per-node lock: byte 3 of the level-0 record (spare padding, always 0
 * outside ds_hnsw_insert_batch, never saved), a test-and-test-and-set spin
 * lock that yields the CPU after a short spin (the holder may be a thread
 * that was preempted, or one still inserting its own element). */
static unsigned char *ds__hn_lockb(const ds_hnsw *h, uint32_t id) { return ds__hn_rec(h, id) + 3; }
static void ds__hn_lock(const ds_hnsw *h, uint32_t id) {
    unsigned char *b = ds__hn_lockb(h, id);
    unsigned spins = 0;
    while (__atomic_exchange_n(b, (unsigned char)1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(b, __ATOMIC_RELAXED)) {
            if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                sched_yield();
            }
        }
    }
}
static void ds__hn_unlock(const ds_hnsw *h, uint32_t id) {
    __atomic_store_n(ds__hn_lockb(h, id), (unsigned char)0, __ATOMIC_RELEASE);
}
#define DS__HN_MT(w) ((w) && (w)->mt)
#else
#define DS__HN_MT(w) 0
#endif

/* Links of id on layer lc for reading; in a multi-threaded build a copy
 * taken under the node's lock (hnswlib holds the lock while it reads; a
 * copy of <= M0 ids keeps the spin short), except the worker's own element,
 * whose lock it already holds. */
static const uint32_t *ds__hn_read_links(const ds_hnsw *h, ds__hn_wk *w, uint32_t id, int lc,
                                         size_t *cnt) {
#ifdef DS_HNSW_THREADS
    if (DS__HN_MT(w) && id != w->self) {
        const uint32_t *ln;
        ds__hn_lock(h, id);
        ln = ds__hn_links(h, id, lc, cnt);
        memcpy(w->nb, ln, *cnt * sizeof *ln);
        ds__hn_unlock(h, id);
        return w->nb;
    }
#else
    (void)w;
#endif
    return ds__hn_links(h, id, lc, cnt);
}

/* -- search on one layer (the paper's Algorithm 2) -- */

static int ds__hn_accept(const ds_hnsw *h, uint32_t id, int skip_deleted, ds_hnsw_filter filt,
                         void *ctx) {
    if (skip_deleted && ds__hn_deleted(h, id)) return 0;
    return !filt || filt(ds__hn_label(h, id), ctx);
}

/* Double the candidate heap (a search scratch only; contents kept). */
static int ds__hn_cand_grow(ds_hnsw_scratch *s) {
    size_t nc = s->ncand * 2, bytes;
    ds__hnsw_pair *p;
    if (!ds_size_mul(nc, sizeof *p, &bytes) ||
        !(p = (ds__hnsw_pair *)DS_MALLOC(s->alloc, bytes)))
        return 0;
    memcpy(p, s->cand, s->ncand * sizeof *p);
    DS_FREE(s->alloc, s->cand, s->ncand * sizeof *p);
    s->cand = p;
    s->ncand = nc;
    return 1;
}

/* A fresh visited mark: bump the epoch, clearing the marks when it wraps. */
static void ds__hn_new_epoch(ds_hnsw_scratch *s) {
    if (++s->epoch == 0) {
        memset(s->mark, 0, s->nmark * sizeof *s->mark);
        s->epoch = 1;
    }
}

/* Best-first search on layer lc from ep: s->top becomes a max-heap of the
 * (up to) ef nearest accepted elements; returns how many, or sets *oom
 * (search scratch only: the build scratch holds every slot). Rejected
 * elements are still expanded, so the walk goes through them. */
static size_t ds__hn_search_layer(const ds_hnsw *h, ds_hnsw_scratch *s, ds__hn_wk *w,
                                  const float *q, uint32_t ep, float epd, size_t ef, int lc,
                                  int skip_deleted, ds_hnsw_filter filt, void *ctx, int *oom) {
    size_t nc = 0, nt = 0;
    ds__hnsw_pair x, tmp;
    float lower = epd;
    ds__hn_new_epoch(s);
    s->mark[ep] = s->epoch;
    x.d = epd;
    x.id = ep;
    s->cand[nc++] = x;
    if (ds__hn_accept(h, ep, skip_deleted, filt, ctx)) s->top[nt++] = x;
    while (nc) {
        ds__hnsw_pair c = s->cand[0];
        size_t cnt, j;
        const uint32_t *ln;
        if (nt == ef && c.d > lower) break; /* nothing left can improve the results */
        s->cand[0] = s->cand[--nc];
        if (nc) ds__heap_sift_down((unsigned char *)s->cand, nc, 0, sizeof x, ds__pair_lt, &tmp);
        ln = ds__hn_read_links(h, w, c.id, lc, &cnt);
        if (cnt) DS__PREFETCH(&s->mark[ln[0]]);
        for (j = 0; j < cnt; j++) {
            uint32_t e = ln[j];
            float d;
            /* The next neighbour's mark and vector are likely cache misses:
             * start loading them while this one's distance is computed. */
            if (j + 1 < cnt) {
                DS__PREFETCH(&s->mark[ln[j + 1]]);
                DS__PREFETCH(ds__hn_vec(h, ln[j + 1]));
            }
            if (s->mark[e] == s->epoch) continue;
            s->mark[e] = s->epoch;
            d = ds__hn_dist(h, q, e);
            if (nt < ef || d < lower) {
                x.d = d;
                x.id = e;
                if (nc == s->ncand && !ds__hn_cand_grow(s)) {
                    *oom = 1;
                    return nt;
                }
                s->cand[nc++] = x;
                ds__heap_sift_up((unsigned char *)s->cand, nc - 1, sizeof x, ds__pair_lt, &tmp);
                /* The nearest candidate is likely the next one expanded: start
                 * loading its links (the distance read only its vector). */
                DS__PREFETCH(ds__hn_rec(h, s->cand[0].id));
                DS__PREFETCH(ds__hn_rec(h, s->cand[0].id) + 64);
                if (ds__hn_accept(h, e, skip_deleted, filt, ctx)) {
                    s->top[nt++] = x;
                    ds__heap_sift_up((unsigned char *)s->top, nt - 1, sizeof x, ds__pair_gt, &tmp);
                    if (nt > ef) {
                        s->top[0] = s->top[--nt];
                        ds__heap_sift_down((unsigned char *)s->top, nt, 0, sizeof x, ds__pair_gt,
                                           &tmp);
                    }
                    lower = s->top[0].d;
                }
            }
        }
    }
    return nt;
}

/* Greedy descent (ef = 1) from layer `from` down to layer `to` + 1. An
 * element scored once in the descent is skipped after (marks in s): *epd
 * only falls, so it could not win again. This saves the distance back to
 * the element just left (links are mostly mutual) and to shared neighbours,
 * and the result is the same as hnswlib's descent without marks. (The
 * skipped vectors were just read, so this saves arithmetic, not misses.) */
static uint32_t ds__hn_greedy(const ds_hnsw *h, ds_hnsw_scratch *s, ds__hn_wk *w, const float *q,
                              uint32_t ep, float *epd, int from, int to) {
    int lc;
    ds__hn_new_epoch(s);
    s->mark[ep] = s->epoch;
    for (lc = from; lc > to; lc--) {
        int changed = 1;
        while (changed) {
            size_t cnt, j;
            const uint32_t *ln = ds__hn_read_links(h, w, ep, lc, &cnt);
            changed = 0;
            for (j = 0; j < cnt; j++) {
                float d;
                if (j + 1 < cnt) DS__PREFETCH(ds__hn_vec(h, ln[j + 1]));
                if (s->mark[ln[j]] == s->epoch) continue;
                s->mark[ln[j]] = s->epoch;
                d = ds__hn_dist(h, q, ln[j]);
                if (d < *epd) {
                    *epd = d;
                    ep = ln[j];
                    changed = 1;
                }
            }
        }
    }
    return ep;
}

/* The neighbour-selection heuristic (Algorithm 4): walk the candidates
 * nearest first and keep one only if it is nearer to the base than to
 * every one kept so far, up to m. In place: the kept ones end up in
 * sel[0..r). buf: dim floats (F16 widens each candidate there). */
static size_t ds__hn_select(const ds_hnsw *h, ds__hnsw_pair *sel, size_t nc, size_t m,
                            float *buf) {
    size_t r = 0, i, j;
    for (i = 0; i < nc && r < m; i++) {
        const float *vi = ds__hn_vecf(h, sel[i].id, buf);
        int good = 1;
        for (j = 0; j < r; j++) {
            if (ds__hn_dist(h, vi, sel[j].id) < sel[i].d) {
                good = 0;
                break;
            }
        }
        if (good) sel[r++] = sel[i];
    }
    return r;
}

/* Add the link e -> id on layer lc; if e is full, re-run the heuristic on
 * its links plus id (sel: room for M0 + 1). In a multi-threaded build under
 * e's lock, held through the heuristic as hnswlib does. */
static void ds__hn_connect(ds_hnsw *h, ds__hn_wk *w, uint32_t e, uint32_t id, int lc) {
    size_t cnt, j, r, mmax = lc ? h->M : h->M0;
    ds__hnsw_pair *sel = w->sel;
    uint32_t *ln;
    const float *ve = ds__hn_vecf(h, e, w->bv); /* read before select reuses bv */
#ifdef DS_HNSW_THREADS
    if (DS__HN_MT(w)) ds__hn_lock(h, e);
#endif
    ln = ds__hn_links(h, e, lc, &cnt);
    for (j = 0; j < cnt && ln[j] != id; j++) {}
    if (j < cnt) {
        /* already linked */
    } else if (cnt < mmax) {
        ln[cnt] = id;
        ds__hn_set_count(h, e, lc, cnt + 1);
    } else {
        for (j = 0; j < cnt; j++) {
            sel[j].id = ln[j];
            sel[j].d = ds__hn_dist(h, ve, ln[j]);
        }
        sel[cnt].id = id;
        sel[cnt].d = ds__hn_dist(h, ve, id);
        ds__pair_sort(sel, cnt + 1);
        r = ds__hn_select(h, sel, cnt + 1, mmax, w->bv);
        for (j = 0; j < r; j++) ln[j] = sel[j].id;
        ds__hn_set_count(h, e, lc, r);
    }
#ifdef DS_HNSW_THREADS
    if (DS__HN_MT(w)) ds__hn_unlock(h, e);
#endif
}

/* Link element id (vector stored, level L) into layers min(L, top)..0,
 * starting from entry point ep on layer top (Algorithm 1). id itself is
 * never its own neighbour (update and replace re-link an element that is
 * already in the graph). Allocates nothing. In a multi-threaded build the
 * caller holds id's lock throughout, so its own lists need no other lock:
 * a thread that reaches id waits until it is linked (as in hnswlib). */
static void ds__hn_link_from(ds_hnsw *h, ds__hn_wk *w, uint32_t id, int L, uint32_t ep, int top) {
    const float *q = ds__hn_vecf(h, id, w->qv);
    float epd = ds__hn_dist(h, q, ep);
    ds__hnsw_pair *sel = w->sel;
    int lc;
    if (top > L) ep = ds__hn_greedy(h, w->s, w, q, ep, &epd, top, L);
    for (lc = L < top ? L : top; lc >= 0; lc--) {
        int oom = 0;
        size_t nt = ds__hn_search_layer(h, w->s, w, q, ep, epd, h->efc, lc, 0, NULL, NULL, &oom);
        size_t nc = 0, i, r, cnt;
        uint32_t *mine;
        DS_ASSERT(!oom); /* the build scratch has room for every slot */
        (void)oom;
        for (i = 0; i < nt; i++)
            if (w->s->top[i].id != id) sel[nc++] = w->s->top[i];
        ds__pair_sort(sel, nc);
        if (nc) {
            ep = sel[0].id;
            epd = sel[0].d;
        }
        r = ds__hn_select(h, sel, nc, h->M, w->bv);
        mine = ds__hn_links(h, id, lc, &cnt);
        for (i = 0; i < r; i++) mine[i] = sel[i].id;
        ds__hn_set_count(h, id, lc, r);
#ifdef DS_HNSW_THREADS
        if (DS__HN_MT(w)) {
            /* connect uses sel; the chosen ids go to nb (free until the
             * next layer's search) */
            for (i = 0; i < r; i++) w->nb[i] = mine[i];
            for (i = 0; i < r; i++) ds__hn_connect(h, w, w->nb[i], id, lc);
            continue;
        }
#endif
        /* mine[] is stable while the neighbours change their own lists. */
        for (i = 0; i < r; i++) ds__hn_connect(h, w, mine[i], id, lc);
    }
}
/* The single-threaded build: from the index's entry point, with h->build. */
static void ds__hn_link(ds_hnsw *h, uint32_t id, int L) {
    ds__hn_wk w;
    w.s = &h->build;
    w.sel = h->sel;
    w.nb = NULL;
    w.qv = h->wbuf;
    w.bv = h->wbuf ? h->wbuf + h->dim : NULL;
    w.self = id;
    w.mt = 0;
    ds__hn_link_from(h, &w, id, L, h->entry, h->maxlevel);
}

/* -- storage -- */

/* Room for more slots, in two steps. ds__hn_room_alloc allocates every
 * per-slot array (and, the first time, the build's fixed buffers) for nroom
 * slots without touching the index; ds__hn_room_commit installs them,
 * ds__hn_room_drop frees them. An insert allocates everything it needs
 * (room, arena, label map) before it installs anything, so DS_ENOMEM at
 * any step leaves the index exactly as it was, memory() included. */
enum { DS__HN_L0, DS__HN_LEV, DS__HN_UOFF, DS__HN_DEL, DS__HN_MARK, DS__HN_CAND, DS__HN_NB };
typedef struct ds__hn_room {
    size_t nroom; /* 0: nothing allocated */
    void *nw[DS__HN_NB];
    void *sel, *top, *wbuf;
    size_t nsel, ntop, nwbuf;
} ds__hn_room;
static size_t ds__hn_esz(const ds_hnsw *h, int i) {
    static const size_t esz[DS__HN_NB] = {0, 1, sizeof(uint64_t), sizeof(uint32_t), sizeof(uint16_t),
                                          sizeof(ds__hnsw_pair)};
    return i == DS__HN_L0 ? h->rec : esz[i];
}
/* Bytes of per-slot array i for nroom slots (0 on overflow). */
static size_t ds__hn_bytes(const ds_hnsw *h, int i, size_t nroom) {
    size_t b;
    if (!ds_size_mul(nroom + (i == DS__HN_CAND), ds__hn_esz(h, i), &b)) return 0;
    if (i == DS__HN_L0 && !ds_size_add(b, h->l0slack, &b)) return 0;
    return b;
}
/* The first 64-byte boundary in a block allocated with l0slack = 63. */
static unsigned char *ds__hn_l0_align(const ds_hnsw *h, void *mem) {
    unsigned char *p = (unsigned char *)mem;
    return h->l0slack ? p + ((64 - ((uintptr_t)p & 63)) & 63) : p;
}
/* Ask Linux for transparent huge pages on the whole 2 MiB pages inside the
 * level-0 block, before anything is written there (advice only: a no-op
 * where THP is "never", and where it is "always"). A search reads vectors
 * at random across the block; with 4 KiB pages one past the TLB's reach
 * (a few MB) costs a page walk on most of them. */
static void ds__hn_advise_huge(void *p, size_t bytes) {
#ifdef DS__MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (e > a) (void)madvise((void *)a, (size_t)(e - a), DS__MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}
static void ds__hn_room_drop(ds_hnsw *h, ds__hn_room *r) {
    int i;
    for (i = 0; i < DS__HN_NB; i++)
        if (r->nw[i]) DS_FREE(h->alloc, r->nw[i], ds__hn_bytes(h, i, r->nroom));
    if (r->sel) DS_FREE(h->alloc, r->sel, r->nsel * sizeof(ds__hnsw_pair));
    if (r->top) DS_FREE(h->alloc, r->top, r->ntop * sizeof(ds__hnsw_pair));
    if (r->wbuf) DS_FREE(h->alloc, r->wbuf, r->nwbuf * sizeof(float));
    memset(r, 0, sizeof *r);
}
static ds_status ds__hn_room_alloc(ds_hnsw *h, size_t nroom, ds__hn_room *r) {
    int i;
    memset(r, 0, sizeof *r);
    if (nroom <= h->room) return DS_OK;
    r->nroom = nroom;
    for (i = 0; i < DS__HN_NB; i++) {
        size_t bytes = ds__hn_bytes(h, i, nroom);
        if (!bytes) {
            ds__hn_room_drop(h, r);
            return DS_EINVAL;
        }
        if (!(r->nw[i] = DS_MALLOC(h->alloc, bytes))) {
            ds__hn_room_drop(h, r);
            return DS_ENOMEM;
        }
        if (i == DS__HN_L0) ds__hn_advise_huge(r->nw[i], bytes);
    }
    if (!h->sel) { /* the fixed-size build buffers come with the first growth */
        size_t nsel = (h->efc > h->M0 ? h->efc : h->M0) + 2;
        int ok = ds__scratch_grow(h->alloc, &r->sel, &r->nsel, nsel, sizeof(ds__hnsw_pair));
        if (ok && h->dist16)
            ok = ds__scratch_grow(h->alloc, &r->wbuf, &r->nwbuf, 2 * h->dim, sizeof(float));
        if (!ok || !ds__scratch_grow(h->alloc, &r->top, &r->ntop, h->efc + 2, sizeof(ds__hnsw_pair))) {
            ds__hn_room_drop(h, r);
            return DS_ENOMEM;
        }
    }
    return DS_OK;
}
static void ds__hn_room_commit(ds_hnsw *h, ds__hn_room *r) {
    size_t nroom = r->nroom;
    if (!nroom) return;
    if (r->sel) {
        h->sel = (ds__hnsw_pair *)r->sel;
        h->nsel = r->nsel;
        h->build.top = (ds__hnsw_pair *)r->top;
        h->build.ntop = r->ntop;
        h->wbuf = (float *)r->wbuf;
        h->nwbuf = r->nwbuf;
    }
    if (h->n) {
        memcpy(ds__hn_l0_align(h, r->nw[DS__HN_L0]), h->l0, h->n * h->rec);
        memcpy(r->nw[DS__HN_LEV], h->level, h->n);
        memcpy(r->nw[DS__HN_UOFF], h->uoff, h->n * sizeof(uint64_t));
    }
    if (h->ndel) memcpy(r->nw[DS__HN_DEL], h->del, h->ndel * sizeof(uint32_t));
    memset(r->nw[DS__HN_MARK], 0, nroom * sizeof(uint16_t));
    if (h->l0) {
        DS_FREE(h->alloc, h->l0mem, ds__hn_bytes(h, DS__HN_L0, h->room));
        DS_FREE(h->alloc, h->level, h->room);
        DS_FREE(h->alloc, h->uoff, h->room * sizeof(uint64_t));
        DS_FREE(h->alloc, h->del, h->room * sizeof(uint32_t));
    }
    if (h->build.mark) DS_FREE(h->alloc, h->build.mark, h->build.nmark * sizeof(uint16_t));
    if (h->build.cand) DS_FREE(h->alloc, h->build.cand, h->build.ncand * sizeof(ds__hnsw_pair));
    h->l0mem = (unsigned char *)r->nw[DS__HN_L0];
    h->l0 = ds__hn_l0_align(h, h->l0mem);
    h->level = (uint8_t *)r->nw[DS__HN_LEV];
    h->uoff = (uint64_t *)r->nw[DS__HN_UOFF];
    h->del = (uint32_t *)r->nw[DS__HN_DEL];
    h->build.mark = (uint16_t *)r->nw[DS__HN_MARK];
    h->build.nmark = nroom;
    h->build.epoch = 0;
    h->build.cand = (ds__hnsw_pair *)r->nw[DS__HN_CAND];
    h->build.ncand = nroom + 1;
    h->room = nroom;
    memset(r, 0, sizeof *r);
}
/* Grow every per-slot array (and the build scratch) to nroom slots. */
static ds_status ds__hn_grow(ds_hnsw *h, size_t nroom) {
    ds__hn_room r;
    ds_status st = ds__hn_room_alloc(h, nroom, &r);
    if (st == DS_OK) ds__hn_room_commit(h, &r);
    return st;
}
/* Room for `words` more u32 in the upper-link arena: a new block in *p (NULL
 * when the arena has room) for ds__hn_arena_commit to install. */
static ds_status ds__hn_arena_alloc(const ds_hnsw *h, size_t words, uint32_t **p, size_t *ncap) {
    size_t need, nc;
    *p = NULL;
    *ncap = 0;
    if (!ds_size_add(h->ulen, words, &need)) return DS_EINVAL;
    if (need <= h->ucap) return DS_OK;
    nc = h->ucap * 2 > need ? h->ucap * 2 : need;
    if (nc < 256) nc = 256;
    if (nc > SIZE_MAX / 4 || !(*p = (uint32_t *)DS_MALLOC(h->alloc, nc * 4))) return DS_ENOMEM;
    *ncap = nc;
    return DS_OK;
}
static void ds__hn_arena_commit(ds_hnsw *h, uint32_t *p, size_t nc) {
    if (!p) return;
    if (h->ulen) memcpy(p, h->upper, h->ulen * 4);
    if (h->upper) DS_FREE(h->alloc, h->upper, h->ucap * 4);
    h->upper = p;
    h->ucap = nc;
}
static inline ds_status ds__hn_arena(ds_hnsw *h, size_t words) { /* used by vecio */
    uint32_t *p;
    size_t nc;
    ds_status st = ds__hn_arena_alloc(h, words, &p, &nc);
    if (st == DS_OK) ds__hn_arena_commit(h, p, nc);
    return st;
}

/* The level-0 record layout. Vectors of 64 bytes and more (16 floats, 32
 * halves) start on a 64-byte boundary (the label moves in front of them,
 * records are whole cache lines, l0 is aligned): a distance then reads
 * ceil(vector bytes / 64) lines and never a load that straddles two, where
 * hnswlib's offset (4 + 4 M0) costs a line more per vector (siftsmall: 9
 * lines for 8) and splits every 64-byte load. Records grow by 48 bytes at
 * M = 16 (siftsmall, MNIST). Smaller vectors keep the packed layout
 * (padding would dwarf them). */
static void ds__hn_layout(ds_hnsw *h) {
    size_t links = 4 + 4 * h->M0, vbytes = h->dim * (h->dist16 ? 2 : 4);
    if (vbytes >= 64) {
        h->label_off = links;
        h->vec_off = (links + 8 + 63) / 64 * 64;
        h->rec = (h->vec_off + vbytes + 63) / 64 * 64;
        h->l0slack = 63;
    } else {
        h->vec_off = links;
        h->label_off = (h->vec_off + vbytes + 7) / 8 * 8;
        h->rec = h->label_off + 8;
        h->l0slack = 0;
    }
}

DSDEF ds_hnsw_params ds_hnsw_params_default(size_t dim) {
    ds_hnsw_params p;
    memset(&p, 0, sizeof p);
    p.dim = dim;
    p.metric = DS_METRIC_L2;
    p.M = 16;
    p.ef_construction = 200;
    p.ef_search = 64;
    p.max_elements = 0;
    p.seed = 1;
    p.replace_deleted = 0;
    p.storage = DS_HNSW_STORE_F32;
    return p;
}
DSDEF ds_status ds_hnsw_init(ds_hnsw *h, const ds_hnsw_params *p, const ds_alloc *a) {
    ds_hnsw_params q;
    if (!h) return DS_EINVAL;
    memset(h, 0, sizeof *h); /* a failed init leaves a struct free accepts */
    if (!p) return DS_EINVAL;
    q = *p;
    if (!q.metric) q.metric = DS_METRIC_L2;
    if (!q.M) q.M = 16;
    if (!q.ef_construction) q.ef_construction = 200;
    if (!q.ef_search) q.ef_search = 64;
    if (q.dim == 0 || q.dim > DS_VEC_MAX_DIM || !ds__metric_ok(q.metric) || q.M < 2 ||
        q.M > DS__HNSW_MAX_M || q.ef_construction > DS__HNSW_MAX_EF ||
        q.ef_search > DS__HNSW_MAX_EF || q.max_elements > DS__HNSW_NOLIMIT ||
        (q.storage != DS_HNSW_STORE_F32 && q.storage != DS_HNSW_STORE_F16))
        return DS_EINVAL;
    memset(h, 0, sizeof *h);
    h->dim = q.dim;
    h->metric = q.metric;
    h->M = q.M;
    h->M0 = 2 * q.M;
    h->efc = q.ef_construction;
    h->ef = q.ef_search;
    h->max_elements = q.max_elements;
    h->seed = q.seed;
    h->replace_deleted = q.replace_deleted != 0;
    h->mL = 1.0 / log((double)q.M);
    ds_rng_seed(&h->rng, q.seed);
    h->maxlevel = -1;
    h->ip = q.metric != DS_METRIC_L2;
    h->dist = h->ip ? ds_dist_dot_kernel(ds_dist_simd_level())
                    : ds_dist_l2sq_kernel(ds_dist_simd_level());
    h->storage = q.storage;
    if (q.storage == DS_HNSW_STORE_F16) {
        h->dist16 = h->ip ? ds_dist_dot_f16_kernel(ds_dist_f16_level())
                          : ds_dist_l2sq_f16_kernel(ds_dist_f16_level());
        h->widen = ds__f16_widener();
    }
    ds__hn_layout(h);
    ds_hnsw_scratch_init(&h->build, a);
    ds__vlabel_map_init_seed(&h->map, a, ds_mix64(q.seed ^ 0x686e7377u));
    h->alloc = a;
    return DS_OK;
}
DSDEF ds_hnsw_params ds_hnsw_get_params(const ds_hnsw *h) {
    ds_hnsw_params p;
    memset(&p, 0, sizeof p);
    if (!h) return p;
    p.dim = h->dim;
    p.metric = h->metric;
    p.M = h->M;
    p.ef_construction = h->efc;
    p.ef_search = h->ef;
    p.max_elements = h->max_elements;
    p.seed = h->seed;
    p.replace_deleted = h->replace_deleted;
    p.storage = h->storage;
    return p;
}
DSDEF void ds_hnsw_free(ds_hnsw *h) {
    if (!h) return;
    if (h->l0) {
        DS_FREE(h->alloc, h->l0mem, ds__hn_bytes(h, DS__HN_L0, h->room));
        DS_FREE(h->alloc, h->level, h->room);
        DS_FREE(h->alloc, h->uoff, h->room * sizeof(uint64_t));
        DS_FREE(h->alloc, h->del, h->room * sizeof(uint32_t));
    }
    if (h->upper) DS_FREE(h->alloc, h->upper, h->ucap * 4);
    if (h->sel) DS_FREE(h->alloc, h->sel, h->nsel * sizeof *h->sel);
    if (h->wbuf) DS_FREE(h->alloc, h->wbuf, h->nwbuf * sizeof *h->wbuf);
    ds_hnsw_scratch_free(&h->build);
    ds__vlabel_map_free(&h->map);
    h->l0 = h->l0mem = NULL;
    h->level = NULL;
    h->uoff = NULL;
    h->del = NULL;
    h->upper = NULL;
    h->sel = NULL;
    h->wbuf = NULL;
    h->n = h->room = h->ulen = h->ucap = h->nsel = h->ndel = h->nwbuf = 0;
    h->maxlevel = -1;
}
DSDEF size_t ds_hnsw_len(const ds_hnsw *h) { return h ? h->n - h->ndel : 0; }
DSDEF size_t ds_hnsw_deleted(const ds_hnsw *h) { return h ? h->ndel : 0; }
DSDEF size_t ds_hnsw_memory(const ds_hnsw *h) {
    if (!h) return 0;
    return h->room * (h->rec + 1 + 8 + 4 + 2 + sizeof(ds__hnsw_pair)) + sizeof(ds__hnsw_pair) +
           (h->l0 ? h->l0slack : 0) +
           h->ucap * 4 + h->nsel * sizeof(ds__hnsw_pair) +
           h->build.ntop * sizeof(ds__hnsw_pair) + h->build.nq * 4 + h->nwbuf * 4 +
           ds__vlabel_map_memory(&h->map);
}

/* Is v acceptable for this index (finite; nonzero under cosine, which
 * normalises; |v|^2 <= 2^126 under L2 and IP, DS__VEC_MAX_NORM2)? */
static int ds__hn_vec_ok(const ds_hnsw *h, const float *v) {
    if (h->metric == DS_METRIC_COSINE) return ds__vec_finite(v, h->dim) && ds__vec_norm2(v, h->dim) > 0.0;
    return ds__vec_in_range(v, h->dim);
}
/* May v be stored: ds__hn_vec_ok, and under F16 with L2 or IP no
 * component that rounds to an infinite half (|x| >= 65520; a normalised
 * cosine vector has none). */
static int ds__hn_store_ok(const ds_hnsw *h, const float *v) {
    size_t i;
    if (!ds__hn_vec_ok(h, v)) return 0;
    if (!h->dist16 || h->metric == DS_METRIC_COSINE) return 1;
    for (i = 0; i < h->dim; i++) /* ds_f32_to_f16's threshold for inf, compared directly */
        if (fabsf(v[i]) >= 65520.0f) return 0;
    return 1;
}
/* Store v (normalised under cosine unless it already is) in slot id;
 * under F16 the fp32 vector an F32 index would store, each value rounded
 * (the scale is ds_l2_normalize's). */
static void ds__hn_store(ds_hnsw *h, uint32_t id, const float *v, int normalize) {
    unsigned char *dst = ds__hn_rec(h, id) + h->vec_off;
    int norm = normalize && h->metric == DS_METRIC_COSINE;
    double sc = 1.0;
    size_t i;
    if (!h->dist16) {
        memcpy(dst, v, h->dim * sizeof(float));
        if (norm) (void)ds_l2_normalize((float *)(void *)dst, h->dim);
        return;
    }
    if (norm) sc = 1.0 / sqrt(ds__vec_norm2(v, h->dim));
    for (i = 0; i < h->dim; i++) {
        uint16_t x = ds_f32_to_f16(norm ? (float)((double)v[i] * sc) : v[i]);
        memcpy(dst + 2 * i, &x, 2);
    }
}

/* Reuse the most recently deleted slot for a new label (replace_deleted). */
/* The part that cannot fail, once the map holds label -> the slot: drop
 * the old label, revive the slot with the new vector and re-link it. */
static void ds__hn_reuse(ds_hnsw *h, uint64_t label, const float *v, int normalize) {
    uint32_t id = h->del[h->ndel - 1];
    (void)ds__vlabel_map_del(&h->map, ds__hn_label(h, id), NULL);
    h->ndel--;
    ds__hn_rec(h, id)[2] = 0;
    ds__hn_store(h, id, v, normalize);
    memcpy(ds__hn_rec(h, id) + h->label_off, &label, 8);
    ds__hn_link(h, id, h->level[id]);
}
static ds_status ds__hn_replace(ds_hnsw *h, uint64_t label, const float *v, int normalize) {
    ds_status st = ds__vlabel_map_reserve(&h->map, ds__vlabel_map_len(&h->map) + 1);
    if (st != DS_OK) return st;
    (void)ds__vlabel_map_put(&h->map, label, h->del[h->ndel - 1], NULL);
    ds__hn_reuse(h, label, v, normalize);
    return DS_OK;
}

/* A new element's level, floor(-ln(U) * mL), from r. */
static int ds__hn_draw_level(const ds_hnsw *h, ds_rng *r) {
    double lv = floor(-log(1.0 - ds_rng_double(r)) * h->mL);
    return lv >= (double)DS__HNSW_MAX_LEVEL ? DS__HNSW_MAX_LEVEL : (int)lv;
}
/* Fill the level-0 record and upper layers of new slot id (level already
 * in h->level[id], arena room reserved). */
static void ds__hn_init_slot(ds_hnsw *h, uint32_t id, uint64_t label, const float *v,
                             int normalize) {
    unsigned char *rec = ds__hn_rec(h, id);
    size_t i, L = h->level[id];
    memset(rec, 0, h->vec_off);
    ds__hn_store(h, id, v, normalize);
    memcpy(rec + h->label_off, &label, 8);
    h->uoff[id] = h->ulen;
    for (i = 0; i < L; i++) h->upper[h->ulen + i * (h->M + 1)] = 0;
    h->ulen += L * (h->M + 1);
}

static ds_status ds__hn_add(ds_hnsw *h, uint64_t label, const float *v, int normalize) {
    size_t limit = h->max_elements ? h->max_elements : DS__HNSW_NOLIMIT, ucap = 0;
    ds_rng r = h->rng;
    ds__hn_room room;
    uint32_t id, *up = NULL;
    int L;
    ds_status st;
    if (ds__vlabel_map_get(&h->map, label)) return DS_EEXIST;
    if (h->replace_deleted && h->ndel) return ds__hn_replace(h, label, v, normalize);
    if (h->n >= limit) return DS_EFULL;
    /* Allocate all, then install all (ds__hn_room_alloc). */
    memset(&room, 0, sizeof room);
    if (h->n == h->room) {
        size_t nr = h->room < 8 ? 16 : h->room * 2;
        if (nr > limit) nr = limit;
        if ((st = ds__hn_room_alloc(h, nr, &room)) != DS_OK) return st;
    }
    /* The level comes from a copy of the RNG, committed with the insert. */
    L = ds__hn_draw_level(h, &r);
    if ((st = ds__hn_arena_alloc(h, (size_t)L * (h->M + 1), &up, &ucap)) != DS_OK ||
        (st = ds__vlabel_map_reserve(&h->map, ds__vlabel_map_len(&h->map) + 1)) != DS_OK) {
        if (up) DS_FREE(h->alloc, up, ucap * 4);
        ds__hn_room_drop(h, &room);
        return st;
    }
    /* Commit: nothing below can fail. */
    ds__hn_room_commit(h, &room);
    ds__hn_arena_commit(h, up, ucap);
    (void)ds__vlabel_map_put(&h->map, label, h->n, NULL);
    h->rng = r;
    id = (uint32_t)h->n;
    h->level[id] = (uint8_t)L;
    ds__hn_init_slot(h, id, label, v, normalize);
    h->n++;
    if (h->maxlevel < 0) {
        h->entry = id;
        h->maxlevel = L;
        return DS_OK;
    }
    ds__hn_link(h, id, L);
    if (L > h->maxlevel) {
        h->entry = id;
        h->maxlevel = L;
    }
    return DS_OK;
}
DSDEF ds_status ds_hnsw_insert(ds_hnsw *h, uint64_t label, const float *v) {
    if (!h || !v || !ds__hn_store_ok(h, v)) return DS_EINVAL;
    return ds__hn_add(h, label, v, 1);
}
/* After element id moved: on each of its layers, re-select the links of
 * every neighbour it had among that neighbourhood (id, its neighbours and
 * theirs), as hnswlib's updatePoint does (with updateNeighborProbability
 * 1): the ef_construction nearest of those candidates, then the heuristic
 * up to the layer's maximum. The neighbours stop pointing the wrong way
 * and pick up id's old neighbours in its place. Uses the build scratch
 * (marks to collect the candidate set once, cand as its storage: it holds
 * every slot) and h->sel; allocates nothing. */
static void ds__hn_repair(ds_hnsw *h, uint32_t id) {
    ds_hnsw_scratch *s = &h->build;
    ds__hnsw_pair *sel = h->sel, tmp;
    int lc;
    for (lc = 0; lc <= h->level[id]; lc++) {
        size_t n1, nc = 0, i, j, mmax = lc ? h->M : h->M0;
        const uint32_t *one = ds__hn_links(h, id, lc, &n1);
        if (!n1) continue;
        if (++s->epoch == 0) {
            memset(s->mark, 0, s->nmark * sizeof *s->mark);
            s->epoch = 1;
        }
        s->mark[id] = s->epoch;
        s->cand[nc++].id = id;
        for (i = 0; i < n1; i++) {
            size_t n2;
            const uint32_t *two = ds__hn_links(h, one[i], lc, &n2);
            if (s->mark[one[i]] != s->epoch) {
                s->mark[one[i]] = s->epoch;
                s->cand[nc++].id = one[i];
            }
            for (j = 0; j < n2; j++) {
                if (s->mark[two[j]] == s->epoch) continue;
                s->mark[two[j]] = s->epoch;
                s->cand[nc++].id = two[j];
            }
        }
        for (i = 0; i < n1; i++) {
            uint32_t e = one[i], *ln;
            const float *ve = ds__hn_vecf(h, e, h->wbuf); /* read before select uses wbuf + dim */
            size_t keep = 0, r, cnt;
            /* the ef_construction nearest candidates to e: a max-heap */
            for (j = 0; j < nc; j++) {
                ds__hnsw_pair x;
                if (s->cand[j].id == e) continue;
                x.id = s->cand[j].id;
                x.d = ds__hn_dist(h, ve, x.id);
                if (keep < h->efc) {
                    sel[keep++] = x;
                    ds__heap_sift_up((unsigned char *)sel, keep - 1, sizeof x, ds__pair_after, &tmp);
                } else if (ds__pair_after(&sel[0], &x)) {
                    sel[0] = x;
                    ds__heap_sift_down((unsigned char *)sel, keep, 0, sizeof x, ds__pair_after, &tmp);
                }
            }
            ds__pair_sort(sel, keep);
            r = ds__hn_select(h, sel, keep, mmax, h->wbuf ? h->wbuf + h->dim : NULL);
            ln = ds__hn_links(h, e, lc, &cnt);
            for (j = 0; j < r; j++) ln[j] = sel[j].id;
            ds__hn_set_count(h, e, lc, r);
        }
    }
}
DSDEF ds_status ds_hnsw_update(ds_hnsw *h, uint64_t label, const float *v) {
    uint64_t *slot;
    uint32_t id;
    if (!h || !v || !ds__hn_store_ok(h, v)) return DS_EINVAL;
    /* A deleted label is absent, as for get and has (undel restores it). */
    if (!(slot = ds__vlabel_map_get(&h->map, label)) || ds__hn_deleted(h, (uint32_t)*slot))
        return DS_ENOTFOUND;
    id = (uint32_t)*slot;
    ds__hn_store(h, id, v, 1);
    if (h->n == 1) return DS_OK;
    ds__hn_repair(h, id);
    ds__hn_link(h, id, h->level[id]);
    return DS_OK;
}
DSDEF ds_status ds_hnsw_del(ds_hnsw *h, uint64_t label) {
    uint64_t *slot;
    uint32_t id;
    if (!h) return DS_EINVAL;
    if (!(slot = ds__vlabel_map_get(&h->map, label))) return DS_ENOTFOUND;
    id = (uint32_t)*slot;
    if (ds__hn_deleted(h, id)) return DS_OK;
    ds__hn_rec(h, id)[2] |= DS__HNSW_DELETED;
    h->del[h->ndel++] = id;
    return DS_OK;
}
DSDEF ds_status ds_hnsw_undel(ds_hnsw *h, uint64_t label) {
    uint64_t *slot;
    uint32_t id;
    size_t i;
    if (!h) return DS_EINVAL;
    if (!(slot = ds__vlabel_map_get(&h->map, label))) return DS_ENOTFOUND;
    id = (uint32_t)*slot;
    if (!ds__hn_deleted(h, id)) return DS_OK;
    ds__hn_rec(h, id)[2] = (unsigned char)(ds__hn_rec(h, id)[2] & ~DS__HNSW_DELETED);
    for (i = 0; i < h->ndel && h->del[i] != id; i++) {}
    DS_ASSERT(i < h->ndel);
    memmove(h->del + i, h->del + i + 1, (h->ndel - i - 1) * sizeof *h->del);
    h->ndel--;
    return DS_OK;
}
DSDEF int ds_hnsw_has(const ds_hnsw *h, uint64_t label) {
    const uint64_t *slot;
    if (!h || !(slot = ds__vlabel_map_get(&h->map, label))) return 0;
    return !ds__hn_deleted(h, (uint32_t)*slot);
}
DSDEF ds_status ds_hnsw_get(const ds_hnsw *h, uint64_t label, float *out) {
    const uint64_t *slot;
    if (!h || !out) return DS_EINVAL;
    if (!(slot = ds__vlabel_map_get(&h->map, label)) || ds__hn_deleted(h, (uint32_t)*slot))
        return DS_ENOTFOUND;
    if (h->dist16) h->widen((const uint16_t *)ds__hn_vec(h, (uint32_t)*slot), out, h->dim);
    else memcpy(out, ds__hn_vec(h, (uint32_t)*slot), h->dim * sizeof(float));
    return DS_OK;
}
DSDEF ds_status ds_hnsw_resize(ds_hnsw *h, size_t max_elements) {
    ds_status st;
    if (!h || (max_elements && max_elements < h->n) || max_elements > DS__HNSW_NOLIMIT)
        return DS_EINVAL;
    if (max_elements && (st = ds__hn_grow(h, max_elements)) != DS_OK) return st;
    h->max_elements = max_elements;
    return DS_OK;
}
DSDEF ds_status ds_hnsw_compact(ds_hnsw *h) {
    ds_hnsw t;
    ds_hnsw_params p;
    ds_status st;
    uint32_t id;
    if (!h) return DS_EINVAL;
    p = ds_hnsw_get_params(h);
    if ((st = ds_hnsw_init(&t, &p, h->alloc)) != DS_OK) return st;
    t.rng = h->rng;
    if (h->n - h->ndel && (st = ds__hn_grow(&t, h->n - h->ndel)) != DS_OK) {
        ds_hnsw_free(&t);
        return st;
    }
    for (id = 0; id < h->n; id++) {
        if (ds__hn_deleted(h, id)) continue;
        /* F16: the widened halves round back to themselves */
        if ((st = ds__hn_add(&t, ds__hn_label(h, id), ds__hn_vecf(h, id, h->wbuf), 0)) != DS_OK) {
            ds_hnsw_free(&t);
            return st;
        }
    }
    ds_hnsw_free(h);
    *h = t;
    return DS_OK;
}

/* -- search (Algorithm 5) -- */

/* The ef a search runs with: the caller's (0: the index's), raised to k
 * but never past the element count, so a k of "all" (SIZE_MAX, or n - 1
 * with n = 0) sizes nothing from k. The caller checks the result against
 * DS__HNSW_MAX_EF after this adjustment, not before. */
static size_t ds__hn_ef(const ds_hnsw *h, size_t k, size_t ef) {
    size_t kk = k < h->n ? k : h->n;
    if (!ef) ef = h->ef;
    return ef < kk ? kk : ef;
}

DSDEF ds_status ds_hnsw_search_scratch(const ds_hnsw *h, ds_hnsw_scratch *s, const float *q,
                                       size_t k, size_t ef, ds_hnsw_filter filter, void *ctx,
                                       ds_neighbor *out, size_t *nout) {
    ds_status st;
    size_t nt, i, len = 0;
    int oom = 0;
    uint32_t ep;
    float epd;
    if (!h || !s || !q || !k || !out || !nout || (ef = ds__hn_ef(h, k, ef)) > DS__HNSW_MAX_EF ||
        !ds__hn_vec_ok(h, q))
        return DS_EINVAL;
    *nout = 0;
    if ((st = ds__scratch_reserve(s, h->n, ef, h->dim)) != DS_OK) return st;
    if (h->maxlevel < 0 || h->n == h->ndel) return DS_OK;
    if (h->metric == DS_METRIC_COSINE) {
        memcpy(s->q, q, h->dim * sizeof *q);
        (void)ds_l2_normalize(s->q, h->dim);
        q = s->q;
    }
    ep = h->entry;
    epd = ds__hn_dist(h, q, ep);
    ep = ds__hn_greedy(h, s, NULL, q, ep, &epd, h->maxlevel, 0);
    nt = ds__hn_search_layer(h, s, NULL, q, ep, epd, ef, 0, h->ndel != 0, filter, ctx, &oom);
    if (oom) return DS_ENOMEM;
    /* Read labels (another cache miss each) only for the k nearest and any
     * tied with the k-th, whose order the labels decide. */
    ds__pair_sort(s->top, nt);
    for (i = k < nt ? k : nt; i < nt && s->top[i].d == s->top[i - 1].d; i++) {}
    nt = i;
    for (i = 0; i < nt; i++) {
        ds_neighbor x;
        x.label = ds__hn_label(h, s->top[i].id);
        x.dist = s->top[i].d;
        ds__nb_offer(out, &len, k, x);
    }
    ds__nb_sort(out, len);
    *nout = len;
    return DS_OK;
}
DSDEF ds_status ds_hnsw_search(const ds_hnsw *h, const float *q, size_t k, size_t ef,
                               ds_hnsw_filter filter, void *ctx, ds_neighbor *out, size_t *nout) {
    ds_hnsw_scratch s;
    ds_status st;
    ds_hnsw_scratch_init(&s, h ? h->alloc : NULL);
    st = ds_hnsw_search_scratch(h, &s, q, k, ef, filter, ctx, out, nout);
    ds_hnsw_scratch_free(&s);
    return st;
}

/* == ds_hnsw:threads == */
#ifdef DS_HNSW_THREADS

#define DS__HNSW_MAX_THREADS 256

/* threads = 0: the online CPUs; at most `work` and DS__HNSW_MAX_THREADS. */
static size_t ds__hn_nthreads(size_t threads, size_t work) {
    if (!threads) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (size_t)c : 1;
    }
    if (threads > DS__HNSW_MAX_THREADS) threads = DS__HNSW_MAX_THREADS;
    if (threads > work) threads = work;
    return threads ? threads : 1;
}

/* Shared by the threads of one add_batch or search_batch call. */
typedef struct ds__hn_job {
    ds_hnsw *h;              /* add_batch */
    const ds_hnsw *ch;       /* search_batch */
    ds__hn_wk *wk;           /* add_batch: one per thread */
    ds_hnsw_scratch *sc;     /* one per thread */
    size_t next, end;        /* the next item to take (atomic), one past the last */
    pthread_mutex_t global;  /* add_batch: entry point and top level */
    const float *qs;         /* search_batch's arguments */
    size_t k, ef;
    ds_hnsw_filter filter;
    void *ctx;
    ds_neighbor *out;
    size_t *nout;
    int status;              /* search_batch: first failure (atomic) */
} ds__hn_job;
typedef struct ds__hn_arg {
    ds__hn_job *job;
    size_t t;
} ds__hn_arg;

/* One add_batch thread: take slots in order and link each (hnswlib's
 * addPoint: the element's own lock held for the whole insertion; the
 * global lock read for the entry point, and kept through the insertion
 * only when the element raises the top level). */
static void *ds__hn_add_worker(void *p) {
    ds__hn_arg *a = (ds__hn_arg *)p;
    ds__hn_job *j = a->job;
    ds_hnsw *h = j->h;
    ds__hn_wk *w = &j->wk[a->t];
    for (;;) {
        size_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        uint32_t id, ep;
        int L, top;
        if (i >= j->end) break;
        id = (uint32_t)i;
        L = h->level[id];
        ds__hn_lock(h, id);
        w->self = id;
        pthread_mutex_lock(&j->global);
        ep = h->entry;
        top = h->maxlevel;
        if (L <= top) pthread_mutex_unlock(&j->global);
        ds__hn_link_from(h, w, id, L, ep, top);
        if (L > top) {
            h->entry = id;
            h->maxlevel = L;
            pthread_mutex_unlock(&j->global);
        }
        ds__hn_unlock(h, id);
    }
    return NULL;
}

/* One search_batch thread: queries in small chunks off the shared counter. */
static void *ds__hn_search_worker(void *p) {
    enum { CHUNK = 8 };
    ds__hn_arg *a = (ds__hn_arg *)p;
    ds__hn_job *j = a->job;
    const ds_hnsw *h = j->ch;
    for (;;) {
        size_t i = __atomic_fetch_add(&j->next, (size_t)CHUNK, __ATOMIC_RELAXED), e;
        if (i >= j->end || __atomic_load_n(&j->status, __ATOMIC_RELAXED) != DS_OK) break;
        e = i + CHUNK < j->end ? i + CHUNK : j->end;
        for (; i < e; i++) {
            ds_status st = ds_hnsw_search_scratch(h, &j->sc[a->t], j->qs + i * h->dim, j->k, j->ef,
                                                  j->filter, j->ctx, j->out + i * j->k,
                                                  j->nout + i);
            if (st != DS_OK) {
                int ok = DS_OK;
                (void)__atomic_compare_exchange_n(&j->status, &ok, (int)st, 0, __ATOMIC_RELAXED,
                                                  __ATOMIC_RELAXED);
                return NULL;
            }
        }
    }
    return NULL;
}

/* Run fn on `threads` threads (the caller is thread 0), joining them all.
 * args and tids: room for `threads`. A thread that cannot be created
 * leaves its share to the others. */
static void ds__hn_run(ds__hn_job *j, void *(*fn)(void *), size_t threads, ds__hn_arg *args,
                       pthread_t *tids, unsigned char *started) {
    size_t t;
    for (t = 0; t < threads; t++) {
        args[t].job = j;
        args[t].t = t;
        started[t] = 0;
    }
    for (t = 1; t < threads; t++) started[t] = pthread_create(&tids[t], NULL, fn, &args[t]) == 0;
    (void)fn(&args[0]);
    for (t = 1; t < threads; t++)
        if (started[t]) (void)pthread_join(tids[t], NULL);
}

/* The per-thread arrays of a batch call, all in one block. */
typedef struct ds__hn_mem {
    void *block;
    size_t bytes;
    ds__hn_wk *wk;
    ds_hnsw_scratch *sc;
    ds__hn_arg *args;
    pthread_t *tids;
    unsigned char *started;
} ds__hn_mem;
static ds_status ds__hn_mem_alloc(ds__hn_mem *m, size_t threads, const ds_alloc *a) {
    size_t per = sizeof(ds__hn_wk) + sizeof(ds_hnsw_scratch) + sizeof(ds__hn_arg) +
                 sizeof(pthread_t) + 1;
    unsigned char *p;
    size_t t;
    /* every part starts aligned: the sizes are multiples of their alignment
     * and come in decreasing-alignment order up to the bytes */
    m->bytes = threads * per;
    if (!(m->block = DS_MALLOC(a, m->bytes))) return DS_ENOMEM;
    p = (unsigned char *)m->block;
    m->sc = (ds_hnsw_scratch *)(void *)p;
    p += threads * sizeof(ds_hnsw_scratch);
    m->wk = (ds__hn_wk *)(void *)p;
    p += threads * sizeof(ds__hn_wk);
    m->args = (ds__hn_arg *)(void *)p;
    p += threads * sizeof(ds__hn_arg);
    m->tids = (pthread_t *)(void *)p;
    p += threads * sizeof(pthread_t);
    m->started = p;
    for (t = 0; t < threads; t++) {
        ds_hnsw_scratch_init(&m->sc[t], a);
        memset(&m->wk[t], 0, sizeof m->wk[t]);
    }
    return DS_OK;
}

/* The build workers' buffers: thread 0 uses the index's build scratch and
 * selection buffer; every thread gets a link-copy buffer. */
static void ds__hn_wk_free(ds_hnsw *h, ds__hn_mem *m, size_t threads) {
    size_t t, nsel = (h->efc > h->M0 ? h->efc : h->M0) + 2;
    for (t = 0; t < threads; t++) {
        ds__hn_wk *w = &m->wk[t];
        if (w->nb) DS_FREE(h->alloc, w->nb, h->M0 * sizeof *w->nb);
        if (t && w->sel) DS_FREE(h->alloc, w->sel, nsel * sizeof *w->sel);
        if (t && w->qv) DS_FREE(h->alloc, w->qv, 2 * h->dim * sizeof *w->qv);
        ds_hnsw_scratch_free(&m->sc[t]);
    }
    DS_FREE(h->alloc, m->block, m->bytes);
}
/* One zero-filled or scratch array of n elements of esz bytes into *out. */
static int ds__hn_buf(const ds_alloc *a, void **out, size_t *cap, size_t n, size_t esz, int zero) {
    void *p = NULL;
    size_t c = 0;
    if (!ds__scratch_grow(a, &p, &c, n, esz)) return 0;
    if (zero && p) memset(p, 0, n * esz);
    *out = p;
    *cap = c;
    return 1;
}
/* Per-thread build buffers for an index of room slots (the insert's room,
 * possibly not installed yet: thread 0's sel is set once it is). */
static ds_status ds__hn_wk_alloc(ds_hnsw *h, ds__hn_mem *m, size_t threads, size_t room) {
    size_t t, cap, nsel = (h->efc > h->M0 ? h->efc : h->M0) + 2;
    ds_status st = ds__hn_mem_alloc(m, threads, h->alloc);
    if (st != DS_OK) return st;
    for (t = 0; t < threads; t++) {
        ds__hn_wk *w = &m->wk[t];
        ds_hnsw_scratch *s = &m->sc[t];
        void *p;
        w->mt = 1;
        w->s = t ? s : &h->build;
        w->sel = t ? NULL : h->sel;
        if (!ds__hn_buf(h->alloc, &p, &cap, h->M0, sizeof(uint32_t), 0)) break;
        w->nb = (uint32_t *)p;
        if (!t) continue;
        if (!ds__hn_buf(h->alloc, &p, &cap, nsel, sizeof(ds__hnsw_pair), 0)) break;
        w->sel = (ds__hnsw_pair *)p;
        if (h->dist16) { /* qv and bv in one block */
            if (!ds__hn_buf(h->alloc, &p, &cap, 2 * h->dim, sizeof(float), 0)) break;
            w->qv = (float *)p;
            w->bv = w->qv + h->dim;
        }
        /* as h->build: a visited mark and a candidate slot for every slot
         * (the build never runs out), the result heap for ef_construction */
        if (!ds__hn_buf(h->alloc, &p, &s->nmark, room, sizeof *s->mark, 1)) break;
        s->mark = (uint16_t *)p;
        if (!ds__hn_buf(h->alloc, &p, &s->ncand, room + 1, sizeof *s->cand, 0)) break;
        s->cand = (ds__hnsw_pair *)p;
        if (!ds__hn_buf(h->alloc, &p, &s->ntop, h->efc + 2, sizeof *s->top, 0)) break;
        s->top = (ds__hnsw_pair *)p;
    }
    if (t == threads) return DS_OK;
    ds__hn_wk_free(h, m, threads);
    return DS_ENOMEM;
}

DSDEF ds_status ds_hnsw_insert_batch(ds_hnsw *h, const uint64_t *labels, const float *vectors,
                                  size_t count, size_t threads) {
    size_t limit, nrep, nnew, need, n0, words = 0, i, first, nthr = 1, ucap = 0;
    ds_rng r;
    ds_status st = DS_OK;
    ds__hn_room room;
    uint8_t *lev;
    uint32_t *up = NULL;
    ds__hn_mem mem;
    ds__hn_job job;
    if (!h || (count && (!labels || !vectors))) return DS_EINVAL;
    for (i = 0; i < count; i++)
        if (!ds__hn_store_ok(h, vectors + i * h->dim)) return DS_EINVAL;
    for (i = 0; i < count; i++)
        if (ds__vlabel_map_get(&h->map, labels[i])) return DS_EEXIST;
    if (!count) return DS_OK;
    limit = h->max_elements ? h->max_elements : DS__HNSW_NOLIMIT;
    nrep = h->replace_deleted ? (h->ndel < count ? h->ndel : count) : 0;
    nnew = count - nrep;
    n0 = h->n;
    if (nnew > limit - n0) return DS_EFULL;
    need = n0 + nnew;
    /* Everything that can fail, allocated before anything is installed (the
     * label map last), so a failure leaves the index as it was. */
    if (need > h->room) {
        size_t nr = h->room < 8 ? 16 : h->room * 2;
        if (nr < need) nr = need;
        if (nr > limit) nr = limit;
        if ((st = ds__hn_room_alloc(h, nr, &room)) != DS_OK) return st;
    } else {
        memset(&room, 0, sizeof room);
    }
    lev = room.nroom ? (uint8_t *)room.nw[DS__HN_LEV] : h->level;
    r = h->rng;
    for (i = n0; i < need; i++) { /* slots past n: free to write (commit copies [0, n)) */
        int L = ds__hn_draw_level(h, &r);
        lev[i] = (uint8_t)L;
        if (!ds_size_add(words, (size_t)L * (h->M + 1), &words)) st = DS_ENOMEM;
    }
    if (st == DS_OK) st = ds__hn_arena_alloc(h, words, &up, &ucap);
    /* The first new element of an empty index becomes the entry point
     * unlinked (as in add); the rest are linked by the threads. */
    first = n0;
    if (h->maxlevel < 0 && nnew) first++;
    if (need > first) nthr = ds__hn_nthreads(threads, need - first);
    if (st == DS_OK && nthr > 1) {
        if ((st = ds__hn_wk_alloc(h, &mem, nthr, room.nroom ? room.nroom : h->room)) == DS_OK &&
            pthread_mutex_init(&job.global, NULL) != 0) {
            ds__hn_wk_free(h, &mem, nthr);
            st = DS_ENOMEM;
        }
        if (st != DS_OK) nthr = 1; /* nothing of the workers' to free below */
    }
    if (st == DS_OK && !ds_size_add(ds__vlabel_map_len(&h->map), count, &i)) st = DS_ENOMEM;
    if (st == DS_OK && (st = ds__vlabel_map_reserve(&h->map, i)) != DS_OK && nthr > 1) {
        pthread_mutex_destroy(&job.global);
        ds__hn_wk_free(h, &mem, nthr);
    }
    if (st != DS_OK) {
        if (up) DS_FREE(h->alloc, up, ucap * 4);
        ds__hn_room_drop(h, &room);
        return st;
    }
    ds__hn_room_commit(h, &room);
    ds__hn_arena_commit(h, up, ucap);
    if (nthr > 1) { /* the first growth brings these */
        mem.wk[0].sel = h->sel;
        mem.wk[0].qv = h->wbuf;
        mem.wk[0].bv = h->wbuf ? h->wbuf + h->dim : NULL;
    }
    /* Labels: all new to the index, but the batch may repeat one. */
    for (i = 0; i < count; i++) {
        uint64_t slot = i < nrep ? h->del[h->ndel - 1 - i] : n0 + (i - nrep);
        int is_new = 0;
        (void)ds__vlabel_map_put(&h->map, labels[i], slot, &is_new);
        if (!is_new) {
            size_t k;
            for (k = 0; k < i; k++) (void)ds__vlabel_map_del(&h->map, labels[k], NULL);
            if (nthr > 1) {
                pthread_mutex_destroy(&job.global);
                ds__hn_wk_free(h, &mem, nthr);
            }
            return DS_EEXIST;
        }
    }
    /* Commit: nothing below can fail. Deleted slots first, one by one, as
     * add would take them. */
    for (i = 0; i < nrep; i++) ds__hn_reuse(h, labels[i], vectors + i * h->dim, 1);
    for (i = nrep; i < count; i++)
        ds__hn_init_slot(h, (uint32_t)(n0 + i - nrep), labels[i], vectors + i * h->dim, 1);
    h->rng = r;
    h->n = need;
    if (first > n0) {
        h->entry = (uint32_t)n0;
        h->maxlevel = h->level[n0];
    }
    if (nthr <= 1) { /* exactly the single-threaded add's graph */
        for (i = first; i < need; i++) {
            int L = h->level[i];
            ds__hn_link(h, (uint32_t)i, L);
            if (L > h->maxlevel) {
                h->entry = (uint32_t)i;
                h->maxlevel = L;
            }
        }
        return DS_OK;
    }
    job.h = h;
    job.wk = mem.wk;
    job.next = first;
    job.end = need;
    ds__hn_run(&job, ds__hn_add_worker, nthr, mem.args, mem.tids, mem.started);
    pthread_mutex_destroy(&job.global);
    ds__hn_wk_free(h, &mem, nthr);
    return DS_OK;
}

DSDEF ds_status ds_hnsw_search_batch(const ds_hnsw *h, const float *queries, size_t nq, size_t k,
                                     size_t ef, ds_hnsw_filter filter, void *ctx,
                                     ds_neighbor *out, size_t *nout, size_t threads) {
    size_t i, t, nthr, efx;
    ds__hn_mem mem;
    ds__hn_job job;
    ds_status st = DS_OK;
    if (!h || (nq && (!queries || !out || !nout)) || !k || !ds_size_mul(nq, k, &t) ||
        !ds_size_mul(t, sizeof *out, &t) || (efx = ds__hn_ef(h, k, ef)) > DS__HNSW_MAX_EF)
        return DS_EINVAL; /* out holds nq * k results: that must be a size */
    for (i = 0; i < nq; i++)
        if (!ds__hn_vec_ok(h, queries + i * h->dim)) return DS_EINVAL;
    if (!nq) return DS_OK;
    nthr = ds__hn_nthreads(threads, (nq + 7) / 8);
    if ((st = ds__hn_mem_alloc(&mem, nthr, h->alloc)) != DS_OK) return st;
    for (t = 0; t < nthr && st == DS_OK; t++) st = ds__scratch_reserve(&mem.sc[t], h->n, efx, h->dim);
    if (st == DS_OK) {
        memset(&job, 0, sizeof job);
        job.ch = h;
        job.sc = mem.sc;
        job.next = 0;
        job.end = nq;
        job.qs = queries;
        job.k = k;
        job.ef = ef;
        job.filter = filter;
        job.ctx = ctx;
        job.out = out;
        job.nout = nout;
        job.status = DS_OK;
        mem.args[0].job = &job;
        mem.args[0].t = 0;
        if (nthr == 1) (void)ds__hn_search_worker(&mem.args[0]);
        else ds__hn_run(&job, ds__hn_search_worker, nthr, mem.args, mem.tids, mem.started);
        st = (ds_status)job.status;
    }
    for (t = 0; t < nthr; t++) ds_hnsw_scratch_free(&mem.sc[t]);
    DS_FREE(h->alloc, mem.block, mem.bytes);
    return st;
}

#endif /* DS_HNSW_THREADS */

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_HNSW_IMPL */
