/* reckeys.c — numeric conditions and key lists over records (see reckeys.h). */
#include "io/reckeys.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "io/rec.h"

/* Two-character operators first, so "<=" is not read as "<". */
static const char *const ops[] = {"<=", ">=", "==", "!=", "<", ">"};

int rec_cond_parse(const char *s, rec_cond_t *c) {
    for (const char *p = s; *p; p++)
        for (int o = 0; o < 6; o++) {
            size_t ol = strlen(ops[o]);
            if (strncmp(p, ops[o], ol)) continue;
            size_t kl = (size_t)(p - s);
            while (kl && s[kl - 1] == ' ') kl--;
            const char *v = p + ol;
            while (*v == ' ') v++;
            if (!kl || kl >= sizeof c->key || strcspn(s, "<>=!") < kl || util_parse_double(v, &c->v) ||
                isnan(c->v))
                return -1;
            memcpy(c->key, s, kl);
            c->key[kl] = 0;
            c->op = o;
            return 0;
        }
    return -1;
}

int rec_cond_pass(const msgpack_object *o, const rec_cond_t *c, int n, const char **bad) {
    for (int i = 0; i < n; i++) {
        double x;
        int g = rec_get_num(o, c[i].key, &x);
        if (g == REC_WRONG_TYPE) {
            *bad = c[i].key;
            return -1;
        }
        if (g == REC_MISSING || isnan(x)) return 0;
        double v = c[i].v;
        int ok = c[i].op == 0 ? x <= v : c[i].op == 1 ? x >= v : c[i].op == 2 ? x == v
               : c[i].op == 3 ? x != v : c[i].op == 4 ? x < v : x > v;
        if (!ok) return 0;
    }
    return 1;
}

int rec_keys_parse(const char *s, const char *prefix, int max, rec_keys_t *k) {
    k->n = 0;
    if (max > RECKEYS_MAX) max = RECKEYS_MAX;
    while (*s) {
        size_t l = strcspn(s, ",");
        int sign = 1;
        if (l && (*s == '-' || *s == '+')) sign = *s == '-' ? -1 : 1, s++, l--;
        const char *pre = memchr(s, '.', l) ? "" : prefix;
        if (!l || l + strlen(pre) >= sizeof k->key[0] || k->n == max) return -1;
        memcpy(k->key[k->n], pre, strlen(pre));
        memcpy(k->key[k->n] + strlen(pre), s, l);
        k->key[k->n][strlen(pre) + l] = 0;
        k->sign[k->n++] = sign;
        s += l;
        if (*s == ',' && !*++s) return -1;
    }
    return k->n ? 0 : -1;
}

int rec_keys_values(const msgpack_object *o, const rec_keys_t *k, double *v, const char **bad) {
    int all = 1;
    for (int i = 0; i < k->n; i++) {
        int g = rec_get_num(o, k->key[i], &v[i]);
        if (g == REC_WRONG_TYPE) {
            *bad = k->key[i];
            return -1;
        }
        if (g == REC_MISSING || isnan(v[i])) v[i] = NAN, all = 0;
        else v[i] *= k->sign[i];
    }
    return all;
}

int rec_select(const rec_select_t *s, const msgpack_object *o, double *v, const char **bad) {
    int wp = rec_cond_pass(o, s->where, s->n_where, bad);
    int pp = wp == 1 && s->par.n ? rec_keys_values(o, &s->par, v, bad) : 1;
    if (wp != 1 || pp != 1) return wp < 0 || pp < 0 ? -1 : 0;
    return s->agg.n && rec_keys_values(o, &s->agg, v + s->par.n, bad) < 0 ? -1 : 1;
}

void rec_num_text(const msgpack_object *o, const char *key, char *buf, size_t n) {
    const msgpack_object *v = rec_lookup(o, key);
    double d;
    if (!v) snprintf(buf, n, "-");
    else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        snprintf(buf, n, "%lld", (long long)(v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)v->via.u64 : v->via.i64));
    else if (rec_get_num(o, key, &d) == REC_OK) snprintf(buf, n, "%.6g", d);
    else snprintf(buf, n, "?");
}
