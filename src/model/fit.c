/* fit.c — one network trained and evaluated (fit.h). */
#include "model/fit.h"

#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "engine/train.h"

/* The run's state between the engine's training loop and its callbacks. */
typedef struct {
    net_t *net;
    const feed_t *f;
    const fit_progress_t *p;
    long epochs, batch, steps; /* steps per epoch */
    double t0, t_last, every, ep_loss;
} run_t;

static net_t *run_net(void *arg, long t, int k, char *err, size_t n_err) {
    (void)t, (void)k, (void)err, (void)n_err;
    return ((run_t *)arg)->net; /* the same network every step */
}

static void run_batch(void *arg, const int *pos, int b, float *x, int *y) {
    feed_batch(((run_t *)arg)->f, FEED_TRAIN, pos, b, x, y);
}

/* The epoch's mean loss so far (train_loss is the last epoch's) and the progress line. */
static void run_step(void *arg, long ep, long s, long t, float loss) {
    run_t *r = arg;
    (void)t;
    if (s == 0) r->ep_loss = 0;
    r->ep_loss += loss;
    double now = util_now();
    int last = s == r->steps - 1;
    if (r->p->show && (now - r->t_last >= r->every || last)) {
        double ips = (double)(ep * r->steps + s + 1) * r->batch / (now - r->t0);
        fprintf(stderr, "%s%s: record %ld epoch %ld/%ld step %ld/%ld loss %.4f %.0f img/s%s",
                r->p->tty ? "\r" : "", util_prog(), r->p->recno, ep + 1, r->epochs, s + 1,
                r->steps, r->ep_loss / (s + 1), ips, r->p->tty && !last ? "\033[K" : "\n");
        fflush(stderr);
        r->t_last = now;
    }
}

int model_fit(net_t *net, const feed_t *f, const model_recipe_t *rc, int clicks,
              const fit_progress_t *p, fit_result_t *res, char *err, size_t n_err) {
    int B = (int)rc->batch;
    run_t r = {.net = net, .f = f, .p = p, .epochs = rc->epochs, .batch = B,
               .every = p->tty ? 0.5 : 10.0};
    train_t T = {
        .n_examples = f->n[FEED_TRAIN], .batch = B, .epochs = rc->epochs,
        /* data order has its own stream so that it does not shift with the parameter count */
        .order_seed = rc->seed ^ SEED_SALT_ORDER,
        .x_floats = (size_t)f->c * f->h * f->w,
        .opt = {rc->optimizer, (float)rc->momentum, (float)rc->weight_decay, rc->nesterov},
        .batch_fn = run_batch, .net_fn = run_net, .step_fn = run_step, .arg = &r,
    };
    r.steps = train_steps_per_epoch(&T); /* the last partial batch is dropped, as drop_last */
    T.sched = (optim_sched_t){rc->schedule, rc->lr, 0.0, r.steps * rc->epochs, rc->warmup};
    r.t0 = r.t_last = util_now();
    if (train_run(&T, err, n_err)) return -1;
    double t_train = util_now() - r.t0;
    res->train_loss = r.ep_loss / r.steps;
    res->images_per_s = (double)r.steps * rc->epochs * B / (t_train > 0 ? t_train : 1e-9);

    int st = eval_split(net, f, FEED_TEST, clicks, NULL, NULL, &res->test, err, n_err);
    if (st == 0 && !clicks && !isfinite(res->test.loss)) {
        snprintf(err, n_err, "test loss is not finite (running statistics diverged?)");
        st = -1;
    }
    res->seconds = util_now() - r.t0;
    res->params = net_param_count(net);
    return st;
}
