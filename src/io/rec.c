/* rec.c — msgpack record streams (see rec.h).
 *
 * Reading: msgpack-c's unpacker owns the buffer, but before msgpack_unpacker_next()
 * sees any bytes, the structural walker (mpwalk.h) checks every declared length against
 * the record cap and tells whether a whole record is buffered, so the unpacker only ever
 * parses complete records. */
#include "io/rec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "io/file.h"
#include "io/mpwalk.h"

#define REC_READ_CHUNK (64u << 10)

struct rec_reader {
    int fd;
    char name[64];
    size_t max;
    msgpack_unpacker u;
    msgpack_unpacked res;
    long count;      /* records returned so far */
    int eof, failed;
    rec_policy_t *pol; /* reports records with duplicate keys; NULL: they stop the stream */
    mpw_t w;         /* walker state for the record starting at u.buffer + u.off */
    char err[192];
};

rec_reader_t *rec_reader_new(int fd, const char *name, size_t max_bytes) {
    rec_reader_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    if (!msgpack_unpacker_init(&r->u, REC_READ_CHUNK)) {
        free(r);
        return NULL;
    }
    msgpack_unpacked_init(&r->res);
    r->fd = fd;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "input");
    r->max = max_bytes ? max_bytes : REC_MAX_DEFAULT;
    mpw_init(&r->w);
    return r;
}

void rec_reader_free(rec_reader_t *r) {
    if (!r) return;
    msgpack_unpacked_destroy(&r->res);
    msgpack_unpacker_destroy(&r->u);
    free(r);
}

const char *rec_reader_error(const rec_reader_t *r) { return r->err; }

void rec_reader_policy(rec_reader_t *r, rec_policy_t *p) {
    if (r) r->pol = p;
}

int rec_filter_open(rec_policy_t *p, rec_reader_t **rd, rec_writer_t **wr) {
    *rd = rec_reader_new(STDIN_FILENO, "stdin", 0);
    *wr = rec_writer_new(STDOUT_FILENO);
    if (*rd && *wr) return rec_reader_policy(*rd, p), 0;
    util_err("out of memory");
    rec_reader_free(*rd), rec_writer_free(*wr);
    *rd = NULL, *wr = NULL;
    return -1;
}

long rec_reader_count(const rec_reader_t *r) { return r->failed ? r->count + 1 : r->count; }

static int fail(rec_reader_t *r, const char *what) {
    snprintf(r->err, sizeof r->err, "%s", what);
    r->failed = 1;
    return -1;
}

/* Walks the buffered bytes of the current record (mpwalk.h). 1 when it is complete, 0
 * when more bytes are needed, -1 on malformed or oversized input. */
static int scan(rec_reader_t *r) {
    char m[160];
    int s = mpw_scan(&r->w, (const unsigned char *)r->u.buffer + r->u.off, r->u.used - r->u.off,
                     r->max, "the record size limit", m, sizeof m);
    return s < 0 ? fail(r, m) : s;
}

int rec_read(rec_reader_t *r, msgpack_object *out) {
    if (r->failed) return -1;
    for (;;) {
        int s = scan(r);
        if (s < 0) return -1;
        if (s > 0) {
            size_t before = r->u.off;
            int ret = msgpack_unpacker_next(&r->u, &r->res);
            if (ret != MSGPACK_UNPACK_SUCCESS || r->u.off - before != r->w.pos)
                return fail(r, "malformed msgpack (nested too deeply or invalid)");
            mpw_init(&r->w);
            char m[160];
            if (mpw_check_keys(&r->res.data, m, sizeof m) != 0) {
                /* A whole record with a bad map: the stream itself is intact. */
                if (r->pol && rec_policy_bad(r->pol, r->count + 1, "%s", m)) {
                    r->count++;
                    continue;
                }
                return fail(r, r->pol ? "" : m); /* with a policy it is reported already */
            }
            r->count++;
            *out = r->res.data;
            return 1;
        }
        if (r->eof) {
            if (r->u.used == r->u.off) return 0;
            return fail(r, "truncated record");
        }
        if (!msgpack_unpacker_reserve_buffer(&r->u, REC_READ_CHUNK)) return fail(r, "out of memory");
        ssize_t n = read(r->fd, msgpack_unpacker_buffer(&r->u), msgpack_unpacker_buffer_capacity(&r->u));
        if (n < 0) {
            if (errno == EINTR) continue;
            char m[160];
            snprintf(m, sizeof m, "reading %s: %s", r->name, strerror(errno));
            return fail(r, m);
        }
        if (n == 0) r->eof = 1;
        else msgpack_unpacker_buffer_consumed(&r->u, (size_t)n);
    }
}

/* ---- editing ---- */

int rec_edit_begin(rec_t *e, const msgpack_object *obj) {
    e->root = *obj;
    e->zone = msgpack_zone_new(4096);
    return e->zone ? 0 : -1;
}

void rec_edit_end(rec_t *e) {
    if (e->zone) msgpack_zone_free(e->zone);
    e->zone = NULL;
}

int rec_new(rec_t *e) {
    msgpack_object m;
    memset(&m, 0, sizeof m);
    m.type = MSGPACK_OBJECT_MAP;
    return rec_edit_begin(e, &m);
}

static int key_eq(const msgpack_object *k, const char *s, size_t n) {
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, s, n) == 0;
}

static long find_key(const msgpack_object *map, const char *k, size_t n) {
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (key_eq(&map->via.map.ptr[i].key, k, n)) return (long)i;
    return -1;
}

static int copy_obj(msgpack_zone *z, msgpack_object *dst, const msgpack_object *src);

static int copy_bytes(msgpack_zone *z, const char **dst, const char *src, uint32_t n) {
    if (n == 0) {
        *dst = NULL;
        return 0;
    }
    char *p = msgpack_zone_malloc(z, n);
    if (!p) return -1;
    memcpy(p, src, n);
    *dst = p;
    return 0;
}

static int copy_obj(msgpack_zone *z, msgpack_object *dst, const msgpack_object *src) {
    *dst = *src;
    switch (src->type) {
    case MSGPACK_OBJECT_STR:
        return copy_bytes(z, &dst->via.str.ptr, src->via.str.ptr, src->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return copy_bytes(z, &dst->via.bin.ptr, src->via.bin.ptr, src->via.bin.size);
    case MSGPACK_OBJECT_EXT:
        return copy_bytes(z, &dst->via.ext.ptr, src->via.ext.ptr, src->via.ext.size);
    case MSGPACK_OBJECT_ARRAY: {
        uint32_t n = src->via.array.size;
        if (n == 0) {
            dst->via.array.ptr = NULL;
            return 0;
        }
        msgpack_object *a = msgpack_zone_malloc(z, n * sizeof *a);
        if (!a) return -1;
        for (uint32_t i = 0; i < n; i++)
            if (copy_obj(z, &a[i], &src->via.array.ptr[i])) return -1;
        dst->via.array.ptr = a;
        return 0;
    }
    case MSGPACK_OBJECT_MAP: {
        uint32_t n = src->via.map.size;
        if (n == 0) {
            dst->via.map.ptr = NULL;
            return 0;
        }
        msgpack_object_kv *kv = msgpack_zone_malloc(z, n * sizeof *kv);
        if (!kv) return -1;
        for (uint32_t i = 0; i < n; i++)
            if (copy_obj(z, &kv[i].key, &src->via.map.ptr[i].key) ||
                copy_obj(z, &kv[i].val, &src->via.map.ptr[i].val))
                return -1;
        dst->via.map.ptr = kv;
        return 0;
    }
    default:
        return 0;
    }
}

/* Copy-on-write update: *out becomes a copy of map with path set to v (or removed when
 * v is NULL). The original map and its arrays (owned by the reader) are never touched. */
static int set_in(msgpack_zone *z, const msgpack_object *map, const char *path,
                  const msgpack_object *v, msgpack_object *out) {
    if (map->type != MSGPACK_OBJECT_MAP) return -1;
    const char *dot = strchr(path, '.');
    size_t kn = dot ? (size_t)(dot - path) : strlen(path);
    long i = find_key(map, path, kn);
    uint32_t n = map->via.map.size;
    if (!v && !dot && i < 0) { /* deleting an absent key */
        *out = *map;
        return 0;
    }
    msgpack_object child;
    if (dot) {
        if (i < 0) {
            if (!v) {
                *out = *map;
                return 0;
            }
            memset(&child, 0, sizeof child);
            child.type = MSGPACK_OBJECT_MAP;
        } else {
            child = map->via.map.ptr[i].val;
            if (child.type != MSGPACK_OBJECT_MAP) {
                if (!v) {
                    *out = *map;
                    return 0;
                }
                return -1;
            }
        }
        msgpack_object nc;
        if (set_in(z, &child, dot + 1, v, &nc)) return -1;
        child = nc;
    } else if (v) {
        child = *v;
    }
    uint32_t cap = n + (i < 0 ? 1 : 0);
    msgpack_object_kv *kv = msgpack_zone_malloc(z, (cap ? cap : 1) * sizeof *kv);
    if (!kv) return -1;
    if (n) memcpy(kv, map->via.map.ptr, n * sizeof *kv);
    uint32_t size = n;
    if (!v && !dot) { /* remove entry i */
        memmove(kv + i, kv + i + 1, (n - (uint32_t)i - 1) * sizeof *kv);
        size--;
    } else if (i >= 0) {
        kv[i].val = child;
    } else {
        memset(&kv[n].key, 0, sizeof kv[n].key);
        kv[n].key.type = MSGPACK_OBJECT_STR;
        kv[n].key.via.str.size = (uint32_t)kn;
        if (copy_bytes(z, &kv[n].key.via.str.ptr, path, (uint32_t)kn)) return -1;
        kv[n].val = child;
        size++;
    }
    *out = *map;
    out->via.map.size = size;
    out->via.map.ptr = kv;
    return 0;
}

static int set_obj(rec_t *e, const char *path, const msgpack_object *v) {
    msgpack_object nr;
    if (!path || !*path || set_in(e->zone, &e->root, path, v, &nr)) return -1;
    e->root = nr;
    return 0;
}

int rec_set_f64(rec_t *e, const char *path, double v) {
    msgpack_object o;
    memset(&o, 0, sizeof o);
    o.type = MSGPACK_OBJECT_FLOAT64;
    o.via.f64 = v;
    return set_obj(e, path, &o);
}

int rec_set_i64(rec_t *e, const char *path, int64_t v) {
    msgpack_object o;
    memset(&o, 0, sizeof o);
    if (v >= 0) {
        o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o.via.u64 = (uint64_t)v;
    } else {
        o.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o.via.i64 = v;
    }
    return set_obj(e, path, &o);
}

int rec_set_str(rec_t *e, const char *path, const char *s) {
    msgpack_object o;
    memset(&o, 0, sizeof o);
    o.type = MSGPACK_OBJECT_STR;
    size_t n = strlen(s);
    if (n > UINT32_MAX) return -1;
    o.via.str.size = (uint32_t)n;
    if (copy_bytes(e->zone, &o.via.str.ptr, s, (uint32_t)n)) return -1;
    return set_obj(e, path, &o);
}

int rec_set_bool(rec_t *e, const char *path, int b) {
    msgpack_object o;
    memset(&o, 0, sizeof o);
    o.type = MSGPACK_OBJECT_BOOLEAN;
    o.via.boolean = b != 0;
    return set_obj(e, path, &o);
}

int rec_set_nil(rec_t *e, const char *path) {
    msgpack_object o;
    memset(&o, 0, sizeof o);
    o.type = MSGPACK_OBJECT_NIL;
    return set_obj(e, path, &o);
}

int rec_set_obj(rec_t *e, const char *path, const msgpack_object *v) {
    msgpack_object o;
    if (copy_obj(e->zone, &o, v)) return -1;
    return set_obj(e, path, &o);
}

int rec_del(rec_t *e, const char *path) {
    msgpack_object nr;
    if (!path || !*path) return -1;
    if (e->root.type != MSGPACK_OBJECT_MAP) return 0;
    if (set_in(e->zone, &e->root, path, NULL, &nr)) return -1;
    e->root = nr;
    return 0;
}

/* ---- getters ---- */

const msgpack_object *rec_lookup(const msgpack_object *m, const char *path) {
    const msgpack_object *cur = m;
    while (cur && path) {
        if (cur->type != MSGPACK_OBJECT_MAP) return NULL;
        const char *dot = strchr(path, '.');
        size_t kn = dot ? (size_t)(dot - path) : strlen(path);
        long i = find_key(cur, path, kn);
        if (i < 0) return NULL;
        cur = &cur->via.map.ptr[i].val;
        path = dot ? dot + 1 : NULL;
    }
    return cur;
}

int rec_get_num(const msgpack_object *m, const char *path, double *out) {
    const msgpack_object *o = rec_lookup(m, path);
    if (!o) return REC_MISSING;
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)o->via.u64; return REC_OK;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)o->via.i64; return REC_OK;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = o->via.f64; return REC_OK;
    default: return REC_WRONG_TYPE;
    }
}

int rec_get_int(const msgpack_object *m, const char *path, int64_t *out) {
    const msgpack_object *o = rec_lookup(m, path);
    if (!o) return REC_MISSING;
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) return REC_WRONG_TYPE;
        *out = (int64_t)o->via.u64;
        return REC_OK;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = o->via.i64; return REC_OK;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {
        /* Integral floats (8.0 from a JSON edit) are accepted as integers. */
        double d = o->via.f64;
        if (!(d >= -9.2e18 && d <= 9.2e18) || d != (double)(int64_t)d) return REC_WRONG_TYPE;
        *out = (int64_t)d;
        return REC_OK;
    }
    default: return REC_WRONG_TYPE;
    }
}

int rec_get_str(const msgpack_object *m, const char *path, char *buf, size_t n) {
    const msgpack_object *o = rec_lookup(m, path);
    if (!o) return REC_MISSING;
    if (o->type != MSGPACK_OBJECT_STR || n == 0) return REC_WRONG_TYPE;
    size_t len = o->via.str.size;
    size_t c = len < n - 1 ? len : n - 1;
    memcpy(buf, o->via.str.ptr, c);
    buf[c] = 0;
    if (len > n - 1 || memchr(o->via.str.ptr, 0, len)) return REC_WRONG_TYPE;
    return REC_OK;
}

int rec_str_eq(const msgpack_object *o, const char *s) {
    return o && key_eq(o, s, strlen(s));
}

/* ---- writing ---- */

struct rec_writer {
    int fd;
    msgpack_sbuffer sb;
    msgpack_packer pk;
};

rec_writer_t *rec_writer_new(int fd) {
    rec_writer_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->fd = fd;
    msgpack_sbuffer_init(&w->sb);
    msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
    return w;
}

void rec_writer_free(rec_writer_t *w) {
    if (!w) return;
    msgpack_sbuffer_destroy(&w->sb);
    free(w);
}

int rec_write(rec_writer_t *w, const msgpack_object *obj) {
    msgpack_sbuffer_clear(&w->sb);
    if (msgpack_pack_object(&w->pk, *obj)) {
        errno = ENOMEM;
        return -1;
    }
    if (io_write_all(w->fd, w->sb.data, w->sb.size) != 0) return -1;
    /* Keep memory constant after one unusually large record. */
    if (w->sb.alloc > (1u << 20)) {
        msgpack_sbuffer_destroy(&w->sb);
        msgpack_sbuffer_init(&w->sb);
    }
    return 0;
}

/* ---- bad-record policy ---- */

int rec_policy_bad(rec_policy_t *p, long rec_no, const char *fmt, ...) {
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    util_err("%s (record %ld)%s", m, rec_no, p->keep_going ? ", skipped" : "");
    if (!p->keep_going) return 0;
    p->n_bad++;
    return 1;
}

int rec_policy_stream_error(const rec_policy_t *p, const char *what, long rec_no) {
    if (!*what) return EXIT_BAD_INPUT; /* a bad record, reported by rec_read */
    util_err("%s (record %ld)%s", what, rec_no,
             p->keep_going ? "; a damaged stream cannot be resynchronized, stopping" : "");
    return EXIT_BAD_INPUT;
}

int rec_policy_exit(const rec_policy_t *p, int status) {
    if (p->n_bad) util_msg("%ld bad record%s skipped", p->n_bad, p->n_bad == 1 ? "" : "s");
    if (status == EXIT_OK && p->n_bad && !p->ok_if_bad) return EXIT_BAD_INPUT;
    return status;
}
