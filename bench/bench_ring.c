/* bench/bench_ring.c - ds_concurrent.h rings beside their peers.
 *
 * SPSC: DS_SPSC vs Concurrency Kit ck_ring (spsc, typed CK_RING_PROTOTYPE)
 * and boost::lockfree::spsc_queue (bench_ring_boost.cc), 8- and 64-byte
 * items, one at a time and in batches of 32 (ck_ring has no batch call: its
 * batch row is the single-item loop). A producer thread streams N items to
 * a consumer thread through a 1024-slot ring; both poll (no sleeping) so
 * the rings themselves are measured (a failed try yields the CPU, the same
 * for every contender, so a shared machine does not turn it into a spin
 * for a whole time slice). Reported: items/s (median of reps) and
 * peer_time / ds_time (> 1: ds faster).
 * MPMC: DS_MPMC (try calls with sched_yield on full/empty, and the blocking
 * calls) vs ck_ring mpmc and a mutex + two condvars around a ring, with
 * 1-2 producers and 1-2 consumers (the machine has 2 cores).
 * Every run checks the consumers' checksum.
 *
 *   bench_ring [--quick]     (BENCH_REPS overrides the reps) */
#define _GNU_SOURCE
#define DS_IMPLEMENTATION
#include "ds_concurrent.h"
#include "bench/bench.h"
#include <ck_ring.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct item8 { uint64_t v[1]; } item8;
typedef struct item64 { uint64_t v[8]; } item64;

DS_SPSC(ds8, item8)
DS_SPSC(ds64, item64)
DS_MPMC(mq8, item8)
CK_RING_PROTOTYPE(ck8, item8)
CK_RING_PROTOTYPE(ck64, item64)

long long bench_boost_spsc(int bytes, unsigned cap, long long n, int batch, unsigned long long *sum);

#define CAP 1024u
#define BATCH 32

static long long N;
static _Atomic int go;

/* ---- SPSC -------------------------------------------------------------- */

typedef struct spsc_run {
    int impl, bytes, batch; /* impl 0 ds, 1 ck */
    ds8 d8;
    ds64 d64;
    ck_ring_t ck;
    void *ckbuf;
    unsigned long long sum;
} spsc_run;

#define SPSC_CONSUMER(fn, T, POP1, POPN)                                        \
    static void fn(spsc_run *r) {                                               \
        T buf[BATCH];                                                           \
        long long got = 0;                                                      \
        unsigned long long sum = 0;                                             \
        while (got < N) {                                                       \
            if (r->batch && r->impl == 0) {                                     \
                size_t k = 0, i;                                                \
                POPN;                                                           \
                for (i = 0; i < k; i++) sum += buf[i].v[0];                     \
                got += (long long)k;                                            \
            } else if (POP1) {                                                  \
                sum += buf[0].v[0];                                             \
                got++;                                                          \
            } else {                                                            \
                sched_yield(); /* fair when the 2 cores are shared */           \
            }                                                                   \
        }                                                                       \
        r->sum = sum;                                                           \
    }
SPSC_CONSUMER(cons8, item8,
              r->impl == 0 ? ds8_try_pop(&r->d8, &buf[0]) == DS_OK
                           : ck_ring_dequeue_spsc_ck8(&r->ck, (item8 *)r->ckbuf, &buf[0]),
              ds8_pop_n(&r->d8, buf, BATCH, &k))
SPSC_CONSUMER(cons64, item64,
              r->impl == 0 ? ds64_try_pop(&r->d64, &buf[0]) == DS_OK
                           : ck_ring_dequeue_spsc_ck64(&r->ck, (item64 *)r->ckbuf, &buf[0]),
              ds64_pop_n(&r->d64, buf, BATCH, &k))

static void *spsc_consumer(void *arg) {
    spsc_run *r = (spsc_run *)arg;
    while (!atomic_load_explicit(&go, memory_order_acquire)) {}
    if (r->bytes == 8) cons8(r);
    else cons64(r);
    return NULL;
}

#define SPSC_PRODUCER(fn, T, PUSH1, PUSHN)                                      \
    static void fn(spsc_run *r) {                                               \
        T b[BATCH];                                                             \
        long long i = 0;                                                        \
        memset(b, 0, sizeof b);                                                 \
        while (i < N) {                                                         \
            if (r->batch && r->impl == 0) {                                     \
                size_t k = N - i < BATCH ? (size_t)(N - i) : BATCH, j, done = 0; \
                for (j = 0; j < k; j++) b[j].v[0] = (uint64_t)(i + (long long)j); \
                PUSHN;                                                          \
                i += (long long)done;                                           \
                if (!done) sched_yield();                                     \
            } else {                                                            \
                b[0].v[0] = (uint64_t)i;                                        \
                if (PUSH1) i++;                                                 \
                else sched_yield();                                           \
            }                                                                   \
        }                                                                       \
    }
SPSC_PRODUCER(prod8, item8,
              r->impl == 0 ? ds8_try_push(&r->d8, b[0]) == DS_OK
                           : ck_ring_enqueue_spsc_ck8(&r->ck, (item8 *)r->ckbuf, &b[0]),
              ds8_push_n(&r->d8, b, k, &done))
SPSC_PRODUCER(prod64, item64,
              r->impl == 0 ? ds64_try_push(&r->d64, b[0]) == DS_OK
                           : ck_ring_enqueue_spsc_ck64(&r->ck, (item64 *)r->ckbuf, &b[0]),
              ds64_push_n(&r->d64, b, k, &done))

/* One timed run; returns ns, checks the sum. */
static double spsc_once(int impl, int bytes, int batch) {
    spsc_run r;
    pthread_t t;
    int64_t t0, t1;
    unsigned long long want = (unsigned long long)N * (unsigned long long)(N - 1) / 2;
    memset(&r, 0, sizeof r);
    r.impl = impl;
    r.bytes = bytes;
    r.batch = batch;
    if (impl == 2) {
        unsigned long long sum = 0;
        long long ns = bench_boost_spsc(bytes, CAP, N, batch, &sum);
        if (sum != want) { fprintf(stderr, "boost spsc: bad sum\n"); exit(1); }
        return (double)ns;
    }
    if (impl == 0) {
        if ((bytes == 8 ? ds8_init(&r.d8, CAP) : ds64_init(&r.d64, CAP)) != DS_OK) exit(1);
    } else {
        r.ckbuf = calloc(CAP, (size_t)bytes);
        ck_ring_init(&r.ck, CAP);
    }
    atomic_store(&go, 0);
    pthread_create(&t, NULL, spsc_consumer, &r);
    t0 = bench_now();
    atomic_store_explicit(&go, 1, memory_order_release);
    if (bytes == 8) prod8(&r);
    else prod64(&r);
    pthread_join(t, NULL);
    t1 = bench_now();
    if (r.sum != want) { fprintf(stderr, "spsc impl %d: bad sum\n", impl); exit(1); }
    if (impl == 0) { if (bytes == 8) ds8_free(&r.d8); else ds64_free(&r.d64); }
    else free(r.ckbuf);
    return (double)(t1 - t0);
}

/* ---- MPMC -------------------------------------------------------------- */

/* The mutex + condvar baseline: a ring under one lock. */
typedef struct lockq {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    item8 *buf;
    size_t head, len, cap;
} lockq;
static void lockq_push(lockq *q, item8 x) {
    pthread_mutex_lock(&q->mu);
    while (q->len == q->cap) pthread_cond_wait(&q->not_full, &q->mu);
    q->buf[(q->head + q->len++) % q->cap] = x;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}
static void lockq_pop(lockq *q, item8 *out) {
    pthread_mutex_lock(&q->mu);
    while (q->len == 0) pthread_cond_wait(&q->not_empty, &q->mu);
    *out = q->buf[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

typedef struct mpmc_run {
    int impl; /* 0 ds try, 1 ds blocking, 2 ck, 3 mutex */
    mq8 dq;
    ck_ring_t ck;
    item8 *ckbuf;
    lockq lq;
    long long per_producer, per_consumer;
} mpmc_run;
typedef struct mpmc_thread {
    mpmc_run *r;
    int id;
    unsigned long long sum;
} mpmc_thread;

static void *mpmc_producer(void *arg) {
    mpmc_thread *t = (mpmc_thread *)arg;
    mpmc_run *r = t->r;
    long long i;
    item8 x;
    while (!atomic_load_explicit(&go, memory_order_acquire)) {}
    for (i = 0; i < r->per_producer; i++) {
        x.v[0] = (uint64_t)i;
        switch (r->impl) {
        case 0: while (mq8_try_push(&r->dq, x) != DS_OK) sched_yield(); break;
        case 1: mq8_push(&r->dq, x); break;
        case 2: while (!ck_ring_enqueue_mpmc_ck8(&r->ck, r->ckbuf, &x)) sched_yield(); break;
        default: lockq_push(&r->lq, x); break;
        }
    }
    return NULL;
}
static void *mpmc_consumer(void *arg) {
    mpmc_thread *t = (mpmc_thread *)arg;
    mpmc_run *r = t->r;
    long long i;
    item8 x = {{0}};
    while (!atomic_load_explicit(&go, memory_order_acquire)) {}
    for (i = 0; i < r->per_consumer; i++) {
        switch (r->impl) {
        case 0: while (mq8_try_pop(&r->dq, &x) != DS_OK) sched_yield(); break;
        case 1: mq8_pop(&r->dq, &x); break;
        case 2: while (!ck_ring_dequeue_mpmc_ck8(&r->ck, r->ckbuf, &x)) sched_yield(); break;
        default: lockq_pop(&r->lq, &x); break;
        }
        t->sum += x.v[0];
    }
    return NULL;
}

static double mpmc_once(int impl, int P, int C) {
    mpmc_run r;
    mpmc_thread th[4];
    pthread_t tid[4];
    int64_t t0, t1;
    int i;
    unsigned long long sum = 0, want;
    memset(&r, 0, sizeof r);
    r.impl = impl;
    r.per_producer = N / P / C * C; /* divisible by both */
    r.per_consumer = r.per_producer * P / C;
    want = (unsigned long long)P * (unsigned long long)r.per_producer * (unsigned long long)(r.per_producer - 1) / 2;
    if (impl <= 1) {
        if (mq8_init(&r.dq, CAP) != DS_OK) exit(1);
    } else if (impl == 2) {
        r.ckbuf = (item8 *)calloc(CAP, sizeof(item8));
        ck_ring_init(&r.ck, CAP);
    } else {
        pthread_mutex_init(&r.lq.mu, NULL);
        pthread_cond_init(&r.lq.not_empty, NULL);
        pthread_cond_init(&r.lq.not_full, NULL);
        r.lq.cap = CAP;
        r.lq.buf = (item8 *)calloc(CAP, sizeof(item8));
    }
    atomic_store(&go, 0);
    for (i = 0; i < P + C; i++) {
        th[i].r = &r;
        th[i].id = i;
        th[i].sum = 0;
        pthread_create(&tid[i], NULL, i < P ? mpmc_producer : mpmc_consumer, &th[i]);
    }
    t0 = bench_now();
    atomic_store_explicit(&go, 1, memory_order_release);
    for (i = 0; i < P + C; i++) pthread_join(tid[i], NULL);
    t1 = bench_now();
    for (i = P; i < P + C; i++) sum += th[i].sum;
    if (sum != want) { fprintf(stderr, "mpmc impl %d: bad sum\n", impl); exit(1); }
    if (impl <= 1) mq8_free(&r.dq);
    else if (impl == 2) free(r.ckbuf);
    else {
        free(r.lq.buf);
        pthread_mutex_destroy(&r.lq.mu);
        pthread_cond_destroy(&r.lq.not_empty);
        pthread_cond_destroy(&r.lq.not_full);
    }
    return (double)(t1 - t0) * (double)N / (double)(r.per_producer * P);
}

static double median_of(int reps, double (*once)(int, int, int), int a, int b, int c) {
    bench_samples s;
    int r;
    memset(&s, 0, sizeof s);
    for (r = 0; r < reps; r++) bench_add(&s, once(a, b, c));
    return bench_median(&s);
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int reps = bench_reps(quick ? 1 : 3), bytes, batch, shape;
    static const int shapes[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}};
    N = quick ? 1000000 : 4000000; /* polling threads on 2 cores: 10M x 5 took over 10 minutes */
    printf("SPSC, %lld items through a %u-slot ring, producer and consumer threads polling; "
           "median of %d; Mitems/s, ratio = peer time / ds time (> 1: ds faster)\n", N, CAP, reps);
    printf("  %-6s %-7s %10s %10s %10s %8s %8s\n", "item", "mode", "ds", "ck_ring", "boost", "ck/ds", "boost/ds");
    for (bytes = 8; bytes <= 64; bytes *= 8)
        for (batch = 0; batch < 2; batch++) {
            double d = median_of(reps, spsc_once, 0, bytes, batch);
            double k = median_of(reps, spsc_once, 1, bytes, batch);
            double b = median_of(reps, spsc_once, 2, bytes, batch);
            printf("  %2d B   %-7s %10.1f %10.1f %10.1f %7.2fx %7.2fx\n", bytes, batch ? "batch32" : "single",
                   (double)N / d * 1e3, (double)N / k * 1e3, (double)N / b * 1e3, k / d, b / d);
        }
    printf("  (ck_ring has no batch call: its batch32 row is single-item)\n\n");
    printf("MPMC, %lld 8-byte items through a %u-slot queue; Mitems/s; ds-try and ck poll with\n"
           "sched_yield, ds-block sleeps (futex), mutex = one lock + two condvars\n", N, CAP);
    printf("  %-5s %10s %10s %10s %10s %8s %9s\n", "PxC", "ds-try", "ds-block", "ck_ring", "mutex", "ck/ds", "mutex/ds");
    for (shape = 0; shape < 4; shape++) {
        int P = shapes[shape][0], C = shapes[shape][1];
        double d = median_of(reps, mpmc_once, 0, P, C);
        double db = median_of(reps, mpmc_once, 1, P, C);
        double k = median_of(reps, mpmc_once, 2, P, C);
        double m = median_of(reps, mpmc_once, 3, P, C);
        printf("  %dx%d   %10.1f %10.1f %10.1f %10.1f %7.2fx %8.2fx\n", P, C, (double)N / d * 1e3,
               (double)N / db * 1e3, (double)N / k * 1e3, (double)N / m * 1e3, k / d, m / d);
    }
    return 0;
}
