#!/bin/sh
# tools/snippets.sh FILE.md... - compile, link and run every ```c block of
# the given Markdown files, as C (C99, or C11 when it includes
# ds_concurrent.h) and as C++17, with -Wall -Wextra -Wpedantic -Werror.
# A ```c block is a whole program: its own #define DS_IMPLEMENTATION,
# includes and main(). Text that is not meant to compile is fenced ```text.
# Prints one line per file and exits nonzero on the first failure.
set -eu
CC=${CC:-gcc}
CXX=${CXX:-g++}
out=${SNIPPET_DIR:-build/snippets}
mkdir -p "$out"
total=0
for md in "$@"; do
    n=$(awk -v out="$out" -v base="$(echo "$md" | tr '/.' '__')" '
        /^```c[ \t]*$/ { inb = 1; k++; f = out "/" base "_" k ".c"; printf "" > f; next }
        inb && /^```/ { inb = 0; close(f); next }
        inb { print > f }
        END { print k + 0 }' "$md")
    i=1
    while [ "$i" -le "$n" ]; do
        src="$out/$(echo "$md" | tr '/.' '__')_$i.c"
        std=c99; libs=-lm
        if grep -q 'ds_concurrent.h' "$src"; then std=c11; libs="-pthread -lm"; fi
        if grep -q 'DS_HNSW_THREADS' "$src"; then libs="-pthread -lm"; fi
        if grep -q 'ds_redis.h' "$src"; then libs="$libs -lhiredis"; fi
        where="$md, \`\`\`c block $i (extracted to $src)"
        $CC -std=$std -Wall -Wextra -Wpedantic -Werror -I. "$src" -o "$src.bin" $libs ||
            { echo "snippets: $where does not compile as C ($std)"; exit 1; }
        (cd "$out" && "./$(basename "$src").bin" >/dev/null) ||
            { echo "snippets: $where compiled but failed when run"; exit 1; }
        $CXX -x c++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -I. "$src" -o "$src.bin" $libs ||
            { echo "snippets: $where does not compile as C++17"; exit 1; }
        i=$((i + 1))
    done
    total=$((total + n))
done
echo "snippets: $total C blocks in $# files compile as C and C++17 and run"
