/* tests/test_conc.c - ds_concurrent.h rings: DS_SPSC and DS_MPMC.
 *
 * Single-threaded: every op against a model (an array FIFO) over random op
 * sequences, the full/empty boundaries, close/drain, bad input, allocation
 * failure. Threaded: producers and consumers exchange sequence-numbered,
 * checksummed items through every push/pop flavour (blocking, try, batch,
 * timeout) on small rings, so full and empty are hit constantly; the
 * consumers check that nothing is lost, duplicated or corrupted and that
 * each producer's items arrive in order. Blocked calls are shown to wake up
 * (on push, pop and close) after the test has seen them announce a sleep;
 * timeouts expire. C11 + pthreads: built into its own binaries (ASan+UBSan,
 * and ThreadSanitizer with futex and with the condvar fallback), never into
 * the C99 ones. */
#define _POSIX_C_SOURCE 200809L
#include "ds_concurrent.h"
#include "prop.h"
#include <pthread.h>
#include <sched.h>
#include <time.h>

/* TSan runs 5-15x slower: smaller streams there. */
#if defined(__SANITIZE_THREAD__)
#define CONC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONC_TSAN 1
#endif
#endif
#ifdef CONC_TSAN
#define CONC_ITEMS 20000
#else
#define CONC_ITEMS 100000
#endif

typedef struct item {
    uint32_t pid;
    uint32_t tag;
    uint64_t seq;
    uint64_t check;
} item;

DS_SPSC(ispsc, item)
DS_MPMC(impmc, item)
DS_SPSC(u32spsc, uint32_t)
DS_MPMC(u32mpmc, uint32_t)

static uint64_t item_check(uint32_t pid, uint64_t seq) { return ds_mix64(((uint64_t)pid << 40) ^ seq ^ 0x5eedu); }
static item make_item(uint32_t pid, uint64_t seq) {
    item it;
    it.pid = pid;
    it.tag = (uint32_t)seq * 2654435761u;
    it.seq = seq;
    it.check = item_check(pid, seq);
    return it;
}
static int item_ok(const item *it) {
    return it->check == item_check(it->pid, it->seq) && it->tag == (uint32_t)it->seq * 2654435761u;
}

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* Until a thread has announced a sleep on w (or 5 s passed): returns 1 if
 * it did. Then a short pause so it usually is inside the kernel wait. */
static int wait_sleeper(ds__waitq *w) {
    int64_t end = ds_now_ns() + 5000000000LL;
    while (DS__ALOAD(&w->waiters, acquire) == 0) {
        if (ds_now_ns() > end) return 0;
        sched_yield();
    }
    sleep_ms(5);
    return 1;
}

/* ---- single-threaded: model, boundaries, close, bad input ------------- */

/* The model: a FIFO of at most cap uint32 values in a plain array. */
typedef struct fifo {
    uint32_t v[64];
    size_t head, len, cap;
} fifo;

#define RING_MODEL_CASE(fnname, R, CAN_BATCH)                                            \
    static void fnname(ds_rng *rng, uint64_t seed) {                                     \
        R q;                                                                             \
        fifo m;                                                                          \
        size_t want = 1 + (size_t)ds_rng_below(rng, 40), i, k, done;                     \
        uint32_t next = 1, got, buf[16];                                                 \
        int op, closed = 0;                                                              \
        ds_status s;                                                                     \
        (void)seed;                                                                      \
        CHECK(R##_init(&q, want) == DS_OK);                                              \
        m.cap = R##_capacity(&q);                                                        \
        CHECK(m.cap >= want && (m.cap & (m.cap - 1)) == 0 && m.cap < 2 * want + 2);      \
        m.head = m.len = 0;                                                              \
        for (op = 0; op < 3000; op++) {                                                  \
            int r = (int)ds_rng_below(rng, 100);                                         \
            if (!closed && r == 0) {                                                     \
                R##_close(&q);                                                           \
                closed = 1;                                                              \
                CHECK(R##_is_closed(&q));                                                \
            } else if (r < 45) {                                                         \
                s = R##_try_push(&q, next);                                              \
                if (closed) {                                                            \
                    CHECK(s == DS_ECLOSED);                                              \
                } else if (m.len == m.cap) {                                             \
                    CHECK(s == DS_EFULL);                                                \
                } else {                                                                 \
                    CHECK(s == DS_OK);                                                   \
                    m.v[(m.head + m.len++) % 64] = next++;                               \
                }                                                                        \
            } else if (r < 85) {                                                         \
                s = R##_try_pop(&q, &got);                                               \
                if (m.len == 0) {                                                        \
                    CHECK(s == (closed ? DS_ECLOSED : DS_EEMPTY));                       \
                } else {                                                                 \
                    CHECK(s == DS_OK);                                                   \
                    CHECKF(got == m.v[m.head % 64], "popped %u want %u", got, m.v[m.head % 64]); \
                    m.head++;                                                            \
                    m.len--;                                                             \
                }                                                                        \
            } else if (r < 90) {                                                         \
                /* timeout 0: one try, DS_ETIMEDOUT instead of would-block */            \
                s = R##_pop_timeout(&q, &got, 0);                                        \
                if (m.len == 0) {                                                        \
                    CHECK(s == (closed ? DS_ECLOSED : DS_ETIMEDOUT));                    \
                } else {                                                                 \
                    CHECK(s == DS_OK && got == m.v[m.head % 64]);                        \
                    m.head++;                                                            \
                    m.len--;                                                             \
                }                                                                        \
            } else if (CAN_BATCH && r < 95) {                                            \
                k = (size_t)ds_rng_below(rng, 17);                                       \
                for (i = 0; i < k; i++) buf[i] = next + (uint32_t)i;                     \
                s = R##__push_n_or_loop(&q, buf, k, &done);                              \
                if (closed) {                                                            \
                    CHECK(s == DS_ECLOSED && done == 0);                                 \
                } else if (k == 0) {                                                     \
                    CHECK(s == DS_OK && done == 0);                                      \
                } else if (m.len == m.cap) {                                             \
                    CHECK(s == DS_EFULL && done == 0);                                   \
                } else {                                                                 \
                    CHECK(s == DS_OK);                                                   \
                    CHECK(done == (k < m.cap - m.len ? k : m.cap - m.len));              \
                    for (i = 0; i < done; i++) m.v[(m.head + m.len++) % 64] = next++;    \
                }                                                                        \
            } else {                                                                     \
                k = (size_t)ds_rng_below(rng, 17);                                       \
                s = R##__pop_n_or_loop(&q, buf, k, &done);                               \
                if (k == 0) {                                                            \
                    CHECK(s == DS_OK && done == 0);                                      \
                } else if (m.len == 0) {                                                 \
                    CHECK(s == (closed ? DS_ECLOSED : DS_EEMPTY) && done == 0);          \
                } else {                                                                 \
                    CHECK(s == DS_OK && done == (k < m.len ? k : m.len));                \
                    for (i = 0; i < done; i++, m.head++, m.len--)                        \
                        CHECK(buf[i] == m.v[m.head % 64]);                               \
                }                                                                        \
            }                                                                            \
            CHECK(R##_len(&q) == m.len);                                                 \
        }                                                                                \
        R##_free(&q);                                                                    \
    }

/* The MPMC queue has no batch calls: emulate them with single ops so one
 * model case covers both rings. */
static ds_status u32spsc__push_n_or_loop(u32spsc *q, const uint32_t *xs, size_t n, size_t *done) {
    return u32spsc_push_n(q, xs, n, done);
}
static ds_status u32spsc__pop_n_or_loop(u32spsc *q, uint32_t *out, size_t n, size_t *done) {
    return u32spsc_pop_n(q, out, n, done);
}
static ds_status u32mpmc__push_n_or_loop(u32mpmc *q, const uint32_t *xs, size_t n, size_t *done) {
    ds_status s = u32mpmc_is_closed(q) ? DS_ECLOSED : DS_OK;
    *done = 0;
    while (*done < n && (s = u32mpmc_try_push(q, xs[*done])) == DS_OK) ++*done;
    return *done ? DS_OK : s;
}
static ds_status u32mpmc__pop_n_or_loop(u32mpmc *q, uint32_t *out, size_t n, size_t *done) {
    ds_status s = DS_OK;
    *done = 0;
    while (*done < n && (s = u32mpmc_try_pop(q, out + *done)) == DS_OK) ++*done;
    return *done ? DS_OK : s;
}

RING_MODEL_CASE(spsc_model_case, u32spsc, 1)
RING_MODEL_CASE(mpmc_model_case, u32mpmc, 1)

void test_conc_spsc_model(void) { prop_run("conc_spsc_model", spsc_model_case, 60); }
void test_conc_mpmc_model(void) { prop_run("conc_mpmc_model", mpmc_model_case, 60); }

void test_conc_ring_edges(void) {
    u32spsc s;
    u32mpmc m;
    prop_alloc pa;
    uint32_t x = 0;
    size_t done = 7;
    int64_t t0;
    /* bad input */
    CHECK(u32spsc_init(NULL, 8) == DS_EINVAL);
    CHECK(u32spsc_init(&s, 0) == DS_EINVAL);
    CHECK(u32spsc_init(&s, SIZE_MAX) == DS_EINVAL);
    CHECK(u32spsc_init(&s, SIZE_MAX / 4) != DS_OK); /* EINVAL or ENOMEM, never a crash */
    CHECK(u32mpmc_init(NULL, 8) == DS_EINVAL);
    CHECK(u32mpmc_init(&m, 0) == DS_EINVAL);
    CHECK(u32mpmc_init(&m, SIZE_MAX) == DS_EINVAL);
    CHECK(u32spsc_try_push(NULL, 1) == DS_EINVAL && u32spsc_try_pop(NULL, &x) == DS_EINVAL);
    CHECK(u32mpmc_try_push(NULL, 1) == DS_EINVAL && u32mpmc_try_pop(NULL, &x) == DS_EINVAL);
    CHECK(u32spsc_push(NULL, 1) == DS_EINVAL && u32mpmc_pop(NULL, &x) == DS_EINVAL);
    CHECK(u32spsc_len(NULL) == 0 && u32mpmc_capacity(NULL) == 0 && !u32mpmc_is_closed(NULL));
    u32spsc_close(NULL);
    u32mpmc_free(NULL);
    /* capacity 1 works for SPSC; MPMC rounds it up to 2 */
    CHECK(u32spsc_init(&s, 1) == DS_OK && u32spsc_capacity(&s) == 1);
    CHECK(u32spsc_try_push(&s, 5) == DS_OK && u32spsc_try_push(&s, 6) == DS_EFULL);
    CHECK(u32spsc_push_n(&s, NULL, 1, &done) == DS_EINVAL && done == 0);
    CHECK(u32spsc_try_pop(&s, NULL) == DS_OK && u32spsc_try_pop(&s, &x) == DS_EEMPTY);
    /* timeouts expire, no earlier than asked */
    t0 = ds_now_ns();
    CHECK(u32spsc_pop_timeout(&s, &x, 3000000) == DS_ETIMEDOUT);
    CHECK(ds_now_ns() - t0 >= 3000000);
    CHECK(u32spsc_try_push(&s, 7) == DS_OK);
    t0 = ds_now_ns();
    CHECK(u32spsc_push_timeout(&s, 8, 3000000) == DS_ETIMEDOUT);
    CHECK(ds_now_ns() - t0 >= 3000000);
    CHECK(u32spsc_push_timeout(&s, 8, -5) == DS_ETIMEDOUT);
    /* close: pushes refused, the queued item drained, then DS_ECLOSED, and
     * blocking calls return at once */
    u32spsc_close(&s);
    CHECK(u32spsc_push(&s, 9) == DS_ECLOSED && u32spsc_push_timeout(&s, 9, 1000) == DS_ECLOSED);
    CHECK(u32spsc_pop(&s, &x) == DS_OK && x == 7);
    CHECK(u32spsc_pop(&s, &x) == DS_ECLOSED && u32spsc_pop_timeout(&s, &x, 1000000) == DS_ECLOSED);
    u32spsc_free(&s);
    u32spsc_free(&s); /* twice is harmless */
    CHECK(u32mpmc_init(&m, 1) == DS_OK && u32mpmc_capacity(&m) == 2);
    CHECK(u32mpmc_try_push(&m, 1) == DS_OK && u32mpmc_try_push(&m, 2) == DS_OK);
    CHECK(u32mpmc_try_push(&m, 3) == DS_EFULL);
    t0 = ds_now_ns();
    CHECK(u32mpmc_push_timeout(&m, 3, 3000000) == DS_ETIMEDOUT && ds_now_ns() - t0 >= 3000000);
    CHECK(u32mpmc_pop(&m, &x) == DS_OK && x == 1);
    u32mpmc_close(&m);
    CHECK(u32mpmc_try_push(&m, 4) == DS_ECLOSED && u32mpmc_push(&m, 4) == DS_ECLOSED);
    CHECK(u32mpmc_len(&m) == 1 && u32mpmc_pop(&m, &x) == DS_OK && x == 2);
    CHECK(u32mpmc_pop(&m, &x) == DS_ECLOSED && u32mpmc_try_pop(&m, &x) == DS_ECLOSED);
    u32mpmc_free(&m);
    CHECK(u32mpmc_init(&m, 4) == DS_OK);
    t0 = ds_now_ns();
    CHECK(u32mpmc_pop_timeout(&m, &x, 3000000) == DS_ETIMEDOUT && ds_now_ns() - t0 >= 3000000);
    u32mpmc_free(&m);
    /* allocation failure: DS_ENOMEM, nothing allocated, nothing leaked */
    prop_alloc_init(&pa);
    prop_alloc_fail_in(&pa, 1, 0);
    CHECK(u32spsc_init_alloc(&s, 16, &pa.a) == DS_ENOMEM);
    prop_alloc_fail_in(&pa, 1, 0);
    CHECK(u32mpmc_init_alloc(&m, 16, &pa.a) == DS_ENOMEM);
    CHECK(pa.live_blocks == 0);
    CHECK(u32spsc_init_alloc(&s, 16, &pa.a) == DS_OK && u32mpmc_init_alloc(&m, 16, &pa.a) == DS_OK);
    CHECK(pa.live_blocks == 2);
    u32spsc_free(&s);
    u32mpmc_free(&m);
    CHECK(pa.live_blocks == 0 && pa.live_bytes == 0 && pa.size_errors == 0);
}

/* ---- threaded: producers and consumers exchange checked items --------- */

typedef struct stream {
    int mpmc; /* 0: ispsc, 1: impmc */
    ispsc *s;
    impmc *m;
    uint32_t pid;
    uint64_t n;          /* items this producer sends */
    uint64_t seed;
    uint64_t sent;       /* producer: pushes that returned DS_OK */
    int stop_on_closed;  /* producer: a DS_ECLOSED push ends the stream */
    /* consumer */
    uint32_t nprod;
    uint64_t *last;      /* per producer: 1 + last seq seen, 0 = none */
    uint64_t *count;     /* per producer: items received */
    uint64_t sum;        /* sum of checks received */
    int bad;             /* corrupted item, FIFO violation or wrong status */
} stream;

/* One push in a random flavour; DS_OK or DS_ECLOSED. */
static ds_status stream_push(stream *st, ds_rng *rng, item it) {
    ds_status s;
    int how = (int)ds_rng_below(rng, 4);
    for (;;) {
        if (how == 0) {
            s = st->mpmc ? impmc_push(st->m, it) : ispsc_push(st->s, it);
        } else if (how == 1) {
            s = st->mpmc ? impmc_try_push(st->m, it) : ispsc_try_push(st->s, it);
            if (s == DS_EFULL) { sched_yield(); continue; }
        } else {
            s = st->mpmc ? impmc_push_timeout(st->m, it, 200000) : ispsc_push_timeout(st->s, it, 200000);
            if (s == DS_ETIMEDOUT) continue;
        }
        return s;
    }
}

static void *producer_main(void *arg) {
    stream *st = (stream *)arg;
    ds_rng rng;
    uint64_t i = 0;
    ds_rng_seed(&rng, st->seed);
    while (i < st->n) {
        ds_status s;
        if (!st->mpmc && ds_rng_below(&rng, 8) == 0) { /* a batch */
            item b[8];
            size_t k = 1 + (size_t)ds_rng_below(&rng, 8), j, done;
            if (k > st->n - i) k = (size_t)(st->n - i);
            for (j = 0; j < k; j++) b[j] = make_item(st->pid, i + j);
            s = ispsc_push_n(st->s, b, k, &done);
            if (s == DS_EFULL) { sched_yield(); continue; }
            if (s == DS_OK) { i += done; st->sent += done; continue; }
        } else {
            s = stream_push(st, &rng, make_item(st->pid, i));
            if (s == DS_OK) { i++; st->sent++; continue; }
        }
        if (s != DS_ECLOSED || !st->stop_on_closed) st->bad = 1;
        break;
    }
    return NULL;
}

static void take(stream *st, const item *it) {
    if (!item_ok(it) || it->pid >= st->nprod || it->seq + 1 <= st->last[it->pid]) {
        st->bad = 1;
        return;
    }
    st->last[it->pid] = it->seq + 1;
    st->count[it->pid]++;
    st->sum += it->check;
}

static void *consumer_main(void *arg) {
    stream *st = (stream *)arg;
    ds_rng rng;
    item it, b[8];
    ds_rng_seed(&rng, st->seed);
    for (;;) {
        ds_status s;
        int how = (int)ds_rng_below(&rng, 5);
        if (how == 0) {
            s = st->mpmc ? impmc_pop(st->m, &it) : ispsc_pop(st->s, &it);
        } else if (how == 1) {
            s = st->mpmc ? impmc_try_pop(st->m, &it) : ispsc_try_pop(st->s, &it);
            if (s == DS_EEMPTY) { sched_yield(); continue; }
        } else if (how == 2 && !st->mpmc) {
            size_t done, j;
            s = ispsc_pop_n(st->s, b, 1 + (size_t)ds_rng_below(&rng, 8), &done);
            if (s == DS_EEMPTY) { sched_yield(); continue; }
            if (s == DS_OK) {
                for (j = 0; j < done; j++) take(st, &b[j]);
                continue;
            }
        } else {
            s = st->mpmc ? impmc_pop_timeout(st->m, &it, 200000) : ispsc_pop_timeout(st->s, &it, 200000);
            if (s == DS_ETIMEDOUT) continue;
        }
        if (s == DS_ECLOSED) break;
        if (s != DS_OK) { st->bad = 1; break; }
        take(st, &it);
    }
    return NULL;
}

/* P producers, C consumers (P = C = 1 for the SPSC ring) on a ring of
 * capacity cap; the last producer to finish closes (or a separate closer
 * races them when close_early). Checks every item arrived exactly once. */
static void run_stream(int mpmc, int P, int C, size_t cap, uint64_t n, uint64_t seed, int close_early) {
    ispsc s;
    impmc m;
    stream prod[4], cons[4];
    pthread_t pt[4], ct[4];
    uint64_t last[4][4], count[4][4], want_sum = 0, got_sum = 0;
    int i, j;
    memset(last, 0, sizeof last);
    memset(count, 0, sizeof count);
    if (mpmc) CHECK(impmc_init(&m, cap) == DS_OK);
    else CHECK(ispsc_init(&s, cap) == DS_OK);
    for (i = 0; i < C; i++) {
        memset(&cons[i], 0, sizeof cons[i]);
        cons[i].mpmc = mpmc; cons[i].s = &s; cons[i].m = &m;
        cons[i].nprod = (uint32_t)P;
        cons[i].last = last[i];
        cons[i].count = count[i];
        cons[i].seed = seed * 31 + (uint64_t)i + 100;
        CHECK(pthread_create(&ct[i], NULL, consumer_main, &cons[i]) == 0);
    }
    for (i = 0; i < P; i++) {
        memset(&prod[i], 0, sizeof prod[i]);
        prod[i].mpmc = mpmc; prod[i].s = &s; prod[i].m = &m;
        prod[i].pid = (uint32_t)i;
        prod[i].n = n;
        prod[i].seed = seed * 31 + (uint64_t)i;
        prod[i].stop_on_closed = close_early;
        CHECK(pthread_create(&pt[i], NULL, producer_main, &prod[i]) == 0);
    }
    if (close_early) { /* close while the producers are still pushing */
        sleep_ms(2 + (long)(seed % 5));
        if (mpmc) impmc_close(&m);
        else ispsc_close(&s);
    }
    for (i = 0; i < P; i++) pthread_join(pt[i], NULL);
    if (mpmc) impmc_close(&m);
    else ispsc_close(&s);
    for (i = 0; i < C; i++) pthread_join(ct[i], NULL);
    for (i = 0; i < P; i++) {
        uint64_t got = 0, q;
        CHECKF(!prod[i].bad, "producer %d saw a wrong status", i);
        for (j = 0; j < C; j++) got += count[j][i];
        /* every push that returned DS_OK was popped exactly once (counts
         * equal and each consumer saw strictly rising seqs: no duplicates) */
        CHECKF(got == prod[i].sent, "producer %d: sent %llu, received %llu", i,
               (unsigned long long)prod[i].sent, (unsigned long long)got);
        if (!close_early) CHECK(prod[i].sent == n);
        for (q = 0; q < prod[i].sent; q++) want_sum += item_check((uint32_t)i, q);
    }
    for (j = 0; j < C; j++) {
        CHECKF(!cons[j].bad, "consumer %d: corrupt item, FIFO violation or wrong status", j);
        got_sum += cons[j].sum;
    }
    CHECK(got_sum == want_sum);
    if (mpmc) impmc_free(&m);
    else ispsc_free(&s);
}

void test_conc_spsc_threads(void) {
    run_stream(0, 1, 1, 4, CONC_ITEMS, 1, 0);
    if (prop_test_failed) return;
    run_stream(0, 1, 1, 64, CONC_ITEMS, 2, 0);
    if (prop_test_failed) return;
    run_stream(0, 1, 1, 1, CONC_ITEMS / 10, 3, 0);
}

void test_conc_mpmc_threads(void) {
    static const int shapes[][3] = {{1, 1, 4}, {2, 2, 8}, {2, 1, 2}, {1, 2, 64}, {3, 3, 16}};
    size_t i;
    for (i = 0; i < sizeof shapes / sizeof shapes[0] && !prop_test_failed; i++)
        run_stream(1, shapes[i][0], shapes[i][1], (size_t)shapes[i][2], CONC_ITEMS / 2, 10 + i, 0);
}

/* close races the producers: whatever push succeeded is delivered. Exact
 * for MPMC from any thread; for SPSC the contract is exact when... the
 * producer closes, so here the racing close is MPMC only. */
void test_conc_mpmc_close_race(void) {
    uint64_t seed;
    for (seed = 0; seed < 4 && !prop_test_failed; seed++)
        run_stream(1, 2, 2, 8, CONC_ITEMS, 20 + seed, 1);
}

/* Two consumers asleep in pop, a producer that claimed a position before
 * close and is still writing it, then close: the producer's publish wakes
 * one consumer (it gets the item); the other must see "closed and drained"
 * rather than sleep through its 5 s timeout - nobody notifies again. The
 * stalled producer is simulated by claiming position 0 by hand. */
static void *close_inflight_pop(void *arg) {
    u32mpmc *m = (u32mpmc *)arg;
    uint32_t v = 0;
    ds_status s = u32mpmc_pop_timeout(m, &v, 5000000000LL);
    return (void *)(intptr_t)(s == DS_OK ? (v == 7 ? 1 : 3) : s == DS_ECLOSED ? 2 : 4);
}
void test_conc_mpmc_close_inflight(void) {
    u32mpmc m;
    pthread_t t[2];
    void *r[2];
    int64_t end, t0;
    int i;
    CHECK(u32mpmc_init(&m, 4) == DS_OK);
    DS__ASTORE(&m.enq, (uint64_t)1, release); /* position 0 claimed, not written */
    for (i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, close_inflight_pop, &m) == 0);
    end = ds_now_ns() + 5000000000LL;
    while (DS__ALOAD(&m.not_empty.waiters, acquire) < 2u && ds_now_ns() < end) sched_yield();
    sleep_ms(5);
    t0 = ds_now_ns();
    u32mpmc_close(&m);
    sleep_ms(20); /* both wake from close's notify, find the item still in flight */
    m.cells[0].val = 7;
    DS__ASTORE(&m.cells[0].seq, (uint64_t)1, release);
    ds__waitq_notify(&m.not_empty, 0); /* the producer's publish: wakes one */
    for (i = 0; i < 2; i++) CHECK(pthread_join(t[i], &r[i]) == 0);
    t0 = ds_now_ns() - t0;
    u32mpmc_free(&m);
    CHECKF((intptr_t)r[0] + (intptr_t)r[1] == 3 && r[0] != r[1],
           "consumers got %d and %d (1 = the item, 2 = closed, 4 = timed out)", (int)(intptr_t)r[0],
           (int)(intptr_t)r[1]);
    CHECKF(t0 < 3000000000LL, "the drained consumer slept through close");
}

/* ---- blocked calls wake up -------------------------------------------- */

typedef struct waker_arg {
    u32spsc *s;
    u32mpmc *m;
    int op;          /* 0 pop, 1 push(99) */
    ds_status got;
    uint32_t val;
    _Atomic int done;
} waker_arg;

static void *blocked_main(void *arg) {
    waker_arg *w = (waker_arg *)arg;
    if (w->op == 0) w->got = w->s ? u32spsc_pop(w->s, &w->val) : u32mpmc_pop(w->m, &w->val);
    else w->got = w->s ? u32spsc_push(w->s, 99) : u32mpmc_push(w->m, 99);
    atomic_store(&w->done, 1);
    return NULL;
}
static void *blocked_timeout_main(void *arg) {
    waker_arg *w = (waker_arg *)arg;
    w->got = w->s ? u32spsc_pop_timeout(w->s, &w->val, 5000000000LL)
                  : u32mpmc_pop_timeout(w->m, &w->val, 5000000000LL);
    atomic_store(&w->done, 1);
    return NULL;
}

/* One scenario: start a thread that blocks (pop on empty, or push on
 * full), wait until it announced its sleep, then act and check the result. */
static void wake_case(int mpmc, int op, int by_close, int timed) {
    u32spsc s;
    u32mpmc m;
    waker_arg w;
    pthread_t t;
    uint32_t x;
    ds__waitq *wq;
    memset(&w, 0, sizeof w);
    atomic_init(&w.done, 0);
    w.op = op;
    w.got = DS_EINVAL;
    if (mpmc) {
        CHECK(u32mpmc_init(&m, 2) == DS_OK);
        w.m = &m;
        wq = op == 0 ? &m.not_empty : &m.not_full;
        if (op == 1) CHECK(u32mpmc_try_push(&m, 1) == DS_OK && u32mpmc_try_push(&m, 2) == DS_OK);
    } else {
        CHECK(u32spsc_init(&s, 2) == DS_OK);
        w.s = &s;
        wq = op == 0 ? &s.not_empty : &s.not_full;
        if (op == 1) CHECK(u32spsc_try_push(&s, 1) == DS_OK && u32spsc_try_push(&s, 2) == DS_OK);
    }
    CHECK(pthread_create(&t, NULL, timed ? blocked_timeout_main : blocked_main, &w) == 0);
    CHECKF(wait_sleeper(wq), "the blocked thread never went to sleep");
    if (by_close) {
        if (mpmc) u32mpmc_close(&m);
        else u32spsc_close(&s);
    } else if (op == 0) {
        CHECK((mpmc ? u32mpmc_try_push(&m, 42) : u32spsc_try_push(&s, 42)) == DS_OK);
    } else {
        CHECK((mpmc ? u32mpmc_try_pop(&m, &x) : u32spsc_try_pop(&s, &x)) == DS_OK && x == 1);
    }
    {   /* a lost wake-up fails here (after 3 s) instead of hanging the run */
        int64_t end = ds_now_ns() + 3000000000LL;
        while (!atomic_load(&w.done) && ds_now_ns() < end) sched_yield();
        if (!atomic_load(&w.done)) {
            if (mpmc) u32mpmc_close(&m);
            else u32spsc_close(&s);
            pthread_join(t, NULL);
            CHECKF(0, "the blocked thread was not woken");
        }
    }
    pthread_join(t, NULL);
    if (by_close && op == 0) CHECKF(w.got == DS_ECLOSED, "blocked pop got %s after close", ds_status_name(w.got));
    if (by_close && op == 1) CHECKF(w.got == DS_ECLOSED, "blocked push got %s after close", ds_status_name(w.got));
    if (!by_close && op == 0) CHECKF(w.got == DS_OK && w.val == 42, "blocked pop got %s", ds_status_name(w.got));
    if (!by_close && op == 1) {
        CHECKF(w.got == DS_OK, "blocked push got %s", ds_status_name(w.got));
        CHECK((mpmc ? u32mpmc_try_pop(&m, &x) : u32spsc_try_pop(&s, &x)) == DS_OK && x == 2);
        CHECK((mpmc ? u32mpmc_try_pop(&m, &x) : u32spsc_try_pop(&s, &x)) == DS_OK && x == 99);
    }
    CHECK(DS__ALOAD(&wq->waiters, acquire) == 0);
    if (mpmc) u32mpmc_free(&m);
    else u32spsc_free(&s);
}

void test_conc_wakeup(void) {
    int mpmc, op, by_close;
    for (mpmc = 0; mpmc < 2; mpmc++)
        for (op = 0; op < 2; op++)
            for (by_close = 0; by_close < 2; by_close++) {
                wake_case(mpmc, op, by_close, 0);
                if (prop_test_failed) {
                    printf("  wake_case(mpmc=%d, op=%s, by_close=%d)\n", mpmc, op ? "push" : "pop", by_close);
                    return;
                }
            }
    /* a pop with a long timeout also wakes early, on push and on close */
    for (mpmc = 0; mpmc < 2 && !prop_test_failed; mpmc++)
        for (by_close = 0; by_close < 2 && !prop_test_failed; by_close++) wake_case(mpmc, 0, by_close, 1);
}

/* Several consumers asleep on one MPMC queue: k pushes wake k of them
 * (wake-one must not lose a wake-up), close wakes the rest. */
void test_conc_mpmc_many_sleepers(void) {
    u32mpmc m;
    waker_arg w[4];
    pthread_t t[4];
    int i, ok = 0, closed = 0;
    int64_t end;
    CHECK(u32mpmc_init(&m, 8) == DS_OK);
    for (i = 0; i < 4; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].m = &m;
        w[i].op = 0;
        CHECK(pthread_create(&t[i], NULL, blocked_main, &w[i]) == 0);
    }
    end = ds_now_ns() + 5000000000LL;
    while (DS__ALOAD(&m.not_empty.waiters, acquire) < 4 && ds_now_ns() < end) sched_yield();
    CHECK(DS__ALOAD(&m.not_empty.waiters, acquire) == 4);
    CHECK(u32mpmc_try_push(&m, 7) == DS_OK && u32mpmc_try_push(&m, 8) == DS_OK);
    /* two of them must come back with the two items before close */
    end = ds_now_ns() + 5000000000LL;
    while (u32mpmc_len(&m) > 0 && ds_now_ns() < end) sched_yield();
    CHECK(u32mpmc_len(&m) == 0);
    u32mpmc_close(&m);
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        if (w[i].got == DS_OK) ok++;
        if (w[i].got == DS_ECLOSED) closed++;
    }
    CHECKF(ok == 2 && closed == 2, "%d got items, %d saw close", ok, closed);
    u32mpmc_free(&m);
}

/* ---- the asymmetric fence (membarrier) -------------------------------- */

extern int ds_test_fence_fail; /* tests/main.c: the fence's test hook */
#ifdef __linux__
#include <sys/syscall.h>
#endif
#if defined(__linux__) && !defined(CONC_TSAN) && !defined(DS_CONC_NO_MEMBARRIER) && \
    !defined(DS_CONC_NO_FUTEX) && defined(SYS_membarrier)
#define CONC_MEMBARRIER 1
long syscall(long number, ...);
/* MEMBARRIER_CMD_QUERY: the commands this kernel offers (a bit mask), or -1. */
static long membarrier_query(void) { return syscall(SYS_membarrier, 0, 0, 0); }
#endif

/* Ping-pong through two rings where most pops sleep: before each reply
 * the sender often waits until the receiver has announced its sleep, so
 * every notify races with (or follows) a fresh announcement. A pop that
 * times out (5 s: far beyond any scheduling delay, as the reply is a round
 * trip away) is a lost wake-up; it stops the run (closing the rings frees
 * the other side). */
#define PP_DETECT_NS 5000000000LL
#ifdef CONC_TSAN
#define PP_ROUNDS 1500
#else
#define PP_ROUNDS 5000
#endif
typedef struct pp_arg {
    u32spsc *s[2];   /* s[0]: ping, s[1]: pong */
    u32mpmc *m[2];
    int side, lost, rounds, done;
    uint64_t seed;
} pp_arg;
static ds__waitq *pp_wq(pp_arg *p, int q) { return p->s[0] ? &p->s[q]->not_empty : &p->m[q]->not_empty; }
static void pp_close(pp_arg *p) {
    int q;
    for (q = 0; q < 2; q++) {
        if (p->s[0]) u32spsc_close(p->s[q]);
        else u32mpmc_close(p->m[q]);
    }
}
static void *pp_main(void *arg) {
    pp_arg *p = (pp_arg *)arg;
    int i, in = p->side, out = 1 - p->side;
    ds_rng r;
    ds_rng_seed(&r, p->seed);
    for (i = 0; i < p->rounds; i++) {
        uint32_t x = 0;
        ds_status st;
        if (p->side == 1) { /* pong: receive first */
            st = p->s[0] ? u32spsc_pop_timeout(p->s[in], &x, PP_DETECT_NS)
                         : u32mpmc_pop_timeout(p->m[in], &x, PP_DETECT_NS);
            if (st != DS_OK) {
                if (st == DS_ETIMEDOUT) p->lost++;
                pp_close(p);
                return NULL;
            }
        }
        if (ds_rng_below(&r, 4) != 0) { /* wait (bounded) for the receiver's announcement */
            int64_t end = ds_now_ns() + 20000000LL;
            while (DS__ALOAD(&pp_wq(p, out)->waiters, acquire) == 0 && ds_now_ns() < end) sched_yield();
        }
        if ((p->s[0] ? u32spsc_push(p->s[out], (uint32_t)i) : u32mpmc_push(p->m[out], (uint32_t)i)) != DS_OK)
            return NULL;
        if (p->side == 0) { /* ping: then receive the reply */
            st = p->s[0] ? u32spsc_pop_timeout(p->s[in], &x, PP_DETECT_NS)
                         : u32mpmc_pop_timeout(p->m[in], &x, PP_DETECT_NS);
            if (st != DS_OK || x != (uint32_t)i) {
                if (st == DS_ETIMEDOUT) p->lost++;
                pp_close(p);
                return NULL;
            }
        }
        p->done++;
    }
    return NULL;
}
/* Runs the ping-pong on fresh rings; returns the lost wake-ups, or -1 if
 * the rings could not be set up. *asym gets the protocol they used. */
static int pingpong(int mpmc, int rounds, uint64_t seed, int *asym, int *degraded) {
    u32spsc s[2];
    u32mpmc m[2];
    pp_arg a[2];
    pthread_t t;
    int q;
    memset(a, 0, sizeof a);
    for (q = 0; q < 2; q++) {
        if (mpmc ? u32mpmc_init(&m[q], 2) != DS_OK : u32spsc_init(&s[q], 2) != DS_OK) return -1;
        a[0].s[q] = a[1].s[q] = mpmc ? NULL : &s[q];
        a[0].m[q] = a[1].m[q] = mpmc ? &m[q] : NULL;
    }
    for (q = 0; q < 2; q++) {
        a[q].side = q;
        a[q].rounds = rounds;
        a[q].seed = seed * 2 + (uint64_t)q;
    }
    if (pthread_create(&t, NULL, pp_main, &a[1]) != 0) return -1;
    pp_main(&a[0]);
    pthread_join(t, NULL);
    *asym = pp_wq(&a[0], 0)->asym;
    *degraded = (int)(DS__ALOAD(&pp_wq(&a[0], 0)->degraded, relaxed) | DS__ALOAD(&pp_wq(&a[0], 1)->degraded, relaxed));
    for (q = 0; q < 2; q++) {
        if (mpmc) u32mpmc_free(&m[q]);
        else u32spsc_free(&s[q]);
    }
    if (a[0].done != rounds || a[1].done != rounds) return 1000000 + a[0].done; /* stopped early */
    return a[0].lost + a[1].lost;
}

/* No lost wake-up under forced sleeps, for both rings, with whichever
 * protocol this build uses (membarrier, or the RMW one under TSan and the
 * condvar); and on Linux the rings do use membarrier where it is offered. */
void test_conc_lost_wakeup(void) {
    int mpmc, asym = -1, degraded = 0;
    for (mpmc = 0; mpmc < 2; mpmc++) {
        int lost = pingpong(mpmc, PP_ROUNDS, 11 + (uint64_t)mpmc, &asym, &degraded);
        CHECKF(lost == 0, "%s: %d lost wake-ups (asym %d)", mpmc ? "mpmc" : "spsc", lost, asym);
        CHECK(!degraded);
    }
#ifdef CONC_MEMBARRIER
    {
        long q = membarrier_query();
        if (q < 0 || !(q & (1 << 3)) || !(q & (1 << 4)))
            printf("  (membarrier's expedited command not offered here: rings use the RMW protocol)\n");
        else
            CHECKF(asym == 1, "membarrier is offered, yet the rings use the RMW protocol");
    }
#else
    CHECK(asym == 0); /* TSan, the condvar, DS_CONC_NO_MEMBARRIER, not Linux: the RMW protocol */
#endif
}

/* A failing membarrier (the test hook): the expedited command failing
 * falls back to the global one; both failing marks the queue degraded,
 * whose sleeps are cut to ~1 ms, so a missed notify cannot hang a sleeper;
 * the ping-pong still loses nothing. */
void test_conc_fence_fallback(void) {
#ifdef CONC_MEMBARRIER
    ds__waitq w;
    uint32_t e;
    int64_t t0, el;
    int asym = 0, degraded = 0, lost;
    long q = membarrier_query();
    CHECK(ds__waitq_init(&w) == DS_OK);
    if (!w.asym) {
        printf("  (membarrier not in use here: nothing to degrade)\n");
        ds__waitq_destroy(&w);
        return;
    }
    ds_test_fence_fail = 2;
    e = ds__waitq_prepare(&w);
    ds_test_fence_fail = 0;
    CHECK(DS__ALOAD(&w.degraded, relaxed) == 1);
    t0 = ds_now_ns();
    CHECK(ds__waitq_wait(&w, e, t0 + 3000000000LL) == 0); /* nobody notifies: cut short, not late */
    el = ds_now_ns() - t0;
    CHECKF(el < 2000000000LL, "a degraded sleep lasted %.1f ms", (double)el / 1e6);
    CHECK(DS__ALOAD(&w.waiters, relaxed) == 0);
    ds__waitq_destroy(&w);
    if (q > 0 && (q & 1)) { /* MEMBARRIER_CMD_GLOBAL offered: it stands in */
        CHECK(ds__waitq_init(&w) == DS_OK);
        ds_test_fence_fail = 1;
        (void)ds__waitq_prepare(&w);
        ds_test_fence_fail = 0;
        ds__waitq_cancel(&w);
        CHECK(DS__ALOAD(&w.degraded, relaxed) == 0);
        ds__waitq_destroy(&w);
    }
    ds_test_fence_fail = 2;
    lost = pingpong(0, PP_ROUNDS / 5, 77, &asym, &degraded);
    ds_test_fence_fail = 0;
    CHECKF(lost == 0 && asym == 1 && degraded, "lost %d, asym %d, degraded %d", lost, asym, degraded);
#else
    printf("  (no membarrier in this build: nothing to degrade)\n");
#endif
}
