/* warmup.h — the supernet warm-up: one-shot training of a checkpoint's parameters on a
 * feed's training split (each step trains one uniformly sampled path; with fair
 * sampling as many paths as a gene has choices, together using every choice once; with
 * sandwich sampling the largest, the smallest and two uniform paths; and updates only
 * what they use), with the optimizer of the space at a constant or cosine
 * learning rate; the checkpoint gets the loss curve, the steps and the seconds
 * (docs/warmup.md). */
#ifndef SIGEO_MODEL_WARMUP_H
#define SIGEO_MODEL_WARMUP_H

#include <stddef.h>

#include "data/feed.h"
#include "model/ckpt.h"

/* Curve points kept in the checkpoint: each is the mean loss of a run of steps. */
#define WARMUP_CURVE_POINTS 256

/* Paths per warm-up step of the space with sampling (WARMUP_*), or -1 with err saying
 * that the space has no such sampling (a usage error: the tools check before any work). */
int model_warmup_paths(const space_t *S, int sampling, char *err, size_t n_err);

/* Train c->P (allocated and initialized) with c's options (epochs, batch, lr, schedule,
 * momentum, weight decay, sampling, seed, the few-shot split: every path then takes
 * c->fix_choice at gene c->fix_gene) on d's training split; progress lines on stderr
 * when show. 0, or -1 with err set (a loss that is not finite, out of memory, a
 * sampling or a split the space does not have). */
int model_warmup(ckpt_t *c, const feed_t *d, int show, char *err, size_t n_err);

/* A checkpoint file name that changes whenever an option that changes the checkpoint does,
 * from c's space, cfg and options (set as for the warm-up) and the data path and options
 * the warm-up reads: the readable part names the usual knobs, an 8-hex digest covers
 * everything (warmup-supernet --cache-name). */
void model_warmup_name(const ckpt_t *c, const char *data_dir, const data_spec_t *spec, char *buf,
                       size_t n);

/* Declare c's supernet for c->cfg into c->P (not allocated): the space must accept the cfg
 * and the checkpoint must fit what loaders read. EXIT_OK, or after saying on stderr which
 * option and which limit the exit status. */
int model_warmup_declare_cli(ckpt_t *c);

/* Open the warm-up's examples (the c->fraction subset of the training split of data_dir
 * read with spec, drawn from c->seed) into f, and take the data's path, options,
 * fingerprint and statistics into c, and its shapes and classes into c->cfg unless given
 * (input_given, classes_given). EXIT_OK, or after saying what is wrong on stderr (and
 * closing f) the exit status. */
int model_warmup_feed_cli(ckpt_t *c, feed_t *f, const char *data_dir, const data_spec_t *spec,
                          int input_given, int classes_given);

#endif
