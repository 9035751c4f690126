#!/bin/sh
# bench/load.sh [N]: N (default 1,000,000) scored records through rank and through the
# JSON converter; prints wall time and peak RSS (/usr/bin/time -v) per stage.
# Results are in docs/reliability.md. Not part of make test (tests/t_load.sh runs a
# 100k version). Run from the repository root after make.
set -eu
N=${1:-1000000}
T=${TMPDIR:-/tmp}/sigeo-load.$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
export PATH="${SIGEO_BIN:-$PWD/bin}:$PATH"
# N records: every NB201 cell as often as needed, each with a pseudo-random score.
/usr/bin/python3 - "$N" "$T/in.mp" <<'PY'
import msgpack, random, subprocess, sys
n, out = int(sys.argv[1]), sys.argv[2]
u = msgpack.Unpacker(raw=False)
u.feed(subprocess.run(["sample-arch", "--all"], capture_output=True, check=True).stdout)
cells = list(u)
r = random.Random(1)
with open(out, "wb") as f:
    for i in range(n):
        rec = dict(cells[i % len(cells)])
        rec["scores"] = {"sigeo": r.random(), "zico": r.random()}
        f.write(msgpack.packb(rec))
PY
echo "input: $N records, $(($(wc -c < "$T/in.mp") / 1048576)) MiB msgpack"
measure() { # label, then a shell command reading $T/in.*
    /usr/bin/time -f "%e %M" -o "$T/time" sh -c "$2" > /dev/null
    set -- "$1" $(cat "$T/time")
    printf '%-34s %8s s  peak RSS %7.1f MiB\n' "$1" "$2" "$(echo "$3 / 1024" | bc -l)"
}
mp2json < "$T/in.mp" > "$T/in.jsonl"
measure "mp2json" "mp2json < $T/in.mp"
measure "json2mp" "json2mp < $T/in.jsonl"
measure "mp2json | json2mp (round trip)" "mp2json < $T/in.mp | json2mp"
measure "rank --top 10 (bounded)" "rank -k 10 < $T/in.mp"
measure "rank (full sort, keeps all)" "rank < $T/in.mp"
measure "rank --truth (statistics)" "rank --by scores.sigeo --truth scores.zico -F stats < $T/in.mp 2>/dev/null"
