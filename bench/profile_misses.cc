/* bench/profile_misses.cc - cache-miss profiles of the lookups where a peer
 * still wins (issue 19): DS_LRU get hit beside the C++ and uthash LRUs,
 * ds_trie get beside JudySL, DS_BTREE get beside JudyL. This machine has no
 * hardware counters, so the profile is cachegrind's simulation, which is
 * also immune to the load of a shared machine: instructions and data-cache
 * misses per lookup, counted inside the lookup loop only.
 *
 *   g++ -std=c++17 -O2 -DNDEBUG -g -I. bench/profile_misses.cc -o bench/bin/profile_misses -lJudy
 *   bash bench/profile_misses.sh          (runs every case under callgrind)
 *
 *   profile_misses CASE [N]   CASE: lru-ds lru-wtlfu lru-std lru-uthash trie-ds
 *                             trie-judy btree-ds btree-judy
 *
 * Each case builds its structure outside the measured region, then calls
 * prof_lookups() (never inlined), which callgrind's --toggle-collect counts
 * alone. Lookups are uniform over the present keys (hits), 200,000 of them.
 */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <Judy.h>
#include <uthash.h>
#include <utlist.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

static const size_t LOOKUPS = 200000;

static uint64_t rng_state = 42;
static uint64_t rnd() { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct val64 { uint64_t w[8]; }; /* the 64-byte value of bench_cache */

DS_LRU(plru, uint64_t, val64, ds_hash_u64, ds_eq_u64)
DS_BTREE(ptree, uint64_t, uint64_t, ds_cmp_u64)

struct ulru {
    uint64_t key;
    val64 v;
    struct ulru *prev, *next;
    UT_hash_handle hh;
};

static volatile uint64_t sink;

/* The measured region: one function per kind, never inlined. */
template <class F> __attribute__((noinline)) void prof_lookups(const std::vector<uint64_t> &q, F f) {
    uint64_t s = 0;
    for (uint64_t k : q) s += f(k);
    sink = s;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: profile_misses CASE [N]\n");
        return 2;
    }
    std::string c = argv[1];
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    std::vector<uint64_t> keys(n), q(LOOKUPS);
    for (size_t i = 0; i < n; i++) keys[i] = rnd() | 1;
    for (size_t i = 0; i < LOOKUPS; i++) q[i] = rnd() % n; /* indexes; mapped below */

    if (c == "lru-ds" || c == "lru-wtlfu") {
        plru l;
        plru_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.max_entries = n;
        if (c == "lru-wtlfu") cfg.policy = DS_CACHE_WTINYLFU;
        if (plru_init(&l, &cfg) != DS_OK) return 1;
        val64 v = {};
        for (size_t i = 0; i < n; i++) {
            v.w[0] = i;
            if (plru_put(&l, keys[i], v, 0) != DS_OK) return 1;
        }
        for (auto &x : q) x = keys[x];
        prof_lookups(q, [&](uint64_t k) { return plru_get(&l, k, 0)->w[0]; });
        plru_free(&l);
    } else if (c == "lru-std") { /* std::list + reserved unordered_map */
        typedef std::list<std::pair<uint64_t, val64>> L;
        L lst;
        std::unordered_map<uint64_t, L::iterator> m;
        m.reserve(n);
        val64 v = {};
        for (size_t i = 0; i < n; i++) {
            v.w[0] = i;
            lst.emplace_front(keys[i], v);
            m[keys[i]] = lst.begin();
        }
        for (auto &x : q) x = keys[x];
        prof_lookups(q, [&](uint64_t k) {
            auto it = m.find(k);
            lst.splice(lst.begin(), lst, it->second);
            return it->second->second.w[0];
        });
    } else if (c == "lru-uthash") { /* uthash + utlist */
        ulru *h = NULL, *list = NULL;
        std::vector<ulru> nodes(n);
        for (size_t i = 0; i < n; i++) {
            ulru *e = &nodes[i];
            e->key = keys[i];
            e->v.w[0] = i;
            HASH_ADD(hh, h, key, sizeof(uint64_t), e);
            DL_PREPEND(list, e);
        }
        for (auto &x : q) x = keys[x];
        prof_lookups(q, [&](uint64_t k) {
            ulru *e;
            HASH_FIND(hh, h, &k, sizeof(uint64_t), e);
            DL_DELETE(list, e);
            DL_PREPEND(list, e);
            return e->v.w[0];
        });
        HASH_CLEAR(hh, h);
    } else if (c == "btree-ds") {
        ptree t;
        ptree_init(&t);
        for (size_t i = 0; i < n; i++)
            if (ptree_put(&t, keys[i], i, NULL) != DS_OK) return 1;
        for (auto &x : q) x = keys[x];
        prof_lookups(q, [&](uint64_t k) { return *ptree_get(&t, k); });
        ptree_free(&t);
    } else if (c == "btree-judy") {
        Pvoid_t j = NULL;
        for (size_t i = 0; i < n; i++) {
            PWord_t p = (PWord_t)JudyLIns(&j, keys[i], PJE0);
            *p = i;
        }
        for (auto &x : q) x = keys[x];
        prof_lookups(q, [&](uint64_t k) {
            PWord_t p = (PWord_t)JudyLGet(j, k, PJE0);
            return (uint64_t)*p;
        });
        JudyLFreeArray(&j, PJE0);
    } else if (c == "trie-ds" || c == "trie-judy") {
        std::vector<std::string> w;
        FILE *f = fopen("/usr/share/dict/american-english", "r");
        char line[512];
        if (!f) return 1;
        while (fgets(line, sizeof line, f)) {
            size_t l = strcspn(line, "\r\n");
            if (l) w.push_back(std::string(line, l));
        }
        fclose(f);
        std::vector<uint64_t> qi(LOOKUPS);
        for (size_t i = 0; i < LOOKUPS; i++) qi[i] = rnd() % w.size();
        if (c == "trie-ds") {
            ds_trie t;
            ds_trie_init(&t, NULL);
            for (size_t i = 0; i < w.size(); i++)
                if (ds_trie_put(&t, w[i].data(), w[i].size(), (void *)(uintptr_t)(i + 1), NULL) != DS_OK) return 1;
            prof_lookups(qi, [&](uint64_t i) { return (uint64_t)(uintptr_t)*ds_trie_get(&t, w[i].data(), w[i].size()); });
            ds_trie_free(&t);
        } else {
            Pvoid_t j = NULL;
            for (size_t i = 0; i < w.size(); i++) {
                PWord_t p = (PWord_t)JudySLIns(&j, (const uint8_t *)w[i].c_str(), PJE0);
                *p = i + 1;
            }
            prof_lookups(qi, [&](uint64_t i) {
                PWord_t p = (PWord_t)JudySLGet(j, (const uint8_t *)w[i].c_str(), PJE0);
                return (uint64_t)*p;
            });
            JudySLFreeArray(&j, PJE0);
        }
    } else {
        fprintf(stderr, "profile_misses: unknown case %s\n", c.c_str());
        return 2;
    }
    return 0;
}
