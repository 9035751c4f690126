#!/bin/sh
# Model files end to end: train-arch --save writes one verified model file per record for
# nb201, nasrec and darts (named by space and index or arch hash, path in the record,
# never over a non-directory), the file's hash is the documented slice of its bytes;
# predict --eval reproduces train-arch's test metrics exactly (one and two threads, image
# and click models), its predictions agree with them, and bad model files, data of other
# shapes and models of another space fail with exit 1 and nothing at the -o path.
set -u
T=$PWD/tests/tmp/t_models.$$
rm -rf "$T"
trap 'rm -rf "$T"' EXIT
mkdir -p "$T"
. tests/lib.sh
PY=/usr/bin/python3
"${SIGEO_TESTS:-build/tests}/test_formats" export "$T/d" > /dev/null || { echo "NOT OK fixtures"; exit 1; }
TR="--batch 16 --epochs 2 --lr 0.05 -q"

# --- train-arch --save ------------------------------------------------------------------
# a network whose model file would pass the loaders' 1 GiB is refused before any training
sample-arch -n 1 --channels 1024 --cells 3 --seed 2 > "$T/huge.mp"
start=$(date +%s)
train-arch --fraction 0.01 --test-fraction 0.01 --save "$T/mh" -q < "$T/huge.mp" > "$T/huge.out" 2> "$T/huge.err"
CHECK_ERR=$T/huge.err check "train-arch --save of a network over the model-file limit: exit 1 at once, no file" \
    '[ $? -eq 1 ] && [ $(( $(date +%s) - start )) -lt 20 ] && grep -q "1 GiB" "$T/huge.err" && [ -z "$(ls -A "$T/mh" 2>/dev/null)" ]'
sample-arch -n 3 --seed 4 --input 1x8x8 --classes 3 > "$T/a.mp"
train-arch --data "$T/d/png" $TR --save "$T/m" < "$T/a.mp" > "$T/t.mp" 2> "$T/err"
CHECK_ERR=$T/err check "train-arch --save: exit 0, one model file per record" \
    '[ $? -eq 0 ] && [ $(ls "$T/m" | grep -c "^nb201-[0-9]*-[0-9a-f]\{8\}\.model$") -eq 3 ]'
# the record names its file; the file holds what the record says; the hash is the slice
$PY - "$T/t.mp" > "$T/py.out" 2>&1 <<'PY'
import hashlib, msgpack, sys
for r in msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False):
    b = open(r["model"], "rb").read()
    m = msgpack.unpackb(b, raw=False)
    assert ("/nb201-%d-" % r["index"]) in r["model"], r["model"]  # cfg not the default: suffixed
    assert m["kind"] == "model" and m["arch"] == r["arch"] and m["cfg"] == r["cfg"], m["arch"]
    assert m["metrics"]["test_acc"] == r["truth"]["test_acc"]
    assert m["data"]["classes"] == ["a", "b", "c"] or len(m["data"]["classes"]) == 3, m["data"]
    assert m["data"]["mean"] == r["truth"]["recipe"]["norm_mean"]
    body = bytes([b[0] - 1]) + b[1:-71]
    assert hashlib.sha256(body).hexdigest() == m["hash"], "hash"
    assert all(k.endswith((".mean", ".var")) == t["state"] for k, t in m["tensors"].items())
print("ok")
PY
CHECK_ERR=$T/py.out check "records name their model files; arch, cfg, metrics, classes, hash" \
    'grep -q "^ok$" "$T/py.out"'
# one arch at two cfgs in one stream: two files, each holding its record's network
{ sample-arch -n 1 --seed 4 --input 1x8x8 --classes 3 --channels 4
  sample-arch -n 1 --seed 4 --input 1x8x8 --classes 3 --channels 6; } > "$T/two.mp"
train-arch --data "$T/d/png" $TR --save "$T/m5" < "$T/two.mp" > "$T/t5.mp" 2> "$T/err"
$PY -c '
import msgpack, sys
rs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
assert len(rs) == 2 and rs[0]["arch"] == rs[1]["arch"] and rs[0]["model"] != rs[1]["model"], rs
for r in rs:
    assert msgpack.unpackb(open(r["model"], "rb").read(), raw=False)["cfg"] == r["cfg"], r["model"]
' "$T/t5.mp" 2> "$T/py2.out"
CHECK_ERR=$T/py2.out check "one arch at two cfgs: two model files, each with its record's cfg" \
    '[ $? -eq 0 ] && [ $(ls "$T/m5" | wc -l) -eq 2 ]'
train-arch --data "$T/d/png" $TR --save "$T/m" < "$T/a.mp" > "$T/t2.mp" 2> "$T/err"
cmp -s "$T/t.mp" "$T/t2.mp" 2>/dev/null # seconds differ; compare the files instead
(cd "$T/m" && sha256sum *.model) > "$T/h1"
train-arch --data "$T/d/png" $TR --save "$T/m2" < "$T/a.mp" > /dev/null 2>&1
(cd "$T/m2" && sha256sum *.model) > "$T/h2"
check "the same training twice: byte-identical model files" 'cmp -s "$T/h1" "$T/h2"'

: > "$T/afile"
train-arch --data "$T/d/png" $TR --save "$T/afile" < "$T/a.mp" > "$T/o.mp" 2> "$T/err"
check "--save over a regular file: usage error (2), nothing written" \
    '[ $? -eq 2 ] && [ ! -s "$T/o.mp" ] && [ ! -s "$T/afile" ] && grep -q "afile: not a directory" "$T/err"'
train-arch --data "$T/d/png" $TR --save "$T/no/such" < "$T/a.mp" > "$T/o.mp" 2> "$T/err"
check "--save under a missing directory: usage error (2)" '[ $? -eq 2 ] && grep -q "no/such" "$T/err"'
mkdir -p "$T/m3" && mkdir "$T/m3/$(ls "$T/m" | head -1)"
train-arch --data "$T/d/png" $TR --save "$T/m3" < "$T/a.mp" > "$T/o.mp" 2> "$T/err"
check "a directory where a model file goes: exit 3, the directory left as it was" \
    '[ $? -eq 3 ] && grep -q "directory" "$T/err" && [ -d "$T/m3/$(ls "$T/m" | head -1)" ]'

# nasrec and darts
gen-criteo --rows 2000 --seed 4 -o "$T/c.tsv" || exit 1
sample-arch --space nasrec -n 2 --seed 3 --cells 2 --channels 32 |
    train-arch --data "$T/c.tsv" --batch 32 -q --save "$T/mr" > "$T/r.mp" 2> "$T/err"
CHECK_ERR=$T/err check "nasrec: model files named by arch hash, path in the record" \
    '[ $? -eq 0 ] && [ $(ls "$T/mr" | grep -c "^nasrec-[0-9a-f]\{16\}-[0-9a-f]\{8\}\.model$") -eq 2 ] &&
     mp2json < "$T/r.mp" | grep -q "\"model\":\"$T/mr/nasrec-"'
sample-arch --space darts -n 1 --seed 3 --input 1x8x8 --classes 3 --channels 4 --cells 2 |
    train-arch --data "$T/d/idx" --batch 16 -q --save "$T/md" > "$T/dd.mp" 2> "$T/err"
CHECK_ERR=$T/err check "darts: a model file named by arch hash" \
    '[ $? -eq 0 ] && [ $(ls "$T/md" | grep -c "^darts-[0-9a-f]\{16\}-[0-9a-f]\{8\}\.model$") -eq 1 ]'

# --- predict: exactly train-arch's numbers --------------------------------------------
# same_metrics RECORDS MODEL-DIR [predict options]: predict --eval on each record's model
# file gives exactly its truth (test_acc, test_loss; click models logloss and auc)
same_metrics() {
    recs=$1; shift
    mp2json < "$recs" | while IFS= read -r line; do
        m=$(printf '%s' "$line" | $PY -c 'import json,sys; print(json.loads(sys.stdin.read())["model"])')
        e=$(predict --model "$m" --eval "$@") || { echo "predict failed on $m"; continue; }
        $PY - "$line" "$e" <<'PY' || echo "differs: $m"
import json, sys
t, e = json.loads(sys.argv[1])["truth"], json.loads(sys.argv[2])
keys = ["test_acc", "test_loss"] + (["logloss", "auc"] if "auc" in t else [])
bad = [(k, t[k], e[k]) for k in keys if t[k] != e[k]]
assert not bad and e["n"] > 0, bad
PY
    done
}
same_metrics "$T/t.mp" > "$T/same" 2>&1
CHECK_ERR=$T/same check "predict --eval: train-arch's test_acc and test_loss exactly (nb201, 3 models)" '[ ! -s "$T/same" ]'
train-arch --data "$T/d/png" $TR --threads 2 --test-fraction 0.5 --save "$T/mt" < "$T/a.mp" > "$T/tt.mp" 2> "$T/err"
same_metrics "$T/tt.mp" > "$T/same" 2>&1
CHECK_ERR=$T/same check "the same with two threads and a test subset (from the recipe)" '[ ! -s "$T/same" ]'
same_metrics "$T/r.mp" > "$T/same" 2>&1
CHECK_ERR=$T/same check "nasrec: log loss, AUC and accuracy exactly" '[ ! -s "$T/same" ]'
same_metrics "$T/dd.mp" > "$T/same" 2>&1
CHECK_ERR=$T/same check "darts: exactly" '[ ! -s "$T/same" ]'

# .npy with --labels: the model keeps the data options; other --data does not take its labels
sample-arch -n 1 --seed 4 --input 1x8x8 --classes 3 |
    train-arch --data "$T/d/npy/X.npy" --labels "$T/d/npy/y.npy" $TR --save "$T/mn" > "$T/n.mp" 2> "$T/err"
same_metrics "$T/n.mp" > "$T/same" 2>&1
CHECK_ERR=$T/same check ".npy and --labels: exactly, the data options from the model" '[ ! -s "$T/same" ]'
predict --model "$T"/mn/*.model --eval --data "$T/d/npy/X.npy" > /dev/null 2> "$T/err"
check "other --data: the model's --labels file is not used" '[ $? -eq 1 ] && grep -q "needs --labels" "$T/err"'
same_metrics "$T/n.mp" --data "$T/d/npy/X.npy" --labels "$T/d/npy/y.npy" > "$T/same" 2>&1
CHECK_ERR=$T/same check "... and given again, the same numbers" '[ ! -s "$T/same" ]'

# predictions: one per example, in split order, consistent with the metrics
m1=$(mp2json < "$T/tt.mp" | head -1 | $PY -c 'import json,sys; print(json.loads(sys.stdin.read())["model"])')
predict --model "$m1" --test-fraction 0.5 -o "$T/p.mp" 2> "$T/err"
e=$(predict --model "$m1" --eval)
mp2json < "$T/p.mp" | $PY -c '
import json, math, sys
e = json.loads(sys.argv[1])
p = [json.loads(l) for l in sys.stdin]
assert len(p) == e["n"] > 0, (len(p), e)
assert all(r["kind"] == "prediction" and len(r["probs"]) == 3 for r in p)
assert [r["index"] for r in p] == sorted({r["index"] for r in p})
acc = sum(r["pred"] == r["label"] for r in p) / len(p)
loss = sum(-math.log(r["probs"][r["label"]]) for r in p) / len(p)
assert acc == e["test_acc"] and abs(loss - e["test_loss"]) < 1e-6, (acc, loss, e)
assert all(abs(sum(r["probs"]) - 1) < 1e-9 and r["probs"][r["pred"]] == max(r["probs"]) for r in p)
assert all(isinstance(r["class"], str) for r in p)
print("ok")' "$e" > "$T/py.out" 2>&1
CHECK_ERR=$T/py.out check "predictions: one per example of the subset, accuracy and loss as --eval, class names" \
    'grep -q "^ok$" "$T/py.out"'
n_all=$(predict --model "$m1" | mp2json | wc -l)
n_half=$(mp2json < "$T/p.mp" | wc -l)
n_tr=$(predict --model "$m1" --split train | mp2json | wc -l)
check "predictions default to the whole split ($n_all test, $n_half in the half, $n_tr train)" \
    '[ "$n_all" -gt "$n_half" ] && [ "$n_tr" -gt "$n_all" ]'
mr1=$(ls "$T/mr"/*.model | head -1)
predict --model "$mr1" | mp2json | head -1 > "$T/pr.json"
check "click models: prob and pred" \
    'grep -q "\"kind\":\"prediction\"" "$T/pr.json" && grep -q "\"prob\":0\.[0-9]" "$T/pr.json"'
predict -h > "$T/h" && check "predict -h lists the options with defaults" \
    'grep -q -- "--split NAME.*\[test\]" "$T/h" && grep -q -- "--threads INT" "$T/h"'

# --- predict: bad input ---------------------------------------------------------------
# bad NAME MODEL WANT [options]: exit 1, "predict: error: ..." naming MODEL (or WANT),
# and nothing written at the -o path
bad() {
    name=$1 model=$2 want=$3; shift 3
    rm -f "$T/out.mp"
    predict --model "$model" -o "$T/out.mp" "$@" 2> "$T/err"; rc=$?
    CHECK_ERR=$T/err check "$name: exit 1, names the file, nothing written" \
        '[ $rc -eq 1 ] && grep -q "^predict: error: .*$want" "$T/err" && [ ! -e "$T/out.mp" ] &&
         [ -z "$(ls "$T" | grep "out.mp.tmp")" ]'
}
cp "$m1" "$T/flip.model"
$PY -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 4; open(sys.argv[1], "wb").write(b)' "$T/flip.model"
bad "a flipped bit" "$T/flip.model" "flip.model: content hash mismatch"
head -c 5000 "$m1" > "$T/trunc.model"
bad "a truncated model" "$T/trunc.model" "trunc.model: truncated"
bad "a missing model" "$T/none.model" "none.model: cannot open"
warmup-supernet --fraction 0 -o "$T/sn.ckpt" 2> /dev/null
bad "a supernet checkpoint as model" "$T/sn.ckpt" 'sn.ckpt: not a model file (kind is "supernet"'
if [ -d /usr/share/datasets/fashion-mnist ]; then
    bad "data of other classes" "$m1" "fashion-mnist has 1x8x8 inputs (resized from 28x28) and 10 classes, the model .*$m1 was trained on 1x8x8 and 3 classes" \
        --data /usr/share/datasets/fashion-mnist
else
    echo "skip: data of other classes needs /usr/share/datasets/fashion-mnist"
fi
bad "data that is not there" "$m1" "$T/nodata" --data "$T/nodata"
# rehash MODEL OUT KEY JSON: a model with one header key replaced and its hash made right
rehash() {
    $PY - "$@" <<'PY'
import hashlib, json, msgpack, sys
m = msgpack.unpackb(open(sys.argv[1], "rb").read(), raw=False)
m[sys.argv[3]] = json.loads(sys.argv[4])
del m["hash"]
b = msgpack.packb(m, use_bin_type=True)
h = hashlib.sha256(b).hexdigest()
b = bytes([b[0] + 1]) + b[1:] + msgpack.packb("hash") + b"\xd9\x40" + h.encode()
open(sys.argv[2], "wb").write(b)
PY
}
rehash "$m1" "$T/sp.model" space '"darts"'
bad "a model claiming another space" "$T/sp.model" "sp.model: arch:"
other=$(mp2json < "$T/tt.mp" | sed -n 2p | $PY -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())["arch"]))')
rehash "$m1" "$T/arch.model" arch "$other"
bad "tensors of another arch" "$T/arch.model" "arch.model: .*tensor"
rehash "$m1" "$T/ok.model" metrics '{"test_acc": 0.5, "test_loss": 1, "train_loss": 1, "n_test": 1, "params": 1}'
predict --model "$T/ok.model" --eval > /dev/null 2> "$T/err"
CHECK_ERR=$T/err check "(the rehash itself gives a loadable model)" '[ $? -eq 0 ]'
echo old > "$T/keep.mp"
predict --model "$T/flip.model" -o "$T/keep.mp" 2> /dev/null
check "a failing predict leaves an existing -o file as it was" '[ $? -eq 1 ] && [ "$(cat "$T/keep.mp")" = old ]'
predict --model "$m1" -o "$T" 2> "$T/err"
check "-o a directory: usage error (2)" '[ $? -eq 2 ]'

rm -rf "$T"
finish
