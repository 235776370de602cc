/* bench/bench_cache.cc - DS_LRU (plain LRU and W-TinyLFU) beside the LRU
 * caches a user would write instead: uthash + utlist in C, and the classic
 * C++ std::list + std::unordered_map.
 *
 * Caches of N entries (default 1M), uint64 keys -> 64-byte values (struct of
 * eight uint64). The key space is 2N distinct random-looking uint64 keys
 * (a bijective mix of 0..2N-1); a random permutation maps popularity ranks
 * to keys, so the hot keys are spread over the whole space. Two key
 * distributions over those 2N ranks: Zipf(theta = 0.99) and uniform.
 *
 * Each rep, per distribution and contender, on a fresh cache of capacity N:
 *   fill       N puts of keys[0..N) into the empty cache        ns per put
 *              (the cache is then full; every contender holds them all)
 *   get hit    N gets of keys known present (the distribution's draws
 *              that fall in keys[0..N), in draw order)         ns per get
 *   get miss   N gets of keys known absent (draws in keys[N..2N)) ns per get
 *   put evict  N/2 puts of new keys never seen (outside the 2N space):
 *              the cache is full, so every put evicts one       ns per put
 *   mixed      N draws over all 2N keys, read-through: get, and on a miss
 *              put (the cache stays full, so every miss evicts) ns per op;
 *              its hit rate is printed too
 *   bytes      what the cache allocated once full, per entry, and the same
 *              beyond sizeof(K) + sizeof(V) = 72 bytes (a counting ds_alloc
 *              for ds; uthash_malloc/uthash_free hooks plus the node
 *              mallocs for uthash; a counting std allocator for C++;
 *              malloc's own per-block overhead is not counted, which
 *              flatters the one-or-two-blocks-per-entry peers)
 * Contenders:
 *   ds         DS_LRU(..., ds_hash_u64, ds_eq_u64), policy DS_CACHE_LRU,
 *              max_entries = N
 *   ds-wtlfu   the same with policy DS_CACHE_WTINYLFU
 *   uthash     uthash.h table + utlist.h doubly linked list, the usual C
 *              idiom: HASH_FIND, then DL_DELETE + DL_PREPEND on a hit; at
 *              capacity evict the tail (list->prev): DL_DELETE + HASH_DELETE
 *              + free, then malloc the new node; default hash (Jenkins)
 *   std        std::list<pair<K, V>> (front = most recent) + std::unordered_map
 *              <K, list::iterator>: find + splice to the front on a hit; at
 *              capacity erase back() from both; std::hash; no reserve
 * All are exact LRUs but ds-wtlfu, so ds, uthash and std must agree on every
 * check (hit sum, misses found, survivors of the put phase, mixed hits,
 * final length); ds-wtlfu must agree on the policy-independent ones (the
 * fill holds all N, hits found, misses absent, length N). Exit status 1 on
 * any disagreement.
 *
 * Reps are interleaved across contenders after one untimed warm-up round;
 * the median rep is reported. Between contenders an untimed 64 MB malloc +
 * free makes glibc consolidate the nodes the last one freed (otherwise that
 * ~100 ms lands in the next contender's fill). Ratios are peer/ds time (ds = the plain LRU):
 * > 1 means ds is faster. The targets (issue) are printed MET / MISSED.
 *
 *   bench_cache [--n N] [--reps R] [--warmup W] [--only LIST] [--dist LIST]
 *               [--theta T] [--seed S] [--fresh-mem] [--verbose] [--quick]
 *     --n N        cache capacity (default 1000000); key space 2N
 *     --reps R     reps, median reported (default 5; env BENCH_REPS)
 *     --warmup W   untimed rounds of every contender first (default 1)
 *     --only LIST  contenders: ds, ds-wtlfu, uthash, std (default all)
 *     --dist LIST  zipf, uniform (default both)
 *     --theta T    Zipf exponent (default 0.99)
 *     --fresh-mem  give freed memory back to the OS between reps (as in
 *                  bench_map: without it freed memory stays in the process
 *                  so the timed reps do not include page faults)
 *     --verbose    print every rep
 *     --quick      smoke run: N = 100000, 1 rep
 *
 * Whole-process mode (for hyperfine, beside bench/cache_lru.py and
 * bench/cache_ttl.py, which read the same file):
 *   bench_cache --write-ops FILE [--ops N] [--cap C] [--space S]
 *               [--put-frac F] [--theta T] [--seed S]
 *       write an op file: defaults 1M ops over a 100k-entry cache, keys
 *       Zipf(0.99) over a space of 200k, 10% of ops are puts. Format, all
 *       little-endian: "DSCOPS01", uint64 capacity, uint64 ops, uint64 key
 *       space, then one byte per op (0 = get, 1 = put), then one uint64 key
 *       per op.
 *   bench_cache --replay FILE [--only NAME] [--ttl SEC]
 *       replay it with one contender (default ds): a get is read-through
 *       (get; on a miss put the 64-byte value), a put inserts or replaces.
 *       --ttl SEC (ds only) gives every entry that TTL, with now =
 *       ds_now_ns() per op, as cachetools.TTLCache does with its timer.
 *       Prints "hits H misses M len L": a hit is an op whose key was
 *       present (a get that found it, a put that replaced); the LRUs and
 *       the Python scripts must print the same numbers.
 */
#define DS_IMPLEMENTATION
#include "ds.h"
#define BENCH_UTHASH /* bench.h: uthash hooks counting into g_uthash_count */
#include "bench.h"

#include <malloc.h>

#include <algorithm>
#include <cinttypes>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

/* ---- uthash + utlist, counting through uthash's hooks and our mallocs ----- */
#include <uthash.h>
#include <utlist.h>

#define NOINLINE __attribute__((noinline))

struct Val {
    uint64_t w[8];
};
static_assert(sizeof(Val) == 64, "64-byte values");
static const size_t KV_BYTES = sizeof(uint64_t) + sizeof(Val);

static inline Val make_val(uint64_t k) {
    Val v;
    for (int i = 0; i < 8; i++) v.w[i] = k + (uint64_t)i;
    return v;
}

DS_LRU(dscache, uint64_t, Val, ds_hash_u64, ds_eq_u64)

/* ---- contenders ----------------------------------------------------------
 * Each: init(cap[, ttl]), get(k, now) -> const Val* (promotes), put(k, v,
 * now) (insert or replace; evicts at capacity), contains(k) (no promotion),
 * len(), replaced() (puts that found their key), bytes(), destroy(). */

template <ds_cache_policy P> struct DsCache {
    bench_counter cnt;
    ds_alloc a;
    dscache c;
    void init(size_t cap, int64_t ttl_ns = 0) {
        bench_counter_reset(&cnt);
        a = bench_ds_alloc(&cnt);
        dscache_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.max_entries = cap;
        cfg.policy = P;
        cfg.alloc = &a;
        cfg.seed = 0x5eed5eed12345678ull;
        cfg.default_ttl = ttl_ns;
        if (dscache_init(&c, &cfg) != DS_OK) abort();
    }
    const Val *get(uint64_t k, int64_t now) { return dscache_get(&c, k, now); }
    void put(uint64_t k, const Val &v, int64_t now) {
        if (DS__UNLIKELY(dscache_put(&c, k, v, now) != DS_OK)) abort();
    }
    bool contains(uint64_t k) const { return dscache_peek(&c, k, 0) != nullptr; }
    size_t len() const { return dscache_len(&c); }
    uint64_t replaced() const { return dscache_stats(&c).evictions[DS_EVICT_REPLACED]; }
    size_t bytes() const { return cnt.cur; }
    size_t self_reported() const { return dscache_memory(&c); }
    void destroy() { dscache_free(&c); }
};
struct DsLru : DsCache<DS_CACHE_LRU> {
    static const char *name() { return "ds"; }
};
struct DsTlfu : DsCache<DS_CACHE_WTINYLFU> {
    static const char *name() { return "ds-wtlfu"; }
};

/* uthash + utlist: one malloc'd node per entry, in the hash table and in a
 * doubly linked recency list whose head is the most recent (utlist keeps
 * the tail in head->prev). */
struct UtNode {
    uint64_t key;
    Val val;
    UT_hash_handle hh;
    UtNode *prev, *next;
};
struct UtLru {
    static const char *name() { return "uthash"; }
    UtNode *table = nullptr; /* uthash head */
    UtNode *lru = nullptr;   /* utlist head: most recent first */
    size_t cap = 0, n = 0;
    uint64_t repl = 0;
    void init(size_t capacity, int64_t = 0) {
        bench_counter_reset(&g_uthash_count);
        table = lru = nullptr;
        cap = capacity;
        n = 0;
        repl = 0;
    }
    const Val *get(uint64_t k, int64_t) {
        UtNode *e;
        HASH_FIND(hh, table, &k, sizeof(uint64_t), e);
        if (!e) return nullptr;
        DL_DELETE(lru, e);
        DL_PREPEND(lru, e);
        return &e->val;
    }
    void put(uint64_t k, const Val &v, int64_t) {
        UtNode *e;
        HASH_FIND(hh, table, &k, sizeof(uint64_t), e);
        if (e) {
            e->val = v;
            DL_DELETE(lru, e);
            DL_PREPEND(lru, e);
            repl++;
            return;
        }
        if (n == cap) {
            UtNode *old = lru->prev; /* the tail: least recently used */
            DL_DELETE(lru, old);
            HASH_DELETE(hh, table, old);
            bench_ut_free(old, sizeof *old);
            n--;
        }
        e = (UtNode *)bench_ut_malloc(sizeof *e);
        if (!e) abort();
        e->key = k;
        e->val = v;
        HASH_ADD(hh, table, key, sizeof(uint64_t), e);
        DL_PREPEND(lru, e);
        n++;
    }
    bool contains(uint64_t k) const {
        UtNode *e;
        HASH_FIND(hh, table, &k, sizeof(uint64_t), e);
        return e != nullptr;
    }
    size_t len() const { return n; }
    uint64_t replaced() const { return repl; }
    size_t bytes() const { return g_uthash_count.cur; }
    size_t self_reported() const { return 0; }
    void destroy() {
        UtNode *e, *tmp;
        HASH_ITER(hh, table, e, tmp) {
            HASH_DELETE(hh, table, e);
            bench_ut_free(e, sizeof *e);
        }
        table = lru = nullptr;
        n = 0;
    }
};

/* The classic C++ LRU. */
struct StdTag {};
typedef std::pair<uint64_t, Val> StdKV;
typedef std::list<StdKV, bench::counting_allocator<StdKV, StdTag>> StdList;
typedef std::unordered_map<uint64_t, StdList::iterator, std::hash<uint64_t>, std::equal_to<uint64_t>,
                           bench::counting_allocator<std::pair<const uint64_t, StdList::iterator>, StdTag>>
    StdIndex;
struct StdLru {
    static const char *name() { return "std"; }
    StdList *l = nullptr;
    StdIndex *m = nullptr;
    size_t cap = 0;
    uint64_t repl = 0;
    void init(size_t capacity, int64_t = 0) {
        bench_counter_reset(&bench::counter_for<StdTag>());
        l = new StdList();
        m = new StdIndex();
        cap = capacity;
        repl = 0;
    }
    const Val *get(uint64_t k, int64_t) {
        auto it = m->find(k);
        if (it == m->end()) return nullptr;
        l->splice(l->begin(), *l, it->second);
        return &it->second->second;
    }
    void put(uint64_t k, const Val &v, int64_t) {
        auto it = m->find(k);
        if (it != m->end()) {
            it->second->second = v;
            l->splice(l->begin(), *l, it->second);
            repl++;
            return;
        }
        if (m->size() == cap) {
            m->erase(l->back().first);
            l->pop_back();
        }
        l->emplace_front(k, v);
        m->emplace(k, l->begin());
    }
    bool contains(uint64_t k) const { return m->find(k) != m->end(); }
    size_t len() const { return m->size(); }
    uint64_t replaced() const { return repl; }
    size_t bytes() const { return bench::counter_for<StdTag>().cur; }
    size_t self_reported() const { return 0; }
    void destroy() {
        delete m;
        delete l;
        m = nullptr;
        l = nullptr;
    }
};

/* ---- phases: one out-of-line function each, the same for every contender - */

struct GetSum {
    uint64_t found, sum;
};

template <class C> NOINLINE void phase_put(C &c, const uint64_t *k, size_t n) {
    for (size_t i = 0; i < n; i++) c.put(k[i], make_val(k[i]), 0);
}
template <class C> NOINLINE GetSum phase_get(C &c, const uint64_t *k, size_t n) {
    GetSum r = {0, 0};
    for (size_t i = 0; i < n; i++) {
        const Val *v = c.get(k[i], 0);
        if (v) {
            r.found++;
            r.sum += v->w[1];
        }
    }
    return r;
}
template <class C> NOINLINE uint64_t phase_mixed(C &c, const uint64_t *k, size_t n) {
    uint64_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        const Val *v = c.get(k[i], 0);
        if (v) hits += v->w[0] == k[i];
        else c.put(k[i], make_val(k[i]), 0);
    }
    return hits;
}

enum { P_FILL, P_HIT, P_MISS, P_EVICT, P_MIXED, P_COUNT };
static const char *const phase_name[P_COUNT] = {"fill", "get hit", "get miss", "put evict", "mixed"};

/* checks: the first NC_POLICY_FREE hold for any policy */
enum { C_FILL_LEN, C_HIT_FOUND, C_HIT_SUM, C_MISS_FOUND, C_EVICT_LEN, C_SURVIVORS, C_MIXED_HITS, C_FINAL_LEN, C_COUNT };
enum { NC_POLICY_FREE = C_EVICT_LEN + 1 };
static const char *const check_name[C_COUNT] = {"fill len",      "hits found", "hit sum",     "misses found",
                                                "len after put", "survivors",  "mixed hits", "final len"};

struct Result {
    const char *name = "";
    bench_samples s[P_COUNT] = {};
    double bytes = 0, self_bytes = 0;
    uint64_t check[C_COUNT] = {};
    bool leak = false;
    bool have = false;
    double med(int p) const { return bench_median(&s[p]); }
};

/* ---- workload ------------------------------------------------------------ */

/* Zipf(theta) over ranks 0..n-1 by inversion of the exact CDF. */
struct Zipf {
    std::vector<double> cdf;
    Zipf(size_t n, double theta) : cdf(n) {
        double s = 0;
        for (size_t i = 0; i < n; i++) cdf[i] = s += 1.0 / pow((double)(i + 1), theta);
        for (size_t i = 0; i < n; i++) cdf[i] /= s;
        cdf[n - 1] = 1.0;
    }
    size_t draw(ds_rng *r) const {
        double u = ds_rng_double(r);
        return (size_t)(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    }
};

/* Key number i -> a distinct random-looking key (ds_mix64 is a bijection). */
static inline uint64_t key_of(uint64_t i, uint64_t salt) { return ds_mix64(i ^ salt); }

enum { D_ZIPF, D_UNIFORM, D_COUNT };
static const char *const dist_name[D_COUNT] = {"zipf", "uniform"};

struct Stream {
    std::vector<uint64_t> hit, miss, mixed;
    uint64_t hit_sum = 0; /* expected: sum of (key + 1) over hit */
};
struct Data {
    size_t n = 0;
    double theta = 0.99;
    std::vector<uint64_t> fill, fresh;
    Stream st[D_COUNT];
};

/* Rank -> key number through a random permutation of [0, space). */
static std::vector<uint32_t> make_perm(size_t space, ds_rng *r) {
    std::vector<uint32_t> perm(space);
    for (size_t i = 0; i < space; i++) perm[i] = (uint32_t)i;
    for (size_t i = space; i > 1; i--) std::swap(perm[i - 1], perm[ds_rng_below(r, i)]);
    return perm;
}

static Data make_data(size_t n, double theta, uint64_t seed, const bool want[D_COUNT]) {
    Data d;
    ds_rng r;
    ds_rng_seed(&r, seed);
    const uint64_t salt = ds_rng_next(&r);
    const size_t space = 2 * n;
    d.n = n;
    d.theta = theta;
    d.fill.resize(n);
    for (size_t i = 0; i < n; i++) d.fill[i] = key_of(i, salt);
    d.fresh.resize(n / 2);
    for (size_t i = 0; i < n / 2; i++) d.fresh[i] = key_of(space + i, salt);
    std::vector<uint32_t> perm = make_perm(space, &r);
    Zipf *z = want[D_ZIPF] ? new Zipf(space, theta) : nullptr;
    for (int di = 0; di < D_COUNT; di++) {
        if (!want[di]) continue;
        Stream &s = d.st[di];
        auto draw = [&]() -> uint32_t { return perm[di == D_ZIPF ? z->draw(&r) : ds_rng_below(&r, space)]; };
        s.hit.reserve(n);
        s.miss.reserve(n);
        while (s.hit.size() < n || s.miss.size() < n) {
            uint32_t i = draw();
            if (i < n) {
                if (s.hit.size() < n) {
                    s.hit.push_back(key_of(i, salt));
                    s.hit_sum += key_of(i, salt) + 1;
                }
            } else if (s.miss.size() < n) {
                s.miss.push_back(key_of(i, salt));
            }
        }
        s.mixed.resize(n);
        for (size_t i = 0; i < n; i++) s.mixed[i] = key_of(draw(), salt);
    }
    delete z;
    return d;
}

/* After a contender frees a million small nodes they sit in glibc's fastbins;
 * the next large malloc consolidates them all (~100 ms at 1M entries), which
 * would land on whichever contender runs next (measured: ds's fill 105 ns
 * alone, 190-215 ns right after std). A large malloc here, untimed, does
 * that housekeeping between contenders. */
static void settle_heap(void) {
    void *volatile p = malloc((size_t)64 << 20);
    free(p);
}

template <class C> static void run_rep(const Data &d, int di, Result &res) {
    C c;
    const size_t n = d.n, ne = d.fresh.size();
    const Stream &s = d.st[di];
    int64_t t;
    c.init(n);

    t = bench_now();
    phase_put(c, d.fill.data(), n);
    bench_add(&res.s[P_FILL], (double)(bench_now() - t) / (double)n);
    res.check[C_FILL_LEN] = c.len();
    res.bytes = (double)c.bytes();
    res.self_bytes = (double)c.self_reported();

    t = bench_now();
    GetSum h = phase_get(c, s.hit.data(), n);
    bench_add(&res.s[P_HIT], (double)(bench_now() - t) / (double)n);
    res.check[C_HIT_FOUND] = h.found;
    res.check[C_HIT_SUM] = h.sum;

    t = bench_now();
    GetSum m = phase_get(c, s.miss.data(), n);
    bench_add(&res.s[P_MISS], (double)(bench_now() - t) / (double)n);
    res.check[C_MISS_FOUND] = m.found;

    t = bench_now();
    phase_put(c, d.fresh.data(), ne);
    bench_add(&res.s[P_EVICT], (double)(bench_now() - t) / (double)ne);
    res.check[C_EVICT_LEN] = c.len();
    uint64_t surv = 0;
    for (size_t i = 0; i < n; i++) surv += c.contains(d.fill[i]);
    res.check[C_SURVIVORS] = surv;

    t = bench_now();
    res.check[C_MIXED_HITS] = phase_mixed(c, s.mixed.data(), n);
    bench_add(&res.s[P_MIXED], (double)(bench_now() - t) / (double)n);
    res.check[C_FINAL_LEN] = c.len();

    c.destroy();
    res.leak = c.bytes() != 0;
    res.have = true;
    settle_heap();
}

struct Contender {
    const char *name;
    bool lru; /* an exact LRU: must agree on every check */
    void (*run)(const Data &, int, Result &);
};
static const Contender all_contenders[] = {
    {"ds", true, run_rep<DsLru>},
    {"ds-wtlfu", false, run_rep<DsTlfu>},
    {"uthash", true, run_rep<UtLru>},
    {"std", true, run_rep<StdLru>},
};
enum { NCONT = sizeof all_contenders / sizeof all_contenders[0] };

/* ---- reporting ---------------------------------------------------------- */

struct Target {
    std::string line;
    bool met;
};
static std::vector<Target> g_targets;
static bool g_verbose;
static bool g_fail;

static void add_target(bool met, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_target(bool met, const char *fmt, ...) {
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_targets.push_back({buf, met});
}

static const Result *find_res(const std::vector<Result> &rs, const char *name) {
    for (const Result &r : rs)
        if (!strcmp(r.name, name)) return &r;
    return nullptr;
}

static const char *size_label(size_t n, char *buf, size_t cap) {
    if (n % 1000000 == 0) snprintf(buf, cap, "%zuM", n / 1000000);
    else if (n % 1000 == 0) snprintf(buf, cap, "%zuk", n / 1000);
    else snprintf(buf, cap, "%zu", n);
    return buf;
}

static void report(const Data &d, int di, int reps, const std::vector<Result> &rs) {
    char lbl[32], sp[32];
    size_label(d.n, lbl, sizeof lbl);
    size_label(2 * d.n, sp, sizeof sp);
    const Result *ds = find_res(rs, "ds");
    const size_t n = d.n;

    if (di == D_ZIPF)
        printf("\n== cache  N = %s entries, uint64 -> 64-byte value, keys Zipf(%.2f) over %s, median of %d rep%s ==\n",
               lbl, d.theta, sp, reps, reps == 1 ? "" : "s");
    else
        printf("\n== cache  N = %s entries, uint64 -> 64-byte value, keys uniform over %s, median of %d rep%s ==\n", lbl,
               sp, reps, reps == 1 ? "" : "s");
    printf("%-14s", "ns/op");
    for (const Result &r : rs) printf("%10s", r.name);
    printf("\n");
    for (int p = 0; p < P_COUNT; p++) {
        printf("%-14s", phase_name[p]);
        for (const Result &r : rs) printf("%10.2f", r.med(p));
        printf("\n");
    }
    printf("%-14s", "mixed hit %");
    for (const Result &r : rs) printf("%10.2f", 100.0 * (double)r.check[C_MIXED_HITS] / (double)n);
    printf("\n");
    printf("%-14s", "Mops/s");
    for (const Result &r : rs) printf("%10s", r.name);
    printf("\n");
    for (int p = 0; p < P_COUNT; p++) {
        printf("%-14s", phase_name[p]);
        for (const Result &r : rs) printf("%10.1f", bench_mops(r.med(p)));
        printf("\n");
    }
    if (ds && rs.size() > 1) {
        printf("%-14s", "peer/ds");
        for (const Result &r : rs)
            if (&r != ds) printf("%10s", r.name);
        printf("   (time ratio, > 1: ds faster)\n");
        for (int p = 0; p < P_COUNT; p++) {
            printf("%-14s", phase_name[p]);
            for (const Result &r : rs)
                if (&r != ds) printf("%9.2fx", bench_ratio(r.med(p), ds->med(p)));
            printf("\n");
        }
    }
    if (g_verbose)
        for (const Result &r : rs)
            for (int p = 0; p < P_COUNT; p++) {
                printf("  %-8s %-9s reps:", r.name, phase_name[p]);
                for (int i = 0; i < r.s[p].n; i++) printf(" %.2f", r.s[p].ns[i]);
                printf("\n");
            }

    /* checks: absolute ones for everybody, full agreement among the LRUs */
    const Stream &s = d.st[di];
    const uint64_t expect[NC_POLICY_FREE] = {n, n, s.hit_sum, 0, n};
    bool ok = true;
    const Result *lru0 = nullptr;
    for (const Result &r : rs) {
        bool lru = false;
        for (const Contender &k : all_contenders)
            if (!strcmp(k.name, r.name)) lru = k.lru;
        if (r.leak) {
            printf("LEAK: %s still holds bytes after free\n", r.name);
            ok = false;
        }
        for (int c = 0; c < NC_POLICY_FREE; c++)
            if (r.check[c] != expect[c]) {
                printf("MISMATCH: %s %s = %" PRIu64 ", expected %" PRIu64 "\n", r.name, check_name[c], r.check[c],
                       expect[c]);
                ok = false;
            }
        if (!lru) continue;
        if (!lru0) lru0 = &r;
        else if (memcmp(r.check, lru0->check, sizeof r.check) != 0) {
            printf("MISMATCH: the exact LRUs %s and %s disagree:", lru0->name, r.name);
            for (int c = 0; c < C_COUNT; c++)
                if (r.check[c] != lru0->check[c])
                    printf(" %s %" PRIu64 " vs %" PRIu64 ";", check_name[c], lru0->check[c], r.check[c]);
            printf("\n");
            ok = false;
        }
    }
    printf("checks: fill holds %zu, %zu hits found (sum %" PRIu64 "), 0 of %zu misses found, len %zu after %zu evicting "
           "puts",
           n, n, s.hit_sum, n, n, d.fresh.size());
    if (lru0)
        printf("; LRU: %" PRIu64 " of the filled keys survive, %" PRIu64 " mixed hits", lru0->check[C_SURVIVORS],
               lru0->check[C_MIXED_HITS]);
    if (const Result *t = find_res(rs, "ds-wtlfu"))
        printf("; W-TinyLFU: %" PRIu64 " survive, %" PRIu64 " mixed hits", t->check[C_SURVIVORS],
               t->check[C_MIXED_HITS]);
    printf(" %s\n", ok ? "- all contenders agree" : "- MISMATCH");
    if (!ok) g_fail = true;

    /* targets */
    if (!ds) return;
    const char *qual = d.n == 1000000 ? "" : " (size not in the issue: indicative)";
    const double need[2] = {2.0, 1.5};
    const char *peers[2] = {"uthash", "std"};
    for (int i = 0; i < 2; i++) {
        const Result *r = find_res(rs, peers[i]);
        if (!r) continue;
        double q = bench_ratio(r->med(P_HIT), ds->med(P_HIT));
        add_target(q >= need[i], "%-7s get hit: ds LRU >= %.1fx faster than %s: ds %.2f ns, %s %.2f ns, %s/ds %.2fx%s",
                   dist_name[di], need[i], peers[i], ds->med(P_HIT), peers[i], r->med(P_HIT), peers[i], q, qual);
    }
    if (const Result *t = find_res(rs, "ds-wtlfu")) {
        double q = t->med(P_HIT) / ds->med(P_HIT);
        add_target(q <= 1.3, "%-7s get hit: W-TinyLFU within 1.3x of ds LRU: W-TinyLFU %.2f ns, LRU %.2f ns, %.2fx%s",
                   dist_name[di], t->med(P_HIT), ds->med(P_HIT), q, qual);
    }
}

static void report_memory(const Data &d, const std::vector<Result> &rs) {
    char lbl[32];
    size_label(d.n, lbl, sizeof lbl);
    const double n = (double)d.n;
    printf("\n== memory  N = %s entries once full (K + V = %zu bytes), bytes counted by the allocator ==\n", lbl,
           KV_BYTES);
    printf("%-22s", "");
    for (const Result &r : rs) printf("%10s", r.name);
    printf("\n%-22s", "total MB");
    for (const Result &r : rs) printf("%10.1f", r.bytes / 1e6);
    printf("\n%-22s", "bytes/entry");
    for (const Result &r : rs) printf("%10.1f", r.bytes / n);
    printf("\n%-22s", "beyond K + V");
    for (const Result &r : rs) printf("%10.1f", r.bytes / n - (double)KV_BYTES);
    printf("\n%-22s", "name_memory()/entry");
    for (const Result &r : rs) {
        if (r.self_bytes > 0) printf("%10.1f", r.self_bytes / n);
        else printf("%10s", "-");
    }
    printf("\n");
    const Result *ds = find_res(rs, "ds");
    if (ds) {
        printf("%-22s", "overhead peer/ds");
        for (const Result &r : rs) {
            if (&r == ds) printf("%10s", "");
            else printf("%9.2fx", bench_ratio(r.bytes / n - (double)KV_BYTES, ds->bytes / n - (double)KV_BYTES));
        }
        printf("\n");
        for (const Result &r : rs)
            if (r.self_bytes > 0 && r.self_bytes != r.bytes)
                printf("note: %s name_memory() says %.0f bytes, the allocator counted %.0f\n", r.name, r.self_bytes,
                       r.bytes);
        double over = ds->bytes / n - (double)KV_BYTES;
        add_target(over <= 32.0, "memory:  ds count-bounded LRU <= 32 bytes/entry beyond K + V: %.1f bytes%s", over,
                   d.n == 1000000 ? "" : " (size not in the issue: indicative)");
    }
}

/* ---- op files and replay (the whole-process comparison) ------------------ */

static const char OPS_MAGIC[8] = {'D', 'S', 'C', 'O', 'P', 'S', '0', '1'};

static void put_le64(unsigned char *p, uint64_t x) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(x >> (8 * i));
}
static uint64_t get_le64(const unsigned char *p) {
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = x << 8 | p[i];
    return x;
}

static int write_ops(const char *path, size_t nops, size_t cap, size_t space, double put_frac, double theta,
                     uint64_t seed) {
    if (!nops || !cap || !space || space > UINT32_MAX) {
        fprintf(stderr, "bench_cache: --ops, --cap, --space must be positive (space < 2^32)\n");
        return 2;
    }
    ds_rng r;
    ds_rng_seed(&r, seed);
    const uint64_t salt = ds_rng_next(&r);
    std::vector<uint32_t> perm = make_perm(space, &r);
    Zipf z(space, theta);
    std::vector<unsigned char> ops(nops), keys(nops * 8);
    size_t puts = 0;
    for (size_t i = 0; i < nops; i++) {
        ops[i] = ds_rng_double(&r) < put_frac;
        puts += ops[i];
        put_le64(&keys[i * 8], key_of(perm[z.draw(&r)], salt));
    }
    unsigned char hdr[32];
    memcpy(hdr, OPS_MAGIC, 8);
    put_le64(hdr + 8, cap);
    put_le64(hdr + 16, nops);
    put_le64(hdr + 24, space);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(hdr, 1, 32, f) != 32 || fwrite(ops.data(), 1, nops, f) != nops ||
        fwrite(keys.data(), 1, keys.size(), f) != keys.size() || fclose(f) != 0) {
        fprintf(stderr, "bench_cache: cannot write %s\n", path);
        return 2;
    }
    printf("wrote %s: %zu ops (%zu gets, %zu puts), capacity %zu, keys Zipf(%.2f) over %zu\n", path, nops,
           nops - puts, puts, cap, theta, space);
    return 0;
}

struct OpFile {
    size_t cap = 0, n = 0, space = 0;
    std::vector<unsigned char> ops;
    std::vector<uint64_t> keys;
};
static bool read_ops(const char *path, OpFile &o) {
    FILE *f = fopen(path, "rb");
    unsigned char hdr[32];
    if (!f) return false;
    bool ok = fread(hdr, 1, 32, f) == 32 && !memcmp(hdr, OPS_MAGIC, 8);
    if (ok) {
        o.cap = (size_t)get_le64(hdr + 8);
        o.n = (size_t)get_le64(hdr + 16);
        o.space = (size_t)get_le64(hdr + 24);
        ok = o.n < ((size_t)1 << 32);
    }
    if (ok) {
        std::vector<unsigned char> raw(o.n * 8);
        o.ops.resize(o.n);
        ok = fread(o.ops.data(), 1, o.n, f) == o.n && fread(raw.data(), 1, raw.size(), f) == raw.size();
        o.keys.resize(o.n);
        for (size_t i = 0; ok && i < o.n; i++) o.keys[i] = get_le64(&raw[i * 8]);
    }
    fclose(f);
    return ok;
}

template <class C> static void replay(const OpFile &o, const char *label, int64_t ttl_ns) {
    C c;
    c.init(o.cap, ttl_ns);
    uint64_t gets = 0, get_hits = 0;
    const int64_t t0 = bench_now();
    for (size_t i = 0; i < o.n; i++) {
        const uint64_t k = o.keys[i];
        const int64_t now = ttl_ns ? ds_now_ns() : 0;
        if (o.ops[i] == 0) {
            gets++;
            if (c.get(k, now)) get_hits++;
            else c.put(k, make_val(k), now);
        } else {
            c.put(k, make_val(k), now);
        }
    }
    const double ms = (double)(bench_now() - t0) / 1e6;
    const uint64_t hits = get_hits + c.replaced();
    printf("cache_replay %s: capacity %zu ops %zu hits %" PRIu64 " misses %" PRIu64 " len %zu (loop %.1f ms)\n", label,
           o.cap, o.n, hits, (uint64_t)o.n - hits, c.len(), ms);
    c.destroy();
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr,
            "usage: bench_cache [--n N] [--reps R] [--warmup W] [--only ds,ds-wtlfu,uthash,std] [--dist zipf,uniform]\n"
            "                   [--theta T] [--seed S] [--fresh-mem] [--verbose] [--quick]\n"
            "       bench_cache --write-ops FILE [--ops N] [--cap C] [--space S] [--put-frac F] [--theta T] [--seed S]\n"
            "       bench_cache --replay FILE [--only ds|ds-wtlfu|uthash|std] [--ttl SEC]\n");
    exit(2);
}

static std::vector<std::string> split_list(const std::string &list) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= list.size()) {
        size_t e = list.find(',', pos);
        if (e == std::string::npos) e = list.size();
        out.push_back(list.substr(pos, e - pos));
        pos = e + 1;
    }
    return out;
}

int main(int argc, char **argv) {
    size_t n = 0, nops = 1000000, ops_cap = 100000, ops_space = 200000;
    int reps = 0, warmup = -1;
    bool quick = false, fresh_mem = false;
    double theta = 0.99, put_frac = 0.1, ttl_s = 0;
    uint64_t seed = 42;
    const char *write_path = nullptr, *replay_path = nullptr;
    std::vector<const Contender *> use;
    bool want[D_COUNT] = {false, false};
    bool any_dist = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&]() -> const char * {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--n") n = (size_t)strtoull(val(), nullptr, 10);
        else if (a == "--reps") reps = atoi(val());
        else if (a == "--warmup") warmup = atoi(val());
        else if (a == "--fresh-mem") fresh_mem = true;
        else if (a == "--verbose") g_verbose = true;
        else if (a == "--seed") seed = strtoull(val(), nullptr, 10);
        else if (a == "--theta") theta = atof(val());
        else if (a == "--quick") quick = true;
        else if (a == "--write-ops") write_path = val();
        else if (a == "--replay") replay_path = val();
        else if (a == "--ops") nops = (size_t)strtoull(val(), nullptr, 10);
        else if (a == "--cap") ops_cap = (size_t)strtoull(val(), nullptr, 10);
        else if (a == "--space") ops_space = (size_t)strtoull(val(), nullptr, 10);
        else if (a == "--put-frac") put_frac = atof(val());
        else if (a == "--ttl") ttl_s = atof(val());
        else if (a == "--dist") {
            for (const std::string &nm : split_list(val())) {
                int k = nm == "zipf" ? D_ZIPF : nm == "uniform" ? D_UNIFORM : -1;
                if (k < 0) {
                    fprintf(stderr, "bench_cache: unknown distribution '%s'\n", nm.c_str());
                    usage();
                }
                want[k] = any_dist = true;
            }
        } else if (a == "--only") {
            for (const std::string &nm : split_list(val())) {
                const Contender *c = nullptr;
                for (const Contender &k : all_contenders)
                    if (nm == k.name) c = &k;
                if (!c) {
                    fprintf(stderr, "bench_cache: unknown contender '%s'\n", nm.c_str());
                    usage();
                }
                use.push_back(c);
            }
        } else usage();
    }

    if (write_path) return write_ops(write_path, nops, ops_cap, ops_space, put_frac, theta, seed);
    if (replay_path) {
        OpFile o;
        if (!read_ops(replay_path, o) || o.cap == 0) {
            fprintf(stderr, "bench_cache: cannot read op file %s\n", replay_path);
            return 2;
        }
        const char *who = use.empty() ? "ds" : use[0]->name;
        if (use.size() > 1) usage();
        const int64_t ttl_ns = (int64_t)(ttl_s * 1e9);
        if (ttl_ns && strcmp(who, "ds") != 0 && strcmp(who, "ds-wtlfu") != 0) {
            fprintf(stderr, "bench_cache: --ttl is for ds only\n");
            return 2;
        }
        if (!strcmp(who, "ds")) replay<DsLru>(o, ttl_ns ? "ds-ttl" : "ds", ttl_ns);
        else if (!strcmp(who, "ds-wtlfu")) replay<DsTlfu>(o, ttl_ns ? "ds-wtlfu-ttl" : "ds-wtlfu", ttl_ns);
        else if (!strcmp(who, "uthash")) replay<UtLru>(o, "uthash", 0);
        else replay<StdLru>(o, "std", 0);
        return 0;
    }

    if (use.empty())
        for (const Contender &k : all_contenders) use.push_back(&k);
    if (!any_dist) want[D_ZIPF] = want[D_UNIFORM] = true;
    if (n == 0) n = quick ? 100000 : 1000000;
    if (n < 2 || n >= ((size_t)1 << 30)) usage();
    if (quick && reps == 0) reps = 1;
    if (reps <= 0) reps = bench_reps(5);
    if (reps > BENCH_MAX_REPS) reps = BENCH_MAX_REPS;
    if (warmup < 0) warmup = 1;
    if (!fresh_mem) { /* as bench_map: keep freed memory, no page faults in the timed reps */
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
    }

    printf("bench_cache: seed %" PRIu64 ", %d untimed warm-up round%s, freed memory %s, contenders:", seed, warmup,
           warmup == 1 ? "" : "s", fresh_mem ? "returned to the OS (--fresh-mem)" : "kept in the process");
    for (const Contender *c : use) printf(" %s", c->name);
    printf("\n");
    fflush(stdout);

    const int64_t tg = bench_now();
    Data d = make_data(n, theta, seed, want);
    printf("workload generated in %.2f s\n", (double)(bench_now() - tg) / 1e9);

    std::vector<Result> rs[D_COUNT];
    for (int di = 0; di < D_COUNT; di++) {
        rs[di].resize(use.size());
        for (size_t j = 0; j < use.size(); j++) rs[di][j].name = use[j]->name;
    }
    for (int k = 0; k < warmup; k++)
        for (int di = 0; di < D_COUNT; di++)
            if (want[di])
                for (size_t j = 0; j < use.size(); j++) {
                    Result scratch;
                    use[j]->run(d, di, scratch);
                }
    for (int k = 0; k < reps; k++) /* interleave contenders (and distributions) within each rep */
        for (int di = 0; di < D_COUNT; di++)
            if (want[di])
                for (size_t j = 0; j < use.size(); j++) use[j]->run(d, di, rs[di][j]);

    for (int di = 0; di < D_COUNT; di++)
        if (want[di]) report(d, di, reps, rs[di]);
    report_memory(d, rs[want[D_ZIPF] ? D_ZIPF : D_UNIFORM]);

    if (!g_targets.empty()) {
        int met = 0;
        printf("\ntargets (issue: ds LRU get hit >= 2x faster than the uthash LRU and >= 1.5x faster than the C++ LRU;\n"
               "         ds count-bounded LRU <= 32 bytes/entry beyond K and V; W-TinyLFU get hit within 1.3x of LRU)\n");
        for (const Target &t : g_targets) {
            printf("  %-7s %s\n", t.met ? "MET" : "MISSED", t.line.c_str());
            met += t.met;
        }
        printf("  %d of %zu targets met\n", met, g_targets.size());
    }
    printf("peak RSS %ld KiB\n", bench_peak_rss_kb());
    return g_fail ? 1 : 0;
}
