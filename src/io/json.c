/* json.c — msgpack objects <-> JSON text (see json.h for the mapping). */
#include "io/json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/mpwalk.h"

/* msgpack-c's unpacker holds 32 nested containers; deeper JSON could not be read back. */
#define JSON_MAX_DEPTH 32
/* mp2json writes at most 8 text bytes per msgpack byte (a 3-byte fixext becomes 22), so a
 * value's text may be 8 times the msgpack cap and still be one that mp2json wrote. */
#define JSON_TEXT_PER_BYTE 8
/* Longest line kept for the resync; longer ones are skipped to their end instead. */
#define LINE_KEEP (1u << 20)
#define NO_PEEK (-2)

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- writing ---- */

static void put_b64(FILE *f, const unsigned char *p, size_t n) {
    putc('"', f);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        putc(b64[v >> 18 & 63], f);
        putc(b64[v >> 12 & 63], f);
        putc(i + 1 < n ? b64[v >> 6 & 63] : '=', f);
        putc(i + 2 < n ? b64[v & 63] : '=', f);
    }
    putc('"', f);
}

static int put_str(FILE *f, const char *s, size_t n, char *err, size_t n_err) {
    const unsigned char *p = (const unsigned char *)s;
    putc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c < 0x20 || c == '"' || c == '\\') {
            const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\t' ? "\\t"
                          : c == '\r' ? "\\r" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
            if (e) fputs(e, f);
            else fprintf(f, "\\u%04x", c);
            i++;
            continue;
        }
        size_t l = util_utf8_len(p + i, n - i);
        if (!l) {
            snprintf(err, n_err, "string is not valid UTF-8 (byte 0x%02x at %zu)", c, i);
            return -2;
        }
        fwrite(p + i, 1, l, f);
        i += l;
    }
    putc('"', f);
    return 0;
}

/* Fewest significant digits that read back to the same double, always marked as a
 * float so it reads back as one. */
static void put_f64(FILE *f, double d) {
    if (isnan(d)) {
        fputs("NaN", f);
        return;
    }
    if (isinf(d)) {
        fputs(d > 0 ? "Infinity" : "-Infinity", f);
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) break;
    }
    fputs(buf, f);
    if (!strpbrk(buf, ".e")) fputs(".0", f);
}

static int write_obj(FILE *f, const msgpack_object *o, char *err, size_t n_err) {
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: fputs("null", f); return 0;
    case MSGPACK_OBJECT_BOOLEAN: fputs(o->via.boolean ? "true" : "false", f); return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: fprintf(f, "%llu", (unsigned long long)o->via.u64); return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: fprintf(f, "%lld", (long long)o->via.i64); return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: put_f64(f, o->via.f64); return 0;
    case MSGPACK_OBJECT_STR: return put_str(f, o->via.str.ptr, o->via.str.size, err, n_err);
    case MSGPACK_OBJECT_BIN:
        fputs("{\"$bin\":", f);
        put_b64(f, (const unsigned char *)o->via.bin.ptr, o->via.bin.size);
        putc('}', f);
        return 0;
    case MSGPACK_OBJECT_EXT:
        fprintf(f, "{\"$ext\":[%d,", o->via.ext.type);
        put_b64(f, (const unsigned char *)o->via.ext.ptr, o->via.ext.size);
        fputs("]}", f);
        return 0;
    case MSGPACK_OBJECT_ARRAY:
        putc('[', f);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i) putc(',', f);
            int r = write_obj(f, &o->via.array.ptr[i], err, n_err);
            if (r) return r;
        }
        putc(']', f);
        return 0;
    case MSGPACK_OBJECT_MAP:
        putc('{', f);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR) {
                snprintf(err, n_err, "map key is not a string (JSON cannot hold it)");
                return -2;
            }
            if (i) putc(',', f);
            int r = put_str(f, kv->key.via.str.ptr, kv->key.via.str.size, err, n_err);
            if (!r) {
                putc(':', f);
                r = write_obj(f, &kv->val, err, n_err);
            }
            if (r) return r;
        }
        putc('}', f);
        return 0;
    default:
        snprintf(err, n_err, "unknown msgpack type %d", (int)o->type);
        return -2;
    }
}

/* What write_obj would refuse, found before a byte is written, so a record JSON cannot
 * hold never leaves half a line behind. */
static int check_obj(const msgpack_object *o, char *err, size_t n_err, int depth) {
    if (depth > 64) {
        snprintf(err, n_err, "nested too deeply");
        return -2;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
    case MSGPACK_OBJECT_BOOLEAN:
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
    case MSGPACK_OBJECT_BIN:
    case MSGPACK_OBJECT_EXT: return 0;
    case MSGPACK_OBJECT_STR: {
        const unsigned char *p = (const unsigned char *)o->via.str.ptr;
        size_t n = o->via.str.size;
        for (size_t i = 0; i < n;) {
            size_t l = p[i] < 0x80 ? 1 : util_utf8_len(p + i, n - i);
            if (!l) {
                snprintf(err, n_err, "string is not valid UTF-8 (byte 0x%02x at %zu)", p[i], i);
                return -2;
            }
            i += l;
        }
        return 0;
    }
    case MSGPACK_OBJECT_ARRAY:
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            int r = check_obj(&o->via.array.ptr[i], err, n_err, depth + 1);
            if (r) return r;
        }
        return 0;
    case MSGPACK_OBJECT_MAP:
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR) {
                snprintf(err, n_err, "map key is not a string (JSON cannot hold it)");
                return -2;
            }
            int r = check_obj(&kv->key, err, n_err, depth + 1);
            if (!r) r = check_obj(&kv->val, err, n_err, depth + 1);
            if (r) return r;
        }
        return 0;
    default:
        snprintf(err, n_err, "unknown msgpack type %d", (int)o->type);
        return -2;
    }
}

int json_write(FILE *f, const msgpack_object *o, char *err, size_t n_err) {
    int r = check_obj(o, err, n_err, 0);
    if (r) return r;
    r = write_obj(f, o, err, n_err);
    if (r) return r;
    return ferror(f) ? -1 : 0;
}

/* ---- reading ---- */

struct json_reader {
    FILE *f;
    size_t max, used; /* bytes of the current value */
    long line;
    msgpack_zone *zone;
    /* Shared stacks for container entries under construction; each level pushes above
     * the level that called it and pops before returning. */
    msgpack_object *st;
    size_t n_st, cap_st;
    msgpack_object_kv *kst;
    size_t n_kst, cap_kst;
    char *sbuf; /* string being decoded */
    size_t cap_sbuf;
    int last; /* last character read, so a resync knows whether it ended a line */
    int peek; /* a character pushed back, or NO_PEEK */
    size_t max_text, n_obj; /* text cap of one value; objects built for it */
    long start_line;        /* where the current value started */
    /* The current line's bytes read so far (up to LINE_KEEP), so a resync can read again
     * the line on which an unfinished value ran into the next one. */
    char *lb;
    size_t n_lb, cap_lb;
    int lb_reset, lb_over;
    char *rp; /* bytes to read again before f */
    size_t n_rp, i_rp;
    char err[320];
};

json_reader_t *json_reader_new(FILE *f, size_t max_bytes) {
    json_reader_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->f = f;
    r->max = max_bytes ? max_bytes : (16u << 20);
    r->max_text = JSON_TEXT_PER_BYTE * r->max;
    r->line = 1;
    r->peek = NO_PEEK;
    r->zone = msgpack_zone_new(8192);
    if (!r->zone) {
        free(r);
        return NULL;
    }
    return r;
}

void json_reader_free(json_reader_t *r) {
    if (!r) return;
    msgpack_zone_free(r->zone);
    free(r->st), free(r->kst), free(r->sbuf), free(r->lb), free(r->rp);
    free(r);
}

const char *json_reader_error(const json_reader_t *r) { return r->err; }

static int jerr(json_reader_t *r, const char *what) {
    if (r->line > r->start_line && r->start_line > 0)
        snprintf(r->err, sizeof r->err, "%s at line %ld (in the value from line %ld)", what, r->line,
                 r->start_line);
    else
        snprintf(r->err, sizeof r->err, "%s at line %ld", what, r->line);
    return -1;
}

static void line_keep(json_reader_t *r, int c) {
    if (r->lb_reset) r->n_lb = 0, r->lb_over = 0, r->lb_reset = 0;
    if (r->lb_over) return;
    if (r->n_lb == r->cap_lb) {
        size_t cap = r->cap_lb ? 2 * r->cap_lb : 256;
        char *p = cap <= LINE_KEEP ? realloc(r->lb, cap) : NULL;
        if (!p) {
            r->lb_over = 1;
            return;
        }
        r->lb = p, r->cap_lb = cap;
    }
    r->lb[r->n_lb++] = (char)c;
}

static int next(json_reader_t *r) {
    int c;
    if (r->peek != NO_PEEK) c = r->peek, r->peek = NO_PEEK;
    else if (r->i_rp < r->n_rp) c = (unsigned char)r->rp[r->i_rp++];
    else c = getc(r->f);
    r->last = c;
    if (c == EOF) return c;
    r->used++;
    if (c == '\n') r->line++, r->lb_reset = 1; /* the kept line ends; cleared lazily */
    else line_keep(r, c);
    return c;
}

static void back(json_reader_t *r, int c) {
    if (c == EOF) return;
    if (c == '\n') r->line--, r->lb_reset = 0;
    else if (!r->lb_over && r->n_lb) r->n_lb--;
    r->used--;
    r->last = 0;
    r->peek = c;
}

static int skip_ws(json_reader_t *r) {
    int c;
    do c = next(r);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    return c;
}

static int expect_word(json_reader_t *r, const char *rest) {
    for (; *rest; rest++)
        if (next(r) != *rest) return jerr(r, "invalid literal");
    return 0;
}

static int sbuf_put(json_reader_t *r, size_t *n, const void *p, size_t k) {
    if (*n + k > r->cap_sbuf) {
        size_t cap = r->cap_sbuf ? r->cap_sbuf * 2 : 256;
        while (cap < *n + k) cap *= 2;
        char *s = realloc(r->sbuf, cap);
        if (!s) return jerr(r, "out of memory");
        r->sbuf = s, r->cap_sbuf = cap;
    }
    memcpy(r->sbuf + *n, p, k);
    *n += k;
    return 0;
}

static int hex4(json_reader_t *r, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int c = next(r), d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return jerr(r, "bad \\u escape");
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

/* Reads a string body (after the opening quote) into a zone-owned STR object. */
static int read_str(json_reader_t *r, msgpack_object *out) {
    size_t n = 0;
    for (;;) {
        int c = next(r);
        if (c == EOF) return jerr(r, "unterminated string");
        if (c == '"') break;
        if (c < 0x20) return jerr(r, "control character in string");
        if (c == '\\') {
            c = next(r);
            char ch;
            switch (c) {
            case '"': ch = '"'; break;
            case '\\': ch = '\\'; break;
            case '/': ch = '/'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'u': {
                uint32_t cp, lo;
                if (hex4(r, &cp)) return -1;
                if (cp >= 0xdc00 && cp <= 0xdfff) return jerr(r, "lone low surrogate in \\u escape");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (next(r) != '\\' || next(r) != 'u' || hex4(r, &lo) || lo < 0xdc00 || lo > 0xdfff)
                        return jerr(r, "unpaired surrogate in \\u escape");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                unsigned char u[4];
                size_t k;
                if (cp < 0x80) u[0] = (unsigned char)cp, k = 1;
                else if (cp < 0x800) u[0] = 0xc0 | cp >> 6, u[1] = 0x80 | (cp & 63), k = 2;
                else if (cp < 0x10000)
                    u[0] = 0xe0 | cp >> 12, u[1] = 0x80 | (cp >> 6 & 63), u[2] = 0x80 | (cp & 63), k = 3;
                else
                    u[0] = 0xf0 | cp >> 18, u[1] = 0x80 | (cp >> 12 & 63), u[2] = 0x80 | (cp >> 6 & 63),
                    u[3] = 0x80 | (cp & 63), k = 4;
                if (sbuf_put(r, &n, u, k)) return -1;
                continue;
            }
            default: return jerr(r, "bad escape in string");
            }
            if (sbuf_put(r, &n, &ch, 1)) return -1;
            continue;
        }
        /* Raw UTF-8: gather the whole sequence and validate it. */
        unsigned char u[4] = {(unsigned char)c};
        size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        for (size_t i = 1; i < k; i++) {
            int d = next(r);
            if (d == EOF || (d & 0xc0) != 0x80) { /* not a continuation byte: not ours */
                back(r, d);
                return jerr(r, "string is not valid UTF-8");
            }
            u[i] = (unsigned char)d;
        }
        if (util_utf8_len(u, k) != k) return jerr(r, "string is not valid UTF-8");
        if (sbuf_put(r, &n, u, k)) return -1;
        if (r->used > r->max_text) return jerr(r, "value larger than the size limit");
    }
    memset(out, 0, sizeof *out);
    out->type = MSGPACK_OBJECT_STR;
    out->via.str.size = (uint32_t)n;
    if (n) {
        char *p = msgpack_zone_malloc(r->zone, n);
        if (!p) return jerr(r, "out of memory");
        memcpy(p, r->sbuf, n);
        out->via.str.ptr = p;
    }
    return 0;
}

static int read_num(json_reader_t *r, int c, msgpack_object *out) {
    char buf[512];
    size_t n = 0;
    int is_float = 0;
    while (c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || (c >= '0' && c <= '9')) {
        if (n + 1 >= sizeof buf) return jerr(r, "number too long");
        if (c == '.' || c == 'e' || c == 'E') is_float = 1;
        buf[n++] = (char)c;
        c = next(r);
    }
    back(r, c);
    buf[n] = 0;
    if (strcmp(buf, "-") == 0) { /* -Infinity */
        if (c != 'I' || expect_word(r, "Infinity")) return jerr(r, "invalid number");
        memset(out, 0, sizeof *out);
        out->type = MSGPACK_OBJECT_FLOAT64;
        out->via.f64 = -INFINITY;
        return 0;
    }
    /* Strict JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *p = buf;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return jerr(r, "invalid number");
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return jerr(r, "invalid number");
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return jerr(r, "invalid number");
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p) return jerr(r, "invalid number");
    memset(out, 0, sizeof *out);
    errno = 0;
    if (is_float) {
        double d = strtod(buf, NULL);
        if (errno == ERANGE && isinf(d)) return jerr(r, "number out of range");
        out->type = MSGPACK_OBJECT_FLOAT64;
        out->via.f64 = d;
    } else if (buf[0] == '-') {
        long long v = strtoll(buf, NULL, 10);
        if (errno == ERANGE) return jerr(r, "integer out of the int64 range");
        out->type = v < 0 ? MSGPACK_OBJECT_NEGATIVE_INTEGER : MSGPACK_OBJECT_POSITIVE_INTEGER;
        if (v < 0) out->via.i64 = v;
        else out->via.u64 = 0; /* "-0" */
    } else {
        unsigned long long v = strtoull(buf, NULL, 10);
        if (errno == ERANGE) return jerr(r, "integer out of the uint64 range");
        out->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        out->via.u64 = v;
    }
    return 0;
}

static int b64_val(int c) {
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Decodes padded base64 from a STR object into zone bytes. */
static int b64_decode(json_reader_t *r, const msgpack_object *s, const char **ptr, uint32_t *size) {
    size_t n = s->via.str.size;
    const char *p = s->via.str.ptr;
    if (n % 4) return jerr(r, "bad base64 length");
    size_t pad = n && p[n - 1] == '=' ? (p[n - 2] == '=' ? 2 : 1) : 0;
    size_t out_n = n / 4 * 3 - pad;
    unsigned char *o = out_n ? msgpack_zone_malloc(r->zone, out_n) : NULL;
    if (out_n && !o) return jerr(r, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) {
            int last = i + 4 == n;
            if (last && p[i + j] == '=' && (size_t)j >= 4 - pad) v[j] = 0;
            else if ((v[j] = b64_val((unsigned char)p[i + j])) < 0) return jerr(r, "bad base64 character");
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        for (int j = 0; j < 3 && k < out_n; j++) o[k++] = (unsigned char)(w >> (16 - 8 * j));
    }
    *ptr = (const char *)o;
    *size = (uint32_t)out_n;
    return 0;
}

static int key_is(const msgpack_object *k, const char *s) {
    return k->via.str.size == strlen(s) && memcmp(k->via.str.ptr, s, k->via.str.size) == 0;
}

/* {"$bin":"..."} and {"$ext":[type,"..."]} become bin and ext. */
static int special_map(json_reader_t *r, msgpack_object *m) {
    if (m->via.map.size != 1) return 0;
    const msgpack_object *k = &m->via.map.ptr[0].key, *v = &m->via.map.ptr[0].val;
    if (key_is(k, "$bin") && v->type == MSGPACK_OBJECT_STR) {
        const char *p;
        uint32_t n;
        if (b64_decode(r, v, &p, &n)) return -1;
        memset(m, 0, sizeof *m);
        m->type = MSGPACK_OBJECT_BIN;
        m->via.bin.ptr = p, m->via.bin.size = n;
    } else if (key_is(k, "$ext") && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 2 &&
               (v->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                v->via.array.ptr[0].type == MSGPACK_OBJECT_NEGATIVE_INTEGER) &&
               v->via.array.ptr[1].type == MSGPACK_OBJECT_STR) {
        int64_t t = v->via.array.ptr[0].via.i64;
        if (t < -128 || t > 127) return jerr(r, "$ext type out of range");
        const char *p;
        uint32_t n;
        if (b64_decode(r, &v->via.array.ptr[1], &p, &n)) return -1;
        memset(m, 0, sizeof *m);
        m->type = MSGPACK_OBJECT_EXT;
        m->via.ext.type = (int8_t)t, m->via.ext.ptr = p, m->via.ext.size = n;
    }
    return 0;
}

static int push(json_reader_t *r, const msgpack_object *o) {
    if (r->n_st == r->cap_st) {
        size_t cap = r->cap_st ? 2 * r->cap_st : 64;
        msgpack_object *s = realloc(r->st, cap * sizeof *s);
        if (!s) return jerr(r, "out of memory");
        r->st = s, r->cap_st = cap;
    }
    r->st[r->n_st++] = *o;
    return 0;
}

static int push_kv(json_reader_t *r, const msgpack_object *k, const msgpack_object *v) {
    if (r->n_kst == r->cap_kst) {
        size_t cap = r->cap_kst ? 2 * r->cap_kst : 64;
        msgpack_object_kv *s = realloc(r->kst, cap * sizeof *s);
        if (!s) return jerr(r, "out of memory");
        r->kst = s, r->cap_kst = cap;
    }
    r->kst[r->n_kst].key = *k;
    r->kst[r->n_kst].val = *v;
    r->n_kst++;
    return 0;
}

static int read_value(json_reader_t *r, int c, msgpack_object *out, int depth) {
    /* every object takes at least one msgpack byte */
    if (r->used > r->max_text || ++r->n_obj > r->max) return jerr(r, "value larger than the size limit");
    memset(out, 0, sizeof *out);
    switch (c) {
    case 'n':
        out->type = MSGPACK_OBJECT_NIL;
        return expect_word(r, "ull");
    case 't':
        out->type = MSGPACK_OBJECT_BOOLEAN, out->via.boolean = 1;
        return expect_word(r, "rue");
    case 'f':
        out->type = MSGPACK_OBJECT_BOOLEAN;
        return expect_word(r, "alse");
    case 'N':
        out->type = MSGPACK_OBJECT_FLOAT64, out->via.f64 = NAN;
        return expect_word(r, "aN");
    case 'I':
        out->type = MSGPACK_OBJECT_FLOAT64, out->via.f64 = INFINITY;
        return expect_word(r, "nfinity");
    case '"': return read_str(r, out);
    case '[': {
        if (depth >= JSON_MAX_DEPTH) return jerr(r, "nested too deeply (limit 32)");
        size_t base = r->n_st;
        c = skip_ws(r);
        if (c != ']') {
            for (;;) {
                msgpack_object v;
                if (read_value(r, c, &v, depth + 1) || push(r, &v)) return -1;
                c = skip_ws(r);
                if (c == ']') break;
                if (c != ',') return jerr(r, "expected ',' or ']' in array");
                c = skip_ws(r);
            }
        }
        size_t n = r->n_st - base;
        out->type = MSGPACK_OBJECT_ARRAY;
        out->via.array.size = (uint32_t)n;
        if (n) {
            msgpack_object *a = msgpack_zone_malloc(r->zone, n * sizeof *a);
            if (!a) return jerr(r, "out of memory");
            memcpy(a, r->st + base, n * sizeof *a);
            out->via.array.ptr = a;
        }
        r->n_st = base;
        return 0;
    }
    case '{': {
        if (depth >= JSON_MAX_DEPTH) return jerr(r, "nested too deeply (limit 32)");
        size_t base = r->n_kst;
        c = skip_ws(r);
        if (c != '}') {
            for (;;) {
                msgpack_object k, v;
                if (c != '"') return jerr(r, "expected a string key in object");
                if (read_str(r, &k)) return -1;
                if (skip_ws(r) != ':') return jerr(r, "expected ':' in object");
                if (read_value(r, skip_ws(r), &v, depth + 1) || push_kv(r, &k, &v)) return -1;
                c = skip_ws(r);
                if (c == '}') break;
                if (c != ',') return jerr(r, "expected ',' or '}' in object");
                c = skip_ws(r);
            }
        }
        size_t n = r->n_kst - base;
        out->type = MSGPACK_OBJECT_MAP;
        out->via.map.size = (uint32_t)n;
        if (n) {
            msgpack_object_kv *kv = msgpack_zone_malloc(r->zone, n * sizeof *kv);
            if (!kv) return jerr(r, "out of memory");
            memcpy(kv, r->kst + base, n * sizeof *kv);
            out->via.map.ptr = kv;
        }
        r->n_kst = base;
        char m[160];
        if (mpw_check_map(out, m, sizeof m)) return jerr(r, m);
        return special_map(r, out);
    }
    case EOF: return jerr(r, "unexpected end of input");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return read_num(r, c, out);
        return jerr(r, "unexpected character");
    }
}

int json_read(json_reader_t *r, msgpack_object *out) {
    msgpack_zone_clear(r->zone);
    r->n_st = r->n_kst = 0;
    int c = skip_ws(r);
    if (c == EOF) {
        if (ferror(r->f)) return jerr(r, "read error");
        return 0;
    }
    r->used = 1;
    r->n_obj = 0;
    r->start_line = r->line;
    if (read_value(r, c, out, 0)) return -1;
    if (mpw_packed_size(out) > r->max) {
        char m[96];
        snprintf(m, sizeof m, "value larger than the record size limit (%zu bytes as msgpack)", r->max);
        return jerr(r, m);
    }
    /* A value must end at whitespace or the next value's start, not run into junk. */
    c = next(r);
    if (c != EOF && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '{' && c != '[') {
        return jerr(r, "junk after value");
    }
    back(r, c);
    return 1;
}

/* Reads the current line again from its start: bytes kept so far, the pushed-back
 * character, then whatever was still to be read again. */
static int reread_line(json_reader_t *r) {
    size_t n = r->lb_reset ? 0 : r->n_lb, rest = r->n_rp - r->i_rp;
    int pk = r->peek != NO_PEEK && r->peek != EOF;
    char *p = malloc(n + rest + 1);
    if (!p) return -1;
    if (n) memcpy(p, r->lb, n);
    if (pk) p[n++] = (char)r->peek;
    if (rest) memcpy(p + n, r->rp + r->i_rp, rest);
    free(r->rp);
    r->rp = p, r->n_rp = n + rest, r->i_rp = 0;
    r->peek = NO_PEEK;
    r->n_lb = 0, r->lb_reset = 0, r->last = 0;
    return 0;
}

int json_reader_skip_line(json_reader_t *r) {
    /* JSON Lines: a value that ran on from an earlier line into this one was that
     * earlier line's error; this line is read again from its start. */
    if (r->line > r->start_line && !r->lb_over && reread_line(r) == 0) return 1;
    if (r->last == '\n' || r->last == EOF) return r->last == EOF ? 0 : 1;
    int c;
    do c = next(r);
    while (c != '\n' && c != EOF);
    return c == EOF ? 0 : 1;
}
