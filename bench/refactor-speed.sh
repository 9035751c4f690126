#!/bin/sh
# refactor-speed.sh — speed before and after a refactor, measured alternately in one run:
# builds BASE (default 31b9ccf, the tree before the src/ layout change) in a temporary git
# worktree and the current tree, then for ROUNDS rounds runs A then B of
#   - bench_engine (bench/engine.sh's step: NB201 C=8 N=1 batch 64, 1 thread, SECONDS per
#     cell): ms per forward+backward step, wall (best) and CPU (mean);
#   - score-sigeo --proxies PROXIES over the same CELLS random cells (sample-arch --seed 1)
#     with one supernet (warmup-supernet --fraction 0.01 from the current tree; both trees
#     read the same format): seconds wall and CPU;
# and prints the per-round numbers and a table of medians with the ratio after/before.
# The scored records of A and B must be byte-identical (checked). CELLS "all" scores all
# 15,625 NB201 cells (sample-arch --all) in one process, about 22 CPU-minutes per side.
# usage: bench/refactor-speed.sh [BASE [ROUNDS [SECONDS [CELLS]]]]   [31b9ccf 3 3 1000]
#        PROXIES=sigeo,zico bench/refactor-speed.sh ...                [sigeo]
# A tiny run to see that it works: bench/refactor-speed.sh 31b9ccf 1 0.3 20
set -eu
cd "$(dirname "$0")/.."
base=${1:-31b9ccf}
rounds=${2:-3}
secs=${3:-3}
cells=${4:-1000}
proxies=${PROXIES:-sigeo}
tmp=$(mktemp -d)
cleanup() {
    git worktree remove --force "$tmp/a" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
git worktree add --quiet --detach "$tmp/a" "$base"
# B is the tree as it is now (a commit made during the run must not rename it)
head=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src include || head="$head+changes"
echo "refactor-speed: building $base (A) and the current tree $head (B)" >&2
(cd "$tmp/a" && make -s -j2 all build/bench/bench_engine >/dev/null)
make -s -j2 all build/bench/bench_engine >/dev/null
A=$tmp/a
B=$PWD
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

bin/warmup-supernet --fraction 0.01 -q -o "$tmp/sn.ckpt"
if [ "$cells" = all ]; then
    bin/sample-arch --all > "$tmp/cells.mp"
else
    bin/sample-arch -n "$cells" --seed 1 > "$tmp/cells.mp"
fi

# cputime CMD...: runs CMD, prints "wall cpu" seconds of it and its children (stdout of
# CMD to $tmp/out)
cputime() {
    /usr/bin/python3 - "$@" <<'PY'
import os, subprocess, sys, time
t0, c0 = time.monotonic(), os.times()
with open(os.environ["OUT"], "wb") as out:
    subprocess.run(sys.argv[1:], stdin=open(os.environ["IN"], "rb"), stdout=out, check=True)
c1 = os.times()
print("%.3f %.3f" % (time.monotonic() - t0, (c1.children_user - c0.children_user) +
                     (c1.children_system - c0.children_system)))
PY
}

: > "$tmp/rows"
for r in $(seq 1 "$rounds"); do
    for side in A B; do
        eval "dir=\$$side"
        # engine step: "all-conv3 ... X ms/step ... (..., Y CPU ms/step)"
        "$dir/build/bench/bench_engine" -s "$secs" -t 1 > "$tmp/e"
        for cell in all-conv3 mixed; do
            awk -v c=$cell -v s=$side -v r=$r '$1 == c {
                for (i = 1; i <= NF; i++) if ($i == "ms/step") w = $(i - 1);
                gsub(/\(/, ""); for (i = 1; i < NF; i++) if ($(i + 1) == "CPU") u = $i;
                print r, s, "step-" c, w, u }' "$tmp/e" >> "$tmp/rows"
        done
        t=$(IN=$tmp/cells.mp OUT=$tmp/score.$side cputime "$dir/bin/score-sigeo" \
            --supernet "$tmp/sn.ckpt" --proxies "$proxies" -q)
        echo "$r $side score-$cells $t" >> "$tmp/rows"
    done
    if ! cmp -s "$tmp/score.A" "$tmp/score.B"; then
        echo "refactor-speed: the scored records of $base and the current tree differ" >&2
        exit 1
    fi
done
echo "# per round: round side measure wall cpu (ms for steps, s for scoring)"
cat "$tmp/rows"
/usr/bin/python3 - "$tmp/rows" "$base" "$head" "$rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
base, head, rounds = sys.argv[2], sys.argv[3], sys.argv[4]
med = {}
for r, side, m, wall, cpu in rows:
    med.setdefault((m, side), []).append((float(wall), float(cpu)))
print("# medians over %s alternating rounds: A = %s, B = %s; ratio B/A (< 1: faster after)"
      % (rounds, base, head))
print("%-18s %10s %10s %10s %10s %8s %8s" % ("measure", "A wall", "B wall", "A cpu", "B cpu",
                                              "wall B/A", "cpu B/A"))
for m in sorted({m for m, _ in med}):
    a, b = med[(m, "A")], med[(m, "B")]
    aw, bw = statistics.median(x[0] for x in a), statistics.median(x[0] for x in b)
    ac, bc = statistics.median(x[1] for x in a), statistics.median(x[1] for x in b)
    print("%-18s %10.3f %10.3f %10.3f %10.3f %8.3f %8.3f" % (m, aw, bw, ac, bc, bw / aw, bc / ac))
PY
