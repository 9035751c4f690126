#!/usr/bin/python3
"""warmexp.py — the table of the warm-up investigation: for every setting bench/warmexp.sh
scored (bench/out/warmexp/NAME.mp, NAME.meta), Kendall tau on the tuning and held-out
halves (study.py's split and NaN-last rule) of sigeo with the checkpoint's weights, its
terms, jacov and meco, and the seconds of the warm-up and of the scoring.

usage: bench/warmexp.py [NAME_GLOB...] > table.md   (env GT1: the truth, as study.py)
       bench/warmexp.py --doc > table.md   the table of docs/quality.md (settings in DOC)
       bench/warmexp.py --within EDGE NAME...   Kendall tau inside each group of cells with
           one op on EDGE (all 224 cells), averaged over the groups weighted by their size:
           how a score ranks cells a few-shot split on EDGE scores over one sub-supernet
"""
import fnmatch
import os
import re
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
        ("oneshot_acc", "oneshot_acc", 1), ("-oneshot_loss", "oneshot_loss", -1)]


def taus(recs, key, sign, split, truth):
    out = []
    for half in ("tune", "held"):
        rs = [r for r in recs if split[r["arch"]] == half]
        xs = [sign * v if (v := r.get("scores", {}).get(key)) is not None else None for r in rs]
        out.append(study.corr(xs, [truth[r["arch"]] for r in rs])[0])
    return out


# docs/quality.md's table: (setting, its run at 1%, its run at 10%); the runs as
# bench/warmexp.sh names them in the commands given there
DOC = [
    ("uniform, constant lr 0.1, momentum 0.9 (the former defaults)", "f0.01", "f0.1"),
    ("score-sigeo --step-lr 0.1", "f0.01-steplr0.1", "f0.1-steplr0.1"),
    ("score-sigeo --step-lr 0", "f0.01-steplr0", "f0.1-steplr0"),
    ("--lr 0.01", "f0.01-lr0.01", "f0.1-lr0.01"),
    ("--lr 0.03", None, "f0.1-lr0.03"),
    ("--momentum 0 (the tool's default)", "f0.01-mom0", "f0.1-mom0"),
    ("--weight-decay 0", None, "f0.1-wd0"),
    ("--schedule cosine", "f0.01-cos", "f0.1-cos"),
    ("--sampling fair", "f0.01-fair", "f0.1-fair"),
    ("--sampling fair --schedule cosine", "f0.01-fair-cos", "f0.1-fair-cos"),
    ("--sampling sandwich", "f0.01-sand", "f0.1-sand"),
    ("--sampling sandwich --momentum 0", "f0.01-sand-mom0", "f0.1-sand-mom0"),
    ("1% for 10 epochs (the steps of 10%)", None, "f0.01-ep10"),
]


# the diagnostic: which tensors of the 20% warm-up, the rest untrained (bench/warmmix.py)
DOC_MIX = [
    ("none (untrained)", "f0"), ("all (the 20% warm-up)", "f0.2"),
    ("convolution weights only", "mix20-conv"), ("BN scale and shift only", "mix20-bn"),
    ("the classifier only", "mix20-head"), ("the cell's ops only (convs and their BN)", "mix20-cells"),
]


# longer warm-ups: does what the inherited weights know (the loss, the one-shot accuracy)
# grow with training?
DOC_LONG = [
    ("uniform, 10%", "f0.1"), ("uniform, 20%", "f0.2"),
    ("fair, 10%", "f0.1-fair"), ("fair, 20%", "f0.2-fair"), ("fair, 50%", "f0.5-fair"),
    ("fair, 100% (one epoch)", "f1-fair"),
]


# few-shot supernets (bench/warmexp.sh "split:EDGE ...": five sub-supernets split on one edge) next to the
# one-shot warm-ups of the same share and momentum
DOC_FEW = [(f"{kind}, {pct}, momentum {m}", f"{pre}f{f}{suf}")
           for m, suf in (("0.9", ""), ("0", "-mom0"))
           for f, pct in (("0.01", "1%"), ("0.1", "10%"))
           for kind, pre in (("one-shot", ""), ("few-shot edge 3", "fs3-"), ("few-shot edge 5", "fs5-"))]


# The doc's tables: (header, rows, columns); a row is (label, run, ...), a column
# (which of the row's runs, score key, sign, half: 0 tune, 1 held).
DOC_TABLES = [
    (["setting", "sigeo 1% tune", "sigeo 1% held", "sigeo 10% tune", "sigeo 10% held",
      "jacov 10% held", "MeCo 10% held", "-L 10% held", "one-shot acc 10% held"], DOC,
     [(0, "sigeo", 1, 0), (0, "sigeo", 1, 1), (1, "sigeo", 1, 0), (1, "sigeo", 1, 1),
      (1, "jacov", 1, 1), (1, "meco", 1, 1), (1, "sigeo_loss", -1, 1), (1, "oneshot_acc", 1, 1)]),
    (["trained tensors", "sigeo tune", "sigeo held", "jacov held", "MeCo tune", "MeCo held"], DOC_MIX,
     [(0, "sigeo", 1, 0), (0, "sigeo", 1, 1), (0, "jacov", 1, 1), (0, "meco", 1, 0), (0, "meco", 1, 1)]),
    (["warm-up", "sigeo held", "jacov held", "MeCo held", "-L tune", "-L held",
      "one-shot acc tune", "one-shot acc held", "-one-shot loss held"], DOC_LONG,
     [(0, "sigeo", 1, 1), (0, "jacov", 1, 1), (0, "meco", 1, 1), (0, "sigeo_loss", -1, 0),
      (0, "sigeo_loss", -1, 1), (0, "oneshot_acc", 1, 0), (0, "oneshot_acc", 1, 1),
      (0, "oneshot_loss", -1, 1)]),
    (["warm-up", "sigeo tune", "sigeo held", "jacov tune", "jacov held", "MeCo tune", "MeCo held",
      "one-shot acc tune", "one-shot acc held"], DOC_FEW,
     [(0, k, 1, h) for k in ("sigeo", "jacov", "meco", "oneshot_acc") for h in (0, 1)]),
]


def doc_table(split, truth):
    runs = {}  # each run's records, read once

    def get(name, key, sign, half):
        if not name or not os.path.exists(f"{OUT}/{name}.mp"):
            return "—"
        if name not in runs:
            runs[name] = [r for r in study.load_mp(f"{OUT}/{name}.mp") if r.get("arch") in split]
        return study.fmt(taus(runs[name], key, sign, split, truth)[half])
    for i, (head, rows, cols) in enumerate(DOC_TABLES):
        if i:
            print()
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for label, *names in rows:
            cells = [get(names[r], k, sign, h) for r, k, sign, h in cols]
            print(f"| {label} | " + " | ".join(cells) + " |")


def within(edge, names, truth):
    op = lambda a: re.findall(r"\|([a-z_0-9]+)~", a)[edge]
    keys = [("sigeo", 1), ("jacov", 1), ("meco", 1), ("oneshot_acc", 1)]
    print("| setting | " + " | ".join(f"{k} within edge-{edge} groups" for k, _ in keys) + " |")
    print("|---|" + "---|" * len(keys))
    for n in names:
        recs = [r for r in study.load_mp(f"{OUT}/{n}.mp") if r.get("arch") in truth]
        cells = []
        for key, sign in keys:
            tot = n_all = 0
            for o in sorted(set(op(r["arch"]) for r in recs)):
                g = [r for r in recs if op(r["arch"]) == o]
                xs = [sign * v if (v := r.get("scores", {}).get(key)) is not None else None for r in g]
                tot += len(g) * study.corr(xs, [truth[r["arch"]] for r in g])[0]
                n_all += len(g)
            cells.append(study.fmt(tot / n_all))
        print(f"| {n} | " + " | ".join(cells) + " |")


def main():
    gt = study.load_truth(GT)
    split = study.split_of(gt)
    truth = {r["arch"]: r["truth"]["test_acc"] for r in gt}
    if sys.argv[1:] == ["--doc"]:
        return doc_table(split, truth)
    if sys.argv[1:2] == ["--within"]:
        return within(int(sys.argv[2]), sys.argv[3:], truth)
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
