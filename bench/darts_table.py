#!/usr/bin/python3
"""darts_table.py — the numbers of docs/darts.md's ground-truth section: test accuracy of
the ground truth, the noise ceiling (seed 1 vs seed 2) of its test accuracy and of its
mean training loss, Kendall tau / Spearman rho of every proxy, zero-shot and warmed up,
against seed-1 test accuracy and Kendall tau against seed-1 training loss, and SiGeo's
weights tuned on one half of the genotypes and scored on the other
(bench/data/darts-*.jsonl). Proxies and truths are oriented so that larger means better
(losses negated).

usage: bench/darts_table.py > table.md
"""
import itertools
import json
import statistics

from scipy import stats

LOWER_IS_BETTER = {"sigeo_loss", "oneshot_loss"}


def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def tau(a, b):
    return stats.kendalltau(a, b)[0]


r1 = load("bench/data/darts-gt-seed1.jsonl")
r2 = load("bench/data/darts-gt-seed2.jsonl")
TRUTHS = {"test accuracy": lambda t: t["test_acc"], "training loss": lambda t: -t["train_loss"]}
g1 = {r["arch"]: r["truth"]["test_acc"] for r in r1}
g2 = {r["arch"]: r["truth"]["test_acc"] for r in r2}
acc = list(g1.values())
both = [a for a in g2 if a in g1]
x, y = [g1[a] for a in both], [g2[a] for a in both]
print("Test accuracy (seed 1, %d genotypes): mean %.4f, sd %.4f, range %.4f-%.4f; "
      "mean |seed 1 - seed 2| %.4f (%d genotypes); training %.0f s wall in all for seed 1\n"
      % (len(acc), statistics.mean(acc), statistics.stdev(acc), min(acc), max(acc),
         statistics.mean(abs(a - b) for a, b in zip(x, y)), len(both),
         sum(r["truth"]["seconds"] for r in r1)))
truth = {}
for name, f in TRUTHS.items():
    t1 = {r["arch"]: f(r["truth"]) for r in r1}
    t2 = {r["arch"]: f(r["truth"]) for r in r2}
    truth[name] = t1
    x, y = [t1[a] for a in both], [t2[a] for a in both]
    print("Noise ceiling of %s (seed 1 vs seed 2, %d genotypes): Kendall tau %.3f, Spearman "
          "rho %.3f\n" % (name, len(both), tau(x, y), stats.spearmanr(x, y)[0]))
scores = {k: {r["arch"]: r["scores"] for r in load("bench/data/darts-scores-%s.jsonl" % k)}
          for k in ("zero", "warm")}
names = sorted(next(iter(scores["zero"].values())))


def against(S, p, t):
    """The proxy p of the scores S (oriented) and the truth t over the genotypes that have
    both (a NaN score, which score-sigeo explains in the record's error, is left out)."""
    a = [a for a in t if a in S and isinstance(S[a].get(p), (int, float)) and S[a][p] == S[a][p]]
    return [S[c][p] * (-1 if p in LOWER_IS_BETTER else 1) for c in a], [t[c] for c in a]


print("| proxy | tau zero-shot | rho zero-shot | tau warmed up | rho warmed up "
      "| tau with training loss, zero-shot | warmed up |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for p in names:
    row = []
    for k in ("zero", "warm"):
        v, t = against(scores[k], p, truth["test accuracy"])
        row += ["%+.3f" % tau(v, t), "%+.3f" % stats.spearmanr(v, t)[0]]
    for k in ("zero", "warm"):
        row.append("%+.3f" % tau(*against(scores[k], p, truth["training loss"])))
    print("| %s | %s |" % (p, " | ".join(row)))

# SiGeo's weights l1*S1 + l2*S2 - l3*L + l4*J chosen on one half (genotypes in sample
# order), Kendall tau on the other half; the default weights on the same halves.
grid = list(itertools.product((0, 1), (0, 1, 10, 50, 200), (0, 1, 10, 50), (-30, -1, 0, 1, 30)))
order = [r["arch"] for r in r1]
halves = (order[:len(order) // 2], order[len(order) // 2:])
print("\n| truth | scores | weights tuned on | l1, l2, l3, l4 | tau tuning half | tau held-out "
      "half | default sigeo, held-out half |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, g in truth.items():
    for k in ("zero", "warm"):
        S = scores[k]

        def sig(a, w):
            s = S[a]
            return (w[0] * s["sigeo_s1"] + w[1] * s["sigeo_s2"] - w[2] * s["sigeo_loss"]
                    + w[3] * s["sigeo_j"])

        for i in (0, 1):
            fit, held = halves[i], halves[1 - i]
            best = max((w for w in grid if any(w)),
                       key=lambda w: tau([sig(a, w) for a in fit], [g[a] for a in fit]))
            print("| %s | %s | %s | %s | %+.3f | %+.3f | %+.3f |"
                  % (name, k, "first" if i == 0 else "second", ", ".join(map(str, best)),
                     tau([sig(a, best) for a in fit], [g[a] for a in fit]),
                     tau([sig(a, best) for a in held], [g[a] for a in held]),
                     tau([S[a]["sigeo"] for a in held], [g[a] for a in held])))
