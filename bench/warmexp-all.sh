#!/bin/sh
# warmexp-all.sh — every setting of docs/quality.md's warm-up investigation, one after the
# other (one process at a time), then its tables (bench/warmexp.py --doc).
#   usage: bench/warmexp-all.sh   (~60 CPU-minutes; env as bench/warmexp.sh)
set -eu
cd "$(dirname "$0")/.."
E=bench/warmexp.sh
O=bench/out/warmexp
$E f0 "--fraction 0"
for f in 0.01 0.1; do
    $E f$f "--fraction $f"
    $E f$f-steplr0.1 "--fraction $f" "--step-lr 0.1"
    $E f$f-steplr0 "--fraction $f" "--step-lr 0"
    $E f$f-lr0.01 "--fraction $f --lr 0.01"
    $E f$f-mom0 "--fraction $f --momentum 0"
    $E f$f-cos "--fraction $f --schedule cosine"
    $E f$f-fair "--fraction $f --sampling fair"
    $E f$f-sand "--fraction $f --sampling sandwich"
    $E f$f-sand-mom0 "--fraction $f --sampling sandwich --momentum 0"
done
$E f0.1-fair-cos "--fraction 0.1 --sampling fair --schedule cosine"
$E f0.1-lr0.03 "--fraction 0.1 --lr 0.03"
$E f0.1-wd0 "--fraction 0.1 --weight-decay 0"
$E f0.01-ep10 "--fraction 0.01 --epochs 10"
$E f0.2 "--fraction 0.2"
$E f0.2-fair "--fraction 0.2 --sampling fair"
$E f0.5-fair "--fraction 0.5 --sampling fair"
$E f1-fair "--fraction 1 --sampling fair"
# which trained tensors matter: the 20% warm-up's, the rest untrained
for g in conv:'\.conv\.w$' bn:'\.bn\.' head:'^head\.' cells:'^s[0-9]'; do
    bench/warmmix.py $O/f0.2.ckpt $O/f0.ckpt "${g#*:}" 1 $O/mix.ckpt
    $E "mix20-${g%%:*}" "ckpt:$O/mix.ckpt"
done
# few-shot: the five sub-supernets of a split on edge 3 (input to output) and on edge 5
for e in 3 5; do
    for f in 0.01 0.1; do
        $E fs$e-f$f "split:$e --fraction $f"
        $E fs$e-f$f-mom0 "split:$e --fraction $f --momentum 0"
    done
done
bench/warmexp.py --doc
