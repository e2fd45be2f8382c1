/* afile.h - atomic file output: write to a temporary file in the target's
 * folder, then rename over the target, so readers never see a half-written
 * file and a failed run leaves the previous version in place. */
#ifndef XFIQ_IO_AFILE_H
#define XFIQ_IO_AFILE_H

#include <stddef.h>
#include <stdio.h>

#include "xfiq.h"

typedef struct xfiq_afile {
    FILE *fp;   /* write here between open and commit/abort */
    char *path; /* final name */
    char *tmp;  /* temporary name, same folder */
} xfiq_afile;

/* Creates "<path>.tmp.<pid>.<n>" (mode 0666 minus umask, like fopen).
 * Refuses a path that exists and is not a regular file (symbolic link,
 * FIFO, device, folder). */
xfiq_status xfiq_afile_open(xfiq_afile *af, const char *path);
/* Flushes, syncs, closes, renames onto path and syncs the folder. Any write error seen on fp
 * since open fails the commit, removes the temporary file and leaves path as
 * it was. af is released either way. */
xfiq_status xfiq_afile_commit(xfiq_afile *af);
/* The two halves of commit: finish flushes, syncs and closes (the data is
 * safely in the temporary file; on error it is removed and af released);
 * publish renames it onto path; the rename is durable once the folder is
 * synced (xfiq_dir_sync_of), which a caller publishing many files does once
 * after all of them. */
xfiq_status xfiq_afile_finish(xfiq_afile *af);
xfiq_status xfiq_afile_publish(xfiq_afile *af);
/* A command's outputs together: finishes every file first; if any fails
 * (disk full ...) all temporaries are removed and no output is replaced;
 * only then are they renamed into place, one after the other, and their
 * folders synced. */
xfiq_status xfiq_afile_commit_set(xfiq_afile *const *afs, int n);
/* Closes and removes the temporary file; safe on a zeroed or released af. */
void xfiq_afile_abort(xfiq_afile *af);

/* fsync of the folder holding path (its entries: renames, creations,
 * removals), so they survive a power loss. File systems that cannot sync a
 * folder (EINVAL, EROFS) count as success. */
xfiq_status xfiq_dir_sync_of(const char *path);
/* fsync of the folder dir itself. */
xfiq_status xfiq_dir_sync(const char *dir);

/* Whole-buffer convenience: open, write len bytes, commit. */
xfiq_status xfiq_afile_write_all(const char *path, const void *data, size_t len);

#endif
