/* onnx_impl.h — the graph builder shared by onnx.c (the model around the graph) and
 * onnx_ops.c (one emitter per engine op). Nothing outside src/export/ includes it.
 *
 * Everything a build allocates (protobuf-c messages, names, arrays, copied tensors) comes
 * from the builder's arena and dies with it; parameter tensors point into the net's
 * buffer, which outlives the build. A failure is sticky: after the first one every helper
 * returns NULL / -1 and the message of that first failure is kept. */
#ifndef SIGEO_ONNX_IMPL_H
#define SIGEO_ONNX_IMPL_H

#include <stdint.h>

#include <onnx.pb-c.h>

#include "export/onnx.h"

typedef struct ox_block ox_block_t;

typedef struct {
    const net_t *net;
    const onnx_opts_t *o;
    ox_block_t *arena;
    Onnx__NodeProto **node;
    size_t n_node, cap_node;
    Onnx__TensorProto **init;
    size_t n_init, cap_init;
    char **name;          /* per engine node: its output tensor (NULL: not emitted) */
    signed char *rank;    /* per engine node: rank of that tensor */
    const char *batch;    /* int64 [1] tensor holding N, made on first use */
    int failed;           /* -1 bad network, -2 out of memory */
    char *err;
    size_t n_err;
} ox_t;

/* The emitter of an engine op: adds the ONNX nodes computing node id's output into
 * b->name[id] from its inputs' tensors, and sets b->rank[id]. 0 or -1 (ox_fail). */
typedef int (*ox_emit_fn)(ox_t *b, int id);
/* One row per op id (onnx_ops.c); NULL: the op has no ONNX form (the loss ops, which the
 * export replaces by its outputs). */
extern const ox_emit_fn ox_emit[OP_N];

/* Record a failure ("node 12 (embed): ..."), return -1. */
int ox_fail(ox_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Zeroed arena memory, NULL when out of memory (recorded). */
void *ox_alloc(ox_t *b, size_t n);
/* A formatted string in the arena. */
char *ox_str(ox_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Node id's tensor name with a suffix, for the intermediate tensors of its emitter. */
const char *ox_tmp(ox_t *b, int id, const char *suffix);

/* Append node op_type(inputs...) -> out (n_in inputs, as strings; "" for an omitted
 * optional input). Returns the node for its attributes, NULL on failure. */
Onnx__NodeProto *ox_node(ox_t *b, const char *op_type, const char *out, int n_in, ...);
/* Attributes of a node (at most OX_MAX_ATTR each); a NULL node is passed through. */
#define OX_MAX_ATTR 8
void ox_attr_int(ox_t *b, Onnx__NodeProto *n, const char *name, int64_t v);
void ox_attr_float(ox_t *b, Onnx__NodeProto *n, const char *name, float v);
void ox_attr_ints(ox_t *b, Onnx__NodeProto *n, const char *name, int k, const int64_t *v);
void ox_attr_tensor(ox_t *b, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t);

/* A float32 tensor of shape dims[0..n_dims) over data (not copied: it must outlive the
 * build; copy=1 copies it into the arena). */
Onnx__TensorProto *ox_tensor_f(ox_t *b, const char *name, int n_dims, const int64_t *dims,
                               const float *data, int copy);
/* An int64 tensor (copied). */
Onnx__TensorProto *ox_tensor_i64(ox_t *b, const char *name, int n_dims, const int64_t *dims,
                                 const int64_t *data);
/* Add t as an initializer and return its name (an initializer of that name already there
 * is reused: the same parameter view read twice). NULL on failure. */
const char *ox_init(ox_t *b, Onnx__TensorProto *t);
/* The leading (r,c) block of parameter view v (a matrix of at least that size, or a
 * vector when c == 0) as an initializer named after the view (suffixed with the block's
 * size when it is not the whole view). NULL on failure. */
const char *ox_param_block(ox_t *b, int v, int r, int c);
/* Parameter view v (trainable; state = 1: a state view) whole, with its own shape. */
const char *ox_param(ox_t *b, int v, int state);
/* A small int64 vector constant as an initializer named name. */
const char *ox_ints(ox_t *b, const char *name, int k, const int64_t *v);
/* The batch size N of the graph's input as an int64 [1] tensor (made once). */
const char *ox_batch(ox_t *b);

#endif
