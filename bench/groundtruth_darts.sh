#!/bin/sh
# groundtruth_darts.sh — trains a fixed random sample of DARTS genotypes (C=8, 5 cells,
# Fashion-MNIST 1x28x28) from scratch with one short recipe and stores the results
# (bench/data/darts-gt-seed1.jsonl, bench/data/darts-gt-seed2.jsonl). Seed 1 trains all
# NGENO genotypes; seed 2 retrains the first NSEED2 for the noise ceiling. One process
# (the machine is shared); docs/darts.md gives the time it took.
#   usage: bench/groundtruth_darts.sh [BIN_DIR]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
ngeno=${NGENO:-60} nseed2=${NSEED2:-20}
recipe="--epochs 1 --fraction 0.02 --test-fraction 0.05 --batch 64 --lr 0.1 --schedule cosine --threads 1 --progress"
out=bench/data tmp=bench/out/darts-gt
mkdir -p "$out" "$tmp"
"$bin/sample-arch" --space darts -n "$ngeno" --seed 2026 | "$bin/mp2json" > "$tmp/genos.jsonl"
"$bin/json2mp" < "$tmp/genos.jsonl" | "$bin/train-arch" $recipe --seed 1 | "$bin/mp2json" > "$tmp/r1.jsonl"
cp "$tmp/r1.jsonl" "$out/darts-gt-seed1.jsonl"
head -n "$nseed2" "$tmp/genos.jsonl" | "$bin/json2mp" | "$bin/train-arch" $recipe --seed 2 | "$bin/mp2json" > "$tmp/r2.jsonl"
cp "$tmp/r2.jsonl" "$out/darts-gt-seed2.jsonl"
wc -l "$out/darts-gt-seed1.jsonl" "$out/darts-gt-seed2.jsonl"
