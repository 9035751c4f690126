#!/usr/bin/python3
"""select.py — how the default SiGeo weights were chosen: a grid over warm-up fraction and
(l1, l2, l3, l4) for sigeo = l1*S1 + l2*S2 - l3*L + l4*J (J = jacov), scored on the tuning
half (even positions of the cells sorted by index), reported on the held-out half; then the
same selection repeated on 100 random half splits to estimate its out-of-sample gain over
the strongest baseline (jacov, zero-shot). Reads bench/study.sh output."""
import itertools, json, os, random, sys

import msgpack
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from study import corr  # noqa: E402
gt=[json.loads(l) for l in open('bench/data/gt-seed1.jsonl')]
truth={r['index']:r['truth']['test_acc'] for r in gt}
order=sorted(truth); tune=order[0::2]; held=order[1::2]
y=np.array([truth[i] for i in order])
def taua(v, idx):  # NaN ranks last, as in bench/study.py and `rank`
    return corr(list(v[idx]), list(y[idx]))[0]
S={}
for f in ['0','0.01','0.05','0.1']:
    S[f]={r['index']:r['scores'] for r in msgpack.Unpacker(open(f'bench/out/study/scored-{f}.mp','rb'),raw=False)}
def col(f,k): return np.array([S[f][i][k] for i in order],dtype=float)
cands={}
for f in S:
    s1,s2,L,J,N=(col(f,k) for k in ['sigeo_s1','sigeo_s2','sigeo_loss','jacov','naswot'])
    for l1,l2,l3,l4 in itertools.product([0,1],[0,1,3,10,50],[0,10],[0,1,3,10,30]):
        if l1==0 and l4==0: continue
        cands[(f,l1,l2,l3,l4)]=l1*s1+l2*s2-l3*L+l4*J
base=col('0','jacov')
ti=[order.index(i) for i in tune]; hi=[order.index(i) for i in held]
# fixed split
res=sorted(((taua(v,ti),taua(v,hi),taua(v,list(range(100))),k) for k,v in cands.items()),reverse=True)
for r in res[:8]: print('fixed', [round(a,3) for a in r[:3]], r[3])
print('jacov@0 fixed tune/held/all', round(taua(base,ti),3), round(taua(base,hi),3), round(taua(base,list(range(100))),3))
# repeated random splits: selection procedure out-of-sample
rng=random.Random(0); gains=[]; chosen={}
for rep in range(100):
    idx=list(range(100)); rng.shuffle(idx); a,b=idx[:50],idx[50:]
    best=max(cands, key=lambda k: taua(cands[k],a))
    chosen[best]=chosen.get(best,0)+1
    gains.append(taua(cands[best],b)-taua(base,b))
print('CV: mean out-of-sample gain over jacov@0', round(np.mean(gains),3), 'sd', round(np.std(gains),3), 'P(gain>0)', np.mean(np.array(gains)>0))
print(sorted(chosen.items(), key=lambda kv:-kv[1])[:6])
print('--- l1=1 only, per fraction best on tune')
for f in S:
    r=sorted(((taua(v,ti),taua(v,hi),taua(v,list(range(100))),k) for k,v in cands.items() if k[0]==f and k[1]==1),reverse=True)
    print(f, [(round(a,3),round(b,3),round(c,3),k) for a,b,c,k in r[:3]])
    v=cands.get((f,1,50,10,30)); print('   (1,50,10,30):', round(taua(v,ti),3), round(taua(v,hi),3), round(taua(v,list(range(100))),3))
