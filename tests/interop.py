#!/usr/bin/python3
"""Independent checks of sigeo streams with Debian's python3-msgpack (and scipy).

  interop.py decode N SEED < stream.mp    check a sample-arch stream value by value
  interop.py tricky > stream.mp           write a stream exercising every JSON-mapped type
  interop.py stats records.jsonl stats.jsonl TRUTH K
                                          recompute rank's statistics with scipy

Exit 0 on success, 1 on a mismatch, 77 if a module is missing (the caller skips)."""
import json
import math
import sys

try:
    import msgpack
except ImportError:
    print("python3 msgpack module missing", file=sys.stderr)
    sys.exit(77)

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
SRC = [0, 0, 1, 0, 1, 2]  # source node of each edge, edge order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2


def arch_string(index):
    ops = [(index // 5 ** j) % 5 for j in range(6)]
    parts = ["|%s~%d|" % (OPS[o], s) for o, s in zip(ops, SRC)]
    return parts[0] + "+" + "".join(parts[1:3]).replace("||", "|") + "+" + "".join(parts[3:6]).replace("||", "|")


def decode(n, seed):
    recs = list(msgpack.Unpacker(sys.stdin.buffer, raw=False, strict_map_key=True))
    bad = 0
    if len(recs) != n:
        print("want %d records, got %d" % (n, len(recs)))
        return 1
    indices = set()
    for r in recs:
        want_keys = {"kind", "space", "arch", "index", "cfg"}
        if not isinstance(r, dict) or set(r) != want_keys:
            print("bad record", r)
            bad += 1
            continue
        ok = (r["kind"] == "arch" and r["space"] == "nb201" and isinstance(r["index"], int)
              and 0 <= r["index"] < 15625 and r["arch"] == arch_string(r["index"])
              and r["cfg"] == {"C": 8, "N": 1, "in_ch": 1, "H": 28, "W": 28, "classes": 10})
        if not ok:
            print("mismatch", r, "want arch", arch_string(r["index"]))
            bad += 1
        indices.add(r["index"])
    if len(indices) != n:
        print("samples are not distinct")
        bad += 1
    print("decoded %d records with python msgpack %s, %d bad" % (len(recs), msgpack.version, bad))
    return 1 if bad else 0


def tricky():
    recs = [
        {"kind": "t", "nil": None, "b": [True, False],
         "i": [0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, 2 ** 32, 2 ** 63 - 1, 2 ** 64 - 1,
               -2 ** 63, -2 ** 31 - 1],
         "f": [0.0, -0.0, 1.0, 0.1, 1e20, 1e-300, 5e-324, 1.7976931348623157e308, -2.5, float("nan"),
               float("inf"), -float("inf"), 123456789.125, 1 / 3],
         "s": ["", 'a"b\\c\n\t\x01\x1f\x7f/', "h\u00e9llo \u2713 \U0001d11e", "x" * 300],
         "bin": b"\x00\x01\xffab", "bin0": b"", "ext": msgpack.ExtType(5, b"xyz"),
         "nest": {"a": {"b": {"c": []}}, "e": {}}},
        [1, 2.5], 3, "top-level string",
    ]
    out = sys.stdout.buffer
    for r in recs:
        out.write(msgpack.packb(r, use_bin_type=True))
    return 0


def stats(records, stats_file, truth, k):
    try:
        import scipy.stats as st
    except ImportError:
        print("scipy missing", file=sys.stderr)
        return 77

    def get(r, path):
        for p in path.split("."):
            if not isinstance(r, dict) or p not in r:
                return None
            r = r[p]
        return r

    recs = [json.loads(l) for l in open(records)]
    bad = 0
    for s in (json.loads(l) for l in open(stats_file)):
        pairs = [(get(r, s["by"]), get(r, truth)) for r in recs]
        pairs = [(x, y) for x, y in pairs if isinstance(x, (int, float)) and isinstance(y, (int, float))
                 and not math.isnan(x) and not math.isnan(y)]
        x = [p[0] for p in pairs]
        y = [p[1] for p in pairs]
        tau = st.kendalltau(x, y).statistic
        rho = st.spearmanr(x, y).statistic
        order = lambda v: [i for _, i in sorted((-v[i], i) for i in range(len(v)))][:k]
        hit = len(set(order(x)) & set(order(y))) / min(k, len(x))
        ok = (s["n"] == len(x) and abs(s["kendall_tau_b"] - tau) < 1e-9 and abs(s["spearman_rho"] - rho) < 1e-9
              and abs(s["topk_hit"] - hit) < 1e-12)
        print("%s %s: n=%d tau %.12f/%.12f rho %.12f/%.12f hit %.3f/%.3f" %
              ("ok" if ok else "NOT OK", s["by"], len(x), s["kendall_tau_b"], tau, s["spearman_rho"], rho,
               s["topk_hit"], hit))
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "decode":
        sys.exit(decode(int(sys.argv[2]), int(sys.argv[3])))
    if cmd == "tricky":
        sys.exit(tricky())
    if cmd == "stats":
        sys.exit(stats(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
    sys.exit(2)
