#!/usr/bin/python3
"""sweep.py — per-term Kendall tau of the bench/sweep.sh runs (fraction x step lr) and the best
paper-family weights (l1=1, l2, l3) on the tuning half, with their held-out tau."""
import glob, json, os, sys

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from study import corr  # noqa: E402
gt=[json.loads(l) for l in open('bench/data/gt-seed1.jsonl')]
truth={r['index']:r['truth']['test_acc'] for r in gt}
order=sorted(truth); tune=order[0::2]; held=order[1::2]
def tau(x, idx):  # NaN ranks last, as in bench/study.py and `rank`
    return corr([x[i] for i in idx], [truth[i] for i in idx])[0]
for fn in sorted(glob.glob('bench/out/sweep/*.mp')):
    s={r['index']:r['scores'] for r in msgpack.Unpacker(open(fn,'rb'),raw=False)}
    row=[]
    for k in ['sigeo_s1','sigeo_s2','sigeo_loss','sigeo']:
        sg=-1 if k=='sigeo_loss' else 1
        x={i:sg*s[i][k] for i in order}
        row.append(f"{k}={tau(x,order):+.3f}")
    best=[]
    for l2 in [0,0.1,0.3,1,3,10,50]:
        for l3 in [0,1,3,10,30,100]:
            x={i:s[i]['sigeo_s1']+l2*s[i]['sigeo_s2']-l3*s[i]['sigeo_loss'] for i in order}
            best.append((tau(x,tune),tau(x,held),tau(x,order),l2,l3))
    best.sort(reverse=True)
    b=best[0]
    print(fn.split('/')[-1], ' '.join(row), f"| best tune {b[0]:.3f} held {b[1]:.3f} all {b[2]:.3f} l2={b[3]} l3={b[4]}")
