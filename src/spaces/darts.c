/* darts.c — DARTS genotypes: the text the DARTS code prints, parsed and printed exactly,
 * configuration keys, uniform sampling and mutation. The network lives in darts_net.c.
 *
 * Canonical string (DARTS genotypes.py, Python's repr of its Genotype namedtuple):
 *   Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3,
 *   4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])
 * The parser also takes double quotes, any spacing, and range(2, 6) for a concat (as
 * PC-DARTS' genotypes.py writes it); it prints the canonical form, pairs in their order. */
#include "spaces/darts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *const darts_op_names[DA_N_OPS] = {
    "none",         "max_pool_3x3", "avg_pool_3x3", "skip_connect",
    "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"};

static const char *const cell_names[2] = {"normal", "reduce"};

/* C: channels of the first cells (the stem has 3C); N: cells (layers), reductions at N/3
 * and 2N/3; H and W multiples of 4 (two factorized reduces). */
static const space_cfg_key_t cfg_keys[] = {
    {"C", offsetof(space_cfg_t, C), 2, 4096},
    {"N", offsetof(space_cfg_t, N), 1, 64},
    {"in_ch", offsetof(space_cfg_t, in_ch), 1, 64},
    {"H", offsetof(space_cfg_t, H), 4, 4096},
    {"W", offsetof(space_cfg_t, W), 4, 4096},
    {"classes", offsetof(space_cfg_t, classes), 2, 100000},
};
#define N_CFG_KEYS (int)(sizeof cfg_keys / sizeof cfg_keys[0])

static int cfg_rule(const space_cfg_t *c, char *err, size_t n_err) {
    if (c->C % 2 || c->H % 4 || c->W % 4) {
        snprintf(err, n_err, "darts \"cfg\": C must be even and H, W multiples of 4 "
                 "(factorized reduce halves them twice), got C %d, %dx%d", c->C, c->H, c->W);
        return -1;
    }
    return 0;
}

/* ---- parsing ---------------------------------------------------------------------------- */

typedef struct {
    const char *s, *p; /* whole string, cursor */
    char *err;
    size_t n_err;
} cur_t;

static void ws(cur_t *c) {
    while (isspace((unsigned char)*c->p)) c->p++;
}

/* Consume the literal t (after spaces); 0 or -1. */
static int lit(cur_t *c, const char *t) {
    ws(c);
    size_t n = strlen(t);
    if (strncmp(c->p, t, n)) return -1;
    c->p += n;
    return 0;
}

static int num(cur_t *c, int *v) {
    ws(c);
    if (!isdigit((unsigned char)*c->p)) return -1;
    long x = 0;
    while (isdigit((unsigned char)*c->p) && x < 1000) x = x * 10 + (*c->p++ - '0');
    *v = (int)x;
    return 0;
}

static int syntax(cur_t *c, const char *want) {
    snprintf(c->err, c->n_err, "malformed darts genotype: expected %s at offset %d, near \"%.24s\"",
             want, (int)(c->p - c->s), c->p);
    return -1;
}

/* ('op', input): op id and input into g[0], g[1]. */
static int pair(cur_t *c, int cell, int k, int *g) {
    if (lit(c, "(")) return syntax(c, "'('");
    ws(c);
    char q = *c->p;
    if (q != '\'' && q != '"') return syntax(c, "a quoted op name");
    const char *a = ++c->p, *b = strchr(a, q);
    if (!b) return syntax(c, "a closing quote");
    int op = -1;
    for (int o = 0; o < DA_N_OPS; o++)
        if (strlen(darts_op_names[o]) == (size_t)(b - a) && !memcmp(a, darts_op_names[o], b - a))
            op = o;
    if (op < 0) {
        snprintf(c->err, c->n_err,
                 "unknown op '%.*s' in %s pair %d (ops: none, max_pool_3x3, avg_pool_3x3, "
                 "skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5)",
                 (int)(b - a > 40 ? 40 : b - a), a, cell_names[cell], k);
        return -1;
    }
    c->p = b + 1;
    int in;
    if (lit(c, ",")) return syntax(c, "','");
    if (num(c, &in)) return syntax(c, "an input index");
    if (lit(c, ")")) return syntax(c, "')'");
    int node = k / 2;
    if (in > node + 1) {
        snprintf(c->err, c->n_err,
                 "%s pair %d ('%s', %d): input %d out of range for node %d (0..%d: the cell's "
                 "two inputs and the nodes before it)",
                 cell_names[cell], k, darts_op_names[op], in, in, node + 2, node + 1);
        return -1;
    }
    g[0] = op, g[1] = in;
    return 0;
}

/* [pair, ...] of one cell into g (16 ints): exactly two pairs per node, distinct inputs. */
static int cell_list(cur_t *c, int cell, int *g) {
    if (lit(c, "[")) return syntax(c, "'['");
    int k = 0;
    ws(c);
    while (*c->p != ']') {
        if (k > 0 && lit(c, ",")) return syntax(c, "',' or ']'");
        if (k == DA_PAIRS) {
            snprintf(c->err, c->n_err, "%s has more than %d (op, input) pairs (4 nodes of 2 inputs)",
                     cell_names[cell], DA_PAIRS);
            return -1;
        }
        if (pair(c, cell, k, g + 2 * k)) return -1;
        k++;
        ws(c);
    }
    c->p++;
    if (k != DA_PAIRS) {
        snprintf(c->err, c->n_err, "%s has %d (op, input) pairs: node %d has %s input%s (each of "
                 "the 4 nodes takes exactly 2)", cell_names[cell], k, k / 2 + 2,
                 k % 2 ? "one" : "no", k % 2 ? "" : "s");
        return -1;
    }
    for (int n = 0; n < DA_STEPS; n++)
        if (g[4 * n + 1] == g[4 * n + 3]) {
            snprintf(c->err, c->n_err, "%s node %d takes input %d twice (two distinct inputs "
                     "required)", cell_names[cell], n + 2, g[4 * n + 1]);
            return -1;
        }
    return 0;
}

/* [2, 3, 4, 5] or range(2, 6): every intermediate node, the only concat of the space. */
static int concat(cur_t *c, int cell) {
    int v[8], n = 0, a, b;
    ws(c);
    const char *at = c->p;
    if (!lit(c, "range(")) {
        if (num(c, &a) || lit(c, ",") || num(c, &b) || lit(c, ")")) return syntax(c, "range(2, 6)");
        for (int i = a; i < b && n < 8; i++) v[n++] = i;
    } else {
        if (lit(c, "[")) return syntax(c, "'[' or range(");
        ws(c);
        while (*c->p != ']' && n < 8) {
            if (n > 0 && lit(c, ",")) return syntax(c, "',' or ']'");
            if (num(c, &v[n++])) return syntax(c, "a node number");
            ws(c);
        }
        if (lit(c, "]")) return syntax(c, "']'");
    }
    int ok = n == DA_STEPS;
    for (int i = 0; ok && i < n; i++) ok = v[i] == 2 + i;
    if (!ok) {
        snprintf(c->err, c->n_err, "%s_concat \"%.*s\" must be [2, 3, 4, 5] (the cell outputs all "
                 "4 intermediate nodes)", cell_names[cell], (int)(c->p - at > 40 ? 40 : c->p - at), at);
        return -1;
    }
    return 0;
}

static int parse(const char *s, arch_t *a, char *err, size_t n_err) {
    cur_t c = {s, s, err, n_err};
    a->n = DA_N_GENES;
    if (lit(&c, "Genotype")) return syntax(&c, "Genotype(");
    if (lit(&c, "(")) return syntax(&c, "'('");
    for (int cell = 0; cell < 2; cell++) {
        char key[32];
        if (cell && lit(&c, ",")) return syntax(&c, "','");
        if (lit(&c, cell_names[cell]) || lit(&c, "=")) {
            snprintf(key, sizeof key, "%s=", cell_names[cell]);
            return syntax(&c, key);
        }
        if (cell_list(&c, cell, a->g + 2 * DA_PAIRS * cell)) return -1;
        snprintf(key, sizeof key, "%s_concat", cell_names[cell]);
        if (lit(&c, ",") || lit(&c, key) || lit(&c, "=")) {
            snprintf(key, sizeof key, ", %s_concat=", cell_names[cell]);
            return syntax(&c, key);
        }
        if (concat(&c, cell)) return -1;
    }
    if (lit(&c, ")")) return syntax(&c, "')'");
    ws(&c);
    if (*c.p) return syntax(&c, "the end of the genotype");
    return 0;
}

static int valid(const arch_t *a) {
    if (a->n != DA_N_GENES) return 0;
    for (int k = 0; k < 2 * DA_PAIRS; k++) {
        const int *g = a->g + 2 * k;
        if (g[0] < 0 || g[0] >= DA_N_OPS || g[1] < 0 || g[1] > k % DA_PAIRS / 2 + 1) return 0;
        if (k % 2 && g[1] == g[-1]) return 0;
    }
    return 1;
}

static int format(const arch_t *a, char *buf, size_t n) {
    if (!valid(a)) return -1;
    size_t u = 0;
    for (int cell = 0; cell < 2; cell++) {
        int w = snprintf(buf + u, n > u ? n - u : 0, "%s%s=[", cell ? ", " : "Genotype(",
                         cell_names[cell]);
        if (w < 0) return -1;
        u += (size_t)w;
        for (int k = 0; k < DA_PAIRS; k++) {
            const int *g = a->g + 2 * (DA_PAIRS * cell + k);
            w = snprintf(buf + u, n > u ? n - u : 0, "%s('%s', %d)", k ? ", " : "",
                         darts_op_names[g[0]], g[1]);
            if (w < 0) return -1;
            u += (size_t)w;
        }
        w = snprintf(buf + u, n > u ? n - u : 0, "], %s_concat=[2, 3, 4, 5]%s", cell_names[cell],
                     cell ? ")" : "");
        if (w < 0) return -1;
        u += (size_t)w;
    }
    return u < n ? 0 : -1;
}

/* ---- sampling and mutation -------------------------------------------------------------- */

/* Uniform over the space's networks: per node two distinct inputs (a uniform unordered
 * pair, written lower first) and two ops out of the seven that are not none, as
 * NAS-Bench-301 samples. Every network has one such string. */
static void sample(rng_t *r, arch_t *a) {
    a->n = DA_N_GENES;
    for (int cell = 0; cell < 2; cell++)
        for (int n = 0; n < DA_STEPS; n++) {
            int *g = a->g + 2 * (DA_PAIRS * cell + 2 * n), m = n + 2;
            int i = (int)rng_below(r, (uint64_t)m), j = (int)rng_below(r, (uint64_t)m - 1);
            if (j >= i) j++;
            g[1] = i < j ? i : j, g[3] = i < j ? j : i;
            g[0] = 1 + (int)rng_below(r, DA_N_OPS - 1);
            g[2] = 1 + (int)rng_below(r, DA_N_OPS - 1);
        }
}

/* One pair of one cell changes, with equal chance, its op (to another of the seven that
 * are not none) or its input (to another one its node may take, not the node's other
 * input), as the local-search mutation of the DARTS space in NAS-Bench-301's studies. */
static void mutate(rng_t *r, const arch_t *parent, arch_t *child) {
    *child = *parent;
    int k = (int)rng_below(r, 2 * DA_PAIRS), node = k % DA_PAIRS / 2;
    int *g = child->g + 2 * k, other = (k % 2 ? g[-1] : g[3]);
    int m = node + 2; /* node 0 reads inputs 0 and 1 only: its inputs cannot change */
    if (m == 2 || rng_below(r, 2)) {
        int o;
        if (g[0] == DA_NONE) o = 1 + (int)rng_below(r, DA_N_OPS - 1);
        else if ((o = 1 + (int)rng_below(r, DA_N_OPS - 2)) >= g[0]) o++; /* not the current */
        g[0] = o;
    } else {
        int i; /* inputs 0..m-1 but the current and the node's other one */
        do i = (int)rng_below(r, (uint64_t)m);
        while (i == g[1] || i == other);
        g[1] = i;
    }
}

const space_t space_darts = {
    .name = "darts",
    .n_arch = -1,
    .no_enum = "it has about 1.1e18 genotypes (per cell 180 input choices times 7^8 op "
               "choices, squared)",
    .cfg_defaults = {.C = 8, .N = 5, .in_ch = 1, .H = 28, .W = 28, .classes = 10},
    .cfg_keys = cfg_keys,
    .n_cfg_keys = N_CFG_KEYS,
    .cfg_rule = cfg_rule,
    .parse = parse,
    .format = format,
    .to_index = space_no_index,
    .from_index = space_no_from_index,
    .sample = sample,
    .mutate = mutate,
    .build = darts_build,
    .declare_supernet = darts_declare_supernet,
    .sample_path = sample, /* uniform single path */
    .data_kind = SPACE_DATA_IMAGES,
    .lambda = {{0, 0, 1, -1}, {0, 0, 1, -1}}, /* docs/darts.md: S1, S2 rank inversely here */
};
