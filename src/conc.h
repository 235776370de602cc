/* src/conc.h - ds_concurrent.h core: options, atomics shim, the sleep/wake primitive
 *
 * One module of ds_concurrent.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/conc.h"
 */
#ifndef DS_SRC_CONC_H
#define DS_SRC_CONC_H
#include "core.h"
/*@prelude*/
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

/*@end*/
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
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

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CONC_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_CONCURRENT_IMPLEMENTATION)) && !defined(DS_SRC_CONC_IMPL)
#define DS_SRC_CONC_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
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

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_CONC_IMPL */
