#!/bin/sh
# score_darts.sh — scores the ground-truth genotypes of bench/groundtruth_darts.sh with
# every proxy, zero-shot (untrained supernet) and after a warm-up on 5% of the training
# data, on the same data and space parameters as the truth (Fashion-MNIST at 1x16x16,
# C=8, 5 cells), into bench/data/darts-scores-{zero,warm}.jsonl. One process.
#   usage: bench/score_darts.sh [BIN_DIR]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
tmp=bench/out/darts-gt out=bench/data data=bench/out/fmnist16.npz
mkdir -p "$tmp" "$out"
[ -s "$data" ] || /usr/bin/python3 bench/fmnist16.py "$data"
[ -s "$tmp/genos.jsonl" ] ||
    "$bin/sample-arch" --space darts -n 60 --seed 2026 --input 1x16x16 | "$bin/mp2json" > "$tmp/genos.jsonl"
opts="--space darts --data $data --input 1x16x16 --threads 1"
"$bin/warmup-supernet" $opts --fraction 0 -q -o "$tmp/zero.ckpt"
"$bin/warmup-supernet" $opts --fraction 0.05 -q -o "$tmp/warm.ckpt"
for k in zero warm; do
    "$bin/json2mp" < "$tmp/genos.jsonl" |
        "$bin/score-sigeo" --supernet "$tmp/$k.ckpt" --data "$data" --proxies all -q |
        "$bin/mp2json" > "$tmp/scores-$k.jsonl"
    cp "$tmp/scores-$k.jsonl" "$out/darts-scores-$k.jsonl"
done
