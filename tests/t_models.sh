#!/bin/sh
# Model files end to end: train-arch --save writes one verified model file per record for
# nb201, nasrec and darts (named by space and index or arch hash, path in the record,
# never over a non-directory), the file's hash is the documented slice of its bytes.
set -u
T=$PWD/tests/tmp/t_models.$$
rm -rf "$T"
mkdir -p "$T"
. tests/lib.sh
PY=/usr/bin/python3
build/tests/test_formats export "$T/d" > /dev/null || { echo "NOT OK fixtures"; exit 1; }
TR="--batch 16 --epochs 2 --lr 0.05 -q"

# --- train-arch --save ------------------------------------------------------------------
sample-arch -n 3 --seed 4 --input 1x8x8 --classes 3 > "$T/a.mp"
train-arch --data "$T/d/png" $TR --save "$T/m" < "$T/a.mp" > "$T/t.mp" 2> "$T/err"
CHECK_ERR=$T/err check "train-arch --save: exit 0, one model file per record" \
    '[ $? -eq 0 ] && [ $(ls "$T/m" | grep -c "^nb201-[0-9]*\.model$") -eq 3 ]'
# the record names its file; the file holds what the record says; the hash is the slice
$PY - "$T/t.mp" > "$T/py.out" 2>&1 <<'PY'
import hashlib, msgpack, sys
for r in msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False):
    b = open(r["model"], "rb").read()
    m = msgpack.unpackb(b, raw=False)
    assert r["model"].endswith("/nb201-%d.model" % r["index"]), r["model"]
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
    '[ $? -eq 0 ] && [ $(ls "$T/mr" | grep -c "^nasrec-[0-9a-f]\{16\}\.model$") -eq 2 ] &&
     mp2json < "$T/r.mp" | grep -q "\"model\":\"$T/mr/nasrec-"'
sample-arch --space darts -n 1 --seed 3 --input 1x8x8 --classes 3 --channels 4 --cells 2 |
    train-arch --data "$T/d/idx" --batch 16 -q --save "$T/md" > "$T/dd.mp" 2> "$T/err"
CHECK_ERR=$T/err check "darts: a model file named by arch hash" \
    '[ $? -eq 0 ] && [ $(ls "$T/md" | grep -c "^darts-[0-9a-f]\{16\}\.model$") -eq 1 ]'

rm -rf "$T"
finish
