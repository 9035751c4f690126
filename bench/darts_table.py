#!/usr/bin/python3
"""darts_table.py — the correlation table of docs/darts.md: the noise ceiling (seed 1 vs
seed 2 test accuracy) and Kendall tau / Spearman rho of every proxy, zero-shot and warmed
up, against seed-1 test accuracy (bench/data/darts-*.jsonl). A proxy is oriented so that
larger means predicted better (losses negated).

usage: bench/darts_table.py > table.md
"""
import json

from scipy import stats

LOWER_IS_BETTER = {"sigeo_loss", "oneshot_loss"}


def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]


g1 = {r["arch"]: r["truth"]["test_acc"] for r in load("bench/data/darts-gt-seed1.jsonl")}
g2 = {r["arch"]: r["truth"]["test_acc"] for r in load("bench/data/darts-gt-seed2.jsonl")}
both = [a for a in g2 if a in g1]
x, y = [g1[a] for a in both], [g2[a] for a in both]
print("Noise ceiling (seed 1 vs seed 2, %d genotypes): Kendall tau %.3f, Spearman rho %.3f\n"
      % (len(both), stats.kendalltau(x, y)[0], stats.spearmanr(x, y)[0]))
scores = {k: {r["arch"]: r["scores"] for r in load("bench/data/darts-scores-%s.jsonl" % k)}
          for k in ("zero", "warm")}
names = sorted(next(iter(scores["zero"].values())))
print("| proxy | tau zero-shot | rho zero-shot | tau warmed up | rho warmed up |")
print("| --- | --- | --- | --- | --- |")
for p in names:
    row = []
    for k in ("zero", "warm"):
        S = scores[k]
        a = [a for a in g1 if a in S and isinstance(S[a].get(p), (int, float))]
        v = [S[c][p] * (-1 if p in LOWER_IS_BETTER else 1) for c in a]
        t = [g1[c] for c in a]
        row += ["%+.3f" % stats.kendalltau(v, t)[0], "%+.3f" % stats.spearmanr(v, t)[0]]
    print("| %s | %s |" % (p, " | ".join(row)))
