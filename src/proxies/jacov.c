/* jacov.c — JacobCov: the spectrum of the correlation of the input-Jacobian rows; its
 * value is cached for SiGeo's J term. */
#include "proxy_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backward from dOut/dlogits = 1 (the sum of all logits) instead of from the loss, so
 * the input node's dy is the Jacobian JacobCov needs (P->g gets junk, discarded). */
static void backward_from_logits(proxy_ctx_t *c) {
    net_t *net = c->net;
    net_zero_dy(net);
    node_t *lg = &net->nodes[net->logits];
    for (size_t j = 0; j < (size_t)lg->B * lg->C * lg->H * lg->W; j++) lg->dy[j] = 1.0f;
    net_backward_from(net, net->logits);
}

/* Eigenvalues of the symmetric n x n matrix a (destroyed) by cyclic Jacobi rotations. */
void proxy_sym_eigvals(double *a, int n, double *ev) {
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, tot = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double v = a[(size_t)i * n + j] * a[(size_t)i * n + j];
                tot += v;
                if (i != j) off += v;
            }
        if (off <= 1e-30 * tot) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[(size_t)p * n + q];
                if (apq == 0) continue;
                double app = a[(size_t)p * n + p], aqq = a[(size_t)q * n + q];
                double th = (aqq - app) / (2 * apq);
                double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                double cs = 1 / sqrt(t * t + 1), sn = t * cs;
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double akp = a[(size_t)k * n + p], akq = a[(size_t)k * n + q];
                    a[(size_t)k * n + p] = cs * akp - sn * akq;
                    a[(size_t)k * n + q] = sn * akp + cs * akq;
                }
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double apk = a[(size_t)p * n + k], aqk = a[(size_t)q * n + k];
                    a[(size_t)p * n + k] = cs * apk - sn * aqk;
                    a[(size_t)q * n + k] = sn * apk + cs * aqk;
                }
            }
    }
    for (int i = 0; i < n; i++) ev[i] = a[(size_t)i * n + i];
}

/* The rows of J for jacov: the input's dy (B,D) for image nets. An embedding lookup's
 * input columns are ids, with no gradient (their dy is a structural 0 that would only add
 * constant entries to every row), so with OP_EMBED nodes a row is the continuous input:
 * the input columns no embedding reads (the dense features) followed by each embedding
 * node's dy (the gradient with respect to the looked-up vectors, F*E per example).
 * Returns J (in *own when allocated, which the caller frees) and its row length. */
static const float *jacov_rows(const net_t *net, size_t D, size_t *n_out, float **own) {
    const node_t *in = &net->nodes[net->input];
    int B = net->batch;
    unsigned char *keep = NULL;
    size_t n = D;
    *own = NULL;
    *n_out = D;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (nd->op != OP_EMBED || nd->in[0] != net->input) continue;
        if (!keep) {
            if (!(keep = malloc(D))) return NULL;
            memset(keep, 1, D);
        }
        for (int f = 0; f < nd->C; f++) /* columns [k, k+F) hold the ids */
            if (keep[nd->k + f]) keep[nd->k + f] = 0, n--;
        n += (size_t)nd->C * nd->H * nd->W;
    }
    *n_out = n;
    if (!keep) return in->dy;
    float *J = malloc((size_t)B * (n ? n : 1) * sizeof(float));
    if (J)
        for (int b = 0; b < B; b++) {
            float *row = J + (size_t)b * n;
            for (size_t j = 0; j < D; j++)
                if (keep[j]) *row++ = in->dy[(size_t)b * D + j];
            for (int k = 0; k < net->n; k++) {
                const node_t *nd = &net->nodes[k];
                if (nd->op != OP_EMBED || nd->in[0] != net->input) continue;
                size_t u = (size_t)nd->C * nd->H * nd->W;
                memcpy(row, nd->dy + (size_t)b * u, u * sizeof(float));
                row += u;
            }
        }
    free(keep);
    *own = J;
    return J;
}

/* JacobCov (NASWOT v1): J the gradient of the sum of the logits with respect to each
 * input (jacov_rows: the dense features and looked-up embeddings of a click net);
 * -sum_i log(l_i + 1e-5) + 1/(l_i + 1e-5) over the eigenvalues l_i of the correlation
 * matrix of J's rows. */
int proxy_jacov_after_forward(proxy_ctx_t *c, double L) {
    net_t *net = c->net;
    int B = net->batch;
    size_t D;
    /* only the input's dy is read: no parameter gradients, but the input's gradient
     * even where training skips it */
    int no_in = net->no_input_dy, no_pg = net->no_param_grad;
    net->no_input_dy = 0, net->no_param_grad = 1;
    backward_from_logits(c);
    net->no_input_dy = no_in, net->no_param_grad = no_pg;
    c->have_batch0 = 0;
    float *own;
    const float *J = jacov_rows(net, proxy_img_size(c), &D, &own);
    double *z = malloc((size_t)B * (D ? D : 1) * sizeof(double));
    double *R = malloc((size_t)B * B * sizeof(double)), *ev = malloc((size_t)B * sizeof(double));
    if (!J || !z || !R || !ev) {
        free(own);
        free(z);
        free(R);
        free(ev);
        return -1;
    }
    int flat = 0;
    for (int b = 0; b < B; b++) { /* standardize each row */
        double m = 0, q = 0;
        for (size_t j = 0; j < D; j++) m += J[(size_t)b * D + j];
        m /= (double)D;
        for (size_t j = 0; j < D; j++) {
            double d = J[(size_t)b * D + j] - m;
            z[(size_t)b * D + j] = d;
            q += d * d;
        }
        if (q == 0) flat = 1;
        double inv = q > 0 ? 1 / sqrt(q) : 0;
        for (size_t j = 0; j < D; j++) z[(size_t)b * D + j] *= inv;
    }
    double s = NAN;
    if (!flat) {
        for (int i = 0; i < B; i++)
            for (int j = i; j < B; j++) {
                double t = 0;
                for (size_t q = 0; q < D; q++) t += z[(size_t)i * D + q] * z[(size_t)j * D + q];
                R[(size_t)i * B + j] = R[(size_t)j * B + i] = t;
            }
        proxy_sym_eigvals(R, B, ev);
        s = 0;
        for (int i = 0; i < B; i++) s -= log(ev[i] + 1e-5) + 1 / (ev[i] + 1e-5);
    }
    free(own);
    free(z);
    free(R);
    free(ev);
    c->jacov_s = s, c->jacov_loss = L, c->jacov_flat = flat, c->have_jacov = 1;
    return 0;
}

/* jacov's score, flatness and loss into the cache, unless already there. */
static int jacov_value(proxy_ctx_t *c) {
    if (c->have_jacov) return 0;
    proxy_restore(c);
    c->net->bn_mode = BN_BATCH;
    return proxy_jacov_after_forward(c, net_forward(c->net, c->x, c->y));
}

static int p_jacov(proxy_ctx_t *c, proxy_out_t *o) {
    if (jacov_value(c)) return -1;
    double s = c->jacov_s, L = c->jacov_loss;
    int flat = c->jacov_flat;
    if (flat) proxy_set_err(o, "jacov: the output does not depend on some input (constant Jacobian)");
    else if (!isfinite(L) || !isfinite(s)) proxy_set_err(o, "jacov: loss or score not finite");
    proxy_set_out(o, "jacov", isfinite(s) && isfinite(L) ? s : NAN);
    return 0;
}

const proxy_t proxy_jacov = {
    "jacov", PROXY_DEFAULT | PROXY_LIVE_ONLY | PROXY_INPUT_DY,
    "-sum log(l+1e-5) + 1/(l+1e-5) over eigenvalues of the input-Jacobian correlation; higher is better",
    p_jacov,
};
