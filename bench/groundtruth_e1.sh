#!/bin/sh
# groundtruth_e1.sh — a third NB201 truth with this project's trainer and the independent
# truth's recipe (../shared/truth/nb201-c8n1-fmnist-e1.tsv: one full epoch of Fashion-MNIST,
# SGD lr 0.05 cosine, Nesterov, momentum 0.9, wd 5e-4, batch 128): NCELLS new random cells
# (sample-arch --seed 2027, none of them in that file) into bench/data/gt-e1.jsonl, and the
# NCHECK cells of that file (every fifth, sorted) into bench/data/gt-e1-check.jsonl (and with
# --seed 2 into gt-e1-check-seed2.jsonl, this trainer's own seed noise), to see how
# this trainer agrees with the independent one. Two processes (one per core), ~21 CPU-s a
# cell: about 40 minutes for the defaults on the 2-core reference machine.
#   usage: bench/groundtruth_e1.sh [BIN_DIR]   (env NCELLS [120], NCHECK [40], TRUTH)
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
ncells=${NCELLS:-120} ncheck=${NCHECK:-40}
truth=${TRUTH:-../shared/truth/nb201-c8n1-fmnist-e1.tsv}
[ -f "$truth" ] || { echo "groundtruth_e1.sh: no truth file $truth; set TRUTH" >&2; exit 1; }
recipe="--epochs 1 --fraction 1 --batch 128 --lr 0.05 --schedule cosine --momentum 0.9 --nesterov --weight-decay 5e-4 --threads 1 -q"
out=bench/data tmp=bench/out/gt-e1
mkdir -p "$out" "$tmp"
awk -F'\t' '!/^#/ && NF >= 2 { print $1 }' "$truth" | sort > "$tmp/known.txt"
"$bin/sample-arch" -n $((ncells * 2)) --seed 2027 | "$bin/mp2json" |
    awk -F'"' 'NR == FNR { k[$0] = 1; next } { for (i = 1; i < NF; i++) if ($i == "arch") a = $(i + 2) }
               !(a in k) && n < '"$ncells"' { print; n++ }' "$tmp/known.txt" - > "$tmp/cells.jsonl"
awk -v n="$ncheck" 'NR % 5 == 1 && k++ < n' "$tmp/known.txt" |
    awk '{ printf "{\"kind\":\"arch\",\"space\":\"nb201\",\"arch\":\"%s\"}\n", $0 }' > "$tmp/check.jsonl"
for p in 0 1; do
    ( for f in cells:1 check:1 check:2; do
          awk -v p=$p 'NR % 2 == p' "$tmp/${f%:*}.jsonl" | "$bin/json2mp" |
              "$bin/train-arch" $recipe --seed "${f#*:}" | "$bin/mp2json" > "$tmp/${f%:*}${f#*:}.$p.out"
      done ) &
done
wait
cat "$tmp/cells1.0.out" "$tmp/cells1.1.out" > "$out/gt-e1.jsonl"
cat "$tmp/check1.0.out" "$tmp/check1.1.out" > "$out/gt-e1-check.jsonl"
cat "$tmp/check2.0.out" "$tmp/check2.1.out" > "$out/gt-e1-check-seed2.jsonl"
wc -l "$out/gt-e1.jsonl" "$out/gt-e1-check.jsonl" "$out/gt-e1-check-seed2.jsonl"
