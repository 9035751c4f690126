/* recset.h — records held in memory as their packed bytes, each with a sort key, a truth
 * value and a fixed count of other numbers (rank's --pareto and --aggregate keys), and
 * the columns of numbers found under a map key (rank --by all): what a stage that must see
 * every record before writing (rank) keeps, and the filters, aggregates and correlations
 * it computes over them. */
#ifndef SIGEO_RECSET_H
#define SIGEO_RECSET_H

#include <msgpack.h>
#include <stddef.h>

typedef struct {
    size_t off, len; /* packed bytes in the arena */
    size_t row;      /* the order it was added in: its numbers are vals + row * n_vals and
                        its column values col[c].v[row] */
    double key, truth;
} recset_item_t;

/* A column of numbers by row, NaN where absent (rank --by all). */
typedef struct {
    char *name;
    double *v;
    size_t n, cap;
} recset_col_t;

typedef struct {
    char *arena;
    size_t n_arena, cap_arena;
    recset_item_t *it;
    size_t n, cap, n_rows;
    int n_vals;   /* numbers per item besides key and truth */
    double *vals; /* n_vals per row */
    size_t cap_vals;
    recset_col_t *col; /* recset_collect's columns */
    size_t n_col;
    msgpack_sbuffer sb;
    msgpack_unpacked u;
} recset_t;

/* An empty set whose items carry n_vals numbers each (0 for none). */
void recset_init(recset_t *s, int n_vals);
void recset_free(recset_t *s);
/* Append o with its key, truth and vals (n_vals numbers; NULL when n_vals is 0). 0, or -1
 * out of memory. */
int recset_add(recset_t *s, const msgpack_object *o, double key, double truth, const double *vals);
/* Stable sort, larger key first (smaller with asc), NaN last. 0, or -1 out of memory. */
int recset_sort(recset_t *s, int asc);
/* Keep the first k after sorting and compact the arena to their bytes (the numbers and
 * columns by row stay as they are: a bounded set carries none). 0, or -1. */
int recset_keep_top(recset_t *s, size_t k, int asc);
/* Keep the items i with keep[i] (in their order). */
void recset_filter(recset_t *s, const unsigned char *keep);
/* Set the number at dotted path key to v[i] in record i. 0, or -1 out of memory. */
int recset_set_f64(recset_t *s, const char *key, const double *v);
/* Record i unpacked into s's buffer (valid until the next call). NULL out of memory. */
const msgpack_object *recset_get(recset_t *s, size_t i);

/* The numbers directly under map key `under` of o, the item added last, into s's columns
 * (new names append a column). 0, or -1 out of memory. */
int recset_collect(recset_t *s, const msgpack_object *o, const char *under);

/* Keep the items whose numbers first .. first+m-1 (larger is better) no other item
 * dominates (stats_pareto_front). 0, or -1 out of memory. */
int recset_pareto(recset_t *s, int first, int m);
/* Each item's key becomes the rank aggregate (stats_rank_aggregate, use_log as there) of
 * its numbers first .. first+m-1 over the items; set in every record at key too unless key
 * is NULL. 0, or -1 out of memory. */
int recset_aggregate(recset_t *s, int first, int m, int use_log, const char *key);

/* The first n items (at most s->n) to stdout: their packed bytes (RECSET_MSGPACK), JSON
 * Lines, or a table with a header: rank, the number at key, at truth (unless NULL), index
 * and arch. 0; -1 a write error (errno says which); -2 a record JSON cannot hold (err
 * says why, naming the ranked record); -3 out of memory. stdout is not closed. */
enum { RECSET_MSGPACK, RECSET_JSONL, RECSET_TABLE };
int recset_write(recset_t *s, size_t n, int fmt, const char *key, const char *truth, char *err, size_t n_err);

/* How well a ranking key ranks the items' truth, over the items where both are numbers. */
typedef struct {
    size_t n, k;                       /* pairs; the top-k of the hit rate (at most n) */
    double kendall_tau_b, spearman_rho, topk_hit;
} recset_corr_t;
/* The correlations of column c (-1: the items' keys; negated with asc, so larger ranks
 * better) with the truth, top-k hit rate at k. 0, or -1 out of memory. */
int recset_correlate(const recset_t *s, int c, int asc, size_t k, recset_corr_t *r);
/* Kendall tau-b, Spearman rho and the top-k hit rate with the truth to stderr, of the key
 * by (NULL: every collected column, named "scores.NAME"), and as rank_stats records on
 * stdout when records is set (docs/records.md). 0, -1 write error (reported), -3 out of
 * memory. */
int recset_report(const recset_t *s, const char *by, const char *truth, int asc, size_t k, int records);

/* Grow *p to hold need elements of elem bytes (doubling). 0, or -1 out of memory. */
int recset_grow(void **p, size_t *cap, size_t need, size_t elem);

#endif
