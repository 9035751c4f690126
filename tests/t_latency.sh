#!/bin/sh
# score-sigeo --proxies latency on tiny generated IDX data: every record gets positive,
# finite latency_ms and latency_batch_ms with the batch and thread count it was measured
# at; a large network (C=32, 3 cells per stage, every edge a 3x3 conv) is slower than a
# tiny one (C=2, one cell of skips) by a wide margin at both batch sizes; `--proxies all`
# leaves the timed proxy out and `all,latency` adds it; --latency-batch 1 times batch 1 once; bad --latency-* values are usage errors naming the option.
set -u
T=tests/tmp/t_latency.$$
rm -rf "$T"
mkdir -p "$T/data"
PY=/usr/bin/python3
. tests/lib.sh

idx_blobs "$T/data" 200 3 || exit 1
SC="--data $T/data --batch 8 --batches 2 --bn-batches 1 --eval-batches 1 -q"
small="--channels 2 --cells 1 --input 1x8x8 --classes 3"
large="--channels 32 --cells 3 --input 1x8x8 --classes 3"
warmup-supernet $small --fraction 0 -q -o "$T/small.ckpt" &&
    warmup-supernet $large --fraction 0 -q -o "$T/large.ckpt" || { notok "supernets"; finish; }
skips='|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|'
convs='|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
arch() { # arch CFG-OPTIONS ARCH: one record of that cell with the cfg of the options
    sample-arch $1 -n 1 | mp2json | $PY -c '
import json, sys
r = json.loads(sys.stdin.readline()); r["arch"] = sys.argv[1]; r.pop("index", None)
print(json.dumps(r))' "$2" | json2mp
}
arch "$small" "$skips" > "$T/small.mp" && arch "$large" "$convs" > "$T/large.mp" ||
    { notok "arch records"; finish; }

CHECK_ERR="$T/err"
score-sigeo --supernet "$T/small.ckpt" $SC --proxies latency,params --latency-batch 16 \
    --latency-repeats 7 < "$T/small.mp" > "$T/small_s.mp" 2> "$T/err"
check "small network timed, exit 0" '[ $? -eq 0 ]'
score-sigeo --supernet "$T/large.ckpt" $SC --proxies latency,params --latency-batch 16 \
    --latency-repeats 7 < "$T/large.mp" > "$T/large_s.mp" 2> "$T/err"
check "large network timed, exit 0" '[ $? -eq 0 ]'
score-sigeo --supernet "$T/large.ckpt" $SC --proxies latency --latency-batch 1 \
    < "$T/large.mp" > "$T/b1.mp" 2> "$T/err"
check "--latency-batch 1, exit 0" '[ $? -eq 0 ]'
sample-arch $small -n 6 --seed 2 > "$T/six.mp"
score-sigeo --supernet "$T/small.ckpt" $SC --proxies latency --threads 2 < "$T/six.mp" \
    > "$T/six_s.mp" 2> "$T/err"
check "six records with --threads 2 and the defaults, exit 0" '[ $? -eq 0 ]'
score-sigeo --supernet "$T/small.ckpt" $SC --proxies all < "$T/six.mp" > "$T/all.mp" 2> "$T/err"
check "--proxies all, exit 0" '[ $? -eq 0 ]'
score-sigeo --supernet "$T/small.ckpt" $SC --proxies all,latency < "$T/six.mp" > "$T/all_lat.mp" 2> "$T/err"
check "--proxies all,latency, exit 0" '[ $? -eq 0 ]'

$PY - "$T" <<'EOF' || n_fail=$((n_fail + 1))
import math, msgpack, sys
T = sys.argv[1]
rd = lambda f: list(msgpack.Unpacker(open(f"{T}/{f}", "rb"), raw=False))
fail = 0
def check(c, what):
    global fail
    print(("ok " if c else "NOT OK ") + what)
    fail |= not c
(s,), (l,), (b1,) = rd("small_s.mp"), rd("large_s.mp"), rd("b1.mp")
six, alls, all_lat = rd("six_s.mp"), rd("all.mp"), rd("all_lat.mp")
pos = lambda v: isinstance(v, float) and math.isfinite(v) and v > 0
for name, r in (("small", s), ("large", l)):
    sc = r["scores"]
    check(pos(sc.get("latency_ms")) and pos(sc.get("latency_batch_ms")),
          f"{name}: latency_ms {sc.get('latency_ms')}, latency_batch_ms {sc.get('latency_batch_ms')} positive, finite")
    check(sc.get("latency_batch") == 16 and sc.get("latency_threads") == 1,
          f"{name}: measured at batch 16 with 1 thread, as stated")
    check("error" not in r, f"{name}: no error key")
b = b1["scores"]
check(b.get("latency_batch") == 1 and pos(b.get("latency_ms")) and b.get("latency_batch_ms") == b["latency_ms"],
      "--latency-batch 1: timed once, latency_batch_ms is latency_ms")
ps, pl = s["scores"]["params"], l["scores"]["params"]
check(pl > 100 * ps, f"the large network has > 100x the parameters ({pl:.0f} vs {ps:.0f})")
for k in ("latency_ms", "latency_batch_ms"):
    a, b = s["scores"][k], l["scores"][k]
    check(b > 5 * a, f"{k}: large {b:.4f} ms > 5 x small {a:.4f} ms")
check(len(six) == 6 and all(pos(r["scores"].get("latency_ms")) and
                            r["scores"].get("latency_batch") == 64 and
                            r["scores"].get("latency_threads") == 2 for r in six),
      "six records: latency at the default batch 64, 2 threads stated")
check(len(alls) == 6 and all("params" in r["scores"] for r in alls) and
      not any(k.startswith("latency") for r in alls for k in r["scores"]),
      "--proxies all scores everything but latency")
check(len(all_lat) == 6 and all(set(a["scores"]) == set(b["scores"]) | {"latency_ms", "latency_batch_ms",
                                "latency_batch", "latency_threads"} for a, b in zip(all_lat, alls)),
      "--proxies all,latency: all's keys and latency's")
sys.exit(fail)
EOF

for bad in "--latency-batch 0" "--latency-batch 4097" "--latency-batch x" \
           "--latency-repeats 0" "--latency-repeats 1001" "--latency-repeats 2.5"; do
    score-sigeo --supernet "$T/small.ckpt" $SC --proxies latency $bad < "$T/small.mp" \
        > "$T/bad.mp" 2> "$T/err"
    rc=$?
    opt=${bad%% *}
    check "$bad: exit 2, error names $opt and its range" \
        "[ $rc -eq 2 ] && grep -q -- \"$opt.*want an integer from\" \"$T/err\" && [ ! -s \"$T/bad.mp\" ]"
done
rm -rf "$T"
finish
