/* tests/test_conc_pool.c - ds_concurrent.h worker pool (ds_pool).
 *
 * A model test drives one worker through its tasks step by step (each task
 * waits at a gate the test opens one at a time), so the queue is in a
 * known state after every operation and try_submit, submit_timeout, the
 * FIFO order and every metric are compared with a plain model. Threaded
 * tests race several submitters (blocking, try and timed submits) against
 * shutdown and against cancel and check that every accepted task was, once,
 * either run or handed to its cancel callback, and that the metrics add up;
 * backpressure is shown to bound the queue, to put a blocking submitter to
 * sleep and to wake it, and to time out. Calls made from inside tasks,
 * wait_idle, latency metrics, bad input, allocation failure at every step
 * of init and thread creation failure (with no thread or byte left behind)
 * have their own tests. C11 + pthreads: built into build/test_conc (ASan)
 * and the two TSan binaries. */
#define _POSIX_C_SOURCE 200809L
#include "ds_concurrent.h"
#include "prop.h"
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#if defined(__SANITIZE_THREAD__)
#define POOL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define POOL_TSAN 1
#endif
#endif
#ifdef POOL_TSAN
#define POOL_PER_SUBMITTER 1500
#define POOL_ROUNDS 3
#else
#define POOL_PER_SUBMITTER 15000
#define POOL_ROUNDS 6
#endif

static void sleep_us(long us) {
    struct timespec ts;
    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000L;
    nanosleep(&ts, NULL);
}

/* Threads in this process (Linux /proc), or -1 if unknown. */
static long thread_count(void) {
    char line[256];
    long n = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Threads:", 8) == 0) n = strtol(line + 8, NULL, 10);
    fclose(f);
    return n;
}
/* Until the thread count is back to `want` (exiting threads leave /proc a
 * moment after pthread_join returns): 1 if it got there within 2 s. */
static int threads_back_to(long want) {
    int64_t end = ds_now_ns() + 2000000000LL;
    if (want < 0) return 1;
    while (thread_count() != want) {
        if (ds_now_ns() > end) return 0;
        sleep_us(200);
    }
    return 1;
}

static int spin_until(DS__ATOMIC(long) *v, long want, int64_t ms) {
    int64_t end = ds_now_ns() + ms * 1000000LL;
    while (DS__ALOAD(v, acquire) != want) {
        if (ds_now_ns() > end) return 0;
        sched_yield();
    }
    return 1;
}

/* ---- a gated task: the model test and the backpressure test --------------- */

typedef struct gate_ctx {
    ds_pool *pool;
    DS__ATOMIC(long) permits; /* tasks allowed to finish */
    DS__ATOMIC(long) open;    /* 1: every task finishes */
    DS__ATOMIC(long) started, finished, cancelled;
    DS__ATOMIC(long) order[512]; /* order[k]: id of the k-th task started */
    DS__ATOMIC(long) results;    /* results passed to done, summed */
} gate_ctx;

typedef struct gate_task {
    gate_ctx *g;
    long id;
    int rc;
} gate_task;

static int gate_fn(void *arg) {
    gate_task *t = (gate_task *)arg;
    gate_ctx *g = t->g;
    long k = DS__AADD(&g->started, 1L, acq_rel);
    if (k < 512) DS__ASTORE(&g->order[k], t->id, release);
    for (;;) {
        long n = DS__ALOAD(&g->permits, acquire);
        if (DS__ALOAD(&g->open, acquire) || ds_pool_cancelled(g->pool)) break;
        if (n > 0 && DS__ACAS_WEAK(&g->permits, &n, n - 1)) break;
        sched_yield();
    }
    return t->rc;
}
static void gate_done(void *arg, int rc) {
    gate_task *t = (gate_task *)arg;
    DS__AADD(&t->g->results, (long)rc, relaxed);
    DS__AADD(&t->g->finished, 1L, acq_rel);
}
static void gate_cancel(void *arg) {
    gate_task *t = (gate_task *)arg;
    DS__AADD(&t->g->cancelled, 1L, acq_rel);
}
static void gate_init(gate_ctx *g, ds_pool *p) {
    long i;
    g->pool = p;
    DS__AINIT(&g->permits, 0L);
    DS__AINIT(&g->open, 0L);
    DS__AINIT(&g->started, 0L);
    DS__AINIT(&g->finished, 0L);
    DS__AINIT(&g->cancelled, 0L);
    DS__AINIT(&g->results, 0L);
    for (i = 0; i < 512; i++) DS__AINIT(&g->order[i], -1L);
}
static ds_pool_task gate_make(gate_task *t) {
    ds_pool_task pt;
    pt.fn = gate_fn;
    pt.arg = t;
    pt.done = gate_done;
    pt.cancel = gate_cancel;
    return pt;
}

/* ---- model: one worker stepped through its tasks --------------------------- */

/* After an operation, wait until the single worker has settled: it has
 * started the next queued task if there is one (started == finished + 1),
 * or it is idle (started == accepted). Then deq == started exactly. */
static int settle(gate_ctx *g, long accepted) {
    int64_t end = ds_now_ns() + 5000000000LL;
    for (;;) {
        long f = DS__ALOAD(&g->finished, acquire), s = DS__ALOAD(&g->started, acquire);
        long want = accepted < f + 1 ? accepted : f + 1;
        if (s == want) return 1;
        if (ds_now_ns() > end) return 0;
        sched_yield();
    }
}
/* finished is counted by the done callback, a moment before the pool's own
 * counters: wait until the pool has counted them too. */
static int settle_counts(ds_pool *p, long finished) {
    int64_t end = ds_now_ns() + 5000000000LL;
    ds_pool_metrics m;
    for (;;) {
        ds_pool_snapshot(p, &m);
        if ((long)(m.succeeded + m.failed + m.cancelled) == finished) return 1;
        if (ds_now_ns() > end) return 0;
        sched_yield();
    }
}

static void pool_model_case(ds_rng *rng, uint64_t seed) {
    ds_pool p;
    ds_pool_config cfg;
    ds_pool_metrics m;
    static gate_ctx g;
    static gate_task tasks[400];
    long accepted = 0, rejected = 0, ok_runs = 0, failed_runs = 0, max_queued = 0, op, i;
    /* The model: depth tasks in the queue; hand tasks the worker took with
     * the one it runs (a batch) and has not started; running 0 or 1. */
    long depth = 0, hand = 0, running = 0, batches = 0;
    size_t cap;
    int use_cancel = (int)ds_rng_below(rng, 2);
    ds_status s;
    (void)seed;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 1;
    cfg.capacity = 1 + (size_t)ds_rng_below(rng, 40);
    cfg.sample_every = 1;
    CHECK(ds_pool_init_config(&p, &cfg, NULL) == DS_OK);
    cap = ds_pool_capacity(&p);
    CHECK(cap >= cfg.capacity && cap >= 2 && (cap & (cap - 1)) == 0 && cap < 2 * cfg.capacity + 2);
    gate_init(&g, &p);
    for (op = 0; op < 150 && accepted < 400; op++) {
        long fin = DS__ALOAD(&g.finished, acquire);
        int r = (int)ds_rng_below(rng, 100);
        if (r < 50) { /* try_submit, or a timed submit with a zero timeout */
            gate_task *t = &tasks[accepted];
            ds_pool_task pt;
            int timed = r < 10;
            t->g = &g;
            t->id = accepted;
            t->rc = (int)ds_rng_below(rng, 3) == 0 ? 7 : 0;
            pt = gate_make(t);
            s = timed ? ds_pool_submit_timeout(&p, &pt, 0) : ds_pool_try_submit(&p, &pt);
            if (depth == (long)cap) {
                CHECKF(s == (timed ? DS_ETIMEDOUT : DS_EFULL), "depth %ld cap %zu: %s", depth, cap,
                       ds_status_name(s));
                rejected++;
                if (max_queued < (long)cap) max_queued = (long)cap;
            } else {
                CHECKF(s == DS_OK, "depth %ld cap %zu: %s", depth, cap, ds_status_name(s));
                accepted++;
                /* the length the submit measured includes this task */
                if (depth + 1 > max_queued) max_queued = depth + 1;
                if (running) depth++;
                else running = 1; /* the idle worker takes it at once */
            }
        } else if (r < 85) { /* let the running task finish */
            if (running) {
                DS__AADD(&g.permits, 1L, acq_rel);
                CHECK(spin_until(&g.finished, fin + 1, 5000));
                if (tasks[fin].rc == 0) ok_runs++;
                else failed_runs++;
                /* the worker's next task: from its hand, else from the
                 * queue, a batch of up to 8 when 9 or more wait (8 x 1
                 * worker positions ahead published) and the queue has
                 * more than 8 slots */
                if (hand) {
                    hand--;
                } else if (depth) {
                    long k = depth >= 9 && cap > 8 ? (depth < 8 ? depth : 8) : 1;
                    batches += k > 1;
                    depth -= k;
                    hand = k - 1;
                } else {
                    running = 0;
                }
            }
        } else if (r < 95) { /* the metrics match the model */
            CHECK(settle(&g, accepted));
            CHECK(settle_counts(&p, DS__ALOAD(&g.finished, acquire)));
            fin = DS__ALOAD(&g.finished, acquire);
            ds_pool_snapshot(&p, &m);
            CHECK(m.submitted == (uint64_t)accepted && m.rejected == (uint64_t)rejected);
            CHECK(m.succeeded == (uint64_t)ok_runs && m.failed == (uint64_t)failed_runs && m.cancelled == 0);
            CHECKF(m.queued == (uint64_t)depth, "queued %llu model %ld", (unsigned long long)m.queued, depth);
            CHECKF(m.running == (uint64_t)(running + hand), "running %llu model %ld + %ld",
                   (unsigned long long)m.running, running, hand);
            CHECK(fin + running + hand + depth == accepted);
            CHECKF(m.queue_high_water == (size_t)max_queued, "high water %zu model %ld", m.queue_high_water,
                   max_queued);
            CHECK(m.capacity == cap && m.workers == 1);
            /* a busy worker publishes its samples when it goes idle */
            CHECK(m.latency_samples <= (size_t)(ok_runs + failed_runs));
        } else { /* idle exactly when everything accepted has finished */
            CHECK(settle_counts(&p, fin));
            s = ds_pool_wait_idle_timeout(&p, 0);
            CHECK(s == (accepted == fin ? DS_OK : DS_ETIMEDOUT));
        }
        CHECK(settle(&g, accepted));
    }
    if (prop_env_long("DS_VERBOSE", 0) > 1) printf("  cap %zu: %ld batches\n", cap, batches);
    CHECK(settle(&g, accepted));
    {
        long started = DS__ALOAD(&g.started, acquire), fin = DS__ALOAD(&g.finished, acquire);
        if (use_cancel) {
            /* The running task (if any) sees the flag and finishes; the
             * queued ones get their cancel callbacks. */
            CHECK(ds_pool_cancel(&p) == DS_OK);
            CHECK(ds_pool_cancelled(&p));
            CHECK(DS__ALOAD(&g.cancelled, acquire) == accepted - started);
            CHECK(DS__ALOAD(&g.finished, acquire) == started);
            (void)fin;
        } else {
            DS__ASTORE(&g.open, 1L, release);
            CHECK(ds_pool_shutdown(&p) == DS_OK);
            CHECK(!ds_pool_cancelled(&p));
            CHECK(DS__ALOAD(&g.finished, acquire) == accepted && DS__ALOAD(&g.cancelled, acquire) == 0);
        }
    }
    /* FIFO: one worker starts tasks in submission order. */
    for (i = 0; i < DS__ALOAD(&g.started, acquire); i++) CHECK(DS__ALOAD(&g.order[i], acquire) == i);
    ds_pool_snapshot(&p, &m);
    CHECK(m.submitted == (uint64_t)accepted);
    CHECK(m.succeeded + m.failed + m.cancelled == m.submitted);
    CHECK(m.cancelled == (uint64_t)DS__ALOAD(&g.cancelled, acquire));
    CHECK((long)m.failed * 7 == DS__ALOAD(&g.results, acquire));
    CHECK(m.queued == 0 && m.running == 0);
    CHECK(m.latency_samples == m.succeeded + m.failed); /* sample_every 1 */
    {
        gate_task t;
        ds_pool_task pt;
        t.g = &g;
        t.id = 0;
        t.rc = 0;
        pt = gate_make(&t);
        CHECK(ds_pool_try_submit(&p, &pt) == DS_ECLOSED);
        CHECK(ds_pool_submit(&p, &pt) == DS_ECLOSED);
        CHECK(ds_pool_submit_timeout(&p, &pt, 1000) == DS_ECLOSED);
    }
    ds_pool_snapshot(&p, &m);
    CHECK(m.rejected == (uint64_t)rejected + 3);
    ds_pool_free(&p);
}

void test_conc_pool_model(void) {
#ifdef POOL_TSAN
    prop_run("conc_pool_model", pool_model_case, 6);
#else
    prop_run("conc_pool_model", pool_model_case, 25);
#endif
}

/* ---- many submitters racing shutdown / cancel ------------------------------- */

#define RACE_SUBMITTERS 3
#define RACE_TASKS (RACE_SUBMITTERS * POOL_PER_SUBMITTER)

typedef struct race_ctx {
    ds_pool *pool;
    DS__ATOMIC(int) ran[RACE_TASKS], done[RACE_TASKS], cancelled[RACE_TASKS];
    unsigned char accepted[RACE_TASKS]; /* written by the task's submitter only */
    long refused[RACE_SUBMITTERS];
    DS__ATOMIC(long) total_accepted;
    DS__ATOMIC(long) saw_flag;          /* running tasks that saw ds_pool_cancelled */
    DS__ATOMIC(long) subs_done;         /* submitter threads finished */
    int slow;                           /* some tasks spin until cancelled (cancel test) */
} race_ctx;

static race_ctx *g_race;

static int race_fn(void *arg) {
    long id = (long)(uintptr_t)arg - 1;
    race_ctx *c = g_race;
    volatile unsigned x = 0;
    int k;
    DS__AADD(&c->ran[id], 1, relaxed);
    if (c->slow && id % 499 == 0) {
        /* a long task that checks the cooperative flag */
        int64_t end = ds_now_ns() + 2000000;
        while (ds_now_ns() < end) {
            if (ds_pool_cancelled(c->pool)) {
                DS__AADD(&c->saw_flag, 1L, relaxed);
                break;
            }
            sched_yield();
        }
    } else {
        for (k = 0; k < (int)(id % 7) * 20; k++) x += (unsigned)k;
    }
    (void)x; /* busy work only (clang: set but not used) */
    return (int)(id % 5 == 0);
}
static void race_done(void *arg, int rc) {
    long id = (long)(uintptr_t)arg - 1;
    if (rc != (int)(id % 5 == 0)) DS__AADD(&g_race->done[id], 100, relaxed); /* wrong result */
    DS__AADD(&g_race->done[id], 1, relaxed);
}
static void race_cancel(void *arg) {
    long id = (long)(uintptr_t)arg - 1;
    DS__AADD(&g_race->cancelled[id], 1, relaxed);
}

typedef struct race_sub {
    race_ctx *c;
    int idx;
    uint64_t seed;
} race_sub;

static void *race_submitter(void *arg) {
    race_sub *rs = (race_sub *)arg;
    race_ctx *c = rs->c;
    ds_rng rng;
    long i, lo = (long)rs->idx * POOL_PER_SUBMITTER;
    ds_rng_seed(&rng, rs->seed);
    for (i = lo; i < lo + POOL_PER_SUBMITTER; i++) {
        ds_pool_task t;
        ds_status s;
        int how = (int)ds_rng_below(&rng, 3);
        t.fn = race_fn;
        t.arg = (void *)(uintptr_t)(i + 1);
        t.done = race_done;
        t.cancel = race_cancel;
        if (how == 0) s = ds_pool_submit(c->pool, &t);
        else if (how == 1) s = ds_pool_try_submit(c->pool, &t);
        else s = ds_pool_submit_timeout(c->pool, &t, (int64_t)ds_rng_below(&rng, 50000));
        if (s == DS_OK) {
            c->accepted[i] = 1;
            DS__AADD(&c->total_accepted, 1L, relaxed);
        } else if (s == DS_EFULL || s == DS_ETIMEDOUT || s == DS_ECLOSED) {
            c->refused[rs->idx]++;
            if (s == DS_ECLOSED) {
                /* everything after this is refused too */
                for (i = i + 1; i < lo + POOL_PER_SUBMITTER; i++) {
                    if (ds_pool_try_submit(c->pool, &t) != DS_ECLOSED) c->refused[rs->idx] += 1000000;
                    c->refused[rs->idx]++;
                }
                break;
            }
        } else {
            c->refused[rs->idx] += 1000000; /* an impossible status */
        }
    }
    DS__AADD(&c->subs_done, 1L, release);
    return NULL;
}

static void race_round(ds_rng *rng, int cancel) {
    static race_ctx c;
    ds_pool p;
    ds_pool_config cfg;
    ds_pool_metrics m;
    pthread_t th[RACE_SUBMITTERS];
    race_sub rs[RACE_SUBMITTERS];
    long i, ran = 0, canc = 0, acc = 0, refused = 0, failed = 0, stop_after;
    int k;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 1 + (size_t)ds_rng_below(rng, 3);
    cfg.capacity = 2 + (size_t)ds_rng_below(rng, 30);
    cfg.sample_every = (uint32_t)ds_rng_below(rng, 20);
    cfg.latency_window = 1 + (size_t)ds_rng_below(rng, 100);
    CHECK(ds_pool_init_config(&p, &cfg, NULL) == DS_OK);
    c.pool = &p;
    c.slow = cancel;
    for (i = 0; i < RACE_TASKS; i++) {
        DS__AINIT(&c.ran[i], 0);
        DS__AINIT(&c.done[i], 0);
        DS__AINIT(&c.cancelled[i], 0);
        c.accepted[i] = 0;
    }
    DS__AINIT(&c.total_accepted, 0L);
    DS__AINIT(&c.saw_flag, 0L);
    DS__AINIT(&c.subs_done, 0L);
    g_race = &c;
    for (k = 0; k < RACE_SUBMITTERS; k++) {
        c.refused[k] = 0;
        rs[k].c = &c;
        rs[k].idx = k;
        rs[k].seed = ds_rng_next(rng);
        CHECK(pthread_create(&th[k], NULL, race_submitter, &rs[k]) == 0);
    }
    /* Stop somewhere in the middle of the stream. */
    stop_after = (long)ds_rng_below(rng, (uint64_t)RACE_TASKS / 2);
    while (DS__ALOAD(&c.total_accepted, relaxed) < stop_after &&
           DS__ALOAD(&c.subs_done, acquire) < RACE_SUBMITTERS)
        sched_yield();
    CHECK((cancel ? ds_pool_cancel(&p) : ds_pool_shutdown(&p)) == DS_OK);
    for (k = 0; k < RACE_SUBMITTERS; k++) pthread_join(th[k], NULL);
    /* Every accepted task: exactly once, run (with its done) or cancelled. */
    for (i = 0; i < RACE_TASKS; i++) {
        int r = DS__ALOAD(&c.ran[i], relaxed), d = DS__ALOAD(&c.done[i], relaxed),
            x = DS__ALOAD(&c.cancelled[i], relaxed);
        if (c.accepted[i]) {
            acc++;
            CHECKF(r + x == 1 && d == r, "task %ld: ran %d, done %d, cancelled %d", i, r, d, x);
            CHECK(cancel || x == 0);
            ran += r;
            canc += x;
            if (r && i % 5 == 0) failed++;
        } else {
            CHECKF(r == 0 && d == 0 && x == 0, "refused task %ld: ran %d, done %d, cancelled %d", i, r, d, x);
        }
    }
    for (k = 0; k < RACE_SUBMITTERS; k++) {
        CHECK(c.refused[k] < 1000000);
        refused += c.refused[k];
    }
    CHECK(acc + refused == RACE_TASKS);
    ds_pool_snapshot(&p, &m);
    CHECK(m.submitted == (uint64_t)acc);
    CHECK(m.succeeded + m.failed == (uint64_t)ran && m.failed == (uint64_t)failed);
    CHECK(m.cancelled == (uint64_t)canc);
    CHECK(m.rejected == (uint64_t)refused);
    CHECK(m.queued == 0 && m.running == 0);
    CHECK(m.queue_high_water <= m.capacity);
    CHECK(ds_pool_wait_idle(&p) == DS_OK);
    ds_pool_free(&p);
}

void test_conc_pool_shutdown_race(void) {
    ds_rng rng;
    int r;
    ds_rng_seed(&rng, 0x5b0f);
    for (r = 0; r < POOL_ROUNDS && !prop_test_failed; r++) race_round(&rng, 0);
}
void test_conc_pool_cancel_race(void) {
    ds_rng rng;
    int r;
    ds_rng_seed(&rng, 0xca9ce1);
    for (r = 0; r < POOL_ROUNDS && !prop_test_failed; r++) race_round(&rng, 1);
}

/* ---- backpressure ------------------------------------------------------------ */

typedef struct blocked_submit {
    ds_pool *p;
    ds_pool_task t;
    DS__ATOMIC(long) returned;
    ds_status s;
} blocked_submit;

static void *blocked_submitter(void *arg) {
    blocked_submit *b = (blocked_submit *)arg;
    b->s = ds_pool_submit(b->p, &b->t);
    DS__ASTORE(&b->returned, 1L, release);
    return NULL;
}

static int noop_fn(void *arg) {
    (void)arg;
    return 0;
}

typedef struct bound_ctx {
    ds_pool *p;
    DS__ATOMIC(long) stop;
    size_t worst;
    uint64_t worst_running; /* a snapshot's running: never more than the workers */
} bound_ctx;
static void *queue_watcher(void *arg) {
    bound_ctx *b = (bound_ctx *)arg;
    ds_pool_metrics m;
    while (!DS__ALOAD(&b->stop, acquire)) {
        ds_pool_snapshot(b->p, &m);
        if (m.queued > b->worst) b->worst = (size_t)m.queued;
        if (m.running > b->worst_running) b->worst_running = m.running;
        sched_yield();
    }
    return NULL;
}
static int slowish_fn(void *arg) {
    volatile unsigned x = 0;
    unsigned k;
    (void)arg;
    for (k = 0; k < 3000; k++) x += k;
    (void)x; /* busy work only */
    return 0;
}
static void *flood(void *arg) {
    ds_pool *p = (ds_pool *)arg;
    ds_pool_task t = {slowish_fn, NULL, NULL, NULL};
    int i;
    for (i = 0; i < POOL_PER_SUBMITTER / 4; i++)
        if (ds_pool_submit(p, &t) != DS_OK) break;
    return NULL;
}

void test_conc_pool_backpressure(void) {
    ds_pool p;
    static gate_ctx g;
    static gate_task gt[8];
    ds_pool_task pt;
    ds_pool_metrics m;
    blocked_submit b;
    pthread_t th;
    int64_t t0, el;
    int i;
    CHECK(ds_pool_init(&p, 1, 4) == DS_OK);
    CHECK(ds_pool_capacity(&p) == 4 && ds_pool_workers(&p) == 1);
    gate_init(&g, &p);
    for (i = 0; i < 8; i++) {
        gt[i].g = &g;
        gt[i].id = i;
        gt[i].rc = 0;
    }
    /* One running (held at the gate), four queued: full. */
    pt = gate_make(&gt[0]);
    CHECK(ds_pool_submit(&p, &pt) == DS_OK);
    CHECK(spin_until(&g.started, 1, 5000));
    for (i = 1; i <= 4; i++) {
        pt = gate_make(&gt[i]);
        CHECK(ds_pool_try_submit(&p, &pt) == DS_OK);
    }
    pt = gate_make(&gt[5]);
    CHECK(ds_pool_try_submit(&p, &pt) == DS_EFULL);
    CHECK(ds_pool_submit_timeout(&p, &pt, 0) == DS_ETIMEDOUT);
    t0 = ds_now_ns();
    CHECK(ds_pool_submit_timeout(&p, &pt, 3000000) == DS_ETIMEDOUT);
    el = ds_now_ns() - t0;
    CHECKF(el >= 3000000, "timed out after %lld ns", (long long)el);
    /* A blocking submit sleeps (announces itself on not_full)... */
    b.p = &p;
    b.t = gate_make(&gt[5]);
    DS__AINIT(&b.returned, 0L);
    CHECK(pthread_create(&th, NULL, blocked_submitter, &b) == 0);
    {
        int64_t end = ds_now_ns() + 5000000000LL;
        while (DS__ALOAD(&p.not_full.waiters, acquire) == 0 && ds_now_ns() < end) sched_yield();
    }
    CHECK(DS__ALOAD(&p.not_full.waiters, acquire) != 0);
    sleep_us(5000);
    CHECK(DS__ALOAD(&b.returned, acquire) == 0);
    /* ... until the worker takes a task, which makes room and wakes it. */
    DS__AADD(&g.permits, 1L, acq_rel);
    pthread_join(th, NULL);
    CHECK(b.s == DS_OK && DS__ALOAD(&b.returned, acquire) == 1);
    ds_pool_snapshot(&p, &m);
    CHECK(m.queue_high_water == 4 && m.capacity == 4);
    CHECK(m.rejected == 3 && m.submitted == 6);
    CHECK(m.queued <= 4);
    DS__ASTORE(&g.open, 1L, release);
    CHECK(ds_pool_wait_idle(&p) == DS_OK);
    ds_pool_snapshot(&p, &m);
    CHECK(m.succeeded == 6 && m.queued == 0 && m.running == 0);
    CHECK(DS__ALOAD(&g.finished, acquire) == 6);
    ds_pool_free(&p);

    /* Three flooding submitters, one slow worker: the queue never holds
     * more than its capacity and the submitters are held back. */
    {
        bound_ctx bc;
        pthread_t fl[3], w;
        CHECK(ds_pool_init(&p, 1, 8) == DS_OK);
        bc.p = &p;
        bc.worst = 0;
        bc.worst_running = 0;
        DS__AINIT(&bc.stop, 0L);
        CHECK(pthread_create(&w, NULL, queue_watcher, &bc) == 0);
        for (i = 0; i < 3; i++) CHECK(pthread_create(&fl[i], NULL, flood, &p) == 0);
        for (i = 0; i < 3; i++) pthread_join(fl[i], NULL);
        DS__ASTORE(&bc.stop, 1L, release);
        pthread_join(w, NULL);
        CHECK(ds_pool_wait_idle(&p) == DS_OK);
        ds_pool_snapshot(&p, &m);
        CHECK(bc.worst <= 8);
        /* taken, not finished: at most a batch of 8 per worker (issue 15, defect 11) */
        CHECKF(bc.worst_running <= 8 * ds_pool_workers(&p), "running %llu of %zu workers",
               (unsigned long long)bc.worst_running, ds_pool_workers(&p));
        CHECK(m.queue_high_water <= 8 && m.queue_high_water >= 1);
        CHECK(m.submitted == (uint64_t)(3 * (POOL_PER_SUBMITTER / 4)) && m.succeeded == m.submitted);
        CHECK(m.rejected == 0);
        ds_pool_free(&p);
    }
}

/* ---- wait_idle ------------------------------------------------------------------ */

static DS__ATOMIC(long) g_idle_count;
static int count_fn(void *arg) {
    volatile unsigned x = 0;
    unsigned k, n = (unsigned)(uintptr_t)arg;
    for (k = 0; k < n; k++) x += k;
    (void)x; /* busy work only */
    DS__AADD(&g_idle_count, 1L, relaxed);
    return 0;
}
static void *idle_waiter(void *arg) {
    ds_pool *p = (ds_pool *)arg;
    return ds_pool_wait_idle(p) == DS_OK ? p : NULL;
}

void test_conc_pool_wait_idle(void) {
    ds_pool p;
    ds_rng rng;
    static gate_ctx g;
    static gate_task gt;
    ds_pool_task pt;
    long total = 0;
    int r;
    int64_t t0;
    ds_rng_seed(&rng, 0x1d1e);
    CHECK(ds_pool_init(&p, 2, 16) == DS_OK);
    CHECK(ds_pool_wait_idle(&p) == DS_OK); /* a new pool is idle */
    CHECK(ds_pool_wait_idle_timeout(&p, 0) == DS_OK);
    DS__AINIT(&g_idle_count, 0L);
    for (r = 0; r < 40; r++) {
        long n = (long)ds_rng_below(&rng, 200), i;
        pthread_t th;
        void *res = NULL;
        for (i = 0; i < n; i++) {
            ds_pool_task t = {count_fn, (void *)(uintptr_t)ds_rng_below(&rng, 2000), NULL, NULL};
            CHECK(ds_pool_submit(&p, &t) == DS_OK);
        }
        {
            /* the last one takes a while: wait_idle must really wait */
            ds_pool_task t = {count_fn, (void *)(uintptr_t)200000, NULL, NULL};
            CHECK(ds_pool_submit(&p, &t) == DS_OK);
        }
        total += n + 1;
        /* a second waiter in another thread */
        CHECK(pthread_create(&th, NULL, idle_waiter, &p) == 0);
        CHECK(ds_pool_wait_idle(&p) == DS_OK);
        /* every task's effects are visible once wait_idle returns */
        CHECK(DS__ALOAD(&g_idle_count, relaxed) == total);
        pthread_join(th, &res);
        CHECK(res == &p);
    }
    /* Not idle while a task is held: the timeout expires. */
    gate_init(&g, &p);
    gt.g = &g;
    gt.id = 0;
    gt.rc = 0;
    pt = gate_make(&gt);
    CHECK(ds_pool_submit(&p, &pt) == DS_OK);
    t0 = ds_now_ns();
    CHECK(ds_pool_wait_idle_timeout(&p, 2000000) == DS_ETIMEDOUT);
    CHECK(ds_now_ns() - t0 >= 2000000);
    CHECK(ds_pool_wait_idle_timeout(&p, -5) == DS_ETIMEDOUT);
    DS__AADD(&g.permits, 1L, acq_rel);
    CHECK(ds_pool_wait_idle_timeout(&p, 5000000000LL) == DS_OK);
    CHECK(DS__ALOAD(&g.finished, acquire) == 1);
    /* Stopped and drained counts as idle. */
    CHECK(ds_pool_shutdown(&p) == DS_OK);
    CHECK(ds_pool_wait_idle(&p) == DS_OK);
    ds_pool_free(&p);
}

/* ---- calls from inside a task ----------------------------------------------------- */

typedef struct inner_ctx {
    ds_pool *p;
    ds_status st[8];
    DS__ATOMIC(long) stage;
    DS__ATOMIC(long) children_ran;
} inner_ctx;

static int child_fn(void *arg) {
    inner_ctx *c = (inner_ctx *)arg;
    DS__AADD(&c->children_ran, 1L, relaxed);
    return 0;
}
static int parent_fn(void *arg) {
    inner_ctx *c = (inner_ctx *)arg;
    ds_pool_task t = {child_fn, c, NULL, NULL};
    /* capacity 2, this worker is the only one and it is busy here */
    c->st[0] = ds_pool_try_submit(c->p, &t);
    c->st[1] = ds_pool_submit(c->p, &t);
    c->st[2] = ds_pool_submit(c->p, &t);                   /* full: EFULL, no sleep */
    c->st[3] = ds_pool_submit_timeout(c->p, &t, 1000000000); /* EFULL at once */
    c->st[4] = ds_pool_wait_idle(c->p);                    /* would wait for itself */
    c->st[5] = ds_pool_wait_idle_timeout(c->p, 1000);
    ds_pool_free(c->p);                                    /* a no-op here */
    c->st[6] = ds_pool_try_submit(c->p, &t) == DS_EFULL ? DS_OK : DS_EINVAL;
    DS__ASTORE(&c->stage, 1L, release);
    return 0;
}
static int stopper_fn(void *arg) {
    inner_ctx *c = (inner_ctx *)arg;
    ds_pool_task t = {child_fn, c, NULL, NULL};
    /* wait until the test has queued the children behind this task */
    while (DS__ALOAD(&c->stage, acquire) == 0) sched_yield();
    c->st[0] = DS__ALOAD(&c->stage, relaxed) == 1 ? ds_pool_shutdown(c->p) : ds_pool_cancel(c->p);
    c->st[1] = ds_pool_try_submit(c->p, &t);
    c->st[2] = ds_pool_submit(c->p, &t);
    DS__ASTORE(&c->stage, 3L, release);
    return 0;
}

/* A task tree: each node submits its children, running a child inline when
 * the queue is full (submit from a task never sleeps). */
typedef struct tree_ctx {
    ds_pool *p;
    DS__ATOMIC(long) nodes;
    DS__ATOMIC(long) inline_runs;
} tree_ctx;
static tree_ctx g_tree;
static int tree_fn(void *arg) {
    long depth = (long)(uintptr_t)arg, k;
    DS__AADD(&g_tree.nodes, 1L, relaxed);
    if (depth == 0) return 0;
    for (k = 0; k < 3; k++) {
        ds_pool_task t = {tree_fn, (void *)(uintptr_t)(depth - 1), NULL, NULL};
        ds_status s = ds_pool_submit(g_tree.p, &t);
        if (s == DS_EFULL) {
            DS__AADD(&g_tree.inline_runs, 1L, relaxed);
            tree_fn(t.arg);
        } else if (s != DS_OK) {
            DS__AADD(&g_tree.nodes, 1000000L, relaxed);
        }
    }
    return 0;
}

void test_conc_pool_from_task(void) {
    ds_pool p;
    static inner_ctx c;
    ds_pool_task t;
    ds_pool_metrics m;
    int mode;
    CHECK(ds_pool_init(&p, 1, 2) == DS_OK);
    c.p = &p;
    DS__AINIT(&c.stage, 0L);
    DS__AINIT(&c.children_ran, 0L);
    t.fn = parent_fn;
    t.arg = &c;
    t.done = NULL;
    t.cancel = NULL;
    CHECK(ds_pool_submit(&p, &t) == DS_OK);
    CHECK(ds_pool_wait_idle(&p) == DS_OK);
    CHECK(c.st[0] == DS_OK && c.st[1] == DS_OK);
    CHECK(c.st[2] == DS_EFULL && c.st[3] == DS_EFULL);
    CHECK(c.st[4] == DS_EINVAL && c.st[5] == DS_EINVAL);
    CHECK(c.st[6] == DS_OK); /* the pool survived the free from inside */
    CHECK(DS__ALOAD(&c.children_ran, relaxed) == 2);
    ds_pool_snapshot(&p, &m);
    CHECK(m.submitted == 3 && m.rejected == 3 && m.succeeded == 3);
    ds_pool_free(&p);

    /* shutdown (mode 1) / cancel (mode 2) from a task: a request, no join;
     * queued tasks still run (shutdown) or are cancelled (cancel); a later
     * free from outside joins. */
    for (mode = 1; mode <= 2; mode++) {
        ds_pool_task child = {child_fn, &c, NULL, NULL};
        CHECK(ds_pool_init(&p, 1, 8) == DS_OK);
        c.p = &p;
        DS__ASTORE(&c.stage, 0L, relaxed);
        DS__ASTORE(&c.children_ran, 0L, relaxed);
        t.fn = stopper_fn;
        CHECK(ds_pool_submit(&p, &t) == DS_OK);
        CHECK(ds_pool_submit(&p, &child) == DS_OK);
        CHECK(ds_pool_submit(&p, &child) == DS_OK);
        DS__ASTORE(&c.stage, (long)mode, release);
        {
            int64_t end = ds_now_ns() + 5000000000LL;
            while (DS__ALOAD(&c.stage, acquire) != 3 && ds_now_ns() < end) sched_yield();
        }
        CHECK(DS__ALOAD(&c.stage, acquire) == 3);
        CHECK(c.st[0] == DS_OK && c.st[1] == DS_ECLOSED && c.st[2] == DS_ECLOSED);
        CHECK(ds_pool_submit(&p, &child) == DS_ECLOSED);
        CHECK(ds_pool_wait_idle(&p) == DS_OK);
        ds_pool_snapshot(&p, &m);
        CHECK(m.submitted == 3);
        if (mode == 1) CHECK(m.succeeded == 3 && m.cancelled == 0 && DS__ALOAD(&c.children_ran, relaxed) == 2);
        else CHECK(m.succeeded == 1 && m.cancelled == 2 && DS__ALOAD(&c.children_ran, relaxed) == 0);
        ds_pool_free(&p);
    }

    /* A tree of tasks submitting tasks, into a small queue. */
    {
        long depth = 6, want = 0, level = 1, d;
        ds_pool_task root = {tree_fn, NULL, NULL, NULL};
        for (d = 0; d <= depth; d++, level *= 3) want += level;
        CHECK(ds_pool_init(&p, 2, 4) == DS_OK);
        g_tree.p = &p;
        DS__AINIT(&g_tree.nodes, 0L);
        DS__AINIT(&g_tree.inline_runs, 0L);
        root.arg = (void *)(uintptr_t)depth;
        CHECK(ds_pool_submit(&p, &root) == DS_OK);
        CHECK(ds_pool_wait_idle(&p) == DS_OK);
        CHECK(DS__ALOAD(&g_tree.nodes, relaxed) == want);
        ds_pool_snapshot(&p, &m);
        CHECK((long)m.submitted + DS__ALOAD(&g_tree.inline_runs, relaxed) == want);
        CHECK(m.rejected == (uint64_t)DS__ALOAD(&g_tree.inline_runs, relaxed));
        CHECK(m.succeeded == m.submitted);
        ds_pool_free(&p);
    }
}

/* ---- latency metrics ---------------------------------------------------------------- */

static int sleep_fn(void *arg) {
    sleep_us((long)(uintptr_t)arg);
    return 0;
}
static int fail_fn(void *arg) {
    (void)arg;
    return -1;
}

void test_conc_pool_metrics(void) {
    ds_pool p;
    ds_pool_config cfg;
    ds_pool_metrics m;
    int i;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 1;
    cfg.capacity = 16;
    cfg.sample_every = 1;
    cfg.latency_window = 64;
    CHECK(ds_pool_init_config(&p, &cfg, NULL) == DS_OK);
    ds_pool_snapshot(&p, &m);
    CHECK(m.latency_samples == 0 && isnan(m.run_p50_ns) && isnan(m.queue_wait_p99_ns));
    CHECK(m.submitted == 0 && m.queue_high_water == 0 && m.capacity == 16 && m.workers == 1);
    /* Ten 2 ms tasks on one worker: each runs >= 2 ms; the last waits
     * behind the nine before it. */
    for (i = 0; i < 10; i++) {
        ds_pool_task t = {sleep_fn, (void *)(uintptr_t)2000, NULL, NULL};
        CHECK(ds_pool_submit(&p, &t) == DS_OK);
    }
    CHECK(ds_pool_wait_idle(&p) == DS_OK);
    ds_pool_snapshot(&p, &m);
    CHECK(m.latency_samples == 10);
    CHECKF(m.run_p50_ns >= 2e6 && m.run_p99_ns >= m.run_p50_ns, "run p50 %.0f p99 %.0f", m.run_p50_ns,
           m.run_p99_ns);
    CHECKF(m.queue_wait_p99_ns >= 8 * 2e6 && m.queue_wait_p50_ns >= 2e6, "wait p50 %.0f p99 %.0f",
           m.queue_wait_p50_ns, m.queue_wait_p99_ns);
    CHECK(m.queue_wait_p50_ns <= m.queue_wait_p99_ns);
    CHECK(m.queue_high_water >= 9 && m.queue_high_water <= 10);
    /* The window keeps the last 64 samples. */
    for (i = 0; i < 100; i++) {
        ds_pool_task t = {i % 4 ? noop_fn : fail_fn, NULL, NULL, NULL};
        CHECK(ds_pool_submit(&p, &t) == DS_OK);
        if (i == 50) ds_pool_snapshot(&p, &m); /* drains part of it midway */
    }
    CHECK(ds_pool_wait_idle(&p) == DS_OK);
    ds_pool_snapshot(&p, &m);
    CHECK(m.latency_samples == 64);
    CHECK(m.run_p50_ns < 2e6); /* the 2 ms samples have left the window */
    CHECK(m.submitted == 110 && m.succeeded == 85 && m.failed == 25 && m.cancelled == 0);
    CHECK(m.succeeded + m.failed + m.cancelled + m.queued + m.running == m.submitted);
    ds_pool_free(&p);

    /* Default sampling: one task in 16, by queue position. */
    CHECK(ds_pool_init(&p, 2, 64) == DS_OK);
    for (i = 0; i < 160; i++) {
        ds_pool_task t = {noop_fn, NULL, NULL, NULL};
        CHECK(ds_pool_submit(&p, &t) == DS_OK);
    }
    CHECK(ds_pool_wait_idle(&p) == DS_OK);
    ds_pool_snapshot(&p, &m);
    CHECK(m.latency_samples == 10);
    CHECK(m.run_p50_ns >= 0 && m.queue_wait_p50_ns >= 0);
    ds_pool_free(&p);
}

/* ---- bad input, allocation failure, thread creation failure ------------------- */

void test_conc_pool_bad_input(void) {
    ds_pool p;
    ds_pool_config cfg;
    ds_pool_metrics m;
    ds_pool_task t = {noop_fn, NULL, NULL, NULL}, nofn = {NULL, NULL, NULL, NULL};
    long threads = thread_count();
    CHECK(ds_pool_init(NULL, 1, 1) == DS_EINVAL);
    CHECK(ds_pool_init(&p, 0, 4) == DS_EINVAL);
    CHECK(ds_pool_init(&p, 1, 0) == DS_EINVAL);
    CHECK(ds_pool_init(&p, DS_POOL_MAX_WORKERS + 1, 4) == DS_EINVAL);
    CHECK(ds_pool_init(&p, 1, SIZE_MAX) == DS_EINVAL);
    CHECK(ds_pool_init(&p, 1, SIZE_MAX / 4) == DS_EINVAL); /* bytes overflow */
    CHECK(ds_pool_init_config(&p, NULL, NULL) == DS_EINVAL);
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 1;
    cfg.capacity = 4;
    cfg.latency_window = SIZE_MAX;
    CHECK(ds_pool_init_config(&p, &cfg, NULL) == DS_EINVAL);
    cfg.latency_window = 0;
    cfg.stack_size = 1; /* below PTHREAD_STACK_MIN */
    CHECK(ds_pool_init_config(&p, &cfg, NULL) == DS_EINVAL);
    CHECK(threads_back_to(threads));
    /* A pool whose init failed: every call refuses, free does nothing. */
    CHECK(ds_pool_submit(&p, &t) == DS_EINVAL && ds_pool_try_submit(&p, &t) == DS_EINVAL);
    CHECK(ds_pool_submit_timeout(&p, &t, 10) == DS_EINVAL);
    CHECK(ds_pool_wait_idle(&p) == DS_EINVAL && ds_pool_wait_idle_timeout(&p, 10) == DS_EINVAL);
    CHECK(ds_pool_shutdown(&p) == DS_EINVAL && ds_pool_cancel(&p) == DS_EINVAL);
    CHECK(!ds_pool_cancelled(&p) && ds_pool_capacity(&p) == 0 && ds_pool_workers(&p) == 0);
    ds_pool_snapshot(&p, &m);
    CHECK(m.submitted == 0 && m.capacity == 0 && isnan(m.run_p99_ns));
    ds_pool_free(&p);
    ds_pool_free(NULL);
    ds_pool_snapshot(NULL, &m);
    CHECK(ds_pool_submit(NULL, &t) == DS_EINVAL && ds_pool_shutdown(NULL) == DS_EINVAL);
    CHECK(ds_pool_wait_idle(NULL) == DS_EINVAL && !ds_pool_cancelled(NULL));
    /* A live pool: bad tasks are refused and not counted as rejected. */
    CHECK(ds_pool_init(&p, 1, 1) == DS_OK);
    CHECK(ds_pool_capacity(&p) == 2);
    CHECK(ds_pool_submit(&p, NULL) == DS_EINVAL && ds_pool_submit(&p, &nofn) == DS_EINVAL);
    CHECK(ds_pool_try_submit(&p, &nofn) == DS_EINVAL && ds_pool_submit_timeout(&p, &nofn, 5) == DS_EINVAL);
    ds_pool_snapshot(&p, NULL);
    ds_pool_snapshot(&p, &m);
    CHECK(m.rejected == 0 && m.submitted == 0);
    CHECK(ds_pool_submit(&p, &t) == DS_OK);
    /* Stopping is idempotent, in any order. */
    CHECK(ds_pool_shutdown(&p) == DS_OK && ds_pool_shutdown(&p) == DS_OK);
    CHECK(ds_pool_cancel(&p) == DS_OK && ds_pool_cancelled(&p));
    CHECK(ds_pool_submit(&p, &t) == DS_ECLOSED);
    ds_pool_snapshot(&p, &m);
    CHECK(m.submitted == 1 && m.succeeded == 1 && m.rejected == 1);
    ds_pool_free(&p);
    CHECK(ds_pool_submit(&p, &t) == DS_EINVAL); /* after free */
    ds_pool_free(&p);
    CHECK(threads_back_to(threads));
}

static int pool_init_free(prop_alloc *pa, size_t workers, ds_status *st) {
    ds_pool p;
    ds_pool_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = workers;
    cfg.capacity = 8;
    cfg.latency_window = 16;
    *st = ds_pool_init_config(&p, &cfg, &pa->a);
    if (*st != DS_OK) return 0;
    {
        ds_pool_task t = {noop_fn, NULL, NULL, NULL};
        if (ds_pool_submit(&p, &t) != DS_OK) return -1;
    }
    ds_pool_free(&p);
    return 1;
}

void test_conc_pool_oom(void) {
    prop_alloc pa;
    long threads = thread_count(), k, total;
    int mode, r;
    ds_status st;
    prop_alloc_init(&pa);
    CHECK(pool_init_free(&pa, 3, &st) == 1);
    CHECK(pa.live_bytes == 0 && pa.live_blocks == 0 && pa.size_errors == 0);
    total = pa.attempts;
    CHECK(total >= 10); /* cells, windows (2 x 4), raw, scratch, array, 3 workers */
    CHECK(threads_back_to(threads));
    for (mode = 0; mode < 2; mode++) {
        for (k = 1; k <= total; k++) {
            prop_alloc_init(&pa);
            prop_alloc_fail_in(&pa, k, mode);
            r = pool_init_free(&pa, 3, &st);
            /* Every allocation init makes is needed: any failure is DS_ENOMEM. */
            CHECKF(r == 0 && st == DS_ENOMEM && pa.failed, "k %ld mode %d: r %d %s", k, mode, r,
                   ds_status_name(st));
            CHECKF(pa.live_bytes == 0 && pa.live_blocks == 0 && pa.size_errors == 0,
                   "k %ld mode %d: %zu bytes in %ld blocks left", k, mode, pa.live_bytes, pa.live_blocks);
            CHECKF(threads_back_to(threads), "k %ld mode %d: threads left behind", k, mode);
        }
    }
}

void test_conc_pool_thread_fail(void) {
    prop_alloc pa;
    ds_pool p;
    ds_pool_config cfg;
    long threads = thread_count();
    ds_pool_task t = {noop_fn, NULL, NULL, NULL};
    prop_alloc_init(&pa);
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 2;
    cfg.capacity = 4;
    /* No system gives a thread a 2^50-byte stack: pthread_create fails on
     * the first worker. */
    cfg.stack_size = (size_t)1 << 50;
    CHECK(ds_pool_init_config(&p, &cfg, &pa.a) == DS_ENOMEM);
    CHECK(pa.live_bytes == 0 && pa.live_blocks == 0 && pa.size_errors == 0);
    CHECK(threads_back_to(threads));
    CHECK(ds_pool_submit(&p, &t) == DS_EINVAL);
    ds_pool_free(&p);
    /* A reasonable stack size works. */
    cfg.stack_size = 256 * 1024;
    CHECK(ds_pool_init_config(&p, &cfg, &pa.a) == DS_OK);
    CHECK(ds_pool_submit(&p, &t) == DS_OK && ds_pool_wait_idle(&p) == DS_OK);
    ds_pool_free(&p);
    CHECK(pa.live_bytes == 0 && pa.live_blocks == 0);
    CHECK(threads_back_to(threads));
}
