/* nasrec.c — the NASRec-Small space (Zhang et al., "NASRec: Weight Sharing Neural
 * Architecture Search for Recommender Systems"): encoding, sampling, mutation and the
 * network over the engine's recommender ops (layers_rec.h). docs/nasrec.md has the space,
 * the published choices and every deviation.
 *
 * Space parameters (record "cfg"; space_cfg_t slots):
 *   blocks  = N         number of blocks [4]
 *   dmax    = C         largest dense width allowed (a value of the dense list) [128]
 *   smax    = extra[0]  largest sparse width allowed (a value of the sparse list) [32]
 *   rows    = extra[1]  hash buckets per categorical feature (criteo.h) [1000]
 *   emb     = extra[2]  embedding dimension E [16]
 *   in_ch   = in_ch     input columns, dense then categorical [39: Criteo's 13 + 26]
 *   dense   = extra[3]  how many of them are dense [13]
 *   H = W = 1, classes = 2 are fixed. The tools take in_ch and dense from the data.
 *
 * Network of a candidate (sources: 0 = raw input, j >= 1 = output of block j-1; a source
 * has a dense part (B,w) and a sparse part (B,s,E); the raw input's are the 13 dense
 * features and the 26 embeddings):
 *   sparse: S_b = LN_E( sum_{j in s-mask} EFC_j(S_j) )             (B, sw, E)
 *   dense:  x_j the dense parts of the d-mask sources,
 *     fc:   D_b = ReLU(LN( sum_j W_j x_j ))                          (B, dw)
 *     gate: D_b = ReLU(LN( sum_j W_j x_j )) * sigmoid( sum_j G_j x_j )
 *     dp:   p = sum_j P_j x_j (B,E); Z = [p; S_b] (B, sw+1, E);
 *           D_b = ReLU(LN( W dot(Z) ))  with dot(Z) the pairwise inner products
 *   head:   logit = w_d . D_last + w_s . flatten(S_last) + bias; loss BCE with logits.
 * Weight sharing: every weight is named by block, op and source ("b2.fc.d1.w"); the
 * supernet declares each at the largest width (dmax rows, the source's largest width as
 * columns), and a subnet uses the leading rows/columns (layers_rec.h "sliced" layers). */
#include "spaces/nasrec.h"

#include <stdio.h>
#include <string.h>

#include "data/criteo.h"
#include "engine/layers_rec.h"
#include "engine/optim.h"

const char *const nasrec_op_names[NR_N_OPS] = {"fc", "gate", "dp"};
const int nasrec_dense_widths[NR_N_DW] = {16, 32, 64, 128, 256, 512, 768, 1024};
const int nasrec_sparse_widths[NR_N_SW] = {16, 32, 48, 64};

enum { G_OP = 0, G_DW, G_SW, G_DIN, G_SIN };

static const space_cfg_key_t cfg_keys[] = {
    {"blocks", offsetof(space_cfg_t, N), 1, NR_MAX_BLOCKS},
    {"dmax", offsetof(space_cfg_t, C), 16, 1024},
    {"smax", offsetof(space_cfg_t, extra[0]), 16, 64},
    {"rows", offsetof(space_cfg_t, extra[1]), 2, 1 << 24},
    {"emb", offsetof(space_cfg_t, extra[2]), 1, 256},
    {"in_ch", offsetof(space_cfg_t, in_ch), 2, 8192},
    {"dense", offsetof(space_cfg_t, extra[SPACE_CFG_DENSE]), 1, 4096},
};
#define N_CFG_KEYS (int)(sizeof cfg_keys / sizeof cfg_keys[0])

/* Number of widths of a list not above max. */
static int n_allowed(const int *list, int n, int max) {
    int k = 0;
    while (k < n && list[k] <= max) k++;
    return k;
}

static int cfg_ok(const space_cfg_t *c) {
    return c->N >= 1 && c->N <= NR_MAX_BLOCKS && n_allowed(nasrec_dense_widths, NR_N_DW, c->C) > 0 &&
           n_allowed(nasrec_sparse_widths, NR_N_SW, c->extra[0]) > 0 && c->extra[1] >= 2 &&
           c->extra[2] >= 1 && c->extra[SPACE_CFG_DENSE] >= 1 && c->in_ch > c->extra[SPACE_CFG_DENSE];
}

/* The key ranges keep the width lists non-empty (dmax >= 16, smax >= 16). */
static int cfg_rule(const space_cfg_t *c, char *err, size_t n_err) {
    if (c->in_ch <= c->extra[SPACE_CFG_DENSE]) {
        snprintf(err, n_err, "cfg in_ch %d must exceed dense %d (at least one categorical "
                 "column)", c->in_ch, c->extra[SPACE_CFG_DENSE]);
        return -1;
    }
    return 0;
}

/* Structural validity (the lists in full; widths against a cfg are checked by build). */
static int valid(const arch_t *a) {
    if (a->n < NR_GENES || a->n % NR_GENES || a->n / NR_GENES > NR_MAX_BLOCKS) return 0;
    for (int b = 0; b < a->n / NR_GENES; b++) {
        const int *g = a->g + b * NR_GENES;
        int full = (1 << (b + 1)) - 1;
        if (g[G_OP] < 0 || g[G_OP] >= NR_N_OPS || g[G_DW] < 0 || g[G_DW] >= NR_N_DW ||
            g[G_SW] < 0 || g[G_SW] >= NR_N_SW || g[G_DIN] < 1 || g[G_DIN] > full ||
            g[G_SIN] < 1 || g[G_SIN] > full)
            return 0;
    }
    return 1;
}

/* "0+2" into a mask of sources 0..b; -1 if malformed. *pp advances. */
static int parse_mask(const char **pp, int b) {
    const char *p = *pp;
    int m = 0;
    for (;;) {
        if (*p < '0' || *p > '9') return -1;
        int j = 0;
        while (*p >= '0' && *p <= '9') {
            j = j * 10 + (*p++ - '0');
            if (j > b) return -1;
        }
        if (m & (1 << j)) return -1;
        m |= 1 << j;
        if (*p != '+') break;
        p++;
    }
    *pp = p;
    return m;
}

static int parse_width(const char **pp, const int *list, int n) {
    int v = 0, digits = 0;
    const char *p = *pp;
    while (*p >= '0' && *p <= '9' && digits < 6) v = v * 10 + (*p++ - '0'), digits++;
    for (int i = 0; digits && i < n; i++)
        if (list[i] == v) {
            *pp = p;
            return i;
        }
    return -1;
}

static int parse(const char *s, arch_t *a, char *err, size_t n_err) {
    const char *p = s;
    memset(a, 0, sizeof *a);
    for (int b = 0;; b++) {
        if (b >= NR_MAX_BLOCKS) goto bad;
        int *g = a->g + b * NR_GENES, k;
        char pre[16];
        snprintf(pre, sizeof pre, "B%d:", b);
        if (strncmp(p, pre, strlen(pre)) != 0) goto bad;
        p += strlen(pre);
        g[G_OP] = -1;
        for (int o = 0; o < NR_N_OPS; o++) {
            size_t l = strlen(nasrec_op_names[o]);
            if (strncmp(p, nasrec_op_names[o], l) == 0 && p[l] >= '0' && p[l] <= '9') {
                g[G_OP] = o;
                p += l;
                break;
            }
        }
        if (g[G_OP] < 0) {
            snprintf(err, n_err, "unknown dense op in block %d of nasrec arch \"%.80s\" (want fc, gate or dp)", b, s);
            return -1;
        }
        if ((k = parse_width(&p, nasrec_dense_widths, NR_N_DW)) < 0) {
            snprintf(err, n_err, "bad dense width in block %d of nasrec arch \"%.80s\" (want 16 32 64 128 256 512 768 1024)", b, s);
            return -1;
        }
        g[G_DW] = k;
        if (strncmp(p, ",efc", 4) != 0) goto bad;
        p += 4;
        if ((k = parse_width(&p, nasrec_sparse_widths, NR_N_SW)) < 0) {
            snprintf(err, n_err, "bad sparse width in block %d of nasrec arch \"%.80s\" (want 16 32 48 64)", b, s);
            return -1;
        }
        g[G_SW] = k;
        if (strncmp(p, ",d=", 3) != 0) goto bad;
        p += 3;
        if ((g[G_DIN] = parse_mask(&p, b)) < 0) goto bad_in;
        if (strncmp(p, ",s=", 3) != 0) goto bad;
        p += 3;
        if ((g[G_SIN] = parse_mask(&p, b)) < 0) goto bad_in;
        a->n = (b + 1) * NR_GENES;
        if (*p == 0) return 0;
        if (*p != '|') goto bad;
        p++;
        continue;
    bad_in:
        snprintf(err, n_err, "bad inputs of block %d in nasrec arch \"%.80s\" (distinct sources 0..%d joined by +)", b, s, b);
        return -1;
    }
bad:
    snprintf(err, n_err, "malformed nasrec arch string \"%.80s\" (want B0:fc64,efc32,d=0,s=0|B1:...)", s);
    return -1;
}

static int put_mask(char *buf, size_t n, int m) {
    size_t u = 0;
    for (int j = 0; m >> j; j++)
        if (m & (1 << j)) {
            int w = snprintf(buf + u, n > u ? n - u : 0, "%s%d", u ? "+" : "", j);
            if (w < 0) return -1;
            u += (size_t)w;
        }
    return (int)u;
}

static int format(const arch_t *a, char *buf, size_t n) {
    if (!valid(a)) return -1;
    size_t u = 0;
    for (int b = 0; b < a->n / NR_GENES; b++) {
        const int *g = a->g + b * NR_GENES;
        int w = snprintf(buf + u, n > u ? n - u : 0, "%sB%d:%s%d,efc%d,d=", b ? "|" : "", b,
                         nasrec_op_names[g[G_OP]], nasrec_dense_widths[g[G_DW]],
                         nasrec_sparse_widths[g[G_SW]]);
        if (w < 0) return -1;
        u += (size_t)w;
        if ((w = put_mask(buf + u, n > u ? n - u : 0, g[G_DIN])) < 0) return -1;
        u += (size_t)w;
        if ((w = snprintf(buf + u, n > u ? n - u : 0, ",s=")) < 0) return -1;
        u += (size_t)w;
        if ((w = put_mask(buf + u, n > u ? n - u : 0, g[G_SIN])) < 0) return -1;
        u += (size_t)w;
    }
    return u < n ? 0 : -1;
}

/* Uniform over ops, allowed widths and non-empty input sets: NASRec's single-path sampling
 * (every choice uniform and independent). */
static void sample_cfg(rng_t *r, const space_cfg_t *c, arch_t *a) {
    int nd = n_allowed(nasrec_dense_widths, NR_N_DW, c->C);
    int ns = n_allowed(nasrec_sparse_widths, NR_N_SW, c->extra[0]);
    memset(a, 0, sizeof *a);
    a->n = c->N * NR_GENES;
    for (int b = 0; b < c->N; b++) {
        int *g = a->g + b * NR_GENES, full = (1 << (b + 1)) - 1;
        g[G_OP] = (int)rng_below(r, NR_N_OPS);
        g[G_DW] = (int)rng_below(r, (uint64_t)nd);
        g[G_SW] = (int)rng_below(r, (uint64_t)ns);
        g[G_DIN] = 1 + (int)rng_below(r, (uint64_t)full);
        g[G_SIN] = 1 + (int)rng_below(r, (uint64_t)full);
    }
}

static void sample(rng_t *r, arch_t *a) {
    space_cfg_t c;
    c = space_nasrec.cfg_defaults;
    sample_cfg(r, &c, a);
}

/* One gene of one block changes to another allowed value, uniformly. A parent with widths
 * beyond the cfg keeps them unless that gene is the one mutated. */
static void mutate_cfg(rng_t *r, const space_cfg_t *c, const arch_t *parent, arch_t *child) {
    *child = *parent;
    int nb = parent->n / NR_GENES;
    if (nb < 1) return;
    int nd = n_allowed(nasrec_dense_widths, NR_N_DW, c->C);
    int ns = n_allowed(nasrec_sparse_widths, NR_N_SW, c->extra[0]);
    for (int tries = 0; tries < 64; tries++) {
        int b = (int)rng_below(r, (uint64_t)nb), k = (int)rng_below(r, NR_GENES);
        int n_val = k == G_OP ? NR_N_OPS : k == G_DW ? nd : k == G_SW ? ns : (1 << (b + 1)) - 1;
        int *g = &child->g[b * NR_GENES + k], old = *g;
        int cur = k >= G_DIN ? old - 1 : old; /* masks are 1..full */
        if (n_val < 2 && !(cur >= n_val)) continue; /* nothing else to choose */
        int v = (int)rng_below(r, (uint64_t)(cur < n_val ? n_val - 1 : n_val));
        if (cur < n_val && v >= cur) v++;
        *g = k >= G_DIN ? v + 1 : v;
        return;
    }
}

static void mutate(rng_t *r, const arch_t *parent, arch_t *child) {
    space_cfg_t c;
    c = space_nasrec.cfg_defaults;
    mutate_cfg(r, &c, parent, child);
}

/* ---- the network ----------------------------------------------------------------------- */

/* The raw input's dense and categorical column counts (the data's). */
static int n_dense(const space_cfg_t *c) { return c->extra[SPACE_CFG_DENSE]; }
static int n_sparse(const space_cfg_t *c) { return c->in_ch - c->extra[SPACE_CFG_DENSE]; }
static int src_dense_max(const space_cfg_t *c, int j) { return j == 0 ? n_dense(c) : c->C; }
static int src_sparse_max(const space_cfg_t *c, int j) { return j == 0 ? n_sparse(c) : c->extra[0]; }

/* Sum of n >= 1 nodes of one shape (chained: net_add takes at most NET_MAX_IN). */
static int add_all(net_t *net, const int *part, int n) {
    if (n < 1) return -1;
    int h = part[0];
    for (int i = 1; i < n; i += NET_MAX_IN - 1) { /* net_add takes at most NET_MAX_IN */
        int in[NET_MAX_IN], m = 0;
        in[m++] = h;
        for (int q = i; q < n && m < NET_MAX_IN; q++) in[m++] = part[q];
        if ((h = net_add(net, m, in)) < 0) return -1;
    }
    return h;
}

/* sum_j W_j x_j over the sources in mask, W_j "<pre>.d<j>" with out rows. */
static int sum_proj(net_t *net, const int *dense, int mask, const char *pre, int out) {
    int part[NR_MAX_BLOCKS + 1] = {-1}, n = 0;
    char nm[96];
    for (int j = 0; mask >> j; j++) {
        if (!(mask & (1 << j))) continue;
        snprintf(nm, sizeof nm, "%s.d%d", pre, j);
        if ((part[n++] = net_rlinear(net, dense[j], nm, out, 0)) < 0) return -1;
    }
    return add_all(net, part, n);
}

/* ReLU(LN(h)) with "<pre>.ln". */
static int ln_relu(net_t *net, int h, const char *pre) {
    char nm[96];
    snprintf(nm, sizeof nm, "%s.ln", pre);
    if ((h = net_layernorm(net, h, nm)) < 0) return -1;
    return net_relu(net, h);
}

static int build(net_t *net, const space_cfg_t *c, const arch_t *a) {
    if (!cfg_ok(c) || !valid(a) || a->n != c->N * NR_GENES) return -1;
    int nd = n_allowed(nasrec_dense_widths, NR_N_DW, c->C);
    int ns = n_allowed(nasrec_sparse_widths, NR_N_SW, c->extra[0]);
    int E = c->extra[2], rows = c->extra[1];
    int dense[NR_MAX_BLOCKS + 1], sparse[NR_MAX_BLOCKS + 1];
    int x = net_input(net, c->in_ch, 1, 1);
    if (x < 0 || (dense[0] = net_slice(net, x, 0, n_dense(c))) < 0 ||
        (sparse[0] = net_embed(net, x, "emb", n_dense(c), n_sparse(c), rows, E)) < 0)
        return -1;
    char pre[64], nm[96];
    for (int b = 0; b < c->N; b++) {
        const int *g = a->g + b * NR_GENES;
        if (g[G_DW] >= nd || g[G_SW] >= ns) return -1; /* wider than the cfg allows */
        int dw = nasrec_dense_widths[g[G_DW]], sw = nasrec_sparse_widths[g[G_SW]];
        /* sparse branch: EFC over each chosen source, summed, layer-normed over E */
        int part[NR_MAX_BLOCKS + 1] = {-1}, n = 0;
        for (int j = 0; j <= b; j++) {
            if (!(g[G_SIN] & (1 << j))) continue;
            snprintf(nm, sizeof nm, "b%d.efc.s%d", b, j);
            if ((part[n++] = net_efc(net, sparse[j], nm, sw)) < 0) return -1;
        }
        int s = add_all(net, part, n);
        if (s < 0) return -1;
        snprintf(nm, sizeof nm, "b%d.efc.ln", b);
        if ((sparse[b + 1] = net_layernorm(net, s, nm)) < 0) return -1;
        /* dense branch */
        int h;
        switch (g[G_OP]) {
        case NR_FC:
            snprintf(pre, sizeof pre, "b%d.fc", b);
            if ((h = sum_proj(net, dense, g[G_DIN], pre, dw)) < 0 || (h = ln_relu(net, h, pre)) < 0)
                return -1;
            break;
        case NR_GATE: {
            snprintf(pre, sizeof pre, "b%d.gate", b);
            if ((h = sum_proj(net, dense, g[G_DIN], pre, dw)) < 0 || (h = ln_relu(net, h, pre)) < 0)
                return -1;
            snprintf(pre, sizeof pre, "b%d.gate.g", b);
            int gt = sum_proj(net, dense, g[G_DIN], pre, dw);
            if (gt < 0 || (gt = net_sigmoid(net, gt)) < 0 || (h = net_mul(net, h, gt)) < 0)
                return -1;
            break;
        }
        case NR_DP: {
            snprintf(pre, sizeof pre, "b%d.dp.proj", b);
            int p = sum_proj(net, dense, g[G_DIN], pre, E);
            int in[2] = {p, sparse[b + 1]};
            if (p < 0 || (h = net_concat(net, 2, in, E)) < 0 || (h = net_dot(net, h)) < 0)
                return -1;
            snprintf(pre, sizeof pre, "b%d.dp", b);
            snprintf(nm, sizeof nm, "b%d.dp.fc", b);
            if ((h = net_rlinear(net, h, nm, dw, 0)) < 0 || (h = ln_relu(net, h, pre)) < 0)
                return -1;
            break;
        }
        default:
            return -1;
        }
        dense[b + 1] = h;
    }
    int hd = net_rlinear(net, dense[c->N], "head.d", 1, 1);
    int hs = net_rlinear(net, sparse[c->N], "head.s", 1, 0);
    int in[2] = {hd, hs}, lg;
    if (hd < 0 || hs < 0 || (lg = net_add(net, 2, in)) < 0 || net_bce(net, lg) < 0) return -1;
    return 0;
}

static int decl(params_t *P, int kind, int r, int c, const char *fmt, int b, int j) {
    char nm[96];
    snprintf(nm, sizeof nm, fmt, b, j);
    int sh[2] = {r, c};
    return params_declare(P, nm, kind, c ? 2 : 1, sh) < 0 ? -1 : 0;
}

/* Every view at its largest shape, in the order a build would meet them. */
static int declare_supernet(params_t *P, const space_cfg_t *c) {
    if (!cfg_ok(c)) return -1;
    int E = c->extra[2], D = c->C, S = c->extra[0], bad = 0;
    int sh[2] = {n_sparse(c) * c->extra[1], E};
    if (params_declare(P, "emb.w", PK_EMB, 2, sh) < 0) return -1;
    for (int b = 0; b < c->N; b++) {
        for (int j = 0; j <= b; j++)
            bad |= decl(P, PK_LINEAR_W, S, src_sparse_max(c, j), "b%d.efc.s%d.w", b, j);
        bad |= decl(P, PK_BN_GAMMA, E, 0, "b%d.efc.ln.gamma", b, 0);
        bad |= decl(P, PK_BN_BETA, E, 0, "b%d.efc.ln.beta", b, 0);
        for (int j = 0; j <= b; j++) {
            int in = src_dense_max(c, j);
            bad |= decl(P, PK_LINEAR_W, D, in, "b%d.fc.d%d.w", b, j);
            bad |= decl(P, PK_LINEAR_W, D, in, "b%d.gate.d%d.w", b, j);
            bad |= decl(P, PK_LINEAR_W, D, in, "b%d.gate.g.d%d.w", b, j);
            bad |= decl(P, PK_LINEAR_W, E, in, "b%d.dp.proj.d%d.w", b, j);
        }
        bad |= decl(P, PK_BN_GAMMA, D, 0, "b%d.fc.ln.gamma", b, 0);
        bad |= decl(P, PK_BN_BETA, D, 0, "b%d.fc.ln.beta", b, 0);
        bad |= decl(P, PK_BN_GAMMA, D, 0, "b%d.gate.ln.gamma", b, 0);
        bad |= decl(P, PK_BN_BETA, D, 0, "b%d.gate.ln.beta", b, 0);
        bad |= decl(P, PK_LINEAR_W, D, (S + 1) * S / 2, "b%d.dp.fc.w", b, 0);
        bad |= decl(P, PK_BN_GAMMA, D, 0, "b%d.dp.ln.gamma", b, 0);
        bad |= decl(P, PK_BN_BETA, D, 0, "b%d.dp.ln.beta", b, 0);
    }
    bad |= decl(P, PK_LINEAR_W, 1, D, "head.d.w", 0, 0);
    bad |= decl(P, PK_BIAS, 1, 0, "head.d.b", 0, 0);
    bad |= decl(P, PK_LINEAR_W, 1, S * E, "head.s.w", 0, 0);
    return bad ? -1 : 0;
}

const space_t space_nasrec = {
    .name = "nasrec",
    .n_arch = -1,
    .cfg_defaults = {.N = 4, .C = 128, .in_ch = CRITEO_N_COLS, .H = 1, .W = 1, .classes = 2,
                     .extra = {[0] = 32, [1] = CRITEO_ROWS_DEFAULT, [2] = 16, [SPACE_CFG_DENSE] = CRITEO_N_DENSE}},
    .cfg_keys = cfg_keys,
    .n_cfg_keys = N_CFG_KEYS,
    .cfg_rule = cfg_rule,
    .parse = parse,
    .format = format,
    .to_index = space_no_index,
    .from_index = space_no_from_index,
    .sample = sample,
    .mutate = mutate,
    .build = build,
    .declare_supernet = declare_supernet,
    .sample_path = sample,
    .data_kind = SPACE_DATA_CLICKS,
    /* S2 ranks against the truth here and J is not validated on click data: the paper's
     * terms with l2 = 1 (docs/nasrec.md) */
    .lambda = {{1, 1, 0, 0}, {1, 1, 1, 0}},
    .sample_cfg = sample_cfg,
    .sample_path_cfg = sample_cfg,
    .mutate_cfg = mutate_cfg,
    .optimizer = OPTIMIZER_ADAGRAD, /* the NASRec recipe for click models */
};
