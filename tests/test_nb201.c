/* test_nb201.c — NB201 encoding: string <-> index <-> op tuple for all 15,625 cells,
 * parse errors, sampling, mutation, configuration keys, and space_read_record. */
#include "spaces/darts.h"
#include "spaces/nb201.h"

#include <stdio.h>
#include <string.h>

static int n_fail;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    if (!ok) n_fail++;
}

static void test_all_cells(void) {
    const space_t *S = space_find("nb201");
    check(S == &space_nb201 && S->n_arch == 15625 && space_find("nope") == NULL, "space_find");
    int bad = 0;
    static char seen[NB_N_ARCH];
    for (int64_t i = 0; i < NB_N_ARCH; i++) {
        arch_t a, b;
        char s[256], err[256];
        int ops[NB_N_EDGES];
        if (S->from_index(i, &a) || S->format(&a, s, sizeof s) || S->parse(s, &b, err, sizeof err)) {
            bad++;
            continue;
        }
        nb201_ops(i, ops);
        if (S->to_index(&b) != i || nb201_index(ops) != i || memcmp(ops, a.g, sizeof ops) || b.n != 6) bad++;
        /* Independent check of the documented formula, digit by digit. */
        int64_t idx = 0, p = 1;
        for (int j = 0; j < 6; j++, p *= 5) idx += b.g[j] * p;
        if (idx != i) bad++;
        if (strlen(s) > 0) seen[S->to_index(&b)]++;
    }
    int dup = 0;
    for (int i = 0; i < NB_N_ARCH; i++) dup += seen[i] != 1;
    check(bad == 0 && dup == 0, "string <-> index <-> ops round trip for all 15625 cells");
    arch_t z;
    check(S->from_index(-1, &z) == -1 && S->from_index(15625, &z) == -1, "from_index rejects out of range");
}

static void test_known(void) {
    const space_t *S = &space_nb201;
    arch_t a;
    char err[256], s[256];
    /* Edge 0 (1<-0) is the least significant base-5 digit: conv3x3 there is index 3. */
    const char *t = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|";
    check(S->parse(t, &a, err, sizeof err) == 0 && S->to_index(&a) == 3, "index of conv3x3 on edge 1<-0 is 3");
    /* Edge 5 (3<-2) is the most significant: avg_pool there adds 4 * 5^5 = 12500. */
    t = "|none~0|+|none~0|none~1|+|none~0|none~1|avg_pool_3x3~2|";
    check(S->parse(t, &a, err, sizeof err) == 0 && S->to_index(&a) == 12500, "index of avg_pool on edge 3<-2 is 12500");
    t = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
    /* ops (3,3,4,1,3,1): 3 + 15 + 100 + 125 + 1875 + 3125 = 5243 */
    check(S->parse(t, &a, err, sizeof err) == 0 && S->to_index(&a) == 5243 && S->format(&a, s, sizeof s) == 0 &&
              strcmp(s, t) == 0,
          "NB201's best CIFAR-10 cell has index 5243 and formats back identically");
    check(S->format(&a, s, 20) == -1, "format into a short buffer fails");

    const char *bad[] = {"", "|none~0|", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2",
                         "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
                         "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|x",
                         "|none~0|+|none~0|none~1|+|none~0|none~1|none~2||",
                         "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|"};
    int rej = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) rej += S->parse(bad[i], &a, err, sizeof err) == -1;
    check(rej == (int)(sizeof bad / sizeof bad[0]), "malformed strings rejected");
    int r = S->parse("|conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", &a, err, sizeof err);
    check(r == -1 && strstr(err, "unknown op name 'conv_3x3'"), "unknown op name named in the error");
}

static void test_sample_mutate(void) {
    const space_t *S = &space_nb201;
    rng_t r;
    rng_seed(&r, 7);
    int count[NB_N_EDGES][NB_N_OPS] = {{0}};
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        arch_t a;
        S->sample(&r, &a);
        for (int e = 0; e < NB_N_EDGES; e++) count[e][a.g[e]]++;
    }
    /* Each cell count ~ Binomial(20000, 0.2): mean 4000, sd 57; 6 sd is 340. */
    int ok = 1;
    for (int e = 0; e < NB_N_EDGES; e++)
        for (int o = 0; o < NB_N_OPS; o++) ok &= count[e][o] > 3660 && count[e][o] < 4340;
    check(ok, "sample is uniform per edge and op");

    int one_edge = 1, per_edge[NB_N_EDGES] = {0};
    for (int i = 0; i < 6000; i++) {
        arch_t p, c;
        S->sample(&r, &p);
        S->mutate(&r, &p, &c);
        int diff = 0;
        for (int e = 0; e < NB_N_EDGES; e++)
            if (p.g[e] != c.g[e]) diff++, per_edge[e]++;
        one_edge &= diff == 1 && c.n == 6 && S->to_index(&c) >= 0;
    }
    ok = one_edge;
    for (int e = 0; e < NB_N_EDGES; e++) ok &= per_edge[e] > 800 && per_edge[e] < 1200;
    check(ok, "mutate changes exactly one edge, edges chosen uniformly");

    /* Fair sampling: 5 paths per draw, each edge's ops a permutation across them, and the
     * op a given path gets on an edge uniform over the draws. */
    arch_t fp[ARCH_MAX_GENES];
    int perm_ok = 1, first[NB_N_OPS] = {0};
    for (int i = 0; i < 5000; i++) {
        int m = space_fair_paths(S, &r, &S->cfg_defaults, fp);
        perm_ok &= m == NB_N_OPS;
        for (int e = 0; e < NB_N_EDGES && m == NB_N_OPS; e++) {
            int seen = 0;
            for (int k = 0; k < m; k++) perm_ok &= fp[k].n == NB_N_EDGES, seen |= 1 << fp[k].g[e];
            perm_ok &= seen == (1 << NB_N_OPS) - 1;
        }
        first[fp[0].g[0]]++;
    }
    check(perm_ok, "fair paths: five, every op of every edge exactly once");
    ok = 1; /* Binomial(5000, 0.2): mean 1000, sd 28 */
    for (int o = 0; o < NB_N_OPS; o++) ok &= first[o] > 830 && first[o] < 1170;
    check(ok, "fair paths: a path's op on an edge is uniform");

    /* Sandwich: largest (every edge conv 3x3) first, smallest (every edge skip) last, the
     * ones between uniform over the ops, an edge's op independent of the other path's. */
    arch_t sp[ARCH_MAX_GENES];
    int ends_ok = 1, mid[NB_N_OPS] = {0}, same = 0;
    for (int i = 0; i < 5000; i++) {
        int m = space_sandwich_paths(S, &r, &S->cfg_defaults, sp);
        ends_ok &= m == 2 + SPACE_SANDWICH_RANDOM && m == 4;
        for (int k = 0; k < m; k++) ends_ok &= sp[k].n == NB_N_EDGES && S->to_index(&sp[k]) >= 0;
        for (int e = 0; e < NB_N_EDGES && m == 4; e++)
            ends_ok &= sp[0].g[e] == NB_CONV3 && sp[m - 1].g[e] == NB_SKIP;
        if (m == 4) mid[sp[1].g[2]]++, mid[sp[2].g[4]]++, same += sp[1].g[0] == sp[2].g[0];
    }
    check(ends_ok, "sandwich paths: four, all conv 3x3 first, all skip last");
    ok = same > 830 && same < 1170; /* Binomial(5000, 0.2), as both draws are uniform */
    for (int o = 0; o < NB_N_OPS; o++) ok &= mid[o] > 1750 && mid[o] < 2250; /* B(10000, .2) */
    check(ok, "sandwich paths: the middle paths' ops uniform and drawn independently");
    check(space_sandwich_paths(&space_darts, &r, &space_darts.cfg_defaults, sp) == 0,
          "sandwich paths: none in a space without path_ends (darts)");
}

static void test_record(void) {
    const space_t *S = &space_nb201;
    space_cfg_t c, d;
    space_cfg_default(S, &c);
    check(c.C == 8 && c.N == 1 && c.in_ch == 1 && c.H == 28 && c.W == 28 && c.classes == 10, "cfg defaults");
    rec_t e;
    rec_new(&e);
    rec_set_str(&e, "kind", "arch");
    rec_set_str(&e, "arch", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    c.C = 16, c.in_ch = 3, c.H = c.W = 32;
    space_cfg_write(S, &c, &e, "cfg");
    const space_t *sp;
    arch_t a;
    char err[256];
    int r = space_read_record(&e.root, &sp, &a, &d, err, sizeof err);
    check(r == 0 && sp == S && S->to_index(&a) == 3 && space_cfg_equal(&c, &d), "cfg write/read round trip");
    d.classes = 100;
    check(!space_cfg_equal(&c, &d), "space_cfg_equal sees a difference");

    rec_set_i64(&e, "index", 3);
    check(space_read_record(&e.root, &sp, &a, &d, err, sizeof err) == 0, "matching index accepted");
    rec_set_i64(&e, "index", 4);
    r = space_read_record(&e.root, &sp, &a, &d, err, sizeof err);
    check(r == -1 && strstr(err, "does not match"), "stale index rejected");
    rec_del(&e, "arch");
    check(space_read_record(&e.root, &sp, &a, &d, err, sizeof err) == 0 && a.g[0] == 4, "index alone accepted");
    rec_set_i64(&e, "index", 15625);
    check(space_read_record(&e.root, &sp, &a, &d, err, sizeof err) == -1, "index out of range");
    rec_del(&e, "index");
    r = space_read_record(&e.root, &sp, &a, &d, err, sizeof err);
    check(r == -1 && strstr(err, "missing key \"arch\""), "missing arch");
    rec_set_i64(&e, "arch", 1);
    r = space_read_record(&e.root, &sp, &a, &d, err, sizeof err);
    check(r == -1 && strstr(err, "not a string"), "arch of wrong type");
    rec_set_str(&e, "arch", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    rec_set_str(&e, "space", "nb301");
    r = space_read_record(&e.root, &sp, &a, &d, err, sizeof err);
    check(r == -1 && strstr(err, "unknown space"), "unknown space");
    rec_set_str(&e, "space", "nb201");
    rec_set_str(&e, "cfg.C", "eight");
    r = space_read_record(&e.root, &sp, &a, &d, err, sizeof err);
    check(r == -1 && strstr(err, "cfg.C"), "cfg key of wrong type");
    rec_set_i64(&e, "cfg.C", 0);
    r = space_read_record(&e.root, &sp, &a, &d, err, sizeof err);
    check(r == -1 && strstr(err, "cfg.C"), "cfg key out of range");
    rec_del(&e, "cfg");
    space_cfg_default(S, &c);
    r = space_read_record(&e.root, &sp, &a, &d, err, sizeof err);
    check(r == 0 && space_cfg_equal(&c, &d), "absent cfg takes defaults");
    rec_edit_end(&e);
}

/* live_key: a fixed point (the key's own cell maps to itself), never more than the cell
 * (only edges set to none), 10,405 distinct keys over the space (counted independently
 * with a Python model of the two rules), and a few cells by hand. */
static void test_live_key(void) {
    const space_t *S = &space_nb201;
    static char key_seen[NB_N_ARCH];
    int bad = 0, n_keys = 0;
    for (int64_t i = 0; i < NB_N_ARCH; i++) {
        arch_t a, k;
        S->from_index(i, &a);
        int64_t key = S->live_key(&a);
        if (key < 0 || key >= NB_N_ARCH || S->from_index(key, &k) || S->live_key(&k) != key) {
            bad++;
            continue;
        }
        for (int e = 0; e < NB_N_EDGES; e++)
            if (k.g[e] != a.g[e] && k.g[e] != NB_NONE) bad++;
        n_keys += !key_seen[key]++;
    }
    check(bad == 0, "live_key: in range, a fixed point, only sets edges to none");
    check(n_keys == 10405, "live_key: 10,405 distinct live networks among 15,625 cells");
    char err[256];
    arch_t a, b;
    /* 3<-2 none: node 2 is dead, its incoming edges do not matter */
    S->parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|",
             &a, err, sizeof err);
    S->parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|", &b, err,
             sizeof err);
    check(S->live_key(&a) == S->to_index(&b), "live_key: edges into a dead node become none");
    /* 1<-0 none: node 1 is zero; skip and pool out of it add nothing, a conv out of it does */
    S->parse("|none~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_3x3~2|",
             &a, err, sizeof err);
    S->parse("|none~0|+|avg_pool_3x3~0|none~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|", &b, err,
             sizeof err);
    check(S->live_key(&a) == S->to_index(&b), "live_key: skip/pool out of a zero node become none");
    S->parse("|none~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|",
             &a, err, sizeof err);
    check(S->live_key(&a) == S->to_index(&a), "live_key: a conv out of a zero node stays");
}

int main(void) {
    test_all_cells();
    test_live_key();
    test_known();
    test_sample_mutate();
    test_record();
    if (n_fail) printf("%d failed\n", n_fail);
    return n_fail ? 1 : 0;
}
