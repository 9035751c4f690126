/* onnx.c — the ONNX model around the graph: the builder's arena and helpers
 * (onnx_impl.h), the walk over the engine nodes that reach the logits, the graph's inputs
 * and outputs, and serialization with protobuf-c. See include/export/onnx.h. */
#include "onnx_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------------------------ */

struct ox_block {
    ox_block_t *next;
    size_t used, cap;
    max_align_t data[];
};

#define OX_BLOCK (64 * 1024)

void *ox_alloc(ox_t *b, size_t n) {
    if (b->failed) return NULL;
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    ox_block_t *k = b->arena;
    if (!k || k->cap - k->used < n) {
        size_t cap = n > OX_BLOCK ? n : OX_BLOCK;
        if (!(k = malloc(sizeof *k + cap))) {
            b->failed = -2;
            snprintf(b->err, b->n_err, "out of memory building the ONNX graph");
            return NULL;
        }
        k->used = 0, k->cap = cap;
        /* a big block goes behind the current one, which keeps its free space */
        if (b->arena && cap > OX_BLOCK) {
            k->next = b->arena->next;
            b->arena->next = k;
        } else {
            k->next = b->arena;
            b->arena = k;
        }
    }
    void *p = (char *)k->data + k->used;
    k->used += n;
    memset(p, 0, n);
    return p;
}

static void arena_free(ox_t *b) {
    for (ox_block_t *k = b->arena, *nx; k; k = nx) {
        nx = k->next;
        free(k);
    }
    b->arena = NULL;
}

int ox_fail(ox_t *b, const char *fmt, ...) {
    if (b->failed) return -1;
    b->failed = -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, b->n_err, fmt, ap);
    va_end(ap);
    return -1;
}

char *ox_str(ox_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : ox_alloc(b, (size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

const char *ox_tmp(ox_t *b, int id, const char *suffix) {
    return b->name[id] ? ox_str(b, "%s/%s", b->name[id], suffix) : NULL;
}

/* Append p to a growable array of pointers (malloc'ed, freed by onnx_export). */
static int push(ox_t *b, void ***arr, size_t *n, size_t *cap, void *p) {
    if (!p || b->failed) return -1;
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        void **a = realloc(*arr, nc * sizeof *a);
        if (!a) {
            b->failed = -2;
            snprintf(b->err, b->n_err, "out of memory building the ONNX graph");
            return -1;
        }
        *arr = a, *cap = nc;
    }
    (*arr)[(*n)++] = p;
    return 0;
}

/* ---- nodes and attributes ------------------------------------------------------------------ */

Onnx__NodeProto *ox_node(ox_t *b, const char *op_type, const char *out, int n_in, ...) {
    Onnx__NodeProto *n = ox_alloc(b, sizeof *n);
    char **in = ox_alloc(b, sizeof(char *) * (n_in > 0 ? n_in : 1));
    char **o = ox_alloc(b, sizeof(char *));
    Onnx__AttributeProto **at = ox_alloc(b, sizeof *at * OX_MAX_ATTR);
    if (!n || !in || !o || !at || !out) return NULL;
    onnx__node_proto__init(n);
    va_list ap;
    va_start(ap, n_in);
    for (int i = 0; i < n_in; i++) in[i] = (char *)va_arg(ap, const char *);
    va_end(ap);
    for (int i = 0; i < n_in; i++)
        if (!in[i]) return NULL; /* a failed helper upstream */
    o[0] = (char *)out;
    n->n_input = (size_t)n_in, n->input = in;
    n->n_output = 1, n->output = o;
    n->name = (char *)out, n->op_type = (char *)op_type;
    n->attribute = at;
    return push(b, (void ***)&b->node, &b->n_node, &b->cap_node, n) ? NULL : n;
}

static Onnx__AttributeProto *attr(ox_t *b, Onnx__NodeProto *n, const char *name, int type) {
    if (!n || b->failed) return NULL;
    if (n->n_attribute == OX_MAX_ATTR) {
        ox_fail(b, "%s: more than %d attributes", n->name, OX_MAX_ATTR);
        return NULL;
    }
    Onnx__AttributeProto *a = ox_alloc(b, sizeof *a);
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1, a->type = type;
    n->attribute[n->n_attribute++] = a;
    return a;
}

void ox_attr_int(ox_t *b, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) a->has_i = 1, a->i = v;
}

void ox_attr_float(ox_t *b, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) a->has_f = 1, a->f = v;
}

void ox_attr_ints(ox_t *b, Onnx__NodeProto *n, const char *name, int k, const int64_t *v) {
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *c = a ? ox_alloc(b, sizeof *c * (size_t)k) : NULL;
    if (!c) return;
    memcpy(c, v, sizeof *c * (size_t)k);
    a->n_ints = (size_t)k, a->ints = c;
}

void ox_attr_tensor(ox_t *b, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t) {
    Onnx__AttributeProto *a =
        t ? attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR) : NULL;
    if (a) a->t = t;
}

/* ---- tensors and initializers ---------------------------------------------------------------- */

static Onnx__TensorProto *tensor(ox_t *b, const char *name, int type, int n_dims,
                                 const int64_t *dims, const void *data, size_t elem, int copy) {
    Onnx__TensorProto *t = ox_alloc(b, sizeof *t);
    int64_t *d = ox_alloc(b, sizeof *d * (size_t)(n_dims > 0 ? n_dims : 1));
    if (!t || !d || !name) return NULL;
    onnx__tensor_proto__init(t);
    size_t count = 1;
    for (int i = 0; i < n_dims; i++) d[i] = dims[i], count *= (size_t)dims[i];
    t->n_dims = (size_t)n_dims, t->dims = d;
    t->has_data_type = 1, t->data_type = type;
    t->name = (char *)name;
    /* raw_data is little-endian; onnx_export refuses to run on another byte order */
    void *p = (void *)data;
    if (copy && count) {
        if (!(p = ox_alloc(b, count * elem))) return NULL;
        memcpy(p, data, count * elem);
    }
    t->has_raw_data = 1;
    t->raw_data.len = count * elem, t->raw_data.data = p;
    return t;
}

Onnx__TensorProto *ox_tensor_f(ox_t *b, const char *name, int n_dims, const int64_t *dims,
                               const float *data, int copy) {
    return tensor(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, n_dims, dims, data,
                  sizeof(float), copy);
}

Onnx__TensorProto *ox_tensor_i64(ox_t *b, const char *name, int n_dims, const int64_t *dims,
                                 const int64_t *data) {
    return tensor(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, n_dims, dims, data,
                  sizeof(int64_t), 1);
}

const char *ox_init(ox_t *b, Onnx__TensorProto *t) {
    if (!t || b->failed) return NULL;
    for (size_t i = 0; i < b->n_init; i++)
        if (!strcmp(b->init[i]->name, t->name)) return b->init[i]->name;
    return push(b, (void ***)&b->init, &b->n_init, &b->cap_init, t) ? NULL : t->name;
}

const char *ox_param_block(ox_t *b, int v, int r, int c) {
    const params_t *P = b->net->P;
    if (v < 0 || v >= P->n) {
        ox_fail(b, "a node references no parameter view");
        return NULL;
    }
    const pview_t *pv = &P->v[v];
    int rows = pv->shape[0], ld = pv->n_dim > 1 ? (int)(pv->n / (size_t)rows) : 1;
    if (r > rows || (c ? c : 1) > ld) {
        ox_fail(b, "parameter %s is smaller than the (%d,%d) block a node reads", pv->name, r, c);
        return NULL;
    }
    const float *w = P->w + pv->off;
    int64_t dims[2] = {r, c};
    if (r == rows && (c ? c : 1) == ld) /* the whole view, in place */
        return ox_init(b, ox_tensor_f(b, pv->name, c ? 2 : 1, dims, w, 0));
    float *blk = ox_alloc(b, sizeof(float) * (size_t)r * (c ? c : 1));
    if (!blk) return NULL;
    for (int i = 0; i < r; i++)
        memcpy(blk + (size_t)i * (c ? c : 1), w + (size_t)i * ld, sizeof(float) * (c ? c : 1));
    const char *nm = c ? ox_str(b, "%s[%dx%d]", pv->name, r, c) : ox_str(b, "%s[%d]", pv->name, r);
    return ox_init(b, ox_tensor_f(b, nm, c ? 2 : 1, dims, blk, 0));
}

const char *ox_param(ox_t *b, int v, int state) {
    const params_t *P = b->net->P;
    if (v < 0 || v >= (state ? P->n_state : P->n)) {
        ox_fail(b, "a node references no parameter view");
        return NULL;
    }
    const pview_t *pv = state ? &P->sv[v] : &P->v[v];
    int64_t dims[4];
    for (int i = 0; i < pv->n_dim; i++) dims[i] = pv->shape[i];
    return ox_init(b, ox_tensor_f(b, pv->name, pv->n_dim, dims,
                                  (state ? P->s : P->w) + pv->off, 0));
}

const char *ox_ints(ox_t *b, const char *name, int k, const int64_t *v) {
    int64_t d = k;
    return ox_init(b, ox_tensor_i64(b, name, 1, &d, v));
}

const char *ox_batch(ox_t *b) {
    if (b->batch) return b->batch;
    Onnx__NodeProto *n = ox_node(b, "Shape", "N", 1, b->o->clicks ? "dense" : "x");
    ox_attr_int(b, n, "start", 0);
    ox_attr_int(b, n, "end", 1);
    return b->batch = n ? "N" : NULL;
}

/* ---- the graph -------------------------------------------------------------------------------- */

/* A graph input or output: elem_type with shape (N, dims...), N symbolic. */
static Onnx__ValueInfoProto *value_info(ox_t *b, const char *name, int elem, int n_dims,
                                        const int *dims) {
    Onnx__ValueInfoProto *v = ox_alloc(b, sizeof *v);
    Onnx__TypeProto *tp = ox_alloc(b, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = ox_alloc(b, sizeof *tt);
    Onnx__TensorShapeProto *sh = ox_alloc(b, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dv = ox_alloc(b, sizeof *dv * (size_t)(n_dims + 1));
    if (!v || !tp || !tt || !sh || !dv) return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i <= n_dims; i++) {
        if (!(dv[i] = ox_alloc(b, sizeof *dv[i]))) return NULL;
        onnx__tensor_shape_proto__dimension__init(dv[i]);
        if (i == 0) {
            dv[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dv[i]->dim_param = "N";
        } else {
            dv[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dv[i]->dim_value = dims[i - 1];
        }
    }
    sh->n_dim = (size_t)n_dims + 1, sh->dim = dv;
    tt->has_elem_type = 1, tt->elem_type = elem, tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, tp->tensor_type = tt;
    v->name = (char *)name, v->type = tp;
    return v;
}

/* live[i] = 1 for the nodes the logits depend on. */
static void mark_live(const net_t *net, unsigned char *live) {
    memset(live, 0, (size_t)net->n);
    live[net->logits] = 1;
    for (int i = net->logits; i >= 0; i--) {
        if (!live[i]) continue;
        for (int j = 0; j < net->nodes[i].n_in; j++) live[net->nodes[i].in[j]] = 1;
    }
}

/* Every live node through its op's emitter, in the net's (topological) order. */
static int emit_nodes(ox_t *b, const unsigned char *live) {
    const net_t *net = b->net;
    const char *logits = b->o->clicks ? "logit" : "logits";
    for (int i = 0; i < net->n; i++) {
        if (!live[i]) continue;
        const node_t *d = &net->nodes[i];
        for (int j = 0; j < d->n_in; j++)
            if (d->in[j] >= i)
                return ox_fail(b, "node %d (%s): input %d is not an earlier node", i,
                               net_ops[d->op]->name, d->in[j]);
        b->name[i] = i == net->logits ? (char *)logits : ox_str(b, "%s_%d", net_ops[d->op]->name, i);
        if (!ox_emit[d->op])
            return ox_fail(b, "node %d: op %s has no ONNX form", i, net_ops[d->op]->name);
        if (ox_emit[d->op](b, i) || b->failed) return -1;
    }
    return 0;
}

/* Inputs, outputs and the output node (Softmax or Sigmoid) of the graph. */
static int io_of(ox_t *b, Onnx__GraphProto *g) {
    const net_t *net = b->net;
    const node_t *in = &net->nodes[net->input], *L = &net->nodes[net->logits];
    int K = L->C * L->H * L->W;
    if (b->rank[net->logits] != 2) return ox_fail(b, "the logits are not a (N,K) tensor");
    Onnx__ValueInfoProto **vi = ox_alloc(b, sizeof *vi * 2), **vo = ox_alloc(b, sizeof *vo * 2);
    if (!vi || !vo) return -1;
    if (b->o->clicks) {
        int nd = b->o->n_dense, ns = in->C * in->H * in->W - nd;
        vi[0] = value_info(b, "dense", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &nd);
        vi[1] = value_info(b, "ids", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, &ns);
        g->n_input = 2;
        ox_node(b, "Sigmoid", "prob", 1, "logit");
        vo[0] = value_info(b, "logit", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &K);
        vo[1] = value_info(b, "prob", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &K);
    } else {
        int dims[3] = {in->C, in->H, in->W};
        vi[0] = value_info(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 3, dims);
        g->n_input = 1;
        ox_attr_int(b, ox_node(b, "Softmax", "probs", 1, "logits"), "axis", 1);
        vo[0] = value_info(b, "logits", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &K);
        vo[1] = value_info(b, "probs", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &K);
    }
    g->input = vi, g->output = vo, g->n_output = 2;
    return b->failed ? -1 : 0;
}

static int check_net(const net_t *net, const onnx_opts_t *o, char *err, size_t n_err) {
    const uint16_t one = 1;
    if (*(const uint8_t *)&one != 1) {
        snprintf(err, n_err, "ONNX tensors are little-endian; this machine is not");
        return -1;
    }
    if (net->input < 0 || net->logits < 0 || !net->P || !net->P->w) {
        snprintf(err, n_err, "the network has no input, no logits or no parameters");
        return -1;
    }
    const node_t *in = &net->nodes[net->input];
    if (o->clicks && (o->n_dense < 0 || o->n_dense >= in->C * in->H * in->W)) {
        snprintf(err, n_err, "%d dense columns of an input row of %d", o->n_dense,
                 in->C * in->H * in->W);
        return -1;
    }
    if (!o->clicks && o->n_norm && (o->n_norm != in->C || !o->mean || !o->std)) {
        snprintf(err, n_err, "normalization statistics for %d channels, the input has %d",
                 o->n_norm, in->C);
        return -1;
    }
    return 0;
}

/* The model around graph g, packed into *out. */
static int pack_model(ox_t *b, Onnx__GraphProto *g, uint8_t **out, size_t *n_out) {
    const onnx_opts_t *o = b->o;
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    Onnx__OperatorSetIdProto ops = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opp = &ops;
    ops.domain = "", ops.has_version = 1, ops.version = ONNX_OPSET;
    m.has_ir_version = 1, m.ir_version = ONNX_IR_VERSION;
    m.n_opset_import = 1, m.opset_import = &opp;
    m.producer_name = "sigeo";
    m.doc_string = (char *)o->doc;
    m.graph = g;
    Onnx__StringStringEntryProto **kv = ox_alloc(b, sizeof *kv * (size_t)(o->n_meta + 1));
    for (int i = 0; kv && i < o->n_meta; i++) {
        if (!(kv[i] = ox_alloc(b, sizeof *kv[i]))) break;
        onnx__string_string_entry_proto__init(kv[i]);
        kv[i]->key = (char *)o->meta_key[i], kv[i]->value = (char *)o->meta_value[i];
    }
    if (b->failed) return b->failed;
    m.n_metadata_props = (size_t)o->n_meta, m.metadata_props = kv;
    size_t n = onnx__model_proto__get_packed_size(&m);
    if (!(*out = malloc(n ? n : 1))) {
        snprintf(b->err, b->n_err, "out of memory packing the ONNX model (%zu bytes)", n);
        return -2;
    }
    *n_out = onnx__model_proto__pack(&m, *out);
    return 0;
}

int onnx_export(const net_t *net, const onnx_opts_t *o, uint8_t **out, size_t *n_out,
                char *err, size_t n_err) {
    *out = NULL, *n_out = 0;
    if (check_net(net, o, err, n_err)) return -1;
    ox_t b = {.net = net, .o = o, .err = err, .n_err = n_err};
    unsigned char *live = malloc((size_t)net->n);
    b.name = calloc((size_t)net->n, sizeof *b.name);
    b.rank = calloc((size_t)net->n, 1);
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    int rc;
    if (!live || !b.name || !b.rank) {
        snprintf(err, n_err, "out of memory building the ONNX graph");
        rc = -2;
    } else {
        mark_live(net, live);
        if (!emit_nodes(&b, live) && !io_of(&b, &g)) {
            g.name = (char *)(o->name ? o->name : "sigeo");
            g.n_node = b.n_node, g.node = b.node;
            g.n_initializer = b.n_init, g.initializer = b.init;
        }
        rc = b.failed ? b.failed : pack_model(&b, &g, out, n_out);
    }
    arena_free(&b);
    free(b.node);
    free(b.init);
    free(live);
    free(b.name);
    free(b.rank);
    return rc;
}
