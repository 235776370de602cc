/* tests/test_ids.c - snowflake ids under a misbehaving clock; base62/58. */
#include "prop.h"
#include <math.h>
#include <time.h>

void test_snowflake(void) {
    ds_snowflake g, h;
    ds_snowflake_config cfg;
    ds_rng r;
    int64_t now = 1700000000000LL * 1000000, wait;
    uint64_t prev = 0, id, n = 0, busy = 0, absorbed = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.node = 1023;
    CHECK(ds_snowflake_init(&g, &cfg) == DS_OK);
    cfg.node = 1024;
    CHECK(ds_snowflake_init(&h, &cfg) == DS_EINVAL); /* does not fit 10 bits */
    cfg.node = 7;
    cfg.time_bits = 50;
    cfg.node_bits = 10;
    cfg.seq_bits = 12;
    CHECK(ds_snowflake_init(&h, &cfg) == DS_EINVAL); /* 72 bits */
    ds_rng_seed(&r, 1);
    /* 10^7 ids: the clock mostly creeps (many ids per ms, so sequences run
     * out), sometimes stalls, sometimes steps back a little or a lot. */
    while (n < 10000000) {
        ds_status st;
        uint64_t roll = ds_rng_below(&r, 100000);
        if (roll < 90000) now += (int64_t)ds_rng_below(&r, 400);           /* ns: ~2500 ids per ms */
        else if (roll < 99990) ;                                             /* stall */
        else if (roll < 99996) { now -= (int64_t)ds_rng_below(&r, 5) * 1000000; absorbed++; } /* small step back */
        else now -= 50 * 1000000;                                            /* a big one */
        st = ds_snowflake_next(&g, now, &id, &wait);
        if (st == DS_EBUSY) {
            CHECK(wait > 0);
            busy++;
            now += wait; /* the caller waits as told */
            continue;
        }
        CHECK(st == DS_OK);
        CHECKF(id > prev, "id %llu after %llu", (unsigned long long)id, (unsigned long long)prev);
        prev = id;
        n++;
    }
    CHECK(busy > 0 && absorbed > 0);
    {
        int64_t ms;
        uint64_t node, seq;
        ds_snowflake_decompose(NULL, prev, &ms, &node, &seq);
        CHECK(node == 1023 && seq < 4096 && ms > 1700000000000LL && ms <= now / 1000000 + 5);
    }
    /* Two nodes at the same instant: different ids. */
    memset(&cfg, 0, sizeof cfg);
    cfg.node = 1;
    CHECK(ds_snowflake_init(&g, &cfg) == DS_OK);
    cfg.node = 2;
    CHECK(ds_snowflake_init(&h, &cfg) == DS_OK);
    {
        uint64_t a, b;
        CHECK(ds_snowflake_next(&g, now, &a, NULL) == DS_OK && ds_snowflake_next(&h, now, &b, NULL) == DS_OK && a != b);
    }
    CHECK(ds_snowflake_next(&g, 0, &id, NULL) == DS_EFULL); /* before the epoch */
    CHECK(ds_snowflake_next(NULL, now, &id, NULL) == DS_EINVAL);
}

/* Regression: the README fed ds_now_ns() (monotonic, zero at boot) to the
 * generator, which is before any epoch: DS_EFULL and no id. The wall clock
 * gives an id whose time is today's. */
void test_snowflake_wall_clock(void) {
    ds_snowflake g;
    uint64_t id = 0, node, seq;
    int64_t ms, wait, t = (int64_t)time(NULL) * 1000; /* ms, to the second */
    int64_t w = ds_wall_ns();
    CHECKF(w / 1000000 >= t - 2000 && w / 1000000 <= t + 2000, "ds_wall_ns %lld vs time() %lld ms",
           (long long)(w / 1000000), (long long)t);
    CHECK(ds_snowflake_init(&g, NULL) == DS_OK);
    CHECK(ds_snowflake_next(&g, ds_wall_ns(), &id, &wait) == DS_OK);
    ds_snowflake_decompose(NULL, id, &ms, &node, &seq);
    CHECKF(ms >= t - 2000 && ms <= t + 2000, "id time %lld vs time() %lld", (long long)ms, (long long)t);
    CHECK(node == 0 && seq == 0);
}

void test_base62_58(void) {
    static const uint64_t edge[] = {0, 1, 57, 58, 61, 62, 3843, 3844, 4294967295u, 4294967296u,
                                    UINT64_MAX / 62, UINT64_MAX - 1, UINT64_MAX};
    char buf[32];
    uint64_t v;
    size_t i, n;
    ds_rng r;
    ds_rng_seed(&r, 3);
    for (i = 0; i < sizeof edge / sizeof edge[0] + 2000; i++) {
        uint64_t x = i < sizeof edge / sizeof edge[0] ? edge[i] : ds_rng_next(&r) >> ds_rng_below(&r, 64);
        n = ds_base62_encode(x, buf, sizeof buf);
        CHECK(n > 0 && n <= 11 && strlen(buf) == n);
        CHECK(ds_base62_decode(buf, n, &v) == DS_OK && v == x);
        n = ds_base58_encode(x, buf, sizeof buf);
        CHECK(n > 0 && n <= 11 && ds_base58_decode(buf, n, &v) == DS_OK && v == x);
        CHECK(!strpbrk(buf, "0OIl"));
    }
    CHECK(ds_base62_encode(62, buf, sizeof buf) == 2 && strcmp(buf, "10") == 0);
    CHECK(ds_base62_encode(61, buf, sizeof buf) == 1 && strcmp(buf, "z") == 0);
    CHECK(ds_base58_encode(0, buf, sizeof buf) == 1 && strcmp(buf, "1") == 0);
    CHECK(ds_base62_encode(UINT64_MAX, buf, 11) == 0); /* needs 11 digits + NUL */
    CHECK(ds_base62_decode("", 0, &v) == DS_EINVAL);
    CHECK(ds_base62_decode("ab-c", 4, &v) == DS_EINVAL);
    CHECK(ds_base62_decode("ab\0c", 4, &v) == DS_EINVAL);
    CHECK(ds_base58_decode("10", 2, &v) == DS_EINVAL); /* 0 is not base58 */
    CHECK(ds_base62_decode("zzzzzzzzzzzz", 12, &v) == DS_EINVAL); /* overflow */
    n = ds_base62_encode(UINT64_MAX, buf, sizeof buf);
    buf[n - 1]++; /* one past the largest: overflow */
    CHECK(ds_base62_decode(buf, n, &v) == DS_EINVAL);
    CHECK(ds_base62_decode(NULL, 3, &v) == DS_EINVAL);
}

/* Jump hash: the reference values (the paper's algorithm, as ClickHouse's
 * jumpConsistentHash test lists them), minimal movement, balance. */
void test_jump_rendezvous(void) {
    static const struct {
        uint64_t key;
        int32_t n, want;
    } ref[] = {{1, 1, 0}, {42, 57, 43}, {256, 1024, 520}, {3735883980u, 1, 0},
               {3735883980u, 666, 361}, {16045690984833335023ull, 255, 237}};
    size_t i, moved = 0, counts[64], removed_moves = 0, wrong_moves = 0;
    uint64_t nodes[10];
    double w[10];
    const size_t K = 200000;
    for (i = 0; i < sizeof ref / sizeof ref[0]; i++)
        CHECKF(ds_jump_hash(ref[i].key, ref[i].n) == ref[i].want, "jump(%llu, %d) = %d, want %d",
               (unsigned long long)ref[i].key, ref[i].n, ds_jump_hash(ref[i].key, ref[i].n), ref[i].want);
    CHECK(ds_jump_hash(5, 0) == -1);
    /* 50 -> 51 buckets: about 1/51 of keys move, all into bucket 50. */
    for (i = 0; i < K; i++) {
        uint64_t k = ds_mix64(i);
        int32_t a = ds_jump_hash(k, 50), b = ds_jump_hash(k, 51);
        if (a != b) {
            moved++;
            CHECK(b == 50);
        }
    }
    CHECKF(fabs((double)moved / K - 1.0 / 51) < 0.3 / 51, "moved %.4f", (double)moved / K);
    memset(counts, 0, sizeof counts);
    for (i = 0; i < K; i++) counts[ds_jump_hash(ds_mix64(i), 64)]++;
    for (i = 0; i < 64; i++) CHECK(counts[i] > K / 64 * 0.9 && counts[i] < K / 64 * 1.1);
    /* Rendezvous: removing node 3 moves exactly its keys; weights give shares. */
    for (i = 0; i < 10; i++) {
        nodes[i] = 1000 + i * 7;
        w[i] = i == 9 ? 3.0 : 1.0;
    }
    memset(counts, 0, sizeof counts);
    for (i = 0; i < K; i++) {
        uint64_t k = ds_mix64(i + 77);
        size_t a = ds_rendezvous(k, nodes, NULL, 10), b;
        uint64_t rest[9];
        size_t j, m = 0;
        for (j = 0; j < 10; j++)
            if (j != 3) rest[m++] = nodes[j];
        b = ds_rendezvous(k, rest, NULL, 9);
        if (a == 3) removed_moves++;
        else if (rest[b] != nodes[a]) wrong_moves++;
        counts[ds_rendezvous(k, nodes, w, 10)]++;
    }
    CHECK(wrong_moves == 0 && removed_moves > K / 10 * 0.9 && removed_moves < K / 10 * 1.1);
    /* node 9 has weight 3 of 12 */
    CHECKF(fabs((double)counts[9] / K - 0.25) < 0.01, "weighted share %.4f", (double)counts[9] / K);
    CHECK(ds_rendezvous(1, nodes, NULL, 0) == SIZE_MAX && ds_rendezvous(1, NULL, NULL, 3) == SIZE_MAX);
}
