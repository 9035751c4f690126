#!/usr/bin/env python3
"""Cross-check of a whole DARTS network against PyTorch (bench/darts_torch.py).

build/tests/darts_dump writes a genotype, a configuration, the weights, a batch, and the
engine's loss, logits, input gradient and every parameter gradient after one
forward/backward pass (BN with batch statistics). This script runs the same step in
PyTorch float64 with the same weights and batch and reports the max relative difference
per tensor, max|c - t| / max|t|; it exits non-zero on any difference above the tolerance.
Skips (exit 0) when torch is not installed.

usage: tests/darts_check.py [path/to/darts_dump]
"""
import os
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("darts_check: skip: torch is not installed")
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from darts_torch import DartsNet  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refcheck import Reader, rel, report, run_cases, step_rows  # noqa: E402

TOL = 1e-4
FLIP_EPS, FLIP_TOL = 1e-5, 0.1

GENOTYPES = {
    "DARTS_V2": "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])",
    # every op in both cells, stride-2 skip (factorized reduce) and pools in the reduction
    "every op": "Genotype(normal=[('sep_conv_5x5', 0), ('dil_conv_5x5', 1), ('avg_pool_3x3', 2), ('max_pool_3x3', 0), ('skip_connect', 3), ('dil_conv_3x3', 1), ('sep_conv_3x3', 4), ('none', 2)], normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), ('avg_pool_3x3', 1), ('dil_conv_5x5', 2), ('sep_conv_5x5', 1), ('max_pool_3x3', 3), ('dil_conv_3x3', 0), ('sep_conv_3x3', 4), ('skip_connect', 1)], reduce_concat=[2, 3, 4, 5])",
    # a node with two none ops (an all-zero node) read by later pools and convs
    "zero node": "Genotype(normal=[('none', 0), ('none', 1), ('max_pool_3x3', 2), ('sep_conv_3x3', 0), ('skip_connect', 2), ('dil_conv_3x3', 3), ('avg_pool_3x3', 2), ('sep_conv_5x5', 4)], normal_concat=[2, 3, 4, 5], reduce=[('none', 0), ('none', 1), ('avg_pool_3x3', 2), ('skip_connect', 0), ('sep_conv_3x3', 2), ('max_pool_3x3', 1), ('dil_conv_5x5', 2), ('skip_connect', 3)], reduce_concat=[2, 3, 4, 5])",
}


def read_dump(path):
    r = Reader(path, b"SGDD")
    C, N, in_ch, H, W, classes, B = r.take("i", 7)
    d = r.step(dict(C=C, N=N, in_ch=in_ch, H=H, W=W, classes=classes, B=B, geno=r.name()))
    r.end()
    return d


def torch_step(d, dtype):
    """One forward/backward in PyTorch with the dump's weights and batch: (name -> tensor,
    logits, loss, input)."""
    net = DartsNet(d["geno"], d["C"], d["N"], d["in_ch"], d["classes"]).to(dtype)
    tensors = dict(net.named_tensors())
    if set(tensors) != set(d["params"]):
        raise SystemExit("NOT OK: tensor names differ: torch-only %s, engine-only %s" % (
            sorted(set(tensors) - set(d["params"]))[:5],
            sorted(set(d["params"]) - set(tensors))[:5]))
    with torch.no_grad():
        for nm, (w, _) in d["params"].items():
            tensors[nm].copy_(torch.from_numpy(w).reshape(tensors[nm].shape))
    x = torch.from_numpy(d["x"]).to(dtype).requires_grad_(True)
    logits = net(x)
    loss = F.cross_entropy(logits, torch.from_numpy(d["labels"]).long())
    loss.backward()
    # a cell input no op reads leaves whole cells off the path to the loss: PyTorch gives
    # them no gradient, the engine zeros
    for t in tensors.values():
        if t.grad is None:
            t.grad = torch.zeros_like(t)
    return tensors, logits, loss, x


def check(d, label, vs_float32=False):
    """Engine (float32) against PyTorch float64, every tensor within TOL. With vs_float32
    (deep networks on small batches), loss and logits within TOL and every gradient within
    twice PyTorch float32's own worst difference from float64 on the same step, or within
    FLIP_TOL when a ReLU input lies within FLIP_EPS of zero: float32 rounding of the
    activations (~1e-6 relative after 8 cells) then decides that unit's branch, which moves
    every gradient upstream of it by the gradient of one unit out of 128 per channel (the
    count is printed; PyTorch float32 may round to the other side than the engine)."""
    tensors, logits, loss, x = torch_step(d, torch.float64)
    # a BN beta feeding another BN through sums has an exact gradient of 0 in train mode:
    # step_rows measures every gradient against at least 1e-3 of the network's largest
    rows, gscale = step_rows(d, tensors, logits, loss, x)
    limit = {nm: TOL for nm, _ in rows}
    if vs_float32:
        near = [0]
        relu = F.relu

        def counting(x, *a, **k):
            near[0] += int((x.detach().abs() < FLIP_EPS).sum())
            return relu(x, *a, **k)
        F.relu = counting
        torch_step(d, torch.float64)
        F.relu = relu
        t32, l32, loss32, x32 = torch_step(d, torch.float32)
        w32 = max([rel(x32.grad.double().numpy(), x.grad.numpy())] +
                  [rel(t32[nm].grad.double().numpy(), tensors[nm].grad.numpy(), 1e-3 * gscale)
                   for nm in d["params"]])
        for nm, _ in rows:
            if nm not in ("loss", "logits"):
                limit[nm] = max(TOL, 2 * w32, FLIP_TOL if near[0] else 0)
        print("  PyTorch float32 vs float64 on the same step: max relative difference %.3g;"
              " %d ReLU inputs within %g of zero" % (w32, near[0], FLIP_EPS))
    return report(rows, limit, label, d["loss"], loss.item(), 44)


def main():
    dump = sys.argv[1] if len(sys.argv) > 1 else "build/tests/darts_dump"
    cases = []
    for nm, g in GENOTYPES.items():
        cases.append(("%s, C=4 N=5 3x8x8 B=4" % nm, [g], (False,)))
    cases.append(("every op, C=8 N=3 3x16x16 B=6, 2 threads",
                  [GENOTYPES["every op"], "8", "3", "16", "6", "2"], (False,)))
    cases.append(("DARTS_V2, C=16 N=8 3x32x32 B=2 (the paper's search size)",
                  [GENOTYPES["DARTS_V2"], "16", "8", "32", "2"], (True,)))
    torch.set_num_threads(1)
    return run_cases("darts_check", dump, cases, lambda path, label, vs32:
                     check(read_dump(path), label, vs32), torch.__version__, TOL)


if __name__ == "__main__":
    sys.exit(main())
