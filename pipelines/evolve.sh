#!/bin/sh
# evolve.sh — regularized evolution (Real et al. 2019, "aging evolution") over any space,
# as a loop over the existing filters: sample-arch, score-sigeo, rank --top 1, mutate-arch.
#
#   pipelines/evolve.sh --space nasrec --supernet sn.ckpt --population 20 --sample 5 \
#       --generations 40 > history.mp
#
# Population: --population random candidates, scored. Each generation draws --sample members
# uniformly without replacement, the best of them (by --key) is the parent, its mutated
# child is scored and joins the population, and the oldest member dies. stdout: every
# candidate evaluated (initial population and children, with "generation"), best first.
# Deterministic for a given --seed. Needs bin/ on PATH (or SIGEO_BIN).
set -eu

usage() {
    cat <<EOF
usage: evolve.sh --supernet FILE [options] > history.mp
  --space NAME        search space [nasrec]
  --supernet FILE     supernet checkpoint for score-sigeo (required)
  --population INT    population size [20]
  --sample INT        tournament sample size [5]
  --generations INT   children to evaluate [40]
  --key KEY           score that ranks candidates [the space's, as rank's default:
                      scores.meco for nb201, scores.sigeo otherwise]
  --proxies LIST      proxies score-sigeo computes [the key's proxy]
  --seed INT          random seed [1]
  --data PATH         data for score-sigeo [the checkpoint's]
  --cells INT, --channels INT   space parameters passed to sample-arch
  -h, --help          this text
EOF
}

space=nasrec supernet= P=20 S=5 G=40 key= proxies= seed=1 data= extra=
while [ $# -gt 0 ]; do
    case $1 in
    --space) space=$2; shift 2 ;;
    --supernet) supernet=$2; shift 2 ;;
    --population) P=$2; shift 2 ;;
    --sample) S=$2; shift 2 ;;
    --generations) G=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --proxies) proxies=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --cells|--channels) extra="$extra $1 $2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "evolve.sh: error: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
# the space's default ranking, as rank and warmup-supernet have it (docs/quality.md)
case "$space" in nb201) : "${key:=scores.meco}" ;; *) : "${key:=scores.sigeo}" ;; esac
: "${proxies:=${key#scores.}}"
[ -n "$supernet" ] || { echo "evolve.sh: error: --supernet FILE is required" >&2; exit 2; }
for v in "$P" "$S" "$G" "$seed"; do
    case $v in ''|*[!0-9]*) echo "evolve.sh: error: '$v' is not a non-negative integer" >&2; exit 2 ;; esac
done
[ "$S" -ge 1 ] && [ "$S" -le "$P" ] || { echo "evolve.sh: error: need 1 <= --sample <= --population" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
command -v score-sigeo > /dev/null 2>&1 || PATH=$here/bin:$PATH
[ -n "${SIGEO_BIN:-}" ] && PATH=$SIGEO_BIN:$PATH
die() { echo "evolve.sh: error: $*" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/evolve.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
score() {
    if [ -n "$data" ]; then score-sigeo -q --supernet "$supernet" --proxies "$proxies" --data "$data"
    else score-sigeo -q --supernet "$supernet" --proxies "$proxies"; fi
}

# population, oldest first, one JSON record per line
# shellcheck disable=SC2086
sample-arch --space "$space" -n "$P" --seed "$seed" $extra | score | mp2json > "$tmp/pop"
[ "$(wc -l < "$tmp/pop")" -eq "$P" ] || die "scoring the initial population failed"
cp "$tmp/pop" "$tmp/hist"
g=1
while [ "$g" -le "$G" ]; do
    # tournament: S distinct members drawn with awk's seeded generator
    awk -v s="$((seed * 100003 + g))" -v k="$S" 'BEGIN { srand(s) } { l[NR] = $0 }
        END { for (i = 1; i <= k; i++) { j = i + int(rand() * (NR - i + 1)); t = l[i]; l[i] = l[j]; l[j] = t; print l[i] } }' \
        "$tmp/pop" | json2mp | rank --by "$key" --top 1 |
        mutate-arch --children 1 --seed "$((seed * 1000003 + g))" | score | mp2json |
        sed "s/^{/{\"generation\":$g,/" > "$tmp/child"
    [ "$(wc -l < "$tmp/child")" -eq 1 ] || die "generation $g produced no scored child"
    cat "$tmp/child" >> "$tmp/pop"
    cat "$tmp/child" >> "$tmp/hist"
    tail -n +2 "$tmp/pop" > "$tmp/pop.next" && mv "$tmp/pop.next" "$tmp/pop" # the oldest dies
    g=$((g + 1))
done
json2mp < "$tmp/hist" | rank --by "$key"
