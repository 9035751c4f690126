/* onnx.h — a trained network as an ONNX model (opset 17, IR version 8), serialized with
 * protobuf-c from ONNX's own onnx.proto (docs/models.md, "ONNX export").
 *
 * The graph computes what the engine computes in inference form (BN with its running
 * statistics): each engine node that reaches the logits becomes one or a few ONNX nodes
 * (the table in onnx_ops.c); nodes that do not reach the logits are left out; the loss
 * node is replaced by the outputs below.
 *
 * Images: input "x", float32 (N,C,H,W) pixels scaled to [0,1] as the data loaders scale
 *   them; the graph normalizes them with the training split's per-channel statistics,
 *   (x - mean) * (1/std) as the data feed does (1 where std is 0); outputs "logits"
 *   (N,classes) and "probs" (N,classes, Softmax).
 * Clicks: inputs "dense", float32 (N,n_dense), and "ids", int64 (N,in_ch-n_dense), the
 *   two parts of the engine's input row; outputs "logit" (N,1) and "prob" (N,1, Sigmoid).
 *   An id outside [0,rows) gives a zero embedding, as in the engine. */
#ifndef SIGEO_ONNX_H
#define SIGEO_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "engine/net.h"

#define ONNX_OPSET 17
#define ONNX_IR_VERSION 8

typedef struct {
    int clicks;           /* 1: a click model (inputs dense and ids); 0: images (input x) */
    int n_dense;          /* clicks: leading dense columns of the engine's input row */
    int n_norm;           /* images: channels of mean and std (must be the input's C);
                           * 0: no normalization in the graph */
    const float *mean, *std;
    const char *name;     /* graph name (NULL: "sigeo") */
    const char *doc;      /* model doc_string (NULL: none) */
    /* metadata_props: n_meta key/value pairs (space, arch, ...) */
    int n_meta;
    const char *const *meta_key, *const *meta_value;
} onnx_opts_t;

/* Serialize the inference graph of net (built, its parameters allocated; it need not be
 * finalized) as an ONNX ModelProto into *out (malloc'ed, n_out bytes; the caller frees
 * it). 0; -1 with err when the network cannot be expressed (an op without a mapping, a
 * shape the mapping does not take, bad options); -2 out of memory. */
int onnx_export(const net_t *net, const onnx_opts_t *o, uint8_t **out, size_t *n_out,
                char *err, size_t n_err);

#endif
