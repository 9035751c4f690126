#!/bin/sh
# The darts space end to end on a small network (C=4, 3 cells, Fashion-MNIST): sample-arch
# gives distinct records that survive a JSON round trip and refuses --all with the reason,
# warm-up -> score -> rank, train-arch, mutate-arch, evolve.sh and search.sh --space darts
# run, and bad genotypes, a bad cfg and a checkpoint of another space fail naming the record.
set -u
T=tests/tmp/t_darts.$$
rm -rf "$T" && mkdir -p "$T" || exit 1
trap 'rm -rf "$T"' EXIT
. tests/lib.sh
PY=/usr/bin/python3
D=/usr/share/datasets/fashion-mnist
small="--channels 4 --cells 3"

sample-arch --space darts -n 5 --seed 3 $small > "$T/archs.mp" || exit 1
n=$(mp2json < "$T/archs.mp" | "$PY" -c '
import sys, json
r = [json.loads(l) for l in sys.stdin]
assert all(x["space"] == "darts" and x["cfg"]["C"] == 4 and x["cfg"]["N"] == 3 for x in r)
assert all(x["arch"].startswith("Genotype(normal=[(") for x in r)
print(len({x["arch"] for x in r}))')
check "sample-arch: 5 distinct darts genotypes with their cfg" '[ "$n" = 5 ]'
mp2json < "$T/archs.mp" | json2mp | mp2json > "$T/a.jsonl" && mp2json < "$T/archs.mp" > "$T/b.jsonl"
check "darts records: JSON round trip" 'cmp -s "$T/a.jsonl" "$T/b.jsonl"'
sample-arch --space darts --all > /dev/null 2> "$T/err"
check "sample-arch --all refuses darts and says why" '[ $? -eq 2 ] && grep -q "1.1e18 genotypes" "$T/err"'

if [ ! -d "$D" ]; then
    echo "skip: the rest needs dataset-fashion-mnist"
    finish
fi
CHECK_ERR="$T/err"
warmup-supernet --space darts $small --fraction 0.004 --batch 32 -q -o "$T/sn.ckpt" 2> "$T/err"
check "warmup-supernet --space darts" '[ $? -eq 0 ] && [ -s "$T/sn.ckpt" ]'
score-sigeo --supernet "$T/sn.ckpt" --batch 16 --batches 2 --proxies sigeo,zico,params -q \
    < "$T/archs.mp" 2> "$T/err" | rank --by scores.sigeo -F jsonl > "$T/ranked.jsonl" 2>> "$T/err"
"$PY" - "$T/ranked.jsonl" <<'EOF'
import sys, json, math
r = [json.loads(l) for l in open(sys.argv[1])]
s = [x["scores"]["sigeo"] for x in r]
assert len(r) == 5 and all(math.isfinite(v) for v in s) and s == sorted(s, reverse=True), s
assert len({x["scores"]["params"] for x in r}) > 1
# darts' own default weights (0, 0, 1, -1): the loss and J terms only
for x in r:
    c = x["scores"]
    want = -c["sigeo_loss"] - c["sigeo_j"]
    assert abs(c["sigeo"] - want) <= 1e-9 * max(1, abs(want)), (c["sigeo"], want)
EOF
check "score -> rank: 5 records, finite SiGeo = -L - J (darts weights), sorted, parameter counts differ" '[ $? -eq 0 ]'

head -c 0 /dev/null
mp2json < "$T/archs.mp" | head -n 1 | json2mp |
    train-arch --fraction 0.002 --test-fraction 0.01 --batch 32 -q > "$T/trained.mp" 2> "$T/err"
check "train-arch trains a darts genotype" '[ $? -eq 0 ] && mp2json < "$T/trained.mp" | grep -q "\"test_acc\""'

mutate-arch -k 3 --seed 2 < "$T/archs.mp" > "$T/kids.mp" 2> "$T/err"
nk=$(mp2json < "$T/kids.mp" | wc -l)
score-sigeo --supernet "$T/sn.ckpt" --batch 16 --batches 2 --proxies params -q < "$T/kids.mp" > /dev/null 2>> "$T/err"
check "mutate-arch: 15 darts children, all scoreable" '[ $? -eq 0 ] && [ "$nk" -eq 15 ]'

pipelines/evolve.sh --space darts --supernet "$T/sn.ckpt" --population 4 --sample 2 --generations 2 \
    $small > "$T/hist.mp" 2> "$T/err"
check "evolve.sh --space darts" '[ $? -eq 0 ] && [ "$(mp2json < "$T/hist.mp" | wc -l)" -ge 6 ]'

pipelines/search.sh --space darts -n 3 -k 1 -j 1 --fraction 0.002 --train-fraction 0.002 \
    --test-fraction 0.01 --cache "$T/cache" --out "$T/out" > "$T/table" 2> "$T/err"
check "search.sh --space darts prints its table" '[ $? -eq 0 ] && grep -q "^1 .*Genotype(" "$T/table"'

# Bad input: each names the record; records before it are written.
mp2json < "$T/archs.mp" | head -n 2 > "$T/bad.jsonl"
"$PY" - "$T/bad.jsonl" <<'EOF'
import sys, json, re
r = [json.loads(l) for l in open(sys.argv[1])]
g = r[1]["arch"]
bad = [re.sub(r"\('\w+', 0\)", "('conv_9x9', 0)", g, count=1),
       re.sub(r", \d\)\], normal_concat", ", 7)], normal_concat", g),
       g.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3]")]
with open(sys.argv[1], "w") as f:
    print(json.dumps(r[0]), file=f)
    for a in bad:
        print(json.dumps(dict(r[1], arch=a)), file=f)
    print(json.dumps(dict(r[1], cfg=dict(r[1]["cfg"], C=5))), file=f)
EOF
i=2
for want in "unknown op 'conv_9x9'" "input 7 out of range" "normal_concat" "C must be even"; do
    { head -n 1 "$T/bad.jsonl"; sed -n "${i}p" "$T/bad.jsonl"; } | json2mp |
        score-sigeo --supernet "$T/sn.ckpt" --batch 16 --batches 2 --proxies params -q > "$T/out.mp" 2> "$T/err"
    rc=$?
    check "bad darts record ($want): exit 1, names record 2, record 1 written" \
        '[ $rc -eq 1 ] && grep -q "record 2" "$T/err" && grep -q "$want" "$T/err" && [ "$(mp2json < "$T/out.mp" | wc -l)" -eq 1 ]'
    i=$((i + 1))
done
warmup-supernet --fraction 0 -q -o "$T/nb.ckpt" 2> "$T/err"
score-sigeo --supernet "$T/nb.ckpt" -q < "$T/archs.mp" > /dev/null 2> "$T/err"
check "a darts record with an nb201 checkpoint: exit 1, both spaces named" \
    '[ $? -eq 1 ] && grep -q "space .darts., the supernet in .nb201." "$T/err"'
finish
