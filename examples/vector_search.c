/* examples/vector_search.c - nearest-neighbour search over SIFT descriptors:
 * an exact scan of a memory-mapped file beside an HNSW graph index.
 *
 * A service answers "which 10 stored vectors are nearest to this one?"
 * over siftsmall (TEXMEX ANN_SIFT10K: 10,000 base vectors of 128 floats,
 * 100 queries, the true 100 nearest of each). The program
 *   1. maps siftsmall_base.fvecs read-only and scans it in place with
 *      ds_flat (no copy: the index reads the file's rows, stride d + 1),
 *   2. builds a ds_hnsw index from the same rows,
 *   3. answers the queries both ways: recall@10 against the shipped ground
 *      truth and queries per second,
 *   4. saves the index, loads it back as a restarted service would, and
 *      checks the reloaded index answers identically,
 *   5. builds it again with fp16 storage (DS_HNSW_STORE_F16: half the
 *      memory; SIFT's values are small integers, which binary16 holds
 *      exactly, so the answers match the fp32 index's) and compares.
 * It exits non-zero if either index's recall@10 < 0.95, the exact scan
 * disagrees with the ground truth, or the reloaded index answers
 * differently; it prints a message and exits 0 when the data folder is
 * absent.
 *
 * Build and run from the repository root (data in ../shared/data, or give
 * the folder holding siftsmall/ as the first argument; M, ef_construction
 * and ef may follow):
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/vector_search.c -o vector_search -lm
 *     ./vector_search [DATA_DIR [M EF_CONSTRUCTION EF]] */
#define DS_IMPLEMENTATION
#include "ds_hnsw.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define K 10

static void die(const char *what, const char *why) {
    fprintf(stderr, "vector_search: %s: %s\n", what, why);
    exit(1);
}

/* Whole small file (queries, ground truth) through the ds_reader API. */
static void *read_vecs(const char *path, int ints, size_t *n, size_t *dim) {
    FILE *f = fopen(path, "rb");
    ds_reader r;
    ds_status st;
    void *p = NULL;
    if (!f) die(path, "cannot open");
    r = ds_file_reader(f);
    st = ints ? ds_ivecs_read(&r, (int32_t **)&p, n, dim, NULL)
              : ds_fvecs_read(&r, (float **)&p, n, dim, NULL);
    fclose(f);
    if (st != DS_OK) die(path, ds_strerror(st));
    return p;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : getenv("DS_DATA") ? getenv("DS_DATA") : "../shared/data";
    char path[1024];
    int fd, bad = 0;
    struct stat sb;
    const unsigned char *map;
    size_t nb, d, nq, qd, ng, kg, i, j, got, same16 = 0;
    float *queries;
    int32_t *gt;
    uint64_t *truth;
    ds_flat exact;
    ds_hnsw h, h2, h16;
    ds_hnsw_params p;
    ds_hnsw_scratch s;
    ds_neighbor *res, *res2;
    double rec_exact = 0, rec_hnsw = 0, rec_16 = 0, t_exact, t_hnsw, t_build, t_16, t_build16;
    int64_t t0;
    size_t ef;
    FILE *tmp;

    snprintf(path, sizeof path, "%s/siftsmall/siftsmall_base.fvecs", dir);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("vector_search: %s not found; skipping (give the data folder as argv[1])\n", path);
        return 0;
    }
    /* 1. The base file mapped read-only; check its framing before use. */
    if (fstat(fd, &sb) != 0 || sb.st_size < 4) die(path, "empty or unreadable");
    map = (const unsigned char *)mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) die(path, "mmap failed");
    {
        int32_t d0;
        memcpy(&d0, map, 4);
        if (d0 < 1 || d0 > 65536 || (size_t)sb.st_size % (4 + 4 * (size_t)d0)) die(path, "not .fvecs");
        d = (size_t)d0;
        nb = (size_t)sb.st_size / (4 + 4 * d);
        for (i = 0; i < nb; i++) {
            int32_t di;
            memcpy(&di, map + i * (4 + 4 * d), 4);
            if ((size_t)di != d) die(path, "records of different dimension");
        }
    }
    snprintf(path, sizeof path, "%s/siftsmall/siftsmall_query.fvecs", dir);
    queries = (float *)read_vecs(path, 0, &nq, &qd);
    snprintf(path, sizeof path, "%s/siftsmall/siftsmall_groundtruth.ivecs", dir);
    gt = (int32_t *)read_vecs(path, 1, &ng, &kg);
    if (qd != d || ng != nq || kg < K) die("siftsmall", "queries and ground truth do not match");
    truth = (uint64_t *)malloc(nq * K * sizeof *truth);
    res = (ds_neighbor *)malloc(nq * K * sizeof *res);
    res2 = (ds_neighbor *)malloc(nq * K * sizeof *res2);
    if (!truth || !res || !res2) die("malloc", "out of memory");
    for (i = 0; i < nq; i++)
        for (j = 0; j < K; j++) truth[i * K + j] = (uint64_t)gt[i * kg + j];

    /* Exact: a view over the mapped rows (data after each 4-byte header). */
    if (ds_flat_init_view(&exact, (const float *)(const void *)(map + 4), nb, d, d + 1,
                          DS_METRIC_L2) != DS_OK)
        die("ds_flat_init_view", "bad arguments");
    t0 = ds_now_ns();
    {
        size_t *counts = (size_t *)malloc(nq * sizeof *counts);
        if (!counts || ds_flat_search_batch(&exact, queries, nq, K, res, counts) != DS_OK)
            die("exact search", "failed");
        t_exact = (double)(ds_now_ns() - t0) / 1e9;
        for (i = 0; i < nq; i++) rec_exact += ds_recall_at_k(res + i * K, counts[i], truth + i * K, K);
        free(counts);
    }
    rec_exact /= (double)nq;

    /* 2. HNSW over the same rows. */
    p = ds_hnsw_params_default(d);
    p.M = argc > 2 ? (size_t)atol(argv[2]) : 16;
    p.ef_construction = argc > 3 ? (size_t)atol(argv[3]) : 100;
    ef = argc > 4 ? (size_t)atol(argv[4]) : 64;
    p.max_elements = nb;
    p.seed = 2024;
    if (ds_hnsw_init(&h, &p, NULL) != DS_OK) die("ds_hnsw_init", "bad parameters");
    t0 = ds_now_ns();
    for (i = 0; i < nb; i++) {
        ds_status st = ds_hnsw_insert(&h, i, (const float *)(const void *)(map + i * (4 + 4 * d) + 4));
        if (st != DS_OK) die("ds_hnsw_insert", ds_strerror(st));
    }
    t_build = (double)(ds_now_ns() - t0) / 1e9;

    /* 3. Queries with one reusable scratch (one per thread in a server). */
    ds_hnsw_scratch_init(&s, NULL);
    t0 = ds_now_ns();
    for (i = 0; i < nq; i++) {
        if (ds_hnsw_search_scratch(&h, &s, queries + i * d, K, ef, NULL, NULL, res + i * K, &got) != DS_OK)
            die("ds_hnsw_search", "failed");
        rec_hnsw += ds_recall_at_k(res + i * K, got, truth + i * K, K);
    }
    t_hnsw = (double)(ds_now_ns() - t0) / 1e9;
    rec_hnsw /= (double)nq;

    /* 4. Save, reload, compare every answer. */
    tmp = tmpfile();
    if (!tmp) die("tmpfile", "cannot create");
    if (ds_hnsw_save(&h, ds_file_writer(tmp)) != DS_OK || fflush(tmp) != 0) die("save", "failed");
    rewind(tmp);
    {
        ds_reader r = ds_file_reader(tmp);
        ds_status st = ds_hnsw_load(&h2, &r, NULL);
        if (st != DS_OK) die("load", ds_strerror(st));
    }
    fclose(tmp);
    for (i = 0; i < nq; i++) {
        size_t got2;
        if (ds_hnsw_search_scratch(&h2, &s, queries + i * d, K, ef, NULL, NULL, res2 + i * K, &got2) != DS_OK ||
            got2 != K)
            die("search after reload", "failed");
        for (j = 0; j < K; j++)
            if (res2[i * K + j].label != res[i * K + j].label || res2[i * K + j].dist != res[i * K + j].dist)
                bad = 1;
    }

    /* 5. The same index storing halves: queries stay fp32. */
    p.storage = DS_HNSW_STORE_F16;
    if (ds_hnsw_init(&h16, &p, NULL) != DS_OK) die("ds_hnsw_init (fp16)", "bad parameters");
    t0 = ds_now_ns();
    for (i = 0; i < nb; i++) {
        ds_status st = ds_hnsw_insert(&h16, i, (const float *)(const void *)(map + i * (4 + 4 * d) + 4));
        if (st != DS_OK) die("ds_hnsw_insert (fp16)", ds_strerror(st));
    }
    t_build16 = (double)(ds_now_ns() - t0) / 1e9;
    t0 = ds_now_ns();
    for (i = 0; i < nq; i++) {
        if (ds_hnsw_search_scratch(&h16, &s, queries + i * d, K, ef, NULL, NULL, res2 + i * K, &got) != DS_OK)
            die("ds_hnsw_search (fp16)", "failed");
        rec_16 += ds_recall_at_k(res2 + i * K, got, truth + i * K, K);
        for (j = 0; j < got; j++) same16 += res2[i * K + j].label == res[i * K + j].label;
    }
    t_16 = (double)(ds_now_ns() - t0) / 1e9;
    rec_16 /= (double)nq;

    printf("siftsmall: %zu base x %zu dims, %zu queries, k = %d\n", nb, d, nq, K);
    printf("exact (ds_flat over the mmap): recall@10 %.4f  %8.0f QPS\n", rec_exact,
           (double)nq / t_exact);
    printf("hnsw  (M=%zu efc=%zu ef=%zu):   recall@10 %.4f  %8.0f QPS  (build %.2f s, %.1f MB)\n",
           p.M, p.ef_construction, ef, rec_hnsw, (double)nq / t_hnsw, t_build,
           (double)ds_hnsw_memory(&h) / 1e6);
    printf("save + load: %s\n", bad ? "ANSWERS DIFFER" : "identical answers");
    printf("hnsw  fp16 storage, same M/ef: recall@10 %.4f  %8.0f QPS  (build %.2f s, %.1f MB;"
           " %zu of %zu answers as fp32's)\n",
           rec_16, (double)nq / t_16, t_build16, (double)ds_hnsw_memory(&h16) / 1e6, same16, nq * K);
    if (rec_exact < 0.999) fprintf(stderr, "exact search disagrees with the ground truth\n"), bad = 1;
    if (rec_hnsw < 0.95) fprintf(stderr, "hnsw recall@10 below 0.95\n"), bad = 1;
    if (rec_16 < 0.95) fprintf(stderr, "hnsw fp16 recall@10 below 0.95\n"), bad = 1;

    ds_hnsw_scratch_free(&s);
    ds_hnsw_free(&h);
    ds_hnsw_free(&h2);
    ds_hnsw_free(&h16);
    ds_flat_free(&exact);
    free(truth);
    free(res);
    free(res2);
    ds_vecs_free(NULL, queries, nq, qd);
    ds_vecs_free(NULL, gt, ng, kg);
    munmap((void *)(uintptr_t)map, (size_t)sb.st_size);
    close(fd);
    return bad;
}
