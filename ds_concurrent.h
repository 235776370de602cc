/* ds_concurrent.h - thread-safe structures for ds (C11 atomics, pthreads)   v0.1.0
 *
 * STATUS: the rings (SPSC, MPMC) and the worker pool are in; the sharded map
 * and the thread-safe wrappers are planned (their banners are placeholders).
 *
 * Needs ds.h (included below), C11 (or C++11: <atomic> stands in for
 * <stdatomic.h>) and pthreads; link with -pthread. ds.h users who do not
 * include this header never need either. In exactly one file:
 *
 *     #define DS_IMPLEMENTATION        (or DS_CONCURRENT_IMPLEMENTATION)
 *     #include "ds_concurrent.h"
 *
 * QUICK START
 *     #include "ds_concurrent.h"
 *     DS_SPSC(jobq, struct job)               // or DS_MPMC(jobq, struct job)
 *
 *     jobq q;
 *     if (jobq_init(&q, 1024) != DS_OK) { ... }      // DS_ENOMEM, DS_EINVAL
 *     producer:  jobq_push(&q, j); ... jobq_close(&q);   // push blocks when full
 *     consumer:  while (jobq_pop(&q, &j) == DS_OK) use(j); // then DS_ECLOSED
 *     jobq_free(&q);                          // after both threads are done
 *
 * TABLE OF CONTENTS (tags mark banners in both halves)
 *   ds_conc:options   option macros, atomics shim, the sleep/wake primitive
 *   ds_conc:spsc      DS_SPSC(name, T): bounded lock-free SPSC ring
 *   ds_conc:mpmc      DS_MPMC(name, T): bounded MPMC queue (Vyukov)
 *   ds_conc:pool      ds_pool: worker pool with backpressure, cancel, metrics
 *   ds_conc:cmap      DS_CMAP: sharded concurrent map (planned)
 *   ds_conc:wrappers  locked LRU, waitable time store, blocking limiter,
 *                     thread-safe breaker (planned)
 *
 * OPTIONS
 *   Allocation, assertions and linkage follow ds.h (DS_MALLOC..., DSDEF).
 *   DS_CONC_NO_FUTEX    sleep on a pthread mutex + condition variable even
 *                       on Linux (the default there is futex(2) through
 *                       syscall(SYS_futex); elsewhere always the condvar).
 *   DS_CONC_CACHELINE   bytes kept between fields that different threads
 *                       write; default 64.
 *   DS_CONC_SPIN        polls a blocking call (or an idle pool worker)
 *                       makes before it sleeps; default 64.
 *
 * TIMEOUTS
 *   *_timeout calls take a RELATIVE timeout in nanoseconds (int64_t) from
 *   the call, measured on ds_now_ns()'s monotonic clock; <= 0 means one
 *   try that reports DS_ETIMEDOUT instead of DS_EFULL / DS_EEMPTY.
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

#ifndef DS_CONC_CACHELINE
#define DS_CONC_CACHELINE 64
#endif
#ifndef DS_CONC_SPIN
#define DS_CONC_SPIN 64
#endif

/* Linux sleeps on a futex word; elsewhere (or with DS_CONC_NO_FUTEX) on a
 * mutex + condition variable. Both wait for the same 32-bit epoch to move. */
#if defined(__linux__) && !defined(DS_CONC_NO_FUTEX)
#define DS__CONC_FUTEX 1
#else
#define DS__CONC_FUTEX 0
#endif
#include <pthread.h> /* the pool's threads and locks; the condvar sleep */

/* The atomics shim: C11 <stdatomic.h>, or std::atomic when compiled as C++
 * (the two have the same layout for the lock-free types used here). Every
 * shared field is declared DS__ATOMIC(T) and touched only through these. */
#ifdef __cplusplus
#include <atomic>
#define DS__ATOMIC(T) std::atomic<T>
#define DS__MO(o) std::memory_order_##o
#define DS__AINIT(p, v) (p)->store((v), std::memory_order_relaxed)
#define DS__ALOAD(p, o) (p)->load(std::memory_order_##o)
#define DS__ASTORE(p, v, o) (p)->store((v), std::memory_order_##o)
#define DS__AADD(p, v, o) (p)->fetch_add((v), std::memory_order_##o)
#define DS__ASUB(p, v, o) (p)->fetch_sub((v), std::memory_order_##o)
#define DS__AOR(p, v, o) (p)->fetch_or((v), std::memory_order_##o)
#define DS__ACAS_WEAK(p, expp, v) \
    (p)->compare_exchange_weak(*(expp), (v), std::memory_order_relaxed, std::memory_order_relaxed)
#else
#include <stdatomic.h>
#define DS__ATOMIC(T) _Atomic(T)
#define DS__AINIT(p, v) atomic_init((p), (v))
#define DS__ALOAD(p, o) atomic_load_explicit((p), memory_order_##o)
#define DS__ASTORE(p, v, o) atomic_store_explicit((p), (v), memory_order_##o)
#define DS__AADD(p, v, o) atomic_fetch_add_explicit((p), (v), memory_order_##o)
#define DS__ASUB(p, v, o) atomic_fetch_sub_explicit((p), (v), memory_order_##o)
#define DS__AOR(p, v, o) atomic_fetch_or_explicit((p), (v), memory_order_##o)
#define DS__ACAS_WEAK(p, expp, v) \
    atomic_compare_exchange_weak_explicit((p), (expp), (v), memory_order_relaxed, memory_order_relaxed)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * The sleep/wake primitive (part of ds_conc:options)
 * ========================================================================
 * A wait queue that carries no predicate: an epoch counter plus a count of
 * sleepers. The protocol (an eventcount, as in Vyukov's and folly's):
 *   waiter:  e = ds__waitq_prepare(w)   reads the epoch, announces itself
 *            re-check the condition     (full/empty); if it changed: cancel
 *            ds__waitq_wait(w, e, dl)   sleeps while the epoch is still e
 *   waker:   publish the change, then ds__waitq_notify(w, all)
 * prepare and notify are both read-modify-writes of `waiters` (acq_rel), and
 * RMWs of one atomic are totally ordered: if the waker's comes second it
 * reads the sleeper's announcement (and moves the epoch, which fails or ends
 * the sleeper's futex/condvar wait); if it comes first the sleeper's RMW
 * synchronizes with it, so the sleeper's re-check sees the change. No lost
 * wake-up, and no thread fence (which ThreadSanitizer cannot model). A
 * notify with nobody asleep costs one uncontended locked add: each ring
 * keeps the queue it notifies on the notifier's own cache line. */
typedef struct ds__waitq {
    DS__ATOMIC(uint32_t) epoch;
    DS__ATOMIC(uint32_t) waiters;
#if !DS__CONC_FUTEX
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
} ds__waitq;

DSDEF ds_status ds__waitq_init(ds__waitq *w);
DSDEF void ds__waitq_destroy(ds__waitq *w);
/* Wakes one sleeper (all = 0) or all of them; the slow half of notify. */
DSDEF void ds__waitq_wake(ds__waitq *w, int all);
/* Sleeps until the epoch leaves e, a spurious wake-up, or the absolute
 * ds_now_ns() deadline (INT64_MAX: none); drops the announcement. Returns
 * nonzero once the deadline has passed. */
DSDEF int ds__waitq_wait(ds__waitq *w, uint32_t e, int64_t deadline);
/* The same sleep, leaving `waiters` alone: for a protocol whose waker
 * takes the announcement off (ds_conc:pool's, one wake per announcement). */
DSDEF int ds__waitq_sleep(ds__waitq *w, uint32_t e, int64_t deadline);
/* ds_now_ns() + timeout_ns, saturated to INT64_MAX. */
DSDEF int64_t ds__conc_deadline(int64_t timeout_ns);

static inline uint32_t ds__waitq_prepare(ds__waitq *w) {
    uint32_t e = DS__ALOAD(&w->epoch, acquire);
    DS__AADD(&w->waiters, 1u, acq_rel);
    return e;
}
static inline void ds__waitq_cancel(ds__waitq *w) { DS__ASUB(&w->waiters, 1u, relaxed); }
static inline void ds__waitq_notify(ds__waitq *w, int all) {
    if (DS__UNLIKELY(DS__AADD(&w->waiters, 0u, acq_rel) != 0)) ds__waitq_wake(w, all);
}
static inline void ds__cpu_relax(void) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_ia32_pause();
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* The blocking loop shared by every ring: poll TRY a few times, then sleep
 * on WQ until it is notified, re-trying each time. BUSY is the status that
 * means "would block" (DS_EFULL or DS_EEMPTY); the deadline passing turns it
 * into DS_ETIMEDOUT. A macro so TRY is the typed, inlined call. */
#define DS__CONC_BLOCK(TRY, BUSY, WQ, deadline)                                  \
    do {                                                                         \
        ds_status s_ = (TRY);                                                    \
        int spin_;                                                               \
        for (spin_ = 0; s_ == (BUSY) && spin_ < DS_CONC_SPIN; spin_++) {         \
            ds__cpu_relax();                                                     \
            s_ = (TRY);                                                          \
        }                                                                        \
        while (s_ == (BUSY)) {                                                   \
            uint32_t e_ = ds__waitq_prepare(WQ);                                 \
            s_ = (TRY);                                                          \
            if (s_ != (BUSY)) {                                                  \
                ds__waitq_cancel(WQ);                                            \
                break;                                                           \
            }                                                                    \
            if (ds__waitq_wait((WQ), e_, (deadline))) {                          \
                s_ = (TRY);                                                      \
                if (s_ == (BUSY)) s_ = DS_ETIMEDOUT;                             \
            } else {                                                             \
                s_ = (TRY);                                                      \
            }                                                                    \
        }                                                                        \
        return s_;                                                               \
    } while (0)

/* The blocking and timed calls of a ring, the same for SPSC and MPMC: its
 * try_push/try_pop under DS__CONC_BLOCK on its not_full/not_empty queues. */
#define DS__CONC_BLOCKING_CALLS(name, T, LINK)                                           \
    static inline ds_status name##__push_until(name *q, T x, int64_t deadline) {         \
        DS__CONC_BLOCK(name##_try_push(q, x), DS_EFULL, &q->not_full, deadline);         \
    }                                                                                    \
    static inline ds_status name##__pop_until(name *q, T *out, int64_t deadline) {       \
        DS__CONC_BLOCK(name##_try_pop(q, out), DS_EEMPTY, &q->not_empty, deadline);      \
    }                                                                                    \
    LINK ds_status name##_push(name *q, T x) { return name##__push_until(q, x, INT64_MAX); } \
    LINK ds_status name##_pop(name *q, T *out) { return name##__pop_until(q, out, INT64_MAX); } \
    LINK ds_status name##_push_timeout(name *q, T x, int64_t timeout_ns) {               \
        return name##__push_until(q, x, ds__conc_deadline(timeout_ns));                  \
    }                                                                                    \
    LINK ds_status name##_pop_timeout(name *q, T *out, int64_t timeout_ns) {             \
        return name##__pop_until(q, out, ds__conc_deadline(timeout_ns));                 \
    }

/* ========================================================================
 * == ds_conc:spsc ==  DS_SPSC(name, T): bounded lock-free SPSC ring
 * ========================================================================
 * One producer thread, one consumer thread, a power-of-two array of T.
 * The producer owns `tail`, the consumer owns `head` (free-running counters,
 * each on its own cache line); each side keeps a private copy of the
 * other's counter and re-reads the shared one only when its copy says
 * full/empty, so in steady state a push or pop touches no line the other
 * side writes except the slot itself (the cached-index scheme of
 * Rigtorp's SPSCQueue, folly's ProducerConsumerQueue and Lamport's ring).
 *
 *   ds_status name_init(name *q, size_t capacity)       capacity rounded up
 *   ds_status name_init_alloc(name *q, size_t capacity, const ds_alloc *a)
 *          to a power of two; DS_EINVAL (0, too large), DS_ENOMEM
 *   void      name_free(name *q)            after both threads are done
 *   size_t    name_capacity(const name *q)
 *   size_t    name_len(const name *q)       a snapshot: exact only when
 *                                           neither side is running
 *   ds_status name_try_push(name *q, T x)   DS_EFULL, DS_ECLOSED
 *   ds_status name_try_pop(name *q, T *out) DS_EEMPTY, DS_ECLOSED (closed
 *                                           and drained); out may be NULL
 *   ds_status name_push_n(name *q, const T *xs, size_t n, size_t *done)
 *   ds_status name_pop_n(name *q, T *out, size_t n, size_t *done)
 *          as many as fit / as many as there are, in order, *done of them;
 *          DS_OK when *done > 0 (or n == 0), else DS_EFULL/DS_EEMPTY or
 *          DS_ECLOSED. One release store and one notify per batch.
 *   ds_status name_push(name *q, T x)       blocks while full (sleeps after
 *   ds_status name_pop(name *q, T *out)     DS_CONC_SPIN polls): DS_OK or
 *                                           DS_ECLOSED
 *   ds_status name_push_timeout(name *q, T x, int64_t timeout_ns)
 *   ds_status name_pop_timeout(name *q, T *out, int64_t timeout_ns)
 *          as push/pop, DS_ETIMEDOUT when the relative timeout expires
 *   void      name_close(name *q)           later pushes get DS_ECLOSED;
 *          pops drain what is queued, then get DS_ECLOSED; wakes sleepers
 *   int       name_is_closed(const name *q)
 *
 * Thread safety: push-side calls (try_push, push_n, push, push_timeout)
 * from one thread at a time, pop-side calls from one (other) thread at a
 * time; len, capacity, is_closed and close from anywhere. Drain is exact
 * when the producer closes (after its last push) - the usual end of
 * stream. When another thread closes while a push runs, that push may
 * succeed after the consumer has already seen DS_ECLOSED (that item is then
 * only released by free): use close from the consumer to say "stop".
 * Memory order: a slot is written before the release store of tail that
 * publishes it and read after the acquire load that sees it (and the same
 * for head, handing the slot back); no locks; the one locked instruction
 * per call (per batch) is notify's check for a sleeper, on a line the
 * caller already owns.
 * Complexity: O(1) per item, no allocation after init. */

#define DS__SPSC_TYPES(name, T)                                                   \
    typedef struct name {                                                         \
        DS__ATOMIC(size_t) tail; /* producer's line: written per push */          \
        size_t head_cache;       /* producer-private copy of head */             \
        ds__waitq not_empty;     /* the producer notifies it per push */         \
        char pad0_[DS_CONC_CACHELINE];                                            \
        DS__ATOMIC(size_t) head; /* consumer's line: written per pop */           \
        size_t tail_cache;       /* consumer-private copy of tail */             \
        ds__waitq not_full;      /* the consumer notifies it per pop */          \
        char pad1_[DS_CONC_CACHELINE];                                            \
        T *buf; /* read-only after init */                                       \
        size_t mask;                                                              \
        const ds_alloc *alloc;                                                    \
        DS__ATOMIC(uint32_t) closed;                                              \
    } name

#define DS__SPSC_PROTOS(name, T, LINK)                                                    \
    LINK ds_status name##_init_alloc(name *q, size_t capacity, const ds_alloc *a);       \
    LINK ds_status name##_init(name *q, size_t capacity);                                \
    LINK void name##_free(name *q);                                                      \
    LINK size_t name##_capacity(const name *q);                                          \
    LINK size_t name##_len(const name *q);                                               \
    LINK ds_status name##_try_push(name *q, T x);                                        \
    LINK ds_status name##_try_pop(name *q, T *out);                                      \
    LINK ds_status name##_push_n(name *q, const T *xs, size_t n, size_t *done);          \
    LINK ds_status name##_pop_n(name *q, T *out, size_t n, size_t *done);                \
    LINK ds_status name##_push(name *q, T x);                                            \
    LINK ds_status name##_pop(name *q, T *out);                                          \
    LINK ds_status name##_push_timeout(name *q, T x, int64_t timeout_ns);                \
    LINK ds_status name##_pop_timeout(name *q, T *out, int64_t timeout_ns);              \
    LINK void name##_close(name *q);                                                     \
    LINK int name##_is_closed(const name *q)

/* Type-independent parts: sizing, setup and teardown. */
DSDEF ds_status ds__ring_alloc(void **buf, size_t *mask, size_t capacity, size_t esz,
                               const ds_alloc *a);
DSDEF ds_status ds__ring_waitqs_init(ds__waitq *w1, ds__waitq *w2);

#define DS__SPSC_IMPL(name, T, LINK)                                                      \
    LINK ds_status name##_init_alloc(name *q, size_t capacity, const ds_alloc *a) {      \
        void *b = NULL;                                                                  \
        size_t mask = 0;                                                                 \
        ds_status s;                                                                     \
        if (DS__UNLIKELY(!q)) return DS_EINVAL;                                          \
        s = ds__ring_alloc(&b, &mask, capacity, sizeof(T), a);                           \
        if (s != DS_OK) return s;                                                        \
        s = ds__ring_waitqs_init(&q->not_empty, &q->not_full);                           \
        if (s != DS_OK) {                                                                \
            DS_FREE(a, b, (mask + 1) * sizeof(T));                                       \
            return s;                                                                    \
        }                                                                                \
        DS__AINIT(&q->tail, (size_t)0);                                                  \
        DS__AINIT(&q->head, (size_t)0);                                                  \
        DS__AINIT(&q->closed, 0u);                                                       \
        q->head_cache = q->tail_cache = 0;                                               \
        q->buf = (T *)b;                                                                 \
        q->mask = mask;                                                                  \
        q->alloc = a;                                                                    \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_init(name *q, size_t capacity) {                               \
        return name##_init_alloc(q, capacity, NULL);                                     \
    }                                                                                    \
    LINK void name##_free(name *q) {                                                     \
        if (DS__UNLIKELY(!q || !q->buf)) return;                                         \
        DS_FREE(q->alloc, q->buf, (q->mask + 1) * sizeof(T));                           \
        ds__waitq_destroy(&q->not_empty);                                                \
        ds__waitq_destroy(&q->not_full);                                                 \
        q->buf = NULL;                                                                   \
        q->mask = 0;                                                                     \
    }                                                                                    \
    LINK size_t name##_capacity(const name *q) { return q && q->buf ? q->mask + 1 : 0; } \
    LINK size_t name##_len(const name *q) {                                              \
        size_t h, t;                                                                     \
        if (DS__UNLIKELY(!q || !q->buf)) return 0;                                       \
        h = DS__ALOAD(&q->head, acquire);                                                \
        t = DS__ALOAD(&q->tail, acquire);                                                \
        return t - h > q->mask + 1 ? 0 : t - h; /* head read first: t >= h */           \
    }                                                                                    \
    LINK int name##_is_closed(const name *q) {                                           \
        return q && DS__ALOAD(&q->closed, acquire) != 0;                                 \
    }                                                                                    \
    LINK void name##_close(name *q) {                                                    \
        if (DS__UNLIKELY(!q || !q->buf)) return;                                         \
        DS__ASTORE(&q->closed, 1u, release);                                             \
        ds__waitq_notify(&q->not_empty, 1);                                              \
        ds__waitq_notify(&q->not_full, 1);                                               \
    }                                                                                    \
    /* Free slots the producer may fill, refreshing its copy of head if the  \
     * copy says fewer than want. */                                                     \
    static inline size_t name##__room(name *q, size_t t, size_t want) {                  \
        size_t room = q->mask + 1 - (t - q->head_cache);                                 \
        if (room < want) {                                                               \
            q->head_cache = DS__ALOAD(&q->head, acquire);                                \
            room = q->mask + 1 - (t - q->head_cache);                                    \
        }                                                                                \
        return room;                                                                     \
    }                                                                                    \
    /* Items the consumer may take; after seeing none it checks closed and   \
     * then tail once more, so pushes finished before close are drained.    \
     * Sets *closed when the ring is closed and empty. */                               \
    static inline size_t name##__avail(name *q, size_t h, int *closed) {                 \
        if (q->tail_cache == h) {                                                        \
            q->tail_cache = DS__ALOAD(&q->tail, acquire);                                \
            if (q->tail_cache == h) {                                                    \
                if (!DS__ALOAD(&q->closed, acquire)) return 0;                           \
                q->tail_cache = DS__ALOAD(&q->tail, acquire);                            \
                *closed = q->tail_cache == h;                                            \
            }                                                                            \
        }                                                                                \
        return q->tail_cache - h;                                                        \
    }                                                                                    \
    LINK ds_status name##_try_push(name *q, T x) {                                       \
        size_t t;                                                                        \
        if (DS__UNLIKELY(!q || !q->buf)) return DS_EINVAL;                               \
        if (DS__UNLIKELY(DS__ALOAD(&q->closed, relaxed))) return DS_ECLOSED;             \
        t = DS__ALOAD(&q->tail, relaxed);                                                \
        if (DS__UNLIKELY(name##__room(q, t, 1) == 0)) return DS_EFULL;                   \
        q->buf[t & q->mask] = x;                                                         \
        DS__ASTORE(&q->tail, t + 1, release);                                            \
        ds__waitq_notify(&q->not_empty, 0);                                              \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_try_pop(name *q, T *out) {                                     \
        size_t h;                                                                        \
        int closed = 0;                                                                  \
        if (DS__UNLIKELY(!q || !q->buf)) return DS_EINVAL;                               \
        h = DS__ALOAD(&q->head, relaxed);                                                \
        if (DS__UNLIKELY(name##__avail(q, h, &closed) == 0))                             \
            return closed ? DS_ECLOSED : DS_EEMPTY;                                      \
        if (out) *out = q->buf[h & q->mask];                                             \
        DS__ASTORE(&q->head, h + 1, release);                                            \
        ds__waitq_notify(&q->not_full, 0);                                               \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_push_n(name *q, const T *xs, size_t n, size_t *done) {         \
        size_t t, k, i;                                                                  \
        if (done) *done = 0;                                                             \
        if (DS__UNLIKELY(!q || !q->buf || (!xs && n))) return DS_EINVAL;                 \
        if (DS__UNLIKELY(DS__ALOAD(&q->closed, relaxed))) return DS_ECLOSED;             \
        if (n == 0) return DS_OK;                                                        \
        t = DS__ALOAD(&q->tail, relaxed);                                                \
        k = name##__room(q, t, n);                                                       \
        if (k == 0) return DS_EFULL;                                                     \
        if (k > n) k = n;                                                                \
        for (i = 0; i < k; i++) q->buf[(t + i) & q->mask] = xs[i];                       \
        DS__ASTORE(&q->tail, t + k, release);                                            \
        ds__waitq_notify(&q->not_empty, 0);                                              \
        if (done) *done = k;                                                             \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_pop_n(name *q, T *out, size_t n, size_t *done) {               \
        size_t h, k, i;                                                                  \
        int closed = 0;                                                                  \
        if (done) *done = 0;                                                             \
        if (DS__UNLIKELY(!q || !q->buf || (!out && n))) return DS_EINVAL;                \
        if (n == 0) return DS_OK;                                                        \
        h = DS__ALOAD(&q->head, relaxed);                                                \
        k = name##__avail(q, h, &closed);                                                \
        if (k < n && !closed) { /* the cached tail may be stale: one refresh */         \
            q->tail_cache = DS__ALOAD(&q->tail, acquire);                                \
            k = q->tail_cache - h;                                                       \
        }                                                                                \
        if (k == 0) return closed ? DS_ECLOSED : DS_EEMPTY;                              \
        if (k > n) k = n;                                                                \
        for (i = 0; i < k; i++) out[i] = q->buf[(h + i) & q->mask];                      \
        DS__ASTORE(&q->head, h + k, release);                                            \
        ds__waitq_notify(&q->not_full, 0);                                               \
        if (done) *done = k;                                                             \
        return DS_OK;                                                                    \
    }                                                                                    \
    DS__CONC_BLOCKING_CALLS(name, T, LINK)

#define DS_SPSC_DECLARE(name, T) \
    DS__SPSC_TYPES(name, T);     \
    DS__SPSC_PROTOS(name, T, extern);
#define DS_SPSC_DEFINE(name, T) DS__SPSC_IMPL(name, T, )
#define DS_SPSC(name, T)                       \
    DS__SPSC_TYPES(name, T);                   \
    DS__SPSC_PROTOS(name, T, DS__LINK_STATIC); \
    DS__SPSC_IMPL(name, T, DS__LINK_STATIC)

/* ========================================================================
 * == ds_conc:mpmc ==  DS_MPMC(name, T): bounded MPMC queue
 * ========================================================================
 * Any number of producers and consumers; FIFO in the order positions are
 * claimed. Dmitry Vyukov's bounded MPMC queue (1024cores.net, "Bounded
 * MPMC queue"): a power-of-two array of cells, each with a sequence number
 * that says whose turn the cell is: seq == pos means free for the producer
 * that claims position pos, seq == pos + 1 means full for the consumer of
 * pos. A producer claims a position by CAS on the enqueue counter, writes
 * the cell and publishes it with a release store of seq; consumers mirror
 * this on the dequeue counter. One CAS per operation, no lock; a stalled
 * thread between its CAS and its publish holds up only the consumer (or
 * producer) of that one cell.
 * Closing sets the top bit of the enqueue counter (fetch_or), so every
 * producer's CAS either landed before close (its item will be delivered) or
 * fails and sees the bit (DS_ECLOSED): drain is exact from any thread.
 * Positions are 63-bit, so they never wrap in practice.
 *
 *   ds_status name_init(name *q, size_t capacity)     rounded up to a power
 *   ds_status name_init_alloc(name *q, size_t capacity, const ds_alloc *a)
 *          of two (at least 2); DS_EINVAL (0, too large), DS_ENOMEM
 *   void      name_free(name *q)             after every thread is done
 *   size_t    name_capacity(const name *q)
 *   size_t    name_len(const name *q)        a snapshot (claimed, not yet
 *                                            taken), at most capacity
 *   ds_status name_try_push(name *q, T x)    DS_EFULL, DS_ECLOSED
 *   ds_status name_try_pop(name *q, T *out)  DS_EEMPTY (also while a claimed
 *                                            item is still being written),
 *                                            DS_ECLOSED once closed and drained
 *   ds_status name_push(name *q, T x)        block while full: DS_OK/DS_ECLOSED
 *   ds_status name_pop(name *q, T *out)      block while empty: DS_OK/DS_ECLOSED
 *   ds_status name_push_timeout(name *q, T x, int64_t timeout_ns)
 *   ds_status name_pop_timeout(name *q, T *out, int64_t timeout_ns)
 *          DS_ETIMEDOUT when the relative timeout expires
 *   void      name_close(name *q)            from any thread; wakes everyone
 *   int       name_is_closed(const name *q)
 *
 * Thread safety: every call but init/free from any number of threads.
 * Memory order: the cell's seq is the only synchronisation for its value
 * (release on publish, acquire on claim); the counters' CAS is relaxed.
 * Blocking calls spin DS_CONC_SPIN polls, then sleep; a push wakes one
 * sleeping consumer, a pop one sleeping producer, close all of them.
 * Complexity: O(1) per item plus CAS retries under contention. */

#define DS__MPMC_CLOSED ((uint64_t)1 << 63)

#define DS__MPMC_TYPES(name, T)                                                   \
    typedef struct name##_cell {                                                  \
        DS__ATOMIC(uint64_t) seq;                                                 \
        T val;                                                                    \
    } name##_cell;                                                                \
    typedef struct name {                                                         \
        DS__ATOMIC(uint64_t) enq; /* producers' counter | DS__MPMC_CLOSED */      \
        ds__waitq not_empty;      /* notified per push: on the producers' line */ \
        char pad0_[DS_CONC_CACHELINE];                                            \
        DS__ATOMIC(uint64_t) deq; /* consumers' counter */                        \
        ds__waitq not_full;       /* notified per pop */                          \
        char pad1_[DS_CONC_CACHELINE];                                            \
        name##_cell *cells; /* read-only after init */                           \
        size_t mask;                                                              \
        const ds_alloc *alloc;                                                    \
    } name

#define DS__MPMC_PROTOS(name, T, LINK)                                                    \
    LINK ds_status name##_init_alloc(name *q, size_t capacity, const ds_alloc *a);       \
    LINK ds_status name##_init(name *q, size_t capacity);                                \
    LINK void name##_free(name *q);                                                      \
    LINK size_t name##_capacity(const name *q);                                          \
    LINK size_t name##_len(const name *q);                                               \
    LINK ds_status name##_try_push(name *q, T x);                                        \
    LINK ds_status name##_try_pop(name *q, T *out);                                      \
    LINK ds_status name##_push(name *q, T x);                                            \
    LINK ds_status name##_pop(name *q, T *out);                                          \
    LINK ds_status name##_push_timeout(name *q, T x, int64_t timeout_ns);                \
    LINK ds_status name##_pop_timeout(name *q, T *out, int64_t timeout_ns);              \
    LINK void name##_close(name *q);                                                     \
    LINK int name##_is_closed(const name *q)

#define DS__MPMC_IMPL(name, T, LINK)                                                      \
    LINK ds_status name##_init_alloc(name *q, size_t capacity, const ds_alloc *a) {      \
        void *b = NULL;                                                                  \
        size_t mask = 0, i;                                                              \
        ds_status s;                                                                     \
        if (DS__UNLIKELY(!q)) return DS_EINVAL;                                          \
        /* One cell would make seq == pos + 1 (full) and the next free turn \
         * (pos + 1) indistinguishable. */                                               \
        s = ds__ring_alloc(&b, &mask, capacity < 2 ? (capacity ? 2 : 0) : capacity,      \
                           sizeof(name##_cell), a);                                      \
        if (s != DS_OK) return s;                                                        \
        s = ds__ring_waitqs_init(&q->not_empty, &q->not_full);                           \
        if (s != DS_OK) {                                                                \
            DS_FREE(a, b, (mask + 1) * sizeof(name##_cell));                             \
            return s;                                                                    \
        }                                                                                \
        q->cells = (name##_cell *)b;                                                     \
        for (i = 0; i <= mask; i++) DS__AINIT(&q->cells[i].seq, (uint64_t)i);            \
        DS__AINIT(&q->enq, (uint64_t)0);                                                 \
        DS__AINIT(&q->deq, (uint64_t)0);                                                 \
        q->mask = mask;                                                                  \
        q->alloc = a;                                                                    \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_init(name *q, size_t capacity) {                               \
        return name##_init_alloc(q, capacity, NULL);                                     \
    }                                                                                    \
    LINK void name##_free(name *q) {                                                     \
        if (DS__UNLIKELY(!q || !q->cells)) return;                                       \
        DS_FREE(q->alloc, q->cells, (q->mask + 1) * sizeof(name##_cell));                \
        ds__waitq_destroy(&q->not_empty);                                                \
        ds__waitq_destroy(&q->not_full);                                                 \
        q->cells = NULL;                                                                 \
        q->mask = 0;                                                                     \
    }                                                                                    \
    LINK size_t name##_capacity(const name *q) { return q && q->cells ? q->mask + 1 : 0; } \
    LINK size_t name##_len(const name *q) {                                              \
        uint64_t d, e;                                                                   \
        if (DS__UNLIKELY(!q || !q->cells)) return 0;                                     \
        d = DS__ALOAD(&q->deq, acquire);                                                 \
        e = DS__ALOAD(&q->enq, acquire) & ~DS__MPMC_CLOSED;                              \
        return e - d > (uint64_t)q->mask + 1 ? 0 : (size_t)(e - d);                      \
    }                                                                                    \
    LINK int name##_is_closed(const name *q) {                                           \
        return q && q->cells && (DS__ALOAD(&q->enq, acquire) & DS__MPMC_CLOSED) != 0;    \
    }                                                                                    \
    LINK void name##_close(name *q) {                                                    \
        if (DS__UNLIKELY(!q || !q->cells)) return;                                       \
        DS__AOR(&q->enq, DS__MPMC_CLOSED, acq_rel);                                      \
        ds__waitq_notify(&q->not_empty, 1);                                              \
        ds__waitq_notify(&q->not_full, 1);                                               \
    }                                                                                    \
    LINK ds_status name##_try_push(name *q, T x) {                                       \
        name##_cell *c;                                                                  \
        uint64_t pos, seq, now;                                                          \
        if (DS__UNLIKELY(!q || !q->cells)) return DS_EINVAL;                             \
        pos = DS__ALOAD(&q->enq, relaxed);                                               \
        for (;;) {                                                                       \
            if (pos & DS__MPMC_CLOSED) return DS_ECLOSED;                                \
            c = &q->cells[pos & q->mask];                                                \
            seq = DS__ALOAD(&c->seq, acquire);                                           \
            if (seq == pos) {                                                            \
                if (DS__ACAS_WEAK(&q->enq, &pos, pos + 1)) break;                        \
            } else if ((int64_t)(seq - pos) < 0) { /* the cell's last item is unread */ \
                now = DS__ALOAD(&q->enq, relaxed);                                       \
                if (now == pos) return DS_EFULL;                                         \
                pos = now;                                                               \
            } else {                                                                     \
                pos = DS__ALOAD(&q->enq, relaxed); /* another producer won pos */        \
            }                                                                            \
        }                                                                                \
        c->val = x;                                                                      \
        DS__ASTORE(&c->seq, pos + 1, release);                                           \
        ds__waitq_notify(&q->not_empty, 0);                                              \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_try_pop(name *q, T *out) {                                     \
        name##_cell *c;                                                                  \
        uint64_t pos, seq, now, e;                                                       \
        if (DS__UNLIKELY(!q || !q->cells)) return DS_EINVAL;                             \
        pos = DS__ALOAD(&q->deq, relaxed);                                               \
        for (;;) {                                                                       \
            c = &q->cells[pos & q->mask];                                                \
            seq = DS__ALOAD(&c->seq, acquire);                                           \
            if (seq == pos + 1) {                                                        \
                if (DS__ACAS_WEAK(&q->deq, &pos, pos + 1)) break;                        \
            } else if ((int64_t)(seq - (pos + 1)) < 0) { /* not written yet */          \
                e = DS__ALOAD(&q->enq, acquire);                                         \
                now = DS__ALOAD(&q->deq, relaxed);                                       \
                if (now != pos) {                                                        \
                    pos = now;                                                           \
                    continue;                                                            \
                }                                                                        \
                /* Closed with every claimed position taken: drained. */                \
                return e == (pos | DS__MPMC_CLOSED) ? DS_ECLOSED : DS_EEMPTY;            \
            } else {                                                                     \
                pos = DS__ALOAD(&q->deq, relaxed); /* another consumer won pos */        \
            }                                                                            \
        }                                                                                \
        if (out) *out = c->val;                                                          \
        DS__ASTORE(&c->seq, pos + q->mask + 1, release);                                 \
        ds__waitq_notify(&q->not_full, 0);                                               \
        return DS_OK;                                                                    \
    }                                                                                    \
    DS__CONC_BLOCKING_CALLS(name, T, LINK)

#define DS_MPMC_DECLARE(name, T) \
    DS__MPMC_TYPES(name, T);     \
    DS__MPMC_PROTOS(name, T, extern);
#define DS_MPMC_DEFINE(name, T) DS__MPMC_IMPL(name, T, )
#define DS_MPMC(name, T)                       \
    DS__MPMC_TYPES(name, T);                   \
    DS__MPMC_PROTOS(name, T, DS__LINK_STATIC); \
    DS__MPMC_IMPL(name, T, DS__LINK_STATIC)

/* ========================================================================
 * == ds_conc:pool ==  ds_pool: worker pool with backpressure
 * ========================================================================
 * N worker threads take tasks from one bounded queue. A task is a function
 * and its argument, with an optional completion callback (run right after
 * the function, on the worker, with its result) and an optional cancel
 * callback (run instead of the function when the pool is cancelled before
 * the task started). When the queue is full, submit sleeps, try_submit says
 * DS_EFULL and submit_timeout gives up after its timeout: at most capacity
 * tasks wait in the queue, and the pool's memory is fixed at init, whatever
 * the producers do.
 *
 * The queue is the bounded MPMC ring of ds_conc:mpmc (Vyukov's cells with
 * sequence numbers; the closed bit on the enqueue counter, so the drain is
 * exact) holding ds_pool_task values in place: no allocation per task.
 * Sleeping uses the eventcount of ds_conc:options with two changes: the
 * waker takes a sleeper's announcement off, so each sleep costs at most one
 * wake-up system call however many submits follow it; and one idle worker
 * at a time polls the queue DS_CONC_SPIN times before sleeping (the others
 * sleep at once) while submits wake nobody, so a busy pool makes no system
 * calls. Submitters sleeping on a full queue are woken by the workers'
 * takes. From a deep queue (workers x 8 tasks or more waiting) a worker
 * takes a run of up to 8 tasks with one CAS and runs them in order (one CAS
 * and one wake check for the run, sequential cells): tiny tasks go through
 * several times faster, and a long task delays at most the 7 taken with it
 * (these count as running, not queued, in the metrics).
 *
 *   ds_status ds_pool_init(ds_pool *p, size_t workers, size_t capacity)
 *   ds_status ds_pool_init_config(ds_pool *p, const ds_pool_config *cfg, const ds_alloc *a)
 *          starts the workers. capacity is rounded up to a power of two
 *          (at least 2; ds_pool_capacity says what it became). DS_EINVAL:
 *          NULL, 0 workers, 0 capacity, sizes out of range (more than
 *          DS_POOL_MAX_WORKERS workers, a capacity or window too large, a
 *          stack size pthreads refuses); DS_ENOMEM: an allocation or a
 *          thread creation failed. On any error the workers already
 *          started are stopped and joined and everything is freed: nothing
 *          leaks, and every call on *p but init returns DS_EINVAL (free is
 *          a no-op).
 *   void   ds_pool_free(ds_pool *p)
 *          shutdown (if neither shutdown nor cancel ran yet), then frees.
 *   ds_status ds_pool_submit(ds_pool *p, const ds_pool_task *t)
 *          queues a copy of *t, sleeping while the queue is full. DS_OK,
 *          DS_ECLOSED (after shutdown/cancel; the task is not run and its
 *          callbacks are not called: it is still the caller's), DS_EINVAL
 *          (NULL, t->fn NULL, pool not initialised)
 *   ds_status ds_pool_try_submit(ds_pool *p, const ds_pool_task *t)
 *          never sleeps: DS_EFULL when the queue is full
 *   ds_status ds_pool_submit_timeout(ds_pool *p, const ds_pool_task *t, int64_t timeout_ns)
 *          sleeps at most timeout_ns (relative, see TIMEOUTS): DS_ETIMEDOUT
 *   ds_status ds_pool_wait_idle(ds_pool *p)
 *   ds_status ds_pool_wait_idle_timeout(ds_pool *p, int64_t timeout_ns)
 *          sleeps until the pool is idle: every task submitted so far has
 *          finished (ran or was cancelled) and none is queued or running
 *          (at one instant: with other threads still submitting it may
 *          return while their new tasks run, or wait as long as they keep
 *          it busy). DS_OK (also once the pool is stopped and drained),
 *          DS_ETIMEDOUT, DS_EINVAL (also when called from one of the pool's
 *          own tasks: it could never be idle while its caller runs).
 *   ds_status ds_pool_shutdown(ds_pool *p)
 *          graceful stop: later submits get DS_ECLOSED, every task queued
 *          before runs, then the workers are joined. DS_OK; again after a
 *          stop it does nothing.
 *   ds_status ds_pool_cancel(ds_pool *p)
 *          stop now: later submits get DS_ECLOSED; tasks still queued (or
 *          taken in a run but not started) are not run: each gets its
 *          cancel callback (on a worker thread) and counts as cancelled,
 *          so none disappears silently; running tasks finish
 *          (ds_pool_cancelled(p) turns 1 for them to check); then the
 *          workers are joined. May follow a shutdown that is still
 *          draining (another thread): what is left is cancelled.
 *   int    ds_pool_cancelled(const ds_pool *p)
 *          1 once cancel was called: the cooperative flag for long tasks
 *   size_t ds_pool_capacity(const ds_pool *p), ds_pool_workers(const ds_pool *p)
 *   void   ds_pool_snapshot(ds_pool *p, ds_pool_metrics *out)
 *          counters and latency quantiles (see ds_pool_metrics)
 *
 * Accounting: every submit that returned DS_OK is, exactly once, either run
 * (fn, then done; counted succeeded when fn returned 0, else failed) or
 * cancelled (its cancel callback; counted cancelled). After shutdown or
 * cancel returns, submitted == succeeded + failed + cancelled.
 *
 * Thread safety: every call but init and free from any thread, at once.
 * From inside one of the pool's own tasks (fn, done or cancel callbacks):
 *   - submit and submit_timeout do not sleep on a full queue: they return
 *     DS_EFULL at once (every worker could be the one waiting for room
 *     only workers make: a deadlock). try_submit as always.
 *   - wait_idle returns DS_EINVAL (it would wait for itself).
 *   - shutdown and cancel only request the stop (close the queue, set the
 *     flag, wake the workers) and return DS_OK without joining: the join is
 *     done by a later shutdown/cancel/free from outside the pool.
 *   - free does nothing (a worker cannot join itself).
 *   - cancelled, capacity, workers and snapshot as anywhere.
 * Tasks of one pool may submit to another pool normally. Tasks run on the
 * workers in queue order (FIFO per queue position) but finish in any order
 * when there are several workers.
 *
 * Complexity: submit and take O(1) (one CAS each, plus retries under
 * contention), no allocation after init; snapshot O(s log w) for the s
 * samples taken since the last one (at most w = latency_window). Memory:
 * capacity x 48 bytes for the queue, about 600 bytes per worker, and about
 * 120 bytes per latency-window sample. */

/* Returned by a task: 0 = succeeded, anything else = failed (passed on to
 * the completion callback as `result`). */
typedef int (*ds_pool_fn)(void *arg);
typedef void (*ds_pool_done_fn)(void *arg, int result);
typedef void (*ds_pool_cancel_fn)(void *arg);

typedef struct ds_pool_task {
    ds_pool_fn fn;            /* required */
    void *arg;                /* passed to all three */
    ds_pool_done_fn done;     /* NULL = none; after fn, same worker */
    ds_pool_cancel_fn cancel; /* NULL = none; instead of fn on cancel */
} ds_pool_task;

#define DS_POOL_MAX_WORKERS 4096

/* Zero means the default, except workers and capacity (required). */
typedef struct ds_pool_config {
    size_t workers;           /* worker threads, 1..DS_POOL_MAX_WORKERS */
    size_t capacity;          /* queue slots; rounded up to a power of two */
    size_t latency_window;    /* samples the p50/p99 are taken over; 0 = 1024 */
    uint32_t sample_every;    /* time one task in this many (rounded up to a
                                 power of two; 1 = every task); 0 = 16 */
    size_t stack_size;        /* worker stack bytes; 0 = the system default */
} ds_pool_config;

/* A snapshot. Each counter is exact as read, but they are read one after
 * another while the pool runs; once it is idle or stopped,
 * submitted == succeeded + failed + cancelled (+ queued + running while it
 * is not). Latencies are nanoseconds over the last latency_window sampled
 * tasks (one in sample_every by queue position: a sample, not every task,
 * unless sample_every is 1), measured with ds_now_ns(); NaN before the
 * first sample. queue_wait: from submit to the start of fn; run: fn plus
 * the completion callback. */
typedef struct ds_pool_metrics {
    uint64_t submitted;       /* submits that returned DS_OK */
    uint64_t rejected;        /* submits refused: DS_EFULL, DS_ETIMEDOUT, DS_ECLOSED */
    uint64_t succeeded;       /* ran, fn returned 0 */
    uint64_t failed;          /* ran, fn returned nonzero */
    uint64_t cancelled;       /* never ran: cancel callback instead */
    uint64_t queued;          /* in the queue now (at most capacity) */
    uint64_t running;         /* taken by a worker, not finished (with a
                                 deep queue: up to 7 more per worker, taken
                                 in one run with the one it runs) */
    size_t queue_high_water;  /* the longest queue seen: measured at sampled
                                 submits, and = capacity once a submit found
                                 it full; never more than capacity */
    size_t capacity, workers;
    size_t latency_samples;   /* samples the quantiles below are over */
    double queue_wait_p50_ns, queue_wait_p99_ns;
    double run_p50_ns, run_p99_ns;
} ds_pool_metrics;

struct ds__pool_cell;
struct ds__pool_worker;

typedef struct ds_pool {
    DS__ATOMIC(uint64_t) enq;     /* submitters' line: next position | closed bit */
    ds__waitq not_empty;          /* workers sleep here; notified per submit */
    char pad0_[DS_CONC_CACHELINE];
    DS__ATOMIC(uint64_t) deq;     /* workers' line: next position to take */
    ds__waitq not_full;           /* submitters sleep here; notified per take */
    char pad1_[DS_CONC_CACHELINE];
    ds__waitq idle;               /* wait_idle sleeps here; workers notify it
                                     when they find the queue empty */
    DS__ATOMIC(uint64_t) high_water;
    DS__ATOMIC(uint64_t) rejected;
    char pad2_[DS_CONC_CACHELINE];
    /* read-only after init (cancel: written once) */
    struct ds__pool_cell *cells;  /* NULL: not initialised */
    size_t mask, nworkers;
    uint64_t sample_mask;
    struct ds__pool_worker **w;
    const ds_alloc *alloc;
    DS__ATOMIC(uint32_t) cancel;
    DS__ATOMIC(uint32_t) closed;  /* mirrors enq's closed bit, for the workers */
    /* the slow paths */
    pthread_mutex_t life_mu;      /* shutdown/cancel/free join once */
    int joined;
    pthread_mutex_t raw_mu;       /* workers append samples to raw[] */
    int64_t *raw;                 /* ring of window (wait, run) pairs */
    uint64_t raw_count;
    pthread_mutex_t win_mu;       /* snapshot: raw -> the windows */
    int64_t *scratch;
    uint64_t raw_drained, win_clock;
    size_t window;
    ds_window wait_win, run_win;
} ds_pool;

DSDEF ds_status ds_pool_init(ds_pool *p, size_t workers, size_t capacity);
DSDEF ds_status ds_pool_init_config(ds_pool *p, const ds_pool_config *cfg, const ds_alloc *a);
DSDEF void ds_pool_free(ds_pool *p);
DSDEF ds_status ds_pool_submit(ds_pool *p, const ds_pool_task *t);
DSDEF ds_status ds_pool_try_submit(ds_pool *p, const ds_pool_task *t);
DSDEF ds_status ds_pool_submit_timeout(ds_pool *p, const ds_pool_task *t, int64_t timeout_ns);
DSDEF ds_status ds_pool_wait_idle(ds_pool *p);
DSDEF ds_status ds_pool_wait_idle_timeout(ds_pool *p, int64_t timeout_ns);
DSDEF ds_status ds_pool_shutdown(ds_pool *p);
DSDEF ds_status ds_pool_cancel(ds_pool *p);
DSDEF int ds_pool_cancelled(const ds_pool *p);
DSDEF size_t ds_pool_capacity(const ds_pool *p);
DSDEF size_t ds_pool_workers(const ds_pool *p);
DSDEF void ds_pool_snapshot(ds_pool *p, ds_pool_metrics *out);

/* == ds_conc:cmap == */
/* == ds_conc:wrappers == */

#ifdef __cplusplus
}
#endif
#endif /* DS_CONCURRENT_H_INCLUDED */

#if (defined(DS_IMPLEMENTATION) || defined(DS_CONCURRENT_IMPLEMENTATION)) && !defined(DS_CONCURRENT_IMPLEMENTATION_DONE)
#define DS_CONCURRENT_IMPLEMENTATION_DONE
/* == ds_conc:options == */

#if DS__CONC_FUTEX
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifndef FUTEX_PRIVATE_FLAG
#define FUTEX_PRIVATE_FLAG 128
#endif
/* syscall() is declared only under _DEFAULT_SOURCE / _GNU_SOURCE, which a
 * strict -std=c11 build does not set; the prototype is the same everywhere. */
#if !defined(__cplusplus) && !defined(__USE_MISC) && !defined(_GNU_SOURCE) && \
    !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
extern long syscall(long number, ...);
#endif

DSDEF ds_status ds__waitq_init(ds__waitq *w) {
    DS__AINIT(&w->epoch, 0u);
    DS__AINIT(&w->waiters, 0u);
    return DS_OK;
}
DSDEF void ds__waitq_destroy(ds__waitq *w) { (void)w; }
DSDEF void ds__waitq_wake(ds__waitq *w, int all) {
    DS__AADD(&w->epoch, 1u, release);
    syscall(SYS_futex, (void *)&w->epoch, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, all ? INT_MAX : 1,
            NULL, NULL, 0);
}
DSDEF int ds__waitq_sleep(ds__waitq *w, uint32_t e, int64_t deadline) {
    struct timespec ts, *tp = NULL;
    int late = 0;
    if (deadline != INT64_MAX) {
        int64_t rel = deadline - ds_now_ns();
        if (rel <= 0) {
            late = 1;
        } else {
            ts.tv_sec = (time_t)(rel / 1000000000);
            ts.tv_nsec = (long)(rel % 1000000000);
            tp = &ts;
        }
    }
    /* Returns at once if the epoch already moved (EAGAIN); EINTR and
     * spurious returns are re-checked by the caller's loop. */
    if (!late)
        syscall(SYS_futex, (void *)&w->epoch, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, e, tp, NULL, 0);
    return late || (deadline != INT64_MAX && ds_now_ns() >= deadline);
}
#else /* the portable fallback: mutex + condition variable */
#include <time.h>

DSDEF ds_status ds__waitq_init(ds__waitq *w) {
    DS__AINIT(&w->epoch, 0u);
    DS__AINIT(&w->waiters, 0u);
    if (pthread_mutex_init(&w->mu, NULL) != 0) return DS_ENOMEM;
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        return DS_ENOMEM;
    }
    return DS_OK;
}
DSDEF void ds__waitq_destroy(ds__waitq *w) {
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}
DSDEF void ds__waitq_wake(ds__waitq *w, int all) {
    pthread_mutex_lock(&w->mu); /* a sleeper is either before its check or in the wait */
    DS__AADD(&w->epoch, 1u, release);
    if (all) pthread_cond_broadcast(&w->cv);
    else pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}
DSDEF int ds__waitq_sleep(ds__waitq *w, uint32_t e, int64_t deadline) {
    int late = 0;
    pthread_mutex_lock(&w->mu);
    if (DS__ALOAD(&w->epoch, acquire) == e) {
        if (deadline == INT64_MAX) {
            pthread_cond_wait(&w->cv, &w->mu);
        } else {
            /* pthread_cond_timedwait reads CLOCK_REALTIME: convert the
             * monotonic deadline into it. */
            int64_t rel = deadline - ds_now_ns();
            if (rel <= 0) {
                late = 1;
            } else {
                int64_t abs = ds_wall_ns() + rel;
                struct timespec ts;
                ts.tv_sec = (time_t)(abs / 1000000000);
                ts.tv_nsec = (long)(abs % 1000000000);
                pthread_cond_timedwait(&w->cv, &w->mu, &ts);
            }
        }
    }
    pthread_mutex_unlock(&w->mu);
    return late || (deadline != INT64_MAX && ds_now_ns() >= deadline);
}
#endif

DSDEF int ds__waitq_wait(ds__waitq *w, uint32_t e, int64_t deadline) {
    int late = ds__waitq_sleep(w, e, deadline);
    DS__ASUB(&w->waiters, 1u, relaxed);
    return late;
}

DSDEF int64_t ds__conc_deadline(int64_t timeout_ns) {
    int64_t now = ds_now_ns();
    if (timeout_ns <= 0) return now;
    return timeout_ns > INT64_MAX - now ? INT64_MAX - 1 : now + timeout_ns;
}

/* == ds_conc:spsc == */

DSDEF ds_status ds__ring_alloc(void **buf, size_t *mask, size_t capacity, size_t esz,
                               const ds_alloc *a) {
    size_t cap, bytes;
    if (capacity == 0 || capacity > SIZE_MAX / 2) return DS_EINVAL;
    cap = ds__pow2_ceil(capacity);
    if (cap == 0 || !ds_size_mul(cap, esz, &bytes)) return DS_EINVAL;
    *buf = DS_MALLOC(a, bytes);
    if (!*buf) return DS_ENOMEM;
    *mask = cap - 1;
    return DS_OK;
}
DSDEF ds_status ds__ring_waitqs_init(ds__waitq *w1, ds__waitq *w2) {
    if (ds__waitq_init(w1) != DS_OK) return DS_ENOMEM;
    if (ds__waitq_init(w2) != DS_OK) {
        ds__waitq_destroy(w1);
        return DS_ENOMEM;
    }
    return DS_OK;
}

/* == ds_conc:mpmc == */
/* (all generated by DS_MPMC; the shared parts are above) */
/* == ds_conc:pool == */
#include <math.h> /* NAN */

/* A queue cell: the ds_conc:mpmc layout with the task in place. t_enq is
 * written only for sampled positions. */
struct ds__pool_cell {
    DS__ATOMIC(uint64_t) seq;
    ds_pool_task task;
    int64_t t_enq;
};

#define DS__POOL_SAMPLES 32 /* a worker's latency samples between flushes */

/* A worker. Its counters are written by it alone (load + store, no locked
 * instruction) and read by snapshot and wait_idle. */
struct ds__pool_worker {
    DS__ATOMIC(uint64_t) succeeded;
    DS__ATOMIC(uint64_t) failed;
    DS__ATOMIC(uint64_t) cancelled;
    char pad_[DS_CONC_CACHELINE];
    ds_pool *pool;
    pthread_t tid;
    size_t nsamp;
    int64_t samp[2 * DS__POOL_SAMPLES];
};

/* The pool whose task the current thread is running (NULL elsewhere): the
 * calls that would deadlock from inside a task check it. */
#ifdef __cplusplus
static thread_local ds_pool *ds__pool_self = NULL;
#else
static _Thread_local ds_pool *ds__pool_self = NULL;
#endif

typedef struct ds__pool_job {
    ds_pool_task task;
    int64_t t_enq;
    uint64_t pos;
} ds__pool_job;

static void ds__pool_count(DS__ATOMIC(uint64_t) *c) {
    DS__ASTORE(c, DS__ALOAD(c, relaxed) + 1, release);
}
/* high_water = max(high_water, len): a CAS loop that only writes when the
 * mark grows. */
static void ds__pool_note_len(ds_pool *p, uint64_t len) {
    uint64_t h = DS__ALOAD(&p->high_water, relaxed);
    while (len > h && !DS__ACAS_WEAK(&p->high_water, &h, len)) {
    }
}

static void ds__pool_wake_one(ds__waitq *w);
static void ds__pool_wake_all(ds__waitq *w);

static ds_status ds__pool_try_push(ds_pool *p, const ds_pool_task *t) {
    struct ds__pool_cell *c;
    uint64_t pos = DS__ALOAD(&p->enq, relaxed), seq, now;
    for (;;) {
        if (pos & DS__MPMC_CLOSED) return DS_ECLOSED;
        c = &p->cells[pos & p->mask];
        seq = DS__ALOAD(&c->seq, acquire);
        if (seq == pos) {
            if (DS__ACAS_WEAK(&p->enq, &pos, pos + 1)) break;
        } else if ((int64_t)(seq - pos) < 0) { /* the cell's last task is not taken */
            now = DS__ALOAD(&p->enq, relaxed);
            if (now == pos) {
                if (DS__ALOAD(&p->high_water, relaxed) <= p->mask) ds__pool_note_len(p, p->mask + 1);
                return DS_EFULL;
            }
            pos = now;
        } else {
            pos = DS__ALOAD(&p->enq, relaxed); /* another submitter won pos */
        }
    }
    c->task = *t;
    if (DS__UNLIKELY((pos & p->sample_mask) == 0)) {
        /* No worker takes pos before it is published, so deq <= pos and
         * the length including this task is in [1, capacity]. */
        c->t_enq = ds_now_ns();
        ds__pool_note_len(p, pos + 1 - DS__ALOAD(&p->deq, acquire));
    }
    DS__ASTORE(&c->seq, pos + 1, release);
    ds__pool_wake_one(&p->not_empty);
    return DS_OK;
}

#define DS__POOL_BATCH 8
/* Position q is published (a task waits in its cell). */
static int ds__pool_ready(const ds_pool *p, uint64_t q) {
    return DS__ALOAD(&p->cells[q & p->mask].seq, acquire) == q + 1;
}
/* Takes up to max tasks into j[0..*n). More than one only from a deep
 * queue: when the task workers x max positions further on is already
 * waiting, a run of published tasks is claimed with one CAS (one CAS on
 * deq and one wake check for the run, and sequential cells); a shallow
 * queue hands out one task at a time, so no worker sits on tasks another
 * idle worker could run. */
static ds_status ds__pool_try_pop(ds_pool *p, ds__pool_job *j, size_t max, size_t *n) {
    struct ds__pool_cell *c;
    uint64_t pos = DS__ALOAD(&p->deq, relaxed), seq, now, e, k, i;
    for (;;) {
        c = &p->cells[pos & p->mask];
        seq = DS__ALOAD(&c->seq, acquire);
        if (seq == pos + 1) {
            k = 1;
            if (max > 1 && max * p->nworkers <= p->mask && ds__pool_ready(p, pos + max * p->nworkers))
                while (k < max && ds__pool_ready(p, pos + k)) k++;
            if (DS__ACAS_WEAK(&p->deq, &pos, pos + k)) break;
        } else if ((int64_t)(seq - (pos + 1)) < 0) { /* not written yet */
            now = DS__ALOAD(&p->deq, relaxed);
            if (now != pos) {
                pos = now;
                continue;
            }
            /* Open: empty, without touching enq (the submitters' line, which
             * a polling worker would keep pulling away from them). Closed:
             * drained once every claimed position is taken. */
            if (DS__LIKELY(!DS__ALOAD(&p->closed, acquire))) return DS_EEMPTY;
            e = DS__ALOAD(&p->enq, acquire);
            now = DS__ALOAD(&p->deq, relaxed);
            if (now != pos) {
                pos = now;
                continue;
            }
            return e == (pos | DS__MPMC_CLOSED) ? DS_ECLOSED : DS_EEMPTY;
        } else {
            pos = DS__ALOAD(&p->deq, relaxed); /* another worker won pos */
        }
    }
    for (i = 0; i < k; i++) {
        c = &p->cells[(pos + i) & p->mask];
        j[i].task = c->task;
        j[i].pos = pos + i;
        if (DS__UNLIKELY(((pos + i) & p->sample_mask) == 0)) j[i].t_enq = c->t_enq;
        DS__ASTORE(&c->seq, pos + i + p->mask + 1, release);
    }
    *n = (size_t)k;
    ds__pool_wake_all(&p->not_full);
    return DS_OK;
}

/* The pool's sleep: ds__waitq's eventcount (see ds_conc:options), except
 * that the waker takes the announcements off `waiters` and the sleeper
 * never does. With ds__waitq_notify every submit between a wake and the
 * moment the woken worker has run would call FUTEX_WAKE again (a system
 * call per task under load); here each announcement buys at most one wake.
 * A sleeper that leaves on its own (its re-check found work, it timed out,
 * a spurious return) leaves its announcement behind: at worst one wake
 * later finds nobody, never a sleeper missed. (Taking it back on the
 * re-check is not safe: a waker may have consumed it already, and the
 * decrement would then remove another sleeper's.) */
/* Set in not_empty.waiters while an idle worker polls the queue (at most
 * one does; the others go to sleep at once). A submit that sees it wakes
 * nobody: the poller will find the task. The poller clears it with a
 * read-modify-write and polls again after that (at once if it found
 * nothing, else after running what it found), so a submit whose check came
 * before the clear is seen by that poll. Sleepers stay counted below this
 * bit: every wake that takes an announcement off bumps the epoch, which
 * wakes a sleeper or stops one about to sleep, so there are never more
 * sleepers than announcements. */
#define DS__POOL_POLLING 0x80000000u

/* Each retry re-reads the count with the acquiring add (the CAS itself is
 * relaxed): the wake's epoch bump must come after the announcements the
 * waker saw, and so after those sleepers read the epoch. */
static void ds__pool_wake_one(ds__waitq *w) {
    for (;;) {
        uint32_t n = DS__AADD(&w->waiters, 0u, acq_rel); /* orders like notify */
        if (DS__LIKELY(n == 0) || (n & DS__POOL_POLLING)) return;
        if (DS__ACAS_WEAK(&w->waiters, &n, n - 1)) {
            ds__waitq_wake(w, 0);
            return;
        }
    }
}
static void ds__pool_wake_all(ds__waitq *w) {
    for (;;) {
        uint32_t n = DS__AADD(&w->waiters, 0u, acq_rel);
        if (DS__LIKELY((n & ~DS__POOL_POLLING) == 0)) return;
        if (DS__ACAS_WEAK(&w->waiters, &n, n & DS__POOL_POLLING)) {
            ds__waitq_wake(w, 1);
            return;
        }
    }
}
/* Poll TRY DS_CONC_SPIN times, then announce, re-check, sleep; repeat. */
#define DS__POOL_BLOCK(TRY, BUSY, WQ, deadline)                                  \
    do {                                                                         \
        ds_status s_ = (TRY);                                                    \
        int spin_;                                                               \
        for (spin_ = 0; s_ == (BUSY) && spin_ < DS_CONC_SPIN; spin_++) {         \
            ds__cpu_relax();                                                     \
            s_ = (TRY);                                                          \
        }                                                                        \
        while (s_ == (BUSY)) {                                                   \
            uint32_t e_ = ds__waitq_prepare(WQ);                                 \
            s_ = (TRY);                                                          \
            if (s_ != (BUSY)) break;                                             \
            if (ds__waitq_sleep((WQ), e_, (deadline))) {                         \
                s_ = (TRY);                                                      \
                if (s_ == (BUSY)) s_ = DS_ETIMEDOUT;                             \
            } else {                                                             \
                s_ = (TRY);                                                      \
            }                                                                    \
        }                                                                        \
        return s_;                                                               \
    } while (0)

static ds_status ds__pool_push_until(ds_pool *p, const ds_pool_task *t, int64_t deadline) {
    DS__POOL_BLOCK(ds__pool_try_push(p, t), DS_EFULL, &p->not_full, deadline);
}
/* A worker that found the queue empty: poll DS_CONC_SPIN times if no other
 * worker is polling, else (and then) sleep until a submit wakes it. */
static ds_status ds__pool_pop_wait(ds_pool *p, ds__pool_job *j, size_t max, size_t *n) {
    ds__waitq *w = &p->not_empty;
    uint32_t v = DS__ALOAD(&w->waiters, relaxed), e;
    ds_status s = DS_EEMPTY;
    int spin;
    if (!(v & DS__POOL_POLLING) && DS__ACAS_WEAK(&w->waiters, &v, v | DS__POOL_POLLING)) {
        for (spin = 0; s == DS_EEMPTY && spin < DS_CONC_SPIN; spin++) {
            ds__cpu_relax();
            s = ds__pool_try_pop(p, j, max, n);
        }
        DS__ASUB(&w->waiters, DS__POOL_POLLING, acq_rel);
        if (s == DS_OK) {
            /* Submits skipped the sleepers while this worker polled: if
             * more tasks wait, wake one to help. */
            if (ds__pool_ready(p, DS__ALOAD(&p->deq, relaxed))) ds__pool_wake_one(w);
            return s;
        }
        if (s != DS_EEMPTY) return s;
    }
    for (;;) {
        e = ds__waitq_prepare(w);
        s = ds__pool_try_pop(p, j, max, n);
        if (s != DS_EEMPTY) return s;
        ds__waitq_sleep(w, e, INT64_MAX);
        s = ds__pool_try_pop(p, j, max, n);
        if (s != DS_EEMPTY) return s;
    }
}

/* A worker's latency samples into the pool's ring (the last `window`). */
static void ds__pool_flush(ds_pool *p, struct ds__pool_worker *w) {
    size_t i, slot;
    if (!w->nsamp) return;
    pthread_mutex_lock(&p->raw_mu);
    for (i = 0; i < w->nsamp; i++) {
        slot = (size_t)(p->raw_count++ % p->window);
        p->raw[2 * slot] = w->samp[2 * i];
        p->raw[2 * slot + 1] = w->samp[2 * i + 1];
    }
    pthread_mutex_unlock(&p->raw_mu);
    w->nsamp = 0;
}

static void ds__pool_run(ds_pool *p, struct ds__pool_worker *w, const ds__pool_job *j) {
    int rc;
    if (DS__UNLIKELY(DS__ALOAD(&p->cancel, acquire) != 0)) {
        if (j->task.cancel) j->task.cancel(j->task.arg);
        ds__pool_count(&w->cancelled);
        return;
    }
    if (DS__UNLIKELY((j->pos & p->sample_mask) == 0)) {
        int64_t t0 = ds_now_ns(), t1;
        rc = j->task.fn(j->task.arg);
        if (j->task.done) j->task.done(j->task.arg, rc);
        t1 = ds_now_ns();
        w->samp[2 * w->nsamp] = t0 - j->t_enq;
        w->samp[2 * w->nsamp + 1] = t1 - t0;
        if (++w->nsamp == DS__POOL_SAMPLES) ds__pool_flush(p, w);
    } else {
        rc = j->task.fn(j->task.arg);
        if (j->task.done) j->task.done(j->task.arg, rc);
    }
    ds__pool_count(rc == 0 ? &w->succeeded : &w->failed);
}

static void *ds__pool_main(void *arg) {
    struct ds__pool_worker *w = (struct ds__pool_worker *)arg;
    ds_pool *p = w->pool;
    ds__pool_job j[DS__POOL_BATCH];
    size_t n = 0, i;
    int busy = 0;
    ds__pool_self = p;
    for (;;) {
        ds_status s = ds__pool_try_pop(p, j, DS__POOL_BATCH, &n);
        if (s == DS_EEMPTY) {
            /* Going idle: publish the samples, and tell wait_idle (its
             * predicate reads the counters this worker just wrote). */
            if (busy) {
                ds__pool_flush(p, w);
                ds__waitq_notify(&p->idle, 1);
                busy = 0;
            }
            s = ds__pool_pop_wait(p, j, DS__POOL_BATCH, &n);
        }
        if (s != DS_OK) break; /* DS_ECLOSED: closed and drained */
        busy = 1;
        for (i = 0; i < n; i++) ds__pool_run(p, w, &j[i]);
    }
    /* Workers that went back to sleep after close's wake-up (a submit was
     * still in flight, so the queue was not drained yet) are woken only one
     * at a time by the late submits: each worker that sees the end wakes
     * the rest. */
    ds__pool_wake_all(&p->not_empty);
    ds__pool_flush(p, w);
    ds__waitq_notify(&p->idle, 1);
    ds__pool_self = NULL;
    return NULL;
}

/* Close the queue (submits get DS_ECLOSED; workers drain, then exit) and
 * wake every sleeper. */
static void ds__pool_close(ds_pool *p) {
    DS__ASTORE(&p->closed, 1u, release); /* first: see ds__pool_try_pop */
    DS__AOR(&p->enq, DS__MPMC_CLOSED, acq_rel);
    ds__pool_wake_all(&p->not_empty);
    ds__pool_wake_all(&p->not_full);
    ds__waitq_notify(&p->idle, 1);
}

/* Join the first n workers once (later callers wait for the first). */
static void ds__pool_join(ds_pool *p, size_t n) {
    size_t i;
    pthread_mutex_lock(&p->life_mu);
    if (!p->joined) {
        for (i = 0; i < n; i++) pthread_join(p->w[i]->tid, NULL);
        p->joined = 1;
    }
    pthread_mutex_unlock(&p->life_mu);
}

/* Frees what init allocated; `nw` workers exist (their threads joined). */
static void ds__pool_release(ds_pool *p, size_t nw, int mutexes, int windows) {
    size_t i, cap = p->mask + 1;
    for (i = 0; i < nw; i++) DS_FREE(p->alloc, p->w[i], sizeof(struct ds__pool_worker));
    if (p->w) DS_FREE(p->alloc, p->w, p->nworkers * sizeof(struct ds__pool_worker *));
    if (windows) {
        ds_window_free(&p->wait_win);
        ds_window_free(&p->run_win);
    }
    if (p->raw) DS_FREE(p->alloc, p->raw, 2 * p->window * sizeof(int64_t));
    if (p->scratch) DS_FREE(p->alloc, p->scratch, 2 * p->window * sizeof(int64_t));
    if (mutexes) {
        pthread_mutex_destroy(&p->life_mu);
        pthread_mutex_destroy(&p->raw_mu);
        pthread_mutex_destroy(&p->win_mu);
        ds__waitq_destroy(&p->not_empty);
        ds__waitq_destroy(&p->not_full);
        ds__waitq_destroy(&p->idle);
    }
    DS_FREE(p->alloc, p->cells, cap * sizeof(struct ds__pool_cell));
    p->cells = NULL;
    p->w = NULL;
    p->raw = p->scratch = NULL;
}

/* A count window with its memory reserved now, so adds never allocate. */
static ds_status ds__pool_window_init(ds_window *w, size_t n, const ds_alloc *a) {
    ds_status s = ds_window_init_count(w, n, a);
    if (s == DS_OK && (s = ds_window_add(w, 0.0, 0)) != DS_OK) ds_window_free(w);
    if (s == DS_OK) ds_window_clear(w);
    return s;
}

DSDEF ds_status ds_pool_init_config(ds_pool *p, const ds_pool_config *cfg, const ds_alloc *a) {
    void *cells = NULL;
    size_t mask = 0, i, nw = 0, win, bytes;
    uint64_t every;
    pthread_attr_t attr;
    ds_status s;
    int have_attr = 0, rc;
    if (!p) return DS_EINVAL;
    p->cells = NULL;
    if (!cfg || cfg->workers == 0 || cfg->workers > DS_POOL_MAX_WORKERS || cfg->capacity == 0)
        return DS_EINVAL;
    win = cfg->latency_window ? cfg->latency_window : 1024;
    every = cfg->sample_every ? cfg->sample_every : 16;
    if (win >= UINT32_MAX - 2 || !ds_size_mul(win, 4 * sizeof(int64_t), &bytes)) return DS_EINVAL;
    every = ds__pow2_ceil((size_t)every);
    if (every == 0) return DS_EINVAL;
    if (cfg->stack_size) {
        if (pthread_attr_init(&attr) != 0) return DS_ENOMEM;
        if (pthread_attr_setstacksize(&attr, cfg->stack_size) != 0) {
            pthread_attr_destroy(&attr);
            return DS_EINVAL;
        }
        have_attr = 1;
    }
    s = ds__ring_alloc(&cells, &mask, cfg->capacity < 2 ? 2 : cfg->capacity,
                       sizeof(struct ds__pool_cell), a);
    if (s != DS_OK) goto fail_attr;
    p->cells = (struct ds__pool_cell *)cells;
    p->mask = mask;
    p->alloc = a;
    p->nworkers = cfg->workers;
    p->sample_mask = every - 1;
    p->window = win;
    p->w = NULL;
    p->raw = p->scratch = NULL;
    p->raw_count = p->raw_drained = p->win_clock = 0;
    p->joined = 0;
    for (i = 0; i <= mask; i++) DS__AINIT(&p->cells[i].seq, (uint64_t)i);
    DS__AINIT(&p->enq, (uint64_t)0);
    DS__AINIT(&p->deq, (uint64_t)0);
    DS__AINIT(&p->high_water, (uint64_t)0);
    DS__AINIT(&p->rejected, (uint64_t)0);
    DS__AINIT(&p->cancel, 0u);
    DS__AINIT(&p->closed, 0u);
    if (ds__waitq_init(&p->not_empty) != DS_OK) {
        s = DS_ENOMEM;
        goto fail_cells;
    }
    if (ds__waitq_init(&p->not_full) != DS_OK) {
        ds__waitq_destroy(&p->not_empty);
        s = DS_ENOMEM;
        goto fail_cells;
    }
    if (ds__waitq_init(&p->idle) != DS_OK) {
        ds__waitq_destroy(&p->not_empty);
        ds__waitq_destroy(&p->not_full);
        s = DS_ENOMEM;
        goto fail_cells;
    }
    if (pthread_mutex_init(&p->life_mu, NULL) != 0) goto fail_waitqs;
    if (pthread_mutex_init(&p->raw_mu, NULL) != 0) {
        pthread_mutex_destroy(&p->life_mu);
        goto fail_waitqs;
    }
    if (pthread_mutex_init(&p->win_mu, NULL) != 0) {
        pthread_mutex_destroy(&p->life_mu);
        pthread_mutex_destroy(&p->raw_mu);
        goto fail_waitqs;
    }
    /* From here on ds__pool_release undoes everything. */
    s = DS_ENOMEM;
    if (ds__pool_window_init(&p->wait_win, win, a) != DS_OK) goto fail_release;
    if (ds__pool_window_init(&p->run_win, win, a) != DS_OK) {
        ds_window_free(&p->wait_win);
        goto fail_release;
    }
    p->raw = (int64_t *)DS_MALLOC(a, 2 * win * sizeof(int64_t));
    if (!p->raw) goto fail_windows;
    p->scratch = (int64_t *)DS_MALLOC(a, 2 * win * sizeof(int64_t));
    if (!p->scratch) goto fail_windows;
    p->w = (struct ds__pool_worker **)DS_MALLOC(a, cfg->workers * sizeof(struct ds__pool_worker *));
    if (!p->w) goto fail_windows;
    /* Each worker's memory right before its thread: a failure of either
     * leaves nw workers running, which are stopped below. */
    for (nw = 0; nw < cfg->workers; nw++) {
        struct ds__pool_worker *w = (struct ds__pool_worker *)DS_MALLOC(a, sizeof *w);
        if (!w) {
            s = DS_ENOMEM;
            goto fail_threads;
        }
        DS__AINIT(&w->succeeded, (uint64_t)0);
        DS__AINIT(&w->failed, (uint64_t)0);
        DS__AINIT(&w->cancelled, (uint64_t)0);
        w->pool = p;
        w->nsamp = 0;
        p->w[nw] = w;
        rc = pthread_create(&w->tid, have_attr ? &attr : NULL, ds__pool_main, w);
        if (rc != 0) {
            DS_FREE(a, w, sizeof *w);
            s = DS_ENOMEM;
            goto fail_threads;
        }
    }
    if (have_attr) pthread_attr_destroy(&attr);
    return DS_OK;

fail_threads:
    ds__pool_close(p);
    ds__pool_join(p, nw);
fail_windows:
    ds__pool_release(p, nw, 1, 1);
    goto fail_attr;
fail_release:
    ds__pool_release(p, 0, 1, 0);
    goto fail_attr;
fail_waitqs:
    ds__waitq_destroy(&p->not_empty);
    ds__waitq_destroy(&p->not_full);
    ds__waitq_destroy(&p->idle);
    s = DS_ENOMEM;
fail_cells:
    DS_FREE(a, cells, (mask + 1) * sizeof(struct ds__pool_cell));
    p->cells = NULL;
fail_attr:
    if (have_attr) pthread_attr_destroy(&attr);
    return s;
}

DSDEF ds_status ds_pool_init(ds_pool *p, size_t workers, size_t capacity) {
    ds_pool_config c;
    memset(&c, 0, sizeof c);
    c.workers = workers;
    c.capacity = capacity;
    return ds_pool_init_config(p, &c, NULL);
}

static int ds__pool_task_ok(const ds_pool *p, const ds_pool_task *t) {
    return p && p->cells && t && t->fn;
}
static ds_status ds__pool_rejected(ds_pool *p, ds_status s) {
    if (s != DS_OK && s != DS_EINVAL) DS__AADD(&p->rejected, (uint64_t)1, relaxed);
    return s;
}

DSDEF ds_status ds_pool_try_submit(ds_pool *p, const ds_pool_task *t) {
    if (DS__UNLIKELY(!ds__pool_task_ok(p, t))) return DS_EINVAL;
    return ds__pool_rejected(p, ds__pool_try_push(p, t));
}
DSDEF ds_status ds_pool_submit(ds_pool *p, const ds_pool_task *t) {
    ds_status s;
    if (DS__UNLIKELY(!ds__pool_task_ok(p, t))) return DS_EINVAL;
    s = ds__pool_try_push(p, t);
    if (DS__LIKELY(s == DS_OK)) return s;
    if (s == DS_EFULL && ds__pool_self != p) s = ds__pool_push_until(p, t, INT64_MAX);
    return ds__pool_rejected(p, s);
}
DSDEF ds_status ds_pool_submit_timeout(ds_pool *p, const ds_pool_task *t, int64_t timeout_ns) {
    ds_status s;
    if (DS__UNLIKELY(!ds__pool_task_ok(p, t))) return DS_EINVAL;
    if (ds__pool_self == p) return ds__pool_rejected(p, ds__pool_try_push(p, t));
    s = ds__pool_push_until(p, t, ds__conc_deadline(timeout_ns));
    return ds__pool_rejected(p, s);
}

/* Every task submitted so far has finished. The workers' counters are read
 * before the submit count: a finished task was submitted before, so the
 * sum F is at most the count S read after it, and F == S means that at the
 * moment S was read nothing was queued or running. */
static int ds__pool_is_idle(ds_pool *p) {
    uint64_t f = 0;
    size_t i;
    for (i = 0; i < p->nworkers; i++) {
        struct ds__pool_worker *w = p->w[i];
        f += DS__ALOAD(&w->succeeded, acquire) + DS__ALOAD(&w->failed, acquire) +
             DS__ALOAD(&w->cancelled, acquire);
    }
    return f == (DS__ALOAD(&p->enq, acquire) & ~DS__MPMC_CLOSED);
}
static ds_status ds__pool_wait_idle_until(ds_pool *p, int64_t deadline) {
    if (!p || !p->cells || ds__pool_self == p) return DS_EINVAL;
    for (;;) {
        uint32_t e;
        if (ds__pool_is_idle(p)) return DS_OK;
        e = ds__waitq_prepare(&p->idle);
        if (ds__pool_is_idle(p)) {
            ds__waitq_cancel(&p->idle);
            return DS_OK;
        }
        if (ds__waitq_wait(&p->idle, e, deadline)) return ds__pool_is_idle(p) ? DS_OK : DS_ETIMEDOUT;
    }
}
DSDEF ds_status ds_pool_wait_idle(ds_pool *p) { return ds__pool_wait_idle_until(p, INT64_MAX); }
DSDEF ds_status ds_pool_wait_idle_timeout(ds_pool *p, int64_t timeout_ns) {
    return ds__pool_wait_idle_until(p, ds__conc_deadline(timeout_ns));
}

static ds_status ds__pool_stop(ds_pool *p, int cancel) {
    if (!p || !p->cells) return DS_EINVAL;
    if (cancel) DS__ASTORE(&p->cancel, 1u, release);
    ds__pool_close(p);
    if (ds__pool_self != p) ds__pool_join(p, p->nworkers);
    return DS_OK;
}
DSDEF ds_status ds_pool_shutdown(ds_pool *p) { return ds__pool_stop(p, 0); }
DSDEF ds_status ds_pool_cancel(ds_pool *p) { return ds__pool_stop(p, 1); }
DSDEF int ds_pool_cancelled(const ds_pool *p) {
    return p && p->cells && DS__ALOAD(&p->cancel, acquire) != 0;
}
DSDEF size_t ds_pool_capacity(const ds_pool *p) { return p && p->cells ? p->mask + 1 : 0; }
DSDEF size_t ds_pool_workers(const ds_pool *p) { return p && p->cells ? p->nworkers : 0; }

DSDEF void ds_pool_free(ds_pool *p) {
    if (!p || !p->cells || ds__pool_self == p) return;
    ds__pool_stop(p, 0);
    ds__pool_release(p, p->nworkers, 1, 1);
}

DSDEF void ds_pool_snapshot(ds_pool *p, ds_pool_metrics *out) {
    uint64_t fin = 0, taken, sub, n, i, first;
    size_t k;
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->queue_wait_p50_ns = out->queue_wait_p99_ns = NAN;
    out->run_p50_ns = out->run_p99_ns = NAN;
    if (!p || !p->cells) return;
    /* Finished, then taken, then submitted: each read later, so
     * fin <= taken <= sub. */
    for (k = 0; k < p->nworkers; k++) {
        struct ds__pool_worker *w = p->w[k];
        uint64_t su = DS__ALOAD(&w->succeeded, acquire), fa = DS__ALOAD(&w->failed, acquire),
                 ca = DS__ALOAD(&w->cancelled, acquire);
        out->succeeded += su;
        out->failed += fa;
        out->cancelled += ca;
        fin += su + fa + ca;
    }
    taken = DS__ALOAD(&p->deq, acquire);
    sub = DS__ALOAD(&p->enq, acquire) & ~DS__MPMC_CLOSED;
    out->submitted = sub;
    out->rejected = DS__ALOAD(&p->rejected, relaxed);
    /* sub was read after taken: takes in between would show as queued;
     * the queue never holds more than capacity */
    out->queued = sub > taken ? sub - taken : 0;
    if (out->queued > (uint64_t)p->mask + 1) out->queued = (uint64_t)p->mask + 1;
    out->running = taken > fin ? taken - fin : 0;
    out->queue_high_water = (size_t)DS__ALOAD(&p->high_water, relaxed);
    out->capacity = p->mask + 1;
    out->workers = p->nworkers;
    /* The samples flushed since the last snapshot (at most a window's
     * worth: older ones would fall out anyway) go into the windows. */
    pthread_mutex_lock(&p->win_mu);
    pthread_mutex_lock(&p->raw_mu);
    n = p->raw_count - p->raw_drained;
    if (n > p->window) n = p->window;
    first = p->raw_count - n;
    for (i = 0; i < n; i++) {
        size_t slot = (size_t)((first + i) % p->window);
        p->scratch[2 * i] = p->raw[2 * slot];
        p->scratch[2 * i + 1] = p->raw[2 * slot + 1];
    }
    p->raw_drained = p->raw_count;
    pthread_mutex_unlock(&p->raw_mu);
    for (i = 0; i < n; i++) {
        p->win_clock++;
        ds_window_add(&p->wait_win, (double)p->scratch[2 * i], (int64_t)p->win_clock);
        ds_window_add(&p->run_win, (double)p->scratch[2 * i + 1], (int64_t)p->win_clock);
    }
    out->latency_samples = ds_window_count(&p->run_win);
    if (out->latency_samples) {
        out->queue_wait_p50_ns = ds_window_quantile(&p->wait_win, 0.5);
        out->queue_wait_p99_ns = ds_window_quantile(&p->wait_win, 0.99);
        out->run_p50_ns = ds_window_quantile(&p->run_win, 0.5);
        out->run_p99_ns = ds_window_quantile(&p->run_win, 0.99);
    }
    pthread_mutex_unlock(&p->win_mu);
}
/* == ds_conc:cmap == */
/* == ds_conc:wrappers == */
#endif
