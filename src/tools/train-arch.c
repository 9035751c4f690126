/* train-arch — train each arch record's network from scratch and write the record back
 * with the results under "truth" (docs/train-arch.md).
 *
 *   sample-arch -n 10 | train-arch --epochs 1 | mp2json
 *
 * Every record is trained independently from the same seed, so a record's result does
 * not depend on its position in the stream (streams can be split across processes). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/criteo.h"
#include "data/feed.h"
#include "engine/layers.h"
#include "engine/optim.h"
#include "io/rec.h"
#include "model/trainer.h"
#include "spaces/space.h"
#include "base/util.h"

static void usage(FILE *f) {
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
            "                       (or <space>-<arch hash>.model; -<cfg hash> before .model\n"
            "                       at a cfg not the space's default) and its path as \"model\"\n"
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
/* --save DIR: an existing directory, or one made now (its parent must exist). 0, or -1
 * after saying what is wrong. */
static int save_dir(const char *dir) {
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

static int force; /* -f: binary records to a terminal */

enum opt_id { O_DATA = 256, O_EPOCHS, O_BATCH, O_LR, O_SCHED, O_WARMUP, O_MOM, O_NEST, O_NONEST,
              O_WD, O_SEED, O_FRAC, O_TFRAC, O_THREADS, O_PROGRESS, O_KEEP, O_OKBAD, O_SAVE };

/* Options into o and pol; -1 to go on, else the exit status (after --help, or a usage
 * error). */
static int parse_opts(int argc, char **argv, trainer_opts_t *o, rec_policy_t *pol) {
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
        case 'f': force = 1; break;
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

int main(int argc, char **argv) {
    util_set_prog("train-arch");
    trainer_opts_t o = {.data_dir = DATA_DEFAULT_DIR, .epochs = 1, .batch = 64, .seed = 1, .warmup = 0,
                .threads = 1, .lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4, .fraction = 1,
                .test_fraction = 1, .schedule = OPTIM_COSINE, .nesterov = 1};
    rec_policy_t pol = {0, 0, 0};
    feed_opts_t fd;
    feed_opts_default(&fd, DATA_IMAGES);
    o.spec = fd.data;
    int prc = parse_opts(argc, argv, &o, &pol);
    if (prc >= 0) return prc;
    if (util_check_binary_stdout(force)) return EXIT_USAGE;
    if (o.save && save_dir(o.save)) return EXIT_USAGE;
    lay_set_threads((int)o.threads);

    feed_t feed = {0};
    int rc = EXIT_OK, loaded = 0;
    rec_reader_t *rd;
    rec_writer_t *wr;
    if (rec_filter_open(&pol, &rd, &wr)) return EXIT_IO;
    msgpack_object in;
    int r;
    char err[1024];
    while ((r = rec_read(rd, &in)) == 1) {
        long n = rec_reader_count(rd);
        trainer_result_t res;
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
            if ((rc = trainer_load(&o, &feed))) break;
            loaded = 1;
            if (lay_blas_room(err, sizeof err)) {
                util_err("%s", err);
                rc = EXIT_IO;
                break;
            }
        }
        int trc = trainer_record(&o, &in, &feed, n, &res, err, sizeof err);
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
        if (rec_edit_begin(&e, &in) || trainer_truth(&e, &o, &res, feed.fingerprint)) {
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
