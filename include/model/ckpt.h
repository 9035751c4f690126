/* ckpt.h — supernet checkpoints: a container file (io/container.h) of kind "supernet".
 * Layout (docs/warmup.md): kind, version, space, cfg, train options, data (path,
 * fingerprint, options, normalization), steps, loss curve, lambda defaults for scoring,
 * the parameter and state tensors by name, and the SHA-256 content hash. Written
 * atomically; verified on load against the space's supernet for the stored cfg. */
#ifndef SIGEO_CKPT_H
#define SIGEO_CKPT_H

#include "engine/net.h"
#include "spaces/space.h"

#define CKPT_MAX_CURVE 4096
/* The largest checkpoint file ckpt_load reads: far above any supernet we train (C=16 N=5
 * is ~5 MB); it bounds what a damaged or hostile file can make a loader allocate. */
#define CKPT_MAX_BYTES ((size_t)1 << 30)

/* The warm-up's path sampling per step (ckpt_t sampling; model/warmup.h). */
enum { WARMUP_UNIFORM = 0, WARMUP_FAIR, WARMUP_SANDWICH };
/* "uniform" / "fair" / "sandwich" to a WARMUP_* value, -1 if unknown; and back. */
int ckpt_sampling_parse(const char *name);
const char *ckpt_sampling_name(int sampling);

typedef struct {
    const space_t *space;
    space_cfg_t cfg;
    /* warm-up options as run */
    double fraction, lr, momentum, weight_decay;
    int epochs, batch;
    int sampling;                /* WARMUP_UNIFORM / _FAIR / _SANDWICH (model/warmup.h) */
    int schedule;                /* OPTIM_CONSTANT / OPTIM_COSINE (engine/optim.h) */
    uint64_t seed;
    int threads;                 /* OpenBLAS threads of the run (results depend on it); 0 unknown */
    /* few-shot sub-supernet (warmup-supernet --fix): when fixed, every path took choice
     * fix_choice at gene fix_gene; such a checkpoint scores only candidates with it */
    int fixed, fix_gene, fix_choice;
    char data_fingerprint[65];
    char data_dir[1024];         /* absolute */
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

/* An upper bound on the bytes ckpt_save writes for the tensors declared in P; needs no
 * allocation, so a writer can call it between declaring the tensors and params_alloc. */
size_t ckpt_bytes_bound(const params_t *P);
/* 0 if a checkpoint of P's tensors fits CKPT_MAX_BYTES; else -1 with err giving the size,
 * the limit and why it exists. Every writer checks this before training (ckpt_save
 * checks the exact size again). */
int ckpt_size_check(const params_t *P, char *err, size_t n_err);
/* Write c to path atomically (path.tmp.PID, fsync, rename). 0, or -1 with err. */
int ckpt_save(const char *path, ckpt_t *c, char *err, size_t n_err);
/* Read and verify (hash, tensor names and shapes against the space's supernet for
 * the stored cfg). On success c owns c->P. 0, or -1 with err naming the file. */
int ckpt_load(const char *path, ckpt_t *c, char *err, size_t n_err);
/* ckpt_load of paths[0..n) into ck[], with ptr[i] = &ck[i]: the number loaded, n unless
 * one failed (err says which; the ones before it are loaded and need ckpt_free). */
int ckpt_load_all(const char *const *paths, int n, ckpt_t *ck, ckpt_t **ptr, char *err, size_t n_err);
void ckpt_free(ckpt_t *c);
/* Non-zero if c may score candidate a: c is not a few-shot sub-supernet, or a takes its
 * fixed choice at its fixed gene. */
int ckpt_fits(const ckpt_t *c, const arch_t *a);
/* 0 if b (file pb) is a sibling of a (file pa) for few-shot scoring: both sub-supernets
 * split at the same gene on different choices, of one space, cfg and data, warmed up with
 * the same options (the seed aside) and with the same sigeo weights; else -1 with err
 * naming the files and what differs. */
int ckpt_siblings(const ckpt_t *a, const char *pa, const ckpt_t *b, const char *pb, char *err,
                  size_t n_err);
/* A "mean"/"std" pair of arrays (both absent: *n_norm = 0) into mean/std (64 floats
 * each); shared with model files. 0, or -1 with err. */
int ckpt_read_norm(const msgpack_object *me, const msgpack_object *sd, int *n_norm, float *mean,
                   float *std, char *err, size_t n_err);

#endif
