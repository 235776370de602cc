#!/bin/sh
# tests/run.sh BIN... - run each test binary (built with a different
# compiler or sanitizer) and print the combined result as the last line:
# "N passed, N failed". Exit status 0 only if every binary passed.
passed=0; failed=0; status=0
for bin in "$@"; do
  echo "== $bin"
  out=$("$bin" 2>&1); rc=$?
  printf '%s\n' "$out" | sed '$d'
  last=$(printf '%s\n' "$out" | tail -n 1)
  p=$(printf '%s\n' "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
  f=$(printf '%s\n' "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
  if [ -z "$p" ]; then
    # Crashed before its summary (sanitizer abort, signal): count it failed.
    printf '%s\n' "$last"; echo "$bin: no summary line (exit $rc)"
    failed=$((failed + 1)); status=1; continue
  fi
  echo "$bin: $last"
  passed=$((passed + p)); failed=$((failed + f))
  [ "$rc" -ne 0 ] && status=1
done
[ "$failed" -ne 0 ] && status=1
echo "$passed passed, $failed failed"
exit $status
