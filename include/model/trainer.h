/* trainer.h — train-arch's work on one record: its network built from the record, trained
 * from scratch with the recipe (model_fit), saved as a model file under --save, and the
 * record's "truth" map; and the data the run reads (both splits, subsets taken). */
#ifndef SIGEO_MODEL_TRAINER_H
#define SIGEO_MODEL_TRAINER_H

#include <stddef.h>

#include "data/feed.h"
#include "io/rec.h"

typedef struct {
    const char *data_dir;
    char data_abs[4096]; /* data_dir made absolute: what records and models store */
    int data_given, kind, rows; /* clicks: the data kind loaded and its hash rows */
    long epochs, batch, seed, warmup, threads;
    double lr, momentum, weight_decay, fraction, test_fraction;
    data_spec_t spec; /* the data options (feed.h) */
    int n_norm;       /* the data's normalization, for the records */
    float mean[DATA_MAX_CH], std[DATA_MAX_CH];
    int schedule, nesterov, progress; /* progress: -1 quiet, 0 auto (tty), 1 forced */
    const char *save;  /* --save DIR: a model file per record, or NULL */
} trainer_opts_t;

/* What one training run produced. */
typedef struct {
    double test_acc, test_loss, train_loss, seconds, images_per_s;
    double auc; /* click data: held-out AUC (test_loss is then the log loss) */
    size_t params;
    char model[4096 + 64]; /* the model file written (--save), else "" */
} trainer_result_t;

/* Both splits, subsets taken, and their statistics into o (kind, rows and the input shape
 * set first). EXIT_OK, or the exit status after saying what is wrong. */
int trainer_load(trainer_opts_t *o, feed_t *f);
/* Build, train and evaluate the record's network (and save it under o->save); 0, -1 with
 * err set (bad input), or -2 (the model file could not be written). */
int trainer_record(const trainer_opts_t *o, const msgpack_object *in, const feed_t *f, long recno,
                   trainer_result_t *res, char *err, size_t n_err);
/* The record's truth.* keys (and "model") from a run. 0, or -1 out of memory. */
int trainer_truth(rec_t *e, const trainer_opts_t *o, const trainer_result_t *r, const char *fp);

#endif
