#!/usr/bin/python3
"""torch_check.py — cross-check of the C engine against an independent PyTorch build of the
same NAS-Bench-201 network.

For each (cell, BN mode) case, runs build/tests/torch_dump, which writes the network
configuration, weights, batch and the engine's loss, logits, input gradient, every parameter
gradient and the BN running statistics after one step. This script builds the network in
PyTorch (float64) from the NB201 definition, loads the same weights by name, runs the same
step and reports the max relative difference per tensor: max|c - t| / max|t|.
Exit 0 when every tensor is within 1e-4, 1 otherwise; 0 with a message when torch is missing.

usage: tests/torch_check.py [path/to/torch_dump]
"""
import os
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("torch_check: skipped: torch is not installed for %s" % sys.executable)
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from nb201_torch import Net, ReLUConvBN  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refcheck import Reader, rel, report, run_cases, step_rows  # noqa: E402,F401  (rel: for importers)

TOL = 1e-4
BN_TRAIN, BN_BATCH, BN_EVAL, BN_OFF = range(4)


def read_dump(path):
    r = Reader(path, b"SGTD")
    C, N, in_ch, H, W, classes, B, mode = r.take("i", 8)
    ops = list(r.take("i", 6))
    d = r.step(dict(C=C, N=N, in_ch=in_ch, H=H, W=W, classes=classes, B=B, mode=mode, ops=ops))
    (ns,) = r.take("i")
    d["state"] = {}
    for _ in range(ns):
        nm = r.name()
        (n,) = r.take("i")
        d["state"][nm] = (r.floats(n), r.floats(n))
    r.end()
    return d


# ---- NAS-Bench-201 with one fixed cell, on bench/nb201_torch.py's skeleton ------------

class Cell(nn.Module):
    def __init__(self, C, ops):
        super().__init__()
        self.ops = ops
        self.edges = nn.ModuleDict()
        for e, op in enumerate(ops):
            if op == 2:
                self.edges["e%d" % e] = ReLUConvBN(C, C, 1, 1)
            elif op == 3:
                self.edges["e%d" % e] = ReLUConvBN(C, C, 3, 1)

    def edge(self, e, x):
        op = self.ops[e]
        if op == 0:
            return x.mul(0.0)
        if op == 1:
            return x
        if op == 4:
            return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return self.edges["e%d" % e](x)

    def forward(self, x):
        nodes = [x]
        e = 0
        for j in range(1, 4):
            s = 0
            for i in range(j):
                s = s + self.edge(e, nodes[i])
                e += 1
            nodes.append(s)
        return nodes[3]

    def convs(self):
        """(edge index, "conv1"/"conv3", ReLUConvBN) for the cell's conv edges, in order."""
        for key, r in self.edges.items():
            e = int(key[1:])
            yield e, "conv1" if self.ops[e] == 2 else "conv3", r


class NB201(Net):
    """The network of one cell, every stage's cells using ops; forward(x)."""

    def __init__(self, C, N, in_ch, classes, ops):
        super().__init__(C, N, in_ch, classes, lambda c: Cell(c, ops))

    def named_tensors(self):
        """(engine name, parameter or buffer) for every tensor of the network."""
        return self.engine_tensors(state=True)


def torch_step(d, dtype):
    """One forward/backward in PyTorch with the dump's weights, batch and BN mode:
    (net name -> tensor dict, logits, loss, input tensor), or None for BN off."""
    torch.manual_seed(0)
    net = NB201(d["C"], d["N"], d["in_ch"], d["classes"], d["ops"]).to(dtype)
    tensors = dict(net.named_tensors())
    names_c = set(d["params"]) | set(d["state"])
    if set(tensors) != names_c:
        raise SystemExit("NOT OK: tensor names differ: torch-only %s, engine-only %s" % (
            sorted(set(tensors) - names_c)[:5], sorted(names_c - set(tensors))[:5]))
    with torch.no_grad():
        for nm, (w, _) in d["params"].items():
            tensors[nm].copy_(torch.from_numpy(w))
        for nm, (before, _) in d["state"].items():
            tensors[nm].copy_(torch.from_numpy(before))
    mode = d["mode"]
    if mode in (BN_TRAIN, BN_BATCH):
        net.train()
    elif mode == BN_EVAL:
        net.eval()
    else:
        return None
    x = torch.from_numpy(d["x"]).to(dtype).requires_grad_(True)
    logits = net(x)
    loss = F.cross_entropy(logits, torch.from_numpy(d["labels"]).long())
    loss.backward()
    return tensors, logits, loss, x


def check(d, label, vs_float32=False):
    """Engine (float32) against PyTorch float64: every tensor within TOL. With vs_float32
    (deep networks on tiny batches), loss and logits must be within TOL and every gradient
    within twice PyTorch float32's own worst difference from float64 on the same step:
    there, rounding is amplified through the layers, and a ReLU input within float
    rounding of zero (|x|/std ~ 1e-7 happens among millions of activations) takes the
    other branch in float32, which moves every gradient upstream by up to a few percent,
    in PyTorch float32 as in the engine."""
    r = torch_step(d, torch.float64)
    if r is None:
        print("skip %s: BN mode %d has no PyTorch counterpart here" % (label, d["mode"]))
        return True
    tensors, logits, loss, x = r
    mode = d["mode"]

    rows, gscale = step_rows(d, tensors, logits, loss, x)
    for nm, (before, after) in d["state"].items():
        want = tensors[nm].detach().numpy() if mode == BN_TRAIN else before
        rows.append((nm + " (running)", rel(after, want)))
    limit = {nm: TOL for nm, _ in rows}
    if vs_float32:
        t32, l32, loss32, x32 = torch_step(d, torch.float32)
        ref = {"loss": rel(loss32.item(), loss.item()),
               "logits": rel(l32.detach().double().numpy(), logits.detach().numpy()),
               "input grad": rel(x32.grad.double().numpy(), x.grad.numpy())}
        for nm in d["params"]:
            ref[nm + " grad"] = rel(t32[nm].grad.double().numpy(), tensors[nm].grad.numpy(),
                                    1e-3 * gscale)
        w32 = max(ref.values())
        for nm, _ in rows:
            if nm not in ("loss", "logits"):
                limit[nm] = max(TOL, 2 * w32)
        print("  PyTorch float32 vs float64 on the same step: max relative difference %.3g"
              % w32)
    return report(rows, limit, label, d["loss"], loss.item())


def main():
    dump = sys.argv[1] if len(sys.argv) > 1 else "build/tests/torch_dump"
    # cells: all-conv3, a mixed cell using every op, a cell with empty nodes
    def index(ops):
        return sum(op * 5 ** j for j, op in enumerate(ops))
    cells = [("all nor_conv_3x3", [3] * 6), ("mixed", [3, 1, 2, 4, 0, 3]),
             ("sparse", [2, 0, 0, 0, 4, 1])]
    cases = []
    for nm, ops in cells:
        for mode, mn in ((BN_TRAIN, "train"), (BN_EVAL, "eval")):
            cases.append(("%s, bn %s, C=4 N=1 8x8 B=4" % (nm, mn), index(ops), mode, [], False))
    cases.append(("mixed, bn train, C=8 N=2 16x16 B=6", index([3, 1, 2, 4, 0, 3]), BN_TRAIN,
                  ["8", "2", "16", "6"], False))
    # the engine's threads: batch split in two, conv weight gradients summed per part
    for nm, ops in cells[:2]:
        cases.append(("%s, bn train, C=8 N=1 28x28 B=8, 2 threads" % nm, index(ops), BN_TRAIN,
                      ["8", "1", "28", "8", "2"], False))
    # the original NB201 size; 15 cells on a batch of 4 amplify float32 rounding
    cases.append(("all nor_conv_3x3, bn train, C=16 N=5 3x32x32 B=4", index([3] * 6), BN_TRAIN,
                  ["16", "5", "32", "4"], True))
    cases = [(label, [str(idx), str(mode)] + extra, (vs32,))
             for label, idx, mode, extra, vs32 in cases]
    return run_cases("torch_check", dump, cases, lambda path, label, vs32:
                     check(read_dump(path), label, vs32), torch.__version__, TOL)


if __name__ == "__main__":
    sys.exit(main())
