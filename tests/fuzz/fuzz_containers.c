/* tests/fuzz/fuzz_containers.c - op-stream fuzzer for DS_VEC, DS_DEQUE and
 * DS_HEAP (with its top-k helpers) against plain-array models.
 *
 * Byte 0 picks the container; the rest is a stream of operations on it,
 * allocating through an accounting allocator that can fail the k-th
 * allocation on request (an op then must return DS_ENOMEM and change
 * nothing). After every op the container is compared with its model; any
 * mismatch abort()s.
 *
 *   vec    of a 3-byte struct (odd element size): push/pop/insert/remove/
 *          swap_remove/at/last/resize/reserve/shrink/clear/append (also of
 *          its own elements)/sort + lower/upper_bound/iteration/free
 *   deque  of uint32 with a maxlen that changes: push/pop at both ends, the
 *          _evict variants (the dropped element must be the right one), at,
 *          front/back, set_maxlen, reserve, rotation (wrap-around), iteration
 *   heap   of {key, seq} with many equal keys: push/pop/peek/replace_top/
 *          heapify/update/remove_at/iteration; top_k on an array and the
 *          streaming name_topk checked against sorting everything offered
 *
 *   libFuzzer: clang -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -I. \
 *                  tests/fuzz/fuzz_containers.c -o build/fuzz/fuzz_containers
 *   replay:    gcc -std=c99 -O1 -g -fsanitize=address,undefined -DDS_FUZZ_STANDALONE -I. \
 *                  tests/fuzz/fuzz_containers.c -o build/fuzz/fuzz_containers-replay
 * -DFZ_NO_SELF_APPEND leaves out vec_append(v, v->data + i, n). */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "fuzz_util.h"

/* ======================================================================== *
 * vec                                                                      *
 * ======================================================================== */

typedef struct e3 {
    uint8_t b[3];
} e3;
static e3 e3_of(unsigned x) {
    e3 e;
    e.b[0] = (uint8_t)x;
    e.b[1] = (uint8_t)(x * 7u + 1u);
    e.b[2] = (uint8_t)~x;
    return e;
}
static int e3_eq(e3 a, e3 b) { return memcmp(a.b, b.b, 3) == 0; }
static int e3_cmp(e3 const *a, e3 const *b) { return memcmp(a->b, b->b, 3); }
static int e3_qcmp(const void *a, const void *b) { return memcmp(a, b, 3); }

DS_VEC(fvec, e3)

#define VMAX 4096u
static e3 vm[VMAX];
static size_t vn;

static void vec_check(const fvec *v) {
    size_t n = 0;
    FZ_CHECK(fvec_len(v) == vn);
    FZ_CHECK(v->cap >= v->len);
    FZ_CHECK(vn == 0 || memcmp(v->data, vm, vn * sizeof(e3)) == 0);
    FZ_CHECK(vn ? fvec_last(v) == v->data + vn - 1 : fvec_last(v) == NULL);
    FZ_CHECK(fvec_at(v, vn) == NULL);
    DS_FOREACH(fvec, v, it) {
        FZ_CHECK(it == v->data + n);
        n++;
    }
    FZ_CHECK(n == vn);
}

static void fuzz_vec(fz_reader *rd, fz_alloc *fa) {
    fvec v;
    long steps = 0;
    fvec_init_alloc(&v, &fa->a);
    vn = 0;
    while (fz_more(rd) && steps++ < 20000) {
        unsigned op = fz_u8(rd) % 24;
        long f0 = fa->fails;
        ds_status s;
        size_t i, n;
        e3 x, out;
        switch (op) {
        case 0: case 1: case 2: /* push */
            x = e3_of(fz_u8(rd));
            if (vn == VMAX) break;
            s = fvec_push(&v, x);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) vm[vn++] = x;
            break;
        case 3: case 4: /* pop */
        {
            int want = (int)(fz_u8(rd) & 1);
            out = e3_of(0x55);
            s = fvec_pop(&v, want ? &out : NULL);
            if (vn == 0) {
                FZ_CHECK(s == DS_EEMPTY && e3_eq(out, e3_of(0x55)));
            } else {
                FZ_CHECK(s == DS_OK);
                FZ_CHECK(e3_eq(out, want ? vm[vn - 1] : e3_of(0x55)));
                vn--;
            }
            break;
        }
        case 5: /* insert at i (i == len appends, i > len is DS_EINVAL) */
            i = fz_u16(rd) % (vn + 2);
            x = e3_of(fz_u8(rd));
            if (vn == VMAX) break;
            s = fvec_insert_at(&v, i, x);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (i > vn) {
                FZ_CHECK(s == DS_EINVAL);
            } else if (s == DS_OK) {
                memmove(vm + i + 1, vm + i, (vn - i) * sizeof(e3));
                vm[i] = x;
                vn++;
            }
            break;
        case 6: case 7: { /* remove / swap_remove */
            int swap = op == 7;
            i = fz_u16(rd) % (vn + 2);
            s = swap ? fvec_swap_remove(&v, i, &out) : fvec_del_at(&v, i, &out);
            if (i >= vn) {
                FZ_CHECK(s == DS_EINVAL);
            } else {
                FZ_CHECK(s == DS_OK && e3_eq(out, vm[i]));
                if (swap) vm[i] = vm[vn - 1];
                else memmove(vm + i, vm + i + 1, (vn - i - 1) * sizeof(e3));
                vn--;
            }
            break;
        }
        case 8: { /* at */
            e3 *p;
            i = fz_u16(rd) % (vn + 2);
            p = fvec_at(&v, i);
            if (i < vn) FZ_CHECK(p == v.data + i && e3_eq(*p, vm[i]));
            else FZ_CHECK(p == NULL);
            break;
        }
        case 9: /* resize(n, fill) */
            n = fz_u16(rd) % 600;
            x = e3_of(fz_u8(rd));
            s = fvec_resize(&v, n, x);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) {
                for (i = vn; i < n; i++) vm[i] = x;
                vn = n;
            }
            break;
        case 10: { /* reserve: small or hostile */
            unsigned b = fz_u8(rd);
            size_t cap0 = v.cap;
            n = b < 0xf0 ? fz_u16(rd) % 8192 : SIZE_MAX >> (fz_u8(rd) % 64);
            s = fvec_reserve(&v, n);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) FZ_CHECK(v.cap >= n && v.cap >= cap0);
            else FZ_CHECK((s == DS_ENOMEM || s == DS_EINVAL) && v.cap == cap0);
            break;
        }
        case 11: /* shrink */
            s = fvec_shrink(&v);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) FZ_CHECK(v.cap == vn);
            break;
        case 12: /* clear */
            if (fz_u8(rd) & 1) break;
            fvec_clear(&v);
            vn = 0;
            break;
        case 13: { /* append from the input */
            e3 xs[32];
            size_t j;
            n = fz_u8(rd) % 32;
            for (j = 0; j < n; j++) xs[j] = e3_of(fz_u8(rd));
            if (vn + n > VMAX) break;
            s = fvec_append(&v, n ? xs : NULL, n);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) {
                memcpy(vm + vn, xs, n * sizeof(e3));
                vn += n;
            }
            break;
        }
        case 14: /* append(NULL, n > 0) is DS_EINVAL */
            s = fvec_append(&v, NULL, 1 + fz_u8(rd) % 4);
            FZ_CHECK(s == DS_EINVAL);
            break;
#ifndef FZ_NO_SELF_APPEND
        case 15: { /* append a range of its own elements (list.extend(list[i:j])) */
            size_t j;
            if (vn == 0) break;
            i = fz_u16(rd) % vn;
            n = 1 + fz_u16(rd) % (vn - i);
            if (vn + n > VMAX) break;
            s = fvec_append(&v, v.data + i, n);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) {
                for (j = 0; j < n; j++) vm[vn + j] = vm[i + j];
                vn += n;
            }
            break;
        }
#endif
        case 16: { /* sort, then lower/upper_bound against a linear scan */
            size_t lo, hi, j;
            fvec_sort(&v, e3_cmp);
            qsort(vm, vn, sizeof(e3), e3_qcmp);
            x = e3_of(fz_u8(rd));
            lo = hi = 0;
            for (j = 0; j < vn; j++) {
                if (e3_cmp(&vm[j], &x) < 0) lo = j + 1;
                if (e3_cmp(&vm[j], &x) <= 0) hi = j + 1;
            }
            FZ_CHECK(fvec_lower_bound(&v, &x, e3_cmp) == lo);
            FZ_CHECK(fvec_upper_bound(&v, &x, e3_cmp) == hi);
            break;
        }
        case 17: case 18: /* arm an allocation failure */
            fz_alloc_fail_in(fa, 1 + (long)(fz_u8(rd) % 3));
            break;
        case 19: /* free, then reuse */
            if (fz_u8(rd) & 1) break;
            fvec_free(&v);
            vn = 0;
            FZ_CHECK(v.data == NULL && v.cap == 0 && fa->live_blocks == 0);
            break;
        case 20: { /* bulk push */
            size_t j;
            n = fz_u8(rd);
            x = e3_of(fz_u8(rd));
            for (j = 0; j < n && vn < VMAX; j++) {
                f0 = fa->fails;
                s = fvec_push(&v, e3_of((unsigned)j ^ x.b[0]));
                FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
                if (s != DS_OK) break;
                vm[vn++] = e3_of((unsigned)j ^ x.b[0]);
            }
            break;
        }
        default: /* write through at() */
            if (vn == 0) break;
            i = fz_u16(rd) % vn;
            x = e3_of(fz_u8(rd));
            *fvec_at(&v, i) = x;
            vm[i] = x;
            break;
        }
        vec_check(&v);
    }
    fvec_free(&v);
}

/* ======================================================================== *
 * deque                                                                    *
 * ======================================================================== */

DS_DEQUE(fdeq, uint32_t)

#define DMAX 2048u
static uint32_t dm[DMAX]; /* dm[0] is the front */
static size_t dn, dmaxlen;
static uint32_t dseq;

static void deq_check(const fdeq *d) {
    size_t i = 0;
    FZ_CHECK(fdeq_len(d) == dn);
    FZ_CHECK(fdeq_maxlen(d) == dmaxlen);
    FZ_CHECK(dmaxlen == 0 || dn <= dmaxlen);
    FZ_CHECK(d->cap == 0 || ((d->cap & (d->cap - 1)) == 0 && d->head < d->cap && dn <= d->cap));
    FZ_CHECK(dn ? *fdeq_front(d) == dm[0] : fdeq_front(d) == NULL);
    FZ_CHECK(dn ? *fdeq_back(d) == dm[dn - 1] : fdeq_back(d) == NULL);
    FZ_CHECK(fdeq_at(d, dn) == NULL);
    DS_FOREACH(fdeq, d, it) {
        FZ_CHECK(i < dn && *it == dm[i] && it == fdeq_at(d, i));
        i++;
    }
    FZ_CHECK(i == dn);
}

/* Push at either end, with or without _evict; the model mirrors maxlen. */
static void deq_push(fdeq *d, fz_alloc *fa, int back, int evict) {
    long f0 = fa->fails;
    uint32_t x = ++dseq, dropped = 0;
    int did = -1;
    ds_status s;
    int full = dmaxlen && dn == dmaxlen;
    if (!full && dn == DMAX) return; /* the model is full */
    if (evict)
        s = back ? fdeq_push_back_evict(d, x, &dropped, &did)
                 : fdeq_push_front_evict(d, x, &dropped, &did);
    else
        s = back ? fdeq_push_back(d, x) : fdeq_push_front(d, x);
    FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
    if (s != DS_OK) {
        FZ_CHECK(s == DS_ENOMEM && !full);
        return;
    }
    if (evict) FZ_CHECK(did == full);
    if (full) {
        /* push_back drops the front (oldest); push_front drops the back */
        if (back) {
            if (evict) FZ_CHECK(dropped == dm[0]);
            memmove(dm, dm + 1, (dn - 1) * sizeof *dm);
            dn--;
        } else {
            if (evict) FZ_CHECK(dropped == dm[dn - 1]);
            dn--;
        }
    }
    if (back) {
        dm[dn++] = x;
    } else {
        memmove(dm + 1, dm, dn * sizeof *dm);
        dm[0] = x;
        dn++;
    }
}

static void deq_pop(fdeq *d, int back, int want) {
    uint32_t out = 0;
    ds_status s = back ? fdeq_pop_back(d, want ? &out : NULL) : fdeq_pop_front(d, want ? &out : NULL);
    if (dn == 0) {
        FZ_CHECK(s == DS_EEMPTY);
        return;
    }
    FZ_CHECK(s == DS_OK);
    if (back) {
        if (want) FZ_CHECK(out == dm[dn - 1]);
    } else {
        if (want) FZ_CHECK(out == dm[0]);
        memmove(dm, dm + 1, (dn - 1) * sizeof *dm);
    }
    dn--;
}

static void fuzz_deque(fz_reader *rd, fz_alloc *fa) {
    fdeq d;
    long steps = 0;
    fdeq_init_alloc(&d, &fa->a);
    dn = dmaxlen = 0;
    dseq = 0;
    while (fz_more(rd) && steps++ < 20000) {
        unsigned op = fz_u8(rd) % 20;
        long f0 = fa->fails;
        ds_status s;
        size_t i, n;
        switch (op) {
        case 0: case 1: deq_push(&d, fa, 1, 0); break;
        case 2: case 3: deq_push(&d, fa, 0, 0); break;
        case 4: deq_push(&d, fa, 1, 1); break;
        case 5: deq_push(&d, fa, 0, 1); break;
        case 6: deq_pop(&d, 0, (int)(fz_u8(rd) & 1)); break;
        case 7: deq_pop(&d, 1, (int)(fz_u8(rd) & 1)); break;
        case 8: { /* at */
            uint32_t *p;
            i = fz_u16(rd) % (dn + 2);
            p = fdeq_at(&d, i);
            if (i < dn) FZ_CHECK(p && *p == dm[i]);
            else FZ_CHECK(p == NULL);
            break;
        }
        case 9: case 10: { /* set_maxlen: 0 = unbounded; below len is DS_EINVAL */
            size_t ml = fz_u8(rd) % 48;
            s = fdeq_set_maxlen(&d, ml);
            if (ml && dn > ml) {
                FZ_CHECK(s == DS_EINVAL);
            } else {
                FZ_CHECK(s == DS_OK);
                dmaxlen = ml;
            }
            break;
        }
        case 11: { /* reserve */
            unsigned b = fz_u8(rd);
            size_t cap0 = d.cap;
            n = b < 0xf0 ? fz_u16(rd) % 4096 : SIZE_MAX >> (fz_u8(rd) % 64);
            s = fdeq_reserve(&d, n);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) FZ_CHECK(d.cap >= n && d.cap >= cap0);
            else FZ_CHECK((s == DS_ENOMEM || s == DS_EINVAL) && d.cap == cap0);
            break;
        }
        case 12: /* clear (keeps maxlen) */
            if (fz_u8(rd) & 1) break;
            fdeq_clear(&d);
            dn = 0;
            break;
        case 13: /* free, then reuse; maxlen survives free */
            if (fz_u8(rd) & 1) break;
            fdeq_free(&d);
            dn = 0;
            FZ_CHECK(d.buf == NULL && d.cap == 0 && fa->live_blocks == 0);
            break;
        case 14: case 15: { /* rotate: pop one end, push the other, many times */
            size_t j;
            int dir = (int)(fz_u8(rd) & 1);
            n = fz_u8(rd);
            for (j = 0; j < n; j++) {
                deq_pop(&d, dir, 1);
                deq_push(&d, fa, !dir, (int)(j & 1));
            }
            break;
        }
        case 16: { /* bulk push at the back (grows, wraps, evicts) */
            size_t j;
            n = fz_u8(rd);
            for (j = 0; j < n; j++) deq_push(&d, fa, 1, (int)(j & 1));
            break;
        }
        case 17: /* arm an allocation failure */
            fz_alloc_fail_in(fa, 1 + (long)(fz_u8(rd) % 3));
            break;
        default: /* write through at() */
            if (dn == 0) break;
            i = fz_u16(rd) % dn;
            *fdeq_at(&d, i) = dm[i] = ++dseq;
            break;
        }
        deq_check(&d);
    }
    fdeq_free(&d);
}

/* ======================================================================== *
 * heap and top-k                                                           *
 * ======================================================================== */

typedef struct hel {
    uint8_t key; /* few distinct keys: lots of ties */
    uint32_t seq; /* unique per element, so the model can find it */
} hel;
static int hel_less(hel a, hel b) { return a.key < b.key; }

DS_HEAP(fheap, hel, hel_less)

#define HMAX 1024u
static hel hm[HMAX];
static size_t hn;
static uint32_t hseq;

static size_t hmodel_find(uint32_t seq) {
    size_t i;
    for (i = 0; i < hn; i++)
        if (hm[i].seq == seq) return i;
    return (size_t)-1;
}
static void hmodel_remove(uint32_t seq) {
    size_t i = hmodel_find(seq);
    FZ_CHECK(i != (size_t)-1);
    hm[i] = hm[--hn];
}
static int hmodel_min_key(void) {
    size_t i;
    int m = 256;
    for (i = 0; i < hn; i++)
        if (hm[i].key < m) m = hm[i].key;
    return m;
}
static int hel_seq_qcmp(const void *a, const void *b) {
    uint32_t x = ((const hel *)a)->seq, y = ((const hel *)b)->seq;
    return (x > y) - (x < y);
}
static int key_desc_qcmp(const void *a, const void *b) {
    int x = *(const uint8_t *)a, y = *(const uint8_t *)b;
    return y - x;
}

/* Heap order, length, and the least key; with `full`, also that the heap
 * holds exactly the model's elements (by seq) via iteration. */
static void heap_check(const fheap *h, int full) {
    size_t i;
    const hel *top = fheap_peek(h);
    FZ_CHECK(fheap_len(h) == hn);
    for (i = 1; i < hn; i++) FZ_CHECK(!hel_less(h->data[i], h->data[(i - 1) / 2]));
    if (hn) FZ_CHECK(top == h->data && top->key == hmodel_min_key());
    else FZ_CHECK(top == NULL);
    if (full) {
        static hel a[HMAX], b[HMAX];
        size_t n = 0;
        DS_FOREACH(fheap, h, it) {
            FZ_CHECK(n < hn);
            a[n++] = *it;
        }
        FZ_CHECK(n == hn);
        memcpy(b, hm, hn * sizeof(hel));
        qsort(a, n, sizeof(hel), hel_seq_qcmp);
        qsort(b, n, sizeof(hel), hel_seq_qcmp);
        for (i = 0; i < n; i++) FZ_CHECK(a[i].seq == b[i].seq && a[i].key == b[i].key);
    }
}

/* Streaming top-k model: everything offered since the last reset. */
#define OMAX 4096u
static hel om[OMAX];
static size_t on;

/* The kept set's keys are the k greatest offered keys; each kept element
 * was offered, and none twice. */
static void topk_check(const fheap_topk *t, size_t k, int ok) {
    static hel out[64];
    static uint8_t keys[OMAX];
    size_t n, i, j, want;
    const hel *thr = fheap_topk_threshold(t);
    if (!ok) {
        FZ_CHECK(fheap_topk_len(t) == 0 && thr == NULL);
        return;
    }
    for (i = 0; i < on; i++) keys[i] = om[i].key;
    qsort(keys, on, 1, key_desc_qcmp);
    want = on < k ? on : k;
    FZ_CHECK(fheap_topk_len(t) == want);
    n = fheap_topk_sorted(t, out);
    FZ_CHECK(n == want);
    for (i = 0; i < n; i++) {
        FZ_CHECK(out[i].key == keys[i]); /* greatest first */
        for (j = 0; j < on && om[j].seq != out[i].seq; j++) continue;
        FZ_CHECK(j < on && om[j].key == out[i].key);
        for (j = 0; j < i; j++) FZ_CHECK(out[j].seq != out[i].seq);
    }
    if (want == k) FZ_CHECK(thr && thr->key == keys[k - 1]);
    else FZ_CHECK(thr == NULL);
}

static void fuzz_heap(fz_reader *rd, fz_alloc *fa) {
    fheap h;
    fheap_topk t;
    size_t tk;
    int tk_ok;
    long steps = 0;
    ds_status s;
    fheap_init_alloc(&h, &fa->a);
    hn = on = 0;
    hseq = 0;
    tk = 1 + fz_u8(rd) % 40;
    s = fheap_topk_init(&t, tk, &fa->a);
    FZ_CHECK(s == DS_OK);
    tk_ok = 1;
    while (fz_more(rd) && steps++ < 20000) {
        unsigned op = fz_u8(rd) % 24;
        long f0 = fa->fails;
        size_t i, n;
        hel x, out;
        switch (op) {
        case 0: case 1: case 2: /* push */
            x.key = (uint8_t)(fz_u8(rd) % 32);
            x.seq = ++hseq;
            if (hn == HMAX) break;
            s = fheap_push(&h, x);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) hm[hn++] = x;
            break;
        case 3: case 4: /* pop: a least element */
            s = fheap_pop(&h, &out);
            if (hn == 0) {
                FZ_CHECK(s == DS_EEMPTY);
            } else {
                FZ_CHECK(s == DS_OK && out.key == hmodel_min_key());
                hmodel_remove(out.seq);
            }
            break;
        case 5: /* replace_top */
            x.key = (uint8_t)(fz_u8(rd) % 32);
            x.seq = ++hseq;
            s = fheap_replace_top(&h, x, &out);
            if (hn == 0) {
                FZ_CHECK(s == DS_EEMPTY);
            } else {
                FZ_CHECK(s == DS_OK && out.key == hmodel_min_key());
                hmodel_remove(out.seq);
                hm[hn++] = x;
            }
            break;
        case 6: { /* heapify from the input (sometimes from its own data) */
            static hel xs[64];
            int self = (int)(fz_u8(rd) & 1) && hn > 0;
            n = self ? 1 + fz_u8(rd) % (hn < 64 ? hn : 64) : fz_u8(rd) % 64;
            if (self) {
                memcpy(xs, h.data + (hn - n), n * sizeof(hel)); /* expected contents */
            } else {
                for (i = 0; i < n; i++) {
                    xs[i].key = (uint8_t)(fz_u8(rd) % 32);
                    xs[i].seq = ++hseq;
                }
            }
            s = fheap_heapify(&h, self ? h.data + (hn - n) : xs, n);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) {
                memcpy(hm, xs, n * sizeof(hel));
                hn = n;
            }
            heap_check(&h, 1);
            break;
        }
        case 7: case 8: /* change an element's key in place, then update */
            i = fz_u16(rd) % (hn + 1);
            x.key = (uint8_t)(fz_u8(rd) % 32);
            if (i < hn) {
                size_t mi = hmodel_find(h.data[i].seq);
                FZ_CHECK(mi != (size_t)-1);
                h.data[i].key = x.key;
                hm[mi].key = x.key;
            }
            s = fheap_update(&h, i);
            FZ_CHECK(s == (i < hn ? DS_OK : DS_EINVAL));
            break;
        case 9: /* remove_at */
            i = fz_u16(rd) % (hn + 1);
            if (i < hn) x = h.data[i];
            s = fheap_remove_at(&h, i, &out);
            if (i < hn) {
                FZ_CHECK(s == DS_OK && out.seq == x.seq && out.key == x.key);
                hmodel_remove(out.seq);
            } else {
                FZ_CHECK(s == DS_EINVAL);
            }
            break;
        case 10: { /* reserve */
            unsigned b = fz_u8(rd);
            size_t cap0 = h.cap;
            n = b < 0xf0 ? fz_u16(rd) % 4096 : SIZE_MAX >> (fz_u8(rd) % 64);
            s = fheap_reserve(&h, n);
            FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) FZ_CHECK(h.cap >= n && h.cap >= cap0);
            else FZ_CHECK((s == DS_ENOMEM || s == DS_EINVAL) && h.cap == cap0);
            break;
        }
        case 11: /* clear or free */
            i = fz_u8(rd) % 4;
            if (i == 0) fheap_clear(&h);
            else if (i == 1) fheap_free(&h);
            else break;
            hn = 0;
            break;
        case 12: /* arm an allocation failure */
            fz_alloc_fail_in(fa, 1 + (long)(fz_u8(rd) % 3));
            break;
        case 13: { /* top_k over the heap's array: the k greatest keys, greatest first */
            static hel outk[48];
            static uint8_t keys[HMAX];
            size_t k = fz_u8(rd) % 48, m, j;
            m = fheap_top_k(h.data, hn, k, outk);
            FZ_CHECK(m == (h.data == NULL || k == 0 ? 0 : hn < k ? hn : k));
            for (j = 0; j < hn; j++) keys[j] = hm[j].key;
            qsort(keys, hn, 1, key_desc_qcmp);
            for (j = 0; j < m; j++) {
                FZ_CHECK(outk[j].key == keys[j]);
                FZ_CHECK(hmodel_find(outk[j].seq) != (size_t)-1);
            }
            break;
        }
        case 14: case 15: case 16: case 17: { /* topk_offer */
            int did = -1, r;
            const hel *thr;
            hel ev, thr_copy;
            size_t len0;
            if (on == OMAX) { /* the model is full: start over */
                fheap_topk_clear(&t);
                on = 0;
            }
            thr = fheap_topk_threshold(&t);
            len0 = fheap_topk_len(&t);
            x.key = (uint8_t)(fz_u8(rd) % 32);
            x.seq = ++hseq;
            ev.key = 0;
            ev.seq = 0;
            thr_copy = thr ? *thr : ev;
            FZ_CHECK((thr != NULL) == (tk_ok && len0 == tk));
            r = fheap_topk_offer(&t, x, &ev, &did);
            if (!tk_ok) {
                FZ_CHECK(r == 0 && did == 0);
                break;
            }
            om[on++] = x;
            if (len0 < tk) {
                FZ_CHECK(r == 1 && did == 0);
            } else {
                /* rejected unless strictly greater than the k-th best */
                FZ_CHECK(r == (thr_copy.key < x.key));
                FZ_CHECK(did == r);
                if (did) FZ_CHECK(ev.key == thr_copy.key);
            }
            break;
        }
        case 18: /* topk_clear, or re-init with a new k (may fail: then offers are refused) */
            if (fz_u8(rd) & 1) {
                fheap_topk_clear(&t);
            } else {
                fheap_topk_free(&t);
                tk = fz_u8(rd) % 40;
                s = fheap_topk_init(&t, tk, &fa->a);
                FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
                if (tk == 0) FZ_CHECK(s == DS_EINVAL);
                else FZ_CHECK(s == DS_OK || s == DS_ENOMEM);
                tk_ok = s == DS_OK;
            }
            on = 0;
            break;
        case 19: /* bulk offer */
            n = fz_u8(rd);
            for (i = 0; i < n && on < OMAX && tk_ok; i++) {
                x.key = (uint8_t)((i * 7u + hseq) % 32);
                x.seq = ++hseq;
                (void)fheap_topk_offer(&t, x, NULL, NULL);
                om[on++] = x;
            }
            topk_check(&t, tk, tk_ok);
            break;
        case 20: /* checkpoint */
            heap_check(&h, 1);
            topk_check(&t, tk, tk_ok);
            break;
        default: { /* bulk push */
            size_t j;
            n = fz_u8(rd);
            for (j = 0; j < n && hn < HMAX; j++) {
                x.key = (uint8_t)((j * 13u + hseq) % 32);
                x.seq = ++hseq;
                f0 = fa->fails;
                s = fheap_push(&h, x);
                FZ_ENOMEM_MATCHES(fa, f0, s == DS_ENOMEM);
                if (s != DS_OK) break;
                hm[hn++] = x;
            }
            break;
        }
        }
        heap_check(&h, hn <= 64);
    }
    heap_check(&h, 1);
    topk_check(&t, tk, tk_ok);
    fheap_free(&h);
    fheap_topk_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_reader rd;
    fz_alloc fa;
    rd.p = data;
    rd.n = size;
    rd.pos = 0;
    fz_alloc_init(&fa);
    switch (fz_u8(&rd) % 3) {
    case 0: fuzz_vec(&rd, &fa); break;
    case 1: fuzz_deque(&rd, &fa); break;
    default: fuzz_heap(&rd, &fa); break;
    }
    FZ_CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    return 0;
}
