/* warmup.h — the supernet warm-up: single-path one-shot training of a checkpoint's
 * parameters on a feed's training split (each step samples one path of the space uniformly
 * and updates only what it uses), with the optimizer of the space at a constant learning
 * rate; the checkpoint gets the loss curve, the steps and the seconds (docs/warmup.md). */
#ifndef SIGEO_MODEL_WARMUP_H
#define SIGEO_MODEL_WARMUP_H

#include <stddef.h>

#include "data/feed.h"
#include "model/ckpt.h"

/* Curve points kept in the checkpoint: each is the mean loss of a run of steps. */
#define WARMUP_CURVE_POINTS 256

/* Train c->P (allocated and initialized) with c's options (epochs, batch, lr, momentum,
 * weight decay, seed) on d's training split; progress lines on stderr when show. 0, or -1
 * with err set (a loss that is not finite, out of memory). */
int model_warmup(ckpt_t *c, const feed_t *d, int show, char *err, size_t n_err);

#endif
