#!/bin/sh
# study.sh — the correlation study (issue 6): warm up the supernet on 0%, 1%, 5%, 10% and
# 20% of the training data, score the ground-truth cells with the default sigeo (timed:
# cost.tsv) and with every proxy and the paper's sigeo, one stream each per setting.
# Then bench/study.py turns them into docs/quality.md tables.
#   usage: bench/study.sh [BIN_DIR]   (env: FRACTIONS, SCORE_ARGS, WARMUP_ARGS, PROXIES,
#   CELLS: bench/data/gt-seed1.jsonl, or a TSV of arch and test_acc_mean; OUT)
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
fractions=${FRACTIONS:-"0 0.01 0.05 0.1 0.2"}
out=${OUT:-bench/out/study}
mkdir -p "$out"
now() { date +%s.%N; }
printf 'fraction\twarmup_s\tscore_s\tcells\n' > "$out/cost.tsv"
cells=${CELLS:-bench/data/gt-seed1.jsonl}
case "$cells" in
*.tsv) # arch<TAB>test_acc_mean<TAB>runs (the independent trainer's truth): arch records
    awk -F'\t' '!/^#/ && NF >= 2 { printf "{\"kind\":\"arch\",\"space\":\"nb201\",\"arch\":\"%s\",\"truth\":{\"test_acc\":%s}}\n", $1, $2 }' \
        "$cells" | "$bin/json2mp" > "$out/gt.mp" ;;
*) "$bin/json2mp" < "$cells" > "$out/gt.mp" ;;
esac
for f in $fractions; do
    t0=$(now)
    "$bin/warmup-supernet" --fraction "$f" --seed 1 ${WARMUP_ARGS:-} -q -o "$out/sn-$f.ckpt"
    t1=$(now)
    # sigeo with the project's defaults (the checkpoint's lambda): the timed stage, two
    # processes as a user would run it
    for s in 0 1; do
        "$bin/score-sigeo" --supernet "$out/sn-$f.ckpt" --proxies sigeo -q ${SCORE_ARGS:-} \
            --shard $s/2 < "$out/gt.mp" > "$out/default-$f.$s.mp" &
    done
    wait
    t2=$(now)
    cat "$out/default-$f.0.mp" "$out/default-$f.1.mp" > "$out/default-$f.mp"
    # every baseline, with sigeo as the paper defines it (--paper)
    for s in 0 1; do
        "$bin/score-sigeo" --supernet "$out/sn-$f.ckpt" --proxies "${PROXIES:-all}" --paper -q ${SCORE_ARGS:-} \
            --shard $s/2 < "$out/gt.mp" > "$out/scored-$f.$s.mp" &
    done
    wait
    cat "$out/scored-$f.0.mp" "$out/scored-$f.1.mp" > "$out/scored-$f.mp"
    rm -f "$out"/scored-$f.?.mp "$out"/default-$f.?.mp
    awk -v f="$f" -v a="$t0" -v b="$t1" -v c="$t2" -v n="$(grep -vc '^#' "$cells")" \
        'BEGIN { printf "%s\t%.1f\t%.1f\t%d\n", f, b - a, c - b, n }' >> "$out/cost.tsv"
done
cat "$out/cost.tsv"
