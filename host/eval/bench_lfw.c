/* bench_lfw.c - LFW / XQLFW pairs.txt: header "sets n" (or just "n"), then
 * per set n genuine lines "name n1 n2" and n impostor lines
 * "name1 n1 name2 n2"; image = root/name/name_%04d.ext. XQLFW's
 * xqlfw_pairs.txt also circulates without the header line: then every line
 * is a pair (3 fields genuine, 4 impostor) and the folds are 10 consecutive
 * blocks of the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "io/path.h"
#include "io/readall.h"

typedef struct lfw_ctx {
    xfiq_bench_t b;
    const char *path;
    const char *root;
    const char *ext;
    int file;
    int64_t sets, per, seen; /* seen: pair lines read */
    int header_done;
    int headerless; /* no header line: pairs until the end, folds = 10 blocks */
} lfw_ctx;

static xfiq_status lfw_number(lfw_ctx *c, int64_t lineno, const char *tok, const char *what,
                              int64_t *out)
{
    if (!xfiq_parse_i64(tok, out) || *out < 1)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: %s '%s' is not a positive integer", c->path,
                          (long long)lineno, what, tok);
    return XFIQ_OK;
}

static xfiq_status lfw_image(lfw_ctx *c, const char *name, int64_t num, int64_t *idx)
{
    char rel[1024];
    int n = snprintf(rel, sizeof(rel), "%s/%s_%04lld.%s", name, name, (long long)num, c->ext);
    if (n < 0 || (size_t)n >= sizeof(rel))
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: name too long: %s", c->path, name);
    char *full = xfiq_path_join(c->root, rel);
    if (!full)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    xfiq_path_normalize(full);
    xfiq_status st = xfiq_bench_add_image(c->b, full, idx);
    free(full);
    return st;
}

static xfiq_status lfw_line(void *ctx, char *line, int64_t lineno)
{
    lfw_ctx *c = ctx;
    char *tok[5];
    int n = xfiq_tokens(line, tok, 4);
    if (n == 0)
        return XFIQ_OK; /* blank lines carry nothing */
    if (!c->header_done) {
        if (n == 2) {
            XFIQ_TRY(lfw_number(c, lineno, tok[0], "number of sets", &c->sets));
            XFIQ_TRY(lfw_number(c, lineno, tok[1], "pairs per set", &c->per));
        } else if (n == 1) {
            c->sets = 1;
            XFIQ_TRY(lfw_number(c, lineno, tok[0], "pairs per class", &c->per));
        } else if (n == 3 || n == 4) {
            /* no header: this line is already a pair (XQLFW as QMagFace ships it) */
            c->headerless = 1;
            c->header_done = 1;
            goto pair;
        } else
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected a header 'sets pairs_per_set' (e.g. '10 300')",
                              c->path, (long long)lineno);
        if (c->sets > 1000000 || c->per > 100000000)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: header announces an implausible %lld x %lld pairs",
                              c->path, (long long)lineno, (long long)c->sets, (long long)c->per);
        c->header_done = 1;
        return XFIQ_OK;
    }
pair:
    if (!c->headerless && c->seen >= c->sets * 2 * c->per)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: more pair lines than the header's %lld x 2 x %lld",
                          c->path, (long long)lineno, (long long)c->sets, (long long)c->per);
    int64_t set = c->headerless ? 0 : c->seen / (2 * c->per);
    int genuine = c->headerless ? n == 3 : (c->seen % (2 * c->per)) < c->per;
    if (c->headerless && n != 3 && n != 4)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected a pair 'name n1 n2' or 'name1 n1 name2 n2' (the file "
                          "has no header line), got %d fields", c->path, (long long)lineno, n > 4 ? 5 : n);
    int64_t ia, ib, n1, n2;
    if (genuine) {
        if (n != 3)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected a genuine pair 'name n1 n2' (%lld of set %lld), got %d fields",
                              c->path, (long long)lineno, (long long)(c->seen % (2 * c->per)) + 1,
                              (long long)set + 1, n > 4 ? 5 : n);
        XFIQ_TRY(lfw_number(c, lineno, tok[1], "image number", &n1));
        XFIQ_TRY(lfw_number(c, lineno, tok[2], "image number", &n2));
        XFIQ_TRY(lfw_image(c, tok[0], n1, &ia));
        XFIQ_TRY(lfw_image(c, tok[0], n2, &ib));
    } else {
        if (n != 4)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected an impostor pair 'name1 n1 name2 n2' (set %lld), got %d fields",
                              c->path, (long long)lineno, (long long)set + 1, n > 4 ? 5 : n);
        XFIQ_TRY(lfw_number(c, lineno, tok[1], "image number", &n1));
        XFIQ_TRY(lfw_number(c, lineno, tok[3], "image number", &n2));
        XFIQ_TRY(lfw_image(c, tok[0], n1, &ia));
        XFIQ_TRY(lfw_image(c, tok[2], n2, &ib));
    }
    int fold = c->sets <= XFIQ_MAX_FOLDS ? (int)set : 0;
    XFIQ_TRY(xfiq_bench_add_pair(c->b, ia, ib, genuine, fold, c->file, lineno));
    c->seen++;
    return XFIQ_OK;
}

xfiq_status xfiq_bench_read_lfw(xfiq_bench_t b, const char *path, const xfiq_bench_options *o)
{
    uint8_t *data = NULL;
    size_t len = 0;
    XFIQ_TRY(xfiq_file_read_all(path, (size_t)1 << 32, &data, &len));
    char *dir = xfiq_path_dirname(path);
    lfw_ctx c = {.b = b, .path = path, .root = o->image_root ? o->image_root : dir,
                 .ext = o->image_ext ? o->image_ext : "jpg"};
    xfiq_status st = dir ? xfiq_bench_add_file(b, path, &c.file)
                         : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (st == XFIQ_OK)
        st = xfiq_text_lines((char *)data, len, path, lfw_line, &c);
    if (st == XFIQ_OK && !c.header_done)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: empty file (no header line)", path);
    if (st == XFIQ_OK && c.headerless) {
        /* folds: 10 consecutive blocks in file order */
        int64_t base = b->n_pairs - c.seen;
        int k = c.seen >= 20 ? 10 : 0;
        for (int64_t i = 0; k && i < c.seen; i++)
            b->fold[base + i] = (int32_t)(i * k / c.seen);
        b->n_folds = k;
        if (k)
            snprintf(b->fold_note, sizeof b->fold_note, "no header line: 10 consecutive blocks of %s%lld pairs",
                     c.seen % 10 ? "about " : "", (long long)(c.seen / 10));
        else
            snprintf(b->fold_note, sizeof b->fold_note, "no header line and fewer than 20 pairs: no folds");
        free(dir);
        free(data);
        return st;
    }
    if (st == XFIQ_OK && c.seen != c.sets * 2 * c.per)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: the header announces %lld pair lines, the file has %lld",
                        path, (long long)(c.sets * 2 * c.per), (long long)c.seen);
    if (st == XFIQ_OK) {
        b->n_folds = c.sets >= 2 && c.sets <= XFIQ_MAX_FOLDS ? (int)c.sets : 0;
        snprintf(b->fold_note, sizeof b->fold_note, "from the header line '%lld %lld'", (long long)c.sets,
                 (long long)c.per);
    }
    free(dir);
    free(data);
    return st;
}
