#!/bin/sh
# warmexp.sh — one setting of the warm-up investigation (docs/quality.md, "Why the warm-up
# does not pay"): warm up with WARMUP_ARGS, score the truth's cells with sigeo, jacov,
# meco and the one-shot accuracy (sigeo's terms included) with SCORE_ARGS, one process, into bench/out/warmexp/NAME.mp;
# bench/warmexp.py prints tuning and held-out tau of every setting scored so far.
#   usage: bench/warmexp.sh NAME "WARMUP_ARGS" ["SCORE_ARGS"]   (~1 CPU-minute per setting)
#   e.g.   bench/warmexp.sh f0.1-steplr0 "--fraction 0.1" "--step-lr 0"
#   a checkpoint made otherwise (bench/warmmix.py): WARMUP_ARGS "ckpt:FILE" scores FILE
#   few-shot: WARMUP_ARGS "split:EDGE ARGS" warms up the five NB201 sub-supernets split on
#   EDGE (warmup-supernet --fix EDGE=OP, each with ARGS: five times the one-shot cost; the
#   warm-up seconds are their sum) and scores each cell over its op's (score-sigeo with
#   one --supernet per op), e.g. bench/warmexp.sh fs3-f0.1 "split:3 --fraction 0.1"
#   the warm-ups start from momentum 0.9, the default when they were measured (MOMENTUM;
#   a --momentum in WARMUP_ARGS wins)
#   env: TRUTH (../shared/truth/nb201-c8n1-fmnist-e1.tsv), BIN (bin), PROXIES (sigeo,jacov,meco,oneshot)
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 2,15p "$0" >&2; exit 2; }
name=$1 wargs=$2 sargs=${3:-}
truth=${TRUTH:-../shared/truth/nb201-c8n1-fmnist-e1.tsv}
[ -f "$truth" ] || truth=/work/shared/truth/nb201-c8n1-fmnist-e1.tsv   # from a worktree
[ -f "$truth" ] || { echo "warmexp.sh: no truth file; set TRUTH" >&2; exit 1; }
bin=${BIN:-bin}
out=bench/out/warmexp
mkdir -p "$out"
if [ ! -s "$out/gt.mp" ]; then
    awk -F'\t' '!/^#/ && NF >= 2 { printf "{\"kind\":\"arch\",\"space\":\"nb201\",\"arch\":\"%s\",\"truth\":{\"test_acc\":%s}}\n", $1, $2 }' \
        "$truth" | "$bin/json2mp" > "$out/gt.mp"
fi
now() { date +%s.%N; }
t0=$(now)
# shellcheck disable=SC2086 # the argument strings are option lists
warm() { nice -n 5 "$bin/warmup-supernet" --seed 1 --momentum "${MOMENTUM:-0.9}" "$@" -q; }
sn="--supernet $out/$name.ckpt"
case "$wargs" in
ckpt:*) cp "${wargs#ckpt:}" "$out/$name.ckpt" ;;
split:*)
    set -- ${wargs#split:}
    edge=$1
    shift
    mkdir -p "$out/$name.d"
    sn=""
    for op in none skip_connect nor_conv_1x1 nor_conv_3x3 avg_pool_3x3; do
        warm "$@" --fix "$edge=$op" -o "$out/$name.d/$op.ckpt"
        sn="$sn --supernet $out/$name.d/$op.ckpt"
    done ;;
*) warm $wargs -o "$out/$name.ckpt" ;;
esac
t1=$(now)
# shellcheck disable=SC2086
nice -n 5 "$bin/score-sigeo" $sn --proxies "${PROXIES:-sigeo,jacov,meco,oneshot}" -q \
    $sargs < "$out/gt.mp" > "$out/$name.mp.tmp"
t2=$(now)
mv "$out/$name.mp.tmp" "$out/$name.mp"
printf '%s\t%s\t%s\t%.1f\t%.1f\n' "$name" "$wargs" "$sargs" "$(echo "$t1 - $t0" | bc)" \
    "$(echo "$t2 - $t1" | bc)" > "$out/$name.meta"
cat "$out/$name.meta"
