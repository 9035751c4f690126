/* reckeys.h — numeric conditions and key lists over records, for rank's --where,
 * --pareto and --aggregate (and any filter that selects or combines records by keys), and
 * a number of a record as table text. */
#ifndef SIGEO_RECKEYS_H
#define SIGEO_RECKEYS_H

#include <msgpack.h>

#define RECKEYS_MAX 16

/* "KEY OP NUMBER", OP one of <= >= == != < >. */
typedef struct {
    char key[128];
    int op;
    double v;
} rec_cond_t;

/* "KEY1,-KEY2,+KEY3": -KEY when smaller is better. */
typedef struct {
    int n;
    char key[RECKEYS_MAX][128];
    int sign[RECKEYS_MAX]; /* +1 larger is better, -1 smaller is better */
} rec_keys_t;

/* 0, or -1 if s is not a condition. */
int rec_cond_parse(const char *s, rec_cond_t *c);
/* 1 if o passes every condition, 0 if not (a missing key or NaN fails), -1 if a key holds
 * a non-number (its name in *bad). */
int rec_cond_pass(const msgpack_object *o, const rec_cond_t *c, int n, const char **bad);

/* Parse s into k, at most max keys; a key without a dot gets prefix (may be ""). 0, or -1
 * if s is empty, has an empty key, a key too long or too many keys. */
int rec_keys_parse(const char *s, const char *prefix, int max, rec_keys_t *k);
/* The oriented values of o (larger is better) into v, NaN where missing. 1 if all are
 * numbers, 0 if one is missing or NaN, -1 if one is not a number (its name in *bad). */
int rec_keys_values(const msgpack_object *o, const rec_keys_t *k, double *v, const char **bad);

/* What selects a record: --where conditions, --pareto keys (a record missing one is left
 * out) and --aggregate keys (a record missing one stays, with NaN). */
typedef struct {
    rec_cond_t where[RECKEYS_MAX];
    int n_where;
    rec_keys_t par, agg;
} rec_select_t;
/* 1 if o is selected, with the oriented values of its par then agg keys in v (par.n +
 * agg.n of them); 0 if it is left out; -1 if a key holds a non-number (its name in *bad). */
int rec_select(const rec_select_t *s, const msgpack_object *o, double *v, const char **bad);

/* The number at key of o as text: an integer exactly, else %.6g; "-" when missing, "?"
 * when not a number. */
void rec_num_text(const msgpack_object *o, const char *key, char *buf, size_t n);

#endif
