/* container.h — the file format of supernet checkpoints and model files: one msgpack map,
 * readable by any msgpack client, of
 *
 *   kind (str), version (int), header keys of the caller's, "tensors": a map of
 *   name -> {shape: [ints], dtype: "f32le", state: bool, data: bin}, and last "hash":
 *   the SHA-256 (hex) of the map without that entry.
 *
 * The hash covers the file bytes with the last 71 bytes (the "hash" fixstr key and its
 * 64-character str8 value) removed and the fixmap count decremented, so it is checked on
 * the bytes as read, with no re-packing, and any msgpack client can recompute it by
 * slicing. Files are written atomically (io/file.h) and verified on load: size cap,
 * structure (lengths checked before msgpack-c allocates), kind, version, hash. What the
 * header keys and tensors mean belongs to the layer above (model/ckpt.h, model/model.h). */
#ifndef SIGEO_IO_CONTAINER_H
#define SIGEO_IO_CONTAINER_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* Header keys a caller may add: kind, version, tensors and hash complete a fixmap (15). */
#define CTR_MAX_KEYS 11
#define CTR_MAX_DIM 4
#define CTR_MAX_NAME 96

/* ---- writing ---- */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk; /* the caller packs its header keys and values through it */
    int n_keys;        /* keys of the map before "hash" */
    int bad;           /* a pack call failed (out of memory) */
    unsigned char *tmp;
    size_t n_tmp;
    size_t max_bytes;  /* the caller's: the loader's cap for this kind (0: none) */
    int too_big;       /* a tensor would have taken the file past max_bytes: not packed */
} ctr_writer_t;

/* Start a map with kind and version; the caller then packs exactly n_keys header entries
 * (key, value) through w->pk, then calls ctr_tensors and ctr_tensor per tensor.
 * 0, or -1 (n_keys out of range). */
int ctr_writer_init(ctr_writer_t *w, const char *kind, int version, int n_keys);
void ctr_writer_free(ctr_writer_t *w);
/* A C string as a msgpack str; the result of the pack calls (0 ok). */
int ctr_pack_cstr(msgpack_packer *pk, const char *s);
/* The "tensors" key and a map of n entries. */
void ctr_tensors(ctr_writer_t *w, size_t n);
/* One tensor of n floats with its shape; state: not a trained parameter (BN running
 * statistics). Stored as little-endian float32 whatever the host. */
void ctr_tensor(ctr_writer_t *w, const char *name, int n_dim, const int *shape, const float *x,
                size_t n, int state);
/* At most the bytes ctr_tensor packs for a tensor of n floats (name, shape, keys, data). */
size_t ctr_tensor_bound(const char *name, int n_dim, size_t n);
/* Append the hash (into hash[65]) and write the file atomically; a file over w->max_bytes
 * is not written (err says its size and the limit). 0, or -1 with err
 * starting with the path. */
int ctr_save(ctr_writer_t *w, const char *path, char hash[65], char *err, size_t n_err);

/* ---- reading ---- */

typedef struct {
    unsigned char *buf; /* the file */
    size_t n;
    msgpack_unpacked up;
    const msgpack_object *root;    /* the map */
    const msgpack_object *tensors; /* its "tensors" map */
    char hash[65];
} ctr_t;

/* Read path and verify it: a regular file of at most max_bytes holding exactly one map
 * whose kind is `kind` (what: its name in messages, "supernet checkpoint"), version
 * `version`, a "tensors" map and a matching hash. c owns everything (ctr_free, also after
 * a failure). 0, or -1 with err starting with the path. */
int ctr_load(ctr_t *c, const char *path, const char *kind, const char *what, int version,
             size_t max_bytes, char *err, size_t n_err);
void ctr_free(ctr_t *c);

/* One entry of the tensors map, checked for form (not for meaning). */
typedef struct {
    char name[CTR_MAX_NAME];
    int state;
    int n_dim;                 /* entries of the shape array as written */
    int shape_ok;              /* every entry a positive integer < 2^31, n_dim <= CTR_MAX_DIM */
    int shape[CTR_MAX_DIM];    /* when shape_ok */
    const msgpack_object *shape_obj;
    const unsigned char *data; /* little-endian float32, n_bytes */
    size_t n_bytes;
} ctr_tensor_t;

uint32_t ctr_n_tensors(const ctr_t *c);
/* Tensor i into t. 0, or -1 with err (no path) saying what is malformed. */
int ctr_tensor_at(const ctr_t *c, uint32_t i, ctr_tensor_t *t, char *err, size_t n_err);
/* The shape as written, for messages: "(3,8)", "(3.5,-2)", with "..." past CTR_MAX_DIM. */
void ctr_shape_text(const ctr_tensor_t *t, char *buf, size_t n);
/* n floats of t's data into x (byte swaps on big-endian hosts). */
void ctr_tensor_floats(const ctr_tensor_t *t, float *x, size_t n);

#endif
