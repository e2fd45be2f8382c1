/* qcsv.c - one quality column of a per-image CSV (`xfiq quality`, `xfiq
 * plq`, `xfiq embed` files.csv) matched to the images of a benchmark. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "eval/namemap.h"
#include "io/csv.h"
#include "io/readall.h"

typedef struct qcsv_ctx {
    const char *path, *column;
    int col_path, col_val, ncols;
    xfiq_namemap names;
    double *val;
    int64_t *line_of;
    size_t cap, cap2;
    int64_t n;
} qcsv_ctx;

static xfiq_status qcsv_line(void *ctx, char *line, int64_t lineno)
{
    qcsv_ctx *c = ctx;
    if (!line[0])
        return XFIQ_OK;
    char where[1100];
    snprintf(where, sizeof(where), "%.1000s:%lld", c->path, (long long)lineno);
    char *f[256];
    int n = 0;
    XFIQ_TRY(xfiq_csv_split(line, f, 256, &n, where));
    if (c->col_path < 0) {
        static const char *const pn[] = {"path", "file", "filename", "image", "name", NULL};
        for (int k = 0; pn[k] && c->col_path < 0; k++)
            for (int i = 0; i < n; i++)
                if (!strcmp(f[i], pn[k])) {
                    c->col_path = i;
                    break;
                }
        for (int i = 0; i < n; i++)
            if (!strcmp(f[i], c->column))
                c->col_val = i;
        if (c->col_path < 0)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: the header names no 'path' (or 'file') column",
                              c->path, (long long)lineno);
        if (c->col_val < 0) {
            char cols[1024] = "";
            for (int i = 0; i < n; i++)
                snprintf(cols + strlen(cols), sizeof(cols) - strlen(cols), "%s%s", i ? ", " : "", f[i]);
            return xfiq_error(XFIQ_ERR_ARG, "%s: no column '%s' (columns: %s)", c->path, c->column, cols);
        }
        c->ncols = n;
        return XFIQ_OK;
    }
    if (n <= c->col_path)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: %d fields, the header has %d", c->path,
                          (long long)lineno, n, c->ncols);
    double v = NAN;
    if (n > c->col_val && f[c->col_val][0] && !xfiq_parse_f64(f[c->col_val], &v))
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: %s '%s' is not a number", c->path,
                          (long long)lineno, c->column, f[c->col_val]);
    XFIQ_TRY(xfiq_grow((void **)&c->val, &c->cap, (size_t)c->n + 1, sizeof(double)));
    XFIQ_TRY(xfiq_grow((void **)&c->line_of, &c->cap2, (size_t)c->n + 1, sizeof(int64_t)));
    c->val[c->n] = v;
    c->line_of[c->n] = lineno;
    if (!f[c->col_path][0])
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: empty path", c->path, (long long)lineno);
    XFIQ_TRY(xfiq_namemap_add(&c->names, f[c->col_path], c->n));
    c->n++;
    return XFIQ_OK;
}

xfiq_status xfiq_quality_csv_read(const char *csv_path, const char *column, xfiq_bench_t b,
                                  double *q)
{
    if (!csv_path || !column || !b || !q)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_quality_csv_read: NULL argument");
    uint8_t *data = NULL;
    size_t len = 0;
    XFIQ_TRY(xfiq_file_read_all(csv_path, (size_t)1 << 32, &data, &len));
    qcsv_ctx c = {.path = csv_path, .column = column, .col_path = -1, .col_val = -1};
    xfiq_namemap_init(&c.names);
    xfiq_status st = xfiq_text_lines((char *)data, len, csv_path, qcsv_line, &c);
    if (st == XFIQ_OK && c.col_path < 0)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: empty file", csv_path);
    for (int64_t i = 0; st == XFIQ_OK && i < b->n_images; i++) {
        q[i] = NAN;
        if (b->first_pair[i] < 0)
            continue;
        int64_t r = xfiq_namemap_find(&c.names, b->names[i]);
        if (r < 0)
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: image '%s' %s in %s",
                            xfiq_bench_pair_origin(b, b->first_pair[i]), b->names[i],
                            r == XFIQ_NAMEMAP_AMBIGUOUS ? "matches several rows" : "has no row",
                            csv_path);
        else if (!isfinite(c.val[r]))
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: image '%s' has no %s value (needed by %s)",
                            csv_path, (long long)c.line_of[r], b->names[i], column,
                            xfiq_bench_pair_origin(b, b->first_pair[i]));
        else
            q[i] = c.val[r];
    }
    xfiq_namemap_free(&c.names);
    free(c.val);
    free(c.line_of);
    free(data);
    return st;
}
