#!/bin/sh
# latency.sh — score-sigeo --proxies latency on two NB201 networks, one engine thread:
# the largest cell of the default space (C=8, N=1, every edge a 3x3 conv) and the same
# cell at C=16, N=5 (NAS-Bench-201's size), both on 1x28x28, batch 1 and 64, the median of
# 21 timed runs; then the 1000 candidates of the main job (sample-arch -n 1000 --seed 1)
# timed twice, to show how much the measurement moves between runs.
#   usage: bench/latency.sh [BIN_DIR]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin}
out=bench/out/latency
mkdir -p "$out"
cell='|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for size in "8 1" "16 5"; do
    set -- $size
    "$bin/warmup-supernet" --fraction 0 --channels "$1" --cells "$2" -q -o "$out/sn-$1-$2.ckpt"
    "$bin/sample-arch" --supernet "$out/sn-$1-$2.ckpt" -n 1 | "$bin/mp2json" |
        sed "s/\"arch\":\"[^\"]*\"/\"arch\":\"$cell\"/; s/\"index\":[0-9]*,//" | "$bin/json2mp" |
        "$bin/score-sigeo" --supernet "$out/sn-$1-$2.ckpt" --proxies params,flops,latency \
            --latency-batch 64 --latency-repeats 21 --threads 1 -q | "$bin/mp2json" |
        sed 's/.*"scores"://; s/}}$/}/' | sed "s/^/C=$1 N=$2: /"
done
"$bin/sample-arch" -n 1000 --seed 1 > "$out/c1000.mp"
for run in 1 2; do
    t0=$(date +%s.%N)
    "$bin/score-sigeo" --supernet "$out/sn-8-1.ckpt" --proxies params,flops,latency -q \
        < "$out/c1000.mp" > "$out/s1000-$run.mp"
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "1000 candidates, run '"$run"': %.1f s\n", b - a }'
done
/usr/bin/python3 - "$out" <<'PY'
import msgpack, statistics, sys
from scipy.stats import kendalltau
rd = lambda f: [r["scores"] for r in msgpack.Unpacker(open(f"{sys.argv[1]}/{f}", "rb"), raw=False)]
a, b = rd("s1000-1.mp"), rd("s1000-2.mp")
la, lb = [x["latency_ms"] for x in a], [x["latency_ms"] for x in b]
q = sorted(la)
print(f"latency_ms over 1000 cells: min {q[0]:.4f}, median {q[500]:.4f}, max {q[-1]:.4f}")
r = sorted(y / x for x, y in zip(la, lb))
print(f"run 2 / run 1 per cell: median {r[500]:.3f}, 5% {r[50]:.3f}, 95% {r[950]:.3f}; "
      f"Kendall tau between the runs {kendalltau(la, lb)[0]:.3f}, "
      f"with flops {kendalltau(la, [x['flops'] for x in a])[0]:.3f}")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
