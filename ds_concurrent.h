/* ds_concurrent.h - thread-safe structures for ds (C11 atomics, pthreads)   v0.1.0
 *
 * STATUS: shell. This header fixes the option block, the section layout and
 * the contract that the concurrency work (issue "ds_concurrent.h") fills in;
 * it declares no functions yet.
 *
 * Needs ds.h (included below), C11 and pthreads. ds.h users who do not
 * include this header never need either. In exactly one file:
 *
 *     #define DS_IMPLEMENTATION        (or DS_CONCURRENT_IMPLEMENTATION)
 *     #include "ds_concurrent.h"
 *
 * TABLE OF CONTENTS (tags mark banners in both halves)
 *   ds_conc:options   option macros
 *   ds_conc:spsc      DS_SPSC(name, T): bounded lock-free SPSC ring (planned)
 *   ds_conc:mpmc      DS_MPMC(name, T): bounded MPMC queue, Vyukov (planned)
 *   ds_conc:pool      ds_pool: worker pool with backpressure (planned)
 *   ds_conc:cmap      DS_CMAP: sharded concurrent map (planned)
 *   ds_conc:wrappers  locked LRU, waitable time store, blocking limiter,
 *                     thread-safe breaker (planned)
 *
 * OPTIONS
 *   Allocation, assertions and linkage follow ds.h (DS_MALLOC..., DSDEF).
 *
 * THREAD SAFETY
 *   Every call documents what it may run alongside. Shared containers hand
 *   out copies, never pointers into shared storage; blocking calls have
 *   timeouts (DS_ETIMEDOUT) and observe closing (DS_ECLOSED).
 */
#ifndef DS_CONCURRENT_H_INCLUDED
#define DS_CONCURRENT_H_INCLUDED

#include "ds.h"

/* == ds_conc:options == */
#define DS_CONCURRENT_VERSION_MAJOR 0
#define DS_CONCURRENT_VERSION_MINOR 1
#define DS_CONCURRENT_VERSION_PATCH 0

#if !defined(__cplusplus) && (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#error "ds_concurrent.h needs C11 (atomics): compile with -std=c11 or later"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* == ds_conc:spsc == */
/* == ds_conc:mpmc == */
/* == ds_conc:pool == */
/* == ds_conc:cmap == */
/* == ds_conc:wrappers == */

#ifdef __cplusplus
}
#endif
#endif /* DS_CONCURRENT_H_INCLUDED */

#if (defined(DS_IMPLEMENTATION) || defined(DS_CONCURRENT_IMPLEMENTATION)) && !defined(DS_CONCURRENT_IMPLEMENTATION_DONE)
#define DS_CONCURRENT_IMPLEMENTATION_DONE
/* == ds_conc:spsc == */
#endif
