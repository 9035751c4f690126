#!/bin/sh
# Warm-up throughput: warmup-supernet against PyTorch (bench/warmup_torch.py) on the same
# supernet, data share, batch and thread count, one after the other in the same run; plus
# the wall time of the whole warm-up with defaults (10% of Fashion-MNIST, 1 epoch).
#
#   bench/warmup.sh [THREADS [FRACTION]]      (make bench-warmup)
#
# Prints one line per implementation and the ratio. Needs bin/warmup-supernet (make) and,
# for the comparison, /usr/bin/python3 with torch.
cd "$(dirname "$0")/.." || exit 2
threads=${1:-1}
fraction=${2:-0.1}
tmp=$(mktemp -d) || exit 3
trap 'rm -rf "$tmp"' EXIT INT TERM
[ -x bin/warmup-supernet ] || { echo "bench/warmup.sh: build first (make)" >&2; exit 2; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); threads $threads, fraction $fraction, batch 64, C=8 N=1, Fashion-MNIST"
start=$(date +%s.%N)
bin/warmup-supernet --threads "$threads" --fraction "$fraction" --progress \
    -o "$tmp/s.ckpt" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
end=$(date +%s.%N)
c_ips=$(grep -o '[0-9]* img/s' "$tmp/err" | tail -n 1 | cut -d' ' -f1)
steps=$(grep -o 'step [0-9]*/[0-9]*' "$tmp/err" | tail -n 1)
echo "sigeo: $steps, $c_ips img/s (training loop); whole run $(echo "$end - $start" | bc) s wall (data loading included)"

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "torch: not installed (/usr/bin/python3 -c 'import torch' fails); comparison skipped"
    exit 0
fi
/usr/bin/python3 bench/warmup_torch.py --threads "$threads" --fraction "$fraction" >"$tmp/torch" ||
    exit 1
cat "$tmp/torch"
t_ips=$(grep -o '[0-9]* img/s' "$tmp/torch" | cut -d' ' -f1)
echo "ratio sigeo/torch: $(echo "scale=2; $c_ips / $t_ips" | bc)x (target >= 2x)"
