/* tests/fts5_main.c - runner of the tests that need SQLite (-lsqlite3):
 * ds_text.h's BM25 against FTS5's bm25() (tests/fts5_text.c). Built by
 * mk/text.mk as build/test_text_fts5 and run by make check beside the
 * other test binaries; the last line is "N passed, M failed, K skipped"
 * like tests/main.c's. DS_TEST=<substring> filters. */
#define DS_IMPLEMENTATION
#include "ds.h"
#include "prop.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

void test_text_fts5_agree(void);
void test_text_fts5_deletes(void);

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {{"text_fts5_agree", test_text_fts5_agree}, {"text_fts5_deletes", test_text_fts5_deletes}};

int main(void) {
    const char *filter = getenv("DS_TEST");
    int passed = 0, failed = 0, skipped = 0;
    size_t i;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (filter && *filter && !strstr(tests[i].name, filter)) continue;
        prop_test_failed = 0;
        prop_test_skipped = 0;
        prop_cur_test = tests[i].name;
        tests[i].fn();
        prop_cur_test = NULL;
        if (prop_test_failed) {
            failed++;
            printf("FAIL  %s\n", tests[i].name);
        } else if (prop_test_skipped) {
            skipped++;
            printf("SKIP  %s\n", tests[i].name);
        } else {
            passed++;
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed != 0 || (skipped != 0 && prop_env_long("DS_NO_SKIP", 0) != 0);
}
