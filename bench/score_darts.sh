#!/bin/sh
# score_darts.sh — scores the ground-truth genotypes of bench/groundtruth_darts.sh with
# every proxy, zero-shot (untrained supernet) and after a warm-up on 5% of the training
# data, into bench/data/darts-scores-{zero,warm}.jsonl. One process.
#   usage: bench/score_darts.sh [BIN_DIR]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
tmp=bench/out/darts-gt out=bench/data
mkdir -p "$tmp" "$out"
[ -s "$tmp/genos.jsonl" ] || "$bin/sample-arch" --space darts -n 60 --seed 2026 | "$bin/mp2json" > "$tmp/genos.jsonl"
"$bin/warmup-supernet" --space darts --fraction 0 -q -o "$tmp/zero.ckpt"
"$bin/warmup-supernet" --space darts --fraction 0.05 --progress -o "$tmp/warm.ckpt"
for k in zero warm; do
    "$bin/json2mp" < "$tmp/genos.jsonl" |
        "$bin/score-sigeo" --supernet "$tmp/$k.ckpt" --proxies all --progress | "$bin/mp2json" > "$tmp/scores-$k.jsonl"
    cp "$tmp/scores-$k.jsonl" "$out/darts-scores-$k.jsonl"
done
