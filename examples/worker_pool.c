/* examples/worker_pool.c - a worker pool behind a rate-limited producer,
 * with bounded memory, live metrics and a clean cancel partway.
 *
 * Scenario: an ingest service scores events (here: generated, each a few
 * hundred hash rounds; one in 101 is malformed and fails). The producer
 * feeds them to a ds_pool of 4 workers through a 256-slot queue:
 *
 *   1. steady state: 80% of the events arrive at a controlled rate, paced
 *      by a token bucket (ds_limiter, 250k events/s by default). The pool
 *      mostly keeps up; the queue stays short but for one long job in
 *      10000, which holds a worker for up to 20 ms.
 *   2. a burst: the producer stops pacing and pushes as fast as it can.
 *      The queue fills, ds_pool_submit sleeps while it is full
 *      (backpressure): memory stays at 256 queued tasks however far the
 *      producer is ahead. Each task's argument is the event id itself, so
 *      nothing is allocated per event.
 *   3. a shutdown signal arrives partway through the burst: ds_pool_cancel.
 *      Tasks still queued are not run; each one's cancel callback hands it
 *      back (counted here as "returned upstream"), so none is dropped
 *      silently. One in 10000 events is a long job that checks
 *      ds_pool_cancelled() and stops early when it is set (in the burst,
 *      one in 1000).
 *
 * Every 0.25 s the producer prints the pool's metrics (counters, queue
 * high-water mark, p50/p99 queue wait and run time over the last 1024
 * sampled tasks). At the end the program checks that every event is
 * accounted for exactly once: succeeded + failed + cancelled == submitted,
 * the callbacks agree with the pool's counters, and the queue never held
 * more than its capacity. Exit status 0 only if all of that holds.
 *
 * Build and run (C11 + pthreads):
 *     cc -std=c11 -O2 -I. examples/worker_pool.c -o worker_pool -pthread -lm
 *     ./worker_pool [events] [events_per_second]
 * The default is 200000 events (quick, also under ASan in `make check`);
 * ./worker_pool 1000000 runs the full million (3.2 s of paced input at the
 * default rate). */
#define _POSIX_C_SOURCE 200809L
#define DS_IMPLEMENTATION
#include "ds_concurrent.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WORKERS 4
#define QUEUE 256
#define SLOW_EVERY 10000

static ds_pool pool;
static uint64_t paced_events; /* set before the first submit */
static DS__ATOMIC(uint64_t) checksum;  /* of the scores of events that ran */
static DS__ATOMIC(uint64_t) ran, malformed, aborted, returned;

/* Score an event: some hashing work. 0 = scored, 1 = malformed, 2 = a long
 * job stopped by the cooperative cancel flag. */
static int score_event(void *arg) {
    uint64_t id = (uint64_t)(uintptr_t)arg, h = id;
    int i;
    if (id % SLOW_EVERY == SLOW_EVERY - 1 || (id >= paced_events && id % 1000 == 999)) {
        /* a long job: up to 20 ms */
        int64_t end = ds_now_ns() + 20000000;
        while (ds_now_ns() < end) {
            if (ds_pool_cancelled(&pool)) return 2;
            for (i = 0; i < 1000; i++) h = ds_mix64(h + (uint64_t)i);
        }
    }
    if (id % 101 == 100) return 1;
    for (i = 0; i < 300; i++) h = ds_mix64(h ^ (uint64_t)i);
    DS__AADD(&checksum, h & 0xffff, relaxed);
    return 0;
}
/* Completion: runs on the worker right after score_event. */
static void event_done(void *arg, int rc) {
    (void)arg;
    DS__AADD(&ran, (uint64_t)1, relaxed);
    if (rc == 1) DS__AADD(&malformed, (uint64_t)1, relaxed);
    if (rc == 2) DS__AADD(&aborted, (uint64_t)1, relaxed);
}
/* Cancel: the event never ran; a real service would put it back on its
 * upstream queue (or nack it). */
static void event_returned(void *arg) {
    (void)arg;
    DS__AADD(&returned, (uint64_t)1, relaxed);
}

static void print_metrics(const char *phase, double t) {
    ds_pool_metrics m;
    ds_pool_snapshot(&pool, &m);
    printf("%6.2fs %-7s submitted %8llu  ok %8llu  failed %5llu  queued %3llu  high-water %3zu"
           "  wait p50/p99 %7.1f/%8.1f us  run p50/p99 %5.1f/%7.1f us\n",
           t, phase, (unsigned long long)m.submitted, (unsigned long long)m.succeeded,
           (unsigned long long)m.failed, (unsigned long long)m.queued, m.queue_high_water,
           m.queue_wait_p50_ns / 1e3, m.queue_wait_p99_ns / 1e3, m.run_p50_ns / 1e3, m.run_p99_ns / 1e3);
}

static void sleep_ns(int64_t ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
    uint64_t events = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
    uint64_t rate = argc > 2 ? strtoull(argv[2], NULL, 10) : 250000;
    uint64_t paced = events / 10 * 8, stop_at = events / 100 * 85, id = 0, full_waits = 0;
    int64_t start = ds_now_ns(), next_report = start + 250000000;
    ds_limiter lim;
    ds_limit_config lc;
    ds_pool_metrics m;
    ds_status s = DS_OK;
    int ok = 1;

    paced_events = paced;
    if (events == 0 || rate == 0) {
        fprintf(stderr, "usage: worker_pool [events > 0] [events_per_second > 0]\n");
        return 2;
    }
    memset(&lc, 0, sizeof lc);
    lc.algo = DS_LIMIT_TOKEN_BUCKET;
    lc.limit = rate;
    lc.period_ns = 1000000000;
    lc.burst = rate / 100 + 1; /* 10 ms worth */
    if ((s = ds_limiter_init(&lim, &lc, NULL)) != DS_OK || (s = ds_pool_init(&pool, WORKERS, QUEUE)) != DS_OK) {
        fprintf(stderr, "init: %s\n", ds_strerror(s));
        return 1;
    }
    printf("%llu events, %d workers, queue of %zu; paced at %llu/s for the first %llu, then a burst;"
           " cancel at %llu\n",
           (unsigned long long)events, WORKERS, ds_pool_capacity(&pool), (unsigned long long)rate,
           (unsigned long long)paced, (unsigned long long)stop_at);

    for (id = 0; id < stop_at; id++) {
        ds_pool_task t;
        int64_t now = ds_now_ns();
        if (id < paced) { /* phase 1: wait for a token */
            while (ds_limiter_allow(&lim, 1, now) != DS_OK) {
                sleep_ns(ds_limiter_wait_ns(&lim, 1, now));
                now = ds_now_ns();
            }
        }
        t.fn = score_event;
        t.arg = (void *)(uintptr_t)id;
        t.done = event_done;
        t.cancel = event_returned;
        /* try first, only to count how often backpressure held us back */
        if ((s = ds_pool_try_submit(&pool, &t)) == DS_EFULL) {
            full_waits++;
            s = ds_pool_submit(&pool, &t); /* sleeps until there is room */
        }
        if (s != DS_OK) {
            fprintf(stderr, "submit: %s\n", ds_strerror(s));
            return 1;
        }
        if (now >= next_report) {
            print_metrics(id < paced ? "paced" : "burst", (double)(now - start) / 1e9);
            next_report += 250000000;
        }
    }
    print_metrics("burst", (double)(ds_now_ns() - start) / 1e9);

    /* Phase 3: the shutdown signal. Queued events are handed back; running
     * ones finish (long ones stop early); the workers are joined. */
    ds_pool_cancel(&pool);
    {
        ds_pool_task t = {score_event, NULL, event_done, event_returned};
        if (ds_pool_submit(&pool, &t) != DS_ECLOSED) ok = 0; /* closed for good */
    }
    ds_pool_snapshot(&pool, &m);
    print_metrics("stopped", (double)(ds_now_ns() - start) / 1e9);
    printf("submitted %llu, ran %llu (malformed %llu, long jobs stopped early %llu), returned upstream"
           " %llu, never submitted %llu;\nthe producer found the queue full %llu times; queue high-water"
           " %zu of %zu; rejected submits %llu; checksum %llx\n",
           (unsigned long long)m.submitted, (unsigned long long)DS__ALOAD(&ran, relaxed),
           (unsigned long long)DS__ALOAD(&malformed, relaxed), (unsigned long long)DS__ALOAD(&aborted, relaxed),
           (unsigned long long)DS__ALOAD(&returned, relaxed), (unsigned long long)(events - stop_at),
           (unsigned long long)full_waits, m.queue_high_water, m.capacity, (unsigned long long)m.rejected,
           (unsigned long long)DS__ALOAD(&checksum, relaxed));

    /* Every event once: ran or returned, and the pool agrees. */
    if (m.submitted != stop_at) ok = 0;
    if (m.succeeded + m.failed + m.cancelled != m.submitted || m.queued != 0 || m.running != 0) ok = 0;
    if (DS__ALOAD(&ran, relaxed) != m.succeeded + m.failed) ok = 0;
    if (DS__ALOAD(&returned, relaxed) != m.cancelled) ok = 0;
    if (DS__ALOAD(&malformed, relaxed) + DS__ALOAD(&aborted, relaxed) != m.failed) ok = 0;
    if (m.queue_high_water > m.capacity) ok = 0;
    if (m.rejected != full_waits + 1) ok = 0; /* each EFULL try, and the submit after cancel */
    ds_pool_free(&pool);
    ds_limiter_free(&lim);
    printf("%s\n", ok ? "accounting: every event exactly once" : "ACCOUNTING MISMATCH");
    return ok ? 0 : 1;
}
