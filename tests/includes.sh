#!/bin/sh
# The include graph between the layers of src/ (base < io < data < engine < spaces <
# model < proxies < export < tools): prints which layer includes which (with the count of #include lines)
# and every module edge that crosses layers, then fails (exit 1) on
#   - an upward include: a file including a header of a higher layer;
#   - an include circle between modules: a module is src/<layer>/x.c with its header
#     (include/<layer>/x.h, or src/<layer>/x.h and x_impl.h beside it); a.c including b.h
#     and b.c (or b.h) including a.h, directly or through other modules, is a circle.
# Known exceptions (listed below with their reason) are reported, not failed.
# Usage: tests/includes.sh [ROOT]   (ROOT: a tree with src/ and include/, default: this one)
set -eu
root=${1:-$(dirname "$0")/..}
exec /usr/bin/python3 - "$root" <<'EOF'
import os, re, sys

root = sys.argv[1]
LAYERS = ["base", "io", "data", "engine", "spaces", "model", "proxies", "export", "tools"]
RANK = {l: i for i, l in enumerate(LAYERS)}
# (including module, included module): reason. Reported, not failed. None today.
KNOWN = {}

def module_of(path):
    """(layer, module name) of a file under src/<layer>/ or include/<layer>/."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] not in ("src", "include") or parts[1] not in RANK:
        return None
    stem = os.path.splitext(parts[2])[0]
    if stem.endswith("_impl"):  # x_impl.h: the private part of module x's interface
        stem = stem[:-len("_impl")]
    return parts[1], parts[1] + "/" + stem

files = []
for top in ("src", "include"):
    for layer in LAYERS:
        d = os.path.join(root, top, layer)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                files.append(top + "/" + layer + "/" + f)

inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
edges = {}        # module -> set of modules
layer_edges = {}  # (layer, layer) -> count
bad = []
known_seen = []
for f in files:
    layer, mod = module_of(f)
    with open(os.path.join(root, f), errors="replace") as fh:
        for line in fh:
            m = inc_re.match(line)
            if not m:
                continue
            name = m.group(1)
            # "x.h" beside the file, else "<layer>/x.h" under include/
            local = os.path.dirname(f) + "/" + name
            if "/" not in name and os.path.exists(os.path.join(root, local)):
                target = local
            else:
                target = "include/" + name
            tm = module_of(target)
            if tm is None:
                bad.append("%s: includes \"%s\", which is in no layer" % (f, name))
                continue
            tl, tmod = tm
            layer_edges[(layer, tl)] = layer_edges.get((layer, tl), 0) + 1
            if tmod != mod:
                edges.setdefault(mod, set()).add(tmod)
            if RANK[tl] > RANK[layer]:
                if (mod, tmod) in KNOWN:
                    known_seen.append("%s -> %s (%s): %s" % (f, name, tmod, KNOWN[(mod, tmod)]))
                else:
                    bad.append("%s: upward include of %s (%s is above %s)" % (f, name, tl, layer))

print("# includes between layers (#include lines)")
for a in LAYERS:
    row = ["%s %d" % (b, layer_edges[(a, b)]) for b in LAYERS if (a, b) in layer_edges]
    if row:
        print("%-8s -> %s" % (a, ", ".join(row)))
print("# module edges across layers")
for a in sorted(edges):
    cross = sorted(b for b in edges[a] if b.split("/")[0] != a.split("/")[0])
    if cross:
        print("%-22s -> %s" % (a, " ".join(cross)))

# Circles: strongly connected components of more than one module (Tarjan).
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges.get(v, ())):
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))
sys.setrecursionlimit(10000)
nodes = set(edges) | {b for s in edges.values() for b in s}
for v in sorted(nodes):
    if v not in index:
        strong(v)
for comp in sccs:
    bad.append("include circle between modules: " + " <-> ".join(comp))

for k in known_seen:
    print("known exception: " + k)
for b in bad:
    print("NOT OK " + b)
print("%s: %d modules, %d upward includes or circles, %d known exceptions"
      % ("ok" if not bad else "FAILED", len(nodes), len(bad), len(known_seen)))
sys.exit(1 if bad else 0)
EOF
