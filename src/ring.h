/* src/ring.h - DS_SPSC, DS_MPMC: bounded rings
 *
 * One module of ds_concurrent.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/ring.h"
 */
#ifndef DS_SRC_RING_H
#define DS_SRC_RING_H
#include "conc.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
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

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_RING_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_CONCURRENT_IMPLEMENTATION)) && !defined(DS_SRC_RING_IMPL)
#define DS_SRC_RING_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
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
/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_RING_IMPL */
