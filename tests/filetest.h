/* filetest.h — the fixtures test_ckpt.c and test_model.c share: ok/NOT OK lines counted in
 * n_fail, the small NB201 cfg both files are built for, whole-file read and write for
 * damaging a saved file, the check that a load refuses a file with a message naming it,
 * and removing the scratch folder. Included by one test file each (everything is
 * static). */
#ifndef SIGEO_TESTS_FILETEST_H
#define SIGEO_TESTS_FILETEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spaces/nb201.h"

static int n_fail;

static inline void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    if (!ok) n_fail++;
}

/* NB201 at C=4, N=1, 1x8x8 input, 3 classes. */
static inline space_cfg_t small_cfg(void) {
    space_cfg_t c;
    space_cfg_default(&space_nb201, &c);
    c.C = 4, c.N = 1, c.in_ch = 1, c.H = c.W = 8, c.classes = 3;
    return c;
}

/* The bytes of path (malloc'd, the caller frees) and their count in *n; NULL if it cannot
 * be opened. */
static inline unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static inline void spit(const char *path, const unsigned char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

/* load(path) must fail with a message that names the file and contains want (unless
 * NULL). load frees what it loaded when it succeeds. */
static inline void refused_by(int (*load)(const char *path, char *err, size_t n_err), const char *path,
                              const char *want, const char *what) {
    char err[512] = "";
    int rc = load(path, err, sizeof err);
    int ok = rc != 0 && strstr(err, path) && (!want || strstr(err, want));
    printf("  # %s -> %s\n", what, rc ? err : "(accepted)");
    check(ok, what);
}

/* Remove the files of dir (one level, as the tests write them) and dir. */
static inline void scratch_clean(const char *dir) {
    DIR *d = opendir(dir);
    char p[1024];
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d) closedir(d);
    rmdir(dir);
}

#endif
