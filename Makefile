# ds - build, test, fuzz, bench, install.
#
#   make            build the examples and the test binary (runs nothing)
#   make check      everything CI runs: headers compiled standalone (gcc and
#                   clang, C99, C11 and C++, strict warnings), examples and
#                   fuzz replays run under ASan+UBSan, the test suite under
#                   ASan+UBSan with gcc and clang; last line "N passed, N failed"
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (default 30)
#   make bench      benchmarks beside the peers (bench/deps.sh installs them)
#   make install    PREFIX=/usr/local: headers + pkg-config ds.pc
#   make clean

PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
GCC      ?= gcc
CLANG    ?= clang
GXX      ?= g++
CLANGXX  ?= clang++
FUZZ_SECONDS ?= 30

HEADERS  := ds.h ds_hnsw.h ds_concurrent.h
WARN     := -Wall -Wextra -Wpedantic -Werror
STRICT   := $(WARN) -Wconversion -Wsign-conversion -Wshadow -Wstrict-prototypes
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# tests/test_conc*.c need C11 and pthreads: they have their own binaries.
CONC_TESTS := $(sort $(wildcard tests/test_conc*.c))
TEST_SRC := tests/main.c tests/prop.c $(filter-out $(CONC_TESTS),$(sort $(wildcard tests/test_*.c)))
CONC_SRC := tests/main.c tests/prop.c $(CONC_TESTS)
TSAN     := -fsanitize=thread -fno-omit-frame-pointer
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
FUZZERS  := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
export ASAN_OPTIONS := allocator_may_return_null=1:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

# clang's sanitizer runtime is a separate Debian package; skip clang runs
# (loudly) when it is missing rather than fail on a machine without it.
HAVE_CLANG_SAN := $(shell printf 'int main(void){return 0;}' | $(CLANG) -x c $(SAN) - -o /dev/null 2>/dev/null && echo 1)

.PHONY: all check check-headers check-examples check-fuzz-replay check-tests \
        fuzz bench install uninstall clean

all: $(EXAMPLES) $(BUILD)/test_gcc

$(BUILD) $(BUILD)/examples $(BUILD)/fuzz $(BUILD)/compile:
	@mkdir -p $@

# ---- tests ------------------------------------------------------------------
$(BUILD)/test_gcc: $(TEST_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h ds.h ds_hnsw.h | $(BUILD)
	$(GCC) -std=c99 -O1 -g $(WARN) $(SAN) -I. -Itests $(TEST_SRC) -o $@ -lm

$(BUILD)/test_clang: $(TEST_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h ds.h ds_hnsw.h | $(BUILD)
	$(CLANG) -std=c99 -O1 -g $(WARN) $(SAN) -I. -Itests $(TEST_SRC) -o $@ -lm

# The portable (SWAR) probing path, as on a machine without SSE2.
$(BUILD)/test_nosimd: $(TEST_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h ds.h ds_hnsw.h | $(BUILD)
	$(GCC) -std=c99 -O1 -g $(WARN) $(SAN) -DDS_NO_SIMD -I. -Itests $(TEST_SRC) -o $@ -lm

# ds_concurrent.h: under ASan+UBSan, and under ThreadSanitizer with the
# futex and with the mutex+condvar sleep (DS_CONC_NO_FUTEX).
$(BUILD)/test_conc: $(CONC_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h ds.h ds_hnsw.h ds_concurrent.h | $(BUILD)
	$(GCC) -std=c11 -O1 -g $(WARN) $(SAN) -pthread -DDS_TESTS_CONC -I. -Itests $(CONC_SRC) -o $@ -lm

$(BUILD)/test_tsan: $(CONC_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h ds.h ds_hnsw.h ds_concurrent.h | $(BUILD)
	$(GCC) -std=c11 -O1 -g $(WARN) $(TSAN) -pthread -DDS_TESTS_CONC -I. -Itests $(CONC_SRC) -o $@ -lm

$(BUILD)/test_tsan_condvar: $(CONC_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h ds.h ds_hnsw.h ds_concurrent.h | $(BUILD)
	$(GCC) -std=c11 -O1 -g $(WARN) $(TSAN) -pthread -DDS_TESTS_CONC -DDS_CONC_NO_FUTEX -I. -Itests $(CONC_SRC) -o $@ -lm

TEST_BINS := $(BUILD)/test_gcc $(BUILD)/test_nosimd $(if $(HAVE_CLANG_SAN),$(BUILD)/test_clang) \
             $(BUILD)/test_conc $(BUILD)/test_tsan $(BUILD)/test_tsan_condvar

check-tests: $(TEST_BINS)
	@sh tests/run.sh $(TEST_BINS)

# ---- headers compiled on their own, every configuration ------------------------
# Each header alone (with and without its implementation), the containers
# instantiated (tests/compile/instantiate.c), DS_STATIC, custom allocator
# macros, and the DECLARE/DEFINE split linked from two files; as C and C++.
check-headers: | $(BUILD)/compile
	@set -e; B=$(BUILD)/compile; \
	run() { "$$@" || { echo "check-headers FAILED: $$*"; exit 1; }; }; \
	for cc in $(GCC) $(CLANG); do \
	  for h in $(HEADERS); do \
	    std=c99; [ $$h = ds_concurrent.h ] && std=c11; \
	    printf '#include "%s"\nint main(void){return 0;}\n' $$h > $$B/h.c; \
	    for defs in "-DDS_NONE" "-DDS_IMPLEMENTATION" "-DDS_IMPLEMENTATION -DDS_STATIC" "-DDS_IMPLEMENTATION -DDS_NO_STDIO"; do \
	      run $$cc -std=$$std $(STRICT) $$defs -I. -c $$B/h.c -o $$B/h.o; \
	    done; \
	  done; \
	  printf '#include "ds_hnsw.h"\nint main(void){return 0;}\n' > $$B/h.c; \
	  for std in c99 c11; do for defs in "-DDS_NONE" "-DDS_IMPLEMENTATION" "-DDS_IMPLEMENTATION -DDS_STATIC"; do \
	    run $$cc -std=$$std $(STRICT) -DDS_HNSW_THREADS $$defs -I. -c $$B/h.c -o $$B/h.o; \
	  done; done; \
	  for defs in "-DDS_NONE" "-DDS_STATIC" "-DINST_CUSTOM_ALLOC" "-DDS_NO_SIMD"; do \
	    run $$cc -std=c99 $(STRICT) $$defs -I. tests/compile/instantiate.c -o $$B/inst -lm; run $$B/inst; \
	  done; \
	  run $$cc -std=c99 $(STRICT) -I. tests/compile/split_a.c tests/compile/split_b.c -o $$B/split -lm; run $$B/split; \
	  for defs in "-DDS_NONE" "-DDS_STATIC" "-DDS_CONC_NO_FUTEX" "-DDS_CMAP_RWLOCK" "-DDS_CONC_NO_MEMBARRIER"; do \
	    run $$cc -std=c11 $(STRICT) $$defs -I. tests/compile/instantiate_conc.c -o $$B/inst_conc -pthread -lm; run $$B/inst_conc; \
	  done; \
	done; \
	for cxx in $(GXX) $(CLANGXX); do \
	  for h in $(HEADERS); do \
	    printf '#define DS_IMPLEMENTATION\n#include "%s"\nint main(){return 0;}\n' $$h > $$B/h.cc; \
	    run $$cxx -std=c++11 $(WARN) -I. -c $$B/h.cc -o $$B/h.o; \
	  done; \
	  printf '#define DS_IMPLEMENTATION\n#define DS_HNSW_THREADS\n#include "ds_hnsw.h"\nint main(){return 0;}\n' > $$B/ht.cc; \
	  run $$cxx -std=c++11 $(WARN) -I. -c $$B/ht.cc -o $$B/h.o; \
	  run $$cxx -x c++ -std=c++11 $(WARN) -I. tests/compile/instantiate.c -o $$B/inst -lm; run $$B/inst; \
	  run $$cxx -x c++ -std=c++11 $(WARN) -I. tests/compile/instantiate_conc.c -o $$B/inst_conc -pthread -lm; run $$B/inst_conc; \
	done; \
	echo "headers: standalone C99/C11/C++ builds clean (gcc, clang; DS_STATIC, DS_NO_SIMD, DS_HNSW_THREADS, custom allocator, DECLARE/DEFINE split, rings, DS_CMAP and wrappers instantiated as C11 and C++, futex/condvar, with and without membarrier)"

# ---- examples ------------------------------------------------------------------
# Libraries an example needs beyond libm.
LIBS_bloom_usernames := -lsqlite3
LIBS_cache_cluster := -lsqlite3
LIBS_spsc_pipeline := -pthread
LIBS_concurrent_cache := -pthread
LIBS_concurrent_map := -pthread
LIBS_worker_pool := -pthread
# The language standard, when an example needs more than C99 (ds_concurrent.h: C11).
STD_spsc_pipeline := -std=c11
STD_concurrent_cache := -std=c11
STD_concurrent_map := -std=c11
STD_worker_pool := -std=c11
$(BUILD)/examples/%: examples/%.c ds.h ds_hnsw.h ds_concurrent.h | $(BUILD)/examples
	$(GCC) $(or $(STD_$*),-std=c99) -O1 -g $(WARN) $(SAN) -I. $< -o $@ -lm $(LIBS_$*)

check-examples: $(EXAMPLES)
	@set -e; for e in $(EXAMPLES); do \
	  $$e > $(BUILD)/examples/last.out 2>&1 || { cat $(BUILD)/examples/last.out; echo "example $$e failed"; exit 1; }; \
	done; echo "examples: $(words $(EXAMPLES)) ran clean under ASan+UBSan"

# ---- fuzz targets: replayed as plain programs in check; libFuzzer in fuzz ----
$(BUILD)/fuzz/%-replay: tests/fuzz/%.c tests/fuzz/fuzz_util.h ds.h ds_hnsw.h | $(BUILD)/fuzz
	$(GCC) -std=c99 -O1 -g $(WARN) $(SAN) -DDS_FUZZ_STANDALONE -I. $< -o $@ -lm

check-fuzz-replay: $(patsubst %,$(BUILD)/fuzz/%-replay,$(FUZZERS))
	@set -e; for f in $^; do $$f > /dev/null || { echo "fuzz replay $$f failed"; exit 1; }; done; \
	echo "fuzz replays: $(words $^) targets clean"

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_util.h ds.h ds_hnsw.h | $(BUILD)/fuzz
	$(CLANG) -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -I. $< -o $@ -lm

fuzz: $(patsubst %,$(BUILD)/fuzz/%,$(FUZZERS))
	@set -e; for f in $^; do \
	  mkdir -p $(BUILD)/fuzz/corpus-$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-$$(basename $$f); \
	done

# ---- check: the README's test command; the test runner prints the last line ----
check: check-headers check-examples check-fuzz-replay
	@$(if $(HAVE_CLANG_SAN),,echo "note: clang sanitizer runtime missing (apt-get install libclang-rt-14-dev); clang test build skipped")
	@$(MAKE) --no-print-directory check-tests

# ---- bench -------------------------------------------------------------------
bench:
	sh bench/deps.sh
	bash bench/run.sh

# ---- install -----------------------------------------------------------------
install:
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/^#define DS_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)/\2/p' ds.h | paste -sd.)|' \
	  ds.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ds.pc

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/include/,$(HEADERS)) $(DESTDIR)$(PREFIX)/lib/pkgconfig/ds.pc

clean:
	rm -rf $(BUILD) bench/bin
