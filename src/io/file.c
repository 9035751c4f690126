/* file.c — write fully, and atomic replacement of files other stages read (file.h). */
#include "io/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Symlink hops followed before giving up (Linux's own limit is 40). */
#define IO_MAX_LINKS 40

int io_write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The directory part of path into dir ("." when there is none). -1 if too long. */
static int dir_of(const char *path, char *dir, size_t n) {
    const char *slash = strrchr(path, '/');
    size_t k = slash ? (size_t)(slash - path) : 0;
    if (!slash) return snprintf(dir, n, ".") < 0 ? -1 : 0;
    if (k == 0) k = 1; /* "/x": the root */
    if (k >= n) return -1;
    memcpy(dir, path, k);
    dir[k] = 0;
    return 0;
}

/* Follows symlinks from path to the node that would be written, into target. *st is
 * that node's lstat and *exists says whether it exists (a dangling link's target does
 * not). 0, or -1 with err. */
static int resolve(const char *path, char *target, struct stat *st, int *exists, char *err,
                   size_t n_err) {
    if (!*path) {
        snprintf(err, n_err, "empty output path");
        return -1;
    }
    if (strlen(path) >= IO_PATH_MAX) {
        snprintf(err, n_err, "%.64s...: path too long", path);
        return -1;
    }
    strcpy(target, path);
    for (int hop = 0;; hop++) {
        if (lstat(target, st) != 0) {
            if (errno != ENOENT) {
                snprintf(err, n_err, "%s: cannot stat %s: %s", path, target, strerror(errno));
                return -1;
            }
            *exists = 0;
            return 0;
        }
        if (!S_ISLNK(st->st_mode)) {
            *exists = 1;
            return 0;
        }
        char link[IO_PATH_MAX], dir[IO_PATH_MAX];
        ssize_t k = hop < IO_MAX_LINKS ? readlink(target, link, sizeof link - 1) : -1;
        if (k < 0) {
            snprintf(err, n_err, "%s: cannot follow the symbolic link %s: %s", path, target,
                     hop < IO_MAX_LINKS ? strerror(errno) : "too many levels of links");
            return -1;
        }
        link[k] = 0;
        if (link[0] == '/') {
            memcpy(target, link, (size_t)k + 1);
        } else if (dir_of(target, dir, sizeof dir) != 0 ||
                   snprintf(target, IO_PATH_MAX, "%s/%s", dir, link) >= IO_PATH_MAX) {
            snprintf(err, n_err, "%s: symbolic link target path too long", path);
            return -1;
        }
    }
}

static const char *node_kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket"
                                                                                  : "not a regular file";
}

/* resolve() plus the type rule of file.h: *stream is 1 for a character device or FIFO. */
static int classify(const char *path, char *target, int *stream, char *err, size_t n_err) {
    struct stat st;
    int exists;
    if (resolve(path, target, &st, &exists, err, n_err) != 0) return -1;
    *stream = exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode));
    if (exists && !*stream && !S_ISREG(st.st_mode)) {
        int link = strcmp(path, target) != 0;
        snprintf(err, n_err, "%s%s%s is %s; refusing to replace it", path,
                 link ? " -> " : "", link ? target : "", node_kind(st.st_mode));
        return -1;
    }
    return 0;
}

int io_output_check(const char *path, char *err, size_t n_err) {
    char target[IO_PATH_MAX], dir[IO_PATH_MAX];
    int stream;
    if (classify(path, target, &stream, err, n_err) != 0) return -1;
    if (stream) return 0;
    struct stat st;
    if (dir_of(target, dir, sizeof dir) != 0 || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, n_err, "%s: directory %s does not exist", path, dir);
        return -1;
    }
    if (access(dir, W_OK) != 0) {
        snprintf(err, n_err, "%s: cannot write in %s: %s", path, dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* fsync the directory holding path so the rename itself is durable. */
static int fsync_parent(const char *path) {
    char dir[IO_PATH_MAX];
    if (dir_of(path, dir, sizeof dir) != 0) return -1;
    int fd = open(dir, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    /* Some file systems cannot fsync a directory; the rename happened all the same. */
    if (rc != 0 && (errno == EINVAL || errno == EBADF)) rc = 0;
    close(fd);
    return rc;
}

/* The temp file of the save in progress, so SIGINT/SIGTERM/SIGHUP during the write
 * removes it before the default action ends the process. One save at a time. */
static char tmp_live[IO_PATH_MAX + 32];
static volatile sig_atomic_t tmp_armed;
static const int tmp_sigs[3] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction tmp_old[3];

static void tmp_on_signal(int sig) {
    if (tmp_armed) unlink(tmp_live);
    raise(sig); /* SA_RESETHAND restored the default action */
}

static void tmp_guard(int on) {
    for (int i = 0; i < 3; i++) {
        if (on) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = tmp_on_signal;
            sa.sa_flags = SA_RESETHAND;
            sigemptyset(&sa.sa_mask);
            sigaction(tmp_sigs[i], NULL, &tmp_old[i]);
            if (tmp_old[i].sa_handler == SIG_DFL) sigaction(tmp_sigs[i], &sa, NULL);
        } else {
            sigaction(tmp_sigs[i], &tmp_old[i], NULL);
        }
    }
    tmp_armed = on;
}

/* Removes path.tmp.PID files left by a writer that was killed (kill -9): their PID no
 * longer exists. A live writer's file is left alone. */
static void remove_stale_tmp(const char *path) {
    char dir[IO_PATH_MAX];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    if (dir_of(path, dir, sizeof dir) != 0) return;
    DIR *d = opendir(dir);
    if (!d) return;
    size_t bl = strlen(base);
    for (struct dirent *e; (e = readdir(d));) {
        const char *name = e->d_name;
        if (strncmp(name, base, bl) != 0 || strncmp(name + bl, ".tmp.", 5) != 0) continue;
        char *end;
        long pid = strtol(name + bl + 5, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char full[2 * IO_PATH_MAX + 8];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, name) < sizeof full) unlink(full);
    }
    closedir(d);
}

int io_atomic_open(io_atomic_t *a, const char *path, char *err, size_t n_err) {
    memset(a, 0, sizeof *a);
    a->fd = -1;
    if (classify(path, a->target, &a->stream, err, n_err) != 0) return -1;
    snprintf(a->path, sizeof a->path, "%s", path);
    if (a->stream) {
        a->fd = open(a->target, O_WRONLY | O_NOCTTY);
        if (a->fd < 0) {
            snprintf(err, n_err, "%s: cannot open: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", a->target, (long)getpid());
    remove_stale_tmp(a->target);
    memcpy(tmp_live, a->tmp, sizeof tmp_live);
    tmp_guard(1);
    a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (a->fd < 0) {
        snprintf(err, n_err, "%s: cannot create %s: %s", path, a->tmp, strerror(errno));
        tmp_guard(0);
        return -1;
    }
    return 0;
}

void io_atomic_abort(io_atomic_t *a) {
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
    if (!a->stream && a->tmp[0]) {
        unlink(a->tmp);
        tmp_guard(0);
    }
    a->tmp[0] = 0;
}

int io_atomic_commit(io_atomic_t *a, char *err, size_t n_err) {
    const char *what = NULL;
    int saved = 0;
    if (!a->stream && fsync(a->fd) != 0) what = "fsync", saved = errno;
    if (close(a->fd) != 0 && !what) what = "close", saved = errno;
    a->fd = -1;
    if (a->stream) {
        if (what) snprintf(err, n_err, "%s: %s failed: %s", a->path, what, strerror(saved));
        return what ? -1 : 0;
    }
    if (!what && rename(a->tmp, a->target) != 0) what = "rename", saved = errno;
    if (what) {
        io_atomic_abort(a);
        snprintf(err, n_err, "%s: %s failed: %s", a->path, what, strerror(saved));
        return -1;
    }
    a->tmp[0] = 0;
    tmp_guard(0);
    if (fsync_parent(a->target) != 0) {
        snprintf(err, n_err, "%s: fsync of its directory failed: %s", a->path, strerror(errno));
        return -1;
    }
    return 0;
}

int io_save(const char *path, const void *data, size_t n, char *err, size_t n_err) {
    io_atomic_t a;
    if (io_atomic_open(&a, path, err, n_err) != 0) return -1;
    if (io_write_all(a.fd, data, n) != 0) {
        int saved = errno;
        io_atomic_abort(&a);
        snprintf(err, n_err, "%s: write failed: %s", path, strerror(saved));
        return -1;
    }
    return io_atomic_commit(&a, err, n_err);
}
