#!/usr/bin/python3
"""warmmix.py — a diagnostic checkpoint for the warm-up investigation: the tensors of a
warmed-up supernet whose names match REGEX, moved by ALPHA of the way from an untrained
supernet of the same seed (the rest stay untrained), re-hashed so score-sigeo loads it.
Tells which trained parameters (convs, BN affine, the head...) change a proxy's ranking.

usage: bench/warmmix.py WARM.ckpt INIT.ckpt REGEX ALPHA OUT.ckpt
  e.g. bench/warmmix.py sn-0.1.ckpt sn-0.ckpt '\\.bn\\.' 1 bn-only.ckpt
"""
import hashlib
import re
import sys

import msgpack
import numpy as np


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    warm_p, init_p, rx, alpha, out_p = sys.argv[1:]
    warm = msgpack.unpackb(open(warm_p, "rb").read(), raw=False)
    init = msgpack.unpackb(open(init_p, "rb").read(), raw=False)
    if warm["cfg"] != init["cfg"] or warm["train"]["seed"] != init["train"]["seed"]:
        sys.exit("warmmix.py: the two supernets differ in cfg or seed")
    a, pat, n = float(alpha), re.compile(rx), 0
    for name, t in warm["tensors"].items():
        w = np.frombuffer(t["data"], "<f4")
        i = np.frombuffer(init["tensors"][name]["data"], "<f4")
        mixed = i + a * (w - i) if pat.search(name) else i
        n += bool(pat.search(name))
        t["data"] = mixed.astype("<f4").tobytes()
    del warm["hash"]
    body = msgpack.packb(warm, use_bin_type=True)
    digest = hashlib.sha256(body).hexdigest()
    warm["hash"] = digest
    raw = msgpack.packb(warm, use_bin_type=True)
    assert hashlib.sha256(bytes([raw[0] - 1]) + raw[1:-71]).hexdigest() == digest
    open(out_p, "wb").write(raw)
    print(f"warmmix.py: {n} of {len(warm['tensors'])} tensors from {warm_p}", file=sys.stderr)


if __name__ == "__main__":
    main()
