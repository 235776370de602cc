/* ds_hnsw.h - vector search for ds: exact (flat) index and HNSW   v0.1.0
 *
 * STATUS: shell. This header fixes the option block, the section layout and
 * the contract that the vector-search work (issue "Vector search in
 * ds_hnsw.h") fills in; it declares no functions yet, so including it costs
 * nothing and nothing here can be called by mistake.
 *
 * Needs ds.h (included below). In exactly one file:
 *
 *     #define DS_IMPLEMENTATION        (or DS_HNSW_IMPLEMENTATION)
 *     #include "ds_hnsw.h"
 *
 * TABLE OF CONTENTS (tags mark banners in both halves)
 *   ds_hnsw:options    option macros
 *   ds_hnsw:distance   squared L2, inner product, cosine; scalar + SIMD (planned)
 *   ds_hnsw:flat       ds_flat: exact k-NN, optionally over caller-owned vectors (planned)
 *   ds_hnsw:graph      ds_hnsw: Malkov & Yashunin HNSW (planned)
 *   ds_hnsw:io         save/load (versioned, checksummed) and .fvecs/.ivecs readers (planned)
 *
 * OPTIONS
 *   DS_HNSW_NO_SIMD    use only the scalar distance kernels.
 *   DS_HNSW_THREADS    build the multi-threaded insert/batch search (pthreads);
 *                      without it the header needs no thread library.
 *   Allocation, assertions and linkage follow ds.h (DS_MALLOC..., DSDEF).
 *
 * THREAD SAFETY (the contract the implementation will state per call)
 *   Searches may run concurrently with each other; mutation needs exclusive
 *   access unless DS_HNSW_THREADS is on and the call says otherwise.
 */
#ifndef DS_HNSW_H_INCLUDED
#define DS_HNSW_H_INCLUDED

#include "ds.h"

/* == ds_hnsw:options == */
#define DS_HNSW_VERSION_MAJOR 0
#define DS_HNSW_VERSION_MINOR 1
#define DS_HNSW_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

/* == ds_hnsw:distance == */
/* Metrics the index will support; the values are part of the file format. */
typedef enum ds_metric { DS_METRIC_L2 = 1, DS_METRIC_IP = 2, DS_METRIC_COSINE = 3 } ds_metric;

/* == ds_hnsw:flat == */
/* == ds_hnsw:graph == */
/* == ds_hnsw:io == */

#ifdef __cplusplus
}
#endif
#endif /* DS_HNSW_H_INCLUDED */

#if (defined(DS_IMPLEMENTATION) || defined(DS_HNSW_IMPLEMENTATION)) && !defined(DS_HNSW_IMPLEMENTATION_DONE)
#define DS_HNSW_IMPLEMENTATION_DONE
/* == ds_hnsw:distance == */
/* == ds_hnsw:flat == */
/* == ds_hnsw:graph == */
/* == ds_hnsw:io == */
#endif
