/* file.h — writing files that other stages read: write fully, and replace atomically.
 *
 * Every tool that writes a file another stage caches (checkpoints, model files) goes
 * through io_atomic_*, so all of them treat the output path the same way
 * (docs/reliability.md):
 *
 *   - a symlink is followed (to any depth, dangling too) and its target is written;
 *     the link itself is never replaced;
 *   - a regular file, or a path that does not exist, is written as PATH.tmp.PID in the
 *     target's directory, fsynced, renamed over the target, and the directory fsynced:
 *     a reader sees the old file or the complete new one, never a mix;
 *   - a character device or FIFO (/dev/null, a named pipe) is written as a stream:
 *     opened without O_CREAT/O_TRUNC, no temporary file, no rename, so the node stays;
 *   - anything else (a directory, a block device, a socket) is refused;
 *   - while the temporary file exists, SIGINT/SIGTERM/SIGHUP remove it before the
 *     signal's default action, and temporaries left by a writer killed with SIGKILL
 *     (their PID is gone) are removed by the next save to the same path.
 *
 * Usage, whole buffer:     io_save(path, data, n, err, sizeof err)
 * Usage, written in parts: io_atomic_open(&a, path, ...), io_write_all(a.fd, ...) as
 *                          often as needed, then io_atomic_commit(&a, ...) on success or
 *                          io_atomic_abort(&a) on any failure.
 * Messages in err start with the path as given ("x.ckpt: write failed: ..."). */
#ifndef SIGEO_IO_FILE_H
#define SIGEO_IO_FILE_H

#include <stddef.h>

#define IO_PATH_MAX 4096

/* Writes n bytes to fd, retrying short writes and EINTR. 0, or -1 with errno set. */
int io_write_all(int fd, const void *p, size_t n);

typedef struct {
    int fd;                     /* write here */
    int stream;                 /* 1: a character device or FIFO, written in place */
    char path[IO_PATH_MAX];     /* the path as given, for messages */
    char target[IO_PATH_MAX];   /* after following symlinks */
    char tmp[IO_PATH_MAX + 32]; /* target.tmp.PID (empty for a stream) */
} io_atomic_t;

/* Checks, without writing anything, that path could be written by io_atomic_open:
 * not empty, symlinks resolvable, not a directory or other non-regular file, parent
 * directory present. Tools call it before long work so a bad -o fails at once.
 * 0, or -1 with err. */
int io_output_check(const char *path, char *err, size_t n_err);

/* Opens the temporary file (or the stream) for path. 0, or -1 with err (nothing left
 * behind). On success the caller must end with io_atomic_commit or io_atomic_abort. */
int io_atomic_open(io_atomic_t *a, const char *path, char *err, size_t n_err);
/* fsync, close, rename over the target, fsync the directory. 0, or -1 with err (the
 * temporary file is removed and the target left as it was). */
int io_atomic_commit(io_atomic_t *a, char *err, size_t n_err);
/* Closes and removes the temporary file; the target is left as it was. */
void io_atomic_abort(io_atomic_t *a);

/* The whole of data[0..n) to path through io_atomic_open/commit. 0, or -1 with err. */
int io_save(const char *path, const void *data, size_t n, char *err, size_t n_err);

#endif
