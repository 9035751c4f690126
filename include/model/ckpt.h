/* ckpt.h — supernet checkpoints: one msgpack map, readable by any msgpack client.
 * Layout (docs/records.md): kind "supernet", version, space, cfg, train options,
 * data fingerprint, steps, loss curve, lambda defaults for scoring, the state and
 * parameter tensors by name as little-endian float32 bin with their shapes, and a
 * SHA-256 content hash over everything else. Written atomically; verified on load. */
#ifndef SIGEO_CKPT_H
#define SIGEO_CKPT_H

#include "engine/net.h"
#include "spaces/space.h"

#define CKPT_MAX_CURVE 4096

typedef struct {
    const space_t *space;
    space_cfg_t cfg;
    /* warm-up options as run */
    double fraction, lr, momentum, weight_decay;
    int epochs, batch;
    uint64_t seed;
    int threads;                 /* OpenBLAS threads of the run (results depend on it); 0 unknown */
    char data_fingerprint[65];
    char data_dir[256];
    char data_options[1024];     /* the data options read with (feed.h), "" for none */
    int n_norm;                  /* channels of the normalization below, 0 if none */
    float norm_mean[64], norm_std[64]; /* per channel, of the training split */
    int64_t steps;
    double seconds;
    int n_curve;
    float curve[CKPT_MAX_CURVE]; /* mean training loss per curve point */
    double lambda[4];            /* scoring defaults l1, l2, l3, l4 (docs/quality.md) */
    double lambda_fraction;      /* the warm-up share lambda was chosen at; 0 none, -1 unknown */
    params_t P;                  /* all supernet tensors; owned */
    char hash[65];               /* filled by save and load */
} ckpt_t;

/* Write c to path atomically (path.tmp.PID, fsync, rename). 0, or -1 with err. */
int ckpt_save(const char *path, ckpt_t *c, char *err, size_t n_err);
/* Read and verify (hash, tensor names and shapes against the space's supernet for
 * the stored cfg). On success c owns c->P. 0, or -1 with err naming the file. */
int ckpt_load(const char *path, ckpt_t *c, char *err, size_t n_err);
void ckpt_free(ckpt_t *c);

#endif
