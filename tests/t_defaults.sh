#!/bin/sh
# The tools' defaults agree, alone and chained (docs/quality.md, "Defaults, as shipped"):
# rank sorts a space's records by that space's default score, warmup-supernet warms up on
# that space's default share, search.sh uses both, and a plain
# warmup-supernet | score-sigeo | rank on NB201 ranks by MeCo on the untrained supernet.
set -u
T=tests/tmp/t_defaults.$$
rm -rf "$T"; mkdir -p "$T/d"
trap 'rm -rf "$T"' EXIT
. tests/lib.sh
export PATH="$PWD/bin:$PATH"

# key_of SPACE [SCORES]: the score rank sorts SPACE's records by without --by, read off
# which of two probe records it puts first
key_of() {
    printf '{"space":"%s","k":"sigeo","scores":{"sigeo":1,"meco":0}}\n' "$1" > "$T/probe.jsonl"
    printf '{"space":"%s","k":"meco","scores":{"sigeo":0,"meco":1}}\n' "$1" >> "$T/probe.jsonl"
    json2mp < "$T/probe.jsonl" | rank -k 1 -F jsonl ${2:-} 2> "$T/rank.err" | sed 's/.*"k":"\([a-z]*\)".*/\1/'
}
check "rank: nb201 records sort by scores.meco" '[ "$(key_of nb201)" = meco ]'
check "rank: darts records sort by scores.sigeo" '[ "$(key_of darts)" = sigeo ]'
check "rank: nasrec records sort by scores.sigeo" '[ "$(key_of nasrec)" = sigeo ]'
check "rank --by scores.sigeo overrides the space's default" '[ "$(key_of nb201 "--by scores.sigeo")" = sigeo ]'
printf '{"k":"sigeo","scores":{"sigeo":1}}\n{"k":"meco","scores":{"sigeo":0}}\n' | json2mp |
    rank -k 1 -F jsonl 2> "$T/rank.err" | grep -q '"k":"sigeo"'
check "rank: nb201 records without meco sort by sigeo and say so" \
    '[ $? -eq 0 ] && grep -q "lacks scores.meco, nb201.s default: sorting by scores.sigeo" "$T/rank.err"'

idx_blobs "$T/d" 1000 5 || { fail "tiny data set"; finish; }
# name_frac SPACE: the share in warmup-supernet's cache name without --fraction
name_frac() { warmup-supernet --space "$1" --data "$T/d" --cache-name | sed 's/.*-f\([0-9.]*\)-e.*/\1/'; }
check "warmup-supernet: nb201 defaults to no warm-up" '[ "$(name_frac nb201)" = 0 ]'
check "warmup-supernet: darts defaults to 1%" '[ "$(name_frac darts)" = 0.01 ]'
check "warmup-supernet: nasrec defaults to 1%" '[ "$(name_frac nasrec)" = 0.01 ]'

# The chain with every default on a tiny image set: the untrained supernet records the
# data (score-sigeo reads it from there) and rank puts the best MeCo first.
warmup-supernet --data "$T/d" -q -o "$T/sn.ckpt" 2> "$T/err" &&
    sample-arch -n 12 --seed 2 --input 1x8x8 --classes 3 | score-sigeo --supernet "$T/sn.ckpt" -q 2>> "$T/err" > "$T/scored.mp" &&
    rank -F jsonl < "$T/scored.mp" > "$T/ranked.jsonl" 2>> "$T/err"
CHECK_ERR=$T/err check "warmup-supernet | score-sigeo | rank with defaults runs" '[ $? -eq 0 ]'
check "... the supernet is untrained and records the data" \
    'mp2json < "$T/sn.ckpt" | grep -q "\"fraction\":0.0," && mp2json < "$T/sn.ckpt" | grep -qF "$PWD/$T/d"'
/usr/bin/python3 -c '
import json, sys
m = [json.loads(l)["scores"]["meco"] for l in open(sys.argv[1])]
sys.exit(not (len(m) == 12 and m == sorted(m, reverse=True) and len(set(m)) > 1))' "$T/ranked.jsonl"
check "... rank puts the 12 records in order of MeCo" '[ $? -eq 0 ]'

# search.sh with its defaults warms up (here: does not) as warmup-supernet alone does, and
# ranks by rank's default key.
pipelines/search.sh -n 4 -k 1 -j 1 --data "$T/d" --cache "$T/c" --out "$T/o" --no-save \
    > "$T/table" 2> "$T/log"
CHECK_ERR=$T/log check "search.sh with default warm-up and key runs" '[ $? -eq 0 ]'
check "... its checkpoint is the one warmup-supernet's defaults name" \
    '[ -f "$T/c/$(warmup-supernet --data "$T/d" --seed 1 --cache-name)" ]'
check "... it ranks by meco" 'grep -q "^rank .*meco" "$T/table"'
finish
