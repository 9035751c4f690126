/* warmup-supernet — the "sub-one-shot" warm-up: train the weight-sharing supernet of a
 * space briefly on a share of the training set (single-path one-shot: each step samples
 * one path uniformly and updates only what it uses) and write a checkpoint
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
#include "engine/train.h"
#include "spaces/space.h"
#include "base/util.h"

typedef struct {
    const char *out, *data_dir, *space, *input;
    long epochs, batch, seed, threads, channels, cells, classes;
    double fraction, lr, momentum, weight_decay;
    data_spec_t spec; /* the data options (feed.h) */
    int progress; /* -1 quiet, 0 auto (tty), 1 forced */
    int cache_name, data_given;
} opts_t;

static void usage(FILE *f) {
    fprintf(f,
            "usage: warmup-supernet [options] -o FILE\n"
            "Trains the weight-sharing supernet of a space on a share of the training set,\n"
            "one uniformly sampled path per step, and writes a checkpoint (msgpack) to FILE.\n"
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
            "                       supernet and reads no data [0.01, the share the\n"
            "                       sigeo weights it writes were chosen at]\n"
            "      --epochs INT     passes over that share [1]\n"
            "      --batch INT      batch size [64]\n"
            "      --lr X           constant SGD learning rate [0.1]\n"
            "      --momentum X     SGD momentum [0.9]\n"
            "      --weight-decay X L2 on conv/linear weights [5e-4]\n"
            "      --seed INT       initialization, subset, data order, paths [1]\n"
            "      --threads INT    engine threads (results depend on it) [1]\n"
            "      --cache-name     print a file name derived from all options and exit\n"
            "      --keep-going     click tables: skip malformed lines (counted) instead of failing\n"
            "      --progress       progress on stderr even when it is not a terminal\n"
            "  -q, --quiet          no progress, even on a terminal\n"
            "  -h, --help           this text\n");
}

/* A file name that changes whenever an option that changes the checkpoint does: the
 * readable part names the usual knobs, an 8-hex digest covers everything. */
static void cache_name(const opts_t *o, const space_t *S, const space_cfg_t *c, char *buf,
                       size_t n) {
    char all[6400], dir[4096];
    if (util_abs_path(o->data_dir, dir, sizeof dir)) snprintf(dir, sizeof dir, "%s", o->data_dir);
    snprintf(all, sizeof all,
             "v1 %s C%d N%d %dx%dx%d k%d data=%s f%.17g e%ld b%ld lr%.17g m%.17g wd%.17g s%ld t%ld",
             S->name, c->C, c->N, c->in_ch, c->H, c->W, c->classes,
             o->fraction > 0 ? dir : "-", o->fraction, o->epochs, o->batch, o->lr,
             o->momentum, o->weight_decay, o->seed, o->threads);
    char dopt[2048];
    feed_options_string(&o->spec, dopt, sizeof dopt);
    if (dopt[0]) { /* names taken before data options existed stay */
        size_t l = strlen(all);
        snprintf(all + l, sizeof all - l, " %s", dopt);
    }
    sha256_t s;
    uint8_t d[32];
    char hex[65];
    sha256_init(&s);
    sha256_update(&s, all, strlen(all));
    sha256_final(&s, d);
    sha256_hex(d, hex);
    snprintf(buf, n, "supernet-%s-C%d-N%d-f%g-e%ld-s%ld-%.8s.ckpt", S->name, c->C, c->N,
             o->fraction, o->epochs, o->seed, hex);
}

/* The training examples: the fraction's subset of the training split (data/feed.h).
 * EXIT_OK, or the exit code after saying what is wrong. */
static int load_data(const opts_t *o, const space_t *S, space_cfg_t *c, feed_t *f) {
    feed_opts_t fo;
    feed_opts_default(&fo, S->data_kind);
    fo.data = o->spec;
    fo.data.kind = S->data_kind;
    fo.data.path = o->data_dir;
    fo.data.rows = c->extra[SPACE_CFG_ROWS];
    if (o->input) fo.data.in_c = c->in_ch, fo.data.in_h = c->H, fo.data.in_w = c->W;
    fo.seed = (uint64_t)o->seed;
    fo.fraction = o->fraction;
    int frc = feed_open_cli(f, &fo);
    if (frc) return frc;
    /* shapes and classes come from the data unless given */
    if (!o->input) c->in_ch = f->c, c->H = f->h, c->W = f->w;
    if (o->classes < 0) c->classes = f->classes;
    c->extra[SPACE_CFG_DENSE] = f->dense;
    if (f->c != c->in_ch || f->h != c->H || f->w != c->W || f->classes > c->classes) {
        util_err("%s: images are %dx%dx%d with %d classes; the supernet takes %dx%dx%d with %d "
                 "(see --input, --classes)",
                 o->data_dir, f->c, f->h, f->w, f->classes, c->in_ch, c->H, c->W, c->classes);
        feed_close(f);
        return EXIT_BAD_INPUT;
    }
    if (f->n[FEED_TRAIN] < o->batch) {
        util_err("%s: %d training examples at --fraction %g, fewer than one batch of %ld",
                 o->data_dir, f->n[FEED_TRAIN], o->fraction, o->batch);
        feed_close(f);
        return EXIT_BAD_INPUT;
    }
    return EXIT_OK;
}

enum opt_id { O_CHANNELS = 256, O_CELLS, O_INPUT, O_CLASSES, O_DATA, O_FRAC, O_EPOCHS, O_BATCH,
              O_LR, O_MOM, O_WD, O_SEED, O_THREADS, O_CACHE, O_PROGRESS, O_KEEP };

/* Options into o; -1 to go on, else the exit status (after --help, or a usage error). */
static int parse_opts(int argc, char **argv, opts_t *o) {
    static const struct option lo[] = {
        {"output", 1, 0, 'o'},       {"space", 1, 0, 's'},       {"channels", 1, 0, O_CHANNELS},
        {"cells", 1, 0, O_CELLS},    {"input", 1, 0, O_INPUT},   {"classes", 1, 0, O_CLASSES},
        {"data", 1, 0, O_DATA},      {"fraction", 1, 0, O_FRAC}, {"epochs", 1, 0, O_EPOCHS},
        {"batch", 1, 0, O_BATCH},    {"lr", 1, 0, O_LR},         {"momentum", 1, 0, O_MOM},
        {"weight-decay", 1, 0, O_WD}, {"seed", 1, 0, O_SEED},    {"threads", 1, 0, O_THREADS},
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
    /* Scoring defaults for sigeo = l1*S1 + l2*S2 - l3*L + l4*J come from the space
     * (docs/quality.md); score-sigeo --paper gives the paper's (1,1,0) / (1,50,1). */
    memcpy(c->lambda, S->lambda[o->fraction > 0], sizeof c->lambda);
    c->lambda_fraction = o->fraction > 0 ? S->lambda_fraction : 0;
}

/* Declare c's supernet for c->cfg into c->P (not allocated): the space must accept the
 * cfg and the checkpoint must fit what loaders read. EXIT_OK, or the exit status after
 * saying which option and which limit. */
static int declare(ckpt_t *c) {
    const space_t *S = c->space;
    const space_cfg_t *g = &c->cfg;
    char err[512], what[160];
    snprintf(what, sizeof what, "the %s supernet for C=%d N=%d, input %dx%dx%d, %d classes",
             S->name, g->C, g->N, g->in_ch, g->H, g->W, g->classes);
    params_init(&c->P);
    if (space_cfg_check(S, g, err, sizeof err)) {
        util_err("cannot declare %s: %s (see --channels, --cells, --input, --classes)", what, err);
        return EXIT_USAGE;
    }
    if (S->declare_supernet(&c->P, g)) {
        util_err("cannot declare %s", what);
        return EXIT_USAGE;
    }
    if (ckpt_size_check(&c->P, err, sizeof err)) {
        util_err("--channels %d --cells %d: %s has %zu parameters; %s; lower --channels or "
                 "--cells", g->C, g->N, what, c->P.n_floats, err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The cfg, --cache-name and the output path, before any work. -1 to go on, else the exit
 * status. */
static int prepare(opts_t *o, const space_t *S, ckpt_t *c) {
    char err[IO_PATH_MAX + 256], name[256];
    space_cfg_default(S, &c->cfg);
    if (space_cfg_options(&c->cfg, o->channels, o->cells, o->classes, o->input, err, sizeof err))
        return util_err("%s", err), EXIT_USAGE;
    cache_name(o, S, &c->cfg, name, sizeof name);
    if (o->cache_name) return printf("%s\n", name), fflush(stdout) || ferror(stdout) ? EXIT_IO : EXIT_OK;
    if (!o->out) return util_err("no output file: give -o FILE (for example -o cache/%s)", name), EXIT_USAGE;
    if (io_output_check(o->out, err, sizeof err) != 0) return util_err("%s", err), *o->out ? EXIT_IO : EXIT_USAGE;
    set_options(o, S, c);
    /* before any work, with the shapes known so far; again with the data's */
    int rc = declare(c);
    params_free(&c->P);
    return rc ? rc : -1;
}

/* The data's path, options, fingerprint and statistics into c, and its training subset
 * into train. EXIT_OK or the exit status. */
static int take_data(const opts_t *o, const space_t *S, ckpt_t *c, feed_t *train) {
    /* absolute, so the checkpoint's data path and options work from any directory */
    if (util_abs_path(o->data_dir, c->data_dir, sizeof c->data_dir) ||
        feed_options_string(&o->spec, c->data_options, sizeof c->data_options)) {
        util_err("--data or --labels path too long for a checkpoint (%zu bytes with the "
                 "current directory; at most %zu)", strlen(o->data_dir), sizeof c->data_dir - 1);
        return EXIT_USAGE;
    }
    int rc = load_data(o, S, &c->cfg, train);
    if (rc) return rc;
    memcpy(c->data_fingerprint, train->fingerprint, sizeof c->data_fingerprint);
    c->n_norm = train->normalize ? train->c : 0;
    memcpy(c->norm_mean, train->mean, sizeof(float) * (size_t)c->n_norm);
    memcpy(c->norm_std, train->std, sizeof(float) * (size_t)c->n_norm);
    return EXIT_OK;
}

/* Initialize, warm up and save c. EXIT_OK or the exit status. */
static int run(const opts_t *o, ckpt_t *c, const feed_t *train) {
    char err[1024];
    int show = o->progress > 0 || (o->progress == 0 && isatty(STDERR_FILENO));
    rng_t ri;
    rng_seed(&ri, (uint64_t)o->seed);
    int rc = declare(c);
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
    if (show)
        util_msg("wrote %s: %zu parameters, %lld steps in %.1f s, final loss %.4f, sha256 %.12s", o->out,
                 c->P.n_floats, (long long)c->steps, c->seconds, c->n_curve ? c->curve[c->n_curve - 1] : NAN,
                 c->hash);
    return EXIT_OK;
}

int main(int argc, char **argv) {
    util_set_prog("warmup-supernet");
    opts_t o = {.data_dir = DATA_DEFAULT_DIR, .space = "nb201", .epochs = 1, .batch = 64,
                .seed = 1, .threads = 1, .channels = -1, .cells = -1, .classes = -1,
                .fraction = 0.01, .lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4};
    feed_opts_t fd;
    feed_opts_default(&fd, DATA_IMAGES);
    o.spec = fd.data;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    const space_t *S = space_find(o.space);
    if (!S) return util_err("unknown space '%s'", o.space), EXIT_USAGE;
    if (!o.data_given) o.data_dir = feed_default_path(S->data_kind);
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
        rc = o.fraction > 0 ? take_data(&o, S, c, &train) : EXIT_OK;
        if (rc == EXIT_OK) rc = run(&o, c, &train);
    }
    feed_close(&train);
    ckpt_free(c);
    free(c);
    return rc;
}
