#!/usr/bin/python3
"""Single-path one-shot warm-up of the NAS-Bench-201 supernet in PyTorch: the reference
warmup-supernet is compared against (bench/warmup.sh).

Same network as src/nb201_net.c (NB201's TinyNetwork: conv3x3-BN stem, N cells per stage,
ResNet reduction blocks, BN-ReLU-GAP-linear head), same data preparation (a seeded share
of the training split, normalized with the full split's per-channel statistics), same
optimizer (SGD with momentum, weight decay on conv/linear weights only, constant lr),
same batch. Each step samples one op per edge uniformly and runs only that path, so only
its parameters get gradients (grads are set to None, so the rest are not touched).

Prints one line: steps, images, seconds and images/s of the training loop."""
import argparse
import gzip
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nb201_torch import EDGES, SuperNet  # noqa: E402


def load_idx(d):
    def rd(name):
        for n in (name, name + ".gz"):
            p = os.path.join(d, n)
            if os.path.exists(p):
                return (gzip.open if n.endswith(".gz") else open)(p, "rb").read()
        sys.exit("warmup_torch.py: no %s in %s" % (name, d))

    im, lb = rd("train-images-idx3-ubyte"), rd("train-labels-idx1-ubyte")
    n, h, w = struct.unpack(">III", im[4:16])
    x = np.frombuffer(im, np.uint8, n * h * w, 16).reshape(n, 1, h, w).astype(np.float32) / 255
    y = np.frombuffer(lb, np.uint8, n, 8).astype(np.int64)
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--cells", type=int, default=1)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rnd = random.Random(a.seed)

    x, y = load_idx(a.data)
    mean, std = x.mean(), x.std()
    idx = np.random.RandomState(a.seed).permutation(len(x))[: int(round(a.fraction * len(x)))]
    x = torch.from_numpy((x[idx] - mean) / std)
    y = torch.from_numpy(y[idx])

    net = SuperNet(a.channels, a.cells, x.shape[1], a.classes)
    decay = [p for n, p in net.named_parameters() if p.dim() > 1]
    rest = [p for n, p in net.named_parameters() if p.dim() <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.weight_decay},
                           {"params": rest, "weight_decay": 0}], lr=a.lr, momentum=a.momentum)
    net.train()
    steps_per_epoch = len(x) // a.batch
    t0, steps, loss_sum = time.perf_counter(), 0, 0.0
    for _ in range(a.epochs):
        perm = torch.randperm(len(x))
        for s in range(steps_per_epoch):
            b = perm[s * a.batch:(s + 1) * a.batch]
            path = [rnd.randrange(5) for _ in EDGES]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x[b], path), y[b])
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            steps += 1
    dt = time.perf_counter() - t0
    print("torch: %d steps, batch %d, threads %d, %.2f s, %.0f img/s, mean loss %.4f" %
          (steps, a.batch, a.threads, dt, steps * a.batch / dt, loss_sum / max(steps, 1)))


if __name__ == "__main__":
    main()
