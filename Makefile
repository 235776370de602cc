# ds - build, test, fuzz, bench, install.
#
#   make            the examples, optimised (-O2), in parallel: build/examples/,
#                   and the optional Redis module build/ds_limit_module.so
#   make demo       a short tour: a cache, a rate limiter, autocomplete and a
#                   vector search on the shipped data, with their output
#   make check      everything CI runs (installs missing Debian packages
#                   through tools/deps.sh first): generated headers up to
#                   date, every src/ module alone, every header in every
#                   configuration (gcc and clang, C99, C11 and C++), the
#                   README and docs snippets, examples and fuzz replays under
#                   ASan+UBSan, the test suite under ASan+UBSan (gcc, clang)
#                   and TSan; last line "N passed, M failed, K skipped"
#   make gen        regenerate ds.h, ds_hnsw.h, ds_concurrent.h from src/
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (default 30)
#   make bench      benchmarks beside the peers (tools/deps.sh bench installs them)
#   make install    PREFIX=/usr/local: headers under include/ds/, pkg-config
#                   ds.pc and ds-concurrent.pc
#   make clean

PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
GCC      ?= gcc
CLANG    ?= clang
GXX      ?= g++
CLANGXX  ?= clang++
FUZZ_SECONDS ?= 30

# Parallel by default at the top level (an explicit -jN wins; sub-makes
# share the top level's job server).
NPROC := $(shell nproc 2>/dev/null || echo 2)
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j% j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(NPROC)
endif
endif

HEADERS  := ds.h ds_hnsw.h ds_concurrent.h
MODULES  := $(patsubst src/%.h,%,$(wildcard src/*.h))
WARN     := -Wall -Wextra -Wpedantic -Werror
STRICT   := $(WARN) -Wconversion -Wsign-conversion -Wshadow -Wstrict-prototypes
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# tests/test_conc*.c need C11 and pthreads: they have their own binaries.
CONC_TESTS := $(sort $(wildcard tests/test_conc*.c))
TEST_SRC := tests/main.c tests/prop.c $(filter-out $(CONC_TESTS),$(sort $(wildcard tests/test_*.c)))
CONC_SRC := tests/main.c tests/prop.c $(CONC_TESTS)
TSAN     := -fsanitize=thread -fno-omit-frame-pointer
EXAMPLE_NAMES := $(patsubst examples/%.c,%,$(wildcard examples/*.c))
EXAMPLES := $(addprefix $(BUILD)/examples/,$(EXAMPLE_NAMES))
SAN_EXAMPLES := $(addprefix $(BUILD)/san/examples/,$(EXAMPLE_NAMES))
FUZZERS  := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
export ASAN_OPTIONS := allocator_may_return_null=1:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

# Optional headers keep their rules in mk/<name>.mk: each may add to HEADERS
# (generated from src/<h>.in, checked standalone, installed), EXTRA_TEST_BINS
# (run by tests/run.sh with the others) and EXTRA_CHECKS (targets make check
# runs beside check-examples).
EXTRA_TEST_BINS :=
EXTRA_CHECKS :=
include $(sort $(wildcard mk/*.mk))

# The examples read siftsmall from here (unpacked from tests/data).
DATA     := $(BUILD)/data
SIFT     := $(DATA)/siftsmall/siftsmall_base.fvecs $(DATA)/siftsmall/siftsmall_query.fvecs \
            $(DATA)/siftsmall/siftsmall_groundtruth.ivecs

# clang's sanitizer runtime is a separate Debian package (tools/deps.sh
# installs it); `make check` fails without it, naming the package.
HAVE_CLANG_SAN = $(shell printf 'int main(void){return 0;}' | $(CLANG) -x c $(SAN) - -o /dev/null 2>/dev/null && echo 1)

.PHONY: all examples demo deps gen check check-gen check-modules check-headers check-snippets \
        check-examples check-fuzz-replay check-tests fuzz bench install uninstall clean

all: examples

examples: $(EXAMPLES)

$(BUILD) $(BUILD)/examples $(BUILD)/san/examples $(BUILD)/fuzz $(BUILD)/compile $(BUILD)/modules:
	@mkdir -p $@

deps:
	@sh tools/deps.sh check

# ---- generated headers -------------------------------------------------------
gen:
	@for h in $(HEADERS); do sh tools/gen.sh src/$$h.in > $$h.tmp && mv $$h.tmp $$h; done; \
	echo "gen: $(HEADERS) regenerated from src/"

check-gen: | $(BUILD)
	@set -e; for h in $(HEADERS); do \
	  sh tools/gen.sh src/$$h.in > $(BUILD)/$$h.gen; \
	  cmp -s $(BUILD)/$$h.gen $$h || { diff -u $$h $(BUILD)/$$h.gen | head -n 20; \
	    echo "check-gen FAILED: $$h differs from what tools/gen.sh makes of src/ (edit src/, then make gen)"; exit 1; }; \
	done; echo "gen: $(HEADERS) match src/ byte for byte"

# Each module alone (with the modules it includes), implementation included,
# as C99 (C11 for the ds_concurrent.h modules) and as C++.
$(BUILD)/modules/%.ok: src/%.h $(wildcard src/*.h) | $(BUILD)/modules
	@std=c99; grep -q 'DS_CONCURRENT_IMPLEMENTATION' $< && std=c11; \
	printf '#define DS_IMPLEMENTATION\n#include "%s"\nint main(void){return 0;}\n' $(notdir $<) > $(BUILD)/modules/$*.c; \
	$(GCC) -std=$$std $(STRICT) -Isrc -c $(BUILD)/modules/$*.c -o $(BUILD)/modules/$*.o && \
	$(GXX) -x c++ -std=c++11 $(WARN) -Isrc -c $(BUILD)/modules/$*.c -o $(BUILD)/modules/$*.o && touch $@

check-modules: $(patsubst %,$(BUILD)/modules/%.ok,$(MODULES))
	@echo "modules: $(words $(MODULES)) src/ modules compile alone as C and C++"

check-snippets: | $(BUILD)
	@sh tools/snippets.sh README.md $(wildcard docs/*.md)

# ---- tests ------------------------------------------------------------------
$(BUILD)/test_gcc: $(TEST_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h tests/bloom_v1_fixtures.h ds.h ds_hnsw.h | $(BUILD)
	$(GCC) -std=c99 -O1 -g $(WARN) $(SAN) -I. -Itests $(TEST_SRC) -o $@ -lm

$(BUILD)/test_clang: $(TEST_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h tests/bloom_v1_fixtures.h ds.h ds_hnsw.h | $(BUILD)
	@test -n "$(HAVE_CLANG_SAN)" || { echo "clang cannot link sanitized programs: apt-get install libclang-rt-14-dev (tools/deps.sh does)"; exit 1; }
	$(CLANG) -std=c99 -O1 -g $(WARN) $(SAN) -I. -Itests $(TEST_SRC) -o $@ -lm

# The portable (SWAR) probing path, as on a machine without SSE2.
$(BUILD)/test_nosimd: $(TEST_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h tests/bloom_v1_fixtures.h ds.h ds_hnsw.h | $(BUILD)
	$(GCC) -std=c99 -O1 -g $(WARN) $(SAN) -DDS_NO_SIMD -I. -Itests $(TEST_SRC) -o $@ -lm

# ds_concurrent.h: under ASan+UBSan, and under ThreadSanitizer with the
# futex and with the mutex+condvar sleep (DS_CONC_NO_FUTEX).
$(BUILD)/test_conc: $(CONC_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h ds.h ds_hnsw.h ds_concurrent.h | $(BUILD)
	$(GCC) -std=c11 -O1 -g $(WARN) $(SAN) -pthread -DDS_TESTS_CONC -I. -Itests $(CONC_SRC) -o $@ -lm

$(BUILD)/test_tsan: $(CONC_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h ds.h ds_hnsw.h ds_concurrent.h | $(BUILD)
	$(GCC) -std=c11 -O1 -g $(WARN) $(TSAN) -pthread -DDS_TESTS_CONC -I. -Itests $(CONC_SRC) -o $@ -lm

$(BUILD)/test_tsan_condvar: $(CONC_SRC) tests/prop.h tests/tests.h tests/hnsw_data.h ds.h ds_hnsw.h ds_concurrent.h | $(BUILD)
	$(GCC) -std=c11 -O1 -g $(WARN) $(TSAN) -pthread -DDS_TESTS_CONC -DDS_CONC_NO_FUTEX -I. -Itests $(CONC_SRC) -o $@ -lm

TEST_BINS := $(BUILD)/test_gcc $(BUILD)/test_nosimd $(BUILD)/test_clang \
             $(BUILD)/test_conc $(BUILD)/test_tsan $(BUILD)/test_tsan_condvar $(EXTRA_TEST_BINS)

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
	  for std in c99 c11; do run $$cc -std=$$std $(WARN) -I. tests/compile/clock_order.c -o $$B/clock -lm; run $$B/clock; done; \
	  for o in -O1 -O2 -O3 -Os; do run $$cc -std=c11 $$o $(WARN) -I. -c tests/compile/relay_uninit.c -o $$B/relay.o; done; \
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
	  run $$cxx -x c++ -std=c++11 $(WARN) -I. tests/compile/clock_order.c -o $$B/clock -lm; run $$B/clock; \
	  run $$cxx -x c++ -std=c++11 $(WARN) -I. tests/compile/instantiate_conc.c -o $$B/inst_conc -pthread -lm; run $$B/inst_conc; \
	done; \
	echo "headers: standalone C99/C11/C++ builds clean (gcc, clang; the clock with system headers first; DS_STATIC, DS_NO_SIMD, DS_HNSW_THREADS, custom allocator, DECLARE/DEFINE split, rings, DS_CMAP and wrappers instantiated as C11 and C++, futex/condvar, with and without membarrier; a ring-to-ring relay at -O1..-O3/-Os)"

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
# make: optimised. DS_STATIC makes the library's functions static, so the
# compiler drops the ones an example does not call (a quarter of the time).
$(BUILD)/examples/%: examples/%.c $(HEADERS) $(wildcard examples/*.h) | $(BUILD)/examples
	$(GCC) $(or $(STD_$*),-std=c99) -O2 $(WARN) -DDS_STATIC -I. $< -o $@ -lm $(LIBS_$*)

# make check: the same programs under ASan+UBSan.
$(BUILD)/san/examples/%: examples/%.c $(HEADERS) $(wildcard examples/*.h) | $(BUILD)/san/examples
	$(GCC) $(or $(STD_$*),-std=c99) -O1 -g $(WARN) $(SAN) -I. $< -o $@ -lm $(LIBS_$*)

$(DATA)/siftsmall/%: tests/data/siftsmall/%.xz
	@mkdir -p $(dir $@); xz -dc $< > $@.tmp && mv $@.tmp $@
$(DATA)/siftsmall/%: tests/data/siftsmall/%
	@mkdir -p $(dir $@); cp $< $@

check-examples: $(SAN_EXAMPLES) $(SIFT)
	@set -e; for e in $(SAN_EXAMPLES); do \
	  DS_DATA=$(DATA) $$e > $$e.out 2>&1 || { cat $$e.out; echo "example $$e failed"; exit 1; }; \
	done; echo "examples: $(words $(SAN_EXAMPLES)) ran clean under ASan+UBSan"

# A short tour of what the library does, optimised builds, seconds in all.
DEMO := api_response_cache rate_limit_api autocomplete vector_search
demo: $(addprefix $(BUILD)/examples/,$(DEMO)) $(SIFT)
	@for e in $(DEMO); do \
	  printf '\n==== examples/%s.c ====\n' $$e; \
	  DS_DATA=$(DATA) $(BUILD)/examples/$$e || exit 1; \
	done

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
# Packages first (a sub-make then sees them), then every static check, then
# the test binaries; tests/run.sh prints the last line.
check:
	@sh tools/deps.sh check
	@$(MAKE) --no-print-directory check-gen
	@$(MAKE) --no-print-directory check-modules check-headers check-snippets check-examples check-fuzz-replay $(EXTRA_CHECKS)
	@$(MAKE) --no-print-directory check-tests

# ---- bench -------------------------------------------------------------------
bench:
	sh tools/deps.sh bench
	bash bench/run.sh

# ---- install -----------------------------------------------------------------
VERSION = $(shell sed -n 's/^\#define DS_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)/\2/p' ds.h | paste -sd.)
install:
	install -d $(DESTDIR)$(PREFIX)/include/ds $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/ds/
	for pc in ds ds-concurrent; do \
	  sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $$pc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$pc.pc; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/include/ds/,$(HEADERS)) \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/ds.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/ds-concurrent.pc
	-rmdir $(DESTDIR)$(PREFIX)/include/ds

clean:
	rm -rf $(BUILD) bench/bin
