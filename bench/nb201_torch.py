"""NAS-Bench-201 in PyTorch, written from the benchmark's definition: the independent
reference the C engine (src/nb201_net.c) is compared against, shared by
bench/score_torch.py, bench/warmup_torch.py and tests/torch_check.py (which import it
through sys.path; the importer checks that torch is installed).

The network is NB201's TinyNetwork: conv3x3-BN stem, N cells per stage, ResNet reduction
blocks between the 3 stages, BN-ReLU-GAP-linear head. Net takes the cell as a factory, so
the same skeleton builds the one-shot supernet (SuperCell: every candidate op on every
edge, a path chosen per call) and a fixed cell (tests/torch_check.py). Tensors are named
as in src/nb201_net.c, in its order, so weights load by name from a checkpoint or a dump."""
import torch
import torch.nn as nn
import torch.nn.functional as F

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]  # (to node, from node)


class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(F.relu(x)))


class Reduction(nn.Module):
    """NB201 ResNetBasicblock with stride 2."""

    def __init__(self, cin, cout):
        super().__init__()
        self.a = ReLUConvBN(cin, cout, 3, 2)
        self.b = ReLUConvBN(cout, cout, 3, 1)
        self.sc = nn.Conv2d(cin, cout, 1, 1, 0, bias=False)

    def forward(self, x):
        return self.b(self.a(x)) + self.sc(F.avg_pool2d(x, 2, 2))


class SuperCell(nn.Module):
    """Every candidate op on every edge; forward(x, ops) runs the path ops (one OPS index
    per edge), so only that path's parameters get gradients."""

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

    def convs(self):
        """(edge index, "conv1"/"conv3", ReLUConvBN) for every conv op, edges in order."""
        for e in range(len(EDGES)):
            yield e, "conv1", self.conv1[e]
            yield e, "conv3", self.conv3[e]


class Net(nn.Module):
    """The NB201 skeleton around cells made by make_cell(C); forward(x, *args) passes args
    to every cell (the path, for a SuperCell)."""

    def __init__(self, C, N, in_ch, classes, make_cell):
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
                self.body.append(make_cell(C << s))
                self.names.append("s%d.c%d" % (s, i))
        self.head_bn = nn.BatchNorm2d(C << 2)
        self.fc = nn.Linear(C << 2, classes)

    def forward(self, x, *args):
        h = self.stem_bn(self.stem_conv(x))
        for m in self.body:
            h = m(h) if isinstance(m, Reduction) else m(h, *args)
        return self.fc(F.relu(self.head_bn(h)).mean(dim=(2, 3)))

    def engine_tensors(self, state=False):
        """[(engine name, tensor)] in src/nb201_net.c's names and order: every trainable
        parameter and, with state, every BN running mean and variance too."""
        def bn(pre, m):
            out = [(pre + ".gamma", m.weight), (pre + ".beta", m.bias)]
            return out + ([(pre + ".mean", m.running_mean), (pre + ".var", m.running_var)]
                          if state else [])

        def rcb(pre, m):
            return [(pre + ".conv.w", m.conv.weight)] + bn(pre + ".bn", m.bn)

        out = [("stem.conv.w", self.stem_conv.weight)] + bn("stem.bn", self.stem_bn)
        for nm, m in zip(self.names, self.body):
            if isinstance(m, Reduction):
                out += rcb(nm + ".a", m.a) + rcb(nm + ".b", m.b)
                out.append((nm + ".sc.conv.w", m.sc.weight))
            else:
                for e, kind, r in m.convs():
                    out += rcb("%s.e%d.%s" % (nm, e, kind), r)
        out += bn("head.bn", self.head_bn)
        return out + [("head.fc.w", self.fc.weight), ("head.fc.b", self.fc.bias)]


class SuperNet(Net):
    """The one-shot supernet: forward(x, ops) runs the path ops in every cell."""

    def __init__(self, C, N, in_ch, classes):
        super().__init__(C, N, in_ch, classes, SuperCell)
