/* model.h — a trained network as a file: a container (io/container.h) of kind "model",
 * written by `train-arch --save` and read by `predict` and `export-onnx`.
 *
 * Header keys, in this order (docs/models.md):
 *   space    the space's name
 *   arch     the architecture in the space's text form
 *   index    the arch's index in the space, or nil where the space is not enumerable
 *   cfg      the space parameters (as in records)
 *   data     {path, fingerprint, options, mean: [per channel], std: [...], classes: [names]
 *            or nil}: what the network was trained on and the normalization x' = (x - mean)
 *            / std (std 0: centred only) of its inputs, x the loaders' values (8-bit / 255)
 *   recipe   {optimizer, epochs, batch, lr, schedule, warmup, momentum, nesterov,
 *            weight_decay, seed, threads, fraction, test_fraction}: how it was trained and
 *            which test subset it was evaluated on (feed.h: seed and test_fraction)
 *   metrics  {test_acc, test_loss, train_loss, n_test, params}; click models also {logloss,
 *            auc}
 * then the tensors: every parameter and BN running statistic the network declares, by the
 * names its space's builder gives them. Loading checks the hash, the kind, and every
 * tensor's name and shape against the network the space builds for the stored arch and
 * cfg. */
#ifndef SIGEO_MODEL_H
#define SIGEO_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "data/data.h"
#include "engine/net.h"
#include "spaces/space.h"

#define MODEL_KIND "model"
#define MODEL_VERSION 1
#define MODEL_MAX_ARCH 2048
#define MODEL_MAX_CLASSES 4096

typedef struct {
    int optimizer;            /* OPTIMIZER_* (engine/optim.h) */
    long epochs, batch, warmup;
    double lr, momentum, weight_decay;
    int schedule, nesterov;   /* OPTIM_* schedule (optim_kind_name) */
    uint64_t seed;
    int threads;              /* engine threads (results depend on it) */
    double fraction, test_fraction;
} model_recipe_t;

typedef struct {
    double test_acc, test_loss, train_loss;
    double logloss, auc;      /* click models; NAN otherwise */
    int64_t n_test, params;
} model_metrics_t;

typedef struct {
    const space_t *space;
    space_cfg_t cfg;
    arch_t arch;
    char arch_str[MODEL_MAX_ARCH];
    int64_t index;            /* -1: not enumerable */
    char data_path[4096], data_fingerprint[65], data_options[1024];
    int n_norm;               /* channels of mean/std; 0: inputs not normalized (clicks) */
    float mean[DATA_MAX_CH], std[DATA_MAX_CH];
    int n_names;              /* class names (n_names == cfg.classes), 0 if the data had none */
    char *names;              /* each NUL-terminated, back to back */
    model_recipe_t recipe;
    model_metrics_t metrics;
    params_t P;               /* every tensor of the network */
    char hash[65];            /* filled by save and load */
} model_t;

/* 0 if a model file of P's tensors fits the size its loader accepts (1 GiB); else -1 with
 * err giving the size and the limit. Checked before training, so --save never trains a
 * network it cannot write. */
int model_size_check(const params_t *P, char *err, size_t n_err);
/* Write m to path atomically. Reads m (P allocated; names may point anywhere) and fills
 * m->hash; a model filled by hand for saving need not be model_free'd by this. 0, or -1
 * with err naming the file. */
int model_save(const char *path, model_t *m, char *err, size_t n_err);
/* Read and verify path (hash, kind, version, tensors against the network of the stored
 * arch and cfg). On success m owns m->P and m->names (model_free). 0, or -1 with err
 * naming the file. */
int model_load(const char *path, model_t *m, char *err, size_t n_err);
void model_free(model_t *m);

/* Build m's network for batch B over m->P into net (net_init is called; the caller
 * net_free's it), in inference mode (BN running statistics). 0, or -1 with err. */
int model_net(model_t *m, net_t *net, int batch, char *err, size_t n_err);
/* The name train-arch --save gives the model file of arch a of space sp at cfg c, stable
 * across runs: "<space>-<index>.model", or "<space>-<h>.model" with h the first 16 hex
 * digits of the SHA-256 of the arch string where the space has no index; at a cfg other
 * than the space's default, "-<g>" before ".model", g 8 hex digits of the SHA-256 of the
 * cfg's keys and values, so one arch at two cfgs never shares a file. */
void model_file_name(const space_t *sp, const arch_t *a, const space_cfg_t *c, char *buf, size_t n);
/* Class name k, or NULL when the data had none. */
const char *model_class_name(const model_t *m, int k);

#endif
