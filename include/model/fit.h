/* fit.h — train-arch's run on one network: trained from scratch on a feed's training
 * split with a recipe (the engine's training loop, the recipe's optimizer and schedule),
 * then evaluated on the test split through eval_split, so a model file's metrics are what
 * predict --eval computes again. */
#ifndef SIGEO_MODEL_FIT_H
#define SIGEO_MODEL_FIT_H

#include <stddef.h>

#include "data/feed.h"
#include "engine/net.h"
#include "model/eval.h"
#include "model/model.h"

typedef struct {
    double train_loss;   /* mean loss over the steps of the last epoch (BN in training mode) */
    double seconds;      /* training and evaluation */
    double images_per_s; /* training steps only */
    eval_result_t test;
    size_t params;       /* trainable parameters the network uses */
} fit_result_t;

typedef struct {
    int show;   /* progress lines on stderr: "prog: record N epoch E/EE step S/SS loss L R img/s" */
    int tty;    /* stderr is a terminal: one line refreshed every 0.5 s, else a line every 10 s */
    long recno; /* the record's number, for the line */
} fit_progress_t;

/* Train net (freshly built and finalized; its batch is r->batch) on f's training split:
 * r->epochs epochs of full batches in a fresh order each (the data-order stream of
 * r->seed), r->optimizer with r's momentum, weight decay and Nesterov flag, r's schedule
 * per step; then evaluate on f's test split (clicks: a click network). 0, or -1 with err
 * (a loss that is not finite, out of memory). */
int model_fit(net_t *net, const feed_t *f, const model_recipe_t *r, int clicks,
              const fit_progress_t *p, fit_result_t *res, char *err, size_t n_err);

#endif
