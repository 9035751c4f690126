/* warmup-supernet — the "sub-one-shot" warm-up: train the weight-sharing supernet of a
 * space briefly on a share of the training set (single-path one-shot: each step samples
 * one path uniformly, or a few with --sampling, and updates only what they use) and write a checkpoint
 * (docs/warmup.md). --fraction 0 writes the initialized, untrained supernet.
 *
 *   warmup-supernet --fraction 0.01 -o supernet.ckpt
 *   ck=cache/$(warmup-supernet --cache-name); [ -f "$ck" ] || warmup-supernet -o "$ck" */
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/ckpt.h"
#include "model/warmup.h"
#include "io/file.h"
#include "data/criteo.h"
#include "data/feed.h"
#include "engine/layers.h"
#include "engine/net.h"
#include "engine/optim.h"
#include "spaces/space.h"
#include "base/util.h"

typedef struct {
    const char *out, *data_dir, *space, *input, *fix;
    long epochs, batch, seed, threads, channels, cells, classes;
    double fraction, lr, momentum, weight_decay;
    data_spec_t spec; /* the data options (feed.h) */
    int progress; /* -1 quiet, 0 auto (tty), 1 forced */
    int cache_name, data_given;
    int sampling, schedule; /* WARMUP_*, OPTIM_* */
} opts_t;

static void usage(FILE *f) {
    fprintf(f,
            "usage: warmup-supernet [options] -o FILE\n"
            "Trains the weight-sharing supernet of a space on a share of the training set,\n"
            "one uniformly sampled path per step (see --sampling), and writes a checkpoint\n"
            "(msgpack) to FILE.\n"
            "  -o, --output FILE    checkpoint to write (required), atomically\n"
            "  -s, --space NAME     search space [nb201]\n"
            "      --channels INT   stem channels C [8]\n"
            "      --cells INT      cells per stage N (nb201) or in all (darts) [nb201 1, darts 5]\n"
            "      --input CxHxW    input shape; images are resized to it [the data's]\n"
            "      --classes INT    output classes [the data's]\n"
            "      --data PATH      IDX or CIFAR-10 directory, .npy/.npz, class folders of\n"
            "                       images [" DATA_DEFAULT_DIR "]; click table for click\n"
            "                       spaces [" CRITEO_DEFAULT_FILE "] (docs/data.md)\n"
            FEED_USAGE
            "      --fraction F     share of the training set, [0,1]; 0 writes the untrained\n"
            "                       supernet, reading --data only for its shapes [nb201 0:\n"
            "                       its default ranking (rank) is MeCo on the untrained\n"
            "                       supernet; other spaces 0.01] (docs/quality.md)\n"
            "      --epochs INT     passes over that share [1]\n"
            "      --batch INT      batch size [64]\n"
            "      --lr X           SGD learning rate [0.1]\n"
            "      --schedule S     constant or cosine (to 0 at the last step) [constant]\n"
            "      --sampling S     paths per step: uniform (one), fair (every op of an\n"
            "                       edge once, in as many paths) or sandwich (the largest,\n"
            "                       the smallest and 2 uniform paths; nb201) [uniform]\n"
            "      --fix E=OP       few-shot sub-supernet: every path takes op OP (name or\n"
            "                       number) on edge E (0-based, the arch string's order;\n"
            "                       nb201 0..5); score-sigeo takes one per op [none]\n"
            "      --momentum X     SGD momentum [0: with 0.9 the ranking falls as the\n"
            "                       warm-up grows, docs/quality.md]\n"
            "      --weight-decay X L2 on conv/linear weights [5e-4]\n"
            "      --seed INT       initialization, subset, data order, paths [1]\n"
            "      --threads INT    engine threads (results depend on it) [1]\n"
            "      --cache-name     print a file name derived from all options and exit\n"
            "      --keep-going     click tables: skip malformed lines (counted) instead of failing\n"
            "      --progress       progress on stderr even when it is not a terminal\n"
            "  -q, --quiet          no progress, even on a terminal\n"
            "  -h, --help           this text\n");
}

enum opt_id { O_CHANNELS = 256, O_CELLS, O_INPUT, O_CLASSES, O_DATA, O_FRAC, O_EPOCHS, O_BATCH,
              O_LR, O_MOM, O_WD, O_SEED, O_THREADS, O_CACHE, O_PROGRESS, O_KEEP, O_SAMPLING,
              O_SCHEDULE, O_FIX };

/* Options into o; -1 to go on, else the exit status (after --help, or a usage error). */
static int parse_opts(int argc, char **argv, opts_t *o) {
    static const struct option lo[] = {
        {"output", 1, 0, 'o'},       {"space", 1, 0, 's'},       {"channels", 1, 0, O_CHANNELS},
        {"cells", 1, 0, O_CELLS},    {"input", 1, 0, O_INPUT},   {"classes", 1, 0, O_CLASSES},
        {"data", 1, 0, O_DATA},      {"fraction", 1, 0, O_FRAC}, {"epochs", 1, 0, O_EPOCHS},
        {"batch", 1, 0, O_BATCH},    {"lr", 1, 0, O_LR},         {"momentum", 1, 0, O_MOM},
        {"weight-decay", 1, 0, O_WD}, {"seed", 1, 0, O_SEED},    {"threads", 1, 0, O_THREADS},
        {"sampling", 1, 0, O_SAMPLING}, {"schedule", 1, 0, O_SCHEDULE}, {"fix", 1, 0, O_FIX},
        {"cache-name", 0, 0, O_CACHE}, FEED_LONG_OPTIONS, {"keep-going", 0, 0, O_KEEP}, {"progress", 0, 0, O_PROGRESS}, {"quiet", 0, 0, 'q'},
        {"help", 0, 0, 'h'},         {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "o:s:qh", lo, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'o': o->out = optarg; break;
        case 's': o->space = optarg; break;
        case O_CHANNELS: bad = util_parse_long(optarg, 1, 4096, &o->channels); break;
        case O_CELLS: bad = util_parse_long(optarg, 1, 64, &o->cells); break;
        case O_CLASSES: bad = util_parse_long(optarg, 2, 100000, &o->classes); break;
        case O_INPUT: o->input = optarg; break;
        case O_DATA: o->data_dir = optarg, o->data_given = 1; break;
        case O_FRAC:
            bad = util_parse_double(optarg, &o->fraction) || !(o->fraction >= 0 && o->fraction <= 1);
            break;
        case O_EPOCHS: bad = util_parse_long(optarg, 1, 100000, &o->epochs); break;
        case O_BATCH: bad = util_parse_long(optarg, 2, 65536, &o->batch); break;
        case O_LR: bad = util_parse_double(optarg, &o->lr) || !(o->lr > 0); break;
        case O_MOM:
            bad = util_parse_double(optarg, &o->momentum) || !(o->momentum >= 0 && o->momentum < 1);
            break;
        case O_WD: bad = util_parse_double(optarg, &o->weight_decay) || !(o->weight_decay >= 0); break;
        case O_SEED: bad = util_parse_long(optarg, 0, (long)(~0ul >> 1), &o->seed); break;
        case O_THREADS: bad = util_parse_long(optarg, 1, LAY_MAX_THREADS, &o->threads); break;
        case O_SAMPLING: bad = (o->sampling = ckpt_sampling_parse(optarg)) < 0; break;
        case O_SCHEDULE: bad = (o->schedule = optim_kind_parse(optarg)) < 0; break;
        case O_FIX: o->fix = optarg; break;
        case O_CACHE: o->cache_name = 1; break;
        case O_KEEP: o->spec.keep_going = 1; break;
        case O_PROGRESS: o->progress = 1; break;
        case 'q': o->progress = -1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: {
            int f = feed_option_cli(&o->spec, ch, optarg);
            if (f) return f > 0 ? usage(stderr), EXIT_USAGE : EXIT_USAGE;
        }
        }
        if (bad) return util_bad_option(lo, ch, optarg), EXIT_USAGE;
    }
    if (optind < argc) {
        util_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    return -1;
}

/* The run's options into the checkpoint. */
static void set_options(const opts_t *o, const space_t *S, ckpt_t *c) {
    c->space = S;
    c->fraction = o->fraction;
    c->epochs = (int)o->epochs;
    c->batch = (int)o->batch;
    c->lr = o->lr;
    c->momentum = o->momentum;
    c->weight_decay = o->weight_decay;
    c->seed = (uint64_t)o->seed;
    c->threads = (int)o->threads;
    c->sampling = o->sampling;
    c->schedule = o->schedule;
    /* Scoring defaults for sigeo = l1*S1 + l2*S2 - l3*L + l4*J come from the space
     * (docs/quality.md); score-sigeo --paper gives the paper's (1,1,0) / (1,50,1). */
    memcpy(c->lambda, S->lambda[o->fraction > 0], sizeof c->lambda);
    c->lambda_fraction = o->fraction > 0 ? S->lambda_fraction : 0;
}

/* The cfg, --cache-name and the output path, before any work. -1 to go on, else the exit
 * status. */
static int prepare(opts_t *o, const space_t *S, ckpt_t *c) {
    char err[IO_PATH_MAX + 256], name[256];
    space_cfg_default(S, &c->cfg);
    if (space_cfg_options(&c->cfg, o->channels, o->cells, o->classes, o->input, err, sizeof err))
        return util_err("%s", err), EXIT_USAGE;
    set_options(o, S, c);
    if (model_warmup_paths(S, o->sampling, err, sizeof err) < 0)
        return util_err("--sampling: %s", err), EXIT_USAGE;
    if (o->fix && space_fix_parse(S, &c->cfg, o->fix, &c->fix_gene, &c->fix_choice, err, sizeof err))
        return util_err("--fix: %s", err), EXIT_USAGE;
    c->fixed = o->fix != NULL;
    model_warmup_name(c, o->data_dir, &o->spec, name, sizeof name);
    if (o->cache_name) return printf("%s\n", name), fflush(stdout) || ferror(stdout) ? EXIT_IO : EXIT_OK;
    if (!o->out) return util_err("no output file: give -o FILE (for example -o cache/%s)", name), EXIT_USAGE;
    if (io_output_check(o->out, err, sizeof err) != 0) return util_err("%s", err), *o->out ? EXIT_IO : EXIT_USAGE;
    /* before any work, with the shapes known so far; again with the data's */
    int rc = model_warmup_declare_cli(c);
    params_free(&c->P);
    return rc ? rc : -1;
}

/* Initialize, warm up and save c. EXIT_OK or the exit status. */
static int run(const opts_t *o, ckpt_t *c, const feed_t *train) {
    char err[1024];
    int show = o->progress > 0 || (o->progress == 0 && isatty(STDERR_FILENO));
    rng_t ri;
    rng_seed(&ri, (uint64_t)o->seed);
    int rc = model_warmup_declare_cli(c);
    if (rc) return rc;
    if (params_alloc(&c->P)) {
        util_err("out of memory for the %s supernet's %zu parameters (%.0f MB with their "
                 "gradients and momentum)", c->space->name, c->P.n_floats, 12e-6 * (double)c->P.n_floats);
        return EXIT_IO;
    }
    params_init_default(&c->P, &ri);
    if (o->fraction > 0 && lay_blas_room(err, sizeof err)) rc = EXIT_IO;
    else if (o->fraction > 0 && model_warmup(c, train, show, err, sizeof err)) rc = EXIT_BAD_INPUT;
    else if (ckpt_save(o->out, c, err, sizeof err)) rc = EXIT_IO;
    if (rc) return util_err("%s", err), rc;
    if (show && c->steps == 0)
        util_msg("wrote %s: the untrained supernet, %zu parameters, sha256 %.12s", o->out, c->P.n_floats, c->hash);
    else if (show)
        util_msg("wrote %s: %zu parameters, %lld steps in %.1f s, final loss %.4f, sha256 %.12s", o->out,
                 c->P.n_floats, (long long)c->steps, c->seconds, c->n_curve ? c->curve[c->n_curve - 1] : NAN,
                 c->hash);
    return EXIT_OK;
}

int main(int argc, char **argv) {
    util_set_prog("warmup-supernet");
    opts_t o = {.data_dir = DATA_DEFAULT_DIR, .space = "nb201", .epochs = 1, .batch = 64,
                .seed = 1, .threads = 1, .channels = -1, .cells = -1, .classes = -1,
                .fraction = -1, .lr = 0.1, .momentum = 0, .weight_decay = 5e-4};
    feed_opts_t fd;
    feed_opts_default(&fd, DATA_IMAGES);
    o.spec = fd.data;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    const space_t *S = space_find(o.space);
    if (!S) return util_err("unknown space '%s'", o.space), EXIT_USAGE;
    if (!o.data_given) o.data_dir = feed_default_path(S->data_kind);
    if (o.fraction < 0) o.fraction = space_default_fraction(S);
    ckpt_t *c = calloc(1, sizeof *c); /* large (the loss curve): not on the stack */
    if (!c) return util_err("out of memory"), EXIT_IO;
    feed_t train = {0};
    if ((rc = prepare(&o, S, c)) < 0) {
        lay_set_threads((int)o.threads);
#ifdef __GLIBC__
        /* Each step builds and frees a net of a few MB; keep that memory in the heap instead
         * of mmap/munmap so the pages are not faulted in and zeroed by the kernel every step. */
        mallopt(M_MMAP_THRESHOLD, 512 << 20);
        mallopt(M_TRIM_THRESHOLD, 1024 << 20);
#endif
        /* untrained, the data given still sets the shapes and is recorded for score-sigeo */
        rc = o.fraction > 0 || o.data_given ? model_warmup_feed_cli(c, &train, o.data_dir, &o.spec, o.input != NULL,
                                                     o.classes >= 0)
                            : EXIT_OK;
        if (rc == EXIT_OK) rc = run(&o, c, &train);
    }
    feed_close(&train);
    ckpt_free(c);
    free(c);
    return rc;
}
