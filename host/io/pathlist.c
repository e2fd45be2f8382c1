/* pathlist.c - input path lists: list files and recursive folder walks. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* d_type */
#include "io/pathlist.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"
#include "io/path.h"
#include "io/readall.h"

/* Real data sets are far shallower; the limit bounds the walk's memory. */
#define XFIQ_WALK_MAX_DEPTH 64
#define XFIQ_LISTFILE_MAX_BYTES ((size_t)1 << 32)

void xfiq_pathlist_init(xfiq_pathlist *l)
{
    l->items = NULL;
    l->count = 0;
    l->cap = 0;
}

void xfiq_pathlist_free(xfiq_pathlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    xfiq_pathlist_init(l);
}

static xfiq_status pathlist_take(xfiq_pathlist *l, char *owned)
{
    if (!owned)
        return xfiq_error(XFIQ_ERR_NOMEM, "path list: out of memory");
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        char **n = realloc(l->items, ncap * sizeof *n);
        if (!n) {
            free(owned);
            return xfiq_error(XFIQ_ERR_NOMEM, "path list: out of memory for %zu entries", ncap);
        }
        l->items = n;
        l->cap = ncap;
    }
    l->items[l->count++] = owned;
    return XFIQ_OK;
}

xfiq_status xfiq_pathlist_push(xfiq_pathlist *l, const char *path)
{
    return pathlist_take(l, strdup(path));
}

/* Drops the entries after the first n (a failed read leaves the list as it was). */
static void pathlist_truncate(xfiq_pathlist *l, size_t n)
{
    while (l->count > n)
        free(l->items[--l->count]);
}

static int pathlist_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void xfiq_pathlist_sort(xfiq_pathlist *l)
{
    if (l->count > 1)
        qsort(l->items, l->count, sizeof *l->items, pathlist_cmp);
}

xfiq_status xfiq_listfile_read(const char *path, xfiq_pathlist *out)
{
    uint8_t *buf;
    size_t len;
    XFIQ_TRY(xfiq_file_read_all(path, XFIQ_LISTFILE_MAX_BYTES, &buf, &len));
    if (memchr(buf, 0, len)) {
        free(buf);
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: holds a NUL byte: not a text list of paths", path);
    }
    char *dir = xfiq_path_dirname(path);
    if (!dir) {
        free(buf);
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", path);
    }
    xfiq_status st = XFIQ_OK;
    size_t first = out->count;
    char *line = (char *)buf;
    while (line && *line && st == XFIQ_OK) {
        char *nl = strchr(line, '\n');
        char *next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        char *s = line, *e = line + strlen(line);
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        if (*s && *s != '#')
            st = pathlist_take(out, xfiq_path_join(dir, s));
        line = next;
    }
    free(dir);
    free(buf);
    if (st != XFIQ_OK)
        pathlist_truncate(out, first);
    return st;
}

/* Folders on the way down from the walk's root: a link back to one of them
 * would repeat the walk forever, so it is skipped. */
typedef struct walk_stack {
    dev_t dev[XFIQ_WALK_MAX_DEPTH + 1];
    ino_t ino[XFIQ_WALK_MAX_DEPTH + 1];
    int n;
} walk_stack;

static int walk_on_stack(const walk_stack *ws, const struct stat *sb)
{
    for (int i = 0; i < ws->n; i++)
        if (ws->dev[i] == sb->st_dev && ws->ino[i] == sb->st_ino)
            return 1;
    return 0;
}

static xfiq_status dir_walk(const char *dir, walk_stack *ws, xfiq_pathlist *out)
{
    struct stat self;
    if (stat(dir, &self) != 0)
        return xfiq_error(XFIQ_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    if (ws->n > XFIQ_WALK_MAX_DEPTH)
        return xfiq_error(XFIQ_ERR_IO, "%s: folders nested deeper than %d", dir, XFIQ_WALK_MAX_DEPTH);
    DIR *d = opendir(dir);
    if (!d)
        return xfiq_error(XFIQ_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    ws->dev[ws->n] = self.st_dev;
    ws->ino[ws->n] = self.st_ino;
    ws->n++;
    xfiq_status st = XFIQ_OK;
    struct dirent *de;
    errno = 0;
    while (st == XFIQ_OK && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", hidden files and macOS "._x.jpg" forks */
        char *child = xfiq_path_join(dir, de->d_name);
        if (!child) {
            st = xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        int is_dir = de->d_type == DT_DIR, is_file = de->d_type == DT_REG;
        struct stat sb;
        int have_sb = 0;
        if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN || is_dir) {
            have_sb = stat(child, &sb) == 0; /* broken links are skipped */
            is_dir = have_sb && S_ISDIR(sb.st_mode);
            is_file = have_sb && S_ISREG(sb.st_mode);
        }
        if (is_dir && !walk_on_stack(ws, &sb))
            st = dir_walk(child, ws, out);
        else if (is_file && xfiq_path_is_image(de->d_name)) {
            st = pathlist_take(out, child);
            child = NULL;
        }
        free(child);
        errno = 0;
    }
    if (st == XFIQ_OK && errno != 0)
        st = xfiq_error(XFIQ_ERR_IO, "%s: cannot read folder: %s", dir, strerror(errno));
    closedir(d);
    ws->n--;
    return st;
}

xfiq_status xfiq_dir_list_images(const char *dir, xfiq_pathlist *out)
{
    size_t first = out->count;
    walk_stack *ws = calloc(1, sizeof *ws);
    if (!ws)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", dir);
    xfiq_status st = dir_walk(dir, ws, out);
    free(ws);
    if (st != XFIQ_OK) {
        pathlist_truncate(out, first);
        return st;
    }
    /* Sort only what this walk added: earlier entries keep their place. */
    if (out->count - first > 1)
        qsort(out->items + first, out->count - first, sizeof *out->items, pathlist_cmp);
    return XFIQ_OK;
}
