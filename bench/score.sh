#!/bin/sh
# Scoring throughput: score-sigeo --proxies sigeo --paper against the same SiGeo computation in
# PyTorch (bench/score_torch.py) on the same candidates, supernet, batches and thread
# count, one after the other in the same run, with the scores cross-checked; then the wall
# time and peak RSS of two score-sigeo processes (--shard 0/2, 1/2) over N random cells,
# for SiGeo alone and for every default proxy, extrapolated to all 15,625 NB201 cells.
#
#   bench/score.sh [N_TORCH [N_FULL]]          (make bench-score; defaults 50 and 500)
#   ROUNDS=3: alternating C/torch rounds, best of each kept (the machine is shared)
#
# Uses an untrained supernet (warmup-supernet --fraction 0, C=8 N=1, Fashion-MNIST) and
# one OpenBLAS/torch thread per process. Needs bin/ (make); torch is optional.
cd "$(dirname "$0")/.." || exit 2
n_torch=${1:-50}
n_full=${2:-500}
tmp=$(mktemp -d) || exit 3
trap 'rm -rf "$tmp"' EXIT INT TERM
for t in warmup-supernet sample-arch score-sigeo; do
    [ -x bin/$t ] || { echo "bench/score.sh: build first (make)" >&2; exit 2; }
done
PATH="$PWD/bin:$PATH"
export OPENBLAS_NUM_THREADS=1

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); C=8 N=1 1x28x28, batch 64, K=4, 1 thread per process"
warmup-supernet --fraction 0 -q -o "$tmp/sn.ckpt" || exit 1
sample-arch -n "$n_torch" --seed 11 > "$tmp/a.mp" || exit 1

# 1. score-sigeo vs PyTorch, same candidates, SiGeo only, data loading excluded on both
# sides (the C side minus a zero-candidate run). The machine is shared, so the two
# alternate for ROUNDS rounds and each keeps its best round.
rounds=${ROUNDS:-3}
t() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -n 1; }
have_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && have_torch=1
c_best="" t_best="" tt=""
for r in $(seq "$rounds"); do
    t0=$(t score-sigeo --supernet "$tmp/sn.ckpt" --proxies sigeo --paper --no-memo < /dev/null)
    t1=$(t score-sigeo --supernet "$tmp/sn.ckpt" --proxies sigeo --paper --no-memo < "$tmp/a.mp")
    c=$(echo "$t1 - $t0" | bc)
    if [ -z "$c_best" ] || [ "$(echo "$c < $c_best" | bc)" = 1 ]; then c_best=$c; fi
    if [ $have_torch = 1 ]; then
        /usr/bin/python3 bench/score_torch.py --threads 1 --supernet "$tmp/sn.ckpt" \
            --archs "$tmp/a.mp" --out "$tmp/t.jsonl" > "$tmp/torch" || exit 1
        tt=$(grep -o 'in [0-9.]* s' "$tmp/torch" | cut -d' ' -f2)
        if [ -z "$t_best" ] || [ "$(echo "$tt < $t_best" | bc)" = 1 ]; then t_best=$tt; fi
    fi
    echo "round $r: sigeo $c s, torch ${tt:-n/a} s for $n_torch candidates (load $(cut -d' ' -f1 /proc/loadavg))"
done
score-sigeo --supernet "$tmp/sn.ckpt" --proxies sigeo --paper --no-memo < "$tmp/a.mp" > "$tmp/c.mp"
c_cps=$(echo "scale=3; $n_torch / $c_best" | bc)
echo "sigeo: $n_torch candidates in $c_best s (best of $rounds), $c_cps candidates/s"
if [ $have_torch = 1 ]; then
    t_cps=$(echo "scale=3; $n_torch / $t_best" | bc)
    echo "torch: $n_torch candidates in $t_best s (best of $rounds), $t_cps candidates/s"
    echo "ratio sigeo/torch: $(echo "scale=2; $c_cps / $t_cps" | bc)x (target >= 2x)"
    /usr/bin/python3 - "$tmp/c.mp" "$tmp/t.jsonl" <<'EOF'
import json, msgpack, sys
from scipy.stats import kendalltau
c = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
t = [json.loads(l) for l in open(sys.argv[2])]
assert [r["arch"] for r in c] == [r["arch"] for r in t]
for k, kk in (("sigeo", "sigeo"), ("s1", "sigeo_s1"), ("s2", "sigeo_s2"), ("loss", "sigeo_loss")):
    d = max(abs(a[k] - b["scores"][kk]) / max(1.0, abs(a[k])) for a, b in zip(t, c))
    print("cross-check %-5s max rel diff C vs torch %.2e" % (k, d))
tau = kendalltau([a["sigeo"] for a in t], [b["scores"]["sigeo"] for b in c])[0]
print("cross-check Kendall tau of the two sigeo rankings: %.4f" % tau)
EOF
else
    echo "torch: not installed (/usr/bin/python3 -c 'import torch' fails); comparison skipped"
fi

# 2. Two processes over N_FULL random cells: wall time, peak RSS, extrapolation to 15,625.
sample-arch -n "$n_full" --seed 12 > "$tmp/full.mp" || exit 1
for set in sigeo default; do
    px=""
    [ $set = sigeo ] && px="--proxies sigeo"
    start=$(date +%s.%N)
    for s in 0 1; do
        /usr/bin/time -v score-sigeo --supernet "$tmp/sn.ckpt" $px --shard $s/2 < "$tmp/full.mp" \
            > "$tmp/out$s.mp" 2> "$tmp/time$s" &
    done
    wait
    end=$(date +%s.%N)
    wall=$(echo "$end - $start" | bc)
    rss0=$(grep 'Maximum resident' "$tmp/time0" | grep -o '[0-9]*$')
    rss1=$(grep 'Maximum resident' "$tmp/time1" | grep -o '[0-9]*$')
    echo "$set: $n_full cells, 2 processes: $wall s wall, peak RSS $((rss0 / 1024)) MB / $((rss1 / 1024)) MB;" \
        "all 15625 cells: ~$(echo "scale=1; $wall * 15625 / $n_full / 60" | bc) min (extrapolated)"
done
