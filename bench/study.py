#!/usr/bin/python3
"""study.py — correlation tables for the quality study (issue 6).

Reads the scored streams bench/study.sh wrote (bench/out/study/scored-<fraction>.mp), the
ground truth (bench/data/gt-seed1.jsonl, gt-seed2.jsonl) and cost.tsv, and prints Markdown:
the noise ceiling, and Kendall tau / Spearman rho of every proxy against test accuracy for
every warm-up fraction, on all cells, on the tuning half and on the held-out half.
The split is fixed: cells at even positions of gt-seed1.jsonl's sample order (sorted by
index) tune, odd ones are held out.

usage: bench/study.py [STUDY_DIR] > table.md
"""
import json
import math
import os
import sys

import msgpack
from scipy import stats

STUDY = sys.argv[1] if len(sys.argv) > 1 else "bench/out/study"
GT1 = os.environ.get("GT1", "bench/data/gt-seed1.jsonl")
GT2 = "bench/data/gt-seed2.jsonl"
# Sign convention: a proxy is oriented so that larger means "predicted better".
LOWER_IS_BETTER = {"sigeo_loss", "oneshot_loss"}


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_mp(path):
    with open(path, "rb") as f:
        return list(msgpack.Unpacker(f, raw=False, strict_map_key=False))


def split_of(gt):
    order = sorted(r["index"] for r in gt)
    return {idx: ("tune" if i % 2 == 0 else "held") for i, idx in enumerate(order)}


def corr(xs, ys):
    # A missing or NaN score ranks last, as `rank` orders it (tied with the other NaNs).
    x = [-math.inf if v is None or v != v else v for v in xs]
    finite = [v for v in x if math.isfinite(v)]
    if len(finite) < 5:
        return float("nan"), float("nan"), len(finite)
    low = min(finite) - 1.0
    x = [low if not math.isfinite(v) else v for v in x]
    return stats.kendalltau(x, ys).statistic, stats.spearmanr(x, ys).statistic, len(finite)


def fmt(v):
    return "—" if v != v else f"{v:+.3f}"


def main():
    gt1 = load_jsonl(GT1)
    truth = {r["index"]: r["truth"]["test_acc"] for r in gt1}
    split = split_of(gt1)
    out = []
    if os.path.exists(GT2):
        gt2 = {r["index"]: r["truth"]["test_acc"] for r in load_jsonl(GT2)}
        common = sorted(set(gt2) & set(truth))
        t, r, n = corr([truth[i] for i in common], [gt2[i] for i in common])
        out.append(f"Noise ceiling: Kendall tau {t:.3f}, Spearman rho {r:.3f} between seed 1 and "
                   f"seed 2 on {n} retrained cells.\n")
    cost = {}
    if os.path.exists(f"{STUDY}/cost.tsv"):
        for line in open(f"{STUDY}/cost.tsv").read().splitlines()[1:]:
            f, w, s, n = line.split("\t")
            cost[f] = (float(w), float(s), int(n))
    fractions = sorted({fn[len("scored-"):-3] for fn in os.listdir(STUDY)
                        if fn.startswith("scored-") and fn.endswith(".mp")}, key=float)
    for f in fractions:
        recs = load_mp(f"{STUDY}/scored-{f}.mp")
        # the default sigeo (its own run) joins as "sigeo (default)"; "sigeo" is --paper
        dflt = {}
        if os.path.exists(f"{STUDY}/default-{f}.mp"):
            dflt = {r["index"]: r["scores"]["sigeo"] for r in load_mp(f"{STUDY}/default-{f}.mp")}
        for r in recs:
            sc = r.setdefault("scores", {})
            if "sigeo" in sc:
                sc["sigeo (paper)"] = sc.pop("sigeo")
            if r["index"] in dflt:
                sc["sigeo (default)"] = dflt[r["index"]]
        keys = sorted({k for r in recs for k in r.get("scores", {})})
        w, s, n = cost.get(f, (float("nan"), float("nan"), len(recs)))
        out.append(f"\n### Warm-up on {float(f) * 100:g}% of the training data\n")
        out.append(f"Cost: warm-up {w:.1f} s, scoring {n} cells with the default sigeo, 2 processes, {s:.1f} s.\n")
        out.append("| proxy | tau (all) | rho (all) | tau (tune) | tau (held-out) |")
        out.append("|---|---|---|---|---|")
        rows = []
        for k in keys:
            sign = -1 if k in LOWER_IS_BETTER else 1
            cols = []
            for part in ("all", "tune", "held"):
                sel = [r for r in recs if part == "all" or split.get(r["index"]) == part]
                xs = []
                for r in sel:
                    v = r.get("scores", {}).get(k)
                    xs.append(None if v is None else sign * float(v))
                cols.append(corr(xs, [truth[r["index"]] for r in sel]))
            rows.append((k, cols))
        for k, cols in sorted(rows, key=lambda kc: -(kc[1][0][0] if kc[1][0][0] == kc[1][0][0] else -9)):
            name = ("-" if k in LOWER_IS_BETTER else "") + k
            out.append(f"| {name} | {fmt(cols[0][0])} | {fmt(cols[0][1])} | {fmt(cols[1][0])} | "
                       f"{fmt(cols[2][0])} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
