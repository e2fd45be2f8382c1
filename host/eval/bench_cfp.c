/* bench_cfp.c - the CFP protocol folder: Pair_list_F.txt / Pair_list_P.txt
 * map 1-based indexes to image paths (relative to the Protocol folder);
 * Split/FP|FF/01..10/same.txt and diff.txt hold "i,j" index pairs (FP:
 * frontal, profile; FF: frontal, frontal). One fold per split, genuine
 * pairs first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "io/path.h"
#include "io/readall.h"

typedef struct cfp_list {
    const char *path;
    const char *root;
    char **rel; /* rel[i] for index i+1 */
    int64_t n;
    size_t cap;
} cfp_list;

static xfiq_status cfp_list_line(void *ctx, char *line, int64_t lineno)
{
    cfp_list *l = ctx;
    char *tok[3];
    int n = xfiq_tokens(line, tok, 2);
    if (n == 0)
        return XFIQ_OK;
    int64_t idx;
    if (n != 2 || !xfiq_parse_i64(tok[0], &idx))
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected 'index path'", l->path, (long long)lineno);
    if (idx != l->n + 1)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: index %lld out of sequence (expected %lld)",
                          l->path, (long long)lineno, (long long)idx, (long long)l->n + 1);
    XFIQ_TRY(xfiq_grow((void **)&l->rel, &l->cap, (size_t)l->n + 1, sizeof(char *)));
    char *full = xfiq_path_join(l->root, tok[1]);
    if (!full)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    xfiq_path_normalize(full);
    l->rel[l->n++] = full;
    return XFIQ_OK;
}

static void cfp_list_free(cfp_list *l)
{
    for (int64_t i = 0; i < l->n; i++)
        free(l->rel[i]);
    free(l->rel);
}

static xfiq_status cfp_list_read(const char *proto, const char *name, const char *root,
                                 cfp_list *l)
{
    char *path = xfiq_path_join(proto, name);
    if (!path)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    memset(l, 0, sizeof(*l));
    l->root = root;
    uint8_t *data = NULL;
    size_t len = 0;
    xfiq_status st = xfiq_file_read_all(path, (size_t)1 << 30, &data, &len);
    l->path = path;
    if (st == XFIQ_OK)
        st = xfiq_text_lines((char *)data, len, path, cfp_list_line, l);
    if (st == XFIQ_OK && !l->n)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: empty image list", path);
    free(data);
    free(path);
    l->path = NULL;
    return st;
}

typedef struct cfp_split {
    xfiq_bench_t b;
    const char *path;
    cfp_list *la, *lb;
    int64_t *ia, *ib; /* image index of list entries, -1 until first used */
    int label, fold, file;
} cfp_split;

static xfiq_status cfp_image(cfp_split *c, cfp_list *l, int64_t *map, int64_t k, int64_t lineno,
                             int64_t *out)
{
    if (k < 1 || k > l->n)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: index %lld outside the image list 1..%lld",
                          c->path, (long long)lineno, (long long)k, (long long)l->n);
    if (map[k - 1] < 0)
        XFIQ_TRY(xfiq_bench_add_image(c->b, l->rel[k - 1], &map[k - 1]));
    *out = map[k - 1];
    return XFIQ_OK;
}

static xfiq_status cfp_split_line(void *ctx, char *line, int64_t lineno)
{
    cfp_split *c = ctx;
    char *tok[3];
    char *comma = strchr(line, ',');
    if (comma)
        *comma = ' ';
    int n = xfiq_tokens(line, tok, 2);
    if (n == 0)
        return XFIQ_OK;
    int64_t i = 0, j = 0, ia = -1, ib = -1;
    if (n != 2 || !comma || !xfiq_parse_i64(tok[0], &i) || !xfiq_parse_i64(tok[1], &j))
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected 'index,index'", c->path, (long long)lineno);
    XFIQ_TRY(cfp_image(c, c->la, c->ia, i, lineno, &ia));
    XFIQ_TRY(cfp_image(c, c->lb, c->ib, j, lineno, &ib));
    return xfiq_bench_add_pair(c->b, ia, ib, c->label, c->fold, c->file, lineno);
}

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

xfiq_status xfiq_bench_read_cfp(xfiq_bench_t b, const char *path, const xfiq_bench_options *o)
{
    const char *which = o->cfp_protocol ? o->cfp_protocol : "FP";
    int fp = !strcmp(which, "FP") || !strcmp(which, "fp");
    if (!fp && strcmp(which, "FF") && strcmp(which, "ff"))
        return xfiq_error(XFIQ_ERR_ARG, "CFP protocol '%s': use FP or FF", which);
    char *proto = xfiq_path_join(path, "Protocol");
    if (!proto)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (!is_dir(proto)) {
        free(proto);
        proto = strdup(path);
        if (!proto)
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    }
    const char *root = o->image_root ? o->image_root : proto;
    cfp_list lf, lp;
    memset(&lp, 0, sizeof(lp));
    xfiq_status st = cfp_list_read(proto, "Pair_list_F.txt", root, &lf);
    if (st == XFIQ_OK && fp)
        st = cfp_list_read(proto, "Pair_list_P.txt", root, &lp);
    int64_t *mf = NULL, *mp = NULL;
    if (st == XFIQ_OK) {
        mf = malloc((size_t)lf.n * 8);
        mp = malloc((size_t)(fp ? lp.n : 1) * 8);
        if (!mf || !mp)
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        else {
            memset(mf, 0xff, (size_t)lf.n * 8);
            memset(mp, 0xff, (size_t)(fp ? lp.n : 1) * 8);
        }
    }
    int n_splits = 0;
    for (int s = 1; st == XFIQ_OK && s <= XFIQ_MAX_FOLDS; s++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "Split/%s/%02d", fp ? "FP" : "FF", s);
        char *dir = xfiq_path_join(proto, rel);
        if (!dir) {
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
            break;
        }
        if (!is_dir(dir)) {
            free(dir);
            break;
        }
        for (int k = 0; st == XFIQ_OK && k < 2; k++) {
            char *file = xfiq_path_join(dir, k == 0 ? "same.txt" : "diff.txt");
            uint8_t *data = NULL;
            size_t len = 0;
            cfp_split c = {.b = b, .path = file, .la = &lf, .lb = fp ? &lp : &lf, .ia = mf,
                           .ib = fp ? mp : mf, .label = k == 0, .fold = s - 1};
            st = file ? xfiq_file_read_all(file, (size_t)1 << 30, &data, &len)
                      : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
            if (st == XFIQ_OK)
                st = xfiq_bench_add_file(b, file, &c.file);
            int64_t before = b->n_pairs;
            if (st == XFIQ_OK)
                st = xfiq_text_lines((char *)data, len, file, cfp_split_line, &c);
            if (st == XFIQ_OK && b->n_pairs == before)
                st = xfiq_error(XFIQ_ERR_FORMAT, "%s: empty pair list", file);
            free(data);
            free(file);
        }
        free(dir);
        n_splits++;
    }
    if (st == XFIQ_OK && !n_splits)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: no Split/%s/01 folder", proto, fp ? "FP" : "FF");
    if (st == XFIQ_OK)
        b->n_folds = n_splits >= 2 ? n_splits : 0;
    cfp_list_free(&lf);
    cfp_list_free(&lp);
    free(mf);
    free(mp);
    free(proto);
    return st;
}
