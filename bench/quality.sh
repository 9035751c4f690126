#!/bin/sh
# quality.sh — the independent-truth study of docs/quality.md in one command: warm-ups of
# 0/1/5/10/20%, every proxy (--proxies all) and the default sigeo on the cells of a TSV
# truth (arch, test_acc_mean), then the tables (tau and rho on all, tuning and held-out
# cells, top-1 / best of top-5 / top-10 accuracy, cost) to bench/out/quality-tables.md.
#   usage: bench/quality.sh [TRUTH_TSV] [BIN_DIR]   (~15 min on the idle 2-core machine)
#   tables from stored scores only: GT1=TRUTH bench/study.py bench/data/study-ind224
set -eu
cd "$(dirname "$0")/.."
truth=${1:-../shared/truth/nb201-c8n1-fmnist-e1.tsv}
bin=${2:-bin}
out=${OUT:-bench/out/quality}
CELLS=$truth OUT=$out bench/study.sh "$bin"
GT1=$truth /usr/bin/python3 bench/study.py "$out" > bench/out/quality-tables.md
echo "tables: bench/out/quality-tables.md"
