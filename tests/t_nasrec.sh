#!/bin/sh
# The nasrec space end to end on tiny synthetic click data: gen-criteo is deterministic,
# sample-arch gives distinct records and refuses --all, warm-up -> score -> rank works,
# train-arch reports log loss and AUC, mutate-arch writes children, evolve.sh runs, and
# bad data names the line.
set -u
T=tests/tmp/t_nasrec.$$
rm -rf "$T" && mkdir -p "$T" || exit 1
. tests/lib.sh
PY=/usr/bin/python3

gen-criteo --rows 3000 --seed 4 -o "$T/a.tsv" && gen-criteo --rows 3000 --seed 4 > "$T/b.tsv" &&
    gen-criteo --rows 3000 --seed 5 -o "$T/c.tsv" || exit 1
cmp -s "$T/a.tsv" "$T/b.tsv" && ok "gen-criteo: same seed, same bytes" || notok "gen-criteo: same seed, same bytes"
cmp -s "$T/a.tsv" "$T/c.tsv" && notok "gen-criteo: another seed differs" || ok "gen-criteo: another seed differs"
awk -F'\t' 'NF != 40 || ($1 != 0 && $1 != 1) { bad = 1 } { s += $1 } END { exit !(bad == 0 && NR == 3000 && s > 300 && s < 1500) }' "$T/a.tsv" &&
    ok "gen-criteo: 40 fields, 0/1 labels, a click rate between 10% and 50%" ||
    notok "gen-criteo: 40 fields, 0/1 labels, a click rate between 10% and 50%"

# small space: 2 blocks, dense widths up to 32, sparse 16
sample-arch --space nasrec -n 6 --seed 3 --cells 2 --channels 32 > "$T/archs.mp" || exit 1
n=$(mp2json < "$T/archs.mp" | "$PY" -c '
import sys, json
r = [json.loads(l) for l in sys.stdin]
assert all(x["space"] == "nasrec" and x["cfg"]["blocks"] == 2 and x["cfg"]["dmax"] == 32 for x in r)
print(len({x["arch"] for x in r}))')
[ "$n" = 6 ] && ok "sample-arch: 6 distinct nasrec records with their cfg" || notok "sample-arch: 6 distinct nasrec records ($n)"
sample-arch --space nasrec --all > /dev/null 2> "$T/err"
[ $? -eq 2 ] && grep -q "cannot be enumerated" "$T/err" && ok "sample-arch --all refuses nasrec" || notok "sample-arch --all refuses nasrec"

warmup-supernet --space nasrec --cells 2 --channels 32 --data "$T/a.tsv" --fraction 0.5 --batch 32 -q \
    -o "$T/sn.ckpt" 2> "$T/err" && ok "warmup-supernet --space nasrec" || { notok "warmup-supernet --space nasrec"; cat "$T/err"; }
score-sigeo --supernet "$T/sn.ckpt" --batch 32 -q < "$T/archs.mp" > "$T/scored.mp" 2> "$T/err" &&
    rank --by scores.sigeo -F jsonl < "$T/scored.mp" > "$T/ranked.jsonl" 2>> "$T/err" ||
    { notok "score -> rank"; cat "$T/err"; }
grep -q "not defined" "$T/err" && notok "default proxies: no warning for meco, which click nets lack" ||
    ok "default proxies: no warning for meco, which click nets lack"
score-sigeo --supernet "$T/sn.ckpt" --batch 32 --proxies sigeo,meco -q < "$T/archs.mp" > /dev/null 2> "$T/err"
grep -q "meco is not defined for space 'nasrec'" "$T/err" && ok "meco asked for on a click net: said so" ||
    notok "meco asked for on a click net: said so"
"$PY" - "$T/ranked.jsonl" <<'EOF' && ok "score -> rank: 6 records, finite SiGeo and ZiCo, sorted" || notok "score -> rank: 6 records, finite SiGeo and ZiCo, sorted"
import sys, json, math
r = [json.loads(l) for l in open(sys.argv[1])]
s = [x["scores"]["sigeo"] for x in r]
assert len(r) == 6 and all(math.isfinite(v) for v in s) and s == sorted(s, reverse=True), s
assert all(math.isfinite(x["scores"]["zico"]) for x in r)
EOF

mp2json < "$T/archs.mp" | head -n 2 | json2mp |
    train-arch --data "$T/a.tsv" --batch 32 -q > "$T/truth.mp" 2> "$T/err" || { notok "train-arch nasrec"; cat "$T/err"; }
mp2json < "$T/truth.mp" | "$PY" -c '
import sys, json
r = [json.loads(l) for l in sys.stdin]
assert len(r) == 2
for x in r:
    t = x["truth"]
    assert 0.3 < t["auc"] <= 1 and 0 < t["logloss"] < 1.5 and t["params"] > 0, t
' && ok "train-arch: truth.auc and truth.logloss" || notok "train-arch: truth.auc and truth.logloss"

mutate-arch --children 3 --seed 2 < "$T/scored.mp" | mp2json | "$PY" -c '
import sys, json
r = [json.loads(l) for l in sys.stdin]
assert len(r) == 18
assert all("scores" not in x and x["parent"] != x["arch"] and x["cfg"]["blocks"] == 2 for x in r)
' && ok "mutate-arch: 3 children per parent, scores dropped, parent recorded" || notok "mutate-arch: children"

pipelines/evolve.sh --supernet "$T/sn.ckpt" --cells 2 --channels 32 --population 4 --sample 2 \
    --generations 3 --seed 1 > "$T/ev.mp" 2> "$T/err" && [ "$(mp2json < "$T/ev.mp" | wc -l)" -eq 7 ] &&
    ok "evolve.sh: 4 + 3 candidates evaluated" || { notok "evolve.sh"; cat "$T/err"; }

printf '1\t2\n' > "$T/bad.tsv"
warmup-supernet --space nasrec --cells 2 --channels 32 --data "$T/bad.tsv" --fraction 1 -q -o "$T/x.ckpt" 2> "$T/err"
[ $? -eq 1 ] && grep -q "bad.tsv: line 1: expected 40" "$T/err" && ok "bad click data: exit 1 naming file and line" ||
    { notok "bad click data"; cat "$T/err"; }

rm -rf "$T"
finish
