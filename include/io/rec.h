/* rec.h — msgpack record streams: constant-memory reading, one-at-a-time writing,
 * typed getters over dotted paths, and setters that add keys to a record.
 *
 * A stream is msgpack maps written back to back. Every record has "kind" (string).
 * Filters pass keys they do not know through unchanged. */
#ifndef SIGEO_REC_H
#define SIGEO_REC_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* Largest record a reader accepts by default; declared lengths beyond what the
 * cap allows are rejected before anything is allocated for them. */
#define REC_MAX_DEFAULT (16u << 20)

typedef struct rec_reader rec_reader_t;

/* Reads records from fd. name is used in messages ("stdin", a file path).
 * max_bytes caps one record (0 = REC_MAX_DEFAULT). The reader owns its buffers. */
rec_reader_t *rec_reader_new(int fd, const char *name, size_t max_bytes);
void rec_reader_free(rec_reader_t *r);

/* Next record into *out. Returns 1 on a record, 0 on clean end of stream, -1 on
 * malformed input (garbage, truncated record, huge declared length, read error);
 * rec_reader_error() then says why. *out lives until the next rec_read() call. */
int rec_read(rec_reader_t *r, msgpack_object *out);
const char *rec_reader_error(const rec_reader_t *r);
/* 1-based number of the record last returned (or being read when an error occurred). */
long rec_reader_count(const rec_reader_t *r);

/* A record being edited: the object tree plus a zone that owns everything added.
 * rec_edit_begin() takes a shallow view of obj (which must outlive the edit). */
typedef struct {
    msgpack_object root;
    msgpack_zone *zone;
} rec_t;

int rec_edit_begin(rec_t *e, const msgpack_object *obj);
void rec_edit_end(rec_t *e);
/* Start an empty map record. */
int rec_new(rec_t *e);

/* Set a dotted path ("scores.sigeo"), creating intermediate maps and replacing an
 * existing value. Strings are copied into the record's zone. Return 0 or -1 (no memory,
 * or an intermediate key is not a map). */
int rec_set_f64(rec_t *e, const char *path, double v);
int rec_set_i64(rec_t *e, const char *path, int64_t v);
int rec_set_str(rec_t *e, const char *path, const char *s);
int rec_set_bool(rec_t *e, const char *path, int b);
int rec_set_nil(rec_t *e, const char *path);
/* Deep-copies v into the record's zone. */
int rec_set_obj(rec_t *e, const char *path, const msgpack_object *v);
/* Removes a key if present. */
int rec_del(rec_t *e, const char *path);

/* Getters. Return 0 on success, REC_MISSING if the path is absent, REC_WRONG_TYPE if
 * the value has another type. Numbers accept float32, float64 and integers. */
enum { REC_OK = 0, REC_MISSING = -1, REC_WRONG_TYPE = -2 };
/* m may be NULL (the result is NULL); a NULL path gives m itself, so the number and
 * string getters also read a bare object: rec_get_num(&arr[i], NULL, &x). */
const msgpack_object *rec_lookup(const msgpack_object *m, const char *path);
int rec_get_num(const msgpack_object *m, const char *path, double *out);
int rec_get_int(const msgpack_object *m, const char *path, int64_t *out);
/* Copies a string (NUL-terminated, truncated to n-1 bytes; returns REC_WRONG_TYPE if it
 * does not fit or holds a NUL). */
int rec_get_str(const msgpack_object *m, const char *path, char *buf, size_t n);
/* Non-zero if the string object equals s. */
int rec_str_eq(const msgpack_object *o, const char *s);

/* Writes one record to fd fully (retrying short writes). Returns 0 or -1 with errno. */
typedef struct rec_writer rec_writer_t;
rec_writer_t *rec_writer_new(int fd);
void rec_writer_free(rec_writer_t *w);
int rec_write(rec_writer_t *w, const msgpack_object *obj);

/* Records whose maps hold a key twice are bad records (docs/reliability.md): with a
 * policy set, rec_read reports each through rec_policy_bad and skips it under
 * --keep-going, or stops with an empty rec_reader_error (already reported). */
typedef struct rec_policy rec_policy_t;
void rec_reader_policy(rec_reader_t *r, rec_policy_t *p);
/* A filter's two streams: a reader of stdin under policy p and a writer to stdout. 0, or
 * -1 out of memory (said on stderr; nothing left allocated). */
int rec_filter_open(rec_policy_t *p, rec_reader_t **rd, rec_writer_t **wr);

/* ---- What a filter does with a bad record (docs/reliability.md) ----
 * Default: stop at the first bad record, exit EXIT_BAD_INPUT, with everything before it
 * written. --keep-going: skip record-level errors (not a map, missing key, wrong type,
 * unknown space or op, cfg mismatch, NaN), count them, and exit EXIT_BAD_INPUT at the end
 * unless --ok-if-bad. A byte-level stream error (garbage, truncation, huge length) cannot
 * be resynchronized: it always stops the filter. */
struct rec_policy {
    int keep_going, ok_if_bad;
    long n_bad;
};

/* Usage lines for the two options, for a tool's -h text. */
#define REC_POLICY_USAGE                                                                   \
    "  --keep-going         skip bad records (counted on stderr) instead of stopping\n"  \
    "  --ok-if-bad          with --keep-going, exit 0 even if records were skipped\n"

/* Reports a record-level error as "prog: error: <msg> (record N)". Returns 1 if the
 * caller skips the record and goes on (--keep-going), 0 if it stops. */
int rec_policy_bad(rec_policy_t *p, long rec_no, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reports a stream error (what rec_read said) and returns EXIT_BAD_INPUT; under
 * --keep-going it adds that the rest of the stream is lost. An empty what (a bad record
 * rec_read has reported) prints nothing. */
int rec_policy_stream_error(const rec_policy_t *p, const char *what, long rec_no);
/* Final exit status from the status so far: prints "N bad records skipped" if any, and
 * turns success into EXIT_BAD_INPUT when records were skipped, unless ok_if_bad. */
int rec_policy_exit(const rec_policy_t *p, int status);

#endif
