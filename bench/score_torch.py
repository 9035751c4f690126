#!/usr/bin/python3
"""SiGeo scoring in PyTorch: the reference score-sigeo is compared against (bench/score.sh).

The same computation as `score-sigeo --proxies sigeo` (docs/proxies.md), written
independently: the NB201 supernet built once as torch modules with every candidate op,
weights loaded by name from the same checkpoint file (msgpack), the same K training batches
(the same examples: xoshiro256** and the partial Fisher-Yates of score-sigeo are ported
below), normalized with the full split's statistics. Per candidate: the inherited weights
are restored, then for each batch: BN in training mode (batch statistics), forward,
cross-entropy, backward, record every used conv/linear weight gradient, plain SGD step of
--step-lr on every used parameter. S1, S2, L and sigeo are computed from the recorded
gradients in float64.

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
import torch.nn as nn
import torch.nn.functional as F

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]
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


# ---- the NB201 supernet: every candidate op on every edge, a path chosen per call ----

class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(F.relu(x)))


class Reduction(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.a = ReLUConvBN(cin, cout, 3, 2)
        self.b = ReLUConvBN(cout, cout, 3, 1)
        self.sc = nn.Conv2d(cin, cout, 1, 1, 0, bias=False)

    def forward(self, x):
        return self.b(self.a(x)) + self.sc(F.avg_pool2d(x, 2, 2))


class SuperCell(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.conv1 = nn.ModuleList([ReLUConvBN(C, C, 1, 1) for _ in EDGES])
        self.conv3 = nn.ModuleList([ReLUConvBN(C, C, 3, 1) for _ in EDGES])

    def forward(self, x, ops):
        nodes = [x]
        for j in range(1, 4):
            acc = None
            for e, (jj, i) in enumerate(EDGES):
                if jj != j or ops[e] == 0:
                    continue
                h = nodes[i]
                op = ops[e]
                if op == 2:
                    h = self.conv1[e](h)
                elif op == 3:
                    h = self.conv3[e](h)
                elif op == 4:
                    h = F.avg_pool2d(h, 3, 1, 1, count_include_pad=False)
                acc = h if acc is None else acc + h
            nodes.append(acc if acc is not None else torch.zeros_like(x))
        return nodes[3]


class SuperNet(nn.Module):
    def __init__(self, C, N, in_ch, classes):
        super().__init__()
        self.stem_conv = nn.Conv2d(in_ch, C, 3, 1, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(C)
        self.body = nn.ModuleList()
        self.names = []
        for s in range(3):
            if s > 0:
                self.body.append(Reduction(C << (s - 1), C << s))
                self.names.append("red%d" % (s - 1))
            for i in range(N):
                self.body.append(SuperCell(C << s))
                self.names.append("s%d.c%d" % (s, i))
        self.head_bn = nn.BatchNorm2d(C << 2)
        self.fc = nn.Linear(C << 2, classes)

    def forward(self, x, ops):
        h = self.stem_bn(self.stem_conv(x))
        for m in self.body:
            h = m(h, ops) if isinstance(m, SuperCell) else m(h)
        return self.fc(F.relu(self.head_bn(h)).mean(dim=(2, 3)))

    def engine_names(self):
        """engine name -> trainable tensor (the names of src/nb201_net.c)."""
        out = {"stem.conv.w": self.stem_conv.weight, "stem.bn.gamma": self.stem_bn.weight,
               "stem.bn.beta": self.stem_bn.bias}

        def rcb(pre, m):
            out[pre + ".conv.w"] = m.conv.weight
            out[pre + ".bn.gamma"] = m.bn.weight
            out[pre + ".bn.beta"] = m.bn.bias
        for nm, m in zip(self.names, self.body):
            if isinstance(m, Reduction):
                rcb(nm + ".a", m.a)
                rcb(nm + ".b", m.b)
                out[nm + ".sc.conv.w"] = m.sc.weight
            else:
                for e in range(len(EDGES)):
                    rcb("%s.e%d.conv1" % (nm, e), m.conv1[e])
                    rcb("%s.e%d.conv3" % (nm, e), m.conv3[e])
        out.update({"head.bn.gamma": self.head_bn.weight, "head.bn.beta": self.head_bn.bias,
                    "head.fc.w": self.fc.weight, "head.fc.b": self.fc.bias})
        return out


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
    names = net.engine_names()
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
