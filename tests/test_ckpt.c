/* test_ckpt.c — supernet checkpoints: bit-exact round trip, refusal of damaged,
 * truncated and mismatched files, atomic writes, and weight inheritance (a subnet over
 * the supernet's params computes exactly what the same cell built standalone does). */
#include "model/ckpt.h"
#include "filetest.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_ "tests/tmp/test_ckpt"

/* A trained-looking checkpoint: random weights and state, a curve, options. The supernet
 * is declared for decl (normally equal to c->cfg; tests pass another to mismatch). */
static int make_ckpt(ckpt_t *c, const space_cfg_t *stored, const space_cfg_t *decl,
                     const char *extra_name, uint64_t seed) {
    memset(c, 0, sizeof *c);
    c->space = &space_nb201;
    c->cfg = *stored;
    c->fraction = 0.1;
    c->epochs = 1;
    c->batch = 64;
    c->lr = 0.05;
    c->momentum = 0.9;
    c->weight_decay = 5e-4;
    c->seed = seed;
    strcpy(c->data_dir, "/nonexistent/data");
    memset(c->data_fingerprint, 'a', 64);
    c->steps = 93;
    c->n_curve = 5;
    for (int i = 0; i < 5; i++) c->curve[i] = 2.3f / (float)(i + 1);
    c->lambda[0] = 1, c->lambda[1] = 50, c->lambda[2] = 1;
    params_init(&c->P);
    if (space_nb201.declare_supernet(&c->P, decl) != 0) return -1;
    if (extra_name) {
        int shape[1] = {3};
        if (params_declare(&c->P, extra_name, PK_BIAS, 1, shape) < 0) return -1;
    }
    if (params_alloc(&c->P) != 0) return -1;
    rng_t r;
    rng_seed(&r, seed);
    params_init_default(&c->P, &r);
    for (size_t i = 0; i < c->P.n_state_floats; i++) c->P.s[i] = (float)rng_uniform(&r);
    return 0;
}

static int load(const char *path, char *err, size_t n_err) {
    ckpt_t x;
    int rc = ckpt_load(path, &x, err, n_err);
    if (rc == 0) ckpt_free(&x);
    return rc;
}

/* The load of path must fail with a message that names the file and contains want. */
static void expect_refused(const char *path, const char *want, const char *what) {
    refused_by(load, path, want, what);
}

/* Number of directory entries whose name starts with prefix. */
static int count_prefix(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(d);
    return n;
}

static void test_round_trip(void) {
    space_cfg_t cfg = small_cfg();
    ckpt_t a, b;
    char err[512];
    check(make_ckpt(&a, &cfg, &cfg, NULL, 7) == 0, "build a supernet checkpoint");
    check(ckpt_save(DIR_ "/a.ckpt", &a, err, sizeof err) == 0, "save");
    int rc = ckpt_load(DIR_ "/a.ckpt", &b, err, sizeof err);
    if (rc) printf("  # %s\n", err);
    check(rc == 0, "load");
    if (rc) return;
    check(strcmp(a.hash, b.hash) == 0 && strlen(b.hash) == 64, "hash reported by save and load");
    check(b.space == &space_nb201 && space_cfg_equal(&a.cfg, &b.cfg), "space and cfg");
    check(a.fraction == b.fraction && a.lr == b.lr && a.momentum == b.momentum &&
              a.weight_decay == b.weight_decay && a.epochs == b.epochs && a.batch == b.batch &&
              a.seed == b.seed && a.steps == b.steps,
          "training options");
    check(strcmp(a.data_dir, b.data_dir) == 0 &&
              strcmp(a.data_fingerprint, b.data_fingerprint) == 0,
          "data dir and fingerprint");
    check(a.n_curve == b.n_curve && memcmp(a.curve, b.curve, sizeof(float) * 5) == 0 &&
              memcmp(a.lambda, b.lambda, sizeof a.lambda) == 0,
          "loss curve and lambda");
    check(a.P.n == b.P.n && a.P.n_state == b.P.n_state && a.P.n_floats == b.P.n_floats &&
              memcmp(a.P.w, b.P.w, a.P.n_floats * 4) == 0 &&
              memcmp(a.P.s, b.P.s, a.P.n_state_floats * 4) == 0,
          "every parameter and state float bit-exact");
    check(ckpt_save(DIR_ "/b.ckpt", &b, err, sizeof err) == 0, "save the loaded checkpoint");
    size_t na, nb;
    unsigned char *fa = slurp(DIR_ "/a.ckpt", &na), *fb = slurp(DIR_ "/b.ckpt", &nb);
    check(fa && fb && na == nb && memcmp(fa, fb, na) == 0,
          "save, load, save gives identical bytes");
    check(count_prefix(DIR_, "a.ckpt.tmp") == 0, "no temporary file left behind");

    /* A different seed gives different weights, hence a different hash. */
    ckpt_t c;
    make_ckpt(&c, &cfg, &cfg, NULL, 8);
    ckpt_save(DIR_ "/c.ckpt", &c, err, sizeof err);
    check(strcmp(c.hash, a.hash) != 0, "other weights, other hash");
    ckpt_free(&c);

    /* Untrained checkpoint: no data; nil dir and fingerprint load back as empty. */
    make_ckpt(&c, &cfg, &cfg, NULL, 9);
    c.data_dir[0] = c.data_fingerprint[0] = 0;
    c.fraction = 0;
    c.steps = 0;
    c.n_curve = 0;
    ckpt_save(DIR_ "/u.ckpt", &c, err, sizeof err);
    ckpt_t d;
    rc = ckpt_load(DIR_ "/u.ckpt", &d, err, sizeof err);
    check(rc == 0 && d.data_dir[0] == 0 && d.data_fingerprint[0] == 0 && d.n_curve == 0 &&
              d.steps == 0,
          "untrained checkpoint without data round-trips");
    if (rc == 0) ckpt_free(&d);
    ckpt_free(&c);

    /* Damage: flip one byte at many places; every one must be refused. */
    int all = 1;
    char path[256];
    snprintf(path, sizeof path, DIR_ "/flip.ckpt");
    for (int k = 0; k < 64 && fa; k++) {
        size_t at = k == 0 ? 0 : k == 1 ? na - 1 : k == 2 ? na / 2 : (na * (size_t)k) / 67;
        unsigned char *g = malloc(na);
        memcpy(g, fa, na);
        g[at] ^= 0x10;
        spit(path, g, na);
        free(g);
        ckpt_t x;
        char e2[512] = "";
        if (ckpt_load(path, &x, e2, sizeof e2) == 0) {
            printf("  # flipped byte at %zu accepted\n", at);
            ckpt_free(&x);
            all = 0;
        } else if (!strstr(e2, path)) {
            printf("  # message does not name the file: %s\n", e2);
            all = 0;
        }
    }
    check(all, "64 single-byte flips all refused, each message naming the file");
    /* A flip in the middle of the tensor data: the hash says so. */
    if (fa) {
        fa[na / 2] ^= 1;
        spit(path, fa, na);
        expect_refused(path, "hash mismatch", "flipped tensor byte: content hash mismatch");
        fa[na / 2] ^= 1;
        spit(DIR_ "/trunc.ckpt", fa, na / 2);
        expect_refused(DIR_ "/trunc.ckpt", "truncated", "truncated to half");
        spit(DIR_ "/trunc.ckpt", fa, na - 1);
        expect_refused(DIR_ "/trunc.ckpt", "truncated", "truncated by one byte");
        spit(DIR_ "/trunc.ckpt", fa, 0);
        expect_refused(DIR_ "/trunc.ckpt", "empty", "empty file");
        unsigned char *g = malloc(na + 1);
        memcpy(g, fa, na);
        g[na] = 0xc0;
        spit(DIR_ "/trunc.ckpt", g, na + 1);
        free(g);
        expect_refused(DIR_ "/trunc.ckpt", "after the map", "a trailing byte");
    }
    expect_refused(DIR_ "/does-not-exist.ckpt", "cannot open", "missing file");
    free(fa);
    free(fb);
    ckpt_free(&a);
    ckpt_free(&b);
}

/* A few-shot sub-supernet: the split round-trips, a one-shot file loads unsplit, ckpt_fits
 * follows the split, ckpt_siblings accepts another op at the same edge and nothing else. */
static void test_fewshot(void) {
    space_cfg_t cfg = small_cfg();
    ckpt_t a, b, c, d;
    char err[512];
    make_ckpt(&a, &cfg, &cfg, NULL, 7);
    a.fixed = 1, a.fix_gene = 3, a.fix_choice = 2;
    check(ckpt_save(DIR_ "/fix.ckpt", &a, err, sizeof err) == 0, "few-shot: save");
    int rc = ckpt_load(DIR_ "/fix.ckpt", &b, err, sizeof err);
    check(rc == 0 && b.fixed == 1 && b.fix_gene == 3 && b.fix_choice == 2,
          "few-shot: the split (edge 3, op 2) round-trips");
    make_ckpt(&c, &cfg, &cfg, NULL, 7);
    ckpt_save(DIR_ "/nofix.ckpt", &c, err, sizeof err);
    check(strcmp(c.hash, a.hash) != 0, "few-shot: the split changes the hash");
    int rc2 = ckpt_load(DIR_ "/nofix.ckpt", &d, err, sizeof err);
    check(rc2 == 0 && d.fixed == 0, "few-shot: a one-shot file loads unsplit");
    arch_t x = {.n = 6, .g = {0, 1, 2, 2, 4, 3}}, y = x;
    y.g[3] = 3;
    check(rc == 0 && rc2 == 0 && ckpt_fits(&b, &x) && !ckpt_fits(&b, &y) && ckpt_fits(&d, &x) &&
              ckpt_fits(&d, &y),
          "few-shot: ckpt_fits follows the split; a one-shot supernet fits all");
    if (rc == 0 && rc2 == 0) {
        ckpt_t e = b;
        e.fix_choice = 4, e.seed = 99;
        check(ckpt_siblings(&b, "b", &e, "e", err, sizeof err) == 0,
              "few-shot: another op at the same edge (another seed) is a sibling");
        struct { const char *what; int f; } cases[] = {{"same op", 0}, {"another gene", 1},
                                                       {"unsplit", 2}, {"other lr", 3},
                                                       {"other data", 4}, {"other cfg", 5}};
        for (int k = 0; k < 6; k++) {
            e = b, e.fix_choice = 4;
            if (cases[k].f == 0) e.fix_choice = 2;
            if (cases[k].f == 1) e.fix_gene = 0;
            if (cases[k].f == 2) e.fixed = 0;
            if (cases[k].f == 3) e.lr *= 2;
            if (cases[k].f == 4) e.data_fingerprint[0] = 'b';
            if (cases[k].f == 5) e.cfg.C++;
            char what[96];
            int r = ckpt_siblings(&b, "fb.ckpt", &e, "fe.ckpt", err, sizeof err);
            snprintf(what, sizeof what, "few-shot: %s is not a sibling, named", cases[k].what);
            check(r == -1 && strstr(err, "fb.ckpt") && strstr(err, "fe.ckpt"), what);
        }
    }
    if (rc == 0) ckpt_free(&b);
    if (rc2 == 0) ckpt_free(&d);
    ckpt_free(&a);
    ckpt_free(&c);
}

static void test_mismatch(void) {
    space_cfg_t cfg = small_cfg(), wide = small_cfg(), deep = small_cfg();
    wide.C = 8;
    deep.N = 2;
    ckpt_t c;
    char err[512];

    /* The header says C=8 but the tensors were made for C=4 (valid hash). */
    make_ckpt(&c, &wide, &cfg, NULL, 1);
    check(ckpt_save(DIR_ "/wide.ckpt", &c, err, sizeof err) == 0, "save a C-mismatched file");
    ckpt_free(&c);
    expect_refused(DIR_ "/wide.ckpt", "shape", "tensor shapes differ from the stored cfg");

    make_ckpt(&c, &deep, &cfg, NULL, 1);
    ckpt_save(DIR_ "/deep.ckpt", &c, err, sizeof err);
    ckpt_free(&c);
    expect_refused(DIR_ "/deep.ckpt", "missing tensor '", "N=2 header over N=1 tensors");

    make_ckpt(&c, &cfg, &cfg, "bogus.b", 1);
    ckpt_save(DIR_ "/extra.ckpt", &c, err, sizeof err);
    ckpt_free(&c);
    expect_refused(DIR_ "/extra.ckpt", "unexpected tensor 'bogus.b'", "an extra tensor");
}

static void test_atomic(void) {
    space_cfg_t cfg = small_cfg();
    ckpt_t c;
    char err[512];
    make_ckpt(&c, &cfg, &cfg, NULL, 3);

    /* A write that fails half-way (file size limit): the old target stays as it was and
     * no temporary is left. */
    spit(DIR_ "/old.ckpt", (const unsigned char *)"old", 3);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &lim);
    int rc = ckpt_save(DIR_ "/old.ckpt", &c, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    printf("  # %s\n", rc ? err : "(written)");
    size_t n;
    unsigned char *b = slurp(DIR_ "/old.ckpt", &n);
    check(rc != 0 && strstr(err, DIR_ "/old.ckpt"), "a failing write is reported");
    check(b && n == 3 && memcmp(b, "old", 3) == 0, "the previous target is untouched");
    check(count_prefix(DIR_, "old.ckpt.tmp") == 0, "no temporary left after a failed write");
    free(b);

    /* Target is a directory: rename fails, the temporary is removed. */
    mkdir(DIR_ "/isdir.ckpt", 0755);
    rc = ckpt_save(DIR_ "/isdir.ckpt", &c, err, sizeof err);
    printf("  # %s\n", rc ? err : "(written)");
    check(rc != 0 && count_prefix(DIR_, "isdir.ckpt.tmp") == 0,
          "rename onto a directory fails without leaving a temporary");
    rmdir(DIR_ "/isdir.ckpt");

    /* Directory that does not exist. */
    rc = ckpt_save(DIR_ "/nodir/x.ckpt", &c, err, sizeof err);
    check(rc != 0 && strstr(err, "cannot create"), "missing directory reported");

    /* Read-only directory (meaningless as root, who may write anyway). */
    if (geteuid() != 0) {
        mkdir(DIR_ "/ro", 0755);
        chmod(DIR_ "/ro", 0555);
        rc = ckpt_save(DIR_ "/ro/x.ckpt", &c, err, sizeof err);
        check(rc != 0 && count_prefix(DIR_ "/ro", "x.ckpt") == 0,
              "read-only directory: refused, nothing created");
        chmod(DIR_ "/ro", 0755);
        rmdir(DIR_ "/ro");
    } else {
        printf("# skip read-only directory case: running as root\n");
    }
    ckpt_free(&c);
}

/* Weight inheritance: a path built over the supernet params computes bit for bit what the
 * same cell computes when built standalone (own params_t) with the weights copied in by
 * name. */
static void test_inherit(void) {
    space_cfg_t cfg = small_cfg();
    ckpt_t c;
    char err[512];
    make_ckpt(&c, &cfg, &cfg, NULL, 11);
    ckpt_save(DIR_ "/inh.ckpt", &c, err, sizeof err);
    ckpt_free(&c);
    if (ckpt_load(DIR_ "/inh.ckpt", &c, err, sizeof err) != 0) {
        check(0, err);
        return;
    }
    enum { B = 4 };
    int D = cfg.in_ch * cfg.H * cfg.W;
    float *x = malloc(sizeof(float) * B * (size_t)D);
    int y[B];
    rng_t r;
    rng_seed(&r, 5);
    for (int i = 0; i < B * D; i++) x[i] = (float)rng_normal(&r);
    for (int i = 0; i < B; i++) y[i] = i % cfg.classes;

    int all = 1, all_params = 1;
    for (int t = 0; t < 8; t++) {
        arch_t a;
        if (t == 0) { /* every op on every edge at least once across the first tests */
            a.n = NB_N_EDGES;
            for (int e = 0; e < NB_N_EDGES; e++) a.g[e] = NB_CONV3;
        } else if (t == 1) {
            a.n = NB_N_EDGES;
            for (int e = 0; e < NB_N_EDGES; e++) a.g[e] = (e % 2) ? NB_CONV1 : NB_AVG3;
        } else {
            space_nb201.sample_path(&r, &a);
        }
        net_t ns, nt;
        params_t Q;
        params_init(&Q);
        net_init(&ns, &c.P, B);
        net_init(&nt, &Q, B);
        rng_t r2;
        rng_seed(&r2, 99);
        if (space_nb201.build(&ns, &cfg, &a) || net_finalize(&ns, NULL) ||
            space_nb201.build(&nt, &cfg, &a) || net_finalize(&nt, &r2)) {
            check(0, "build the path over the supernet and standalone");
            return;
        }
        /* Every standalone view exists in the supernet with the same shape. */
        for (int i = 0; i < Q.n; i++) {
            int j = params_find(&c.P, Q.v[i].name, 0);
            if (j < 0 || c.P.v[j].n != Q.v[i].n) {
                all_params = 0;
                continue;
            }
            memcpy(Q.w + Q.v[i].off, c.P.w + c.P.v[j].off, Q.v[i].n * 4);
        }
        for (int i = 0; i < Q.n_state; i++) {
            int j = params_find(&c.P, Q.sv[i].name, 1);
            if (j < 0 || c.P.sv[j].n != Q.sv[i].n) {
                all_params = 0;
                continue;
            }
            memcpy(Q.s + Q.sv[i].off, c.P.s + c.P.sv[j].off, Q.sv[i].n * 4);
        }
        check(net_param_count(&nt) == net_param_count(&ns), "subnet parameter counts agree");
        int modes[2] = {BN_EVAL, BN_BATCH};
        for (int m = 0; m < 2; m++) {
            ns.bn_mode = nt.bn_mode = modes[m];
            float ls = net_forward(&ns, x, y), lt = net_forward(&nt, x, y);
            const node_t *ks = &ns.nodes[ns.logits], *kt = &nt.nodes[nt.logits];
            size_t nl = (size_t)B * (size_t)cfg.classes;
            int same = memcmp(&ls, &lt, sizeof ls) == 0 && ks->B * ks->C * ks->H * ks->W ==
                                                                  kt->B * kt->C * kt->H * kt->W &&
                       memcmp(ks->y, kt->y, nl * 4) == 0 && isfinite(ls);
            if (!same) {
                printf("  # arch %d mode %d: loss %.9g vs %.9g\n", t, modes[m], ls, lt);
                all = 0;
            }
        }
        net_free(&ns);
        net_free(&nt);
        params_free(&Q);
    }
    check(all_params, "every standalone parameter is found in the supernet by name");
    check(all, "8 paths: subnet over the loaded supernet == standalone cell, bit-exact logits");
    free(x);
    ckpt_free(&c);
}

/* ckpt_bytes_bound is an upper bound on the file size, also with every variable-length
 * field at its longest, and not loose by more than its fixed allowance; a size over the
 * limit is refused with the limit named. */
static void test_size_bound(void) {
    space_cfg_t cfg = small_cfg();
    ckpt_t c;
    char err[512];
    struct stat st;
    check(make_ckpt(&c, &cfg, &cfg, NULL, 3) == 0, "size: build");
    size_t bound = ckpt_bytes_bound(&c.P);
    check(ckpt_save(DIR_ "/s.ckpt", &c, err, sizeof err) == 0 && stat(DIR_ "/s.ckpt", &st) == 0 &&
              (size_t)st.st_size <= bound && bound - (size_t)st.st_size < (40u << 10),
          "size: a small checkpoint is below the bound, within 40 KB of it");
    memset(c.data_dir, 'd', sizeof c.data_dir - 1);
    memset(c.data_options, 'o', sizeof c.data_options - 1);
    c.n_curve = CKPT_MAX_CURVE, c.n_norm = 64;
    for (int i = 0; i < CKPT_MAX_CURVE; i++) c.curve[i] = 1.0f / (float)(i + 3);
    for (int i = 0; i < 64; i++) c.norm_mean[i] = 0.1f * (float)i, c.norm_std[i] = 1.0f / (float)(i + 3);
    check(ckpt_save(DIR_ "/s.ckpt", &c, err, sizeof err) == 0 && stat(DIR_ "/s.ckpt", &st) == 0 &&
              (size_t)st.st_size <= bound,
          "size: every field at its longest, still below the bound");
    check(ckpt_size_check(&c.P, err, sizeof err) == 0, "size: a small supernet passes the check");
    ckpt_free(&c);
    params_t P;
    params_init(&P);
    int shape[2] = {1 << 14, 1 << 14}; /* 2^28 floats: 1 GiB of data alone */
    check(params_declare(&P, "w", PK_LINEAR_W, 2, shape) == 0 &&
              ckpt_size_check(&P, err, sizeof err) == -1 && strstr(err, "1073741824 bytes"),
          "size: 2^28 floats are refused before allocation, naming the limit");
    params_free(&P);
    unlink(DIR_ "/s.ckpt");
}

int main(void) {
    mkdir("tests/tmp", 0755);
    mkdir(DIR_, 0755);
    test_round_trip();
    test_fewshot();
    test_mismatch();
    test_atomic();
    test_inherit();
    test_size_bound();
    scratch_clean(DIR_);
    printf("%s\n", n_fail ? "FAILED" : "all passed");
    return n_fail ? 1 : 0;
}
