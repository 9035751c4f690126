#!/bin/sh
# Few-shot supernets (warmup-supernet --fix, docs/warmup.md) on tiny generated IDX data:
# every path of a sub-supernet takes its fixed op on the split edge, so the other ops of
# that edge keep their initial weights while the fixed one trains; the checkpoint records
# the split and reads back; bad splits are usage errors naming the ranges.
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

[ $n_fail -eq 0 ] && rm -rf "$T"
finish
