/* par.c — the engine's threads (lay_par), its one GEMM wrapper (lay_gemm) and the exit
 * guard for OpenBLAS under an address-space limit (include/engine/par.h). */
/* on_exit (glibc) */
#define _DEFAULT_SOURCE
#include "engine/par.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- threads ----------------------------------------------------------------------- */

int lay_threads = 1;

/* OpenBLAS's constructor starts a pool of worker threads that the engine never uses
 * (lay_set_threads pins it to one), each of which maps a ~128 MB buffer as it starts and,
 * under an address-space limit that leaves no room, retries forever; exit() then waits for
 * it in OpenBLAS's destructor: a hang after the tool's own output and error message. So
 * under such a limit (ulimit -v) exit skips the library destructors: the handler below,
 * registered after OpenBLAS's constructor ran and so run before them, flushes stdio and
 * ends the process with the same status. Without a limit nothing changes. */
static void exit_now(int status, void *arg) {
    (void)arg;
    fflush(NULL);
    _exit(status);
}

__attribute__((constructor)) static void exit_guard(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY) on_exit(exit_now, NULL);
}

void lay_set_threads(int threads) {
    lay_threads = threads < 1 ? 1 : threads > LAY_MAX_THREADS ? LAY_MAX_THREADS : threads;
    openblas_set_num_threads(1);
}

/* OpenBLAS's per-thread buffer (BUFFER_SIZE of its x86-64 builds, plus a page), and room
 * for what a tool allocates after the check. */
#define BLAS_BUFFER_BYTES (((size_t)128 << 20) + 4096)
#define BLAS_MARGIN_BYTES ((size_t)64 << 20)

int lay_blas_room(char *err, size_t n_err) {
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 0;
    size_t need = (size_t)lay_threads * BLAS_BUFFER_BYTES + BLAS_MARGIN_BYTES;
    void *p = malloc(need); /* address space only: large blocks are mapped, never touched */
    if (p) {
        free(p);
        return 0;
    }
    snprintf(err, n_err,
             "the address-space limit (ulimit -v %llu KB) leaves less than the ~%zu MB that "
             "OpenBLAS's buffers need with %d thread(s); raise it (OpenBLAS would hang, not fail)",
             (unsigned long long)(r.rlim_cur / 1024), need >> 20, lay_threads);
    return -1;
}

/* Start of part t of T over [0, n) in whole units of align. */
static size_t part_lo(size_t n, int T, int t, size_t align) {
    size_t units = (n + align - 1) / align, lo = units * (size_t)t / (size_t)T * align;
    return lo < n ? lo : n;
}

void lay_par(int T, size_t n, size_t align, lay_part_fn f, void *arg) {
    size_t units = align ? (n + align - 1) / align : n;
    if (!align) align = 1;
    if (T > lay_threads) T = lay_threads;
    if ((size_t)T > units) T = (int)units;
    if (T <= 1) {
        f(arg, 0, 0, n);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static, 1)
#endif
    for (int t = 0; t < T; t++) {
        size_t lo = part_lo(n, T, t, align), hi = part_lo(n, T, t + 1, align);
        if (lo < hi) f(arg, t, lo, hi);
    }
}

static int in_parallel(void) {
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return 0;
#endif
}

static void gemm1(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

typedef struct {
    int ta, tb, M, N, K, lda, ldb, ldc, by_rows;
    const float *A, *B;
    float beta, *C;
} gemm_job;

/* Rows [lo,hi) of C (by_rows) or its columns [lo,hi), each block one call over all of K. */
static void gemm_part(void *arg, int t, size_t lo, size_t hi) {
    const gemm_job *g = arg;
    int a = (int)lo, n = (int)(hi - lo);
    (void)t;
    if (g->by_rows)
        gemm1(g->ta, g->tb, n, g->N, g->K, g->ta ? g->A + a : g->A + (size_t)a * g->lda, g->lda,
              g->B, g->ldb, g->beta, g->C + (size_t)a * g->ldc, g->ldc);
    else
        gemm1(g->ta, g->tb, g->M, n, g->K, g->A, g->lda, g->tb ? g->B + (size_t)a * g->ldb : g->B + a,
              g->ldb, g->beta, g->C + a, g->ldc);
}

void lay_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc) {
    /* OpenBLAS is pinned to one thread (lay_set_threads); a GEMM called outside the
     * engine's parallel loops (the recommender layers, linear heads) is split here */
    if (lay_threads > 1 && (double)M * N * K >= (double)(1 << 20) && !in_parallel()) {
        gemm_job g = {ta, tb, M, N, K, lda, ldb, ldc, M >= N, A, B, beta, C};
        lay_par(lay_threads, (size_t)(g.by_rows ? M : N), 16, gemm_part, &g);
        return;
    }
    gemm1(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

