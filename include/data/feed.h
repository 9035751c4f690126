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
    /* Normalization statistics to use instead of the training split's (a checkpoint's),
     * n_norm channels; 0: computed. */
    int n_norm;
    const float *mean, *std;
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
    int dense;      /* clicks: leading dense columns of a row (the rest are categorical) */
    int n[2];       /* examples of each split after the fractions */
    int n_train;    /* examples of the training split before --fraction */
    int h0, w0;     /* images: the data's own height and width (h, w after --input resizing) */
    int has_test;   /* the data came with its own test split */
    int normalize;  /* images: (x - mean) / std per channel, the statistics of the training
                       split (exact sums for 8-bit data); clicks: as read */
    float mean[DATA_MAX_CH], std[DATA_MAX_CH];
    char fingerprint[65]; /* sha256 of the training split's source bytes */
    /* private */
    dataset_t store[2];
    const dataset_t *src[2];
    int *row[2];    /* split position -> row of src[split] */
    int *orig[2];   /* split position -> position before the --fraction subset (NULL: same) */
    float inv[DATA_MAX_CH];
} feed_t;

/* The data options every data-reading tool takes, as getopt_long rows (val FEED_OPT + i)
 * and their usage lines; feed_option parses one. */
#define FEED_OPT 0x1000
#define FEED_LONG_OPTIONS                                                                   \
    {"labels", 1, 0, FEED_OPT + 0}, {"layout", 1, 0, FEED_OPT + 1},                         \
    {"holdout", 1, 0, FEED_OPT + 2}, {"label", 1, 0, FEED_OPT + 3},                         \
    {"dense", 1, 0, FEED_OPT + 4}, {"categorical", 1, 0, FEED_OPT + 5}
#define FEED_N_OPTIONS 6
#define FEED_USAGE                                                                          \
    "      --labels FILE    labels (.npy) of a --data X.npy of images\n"                     \
    "      --layout L       nhwc or nchw for 4-d arrays [guessed: the axis of 1 or 3]\n"   \
    "      --holdout F      share held out as the test split when the data has none,\n"    \
    "                       by a hash of the example number, [0,1) [0.1]\n"                 \
    "      --label COL      click table: label column, a name or 1-based number [1]\n"     \
    "      --dense COLS     click table: dense columns, names or ranges like 2-14 [2-14]\n"\
    "      --categorical COLS  click table: categorical columns [15-40]\n"
/* Parse data option ch (a FEED_OPT + i value) into s; arg must outlive s. 0; -1 for a
 * bad value (err says why); 1 if ch is not a data option. */
int feed_option(data_spec_t *s, int ch, const char *arg, char *err, size_t n_err);
/* feed_option for a tool's getopt loop: 0 taken; -1 a bad value, said on stderr; 1 not a
 * data option (the tool prints its usage). */
int feed_option_cli(data_spec_t *s, int ch, const char *arg);
/* The options of s that differ from the defaults, as text feed_options_parse reads back
 * ("--holdout 0.2 --labels /abs/y.npy"): a value with spaces or quotes is quoted as a
 * POSIX shell reads it, and --labels is made absolute, so the text means the same in
 * another directory; "" when none. 0, or -1 when it did not fit in n bytes. */
int feed_options_string(const data_spec_t *s, char *buf, size_t n);
/* Apply an options string (from a checkpoint or record; shell words: '...' quotes and
 * backslash escapes) to s. Its strings point into
 * store (a copy of text, n_store bytes), which must outlive s. 0 or -1 with err. */
int feed_options_parse(data_spec_t *s, const char *text, char *store, size_t n_store, char *err,
                       size_t n_err);

/* Load and split. f owns everything (feed_close, also after a failure). 0, -1 (bad
 * input; err names the file and what is wrong) or -2 (out of memory). */
int feed_open(feed_t *f, const feed_opts_t *o, char *err, size_t n_err);
void feed_close(feed_t *f);
/* feed_open for a tool: EXIT_OK, or after saying what is wrong on stderr (and closing f)
 * the exit status (1 bad input, 3 out of memory). */
int feed_open_cli(feed_t *f, const feed_opts_t *o);

/* The position of example pos of split in that split before the --fraction subsets were
 * taken (formats that take subsets while streaming: pos). */
int feed_split_index(const feed_t *f, int split, int pos);

/* The class names of the data (each NUL-terminated, back to back, f->classes of them),
 * NULL when the data has none (image folders name them). Owned by f. */
const char *feed_class_names(const feed_t *f);

/* Examples pos[0..b) of split into x (b,c,h,w), normalized, and y (b). */
void feed_batch(const feed_t *f, int split, const int *pos, int b, float *x, int *y);

#endif
