#!/bin/sh
# Hostile inputs and environments (docs/reliability.md, "The catalogue of bad inputs",
# rows marked t_hostile.sh): output paths that are not regular files, pipelines whose
# stages fail, option values at and beyond their limits, records with duplicate keys or
# terminal escapes, JSON Lines resync, sizes checked before the work. Each check's name
# starts with the catalogue row it tests.
set -u
T=tests/tmp/t_hostile.$$ # private: others may run make test at the same time
rm -rf "$T"
trap 'rm -rf "$T"' EXIT
mkdir -p "$T"
PY=/usr/bin/python3
. tests/lib.sh
CHECK_ERR="$T/err"
BIN=${SIGEO_BIN:-$PWD/bin}

SP="--channels 2 --cells 1 --input 1x8x8 --classes 3"
warmup-supernet $SP --fraction 0 -q -o "$T/sn.ckpt" || { notok "tiny supernet"; exit 1; }
snsum=$(cksum < "$T/sn.ckpt")

# --- output paths that are not regular files --------------------------------------------
mkfifo "$T/fifo"
timeout 20 cat "$T/fifo" > "$T/fifo.out" &
reader=$!
timeout 20 warmup-supernet $SP --fraction 0 -q -o "$T/fifo" 2> "$T/err"; rc=$?
[ -p "$T/fifo" ] || kill $reader 2>/dev/null # replaced: nobody will open the FIFO
wait $reader
check "output onto a FIFO: streamed, the FIFO stays a FIFO" \
    '[ $rc -eq 0 ] && [ -p $T/fifo ] && [ "$(cksum < $T/fifo.out)" = "$snsum" ]'
touch "$T/real"
ln -s real "$T/link"
warmup-supernet $SP --fraction 0 -q -o "$T/link" 2> "$T/err"; rc=$?
check "output onto a symlink: the target is written, the link stays" \
    '[ $rc -eq 0 ] && [ -L $T/link ] && [ "$(cksum < $T/real)" = "$snsum" ]'
mkdir "$T/sub"
ln -s sub/new "$T/dangling"
warmup-supernet $SP --fraction 0 -q -o "$T/dangling" 2> "$T/err"; rc=$?
check "output onto a dangling symlink: its target is created, the link stays" \
    '[ $rc -eq 0 ] && [ -L $T/dangling ] && [ "$(cksum < $T/sub/new)" = "$snsum" ]'
warmup-supernet $SP --fraction 0 -q -o "$T/sub" 2> "$T/err"; rc=$?
check "output onto a directory: refused before any work, exit 3" \
    '[ $rc -eq 3 ] && [ -d $T/sub ] && grep -q "is a directory; refusing to replace it" $T/err'
if [ "$(id -u)" = 0 ] && mknod "$T/null" c 1 3 2>/dev/null; then
    warmup-supernet $SP --fraction 0 -q -o "$T/null" 2> "$T/err"; rc=$?
    check "output onto a character device (a copy of /dev/null): written as a stream, stays a device" \
        '[ $rc -eq 0 ] && [ -c $T/null ]'
fi
warmup-supernet $SP --fraction 0 -q -o "" 2> "$T/err"; rc=$?
check "output path empty: exit 2, 'empty output path'" \
    '[ $rc -eq 2 ] && grep -q "error: empty output path" $T/err'

# mp FILE PYEXPR: msgpack records built by a python expression (a list), maps as given.
mp() { $PY -c "import msgpack,sys
sys.stdout.buffer.write(b''.join(msgpack.packb(o) for o in $2))" > "$1"; }
# mpdup FILE: record 1 holds "arch" twice (two different cells, built by hand), records
# 2 and 3 are good arch records.
mpdup() { $PY -c "import msgpack,sys
p = msgpack.packb
recs = list(msgpack.Unpacker(open(sys.argv[1], 'rb'), raw=False))
a, b = recs[0], recs[1]
dup = bytes([0x80 | (len(a) + 1)]) + b''.join(p(k) + p(v) for k, v in a.items()) + p('arch') + p(b['arch'])
sys.stdout.buffer.write(dup + p(recs[2]) + p(recs[3]))" "$T/a4.mp" > "$1"; }
sample-arch $SP -n 4 --seed 2 > "$T/a4.mp"
mkdir -p "$T/data"
idx_blobs "$T/data" 60 1

# --- JSON Lines: a bad line costs that line only; line numbers -----------------------
printf '{"x":1}\n{"a":1\n{"b":2}\n{"c":3}\n' | json2mp --keep-going 2> "$T/err" | mp2json > "$T/out"
check "json2mp --keep-going, unclosed object on line 2: lines 1, 3, 4 kept, one bad record" \
    '[ "$(cat $T/out)" = "$(printf "{\"x\":1}\n{\"b\":2}\n{\"c\":3}")" ] && grep -q "1 bad record skipped" $T/err'
printf '{"x":1}\n{"a":"\377"}\n{"c":3}\n' | json2mp --keep-going 2> "$T/err" > /dev/null
check "json2mp: invalid UTF-8 on line 2 is reported at line 2" \
    'grep -q "not valid UTF-8 at line 2 (record 2)" $T/err'

# --- the JSON round trip holds for every record the record readers accept --------------
$PY -c "import msgpack,sys; sys.stdout.buffer.write(msgpack.packb({'kind': 'x', 'b': bytes(13 << 20)}))" > "$T/big.mp"
mp2json < "$T/big.mp" | json2mp > "$T/big2.mp" 2> "$T/err"
check "a record with a 13 MiB bin: mp2json | json2mp gives the same bytes" 'cmp -s $T/big.mp $T/big2.mp'
$PY -c "import msgpack,sys; sys.stdout.buffer.write(msgpack.packb({'kind': 'x', 'b': bytes(16 << 20)}))" > "$T/big.mp"
$PY -c "import sys; sys.stdout.write('{\"b\":\"' + '\\\\u0001' * ((16 << 20) + 1) + '\"}\\n')" > "$T/big.json"
json2mp < "$T/big.json" > /dev/null 2> "$T/err"; rc=$?
check "json2mp: a value over the 16 MiB record limit (as msgpack) is refused, exit 1" \
    '[ $rc -eq 1 ] && grep -q "larger than the record size limit" $T/err'

# --- duplicate map keys are bad records in every reader --------------------------------
mpdup "$T/dup.mp"
SC="--data $T/data --batch 8 --batches 2 --bn-batches 1 --eval-batches 1 --proxies params"
for tool in rank mp2json "score-sigeo --supernet $T/sn.ckpt $SC" mutate-arch "train-arch --data $T/data"; do
    $tool < "$T/dup.mp" > /dev/null 2> "$T/err"; rc=$?
    check "duplicate key, ${tool%% *}: exit 1, names the key and the record" \
        '[ $rc -eq 1 ] && grep -q "duplicate map key \"arch\" (record 1)" $T/err'
done
rank --keep-going < "$T/dup.mp" 2> "$T/err" | mp2json > "$T/out"
check "duplicate key, rank --keep-going: the record is skipped, the others kept" \
    '[ $(wc -l < $T/out) -eq 2 ] && grep -q "1 bad record skipped" $T/err'
printf '{"a":1,"b":{"c":1,"c":2}}\n' | json2mp > /dev/null 2> "$T/err"; rc=$?
check "duplicate key, json2mp: exit 1, names the key" '[ $rc -eq 1 ] && grep -q "duplicate map key \"c\"" $T/err'

# --- pipelines: counts, failing stages, spaces in paths, shards --------------------------
S=pipelines/search.sh
$S -k 0 --cache "$T/c" --out "$T/o" > /dev/null 2> "$T/err"; rc=$?
check "search.sh -k 0: refused before any work, exit 2" \
    '[ $rc -eq 2 ] && grep -q "search.sh: error: -k needs a decimal integer >= 1" $T/err && [ ! -e $T/o ]'
$S -k -1 --cache "$T/c" --out "$T/o" > /dev/null 2> "$T/err"; rc=$?
check "search.sh -k -1: refused, exit 2 (no empty table with exit 0)" '[ $rc -eq 2 ] && [ ! -e $T/o ]'
$S -n > /dev/null 2> "$T/err"; rc=$?
check "search.sh -n without a value: exit 2, names the option" \
    '[ $rc -eq 2 ] && grep -q "option -n needs a value" $T/err'
FM=/usr/share/datasets/fashion-mnist
if [ -e "$FM/train-images-idx3-ubyte" ] || [ -e "$FM/train-images-idx3-ubyte.gz" ]; then
    $S -n 4 -k 1 -j 1 --threads 1 --fraction 0 --proxies params --train-fraction 0.01 \
        --test-fraction 0.01 --cache "$T/c" --out "$T/o" > "$T/table" 2> "$T/err"; rc=$?
    best=$(rank --by scores.params --top 1 < "$T/o/scored.mp" | mp2json | sed 's/.*"params":\([0-9.e+]*\).*/\1/')
    check "search.sh --proxies params: ranks by params, the table shows params" \
        '[ $rc -eq 0 ] && grep -q "^rank  test_acc  params" $T/table && [ "$(awk "NR==2 {print \$3}" $T/table)" = "$(awk -v b=$best "BEGIN {printf \"%.4f\", b}")" ]'
fi
sample-arch $SP -n 6 --seed 4 > "$T/a6.mp"
A=$PWD/$T # score-parallel.sh runs the shards in its staging directory
PSC="--data $A/data --batch 8 --batches 2 --bn-batches 1 --eval-batches 1 --proxies params -q"
pipelines/score-parallel.sh --supernet "$T/sn.ckpt" --tmp "$T/stage" -j 2 -- $PSC < "$T/a6.mp" > "$T/out" 2> "$T/err"; rc=$?
check "score-parallel.sh --tmp DIR: exit 0 with all records" '[ $rc -eq 0 ] && [ "$(mp2json < $T/out | wc -l)" = 6 ]'
for j in 08 010; do
    pipelines/score-parallel.sh --supernet "$T/sn.ckpt" -j $j -- $PSC < "$T/a6.mp" > "$T/out" 2> "$T/err"; rc=$?
    check "score-parallel.sh -j $j: refused (leading zero), exit 2" '[ $rc -eq 2 ] && grep -q "without leading zeros" $T/err'
done
pipelines/score-parallel.sh --supernet "$T/sn.ckpt" -j 2 -- $PSC --shard 0/1 < "$T/a6.mp" > "$T/out" 2> "$T/err"; rc=$?
check "score-parallel.sh ... -- --shard: refused, exit 2" '[ $rc -eq 2 ]'
score-sigeo --supernet "$T/sn.ckpt" $PSC --shard 0/2 --shard 1/2 < "$T/a6.mp" > "$T/out" 2> "$T/err"; rc=$?
check "score-sigeo --shard twice: refused, exit 2" '[ $rc -eq 2 ] && grep -q -- "--shard given twice" $T/err'
if command -v parallel > /dev/null; then
    mkdir -p "$T/my data"
    cp "$T/data"/* "$T/my data/"
    ln -s "$BIN" "$T/bin dir"
    SIGEO_BIN="$A/bin dir" pipelines/score-parallel.sh --runner parallel --supernet "$T/sn.ckpt" -j 2 -- \
        --data "$A/my data" --batch 8 --batches 2 --bn-batches 1 --eval-batches 1 --proxies params -q \
        < "$T/a6.mp" > "$T/out" 2> "$T/err"; rc=$?
    check "score-parallel.sh --runner parallel, spaces in SIGEO_BIN and --data: all records" \
        '[ $rc -eq 0 ] && [ "$(mp2json < $T/out | wc -l)" = 6 ]'
fi

# --- what a record error says; nothing raw reaches the terminal -------------------------
mp "$T/long.mp" "[{'kind': 'arch', 'arch': '|' + 'x' * 1100 + '|'}]"
score-sigeo --supernet "$T/sn.ckpt" $PSC < "$T/long.mp" > /dev/null 2> "$T/err"; rc=$?
check "an arch over the limit (1023 bytes): 'too long' with the limit" \
    '[ $rc -eq 1 ] && grep -q "\"arch\" is too long (1102 bytes; at most [0-9]*)" $T/err'
mp "$T/nul.mp" "[{'kind': 'arch', 'arch': '|none~0|\\0|'}]"
mutate-arch < "$T/nul.mp" > /dev/null 2> "$T/err"; rc=$?
check "an arch with a NUL byte: says so" '[ $rc -eq 1 ] && grep -q "\"arch\" holds a NUL byte" $T/err'
mp "$T/esc.mp" "[{'kind': 'arch', 'arch': '|\\x1b[31mX~0|\\x9b2J|', 'scores': {'sigeo': 1.0}}]"
printf '{"kind":"arch","arch":"|\\u001b]0;pwned\\u0007~0|"}\n' | json2mp >> "$T/esc.mp"
for tool in "score-sigeo --supernet $T/sn.ckpt $PSC" mutate-arch "rank -F table"; do
    $tool < "$T/esc.mp" > "$T/out" 2> "$T/err"
    check "ESC and C1 bytes from records, ${tool%% *}: escaped on stderr and stdout" \
        '! grep -q "$(printf "\033")" $T/err $T/out && ! grep -q "$(printf "\302\233")" $T/err $T/out && grep -q "x1b" $T/err $T/out'
done

# --- rank -t: the top-k hit rate is over the pairs that remain ----------------------------
mp "$T/t8.mp" "[{'kind': 'arch', 'scores': {'s': float(i)}, 'truth': {'acc': float(i % 5)}} for i in range(8)]"
rank --by scores.s -t truth.acc < "$T/t8.mp" > /dev/null 2> "$T/err"
check "rank -t with 8 pairs: reports top8, not top10" 'grep -q "n=8 .*top8_hit" $T/err'

# --- option values: the option and its range are named ----------------------------------
for c in "warmup-supernet --channels 0 -o $T/x.ckpt:--channels: '0' (want an integer from 1 to 4096)" \
         "sample-arch --channels 0:--channels: '0' (want an integer from 1 to 4096)" \
         "gen-criteo --rows 0:-n/--rows: '0' (want an integer from 1 to" \
         "mutate-arch -k x:-k/--children: 'x' (want an integer from 0 to 1000000)" \
         "rank --top 2000000000000:-k/--top: '2000000000000' (want an integer from 0 to 1099511627776)"; do
    cmd=${c%%:*} want=${c#*:}
    $cmd < /dev/null > /dev/null 2> "$T/err"; rc=$?
    check "bad option value, ${cmd%% *}: exit 2, 'invalid value for $want'" \
        '[ $rc -eq 2 ] && grep -qF -- "invalid value for $want" $T/err'
done

# --- minor: write errors with their reason, a float shape shown as written ----------------
gen-criteo -n 10 > /dev/full 2> "$T/err"; rc=$?
check "gen-criteo > /dev/full: exit 3 with the errno text" '[ $rc -eq 3 ] && grep -q "No space left on device" $T/err'
mkdir -p "$T/ck"
$PY tests/regress/mkckpt.py fuzz/corpus/ckpt/tiny.ckpt "$T/ck"
score-sigeo --supernet "$T/ck/float-shape.ckpt" $PSC < "$T/a6.mp" > /dev/null 2> "$T/err"; rc=$?
check "a float in a checkpoint's shape: shown as written (2.5), exit 1" '[ $rc -eq 1 ] && grep -q "shape (2.5,1,3,3)" $T/err'

# --- --keep-going skips a bad first record too ---------------------------------------------
{ printf '{"kind":"arch","index":99999}\n' | json2mp; sample-arch $SP -n 2 --seed 5; } > "$T/bad1.mp"
train-arch --keep-going --ok-if-bad --data "$T/data" --batch 16 -q < "$T/bad1.mp" > "$T/out" 2> "$T/err"; rc=$?
check "train-arch --keep-going --ok-if-bad, bad first record: skipped, 2 records trained, exit 0" \
    '[ $rc -eq 0 ] && [ "$(mp2json < $T/out | grep -c test_acc)" = 2 ]'
for tool in "score-sigeo --supernet $T/sn.ckpt $PSC" mutate-arch; do
    $tool --keep-going < "$T/bad1.mp" > "$T/out" 2> "$T/err"; rc=$?
    check "${tool%% *} --keep-going, bad first record: skipped, the rest written, exit 1" \
        '[ $rc -eq 1 ] && [ "$(mp2json < $T/out | wc -l)" -ge 2 ] && grep -q "1 bad record skipped" $T/err'
done

# --- sizes the writer accepts and the reader refuses: checked before any work -------------
# lim: run under ulimit -v 1 GB (not under ASan, which reserves terabytes of shadow).
lim() { if [ -n "${SIGEO_SANITIZE:-}" ]; then "$@"; else (ulimit -v 1000000; "$@"); fi; }
t0=$(date +%s)
lim timeout 60 warmup-supernet --channels 512 --fraction 0 -q -o "$T/big.ckpt" 2> "$T/err"; rc=$?
check "warmup-supernet --channels 512: refused at once, exit 2, names the option, size, 1 GiB limit and why; no file" \
    '[ $rc -eq 2 ] && [ $(($(date +%s) - t0)) -lt 10 ] && [ ! -e $T/big.ckpt ] &&
     grep -q -- "--channels 512 --cells 1: .* has 403830282 parameters; its checkpoint would take about 1616 MB, more than the 1 GiB (1073741824 bytes) a checkpoint may hold (every tool that loads checkpoints refuses larger files)" $T/err'
lim timeout 60 warmup-supernet --channels 1024 --fraction 0 -q -o "$T/big.ckpt" 2> "$T/err"; rc=$?
check "warmup-supernet --channels 1024: exit 2, says which limit" \
    '[ $rc -eq 2 ] && grep -q "would take about 6461 MB, more than the 1 GiB" $T/err'
lim timeout 60 warmup-supernet --channels 512 --data "$T/data" --input 1x8x8 -q -o "$T/big.ckpt" 2> "$T/err"; rc=$?
check "warmup-supernet --channels 512 with data: refused before reading it (exit 2)" \
    '[ $rc -eq 2 ] && grep -q "1 GiB" $T/err && [ ! -e $T/big.ckpt ]'
warmup-supernet --input 1x30x30 --fraction 0 -q -o "$T/big.ckpt" 2> "$T/err"; rc=$?
check "warmup-supernet --input 1x30x30: exit 2 with the reason (multiples of 4)" \
    '[ $rc -eq 2 ] && grep -q "cannot declare the nb201 supernet .*: input 30x30: H and W must be multiples of 4" $T/err'
warmup-supernet -s nasrec --channels 4096 --fraction 0 -q -o "$T/big.ckpt" 2> "$T/err"; rc=$?
check "warmup-supernet -s nasrec --channels 4096: exit 2, a cfg the loader would refuse (dmax 16..1024)" \
    '[ $rc -eq 2 ] && grep -q "cfg dmax is 4096; the space takes 16..1024" $T/err && [ ! -e $T/big.ckpt ]'
sample-arch -n 1 --channels 4096 --input 1x8x8 --classes 3 > "$T/huge.mp"
lim timeout 60 train-arch --data "$T/data" --batch 8 -q < "$T/huge.mp" > "$T/out" 2> "$T/err"; rc=$?
check "train-arch, a record of C=4096: exit 1, the parameter count and the memory it needs" \
    '[ $rc -eq 1 ] && grep -q "cannot allocate the network: out of memory for [0-9]* parameters ([0-9]* MB with gradients and momentum)" $T/err'

# --- decompression bombs: sizes declared in headers are checked before the body is read ----
# bombs DIR: small files that inflate to 2 GiB (gzip members of 256 MiB of zeros, repeated)
# behind headers that declare too much (or a plausible size, then more bytes than it).
bombs() { $PY - "$1" <<'EOF'
import gzip, struct, sys, zlib, os
d = sys.argv[1]
c = zlib.compressobj(9, zlib.DEFLATED, 31)
zeros = bytes(1 << 24)
member = b''.join(c.compress(zeros) for _ in range(16)) + c.flush()   # 256 MiB of zeros
body = member * 8                                                      # 2 GiB
def idx(sub, n, h, w):
    os.makedirs(d + '/' + sub)
    open(d + '/' + sub + '/train-images-idx3-ubyte.gz', 'wb').write(gzip.compress(struct.pack('>IIII', 0x803, n, h, w)) + body)
    open(d + '/' + sub + '/train-labels-idx1-ubyte', 'wb').write(struct.pack('>II', 0x801, n) + bytes(min(n, 100)))
idx('idx-huge', 0xffffffff, 4096, 4096)    # declares 2^32-1 images of 4096x4096
idx('idx-long', 60, 28, 28)                # declares 60 images, then 2 GiB
def npy(shape):
    h = "{'descr': '|u1', 'fortran_order': False, 'shape': %s, }" % (shape,)
    h += ' ' * (63 - (10 + len(h)) % 64) + '\n'
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode()
open(d + '/x.npy', 'wb').write(gzip.compress(npy((2147483647, 4096, 4096))) + body)
open(d + '/xs.npy', 'wb').write(gzip.compress(npy((60, 28, 28))) + body)
open(d + '/y.npy', 'wb').write(npy((60,)) + bytes(60))
# .npz: x.npy deflated, its directory entry claiming 2^31-1 bytes, its header 10^11
raw = npy((100000, 1000, 1000)) + bytes(1 << 20)
co = zlib.compressobj(9, zlib.DEFLATED, -15)
comp = co.compress(raw) + co.flush()
name = b'x.npy'
usize, crc = 0x7fffffff, zlib.crc32(raw)
loc = struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 8, 0, 0, crc, len(comp), usize, len(name), 0) + name
cen = struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 8, 0, 0, crc, len(comp), usize, len(name), 0, 0, 0, 0, 0, 0) + name
end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 1, 1, len(cen), len(loc) + len(comp), 0)
open(d + '/bomb.npz', 'wb').write(loc + comp + cen + end)
# a PNG declaring 30000x30000 grey pixels (stb_image itself refuses over 2^30 bytes), in two class folders
def chunk(t, b): return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 30000, 30000, 8, 0, 0, 0, 0)) \
    + chunk(b'IDAT', zlib.compress(bytes(30001 * 4))) + chunk(b'IEND', b'')
for k in 'ab':
    os.makedirs(d + '/png/' + k)
    open(d + '/png/' + k + '/0.png', 'wb').write(png)
EOF
}
B="$T/bombs"
mkdir -p "$B"
if bombs "$B"; then
    for c in "idx-huge:--data $B/idx-huge:header declares 4294967295 images of 4096x4096 (72057594021150736 bytes), more than the 2147483648 bytes" \
             "idx-long:--data $B/idx-long:train-images-idx3-ubyte.gz: longer than the 47056 bytes its header declares" \
             "npy-huge:--data $B/x.npy --labels $B/y.npy:x.npy: shape (2147483647, 4096, 4096) of 1-byte values declares more than the 2147483648 bytes" \
             "npy-long:--data $B/xs.npy --labels $B/y.npy:xs.npy: longer than the 47168 bytes its .npy header declares" \
             "npz:--data $B/bomb.npz:bomb.npz: x.npy: shape (100000, 1000, 1000) of 1-byte values declares more than" \
             "png:--data $B/png:0.png: header declares 30000x30000 pixels, more than the 67108864"; do
        name=${c%%:*} rest=${c#*:}; opts=${rest%%:*} want=${rest#*:}
        t0=$(date +%s)
        lim timeout 60 warmup-supernet --input 1x28x28 $opts -q -o "$T/bomb.ckpt" 2> "$T/err"; rc=$?
        check "decompression bomb ($name) under ulimit -v 1 GB: bad input (exit 1) at once, names the declared size" \
            '[ $rc -eq 1 ] && [ $(($(date +%s) - t0)) -lt 10 ] && grep -qF -- "$want" $T/err && [ ! -e $T/bomb.ckpt ]'
    done
else
    notok "decompression bomb fixtures (python3)"
fi
rm -rf "$B"

finish
