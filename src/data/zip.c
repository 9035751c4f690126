/* zip.c — the zip reader of zip.h: the end-of-central-directory record, the central
 * directory's entries, then each member's local header and its bytes. */
#include "data/zip.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/data.h"

typedef struct {
    char name[256];
    unsigned method;
    uint32_t crc, csize, usize, local;
} entry_t;

struct zip {
    FILE *f;
    char path[4096];
    int n;
    entry_t *e;
};

static uint32_t le16(const unsigned char *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return le16(p) | le16(p + 2) << 16; }

void zip_close(zip_t *z) {
    if (!z) return;
    if (z->f) fclose(z->f);
    free(z->e);
    free(z);
}

/* Read the central directory of z->f. 0 or -1 with err. */
static int read_directory(zip_t *z, char *err, size_t n_err) {
    unsigned char tail[65557];
    if (fseek(z->f, 0, SEEK_END) != 0) goto bad;
    long size = ftell(z->f), take = size < (long)sizeof tail ? size : (long)sizeof tail;
    if (take < 22 || fseek(z->f, size - take, SEEK_SET) || fread(tail, 1, (size_t)take, z->f) != (size_t)take)
        goto bad;
    long at = -1;
    for (long i = take - 22; i >= 0; i--)
        if (le32(tail + i) == 0x06054b50) { at = i; break; }
    if (at < 0) goto bad;
    uint32_t n = le16(tail + at + 10), dsize = le32(tail + at + 12), doff = le32(tail + at + 16);
    if (n == 0xffff || doff == 0xffffffffu) {
        snprintf(err, n_err, "%s: a zip64 archive (over 4 GB), not supported", z->path);
        return -1;
    }
    unsigned char *d = malloc(dsize ? dsize : 1);
    z->e = calloc(n ? n : 1, sizeof *z->e);
    if (!d || !z->e || fseek(z->f, (long)doff, SEEK_SET) || fread(d, 1, dsize, z->f) != dsize) {
        free(d);
        goto bad;
    }
    size_t p = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (p + 46 > dsize || le32(d + p) != 0x02014b50) {
            free(d);
            goto bad;
        }
        entry_t *e = &z->e[z->n++];
        uint32_t nl = le16(d + p + 28), xl = le16(d + p + 30), cl = le16(d + p + 32);
        if (p + 46 + nl > dsize) {
            free(d);
            goto bad;
        }
        e->method = le16(d + p + 10);
        e->crc = le32(d + p + 16), e->csize = le32(d + p + 20), e->usize = le32(d + p + 24);
        e->local = le32(d + p + 42);
        snprintf(e->name, sizeof e->name, "%.*s", (int)nl, (const char *)d + p + 46);
        p += 46 + nl + xl + cl;
    }
    free(d);
    return 0;
bad:
    snprintf(err, n_err, "%s: not a zip archive (.npz) or truncated", z->path);
    return -1;
}

int zip_open_file(zip_t **zp, const char *path, char *err, size_t n_err) {
    zip_t *z = *zp = calloc(1, sizeof *z);
    if (!z) {
        snprintf(err, n_err, "%s: out of memory", path);
        return -2;
    }
    snprintf(z->path, sizeof z->path, "%s", path);
    if (!(z->f = fopen(path, "rb"))) {
        snprintf(err, n_err, "%s: %s", path, strerror(errno));
        return -1;
    }
    return read_directory(z, err, n_err);
}

static const entry_t *find(const zip_t *z, const char *name) {
    for (int i = 0; i < z->n; i++)
        if (strcmp(z->e[i].name, name) == 0) return &z->e[i];
    return NULL;
}

int zip_has(const zip_t *z, const char *name) { return find(z, name) != NULL; }

/* Seek to e's data (past its local header). 0, or -1 with err. */
static int seek_member(zip_t *z, const entry_t *e, char *err, size_t n_err) {
    unsigned char h[30];
    if (fseek(z->f, (long)e->local, SEEK_SET) || fread(h, 1, 30, z->f) != 30 ||
        le32(h) != 0x04034b50 || fseek(z->f, (long)(le16(h + 26) + le16(h + 28)), SEEK_CUR)) {
        snprintf(err, n_err, "%s: %s: bad local header (truncated archive?)", z->path, e->name);
        return -1;
    }
    if (e->method != 0 && e->method != 8) {
        snprintf(err, n_err, "%s: %s: compression method %u (want stored or deflate)", z->path,
                 e->name, e->method);
        return -1;
    }
    return 0;
}

/* The first want bytes of e's data (stored or raw deflate) into *out, which grows by
 * doubling up to want (*cap: its size), so memory follows the bytes that really come.
 * The count produced, or -1 for corrupt data, -2 out of memory. */
static long long inflate_member(FILE *f, const entry_t *e, unsigned char **out, size_t *cap,
                                size_t want) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (e->method == 8 && inflateInit2(&s, -MAX_WBITS) != Z_OK) return -2;
    unsigned char in[1 << 16];
    uint32_t left = e->csize;
    int r = Z_OK;
    size_t done = 0;
    long long rc = -1;
    while (done < want && r != Z_STREAM_END) {
        if (done == *cap) {
            size_t nc = *cap > want / 2 ? want : *cap * 2;
            unsigned char *nb = realloc(*out, nc);
            if (!nb) {
                rc = -2;
                goto out;
            }
            *out = nb, *cap = nc;
        }
        if (s.avail_in == 0) {
            size_t k = left < sizeof in ? left : sizeof in;
            if (k == 0 || fread(in, 1, k, f) != k) break;
            left -= (uint32_t)k;
            s.next_in = in, s.avail_in = (uInt)k;
        }
        size_t room = *cap - done;
        if (e->method == 0) { /* stored: copy */
            size_t k = room < s.avail_in ? room : s.avail_in;
            memcpy(*out + done, s.next_in, k);
            s.next_in += k, s.avail_in -= (uInt)k, done += k;
            continue;
        }
        s.next_out = *out + done;
        s.avail_out = room > (1u << 30) ? 1u << 30 : (uInt)room;
        r = inflate(&s, Z_NO_FLUSH);
        done = (size_t)(s.next_out - *out);
        if (r != Z_OK && r != Z_STREAM_END) break;
    }
    rc = (long long)done;
out:
    if (e->method == 8) inflateEnd(&s);
    return rc;
}

int zip_read_head(zip_t *z, const char *name, unsigned char *buf, size_t n, size_t *got,
                  char *err, size_t n_err) {
    *got = 0;
    const entry_t *e = find(z, name);
    if (!e) return 1;
    if (seek_member(z, e, err, n_err)) return -1;
    unsigned char *b = malloc(n ? n : 1);
    size_t cap = n;
    long long k = b ? inflate_member(z->f, e, &b, &cap, n) : -2;
    if (k >= 0) memcpy(buf, b, (size_t)k), *got = (size_t)k;
    free(b);
    if (k == -2) snprintf(err, n_err, "%s: %s: out of memory", z->path, name);
    return k >= 0 ? 0 : (int)k;
}

int zip_read(zip_t *z, const char *name, size_t max, const char *why, unsigned char **buf,
             size_t *n, char *err, size_t n_err) {
    *buf = NULL, *n = 0;
    const entry_t *e = find(z, name);
    if (!e) return 1;
    if (seek_member(z, e, err, n_err)) return -1;
    if ((size_t)e->usize > max) {
        snprintf(err, n_err, "%s: %s: %u bytes, more than the %zu bytes %s", z->path, name,
                 (unsigned)e->usize, max, why ? why : "a data file may hold");
        return -1;
    }
    size_t cap = e->usize < (1u << 20) ? e->usize : 1u << 20;
    unsigned char *b = malloc(cap ? cap : 1);
    long long k = b ? inflate_member(z->f, e, &b, &cap, e->usize) : -2;
    if (k == -2) {
        snprintf(err, n_err, "%s: %s: out of memory", z->path, name);
        free(b);
        return -2;
    }
    if (k != (long long)e->usize || (uint32_t)crc32(0L, b, e->usize) != e->crc) {
        snprintf(err, n_err, "%s: %s: %s", z->path, name,
                 k != (long long)e->usize ? "truncated or corrupt data" : "CRC mismatch (corrupt archive)");
        free(b);
        return -1;
    }
    *buf = b, *n = e->usize;
    return 0;
}
