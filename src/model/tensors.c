/* tensors.c — params_t to and from a container's tensors (tensors.h). */
#include "model/tensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tensors_write(ctr_writer_t *w, const params_t *P) {
    ctr_tensors(w, (size_t)(P->n + P->n_state));
    for (int i = 0; i < P->n; i++) {
        const pview_t *v = &P->v[i];
        ctr_tensor(w, v->name, v->n_dim, v->shape, P->w + v->off, v->n, 0);
    }
    for (int i = 0; i < P->n_state; i++) {
        const pview_t *v = &P->sv[i];
        ctr_tensor(w, v->name, v->n_dim, v->shape, P->s + v->off, v->n, 1);
    }
}

size_t tensors_bytes_bound(const params_t *P) {
    size_t b = 5; /* the "tensors" map header */
    for (int i = 0; i < P->n; i++) b += ctr_tensor_bound(P->v[i].name, P->v[i].n_dim, P->v[i].n);
    for (int i = 0; i < P->n_state; i++)
        b += ctr_tensor_bound(P->sv[i].name, P->sv[i].n_dim, P->sv[i].n);
    return b;
}

static void shape_str(char *buf, size_t n, int n_dim, const int *shape) {
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < n_dim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? ",%d" : "%d", shape[d]);
    if (k < n) snprintf(buf + k, n - k, ")");
}

/* Check tensor i against its declared view and copy its data in. */
static int read_one(params_t *P, const ctr_t *c, uint32_t i, unsigned char *seen_w,
                    unsigned char *seen_s, const char *owner, char *err, size_t n_err) {
    ctr_tensor_t t;
    if (ctr_tensor_at(c, i, &t, err, n_err)) return -1;
    int id = params_find(P, t.name, t.state);
    if (id < 0) {
        snprintf(err, n_err, "unexpected %stensor '%s' (%s has no such %s)", t.state ? "state " : "",
                 t.name, owner, t.state ? "state buffer" : "parameter");
        return -1;
    }
    const pview_t *v = t.state ? &P->sv[id] : &P->v[id];
    unsigned char *seen = t.state ? seen_s : seen_w;
    if (seen[id]) {
        snprintf(err, n_err, "tensor '%s' appears twice", t.name);
        return -1;
    }
    seen[id] = 1;
    int ok = t.shape_ok && t.n_dim == v->n_dim;
    for (int d = 0; ok && d < v->n_dim; d++) ok = t.shape[d] == v->shape[d];
    if (!ok) {
        char a[96], b[64];
        ctr_shape_text(&t, a, sizeof a);
        shape_str(b, sizeof b, v->n_dim, v->shape);
        snprintf(err, n_err, "tensor '%s': shape %s in the file, %s expected by %s", t.name, a, b,
                 owner);
        return -1;
    }
    if (t.n_bytes != v->n * 4) {
        snprintf(err, n_err, "tensor '%s': %zu data bytes, %zu expected", t.name, t.n_bytes,
                 v->n * 4);
        return -1;
    }
    ctr_tensor_floats(&t, (t.state ? P->s : P->w) + v->off, v->n);
    return 0;
}

int tensors_read(params_t *P, const ctr_t *c, const char *owner, char *err, size_t n_err) {
    unsigned char *seen_w = calloc((size_t)P->n + 1, 1);
    unsigned char *seen_s = calloc((size_t)P->n_state + 1, 1);
    int rc = seen_w && seen_s ? 0 : -1;
    if (rc) snprintf(err, n_err, "out of memory");
    for (uint32_t i = 0; rc == 0 && i < ctr_n_tensors(c); i++)
        rc = read_one(P, c, i, seen_w, seen_s, owner, err, n_err);
    for (int i = 0; rc == 0 && i < P->n; i++)
        if (!seen_w[i]) {
            snprintf(err, n_err, "missing tensor '%s'", P->v[i].name);
            rc = -1;
        }
    for (int i = 0; rc == 0 && i < P->n_state; i++)
        if (!seen_s[i]) {
            snprintf(err, n_err, "missing state tensor '%s'", P->sv[i].name);
            rc = -1;
        }
    free(seen_w);
    free(seen_s);
    return rc;
}

const msgpack_object *tensors_cfg(const space_t *S, const space_cfg_t *c, rec_t *e, const char *path, char *err,
                                  size_t n_err) {
    const msgpack_object *cfg = NULL;
    if (rec_new(e) == 0 && space_cfg_write(S, c, e, "cfg") == 0) cfg = rec_lookup(&e->root, "cfg");
    if (!cfg) snprintf(err, n_err, "%s: cannot encode the space parameters", path);
    return cfg;
}
