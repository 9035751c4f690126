/* trainer.c — train-arch's work on one record (see trainer.h). */
#include "model/trainer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "engine/net.h"
#include "engine/optim.h"
#include "model/fit.h"
#include "model/model.h"
#include "spaces/space.h"

static model_recipe_t recipe_of(const trainer_opts_t *o, int optimizer) {
    return (model_recipe_t){optimizer, o->epochs, o->batch, o->warmup, o->lr, o->momentum,
                            o->weight_decay, o->schedule, o->nesterov, (uint64_t)o->seed,
                            (int)o->threads, o->fraction, o->test_fraction};
}

/* Train a freshly built net of space sp and evaluate it into res. 0, or -1 with err. */
static int train_eval(const trainer_opts_t *o, const space_t *sp, net_t *net, const feed_t *f, long recno,
                      trainer_result_t *res, char *err, size_t n_err) {
    int tty = isatty(STDERR_FILENO);
    fit_progress_t p = {o->progress > 0 || (o->progress == 0 && tty), tty, recno};
    model_recipe_t r = recipe_of(o, sp->optimizer);
    fit_result_t fr;
    int rc = model_fit(net, f, &r, o->kind == SPACE_DATA_CLICKS, &p, &fr, err, n_err);
    res->test_acc = fr.test.acc, res->test_loss = fr.test.loss, res->auc = fr.test.auc;
    res->train_loss = fr.train_loss, res->images_per_s = fr.images_per_s;
    res->seconds = fr.seconds, res->params = fr.params;
    return rc;
}

/* Write the trained network P to o->save as a model file; its path into res->model.
 * 0, or -1 with err set (a write error). */
static int save_model(const trainer_opts_t *o, const space_t *sp, const space_cfg_t *c, const arch_t *a,
                      params_t *P, const feed_t *f, trainer_result_t *res, char *err, size_t n_err) {
    static model_t m; /* large; filled by hand, its buffers are P's and the feed's */
    memset(&m, 0, sizeof m);
    m.space = sp, m.cfg = *c, m.arch = *a, m.P = *P;
    if (sp->format(a, m.arch_str, sizeof m.arch_str) < 0) {
        snprintf(err, n_err, "cannot format the arch for the model file");
        return -1;
    }
    m.index = sp->to_index(a);
    snprintf(m.data_path, sizeof m.data_path, "%s", o->data_abs);
    memcpy(m.data_fingerprint, f->fingerprint, sizeof m.data_fingerprint);
    if (feed_options_string(&o->spec, m.data_options, sizeof m.data_options)) {
        snprintf(err, n_err, "data options too long for a model file (at most %zu bytes)",
                 sizeof m.data_options - 1);
        return -1;
    }
    m.n_norm = o->n_norm;
    memcpy(m.mean, o->mean, sizeof m.mean);
    memcpy(m.std, o->std, sizeof m.std);
    m.names = (char *)feed_class_names(f);
    m.n_names = m.names ? f->classes : 0;
    m.recipe = recipe_of(o, sp->optimizer);
    int clicks = o->kind == SPACE_DATA_CLICKS;
    m.metrics = (model_metrics_t){res->test_acc, res->test_loss, res->train_loss,
                                  clicks ? res->test_loss : NAN, clicks ? res->auc : NAN,
                                  f->n[FEED_TEST], (int64_t)res->params};
    char name[256];
    model_file_name(sp, a, c, name, sizeof name);
    snprintf(res->model, sizeof res->model, "%s/%s", o->save, name);
    return model_save(res->model, &m, err, n_err);
}

int trainer_record(const trainer_opts_t *o, const msgpack_object *in, const feed_t *f, long recno,
                        trainer_result_t *res, char *err, size_t n_err) {
    const space_t *sp;
    arch_t a;
    space_cfg_t c;
    if (space_read_record(in, &sp, &a, &c, err, n_err)) return -1;
    if (sp->data_kind == SPACE_DATA_CLICKS && c.extra[SPACE_CFG_ROWS] != o->rows) {
        snprintf(err, n_err, "record cfg hashes categoricals into %d rows, the data was read with %d "
                 "(one stream, one cfg)", c.extra[SPACE_CFG_ROWS], o->rows);
        return -1;
    }
    if (c.in_ch != f->c || c.H != f->h || c.W != f->w || c.classes != f->classes ||
        c.extra[SPACE_CFG_DENSE] != f->dense) {
        snprintf(err, n_err,
                 "record cfg wants %dx%dx%d input (%d dense) and %d classes, the data in %s has "
                 "%dx%dx%d (%d dense) and %d classes",
                 c.in_ch, c.H, c.W, c.extra[SPACE_CFG_DENSE], c.classes, o->data_dir, f->c, f->h,
                 f->w, f->dense, f->classes);
        return -1;
    }
    params_t P;
    net_t net;
    params_init(&P);
    net_init(&net, &P, (int)o->batch);
    rng_t ri;
    rng_seed(&ri, (uint64_t)o->seed);
    int rc = -1;
    if (sp->build(&net, &c, &a) < 0) {
        snprintf(err, n_err, "cannot build the %s network for this arch", sp->name);
    } else if (o->save && model_size_check(&P, err, n_err)) {
        /* refused before the work (declared sizes, nothing allocated yet), not after it */
    } else if ((net.share_dy = net.no_input_dy = 1, net_finalize(&net, &ri)) < 0) {
        /* no node dy is read, the image's gradient neither */
        snprintf(err, n_err, "cannot allocate the network: out of memory for %zu parameters "
                 "(%.0f MB with gradients and momentum)%s", P.n_floats, 12e-6 * (double)P.n_floats,
                 net.n_arena ? " and its activations (see --batch)" : "");
    } else {
        rc = train_eval(o, sp, &net, f, recno, res, err, n_err);
        if (rc == 0 && o->save && save_model(o, sp, &c, &a, &P, f, res, err, n_err)) rc = -2;
    }
    net_free(&net);
    params_free(&P);
    return rc;
}

int trainer_truth(rec_t *e, const trainer_opts_t *o, const trainer_result_t *r, const char *fp) {
    int bad = 0;
    bad |= rec_set_f64(e, "truth.test_acc", r->test_acc);
    bad |= rec_set_f64(e, "truth.test_loss", r->test_loss);
    bad |= rec_set_f64(e, "truth.train_loss", r->train_loss);
    if (o->kind == SPACE_DATA_CLICKS) {
        bad |= rec_set_f64(e, "truth.logloss", r->test_loss);
        bad |= rec_set_f64(e, "truth.auc", r->auc);
        bad |= rec_set_str(e, "truth.recipe.optimizer", "adagrad");
    }
    bad |= rec_set_f64(e, "truth.seconds", r->seconds);
    if (r->model[0]) bad |= rec_set_str(e, "model", r->model);
    bad |= rec_set_i64(e, "truth.epochs", o->epochs);
    bad |= rec_set_i64(e, "truth.params", (int64_t)r->params);
    bad |= rec_set_i64(e, "truth.recipe.epochs", o->epochs);
    bad |= rec_set_i64(e, "truth.recipe.batch", o->batch);
    bad |= rec_set_f64(e, "truth.recipe.lr", o->lr);
    bad |= rec_set_str(e, "truth.recipe.schedule", optim_kind_name(o->schedule));
    bad |= rec_set_i64(e, "truth.recipe.warmup", o->warmup);
    bad |= rec_set_f64(e, "truth.recipe.momentum", o->momentum);
    bad |= rec_set_bool(e, "truth.recipe.nesterov", o->nesterov);
    bad |= rec_set_f64(e, "truth.recipe.weight_decay", o->weight_decay);
    bad |= rec_set_i64(e, "truth.recipe.seed", o->seed);
    bad |= rec_set_i64(e, "truth.recipe.threads", o->threads); /* results depend on it */
    bad |= rec_set_f64(e, "truth.recipe.fraction", o->fraction);
    bad |= rec_set_f64(e, "truth.recipe.test_fraction", o->test_fraction);
    bad |= rec_set_str(e, "truth.recipe.data", o->data_abs);
    bad |= rec_set_str(e, "truth.recipe.data_sha256", fp);
    char dopt[16384];
    bad |= feed_options_string(&o->spec, dopt, sizeof dopt);
    bad |= rec_set_str(e, "truth.recipe.data_options", dopt);
    if (o->n_norm) { /* the training split's statistics the inputs were normalized with */
        msgpack_object m[2][DATA_MAX_CH], a[2];
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < o->n_norm; i++) {
                m[k][i].type = MSGPACK_OBJECT_FLOAT64;
                m[k][i].via.f64 = k ? o->std[i] : o->mean[i];
            }
            a[k].type = MSGPACK_OBJECT_ARRAY;
            a[k].via.array.size = (uint32_t)o->n_norm;
            a[k].via.array.ptr = m[k];
        }
        bad |= rec_set_obj(e, "truth.recipe.norm_mean", &a[0]);
        bad |= rec_set_obj(e, "truth.recipe.norm_std", &a[1]);
    }
    return bad ? -1 : 0;
}

int trainer_load(trainer_opts_t *o, feed_t *f) {
    feed_opts_t fo;
    feed_opts_default(&fo, o->kind);
    fo.data = o->spec;
    fo.data.kind = o->kind;
    fo.data.path = o->data_dir;
    fo.data.rows = o->rows;
    fo.seed = (uint64_t)o->seed;
    fo.fraction = o->fraction;
    fo.test_fraction = o->test_fraction;
    fo.want_test = 1;
    int frc = feed_open_cli(f, &fo);
    if (frc) return frc;
    if (f->n[FEED_TRAIN] < o->batch || f->n[FEED_TEST] == 0) {
        util_err("%s: %d training and %d held-out examples, need a batch of %ld and one",
                 o->data_dir, f->n[FEED_TRAIN], f->n[FEED_TEST], o->batch);
        feed_close(f);
        return EXIT_BAD_INPUT;
    }
    o->n_norm = f->normalize ? f->c : 0;
    memcpy(o->mean, f->mean, sizeof(float) * (size_t)o->n_norm);
    memcpy(o->std, f->std, sizeof(float) * (size_t)o->n_norm);
    return EXIT_OK;
}

