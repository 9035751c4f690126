/* data.h — image data sets (IDX, CIFAR-10 binary) in memory as normalized float NCHW. */
#ifndef SIGEO_DATA_H
#define SIGEO_DATA_H

#include <stddef.h>
#include <stdint.h>

#define DATA_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

typedef struct {
    int n, c, h, w, classes;
    float *x;   /* (n,c,h,w), normalized */
    int *y;     /* (n) */
    char fingerprint[65]; /* sha256 hex of the raw file bytes (images then labels) */
} dataset_t;

/* Load the train (train=1) or test split from dir: IDX files
 * (train-images-idx3-ubyte[.gz], ...; MNIST and Fashion-MNIST) or CIFAR-10 binary
 * (data_batch_[1-5].bin, test_batch.bin). Pixels scaled to [0,1]; not yet normalized.
 * 0, or -1 with a message in err naming the file and what is wrong; -2 when memory ran
 * out (err says so). */
int data_load(dataset_t *d, const char *dir, int train, char *err, size_t n_err);
int data_load_idx(dataset_t *d, const char *images, const char *labels, char *err, size_t n_err);
void data_free(dataset_t *d);

/* Per-channel mean and std (population) of d, into mean[c], std[c]. */
void data_channel_stats(const dataset_t *d, float *mean, float *std);
void data_normalize(dataset_t *d, const float *mean, const float *std);

/* A reproducible subset: round(fraction*n) examples chosen without replacement by seed,
 * copied into out (which owns them). fraction in (0,1]. 0 or -1. */
int data_subset(dataset_t *out, const dataset_t *in, double fraction, uint64_t seed);

/* Gather examples idx[0..b) into x (b,c,h,w) and y (b). */
void data_batch(const dataset_t *d, const int *idx, int b, float *x, int *y);

#endif
