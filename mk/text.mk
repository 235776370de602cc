# mk/text.mk - ds_text.h (text retrieval): generated header, the FTS5
# agreement binary, example libraries, fuzz and bench dependencies.
# Included by the Makefile after its variable block.

HEADERS += ds_text.h

# The main test binaries compile tests/test_text.c and tests/test_bpe.c.
$(BUILD)/test_gcc $(BUILD)/test_clang $(BUILD)/test_nosimd: ds_text.h

# BM25 against SQLite FTS5's bm25() on the shipped Debian descriptions:
# its own binary (-lsqlite3), same runner output as tests/main.c.
$(BUILD)/test_text_fts5: tests/fts5_main.c tests/fts5_text.c tests/prop.c tests/prop.h ds.h ds_text.h | $(BUILD)
	$(GCC) -std=c99 -O1 -g $(WARN) $(SAN) -I. -Itests tests/fts5_main.c tests/fts5_text.c tests/prop.c -o $@ -lm -lsqlite3
EXTRA_TEST_BINS += $(BUILD)/test_text_fts5

# Examples: libraries beyond libm.
LIBS_package_search :=
LIBS_hybrid_search :=

# Fuzz targets that load ds_text.h structures.
$(BUILD)/fuzz/fuzz_text_load-replay $(BUILD)/fuzz/fuzz_text_load: ds_text.h
