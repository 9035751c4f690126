#!/bin/sh
# search.sh — the whole sub-one-shot search as one command:
# warm up (or reuse a cached supernet), sample candidates, score them in parallel on all
# cores, keep those within the budget (--max-params/--max-flops/--max-latency), rank, train
# the top-k from scratch and save them as model files, export the best to ONNX, and print
# a table with the time of each stage.
set -eu

usage() {
    cat <<'EOF'
usage: pipelines/search.sh [options]
  --space NAME    search space: nb201, darts, or nasrec for a click table [nb201]
  -n INT          candidates to sample (0 = every cell of an enumerable space: nb201's
                  15625) [1000]
  -k INT          top candidates to train from scratch [3]
  -j INT          scoring processes [number of cores]
  --threads INT   engine threads of train-arch for the top-k (results depend on it)
                  [the value of -j]
  --seed INT      sampling seed [1]
  --fraction F    warm-up share of the training data (0 = zero-shot) [nb201 0, the
                  setting MeCo ranks best at; other spaces 0.01] (docs/quality.md)
  --data PATH     the data: an IDX or CIFAR-10 directory, X.npy (with --labels), a .npz,
                  or class folders of images; shapes, classes and split come from it
                  (docs/data.md) [/usr/share/datasets/fashion-mnist]
  --labels FILE   labels .npy of a --data X.npy
  --layout L      nhwc or nchw for 4-d arrays [guessed]
  --holdout F     test share held out when the data has no test split [0.1]
  --input CxHxW   resize images to this (needed for folders of mixed sizes) [the data's]
  --label COL, --dense COLS, --categorical COLS
                  columns of a click table (names or 1-based ranges) [Criteo's layout]
  --epochs INT    train-arch epochs for the top-k [1]
  --train-fraction F  share of the training set for the top-k [1]
  --proxies LIST  proxies to compute (the first is the ranking key) [nb201
                  meco,params,flops, the best ranking measured; others sigeo,params,flops]
  --cache DIR     where supernet checkpoints are kept [cache]
  --out DIR       where the stage outputs go [out/search]
  --test-fraction F   share of the test set used to evaluate the top-k [1]
  --max-params N  keep only candidates with at most N parameters (scores.params) [no limit]
  --max-flops N   keep only candidates with at most N multiply-accumulates per example
                  (scores.flops) [no limit]
  --max-latency MS  keep only candidates whose measured inference time at batch 1 is at
                  most MS milliseconds (scores.latency_ms, on this machine with one engine
                  thread, while the other scoring processes run); scoring then times
                  every candidate [no limit]
  --no-save       do not keep the trained networks (OUT/models/*.model) nor OUT/best.onnx
  --parallel      score with GNU parallel instead of xargs -P
  -S LOGINS       score on other machines too (GNU parallel --sshlogin, e.g. ':,8/host2')
  --sshloginfile F    the same from a file (see pipelines/score-parallel.sh -h)
  -h, --help      this text
Outputs: OUT/candidates.mp, OUT/scored.mp, OUT/ranked.mp (the candidates within the
budget, best first), OUT/trained.mp, and unless --no-save OUT/models/<space>-<id>.model
(each trained network, docs/models.md) and OUT/best.onnx (the one of highest test accuracy).
EOF
}

here=$(cd "$(dirname "$0")/.." && pwd)
bin="${SIGEO_BIN:-$here/bin}"
# Engine threads sleep instead of spinning while they wait: with more threads than idle
# cores (other jobs, or the scoring shards) spinning stalls the run; results do not change.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
n=1000 k=3 jobs=$(nproc 2>/dev/null || echo 2) seed=1 fraction=""
data=/usr/share/datasets/fashion-mnist epochs=1 train_fraction=1 proxies=""
cache=cache out=out/search runner=xargs remote_flag="" remote_arg="" test_fraction=1
threads="" dopts="" input="" space=nb201 max_params="" max_flops="" max_latency="" save=1

die() { echo "search.sh: error: $*" >&2; exit 2; }
# Paths the scoring processes read are made absolute: score-parallel.sh runs them elsewhere.
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
# q WORD: WORD single-quoted for eval (a ' becomes '\'')
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
while [ $# -gt 0 ]; do
    case "$1" in
    --parallel|--no-save|-h|--help) ;;
    -*) [ $# -ge 2 ] || die "option $1 needs a value (see -h)" ;;
    esac
    case "$1" in
    --space) space=$2; shift ;;
    -n) n=$2; shift ;;
    -k) k=$2; shift ;;
    -j) jobs=$2; shift ;;
    --threads) threads=$2; shift ;;
    --seed) seed=$2; shift ;;
    --fraction) fraction=$2; shift ;;
    --data) data=$(abs "$2"); shift ;;
    --labels) dopts="$dopts $1 $(q "$(abs "$2")")"; shift ;;
    --layout|--holdout|--label|--dense|--categorical) dopts="$dopts $1 $(q "$2")"; shift ;;
    --input) input=$2; shift ;;
    --epochs) epochs=$2; shift ;;
    --train-fraction) train_fraction=$2; shift ;;
    --proxies) proxies=$2; shift ;;
    --cache) cache=$2; shift ;;
    --out) out=$2; shift ;;
    --parallel) runner=parallel ;;
    -S) remote_flag=-S; remote_arg=$2; runner=parallel; shift ;;
    --sshloginfile) remote_flag=--sshloginfile; remote_arg=$2; runner=parallel; shift ;;
    --test-fraction) test_fraction=$2; shift ;;
    --max-params) max_params=$2; shift ;;
    --max-flops) max_flops=$2; shift ;;
    --max-latency) max_latency=$2; shift ;;
    --no-save) save=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "search.sh: error: unknown option '$1' (see -h)" >&2; exit 2 ;;
    esac
    shift
done

# NB201 defaults to MeCo without a warm-up: the best ranking on the tuning half of the
# independent truth (docs/quality.md); SiGeo with a 1% warm-up elsewhere. The same defaults
# as rank's and warmup-supernet's (the space's rank_key and zero_shot): t_defaults.sh checks.
case "$space" in
nb201) best=meco best_fraction=0 ;;
*) best=sigeo best_fraction=0.01 ;;
esac
: "${fraction:=$best_fraction}" "${proxies:=$best,params,flops}"
# Counts are plain decimals: sh arithmetic would read 010 as octal and 08 as an error.
case "$n" in ''|*[!0-9]*|0?*) die "-n needs a decimal integer >= 0 (0 = all), not '$n'" ;; esac
case "$k" in ''|*[!0-9]*|0*) die "-k needs a decimal integer >= 1, not '$k'" ;; esac
case "$jobs" in ''|*[!0-9]*|0*) die "-j needs a decimal integer >= 1, not '$jobs'" ;; esac
# The budget: one rank --where per limit, and the proxy that writes its key added to the
# list (latency only when asked: it is measured, so it costs time and is not reproducible).
where="" budget="" latopt=""
limit() { # limit KEY VALUE PROXY
    where="$where --where scores.$1<=$2" budget="${budget:+$budget, }$1 <= $2"
    case ",$proxies," in *",$3,"*) return 0 ;; *,all,*) [ "$3" = latency ] || return 0 ;; esac
    proxies="$proxies,$3" # (all stands for every proxy but the timed latency)
}
case "$max_params" in '') ;; *[!0-9]*|0*) die "--max-params needs a decimal integer >= 1, not '$max_params'" ;;
    *) limit params "$max_params" params ;; esac
case "$max_flops" in '') ;; *[!0-9]*|0*) die "--max-flops needs a decimal integer >= 1, not '$max_flops'" ;;
    *) limit flops "$max_flops" flops ;; esac
if [ -n "$max_latency" ]; then
    awk -v v="$max_latency" 'BEGIN { exit !(v ~ /^([0-9]+[.]?[0-9]*|[.][0-9]+)$/ && v + 0 > 0) }' ||
        die "--max-latency needs a number of milliseconds > 0, not '$max_latency'"
    limit latency_ms "$max_latency" latency
    # the budget reads batch 1 only; a second timing at batch 64 would cost ~55 ms a cell
    latopt="--latency-batch 1"
fi
# Rank by the first proxy asked for (the space's default above unless --proxies says otherwise).
by=${proxies%%,*}
[ "$by" != all ] || by=$best
[ -n "$threads" ] || threads=$jobs
for t in sample-arch warmup-supernet score-sigeo rank train-arch mp2json; do
    [ -x "$bin/$t" ] || { echo "search.sh: error: $bin/$t not built (run make)" >&2; exit 2; }
done
mkdir -p "$cache" "$out"
say() { echo "search.sh: $*" >&2; }
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# 1. Warm-up, cached under a name derived from every option that changes the weights.
t0=$(now)
# Data options go to every stage that reads data: the positional parameters hold them as
# words, spaces and quotes inside a value kept.
eval "set -- $dopts"
wopts="--space $space --fraction $fraction --seed $seed${input:+ --input $input}"
# shellcheck disable=SC2086
ckpt="$cache/$("$bin/warmup-supernet" --data "$data" $wopts "$@" --cache-name)"
if [ -f "$ckpt" ]; then
    say "reusing cached supernet $ckpt"
else
    if awk -v f="$fraction" 'BEGIN { exit f + 0 != 0 }'; then say "writing the untrained supernet -> $ckpt"
    else say "warming up the supernet on ${fraction} of the training data -> $ckpt"; fi
    # shellcheck disable=SC2086
    "$bin/warmup-supernet" --data "$data" $wopts "$@" -o "$ckpt"
fi
t1=$(now)

# 2. Candidates, with the space parameters (input shape, classes) of the supernet.
if [ "$n" -eq 0 ]; then
    "$bin/sample-arch" --supernet "$ckpt" --all > "$out/candidates.mp"
else
    "$bin/sample-arch" --supernet "$ckpt" -n "$n" --seed "$seed" > "$out/candidates.mp"
fi
t2=$(now)

# 3. Scoring, one shard per process (pipelines/score-parallel.sh); rank merges them.
say "scoring $( [ "$n" -eq 0 ] && echo all || echo "$n") candidates with $jobs processes ($runner)"
# shellcheck disable=SC2086
SIGEO_BIN="$bin" "$here/pipelines/score-parallel.sh" --supernet "$ckpt" -j "$jobs" ${remote_flag:+"$remote_flag" "$remote_arg"} \
    --runner "$runner" -- --data "$data" "$@" --proxies "$proxies" $latopt -q < "$out/candidates.mp" > "$out/scored.mp"
t3=$(now)

# 4. Keep the candidates within the budget, rank them and train the top-k from scratch.
# (files, not a pipe: set -e sees every stage's status; POSIX sh has no pipefail)
count() { "$bin/mp2json" < "$1" | wc -l | tr -d ' '; }
# shellcheck disable=SC2086
"$bin/rank" --by "scores.$by" $where < "$out/scored.mp" > "$out/ranked.mp"
if [ -n "$where" ]; then
    n_all=$(count "$out/scored.mp") n_in=$(count "$out/ranked.mp")
    say "$n_in of $n_all candidates within the budget ($budget)"
    if [ "$n_in" -eq 0 ]; then
        # the smallest value of each limited key, to say how far off the budget is
        least=$(for key in $(echo "$where" | sed 's/--where scores\.//g; s/<=[^ ]*//g'); do
            "$bin/rank" --by "scores.$key" --ascending --top 1 < "$out/scored.mp" | "$bin/mp2json" |
                sed "s/.*\"$key\":\([^,}]*\).*/\1/" | awk -v k="$key" '{ printf "%s %.6g\n", k, $1 }'
        done | paste -sd, - | sed 's/,/, /g')
        echo "search.sh: error: no candidate within the budget ($budget); the smallest" \
             "among the $n_all scored: $least" >&2
        exit 1
    fi
fi
models="$out/models" saving=""
if [ "$save" = 1 ]; then
    saving=1
    # this run's models only: earlier runs' files would read as this run's
    if [ -d "$models" ]; then find "$models" -maxdepth 1 -type f -name '*.model' -exec rm -f {} +; fi
fi
say "training the top $k by $by from scratch ($epochs epoch(s), $threads thread(s))"
"$bin/rank" --by "scores.$by" --top "$k" < "$out/ranked.mp" > "$out/top.mp"
# shellcheck disable=SC2086
"$bin/train-arch" --threads "$threads" --epochs "$epochs" --fraction "$train_fraction" \
    --test-fraction "$test_fraction" --data "$data" "$@" ${saving:+--save "$models"} -q \
    < "$out/top.mp" > "$out/trained.mp"
t4=$(now)

# 5. The best trained network (highest test accuracy) as ONNX.
best="" onnx=""
if [ "$save" = 1 ]; then
    best=$("$bin/rank" --by truth.test_acc --top 1 < "$out/trained.mp" | "$bin/mp2json" |
        sed -n 's/.*"model":"\([^"]*\)".*/\1/p')
    if [ -x "$bin/export-onnx" ]; then
        "$bin/export-onnx" "$best" -o "$out/best.onnx"
        onnx="$out/best.onnx"
    else
        say "$bin/export-onnx not built: no best.onnx"
    fi
fi
t5=$(now)

# 6. The table.
if [ "$save" = 1 ]; then printf 'rank  test_acc  %-12s %-28s cell\n' "$by" model
else printf 'rank  test_acc  %-12s cell\n' "$by"; fi
"$bin/mp2json" < "$out/trained.mp" > "$out/trained.jsonl"
awk -v by="\"$by\":" -v save="$save" '
{
    acc = $0; sub(/.*"test_acc":/, "", acc); sub(/[,}].*/, "", acc)
    sc = substr($0, index($0, by) + length(by)); sub(/[,}].*/, "", sc)
    arch = $0; sub(/.*"arch":"/, "", arch); sub(/".*/, "", arch)
    model = $0; sub(/.*"model":"/, "", model); sub(/".*/, "", model)
    if (save) printf "%-5d %-9.4f %-12.4f %-28s %s\n", NR, acc, sc, model, arch
    else printf "%-5d %-9.4f %-12.4f %s\n", NR, acc, sc, arch
}' "$out/trained.jsonl"
echo
[ -z "$budget" ] || echo "budget: $budget ($n_in of $n_all candidates within it)"
[ -z "$best" ] || echo "best model: $best"
[ -z "$onnx" ] || echo "best model as ONNX: $onnx"
printf 'stage seconds: warm-up %s, sample %s, score %s, rank+train %s, export %s, total %s\n' \
    "$(dt "$t0" "$t1")" "$(dt "$t1" "$t2")" "$(dt "$t2" "$t3")" "$(dt "$t3" "$t4")" "$(dt "$t4" "$t5")" \
    "$(dt "$t0" "$t5")"
