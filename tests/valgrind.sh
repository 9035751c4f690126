#!/bin/sh
# make valgrind: memcheck (--leak-check=full, any error fails) over the end-to-end pipeline
# sample-arch | score-sigeo (untrained tiny supernet, tiny IDX data) | rank, over the JSON
# round trip, over a bad-input run (--keep-going on a damaged stream), over train-arch --save
# and predict (a model file, a truncated one), and over the .npz, gzipped .npy and PNG
# folder readers and a .npy whose header declares too much.
# Not part of make test (slow); run from the repository root.
set -u
cd "$(dirname "$0")/.." || exit 2
T=tests/tmp/valgrind
rm -rf "$T"
mkdir -p "$T/data"
VG="valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes -q"
fail=0
exec 3>&1 # run() reports here; its callers redirect stdout
/usr/bin/python3 - "$T/data" <<'PY' || exit 1
import random, struct, sys
r = random.Random(3)
n = 64
open(sys.argv[1] + "/train-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 0x803, n, 8, 8) + bytes(r.randrange(256) for _ in range(64 * n)))
open(sys.argv[1] + "/train-labels-idx1-ubyte", "wb").write(struct.pack(">II", 0x801, n) + bytes(i % 3 for i in range(n)))
PY
SP="--channels 2 --cells 1 --input 1x8x8 --classes 3"
run() { # name, then the command; stdin/stdout as given by the caller
    name=$1; shift
    $VG --log-file="$T/$name.vg" "$@"; rc=$?
    if [ $rc -eq 99 ] || [ -s "$T/$name.vg" ]; then
        echo "NOT OK valgrind $name (rc $rc)" >&3; cat "$T/$name.vg" >&3; fail=1
    else
        echo "ok valgrind $name (rc $rc)" >&3
    fi
}
run warmup bin/warmup-supernet $SP --fraction 0 -q -o "$T/sn.ckpt"
run sample bin/sample-arch $SP -n 6 --seed 2 > "$T/a.mp"
run score bin/score-sigeo --supernet "$T/sn.ckpt" --data "$T/data" --batch 8 --batches 2 \
    --bn-batches 1 --eval-batches 1 --proxies all -q < "$T/a.mp" > "$T/s.mp"
run rank bin/rank --by scores.sigeo < "$T/s.mp" > "$T/r.mp"
run rank-stats bin/rank --by all --truth scores.zico -F stats < "$T/s.mp" > /dev/null 2>&1
run rank-select bin/rank --where 'scores.params>0' --pareto scores.sigeo,-scores.params \
    --aggregate sigeo,zico --truth scores.jacov -F table < "$T/s.mp" > /dev/null 2>&1
run mp2json bin/mp2json < "$T/r.mp" > "$T/r.jsonl"
run json2mp bin/json2mp < "$T/r.jsonl" > "$T/r2.mp"
cmp -s "$T/r.mp" "$T/r2.mp" && echo "ok round trip under valgrind" || { echo "NOT OK round trip"; fail=1; }
{ cat "$T/s.mp"; printf '\223\1\2\3'; head -c 30 "$T/s.mp"; } > "$T/bad.mp"
run rank-bad bin/rank --keep-going < "$T/bad.mp" > /dev/null 2>&1
run score-bad bin/score-sigeo --supernet "$T/sn.ckpt" --data "$T/data" --batch 8 --batches 2 \
    --bn-batches 1 --eval-batches 1 --keep-going -q < "$T/bad.mp" > /dev/null 2>&1
bin/sample-arch $SP -n 2 --seed 3 > "$T/a2.mp"
run train-save bin/train-arch --data "$T/data" --holdout 0.25 --batch 8 -q --save "$T/m" < "$T/a2.mp" > "$T/t.mp"
m=$(ls "$T/m"/*.model | head -1)
run predict bin/predict --model "$m" -o "$T/p.mp"
run predict-eval bin/predict --model "$m" --eval > /dev/null
head -c 3000 "$m" > "$T/trunc.model"
run predict-bad bin/predict --model "$T/trunc.model" -o "$T/p2.mp" 2> /dev/null
# the other image formats and the checks of declared sizes: a .npz (deflated members read
# through zip.c), a gzipped .npy, a PNG class folder, and bombs refused from their headers
/usr/bin/python3 - "$T" <<'PY' || exit 1
import gzip, io, os, random, struct, sys, zipfile, zlib
t = sys.argv[1]
r = random.Random(4)
n = 64
px = bytes(r.randrange(256) for _ in range(64 * n))
lab = bytes(i % 3 for i in range(n))
def npy(shape, descr, data):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    h += " " * (63 - (10 + len(h)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data
with zipfile.ZipFile(t + "/d.npz", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("x.npy", npy((n, 8, 8), "|u1", px))
    z.writestr("y.npy", npy((n,), "|u1", lab))
open(t + "/x.npy", "wb").write(gzip.compress(npy((n, 8, 8), "|u1", px)))
open(t + "/y.npy", "wb").write(npy((n,), "|u1", lab))
open(t + "/huge.npy", "wb").write(gzip.compress(npy((1 << 31, 4096, 4096), "|u1", b"")) + gzip.compress(bytes(1 << 20)))
def chunk(k, b): return struct.pack(">I", len(b)) + k + b + struct.pack(">I", zlib.crc32(k + b))
for i in range(n):
    d = "%s/png/c%d" % (t, i % 3)
    os.makedirs(d, exist_ok=True)
    raw = b"".join(b"\0" + px[64 * i + 8 * row:64 * i + 8 * row + 8] for row in range(8))
    open("%s/%03d.png" % (d, i), "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
SC="--batch 8 --batches 2 --bn-batches 1 --eval-batches 1 --proxies params -q"
run score-npz bin/score-sigeo --supernet "$T/sn.ckpt" --data "$T/d.npz" $SC < "$T/a.mp" > /dev/null
run score-npy-gz bin/score-sigeo --supernet "$T/sn.ckpt" --data "$T/x.npy" --labels "$T/y.npy" $SC < "$T/a.mp" > /dev/null
run score-png bin/score-sigeo --supernet "$T/sn.ckpt" --data "$T/png" $SC < "$T/a.mp" > /dev/null
run npy-bomb bin/score-sigeo --supernet "$T/sn.ckpt" --data "$T/huge.npy" --labels "$T/y.npy" $SC < "$T/a.mp" > /dev/null 2>&1
[ $fail -eq 0 ] && rm -rf "$T"
exit $fail
