/* onnx_ops.c — each engine op as ONNX nodes (opset 17): one emitter per op and the table
 * ox_emit indexed by op id. A new engine op gets its row here (docs/models.md lists the
 * mapping). Tensor ranks: image ops (N,C,H,W); the recommender ops (N,F) vectors and
 * (N,F,E) embedding stacks, as the engine's node shapes (C,H,W) say. */
#include "onnx_impl.h"

#include <stdio.h>
#include <string.h>

#include "data/data.h"

static const node_t *nd(ox_t *b, int id) { return &b->net->nodes[id]; }
static const char *in_name(ox_t *b, int id, int j) { return b->name[nd(b, id)->in[j]]; }
static int in_rank(ox_t *b, int id, int j) { return b->rank[nd(b, id)->in[j]]; }
static const char *op_of(ox_t *b, int id) { return net_ops[nd(b, id)->op]->name; }
static size_t per_ex(const node_t *d) { return (size_t)d->C * d->H * d->W; }

/* The click input row is not one tensor (dense and ids): only slice and embed read it. */
static int reads_click_input(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    for (int j = 0; j < d->n_in; j++)
        if (b->o->clicks && d->in[j] == b->net->input) return 1;
    return 0;
}

/* Input j of node id as a tensor of rank want (4: image; 2: flattened vector). */
static const char *input_as(ox_t *b, int id, int j, int want) {
    const char *x = in_name(b, id, j);
    if (in_rank(b, id, j) == want) return x;
    if (want == 2) {
        const char *t = ox_tmp(b, id, j ? "flat1" : "flat");
        ox_attr_int(b, ox_node(b, "Flatten", t, 1, x), "axis", 1);
        return t;
    }
    ox_fail(b, "node %d (%s): input of rank %d where %d is needed", id, op_of(b, id),
            in_rank(b, id, j), want);
    return NULL;
}

/* Input j of node id as an (N,C,H*W) stack (a (N,F) vector with E = 1 is reshaped). */
static const char *input_stack(ox_t *b, int id, int j) {
    const node_t *X = nd(b, nd(b, id)->in[j]);
    if (reads_click_input(b, id) || in_rank(b, id, j) == 4) {
        ox_fail(b, "node %d (%s): input is not an (N,F,E) tensor", id, op_of(b, id));
        return NULL;
    }
    if (in_rank(b, id, j) == 3) return in_name(b, id, j);
    int64_t sh[3] = {0, X->C, (int64_t)X->H * X->W};
    const char *t = ox_tmp(b, id, "stack");
    ox_node(b, "Reshape", t, 2, in_name(b, id, j), ox_ints(b, ox_tmp(b, id, "stack_shape"), 3, sh));
    return t;
}

/* One-input node op_type with the input's rank. */
static int unary(ox_t *b, int id, const char *op_type) {
    if (reads_click_input(b, id)) return ox_fail(b, "node %d (%s) reads the raw click row", id, op_of(b, id));
    b->rank[id] = (signed char)in_rank(b, id, 0);
    return ox_node(b, op_type, b->name[id], 1, in_name(b, id, 0)) ? 0 : -1;
}

/* Common attributes of Conv, AveragePool, MaxPool: square kernel, stride, padding. */
static void window(ox_t *b, Onnx__NodeProto *n, int k, int stride, int pad) {
    int64_t ks[2] = {k, k}, st[2] = {stride, stride}, pd[4] = {pad, pad, pad, pad};
    ox_attr_ints(b, n, "kernel_shape", 2, ks);
    ox_attr_ints(b, n, "strides", 2, st);
    ox_attr_ints(b, n, "pads", 4, pd);
}

/* ---- the image ops ------------------------------------------------------------------------ */

/* x (N,C,H,W) in [0,1] -> (x - mean) * (1/std), the data feed's normalization. */
static int emit_input(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    if (b->o->clicks) {
        b->name[id] = NULL;
        b->rank[id] = 2;
        return 0;
    }
    b->rank[id] = 4;
    if (!b->o->n_norm) return ox_node(b, "Identity", b->name[id], 1, "x") ? 0 : -1;
    float mean[DATA_MAX_CH], inv[DATA_MAX_CH];
    if (d->C > DATA_MAX_CH) return ox_fail(b, "more than %d input channels", DATA_MAX_CH);
    for (int c = 0; c < d->C; c++) {
        mean[c] = b->o->mean[c];
        inv[c] = b->o->std[c] > 0 ? 1.0f / b->o->std[c] : 1.0f; /* a constant channel is only centred */
    }
    int64_t dims[4] = {1, d->C, 1, 1};
    const char *m = ox_init(b, ox_tensor_f(b, "norm.mean", 4, dims, mean, 1));
    const char *s = ox_init(b, ox_tensor_f(b, "norm.inv_std", 4, dims, inv, 1));
    const char *t = ox_tmp(b, id, "centred");
    ox_node(b, "Sub", t, 2, "x", m);
    return ox_node(b, "Mul", b->name[id], 2, t, s) ? 0 : -1;
}

/* All zeros of shape (N,C,H,W): ConstantOfShape over the batch size. */
static int emit_zero(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    int64_t chw[3] = {d->C, d->H, d->W}, one = 1;
    const char *shape = ox_tmp(b, id, "shape");
    ox_attr_int(b, ox_node(b, "Concat", shape, 2, ox_batch(b), ox_ints(b, ox_tmp(b, id, "chw"), 3, chw)),
                "axis", 0);
    float z = 0.0f;
    Onnx__NodeProto *n = ox_node(b, "ConstantOfShape", b->name[id], 1, shape);
    ox_attr_tensor(b, n, "value", ox_tensor_f(b, "zero", 1, &one, &z, 1));
    b->rank[id] = 4;
    return n ? 0 : -1;
}

static int emit_conv(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    if (reads_click_input(b, id) || in_rank(b, id, 0) != 4)
        return ox_fail(b, "node %d (conv): input is not an image tensor", id);
    Onnx__NodeProto *n = ox_node(b, "Conv", b->name[id], 2, in_name(b, id, 0), ox_param(b, d->p[0], 0));
    window(b, n, d->k, d->stride, d->pad);
    b->rank[id] = 4;
    return n ? 0 : -1;
}

/* Inference form: the running statistics; scale 1 and shift 0 without affine. */
static int emit_bn(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    if (reads_click_input(b, id) || in_rank(b, id, 0) != 4)
        return ox_fail(b, "node %d (bn): input is not an image tensor", id);
    const char *g, *be;
    if (d->p[0] >= 0) {
        g = ox_param(b, d->p[0], 0), be = ox_param(b, d->p[1], 0);
    } else {
        float *one = ox_alloc(b, sizeof(float) * (size_t)d->C);
        float *zero = ox_alloc(b, sizeof(float) * (size_t)d->C);
        if (!one || !zero) return -1;
        for (int c = 0; c < d->C; c++) one[c] = 1.0f;
        int64_t C = d->C;
        g = ox_init(b, ox_tensor_f(b, ox_tmp(b, id, "ones"), 1, &C, one, 0));
        be = ox_init(b, ox_tensor_f(b, ox_tmp(b, id, "zeros"), 1, &C, zero, 0));
    }
    Onnx__NodeProto *n = ox_node(b, "BatchNormalization", b->name[id], 5, in_name(b, id, 0), g, be,
                                 ox_param(b, d->st[0], 1), ox_param(b, d->st[1], 1));
    ox_attr_float(b, n, "epsilon", b->net->bn_eps);
    b->rank[id] = 4;
    return n ? 0 : -1;
}

static int emit_relu(ox_t *b, int id) { return unary(b, id, "Relu"); }

/* A sum of n inputs: Identity, Add or Sum. */
static int emit_add(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    if (reads_click_input(b, id)) return ox_fail(b, "node %d (add) reads the raw click row", id);
    for (int j = 1; j < d->n_in; j++)
        if (in_rank(b, id, j) != in_rank(b, id, 0))
            return ox_fail(b, "node %d (add): inputs of ranks %d and %d", id, in_rank(b, id, 0),
                           in_rank(b, id, j));
    b->rank[id] = (signed char)in_rank(b, id, 0);
    if (d->n_in == 1) return ox_node(b, "Identity", b->name[id], 1, in_name(b, id, 0)) ? 0 : -1;
    if (d->n_in == 2)
        return ox_node(b, "Add", b->name[id], 2, in_name(b, id, 0), in_name(b, id, 1)) ? 0 : -1;
    Onnx__NodeProto *n = ox_node(b, "Sum", b->name[id], 1, in_name(b, id, 0));
    if (!n) return -1;
    char **in = ox_alloc(b, sizeof(char *) * (size_t)d->n_in);
    if (!in) return -1;
    for (int j = 0; j < d->n_in; j++) in[j] = (char *)in_name(b, id, j);
    n->n_input = (size_t)d->n_in, n->input = in;
    return 0;
}

/* AveragePool / MaxPool over an image tensor. */
static int pool(ox_t *b, int id, const char *op_type, int k, int stride, int pad, int count_pad) {
    if (reads_click_input(b, id) || in_rank(b, id, 0) != 4)
        return ox_fail(b, "node %d (%s): input is not an image tensor", id, op_of(b, id));
    Onnx__NodeProto *n = ox_node(b, op_type, b->name[id], 1, in_name(b, id, 0));
    window(b, n, k, stride, pad);
    if (count_pad >= 0) ox_attr_int(b, n, "count_include_pad", count_pad);
    b->rank[id] = 4;
    return n ? 0 : -1;
}

static int emit_avgpool3(ox_t *b, int id) { return pool(b, id, "AveragePool", 3, 1, 1, 0); }
static int emit_avgpool2(ox_t *b, int id) { return pool(b, id, "AveragePool", 2, 2, 0, 0); }

static int emit_gap(ox_t *b, int id) {
    if (reads_click_input(b, id) || in_rank(b, id, 0) != 4)
        return ox_fail(b, "node %d (gap): input is not an image tensor", id);
    b->rank[id] = 4;
    return ox_node(b, "GlobalAveragePool", b->name[id], 1, in_name(b, id, 0)) ? 0 : -1;
}

/* y = x W^T + b over the flattened input: Gemm with transB. */
static int gemm(ox_t *b, int id, const char *w, const char *bias) {
    if (reads_click_input(b, id)) return ox_fail(b, "node %d (%s) reads the raw click row", id, op_of(b, id));
    const char *x = input_as(b, id, 0, 2);
    Onnx__NodeProto *n = bias ? ox_node(b, "Gemm", b->name[id], 3, x, w, bias)
                              : ox_node(b, "Gemm", b->name[id], 2, x, w);
    ox_attr_int(b, n, "transB", 1);
    b->rank[id] = 2;
    return n ? 0 : -1;
}

static int emit_linear(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    return gemm(b, id, ox_param(b, d->p[0], 0), d->p[1] >= 0 ? ox_param(b, d->p[1], 0) : NULL);
}

/* ---- the recommender ops -------------------------------------------------------------------- */

/* Columns [c0, c0+n) of a (N,F) tensor (the whole tensor when they are all of it). */
static const char *columns(ox_t *b, int id, const char *x, int F, int c0, int n, const char *out) {
    if (c0 == 0 && n == F)
        return !out ? x : ox_node(b, "Identity", out, 1, x) ? out : NULL;
    int64_t st = c0, en = c0 + n, ax = 1;
    if (!out) out = ox_tmp(b, id, "cols");
    ox_node(b, "Slice", out, 4, x, ox_ints(b, ox_tmp(b, id, "starts"), 1, &st),
            ox_ints(b, ox_tmp(b, id, "ends"), 1, &en), ox_ints(b, ox_tmp(b, id, "axes"), 1, &ax));
    return out;
}

static int emit_slice(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    b->rank[id] = 2;
    if (reads_click_input(b, id)) {
        if (d->k + d->C > b->o->n_dense)
            return ox_fail(b, "node %d (slice): columns %d..%d are not all dense", id, d->k,
                           d->k + d->C - 1);
        return columns(b, id, "dense", b->o->n_dense, d->k, d->C, b->name[id]) ? 0 : -1;
    }
    const char *x = input_as(b, id, 0, 2);
    return columns(b, id, x, (int)per_ex(nd(b, d->in[0])), d->k, d->C, b->name[id]) ? 0 : -1;
}

/* Row f*rows + id of the (F*rows,E) table per (example, feature): Gather, with an id
 * outside [0,rows) giving a zero row as in the engine (masked, never out of bounds). */
static int emit_embed(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    int F = d->C, rows = d->stride, nd0 = b->o->n_dense;
    if (!reads_click_input(b, id) || d->k < nd0)
        return ox_fail(b, "node %d (embed): reads no categorical columns of the click row", id);
    int n_ids = (int)per_ex(nd(b, d->in[0])) - nd0;
    const char *ids = columns(b, id, "ids", n_ids, d->k - nd0, F, NULL);
    int64_t zero = 0, hi = rows, ax = 2, F64 = F, *off = ox_alloc(b, sizeof(int64_t) * (size_t)F);
    if (!off) return -1;
    for (int f = 0; f < F; f++) off[f] = (int64_t)f * rows;
    const char *z = ox_ints(b, "i64.zero", 1, &zero);
    const char *ge = ox_tmp(b, id, "ge"), *lt = ox_tmp(b, id, "lt"), *ok = ox_tmp(b, id, "valid");
    ox_node(b, "GreaterOrEqual", ge, 2, ids, z);
    ox_node(b, "Less", lt, 2, ids, ox_ints(b, ox_tmp(b, id, "rows"), 1, &hi));
    ox_node(b, "And", ok, 2, ge, lt);
    const char *row = ox_tmp(b, id, "row"), *safe = ox_tmp(b, id, "safe_row");
    ox_node(b, "Add", row, 2, ids, ox_init(b, ox_tensor_i64(b, ox_tmp(b, id, "offset"), 1, &F64, off)));
    ox_node(b, "Where", safe, 3, ok, row, z);
    const char *g = ox_tmp(b, id, "rows_read"), *ok3 = ox_tmp(b, id, "valid3");
    ox_node(b, "Gather", g, 2, ox_param_block(b, d->p[0], F * rows, d->H), safe);
    ox_node(b, "Unsqueeze", ok3, 2, ok, ox_ints(b, ox_tmp(b, id, "axis"), 1, &ax));
    float fz = 0.0f;
    int64_t one = 1;
    const char *zf = ox_init(b, ox_tensor_f(b, "f32.zero", 1, &one, &fz, 1));
    b->rank[id] = 3;
    return ox_node(b, "Where", b->name[id], 3, ok3, g, zf) ? 0 : -1;
}

static int emit_rlinear(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    int in = (int)per_ex(nd(b, d->in[0]));
    return gemm(b, id, ox_param_block(b, d->p[0], d->C, in),
                d->p[1] >= 0 ? ox_param_block(b, d->p[1], d->C, 0) : NULL);
}

/* y[n] (SO,E) = W (SO,SI) x[n] (SI,E): MatMul broadcasting W over the batch. */
static int emit_efc(ox_t *b, int id) {
    const node_t *d = nd(b, id), *X = nd(b, d->in[0]);
    const char *x = input_stack(b, id, 0);
    b->rank[id] = 3;
    return ox_node(b, "MatMul", b->name[id], 2, ox_param_block(b, d->p[0], d->C, X->C), x) ? 0 : -1;
}

/* <x_i, x_j> for i < j, row-major over the upper triangle: x x^T, flattened, gathered. */
static int emit_dot(ox_t *b, int id) {
    const node_t *X = nd(b, nd(b, id)->in[0]);
    const char *x = input_stack(b, id, 0);
    int n = X->C;
    int64_t perm[3] = {0, 2, 1}, np = (int64_t)n * (n - 1) / 2, k = 0;
    int64_t *pairs = ox_alloc(b, sizeof(int64_t) * (size_t)(np > 0 ? np : 1));
    if (!pairs) return -1;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) pairs[k++] = (int64_t)i * n + j;
    const char *t = ox_tmp(b, id, "xT"), *g = ox_tmp(b, id, "gram"), *f = ox_tmp(b, id, "gram_flat");
    ox_attr_ints(b, ox_node(b, "Transpose", t, 1, x), "perm", 3, perm);
    ox_node(b, "MatMul", g, 2, x, t);
    ox_attr_int(b, ox_node(b, "Flatten", f, 1, g), "axis", 1);
    Onnx__NodeProto *gn = ox_node(b, "Gather", b->name[id], 2, f, ox_ints(b, ox_tmp(b, id, "pairs"), (int)np, pairs));
    ox_attr_int(b, gn, "axis", 1);
    b->rank[id] = 2;
    return gn ? 0 : -1;
}

/* Over the last axis (E of an (N,F,E) tensor, F of an (N,F) one); an (N,F,1) stack is
 * normalized over F, as the engine does when E is 1. */
static int emit_ln(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    if (reads_click_input(b, id)) return ox_fail(b, "node %d (layernorm) reads the raw click row", id);
    int r = in_rank(b, id, 0), over_f = d->H * d->W == 1;
    int G = over_f ? d->C : d->H * d->W, axis = r == 3 && over_f ? 1 : -1;
    const char *g = ox_param_block(b, d->p[0], G, 0), *be = ox_param_block(b, d->p[1], G, 0);
    if (axis == 1) { /* scale and shift of shape (F,1) */
        const char *sh = ox_ints(b, ox_tmp(b, id, "shape"), 2, (int64_t[2]){G, 1});
        const char *g2 = ox_tmp(b, id, "gamma"), *b2 = ox_tmp(b, id, "beta");
        ox_node(b, "Reshape", g2, 2, g, sh);
        ox_node(b, "Reshape", b2, 2, be, sh);
        g = g2, be = b2;
    }
    Onnx__NodeProto *n = ox_node(b, "LayerNormalization", b->name[id], 3, in_name(b, id, 0), g, be);
    ox_attr_int(b, n, "axis", axis);
    ox_attr_float(b, n, "epsilon", 1e-5f);
    b->rank[id] = (signed char)r;
    return n ? 0 : -1;
}

static int emit_sigmoid(ox_t *b, int id) { return unary(b, id, "Sigmoid"); }

static int emit_mul(ox_t *b, int id) {
    const node_t *d = nd(b, id), *x = nd(b, d->in[0]), *y = nd(b, d->in[1]);
    if (reads_click_input(b, id) || in_rank(b, id, 0) != in_rank(b, id, 1) || x->C != y->C ||
        x->H != y->H || x->W != y->W)
        return ox_fail(b, "node %d (mul): inputs of different shapes", id);
    b->rank[id] = (signed char)in_rank(b, id, 0);
    return ox_node(b, "Mul", b->name[id], 2, in_name(b, id, 0), in_name(b, id, 1)) ? 0 : -1;
}

/* Per-example concatenation: of flattened vectors (row 1), or of (N,m/row,row) stacks. */
static int emit_concat(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    if (reads_click_input(b, id)) return ox_fail(b, "node %d (concat) reads the raw click row", id);
    int row = d->H * d->W;
    char **in = ox_alloc(b, sizeof(char *) * (size_t)d->n_in);
    if (!in) return -1;
    for (int j = 0; j < d->n_in; j++) {
        const node_t *X = nd(b, d->in[j]);
        if (row == 1) {
            in[j] = (char *)input_as(b, id, j, 2);
        } else if (in_rank(b, id, j) == 3 && X->H * X->W == row) {
            in[j] = (char *)in_name(b, id, j);
        } else {
            int64_t sh[3] = {0, (int64_t)(per_ex(X) / (size_t)row), row};
            char sfx[32];
            snprintf(sfx, sizeof sfx, "stack%d", j);
            const char *t = ox_tmp(b, id, sfx);
            snprintf(sfx, sizeof sfx, "shape%d", j);
            ox_node(b, "Reshape", t, 2, in_name(b, id, j), ox_ints(b, ox_tmp(b, id, sfx), 3, sh));
            in[j] = (char *)t;
        }
    }
    Onnx__NodeProto *n = ox_node(b, "Concat", b->name[id], 1, in[0]);
    if (!n) return -1;
    n->n_input = (size_t)d->n_in, n->input = in;
    ox_attr_int(b, n, "axis", 1);
    b->rank[id] = row == 1 ? 2 : 3;
    return 0;
}

/* ---- the DARTS ops ---------------------------------------------------------------------------- */

static int emit_dwconv(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    if (reads_click_input(b, id) || in_rank(b, id, 0) != 4)
        return ox_fail(b, "node %d (dwconv): input is not an image tensor", id);
    Onnx__NodeProto *n = ox_node(b, "Conv", b->name[id], 2, in_name(b, id, 0), ox_param(b, d->p[0], 0));
    window(b, n, d->k, d->stride, d->pad);
    int64_t dl[2] = {d->dil, d->dil};
    ox_attr_ints(b, n, "dilations", 2, dl);
    ox_attr_int(b, n, "group", d->C);
    b->rank[id] = 4;
    return n ? 0 : -1;
}

static int emit_maxpool3s(ox_t *b, int id) {
    return pool(b, id, "MaxPool", 3, nd(b, id)->stride, 1, -1);
}

static int emit_avgpool3s(ox_t *b, int id) {
    return pool(b, id, "AveragePool", 3, nd(b, id)->stride, 1, 0);
}

/* Two 1x1 stride-2 convs, the second over the image shifted by one pixel, concatenated. */
static int emit_facred(ox_t *b, int id) {
    const node_t *d = nd(b, id), *X = nd(b, d->in[0]);
    if (reads_click_input(b, id) || in_rank(b, id, 0) != 4)
        return ox_fail(b, "node %d (facred): input is not an image tensor", id);
    const char *x = in_name(b, id, 0);
    int64_t st[2] = {1, 1}, en[2] = {X->H, X->W}, ax[2] = {2, 3};
    const char *sh = ox_tmp(b, id, "shifted"), *a = ox_tmp(b, id, "even"), *c = ox_tmp(b, id, "odd");
    ox_node(b, "Slice", sh, 4, x, ox_ints(b, ox_tmp(b, id, "starts"), 2, st),
            ox_ints(b, ox_tmp(b, id, "ends"), 2, en), ox_ints(b, ox_tmp(b, id, "axes"), 2, ax));
    window(b, ox_node(b, "Conv", a, 2, x, ox_param(b, d->p[0], 0)), 1, 2, 0);
    window(b, ox_node(b, "Conv", c, 2, sh, ox_param(b, d->p[1], 0)), 1, 2, 0);
    ox_attr_int(b, ox_node(b, "Concat", b->name[id], 2, a, c), "axis", 1);
    b->rank[id] = 4;
    return b->failed ? -1 : 0;
}

static int emit_chcat(ox_t *b, int id) {
    const node_t *d = nd(b, id);
    if (reads_click_input(b, id)) return ox_fail(b, "node %d (chcat) reads the raw click row", id);
    char **in = ox_alloc(b, sizeof(char *) * (size_t)d->n_in);
    if (!in) return -1;
    for (int j = 0; j < d->n_in; j++) {
        if (in_rank(b, id, j) != 4) return ox_fail(b, "node %d (chcat): input is not an image tensor", id);
        in[j] = (char *)in_name(b, id, j);
    }
    Onnx__NodeProto *n = ox_node(b, "Concat", b->name[id], 1, in[0]);
    if (!n) return -1;
    n->n_input = (size_t)d->n_in, n->input = in;
    ox_attr_int(b, n, "axis", 1);
    b->rank[id] = 4;
    return 0;
}

/* The loss ops (OP_XENT, OP_BCE) have no row: the export ends at the logits. */
const ox_emit_fn ox_emit[OP_N] = {
    [OP_INPUT] = emit_input,       [OP_ZERO] = emit_zero,
    [OP_CONV] = emit_conv,         [OP_BN] = emit_bn,
    [OP_RELU] = emit_relu,         [OP_ADD] = emit_add,
    [OP_AVGPOOL3] = emit_avgpool3, [OP_AVGPOOL2] = emit_avgpool2,
    [OP_GAP] = emit_gap,           [OP_LINEAR] = emit_linear,
    [OP_EMBED] = emit_embed,       [OP_SLICE] = emit_slice,
    [OP_RLINEAR] = emit_rlinear,   [OP_EFC] = emit_efc,
    [OP_DOT] = emit_dot,           [OP_LN] = emit_ln,
    [OP_SIGMOID] = emit_sigmoid,   [OP_MUL] = emit_mul,
    [OP_CONCAT] = emit_concat,     [OP_DWCONV] = emit_dwconv,
    [OP_MAXPOOL3S] = emit_maxpool3s, [OP_AVGPOOL3S] = emit_avgpool3s,
    [OP_FACRED] = emit_facred,     [OP_CHCAT] = emit_chcat,
};
