/* ds_concurrent.h - thread-safe structures for ds (C11 atomics, pthreads)   v0.1.0
 *
 * STATUS: the rings (SPSC, MPMC) are in; the pool, the sharded map and the
 * thread-safe wrappers are planned (their banners are placeholders).
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
 *   ds_conc:pool      ds_pool: worker pool with backpressure (planned)
 *   ds_conc:cmap      DS_CMAP: sharded concurrent map (planned)
 *   ds_conc:wrappers  locked LRU, waitable time store, blocking limiter,
 *                     thread-safe breaker (planned)
 *
 * OPTIONS
 *   Allocation, assertions and linkage follow ds.h (DS_MALLOC..., DSDEF).
 *   DS_CONC_NO_FUTEX    sleep on a pthread mutex + condition variable even
 *                       on Linux (the default there is futex(2) through
 *                       syscall(SYS_futex); elsewhere always the condvar).
 *   DS_CONC_NO_MEMBARRIER  never use membarrier(2) to keep the locked
 *                       instruction out of push/pop (see the sleep/wake
 *                       primitive); Linux uses it when the kernel offers it.
 *   DS_CONC_CACHELINE   bytes kept between fields that different threads
 *                       write; default 64.
 *   DS_CONC_SPIN        polls a blocking call makes before it sleeps;
 *                       default 64.
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

/* ThreadSanitizer (gcc sets the macro, clang answers __has_feature). */
#if defined(__SANITIZE_THREAD__)
#define DS__HAS_FEATURE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DS__HAS_FEATURE_TSAN 1
#endif
#endif
#ifndef DS__HAS_FEATURE_TSAN
#define DS__HAS_FEATURE_TSAN 0
#endif

/* Linux sleeps on a futex word; elsewhere (or with DS_CONC_NO_FUTEX) on a
 * mutex + condition variable. Both wait for the same 32-bit epoch to move. */
#if defined(__linux__) && !defined(DS_CONC_NO_FUTEX)
#define DS__CONC_FUTEX 1
#else
#define DS__CONC_FUTEX 0
#include <pthread.h>
#endif

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
#define DS__COMPILER_FENCE() std::atomic_signal_fence(std::memory_order_seq_cst)
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
#define DS__COMPILER_FENCE() atomic_signal_fence(memory_order_seq_cst)
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
 * wake-up, and no thread fence (which ThreadSanitizer cannot model).
 *
 * That RMW on every notify is a locked instruction, a full barrier that
 * drains the store buffer on each push and pop: it cost the SPSC ring 2-4x
 * against ck_ring, which has none. So on Linux, where membarrier(2)'s
 * PRIVATE_EXPEDITED command is available (4.14+, registered once per
 * process), the barrier moves to the rare side: the sleeper runs
 * membarrier after announcing itself, which executes a full barrier on
 * every CPU running one of our threads, and the notifier needs only a
 * compiler fence before a plain load of `waiters` (the asymmetric fence of
 * folly's AsymmetricMemoryBarrier and liburcu). Either the notifier's load
 * comes after that barrier and sees the announcement, or its published
 * change was already globally visible when the sleeper re-checks. Without
 * membarrier (other systems, seccomp, old kernels, ThreadSanitizer builds,
 * whose model has no such fence) the RMW protocol above is used. The
 * choice is made at init and kept in the queue (`asym`), so both sides
 * always follow the same protocol. A notify with nobody asleep then costs
 * a load of a line the notifier already owns. */
typedef struct ds__waitq {
    DS__ATOMIC(uint32_t) epoch;
    DS__ATOMIC(uint32_t) waiters;
    int asym; /* read-only after init: 1 = membarrier protocol */
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
/* ds_now_ns() + timeout_ns, saturated to INT64_MAX. */
DSDEF int64_t ds__conc_deadline(int64_t timeout_ns);

/* The heavy half of the asymmetric fence (membarrier); see above. */
DSDEF void ds__waitq_heavy_fence(void);

static inline uint32_t ds__waitq_prepare(ds__waitq *w) {
    uint32_t e = DS__ALOAD(&w->epoch, acquire);
    DS__AADD(&w->waiters, 1u, acq_rel);
    if (w->asym) ds__waitq_heavy_fence();
    return e;
}
static inline void ds__waitq_cancel(ds__waitq *w) { DS__ASUB(&w->waiters, 1u, relaxed); }
static inline void ds__waitq_notify(ds__waitq *w, int all) {
    uint32_t n;
    if (w->asym) {
        DS__COMPILER_FENCE(); /* the light half: the published change stays before the load */
        n = DS__ALOAD(&w->waiters, relaxed);
    } else {
        n = DS__AADD(&w->waiters, 0u, acq_rel);
    }
    if (DS__UNLIKELY(n != 0)) ds__waitq_wake(w, all);
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
 * for head, handing the slot back); no locks and, where membarrier(2) is
 * available, no locked instruction either: notify's check for a sleeper is
 * a plain load of a line the caller already owns (else one uncontended
 * locked add per call or batch).
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

/* == ds_conc:pool == */
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
#if defined(SYS_membarrier) && !defined(DS_CONC_NO_MEMBARRIER) && !DS__HAS_FEATURE_TSAN
#define DS__CONC_MEMBARRIER 1
#define DS__MEMBARRIER_CMD_PRIVATE_EXPEDITED (1 << 3)          /* linux/membarrier.h */
#define DS__MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED (1 << 4)
#else
#define DS__CONC_MEMBARRIER 0
#endif
/* syscall() is declared only under _DEFAULT_SOURCE / _GNU_SOURCE, which a
 * strict -std=c11 build does not set; the prototype is the same everywhere. */
#if !defined(__cplusplus) && !defined(__USE_MISC) && !defined(_GNU_SOURCE) && \
    !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
extern long syscall(long number, ...);
#endif

/* Registration for the expedited membarrier, tried once per process:
 * 0 = not yet, 1 = available, 2 = not (then every queue uses the RMW). */
static DS__ATOMIC(int) ds__membarrier_state;

static int ds__membarrier_available(void) {
#if DS__CONC_MEMBARRIER
    int st = DS__ALOAD(&ds__membarrier_state, acquire);
    if (st == 0) {
        /* Registering twice is harmless, so racing first inits need no lock. */
        st = syscall(SYS_membarrier, DS__MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 ? 1 : 2;
        DS__ASTORE(&ds__membarrier_state, st, release);
    }
    return st == 1;
#else
    return 0;
#endif
}
DSDEF void ds__waitq_heavy_fence(void) {
#if DS__CONC_MEMBARRIER
    syscall(SYS_membarrier, DS__MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
#endif
}
DSDEF ds_status ds__waitq_init(ds__waitq *w) {
    DS__AINIT(&w->epoch, 0u);
    DS__AINIT(&w->waiters, 0u);
    w->asym = ds__membarrier_available();
    return DS_OK;
}
DSDEF void ds__waitq_destroy(ds__waitq *w) { (void)w; }
DSDEF void ds__waitq_wake(ds__waitq *w, int all) {
    DS__AADD(&w->epoch, 1u, release);
    syscall(SYS_futex, (void *)&w->epoch, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, all ? INT_MAX : 1,
            NULL, NULL, 0);
}
DSDEF int ds__waitq_wait(ds__waitq *w, uint32_t e, int64_t deadline) {
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
    DS__ASUB(&w->waiters, 1u, relaxed);
    return late || (deadline != INT64_MAX && ds_now_ns() >= deadline);
}
#else /* the portable fallback: mutex + condition variable */
#include <time.h>

DSDEF void ds__waitq_heavy_fence(void) {}
DSDEF ds_status ds__waitq_init(ds__waitq *w) {
    DS__AINIT(&w->epoch, 0u);
    DS__AINIT(&w->waiters, 0u);
    w->asym = 0;
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
DSDEF int ds__waitq_wait(ds__waitq *w, uint32_t e, int64_t deadline) {
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
    DS__ASUB(&w->waiters, 1u, relaxed);
    return late || (deadline != INT64_MAX && ds_now_ns() >= deadline);
}
#endif

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
/* == ds_conc:cmap == */
/* == ds_conc:wrappers == */
#endif
