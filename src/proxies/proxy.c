/* proxy.c — SiGeo and the zero-cost baselines, one function per proxy, one table.
 * Definitions, signs and the choices made are in docs/proxies.md. */
#include "proxies/proxy.h"
#include "data/criteo.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers over the working parameters ---------------------------------------- */

static int is_weight(const params_t *P, int i)
{
    return P->v[i].kind == PK_CONV || P->v[i].kind == PK_LINEAR_W;
}

static int used_weight(const proxy_ctx_t *c, int i)
{
    return c->used[i] && is_weight(c->P, i);
}

size_t proxy_weight_count(const proxy_ctx_t *c)
{
    size_t n = 0;
    for (int i = 0; i < c->P->n; i++)
        if (used_weight(c, i)) n += c->P->v[i].n;
    return n;
}

static void copy_state(proxy_ctx_t *c, int sv)
{
    if (sv < 0) return;
    const pview_t *d = &c->P->sv[sv], *s = &c->src->sv[sv];
    memcpy(c->P->s + d->off, c->src->s + s->off, d->n * sizeof(float));
}

void proxy_restore(proxy_ctx_t *c)
{
    for (int i = 0; i < c->P->n; i++)
        if (c->used[i])
            memcpy(c->P->w + c->P->v[i].off, c->src->w + c->src->v[i].off,
                   c->P->v[i].n * sizeof(float));
    for (int k = 0; k < c->net->n; k++) {
        const node_t *nd = &c->net->nodes[k];
        if (nd->op != OP_BN) continue;
        copy_state(c, nd->st[0]);
        copy_state(c, nd->st[1]);
    }
}

void proxy_ctx_reset(proxy_ctx_t *c)
{
    c->have_batch0 = 0;
    c->have_g0 = 0;
    c->have_jacov = 0;
}

void proxy_ctx_free(proxy_ctx_t *c)
{
    free(c->g0);
    c->g0 = NULL;
    c->n_g0 = 0;
    c->have_g0 = 0;
}

static size_t img_size(const proxy_ctx_t *c)
{
    return (size_t)c->c * c->h * c->w;
}

static int jacov_after_forward(proxy_ctx_t *c, double loss);

/* Forward and backward of one batch (BN on batch statistics) with fresh gradients, *loss
 * the mean loss. With want_j, jacov's score is also taken (into the cache) from the
 * forward pass, before the loss backward. 0, or -1 out of memory. */
static int batch_pass(proxy_ctx_t *c, const float *x, const int *y, int want_j, double *loss)
{
    c->net->bn_mode = BN_BATCH;
    float l = net_forward(c->net, x, y);
    *loss = l;
    if (want_j && jacov_after_forward(c, l)) return -1;
    params_zero_grad(c->P);
    net_backward(c->net);
    return 0;
}

static double run_batch(proxy_ctx_t *c, const float *x, const int *y)
{
    double loss;
    batch_pass(c, x, y, 0, &loss); /* cannot fail without want_j */
    return loss;
}

static double batch0(proxy_ctx_t *c)
{
    if (!c->have_batch0) {
        proxy_restore(c);
        c->loss0 = run_batch(c, c->x, c->y);
        c->have_batch0 = 1;
    }
    return c->loss0;
}

/* Copy the used weights' gradients (or weights) into dst in view order. */
static void gather(const proxy_ctx_t *c, const float *buf, float *dst)
{
    size_t k = 0;
    for (int i = 0; i < c->P->n; i++)
        if (used_weight(c, i)) {
            memcpy(dst + k, buf + c->P->v[i].off, c->P->v[i].n * sizeof(float));
            k += c->P->v[i].n;
        }
}

static void set_out(proxy_out_t *o, const char *key, double v)
{
    if (o->n < PROXY_MAX_KEYS) {
        o->key[o->n] = key;
        o->v[o->n] = v;
        o->n++;
    }
}

static void set_err(proxy_out_t *o, const char *why)
{
    if (!o->err[0]) snprintf(o->err, sizeof o->err, "%s", why);
}

/* The gradient baselines' output: the score, or NaN with an error naming the proxy when
 * the loss or the score is not finite. */
static void set_grad_score(proxy_out_t *o, const char *key, double loss, double v)
{
    if (!isfinite(loss) || !isfinite(v)) {
        char why[64];
        snprintf(why, sizeof why, "%s: loss or gradient not finite", key);
        set_err(o, why);
        v = NAN;
    }
    set_out(o, key, v);
}

/* ---- SiGeo and ZiCo ----------------------------------------------------------------- */

/* proxy_batch_grads; with want_j, jacov's score is also taken (into the cache) from
 * batch 0's forward pass. */
static int batch_grads(proxy_ctx_t *c, float lr, float *G, double *loss, int want_j)
{
    size_t n_w = proxy_weight_count(c), sz = img_size(c);
    int B = c->net->batch;
    sgd_t o = {.lr = lr, .momentum = 0, .weight_decay = 0, .nesterov = 0};
    proxy_restore(c);
    c->have_batch0 = 0;
    *loss = NAN;
    for (int b = 0; b < c->n_batches; b++) {
        /* Without steps, batch 0's gradient is the cached one (same weights, same batch);
         * with steps the step needs it in P->g, so it is recomputed. */
        if (b == 0 && lr == 0 && c->have_g0 && c->n_batches > 1 && !want_j) {
            memcpy(G, c->g0, n_w * sizeof(float));
        } else {
            if (batch_pass(c, c->x + (size_t)b * B * sz, c->y + (size_t)b * B,
                           b == 0 && want_j, loss))
                return -1;
            gather(c, c->P->g, G + (size_t)b * n_w);
        }
        if (b == 0 && !c->have_g0) {
            if (c->n_g0 < n_w) {
                float *p = realloc(c->g0, (n_w ? n_w : 1) * sizeof(float));
                if (!p) return -1;
                c->g0 = p;
                c->n_g0 = n_w;
            }
            memcpy(c->g0, G, n_w * sizeof(float));
            c->have_g0 = 1;
        }
        if (lr != 0) sgd_step(&o, c->P, c->used);
    }
    return 0;
}

int proxy_batch_grads(proxy_ctx_t *c, float lr, float *G, double *loss)
{
    return batch_grads(c, lr, G, loss, 0);
}

double proxy_s1(const proxy_ctx_t *c, const float *G, int K)
{
    size_t n_w = proxy_weight_count(c), k = 0;
    double s1 = 0;
    for (int i = 0; i < c->P->n; i++) {
        if (!used_weight(c, i)) continue;
        double layer = 0;
        for (size_t j = k; j < k + c->P->v[i].n; j++) {
            double mean = 0, mabs = 0, var = 0;
            for (int b = 0; b < K; b++) {
                double g = G[(size_t)b * n_w + j];
                mean += g;
                mabs += fabs(g);
            }
            mean /= K;
            mabs /= K;
            for (int b = 0; b < K; b++) {
                double d = G[(size_t)b * n_w + j] - mean;
                var += d * d;
            }
            double sd = sqrt(var / K); /* population std, as numpy's default */
            if (sd != 0) layer += mabs / sd; /* NaN is not 0: it propagates, as in numpy */
        }
        if (layer != 0) s1 += log(layer);
        k += c->P->v[i].n;
    }
    return s1;
}

double proxy_s2(const proxy_ctx_t *c, const float *G, int K)
{
    size_t n_w = proxy_weight_count(c), k = 0;
    double s = 0;
    for (int i = 0; i < c->P->n; i++) {
        if (!used_weight(c, i)) continue;
        const float *th = c->P->w + c->P->v[i].off;
        double dot = 0;
        for (size_t j = 0; j < c->P->v[i].n; j++) {
            double g = 0;
            for (int b = 0; b < K; b++) g += G[(size_t)b * n_w + k + j];
            dot += g * th[j];
        }
        s += fabs(dot);
        k += c->P->v[i].n;
    }
    return 2.0 * log(s + 1e-5);
}

static int p_sigeo(proxy_ctx_t *c, proxy_out_t *o)
{
    /* J, the Jacobian-covariance term, at the inherited weights before any step (the
     * same value as the jacov proxy, from the forward pass of SiGeo's first batch);
     * skipped when its weight is 0. */
    int want_j = c->lambda[3] != 0;
    size_t n_w = proxy_weight_count(c);
    float *G = malloc((n_w ? n_w : 1) * c->n_batches * sizeof(float));
    if (!G) return -1;
    double L;
    if (batch_grads(c, c->step_lr, G, &L, want_j && !c->have_jacov)) {
        free(G);
        return -1;
    }
    double J = want_j ? c->jacov_s : 0;
    int flat = want_j && c->jacov_flat;
    if (flat) J = NAN;
    double s1 = proxy_s1(c, G, c->n_batches), s2 = proxy_s2(c, G, c->n_batches);
    free(G);
    double v = c->lambda[0] * s1 + c->lambda[1] * s2 - c->lambda[2] * L;
    if (c->lambda[3] != 0) v += c->lambda[3] * J;
    if (!isfinite(v) || !isfinite(L)) {
        char why[160];
        if (flat)
            snprintf(why, sizeof why, "sigeo: the output does not depend on the input (no path "
                     "through the cell), so the Jacobian term J is undefined");
        else
            snprintf(why, sizeof why, "sigeo: not finite (S1 %g, S2 %g, loss %g, J %g)", s1, s2,
                     L, J);
        set_err(o, why);
    }
    set_out(o, "sigeo", isfinite(v) && isfinite(L) ? v : NAN);
    set_out(o, "sigeo_s1", s1);
    set_out(o, "sigeo_s2", s2);
    set_out(o, "sigeo_loss", L);
    if (c->lambda[3] != 0) set_out(o, "sigeo_j", J);
    return 0;
}

static int p_zico(proxy_ctx_t *c, proxy_out_t *o)
{
    size_t n_w = proxy_weight_count(c);
    float *G = malloc((n_w ? n_w : 1) * c->n_batches * sizeof(float));
    if (!G) return -1;
    double L;
    if (proxy_batch_grads(c, 0, G, &L)) {
        free(G);
        return -1;
    }
    double v = proxy_s1(c, G, c->n_batches);
    free(G);
    if (!isfinite(L) || !isfinite(v)) {
        char why[160];
        snprintf(why, sizeof why, "zico: not finite (S1 %g, loss %g)", v, L);
        set_err(o, why);
        v = NAN;
    }
    set_out(o, "zico", v);
    return 0;
}

/* ---- gradient-based baselines on batch 0 -------------------------------------------- */

static int p_grad_norm(proxy_ctx_t *c, proxy_out_t *o)
{
    double L = batch0(c), s = 0;
    for (int i = 0; i < c->P->n; i++) {
        if (!used_weight(c, i)) continue;
        const float *g = c->P->g + c->P->v[i].off;
        double q = 0;
        for (size_t j = 0; j < c->P->v[i].n; j++) q += (double)g[j] * g[j];
        s += sqrt(q);
    }
    set_grad_score(o, "grad_norm", L, s);
    return 0;
}

static int p_snip(proxy_ctx_t *c, proxy_out_t *o)
{
    double L = batch0(c), s = 0;
    for (int i = 0; i < c->P->n; i++) {
        if (!used_weight(c, i)) continue;
        const float *g = c->P->g + c->P->v[i].off, *w = c->P->w + c->P->v[i].off;
        for (size_t j = 0; j < c->P->v[i].n; j++) s += fabs((double)g[j] * w[j]);
    }
    set_grad_score(o, "snip", L, s);
    return 0;
}

/* A weight layer's output for Fisher: a conv or linear node, or (recommender ops) a sliced
 * linear / EFC node, or a sum of such nodes. nasrec writes one linear layer over several
 * sources as per-source projections summed by OP_ADD (one layer over the concatenated
 * inputs); that sum is the layer's output, so its parts are not counted on their own. */
static int rec_linear(const net_t *net, int k)
{
    const node_t *nd = &net->nodes[k];
    if (nd->op == OP_RLINEAR || nd->op == OP_EFC) return 1;
    if (nd->op != OP_ADD) return 0;
    for (int q = 0; q < nd->n_in; q++)
        if (!rec_linear(net, nd->in[q])) return 0;
    return 1;
}

static int fisher_layer(const net_t *net, int k)
{
    const node_t *nd = &net->nodes[k];
    if (nd->op == OP_CONV || nd->op == OP_LINEAR) return 1;
    if (!rec_linear(net, k)) return 0;
    int n_cons = 0, n_sum = 0; /* a part read only by sums of linear layers is absorbed */
    for (int m = k + 1; m < net->n; m++)
        for (int q = 0; q < net->nodes[m].n_in; q++)
            if (net->nodes[m].in[q] == k) {
                n_cons++;
                n_sum += net->nodes[m].op == OP_ADD && rec_linear(net, m);
                break;
            }
    return n_cons == 0 || n_sum < n_cons;
}

/* Fisher (zero-cost-nas): over the output a of every weight layer (fisher_layer),
 * 0.5 * mean_b (sum_hw a * dL/da)^2 summed over channels and layers. A channel is a conv's
 * output channel over its positions, a linear unit, or an EFC output row over the E
 * embedding positions its weight row is shared across ((B,SO,E) is C=SO, H=E). */
static int p_fisher(proxy_ctx_t *c, proxy_out_t *o)
{
    double L = batch0(c), s = 0;
    const net_t *net = c->net;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (!fisher_layer(net, k) || !nd->y || !nd->dy) continue;
        size_t hw = (size_t)nd->H * nd->W;
        for (int b = 0; b < nd->B; b++)
            for (int ch = 0; ch < nd->C; ch++) {
                const float *y = nd->y + ((size_t)b * nd->C + ch) * hw;
                const float *d = nd->dy + ((size_t)b * nd->C + ch) * hw;
                double t = 0;
                for (size_t j = 0; j < hw; j++) t += (double)y[j] * d[j];
                s += t * t;
            }
    }
    s *= 0.5 / net->batch;
    set_grad_score(o, "fisher", L, s);
    return 0;
}

/* GraSP: -theta . (H g) over conv/linear weights, H g by a central difference of the
 * gradient along g. */
#define GRASP_REL_STEP 3e-3
static int p_grasp(proxy_ctx_t *c, proxy_out_t *o)
{
    size_t n_w = proxy_weight_count(c);
    float *buf = malloc((n_w ? n_w : 1) * 4 * sizeof(float));
    if (!buf) return -1;
    float *g0 = buf, *th = buf + n_w, *gp = buf + 2 * n_w, *gm = buf + 3 * n_w;
    double L = batch0(c);
    gather(c, c->P->g, g0);
    gather(c, c->P->w, th);
    double ng = 0, nt = 0;
    for (size_t j = 0; j < n_w; j++) {
        ng += (double)g0[j] * g0[j];
        nt += (double)th[j] * th[j];
    }
    double s = 0;
    if (ng > 0) {
        double h = GRASP_REL_STEP * sqrt(nt > 0 ? nt : 1) / sqrt(ng);
        for (int sign = 1; sign >= -1; sign -= 2) {
            size_t k = 0;
            for (int i = 0; i < c->P->n; i++) {
                if (!used_weight(c, i)) continue;
                float *w = c->P->w + c->P->v[i].off;
                for (size_t j = 0; j < c->P->v[i].n; j++, k++)
                    w[j] = (float)(th[k] + sign * h * g0[k]);
            }
            double l = run_batch(c, c->x, c->y);
            if (!isfinite(l)) L = l;
            gather(c, c->P->g, sign > 0 ? gp : gm);
        }
        for (size_t j = 0; j < n_w; j++) s -= th[j] * ((double)gp[j] - gm[j]) / (2 * h);
        proxy_restore(c);
        c->have_batch0 = 0;
    }
    free(buf);
    set_grad_score(o, "grasp", L, s);
    return 0;
}

/* ---- activation-pattern and Jacobian baselines --------------------------------------- */

/* log|det A| of the n x n matrix a (overwritten) by LU with partial pivoting;
 * -inf if singular. */
static double logabsdet(double *a, int n)
{
    double s = 0;
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(a[(size_t)i * n + k]) > fabs(a[(size_t)p * n + k])) p = i;
        if (a[(size_t)p * n + k] == 0) return -INFINITY;
        if (p != k)
            for (int j = 0; j < n; j++) {
                double t = a[(size_t)k * n + j];
                a[(size_t)k * n + j] = a[(size_t)p * n + j];
                a[(size_t)p * n + j] = t;
            }
        double piv = a[(size_t)k * n + k];
        s += log(fabs(piv));
        for (int i = k + 1; i < n; i++) {
            double f = a[(size_t)i * n + k] / piv;
            if (f == 0) continue;
            for (int j = k + 1; j < n; j++) a[(size_t)i * n + j] -= f * a[(size_t)k * n + j];
        }
    }
    return s;
}

/* NASWOT: K[i][j] = N_A - Hamming(c_i, c_j) over the binary codes (ReLU output > 0) of
 * every ReLU unit; score log|det K|. */
static int p_naswot(proxy_ctx_t *c, proxy_out_t *o)
{
    double L = batch0(c);
    const net_t *net = c->net;
    int B = net->batch;
    size_t n_words = 0, n_units = 0;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (nd->op != OP_RELU) continue;
        size_t u = (size_t)nd->C * nd->H * nd->W;
        n_units += u;
        n_words += (u + 63) / 64;
    }
    uint64_t *code = calloc((n_words ? n_words : 1) * B, sizeof(uint64_t));
    double *K = malloc((size_t)B * B * sizeof(double));
    if (!code || !K) {
        free(code);
        free(K);
        return -1;
    }
    size_t w0 = 0;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (nd->op != OP_RELU) continue;
        size_t u = (size_t)nd->C * nd->H * nd->W;
        for (int b = 0; b < B; b++) {
            uint64_t *row = code + (size_t)b * n_words + w0;
            const float *y = nd->y + (size_t)b * u;
            for (size_t j = 0; j < u; j++)
                if (y[j] > 0) row[j / 64] |= (uint64_t)1 << (j % 64);
        }
        w0 += (u + 63) / 64;
    }
    for (int i = 0; i < B; i++)
        for (int j = i; j < B; j++) {
            size_t ham = 0;
            const uint64_t *a = code + (size_t)i * n_words, *b = code + (size_t)j * n_words;
            for (size_t q = 0; q < n_words; q++) ham += (size_t)__builtin_popcountll(a[q] ^ b[q]);
            K[(size_t)i * B + j] = K[(size_t)j * B + i] = (double)(n_units - ham);
        }
    double s = logabsdet(K, B);
    free(code);
    free(K);
    if (!isfinite(L)) set_err(o, "naswot: loss not finite");
    else if (!isfinite(s)) set_err(o, "naswot: activation-pattern kernel is singular");
    set_out(o, "naswot", isfinite(s) && isfinite(L) ? s : NAN);
    return 0;
}

/* Backward from dOut/dlogits = 1 (the sum of all logits) instead of from the loss, so
 * the input node's dy is the Jacobian JacobCov needs (P->g gets junk, discarded). */
static void backward_from_logits(proxy_ctx_t *c)
{
    net_t *net = c->net;
    net_zero_dy(net);
    node_t *lg = &net->nodes[net->logits];
    for (size_t j = 0; j < (size_t)lg->B * lg->C * lg->H * lg->W; j++) lg->dy[j] = 1.0f;
    net_backward_from(net, net->logits);
}

/* Eigenvalues of the symmetric n x n matrix a (destroyed) by cyclic Jacobi rotations. */
static void sym_eigvals(double *a, int n, double *ev)
{
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
static const float *jacov_rows(const net_t *net, size_t D, size_t *n_out, float **own)
{
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
static int jacov_after_forward(proxy_ctx_t *c, double L)
{
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
    const float *J = jacov_rows(net, img_size(c), &D, &own);
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
        sym_eigvals(R, B, ev);
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
static int jacov_value(proxy_ctx_t *c)
{
    if (c->have_jacov) return 0;
    proxy_restore(c);
    c->net->bn_mode = BN_BATCH;
    return jacov_after_forward(c, net_forward(c->net, c->x, c->y));
}

static int p_jacov(proxy_ctx_t *c, proxy_out_t *o)
{
    if (jacov_value(c)) return -1;
    double s = c->jacov_s, L = c->jacov_loss;
    int flat = c->jacov_flat;
    if (flat) set_err(o, "jacov: the output does not depend on some input (constant Jacobian)");
    else if (!isfinite(L) || !isfinite(s)) set_err(o, "jacov: loss or score not finite");
    set_out(o, "jacov", isfinite(s) && isfinite(L) ? s : NAN);
    return 0;
}

/* ---- synflow: a separate double-precision pass ------------------------------------- */

/* SynFlow (Tanaka et al., zero-cost-nas): every parameter replaced by its absolute value,
 * BN off (identity), one all-ones input; R = sum of the logits; score sum_i theta_i dR/dtheta_i
 * over conv and linear weights. Runs its own forward/backward over the graph in double
 * with direct loops (batch 1), so deep nets do not overflow float. */
static int p_synflow(proxy_ctx_t *c, proxy_out_t *o)
{
    for (int k = 0; k < c->net->n; k++)
        if (c->net->nodes[k].op > OP_XENT) return 0; /* recommender ops: not applicable */
    proxy_restore(c);
    const net_t *net = c->net;
    const params_t *P = c->P;
    int n = net->n;
    double **y = calloc((size_t)n, sizeof *y), **dy = calloc((size_t)n, sizeof *dy);
    int ok = y && dy;
    for (int k = 0; ok && k < n; k++) {
        const node_t *nd = &net->nodes[k];
        size_t sz = (size_t)nd->C * nd->H * nd->W;
        y[k] = calloc(sz ? sz : 1, sizeof(double));
        dy[k] = calloc(sz ? sz : 1, sizeof(double));
        ok = y[k] && dy[k];
    }
    double score = 0;
    if (ok) {
        for (int k = 0; k <= net->logits; k++) {
            const node_t *nd = &net->nodes[k];
            const node_t *in = nd->n_in > 0 ? &net->nodes[nd->in[0]] : NULL;
            const double *x = in ? y[nd->in[0]] : NULL;
            double *out = y[k];
            size_t sz = (size_t)nd->C * nd->H * nd->W;
            switch (nd->op) {
            case OP_INPUT:
                for (size_t j = 0; j < sz; j++) out[j] = 1;
                break;
            case OP_CONV: {
                const float *w = P->w + P->v[nd->p[0]].off;
                int C = in->C, H = in->H, W = in->W, K = nd->k;
                for (int oc = 0; oc < nd->C; oc++)
                    for (int oh = 0; oh < nd->H; oh++)
                        for (int ow = 0; ow < nd->W; ow++) {
                            double s = 0;
                            for (int ci = 0; ci < C; ci++)
                                for (int a = 0; a < K; a++) {
                                    int ih = oh * nd->stride - nd->pad + a;
                                    if (ih < 0 || ih >= H) continue;
                                    for (int e = 0; e < K; e++) {
                                        int iw = ow * nd->stride - nd->pad + e;
                                        if (iw < 0 || iw >= W) continue;
                                        s += fabs(w[((size_t)(oc * C + ci) * K + a) * K + e]) *
                                             x[((size_t)ci * H + ih) * W + iw];
                                    }
                                }
                            out[((size_t)oc * nd->H + oh) * nd->W + ow] = s;
                        }
                break;
            }
            case OP_BN:
                memcpy(out, x, sz * sizeof(double));
                break;
            case OP_RELU:
                for (size_t j = 0; j < sz; j++) out[j] = x[j] > 0 ? x[j] : 0;
                break;
            case OP_ADD:
                for (int q = 0; q < nd->n_in; q++)
                    for (size_t j = 0; j < sz; j++) out[j] += y[nd->in[q]][j];
                break;
            case OP_AVGPOOL3:
                for (int ch = 0; ch < nd->C; ch++)
                    for (int i = 0; i < nd->H; i++)
                        for (int j = 0; j < nd->W; j++) {
                            double s = 0;
                            int cnt = 0;
                            for (int a = i - 1; a <= i + 1; a++)
                                for (int e = j - 1; e <= j + 1; e++)
                                    if (a >= 0 && a < in->H && e >= 0 && e < in->W) {
                                        s += x[((size_t)ch * in->H + a) * in->W + e];
                                        cnt++;
                                    }
                            out[((size_t)ch * nd->H + i) * nd->W + j] = s / cnt;
                        }
                break;
            case OP_AVGPOOL2:
                for (int ch = 0; ch < nd->C; ch++)
                    for (int i = 0; i < nd->H; i++)
                        for (int j = 0; j < nd->W; j++) {
                            const double *p = x + ((size_t)ch * in->H + 2 * i) * in->W + 2 * j;
                            out[((size_t)ch * nd->H + i) * nd->W + j] =
                                0.25 * (p[0] + p[1] + p[in->W] + p[in->W + 1]);
                        }
                break;
            case OP_GAP: {
                size_t hw = (size_t)in->H * in->W;
                for (int ch = 0; ch < nd->C; ch++) {
                    double s = 0;
                    for (size_t j = 0; j < hw; j++) s += x[ch * hw + j];
                    out[ch] = s / (double)hw;
                }
                break;
            }
            case OP_LINEAR: {
                const float *w = P->w + P->v[nd->p[0]].off;
                const float *bb = nd->p[1] >= 0 ? P->w + P->v[nd->p[1]].off : NULL;
                size_t IN = (size_t)in->C * in->H * in->W;
                for (int q = 0; q < nd->C; q++) {
                    double s = bb ? fabs(bb[q]) : 0;
                    for (size_t j = 0; j < IN; j++) s += fabs(w[q * IN + j]) * x[j];
                    out[q] = s;
                }
                break;
            }
            default: /* OP_ZERO stays zero */
                break;
            }
        }
        /* Backward from dR/dlogits = 1, accumulating theta * dR/dtheta. */
        {
            const node_t *lg = &net->nodes[net->logits];
            for (size_t j = 0; j < (size_t)lg->C * lg->H * lg->W; j++) dy[net->logits][j] = 1;
        }
        for (int k = net->logits; k >= 0; k--) {
            const node_t *nd = &net->nodes[k];
            if (nd->n_in == 0) continue;
            const node_t *in = &net->nodes[nd->in[0]];
            const double *x = y[nd->in[0]], *d = dy[k];
            double *dx = dy[nd->in[0]];
            size_t sz = (size_t)nd->C * nd->H * nd->W;
            switch (nd->op) {
            case OP_CONV: {
                const float *w = P->w + P->v[nd->p[0]].off;
                int C = in->C, H = in->H, W = in->W, K = nd->k;
                for (int oc = 0; oc < nd->C; oc++)
                    for (int oh = 0; oh < nd->H; oh++)
                        for (int ow = 0; ow < nd->W; ow++) {
                            double g = d[((size_t)oc * nd->H + oh) * nd->W + ow];
                            if (g == 0) continue;
                            for (int ci = 0; ci < C; ci++)
                                for (int a = 0; a < K; a++) {
                                    int ih = oh * nd->stride - nd->pad + a;
                                    if (ih < 0 || ih >= H) continue;
                                    for (int e = 0; e < K; e++) {
                                        int iw = ow * nd->stride - nd->pad + e;
                                        if (iw < 0 || iw >= W) continue;
                                        double aw = fabs(w[((size_t)(oc * C + ci) * K + a) * K + e]);
                                        size_t xi = ((size_t)ci * H + ih) * W + iw;
                                        dx[xi] += aw * g;
                                        score += aw * g * x[xi];
                                    }
                                }
                        }
                break;
            }
            case OP_BN:
                for (size_t j = 0; j < sz; j++) dx[j] += d[j];
                break;
            case OP_RELU:
                for (size_t j = 0; j < sz; j++)
                    if (x[j] > 0) dx[j] += d[j];
                break;
            case OP_ADD:
                for (int q = 0; q < nd->n_in; q++)
                    for (size_t j = 0; j < sz; j++) dy[nd->in[q]][j] += d[j];
                break;
            case OP_AVGPOOL3:
                for (int ch = 0; ch < nd->C; ch++)
                    for (int i = 0; i < nd->H; i++)
                        for (int j = 0; j < nd->W; j++) {
                            int cnt = 0;
                            for (int a = i - 1; a <= i + 1; a++)
                                for (int e = j - 1; e <= j + 1; e++)
                                    cnt += a >= 0 && a < in->H && e >= 0 && e < in->W;
                            double g = d[((size_t)ch * nd->H + i) * nd->W + j] / cnt;
                            for (int a = i - 1; a <= i + 1; a++)
                                for (int e = j - 1; e <= j + 1; e++)
                                    if (a >= 0 && a < in->H && e >= 0 && e < in->W)
                                        dx[((size_t)ch * in->H + a) * in->W + e] += g;
                        }
                break;
            case OP_AVGPOOL2:
                for (int ch = 0; ch < nd->C; ch++)
                    for (int i = 0; i < nd->H; i++)
                        for (int j = 0; j < nd->W; j++) {
                            double g = 0.25 * d[((size_t)ch * nd->H + i) * nd->W + j];
                            double *p = dx + ((size_t)ch * in->H + 2 * i) * in->W + 2 * j;
                            p[0] += g;
                            p[1] += g;
                            p[in->W] += g;
                            p[in->W + 1] += g;
                        }
                break;
            case OP_GAP: {
                size_t hw = (size_t)in->H * in->W;
                for (int ch = 0; ch < nd->C; ch++)
                    for (size_t j = 0; j < hw; j++) dx[ch * hw + j] += d[ch] / (double)hw;
                break;
            }
            case OP_LINEAR: {
                const float *w = P->w + P->v[nd->p[0]].off;
                size_t IN = (size_t)in->C * in->H * in->W;
                for (int q = 0; q < nd->C; q++)
                    for (size_t j = 0; j < IN; j++) {
                        double aw = fabs(w[q * IN + j]);
                        dx[j] += aw * d[q];
                        score += aw * d[q] * x[j];
                    }
                break;
            }
            default:
                break;
            }
        }
    }
    for (int k = 0; y && k < n; k++) free(y[k]);
    for (int k = 0; dy && k < n; k++) free(dy[k]);
    free(y);
    free(dy);
    if (!ok) return -1;
    if (!isfinite(score)) {
        set_err(o, "synflow: overflow in double precision");
        score = NAN;
    }
    set_out(o, "synflow", score);
    return 0;
}

/* ---- cost baselines ------------------------------------------------------------------ */

static int p_params(proxy_ctx_t *c, proxy_out_t *o)
{
    set_out(o, "params", (double)net_param_count(c->net));
    return 0;
}

static int p_flops(proxy_ctx_t *c, proxy_out_t *o)
{
    set_out(o, "flops", net_flops(c->net));
    return 0;
}

/* ---- one-shot baseline ------------------------------------------------------------- */

/* Inherited weights, BN running statistics recomputed for this subnet as the cumulative
 * average over n_bn batches (momentum 1/t), then loss and accuracy on n_eval batches in
 * evaluation mode; with a binary cross-entropy loss (click data: one logit, imbalanced
 * labels, so accuracy says little) also the ROC AUC of the logits over those batches.
 * No parameter changes. */
static int p_oneshot(proxy_ctx_t *c, proxy_out_t *o)
{
    proxy_restore(c);
    net_t *net = c->net;
    params_t *P = c->P;
    int B = net->batch;
    size_t sz = img_size(c);
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (nd->op != OP_BN) continue;
        if (nd->st[0] >= 0) memset(P->s + P->sv[nd->st[0]].off, 0, P->sv[nd->st[0]].n * sizeof(float));
        if (nd->st[1] >= 0)
            for (size_t j = 0; j < P->sv[nd->st[1]].n; j++) P->s[P->sv[nd->st[1]].off + j] = 1;
    }
    float mom = net->bn_momentum;
    net->bn_mode = BN_TRAIN;
    for (int t = 0; t < c->n_bn; t++) {
        net->bn_momentum = 1.0f / (float)(t + 1);
        net_forward(net, c->x_bn + (size_t)t * B * sz, c->y_bn + (size_t)t * B);
    }
    net->bn_momentum = mom;
    net->bn_mode = BN_EVAL;
    double loss = 0;
    long right = 0;
    const node_t *lg = &net->nodes[net->logits];
    int K = lg->C * lg->H * lg->W;
    int binary = net->nodes[net->loss].op == OP_BCE && K == 1;
    float *z_all = NULL; /* every evaluation logit, for the AUC */
    if (binary && c->n_eval > 0 && !(z_all = malloc((size_t)c->n_eval * B * sizeof(float))))
        return -1;
    for (int t = 0; t < c->n_eval; t++) {
        const int *y = c->y_eval + (size_t)t * B;
        loss += net_forward(net, c->x_eval + (size_t)t * B * sz, y);
        for (int b = 0; b < B; b++) {
            const float *z = lg->y + (size_t)b * K;
            if (z_all) z_all[(size_t)t * B + b] = z[0];
            int best = 0;
            if (K == 1) /* one logit (binary cross-entropy): class 1 when it is positive */
                best = z[0] > 0;
            for (int q = 1; q < K; q++)
                if (z[q] > z[best]) best = q;
            right += best == y[b];
        }
    }
    net->bn_mode = BN_BATCH;
    c->have_batch0 = 0;
    double acc = c->n_eval > 0 ? (double)right / ((double)c->n_eval * B) : NAN;
    loss = c->n_eval > 0 ? loss / c->n_eval : NAN;
    if (!isfinite(loss)) set_err(o, "oneshot: evaluation loss not finite");
    set_out(o, "oneshot_acc", isfinite(loss) ? acc : NAN);
    set_out(o, "oneshot_loss", loss);
    if (binary) {
        /* y_eval holds the n_eval batches back to back, as the logits were stored */
        double auc = z_all && isfinite(loss) ? criteo_auc(z_all, c->y_eval, (long)c->n_eval * B) : NAN;
        if (isfinite(loss) && !isfinite(auc))
            set_err(o, "oneshot: AUC undefined (one class only in the evaluation batches)");
        set_out(o, "oneshot_auc", auc);
    }
    free(z_all);
    return 0;
}

/* ---- the table ------------------------------------------------------------------------ */

const proxy_t proxy_table[] = {
    {"sigeo", 1, "l1*S1 + l2*S2 - l3*L + l4*J (J: jacov at the inherited weights); higher is better", p_sigeo, 1},
    {"zico", 1, "sum_m log(sum_i mean|g|/std(g)) over K batches, no steps; higher is better", p_zico, 1},
    {"grad_norm", 1, "sum over conv/linear weights of ||dL/dW||_2; higher is better", p_grad_norm, 1},
    {"snip", 1, "sum |W * dL/dW| over conv/linear weights; higher is better", p_snip, 1},
    {"fisher", 1, "sum over conv/linear/EFC layer outputs of 0.5 mean_b (sum_hw a dL/da)^2; higher is better", p_fisher, 1},
    {"naswot", 1, "log|det K|, K = ReLU binary-code agreement kernel; higher is better", p_naswot, 0},
    {"grasp", 1, "-sum W * (H g) over conv/linear weights; higher is better", p_grasp, 0},
    {"jacov", 1, "-sum log(l+1e-5) + 1/(l+1e-5) over eigenvalues of the input-Jacobian correlation; higher is better", p_jacov, 1},
    {"synflow", 1, "sum |W| dR/d|W|, R = sum of logits, all-ones input, BN off, double; higher is better", p_synflow, 1},
    {"params", 1, "trainable parameters the subnet uses; higher is better", p_params, 0},
    {"flops", 1, "multiply-accumulates of one forward pass of one example; higher is better", p_flops, 0},
    {"oneshot", 1, "oneshot_acc, oneshot_auc (one-logit click nets; higher is better) and oneshot_loss (lower is better) with inherited weights", p_oneshot, 1},
    {NULL, 0, NULL, NULL, 0},
};

const proxy_t *proxy_find(const char *name)
{
    for (const proxy_t *p = proxy_table; p->name; p++)
        if (strcmp(p->name, name) == 0) return p;
    return NULL;
}
