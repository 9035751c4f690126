#!/usr/bin/python3
"""SiGeo scoring in PyTorch: the reference score-sigeo is compared against (bench/score.sh).

The same computation as `score-sigeo --proxies sigeo` (docs/proxies.md), written
independently: the NB201 supernet built once as torch modules with every candidate op
(bench/nb201_torch.py), weights loaded by name from the same checkpoint file (msgpack), the
same K training batches (the same examples: xoshiro256** and the partial Fisher-Yates of
score-sigeo are ported below), normalized with the full split's statistics. Per candidate:
the inherited weights are restored, then for each batch: BN in training mode (batch
statistics), forward, cross-entropy, backward, record every used conv/linear weight
gradient, plain SGD step of --step-lr on every used parameter. S1, S2, L and sigeo are
computed from the recorded gradients in float64.

Prints the candidates/s of the scoring loop (data loading excluded) and, with --out,
writes one JSON line per candidate (arch, sigeo, s1, s2, loss) for a cross-check."""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import msgpack
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nb201_torch import OPS, SuperNet  # noqa: E402

M64 = (1 << 64) - 1


# ---- score-sigeo's example selection, ported (util.c RNG, score-sigeo.c choose()) ----

class Rng:
    def __init__(self, seed):
        x = seed & M64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    def u64(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
        out = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return out

    def below(self, n):
        if n <= 1:
            return 0
        limit = M64 - M64 % n
        while True:
            v = self.u64()
            if v < limit:
                return v % n


def choose(seed, n, need):
    perm = list(range(n))
    r = Rng(seed ^ 0x510E527FADE682D1)
    for i in range(need):
        j = i + r.below(n - i)
        perm[i], perm[j] = perm[j], perm[i]
    return perm[:need]


def load_idx(d):
    def opn(stem):
        for name in (stem + ".gz", stem):
            p = os.path.join(d, name)
            if os.path.exists(p):
                return gzip.open(p, "rb") if p.endswith(".gz") else open(p, "rb")
        raise SystemExit("score_torch: %s/%s missing" % (d, stem))
    img = opn("train-images-idx3-ubyte").read()
    lab = opn("train-labels-idx1-ubyte").read()
    n, h, w = struct.unpack(">III", img[4:16])
    x = np.frombuffer(img, dtype=np.uint8, offset=16).reshape(n, 1, h, w)
    y = np.frombuffer(lab, dtype=np.uint8, offset=8).astype(np.int64)
    return x, y


def parse_arch(s):
    ops = []
    for part in s.strip("|").split("|"):
        if part == "+":
            continue
        ops.append(OPS.index(part.split("~")[0]))
    return ops


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--supernet", required=True)
    ap.add_argument("--archs", required=True, help="msgpack arch records")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--bn-batches", type=int, default=4)
    ap.add_argument("--eval-batches", type=int, default=4)
    ap.add_argument("--step-lr", type=float, default=1.0)
    ap.add_argument("--out", help="JSON lines: arch, sigeo, s1, s2, loss")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    ck = msgpack.unpackb(open(a.supernet, "rb").read(), raw=False)
    # the paper's weights, as `score-sigeo --paper` uses (the bench compares that computation)
    cfg, lam = ck["cfg"], ([1, 50, 1] if ck["steps"] > 0 else [1, 1, 0])
    net = SuperNet(cfg["C"], cfg["N"], cfg["in_ch"], cfg["classes"])
    names = dict(net.engine_tensors())
    for nm, t in ck["tensors"].items():
        if t.get("state"):
            continue
        v = np.frombuffer(t["data"], dtype="<f4").reshape(t["shape"])
        names[nm].data.copy_(torch.from_numpy(v.copy()))
    saved = {nm: p.detach().clone() for nm, p in names.items()}

    x8, y = load_idx(a.data)
    mean = x8.mean(dtype=np.float64) / 255.0
    std = math.sqrt((x8.astype(np.float64) ** 2).mean() / 255.0 ** 2 - mean * mean)
    need = (a.batches + a.bn_batches + a.eval_batches) * a.batch
    idx = choose(a.seed, len(y), need)[:a.batches * a.batch]
    xs = ((x8[idx].astype(np.float32) / np.float32(255.0)) - np.float32(mean)) * np.float32(1.0 / np.float32(std))
    X = torch.from_numpy(xs).reshape(a.batches, a.batch, *xs.shape[1:])
    Y = torch.from_numpy(y[idx]).reshape(a.batches, a.batch)

    archs = [r["arch"] for r in msgpack.Unpacker(open(a.archs, "rb"), raw=False)]
    out = open(a.out, "w") if a.out else None
    weight_names = [nm for nm in names if nm.endswith(".conv.w") or nm == "head.fc.w"]
    net.train()
    t0 = time.time()
    for s in archs:
        ops = parse_arch(s)
        with torch.no_grad():
            for nm, p in names.items():
                p.copy_(saved[nm])
        grads = {}
        loss = float("nan")
        for b in range(a.batches):
            for p in names.values():
                p.grad = None
            l = F.cross_entropy(net(X[b], ops), Y[b])
            l.backward()
            loss = l.item()
            for nm in weight_names:
                g = names[nm].grad
                if g is not None:
                    grads.setdefault(nm, []).append(g.detach().flatten().double().clone())
            with torch.no_grad():
                for p in names.values():
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-a.step_lr)
        s1, fr = 0.0, 0.0
        for nm, gl in grads.items():
            G = torch.stack(gl)
            sd = G.std(dim=0, unbiased=False)
            nz = sd != 0
            t = (G.abs().mean(dim=0)[nz] / sd[nz]).sum().item()
            if t != 0:
                s1 += math.log(t)
            fr += abs((G.sum(dim=0) * names[nm].detach().flatten().double()).sum().item())
        s2 = 2 * math.log(fr + 1e-5)
        sig = lam[0] * s1 + lam[1] * s2 - lam[2] * loss
        if out:
            out.write(json.dumps({"arch": s, "sigeo": sig, "s1": s1, "s2": s2, "loss": loss}) + "\n")
    dt = time.time() - t0
    print("torch: %d candidates in %.2f s, %.3f candidates/s (threads %d)"
          % (len(archs), dt, len(archs) / dt, a.threads))


if __name__ == "__main__":
    main()
