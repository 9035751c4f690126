#!/bin/sh
# sweep.sh — SiGeo scoring settings on the study's supernets (bench/study.sh first):
# every combination of warm-up fraction and scoring step lr, sigeo terms only, with the
# paper's weights (the "sigeo" column of bench/sweep.py).
#   usage: bench/sweep.sh [BIN_DIR]   (env: FRACTIONS, STEP_LRS, SCORE_ARGS, TAG)
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
study=bench/out/study out=bench/out/sweep
mkdir -p "$out"
for f in ${FRACTIONS:-0 0.05 0.1 0.2}; do
    for lr in ${STEP_LRS:-0 0.01 0.1 1}; do
        name="$out/f$f-lr$lr${TAG:-}.mp"
        [ -f "$name" ] && continue
        for s in 0 1; do
            "$bin/score-sigeo" --supernet "$study/sn-$f.ckpt" --proxies sigeo --paper --step-lr "$lr" \
                ${SCORE_ARGS:-} -q --shard $s/2 < "$study/gt.mp" > "$name.$s" &
        done
        wait
        cat "$name.0" "$name.1" > "$name" && rm -f "$name.0" "$name.1"
        echo "done $name" >&2
    done
done
