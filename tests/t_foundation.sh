#!/bin/sh
# End-to-end pipes over sample-arch, rank, mp2json and json2mp: counts, reproducibility,
# byte-exact round trips, error messages and exit codes, quiet `| head`, Python interop.
cd "$(dirname "$0")/.." || exit 2
T=tests/tmp/t_foundation.$$ # private: others may run make test at the same time
rm -rf "$T" && mkdir -p "$T"
. tests/lib.sh
PY=/usr/bin/python3

# --all: 15,625 records through rank; sorting by index ascending restores the exact bytes.
sample-arch --all > $T/all.mp
check "rank counts 15625 records" '[ "$(rank --by index < $T/all.mp | mp2json | wc -l)" -eq 15625 ]'
rank --by index --ascending < $T/all.mp > $T/asc.mp
check "rank --ascending by index reproduces sample-arch --all byte for byte" 'cmp -s $T/all.mp $T/asc.mp'
rank --by index --top 3 --format jsonl < $T/all.mp > $T/top.jsonl
check "rank --top 3 keeps the three largest indices" \
    '[ "$(grep -o "\"index\":[0-9]*" $T/top.jsonl | tr "\n" " ")" = "\"index\":15624 \"index\":15623 \"index\":15622 " ]'

# Sampling: reproducible, seed-dependent, distinct, bounded by the space.
sample-arch -n 50 --seed 7 > $T/s1.mp
sample-arch -n 50 --seed 7 > $T/s2.mp
sample-arch -n 50 --seed 8 > $T/s3.mp
check "same seed, same bytes" 'cmp -s $T/s1.mp $T/s2.mp'
check "another seed, other cells" '! cmp -s $T/s1.mp $T/s3.mp'
check "50 distinct cells" '[ "$(mp2json < $T/s1.mp | grep -o "\"index\":[0-9]*" | sort -u | wc -l)" -eq 50 ]'
check "-n 15625 draws every cell once" \
    '[ "$(sample-arch -n 15625 | mp2json | grep -o "\"index\":[0-9]*" | sort -u | wc -l)" -eq 15625 ]'
sample-arch -n 15626 > /dev/null 2> $T/err; rc=$?
check "-n 15626 is a usage error" '[ $rc -eq 2 ] && grep -q "sample-arch: error: cannot sample" $T/err'
sample-arch --bogus > /dev/null 2>&1; rc=$?
check "unknown option exits 2" '[ $rc -eq 2 ]'
check "-h prints usage with defaults to stdout" 'sample-arch -h | grep -q "random seed \[1\]"'
sample-arch -n 2 --channels 16 --cells 2 --input 3x32x32 --classes 100 | mp2json > $T/cfg.jsonl
check "space parameters land in cfg" \
    'grep -q "\"cfg\":{\"C\":16,\"N\":2,\"in_ch\":3,\"H\":32,\"W\":32,\"classes\":100}" $T/cfg.jsonl'

# Converter: exact round trips.
mp2json < $T/all.mp | json2mp > $T/rt.mp
check "mp2json | json2mp round-trips all 15625 records byte for byte" 'cmp -s $T/all.mp $T/rt.mp'
if $PY tests/interop.py tricky > $T/tricky.mp 2>/dev/null; then
    mp2json < $T/tricky.mp > $T/tricky.jsonl && json2mp < $T/tricky.jsonl > $T/tricky2.mp
    check "round trip of ints, float64, NaN/Inf, escapes, UTF-8, bin, ext, nesting" 'cmp -s $T/tricky.mp $T/tricky2.mp'
    check "floats stay floats and ints stay ints" \
        'head -1 $T/tricky.jsonl | grep -q "\"f\":\[0.0,-0.0,1.0,0.1,1e+20,"' 
    check "python json reads mp2json output" \
        '$PY -c "import json,sys; [json.loads(l) for l in sys.stdin]" < $T/tricky.jsonl'
    sample-arch -n 40 --seed 3 | $PY tests/interop.py decode 40 3 > $T/py.log 2>&1; rc=$?
    check "python3-msgpack decodes a sample-arch stream with the right values" '[ $rc -eq 0 ] || { cat $T/py.log; false; }'
else
    echo "skip python interop: python3 msgpack module missing"
fi
printf '{"a": [1, 2.50, -3e2, "x\\u00e9\\ud834\\udd1e"],\n  "b": {"$bin": "AAE="}}  {"c":null}\n' | json2mp | mp2json > $T/pretty.jsonl
check "json2mp reads pretty, multi-value JSON and \\u escapes" \
    '[ "$(cat $T/pretty.jsonl)" = "$(printf "{\"a\":[1,2.5,-300.0,\"xé𝄞\"],\"b\":{\"\$bin\":\"AAE=\"}}\n{\"c\":null}")" ]'

# Errors: message with record number, exit 1, earlier records written.
sample-arch -n 3 | head -c -1 | mp2json > $T/out 2> $T/err; rc=$?
check "truncated stream: exit 1, 2 records out, message names record 3" \
    '[ $rc -eq 1 ] && [ "$(wc -l < $T/out)" -eq 2 ] && grep -q "^mp2json: error: truncated record (record 3)$" $T/err'
printf '\301' | mp2json > /dev/null 2> $T/err; rc=$?
check "garbage byte: exit 1" '[ $rc -eq 1 ] && grep -q "mp2json: error: malformed msgpack.*(record 1)" $T/err'
printf '\335\377\377\377\377' | mp2json > /dev/null 2> $T/err; rc=$?
check "array claiming 4G entries refused" '[ $rc -eq 1 ] && grep -q "exceeds the record size limit" $T/err'
printf '\001' | rank -f > /dev/null 2> $T/err; rc=$?
check "non-map record: exit 1" '[ $rc -eq 1 ] && grep -q "^rank: error: record is not a map (record 1)$" $T/err'
printf '{"kind":"arch","scores":{"sigeo":1}}\n{"kind":"arch","scores":{"sigeo":"high"}}\n' | json2mp |
    rank > /dev/null 2> $T/err; rc=$?
check "wrong type: exit 1" '[ $rc -eq 1 ] && grep -q "rank: error: \"scores.sigeo\" is not a number (record 2)" $T/err'
printf '{"a":1}\n{"a":tru}\n' | json2mp > $T/out 2> $T/err; rc=$?
check "bad JSON: exit 1 after the good record" \
    '[ $rc -eq 1 ] && [ "$(mp2json < $T/out)" = "{\"a\":1}" ] && grep -q "json2mp: error: invalid literal at line 2 (record 2)" $T/err'
rank --format yaml < /dev/null > /dev/null 2>&1; rc=$?
check "rank: unknown format exits 2" '[ $rc -eq 2 ]'
rank --by all < /dev/null > /dev/null 2>&1; rc=$?
check "rank: --by all without --truth exits 2" '[ $rc -eq 2 ]'
sample-arch --all > /dev/full 2> $T/err; rc=$?
check "write error is reported (exit 3)" '[ $rc -eq 3 ] && grep -q "sample-arch: error: writing stdout" $T/err'

# `| head` ends quietly.
{ sample-arch --all 2> $T/e1 | mp2json 2> $T/e2 | head -n 1 > /dev/null; }
{ sample-arch --all 2> $T/e3 | rank --by index 2> $T/e4 | head -c 10 > /dev/null; }
check "| head is quiet" '[ ! -s $T/e1 ] && [ ! -s $T/e2 ] && [ ! -s $T/e3 ] && [ ! -s $T/e4 ]'

# rank: NaN and missing last, stable ties; --ascending.
printf '%s\n' '{"n":1,"scores":{"s":NaN}}' '{"n":2,"scores":{"s":0.5}}' '{"n":3}' '{"n":4,"scores":{"s":2}}' \
    '{"n":5,"scores":{"s":0.5}}' | json2mp > $T/nan.mp
check "NaN and missing sort last, ties keep input order" \
    '[ "$(rank --by scores.s --format jsonl < $T/nan.mp 2>/dev/null | grep -o "\"n\":[0-9]" | tr -d "\"n:\n")" = "42513" ]'
check "--ascending puts NaN last too" \
    '[ "$(rank --by scores.s --ascending --format jsonl < $T/nan.mp 2>/dev/null | grep -o "\"n\":[0-9]" | tr -d "\"n:\n")" = "25413" ]'
check "missing key is reported" 'rank --by scores.s < $T/nan.mp 2>&1 >/dev/null | grep -q "1 of 5 records lack .scores.s. (sorted last)"'

# rank --truth: statistics agree with scipy on records with ties and NaN.
$PY - > $T/scored.jsonl << 'EOF'
import math, random
random.seed(4)
for i in range(400):
    acc = round(random.random(), 2)              # many ties in the truth
    a = acc + random.gauss(0, 0.3)
    b = float("nan") if i % 37 == 0 else float(int(10 * random.random()))
    print('{"kind":"arch","index":%d,"scores":{"a":%r,"b":%s,"c":%d},"truth":{"acc":%r}}'
          % (i, a, "NaN" if math.isnan(b) else repr(b), -i, acc))
EOF
json2mp < $T/scored.jsonl | rank --by all --truth truth.acc --top 20 --format stats 2> $T/stats.err | mp2json > $T/stats.jsonl
check "rank --by all: one stats record per score key" '[ "$(wc -l < $T/stats.jsonl)" -eq 3 ] && [ "$(wc -l < $T/stats.err)" -eq 3 ]'
if $PY -c "import scipy" 2>/dev/null; then
    if $PY tests/interop.py stats $T/scored.jsonl $T/stats.jsonl truth.acc 20; then ok "rank statistics match scipy"
    else fail "rank statistics match scipy"; fi
else
    echo "skip scipy cross-check: scipy missing"
fi
json2mp < $T/scored.jsonl | rank --by scores.a --truth truth.acc --format table --top 5 > $T/table 2> $T/err
check "table output and stats line on stderr" \
    '[ "$(wc -l < $T/table)" -eq 6 ] && grep -q "^rank: scores.a vs truth.acc: n=400 kendall_tau_b=" $T/err'

# Binary to a terminal: refused unless forced (script(1) gives the tool a pseudo-terminal).
if command -v script > /dev/null; then
    script -qec "sample-arch -n 1" /dev/null > "$T/tty" 2>&1
    rc=$?
    check "binary to a terminal refused with exit 2" \
        '[ $rc -eq 2 ] && grep -q "sample-arch: error: refusing to write binary" $T/tty'
    script -qec "sample-arch -n 1 -f" /dev/null > "$T/tty" 2>&1
    rc=$?
    check "-f writes binary to a terminal anyway" '[ $rc -eq 0 ] && ! grep -q error $T/tty'
else
    echo "skip: script(1) not installed, terminal refusal not tested"
fi

rm -rf "$T"
finish
