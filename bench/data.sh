#!/bin/sh
# bench/data.sh — the numbers of docs/data.md: Fashion-MNIST as .npz trains exactly as its
# IDX files; peak resident memory of the loaders; a search on CIFAR-shaped colour data
# made from Fashion-MNIST (3x32x32, a colour per class, 50,000 training images).
# Needs dataset-fashion-mnist and python3-numpy. Writes under ${OUT:-out/bench-data}.
set -eu
cd "$(dirname "$0")/.."
B=${SIGEO_BIN:-$PWD/bin}
O=${OUT:-$PWD/out/bench-data}
FM=/usr/share/datasets/fashion-mnist
mkdir -p "$O"
/usr/bin/python3 - "$FM" "$O" <<'PY'
import gzip, sys, numpy as np
fm, o = sys.argv[1], sys.argv[2]
def idx(name, off):
    return np.frombuffer(gzip.open("%s/%s.gz" % (fm, name)).read()[off:], dtype=np.uint8)
x = idx("train-images-idx3-ubyte", 16).reshape(-1, 28, 28)
y = idx("train-labels-idx1-ubyte", 8)
xt = idx("t10k-images-idx3-ubyte", 16).reshape(-1, 28, 28)
yt = idx("t10k-labels-idx1-ubyte", 8)
np.savez(o + "/fmnist.npz", x=x, y=y.astype(np.int64), x_test=xt, y_test=yt.astype(np.int64))
# CIFAR-shaped: padded to 32x32, each class drawn in its own colour on a grey background
rng = np.random.default_rng(7)
col = rng.integers(64, 256, size=(10, 3))
def colour(x, y):
    p = np.pad(x, ((0, 0), (2, 2), (2, 2))).astype(np.float32) / 255
    c = col[y][:, None, None, :] * p[..., None] + 40 * (1 - p[..., None])
    return c.round().clip(0, 255).astype(np.uint8)  # (N, 32, 32, 3): NHWC, guessed
np.savez(o + "/colour.npz", x=colour(x[:50000], y[:50000]), y=y[:50000],
         x_test=colour(xt, yt), y_test=yt)
PY
ls -l "$O"/*.npz
echo "== IDX vs .npz: one train-arch run each (same seed)"
$B/sample-arch -n 1 --seed 3 > "$O/a.mp"
for d in "$FM" "$O/fmnist.npz"; do
    $B/train-arch --data "$d" --fraction 0.1 --test-fraction 0.2 -q < "$O/a.mp" | $B/mp2json |
        /usr/bin/python3 -c 'import json,sys; t=json.loads(sys.stdin.readline())["truth"]; print(t["test_acc"], t["test_loss"], t["train_loss"])'
done
echo "== peak RSS (warm-up of 0.2% of the data, scoring 10 cells)"
rss() { /usr/bin/time -v "$@" 2> "$O/time.txt" > /dev/null; grep "Maximum resident" "$O/time.txt" | awk '{print $6 " kB"}'; }
for d in "$FM" "$O/fmnist.npz" "$O/colour.npz"; do
    printf '%s warmup-supernet: ' "$d"; rss $B/warmup-supernet --data "$d" --fraction 0.002 -q -o "$O/sn.ckpt"
    $B/sample-arch --supernet "$O/sn.ckpt" -n 10 > "$O/c.mp"
    printf '%s score-sigeo: ' "$d"; rss sh -c "$B/score-sigeo --supernet $O/sn.ckpt -q < $O/c.mp"
done
echo "== search on the colour data"
time pipelines/search.sh --data "$O/colour.npz" -n ${N:-200} -k ${K:-3} --fraction ${FRACTION:-0.01} \
    --train-fraction ${TRAIN_FRACTION:-1} --cache "$O/cache" --out "$O/search"
