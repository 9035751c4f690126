#!/bin/sh
# train-arch on a tiny synthetic IDX data set (4 classes of 8x8 images, a bright quadrant
# per class plus noise): records come back with the truth keys and every other key
# unchanged, training lowers the loss well below chance, a seed reproduces its result,
# and bad input fails with the record number after the earlier records were written.
set -u
PY=/usr/bin/python3
T=tests/tmp/t_train.$$ # private: others may run make test at the same time
rm -rf "$T" && mkdir -p "$T/data" || exit 1
. tests/lib.sh

"$PY" - "$T/data" <<'EOF' || exit 1
import gzip, struct, sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
def make(n):
    y = rng.integers(0, 4, n).astype(np.uint8)
    x = rng.normal(60, 30, (n, 8, 8))
    for i, k in enumerate(y):
        r, c = divmod(int(k), 2)
        x[i, 4 * r:4 * r + 4, 4 * c:4 * c + 4] += 120
    return np.clip(x, 0, 255).astype(np.uint8), y
def idx(x, y):
    return (struct.pack(">IIII", 0x803, len(x), 8, 8) + x.tobytes(),
            struct.pack(">II", 0x801, len(y)) + y.tobytes())
xi, yi = idx(*make(512))
open(f"{d}/train-images-idx3-ubyte", "wb").write(xi)
open(f"{d}/train-labels-idx1-ubyte", "wb").write(yi)
xi, yi = idx(*make(200))
gzip.open(f"{d}/t10k-images-idx3-ubyte.gz", "wb").write(xi)
gzip.open(f"{d}/t10k-labels-idx1-ubyte.gz", "wb").write(yi)
EOF

# Two records: the all-3x3 cell and a mixed one, with extra keys that must pass through.
"$PY" - "$T/in.mp" <<'EOF' || exit 1
import msgpack, sys
cfg = {"C": 4, "N": 1, "in_ch": 1, "H": 8, "W": 8, "classes": 4}
recs = [
    {"kind": "arch", "space": "nb201", "cfg": cfg, "id": "a",
     "arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
     "scores": {"sigeo": 1.5}, "note": [1, "two", None]},
    {"kind": "arch", "space": "nb201", "cfg": cfg, "id": "b",
     "arch": "|nor_conv_1x1~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|skip_connect~2|"},
]
with open(sys.argv[1], "wb") as f:
    for r in recs: f.write(msgpack.packb(r))
EOF

run() { train-arch --data "$T/data" --batch 32 -q "$@"; }

run --epochs 3 <"$T/in.mp" >"$T/out.mp" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && ok "train-arch exits 0" || { notok "train-arch exits 0 (rc $rc)"; cat "$T/err"; }

"$PY" - "$T/in.mp" "$T/out.mp" <<'EOF' && ok "truth keys added, other keys unchanged, loss lowered" || notok "record check"
import math, msgpack, sys
ins = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
outs = list(msgpack.Unpacker(open(sys.argv[2], "rb"), raw=False))
assert len(outs) == 2, f"{len(outs)} records out"
for i, o in zip(ins, outs):
    t = o.pop("truth")
    assert o == i, f"other keys changed: {o} vs {i}"
    for k in ("test_acc", "test_loss", "train_loss", "seconds", "epochs", "params", "recipe"):
        assert k in t, f"missing truth.{k}"
    assert 0 <= t["test_acc"] <= 1 and t["epochs"] == 3 and t["params"] > 0 and t["seconds"] > 0
    r = t["recipe"]
    assert (r["epochs"], r["batch"], r["seed"], r["schedule"], r["fraction"], r["threads"]) == (3, 32, 1, "cosine", 1.0, 1), r
    assert abs(r["lr"] - 0.1) < 1e-12 and r["nesterov"] is True and len(r["data_sha256"]) == 64
    # chance is ln 4 = 1.386 and 25%; the classes are easy to separate
    print(f"# {o['id']}: acc {t['test_acc']:.3f} test_loss {t['test_loss']:.3f} train_loss {t['train_loss']:.3f}")
    assert t["train_loss"] < 0.8 * math.log(4), f"train loss {t['train_loss']} not lowered"
    assert t["test_acc"] > 0.6, f"test acc {t['test_acc']}"
EOF

# A learning rate of ~0 leaves the loss near chance: the drop above comes from training.
run --epochs 1 --lr 1e-9 <"$T/in.mp" >"$T/still.mp" 2>>"$T/err"
"$PY" - "$T/still.mp" "$T/out.mp" <<'EOF' && ok "no learning rate, no learning" || notok "lr ~0 control"
import msgpack, sys
a = [r["truth"]["train_loss"] for r in msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False)]
b = [r["truth"]["train_loss"] for r in msgpack.Unpacker(open(sys.argv[2], "rb"), raw=False)]
print(f"# train_loss lr~0 {a}, lr 0.1 {b}")
assert len(a) == 2 and len(b) == 2 and all(x > y + 0.3 for x, y in zip(a, b))
EOF

# Same seed, same numbers; another seed, other numbers.
run --epochs 3 <"$T/in.mp" >"$T/again.mp" 2>>"$T/err"
run --epochs 3 --seed 2 <"$T/in.mp" >"$T/seed2.mp" 2>>"$T/err"
"$PY" - "$T/out.mp" "$T/again.mp" "$T/seed2.mp" <<'EOF' && ok "deterministic for a seed" || notok "determinism"
import msgpack, sys
def load(p):
    out = []
    for r in msgpack.Unpacker(open(p, "rb"), raw=False):
        t = r["truth"]
        out.append((t["test_acc"], t["test_loss"], t["train_loss"]))
    return out
a, b, c = (load(p) for p in sys.argv[1:4])
assert len(a) == 2 and a == b, f"{a} != {b}"
assert a != c, "seed 2 gave identical results"
EOF

# Subsets: fraction and test-fraction are recorded and run.
run --fraction 0.5 --test-fraction 0.25 --schedule constant <"$T/in.mp" >"$T/frac.mp" 2>>"$T/err"
"$PY" - "$T/frac.mp" <<'EOF' && ok "fraction, test-fraction, constant schedule" || notok "fractions"
import msgpack, sys
rs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
assert len(rs) == 2
r = rs[0]["truth"]["recipe"]
assert r["fraction"] == 0.5 and r["test_fraction"] == 0.25 and r["schedule"] == "constant"
# 50 test images: accuracy is a multiple of 1/50
acc = rs[0]["truth"]["test_acc"]
assert abs(acc * 50 - round(acc * 50)) < 1e-9, acc
EOF

# A record whose cfg disagrees with the data: error names the record, earlier ones written.
"$PY" - "$T/in.mp" "$T/bad.mp" <<'EOF' || exit 1
import msgpack, sys
recs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
bad = dict(recs[1]); bad["cfg"] = dict(bad["cfg"], classes=10)
with open(sys.argv[2], "wb") as f:
    for r in (recs[0], bad, recs[1]): f.write(msgpack.packb(r))
EOF
run --epochs 1 <"$T/bad.mp" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
n=$("$PY" -c "import msgpack,sys; print(len(list(msgpack.Unpacker(open(sys.argv[1],'rb')))))" "$T/bad.out")
if [ $rc -eq 1 ] && [ "$n" = 1 ] && grep -q '^train-arch: error: .*classes.*(record 2)$' "$T/bad.err"; then
    ok "cfg mismatch: exit 1, record 2 named, record 1 written"
else
    notok "cfg mismatch (rc $rc, $n records)"; cat "$T/bad.err"
fi

printf 'garbage\301' | run >"$T/g.out" 2>"$T/g.err"
rc=$?
[ $rc -eq 1 ] && grep -q '(record 1)' "$T/g.err" && ok "malformed input: exit 1" || { notok "malformed input (rc $rc)"; cat "$T/g.err"; }

run --data "$T/nowhere" <"$T/in.mp" >/dev/null 2>"$T/nd.err"
rc=$?
[ $rc -eq 1 ] && grep -q "nowhere" "$T/nd.err" && ok "missing data dir: exit 1, named" || { notok "missing data dir (rc $rc)"; cat "$T/nd.err"; }

train-arch --lr -1 <"$T/in.mp" >/dev/null 2>"$T/u.err"
rc=$?
[ $rc -eq 2 ] && grep -q -- "--lr" "$T/u.err" && ok "bad option: exit 2" || { notok "bad option (rc $rc)"; cat "$T/u.err"; }
train-arch -h | grep -q -- "--epochs INT" && ok "usage lists options" || notok "usage"

[ $n_fail -eq 0 ] && rm -rf "$T"
finish
