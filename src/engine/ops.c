/* ops.c — the op table: every op id's definition, from the file of its family. Adding an
 * op: its id in net.h's enum, its row (op_def_t) in its family's file, and one extern
 * line and one entry here. */
#include "engine/net.h"

/* ops_cnn.c */
extern const op_def_t op_input, op_zero, op_conv, op_bn, op_relu, op_add, op_avgpool3,
    op_avgpool2, op_gap, op_linear, op_xent;
/* layers_rec.c */
extern const op_def_t op_embed, op_slice, op_rlinear, op_efc, op_dot, op_ln, op_sigmoid, op_mul,
    op_concat, op_bce;
/* layers_darts.c */
extern const op_def_t op_dwconv, op_maxpool3s, op_avgpool3s, op_facred, op_chcat;

const op_def_t *const net_ops[OP_N] = {
    [OP_INPUT] = &op_input,
    [OP_ZERO] = &op_zero,
    [OP_CONV] = &op_conv,
    [OP_BN] = &op_bn,
    [OP_RELU] = &op_relu,
    [OP_ADD] = &op_add,
    [OP_AVGPOOL3] = &op_avgpool3,
    [OP_AVGPOOL2] = &op_avgpool2,
    [OP_GAP] = &op_gap,
    [OP_LINEAR] = &op_linear,
    [OP_XENT] = &op_xent,
    [OP_EMBED] = &op_embed,
    [OP_SLICE] = &op_slice,
    [OP_RLINEAR] = &op_rlinear,
    [OP_EFC] = &op_efc,
    [OP_DOT] = &op_dot,
    [OP_LN] = &op_ln,
    [OP_SIGMOID] = &op_sigmoid,
    [OP_MUL] = &op_mul,
    [OP_CONCAT] = &op_concat,
    [OP_BCE] = &op_bce,
    [OP_DWCONV] = &op_dwconv,
    [OP_MAXPOOL3S] = &op_maxpool3s,
    [OP_AVGPOOL3S] = &op_avgpool3s,
    [OP_FACRED] = &op_facred,
    [OP_CHCAT] = &op_chcat,
};
