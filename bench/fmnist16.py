#!/usr/bin/env python3
"""Fashion-MNIST at 16x16 as a NumPy archive for the darts ground truth
(bench/groundtruth_darts.sh): each 28x28 image padded by 2 zero pixels to 32x32, then
2x2 mean pooled and rounded to uint8, so the whole garment stays in the picture at a
third of the pixels. Arrays x, y, x_test, y_test (docs/data.md).

usage: bench/fmnist16.py [IDX_DIR] OUT.npz
"""
import gzip
import os
import sys

import numpy as np


def idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


def small(x):
    p = np.pad(x.astype(np.float64), ((0, 0), (2, 2), (2, 2)))
    m = p.reshape(len(x), 16, 2, 16, 2).mean(axis=(2, 4))
    return np.floor(m + 0.5).astype(np.uint8)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[-1])
    src = sys.argv[1] if len(sys.argv) == 3 else "/usr/share/datasets/fashion-mnist"
    out = sys.argv[-1]
    r = lambda n: idx(os.path.join(src, n))  # noqa: E731
    tmp = out + ".tmp.npz"
    np.savez(tmp, x=small(r("train-images-idx3-ubyte.gz")), y=r("train-labels-idx1-ubyte.gz"),
             x_test=small(r("t10k-images-idx3-ubyte.gz")), y_test=r("t10k-labels-idx1-ubyte.gz"))
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
