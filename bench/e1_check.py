#!/usr/bin/python3
"""e1_check.py — the choices made on the independent truth, checked on cells none of them
saw: Kendall tau and Spearman rho over every cell of bench/data/gt-e1.jsonl
(bench/groundtruth_e1.sh: this project's trainer, the independent truth's recipe) of the
scores docs/quality.md compares, with the z-scored MeCo + J weightings fixed where
bench/zcombo.py chose them on the independent truth's tuning half; and how this trainer
agrees with the independent one on the cells both trained (bench/data/gt-e1-check.jsonl).

usage: bench/e1_check.py [STUDY_DIR] > table.md   (default bench/out/study-e1: bench/study.sh
       with CELLS=bench/data/gt-e1.jsonl FRACTIONS="0 0.01"; env GT1: the independent truth)
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import study  # noqa: E402
import zcombo  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "bench/out/study-e1"
truth = {r["arch"]: r["truth"]["test_acc"] for r in study.load_jsonl("bench/data/gt-e1.jsonl")}


def recs(name):
    return sorted((r for r in study.load_mp(f"{d}/{name}.mp") if r.get("arch") in truth),
                  key=lambda r: r["arch"])


def row(label, rs, xs):
    t, rho, n = study.corr(xs, [truth[r["arch"]] for r in rs])
    print(f"| {label} | {study.fmt(t)} | {study.fmt(rho)} | {n} |")


print("| score | tau | rho | cells |")
print("|---|---|---|---|")
z0, z1 = recs("scored-0"), recs("scored-0.01")
for label, rs, key, sign in [("meco, untrained (NB201's default)", z0, "meco", 1),
                             ("meco, 1% warm-up", z1, "meco", 1),
                             ("jacov, untrained", z0, "jacov", 1), ("swap, untrained", z0, "swap", 1),
                             ("params", z0, "params", 1)]:
    row(label, rs, [sign * r["scores"].get(key, math.nan) for r in rs])
for f, label in (("0", "untrained"), ("0.01", "1% warm-up")):
    rs = recs(f"default-{f}")
    row(f"sigeo, default weights, {label}", rs, [r["scores"]["sigeo"] for r in rs])
az = study.aggregate(z0, ["aznas_expressivity", "aznas_progressivity", "aznas_trainability", "flops"], True)
row("AZ-NAS (log rank aggregate), untrained", z0, az)
for rs, w, label in ((z0, 0.25, "untrained"), (z1, 2, "1% warm-up")):
    m, j = zcombo.zscores(rs, "meco", 1), zcombo.zscores(rs, "jacov", 1)
    row(f"z(meco) + {w:g} z(jacov), {label} (bench/zcombo.py's choice)", rs, [a + w * b for a, b in zip(m, j)])

gt1 = os.environ.get("GT1", "../shared/truth/nb201-c8n1-fmnist-e1.tsv")
ind = {r["arch"]: r["truth"]["test_acc"] for r in study.load_truth(gt1)}
chk = [r for r in study.load_jsonl("bench/data/gt-e1-check.jsonl") if r["arch"] in ind]
s2 = {r["arch"]: r["truth"]["test_acc"] for r in study.load_jsonl("bench/data/gt-e1-check-seed2.jsonl")}
a, b = [r["truth"]["test_acc"] for r in chk], [ind[r["arch"]] for r in chk]
t, rho, n = study.corr(a, b)
print(f"\nThis trainer against the independent one on {n} cells of its truth: Kendall tau "
      f"{t:.3f}, Spearman rho {rho:.3f}; mean test accuracy {100 * sum(a) / n:.2f}% against "
      f"{100 * sum(b) / n:.2f}%, mean |difference| {100 * sum(abs(x - y) for x, y in zip(a, b)) / n:.2f} points.")
both = [r for r in chk if r["arch"] in s2]
t2, rho2, n2 = study.corr([r["truth"]["test_acc"] for r in both], [s2[r["arch"]] for r in both])
m = [(r["truth"]["test_acc"] + s2[r["arch"]]) / 2 for r in both]
t3, rho3, n3 = study.corr(m, [ind[r["arch"]] for r in both])
print(f"Two seeds of this trainer on the same {n2} cells: tau {t2:.3f}, rho {rho2:.3f}; the mean "
      f"of its two seeds against the independent truth (a mean of two runs too): tau {t3:.3f}, "
      f"rho {rho3:.3f}.")
