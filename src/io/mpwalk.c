/* mpwalk.c — structural walk of msgpack bytes and the duplicate-key check (mpwalk.h). */
#include "io/mpwalk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Maps up to this size are checked pairwise; larger ones are sorted. */
#define MPW_PAIRWISE_MAX 16

void mpw_init(mpw_t *w) {
    w->pos = 0;
    w->pending = 1;
}

static uint64_t be(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* One header at buf[0]: hs header bytes (type byte plus fixed-size payload or length
 * field), lenbytes of a big-endian length field, extra type byte of an ext, and for the
 * fixed forms the payload length *len or child count *items. -1 for 0xc1. */
static int header(unsigned b, size_t *hs, uint64_t *len, uint64_t *items, int *lenbytes,
                  int *container) {
    *hs = 1, *len = 0, *items = 0, *lenbytes = 0, *container = 0;
    int extra = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
    } else if (b <= 0x8f) {
        *items = 2u * (b & 0x0f), *container = 1;
    } else if (b <= 0x9f) {
        *items = b & 0x0f, *container = 1;
    } else if (b <= 0xbf) {
        *len = b & 0x1f;
    } else if (b == 0xc1) {
        return -1;
    } else if (b >= 0xc4 && b <= 0xc6) { /* bin 8/16/32 */
        *lenbytes = 1 << (b - 0xc4);
    } else if (b >= 0xc7 && b <= 0xc9) { /* ext 8/16/32 */
        *lenbytes = 1 << (b - 0xc7), extra = 1;
    } else if (b == 0xca || b == 0xcb) { /* float 32/64 */
        *hs = b == 0xca ? 5 : 9;
    } else if (b >= 0xcc && b <= 0xd3) { /* uint and int 8..64 */
        *hs = 1 + (1u << ((b - 0xcc) & 3));
    } else if (b >= 0xd4 && b <= 0xd8) { /* fixext 1..16 */
        *hs = 2, *len = 1u << (b - 0xd4);
    } else if (b >= 0xd9 && b <= 0xdb) { /* str 8/16/32 */
        *lenbytes = 1 << (b - 0xd9);
    } else if (b == 0xdc || b == 0xdd) { /* array 16/32 */
        *lenbytes = b == 0xdc ? 2 : 4, *container = 1;
    } else { /* map 16/32 */
        *lenbytes = b == 0xde ? 2 : 4, *container = 2;
    }
    if (*lenbytes) *hs = 1 + (size_t)*lenbytes + (size_t)extra;
    return 0;
}

int mpw_scan(mpw_t *w, const unsigned char *buf, size_t avail, size_t max, const char *limit,
             char *err, size_t n_err) {
    while (w->pending > 0) {
        size_t pos = w->pos, hs;
        uint64_t len, items;
        int lenbytes, container;
        if (pos >= avail) return 0;
        unsigned b = buf[pos];
        if (header(b, &hs, &len, &items, &lenbytes, &container) != 0) {
            snprintf(err, n_err, "malformed msgpack (invalid byte 0x%02x at offset %zu)", b, pos);
            return -1;
        }
        if (pos + hs > max) goto too_big;
        if (lenbytes) {
            if (pos + 1 + (size_t)lenbytes > avail) return 0;
            uint64_t n = be(buf + pos + 1, lenbytes);
            if (container) items = n * (uint64_t)container, container = 1;
            else len = n;
        }
        if (container) {
            /* Each pending object needs at least one byte: refuse counts that could never
             * fit in the cap before msgpack-c allocates room for them. */
            uint64_t room = max - (pos + hs);
            if (items > room || w->pending - 1 > room - items) {
                int map = b >= 0xde || (b >= 0x80 && b <= 0x8f);
                snprintf(err, n_err, "declared container of %llu entries exceeds %s (%zu bytes)",
                         (unsigned long long)(map ? items / 2 : items), limit, max);
                return -1;
            }
            if (pos + hs > avail) return 0;
            w->pending += items;
        } else {
            if (len > max - (pos + hs)) {
                snprintf(err, n_err, "declared length %llu exceeds %s (%zu bytes)",
                         (unsigned long long)len, limit, max);
                return -1;
            }
            if (pos + hs + len > avail) return 0;
            hs += (size_t)len;
        }
        w->pos = pos + hs;
        w->pending--;
    }
    return 1;
too_big:
    snprintf(err, n_err, "object larger than %s (%zu bytes)", limit, max);
    return -1;
}

/* ---- encoded size ---- */

/* Header bytes of a str, bin, array or map of n: the fix form (up to fix, 0 for bin),
 * then 8-bit (not for arrays and maps), 16-bit and 32-bit lengths. */
static size_t len_head(uint64_t n, uint64_t fix, int has8) {
    return n <= fix ? 1 : has8 && n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
}

size_t mpw_packed_size(const msgpack_object *o) {
    size_t s = 0;
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: {
        uint64_t u = o->via.u64;
        return u < 0x80 ? 1 : u <= 0xff ? 2 : u <= 0xffff ? 3 : u <= 0xffffffffu ? 5 : 9;
    }
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: {
        int64_t i = o->via.i64;
        return i >= -32 ? 1 : i >= -128 ? 2 : i >= -32768 ? 3 : i >= INT32_MIN ? 5 : 9;
    }
    case MSGPACK_OBJECT_FLOAT32: return 5;
    case MSGPACK_OBJECT_FLOAT64: return 9;
    case MSGPACK_OBJECT_STR: return len_head(o->via.str.size, 31, 1) + o->via.str.size;
    case MSGPACK_OBJECT_BIN: return (o->via.bin.size <= 0xff ? 2 : len_head(o->via.bin.size, 0, 0)) + o->via.bin.size;
    case MSGPACK_OBJECT_EXT: {
        uint32_t n = o->via.ext.size;
        int fix = n == 1 || n == 2 || n == 4 || n == 8 || n == 16;
        return (fix ? 2 : n <= 0xff ? 3 : n <= 0xffff ? 4 : 6) + n;
    }
    case MSGPACK_OBJECT_ARRAY:
        s = len_head(o->via.array.size, 15, 0);
        for (uint32_t i = 0; i < o->via.array.size; i++) s += mpw_packed_size(&o->via.array.ptr[i]);
        return s;
    case MSGPACK_OBJECT_MAP:
        s = len_head(o->via.map.size, 15, 0);
        for (uint32_t i = 0; i < o->via.map.size; i++)
            s += mpw_packed_size(&o->via.map.ptr[i].key) + mpw_packed_size(&o->via.map.ptr[i].val);
        return s;
    default: return 1; /* nil, boolean */
    }
}

/* ---- duplicate keys ---- */

static int cmp_u64(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

static int cmp_bytes(const char *a, uint32_t na, const char *b, uint32_t nb) {
    if (na != nb) return na < nb ? -1 : 1;
    return na ? memcmp(a, b, na) : 0;
}

/* A total order on objects: equal exactly when msgpack would encode them alike up to
 * the width of integer and length fields. */
static int obj_cmp(const msgpack_object *a, const msgpack_object *b) {
    if (a->type != b->type) return a->type < b->type ? -1 : 1;
    switch (a->type) {
    case MSGPACK_OBJECT_BOOLEAN: return cmp_u64(a->via.boolean, b->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return cmp_u64(a->via.u64, b->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return cmp_u64((uint64_t)a->via.i64, (uint64_t)b->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return memcmp(&a->via.f64, &b->via.f64, sizeof(double));
    case MSGPACK_OBJECT_STR:
        return cmp_bytes(a->via.str.ptr, a->via.str.size, b->via.str.ptr, b->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return cmp_bytes(a->via.bin.ptr, a->via.bin.size, b->via.bin.ptr, b->via.bin.size);
    case MSGPACK_OBJECT_EXT:
        if (a->via.ext.type != b->via.ext.type) return a->via.ext.type < b->via.ext.type ? -1 : 1;
        return cmp_bytes(a->via.ext.ptr, a->via.ext.size, b->via.ext.ptr, b->via.ext.size);
    case MSGPACK_OBJECT_ARRAY: {
        if (a->via.array.size != b->via.array.size)
            return cmp_u64(a->via.array.size, b->via.array.size);
        for (uint32_t i = 0; i < a->via.array.size; i++) {
            int c = obj_cmp(&a->via.array.ptr[i], &b->via.array.ptr[i]);
            if (c) return c;
        }
        return 0;
    }
    case MSGPACK_OBJECT_MAP: {
        if (a->via.map.size != b->via.map.size) return cmp_u64(a->via.map.size, b->via.map.size);
        for (uint32_t i = 0; i < a->via.map.size; i++) {
            int c = obj_cmp(&a->via.map.ptr[i].key, &b->via.map.ptr[i].key);
            if (!c) c = obj_cmp(&a->via.map.ptr[i].val, &b->via.map.ptr[i].val);
            if (c) return c;
        }
        return 0;
    }
    default: return 0;
    }
}

static int key_ptr_cmp(const void *a, const void *b) {
    return obj_cmp(*(const msgpack_object *const *)a, *(const msgpack_object *const *)b);
}

static int dup_err(const msgpack_object *k, char *err, size_t n_err) {
    char e[96];
    if (k->type == MSGPACK_OBJECT_STR)
        snprintf(err, n_err, "duplicate map key \"%s\"",
                 util_escape(k->via.str.ptr, k->via.str.size, e, sizeof e));
    else
        snprintf(err, n_err, "duplicate map key (a non-string key)");
    return -1;
}

int mpw_check_map(const msgpack_object *m, char *err, size_t n_err) {
    if (m->type != MSGPACK_OBJECT_MAP || m->via.map.size < 2) return 0;
    uint32_t n = m->via.map.size;
    if (n <= MPW_PAIRWISE_MAX) {
        for (uint32_t i = 1; i < n; i++)
            for (uint32_t j = 0; j < i; j++)
                if (obj_cmp(&m->via.map.ptr[i].key, &m->via.map.ptr[j].key) == 0)
                    return dup_err(&m->via.map.ptr[i].key, err, n_err);
        return 0;
    }
    const msgpack_object **k = malloc(n * sizeof *k);
    if (!k) {
        snprintf(err, n_err, "out of memory checking a map of %u keys", (unsigned)n);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) k[i] = &m->via.map.ptr[i].key;
    qsort(k, n, sizeof *k, key_ptr_cmp);
    int rc = 0;
    for (uint32_t i = 1; i < n && rc == 0; i++)
        if (obj_cmp(k[i], k[i - 1]) == 0) rc = dup_err(k[i], err, n_err);
    free(k);
    return rc;
}

int mpw_check_keys(const msgpack_object *o, char *err, size_t n_err) {
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (mpw_check_keys(&o->via.array.ptr[i], err, n_err)) return -1;
    } else if (o->type == MSGPACK_OBJECT_MAP) {
        if (mpw_check_map(o, err, n_err)) return -1;
        for (uint32_t i = 0; i < o->via.map.size; i++)
            if (mpw_check_keys(&o->via.map.ptr[i].key, err, n_err) ||
                mpw_check_keys(&o->via.map.ptr[i].val, err, n_err))
                return -1;
    }
    return 0;
}
