/* tests/fuzz/fuzz_map.c - op-stream fuzzer for DS_MAP against a plain array.
 *
 * The input is a program: byte 0 picks a hash function (the real one or a
 * deliberately weak one: constant, 3 or 5 distinct values, identity, one
 * shared control byte, one shared group), bytes 1..8 the table seed, and
 * the rest is a stream of operations (put, insert, get, has, del, delete
 * while iterating, get_or_add, reserve, shrink, clear, free, bulk put,
 * injected allocation failures) on a DS_MAP(uint32_t -> uint32_t) with keys
 * in 0..1023. A model (present flag + value per key) is updated alongside,
 * and every result, the length, the capacity invariants and, at checkpoints,
 * the whole contents are compared; any mismatch abort()s.
 *
 *   libFuzzer: clang -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -I. \
 *                  tests/fuzz/fuzz_map.c -o build/fuzz/fuzz_map
 *   replay:    gcc -std=c99 -O1 -g -fsanitize=address,undefined -DDS_FUZZ_STANDALONE -I. \
 *                  tests/fuzz/fuzz_map.c -o build/fuzz/fuzz_map-replay
 *              build/fuzz/fuzz_map-replay [FILE...]   (no files: random inputs)
 * Add -DDS_NO_SIMD to fuzz the portable 8-wide (SWAR) probing path. */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "fuzz_util.h"

#define NKEYS 1024u

/* ---- hash functions, good and deliberately bad --------------------------- */

static unsigned g_hash_mode;

static uint64_t fz_hash(uint32_t k, uint64_t seed) {
    switch (g_hash_mode) {
    case 0: return ds_hash_u32(k, seed);                          /* the real one */
    case 1: return 0x0123456789abcdefull;                         /* one probe chain */
    case 2: return (uint64_t)(k % 3) * 0x9e3779b97f4a7c15ull;     /* 3 distinct hashes */
    case 3: return k;                      /* identity: few groups, tag = k & 0xff */
    case 4: return (uint64_t)k << 8;       /* groups spread, every tag == 2 */
    case 5: return k & 0xff;               /* everything starts in group 0 */
    case 6: return ds_hash_u32(k & 7, seed);                      /* 8 distinct, mixed */
    default: return ~(uint64_t)0 - k % 5;  /* top group, 5 hashes, tags near 0xff */
    }
}
#define FZ_NHASH 8u

DS_MAP(fmap, uint32_t, uint32_t, fz_hash, ds_eq_u32)

/* ---- the model ------------------------------------------------------------ */

static uint8_t m_present[NKEYS];
static uint32_t m_val[NKEYS];
static size_t m_len;

static void model_set(uint32_t k, uint32_t v) {
    if (!m_present[k]) m_len++;
    m_present[k] = 1;
    m_val[k] = v;
}
static void model_del(uint32_t k) {
    if (m_present[k]) m_len--;
    m_present[k] = 0;
}
static void model_clear(void) {
    memset(m_present, 0, sizeof m_present);
    m_len = 0;
}

/* Keys: mostly a hot set of 64 (so gets and dels hit), sometimes any of 1024. */
static uint32_t read_key(fz_reader *r) {
    unsigned b = fz_u8(r);
    if (b & 0x80) return (((uint32_t)b & 3u) << 8 | fz_u8(r)) % NKEYS;
    return b & 0x3f;
}

/* Cheap invariants, every op. */
static void check_shape(const fmap *m) {
    size_t cap = fmap_capacity(m);
    FZ_CHECK(fmap_len(m) == m_len);
    FZ_CHECK(cap == 0 || (cap >= 8 && (cap & (cap - 1)) == 0));
    FZ_CHECK(fmap_len(m) <= cap - cap / 8);
    FZ_CHECK(fmap_memory(m) == (cap ? cap * (sizeof(fmap_entry) + 1) + 64 : 0)); /* + the slots' alignment slack */
}

/* Everything: iteration visits each live key once with its value, lookups
 * of all 1024 keys agree, and the control bytes agree with the counters
 * (full bytes == len; EMPTY bytes == growth_left + cap/8, which is what keeps
 * every probe terminating). The last two read ds__map internals. */
static void check_full(const fmap *m) {
    static uint8_t seen[NKEYS];
    size_t n = 0, full = 0, empty = 0, i;
    uint32_t k;
    check_shape(m);
    memset(seen, 0, sizeof seen);
    DS_FOREACH(fmap, m, e) {
        FZ_CHECK(e->key < NKEYS);
        FZ_CHECK(m_present[e->key]);
        FZ_CHECK(e->val == m_val[e->key]);
        FZ_CHECK(!seen[e->key]);
        seen[e->key] = 1;
        n++;
    }
    FZ_CHECK(n == m_len);
    for (k = 0; k < NKEYS; k++) {
        const uint32_t *v = fmap_get(m, k);
        FZ_CHECK((v != NULL) == (m_present[k] != 0));
        FZ_CHECK(fmap_has(m, k) == (m_present[k] != 0));
        if (v) FZ_CHECK(*v == m_val[k]);
    }
    for (i = 0; i < m->m.cap; i++) {
        full += DS__CTRL_FULL(m->m.ctrl[i]);
        empty += m->m.ctrl[i] == DS__CTRL_EMPTY;
    }
    FZ_CHECK(full == m_len);
    if (m->m.cap) FZ_CHECK(empty == m->m.growth_left + m->m.cap / 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_reader rd;
    fz_alloc fa;
    fmap m;
    uint64_t seed;
    long steps = 0;

    rd.p = data;
    rd.n = size;
    rd.pos = 0;
    g_hash_mode = fz_u8(&rd) % FZ_NHASH;
    seed = (uint64_t)fz_u32(&rd) | (uint64_t)fz_u32(&rd) << 32;
    fz_alloc_init(&fa);
    fmap_init_seed(&m, &fa.a, seed);
    model_clear();

    while (fz_more(&rd) && steps++ < 20000) {
        unsigned op = fz_u8(&rd) % 32;
        long f0 = fa.fails;
        ds_status s;
        uint32_t k, v, out;
        int is_new;
        switch (op) {
        case 0: case 1: case 2: case 3: /* put */
            k = read_key(&rd);
            v = fz_u16(&rd);
            is_new = -1;
            s = fmap_put(&m, k, v, &is_new);
            FZ_ENOMEM_MATCHES(&fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) {
                FZ_CHECK(is_new == !m_present[k]);
                model_set(k, v);
            } else {
                FZ_CHECK(s == DS_ENOMEM && !m_present[k]);
                check_full(&m);
            }
            break;
        case 4: case 5: /* insert: DS_EEXIST leaves the old value */
            k = read_key(&rd);
            v = fz_u16(&rd);
            s = fmap_insert(&m, k, v);
            FZ_ENOMEM_MATCHES(&fa, f0, s == DS_ENOMEM);
            if (m_present[k]) {
                FZ_CHECK(s == DS_EEXIST);
            } else if (s == DS_OK) {
                model_set(k, v);
            } else {
                FZ_CHECK(s == DS_ENOMEM);
                check_full(&m);
            }
            break;
        case 6: case 7: case 8: { /* get / has */
            const uint32_t *p;
            k = read_key(&rd);
            p = fmap_get(&m, k);
            FZ_CHECK((p != NULL) == (m_present[k] != 0));
            if (p) FZ_CHECK(*p == m_val[k]);
            FZ_CHECK(fmap_has(&m, k) == (m_present[k] != 0));
            break;
        }
        case 9: case 10: case 11: /* del */
        {
            int want_out;
            k = read_key(&rd);
            want_out = (int)(fz_u8(&rd) & 1);
            out = 0xdeadbeefu;
            s = fmap_del(&m, k, want_out ? &out : NULL);
            if (m_present[k]) {
                FZ_CHECK(s == DS_OK);
                FZ_CHECK(want_out ? out == m_val[k] : out == 0xdeadbeefu);
                model_del(k);
            } else {
                FZ_CHECK(s == DS_ENOTFOUND && out == 0xdeadbeefu);
            }
            break;
        }
        case 12: case 13: { /* get_or_add, then write through the pointer */
            uint32_t *p;
            k = read_key(&rd);
            v = fz_u16(&rd);
            is_new = -1;
            p = fmap_get_or_add(&m, k, &is_new);
            FZ_ENOMEM_MATCHES(&fa, f0, p == NULL);
            if (p) {
                FZ_CHECK(is_new == !m_present[k]);
                if (is_new) FZ_CHECK(*p == 0);
                else FZ_CHECK(*p == m_val[k]);
                *p = v;
                model_set(k, v);
            } else {
                FZ_CHECK(!m_present[k]);
                check_full(&m);
            }
            break;
        }
        case 14: case 15: { /* iterate: delete entries key % d == r, bump the others */
            static uint8_t seen[NKEYS];
            unsigned d = 1 + fz_u8(&rd) % 4, r = fz_u8(&rd) % d, bump = fz_u8(&rd) & 1;
            size_t visited = 0, before = m_len;
            memset(seen, 0, sizeof seen);
            DS_FOREACH(fmap, &m, e) {
                FZ_CHECK(e->key < NKEYS && m_present[e->key] && !seen[e->key]);
                FZ_CHECK(e->val == m_val[e->key]);
                seen[e->key] = 1;
                visited++;
                if (e->key % d == r) {
                    model_del(e->key);
                    fmap_del_entry(&m, e); /* allowed mid-iteration */
                } else if (bump) {
                    e->val++;
                    m_val[e->key]++;
                }
            }
            FZ_CHECK(visited == before);
            break;
        }
        case 16: { /* delete the first entry by pointer; NULL is ignored */
            fmap_entry *e = fmap_first(&m);
            fmap_del_entry(&m, NULL);
            if (e) {
                model_del(e->key);
                fmap_del_entry(&m, e);
            }
            break;
        }
        case 17: case 18: { /* reserve: small, or a hostile size */
            unsigned b = fz_u8(&rd);
            size_t n, cap0 = fmap_capacity(&m);
            if (b < 0xf0) {
                n = fz_u16(&rd) % 2048;
            } else {
                n = SIZE_MAX >> (fz_u8(&rd) % 64);
            }
            s = fmap_reserve(&m, n);
            FZ_ENOMEM_MATCHES(&fa, f0, s == DS_ENOMEM);
            if (s == DS_OK) {
                /* room for n: n - len more inserts need no rehash; never shrinks */
                FZ_CHECK(n <= m.m.len + m.m.growth_left);
                FZ_CHECK(fmap_capacity(&m) >= cap0);
            } else {
                FZ_CHECK(s == DS_ENOMEM || s == DS_EINVAL);
                FZ_CHECK(fmap_capacity(&m) == cap0);
                check_full(&m);
            }
            break;
        }
        case 19: { /* shrink */
            s = fmap_shrink(&m);
            FZ_ENOMEM_MATCHES(&fa, f0, s == DS_ENOMEM);
            FZ_CHECK(s == DS_OK || s == DS_ENOMEM);
            if (s == DS_OK && m_len == 0) FZ_CHECK(fmap_capacity(&m) == 0);
            check_full(&m);
            break;
        }
        case 20: /* clear (keeps capacity) */
            if (fz_u8(&rd) & 1) break; /* make it rarer */
            {
                size_t cap0 = fmap_capacity(&m);
                fmap_clear(&m);
                model_clear();
                FZ_CHECK(fmap_capacity(&m) == cap0);
            }
            break;
        case 21: /* free, then reuse (free re-inits with the same seed) */
            if (fz_u8(&rd) & 1) break;
            fmap_free(&m);
            model_clear();
            FZ_CHECK(fa.live_blocks == 0 && fmap_capacity(&m) == 0);
            break;
        case 22: case 23: /* arm an allocation failure k attempts from now */
            fz_alloc_fail_in(&fa, 1 + (long)(fz_u8(&rd) % 4));
            break;
        case 24: case 25: { /* bulk put of a key run, to force growth */
            uint32_t k0 = read_key(&rd), cnt = fz_u8(&rd) % 96, j;
            v = fz_u16(&rd);
            for (j = 0; j < cnt; j++) {
                uint32_t kk = (k0 + j) % NKEYS;
                f0 = fa.fails;
                s = fmap_put(&m, kk, v + j, NULL);
                FZ_ENOMEM_MATCHES(&fa, f0, s == DS_ENOMEM);
                if (s != DS_OK) break;
                model_set(kk, v + j);
            }
            break;
        }
        case 26: /* bulk delete of a key run */
        {
            uint32_t k0 = read_key(&rd), cnt = fz_u8(&rd) % 96, j;
            for (j = 0; j < cnt; j++) {
                uint32_t kk = (k0 + j) % NKEYS;
                s = fmap_del(&m, kk, NULL);
                FZ_CHECK(s == (m_present[kk] ? DS_OK : DS_ENOTFOUND));
                model_del(kk);
            }
            break;
        }
        case 27: /* insert-if-absent via has + insert */
            k = read_key(&rd);
            if (!fmap_has(&m, k)) {
                s = fmap_insert(&m, k, 7);
                FZ_ENOMEM_MATCHES(&fa, f0, s == DS_ENOMEM);
                if (s == DS_OK) model_set(k, 7);
            }
            break;
        default: /* 28..31: checkpoint */
            check_full(&m);
            break;
        }
        check_shape(&m);
    }
    check_full(&m);
    fmap_free(&m);
    FZ_CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    return 0;
}
