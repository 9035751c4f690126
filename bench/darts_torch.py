"""The DARTS network of src/spaces/darts_net.c in PyTorch (DARTS' NetworkCIFAR without the
auxiliary head and drop path), with parameters under the engine's names so weights can be
copied across by name. Used by tests/darts_check.py (cross-check) and bench/darts.py (speed).

Each op is PyTorch's own: grouped conv2d for the depthwise convolutions, max_pool2d,
avg_pool2d(count_include_pad=False), batch_norm with batch statistics."""
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

OPS = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
       "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"]


def parse_genotype(s):
    """(normal pairs, reduce pairs) of a genotype string, each a list of (op, input)."""
    cells = []
    for key in ("normal", "reduce"):
        m = re.search(r"\b%s=\[(.*?)\]" % key, s)
        pairs = re.findall(r"\(\s*['\"](\w+)['\"]\s*,\s*(\d+)\s*\)", m.group(1))
        cells.append([(op, int(i)) for op, i in pairs])
    return cells


class DartsNet(nn.Module):
    def __init__(self, genotype, C, N, in_ch, classes):
        super().__init__()
        self.normal, self.reduce = parse_genotype(genotype)
        self.N = N
        self.p = nn.ParameterDict()
        self.shapes = {}
        self.conv("stem.conv", 3 * C, in_ch, 3)
        self.bn("stem.bn", 3 * C)
        Cpp = Cp = 3 * C
        Cc, red_prev = C, False
        self.plan = []
        for i in range(N):
            red = i in (N // 3, 2 * N // 3)
            if red:
                Cc *= 2
            if red_prev:
                self.conv("c%d.pre0.fr.w1" % i, Cc // 2, Cpp, 1, raw=True)
                self.conv("c%d.pre0.fr.w2" % i, Cc // 2, Cpp, 1, raw=True)
            else:
                self.conv("c%d.pre0.conv" % i, Cc, Cpp, 1)
            self.bn("c%d.pre0.bn" % i, Cc)
            self.conv("c%d.pre1.conv" % i, Cc, Cp, 1)
            self.bn("c%d.pre1.bn" % i, Cc)
            for k, (op, src) in enumerate(self.reduce if red else self.normal):
                n = k // 2
                pre = "c%d.e%d.%s" % (i, n * (n + 3) // 2 + src, op)
                stride = 2 if red and src < 2 else 1
                if op == "skip_connect" and stride == 2:
                    self.conv(pre + ".fr.w1", Cc // 2, Cc, 1, raw=True)
                    self.conv(pre + ".fr.w2", Cc // 2, Cc, 1, raw=True)
                    self.bn(pre + ".bn", Cc)
                elif op.startswith("sep_conv"):
                    kk = int(op[-1])
                    for s in "12":
                        self.conv(pre + ".dw" + s, Cc, 1, kk)
                        self.conv(pre + ".pw" + s, Cc, Cc, 1)
                        self.bn(pre + ".bn" + s, Cc)
                elif op.startswith("dil_conv"):
                    kk = int(op[-1])
                    self.conv(pre + ".dw", Cc, 1, kk)
                    self.conv(pre + ".pw", Cc, Cc, 1)
                    self.bn(pre + ".bn", Cc)
            self.plan.append((Cc, red, red_prev))
            Cpp, Cp, red_prev = Cp, 4 * Cc, red
        self.add("head.fc.w", (classes, Cp))
        self.add("head.fc.b", (classes,), zero=True)

    # parameters: engine name -> tensor, stored under a key without dots
    def add(self, name, shape, zero=False, one=False):
        t = torch.zeros(shape) if zero else torch.ones(shape) if one else torch.randn(shape) * 0.1
        self.p[name.replace(".", "__")] = nn.Parameter(t)
        self.shapes[name] = shape

    def conv(self, name, oc, c, k, raw=False):
        self.add(name if raw else name + ".w", (oc, c, k, k))

    def bn(self, name, C):
        self.add(name + ".gamma", (C,), one=True)
        self.add(name + ".beta", (C,), zero=True)

    def named_tensors(self):
        for k, v in self.p.items():
            yield k.replace("__", "."), v

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def bnf(self, x, name):
        return F.batch_norm(x, None, None, self.w(name + ".gamma"), self.w(name + ".beta"),
                            training=True, momentum=0.1, eps=1e-5)

    def facred(self, x, name):
        x = F.relu(x)
        a = F.conv2d(x, self.w(name + ".w1"), stride=2)
        b = F.conv2d(x[:, :, 1:, 1:], self.w(name + ".w2"), stride=2)
        return torch.cat([a, b], dim=1)

    def dw_pw_bn(self, x, pre, s, k, stride, dil):
        C = x.shape[1]
        x = F.conv2d(F.relu(x), self.w(pre + ".dw" + s + ".w"), stride=stride,
                     padding=dil * (k // 2), dilation=dil, groups=C)
        x = F.conv2d(x, self.w(pre + ".pw" + s + ".w"))
        return self.bnf(x, pre + ".bn" + s)

    def edge(self, x, pre, op, stride):
        if op == "none":
            return None
        if op == "max_pool_3x3":
            return F.max_pool2d(x, 3, stride, 1)
        if op == "avg_pool_3x3":
            return F.avg_pool2d(x, 3, stride, 1, count_include_pad=False)
        if op == "skip_connect":
            return x if stride == 1 else self.bnf(self.facred(x, pre + ".fr"), pre + ".bn")
        k = int(op[-1])
        if op.startswith("sep_conv"):
            x = self.dw_pw_bn(x, pre, "1", k, stride, 1)
            return self.dw_pw_bn(x, pre, "2", k, 1, 1)
        return self.dw_pw_bn(x, pre, "", k, stride, 2)

    def forward(self, x):
        s = self.bnf(F.conv2d(x, self.w("stem.conv.w"), padding=1), "stem.bn")
        s0 = s1 = s
        for i, (Cc, red, red_prev) in enumerate(self.plan):
            if red_prev:
                h0 = self.bnf(self.facred(s0, "c%d.pre0.fr" % i), "c%d.pre0.bn" % i)
            else:
                h0 = self.bnf(F.conv2d(F.relu(s0), self.w("c%d.pre0.conv.w" % i)),
                              "c%d.pre0.bn" % i)
            h1 = self.bnf(F.conv2d(F.relu(s1), self.w("c%d.pre1.conv.w" % i)), "c%d.pre1.bn" % i)
            st = [h0, h1]
            for n in range(4):
                outs = []
                for op, src in (self.reduce if red else self.normal)[2 * n:2 * n + 2]:
                    pre = "c%d.e%d.%s" % (i, n * (n + 3) // 2 + src, op)
                    h = self.edge(st[src], pre, op, 2 if red and src < 2 else 1)
                    if h is not None:
                        outs.append(h)
                if not outs:
                    B, _, H, W = h1.shape
                    outs = [h1.new_zeros(B, Cc, H // 2 if red else H, W // 2 if red else W)]
                st.append(outs[0] if len(outs) == 1 else outs[0] + outs[1])
            s0, s1 = s1, torch.cat(st[2:], dim=1)
        h = s1.mean(dim=(2, 3))
        return F.linear(h, self.w("head.fc.w"), self.w("head.fc.b"))
