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
import itertools
import json
import math
import os
import sys

import msgpack
from scipy import stats

STUDY = sys.argv[1] if len(sys.argv) > 1 else "bench/out/study"
# The truth: the project's own (JSON lines with truth.test_acc) or a TSV of arch,
# test_acc_mean (the independent trainer's, ../shared/truth/).
GT1 = os.environ.get("GT1", "bench/data/gt-seed1.jsonl")
GT2 = "bench/data/gt-seed2.jsonl"
# Sign convention: a proxy is oriented so that larger means "predicted better".
LOWER_IS_BETTER = {"sigeo_loss", "oneshot_loss"}


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_truth(path):
    """[{arch, index, truth: {test_acc}}] from either format; index is the sample order
    key for the split (the NB201 index in JSON lines, the arch string in a TSV)."""
    if path.endswith(".tsv"):
        out = []
        for line in open(path):
            if line.startswith("#") or not line.strip():
                continue
            a, acc = line.split("\t")[:2]
            out.append({"arch": a, "index": a, "truth": {"test_acc": float(acc)}})
        return out
    return load_jsonl(path)


def load_mp(path):
    with open(path, "rb") as f:
        return list(msgpack.Unpacker(f, raw=False, strict_map_key=False))


def split_of(gt):
    """arch -> tune/held: even positions of the cells sorted by index tune."""
    order = sorted(gt, key=lambda r: r["index"])
    return {r["arch"]: ("tune" if i % 2 == 0 else "held") for i, r in enumerate(order)}


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


def ranks(v):
    """Ranks 1 (worst) .. n (best), NaN worst, ties averaged: rank --aggregate's."""
    x = [-math.inf if a is None or a != a else a for a in v]
    order = sorted(range(len(x)), key=lambda i: x[i])
    r = [0.0] * len(x)
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for q in range(i, j + 1):
            r[order[q]] = (i + j + 2) / 2
        i = j + 1
    return r


def aggregate(recs, keys, log):
    """rank --aggregate KEYS [--log] over recs (a '-' prefix: smaller is better)."""
    n = len(recs)
    tot = [0.0] * n
    for k in keys:
        sign = -1 if k.startswith("-") else 1
        v = [recs[i]["scores"].get(k.lstrip("-")) for i in range(n)]
        v = [None if a is None else sign * a for a in v]
        for i, r in enumerate(ranks(v)):
            tot[i] += math.log(r / n) if log else r / n
    return tot


# Rank aggregates reported beside the proxies: AZ-NAS as its paper combines its four
# components, and ensembles of the default with the strongest single proxies.
AZNAS = ["aznas_expressivity", "aznas_progressivity", "aznas_trainability", "flops"]
DERIVED = [
    ("aznas (AZ-NAS, log rank aggregate)", AZNAS, True),
    ("sigeo (default weights) + aznas components (log)", ["sigeo (default weights)"] + AZNAS, True),
    ("sigeo (default weights) + jacov + meco (rank sum)", ["sigeo (default weights)", "jacov", "meco"], False),
]


def outcome(recs, key, truth, sign):
    """True accuracy of the top-1 and the best of the top-5 / top-10 by key (NaN last)."""
    xs = [(-math.inf if r["scores"].get(key) is None or r["scores"][key] != r["scores"][key]
           else sign * r["scores"][key], truth[r["arch"]]) for r in recs]
    xs.sort(key=lambda t: -t[0])
    return xs[0][1], max(t[1] for t in xs[:5]), max(t[1] for t in xs[:10])


def half_tau(recs, key, truth, split, part, sign=1):
    sel = [r for r in recs if split.get(r["arch"]) == part]
    xs = [None if (v := r["scores"].get(key)) is None else sign * float(v) for r in sel]
    return corr(xs, [truth[r["arch"]] for r in sel])[0]


def selection(by_fraction, truth, split):
    """The choice on the tuning half: per warm-up, the single score and the equal-weight
    rank sum (rank --aggregate) of 2 or 3 of its 8 best single scores with the highest
    tuning tau, and their held-out tau."""
    out = ["\n### Chosen on the tuning half\n",
           "| warm-up | best single score | tune | held-out | best rank sum of 2-3 | tune | held-out |",
           "|---|---|---|---|---|---|---|"]
    for f, recs in by_fraction:
        singles = []
        for k in {k for r in recs for k in r["scores"]}:
            if k.startswith("sigeo (default weights) +") or k.startswith("aznas (AZ"):
                continue  # aggregates themselves
            sign = -1 if k in LOWER_IS_BETTER else 1
            t = half_tau(recs, k, truth, split, "tune", sign)
            if t == t:
                singles.append((t, ("-" if sign < 0 else "") + k))
        singles.sort(reverse=True)
        top = [k for _, k in singles[:8]]
        best = (-9, None, None)
        for n in (2, 3):
            for keys in itertools.combinations(top, n):
                agg = aggregate(recs, list(keys), False)
                for r, v in zip(recs, agg):
                    r["scores"]["_agg"] = v
                t = half_tau(recs, "_agg", truth, split, "tune")
                if t > best[0]:
                    best = (t, keys, half_tau(recs, "_agg", truth, split, "held"))
        for r in recs:
            r["scores"].pop("_agg", None)
        t1, k1 = singles[0]
        h1 = half_tau(recs, k1.lstrip("-"), truth, split, "held", -1 if k1[0] == "-" else 1)
        out.append(f"| {float(f) * 100:g}% | {k1} | {fmt(t1)} | {fmt(h1)} | {' + '.join(best[1])} "
                   f"| {fmt(best[0])} | {fmt(best[2])} |")
    return out


def main():
    gt1 = load_truth(GT1)
    truth = {r["arch"]: r["truth"]["test_acc"] for r in gt1}
    split = split_of(gt1)
    out = [f"Truth: {GT1} ({len(truth)} cells; best {100 * max(truth.values()):.2f}%, "
           f"median {100 * sorted(truth.values())[len(truth) // 2]:.2f}%).\n"]
    if os.path.exists(GT2) and not GT1.endswith(".tsv"):
        by_idx = {r["index"]: r["truth"]["test_acc"] for r in gt1}
        gt2 = {r["index"]: r["truth"]["test_acc"] for r in load_jsonl(GT2)}
        common = sorted(set(gt2) & set(by_idx))
        t, r, n = corr([by_idx[i] for i in common], [gt2[i] for i in common])
        out.append(f"Noise ceiling: Kendall tau {t:.3f}, Spearman rho {r:.3f} between seed 1 and "
                   f"seed 2 on {n} retrained cells.\n")
    cost = {}
    if os.path.exists(f"{STUDY}/cost.tsv"):
        for line in open(f"{STUDY}/cost.tsv").read().splitlines()[1:]:
            f, w, s, n = line.split("\t")
            cost[f] = (float(w), float(s), int(n))
    # the fractions study.sh finished (cost.tsv), whose shards it has merged
    fractions = sorted(cost, key=float)
    best = max(truth.values())
    by_fraction = []
    for f in fractions:
        recs = [r for r in load_mp(f"{STUDY}/scored-{f}.mp") if r["arch"] in truth]
        # the default sigeo (its own run) joins as "sigeo (default weights)"; "sigeo" is --paper
        dflt = {}
        if os.path.exists(f"{STUDY}/default-{f}.mp"):
            dflt = {r["arch"]: r["scores"]["sigeo"] for r in load_mp(f"{STUDY}/default-{f}.mp")}
        for r in recs:
            sc = r.setdefault("scores", {})
            if "sigeo" in sc:
                sc["sigeo (paper)"] = sc.pop("sigeo")
            if r["arch"] in dflt:
                sc["sigeo (default weights)"] = dflt[r["arch"]]
        for name, keys, log in DERIVED:
            if all(any(k in r["scores"] for r in recs) for k in keys):
                for r, v in zip(recs, aggregate(recs, keys, log)):
                    r["scores"][name] = v
        by_fraction.append((f, recs))
        keys = sorted({k for r in recs for k in r.get("scores", {})})
        w, s, n = cost.get(f, (float("nan"), float("nan"), len(recs)))
        out.append(f"\n### Warm-up on {float(f) * 100:g}% of the training data\n")
        out.append(f"Cost: warm-up {w:.1f} s, scoring {n} cells with sigeo (default weights) "
                   f"{s:.1f} s. Best in sample {100 * best:.2f}%.\n")
        out.append("| proxy | tau (all) | rho (all) | tau (tune) | tau (held-out) | top-1 | best of top-5 | best of top-10 |")
        out.append("|---|---|---|---|---|---|---|---|")
        rows = []
        for k in keys:
            sign = -1 if k in LOWER_IS_BETTER else 1
            cols = []
            for part in ("all", "tune", "held"):
                sel = [r for r in recs if part == "all" or split.get(r["arch"]) == part]
                xs = []
                for r in sel:
                    v = r.get("scores", {}).get(k)
                    xs.append(None if v is None else sign * float(v))
                cols.append(corr(xs, [truth[r["arch"]] for r in sel]))
            rows.append((k, cols, outcome(recs, k, truth, sign)))
        for k, cols, oc in sorted(rows, key=lambda kc: -(kc[1][2][0] if kc[1][2][0] == kc[1][2][0] else -9)):
            name = ("-" if k in LOWER_IS_BETTER else "") + k
            if k == "meco":
                name = "meco (NB201's default ranking at 0%)"
            out.append(f"| {name} | {fmt(cols[0][0])} | {fmt(cols[0][1])} | {fmt(cols[1][0])} | "
                       f"{fmt(cols[2][0])} | {100 * oc[0]:.2f} | {100 * oc[1]:.2f} | {100 * oc[2]:.2f} |")
    out += selection(by_fraction, truth, split)
    print("\n".join(out))


if __name__ == "__main__":
    main()
