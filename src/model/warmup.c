/* warmup.c — the supernet warm-up (see warmup.h). */
#include "model/warmup.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "data/data.h"
#include "engine/net.h"
#include "engine/train.h"
#include "spaces/space.h"

static void progress_line(long step, long steps, double loss, double ips, int final) {
    int tty = isatty(STDERR_FILENO);
    fprintf(stderr, "%swarmup-supernet: step %ld/%ld loss %.4f %.0f img/s%s", tty ? "\r" : "",
            step, steps, loss, ips, tty && !final ? "\033[K" : "\n");
    fflush(stderr);
}

/* The warm-up's state between the engine's training loop and its callbacks. */
typedef struct {
    ckpt_t *c;
    const feed_t *d;
    net_t net;        /* rebuilt for each step's path */
    rng_t paths;      /* its own stream, so data order and paths do not shift each other */
    arch_t step[ARCH_MAX_GENES]; /* fair, sandwich: the step's paths, drawn at its first */
    long steps, every;
    int show;
    double t0, t_last, gap, run, since;
    long n_run, n_since;
} warm_t;

/* The step's path: sampled, then its net rebuilt in the same arena (net_reset keeps the
 * activations, so a step pays for the graph, not for faulting in ~85 MB; 15,625 cached
 * nets would not fit; docs/warmup.md). */
static net_t *warm_net(void *arg, long t, int k, char *err, size_t n_err) {
    warm_t *w = arg;
    const space_t *S = w->c->space;
    arch_t a;
    if (w->c->sampling == WARMUP_FAIR) {
        if (k == 0) space_fair_paths(S, &w->paths, &w->c->cfg, w->step);
        a = w->step[k];
    } else if (w->c->sampling == WARMUP_SANDWICH) {
        if (k == 0) space_sandwich_paths(S, &w->paths, &w->c->cfg, w->step);
        a = w->step[k];
    } else {
        space_sample_path(S, &w->paths, &w->c->cfg, &a);
    }
    /* a few-shot sub-supernet: its fixed choice replaces the drawn one, so the draws (and
     * every other gene's choices) are those of the one-shot warm-up */
    if (w->c->fixed) a.g[w->c->fix_gene] = w->c->fix_choice;
    net_reset(&w->net);
    w->net.share_dy = w->net.no_input_dy = 1;
    if (S->build(&w->net, &w->c->cfg, &a) || net_finalize(&w->net, NULL)) {
        snprintf(err, n_err, "cannot build the path of step %ld", t + 1);
        return NULL;
    }
    return &w->net;
}

static void warm_batch(void *arg, const int *pos, int b, float *x, int *y) {
    feed_batch(((warm_t *)arg)->d, FEED_TRAIN, pos, b, x, y);
}

/* The loss curve (mean loss per run of `every` steps) and the progress line. */
static void warm_step(void *arg, long ep, long s, long t, float loss) {
    warm_t *w = arg;
    ckpt_t *c = w->c;
    (void)ep, (void)s;
    w->run += loss, w->n_run++;
    w->since += loss, w->n_since++;
    if (w->n_run == w->every || t == w->steps - 1) {
        c->curve[c->n_curve++] = (float)(w->run / (double)w->n_run);
        w->run = 0, w->n_run = 0;
    }
    double now = util_now();
    if (w->show && (now - w->t_last >= w->gap || t == w->steps - 1)) {
        progress_line(t + 1, w->steps, w->since / (double)w->n_since,
                      (double)(t + 1) * w->c->batch / (now - w->t0), t == w->steps - 1);
        w->t_last = now, w->since = 0, w->n_since = 0;
    }
}

int model_warmup_paths(const space_t *S, int sampling, char *err, size_t n_err) {
    if (sampling == WARMUP_FAIR && S->path_choices <= 0) {
        snprintf(err, n_err, "fair sampling: the %s space has none (its genes differ in their "
                 "choices); use uniform", S->name);
        return -1;
    }
    if (sampling == WARMUP_SANDWICH && !S->path_ends) {
        snprintf(err, n_err, "sandwich sampling: the %s space defines no largest and smallest "
                 "path; use uniform", S->name);
        return -1;
    }
    return sampling == WARMUP_FAIR ? S->path_choices
           : sampling == WARMUP_SANDWICH ? 2 + SPACE_SANDWICH_RANDOM : 1;
}

int model_warmup(ckpt_t *c, const feed_t *d, int show, char *err, size_t n_err) {
    int tty = isatty(STDERR_FILENO);
    int per_step = model_warmup_paths(c->space, c->sampling, err, n_err);
    if (per_step < 0) return -1;
    if (c->fixed && !space_fix_valid(c->space, &c->cfg, c->fix_gene, c->fix_choice)) {
        snprintf(err, n_err, "few-shot split at gene %d on choice %d: not in the %s space",
                 c->fix_gene, c->fix_choice, c->space->name);
        return -1;
    }
    warm_t w = {.c = c, .d = d, .show = show, .gap = tty ? 0.5 : 5.0};
    train_t T = {
        .n_examples = d->n[FEED_TRAIN], .batch = c->batch, .epochs = c->epochs,
        .order_seed = c->seed ^ SEED_SALT_ORDER,
        .x_floats = (size_t)d->c * d->h * d->w,
        .opt = {c->space->optimizer, (float)c->momentum, (float)c->weight_decay, 0},
        .nets_per_step = per_step,
        .batch_fn = warm_batch, .net_fn = warm_net, .step_fn = warm_step, .arg = &w,
    };
    w.steps = train_steps_per_epoch(&T) * c->epochs;
    T.sched = (optim_sched_t){c->schedule, c->lr, 0, w.steps, 0}; /* cosine: to 0 at the end */
    w.every = (w.steps + WARMUP_CURVE_POINTS - 1) / WARMUP_CURVE_POINTS;
    rng_seed(&w.paths, c->seed ^ SEED_SALT_PATHS);
    c->n_curve = 0;
    net_init(&w.net, &c->P, c->batch);
    w.t0 = w.t_last = util_now();
    int rc = train_run(&T, err, n_err);
    net_free(&w.net);
    if (rc) return -1;
    c->steps = w.steps;
    c->seconds = util_now() - w.t0;
    return 0;
}

void model_warmup_name(const ckpt_t *c, const char *data_dir, const data_spec_t *spec, char *buf,
                       size_t n) {
    const space_t *S = c->space;
    const space_cfg_t *g = &c->cfg;
    char all[6400], dir[4096];
    if (util_abs_path(data_dir, dir, sizeof dir)) snprintf(dir, sizeof dir, "%s", data_dir);
    snprintf(all, sizeof all,
             "v1 %s C%d N%d %dx%dx%d k%d data=%s f%.17g e%ld b%ld lr%.17g m%.17g wd%.17g s%ld t%ld",
             S->name, g->C, g->N, g->in_ch, g->H, g->W, g->classes,
             c->fraction > 0 ? dir : "-", c->fraction, (long)c->epochs, (long)c->batch, c->lr,
             c->momentum, c->weight_decay, (long)c->seed, (long)c->threads);
    char dopt[2048];
    feed_options_string(spec, dopt, sizeof dopt);
    if (dopt[0]) { /* names taken before data options existed stay */
        size_t l = strlen(all);
        snprintf(all + l, sizeof all - l, " %s", dopt);
    }
    if (c->sampling != WARMUP_UNIFORM || c->schedule != OPTIM_CONSTANT) { /* likewise */
        size_t l = strlen(all);
        snprintf(all + l, sizeof all - l, " %s %s", ckpt_sampling_name(c->sampling),
                 optim_kind_name(c->schedule));
    }
    char fix[32] = "";
    if (c->fixed) { /* likewise */
        snprintf(fix, sizeof fix, "-fix%d=%d", c->fix_gene, c->fix_choice);
        size_t l = strlen(all);
        snprintf(all + l, sizeof all - l, " fix%d=%d", c->fix_gene, c->fix_choice);
    }
    char hex[65];
    data_sha2(all, strlen(all), NULL, 0, hex);
    snprintf(buf, n, "supernet-%s-C%d-N%d-f%g-e%ld-s%ld%s-%.8s.ckpt", S->name, g->C, g->N,
             c->fraction, (long)c->epochs, (long)c->seed, fix, hex);
}

int model_warmup_declare_cli(ckpt_t *c) {
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

/* The fraction's subset of the training split into f, with the shapes and classes of the
 * data into g unless given; the data must fit the supernet and give one batch. */
static int open_subset(const ckpt_t *c, space_cfg_t *g, feed_t *f, const char *data_dir,
                       const data_spec_t *spec, int input_given, int classes_given) {
    feed_opts_t fo;
    feed_opts_default(&fo, c->space->data_kind);
    fo.data = *spec;
    fo.data.kind = c->space->data_kind;
    fo.data.path = data_dir;
    fo.data.rows = g->extra[SPACE_CFG_ROWS];
    if (input_given) fo.data.in_c = g->in_ch, fo.data.in_h = g->H, fo.data.in_w = g->W;
    fo.seed = c->seed;
    fo.fraction = c->fraction > 0 ? c->fraction : 1e-12; /* untrained: shapes only (1 row) */
    int frc = feed_open_cli(f, &fo);
    if (frc) return frc;
    if (!input_given) g->in_ch = f->c, g->H = f->h, g->W = f->w;
    if (!classes_given) g->classes = f->classes;
    g->extra[SPACE_CFG_DENSE] = f->dense;
    if (f->c != g->in_ch || f->h != g->H || f->w != g->W || f->classes > g->classes) {
        util_err("%s: images are %dx%dx%d with %d classes; the supernet takes %dx%dx%d with %d "
                 "(see --input, --classes)",
                 data_dir, f->c, f->h, f->w, f->classes, g->in_ch, g->H, g->W, g->classes);
        feed_close(f);
        return EXIT_BAD_INPUT;
    }
    if (c->fraction > 0 && f->n[FEED_TRAIN] < c->batch) {
        util_err("%s: %d training examples at --fraction %g, fewer than one batch of %d",
                 data_dir, f->n[FEED_TRAIN], c->fraction, c->batch);
        feed_close(f);
        return EXIT_BAD_INPUT;
    }
    return EXIT_OK;
}

int model_warmup_feed_cli(ckpt_t *c, feed_t *f, const char *data_dir, const data_spec_t *spec,
                          int input_given, int classes_given) {
    /* absolute, so the checkpoint's data path and options work from any directory */
    if (util_abs_path(data_dir, c->data_dir, sizeof c->data_dir) ||
        feed_options_string(spec, c->data_options, sizeof c->data_options)) {
        util_err("--data or --labels path too long for a checkpoint (%zu bytes with the "
                 "current directory; at most %zu)", strlen(data_dir), sizeof c->data_dir - 1);
        return EXIT_USAGE;
    }
    int rc = open_subset(c, &c->cfg, f, data_dir, spec, input_given, classes_given);
    if (rc) return rc;
    memcpy(c->data_fingerprint, f->fingerprint, sizeof c->data_fingerprint);
    c->n_norm = f->normalize ? f->c : 0;
    memcpy(c->norm_mean, f->mean, sizeof(float) * (size_t)c->n_norm);
    memcpy(c->norm_std, f->std, sizeof(float) * (size_t)c->n_norm);
    return EXIT_OK;
}
