/* src/pool.h - ds_pool: worker pool with backpressure
 *
 * One module of ds_concurrent.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/pool.h"
 */
#ifndef DS_SRC_POOL_H
#define DS_SRC_POOL_H
#include "ring.h"
#include "window.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
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

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_POOL_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_CONCURRENT_IMPLEMENTATION)) && !defined(DS_SRC_POOL_IMPL)
#define DS_SRC_POOL_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
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
/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_POOL_IMPL */
