/* bench_folders.c - a folder with one sub-folder per identity (e.g. the
 * ORL faces s1..s40): every unordered pair of images is a comparison,
 * genuine when both sit in the same sub-folder. */
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "io/pathlist.h"

/* n (n - 1) / 2 pairs: refuse sets whose pair list would not fit memory. */
#define FOLDERS_MAX_PAIRS 50000000LL

xfiq_status xfiq_bench_read_folders(xfiq_bench_t b, const char *path, const xfiq_bench_options *o)
{
    (void)o;
    xfiq_pathlist l;
    xfiq_pathlist_init(&l);
    xfiq_status st = xfiq_dir_list_images(path, &l);
    int64_t n = (int64_t)l.count;
    if (st == XFIQ_OK && n < 2)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: fewer than two images below the folder", path);
    if (st == XFIQ_OK && n * (n - 1) / 2 > FOLDERS_MAX_PAIRS)
        st = xfiq_error(XFIQ_ERR_ARG, "%s: %lld images make %lld pairs (at most %lld): use a pair list",
                        path, (long long)n, (long long)(n * (n - 1) / 2), FOLDERS_MAX_PAIRS);
    int64_t *ident = NULL;
    xfiq_strmap ids;
    xfiq_strmap_init(&ids);
    int file = -1;
    if (st == XFIQ_OK)
        st = xfiq_bench_add_file(b, path, &file);
    if (st == XFIQ_OK && !(ident = malloc((size_t)n * 8)))
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    size_t plen = strlen(path);
    for (int64_t i = 0; st == XFIQ_OK && i < n; i++) {
        const char *p = l.items[i];
        const char *rel = p + plen;
        while (*rel == '/')
            rel++;
        const char *slash = strchr(rel, '/');
        if (!slash) {
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: image '%s' is not inside an identity folder", path, p);
            break;
        }
        int64_t *slot;
        st = xfiq_strmap_put(&ids, rel, (size_t)(slash - rel), (int64_t)ids.count, &slot, NULL);
        if (st == XFIQ_OK)
            ident[i] = *slot;
        int64_t idx;
        if (st == XFIQ_OK)
            st = xfiq_bench_add_image(b, p, &idx);
    }
    for (int64_t i = 0; st == XFIQ_OK && i < n; i++)
        for (int64_t j = i + 1; st == XFIQ_OK && j < n; j++)
            st = xfiq_bench_add_pair(b, i, j, ident[i] == ident[j], 0, file, 0);
    free(ident);
    xfiq_strmap_free(&ids);
    xfiq_pathlist_free(&l);
    return st;
}
