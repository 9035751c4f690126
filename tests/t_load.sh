#!/bin/sh
# Constant memory (the 100k-record version of bench/load.sh): peak RSS of mp2json | json2mp
# and of rank --top 10 over 100,000 records stays within 2 MiB of a 10,000-record run,
# and the round trip is exact. (rank without --top keeps every record by design.)
set -u
T=tests/tmp/t_load.$$ # private: others may run make test at the same time
rm -rf "$T"
mkdir -p "$T"
. tests/lib.sh
if [ -n "${SIGEO_SANITIZE:-}" ]; then echo "ok # skip RSS under AddressSanitizer (shadow memory)"; exit 0; fi
sample-arch --all > "$T/cells.mp"
/usr/bin/python3 - "$T/cells.mp" "$T" <<'PY' || exit 1
import msgpack, random, sys
cells = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
r = random.Random(1)
for n in (10000, 100000):
    with open(f"{sys.argv[2]}/in{n}.mp", "wb") as f:
        for i in range(n):
            rec = dict(cells[i % len(cells)])
            rec["scores"] = {"sigeo": r.random() if i % 97 else float("nan")}
            f.write(msgpack.packb(rec))
PY
rss() { /usr/bin/time -f "%M" -o "$T/time" sh -c "$1" > "$T/out" 2>/dev/null; cat "$T/time"; }
for n in 10000 100000; do
    eval "rt$n=\$(rss 'mp2json < $T/in$n.mp | json2mp')"
    cmp -s "$T/out" "$T/in$n.mp" && ok "round trip of $n records is exact" || notok "round trip of $n records"
    eval "rk$n=\$(rss 'rank -k 10 < $T/in$n.mp')"
done
rank < "$T/in100000.mp" | /usr/bin/python3 -c "
import msgpack, sys, itertools
print(msgpack.packb(list(itertools.islice(msgpack.Unpacker(sys.stdin.buffer, raw=False), 10))).hex())" > "$T/full10"
rank -k 10 < "$T/in100000.mp" | /usr/bin/python3 -c "
import msgpack, sys
print(msgpack.packb(list(msgpack.Unpacker(sys.stdin.buffer, raw=False))).hex())" > "$T/top10"
cmp -s "$T/full10" "$T/top10" && ok "rank -k 10 (bounded) == first 10 of the full sort" || notok "rank -k 10 differs from the full sort"
# Heavy ties: the bounded selection must keep input order among equal keys, as the sort does.
/usr/bin/python3 -c "
import msgpack, sys
sys.stdout.buffer.write(b''.join(msgpack.packb({'i': i, 'scores': {'sigeo': i % 7}}) for i in range(5000)))" > "$T/ties.mp"
for k in 1 25 700; do
    rank < "$T/ties.mp" | mp2json | head -n $k > "$T/full"
    rank -k $k < "$T/ties.mp" | mp2json > "$T/top"
    cmp -s "$T/full" "$T/top" && ok "rank -k $k with ties == first $k of the full sort" || notok "rank -k $k with ties"
done
echo "# peak RSS KiB: mp2json|json2mp 10k $rt10000 100k $rt100000; rank -k 10: 10k $rk10000 100k $rk100000"
[ $((rt100000 - rt10000)) -lt 2048 ] && ok "mp2json | json2mp: constant memory" || notok "mp2json | json2mp RSS grows"
[ $((rk100000 - rk10000)) -lt 2048 ] && ok "rank -k 10: constant memory" || notok "rank -k 10 RSS grows"
rm -rf "$T"
finish
