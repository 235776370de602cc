/* tests/test_cache.c - DS_LRU: model-based (exact order, callbacks and
 * stats against a naive list), TTL edges, weights, allocation failure,
 * W-TinyLFU invariants, and hit rates on the real cache traces. */
#define _POSIX_C_SOURCE 200809L /* popen, for the compressed traces */
#include "prop.h"

DS_LRU(lru, uint32_t, uint32_t, ds_hash_u32, ds_eq_u32)

/* ---- the model: entries most recent first ---------------------------------- */

#define CM_MAX 64
typedef struct cm_entry {
    uint32_t key, val;
    int64_t deadline, ttl;
} cm_entry;
typedef struct cmodel {
    cm_entry e[CM_MAX + 2];
    size_t n, max_entries;
    uint64_t max_weight;
    int after_access;
    ds_cache_stats st;
} cmodel;

/* Callback log, shared by the cache (via on_evict) and the model. */
typedef struct ev {
    uint32_t key, val;
    ds_evict why;
} ev;
typedef struct evlog {
    ev e[256];
    size_t n;
} evlog;
static void ev_push(evlog *l, uint32_t k, uint32_t v, ds_evict why) {
    if (l->n < 256) {
        l->e[l->n].key = k;
        l->e[l->n].val = v;
        l->e[l->n].why = why;
    }
    l->n++;
}
static void on_evict_log(void *ctx, uint32_t *k, uint32_t *v, ds_evict why) {
    ev_push((evlog *)ctx, *k, *v, why);
}
static uint64_t weigh(void *ctx, const uint32_t *k, const uint32_t *v) {
    (void)ctx;
    (void)k;
    return 1 + *v % 4;
}

static uint64_t cm_weight(const cmodel *m) {
    uint64_t w = 0;
    size_t i;
    for (i = 0; i < m->n; i++) w += m->max_weight ? 1 + m->e[i].val % 4 : 1;
    return w;
}
static void cm_remove(cmodel *m, size_t i, ds_evict why, evlog *log, int call) {
    if (call) ev_push(log, m->e[i].key, m->e[i].val, why);
    m->st.evictions[why]++;
    memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof m->e[0]);
    m->n--;
}
static void cm_to_front(cmodel *m, size_t i) {
    cm_entry t = m->e[i];
    memmove(&m->e[1], &m->e[0], i * sizeof m->e[0]);
    m->e[0] = t;
}
/* Over a bound: dead entries go first (soonest deadline), then the LRU. */
static void cm_trim(cmodel *m, evlog *log, int64_t now) {
    while (m->n && ((m->max_entries && m->n > m->max_entries) ||
                    (m->max_weight && cm_weight(m) > m->max_weight))) {
        size_t j, best = SIZE_MAX;
        for (j = 0; j < m->n; j++)
            if (m->e[j].deadline <= now && (best == SIZE_MAX || m->e[j].deadline < m->e[best].deadline))
                best = j;
        if (best != SIZE_MAX) cm_remove(m, best, DS_EVICT_EXPIRED, log, 1);
        else cm_remove(m, m->n - 1, DS_EVICT_CAPACITY, log, 1);
    }
}
static long cm_find(const cmodel *m, uint32_t k) {
    size_t i;
    for (i = 0; i < m->n; i++)
        if (m->e[i].key == k) return (long)i;
    return -1;
}

/* Deadlines are made unique (now is a multiple of 2^20 and each TTL
 * carries a distinct low part), so expire()'s order is defined. */
static void cache_case(ds_rng *rng, uint64_t seed) {
    lru c;
    lru_config cfg;
    cmodel *m = (cmodel *)calloc(1, sizeof *m);
    evlog *got = (evlog *)calloc(1, sizeof *got), *want = (evlog *)calloc(1, sizeof *want);
    int64_t now = (int64_t)ds_rng_below(rng, 1000) << 20;
    int step;
    uint32_t seq = 1;
    CHECK(m && got && want);
    memset(&cfg, 0, sizeof cfg);
    m->max_entries = cfg.max_entries = (seed % 3 == 2) ? 0 : 1 + (size_t)ds_rng_below(rng, 20);
    m->max_weight = cfg.max_weight = (seed % 3 != 0) ? 4 + ds_rng_below(rng, 40) : 0;
    if (cfg.max_weight) cfg.weigher = weigh;
    m->after_access = cfg.expire_after_access = (int)(seed % 4 == 1);
    cfg.on_evict = on_evict_log;
    cfg.ctx = got;
    cfg.seed = seed;
    CHECK(lru_init(&c, &cfg) == DS_OK);
    for (step = 0; step < 1500; step++) {
        uint32_t k = (uint32_t)ds_rng_below(rng, 40), v = (uint32_t)ds_rng_below(rng, 1000);
        int op = (int)ds_rng_below(rng, 100);
        long i = cm_find(m, k);
        got->n = want->n = 0;
        if (ds_rng_below(rng, 4) == 0) now += (int64_t)ds_rng_below(rng, 4) << 20;
        if (op < 35) { /* get */
            uint32_t *p = lru_get(&c, k, now);
            if (i >= 0 && m->e[i].deadline <= now) {
                cm_remove(m, (size_t)i, DS_EVICT_EXPIRED, want, 1);
                i = -1;
            }
            if (i < 0) {
                m->st.misses++;
                CHECK(p == NULL);
            } else {
                m->st.hits++;
                CHECK(p && *p == m->e[i].val);
                if (m->after_access && m->e[i].ttl) m->e[i].deadline = now + m->e[i].ttl;
                cm_to_front(m, (size_t)i);
            }
        } else if (op < 70) { /* put, with the default (none) or a TTL */
            int64_t ttl = ds_rng_below(rng, 3) ? ((int64_t)(1 + ds_rng_below(rng, 6)) << 20) + seq++ : 0;
            CHECK(lru_put_ttl(&c, k, v, ttl, now) == DS_OK);
            if (i >= 0 && m->e[i].deadline <= now) { /* over a dead entry: an expiry */
                cm_remove(m, (size_t)i, DS_EVICT_EXPIRED, want, 1);
                i = -1;
            }
            if (i >= 0) {
                ev_push(want, m->e[i].key, m->e[i].val, DS_EVICT_REPLACED);
                m->st.evictions[DS_EVICT_REPLACED]++;
                cm_to_front(m, (size_t)i);
            } else {
                memmove(&m->e[1], &m->e[0], m->n * sizeof m->e[0]);
                m->n++;
            }
            m->e[0].key = k;
            m->e[0].val = v;
            m->e[0].ttl = ttl;
            m->e[0].deadline = ttl ? now + ttl : INT64_MAX;
            cm_trim(m, want, now);
        } else if (op < 80) { /* del, half with an out pointer */
            uint32_t out = 12345;
            int with_out = (int)ds_rng_below(rng, 2);
            ds_status s = lru_del(&c, k, with_out ? &out : NULL, now);
            if (i >= 0 && m->e[i].deadline <= now) { /* expired: gone, not deleted */
                cm_remove(m, (size_t)i, DS_EVICT_EXPIRED, want, 1);
                i = -1;
            }
            if (i < 0) {
                CHECK(s == DS_ENOTFOUND);
            } else {
                CHECK(s == DS_OK);
                if (with_out) CHECK(out == m->e[i].val);
                cm_remove(m, (size_t)i, DS_EVICT_DELETED, want, !with_out);
            }
        } else if (op < 88) { /* expire with a budget */
            size_t budget = (size_t)ds_rng_below(rng, 4), done = 0, n;
            n = lru_expire(&c, now, budget);
            while (done < budget) {
                size_t j, best = SIZE_MAX;
                for (j = 0; j < m->n; j++)
                    if (m->e[j].deadline <= now && (best == SIZE_MAX || m->e[j].deadline < m->e[best].deadline))
                        best = j;
                if (best == SIZE_MAX) break;
                cm_remove(m, best, DS_EVICT_EXPIRED, want, 1);
                done++;
            }
            CHECK(n == done);
        } else if (op < 92) { /* resize */
            size_t me = m->max_entries ? 1 + (size_t)ds_rng_below(rng, 20) : 0;
            uint64_t mw = m->max_weight ? 4 + ds_rng_below(rng, 40) : 0;
            CHECK(lru_set_capacity(&c, me, mw, now) == DS_OK);
            m->max_entries = me;
            m->max_weight = mw;
            cm_trim(m, want, now);
        } else if (op < 97) { /* peek: no change */
            uint32_t *p = lru_peek(&c, k, now);
            if (i >= 0 && m->e[i].deadline > now) CHECK(p && *p == m->e[i].val);
            else CHECK(p == NULL);
        } else if (op < 98) {
            lru_clear(&c);
            while (m->n) cm_remove(m, m->n - 1, DS_EVICT_DELETED, want, 1);
        } else {
            /* A bad TTL: nothing changes. */
            CHECK(lru_put_ttl(&c, k, v, -1, now) == DS_EINVAL);
        }
        /* Same callbacks in the same order, same contents in the same
         * order, same stats. */
        CHECKF(got->n == want->n, "step %d op %d: %zu callbacks, model %zu", step, op, got->n, want->n);
        {
            size_t j;
            for (j = 0; j < got->n && j < 256; j++)
                CHECKF(got->e[j].key == want->e[j].key && got->e[j].val == want->e[j].val &&
                           got->e[j].why == want->e[j].why,
                       "step %d callback %zu: (%u,%u,%s) want (%u,%u,%s)", step, j, got->e[j].key,
                       got->e[j].val, ds_evict_name(got->e[j].why), want->e[j].key, want->e[j].val,
                       ds_evict_name(want->e[j].why));
        }
        CHECKF(lru_len(&c) == m->n, "step %d: len %zu model %zu", step, lru_len(&c), m->n);
        CHECK(lru_weight(&c) == cm_weight(m));
        {
            uint32_t it = lru_first(&c);
            size_t j = 0;
            for (; it != DS_CACHE_END; it = lru_next(&c, it), j++)
                CHECKF(j < m->n && *lru_key(&c, it) == m->e[j].key && *lru_val(&c, it) == m->e[j].val,
                       "step %d: order differs at %zu", step, j);
            CHECK(j == m->n);
        }
        {
            ds_cache_stats s = lru_stats(&c);
            CHECK(memcmp(&s, &m->st, sizeof s) == 0);
        }
    }
    lru_free(&c);
    free(m);
    free(got);
    free(want);
}
void test_cache_model(void) { prop_run("cache_model", cache_case, 80); }

/* ---- edges ------------------------------------------------------------------- */

static ds_status load_sq(void *lctx, const uint32_t *key, uint32_t *out, int64_t *ttl) {
    int *calls = (int *)lctx;
    (*calls)++;
    if (*key >= 1000) return *key == 1000 ? DS_ENOTFOUND : DS_EIO;
    *out = *key * *key;
    if (*key == 7) *ttl = 5;
    return DS_OK;
}

void test_cache_edges(void) {
    lru c;
    lru_config cfg;
    uint32_t *p;
    int calls = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = 4;
    cfg.default_ttl = 100;
    cfg.negative_ttl = 50;
    cfg.seed = 1;
    CHECK(lru_init(NULL, &cfg) == DS_EINVAL);
    cfg.default_ttl = -1;
    CHECK(lru_init(&c, &cfg) == DS_EINVAL);
    cfg.default_ttl = 100;
    CHECK(lru_init(&c, &cfg) == DS_OK);
    /* Expiry exactly at now: dead. */
    CHECK(lru_put(&c, 1, 10, 0) == DS_OK);
    CHECK(lru_peek(&c, 1, 99) != NULL && lru_peek(&c, 1, 100) == NULL);
    CHECK(lru_get(&c, 1, 100) == NULL && lru_len(&c) == 0);
    CHECK(lru_stats(&c).evictions[DS_EVICT_EXPIRED] == 1);
    /* TTL 0: never expires; a deadline past the end of time saturates at
     * INT64_MAX - 1 instead of refusing every put (issue 15, defect 7). */
    CHECK(lru_put_ttl(&c, 2, 20, 0, 0) == DS_OK);
    CHECK(lru_get(&c, 2, INT64_MAX) != NULL);
    CHECK(lru_put_ttl(&c, 3, 30, INT64_MAX - 5, 10) == DS_OK && lru_peek(&c, 3, INT64_MAX - 2) != NULL);
    CHECK(lru_peek(&c, 3, INT64_MAX - 1) == NULL && lru_del(&c, 3, NULL, 10) == DS_OK);
    CHECK(lru_put_ttl(&c, 3, 30, -5, 10) == DS_EINVAL && lru_len(&c) == 1);
    /* Read-through: one load per miss, errors cache nothing, DS_ENOTFOUND
     * is cached negatively for negative_ttl. */
    CHECK(lru_get_or_load(&c, 5, 0, load_sq, &calls, &p) == DS_OK && p && *p == 25 && calls == 1);
    CHECK(lru_get_or_load(&c, 5, 1, load_sq, &calls, &p) == DS_OK && *p == 25 && calls == 1);
    CHECK(lru_get_or_load(&c, 7, 1, load_sq, &calls, &p) == DS_OK && calls == 2);
    CHECK(lru_peek(&c, 7, 5) != NULL && lru_peek(&c, 7, 6) == NULL); /* the loader's TTL */
    CHECK(lru_get_or_load(&c, 2000, 1, load_sq, &calls, &p) == DS_EIO && p == NULL && calls == 3);
    CHECK(lru_get_or_load(&c, 2000, 1, load_sq, &calls, &p) == DS_EIO && calls == 4);
    CHECK(lru_get_or_load(&c, 1000, 1, load_sq, &calls, &p) == DS_ENOTFOUND && calls == 5);
    {
        /* A cached "not found" answers without a load, and is a miss (no
         * value came back), counted as a negative hit (issue 15, defect 11). */
        ds_cache_stats before = lru_stats(&c), after;
        CHECK(lru_get_or_load(&c, 1000, 50, load_sq, &calls, &p) == DS_ENOTFOUND && calls == 5);
        CHECK(lru_get(&c, 1000, 50) == NULL);
        after = lru_stats(&c);
        CHECK(after.hits == before.hits && after.misses == before.misses + 2);
        CHECK(after.negative_hits == before.negative_hits + 2);
    }
    CHECK(lru_get_or_load(&c, 1000, 51, load_sq, &calls, &p) == DS_ENOTFOUND && calls == 6);
    {
        ds_cache_stats s = lru_stats(&c);
        CHECK(s.loads == 2 && s.load_errors == 4);
        CHECK(ds_cache_hit_rate(&s) > 0.0 && ds_cache_hit_rate(&s) < 1.0);
    }
    CHECK(lru_get_or_load(&c, 1, 0, NULL, NULL, &p) == DS_EINVAL);
    lru_free(&c);
    /* A full cache drops dead entries before live ones. */
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = 2;
    CHECK(lru_init(&c, &cfg) == DS_OK);
    CHECK(lru_put_ttl(&c, 1, 10, 5, 0) == DS_OK && lru_put(&c, 2, 20, 0) == DS_OK);
    CHECK(lru_get(&c, 1, 1) != NULL);                 /* 1 is the most recent... */
    CHECK(lru_put(&c, 3, 30, 10) == DS_OK);           /* ...but dead at 10 */
    CHECK(lru_peek(&c, 2, 10) != NULL && lru_peek(&c, 3, 10) != NULL && lru_len(&c) == 2);
    CHECK(lru_stats(&c).evictions[DS_EVICT_EXPIRED] == 1 && lru_stats(&c).evictions[DS_EVICT_CAPACITY] == 0);
    lru_free(&c);
    /* W-TinyLFU needs exactly one bound. */
    memset(&cfg, 0, sizeof cfg);
    cfg.policy = DS_CACHE_WTINYLFU;
    CHECK(lru_init(&c, &cfg) == DS_EINVAL);
    cfg.max_entries = 10;
    cfg.max_weight = 10;
    CHECK(lru_init(&c, &cfg) == DS_EINVAL);
    cfg.max_weight = 0;
    CHECK(lru_init(&c, &cfg) == DS_OK);
    CHECK(lru_set_capacity(&c, 0, 5, 0) == DS_EINVAL);
    lru_free(&c);
    /* An unbounded cache grows; NULL cache arguments are harmless. */
    CHECK(lru_init(&c, NULL) == DS_OK);
    {
        uint32_t k;
        for (k = 0; k < 5000; k++) CHECK(lru_put(&c, k, k + 1, 0) == DS_OK);
        CHECK(lru_len(&c) == 5000);
        for (k = 0; k < 5000; k++) CHECK((p = lru_get(&c, k, 0)) && *p == k + 1);
        for (k = 0; k < 5000; k += 2) CHECK(lru_del(&c, k, NULL, 0) == DS_OK);
        for (k = 0; k < 5000; k += 2) CHECK(lru_put(&c, k + 10000, k, 0) == DS_OK);
        CHECK(lru_len(&c) == 5000 && lru_memory(&c) > 5000 * 8);
    }
    lru_free(&c);
    CHECK(lru_get(NULL, 1, 0) == NULL && lru_put(NULL, 1, 1, 0) == DS_EINVAL && lru_len(NULL) == 0);
}

/* Allocation failure: a failed put changes nothing. */
static int cache_oom_seq(uint64_t seed, prop_alloc *pa) {
    lru c;
    lru_config cfg;
    ds_rng r;
    int step;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = seed % 2 ? 50 : 0;
    cfg.policy = seed % 3 == 0 && cfg.max_entries ? DS_CACHE_WTINYLFU : DS_CACHE_LRU;
    cfg.alloc = &pa->a;
    cfg.seed = seed;
    {
        long before = PROP_FAILS(pa);
        ds_status s = lru_init(&c, &cfg);
        if (s == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            return 0;
        }
        CHECK_OR(s == DS_OK, 1);
    }
    ds_rng_seed(&r, seed);
    for (step = 0; step < 300; step++) {
        uint32_t k = (uint32_t)ds_rng_below(&r, 120);
        size_t len = lru_len(&c);
        int had = lru_peek(&c, k, 0) != NULL;
        long before = PROP_FAILS(pa);
        size_t mem0 = lru_memory(&c);
        ds_cache_stats st0 = lru_stats(&c);
        uint64_t adds0 = c.c.freq.adds;
        ds_status s = lru_put(&c, k, k * 3, 0);
        if (s == DS_ENOMEM) {
            /* nothing observable moved: contents, memory, stats, the sketch */
            ds_cache_stats st1 = lru_stats(&c);
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before), 1);
            CHECK_OR(lru_len(&c) == len && (lru_peek(&c, k, 0) != NULL) == had, 1);
            CHECK_OR(lru_memory(&c) == mem0 && memcmp(&st0, &st1, sizeof st0) == 0 && c.c.freq.adds == adds0, 1);
        } else {
            uint32_t *p = lru_get(&c, k, 0);
            CHECK_OR(s == DS_OK, 1);
            /* W-TinyLFU may decline to admit a new key. */
            CHECK_OR(cfg.policy == DS_CACHE_WTINYLFU || (p && *p == k * 3), 1);
        }
    }
    lru_free(&c);
    return 0;
}
void test_cache_oom(void) {
    long total = 0;
    int i;
    for (i = 1; i <= 3; i++) CHECK(prop_oom_sweep(cache_oom_seq, (uint64_t)i, &total) == 0);
    CHECK(total > 5);
}

/* W-TinyLFU: bounds hold, segments add up, a hot set survives a scan that
 * flushes plain LRU. */
void test_cache_tinylfu(void) {
    lru c, l;
    lru_config cfg;
    uint32_t k, round;
    uint64_t hits_t = 0, hits_l = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = 200;
    cfg.seed = 3;
    CHECK(lru_init(&l, &cfg) == DS_OK);
    cfg.policy = DS_CACHE_WTINYLFU;
    CHECK(lru_init(&c, &cfg) == DS_OK);
    for (round = 0; round < 50; round++) {
        for (k = 0; k < 100; k++) { /* hot set, touched every round */
            if (lru_get(&c, k, 0)) hits_t++; else CHECK(lru_put(&c, k, k, 0) == DS_OK);
            if (lru_get(&l, k, 0)) hits_l++; else CHECK(lru_put(&l, k, k, 0) == DS_OK);
        }
        for (k = 0; k < 300; k++) { /* a scan of one-time keys */
            uint32_t once = 1000000 + round * 1000 + k;
            if (!lru_get(&c, once, 0)) CHECK(lru_put(&c, once, 0, 0) == DS_OK);
            if (!lru_get(&l, once, 0)) CHECK(lru_put(&l, once, 0, 0) == DS_OK);
        }
        CHECK(lru_len(&c) <= 200 && lru_len(&l) <= 200);
        CHECK(c.c.segw[0] + c.c.segw[1] + c.c.segw[2] == lru_len(&c));
        CHECK(c.c.segw[DS__CSEG_WINDOW] <= c.wmax && c.c.segw[DS__CSEG_PROTECTED] <= c.prot_max);
    }
    /* LRU loses the hot set to every scan; W-TinyLFU keeps nearly all of it. */
    CHECKF(hits_t > 4000 && hits_l == 0, "hot-set hits: W-TinyLFU %llu, LRU %llu",
           (unsigned long long)hits_t, (unsigned long long)hits_l);
    lru_free(&c);
    lru_free(&l);
}

/* ---- hit rates on the real traces ------------------------------------------ */

/* Reads keys from `cmd` (a decompressor pipe): text, one number per line
 * (or the first of four fields, expanded by the second, for ARC), or
 * big-endian int32 for cache2k. */
typedef struct trace {
    uint32_t *k;
    size_t n, cap;
} trace;
static int trace_push(trace *t, uint32_t k) {
    if (t->n == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 1 << 16;
        uint32_t *p = (uint32_t *)realloc(t->k, nc * sizeof *p);
        if (!p) return 0;
        t->k = p;
        t->cap = nc;
    }
    t->k[t->n++] = k;
    return 1;
}
/* Reads <prop_data_dir()>/cache-traces/<file> through gzip, zstd or xz:
 * 1 loaded, -1 no such file, 0 present but unreadable (no tool, a damaged
 * or empty stream, out of memory). */
static int trace_load(trace *t, const char *file, int kind) {
    char cmd[600], path[512], line[256];
    FILE *f;
    int ok = 1;
    memset(t, 0, sizeof *t);
    snprintf(path, sizeof path, "%s/cache-traces/%s", prop_data_dir(), file);
    if (!(f = fopen(path, "rb"))) return -1;
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s -dc '%s' 2>/dev/null", kind == 0 ? "gzip" : kind == 1 ? "zstd" : "xz",
             path);
    if (!(f = popen(cmd, "r"))) return 0;
    if (kind == 2) {
        unsigned char b[4];
        while (fread(b, 1, 4, f) == 4)
            if (!trace_push(t, (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3])) {
                ok = 0;
                break;
            }
    } else {
        while (fgets(line, sizeof line, f)) {
            unsigned long long a = 0, cnt = 1, j;
            if (line[0] < '0' || line[0] > '9') continue; /* "*", blank lines */
            if (kind == 1) {
                if (sscanf(line, "%llu %llu", &a, &cnt) != 2) continue;
            } else {
                a = strtoull(line, NULL, 10);
            }
            for (j = 0; j < cnt && ok; j++) ok = trace_push(t, (uint32_t)(a + j));
            if (!ok) break;
        }
    }
    /* the decompressor's exit status: a missing file or tool, or a damaged
     * stream, must not pass as a shorter trace */
    if (pclose(f) != 0) ok = 0;
    return ok && t->n > 0;
}
static uint64_t replay_seed(const trace *t, size_t cap, ds_cache_policy pol, uint64_t seed) {
    lru c;
    lru_config cfg;
    size_t i;
    uint64_t hits = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = cap;
    cfg.policy = pol;
    cfg.seed = seed;
    if (lru_init(&c, &cfg) != DS_OK) return 0;
    for (i = 0; i < t->n; i++) {
        if (lru_get(&c, t->k[i], 0)) hits++;
        else if (lru_put(&c, t->k[i], 0, 0) != DS_OK) break;
    }
    lru_free(&c);
    return hits;
}
static uint64_t replay(const trace *t, size_t cap, ds_cache_policy pol) { return replay_seed(t, cap, pol, 42); }

/* W-TinyLFU beside Caffeine's published figures (issue 15, defect 5):
 * within 5% of each, over 5 seeds, with a spread of at most 2 points. */
static void tinylfu_vs_caffeine(const trace *t, const char *name, size_t cap, double published) {
    double lo = 100.0, hi = 0.0;
    uint64_t s;
    for (s = 0; s < 5; s++) {
        double r = 100.0 * (double)replay_seed(t, cap, DS_CACHE_WTINYLFU, 42 + s * 7919) / (double)t->n;
        if (r < lo) lo = r;
        if (r > hi) hi = r;
    }
    if (prop_env_long("DS_VERBOSE", 0))
        printf("  %-24s %6zu  W-TinyLFU %.2f..%.2f%%  Caffeine %.1f%%\n", name, cap, lo, hi, published);
    CHECKF(lo >= 0.95 * published && hi - lo <= 2.0, "%s@%zu: W-TinyLFU %.2f..%.2f%%, Caffeine %.1f%%", name, cap, lo,
           hi, published);
}

/* The exact LRU hit counts from tests/data/README.md, and W-TinyLFU beside
 * them. The traces ship in tests/data: a missing one there fails the test;
 * under DS_DATA=<dir> (another copy) a missing one is a counted skip. A
 * trace that is present but does not decompress always fails. */
void test_cache_traces(void) {
    static const struct {
        const char *file;
        int kind;
        size_t caps[5];
        uint64_t lru_hits[5];
        int frequency_friendly;
    } T[] = {
        {"lirs/2_pools.trace.gz", 0, {100, 200, 500, 1000, 2000}, {21946, 36794, 51062, 54415, 59326}, 0},
        {"lirs/backf.trace.gz", 0, {100, 200, 500, 1000, 2000}, {1100, 2200, 5500, 8249, 8249}, 0},
        {"lirs/cpp.trace.gz", 0, {100, 200, 500, 1000, 2000}, {6307, 7433, 7670, 7817, 7824}, 1},
        {"lirs/cs.trace.gz", 0, {100, 200, 500, 1000, 2000}, {124, 124, 124, 124, 5372}, 0},
        {"lirs/gli.trace.gz", 0, {100, 200, 500, 1000, 2000}, {55, 55, 57, 674, 3453}, 1},
        {"lirs/loop.trace.gz", 0, {100, 200, 500, 1000, 2000}, {0, 0, 0, 0, 504489}, 1},
        {"lirs/multi1.trace.gz", 0, {100, 200, 500, 1000, 2000}, {2881, 6458, 7375, 7648, 13196}, 1},
        {"lirs/multi2.trace.gz", 0, {100, 200, 500, 1000, 2000}, {1772, 4659, 9466, 12577, 12892}, 1},
        {"lirs/multi3.trace.gz", 0, {100, 200, 500, 1000, 2000}, {1978, 4459, 9875, 11401, 13485}, 1},
        {"lirs/ps.trace.gz", 0, {100, 200, 500, 1000, 2000}, {770, 1274, 5072, 5072, 7364}, 1},
        {"lirs/scan.trace.gz", 0, {100, 200, 500, 1000, 2000}, {0, 0, 0, 0, 0}, 1},
        {"lirs/sprite.trace.gz", 0, {100, 200, 500, 1000, 2000}, {28917, 53435, 104922, 121452, 125255}, 0},
        {"lirs/zigzag.trace.gz", 0, {100, 200, 500, 1000, 2000}, {2475, 4975, 12475, 24975, 49975}, 0},
        {"cache2k/web07.trace.xz", 2, {500, 1000, 2000, 5000, 10000}, {34693, 38368, 42245, 47702, 52519}, 0},
        {"cache2k/web12.trace.xz", 2, {500, 1000, 2000, 5000, 10000}, {53329, 61882, 69371, 77153, 81091}, 0},
        {"arc/OLTP.lis.zst", 1, {1000, 2000, 5000, 10000, 15000}, {300122, 388235, 490443, 554906, 590851}, 0},
    };
    size_t i, j;
    int verbose = (int)prop_env_long("DS_VERBOSE", 0);
    for (i = 0; i < sizeof T / sizeof T[0]; i++) {
        trace t;
        int ld = trace_load(&t, T[i].file, T[i].kind);
        if (ld != 1) {
            free(t.k);
            CHECKF(ld != 0, "%s/cache-traces/%s: %s -dc failed (tool missing or damaged file)",
                   prop_data_dir(), T[i].file, T[i].kind == 0 ? "gzip" : T[i].kind == 1 ? "zstd" : "xz");
            CHECKF(prop_data_overridden(), "%s/cache-traces/%s missing (run from the repository root)",
                   prop_data_dir(), T[i].file);
            prop_skip("%s/cache-traces/%s missing (DS_DATA)", prop_data_dir(), T[i].file);
            continue;
        }
        for (j = 0; j < 5; j++) {
            uint64_t l = replay(&t, T[i].caps[j], DS_CACHE_LRU);
            uint64_t w = replay(&t, T[i].caps[j], DS_CACHE_WTINYLFU);
            if (verbose)
                printf("  %-24s %6zu  LRU %6.2f%%  W-TinyLFU %6.2f%%\n", T[i].file, T[i].caps[j],
                       100.0 * (double)l / (double)t.n, 100.0 * (double)w / (double)t.n);
            CHECKF(l == T[i].lru_hits[j], "%s @%zu: LRU hits %llu, reference %llu", T[i].file,
                   T[i].caps[j], (unsigned long long)l, (unsigned long long)T[i].lru_hits[j]);
            /* W-TinyLFU regressions: it must not fall below LRU on the traces
             * where frequency matters (the README lists where it does fall
             * below: LRU-friendly loops and recency-heavy sizes). */
            if (T[i].frequency_friendly)
                CHECKF(w >= l, "%s @%zu: W-TinyLFU %llu hits < LRU %llu", T[i].file, T[i].caps[j],
                       (unsigned long long)w, (unsigned long long)l);
        }
        if (strstr(T[i].file, "OLTP")) { /* Caffeine's published ~39.5% at 1000 */
            uint64_t w = replay(&t, 1000, DS_CACHE_WTINYLFU);
            CHECKF((double)w / (double)t.n >= 0.39, "OLTP@1000 W-TinyLFU %.2f%%", 100.0 * (double)w / (double)t.n);
        }
        if (strstr(T[i].file, "gli")) {
            tinylfu_vs_caffeine(&t, T[i].file, 250, 16.0);
            tinylfu_vs_caffeine(&t, T[i].file, 500, 34.0);
            tinylfu_vs_caffeine(&t, T[i].file, 750, 43.5);
        }
        if (strstr(T[i].file, "OLTP")) tinylfu_vs_caffeine(&t, T[i].file, 1000, 39.5);
        if (strstr(T[i].file, "gli")) { /* Caffeine's published ~43.5% at 750 */
            uint64_t w = replay(&t, 750, DS_CACHE_WTINYLFU), l = replay(&t, 750, DS_CACHE_LRU);
            if (verbose)
                printf("  %-24s %6d  LRU %6.2f%%  W-TinyLFU %6.2f%%\n", T[i].file, 750,
                       100.0 * (double)l / (double)t.n, 100.0 * (double)w / (double)t.n);
            CHECKF((double)w / (double)t.n >= 0.40, "gli@750 W-TinyLFU %.2f%%", 100.0 * (double)w / (double)t.n);
        }
        free(t.k);
    }
}

/* ---- memoization -------------------------------------------------------------- */

static int g_calls;
static uint64_t slow_square(uint32_t x) {
    g_calls++;
    return (uint64_t)x * x;
}
DS_MEMO(sqmemo, uint32_t, uint64_t, slow_square, ds_hash_u32, ds_eq_u32)

void test_cache_memo(void) {
    sqmemo m;
    ds_memo_info i;
    uint32_t x;
    g_calls = 0;
    CHECK(sqmemo_init(&m, 3, NULL) == DS_OK);
    for (x = 0; x < 3; x++) CHECK(sqmemo_call(&m, x) == (uint64_t)x * x);
    for (x = 0; x < 3; x++) CHECK(sqmemo_call(&m, x) == (uint64_t)x * x);
    CHECK(g_calls == 3);
    CHECK(sqmemo_call(&m, 7) == 49 && g_calls == 4); /* evicts 0, the LRU */
    CHECK(sqmemo_call(&m, 0) == 0 && g_calls == 5);
    i = sqmemo_info(&m);
    CHECK(i.hits == 3 && i.misses == 5 && i.maxsize == 3 && i.currsize == 3);
    sqmemo_clear(&m);
    i = sqmemo_info(&m);
    CHECK(i.hits == 0 && i.misses == 0 && i.currsize == 0);
    CHECK(sqmemo_call(&m, 1) == 1 && g_calls == 6);
    sqmemo_free(&m);
    /* TTLs set through init_config expire (issue 15, defect 11: the call
     * passed now = 0, so they never did): on the caller's clock ... */
    {
        sqmemo_lru_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.max_entries = 8;
        cfg.default_ttl = 100;
        CHECK(sqmemo_init_config(&m, &cfg) == DS_OK);
        g_calls = 0;
        CHECK(sqmemo_call_at(&m, 3, 1000) == 9 && sqmemo_call_at(&m, 3, 1099) == 9 && g_calls == 1);
        CHECK(sqmemo_call_at(&m, 3, 1100) == 9 && g_calls == 2); /* expired: computed again */
        sqmemo_free(&m);
        /* ... and on ds_now_ns() through name_call */
        cfg.default_ttl = 1; /* 1 ns: gone by the next call */
        CHECK(sqmemo_init_config(&m, &cfg) == DS_OK);
        g_calls = 0;
        CHECK(sqmemo_call(&m, 4) == 16);
        {
            int64_t t0 = ds_now_ns();
            while (ds_now_ns() <= t0 + 1) {} /* past the 1 ns TTL, surely */
        }
        CHECK(sqmemo_call(&m, 4) == 16 && g_calls == 2);
        sqmemo_free(&m);
    }
}

/* ---- idempotency keys ---------------------------------------------------------- */

void test_idem_states(void) {
    ds_idem s;
    ds_idem_config cfg;
    ds_idem_state st;
    uint64_t t = 0, t1 = 0, t2 = 0;
    const void *resp;
    size_t rlen;
    const int64_t sec = 1000000000;
    memset(&cfg, 0, sizeof cfg);
    cfg.lock_timeout = 30 * sec;
    cfg.retention = 3600 * sec;
    cfg.max_in_flight = 2;
    CHECK(ds_idem_init(&s, &cfg) == DS_OK);
    /* NEW -> IN_FLIGHT for a duplicate -> MISMATCH for another body. */
    /* NEW -> IN_FLIGHT for a duplicate -> MISMATCH for another body. */
    CHECK(ds_idem_begin(&s, "acct1", 5, "k1", 2, 111, 0, &st, &t1, &resp, &rlen) == DS_OK && st == DS_IDEM_NEW && t1 != 0);
    CHECK(ds_idem_begin(&s, "acct1", 5, "k1", 2, 111, 1, &st, &t, &resp, &rlen) == DS_OK && st == DS_IDEM_IN_FLIGHT && t == 0);
    CHECK(ds_idem_begin(&s, "acct1", 5, "k1", 2, 222, 1, &st, &t, &resp, &rlen) == DS_OK && st == DS_IDEM_MISMATCH && t == 0);
    /* Another tenant's equal key is a different record; length prefixes
     * keep ("acct1","k1") apart from ("acct1k","1"). */
    CHECK(ds_idem_begin(&s, "acct2", 5, "k1", 2, 999, 1, &st, &t2, NULL, NULL) == DS_OK && st == DS_IDEM_NEW && t2 > t1);
    CHECK(ds_idem_begin(&s, "acct1k", 6, "1", 1, 5, 1, &st, &t, NULL, NULL) == DS_EFULL); /* max_in_flight */
    CHECK(ds_idem_in_flight(&s) == 2);
    /* complete -> DONE with the stored response; a different body -> MISMATCH. */
    CHECK(ds_idem_complete(&s, "acct1", 5, "k1", 2, t2, "charged 10", 10, 2) == DS_EMISMATCH); /* not its token */
    CHECK(ds_idem_complete(&s, "acct1", 5, "k1", 2, t1, "charged 10", 10, 2) == DS_OK);
    CHECK(ds_idem_begin(&s, "acct1", 5, "k1", 2, 111, 3, &st, NULL, &resp, &rlen) == DS_OK && st == DS_IDEM_DONE);
    CHECK(rlen == 10 && memcmp(resp, "charged 10", 10) == 0);
    CHECK(ds_idem_begin(&s, "acct1", 5, "k1", 2, 333, 3, &st, NULL, &resp, &rlen) == DS_OK && st == DS_IDEM_MISMATCH);
    CHECK(resp == NULL && rlen == 0);
    CHECK(ds_idem_complete(&s, "acct1", 5, "k1", 2, t1, "x", 1, 3) == DS_ENOTFOUND); /* not in flight */
    CHECK(ds_idem_in_flight(&s) == 1 && ds_idem_done(&s) == 1);
    /* abandon releases: the retry runs as NEW. */
    CHECK(ds_idem_abandon(&s, "acct2", 5, "k1", 2, t1) == DS_EMISMATCH);
    CHECK(ds_idem_abandon(&s, "acct2", 5, "k1", 2, t2) == DS_OK);
    CHECK(ds_idem_abandon(&s, "acct2", 5, "k1", 2, t2) == DS_ENOTFOUND);
    CHECK(ds_idem_begin(&s, "acct2", 5, "k1", 2, 999, 4, &st, &t1, NULL, NULL) == DS_OK && st == DS_IDEM_NEW);
    /* A lock older than lock_timeout is taken over, with a new token. */
    CHECK(ds_idem_begin(&s, "acct2", 5, "k1", 2, 999, 4 + 29 * sec, &st, NULL, NULL, NULL) == DS_OK && st == DS_IDEM_IN_FLIGHT);
    CHECK(ds_idem_begin(&s, "acct2", 5, "k1", 2, 999, 4 + 30 * sec, &st, &t2, NULL, NULL) == DS_OK && st == DS_IDEM_NEW);
    CHECK(t2 > t1);
    /* Retention: the done record expires (lazily, or by expire()). */
    CHECK(ds_idem_begin(&s, "acct1", 5, "k1", 2, 111, 2 + 3600 * sec - 1, &st, NULL, NULL, NULL) == DS_OK && st == DS_IDEM_DONE);
    CHECK(ds_idem_expire(&s, 2 + 3600 * sec, 10) == 1 && ds_idem_done(&s) == 0);
    CHECK(ds_idem_begin(&s, "acct1", 5, "k1", 2, 111, 2 + 3600 * sec, &st, NULL, NULL, NULL) == DS_OK && st == DS_IDEM_NEW);
    /* Bad input. */
    CHECK(ds_idem_begin(&s, NULL, 3, "k", 1, 1, 0, &st, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_idem_begin(&s, "a", 1, "k", 1, 1, 0, NULL, NULL, NULL, NULL) == DS_EINVAL);
    CHECK(ds_idem_complete(&s, "a", 1, "k", 1, 1, NULL, 4, 0) == DS_EINVAL);
    ds_idem_free(&s);
    cfg.retention = -1;
    CHECK(ds_idem_init(&s, &cfg) == DS_EINVAL);
    ds_idem_free(&s);
}

/* Fencing (issue 15, defect 3): A begins with a 1 us lock, goes quiet; B
 * takes the key over after the lock timeout. A's late complete must be
 * refused, B's accepted, and a retry must replay B's response. Before the
 * tokens, A's complete was stored and B's got DS_ENOTFOUND. */
void test_idem_fencing(void) {
    ds_idem s;
    ds_idem_config cfg;
    ds_idem_state st;
    uint64_t ta = 0, tb = 0;
    const void *resp = NULL;
    size_t rlen = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.lock_timeout = 1000; /* 1 us */
    CHECK(ds_idem_init(&s, &cfg) == DS_OK);
    CHECK(ds_idem_begin(&s, "acct", 4, "pay-1", 5, 42, 0, &st, &ta, NULL, NULL) == DS_OK && st == DS_IDEM_NEW);
    CHECK(ds_idem_begin(&s, "acct", 4, "pay-1", 5, 42, 5000, &st, &tb, NULL, NULL) == DS_OK && st == DS_IDEM_NEW);
    CHECK(ta != 0 && tb != 0 && ta != tb);
    CHECK(ds_idem_complete(&s, "acct", 4, "pay-1", 5, ta, "A", 1, 6000) == DS_EMISMATCH);
    CHECK(ds_idem_abandon(&s, "acct", 4, "pay-1", 5, ta) == DS_EMISMATCH);
    CHECK(ds_idem_complete(&s, "acct", 4, "pay-1", 5, tb, "B", 1, 6000) == DS_OK);
    CHECK(ds_idem_complete(&s, "acct", 4, "pay-1", 5, ta, "A", 1, 7000) == DS_ENOTFOUND);
    CHECK(ds_idem_begin(&s, "acct", 4, "pay-1", 5, 42, 8000, &st, NULL, &resp, &rlen) == DS_OK && st == DS_IDEM_DONE);
    CHECK(rlen == 1 && memcmp(resp, "B", 1) == 0);
    ds_idem_free(&s);
}

/* Bounded memory: done records beyond max_bytes go, oldest first; every
 * key and response is freed (the counting allocator ends at zero). */
static int idem_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_idem s;
    ds_idem_config cfg;
    ds_rng r;
    int step;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_bytes = 2000;
    cfg.alloc = &pa->a;
    if (ds_idem_init(&s, &cfg) != DS_OK) return 0;
    ds_rng_seed(&r, seed);
    for (step = 0; step < 200; step++) {
        char key[16];
        ds_idem_state st;
        uint64_t tok = 0;
        size_t fly = ds_idem_in_flight(&s);
        long before = PROP_FAILS(pa);
        ds_status rc;
        snprintf(key, sizeof key, "k%u", (unsigned)ds_rng_below(&r, 40));
        rc = ds_idem_begin(&s, "t", 1, key, strlen(key), 7, step, &st, &tok, NULL, NULL);
        if (rc == DS_ENOMEM) {
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && ds_idem_in_flight(&s) == fly, 1);
            continue;
        }
        CHECK_OR(rc == DS_OK, 1);
        if (st == DS_IDEM_NEW) {
            before = PROP_FAILS(pa);
            rc = ds_idem_complete(&s, "t", 1, key, strlen(key), tok, "response body", 13, step);
            if (rc == DS_ENOMEM) CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && ds_idem_in_flight(&s) == fly + 1, 1);
            else CHECK_OR(rc == DS_OK && ds_idem_in_flight(&s) == fly, 1);
        }
    }
    CHECK_OR(s.done.c.weight <= 2000, 1);
    ds_idem_free(&s);
    return 0;
}
void test_idem_oom(void) {
    long total = 0;
    CHECK(prop_oom_sweep(idem_oom_seq, 9, &total) == 0);
    CHECK(total > 10);
}

/* ---- weights and time at the edges, and the strong guarantee (issue 15,
 *      defects 7, 8 and 11) ---------------------------------------------- */

DS_LRU(wlru, uint32_t, uint64_t, ds_hash_u32, ds_eq_u32)
typedef struct wlog {
    uint32_t k[16];
    uint64_t v[16];
    ds_evict why[16];
    int n;
} wlog;
static uint64_t w_value(void *ctx, const uint32_t *k, const uint64_t *v) {
    (void)ctx, (void)k;
    return *v;
}
static void w_evict(void *ctx, uint32_t *k, uint64_t *v, ds_evict why) {
    wlog *l = (wlog *)ctx;
    if (l->n < 16) l->k[l->n] = *k, l->v[l->n] = *v, l->why[l->n] = why;
    l->n++;
}
void test_cache_weight_edges(void) {
    wlru c;
    wlru_config cfg;
    wlog log;
    memset(&cfg, 0, sizeof cfg);
    memset(&log, 0, sizeof log);
    cfg.max_entries = 10;
    cfg.max_weight = 100;
    cfg.weigher = w_value;
    cfg.on_evict = w_evict;
    cfg.ctx = &log;
    /* An entry heavier than the bound leaves at once, alone (Caffeine). */
    CHECK(wlru_init(&c, &cfg) == DS_OK);
    CHECK(wlru_put(&c, 1, 10, 0) == DS_OK && wlru_put(&c, 2, 10, 0) == DS_OK);
    CHECK(wlru_put(&c, 3, UINT64_MAX, 0) == DS_OK);
    CHECK(log.n == 1 && log.k[0] == 3 && log.why[0] == DS_EVICT_CAPACITY);
    CHECK(wlru_len(&c) == 2 && wlru_weight(&c) == 20 && wlru_peek(&c, 3, 0) == NULL);
    /* ... also over an existing key: the old pair is replaced, the new leaves. */
    CHECK(wlru_put(&c, 1, 101, 0) == DS_OK);
    CHECK(log.n == 3 && log.k[1] == 1 && log.v[1] == 10 && log.why[1] == DS_EVICT_REPLACED);
    CHECK(log.k[2] == 1 && log.v[2] == 101 && log.why[2] == DS_EVICT_CAPACITY);
    CHECK(wlru_len(&c) == 1 && wlru_weight(&c) == 10);
    wlru_free(&c);
    /* max_weight = UINT64_MAX: two entries of 2^63 cannot wrap the total to 0. */
    log.n = 0;
    cfg.max_weight = UINT64_MAX;
    CHECK(wlru_init(&c, &cfg) == DS_OK);
    CHECK(wlru_put(&c, 1, (uint64_t)1 << 63, 0) == DS_OK && wlru_put(&c, 2, (uint64_t)1 << 63, 0) == DS_OK);
    CHECK(wlru_len(&c) == 1 && wlru_weight(&c) == (uint64_t)1 << 63 && wlru_peek(&c, 2, 0) != NULL);
    CHECK(log.n == 1 && log.k[0] == 1 && log.why[0] == DS_EVICT_CAPACITY);
    wlru_free(&c);
    /* No weight bound: a total past UINT64_MAX is refused, nothing changes. */
    log.n = 0;
    cfg.max_weight = 0;
    CHECK(wlru_init(&c, &cfg) == DS_OK);
    CHECK(wlru_put(&c, 1, UINT64_MAX, 0) == DS_OK && wlru_put(&c, 2, 1, 0) == DS_EINVAL);
    CHECK(wlru_len(&c) == 1 && wlru_weight(&c) == UINT64_MAX && log.n == 0);
    wlru_free(&c);
    /* Time: a negative now with expire_after_access; default_ttl = INT64_MAX. */
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = 4;
    cfg.expire_after_access = 1;
    CHECK(wlru_init(&c, &cfg) == DS_OK);
    CHECK(wlru_put_ttl(&c, 5, 1, 100, -50) == DS_OK && wlru_get(&c, 5, -40) != NULL);
    CHECK(wlru_get(&c, 5, 59) != NULL && wlru_get(&c, 5, 160) == NULL);
    wlru_free(&c);
    cfg.default_ttl = INT64_MAX;
    CHECK(wlru_init(&c, &cfg) == DS_OK);
    CHECK(wlru_put(&c, 6, 1, 1000) == DS_OK && wlru_get(&c, 6, INT64_MAX - 2) != NULL);
    wlru_free(&c);
    /* del at now: an expired entry is not handed back as if live; it goes
     * as EXPIRED and del says DS_ENOTFOUND (issue 15, defect 11). */
    {
        uint64_t out = 77;
        memset(&cfg, 0, sizeof cfg);
        memset(&log, 0, sizeof log);
        cfg.max_entries = 4;
        cfg.on_evict = w_evict;
        cfg.ctx = &log;
        CHECK(wlru_init(&c, &cfg) == DS_OK);
        CHECK(wlru_put_ttl(&c, 9, 5, 10, 0) == DS_OK && wlru_del(&c, 9, &out, 20) == DS_ENOTFOUND);
        CHECK(out == 77 && log.n == 1 && log.k[0] == 9 && log.why[0] == DS_EVICT_EXPIRED && wlru_len(&c) == 0);
        CHECK(wlru_put_ttl(&c, 9, 6, 10, 30) == DS_OK && wlru_del(&c, 9, &out, 39) == DS_OK && out == 6);
        wlru_free(&c);
    }
}

/* A put that fails with DS_ENOMEM changes nothing observable: not the
 * timed state of an empty cache (put_ttl), not W-TinyLFU's sketch. */
typedef struct flaky {
    ds_alloc a;
    int fail;
} flaky;
static void *fl_malloc(void *ctx, size_t n) { return ((flaky *)ctx)->fail ? NULL : malloc(n); }
static void *fl_realloc(void *ctx, void *p, size_t o, size_t n) {
    (void)o;
    return ((flaky *)ctx)->fail ? NULL : realloc(p, n);
}
static void fl_free(void *ctx, void *p, size_t n) {
    (void)ctx, (void)n;
    free(p);
}
void test_cache_oom_state(void) {
    flaky fa;
    wlru c;
    wlru_config cfg;
    size_t mem;
    int pol;
    fa.a.malloc_fn = fl_malloc;
    fa.a.realloc_fn = fl_realloc;
    fa.a.free_fn = fl_free;
    fa.a.ctx = &fa;
    for (pol = 0; pol < 2; pol++) {
        unsigned char *rows = NULL;
        size_t rbytes = 0;
        memset(&cfg, 0, sizeof cfg);
        cfg.max_entries = 64;
        cfg.policy = pol ? DS_CACHE_WTINYLFU : DS_CACHE_LRU;
        cfg.alloc = &fa.a;
        fa.fail = 0;
        CHECK(wlru_init(&c, &cfg) == DS_OK);
        if (c.c.freq.rows) {
            rbytes = c.c.freq.width * 2; /* 4 rows of 4-bit counters */
            rows = (unsigned char *)malloc(rbytes);
            CHECK(rows != NULL);
            memcpy(rows, c.c.freq.rows, rbytes);
        }
        mem = wlru_memory(&c);
        fa.fail = 1;
        CHECK(wlru_put_ttl(&c, 1, 1, 100, 0) == DS_ENOMEM);
        CHECK(wlru_put_ttl(&c, 1, 1, 100, 0) == DS_ENOMEM);
        CHECK(c.c.timed == 0 && c.c.expire == NULL && wlru_len(&c) == 0 && wlru_memory(&c) == mem);
        if (rows) CHECK(memcmp(rows, c.c.freq.rows, rbytes) == 0 && c.c.freq.adds == 0);
        fa.fail = 0;
        CHECK(wlru_put_ttl(&c, 1, 1, 100, 0) == DS_OK && wlru_get(&c, 1, 99) != NULL);
        wlru_free(&c);
        free(rows);
    }
}

/* W-TinyLFU's eviction rule, the promise the header makes, for both
 * policies, with weights, TTLs, deletes and set_capacity: nothing is
 * evicted for capacity while the cache is within its bound (each op's last
 * CAPACITY eviction was needed: the total was over just before it), and
 * dead entries go before live ones (after an op that evicted for capacity,
 * no dead entry is left). The two sequences first. */
typedef struct wrule {
    uint64_t evicted_w, last_w;
    int capacity;
} wrule;
static void wr_evict(void *ctx, uint32_t *k, uint64_t *v, ds_evict why) {
    wrule *r = (wrule *)ctx;
    (void)k;
    if (why == DS_EVICT_CAPACITY) {
        r->capacity++;
        r->evicted_w += *v;
        r->last_w = *v;
    }
}
static int wr_dead_left(wlru *c, int64_t now) {
    uint32_t it;
    int dead = 0;
    for (it = wlru_first(c); it != DS_CACHE_END; it = wlru_next(c, it))
        dead += wlru_peek(c, *wlru_key(c, it), now) == NULL;
    return dead;
}
void test_cache_evict_rule(void) {
    wlru c;
    wlru_config cfg;
    wrule r;
    int pol, weighted;
    uint64_t seed = (uint64_t)prop_env_long("DS_SEED", 20261207); /* DS_SEED replays another */
    /* max_entries 8: put 1..4, del 4, shrink to 3: nothing to evict. */
    memset(&cfg, 0, sizeof cfg);
    memset(&r, 0, sizeof r);
    cfg.max_entries = 8;
    cfg.policy = DS_CACHE_WTINYLFU;
    cfg.on_evict = wr_evict;
    cfg.ctx = &r;
    CHECK(wlru_init(&c, &cfg) == DS_OK);
    CHECK(wlru_put(&c, 1, 1, 0) == DS_OK && wlru_put(&c, 2, 1, 0) == DS_OK);
    CHECK(wlru_put(&c, 3, 1, 0) == DS_OK && wlru_put(&c, 4, 1, 0) == DS_OK);
    CHECK(wlru_del(&c, 4, NULL, 0) == DS_OK && wlru_set_capacity(&c, 3, 0, 0) == DS_OK);
    CHECK(r.capacity == 0 && wlru_len(&c) == 3);
    wlru_free(&c);
    /* max_weight 10, weight = value: (1,3) (2,3) (3,2) (4,2) is exactly 10. */
    cfg.max_entries = 0;
    cfg.max_weight = 10;
    cfg.weigher = w_value;
    CHECK(wlru_init(&c, &cfg) == DS_OK);
    CHECK(wlru_put(&c, 1, 3, 0) == DS_OK && wlru_put(&c, 2, 3, 0) == DS_OK);
    CHECK(wlru_put(&c, 3, 2, 0) == DS_OK && wlru_put(&c, 4, 2, 0) == DS_OK);
    CHECK(r.capacity == 0 && wlru_len(&c) == 4 && wlru_weight(&c) == 10);
    wlru_free(&c);
    /* Random streams. */
    for (pol = 0; pol < 2; pol++)
        for (weighted = 0; weighted < 2; weighted++) {
            ds_rng g;
            int64_t now = 0;
            int step;
            uint64_t bound = 40;
            ds_rng_seed(&g, seed + (uint64_t)(2 * pol + weighted));
            memset(&cfg, 0, sizeof cfg);
            cfg.policy = pol ? DS_CACHE_WTINYLFU : DS_CACHE_LRU;
            if (weighted) cfg.max_weight = bound, cfg.weigher = w_value;
            else cfg.max_entries = (size_t)bound;
            cfg.on_evict = wr_evict;
            cfg.ctx = &r;
            CHECK(wlru_init(&c, &cfg) == DS_OK);
            for (step = 0; step < 20000; step++) {
                uint32_t k = (uint32_t)ds_rng_below(&g, 120);
                uint64_t v = 1 + ds_rng_below(&g, weighted ? 6 : 1), before = weighted ? wlru_weight(&c) : wlru_len(&c);
                unsigned op = (unsigned)ds_rng_below(&g, 100);
                now += (int64_t)ds_rng_below(&g, 3);
                memset(&r, 0, sizeof r);
                if (op < 40) (void)wlru_get(&c, k, now);
                else if (op < 75) CHECK(wlru_put(&c, k, v, now) == DS_OK);
                else if (op < 88) CHECK(wlru_put_ttl(&c, k, v, 1 + (int64_t)ds_rng_below(&g, 50), now) == DS_OK);
                else if (op < 96) (void)wlru_del(&c, k, NULL, now);
                else {
                    bound = 10 + ds_rng_below(&g, 60);
                    CHECK(wlru_set_capacity(&c, weighted ? 0 : (size_t)bound, weighted ? bound : 0, now) == DS_OK);
                }
                {
                    uint64_t total = weighted ? wlru_weight(&c) : wlru_len(&c);
                    uint64_t last = weighted ? r.last_w : 1;
                    CHECKF(total <= bound, "step %d: total %llu over %llu", step, (unsigned long long)total,
                           (unsigned long long)bound);
                    if (r.capacity)
                        CHECKF(total + last > bound && wr_dead_left(&c, now) == 0,
                               "policy %d weighted %d step %d op %u: evicted %d (last %llu) at total %llu of %llu "
                               "(was %llu), %d dead left",
                               pol, weighted, step, op, r.capacity, (unsigned long long)last,
                               (unsigned long long)total, (unsigned long long)bound, (unsigned long long)before,
                               wr_dead_left(&c, now));
                }
            }
            wlru_free(&c);
        }
}

/* W-TinyLFU sizes its sketch from the entries it holds, not from the bound
 * (it asked for about 17 GiB at max_entries = 2^31 - 1; issue 15, defect
 * 11): small at init, 4 counters per key held as it fills. */
void test_cache_sketch_size(void) {
    wlru c;
    wlru_config cfg;
    uint32_t k;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_entries = ((size_t)1 << 31) - 1;
    cfg.policy = DS_CACHE_WTINYLFU;
    CHECK(wlru_init(&c, &cfg) == DS_OK);
    CHECKF(wlru_memory(&c) <= (size_t)1 << 20, "%zu bytes at init", wlru_memory(&c));
    for (k = 0; k < 100000; k++) CHECK(wlru_put(&c, k, k, 0) == DS_OK);
    CHECK(wlru_len(&c) == 100000 && c.c.freq.width >= 4 * 100000 && c.c.freq.width <= 16 * 100000);
    wlru_free(&c);
    /* Once full, every insert passes the bound for a moment (len is
     * max_entries + 1 until the eviction); where the sketch is exactly
     * 4 x max_entries wide (a power-of-two bound) that reallocated, and so
     * zeroed, the sketch at every miss: W-TinyLFU lost its counts (ARC P3
     * at 32768 entries: 10.4% hits instead of 18.2%; at 131072, 31.9 us a
     * request instead of 67 ns). */
    cfg.max_entries = (size_t)1 << 15;
    CHECK(wlru_init(&c, &cfg) == DS_OK);
    for (k = 0; k < 40000; k++) CHECK(wlru_put(&c, k, k, 0) == DS_OK);
    {
        uint64_t adds = c.c.freq.adds;
        size_t mem = wlru_memory(&c);
        for (k = 40000; k < 41000; k++) CHECK(wlru_put(&c, k, k, 0) == DS_OK);
        CHECKF(c.c.freq.adds == adds + 1000, "sketch adds %llu -> %llu: counts were reset",
               (unsigned long long)adds, (unsigned long long)c.c.freq.adds);
        CHECK(wlru_memory(&c) == mem && wlru_len(&c) == (size_t)1 << 15);
    }
    wlru_free(&c);
}
