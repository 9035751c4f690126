/* ckpt.c — supernet checkpoint files (ckpt.h; layout in docs/warmup.md): the header keys
 * of a warm-up over the generic container (io/container.h). Keys come in a fixed order,
 * so the same supernet gives the same bytes. */
#include "model/ckpt.h"

#include "io/container.h"
#include "model/tensors.h"
#include "engine/optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_KIND "supernet"
#define CKPT_VERSION 1
/* Bytes besides the tensors: the keys, cfg, options, data path and options (at most 256 +
 * 1024), statistics (2 x 64 floats), the loss curve (4096 floats) and the hash: < 24 KB. */
#define CKPT_FIXED_BOUND ((size_t)32 << 10)
/* Header keys between version and tensors. */
#define CKPT_N_HEADER 8

int ckpt_sampling_parse(const char *name) {
    if (!strcmp(name, "uniform")) return WARMUP_UNIFORM;
    if (!strcmp(name, "fair")) return WARMUP_FAIR;
    if (!strcmp(name, "sandwich")) return WARMUP_SANDWICH;
    return -1;
}

const char *ckpt_sampling_name(int sampling) {
    return sampling == WARMUP_FAIR ? "fair" : sampling == WARMUP_SANDWICH ? "sandwich" : "uniform";
}

/* ---------------------------------------------------------------- writing */

static int pack_header(msgpack_packer *pk, const ckpt_t *c, const msgpack_object *cfg) {
    int rc = ctr_pack_cstr(pk, "space") | ctr_pack_cstr(pk, c->space->name);
    rc |= ctr_pack_cstr(pk, "cfg") | msgpack_pack_object(pk, *cfg);

    /* the split of a few-shot sub-supernet only when there is one: other files stay
     * byte-identical to those written before it existed */
    rc |= ctr_pack_cstr(pk, "train") | msgpack_pack_map(pk, c->fixed ? 12 : 10);
    rc |= ctr_pack_cstr(pk, "fraction") | msgpack_pack_double(pk, c->fraction);
    rc |= ctr_pack_cstr(pk, "epochs") | msgpack_pack_int(pk, c->epochs);
    rc |= ctr_pack_cstr(pk, "batch") | msgpack_pack_int(pk, c->batch);
    rc |= ctr_pack_cstr(pk, "lr") | msgpack_pack_double(pk, c->lr);
    rc |= ctr_pack_cstr(pk, "momentum") | msgpack_pack_double(pk, c->momentum);
    rc |= ctr_pack_cstr(pk, "weight_decay") | msgpack_pack_double(pk, c->weight_decay);
    rc |= ctr_pack_cstr(pk, "seed") | msgpack_pack_uint64(pk, c->seed);
    rc |= ctr_pack_cstr(pk, "threads") | msgpack_pack_int(pk, c->threads);
    rc |= ctr_pack_cstr(pk, "sampling") | ctr_pack_cstr(pk, ckpt_sampling_name(c->sampling));
    rc |= ctr_pack_cstr(pk, "schedule") | ctr_pack_cstr(pk, optim_kind_name(c->schedule));
    if (c->fixed) {
        rc |= ctr_pack_cstr(pk, "fix_gene") | msgpack_pack_int(pk, c->fix_gene);
        rc |= ctr_pack_cstr(pk, "fix_choice") | msgpack_pack_int(pk, c->fix_choice);
    }

    /* No data was read for an untrained supernet: nil rather than an empty string. */
    rc |= ctr_pack_cstr(pk, "data") | msgpack_pack_map(pk, 5);
    rc |= ctr_pack_cstr(pk, "dir");
    rc |= c->data_dir[0] ? ctr_pack_cstr(pk, c->data_dir) : msgpack_pack_nil(pk);
    rc |= ctr_pack_cstr(pk, "fingerprint");
    rc |= c->data_fingerprint[0] ? ctr_pack_cstr(pk, c->data_fingerprint) : msgpack_pack_nil(pk);
    rc |= ctr_pack_cstr(pk, "options");
    rc |= c->data_dir[0] ? ctr_pack_cstr(pk, c->data_options) : msgpack_pack_nil(pk);
    int n_norm = c->n_norm < 0 ? 0 : c->n_norm > 64 ? 64 : c->n_norm;
    rc |= ctr_pack_cstr(pk, "mean") | msgpack_pack_array(pk, (size_t)n_norm);
    for (int i = 0; i < n_norm; i++) rc |= msgpack_pack_float(pk, c->norm_mean[i]);
    rc |= ctr_pack_cstr(pk, "std") | msgpack_pack_array(pk, (size_t)n_norm);
    for (int i = 0; i < n_norm; i++) rc |= msgpack_pack_float(pk, c->norm_std[i]);

    rc |= ctr_pack_cstr(pk, "steps") | msgpack_pack_int64(pk, c->steps);
    int n_curve = c->n_curve < 0 ? 0 : c->n_curve > CKPT_MAX_CURVE ? CKPT_MAX_CURVE : c->n_curve;
    rc |= ctr_pack_cstr(pk, "loss_curve") | msgpack_pack_array(pk, (size_t)n_curve);
    for (int i = 0; i < n_curve; i++) rc |= msgpack_pack_float(pk, c->curve[i]);
    rc |= ctr_pack_cstr(pk, "lambda") | msgpack_pack_array(pk, 4);
    for (int i = 0; i < 4; i++) rc |= msgpack_pack_double(pk, c->lambda[i]);
    rc |= ctr_pack_cstr(pk, "lambda_fraction") | msgpack_pack_double(pk, c->lambda_fraction);
    return rc;
}

size_t ckpt_bytes_bound(const params_t *P) {
    return CKPT_FIXED_BOUND + tensors_bytes_bound(P);
}

int ckpt_size_check(const params_t *P, char *err, size_t n_err) {
    size_t b = ckpt_bytes_bound(P);
    if (b <= CKPT_MAX_BYTES) return 0;
    snprintf(err, n_err,
             "its checkpoint would take about %.0f MB, more than the 1 GiB (%zu bytes) a "
             "checkpoint may hold (every tool that loads checkpoints refuses larger files)",
             (double)b / 1e6, CKPT_MAX_BYTES);
    return -1;
}

int ckpt_save(const char *path, ckpt_t *c, char *err, size_t n_err) {
    if (!c->space || !c->P.frozen) {
        snprintf(err, n_err, "%s: nothing to write (no space or unallocated parameters)", path);
        return -1;
    }
    rec_t e;
    const msgpack_object *cfg = tensors_cfg(c->space, &c->cfg, &e, path, err, n_err);
    if (!cfg) {
        rec_edit_end(&e);
        return -1;
    }
    ctr_writer_t w;
    ctr_writer_init(&w, CKPT_KIND, CKPT_VERSION, CKPT_N_HEADER);
    w.max_bytes = CKPT_MAX_BYTES;
    w.bad |= pack_header(&w.pk, c, cfg);
    tensors_write(&w, &c->P);
    rec_edit_end(&e);
    int rc = ctr_save(&w, path, c->hash, err, n_err);
    ctr_writer_free(&w);
    return rc;
}

/* ---------------------------------------------------------------- reading */

/* String or nil (empty) into buf of n bytes. */
static int obj_str(const msgpack_object *o, char *buf, size_t n) {
    if (o && o->type == MSGPACK_OBJECT_NIL) {
        buf[0] = 0;
        return 0;
    }
    return o && rec_get_str(o, NULL, buf, n) == REC_OK ? 0 : -1;
}

/* fix_gene and fix_choice of a few-shot sub-supernet: both or neither (older files and
 * one-shot supernets), in the ranges of the space. */
static int read_fix(const msgpack_object *tr, ckpt_t *c, char *err, size_t n_err) {
    const space_t *S = c->space;
    int64_t g, k;
    int rg = rec_get_int(tr, "fix_gene", &g), rk = rec_get_int(tr, "fix_choice", &k);
    c->fixed = 0, c->fix_gene = c->fix_choice = -1;
    if (rg == REC_MISSING && rk == REC_MISSING) return 0;
    if (rg != REC_OK || rk != REC_OK || !space_fix_valid(S, &c->cfg, g, k)) {
        int n_genes = S->path_choices > 0 ? space_path_genes(S, &c->cfg) : 0;
        snprintf(err, n_err, "train: fix_gene and fix_choice must both be integers, in 0..%d and "
                 "0..%d (%s)", n_genes - 1, S->path_choices - 1, S->name);
        return -1;
    }
    c->fixed = 1, c->fix_gene = (int)g, c->fix_choice = (int)k;
    return 0;
}

/* The "train" map: the warm-up's options. */
static int read_train(const msgpack_object *root, ckpt_t *c, char *err, size_t n_err) {
    const msgpack_object *tr = rec_lookup(root, "train");
    double epochs, batch, v;
    if (rec_get_num(tr, "fraction", &c->fraction) || rec_get_num(tr, "lr", &c->lr) ||
        rec_get_num(tr, "momentum", &c->momentum) ||
        rec_get_num(tr, "weight_decay", &c->weight_decay) ||
        rec_get_num(tr, "epochs", &epochs) || rec_get_num(tr, "batch", &batch) ||
        !rec_lookup(tr, "seed") || rec_lookup(tr, "seed")->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        snprintf(err, n_err, "train: missing or non-numeric option");
        return -1;
    }
    c->seed = rec_lookup(tr, "seed")->via.u64;
    c->threads = rec_get_num(tr, "threads", &v) == 0 ? (int)v : 0;
    /* optional: older files were warmed up uniformly at a constant rate */
    char name[16];
    int r = rec_get_str(tr, "sampling", name, sizeof name);
    c->sampling = r == REC_MISSING ? WARMUP_UNIFORM : r == REC_OK ? ckpt_sampling_parse(name) : -1;
    r = rec_get_str(tr, "schedule", name, sizeof name);
    c->schedule = r == REC_MISSING ? OPTIM_CONSTANT : r == REC_OK ? optim_kind_parse(name) : -1;
    if (c->sampling < 0 || c->schedule < 0) {
        snprintf(err, n_err, "train: unknown sampling or schedule (uniform, fair or sandwich; "
                 "constant or cosine)");
        return -1;
    }
    c->epochs = (int)epochs;
    c->batch = (int)batch;
    return read_fix(tr, c, err, n_err);
}

int ckpt_read_norm(const msgpack_object *me, const msgpack_object *sd, int *n_norm, float *mean,
                   float *std, char *err, size_t n_err) {
    *n_norm = 0;
    if (!me && !sd) return 0;
    if (!me || !sd || me->type != MSGPACK_OBJECT_ARRAY || sd->type != MSGPACK_OBJECT_ARRAY ||
        me->via.array.size != sd->via.array.size || me->via.array.size > 64) {
        snprintf(err, n_err, "data: mean and std are not two arrays of one size (at most 64)");
        return -1;
    }
    int n = (int)me->via.array.size;
    for (int i = 0; i < n; i++) {
        double m, s;
        if (rec_get_num(&me->via.array.ptr[i], NULL, &m) ||
            rec_get_num(&sd->via.array.ptr[i], NULL, &s) || !(s >= 0)) {
            snprintf(err, n_err, "data: mean/std element %d is not a number (std >= 0)", i);
            return -1;
        }
        mean[i] = (float)m, std[i] = (float)s;
    }
    *n_norm = n;
    return 0;
}

/* The "data" map: where the warm-up's data came from and its normalization. */
static int read_data(const msgpack_object *root, ckpt_t *c, char *err, size_t n_err) {
    const msgpack_object *da = rec_lookup(root, "data");
    if (!da || obj_str(rec_lookup(da, "dir"), c->data_dir, sizeof c->data_dir) ||
        obj_str(rec_lookup(da, "fingerprint"), c->data_fingerprint, sizeof c->data_fingerprint)) {
        snprintf(err, n_err, "data: needs dir and fingerprint (strings or nil)");
        return -1;
    }
    /* options and normalization: absent in checkpoints written before they were kept */
    const msgpack_object *op = rec_lookup(da, "options");
    c->data_options[0] = 0;
    if (op && obj_str(op, c->data_options, sizeof c->data_options)) {
        snprintf(err, n_err, "data: options is not a string");
        return -1;
    }
    return ckpt_read_norm(rec_lookup(da, "mean"), rec_lookup(da, "std"), &c->n_norm,
                          c->norm_mean, c->norm_std, err, n_err);
}

/* steps, loss_curve, lambda, lambda_fraction. */
static int read_run(const msgpack_object *root, ckpt_t *c, char *err, size_t n_err) {
    double steps, v;
    if (rec_get_num(root, "steps", &steps) != 0) {
        snprintf(err, n_err, "steps missing");
        return -1;
    }
    c->steps = (int64_t)steps;
    const msgpack_object *cu = rec_lookup(root, "loss_curve"), *la = rec_lookup(root, "lambda");
    if (!cu || cu->type != MSGPACK_OBJECT_ARRAY || cu->via.array.size > CKPT_MAX_CURVE) {
        snprintf(err, n_err, "loss_curve: not an array of at most %d numbers", CKPT_MAX_CURVE);
        return -1;
    }
    c->n_curve = (int)cu->via.array.size;
    for (int i = 0; i < c->n_curve; i++) {
        if (rec_get_num(&cu->via.array.ptr[i], NULL, &v) != 0) {
            snprintf(err, n_err, "loss_curve: element %d is not a number", i);
            return -1;
        }
        c->curve[i] = (float)v;
    }
    /* 3 numbers (the paper's l1..l3, l4 = 0) or 4 (with the Jacobian term's weight) */
    c->lambda[3] = 0;
    if (!la || la->type != MSGPACK_OBJECT_ARRAY ||
        (la->via.array.size != 3 && la->via.array.size != 4)) {
        snprintf(err, n_err, "lambda: not an array of 3 or 4 numbers");
        return -1;
    }
    for (uint32_t i = 0; i < la->via.array.size; i++)
        if (rec_get_num(&la->via.array.ptr[i], NULL, &c->lambda[i])) {
            snprintf(err, n_err, "lambda: element %u is not a number", (unsigned)i);
            return -1;
        }
    /* optional: older checkpoints do not say which warm-up their lambda belong to */
    const msgpack_object *lf = rec_lookup(root, "lambda_fraction");
    c->lambda_fraction = -1;
    if (lf && rec_get_num(lf, NULL, &c->lambda_fraction)) {
        snprintf(err, n_err, "lambda_fraction: not a number");
        return -1;
    }
    return 0;
}

/* Everything after the container is verified; err without the path prefix. */
static int ckpt_decode(const ctr_t *f, ckpt_t *c, char *err, size_t n_err) {
    const msgpack_object *root = f->root;
    char name[64], msg[256];
    if (obj_str(rec_lookup(root, "space"), name, sizeof name) != 0 ||
        !(c->space = space_find(name))) {
        snprintf(err, n_err, "unknown or missing space");
        return -1;
    }
    space_cfg_default(c->space, &c->cfg);
    if (space_cfg_read(c->space, &c->cfg, root, msg, sizeof msg) != 0) {
        snprintf(err, n_err, "cfg: %s", msg);
        return -1;
    }
    if (read_train(root, c, err, n_err) || read_data(root, c, err, n_err) ||
        read_run(root, c, err, n_err))
        return -1;
    /* Rebuild the parameter list the space declares for this cfg, then fill it. */
    if (c->space->declare_supernet(&c->P, &c->cfg) != 0 || params_alloc(&c->P) != 0) {
        snprintf(err, n_err, "cannot build the %s supernet for the stored cfg", c->space->name);
        return -1;
    }
    return tensors_read(&c->P, f, "the supernet for the stored cfg", err, n_err);
}

int ckpt_load(const char *path, ckpt_t *c, char *err, size_t n_err) {
    char msg[512];
    ctr_t f;
    memset(c, 0, sizeof *c);
    params_init(&c->P);
    int rc = ctr_load(&f, path, CKPT_KIND, "supernet checkpoint", CKPT_VERSION, CKPT_MAX_BYTES,
                      err, n_err);
    if (rc == 0 && (rc = ckpt_decode(&f, c, msg, sizeof msg)) != 0)
        snprintf(err, n_err, "%s: %s", path, msg);
    else if (rc == 0)
        memcpy(c->hash, f.hash, sizeof c->hash);
    ctr_free(&f);
    if (rc != 0) {
        params_free(&c->P);
        params_init(&c->P);
    }
    return rc;
}

int ckpt_fits(const ckpt_t *c, const arch_t *a) {
    return !c->fixed || (c->fix_gene < a->n && a->g[c->fix_gene] == c->fix_choice);
}

int ckpt_siblings(const ckpt_t *a, const char *pa, const ckpt_t *b, const char *pb, char *err,
                  size_t n_err) {
    const char *what = NULL;
    if (!a->fixed || !b->fixed)
        what = "is not a few-shot sub-supernet (warmup-supernet --fix); give one such file per op";
    else if (a->space != b->space || !space_cfg_equal(&a->cfg, &b->cfg))
        what = "has another space or cfg";
    else if (a->fix_gene != b->fix_gene)
        what = "is split at another gene";
    else if (a->fix_choice == b->fix_choice)
        what = "is split on the same op";
    else if (strcmp(a->data_fingerprint, b->data_fingerprint) || strcmp(a->data_options, b->data_options) ||
             a->n_norm != b->n_norm || memcmp(a->norm_mean, b->norm_mean, sizeof a->norm_mean) ||
             memcmp(a->norm_std, b->norm_std, sizeof a->norm_std))
        what = "was warmed up on other data or data options";
    else if (a->fraction != b->fraction || a->epochs != b->epochs || a->batch != b->batch ||
             a->lr != b->lr || a->momentum != b->momentum || a->weight_decay != b->weight_decay ||
             a->sampling != b->sampling || a->schedule != b->schedule || a->threads != b->threads)
        what = "was warmed up with other options (fraction, epochs, batch, lr, momentum, weight "
               "decay, sampling, schedule or threads)";
    else if (memcmp(a->lambda, b->lambda, sizeof a->lambda) || a->lambda_fraction != b->lambda_fraction)
        what = "holds other sigeo weights";
    if (!what) return 0;
    snprintf(err, n_err, "%s and %s do not form one few-shot supernet: %s %s", pa, pb,
             a->fixed ? pb : pa, what);
    return -1;
}

void ckpt_free(ckpt_t *c) {
    params_free(&c->P);
    params_init(&c->P);
}

int ckpt_load_all(const char *const *paths, int n, ckpt_t *ck, ckpt_t **ptr, char *err, size_t n_err) {
    int i = 0;
    for (; i < n && !ckpt_load(paths[i], &ck[i], err, n_err); i++) ptr[i] = &ck[i];
    return i;
}
