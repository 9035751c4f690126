/* tensors.h — a network's parameters (params_t: trainable views and BN state buffers) as
 * the named tensors of a container file (io/container.h), shared by supernet checkpoints
 * and model files. */
#ifndef SIGEO_MODEL_TENSORS_H
#define SIGEO_MODEL_TENSORS_H

#include <stddef.h>

#include "engine/net.h"
#include "io/container.h"
#include "io/rec.h"
#include "spaces/space.h"

/* The tensors entry of w: every view of P (allocated), trainable ones first, then the
 * state buffers, in declaration order. */
void tensors_write(ctr_writer_t *w, const params_t *P);
/* At most the bytes tensors_write packs for P's views; P need only be declared. */
size_t tensors_bytes_bound(const params_t *P);
/* Fill P (declared and allocated) from c: every tensor must name a view of P of the same
 * kind (parameter or state) and shape, once, and every view must be present. owner names
 * what declared P in messages ("the supernet for the stored cfg"). 0, or -1 with err (no
 * path). */
int tensors_read(params_t *P, const ctr_t *c, const char *owner, char *err, size_t n_err);

/* A file's "cfg" header value: c encoded into the new record e (the caller ends the edit
 * after packing it). The map, or NULL with err naming path. */
const msgpack_object *tensors_cfg(const space_t *S, const space_cfg_t *c, rec_t *e, const char *path, char *err,
                                  size_t n_err);

#endif
