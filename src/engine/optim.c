/* optim.c — the optimizers and the learning-rate schedules (see optim.h). */
#include "engine/optim.h"

#include <math.h>
#include <string.h>

/* M_PI is not in C11. */
static const double optim_pi = 3.14159265358979323846;

double optim_lr(const optim_sched_t *s, long step) {
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

int optim_kind_parse(const char *name) {
    if (!strcmp(name, "cosine")) return OPTIM_COSINE;
    if (!strcmp(name, "constant")) return OPTIM_CONSTANT;
    return -1;
}

const char *optim_kind_name(int kind) {
    return kind == OPTIM_COSINE ? "cosine" : "constant";
}

/* ---- optimizers ---------------------------------------------------------------------- */

void sgd_step(const sgd_t *o, params_t *P, const unsigned char *used) {
    for (int i = 0; i < P->n; i++) {
        if (used && !used[i]) continue;
        const pview_t *v = &P->v[i];
        float wd = (v->kind == PK_CONV || v->kind == PK_LINEAR_W || v->kind == PK_EMB)
                       ? o->weight_decay : 0.0f;
        float *w = P->w + v->off, *g = P->g + v->off, *m = P->m + v->off;
        for (size_t j = 0; j < v->n; j++) {
            float d = g[j] + wd * w[j];
            if (o->momentum != 0.0f) {
                m[j] = o->momentum * m[j] + d;
                d = o->nesterov ? d + o->momentum * m[j] : m[j];
            }
            w[j] -= o->lr * d;
        }
    }
}

void adagrad_step(params_t *P, const unsigned char *used, float lr, float eps) {
    for (int i = 0; i < P->n; i++) {
        if (used && !used[i]) continue;
        const pview_t *v = &P->v[i];
        float *w = P->w + v->off, *g = P->g + v->off, *a = P->m + v->off;
        for (size_t j = 0; j < v->n; j++) {
            if (g[j] == 0.0f) continue; /* untouched embedding rows and sliced-off weights */
            a[j] += g[j] * g[j];
            w[j] -= lr * g[j] / (sqrtf(a[j]) + eps);
        }
    }
}

void optimizer_step(const optimizer_t *o, params_t *P, const unsigned char *used, float lr) {
    if (o->kind == OPTIMIZER_ADAGRAD) {
        adagrad_step(P, used, lr, OPTIMIZER_ADAGRAD_EPS);
        return;
    }
    sgd_t s = {lr, o->momentum, o->weight_decay, o->nesterov};
    sgd_step(&s, P, used);
}

const char *optimizer_name(int kind) {
    return kind == OPTIMIZER_ADAGRAD ? "adagrad" : "sgd";
}
