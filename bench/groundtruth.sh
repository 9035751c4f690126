#!/bin/sh
# groundtruth.sh — trains a fixed random sample of NB201 cells from scratch with one
# recipe and stores the results (bench/data/gt-seed1.jsonl, bench/data/gt-seed2.jsonl).
# Seed 1 trains all cells; seed 2 retrains the first NSEED2 of them for the noise ceiling.
# Two processes (one per core). Takes about 40 minutes on the 2-core reference machine.
#   usage: bench/groundtruth.sh [BIN_DIR]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
ncells=${NCELLS:-100} nseed2=${NSEED2:-30}
recipe="--epochs 1 --fraction 0.3 --test-fraction 0.5 --batch 64 --lr 0.1 --schedule cosine --threads 1 -q"
out=bench/data tmp=bench/out/gt
mkdir -p "$out" "$tmp"
"$bin/sample-arch" -n "$ncells" --seed 2026 | "$bin/mp2json" > "$tmp/cells.jsonl"
# Job lists: odd/even cells with seed 1, then halves of the first nseed2 with seed 2.
for p in 0 1; do
    awk -v p=$p 'NR % 2 == p' "$tmp/cells.jsonl" > "$tmp/s1.$p.jsonl"
    head -n "$nseed2" "$tmp/cells.jsonl" | awk -v p=$p 'NR % 2 == p' > "$tmp/s2.$p.jsonl"
    ( "$bin/json2mp" < "$tmp/s1.$p.jsonl" | "$bin/train-arch" $recipe --seed 1 | "$bin/mp2json" > "$tmp/r1.$p.jsonl"
      "$bin/json2mp" < "$tmp/s2.$p.jsonl" | "$bin/train-arch" $recipe --seed 2 | "$bin/mp2json" > "$tmp/r2.$p.jsonl" ) &
done
wait
cat "$tmp/r1.0.jsonl" "$tmp/r1.1.jsonl" > "$out/gt-seed1.jsonl"
cat "$tmp/r2.0.jsonl" "$tmp/r2.1.jsonl" > "$out/gt-seed2.jsonl"
wc -l "$out/gt-seed1.jsonl" "$out/gt-seed2.jsonl"
