/* util.c — diagnostics, option parsing, the RNG and SHA-256 shared by every tool. */
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "sigeo";

void util_set_prog(const char *argv0) {
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    if (argv0)
        prog = slash ? slash + 1 : argv0;
}

const char *util_prog(void) { return prog; }

/* "prog: <kind><message>\n" with every line of the message made safe for a terminal:
 * messages quote records and file names, which may hold escape sequences. */
static void say(const char *kind, const char *fmt, va_list ap) {
    char m[2048], e[4 * sizeof m];
    vsnprintf(m, sizeof m, fmt, ap);
    fprintf(stderr, "%s: %s", prog, kind);
    for (const char *p = m;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fputs(util_escape(p, n, e, sizeof e), stderr);
        if (!nl) break;
        fputc('\n', stderr);
        p = nl + 1;
    }
    fputc('\n', stderr);
}

void util_err(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say("error: ", fmt, ap);
    va_end(ap);
}

void util_msg(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say("", fmt, ap);
    va_end(ap);
}

/* What the last failed parse wanted, and of which argument, for util_bad_option. */
static char parse_want[96];
static const char *parse_arg;

int util_parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    long v;
    parse_arg = s;
    snprintf(parse_want, sizeof parse_want, "an integer from %ld to %ld", lo, hi);
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    parse_arg = NULL;
    return 0;
}

void util_bad_option(const struct option *lo, int ch, const char *arg) {
    const struct option *l = lo;
    char name[80];
    while (l && l->name && l->val != ch) l++;
    int shrt = ch > 0 && ch < 128 && isalnum(ch), lng = l && l->name;
    if (shrt && lng) snprintf(name, sizeof name, "-%c/--%s", ch, l->name);
    else if (shrt) snprintf(name, sizeof name, "-%c", ch);
    else snprintf(name, sizeof name, "--%s", lng ? l->name : "?");
    if (arg && arg == parse_arg)
        util_err("invalid value for %s: '%s' (want %s)", name, arg, parse_want);
    else
        util_err("invalid value for %s: '%s'", name, arg ? arg : "");
}

int util_parse_double(const char *s, double *out) {
    char *end;
    double v;
    parse_arg = s;
    snprintf(parse_want, sizeof parse_want, "a finite number");
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    parse_arg = NULL;
    return 0;
}

size_t util_utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

char *util_escape(const char *s, size_t n, char *out, size_t n_out) {
    const unsigned char *p = (const unsigned char *)s;
    size_t k = 0;
    if (n_out == 0) return out;
    for (size_t i = 0; i < n;) {
        size_t l = p[i] >= 0x80 ? util_utf8_len(p + i, n - i) : 1;
        /* C1 controls (U+0080..U+009F, 0xc2 0x80..0x9f) act as escapes on some terminals */
        int keep = l == 1 ? p[i] >= 0x20 && p[i] < 0x7f
                          : l > 1 && !(p[i] == 0xc2 && p[i + 1] < 0xa0);
        size_t need = keep ? l : 4;
        if (k + need + 4 > n_out) { /* room for "..." and the NUL */
            if (k + 4 <= n_out) memcpy(out + k, "...", 3), k += 3;
            break;
        }
        if (keep) memcpy(out + k, p + i, l), k += l, i += l;
        else k += (size_t)snprintf(out + k, n_out - k, "\\x%02x", p[i]), i++;
    }
    out[k < n_out ? k : n_out - 1] = 0;
    return out;
}

int util_abs_path(const char *path, char *out, size_t n_out) {
    if (path[0] == '/')
        return snprintf(out, n_out, "%s", path) < (int)n_out ? 0 : -1;
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) return -1;
    while (path[0] == '.' && path[1] == '/') {
        path += 2;
        while (*path == '/') path++;
    }
    if (!*path || strcmp(path, ".") == 0) return snprintf(out, n_out, "%s", cwd) < (int)n_out ? 0 : -1;
    return snprintf(out, n_out, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path) < (int)n_out ? 0 : -1;
}

double util_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int util_check_binary_stdout(int force) {
    if (!force && isatty(STDOUT_FILENO)) {
        util_err("refusing to write binary msgpack to a terminal "
                 "(pipe it, e.g. into mp2json, or use -f)");
        return -1;
    }
    return 0;
}

/* ---- RNG: xoshiro256** seeded through splitmix64 ---- */

uint64_t util_mix64(uint64_t x) {
    uint64_t z = x + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = util_mix64(*x);
    *x += 0x9e3779b97f4a7c15ull;
    return z;
}

void rng_seed(rng_t *r, uint64_t seed) {
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_u64(rng_t *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

void rng_shuffle(rng_t *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint64_t)i + 1), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

void rng_pick(rng_t *r, int *a, int n, long k) {
    for (long i = 0; i < k; i++) {
        long j = i + (long)rng_below(r, (uint64_t)(n - i));
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

uint64_t rng_below(rng_t *r, uint64_t n) {
    if (n <= 1)
        return 0;
    /* reject the short tail so every residue is equally likely */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = rng_u64(r);
    while (v >= limit);
    return v % n;
}

double rng_uniform(rng_t *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }

double rng_normal(rng_t *r) {
    /* one value per call keeps the stream position independent of call history */
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- SHA-256 (FIPS 180-4) ---- */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static uint32_t ror32(uint32_t x, int k) { return (x >> k) | (x << (32 - k)); }

static void sha256_block(sha256_t *s, const uint8_t *p) {
    uint32_t w[64], a, b, c, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha_k[i] + w[i];
        uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
    s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

void sha256_init(sha256_t *s) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->n_bytes = 0;
    s->n_buf = 0;
}

void sha256_update(sha256_t *s, const void *data, size_t n) {
    const uint8_t *p = data;
    s->n_bytes += n;
    while (n > 0) {
        size_t take = 64 - s->n_buf < n ? 64 - s->n_buf : n;
        memcpy(s->buf + s->n_buf, p, take);
        s->n_buf += take, p += take, n -= take;
        if (s->n_buf == 64) {
            sha256_block(s, s->buf);
            s->n_buf = 0;
        }
    }
}

void sha256_final(sha256_t *s, uint8_t out[32]) {
    uint64_t bits = s->n_bytes * 8;
    uint8_t pad = 0x80, zero = 0, len[8];
    sha256_update(s, &pad, 1);
    while (s->n_buf != 56)
        sha256_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

void sha256_hex(const uint8_t d[32], char out[65]) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = 0;
}
