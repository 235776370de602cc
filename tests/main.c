/* tests/main.c - the test runner: runs every test in tests.h (or those whose
 * name contains $DS_TEST), prints failures and skips, and ends with the one
 * line "N passed, M failed, K skipped". A test that recorded a skip
 * (prop_skip) and did not fail counts as skipped, not passed. Exit status
 * 0 only if nothing failed (and, with DS_NO_SKIP=1, nothing skipped).
 * Built with -DDS_TESTS_CONC (C11, -pthread) it runs the ds_concurrent.h
 * list instead. */
#define DS_IMPLEMENTATION
#ifdef DS_TESTS_CONC
/* Test hook of ds_concurrent.h's membarrier fence (tests/test_conc.c sets
 * it to make the fence fail); only these tests define it. */
#define DS__CONC_TEST_FENCE_FAIL ds_test_fence_fail
#include "ds_concurrent.h"
int ds_test_fence_fail;
#define DS_RUN_LIST DS_TEST_LIST_CONC
#else
#include "ds.h"
#include "ds_hnsw.h" /* its implementation too, compiled once here */
#define DS_RUN_LIST DS_TEST_LIST
#endif
#include "prop.h"
#include "tests.h"

/* Edge-case tests ask for absurd sizes and expect DS_ENOMEM: tell ASan to
 * return NULL rather than abort (the Makefile sets this too). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
/* The same under TSan (the concurrent tests' edge cases, conc_edges). */
#if defined(__SANITIZE_THREAD__)
#define DS_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DS_TEST_TSAN 1
#endif
#endif
#ifdef DS_TEST_TSAN
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "allocator_may_return_null=1"; }
#endif

typedef struct {
    const char *name;
    void (*fn)(void);
} test_entry;

#define DS_TEST_ENTRY(name) {#name, test_##name},
static const test_entry tests[] = {DS_RUN_LIST(DS_TEST_ENTRY)};

int main(void) {
    const char *filter = getenv("DS_TEST");
    int passed = 0, failed = 0, skipped = 0, verbose = prop_env_long("DS_VERBOSE", 0) != 0;
    size_t i;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int64_t t0;
        if (filter && *filter && !strstr(tests[i].name, filter)) continue;
        prop_test_failed = 0;
        prop_test_skipped = 0;
        prop_cur_test = tests[i].name;
        t0 = ds_now_ns();
        tests[i].fn();
        prop_cur_test = NULL;
        if (prop_test_failed) {
            failed++;
            printf("FAIL  %s\n", tests[i].name);
        } else if (prop_test_skipped) {
            skipped++;
            printf("SKIP  %s (%d skip%s, reasons above)\n", tests[i].name, prop_test_skipped,
                   prop_test_skipped == 1 ? "" : "s");
        } else {
            passed++;
            if (verbose)
                printf("ok    %s (%.0f ms)\n", tests[i].name, (double)(ds_now_ns() - t0) / 1e6);
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed != 0 || (skipped != 0 && prop_env_long("DS_NO_SKIP", 0) != 0);
}
