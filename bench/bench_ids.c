/* bench/bench_ids.c - ds_snowflake ids per second, and base62 encode/decode,
 * beside libuuid (util-linux, Debian's uuid-dev) and libc's decimal
 * conversions.
 *
 * Ids (each rep generates N ids, strictly increasing ids are checked):
 *   snowflake, simulated clock   the id path alone: now advances 245 ns a
 *                                call, so the 4096 ids a millisecond never
 *                                run out and nothing but next() is timed
 *   ds_wall_ns() alone           the real clock (CLOCK_REALTIME) by itself
 *   snowflake + ds_wall_ns()     next(ds_wall_ns()) until N ids; a used-up
 *                                millisecond (DS_EBUSY) is retried at once,
 *                                so the default 41/10/12 layout caps this at
 *                                4096 ids/ms = 244 ns an id
 *   same, 41/6/16 layout         65536 ids/ms: shows the clock + next() cost
 *                                without the cap
 *   libuuid uuid_generate_time   the time-based (v1) UUID, the 128-bit peer.
 *                                util-linux 2.38 first asks the uuidd daemon
 *                                (package uuid-runtime) for a batch; without
 *                                it every call pays socket + connect + close
 *                                before making the UUID itself (strace -c)
 *   libuuid uuid_generate_random v4, from getrandom() (plus getpid and
 *                                friends: 6 syscalls a call): for reference
 * Text (over the ids the snowflake made, 11 base62 digits each):
 *   ds_base62_encode / _decode   ns per id
 *   snprintf("%llu") / strtoull  the same ids in decimal (libc): 19-20 digits
 *   uuid_unparse / uuid_parse    a UUID as 36 characters of hex and dashes
 * Ratios are peer / ds: > 1 means ds is faster. Medians of the reps.
 *
 *   bench_ids [--n N] [--reps R] [--quick]
 *     --n N      ids per rep (default 10000000; the real-clock runs use
 *                N/5, libuuid N/50, the text runs N/10)
 *     --reps R   reps, median reported (default 5; env BENCH_REPS)
 *     --quick    smoke run: N = 200000, 1 rep */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "bench/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

static volatile uint64_t g_sink;

static void fail(const char *what) {
    fprintf(stderr, "bench_ids: %s\n", what);
    exit(1);
}

/* The simulated clock: 245 ns per id keeps under 4096 ids a millisecond. */
static double run_sim(size_t n, uint64_t *ids) {
    ds_snowflake g;
    int64_t now = 1700000000000LL * 1000000, t0;
    uint64_t prev = 0, x = 0;
    size_t i;
    if (ds_snowflake_init(&g, NULL) != DS_OK) fail("init");
    t0 = bench_now();
    for (i = 0; i < n; i++) {
        uint64_t id;
        if (ds_snowflake_next(&g, now, &id, NULL) != DS_OK || id <= prev) fail("simulated clock: bad id");
        prev = id;
        x ^= id;
        now += 245;
        if (ids) ids[i] = id;
    }
    t0 = bench_now() - t0;
    g_sink ^= x;
    return (double)t0;
}

static double run_clock(size_t n) {
    int64_t t0 = bench_now(), x = 0;
    size_t i;
    for (i = 0; i < n; i++) x ^= ds_wall_ns();
    t0 = bench_now() - t0;
    g_sink ^= (uint64_t)x;
    return (double)t0;
}

/* next(ds_wall_ns()) until n ids; *busy = DS_EBUSY answers retried. */
static double run_real(size_t n, const ds_snowflake_config *cfg, uint64_t *busy) {
    ds_snowflake g;
    uint64_t prev = 0, x = 0, b = 0;
    size_t i = 0;
    int64_t t0;
    if (ds_snowflake_init(&g, cfg) != DS_OK) fail("init");
    t0 = bench_now();
    while (i < n) {
        uint64_t id;
        ds_status s = ds_snowflake_next(&g, ds_wall_ns(), &id, NULL);
        if (s == DS_EBUSY) {
            b++;
            continue;
        }
        if (s != DS_OK || id <= prev) fail("real clock: bad id");
        prev = id;
        x ^= id;
        i++;
    }
    t0 = bench_now() - t0;
    g_sink ^= x;
    *busy = b;
    return (double)t0;
}

static double run_uuid(size_t n, int random) {
    uuid_t u, prev;
    uint64_t x = 0;
    size_t i;
    int64_t t0 = bench_now();
    memset(prev, 0, sizeof prev);
    for (i = 0; i < n; i++) {
        uint64_t w;
        if (random) uuid_generate_random(u); else uuid_generate_time(u);
        if (uuid_compare(u, prev) == 0) fail("libuuid repeated a uuid");
        memcpy(prev, u, sizeof u);
        memcpy(&w, u, sizeof w);
        x ^= w;
    }
    t0 = bench_now() - t0;
    g_sink ^= x;
    return (double)t0;
}

/* ---- text ------------------------------------------------------------------ */
static double run_b62_encode(const uint64_t *ids, size_t n, char (*out)[16]) {
    uint64_t x = 0;
    size_t i;
    int64_t t0 = bench_now();
    for (i = 0; i < n; i++) x += ds_base62_encode(ids[i], out[i], 16);
    t0 = bench_now() - t0;
    g_sink ^= x;
    return (double)t0;
}
static double run_b62_decode(const uint64_t *ids, size_t n, char (*in)[16]) {
    uint64_t x = 0;
    size_t i;
    int64_t t0 = bench_now();
    for (i = 0; i < n; i++) {
        uint64_t v;
        if (ds_base62_decode(in[i], strlen(in[i]), &v) != DS_OK) fail("base62 decode");
        x ^= v;
    }
    t0 = bench_now() - t0;
    for (i = 0; i < n; i++) x ^= ids[i];
    if (x != 0) fail("base62 round trip");
    return (double)t0;
}
static double run_dec_encode(const uint64_t *ids, size_t n, char (*out)[24]) {
    uint64_t x = 0;
    size_t i;
    int64_t t0 = bench_now();
    for (i = 0; i < n; i++) x += (uint64_t)snprintf(out[i], 24, "%llu", (unsigned long long)ids[i]);
    t0 = bench_now() - t0;
    g_sink ^= x;
    return (double)t0;
}
static double run_dec_decode(const uint64_t *ids, size_t n, char (*in)[24]) {
    uint64_t x = 0;
    size_t i;
    int64_t t0 = bench_now();
    for (i = 0; i < n; i++) x ^= (uint64_t)strtoull(in[i], NULL, 10);
    t0 = bench_now() - t0;
    for (i = 0; i < n; i++) x ^= ids[i];
    if (x != 0) fail("strtoull round trip");
    return (double)t0;
}
static double run_uuid_unparse(const uuid_t *u, size_t n, char (*out)[40]) {
    size_t i;
    int64_t t0 = bench_now();
    for (i = 0; i < n; i++) uuid_unparse(u[i], out[i]);
    t0 = bench_now() - t0;
    g_sink ^= (uint64_t)out[n - 1][0];
    return (double)t0;
}
static double run_uuid_parse(const uuid_t *u, size_t n, char (*in)[40]) {
    size_t i;
    uuid_t v;
    uint64_t bad = 0;
    int64_t t0 = bench_now();
    for (i = 0; i < n; i++) {
        bad += (uint64_t)(uuid_parse(in[i], v) != 0);
        bad += (uint64_t)(v[15] != u[i][15]);
    }
    t0 = bench_now() - t0;
    if (bad) fail("uuid_parse round trip");
    return (double)t0;
}

typedef double (*ids_fn)(size_t n, void *ctx);

static void row(const char *name, double ns_per_op, double peer_ns, const char *peer) {
    printf("  %-34s %9.2f ns  %8.2f M/s", name, ns_per_op, bench_mops(ns_per_op));
    if (peer) printf("   %s / ds %.2fx", peer, bench_ratio(peer_ns, ns_per_op));
    printf("\n");
}

int main(int argc, char **argv) {
    size_t n = 10000000, nt, nr, nu, i;
    int reps = 0, quick = 0, r;
    bench_samples s_sim = {{0}, 0}, s_clock = {{0}, 0}, s_real = {{0}, 0}, s_wide = {{0}, 0},
                  s_ut = {{0}, 0}, s_ur = {{0}, 0}, s_e62 = {{0}, 0}, s_d62 = {{0}, 0},
                  s_e10 = {{0}, 0}, s_d10 = {{0}, 0}, s_eu = {{0}, 0}, s_du = {{0}, 0};
    uint64_t *ids, busy = 0, busy_wide = 0;
    char(*b62)[16], (*dec)[24], (*utxt)[40];
    uuid_t *uu;
    ds_snowflake_config wide;
    double sim, clk, real, realw, ut, ur, e62, d62, e10, d10, eu, du;

    for (i = 1; i < (size_t)argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--n") && i + 1 < (size_t)argc) n = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--reps") && i + 1 < (size_t)argc) reps = atoi(argv[++i]);
        else if (!strcmp(a, "--quick")) quick = 1;
        else {
            fprintf(stderr, "usage: bench_ids [--n N] [--reps R] [--quick]\n");
            return 2;
        }
    }
    if (quick) n = 200000;
    if (reps <= 0) reps = quick ? 1 : bench_reps(5);
    if (reps > BENCH_MAX_REPS) reps = BENCH_MAX_REPS;
    if (n < 10) n = 10;
    nr = n / 5;  /* real clock */
    nu = n / 50; /* libuuid: microseconds a call here */
    nt = n / 10; /* text */

    ids = (uint64_t *)malloc(n * sizeof *ids);
    b62 = (char(*)[16])malloc(nt * sizeof *b62);
    dec = (char(*)[24])malloc(nt * sizeof *dec);
    utxt = (char(*)[40])malloc(nt * sizeof *utxt);
    uu = (uuid_t *)malloc(nt * sizeof *uu);
    if (!ids || !b62 || !dec || !utxt || !uu) fail("out of memory");
    /* Touch every page now, so no rep pays the first-touch faults. */
    memset(ids, 0, n * sizeof *ids);
    memset(b62, 0, nt * sizeof *b62);
    memset(dec, 0, nt * sizeof *dec);
    memset(utxt, 0, nt * sizeof *utxt);
    memset(&wide, 0, sizeof wide);
    wide.time_bits = 41;
    wide.node_bits = 6;
    wide.seq_bits = 16;
    for (i = 0; i < nt; i++) uuid_generate_time(uu[i]);

    printf("ids: %zu per rep (real clock %zu, libuuid %zu, text %zu), %d rep(s), medians\n", n, nr, nu, nt,
           reps);
    run_sim(n / 10, NULL); /* warm-up */
    for (r = 0; r < reps; r++) { /* interleaved, so drift hits all alike */
        bench_add(&s_sim, run_sim(n, ids));
        bench_add(&s_clock, run_clock(nr));
        bench_add(&s_real, run_real(nr, NULL, &busy));
        bench_add(&s_wide, run_real(nr, &wide, &busy_wide));
        bench_add(&s_ut, run_uuid(nu, 0));
        bench_add(&s_ur, run_uuid(nu, 1));
        bench_add(&s_e62, run_b62_encode(ids, nt, b62));
        bench_add(&s_d62, run_b62_decode(ids, nt, b62));
        bench_add(&s_e10, run_dec_encode(ids, nt, dec));
        bench_add(&s_d10, run_dec_decode(ids, nt, dec));
        bench_add(&s_eu, run_uuid_unparse((const uuid_t *)uu, nt, utxt));
        bench_add(&s_du, run_uuid_parse((const uuid_t *)uu, nt, utxt));
    }
    sim = bench_ns_per_op(bench_median(&s_sim), (double)n);
    clk = bench_ns_per_op(bench_median(&s_clock), (double)nr);
    real = bench_ns_per_op(bench_median(&s_real), (double)nr);
    realw = bench_ns_per_op(bench_median(&s_wide), (double)nr);
    ut = bench_ns_per_op(bench_median(&s_ut), (double)nu);
    ur = bench_ns_per_op(bench_median(&s_ur), (double)nu);
    e62 = bench_ns_per_op(bench_median(&s_e62), (double)nt);
    d62 = bench_ns_per_op(bench_median(&s_d62), (double)nt);
    e10 = bench_ns_per_op(bench_median(&s_e10), (double)nt);
    d10 = bench_ns_per_op(bench_median(&s_d10), (double)nt);
    eu = bench_ns_per_op(bench_median(&s_eu), (double)nt);
    du = bench_ns_per_op(bench_median(&s_du), (double)nt);

    printf("per id (ns) and ids per second:\n");
    row("snowflake, simulated clock", sim, ut, "uuid_generate_time");
    row("ds_wall_ns() alone", clk, 0, NULL);
    row("snowflake + ds_wall_ns(), 41/10/12", real, ut, "uuid_generate_time");
    printf("  %-34s (%.1f DS_EBUSY retries per id: the 4096 ids/ms cap)\n", "", (double)busy / (double)nr);
    row("snowflake + ds_wall_ns(), 41/6/16", realw, ut, "uuid_generate_time");
    printf("  %-34s (%.2f DS_EBUSY retries per id)\n", "", (double)busy_wide / (double)nr);
    row("libuuid uuid_generate_time (v1)", ut, 0, NULL);
    row("libuuid uuid_generate_random (v4)", ur, 0, NULL);
    printf("text, ns per id (%s = 11 base62 digits, %s = decimal, %s = uuid):\n", b62[0], dec[0], utxt[0]);
    row("ds_base62_encode", e62, e10, "snprintf %llu");
    row("ds_base62_decode", d62, d10, "strtoull");
    row("uuid_unparse (36 chars)", eu, 0, NULL);
    row("uuid_parse", du, 0, NULL);
    printf("  encode: uuid_unparse / ds %.2fx; decode: uuid_parse / ds %.2fx\n", bench_ratio(eu, e62),
           bench_ratio(du, d62));

    free(ids);
    free(b62);
    free(dec);
    free(utxt);
    free(uu);
    return 0;
}
