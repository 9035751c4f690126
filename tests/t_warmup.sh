#!/bin/sh
# warmup-supernet end to end on tiny generated IDX data: the checkpoint is plain msgpack
# with a hash any client can check, warm-up lowers the loss, runs are byte-identical,
# --fraction 0 needs no data, and failures leave no file behind.
set -u
T=tests/tmp/t_warmup.$$ # private: others may run make test at the same time
rm -rf "$T"
mkdir -p "$T/data"
PY=/usr/bin/python3
. tests/lib.sh

idx_blobs "$T/data" 480 5 || exit 1

SP="--channels 4 --cells 1 --input 1x8x8 --classes 3"
TR="$SP --data $T/data --holdout 0 --fraction 1 --epochs 4 --batch 16 --lr 0.05 --seed 3"

# Python reader: prints a summary, verifies the hash by slicing the file bytes.
cat >"$T/read.py" <<'EOF'
import hashlib, json, struct, sys, msgpack
raw = open(sys.argv[1], "rb").read()
m = msgpack.unpackb(raw, raw=False)
keys = list(m)
assert keys[-1] == "hash" and raw[0] == 0x80 | len(keys), keys
calc = hashlib.sha256(bytes([0x80 | (len(keys) - 1)]) + raw[1:-71]).hexdigest()
assert calc == m["hash"], (calc, m["hash"])
for name, t in m["tensors"].items():
    n = 1
    for s in t["shape"]:
        n *= s
    assert t["dtype"] == "f32le" and len(t["data"]) == 4 * n, name
    assert all(x == x for x in struct.unpack("<%df" % n, t["data"])), name
out = {k: m[k] for k in ("kind", "version", "space", "cfg", "train", "data", "steps", "lambda")}
out["n_tensors"] = len(m["tensors"])
out["n_state"] = sum(1 for t in m["tensors"].values() if t["state"])
out["curve"] = m["loss_curve"]
print(json.dumps(out))
EOF

# --fraction 0 without --data: no data read, untrained lambda.
warmup-supernet $SP --fraction 0 -o "$T/f0.ckpt"
check "fraction 0 runs without data" '[ $? -eq 0 ] && [ -s "$T/f0.ckpt" ]'
J=$($PY "$T/read.py" "$T/f0.ckpt")
check "fraction 0 checkpoint is msgpack with a valid hash" '[ -n "$J" ]'
echo "$J" | $PY -c '
import json, sys
j = json.load(sys.stdin)
assert j["kind"] == "supernet" and j["version"] == 1 and j["space"] == "nb201", j
assert j["cfg"] == {"C": 4, "N": 1, "in_ch": 1, "H": 8, "W": 8, "classes": 3}, j["cfg"]
assert j["lambda"] == [1, 50, 0, 30] and j["steps"] == 0 and j["curve"] == [], j
assert j["data"] == {"dir": None, "fingerprint": None, "options": None, "mean": [], "std": []}, j["data"]
assert j["n_state"] > 0 and j["n_tensors"] > j["n_state"], j
'
check "fraction 0: header, lambda [1,50,0,30], no data" '[ $? -eq 0 ]'
warmup-supernet $SP -o "$T/f0b.ckpt"
check "no --fraction on nb201 is --fraction 0: identical bytes" 'cmp -s "$T/f0.ckpt" "$T/f0b.ckpt"'
# --fraction 0 with --data: the data must exist, and sets the shapes and normalization
warmup-supernet $SP --fraction 0 --data /nonexistent -o "$T/f0c.ckpt" 2> "$T/err"
check "fraction 0 with --data /nonexistent: bad input (1) naming it, no file" \
    '[ $? -eq 1 ] && grep -q /nonexistent "$T/err" && [ ! -e "$T/f0c.ckpt" ]'
warmup-supernet --channels 4 --fraction 0 --data "$T/data" --holdout 0 -o "$T/f0d.ckpt"
$PY "$T/read.py" "$T/f0d.ckpt" | $PY -c '
import json, sys
j = json.load(sys.stdin)
assert j["cfg"] == {"C": 4, "N": 1, "in_ch": 1, "H": 8, "W": 8, "classes": 3}, j["cfg"]
assert j["steps"] == 0 and j["lambda"] == [1, 50, 0, 30] and j["data"]["dir"].endswith("/data"), j
assert len(j["data"]["fingerprint"]) == 64 and len(j["data"]["mean"]) == 1, j["data"]
'
check "fraction 0 with --data: the data's shape and classes, data recorded, untrained" '[ $? -eq 0 ]'

# Warm-up: 4 epochs of 30 steps; the loss curve must come down.
warmup-supernet $TR -o "$T/w.ckpt" 2>"$T/err"
check "warm-up runs" '[ $? -eq 0 ] && [ -s "$T/w.ckpt" ] && [ ! -s "$T/err" ]'
J=$($PY "$T/read.py" "$T/w.ckpt")
echo "$J" | $PY -c '
import json, sys
j = json.load(sys.stdin)
c = j["curve"]
print("  # steps", j["steps"], "curve", " ".join("%.3f" % x for x in c[:3]), "...",
      " ".join("%.3f" % x for x in c[-3:]))
assert j["steps"] == 4 * (480 // 16) and len(c) == j["steps"], j
assert j["lambda"] == [1, 50, 10, 30], j["lambda"]
assert len(j["data"]["fingerprint"]) == 64 and j["data"]["dir"].endswith("/data") and "t_warmup." in j["data"]["dir"], j
assert j["data"]["options"] == "--holdout 0" and len(j["data"]["mean"]) == 1 and 0 < j["data"]["std"][0] < 1, j["data"]
assert j["train"]["fraction"] == 1 and j["train"]["epochs"] == 4 and j["train"]["batch"] == 16
first, last = sum(c[:10]) / 10, sum(c[-10:]) / 10
assert last < 0.8 * first, (first, last)
'
check "warm-up lowers the loss (mean of the last 10 steps < 0.8 x first 10)" '[ $? -eq 0 ]'

warmup-supernet $TR -o "$T/w2.ckpt"
check "same options and data: byte-identical checkpoint" 'cmp -s "$T/w.ckpt" "$T/w2.ckpt"'
warmup-supernet $TR --threads 2 -o "$T/t2a.ckpt"
warmup-supernet $TR --threads 2 -o "$T/t2b.ckpt"
check "--threads 2: byte-identical run to run, not the one-thread bytes (conv weight gradients are summed per thread)" \
    'cmp -s "$T/t2a.ckpt" "$T/t2b.ckpt" && ! cmp -s "$T/w.ckpt" "$T/t2a.ckpt"'
warmup-supernet $TR --seed 4 -o "$T/w3.ckpt"
check "another seed: another checkpoint" '! cmp -s "$T/w.ckpt" "$T/w3.ckpt"'
warmup-supernet $TR --progress -o "$T/w4.ckpt" 2>"$T/err"
check "--progress reports steps, loss and images/s on stderr" \
    'grep -q "step 120/120 loss [0-9.]* [0-9]* img/s" "$T/err" && cmp -s "$T/w.ckpt" "$T/w4.ckpt"'

# Fair sampling: one step (16 examples, batch 16) trains every op of every edge once (each
# cell-op conv differs from the untrained supernet of the same seed); uniform sampling's
# one path leaves most of them untouched. The checkpoint names the sampling and schedule.
ONE="$SP --data $T/data --holdout 0 --fraction 0.034 --batch 16 --seed 3"
warmup-supernet $SP --fraction 0 --seed 3 -o "$T/i.ckpt"
warmup-supernet $ONE --sampling fair -o "$T/fair.ckpt"
warmup-supernet $ONE -o "$T/uni.ckpt"
warmup-supernet $ONE --sampling fair --schedule cosine --epochs 3 -o "$T/fc.ckpt"
cat >"$T/changed.py" <<'EOF'
import sys, msgpack
ld = lambda p: msgpack.unpackb(open(p, "rb").read(), raw=False)
a, b = ld(sys.argv[1]), ld(sys.argv[2])
ops = [n for n in a["tensors"] if n.startswith("s0.c0.e") and n.endswith(".conv.w")]
ch = [n for n in ops if a["tensors"][n]["data"] != b["tensors"][n]["data"]]
print(b["steps"], b["train"]["sampling"], b["train"]["schedule"], len(ops), len(ch))
EOF
check "--sampling fair: one step changes all 12 cell-op convs" \
    '[ "$($PY "$T/changed.py" "$T/i.ckpt" "$T/fair.ckpt")" = "1 fair constant 12 12" ]'
r=$($PY "$T/changed.py" "$T/i.ckpt" "$T/uni.ckpt")
check "uniform: one step changes at most the 6 edges of its path ($r)" \
    'case "$r" in "1 uniform constant 12 "[0-6]) true;; *) false;; esac'
check "--schedule cosine is recorded" \
    '[ "$($PY "$T/changed.py" "$T/i.ckpt" "$T/fc.ckpt")" = "3 fair cosine 12 12" ]'
sample-arch $SP -n 2 > "$T/a.mp"
score-sigeo --supernet "$T/fc.ckpt" --data "$T/data" --holdout 0 --proxies sigeo -q < "$T/a.mp" > /dev/null 2> "$T/err"
check "score-sigeo warns that sigeo's weights were chosen after uniform sampling at a constant rate" \
    'grep -q "warmed up with fair sampling and a cosine learning rate" "$T/err"'
score-sigeo --supernet "$T/uni.ckpt" --data "$T/data" --holdout 0 --proxies sigeo --l1 1 --l2 1 --l3 1 --l4 1 -q < "$T/a.mp" > /dev/null 2> "$T/err"
score-sigeo --supernet "$T/fc.ckpt" --data "$T/data" --holdout 0 --proxies sigeo --l1 1 --l2 1 --l3 1 --l4 1 -q < "$T/a.mp" > /dev/null 2>> "$T/err"
check "... and not when the weights are given or the warm-up was uniform at a constant rate" '! grep -q "sampling" "$T/err"'
warmup-supernet $ONE --sampling fair --schedule cosine --epochs 3 -o "$T/fc2.ckpt"
check "fair and cosine: byte-identical run to run" 'cmp -s "$T/fc.ckpt" "$T/fc2.ckpt"'

# Sandwich sampling: one step trains the largest path (every edge's 3x3 conv changes; a
# uniform path's do at most on its own edges), the smallest and two uniform paths
# (tests/test_nb201.c checks the path list; the all-skip path has no weights of its own).
warmup-supernet $ONE --sampling sandwich -o "$T/sw.ckpt"
cat >"$T/conv3.py" <<'EOF2'
import sys, msgpack
ld = lambda p: msgpack.unpackb(open(p, "rb").read(), raw=False)
a, b = ld(sys.argv[1]), ld(sys.argv[2])
c3 = [n for n in a["tensors"] if n.startswith("s0.c0.e") and n.endswith(".conv3.conv.w")]
print(b["train"]["sampling"], len(c3), sum(a["tensors"][n]["data"] != b["tensors"][n]["data"] for n in c3))
EOF2
r=$($PY "$T/conv3.py" "$T/i.ckpt" "$T/sw.ckpt")
check "--sampling sandwich: one step changes all 6 cell 3x3 convs, and is recorded ($r)" '[ "$r" = "sandwich 6 6" ]'
r=$($PY "$T/conv3.py" "$T/i.ckpt" "$T/uni.ckpt")
check "... which one uniform step does not ($r)" 'case "$r" in "uniform 6 "[0-5]) true;; *) false;; esac'
score-sigeo --supernet "$T/sw.ckpt" --data "$T/data" --holdout 0 --proxies sigeo -q < "$T/a.mp" > /dev/null 2> "$T/err"
check "score-sigeo reads the sandwich checkpoint back and warns about its sampling" \
    'grep -q "warmed up with sandwich sampling and a constant learning rate" "$T/err"'
warmup-supernet $ONE --sampling sandwich -o "$T/sw2.ckpt"
check "sandwich: byte-identical run to run" 'cmp -s "$T/sw.ckpt" "$T/sw2.ckpt"'
warmup-supernet $SP --sampling sandwiches -o "$T/x.ckpt" 2>"$T/err"
check "unknown --sampling: usage error (2) naming the option" \
    '[ $? -eq 2 ] && grep -q -- "--sampling" "$T/err"'
for s in fair sandwich; do
    warmup-supernet -s darts --data "$T/data" --holdout 0 --input 1x8x8 --classes 3 --cells 1 --channels 4 --fraction 1 --sampling $s -o "$T/x.ckpt" 2>"$T/err"
    check "$s sampling in a space without it (darts): usage error (2) saying so, no file" \
        '[ $? -eq 2 ] && grep -q "$s sampling: the darts space" "$T/err" && [ ! -e "$T/x.ckpt" ]'
done

# Cache names follow the options.
a=$(warmup-supernet $TR --cache-name)
b=$(warmup-supernet $TR --cache-name)
c=$(warmup-supernet $TR --lr 0.1 --cache-name)
d=$(warmup-supernet $TR --sampling fair --cache-name)
e=$(warmup-supernet $TR --schedule cosine --cache-name)
f=$(warmup-supernet $TR --sampling sandwich --cache-name)
check "cache name is stable and changes with options" \
    '[ "$a" = "$b" ] && [ "$a" != "$c" ] && [ "$a" != "$d" ] && [ "$a" != "$e" ] && [ "$d" != "$e" ] && [ "$f" != "$a" ] && [ "$f" != "$d" ] && case "$a" in supernet-nb201-C4-N1-f1-e4-s3-*.ckpt) true;; *) false;; esac'

# Errors.
warmup-supernet $SP 2>"$T/err"
check "no -o: usage error (2)" '[ $? -eq 2 ] && grep -q "give -o FILE" "$T/err"'
warmup-supernet $SP --fraction 1.5 -o "$T/x.ckpt" 2>/dev/null
check "fraction out of range: usage error (2)" '[ $? -eq 2 ]'
warmup-supernet $SP --data "$T/nodata" -o "$T/x.ckpt" 2>"$T/err"
check "missing data: bad input (1), no file" '[ $? -eq 1 ] && [ ! -e "$T/x.ckpt" ] && grep -q "nodata" "$T/err"'
warmup-supernet --data "$T/data" --input 3x28x28 --fraction 1 -o "$T/x.ckpt" 2>"$T/err"
check "data channels differ from --input: bad input (1) naming both" \
    '[ $? -eq 1 ] && [ ! -e "$T/x.ckpt" ] && grep -q "1x8x8" "$T/err" && grep -q "3x28x28" "$T/err"'
warmup-supernet --channels 4 --data "$T/data" --holdout 0 --input 1x12x12 --fraction 1 --batch 16 -q \
    -o "$T/x12.ckpt" 2>"$T/err"
check "8x8 IDX data with --input 1x12x12: resized, trained at 12x12" \
    '[ $? -eq 0 ] && $PY "$T/read.py" "$T/x12.ckpt" | grep -q "\"H\": 12, \"W\": 12"'
warmup-supernet $SP --data "$T/data" --fraction 0.01 -o "$T/x.ckpt" 2>"$T/err"
check "fewer examples than a batch: bad input (1)" '[ $? -eq 1 ] && grep -q "fewer than one batch" "$T/err"'
warmup-supernet $SP --fraction 0 -o "$T/nodir/x.ckpt" 2>"$T/err"
check "unwritable target: I/O error (3), message names the file" \
    '[ $? -eq 3 ] && grep -q "nodir/x.ckpt" "$T/err" && [ ! -e "$T/nodir" ]'
check "no temporaries left" '! ls "$T" | grep -q tmp'

[ $n_fail -eq 0 ] && rm -rf "$T"
finish
