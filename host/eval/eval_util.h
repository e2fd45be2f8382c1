/* eval_util.h - small shared pieces of the evaluation suite: growable
 * arrays, order-preserving keys for doubles, radix sorts, numpy-compatible
 * grids, a string -> index hash map. Internal (not part of the public API). */
#ifndef XFIQ_EVAL_UTIL_H
#define XFIQ_EVAL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "xfiq.h"

/* Ensures *buf holds at least need elements of elem bytes (doubling). */
xfiq_status xfiq_grow(void **buf, size_t *cap, size_t need, size_t elem);

/* Unsigned key with the order of the double (-0.0 is folded onto +0.0 so
 * that equal values tie, as numpy's diff sees them). NaN is not allowed. */
static inline uint64_t xfiq_key_of(double v)
{
    union {
        double d;
        uint64_t u;
    } c;
    c.d = v == 0.0 ? 0.0 : v;
    return (c.u >> 63) ? ~c.u : (c.u | 0x8000000000000000ull);
}

static inline double xfiq_key_value(uint64_t k)
{
    union {
        double d;
        uint64_t u;
    } c;
    c.u = (k >> 63) ? (k & 0x7fffffffffffffffull) : ~k;
    return c.d;
}

/* Ascending LSD radix sort of keys (tmp: n scratch keys). Stable. */
void xfiq_radix_sort_u64(uint64_t *keys, uint64_t *tmp, size_t n);
/* Same carrying a payload (tmp_pay: n scratch). Stable, so equal keys keep
 * the order of their payloads as given. */
void xfiq_radix_sort_u64_pay(uint64_t *keys, uint32_t *pay, uint64_t *tmp, uint32_t *tmp_pay,
                             size_t n);

/* numpy.linspace(start, stop, num)[i]: i * step + start, the last one = stop. */
double xfiq_linspace_at(double start, double stop, int num, int i);

/* String -> int64 map (open addressing; keys are copied). */
typedef struct xfiq_strmap {
    char **keys;
    int64_t *vals;
    size_t cap; /* power of two */
    size_t count;
} xfiq_strmap;

void xfiq_strmap_init(xfiq_strmap *m);
void xfiq_strmap_free(xfiq_strmap *m);
/* Pointer to the value of key (NULL when absent). */
int64_t *xfiq_strmap_get(const xfiq_strmap *m, const char *key, size_t len);
/* Inserts key (len bytes) with val unless present; *slot receives the
 * value's address either way, *added 1 when it was new. */
xfiq_status xfiq_strmap_put(xfiq_strmap *m, const char *key, size_t len, int64_t val,
                            int64_t **slot, int *added);

/* Strict number parsing of a whole token. */
int xfiq_parse_i64(const char *s, int64_t *out);
int xfiq_parse_f64(const char *s, double *out);

#endif
