/* net.c — parameters in one flat buffer with named views, the layer graph (allocation,
 * forward, backward, counts through the op table net_ops). See include/net.h;
 * the ops themselves are defined by their families (ops_cnn.c, layers_rec.c). */
#include "engine/net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NET_ALIGN 16 /* floats: every tensor starts on a 64-byte boundary */

/* ---- parameters ------------------------------------------------------------------------ */

void params_init(params_t *P) { memset(P, 0, sizeof *P); }

void params_free(params_t *P) {
    free(P->v);
    free(P->sv);
    free(P->w);
    free(P->g);
    free(P->m);
    free(P->s);
    free(P->hash);
    params_init(P);
}

static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Slot of name in the hash table: holds 0 (free) or an encoded view. */
static int *hash_slot(const params_t *P, const char *name) {
    uint32_t mask = (uint32_t)P->n_hash - 1, i = name_hash(name) & mask;
    for (;; i = (i + 1) & mask) {
        int e = P->hash[i];
        if (e == 0) return &P->hash[i];
        const pview_t *v = e > 0 ? &P->v[e - 1] : &P->sv[-e - 1];
        if (strcmp(v->name, name) == 0) return &P->hash[i];
    }
}

static int hash_grow(params_t *P) {
    int n = P->n_hash ? P->n_hash * 2 : 256;
    int *old = P->hash, n_old = P->n_hash;
    P->hash = calloc((size_t)n, sizeof(int));
    if (!P->hash) {
        P->hash = old;
        return -1;
    }
    P->n_hash = n;
    for (int i = 0; i < n_old; i++)
        if (old[i]) {
            const pview_t *v = old[i] > 0 ? &P->v[old[i] - 1] : &P->sv[-old[i] - 1];
            *hash_slot(P, v->name) = old[i];
        }
    free(old);
    return 0;
}

static int is_state(int kind) { return kind == PK_STATE_MEAN || kind == PK_STATE_VAR; }

int params_declare(params_t *P, const char *name, int kind, int n_dim, const int *shape) {
    if (strlen(name) >= sizeof P->v[0].name || n_dim < 1 || n_dim > 4) return -1;
    size_t n = 1;
    for (int d = 0; d < n_dim; d++) {
        if (shape[d] < 1) return -1;
        n *= (size_t)shape[d];
    }
    if ((P->n + P->n_state + 1) * 2 > P->n_hash && hash_grow(P) < 0) return -1;
    int *slot = hash_slot(P, name);
    if (*slot) {
        int st = *slot < 0, i = st ? -*slot - 1 : *slot - 1;
        const pview_t *v = st ? &P->sv[i] : &P->v[i];
        if (v->kind != kind || v->n_dim != n_dim) return -1;
        for (int d = 0; d < n_dim; d++)
            if (v->shape[d] != shape[d]) return -1;
        return i;
    }
    if (P->frozen) return -1;
    int st = is_state(kind);
    pview_t **arr = st ? &P->sv : &P->v;
    int *cnt = st ? &P->n_state : &P->n, *cap = st ? &P->cap_state : &P->cap;
    if (*cnt == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        pview_t *nv = realloc(*arr, sizeof(pview_t) * nc);
        if (!nv) return -1;
        *arr = nv;
        *cap = nc;
    }
    pview_t *v = &(*arr)[*cnt];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->kind = kind;
    v->n_dim = n_dim;
    for (int d = 0; d < n_dim; d++) v->shape[d] = shape[d];
    v->n = n;
    size_t *tot = st ? &P->n_state_floats : &P->n_floats;
    v->off = *tot;
    *tot += n;
    int id = (*cnt)++;
    *slot = st ? -(id + 1) : id + 1;
    return id;
}

int params_find(const params_t *P, const char *name, int state) {
    if (!P->n_hash) return -1;
    int e = *hash_slot(P, name);
    if (e == 0 || (e < 0) != (state != 0)) return -1;
    return e > 0 ? e - 1 : -e - 1;
}

/* 64-byte aligned, not zeroed. */
static float *falloc_raw(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, sizeof(float) * (n ? n : 1))) return NULL;
    return p;
}

static float *falloc(size_t n) {
    float *p = falloc_raw(n);
    if (p) memset(p, 0, sizeof(float) * (n ? n : 1));
    return p;
}

/* Make *buf hold at least n floats (contents undefined), keeping a large-enough one. */
static int reserve(float **buf, size_t *cap, size_t n) {
    if (*buf && *cap >= n) return 0;
    free(*buf);
    *cap = 0;
    if (!(*buf = falloc_raw(n))) return -1;
    *cap = n;
    return 0;
}

int params_alloc(params_t *P) {
    if (P->frozen) return 0;
    P->w = falloc(P->n_floats);
    P->g = falloc(P->n_floats);
    P->m = falloc(P->n_floats);
    P->s = falloc(P->n_state_floats);
    if (!P->w || !P->g || !P->m || !P->s) return -1;
    P->frozen = 1;
    return 0;
}

void params_init_default(params_t *P, rng_t *r) {
    for (int i = 0; i < P->n; i++) {
        const pview_t *v = &P->v[i];
        float *w = P->w + v->off;
        switch (v->kind) {
        case PK_CONV:
        case PK_LINEAR_W: {
            /* Kaiming normal, fan_in = everything but the output dimension, ReLU gain */
            double sd = sqrt(2.0 / (double)(v->n / (size_t)v->shape[0]));
            for (size_t j = 0; j < v->n; j++) w[j] = (float)(sd * rng_normal(r));
            break;
        }
        case PK_EMB:
            for (size_t j = 0; j < v->n; j++) w[j] = (float)(0.01 * rng_normal(r));
            break;
        case PK_BN_GAMMA:
            for (size_t j = 0; j < v->n; j++) w[j] = 1.0f;
            break;
        default:
            memset(w, 0, sizeof(float) * v->n);
        }
    }
    for (int i = 0; i < P->n_state; i++) {
        const pview_t *v = &P->sv[i];
        for (size_t j = 0; j < v->n; j++) P->s[v->off + j] = v->kind == PK_STATE_VAR ? 1.0f : 0.0f;
    }
}

void params_zero_grad(params_t *P) {
    if (P->g) memset(P->g, 0, sizeof(float) * P->n_floats);
}

/* ---- graph construction ---------------------------------------------------------------- */

void net_init(net_t *net, params_t *P, int batch) {
    memset(net, 0, sizeof *net);
    net->P = P;
    net->batch = batch;
    net->input = net->logits = net->loss = -1;
    net->bn_mode = BN_TRAIN;
    net->bn_momentum = 0.1f;
    net->bn_eps = 1e-5f;
}

void net_free(net_t *net) {
    free(net->nodes);
    free(net->arena);
    free(net->ws);
    memset(net, 0, sizeof *net);
}

void net_mark_block(net_t *net, int id) {
    if (id >= 0 && net->n_block < NET_MAX_BLOCKS) net->block[net->n_block++] = id;
}

void net_reset(net_t *net) {
    net_t keep = *net;
    net_init(net, keep.P, keep.batch);
    net->nodes = keep.nodes;
    net->cap = keep.cap;
    net->arena = keep.arena;
    net->cap_arena = keep.cap_arena;
    net->ws = keep.ws;
    net->cap_ws = keep.cap_ws;
}

/* Append a node of shape (batch,C,H,W); NULL when finalized or out of memory. */
static node_t *new_node(net_t *net, int op, int C, int H, int W) {
    if (net->finalized || net->batch < 1 || C < 1 || H < 1 || W < 1) return NULL;
    if (net->n == net->cap) {
        int nc = net->cap ? net->cap * 2 : 64;
        node_t *nn = realloc(net->nodes, sizeof(node_t) * nc);
        if (!nn) return NULL;
        net->nodes = nn;
        net->cap = nc;
    }
    node_t *d = &net->nodes[net->n++];
    memset(d, 0, sizeof *d);
    d->op = op;
    d->B = net->batch;
    d->C = C;
    d->H = H;
    d->W = W;
    d->p[0] = d->p[1] = d->p[2] = -1;
    d->st[0] = d->st[1] = -1;
    return d;
}

node_t *net_node_new(net_t *net, int op, int C, int H, int W) {
    if (op < 0 || op >= OP_N || !net_ops[op]) return NULL;
    return new_node(net, op, C, H, W);
}

int net_node_ok(const net_t *net, int x) {
    return x >= 0 && x < net->n && !(net_ops[net->nodes[x].op]->flags & OPF_LOSS);
}


/* ---- allocation ------------------------------------------------------------------------ */

size_t net_node_size(const node_t *d) {
    return net_ops[d->op]->flags & OPF_SCALAR ? 1 : (size_t)d->B * d->C * d->H * d->W;
}

static size_t round_up(size_t n) { return (n + NET_ALIGN - 1) / NET_ALIGN * NET_ALIGN; }

/* Offsets (floats from the start of the dy block) of every root's dy buffer; returns the
 * block size. Backward time runs from n down to 0: a root's buffer is first written at
 * step hi[r] (its last consumer) and last read at step lo[r] (its group's first node).
 * With net->share_dy, a buffer whose readers are done is handed to a root that becomes
 * live later (smallest free buffer that fits, after the step's own allocations), so the
 * backward pass writes into recently used, cached memory. */
static size_t plan_dy(const net_t *net, const int *root, const int *hi, const int *lo,
                      size_t *off) {
    int n = net->n, n_slot = 0;
    size_t tot = 0;
    /* slots: offset, size, owner root (-1 when free); at most one per root */
    size_t *s_off = malloc(sizeof(size_t) * n), *s_sz = malloc(sizeof(size_t) * n);
    int *s_own = malloc(sizeof(int) * n), *slot_of = malloc(sizeof(int) * n);
    if (!s_off || !s_sz || !s_own || !slot_of) {
        /* no sharing possible: one buffer per root */
        for (int i = 0; i < n; i++)
            if (root[i] == i) {
                off[i] = tot;
                tot += round_up(net_node_size(&net->nodes[i]));
            }
        free(s_off), free(s_sz), free(s_own), free(slot_of);
        return tot;
    }
    for (int t = n; t >= 0; t--) {
        for (int r = 0; r < n; r++) {
            if (root[r] != r || hi[r] != t) continue;
            size_t need = round_up(net_node_size(&net->nodes[r]));
            int best = -1;
            if (net->share_dy)
                for (int k = 0; k < n_slot; k++)
                    if (s_own[k] < 0 && s_sz[k] >= need && (best < 0 || s_sz[k] < s_sz[best]))
                        best = k;
            if (best < 0) {
                best = n_slot++;
                s_off[best] = tot;
                s_sz[best] = need;
                tot += need;
            }
            s_own[best] = r;
            slot_of[r] = best;
            off[r] = s_off[best];
        }
        if (net->share_dy && t < n)
            for (int r = 0; r < n; r++)
                if (root[r] == r && lo[r] == t) s_own[slot_of[r]] = -1;
    }
    free(s_off), free(s_sz), free(s_own), free(slot_of);
    return tot;
}

int net_finalize(net_t *net, rng_t *r) {
    if (net->finalized || net->n == 0 || net->input < 0) return -1;
    params_t *P = net->P;
    if (!P->frozen) {
        rng_t r0;
        if (!r) {
            rng_seed(&r0, 0);
            r = &r0;
        }
        if (params_alloc(P) < 0) return -1;
        params_init_default(P, r);
    }
    size_t n_y = 0, n_aux = 0, n_ws = 0;
    for (int i = 0; i < net->n; i++) {
        node_t *d = &net->nodes[i];
        const op_def_t *od = net_ops[d->op];
        n_y += round_up(net_node_size(d));
        if (od->aux) d->n_aux = od->aux(net, d);
        n_aux += round_up(d->n_aux);
        size_t want = od->workspace ? od->workspace(net, d) : 0;
        if (want > n_ws) n_ws = want;
    }
    /* An input whose only consumer is an add (OPF_PASS_DY) shares the add's dy (reverse
     * order, so chains of adds resolve to the last one): no storage, no copy in the backward. The
     * last add of a chain is the group's root, which owns the buffer. */
    int n = net->n;
    int *tmp = calloc((unsigned)n * 4, sizeof(int));
    size_t *off = calloc((unsigned)n, sizeof(size_t));
    if (!tmp || !off) {
        free(tmp);
        free(off);
        return -1;
    }
    int *cons = tmp, *root = tmp + n, *hi = tmp + 2 * n, *lo = tmp + 3 * n;
    for (int i = 0; i < n; i++) {
        hi[i] = n; /* backward step of the last consumer (n: none, seeded or zero) */
        for (int j = 0; j < net->nodes[i].n_in; j++) {
            int x = net->nodes[i].in[j];
            cons[x]++;
            hi[x] = i; /* consumers come later, so the last one seen is the largest */
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        const node_t *d = &net->nodes[i];
        if (root[i] == 0) root[i] = i + 1; /* stored +1 so 0 means "not set" */
        if (net_ops[d->op]->flags & OPF_PASS_DY)
            for (int j = 0; j < d->n_in; j++)
                if (cons[d->in[j]] == 1) root[d->in[j]] = root[i];
    }
    for (int i = 0; i < n; i++) root[i]--;
    for (int i = n - 1; i >= 0; i--) lo[root[i]] = i; /* the group's first node reads last */
    size_t n_dy = plan_dy(net, root, hi, lo, off);
    /* not zeroed: forward overwrites every y and aux before reading it, backward zeroes
     * dy; only constant (OPF_CONST) outputs, never written, are cleared below. Zeroing ~85 MB here
     * per build cost a warm-up step ~10 ms. */
    net->n_arena = n_y + n_dy + n_aux;
    net->n_ws = n_ws;
    if (reserve(&net->arena, &net->cap_arena, net->n_arena) < 0 ||
        reserve(&net->ws, &net->cap_ws, n_ws) < 0) {
        free(tmp);
        free(off);
        return -1;
    }
    /* layout: every y, then the dy buffers (one memset zeroes them), then every aux */
    float *y = net->arena, *aux = net->arena + n_y + n_dy;
    net->dy0 = net->arena + n_y;
    net->n_dy = n_dy;
    for (int i = 0; i < n; i++) {
        node_t *d = &net->nodes[i];
        size_t sz = round_up(net_node_size(d));
        int r = root[i];
        d->y = y;
        d->aux = d->n_aux ? aux : NULL;
        if (net_ops[d->op]->flags & OPF_CONST) memset(d->y, 0, sizeof(float) * sz);
        if (d->n_aux) memset(d->aux, 0, sizeof(float) * d->n_aux);
        y += sz;
        aux += round_up(d->n_aux);
        d->dy = net->dy0 + off[r];
        d->n_cons = cons[i];
        d->dy_live = hi[r];
        /* written whole by its one consumer (OPF_SETS_DX: a BN, batchnorm_backward_set) */
        d->dy_set = cons[r] == 1 && hi[r] < n && net_ops[net->nodes[hi[r]].op]->flags & OPF_SETS_DX;
    }
    free(tmp);
    free(off);
    net->finalized = 1;
    return 0;
}

/* ---- forward and backward -------------------------------------------------------------- */

float *net_in_dy(const net_t *net, const node_t *X) {
    int input = X == &net->nodes[net->input];
    return net_ops[X->op]->flags & OPF_CONST || (input && net->no_input_dy) ? NULL : X->dy;
}

#ifdef NET_PROFILE
/* Per-op CPU seconds, forward [0] and backward [1] (index 63: zeroing dy): build with
 * -DNET_PROFILE (PROFILE=1 bench/engine.sh). */
double net_prof[64][2];
static double prof_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
#define PROF_BEGIN double prof_t0 = prof_now()
#define PROF_END(op, dir) net_prof[(op) & 63][dir] += prof_now() - prof_t0
#else
#define PROF_BEGIN
#define PROF_END(op, dir)
#endif

float net_forward(net_t *net, const float *x, const int *labels) {
    if (!net->finalized) return NAN;
    net->x = x;
    net->labels = labels;
    float loss = 0.0f;
    for (int i = 0; i < net->n; i++) {
        node_t *d = &net->nodes[i];
        const op_def_t *od = net_ops[d->op];
        PROF_BEGIN;
        if (od->forward && od->forward(net, d)) loss = d->y[0];
        PROF_END(d->op, 0);
    }
    return isfinite(loss) ? loss : NAN;
}

void net_zero_dy(net_t *net) {
    if (!net->finalized) return;
    zero_floats(net->dy0, net->n_dy);
    for (int i = 0; i < net->n; i++) net->nodes[i].reached = 0;
}

void net_backward_from(net_t *net, int from) {
    if (!net->finalized || from < 0 || from >= net->n) return;
    net->nodes[from].reached = 1;
    for (int i = from; i >= 0; i--) {
        node_t *d = &net->nodes[i];
        if (net->share_dy) /* an input's buffer becomes live here: clear it (reached or not) */
            for (int j = 0; j < d->n_in; j++) {
                node_t *I = &net->nodes[d->in[j]];
                if (I->dy_live == i && !I->dy_set) zero_floats(I->dy, net_node_size(I));
            }
        if (!d->reached) continue; /* nothing flows back through it */
        for (int j = 0; j < d->n_in; j++) net->nodes[d->in[j]].reached = 1;
        const op_def_t *od = net_ops[d->op];
        PROF_BEGIN;
        if (od->backward) od->backward(net, d);
        PROF_END(d->op, 1);
    }
}

void net_backward(net_t *net) {
    if (!net->finalized || net->loss < 0) return;
    PROF_BEGIN;
    if (net->share_dy) {
        /* only buffers live before the walk starts; the walk clears the others */
        for (int i = 0; i < net->n; i++) {
            node_t *d = &net->nodes[i];
            d->reached = 0;
            if (d->dy_live > net->loss) zero_floats(d->dy, net_node_size(d));
        }
    } else {
        net_zero_dy(net);
    }
    PROF_END(63, 1);
    net->nodes[net->loss].dy[0] = 1.0f;
    net_backward_from(net, net->loss);
}

/* ---- counts ---------------------------------------------------------------------------- */

void net_mark_params(const net_t *net, unsigned char *used) {
    for (int i = 0; i < net->n; i++)
        for (int j = 0; j < 3; j++)
            if (net->nodes[i].p[j] >= 0) used[net->nodes[i].p[j]] = 1;
}

void net_used_params(const net_t *net, unsigned char *used) {
    memset(used, 0, (size_t)net->P->n);
    net_mark_params(net, used);
}

size_t net_param_count(const net_t *net) {
    size_t tot = 0;
    unsigned char *used = calloc((size_t)net->P->n + 1, 1);
    if (!used) return 0;
    net_used_params(net, used);
    for (int i = 0; i < net->n; i++) /* sliced views count only the block they use */
        if (net_ops[net->nodes[i].op]->params) {
            tot += net_ops[net->nodes[i].op]->params(net, &net->nodes[i]);
            for (int j = 0; j < 3; j++)
                if (net->nodes[i].p[j] >= 0) used[net->nodes[i].p[j]] = 0;
        }
    for (int i = 0; i < net->P->n; i++)
        if (used[i]) tot += net->P->v[i].n;
    free(used);
    return tot;
}

double net_flops(const net_t *net) {
    double macs = 0.0;
    for (int i = 0; i < net->n; i++) {
        const node_t *d = &net->nodes[i];
        if (net_ops[d->op]->flops) macs += net_ops[d->op]->flops(net, d);
    }
    return macs;
}
