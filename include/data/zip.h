/* zip.h — read members of a zip archive (a NumPy .npz): stored or deflated entries,
 * through zlib's raw inflate, each checked against its CRC-32. No zip64, no encryption. */
#ifndef SIGEO_ZIP_H
#define SIGEO_ZIP_H

#include <stddef.h>

typedef struct zip zip_t;

/* Open path and read its central directory. *z is the caller's (zip_close). 0, or -1 with
 * err naming the file, or -2 out of memory. */
int zip_open_file(zip_t **z, const char *path, char *err, size_t n_err);
/* Non-zero if the archive has a member of that name. */
int zip_has(const zip_t *z, const char *name);
/* Member name, decompressed, into *buf (malloc'd, the caller's) and *n, if the directory
 * declares at most max bytes for it (else an error saying why: where max comes from); the
 * buffer grows with the bytes inflated. 0; 1 when there is no such member; -1 with err
 * for corrupt data; -2 out of memory. */
int zip_read(zip_t *z, const char *name, size_t max, const char *why, unsigned char **buf,
             size_t *n, char *err, size_t n_err);
/* The first n bytes of member name into buf (*got fewer when it is shorter). 0; 1 when
 * there is no such member; -1 or -2 with err. */
int zip_read_head(zip_t *z, const char *name, unsigned char *buf, size_t n, size_t *got,
                  char *err, size_t n_err);
void zip_close(zip_t *z);

#endif
