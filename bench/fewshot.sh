#!/bin/sh
# fewshot.sh — one few-shot setting of the warm-up investigation (docs/quality.md, "Why the
# warm-up does not pay"): warm up the five NB201 sub-supernets split on EDGE (warmup-supernet
# --fix EDGE=OP, each with WARMUP_ARGS, so five times the one-shot cost), then score the
# truth's cells over them (score-sigeo with one --supernet per op) as bench/warmexp.sh scores
# one checkpoint, one process at a time, into bench/out/warmexp/NAME.mp and NAME.meta (the
# warm-up seconds are the five warm-ups' sum); bench/warmexp.py reads them with the others.
#   usage: bench/fewshot.sh NAME EDGE "WARMUP_ARGS" ["SCORE_ARGS"]   (~2-3 CPU-minutes)
#   e.g.   bench/fewshot.sh fs3-f0.1 3 "--fraction 0.1"
#   the warm-ups start from momentum 0.9, as bench/warmexp.sh's (MOMENTUM; a --momentum in
#   WARMUP_ARGS wins)
#   env: TRUTH (../shared/truth/nb201-c8n1-fmnist-e1.tsv), BIN (bin), PROXIES (sigeo,jacov,meco,oneshot)
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,12p "$0" >&2; exit 2; }
name=$1 edge=$2 wargs=$3 sargs=${4:-}
truth=${TRUTH:-../shared/truth/nb201-c8n1-fmnist-e1.tsv}
[ -f "$truth" ] || truth=/work/shared/truth/nb201-c8n1-fmnist-e1.tsv   # from a worktree
[ -f "$truth" ] || { echo "fewshot.sh: no truth file; set TRUTH" >&2; exit 1; }
bin=${BIN:-bin}
out=bench/out/warmexp
mkdir -p "$out/$name.d"
if [ ! -s "$out/gt.mp" ]; then
    awk -F'\t' '!/^#/ && NF >= 2 { printf "{\"kind\":\"arch\",\"space\":\"nb201\",\"arch\":\"%s\",\"truth\":{\"test_acc\":%s}}\n", $1, $2 }' \
        "$truth" | "$bin/json2mp" > "$out/gt.mp"
fi
now() { date +%s.%N; }
t0=$(now)
sn=""
for op in none skip_connect nor_conv_1x1 nor_conv_3x3 avg_pool_3x3; do
    # shellcheck disable=SC2086 # the argument strings are option lists
    nice -n 5 "$bin/warmup-supernet" --seed 1 --momentum "${MOMENTUM:-0.9}" $wargs --fix "$edge=$op" -q -o "$out/$name.d/$op.ckpt"
    sn="$sn --supernet $out/$name.d/$op.ckpt"
done
t1=$(now)
# shellcheck disable=SC2086
nice -n 5 "$bin/score-sigeo" $sn --proxies "${PROXIES:-sigeo,jacov,meco,oneshot}" -q \
    $sargs < "$out/gt.mp" > "$out/$name.mp.tmp"
t2=$(now)
mv "$out/$name.mp.tmp" "$out/$name.mp"
printf '%s\t%s\t%s\t%.1f\t%.1f\n' "$name" "$wargs --fix $edge=OP (x5)" "$sargs" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" > "$out/$name.meta"
cat "$out/$name.meta"
