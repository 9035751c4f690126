#!/bin/sh
# The bad-input catalogue of docs/reliability.md, one check per row: every filter stops at
# the first bad record (exit 1, the records before it written and valid, a message naming
# the record or file), --keep-going skips record-level errors and counts them, stream
# damage stops even with --keep-going, huge declared lengths are refused without
# allocating (under ulimit -v), empty input gives empty output, numeric blow-ups are
# reported, and damaged checkpoints and data files are named.
set -u
T=tests/tmp/t_badinput.$$ # private: others may run make test at the same time
rm -rf "$T"
mkdir -p "$T/data"
PY=/usr/bin/python3
. tests/lib.sh
CHECK_ERR="$T/err"

# Tiny train and test IDX sets (3 classes of 8x8 images) and tiny supernets.
$PY - "$T/data" <<'EOF' || exit 1
import random, struct, sys
d = sys.argv[1]
r = random.Random(7)
for stem, n in (("train", 300), ("t10k", 60)):
    imgs, labs = bytearray(), bytearray()
    for i in range(n):
        px = [r.randrange(0, 256) for _ in range(64)]
        imgs += bytes(px); labs.append(i % 3)
    open(f"{d}/{stem}-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 0x803, n, 8, 8) + imgs)
    open(f"{d}/{stem}-labels-idx1-ubyte", "wb").write(struct.pack(">II", 0x801, n) + labs)
EOF
SP="--channels 2 --cells 1 --input 1x8x8 --classes 3"
SC="--data $T/data --batch 8 --batches 2 --bn-batches 1 --eval-batches 1 --proxies sigeo"
TR="--data $T/data --batch 16 -q"
warmup-supernet $SP --fraction 0 -q -o "$T/sn.ckpt" || { notok "tiny supernet"; exit 1; }
sample-arch $SP -n 4 --seed 2 > "$T/a4.mp"

# mp FILE PYEXPR: write msgpack records built by a python expression (a list).
mp() { $PY -c "import msgpack,sys
sys.stdout.buffer.write(b''.join(msgpack.packb(o) for o in $2))" > "$1"; }
count() { $PY -c "import msgpack,sys; print(sum(1 for _ in msgpack.Unpacker(open(sys.argv[1],'rb'), raw=False, strict_map_key=False)))" "$1"; }

# --- stream damage: garbage bytes, cut inside a record --------------------------------
{ head -c 200 /dev/urandom | tr -d '\200-\377' | head -c 0; cat "$T/a4.mp"; printf '\301junk'; } > "$T/garbage.mp"
for tool in rank mp2json; do
    $tool < "$T/garbage.mp" > "$T/out" 2> "$T/err"; rc=$?
    check "$tool: garbage byte after 4 records: exit 1, names record 5" \
        '[ $rc -eq 1 ] && grep -q "$tool: error: malformed msgpack (invalid byte 0xc1 at offset 0) (record 5)" $T/err'
    $tool --keep-going < "$T/garbage.mp" > "$T/out" 2> "$T/err"; rc=$?
    check "$tool --keep-going: garbage still stops (cannot resync), exit 1" \
        '[ $rc -eq 1 ] && grep -q "cannot be resynchronized" $T/err'
done
mp2json < "$T/garbage.mp" > "$T/out" 2>/dev/null
check "mp2json: the 4 records before the garbage are written and valid" \
    '[ $(wc -l < $T/out) -eq 4 ] && json2mp < $T/out | cmp -s - $T/a4.mp'
rank --keep-going < "$T/garbage.mp" > "$T/out" 2>/dev/null
check "rank --keep-going: ranks the 4 records before the damage" '[ "$(count $T/out)" = 4 ]'
size=$(wc -c < "$T/a4.mp")
head -c $((size - 7)) "$T/a4.mp" > "$T/cut.mp"
mp2json < "$T/cut.mp" > "$T/out" 2> "$T/err"; rc=$?
check "stream cut inside record 4: exit 1, 'truncated record (record 4)', 3 lines out" \
    '[ $rc -eq 1 ] && grep -q "truncated record (record 4)" $T/err && [ $(wc -l < $T/out) -eq 3 ]'
score-sigeo --supernet "$T/sn.ckpt" $SC < "$T/cut.mp" > "$T/out" 2> "$T/err"; rc=$?
check "score-sigeo: cut stream gives 3 scored records then exit 1" \
    '[ $rc -eq 1 ] && grep -q "truncated record (record 4)" $T/err && [ "$(count $T/out)" = 3 ]'
train-arch $TR < "$T/garbage.mp" > /dev/null 2> "$T/err"; rc=$?
check "train-arch: garbage after 4 records: exit 1 names record 5" '[ $rc -eq 1 ] && grep -q "invalid byte 0xc1.*(record 5)" $T/err'

# --- huge declared lengths: refused before allocating (100 MB address space) ------------
# AddressSanitizer reserves terabytes of shadow memory, so under make sanitize the limit
# is left off (ASan itself would report an allocation of 4 GB as an error).
lim() { if [ -n "${SIGEO_SANITIZE:-}" ]; then "$@"; else (ulimit -v 100000; "$@"); fi; }
for hdr in 'dd ffffffff' 'df ffffffff' 'db ffffffff' 'c6 ffffffff' 'c9 ffffffff 01'; do
    printf '\201\244kind\244arch' > "$T/huge.mp"    # one good record first
    $PY -c "import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1].replace(' ','')))" "$hdr" >> "$T/huge.mp"
    lim mp2json < "$T/huge.mp" > "$T/out" 2> "$T/err"; rc=$?
    check "header $hdr: rejected under ulimit -v 100 MB, exit 1, record 2" \
        '[ $rc -eq 1 ] && grep -q "exceeds the record size limit.*(record 2)" $T/err && [ $(wc -l < $T/out) -eq 1 ]'
done
printf '\335\377\377\377\377' > "$T/huge2.mp"
lim rank < "$T/huge2.mp" > /dev/null 2> "$T/err"; rc=$?
check "rank: array32 of 2^32-1 entries rejected under ulimit -v" '[ $rc -eq 1 ] && grep -q "exceeds" $T/err'

# --- record-level errors: default stops, --keep-going skips and counts -----------------
mp "$T/notmap.mp" '[{"kind":"arch","scores":{"sigeo":1.0}}, [1,2], {"kind":"arch","scores":{"sigeo":2.0}}, 7]'
rank < "$T/notmap.mp" > "$T/out" 2> "$T/err"; rc=$?
check "rank: a record that is not a map: exit 1, names record 2, writes nothing" \
    '[ $rc -eq 1 ] && grep -q "rank: error: record is not a map (record 2)" $T/err && [ ! -s $T/out ]'
rank --keep-going < "$T/notmap.mp" > "$T/out" 2> "$T/err"; rc=$?
check "rank --keep-going: skips 2 non-maps, '2 bad records skipped', exit 1, ranks 2" \
    '[ $rc -eq 1 ] && grep -q "rank: 2 bad records skipped" $T/err && [ "$(count $T/out)" = 2 ]'
rank --keep-going --ok-if-bad < "$T/notmap.mp" > "$T/out" 2> "$T/err"; rc=$?
check "rank --keep-going --ok-if-bad: exit 0" '[ $rc -eq 0 ] && [ "$(count $T/out)" = 2 ]'
mp "$T/wrongtype.mp" '[{"scores":{"sigeo":1.0}}, {"scores":{"sigeo":"high"}}, {"scores":{"sigeo":3}}]'
rank < "$T/wrongtype.mp" > /dev/null 2> "$T/err"; rc=$?
check "rank: wrong type under --by: exit 1, names key and record 2" \
    '[ $rc -eq 1 ] && grep -q "\"scores.sigeo\" is not a number (record 2)" $T/err'
mp "$T/badkey.mp" '[{"a":1}, {1:2}, {"b":b"\xff"}, {"c":"\xe9".encode("latin1").decode("latin1")}]'
$PY -c "import msgpack,sys; sys.stdout.buffer.write(msgpack.packb({'a':1})+msgpack.packb({1:2})+msgpack.packb({'s':b'\xff'.decode('latin1')}).replace(b'\xc3\xbf',b'\xff\xff')+msgpack.packb({'z':0}))" > "$T/badjson.mp"
mp2json < "$T/badjson.mp" > "$T/out" 2> "$T/err"; rc=$?
check "mp2json: non-string map key: exit 1, record 2, no partial line" \
    '[ $rc -eq 1 ] && grep -q "map key is not a string (JSON cannot hold it) (record 2)" $T/err && [ "$(cat $T/out)" = "{\"a\":1}" ]'
mp2json --keep-going < "$T/badjson.mp" > "$T/out" 2> "$T/err"; rc=$?
check "mp2json --keep-going: skips bad key and invalid UTF-8, 2 skipped, exit 1" \
    '[ $rc -eq 1 ] && grep -q "not valid UTF-8" $T/err && grep -q "2 bad records skipped" $T/err && [ $(wc -l < $T/out) -eq 2 ]'
printf '{"a":1}\n{"a":tru}\n{"b":[1,}\n{"c":3}\n' > "$T/bad.jsonl"
json2mp < "$T/bad.jsonl" > "$T/out" 2> "$T/err"; rc=$?
check "json2mp: syntax error stops at record 2 with exit 1" '[ $rc -eq 1 ] && [ "$(count $T/out)" = 1 ]'
json2mp --keep-going < "$T/bad.jsonl" > "$T/out" 2> "$T/err"; rc=$?
check "json2mp --keep-going: resyncs at newlines, 2 skipped, 2 written, exit 1" \
    '[ $rc -eq 1 ] && grep -q "2 bad records skipped" $T/err && [ "$(mp2json < $T/out | tr "\n" " ")" = "{\"a\":1} {\"c\":3} " ]'

# score-sigeo: missing keys, wrong types, unknown space and op, cfg mismatch
sample-arch --channels 4 --cells 1 --input 1x8x8 --classes 3 -n 1 > "$T/c4.mp"
$PY - "$T/a4.mp" "$T/c4.mp" > "$T/mixed.mp" <<'EOF'
import msgpack, sys
good = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
c4 = list(msgpack.Unpacker(open(sys.argv[2], "rb"), raw=False))[0]
bad = [
    [1, 2, 3],                                                    # not a map
    {k: v for k, v in good[0].items() if k not in ("arch", "index")},  # missing arch
    dict(good[0], arch=17),                                        # wrong type
    dict(good[0], space="nb301"),                                  # unknown space
    dict(good[0], arch=good[0]["arch"].replace("skip_connect", "sep_conv_9x9").replace("none", "sep_conv_9x9").replace("avg_pool_3x3", "sep_conv_9x9").replace("nor_conv_1x1", "sep_conv_9x9").replace("nor_conv_3x3", "sep_conv_9x9")),
    c4,                                                            # cfg C=4 vs supernet C=2
]
out = [good[0]] + bad + [good[1]]
sys.stdout.buffer.write(b"".join(msgpack.packb(o) for o in out))
EOF
score-sigeo --supernet "$T/sn.ckpt" $SC < "$T/mixed.mp" > "$T/out" 2> "$T/err"; rc=$?
check "score-sigeo: stops at the first bad record (2) with exit 1, record 1 written" \
    '[ $rc -eq 1 ] && grep -q "(record 2)" $T/err && [ "$(count $T/out)" = 1 ]'
score-sigeo --supernet "$T/sn.ckpt" $SC --keep-going < "$T/mixed.mp" > "$T/out" 2> "$T/err"; rc=$?
check "score-sigeo --keep-going: 6 bad records skipped, 2 scored, exit 1" \
    '[ $rc -eq 1 ] && grep -q "score-sigeo: 6 bad records skipped" $T/err && [ "$(count $T/out)" = 2 ]'
for pat in "(record 2)" "missing key .arch. (record 3)" "(record 4)" "nb301.*(record 5)" "sep_conv_9x9.*(record 6)" "differs from the supernet.*(record 7)"; do
    check "score-sigeo message: $pat" 'grep -q "$pat" $T/err'
done
score-sigeo --supernet "$T/sn.ckpt" $SC --keep-going --ok-if-bad < "$T/mixed.mp" > /dev/null 2>&1
check "score-sigeo --keep-going --ok-if-bad: exit 0" '[ $? -eq 0 ]'
train-arch $TR --epochs 1 --keep-going < "$T/mixed.mp" > "$T/out" 2> "$T/err"; rc=$?
check "train-arch --keep-going: 5 bad skipped (any cfg trains), 3 trained, exit 1" \
    '[ $rc -eq 1 ] && grep -q "5 bad records skipped" $T/err && [ "$(count $T/out)" = 3 ]'

mutate-arch < "$T/mixed.mp" > "$T/out" 2> "$T/err"; rc=$?
check "mutate-arch: stops at record 2, exit 1, 1 child written" \
    '[ $rc -eq 1 ] && grep -q "record is not a map (record 2)" $T/err && [ "$(count $T/out)" = 1 ]'
mutate-arch --keep-going < "$T/mixed.mp" > "$T/out" 2> "$T/err"; rc=$?
check "mutate-arch --keep-going: 5 bad skipped, 3 children, exit 1" \
    '[ $rc -eq 1 ] && grep -q "5 bad records skipped" $T/err && [ "$(count $T/out)" = 3 ]'

# --- empty input: empty output, exit 0 -------------------------------------------------
for cmd in "rank" "mp2json" "json2mp" "mutate-arch" "score-sigeo --supernet $T/sn.ckpt $SC" "train-arch $TR" "rank -k 3" "rank -F table"; do
    $cmd < /dev/null > "$T/out" 2> "$T/err"; rc=$?
    if [ "$cmd" = "rank -F table" ]; then
        check "empty input: $cmd exit 0" '[ $rc -eq 0 ]'
    else
        check "empty input: $cmd gives empty output, exit 0" '[ $rc -eq 0 ] && [ ! -s $T/out ]'
    fi
done

# --- numeric blow-ups ------------------------------------------------------------------
timeout 60 train-arch $TR --lr 1e30 < "$T/a4.mp" > "$T/out" 2> "$T/err"; rc=$?
check "train-arch --lr 1e30: reports divergence naming record 1, exit 1 (no crash, no hang)" \
    '[ $rc -eq 1 ] && grep -q "not finite.*(record 1)" $T/err'
timeout 60 train-arch $TR --lr 1e30 --keep-going --ok-if-bad < "$T/a4.mp" > "$T/out" 2> "$T/err"; rc=$?
check "train-arch --lr 1e30 --keep-going --ok-if-bad: all 4 skipped, exit 0" \
    '[ $rc -eq 0 ] && grep -q "4 bad records skipped" $T/err'
score-sigeo --supernet "$T/sn.ckpt" $SC --l1 1e308 --l2 1e308 < "$T/a4.mp" > "$T/out" 2> "$T/err"; rc=$?
check "score-sigeo with overflowing lambda: NaN score + error key, stream goes on, exit 0" \
    '[ $rc -eq 0 ] && [ "$(mp2json < $T/out | grep -c "\"sigeo\":NaN.*\"error\"")" = 4 ]'
mp "$T/nan.mp" '[{"i":0,"scores":{"sigeo":float("nan")}}, {"i":1,"scores":{"sigeo":float("inf")}}, {"i":2,"scores":{"sigeo":1.0}}]'
check "rank: NaN sorts last, Inf first" '[ "$(rank -F jsonl < $T/nan.mp | cut -c1-6 | tr "\n" " ")" = "{\"i\":1 {\"i\":2 {\"i\":0 " ]'

# --- checkpoints: missing, truncated, corrupted (hash), wrong kind --------------------
ck() { score-sigeo --supernet "$1" $SC < "$T/a4.mp" > "$T/out" 2> "$T/err"; }
ck "$T/nope.ckpt"; rc=$?
check "missing checkpoint: exit 1, names the file" '[ $rc -eq 1 ] && grep -q "nope.ckpt" $T/err && [ ! -s $T/out ]'
size=$(wc -c < "$T/sn.ckpt")
head -c $((size / 2)) "$T/sn.ckpt" > "$T/trunc.ckpt"
ck "$T/trunc.ckpt"; rc=$?
check "truncated checkpoint: exit 1, names the file" '[ $rc -eq 1 ] && grep -q "trunc.ckpt" $T/err'
cp "$T/sn.ckpt" "$T/flip.ckpt"
printf '\177' | dd of="$T/flip.ckpt" bs=1 seek=$((size - 200)) conv=notrunc 2>/dev/null
ck "$T/flip.ckpt"; rc=$?
check "one corrupted byte: exit 1, hash mismatch named" '[ $rc -eq 1 ] && grep -qi "hash" $T/err && grep -q "flip.ckpt" $T/err'
cp "$T/a4.mp" "$T/notckpt.ckpt"
ck "$T/notckpt.ckpt"; rc=$?
check "an arch stream as checkpoint: exit 1, names the file" '[ $rc -eq 1 ] && grep -q "notckpt.ckpt" $T/err'

# --- data files: missing, truncated, wrong magic ---------------------------------------
mkdir -p "$T/d1" "$T/d2" "$T/d3"
cp "$T/data/"* "$T/d2/"; cp "$T/data/"* "$T/d3/"
head -c 1000 "$T/data/train-images-idx3-ubyte" > "$T/d2/train-images-idx3-ubyte"
printf '\0\0\10\4' | dd of="$T/d3/train-labels-idx1-ubyte" bs=1 conv=notrunc 2>/dev/null
for d in d1 d2 d3; do
    warmup-supernet $SP --data "$T/$d" --fraction 0.5 -q -o "$T/w.ckpt" 2> "$T/err"; rc=$?
    check "warmup-supernet on $d data: exit 1, names the file, no checkpoint" \
        '[ $rc -eq 1 ] && grep -q "$T/$d" $T/err && [ ! -e $T/w.ckpt ]'
    train-arch --data "$T/$d" -q < "$T/a4.mp" > "$T/out" 2> "$T/err"; rc=$?
    check "train-arch on $d data: exit 1, names the directory or file" '[ $rc -eq 1 ] && grep -q "$T/$d" $T/err'
done
grep -q "magic" "$T/err" && ok "wrong magic is called a magic" || notok "wrong magic is called a magic"

rm -rf "$T"
finish
