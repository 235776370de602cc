/* bench/bench_map.cc - DS_MAP(u64map, uint64_t, uint64_t) beside the hash maps
 * a user would pick instead: boost::unordered_flat_map, absl::flat_hash_map,
 * uthash and std::unordered_map. Every contender uses its default hash.
 *
 * Workload, per N (default 1M and 10M), on the same keys for everyone:
 *   keys     N random uint64 from ds_rng (seeded); miss keys and churn keys
 *            are N more each from the same stream (disjoint in practice)
 *   insert   N upserts into an empty map (no reserve)      ns per insert
 *   hit      look up every key, in shuffled order          ns per lookup
 *   miss     look up N absent keys                         ns per lookup
 *   iterate  sum of all values                             ns per entry
 *   churn    erase one present key + upsert one new key    ns per pair
 *   bytes    bytes the map allocated after the inserts / N (a counting
 *            allocator: a custom std allocator, a ds_alloc, uthash's
 *            uthash_malloc/uthash_free hooks plus its per-item mallocs;
 *            malloc's own per-block overhead is not counted)
 * Each rep builds a fresh map and runs every phase; reps are interleaved
 * across contenders, after one untimed warm-up round; the median rep is
 * reported. Checksums from every phase must agree across contenders (exit
 * status 1 otherwise). Each phase is its own noinline function template,
 * the same for every contender, so its loop is easy to find in objdump.
 *
 *   bench_map [--n N]... [--reps R] [--warmup W] [--only NAME[,NAME]] [--seed S]
 *             [--fresh-mem] [--cpu-time] [--verbose] [--quick]
 *     --n N        run this size (repeatable; default 1000000 and 10000000)
 *     --reps R     reps per size (default 5 at <= 1M, 3 above; env BENCH_REPS)
 *     --warmup W   untimed rounds of every contender first (default 1)
 *     --only LIST  contenders: ds, boost, absl, uthash, std (default all)
 *     --fresh-mem  give freed memory back to the OS between reps (glibc's
 *                  default). Without it the bench keeps it (mallopt), so
 *                  timings after the warm-up exclude the kernel faulting
 *                  pages in, which on a VM varies 2x from rep to rep
 *     --verbose    print every rep, not just the medians
 *     --cpu-time   time each phase by the thread's CPU clock instead of the
 *                  monotonic one: on a shared machine, time the thread
 *                  spent switched out (other processes on the same cores)
 *                  stays out of the figure; cache interference does not
 *     --quick      smoke run: N = 100000, 1 rep
 */
#define DS_IMPLEMENTATION
#include "ds.h"
#define BENCH_UTHASH /* bench.h: uthash hooks counting into g_uthash_count */
#include "bench.h"

#include <boost/unordered/unordered_flat_map.hpp>
#include <absl/container/flat_hash_map.h>

#include <malloc.h>

#include <algorithm>
#include <cinttypes>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

/* ---- uthash, counting through its allocation hooks ------------------------ */
#include <uthash.h>

DS_MAP(u64map, uint64_t, uint64_t, ds_hash_u64, ds_eq_u64)

#define NOINLINE __attribute__((noinline))

static bool g_cpu_time; /* --cpu-time */
static int64_t phase_now() {
    if (!g_cpu_time) return bench_now();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- contenders: one small adapter each, all inlined into the phases ------ */

struct DsMap {
    static const char *name() { return "ds"; }
    bench_counter cnt;
    ds_alloc a;
    u64map m;
    void init() {
        bench_counter_reset(&cnt);
        a = bench_ds_alloc(&cnt);
        u64map_init_seed(&m, &a, 0x5eed5eed12345678ull);
    }
    void put(uint64_t k, uint64_t v) {
        if (DS__UNLIKELY(u64map_put(&m, k, v, NULL) != DS_OK)) abort();
    }
    const uint64_t *get(uint64_t k) const { return u64map_get(&m, k); }
    bool erase(uint64_t k) { return u64map_del(&m, k, NULL) == DS_OK; }
    uint64_t sum() const {
        uint64_t s = 0;
        DS_FOREACH(u64map, &m, e) s += e->val;
        return s;
    }
    size_t len() const { return u64map_len(&m); }
    size_t bytes() const { return cnt.cur; }
    void destroy() { u64map_free(&m); }
};

/* The C++ containers differ only in type; a counting allocator per tag. */
template <class Map, class Tag> struct StdLike {
    Map *m = nullptr;
    void init() {
        bench_counter_reset(&bench::counter_for<Tag>());
        m = new Map();
    }
    void put(uint64_t k, uint64_t v) { m->insert_or_assign(k, v); }
    const uint64_t *get(uint64_t k) const {
        auto it = m->find(k);
        return it == m->end() ? nullptr : &it->second;
    }
    bool erase(uint64_t k) { return m->erase(k) != 0; }
    uint64_t sum() const {
        uint64_t s = 0;
        for (const auto &kv : *m) s += kv.second;
        return s;
    }
    size_t len() const { return m->size(); }
    size_t bytes() const { return bench::counter_for<Tag>().cur; }
    void destroy() {
        delete m;
        m = nullptr;
    }
};

typedef std::pair<const uint64_t, uint64_t> KV;
struct BoostTag {};
struct AbslTag {};
struct StdTag {};
struct BoostMap
    : StdLike<boost::unordered_flat_map<uint64_t, uint64_t, boost::hash<uint64_t>, std::equal_to<uint64_t>,
                                        bench::counting_allocator<KV, BoostTag>>,
              BoostTag> {
    static const char *name() { return "boost"; }
};
struct AbslMap : StdLike<absl::flat_hash_map<uint64_t, uint64_t, absl::Hash<uint64_t>, std::equal_to<uint64_t>,
                                             bench::counting_allocator<KV, AbslTag>>,
                         AbslTag> {
    static const char *name() { return "absl"; }
};
struct StdMap : StdLike<std::unordered_map<uint64_t, uint64_t, std::hash<uint64_t>, std::equal_to<uint64_t>,
                                           bench::counting_allocator<KV, StdTag>>,
                        StdTag> {
    static const char *name() { return "std"; }
};

/* uthash the idiomatic way: one malloc'd item per entry, HASH_FIND before
 * HASH_ADD (uthash does not check for duplicates), default hash (Jenkins). */
struct UtItem {
    uint64_t key;
    uint64_t val;
    UT_hash_handle hh;
};
struct UtMap {
    static const char *name() { return "uthash"; }
    UtItem *head = nullptr;
    void init() {
        bench_counter_reset(&g_uthash_count);
        head = nullptr;
    }
    void put(uint64_t k, uint64_t v) {
        UtItem *it;
        HASH_FIND(hh, head, &k, sizeof(uint64_t), it);
        if (it) {
            it->val = v;
            return;
        }
        it = (UtItem *)bench_ut_malloc(sizeof *it);
        if (!it) abort();
        it->key = k;
        it->val = v;
        HASH_ADD(hh, head, key, sizeof(uint64_t), it);
    }
    const uint64_t *get(uint64_t k) const {
        UtItem *it;
        HASH_FIND(hh, head, &k, sizeof(uint64_t), it);
        return it ? &it->val : nullptr;
    }
    bool erase(uint64_t k) {
        UtItem *it;
        HASH_FIND(hh, head, &k, sizeof(uint64_t), it);
        if (!it) return false;
        HASH_DELETE(hh, head, it);
        bench_ut_free(it, sizeof *it);
        return true;
    }
    uint64_t sum() const {
        uint64_t s = 0;
        for (const UtItem *it = head; it; it = (const UtItem *)it->hh.next) s += it->val;
        return s;
    }
    size_t len() const { return HASH_COUNT(head); }
    size_t bytes() const { return g_uthash_count.cur; }
    void destroy() {
        UtItem *it, *tmp;
        HASH_ITER(hh, head, it, tmp) {
            HASH_DELETE(hh, head, it);
            bench_ut_free(it, sizeof *it);
        }
        head = nullptr;
    }
};

/* ---- phases: one out-of-line function each, so the hot loops are easy to
 * find in objdump; identical for every contender --------------------------- */

template <class C> NOINLINE void phase_insert(C &c, const uint64_t *k, size_t n) {
    for (size_t i = 0; i < n; i++) c.put(k[i], i + 1);
}
template <class C> NOINLINE uint64_t phase_hit(const C &c, const uint64_t *k, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *v = c.get(k[i]);
        if (v) s += *v;
    }
    return s;
}
template <class C> NOINLINE uint64_t phase_miss(const C &c, const uint64_t *k, size_t n) {
    uint64_t found = 0;
    for (size_t i = 0; i < n; i++) found += c.get(k[i]) != nullptr;
    return found;
}
template <class C> NOINLINE uint64_t phase_churn(C &c, const uint64_t *del, const uint64_t *add, size_t n) {
    uint64_t erased = 0;
    for (size_t i = 0; i < n; i++) {
        erased += c.erase(del[i]);
        c.put(add[i], i + 1);
    }
    return erased;
}

enum { P_INSERT, P_HIT, P_MISS, P_CHURN, P_ITER, P_COUNT };
static const char *const phase_name[P_COUNT] = {"insert", "hit", "miss", "churn", "iterate"};

struct Result {
    const char *name;
    bench_samples s[P_COUNT] = {};
    double bytes_per_entry = 0;
    uint64_t check[5] = {0, 0, 0, 0, 0}; /* hit sum, miss found, iter sum, erased, final len */
    bool leak = false;
    double med(int p) const { return bench_median(&s[p]); }
};

struct Data {
    size_t n;
    std::vector<uint64_t> keys, hit, miss, add;
};

static Data make_data(size_t n, uint64_t seed) {
    Data d;
    ds_rng r;
    ds_rng_seed(&r, seed);
    d.n = n;
    d.keys.resize(n);
    d.miss.resize(n);
    d.add.resize(n);
    for (size_t i = 0; i < n; i++) d.keys[i] = ds_rng_next(&r);
    for (size_t i = 0; i < n; i++) d.miss[i] = ds_rng_next(&r);
    for (size_t i = 0; i < n; i++) d.add[i] = ds_rng_next(&r);
    d.hit = d.keys;
    for (size_t i = n; i > 1; i--) std::swap(d.hit[i - 1], d.hit[ds_rng_below(&r, i)]);
    return d;
}

template <class C> static void run_rep(const Data &d, Result &res) {
    C c;
    const size_t n = d.n;
    int64_t t;
    c.init();

    t = phase_now();
    phase_insert(c, d.keys.data(), n);
    bench_add(&res.s[P_INSERT], (double)(phase_now() - t) / (double)n);
    res.bytes_per_entry = (double)c.bytes() / (double)n;

    t = phase_now();
    res.check[0] = phase_hit(c, d.hit.data(), n);
    bench_add(&res.s[P_HIT], (double)(phase_now() - t) / (double)n);

    t = phase_now();
    res.check[1] = phase_miss(c, d.miss.data(), n);
    bench_add(&res.s[P_MISS], (double)(phase_now() - t) / (double)n);

    t = phase_now();
    res.check[2] = c.sum();
    bench_add(&res.s[P_ITER], (double)(phase_now() - t) / (double)n);

    t = phase_now();
    res.check[3] = phase_churn(c, d.hit.data(), d.add.data(), n);
    bench_add(&res.s[P_CHURN], (double)(phase_now() - t) / (double)n);
    res.check[4] = c.len();

    c.destroy();
    res.leak = c.bytes() != 0;
}

struct Contender {
    const char *name;
    void (*run)(const Data &, Result &);
};
static const Contender all_contenders[] = {
    {"ds", run_rep<DsMap>},   {"boost", run_rep<BoostMap>}, {"absl", run_rep<AbslMap>},
    {"uthash", run_rep<UtMap>}, {"std", run_rep<StdMap>},
};
enum { NC = sizeof all_contenders / sizeof all_contenders[0] };

/* ---- reporting ---------------------------------------------------------- */

struct Target {
    std::string line;
    bool met;
};
static std::vector<Target> g_targets;
static bool g_verbose;

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

static void add_target(bool met, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_target(bool met, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_targets.push_back({buf, met});
}

static void report(const Data &d, int reps, const std::vector<Result> &rs) {
    char lbl[32];
    size_label(d.n, lbl, sizeof lbl);
    const Result *ds = find_res(rs, "ds");

    printf("\n== map  N = %s (%zu) random uint64 -> uint64, median of %d rep%s ==\n", lbl, d.n, reps,
           reps == 1 ? "" : "s");
    printf("%-12s", "ns/op");
    for (const Result &r : rs) printf("%10s", r.name);
    printf("\n");
    for (int p = 0; p < P_COUNT; p++) {
        printf("%-12s", phase_name[p]);
        for (const Result &r : rs) printf("%10.2f", r.med(p));
        printf("\n");
    }
    printf("%-12s", "bytes/entry");
    for (const Result &r : rs) printf("%10.1f", r.bytes_per_entry);
    printf("\n");

    printf("%-12s", "Mops/s");
    for (const Result &r : rs) printf("%10s", r.name);
    printf("\n");
    for (int p = 0; p < P_COUNT; p++) {
        printf("%-12s", phase_name[p]);
        for (const Result &r : rs) printf("%10.1f", bench_mops(r.med(p)));
        printf("\n");
    }

    if (ds && rs.size() > 1) {
        printf("%-12s", "peer/ds");
        for (const Result &r : rs)
            if (&r != ds) printf("%10s", r.name);
        printf("   (time ratio, > 1: ds faster; bytes: peer/ds)\n");
        for (int p = 0; p < P_COUNT; p++) {
            printf("%-12s", phase_name[p]);
            for (const Result &r : rs)
                if (&r != ds) printf("%9.2fx", bench_ratio(r.med(p), ds->med(p)));
            printf("\n");
        }
        printf("%-12s", "bytes/entry");
        for (const Result &r : rs)
            if (&r != ds) printf("%9.2fx", bench_ratio(r.bytes_per_entry, ds->bytes_per_entry));
        printf("\n");
    }

    if (g_verbose)
        for (const Result &r : rs)
            for (int p = 0; p < P_COUNT; p++) {
                printf("  %-7s %-8s reps:", r.name, phase_name[p]);
                for (int i = 0; i < r.s[p].n; i++) printf(" %.2f", r.s[p].ns[i]);
                printf("\n");
            }

    /* checksums */
    bool agree = true;
    for (const Result &r : rs) {
        if (r.leak) {
            printf("LEAK: %s still holds bytes after free\n", r.name);
            agree = false;
        }
        if (memcmp(r.check, rs[0].check, sizeof r.check) != 0) agree = false;
    }
    printf("checksums (hit sum, misses found, iter sum, churn erased, final len): %" PRIu64 " %" PRIu64 " %" PRIu64
           " %" PRIu64 " %" PRIu64 " %s\n",
           rs[0].check[0], rs[0].check[1], rs[0].check[2], rs[0].check[3], rs[0].check[4],
           agree ? "- all contenders agree" : "- MISMATCH");
    if (!agree)
        for (const Result &r : rs)
            printf("  %-8s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", r.name, r.check[0],
                   r.check[1], r.check[2], r.check[3], r.check[4]);
    if (!agree) exit(1);

    /* targets (the map issue): speed against boost on insert/hit/miss, against
     * uthash and std on the same ops, memory against boost. */
    if (!ds) return;
    const int tp[3] = {P_INSERT, P_HIT, P_MISS};
    const char *qual = (d.n == 1000000 || d.n == 10000000) ? "" : " (size not in the issue: indicative)";
    if (const Result *b = find_res(rs, "boost")) {
        for (int p : tp) {
            double q = ds->med(p) / b->med(p);
            add_target(q <= 1.25, "N=%-4s %-7s ds within 1.25x of boost: ds %.2f ns, boost %.2f ns, ds/boost %.3fx%s",
                       lbl, phase_name[p], ds->med(p), b->med(p), q, qual);
        }
        double q = ds->bytes_per_entry / b->bytes_per_entry;
        add_target(q <= 1.10, "N=%-4s bytes   ds <= boost +10%%: ds %.1f B/entry, boost %.1f B/entry, ds/boost %.3f%s", lbl,
                   ds->bytes_per_entry, b->bytes_per_entry, q, qual);
    }
    const double need = d.n >= 10000000 ? 1.7 : 2.0;
    for (const char *peer : {"uthash", "std"}) {
        const Result *r = find_res(rs, peer);
        if (!r) continue;
        for (int p : tp) {
            double q = bench_ratio(r->med(p), ds->med(p));
            add_target(q >= need, "N=%-4s %-7s ds >= %.1fx faster than %s: ds %.2f ns, %s %.2f ns, %s/ds %.3fx%s", lbl,
                       phase_name[p], need, peer, ds->med(p), peer, r->med(p), peer, q, qual);
        }
    }
}

static void usage(void) {
    fprintf(stderr, "usage: bench_map [--n N]... [--reps R] [--warmup W] [--only ds,boost,absl,uthash,std] [--seed S]\n"
                    "                 [--fresh-mem] [--cpu-time] [--verbose] [--quick]\n");
    exit(2);
}

int main(int argc, char **argv) {
    std::vector<size_t> sizes;
    int reps = 0, warmup = -1;
    bool quick = false, fresh_mem = false;
    uint64_t seed = 42;
    std::vector<const Contender *> use;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&]() -> const char * {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--n") sizes.push_back((size_t)strtoull(val(), nullptr, 10));
        else if (a == "--reps") reps = atoi(val());
        else if (a == "--warmup") warmup = atoi(val());
        else if (a == "--fresh-mem") fresh_mem = true;
        else if (a == "--verbose") g_verbose = true;
        else if (a == "--cpu-time") g_cpu_time = true;
        else if (a == "--seed") seed = strtoull(val(), nullptr, 10);
        else if (a == "--quick") quick = true;
        else if (a == "--only") {
            std::string list = val();
            size_t pos = 0;
            while (pos <= list.size()) {
                size_t e = list.find(',', pos);
                if (e == std::string::npos) e = list.size();
                std::string nm = list.substr(pos, e - pos);
                const Contender *c = nullptr;
                for (const Contender &k : all_contenders)
                    if (nm == k.name) c = &k;
                if (!c) {
                    fprintf(stderr, "bench_map: unknown contender '%s'\n", nm.c_str());
                    usage();
                }
                use.push_back(c);
                pos = e + 1;
            }
        } else usage();
    }
    if (use.empty())
        for (const Contender &k : all_contenders) use.push_back(&k);
    if (sizes.empty()) {
        if (quick) sizes.push_back(100000);
        else sizes = {1000000, 10000000};
    }
    if (quick && reps == 0) reps = 1;
    if (warmup < 0) warmup = 1;
    /* Keep freed memory in the process (glibc: no mmap'd blocks, no trim),
     * so after the warm-up round no contender's timing includes the kernel
     * faulting pages in; on a VM the cost of that varies by 2x from rep to
     * rep. The whole-process (hyperfine) runs in run.sh include it. */
    if (!fresh_mem) {
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
    }

    printf("bench_map: seed %" PRIu64 ", %d untimed warm-up round%s, freed memory %s, %s, contenders:", seed, warmup,
           warmup == 1 ? "" : "s", fresh_mem ? "returned to the OS (--fresh-mem)" : "kept in the process",
           g_cpu_time ? "thread CPU time (--cpu-time)" : "wall time");
    for (const Contender *c : use) printf(" %s", c->name);
    printf("\n");
    for (size_t n : sizes) {
        if (n == 0) usage();
        int r = reps > 0 ? reps : bench_reps(n <= 1000000 ? 5 : 3);
        if (r > BENCH_MAX_REPS) r = BENCH_MAX_REPS;
        Data d = make_data(n, seed);
        std::vector<Result> rs(use.size());
        for (size_t j = 0; j < use.size(); j++) rs[j].name = use[j]->name;
        /* Untimed warm-up round first: besides caches and predictors, it
         * makes the process's memory resident. On a VM the first touch of
         * never-used guest memory is far slower than later ones, and it
         * would otherwise land on whichever contender runs first. */
        for (int k = 0; k < warmup; k++)
            for (size_t j = 0; j < use.size(); j++) {
                Result scratch;
                scratch.name = use[j]->name;
                use[j]->run(d, scratch);
            }
        for (int k = 0; k < r; k++) /* interleave contenders within each rep */
            for (size_t j = 0; j < use.size(); j++) use[j]->run(d, rs[j]);
        report(d, r, rs);
        fflush(stdout);
    }
    if (!g_targets.empty()) {
        int met = 0;
        printf("\ntargets (issue: ds within 1.25x of boost on insert/hit/miss; >= 2x faster than uthash and std at 1M,\n"
               "         >= 1.7x at 10M, on insert/hit/miss; bytes/entry <= boost + 10%%)\n");
        for (const Target &t : g_targets) {
            printf("  %-7s %s\n", t.met ? "MET" : "MISSED", t.line.c_str());
            met += t.met;
        }
        printf("  %d of %zu targets met\n", met, g_targets.size());
    }
    printf("peak RSS %ld KiB\n", bench_peak_rss_kb());
    return 0;
}
