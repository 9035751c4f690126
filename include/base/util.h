/* util.h — exit codes, diagnostics, the one RNG, small helpers shared by every tool. */
#ifndef SIGEO_UTIL_H
#define SIGEO_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Named exit codes: every tool uses these and nothing else. */
enum {
    EXIT_OK = 0,
    EXIT_BAD_INPUT = 1, /* malformed record, data file, checkpoint, numeric failure */
    EXIT_USAGE = 2,     /* bad options */
    EXIT_IO = 3         /* write failure (disk full, closed pipe reported), interrupted,
                           out of memory */
};

/* The exit code for a loader's failure: -2 is out of memory, anything else bad input. */
static inline int util_load_exit(int rc) { return rc == -2 ? EXIT_IO : EXIT_BAD_INPUT; }

/* Program name used as the prefix of every diagnostic: "tool: error: ...". */
void util_set_prog(const char *argv0);
const char *util_prog(void);
/* "prog: error: <fmt>\n" on stderr. */
void util_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: <fmt>\n" on stderr (warnings, progress, summaries). */
void util_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict number parsing for options; return 0 on success, -1 on junk or out of range. */
int util_parse_long(const char *s, long lo, long hi, long *out);
int util_parse_double(const char *s, double *out);
/* "invalid value for --name: 'arg' (an integer from LO to HI)" for option ch of the
 * getopt_long table lo (-c when ch is a short option), with the range of the last
 * util_parse_long/util_parse_double that failed on arg. */
struct option;
void util_bad_option(const struct option *lo, int ch, const char *arg);

/* Length of the UTF-8 sequence at p (at most n bytes), 0 if invalid: no overlongs, no
 * surrogates, nothing above U+10FFFF. */
size_t util_utf8_len(const unsigned char *p, size_t n);

/* s[0..n) made safe for a terminal, into out (always NUL-terminated, cut with "..." when
 * out is too small): printable ASCII and valid UTF-8 above U+009F are kept, every other
 * byte (ESC, other controls, DEL, C1 controls, invalid UTF-8) becomes
 * \xNN. Returns out, so it can be an argument of a message. */
char *util_escape(const char *s, size_t n, char *out, size_t n_out);

/* path as an absolute path into out: as given when it starts with '/', else the current
 * directory, '/', and path without leading "./" (symlinks are kept, not resolved), so a
 * path stored in a file means the same from any directory. 0, or -1 (no current
 * directory, or out too small). */
int util_abs_path(const char *path, char *out, size_t n_out);

/* Monotonic wall clock in seconds. */
double util_now(void);

/* Refuse to write binary records to a terminal unless forced (like gzip).
 * Returns 0 if writing is fine, -1 (after printing an error) if not. */
int util_check_binary_stdout(int force);

/* xoshiro256** seeded with splitmix64: the single RNG of the project. */
typedef struct {
    uint64_t s[4];
} rng_t;

void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_u64(rng_t *r);
/* Uniform in [0, n) without modulo bias. */
uint64_t rng_below(rng_t *r, uint64_t n);
/* Uniform float in [0, 1). */
double rng_uniform(rng_t *r);
/* Standard normal (Box-Muller; deterministic sequence for a seed). */
double rng_normal(rng_t *r);
/* Fisher-Yates shuffle of a[0..n) in place (from the end). */
void rng_shuffle(rng_t *r, int *a, int n);
/* Partial Fisher-Yates: after it, a[0..k) is a uniform sample without replacement of
 * a[0..n), in draw order. */
void rng_pick(rng_t *r, int *a, int n, long k);
/* Named seed salts: each use of a tool's --seed xors its own constant, so the streams
 * (initialization uses the seed itself) do not shift each other. */
#define SEED_SALT_SUBSET 0xbb67ae8584caa73bull  /* training subset (--fraction) */
#define SEED_SALT_TEST 0x3c6ef372fe94f82bull    /* test subset (--test-fraction) */
#define SEED_SALT_ORDER 0x6a09e667f3bcc908ull   /* training order, reshuffled each epoch */
#define SEED_SALT_PATHS 0x510e527fade682d1ull   /* warm-up path sampling */
#define SEED_SALT_BATCHES 0x510e527fade682d1ull /* score-sigeo's examples (= PATHS, kept) */
/* The splitmix64 finalizer: a stateless 64-bit hash (seeds, hold-out splits). */
uint64_t util_mix64(uint64_t x);

/* SHA-256 of a byte range, used for checkpoint content hashes. */
typedef struct {
    uint32_t h[8];
    uint64_t n_bytes;
    uint8_t buf[64];
    size_t n_buf;
} sha256_t;
void sha256_init(sha256_t *s);
void sha256_update(sha256_t *s, const void *data, size_t n);
void sha256_final(sha256_t *s, uint8_t out[32]);
/* Hex string of 32 bytes into out[65]. */
void sha256_hex(const uint8_t d[32], char out[65]);

#endif
