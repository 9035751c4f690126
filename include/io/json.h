/* json.h — msgpack objects to and from JSON text, exact for the types records use.
 *
 * Mapping (docs/records.md): nil/bool/str/array/map as in JSON; integers print without
 * a fraction and read back as integers; floats always print with a '.' or exponent
 * (1.0, not 1) using the fewest digits that read back to the same double, and
 * non-finite floats as NaN, Infinity, -Infinity (Python's json convention). float32
 * reads back as float64. bin is {"$bin":"<base64>"}, ext is {"$ext":[type,"<base64>"]}.
 * Map keys must be strings and strings valid UTF-8. */
#ifndef SIGEO_JSON_H
#define SIGEO_JSON_H

#include <msgpack.h>
#include <stddef.h>
#include <stdio.h>

/* Writes o as compact JSON (no newline) to f. Returns 0, -1 on a write error (see
 * ferror), -2 with a message in err if JSON cannot hold the value. */
int json_write(FILE *f, const msgpack_object *o, char *err, size_t n_err);

/* Reads whitespace-separated JSON values (JSON Lines, or jq's pretty output) from f.
 * max_bytes caps one value's text (0 = 16 MiB). The reader owns f's use, not f. */
typedef struct json_reader json_reader_t;
json_reader_t *json_reader_new(FILE *f, size_t max_bytes);
void json_reader_free(json_reader_t *r);
/* Next value into *out. 1 on a value, 0 at end of input, -1 on malformed text
 * (json_reader_error says what and where). *out lives until the next json_read(). */
int json_read(json_reader_t *r, msgpack_object *out);
const char *json_reader_error(const json_reader_t *r);
/* After an error, discard the rest of the line the error was on (JSON Lines resync for
 * --keep-going). Returns 1 if input may follow, 0 at end of input. */
int json_reader_skip_line(json_reader_t *r);

#endif
