/* predict — apply a trained model (train-arch --save) to data: one prediction record per
 * example, or with --eval the test metrics train-arch reported (docs/models.md).
 *
 *   predict --model models/nb201-963.model --data photos | mp2json | head
 *   predict --model models/nb201-963.model --eval */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "data/feed.h"
#include "engine/layers.h"
#include "io/container.h"
#include "io/file.h"
#include "model/eval.h"
#include "model/model.h"

typedef struct {
    const char *model, *out;
    int eval, force;
    long threads; /* 0: the model's */
    double test_fraction; /* 0: the recipe's for --eval, else 1 */
    model_feed_t feed;
} opts_t;

static void usage(FILE *f) {
    fprintf(f,
            "usage: predict --model FILE [options] > prediction records\n"
            "Applies a model file (train-arch --save) to data: one record per example of the\n"
            "split, {kind: \"prediction\", index, label, pred, probs} (click models: prob), or\n"
            "with --eval one JSON line of test metrics.\n"
            "  --model FILE         the model file (required)\n"
            "  --data PATH          data as train-arch reads it [the data the model was trained on]\n"
            FEED_USAGE
            "                       [the data options the model was trained with]\n"
            "  --split NAME         test|train [test]\n"
            "  --test-fraction F    share of the test split, (0,1], drawn as train-arch drew it\n"
            "                       [with --eval: the model's recipe; else 1]\n"
            "  --eval               print accuracy and loss (click models: log loss and AUC)\n"
            "  --threads INT        engine threads (results depend on it) [the model's recipe]\n"
            "  -o, --output FILE    write there (atomically) instead of stdout\n"
            "  -f, --force          write binary records to a terminal\n"
            "  -h, --help           this text\n");
}

/* The output stream: records packed into sb, written out whole. */
typedef struct {
    const model_t *m;
    const feed_t *f;
    int split, fd, clicks;
    msgpack_sbuffer sb;
    msgpack_packer pk;
} out_t;

static int flush_out(out_t *o) {
    int rc = io_write_all(o->fd, o->sb.data, o->sb.size);
    msgpack_sbuffer_clear(&o->sb);
    return rc;
}

/* One prediction record (eval_fn). */
static int put_prediction(void *arg, int pos, const float *l, int k, int label) {
    out_t *o = arg;
    msgpack_packer *pk = &o->pk;
    int pred = o->clicks ? l[0] > 0 : eval_argmax(l, k);
    const char *name = model_class_name(o->m, pred);
    int rc = msgpack_pack_map(pk, (size_t)(5 + (name != NULL)));
    rc |= ctr_pack_cstr(pk, "kind") | ctr_pack_cstr(pk, "prediction");
    rc |= ctr_pack_cstr(pk, "index") | msgpack_pack_int(pk, feed_split_index(o->f, o->split, pos));
    rc |= ctr_pack_cstr(pk, "label") | msgpack_pack_int(pk, label);
    rc |= ctr_pack_cstr(pk, "pred") | msgpack_pack_int(pk, pred);
    if (name) rc |= ctr_pack_cstr(pk, "class") | ctr_pack_cstr(pk, name);
    if (o->clicks) {
        rc |= ctr_pack_cstr(pk, "prob") | msgpack_pack_double(pk, 1 / (1 + exp(-(double)l[0])));
    } else { /* softmax in double */
        double mx = l[pred], se = 0;
        for (int j = 0; j < k; j++) se += exp(l[j] - mx);
        rc |= ctr_pack_cstr(pk, "probs") | msgpack_pack_array(pk, (size_t)k);
        for (int j = 0; j < k; j++) rc |= msgpack_pack_double(pk, exp(l[j] - mx) / se);
    }
    if (rc) return -2;
    return o->sb.size >= (1u << 16) && flush_out(o) ? -3 : 0;
}

/* A double as the fewest digits that read back to it (as mp2json writes numbers). */
static void put_num(FILE *f, const char *key, double v) {
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v) break;
    }
    fprintf(f, ",\"%s\":%s", key, isfinite(v) ? buf : "null");
}

static int put_eval(out_t *o, const eval_result_t *r, double test_fraction) {
    FILE *f = fdopen(dup(o->fd), "w");
    if (!f) return -1;
    fprintf(f, "{\"kind\":\"evaluation\",\"split\":\"%s\",\"n\":%ld",
            o->split == FEED_TEST ? "test" : "train", r->n);
    put_num(f, "test_fraction", test_fraction);
    put_num(f, o->split == FEED_TEST ? "test_acc" : "train_acc", r->acc);
    put_num(f, o->split == FEED_TEST ? "test_loss" : "train_loss", r->loss);
    if (o->clicks) put_num(f, "logloss", r->loss), put_num(f, "auc", r->auc);
    fprintf(f, "}\n");
    return fclose(f) ? -1 : 0;
}

enum opt_id { O_MODEL = 256, O_DATA, O_SPLIT, O_TFRAC, O_EVAL, O_THREADS };

/* Options into o; -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, opts_t *o) {
    static const struct option lo[] = {
        {"model", 1, 0, O_MODEL}, {"data", 1, 0, O_DATA},     {"split", 1, 0, O_SPLIT},
        {"test-fraction", 1, 0, O_TFRAC}, {"eval", 0, 0, O_EVAL}, {"threads", 1, 0, O_THREADS},
        {"output", 1, 0, 'o'},    {"force", 0, 0, 'f'},       {"help", 0, 0, 'h'},
        FEED_LONG_OPTIONS,        {0, 0, 0, 0}};
    int ch;
    data_spec_t check;
    memset(&check, 0, sizeof check);
    while ((ch = getopt_long(argc, argv, "o:fh", lo, NULL)) != -1) {
        int bad = 0;
        char err[256];
        switch (ch) {
        case O_MODEL: o->model = optarg; break;
        case O_DATA: o->feed.path = optarg; break;
        case O_SPLIT:
            bad = strcmp(optarg, "test") && strcmp(optarg, "train");
            o->feed.split = strcmp(optarg, "train") ? FEED_TEST : FEED_TRAIN;
            break;
        case O_TFRAC: bad = util_parse_double(optarg, &o->test_fraction) || !(o->test_fraction > 0 && o->test_fraction <= 1); break;
        case O_EVAL: o->eval = 1; break;
        case O_THREADS: bad = util_parse_long(optarg, 1, LAY_MAX_THREADS, &o->threads); break;
        case 'o': o->out = optarg; break;
        case 'f': o->force = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: /* a data option: checked now, applied over the model's later */
            if (ch < FEED_OPT || ch >= FEED_OPT + FEED_N_OPTIONS || o->feed.n_opts == MODEL_FEED_MAX_OPTS) {
                usage(stderr);
                return EXIT_USAGE;
            }
            if (feed_option(&check, ch, optarg, err, sizeof err)) {
                util_err("%s", err);
                return EXIT_USAGE;
            }
            o->feed.opt[o->feed.n_opts] = ch, o->feed.arg[o->feed.n_opts++] = optarg;
        }
        if (bad) {
            util_bad_option(lo, ch, optarg);
            return EXIT_USAGE;
        }
    }
    if (optind < argc || !o->model) {
        util_err(optind < argc ? "unexpected argument '%s'" : "--model FILE is required%s",
                 optind < argc ? argv[optind] : "");
        return EXIT_USAGE;
    }
    return -1;
}

/* Evaluate or predict into fd; the exit status. */
static int run(const opts_t *op, model_t *m, const feed_t *f, int fd, double tf) {
    char err[512];
    net_t net;
    out_t o = {.m = m, .f = f, .split = op->feed.split, .fd = fd,
               .clicks = m->space->data_kind == SPACE_DATA_CLICKS};
    msgpack_sbuffer_init(&o.sb);
    msgpack_packer_init(&o.pk, &o.sb, msgpack_sbuffer_write);
    eval_result_t r;
    int rc = model_net(m, &net, (int)m->recipe.batch, err, sizeof err) ? -1
             : eval_split(&net, f, op->feed.split, o.clicks, op->eval ? NULL : put_prediction, &o,
                          &r, err, sizeof err);
    if (rc == 0) rc = op->eval ? (put_eval(&o, &r, tf) ? -3 : 0) : (flush_out(&o) ? -3 : 0);
    net_free(&net);
    msgpack_sbuffer_destroy(&o.sb);
    if (rc == -1 || rc == -2) util_err("%s", rc == -1 ? err : "out of memory");
    if (rc == -3) util_err("writing %s: %s", op->out ? op->out : "stdout", strerror(errno));
    return rc ? EXIT_IO : EXIT_OK;
}

int main(int argc, char **argv) {
    util_set_prog("predict");
    opts_t o = {0};
    o.feed.split = FEED_TEST;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    char err[1024];
    if (o.out && io_output_check(o.out, err, sizeof err)) {
        util_err("%s", err);
        return EXIT_USAGE;
    }
    if (!o.out && !o.eval && util_check_binary_stdout(o.force)) return EXIT_USAGE;
    static model_t m; /* large; static keeps it off the stack */
    if (model_load(o.model, &m, err, sizeof err)) {
        util_err("%s", err);
        return EXIT_BAD_INPUT;
    }
    /* the test subset train-arch evaluated for --eval, else every example */
    double tf = o.test_fraction > 0 ? o.test_fraction : o.eval ? m.recipe.test_fraction : 1;
    o.feed.test_fraction = tf;
    lay_set_threads(o.threads ? (int)o.threads : m.recipe.threads);
    feed_t f;
    int frc = model_feed_open(&m, o.model, &o.feed, &f, err, sizeof err);
    io_atomic_t a = {.fd = STDOUT_FILENO};
    if (frc) {
        util_err("%s", err);
        rc = util_load_exit(frc);
    } else if (lay_blas_room(err, sizeof err) || (o.out && io_atomic_open(&a, o.out, err, sizeof err))) {
        util_err("%s", err);
        rc = EXIT_IO;
    } else {
        rc = run(&o, &m, &f, a.fd, tf);
        if (o.out && rc == EXIT_OK && io_atomic_commit(&a, err, sizeof err)) {
            util_err("%s", err);
            rc = EXIT_IO;
        } else if (o.out && rc != EXIT_OK) {
            io_atomic_abort(&a);
        }
    }
    feed_close(&f);
    model_free(&m);
    return rc;
}
