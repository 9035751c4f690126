#!/bin/sh
# AZ-NAS's components, MeCo, SWAP and VKDNW from score-sigeo against tests/proxies_ref.py, an
# independent float64 NumPy/PyTorch computation from the papers' definitions, on a tiny
# supernet (untrained and warmed up) and generated IDX data. Skips without numpy or torch.
set -u
PY=/usr/bin/python3
if ! $PY -c 'import numpy, torch, msgpack' 2>/dev/null; then
    echo "skip: python3 with numpy, torch and msgpack not available"; exit 0
fi
T=tests/tmp/t_proxyref.$$
rm -rf "$T"; mkdir -p "$T/data"
trap 'rm -rf "$T"' EXIT
. tests/lib.sh
idx_blobs "$T/data" 400 7 || exit 1
SP="--channels 4 --cells 1 --input 1x8x8 --classes 3"
SC="--data $T/data --holdout 0 --batch 16 --batches 2 --bn-batches 1 --eval-batches 1 --seed 5"
warmup-supernet $SP --fraction 0 -q -o "$T/sn0.ckpt" || { notok "untrained supernet"; exit 1; }
warmup-supernet $SP --data "$T/data" --fraction 0.5 --batch 16 -q -o "$T/sn1.ckpt" ||
    { notok "warmed-up supernet"; exit 1; }
sample-arch $SP -n 16 --seed 4 > "$T/a.mp"
for s in sn0 sn1; do
    score-sigeo --supernet "$T/$s.ckpt" $SC --proxies aznas,meco,swap,vkdnw -q < "$T/a.mp" > "$T/$s.mp" ||
        notok "score-sigeo on $s"
    # need = (batches + bn + eval) * batch examples drawn, batch 0 the first 16
    if $PY tests/proxies_ref.py "$T/$s.ckpt" "$T/a.mp" "$T/$s.mp" "$T/data" 5 16 64 > "$T/$s.log"; then
        ok "aznas, meco, swap, vkdnw agree with the reference on $s ($(grep -c '^ok' "$T/$s.log") values)"
    else
        notok "reference mismatch on $s:"; grep -v '^ok' "$T/$s.log"
    fi
done
# A checkpoint warmed up far from the share its sigeo weights were chosen at (sn1: 50%,
# weights for 1%) warns when sigeo is scored; the untrained one and explicit weights do not.
score-sigeo --supernet "$T/sn1.ckpt" $SC --proxies sigeo -q < "$T/a.mp" > /dev/null 2> "$T/w1"
score-sigeo --supernet "$T/sn1.ckpt" $SC --proxies sigeo --l1 1 --l2 1 --l3 1 --l4 0 -q < "$T/a.mp" > /dev/null 2> "$T/w2"
score-sigeo --supernet "$T/sn0.ckpt" $SC --proxies sigeo -q < "$T/a.mp" > /dev/null 2> "$T/w3"
check "lambda_fraction: warns at 50% with the checkpoint's weights, not with explicit ones or untrained" \
    'grep -q "chosen at 1%" "$T/w1" && ! grep -q warning "$T/w2" && ! grep -q warning "$T/w3"'
finish
