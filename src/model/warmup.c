/* warmup.c — the supernet warm-up (see warmup.h). */
#include "model/warmup.h"

#include <stdio.h>
#include <unistd.h>

#include "base/util.h"
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
    long steps, every;
    int show;
    double t0, t_last, gap, run, since;
    long n_run, n_since;
} warm_t;

/* The step's path: sampled, then its net rebuilt in the same arena (net_reset keeps the
 * activations, so a step pays for the graph, not for faulting in ~85 MB; 15,625 cached
 * nets would not fit; docs/warmup.md). */
static net_t *warm_net(void *arg, long t, char *err, size_t n_err) {
    warm_t *w = arg;
    const space_t *S = w->c->space;
    arch_t a;
    space_sample_path(S, &w->paths, &w->c->cfg, &a);
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

int model_warmup(ckpt_t *c, const feed_t *d, int show, char *err, size_t n_err) {
    int tty = isatty(STDERR_FILENO);
    warm_t w = {.c = c, .d = d, .show = show, .gap = tty ? 0.5 : 5.0};
    train_t T = {
        .n_examples = d->n[FEED_TRAIN], .batch = c->batch, .epochs = c->epochs,
        .order_seed = c->seed ^ SEED_SALT_ORDER,
        .x_floats = (size_t)d->c * d->h * d->w,
        .opt = {c->space->optimizer, (float)c->momentum, (float)c->weight_decay, 0},
        .sched = {OPTIM_CONSTANT, c->lr, 0, 0, 0},
        .batch_fn = warm_batch, .net_fn = warm_net, .step_fn = warm_step, .arg = &w,
    };
    w.steps = train_steps_per_epoch(&T) * c->epochs;
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
