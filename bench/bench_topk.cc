/* bench/bench_topk.cc - streaming top-k with DS_HEAP beside the C++ idioms.
 *
 * For each distribution of N doubles (default 10M) and each k (10, 1000):
 *   ds stream   dheap_topk_init + dheap_topk_offer per element + topk_sorted
 *   ds batch    dheap_top_k(xs, n, k, out): the no-allocation one-shot form
 *   std::pq     std::priority_queue min-heap, the idiom: push while size < k,
 *               else if x > top: pop + push; then pop everything out
 *   partial_sort  copy the array (the copy IS timed: partial_sort reorders
 *               its input, so a caller who keeps the data must copy), then
 *               std::partial_sort(k, greater) and take the first k
 * Distributions: uniform (ds_rng_double) and increasing (x_i = i), the worst
 * case for a min-heap top-k: every element beats the threshold and is
 * sifted through the heap. All contenders must agree on the sorted top-k
 * (OK / MISMATCH; exit status 1 on a mismatch).
 *
 *   bench_topk [--n N] [--reps R] [--quick]
 *     --n N     elements (default 10000000)
 *     --reps R  reps, median reported (default 5; env BENCH_REPS), after
 *               one untimed warm-up round of every contender
 *     --quick   smoke run: N = 100000, 1 rep, no warm-up
 */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "bench.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <queue>
#include <string>
#include <vector>

static inline int dless(double a, double b) { return a < b; }
DS_HEAP(dheap, double, dless)

#define NOINLINE __attribute__((noinline))

/* Each returns the sorted top-k, greatest first, in out (room for k). */
static NOINLINE void topk_ds_stream(const double *xs, size_t n, size_t k, double *out) {
    dheap_topk t;
    if (dheap_topk_init(&t, k, NULL) != DS_OK) abort();
    for (size_t i = 0; i < n; i++) dheap_topk_offer(&t, xs[i], NULL, NULL);
    dheap_topk_sorted(&t, out);
    dheap_topk_free(&t);
}

static NOINLINE void topk_ds_batch(const double *xs, size_t n, size_t k, double *out) {
    dheap_top_k(xs, n, k, out);
}

static NOINLINE void topk_pq(const double *xs, size_t n, size_t k, double *out) {
    std::priority_queue<double, std::vector<double>, std::greater<double>> pq;
    for (size_t i = 0; i < n; i++) {
        double x = xs[i];
        if (pq.size() < k) pq.push(x);
        else if (x > pq.top()) {
            pq.pop();
            pq.push(x);
        }
    }
    for (size_t m = pq.size(); m > 0; m--) {
        out[m - 1] = pq.top();
        pq.pop();
    }
}

static NOINLINE void topk_partial_sort(const double *xs, size_t n, size_t k, double *out) {
    std::vector<double> v(xs, xs + n); /* the copy is part of the cost */
    std::partial_sort(v.begin(), v.begin() + (ptrdiff_t)k, v.end(), std::greater<double>());
    std::copy(v.begin(), v.begin() + (ptrdiff_t)k, out);
}

struct Contender {
    const char *name;
    void (*fn)(const double *, size_t, size_t, double *);
};
static const Contender contenders[] = {
    {"ds stream", topk_ds_stream},
    {"ds batch", topk_ds_batch},
    {"std::pq", topk_pq},
    {"partial_sort", topk_partial_sort},
};
enum { NC = sizeof contenders / sizeof contenders[0] };

int main(int argc, char **argv) {
    size_t n = 10000000;
    int reps = 0, warmup = 1;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--n" && i + 1 < argc) n = (size_t)strtoull(argv[++i], nullptr, 10);
        else if (a == "--reps" && i + 1 < argc) reps = atoi(argv[++i]);
        else if (a == "--quick") quick = true;
        else {
            fprintf(stderr, "usage: bench_topk [--n N] [--reps R] [--quick]\n");
            return 2;
        }
    }
    if (quick) {
        n = 100000;
        if (reps == 0) reps = 1;
        warmup = 0;
    }
    if (reps <= 0) reps = bench_reps(5);
    if (reps > BENCH_MAX_REPS) reps = BENCH_MAX_REPS;

    const size_t ks[] = {10, 1000};
    const char *dists[] = {"uniform", "increasing"};
    std::vector<double> xs(n);
    bool all_ok = true;

    printf("bench_topk: N = %zu doubles, median of %d rep%s after %d untimed warm-up round%s, ns per element (time / N)\n",
           n, reps, reps == 1 ? "" : "s", warmup, warmup == 1 ? "" : "s");
    printf("  partial_sort includes copying the N-element input (it reorders what it sorts)\n");
    for (int d = 0; d < 2; d++) {
        ds_rng r;
        ds_rng_seed(&r, 7);
        for (size_t i = 0; i < n; i++) xs[i] = d == 0 ? ds_rng_double(&r) : (double)i;
        for (size_t k : ks) {
            if (k > n) continue;
            bench_samples s[NC];
            memset(s, 0, sizeof s);
            std::vector<std::vector<double>> out(NC, std::vector<double>(k));
            for (int rep = -warmup; rep < reps; rep++) /* interleaved; rep < 0: warm-up */
                for (int c = 0; c < NC; c++) {
                    int64_t t = bench_now();
                    contenders[c].fn(xs.data(), n, k, out[c].data());
                    if (rep >= 0) bench_add(&s[c], (double)(bench_now() - t) / (double)n);
                }
            bool ok = true;
            for (int c = 1; c < NC; c++) ok = ok && out[c] == out[0];
            all_ok = all_ok && ok;
            double sum = 0;
            for (double v : out[0]) sum += v;

            printf("\n== top-k  %s, N = %zu, k = %zu ==  results %s (sum of top-k %.9g)\n", dists[d], n, k,
                   ok ? "OK: all agree" : "MISMATCH", sum);
            printf("  %-14s %10s %10s %14s\n", "contender", "ns/elem", "Melem/s", "peer/ds stream");
            double ours = bench_median(&s[0]);
            for (int c = 0; c < NC; c++) {
                double m = bench_median(&s[c]);
                printf("  %-14s %10.3f %10.1f", contenders[c].name, m, bench_mops(m));
                if (c) printf(" %13.2fx", bench_ratio(m, ours));
                printf("\n");
            }
        }
    }
    printf("\n(peer/ds stream > 1: ds stream is faster)   peak RSS %ld KiB\n", bench_peak_rss_kb());
    return all_ok ? 0 : 1;
}
