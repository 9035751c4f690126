#!/bin/sh
# plot.sh — scatter plot of the default SiGeo score (1% warm-up) against the ground-truth
# test accuracy, docs/sigeo-vs-acc.svg. Needs bench/study.sh's output and gnuplot.
#   usage: bench/plot.sh [FRACTION]
set -eu
cd "$(dirname "$0")/.."
f=${1:-0.01}
tsv=bench/out/study/plot-$f.tsv
/usr/bin/python3 - "$f" "$tsv" <<'PY'
import json, math, sys, msgpack
f, out = sys.argv[1], sys.argv[2]
truth = {}
for line in open("bench/data/gt-seed1.jsonl"):
    r = json.loads(line)
    truth[r["index"]] = r["truth"]["test_acc"]
pts = []
for r in msgpack.Unpacker(open(f"bench/out/study/default-{f}.mp", "rb"), raw=False):
    s = r["scores"]["sigeo"]
    if s == s and math.isfinite(s):
        pts.append((s, 100 * truth[r["index"]]))
# x range: the 10th percentile down to the best, so the long tail of low scores does not
# squash the cloud; the title says how many points fall off the left edge
xs = sorted(p[0] for p in pts)
lo = xs[len(xs) // 10]
with open(out, "w") as w:
    for s, a in pts:
        w.write(f"{s}\t{a}\n")
with open(out + ".range", "w") as w:
    w.write(f"{lo} {xs[-1] + 0.05 * (xs[-1] - lo)} {sum(1 for x in xs if x < lo)}\n")
PY
read xlo xhi nleft < "$tsv.range"
gnuplot <<GP
set terminal svg size 640,420 font "sans,11"
set output "docs/sigeo-vs-acc.svg"
set title "Default SiGeo score (${f} warm-up) vs test accuracy, random NB201 cells\n(${nleft} lower-scored cells left of the plot)"
set xrange [${xlo}:${xhi}]
set xlabel "sigeo (higher = predicted better)"
set ylabel "test accuracy (%)"
set yrange [75:87]
set grid
plot "$tsv" using 1:2 with points pt 7 ps 0.6 lc rgb "#1f77b4" notitle
GP
echo "wrote docs/sigeo-vs-acc.svg (cells with a NaN score, whose output ignores the input, and accuracies below 75% are off the plot)"
