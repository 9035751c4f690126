#!/bin/sh
# rank --where and --pareto against a brute-force Python check on random records: keys
# missing, NaN, integers and floats, ties; every operator; AND of several conditions;
# Pareto fronts over 1 to 3 keys with both orientations (the O(n^2) definition); the
# output order is rank's usual sort; bad conditions are usage errors (exit 2).
set -u
T=tests/tmp/t_rank_budget.$$
rm -rf "$T"; mkdir -p "$T"
PY=/usr/bin/python3
. tests/lib.sh

$PY - "$T/r.mp" <<'EOF' || { notok "generating records"; finish; }
import math, msgpack, random, sys
r = random.Random(11)
out = []
for i in range(400):
    s = {}
    for k in ("a", "b", "c"):
        u = r.random()
        if u < 0.05: continue                      # missing
        if u < 0.08: s[k] = float("nan")
        elif u < 0.4: s[k] = r.randrange(0, 20)    # integers: ties
        else: s[k] = round(r.uniform(-5, 5), 2)
    out.append({"kind": "arch", "index": i, "scores": s})
open(sys.argv[1], "wb").write(b"".join(msgpack.packb(x) for x in out))
EOF

n=0
run() { # run NAME ARGS...: rank's output into $T/NAME.mp
    name=$1; shift
    rank "$@" < "$T/r.mp" > "$T/$name.mp" 2> "$T/$name.err" || notok "rank $* exits 0"
    (IFS='	'; echo "$name	$*") >> "$T/cases"
}
: > "$T/cases"
run w1 --by scores.a --where 'scores.b<=3'
run w2 --by scores.a --where 'scores.b < 3' --where 'scores.c>=-1'
run w3 --by scores.c -a --where 'scores.a==4' 
run w4 --by scores.a --where 'scores.a!=4' --where 'scores.c > 0'
run w5 --by scores.b --where 'scores.a>=2.5' --top 7
run p1 --by scores.a --pareto scores.a
run p2 --by scores.a --pareto 'scores.a,-scores.b'
run p3 --by scores.c --pareto '-scores.a,scores.b,-scores.c'
run p4 --by scores.b --pareto 'scores.b,scores.c' --where 'scores.a<1'
run p5 --by scores.a --pareto 'scores.a,scores.a'

$PY - "$T" <<'EOF'
import math, msgpack, sys
T = sys.argv[1]
recs = list(msgpack.Unpacker(open(f"{T}/r.mp", "rb"), raw=False))
fail = 0
def get(r, k):
    v = r["scores"].get(k.split(".")[1])
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
ops = {"<=": lambda x, v: x <= v, ">=": lambda x, v: x >= v, "==": lambda x, v: x == v,
       "!=": lambda x, v: x != v, "<": lambda x, v: x < v, ">": lambda x, v: x > v}
def cond(c):
    for o in ("<=", ">=", "==", "!=", "<", ">"):
        if o in c:
            k, v = c.split(o)
            return k.strip(), ops[o], float(v)
def sort_key(r, by, asc):  # rank: NaN / missing last, stable
    v = get(r, by)
    return (v is None, 0 if v is None else (v if asc else -v))
for line in open(f"{T}/cases"):
    a = line.rstrip("\n").split("\t")
    name, args = a[0], a[1:]
    by, asc, top, wh, par = None, False, 0, [], None
    i = 0
    while i < len(args):
        x = args[i]
        if x == "--by": by = args[i + 1]; i += 1
        elif x == "-a": asc = True
        elif x == "--top": top = int(args[i + 1]); i += 1
        elif x == "--where": wh.append(cond(args[i + 1])); i += 1
        elif x == "--pareto": par = args[i + 1].split(","); i += 1
        i += 1
    keep = [r for r in recs if all(get(r, k) is not None and f(get(r, k), v) for k, f, v in wh)]
    if par:
        keys = [(k.lstrip("-"), -1 if k.startswith("-") else 1) for k in par]
        keep = [r for r in keep if all(get(r, k) is not None for k, _ in keys)]
        val = lambda r: [s * get(r, k) for k, s in keys]
        dom = lambda p, q: all(x >= y for x, y in zip(p, q)) and any(x > y for x, y in zip(p, q))
        keep = [r for r in keep if not any(dom(val(o), val(r)) for o in keep)]
    keep.sort(key=lambda r: sort_key(r, by, asc))
    if top: keep = keep[:top]
    got = list(msgpack.Unpacker(open(f"{T}/{name}.mp", "rb"), raw=False))
    want = [r["index"] for r in keep]
    ok = [r["index"] for r in got] == want and len(want) > 0
    print(("ok " if ok else "NOT OK ") + f"{' '.join(args)}: {len(want)} records as brute force")
    if not ok: print("   got", [r["index"] for r in got][:20], "want", want[:20])
    fail |= not ok
sys.exit(fail)
EOF
[ $? -eq 0 ] || notok "brute-force comparison"

for bad in 'scores.a' 'scores.a<=x' '<=3' 'scores.a=<3'; do
    rank --where "$bad" < "$T/r.mp" > /dev/null 2>&1
    check "--where '$bad' is a usage error" '[ $? -eq 2 ]'
done
for bad in '' 'a,' ',a' '-'; do
    rank --pareto "$bad" < "$T/r.mp" > /dev/null 2>&1
    check "--pareto '$bad' is a usage error" '[ $? -eq 2 ]'
done
printf '\201\246scores\201\241a\241x' | rank --where 'scores.a<1' > "$T/s.mp" 2> "$T/s.err"
check "a string under a --where key is bad input (exit 1, nothing written)" '[ $? -eq 1 ] && [ ! -s "$T/s.mp" ]'
rm -rf "$T"
finish
