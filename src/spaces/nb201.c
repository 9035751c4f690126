/* nb201.c — NAS-Bench-201 cell encoding: op names, canonical string, index bijection,
 * configuration keys, sampling and mutation. The network builders live in nb201_net.c.
 *
 * A cell has 4 nodes and 6 edges j -> i (i > j), in the order 1<-0, 2<-0, 2<-1, 3<-0,
 * 3<-1, 3<-2; arch_t.g[e] is the op id on edge e. The canonical string groups the
 * incoming edges of node i: |op~0|+|op~0|op~1|+|op~0|op~1|op~2|. */
#include "spaces/nb201.h"

#include <stdio.h>
#include <string.h>

#include "engine/optim.h"

const char *const nb201_op_names[NB_N_OPS] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                              "avg_pool_3x3"};

/* Source node of each edge, in edge order. */
static const int edge_src[NB_N_EDGES] = {0, 0, 1, 0, 1, 2};
static const int edge_dst[NB_N_EDGES] = {1, 2, 2, 3, 3, 3};

int64_t nb201_index(const int ops[NB_N_EDGES]) {
    int64_t idx = 0;
    for (int j = NB_N_EDGES - 1; j >= 0; j--) idx = idx * NB_N_OPS + ops[j];
    return idx;
}

void nb201_ops(int64_t index, int ops[NB_N_EDGES]) {
    for (int j = 0; j < NB_N_EDGES; j++) {
        ops[j] = (int)(index % NB_N_OPS);
        index /= NB_N_OPS;
    }
}

static int valid(const arch_t *a) {
    if (a->n != NB_N_EDGES) return 0;
    for (int j = 0; j < NB_N_EDGES; j++)
        if (a->g[j] < 0 || a->g[j] >= NB_N_OPS) return 0;
    return 1;
}

/* Record keys of the configuration, with their bounds. */
static const space_cfg_key_t cfg_keys[] = {
    {"C", offsetof(space_cfg_t, C), 1, 4096},
    {"N", offsetof(space_cfg_t, N), 1, 64},
    {"in_ch", offsetof(space_cfg_t, in_ch), 1, 64},
    {"H", offsetof(space_cfg_t, H), 4, 4096},
    {"W", offsetof(space_cfg_t, W), 4, 4096},
    {"classes", offsetof(space_cfg_t, classes), 2, 100000},
};
#define N_CFG_KEYS (int)(sizeof cfg_keys / sizeof cfg_keys[0])

/* The two reductions halve H and W: both must stay even (28 -> 14 -> 7). */
static int cfg_rule(const space_cfg_t *c, char *err, size_t n_err) {
    if (c->H % 4 || c->W % 4) {
        snprintf(err, n_err, "input %dx%d: H and W must be multiples of 4 (two reductions "
                 "halve them)", c->H, c->W);
        return -1;
    }
    return 0;
}

static int parse(const char *s, arch_t *a, char *err, size_t n_err) {
    const char *p = s;
    int e = 0;
    a->n = NB_N_EDGES;
    for (int node = 1; node <= 3; node++) {
        if (node > 1) {
            if (strncmp(p, "+", 1) != 0) goto bad;
            p++;
        }
        for (int src = 0; src < node; src++, e++) {
            if (*p != '|') goto bad;
            p++;
            const char *tilde = strchr(p, '~');
            if (!tilde) goto bad;
            size_t len = (size_t)(tilde - p);
            int op = -1;
            for (int o = 0; o < NB_N_OPS; o++)
                if (strlen(nb201_op_names[o]) == len && memcmp(p, nb201_op_names[o], len) == 0) op = o;
            if (op < 0) {
                snprintf(err, n_err, "unknown op name '%.*s' in arch \"%.80s\"", (int)(len > 40 ? 40 : len), p,
                         s);
                return -1;
            }
            p = tilde + 1;
            if (*p != '0' + src) goto bad;
            p++;
            a->g[e] = op;
        }
        if (*p != '|') goto bad;
        p++;
    }
    if (*p) goto bad;
    return 0;
bad:
    snprintf(err, n_err, "malformed nb201 arch string \"%.80s\" (want |op~0|+|op~0|op~1|+|op~0|op~1|op~2|)", s);
    return -1;
}

static int format(const arch_t *a, char *buf, size_t n) {
    if (!valid(a)) return -1;
    size_t used = 0;
    for (int e = 0; e < NB_N_EDGES; e++) {
        const char *pre = e == 0 ? "|" : (e == 1 || e == 3) ? "+|" : "";
        int w = snprintf(buf + used, n > used ? n - used : 0, "%s%s~%d|", pre, nb201_op_names[a->g[e]],
                         edge_src[e]);
        if (w < 0) return -1;
        used += (size_t)w;
    }
    return used < n ? 0 : -1;
}

static int64_t to_index(const arch_t *a) { return valid(a) ? nb201_index(a->g) : -1; }

static int from_index(int64_t i, arch_t *a) {
    if (i < 0 || i >= NB_N_ARCH) return -1;
    a->n = NB_N_EDGES;
    nb201_ops(i, a->g);
    return 0;
}

static void sample(rng_t *r, arch_t *a) {
    a->n = NB_N_EDGES;
    for (int e = 0; e < NB_N_EDGES; e++) a->g[e] = (int)rng_below(r, NB_N_OPS);
}

/* One random edge gets a different op, uniform over the other four. */
static void mutate(rng_t *r, const arch_t *parent, arch_t *child) {
    *child = *parent;
    int e = (int)rng_below(r, NB_N_EDGES);
    int o = (int)rng_below(r, NB_N_OPS - 1);
    child->g[e] = o >= parent->g[e] ? o + 1 : o;
}

/* The index of the equivalent cell that does the least: skip and pool edges out of an
 * all-zero node (no incoming op, after this rule) set to none, as nb201_build leaves them
 * out; then every edge into a dead node (one with no path of non-none edges to node 3)
 * set to none, since such edges change nothing the loss sees. */
static int64_t live_key(const arch_t *a) {
    if (!valid(a)) return -1;
    int ops[NB_N_EDGES], zero[4] = {0, 0, 0, 0}, live[4] = {0, 0, 0, 1};
    memcpy(ops, a->g, sizeof ops);
    for (int j = 1; j < 4; j++) {
        zero[j] = 1;
        for (int e = 0; e < NB_N_EDGES; e++) {
            if (edge_dst[e] != j) continue;
            if (zero[edge_src[e]] && (ops[e] == NB_SKIP || ops[e] == NB_AVG3)) ops[e] = NB_NONE;
            if (ops[e] != NB_NONE) zero[j] = 0;
        }
    }
    for (int j = 2; j >= 0; j--)
        for (int e = 0; e < NB_N_EDGES; e++)
            if (edge_src[e] == j && ops[e] != NB_NONE && live[edge_dst[e]]) live[j] = 1;
    for (int e = 0; e < NB_N_EDGES; e++)
        if (!live[edge_dst[e]]) ops[e] = NB_NONE;
    return nb201_index(ops);
}

/* Sandwich sampling's ends. Largest: the op with the most parameters on every edge
 * (nor_conv_3x3). Smallest: the fewest parameters among the ops whose output depends on
 * their input (none, with no parameters either, would make the cell's output zero and the
 * loss constant in the input); skip_connect and avg_pool_3x3 have none, and skip also
 * computes nothing. */
static void path_ends(const space_cfg_t *c, arch_t *largest, arch_t *smallest) {
    (void)c;
    largest->n = smallest->n = NB_N_EDGES;
    for (int e = 0; e < NB_N_EDGES; e++) largest->g[e] = NB_CONV3, smallest->g[e] = NB_SKIP;
}

const space_t space_nb201 = {
    .name = "nb201",
    .n_arch = NB_N_ARCH,
    .cfg_defaults = {.C = 8, .N = 1, .in_ch = 1, .H = 28, .W = 28, .classes = 10},
    .cfg_keys = cfg_keys,
    .n_cfg_keys = N_CFG_KEYS,
    .cfg_rule = cfg_rule,
    .parse = parse,
    .format = format,
    .to_index = to_index,
    .from_index = from_index,
    .sample = sample,
    .mutate = mutate,
    .build = nb201_build,
    .declare_supernet = nb201_declare_supernet,
    .sample_path = sample, /* uniform single path over all five ops per edge */
    .data_kind = SPACE_DATA_IMAGES,
    .lambda = {{1, 50, 0, 30}, {1, 50, 10, 30}}, /* the quality study's choice */
    .lambda_fraction = 0.01,
    .live_key = live_key,
    .optimizer = OPTIMIZER_SGD,
    .path_choices = NB_N_OPS,
    .path_ends = path_ends,
    .choice_names = nb201_op_names,
    /* MeCo on the untrained supernet ranks best on the independent truth's tuning half */
    .rank_key = "scores.meco",
    .zero_shot = 1,
};
