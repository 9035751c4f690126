/* feed.h — the examples a tool needs for a space, a seed and a split: one call finds the
 * format, loads the data once, splits off a test set when the data has none (by a hash of
 * the example number, so every tool agrees), takes the --fraction subsets and gives out
 * batches normalized with the training split's per-channel statistics. Tools never look
 * at the kind of data or its format. */
#ifndef SIGEO_FEED_H
#define SIGEO_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "data/data.h"

enum { FEED_TRAIN = 0, FEED_TEST = 1 };

typedef struct {
    data_spec_t data; /* path, kind, hold-out share, click hash rows */
    uint64_t seed;    /* the tool's --seed: subsets use it with SEED_SALT_SUBSET / _TEST */
    double fraction, test_fraction; /* (0,1] */
    int want_test;
    int stats_int; /* statistics from exact integer sums (8-bit stores) */
} feed_opts_t;

/* Defaults for a kind: its default data path, hold-out 0.1, fractions 1, no test split,
 * seed 1, click hash rows CRITEO_ROWS_DEFAULT. */
void feed_opts_default(feed_opts_t *o, int kind);
/* The data read when a tool is given no --data, for a kind. */
const char *feed_default_path(int kind);

typedef struct {
    const data_format_t *fmt;
    char path[4096];
    int kind, c, h, w, classes;
    int n[2];       /* examples of each split after the fractions */
    int n_train;    /* examples of the training split before --fraction */
    int has_test;   /* the data came with its own test split */
    int normalize;  /* images: (x - mean) / std per channel; clicks: as read */
    float mean[DATA_MAX_CH], std[DATA_MAX_CH];
    char fingerprint[65]; /* sha256 of the training split's source bytes */
    /* private */
    dataset_t store[2];
    const dataset_t *src[2];
    int *row[2];    /* split position -> row of src[split] */
    float inv[DATA_MAX_CH];
} feed_t;

/* Load and split. f owns everything (feed_close, also after a failure). 0, -1 (bad
 * input; err names the file and what is wrong) or -2 (out of memory). */
int feed_open(feed_t *f, const feed_opts_t *o, char *err, size_t n_err);
void feed_close(feed_t *f);

/* Examples pos[0..b) of split into x (b,c,h,w), normalized, and y (b). */
void feed_batch(const feed_t *f, int split, const int *pos, int b, float *x, int *y);

#endif
