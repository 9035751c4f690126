/* net.h — parameters in one flat buffer with named views, and a network as a small
 * graph of layer nodes (built once per architecture/path, run forward and backward).
 *
 * A search space builds its network by calling the net_* node constructors; parameters
 * are referenced by name, so a subnet built over a supernet's params_t shares (inherits)
 * its weights, and a standalone network declares only what it uses. */
#ifndef SIGEO_NET_H
#define SIGEO_NET_H

#include <stddef.h>
#include <stdint.h>
#include "base/util.h"
#include "engine/layers.h" /* BN modes */

/* Kind of a parameter view: proxies and initialization key off it. */
enum {
    PK_CONV = 0,    /* conv weight (OC,C,K,K) */
    PK_LINEAR_W,    /* linear weight (OUT,IN) */
    PK_BIAS,        /* linear bias (OUT) */
    PK_BN_GAMMA,    /* BN / LN scale (C) */
    PK_BN_BETA,     /* BN / LN shift (C) */
    PK_EMB,         /* embedding table (ROWS,DIM) */
    PK_STATE_MEAN,  /* BN running mean (C), state buffer */
    PK_STATE_VAR    /* BN running var (C), state buffer */
};

typedef struct {
    char name[96];
    int kind;
    int n_dim;
    int shape[4];
    size_t off; /* offset in floats into w/g/m (or into s for state views) */
    size_t n;   /* number of floats */
} pview_t;

/* Trainable parameters (w, grads g, momentum m) and non-trainable state s (BN running
 * statistics), each one flat buffer. The params_t owns all of its buffers. */
typedef struct {
    int n, cap;
    pview_t *v;
    size_t n_floats;
    float *w, *g, *m;
    int n_state, cap_state;
    pview_t *sv;
    size_t n_state_floats;
    float *s;
    int frozen; /* set by params_alloc: no new names may be declared after it */
    int *hash;  /* name -> view index (+1, negated for state views); private to net.c */
    int n_hash;
} params_t;

void params_init(params_t *P);
void params_free(params_t *P);
/* Declare a view by name, or return the existing one. A second declaration with another
 * shape or kind, or a new name after params_alloc, returns -1. State kinds go to sv. */
int params_declare(params_t *P, const char *name, int kind, int n_dim, const int *shape);
/* Index of a trainable view (or a state view with state=1), -1 if absent. */
int params_find(const params_t *P, const char *name, int state);
/* Allocate w, g, m, s (zeroed) and freeze the declaration list. 0 or -1. */
int params_alloc(params_t *P);
/* Kaiming-normal conv/linear weights (fan_in, ReLU gain), BN gamma 1, beta 0, biases 0,
 * running mean 0 and var 1, embeddings N(0, 0.01). Deterministic in declaration order. */
void params_init_default(params_t *P, rng_t *r);
void params_zero_grad(params_t *P);

/* Node operations: the ids index net_ops (each op's definition, below). Ids are grouped
 * by the family that defines them; nothing depends on their order. */
enum {
    /* the image ops (ops_cnn.c) */
    OP_INPUT = 0, /* (B,C,H,W) input image batch, or (B,F) dense features with H=W=1 */
    OP_ZERO,      /* all-zero tensor of a given shape (a cell node with no incoming edge) */
    OP_CONV,      /* no bias; any kernel, stride, padding */
    OP_BN,        /* batch norm; affine optional */
    OP_RELU,
    OP_ADD,       /* sum of n_in inputs of the same shape */
    OP_AVGPOOL3,  /* 3x3, stride 1, padding 1, padding not counted */
    OP_AVGPOOL2,  /* 2x2, stride 2 */
    OP_GAP,       /* global average pool to (B,C,1,1) */
    OP_LINEAR,    /* (B,IN) -> (B,OUT), optional bias */
    OP_XENT,      /* softmax cross-entropy over (B,K) logits, mean over batch, scalar out */
    /* the recommender ops (layers_rec.c) */
    OP_EMBED, OP_SLICE, OP_RLINEAR, OP_EFC, OP_DOT, OP_LN, OP_SIGMOID, OP_MUL, OP_CONCAT,
    OP_BCE,
    /* the DARTS ops (layers_darts.c) */
    OP_DWCONV, OP_MAXPOOL3S, OP_AVGPOOL3S, OP_FACRED, OP_CHCAT,
    OP_N
};

#define NET_MAX_IN 8
#define NET_MAX_BLOCKS 32

typedef struct {
    int op;
    int n_in;
    int in[NET_MAX_IN];
    int B, C, H, W;  /* output shape; H=W=1 for vectors */
    int p[3];        /* parameter view ids (conv w | bn gamma,beta | linear w,b), -1 if none */
    int st[2];       /* state view ids (bn running mean, var), -1 if none */
    int k, stride, pad, dil;
    float *y, *dy;   /* output and its gradient, owned by the net's arena; the dy of a
                      * node whose only consumer is an OP_ADD is that add's dy (the
                      * gradient passes through a sum unchanged), not a copy */
    float *aux;      /* op-specific saved values (BN mean/inv-std, x-hat, ...) */
    size_t n_aux;
    int reached;     /* set during a backward pass when dy got a contribution */
    int n_cons;      /* number of nodes reading y (set by net_finalize) */
    int dy_live;     /* backward step at which dy's buffer is first written (share_dy) */
    int dy_set;      /* dy is written whole by its first writer (no clearing needed) */
} node_t;

typedef struct net {
    params_t *P; /* not owned */
    int batch;
    int n, cap;
    node_t *nodes;
    int input;    /* id of the OP_INPUT node */
    int logits;   /* id of the node feeding the loss */
    int loss;     /* id of the loss node */
    int bn_mode;
    float bn_momentum; /* running = (1-m)*running + m*batch, PyTorch convention, 0.1 */
    float bn_eps;      /* 1e-5 */
    const float *x;    /* set by net_forward: the input batch */
    const int *labels; /* set by net_forward, length batch */
    float *arena;      /* all activations and gradients */
    size_t n_arena;
    float *ws;         /* im2col / scratch workspace */
    size_t n_ws;
    int finalized;
    size_t cap_arena, cap_ws; /* allocated floats, kept across net_reset */
    float *dy0;        /* start of the dy block in the arena, n_dy floats (net_zero_dy) */
    size_t n_dy;
    /* Set before net_finalize by callers that read no dy after net_backward (training,
     * warm-up): dy buffers are then reused across nodes whose gradients are not live at
     * the same time (smaller arena, cache-warm backward); only the input's dy and the
     * parameter gradients are meaningful after the pass. net_backward_from must follow
     * net_zero_dy as usual. Reset by net_init/net_reset. */
    int share_dy;
    /* Per pass, for callers that need less than everything: no_input_dy skips the input
     * gradient of the layers reading the input node (the image's gradient, which training
     * never reads: the stem conv's dx GEMM); no_param_grad leaves P->g untouched (a
     * Jacobian pass that only needs the input's dy). Reset by net_init/net_reset. */
    int no_input_dy, no_param_grad;
    /* Block outputs in order (the stem, each cell, each reduction block), marked by the
     * space's builder with net_mark_block: the feature maps AZ-NAS compares. */
    int block[NET_MAX_BLOCKS];
    int n_block;
} net_t;

/* For op definitions: a parameter view's weights, its gradient (NULL under
 * no_param_grad), a state view's values; NULL for view -1. */
static inline float *net_pw(const net_t *net, int v) {
    return v >= 0 ? net->P->w + net->P->v[v].off : NULL;
}
static inline float *net_pg(const net_t *net, int v) {
    return v >= 0 && !net->no_param_grad ? net->P->g + net->P->v[v].off : NULL;
}
static inline float *net_ps(const net_t *net, int v) {
    return v >= 0 ? net->P->s + net->P->sv[v].off : NULL;
}

/* ---- op definitions ------------------------------------------------------------------
 * What the graph does with a node is its op's row in net_ops: net.c's forward, backward,
 * counts and allocation only call through it. An op family (ops_cnn.c, layers_rec.c) is
 * one file defining its rows and node constructors; adding one takes ids in the enum
 * above and its rows in ops.c, and no change to net.c. */
enum {
    OPF_LOSS = 1 << 0,     /* a loss node: scalar mean loss in y[0], read by no node */
    OPF_SCALAR = 1 << 1,   /* its y is one float, not (B,C,H,W) */
    OPF_CONST = 1 << 2,    /* y is all zeros, set once by net_finalize; no gradient into it */
    OPF_PASS_DY = 1 << 3,  /* the gradient reaches every input unchanged (a sum): an input
                            * read by this node only shares its dy buffer */
    OPF_SETS_DX = 1 << 4,  /* as its input's only reader, backward writes the input's dy
                            * whole (the buffer needs no clearing) */
};

typedef struct {
    const char *name;
    unsigned flags; /* OPF_* */
    /* y (and aux) of node d from its inputs' y (the input node from net->x). Returns 1 for
     * a loss node, whose mean loss is then in d->y[0], else 0. */
    int (*forward)(net_t *net, node_t *d);
    /* Accumulates d->dy into the inputs' dy (net_in_dy says which an op may skip) and the
     * parameters' gradients (net_pg). */
    void (*backward)(net_t *net, node_t *d);
    /* Multiply-accumulates per example; NULL: none counted. */
    double (*flops)(const net_t *net, const node_t *d);
    /* Trainable floats the node really uses, for ops that use the leading block of their
     * views (NULL: each view it references counts whole, once per net). */
    size_t (*params)(const net_t *net, const node_t *d);
    /* aux floats the node needs (NULL: what its constructor set in d->n_aux). */
    size_t (*aux)(const net_t *net, const node_t *d);
    /* Workspace floats shared by all nodes (NULL: none). */
    size_t (*workspace)(const net_t *net, const node_t *d);
} op_def_t;

/* The op table (ops.c), indexed by op id; every id below OP_N has a row. */
extern const op_def_t *const net_ops[OP_N];

/* For op definitions (also net_pw, net_pg, net_ps above): the dy buffer of input X that
 * conv and linear backward write, NULL where nobody reads it (a constant node, or the
 * input node under no_input_dy). */
float *net_in_dy(const net_t *net, const node_t *X);
/* Floats of a node's y (and dy): B*C*H*W, or 1 for OPF_SCALAR ops. */
size_t net_node_size(const node_t *d);

/* An empty network for batch size B over parameters P (not owned). */
void net_init(net_t *net, params_t *P, int batch);
void net_free(net_t *net);
/* Forget the graph (nodes, finalized state) but keep the node array, activation arena and
 * workspace allocations, so the next build over the same P and batch reuses them (a
 * warm-up step per path, a candidate per record): net_finalize then allocates only when
 * the new graph needs more. The net still owns its buffers; net_free releases them. */
void net_reset(net_t *net);

/* For node constructors (ops_cnn.c, layers_rec.c): append a bare node of shape
 * (batch,C,H,W), NULL for an op without a row, when finalized or out of memory (the
 * pointer dies with the next append); and whether node x may be an input (it exists and
 * is not a loss). */
node_t *net_node_new(net_t *net, int op, int C, int H, int W);
int net_node_ok(const net_t *net, int x);

/* Node constructors of the image ops (ops_cnn.c). Each returns the new node id or -1 (bad shape, parameter clash).
 * name prefixes the parameters the node declares: "<name>.w", "<name>.b", "<name>.gamma",
 * "<name>.beta", "<name>.mean", "<name>.var". */
int net_input(net_t *net, int C, int H, int W);
int net_zero(net_t *net, int C, int H, int W);
int net_conv(net_t *net, int x, const char *name, int oc, int k, int stride, int pad);
int net_bn(net_t *net, int x, const char *name, int affine);
int net_relu(net_t *net, int x);
int net_add(net_t *net, int n_in, const int *in);
int net_avgpool3(net_t *net, int x);
int net_avgpool2(net_t *net, int x);
int net_gap(net_t *net, int x);
int net_linear(net_t *net, int x, const char *name, int out, int bias);
int net_xent(net_t *net, int logits);

/* Allocate activations (and the parameters, if P is not yet allocated: then they are
 * initialized with params_init_default using r; r may be NULL when P is allocated).
 * Activations are not zeroed (forward overwrites every y, backward zeroes dy) except
 * the all-zero nodes' y; a buffer kept by net_reset is reused when large enough.
 * 0 or -1. */
int net_finalize(net_t *net, rng_t *r);

/* Forward pass over x (B,C,H,W) with integer labels; returns the mean loss
 * (NaN if it is not finite). */
float net_forward(net_t *net, const float *x, const int *labels);
/* Backward pass from the loss: accumulates into P->g (does not zero it) and fills every
 * node's dy, including the input's (for Jacobian-based proxies). */
void net_backward(net_t *net);
/* For proxies that seed their own gradient: net_zero_dy clears every dy; the caller then
 * writes the dy of node `from` (e.g. the logits) and net_backward_from walks back from it,
 * accumulating into P->g and every upstream dy. net_backward = zero, seed loss, walk. */
void net_zero_dy(net_t *net);
/* Record node id as the output of the next block (ignored past NET_MAX_BLOCKS). */
void net_mark_block(net_t *net, int id);
void net_backward_from(net_t *net, int from);

/* Declare the parameters a node constructor would (same names, shapes and kinds), for
 * supernets that declare candidate ops without building them. 0 or -1. */
int net_declare_conv(params_t *P, const char *name, int oc, int c, int k);
int net_declare_bn(params_t *P, const char *name, int C, int affine);
int net_declare_linear(params_t *P, const char *name, int out, int in, int bias);

/* Number of trainable floats the graph uses (parameter count of the subnet), and the
 * multiply-accumulates of one forward pass for one example. */
size_t net_param_count(const net_t *net);
double net_flops(const net_t *net);
/* Mark which views the graph uses: used[i] = 1 for trainable view i (array of P->n). */
void net_used_params(const net_t *net, unsigned char *used);
/* The same without clearing used first: the views of several graphs add up. */
void net_mark_params(const net_t *net, unsigned char *used);

#endif
