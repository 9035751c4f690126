#!/bin/sh
# Runs the C test binaries and the shell tests; one line per test, then a summary.
# SIGEO_TEST_FILTER=pattern runs only the tests whose name contains it.
# SIGEO_BIN and SIGEO_TESTS point at other builds of the tools and C tests (make sanitize).
cd "$(dirname "$0")/.." || exit 2
pass=0 fail=0 failed=""
bindir=${SIGEO_BIN:-bin}
case "$bindir" in /*) ;; *) bindir="$PWD/$bindir" ;; esac
[ -n "${SIGEO_BIN:-}" ] && export SIGEO_BIN="$bindir" # pipelines/ take the tools from it
export PATH="$bindir:$PATH"
# Engine threads sleep rather than spin when several test runs share the cores (no effect on results).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mkdir -p tests/tmp
for t in "${SIGEO_TESTS:-build/tests}"/test_* tests/t_*.sh; do
    [ -e "$t" ] || continue
    case "$t" in *.d) continue ;; esac
    name=$(basename "$t")
    [ -n "$SIGEO_TEST_FILTER" ] && case "$name" in *"$SIGEO_TEST_FILTER"*) ;; *) continue ;; esac
    log="tests/tmp/$name.log"
    start=$(date +%s)
    if "$t" >"$log" 2>&1; then
        pass=$((pass + 1)); echo "ok   $name ($(( $(date +%s) - start ))s)"
    else
        fail=$((fail + 1)); failed="$failed $name"
        echo "FAIL $name (log: $log)"; tail -n 20 "$log" | sed 's/^/    /'
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
