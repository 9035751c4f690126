/* train-arch — train each arch record's network from scratch and write the record back
 * with the results under "truth" (docs/train-arch.md).
 *
 *   sample-arch -n 10 | train-arch --epochs 1 | mp2json
 *
 * Every record is trained independently from the same seed, so a record's result does
 * not depend on its position in the stream (streams can be split across processes). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/criteo.h"
#include "data/feed.h"
#include "engine/layers.h"
#include "engine/net.h"
#include "engine/optim.h"
#include "io/rec.h"
#include "model/fit.h"
#include "model/model.h"
#include "spaces/space.h"
#include "base/util.h"

typedef struct {
    const char *data_dir;
    char data_abs[4096]; /* data_dir made absolute: what records and models store */
    int data_given, kind, rows; /* clicks: the data kind loaded and its hash rows */
    long epochs, batch, seed, warmup, threads;
    double lr, momentum, weight_decay, fraction, test_fraction;
    data_spec_t spec; /* the data options (feed.h) */
    int n_norm;       /* the data's normalization, for the records */
    float mean[DATA_MAX_CH], std[DATA_MAX_CH];
    int schedule, nesterov, progress; /* progress: -1 quiet, 0 auto (tty), 1 forced */
    int force;
    const char *save;  /* --save DIR: a model file per record, or NULL */
} opts_t;

/* What one training run produced. */
typedef struct {
    double test_acc, test_loss, train_loss, seconds, images_per_s;
    double auc; /* click data: held-out AUC (test_loss is then the log loss) */
    size_t params;
    char model[4096 + 64]; /* the model file written (--save), else "" */
} result_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: train-arch [options] < arch records > records with truth\n"
            "Trains each record's network from scratch, evaluates it on the test split and adds\n"
            "truth.{test_acc,test_loss,train_loss,seconds,epochs,params,recipe}.\n"
            "  --data PATH          IDX or CIFAR-10 directory, .npy/.npz, class folders of\n"
            "                       images [" DATA_DEFAULT_DIR "]; click table for click\n"
            "                       spaces [" CRITEO_DEFAULT_FILE "] (docs/data.md)\n"
            "  --epochs INT         training epochs [1]\n"
            "  --batch INT          batch size [64]\n"
            "  --lr X               peak learning rate [0.1]\n"
            "  --schedule NAME      cosine|constant, per step over the whole run [cosine]\n"
            "  --warmup INT         linear warm-up steps [0]\n"
            "  --momentum X         SGD momentum [0.9]\n"
            "  --nesterov, --no-nesterov  Nesterov momentum [on]\n"
            "  --weight-decay X     L2 on conv/linear weights [5e-4]\n"
            "  --seed INT           initialization, data order and subsets [1]\n"
            "  --fraction F         share of the training set, (0,1] [1]\n"
            "  --test-fraction F    share of the test set, (0,1] [1]\n"
            FEED_USAGE
            "  --threads INT        engine threads (results depend on it) [1]\n"
            "  --save DIR           write each trained network as DIR/<space>-<index>.model\n"
            "                       (or <space>-<arch hash>.model) and its path as \"model\"\n"
            "                       [none] (docs/models.md)\n"
            "  --progress           progress on stderr even when it is not a terminal\n"
            "  -q, --quiet          no progress, even on a terminal\n"
            "  -f, --force          write binary records to a terminal\n"
            REC_POLICY_USAGE
            "  -h, --help           this text\n"
            "A record that cannot be trained (bad arch or cfg, loss not finite) is bad input:\n"
            "exit 1 after the records before it (docs/reliability.md).\n");
}

/* The recipe of the run for a space's optimizer, as model files and model_fit take it. */
static model_recipe_t recipe_of(const opts_t *o, int optimizer)
{
    return (model_recipe_t){optimizer, o->epochs, o->batch, o->warmup, o->lr, o->momentum,
                            o->weight_decay, o->schedule, o->nesterov, (uint64_t)o->seed,
                            (int)o->threads, o->fraction, o->test_fraction};
}

/* Train a freshly built net of space sp and evaluate it into res. 0, or -1 with err. */
static int train_eval(const opts_t *o, const space_t *sp, net_t *net, const feed_t *f, long recno,
                      result_t *res, char *err, size_t n_err)
{
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
static int save_model(const opts_t *o, const space_t *sp, const space_cfg_t *c, const arch_t *a,
                      params_t *P, const feed_t *f, result_t *res, char *err, size_t n_err)
{
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
    model_file_name(sp, a, name, sizeof name);
    snprintf(res->model, sizeof res->model, "%s/%s", o->save, name);
    return model_save(res->model, &m, err, n_err);
}

/* Build, train and evaluate the record's network (and save it under --save); 0, -1 with
 * err set (bad input), or -2 (the model file could not be written). */
static int train_record(const opts_t *o, const msgpack_object *in, const feed_t *f, long recno,
                        result_t *res, char *err, size_t n_err)
{
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

static int add_truth(rec_t *e, const opts_t *o, const result_t *r, const char *fp)
{
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

/* Both splits, subsets taken (data/feed.h). EXIT_OK, or the exit code after saying what
 * is wrong. */
static int load_data(const opts_t *o, feed_t *f)
{
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
    char err[1024];
    int frc = feed_open(f, &fo, err, sizeof err);
    if (frc) {
        util_err("%s", err);
        feed_close(f);
        return util_load_exit(frc);
    }
    if (f->n[FEED_TRAIN] < o->batch || f->n[FEED_TEST] == 0) {
        util_err("%s: %d training and %d held-out examples, need a batch of %ld and one",
                 o->data_dir, f->n[FEED_TRAIN], f->n[FEED_TEST], o->batch);
        feed_close(f);
        return EXIT_BAD_INPUT;
    }
    return EXIT_OK;
}

/* --save DIR: an existing directory, or one made now (its parent must exist). 0, or -1
 * after saying what is wrong. */
static int save_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        util_err("--save %s: not a directory", dir);
        return -1;
    }
    if (errno == ENOENT && mkdir(dir, 0777) == 0) return 0;
    util_err("--save %s: %s", dir, strerror(errno));
    return -1;
}

enum opt_id { O_DATA = 256, O_EPOCHS, O_BATCH, O_LR, O_SCHED, O_WARMUP, O_MOM, O_NEST, O_NONEST,
              O_WD, O_SEED, O_FRAC, O_TFRAC, O_THREADS, O_PROGRESS, O_KEEP, O_OKBAD, O_SAVE };

/* Options into o and pol; -1 to go on, else the exit status (after --help, or a usage
 * error). */
static int parse_opts(int argc, char **argv, opts_t *o, rec_policy_t *pol)
{
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA},         {"epochs", 1, 0, O_EPOCHS},
        {"batch", 1, 0, O_BATCH},       {"lr", 1, 0, O_LR},
        {"schedule", 1, 0, O_SCHED},    {"warmup", 1, 0, O_WARMUP},
        {"momentum", 1, 0, O_MOM},      {"nesterov", 0, 0, O_NEST},
        {"no-nesterov", 0, 0, O_NONEST}, {"weight-decay", 1, 0, O_WD},
        {"seed", 1, 0, O_SEED},         {"fraction", 1, 0, O_FRAC},
        {"test-fraction", 1, 0, O_TFRAC}, {"threads", 1, 0, O_THREADS},
        {"progress", 0, 0, O_PROGRESS}, {"quiet", 0, 0, 'q'},
        {"force", 0, 0, 'f'},           {"help", 0, 0, 'h'},
        {"keep-going", 0, 0, O_KEEP},   {"ok-if-bad", 0, 0, O_OKBAD},
        {"save", 1, 0, O_SAVE},
        FEED_LONG_OPTIONS,              {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "qfh", lo, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case O_DATA: o->data_dir = optarg, o->data_given = 1; break;
        case O_EPOCHS: bad = util_parse_long(optarg, 1, 100000, &o->epochs); break;
        case O_BATCH: bad = util_parse_long(optarg, 1, 65536, &o->batch); break;
        case O_LR: bad = util_parse_double(optarg, &o->lr) || !(o->lr > 0); break;
        case O_SCHED: bad = (o->schedule = optim_kind_parse(optarg)) < 0; break;
        case O_WARMUP: bad = util_parse_long(optarg, 0, 1L << 40, &o->warmup); break;
        case O_MOM: bad = util_parse_double(optarg, &o->momentum) || o->momentum < 0 || o->momentum >= 1; break;
        case O_NEST: o->nesterov = 1; break;
        case O_NONEST: o->nesterov = 0; break;
        case O_WD: bad = util_parse_double(optarg, &o->weight_decay) || o->weight_decay < 0; break;
        case O_SEED: bad = util_parse_long(optarg, 0, (long)(~0ul >> 1), &o->seed); break;
        case O_FRAC: bad = util_parse_double(optarg, &o->fraction) || !(o->fraction > 0 && o->fraction <= 1); break;
        case O_TFRAC: bad = util_parse_double(optarg, &o->test_fraction) || !(o->test_fraction > 0 && o->test_fraction <= 1); break;
        case O_THREADS: bad = util_parse_long(optarg, 1, LAY_MAX_THREADS, &o->threads); break;
        case O_PROGRESS: o->progress = 1; break;
        case 'q': o->progress = -1; break;
        case O_KEEP: pol->keep_going = 1, o->spec.keep_going = 1; break;
        case O_OKBAD: pol->ok_if_bad = 1; break;
        case 'f': o->force = 1; break;
        case O_SAVE: bad = !optarg[0]; o->save = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: {
            int f = feed_option_cli(&o->spec, ch, optarg);
            if (f) return f > 0 ? usage(stderr), EXIT_USAGE : EXIT_USAGE;
        }
        }
        if (bad) return util_bad_option(lo, ch, optarg), EXIT_USAGE;
    }
    if (optind < argc) {
        util_err("unexpected argument '%s' (records come on stdin)", argv[optind]);
        return EXIT_USAGE;
    }
    return -1;
}

int main(int argc, char **argv)
{
    util_set_prog("train-arch");
    opts_t o = {.data_dir = DATA_DEFAULT_DIR, .epochs = 1, .batch = 64, .seed = 1, .warmup = 0,
                .threads = 1, .lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4, .fraction = 1,
                .test_fraction = 1, .schedule = OPTIM_COSINE, .nesterov = 1};
    rec_policy_t pol = {0, 0, 0};
    feed_opts_t fd;
    feed_opts_default(&fd, DATA_IMAGES);
    o.spec = fd.data;
    int prc = parse_opts(argc, argv, &o, &pol);
    if (prc >= 0) return prc;
    if (util_check_binary_stdout(o.force)) return EXIT_USAGE;
    if (o.save && save_dir(o.save)) return EXIT_USAGE;
    lay_set_threads((int)o.threads);

    feed_t feed = {0};
    int rc = EXIT_OK, loaded = 0;
    rec_reader_t *rd = rec_reader_new(STDIN_FILENO, "stdin", 0);
    rec_reader_policy(rd, &pol);
    rec_writer_t *wr = rec_writer_new(STDOUT_FILENO);
    if (!rd || !wr) {
        util_err("out of memory");
        return EXIT_IO;
    }
    msgpack_object in;
    int r;
    char err[1024];
    while ((r = rec_read(rd, &in)) == 1) {
        long n = rec_reader_count(rd);
        result_t res;
        res.model[0] = 0;
        rec_t e;
        if (!loaded) {
            /* The data kind (and for clicks the hash rows) come from the first record. */
            const space_t *sp;
            arch_t a;
            space_cfg_t c;
            if (space_read_record(&in, &sp, &a, &c, err, sizeof err)) {
                if (rec_policy_bad(&pol, n, "%s", err)) continue; /* the next record decides */
                rc = EXIT_BAD_INPUT;
                break;
            }
            o.kind = sp->data_kind;
            o.rows = c.extra[SPACE_CFG_ROWS];
            if (!o.data_given) o.data_dir = feed_default_path(o.kind);
            if (util_abs_path(o.data_dir, o.data_abs, sizeof o.data_abs))
                snprintf(o.data_abs, sizeof o.data_abs, "%s", o.data_dir);
            o.spec.in_c = c.in_ch, o.spec.in_h = c.H, o.spec.in_w = c.W;
            if ((rc = load_data(&o, &feed))) break;
            o.n_norm = feed.normalize ? feed.c : 0;
            memcpy(o.mean, feed.mean, sizeof(float) * (size_t)o.n_norm);
            memcpy(o.std, feed.std, sizeof(float) * (size_t)o.n_norm);
            loaded = 1;
            if (lay_blas_room(err, sizeof err)) {
                util_err("%s", err);
                rc = EXIT_IO;
                break;
            }
        }
        int trc = train_record(&o, &in, &feed, n, &res, err, sizeof err);
        if (trc == -2) {
            util_err("%s (record %ld)", err, n);
            rc = EXIT_IO;
            break;
        }
        if (trc) {
            if (rec_policy_bad(&pol, n, "%s", err)) continue;
            rc = EXIT_BAD_INPUT;
            break;
        }
        if (rec_edit_begin(&e, &in) || add_truth(&e, &o, &res, feed.fingerprint)) {
            util_err("out of memory (record %ld)", n);
            rc = EXIT_IO;
            break;
        }
        if ((o.progress > 0 || (o.progress == 0 && isatty(STDERR_FILENO))) && o.kind == SPACE_DATA_CLICKS)
            util_msg("record %ld: auc %.4f logloss %.4f train_loss %.4f in %.1f s", n, res.auc,
                     res.test_loss, res.train_loss, res.seconds);
        else if (o.progress > 0 || (o.progress == 0 && isatty(STDERR_FILENO)))
            util_msg("record %ld: test_acc %.4f test_loss %.4f train_loss %.4f in %.1f s "
                     "(%.0f img/s)", n, res.test_acc, res.test_loss, res.train_loss, res.seconds,
                     res.images_per_s);
        int w = rec_write(wr, &e.root);
        rec_edit_end(&e);
        if (w) {
            util_err("writing record %ld: %s", n, strerror(errno));
            rc = EXIT_IO;
            break;
        }
    }
    if (r < 0) rc = rec_policy_stream_error(&pol, rec_reader_error(rd), rec_reader_count(rd));
    rc = rec_policy_exit(&pol, rc);
    rec_reader_free(rd);
    rec_writer_free(wr);
    feed_close(&feed);
    return rc;
}
