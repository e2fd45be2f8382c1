/* bench_bin.c - insightface verification .bin files: a pickle of
 * (bins, issame_list); pair i = images 2i and 2i+1, kept in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "io/readall.h"

xfiq_status xfiq_bench_read_bin(xfiq_bench_t b, const char *path, const xfiq_bench_options *o)
{
    (void)o;
    size_t len = 0;
    XFIQ_TRY(xfiq_file_read_all(path, (size_t)1 << 36, &b->blob, &len));
    XFIQ_TRY(xfiq_pickle_read_bin(b->blob, len, path, &b->bin));
    int file;
    XFIQ_TRY(xfiq_bench_add_file(b, path, &file));
    for (int64_t i = 0; i < b->bin.n_images; i++) {
        char name[64];
        snprintf(name, sizeof(name), "#%lld", (long long)i);
        size_t pl = strlen(path), nl = strlen(name);
        char *full = malloc(pl + nl + 1);
        if (!full)
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        memcpy(full, path, pl);
        memcpy(full + pl, name, nl + 1);
        int64_t idx;
        xfiq_status st = xfiq_bench_add_image(b, full, &idx);
        free(full);
        XFIQ_TRY(st);
    }
    for (int64_t i = 0; i < b->bin.n_labels; i++)
        XFIQ_TRY(xfiq_bench_add_pair(b, 2 * i, 2 * i + 1, b->bin.labels[i], 0, file, 0));
    return XFIQ_OK;
}
