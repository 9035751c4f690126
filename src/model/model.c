/* model.c — model files (model.h): a trained network with what it was trained on, how,
 * and how well, over the generic container. Keys come in a fixed order and nothing
 * time-dependent is stored, so the same training gives the same bytes. */
#include "model/model.h"

#include "data/data.h"
#include "engine/optim.h"
#include "io/container.h"
#include "model/ckpt.h"
#include "model/tensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A cap far above any network we train (NB201 C=16 N=5 is ~4.5 MB of tensors). */
#define MODEL_MAX_BYTES ((size_t)1 << 30)
#define MODEL_N_HEADER 7 /* space, arch, index, cfg, data, recipe, metrics */

/* ---------------------------------------------------------------- writing */

static int pack_floats(msgpack_packer *pk, const char *key, const float *v, int n) {
    int rc = ctr_pack_cstr(pk, key) | msgpack_pack_array(pk, (size_t)n);
    for (int i = 0; i < n; i++) rc |= msgpack_pack_float(pk, v[i]);
    return rc;
}

static int pack_data(msgpack_packer *pk, const model_t *m) {
    int n_norm = m->n_norm < 0 ? 0 : m->n_norm > DATA_MAX_CH ? DATA_MAX_CH : m->n_norm;
    int rc = ctr_pack_cstr(pk, "data") | msgpack_pack_map(pk, 6);
    rc |= ctr_pack_cstr(pk, "path") | ctr_pack_cstr(pk, m->data_path);
    rc |= ctr_pack_cstr(pk, "fingerprint") | ctr_pack_cstr(pk, m->data_fingerprint);
    rc |= ctr_pack_cstr(pk, "options") | ctr_pack_cstr(pk, m->data_options);
    rc |= pack_floats(pk, "mean", m->mean, n_norm) | pack_floats(pk, "std", m->std, n_norm);
    rc |= ctr_pack_cstr(pk, "classes");
    if (!m->names || m->n_names <= 0) return rc | msgpack_pack_nil(pk);
    rc |= msgpack_pack_array(pk, (size_t)m->n_names);
    const char *p = m->names;
    for (int k = 0; k < m->n_names; k++, p += strlen(p) + 1) rc |= ctr_pack_cstr(pk, p);
    return rc;
}

static int pack_recipe(msgpack_packer *pk, const model_recipe_t *r) {
    int rc = ctr_pack_cstr(pk, "recipe") | msgpack_pack_map(pk, 13);
    rc |= ctr_pack_cstr(pk, "optimizer") | ctr_pack_cstr(pk, optimizer_name(r->optimizer));
    rc |= ctr_pack_cstr(pk, "epochs") | msgpack_pack_int64(pk, r->epochs);
    rc |= ctr_pack_cstr(pk, "batch") | msgpack_pack_int64(pk, r->batch);
    rc |= ctr_pack_cstr(pk, "lr") | msgpack_pack_double(pk, r->lr);
    rc |= ctr_pack_cstr(pk, "schedule") | ctr_pack_cstr(pk, optim_kind_name(r->schedule));
    rc |= ctr_pack_cstr(pk, "warmup") | msgpack_pack_int64(pk, r->warmup);
    rc |= ctr_pack_cstr(pk, "momentum") | msgpack_pack_double(pk, r->momentum);
    rc |= ctr_pack_cstr(pk, "nesterov");
    rc |= r->nesterov ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rc |= ctr_pack_cstr(pk, "weight_decay") | msgpack_pack_double(pk, r->weight_decay);
    rc |= ctr_pack_cstr(pk, "seed") | msgpack_pack_uint64(pk, r->seed);
    rc |= ctr_pack_cstr(pk, "threads") | msgpack_pack_int(pk, r->threads);
    rc |= ctr_pack_cstr(pk, "fraction") | msgpack_pack_double(pk, r->fraction);
    rc |= ctr_pack_cstr(pk, "test_fraction") | msgpack_pack_double(pk, r->test_fraction);
    return rc;
}

static int pack_metrics(msgpack_packer *pk, const model_metrics_t *t) {
    int clicks = !isnan(t->auc);
    int rc = ctr_pack_cstr(pk, "metrics") | msgpack_pack_map(pk, clicks ? 7 : 5);
    rc |= ctr_pack_cstr(pk, "test_acc") | msgpack_pack_double(pk, t->test_acc);
    rc |= ctr_pack_cstr(pk, "test_loss") | msgpack_pack_double(pk, t->test_loss);
    rc |= ctr_pack_cstr(pk, "train_loss") | msgpack_pack_double(pk, t->train_loss);
    rc |= ctr_pack_cstr(pk, "n_test") | msgpack_pack_int64(pk, t->n_test);
    rc |= ctr_pack_cstr(pk, "params") | msgpack_pack_int64(pk, t->params);
    if (clicks) {
        rc |= ctr_pack_cstr(pk, "logloss") | msgpack_pack_double(pk, t->logloss);
        rc |= ctr_pack_cstr(pk, "auc") | msgpack_pack_double(pk, t->auc);
    }
    return rc;
}

int model_size_check(const params_t *P, char *err, size_t n_err) {
    /* the header (arch, recipe, metrics, class names, data options) is far below 4 MB */
    size_t b = ((size_t)4 << 20) + tensors_bytes_bound(P);
    if (b <= MODEL_MAX_BYTES) return 0;
    snprintf(err, n_err,
             "its model file would take about %.0f MB, more than the 1 GiB (%zu bytes) a model "
             "file may hold (predict and export-onnx refuse larger files); train it without --save",
             (double)b / 1e6, MODEL_MAX_BYTES);
    return -1;
}

int model_save(const char *path, model_t *m, char *err, size_t n_err) {
    if (!m->space || !m->P.frozen) {
        snprintf(err, n_err, "%s: nothing to write (no space or unallocated parameters)", path);
        return -1;
    }
    rec_t e;
    const msgpack_object *cfg = tensors_cfg(m->space, &m->cfg, &e, path, err, n_err);
    if (!cfg) {
        rec_edit_end(&e);
        return -1;
    }
    ctr_writer_t w;
    ctr_writer_init(&w, MODEL_KIND, MODEL_VERSION, MODEL_N_HEADER);
    w.max_bytes = MODEL_MAX_BYTES;
    msgpack_packer *pk = &w.pk;
    int rc = ctr_pack_cstr(pk, "space") | ctr_pack_cstr(pk, m->space->name);
    rc |= ctr_pack_cstr(pk, "arch") | ctr_pack_cstr(pk, m->arch_str);
    rc |= ctr_pack_cstr(pk, "index");
    rc |= m->index >= 0 ? msgpack_pack_int64(pk, m->index) : msgpack_pack_nil(pk);
    rc |= ctr_pack_cstr(pk, "cfg") | msgpack_pack_object(pk, *cfg);
    rc |= pack_data(pk, m) | pack_recipe(pk, &m->recipe) | pack_metrics(pk, &m->metrics);
    w.bad |= rc;
    tensors_write(&w, &m->P);
    rec_edit_end(&e);
    rc = ctr_save(&w, path, m->hash, err, n_err);
    ctr_writer_free(&w);
    return rc;
}

/* ---------------------------------------------------------------- reading */

static int get_str(const msgpack_object *m, const char *key, char *buf, size_t n, char *err,
                   size_t n_err) {
    if (rec_get_str(m, key, buf, n) == REC_OK) return 0;
    snprintf(err, n_err, "%s: missing, not a string, or longer than %zu bytes", key, n - 1);
    return -1;
}

/* Class names: nil, or an array of cfg.classes strings. */
static int read_names(const msgpack_object *cl, model_t *m, char *err, size_t n_err) {
    if (!cl || cl->type == MSGPACK_OBJECT_NIL) return 0;
    if (cl->type != MSGPACK_OBJECT_ARRAY || (int)cl->via.array.size != m->cfg.classes ||
        cl->via.array.size > MODEL_MAX_CLASSES) {
        snprintf(err, n_err, "data.classes: not nil or an array of %d names (the cfg's classes)",
                 m->cfg.classes);
        return -1;
    }
    size_t len = 0;
    for (uint32_t k = 0; k < cl->via.array.size; k++) {
        const msgpack_object *s = &cl->via.array.ptr[k];
        if (s->type != MSGPACK_OBJECT_STR || memchr(s->via.str.ptr, 0, s->via.str.size)) {
            snprintf(err, n_err, "data.classes: name %u is not a string", (unsigned)k);
            return -1;
        }
        len += s->via.str.size + 1;
    }
    if (!(m->names = malloc(len ? len : 1))) {
        snprintf(err, n_err, "out of memory");
        return -1;
    }
    char *p = m->names;
    for (uint32_t k = 0; k < cl->via.array.size; k++) {
        const msgpack_object *s = &cl->via.array.ptr[k];
        memcpy(p, s->via.str.ptr, s->via.str.size);
        p[s->via.str.size] = 0;
        p += s->via.str.size + 1;
    }
    m->n_names = (int)cl->via.array.size;
    return 0;
}

static int read_data(const msgpack_object *root, model_t *m, char *err, size_t n_err) {
    const msgpack_object *d = rec_lookup(root, "data");
    if (!d || d->type != MSGPACK_OBJECT_MAP) {
        snprintf(err, n_err, "data: missing or not a map");
        return -1;
    }
    if (get_str(d, "path", m->data_path, sizeof m->data_path, err, n_err) ||
        get_str(d, "fingerprint", m->data_fingerprint, sizeof m->data_fingerprint, err, n_err) ||
        get_str(d, "options", m->data_options, sizeof m->data_options, err, n_err) ||
        ckpt_read_norm(rec_lookup(d, "mean"), rec_lookup(d, "std"), &m->n_norm, m->mean, m->std,
                       err, n_err))
        return -1;
    return read_names(rec_lookup(d, "classes"), m, err, n_err);
}

static int read_recipe(const msgpack_object *root, model_recipe_t *r, char *err, size_t n_err) {
    const msgpack_object *o = rec_lookup(root, "recipe"), *nest, *seed;
    char opt[32], sched[32];
    double ep, b, wu, th;
    if (!o || rec_get_str(o, "optimizer", opt, sizeof opt) || rec_get_str(o, "schedule", sched, sizeof sched) ||
        rec_get_num(o, "epochs", &ep) || rec_get_num(o, "batch", &b) ||
        rec_get_num(o, "warmup", &wu) || rec_get_num(o, "lr", &r->lr) ||
        rec_get_num(o, "momentum", &r->momentum) ||
        rec_get_num(o, "weight_decay", &r->weight_decay) || rec_get_num(o, "threads", &th) ||
        rec_get_num(o, "fraction", &r->fraction) ||
        rec_get_num(o, "test_fraction", &r->test_fraction) || !(nest = rec_lookup(o, "nesterov")) ||
        nest->type != MSGPACK_OBJECT_BOOLEAN || !(seed = rec_lookup(o, "seed")) ||
        seed->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        snprintf(err, n_err, "recipe: a key is missing or of the wrong type");
        return -1;
    }
    r->optimizer = strcmp(opt, optimizer_name(OPTIMIZER_ADAGRAD)) ? OPTIMIZER_SGD : OPTIMIZER_ADAGRAD;
    r->schedule = optim_kind_parse(sched);
    if (!(b >= 1 && b <= 65536) || !(th >= 1 && th <= LAY_MAX_THREADS) || r->schedule < 0 ||
        !(r->fraction > 0 && r->fraction <= 1) ||
        !(r->test_fraction > 0 && r->test_fraction <= 1)) {
        snprintf(err, n_err, "recipe: batch, threads, schedule or a fraction out of range");
        return -1;
    }
    r->epochs = (long)ep, r->batch = (long)b, r->warmup = (long)wu, r->threads = (int)th;
    r->nesterov = nest->via.boolean;
    r->seed = seed->via.u64;
    return 0;
}

static int read_metrics(const msgpack_object *root, model_metrics_t *t, char *err, size_t n_err) {
    const msgpack_object *o = rec_lookup(root, "metrics");
    double nt, np;
    if (!o || rec_get_num(o, "test_acc", &t->test_acc) ||
        rec_get_num(o, "test_loss", &t->test_loss) ||
        rec_get_num(o, "train_loss", &t->train_loss) || rec_get_num(o, "n_test", &nt) ||
        rec_get_num(o, "params", &np)) {
        snprintf(err, n_err, "metrics: a key is missing or not a number");
        return -1;
    }
    t->n_test = (int64_t)nt, t->params = (int64_t)np;
    if (rec_get_num(o, "logloss", &t->logloss)) t->logloss = NAN;
    if (rec_get_num(o, "auc", &t->auc)) t->auc = NAN;
    return 0;
}

/* Declare the network of m's arch and cfg into m->P, allocate, and fill from f. */
static int read_tensors(const ctr_t *f, model_t *m, char *err, size_t n_err) {
    net_t net;
    net_init(&net, &m->P, 1);
    int rc = m->space->build(&net, &m->cfg, &m->arch) < 0 || params_alloc(&m->P) != 0 ? -1 : 0;
    net_free(&net);
    if (rc) {
        snprintf(err, n_err, "cannot build the %s network for the stored arch and cfg",
                 m->space->name);
        return -1;
    }
    char owner[128];
    snprintf(owner, sizeof owner, "the %s network for the stored arch and cfg", m->space->name);
    return tensors_read(&m->P, f, owner, err, n_err);
}

static int model_decode(const ctr_t *f, model_t *m, char *err, size_t n_err) {
    const msgpack_object *root = f->root;
    char name[64], msg[256];
    if (rec_get_str(root, "space", name, sizeof name) != REC_OK || !(m->space = space_find(name))) {
        snprintf(err, n_err, "unknown or missing space");
        return -1;
    }
    space_cfg_default(m->space, &m->cfg);
    if (space_cfg_read(m->space, &m->cfg, root, msg, sizeof msg) != 0) {
        snprintf(err, n_err, "cfg: %s", msg);
        return -1;
    }
    if (get_str(root, "arch", m->arch_str, sizeof m->arch_str, err, n_err)) return -1;
    if (m->space->parse(m->arch_str, &m->arch, msg, sizeof msg) != 0) {
        snprintf(err, n_err, "arch: %s", msg);
        return -1;
    }
    m->index = m->space->to_index(&m->arch);
    if (read_data(root, m, err, n_err) || read_recipe(root, &m->recipe, err, n_err) ||
        read_metrics(root, &m->metrics, err, n_err))
        return -1;
    m->recipe.optimizer = m->space->optimizer; /* the space decides, as in train-arch */
    return read_tensors(f, m, err, n_err);
}

int model_load(const char *path, model_t *m, char *err, size_t n_err) {
    char msg[512];
    ctr_t f;
    memset(m, 0, sizeof *m);
    params_init(&m->P);
    int rc = ctr_load(&f, path, MODEL_KIND, "model file", MODEL_VERSION, MODEL_MAX_BYTES, err,
                      n_err);
    if (rc == 0 && (rc = model_decode(&f, m, msg, sizeof msg)) != 0)
        snprintf(err, n_err, "%s: %s", path, msg);
    else if (rc == 0)
        memcpy(m->hash, f.hash, sizeof m->hash);
    ctr_free(&f);
    if (rc) model_free(m);
    return rc;
}

void model_free(model_t *m) {
    params_free(&m->P);
    params_init(&m->P);
    free(m->names);
    m->names = NULL;
    m->n_names = 0;
}

int model_net(model_t *m, net_t *net, int batch, char *err, size_t n_err) {
    net_init(net, &m->P, batch);
    if (m->space->build(net, &m->cfg, &m->arch) < 0) {
        snprintf(err, n_err, "cannot build the %s network of the model", m->space->name);
        return -1;
    }
    net->share_dy = net->no_input_dy = 1; /* inference: no gradient is read */
    if (net_finalize(net, NULL) < 0) {
        snprintf(err, n_err, "cannot allocate the network (out of memory?)");
        return -1;
    }
    net->bn_mode = BN_EVAL;
    return 0;
}

const char *model_class_name(const model_t *m, int k) {
    if (!m->names || k < 0 || k >= m->n_names) return NULL;
    const char *p = m->names;
    while (k-- > 0) p += strlen(p) + 1;
    return p;
}

void model_file_name(const space_t *sp, const arch_t *a, const space_cfg_t *c, char *buf, size_t n) {
    char s[MODEL_MAX_ARCH], hex[65], cfg[17] = "";
    space_cfg_t d;
    space_cfg_default(sp, &d);
    if (!space_cfg_equal(c, &d)) {
        size_t m = 0;
        for (int k = 0; k < sp->n_cfg_keys && m < sizeof s; k++)
            m += (size_t)snprintf(s + m, sizeof s - m, "%s=%d;", sp->cfg_keys[k].key,
                                  *(const int *)((const char *)c + sp->cfg_keys[k].off));
        data_sha2(s, strlen(s), NULL, 0, hex);
        snprintf(cfg, sizeof cfg, "-%.8s", hex);
    }
    int64_t i = sp->to_index(a);
    if (i >= 0) {
        snprintf(buf, n, "%s-%lld%s.model", sp->name, (long long)i, cfg);
        return;
    }
    if (sp->format(a, s, sizeof s) < 0) s[0] = 0;
    data_sha2(s, strlen(s), NULL, 0, hex);
    snprintf(buf, n, "%s-%.16s%s.model", sp->name, hex, cfg);
}
