#!/bin/sh
# ONNX export (docs/models.md "ONNX export") checked by independent readers: for NB201
# cells that together use every op (none edges, zero nodes, dead nodes, a cell whose
# output is all zeros), NASRec models (fc, gate and dot-product blocks; emb 1) and a DARTS
# network, each with perturbed BN/LN/bias values, onnx.checker (python3-onnx, full check
# with shape inference) accepts the file and onnxruntime-node's outputs on a batch match
# the engine's to 1e-4 relative (tests/onnx_check.js says how it is measured). Then
# export-onnx on trained model files (three NB201 cells with none edges, a dead node and a
# zero cell output, two NASRec models, a DARTS model): the checker accepts each file, its
# metadata names the arch, and onnxruntime's probabilities on the test examples match
# predict's to 1e-4; bad model files and outputs fail with nothing written. Each reader's
# part skips with a message when it is missing.
set -u
T=tests/tmp/t_onnx.$$
rm -rf "$T" && mkdir -p "$T" || exit 1
trap 'rm -rf "$T"' EXIT
. tests/lib.sh
PY=/usr/bin/python3
TB=${SIGEO_TESTS:-build/tests} # make sanitize: its own build of the dumpers
DUMP=$TB/onnx_dump INPUTS=$TB/onnx_inputs
[ -x "$DUMP" ] || { echo "skip: $DUMP not built (make $DUMP)"; exit 0; }

# onnxruntime-node: .ci/run installs it into build/node; NODE_PATH may name another place.
export NODE_PATH="$PWD/build/node/node_modules${NODE_PATH:+:$NODE_PATH}"
ort=1
if ! command -v node > /dev/null 2>&1; then
    echo "skip: no node; the onnxruntime comparisons need node and onnxruntime-node"; ort=0
elif ! node -e "require('onnxruntime-node')" > /dev/null 2>&1; then
    echo "skip: onnxruntime-node not found (npm install --prefix build/node --ignore-scripts onnxruntime-node)"; ort=0
fi
chk=1
"$PY" -c "import onnx.checker" 2> /dev/null || { echo "skip: no python3-onnx; onnx.checker not run"; chk=0; }

# case NAME SPACE ARCH [KEY=VALUE...]: export, check, run; ops of the live nodes to $T/ops
case_() {
    name=$1; shift
    CHECK_ERR="$T/$name.err"
    "$DUMP" "$T/$name" "$@" > "$T/$name.ops" 2> "$T/$name.err"
    check "$name: exported" '[ $? -eq 0 ] && [ -s "$T/$name.onnx" ]'
    grep -v ' dead$' "$T/$name.ops" | grep '^op ' >> "$T/ops"
    grep -q ' dead$' "$T/$name.ops" && echo "$name" >> "$T/dead"
    if [ $chk = 1 ]; then
        "$PY" -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" \
            "$T/$name.onnx" 2> "$T/$name.err"
        check "$name: onnx.checker accepts it" '[ $? -eq 0 ]'
    fi
    if [ $ort = 1 ]; then
        node tests/onnx_check.js -t 1e-4 "$T/$name" > "$T/$name.cmp" 2> "$T/$name.err"
        rc=$?
        sed "s/^/    $name: /" "$T/$name.cmp"
        CHECK_ERR="$T/$name.cmp"
        check "$name: onnxruntime matches the engine to 1e-4" '[ $rc -eq 0 ]'
    fi
}

: > "$T/ops"; : > "$T/dead"
# every NB201 op; a dead node (node 1 reaches only none edges) and a zero node feeding a
# conv; a cell whose output is zero (the rest of the network sees a constant); pools only
case_ all5 nb201 '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|'
case_ dead nb201 '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|' in_ch=3 H=16 W=16 N=2
case_ zero nb201 '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|' B=3
case_ pools nb201 '|avg_pool_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|avg_pool_3x3~2|' C=4 in_ch=2 H=8 W=8 classes=3
# NASRec: dot-product, gate and fc blocks; embeddings of size 1; ids out of range
case_ rec1 nasrec 'B0:dp64,efc32,d=0,s=0|B1:gate64,efc32,d=0+1,s=0+1|B2:dp16,efc16,d=0+2,s=1|B3:fc16,efc32,d=1+2+3,s=0+2+3' rows=50
case_ rec2 nasrec 'B0:gate128,efc32,d=0,s=0|B1:fc128,efc16,d=0,s=0|B2:gate16,efc16,d=0+1+2,s=0+1+2|B3:fc32,efc32,d=1+2+3,s=1+2+3' rows=50 B=7
case_ rec3 nasrec 'B0:dp64,efc32,d=0,s=0|B1:gate64,efc32,d=0+1,s=0+1|B2:dp16,efc16,d=0+2,s=1' blocks=3 emb=1 rows=7 in_ch=10 dense=4
# DARTS: separable and dilated convs, both pools, skip (factorized reduce), concatenation
case_ darts darts "Genotype(normal=[('max_pool_3x3', 0), ('dil_conv_3x3', 1), ('dil_conv_5x5', 0), ('avg_pool_3x3', 2), ('dil_conv_3x3', 0), ('sep_conv_3x3', 2), ('sep_conv_5x5', 2), ('avg_pool_3x3', 3)], normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 1), ('dil_conv_3x3', 2), ('avg_pool_3x3', 1), ('dil_conv_3x3', 3), ('dil_conv_3x3', 0), ('dil_conv_3x3', 4)], reduce_concat=[2, 3, 4, 5])" C=4 N=3

# Random candidates, run by one node process: 30 NB201 cells (3 channels, 8x8, 2 cells per
# stage), 10 NASRec models, 3 DARTS networks.
arches() { mp2json | "$PY" -c 'import json, sys
for l in sys.stdin: print(json.loads(l)["arch"])'; }
sweep=""
sample-arch -n 30 --seed 11 | arches > "$T/nb.txt"
sample-arch --space nasrec -n 10 --seed 11 | arches > "$T/rec.txt"
sample-arch --space darts -n 3 --seed 11 | arches > "$T/darts.txt"
i=0 bad=0
while IFS= read -r a; do
    i=$((i + 1)); "$DUMP" "$T/s$i" nb201 "$a" C=4 N=2 H=8 W=8 in_ch=3 > /dev/null || bad=$((bad + 1)); sweep="$sweep $T/s$i"
done < "$T/nb.txt"
while IFS= read -r a; do
    i=$((i + 1)); "$DUMP" "$T/s$i" nasrec "$a" rows=100 > /dev/null || bad=$((bad + 1)); sweep="$sweep $T/s$i"
done < "$T/rec.txt"
while IFS= read -r a; do
    i=$((i + 1)); "$DUMP" "$T/s$i" darts "$a" C=4 N=3 > /dev/null || bad=$((bad + 1)); sweep="$sweep $T/s$i"
done < "$T/darts.txt"
check "43 random candidates exported" '[ $i -eq 43 ] && [ $bad -eq 0 ]'
if [ $ort = 1 ]; then
    node tests/onnx_check.js -t 1e-4 $sweep > "$T/sweep" 2>&1
    rc=$?
    tail -n 1 "$T/sweep" | sed "s/^/    /"
    CHECK_ERR=$T/sweep check "onnxruntime matches the engine to 1e-4 on all of them" '[ $rc -eq 0 ]'
fi

# Every op of the image, recommender and DARTS families reached the logits in some case.
missing=""
for op in input zero conv bn relu add avgpool3 avgpool2 gap linear embed slice rlinear efc dot \
          layernorm sigmoid mul concat dwconv maxpool3s avgpool3s facred chcat; do
    grep -qx "op $op" "$T/ops" || missing="$missing $op"
done
check "every exportable op is exported in some case (missing:${missing:- none})" '[ -z "$missing" ]'
check "dead nodes are present (and left out) in some case" 'grep -q dead "$T/dead"'

# --- export-onnx on model files: onnxruntime against predict ---------------------------
"$TB/test_formats" export "$T/d" > /dev/null || { echo "NOT OK fixtures"; exit 1; }
[ -x "$INPUTS" ] || { echo "skip: $INPUTS not built"; finish; }
TR="--batch 16 --epochs 2 --lr 0.05 -q"
# the cells of all5, dead and zero above, trained; then nasrec and darts models
for a in '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|' \
         '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|' \
         '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|'; do
    printf '{"kind":"arch","space":"nb201","arch":"%s","cfg":{"C":8,"N":1,"in_ch":1,"H":8,"W":8,"classes":3}}\n' "$a"
done | json2mp | train-arch --data "$T/d/png" $TR --save "$T/m" > /dev/null 2> "$T/err"
CHECK_ERR=$T/err check "nb201 cells trained and saved" '[ $? -eq 0 ] && [ $(ls "$T/m" | wc -l) -eq 3 ]'
gen-criteo --rows 2000 --seed 4 -o "$T/c.tsv" &&
    sample-arch --space nasrec -n 2 --seed 3 --cells 2 --channels 32 |
    train-arch --data "$T/c.tsv" --batch 32 -q --save "$T/m" > /dev/null 2> "$T/err"
CHECK_ERR=$T/err check "nasrec models trained and saved" '[ $? -eq 0 ] && [ $(ls "$T/m" | wc -l) -eq 5 ]'
sample-arch --space darts -n 1 --seed 3 --input 1x8x8 --classes 3 --channels 4 --cells 2 |
    train-arch --data "$T/d/idx" $TR --save "$T/m" > /dev/null 2> "$T/err"
CHECK_ERR=$T/err check "a darts model trained and saved" '[ $? -eq 0 ] && [ $(ls "$T/m" | wc -l) -eq 6 ]'

for f in "$T"/m/*.model; do
    [ -e "$f" ] || continue
    p=${f%.model} name=$(basename "$p")
    export-onnx "$f" -o "$p.onnx" 2> "$T/err"
    CHECK_ERR=$T/err check "export-onnx $name" '[ $? -eq 0 ] && [ -s "$p.onnx" ] && grep -q "bytes, ONNX opset 17" "$T/err"'
    if [ $chk = 1 ]; then
        "$PY" - "$p.onnx" "$f" > "$T/err" 2>&1 <<'PY'
import msgpack, onnx, sys
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
meta = {p.key: p.value for p in m.metadata_props}
src = msgpack.unpackb(open(sys.argv[2], "rb").read(), raw=False)
assert meta["sigeo.arch"] == src["arch"] and meta["sigeo.space"] == src["space"], meta
assert meta["sigeo.model_sha256"] == src["hash"], meta
PY
        CHECK_ERR=$T/err check "$name: onnx.checker accepts it; metadata names the arch and model" '[ $? -eq 0 ]'
    fi
    [ $ort = 1 ] || continue
    # the test examples predict scores, as the graph takes them; predict's probabilities
    "$INPUTS" "$f" "$p" 400 > "$T/n" 2> "$T/err" &&
        predict --model "$f" -o "$p.pred" 2>> "$T/err" &&
        "$PY" - "$p.pred" "$p.out0" "$(cat "$T/n")" >> "$T/err" 2>&1 <<'PY'
import msgpack, sys, numpy as np
n, out = int(sys.argv[3]), []
for i, r in enumerate(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False)):
    if i == n:
        break
    assert r["index"] == i, (r["index"], i)
    out.append(r["probs"] if "probs" in r else [r["prob"]])
assert len(out) == n
np.array(out, dtype=np.float32).tofile(sys.argv[2])
PY
    CHECK_ERR=$T/err check "$name: $(cat "$T/n") test examples and predict's probabilities" '[ $? -eq 0 ]'
    node tests/onnx_check.js -t 1e-4 "$p" > "$T/cmp" 2>&1
    rc=$?
    sed "s/^/    $name: /" "$T/cmp"
    CHECK_ERR=$T/cmp check "$name: onnxruntime's probabilities match predict's to 1e-4" '[ $rc -eq 0 ]'
done

# --- bad input: exit 1 (2 for usage), nothing written --------------------------------
CHECK_ERR=$T/err
f=$(ls "$T"/m/nb201-*.model | head -1)
cp "$f" "$T/bad.model"
printf '\377' | dd of="$T/bad.model" bs=1 seek=2000 conv=notrunc 2> /dev/null
export-onnx "$T/bad.model" -o "$T/x.onnx" 2> "$T/err"
check "a damaged model: exit 1, named, nothing written" \
    '[ $? -eq 1 ] && grep -q "bad.model" "$T/err" && [ ! -e "$T/x.onnx" ]'
head -c 500 "$f" > "$T/short.model"
echo keep > "$T/keep.onnx"
export-onnx "$T/short.model" -o "$T/keep.onnx" 2> "$T/err"
check "a truncated model: exit 1, the existing output left as it was" \
    '[ $? -eq 1 ] && [ "$(cat "$T/keep.onnx")" = keep ]'
warmup-supernet --data "$T/d/png" --input 1x8x8 --fraction 0 -q -o "$T/sn.ckpt" 2> /dev/null
export-onnx "$T/sn.ckpt" -o "$T/x.onnx" 2> "$T/err"
check "a supernet checkpoint: exit 1, not a model file" \
    '[ $? -eq 1 ] && grep -q "not a model" "$T/err" && [ ! -e "$T/x.onnx" ]'
mkdir "$T/dir.onnx"
export-onnx "$f" -o "$T/dir.onnx" 2> "$T/err"
check "-o a directory: usage error (2), the directory left" '[ $? -eq 2 ] && [ -d "$T/dir.onnx" ]'
export-onnx "$f" 2> "$T/err"
check "no -o: usage error (2)" '[ $? -eq 2 ] && grep -q -- "-o FILE is required" "$T/err"'
export-onnx -h > "$T/h" 2>&1
check "-h lists the options" '[ $? -eq 0 ] && grep -q -- "--output FILE" "$T/h" && grep -q -- "--quiet" "$T/h"'
ln -s target.onnx "$T/link.onnx"
export-onnx -q "$f" -o "$T/link.onnx" 2> "$T/err"
check "-o a symlink: its target written, the link kept, -q quiet" \
    '[ $? -eq 0 ] && [ -L "$T/link.onnx" ] && cmp -s "$T/target.onnx" "${f%.model}.onnx" && [ ! -s "$T/err" ]'

rm -rf "$T"
finish
