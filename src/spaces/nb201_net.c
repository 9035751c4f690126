/* nb201_net.c — the NAS-Bench-201 network over the engine (see docs/engine.md).
 *
 * Skeleton (C channels, N cells per stage), exactly as NAS-Bench-201's TinyNetwork:
 *   stem: conv3x3(in_ch -> C, pad 1) - BN
 *   stage 0: N cells at C; reduction 0; stage 1: N cells at 2C; reduction 1;
 *   stage 2: N cells at 4C; head: BN - ReLU - global average pool - linear(classes, bias).
 * Reduction (NB201 ResNetBasicblock, stride 2):
 *   a = ReLU-conv3x3 s2-BN (x), b = ReLU-conv3x3-BN (a), out = b + conv1x1(avgpool2x2 s2 (x)).
 * Cell: node 0 = cell input; node j = sum over i < j of op_{j<-i}(node i); output node 3.
 *   none: no contribution; skip_connect: identity; nor_conv_kxk: ReLU-conv(k, pad k/2)-BN;
 *   avg_pool_3x3: 3x3 stride 1 pad 1, padding not counted. A node with no incoming op is 0.
 * BN is affine everywhere (NB201's trained networks use affine BN).
 * The ReLU of a cell node is computed once and shared by its outgoing conv edges (same
 * result as one ReLU per edge, less work). A skip or pool edge out of a node that is all
 * zeros (no incoming op) is not built: it would only add zeros.
 *
 * Parameter names (a subnet over the supernet's params_t picks its ops' weights by name):
 *   stem.conv.w, stem.bn.{gamma,beta,mean,var},
 *   s<S>.c<I>.e<E>.conv1.conv.w, s<S>.c<I>.e<E>.conv1.bn.*, ... .conv3.conv.w, .conv3.bn.*,
 *   red<R>.a.conv.w, red<R>.a.bn.*, red<R>.b.conv.w, red<R>.b.bn.*, red<R>.sc.conv.w,
 *   head.bn.*, head.fc.w, head.fc.b.
 * Image sizes must stay even at each reduction (32 -> 16 -> 8, 28 -> 14 -> 7). */
#include <stdio.h>

#include "spaces/nb201.h"

static int cfg_ok(const space_cfg_t *c) {
    return c->C >= 1 && c->N >= 1 && c->in_ch >= 1 && c->H >= 4 && c->W >= 4 &&
           c->classes >= 1 && c->H % 2 == 0 && c->W % 2 == 0 && c->H / 2 % 2 == 0 &&
           c->W / 2 % 2 == 0;
}

/* Edge index of j <- i in NB201's order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2. */
static int edge_of(int j, int i) { return j * (j - 1) / 2 + i; }

static void op_name(char *buf, size_t n, int s, int c, int e, int op) {
    snprintf(buf, n, "s%d.c%d.e%d.%s", s, c, e, op == NB_CONV1 ? "conv1" : "conv3");
}

/* ReLU - conv(k, stride, pad k/2) - BN with parameters "<pre>.conv.*" and "<pre>.bn.*";
 * x is the already-ReLU'd input. */
static int conv_bn(net_t *net, int x, const char *pre, int oc, int k, int stride) {
    char nm[128];
    snprintf(nm, sizeof nm, "%s.conv", pre);
    int h = net_conv(net, x, nm, oc, k, stride, k / 2);
    if (h < 0) return -1;
    snprintf(nm, sizeof nm, "%s.bn", pre);
    return net_bn(net, h, nm, 1);
}

/* The shared ReLU of node i, made right after the node when any edge out of it is a
 * conv, so its place in the graph (and the order in which gradients are summed into node
 * i) does not depend on which edge is the first conv: two cells that differ only in edges
 * whose output never reaches the loss then compute the same bits (space.h live_key). */
static int node_relu(net_t *net, const arch_t *a, const int *node, int i, int *relu) {
    for (int j = i + 1; j < 4; j++) {
        int op = a->g[edge_of(j, i)];
        if (op == NB_CONV1 || op == NB_CONV3)
            return (relu[i] = net_relu(net, node[i])) < 0 ? -1 : 0;
    }
    return 0;
}

static int cell(net_t *net, int x, int s, int ci, const arch_t *a) {
    int node[4] = {x, -1, -1, -1}, relu[4] = {-1, -1, -1, -1};
    const node_t *X = &net->nodes[x];
    int C = X->C, H = X->H, W = X->W;
    if (node_relu(net, a, node, 0, relu)) return -1;
    for (int j = 1; j < 4; j++) {
        int in[3], n = 0;
        for (int i = 0; i < j; i++) {
            int e = edge_of(j, i), op = a->g[e], h = -1;
            char pre[96];
            /* skip or pool of an all-zero node adds exact zeros: leave it out (the cell
             * computes the same, and equal cells build equal graphs: nb201.c live_key) */
            if ((op == NB_SKIP || op == NB_AVG3) && net->nodes[node[i]].op == OP_ZERO) continue;
            switch (op) {
            case NB_NONE:
                continue;
            case NB_SKIP:
                h = node[i];
                break;
            case NB_CONV1:
            case NB_CONV3:
                op_name(pre, sizeof pre, s, ci, e, op);
                h = conv_bn(net, relu[i], pre, C, op == NB_CONV1 ? 1 : 3, 1);
                break;
            case NB_AVG3:
                h = net_avgpool3(net, node[i]);
                break;
            default:
                return -1;
            }
            if (h < 0) return -1;
            in[n++] = h;
        }
        node[j] = n == 0 ? net_zero(net, C, H, W) : n == 1 ? in[0] : net_add(net, n, in);
        if (node[j] < 0 || (j < 3 && node_relu(net, a, node, j, relu))) return -1;
    }
    return node[3];
}

static int reduction(net_t *net, int x, int r, int oc) {
    char pre[32], nm[48];
    snprintf(pre, sizeof pre, "red%d.a", r);
    int h = net_relu(net, x);
    if (h < 0 || (h = conv_bn(net, h, pre, oc, 3, 2)) < 0) return -1;
    snprintf(pre, sizeof pre, "red%d.b", r);
    if ((h = net_relu(net, h)) < 0 || (h = conv_bn(net, h, pre, oc, 3, 1)) < 0) return -1;
    snprintf(nm, sizeof nm, "red%d.sc.conv", r);
    int sc = net_avgpool2(net, x);
    if (sc < 0 || (sc = net_conv(net, sc, nm, oc, 1, 1, 0)) < 0) return -1;
    int in[2] = {h, sc};
    return net_add(net, 2, in);
}

int nb201_build(net_t *net, const space_cfg_t *c, const arch_t *a) {
    if (!cfg_ok(c) || a->n != NB_N_EDGES) return -1;
    for (int e = 0; e < NB_N_EDGES; e++)
        if (a->g[e] < 0 || a->g[e] >= NB_N_OPS) return -1;
    int h = net_input(net, c->in_ch, c->H, c->W);
    if (h < 0 || (h = net_conv(net, h, "stem.conv", c->C, 3, 1, 1)) < 0 ||
        (h = net_bn(net, h, "stem.bn", 1)) < 0)
        return -1;
    net_mark_block(net, h);
    for (int s = 0; s < 3; s++) {
        if (s > 0 && (h = reduction(net, h, s - 1, c->C << s)) < 0) return -1;
        if (s > 0) net_mark_block(net, h);
        for (int i = 0; i < c->N; i++) {
            if ((h = cell(net, h, s, i, a)) < 0) return -1;
            net_mark_block(net, h);
        }
    }
    if ((h = net_bn(net, h, "head.bn", 1)) < 0 || (h = net_relu(net, h)) < 0 ||
        (h = net_gap(net, h)) < 0 || (h = net_linear(net, h, "head.fc", c->classes, 1)) < 0 ||
        net_xent(net, h) < 0)
        return -1;
    return 0;
}

/* Same names and shapes as nb201_build, for every candidate op on every edge. */
int nb201_declare_supernet(params_t *P, const space_cfg_t *c) {
    if (!cfg_ok(c)) return -1;
    char nm[128];
    if (net_declare_conv(P, "stem.conv", c->C, c->in_ch, 3) < 0 ||
        net_declare_bn(P, "stem.bn", c->C, 1) < 0)
        return -1;
    for (int s = 0; s < 3; s++) {
        int C = c->C << s;
        if (s > 0) {
            int r = s - 1, ic = C / 2;
            snprintf(nm, sizeof nm, "red%d.a.conv", r);
            if (net_declare_conv(P, nm, C, ic, 3) < 0) return -1;
            snprintf(nm, sizeof nm, "red%d.a.bn", r);
            if (net_declare_bn(P, nm, C, 1) < 0) return -1;
            snprintf(nm, sizeof nm, "red%d.b.conv", r);
            if (net_declare_conv(P, nm, C, C, 3) < 0) return -1;
            snprintf(nm, sizeof nm, "red%d.b.bn", r);
            if (net_declare_bn(P, nm, C, 1) < 0) return -1;
            snprintf(nm, sizeof nm, "red%d.sc.conv", r);
            if (net_declare_conv(P, nm, C, ic, 1) < 0) return -1;
        }
        for (int i = 0; i < c->N; i++)
            for (int e = 0; e < NB_N_EDGES; e++)
                for (int op = NB_CONV1; op <= NB_CONV3; op++) {
                    char pre[96];
                    op_name(pre, sizeof pre, s, i, e, op);
                    snprintf(nm, sizeof nm, "%s.conv", pre);
                    if (net_declare_conv(P, nm, C, C, op == NB_CONV1 ? 1 : 3) < 0) return -1;
                    snprintf(nm, sizeof nm, "%s.bn", pre);
                    if (net_declare_bn(P, nm, C, 1) < 0) return -1;
                }
    }
    int Cl = c->C << 2;
    if (net_declare_bn(P, "head.bn", Cl, 1) < 0 ||
        net_declare_linear(P, "head.fc", c->classes, Cl, 1) < 0)
        return -1;
    return 0;
}
