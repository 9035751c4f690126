/* optim.c — learning-rate schedules (see optim.h). */
#include "engine/optim.h"

#include <math.h>
#include <string.h>

/* M_PI is not in C11. */
static const double optim_pi = 3.14159265358979323846;

double optim_lr(const optim_sched_t *s, long step)
{
    if (step < 0) step = 0;
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        return s->lr * (double)(step + 1) / (double)s->warmup_steps;
    if (s->kind != OPTIM_COSINE) return s->lr;
    long T = s->total_steps - s->warmup_steps;
    if (T <= 0) return s->lr;
    long t = step - s->warmup_steps;
    if (t > T) t = T;
    return s->lr_min + (s->lr - s->lr_min) * 0.5 * (1.0 + cos(optim_pi * (double)t / (double)T));
}

int optim_kind_parse(const char *name)
{
    if (!strcmp(name, "cosine")) return OPTIM_COSINE;
    if (!strcmp(name, "constant")) return OPTIM_CONSTANT;
    return -1;
}

const char *optim_kind_name(int kind)
{
    return kind == OPTIM_COSINE ? "cosine" : "constant";
}
