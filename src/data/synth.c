/* synth.c — the teacher of synthetic click data (see synth.h). */
#include "data/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define ND 13
#define NS 26
#define EMB 4
#define HID 8
#define N_PAIRS 24
#define N_DSK 6
#define N_CALIB 4000

static const int vocab[NS] = {140, 55, 2000, 800, 30, 24, 1200, 63, 3, 900,
                              550, 1500, 320, 27, 1400, 1100, 10, 560, 220, 4,
                              1300, 18, 15, 870, 100, 250};

typedef struct {
    double mu[ND], sd[ND], miss[ND];
    double dmean[ND], dsd[ND];
    float *w[NS];    /* first-order weight per value */
    float *e[NS];    /* EMB-dim embedding per value */
    double A[HID][ND], a[HID];
    int pair[N_PAIRS][2];
    int dsk[N_DSK];
    double P[N_DSK][EMB][ND];
    double scale, shift;
    uint64_t salt;
    rng_t rs; /* the example stream */
} teacher_t;

static int teacher_init(teacher_t *t, rng_t *r) {
    memset(t, 0, sizeof *t);
    t->salt = rng_u64(r);
    for (int j = 0; j < ND; j++) {
        t->mu[j] = 0.5 + 4.0 * rng_uniform(r);
        t->sd[j] = 0.5 + 1.0 * rng_uniform(r);
        t->miss[j] = j % 4 == 0 ? 0.3 * rng_uniform(r) : 0.05 * rng_uniform(r);
    }
    for (int k = 0; k < NS; k++) {
        t->w[k] = malloc(sizeof(float) * vocab[k]);
        t->e[k] = malloc(sizeof(float) * vocab[k] * EMB);
        if (!t->w[k] || !t->e[k]) return -1;
        for (int v = 0; v < vocab[k]; v++) {
            t->w[k][v] = (float)(0.4 * rng_normal(r));
            for (int q = 0; q < EMB; q++) t->e[k][v * EMB + q] = (float)(0.7 * rng_normal(r));
        }
    }
    for (int h = 0; h < HID; h++) {
        t->a[h] = rng_normal(r);
        for (int j = 0; j < ND; j++) t->A[h][j] = rng_normal(r) / sqrt(ND / 2.0);
    }
    for (int p = 0; p < N_PAIRS; p++) {
        int k = (int)rng_below(r, NS), l = (int)rng_below(r, NS - 1);
        t->pair[p][0] = k;
        t->pair[p][1] = l >= k ? l + 1 : l;
    }
    for (int s = 0; s < N_DSK; s++) {
        t->dsk[s] = (int)rng_below(r, NS);
        for (int q = 0; q < EMB; q++)
            for (int j = 0; j < ND; j++) t->P[s][q][j] = rng_normal(r) / sqrt(ND);
    }
    for (int j = 0; j < ND; j++) t->dsd[j] = 1;
    t->scale = 1;
    return 0;
}

/* One example: raw dense values (missing: INT64_MIN), categorical value ids (-1: empty). */
static void draw(const teacher_t *t, rng_t *r, long long *I, int *v) {
    for (int j = 0; j < ND; j++) {
        if (rng_uniform(r) < t->miss[j]) {
            I[j] = INT64_MIN;
            continue;
        }
        I[j] = (long long)floor(exp(t->mu[j] + t->sd[j] * rng_normal(r))) - 1;
        if (j == 1 && rng_uniform(r) < 0.02) I[j] = -1 - (long long)rng_below(r, 3);
    }
    for (int k = 0; k < NS; k++) {
        if (rng_uniform(r) < 0.03) {
            v[k] = -1;
            continue;
        }
        double u = rng_uniform(r);
        v[k] = (int)floor(vocab[k] * u * u * u * u);
    }
}

static double raw_logit(const teacher_t *t, const long long *I, const int *v) {
    double d[ND], s = 0;
    for (int j = 0; j < ND; j++) {
        double x = I[j] == INT64_MIN || I[j] < 0 ? 0 : log1p((double)I[j]);
        d[j] = (x - t->dmean[j]) / t->dsd[j];
    }
    for (int k = 0; k < NS; k++)
        if (v[k] >= 0) s += t->w[k][v[k]];
    for (int h = 0; h < HID; h++) {
        double z = 0;
        for (int j = 0; j < ND; j++) z += t->A[h][j] * d[j];
        s += t->a[h] * tanh(z);
    }
    for (int p = 0; p < N_PAIRS; p++) {
        int k = t->pair[p][0], l = t->pair[p][1];
        if (v[k] < 0 || v[l] < 0) continue;
        double dot = 0;
        for (int q = 0; q < EMB; q++) dot += t->e[k][v[k] * EMB + q] * t->e[l][v[l] * EMB + q];
        s += dot;
    }
    for (int q = 0; q < N_DSK; q++) {
        int k = t->dsk[q];
        if (v[k] < 0) continue;
        for (int e = 0; e < EMB; e++) {
            double z = 0;
            for (int j = 0; j < ND; j++) z += t->P[q][e][j] * d[j];
            s += z * t->e[k][v[k] * EMB + e];
        }
    }
    return s;
}

/* Standardize the dense inputs and the logit on a calibration sample from its own stream. */
static void calibrate(teacher_t *t, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed ^ 0x5be0cd19137e2179ull);
    long long I[ND];
    int v[NS];
    double s1[ND] = {0}, s2[ND] = {0}, l1 = 0, l2 = 0;
    for (int i = 0; i < N_CALIB; i++) {
        draw(t, &r, I, v);
        for (int j = 0; j < ND; j++) {
            double x = I[j] == INT64_MIN || I[j] < 0 ? 0 : log1p((double)I[j]);
            s1[j] += x, s2[j] += x * x;
        }
    }
    for (int j = 0; j < ND; j++) {
        t->dmean[j] = s1[j] / N_CALIB;
        double var = s2[j] / N_CALIB - t->dmean[j] * t->dmean[j];
        t->dsd[j] = var > 1e-12 ? sqrt(var) : 1;
    }
    for (int i = 0; i < N_CALIB; i++) {
        draw(t, &r, I, v);
        double z = raw_logit(t, I, v);
        l1 += z, l2 += z * z;
    }
    double m = l1 / N_CALIB, sd = sqrt(fmax(l2 / N_CALIB - m * m, 1e-12));
    t->scale = 2.0 / sd;
    t->shift = -m * t->scale - 1.6; /* mean logit -1.6: about 25% clicks after the spread */
}

struct synth {
    teacher_t t;
};

synth_t *synth_new(uint64_t seed) {
    synth_t *s = malloc(sizeof *s);
    rng_t r;
    rng_seed(&r, seed);
    if (!s) return NULL;
    if (teacher_init(&s->t, &r)) return synth_free(s), NULL;
    calibrate(&s->t, seed);
    rng_seed(&s->t.rs, seed ^ 0x1f83d9abfb41bd6bull);
    return s;
}

void synth_free(synth_t *s) {
    if (!s) return;
    for (int k = 0; k < NS; k++) free(s->t.w[k]), free(s->t.e[k]);
    free(s);
}

int synth_line(synth_t *s, char *line) {
    const teacher_t *t = &s->t;
    long long I[ND];
    int v[NS];
    size_t cap = SYNTH_LINE_MAX;
    draw(t, &s->t.rs, I, v);
    double z = raw_logit(t, I, v) * t->scale + t->shift;
    int y = rng_uniform(&s->t.rs) < 1.0 / (1.0 + exp(-z));
    int n = snprintf(line, cap, "%d", y);
    for (int j = 0; j < ND; j++)
        n += I[j] == INT64_MIN ? snprintf(line + n, cap - n, "\t")
                               : snprintf(line + n, cap - n, "\t%lld", I[j]);
    for (int k = 0; k < NS; k++) {
        if (v[k] < 0) {
            n += snprintf(line + n, cap - n, "\t");
            continue;
        }
        uint64_t h = t->salt ^ ((uint64_t)k << 32) ^ (uint64_t)v[k];
        h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        n += snprintf(line + n, cap - n, "\t%08x", (unsigned)(h & 0xffffffffu));
    }
    line[n++] = '\n';
    return n;
}
