/* tests/prop.h - the ds property-test harness
 *
 *   CHECK(cond)             fail the current test (prints file:line and the
 *                           expression) and return from the calling function
 *   CHECKF(cond, fmt, ...)  same, with a printf-style explanation
 *   prop_run(name, fn, n)   run fn(rng, seed) for n seeded cases; the first
 *                           failing case prints its seed and stops the run.
 *                           DS_SEED=<n> replays just that case; DS_PROP_SCALE=<k>
 *                           multiplies n (longer soak runs).
 *   prop_alloc              a ds_alloc that counts allocations, checks that
 *                           every free/realloc passes the size it was given,
 *                           tracks live bytes, and fails the k-th allocation
 *                           (once, or from then on) for fault injection.
 *   prop_oom_sweep(...)     run a seeded op sequence once to count its
 *                           allocations T, then again for every k in 1..T with
 *                           the k-th failing (transient and persistent mode).
 *
 *   prop_skip(fmt, ...)     record that the running test could not check
 *                           something (prints "SKIP <test>: <reason>"); the
 *                           test then counts as skipped, not passed (unless
 *                           it also failed). PROP_SKIP(fmt, ...) also returns.
 *   prop_data_dir()         the test data folder: $DS_DATA if set, else the
 *                           shipped tests/data (tests run from the repository
 *                           root). PROP_DATA_MISSING(fmt, ...): a data file
 *                           could not be read: a counted skip when $DS_DATA
 *                           points elsewhere, a failed check for tests/data
 *                           (it ships with the repository); then returns.
 *
 * Tests are `void test_x(void)` functions listed in tests/main.c; the
 * runner prints one line per failure or skip and ends with
 * "N passed, M failed, K skipped". Every check can fail: a failed CHECK
 * marks the test failed and the runner's exit status nonzero. Nothing is
 * skipped silently: tests/run.sh with DS_NO_SKIP=1 fails on any skip. */
#ifndef DS_TESTS_PROP_H
#define DS_TESTS_PROP_H

#include "ds.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- failure reporting ------------------------------------------------ */

extern int prop_test_failed;  /* set by CHECK; reset by the runner per test */
extern uint64_t prop_cur_seed; /* seed of the running property case, or 0 */

void prop_fail(const char *file, int line, const char *what);

/* ---- skips ------------------------------------------------------------ */

extern int prop_test_skipped;    /* skips recorded in the running test; reset per test */
extern const char *prop_cur_test; /* name of the running test (set by the runner) */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
void prop_skip(const char *fmt, ...);

#define PROP_SKIP(...)          \
    do {                        \
        prop_skip(__VA_ARGS__); \
        return;                 \
    } while (0)

/* ---- test data ---------------------------------------------------------- */

const char *prop_data_dir(void);
int prop_data_overridden(void); /* 1 if $DS_DATA chose the folder */

#define PROP_DATA_MISSING(...)                                   \
    do {                                                         \
        if (prop_data_overridden()) {                            \
            prop_skip(__VA_ARGS__);                              \
        } else {                                                 \
            char prop_msg_[512];                                 \
            snprintf(prop_msg_, sizeof prop_msg_, __VA_ARGS__);  \
            prop_fail(__FILE__, __LINE__, prop_msg_);            \
        }                                                        \
        return;                                                  \
    } while (0)

#define CHECK(cond)                                              \
    do {                                                         \
        if (!(cond)) {                                           \
            prop_fail(__FILE__, __LINE__, #cond);                \
            return;                                              \
        }                                                        \
    } while (0)

#define CHECKF(cond, ...)                                        \
    do {                                                         \
        if (!(cond)) {                                           \
            char prop_msg_[256];                                 \
            snprintf(prop_msg_, sizeof prop_msg_, __VA_ARGS__);  \
            prop_fail(__FILE__, __LINE__, prop_msg_);            \
            return;                                              \
        }                                                        \
    } while (0)

/* For helper functions that return a value: returns `ret` on failure. */
#define CHECK_OR(cond, ret)                                      \
    do {                                                         \
        if (!(cond)) {                                           \
            prop_fail(__FILE__, __LINE__, #cond);                \
            return ret;                                          \
        }                                                        \
    } while (0)

/* ---- seeded property runs --------------------------------------------- */

typedef void (*prop_case_fn)(ds_rng *rng, uint64_t seed);

/* Runs fn for n cases (seeds derived from the name), or only DS_SEED. */
void prop_run(const char *name, prop_case_fn fn, int n);

/* Environment helpers. */
long prop_env_long(const char *var, long dflt);

/* ---- fault-injecting, accounting allocator ---------------------------- */

typedef struct prop_alloc {
    ds_alloc a;           /* pass &pa.a to *_init_alloc */
    long attempts;        /* allocation attempts so far (malloc + growing realloc) */
    long fail_at;         /* 1-based attempt that fails; 0 = never */
    int persistent;       /* 1: every attempt from fail_at on fails */
    int failed;           /* an attempt has failed since the last reset */
    long fails;           /* attempts that failed, in all */
    size_t live_bytes;    /* bytes currently allocated */
    long live_blocks;
    size_t limit;         /* 0 = none; else attempts whose block exceeds it fail */
    int size_errors;      /* frees/reallocs that passed the wrong size */
    size_t max_request;   /* the largest block asked for (granted or not) */
    size_t peak_bytes;    /* the most bytes live at once */
    size_t mark_live;     /* live_bytes at the last PROP_FAILS */
} prop_alloc;

void prop_alloc_init(prop_alloc *pa);
/* Arm: the k-th attempt from now fails (k >= 1), once or persistently. */
void prop_alloc_fail_in(prop_alloc *pa, long k, int persistent);
void prop_alloc_disarm(prop_alloc *pa);

/* An op sequence for prop_oom_sweep: run the seeded sequence allocating
 * through pa, comparing with a model after every op (an op may fail with
 * DS_ENOMEM only when pa->failed became set by it, and must then leave the
 * structure equal to the model), free everything, return 0 on success. */
typedef int (*prop_oom_seq_fn)(uint64_t seed, prop_alloc *pa);

/* In a sequence: snapshot before an op, then check a DS_ENOMEM from it
 * came from an injected failure inside that op, and that the op left the
 * bytes allocated as they were (the strong guarantee covers capacity: a
 * failed call keeps no grown buffer). The snapshot is the last
 * PROP_FAILS. */
#define PROP_FAILS(pa) ((pa) ? ((pa)->mark_live = (pa)->live_bytes, (pa)->fails) : 0L)
#define PROP_ENOMEM_LEGIT(pa, before) ((pa) && (pa)->fails > (before) && prop_live_same(pa))
int prop_live_same(prop_alloc *pa);

/* For every k in 1..T (T = attempts of a clean run), in transient and
 * persistent mode: run seq with the k-th attempt failing, and check it
 * succeeds (returns 0) with no live bytes and no size errors afterwards. */
int prop_oom_sweep(prop_oom_seq_fn seq, uint64_t seed, long *total_out);

#endif /* DS_TESTS_PROP_H */
