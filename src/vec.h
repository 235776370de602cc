/* src/vec.h - DS_VEC(name, T): dynamic array
 *
 * One module of ds.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/vec.h"
 */
#ifndef DS_SRC_VEC_H
#define DS_SRC_VEC_H
#include "core.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds:vec ==  DS_VEC(name, T): dynamic array
 * ========================================================================
 *   DS_VEC(name, T)              everything, static inline, for one file
 *   DS_VEC_DECLARE(name, T)      type + prototypes, for a header
 *   DS_VEC_DEFINE(name, T)       function bodies, in one .c file
 * (Every container has these three forms; none takes a trailing ';'.)
 *
 * struct name { T *data; size_t len, cap; const ds_alloc *alloc; }
 * The fields are public for reading; data[0..len) are the elements.
 *
 *   void   name_init(name *v)                     allocates nothing
 *   void   name_init_alloc(name *v, const ds_alloc *a)
 *   void   name_free(name *v)                     releases memory, re-inits
 *   void   name_clear(name *v)                    len = 0, keeps capacity
 *   size_t name_len(const name *v)
 *   T     *name_at(const name *v, size_t i)       NULL if i >= len
 *   T     *name_last(const name *v)               NULL if empty
 *   ds_status name_reserve(name *v, size_t n)     capacity >= n
 *   ds_status name_shrink(name *v)                capacity = len
 *   ds_status name_resize(name *v, size_t n, T fill)
 *   ds_status name_push(name *v, T x)             amortized O(1)
 *   ds_status name_append(name *v, T const *xs, size_t n)
 *   ds_status name_pop(name *v, T *out)           DS_EEMPTY; out may be NULL
 *   ds_status name_insert_at(name *v, size_t i, T x) O(len-i); DS_EINVAL if i > len
 *   ds_status name_del_at(name *v, size_t i, T *out)      O(len-i), keeps order
 *   ds_status name_swap_remove(name *v, size_t i, T *out) O(1), last moves to i
 *   void   name_sort(name *v, int (*cmp)(T const *, T const *))
 *          introsort, O(n log n) worst case, not stable
 *   size_t name_lower_bound(const name *v, T const *key, cmp)  first i: !(data[i] < key)
 *   size_t name_upper_bound(const name *v, T const *key, cmp)  first i: key < data[i]
 *          on a vec sorted by cmp; O(log n); len if none
 *   T     *name_first(const name *v), *name_next(const name *v, T const *it)
 *          iteration (DS_FOREACH); NULL at the end
 *
 * Errors: DS_ENOMEM (vec unchanged), DS_EINVAL (index out of range, or the
 * byte size overflows size_t). Growth doubles the capacity (minimum 8).
 * Pointers into data are invalidated by anything that may grow or shrink. */

/* Type-independent parts (element size passed as a constant). */
static inline ds_status ds__vec_setcap(void **data, size_t *cap, size_t newcap, size_t esz,
                                       const ds_alloc *a) {
    size_t oldb, newb;
    void *p;
    if (!ds_size_mul(newcap, esz, &newb)) return DS_EINVAL;
    oldb = *cap * esz;
    if (newb == 0) {
        if (*data) DS_FREE(a, *data, oldb);
        *data = NULL;
        *cap = 0;
        return DS_OK;
    }
    p = *data ? DS_REALLOC(a, *data, oldb, newb) : DS_MALLOC(a, newb);
    if (!p) return DS_ENOMEM;
    *data = p;
    *cap = newcap;
    return DS_OK;
}
/* Make room for `need` elements, doubling (minimum 8). */
static inline ds_status ds__vec_grow(void **data, size_t *cap, size_t need, size_t esz,
                                     const ds_alloc *a) {
    size_t nc = *cap < 8 ? 8 : *cap;
    if (need <= *cap) return DS_OK;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    return ds__vec_setcap(data, cap, nc, esz, a);
}

/* Generic introsort over esz-byte elements. cmp gets a context pointer so
 * typed wrappers can pass the user's comparator without casting function
 * pointer types. */
typedef int (*ds__cmp_fn)(const void *a, const void *b, void *ctx);
static inline void ds__swap_bytes(unsigned char *a, unsigned char *b, size_t n) {
    while (n--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}
DSDEF void ds__sort(void *base, size_t n, size_t esz, ds__cmp_fn cmp, void *ctx);

#define DS__VEC_TYPES(name, T)                 \
    typedef struct name {                      \
        T *data;                               \
        size_t len, cap;                       \
        const ds_alloc *alloc;                 \
    } name;                                    \
    typedef T *name##_it;                      \
    typedef int (*name##_cmp)(T const *, T const *)

#define DS__VEC_PROTOS(name, T, LINK)                                                   \
    LINK ds_status name##_init(name *v);                                                \
    LINK ds_status name##_init_alloc(name *v, const ds_alloc *a);                       \
    LINK void name##_free(name *v);                                                     \
    LINK void name##_clear(name *v);                                                    \
    LINK size_t name##_len(const name *v);                                              \
    LINK T *name##_at(const name *v, size_t i);                                         \
    LINK T *name##_last(const name *v);                                                 \
    LINK ds_status name##_reserve(name *v, size_t n);                                   \
    LINK ds_status name##_shrink(name *v);                                              \
    LINK ds_status name##_resize(name *v, size_t n, T fill);                            \
    LINK ds_status name##_push(name *v, T x);                                           \
    LINK ds_status name##_append(name *v, T const *xs, size_t n);                       \
    LINK ds_status name##_pop(name *v, T *out);                                         \
    LINK ds_status name##_insert_at(name *v, size_t i, T x);                               \
    LINK ds_status name##_del_at(name *v, size_t i, T *out);                            \
    LINK ds_status name##_swap_remove(name *v, size_t i, T *out);                       \
    LINK void name##_sort(name *v, name##_cmp cmp);                                     \
    LINK size_t name##_lower_bound(const name *v, T const *key, name##_cmp cmp);        \
    LINK size_t name##_upper_bound(const name *v, T const *key, name##_cmp cmp);        \
    LINK T *name##_first(const name *v);                                                \
    LINK T *name##_next(const name *v, T const *it)

#define DS__VEC_IMPL(name, T, LINK)                                                     \
    typedef struct name##__cmpbox { name##_cmp fn; } name##__cmpbox;                    \
    static inline int name##__cmp_tramp(const void *a, const void *b, void *ctx) {      \
        return ((const name##__cmpbox *)ctx)->fn((T const *)a, (T const *)b);           \
    }                                                                                   \
    LINK ds_status name##_init(name *v) { return name##_init_alloc(v, NULL); }          \
    LINK ds_status name##_init_alloc(name *v, const ds_alloc *a) {                      \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        v->data = NULL;                                                                 \
        v->len = v->cap = 0;                                                            \
        v->alloc = a;                                                                   \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK void name##_free(name *v) {                                                    \
        if (DS__UNLIKELY(!v)) return;                                                   \
        if (v->data) DS_FREE(v->alloc, v->data, v->cap * sizeof(T));                    \
        name##_init_alloc(v, v->alloc);                                                 \
    }                                                                                   \
    LINK void name##_clear(name *v) { if (!v) return; v->len = 0; }                      \
    LINK size_t name##_len(const name *v) { if (!v) return 0; return v->len; }           \
    LINK T *name##_at(const name *v, size_t i) { if (!v) return NULL; return i < v->len ? v->data + i : NULL; } \
    LINK T *name##_last(const name *v) { if (!v) return NULL; return v->len ? v->data + v->len - 1 : NULL; } \
    LINK ds_status name##_reserve(name *v, size_t n) {                                  \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        void *d = v->data;                                                              \
        ds_status s = n <= v->cap ? DS_OK : ds__vec_setcap(&d, &v->cap, n, sizeof(T), v->alloc); \
        v->data = (T *)d;                                                               \
        return s;                                                                       \
    }                                                                                   \
    LINK ds_status name##_shrink(name *v) {                                             \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        void *d = v->data;                                                              \
        ds_status s = v->len == v->cap ? DS_OK : ds__vec_setcap(&d, &v->cap, v->len, sizeof(T), v->alloc); \
        v->data = (T *)d;                                                               \
        return s;                                                                       \
    }                                                                                   \
    static inline ds_status name##__grow(name *v, size_t need) {                        \
        void *d = v->data;                                                              \
        ds_status s = ds__vec_grow(&d, &v->cap, need, sizeof(T), v->alloc);             \
        v->data = (T *)d;                                                               \
        return s;                                                                       \
    }                                                                                   \
    LINK ds_status name##_resize(name *v, size_t n, T fill) {                           \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        size_t i;                                                                       \
        if (n > v->cap) {                                                               \
            ds_status s = name##__grow(v, n);                                           \
            if (s != DS_OK) return s;                                                   \
        }                                                                               \
        for (i = v->len; i < n; i++) v->data[i] = fill;                                 \
        v->len = n;                                                                     \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_push(name *v, T x) {                                          \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (DS__UNLIKELY(v->len == v->cap)) {                                           \
            ds_status s = v->len == SIZE_MAX ? DS_EINVAL : name##__grow(v, v->len + 1); \
            if (s != DS_OK) return s;                                                   \
        }                                                                               \
        v->data[v->len++] = x;                                                          \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_append(name *v, T const *xs, size_t n) {                      \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        size_t need;                                                                    \
        ds_status s;                                                                    \
        if (n == 0) return DS_OK;                                                       \
        if (!xs || !ds_size_add(v->len, n, &need)) return DS_EINVAL;                    \
        /* xs may point into our own storage, which growing frees: rebase it. */        \
        uintptr_t at = (uintptr_t)xs, lo = (uintptr_t)v->data;                         \
        int self = v->data && at >= lo && at < lo + v->len * sizeof(T);                 \
        if ((s = name##__grow(v, need)) != DS_OK) return s;                             \
        if (self) xs = (T const *)(void *)((char *)v->data + (at - lo));                \
        memcpy(v->data + v->len, xs, n * sizeof(T));                                    \
        v->len = need;                                                                  \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_pop(name *v, T *out) {                                        \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (v->len == 0) return DS_EEMPTY;                                              \
        v->len--;                                                                       \
        if (out) *out = v->data[v->len];                                                \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_insert_at(name *v, size_t i, T x) {                              \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (i > v->len) return DS_EINVAL;                                               \
        if (v->len == v->cap) {                                                         \
            ds_status s = v->len == SIZE_MAX ? DS_EINVAL : name##__grow(v, v->len + 1); \
            if (s != DS_OK) return s;                                                   \
        }                                                                               \
        memmove(v->data + i + 1, v->data + i, (v->len - i) * sizeof(T));                \
        v->data[i] = x;                                                                 \
        v->len++;                                                                       \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_del_at(name *v, size_t i, T *out) {                           \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (i >= v->len) return DS_EINVAL;                                              \
        if (out) *out = v->data[i];                                                     \
        memmove(v->data + i, v->data + i + 1, (v->len - i - 1) * sizeof(T));            \
        v->len--;                                                                       \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK ds_status name##_swap_remove(name *v, size_t i, T *out) {                      \
        if (DS__UNLIKELY(!v)) return DS_EINVAL;                                         \
        if (i >= v->len) return DS_EINVAL;                                              \
        if (out) *out = v->data[i];                                                     \
        v->data[i] = v->data[v->len - 1];                                               \
        v->len--;                                                                       \
        return DS_OK;                                                                   \
    }                                                                                   \
    LINK void name##_sort(name *v, name##_cmp cmp) {                                    \
        if (DS__UNLIKELY(!v)) return;                                                   \
        name##__cmpbox box;                                                             \
        box.fn = cmp;                                                                   \
        ds__sort(v->data, v->len, sizeof(T), name##__cmp_tramp, &box);                  \
    }                                                                                   \
    LINK size_t name##_lower_bound(const name *v, T const *key, name##_cmp cmp) {       \
        if (DS__UNLIKELY(!v)) return 0;                                                 \
        size_t lo = 0, hi = v->len;                                                     \
        while (lo < hi) {                                                               \
            size_t mid = lo + (hi - lo) / 2;                                            \
            if (cmp(v->data + mid, key) < 0) lo = mid + 1; else hi = mid;               \
        }                                                                               \
        return lo;                                                                      \
    }                                                                                   \
    LINK size_t name##_upper_bound(const name *v, T const *key, name##_cmp cmp) {       \
        if (DS__UNLIKELY(!v)) return 0;                                                 \
        size_t lo = 0, hi = v->len;                                                     \
        while (lo < hi) {                                                               \
            size_t mid = lo + (hi - lo) / 2;                                            \
            if (cmp(key, v->data + mid) < 0) hi = mid; else lo = mid + 1;               \
        }                                                                               \
        return lo;                                                                      \
    }                                                                                   \
    LINK T *name##_first(const name *v) { if (!v) return NULL; return v->len ? v->data : NULL; } \
    LINK T *name##_next(const name *v, T const *it) {                                   \
        if (DS__UNLIKELY(!v)) return NULL;                                              \
        return it + 1 < v->data + v->len ? (T *)(it + 1) : NULL;                        \
    }

#define DS_VEC_DECLARE(name, T) \
    DS__VEC_TYPES(name, T);     \
    DS__VEC_PROTOS(name, T, extern);
#define DS_VEC_DEFINE(name, T) DS__VEC_IMPL(name, T, )
#define DS_VEC(name, T)                   \
    DS__VEC_TYPES(name, T);               \
    DS__VEC_PROTOS(name, T, DS__LINK_STATIC); \
    DS__VEC_IMPL(name, T, DS__LINK_STATIC)

/* Iterate any ds container: `DS_FOREACH(name, &c, it) use(*it);` where it
 * is a pointer to the element (vec, deque, heap) or to the entry (map/set:
 * it->key, it->val). */
#define DS_FOREACH(name, c, it) \
    for (name##_it it = name##_first(c); it != NULL; it = name##_next((c), it))

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_VEC_H */

#if defined(DS_IMPLEMENTATION) && !defined(DS_SRC_VEC_IMPL)
#define DS_SRC_VEC_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds:vec == */

/* Introsort: median-of-three quicksort, insertion sort below 16 elements,
 * heapsort when recursion passes 2 log2 n (so O(n log n) worst case). */
static void ds__sort_heap_down(unsigned char *b, size_t n, size_t i, size_t esz, ds__cmp_fn cmp,
                               void *ctx) {
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && cmp(b + c * esz, b + (c + 1) * esz, ctx) < 0) c++;
        if (cmp(b + i * esz, b + c * esz, ctx) >= 0) return;
        ds__swap_bytes(b + i * esz, b + c * esz, esz);
        i = c;
    }
}

static void ds__sort_rec(unsigned char *b, size_t n, size_t esz, ds__cmp_fn cmp, void *ctx,
                         int depth) {
    while (n > 16) {
        size_t i, j, mid = n / 2;
        unsigned char *lo = b, *md = b + mid * esz, *hi = b + (n - 1) * esz;
        if (depth-- == 0) {
            for (i = n / 2; i-- > 0;) ds__sort_heap_down(b, n, i, esz, cmp, ctx);
            for (i = n - 1; i > 0; i--) {
                ds__swap_bytes(b, b + i * esz, esz);
                ds__sort_heap_down(b, i, 0, esz, cmp, ctx);
            }
            return;
        }
        /* Median of three into b[0]; it is the pivot. */
        if (cmp(md, lo, ctx) < 0) ds__swap_bytes(md, lo, esz);
        if (cmp(hi, md, ctx) < 0) {
            ds__swap_bytes(hi, md, esz);
            if (cmp(md, lo, ctx) < 0) ds__swap_bytes(md, lo, esz);
        }
        ds__swap_bytes(lo, md, esz);
        /* Hoare partition around b[0]. */
        i = 0;
        j = n;
        for (;;) {
            do i++; while (i < n && cmp(b + i * esz, b, ctx) < 0);
            do j--; while (cmp(b, b + j * esz, ctx) < 0);
            if (i >= j) break;
            ds__swap_bytes(b + i * esz, b + j * esz, esz);
        }
        ds__swap_bytes(b, b + j * esz, esz);
        /* Recurse into the smaller side, loop on the larger. */
        if (j < n - j - 1) {
            ds__sort_rec(b, j, esz, cmp, ctx, depth);
            b += (j + 1) * esz;
            n -= j + 1;
        } else {
            ds__sort_rec(b + (j + 1) * esz, n - j - 1, esz, cmp, ctx, depth);
            n = j;
        }
    }
    {
        size_t i, j;
        for (i = 1; i < n; i++)
            for (j = i; j > 0 && cmp(b + j * esz, b + (j - 1) * esz, ctx) < 0; j--)
                ds__swap_bytes(b + j * esz, b + (j - 1) * esz, esz);
    }
}

DSDEF void ds__sort(void *base, size_t n, size_t esz, ds__cmp_fn cmp, void *ctx) {
    int depth = 0;
    size_t m = n;
    if (!base || n < 2 || esz == 0) return;
    while (m) {
        depth += 2;
        m >>= 1;
    }
    ds__sort_rec((unsigned char *)base, n, esz, cmp, ctx, depth);
}

/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_VEC_IMPL */
