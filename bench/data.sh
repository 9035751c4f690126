#!/bin/sh
# bench/data.sh — the numbers of docs/data.md, on Fashion-MNIST exported to the other image
# formats (needs dataset-fashion-mnist, python3-numpy and `make build/tests/test_formats`):
#  1. tensors: the .npz (x, y, x_test, y_test) and X.npy + y.npy against the IDX files, and
#     PNG class folders (train/ and test/) against the IDX files sorted by class (a folder is
#     read class by class), every normalized tensor and label bit for bit through the feed
#     (test_formats same);
#  2. training: one cell, train-arch with one seed on each, the truth compared;
#  3. peak resident memory of loading (score-sigeo, no records) and of a short warm-up;
#  4. a search (pipelines/search.sh) on colour data in which colour says nothing of the
#     class: each Fashion-MNIST image padded to 32x32 in a foreground and a background
#     colour drawn at random per image (3x32x32, 50,000 training and 10,000 test images).
# Writes under ${OUT:-out/bench-data}. SEARCH=0 skips step 4 (the long one: several
# CPU-minutes); N, K, FRACTION, TRAIN_FRACTION set its options.
set -eu
cd "$(dirname "$0")/.."
B=${SIGEO_BIN:-$PWD/bin}
TF=${SIGEO_TESTS:-build/tests}/test_formats
O=${OUT:-$PWD/out/bench-data}
FM=/usr/share/datasets/fashion-mnist
[ -x "$TF" ] || { echo "bench/data.sh: build $TF first (make $TF)" >&2; exit 2; }
mkdir -p "$O"
echo "== export (python3)"
/usr/bin/python3 - "$FM" "$O" <<'PY'
import gzip, os, shutil, struct, sys, zlib, numpy as np
fm, o = sys.argv[1], sys.argv[2]
def idx(name, off):
    return np.frombuffer(gzip.open("%s/%s.gz" % (fm, name)).read()[off:], dtype=np.uint8)
x = idx("train-images-idx3-ubyte", 16).reshape(-1, 28, 28)
y = idx("train-labels-idx1-ubyte", 8)
xt = idx("t10k-images-idx3-ubyte", 16).reshape(-1, 28, 28)
yt = idx("t10k-labels-idx1-ubyte", 8)
np.savez(o + "/fmnist.npz", x=x, y=y.astype(np.int64), x_test=xt, y_test=yt.astype(np.int64))
np.save(o + "/X.npy", x)
np.save(o + "/y.npy", y.astype(np.int32))
# sorted by class (stable): the order in which a class folder is read
names = ["0-tshirt", "1-trouser", "2-pullover", "3-dress", "4-coat", "5-sandal", "6-shirt",
         "7-sneaker", "8-bag", "9-boot"]
def png(img):  # 8-bit grey, filter 0 on every row
    h, w = img.shape
    raw = b"".join(b"\0" + img[r].tobytes() for r in range(h))
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
shutil.rmtree(o + "/png", ignore_errors=True)
os.makedirs(o + "/idx-sorted", exist_ok=True)
for split, xs, ys, stem in (("train", x, y, "train"), ("test", xt, yt, "t10k")):
    order = np.argsort(ys, kind="stable")
    xs, ys = xs[order], ys[order]
    with open("%s/idx-sorted/%s-images-idx3-ubyte" % (o, stem), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(xs), 28, 28) + xs.tobytes())
    with open("%s/idx-sorted/%s-labels-idx1-ubyte" % (o, stem), "wb") as f:
        f.write(struct.pack(">II", 0x801, len(ys)) + ys.tobytes())
    for k in range(10):
        os.makedirs("%s/png/%s/%s" % (o, split, names[k]))
    for i in range(len(xs)):
        with open("%s/png/%s/%s/%05d.png" % (o, split, names[ys[i]], i), "wb") as f:
            f.write(png(xs[i]))
# colour that says nothing of the class: per image a random foreground and background
rng = np.random.default_rng(7)
def colour(x):
    p = np.pad(x, ((0, 0), (2, 2), (2, 2))).astype(np.float32)[..., None] / 255
    fg = rng.integers(0, 256, size=(len(x), 1, 1, 3))
    bg = rng.integers(0, 256, size=(len(x), 1, 1, 3))
    return (fg * p + bg * (1 - p)).round().clip(0, 255).astype(np.uint8)  # NHWC, guessed
np.savez(o + "/colour.npz", x=colour(x[:50000]), y=y[:50000], x_test=colour(xt), y_test=yt)
PY
du -sh "$O"/*.npz "$O/png" | sed 's/^/  /'

echo "== tensors through the feed, bit for bit"
"$TF" same "$FM" - "$O/fmnist.npz" -
"$TF" same "$FM" - "$O/X.npy" "$O/y.npy"
"$TF" same "$O/idx-sorted" - "$O/png" -

echo "== train-arch, one cell, seed 1: test_acc test_loss train_loss"
$B/sample-arch -n 1 --seed 3 > "$O/a.mp"
for d in "$FM" "$O/fmnist.npz" "$O/idx-sorted" "$O/png"; do
    printf '%s: ' "$d"
    $B/train-arch --data "$d" --fraction 0.1 --test-fraction 0.2 -q < "$O/a.mp" | $B/mp2json |
        /usr/bin/python3 -c 'import json,sys; t=json.loads(sys.stdin.readline())["truth"]; print(t["test_acc"], t["test_loss"], t["train_loss"])'
done

echo "== peak RSS: loading (score-sigeo, no records), warm-up of 0.2%"
rss() { /usr/bin/time -v "$@" 2> "$O/time.txt" > /dev/null; grep "Maximum resident" "$O/time.txt" | awk '{printf "%.1f MB", $6 / 1000}'; }
for d in "$FM" "$O/fmnist.npz" "$O/png" "$O/colour.npz"; do
    $B/warmup-supernet --data "$d" --fraction 0.002 -q -o "$O/sn.ckpt"
    c=$($B/sample-arch --supernet "$O/sn.ckpt" -n 1 | $B/mp2json | sed 's/.*"in_ch":\([0-9]*\),"H":\([0-9]*\),"W":\([0-9]*\),"classes":\([0-9]*\).*/--input \1x\2x\3 --classes \4/')
    $B/warmup-supernet $c --fraction 0 -q -o "$O/sn0.ckpt"
    printf '%s: loading %s, ' "$d" "$(rss $B/score-sigeo --supernet "$O/sn0.ckpt" --data "$d" -q < /dev/null)"
    printf 'warm-up %s\n' "$(rss $B/warmup-supernet --data "$d" --fraction 0.002 -q -o "$O/sn.ckpt")"
done

[ "${SEARCH:-1}" = 1 ] || exit 0
echo "== search on the random-colour data"
time pipelines/search.sh --data "$O/colour.npz" -n "${N:-200}" -k "${K:-3}" --fraction "${FRACTION:-0.01}" \
    --train-fraction "${TRAIN_FRACTION:-0.2}" --cache "$O/cache" --out "$O/search"
echo "== for comparison: the first ${K:-3} candidates sampled (random cells), same training"
$B/mp2json < "$O/search/candidates.mp" | head -n "${K:-3}" | $B/json2mp |
    $B/train-arch --threads 2 --fraction "${TRAIN_FRACTION:-0.2}" --data "$O/colour.npz" -q | $B/mp2json |
    /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l); print("%.4f %s" % (r["truth"]["test_acc"], r["arch"]))'
