#!/bin/sh
# Few-shot supernets (warmup-supernet --fix, docs/warmup.md) on tiny generated IDX data:
# every path of a sub-supernet takes its fixed op on the split edge, so the other ops of
# that edge keep their initial weights while the fixed one trains; the checkpoint records
# the split and reads back; bad splits are usage errors naming the ranges. score-sigeo
# scores each record over the sub-supernet split on its op; checkpoints that do not form
# one split are usage errors, a record none fits is bad input.
set -u
T=tests/tmp/t_fewshot.$$ # private: others may run make test at the same time
rm -rf "$T"
mkdir -p "$T/data"
PY=/usr/bin/python3
. tests/lib.sh

idx_blobs "$T/data" 480 5 || exit 1

SP="--channels 4 --cells 1 --input 1x8x8 --classes 3"
TR="$SP --data $T/data --holdout 0 --fraction 0.5 --batch 16 --seed 3"
warmup-supernet $SP --fraction 0 --seed 3 -o "$T/init.ckpt" || { notok "untrained supernet"; exit 1; }

# Which conv weights of the cell ops on edge E changed from the initial supernet, as
# "conv1 conv3" flags (every cell and stage), plus the checkpoint's split.
cat >"$T/edge.py" <<'EOF'
import sys, msgpack
ld = lambda p: msgpack.unpackb(open(p, "rb").read(), raw=False)
a, b, e = ld(sys.argv[1]), ld(sys.argv[2]), int(sys.argv[3])
def changed(op):
    ns = [n for n in a["tensors"] if ".e%d.%s." % (e, op) in n and n.endswith(".conv.w")]
    assert ns, op
    return int(any(a["tensors"][n]["data"] != b["tensors"][n]["data"] for n in ns))
tr = b["train"]
print(changed("conv1"), changed("conv3"), tr.get("fix_gene", "-"), tr.get("fix_choice", "-"))
EOF

# One-shot: 15 steps of uniform paths train both convs of edge 3.
warmup-supernet $TR -o "$T/one.ckpt" || notok "one-shot warm-up"
check "one-shot: both convs of edge 3 train, no split recorded" \
    '[ "$($PY "$T/edge.py" "$T/init.ckpt" "$T/one.ckpt" 3)" = "1 1 - -" ]'
for f in "3=nor_conv_3x3:0 1 3 3" "3=nor_conv_1x1:1 0 3 2" "3=skip_connect:0 0 3 1" "3=0:0 0 3 0"; do
    fix=${f%%:*} want=${f#*:}
    warmup-supernet $TR --fix "$fix" -o "$T/fix.ckpt" || notok "--fix $fix"
    got=$($PY "$T/edge.py" "$T/init.ckpt" "$T/fix.ckpt" 3)
    check "--fix $fix: only its op's conv on edge 3 trains, the split is recorded ($got)" '[ "$got" = "$want" ]'
done
warmup-supernet $TR --sampling fair --fix 3=nor_conv_1x1 -o "$T/fair.ckpt" || notok "--fix with fair sampling"
check "--fix with fair sampling: only its op's conv on edge 3 trains" \
    '[ "$($PY "$T/edge.py" "$T/init.ckpt" "$T/fair.ckpt" 3)" = "1 0 3 2" ]'
check "... while the other edges train every op" \
    '[ "$($PY "$T/edge.py" "$T/init.ckpt" "$T/fair.ckpt" 0)" = "1 1 3 2" ]'

# The split reaches the checkpoint and back: score-sigeo accepts the file; --fix changes
# the bytes and the cache name; the same options give the same bytes.
warmup-supernet $TR --fix 3=nor_conv_3x3 -o "$T/c3.ckpt"
warmup-supernet $TR --fix 3=3 -o "$T/c3b.ckpt"
check "--fix by name or number: byte-identical checkpoints" 'cmp -s "$T/c3.ckpt" "$T/c3b.ckpt"'
check "--fix: other bytes than the one-shot supernet" '! cmp -s "$T/c3.ckpt" "$T/one.ckpt"'
a=$(warmup-supernet $TR --cache-name)
b=$(warmup-supernet $TR --fix 3=nor_conv_3x3 --cache-name)
c=$(warmup-supernet $TR --fix 3=nor_conv_1x1 --cache-name)
check "cache name names the split ($b)" \
    '[ "$a" != "$b" ] && [ "$b" != "$c" ] && case "$b" in *-fix3=3-*.ckpt) true;; *) false;; esac'
sample-arch $SP -n 1 --seed 2 > "$T/a.mp"
$PY - "$T/c3.ckpt" "$T/bad.ckpt" <<'EOF'
import hashlib, sys, msgpack
m = msgpack.unpackb(open(sys.argv[1], "rb").read(), raw=False)
m["train"]["fix_choice"] = 7
del m["hash"]
raw = msgpack.packb(m)
m["hash"] = hashlib.sha256(raw).hexdigest()
open(sys.argv[2], "wb").write(msgpack.packb(m))
EOF
score-sigeo --supernet "$T/bad.ckpt" --data "$T/data" --holdout 0 -q < "$T/a.mp" > /dev/null 2> "$T/err"
check "a checkpoint whose split is out of range is refused (1), naming the keys and ranges" \
    '[ $? -eq 1 ] && grep -q "bad.ckpt: train: fix_gene and fix_choice .* 0..5 and 0..4" "$T/err"'

# Usage errors, before any work.
for f in 6=none 3=conv x=1 3= 3=5; do
    warmup-supernet $SP --fraction 0 --fix "$f" -o "$T/x.ckpt" 2> "$T/err"
    check "--fix $f: usage error (2) giving the ranges and op names, no file" \
        '[ $? -eq 2 ] && grep -q -- "--fix: .*avg_pool_3x3" "$T/err" && [ ! -e "$T/x.ckpt" ]'
done
warmup-supernet -s darts $SP --fraction 0 --fix 0=0 -o "$T/x.ckpt" 2> "$T/err"
check "--fix in a space without a split (darts): usage error (2) saying so" \
    '[ $? -eq 2 ] && grep -q "darts space has no few-shot split" "$T/err" && [ ! -e "$T/x.ckpt" ]'

# score-sigeo over the five sub-supernets of a split on edge 0 (1<-0): each record gets
# the scores of the sub-supernet split on its own op, scored alone. The two hand-made cells
# leave node 1 without an outgoing edge, so edge 0 is dead and they have one live network:
# the memo must not pass scores from one sub-supernet to another.
SC="--data $T/data --holdout 0 --batch 8 --batches 2 --bn-batches 2 --eval-batches 2 --proxies sigeo,jacov,meco,oneshot -q"
OPS="none skip_connect nor_conv_1x1 nor_conv_3x3 avg_pool_3x3"
ALL=""
for op in $OPS; do
    warmup-supernet $TR --fix "0=$op" -q -o "$T/e0-$op.ckpt" || notok "sub-supernet $op"
    ALL="$ALL --supernet $T/e0-$op.ckpt"
done
C='"cfg":{"C":4,"N":1,"in_ch":1,"H":8,"W":8,"classes":3}'
sample-arch $SP -n 30 --seed 6 > "$T/b.mp"
printf '{"arch":"|nor_conv_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|",%s}\n' "$C" | json2mp >> "$T/b.mp"
printf '{"arch":"|nor_conv_1x1~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|",%s}\n' "$C" | json2mp >> "$T/b.mp"
cat >"$T/split.py" <<'EOF'
import re, sys, msgpack
op0 = lambda r: re.findall(r"\|([a-z_0-9]+)~", r["arch"])[0]
load = lambda f: list(msgpack.Unpacker(open(f, "rb"), raw=False))
if sys.argv[1] == "count":
    print(len(load(sys.argv[2])))
elif sys.argv[1] == "split":  # the records whose edge 0 takes op argv[3]
    recs = load(sys.argv[2])
    sys.stdout.buffer.write(b"".join(msgpack.packb(r) for r in recs if op0(r) == sys.argv[3]))
else:  # the multi-checkpoint output equals the single ones, record by record
    recs, single = load(sys.argv[2]), {}
    for f in sys.argv[3:]:
        for r in load(f):
            single.setdefault(r["arch"], r)
    bad = [r["arch"] for r in recs if single.get(r["arch"]) != r]
    n_ops = len(set(op0(r) for r in recs))
    print(len(recs), n_ops, len(bad), "same" if recs[-1]["scores"] == recs[-2]["scores"] else "differ")
EOF
score-sigeo $ALL $SC < "$T/b.mp" > "$T/multi.mp" 2> "$T/err"
check "five sub-supernets: 32 records scored, exit 0" \
    '[ $? -eq 0 ] && [ "$($PY "$T/split.py" count "$T/multi.mp")" = 32 ]'
for op in $OPS; do
    $PY "$T/split.py" split "$T/b.mp" "$op" > "$T/b-$op.mp"
    score-sigeo --supernet "$T/e0-$op.ckpt" $SC < "$T/b-$op.mp" > "$T/one-$op.mp" || notok "score $op alone"
done
r=$($PY "$T/split.py" cmp "$T/multi.mp" "$T"/one-*.mp)
check "each record's scores are those of its op's sub-supernet alone; the dead-edge twins differ ($r)" \
    '[ "$r" = "32 5 0 differ" ]'

# A candidate no checkpoint fits: bad input naming the record, its op and the ops given;
# skipped with --keep-going.
TWO="--supernet $T/e0-none.ckpt --supernet $T/e0-nor_conv_3x3.ckpt"
score-sigeo $TWO $SC < "$T/b.mp" > "$T/x.mp" 2> "$T/err"
check "no sub-supernet for the record's op: exit 1 naming the record, the op and the splits" \
    '[ $? -eq 1 ] && grep -q "score-sigeo: error: the arch takes [a-z_0-9]* on edge 0; no --supernet is split on it (given: none, nor_conv_3x3) (record [0-9]*)" "$T/err"'
score-sigeo $TWO $SC --keep-going < "$T/b.mp" > "$T/x.mp" 2> "$T/err"
cat "$T/b-none.mp" "$T/b-nor_conv_3x3.mp" > "$T/fit.mp"
n=$($PY "$T/split.py" count "$T/fit.mp") m=$($PY "$T/split.py" count "$T/x.mp")
check "... --keep-going skips them and scores the $n others" '[ "$n" = "$m" ] && [ "$n" -gt 0 ]'

# Checkpoints that do not form one split: usage errors (2) naming the files, no output.
warmup-supernet $TR --fix 0=avg_pool_3x3 --lr 0.05 -q -o "$T/lr.ckpt"
for bad in "one.ckpt:is not a few-shot sub-supernet" "e0-none.ckpt:is split on the same op" \
           "c3.ckpt:is split at another gene" "lr.ckpt:was warmed up with other options"; do
    f=${bad%%:*} why=${bad#*:}
    score-sigeo --supernet "$T/e0-none.ckpt" --supernet "$T/e0-skip_connect.ckpt" --supernet "$T/$f" $SC < "$T/b.mp" > "$T/x.mp" 2> "$T/err"
    check "--supernet $f with two of the edge-0 split: usage error (2), '$why'" \
        '[ $? -eq 2 ] && [ ! -s "$T/x.mp" ] && grep -q -- "--supernet: .*$f .*$why" "$T/err"'
done

[ $n_fail -eq 0 ] && rm -rf "$T"
finish
