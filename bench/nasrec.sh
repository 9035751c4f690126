#!/bin/sh
# bench/nasrec.sh — the numbers of docs/nasrec.md: ground truth for 60 nasrec architectures
# on synthetic click data, the proxy correlation table (zero-shot and warmed-up supernets),
# and evolution against random search at the same scoring budget.
#   bench/nasrec.sh [DIR]     (default bench/out/nasrec; about 15 minutes on 2 cores)
# Stages skip when their output exists, so a run can be resumed.
set -eu
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
D=${1:-bench/out/nasrec}
mkdir -p "$D"
TR="--batch 128 --lr 0.02 -q" # train-arch recipe: 1 epoch, Adagrad, cosine

[ -f "$D/synth.tsv" ] || gen-criteo --rows 100000 --seed 1 -o "$D/synth.tsv"
[ -f "$D/archs.mp" ] || sample-arch --space nasrec -n 60 --seed 11 > "$D/archs.mp"
[ -f "$D/truth.mp" ] || train-arch --data "$D/synth.tsv" $TR < "$D/archs.mp" > "$D/truth.mp"
[ -f "$D/sn0.ckpt" ] || warmup-supernet --space nasrec --data "$D/synth.tsv" --fraction 0 -q -o "$D/sn0.ckpt"
[ -f "$D/sn10.ckpt" ] || warmup-supernet --space nasrec --data "$D/synth.tsv" --fraction 0.1 -q -o "$D/sn10.ckpt"

for s in 0 10; do
    [ -f "$D/scored$s.mp" ] ||
        score-sigeo --supernet "$D/sn$s.ckpt" --data "$D/synth.tsv" --proxies all -q < "$D/truth.mp" > "$D/scored$s.mp"
    echo "== supernet warmed on $s% of the training split: Kendall/Spearman against truth.auc"
    rank --by all --truth truth.auc -F stats < "$D/scored$s.mp" | mp2json
done

# Evolution vs random search: 60 SiGeo evaluations each (warmed supernet), then the top 3
# of each are trained with the ground-truth recipe.
[ -f "$D/evolve.mp" ] || pipelines/evolve.sh --supernet "$D/sn10.ckpt" --data "$D/synth.tsv" \
    --population 20 --sample 5 --generations 40 --seed 7 > "$D/evolve.mp"
[ -f "$D/random.mp" ] || sample-arch --space nasrec -n 60 --seed 7007 |
    score-sigeo --supernet "$D/sn10.ckpt" --data "$D/synth.tsv" -q --proxies sigeo | rank --by scores.sigeo > "$D/random.mp"
for m in evolve random; do
    [ -f "$D/$m.top3.mp" ] || rank --by scores.sigeo --top 3 < "$D/$m.mp" |
        train-arch --data "$D/synth.tsv" $TR > "$D/$m.top3.mp"
    echo "== $m: top 3 by SiGeo, trained"
    rank --by truth.auc -F table < "$D/$m.top3.mp"
done
echo "== the 60 random ground-truth architectures"
rank --by truth.auc -F table --top 5 < "$D/truth.mp"
