#!/bin/sh
# score-sigeo end to end on tiny generated IDX data and an untrained and a warmed-up tiny
# supernet: every record comes back in order with every score; sharded runs merge to the
# unsharded result; scores do not depend on a record's position in the stream; a
# non-finite score gives NaN and an "error" key while the stream goes on; a cfg mismatch
# and bad options fail with the documented exit codes.
set -u
T=tests/tmp/t_score.$$ # private: others may run make test at the same time
rm -rf "$T"
mkdir -p "$T/data"
PY=/usr/bin/python3
. tests/lib.sh

idx_blobs "$T/data" 400 7 || exit 1

SP="--channels 2 --cells 1 --input 1x8x8 --classes 3"
SC="--data $T/data --batch 8 --batches 4 --bn-batches 2 --eval-batches 2 --seed 5"
warmup-supernet $SP --fraction 0 -q -o "$T/sn0.ckpt" || { notok "untrained supernet"; exit 1; }
warmup-supernet $SP --data "$T/data" --fraction 0.5 --epochs 1 --batch 16 -q -o "$T/sn1.ckpt" ||
    { notok "warmed-up supernet"; exit 1; }
sample-arch $SP -n 24 --seed 4 > "$T/a.mp"

score-sigeo --supernet "$T/sn0.ckpt" $SC < "$T/a.mp" > "$T/all.mp" 2> "$T/err"
check "scores 24 records, exit 0" '[ $? -eq 0 ]'
for s in 0 1 2; do
    score-sigeo --supernet "$T/sn0.ckpt" $SC --shard $s/3 < "$T/a.mp" > "$T/sh$s.mp" ||
        notok "shard $s/3"
done
# The same records in reverse order: each record's scores must not move.
$PY - "$T/a.mp" "$T/rev.mp" <<'EOF'
import msgpack, sys
recs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
open(sys.argv[2], "wb").write(b"".join(msgpack.packb(r) for r in reversed(recs)))
EOF
score-sigeo --supernet "$T/sn0.ckpt" $SC < "$T/rev.mp" > "$T/rev_scored.mp"
score-sigeo --supernet "$T/sn1.ckpt" $SC --proxies sigeo,zico,oneshot < "$T/a.mp" > "$T/warm.mp" ||
    notok "warmed-up supernet scores"
score-sigeo --supernet "$T/sn0.ckpt" $SC --proxies jacov < "$T/a.mp" > "$T/jacov.mp" || notok "jacov alone"
score-sigeo --supernet "$T/sn0.ckpt" $SC --proxies sigeo --paper < "$T/a.mp" > "$T/paper.mp" || notok "--paper"
score-sigeo --supernet "$T/sn1.ckpt" $SC --proxies sigeo --paper < "$T/a.mp" > "$T/warm_paper.mp" ||
    notok "--paper warmed up"

$PY - "$T" <<'EOF'
import math, msgpack, sys
T = sys.argv[1]
rd = lambda f: list(msgpack.Unpacker(open(f"{T}/{f}", "rb"), raw=False))
fail = 0
same = lambda x, y: msgpack.packb(x) == msgpack.packb(y)  # NaN-aware, bit-exact
def check(c, what):
    global fail
    print(("ok " if c else "NOT OK ") + what)
    fail |= not c
arch, alls = rd("a.mp"), rd("all.mp")
keys = ["sigeo", "sigeo_s1", "sigeo_s2", "sigeo_loss", "zico", "grad_norm", "snip", "grasp",
        "fisher", "synflow", "naswot", "jacov", "params", "flops", "oneshot_acc", "oneshot_loss"]
check(len(alls) == 24 and [r["arch"] for r in alls] == [r["arch"] for r in arch],
      "output order equals input order")
check(all(k in r["scores"] for r in alls for k in keys), "every default key present")
ok_recs = [r for r in alls if "error" not in r]
check(len(ok_recs) >= 12, f"most records have no error ({len(ok_recs)}/24)")
check(all(math.isfinite(r["scores"][k]) for r in ok_recs for k in keys),
      "records without an error key have finite scores")
check(all(any(math.isnan(v) for v in r["scores"].values()) for r in alls if "error" in r),
      "records with an error key have a NaN score")
s = alls[0]["scores"]
check(abs(s["sigeo"] - (s["sigeo_s1"] + 50 * s["sigeo_s2"] + 30 * s["sigeo_j"])) < 1e-9 * max(1, abs(s["sigeo"])),
      "untrained supernet: sigeo = S1 + 50 S2 + 30 J (lambda 1,50,0,30)")
jac = {r["arch"]: r for r in rd("jacov.mp")}
check(all(same(jac[r["arch"]]["scores"]["jacov"], r["scores"]["sigeo_j"]) for r in alls),
      "sigeo's J term equals the jacov proxy exactly (NaN where the output ignores the input)")
pap = rd("paper.mp")[0]["scores"]
check(abs(pap["sigeo"] - (pap["sigeo_s1"] + pap["sigeo_s2"])) < 1e-9 * max(1, abs(pap["sigeo"]))
      and "sigeo_j" not in pap, "--paper on an untrained supernet: sigeo = S1 + S2 (lambda 1,1,0)")
# sharded = unsharded: shard s holds records s, s+3, ... in order; merged they are identical.
shards = [rd(f"sh{i}.mp") for i in range(3)]
check([len(x) for x in shards] == [8, 8, 8], "shard sizes 8/8/8")
check(all(same(shards[i][j], alls[3 * j + i]) for i in range(3) for j in range(8)),
      "shard i holds records i, i+3, ... and they equal the unsharded ones exactly")
merged = sorted((r for x in shards for r in x), key=lambda r: -r["scores"]["sigeo"]
                if math.isfinite(r["scores"]["sigeo"]) else math.inf)
ranked = sorted(alls, key=lambda r: -r["scores"]["sigeo"]
                if math.isfinite(r["scores"]["sigeo"]) else math.inf)
check([r["arch"] for r in merged] == [r["arch"] for r in ranked], "merged shards rank like the unsharded run")
rev = {r["arch"]: r for r in rd("rev_scored.mp")}
check(all(same(rev[r["arch"]], r) for r in alls), "scores independent of the record's position")
warm = rd("warm.mp")
check(len(warm) == 24 and all(set(r["scores"]) == {"sigeo", "sigeo_s1", "sigeo_s2", "sigeo_loss",
      "sigeo_j", "zico", "oneshot_acc", "oneshot_loss"} for r in warm), "--proxies selects keys")
w = warm[0]["scores"]
check(abs(w["sigeo"] - (w["sigeo_s1"] + 50 * w["sigeo_s2"] - 10 * w["sigeo_loss"] + 30 * w["sigeo_j"]))
      < 1e-9 * max(1, abs(w["sigeo"])), "warmed-up supernet: lambda (1,50,10,30) from the checkpoint")
wp = rd("warm_paper.mp")[0]["scores"]
check(abs(wp["sigeo"] - (wp["sigeo_s1"] + 50 * wp["sigeo_s2"] - wp["sigeo_loss"])) < 1e-9 * max(1, abs(wp["sigeo"])),
      "--paper on a warmed-up supernet: lambda (1,50,1)")
accs = [r["scores"]["oneshot_acc"] for r in warm]
check(max(accs) > 0.5, f"warmed-up one-shot accuracy above chance somewhere (max {max(accs):.3f})")
sys.exit(fail)
EOF
[ $? -eq 0 ] || n_fail=$((n_fail + 1))

# Overflowing lambda: NaN and an error key, the stream goes on, exit 0.
score-sigeo --supernet "$T/sn0.ckpt" $SC --proxies sigeo,params --l1 1e308 --l2 1e308 < "$T/a.mp" > "$T/nan.mp"
check "overflow: exit 0" '[ $? -eq 0 ]'
$PY - "$T/nan.mp" <<'EOF' || n_fail=$((n_fail + 1))
import math, msgpack, sys
r = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
c = len(r) == 24 and all(math.isnan(x["scores"]["sigeo"]) and "sigeo" in x["error"]
                         and x["scores"]["params"] > 0 for x in r)
print(("ok" if c else "NOT OK") + " overflow: every record has NaN sigeo, an error, and its other scores")
sys.exit(not c)
EOF

# A checkpoint from before the J term (lambda of 3 numbers, rehashed as warmup-supernet
# hashes: SHA-256 of the map without its trailing hash entry) still loads, with l4 = 0.
$PY - "$T/sn0.ckpt" "$T/old.ckpt" <<'EOF' || n_fail=$((n_fail + 1))
import hashlib, msgpack, sys
m = msgpack.unpackb(open(sys.argv[1], "rb").read(), raw=False)
m["lambda"] = [1.0, 1.0, 0.0]
del m["hash"]
body = msgpack.packb(m, use_bin_type=True)
m["hash"] = hashlib.sha256(body).hexdigest()
open(sys.argv[2], "wb").write(msgpack.packb(m, use_bin_type=True))
EOF
score-sigeo --supernet "$T/old.ckpt" $SC --proxies sigeo < "$T/a.mp" > "$T/old.mp"
check "3-number lambda checkpoint loads" '[ $? -eq 0 ]'
$PY - "$T/old.mp" <<'EOF' || n_fail=$((n_fail + 1))
import msgpack, sys
r = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
s = r[0]["scores"]
c = len(r) == 24 and "sigeo_j" not in s and abs(s["sigeo"] - (s["sigeo_s1"] + s["sigeo_s2"])) < 1e-9 * max(1, abs(s["sigeo"]))
print(("ok" if c else "NOT OK") + " 3-number lambda: sigeo = S1 + S2, no J term")
sys.exit(not c)
EOF

# The memo of equal live networks: cells that differ only in edges into a node with no
# path to the output (here node 2: edge 3<-2 is none; node 1 when 2<-1 and 3<-1 are none),
# or in skip/pool edges out of an all-zero node, get their live_only scores from the first
# such cell. Output byte-identical to --no-memo,
# with every proxy, in an order that interleaves the classes.
$PY - "$T/eq.mp" <<'EOF'
import msgpack, random, sys
random.seed(3)
names = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
def arch(o):
    n = [names[i] for i in o]
    return f"|{n[0]}~0|+|{n[1]}~0|{n[2]}~1|+|{n[3]}~0|{n[4]}~1|{n[5]}~2|"
recs = []
for t in range(4):
    e0, e3, e4 = random.randrange(5), random.randrange(5), random.randrange(1, 5)
    recs += [[e0, random.randrange(5), random.randrange(5), e3, e4, 0] for _ in range(3)]
    e1, e3, e5 = random.randrange(5), random.randrange(5), random.randrange(1, 5)
    recs += [[random.randrange(5), e1, 0, e3, 0, e5] for _ in range(2)]
    # node 1 all zeros (1<-0 none): skip and pool out of it are none
    e1, e3, e5 = random.randrange(5), random.randrange(5), random.randrange(5)
    recs += [[0, e1, random.choice([0, 1, 4]), e3, random.choice([0, 1, 4]), e5] for _ in range(2)]
random.shuffle(recs)
cfg = {"C": 2, "N": 1, "in_ch": 1, "H": 8, "W": 8, "classes": 3}
open(sys.argv[1], "wb").write(b"".join(msgpack.packb({"kind": "arch", "space": "nb201",
    "arch": arch(o), "cfg": cfg}) for o in recs))
EOF
score-sigeo --supernet "$T/sn1.ckpt" $SC --proxies all --progress < "$T/eq.mp" > "$T/memo.mp" 2> "$T/err"
score-sigeo --supernet "$T/sn1.ckpt" $SC --proxies all --no-memo -q < "$T/eq.mp" > "$T/nomemo.mp"
check "memo: byte-identical to --no-memo over equal live networks" 'cmp -s "$T/memo.mp" "$T/nomemo.mp"'
check "memo: used (the final message counts the records it served)" \
    'grep -q "[1-9][0-9]* from the memo" "$T/err"'
# Two threads: the same bytes run to run, and scores within float noise of one thread.
score-sigeo --supernet "$T/sn1.ckpt" $SC --proxies sigeo,zico,jacov --threads 2 < "$T/a.mp" > "$T/t2a.mp"
score-sigeo --supernet "$T/sn1.ckpt" $SC --proxies sigeo,zico,jacov --threads 2 < "$T/a.mp" > "$T/t2b.mp"
score-sigeo --supernet "$T/sn1.ckpt" $SC --proxies sigeo,zico,jacov < "$T/a.mp" > "$T/t1.mp"
check "--threads 2: byte-identical run to run" 'cmp -s "$T/t2a.mp" "$T/t2b.mp"'
$PY - "$T/t1.mp" "$T/t2a.mp" <<'EOF'
import math, msgpack, sys
a, b = ([r["scores"] for r in msgpack.Unpacker(open(f, "rb"), raw=False)] for f in sys.argv[1:])
d = max(abs(x[k] - y[k]) / max(abs(x[k]), 1e-9) for x, y in zip(a, b) for k in x
        if math.isfinite(x[k]))
print("  # max relative difference, 1 vs 2 threads: %.1e" % d)
sys.exit(not (len(a) == len(b) == 24 and d < 1e-3))
EOF
check "--threads 2: scores within 1e-3 (relative) of one thread" '[ $? -eq 0 ]'

# A record whose cfg differs from the supernet's.
sample-arch --channels 4 --cells 1 --input 1x8x8 --classes 3 -n 2 > "$T/other.mp"
cat "$T/a.mp" "$T/other.mp" | score-sigeo --supernet "$T/sn0.ckpt" $SC --proxies params > "$T/x.mp" 2> "$T/err"
check "cfg mismatch: exit 1" '[ $? -eq 1 ]'
check "cfg mismatch: names the record" 'grep -q "^score-sigeo: error: .*(record 25)" "$T/err"'
score-sigeo $SC < "$T/a.mp" > /dev/null 2>&1
check "no --supernet: exit 2" '[ $? -eq 2 ]'
score-sigeo --supernet "$T/sn0.ckpt" --proxies sigeo,bogus < "$T/a.mp" > /dev/null 2>&1
check "unknown proxy: exit 2" '[ $? -eq 2 ]'
score-sigeo --supernet "$T/sn0.ckpt" --shard 3/3 < "$T/a.mp" > /dev/null 2>&1
check "bad shard: exit 2" '[ $? -eq 2 ]'
score-sigeo --supernet "$T/nonexistent.ckpt" < "$T/a.mp" > /dev/null 2> "$T/err"
check "missing checkpoint: exit 1" '[ $? -eq 1 ]'

[ $n_fail -eq 0 ] && rm -rf "$T"
finish
