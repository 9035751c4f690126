#!/bin/sh
# Byte-identity of the tools' outputs: runs a fixed set of small pipelines and prints one
# "sha256  name" line per output. `tests/identity.sh check` compares against
# tests/identity.sha256 (taken before a refactor); `tests/identity.sh record` rewrites it.
# Timing fields (truth.seconds) are zeroed first; everything else must match byte for byte.
set -eu
cd "$(dirname "$0")/.."
B=${SIGEO_BIN:-bin}
# Threads that sleep instead of spinning when the machine is oversubscribed; results do not depend on it.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# OpenBLAS picks its kernels by CPU (AVX-512 ones here, AVX2 ones elsewhere), and their sgemm
# sums in other orders: one kernel family, so that the hashes hold on any x86-64 with AVX2.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
T=tests/tmp/identity
rm -rf "$T"; mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
untime() { /usr/bin/python3 -c '
import msgpack, sys
out = sys.stdout.buffer
for r in msgpack.Unpacker(sys.stdin.buffer, raw=False, strict_map_key=False):
    t = r.get("truth")
    if isinstance(t, dict) and "seconds" in t: t["seconds"] = 0.0
    out.write(msgpack.packb(r, use_bin_type=True))'; }
# nb201
$B/sample-arch -n 24 --seed 5 > "$T/archs.mp"
$B/sample-arch --all | head -c 4000 > /dev/null
$B/warmup-supernet --fraction 0 -q -o "$T/sn0.ckpt"
$B/warmup-supernet --fraction 0.004 --seed 3 -q -o "$T/sn.ckpt"
$B/warmup-supernet --fraction 0.004 --seed 3 --threads 2 -q -o "$T/sn-t2.ckpt"
$B/score-sigeo --supernet "$T/sn0.ckpt" --proxies all -q < "$T/archs.mp" > "$T/score0-all.mp"
$B/score-sigeo --supernet "$T/sn.ckpt" -q < "$T/archs.mp" > "$T/score-default.mp"
$B/sample-arch -n 8 --seed 5 > "$T/archs8.mp" # --proxies all with threads is the slow one
$B/score-sigeo --supernet "$T/sn.ckpt" --proxies all --threads 2 -q < "$T/archs8.mp" > "$T/score-all-t2.mp"
$B/score-sigeo --supernet "$T/sn.ckpt" --paper --proxies sigeo,zico -q < "$T/archs.mp" > "$T/score-paper.mp"
$B/rank < "$T/score0-all.mp" > "$T/rank.mp"
$B/rank --by scores.zico -k 5 -F table < "$T/score0-all.mp" > "$T/rank-table.txt"
$B/rank --by all -F stats --truth scores.flops < "$T/score0-all.mp" > "$T/rank-stats.mp" 2> "$T/rank-stats.err"
$B/mp2json < "$T/score-default.mp" > "$T/score.jsonl"
$B/json2mp < "$T/score.jsonl" > "$T/roundtrip.mp"
$B/mutate-arch -k 3 --seed 2 < "$T/archs.mp" > "$T/mutants.mp"
head -c 2000 "$T/archs.mp" > /dev/null
$B/sample-arch -n 3 --seed 9 | $B/train-arch --fraction 0.01 --test-fraction 0.02 -q | untime > "$T/train.mp"
$B/sample-arch -n 2 --seed 9 | $B/train-arch --fraction 0.01 --test-fraction 0.02 --threads 2 --schedule constant --no-nesterov -q | untime > "$T/train-t2.mp"
# nasrec
$B/gen-criteo -n 3000 --seed 4 > "$T/criteo.tsv"
# Checkpoints and records store the data path absolute: the table goes to a fixed place
# outside the checkout (same bytes from every run, replaced atomically), so the outputs do
# not depend on where the repository is.
D=/tmp/sigeo-identity
mkdir -p "$D" && cp "$T/criteo.tsv" "$D/criteo.tsv.$$" && mv -f "$D/criteo.tsv.$$" "$D/criteo.tsv"
$B/sample-arch --space nasrec -n 6 --seed 2 > "$T/rec-archs.mp"
$B/warmup-supernet --space nasrec --data "$D/criteo.tsv" --fraction 0.3 -q -o "$T/rec.ckpt"
$B/score-sigeo --supernet "$T/rec.ckpt" --data "$D/criteo.tsv" --proxies all -q < "$T/rec-archs.mp" > "$T/rec-score.mp"
$B/train-arch --data "$D/criteo.tsv" --fraction 0.3 -q < "$T/rec-archs.mp" | untime > "$T/rec-train.mp"
$B/mutate-arch -k 2 < "$T/rec-archs.mp" > "$T/rec-mutants.mp"
# trained models and predictions (model files are named by the arch's index or hash)
$B/sample-arch -n 2 --seed 9 | $B/train-arch --fraction 0.01 --test-fraction 0.02 -q --save "$T/models" > /dev/null
$B/sample-arch --space nasrec -n 1 --seed 3 | $B/train-arch --data "$D/criteo.tsv" --fraction 0.3 -q --save "$T/models" > /dev/null
cp "$(ls "$T"/models/nb201-*.model | head -1)" "$T/nb201.model"
cp "$(ls "$T"/models/nasrec-*.model | head -1)" "$T/nasrec.model"
$B/predict --model "$T/nb201.model" --test-fraction 0.05 -o "$T/predict.mp"
$B/predict --model "$T/nb201.model" --eval > "$T/predict-eval.txt"
$B/predict --model "$T/nasrec.model" -o "$T/predict-rec.mp"
(cd "$T" && sha256sum archs.mp sn0.ckpt sn.ckpt sn-t2.ckpt score0-all.mp score-default.mp score-all-t2.mp \
    score-paper.mp rank.mp rank-table.txt rank-stats.mp rank-stats.err score.jsonl roundtrip.mp mutants.mp \
    train.mp train-t2.mp criteo.tsv rec-archs.mp rec.ckpt rec-score.mp rec-train.mp rec-mutants.mp \
    nb201.model nasrec.model predict.mp predict-eval.txt predict-rec.mp) > "$T/now"
case "${1:-print}" in
record) cp "$T/now" tests/identity.sha256 ;;
check)
    if diff tests/identity.sha256 "$T/now"; then echo "identity: all outputs byte-identical"
    else echo "identity: outputs differ (left: recorded, right: now)" >&2; exit 1; fi ;;
*) cat "$T/now" ;;
esac
