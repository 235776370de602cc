/* ds_hnsw.h - vector search for ds: exact (flat) index and HNSW   v0.2.0
 *
 * Float32 vectors (ds_hnsw may store them as binary16: DS_HNSW_STORE_F16):
 * distance kernels (scalar + AVX2/FMA + AVX-512, picked at
 * run time), an exact index (ds_flat) that can also scan vectors the caller
 * owns (a read-only mmap of a .fvecs file, say) without copying, an HNSW
 * graph index (ds_hnsw; Malkov & Yashunin, "Efficient and robust
 * approximate nearest neighbor search using Hierarchical Navigable Small
 * World graphs", IEEE TPAMI 2018, arXiv:1603.09320), versioned and
 * checksummed save/load, TEXMEX .fvecs/.ivecs readers and recall@k.
 *
 * Needs ds.h (included below). In exactly one file:
 *
 *     #define DS_IMPLEMENTATION        (or DS_HNSW_IMPLEMENTATION)
 *     #include "ds_hnsw.h"
 *
 * (DS_HNSW_IMPLEMENTATION alone compiles only this header's half; ds.h's
 * implementation must then come from another file.) Link with -lm.
 *
 * QUICK START
 *     ds_hnsw_params p = ds_hnsw_params_default(128);   // dim 128, L2
 *     ds_hnsw h;
 *     ds_neighbor hits[10];
 *     size_t n;
 *     if (ds_hnsw_init(&h, &p, NULL) != DS_OK) { ... }
 *     ds_hnsw_add(&h, 42, vec);                        // label 42
 *     ds_hnsw_search(&h, query, 10, 0, NULL, NULL, hits, &n);
 *     ds_hnsw_free(&h);
 *
 * TABLE OF CONTENTS (tags mark banners in both halves)
 *   ds_hnsw:options    option macros
 *   ds_hnsw:distance   squared L2, inner product, cosine; scalar + SIMD
 *   ds_hnsw:flat       ds_flat: exact k-NN, optionally over caller-owned vectors
 *   ds_hnsw:graph      ds_hnsw: Malkov & Yashunin HNSW
 *   ds_hnsw:threads    multi-threaded build and batch search (DS_HNSW_THREADS)
 *   ds_hnsw:io         save/load (versioned, checksummed), .fvecs/.ivecs
 *                      readers, ground truth and recall@k
 *
 * OPTIONS
 *   DS_HNSW_NO_SIMD    use only the scalar distance kernels (also implied by
 *                      ds.h's DS_NO_SIMD).
 *   DS_HNSW_THREADS    adds ds_hnsw_add_batch (multi-threaded insertion)
 *                      and ds_hnsw_search_batch (ds_hnsw:threads). Needs
 *                      gcc/clang (__atomic builtins) and POSIX threads:
 *                      link with -pthread. Define it before every include
 *                      of this header that calls them, and in the
 *                      implementation file. Without it nothing here uses
 *                      threads, atomics or pthreads, and the index layout
 *                      is the same either way (the per-node lock is a
 *                      spare byte of each level-0 record).
 *   Allocation, assertions and linkage follow ds.h (DS_MALLOC..., DSDEF).
 *
 * ERRORS
 *   As ds.h: DS_EINVAL for bad input (NULL, dimension 0, NaN/inf in a
 *   vector, k = 0, bad parameters), DS_ENOTFOUND for an unknown label,
 *   DS_EEXIST for a label added twice, DS_EFULL at max_elements, DS_ENOMEM
 *   with the structure left exactly as it was, DS_ECORRUPT from load/read.
 *
 * THREAD SAFETY
 *   Searches (ds_flat_search*, ds_hnsw_search*, ds_hnsw_search_batch) only
 *   read the index and may run concurrently with each other; each ds_hnsw
 *   search uses its own visited list (a caller-owned ds_hnsw_scratch, or
 *   one allocated for the call). Every mutating call (add, add_batch,
 *   update, remove, mark/unmark, resize, compact, load into) needs
 *   exclusive access: a search during an insert is NOT safe, and that
 *   includes a search from another thread while ds_hnsw_add_batch runs
 *   (its own worker threads lock nodes among themselves only).
 */
#ifndef DS_HNSW_H_INCLUDED
#define DS_HNSW_H_INCLUDED

#include "ds.h"

/* ========================================================================
 * == ds_hnsw:options ==
 * ======================================================================== */
#define DS_HNSW_VERSION_MAJOR 0
#define DS_HNSW_VERSION_MINOR 2
#define DS_HNSW_VERSION_PATCH 0

#if defined(DS_NO_SIMD) && !defined(DS_HNSW_NO_SIMD)
#define DS_HNSW_NO_SIMD
#endif
/* Run-time dispatched x86 kernels need gcc/clang's target attribute and
 * __builtin_cpu_supports; the header itself compiles without -mavx2. */
#if !defined(DS_HNSW_NO_SIMD) && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define DS__HNSW_X86 1
#if (defined(__clang__) && __clang_major__ >= 5) || (!defined(__clang__) && __GNUC__ >= 7)
#define DS__HNSW_AVX512 1
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * == ds_hnsw:distance ==
 * ========================================================================
 * Metrics (the values are part of the file format):
 *   DS_METRIC_L2       squared Euclidean distance, sum (a_i - b_i)^2
 *   DS_METRIC_IP       inner product, as the distance 1 - a.b (hnswlib's
 *                      convention: smaller is nearer, may be negative)
 *   DS_METRIC_COSINE   1 - a.b / (|a||b|); the indexes normalise vectors at
 *                      insert (and the query at search) and then use 1 - a.b,
 *                      so ds_hnsw_get returns the normalised vector.
 *
 *   float ds_dist_l2sq(a, b, dim), ds_dist_dot(a, b, dim)
 *          the best kernel this CPU runs (raw squared L2 and dot product).
 *   float ds_distance(metric, a, b, dim)      the metric's distance as above
 *          (cosine computed in full; a zero vector gives distance 1).
 *   ds_status ds_l2_normalize(float *v, size_t dim)
 *          v /= |v|; DS_EINVAL if |v| is 0 or not finite (v unchanged).
 *   int ds_dist_simd_level(void)   DS_SIMD_SCALAR, DS_SIMD_AVX2 (AVX2+FMA) or
 *          DS_SIMD_AVX512 (AVX-512F): what this build and CPU use.
 *   ds_dist_fn ds_dist_l2sq_kernel(int level), ds_dist_dot_kernel(int level)
 *          one kernel by level, NULL if this build/CPU lacks it (tests
 *          compare every level against the scalar reference).
 * The kernels accumulate in a different order than the scalar loop, so
 * results agree to float rounding (relative ~1e-6), not bit for bit; an
 * index picks its kernel once at init, so its results are reproducible on
 * one machine. Complexity O(dim). Thread-safe. */
typedef enum ds_metric { DS_METRIC_L2 = 1, DS_METRIC_IP = 2, DS_METRIC_COSINE = 3 } ds_metric;

typedef float (*ds_dist_fn)(const float *a, const float *b, size_t dim);
#define DS_SIMD_SCALAR 0
#define DS_SIMD_AVX2 1
#define DS_SIMD_AVX512 2

DSDEF int ds_dist_simd_level(void);
DSDEF ds_dist_fn ds_dist_l2sq_kernel(int level);
DSDEF ds_dist_fn ds_dist_dot_kernel(int level);

/* Half precision (IEEE 754 binary16), for ds_hnsw's DS_HNSW_STORE_F16:
 *   uint16_t ds_f32_to_f16(float x)
 *          x rounded to nearest, ties to even (subnormals included); |x| >=
 *          65520 gives +-inf (65504 is the largest finite half), NaN a
 *          quiet NaN. Done on the bits: the same on every target.
 *   float  ds_f16_to_f32(uint16_t h)      exact (every half is a float).
 *   int    ds_dist_f16_level(void)   the SIMD level the fp16 kernels use:
 *          ds_dist_simd_level(), but DS_SIMD_SCALAR where AVX2 comes
 *          without F16C (no such CPU is known; checked all the same).
 *   ds_dist_f16_fn ds_dist_l2sq_f16_kernel(int level), ds_dist_dot_f16_kernel(int level)
 *          a (fp32) against b (fp16, widened to fp32): the same value, bit
 *          for bit, as the fp32 kernel of that level gives on a and the
 *          widened b (same lanes, same order of additions). NULL above
 *          ds_dist_f16_level(). Complexity O(dim). Thread-safe. */
typedef float (*ds_dist_f16_fn)(const float *a, const uint16_t *b, size_t dim);
DSDEF uint16_t ds_f32_to_f16(float x);
DSDEF float ds_f16_to_f32(uint16_t h);
DSDEF int ds_dist_f16_level(void);
DSDEF ds_dist_f16_fn ds_dist_l2sq_f16_kernel(int level);
DSDEF ds_dist_f16_fn ds_dist_dot_f16_kernel(int level);
DSDEF float ds_dist_l2sq(const float *a, const float *b, size_t dim);
DSDEF float ds_dist_dot(const float *a, const float *b, size_t dim);
DSDEF float ds_distance(ds_metric m, const float *a, const float *b, size_t dim);
DSDEF ds_status ds_l2_normalize(float *v, size_t dim);

/* One search result: the label and its distance under the index's metric.
 * Results come nearest first; equal distances in ascending label order. */
typedef struct ds_neighbor {
    uint64_t label;
    float dist;
} ds_neighbor;

/* Label -> slot map shared by both indexes (internal). */
DS_MAP(ds__vlabel_map, uint64_t, uint64_t, ds_hash_u64, ds_eq_u64)

/* ========================================================================
 * == ds_hnsw:flat ==
 * ========================================================================
 * Exact k-nearest-neighbour search by a full scan: every query computes
 * the distance to every vector and keeps the k best in a bounded max-heap
 * built inside the caller's output array (no allocation while searching).
 *
 *   ds_status ds_flat_init(ds_flat *f, size_t dim, ds_metric metric, const ds_alloc *a)
 *          an owning index (copies each vector). Allocates nothing.
 *          DS_EINVAL: dim 0 or > DS_VEC_MAX_DIM, unknown metric.
 *   ds_status ds_flat_init_view(ds_flat *f, const float *data, size_t count,
 *                               size_t dim, size_t stride, ds_metric metric)
 *          a read-only index over count vectors the caller owns, row i at
 *          data + i * stride floats (stride >= dim; a .fvecs file mapped in
 *          memory is data = base + 4 bytes, stride = dim + 1). Labels are
 *          row numbers. Nothing is copied or allocated; data must outlive f
 *          and is not validated (NaNs give NaN distances). add/remove give
 *          DS_EINVAL. Cosine divides by both norms at search time.
 *   void   ds_flat_free(ds_flat *f)
 *   ds_status ds_flat_insert(ds_flat *f, uint64_t label, const float *v)
 *          DS_EEXIST (label present), DS_EINVAL (NaN/inf, a zero vector
 *          under cosine, |v|^2 above 2^126 ~ 8.5e37 under L2 and IP, where
 *          distances could overflow float), DS_ENOMEM. Amortised O(dim).
 *   ds_status ds_flat_del(ds_flat *f, uint64_t label)
 *          DS_ENOTFOUND; moves the last row into the hole. O(dim).
 *   size_t ds_flat_len(const ds_flat *f)
 *   ds_status ds_flat_search(const ds_flat *f, const float *q, size_t k,
 *                            ds_neighbor *out, size_t *nout)
 *          the min(k, len) nearest into out (room for k), nearest first;
 *          *nout = how many. DS_EINVAL: k = 0, NaN in q, zero q under
 *          cosine, |q|^2 above 2^126 under L2 and IP. O(len * dim + len log k).
 *   ds_status ds_flat_search_batch(const ds_flat *f, const float *qs, size_t nq,
 *                                  size_t k, ds_neighbor *out, size_t *nout)
 *          nq queries stored back to back (dim floats each): results of
 *          query i at out + i * k, count in nout[i].
 * Thread-safety: searches may run concurrently; add/remove need exclusion. */
#define DS_VEC_MAX_DIM ((size_t)1 << 16)

typedef struct ds_flat {
    const float *data;    /* row i at data + i * stride */
    float *own;           /* owning mode: the rows (== data); NULL in view mode */
    uint64_t *labels;     /* owning mode: label of row i */
    size_t dim, stride, len, cap;
    ds_metric metric;
    int view;
    ds__vlabel_map map;   /* label -> row (owning mode) */
    const ds_alloc *alloc;
} ds_flat;

DSDEF ds_status ds_flat_init(ds_flat *f, size_t dim, ds_metric metric, const ds_alloc *a);
DSDEF ds_status ds_flat_init_view(ds_flat *f, const float *data, size_t count, size_t dim,
                                  size_t stride, ds_metric metric);
DSDEF void ds_flat_free(ds_flat *f);
DSDEF ds_status ds_flat_insert(ds_flat *f, uint64_t label, const float *v);
DSDEF ds_status ds_flat_del(ds_flat *f, uint64_t label);
DSDEF size_t ds_flat_len(const ds_flat *f);
DSDEF ds_status ds_flat_search(const ds_flat *f, const float *q, size_t k, ds_neighbor *out,
                               size_t *nout);
DSDEF ds_status ds_flat_search_batch(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                     ds_neighbor *out, size_t *nout);

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

/* ========================================================================
 * == ds_hnsw:io ==
 * ========================================================================
 *   ds_status ds_hnsw_save(const ds_hnsw *h, ds_writer w)
 *   ds_status ds_hnsw_load(ds_hnsw *h, ds_reader *r, const ds_alloc *a)
 *          format "DShn" (ds.h's ds:io layout), v1 for an F32 index (as
 *          before fp16 storage, so older releases read it) and v2 for an
 *          F16 one (v1 plus a storage field after replace_deleted; the
 *          vectors as little-endian halves); load reads both. Every
 *          parameter (ef_search
 *          and the RNG state included, so a loaded index searches and grows
 *          exactly as the saved one would), the level-0 records and upper
 *          link lists in full (unused slots zero, so the file is as large as
 *          the memory load asks for), the deleted list, a checksum. load
 *          checks every field before trusting it: parameters in range,
 *          element count and layers against the bytes left before
 *          allocating (no allocation much larger than the input), link
 *          counts <= M/M0, every link < count and pointing at an element
 *          that has that layer, labels unique, vectors finite (no inf or
 *          NaN half either), storage known, entry point
 *          on the top layer, deleted flags matching the list. DS_ECORRUPT on
 *          any mismatch, truncation or bit flip; *h untouched on error.
 *   ds_status ds_flat_save(const ds_flat *f, ds_writer w)     ("DSfl" v1; a
 *   ds_status ds_flat_load(ds_flat *f, ds_reader *r, const ds_alloc *a)
 *          view saves its rows and loads as an owning index)
 *
 * TEXMEX vector files (http://corpus-texmex.irisa.fr/): records of an
 * int32 dimension d followed by d float32 (.fvecs) or int32 (.ivecs)
 * values, little-endian, no header.
 *   ds_status ds_fvecs_read(ds_reader *r, float **out, size_t *n, size_t *dim,
 *                           const ds_alloc *a)
 *   ds_status ds_ivecs_read(ds_reader *r, int32_t **out, size_t *n, size_t *dim,
 *                           const ds_alloc *a)
 *          read the whole input into one new block of n * dim values (free
 *          it with ds_vecs_free(a, p, n, dim)). The reader must know its size
 *          (r->avail: memory readers, seekable files), else DS_EINVAL. An
 *          empty input gives n = dim = 0, *out = NULL. DS_ECORRUPT: d < 1 or
 *          > DS_VEC_MAX_DIM, records of different d, a size that is not a
 *          whole number of records.
 *   void   ds_vecs_free(const ds_alloc *a, void *p, size_t n, size_t dim)
 *   ds_status ds_ivecs_read_labels(ds_reader *r, uint64_t **out, size_t *n, size_t *dim,
 *                                  const ds_alloc *a)
 *          an .ivecs ground-truth file as uint64_t labels, the type
 *          ds_recall_at_k and ds_flat_ground_truth use (a negative id is
 *          DS_ECORRUPT); free with ds_labels_free(a, p, n, dim).
 *   void   ds_labels_free(const ds_alloc *a, uint64_t *p, size_t n, size_t dim)
 *
 * Ground truth and recall:
 *   ds_status ds_flat_ground_truth(const ds_flat *f, const float *qs, size_t nq,
 *                                  size_t k, uint64_t *labels)
 *          labels[i * k + j] = label of the j-th nearest to query i.
 *          k must be <= len (every label is legal, so there is no padding
 *          value): DS_EINVAL for k > len, and as search.
 *   double ds_recall_at_k(const ds_neighbor *res, size_t nres,
 *                         const uint64_t *truth, size_t k)
 *          |first min(nres,k) results  intersect  truth[0..k)| / k; 0 if k = 0.
 */
DSDEF ds_status ds_hnsw_save(const ds_hnsw *h, ds_writer w);
DSDEF ds_status ds_hnsw_load(ds_hnsw *h, ds_reader *r, const ds_alloc *a);
DSDEF ds_status ds_flat_save(const ds_flat *f, ds_writer w);
DSDEF ds_status ds_flat_load(ds_flat *f, ds_reader *r, const ds_alloc *a);
DSDEF ds_status ds_fvecs_read(ds_reader *r, float **out, size_t *n, size_t *dim,
                              const ds_alloc *a);
DSDEF ds_status ds_ivecs_read(ds_reader *r, int32_t **out, size_t *n, size_t *dim,
                              const ds_alloc *a);
DSDEF void ds_vecs_free(const ds_alloc *a, void *p, size_t n, size_t dim);
DSDEF ds_status ds_ivecs_read_labels(ds_reader *r, uint64_t **out, size_t *n, size_t *dim,
                                     const ds_alloc *a);
DSDEF void ds_labels_free(const ds_alloc *a, uint64_t *p, size_t n, size_t dim);
DSDEF ds_status ds_flat_ground_truth(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                     uint64_t *labels);
DSDEF double ds_recall_at_k(const ds_neighbor *res, size_t nres, const uint64_t *truth,
                            size_t k);

#ifdef __cplusplus
}
#endif
#endif /* DS_HNSW_H_INCLUDED */

#if (defined(DS_IMPLEMENTATION) || defined(DS_HNSW_IMPLEMENTATION)) && !defined(DS_HNSW_IMPLEMENTATION_DONE)
#define DS_HNSW_IMPLEMENTATION_DONE
#include <math.h>
#ifdef DS_HNSW_THREADS
#if !defined(__GNUC__) && !defined(__clang__)
#error "DS_HNSW_THREADS needs gcc or clang (__atomic builtins)"
#endif
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif
#ifdef DS__HNSW_X86
#include <immintrin.h>
#include <cpuid.h>
#endif
/* Transparent huge pages for the HNSW level-0 block (ds__hn_advise_huge):
 * Linux on x86 and arm64, where MADV_HUGEPAGE is 14. Strict -std=c99 hides
 * madvise and the constant (_DEFAULT_SOURCE), so both are spelled here. */
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__))
#include <sys/mman.h>
#define DS__MADV_HUGEPAGE 14
#if !defined(__cplusplus) && !defined(__USE_MISC) && !defined(_GNU_SOURCE) && \
    !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
extern int madvise(void *addr, size_t len, int advice);
#endif
#endif

/* == ds_hnsw:distance == */

/* Finite means the exponent bits are not all ones (no NaN, no inf); done
 * on the bits so -ffast-math cannot fold it away. */
static DS__UNUSED int ds__vec_finite(const float *v, size_t dim) {
    size_t i;
    for (i = 0; i < dim; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        if ((u & 0x7f800000u) == 0x7f800000u) return 0;
    }
    return 1;
}

/* binary16: 1 sign, 5 exponent (bias 15), 10 fraction bits. Widening is
 * exact: a normal half moves its exponent to float's bias (127 - 15 =
 * 112), a subnormal is its fraction times 2^-24 (an exact float product). */
DSDEF float ds_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (uint32_t)(h >> 10) & 0x1fu,
             m = (uint32_t)h & 0x3ffu, u;
    float f;
    if (e == 0) {
        f = (float)m * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    u = sign | (e == 31 ? 0x7f800000u : (e + 112u) << 23) | m << 13;
    memcpy(&f, &u, 4);
    return f;
}
/* Narrowing, round to nearest even on the bits (no dependence on the FPU's
 * rounding mode or flush-to-zero). */
DSDEF uint16_t ds_f32_to_f16(float x) {
    uint32_t u, a, sign, m, q, rem, half;
    int shift;
    memcpy(&u, &x, 4);
    sign = (u >> 16) & 0x8000u;
    a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | (a >> 13 & 0x3ffu)); /* NaN, quiet */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 (or inf): inf */
    if (a >= 0x38800000u) { /* >= 2^-14: a normal half; rebias and round the 13 dropped bits */
        a -= 0x38000000u;
        return (uint16_t)(sign | (a + 0xfffu + (a >> 13 & 1u)) >> 13);
    }
    if (a <= 0x33000000u) return (uint16_t)sign; /* <= 2^-25: ties to the even 0 */
    /* A subnormal half counts 2^-24 units: the significand (implicit bit
     * set) shifted right by 126 - exponent (14..24), rounded; a carry into
     * 0x400 is the smallest normal, as it should be. */
    m = (a & 0x7fffffu) | 0x800000u;
    shift = 126 - (int)(a >> 23);
    q = m >> shift;
    rem = m & ((1u << shift) - 1u);
    half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

/* Every kernel below is one body per level and operation, shared by the
 * fp32 kernel (b floats, half = 0) and the fp32 x fp16 one (b halves,
 * half = 1, widened exactly as they load): the same lanes and the same
 * order of additions, so the fp16 kernel's result is the fp32 kernel's on
 * the widened b, bit for bit. The bodies are forced inline and the
 * wrappers pass a constant, so each kernel compiles to its own loop. */

/* b[i] as a float. */
DS__INLINE float ds__vat(const void *b, size_t i, int half) {
    return half ? ds_f16_to_f32(((const uint16_t *)b)[i]) : ((const float *)b)[i];
}
/* Scalar references: one plain accumulator, the order a reader expects. */
DS__INLINE float ds__l2sq_scalar_any(const float *a, const void *b, int half, size_t dim) {
    float s = 0.0f;
    size_t i;
    for (i = 0; i < dim; i++) {
        float t = a[i] - ds__vat(b, i, half);
        s += t * t;
    }
    return s;
}
DS__INLINE float ds__dot_scalar_any(const float *a, const void *b, int half, size_t dim) {
    float s = 0.0f;
    size_t i;
    for (i = 0; i < dim; i++) s += a[i] * ds__vat(b, i, half);
    return s;
}
static float ds__l2sq_scalar(const float *a, const float *b, size_t dim) {
    return ds__l2sq_scalar_any(a, b, 0, dim);
}
static float ds__dot_scalar(const float *a, const float *b, size_t dim) {
    return ds__dot_scalar_any(a, b, 0, dim);
}
static float ds__l2sq_f16_scalar(const float *a, const uint16_t *b, size_t dim) {
    return ds__l2sq_scalar_any(a, b, 1, dim);
}
static float ds__dot_f16_scalar(const float *a, const uint16_t *b, size_t dim) {
    return ds__dot_scalar_any(a, b, 1, dim);
}
static void ds__f16_widen_scalar(const uint16_t *src, float *dst, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) dst[i] = ds_f16_to_f32(src[i]);
}

#ifdef DS__HNSW_X86
/* AVX2+FMA: two 8-lane accumulators (hides the FMA latency), then 8 and
 * the scalar tail. F16C is in the target for the fp16 kernels' vcvtph2ps;
 * the fp32 ones hold no F16C instruction (half is 0 there), so they still
 * run wherever AVX2 and FMA do. */
#define DS__AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
DS__AVX2_TARGET static float ds__hsum256(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}
/* 8 lanes of b from b[i]: floats, or halves widened. */
DS__AVX2_TARGET DS__INLINE __m256 ds__ld8(const void *b, size_t i, int half) {
    if (half) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)b + i)));
    return _mm256_loadu_ps((const float *)b + i);
}
DS__AVX2_TARGET DS__INLINE float ds__l2sq_avx2_any(const float *a, const void *b, int half,
                                                   size_t dim) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    float s;
    for (; i + 16 <= dim; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), ds__ld8(b, i, half));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), ds__ld8(b, i + 8, half));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    if (i + 8 <= dim) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), ds__ld8(b, i, half));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        i += 8;
    }
    s = ds__hsum256(_mm256_add_ps(s0, s1));
    for (; i < dim; i++) {
        float t = a[i] - ds__vat(b, i, half);
        s += t * t;
    }
    return s;
}
DS__AVX2_TARGET DS__INLINE float ds__dot_avx2_any(const float *a, const void *b, int half,
                                                  size_t dim) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    float s;
    for (; i + 16 <= dim; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), ds__ld8(b, i, half), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), ds__ld8(b, i + 8, half), s1);
    }
    if (i + 8 <= dim) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), ds__ld8(b, i, half), s0);
        i += 8;
    }
    s = ds__hsum256(_mm256_add_ps(s0, s1));
    for (; i < dim; i++) s += a[i] * ds__vat(b, i, half);
    return s;
}
DS__AVX2_TARGET static float ds__l2sq_avx2(const float *a, const float *b, size_t dim) {
    return ds__l2sq_avx2_any(a, b, 0, dim);
}
DS__AVX2_TARGET static float ds__dot_avx2(const float *a, const float *b, size_t dim) {
    return ds__dot_avx2_any(a, b, 0, dim);
}
DS__AVX2_TARGET static float ds__l2sq_f16_avx2(const float *a, const uint16_t *b, size_t dim) {
    return ds__l2sq_avx2_any(a, b, 1, dim);
}
DS__AVX2_TARGET static float ds__dot_f16_avx2(const float *a, const uint16_t *b, size_t dim) {
    return ds__dot_avx2_any(a, b, 1, dim);
}
DS__AVX2_TARGET static void ds__f16_widen_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, ds__ld8(src, i, 1));
    for (; i < n; i++) dst[i] = ds_f16_to_f32(src[i]);
}
#ifdef DS__HNSW_AVX512
/* gcc 12's AVX-512 intrinsics start from _mm512_undefined_*() and warn
 * -Wuninitialized in C++ at -O2 (gcc bug 105593, fixed in 13): silence
 * that warning around these kernels only. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/* AVX-512F: 16 lanes, the tail as one masked load (no scalar loop). */
#define DS__AVX512_TARGET __attribute__((target("avx512f")))
/* 16 lanes of b from b[i], the first `left` of them (all when left >= 16;
 * the rest read as +0): floats, or halves widened. A partial tail of
 * halves goes through a zeroed copy (a masked 16-bit load needs
 * AVX-512BW); its lanes widen to +0 as the float kernel's masked lanes
 * read, so the sums agree bit for bit. */
DS__AVX512_TARGET DS__INLINE __m512 ds__ld16(const void *b, size_t i, size_t left, int half) {
    const uint16_t *h = (const uint16_t *)b + i;
    uint16_t t[16];
    if (!half) {
        if (left >= 16) return _mm512_loadu_ps((const float *)b + i);
        return _mm512_maskz_loadu_ps((__mmask16)((1u << left) - 1u), (const float *)b + i);
    }
    if (left < 16) {
        memset(t, 0, sizeof t);
        memcpy(t, h, left * sizeof *h);
        h = t;
    }
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)h));
}
DS__AVX512_TARGET DS__INLINE float ds__l2sq_avx512_any(const float *a, const void *b, int half,
                                                       size_t dim) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), ds__ld16(b, i, 16, half));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), ds__ld16(b, i + 16, 16, half));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; i < dim; i += 16) {
        size_t left = dim - i;
        __mmask16 m = (__mmask16)(left >= 16 ? 0xffffu : ((1u << left) - 1u));
        __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), ds__ld16(b, i, left, half));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
DS__AVX512_TARGET DS__INLINE float ds__dot_avx512_any(const float *a, const void *b, int half,
                                                      size_t dim) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), ds__ld16(b, i, 16, half), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), ds__ld16(b, i + 16, 16, half), s1);
    }
    for (; i < dim; i += 16) {
        size_t left = dim - i;
        __mmask16 m = (__mmask16)(left >= 16 ? 0xffffu : ((1u << left) - 1u));
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), ds__ld16(b, i, left, half), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
DS__AVX512_TARGET static float ds__l2sq_avx512(const float *a, const float *b, size_t dim) {
    return ds__l2sq_avx512_any(a, b, 0, dim);
}
DS__AVX512_TARGET static float ds__dot_avx512(const float *a, const float *b, size_t dim) {
    return ds__dot_avx512_any(a, b, 0, dim);
}
DS__AVX512_TARGET static float ds__l2sq_f16_avx512(const float *a, const uint16_t *b, size_t dim) {
    return ds__l2sq_avx512_any(a, b, 1, dim);
}
DS__AVX512_TARGET static float ds__dot_f16_avx512(const float *a, const uint16_t *b, size_t dim) {
    return ds__dot_avx512_any(a, b, 1, dim);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
#endif

DSDEF int ds_dist_simd_level(void) {
#ifdef DS__HNSW_X86
#ifdef DS__HNSW_AVX512
    if (__builtin_cpu_supports("avx512f")) return DS_SIMD_AVX512;
#endif
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return DS_SIMD_AVX2;
#endif
    return DS_SIMD_SCALAR;
}
/* A level's kernels, {scalar, AVX2, AVX-512}; a level this build lacks is
 * NULL, and never asked for (the getters stop at the CPU's level, which
 * counts only what the build has). */
#if defined(DS__HNSW_AVX512)
#define DS__KERNELS(scalar, avx2, avx512) {scalar, avx2, avx512}
#elif defined(DS__HNSW_X86)
#define DS__KERNELS(scalar, avx2, avx512) {scalar, avx2, NULL}
#else
#define DS__KERNELS(scalar, avx2, avx512) {scalar, NULL, NULL}
#endif
DSDEF ds_dist_fn ds_dist_l2sq_kernel(int level) {
    static const ds_dist_fn k[3] = DS__KERNELS(ds__l2sq_scalar, ds__l2sq_avx2, ds__l2sq_avx512);
    return level < 0 || level > ds_dist_simd_level() ? NULL : k[level];
}
DSDEF ds_dist_fn ds_dist_dot_kernel(int level) {
    static const ds_dist_fn k[3] = DS__KERNELS(ds__dot_scalar, ds__dot_avx2, ds__dot_avx512);
    return level < 0 || level > ds_dist_simd_level() ? NULL : k[level];
}
/* AVX2 and F16C: F16C is CPUID.1:ECX bit 29 (clang 14's
 * __builtin_cpu_supports does not know "f16c"); the AVX state it needs is
 * what the avx2 check found enabled. */
static int ds__cpu_f16c(void) {
#ifdef DS__HNSW_X86
    unsigned ea, eb, ec = 0, ed;
    return ds_dist_simd_level() >= DS_SIMD_AVX2 && __get_cpuid(1, &ea, &eb, &ec, &ed) &&
           (ec >> 29 & 1u);
#else
    return 0;
#endif
}
DSDEF int ds_dist_f16_level(void) {
    int level = ds_dist_simd_level();
    return level == DS_SIMD_AVX2 && !ds__cpu_f16c() ? DS_SIMD_SCALAR : level;
}
DSDEF ds_dist_f16_fn ds_dist_l2sq_f16_kernel(int level) {
    static const ds_dist_f16_fn k[3] =
        DS__KERNELS(ds__l2sq_f16_scalar, ds__l2sq_f16_avx2, ds__l2sq_f16_avx512);
    return level < 0 || level > ds_dist_f16_level() ? NULL : k[level];
}
DSDEF ds_dist_f16_fn ds_dist_dot_f16_kernel(int level) {
    static const ds_dist_f16_fn k[3] =
        DS__KERNELS(ds__dot_f16_scalar, ds__dot_f16_avx2, ds__dot_f16_avx512);
    return level < 0 || level > ds_dist_f16_level() ? NULL : k[level];
}
/* Widen n halves to floats (internal: the HNSW build's stored-vs-stored
 * distances widen one side once, then use the fp32 x fp16 kernel). F16C
 * where the CPU has it (AVX-512 CPUs do). */
typedef void (*ds__f16_widen_fn)(const uint16_t *src, float *dst, size_t n);
static DS__UNUSED ds__f16_widen_fn ds__f16_widener(void) {
#ifdef DS__HNSW_X86
    if (ds__cpu_f16c()) return ds__f16_widen_f16c;
#endif
    return ds__f16_widen_scalar;
}
DSDEF float ds_dist_l2sq(const float *a, const float *b, size_t dim) {
    return ds_dist_l2sq_kernel(ds_dist_simd_level())(a, b, dim);
}
DSDEF float ds_dist_dot(const float *a, const float *b, size_t dim) {
    return ds_dist_dot_kernel(ds_dist_simd_level())(a, b, dim);
}
DSDEF float ds_distance(ds_metric m, const float *a, const float *b, size_t dim) {
    ds_dist_fn dot = ds_dist_dot_kernel(ds_dist_simd_level());
    if (m == DS_METRIC_L2) return ds_dist_l2sq(a, b, dim);
    if (m == DS_METRIC_IP) return 1.0f - dot(a, b, dim);
    {
        float na = dot(a, a, dim), nb = dot(b, b, dim);
        if (na <= 0.0f || nb <= 0.0f) return 1.0f;
        return 1.0f - dot(a, b, dim) / (sqrtf(na) * sqrtf(nb));
    }
}
/* |v|^2 in double: a float sum underflows to 0 for norms near 1e-20 and
 * below, which would call such a vector zero under cosine. */
static DS__UNUSED double ds__vec_norm2(const float *v, size_t dim) {
    double s = 0.0;
    size_t i;
    for (i = 0; i < dim; i++) s += (double)v[i] * (double)v[i];
    return s;
}
/* The largest |v|^2 the L2 and IP indexes take: 2^126 (about 8.5e37, a
 * quarter of FLT_MAX), so |a - b|^2 <= (|a| + |b|)^2 and |a . b| stay
 * finite in float, partial sums included (the distance kernels add
 * nonnegative terms, and Cauchy-Schwarz bounds a dot product's partial
 * sums). Past it a distance could be inf, or NaN where +inf and -inf
 * terms meet, and results would lose their order. */
#define DS__VEC_MAX_NORM2 85070591730234615865843651857942052864.0 /* 2^126 */
static DS__UNUSED int ds__vec_in_range(const float *v, size_t dim) {
    return ds__vec_finite(v, dim) && ds__vec_norm2(v, dim) <= DS__VEC_MAX_NORM2;
}
DSDEF ds_status ds_l2_normalize(float *v, size_t dim) {
    double s;
    size_t i;
    if (!v || !dim) return DS_EINVAL;
    s = ds__vec_norm2(v, dim);
    if (!(s > 0.0) || s > 1e300) return DS_EINVAL; /* zero, NaN or inf */
    s = 1.0 / sqrt(s);
    for (i = 0; i < dim; i++) v[i] = (float)((double)v[i] * s);
    return DS_OK;
}

/* Result order: nearer first, then smaller label (deterministic ties). */
static int ds__nb_worse(const void *pa, const void *pb) {
    const ds_neighbor *a = (const ds_neighbor *)pa, *b = (const ds_neighbor *)pb;
    return a->dist > b->dist || (a->dist == b->dist && a->label > b->label);
}
/* Offer x to a bounded max-heap (worst on top) of up to k results. */
static DS__UNUSED void ds__nb_offer(ds_neighbor *heap, size_t *len, size_t k, ds_neighbor x) {
    ds_neighbor tmp;
    if (*len < k) {
        heap[(*len)++] = x;
        ds__heap_sift_up((unsigned char *)heap, *len - 1, sizeof x, ds__nb_worse, &tmp);
    } else if (ds__nb_worse(heap, &x)) {
        heap[0] = x;
        ds__heap_sift_down((unsigned char *)heap, *len, 0, sizeof x, ds__nb_worse, &tmp);
    }
}
/* Heap-sort the max-heap in place into nearest-first order. */
static DS__UNUSED void ds__nb_sort(ds_neighbor *heap, size_t len) {
    ds_neighbor tmp;
    while (len > 1) {
        ds_neighbor top = heap[0];
        heap[0] = heap[--len];
        heap[len] = top;
        ds__heap_sift_down((unsigned char *)heap, len, 0, sizeof top, ds__nb_worse, &tmp);
    }
}

/* == ds_hnsw:flat == */

static int ds__metric_ok(ds_metric m) {
    return m == DS_METRIC_L2 || m == DS_METRIC_IP || m == DS_METRIC_COSINE;
}

DSDEF ds_status ds_flat_init(ds_flat *f, size_t dim, ds_metric metric, const ds_alloc *a) {
    if (!f) return DS_EINVAL;
    memset(f, 0, sizeof *f); /* a failed init leaves a struct free accepts */
    if (dim == 0 || dim > DS_VEC_MAX_DIM || !ds__metric_ok(metric)) return DS_EINVAL;
    memset(f, 0, sizeof *f);
    f->dim = f->stride = dim;
    f->metric = metric;
    f->alloc = a;
    ds__vlabel_map_init_seed(&f->map, a, 0x666c6174u);
    return DS_OK;
}
DSDEF ds_status ds_flat_init_view(ds_flat *f, const float *data, size_t count, size_t dim,
                                  size_t stride, ds_metric metric) {
    size_t t;
    if (!f) return DS_EINVAL;
    memset(f, 0, sizeof *f); /* a failed init leaves a struct free accepts */
    if ((!data && count) || dim == 0 || dim > DS_VEC_MAX_DIM || stride < dim ||
        !ds__metric_ok(metric) || (count && !ds_size_muladd(count - 1, stride, dim, &t)))
        return DS_EINVAL;
    memset(f, 0, sizeof *f);
    f->data = data;
    f->dim = dim;
    f->stride = stride;
    f->len = f->cap = count;
    f->metric = metric;
    f->view = 1;
    ds__vlabel_map_init_seed(&f->map, NULL, 0);
    return DS_OK;
}
DSDEF void ds_flat_free(ds_flat *f) {
    if (!f) return;
    if (!f->view) {
        if (f->own) DS_FREE(f->alloc, f->own, f->cap * f->dim * sizeof(float));
        if (f->labels) DS_FREE(f->alloc, f->labels, f->cap * sizeof(uint64_t));
        ds__vlabel_map_free(&f->map);
    }
    f->own = NULL;
    f->labels = NULL;
    f->data = NULL;
    f->len = f->cap = 0;
}
DSDEF size_t ds_flat_len(const ds_flat *f) { return f ? f->len : 0; }

DSDEF ds_status ds_flat_insert(ds_flat *f, uint64_t label, const float *v) {
    size_t row, mcap;
    uint8_t *mtab;
    ds_status st;
    if (!f || !v || f->view || !ds__vec_finite(v, f->dim)) return DS_EINVAL;
    if (f->metric != DS_METRIC_COSINE && !ds__vec_in_range(v, f->dim)) return DS_EINVAL;
    if (ds__vlabel_map_get(&f->map, label)) return DS_EEXIST;
    if (f->metric == DS_METRIC_COSINE && !(ds__vec_norm2(v, f->dim) > 0.0)) return DS_EINVAL;
    /* Every new block first (the label table's too), then commit: nothing
     * changes on ENOMEM, capacity included. */
    if ((st = ds__map_reserve_alloc(&f->map.m, f->len + 1, sizeof(ds__vlabel_map_entry), &mtab, &mcap)) !=
        DS_OK)
        return st;
    if (f->len == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16, vb, lb;
        float *nv;
        uint64_t *nl;
        if (nc < f->cap || !ds_size_mul(nc, f->dim * sizeof(float), &vb) ||
            !ds_size_mul(nc, sizeof(uint64_t), &lb)) {
            ds__map_reserve_drop(&f->map.m, mtab, mcap, sizeof(ds__vlabel_map_entry));
            return DS_EINVAL;
        }
        nv = (float *)DS_MALLOC(f->alloc, vb);
        nl = nv ? (uint64_t *)DS_MALLOC(f->alloc, lb) : NULL;
        if (!nl) {
            if (nv) DS_FREE(f->alloc, nv, vb);
            ds__map_reserve_drop(&f->map.m, mtab, mcap, sizeof(ds__vlabel_map_entry));
            return DS_ENOMEM;
        }
        if (f->len) {
            memcpy(nv, f->own, f->len * f->dim * sizeof(float));
            memcpy(nl, f->labels, f->len * sizeof(uint64_t));
        }
        if (f->own) DS_FREE(f->alloc, f->own, f->cap * f->dim * sizeof(float));
        if (f->labels) DS_FREE(f->alloc, f->labels, f->cap * sizeof(uint64_t));
        f->own = nv;
        f->labels = nl;
        f->data = nv;
        f->cap = nc;
    }
    if (mtab) ds__map_adopt(&f->map.m, mtab, mcap, sizeof(ds__vlabel_map_entry), ds__vlabel_map__hash);
    row = f->len;
    memcpy(f->own + row * f->dim, v, f->dim * sizeof(float));
    if (f->metric == DS_METRIC_COSINE) (void)ds_l2_normalize(f->own + row * f->dim, f->dim);
    f->labels[row] = label;
    (void)ds__vlabel_map_put(&f->map, label, row, NULL); /* reserved: cannot fail */
    f->len++;
    return DS_OK;
}
DSDEF ds_status ds_flat_del(ds_flat *f, uint64_t label) {
    uint64_t row;
    size_t last;
    if (!f || f->view) return DS_EINVAL;
    if (ds__vlabel_map_del(&f->map, label, &row) != DS_OK) return DS_ENOTFOUND;
    last = f->len - 1;
    if ((size_t)row != last) {
        memcpy(f->own + row * f->dim, f->own + last * f->dim, f->dim * sizeof(float));
        f->labels[row] = f->labels[last];
        *ds__vlabel_map_get(&f->map, f->labels[row]) = row;
    }
    f->len--;
    return DS_OK;
}

/* One query against every row. */
/* The distance from q (norm qn under cosine) to row i. */
static float ds__flat_dist(const ds_flat *f, ds_dist_fn l2, ds_dist_fn dot, const float *q, float qn,
                           const float *row, float rn) {
    if (f->metric == DS_METRIC_L2) return l2(q, row, f->dim);
    if (f->metric == DS_METRIC_IP) return 1.0f - dot(q, row, f->dim);
    return rn > 0.0f ? 1.0f - dot(q, row, f->dim) / (qn * rn) : 1.0f;
}
/* Check a query; its norm under cosine (1 otherwise). */
static ds_status ds__flat_prep(const ds_flat *f, const float *q, float *qn) {
    *qn = 1.0f;
    if (!ds__vec_finite(q, f->dim)) return DS_EINVAL;
    if (f->metric != DS_METRIC_COSINE && !ds__vec_in_range(q, f->dim)) return DS_EINVAL;
    if (f->metric == DS_METRIC_COSINE) {
        *qn = (float)sqrt(ds__vec_norm2(q, f->dim));
        if (!(*qn > 0.0f)) return DS_EINVAL;
    }
    return DS_OK;
}
/* Queries [0, nq) in blocks: each row is read from memory once per block
 * and scored against every query of the block while it sits in L1, so a
 * base larger than the cache streams nq / block times, not nq times. The
 * distances are the single-query ones, so results are identical. 32
 * queries of 128 floats (16 KB) stay in L1 beside the row; on a 10^6 x 128
 * base, 100 queries ran at 68 and 95 QPS in two runs, against 46 and 60
 * with blocks of 8 (bench_hnsw --exact-only). */
#define DS__FLAT_BLOCK 32
static ds_status ds__flat_block(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                ds_neighbor *out, size_t *nout) {
    ds_dist_fn l2 = ds_dist_l2sq_kernel(ds_dist_simd_level());
    ds_dist_fn dot = ds_dist_dot_kernel(ds_dist_simd_level());
    float qn[DS__FLAT_BLOCK];
    size_t i, j, b;
    for (b = 0; b < nq; b += DS__FLAT_BLOCK) {
        size_t m = nq - b < DS__FLAT_BLOCK ? nq - b : DS__FLAT_BLOCK;
        for (j = 0; j < m; j++) {
            ds_status st = ds__flat_prep(f, qs + (b + j) * f->dim, &qn[j]);
            if (st != DS_OK) return st;
            nout[b + j] = 0;
        }
        for (i = 0; i < f->len; i++) {
            const float *row = f->data + i * f->stride;
            float rn = f->metric == DS_METRIC_COSINE && f->view ? sqrtf(dot(row, row, f->dim)) : 1.0f;
            ds_neighbor x;
            x.label = f->view ? (uint64_t)i : f->labels[i];
            for (j = 0; j < m; j++) {
                x.dist = ds__flat_dist(f, l2, dot, qs + (b + j) * f->dim, qn[j], row, rn);
                ds__nb_offer(out + (b + j) * k, &nout[b + j], k, x);
            }
        }
        for (j = 0; j < m; j++) ds__nb_sort(out + (b + j) * k, nout[b + j]);
    }
    return DS_OK;
}
static ds_status ds__flat_query(const ds_flat *f, const float *q, size_t k, ds_neighbor *out,
                                size_t *nout) {
    return ds__flat_block(f, q, 1, k, out, nout);
}
DSDEF ds_status ds_flat_search(const ds_flat *f, const float *q, size_t k, ds_neighbor *out,
                               size_t *nout) {
    if (!f || !q || !k || !out || !nout) return DS_EINVAL;
    return ds__flat_query(f, q, k, out, nout);
}
DSDEF ds_status ds_flat_search_batch(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                     ds_neighbor *out, size_t *nout) {
    size_t t;
    if (!f || (!qs && nq) || !k || (!out && nq) || (!nout && nq) ||
        !ds_size_mul(nq, k, &t))
        return DS_EINVAL;
    return ds__flat_block(f, qs, nq, k, out, nout);
}

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

/* == ds_hnsw:io == */

static int ds__hn_host_le(void) {
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}
/* n words of wsz bytes (4: u32 or float bits; 2: halves) little-endian,
 * in pieces of DS__HN_CHUNK words; the reader takes the same pieces so the
 * running checksums agree. */
#define DS__HN_CHUNK 256
static void ds__hn_put_w(ds__enc *e, const void *a, size_t n, size_t wsz) {
    const unsigned char *p = (const unsigned char *)a;
    unsigned char buf[DS__HN_CHUNK * 4];
    while (n && e->st == DS_OK) {
        size_t c = n < DS__HN_CHUNK ? n : DS__HN_CHUNK, i, j;
        if (ds__hn_host_le()) {
            ds__put(e, p, c * wsz);
        } else {
            for (i = 0; i < c; i++) {
                uint32_t u;
                uint16_t h;
                if (wsz == 2) memcpy(&h, p + 2 * i, 2), u = h;
                else memcpy(&u, p + 4 * i, 4);
                for (j = 0; j < wsz; j++) buf[wsz * i + j] = (unsigned char)(u >> (8 * j));
            }
            ds__put(e, buf, c * wsz);
        }
        p += c * wsz;
        n -= c;
    }
}
static void ds__hn_get_w(ds__dec *d, void *a, size_t n, size_t wsz) {
    unsigned char *p = (unsigned char *)a;
    while (n && d->st == DS_OK) {
        size_t c = n < DS__HN_CHUNK ? n : DS__HN_CHUNK, i, j;
        ds__get(d, p, c * wsz);
        if (d->st == DS_OK && !ds__hn_host_le()) {
            for (i = 0; i < c; i++) {
                uint32_t u = 0;
                uint16_t h;
                for (j = wsz; j-- > 0;) u = u << 8 | p[wsz * i + j];
                h = (uint16_t)u;
                if (wsz == 2) memcpy(p + 2 * i, &h, 2);
                else memcpy(p + 4 * i, &u, 4);
            }
        }
        p += c * wsz;
        n -= c;
    }
}
static void ds__hn_put_w32(ds__enc *e, const void *a, size_t n) { ds__hn_put_w(e, a, n, 4); }
static void ds__hn_get_w32(ds__dec *d, void *a, size_t n) { ds__hn_get_w(d, a, n, 4); }
/* Links are stored in full fixed-size lists (unused slots zero), so the
 * file is as large as the memory it asks for: load never allocates much
 * more than the input holds. Pieces of <= DS__HN_CHUNK words, as the
 * reader's. */
static void ds__hn_put_links(ds__enc *e, const uint32_t *ln, size_t cnt, size_t cap) {
    static const uint32_t zeros[DS__HN_CHUNK] = {0};
    size_t left = cap - cnt;
    ds__hn_put_w32(e, ln, cnt);
    while (left) {
        size_t c = left < DS__HN_CHUNK ? left : DS__HN_CHUNK;
        ds__hn_put_w32(e, zeros, c);
        left -= c;
    }
}
/* Read cnt links then the zero padding to cap into ln[0..cap). */
static void ds__hn_get_links(ds__dec *d, uint32_t *ln, size_t cnt, size_t cap) {
    size_t left = cap - cnt, i;
    uint32_t *p = ln + cnt;
    ds__hn_get_w32(d, ln, cnt);
    while (left && d->st == DS_OK) {
        size_t c = left < DS__HN_CHUNK ? left : DS__HN_CHUNK;
        ds__hn_get_w32(d, p, c);
        for (i = 0; i < c && d->st == DS_OK; i++)
            if (p[i]) d->st = DS_ECORRUPT;
        p += c;
        left -= c;
    }
}
static void ds__hn_put_bytes(ds__enc *e, const unsigned char *p, size_t n) {
    while (n && e->st == DS_OK) {
        size_t c = n < 4096 ? n : 4096;
        ds__put(e, p, c);
        p += c;
        n -= c;
    }
}

/* "DShn" versions: 1 has no storage field (F32), 2 adds it (written for
 * F16 only, so an F32 index's file is what older releases wrote). */
#define DS__HNSW_FORMAT_F16 2

DSDEF ds_status ds_hnsw_save(const ds_hnsw *h, ds_writer w) {
    ds__enc e;
    uint32_t id;
    int i, lc;
    if (!h) return DS_EINVAL;
    ds__enc_init(&e, w, "DShn", h->dist16 ? DS__HNSW_FORMAT_F16 : 1);
    ds__put_u64(&e, h->dim);
    ds__put_u64(&e, (uint64_t)h->metric);
    ds__put_u64(&e, h->M);
    ds__put_u64(&e, h->efc);
    ds__put_u64(&e, h->ef);
    ds__put_u64(&e, h->max_elements);
    ds__put_u64(&e, h->seed);
    ds__put_u64(&e, (uint64_t)h->replace_deleted);
    if (h->dist16) ds__put_u64(&e, (uint64_t)h->storage);
    for (i = 0; i < 4; i++) ds__put_u64(&e, h->rng.s[i]);
    ds__put_u64(&e, h->n);
    ds__put_u64(&e, h->ndel);
    ds__put_u64(&e, (uint64_t)(h->maxlevel + 1));
    ds__put_u64(&e, h->entry);
    ds__hn_put_bytes(&e, h->level, h->n);
    for (id = 0; id < h->n; id++) {
        size_t cnt;
        const uint32_t *ln = ds__hn_links(h, id, 0, &cnt);
        ds__put_u64(&e, ds__hn_label(h, id));
        ds__put_u64(&e, (uint64_t)cnt | (uint64_t)ds__hn_rec(h, id)[2] << 16);
        ds__hn_put_links(&e, ln, cnt, h->M0);
        ds__hn_put_w(&e, ds__hn_vec(h, id), h->dim, h->dist16 ? 2 : 4);
    }
    for (id = 0; id < h->n; id++) {
        for (lc = 1; lc <= h->level[id]; lc++) {
            size_t cnt;
            const uint32_t *ln = ds__hn_links(h, id, lc, &cnt);
            ds__hn_put_w32(&e, ln - 1, 1); /* count, then the list: the reader's pieces */
            ds__hn_put_links(&e, ln, cnt, h->M);
        }
    }
    ds__hn_put_w32(&e, h->del, h->ndel);
    return ds__enc_end(&e);
}

/* How many of n claimed items of `per` bytes to make room for before any
 * arrives: all of them when the input's size is known (the caller checked
 * it can hold them), else at most about 1 MiB's worth; the loaders then
 * grow as items actually arrive, so a hostile count costs at most about
 * twice the bytes really sent (issue 15: pipes and sockets). */
static size_t ds__vec_trust(const ds__dec *d, uint64_t n, size_t per) {
    size_t most = ((size_t)1 << 20) / (per ? per : 1) + 1;
    if (d->r->avail != UINT64_MAX) return (size_t)n;
    return n < most ? (size_t)n : most;
}
/* n bytes into a new block that grows as they arrive (ds__vec_trust). */
static unsigned char *ds__vec_get_bytes(ds__dec *d, size_t n, const ds_alloc *a, size_t *cap) {
    unsigned char *p;
    size_t got = 0;
    *cap = ds__vec_trust(d, n, 1);
    if (d->st != DS_OK) return NULL;
    if (!(p = (unsigned char *)DS_MALLOC(a, *cap ? *cap : 1))) {
        d->st = DS_ENOMEM;
        return NULL;
    }
    if (!*cap) *cap = 1;
    while (got < n && d->st == DS_OK) {
        size_t c = n - got < 4096 ? n - got : 4096;
        if (got + c > *cap) {
            size_t nc = *cap > n / 2 ? n : *cap * 2;
            void *q = DS_REALLOC(a, p, *cap, nc);
            if (!q) {
                d->st = DS_ENOMEM;
                break;
            }
            p = (unsigned char *)q;
            *cap = nc;
        }
        ds__get(d, p + got, c);
        got += c;
    }
    if (d->st != DS_OK) {
        DS_FREE(a, p, *cap);
        return NULL;
    }
    return p;
}

/* A loaded vector holds no inf or NaN (float or half). */
static int ds__hn_vec_finite(const ds_hnsw *t, uint32_t id) {
    const uint16_t *v = (const uint16_t *)ds__hn_vec(t, id);
    size_t i;
    if (!t->dist16) return ds__vec_finite((const float *)ds__hn_vec(t, id), t->dim);
    for (i = 0; i < t->dim; i++)
        if ((v[i] & 0x7c00u) == 0x7c00u) return 0;
    return 1;
}

/* Read the elements into a freshly initialised t with room for at least
 * ds__vec_trust of them; t grows (doubling) as elements arrive, with t->n
 * tracking what has been read so a growth keeps it. */
static void ds__hn_get_payload(ds__dec *d, ds_hnsw *t, size_t n, size_t ndel) {
    size_t i, j, upper_words = 0, flagged = 0, lvcap = 0;
    uint32_t id;
    int lc;
    unsigned char *lv = ds__vec_get_bytes(d, n, t->alloc, &lvcap);
    if (!lv) return;
    for (i = 0; i < n; i++)
        if (lv[i] > DS__HNSW_MAX_LEVEL) d->st = DS_ECORRUPT;
    /* Every upper layer is stored in full: refuse what the input cannot hold. */
    for (i = 0; i < n; i++) upper_words += (size_t)lv[i] * (t->M + 1);
    if (!ds__dec_room(d, (uint64_t)upper_words * 4)) {
        DS_FREE(t->alloc, lv, lvcap);
        return;
    }
    upper_words = 0;
    for (id = 0; id < n && d->st == DS_OK; id++) {
        uint64_t label, hdr;
        size_t cnt;
        unsigned char *rec;
        uint32_t *ln;
        int is_new = 0;
        if (id == t->room) { /* arrived so far: grow to twice that, at most n */
            t->n = id;
            if ((d->st = ds__hn_grow(t, id > n / 2 ? n : 2 * (size_t)id)) != DS_OK) break;
        }
        label = ds__get_u64(d);
        hdr = ds__get_u64(d);
        cnt = (size_t)(hdr & 0xffffu);
        rec = ds__hn_rec(t, id);
        if (d->st != DS_OK) break;
        if ((hdr >> 16) > DS__HNSW_DELETED || cnt > t->M0) {
            d->st = DS_ECORRUPT;
            break;
        }
        t->level[id] = lv[id];
        t->uoff[id] = upper_words;
        upper_words += (size_t)lv[id] * (t->M + 1);
        memset(rec, 0, t->vec_off);
        ds__hn_set_count(t, id, 0, cnt);
        rec[2] = (unsigned char)(hdr >> 16);
        flagged += rec[2];
        ln = ds__hn_links(t, id, 0, &cnt);
        ds__hn_get_links(d, ln, cnt, t->M0);
        ds__hn_get_w(d, rec + t->vec_off, t->dim, t->dist16 ? 2 : 4);
        if (d->st != DS_OK) break;
        for (j = 0; j < cnt; j++)
            if (ln[j] >= n || ln[j] == id) d->st = DS_ECORRUPT;
        if (!ds__hn_vec_finite(t, id)) d->st = DS_ECORRUPT;
        memcpy(rec + t->label_off, &label, 8);
        if (d->st == DS_OK && (d->st = ds__vlabel_map_put(&t->map, label, id, &is_new)) == DS_OK && !is_new)
            d->st = DS_ECORRUPT;
    }
    t->n = 0; /* the caller sets it once everything checked out */
    DS_FREE(t->alloc, lv, lvcap);
    if (d->st != DS_OK) return;
    for (id = 0; id < n && d->st == DS_OK; id++) {
        size_t need = t->uoff[id] + (size_t)t->level[id] * (t->M + 1);
        if (need > t->ulen) { /* room for this element's layers, as they arrive */
            if ((d->st = ds__hn_arena(t, need - t->ulen)) != DS_OK) return;
            t->ulen = need;
        }
        for (lc = 1; lc <= t->level[id] && d->st == DS_OK; lc++) {
            uint32_t *u = t->upper + t->uoff[id] + (size_t)(lc - 1) * (t->M + 1);
            ds__hn_get_w32(d, u, 1);
            if (d->st != DS_OK) return;
            if (u[0] > t->M) {
                d->st = DS_ECORRUPT;
                return;
            }
            ds__hn_get_links(d, u + 1, u[0], t->M);
            for (j = 0; j < u[0] && d->st == DS_OK; j++)
                if (u[1 + j] >= n || u[1 + j] == id || t->level[u[1 + j]] < lc)
                    d->st = DS_ECORRUPT;
        }
    }
    if (d->st != DS_OK) return;
    /* The deleted list: exactly the flagged slots, each once. */
    if (flagged != ndel) {
        d->st = DS_ECORRUPT;
        return;
    }
    ds__hn_get_w32(d, t->del, ndel);
    if (d->st != DS_OK) return;
    for (i = 0; i < ndel; i++) {
        id = t->del[i];
        if (id >= n || !(ds__hn_rec(t, id)[2] & DS__HNSW_DELETED) || t->build.mark[id] == 1) {
            d->st = DS_ECORRUPT;
            break;
        }
        t->build.mark[id] = 1;
    }
    for (i = 0; i < ndel; i++)
        if (t->del[i] < n) t->build.mark[t->del[i]] = 0;
}

DSDEF ds_status ds_hnsw_load(ds_hnsw *h, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_hnsw t;
    ds_hnsw_params p;
    uint64_t v[8], rs[4], n, ndel, top, entry, per, storage = DS_HNSW_STORE_F32;
    uint32_t version;
    int i;
    if (!h) return DS_EINVAL;
    version = ds__dec_init_any(&d, r, "DShn", 1, DS__HNSW_FORMAT_F16);
    for (i = 0; i < 8; i++) v[i] = ds__get_u64(&d);
    if (version >= 2) storage = ds__get_u64(&d);
    for (i = 0; i < 4; i++) rs[i] = ds__get_u64(&d);
    n = ds__get_u64(&d);
    ndel = ds__get_u64(&d);
    top = ds__get_u64(&d);
    entry = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    /* Parameters exactly as init accepts them (no zero defaults here). */
    if (v[0] == 0 || v[0] > DS_VEC_MAX_DIM || v[1] < 1 || v[1] > 3 || v[2] < 2 ||
        v[2] > DS__HNSW_MAX_M || v[3] < 1 || v[3] > DS__HNSW_MAX_EF || v[4] < 1 ||
        v[4] > DS__HNSW_MAX_EF || v[5] > DS__HNSW_NOLIMIT || v[7] > 1 || storage > 1 ||
        n > (v[5] ? v[5] : DS__HNSW_NOLIMIT) || ndel > n || top > DS__HNSW_MAX_LEVEL + 1 ||
        (n == 0) != (top == 0) || (n ? entry >= n : entry != 0))
        return DS_ECORRUPT;
    /* Every element costs its level byte, label, header, full level-0 link
     * list and vector in the input: refuse counts the input cannot hold
     * (so the level-0 block allocated below is no larger than the input). */
    per = 1 + 16 + 8 * v[2] + (storage ? 2 : 4) * v[0];
    if (n > UINT64_MAX / per || !ds__dec_room(&d, n * per)) return DS_ECORRUPT;
    memset(&p, 0, sizeof p);
    p.dim = (size_t)v[0];
    p.metric = (ds_metric)v[1];
    p.M = (size_t)v[2];
    p.ef_construction = (size_t)v[3];
    p.ef_search = (size_t)v[4];
    p.max_elements = (size_t)v[5];
    p.seed = v[6];
    p.replace_deleted = (int)v[7];
    p.storage = (ds_hnsw_storage)storage;
    if (ds_hnsw_init(&t, &p, a) != DS_OK) return DS_ECORRUPT;
    for (i = 0; i < 4; i++) t.rng.s[i] = rs[i];
    if (n && (d.st = ds__hn_grow(&t, ds__vec_trust(&d, n, (size_t)per))) != DS_OK) {
        ds_hnsw_free(&t);
        return d.st;
    }
    ds__hn_get_payload(&d, &t, (size_t)n, (size_t)ndel);
    if (d.st == DS_OK && n && t.level[entry] != top - 1) d.st = DS_ECORRUPT;
    if (ds__dec_end(&d) != DS_OK) {
        ds_hnsw_free(&t);
        return d.st;
    }
    t.n = (size_t)n;
    t.ndel = (size_t)ndel;
    t.maxlevel = (int)top - 1;
    t.entry = (uint32_t)entry;
    *h = t;
    return DS_OK;
}

DSDEF ds_status ds_flat_save(const ds_flat *f, ds_writer w) {
    ds__enc e;
    size_t i;
    if (!f) return DS_EINVAL;
    ds__enc_init(&e, w, "DSfl", 1);
    ds__put_u64(&e, f->dim);
    ds__put_u64(&e, (uint64_t)f->metric);
    ds__put_u64(&e, f->len);
    /* Rows are normalised unless they came from a cosine view. */
    ds__put_u64(&e, (uint64_t)(f->view && f->metric == DS_METRIC_COSINE));
    for (i = 0; i < f->len; i++) {
        ds__put_u64(&e, f->view ? (uint64_t)i : f->labels[i]);
        ds__hn_put_w32(&e, f->data + i * f->stride, f->dim);
    }
    return ds__enc_end(&e);
}
DSDEF ds_status ds_flat_load(ds_flat *f, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_flat t;
    uint64_t dim, metric, len, raw, i;
    if (!f) return DS_EINVAL;
    ds__dec_init(&d, r, "DSfl", 1);
    dim = ds__get_u64(&d);
    metric = ds__get_u64(&d);
    len = ds__get_u64(&d);
    raw = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    if (dim == 0 || dim > DS_VEC_MAX_DIM || metric < 1 || metric > 3 || raw > 1 ||
        len > UINT64_MAX / (8 + 4 * dim) || !ds__dec_room(&d, len * (8 + 4 * dim)) ||
        len > SIZE_MAX / (4 * dim))
        return DS_ECORRUPT;
    (void)ds_flat_init(&t, (size_t)dim, (ds_metric)metric, a);
    for (i = 0; i < len && d.st == DS_OK; i++) {
        float *row;
        int is_new = 0;
        if (i == t.cap) {
            /* Room for all len rows when the input's size is known (it can
             * hold them); through a pipe, about 1 MiB first, then doubling
             * as rows arrive. Rows and labels both, before anything moves. */
            size_t nc = t.cap ? (t.cap > len / 2 ? (size_t)len : 2 * t.cap)
                              : ds__vec_trust(&d, len, 8 + 4 * (size_t)dim);
            size_t vb = nc * (size_t)dim * sizeof(float), lb = nc * 8;
            float *nv = (float *)DS_MALLOC(a, vb);
            uint64_t *nl = (uint64_t *)DS_MALLOC(a, lb);
            if (!nv || !nl) {
                if (nv) DS_FREE(a, nv, vb);
                if (nl) DS_FREE(a, nl, lb);
                d.st = DS_ENOMEM;
                break;
            }
            if (t.len) {
                memcpy(nv, t.own, t.len * (size_t)dim * sizeof(float));
                memcpy(nl, t.labels, t.len * 8);
                DS_FREE(a, t.own, t.cap * (size_t)dim * sizeof(float));
                DS_FREE(a, t.labels, t.cap * 8);
            }
            t.own = nv;
            t.data = nv;
            t.labels = nl;
            t.cap = nc;
        }
        row = t.own + i * dim;
        t.labels[i] = ds__get_u64(&d);
        ds__hn_get_w32(&d, row, (size_t)dim);
        if (d.st != DS_OK) break;
        if (!ds__vec_finite(row, (size_t)dim)) d.st = DS_ECORRUPT;
        if (raw && ds_l2_normalize(row, (size_t)dim) != DS_OK) d.st = DS_ECORRUPT;
        if (d.st == DS_OK && (d.st = ds__vlabel_map_put(&t.map, t.labels[i], (size_t)i, &is_new)) == DS_OK &&
            !is_new)
            d.st = DS_ECORRUPT;
        t.len = (size_t)i + 1;
    }
    if (ds__dec_end(&d) != DS_OK) {
        ds_flat_free(&t);
        return d.st;
    }
    *f = t;
    return DS_OK;
}

/* -- TEXMEX .fvecs / .ivecs -- */

static ds_status ds__vecs_rd(ds_reader *r, void *p, size_t n) {
    ds_status st;
    if (r->avail < n) return DS_ECORRUPT;
    if ((st = r->read(r->ctx, p, n)) != DS_OK) return st;
    r->avail -= n;
    return DS_OK;
}
static ds_status ds__vecs_read(ds_reader *r, void **out, size_t *n, size_t *dim,
                               const ds_alloc *a) {
    unsigned char hb[4];
    uint32_t d0;
    uint64_t rec, cnt, i;
    size_t bytes;
    unsigned char *p;
    ds_status st;
    if (!r || !r->read || !out || !n || !dim || r->avail == UINT64_MAX) return DS_EINVAL;
    *out = NULL;
    *n = *dim = 0;
    if (r->avail == 0) return DS_OK;
    if ((st = ds__vecs_rd(r, hb, 4)) != DS_OK) return st;
    d0 = (uint32_t)hb[0] | (uint32_t)hb[1] << 8 | (uint32_t)hb[2] << 16 | (uint32_t)hb[3] << 24;
    if (d0 < 1 || d0 > DS_VEC_MAX_DIM) return DS_ECORRUPT;
    rec = 4 + 4 * (uint64_t)d0;
    if ((r->avail + 4) % rec) return DS_ECORRUPT;
    cnt = (r->avail + 4) / rec;
    if (cnt > SIZE_MAX / (4 * (size_t)d0)) return DS_ECORRUPT;
    bytes = (size_t)cnt * 4 * d0;
    if (!(p = (unsigned char *)DS_MALLOC(a, bytes))) return DS_ENOMEM;
    for (i = 0; i < cnt; i++) {
        unsigned char *row = p + (size_t)i * 4 * d0;
        size_t j;
        if (i && (st = ds__vecs_rd(r, hb, 4)) == DS_OK &&
            ((uint32_t)hb[0] | (uint32_t)hb[1] << 8 | (uint32_t)hb[2] << 16 |
             (uint32_t)hb[3] << 24) != d0)
            st = DS_ECORRUPT;
        if (st != DS_OK || (st = ds__vecs_rd(r, row, 4 * (size_t)d0)) != DS_OK) {
            DS_FREE(a, p, bytes);
            return st;
        }
        if (!ds__hn_host_le()) {
            for (j = 0; j < d0; j++) {
                const unsigned char *b = row + 4 * j;
                uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                             (uint32_t)b[3] << 24;
                memcpy(row + 4 * j, &u, 4);
            }
        }
    }
    *out = p;
    *n = (size_t)cnt;
    *dim = d0;
    return DS_OK;
}
DSDEF ds_status ds_fvecs_read(ds_reader *r, float **out, size_t *n, size_t *dim,
                              const ds_alloc *a) {
    void *p = NULL;
    ds_status st = ds__vecs_read(r, &p, n, dim, a);
    if (out) *out = (float *)p;
    return st;
}
DSDEF ds_status ds_ivecs_read(ds_reader *r, int32_t **out, size_t *n, size_t *dim,
                              const ds_alloc *a) {
    void *p = NULL;
    ds_status st = ds__vecs_read(r, &p, n, dim, a);
    if (out) *out = (int32_t *)p;
    return st;
}
DSDEF void ds_vecs_free(const ds_alloc *a, void *p, size_t n, size_t dim) {
    if (p) DS_FREE(a, p, n * dim * 4);
}
DSDEF ds_status ds_ivecs_read_labels(ds_reader *r, uint64_t **out, size_t *n, size_t *dim,
                                     const ds_alloc *a) {
    int32_t *ids = NULL;
    uint64_t *labels = NULL;
    size_t nn = 0, d = 0, i, total, bytes = 0;
    ds_status st;
    if (!out || !n || !dim) return DS_EINVAL;
    if ((st = ds_ivecs_read(r, &ids, &nn, &d, a)) != DS_OK) return st;
    total = nn * d; /* ds_ivecs_read held total * 4 bytes */
    if (total && (!ds_size_mul(total, sizeof *labels, &bytes) ||
                  !(labels = (uint64_t *)DS_MALLOC(a, bytes)))) {
        ds_vecs_free(a, ids, nn, d);
        return DS_ENOMEM;
    }
    for (i = 0; i < total; i++) {
        if (ids[i] < 0) {
            DS_FREE(a, labels, bytes);
            ds_vecs_free(a, ids, nn, d);
            return DS_ECORRUPT;
        }
        labels[i] = (uint64_t)ids[i];
    }
    ds_vecs_free(a, ids, nn, d);
    *out = labels;
    *n = nn;
    *dim = d;
    return DS_OK;
}
DSDEF void ds_labels_free(const ds_alloc *a, uint64_t *p, size_t n, size_t dim) {
    if (p) DS_FREE(a, p, n * dim * sizeof *p);
}

DSDEF ds_status ds_flat_ground_truth(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                     uint64_t *labels) {
    size_t i, j, t;
    if (!f || (!qs && nq) || !k || k > f->len || (!labels && nq) || !ds_size_mul(nq, k, &t) ||
        k > SIZE_MAX / sizeof(ds_neighbor))
        return DS_EINVAL;
    for (i = 0; i < nq; i++) {
        /* Results go through a stack buffer for the usual small k. */
        ds_neighbor buf[64], *res = buf;
        size_t got;
        ds_status st;
        if (k > 64 && !(res = (ds_neighbor *)DS_MALLOC(f->alloc, k * sizeof *res)))
            return DS_ENOMEM;
        st = ds__flat_query(f, qs + i * f->dim, k, res, &got);
        for (j = 0; j < k && j < got && st == DS_OK; j++) labels[i * k + j] = res[j].label; /* got == k */
        if (res != buf) DS_FREE(f->alloc, res, k * sizeof *res);
        if (st != DS_OK) return st;
    }
    return DS_OK;
}
DSDEF double ds_recall_at_k(const ds_neighbor *res, size_t nres, const uint64_t *truth,
                            size_t k) {
    size_t i, j, hit = 0;
    if (!k || !truth || (!res && nres)) return 0.0;
    if (nres > k) nres = k;
    for (i = 0; i < k; i++)
        for (j = 0; j < nres; j++)
            if (res[j].label == truth[i]) {
                hit++;
                break;
            }
    return (double)hit / (double)k;
}
#endif
