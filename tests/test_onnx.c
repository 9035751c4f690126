/* test_onnx.c — the ONNX graph builder on hand-built networks, read back with protobuf-c:
 * model header, graph inputs and outputs, the node sequence of each op's mapping, dead
 * nodes left out, parameters stored bit for bit (leading blocks of wider views), the
 * normalization constants, and refusals (bad options, no logits). Numbers against a
 * runtime: tests/t_onnx.sh. */
#include "export/onnx.h"

#include <onnx.pb-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/layers_rec.h"

static int n_fail;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    if (!ok) n_fail++;
}

static const Onnx__TensorProto *init_of(const Onnx__GraphProto *g, const char *name) {
    for (size_t i = 0; i < g->n_initializer; i++)
        if (!strcmp(g->initializer[i]->name, name)) return g->initializer[i];
    return NULL;
}

static const Onnx__AttributeProto *attr_of(const Onnx__NodeProto *n, const char *name) {
    for (size_t i = 0; i < n->n_attribute; i++)
        if (!strcmp(n->attribute[i]->name, name)) return n->attribute[i];
    return NULL;
}

/* The op types of g's nodes joined by spaces. */
static void op_list(const Onnx__GraphProto *g, char *buf, size_t n) {
    buf[0] = 0;
    for (size_t i = 0; i < g->n_node; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s", i ? " " : "", g->node[i]->op_type);
    }
}

static int dims_are(const Onnx__ValueInfoProto *v, const char *name, int n, const int *d) {
    const Onnx__TensorShapeProto *s = v->type->tensor_type->shape;
    if (strcmp(v->name, name) || (int)s->n_dim != n + 1 || strcmp(s->dim[0]->dim_param, "N")) return 0;
    for (int i = 0; i < n; i++)
        if (s->dim[i + 1]->dim_value != d[i]) return 0;
    return 1;
}

static Onnx__ModelProto *export_(const net_t *net, const onnx_opts_t *o) {
    uint8_t *buf;
    size_t n;
    char err[256];
    if (onnx_export(net, o, &buf, &n, err, sizeof err)) {
        printf("    export failed: %s\n", err);
        return NULL;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, buf);
    free(buf);
    return m;
}

static void test_image(void) {
    params_t P;
    net_t net;
    params_init(&P);
    net_init(&net, &P, 2);
    int x = net_input(&net, 2, 4, 4);
    int h = net_conv(&net, x, "c", 3, 3, 1, 1);
    int dead = net_conv(&net, x, "unused", 3, 1, 1, 0); /* reaches nothing */
    h = net_relu(&net, net_bn(&net, h, "b", 1));
    int p = net_avgpool3(&net, h);
    int in[2] = {h, p};
    h = net_linear(&net, net_gap(&net, net_add(&net, 2, in)), "fc", 5, 1);
    rng_t r;
    rng_seed(&r, 1);
    check(dead >= 0 && net_xent(&net, h) >= 0 && net_finalize(&net, &r) == 0, "image net built");
    float mean[2] = {0.5f, 0.25f}, sd[2] = {0.25f, 0.0f};
    const char *k[1] = {"arch"}, *v[1] = {"test"};
    onnx_opts_t o = {.n_norm = 2, .mean = mean, .std = sd, .doc = "doc", .n_meta = 1,
                     .meta_key = k, .meta_value = v};
    Onnx__ModelProto *m = export_(&net, &o);
    check(m != NULL, "image net exported and read back");
    if (!m) return;
    const Onnx__GraphProto *g = m->graph;
    check(m->ir_version == ONNX_IR_VERSION && m->n_opset_import == 1 &&
              m->opset_import[0]->version == ONNX_OPSET && !strcmp(m->producer_name, "sigeo") &&
              m->n_metadata_props == 1 && !strcmp(m->metadata_props[0]->value, "test"),
          "IR version 8, opset 17, producer, metadata");
    int xd[3] = {2, 4, 4}, kd[1] = {5};
    check(g->n_input == 1 && dims_are(g->input[0], "x", 3, xd) && g->n_output == 2 &&
              dims_are(g->output[0], "logits", 1, kd) && dims_are(g->output[1], "probs", 1, kd),
          "input x (N,2,4,4), outputs logits and probs (N,5)");
    char ops[512];
    op_list(g, ops, sizeof ops);
    check(!strcmp(ops, "Sub Mul Conv BatchNormalization Relu AveragePool Add GlobalAveragePool "
                       "Flatten Gemm Softmax"), ops);
    check(!init_of(g, "unused.w"), "the dead conv and its weight are left out");
    const Onnx__TensorProto *w = init_of(g, "c.w"), *s = init_of(g, "norm.inv_std");
    int pw = params_find(&P, "c.w", 0);
    check(w && w->n_dims == 4 && w->dims[0] == 3 && w->dims[3] == 3 &&
              w->raw_data.len == P.v[pw].n * 4 && !memcmp(w->raw_data.data, P.w + P.v[pw].off, w->raw_data.len),
          "conv weight stored bit for bit, shape (3,2,3,3)");
    const float *sv = s ? (const float *)s->raw_data.data : NULL;
    check(sv && sv[0] == 4.0f && sv[1] == 1.0f, "1/std per channel, 1 for a constant channel");
    const Onnx__NodeProto *bn = g->node[3], *ap = g->node[5], *gm = g->node[9];
    check(bn->n_input == 5 && !strcmp(bn->input[3], "b.mean") && !strcmp(bn->input[4], "b.var") &&
              attr_of(bn, "epsilon") && attr_of(bn, "epsilon")->f == net.bn_eps,
          "BatchNormalization reads the running statistics, eps as the engine's");
    check(attr_of(ap, "count_include_pad") && attr_of(ap, "count_include_pad")->i == 0 &&
              attr_of(ap, "pads")->n_ints == 4 && attr_of(ap, "pads")->ints[0] == 1,
          "3x3 AveragePool pads 1 without counting them");
    check(attr_of(gm, "transB") && attr_of(gm, "transB")->i == 1 && gm->n_input == 3 &&
              !strcmp(g->node[10]->input[0], "logits") && !strcmp(g->node[10]->output[0], "probs"),
          "Gemm with transB and bias, Softmax of the logits");
    onnx__model_proto__free_unpacked(m, NULL);

    uint8_t *buf = (uint8_t *)1;
    size_t n = 1;
    char err[256] = "";
    o.n_norm = 3;
    check(onnx_export(&net, &o, &buf, &n, err, sizeof err) == -1 && !buf && !n &&
              strstr(err, "3 channels"), "statistics for another channel count refused");
    net_free(&net);
    params_free(&P);
}

static void test_clicks(void) {
    params_t P;
    net_t net;
    params_init(&P);
    int wide[2] = {8, 2};
    check(params_declare(&P, "r.w", PK_LINEAR_W, 2, wide) >= 0, "a wider view declared first");
    net_init(&net, &P, 3);
    int x = net_input(&net, 6, 1, 1);
    int d = net_rlinear(&net, net_slice(&net, x, 0, 2), "r", 3, 0);
    int e = net_layernorm(&net, net_efc(&net, net_embed(&net, x, "emb", 2, 4, 5, 3), "e", 2), "ln");
    int in[2] = {d, net_rlinear(&net, e, "s", 3, 0)};
    int h = net_rlinear(&net, net_sigmoid(&net, net_add(&net, 2, in)), "head", 1, 1);
    rng_t r;
    rng_seed(&r, 2);
    check(net_bce(&net, h) >= 0 && net_finalize(&net, &r) == 0, "click net built");
    onnx_opts_t o = {.clicks = 1, .n_dense = 2};
    Onnx__ModelProto *m = export_(&net, &o);
    check(m != NULL, "click net exported and read back");
    if (!m) return;
    const Onnx__GraphProto *g = m->graph;
    int dd[1] = {2}, id[1] = {4}, one[1] = {1};
    check(g->n_input == 2 && dims_are(g->input[0], "dense", 1, dd) &&
              dims_are(g->input[1], "ids", 1, id) &&
              g->input[1]->type->tensor_type->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 &&
              dims_are(g->output[0], "logit", 1, one) && dims_are(g->output[1], "prob", 1, one),
          "inputs dense (N,2) and ids (N,4) int64, outputs logit and prob (N,1)");
    char ops[512];
    op_list(g, ops, sizeof ops);
    check(!strcmp(ops, "Identity Gemm GreaterOrEqual Less And Add Where Gather Unsqueeze Where MatMul "
                       "LayerNormalization Flatten Gemm Add Sigmoid Gemm Sigmoid"), ops);
    const Onnx__TensorProto *blk = init_of(g, "r.w[3x2]");
    int pv = params_find(&P, "r.w", 0);
    check(blk && blk->dims[0] == 3 && blk->dims[1] == 2 &&
              !memcmp(blk->raw_data.data, P.w + P.v[pv].off, 6 * sizeof(float)),
          "the leading (3,2) block of the (8,2) view");
    const Onnx__TensorProto *off = init_of(g, "embed_3/offset");
    check(off && off->raw_data.len == 4 * 8 && ((const int64_t *)off->raw_data.data)[3] == 15,
          "feature f reads rows f*rows of the stacked table");
    onnx__model_proto__free_unpacked(m, NULL);

    uint8_t *buf;
    size_t n;
    char err[256];
    o.n_dense = 6;
    check(onnx_export(&net, &o, &buf, &n, err, sizeof err) == -1, "n_dense = the whole row refused");
    o.n_dense = 3; /* the embedding would read a dense column */
    check(onnx_export(&net, &o, &buf, &n, err, sizeof err) == -1 && strstr(err, "embed"),
          "an embedding over dense columns refused, naming the node");
    net.logits = -1;
    o.n_dense = 2;
    check(onnx_export(&net, &o, &buf, &n, err, sizeof err) == -1, "a net without logits refused");
    net_free(&net);
    params_free(&P);
}

int main(void) {
    test_image();
    test_clicks();
    printf("%s\n", n_fail ? "FAILED" : "all ok");
    return n_fail ? 1 : 0;
}
