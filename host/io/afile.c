/* afile.c - atomic file output (temporary file in the same folder + rename). */
#define _POSIX_C_SOURCE 200809L
#include "io/afile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

static atomic_uint g_counter;

static void afile_release(xfiq_afile *af)
{
    free(af->path);
    free(af->tmp);
    af->fp = NULL;
    af->path = NULL;
    af->tmp = NULL;
}

xfiq_status xfiq_afile_open(xfiq_afile *af, const char *path)
{
    memset(af, 0, sizeof *af);
    if (!path || !*path)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_afile_open: empty output path");
    size_t n = strlen(path);
    if (path[n - 1] == '/')
        return xfiq_error(XFIQ_ERR_ARG, "%s: output path names a folder", path);
    /* Never replace a symlink (rename would put a regular file in its place
     * and leave the target untouched), a FIFO, a device or a folder. */
    struct stat ls;
    if (lstat(path, &ls) == 0 && !S_ISREG(ls.st_mode))
        return xfiq_error(XFIQ_ERR_IO, "%s: output path is a %s: refused (choose another output path)", path,
                          S_ISLNK(ls.st_mode) ? "symbolic link" : S_ISDIR(ls.st_mode) ? "folder"
                          : S_ISFIFO(ls.st_mode) ? "FIFO (named pipe)" : S_ISCHR(ls.st_mode) ? "character device"
                          : S_ISBLK(ls.st_mode) ? "block device" : "special file");
    af->path = strdup(path);
    af->tmp = malloc(n + 48);
    if (!af->path || !af->tmp) {
        afile_release(af);
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", path);
    }
    /* O_EXCL on a fresh name instead of mkstemp: mkstemp forces mode 0600,
     * and the umask can only be read by changing it (not thread-safe). */
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        unsigned k = atomic_fetch_add(&g_counter, 1u);
        snprintf(af->tmp, n + 48, "%s.tmp.%ld.%u", path, (long)getpid(), k);
        fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        xfiq_status st = xfiq_error(XFIQ_ERR_IO, "%s: cannot create temporary file %s: %s", path,
                                    af->tmp, strerror(e));
        afile_release(af);
        return st;
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        unlink(af->tmp);
        xfiq_status st = xfiq_error(XFIQ_ERR_IO, "%s: fdopen: %s", path, strerror(e));
        afile_release(af);
        return st;
    }
    return XFIQ_OK;
}

xfiq_status xfiq_afile_finish(xfiq_afile *af)
{
    if (!af || !af->fp)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_afile_finish: file is not open");
    int bad = ferror(af->fp);
    int e = bad ? EIO : 0;
    if (!bad && fflush(af->fp) != 0) {
        bad = 1;
        e = errno;
    }
    /* Without fsync a crash after rename can leave an empty file under the
     * final name on some file systems. */
    if (!bad && fsync(fileno(af->fp)) != 0 && errno != EINVAL && errno != EROFS) {
        bad = 1;
        e = errno;
    }
    if (fclose(af->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    af->fp = NULL;
    if (!bad)
        return XFIQ_OK;
    unlink(af->tmp);
    xfiq_status st = xfiq_error(XFIQ_ERR_IO, "%s: write failed: %s", af->path, strerror(e ? e : EIO));
    afile_release(af);
    return st;
}

xfiq_status xfiq_dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return xfiq_error(XFIQ_ERR_IO, "%s: cannot open the folder to sync it: %s", dir, strerror(errno));
    int bad = fsync(fd) != 0 && errno != EINVAL && errno != EROFS;
    int e = errno;
    close(fd);
    return bad ? xfiq_error(XFIQ_ERR_IO, "%s: cannot sync the folder: %s", dir, strerror(e)) : XFIQ_OK;
}

xfiq_status xfiq_dir_sync_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xfiq_dir_sync(".");
    if (slash == path)
        return xfiq_dir_sync("/");
    char *dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    xfiq_status st = xfiq_dir_sync(dir);
    free(dir);
    return st;
}

xfiq_status xfiq_afile_publish(xfiq_afile *af)
{
    if (!af || af->fp || !af->tmp)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_afile_publish: file is not finished");
    xfiq_status st = XFIQ_OK;
    if (rename(af->tmp, af->path) != 0) {
        int e = errno;
        unlink(af->tmp);
        st = xfiq_error(XFIQ_ERR_IO, "%s: cannot rename the finished output into place: %s", af->path, strerror(e));
    }
    afile_release(af);
    return st;
}

/* The data was synced before the rename; the rename itself is only durable
 * once the folder is. */
xfiq_status xfiq_afile_commit(xfiq_afile *af)
{
    XFIQ_TRY(xfiq_afile_finish(af));
    char *path = strdup(af->path);
    if (!path) {
        xfiq_afile_abort(af);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    }
    xfiq_status st = xfiq_afile_publish(af);
    if (st == XFIQ_OK)
        st = xfiq_dir_sync_of(path);
    free(path);
    return st;
}

xfiq_status xfiq_afile_commit_set(xfiq_afile *const *afs, int n)
{
    xfiq_status st = XFIQ_OK;
    for (int i = 0; i < n && st == XFIQ_OK; i++)
        st = xfiq_afile_finish(afs[i]);
    if (st != XFIQ_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", xfiq_last_error());
        for (int i = 0; i < n; i++)
            xfiq_afile_abort(afs[i]);
        return xfiq_error(st, "%s (no output of this run was written; the previous ones are untouched)", msg);
    }
    char *paths[16] = {0}; /* a set is a few files: each one's folder is synced after all are renamed */
    for (int i = 0; i < n; i++) {
        if (i < 16)
            paths[i] = strdup(afs[i]->path);
        xfiq_status s2 = xfiq_afile_publish(afs[i]);
        if (s2 != XFIQ_OK && st == XFIQ_OK)
            st = s2;
    }
    for (int i = 0; i < n && i < 16; i++) {
        if (st == XFIQ_OK)
            st = paths[i] ? xfiq_dir_sync_of(paths[i]) : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        free(paths[i]);
    }
    return st;
}

void xfiq_afile_abort(xfiq_afile *af)
{
    if (!af)
        return;
    if (af->fp)
        fclose(af->fp);
    if (af->tmp)
        unlink(af->tmp);
    afile_release(af);
}

xfiq_status xfiq_afile_write_all(const char *path, const void *data, size_t len)
{
    xfiq_afile af;
    XFIQ_TRY(xfiq_afile_open(&af, path));
    if (len && fwrite(data, 1, len, af.fp) != len) {
        int e = errno;
        xfiq_afile_abort(&af);
        return xfiq_error(XFIQ_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    return xfiq_afile_commit(&af);
}
