#!/bin/sh
# groundtruth_darts.sh — trains a fixed random sample of DARTS genotypes (C=8, 5 cells,
# Fashion-MNIST at 1x16x16 from bench/fmnist16.py) from scratch with one short recipe and
# stores the results (bench/data/darts-gt-seed1.jsonl, bench/data/darts-gt-seed2.jsonl).
# Seed 1 trains all NGENO genotypes; seed 2 retrains the first NSEED2 for the noise
# ceiling. Genotypes go in blocks of 10, each block with both seeds where it has them, so
# the seed agreement can be read from bench/out/darts-gt/r{1,2}.jsonl before the end.
# One process (the machine is shared); docs/darts.md gives the time it took.
#   usage: bench/groundtruth_darts.sh [BIN_DIR]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
ngeno=${NGENO:-60} nseed2=${NSEED2:-20}
data=bench/out/fmnist16.npz out=bench/data tmp=bench/out/darts-gt
recipe="--data $data --epochs 1 --fraction 0.2 --test-fraction 1 --batch 64 --lr 0.1 --schedule cosine --threads 1 -q"
mkdir -p "$out" "$tmp"
[ -s "$data" ] || /usr/bin/python3 bench/fmnist16.py "$data"
"$bin/sample-arch" --space darts -n "$ngeno" --seed 2026 --input 1x16x16 | "$bin/mp2json" > "$tmp/genos.jsonl"
: > "$tmp/r1.jsonl"
: > "$tmp/r2.jsonl"
train() { # FIRST LAST SEED: genotypes FIRST..LAST (1-based) with SEED, appended to r<SEED>
    sed -n "$1,$2p" "$tmp/genos.jsonl" | "$bin/json2mp" | "$bin/train-arch" $recipe --seed "$3" |
        "$bin/mp2json" >> "$tmp/r$3.jsonl"
}
i=1
while [ "$i" -le "$ngeno" ]; do
    j=$((i + 9))
    [ "$j" -le "$ngeno" ] || j=$ngeno
    train "$i" "$j" 1
    if [ "$i" -le "$nseed2" ]; then
        k=$j
        [ "$k" -le "$nseed2" ] || k=$nseed2
        train "$i" "$k" 2
    fi
    i=$((j + 1))
done
cp "$tmp/r1.jsonl" "$out/darts-gt-seed1.jsonl"
cp "$tmp/r2.jsonl" "$out/darts-gt-seed2.jsonl"
wc -l "$out/darts-gt-seed1.jsonl" "$out/darts-gt-seed2.jsonl"
