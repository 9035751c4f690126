#!/usr/bin/python3
"""e2e.py — the end-to-end result of pipelines/search.sh against random search.

usage: bench/e2e.py OUT_DIR TOTAL_SECONDS
OUT_DIR is search.sh's --out (trained.mp: the top-k trained with the ground-truth recipe);
TOTAL_SECONDS the search's wall time. Random search is simulated on the ground-truth sample
(bench/data/gt-seed1.jsonl, a uniform sample trained with the same recipe): cells in random
order, each costing its measured training time, until the search's total time is spent;
the expected best accuracy over 5000 orders is reported. The ground truth was timed on a
busier machine, so its times are first rescaled by the ratio of this run's training times
to the ground-truth times predicted for the same cells (a least-squares fit of seconds on
FLOPs over the ground truth).
"""
import json
import random
import sys

import msgpack
import numpy as np

out, total = sys.argv[1], float(sys.argv[2])
gt = [json.loads(l) for l in open("bench/data/gt-seed1.jsonl")]
flops = {}
for r in msgpack.Unpacker(open("bench/out/study/scored-0.mp", "rb"), raw=False):
    flops[r["index"]] = r["scores"]["flops"]
top = list(msgpack.Unpacker(open(f"{out}/trained.mp", "rb"), raw=False))
# the FLOPs of the trained cells: recorded by search.sh's default proxies, else scored now
sc = {r["index"]: r["scores"].get("flops") for r in top}
if None in sc.values():
    import glob
    import subprocess
    ck = sorted(glob.glob(f"{out}/../cache/*.ckpt") + glob.glob("cache/*.ckpt"))[-1]
    res = subprocess.run(["bin/score-sigeo", "--supernet", ck, "--proxies", "flops", "-q"],
                         input=open(f"{out}/trained.mp", "rb").read(), capture_output=True,
                         check=True).stdout
    sc = {r["index"]: r["scores"]["flops"] for r in msgpack.Unpacker(res and __import__("io").BytesIO(res), raw=False)}

x = np.array([flops[r["index"]] for r in gt])
t = np.array([r["truth"]["seconds"] for r in gt])
a, b = np.polyfit(x, t, 1)
pred = np.array([a * sc[r["index"]] + b for r in top])
now = np.array([r["truth"]["seconds"] for r in top])
scale = float(now.sum() / pred.sum())
cost = [r["truth"]["seconds"] * scale for r in gt]
acc = [r["truth"]["test_acc"] for r in gt]

rng = random.Random(1)
bests, counts = [], []
for _ in range(5000):
    order = list(range(len(gt)))
    rng.shuffle(order)
    spent, best, n = 0.0, 0.0, 0
    for i in order:
        if n > 0 and spent + cost[i] > total:
            break
        spent += cost[i]
        best = max(best, acc[i])
        n += 1
    bests.append(best)
    counts.append(n)
found = [(r["truth"]["test_acc"], r["arch"]) for r in top]
print(f"search: best test_acc of the top {len(top)} = {max(f[0] for f in found):.4f} "
      f"({', '.join(f'{a:.4f}' for a, _ in found)}) in {total:.0f} s")
print(f"ground-truth sample: best of {len(gt)} random cells = {max(acc):.4f}, "
      f"median {float(np.median(acc)):.4f}")
print(f"random search, same {total:.0f} s (time scale {scale:.2f}): "
      f"{float(np.mean(counts)):.1f} cells trained on average, expected best "
      f"{float(np.mean(bests)):.4f} (5th-95th percentile {np.percentile(bests, 5):.4f}-"
      f"{np.percentile(bests, 95):.4f}); P(random best >= search best) = "
      f"{float(np.mean(np.array(bests) >= max(f[0] for f in found))):.3f}")
