#!/bin/sh
# Hostile inputs and environments (docs/reliability.md, "The catalogue of bad inputs",
# rows marked t_hostile.sh): output paths that are not regular files, pipelines whose
# stages fail, option values at and beyond their limits, records with duplicate keys or
# terminal escapes, JSON Lines resync, sizes checked before the work. Each check's name
# starts with the catalogue row it tests.
set -u
T=tests/tmp/t_hostile.$$ # private: others may run make test at the same time
rm -rf "$T"
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

finish
