/* proxy.h — training-free architecture scores over one candidate network: SiGeo and the
 * zero-cost baselines (docs/proxies.md has every definition and its sign).
 *
 * One function per proxy, one table listing them. A proxy scores the network a caller
 * built over a WORKING parameter set that has the supernet's views; before it runs, the
 * proxy copies the inherited weights (and BN state) of the views the network uses from
 * the supernet, so proxies are independent of each other and of their order, and the
 * supernet itself is never written. Every score is "higher is better" except the two
 * losses (sigeo_loss, oneshot_loss). */
#ifndef SIGEO_PROXY_H
#define SIGEO_PROXY_H

#include <stddef.h>
#include "engine/net.h"
#include "spaces/space.h"

#define PROXY_MAX_KEYS 5
/* latency's defaults: the second batch size, and timed runs per size (their median) */
#define PROXY_LAT_BATCH 64
#define PROXY_LAT_REPEATS 5

/* Everything a proxy reads. The caller owns every pointer; the proxies write only
 * net's activations, P (w, g, m, s of the used views) and the private cache fields. */
typedef struct {
    net_t *net;           /* the candidate's finalized network over P */
    params_t *P;          /* working parameters (net->P) */
    const params_t *src;  /* supernet parameters: same views, same order as P */
    const unsigned char *used; /* used[i] != 0: trainable view i is used (P->n entries) */
    int c, h, w;          /* image shape */
    /* Scoring batches: n_batches consecutive batches of net->batch examples,
     * x (n_batches*batch, c,h,w) normalized, y their labels. */
    int n_batches;
    const float *x;
    const int *y;
    /* One-shot baseline: n_bn batches for recomputing BN statistics and n_eval batches
     * evaluated with them, disjoint from the scoring batches. */
    int n_bn, n_eval;
    const float *x_bn, *x_eval;
    const int *y_bn, *y_eval;
    /* The candidate itself, for a proxy that builds it again at other batch sizes
     * (latency); set by the caller per record, like net. */
    const space_t *space;
    const space_cfg_t *cfg;
    const arch_t *arch;
    int lat_batch, lat_repeats; /* latency: the second batch size and the timed runs per
                                 * size (0: PROXY_LAT_BATCH, PROXY_LAT_REPEATS) */
    float step_lr;        /* SiGeo's plain-SGD step after each batch */
    double lambda[4];     /* SiGeo's l1, l2, l3 and l4 (weight of the Jacobian term J) */
    /* private caches, valid for the current candidate only (proxy_ctx_reset drops them):
     * have_batch0: P holds the inherited weights, P->g the gradient of batch 0 and the
     * net's activations that batch's forward/backward (shared by grad_norm, snip, fisher,
     * naswot, grasp); g0: the used weights' batch-0 gradient at the inherited weights
     * (SiGeo's first row, which is also ZiCo's); have_jacov: jacov's score, flatness
     * and batch-0 loss (the jacov proxy's, and SiGeo's J, which takes it from the
     * forward pass of its own first batch: same weights, same batch). */
    int have_batch0, have_g0, have_jacov, jacov_flat;
    double loss0, jacov_s, jacov_loss;
    float *g0;
    size_t n_g0;
    /* latency's two networks (batch 1, batch lat_nb) over P, kept from one candidate to
     * the next so their activation memory is reused (net_reset), NULL until first used */
    net_t *lat_net;
    int lat_nb;
} proxy_ctx_t;

/* What one proxy produced: n keys (relative to "scores.") and their values; a
 * non-finite value comes with a reason in err. */
typedef struct {
    int n;
    const char *key[PROXY_MAX_KEYS];
    double v[PROXY_MAX_KEYS];
    char err[160];
} proxy_out_t;

/* What a proxy needs, declared in its row; score-sigeo plans each candidate's network
 * from these flags (proxy_plan) instead of knowing proxies by name. */
enum {
    PROXY_DEFAULT = 1 << 0,   /* scored when --proxies is not given */
    /* Reads only the nodes that reach the loss: operations whose output never does
     * (space.h live_key) change nothing, so score-sigeo may reuse the outputs of a
     * candidate with the same live key. Not so for params, flops (they count those
     * operations) and naswot (it reads every ReLU). */
    PROXY_LIVE_ONLY = 1 << 1,
    /* Reads nodes' dy after a backward pass (not only the input's and the parameter
     * gradients), so the dy buffers may not be shared between nodes (net.h share_dy). */
    PROXY_NODE_DY = 1 << 2,
    /* Reads the input's gradient: it turns net->no_input_dy off for its own Jacobian
     * pass, so the shared passes may skip the input gradient. */
    PROXY_INPUT_DY = 1 << 3,
    /* Reads the shared batch-0 forward/backward at the inherited weights (proxy_ctx_t
     * have_batch0), computed once per candidate for every proxy that has this flag. */
    PROXY_BATCH0 = 1 << 4,
    /* Measures time on this machine: not deterministic, so `--proxies all` (whose
     * outputs are compared byte for byte) leaves it out; it runs when named. */
    PROXY_TIMED = 1 << 5,
};

typedef struct {
    const char *name;     /* name for --proxies, and the main key */
    unsigned flags;       /* PROXY_* */
    const char *doc;      /* one line: definition and sign convention */
    /* Fills out. Returns 0, or -1 on an internal failure (out of memory). A score that
     * is not finite is not a failure: its value is NaN and out->err says why. A proxy that
     * is not defined for the network's operations returns 0 with no keys. */
    int (*fn)(proxy_ctx_t *c, proxy_out_t *out);
} proxy_t;

/* Upper bound on the rows of the table (per-proxy arrays in callers are this long) and
 * on the score keys one candidate gets. */
#define PROXY_MAX 64
#define PROXY_MAX_SCORES 64

/* The table (src/proxies/table.c), in the order proxies run, NULL-terminated. A proxy is
 * one file defining its proxy_t plus one row here. */
extern const proxy_t *const proxy_table[];
/* Number of rows, and the row of a name (-1 if none). */
int proxy_count(void);
int proxy_index(const char *name);
const proxy_t *proxy_find(const char *name);

/* How a caller runs the selected proxies (on[i] != 0: row i selected): derived from
 * their flags. */
typedef struct {
    int share_dy;    /* no selected proxy reads a node's dy: net.h share_dy may be on */
    int no_input_dy; /* shared passes skip the input gradient (PROXY_INPUT_DY readers turn
                      * it on for their own pass) */
    int n_live_only; /* selected PROXY_LIVE_ONLY proxies */
} proxy_plan_t;
void proxy_plan(const unsigned char *on, proxy_plan_t *plan);

/* Start scoring a new candidate (the net was rebuilt): drops cached state. */
void proxy_ctx_reset(proxy_ctx_t *c);
/* Frees the caches (the context's other pointers belong to the caller). */
void proxy_ctx_free(proxy_ctx_t *c);
/* Copy the used views' weights and the net's BN state from the supernet into P.
 * Functions that change P or the activations afterwards clear have_batch0. */
void proxy_restore(proxy_ctx_t *c);

/* Building blocks, exposed for the tests. */
/* Per-weight gradients of every used conv/linear weight over the n_batches scoring
 * batches, with a plain-SGD step of lr after each batch when lr != 0 (BN_BATCH mode).
 * G (n_batches, n_w) receives the gradients in view order; *loss the last batch's loss.
 * n_w is proxy_weight_count(c). Restores the inherited weights first. 0 or -1. */
size_t proxy_weight_count(const proxy_ctx_t *c);
int proxy_batch_grads(proxy_ctx_t *c, float lr, float *G, double *loss);
/* SiGeo's and ZiCo's S1 from such gradients: sum over layers of log(sum_i mean|g|/std)
 * (population std over the K batches, zero-std entries and zero-sum layers left out). */
double proxy_s1(const proxy_ctx_t *c, const float *G, int K);
/* S2 = 2 log(sum_m |sum_i (sum_b g_bi) theta_i| + 1e-5) with theta the current P->w. */
double proxy_s2(const proxy_ctx_t *c, const float *G, int K);

#endif
