/* scorer.h — scoring a stream of candidates over one supernet checkpoint: the proxies a
 * list selects, the batches every candidate sees, one network arena reused from record to
 * record, and a memo of the outputs of candidates whose live networks are equal. The
 * score-sigeo tool is its options and record loop around this. */
#ifndef SIGEO_SCORER_H
#define SIGEO_SCORER_H

#include "io/rec.h"
#include "model/ckpt.h"
#include "proxies/proxy.h"

/* Checkpoints one scorer takes: one supernet, or the few-shot sub-supernets of one split
 * (one per choice of the split gene). */
#define SCORER_MAX_SUPERNETS 16

typedef struct {
    const char *data_path;  /* the training data (the checkpoint's when NULL) */
    const char *supernet[SCORER_MAX_SUPERNETS]; /* the checkpoints' file names, for messages */
    int n_supernets;
    long seed, batches, batch, bn_batches, eval_batches, lat_batch, lat_repeats;
    double step_lr, lambda[4];
    int have_lambda[4], paper, keep_going, no_memo;
    int n_dopt;             /* data options given, replayed over the checkpoint's */
    int dopt_ch[16];
    const char *dopt_arg[16];
} scorer_opts_t;

typedef struct scorer scorer_t;

/* Parse "a,b,c" into on[] (one flag per table entry); "all" in the list stands for every
 * proxy but the timed ones (reproducible outputs), which run only when named; NULL
 * selects the default-on ones (as 2, so that a space without one is not warned about).
 * 0, or -1 with err. */
int scorer_select(const char *list, unsigned char *on, char *err, size_t n_err);
/* A scorer over the n_ck checkpoints ck[] (which must outlive it; o->supernet[] their
 * names) for the proxies on[]: one supernet, or few-shot sub-supernets of one split
 * (ckpt_siblings; each record is then scored over the one that fits it, ckpt_fits).
 * Resolves SiGeo's weights (o->lambda, warning when the checkpoint's were chosen at another
 * warm-up share), loads the batches and sets up the proxy context. NULL with *status the
 * exit status after a message on stderr (EXIT_USAGE for checkpoints that are not
 * siblings). */
scorer_t *scorer_open(const scorer_opts_t *o, ckpt_t *const *ck, int n_ck, const unsigned char *on,
                      int *status);
/* Adds the selected proxies' scores.<key> (and "error" with the reasons of non-finite
 * ones) to e, the edit of in. 0, -1 with err for bad input (also a candidate no
 * checkpoint fits), -2 out of memory. */
int scorer_score(scorer_t *s, const msgpack_object *in, rec_t *e, char *err, size_t n_err);
/* Records whose outputs came from the memo. */
long scorer_memo_hits(const scorer_t *s);
void scorer_free(scorer_t *s);

#endif
