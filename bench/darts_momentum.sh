#!/bin/sh
# darts_momentum.sh — does warmup-supernet's momentum matter on darts? Warms up the darts
# supernet on 1% and 5% of 16x16 Fashion-MNIST (bench/fmnist16.py) with SGD momentum 0.9
# and 0, scores the 60 ground-truth genotypes (bench/data/darts-gt-seed1.jsonl) with
# sigeo, meco and jacov, and prints Kendall tau against the negated mean training loss and
# the test accuracy of that truth (docs/darts.md). One process, ~10 CPU-minutes.
#   usage: bench/darts_momentum.sh [BIN_DIR]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-bin} tmp=bench/out/darts-momentum data=bench/out/fmnist16.npz
mkdir -p "$tmp"
[ -s "$data" ] || /usr/bin/python3 bench/fmnist16.py "$data"
"$bin/json2mp" < bench/data/darts-gt-seed1.jsonl > "$tmp/genos.mp"
for m in 0.9 0; do
    for f in 0.01 0.05; do
        "$bin/warmup-supernet" --space darts --data "$data" --input 1x16x16 --fraction $f \
            --momentum $m -q -o "$tmp/m$m-f$f.ckpt"
        "$bin/score-sigeo" --supernet "$tmp/m$m-f$f.ckpt" --data "$data" --proxies sigeo,meco,jacov -q \
            < "$tmp/genos.mp" | "$bin/mp2json" > "$tmp/m$m-f$f.jsonl"
    done
done
/usr/bin/python3 - "$tmp" <<'PYEOF'
import glob, json, sys
from scipy import stats
gt = {r["arch"]: r["truth"] for r in map(json.loads, open("bench/data/darts-gt-seed1.jsonl"))}
print("| momentum, share | " + " | ".join(f"{k} vs -train loss | {k} vs test acc" for k in ("sigeo", "meco", "jacov")) + " |")
print("|---|" + "---|" * 6)
for f in sorted(glob.glob(sys.argv[1] + "/m*.jsonl")):
    rs = [json.loads(l) for l in open(f)]
    row = []
    for k in ("sigeo", "meco", "jacov"):
        ok = [r for r in rs if r["scores"].get(k) == r["scores"].get(k) and k in r["scores"]]
        x = [r["scores"][k] for r in ok]
        row += ["%+.3f" % stats.kendalltau(x, [-gt[r["arch"]]["train_loss"] for r in ok])[0],
                "%+.3f" % stats.kendalltau(x, [gt[r["arch"]]["test_acc"] for r in ok])[0]]
    m, s = f.rsplit("/", 1)[1][1:-6].split("-f")
    print(f"| {m}, {float(s):.0%} | " + " | ".join(row) + " |")
PYEOF
