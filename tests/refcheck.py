"""refcheck.py — what tests/torch_check.py and tests/darts_check.py share: reading the
reference files that tests/refdump.h writes, the relative difference, the per-tensor rows
of one step against PyTorch's, the report, and the loop that runs a dumper per case.
Needs numpy only; the callers bring torch."""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np


class Reader:
    """Little-endian fields of a reference file, in order."""

    def __init__(self, path, magic):
        self.b = open(path, "rb").read()
        assert self.b[:4] == magic, "bad magic"
        self.pos = 4
        assert self.take("I")[0] == 1, "version"

    def take(self, fmt, n=1):
        v = struct.unpack_from("<%d%s" % (n, fmt), self.b, self.pos)
        self.pos += struct.calcsize("<%d%s" % (n, fmt))
        return v

    def floats(self, n):
        a = np.frombuffer(self.b, dtype="<f4", count=n, offset=self.pos).astype(np.float64)
        self.pos += 4 * n
        return a

    def name(self):
        (n,) = self.take("i")
        s = self.b[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def step(self, d):
        """The step's part (refdump.h rd_step) into d, which holds B, in_ch, H, W, classes:
        x, labels, loss, logits, dx and params (name -> (weights, gradient))."""
        B, shape = d["B"], (d["B"], d["in_ch"], d["H"], d["W"])
        nx = int(np.prod(shape))
        d["x"] = self.floats(nx).reshape(shape)
        d["labels"] = np.array(self.take("i", B))
        d["loss"] = self.floats(1)[0]
        d["logits"] = self.floats(B * d["classes"]).reshape(B, d["classes"])
        d["dx"] = self.floats(nx).reshape(shape)
        (nv,) = self.take("i")
        d["params"] = {}
        for _ in range(nv):
            nm = self.name()
            (nd,) = self.take("i")
            pshape = self.take("i", 4)[:nd]
            n = int(np.prod(pshape))
            d["params"][nm] = (self.floats(n).reshape(pshape), self.floats(n).reshape(pshape))
        return d

    def end(self):
        assert self.pos == len(self.b), "trailing bytes"


def rel(c, t, floor=0.0):
    """max|c - t| / max(max|t|, floor)."""
    c, t = np.asarray(c, np.float64), np.asarray(t, np.float64)
    den = max(np.abs(t).max() if t.size else 0.0, floor)
    diff = np.abs(c - t).max() if t.size else 0.0
    return diff / den if den > 0 else diff


def step_rows(d, tensors, logits, loss, x):
    """(rows, gscale): (name, relative difference) of the loss, logits, input gradient and
    every parameter gradient of the engine's step d against PyTorch's. Some exact gradients
    are zero (in train mode the beta of a BN that feeds another BN through sums only is
    removed by that BN's mean subtraction) and float rounding leaves ~1e-9 there, so
    gradients are measured against at least 1e-3 of the network's largest, gscale."""
    rows = [("loss", rel(d["loss"], loss.item())),
            ("logits", rel(d["logits"], logits.detach().numpy())),
            ("input grad", rel(d["dx"], x.grad.numpy()))]
    gscale = max(np.abs(tensors[nm].grad.numpy()).max() for nm in d["params"])
    for nm, (_, g) in d["params"].items():
        rows.append((nm + " grad", rel(g, tensors[nm].grad.numpy().reshape(g.shape),
                                       1e-3 * gscale)))
    return rows, gscale


def report(rows, limit, label, loss_c, loss_t, width=40):
    """Prints the rows over their limit (all with VERBOSE set) and one ok / NOT OK line;
    True when every row is under its limit."""
    ok = all(r < limit[nm] for nm, r in rows)
    for nm, r in rows:
        if r >= limit[nm] or os.environ.get("VERBOSE"):
            print("  %-*s max rel diff %.3g (limit %.3g)" % (width, nm, r, limit[nm]))
    print("%s %s: %d tensors, max relative difference %.3g (loss %.6f vs %.6f)" % (
        "ok" if ok else "NOT OK", label, len(rows), max(r for _, r in rows), loss_c, loss_t))
    return ok


def run_cases(prog, dump, cases, check, version, tol):
    """Runs dump FILE ARGS... for each (label, args, extra) of cases and check(FILE, label,
    *extra) on what it wrote; prints the summary. The exit status: 0 all ok, 1 a difference,
    2 the dumper missing."""
    if not os.access(dump, os.X_OK):
        print("%s: error: %s not built (make build/tests/%s)" % (prog, dump, os.path.basename(dump)),
              file=sys.stderr)
        return 2
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for label, args, extra in cases:
            path = os.path.join(tmp, "ref.bin")
            subprocess.run([dump, path] + args, check=True)
            ok &= check(path, label, *extra)
    print("%s: %s (torch %s, tolerance %g)" % (prog, "all ok" if ok else "FAILED", version, tol))
    return 0 if ok else 1
