#!/bin/sh
# rank --aggregate against a plain-Python computation of the same rank aggregation (ranks
# 1 worst .. M best, ties averaged, NaN or missing worst; sum of rank/M, or of log(rank/M)
# with --log), on records with ties, NaN, a missing key and a '-KEY' (smaller is better).
set -u
PY=/usr/bin/python3
if ! $PY -c 'import msgpack' 2>/dev/null; then echo "skip: python3-msgpack missing"; exit 0; fi
T=tests/tmp/t_aggregate.$$
rm -rf "$T"; mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
. tests/lib.sh
$PY - "$T/in.mp" <<'PYEOF'
import msgpack, random, sys
random.seed(7)
out = open(sys.argv[1], "wb")
for i in range(40):
    sc = {"a": float(random.randint(0, 5)), "b": random.random(), "c": random.gauss(0, 1)}
    if i % 9 == 0: sc["a"] = float("nan")
    if i % 13 == 4: del sc["c"]
    out.write(msgpack.packb({"kind": "arch", "index": i, "scores": sc}))
PYEOF
for mode in sum log; do
    extra=; [ $mode = log ] && extra=--log
    rank --aggregate a,-b,scores.c $extra -F jsonl < "$T/in.mp" > "$T/$mode.jsonl" ||
        notok "rank --aggregate ($mode) failed"
    if $PY - "$T/in.mp" "$T/$mode.jsonl" $mode <<'PYEOF'
import json, math, msgpack, sys
recs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
got = [json.loads(l) for l in open(sys.argv[2])]
M = len(recs)
want = [0.0] * M
for key, sign in (("a", 1), ("b", -1), ("c", 1)):
    v = [r["scores"].get(key, float("nan")) for r in recs]
    v = [-math.inf if x != x else sign * x for x in v]
    for i in range(M):
        below = sum(1 for x in v if x < v[i])
        equal = sum(1 for x in v if x == v[i])
        r = (below + (equal + 1) / 2) / M  # mean of ranks below+1 .. below+equal
        want[i] += math.log(r) if sys.argv[3] == "log" else r
ok = len(got) == M and all(abs(g["scores"]["aggregate"] - want[g["index"]]) < 1e-12 for g in got)
ok = ok and all(got[i]["scores"]["aggregate"] >= got[i + 1]["scores"]["aggregate"] for i in range(M - 1))
sys.exit(0 if ok else 1)
PYEOF
    then ok "--aggregate ($mode): every record's value and the order match the reference"
    else notok "--aggregate ($mode) differs from the reference"; fi
done
# --pareto first: the aggregate ranks the records on the front among themselves only
printf '%s\n' '{"index":0,"scores":{"a":1,"b":1}}' '{"index":1,"scores":{"a":5,"b":5}}' \
    '{"index":2,"scores":{"a":2,"b":9}}' '{"index":3,"scores":{"a":9,"b":2}}' | json2mp |
    rank --pareto scores.a,scores.b --aggregate a -F jsonl 2>/dev/null |
    $PY -c 'import json, sys; print(" ".join("%d:%.4f" % (r["index"], r["scores"]["aggregate"]) for r in map(json.loads, sys.stdin)))' > "$T/pa"
check "--pareto then --aggregate: ranks among the kept records (3 > 1 > 2)" \
    '[ "$(cat "$T/pa")" = "3:1.0000 1:0.6667 2:0.3333" ]'
rank --log < "$T/in.mp" > /dev/null 2>&1
check "--log without --aggregate: usage error" '[ $? -eq 2 ]'
rank --aggregate a --by all --truth scores.b -F stats < "$T/in.mp" > /dev/null 2>&1
check "--aggregate with --by all: usage error" '[ $? -eq 2 ]'
printf '\201\246scores\201\241a\241x' | rank --aggregate scores.a > /dev/null 2>"$T/err"
check "--aggregate over a non-number: exit 1 naming the key" '[ $? -eq 1 ] && grep -q scores.a "$T/err"'
finish
