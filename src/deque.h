/* src/deque.h - DS_DEQUE(name, T): ring-buffer deque
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/deque.h"
 */
#ifndef DS_SRC_DEQUE_H
#define DS_SRC_DEQUE_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:deque ==  DS_DEQUE(name, T): ring-buffer deque
 * ========================================================================
 * A power-of-two ring; index access in O(1); push/pop at both ends
 * amortized O(1). With a maximum length (set_maxlen, 0 = unbounded) a push
 * on a full deque drops the element at the opposite end, as Python's
 * deque(maxlen=...): push_back drops the front (the oldest), push_front
 * drops the back. The *_evict variants hand the dropped element back so
 * owned values can be released; nothing is dropped without maxlen.
 *
 *   void   name_init(name *d), name_init_alloc(name *d, const ds_alloc *a)
 *   void   name_free(name *d), name_clear(name *d)
 *   size_t name_len(const name *d)
 *   ds_status name_set_maxlen(name *d, size_t maxlen)
 *          DS_EINVAL if len > maxlen (pop first: nothing is dropped here)
 *   size_t name_maxlen(const name *d)
 *   ds_status name_reserve(name *d, size_t n)
 *   ds_status name_push_back(name *d, T x), name_push_front(name *d, T x)
 *   ds_status name_push_back_evict(name *d, T x, T *dropped, int *did_drop)
 *   ds_status name_push_front_evict(name *d, T x, T *dropped, int *did_drop)
 *   ds_status name_pop_back(name *d, T *out), name_pop_front(name *d, T *out)
 *          DS_EEMPTY when empty; out may be NULL
 *   T     *name_front(const name *d), *name_back(const name *d)   NULL if empty
 *   T     *name_at(const name *d, size_t i)   i = 0 is the front; NULL if i >= len
 *   T     *name_first / name_next             front-to-back iteration
 *
 * Errors: DS_ENOMEM (deque unchanged), DS_EINVAL (size overflow). */

/* Re-lay the ring into a new buffer of newcap (power of two >= len). */
static inline ds_status ds__deque_setcap(void **buf, size_t *cap, size_t *head, size_t len,
                                         size_t newcap, size_t esz, const ds_alloc *a) {
    size_t nb, first;
    unsigned char *nbuf, *ob = (unsigned char *)*buf;
    if (!ds_size_mul(newcap, esz, &nb)) return DS_EINVAL;
    nbuf = (unsigned char *)DS_MALLOC(a, nb);
    if (!nbuf) return DS_ENOMEM;
    first = *cap - *head < len ? *cap - *head : len; /* elements before the wrap */
    if (len) {
        memcpy(nbuf, ob + *head * esz, first * esz);
        memcpy(nbuf + first * esz, ob, (len - first) * esz);
    }
    if (ob) DS_FREE(a, ob, *cap * esz);
    *buf = nbuf;
    *cap = newcap;
    *head = 0;
    return DS_OK;
}
static inline ds_status ds__deque_grow(void **buf, size_t *cap, size_t *head, size_t len,
                                       size_t need, size_t esz, const ds_alloc *a) {
    size_t nc;
    if (need <= *cap) return DS_OK;
    nc = ds__pow2_ceil(need < 8 ? 8 : need);
    if (nc == 0) return DS_EINVAL;
    return ds__deque_setcap(buf, cap, head, len, nc, esz, a);
}

#define DS__DEQUE_TYPES(name, T)              \
    typedef struct name {                     \
        T *buf;                               \
        size_t cap, head, len, maxlen;        \
        const ds_alloc *alloc;                \
    } name;                                   \
    typedef T *name##_it

#define DS__DEQUE_PROTOS(name, T, LINK)                                            \
    LINK ds_status name##_init(name *d);                                                 \
    LINK ds_status name##_init_alloc(name *d, const ds_alloc *a);                        \
    LINK void name##_free(name *d);                                                \
    LINK void name##_clear(name *d);                                               \
    LINK size_t name##_len(const name *d);                                         \
    LINK size_t name##_maxlen(const name *d);                                      \
    LINK ds_status name##_set_maxlen(name *d, size_t maxlen);                      \
    LINK ds_status name##_reserve(name *d, size_t n);                              \
    LINK ds_status name##_push_back_evict(name *d, T x, T *dropped, int *did_drop); \
    LINK ds_status name##_push_front_evict(name *d, T x, T *dropped, int *did_drop); \
    LINK ds_status name##_push_back(name *d, T x);                                 \
    LINK ds_status name##_push_front(name *d, T x);                                \
    LINK ds_status name##_pop_back(name *d, T *out);                               \
    LINK ds_status name##_pop_front(name *d, T *out);                              \
    LINK T *name##_at(const name *d, size_t i);                                    \
    LINK T *name##_front(const name *d);                                           \
    LINK T *name##_back(const name *d);                                            \
    LINK T *name##_first(const name *d);                                           \
    LINK T *name##_next(const name *d, T const *it)

#define DS__DEQUE_IMPL(name, T, LINK)                                                    \
    LINK ds_status name##_init(name *d) { return name##_init_alloc(d, NULL); }           \
    LINK ds_status name##_init_alloc(name *d, const ds_alloc *a) {                       \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                          \
        d->buf = NULL;                                                                   \
        d->cap = d->head = d->len = d->maxlen = 0;                                       \
        d->alloc = a;                                                                    \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK void name##_free(name *d) {                                                     \
        if (DS__UNLIKELY(!d)) return;                                                   \
        size_t ml = d->maxlen;                                                           \
        if (d->buf) DS_FREE(d->alloc, d->buf, d->cap * sizeof(T));                       \
        name##_init_alloc(d, d->alloc);                                                  \
        d->maxlen = ml;                                                                  \
    }                                                                                    \
    LINK void name##_clear(name *d) { if (!d) return; d->head = d->len = 0; }            \
    LINK size_t name##_len(const name *d) { if (!d) return 0; return d->len; }           \
    LINK size_t name##_maxlen(const name *d) { if (!d) return 0; return d->maxlen; }     \
    LINK ds_status name##_set_maxlen(name *d, size_t maxlen) {                           \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                          \
        if (maxlen && d->len > maxlen) return DS_EINVAL;                                 \
        d->maxlen = maxlen;                                                              \
        return DS_OK;                                                                    \
    }                                                                                    \
    static inline ds_status name##__grow(name *d, size_t need) {                         \
        void *b = d->buf;                                                                \
        ds_status s = ds__deque_grow(&b, &d->cap, &d->head, d->len, need, sizeof(T), d->alloc); \
        d->buf = (T *)b;                                                                 \
        return s;                                                                        \
    }                                                                                    \
    LINK ds_status name##_reserve(name *d, size_t n) { if (!d) return DS_EINVAL; return name##__grow(d, n); } \
    LINK T *name##_at(const name *d, size_t i) {                                         \
        if (DS__UNLIKELY(!d)) return NULL;                                              \
        return i < d->len ? d->buf + ((d->head + i) & (d->cap - 1)) : NULL;              \
    }                                                                                    \
    LINK T *name##_front(const name *d) { if (!d) return NULL; return name##_at(d, 0); } \
    LINK T *name##_back(const name *d) { if (!d) return NULL; return d->len ? name##_at(d, d->len - 1) : NULL; } \
    LINK ds_status name##_pop_back(name *d, T *out) {                                    \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                          \
        if (d->len == 0) return DS_EEMPTY;                                               \
        if (out) *out = *name##_at(d, d->len - 1);                                       \
        d->len--;                                                                        \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_pop_front(name *d, T *out) {                                   \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                          \
        if (d->len == 0) return DS_EEMPTY;                                               \
        if (out) *out = d->buf[d->head];                                                 \
        d->head = (d->head + 1) & (d->cap - 1);                                          \
        d->len--;                                                                        \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_push_back_evict(name *d, T x, T *dropped, int *did_drop) {     \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                          \
        if (did_drop) *did_drop = 0;                                                     \
        if (d->maxlen && d->len == d->maxlen) {                                          \
            if (did_drop) *did_drop = 1;                                                 \
            name##_pop_front(d, dropped);                                                \
        } else if (d->len == d->cap) {                                                   \
            ds_status s = d->len == SIZE_MAX ? DS_EINVAL : name##__grow(d, d->len + 1);  \
            if (s != DS_OK) return s;                                                    \
        }                                                                                \
        d->buf[(d->head + d->len) & (d->cap - 1)] = x;                                   \
        d->len++;                                                                        \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_push_front_evict(name *d, T x, T *dropped, int *did_drop) {    \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                          \
        if (did_drop) *did_drop = 0;                                                     \
        if (d->maxlen && d->len == d->maxlen) {                                          \
            if (did_drop) *did_drop = 1;                                                 \
            name##_pop_back(d, dropped);                                                 \
        } else if (d->len == d->cap) {                                                   \
            ds_status s = d->len == SIZE_MAX ? DS_EINVAL : name##__grow(d, d->len + 1);  \
            if (s != DS_OK) return s;                                                    \
        }                                                                                \
        d->head = (d->head + d->cap - 1) & (d->cap - 1);                                 \
        d->buf[d->head] = x;                                                             \
        d->len++;                                                                        \
        return DS_OK;                                                                    \
    }                                                                                    \
    LINK ds_status name##_push_back(name *d, T x) {                                      \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                          \
        return name##_push_back_evict(d, x, NULL, NULL);                                 \
    }                                                                                    \
    LINK ds_status name##_push_front(name *d, T x) {                                     \
        if (DS__UNLIKELY(!d)) return DS_EINVAL;                                          \
        return name##_push_front_evict(d, x, NULL, NULL);                                \
    }                                                                                    \
    LINK T *name##_first(const name *d) { if (!d) return NULL; return name##_at(d, 0); } \
    LINK T *name##_next(const name *d, T const *it) {                                    \
        if (DS__UNLIKELY(!d)) return NULL;                                              \
        size_t pos = (size_t)(it - d->buf);                                              \
        size_t i = ((pos - d->head) & (d->cap - 1)) + 1; /* logical index of next */     \
        return name##_at(d, i);                                                          \
    }

#define DS_DEQUE_DECLARE(name, T) \
    DS__DEQUE_TYPES(name, T);     \
    DS__DEQUE_PROTOS(name, T, extern);
#define DS_DEQUE_DEFINE(name, T) DS__DEQUE_IMPL(name, T, )
#define DS_DEQUE(name, T)                     \
    DS__DEQUE_TYPES(name, T);                 \
    DS__DEQUE_PROTOS(name, T, DS__LINK_STATIC); \
    DS__DEQUE_IMPL(name, T, DS__LINK_STATIC)

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_DEQUE_H */
