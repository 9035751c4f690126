/* train.h — the training loop shared by warmup-supernet (a new path each step) and
 * train-arch (one network): per epoch a fresh Fisher-Yates order of the examples, batches
 * of B in that order (the last partial batch dropped), and per step zero the gradients,
 * forward and backward through each of the step's networks (one, or several paths of a
 * supernet on the same batch: their gradients add up), and one optimizer step at the
 * schedule's learning rate over the views any of them uses. */
#ifndef SIGEO_TRAIN_H
#define SIGEO_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/net.h"
#include "engine/optim.h"

typedef struct {
    int n_examples;      /* examples to draw from; n_examples / batch steps per epoch */
    int batch;
    long epochs;
    uint64_t order_seed; /* the data order's own stream, reshuffled every epoch */
    size_t x_floats;     /* floats of one example */
    optimizer_t opt;
    optim_sched_t sched; /* learning rate per step (its total_steps is the caller's) */
    /* Fills x (batch, x_floats) and y (batch) with the examples pos[0..b). */
    void (*batch_fn)(void *arg, const int *pos, int b, float *x, int *y);
    int nets_per_step;   /* networks per step, each on the same batch (0 counts as 1) */
    /* Network k of step t (both 0-based), finalized, over the parameters being trained;
     * NULL with err set when it cannot be built. The caller owns it; it may rebuild the
     * same net for the next k, since each is done with before the next is asked for. */
    net_t *(*net_fn)(void *arg, long t, int k, char *err, size_t n_err);
    /* After step t (step s of epoch ep, both 0-based) with its loss (the mean over the
     * step's networks); NULL: nothing. */
    void (*step_fn)(void *arg, long ep, long s, long t, float loss);
    void *arg;
} train_t;

/* Steps per epoch. */
long train_steps_per_epoch(const train_t *T);
/* Run the loop. 0, or -1 with err set (out of memory, a network that cannot be built,
 * or a loss that is not finite: the step is named and nothing more is trained). */
int train_run(const train_t *T, char *err, size_t n_err);

#endif
