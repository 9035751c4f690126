#!/bin/sh
# Faults on the output side and interruption (docs/reliability.md): a full disk and a
# closed pipe are reported with exit 3, `| head` ends quietly, a signal during a
# checkpoint write leaves neither a partial checkpoint nor a temp file, a temp file left
# by kill -9 is cleaned by the next run, and a checkpoint to a full file system fails
# cleanly without touching the previous checkpoint.
set -u
T=tests/tmp/t_faults.$$ # private: others may run make test at the same time
rm -rf "$T"
mkdir -p "$T"
PY=/usr/bin/python3
. tests/lib.sh
CHECK_ERR="$T/err"

SP="--channels 2 --cells 1 --input 1x8x8 --classes 3"
warmup-supernet $SP --fraction 0 -q -o "$T/sn.ckpt" || { notok "tiny supernet"; exit 1; }
sample-arch $SP -n 50 > "$T/a.mp"
mp2json < "$T/a.mp" > "$T/a.jsonl"

# --- full disk: /dev/full as stdout ----------------------------------------------------
full() { # name, command (stdin from $2's input file), input
    sh -c "$2" < "$3" > /dev/full 2> "$T/err"; rc=$?
    check "$1 > /dev/full: exit 3, 'No space left on device'" \
        '[ $rc -eq 3 ] && grep -q "error: .*No space left on device" $T/err'
}
full "sample-arch" "sample-arch -n 5" /dev/null
full "rank" "rank" "$T/a.mp"
full "rank -F jsonl" "rank -F jsonl" "$T/a.mp"
full "mp2json" "mp2json" "$T/a.mp"
full "json2mp" "json2mp" "$T/a.jsonl"
full "mutate-arch" "mutate-arch" "$T/a.mp"
mkdir -p "$T/data"
/usr/bin/python3 -c "
import struct, sys
n = 40
open(sys.argv[1] + '/train-images-idx3-ubyte', 'wb').write(struct.pack('>IIII', 0x803, n, 8, 8) + bytes(range(64)) * n)
open(sys.argv[1] + '/train-labels-idx1-ubyte', 'wb').write(struct.pack('>II', 0x801, n) + bytes(i % 3 for i in range(n)))" "$T/data"
full "score-sigeo" "score-sigeo --supernet $T/sn.ckpt --data $T/data --batch 4 --batches 2 --bn-batches 1 --eval-batches 1 -q" "$T/a.mp"

# --- closed pipe with SIGPIPE ignored (as under some supervisors): exit 3, reported -----
for cmd in "sample-arch --all" "rank" "mp2json" "json2mp"; do
    case "$cmd" in json2mp) in="$T/big.jsonl" ;; *) in="$T/big.mp" ;; esac
    [ -e "$T/big.mp" ] || { sample-arch --all > "$T/big.mp"; mp2json < "$T/big.mp" > "$T/big.jsonl"; }
    sh -c "trap '' PIPE; $cmd < $in 2> $T/err; echo \$? > $T/rc" | head -c 1 > /dev/null
    rc=$(cat "$T/rc")
    check "$cmd into a closed pipe (SIGPIPE ignored): exit 3, 'Broken pipe'" \
        '[ "$rc" -eq 3 ] && grep -q "Broken pipe" $T/err'
done
# ... and with SIGPIPE at its default, | head ends the pipeline quietly.
(sample-arch --all | rank -k 20000 | mp2json | json2mp | mp2json | head -n 2 > "$T/out") 2> "$T/err"
check "sample-arch | rank | mp2json | json2mp | mp2json | head -n 2: quiet" \
    '[ $(wc -l < $T/out) -eq 2 ] && ! grep -v "lack" $T/err | grep -q .'

# --- a signal while the checkpoint is being written ------------------------------------
# A big (27 MB) untrained supernet makes the write take a while; signals land at spread
# times, some before and some during the write.
BIG="--channels 32 --cells 5 --input 1x8x8 --classes 3 --fraction 0 -q"
sig_run() { # how: "at SECONDS" or "during"; sends SIGTERM, checks what is left
    rm -f "$T/big.ckpt"
    warmup-supernet $BIG -o "$T/big.ckpt" 2>/dev/null &
    pid=$!
    if [ "$1" = during ]; then # wait for the temp file to appear: the write is under way
        i=0
        while [ $i -lt 500 ] && ! ls "$T" | grep -q 'big.ckpt.tmp'; do sleep 0.01; i=$((i + 1)); done
    else
        sleep "$2"
    fi
    kill -TERM $pid 2>/dev/null
    wait $pid 2>/dev/null
    if ls "$T" | grep -q 'big.ckpt.tmp'; then notok "SIGTERM ($1 ${2:-}) left a temp file"; return; fi
    if [ -e "$T/big.ckpt" ] && ! score-sigeo --supernet "$T/big.ckpt" --data /nonexistent < /dev/null 2>&1 | grep -q "nonexistent"; then
        notok "SIGTERM ($1 ${2:-}) left a checkpoint that does not load"; return
    fi
    ok "SIGTERM ($1 ${2:-}) during warmup-supernet: no temp file, no partial checkpoint"
}
sig_run during; sig_run during; sig_run during
sig_run at 0.1; sig_run at 0.3; sig_run at 0.6
# kill -9 cannot be caught: it may leave big.ckpt.tmp.PID; the next save removes stale ones.
: > "$T/sn.ckpt.tmp.999999999"
: > "$T/sn.ckpt.tmp.$$"            # a live writer's (this shell's PID): left alone
warmup-supernet $SP --fraction 0 -q -o "$T/sn.ckpt"; rc=$?
check "rerun after kill -9: works, removes the dead writer's temp file, keeps a live one's" \
    '[ $rc -eq 0 ] && [ ! -e $T/sn.ckpt.tmp.999999999 ] && [ -e $T/sn.ckpt.tmp.$$ ]'
rm -f "$T/sn.ckpt.tmp.$$"
warmup-supernet $SP --fraction 0 -q -o "$T/k9.ckpt" &
pid=$!; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
warmup-supernet $SP --fraction 0 -q -o "$T/k9.ckpt"; rc=$?
check "kill -9 then rerun: a loadable checkpoint, no temp files" \
    '[ $rc -eq 0 ] && ! ls $T | grep -q "k9.ckpt.tmp" && score-sigeo --supernet $T/k9.ckpt --data /nonexistent < /dev/null 2>&1 | grep -q nonexistent'

# --- checkpoint to a full file system --------------------------------------------------
# A file-size limit (ulimit -f) makes write(2) fail with EFBIG like a full disk would.
cp "$T/sn.ckpt" "$T/old.ckpt"
(trap '' XFSZ; ulimit -f 8; warmup-supernet --channels 8 --cells 1 --input 1x8x8 --classes 3 --fraction 0 -q -o "$T/old.ckpt") 2> "$T/err"; rc=$?
check "checkpoint larger than ulimit -f: exit 3, error names the file, old checkpoint intact, no temp" \
    '[ $rc -eq 3 ] && grep -q "old.ckpt: write failed: File too large" $T/err && cmp -s $T/sn.ckpt $T/old.ckpt && ! ls $T | grep -q "old.ckpt.tmp"'
# A real full file system: a 64 KiB tmpfs when we may mount one (root), else skipped.
mkdir -p "$T/fs"
if mount -t tmpfs -o size=64k tmpfs "$T/fs" 2>/dev/null; then
    cp "$T/sn.ckpt" "$T/fs/x.ckpt" 2>/dev/null
    warmup-supernet --channels 8 --cells 1 --input 1x8x8 --classes 3 --fraction 0 -q -o "$T/fs/x.ckpt" 2> "$T/err"; rc=$?
    check "checkpoint to a full 64 KiB tmpfs: exit 3, 'No space left on device', old file intact, no temp" \
        '[ $rc -eq 3 ] && grep -q "No space left on device" $T/err && cmp -s $T/sn.ckpt $T/fs/x.ckpt && [ $(ls $T/fs | wc -l) -eq 1 ]'
    sample-arch --all > "$T/fs/all.mp" 2> "$T/err"; rc=$?
    check "sample-arch to a full tmpfs: exit 3" '[ $rc -eq 3 ] && grep -q "No space left on device" $T/err'
    umount "$T/fs"
else
    echo "ok # skip checkpoint to a full tmpfs (cannot mount; ulimit -f case above covers the path)"
fi

# --- a tight address-space limit: OpenBLAS would retry its buffer mapping forever (a hang);
# the tools check the room first and fail cleanly. ASan needs the address space itself.
if [ -z "${SIGEO_SANITIZE:-}" ]; then
    SC="--supernet $T/sn.ckpt --data $T/data --batch 4 --batches 2 --bn-batches 1 --eval-batches 1 -q"
    (ulimit -v 300000; timeout 60 score-sigeo $SC --threads 2 < "$T/a.mp" > "$T/uv.mp" 2> "$T/err"); rc=$?
    check "ulimit -v 300 MB, score-sigeo --threads 2: exit 3, the error names the limit, nothing written" \
        '[ $rc -eq 3 ] && grep -q "score-sigeo: error: the address-space limit (ulimit -v 300000 KB)" $T/err && [ ! -s $T/uv.mp ]'
    (ulimit -v 300000; timeout 60 warmup-supernet $SP --data "$T/data" --fraction 1 --batch 4 --threads 2 -q -o "$T/uv.ckpt" 2> "$T/err"); rc=$?
    check "ulimit -v 300 MB, warmup-supernet --threads 2: exit 3, no checkpoint" \
        '[ $rc -eq 3 ] && grep -q "ulimit -v" $T/err && [ ! -e $T/uv.ckpt ]'
    (ulimit -v 1000000; timeout 60 score-sigeo $SC --threads 2 < "$T/a.mp" > "$T/uv.mp" 2> "$T/err"); rc=$?
    check "ulimit -v 1 GB, score-sigeo --threads 2: runs (exit 0)" '[ $rc -eq 0 ] && [ -s $T/uv.mp ]'
    # Tighter: OpenBLAS's idle pool thread cannot map its buffer and retries forever; the
    # tools must still exit (with their own status) instead of waiting for it.
    (ulimit -v 120000; timeout 60 sample-arch $SP -n 3 > "$T/uv.mp" 2> "$T/err"); rc=$?
    check "ulimit -v 120 MB, sample-arch: exits 0 with its 3 records (OpenBLAS's stuck pool thread not waited for)" \
        '[ $rc -eq 0 ] && [ $(mp2json < $T/uv.mp | wc -l) -eq 3 ]'
    (ulimit -v 120000; timeout 60 score-sigeo $SC < "$T/a.mp" > "$T/uv.mp" 2> "$T/err"); rc=$?
    check "ulimit -v 120 MB, score-sigeo: exit 3 with the limit named, no hang" \
        '[ $rc -eq 3 ] && grep -q "ulimit -v 120000 KB" $T/err'
fi

rm -rf "$T"
finish
