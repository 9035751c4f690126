/* test_model.c — model files: bit-exact round trip of every header field and tensor, the
 * loaded network computing exactly what the saved one did, and refusal of damaged,
 * truncated, mismatched and wrong-kind files (each message names the file). */
#include "model/ckpt.h"
#include "model/model.h"
#include "filetest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIR_ "tests/tmp/test_model"

/* A model of arch string s: random weights and BN statistics, every header field set.
 * Its P is allocated through a net of batch 2 (freed). */
static int make_model(model_t *m, const char *s, uint64_t seed) {
    char err[256];
    memset(m, 0, sizeof *m);
    m->space = &space_nb201;
    m->cfg = small_cfg();
    if (space_nb201.parse(s, &m->arch, err, sizeof err)) return -1;
    snprintf(m->arch_str, sizeof m->arch_str, "%s", s);
    m->index = space_nb201.to_index(&m->arch);
    strcpy(m->data_path, "/nonexistent/data");
    memset(m->data_fingerprint, 'b', 64);
    strcpy(m->data_options, "--holdout 0.2");
    m->n_norm = 1, m->mean[0] = 0.25f, m->std[0] = 0.5f;
    static char names[] = "cat\0dog\0bird";
    m->names = names, m->n_names = 3;
    m->recipe = (model_recipe_t){0, 3, 16, 5, 0.05, 0.9, 5e-4, 0, 1, seed, 2, 0.5, 0.25};
    m->metrics = (model_metrics_t){0.75, 0.6, 0.7, NAN, NAN, 40, 0};
    params_init(&m->P);
    net_t net;
    net_init(&net, &m->P, 2);
    rng_t r;
    rng_seed(&r, seed);
    int rc = space_nb201.build(&net, &m->cfg, &m->arch) < 0 || net_finalize(&net, &r) < 0;
    net_free(&net);
    for (size_t i = 0; !rc && i < m->P.n_state_floats; i++) m->P.s[i] = 0.5f + (float)rng_uniform(&r);
    m->metrics.params = (int64_t)m->P.n_floats;
    return rc ? -1 : 0;
}

static int load(const char *path, char *err, size_t n_err) {
    model_t x;
    int rc = model_load(path, &x, err, n_err);
    if (rc == 0) model_free(&x);
    return rc;
}

/* The load of path must fail with a message that names the file and contains want. */
static void expect_refused(const char *path, const char *want, const char *what) {
    refused_by(load, path, want, what);
}

/* Logits of m's network in inference mode on a fixed batch of 2. */
static void logits_of(model_t *m, float *out) {
    net_t net;
    char err[256];
    float x[2 * 64];
    int y[2] = {0, 1};
    for (int i = 0; i < 128; i++) x[i] = sinf((float)i);
    if (model_net(m, &net, 2, err, sizeof err) == 0) {
        net_forward(&net, x, y);
        memcpy(out, net.nodes[net.logits].y, 6 * sizeof(float));
    } else {
        for (int i = 0; i < 6; i++) out[i] = NAN;
    }
    net_free(&net);
}

static void test_round_trip(void) {
    const char *s = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|skip_connect~1|nor_conv_3x3~2|";
    model_t a, b;
    char err[512];
    check(make_model(&a, s, 5) == 0, "build a model");
    check(model_save(DIR_ "/a.model", &a, err, sizeof err) == 0, "save");
    int rc = model_load(DIR_ "/a.model", &b, err, sizeof err);
    if (rc) printf("  # %s\n", err);
    check(rc == 0, "load");
    if (rc) return;
    check(!strcmp(a.hash, b.hash) && strlen(b.hash) == 64, "hash reported by save and load");
    check(b.space == &space_nb201 && space_cfg_equal(&a.cfg, &b.cfg) && !strcmp(a.arch_str, b.arch_str) &&
              b.index == a.index && b.arch.n == a.arch.n, "space, cfg, arch, index");
    check(!strcmp(b.data_path, a.data_path) && !strcmp(b.data_fingerprint, a.data_fingerprint) &&
              !strcmp(b.data_options, a.data_options) && b.n_norm == 1 && b.mean[0] == 0.25f &&
              b.std[0] == 0.5f, "data path, fingerprint, options, normalization");
    check(b.n_names == 3 && !strcmp(model_class_name(&b, 2), "bird") &&
              model_class_name(&b, 3) == NULL, "class names");
    check(!memcmp(&a.recipe, &b.recipe, sizeof a.recipe), "recipe");
    check(b.metrics.test_acc == 0.75 && b.metrics.n_test == 40 && isnan(b.metrics.auc) &&
              b.metrics.params == a.metrics.params, "metrics");
    int same = a.P.n == b.P.n && a.P.n_state == b.P.n_state && a.P.n_floats == b.P.n_floats &&
               !memcmp(a.P.w, b.P.w, a.P.n_floats * 4) && !memcmp(a.P.s, b.P.s, a.P.n_state_floats * 4);
    check(same, "every parameter and BN statistic bit-exact");
    float la[6], lb[6];
    logits_of(&a, la);
    logits_of(&b, lb);
    check(!memcmp(la, lb, sizeof la) && isfinite(la[0]), "the loaded network computes the saved one's logits exactly");
    model_t c;
    make_model(&c, s, 5);
    check(model_save(DIR_ "/c.model", &c, err, sizeof err) == 0 && !strcmp(c.hash, a.hash),
          "the same model twice: the same bytes");
    params_free(&c.P);
    model_free(&b);
    params_free(&a.P);
}

static void test_refused(void) {
    size_t n;
    unsigned char *buf = slurp(DIR_ "/a.model", &n);
    if (!buf) {
        check(0, "read back a.model");
        return;
    }
    buf[n / 2] ^= 0x10;
    spit(DIR_ "/flip.model", buf, n);
    expect_refused(DIR_ "/flip.model", "hash mismatch", "a flipped bit: content hash mismatch");
    buf[n / 2] ^= 0x10;
    spit(DIR_ "/trunc.model", buf, n / 3);
    expect_refused(DIR_ "/trunc.model", "truncated", "truncated to a third");
    spit(DIR_ "/trunc.model", buf, n - 1);
    expect_refused(DIR_ "/trunc.model", "truncated", "truncated by one byte");
    spit(DIR_ "/trunc.model", buf, 0);
    expect_refused(DIR_ "/trunc.model", "empty", "empty file");
    expect_refused(DIR_ "/none.model", "cannot open", "missing file");
    free(buf);

    /* A supernet checkpoint given as a model. */
    ckpt_t k;
    memset(&k, 0, sizeof k);
    k.space = &space_nb201;
    k.cfg = small_cfg();
    params_init(&k.P);
    char err[512];
    if (space_nb201.declare_supernet(&k.P, &k.cfg) == 0 && params_alloc(&k.P) == 0 &&
        ckpt_save(DIR_ "/sn.ckpt", &k, err, sizeof err) == 0)
        expect_refused(DIR_ "/sn.ckpt", "kind is \"supernet\", not \"model\"", "a supernet checkpoint");
    else
        check(0, "write a supernet checkpoint");
    ckpt_free(&k);
    /* A model given as a supernet checkpoint. */
    char e2[512] = "";
    int rc = ckpt_load(DIR_ "/a.model", &k, e2, sizeof e2);
    printf("  # a model as checkpoint -> %s\n", e2);
    check(rc != 0 && strstr(e2, "kind is \"model\", not \"supernet\""), "a model file given as a checkpoint");
    if (rc == 0) ckpt_free(&k);
}

/* Tensors of one arch under the header of another: names or shapes differ. */
static void test_mismatch(void) {
    model_t a;
    char err[512];
    const char *s1 = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|skip_connect~1|nor_conv_3x3~2|";
    const char *s2 = "|nor_conv_1x1~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|skip_connect~1|nor_conv_3x3~2|";
    if (make_model(&a, s1, 3)) {
        check(0, "build a model");
        return;
    }
    /* save under the other arch's header: conv 3x3 tensors under a 1x1 arch */
    model_t b = a;
    space_nb201.parse(s2, &b.arch, err, sizeof err);
    snprintf(b.arch_str, sizeof b.arch_str, "%s", s2);
    check(model_save(DIR_ "/other.model", &b, err, sizeof err) == 0, "save under another arch");
    expect_refused(DIR_ "/other.model", "unexpected tensor 's0.c0.e0.conv3.conv.w' (the nb201 network for the stored arch and cfg has no such parameter)",
                   "tensors of another arch");
    b = a;
    b.cfg.C = 8;
    check(model_save(DIR_ "/wide.model", &b, err, sizeof err) == 0, "save under another cfg");
    expect_refused(DIR_ "/wide.model", "shape", "tensors of another cfg");
    params_free(&a.P);
}

int main(void) {
    mkdir("tests/tmp", 0777);
    mkdir(DIR_, 0777);
    test_round_trip();
    test_refused();
    test_mismatch();
    scratch_clean(DIR_);
    printf("%s\n", n_fail ? "FAILED" : "all passed");
    return n_fail ? 1 : 0;
}
