/* container.c — the verified msgpack container of checkpoints and model files
 * (container.h). */
#include "io/container.h"

#include "base/util.h"
#include "io/file.h"
#include "io/mpwalk.h"
#include "io/rec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "hash" as fixstr (5 bytes) + 64 hex chars as str8 (2 + 64 bytes). */
#define CTR_HASH_TAIL 71

static int host_is_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* n floats to little-endian bytes; byte swaps on BE hosts. */
static void floats_to_le(unsigned char *dst, const float *src, size_t n) {
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

void ctr_tensor_floats(const ctr_tensor_t *t, float *x, size_t n) {
    if (host_is_le()) {
        memcpy(x, t->data, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = 0;
        for (int k = 0; k < 4; k++) u |= (uint32_t)t->data[4 * i + k] << (8 * k);
        memcpy(&x[i], &u, 4);
    }
}

/* ---------------------------------------------------------------- writing */

int ctr_pack_cstr(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) | msgpack_pack_str_body(pk, s, n);
}

int ctr_writer_init(ctr_writer_t *w, const char *kind, int version, int n_keys) {
    memset(w, 0, sizeof *w);
    msgpack_sbuffer_init(&w->sb);
    msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
    if (n_keys < 0 || n_keys > CTR_MAX_KEYS) return -1;
    w->n_keys = n_keys + 3; /* kind, version, tensors */
    w->bad |= msgpack_pack_map(&w->pk, (size_t)w->n_keys);
    w->bad |= ctr_pack_cstr(&w->pk, "kind") | ctr_pack_cstr(&w->pk, kind);
    w->bad |= ctr_pack_cstr(&w->pk, "version") | msgpack_pack_int(&w->pk, version);
    return 0;
}

void ctr_writer_free(ctr_writer_t *w) {
    msgpack_sbuffer_destroy(&w->sb);
    free(w->tmp);
    w->tmp = NULL;
}

void ctr_tensors(ctr_writer_t *w, size_t n) {
    w->bad |= ctr_pack_cstr(&w->pk, "tensors") | msgpack_pack_map(&w->pk, n);
}

size_t ctr_tensor_bound(const char *name, int n_dim, size_t n) {
    /* name (str8), map, "shape" and uint32s, dtype, state, "data" and a bin32 header */
    return 2 + strlen(name) + 1 + 6 + 1 + 5 * (size_t)n_dim + 12 + 7 + 5 + 5 + 4 * n;
}

void ctr_tensor(ctr_writer_t *w, const char *name, int n_dim, const int *shape, const float *x,
                size_t n, int state) {
    msgpack_packer *pk = &w->pk;
    if (w->too_big || (w->max_bytes && w->sb.size + 4 * n > w->max_bytes)) {
        w->too_big = 1; /* never pack gigabytes only to refuse them */
        return;
    }
    if (n * 4 > w->n_tmp) {
        unsigned char *t = realloc(w->tmp, n * 4);
        if (!t) {
            w->bad = 1;
            return;
        }
        w->tmp = t, w->n_tmp = n * 4;
    }
    int rc = ctr_pack_cstr(pk, name);
    rc |= msgpack_pack_map(pk, 4);
    rc |= ctr_pack_cstr(pk, "shape");
    rc |= msgpack_pack_array(pk, (size_t)n_dim);
    for (int d = 0; d < n_dim; d++) rc |= msgpack_pack_int(pk, shape[d]);
    rc |= ctr_pack_cstr(pk, "dtype") | ctr_pack_cstr(pk, "f32le");
    rc |= ctr_pack_cstr(pk, "state");
    rc |= state ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rc |= ctr_pack_cstr(pk, "data");
    floats_to_le(w->tmp, x, n);
    rc |= msgpack_pack_bin(pk, n * 4) | msgpack_pack_bin_body(pk, w->tmp, n * 4);
    w->bad |= rc;
}

int ctr_save(ctr_writer_t *w, const char *path, char hash[65], char *err, size_t n_err) {
    if (w->too_big || (w->max_bytes && w->sb.size + 71 > w->max_bytes)) {
        snprintf(err, n_err, "%s: not written: more than the %zu bytes a file of this kind may "
                 "hold (every tool that loads one refuses larger files)", path, w->max_bytes);
        return -1;
    }
    if (w->bad || w->sb.size == 0) {
        snprintf(err, n_err, "%s: out of memory while encoding", path);
        return -1;
    }
    /* Hash the map as it stands, then make it one entry longer. */
    uint8_t d[32];
    sha256_t s;
    sha256_init(&s);
    sha256_update(&s, w->sb.data, w->sb.size);
    sha256_final(&s, d);
    sha256_hex(d, hash);
    w->sb.data[0] = (char)(0x80 | (w->n_keys + 1));
    if ((ctr_pack_cstr(&w->pk, "hash") | ctr_pack_cstr(&w->pk, hash)) != 0) {
        snprintf(err, n_err, "%s: out of memory while encoding", path);
        return -1;
    }
    return io_save(path, w->sb.data, w->sb.size, err, n_err);
}

/* ---------------------------------------------------------------- reading */

static int read_all(const char *path, size_t max_bytes, unsigned char **out, size_t *n_out,
                    char *err, size_t n_err) {
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
    if ((uint64_t)st.st_size > max_bytes) {
        snprintf(err, n_err, "%lld bytes is more than the file may hold (%zu)",
                 (long long)st.st_size, max_bytes);
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

/* The file must be exactly one msgpack object whose declared lengths fit in it, checked
 * before msgpack-c allocates anything for them. 0, or -1 with err. */
static int check_bytes(const unsigned char *buf, size_t n, char *err, size_t n_err) {
    mpw_t w;
    char m[160];
    mpw_init(&w);
    int s = mpw_scan(&w, buf, n, n, "the file size", m, sizeof m);
    if (s == 0) snprintf(err, n_err, "truncated (file ends inside the map, %zu bytes)", n);
    else if (s < 0) snprintf(err, n_err, "truncated or malformed: %s", m);
    else if (w.pos != n) snprintf(err, n_err, "malformed (%zu bytes after the map)", n - w.pos);
    return s == 1 && w.pos == n ? 0 : -1;
}

/* The last entry must be "hash" as fixstr + str8 in the last 71 bytes, and match. */
static int check_hash(ctr_t *c, char *err, size_t n_err) {
    const unsigned char *buf = c->buf;
    size_t n = c->n;
    uint32_t n_keys = c->root->via.map.size;
    const msgpack_object_kv *last = n_keys ? &c->root->via.map.ptr[n_keys - 1] : NULL;
    const unsigned char *tail = n > CTR_HASH_TAIL ? buf + n - CTR_HASH_TAIL : buf;
    if (!last || !rec_str_eq(&last->key, "hash") || last->val.type != MSGPACK_OBJECT_STR ||
        n_keys < 2 || n_keys > 15 || buf[0] != (0x80 | n_keys) || n <= CTR_HASH_TAIL ||
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
    sha256_update(&s, buf + 1, n - 1 - CTR_HASH_TAIL);
    sha256_final(&s, d);
    sha256_hex(d, hex);
    if (memcmp(hex, tail + 7, 64) != 0) {
        snprintf(err, n_err, "content hash mismatch (file damaged): stored %.64s, computed %s",
                 (const char *)tail + 7, hex);
        return -1;
    }
    memcpy(c->hash, hex, 65);
    return 0;
}

/* Kind, version, hash and the tensors map of the parsed file; err without the path. */
static int check_root(ctr_t *c, const char *kind, const char *what, int version, char *err,
                      size_t n_err) {
    const msgpack_object *root = c->root;
    if (root->type != MSGPACK_OBJECT_MAP) {
        snprintf(err, n_err, "not a %s (not a msgpack map)", what);
        return -1;
    }
    const msgpack_object *k = rec_lookup(root, "kind");
    if (!k || !rec_str_eq(k, kind)) {
        char got[32];
        if (k && rec_get_str(k, NULL, got, sizeof got) == REC_OK)
            snprintf(err, n_err, "not a %s (kind is \"%s\", not \"%s\")", what, got, kind);
        else
            snprintf(err, n_err, "not a %s (kind is not \"%s\")", what, kind);
        return -1;
    }
    double ver;
    if (rec_get_num(root, "version", &ver) != 0 || ver != version) {
        snprintf(err, n_err, "unsupported %s version (this build reads version %d)", what,
                 version);
        return -1;
    }
    if (check_hash(c, err, n_err)) return -1;
    c->tensors = rec_lookup(root, "tensors");
    if (!c->tensors || c->tensors->type != MSGPACK_OBJECT_MAP) {
        snprintf(err, n_err, "tensors: missing or not a map");
        return -1;
    }
    return 0;
}

int ctr_load(ctr_t *c, const char *path, const char *kind, const char *what, int version,
             size_t max_bytes, char *err, size_t n_err) {
    char msg[512];
    memset(c, 0, sizeof *c);
    msgpack_unpacked_init(&c->up);
    if (read_all(path, max_bytes, &c->buf, &c->n, msg, sizeof msg) != 0) {
        snprintf(err, n_err, "%s: %s", path, msg);
        return -1;
    }
    int rc = -1;
    size_t off = 0;
    if (c->n == 0)
        snprintf(msg, sizeof msg, "empty file");
    else if (check_bytes(c->buf, c->n, msg, sizeof msg) != 0)
        ;
    else if (msgpack_unpack_next(&c->up, (const char *)c->buf, c->n, &off) !=
                 MSGPACK_UNPACK_SUCCESS || off != c->n)
        snprintf(msg, sizeof msg, "malformed msgpack");
    else if (mpw_check_keys(&c->up.data, msg, sizeof msg) == 0 &&
             (c->root = &c->up.data, check_root(c, kind, what, version, msg, sizeof msg) == 0))
        rc = 0;
    if (rc) snprintf(err, n_err, "%s: %s", path, msg);
    return rc;
}

void ctr_free(ctr_t *c) {
    msgpack_unpacked_destroy(&c->up);
    free(c->buf);
    memset(c, 0, sizeof *c);
    msgpack_unpacked_init(&c->up);
}

uint32_t ctr_n_tensors(const ctr_t *c) {
    return c->tensors ? c->tensors->via.map.size : 0;
}

int ctr_tensor_at(const ctr_t *c, uint32_t i, ctr_tensor_t *t, char *err, size_t n_err) {
    const msgpack_object_kv *kv = &c->tensors->via.map.ptr[i];
    memset(t, 0, sizeof *t);
    if (rec_get_str(&kv->key, NULL, t->name, sizeof t->name) != REC_OK || !t->name[0]) {
        snprintf(err, n_err, "a tensor name is not a string of 1 to %d bytes", CTR_MAX_NAME - 1);
        return -1;
    }
    const msgpack_object *o = &kv->val;
    const msgpack_object *shape = rec_lookup(o, "shape"), *dtype = rec_lookup(o, "dtype");
    const msgpack_object *data = rec_lookup(o, "data"), *st = rec_lookup(o, "state");
    if (!shape || shape->type != MSGPACK_OBJECT_ARRAY || !dtype || !data ||
        data->type != MSGPACK_OBJECT_BIN || (st && st->type != MSGPACK_OBJECT_BOOLEAN)) {
        snprintf(err, n_err, "tensor '%s': needs shape (array), dtype, data (bin), state (bool)",
                 t->name);
        return -1;
    }
    if (!rec_str_eq(dtype, "f32le")) {
        snprintf(err, n_err, "tensor '%s': dtype is not \"f32le\"", t->name);
        return -1;
    }
    t->state = st && st->via.boolean;
    t->shape_obj = shape;
    t->n_dim = (int)(shape->via.array.size > 64 ? 64 : shape->via.array.size);
    t->shape_ok = shape->via.array.size <= CTR_MAX_DIM;
    for (uint32_t d = 0; t->shape_ok && d < shape->via.array.size; d++) {
        const msgpack_object *x = &shape->via.array.ptr[d];
        t->shape_ok = x->type == MSGPACK_OBJECT_POSITIVE_INTEGER && x->via.u64 < (1u << 31);
        if (t->shape_ok) t->shape[d] = (int)x->via.u64;
    }
    t->data = (const unsigned char *)data->via.bin.ptr;
    t->n_bytes = data->via.bin.size;
    return 0;
}

void ctr_shape_text(const ctr_tensor_t *t, char *buf, size_t n) {
    const msgpack_object *s = t->shape_obj;
    uint32_t nd = s ? s->via.array.size : 0;
    size_t k = (size_t)snprintf(buf, n, "(");
    for (uint32_t d = 0; d < nd && d < CTR_MAX_DIM && k < n; d++) { /* as written: 3.5, -2, "x" */
        double v;
        if (rec_get_num(&s->via.array.ptr[d], NULL, &v) == REC_OK)
            k += (size_t)snprintf(buf + k, n - k, d ? ",%.10g" : "%.10g", v);
        else
            k += (size_t)snprintf(buf + k, n - k, d ? ",?" : "?");
    }
    if (k < n) snprintf(buf + k, n - k, ")%s", nd > CTR_MAX_DIM ? "..." : "");
}
