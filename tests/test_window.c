/* tests/test_window.c - ds_window against sorting the window, and
 * ds_ddsketch against its relative-error guarantee. */
#include "prop.h"
#include <math.h>

static int dcmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Model: the samples in the window, in arrival order, with their times. */
static void window_case(ds_rng *rng, uint64_t seed) {
    ds_window w;
    double xs[600], ts_sorted[600];
    int64_t ts[600], now = 0;
    size_t n = 0, head = 0, i, nmax = 1 + (size_t)ds_rng_below(rng, 200);
    int64_t span = 1 + (int64_t)ds_rng_below(rng, 500);
    int timed = (int)(seed & 1), step;
    CHECK((timed ? ds_window_init_time(&w, span, NULL) : ds_window_init_count(&w, nmax, NULL)) == DS_OK);
    for (step = 0; step < 2000; step++) {
        double x = (double)ds_rng_below(rng, 50) - 10.0; /* duplicates on purpose */
        if (ds_rng_below(rng, 20) == 0) x = ds_rng_double(rng) * 1e6;
        now += (int64_t)ds_rng_below(rng, 8);
        CHECK(ds_window_add(&w, x, now) == DS_OK);
        /* the model: append, then evict */
        xs[(head + n) % 600] = x;
        ts[(head + n) % 600] = now;
        n++;
        if (timed) {
            while (n && now - ts[head] >= span) { head = (head + 1) % 600; n--; }
        } else if (n > nmax) {
            head = (head + 1) % 600;
            n--;
        }
        if (n > 590) { /* keep the model in bounds: a time window this full is rare */
            CHECK(0 && "model overflow");
        }
        CHECK(ds_window_count(&w) == n);
        if (step % 7 == 0 || n < 5) {
            double sum = 0, q;
            for (i = 0; i < n; i++) {
                ts_sorted[i] = xs[(head + i) % 600];
                sum += ts_sorted[i];
            }
            qsort(ts_sorted, n, sizeof(double), dcmp);
            CHECK(fabs(ds_window_sum(&w) - sum) <= 1e-6 * (1 + fabs(sum)));
            CHECK(n == 0 || (ds_window_min(&w) == ts_sorted[0] && ds_window_max(&w) == ts_sorted[n - 1]));
            for (i = 0; i < n; i += 1 + n / 10) CHECK(ds_window_rank(&w, i) == ts_sorted[i]);
            for (q = 0; q <= 1.0; q += 0.125) { /* numpy's linear interpolation */
                double pos = q * (double)(n ? n - 1 : 0), want;
                size_t lo = (size_t)pos;
                if (!n) {
                    CHECK(isnan(ds_window_quantile(&w, q)));
                    continue;
                }
                want = ts_sorted[lo] + (lo + 1 < n ? (pos - (double)lo) * (ts_sorted[lo + 1] - ts_sorted[lo]) : 0);
                CHECKF(fabs(ds_window_quantile(&w, q) - want) <= 1e-9 * (1 + fabs(want)),
                       "q=%g: %g want %g (n=%zu)", q, ds_window_quantile(&w, q), want, n);
            }
        }
    }
    /* An older `now` and NaN are refused; advance empties a time window. */
    CHECK(ds_window_add(&w, 1.0, now - 1) == DS_EINVAL && ds_window_add(&w, NAN, now) == DS_EINVAL);
    if (timed) {
        ds_window_advance(&w, now + span);
        CHECK(ds_window_count(&w) == 0 && isnan(ds_window_mean(&w)));
    }
    ds_window_clear(&w);
    CHECK(ds_window_count(&w) == 0 && ds_window_sum(&w) == 0);
    CHECK(ds_window_add(&w, 3.0, 0) == DS_OK && ds_window_quantile(&w, 0.5) == 3.0);
    ds_window_free(&w);
}
void test_window_model(void) { prop_run("window_model", window_case, 40); }

static int window_oom_seq(uint64_t seed, prop_alloc *pa) {
    ds_window w;
    ds_rng r;
    int step;
    CHECK_OR(ds_window_init_time(&w, 100, &pa->a) == DS_OK, 1);
    ds_rng_seed(&r, seed);
    for (step = 0; step < 400; step++) {
        size_t n = ds_window_count(&w);
        double s = ds_window_sum(&w);
        long before = PROP_FAILS(pa);
        ds_window w0 = w; /* capacities and cursors too */
        ds_status st = ds_window_add(&w, (double)ds_rng_below(&r, 10), step / 2);
        if (st == DS_ENOMEM)
            CHECK_OR(PROP_ENOMEM_LEGIT(pa, before) && ds_window_count(&w) == n && ds_window_sum(&w) == s &&
                         w.cap == w0.cap && w.head == w0.head && w.ring_x == w0.ring_x && w.nodes == w0.nodes &&
                         w.node_cap == w0.node_cap && w.free_node == w0.free_node && w.last_now == w0.last_now,
                     1);
        else CHECK_OR(st == DS_OK, 1);
    }
    ds_window_free(&w);
    return 0;
}
void test_window_edges(void) {
    ds_window w;
    long total = 0;
    CHECK(ds_window_init_count(&w, 0, NULL) == DS_EINVAL && ds_window_init_time(&w, 0, NULL) == DS_EINVAL);
    CHECK(ds_window_init_count(&w, 3, NULL) == DS_OK);
    CHECK(isnan(ds_window_quantile(&w, 0.5)) && isnan(ds_window_min(&w)));
    CHECK(ds_window_add(&w, 1, 0) == DS_OK && ds_window_add(&w, 2, 0) == DS_OK && ds_window_add(&w, 3, 0) == DS_OK);
    CHECK(ds_window_add(&w, 10, 1) == DS_OK); /* 1 leaves */
    CHECK(ds_window_min(&w) == 2 && ds_window_max(&w) == 10 && ds_window_mean(&w) == 5);
    CHECK(ds_window_quantile(&w, 0.5) == 3 && isnan(ds_window_quantile(&w, 1.5)));
    ds_window_free(&w);
    CHECK(prop_oom_sweep(window_oom_seq, 2, &total) == 0 && total > 2);
}

/* DDSketch: every quantile within alpha (relative) of the true value of
 * that rank, on skewed positive data, mixed signs, and after merging. */
void test_ddsketch(void) {
    enum { N = 100000 };
    static double xs[N], sorted[N];
    ds_ddsketch a, b;
    ds_rng r;
    size_t i;
    int pass;
    const double alpha = 0.01, qs[] = {0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1};
    CHECK(ds_ddsketch_init(&a, 0, 0, NULL) == DS_EINVAL && ds_ddsketch_init(&a, 1.0, 0, NULL) == DS_EINVAL);
    CHECK(ds_ddsketch_init(&a, 0.01, 8, NULL) == DS_EINVAL);
    ds_rng_seed(&r, 5);
    for (pass = 0; pass < 2; pass++) {
        CHECK(ds_ddsketch_init(&a, alpha, 0, NULL) == DS_OK && ds_ddsketch_init(&b, alpha, 0, NULL) == DS_OK);
        CHECK(isnan(ds_ddsketch_quantile(&a, 0.5)));
        for (i = 0; i < N; i++) {
            /* latency-like: log-normal-ish, five decades; pass 1 adds negatives and zeros */
            double x = exp(ds_rng_double(&r) * 11.5) * (1 + ds_rng_double(&r));
            if (pass && i % 3 == 0) x = -x;
            if (pass && i % 97 == 0) x = 0;
            xs[i] = x;
            CHECK(ds_ddsketch_add(i % 2 ? &a : &b, x) == DS_OK);
        }
        CHECK(ds_ddsketch_merge(&a, &b) == DS_OK && ds_ddsketch_count(&a) == N);
        memcpy(sorted, xs, sizeof xs);
        qsort(sorted, N, sizeof(double), dcmp);
        CHECK(ds_ddsketch_min(&a) == sorted[0] && ds_ddsketch_max(&a) == sorted[N - 1]);
        for (i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            double want = sorted[(size_t)(qs[i] * (N - 1))], got = ds_ddsketch_quantile(&a, qs[i]);
            CHECKF(fabs(got - want) <= alpha * fabs(want) + 1e-12, "pass %d q=%g: %g vs %g", pass, qs[i], got, want);
        }
        CHECK(ds_ddsketch_add(&a, NAN) == DS_EINVAL && ds_ddsketch_add(&a, HUGE_VAL) == DS_EINVAL);
        ds_ddsketch_free(&a);
        ds_ddsketch_free(&b);
    }
    /* Different alphas do not merge; a tight bucket cap collapses the low end
     * but keeps the high quantiles accurate. */
    CHECK(ds_ddsketch_init(&a, 0.01, 64, NULL) == DS_OK && ds_ddsketch_init(&b, 0.02, 0, NULL) == DS_OK);
    CHECK(ds_ddsketch_merge(&a, &b) == DS_EINVAL);
    for (i = 0; i < N; i++) CHECK(ds_ddsketch_add(&a, xs[i] > 0 ? xs[i] : -xs[i] + 1) == DS_OK);
    CHECK(a.pos.nbins <= 64);
    {
        for (i = 0; i < N; i++) sorted[i] = xs[i] > 0 ? xs[i] : -xs[i] + 1;
        qsort(sorted, N, sizeof(double), dcmp);
        CHECK(fabs(ds_ddsketch_quantile(&a, 0.99) - sorted[(size_t)(0.99 * (N - 1))]) <= 0.01 * sorted[(size_t)(0.99 * (N - 1))]);
    }
    ds_ddsketch_free(&a);
    ds_ddsketch_free(&b);
}
