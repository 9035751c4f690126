#!/usr/bin/env python3
"""Forward+backward throughput of a DARTS network: the engine (build/bench/bench_darts)
against PyTorch (bench/darts_torch.py) on the same genotype, size, batch and threads,
alternating the two ROUNDS times in one run; reports images/s per round and the ratio of
the medians by CPU time and by wall time (on a shared machine wall time mostly measures
the neighbours).

usage: bench/darts.py [--genotype G] [-C 8] [-N 5] [--input 1x28x28] [-b 64] [-t 1]
                      [--steps 5] [--rounds 5]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from darts_torch import DartsNet  # noqa: E402

V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
      "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
      "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
      "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
      "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--genotype", default=V2)
    ap.add_argument("-C", type=int, default=8)
    ap.add_argument("-N", type=int, default=5)
    ap.add_argument("--input", default="1x28x28")
    ap.add_argument("-b", type=int, default=64)
    ap.add_argument("-t", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    in_ch, hw, _ = (int(v) for v in a.input.split("x"))
    exe = os.path.join(here, "..", "build", "bench", "bench_darts")
    torch.set_num_threads(a.t)
    net = DartsNet(a.genotype, a.C, a.N, in_ch, 10)
    x = torch.randn(a.b, in_ch, hw, hw)
    y = torch.randint(0, 10, (a.b,))

    def torch_steps(n):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            net.zero_grad(set_to_none=False)
            F.cross_entropy(net(x), y).backward()
        return (1e3 * (time.perf_counter() - t0) / n, 1e3 * (time.process_time() - c0) / n)

    torch_steps(2)  # warm-up
    env = dict(os.environ, OMP_NUM_THREADS=str(a.t), OPENBLAS_NUM_THREADS="1")
    cw, cc, tw, tc = [], [], [], []
    print("DARTS network C=%d N=%d %s batch %d, %d thread(s), %d steps per round; torch %s"
          % (a.C, a.N, a.input, a.b, a.t, a.steps, torch.__version__))
    for r in range(a.rounds):
        out = subprocess.run([exe, a.genotype, str(a.C), str(a.N), str(in_ch), str(hw),
                              str(a.b), str(a.t), str(a.steps)], check=True,
                             capture_output=True, text=True, env=env).stdout.split()
        cw.append(float(out[1]))
        cc.append(float(out[2]))
        w, c = torch_steps(a.steps)
        tw.append(w)
        tc.append(c)
        print("round %d: engine %7.1f img/s (%.1f CPU ms/step)   torch %7.1f img/s (%.1f CPU ms/step)"
              % (r + 1, a.b / cw[-1] * 1e3, cc[-1], a.b / tw[-1] * 1e3, tc[-1]))
    mc, mt = statistics.median(cc), statistics.median(tc)
    print("median CPU ms/step: engine %.1f, torch %.1f -> engine/torch speed %.2fx by CPU time, "
          "%.2fx by wall time" % (mc, mt, mt / mc, statistics.median(tw) / statistics.median(cw)))


if __name__ == "__main__":
    main()
