#!/bin/sh
# tests/run.sh BIN... - run each test binary (built with a different
# compiler or sanitizer) and print the combined result as the last line:
# "N passed, M failed, K skipped". Exit status 0 only if every binary
# passed; with DS_NO_SKIP=1 (CI) also only if nothing was skipped.
passed=0; failed=0; skipped=0; status=0
# Two lanes (odd and even positions) run at once, each binary's output to a
# file; the results are then read back in the given order, so the output is
# the same as a sequential run's. DS_TEST_JOBS=1 runs them one at a time.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
lane() { # lane START: the binaries at positions START, START+2, ...
  i=0
  for bin in $ALL; do
    if [ $((i % ${DS_TEST_JOBS:-2})) -eq "$1" ]; then
      "$bin" > "$tmp/$i.out" 2>&1; echo $? > "$tmp/$i.rc"
    fi
    i=$((i + 1))
  done
}
ALL="$*"
j=0
while [ "$j" -lt "${DS_TEST_JOBS:-2}" ]; do lane "$j" & j=$((j + 1)); done
wait
i=0
for bin in "$@"; do
  echo "== $bin"
  out=$(cat "$tmp/$i.out" 2>/dev/null); rc=$(cat "$tmp/$i.rc" 2>/dev/null || echo 1)
  i=$((i + 1))
  printf '%s\n' "$out" | sed '$d'
  last=$(printf '%s\n' "$out" | tail -n 1)
  re='^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed, \([0-9][0-9]*\) skipped$'
  p=$(printf '%s\n' "$last" | sed -n "s/$re/\1/p")
  f=$(printf '%s\n' "$last" | sed -n "s/$re/\2/p")
  k=$(printf '%s\n' "$last" | sed -n "s/$re/\3/p")
  if [ -z "$p" ]; then
    # Crashed before its summary (sanitizer abort, signal): count it failed.
    printf '%s\n' "$last"; echo "$bin: no summary line (exit $rc)"
    failed=$((failed + 1)); status=1; continue
  fi
  echo "$bin: $last"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
  [ "$rc" -ne 0 ] && status=1
done
[ "$failed" -ne 0 ] && status=1
if [ "$skipped" -ne 0 ] && [ "${DS_NO_SKIP:-0}" = 1 ]; then
  echo "DS_NO_SKIP=1: $skipped skipped test(s) count as a failure (see the SKIP lines above)"
  status=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
