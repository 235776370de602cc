// bench/bench_hnsw.cc - vector search: ds_flat / ds_hnsw beside hnswlib 0.6.2
// (Debian libhnswlib-dev) and faiss 1.7.3 IndexHNSWFlat / IndexFlatL2
// (Debian libfaiss-dev), same data, same parameters (M = 16,
// ef_construction = 200), in one run.
//
// Data sets: siftsmall (shared/data, its shipped ground truth), MNIST and
// Fashion-MNIST (shared/data, 9,900 x 784 base, 100 queries, L2, shipped
// ground truth) and a synthetic 128-d clustered Gaussian set (default 10^6
// vectors; ground truth by exact search); --sets picks some. For each library: build time with 1 and 2
// threads (ds: ds_hnsw_insert in a loop, and ds_hnsw_insert_batch with 2
// threads; hnswlib: addPoint from 1 and 2 std::threads, as its Python
// binding's ParallelFor; faiss: IndexHNSWFlat::add under
// omp_set_num_threads), index bytes, and the recall@10 / QPS curve over a sweep of ef
// (single-threaded search, one query at a time, on the 1-thread graphs; all
// indexes are built first and their sweeps interleaved, rep by rep, so a
// slow spell of the machine cannot favour one library); QPS at recall 0.90, 0.95,
// 0.99 is read off each curve (log-linear interpolation between the two
// sweep points around it). Exact search: ds_flat vs IndexFlatL2, one thread.
// Writes DIR/hnsw_<set>.dat for bench/plot_hnsw.gp (recall vs QPS).
// --f16 adds a contender "ds-f16": ds_hnsw with DS_HNSW_STORE_F16 (vectors
// stored as binary16, queries and distances fp32), same data and
// parameters, swept with the others; its rows read as ds's, and a line
// compares its recall with ds's at equal ef.
//
//   bench/bin/bench_hnsw [--quick] [--n N] [--data DIR] [--out DIR] [--no-faiss-hnsw] [--exact-only] [--f16] [--sets LIST]
// hnswlib picks its distance kernels when it is compiled (AVX/AVX-512 only
// with -mavx/-march=native), ds at run time: bench/run.sh also builds
// bench_hnsw_native with -march=native for every contender and runs the
// three small sets with it, so both hnswlib builds are reported.
// (--no-faiss-hnsw: leave faiss's HNSW out of the synthetic set, whose 10^6
// build alone takes about half an hour on a 2-core VM; exact search stays.
// --exact-only: the exact-search rows alone, no HNSW builds.)
#define DS_IMPLEMENTATION
#define DS_HNSW_THREADS /* ds_hnsw_insert_batch for the 2-thread build */
#include "ds_hnsw.h"
#include "bench/bench.h"

#include <hnswlib/hnswlib.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

struct dataset {
    std::string name;
    size_t n = 0, nq = 0, dim = 0;
    std::vector<float> base, query;
    std::vector<uint32_t> gt; // nq x 10, nearest first
};

static bool read_vecs(const std::string &path, size_t elem, std::vector<char> &out, size_t &rows, size_t &dim) {
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) return false;
    rows = dim = 0;
    int32_t d;
    while (fread(&d, 4, 1, f) == 1) {
        if (d <= 0 || (dim && (size_t)d != dim)) { fclose(f); return false; }
        dim = (size_t)d;
        size_t at = out.size();
        out.resize(at + dim * elem);
        if (fread(&out[at], elem, dim, f) != dim) { fclose(f); return false; }
        rows++;
    }
    fclose(f);
    return rows > 0;
}

static bool load_sift(const std::string &dir, dataset &ds) {
    std::vector<char> b, q, g;
    size_t rb, db, rq, dq, rg, dg;
    if (!read_vecs(dir + "/siftsmall/siftsmall_base.fvecs", 4, b, rb, db) ||
        !read_vecs(dir + "/siftsmall/siftsmall_query.fvecs", 4, q, rq, dq) ||
        !read_vecs(dir + "/siftsmall/siftsmall_groundtruth.ivecs", 4, g, rg, dg) || db != dq || rg != rq || dg < 10)
        return false;
    ds.name = "siftsmall";
    ds.n = rb;
    ds.nq = rq;
    ds.dim = db;
    ds.base.assign((float *)b.data(), (float *)b.data() + rb * db);
    ds.query.assign((float *)q.data(), (float *)q.data() + rq * dq);
    const int32_t *gi = (const int32_t *)g.data();
    for (size_t i = 0; i < rq; i++)
        for (size_t j = 0; j < 10; j++) ds.gt.push_back((uint32_t)gi[i * dg + j]);
    return true;
}

// MNIST / Fashion-MNIST test split (shared/data, section 2 of its README):
// images 0..9899 the base, 9900..9999 the queries, pixels as floats, L2;
// the ground truth is the shipped groundtruth_l2_ids.ivecs (exact, ties by
// id). The IDX file is gzip'd: read through `gzip -dc`.
static bool load_idx(const std::string &dir, const char *name, dataset &ds) {
    std::string img = dir + "/" + name + "/t10k-images-idx3-ubyte.gz";
    std::vector<char> g;
    size_t rg, dg;
    if (FILE *t = fopen(img.c_str(), "rb")) fclose(t);
    else return false;
    if (!read_vecs(dir + "/" + name + "/groundtruth_l2_ids.ivecs", 4, g, rg, dg) || rg != 100 || dg < 10) return false;
    FILE *p = popen(("gzip -dc '" + img + "'").c_str(), "r");
    if (!p) return false;
    unsigned char hdr[16];
    std::vector<unsigned char> px((size_t)10000 * 784);
    bool ok = fread(hdr, 1, 16, p) == 16 && hdr[2] == 8 && hdr[3] == 3 && fread(px.data(), 1, px.size(), p) == px.size();
    if (pclose(p) != 0 || !ok) return false;
    ds.name = name;
    ds.n = 9900;
    ds.nq = 100;
    ds.dim = 784;
    ds.base.assign(px.begin(), px.begin() + 9900 * 784);
    ds.query.assign(px.begin() + 9900 * 784, px.end());
    const int32_t *gi = (const int32_t *)g.data();
    for (size_t i = 0; i < rg; i++)
        for (size_t j = 0; j < 10; j++) ds.gt.push_back((uint32_t)gi[i * dg + j]);
    return true;
}

// Clustered Gaussian: 1000 centres uniform in [0, 20)^d, points N(centre,
// 6^2 I): clusters that overlap, so a query's neighbours span several.
static void make_synthetic(dataset &ds, size_t n, size_t nq, size_t dim, uint64_t seed) {
    ds_rng r;
    ds_rng_seed(&r, seed);
    const size_t C = 1000;
    std::vector<float> centre(C * dim);
    for (auto &c : centre) c = (float)(ds_rng_double(&r) * 20.0);
    auto gauss = [&r]() { // Box-Muller
        double u = ds_rng_double(&r), v = ds_rng_double(&r);
        return std::sqrt(-2.0 * std::log(u + 1e-300)) * std::cos(6.283185307179586 * v);
    };
    auto fill = [&](std::vector<float> &out, size_t rows) {
        out.resize(rows * dim);
        for (size_t i = 0; i < rows; i++) {
            const float *c = &centre[ds_rng_below(&r, C) * dim];
            for (size_t j = 0; j < dim; j++) out[i * dim + j] = c[j] + (float)(6.0 * gauss());
        }
    };
    ds.name = "synthetic";
    ds.n = n;
    ds.nq = nq;
    ds.dim = dim;
    fill(ds.base, n);
    fill(ds.query, nq);
}

struct point {
    int ef;
    double recall, qps;
};
struct result {
    std::string lib;
    double build1 = NAN, build2 = NAN, bytes = NAN;
    double rec1 = NAN, rec2 = NAN; // ds: recall@10 at ef = 32 of the 1- and 2-thread graphs
    std::vector<point> curve;
};

static double recall_at_10(const dataset &ds, const std::vector<uint64_t> &got) {
    size_t hit = 0;
    for (size_t q = 0; q < ds.nq; q++)
        for (size_t i = 0; i < 10; i++)
            for (size_t j = 0; j < 10; j++)
                if (got[q * 10 + i] == ds.gt[q * 10 + j]) { hit++; break; }
    return (double)hit / (double)(ds.nq * 10);
}

static const int EFS[] = {10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512};

// A contender's search: run every query at one ef, labels into out.
typedef std::function<void(int, std::vector<uint64_t> &)> searcher;

// A built index with its figures; `search` keeps the index alive until
// the contender is dropped.
struct contender {
    result res;
    searcher search;
};

// The sweep, all contenders interleaved: for each ef, every rep times each
// contender in turn, so a slow spell of a shared machine (minutes long on a
// VM) hits all of them alike rather than whichever swept last; each rep runs
// the query set as many times as fills ~0.2 s (a few ms of queries alone
// would be mostly noise), and QPS is the median over reps. A contender
// leaves the sweep once its recall passes 0.999.
static void sweep_all(const dataset &ds, int reps, std::vector<contender> &cs) {
    std::vector<bool> done(cs.size(), false);
    for (int ef : EFS) {
        std::vector<std::vector<uint64_t>> got(cs.size());
        std::vector<bench_samples> s(cs.size());
        std::vector<int> loops(cs.size());
        for (size_t i = 0; i < cs.size(); i++) {
            if (done[i]) continue;
            got[i].assign(ds.nq * 10, UINT64_MAX);
            s[i] = bench_samples{};
            int64_t t0 = bench_now();
            cs[i].search(ef, got[i]); // warm-up, and the loop count
            loops[i] = (int)std::max<int64_t>(1, 200000000 / std::max<int64_t>(1, bench_now() - t0));
        }
        for (int r = 0; r < reps; r++)
            for (size_t i = 0; i < cs.size(); i++) {
                if (done[i]) continue;
                int64_t t0 = bench_now();
                for (int l = 0; l < loops[i]; l++) cs[i].search(ef, got[i]);
                bench_add(&s[i], (double)(bench_now() - t0) / loops[i]);
            }
        for (size_t i = 0; i < cs.size(); i++) {
            if (done[i]) continue;
            point p = {ef, recall_at_10(ds, got[i]), (double)ds.nq / (bench_median(&s[i]) / 1e9)};
            cs[i].res.curve.push_back(p);
            if (p.recall > 0.999) done[i] = true;
        }
    }
}

// QPS where the curve crosses `target` recall (NAN if it never does).
static double qps_at(const result &r, double target) {
    for (size_t i = 0; i < r.curve.size(); i++) {
        if (r.curve[i].recall < target) continue;
        if (i == 0) return r.curve[0].qps;
        const point &a = r.curve[i - 1], &b = r.curve[i];
        double t = (target - a.recall) / (b.recall - a.recall);
        return std::exp(std::log(a.qps) + t * (std::log(b.qps) - std::log(a.qps)));
    }
    return NAN;
}

// Build with `threads` threads: each adds a strided share of the points.
template <class F> static double timed_parallel_add(size_t n, int threads, F add) {
    int64_t t0 = bench_now();
    if (threads <= 1) {
        for (size_t i = 0; i < n; i++) add(i);
    } else {
        std::vector<std::thread> th;
        for (int t = 0; t < threads; t++)
            th.emplace_back([=, &add]() { for (size_t i = (size_t)t; i < n; i += (size_t)threads) add(i); });
        for (auto &x : th) x.join();
    }
    return (double)(bench_now() - t0) / 1e9;
}

static contender build_hnswlib(const dataset &ds) {
    contender c;
    c.res.lib = "hnswlib";
    auto space = std::make_shared<hnswlib::L2Space>(ds.dim);
    std::shared_ptr<hnswlib::HierarchicalNSW<float>> kept;
    for (int threads = 1; threads <= 2; threads++) {
        auto h = std::make_shared<hnswlib::HierarchicalNSW<float>>(space.get(), ds.n, 16, 200, 100);
        double t = timed_parallel_add(ds.n, threads, [&](size_t i) { h->addPoint(&ds.base[i * ds.dim], i); });
        (threads == 1 ? c.res.build1 : c.res.build2) = t;
        if (threads == 2) break; // the 1-thread graph is the one searched
        kept = h;
        // Everything the index holds per element, as ds_hnsw_memory counts
        // ours: level-0 records, upper links, the per-element pointer, level
        // and mutex, and the label map (nodes + buckets; malloc's own
        // overhead not counted, for either); the visited list once.
        size_t bytes = ds.n * h->size_data_per_element_;
        for (size_t i = 0; i < ds.n; i++) bytes += (size_t)h->element_levels_[i] * h->size_links_per_element_;
        bytes += ds.n * (sizeof(char *) + sizeof(int) + sizeof(std::mutex));
        bytes += h->label_lookup_.size() * (sizeof(void *) + sizeof(std::pair<const hnswlib::labeltype, hnswlib::tableint>)) +
                 h->label_lookup_.bucket_count() * sizeof(void *);
        bytes += ds.n * sizeof(unsigned short); // the visited list
        c.res.bytes = (double)bytes;
    }
    c.search = [&ds, space, kept](int ef, std::vector<uint64_t> &out) {
        kept->setEf((size_t)ef);
        for (size_t q = 0; q < ds.nq; q++) {
            auto pq = kept->searchKnn(&ds.query[q * ds.dim], 10);
            for (size_t k = pq.size(); k-- > 0; pq.pop()) out[q * 10 + k] = pq.top().second;
        }
    };
    return c;
}

static contender build_faiss(const dataset &ds) {
    contender c;
    c.res.lib = "faiss";
    std::shared_ptr<faiss::IndexHNSWFlat> kept;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        auto idx = std::make_shared<faiss::IndexHNSWFlat>((int)ds.dim, 16);
        idx->hnsw.efConstruction = 200;
        int64_t t0 = bench_now();
        idx->add((faiss::Index::idx_t)ds.n, ds.base.data());
        (threads == 1 ? c.res.build1 : c.res.build2) = (double)(bench_now() - t0) / 1e9;
        if (threads == 2) break;
        kept = idx;
        c.res.bytes = (double)(ds.n * ds.dim * sizeof(float) + idx->hnsw.neighbors.size() * sizeof(int) +
                               idx->hnsw.offsets.size() * sizeof(size_t) + idx->hnsw.levels.size() * sizeof(int));
    }
    omp_set_num_threads(1);
    c.search = [&ds, kept](int ef, std::vector<uint64_t> &out) {
        omp_set_num_threads(1);
        kept->hnsw.efSearch = ef;
        std::vector<float> dist(10);
        std::vector<faiss::Index::idx_t> lab(10);
        for (size_t q = 0; q < ds.nq; q++) { // one query at a time, as the others
            kept->search(1, &ds.query[q * ds.dim], 10, dist.data(), lab.data());
            for (size_t k = 0; k < 10; k++) out[q * 10 + k] = (uint64_t)lab[k];
        }
    };
    return c;
}

// Exact search, one thread: queries per second over the whole base.
static double exact_faiss(const dataset &ds, size_t nq, std::vector<uint64_t> *labels) {
    omp_set_num_threads(1);
    faiss::IndexFlatL2 idx((int)ds.dim);
    idx.add((faiss::Index::idx_t)ds.n, ds.base.data());
    std::vector<float> dist(nq * 10);
    std::vector<faiss::Index::idx_t> lab(nq * 10);
    int64_t t0 = bench_now();
    idx.search((faiss::Index::idx_t)nq, ds.query.data(), 10, dist.data(), lab.data());
    double s = (double)(bench_now() - t0) / 1e9;
    if (labels) labels->assign(lab.begin(), lab.end());
    return (double)nq / s;
}

static void print_results(const dataset &ds, const std::vector<result> &rs, const std::string &out) {
    printf("\n%s: %zu x %zu, %zu queries, M = 16, ef_construction = 200; recall@10, single-threaded search\n",
           ds.name.c_str(), ds.n, ds.dim, ds.nq);
    printf("  %-8s %10s %10s %12s %12s %12s %12s\n", "", "build 1t s", "build 2t s", "bytes/vec", "QPS@0.90",
           "QPS@0.95", "QPS@0.99");
    for (const result &r : rs)
        printf("  %-8s %10.2f %10.2f %12.1f %12.0f %12.0f %12.0f\n", r.lib.c_str(), r.build1, r.build2,
               r.bytes / (double)ds.n, qps_at(r, 0.90), qps_at(r, 0.95), qps_at(r, 0.99));
    // Every ds contender (ds, ds-f16) against every peer.
    for (const result &ours : rs) {
        if (ours.lib.compare(0, 2, "ds") != 0) continue;
        for (const result &peer : rs) {
            if (peer.lib.compare(0, 2, "ds") == 0) continue;
            printf("  %-6s vs %-8s QPS ratio @0.90 %.2fx @0.95 %.2fx @0.99 %.2fx; build %.2fx (1t) %.2fx (2t); bytes %.3fx\n",
                   ours.lib.c_str(), peer.lib.c_str(), qps_at(ours, 0.90) / qps_at(peer, 0.90),
                   qps_at(ours, 0.95) / qps_at(peer, 0.95), qps_at(ours, 0.99) / qps_at(peer, 0.99),
                   ours.build1 / peer.build1, ours.build2 / peer.build2, ours.bytes / peer.bytes);
        }
        printf("  %s graphs: recall@10 at ef = 32: %.4f (1-thread build), %.4f (2-thread build)\n", ours.lib.c_str(),
               ours.rec1, ours.rec2);
    }
    // fp16 storage against fp32 at the same ef: what the rounding costs.
    if (rs.size() > 1 && rs[0].lib == "ds" && rs[1].lib == "ds-f16") {
        printf("  recall@10 at equal ef, ds / ds-f16:");
        for (size_t i = 0; i < rs[0].curve.size() && i < rs[1].curve.size(); i++)
            printf(" %d:%.3f/%.3f", rs[0].curve[i].ef, rs[0].curve[i].recall, rs[1].curve[i].recall);
        printf("\n");
    }
    std::string path = out + "/hnsw_" + ds.name + ".dat";
    if (FILE *f = fopen(path.c_str(), "w")) {
        for (const result &r : rs) {
            fprintf(f, "# %s\n", r.lib.c_str());
            for (const point &p : r.curve) fprintf(f, "%.4f %.1f %d\n", p.recall, p.qps, p.ef);
            fprintf(f, "\n\n");
        }
        fclose(f);
        printf("  curve: %s\n", path.c_str());
    }
    printf("  sweep (ef: recall/QPS):\n");
    for (const result &r : rs) {
        printf("    %-8s", r.lib.c_str());
        for (const point &p : r.curve) printf(" %d:%.3f/%.0f", p.ef, p.recall, p.qps);
        printf("\n");
    }
}

// The ds index and its search scratch, freed together.
struct ds_kept {
    ds_hnsw h;
    ds_hnsw_scratch sc;
    ~ds_kept() {
        ds_hnsw_scratch_free(&sc);
        ds_hnsw_free(&h);
    }
};

static contender build_ds(const dataset &ds, ds_hnsw_storage storage = DS_HNSW_STORE_F32) {
    contender c;
    result &res = c.res;
    res.lib = storage == DS_HNSW_STORE_F16 ? "ds-f16" : "ds";
    ds_hnsw_params p = ds_hnsw_params_default(ds.dim);
    p.storage = storage;
    p.M = 16;
    p.ef_construction = 200;
    p.max_elements = ds.n;
    p.seed = 100;
    auto kept = std::make_shared<ds_kept>();
    ds_hnsw &h = kept->h;
    ds_hnsw_scratch_init(&kept->sc, NULL);
    if (ds_hnsw_init(&h, &p, NULL) != DS_OK) { fprintf(stderr, "ds_hnsw_init failed\n"); exit(1); }
    res.build1 = timed_parallel_add(ds.n, 1, [&](size_t i) {
        if (ds_hnsw_insert(&h, i, &ds.base[i * ds.dim]) != DS_OK) { fprintf(stderr, "ds_hnsw_insert failed\n"); exit(1); }
    });
    res.bytes = (double)ds_hnsw_memory(&h);
    {
        // The 2-thread build (DS_HNSW_THREADS): one batch, two threads.
        ds_hnsw h2;
        std::vector<uint64_t> labels(ds.n);
        for (size_t i = 0; i < ds.n; i++) labels[i] = i;
        if (ds_hnsw_init(&h2, &p, NULL) != DS_OK) exit(1);
        int64_t t0 = bench_now();
        if (ds_hnsw_insert_batch(&h2, labels.data(), ds.base.data(), ds.n, 2) != DS_OK) {
            fprintf(stderr, "ds_hnsw_insert_batch failed\n");
            exit(1);
        }
        res.build2 = (double)(bench_now() - t0) / 1e9;
        // Same recall? Both graphs at one ef, all queries.
        double rec[2];
        const ds_hnsw *hs[2] = {&h, &h2};
        for (int b = 0; b < 2; b++) {
            std::vector<uint64_t> got(ds.nq * 10, UINT64_MAX);
            std::vector<ds_neighbor> nb(ds.nq * 10);
            std::vector<size_t> nout(ds.nq);
            ds_hnsw_search_batch(hs[b], ds.query.data(), ds.nq, 10, 32, NULL, NULL, nb.data(), nout.data(), 1);
            for (size_t q = 0; q < ds.nq; q++)
                for (size_t k = 0; k < nout[q]; k++) got[q * 10 + k] = nb[q * 10 + k].label;
            rec[b] = recall_at_10(ds, got);
        }
        res.rec1 = rec[0];
        res.rec2 = rec[1];
        ds_hnsw_free(&h2);
    }
    c.search = [&ds, kept](int ef, std::vector<uint64_t> &out) {
        ds_neighbor nb[10];
        for (size_t q = 0; q < ds.nq; q++) {
            size_t got = 0;
            ds_hnsw_search_scratch(&kept->h, &kept->sc, &ds.query[q * ds.dim], 10, (size_t)ef, NULL, NULL, nb, &got);
            for (size_t k = 0; k < got; k++) out[q * 10 + k] = nb[k].label;
        }
    };
    return c;
}

// Exact search with ds_flat over the caller's vectors (a view, no copy).
static double exact_ds(const dataset &ds, size_t nq, std::vector<uint64_t> *labels) {
    ds_flat f;
    if (ds_flat_init_view(&f, ds.base.data(), ds.n, ds.dim, ds.dim, DS_METRIC_L2) != DS_OK) exit(1);
    std::vector<ds_neighbor> out(nq * 10);
    std::vector<size_t> nout(nq);
    int64_t t0 = bench_now();
    ds_flat_search_batch(&f, ds.query.data(), nq, 10, out.data(), nout.data());
    double s = (double)(bench_now() - t0) / 1e9;
    if (labels) {
        labels->resize(nq * 10);
        for (size_t i = 0; i < nq * 10; i++) (*labels)[i] = out[i].label;
    }
    ds_flat_free(&f);
    return (double)nq / s;
}

static void print_exact(size_t nq, int reps, double q_ds, double q_faiss) {
    printf("  exact search, one thread, %zu queries, median of %d: ds_flat %.1f QPS, faiss IndexFlatL2 %.1f QPS, ds / faiss %.2fx\n",
           nq, reps, q_ds, q_faiss, q_ds / q_faiss);
}

static void run_set(dataset &ds, int reps, const std::string &out, bool faiss_hnsw = true, bool exact_only = false,
                    bool f16 = false) {
    size_t nq_exact = std::min(ds.nq, ds.n >= 500000 ? (size_t)100 : ds.nq);
    std::vector<uint64_t> lab;
    // Exact search: the two alternate, reps times each; median QPS (one
    // pass over a 10^6 base is a second or two, and a single one is noise).
    bench_samples e_ds = {}, e_faiss = {};
    for (int r = 0; r < std::max(reps, 3); r++) {
        bench_add(&e_ds, exact_ds(ds, nq_exact, &lab));
        bench_add(&e_faiss, exact_faiss(ds, nq_exact, NULL));
    }
    double q_ds = bench_median(&e_ds), q_faiss = bench_median(&e_faiss);
    if (exact_only) {
        printf("\n%s: %zu x %zu\n", ds.name.c_str(), ds.n, ds.dim);
        print_exact(nq_exact, std::max(reps, 3), q_ds, q_faiss);
        return;
    }
    if (ds.gt.empty()) { // ground truth from our exact search, all queries
        exact_ds(ds, ds.nq, &lab);
        ds.gt.assign(lab.begin(), lab.end());
    }
    // Build every index first (one at a time, so builds never share the
    // cores), then sweep them interleaved.
    std::vector<contender> cs;
    cs.push_back(build_ds(ds));
    if (f16) cs.push_back(build_ds(ds, DS_HNSW_STORE_F16));
    cs.push_back(build_hnswlib(ds));
    if (faiss_hnsw) cs.push_back(build_faiss(ds));
    sweep_all(ds, reps, cs);
    std::vector<result> rs;
    for (contender &c : cs) rs.push_back(c.res);
    cs.clear(); // frees the indexes
    print_results(ds, rs, out);
    print_exact(nq_exact, std::max(reps, 3), q_ds, q_faiss);
}

int main(int argc, char **argv) {
    bool quick = false, faiss_hnsw = true, exact_only = false, f16 = false;
    size_t n = 1000000;
    std::string data = "../shared/data", out = "bench/bin", sets = "siftsmall,mnist,fashion,synthetic";
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--quick") quick = true;
        else if (a == "--n" && i + 1 < argc) n = (size_t)atol(argv[++i]);
        else if (a == "--data" && i + 1 < argc) data = argv[++i];
        else if (a == "--out" && i + 1 < argc) out = argv[++i];
        else if (a == "--no-faiss-hnsw") faiss_hnsw = false;
        else if (a == "--exact-only") exact_only = true;
        else if (a == "--f16") f16 = true;
        else if (a == "--sets" && i + 1 < argc) sets = argv[++i];
        else {
            fprintf(stderr, "usage: bench_hnsw [--quick] [--n N] [--data DIR] [--out DIR] [--no-faiss-hnsw] [--exact-only] [--f16]\n"
                            "                  [--sets siftsmall,mnist,fashion,synthetic]\n");
            return 2;
        }
    }
    if (quick) n = std::min(n, (size_t)20000);
    int reps = bench_reps(quick ? 1 : 3);
    printf("bench_hnsw: distance kernels at SIMD level %d (0 scalar, 1 AVX2+FMA, 2 AVX-512)\n", ds_dist_simd_level());
    auto want = [&sets](const char *set) { return ("," + sets + ",").find(std::string(",") + set + ",") != std::string::npos; };
    if (want("siftsmall")) {
        dataset sift;
        if (load_sift(data, sift)) run_set(sift, reps, out, true, exact_only, f16);
        else printf("(no %s/siftsmall: skipped)\n", data.c_str());
    }
    static const char *idx_sets[2][2] = {{"mnist", "mnist-t10k"}, {"fashion", "fashion-mnist-t10k"}};
    for (auto &is : idx_sets) {
        if (!want(is[0])) continue;
        dataset d;
        if (load_idx(data, is[1], d)) run_set(d, reps, out, true, exact_only, f16);
        else printf("(no %s/%s: skipped)\n", data.c_str(), is[1]);
    }
    if (want("synthetic")) {
        dataset syn;
        make_synthetic(syn, n, quick ? 200 : 1000, 128, 7);
        run_set(syn, reps, out, faiss_hnsw, exact_only, f16);
    }
    return 0;
}
