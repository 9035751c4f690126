#!/bin/sh
# search.sh — the whole sub-one-shot search as one command:
# warm up (or reuse a cached supernet), sample candidates, score them in parallel on all
# cores, rank, train the top-k from scratch, and print a table with the time of each stage.
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
  --fraction F    warm-up share of the training data (0 = zero-shot) [0.01]
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
  --proxies LIST  proxies to compute (sigeo is the ranking key) [sigeo,params,flops]
  --cache DIR     where supernet checkpoints are kept [cache]
  --out DIR       where the stage outputs go [out/search]
  --test-fraction F   share of the test set used to evaluate the top-k [1]
  --parallel      score with GNU parallel instead of xargs -P
  -S LOGINS       score on other machines too (GNU parallel --sshlogin, e.g. ':,8/host2')
  --sshloginfile F    the same from a file (see pipelines/score-parallel.sh -h)
  -h, --help      this text
Outputs: OUT/candidates.mp, OUT/scored.mp, OUT/ranked.mp, OUT/trained.mp.
EOF
}

here=$(cd "$(dirname "$0")/.." && pwd)
bin="${SIGEO_BIN:-$here/bin}"
n=1000 k=3 jobs=$(nproc 2>/dev/null || echo 2) seed=1 fraction=0.01
data=/usr/share/datasets/fashion-mnist epochs=1 train_fraction=1 proxies=sigeo,params,flops
cache=cache out=out/search runner=xargs remote_flag="" remote_arg="" test_fraction=1
threads="" dopts="" input="" space=nb201

die() { echo "search.sh: error: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --parallel|-h|--help) ;;
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
    --data) data=$2; shift ;;
    --labels|--layout|--holdout|--label|--dense|--categorical) dopts="$dopts $1 $2"; shift ;;
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
    -h|--help) usage; exit 0 ;;
    *) echo "search.sh: error: unknown option '$1' (see -h)" >&2; exit 2 ;;
    esac
    shift
done

# Counts are plain decimals: sh arithmetic would read 010 as octal and 08 as an error.
case "$n" in ''|*[!0-9]*|0?*) die "-n needs a decimal integer >= 0 (0 = all), not '$n'" ;; esac
case "$k" in ''|*[!0-9]*|0*) die "-k needs a decimal integer >= 1, not '$k'" ;; esac
case "$jobs" in ''|*[!0-9]*|0*) die "-j needs a decimal integer >= 1, not '$jobs'" ;; esac
# Rank by the first proxy asked for (sigeo unless --proxies says otherwise).
by=${proxies%%,*}
[ "$by" != all ] || by=sigeo
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
# Data options go to every stage that reads data ($dopts has no spaces inside a value).
wopts="--space $space --fraction $fraction --seed $seed $dopts${input:+ --input $input}"
# shellcheck disable=SC2086
ckpt="$cache/$("$bin/warmup-supernet" --data "$data" $wopts --cache-name)"
if [ -f "$ckpt" ]; then
    say "reusing cached supernet $ckpt"
else
    say "warming up the supernet on ${fraction} of the training data -> $ckpt"
    # shellcheck disable=SC2086
    "$bin/warmup-supernet" --data "$data" $wopts -o "$ckpt"
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
SIGEO_BIN="$bin" "$here/pipelines/score-parallel.sh" --supernet "$ckpt" -j "$jobs" ${remote_flag:+"$remote_flag" "$remote_arg"} \
    --runner "$runner" -- --data "$data" $dopts --proxies "$proxies" -q < "$out/candidates.mp" > "$out/scored.mp"
t3=$(now)

# 4. Rank and train the top-k from scratch.
# (files, not a pipe: set -e sees every stage's status; POSIX sh has no pipefail)
"$bin/rank" --by "scores.$by" < "$out/scored.mp" > "$out/ranked.mp"
say "training the top $k by $by from scratch ($epochs epoch(s), $threads thread(s))"
"$bin/rank" --by "scores.$by" --top "$k" < "$out/scored.mp" > "$out/top.mp"
"$bin/train-arch" --threads "$threads" --epochs "$epochs" --fraction "$train_fraction" \
    --test-fraction "$test_fraction" --data "$data" $dopts -q < "$out/top.mp" > "$out/trained.mp"
t4=$(now)

# 5. The table.
printf 'rank  test_acc  %-12s cell\n' "$by"
"$bin/mp2json" < "$out/trained.mp" > "$out/trained.jsonl"
awk -v by="\"$by\":" '
{
    acc = $0; sub(/.*"test_acc":/, "", acc); sub(/[,}].*/, "", acc)
    sc = substr($0, index($0, by) + length(by)); sub(/[,}].*/, "", sc)
    arch = $0; sub(/.*"arch":"/, "", arch); sub(/".*/, "", arch)
    printf "%-5d %-9.4f %-12.4f %s\n", NR, acc, sc, arch
}' "$out/trained.jsonl"
echo
printf 'stage seconds: warm-up %s, sample %s, score %s, rank+train %s, total %s\n' \
    "$(dt "$t0" "$t1")" "$(dt "$t1" "$t2")" "$(dt "$t2" "$t3")" "$(dt "$t3" "$t4")" "$(dt "$t0" "$t4")"
