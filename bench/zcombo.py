#!/usr/bin/python3
"""zcombo.py — can a weighted SiGeo, with or without MeCo, beat MeCo alone? For every
warm-up share the study stored (STUDY/scored-F.mp), each of sigeo's terms (S1, S2, -L, J)
and MeCo is z-scored over the cells, and every combination MeCo + sum w_i term_i and
sum w_i term_i (w_i in {0, 0.25, 0.5, 1, 2}) is ranked by Kendall tau on the tuning half
(study.py's split); the best of each kind prints with its held-out tau, beside MeCo alone.
The z-scores need every candidate at once, so such a score could only be a `rank` feature.

usage: bench/zcombo.py [STUDY_DIR] > table.md   (default bench/data/study-ind224; env GT1)
"""
import itertools
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import study  # noqa: E402

GT = os.environ.get("GT1", "../shared/truth/nb201-c8n1-fmnist-e1.tsv")
GRID = (0, 0.25, 0.5, 1, 2)
TERMS = (("S1", "sigeo_s1", 1), ("S2", "sigeo_s2", 1), ("-L", "sigeo_loss", -1), ("J", "jacov", 1))


def zscores(recs, key, sign):
    v = [sign * r["scores"].get(key, math.nan) for r in recs]
    lo = min(x for x in v if x == x)
    v = [x if x == x else lo for x in v]  # NaN last, as study.py does
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / len(v)) or 1.0
    return [(x - m) / sd for x in v]


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "bench/data/study-ind224"
    gt = study.load_truth(GT)
    split = study.split_of(gt)
    truth = {r["arch"]: r["truth"]["test_acc"] for r in gt}
    fractions = sorted((f[7:-3] for f in os.listdir(d) if f.startswith("scored-")), key=float)
    print("| warm-up | MeCo tune | MeCo held | best MeCo + terms (w S1, S2, -L, J) | tune | held "
          "| best terms alone (w S1, S2, -L, J) | tune | held |")
    print("|---|---|---|---|---|---|---|---|---|")
    for f in fractions:
        recs = sorted((r for r in study.load_mp(f"{d}/scored-{f}.mp") if r.get("arch") in split),
                      key=lambda r: r["arch"])
        z = [zscores(recs, k, s) for _, k, s in TERMS]
        meco = zscores(recs, "meco", 1)
        halves = [[i for i, r in enumerate(recs) if split[r["arch"]] == h] for h in ("tune", "held")]

        def taus(x):
            return [study.corr([x[i] for i in h], [truth[recs[i]["arch"]] for i in h])[0] for h in halves]

        best = {True: None, False: None}
        for with_meco in (True, False):
            for w in itertools.product(GRID, repeat=len(TERMS)):
                if not with_meco and not any(w):
                    continue
                x = [(meco[i] if with_meco else 0) + sum(wj * z[j][i] for j, wj in enumerate(w))
                     for i in range(len(recs))]
                t = taus(x)
                if best[with_meco] is None or t[0] > best[with_meco][0][0]:
                    best[with_meco] = (t, w)
        m = taus(meco)
        cells = [f"{float(f):.0%}", study.fmt(m[0]), study.fmt(m[1])]
        for k in (True, False):
            t, w = best[k]
            cells += [", ".join(f"{x:g}" for x in w), study.fmt(t[0]), study.fmt(t[1])]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
