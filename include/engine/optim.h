/* optim.h — the optimizers (SGD, Adagrad) and the learning-rate schedules, in one place.
 * A schedule is a pure function of the step, so a run can be resumed or replayed from the
 * step number alone. Which optimizer a network trains with is its space's choice
 * (space.h optimizer). */
#ifndef SIGEO_OPTIM_H
#define SIGEO_OPTIM_H

#include "engine/net.h"

/* SGD with momentum, optional Nesterov, decoupled-from-nothing L2 weight decay
 * (PyTorch semantics: g += wd*w; m = mu*m + g; w -= lr*(nesterov ? g + mu*m : m)).
 * Only views with used[i] != 0 are touched when used is non-NULL. BN and bias
 * parameters get no weight decay. */
typedef struct {
    float lr, momentum, weight_decay;
    int nesterov;
} sgd_t;
void sgd_step(const sgd_t *o, params_t *P, const unsigned char *used);

/* Adagrad (Duchi et al.; PyTorch semantics, no decay): acc += g^2;
 * w -= lr * g / (sqrt(acc) + eps), over views with used[i] != 0 (all if used is NULL),
 * with P->m as the accumulator. */
void adagrad_step(params_t *P, const unsigned char *used, float lr, float eps);

/* An optimizer and its hyper-parameters, for code that trains whatever a space asks for. */
enum { OPTIMIZER_SGD = 0, OPTIMIZER_ADAGRAD };
#define OPTIMIZER_ADAGRAD_EPS 1e-8f
typedef struct {
    int kind;                         /* OPTIMIZER_* */
    float momentum, weight_decay;     /* SGD */
    int nesterov;                     /* SGD */
} optimizer_t;
/* One update at learning rate lr of the views with used[i] != 0 (all if used is NULL). */
void optimizer_step(const optimizer_t *o, params_t *P, const unsigned char *used, float lr);
/* "sgd" / "adagrad". */
const char *optimizer_name(int kind);

enum { OPTIM_CONSTANT = 0, OPTIM_COSINE };

typedef struct {
    int kind;          /* OPTIM_CONSTANT or OPTIM_COSINE */
    double lr;         /* peak learning rate */
    double lr_min;     /* cosine floor, reached at the last step (usually 0) */
    long total_steps;  /* steps of the whole run, warm-up included */
    long warmup_steps; /* linear ramp from lr/warmup_steps to lr over these steps (0 = none) */
} optim_sched_t;

/* Learning rate for step (0-based). Cosine: after warm-up, lr_min + (lr - lr_min) *
 * (1 + cos(pi * t / T)) / 2 with t the steps since warm-up and T the steps left, so the
 * first step after warm-up runs at lr and the last at lr_min + a sliver. */
double optim_lr(const optim_sched_t *s, long step);

/* "cosine" / "constant" to a kind, -1 if unknown; and back. */
int optim_kind_parse(const char *name);
const char *optim_kind_name(int kind);

#endif
