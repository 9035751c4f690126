/* recset.h — records held in memory as their packed bytes, each with a sort key and a
 * truth value: what a stage that must see every record before writing (rank) keeps. */
#ifndef SIGEO_RECSET_H
#define SIGEO_RECSET_H

#include <msgpack.h>
#include <stddef.h>

typedef struct {
    size_t off, len; /* packed bytes in the arena */
    double key, truth;
} recset_item_t;

typedef struct {
    char *arena;
    size_t n_arena, cap_arena;
    recset_item_t *it;
    size_t n, cap;
    msgpack_sbuffer sb;
    msgpack_unpacked u;
} recset_t;

void recset_init(recset_t *s);
void recset_free(recset_t *s);
/* Append o with its key and truth. 0, or -1 out of memory. */
int recset_add(recset_t *s, const msgpack_object *o, double key, double truth);
/* Stable sort, larger key first (smaller with asc), NaN last. 0, or -1 out of memory. */
int recset_sort(recset_t *s, int asc);
/* Keep the first k after sorting and compact the arena to their bytes. 0, or -1. */
int recset_keep_top(recset_t *s, size_t k, int asc);
/* Keep the items i with keep[i] (in their order). */
void recset_filter(recset_t *s, const unsigned char *keep);
/* Set the number at dotted path key to v[i] in record i. 0, or -1 out of memory. */
int recset_set_f64(recset_t *s, const char *key, const double *v);
/* Record i unpacked into s's buffer (valid until the next call). NULL out of memory. */
const msgpack_object *recset_get(recset_t *s, size_t i);

/* A column of numbers by record number, NaN where absent (rank --by all). */
typedef struct {
    char *name;
    double *v;
    size_t n, cap;
} recset_col_t;

/* The numbers directly under map key `under` of record i into the columns *cols (new
 * names append a column). 0, or -1 out of memory. */
int recset_collect(const msgpack_object *o, const char *under, size_t i, recset_col_t **cols, size_t *n_cols);

/* Grow *p to hold need elements of elem bytes (doubling). 0, or -1 out of memory. */
int recset_grow(void **p, size_t *cap, size_t need, size_t elem);

#endif
