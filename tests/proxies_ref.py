#!/usr/bin/python3
"""proxies_ref.py — AZ-NAS's components, MeCo, SWAP and VKDNW written independently of the C code,
from the papers' definitions (docs/proxies.md), for tests/t_proxyref.sh.

The network is bench/nb201_torch.py's supernet with the checkpoint's weights; batch 0 is
the same examples score-sigeo draws (score_torch.py's port of its sampling). Every
intermediate map is recorded by this file's own forward pass (one entry per distinct
tensor, as the C graph has one node per distinct value), and the scores are computed in
float64 NumPy / torch.autograd:
  swap: distinct columns of the (units x examples) sign matrix of all ReLU outputs;
  meco: sum over maps of the smallest eigenvalue of the channel Pearson correlation of
        example 0 (constant channels: correlation 0);
  aznas: expressivity / progressivity over the block outputs, trainability by
        autograd.grad of Rademacher signs drawn from the same xoshiro stream as the C code;
  vkdnw: in float64 with BN on the checkpoint's running statistics, the gradient of
        log p(c|x_b) for every example and class by autograd, F = 1/B sum p_bc g g^T over
        element 0 of each conv/linear weight (identically zero ones dropped), NumPy's
        eigvalsh and linear-interpolation deciles, their normalized entropy.

usage: proxies_ref.py CKPT ARCHS.mp SCORED.mp DATA_DIR SEED BATCH NEED
Compares with SCORED.mp (score-sigeo's output) and exits 1 on a mismatch."""
import math
import os
import sys

import msgpack
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
from nb201_torch import EDGES, SuperNet, Reduction  # noqa: E402
from score_torch import Rng, choose, load_idx, parse_arch  # noqa: E402


class Recorder:
    """Runs the supernet on a path, recording every distinct map (maps), the ReLU outputs
    (relus) and the block outputs (blocks)."""

    def __init__(self):
        self.maps, self.relus, self.blocks, self.relu_of, self.pool_of = [], [], [], {}, {}

    def keep(self, t):
        if not any(t is m for m in self.maps):
            self.maps.append(t)
        return t

    def relu(self, x):
        if id(x) not in self.relu_of:  # a node's ReLU is one map, however many edges read it
            self.relu_of[id(x)] = (x, self.keep(F.relu(x)))
            self.relus.append(self.relu_of[id(x)][1])
        return self.relu_of[id(x)][1]

    def rcb(self, m, x):
        return self.keep(m.bn(self.keep(m.conv(self.relu(x)))))

    def cell(self, cell, x, ops):
        nodes, zero = [x], set()
        for j in range(1, 4):
            ins = []
            for e, (jj, i) in enumerate(EDGES):
                if jj != j or ops[e] == 0 or (i in zero and ops[e] in (1, 4)):
                    continue  # a skip or pool of an all-zero node adds nothing
                h = nodes[i]
                if ops[e] == 2:
                    h = self.rcb(cell.conv1[e], h)
                elif ops[e] == 3:
                    h = self.rcb(cell.conv3[e], h)
                elif ops[e] == 4:  # the pool of a node is one map, however many edges
                    if id(h) not in self.pool_of:
                        self.pool_of[id(h)] = (h, self.keep(F.avg_pool2d(h, 3, 1, 1, count_include_pad=False)))
                    h = self.pool_of[id(h)][1]
                ins.append(h)
            # one sum of all inputs (the C graph's n-input add), not pairwise partial sums
            acc = ins[0] if len(ins) == 1 else self.keep(torch.stack(ins).sum(0)) if ins else None
            if acc is None:
                zero.add(j)
            nodes.append(acc if acc is not None else torch.zeros_like(x))
        return nodes[3]

    def forward(self, net, x, ops):
        h = self.keep(net.stem_bn(self.keep(net.stem_conv(x))))
        self.blocks.append(h)
        for m in net.body:
            if isinstance(m, Reduction):
                a = self.rcb(m.b, self.rcb(m.a, h))
                sc = self.keep(m.sc(self.keep(F.avg_pool2d(h, 2, 2))))
                h = self.keep(a + sc)
            else:
                h = self.cell(m, h, ops)
            self.blocks.append(h)
        z = self.relu(self.keep(net.head_bn(h)))
        return net.fc(z.mean(dim=(2, 3)))


def swap(rec):
    a = torch.cat([r.detach().reshape(r.shape[0], -1) for r in rec.relus], 1) > 0
    return float(np.unique(a.T.numpy(), axis=0).shape[0])


def meco(rec):
    s = 0.0
    for t in rec.maps:
        f = t.detach()[0].double().reshape(t.shape[1], -1).numpy()
        if f.shape[0] < 2 or f.shape[1] < 2:
            continue
        c = f - f.mean(axis=1, keepdims=True)
        n = np.sqrt((c * c).sum(axis=1))
        ok = n > 0
        R = np.zeros((f.shape[0], f.shape[0]))
        R[np.ix_(ok, ok)] = (c[ok] @ c[ok].T) / np.outer(n[ok], n[ok])
        s += np.linalg.eigvalsh(R).min()
    return s


def expressivity(t):
    b, c, h, w = t.shape
    f = t.detach().double().permute(0, 2, 3, 1).reshape(-1, c).numpy()
    f = f - f.mean(axis=0)
    ev = np.linalg.eigvalsh(f.T @ f / f.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.clip(ev / ev.sum(), 0, None)
        return float(-(p * np.log(p + 1e-8)).sum())


def trainability(rec, rng):
    terms = []
    for i in reversed(range(1, len(rec.blocks))):
        fo, fi = rec.blocks[i], rec.blocks[i - 1]
        n = fo.numel()
        bits = []
        for w in range((n + 63) // 64):
            v = rng.u64()
            bits.extend((v >> k) & 1 for k in range(64))
        g = torch.tensor(bits[:n], dtype=torch.float32).reshape(fo.shape) * 2 - 1
        if not fo.requires_grad or not fi.requires_grad or fo is fi:
            terms.append(float("nan"))  # a constant block (no path) or the identity
            continue
        gi = torch.autograd.grad(fo, fi, grad_outputs=g, retain_graph=True, allow_unused=True)[0]
        gi = torch.zeros_like(fi) if gi is None else gi
        if gi.shape == g.shape and torch.equal(gi, g):
            terms.append(float("nan"))
            continue
        if gi.shape[2] != g.shape[2]:
            gi = F.pixel_unshuffle(gi, gi.shape[2] // g.shape[2])
        bo, co, ho, wo = g.shape
        A = gi.double().permute(0, 2, 3, 1).reshape(-1, gi.shape[1])
        Bm = g.double().permute(0, 2, 3, 1).reshape(-1, co)
        s = torch.linalg.svdvals(A.T @ Bm / (bo * ho * wo)).max().item()
        terms.append(2 - s - 1 / (s + 1e-6))
    return float(np.mean(terms))


def vkdnw(net, x, ops):
    rec = Recorder()
    logp = F.log_softmax(rec.forward(net, x, ops), dim=1)
    ws = [t for nm, t in net.engine_tensors() if nm.endswith(".w")]
    B, K = logp.shape
    G = np.zeros((B, K, len(ws)))
    for b in range(B):
        for c in range(K):
            gs = torch.autograd.grad(logp[b, c], ws, retain_graph=True, allow_unused=True)
            G[b, c] = [0.0 if g is None else g.reshape(-1)[0].item() for g in gs]
    G = G[:, :, np.abs(G).reshape(B * K, -1).max(axis=0) > 0]
    if G.shape[2] == 0:
        return float("nan"), 0.0
    p = logp.exp().detach().numpy()
    Fm = np.einsum("bc,bci,bcj->ij", p, G, G) / B
    ev = np.clip(np.linalg.eigvalsh(Fm), 0, None)
    q = np.quantile(ev, np.arange(1, 10) / 10.0)
    if not q.sum() > 0:
        return float("nan"), float(G.shape[2])
    t = q[q > 0] / q.sum()
    h = float(-(t * np.log(t)).sum())
    return h, float(G.shape[2])


def close(a, b, rel):
    if a != a or b != b:
        return a != a and b != b
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def main():
    ckpt, archs, scored, data, seed, batch, need = sys.argv[1:8]
    seed, batch, need = int(seed), int(batch), int(need)
    torch.set_num_threads(1)
    ck = msgpack.unpackb(open(ckpt, "rb").read(), raw=False)
    cfg = ck["cfg"]
    net = SuperNet(cfg["C"], cfg["N"], cfg["in_ch"], cfg["classes"]).train()
    names = dict(net.engine_tensors())
    for nm, t in ck["tensors"].items():
        if not t.get("state"):
            v = np.frombuffer(t["data"], dtype="<f4").reshape(t["shape"])
            names[nm].data.copy_(torch.from_numpy(v.copy()))
    x8, _ = load_idx(data)
    mean = x8.mean(dtype=np.float64) / 255.0
    std = math.sqrt((x8.astype(np.float64) ** 2).mean() / 255.0 ** 2 - mean * mean)
    if ck.get("data", {}).get("mean"):  # score-sigeo normalizes with the checkpoint's statistics
        mean, std = float(ck["data"]["mean"][0]), float(ck["data"]["std"][0])
    net64 = SuperNet(cfg["C"], cfg["N"], cfg["in_ch"], cfg["classes"]).double().eval()
    names64 = dict(net64.engine_tensors(state=True))
    for nm, t in ck["tensors"].items():
        v = np.frombuffer(t["data"], dtype="<f4").reshape(t["shape"])
        names64[nm].data.copy_(torch.from_numpy(v.astype(np.float64)))
    idx = choose(seed, len(x8), need)[:batch]
    x = torch.from_numpy(((x8[idx].astype(np.float32) / np.float32(255.0)) - np.float32(mean))
                         * np.float32(1.0 / np.float32(std)))
    got = [r for r in msgpack.Unpacker(open(scored, "rb"), raw=False)]
    bad = 0
    for r, g in zip(msgpack.Unpacker(open(archs, "rb"), raw=False), got):
        rec = Recorder()
        rec.forward(net, x, parse_arch(r["arch"]))
        ex = [expressivity(t) for t in rec.blocks]
        vk, vk_dim = vkdnw(net64, x.double(), parse_arch(r["arch"]))
        want = {
            "swap": (swap(rec), 2e-3),
            "meco": (meco(rec), 1e-3),
            "aznas_expressivity": (sum(ex), 1e-4),  # NaN when a block is constant
            "aznas_progressivity": (float("nan") if any(e != e for e in ex) else
                                    min(b - a for a, b in zip(ex, ex[1:])), 1e-3),
            "aznas_trainability": (trainability(rec, Rng(1)), 1e-3),
            "vkdnw": (vk, 1e-3),
            "vkdnw_dim": (vk_dim, 0),
        }
        for k, (v, tol) in want.items():
            c = g["scores"].get(k)
            c = float("nan") if c is None else c
            ok = close(v, c, tol)
            bad += not ok
            print("%s %-20s ref %-14.6g C %-14.6g %s" % ("ok  " if ok else "FAIL", k, v, c, r["arch"]))
    if len(got) == 0:
        print("FAIL no scored records")
        bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
