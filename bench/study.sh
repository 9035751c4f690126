#!/bin/sh
# study.sh — the correlation study (issue 6): warm up the supernet on 0%, 1%, 5%, 10% and
# 20% of the training data, score the ground-truth cells with the default sigeo (timed:
# cost.tsv) and with every proxy and the paper's sigeo, one stream each per setting.
# Then bench/study.py turns them into docs/quality.md tables.
#   usage: bench/study.sh [BIN_DIR]   (env: FRACTIONS, SCORE_ARGS, WARMUP_ARGS, PROXIES,
#   CELLS: bench/data/gt-seed1.jsonl, or a TSV of arch and test_acc_mean; OUT;
#   SHARDS: scoring processes at a time [2]; 1 on a shared machine)
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
# shards F NAME OPTIONS...: score the cells with OPTIONS into NAME-F.0.mp and NAME-F.1.mp,
# two processes at once (as a user would run it), or one after the other with SHARDS=1
shards() {
    f=$1 name=$2
    shift 2
    for s in 0 1; do
        # shellcheck disable=SC2086 # SCORE_ARGS is an option list
        "$bin/score-sigeo" --supernet "$out/sn-$f.ckpt" "$@" -q ${SCORE_ARGS:-} \
            --shard $s/2 < "$out/gt.mp" > "$out/$name-$f.$s.mp" &
        [ "${SHARDS:-2}" != 1 ] || wait
    done
    wait
}
for f in $fractions; do
    t0=$(now)
    "$bin/warmup-supernet" --fraction "$f" --seed 1 ${WARMUP_ARGS:-} -q -o "$out/sn-$f.ckpt"
    t1=$(now)
    # sigeo with the project's defaults (the checkpoint's lambda): the timed stage, two
    # processes as a user would run it
    shards "$f" default --proxies sigeo
    t2=$(now)
    cat "$out/default-$f.0.mp" "$out/default-$f.1.mp" > "$out/default-$f.mp"
    # every baseline, with sigeo as the paper defines it (--paper)
    shards "$f" scored --proxies "${PROXIES:-all}" --paper
    cat "$out/scored-$f.0.mp" "$out/scored-$f.1.mp" > "$out/scored-$f.mp"
    rm -f "$out"/scored-$f.?.mp "$out"/default-$f.?.mp
    awk -v f="$f" -v a="$t0" -v b="$t1" -v c="$t2" -v n="$(grep -vc '^#' "$cells")" \
        'BEGIN { printf "%s\t%.1f\t%.1f\t%d\n", f, b - a, c - b, n }' >> "$out/cost.tsv"
done
cat "$out/cost.tsv"
