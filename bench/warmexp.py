#!/usr/bin/python3
"""warmexp.py — the table of the warm-up investigation: for every setting bench/warmexp.sh
scored (bench/out/warmexp/NAME.mp, NAME.meta), Kendall tau on the tuning and held-out
halves (study.py's split and NaN-last rule) of sigeo with the checkpoint's weights, its
terms, jacov and meco, and the seconds of the warm-up and of the scoring.

usage: bench/warmexp.py [NAME_GLOB...] > table.md   (env GT1: the truth, as study.py)
"""
import fnmatch
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import study  # noqa: E402

OUT = "bench/out/warmexp"
GT = os.environ.get("GT1", "../shared/truth/nb201-c8n1-fmnist-e1.tsv")
if not os.path.exists(GT):
    GT = "/work/shared/truth/nb201-c8n1-fmnist-e1.tsv"
# (column, score key, sign; a key no record has prints as —): larger is predicted better after the sign
COLS = [("sigeo", "sigeo", 1), ("S1", "sigeo_s1", 1), ("S2", "sigeo_s2", 1),
        ("-L", "sigeo_loss", -1), ("jacov", "jacov", 1), ("meco", "meco", 1),
        ("oneshot_acc", "oneshot_acc", 1)]


def taus(recs, key, sign, split, truth):
    out = []
    for half in ("tune", "held"):
        rs = [r for r in recs if split[r["arch"]] == half]
        xs = [sign * v if (v := r.get("scores", {}).get(key)) is not None else None for r in rs]
        out.append(study.corr(xs, [truth[r["arch"]] for r in rs])[0])
    return out


def main():
    gt = study.load_truth(GT)
    split = study.split_of(gt)
    truth = {r["arch"]: r["truth"]["test_acc"] for r in gt}
    pats = sys.argv[1:] or ["*"]
    names = sorted(f[:-3] for f in os.listdir(OUT) if f.endswith(".mp") and f != "gt.mp")
    names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in pats)]
    print("| setting | warm-up options | score options | "
          + " | ".join(f"{c} tune | {c} held" for c, _, _ in COLS) + " | warm-up s | score s |")
    print("|---|---|---|" + "---|---|" * len(COLS) + "---|---|")
    for n in names:
        recs = [r for r in study.load_mp(f"{OUT}/{n}.mp") if r.get("arch") in split]
        meta = ["", "", "", "", ""]
        if os.path.exists(f"{OUT}/{n}.meta"):
            meta = open(f"{OUT}/{n}.meta").read().rstrip("\n").split("\t")
        cells = []
        for _, key, sign in COLS:
            cells += [study.fmt(t) for t in taus(recs, key, sign, split, truth)]
        print(f"| {n} | {meta[1]} | {meta[2]} | " + " | ".join(cells)
              + f" | {meta[3]} | {meta[4]} |")


if __name__ == "__main__":
    main()
