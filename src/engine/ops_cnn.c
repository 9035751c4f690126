/* ops_cnn.c — the image ops: node constructors (net.h) and their rows of the op table
 * (forward, backward, counts, aux and workspace sizes) over the layers of layers.h. */
#include "engine/net.h"

#include <stdio.h>
#include <string.h>

#include "engine/layers.h"

/* ---- node constructors ------------------------------------------------------------------ */

static int declare(params_t *P, const char *name, const char *suffix, int kind, int n_dim,
                   const int *shape) {
    char full[sizeof P->v[0].name];
    if (snprintf(full, sizeof full, "%s.%s", name, suffix) >= (int)sizeof full) return -1;
    return params_declare(P, full, kind, n_dim, shape);
}

int net_declare_conv(params_t *P, const char *name, int oc, int c, int k) {
    int sh[4] = {oc, c, k, k};
    return declare(P, name, "w", PK_CONV, 4, sh) < 0 ? -1 : 0;
}

int net_declare_bn(params_t *P, const char *name, int C, int affine) {
    if (affine && (declare(P, name, "gamma", PK_BN_GAMMA, 1, &C) < 0 ||
                   declare(P, name, "beta", PK_BN_BETA, 1, &C) < 0))
        return -1;
    if (declare(P, name, "mean", PK_STATE_MEAN, 1, &C) < 0 ||
        declare(P, name, "var", PK_STATE_VAR, 1, &C) < 0)
        return -1;
    return 0;
}

int net_declare_linear(params_t *P, const char *name, int out, int in, int bias) {
    int sh[2] = {out, in};
    if (declare(P, name, "w", PK_LINEAR_W, 2, sh) < 0) return -1;
    if (bias && declare(P, name, "b", PK_BIAS, 1, &out) < 0) return -1;
    return 0;
}

int net_input(net_t *net, int C, int H, int W) {
    if (net->input >= 0) return -1;
    node_t *d = net_node_new(net, OP_INPUT, C, H, W);
    if (!d) return -1;
    return net->input = net->n - 1;
}

int net_zero(net_t *net, int C, int H, int W) {
    return net_node_new(net, OP_ZERO, C, H, W) ? net->n - 1 : -1;
}

int net_conv(net_t *net, int x, const char *name, int oc, int k, int stride, int pad) {
    if (!net_node_ok(net, x) || oc < 1 || k < 1 || stride < 1 || pad < 0) return -1;
    node_t X = net->nodes[x];
    int OH = conv2d_out(X.H, k, stride, pad), OW = conv2d_out(X.W, k, stride, pad);
    if (OH < 1 || OW < 1 || net_declare_conv(net->P, name, oc, X.C, k) < 0) return -1;
    node_t *d = net_node_new(net, OP_CONV, oc, OH, OW);
    if (!d) return -1;
    char full[sizeof net->P->v[0].name];
    snprintf(full, sizeof full, "%s.w", name);
    d->p[0] = params_find(net->P, full, 0);
    d->n_in = 1;
    d->in[0] = x;
    d->k = k;
    d->stride = stride;
    d->pad = pad;
    return net->n - 1;
}

int net_bn(net_t *net, int x, const char *name, int affine) {
    if (!net_node_ok(net, x)) return -1;
    node_t X = net->nodes[x];
    if (net_declare_bn(net->P, name, X.C, affine) < 0) return -1;
    node_t *d = net_node_new(net, OP_BN, X.C, X.H, X.W);
    if (!d) return -1;
    char full[sizeof net->P->v[0].name];
    static const char *const sfx[4] = {"gamma", "beta", "mean", "var"};
    for (int i = 0; i < 4; i++) {
        if (i < 2 && !affine) continue;
        snprintf(full, sizeof full, "%s.%s", name, sfx[i]);
        if (i < 2)
            d->p[i] = params_find(net->P, full, 0);
        else
            d->st[i - 2] = params_find(net->P, full, 1);
    }
    d->n_in = 1;
    d->in[0] = x;
    return net->n - 1;
}

/* A one-input node with the input's shape, or the given shape. */
static int unary(net_t *net, int op, int x, int C, int H, int W) {
    if (!net_node_ok(net, x)) return -1;
    node_t *d = net_node_new(net, op, C, H, W);
    if (!d) return -1;
    d->n_in = 1;
    d->in[0] = x;
    return net->n - 1;
}

int net_relu(net_t *net, int x) {
    if (!net_node_ok(net, x)) return -1;
    node_t X = net->nodes[x];
    return unary(net, OP_RELU, x, X.C, X.H, X.W);
}

int net_add(net_t *net, int n_in, const int *in) {
    if (n_in < 1 || n_in > NET_MAX_IN) return -1;
    for (int i = 0; i < n_in; i++) {
        if (!net_node_ok(net, in[i])) return -1;
        const node_t *a = &net->nodes[in[i]], *b = &net->nodes[in[0]];
        if (a->C != b->C || a->H != b->H || a->W != b->W) return -1;
    }
    node_t X = net->nodes[in[0]];
    node_t *d = net_node_new(net, OP_ADD, X.C, X.H, X.W);
    if (!d) return -1;
    d->n_in = n_in;
    memcpy(d->in, in, sizeof(int) * n_in);
    return net->n - 1;
}

int net_avgpool3(net_t *net, int x) {
    if (!net_node_ok(net, x)) return -1;
    node_t X = net->nodes[x];
    return unary(net, OP_AVGPOOL3, x, X.C, X.H, X.W);
}

int net_avgpool2(net_t *net, int x) {
    if (!net_node_ok(net, x)) return -1;
    node_t X = net->nodes[x];
    return unary(net, OP_AVGPOOL2, x, X.C, X.H / 2, X.W / 2);
}

int net_gap(net_t *net, int x) {
    if (!net_node_ok(net, x)) return -1;
    return unary(net, OP_GAP, x, net->nodes[x].C, 1, 1);
}

int net_linear(net_t *net, int x, const char *name, int out, int bias) {
    if (!net_node_ok(net, x) || out < 1) return -1;
    node_t X = net->nodes[x];
    int in = X.C * X.H * X.W;
    if (net_declare_linear(net->P, name, out, in, bias) < 0) return -1;
    int id = unary(net, OP_LINEAR, x, out, 1, 1);
    if (id < 0) return -1;
    char full[sizeof net->P->v[0].name];
    snprintf(full, sizeof full, "%s.w", name);
    net->nodes[id].p[0] = params_find(net->P, full, 0);
    if (bias) {
        snprintf(full, sizeof full, "%s.b", name);
        net->nodes[id].p[1] = params_find(net->P, full, 0);
    }
    return id;
}

int net_xent(net_t *net, int logits) {
    if (!net_node_ok(net, logits) || net->loss >= 0) return -1;
    const node_t *L = &net->nodes[logits];
    if (L->H != 1 || L->W != 1) return -1;
    int id = unary(net, OP_XENT, logits, 1, 1, 1);
    if (id < 0) return -1;
    net->logits = logits;
    return net->loss = id;
}

/* ---- the ops' definitions ------------------------------------------------------------- */

/* im2col chunk cap in floats (256 KB): the chunk stays in L2 while its GEMMs read it;
 * measured faster than whole-batch im2col (bench/engine.sh). */
#define CONV_WS_CAP ((size_t)1 << 16)

static const node_t *in0(const net_t *net, const node_t *d) { return &net->nodes[d->in[0]]; }

static int input_fwd(net_t *net, node_t *d) {
    memcpy(d->y, net->x, sizeof(float) * net_node_size(d));
    return 0;
}

static int conv_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    conv2d_forward(d->y, X->y, net_pw(net, d->p[0]), net->ws, net->n_ws, d->B, X->C, X->H, X->W,
                   d->C, d->k, d->stride, d->pad);
    return 0;
}

static void conv_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    conv2d_backward(net_in_dy(net, X), net_pg(net, d->p[0]), d->dy, X->y, net_pw(net, d->p[0]),
                    net->ws, net->n_ws, d->B, X->C, X->H, X->W, d->C, d->k, d->stride, d->pad);
}

static double conv_flops(const net_t *net, const node_t *d) {
    return (double)d->C * d->H * d->W * in0(net, d)->C * d->k * d->k;
}

/* The im2col chunk: up to CONV_WS_CAP floats, at least one image's, per thread part. */
static size_t conv_ws(const net_t *net, const node_t *d) {
    const node_t *X = in0(net, d);
    size_t lo = conv2d_ws_floats(1, X->C, X->H, X->W, d->C, d->k, d->stride, d->pad);
    size_t hi = conv2d_ws_floats(d->B, X->C, X->H, X->W, d->C, d->k, d->stride, d->pad);
    size_t want = hi < CONV_WS_CAP ? hi : CONV_WS_CAP;
    if (want < lo) want = lo;
    return conv2d_ws_threads(want, X->C, d->C, d->k);
}

static int bn_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    batchnorm_forward(d->y, d->aux, X->y, net_pw(net, d->p[0]), net_pw(net, d->p[1]),
                      net_ps(net, d->st[0]), net_ps(net, d->st[1]), net->bn_mode,
                      net->bn_momentum, net->bn_eps, d->B, d->C, d->H * d->W);
    return 0;
}

/* the only reader of X (a conv's output, typically) sets its dy */
static void bn_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    (X->n_cons == 1 ? batchnorm_backward_set : batchnorm_backward)(
        X->dy, net_pg(net, d->p[0]), net_pg(net, d->p[1]), d->dy, X->y, net_pw(net, d->p[0]),
        d->aux, net->bn_mode, d->B, d->C, d->H * d->W);
}

static size_t bn_aux(const net_t *net, const node_t *d) {
    (void)net;
    return 2 * (size_t)d->C;
}

static int relu_fwd(net_t *net, node_t *d) {
    relu_forward(d->y, in0(net, d)->y, net_node_size(d));
    return 0;
}

static void relu_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    relu_backward(X->dy, d->dy, X->y, net_node_size(d));
}

static int add_fwd(net_t *net, node_t *d) {
    size_t n = net_node_size(d);
    const node_t *X = in0(net, d);
    if (d->n_in == 1) {
        memcpy(d->y, X->y, sizeof(float) * n);
        return 0;
    }
    add_forward(d->y, X->y, net->nodes[d->in[1]].y, n);
    for (int j = 2; j < d->n_in; j++) add_into(d->y, net->nodes[d->in[j]].y, n);
    return 0;
}

static void add_bwd(net_t *net, node_t *d) {
    size_t n = net_node_size(d);
    for (int j = 0; j < d->n_in; j++) {
        float *a = net->nodes[d->in[j]].dy;
        if (a == d->dy) continue; /* shares this dy (net_finalize) */
        add_into(a, d->dy, n);
    }
}

static int avgpool3_fwd(net_t *net, node_t *d) {
    avgpool3_forward(d->y, in0(net, d)->y, d->B * d->C, d->H, d->W);
    return 0;
}

static void avgpool3_bwd(net_t *net, node_t *d) {
    avgpool3_backward(in0(net, d)->dy, d->dy, d->B * d->C, d->H, d->W);
}

static int avgpool2_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    avgpool2_forward(d->y, X->y, d->B * d->C, X->H, X->W);
    return 0;
}

static void avgpool2_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    avgpool2_backward(X->dy, d->dy, d->B * d->C, X->H, X->W);
}

static int gap_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    gap_forward(d->y, X->y, d->B * d->C, X->H * X->W);
    return 0;
}

static void gap_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    gap_backward(X->dy, d->dy, d->B * d->C, X->H * X->W);
}

static int linear_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    linear_forward(d->y, X->y, net_pw(net, d->p[0]), net_pw(net, d->p[1]), d->B,
                   X->C * X->H * X->W, d->C);
    return 0;
}

static void linear_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    linear_backward(net_in_dy(net, X), net_pg(net, d->p[0]), net_pg(net, d->p[1]), d->dy, X->y,
                    net_pw(net, d->p[0]), d->B, X->C * X->H * X->W, d->C);
}

static double linear_flops(const net_t *net, const node_t *d) {
    const node_t *X = in0(net, d);
    return (double)d->C * X->C * X->H * X->W;
}

/* without labels the forward pass stops at the logits */
static int xent_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    float loss = net->labels ? xent_forward(d->aux, X->y, net->labels, d->B, X->C) : 0.0f;
    d->y[0] = loss;
    return 1;
}

static void xent_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    if (net->labels) xent_backward(X->dy, d->aux, net->labels, d->dy[0], d->B, X->C);
}

static size_t xent_aux(const net_t *net, const node_t *d) {
    return (size_t)d->B * in0(net, d)->C;
}

/* name, flags, forward, backward, flops, params, aux, workspace */
const op_def_t op_input = {"input", 0, input_fwd, NULL, NULL, NULL, NULL, NULL};
const op_def_t op_zero = {"zero", OPF_CONST, NULL, NULL, NULL, NULL, NULL, NULL};
const op_def_t op_conv = {"conv", 0, conv_fwd, conv_bwd, conv_flops, NULL, NULL, conv_ws};
const op_def_t op_bn = {"bn", OPF_SETS_DX, bn_fwd, bn_bwd, NULL, NULL, bn_aux, NULL};
const op_def_t op_relu = {"relu", 0, relu_fwd, relu_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_add = {"add", OPF_PASS_DY, add_fwd, add_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_avgpool3 = {"avgpool3", 0, avgpool3_fwd, avgpool3_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_avgpool2 = {"avgpool2", 0, avgpool2_fwd, avgpool2_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_gap = {"gap", 0, gap_fwd, gap_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_linear = {"linear", 0, linear_fwd, linear_bwd, linear_flops, NULL, NULL, NULL};
const op_def_t op_xent = {"xent", OPF_LOSS | OPF_SCALAR, xent_fwd, xent_bwd, NULL, NULL, xent_aux,
                          NULL};
