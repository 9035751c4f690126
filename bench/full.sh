#!/bin/sh
# full.sh — score all 15,625 NB201 cells with the default sigeo on a 1% warm-up, two
# processes (one shard each), and report the wall time and each process's peak RSS.
#   usage: bench/full.sh [BIN_DIR] [PROXIES]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin} proxies=${2:-sigeo}
out=bench/out/full
mkdir -p "$out"
"$bin/warmup-supernet" --fraction 0.01 -q -o "$out/sn.ckpt"
"$bin/sample-arch" --all > "$out/all.mp"
t0=$(date +%s.%N)
for s in 0 1; do
    /usr/bin/time -v "$bin/score-sigeo" --supernet "$out/sn.ckpt" --proxies "$proxies" -q \
        --shard $s/2 < "$out/all.mp" > "$out/shard.$s.mp" 2> "$out/time.$s" &
done
wait
t1=$(date +%s.%N)
cat "$out/shard.0.mp" "$out/shard.1.mp" | "$bin/rank" --top 5 --format table
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "15625 cells, 2 processes, proxies '"$proxies"': %.1f s wall\n", b - a }'
grep -h "Maximum resident" "$out/time.0" "$out/time.1"
