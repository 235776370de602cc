/* src/vecio.h - save/load of ds_flat and ds_hnsw, .fvecs/.ivecs readers, recall@k
 *
 * One module of ds_hnsw.h: tools/gen.sh pastes the regions between the
 * marker lines into the generated header, so edit this file, not that
 * one. Alone (with its dependencies, which it includes itself):
 *     #define DS_IMPLEMENTATION   (in one file)
 *     #include "src/vecio.h"
 */
#ifndef DS_SRC_VECIO_H
#define DS_SRC_VECIO_H
#include "hnsw.h"
#ifdef __cplusplus
extern "C" {
#endif
/*@api*/
/* ========================================================================
 * == ds_hnsw:io ==
 * ========================================================================
 *   ds_status ds_hnsw_save(const ds_hnsw *h, ds_writer w)
 *   ds_status ds_hnsw_load(ds_hnsw *h, ds_reader *r, const ds_alloc *a)
 *          format "DShn" (ds.h's ds:io layout), v1 for an F32 index (as
 *          before fp16 storage, so older releases read it) and v2 for an
 *          F16 one (v1 plus a storage field after replace_deleted; the
 *          vectors as little-endian halves); load reads both. Every
 *          parameter (ef_search
 *          and the RNG state included, so a loaded index searches and grows
 *          exactly as the saved one would), the level-0 records and upper
 *          link lists in full (unused slots zero, so the file is as large as
 *          the memory load asks for), the deleted list, a checksum. load
 *          checks every field before trusting it: parameters in range,
 *          element count and layers against the bytes left before
 *          allocating (no allocation much larger than the input), link
 *          counts <= M/M0, every link < count and pointing at an element
 *          that has that layer, labels unique, vectors finite (no inf or
 *          NaN half either), storage known, entry point
 *          on the top layer, deleted flags matching the list. DS_ECORRUPT on
 *          any mismatch, truncation or bit flip; *h untouched on error.
 *   ds_status ds_flat_save(const ds_flat *f, ds_writer w)     ("DSfl" v1; a
 *   ds_status ds_flat_load(ds_flat *f, ds_reader *r, const ds_alloc *a)
 *          view saves its rows and loads as an owning index)
 *
 * TEXMEX vector files (http://corpus-texmex.irisa.fr/): records of an
 * int32 dimension d followed by d float32 (.fvecs) or int32 (.ivecs)
 * values, little-endian, no header.
 *   ds_status ds_fvecs_read(ds_reader *r, float **out, size_t *n, size_t *dim,
 *                           const ds_alloc *a)
 *   ds_status ds_ivecs_read(ds_reader *r, int32_t **out, size_t *n, size_t *dim,
 *                           const ds_alloc *a)
 *          read the whole input into one new block of n * dim values (free
 *          it with ds_vecs_free(a, p, n, dim)). The reader must know its size
 *          (r->avail: memory readers, seekable files), else DS_EINVAL. An
 *          empty input gives n = dim = 0, *out = NULL. DS_ECORRUPT: d < 1 or
 *          > DS_VEC_MAX_DIM, records of different d, a size that is not a
 *          whole number of records.
 *   void   ds_vecs_free(const ds_alloc *a, void *p, size_t n, size_t dim)
 *   ds_status ds_ivecs_read_labels(ds_reader *r, uint64_t **out, size_t *n, size_t *dim,
 *                                  const ds_alloc *a)
 *          an .ivecs ground-truth file as uint64_t labels, the type
 *          ds_recall_at_k and ds_flat_ground_truth use (a negative id is
 *          DS_ECORRUPT); free with ds_labels_free(a, p, n, dim).
 *   void   ds_labels_free(const ds_alloc *a, uint64_t *p, size_t n, size_t dim)
 *
 * Ground truth and recall:
 *   ds_status ds_flat_ground_truth(const ds_flat *f, const float *qs, size_t nq,
 *                                  size_t k, uint64_t *labels)
 *          labels[i * k + j] = label of the j-th nearest to query i.
 *          k must be <= len (every label is legal, so there is no padding
 *          value): DS_EINVAL for k > len, and as search.
 *   double ds_recall_at_k(const ds_neighbor *res, size_t nres,
 *                         const uint64_t *truth, size_t k)
 *          |first min(nres,k) results  intersect  truth[0..k)| / k; 0 if k = 0.
 */
DSDEF ds_status ds_hnsw_save(const ds_hnsw *h, ds_writer w);
DSDEF ds_status ds_hnsw_load(ds_hnsw *h, ds_reader *r, const ds_alloc *a);
DSDEF ds_status ds_flat_save(const ds_flat *f, ds_writer w);
DSDEF ds_status ds_flat_load(ds_flat *f, ds_reader *r, const ds_alloc *a);
DSDEF ds_status ds_fvecs_read(ds_reader *r, float **out, size_t *n, size_t *dim,
                              const ds_alloc *a);
DSDEF ds_status ds_ivecs_read(ds_reader *r, int32_t **out, size_t *n, size_t *dim,
                              const ds_alloc *a);
DSDEF void ds_vecs_free(const ds_alloc *a, void *p, size_t n, size_t dim);
DSDEF ds_status ds_ivecs_read_labels(ds_reader *r, uint64_t **out, size_t *n, size_t *dim,
                                     const ds_alloc *a);
DSDEF void ds_labels_free(const ds_alloc *a, uint64_t *p, size_t n, size_t dim);
DSDEF ds_status ds_flat_ground_truth(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                     uint64_t *labels);
DSDEF double ds_recall_at_k(const ds_neighbor *res, size_t nres, const uint64_t *truth,
                            size_t k);
/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_VECIO_H */

#if (defined(DS_IMPLEMENTATION) || defined(DS_HNSW_IMPLEMENTATION)) && !defined(DS_SRC_VECIO_IMPL)
#define DS_SRC_VECIO_IMPL
#ifdef __cplusplus
extern "C" {
#endif
/*@impl*/
/* == ds_hnsw:io == */

static int ds__hn_host_le(void) {
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}
/* n words of wsz bytes (4: u32 or float bits; 2: halves) little-endian,
 * in pieces of DS__HN_CHUNK words; the reader takes the same pieces so the
 * running checksums agree. */
#define DS__HN_CHUNK 256
static void ds__hn_put_w(ds__enc *e, const void *a, size_t n, size_t wsz) {
    const unsigned char *p = (const unsigned char *)a;
    unsigned char buf[DS__HN_CHUNK * 4];
    while (n && e->st == DS_OK) {
        size_t c = n < DS__HN_CHUNK ? n : DS__HN_CHUNK, i, j;
        if (ds__hn_host_le()) {
            ds__put(e, p, c * wsz);
        } else {
            for (i = 0; i < c; i++) {
                uint32_t u;
                uint16_t h;
                if (wsz == 2) memcpy(&h, p + 2 * i, 2), u = h;
                else memcpy(&u, p + 4 * i, 4);
                for (j = 0; j < wsz; j++) buf[wsz * i + j] = (unsigned char)(u >> (8 * j));
            }
            ds__put(e, buf, c * wsz);
        }
        p += c * wsz;
        n -= c;
    }
}
static void ds__hn_get_w(ds__dec *d, void *a, size_t n, size_t wsz) {
    unsigned char *p = (unsigned char *)a;
    while (n && d->st == DS_OK) {
        size_t c = n < DS__HN_CHUNK ? n : DS__HN_CHUNK, i, j;
        ds__get(d, p, c * wsz);
        if (d->st == DS_OK && !ds__hn_host_le()) {
            for (i = 0; i < c; i++) {
                uint32_t u = 0;
                uint16_t h;
                for (j = wsz; j-- > 0;) u = u << 8 | p[wsz * i + j];
                h = (uint16_t)u;
                if (wsz == 2) memcpy(p + 2 * i, &h, 2);
                else memcpy(p + 4 * i, &u, 4);
            }
        }
        p += c * wsz;
        n -= c;
    }
}
static void ds__hn_put_w32(ds__enc *e, const void *a, size_t n) { ds__hn_put_w(e, a, n, 4); }
static void ds__hn_get_w32(ds__dec *d, void *a, size_t n) { ds__hn_get_w(d, a, n, 4); }
/* Links are stored in full fixed-size lists (unused slots zero), so the
 * file is as large as the memory it asks for: load never allocates much
 * more than the input holds. Pieces of <= DS__HN_CHUNK words, as the
 * reader's. */
static void ds__hn_put_links(ds__enc *e, const uint32_t *ln, size_t cnt, size_t cap) {
    static const uint32_t zeros[DS__HN_CHUNK] = {0};
    size_t left = cap - cnt;
    ds__hn_put_w32(e, ln, cnt);
    while (left) {
        size_t c = left < DS__HN_CHUNK ? left : DS__HN_CHUNK;
        ds__hn_put_w32(e, zeros, c);
        left -= c;
    }
}
/* Read cnt links then the zero padding to cap into ln[0..cap). */
static void ds__hn_get_links(ds__dec *d, uint32_t *ln, size_t cnt, size_t cap) {
    size_t left = cap - cnt, i;
    uint32_t *p = ln + cnt;
    ds__hn_get_w32(d, ln, cnt);
    while (left && d->st == DS_OK) {
        size_t c = left < DS__HN_CHUNK ? left : DS__HN_CHUNK;
        ds__hn_get_w32(d, p, c);
        for (i = 0; i < c && d->st == DS_OK; i++)
            if (p[i]) d->st = DS_ECORRUPT;
        p += c;
        left -= c;
    }
}
static void ds__hn_put_bytes(ds__enc *e, const unsigned char *p, size_t n) {
    while (n && e->st == DS_OK) {
        size_t c = n < 4096 ? n : 4096;
        ds__put(e, p, c);
        p += c;
        n -= c;
    }
}

/* "DShn" versions: 1 has no storage field (F32), 2 adds it (written for
 * F16 only, so an F32 index's file is what older releases wrote). */
#define DS__HNSW_FORMAT_F16 2

DSDEF ds_status ds_hnsw_save(const ds_hnsw *h, ds_writer w) {
    ds__enc e;
    uint32_t id;
    int i, lc;
    if (!h) return DS_EINVAL;
    ds__enc_init(&e, w, "DShn", h->dist16 ? DS__HNSW_FORMAT_F16 : 1);
    ds__put_u64(&e, h->dim);
    ds__put_u64(&e, (uint64_t)h->metric);
    ds__put_u64(&e, h->M);
    ds__put_u64(&e, h->efc);
    ds__put_u64(&e, h->ef);
    ds__put_u64(&e, h->max_elements);
    ds__put_u64(&e, h->seed);
    ds__put_u64(&e, (uint64_t)h->replace_deleted);
    if (h->dist16) ds__put_u64(&e, (uint64_t)h->storage);
    for (i = 0; i < 4; i++) ds__put_u64(&e, h->rng.s[i]);
    ds__put_u64(&e, h->n);
    ds__put_u64(&e, h->ndel);
    ds__put_u64(&e, (uint64_t)(h->maxlevel + 1));
    ds__put_u64(&e, h->entry);
    ds__hn_put_bytes(&e, h->level, h->n);
    for (id = 0; id < h->n; id++) {
        size_t cnt;
        const uint32_t *ln = ds__hn_links(h, id, 0, &cnt);
        ds__put_u64(&e, ds__hn_label(h, id));
        ds__put_u64(&e, (uint64_t)cnt | (uint64_t)ds__hn_rec(h, id)[2] << 16);
        ds__hn_put_links(&e, ln, cnt, h->M0);
        ds__hn_put_w(&e, ds__hn_vec(h, id), h->dim, h->dist16 ? 2 : 4);
    }
    for (id = 0; id < h->n; id++) {
        for (lc = 1; lc <= h->level[id]; lc++) {
            size_t cnt;
            const uint32_t *ln = ds__hn_links(h, id, lc, &cnt);
            ds__hn_put_w32(&e, ln - 1, 1); /* count, then the list: the reader's pieces */
            ds__hn_put_links(&e, ln, cnt, h->M);
        }
    }
    ds__hn_put_w32(&e, h->del, h->ndel);
    return ds__enc_end(&e);
}

/* How many of n claimed items of `per` bytes to make room for before any
 * arrives: all of them when the input's size is known (the caller checked
 * it can hold them), else at most about 1 MiB's worth; the loaders then
 * grow as items actually arrive, so a hostile count costs at most about
 * twice the bytes really sent (issue 15: pipes and sockets). */
static size_t ds__vec_trust(const ds__dec *d, uint64_t n, size_t per) {
    size_t most = ((size_t)1 << 20) / (per ? per : 1) + 1;
    if (d->r->avail != UINT64_MAX) return (size_t)n;
    return n < most ? (size_t)n : most;
}
/* n bytes into a new block that grows as they arrive (ds__vec_trust). */
static unsigned char *ds__vec_get_bytes(ds__dec *d, size_t n, const ds_alloc *a, size_t *cap) {
    unsigned char *p;
    size_t got = 0;
    *cap = ds__vec_trust(d, n, 1);
    if (d->st != DS_OK) return NULL;
    if (!(p = (unsigned char *)DS_MALLOC(a, *cap ? *cap : 1))) {
        d->st = DS_ENOMEM;
        return NULL;
    }
    if (!*cap) *cap = 1;
    while (got < n && d->st == DS_OK) {
        size_t c = n - got < 4096 ? n - got : 4096;
        if (got + c > *cap) {
            size_t nc = *cap > n / 2 ? n : *cap * 2;
            void *q = DS_REALLOC(a, p, *cap, nc);
            if (!q) {
                d->st = DS_ENOMEM;
                break;
            }
            p = (unsigned char *)q;
            *cap = nc;
        }
        ds__get(d, p + got, c);
        got += c;
    }
    if (d->st != DS_OK) {
        DS_FREE(a, p, *cap);
        return NULL;
    }
    return p;
}

/* A loaded vector holds no inf or NaN (float or half). */
static int ds__hn_vec_finite(const ds_hnsw *t, uint32_t id) {
    const uint16_t *v = (const uint16_t *)ds__hn_vec(t, id);
    size_t i;
    if (!t->dist16) return ds__vec_finite((const float *)ds__hn_vec(t, id), t->dim);
    for (i = 0; i < t->dim; i++)
        if ((v[i] & 0x7c00u) == 0x7c00u) return 0;
    return 1;
}

/* Read the elements into a freshly initialised t with room for at least
 * ds__vec_trust of them; t grows (doubling) as elements arrive, with t->n
 * tracking what has been read so a growth keeps it. */
static void ds__hn_get_payload(ds__dec *d, ds_hnsw *t, size_t n, size_t ndel) {
    size_t i, j, upper_words = 0, flagged = 0, lvcap = 0;
    uint32_t id;
    int lc;
    unsigned char *lv = ds__vec_get_bytes(d, n, t->alloc, &lvcap);
    if (!lv) return;
    for (i = 0; i < n; i++)
        if (lv[i] > DS__HNSW_MAX_LEVEL) d->st = DS_ECORRUPT;
    /* Every upper layer is stored in full: refuse what the input cannot hold. */
    for (i = 0; i < n; i++) upper_words += (size_t)lv[i] * (t->M + 1);
    if (!ds__dec_room(d, (uint64_t)upper_words * 4)) {
        DS_FREE(t->alloc, lv, lvcap);
        return;
    }
    upper_words = 0;
    for (id = 0; id < n && d->st == DS_OK; id++) {
        uint64_t label, hdr;
        size_t cnt;
        unsigned char *rec;
        uint32_t *ln;
        int is_new = 0;
        if (id == t->room) { /* arrived so far: grow to twice that, at most n */
            t->n = id;
            if ((d->st = ds__hn_grow(t, id > n / 2 ? n : 2 * (size_t)id)) != DS_OK) break;
        }
        label = ds__get_u64(d);
        hdr = ds__get_u64(d);
        cnt = (size_t)(hdr & 0xffffu);
        rec = ds__hn_rec(t, id);
        if (d->st != DS_OK) break;
        if ((hdr >> 16) > DS__HNSW_DELETED || cnt > t->M0) {
            d->st = DS_ECORRUPT;
            break;
        }
        t->level[id] = lv[id];
        t->uoff[id] = upper_words;
        upper_words += (size_t)lv[id] * (t->M + 1);
        memset(rec, 0, t->vec_off);
        ds__hn_set_count(t, id, 0, cnt);
        rec[2] = (unsigned char)(hdr >> 16);
        flagged += rec[2];
        ln = ds__hn_links(t, id, 0, &cnt);
        ds__hn_get_links(d, ln, cnt, t->M0);
        ds__hn_get_w(d, rec + t->vec_off, t->dim, t->dist16 ? 2 : 4);
        if (d->st != DS_OK) break;
        for (j = 0; j < cnt; j++)
            if (ln[j] >= n || ln[j] == id) d->st = DS_ECORRUPT;
        if (!ds__hn_vec_finite(t, id)) d->st = DS_ECORRUPT;
        memcpy(rec + t->label_off, &label, 8);
        if (d->st == DS_OK && (d->st = ds__vlabel_map_put(&t->map, label, id, &is_new)) == DS_OK && !is_new)
            d->st = DS_ECORRUPT;
    }
    t->n = 0; /* the caller sets it once everything checked out */
    DS_FREE(t->alloc, lv, lvcap);
    if (d->st != DS_OK) return;
    for (id = 0; id < n && d->st == DS_OK; id++) {
        size_t need = t->uoff[id] + (size_t)t->level[id] * (t->M + 1);
        if (need > t->ulen) { /* room for this element's layers, as they arrive */
            if ((d->st = ds__hn_arena(t, need - t->ulen)) != DS_OK) return;
            t->ulen = need;
        }
        for (lc = 1; lc <= t->level[id] && d->st == DS_OK; lc++) {
            uint32_t *u = t->upper + t->uoff[id] + (size_t)(lc - 1) * (t->M + 1);
            ds__hn_get_w32(d, u, 1);
            if (d->st != DS_OK) return;
            if (u[0] > t->M) {
                d->st = DS_ECORRUPT;
                return;
            }
            ds__hn_get_links(d, u + 1, u[0], t->M);
            for (j = 0; j < u[0] && d->st == DS_OK; j++)
                if (u[1 + j] >= n || u[1 + j] == id || t->level[u[1 + j]] < lc)
                    d->st = DS_ECORRUPT;
        }
    }
    if (d->st != DS_OK) return;
    /* The deleted list: exactly the flagged slots, each once. */
    if (flagged != ndel) {
        d->st = DS_ECORRUPT;
        return;
    }
    ds__hn_get_w32(d, t->del, ndel);
    if (d->st != DS_OK) return;
    for (i = 0; i < ndel; i++) {
        id = t->del[i];
        if (id >= n || !(ds__hn_rec(t, id)[2] & DS__HNSW_DELETED) || t->build.mark[id] == 1) {
            d->st = DS_ECORRUPT;
            break;
        }
        t->build.mark[id] = 1;
    }
    for (i = 0; i < ndel; i++)
        if (t->del[i] < n) t->build.mark[t->del[i]] = 0;
}

DSDEF ds_status ds_hnsw_load(ds_hnsw *h, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_hnsw t;
    ds_hnsw_params p;
    uint64_t v[8], rs[4], n, ndel, top, entry, per, storage = DS_HNSW_STORE_F32;
    uint32_t version;
    int i;
    if (!h) return DS_EINVAL;
    version = ds__dec_init_any(&d, r, "DShn", 1, DS__HNSW_FORMAT_F16);
    for (i = 0; i < 8; i++) v[i] = ds__get_u64(&d);
    if (version >= 2) storage = ds__get_u64(&d);
    for (i = 0; i < 4; i++) rs[i] = ds__get_u64(&d);
    n = ds__get_u64(&d);
    ndel = ds__get_u64(&d);
    top = ds__get_u64(&d);
    entry = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    /* Parameters exactly as init accepts them (no zero defaults here). */
    if (v[0] == 0 || v[0] > DS_VEC_MAX_DIM || v[1] < 1 || v[1] > 3 || v[2] < 2 ||
        v[2] > DS__HNSW_MAX_M || v[3] < 1 || v[3] > DS__HNSW_MAX_EF || v[4] < 1 ||
        v[4] > DS__HNSW_MAX_EF || v[5] > DS__HNSW_NOLIMIT || v[7] > 1 || storage > 1 ||
        n > (v[5] ? v[5] : DS__HNSW_NOLIMIT) || ndel > n || top > DS__HNSW_MAX_LEVEL + 1 ||
        (n == 0) != (top == 0) || (n ? entry >= n : entry != 0))
        return DS_ECORRUPT;
    /* Every element costs its level byte, label, header, full level-0 link
     * list and vector in the input: refuse counts the input cannot hold
     * (so the level-0 block allocated below is no larger than the input). */
    per = 1 + 16 + 8 * v[2] + (storage ? 2 : 4) * v[0];
    if (n > UINT64_MAX / per || !ds__dec_room(&d, n * per)) return DS_ECORRUPT;
    memset(&p, 0, sizeof p);
    p.dim = (size_t)v[0];
    p.metric = (ds_metric)v[1];
    p.M = (size_t)v[2];
    p.ef_construction = (size_t)v[3];
    p.ef_search = (size_t)v[4];
    p.max_elements = (size_t)v[5];
    p.seed = v[6];
    p.replace_deleted = (int)v[7];
    p.storage = (ds_hnsw_storage)storage;
    if (ds_hnsw_init(&t, &p, a) != DS_OK) return DS_ECORRUPT;
    for (i = 0; i < 4; i++) t.rng.s[i] = rs[i];
    if (n && (d.st = ds__hn_grow(&t, ds__vec_trust(&d, n, (size_t)per))) != DS_OK) {
        ds_hnsw_free(&t);
        return d.st;
    }
    ds__hn_get_payload(&d, &t, (size_t)n, (size_t)ndel);
    if (d.st == DS_OK && n && t.level[entry] != top - 1) d.st = DS_ECORRUPT;
    if (ds__dec_end(&d) != DS_OK) {
        ds_hnsw_free(&t);
        return d.st;
    }
    t.n = (size_t)n;
    t.ndel = (size_t)ndel;
    t.maxlevel = (int)top - 1;
    t.entry = (uint32_t)entry;
    *h = t;
    return DS_OK;
}

DSDEF ds_status ds_flat_save(const ds_flat *f, ds_writer w) {
    ds__enc e;
    size_t i;
    if (!f) return DS_EINVAL;
    ds__enc_init(&e, w, "DSfl", 1);
    ds__put_u64(&e, f->dim);
    ds__put_u64(&e, (uint64_t)f->metric);
    ds__put_u64(&e, f->len);
    /* Rows are normalised unless they came from a cosine view. */
    ds__put_u64(&e, (uint64_t)(f->view && f->metric == DS_METRIC_COSINE));
    for (i = 0; i < f->len; i++) {
        ds__put_u64(&e, f->view ? (uint64_t)i : f->labels[i]);
        ds__hn_put_w32(&e, f->data + i * f->stride, f->dim);
    }
    return ds__enc_end(&e);
}
DSDEF ds_status ds_flat_load(ds_flat *f, ds_reader *r, const ds_alloc *a) {
    ds__dec d;
    ds_flat t;
    uint64_t dim, metric, len, raw, i;
    if (!f) return DS_EINVAL;
    ds__dec_init(&d, r, "DSfl", 1);
    dim = ds__get_u64(&d);
    metric = ds__get_u64(&d);
    len = ds__get_u64(&d);
    raw = ds__get_u64(&d);
    if (d.st != DS_OK) return d.st;
    if (dim == 0 || dim > DS_VEC_MAX_DIM || metric < 1 || metric > 3 || raw > 1 ||
        len > UINT64_MAX / (8 + 4 * dim) || !ds__dec_room(&d, len * (8 + 4 * dim)) ||
        len > SIZE_MAX / (4 * dim))
        return DS_ECORRUPT;
    (void)ds_flat_init(&t, (size_t)dim, (ds_metric)metric, a);
    for (i = 0; i < len && d.st == DS_OK; i++) {
        float *row;
        int is_new = 0;
        if (i == t.cap) {
            /* Room for all len rows when the input's size is known (it can
             * hold them); through a pipe, about 1 MiB first, then doubling
             * as rows arrive. Rows and labels both, before anything moves. */
            size_t nc = t.cap ? (t.cap > len / 2 ? (size_t)len : 2 * t.cap)
                              : ds__vec_trust(&d, len, 8 + 4 * (size_t)dim);
            size_t vb = nc * (size_t)dim * sizeof(float), lb = nc * 8;
            float *nv = (float *)DS_MALLOC(a, vb);
            uint64_t *nl = (uint64_t *)DS_MALLOC(a, lb);
            if (!nv || !nl) {
                if (nv) DS_FREE(a, nv, vb);
                if (nl) DS_FREE(a, nl, lb);
                d.st = DS_ENOMEM;
                break;
            }
            if (t.len) {
                memcpy(nv, t.own, t.len * (size_t)dim * sizeof(float));
                memcpy(nl, t.labels, t.len * 8);
                DS_FREE(a, t.own, t.cap * (size_t)dim * sizeof(float));
                DS_FREE(a, t.labels, t.cap * 8);
            }
            t.own = nv;
            t.data = nv;
            t.labels = nl;
            t.cap = nc;
        }
        row = t.own + i * dim;
        t.labels[i] = ds__get_u64(&d);
        ds__hn_get_w32(&d, row, (size_t)dim);
        if (d.st != DS_OK) break;
        if (!ds__vec_finite(row, (size_t)dim)) d.st = DS_ECORRUPT;
        if (raw && ds_l2_normalize(row, (size_t)dim) != DS_OK) d.st = DS_ECORRUPT;
        if (d.st == DS_OK && (d.st = ds__vlabel_map_put(&t.map, t.labels[i], (size_t)i, &is_new)) == DS_OK &&
            !is_new)
            d.st = DS_ECORRUPT;
        t.len = (size_t)i + 1;
    }
    if (ds__dec_end(&d) != DS_OK) {
        ds_flat_free(&t);
        return d.st;
    }
    *f = t;
    return DS_OK;
}

/* -- TEXMEX .fvecs / .ivecs -- */

static ds_status ds__vecs_rd(ds_reader *r, void *p, size_t n) {
    ds_status st;
    if (r->avail < n) return DS_ECORRUPT;
    if ((st = r->read(r->ctx, p, n)) != DS_OK) return st;
    r->avail -= n;
    return DS_OK;
}
static ds_status ds__vecs_read(ds_reader *r, void **out, size_t *n, size_t *dim,
                               const ds_alloc *a) {
    unsigned char hb[4];
    uint32_t d0;
    uint64_t rec, cnt, i;
    size_t bytes;
    unsigned char *p;
    ds_status st;
    if (!r || !r->read || !out || !n || !dim || r->avail == UINT64_MAX) return DS_EINVAL;
    *out = NULL;
    *n = *dim = 0;
    if (r->avail == 0) return DS_OK;
    if ((st = ds__vecs_rd(r, hb, 4)) != DS_OK) return st;
    d0 = (uint32_t)hb[0] | (uint32_t)hb[1] << 8 | (uint32_t)hb[2] << 16 | (uint32_t)hb[3] << 24;
    if (d0 < 1 || d0 > DS_VEC_MAX_DIM) return DS_ECORRUPT;
    rec = 4 + 4 * (uint64_t)d0;
    if ((r->avail + 4) % rec) return DS_ECORRUPT;
    cnt = (r->avail + 4) / rec;
    if (cnt > SIZE_MAX / (4 * (size_t)d0)) return DS_ECORRUPT;
    bytes = (size_t)cnt * 4 * d0;
    if (!(p = (unsigned char *)DS_MALLOC(a, bytes))) return DS_ENOMEM;
    for (i = 0; i < cnt; i++) {
        unsigned char *row = p + (size_t)i * 4 * d0;
        size_t j;
        if (i && (st = ds__vecs_rd(r, hb, 4)) == DS_OK &&
            ((uint32_t)hb[0] | (uint32_t)hb[1] << 8 | (uint32_t)hb[2] << 16 |
             (uint32_t)hb[3] << 24) != d0)
            st = DS_ECORRUPT;
        if (st != DS_OK || (st = ds__vecs_rd(r, row, 4 * (size_t)d0)) != DS_OK) {
            DS_FREE(a, p, bytes);
            return st;
        }
        if (!ds__hn_host_le()) {
            for (j = 0; j < d0; j++) {
                const unsigned char *b = row + 4 * j;
                uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                             (uint32_t)b[3] << 24;
                memcpy(row + 4 * j, &u, 4);
            }
        }
    }
    *out = p;
    *n = (size_t)cnt;
    *dim = d0;
    return DS_OK;
}
DSDEF ds_status ds_fvecs_read(ds_reader *r, float **out, size_t *n, size_t *dim,
                              const ds_alloc *a) {
    void *p = NULL;
    ds_status st = ds__vecs_read(r, &p, n, dim, a);
    if (out) *out = (float *)p;
    return st;
}
DSDEF ds_status ds_ivecs_read(ds_reader *r, int32_t **out, size_t *n, size_t *dim,
                              const ds_alloc *a) {
    void *p = NULL;
    ds_status st = ds__vecs_read(r, &p, n, dim, a);
    if (out) *out = (int32_t *)p;
    return st;
}
DSDEF void ds_vecs_free(const ds_alloc *a, void *p, size_t n, size_t dim) {
    if (p) DS_FREE(a, p, n * dim * 4);
}
DSDEF ds_status ds_ivecs_read_labels(ds_reader *r, uint64_t **out, size_t *n, size_t *dim,
                                     const ds_alloc *a) {
    int32_t *ids = NULL;
    uint64_t *labels = NULL;
    size_t nn = 0, d = 0, i, total, bytes = 0;
    ds_status st;
    if (!out || !n || !dim) return DS_EINVAL;
    if ((st = ds_ivecs_read(r, &ids, &nn, &d, a)) != DS_OK) return st;
    total = nn * d; /* ds_ivecs_read held total * 4 bytes */
    if (total && (!ds_size_mul(total, sizeof *labels, &bytes) ||
                  !(labels = (uint64_t *)DS_MALLOC(a, bytes)))) {
        ds_vecs_free(a, ids, nn, d);
        return DS_ENOMEM;
    }
    for (i = 0; i < total; i++) {
        if (ids[i] < 0) {
            DS_FREE(a, labels, bytes);
            ds_vecs_free(a, ids, nn, d);
            return DS_ECORRUPT;
        }
        labels[i] = (uint64_t)ids[i];
    }
    ds_vecs_free(a, ids, nn, d);
    *out = labels;
    *n = nn;
    *dim = d;
    return DS_OK;
}
DSDEF void ds_labels_free(const ds_alloc *a, uint64_t *p, size_t n, size_t dim) {
    if (p) DS_FREE(a, p, n * dim * sizeof *p);
}

DSDEF ds_status ds_flat_ground_truth(const ds_flat *f, const float *qs, size_t nq, size_t k,
                                     uint64_t *labels) {
    size_t i, j, t;
    if (!f || (!qs && nq) || !k || k > f->len || (!labels && nq) || !ds_size_mul(nq, k, &t) ||
        k > SIZE_MAX / sizeof(ds_neighbor))
        return DS_EINVAL;
    for (i = 0; i < nq; i++) {
        /* Results go through a stack buffer for the usual small k. */
        ds_neighbor buf[64], *res = buf;
        size_t got;
        ds_status st;
        if (k > 64 && !(res = (ds_neighbor *)DS_MALLOC(f->alloc, k * sizeof *res)))
            return DS_ENOMEM;
        st = ds__flat_query(f, qs + i * f->dim, k, res, &got);
        for (j = 0; j < k && j < got && st == DS_OK; j++) labels[i * k + j] = res[j].label; /* got == k */
        if (res != buf) DS_FREE(f->alloc, res, k * sizeof *res);
        if (st != DS_OK) return st;
    }
    return DS_OK;
}
DSDEF double ds_recall_at_k(const ds_neighbor *res, size_t nres, const uint64_t *truth,
                            size_t k) {
    size_t i, j, hit = 0;
    if (!k || !truth || (!res && nres)) return 0.0;
    if (nres > k) nres = k;
    for (i = 0; i < k; i++)
        for (j = 0; j < nres; j++)
            if (res[j].label == truth[i]) {
                hit++;
                break;
            }
    return (double)hit / (double)k;
}
/*@end*/
#ifdef __cplusplus
}
#endif
#endif /* DS_SRC_VECIO_IMPL */
