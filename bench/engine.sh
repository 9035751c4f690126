#!/bin/sh
# engine.sh — forward+backward throughput of the NB201 network (C=8, N=1, batch 64,
# 1x28x28): the engine vs PyTorch with the same number of threads, measured in the same
# run, plus the engine's GFLOP/s against cblas_sgemm's peak.
# usage: bench/engine.sh [THREADS [SECONDS_PER_CELL]]   (defaults 1 and 3)
#        PROFILE=1 bench/engine.sh ...   adds CPU ms/step per op type
# Ratios use CPU time per step as well as wall time: on a shared machine wall time
# mostly measures the neighbours.
set -e
cd "$(dirname "$0")/.."
t=${1:-1}
s=${2:-3}
make -s build/bench/bench_engine
bin=build/bench/bench_engine
if [ -n "$PROFILE" ]; then
    # per-op CPU time: net.c compiled into the bench with -DNET_PROFILE
    bin=build/bench/bench_engine_prof
    ${CC:-cc} -O2 -g -fopenmp -std=c11 -D_POSIX_C_SOURCE=200809L -DNET_PROFILE -Iinclude \
        $(pkg-config --cflags openblas) -o $bin bench/bench_engine.c src/engine/net.c \
        build/libsigeo.a $(pkg-config --libs openblas) -lm
fi
export OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$bin -s "$s" -t "$t" | tee "$tmp/c"
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "engine.sh: torch is not installed for /usr/bin/python3: no comparison"
    exit 0
fi
/usr/bin/python3 bench/engine_torch.py -t "$t" -s "$s" | tee "$tmp/t"
# ratio = torch time per step / engine time per step (> 1: the engine is faster)
for cell in all-conv3 mixed; do
    c_wall=$(awk -v c=$cell '$1 == c {print $4}' "$tmp/c")
    c_cpu=$(awk -v c=$cell '$1 == c {gsub(/\(/, ""); for (i = 1; i < NF; i++) if ($(i+1) == "CPU") print $i}' "$tmp/c")
    t_wall=$(awk -v c=$cell '$1 == c {print $4}' "$tmp/t")
    t_cpu=$(awk -v c=$cell '$1 == c {gsub(/\(/, ""); print $6}' "$tmp/t")
    awk -v c=$cell -v cw="$c_wall" -v cc="$c_cpu" -v tw="$t_wall" -v tc="$t_cpu" -v t=$t 'BEGIN {
        printf "%-10s threads=%s  engine/torch speed: %.2fx by wall time, %.2fx by CPU time\n",
               c, t, tw / cw, tc / cc }'
done
