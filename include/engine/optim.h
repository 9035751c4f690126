/* optim.h — learning-rate schedules shared by the training tools (SGD itself is
 * sgd_step in net.h). A schedule is a pure function of the step, so a run can be
 * resumed or replayed from the step number alone. */
#ifndef SIGEO_OPTIM_H
#define SIGEO_OPTIM_H

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
