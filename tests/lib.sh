# lib.sh — tiny helpers for the shell tests: ok/fail lines and a non-zero exit on failure.
n_fail=0
ok() { echo "ok $*"; }
fail() { echo "NOT OK $*"; n_fail=$((n_fail + 1)); }
finish() { [ "$n_fail" -eq 0 ] || { echo "$n_fail check(s) failed"; exit 1; }; exit 0; }
