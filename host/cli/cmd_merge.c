#define _GNU_SOURCE
/* cmd_merge.c - `xfiq merge`: joins the outputs of `--shard K/N` runs into
 * exactly the outputs of one run over all inputs: files.csv rows are
 * concatenated (their embedding row numbers shifted), embeddings.npy and
 * magnitudes.npy rows appended, in shard order; a quality CSV is joined the
 * same way; `plq` folders get plq.csv joined and every file of their maps/
 * copied (map names carry the global input index, so they are those of one
 * run). Shards must be given in order and be complete: the input indexes of
 * consecutive shards must follow each other. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/status.h"
#include "io/afile.h"
#include "io/npy.h"
#include "io/path.h"
#include "io/readall.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xfiq merge -o OUT SHARD1 SHARD2 ...\n"
               "joins the outputs of `xfiq embed --shard K/N` (folders: files.csv, embeddings.npy,\n"
               "magnitudes.npy), of `xfiq plq --shard K/N` (folders: plq.csv, maps/) or of\n"
               "`xfiq quality --shard K/N` (CSV files), given in shard order,\n"
               "into OUT (a folder, or a CSV file): byte for byte what one run over all inputs writes.\n"
               "Every output is written to a temporary file and renamed only when all are complete.\n");
}

/* Splits text into CSV records (quotes may hold commas and newlines). */
typedef struct rec {
    const char *s;
    size_t len;
} rec;

static size_t next_record(const char *t, size_t n, size_t pos, rec *r)
{
    int q = 0;
    size_t i = pos;
    for (; i < n; i++) {
        if (t[i] == '"')
            q = !q;
        else if (t[i] == '\n' && !q)
            break;
    }
    r->s = t + pos;
    r->len = i - pos;
    return i < n ? i + 1 : n;
}

/* Start and end of field k of a record. */
static int field(const rec *r, int k, size_t *b, size_t *e)
{
    int q = 0, f = 0;
    size_t start = 0;
    for (size_t i = 0; i <= r->len; i++) {
        if (i < r->len && r->s[i] == '"')
            q = !q;
        if (i == r->len || (r->s[i] == ',' && !q)) {
            if (f == k) {
                *b = start;
                *e = i;
                return 1;
            }
            f++;
            start = i + 1;
        }
    }
    return 0;
}

static int field_i64(const rec *r, int k, long long *v)
{
    size_t b, e;
    if (!field(r, k, &b, &e) || e == b || e - b > 20)
        return 0;
    char tmp[24];
    memcpy(tmp, r->s + b, e - b);
    tmp[e - b] = 0;
    char *end;
    *v = strtoll(tmp, &end, 10);
    return *end == 0;
}

/* Appends shard CSV `path` (rows shifted by row_off in column row_col, -1:
 * none) to out. *next_index: the input index the shard must start at (-1:
 * any); set to one past its last. */
static int merge_csv(const char *path, FILE *out, int first, char **header, int *row_col, long long row_off,
                     long long *next_index, long long *rows_seen)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (xfiq_file_read_all(path, (size_t)1 << 34, &data, &len) != XFIQ_OK) {
        fprintf(stderr, "xfiq merge: %s\n", xfiq_last_error());
        return 1;
    }
    const char *t = (const char *)data;
    rec r;
    size_t pos = next_record(t, len, 0, &r);
    int rc = 0;
    if (!r.len) {
        fprintf(stderr, "xfiq merge: %s: empty file (no header line)\n", path);
        rc = 1;
    } else if (first) {
        *header = strndup(r.s, r.len);
        *row_col = -1;
        for (int k = 0;; k++) {
            size_t b, e;
            if (!field(&r, k, &b, &e))
                break;
            if (e - b == 3 && !memcmp(r.s + b, "row", 3))
                *row_col = k;
        }
        fwrite(r.s, 1, r.len, out);
        fputc('\n', out);
    } else if (strlen(*header) != r.len || memcmp(*header, r.s, r.len)) {
        fprintf(stderr, "xfiq merge: %s: its header differs from the first shard's (outputs of different "
                "commands?)\n", path);
        rc = 1;
    }
    long long line = 1;
    while (!rc && pos < len) {
        pos = next_record(t, len, pos, &r);
        line++;
        if (!r.len)
            continue;
        long long idx, row;
        if (!field_i64(&r, 0, &idx)) {
            fprintf(stderr, "xfiq merge: %s:%lld: the first field is not an input index\n", path, line);
            rc = 1;
            break;
        }
        if (*next_index >= 0 && idx != *next_index) {
            fprintf(stderr, "xfiq merge: %s:%lld: input index %lld where %lld was expected (shards missing, "
                    "repeated or out of order?)\n", path, line, idx, *next_index);
            rc = 1;
            break;
        }
        *next_index = idx + 1;
        size_t b, e;
        if (*row_col >= 0 && field(&r, *row_col, &b, &e) && field_i64(&r, *row_col, &row) && row >= 0) {
            fwrite(r.s, 1, b, out);
            fprintf(out, "%lld", row + row_off);
            fwrite(r.s + e, 1, r.len - e, out);
            (*rows_seen)++;
        } else {
            fwrite(r.s, 1, r.len, out);
        }
        fputc('\n', out);
    }
    free(data);
    return rc;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The PLQ map files copied so far: finished temporaries, renamed into place
 * only when every output is complete. */
typedef struct map_set {
    xfiq_afile *f;
    size_t n, cap;
} map_set;

/* A temporary of an interrupted run ("<name>.tmp.<pid>.<n>"): not an output. */
static int is_leftover_tmp(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    while (t && strstr(t + 1, ".tmp."))
        t = strstr(t + 1, ".tmp.");
    if (!t)
        return 0;
    int dots = 0;
    for (const char *p = t + 5; *p; p++) {
        if (*p == '.')
            dots++;
        else if (*p < '0' || *p > '9')
            return 0;
    }
    return dots == 1;
}

static int copy_map(const char *src, const char *dst, map_set *ms)
{
    FILE *in = fopen(src, "rb");
    if (!in) {
        fprintf(stderr, "xfiq merge: %s: %s\n", src, strerror(errno));
        return 1;
    }
    if (ms->n == ms->cap) {
        size_t cap = ms->cap ? 2 * ms->cap : 1024;
        xfiq_afile *f = realloc(ms->f, cap * sizeof *f);
        if (!f) {
            fclose(in);
            fprintf(stderr, "xfiq merge: out of memory\n");
            return 1;
        }
        ms->f = f;
        ms->cap = cap;
    }
    xfiq_afile *af = &ms->f[ms->n];
    if (xfiq_afile_open(af, dst) != XFIQ_OK) {
        fclose(in);
        fprintf(stderr, "xfiq merge: %s\n", xfiq_last_error());
        return 1;
    }
    char buf[1 << 16];
    size_t got;
    int bad = 0;
    while (!bad && (got = fread(buf, 1, sizeof buf, in)) > 0)
        bad = fwrite(buf, 1, got, af->fp) != got;
    if (ferror(in)) {
        fprintf(stderr, "xfiq merge: %s: read error\n", src);
        fclose(in);
        xfiq_afile_abort(af);
        return 1;
    }
    fclose(in);
    if (bad || xfiq_afile_finish(af) != XFIQ_OK) { /* finish reports the write error and releases af */
        if (bad)
            fprintf(stderr, "xfiq merge: %s: write failed: %s\n", dst, strerror(errno));
        else
            fprintf(stderr, "xfiq merge: %s\n", xfiq_last_error());
        xfiq_afile_abort(af);
        return 1;
    }
    ms->n++;
    return 0;
}

/* Copies the files of shard/maps into out_maps: each must be named after an
 * input of this shard ("NNNNNN_name...", first <= NNNNNN < end). */
static int merge_maps(const char *shard, const char *out_maps, long long first, long long end, map_set *ms)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/maps", shard);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) /* every input of the shard failed, or --no-png --no-npy */
            return 0;
        fprintf(stderr, "xfiq merge: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (nm[0] == '.' || is_leftover_tmp(nm))
            continue;
        char src[4400], dst[4400];
        snprintf(src, sizeof src, "%s/%s", dir, nm);
        snprintf(dst, sizeof dst, "%s/%s", out_maps, nm);
        struct stat ls;
        char *end_num;
        long long idx = strtoll(nm, &end_num, 10);
        if (lstat(src, &ls) != 0 || !S_ISREG(ls.st_mode)) {
            fprintf(stderr, "xfiq merge: %s: not a regular file: refused\n", src);
            rc = 1;
        } else if (end_num == nm || *end_num != '_' || idx < first || idx >= end) {
            fprintf(stderr, "xfiq merge: %s: not a map of this shard's inputs %lld..%lld (a file of another run "
                    "or shard?)\n", src, first, end - 1);
            rc = 1;
        } else {
            rc = copy_map(src, dst, ms);
        }
    }
    closedir(d);
    return rc;
}

int xfiq_cli_merge(const char *out, char *const *shards, int n, int quiet)
{
    int dirs = is_dir(shards[0]);
    for (int i = 0; i < n; i++)
        if (is_dir(shards[i]) != dirs) {
            fprintf(stderr, "xfiq merge: %s: mixes folders (embed outputs) and files (CSV)\n", shards[i]);
            return XFIQ_EXIT_FATAL;
        }
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/plq.csv", shards[0]);
    const int plq = dirs && is_file(probe);
    const char *csv_name = plq ? "plq.csv" : "files.csv";
    map_set ms = {0};
    char *out_maps = NULL;
    int rc = XFIQ_EXIT_FATAL;
    char *header = NULL;
    int row_col = -1;
    long long next_index = -1, rows = 0;
    xfiq_afile csv;
    xfiq_npy_writer we, wm;
    memset(&csv, 0, sizeof csv);
    memset(&we, 0, sizeof we);
    memset(&wm, 0, sizeof wm);
    char path[4096];
    if (dirs) {
        if (mkdir(out, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "xfiq merge: cannot create output folder %s: %s\n", out, strerror(errno));
            goto done;
        }
        for (int i = 0; i < n; i++)
            if (is_dir(shards[i]) && !strcmp(shards[i], out)) {
                fprintf(stderr, "xfiq merge: output folder %s is one of the shards: refused\n", out);
                goto done;
            }
        snprintf(path, sizeof path, "%s/%s", out, csv_name);
        if (plq) {
            out_maps = xfiq_path_join(out, "maps");
            if (!out_maps || (mkdir(out_maps, 0777) != 0 && errno != EEXIST)) {
                fprintf(stderr, "xfiq merge: cannot create output folder %s/maps: %s\n", out, strerror(errno));
                goto done;
            }
        }
    } else {
        snprintf(path, sizeof path, "%s", out);
    }
    if (xfiq_afile_open(&csv, path) != XFIQ_OK) {
        fprintf(stderr, "xfiq merge: %s\n", xfiq_last_error());
        goto done;
    }
    int dim = -1;
    for (int i = 0; i < n; i++) {
        char p[4096];
        long long before = rows;
        if (dirs)
            snprintf(p, sizeof p, "%s/%s", shards[i], csv_name);
        else
            snprintf(p, sizeof p, "%s", shards[i]);
        if (dirs && !is_file(p)) {
            fprintf(stderr, "xfiq merge: %s: missing (every shard must be the output of the same command)\n", p);
            goto done;
        }
        long long first_index = next_index;
        if (merge_csv(p, csv.fp, i == 0, &header, &row_col, rows, &next_index, &rows))
            goto done;
        if (plq) { /* the first shard's first index is not checked: from 0 */
            if (merge_maps(shards[i], out_maps, first_index < 0 ? 0 : first_index, next_index, &ms))
                goto done;
            continue;
        }
        if (!dirs)
            continue;
        for (int k = 0; k < 2; k++) {
            xfiq_npy a;
            snprintf(p, sizeof p, "%s/%s", shards[i], k ? "magnitudes.npy" : "embeddings.npy");
            if (xfiq_npy_read_f32(p, &a) != XFIQ_OK) {
                fprintf(stderr, "xfiq merge: %s\n", xfiq_last_error());
                goto done;
            }
            int ok = a.ndim == (k ? 1 : 2) && a.shape[0] == rows - before;
            if (ok && i == 0) {
                int64_t shape[2] = {0, k ? 0 : a.shape[1]};
                if (!k)
                    dim = (int)a.shape[1];
                snprintf(path, sizeof path, "%s/%s", out, k ? "magnitudes.npy" : "embeddings.npy");
                if (xfiq_npy_writer_open(k ? &wm : &we, path, k ? 1 : 2, shape) != XFIQ_OK) {
                    fprintf(stderr, "xfiq merge: %s\n", xfiq_last_error());
                    xfiq_npy_free(&a);
                    goto done;
                }
            }
            if (!ok || (!k && a.shape[1] != dim)) {
                fprintf(stderr, "xfiq merge: %s: holds %lld rows%s, files.csv of that shard lists %lld\n", p,
                        (long long)(a.ndim ? a.shape[0] : 0), !k && ok ? " of another width" : "",
                        rows - before);
                xfiq_npy_free(&a);
                goto done;
            }
            xfiq_status st = xfiq_npy_writer_append(k ? &wm : &we, a.data, a.shape[0]);
            xfiq_npy_free(&a);
            if (st != XFIQ_OK) {
                fprintf(stderr, "xfiq merge: %s\n", xfiq_last_error());
                goto done;
            }
        }
    }
    xfiq_status st = XFIQ_OK;
    if (plq) {
        /* maps first, then the CSV that lists them (as `xfiq plq` commits);
         * one sync of each folder makes all the renames durable */
        st = xfiq_afile_finish(&csv);
        for (size_t k = 0; st == XFIQ_OK && k < ms.n; k++)
            st = xfiq_afile_publish(&ms.f[k]);
        if (st == XFIQ_OK)
            st = xfiq_dir_sync(out_maps);
        if (st == XFIQ_OK)
            st = xfiq_afile_publish(&csv);
        if (st == XFIQ_OK)
            st = xfiq_dir_sync(out);
    } else if (dirs) {
        st = xfiq_npy_writer_finish_header(&we);
        if (st == XFIQ_OK)
            st = xfiq_npy_writer_finish_header(&wm);
    }
    if (st == XFIQ_OK && !plq) {
        xfiq_afile *set[3] = {&csv, &we.af, &wm.af};
        st = xfiq_afile_commit_set(set, dirs ? 3 : 1);
    }
    if (st != XFIQ_OK) {
        fprintf(stderr, "xfiq merge: %s\n", xfiq_last_error());
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "xfiq merge: %d shards, inputs up to index %lld -> %s\n", n, next_index - 1, out);
    rc = XFIQ_EXIT_OK;
done:
    for (size_t k = 0; k < ms.n; k++) /* nothing left after a publish; temporaries removed on failure */
        xfiq_afile_abort(&ms.f[k]);
    free(ms.f);
    free(out_maps);
    xfiq_afile_abort(&csv);
    xfiq_npy_writer_abort(&we);
    xfiq_npy_writer_abort(&wm);
    free(header);
    return rc;
}

int xfiq_cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    char **shards = calloc((size_t)argc + 1, sizeof *shards);
    int n = 0;
    if (!shards)
        return XFIQ_EXIT_FATAL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            free(shards);
            return 0;
        }
        if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "xfiq merge: unknown option '%s'\n", argv[i]);
            usage(stderr);
            free(shards);
            return XFIQ_EXIT_FATAL;
        } else
            shards[n++] = argv[i];
    }
    if (!out || n < 1) {
        usage(stderr);
        free(shards);
        return XFIQ_EXIT_FATAL;
    }
    int rc = xfiq_cli_merge(out, shards, n, 0);
    free(shards);
    return rc;
}
