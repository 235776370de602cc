/* ds_concurrent.h - thread-safe structures for ds (C11 atomics, pthreads)   v0.2.0
 *
 * STATUS: complete: the rings (SPSC, MPMC), the worker pool, the sharded
 * map and the thread-safe wrappers.
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
 *   ds_conc:cmap      DS_CMAP(name, K, V, hash, eq): sharded concurrent
 *                     map, optionally bounded (per-shard LRU, global budget)
 *   ds_conc:wrappers  DS_CLRU: locked LRU with single-flight loads;
 *                     DS_CTSTORE: waitable time store; ds_climiter:
 *                     blocking limiter; ds_cbreaker: shared breaker
 *
 * OPTIONS
 *   Allocation, assertions and linkage follow ds.h (DS_MALLOC..., DSDEF).
 *   DS_CONC_NO_FUTEX    sleep on a pthread mutex + condition variable even
 *                       on Linux (the default there is futex(2) through
 *                       syscall(SYS_futex); elsewhere always the condvar).
 *   DS_CONC_NO_MEMBARRIER  never use membarrier(2) to keep the locked
 *                       instruction out of push/pop (see the sleep/wake
 *                       primitive); Linux uses it when the kernel offers it
 *                       (see THREAD SAFETY for what that costs, and where
 *                       to turn it off).
 *   DS_CONC_CACHELINE   bytes kept between fields that different threads
 *                       write; default 64.
 *   DS_CONC_SPIN        polls a blocking call (or an idle pool worker)
 *                       makes before it sleeps; default 64.
 *   DS_CMAP_RWLOCK      DS_CMAP's shard locks are pthread rwlocks (readers
 *                       of a shard share it) instead of mutexes; default
 *                       off (measured slower for short critical sections:
 *                       see ds_conc:cmap). Needs pthread_rwlock_t, which
 *                       strict -std=c11 hides unless _POSIX_C_SOURCE is
 *                       200112L or more before the first include.
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
 *
 *   Global state: one process-wide flag, ds__membarrier_state (Linux,
 *   unless DS_CONC_NO_MEMBARRIER or a ThreadSanitizer build), the one
 *   exception to DESIGN.md's "no global mutable state but the allocator
 *   hooks". The first ring init registers the process for membarrier's
 *   PRIVATE_EXPEDITED command and records the answer; it is written once
 *   (racing first inits both register, which is harmless) and only read
 *   after. Consequences:
 *     - that first init pays for the registration, a system call that
 *       waits for an RCU grace period (milliseconds) when the process
 *       already runs other threads; later inits pay nothing;
 *     - a seccomp filter that refuses membarrier makes the registration
 *       fail: the rings then use the RMW protocol (correct, slower push
 *       and pop), process-wide;
 *     - a ring consumer or producer about to sleep runs membarrier, which
 *       interrupts (IPI) every CPU running a thread of this process: on
 *       isolated CPUs (nohz_full, real-time cores) build with
 *       DS_CONC_NO_MEMBARRIER.
 *   The wrappers (ds_conc:wrappers) never register or run membarrier.
 */
#ifndef DS_CONCURRENT_H_INCLUDED
#define DS_CONCURRENT_H_INCLUDED

#include "ds.h"

/* == ds_conc:options == */
#define DS_CONCURRENT_VERSION_MAJOR 0
#define DS_CONCURRENT_VERSION_MINOR 2
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
#endif
/* The pool's threads and locks, the condvar fallback and the locked
 * wrappers (ds_conc:wrappers) use it. */
#include <pthread.h>
#include <sched.h> /* sched_yield: MPMC consumers draining a closed queue */

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
 * a load of a line the notifier already owns.
 *
 * membarrier can still fail after a successful registration (PRIVATE_
 * EXPEDITED returns -ENOMEM when the kernel cannot allocate the CPU mask
 * for its IPIs). The sleeper then falls back to MEMBARRIER_CMD_GLOBAL
 * (slower: it waits for every CPU to pass a scheduling point, but it gives
 * the same barrier); if that fails too, the notifier's load may have missed
 * the announcement, so the queue is marked `degraded` for good and every
 * later sleep on it is cut to DS__WAITQ_DEGRADED_NS (1 ms): the caller's
 * loop re-checks its condition, so a missed wake-up costs at most that
 * delay, never a permanent sleep. */
typedef struct ds__waitq {
    DS__ATOMIC(uint32_t) epoch;
    DS__ATOMIC(uint32_t) waiters;
    DS__ATOMIC(uint32_t) degraded; /* 1: a heavy fence failed; sleeps capped */
    int asym; /* read-only after init: 1 = the notify is a plain load (the
                 membarrier protocol, or waiters that announce under the
                 wakers' lock: ds__waitq_init_locked) */
#if !DS__CONC_FUTEX
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
} ds__waitq;

DSDEF ds_status ds__waitq_init(ds__waitq *w);
/* For queues whose waiters only use ds__waitq_prepare_locked: the lock
 * orders them, so the notify is a plain load and membarrier is never
 * registered or run. */
DSDEF ds_status ds__waitq_init_locked(ds__waitq *w);
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

/* The heavy half of the asymmetric fence (membarrier); on failure the
 * GLOBAL command, then w marked degraded (see above). */
DSDEF void ds__waitq_heavy_fence(ds__waitq *w);
#define DS__WAITQ_DEGRADED_NS 1000000

static inline uint32_t ds__waitq_prepare(ds__waitq *w) {
    uint32_t e = DS__ALOAD(&w->epoch, acquire);
    DS__AADD(&w->waiters, 1u, acq_rel);
    if (w->asym) ds__waitq_heavy_fence(w);
    return e;
}
/* prepare for a waiter that announces itself while holding the mutex under
 * which its wakers change the state, and whose wakers notify after
 * unlocking it (the wrappers, ds_conc:wrappers). The mutex already orders
 * the two: if the waiter's critical section came first, its announcement
 * happens before the waker's lock and so before the notify's load; if the
 * waker's came first, the waiter's check under the lock sees the change.
 * So no heavy fence (no membarrier system call while the lock is held). */
static inline uint32_t ds__waitq_prepare_locked(ds__waitq *w) {
    uint32_t e = DS__ALOAD(&w->epoch, acquire);
    DS__AADD(&w->waiters, 1u, acq_rel);
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

/* The blocking loop shared by every ring and the pool's submit: poll TRY a
 * few times, then sleep on WQ until it is notified, re-trying each time.
 * BUSY is the status that means "would block" (DS_EFULL or DS_EEMPTY); the
 * deadline passing turns it into DS_ETIMEDOUT. CANCEL drops an announcement
 * the sleeper no longer needs and SLEEP sleeps: ds__waitq_cancel and
 * ds__waitq_wait for the rings; the pool, whose wakers take announcements
 * off themselves, passes a no-op and ds__waitq_sleep. A macro so TRY is the
 * typed, inlined call. */
#define DS__CONC_BLOCK(TRY, BUSY, WQ, deadline) \
    DS__CONC_BLOCK_WITH(TRY, BUSY, WQ, deadline, ds__waitq_cancel, ds__waitq_wait)
#define DS__CONC_BLOCK_WITH(TRY, BUSY, WQ, deadline, CANCEL, SLEEP)              \
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
                CANCEL(WQ);                                                      \
                break;                                                           \
            }                                                                    \
            if (SLEEP((WQ), e_, (deadline))) {                                   \
                s_ = (TRY);                                                      \
                if (s_ == (BUSY)) s_ = DS_ETIMEDOUT;                             \
            } else {                                                             \
                s_ = (TRY);                                                      \
            }                                                                    \
        }                                                                        \
        return s_;                                                               \
    } while (0)

/* The blocking and timed calls of a ring, the same for SPSC and MPMC: its
 * try_push and its POP_TRY (try_pop, or MPMC's variant of it) under
 * DS__CONC_BLOCK on its not_full/not_empty queues. */
#define DS__CONC_BLOCKING_CALLS(name, T, LINK, POP_TRY)                                  \
    static inline ds_status name##__push_until(name *q, T x, int64_t deadline) {         \
        DS__CONC_BLOCK(name##_try_push(q, x), DS_EFULL, &q->not_full, deadline);         \
    }                                                                                    \
    /* Not inlined: GCC 12 at -O3 cannot follow the retry loop to see that   \
     * DS_OK means *out was written, and warns -Wmaybe-uninitialized in the \
     * caller that uses the item (issue 15); a call it cannot see into ends  \
     * that, for one call per blocking pop. */                               \
    static DS__NOINLINE ds_status name##__pop_until(name *q, T *out, int64_t deadline) { \
        DS__CONC_BLOCK(POP_TRY(q, out), DS_EEMPTY, &q->not_empty, deadline);             \
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
        memset((void *)q, 0, sizeof *q); /* a failed init leaves a struct free accepts */ \
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
    DS__CONC_BLOCKING_CALLS(name, T, LINK, name##_try_pop)

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
        memset((void *)q, 0, sizeof *q); /* a failed init leaves a struct free accepts */ \
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
    /* The blocking pops' try. After close no push notifies again except   \
     * those already claimed and still being written, and each of those      \
     * wakes one sleeper: so a consumer that sees the queue closed but not   \
     * yet drained yields until it is, instead of sleeping through the last  \
     * notify (two consumers, one item in flight). Before close a sleeper is \
     * woken by a push or by close's notify-all. */                           \
    static inline ds_status name##__pop_try(name *q, T *out) {                          \
        ds_status s = name##_try_pop(q, out);                                            \
        while (s == DS_EEMPTY && name##_is_closed(q)) {                                  \
            sched_yield();                                                               \
            s = name##_try_pop(q, out);                                                  \
        }                                                                                \
        return s;                                                                        \
    }                                                                                    \
    DS__CONC_BLOCKING_CALLS(name, T, LINK, name##__pop_try)

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

/* ========================================================================
 * == ds_conc:cmap ==  DS_CMAP(name, K, V, hash, eq): sharded concurrent map
 * ========================================================================
 * A hash map many threads share: a power-of-two number of shards, each a
 * lock plus a DS_MAP (or, with a capacity, a DS_LRU) on its own cache
 * lines, so threads touching different shards never wait for each other
 * and never write each other's lines (lock striping, as in Java's
 * ConcurrentHashMap before JDK 8 and Guava's LocalCache; the per-shard LRU
 * with a split budget is Guava's bounded segments). A key's hash is
 * computed once: bits 48..63 pick the shard, and the shard's table (which
 * uses the low bits: tag bits 0..7, group bits 8 and up) reuses the same
 * hash, so within a shard the keys stay well spread.
 *
 * The lock is a pthread mutex per shard (define DS_CMAP_RWLOCK before the
 * include for a pthread rwlock: readers of one shard then share it).
 * Measured by bench/bench_cmap.c, 2 threads, 90% get / 10% put+del over
 * uint64 keys: the rwlock was slower in every full run (0.43-0.85x the
 * mutex, on a loaded 2-core VM; README has the table). A read lock is
 * itself a read-modify-write of the lock word, so readers still pass its
 * cache line back and forth and save nothing when the critical section is
 * a short probe, while glibc's rwlock does more work per lock/unlock than
 * its mutex. Prefer the rwlock only when reads hold the lock for long (big
 * values copied out, an expensive eq).
 *
 * Nothing hands out a pointer into the map: get copies the value out, and
 * every call that looks at or changes a stored value (upsert,
 * compute_if_absent, cas) does it under the shard lock. Callbacks run
 * under that lock: they must be short and must not call into the same map
 * (self-deadlock).
 *
 * Bounded mode (config.capacity > 0): a global entry budget split across
 * the shards (shard i holds at most capacity / n, plus one for the first
 * capacity % n shards), each shard a DS_LRU that evicts its own least
 * recently used entry when a new key would exceed its share, so
 * len() <= capacity at every instant, even as seen by a concurrent reader.
 * Eviction is per shard: the entry evicted is the shard's LRU, not
 * necessarily the global one, and with an uneven key spread a shard may
 * evict while others have room (the usual price of striping; a shard's
 * share should stay in the tens or more, so the default shard count
 * shrinks to keep shares >= 16). In bounded mode get (and every call that
 * finds a key: upsert, compute_if_absent, cas) counts as a use and takes
 * the shard's write lock.
 *
 * Config (zero-initialise, then set what you need; NULL = all defaults):
 *   size_t shards;     rounded up to a power of two, at most
 *                      DS_CMAP_MAX_SHARDS; 0 = 4 x threads (at least 16,
 *                      at most 1024). With a capacity: at most capacity
 *                      (default: at most capacity / 16, at least 1).
 *   size_t threads;    hint for the default: threads sharing the map;
 *                      0 = the online CPUs (sysconf), else 4.
 *   size_t capacity;   0 = unbounded; else the global entry budget.
 *   void (*on_evict)(void *ctx, K *key, V *val, ds_evict why);
 *                      every pair the map drops without handing it back:
 *                      DS_EVICT_CAPACITY (bounded: the shard's LRU entry
 *                      made room), DS_EVICT_REPLACED (put over a present
 *                      key: the old key and value), DS_EVICT_DELETED (del
 *                      with out == NULL, clear, free). Not for del with an
 *                      out pointer, cas, or upsert (the caller sees those
 *                      values). Runs under the shard lock. NULL = none.
 *   void *ctx;         passed to on_evict
 *   int (*val_eq)(V const *a, V const *b);   cas's comparison; NULL =
 *                      memcmp of the bytes (then V must have no padding,
 *                      or the padding must be zeroed).
 *   const ds_alloc *alloc;  uint64_t seed (0 = per-instance random)
 *
 *   ds_status name_init(name *c, const name_config *cfg)
 *          DS_EINVAL: NULL c, shards > DS_CMAP_MAX_SHARDS, a share of
 *          2^31 or more; DS_ENOMEM (nothing allocated). The struct must not
 *          move between init and free. Alone: nothing else on this map
 *          runs until init returns (publish the map to other threads after).
 *   void   name_free(name *c)        on_evict(DELETED) for each entry.
 *          Alone: after every other thread is done with the map. Twice is
 *          harmless; calls after free get DS_EINVAL (or 0).
 *   ds_status name_get(name *c, K key, V *out)
 *          copies the value into *out (out may be NULL: a membership test
 *          that still counts as a use); DS_ENOTFOUND. Any thread: the
 *          shard's read lock (bounded: its write lock).
 *   int    name_has(name *c, K key)  present? (never counts as a use).
 *          Any thread: the shard's read lock.
 *   ds_status name_put(name *c, K key, V val, int *is_new)
 *          insert or overwrite (REPLACED for the old pair); *is_new (may be
 *          NULL) = 1 if the key was absent. Bounded: may evict one entry
 *          of the shard (CAPACITY). DS_ENOMEM: map unchanged. Any thread:
 *          the shard's write lock (so are insert, del, upsert,
 *          compute_if_absent and cas).
 *   ds_status name_insert(name *c, K key, V val)   put if absent: DS_EEXIST
 *          (unchanged) when present
 *   ds_status name_del(name *c, K key, V *out)     DS_ENOTFOUND; with out
 *          the value moves to the caller, without it on_evict(DELETED)
 *   ds_status name_upsert(name *c, K key, name_upsert_fn fn, void *ctx)
 *          int fn(void *ctx, K const *key, V *val, int is_new): runs once,
 *          under the shard lock, on the stored value (is_new = 0) or on a
 *          zero-filled new one (is_new = 1) and changes it in place; it
 *          returns 0 to keep the entry, nonzero to remove it (a count that
 *          reached zero). Read-modify-write without races: n threads each
 *          adding 1 to a counter add exactly n. DS_ENOMEM (fn not called,
 *          map unchanged).
 *   ds_status name_compute_if_absent(name *c, K key, name_make_fn make,
 *                                    void *ctx, V *out)
 *          ds_status make(void *ctx, K const *key, V *out): if key is
 *          present, copies its value to *out (out may be NULL); else calls
 *          make under the shard lock (out preset to zeros), stores what it
 *          made and copies it out. So make runs at most once per key however
 *          many threads ask at once (again only after the key was deleted
 *          or evicted, or make failed). make's error is returned and
 *          nothing stored; DS_ENOMEM: make not called, map unchanged.
 *   ds_status name_cas(name *c, K key, V expected, V desired, V *actual)
 *          compare-and-set: if the stored value equals expected (val_eq or
 *          memcmp) it becomes desired: DS_OK; else DS_EMISMATCH (unchanged);
 *          DS_ENOTFOUND if absent. *actual (may be NULL) gets the value
 *          found, so a retry loop needs no extra get.
 *   size_t name_len(const name *c)   sum of per-shard counts, read without
 *          locks: exact when no writer runs, otherwise approximate (each
 *          shard's count is exact at some instant during the call, the
 *          instants differ); never above the capacity. Any thread, no lock.
 *   size_t name_capacity(const name *c)   the budget (0: unbounded)
 *   size_t name_shards(const name *c)     both fixed at init; any thread
 *   void   name_clear(name *c)       shard by shard: each is emptied under
 *          its lock (on_evict DELETED for each entry); not atomic across
 *          shards: a put into an already-cleared shard survives. Keeps the
 *          tables' memory. Any thread: each shard's write lock in turn.
 *   ds_status name_snapshot(name *c, name_entry *out, size_t cap, size_t *n)
 *          copies the entries (key, val), shard by shard, each shard under
 *          its lock, into out[0..cap): *n (may be NULL) = pairs copied;
 *          DS_EFULL if more did not fit (size the array from len() plus
 *          slack and retry). Consistency: per shard, not global - each
 *          shard's part is that shard at one instant, and the instants
 *          differ: if one thread puts key a and then key b, the snapshot
 *          may hold b without a (a's shard was copied before a arrived,
 *          b's after b did). A key never appears twice (it lives in one
 *          shard). Does not count as a use. Any thread: each shard's read
 *          lock in turn, one at a time.
 *   size_t name_foreach(name *c, name_visit_fn fn, void *ctx)
 *          int fn(void *ctx, K const *key, V const *val) for every entry,
 *          shard by shard under each shard's lock (same consistency as
 *          snapshot); fn returns nonzero to stop. Returns the number of
 *          calls made. Any thread: each shard's read lock in turn.
 *
 * Thread safety: init and free alone (no other call on that map running);
 * every other call from any number of threads at once. Calls on one key are
 * linearizable (each runs entirely under its shard's lock); calls that span
 * shards (len, clear, snapshot, foreach) are not atomic as a whole, as
 * described above. A callback must not call into the same map.
 * Complexity: get/put/del/upsert/cas/compute_if_absent O(1) expected plus
 * the lock; len O(shards); clear, snapshot, foreach O(shards + entries).
 * Memory: per shard one cache-line-padded header (lock, count, table
 * header: 576 bytes for uint64 -> uint64 on x86-64) plus its table
 * (DS_MAP: sizeof(entry) + 1 bytes per slot at <= 7/8 load; bounded:
 * DS_LRU's node and index costs). DS_ENOMEM from any call leaves the map
 * as it was. */

#include <pthread.h>

/* Top limit of shards: the shard index comes from hash bits 48..63. */
#define DS_CMAP_MAX_SHARDS ((size_t)1 << 16)

#ifdef DS_CMAP_RWLOCK
#define DS__CMAP_LOCK_T pthread_rwlock_t
#define DS__CMAP_LOCK_INIT(l) pthread_rwlock_init((l), NULL)
#define DS__CMAP_LOCK_DESTROY(l) pthread_rwlock_destroy(l)
#define DS__CMAP_RDLOCK(l) pthread_rwlock_rdlock(l)
#define DS__CMAP_WRLOCK(l) pthread_rwlock_wrlock(l)
#define DS__CMAP_UNLOCK(l) pthread_rwlock_unlock(l)
#else
#define DS__CMAP_LOCK_T pthread_mutex_t
#define DS__CMAP_LOCK_INIT(l) pthread_mutex_init((l), NULL)
#define DS__CMAP_LOCK_DESTROY(l) pthread_mutex_destroy(l)
#define DS__CMAP_RDLOCK(l) pthread_mutex_lock(l)
#define DS__CMAP_WRLOCK(l) pthread_mutex_lock(l)
#define DS__CMAP_UNLOCK(l) pthread_mutex_unlock(l)
#endif

/* Type-independent parts. The shard count for a config (see above), or
 * DS_EINVAL. */
DSDEF ds_status ds__cmap_nshards(size_t shards, size_t threads, size_t capacity, size_t *out);
/* One block of n shards of ssz bytes (a multiple of DS_CONC_CACHELINE),
 * aligned to DS_CONC_CACHELINE: the aligned start, *raw the block to free
 * (ds__cmap_block_bytes(n, ssz) bytes). NULL on overflow or DS_ENOMEM. */
DSDEF void *ds__cmap_block(size_t n, size_t ssz, const ds_alloc *a, void **raw);
static inline size_t ds__cmap_block_bytes(size_t n, size_t ssz) { return n * ssz + DS_CONC_CACHELINE; }

#define DS__CMAP_TYPES(name, K, V)                                                        \
    DS__MAP_TYPES(name##__m, K, V);                                                       \
    DS__LRU_TYPES(name##__l, K, V);                                                       \
    typedef name##__m_entry name##_entry;                                                 \
    typedef struct name##_config {                                                        \
        size_t shards;                                                                    \
        size_t threads;                                                                   \
        size_t capacity;                                                                  \
        void (*on_evict)(void *ctx, K *key, V *val, ds_evict why);                        \
        void *ctx;                                                                        \
        int (*val_eq)(V const *a, V const *b);                                            \
        const ds_alloc *alloc;                                                            \
        uint64_t seed;                                                                    \
    } name##_config;                                                                      \
    typedef int (*name##_upsert_fn)(void *ctx, K const *key, V *val, int is_new);         \
    typedef ds_status (*name##_make_fn)(void *ctx, K const *key, V *out);                 \
    typedef int (*name##_visit_fn)(void *ctx, K const *key, V const *val);                \
    typedef struct name##__shard_core {                                                   \
        DS__CMAP_LOCK_T lock;                                                             \
        DS__ATOMIC(size_t) len; /* written under the lock, read by len() */               \
        union {                                                                           \
            name##__m map; /* unbounded */                                                \
            name##__l lru; /* bounded */                                                  \
        } u;                                                                              \
    } name##__shard_core;                                                                 \
    typedef struct name##__shard { /* a whole number of cache lines */                    \
        name##__shard_core s;                                                             \
        char pad_[DS_CONC_CACHELINE - sizeof(name##__shard_core) % DS_CONC_CACHELINE];    \
    } name##__shard;                                                                      \
    typedef struct name {                                                                 \
        name##__shard *shards; /* DS_CONC_CACHELINE-aligned, in raw */                    \
        void *raw;                                                                        \
        size_t mask;           /* shards - 1 */                                           \
        uint64_t seed;                                                                    \
        name##_config cfg;                                                                \
    } name

#define DS__CMAP_PROTOS(name, K, V, LINK)                                                 \
    LINK ds_status name##_init(name *c, const name##_config *cfg);                        \
    LINK void name##_free(name *c);                                                       \
    LINK ds_status name##_get(name *c, K key, V *out);                                    \
    LINK int name##_has(name *c, K key);                                                  \
    LINK ds_status name##_put(name *c, K key, V val, int *is_new);                        \
    LINK ds_status name##_insert(name *c, K key, V val);                                  \
    LINK ds_status name##_del(name *c, K key, V *out);                                    \
    LINK ds_status name##_upsert(name *c, K key, name##_upsert_fn fn, void *ctx);         \
    LINK ds_status name##_compute_if_absent(name *c, K key, name##_make_fn make, void *ctx, \
                                            V *out);                                      \
    LINK ds_status name##_cas(name *c, K key, V expected, V desired, V *actual);          \
    LINK size_t name##_len(const name *c);                                                \
    LINK size_t name##_capacity(const name *c);                                           \
    LINK size_t name##_shards(const name *c);                                             \
    LINK void name##_clear(name *c);                                                      \
    LINK ds_status name##_snapshot(name *c, name##_entry *out, size_t cap, size_t *n);    \
    LINK size_t name##_foreach(name *c, name##_visit_fn fn, void *ctx)

/* The inner tables: DS_MAP name__m (unbounded) and DS_LRU name__l
 * (bounded), static to the file that holds the implementation. Uses of the
 * inner DS_LRU's private helper name__l__reserve_one: it makes room for one
 * more node, after which that DS_LRU's put of a new key cannot fail; so a
 * callback that creates a value runs only once its slot is certain. */
#define DS__CMAP_IMPL(name, K, V, hash, eq, LINK)                                         \
    DS__MAP_PROTOS(name##__m, K, V, DS__LINK_STATIC);                                     \
    DS__MAP_IMPL(name##__m, K, V, hash, eq, DS__LINK_STATIC)                              \
    DS__LRU_PROTOS(name##__l, K, V, DS__LINK_STATIC);                                     \
    DS__LRU_IMPL(name##__l, K, V, hash, eq, DS__LINK_STATIC)                              \
    static inline name##__shard_core *name##__shard_of(const name *c, uint64_t h) {       \
        return &c->shards[(size_t)(h >> 48) & c->mask].s;                                 \
    }                                                                                     \
    static inline size_t name##__find(const name##__shard_core *s, K key, uint64_t h) {   \
        return ds__map_find(&s->u.map.m, h, &key, sizeof(name##_entry), name##__m__eq);   \
    }                                                                                     \
    static inline name##_entry *name##__at(name##__shard_core *s, size_t i) {             \
        return name##__m__slot(&s->u.map, i);                                             \
    }                                                                                     \
    /* Publish the shard's count for len(): after the change, under the lock. */          \
    static inline void name##__count(const name *c, name##__shard_core *s) {              \
        DS__ASTORE(&s->len, c->cfg.capacity ? s->u.lru.c.len : s->u.map.m.len, relaxed);  \
    }                                                                                     \
    static inline void name##__drop(const name *c, K *key, V *val, ds_evict why) {        \
        if (c->cfg.on_evict) c->cfg.on_evict(c->cfg.ctx, key, val, why);                  \
    }                                                                                     \
    /* DS_LRU's callback, forwarded with the user's ctx. */                               \
    static void name##__lru_evict(void *ctx, K *key, V *val, ds_evict why) {              \
        name##__drop((const name *)ctx, key, val, why);                                   \
    }                                                                                     \
    static inline int name##__val_eq(const name *c, V const *a, V const *b) {             \
        return c->cfg.val_eq ? c->cfg.val_eq(a, b) != 0 : memcmp(a, b, sizeof(V)) == 0;   \
    }                                                                                     \
    /* Room for one more entry in an unbounded shard: afterwards claiming a               \
     * slot cannot rehash, so cannot fail. */                                             \
    static inline ds_status name##__room(name##__shard_core *s) {                         \
        return ds__map_reserve(&s->u.map.m, s->u.map.m.len + 1, sizeof(name##_entry),     \
                               name##__m__hash);                                          \
    }                                                                                     \
    static inline name##_entry *name##__claim(name##__shard_core *s, K key, uint64_t h) { \
        ds_status st = DS_OK;                                                             \
        size_t i = ds__map_claim(&s->u.map.m, h, sizeof(name##_entry), name##__m__hash, &st); \
        name##_entry *e;                                                                  \
        DS_ASSERT(i != DS__NPOS); /* name__room made the room */                          \
        e = name##__at(s, i);                                                             \
        e->key = key;                                                                     \
        return e;                                                                         \
    }                                                                                     \
    /* Every entry of an unbounded shard to on_evict(DELETED). */                         \
    static inline void name##__drop_all(const name *c, name##__shard_core *s) {           \
        name##_entry *e;                                                                  \
        if (!c->cfg.on_evict) return;                                                     \
        for (e = name##__m_first(&s->u.map); e; e = name##__m_next(&s->u.map, e))         \
            c->cfg.on_evict(c->cfg.ctx, &e->key, &e->val, DS_EVICT_DELETED);              \
    }                                                                                     \
    LINK ds_status name##_init(name *c, const name##_config *cfg) {                       \
        name##_config z;                                                                  \
        size_t n, i;                                                                      \
        void *raw = NULL;                                                                 \
        name##__shard *sh;                                                                \
        ds_status st;                                                                     \
        if (DS__UNLIKELY(!c)) return DS_EINVAL;                                           \
        memset((void *)c, 0, sizeof *c); /* a failed init leaves a struct free accepts */ \
        if (!cfg) {                                                                       \
            memset(&z, 0, sizeof z);                                                      \
            cfg = &z;                                                                     \
        }                                                                                 \
        st = ds__cmap_nshards(cfg->shards, cfg->threads, cfg->capacity, &n);              \
        if (st != DS_OK) return st;                                                       \
        sh = (name##__shard *)ds__cmap_block(n, sizeof(name##__shard), cfg->alloc, &raw); \
        if (!sh) return DS_ENOMEM;                                                        \
        c->shards = sh;                                                                   \
        c->raw = raw;                                                                     \
        c->mask = n - 1;                                                                  \
        c->cfg = *cfg;                                                                    \
        c->seed = cfg->seed ? cfg->seed : ds__map_default_seed((uintptr_t)(void *)c);     \
        for (i = 0; i < n; i++) {                                                         \
            name##__shard_core *s = &sh[i].s;                                             \
            if (DS__CMAP_LOCK_INIT(&s->lock) != 0) {                                      \
                while (i--) DS__CMAP_LOCK_DESTROY(&sh[i].s.lock);                         \
                DS_FREE(cfg->alloc, raw, ds__cmap_block_bytes(n, sizeof(name##__shard))); \
                c->shards = NULL;                                                         \
                return DS_ENOMEM;                                                         \
            }                                                                             \
            DS__AINIT(&s->len, (size_t)0);                                                \
            if (cfg->capacity) {                                                          \
                name##__l_config lc;                                                      \
                memset(&lc, 0, sizeof lc);                                                \
                lc.max_entries = cfg->capacity / n + (size_t)(i < cfg->capacity % n);     \
                lc.on_evict = cfg->on_evict ? name##__lru_evict : NULL;                   \
                lc.ctx = c;                                                               \
                lc.policy = DS_CACHE_LRU;                                                 \
                lc.alloc = cfg->alloc;                                                    \
                lc.seed = c->seed;                                                        \
                st = name##__l_init(&s->u.lru, &lc); /* allocates nothing */              \
                DS_ASSERT(st == DS_OK);                                                   \
                (void)st;                                                                 \
            } else {                                                                      \
                name##__m_init_seed(&s->u.map, cfg->alloc, c->seed);                      \
            }                                                                             \
        }                                                                                 \
        return DS_OK;                                                                     \
    }                                                                                     \
    LINK void name##_free(name *c) {                                                      \
        size_t i, n;                                                                      \
        if (DS__UNLIKELY(!c || !c->shards)) return;                                       \
        n = c->mask + 1;                                                                  \
        for (i = 0; i < n; i++) {                                                         \
            name##__shard_core *s = &c->shards[i].s;                                      \
            if (c->cfg.capacity) {                                                        \
                name##__l_free(&s->u.lru);                                                \
            } else {                                                                      \
                name##__drop_all(c, s);                                                   \
                name##__m_free(&s->u.map);                                                \
            }                                                                             \
            DS__CMAP_LOCK_DESTROY(&s->lock);                                              \
        }                                                                                 \
        DS_FREE(c->cfg.alloc, c->raw, ds__cmap_block_bytes(n, sizeof(name##__shard)));    \
        c->shards = NULL;                                                                 \
        c->raw = NULL;                                                                    \
    }                                                                                     \
    LINK ds_status name##_get(name *c, K key, V *out) {                                   \
        name##__shard_core *s;                                                            \
        ds_status st = DS_ENOTFOUND;                                                      \
        uint64_t h;                                                                       \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        if (c->cfg.capacity) {                                                            \
            V *p;                                                                         \
            DS__CMAP_WRLOCK(&s->lock); /* a hit moves the entry: a write */               \
            if ((p = name##__l_get(&s->u.lru, key, 0)) != NULL) {                         \
                if (out) *out = *p;                                                       \
                st = DS_OK;                                                               \
            }                                                                             \
        } else {                                                                          \
            size_t i;                                                                     \
            DS__CMAP_RDLOCK(&s->lock);                                                    \
            if ((i = name##__find(s, key, h)) != DS__NPOS) {                              \
                if (out) *out = name##__at(s, i)->val;                                    \
                st = DS_OK;                                                               \
            }                                                                             \
        }                                                                                 \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK int name##_has(name *c, K key) {                                                 \
        name##__shard_core *s;                                                            \
        uint64_t h;                                                                       \
        int r;                                                                            \
        if (DS__UNLIKELY(!c || !c->shards)) return 0;                                     \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_RDLOCK(&s->lock);                                                        \
        r = c->cfg.capacity ? name##__l_peek(&s->u.lru, key, 0) != NULL                   \
                            : name##__find(s, key, h) != DS__NPOS;                        \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return r;                                                                         \
    }                                                                                     \
    LINK ds_status name##_put(name *c, K key, V val, int *is_new) {                       \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        int added = 0;                                                                    \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            added = name##__l_peek(&s->u.lru, key, 0) == NULL;                            \
            st = name##__l_put(&s->u.lru, key, val, 0); /* REPLACED, CAPACITY */          \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            if (i != DS__NPOS) {                                                          \
                name##_entry *e = name##__at(s, i);                                       \
                name##_entry old = *e;                                                    \
                e->key = key;                                                             \
                e->val = val;                                                             \
                name##__drop(c, &old.key, &old.val, DS_EVICT_REPLACED);                   \
            } else if ((st = name##__room(s)) == DS_OK) {                                 \
                name##__claim(s, key, h)->val = val;                                      \
                added = 1;                                                                \
            }                                                                             \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        if (is_new) *is_new = st == DS_OK && added;                                       \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_insert(name *c, K key, V val) {                                 \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            if (name##__l_peek(&s->u.lru, key, 0) != NULL) st = DS_EEXIST;                \
            else st = name##__l_put(&s->u.lru, key, val, 0);                              \
        } else {                                                                          \
            if (name##__find(s, key, h) != DS__NPOS) st = DS_EEXIST;                      \
            else if ((st = name##__room(s)) == DS_OK) name##__claim(s, key, h)->val = val; \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_del(name *c, K key, V *out) {                                   \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            st = name##__l_del(&s->u.lru, key, out, 0); /* DELETED when out == NULL */    \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            if (i == DS__NPOS) {                                                          \
                st = DS_ENOTFOUND;                                                        \
            } else {                                                                      \
                name##_entry old = *name##__at(s, i);                                     \
                ds__map_erase_at(&s->u.map.m, i);                                         \
                if (out) *out = old.val;                                                  \
                else name##__drop(c, &old.key, &old.val, DS_EVICT_DELETED);               \
            }                                                                             \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_upsert(name *c, K key, name##_upsert_fn fn, void *ctx) {        \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        if (DS__UNLIKELY(!c || !c->shards || !fn)) return DS_EINVAL;                      \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            V *p = name##__l_get(&s->u.lru, key, 0);                                      \
            if (p) {                                                                      \
                if (fn(ctx, &key, p, 0)) {                                                \
                    V gone;                                                               \
                    (void)name##__l_del(&s->u.lru, key, &gone, 0);                        \
                }                                                                         \
            } else if ((st = name##__l__reserve_one(&s->u.lru)) == DS_OK) {               \
                V v;                                                                      \
                memset((void *)&v, 0, sizeof v);                                          \
                if (!fn(ctx, &key, &v, 1)) {                                              \
                    st = name##__l_put(&s->u.lru, key, v, 0);                             \
                    DS_ASSERT(st == DS_OK); /* the room was reserved */                   \
                }                                                                         \
            }                                                                             \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            if (i != DS__NPOS) {                                                          \
                name##_entry *e = name##__at(s, i);                                       \
                if (fn(ctx, &e->key, &e->val, 0)) ds__map_erase_at(&s->u.map.m, i);       \
            } else if ((st = name##__room(s)) == DS_OK) {                                 \
                V v;                                                                      \
                memset((void *)&v, 0, sizeof v);                                          \
                if (!fn(ctx, &key, &v, 1)) name##__claim(s, key, h)->val = v;             \
            }                                                                             \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_compute_if_absent(name *c, K key, name##_make_fn make, void *ctx, \
                                            V *out) {                                     \
        name##__shard_core *s;                                                            \
        ds_status st = DS_OK;                                                             \
        uint64_t h;                                                                       \
        V v;                                                                              \
        if (DS__UNLIKELY(!c || !c->shards || !make)) return DS_EINVAL;                    \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            V *p = name##__l_get(&s->u.lru, key, 0);                                      \
            if (p) {                                                                      \
                v = *p;                                                                   \
            } else if ((st = name##__l__reserve_one(&s->u.lru)) == DS_OK) {               \
                memset((void *)&v, 0, sizeof v);                                          \
                if ((st = make(ctx, &key, &v)) == DS_OK) {                                \
                    st = name##__l_put(&s->u.lru, key, v, 0);                             \
                    DS_ASSERT(st == DS_OK); /* the room was reserved */                   \
                }                                                                         \
            }                                                                             \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            if (i != DS__NPOS) {                                                          \
                v = name##__at(s, i)->val;                                                \
            } else if ((st = name##__room(s)) == DS_OK) {                                 \
                memset((void *)&v, 0, sizeof v);                                          \
                if ((st = make(ctx, &key, &v)) == DS_OK) name##__claim(s, key, h)->val = v; \
            }                                                                             \
        }                                                                                 \
        name##__count(c, s);                                                              \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        if (st == DS_OK && out) *out = v;                                                 \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_cas(name *c, K key, V expected, V desired, V *actual) {         \
        name##__shard_core *s;                                                            \
        ds_status st = DS_ENOTFOUND;                                                      \
        uint64_t h;                                                                       \
        V *p;                                                                             \
        if (DS__UNLIKELY(!c || !c->shards)) return DS_EINVAL;                             \
        h = hash(key, c->seed);                                                           \
        s = name##__shard_of(c, h);                                                       \
        DS__CMAP_WRLOCK(&s->lock);                                                        \
        if (c->cfg.capacity) {                                                            \
            p = name##__l_get(&s->u.lru, key, 0);                                         \
        } else {                                                                          \
            size_t i = name##__find(s, key, h);                                           \
            p = i == DS__NPOS ? NULL : &name##__at(s, i)->val;                            \
        }                                                                                 \
        if (p) {                                                                          \
            if (actual) *actual = *p;                                                     \
            if (name##__val_eq(c, p, &expected)) {                                        \
                *p = desired;                                                             \
                st = DS_OK;                                                               \
            } else {                                                                      \
                st = DS_EMISMATCH;                                                            \
            }                                                                             \
        }                                                                                 \
        DS__CMAP_UNLOCK(&s->lock);                                                        \
        return st;                                                                        \
    }                                                                                     \
    LINK size_t name##_len(const name *c) {                                               \
        size_t i, n = 0;                                                                  \
        if (DS__UNLIKELY(!c || !c->shards)) return 0;                                     \
        for (i = 0; i <= c->mask; i++) n += DS__ALOAD(&c->shards[i].s.len, relaxed);      \
        return n;                                                                         \
    }                                                                                     \
    LINK size_t name##_capacity(const name *c) { return c && c->shards ? c->cfg.capacity : 0; } \
    LINK size_t name##_shards(const name *c) { return c && c->shards ? c->mask + 1 : 0; } \
    LINK void name##_clear(name *c) {                                                     \
        size_t i;                                                                         \
        if (DS__UNLIKELY(!c || !c->shards)) return;                                       \
        for (i = 0; i <= c->mask; i++) {                                                  \
            name##__shard_core *s = &c->shards[i].s;                                      \
            DS__CMAP_WRLOCK(&s->lock);                                                    \
            if (c->cfg.capacity) {                                                        \
                name##__l_clear(&s->u.lru);                                               \
            } else {                                                                      \
                name##__drop_all(c, s);                                                   \
                name##__m_clear(&s->u.map);                                               \
            }                                                                             \
            name##__count(c, s);                                                          \
            DS__CMAP_UNLOCK(&s->lock);                                                    \
        }                                                                                 \
    }                                                                                     \
    LINK size_t name##_foreach(name *c, name##_visit_fn fn, void *ctx) {                  \
        size_t i, calls = 0;                                                              \
        int stop = 0;                                                                     \
        if (DS__UNLIKELY(!c || !c->shards || !fn)) return 0;                              \
        for (i = 0; i <= c->mask && !stop; i++) {                                         \
            name##__shard_core *s = &c->shards[i].s;                                      \
            DS__CMAP_RDLOCK(&s->lock);                                                    \
            if (c->cfg.capacity) {                                                        \
                uint32_t it;                                                              \
                for (it = name##__l_first(&s->u.lru); it != DS_CACHE_END && !stop;        \
                     it = name##__l_next(&s->u.lru, it)) {                                \
                    calls++;                                                              \
                    stop = fn(ctx, name##__l_key(&s->u.lru, it), name##__l_val(&s->u.lru, it)); \
                }                                                                         \
            } else {                                                                      \
                name##_entry *e;                                                          \
                for (e = name##__m_first(&s->u.map); e && !stop; e = name##__m_next(&s->u.map, e)) { \
                    calls++;                                                              \
                    stop = fn(ctx, &e->key, &e->val);                                     \
                }                                                                         \
            }                                                                             \
            DS__CMAP_UNLOCK(&s->lock);                                                    \
        }                                                                                 \
        return calls;                                                                     \
    }                                                                                     \
    /* snapshot is foreach with a copying visitor. */                                     \
    typedef struct name##__snap {                                                         \
        name##_entry *out;                                                                \
        size_t cap, n;                                                                    \
        int full;                                                                         \
    } name##__snap;                                                                       \
    static int name##__snap_one(void *ctx, K const *key, V const *val) {                  \
        name##__snap *sn = (name##__snap *)ctx;                                           \
        if (sn->n == sn->cap) {                                                           \
            sn->full = 1;                                                                 \
            return 1;                                                                     \
        }                                                                                 \
        sn->out[sn->n].key = *key;                                                        \
        sn->out[sn->n].val = *val;                                                        \
        sn->n++;                                                                          \
        return 0;                                                                         \
    }                                                                                     \
    LINK ds_status name##_snapshot(name *c, name##_entry *out, size_t cap, size_t *n) {   \
        name##__snap sn;                                                                  \
        if (n) *n = 0;                                                                    \
        if (DS__UNLIKELY(!c || !c->shards || (!out && cap))) return DS_EINVAL;            \
        sn.out = out;                                                                     \
        sn.cap = cap;                                                                     \
        sn.n = 0;                                                                         \
        sn.full = 0;                                                                      \
        (void)name##_foreach(c, name##__snap_one, &sn);                                   \
        if (n) *n = sn.n;                                                                 \
        return sn.full ? DS_EFULL : DS_OK;                                                \
    }

#define DS_CMAP_DECLARE(name, K, V)                                                       \
    DS__CMAP_TYPES(name, K, V);                                                           \
    DS__CMAP_PROTOS(name, K, V, extern);
#define DS_CMAP_DEFINE(name, K, V, hash, eq) DS__CMAP_IMPL(name, K, V, hash, eq, )
#define DS_CMAP(name, K, V, hash, eq)                                                     \
    DS__CMAP_TYPES(name, K, V);                                                           \
    DS__CMAP_PROTOS(name, K, V, DS__LINK_STATIC);                                         \
    DS__CMAP_IMPL(name, K, V, hash, eq, DS__LINK_STATIC)


/* ========================================================================
 * == ds_conc:wrappers ==  thread-safe wrappers of ds.h structures
 * ========================================================================
 * Four ds.h structures behind one pthread mutex each, plus the blocking
 * calls a shared structure needs:
 *
 *   DS_CLRU(name, K, V, hash, eq)   DS_LRU with single-flight read-through
 *   DS_CTSTORE(name, V)             DS_TSTORE whose readers can wait for data
 *   ds_climiter                     ds_limiter whose acquire sleeps until admitted
 *   ds_cbreaker                     ds_breaker shared by many callers
 *
 * Each keeps the ds.h structure's config, semantics and errors, and adds
 * DS_ECLOSED / DS_ETIMEDOUT where it blocks. Values are copied
 * out under the lock: no pointer into shared storage escapes. One lock is
 * the right grain here: an operation costs less than handing the lock
 * between cores, so more cores are served by sharding (ds_conc:cmap), not
 * by finer locks. Sleepers use the eventcount above (futex, or condvar
 * with DS_CONC_NO_FUTEX): a waiter announces itself while it holds the
 * lock and the condition is false, then unlocks and sleeps; a waker
 * changes the state under the lock, unlocks, and notifies - no lost
 * wake-up, and no wake-up system call when nobody sleeps. The lock orders
 * announcement and notify, so the wrappers never need the rings' heavy
 * fence (their queues come from ds__waitq_init_locked: membarrier is
 * neither registered nor run, and a notify is one plain load). A wait
 * whose deadline has passed makes no system call.
 *
 * Common rules: every call but init/free may run from any number of
 * threads at once; free only after every other thread is done with it.
 * Callbacks from the ds.h configs (on_evict, weigher, on_state) run with
 * the lock held: they must not call into the same wrapper (it would
 * deadlock). Blocking calls come in pairs, name_x (waits without limit)
 * and name_x_timeout (relative ns, see TIMEOUTS; DS_ETIMEDOUT). */

/* Statistics of a DS_CLRU: the LRU's own plus the single-flight ones. */
typedef struct ds_clru_stats {
    ds_cache_stats cache; /* hits, misses (waiters included), loads, load_errors, evictions */
    uint64_t coalesced;   /* misses served by another caller's load (no loader call;
                             its result, value or error, reached them) */
    uint64_t uncached;    /* loads handed to their callers but not cached: a put, del
                             or clear of the key raced the load, or DS_ENOMEM */
    uint64_t timeouts;    /* get_or_load_timeout waits that gave up */
} ds_clru_stats;

/* Shared by the wrappers (implementation half). mutex_init: DS_ENOMEM if
 * pthread_mutex_init fails. sleep: called with mu held after the caller saw
 * its condition false; announces the sleep on w (without the heavy fence:
 * see ds__waitq_prepare_locked), unlocks, sleeps until a notify of w, a
 * spurious wake-up or the deadline (ds_now_ns(); INT64_MAX: none), locks
 * again. Returns nonzero once the deadline has passed (at once, without
 * unlocking, if it already had). */
DSDEF ds_status ds__conc_mutex_init(pthread_mutex_t *mu);
DSDEF int ds__conc_sleep(pthread_mutex_t *mu, ds__waitq *w, int64_t deadline);

/* -- DS_CLRU(name, K, V, hash, eq): locked LRU, single-flight loads -------
 * A DS_LRU (instantiated as name_lru: LRU or W-TinyLFU, TTLs, weights,
 * negative caching; see ds:cache) behind a mutex. get_or_load is
 * read-through with single flight, as Go's singleflight, Guava's
 * LoadingCache and Caffeine's get(key, loader): when many threads miss the
 * same key at once, the loader runs ONCE, in the first of them and without
 * the lock held (other keys are served meanwhile); the rest sleep until its
 * result comes and each gets a copy of it. Which gives:
 *   - hit: DS_OK and a copy of the value (or DS_ENOTFOUND for a cached
 *     negative entry, see negative_ttl);
 *   - miss, no load of the key running: this caller loads. It records the
 *     load (one small allocation, made before the lookup touches anything:
 *     DS_ENOMEM if it fails, and nothing else happens - no expired entry
 *     dropped, no miss counted), unlocks, calls load(lctx, &key, &v, &ttl)
 *     (ttl preset to default_ttl), locks again and caches the value with
 *     that ttl, then wakes the waiters. (W-TinyLFU keeps one spare record
 *     for a lookup whose hill-climbing step evicts the key; the call that
 *     first needs it allocates it, and may get DS_ENOMEM, with nothing
 *     changed, though the key was cached);
 *   - miss while another thread loads the key: waits for that load and
 *     returns what it returned: DS_OK and a copy of the value, or the
 *     loader's error. A failed load caches nothing (except DS_ENOTFOUND
 *     with negative_ttl > 0, cached as a negative entry as in DS_LRU) and
 *     the next miss loads again;
 *   - a put, del or clear of the key while it loads wins: the loaded value
 *     still goes to the callers of that load but is not cached, so an
 *     invalidation is never undone by a load that began before it; and a
 *     miss that starts after the put/del/clear returned does not join that
 *     older load (whose value may predate the invalidation): it loads anew;
 *   - if the loaded value cannot be cached (DS_ENOMEM), its callers still
 *     get it (DS_OK; stats.uncached counts it); a negative ttl from the
 *     loader is DS_EINVAL for all of them, whether or not an invalidation
 *     raced the load (the value goes to on_evict as DELETED); a deadline
 *     past INT64_MAX - 1 saturates there, as DS_LRU's put_ttl;
 *   - called from a loader for the key that loader is loading (same
 *     thread): DS_EDEADLK instead of waiting on itself. A loader may use the
 *     cache for other keys; loaders of different threads waiting on each
 *     other's keys in a cycle deadlock (as in every single-flight cache).
 * The loader runs in the caller's thread and must return (a loader that
 * never returns holds its waiters forever; use the _timeout form to bound
 * the wait). The TTL of a loaded entry runs from the `now` of the call
 * that loaded it. V is copied (out, to waiters): plain values, or handles
 * whose lifetime the owner manages (refcounts); on_evict sees the cache's
 * own copy only.
 *
 *   typedef name_lru_config name_config;       (DS_LRU's config)
 *   typedef name_lru_loader name_loader;
 *          ds_status (*)(void *lctx, K const *key, V *out, int64_t *ttl)
 *   ds_status name_init(name *c, const name_config *cfg)   NULL = unbounded
 *          LRU; DS_EINVAL as DS_LRU's init; DS_ENOMEM
 *   void      name_free(name *c)       removes everything (DELETED), frees
 *   void      name_clear(name *c)      removes everything (DELETED)
 *   ds_status name_get(name *c, K key, int64_t now, V *out)   copies the
 *          value to *out (may be NULL); DS_ENOTFOUND on a miss or a
 *          negative entry. Promotes, counts a hit/miss, drops it if expired
 *   ds_status name_put(name *c, K key, V val, int64_t now)
 *   ds_status name_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now)
 *   ds_status name_del(name *c, K key, V *out, int64_t now)   as DS_LRU (DS_ENOTFOUND)
 *   ds_status name_get_or_load(name *c, K key, int64_t now, name_loader load,
 *                              void *lctx, V *out)
 *   ds_status name_get_or_load_timeout(name *c, K key, int64_t now,
 *                              name_loader load, void *lctx, V *out, int64_t timeout_ns)
 *          as above; a caller waiting on another's load gives up after
 *          timeout_ns (DS_ETIMEDOUT; the load goes on and is cached). The
 *          loading caller is never timed out. DS_EINVAL: c or load NULL.
 *   ds_status name_set_capacity(name *c, size_t max_entries, uint64_t max_weight, int64_t now)
 *   size_t    name_expire(name *c, int64_t now, size_t budget)
 *   size_t    name_len(name *c)
 *   ds_clru_stats name_stats(name *c); void name_reset_stats(name *c)
 * Thread safety: every call but init/free from any thread at once. The
 * loader runs without the lock; on_evict and weigher run under it.
 * Complexity: as DS_LRU (O(1) expected) under one lock, plus O(loads in
 * flight) for a miss, and for put/del/clear while loads are in flight.
 * Memory: DS_LRU's, plus sizeof(K) + sizeof(V) + 40 bytes per load in
 * flight (and one spare such record with W-TinyLFU). */

#define DS__CLRU_TYPES(name, K, V)                                                \
    typedef name##_lru_config name##_config;                                      \
    typedef name##_lru_loader name##_loader;                                      \
    typedef struct name##__flight { /* one load in progress */                   \
        struct name##__flight *next;                                              \
        K key;                                                                    \
        V val;             /* the result, once done */                            \
        uint64_t h;        /* the key's hash */                                   \
        pthread_t owner;   /* the loading thread */                               \
        ds_status st;                                                             \
        uint32_t refs;     /* the loader + its waiters; the last one frees it */  \
        int done, stale;   /* stale: a put/del/clear of the key came meanwhile */ \
                           /* (and unlinked it from flights to detached) */     \
    } name##__flight;                                                             \
    typedef struct name {                                                         \
        pthread_mutex_t mu;                                                       \
        name##_lru lru;           /* under mu */                                  \
        name##__flight *flights;  /* under mu: the loads later misses join */     \
        name##__flight *detached; /* under mu: stale loads still running */      \
        name##__flight *spare;    /* under mu: W-TinyLFU: see __load_until */    \
        ds__waitq loaded;         /* notified when a load finishes */             \
        uint64_t coalesced, uncached, timeouts;                                   \
    } name

#define DS__CLRU_PROTOS(name, K, V, LINK)                                                  \
    LINK ds_status name##_init(name *c, const name##_config *cfg);                        \
    LINK void name##_free(name *c);                                                       \
    LINK void name##_clear(name *c);                                                      \
    LINK ds_status name##_get(name *c, K key, int64_t now, V *out);                       \
    LINK ds_status name##_put(name *c, K key, V val, int64_t now);                        \
    LINK ds_status name##_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now);       \
    LINK ds_status name##_del(name *c, K key, V *out, int64_t now);                       \
    LINK ds_status name##_get_or_load(name *c, K key, int64_t now, name##_loader load,    \
                                      void *lctx, V *out);                                \
    LINK ds_status name##_get_or_load_timeout(name *c, K key, int64_t now,                \
                                              name##_loader load, void *lctx, V *out,     \
                                              int64_t timeout_ns);                        \
    LINK ds_status name##_set_capacity(name *c, size_t max_entries, uint64_t max_weight,  \
                                       int64_t now);                                      \
    LINK size_t name##_expire(name *c, int64_t now, size_t budget);                       \
    LINK size_t name##_len(name *c);                                                      \
    LINK ds_clru_stats name##_stats(name *c);                                             \
    LINK void name##_reset_stats(name *c)

/* Uses DS_LRU's internal steps (name_lru__lookup, __touch, __insert, ...)
 * so a load is split around the unlocked loader call exactly as DS_LRU's
 * own get_or_load does it in one piece (same stats, same negative caching). */
#define DS__CLRU_IMPL(name, K, V, hash, eq, LINK)                                          \
    static inline uint64_t name##__hash(const name *c, K key) {                           \
        return hash(key, c->lru.c.index.seed);                                            \
    }                                                                                     \
    static inline name##__flight *name##__flight_of(const name *c, K key, uint64_t h) {   \
        name##__flight *f;                                                                \
        for (f = c->flights; f; f = f->next)                                              \
            if (f->h == h && (eq(f->key, key))) return f;                                 \
        return NULL;                                                                      \
    }                                                                                     \
    /* Whether the calling thread runs a load of key (a loader re-entering for   \
     * its own key), attached or detached. */                                     \
    static inline int name##__own_flight(const name *c, K key, uint64_t h) {             \
        const name##__flight *f;                                                          \
        int pass;                                                                         \
        for (pass = 0; pass < 2; pass++)                                                  \
            for (f = pass ? c->detached : c->flights; f; f = f->next)                     \
                if (f->h == h && pthread_equal(f->owner, pthread_self()) && (eq(f->key, key))) \
                    return 1;                                                             \
        return 0;                                                                         \
    }                                                                                     \
    /* Invalidation of the flight *pp: it is marked stale (its value will not   \
     * be cached) and moved to the detached list, so a miss that starts after   \
     * the put/del/clear starts a new load instead of joining this older one    \
     * (whose result would predate the invalidation). Its loader and the        \
     * callers that joined it before still get its result. */                   \
    static inline void name##__detach(name *c, name##__flight **pp) {                     \
        name##__flight *f = *pp;                                                          \
        *pp = f->next;                                                                    \
        f->stale = 1;                                                                     \
        f->next = c->detached;                                                            \
        c->detached = f;                                                                  \
    }                                                                                     \
    /* A put/del of key while it loads: that load must not be cached over it. */         \
    static inline void name##__invalidate(name *c, K key) {                               \
        name##__flight **pp;                                                              \
        uint64_t h;                                                                       \
        if (!c->flights) return;                                                          \
        h = name##__hash(c, key);                                                         \
        for (pp = &c->flights; *pp; pp = &(*pp)->next)                                    \
            if ((*pp)->h == h && (eq((*pp)->key, key))) {                                 \
                name##__detach(c, pp);                                                    \
                return;                                                                   \
            }                                                                             \
    }                                                                                     \
    static inline void name##__unref(name *c, name##__flight *f) {                        \
        if (--f->refs == 0) DS_FREE(c->lru.cfg.alloc, f, sizeof *f);                      \
    }                                                                                     \
    /* DS_LRU's lookup step: 1 hit (copied to out), -1 negative entry, 0 miss. */        \
    static inline int name##__look(name##_lru *l, K key, int64_t now, V *out) {           \
        uint32_t id;                                                                      \
        int neg;                                                                          \
        name##_lru__climb(l, now);                                                        \
        id = name##_lru__lookup(l, key, now, NULL);                                       \
        if (id == DS__CNIL) {                                                             \
            l->c.stats.misses++;                                                          \
            l->climb_misses++;                                                            \
            return 0;                                                                     \
        }                                                                                 \
        l->c.stats.hits++;                                                                \
        l->climb_hits++;                                                                  \
        name##_lru__touch(l, id, now);                                                    \
        neg = (ds__cl(&l->c, id)->flags & DS__CF_NEG) != 0;                               \
        if (!neg && out) *out = *name##_lru__v(l, id);                                    \
        name##_lru__maintain(l, now);                                                     \
        return neg ? -1 : 1;                                                              \
    }                                                                                     \
    /* Whether name__look will miss, judged without changing anything: the key \
     * is absent or expired. 2: it is live, but the hill climber is due        \
     * (name_lru__climb's own test), which may resize the window and evict it. */ \
    static inline int name##__will_miss(const name##_lru *l, K key, uint64_t h, int64_t now) { \
        uint32_t id = name##_lru__find(l, key, h, NULL);                                  \
        if (id == DS__CNIL || ds__cache_dead(&l->c, id, now)) return 1;                   \
        return l->cfg.policy == DS_CACHE_WTINYLFU &&                                      \
                       l->climb_hits + l->climb_misses >= 10 * name##_lru__base(l)        \
                   ? 2                                                                    \
                   : 0;                                                                   \
    }                                                                                     \
    /* Store a finished load (under the lock); returns the callers' status. */           \
    static inline ds_status name##__store(name *c, name##__flight *f, ds_status st,      \
                                          V *v, int64_t ttl, int64_t now) {               \
        name##_lru *l = &c->lru;                                                          \
        ds_status put;                                                                    \
        if (st != DS_OK) {                                                                \
            l->c.stats.load_errors++;                                                     \
            if (st == DS_ENOTFOUND && l->cfg.negative_ttl > 0 && !f->stale) {             \
                V z;                                                                      \
                memset(&z, 0, sizeof z);                                                  \
                (void)name##_lru__insert(l, f->key, z, l->cfg.negative_ttl, now, DS__CF_NEG); \
            }                                                                             \
            return st;                                                                    \
        }                                                                                 \
        l->c.stats.loads++;                                                               \
        /* The loader's ttl, checked as name_lru__insert does, before the stale  \
         * test: a bad one is DS_EINVAL whether or not a put/del raced the load. */ \
        if (ttl < 0) put = DS_EINVAL; /* a deadline past INT64_MAX - 1 saturates */     \
        else if (f->stale) put = DS_OK;                                                   \
        else put = name##_lru__insert(l, f->key, *v, ttl, now, 0);                        \
        if (put == DS_EINVAL) {                                                           \
            if (l->cfg.on_evict) l->cfg.on_evict(l->cfg.ctx, &f->key, v, DS_EVICT_DELETED); \
            return DS_EINVAL;                                                             \
        }                                                                                 \
        if (f->stale) {                                                                   \
            c->uncached++;                                                                \
            return DS_OK;                                                                 \
        }                                                                                 \
        if (put != DS_OK) c->uncached++;                                                  \
        return DS_OK;                                                                     \
    }                                                                                     \
    static inline ds_status name##__load_until(name *c, K key, int64_t now,               \
                                               name##_loader load, void *lctx, V *out,    \
                                               int64_t deadline) {                        \
        name##__flight *f, *nf = NULL, **pp;                                              \
        ds_status st;                                                                     \
        uint64_t h;                                                                       \
        int64_t ttl;                                                                      \
        int r, own, miss = 0;                                                             \
        V v;                                                                              \
        if (DS__UNLIKELY(!c || !load)) return DS_EINVAL;                                  \
        pthread_mutex_lock(&c->mu);                                                       \
        h = name##__hash(c, key);                                                         \
        f = name##__flight_of(c, key, h);                                                 \
        own = (f && pthread_equal(f->owner, pthread_self())) ||                           \
              (c->detached && name##__own_flight(c, key, h));                             \
        /* Strong guarantee: the lookup drops an expired entry (on_evict), counts \
         * a miss, feeds TinyLFU; so the record a new load needs is allocated     \
         * first when it will miss with no load to join. For the rare miss the    \
         * hill climber causes, a spare record is kept (allocated when first     \
         * due; DS_ENOMEM then, before any change). */                           \
        if (!f && !own) miss = name##__will_miss(&c->lru, key, h, now);                   \
        if (miss == 1 || (miss == 2 && !c->spare)) {                                      \
            nf = (name##__flight *)DS_MALLOC(c->lru.cfg.alloc, sizeof *nf);               \
            if (!nf) {                                                                    \
                pthread_mutex_unlock(&c->mu);                                             \
                return DS_ENOMEM;                                                         \
            }                                                                             \
            if (miss == 2) {                                                              \
                c->spare = nf;                                                            \
                nf = NULL;                                                                \
            }                                                                             \
        }                                                                                 \
        r = name##__look(&c->lru, key, now, out);                                         \
        if (r != 0 || own) {                                                              \
            if (nf) DS_FREE(c->lru.cfg.alloc, nf, sizeof *nf); /* a hit after all */     \
            pthread_mutex_unlock(&c->mu);                                                 \
            /* a hit; else its own load: it never waits on itself */                     \
            return r > 0 ? DS_OK : r < 0 ? DS_ENOTFOUND : DS_EDEADLK;                       \
        }                                                                                 \
        if (f) { /* someone is loading it: wait for that load */                         \
            f->refs++;                                                                    \
            while (!f->done) {                                                            \
                if (ds__conc_sleep(&c->mu, &c->loaded, deadline) && !f->done) {           \
                    c->timeouts++;                                                        \
                    f->refs--; /* the loader still holds its own reference */            \
                    pthread_mutex_unlock(&c->mu);                                         \
                    return DS_ETIMEDOUT;                                                  \
                }                                                                         \
            }                                                                             \
            c->coalesced++; /* served by that load (a timed-out wait was not) */        \
            st = f->st;                                                                   \
            if (st == DS_OK && out) *out = f->val;                                        \
            name##__unref(c, f);                                                          \
            pthread_mutex_unlock(&c->mu);                                                 \
            return st;                                                                    \
        }                                                                                 \
        if (nf) {                                                                         \
            f = nf;                                                                       \
        } else { /* the climber evicted it (will_miss said 2) */                        \
            f = c->spare;                                                                 \
            c->spare = NULL;                                                              \
            DS_ASSERT(f != NULL);                                                         \
        }                                                                                 \
        memset(f, 0, sizeof *f);                                                          \
        f->key = key;                                                                     \
        f->h = h;                                                                         \
        f->owner = pthread_self();                                                        \
        f->refs = 1;                                                                      \
        f->next = c->flights;                                                             \
        c->flights = f;                                                                   \
        ttl = c->lru.cfg.default_ttl;                                                     \
        pthread_mutex_unlock(&c->mu);                                                     \
        memset(&v, 0, sizeof v);                                                          \
        st = load(lctx, &key, &v, &ttl); /* unlocked: other keys go on */               \
        pthread_mutex_lock(&c->mu);                                                       \
        /* unlink it: from flights, or from detached if invalidated meanwhile */         \
        for (pp = f->stale ? &c->detached : &c->flights; *pp != f; pp = &(*pp)->next) {   \
        }                                                                                 \
        *pp = f->next;                                                                    \
        st = name##__store(c, f, st, &v, ttl, now);                                       \
        f->st = st;                                                                       \
        f->val = v;                                                                       \
        f->done = 1;                                                                      \
        if (st == DS_OK && out) *out = v;                                                 \
        name##__unref(c, f);                                                              \
        pthread_mutex_unlock(&c->mu);                                                     \
        ds__waitq_notify(&c->loaded, 1);                                                  \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_init(name *c, const name##_config *cfg) {                       \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        memset((void *)c, 0, sizeof *c); /* a failed init leaves a struct free accepts */ \
        if ((st = name##_lru_init(&c->lru, cfg)) != DS_OK) return st;                     \
        if ((st = ds__conc_mutex_init(&c->mu)) != DS_OK) {                                \
            name##_lru_free(&c->lru);                                                     \
            return st;                                                                    \
        }                                                                                 \
        if ((st = ds__waitq_init_locked(&c->loaded)) != DS_OK) {                                 \
            pthread_mutex_destroy(&c->mu);                                                \
            name##_lru_free(&c->lru);                                                     \
            return st;                                                                    \
        }                                                                                 \
        c->flights = c->detached = c->spare = NULL;                                       \
        c->coalesced = c->uncached = c->timeouts = 0;                                     \
        return DS_OK;                                                                     \
    }                                                                                     \
    LINK void name##_free(name *c) {                                                      \
        if (!c) return;                                                                   \
        if (c->spare) DS_FREE(c->lru.cfg.alloc, c->spare, sizeof *c->spare);              \
        name##_lru_free(&c->lru);                                                         \
        ds__waitq_destroy(&c->loaded);                                                    \
        pthread_mutex_destroy(&c->mu);                                                    \
    }                                                                                     \
    LINK void name##_clear(name *c) {                                                     \
        if (!c) return;                                                                   \
        pthread_mutex_lock(&c->mu);                                                       \
        while (c->flights) name##__detach(c, &c->flights);                                \
        name##_lru_clear(&c->lru);                                                        \
        pthread_mutex_unlock(&c->mu);                                                     \
    }                                                                                     \
    LINK ds_status name##_get(name *c, K key, int64_t now, V *out) {                      \
        V *p;                                                                             \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        p = name##_lru_get(&c->lru, key, now);                                            \
        if (p && out) *out = *p;                                                          \
        pthread_mutex_unlock(&c->mu);                                                     \
        return p ? DS_OK : DS_ENOTFOUND;                                                  \
    }                                                                                     \
    LINK ds_status name##_put_ttl(name *c, K key, V val, int64_t ttl, int64_t now) {      \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        st = name##_lru_put_ttl(&c->lru, key, val, ttl, now);                             \
        if (st == DS_OK) name##__invalidate(c, key);                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_put(name *c, K key, V val, int64_t now) {                       \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        st = name##_lru_put(&c->lru, key, val, now);                                      \
        if (st == DS_OK) name##__invalidate(c, key);                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_del(name *c, K key, V *out, int64_t now) {                      \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        name##__invalidate(c, key); /* found or not: a load in flight may be older */    \
        st = name##_lru_del(&c->lru, key, out, now);                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_get_or_load(name *c, K key, int64_t now, name##_loader load,    \
                                      void *lctx, V *out) {                               \
        return name##__load_until(c, key, now, load, lctx, out, INT64_MAX);               \
    }                                                                                     \
    LINK ds_status name##_get_or_load_timeout(name *c, K key, int64_t now,                \
                                              name##_loader load, void *lctx, V *out,     \
                                              int64_t timeout_ns) {                       \
        return name##__load_until(c, key, now, load, lctx, out, ds__conc_deadline(timeout_ns)); \
    }                                                                                     \
    LINK ds_status name##_set_capacity(name *c, size_t max_entries, uint64_t max_weight,  \
                                       int64_t now) {                                     \
        ds_status st;                                                                     \
        if (!c) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&c->mu);                                                       \
        st = name##_lru_set_capacity(&c->lru, max_entries, max_weight, now);              \
        pthread_mutex_unlock(&c->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK size_t name##_expire(name *c, int64_t now, size_t budget) {                      \
        size_t n;                                                                         \
        if (!c) return 0;                                                                 \
        pthread_mutex_lock(&c->mu);                                                       \
        n = name##_lru_expire(&c->lru, now, budget);                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK size_t name##_len(name *c) {                                                     \
        size_t n;                                                                         \
        if (!c) return 0;                                                                 \
        pthread_mutex_lock(&c->mu);                                                       \
        n = name##_lru_len(&c->lru);                                                      \
        pthread_mutex_unlock(&c->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK ds_clru_stats name##_stats(name *c) {                                            \
        ds_clru_stats s_;                                                                 \
        memset(&s_, 0, sizeof s_);                                                        \
        if (!c) return s_;                                                                \
        pthread_mutex_lock(&c->mu);                                                       \
        s_.cache = name##_lru_stats(&c->lru);                                             \
        s_.coalesced = c->coalesced;                                                      \
        s_.uncached = c->uncached;                                                        \
        s_.timeouts = c->timeouts;                                                        \
        pthread_mutex_unlock(&c->mu);                                                     \
        return s_;                                                                        \
    }                                                                                     \
    LINK void name##_reset_stats(name *c) {                                               \
        if (!c) return;                                                                   \
        pthread_mutex_lock(&c->mu);                                                       \
        name##_lru_reset_stats(&c->lru);                                                  \
        c->coalesced = c->uncached = c->timeouts = 0;                                     \
        pthread_mutex_unlock(&c->mu);                                                     \
    }

#define DS_CLRU_DECLARE(name, K, V)  \
    DS_LRU_DECLARE(name##_lru, K, V) \
    DS__CLRU_TYPES(name, K, V);      \
    DS__CLRU_PROTOS(name, K, V, extern);
#define DS_CLRU_DEFINE(name, K, V, hash, eq)   \
    DS_LRU_DEFINE(name##_lru, K, V, hash, eq) \
    DS__CLRU_IMPL(name, K, V, hash, eq, )
#define DS_CLRU(name, K, V, hash, eq)                 \
    DS_LRU(name##_lru, K, V, hash, eq)                \
    DS__CLRU_TYPES(name, K, V);                       \
    DS__CLRU_PROTOS(name, K, V, DS__LINK_STATIC);     \
    DS__CLRU_IMPL(name, K, V, hash, eq, DS__LINK_STATIC)

/* -- DS_CTSTORE(name, V): waitable time-indexed store -------------------
 * A DS_TSTORE (instantiated as name_ts) behind a mutex, with readers that
 * can wait for data: the seed's ThreadSafeTimeBasedStorage (a lock, a
 * condition, add notifying wait_for_data). Adds wake every waiter.
 * Closing ends the stream: adds get DS_ECLOSED, waits return DS_ECLOSED
 * once there is nothing left for them, reads go on working.
 *
 *   ds_status name_init(name *s), name_init_alloc(name *s, const ds_alloc *a)
 *          DS_EINVAL (NULL), DS_ENOMEM (pthread_mutex_init failed, or
 *          pthread_cond_init where sleeps use the condvar); allocates nothing
 *   void      name_free(name *s)
 *   void      name_close(name *s); int name_is_closed(const name *s) (lock-free)
 *   ds_status name_insert(name *s, int64_t ts, V v)        DS_EEXIST, DS_ENOMEM
 *          (store unchanged, nobody woken), DS_ECLOSED
 *   ds_status name_insert_unique(name *s, int64_t ts, V v, int64_t max_offset, int64_t *used)
 *   ds_status name_insert_batch(name *s, const int64_t *ts, const V *vals, size_t n, size_t *added)
 *          as DS_TSTORE's, then wake the waiters; DS_ECLOSED
 *   ds_status name_get(name *s, int64_t ts, V *out)     the value at ts
 *          (copied; out may be NULL); DS_ENOTFOUND
 *   ds_status name_del(name *s, int64_t ts, V *out)  DS_ENOTFOUND
 *   size_t    name_range(name *s, int64_t start, int64_t end, int64_t *ts_out,
 *                        V *vals_out, size_t cap)
 *   size_t    name_duration(name *s, int64_t d, int64_t now, int64_t *ts_out,
 *                           V *vals_out, size_t cap)
 *          as DS_TSTORE's (copies the first cap; returns how many in all),
 *          one consistent snapshot
 *   ds_status name_earliest(name *s, int64_t *ts, V *out), name_latest(...)
 *   ds_status name_pop_earliest(name *s, int64_t *ts, V *out)     DS_EEMPTY
 *   size_t    name_expire_before(name *s, int64_t cutoff)
 *   size_t    name_len(name *s); void name_clear(name *s)
 *   uint64_t  name_adds(name *s)   entries added since init (a version)
 *   ds_status name_wait_for_data(name *s)
 *   ds_status name_wait_for_data_timeout(name *s, int64_t timeout_ns)
 *          DS_OK as soon as the store is non-empty (at once if it is);
 *          DS_ECLOSED if closed and empty; DS_ETIMEDOUT
 *   ds_status name_wait_for_insert(name *s, uint64_t *seen)
 *   ds_status name_wait_for_insert_timeout(name *s, uint64_t *seen, int64_t timeout_ns)
 *          DS_OK once name_adds(s) > *seen, and *seen = name_adds(s): data
 *          added after the version the caller last saw (start with
 *          seen = name_adds(s); no add is missed between two calls);
 *          DS_ECLOSED if closed with nothing newer; DS_ETIMEDOUT; DS_EINVAL
 *          if seen is NULL
 *   ds_status name_wait_pop(name *s, int64_t *ts, V *out)
 *   ds_status name_wait_pop_timeout(name *s, int64_t *ts, V *out, int64_t timeout_ns)
 *          wait for data, then pop the earliest entry (both under one lock
 *          hold: each entry goes to exactly one popper); after close they
 *          drain the store, then DS_ECLOSED
 * Thread safety: every call but init/free from any thread at once.
 * Complexity: DS_TSTORE's under one lock; an add that wakes k sleepers
 * costs one wake-up system call (they then take the lock in turn). */

#define DS__CTSTORE_TYPES(name, V)                                 \
    typedef struct name {                                          \
        pthread_mutex_t mu;                                        \
        name##_ts s;        /* under mu */                         \
        ds__waitq added;    /* notified by add and close */        \
        uint64_t adds;      /* under mu */                         \
        DS__ATOMIC(int) closed; /* set under mu */                 \
    } name

#define DS__CTSTORE_PROTOS(name, V, LINK)                                                  \
    LINK ds_status name##_init(name *s);                                                  \
    LINK ds_status name##_init_alloc(name *s, const ds_alloc *a);                         \
    LINK void name##_free(name *s);                                                       \
    LINK void name##_close(name *s);                                                      \
    LINK int name##_is_closed(const name *s);                                             \
    LINK ds_status name##_insert(name *s, int64_t ts, V v);                                  \
    LINK ds_status name##_insert_unique(name *s, int64_t ts, V v, int64_t max_offset,        \
                                     int64_t *used);                                      \
    LINK ds_status name##_insert_batch(name *s, const int64_t *ts, const V *vals, size_t n,  \
                                    size_t *added);                                       \
    LINK ds_status name##_get(name *s, int64_t ts, V *out);                               \
    LINK ds_status name##_del(name *s, int64_t ts, V *out);                            \
    LINK size_t name##_range(name *s, int64_t start, int64_t end, int64_t *ts_out,        \
                             V *vals_out, size_t cap);                                    \
    LINK size_t name##_duration(name *s, int64_t d, int64_t now, int64_t *ts_out,         \
                                V *vals_out, size_t cap);                                 \
    LINK ds_status name##_earliest(name *s, int64_t *ts, V *out);                         \
    LINK ds_status name##_latest(name *s, int64_t *ts, V *out);                           \
    LINK ds_status name##_pop_earliest(name *s, int64_t *ts, V *out);                     \
    LINK size_t name##_expire_before(name *s, int64_t cutoff);                            \
    LINK size_t name##_len(name *s);                                                      \
    LINK void name##_clear(name *s);                                                      \
    LINK uint64_t name##_adds(name *s);                                                   \
    LINK ds_status name##_wait_for_data(name *s);                                         \
    LINK ds_status name##_wait_for_data_timeout(name *s, int64_t timeout_ns);             \
    LINK ds_status name##_wait_for_insert(name *s, uint64_t *seen);                          \
    LINK ds_status name##_wait_for_insert_timeout(name *s, uint64_t *seen, int64_t timeout_ns); \
    LINK ds_status name##_wait_pop(name *s, int64_t *ts, V *out);                         \
    LINK ds_status name##_wait_pop_timeout(name *s, int64_t *ts, V *out, int64_t timeout_ns)

#define DS__CTSTORE_IMPL(name, V, LINK)                                                    \
    /* closed is only set under mu: readers holding mu need no ordering. */           \
    static inline int name##__closed(const name *s) { return DS__ALOAD(&s->closed, relaxed); } \
    LINK ds_status name##_init_alloc(name *s, const ds_alloc *a) {                        \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        if ((st = ds__conc_mutex_init(&s->mu)) != DS_OK) return st;                       \
        if ((st = ds__waitq_init_locked(&s->added)) != DS_OK) {                                  \
            pthread_mutex_destroy(&s->mu);                                                \
            return st;                                                                    \
        }                                                                                 \
        name##_ts_init_alloc(&s->s, a);                                                   \
        s->adds = 0;                                                                      \
        DS__AINIT(&s->closed, 0);                                                         \
        return DS_OK;                                                                     \
    }                                                                                     \
    LINK ds_status name##_init(name *s) { return name##_init_alloc(s, NULL); }            \
    LINK void name##_free(name *s) {                                                      \
        if (!s) return;                                                                   \
        name##_ts_free(&s->s);                                                            \
        ds__waitq_destroy(&s->added);                                                     \
        pthread_mutex_destroy(&s->mu);                                                    \
    }                                                                                     \
    LINK void name##_close(name *s) {                                                     \
        if (!s) return;                                                                   \
        pthread_mutex_lock(&s->mu);                                                       \
        DS__ASTORE(&s->closed, 1, release);                                               \
        pthread_mutex_unlock(&s->mu);                                                     \
        ds__waitq_notify(&s->added, 1);                                                   \
    }                                                                                     \
    LINK int name##_is_closed(const name *s) {                                            \
        return s ? DS__ALOAD(&s->closed, acquire) : 0;                                    \
    }                                                                                     \
    /* The three adds: under the lock unless closed; wake everyone on news. */           \
    LINK ds_status name##_insert(name *s, int64_t ts, V v) {                                 \
        ds_status st = DS_ECLOSED;                                                        \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        if (!name##__closed(s) && (st = name##_ts_insert(&s->s, ts, v)) == DS_OK) s->adds++;         \
        pthread_mutex_unlock(&s->mu);                                                     \
        if (st == DS_OK) ds__waitq_notify(&s->added, 1);                                  \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_insert_unique(name *s, int64_t ts, V v, int64_t max_offset,        \
                                     int64_t *used) {                                     \
        ds_status st = DS_ECLOSED;                                                        \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        if (!name##__closed(s) && (st = name##_ts_insert_unique(&s->s, ts, v, max_offset, used)) == DS_OK) \
            s->adds++;                                                                    \
        pthread_mutex_unlock(&s->mu);                                                     \
        if (st == DS_OK) ds__waitq_notify(&s->added, 1);                                  \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_insert_batch(name *s, const int64_t *ts, const V *vals, size_t n,  \
                                    size_t *added) {                                      \
        ds_status st = DS_ECLOSED;                                                        \
        size_t k = 0;                                                                     \
        if (added) *added = 0;                                                            \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        if (!name##__closed(s)) {                                                         \
            st = name##_ts_insert_batch(&s->s, ts, vals, n, &k);                             \
            s->adds += k;                                                                 \
        }                                                                                 \
        pthread_mutex_unlock(&s->mu);                                                     \
        if (k) ds__waitq_notify(&s->added, 1);                                            \
        if (added) *added = k;                                                            \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_get(name *s, int64_t ts, V *out) {                              \
        V *p;                                                                             \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        p = name##_ts_value_at(&s->s, ts);                                                \
        if (p && out) *out = *p;                                                          \
        pthread_mutex_unlock(&s->mu);                                                     \
        return p ? DS_OK : DS_ENOTFOUND;                                                  \
    }                                                                                     \
    LINK ds_status name##_del(name *s, int64_t ts, V *out) {                           \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = name##_ts_del(&s->s, ts, out);                                            \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK size_t name##_range(name *s, int64_t start, int64_t end, int64_t *ts_out,        \
                             V *vals_out, size_t cap) {                                   \
        size_t n;                                                                         \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = name##_ts_range(&s->s, start, end, ts_out, vals_out, cap);                    \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK size_t name##_duration(name *s, int64_t d, int64_t now, int64_t *ts_out,         \
                                V *vals_out, size_t cap) {                                \
        size_t n;                                                                         \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = name##_ts_duration(&s->s, d, now, ts_out, vals_out, cap);                     \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    static inline ds_status name##__end(name *s, int last, int64_t *ts, V *out) {        \
        ds_status st;                                                                     \
        V *p = NULL;                                                                      \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = last ? name##_ts_latest(&s->s, ts, &p) : name##_ts_earliest(&s->s, ts, &p);  \
        if (st == DS_OK && out) *out = *p;                                                \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_earliest(name *s, int64_t *ts, V *out) { return name##__end(s, 0, ts, out); } \
    LINK ds_status name##_latest(name *s, int64_t *ts, V *out) { return name##__end(s, 1, ts, out); } \
    LINK ds_status name##_pop_earliest(name *s, int64_t *ts, V *out) {                    \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = name##_ts_pop_earliest(&s->s, ts, out);                                      \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK size_t name##_expire_before(name *s, int64_t cutoff) {                           \
        size_t n;                                                                         \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = name##_ts_expire_before(&s->s, cutoff);                                       \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK size_t name##_len(name *s) {                                                     \
        size_t n;                                                                         \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = name##_ts_len(&s->s);                                                         \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    LINK void name##_clear(name *s) {                                                     \
        if (!s) return;                                                                   \
        pthread_mutex_lock(&s->mu);                                                       \
        name##_ts_clear(&s->s);                                                           \
        pthread_mutex_unlock(&s->mu);                                                     \
    }                                                                                     \
    LINK uint64_t name##_adds(name *s) {                                                  \
        uint64_t n;                                                                       \
        if (!s) return 0;                                                                 \
        pthread_mutex_lock(&s->mu);                                                       \
        n = s->adds;                                                                      \
        pthread_mutex_unlock(&s->mu);                                                     \
        return n;                                                                         \
    }                                                                                     \
    /* Under the lock: sleep until non-empty (DS_OK), closed and empty, or   \
     * the deadline. The caller unlocks. */                                               \
    static inline ds_status name##__await_data(name *s, int64_t deadline) {               \
        while (name##_ts_len(&s->s) == 0) {                                               \
            if (name##__closed(s)) return DS_ECLOSED;                                     \
            if (ds__conc_sleep(&s->mu, &s->added, deadline) && name##_ts_len(&s->s) == 0) \
                return name##__closed(s) ? DS_ECLOSED : DS_ETIMEDOUT;                     \
        }                                                                                 \
        return DS_OK;                                                                     \
    }                                                                                     \
    static inline ds_status name##__wait_data_until(name *s, int64_t deadline) {          \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = name##__await_data(s, deadline);                                             \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_wait_for_data(name *s) { return name##__wait_data_until(s, INT64_MAX); } \
    LINK ds_status name##_wait_for_data_timeout(name *s, int64_t timeout_ns) {            \
        return name##__wait_data_until(s, ds__conc_deadline(timeout_ns));                 \
    }                                                                                     \
    static inline ds_status name##__wait_add_until(name *s, uint64_t *seen, int64_t deadline) { \
        ds_status st = DS_OK;                                                             \
        if (!s || !seen) return DS_EINVAL;                                                \
        pthread_mutex_lock(&s->mu);                                                       \
        while (s->adds <= *seen) {                                                        \
            if (name##__closed(s)) {                                                      \
                st = DS_ECLOSED;                                                          \
                break;                                                                    \
            }                                                                             \
            if (ds__conc_sleep(&s->mu, &s->added, deadline) && s->adds <= *seen) {        \
                st = name##__closed(s) ? DS_ECLOSED : DS_ETIMEDOUT;                       \
                break;                                                                    \
            }                                                                             \
        }                                                                                 \
        if (st == DS_OK) *seen = s->adds;                                                 \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_wait_for_insert(name *s, uint64_t *seen) {                         \
        return name##__wait_add_until(s, seen, INT64_MAX);                                \
    }                                                                                     \
    LINK ds_status name##_wait_for_insert_timeout(name *s, uint64_t *seen, int64_t timeout_ns) { \
        return name##__wait_add_until(s, seen, ds__conc_deadline(timeout_ns));            \
    }                                                                                     \
    static inline ds_status name##__wait_pop_until(name *s, int64_t *ts, V *out,          \
                                                   int64_t deadline) {                    \
        ds_status st;                                                                     \
        if (!s) return DS_EINVAL;                                                         \
        pthread_mutex_lock(&s->mu);                                                       \
        st = name##__await_data(s, deadline);                                             \
        if (st == DS_OK) st = name##_ts_pop_earliest(&s->s, ts, out);                     \
        pthread_mutex_unlock(&s->mu);                                                     \
        return st;                                                                        \
    }                                                                                     \
    LINK ds_status name##_wait_pop(name *s, int64_t *ts, V *out) {                        \
        return name##__wait_pop_until(s, ts, out, INT64_MAX);                             \
    }                                                                                     \
    LINK ds_status name##_wait_pop_timeout(name *s, int64_t *ts, V *out, int64_t timeout_ns) { \
        return name##__wait_pop_until(s, ts, out, ds__conc_deadline(timeout_ns));         \
    }

#define DS_CTSTORE_DECLARE(name, V)  \
    DS_TSTORE_DECLARE(name##_ts, V) \
    DS__CTSTORE_TYPES(name, V);      \
    DS__CTSTORE_PROTOS(name, V, extern);
#define DS_CTSTORE_DEFINE(name, V) \
    DS_TSTORE_DEFINE(name##_ts, V) \
    DS__CTSTORE_IMPL(name, V, )
#define DS_CTSTORE(name, V)                       \
    DS_TSTORE(name##_ts, V)                       \
    DS__CTSTORE_TYPES(name, V);                   \
    DS__CTSTORE_PROTOS(name, V, DS__LINK_STATIC); \
    DS__CTSTORE_IMPL(name, V, DS__LINK_STATIC)

/* -- ds_climiter: blocking rate limiter ----------------------------------
 * A ds_limiter (token bucket, leaky meter, GCRA, fixed/sliding windows;
 * see ds:limit) shared by many threads, whose acquire blocks until the
 * units are admitted: a blocking token bucket (Guava's RateLimiter.acquire,
 * but with ds_limiter's exact arithmetic and any of its algorithms). The
 * clock is ds_now_ns(), read under the lock (so the limiter sees time move
 * forward). A refused acquire sleeps for exactly the deficit the limiter
 * reports (ds_limiter_wait_ns: when n would be admitted if nothing else is
 * admitted meanwhile), then retries; sleepers that lose the race to
 * another thread compute their new deficit and sleep again. So the
 * limiter's contract holds across threads (token bucket: at most burst +
 * rate x t units in any interval of length t), and no thread polls. No
 * FIFO order among sleepers: a small request may pass a larger one.
 * DS_LIMIT_LEAKY_SHAPER is refused (DS_EINVAL): its admissions carry a
 * delay instead of a refusal; a token bucket with burst 1 and blocking
 * acquires gives the same evenly spaced output.
 *
 *   ds_status ds_climiter_init(ds_climiter *l, const ds_limit_config *cfg, const ds_alloc *a)
 *          DS_EINVAL (as ds_limiter_init, or the shaper); DS_ENOMEM
 *          (pthread_mutex_init failed, or pthread_cond_init where sleeps
 *          use the condvar). Allocates nothing; starts at rest (a full
 *          bucket).
 *   void      ds_climiter_free(ds_climiter *l)
 *   ds_status ds_climiter_acquire(ds_climiter *l, uint64_t n)
 *          sleeps until n units are admitted: DS_OK; DS_ECLOSED (closed
 *          before or while waiting: nothing taken); DS_EINVAL if n can
 *          never be admitted (more than burst, or limit for the windows,
 *          or due only past INT64_MAX on ds_now_ns's clock: the limiter's
 *          wait_ns of -1; also for the _timeout and try forms);
 *          DS_ENOMEM (sliding log). n = 0: DS_OK at once.
 *   ds_status ds_climiter_acquire_timeout(ds_climiter *l, uint64_t n, int64_t timeout_ns)
 *          as acquire; DS_ETIMEDOUT - at once, without sleeping, when the
 *          deficit already reaches past the deadline (Guava's tryAcquire
 *          with a timeout), else when the deadline passes
 *   ds_status ds_climiter_try_acquire(ds_climiter *l, uint64_t n, int64_t *retry_after_ns)
 *          never sleeps: DS_OK, or DS_EREFUSED with *retry_after_ns (may be
 *          NULL) the deficit now; DS_EINVAL/DS_ECLOSED as acquire
 *   ds_status ds_climiter_set(ds_climiter *l, uint64_t limit, int64_t period_ns, uint64_t burst)
 *          new rate (ds_limiter_set: admitted units stay counted); wakes
 *          the sleepers to recompute their deficits. DS_EINVAL
 *   uint64_t  ds_climiter_remaining(ds_climiter *l)   units admissible now
 *          (0 once closed)
 *   void      ds_climiter_close(ds_climiter *l)      wakes every sleeper
 *          (DS_ECLOSED); later acquires get DS_ECLOSED
 *   int       ds_climiter_is_closed(const ds_climiter *l)   lock-free
 * Thread safety: every call but init/free from any thread at once.
 * Complexity: O(1) a decision (sliding log: as ds_limiter) under one lock;
 * a sleeper wakes once per deficit it computed (plus once per set/close).
 */
typedef struct ds_climiter {
    pthread_mutex_t mu;
    ds_limiter l;      /* under mu */
    ds__waitq wake;    /* sleepers wait on it with their deficit as deadline;
                          set and close notify it */
    DS__ATOMIC(int) closed; /* set under mu; is_closed reads it */
} ds_climiter;

DSDEF ds_status ds_climiter_init(ds_climiter *l, const ds_limit_config *cfg, const ds_alloc *a);
DSDEF void ds_climiter_free(ds_climiter *l);
DSDEF ds_status ds_climiter_acquire(ds_climiter *l, uint64_t n);
DSDEF ds_status ds_climiter_acquire_timeout(ds_climiter *l, uint64_t n, int64_t timeout_ns);
DSDEF ds_status ds_climiter_try_acquire(ds_climiter *l, uint64_t n, int64_t *retry_after_ns);
DSDEF ds_status ds_climiter_set(ds_climiter *l, uint64_t limit, int64_t period_ns, uint64_t burst);
DSDEF uint64_t ds_climiter_remaining(ds_climiter *l);
DSDEF void ds_climiter_close(ds_climiter *l);
DSDEF int ds_climiter_is_closed(const ds_climiter *l);

/* -- ds_cbreaker: shared circuit breaker ----------------------------------
 * A ds_breaker (see ds:breaker) behind a mutex, for many threads calling
 * one downstream. Every call is the ds_breaker call under the lock, so the
 * breaker's rules hold across threads exactly: in HALF_OPEN exactly P
 * (half_open_calls) allows succeed, whichever threads race for them, until
 * the probes' outcomes are recorded. Times are the callers' `now`; a `now`
 * older than one already seen (threads read the clock, then race for the
 * lock) counts as that one, as in ds_breaker.
 *
 *   ds_status ds_cbreaker_init(ds_cbreaker *b, const ds_breaker_config *cfg, const ds_alloc *a)
 *          as ds_breaker_init; DS_ENOMEM also for the mutex
 *   void      ds_cbreaker_free(ds_cbreaker *b)
 *   ds_status ds_cbreaker_allow(ds_cbreaker *b, int64_t now, int64_t *retry_after_ns)
 *          DS_OK (then record the call's outcome), DS_EREFUSED
 *   ds_status ds_cbreaker_record(ds_cbreaker *b, ds_breaker_outcome outcome,
 *                                int64_t duration_ns, int64_t now)
 *   ds_breaker_state ds_cbreaker_advance(ds_cbreaker *b, int64_t now)
 *   ds_status ds_cbreaker_force(ds_cbreaker *b, ds_breaker_state to, int64_t now)
 *   void      ds_cbreaker_reset(ds_cbreaker *b, int64_t now)
 *   ds_breaker_state ds_cbreaker_current(ds_cbreaker *b)
 *   void      ds_cbreaker_snapshot(ds_cbreaker *b, int64_t now, ds_breaker_stats *out)
 *          each as its ds_breaker_ namesake (errors included; DS_EINVAL
 *          for a NULL b)
 * Thread safety: every call but init/free from any thread at once;
 * on_state runs under the lock (it must not call the ds_cbreaker).
 * Complexity: ds_breaker's, under one lock. */
typedef struct ds_cbreaker {
    pthread_mutex_t mu;
    ds_breaker b;      /* under mu */
} ds_cbreaker;

DSDEF ds_status ds_cbreaker_init(ds_cbreaker *b, const ds_breaker_config *cfg, const ds_alloc *a);
DSDEF void ds_cbreaker_free(ds_cbreaker *b);
DSDEF ds_status ds_cbreaker_allow(ds_cbreaker *b, int64_t now, int64_t *retry_after_ns);
DSDEF ds_status ds_cbreaker_record(ds_cbreaker *b, ds_breaker_outcome outcome, int64_t duration_ns,
                                   int64_t now);
DSDEF ds_breaker_state ds_cbreaker_advance(ds_cbreaker *b, int64_t now);
DSDEF ds_status ds_cbreaker_force(ds_cbreaker *b, ds_breaker_state to, int64_t now);
DSDEF void ds_cbreaker_reset(ds_cbreaker *b, int64_t now);
DSDEF ds_breaker_state ds_cbreaker_current(ds_cbreaker *b);
DSDEF void ds_cbreaker_snapshot(ds_cbreaker *b, int64_t now, ds_breaker_stats *out);

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
#define DS__MEMBARRIER_CMD_GLOBAL 1                             /* linux/membarrier.h */
#define DS__MEMBARRIER_CMD_PRIVATE_EXPEDITED (1 << 3)
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

#if DS__CONC_MEMBARRIER
/* Registration for the expedited membarrier, tried once per process:
 * 0 = not yet, 1 = available, 2 = not (then every queue uses the RMW). */
static DS__ATOMIC(int) ds__membarrier_state;
#endif

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
#if DS__CONC_MEMBARRIER
#ifdef DS__CONC_TEST_FENCE_FAIL
/* Test hook (tests/main.c names an int here): 1 fails the expedited
 * command, 2 also the global one, as a kernel out of memory would. */
extern int DS__CONC_TEST_FENCE_FAIL;
#endif
static long ds__membarrier(int cmd) {
#ifdef DS__CONC_TEST_FENCE_FAIL
    if (DS__CONC_TEST_FENCE_FAIL >= (cmd == DS__MEMBARRIER_CMD_PRIVATE_EXPEDITED ? 1 : 2)) return -1;
#endif
    return syscall(SYS_membarrier, cmd, 0, 0);
}
#endif
DSDEF void ds__waitq_heavy_fence(ds__waitq *w) {
#if DS__CONC_MEMBARRIER
    if (ds__membarrier(DS__MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    if (ds__membarrier(DS__MEMBARRIER_CMD_GLOBAL) == 0) return;
    DS__ASTORE(&w->degraded, 1u, relaxed); /* no barrier: cap the sleeps */
#else
    (void)w;
#endif
}
static ds_status ds__waitq_setup(ds__waitq *w, int asym) {
    DS__AINIT(&w->epoch, 0u);
    DS__AINIT(&w->waiters, 0u);
    DS__AINIT(&w->degraded, 0u);
    w->asym = asym;
    return DS_OK;
}
DSDEF ds_status ds__waitq_init(ds__waitq *w) { return ds__waitq_setup(w, ds__membarrier_available()); }
DSDEF void ds__waitq_destroy(ds__waitq *w) { (void)w; }
DSDEF void ds__waitq_wake(ds__waitq *w, int all) {
    DS__AADD(&w->epoch, 1u, release);
    syscall(SYS_futex, (void *)&w->epoch, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, all ? INT_MAX : 1,
            NULL, NULL, 0);
}
DSDEF int ds__waitq_sleep(ds__waitq *w, uint32_t e, int64_t deadline) {
    struct timespec ts, *tp = NULL;
    int late = 0;
    int64_t rel = INT64_MAX;
    if (deadline != INT64_MAX) {
        rel = deadline - ds_now_ns();
        if (rel <= 0) late = 1;
    }
    if (DS__ALOAD(&w->degraded, relaxed) && rel > DS__WAITQ_DEGRADED_NS)
        rel = DS__WAITQ_DEGRADED_NS; /* a wake-up may be missed: wake and re-check */
    if (!late && rel != INT64_MAX) {
        ts.tv_sec = (time_t)(rel / 1000000000);
        ts.tv_nsec = (long)(rel % 1000000000);
        tp = &ts;
    }
    /* Returns at once if the epoch already moved (EAGAIN); EINTR and
     * spurious returns are re-checked by the caller's loop. */
    if (!late)
        syscall(SYS_futex, (void *)&w->epoch, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, e, tp, NULL, 0);
    return late || (deadline != INT64_MAX && ds_now_ns() >= deadline);
}
#else /* the portable fallback: mutex + condition variable */
#include <time.h>

DSDEF void ds__waitq_heavy_fence(ds__waitq *w) { (void)w; }
static ds_status ds__waitq_setup(ds__waitq *w, int asym) {
    DS__AINIT(&w->epoch, 0u);
    DS__AINIT(&w->waiters, 0u);
    DS__AINIT(&w->degraded, 0u);
    w->asym = asym;
    if (pthread_mutex_init(&w->mu, NULL) != 0) return DS_ENOMEM;
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        return DS_ENOMEM;
    }
    return DS_OK;
}
DSDEF ds_status ds__waitq_init(ds__waitq *w) { return ds__waitq_setup(w, 0); }
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
                int64_t abs = ds_wall_ns();
                struct timespec ts;
                abs = rel > INT64_MAX - abs ? INT64_MAX : abs + rel; /* huge timeouts */
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

DSDEF ds_status ds__waitq_init_locked(ds__waitq *w) { return ds__waitq_setup(w, 1); }
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
/* A submitter's announcement stays until a waker takes it (see above). */
static inline void ds__pool_keep_announcement(ds__waitq *w) { (void)w; }
static ds_status ds__pool_push_until(ds_pool *p, const ds_pool_task *t, int64_t deadline) {
    DS__CONC_BLOCK_WITH(ds__pool_try_push(p, t), DS_EFULL, &p->not_full, deadline,
                        ds__pool_keep_announcement, ds__waitq_sleep);
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
    memset((void *)p, 0, sizeof *p); /* a failed init leaves a struct free accepts */
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
    /* fin was read first: tasks taken and finished between the two reads
     * would show as running. A worker holds at most one batch. */
    if (out->running > (uint64_t)p->nworkers * DS__POOL_BATCH) out->running = (uint64_t)p->nworkers * DS__POOL_BATCH;
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

#include <unistd.h> /* sysconf: the default shard count */

DSDEF ds_status ds__cmap_nshards(size_t shards, size_t threads, size_t capacity, size_t *out) {
    size_t n;
    if (shards > DS_CMAP_MAX_SHARDS) return DS_EINVAL;
    if (shards) {
        n = ds__pow2_ceil(shards);
        if (capacity)
            while (n > capacity) n >>= 1; /* every shard holds at least one */
    } else {
        if (!threads) {
#ifdef _SC_NPROCESSORS_ONLN
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            threads = cpus > 0 ? (size_t)cpus : 4;
#else
            threads = 4;
#endif
        }
        n = threads > 256 ? 1024 : ds__pow2_ceil(4 * threads);
        if (n < 16) n = 16;
        /* Bounded: shares of at least 16 entries, so that a shard's LRU
         * still approximates the global one. */
        if (capacity)
            while (n > 1 && capacity / n < 16) n >>= 1;
    }
    /* DS_LRU bounds a shard below 2^31 entries. */
    if (capacity && capacity / n >= ((size_t)1 << 31) - 1) return DS_EINVAL;
    *out = n;
    return DS_OK;
}

DSDEF void *ds__cmap_block(size_t n, size_t ssz, const ds_alloc *a, void **raw) {
    size_t bytes;
    uintptr_t p;
    if (!ds_size_muladd(n, ssz, DS_CONC_CACHELINE, &bytes)) return NULL;
    *raw = DS_MALLOC(a, bytes);
    if (!*raw) return NULL;
    p = ((uintptr_t)*raw + DS_CONC_CACHELINE - 1) & ~(uintptr_t)(DS_CONC_CACHELINE - 1);
    return (void *)p;
}

/* == ds_conc:wrappers == */

DSDEF ds_status ds__conc_mutex_init(pthread_mutex_t *mu) {
    return pthread_mutex_init(mu, NULL) == 0 ? DS_OK : DS_ENOMEM;
}
/* Announce under the lock (the caller saw its condition false), then
 * sleep unlocked: a waker changes the state under the lock before it
 * notifies, so either this thread's re-check under the lock sees the
 * change, or the notify sees this announcement (ds__waitq_prepare_locked:
 * the lock orders them, no fence needed). A deadline already past returns
 * at once: no announcement, no system call. */
DSDEF int ds__conc_sleep(pthread_mutex_t *mu, ds__waitq *w, int64_t deadline) {
    uint32_t e;
    int late;
    if (deadline != INT64_MAX && ds_now_ns() >= deadline) return 1;
    e = ds__waitq_prepare_locked(w);
    pthread_mutex_unlock(mu);
    late = ds__waitq_wait(w, e, deadline);
    pthread_mutex_lock(mu);
    return late;
}

/* -- ds_climiter -- */
DSDEF ds_status ds_climiter_init(ds_climiter *l, const ds_limit_config *cfg, const ds_alloc *a) {
    ds_status st;
    if (!l) return DS_EINVAL;
    memset((void *)l, 0, sizeof *l); /* a failed init leaves a struct free accepts */
    if (!cfg || cfg->algo == DS_LIMIT_LEAKY_SHAPER) return DS_EINVAL;
    if ((st = ds_limiter_init(&l->l, cfg, a)) != DS_OK) return st;
    if ((st = ds__conc_mutex_init(&l->mu)) != DS_OK) {
        ds_limiter_free(&l->l);
        return st;
    }
    if ((st = ds__waitq_init_locked(&l->wake)) != DS_OK) {
        pthread_mutex_destroy(&l->mu);
        ds_limiter_free(&l->l);
        return st;
    }
    DS__AINIT(&l->closed, 0);
    return DS_OK;
}
DSDEF void ds_climiter_free(ds_climiter *l) {
    if (!l) return;
    ds_limiter_free(&l->l);
    ds__waitq_destroy(&l->wake);
    pthread_mutex_destroy(&l->mu);
}
/* One decision under the lock at ds_now_ns(): DS_OK, or DS_EREFUSED with the
 * clock reading and the deficit; DS_EINVAL when n is never admissible. */
static ds_status ds__climiter_try(ds_climiter *l, uint64_t n, int64_t *now, int64_t *wait) {
    ds_status st;
    if (DS__ALOAD(&l->closed, relaxed)) return DS_ECLOSED; /* under mu */
    *now = ds_now_ns();
    st = ds_limiter_allow(&l->l, n, *now);
    if (st != DS_EREFUSED) return st;
    *wait = ds_limiter_wait_ns(&l->l, n, *now);
    if (*wait < 0) return DS_EINVAL;
    if (*wait == 0) *wait = 1; /* refused yet due now: retry after the clock moves */
    return DS_EREFUSED;
}
static ds_status ds__climiter_until(ds_climiter *l, uint64_t n, int64_t deadline) {
    ds_status st;
    int64_t now = 0, wait = 0, at;
    if (!l) return DS_EINVAL;
    pthread_mutex_lock(&l->mu);
    while ((st = ds__climiter_try(l, n, &now, &wait)) == DS_EREFUSED) {
        at = wait > INT64_MAX - now ? INT64_MAX - 1 : now + wait;
        if (deadline != INT64_MAX && at > deadline) {
            st = DS_ETIMEDOUT; /* the deficit alone outlasts the timeout */
            break;
        }
        /* Sleeps the deficit; set/close cut it short. Whoever takes the
         * units first wins; the others recompute. */
        (void)ds__conc_sleep(&l->mu, &l->wake, at);
    }
    pthread_mutex_unlock(&l->mu);
    return st;
}
DSDEF ds_status ds_climiter_acquire(ds_climiter *l, uint64_t n) {
    return ds__climiter_until(l, n, INT64_MAX);
}
DSDEF ds_status ds_climiter_acquire_timeout(ds_climiter *l, uint64_t n, int64_t timeout_ns) {
    return ds__climiter_until(l, n, ds__conc_deadline(timeout_ns));
}
DSDEF ds_status ds_climiter_try_acquire(ds_climiter *l, uint64_t n, int64_t *retry_after_ns) {
    ds_status st;
    int64_t now = 0, wait = 0;
    if (retry_after_ns) *retry_after_ns = 0;
    if (!l) return DS_EINVAL;
    pthread_mutex_lock(&l->mu);
    st = ds__climiter_try(l, n, &now, &wait);
    pthread_mutex_unlock(&l->mu);
    if (st == DS_EREFUSED && retry_after_ns) *retry_after_ns = wait;
    return st;
}
DSDEF ds_status ds_climiter_set(ds_climiter *l, uint64_t limit, int64_t period_ns, uint64_t burst) {
    ds_status st;
    if (!l) return DS_EINVAL;
    pthread_mutex_lock(&l->mu);
    st = ds_limiter_set(&l->l, limit, period_ns, burst, ds_now_ns());
    pthread_mutex_unlock(&l->mu);
    if (st == DS_OK) ds__waitq_notify(&l->wake, 1);
    return st;
}
DSDEF uint64_t ds_climiter_remaining(ds_climiter *l) {
    uint64_t r;
    if (!l) return 0;
    pthread_mutex_lock(&l->mu);
    r = DS__ALOAD(&l->closed, relaxed) ? 0 : ds_limiter_remaining(&l->l, ds_now_ns());
    pthread_mutex_unlock(&l->mu);
    return r;
}
DSDEF void ds_climiter_close(ds_climiter *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    DS__ASTORE(&l->closed, 1, release);
    pthread_mutex_unlock(&l->mu);
    ds__waitq_notify(&l->wake, 1);
}
DSDEF int ds_climiter_is_closed(const ds_climiter *l) { return l ? DS__ALOAD(&l->closed, acquire) : 0; }

/* -- ds_cbreaker: each call is its ds_breaker namesake under the lock -- */
DSDEF ds_status ds_cbreaker_init(ds_cbreaker *b, const ds_breaker_config *cfg, const ds_alloc *a) {
    ds_status st;
    if (!b) return DS_EINVAL;
    memset((void *)b, 0, sizeof *b); /* a failed init leaves a struct free accepts */
    if ((st = ds_breaker_init(&b->b, cfg, a)) != DS_OK) return st;
    if ((st = ds__conc_mutex_init(&b->mu)) != DS_OK) ds_breaker_free(&b->b);
    return st;
}
DSDEF void ds_cbreaker_free(ds_cbreaker *b) {
    if (!b) return;
    ds_breaker_free(&b->b);
    pthread_mutex_destroy(&b->mu);
}
DSDEF ds_status ds_cbreaker_allow(ds_cbreaker *b, int64_t now, int64_t *retry_after_ns) {
    ds_status st;
    if (retry_after_ns) *retry_after_ns = 0;
    if (!b) return DS_EINVAL;
    pthread_mutex_lock(&b->mu);
    st = ds_breaker_allow(&b->b, now, retry_after_ns);
    pthread_mutex_unlock(&b->mu);
    return st;
}
DSDEF ds_status ds_cbreaker_record(ds_cbreaker *b, ds_breaker_outcome outcome, int64_t duration_ns,
                                   int64_t now) {
    ds_status st;
    if (!b) return DS_EINVAL;
    pthread_mutex_lock(&b->mu);
    st = ds_breaker_record(&b->b, outcome, duration_ns, now);
    pthread_mutex_unlock(&b->mu);
    return st;
}
DSDEF ds_breaker_state ds_cbreaker_advance(ds_cbreaker *b, int64_t now) {
    ds_breaker_state s;
    if (!b) return DS_BREAKER_CLOSED;
    pthread_mutex_lock(&b->mu);
    s = ds_breaker_advance(&b->b, now);
    pthread_mutex_unlock(&b->mu);
    return s;
}
DSDEF ds_status ds_cbreaker_force(ds_cbreaker *b, ds_breaker_state to, int64_t now) {
    ds_status st;
    if (!b) return DS_EINVAL;
    pthread_mutex_lock(&b->mu);
    st = ds_breaker_force(&b->b, to, now);
    pthread_mutex_unlock(&b->mu);
    return st;
}
DSDEF void ds_cbreaker_reset(ds_cbreaker *b, int64_t now) {
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    ds_breaker_reset(&b->b, now);
    pthread_mutex_unlock(&b->mu);
}
DSDEF ds_breaker_state ds_cbreaker_current(ds_cbreaker *b) {
    ds_breaker_state s;
    if (!b) return DS_BREAKER_CLOSED;
    pthread_mutex_lock(&b->mu);
    s = ds_breaker_current(&b->b);
    pthread_mutex_unlock(&b->mu);
    return s;
}
DSDEF void ds_cbreaker_snapshot(ds_cbreaker *b, int64_t now, ds_breaker_stats *out) {
    if (!b) {
        ds_breaker_snapshot(NULL, now, out); /* zeroes *out */
        return;
    }
    if (!out) return;
    pthread_mutex_lock(&b->mu);
    ds_breaker_snapshot(&b->b, now, out);
    pthread_mutex_unlock(&b->mu);
}
#endif
