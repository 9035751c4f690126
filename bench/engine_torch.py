#!/usr/bin/python3
"""engine_torch.py — PyTorch forward+backward throughput of the same NB201 network as
bench/bench_engine.c (the module definition is tests/torch_check.py's), float32, BN in
training mode, for the all-nor_conv_3x3 cell and the mixed cell.

usage: bench/engine_torch.py [-C 8] [-N 1] [-b 64] [-s 3] [-t THREADS]
"""
import argparse
import os
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("engine_torch: skipped: torch is not installed for %s" % sys.executable)
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from torch_check import NB201  # noqa: E402


def bench(name, ops, C, N, B, secs):
    torch.manual_seed(1)
    net = NB201(C, N, 1, 10, ops).train()
    x = torch.randn(B, 1, 28, 28)
    y = torch.randint(0, 10, (B,))

    def step():
        net.zero_grad(set_to_none=False)
        F.cross_entropy(net(x), y).backward()

    for _ in range(3):
        step()
    best, n_it, c0 = 1e30, 0, time.process_time()
    for _ in range(3):
        it, t0 = 0, time.perf_counter()
        while True:
            step()
            it += 1
            t = time.perf_counter() - t0
            if t >= secs / 3:
                break
        best = min(best, t / it)
        n_it += it
    cpu = (time.process_time() - c0) / n_it
    print("%-14s %9.1f img/s %8.2f ms/step (%.2f CPU ms/step)" % (
        name, B / best, best * 1e3, cpu * 1e3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-C", type=int, default=8)
    ap.add_argument("-N", type=int, default=1)
    ap.add_argument("-b", type=int, default=64)
    ap.add_argument("-s", type=float, default=3.0)
    ap.add_argument("-t", type=int, default=int(os.environ.get("OPENBLAS_NUM_THREADS", "1")))
    a = ap.parse_args()
    torch.set_num_threads(a.t)
    print("torch %s: C=%d N=%d batch=%d 1x28x28, threads=%d" % (
        torch.__version__, a.C, a.N, a.b, torch.get_num_threads()))
    bench("all-conv3", [3] * 6, a.C, a.N, a.b, a.s)
    bench("mixed", [3, 1, 2, 4, 0, 3], a.C, a.N, a.b, a.s)


if __name__ == "__main__":
    main()
