/* test_darts.c — DARTS genotypes: published genotypes parse and print back unchanged,
 * malformed strings fail with a message naming the fault, sampling is uniform over valid
 * genotypes, mutation changes one gene, networks build at the default and the paper's
 * sizes (parameter count of DARTS_V2 as the DARTS code reports it), and every subnet's
 * weights exist in the supernet. */
#include "spaces/darts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/layers.h"

static int n_fail;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    if (!ok) n_fail++;
}

/* DARTS genotypes.py (Liu et al.) and PC-DARTS genotypes.py (Xu et al.), verbatim. */
static const char *const V1 =
    "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])";
static const char *const V2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
static const char *const PC =
    "Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), "
    "('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), "
    "('dil_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_5x5', 1), "
    "('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))";

static int same(const arch_t *a, const arch_t *b) {
    return a->n == b->n && memcmp(a->g, b->g, sizeof(int) * a->n) == 0;
}

static void test_published(void) {
    const space_t *S = space_find("darts");
    check(S == &space_darts && S->n_arch < 0 && S->no_enum, "space_find(\"darts\"), not enumerable");
    const char *const g[2] = {V1, V2};
    for (int i = 0; i < 2; i++) {
        arch_t a;
        char s[1024], err[256] = "";
        int ok = S->parse(g[i], &a, err, sizeof err) == 0 && S->format(&a, s, sizeof s) == 0;
        check(ok && strcmp(s, g[i]) == 0, i ? "DARTS_V2 parses and prints back unchanged"
                                            : "DARTS_V1 parses and prints back unchanged");
    }
    arch_t a, b;
    char s[1024], want[1024], err[256] = "";
    /* PC-DARTS writes range(2, 6): printed as the list the DARTS code prints */
    snprintf(want, sizeof want, "%s", PC);
    for (char *p; (p = strstr(want, "range(2, 6)"));) {
        memmove(p + 12, p + 11, strlen(p + 11) + 1);
        memcpy(p, "[2, 3, 4, 5]", 12);
    }
    int ok = S->parse(PC, &a, err, sizeof err) == 0 && S->format(&a, s, sizeof s) == 0;
    check(ok && strcmp(s, want) == 0, "PC-DARTS (range(2, 6)) parses, prints with [2, 3, 4, 5]");
    /* spacing and double quotes */
    ok = S->parse("  Genotype( normal = [(\"sep_conv_3x3\",0),('sep_conv_3x3',1),"
                  "('sep_conv_3x3',0),('sep_conv_3x3',1),('sep_conv_3x3',1),('skip_connect',0),"
                  "('skip_connect',0),('dil_conv_3x3',2)],normal_concat=[2,3,4,5],reduce=["
                  "('max_pool_3x3',0),('max_pool_3x3',1),('skip_connect',2),('max_pool_3x3',1),"
                  "('max_pool_3x3',0),('skip_connect',2),('skip_connect',2),('max_pool_3x3',1)],"
                  "reduce_concat=range(2,6) )\n", &b, err, sizeof err) == 0;
    S->parse(V2, &a, err, sizeof err);
    check(ok && same(&a, &b), "spacing and double quotes accepted");
    check(a.g[0] == DA_SEP3 && a.g[1] == 0 && a.g[16] == DA_MAX3 && a.g[31] == 1,
          "gene layout: normal pairs then reduce pairs, (op, input)");
}

static void bad(const char *s, const char *want, const char *what) {
    arch_t a;
    char err[512] = "";
    int r = space_darts.parse(s, &a, err, sizeof err);
    char msg[700];
    snprintf(msg, sizeof msg, "rejects %s: %s", what, err);
    check(r == -1 && strstr(err, want) != NULL, msg);
}

/* V2 with its first occurrence of from replaced by to. */
static const char *edit(const char *from, const char *to) {
    static char buf[1024];
    const char *p = strstr(V2, from);
    if (!p) {
        printf("NOT OK test bug: \"%s\" not in DARTS_V2\n", from);
        n_fail++;
        return "";
    }
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - V2), V2, to, p + strlen(from));
    return buf;
}

static void test_bad(void) {
    bad(edit("'sep_conv_3x3', 0", "'conv_7x1_1x7', 0"), "unknown op 'conv_7x1_1x7'", "unknown op");
    bad(edit("('dil_conv_3x3', 2)", "('dil_conv_3x3', 6)"), "input 6 out of range for node 5",
        "input index out of range");
    bad(edit("('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ", "('sep_conv_3x3', 1), "),
        "node 5 has one input", "a node with one input (7 pairs)");
    bad(edit("('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ", ""), "normal has 6 (op, input) pairs",
        "a cell with 6 pairs");
    bad(edit("('dil_conv_3x3', 2)], normal", "('dil_conv_3x3', 2), ('skip_connect', 1)], normal"),
        "more than 8", "9 pairs");
    bad(edit("('sep_conv_3x3', 0), ('sep_conv_3x3', 1)", "('sep_conv_3x3', 1), ('sep_conv_3x3', 1)"),
        "normal node 2 takes input 1 twice", "a node reading one input twice");
    bad(edit("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3, 4]"), "normal_concat", "concat [2, 3, 4]");
    bad(edit("reduce_concat=[2, 3, 4, 5]", "reduce_concat=[3, 4, 5, 6]"), "reduce_concat",
        "concat [3, 4, 5, 6]");
    bad(edit("reduce_concat=[2, 3, 4, 5]", "reduce_concat=range(2, 5)"), "must be [2, 3, 4, 5]",
        "concat range(2, 5)");
    bad(edit("Genotype(", "Genotyp("), "expected Genotype(", "a misspelt head");
    bad(edit("reduce=[", "reduce=("), "expected '['", "a tuple for a list");
    bad(edit("'sep_conv_3x3', 0)", "'sep_conv_3x3' 0)"), "expected ','", "a missing comma");
    bad(edit("('skip_connect', 0)", "('skip_connect', -1)"), "expected an input index",
        "a negative input");
    char longer[1100];
    snprintf(longer, sizeof longer, "%s x", V2);
    bad(longer, "expected the end", "trailing text");
    bad("", "expected Genotype(", "the empty string");
    bad("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "expected Genotype(",
        "an nb201 string");
}

static void test_sample_mutate(void) {
    rng_t r;
    rng_seed(&r, 7);
    int n = 70000, bad_n = 0, pairs5[5][5] = {{0}}, ops[DA_N_OPS] = {0};
    for (int i = 0; i < n; i++) {
        arch_t a, b, c;
        char s[1024], err[256];
        space_darts.sample(&r, &a);
        if (space_darts.format(&a, s, sizeof s) || space_darts.parse(s, &b, err, sizeof err) ||
            !same(&a, &b))
            bad_n++;
        pairs5[a.g[13]][a.g[15]]++; /* normal node 5: two of inputs 0..4 */
        for (int k = 0; k < 32; k += 2) ops[a.g[k]]++;
        space_darts.mutate(&r, &a, &c);
        int diff = 0;
        for (int k = 0; k < DA_N_GENES; k++) diff += a.g[k] != c.g[k];
        if (diff != 1 || space_darts.format(&c, s, sizeof s)) bad_n++;
    }
    check(bad_n == 0, "70000 samples and their mutants are valid; each mutant differs in one gene");
    /* node 5's input pair is uniform over the 10 unordered pairs, written lower first */
    double chi = 0.0, e = n / 10.0;
    int order_ok = 1;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            if (i >= j && pairs5[i][j]) order_ok = 0;
            if (i < j) chi += (pairs5[i][j] - e) * (pairs5[i][j] - e) / e;
        }
    char msg[160];
    snprintf(msg, sizeof msg, "node 5 inputs uniform over 10 pairs (chi2 %.1f, 9 dof, < 27.9)", chi);
    check(order_ok && chi < 27.9, msg);
    chi = 0.0, e = n * 16.0 / 7.0;
    for (int o = 1; o < DA_N_OPS; o++) chi += (ops[o] - e) * (ops[o] - e) / e;
    snprintf(msg, sizeof msg, "ops uniform over the 7 that are not none (chi2 %.1f, 6 dof, < 22.5)", chi);
    check(ops[DA_NONE] == 0 && chi < 22.5, msg);
    /* node 2 of a cell reads inputs 0 and 1 only: its mutation changes an op */
    arch_t a, c;
    space_darts.parse(V2, &a, msg, sizeof msg);
    int ok = 1;
    for (int i = 0; i < 2000; i++) {
        space_darts.mutate(&r, &a, &c);
        for (int k = 0; k < 2 * DA_PAIRS; k++) {
            int node = k % DA_PAIRS / 2;
            if (c.g[2 * k + 1] > node + 1 || c.g[2 * k] == DA_NONE) ok = 0;
            if (k % 2 && c.g[2 * k + 1] == c.g[2 * k - 1]) ok = 0;
        }
    }
    check(ok, "mutants keep inputs in range, distinct, and ops not none");
}

/* Build (and with run, one forward/backward at batch 2) a genotype over fresh parameters;
 * returns the parameter count or 0. */
static size_t build(const char *g, int C, int N, int in_ch, int HW, int run) {
    space_cfg_t c;
    space_cfg_default(&space_darts, &c);
    c.C = C, c.N = N, c.in_ch = in_ch, c.H = c.W = HW;
    arch_t a;
    char err[256];
    if (space_darts.parse(g, &a, err, sizeof err)) return 0;
    params_t P;
    params_init(&P);
    net_t net;
    net_init(&net, &P, 2);
    size_t n = 0;
    rng_t r;
    rng_seed(&r, 1);
    if (darts_build(&net, &c, &a) == 0 && net_finalize(&net, &r) == 0) {
        n = net_param_count(&net);
        if (run) {
            size_t nx = (size_t)2 * in_ch * HW * HW;
            float *x = malloc(sizeof(float) * nx);
            int lab[2] = {1, 3};
            for (size_t i = 0; i < nx; i++) x[i] = (float)rng_normal(&r);
            float l = net_forward(&net, x, lab);
            net_backward(&net);
            if (!isfinite(l)) n = 0;
            free(x);
        }
    }
    net_free(&net);
    params_free(&P);
    return n;
}

static void test_build(void) {
    /* DARTS' train.py prints "param size = 3.349342MB" for DARTS_V2 at C=36, 20 layers,
     * CIFAR-10 (parameters without the auxiliary head) */
    size_t n = build(V2, 36, 20, 3, 32, 0);
    char msg[160];
    snprintf(msg, sizeof msg, "DARTS_V2 at C=36, 20 cells, 3x32x32: %zu parameters (3349342 in DARTS)", n);
    check(n == 3349342, msg);
    check(build(V1, 8, 5, 1, 28, 1) > 0 && build(PC, 8, 5, 1, 28, 1) > 0,
          "DARTS_V1 and PC-DARTS at the default size: forward and backward");
    check(build(V2, 16, 8, 3, 32, 1) > 0, "DARTS_V2 at C=16, 8 cells, 3x32x32: forward and backward");
}

static void test_supernet(void) {
    space_cfg_t c;
    space_cfg_default(&space_darts, &c);
    params_t P;
    params_init(&P);
    int ok = darts_declare_supernet(&P, &c) == 0 && params_alloc(&P) == 0;
    int n_decl = P.n;
    rng_t r;
    rng_seed(&r, 3);
    /* P is frozen: a subnet naming a weight the supernet lacks, or with another shape,
     * fails to build */
    for (int i = 0; i < 200 && ok; i++) {
        arch_t a;
        space_darts.sample(&r, &a);
        if (i % 2) { /* none ops too */
            a.g[2 * (int)rng_below(&r, 16)] = DA_NONE;
        }
        net_t net;
        net_init(&net, &P, 2);
        ok = darts_build(&net, &c, &a) == 0;
        net_free(&net);
    }
    check(ok && P.n == n_decl, "200 sampled subnets build over the supernet's frozen parameters");
    params_free(&P);
}

int main(void) {
    test_published();
    test_bad();
    test_sample_mutate();
    test_build();
    test_supernet();
    printf("%s\n", n_fail ? "FAILED" : "all ok");
    return n_fail != 0;
}
