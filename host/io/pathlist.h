/* pathlist.h - lists of input paths: from a list file or a recursive walk of
 * a folder, in a stable order so outputs line up run after run. */
#ifndef XFIQ_IO_PATHLIST_H
#define XFIQ_IO_PATHLIST_H

#include <stddef.h>

#include "xfiq.h"

typedef struct xfiq_pathlist {
    char **items; /* malloc'ed strings */
    size_t count;
    size_t cap;
} xfiq_pathlist;

void xfiq_pathlist_init(xfiq_pathlist *l);
void xfiq_pathlist_free(xfiq_pathlist *l);
xfiq_status xfiq_pathlist_push(xfiq_pathlist *l, const char *path);
/* Byte-wise (strcmp) order, like `LC_ALL=C sort`. */
void xfiq_pathlist_sort(xfiq_pathlist *l);

/* Appends the paths of a list file: one path per line, leading/trailing
 * blanks and CR trimmed, blank lines and lines starting with '#' skipped.
 * Relative paths are taken relative to the list file's folder. The order of
 * the file is kept. */
xfiq_status xfiq_listfile_read(const char *path, xfiq_pathlist *out);
/* Appends every image file (xfiq_path_is_image) under dir, recursively,
 * following links (a link back to a folder above is skipped), skipping
 * names that start with '.', sorted with
 * xfiq_pathlist_sort. Paths are dir joined with the relative path. */
xfiq_status xfiq_dir_list_images(const char *dir, xfiq_pathlist *out);

#endif
