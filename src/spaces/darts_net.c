/* darts_net.c — the DARTS network over the engine (DARTS' NetworkCIFAR, model.py, without
 * the auxiliary head and drop path; see docs/darts.md).
 *
 *   stem: conv3x3(in_ch -> 3C, pad 1) - BN
 *   N cells; cells N/3 and 2N/3 are reduction cells (stride 2, channels doubled); cell i
 *   reads s0, s1 = the outputs of cells i-2, i-1 (the stem for both at the start):
 *     pre0 = FactorizedReduce(s0) if cell i-1 reduced, else ReLU-conv1x1-BN; pre1 =
 *     ReLU-conv1x1-BN(s1), both to the cell's C channels; node 2+n (n = 0..3) = op(state a)
 *     + op(state b) for the genotype's two pairs of node n (stride 2 on states 0 and 1 of a
 *     reduction cell); output = concat of nodes 2..5 (4C channels).
 *   head: global average pool - linear(classes, bias).
 * Ops (DARTS operations.py, affine BN throughout as in the trained networks):
 *   none: no contribution; max_pool_3x3 / avg_pool_3x3: 3x3, padding 1 (the average does
 *   not count padding), no BN; skip_connect: identity, or at stride 2 ReLU-factorized
 *   reduce-BN; sep_conv_kxk: (ReLU - depthwise kxk - conv1x1 - BN) twice, the first with
 *   the stride; dil_conv_kxk: ReLU - depthwise kxk dilation 2 (padding k-1) - conv1x1 - BN.
 * A node's ReLU is computed once and shared by its edges that start with one. A pool or
 * skip edge out of an all-zero node (both of its ops none) adds zeros and is left out.
 *
 * Parameter names (a subnet over the supernet's params_t picks its ops' weights by name):
 *   stem.conv.w, stem.bn.*; c<I>.pre0.{conv.w | fr.w1, fr.w2}, c<I>.pre0.bn.*,
 *   c<I>.pre1.conv.w, c<I>.pre1.bn.*; c<I>.e<E>.<op>.{dw1,pw1,bn1,dw2,pw2,bn2 | dw,pw,bn |
 *   fr,bn}.* with E = n(n+3)/2 + input the edge of node n; head.fc.w, head.fc.b. */
#include <stdio.h>

#include "engine/layers_darts.h"
#include "spaces/darts.h"

static int cfg_ok(const space_cfg_t *c) {
    return c->C >= 2 && c->C % 2 == 0 && c->N >= 1 && c->in_ch >= 1 && c->H >= 4 &&
           c->W >= 4 && c->H % 4 == 0 && c->W % 4 == 0 && c->classes >= 1;
}

static int edge_of(int n, int in) { return n * (n + 3) / 2 + in; }

static int name(char *buf, size_t n, const char *pre, const char *sfx) {
    return snprintf(buf, n, "%s.%s", pre, sfx) >= (int)n ? -1 : 0;
}

/* x is already ReLU'd. conv1x1 (or factorized reduce) to oc, then BN, as "<pre>.*". */
static int conv1_bn(net_t *net, int x, const char *pre, int oc, int reduce) {
    char nm[128];
    int h;
    if (name(nm, sizeof nm, pre, reduce ? "fr" : "conv")) return -1;
    h = reduce ? net_facred(net, x, nm, oc) : net_conv(net, x, nm, oc, 1, 1, 0);
    if (h < 0 || name(nm, sizeof nm, pre, "bn")) return -1;
    return net_bn(net, h, nm, 1);
}

/* depthwise k (stride, dilation) - conv1x1 - BN, named "<pre>.dw<s>", ".pw<s>", ".bn<s>". */
static int dw_pw_bn(net_t *net, int x, const char *pre, const char *s, int C, int k,
                    int stride, int dil) {
    char nm[128], sfx[8];
    snprintf(sfx, sizeof sfx, "dw%s", s);
    int h = name(nm, sizeof nm, pre, sfx) ? -1 : net_dwconv(net, x, nm, k, stride, dil * (k / 2), dil);
    snprintf(sfx, sizeof sfx, "pw%s", s);
    if (h < 0 || name(nm, sizeof nm, pre, sfx) || (h = net_conv(net, h, nm, C, 1, 1, 0)) < 0)
        return -1;
    snprintf(sfx, sizeof sfx, "bn%s", s);
    return name(nm, sizeof nm, pre, sfx) ? -1 : net_bn(net, h, nm, 1);
}

/* A cell's states and their shared ReLUs (-1 until needed). */
typedef struct {
    int st[2 + DA_STEPS], relu[2 + DA_STEPS];
} cell_t;

static int relu_of(net_t *net, cell_t *c, int i) {
    if (c->relu[i] < 0) c->relu[i] = net_relu(net, c->st[i]);
    return c->relu[i];
}

/* The op's output node, -2 for no contribution, -1 on error. */
static int edge(net_t *net, cell_t *c, const char *pre, int op, int in, int C, int stride) {
    int x = c->st[in], r;
    if (net->nodes[x].op == OP_ZERO && (op == DA_MAX3 || op == DA_AVG3 || op == DA_SKIP))
        return -2;
    switch (op) {
    case DA_NONE:
        return -2;
    case DA_MAX3:
        return net_maxpool3s(net, x, stride);
    case DA_AVG3:
        return net_avgpool3s(net, x, stride);
    case DA_SKIP:
        if (stride == 1) return x;
        return (r = relu_of(net, c, in)) < 0 ? -1 : conv1_bn(net, r, pre, C, 1);
    case DA_SEP3:
    case DA_SEP5: {
        int k = op == DA_SEP3 ? 3 : 5, h = relu_of(net, c, in);
        if (h < 0 || (h = dw_pw_bn(net, h, pre, "1", C, k, stride, 1)) < 0 ||
            (h = net_relu(net, h)) < 0)
            return -1;
        return dw_pw_bn(net, h, pre, "2", C, k, 1, 1);
    }
    case DA_DIL3:
    case DA_DIL5:
        return (r = relu_of(net, c, in)) < 0 ? -1
                                            : dw_pw_bn(net, r, pre, "", C, op == DA_DIL3 ? 3 : 5,
                                                       stride, 2);
    }
    return -1;
}

static int cell(net_t *net, int i, int s0, int s1, int C, int red, int red_prev, const int *g) {
    char pre[96];
    cell_t c;
    for (int k = 0; k < 2 + DA_STEPS; k++) c.relu[k] = -1;
    int h;
    snprintf(pre, sizeof pre, "c%d.pre0", i);
    if ((h = net_relu(net, s0)) < 0 || (c.st[0] = conv1_bn(net, h, pre, C, red_prev)) < 0)
        return -1;
    snprintf(pre, sizeof pre, "c%d.pre1", i);
    if ((h = net_relu(net, s1)) < 0 || (c.st[1] = conv1_bn(net, h, pre, C, 0)) < 0) return -1;
    for (int n = 0; n < DA_STEPS; n++) {
        int in[2], m = 0;
        for (int j = 0; j < 2; j++) {
            int op = g[4 * n + 2 * j], src = g[4 * n + 2 * j + 1];
            if (src < 0 || src > n + 1 || op < 0 || op >= DA_N_OPS) return -1;
            snprintf(pre, sizeof pre, "c%d.e%d.%s", i, edge_of(n, src), darts_op_names[op]);
            h = edge(net, &c, pre, op, src, C, red && src < 2 ? 2 : 1);
            if (h == -1) return -1;
            if (h >= 0) in[m++] = h;
        }
        const node_t *X = &net->nodes[c.st[1]];
        int H = red ? X->H / 2 : X->H, W = red ? X->W / 2 : X->W;
        c.st[2 + n] = m == 0 ? net_zero(net, C, H, W) : m == 1 ? in[0] : net_add(net, 2, in);
        if (c.st[2 + n] < 0) return -1;
    }
    return net_chcat(net, DA_STEPS, c.st + 2);
}

int darts_build(net_t *net, const space_cfg_t *c, const arch_t *a) {
    if (!cfg_ok(c) || a->n != DA_N_GENES) return -1;
    int h = net_input(net, c->in_ch, c->H, c->W);
    if (h < 0 || (h = net_conv(net, h, "stem.conv", DA_STEM_MULT * c->C, 3, 1, 1)) < 0 ||
        (h = net_bn(net, h, "stem.bn", 1)) < 0)
        return -1;
    int s0 = h, s1 = h, C = c->C, red_prev = 0;
    for (int i = 0; i < c->N; i++) {
        int red = darts_is_reduction(i, c->N);
        if (red) C *= 2;
        int out = cell(net, i, s0, s1, C, red, red_prev, a->g + 2 * DA_PAIRS * red);
        if (out < 0) return -1;
        s0 = s1, s1 = out, red_prev = red;
    }
    if ((h = net_gap(net, s1)) < 0 || (h = net_linear(net, h, "head.fc", c->classes, 1)) < 0 ||
        net_xent(net, h) < 0)
        return -1;
    return 0;
}

/* ---- supernet ---------------------------------------------------------------------------- */

static int decl_bn(params_t *P, const char *pre, const char *sfx, int C) {
    char nm[128];
    return name(nm, sizeof nm, pre, sfx) ? -1 : net_declare_bn(P, nm, C, 1);
}

static int decl_dw_pw_bn(params_t *P, const char *pre, const char *s, int C, int k) {
    char nm[128], sfx[8];
    snprintf(sfx, sizeof sfx, "dw%s", s);
    if (name(nm, sizeof nm, pre, sfx) || net_declare_dwconv(P, nm, C, k)) return -1;
    snprintf(sfx, sizeof sfx, "pw%s", s);
    if (name(nm, sizeof nm, pre, sfx) || net_declare_conv(P, nm, C, C, 1) < 0) return -1;
    snprintf(sfx, sizeof sfx, "bn%s", s);
    return decl_bn(P, pre, sfx, C);
}

/* What edge() declares for op, at stride. */
static int decl_edge(params_t *P, const char *pre, int op, int C, int stride) {
    char nm[128];
    switch (op) {
    case DA_SKIP:
        if (stride == 1) return 0;
        if (name(nm, sizeof nm, pre, "fr") || net_declare_facred(P, nm, C, C)) return -1;
        return decl_bn(P, pre, "bn", C);
    case DA_SEP3:
    case DA_SEP5: {
        int k = op == DA_SEP3 ? 3 : 5;
        return decl_dw_pw_bn(P, pre, "1", C, k) || decl_dw_pw_bn(P, pre, "2", C, k) ? -1 : 0;
    }
    case DA_DIL3:
    case DA_DIL5:
        return decl_dw_pw_bn(P, pre, "", C, op == DA_DIL3 ? 3 : 5);
    }
    return 0;
}

/* Same names and shapes as darts_build, for every op on every edge of every cell. */
int darts_declare_supernet(params_t *P, const space_cfg_t *c) {
    if (!cfg_ok(c)) return -1;
    char pre[96], nm[128];
    int C = c->C, Cpp = DA_STEM_MULT * C, Cp = Cpp, red_prev = 0;
    if (net_declare_conv(P, "stem.conv", Cpp, c->in_ch, 3) < 0 ||
        net_declare_bn(P, "stem.bn", Cpp, 1) < 0)
        return -1;
    for (int i = 0; i < c->N; i++) {
        int red = darts_is_reduction(i, c->N);
        if (red) C *= 2;
        snprintf(pre, sizeof pre, "c%d.pre0", i);
        if (red_prev ? name(nm, sizeof nm, pre, "fr") || net_declare_facred(P, nm, C, Cpp)
                     : name(nm, sizeof nm, pre, "conv") || net_declare_conv(P, nm, C, Cpp, 1) < 0)
            return -1;
        if (decl_bn(P, pre, "bn", C)) return -1;
        snprintf(pre, sizeof pre, "c%d.pre1", i);
        if (name(nm, sizeof nm, pre, "conv") || net_declare_conv(P, nm, C, Cp, 1) < 0 ||
            decl_bn(P, pre, "bn", C))
            return -1;
        for (int n = 0; n < DA_STEPS; n++)
            for (int src = 0; src < n + 2; src++)
                for (int op = 0; op < DA_N_OPS; op++) {
                    snprintf(pre, sizeof pre, "c%d.e%d.%s", i, edge_of(n, src), darts_op_names[op]);
                    if (decl_edge(P, pre, op, C, red && src < 2 ? 2 : 1)) return -1;
                }
        Cpp = Cp, Cp = DA_STEPS * C, red_prev = red;
    }
    return net_declare_linear(P, "head.fc", c->classes, Cp, 1) < 0 ? -1 : 0;
}
