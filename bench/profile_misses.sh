#!/usr/bin/env bash
# bench/profile_misses.sh - instructions and simulated cache misses per lookup
# (callgrind, counted inside prof_lookups only) for the lookups where a peer
# still wins: DS_LRU get hit, ds_trie get, DS_BTREE get (bench/profile_misses.cc).
# The simulated caches are this machine's L1d (48 KiB, 12-way) and, as the
# last level, a 2 MiB 16-way L2: its 480 MiB L3 holds every structure here,
# so the misses that cost are the L2 ones.
#   bash bench/profile_misses.sh [N]     (N entries for LRU and B+tree; default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
mkdir -p bench/bin
g++ -std=c++17 -O2 -DNDEBUG -g -I. bench/profile_misses.cc -o bench/bin/profile_misses -lJudy
printf '%-11s %9s %9s %9s %9s\n' case Ir/op Dr/op D1miss/op L2miss/op
for c in lru-ds lru-wtlfu lru-std lru-uthash btree-ds btree-judy trie-ds trie-judy; do
  out=$(mktemp)
  valgrind --tool=callgrind --cache-sim=yes --D1=49152,12,64 --LL=2097152,16,64 \
    --toggle-collect='*prof_lookups*' --callgrind-out-file="$out" \
    bench/bin/profile_misses "$c" "$N" 2>/dev/null
  # summary: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
  read -r ir dr dw i1 d1r d1w ilr dlr dlw < <(sed -n 's/^summary: //p' "$out")
  awk -v c="$c" -v ir="$ir" -v dr="$dr" -v d1="$((d1r + d1w))" -v dl="$((dlr + dlw))" 'BEGIN {
    n = 200000; printf "%-11s %9.1f %9.1f %9.2f %9.2f\n", c, ir / n, dr / n, d1 / n, dl / n }'
  rm -f "$out"
done
