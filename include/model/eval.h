/* eval.h — a trained network over one split of a data feed: the test metrics train-arch
 * reports and the per-example outputs predict writes, from one loop, so both see the same
 * batches, padding and arithmetic. */
#ifndef SIGEO_MODEL_EVAL_H
#define SIGEO_MODEL_EVAL_H

#include <stddef.h>

#include "data/feed.h"
#include "engine/net.h"
#include "model/model.h"

typedef struct {
    long n;         /* examples evaluated */
    double acc;     /* images: argmax == label; clicks: (logit > 0) == (label == 1) */
    double loss;    /* images: mean cross-entropy (nats); clicks: log loss */
    double auc;     /* clicks: ROC AUC; NAN for images */
} eval_result_t;

/* Called per example in split order: pos (position in the split after the feed's
 * subsets), the k logits (clicks: k = 1), the label. Non-zero stops the evaluation. */
typedef int (*eval_fn)(void *arg, int pos, const float *logits, int k, int label);

/* Run net (finalized; its batch B is the evaluation batch) over split of f in BN_EVAL
 * mode, in batches of B taken in order; the last batch is padded with copies of example 0
 * and only its real rows count. clicks: the network ends in one logit per example (a
 * click space). fn may be NULL. 0; -1 with err (out of memory); or fn's non-zero value. */
int eval_split(net_t *net, const feed_t *f, int split, int clicks, eval_fn fn, void *arg,
               eval_result_t *r, char *err, size_t n_err);

/* The data a model is applied to: the model's data options, then the caller's. */
#define MODEL_FEED_MAX_OPTS 32
typedef struct {
    const char *path;     /* --data; NULL: the path the model was trained on */
    int split;            /* FEED_TEST or FEED_TRAIN (the whole training split) */
    double test_fraction; /* the test subset, (0,1], drawn as train-arch drew it */
    int n_opts;           /* data options given (FEED_OPT + i, feed.h), applied in order */
    int opt[MODEL_FEED_MAX_OPTS];
    const char *arg[MODEL_FEED_MAX_OPTS];
} model_feed_t;

/* Open the split o asks for the way train-arch opened it for m: m's data options (but
 * not its --labels file when o names other data; then o's options), the recipe's seed, hold-out and subsets, m's normalization statistics, the
 * input size and click hash rows of m's cfg; then require the data's shape, classes and
 * dense columns to be the cfg's. f owns everything (feed_close, also after a failure).
 * 0, -1 (bad input; err names the data or, for a mismatch, both files) or -2 (out of
 * memory). */
int model_feed_open(const model_t *m, const char *model_path, const model_feed_t *o, feed_t *f,
                    char *err, size_t n_err);

/* The index of the largest of k values (the first on ties). */
int eval_argmax(const float *l, int k);

#endif
