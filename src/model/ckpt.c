/* ckpt.c — supernet checkpoint files (see docs/warmup.md for the layout).
 *
 * The file is one msgpack map whose keys come in a fixed order and whose last key is
 * "hash": the SHA-256 (hex) of the msgpack map without that entry, that is the file
 * bytes with the last 71 bytes ("hash" key and its 64-character str8 value) removed
 * and the fixmap count decremented. So the hash is checked on the bytes as read, with
 * no re-packing, and any msgpack client can recompute it by slicing. */
#include "io/ckpt.h"

#include "io/file.h"
#include "io/mpwalk.h"

#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_KIND "supernet"
#define CKPT_VERSION 1
/* A sanity cap on the file size: far above any supernet we train (C=16 N=5 is ~5 MB). */
#define CKPT_MAX_BYTES ((size_t)1 << 30)
/* "hash" as fixstr (5 bytes) + 64 hex chars as str8 (2 + 64 bytes). */
#define CKPT_HASH_TAIL 71
/* Keys of the map before "hash"; both counts must fit a fixmap (<= 15). */
#define CKPT_N_KEYS 11

static int host_is_le(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Copy n floats to little-endian bytes (dst) or back (src); byte swaps on BE hosts. */
static void floats_to_le(unsigned char *dst, const float *src, size_t n)
{
    if (host_is_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        for (int k = 0; k < 4; k++) dst[4 * i + k] = (unsigned char)(u >> (8 * k));
    }
}

static void floats_from_le(float *dst, const unsigned char *src, size_t n)
{
    if (host_is_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = 0;
        for (int k = 0; k < 4; k++) u |= (uint32_t)src[4 * i + k] << (8 * k);
        memcpy(&dst[i], &u, 4);
    }
}

/* ---------------------------------------------------------------- writing */

static int pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) | msgpack_pack_str_body(pk, s, n);
}

static int pack_view(msgpack_packer *pk, const pview_t *v, const float *base, int state,
                     unsigned char *tmp)
{
    int rc = pack_cstr(pk, v->name);
    rc |= msgpack_pack_map(pk, 4);
    rc |= pack_cstr(pk, "shape");
    rc |= msgpack_pack_array(pk, (size_t)v->n_dim);
    for (int d = 0; d < v->n_dim; d++) rc |= msgpack_pack_int(pk, v->shape[d]);
    rc |= pack_cstr(pk, "dtype");
    rc |= pack_cstr(pk, "f32le");
    rc |= pack_cstr(pk, "state");
    rc |= state ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rc |= pack_cstr(pk, "data");
    floats_to_le(tmp, base + v->off, v->n);
    rc |= msgpack_pack_bin(pk, v->n * 4);
    rc |= msgpack_pack_bin_body(pk, tmp, v->n * 4);
    return rc;
}

/* The whole file image into sb (which the caller destroys); fills c->hash. */
static int ckpt_pack(msgpack_sbuffer *sb, ckpt_t *c, char *err, size_t n_err)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    const params_t *P = &c->P;
    int rc = 0;

    rec_t e;
    if (rec_new(&e) != 0 || c->space->cfg_write(&c->cfg, &e, "cfg") != 0) {
        snprintf(err, n_err, "cannot encode the space parameters");
        return -1;
    }
    const msgpack_object *cfg = rec_lookup(&e.root, "cfg");

    size_t max_n = 0;
    for (int i = 0; i < P->n; i++) max_n = P->v[i].n > max_n ? P->v[i].n : max_n;
    for (int i = 0; i < P->n_state; i++) max_n = P->sv[i].n > max_n ? P->sv[i].n : max_n;
    unsigned char *tmp = malloc(max_n * 4 + 4);
    if (!cfg || !tmp) {
        rec_edit_end(&e);
        free(tmp);
        snprintf(err, n_err, cfg ? "out of memory" : "cannot encode the space parameters");
        return -1;
    }

    rc |= msgpack_pack_map(&pk, CKPT_N_KEYS);
    rc |= pack_cstr(&pk, "kind") | pack_cstr(&pk, CKPT_KIND);
    rc |= pack_cstr(&pk, "version") | msgpack_pack_int(&pk, CKPT_VERSION);
    rc |= pack_cstr(&pk, "space") | pack_cstr(&pk, c->space->name);
    rc |= pack_cstr(&pk, "cfg") | msgpack_pack_object(&pk, *cfg);

    rc |= pack_cstr(&pk, "train") | msgpack_pack_map(&pk, 8);
    rc |= pack_cstr(&pk, "fraction") | msgpack_pack_double(&pk, c->fraction);
    rc |= pack_cstr(&pk, "epochs") | msgpack_pack_int(&pk, c->epochs);
    rc |= pack_cstr(&pk, "batch") | msgpack_pack_int(&pk, c->batch);
    rc |= pack_cstr(&pk, "lr") | msgpack_pack_double(&pk, c->lr);
    rc |= pack_cstr(&pk, "momentum") | msgpack_pack_double(&pk, c->momentum);
    rc |= pack_cstr(&pk, "weight_decay") | msgpack_pack_double(&pk, c->weight_decay);
    rc |= pack_cstr(&pk, "seed") | msgpack_pack_uint64(&pk, c->seed);
    rc |= pack_cstr(&pk, "threads") | msgpack_pack_int(&pk, c->threads);

    /* No data was read for an untrained supernet: nil rather than an empty string. */
    rc |= pack_cstr(&pk, "data") | msgpack_pack_map(&pk, 5);
    rc |= pack_cstr(&pk, "dir");
    rc |= c->data_dir[0] ? pack_cstr(&pk, c->data_dir) : msgpack_pack_nil(&pk);
    rc |= pack_cstr(&pk, "fingerprint");
    rc |= c->data_fingerprint[0] ? pack_cstr(&pk, c->data_fingerprint) : msgpack_pack_nil(&pk);
    rc |= pack_cstr(&pk, "options");
    rc |= c->data_dir[0] ? pack_cstr(&pk, c->data_options) : msgpack_pack_nil(&pk);
    int n_norm = c->n_norm < 0 ? 0 : c->n_norm > 64 ? 64 : c->n_norm;
    rc |= pack_cstr(&pk, "mean") | msgpack_pack_array(&pk, (size_t)n_norm);
    for (int i = 0; i < n_norm; i++) rc |= msgpack_pack_float(&pk, c->norm_mean[i]);
    rc |= pack_cstr(&pk, "std") | msgpack_pack_array(&pk, (size_t)n_norm);
    for (int i = 0; i < n_norm; i++) rc |= msgpack_pack_float(&pk, c->norm_std[i]);

    rc |= pack_cstr(&pk, "steps") | msgpack_pack_int64(&pk, c->steps);
    int n_curve = c->n_curve < 0 ? 0 : c->n_curve > CKPT_MAX_CURVE ? CKPT_MAX_CURVE : c->n_curve;
    rc |= pack_cstr(&pk, "loss_curve") | msgpack_pack_array(&pk, (size_t)n_curve);
    for (int i = 0; i < n_curve; i++) rc |= msgpack_pack_float(&pk, c->curve[i]);
    rc |= pack_cstr(&pk, "lambda") | msgpack_pack_array(&pk, 4);
    for (int i = 0; i < 4; i++) rc |= msgpack_pack_double(&pk, c->lambda[i]);
    rc |= pack_cstr(&pk, "lambda_fraction") | msgpack_pack_double(&pk, c->lambda_fraction);

    rc |= pack_cstr(&pk, "tensors") | msgpack_pack_map(&pk, (size_t)(P->n + P->n_state));
    for (int i = 0; i < P->n; i++) rc |= pack_view(&pk, &P->v[i], P->w, 0, tmp);
    for (int i = 0; i < P->n_state; i++) rc |= pack_view(&pk, &P->sv[i], P->s, 1, tmp);
    free(tmp);
    rec_edit_end(&e);
    if (rc != 0) {
        snprintf(err, n_err, "out of memory while encoding");
        return -1;
    }

    /* Hash the map as it stands (CKPT_N_KEYS entries), then make it one entry longer. */
    uint8_t d[32];
    sha256_t s;
    sha256_init(&s);
    sha256_update(&s, sb->data, sb->size);
    sha256_final(&s, d);
    sha256_hex(d, c->hash);
    sb->data[0] = (char)(0x80 | (CKPT_N_KEYS + 1));
    rc = pack_cstr(&pk, "hash") | pack_cstr(&pk, c->hash);
    if (rc != 0 || sb->size < CKPT_HASH_TAIL) {
        snprintf(err, n_err, "out of memory while encoding");
        return -1;
    }
    return 0;
}

int ckpt_save(const char *path, ckpt_t *c, char *err, size_t n_err)
{
    char msg[256];
    if (!c->space || !c->P.frozen) {
        snprintf(err, n_err, "%s: nothing to write (no space or unallocated parameters)", path);
        return -1;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (ckpt_pack(&sb, c, msg, sizeof msg) != 0) {
        msgpack_sbuffer_destroy(&sb);
        snprintf(err, n_err, "%s: %s", path, msg);
        return -1;
    }

    int rc = io_save(path, sb.data, sb.size, err, n_err);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* ---------------------------------------------------------------- reading */

/* String or nil (empty) into buf of n bytes. */
static int obj_str(const msgpack_object *o, char *buf, size_t n)
{
    if (o && o->type == MSGPACK_OBJECT_NIL) {
        buf[0] = 0;
        return 0;
    }
    return o && rec_get_str(o, NULL, buf, n) == REC_OK ? 0 : -1;
}

static int read_file(const char *path, unsigned char **out, size_t *n_out, char *err,
                     size_t n_err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, n_err, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, n_err, "not a regular file");
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > CKPT_MAX_BYTES) {
        snprintf(err, n_err, "%lld bytes is more than a checkpoint may hold (%zu)",
                 (long long)st.st_size, CKPT_MAX_BYTES);
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size, got = 0;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        snprintf(err, n_err, "out of memory for %zu bytes", n);
        close(fd);
        return -1;
    }
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            snprintf(err, n_err, "read failed: %s", k < 0 ? strerror(errno) : "file shrank");
            free(buf);
            close(fd);
            return -1;
        }
        got += (size_t)k;
    }
    close(fd);
    *out = buf;
    *n_out = n;
    return 0;
}

static void shape_str(char *buf, size_t n, int n_dim, const int *shape)
{
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < n_dim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? ",%d" : "%d", shape[d]);
    if (k < n) snprintf(buf + k, n - k, ")");
}

/* Check one "tensors" entry against the declared view and copy its data in. */
static int load_tensor(params_t *P, const msgpack_object_kv *kv, unsigned char *seen_w,
                       unsigned char *seen_s, char *err, size_t n_err)
{
    char name[96];
    if (obj_str(&kv->key, name, sizeof name) != 0 || !name[0]) {
        snprintf(err, n_err, "a tensor name is not a string of 1 to 95 bytes");
        return -1;
    }
    const msgpack_object *t = &kv->val;
    const msgpack_object *shape = rec_lookup(t, "shape"), *dtype = rec_lookup(t, "dtype");
    const msgpack_object *data = rec_lookup(t, "data"), *st = rec_lookup(t, "state");
    if (!shape || shape->type != MSGPACK_OBJECT_ARRAY || !dtype || !data ||
        data->type != MSGPACK_OBJECT_BIN || (st && st->type != MSGPACK_OBJECT_BOOLEAN)) {
        snprintf(err, n_err, "tensor '%s': needs shape (array), dtype, data (bin), state (bool)",
                 name);
        return -1;
    }
    if (!rec_str_eq(dtype, "f32le")) {
        snprintf(err, n_err, "tensor '%s': dtype is not \"f32le\"", name);
        return -1;
    }
    int state = st && st->via.boolean;
    int id = params_find(P, name, state);
    if (id < 0) {
        snprintf(err, n_err,
                 "unexpected %stensor '%s' (the supernet for the stored cfg has no such %s)",
                 state ? "state " : "", name, state ? "state buffer" : "parameter");
        return -1;
    }
    const pview_t *v = state ? &P->sv[id] : &P->v[id];
    unsigned char *seen = state ? seen_s : seen_w;
    if (seen[id]) {
        snprintf(err, n_err, "tensor '%s' appears twice", name);
        return -1;
    }
    seen[id] = 1;
    int ok = shape->via.array.size == (uint32_t)v->n_dim;
    for (uint32_t d = 0; d < shape->via.array.size && d < 4; d++) {
        const msgpack_object *x = &shape->via.array.ptr[d];
        int pos = x->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
        ok = ok && pos && x->via.u64 == (uint64_t)v->shape[d];
    }
    if (!ok) {
        char a[96], b[64];
        uint32_t nd = shape->via.array.size;
        size_t k = (size_t)snprintf(a, sizeof a, "(");
        for (uint32_t d = 0; d < nd && d < 4 && k < sizeof a; d++) { /* as written: 3.5, -2, "x" */
            const msgpack_object *x = &shape->via.array.ptr[d];
            double v;
            if (rec_get_num(x, NULL, &v) == REC_OK)
                k += (size_t)snprintf(a + k, sizeof a - k, d ? ",%.10g" : "%.10g", v);
            else
                k += (size_t)snprintf(a + k, sizeof a - k, d ? ",?" : "?");
        }
        if (k < sizeof a) snprintf(a + k, sizeof a - k, ")");
        shape_str(b, sizeof b, v->n_dim, v->shape);
        snprintf(err, n_err, "tensor '%s': shape %s%s in the file, %s expected for the stored cfg",
                 name, a, nd > 4 ? "..." : "", b);
        return -1;
    }
    if (data->via.bin.size != v->n * 4) {
        snprintf(err, n_err, "tensor '%s': %u data bytes, %zu expected", name,
                 data->via.bin.size, v->n * 4);
        return -1;
    }
    floats_from_le((state ? P->s : P->w) + v->off, (const unsigned char *)data->via.bin.ptr,
                   v->n);
    return 0;
}

/* Everything after the file is in memory and parsed; err without the path prefix. */
static int ckpt_decode(const unsigned char *buf, size_t n, const msgpack_object *root, ckpt_t *c,
                       char *err, size_t n_err)
{
    if (root->type != MSGPACK_OBJECT_MAP) {
        snprintf(err, n_err, "not a checkpoint (not a msgpack map)");
        return -1;
    }
    const msgpack_object *kind = rec_lookup(root, "kind");
    if (!kind || !rec_str_eq(kind, CKPT_KIND)) {
        snprintf(err, n_err, "not a supernet checkpoint (kind is not \"%s\")", CKPT_KIND);
        return -1;
    }
    double ver;
    if (rec_get_num(root, "version", &ver) != 0 || ver != CKPT_VERSION) {
        snprintf(err, n_err, "unsupported checkpoint version (this build reads version %d)",
                 CKPT_VERSION);
        return -1;
    }

    /* Hash: the last entry must be "hash" as fixstr + str8, occupying the last 71 bytes. */
    uint32_t n_keys = root->via.map.size;
    const msgpack_object_kv *last = n_keys ? &root->via.map.ptr[n_keys - 1] : NULL;
    const unsigned char *tail = n > CKPT_HASH_TAIL ? buf + n - CKPT_HASH_TAIL : buf;
    if (!last || !rec_str_eq(&last->key, "hash") || last->val.type != MSGPACK_OBJECT_STR ||
        n_keys < 2 || n_keys > 15 || buf[0] != (0x80 | n_keys) || n <= CKPT_HASH_TAIL ||
        memcmp(tail, "\xa4hash\xd9\x40", 7) != 0) {
        snprintf(err, n_err, "no content hash as the last key (damaged or not written by sigeo)");
        return -1;
    }
    sha256_t s;
    uint8_t d[32];
    unsigned char head = (unsigned char)(0x80 | (n_keys - 1));
    char hex[65];
    sha256_init(&s);
    sha256_update(&s, &head, 1);
    sha256_update(&s, buf + 1, n - 1 - CKPT_HASH_TAIL);
    sha256_final(&s, d);
    sha256_hex(d, hex);
    if (memcmp(hex, tail + 7, 64) != 0) {
        snprintf(err, n_err, "content hash mismatch (file damaged): stored %.64s, computed %s",
                 (const char *)tail + 7, hex);
        return -1;
    }
    memcpy(c->hash, hex, 65);

    char name[64];
    if (obj_str(rec_lookup(root, "space"), name, sizeof name) != 0 ||
        !(c->space = space_find(name))) {
        snprintf(err, n_err, "unknown or missing space");
        return -1;
    }
    c->space->cfg_default(&c->cfg);
    char msg[256];
    if (c->space->cfg_read(&c->cfg, root, msg, sizeof msg) != 0) {
        snprintf(err, n_err, "cfg: %s", msg);
        return -1;
    }

    const msgpack_object *tr = rec_lookup(root, "train"), *da = rec_lookup(root, "data");
    double epochs, batch, steps, v;
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
    c->epochs = (int)epochs;
    c->batch = (int)batch;
    if (!da || obj_str(rec_lookup(da, "dir"), c->data_dir, sizeof c->data_dir) ||
        obj_str(rec_lookup(da, "fingerprint"), c->data_fingerprint, sizeof c->data_fingerprint)) {
        snprintf(err, n_err, "data: needs dir and fingerprint (strings or nil)");
        return -1;
    }
    /* options and normalization: absent in checkpoints written before they were kept */
    const msgpack_object *op = rec_lookup(da, "options"), *me = rec_lookup(da, "mean"),
                         *sd = rec_lookup(da, "std");
    c->data_options[0] = 0;
    c->n_norm = 0;
    if (op && obj_str(op, c->data_options, sizeof c->data_options)) {
        snprintf(err, n_err, "data: options is not a string");
        return -1;
    }
    if (me || sd) {
        if (!me || !sd || me->type != MSGPACK_OBJECT_ARRAY || sd->type != MSGPACK_OBJECT_ARRAY ||
            me->via.array.size != sd->via.array.size || me->via.array.size > 64) {
            snprintf(err, n_err, "data: mean and std are not two arrays of one size (at most 64)");
            return -1;
        }
        c->n_norm = (int)me->via.array.size;
        for (int i = 0; i < c->n_norm; i++) {
            double m, s;
            if (rec_get_num(&me->via.array.ptr[i], NULL, &m) || rec_get_num(&sd->via.array.ptr[i], NULL, &s) || !(s >= 0)) {
                snprintf(err, n_err, "data: mean/std element %d is not a number (std >= 0)", i);
                return -1;
            }
            c->norm_mean[i] = (float)m, c->norm_std[i] = (float)s;
        }
    }
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

    /* Rebuild the parameter list the space declares for this cfg, then fill it. */
    params_init(&c->P);
    if (c->space->declare_supernet(&c->P, &c->cfg) != 0 || params_alloc(&c->P) != 0) {
        snprintf(err, n_err, "cannot build the %s supernet for the stored cfg", c->space->name);
        return -1;
    }
    const msgpack_object *ts = rec_lookup(root, "tensors");
    if (!ts || ts->type != MSGPACK_OBJECT_MAP) {
        snprintf(err, n_err, "tensors: missing or not a map");
        return -1;
    }
    unsigned char *seen_w = calloc((size_t)c->P.n + 1, 1);
    unsigned char *seen_s = calloc((size_t)c->P.n_state + 1, 1);
    int rc = seen_w && seen_s ? 0 : -1;
    if (rc) snprintf(err, n_err, "out of memory");
    for (uint32_t i = 0; rc == 0 && i < ts->via.map.size; i++)
        rc = load_tensor(&c->P, &ts->via.map.ptr[i], seen_w, seen_s, err, n_err);
    for (int i = 0; rc == 0 && i < c->P.n; i++)
        if (!seen_w[i]) {
            snprintf(err, n_err, "missing tensor '%s'", c->P.v[i].name);
            rc = -1;
        }
    for (int i = 0; rc == 0 && i < c->P.n_state; i++)
        if (!seen_s[i]) {
            snprintf(err, n_err, "missing state tensor '%s'", c->P.sv[i].name);
            rc = -1;
        }
    free(seen_w);
    free(seen_s);
    return rc;
}

/* The file must be exactly one msgpack object whose declared lengths fit in it, checked
 * before msgpack-c allocates anything for them. 0, or -1 with err. */
static int check_bytes(const unsigned char *buf, size_t n, char *err, size_t n_err)
{
    mpw_t w;
    char m[160];
    mpw_init(&w);
    int s = mpw_scan(&w, buf, n, n, "the file size", m, sizeof m);
    if (s == 0) snprintf(err, n_err, "truncated (file ends inside the map, %zu bytes)", n);
    else if (s < 0) snprintf(err, n_err, "truncated or malformed: %s", m);
    else if (w.pos != n) snprintf(err, n_err, "malformed (%zu bytes after the checkpoint map)", n - w.pos);
    return s == 1 && w.pos == n ? 0 : -1;
}

int ckpt_load(const char *path, ckpt_t *c, char *err, size_t n_err)
{
    char msg[512];
    unsigned char *buf = NULL;
    size_t n = 0;
    memset(c, 0, sizeof *c);
    params_init(&c->P);
    if (read_file(path, &buf, &n, msg, sizeof msg) != 0) {
        snprintf(err, n_err, "%s: %s", path, msg);
        return -1;
    }
    int rc = -1;
    if (n == 0) {
        snprintf(msg, sizeof msg, "empty file");
    } else if (check_bytes(buf, n, msg, sizeof msg) == 0) {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (msgpack_unpack_next(&up, (const char *)buf, n, &off) != MSGPACK_UNPACK_SUCCESS ||
            off != n)
            snprintf(msg, sizeof msg, "malformed msgpack");
        else if (mpw_check_keys(&up.data, msg, sizeof msg) == 0)
            rc = ckpt_decode(buf, n, &up.data, c, msg, sizeof msg);
        msgpack_unpacked_destroy(&up);
    }
    free(buf);
    if (rc != 0) {
        params_free(&c->P);
        params_init(&c->P);
        snprintf(err, n_err, "%s: %s", path, msg);
    }
    return rc;
}

void ckpt_free(ckpt_t *c)
{
    params_free(&c->P);
    params_init(&c->P);
}
