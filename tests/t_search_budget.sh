#!/bin/sh
# pipelines/search.sh under a budget, on tiny generated IDX data (8x8 images, 12
# candidates): --max-params/--max-flops keep exactly the scored candidates within both
# limits (checked against the scored stream), the top-k come from them and the count is
# reported; --max-latency adds the timed proxy (also to --proxies all); a budget nothing
# meets is an error naming the smallest values; bad limits are usage errors before any
# output; the top-k are saved as model files (and the best as ONNX when export-onnx is
# built) unless --no-save.
set -u
. tests/lib.sh
PY=/usr/bin/python3
t=$(mktemp -d tests/tmp/search_budget.XXXXXX)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/data"
idx_blobs "$t/data" 1000 5 || { notok "data"; finish; }
S="--data $t/data -n 12 -k 2 -j 2 --fraction 0.1 --train-fraction 0.2 --cache $t/cache"
search() { # search OUT [options]: table on $t/OUT.table, stderr on $t/OUT.err
    o=$1; shift
    pipelines/search.sh $S --out "$t/$o" "$@" > "$t/$o.table" 2> "$t/$o.err"
}

# No budget, saving by default.
search a
check "search.sh without a budget, exit 0" '[ $? -eq 0 ]'
CHECK_ERR="$t/a.table"
n_models=$(ls "$t/a/models"/*.model 2>/dev/null | wc -l)
check "the top 2 saved as model files ($n_models)" '[ "$n_models" -eq 2 ]'
best=$(sed -n 's/^best model: //p' "$t/a.table")
check "the best model's path printed and it exists" '[ -n "$best" ] && [ -f "$best" ]'
for m in "$t/a/models"/*.model; do
    grep -qF "$m" "$t/a.table" || fail "the table names $m"
done
$PY - "$t/a/trained.mp" "$best" <<'EOF' || fail "best model = the highest test accuracy"
import msgpack, sys
recs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
top = max(recs, key=lambda r: r["truth"]["test_acc"])
print(("ok" if top["model"] == sys.argv[2] else "NOT OK") + " best model = the highest test accuracy")
sys.exit(top["model"] != sys.argv[2])
EOF
if [ -x bin/export-onnx ] || [ -x "${SIGEO_BIN:-}/export-onnx" ]; then
    check "best.onnx written and printed" '[ -s "$t/a/best.onnx" ] && grep -q "best.onnx" "$t/a.table"'
    if $PY -c 'import onnx' 2>/dev/null; then
        $PY -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]))' "$t/a/best.onnx"
        check "onnx.checker accepts best.onnx" '[ $? -eq 0 ]'
    fi
else
    echo "skip: export-onnx is not built, no best.onnx to check"
fi

# Limits at the median parameter count and FLOPs of the scored candidates.
read -r np nf <<EOF
$($PY -c '
import msgpack, sys
s = [r["scores"] for r in msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False)]
med = lambda k: sorted(int(x[k]) for x in s)[len(s) // 2]
print(med("params"), med("flops"))' "$t/a/scored.mp")
EOF
search b --max-params "$np" --max-flops "$nf"
check "--max-params $np --max-flops $nf, exit 0" '[ $? -eq 0 ]'
CHECK_ERR="$t/b.err"
$PY - "$t/b" "$np" "$nf" "$t/b.err" <<'EOF' || n_fail=$((n_fail + 1))
import msgpack, re, sys
d, np, nf, err = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), open(sys.argv[4]).read()
rd = lambda f: list(msgpack.Unpacker(open(f"{d}/{f}", "rb"), raw=False))
scored, ranked, trained = rd("scored.mp"), rd("ranked.mp"), rd("trained.mp")
fail = 0
def check(c, what):
    global fail
    print(("ok " if c else "NOT OK ") + what)
    fail |= not c
inb = [r for r in scored if r["scores"]["params"] <= np and r["scores"]["flops"] <= nf]
check(0 < len(inb) < len(scored), f"the limits split the candidates ({len(inb)} of {len(scored)})")
check(sorted(r["arch"] for r in ranked) == sorted(r["arch"] for r in inb),
      "ranked.mp holds exactly the candidates within both limits")
best = sorted(inb, key=lambda r: -r["scores"]["meco"])[:2]  # nb201 ranks by meco
check([r["arch"] for r in trained] == [r["arch"] for r in best],
      "the trained ones are the top 2 by meco (the nb201 default) among them")
m = re.search(r"(\d+) of (\d+) candidates within the budget \(params <= (\d+), flops <= (\d+)\)", err)
check(m is not None and m.groups() == (str(len(inb)), str(len(scored)), str(np), str(nf)),
      "the count within the budget is reported")
sys.exit(fail)
EOF
grep -q "^budget: params <= $np, flops <= $nf" "$t/b.table" && ok "the table states the budget" ||
    fail "the table states the budget"

# Latency: timed only when limited, also with --proxies all; no output saved.
search c --max-latency 1000 --proxies all --no-save
check "--max-latency 1000 --proxies all --no-save, exit 0" '[ $? -eq 0 ]'
$PY - "$t/c/scored.mp" <<'EOF' || fail "latency_ms and every other proxy scored"
import msgpack, sys
s = [r["scores"] for r in msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False)]
ok = len(s) == 12 and all(x.get("latency_ms", 0) > 0 and "jacov" in x for x in s)
print(("ok" if ok else "NOT OK") + " latency_ms and every other proxy scored")
sys.exit(not ok)
EOF
check "12 of 12 within a loose latency limit" 'grep -q "12 of 12 candidates within the budget" "$t/c.err"'
check "--no-save: no models, no best.onnx, no model column" \
    '[ ! -e "$t/c/models" ] && [ ! -e "$t/c/best.onnx" ] && ! grep -q "model" "$t/c.table"'
search a --no-save
check "--no-save has no latency when not limited" \
    '! "${SIGEO_BIN:-bin}/mp2json" < "$t/a/scored.mp" | grep -q latency'

# Nothing within the budget.
search d --max-latency 0.000001 --max-params 5
rc=$?
CHECK_ERR="$t/d.err"
check "a budget nothing meets: exit 1" '[ $rc -eq 1 ]'
check "... with an error naming the budget and the smallest values" \
    'grep -q "error: no candidate within the budget (params <= 5, latency_ms <= 0.000001); the smallest among the 12 scored: params [0-9.]*, latency_ms [0-9.e-]*$" "$t/d.err"'
check "... and nothing trained" '[ ! -e "$t/d/trained.mp" ]'

# Bad limits: usage errors naming the option, before any output.
for bad in "--max-params 0" "--max-params 12k" "--max-params -1" "--max-flops 1e6" "--max-flops 007" \
           "--max-latency 0" "--max-latency -2" "--max-latency 1e-3" "--max-latency x" "--max-latency"; do
    search e $bad
    rc=$?
    opt=${bad%% *}
    check "$bad: exit 2 naming $opt, nothing written" \
        '[ $rc -eq 2 ] && grep -q -- "error: .*$opt" "$t/e.err" && [ ! -e "$t/e" ]'
done
finish
