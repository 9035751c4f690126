/* mpwalk.h — the one structural check of msgpack input, shared by every reader (record
 * streams in rec.c, checkpoint and model files in container.c, JSON's objects in json.c).
 *
 * mpw_scan walks encoded bytes without building anything: it finds where one object
 * ends and checks every declared length and element count against a byte cap before
 * msgpack-c sees the bytes (msgpack-c allocates room for n elements the moment it
 * parses a header claiming n, so a 5-byte header claiming 2^32 must be refused first).
 * It resumes where it stopped, so feeding a stream in chunks costs linear time.
 *
 * mpw_check_keys walks an unpacked object tree and refuses maps with two equal keys:
 * the tools would read the first copy and jq or Python the last, so one record would
 * mean two things (docs/reliability.md). */
#ifndef SIGEO_IO_MPWALK_H
#define SIGEO_IO_MPWALK_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t pos;       /* bytes of the current object validated so far */
    uint64_t pending; /* objects still needed to complete it */
} mpw_t;

/* Ready to walk one object starting at buf[0]. */
void mpw_init(mpw_t *w);

/* Walks buf[0..avail) from where the last call stopped; buf must start at the object's
 * first byte and may only grow between calls. Returns 1 when the object is complete
 * (its size is w->pos), 0 when more bytes are needed, -1 with err on an invalid byte or
 * when a declared length or count could not fit in max bytes. limit names max in the
 * message ("the record size limit"). */
int mpw_scan(mpw_t *w, const unsigned char *buf, size_t avail, size_t max, const char *limit,
             char *err, size_t n_err);

/* 0 if no map in o (at any depth) holds two equal keys; else -1 with err naming the key
 * ("duplicate map key \"x\""). depth is bounded by the readers (32 levels). */
int mpw_check_keys(const msgpack_object *o, char *err, size_t n_err);
/* Same for one map only (its values are not visited), for readers that build objects
 * bottom-up and check each map as it is closed. */
int mpw_check_map(const msgpack_object *map, char *err, size_t n_err);

/* Bytes msgpack-c's msgpack_pack_object writes for o (smallest integer and length
 * forms), so a reader that builds objects from other text (JSON) can apply the same cap
 * as the record reader. */
size_t mpw_packed_size(const msgpack_object *o);

#endif
