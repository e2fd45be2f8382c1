/* namemap.h - names of files mapped to rows, found again from another
 * spelling of the same path: exact normalised match, else the longest
 * trailing run of path components that names exactly one row. Internal. */
#ifndef XFIQ_EVAL_NAMEMAP_H
#define XFIQ_EVAL_NAMEMAP_H

#include <stdint.h>

#include "eval/eval_util.h"

#define XFIQ_NAMEMAP_ABSENT (-1)
#define XFIQ_NAMEMAP_AMBIGUOUS (-2)

typedef struct xfiq_namemap {
    xfiq_strmap suffix; /* every trailing component run -> row, or ambiguous */
} xfiq_namemap;

void xfiq_namemap_init(xfiq_namemap *m);
void xfiq_namemap_free(xfiq_namemap *m);
xfiq_status xfiq_namemap_add(xfiq_namemap *m, const char *name, int64_t row);
/* Row, XFIQ_NAMEMAP_ABSENT or XFIQ_NAMEMAP_AMBIGUOUS. */
int64_t xfiq_namemap_find(const xfiq_namemap *m, const char *path);

#endif
