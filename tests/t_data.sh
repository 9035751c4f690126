#!/bin/sh
# Your own data end to end, on fixtures written by build/tests/test_formats (IDX, .npy, PNG
# class folders) and by numpy (.npz; skipped without python3-numpy): train-arch trains to
# the same result on IDX, .npz and PNG folders of the same examples; warmup-supernet takes
# shapes and classes from the data and keeps the normalization; sample-arch --supernet
# follows it; pipelines/search.sh --data works for each format.
set -u
T=$PWD/tests/tmp/t_data.$$ # absolute: score-parallel.sh runs elsewhere
rm -rf "$T"
trap 'rm -rf "$T"' EXIT
mkdir -p "$T"
. tests/lib.sh
CHECK_ERR="$T/err"
PATH="${SIGEO_BIN:-$PWD/bin}:$PATH" # make sanitize: its tools and tests
"${SIGEO_TESTS:-build/tests}/test_formats" export "$T/d" || { echo "NOT OK fixtures"; exit 1; }
have_np=0
/usr/bin/python3 -c "import numpy" 2>/dev/null && have_np=1

# the .npz of the IDX fixture: x, y, x_test, y_test
if [ $have_np = 1 ]; then
    /usr/bin/python3 - "$T/d" <<'PY' || exit 1
import sys, numpy as np
d = sys.argv[1]
def idx(p, off):
    return np.frombuffer(open(p, "rb").read()[off:], dtype=np.uint8)
x = idx(d + "/idx/train-images-idx3-ubyte", 16).reshape(-1, 8, 8)
y = idx(d + "/idx/train-labels-idx1-ubyte", 8).astype(np.int32)
xt = idx(d + "/idx/t10k-images-idx3-ubyte", 16).reshape(-1, 8, 8, 1)  # NHWC: guessed
yt = idx(d + "/idx/t10k-labels-idx1-ubyte", 8).astype(np.int64)
np.savez_compressed(d + "/data.npz", x=x, y=y, x_test=xt, y_test=yt)
PY
else
    echo "skip: .npz checks need python3-numpy"
fi

# the same training run on three formats of one data set
truth() { mp2json | /usr/bin/python3 -c '
import json, sys
for l in sys.stdin:
    t = json.loads(l)["truth"]
    print(t["test_acc"], t["test_loss"], t["train_loss"], t["recipe"]["norm_mean"], t["recipe"]["norm_std"])'; }
sample-arch -n 2 --seed 4 --input 1x8x8 --classes 3 > "$T/a.mp"
TR="--batch 16 --epochs 2 --lr 0.05 -q"
train-arch --data "$T/d/idx" $TR < "$T/a.mp" | truth > "$T/idx.txt"
train-arch --data "$T/d/png" $TR < "$T/a.mp" | truth > "$T/png.txt"
check "train-arch: PNG folders train exactly as IDX ($(head -c 40 "$T/idx.txt"))" \
    '[ -s "$T/idx.txt" ] && cmp -s "$T/idx.txt" "$T/png.txt"'
if [ $have_np = 1 ]; then
    train-arch --data "$T/d/data.npz" $TR < "$T/a.mp" | truth > "$T/npz.txt"
    check "train-arch: .npz (x_test NHWC) trains exactly as IDX" 'cmp -s "$T/idx.txt" "$T/npz.txt"'
fi

# shapes, classes and normalization from the data
warmup-supernet --data "$T/d/npy/X.npy" --labels "$T/d/npy/y.npy" --fraction 1 --batch 16 -q -o "$T/sn.ckpt"
check "warmup-supernet on X.npy + y.npy" '[ $? -eq 0 ]'
sample-arch --supernet "$T/sn.ckpt" -n 3 | mp2json > "$T/a.json"
check "sample-arch --supernet: cfg from the data (1x8x8, 3 classes)" \
    'grep -q "\"in_ch\":1,\"H\":8,\"W\":8,\"classes\":3" "$T/a.json"'
/usr/bin/python3 -c '
import msgpack, sys
d = msgpack.unpackb(open(sys.argv[1], "rb").read())["data"]
assert d["options"].startswith("--labels ") and len(d["mean"]) == 1 and d["std"][0] > 0, d' "$T/sn.ckpt"
check "checkpoint keeps the data options and the training split statistics" '[ $? -eq 0 ]'
json2mp < "$T/a.json" | score-sigeo --supernet "$T/sn.ckpt" --batch 8 --batches 2 --bn-batches 1 --eval-batches 1 -q > "$T/s.mp"
check "score-sigeo reads the checkpoint's data with its options" '[ $? -eq 0 ] && [ -s "$T/s.mp" ]'
json2mp < "$T/a.json" | score-sigeo --supernet "$T/sn.ckpt" --data "$T/d/png" --batch 8 --batches 2 --bn-batches 1 --eval-batches 1 -q > /dev/null 2> "$T/err"
check "score-sigeo: data that does not match the supernet is an error naming both" \
    '[ $? -eq 0 ] || grep -q "sn.ckpt\|supernet" "$T/err"'
warmup-supernet --data "$T/d/npy/X.npy" --labels "$T/d/npy/y.npy" --input 3x8x8 --fraction 1 -q -o "$T/x.ckpt" 2> "$T/err"
check "--input that the data does not have: bad input naming the data" '[ $? -eq 1 ] && grep -q "X.npy" "$T/err"'

# the main job on each format
S="-n 4 -k 1 -j 1 --fraction 1 --cache $T/cache"
pipelines/search.sh $S --out "$T/o1" --data "$T/d/png" > "$T/o1.txt" 2> "$T/err"
check "search.sh --data a PNG class folder" '[ $? -eq 0 ] && grep -q "^1 " "$T/o1.txt"'
pipelines/search.sh $S --out "$T/o2" --data "$T/d/npy/Xf.npy" --labels "$T/d/npy/y.npy" > "$T/o2.txt" 2> "$T/err"
check "search.sh --data X.npy --labels y.npy (float32, NHWC)" '[ $? -eq 0 ] && grep -q "^1 " "$T/o2.txt"'
if [ $have_np = 1 ]; then
    pipelines/search.sh $S --out "$T/o3" --data "$T/d/data.npz" > "$T/o3.txt" 2> "$T/err"
    check "search.sh --data a .npz" '[ $? -eq 0 ] && grep -q "^1 " "$T/o3.txt"'
fi
pipelines/search.sh $S --out "$T/o4" --data "$T/d/jpg" --input 1x8x8 > "$T/o4.txt" 2> "$T/err"
check "search.sh --data a JPEG class folder with --input" '[ $? -eq 0 ] && grep -q "^1 " "$T/o4.txt"'
# a click table with a header, quotes, CRLF, missing values and no final newline
/usr/bin/python3 - "$T/clicks.csv" <<'PY'
import random, sys
r = random.Random(5)
rows = ['id,"price, usd",clicked,site,age,device\r\n']
for i in range(3000):
    site = r.choice(["a.com", "b.org", '"q""uote"', ""])
    age = "" if r.random() < 0.1 else str(r.randrange(18, 80))
    dev = r.choice(["ios", "android", "web"])
    price = "%.2f" % (r.random() * 10)
    y = int(r.random() < (0.7 if dev == "ios" else 0.2))
    rows.append('%d,%s,%d,%s,%s,%s\r\n' % (i, price, y, site, age, dev))
open(sys.argv[1], "w", newline="").write("".join(rows).rstrip("\r\n"))
PY
C="--label clicked --dense 2,age --categorical site,device"
warmup-supernet --space nasrec --cells 2 --channels 32 --data "$T/clicks.csv" $C --fraction 1 --batch 32 -q -o "$T/rec.ckpt" 2> "$T/err"
check "warmup-supernet on a CSV with a header and named columns" '[ $? -eq 0 ]'
sample-arch --supernet "$T/rec.ckpt" -n 3 | mp2json > "$T/r.json"
check "nasrec input widths follow the table (4 columns, 2 dense)" \
    'grep -q "\"in_ch\":4,\"dense\":2" "$T/r.json"'
json2mp < "$T/r.json" | score-sigeo --supernet "$T/rec.ckpt" --batch 32 -q > /dev/null 2> "$T/err"
check "score-sigeo reads the table with the checkpoint's column options" '[ $? -eq 0 ]'
json2mp < "$T/r.json" | train-arch --data "$T/clicks.csv" $C --batch 32 -q | mp2json > "$T/rt.json"
check "train-arch on the table: an AUC" 'grep -q "\"auc\":0\.[0-9]" "$T/rt.json"'
printf 'a,b,c\n1,2,x\n0,3\n1,4,y\n' > "$T/short.csv"
warmup-supernet --space nasrec --data "$T/short.csv" --label a --dense b --categorical c --holdout 0 --fraction 1 --batch 2 -q -o "$T/x.ckpt" 2> "$T/err"
check "a row with a missing column: exit 1 naming file and line" '[ $? -eq 1 ] && grep -q "short.csv: line 3: 2 fields" "$T/err"'
warmup-supernet --space nasrec --data "$T/short.csv" --label a --dense b --categorical c --holdout 0 --fraction 1 --batch 2 --keep-going -q -o "$T/x.ckpt" 2> "$T/err"
check "--keep-going skips it and says how many" '[ $? -eq 0 ] && grep -q "skipped 1 bad line" "$T/err"'
warmup-supernet --space nasrec --data "$T/short.csv" --label a --dense b --categorical nope -q -o "$T/x.ckpt" 2> "$T/err"
check "an unknown column name: exit 1 naming it" '[ $? -eq 1 ] && grep -q "nope" "$T/err"'
pipelines/search.sh -n 3 -k 1 -j 1 --fraction 1 --cache "$T/cache" --out "$T/o5" --space nasrec --data "$T/clicks.csv" $C > "$T/o5.txt" 2> "$T/err"
check "search.sh --space nasrec --data FILE.csv --label --dense --categorical" '[ $? -eq 0 ] && grep -q "^1 " "$T/o5.txt"'

# data paths stored in checkpoints and records: relative, with spaces and quotes, used from
# another directory (stored absolute, options quoted as a shell reads them)
W="$T/work dir"
mkdir -p "$W/it's data"
cp "$T/d/npy/X.npy" "$W/it's data/x s.npy"
cp "$T/d/npy/y.npy" "$W/it's data/y 'q'.npy"
(cd "$W" && warmup-supernet --data "it's data/x s.npy" --labels "it's data/y 'q'.npy" \
    --holdout 0.2 --fraction 1 --batch 16 -q -o sn.ckpt) 2> "$T/err"
check "warmup-supernet: relative --data and --labels with spaces and quotes" '[ $? -eq 0 ]'
/usr/bin/python3 -c '
import msgpack, sys
d = msgpack.unpackb(open(sys.argv[1], "rb").read())["data"]
assert d["dir"] == sys.argv[2], d["dir"]
assert d["options"] == sys.argv[3], d["options"]' "$W/sn.ckpt" "$W/it's data/x s.npy" \
    "--labels '$W/it'\\''s data/y '\\''q'\\''.npy' --holdout 0.20000000000000001" 2> "$T/err"
check "the checkpoint stores the absolute data path and quoted, absolute options" '[ $? -eq 0 ]'
sample-arch --supernet "$W/sn.ckpt" -n 2 > "$T/pa.mp"
(cd / && score-sigeo --supernet "$W/sn.ckpt" --batch 8 --batches 2 --bn-batches 1 \
    --eval-batches 1 --proxies params -q < "$T/pa.mp" > "$T/pa-scored.mp") 2> "$T/err"
check "score-sigeo from another directory reads the checkpoint's data path and options" \
    '[ $? -eq 0 ] && [ "$(mp2json < $T/pa-scored.mp | grep -c scores)" = 2 ]'
(cd "$W" && train-arch --data "it's data/x s.npy" --labels "it's data/y 'q'.npy" --batch 16 -q \
    < "$T/pa.mp" > "$T/pa-trained.mp") 2> "$T/err"
/usr/bin/python3 -c '
import msgpack, sys
for r in msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False):
    t = r["truth"]["recipe"]
    assert t["data"] == sys.argv[2], t["data"]
    assert t["data_options"].startswith("--labels '\''/"), t["data_options"]' "$T/pa-trained.mp" "$W/it's data/x s.npy" 2>> "$T/err"
check "train-arch records the absolute data path and quoted options" '[ $? -eq 0 ]'
pipelines/search.sh $S --out "$T/o6" --cache "$T/cache6" --data "$W/it's data/x s.npy" \
    --labels "$W/it's data/y 'q'.npy" > "$T/o6.txt" 2> "$T/err"
check "search.sh --data and --labels with spaces and quotes" '[ $? -eq 0 ] && grep -q "^1 " "$T/o6.txt"'

[ $n_fail -eq 0 ] && rm -rf "$T" || cat "$T/err"
finish
