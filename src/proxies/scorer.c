/* scorer.c — scoring candidates over a supernet checkpoint (see scorer.h). */
#include "proxies/scorer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "data/feed.h"
#include "engine/layers.h"
#include "engine/net.h"
#include "engine/optim.h"
#include "spaces/space.h"

int scorer_select(const char *list, unsigned char *on, char *err, size_t n_err) {
    int n = proxy_count();
    /* 2: on by default, not asked for (a default proxy a space lacks, such as meco for
     * click nets, is then left out quietly) */
    for (int i = 0; i < n; i++) on[i] = !list && proxy_table[i]->flags & PROXY_DEFAULT ? 2 : 0;
    if (!list) return 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    int any = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "all") == 0) {
            for (int i = 0; i < n; i++) on[i] |= !(proxy_table[i]->flags & PROXY_TIMED);
            any = 1;
            continue;
        }
        int i = proxy_index(t);
        if (i < 0) {
            snprintf(err, n_err, "unknown proxy '%s' (see --help)", t);
            return -1;
        }
        on[i] = 1;
        any = 1;
    }
    if (!any) snprintf(err, n_err, "--proxies: empty list");
    return any ? 0 : -1;
}

/* The scoring, BN and evaluation batches: distinct examples of the training split drawn
 * by seed, normalized as warmup-supernet and train-arch normalize (data/feed.h). Only
 * these examples are kept. */
typedef struct {
    int n, c, h, w, classes, dense;
    float *x;
    int *y;
} batches_t;

static int load_batches(const scorer_opts_t *o, const ckpt_t *ck, const char *path, batches_t *bt) {
    long need = (o->batches + o->bn_batches + o->eval_batches) * o->batch;
    memset(bt, 0, sizeof *bt);
    feed_opts_t fo;
    feed_opts_default(&fo, ck->space->data_kind);
    char store[1024], err[1024];
    feed_t f = {0};
    /* the checkpoint's data options, then the ones given here */
    int rc = feed_options_parse(&fo.data, ck->data_options, store, sizeof store, err, sizeof err);
    for (int i = 0; i < o->n_dopt && rc == 0; i++)
        rc = feed_option(&fo.data, o->dopt_ch[i], o->dopt_arg[i], err, sizeof err);
    if (rc) return util_err("%s", err), EXIT_BAD_INPUT;
    fo.data.path = path;
    fo.data.rows = ck->cfg.extra[SPACE_CFG_ROWS];
    fo.data.in_c = ck->cfg.in_ch, fo.data.in_h = ck->cfg.H, fo.data.in_w = ck->cfg.W;
    /* normalize as the warm-up did */
    fo.n_norm = ck->n_norm, fo.mean = ck->norm_mean, fo.std = ck->norm_std;
    fo.data.keep_going = o->keep_going;
    if ((rc = feed_open_cli(&f, &fo))) return rc;
    int n = f.n[FEED_TRAIN];
    size_t img = (size_t)f.c * f.h * f.w;
    int *perm = malloc((size_t)n * sizeof(int));
    bt->x = malloc((size_t)(need > 0 ? need : 1) * img * sizeof(float));
    bt->y = malloc((size_t)(need > 0 ? need : 1) * sizeof(int));
    rc = EXIT_OK;
    if (need > n) {
        util_err("%s: %d training examples, fewer than the %ld the batches need", path, n, need);
        rc = EXIT_BAD_INPUT;
    } else if (!perm || !bt->x || !bt->y) {
        util_err("out of memory for the batches");
        rc = EXIT_IO;
    } else {
        rng_t r;
        rng_seed(&r, (uint64_t)o->seed ^ SEED_SALT_BATCHES);
        for (int i = 0; i < n; i++) perm[i] = i;
        rng_pick(&r, perm, n, need);
        feed_batch(&f, FEED_TRAIN, perm, (int)need, bt->x, bt->y);
        bt->n = (int)need, bt->c = f.c, bt->h = f.h, bt->w = f.w, bt->classes = f.classes;
        bt->dense = f.dense;
    }
    if (rc) free(bt->x), free(bt->y), bt->x = NULL, bt->y = NULL;
    free(perm);
    feed_close(&f);
    return rc;
}

/* Outputs of the live_only proxies for candidates with the same live key (space.h), one
 * slot per key: a space of at most MEMO_MAX_SLOTS architectures (NB201: 15,625) never
 * evicts, so equal cells far apart in the stream are found; a larger one shares slots by
 * key modulo the table size. Only the selected live_only proxies are stored (about 100
 * bytes each per slot, allocated lazily by calloc), so memory stays fixed however long
 * the stream. */
#define MEMO_MAX_SLOTS (1 << 16)
typedef struct {
    int n;
    const char *key[PROXY_MAX_KEYS];
    double v[PROXY_MAX_KEYS];
    char *err; /* NULL when empty */
} memo_out_t;
typedef struct {
    int64_t n_slots; /* 0: no memo */
    int n_px;        /* stored proxies per slot */
    int px_of[PROXY_MAX]; /* proxy table index -> position in a slot, or -1 */
    int64_t *key1;   /* per slot: the key + 1 once all n_px outputs are stored, else 0 */
    memo_out_t *out; /* n_slots * n_px */
} memo_t;

static void memo_free(memo_t *m) {
    if (m->out)
        for (int64_t i = 0; i < m->n_slots * m->n_px; i++) free(m->out[i].err);
    free(m->key1), free(m->out);
}

/* 0, or -1 out of memory; m->n_slots stays 0 when there is nothing to memoize (or not
 * enabled). */
static int memo_init(memo_t *m, const space_t *sp, const unsigned char *on, int enable) {
    memset(m, 0, sizeof *m);
    for (int i = 0; proxy_table[i]; i++) {
        m->px_of[i] = -1;
        if (on[i] && proxy_table[i]->flags & PROXY_LIVE_ONLY) m->px_of[i] = m->n_px++;
    }
    if (!enable || !sp->live_key || !m->n_px) return 0;
    m->n_slots = sp->n_arch > 0 && sp->n_arch < MEMO_MAX_SLOTS ? sp->n_arch : MEMO_MAX_SLOTS;
    m->key1 = calloc((size_t)m->n_slots, sizeof *m->key1);
    m->out = calloc((size_t)m->n_slots * m->n_px, sizeof *m->out);
    if (!m->key1 || !m->out) {
        memo_free(m);
        return -1;
    }
    return 0;
}

/* What scores one stream: the supernets (one, or the sub-supernets of a few-shot split),
 * the working parameters, one net whose arena each record's graph reuses, the proxy
 * context, the selected proxies and a memo per supernet (equal live networks score alike
 * only over the same weights). */
struct scorer {
    ckpt_t *ck[SCORER_MAX_SUPERNETS];
    int n_ck;
    params_t W;
    net_t net;
    proxy_ctx_t ctx;
    batches_t bt;
    unsigned char on[PROXY_MAX];
    memo_t memo[SCORER_MAX_SUPERNETS];
    long n_memo;
};

/* The record's candidate, if it is in the supernet's space with the supernet's cfg.
 * 0, or -1 with err. */
static int read_candidate(const ckpt_t *ck, const msgpack_object *in, const space_t **sp,
                          arch_t *a, space_cfg_t *c, char *err, size_t n_err) {
    if (space_read_record(in, sp, a, c, err, n_err)) return -1;
    if (*sp != ck->space) {
        snprintf(err, n_err, "record is in space '%s', the supernet in '%s'", (*sp)->name,
                 ck->space->name);
        return -1;
    }
    if (!space_cfg_equal(c, &ck->cfg)) {
        snprintf(err, n_err,
                 "record cfg (C=%d N=%d input %dx%dx%d classes %d) differs from the supernet's "
                 "(C=%d N=%d input %dx%dx%d classes %d)",
                 c->C, c->N, c->in_ch, c->H, c->W, c->classes, ck->cfg.C, ck->cfg.N,
                 ck->cfg.in_ch, ck->cfg.H, ck->cfg.W, ck->cfg.classes);
        return -1;
    }
    return 0;
}

/* Proxy i's outputs into out: from the memo slot on a hit, else by running it (and storing
 * them in the slot when it has one). 0, or -2 out of memory. */
static int run_proxy(scorer_t *s, memo_t *memo, int i, int64_t slot, int hit, proxy_out_t *out) {
    memset(out, 0, sizeof *out);
    int k = slot >= 0 ? memo->px_of[i] : -1;
    memo_out_t *mo = k >= 0 ? &memo->out[slot * memo->n_px + k] : NULL;
    if (mo && hit) {
        out->n = mo->n;
        memcpy(out->key, mo->key, sizeof out->key);
        memcpy(out->v, mo->v, sizeof out->v);
        if (mo->err) snprintf(out->err, sizeof out->err, "%s", mo->err);
        return 0;
    }
    if (proxy_table[i]->fn(&s->ctx, out) < 0) return -2;
    if (!mo) return 0;
    free(mo->err);
    mo->err = out->err[0] ? strdup(out->err) : NULL;
    if (out->err[0] && !mo->err) return -2;
    mo->n = out->n;
    memcpy(mo->key, out->key, sizeof mo->key);
    memcpy(mo->v, out->v, sizeof mo->v);
    return 0;
}

/* A record's scores, collected while the proxies run and added when they are done. */
typedef struct {
    int n;
    const char *key[PROXY_MAX_SCORES];
    double v[PROXY_MAX_SCORES];
    char why[512];
} scores_t;

static void scores_add(scores_t *sc, const proxy_out_t *out) {
    for (int k = 0; k < out->n && sc->n < PROXY_MAX_SCORES; k++) {
        sc->key[sc->n] = out->key[k];
        sc->v[sc->n++] = isfinite(out->v[k]) ? out->v[k] : NAN;
    }
    if (out->err[0]) {
        size_t l = strlen(sc->why);
        snprintf(sc->why + l, sizeof sc->why - l, "%s%s", l ? "; " : "", out->err);
    }
}

/* scores.<key> for each score and "error" when a proxy gave a reason. 0 or -2. */
static int scores_write(const scores_t *sc, rec_t *e) {
    for (int k = 0; k < sc->n; k++) {
        char key[64];
        snprintf(key, sizeof key, "scores.%s", sc->key[k]);
        if (rec_set_f64(e, key, sc->v[k])) return -2;
    }
    return sc->why[0] && rec_set_str(e, "error", sc->why) ? -2 : 0;
}

/* The supernet that scores candidate a: the only one, or the sub-supernet split on a's
 * choice at the split gene. Its index, or -1 with err naming the choice and the splits. */
static int pick_supernet(const scorer_t *s, const arch_t *a, char *err, size_t n_err) {
    for (int j = 0; j < s->n_ck; j++)
        if (ckpt_fits(s->ck[j], a)) return j;
    const ckpt_t *k0 = s->ck[0];
    const space_t *S = k0->space;
    char b[16], have[512] = "";
    size_t l = 0;
    for (int j = 0; j < s->n_ck && l < sizeof have; j++)
        l += (size_t)snprintf(have + l, sizeof have - l, "%s%s", j ? ", " : "",
                              space_choice_name(S, s->ck[j]->fix_choice, b, sizeof b));
    snprintf(err, n_err, "the arch takes %s on edge %d; no --supernet is split on it (given: %s)",
             space_choice_name(S, a->g[k0->fix_gene], b, sizeof b), k0->fix_gene, have);
    return -1;
}

/* Build the record's network over W in s->net (reset first: its arena is reused from one
 * record to the next) unless the memo holds every selected proxy's outputs, run the
 * selected proxies and add their keys. 0, -1 with err for bad input, -2 out of memory. */
int scorer_score(scorer_t *s, const msgpack_object *in, rec_t *e, char *err, size_t n_err) {
    const space_t *sp;
    arch_t a;
    space_cfg_t c;
    if (read_candidate(s->ck[0], in, &sp, &a, &c, err, n_err)) return -1;
    int j = pick_supernet(s, &a, err, n_err);
    if (j < 0) return -1;
    memo_t *memo = &s->memo[j];
    s->ctx.src = &s->ck[j]->P; /* every proxy restores the views it uses from it */
    net_t *net = &s->net;
    /* a slot whose key differs (empty, or another key's in a large space) is overwritten */
    int64_t key = memo->n_slots ? sp->live_key(&a) : -1, slot = key >= 0 ? key % memo->n_slots : -1;
    int hit = slot >= 0 && memo->key1[slot] == key + 1, need_net = 0;
    for (int i = 0; proxy_table[i]; i++)
        if (s->on[i] && !(hit && memo->px_of[i] >= 0)) need_net = 1;
    if (hit) ++s->n_memo;
    net_reset(net);
    /* from the selected proxies' flags: without a reader of nodes' dy the dy buffers are
     * shared between nodes (net.h share_dy: smaller, cache-warm arena); the input's
     * gradient only in the readers' own passes */
    proxy_plan_t plan;
    proxy_plan(s->on, &plan);
    net->share_dy = plan.share_dy;
    net->no_input_dy = plan.no_input_dy;
    unsigned char *used = calloc((size_t)s->W.n + 1, 1);
    int rc = 0;
    if (!used) {
        rc = -2;
    } else if (!need_net) {
        /* every selected proxy's outputs are in the memo */
    } else if (sp->build(net, &c, &a) < 0) {
        snprintf(err, n_err, "cannot build the %s network for this arch", sp->name);
        rc = -1;
    } else if (net_finalize(net, NULL) < 0) {
        rc = -2;
    }
    if (rc) {
        free(used);
        return rc;
    }
    if (need_net) net_used_params(net, used);
    s->ctx.net = net;
    s->ctx.used = used;
    s->ctx.space = sp, s->ctx.cfg = &c, s->ctx.arch = &a;
    proxy_ctx_reset(&s->ctx);
    scores_t sc = {0};
    for (int i = 0; proxy_table[i] && rc == 0; i++) {
        if (!s->on[i]) continue;
        proxy_out_t out;
        if ((rc = run_proxy(s, memo, i, slot, hit, &out))) break;
        static unsigned char warned[PROXY_MAX];
        if (out.n == 0 && !warned[i] && s->on[i] == 1) {
            util_msg("%s is not defined for space '%s'; not scored", proxy_table[i]->name, sp->name);
            warned[i] = 1;
        }
        scores_add(&sc, &out);
    }
    if (slot >= 0 && !hit && rc == 0) memo->key1[slot] = key + 1; /* every output stored */
    s->ctx.net = NULL;
    s->ctx.used = NULL;
    s->ctx.space = NULL, s->ctx.cfg = NULL, s->ctx.arch = NULL;
    free(used);
    return rc ? rc : scores_write(&sc, e);
}

/* W gets the supernet's views (same names, kinds, shapes, order), allocated. */
static int working_params(const params_t *S, params_t *W) {
    params_init(W);
    for (int i = 0; i < S->n; i++)
        if (params_declare(W, S->v[i].name, S->v[i].kind, S->v[i].n_dim, S->v[i].shape) != i)
            return -1;
    for (int i = 0; i < S->n_state; i++)
        if (params_declare(W, S->sv[i].name, S->sv[i].kind, S->sv[i].n_dim, S->sv[i].shape) != i)
            return -1;
    if (params_alloc(W) < 0) return -1;
    memcpy(W->w, S->w, S->n_floats * sizeof(float));
    memcpy(W->s, S->s, S->n_state_floats * sizeof(float));
    return 0;
}

/* SiGeo's weights: the checkpoint's (or the paper's), where not given. */
static void resolve_lambda(scorer_opts_t *o, ckpt_t *ck, const unsigned char *on) {
    if (o->paper) { /* the paper's defaults, keyed on whether the supernet saw data */
        int warm = ck->steps > 0;
        ck->lambda[0] = 1, ck->lambda[1] = warm ? 50 : 1, ck->lambda[2] = warm ? 1 : 0;
        ck->lambda[3] = 0;
    }
    for (int i = 0; i < 4; i++)
        if (!o->have_lambda[i]) o->lambda[i] = ck->lambda[i];
    /* The checkpoint's lambda were chosen at one warm-up share; far from it they rank
     * worse (docs/quality.md). Older checkpoints: the space's share. */
    double lf = ck->lambda_fraction >= 0 ? ck->lambda_fraction : ck->space->lambda_fraction;
    int own = !o->paper && !(o->have_lambda[0] && o->have_lambda[1] && o->have_lambda[2] && o->have_lambda[3]) &&
              proxy_index("sigeo") >= 0 && on[proxy_index("sigeo")];
    if (own && ck->steps > 0 && lf > 0 && (ck->fraction > 2 * lf || ck->fraction < lf / 2))
        util_msg("warning: %s was warmed up on %g%% of the data, its sigeo weights were chosen "
                 "at %g%%; they rank worse there (docs/quality.md): warm up with --fraction %g "
                 "or give --l1..--l4", o->supernet[0], 100 * ck->fraction, 100 * lf, lf);
    /* ... and after uniform sampling at a constant rate */
    if (own && ck->steps > 0 && lf > 0 &&
        (ck->sampling != WARMUP_UNIFORM || ck->schedule != OPTIM_CONSTANT))
        util_msg("warning: %s was warmed up with %s sampling and a %s learning rate, its sigeo "
                 "weights were chosen after uniform sampling at a constant rate; they rank worse "
                 "(docs/quality.md): warm up with the defaults or give --l1..--l4", o->supernet[0],
                 ckpt_sampling_name(ck->sampling), optim_kind_name(ck->schedule));
}

/* 0 if the n_ck checkpoints are one supernet or sub-supernets of one split; else -1 after
 * saying which two differ and how. */
static int check_siblings(const scorer_opts_t *o, ckpt_t *const *ck, int n_ck) {
    char err[2048];
    for (int i = 1; i < n_ck; i++)
        for (int j = 0; j < i; j++)
            if (ckpt_siblings(ck[j], o->supernet[j], ck[i], o->supernet[i], err, sizeof err))
                return util_err("--supernet: %s", err), -1;
    return 0;
}

scorer_t *scorer_open(const scorer_opts_t *oin, ckpt_t *const *cks, int n_ck, const unsigned char *on,
                      int *status) {
    scorer_opts_t o = *oin;
    char err[1024];
    if (n_ck < 1 || n_ck > SCORER_MAX_SUPERNETS || check_siblings(&o, cks, n_ck)) {
        *status = EXIT_USAGE;
        return NULL;
    }
    ckpt_t *ck = cks[0]; /* space, cfg, data and options are those of all */
    scorer_t *s = calloc(1, sizeof *s);
    if (!s) {
        util_err("out of memory");
        *status = EXIT_IO;
        return NULL;
    }
    memcpy(s->on, on, sizeof s->on);
    resolve_lambda(&o, ck, on);
    const char *dir = o.data_path ? o.data_path : ck->data_dir[0] ? ck->data_dir : feed_default_path(ck->space->data_kind);
    batches_t *bt = &s->bt;
    if ((*status = load_batches(&o, ck, dir, bt))) {
        free(s);
        return NULL;
    }
    memcpy(s->ck, cks, sizeof(ckpt_t *) * (size_t)n_ck);
    s->n_ck = n_ck;
    if (bt->c != ck->cfg.in_ch || bt->h != ck->cfg.H || bt->w != ck->cfg.W ||
        bt->classes > ck->cfg.classes || bt->dense != ck->cfg.extra[SPACE_CFG_DENSE]) {
        util_err("%s: data is %dx%dx%d (%d dense) with %d classes, the supernet %s wants "
                 "%dx%dx%d (%d dense) and %d", dir, bt->c, bt->h, bt->w, bt->dense, bt->classes,
                 o.supernet[0], ck->cfg.in_ch, ck->cfg.H, ck->cfg.W, ck->cfg.extra[SPACE_CFG_DENSE],
                 ck->cfg.classes);
        *status = EXIT_BAD_INPUT;
        scorer_free(s);
        return NULL;
    }
    if (working_params(&ck->P, &s->W)) {
        util_err("out of memory for the working parameters");
        *status = EXIT_IO;
        scorer_free(s);
        return NULL;
    }
    size_t img = (size_t)bt->c * bt->h * bt->w;
    long B = o.batch, nk = o.batches * B, nb = o.bn_batches * B;
    s->ctx = (proxy_ctx_t){
        .P = &s->W, .src = &ck->P, .c = bt->c, .h = bt->h, .w = bt->w,
        .n_batches = (int)o.batches, .x = bt->x, .y = bt->y,
        .n_bn = (int)o.bn_batches, .n_eval = (int)o.eval_batches,
        .x_bn = bt->x + nk * img, .y_bn = bt->y + nk,
        .x_eval = bt->x + (nk + nb) * img, .y_eval = bt->y + nk + nb,
        .step_lr = (float)o.step_lr,
        .lat_batch = (int)o.lat_batch, .lat_repeats = (int)o.lat_repeats,
        .lambda = {o.lambda[0], o.lambda[1], o.lambda[2], o.lambda[3]},
    };
    /* The g0 cache at its largest size now, not in the middle of a candidate. */
    s->ctx.g0 = malloc((s->W.n_floats ? s->W.n_floats : 1) * sizeof(float));
    s->ctx.n_g0 = s->ctx.g0 ? s->W.n_floats : 0;
    *status = EXIT_IO;
    if (lay_blas_room(err, sizeof err)) {
        util_err("%s", err);
        scorer_free(s);
        return NULL;
    }
    for (int j = 0; j < n_ck; j++)
        if (memo_init(&s->memo[j], ck->space, s->on, !o.no_memo)) {
            util_err("out of memory");
            scorer_free(s);
            return NULL;
        }
    /* one net for the whole stream: each record rebuilds its graph in the same arena */
    net_init(&s->net, &s->W, (int)o.batch);
    *status = EXIT_OK;
    return s;
}

long scorer_memo_hits(const scorer_t *s) {
    return s->n_memo;
}

void scorer_free(scorer_t *s) {
    if (!s) return;
    net_free(&s->net);
    for (int j = 0; j < SCORER_MAX_SUPERNETS; j++) memo_free(&s->memo[j]);
    proxy_ctx_free(&s->ctx);
    params_free(&s->W);
    free(s->bt.x), free(s->bt.y);
    free(s);
}
