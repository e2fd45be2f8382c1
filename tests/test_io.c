/* test_io.c - host/io: npy files checked by numpy (both directions), CSV read
 * back by Python's csv module, atomic writes, paths, list files, folder walks. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/afile.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/path.h"
#include "io/pathlist.h"
#include "test_util.h"
#include "xfiq_test.h"

static char g_tmp[512];
static const char *g_python; /* NULL: no Python checks */
static const char *g_ref;    /* tests/ref/io_ref.py */

static char *tmp_path(const char *name)
{
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, 1024, "%s/%s", g_tmp, name);
    return b;
}

/* Files in g_tmp whose name contains needle (temporary files left behind). */
static int count_files(const char *needle)
{
    DIR *d = opendir(g_tmp);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, needle))
            n++;
    if (d)
        closedir(d);
    return n;
}

static int run_python(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s", g_python, g_ref, args);
    fflush(stdout);
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* ------------------------------------------------------------ npy */
static float value_at(int64_t i) { return (float)(i % 1000) * 0.25f - 7.f; }

static void npy_write_case(const char *name, int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        v[i] = value_at(i);
    const char *path = tmp_path(name);
    CHECK_OK(xfiq_npy_write_f32(path, v, ndim, shape));
    /* Our reader gives the same array back. */
    xfiq_npy a;
    CHECK_OK(xfiq_npy_read_f32(path, &a));
    CHECK(a.ndim == ndim && a.count == n);
    if (ndim)
        CHECK(memcmp(a.shape, shape, sizeof(int64_t) * (size_t)ndim) == 0);
    CHECK(n == 0 || (a.data && memcmp(a.data, v, sizeof(float) * (size_t)n) == 0));
    xfiq_npy_free(&a);
    if (g_python) {
        char args[1024];
        int k = snprintf(args, sizeof args, "check-npy '%s' %d", path, ndim);
        for (int i = 0; i < ndim; i++)
            k += snprintf(args + k, sizeof args - (size_t)k, " %lld", (long long)shape[i]);
        CHECK_MSG(run_python(args) == 0, "numpy rejects %s", name);
    }
    free(v);
}

static void test_npy_write(void)
{
    int64_t s1[] = {5}, s2[] = {3, 512}, s3[] = {2, 3, 4}, s0[] = {0, 512};
    npy_write_case("one.npy", 1, s1);
    npy_write_case("two.npy", 2, s2);
    npy_write_case("three.npy", 3, s3);
    npy_write_case("scalar.npy", 0, NULL);
    npy_write_case("empty.npy", 2, s0);

    /* Streaming: rows appended in pieces, count known only at the end. */
    xfiq_npy_writer w;
    int64_t shape[2] = {-1, 7};
    const char *path = tmp_path("stream.npy");
    CHECK_OK(xfiq_npy_writer_open(&w, path, 2, shape));
    float rows[8 * 7];
    for (int i = 0; i < 8 * 7; i++)
        rows[i] = value_at(i);
    CHECK_OK(xfiq_npy_writer_append(&w, rows, 3));
    CHECK_OK(xfiq_npy_writer_append(&w, rows + 3 * 7, 0));
    CHECK_OK(xfiq_npy_writer_append(&w, rows + 3 * 7, 5));
    CHECK(access(path, F_OK) != 0); /* not visible before commit */
    CHECK_OK(xfiq_npy_writer_commit(&w));
    if (g_python) {
        char args[1024];
        snprintf(args, sizeof args, "check-npy '%s' 2 8 7", path);
        CHECK_MSG(run_python(args) == 0, "numpy rejects the streamed npy");
    }
    /* Aborted streams leave nothing behind. */
    CHECK_OK(xfiq_npy_writer_open(&w, tmp_path("aborted.npy"), 2, shape));
    CHECK_OK(xfiq_npy_writer_append(&w, rows, 2));
    xfiq_npy_writer_abort(&w);
    CHECK(access(tmp_path("aborted.npy"), F_OK) != 0);
    CHECK(count_files("aborted.npy") == 0);

    CHECK(xfiq_npy_write_f32(tmp_path("bad.npy"), rows, 9, shape) == XFIQ_ERR_ARG);
    int64_t neg[2] = {2, -3};
    CHECK(xfiq_npy_write_f32(tmp_path("bad.npy"), rows, 2, neg) == XFIQ_ERR_ARG);
    CHECK(xfiq_npy_write_f32("/nonexistent-dir/x.npy", rows, 1, s1) == XFIQ_ERR_IO);
    CHECK(strstr(xfiq_last_error(), "/nonexistent-dir/x.npy") != NULL);
}

static void test_npy_read(const char *fx)
{
    char manifest[1100];
    snprintf(manifest, sizeof manifest, "%s/npy.txt", fx);
    FILE *m = fopen(manifest, "r");
    CHECK(m != NULL);
    if (!m)
        return;
    char line[1024];
    int n_good = 0, n_bad = 0;
    while (fgets(line, sizeof line, m)) {
        line[strcspn(line, "\n")] = '\0';
        char name[256], status[64];
        int off = 0;
        if (sscanf(line, "%255s %63s %n", name, status, &off) < 2)
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", fx, name);
        xfiq_npy a;
        xfiq_status st = xfiq_npy_read_f32(path, &a);
        if (strcmp(status, "XFIQ_OK") == 0 || strcmp(status, "OK") == 0) {
            n_good++;
            char ref[256];
            int ndim = 0, k = 0;
            sscanf(line + off, "%255s %d %n", ref, &ndim, &k);
            int64_t shape[8] = {0}, count = 1;
            const char *p = line + off + k;
            for (int i = 0; i < ndim; i++) {
                long long d = 0;
                int used = 0;
                sscanf(p, "%lld %n", &d, &used);
                p += used;
                shape[i] = d;
                count *= d;
            }
            CHECK_MSG(st == XFIQ_OK, "%s: %s", name, xfiq_last_error());
            if (st != XFIQ_OK)
                continue;
            CHECK_MSG(a.ndim == ndim && a.count == count, "%s: ndim %d count %lld", name, a.ndim,
                      (long long)a.count);
            for (int i = 0; i < ndim && i < a.ndim; i++)
                CHECK(a.shape[i] == shape[i]);
            char refpath[1400];
            snprintf(refpath, sizeof refpath, "%s/%s", fx, ref);
            size_t len;
            float *want = test_read_file(refpath, &len);
            CHECK(want && len == (size_t)count * sizeof(float));
            if (want && len == (size_t)a.count * sizeof(float))
                CHECK_MSG(memcmp(want, a.data, len) == 0, "%s: values differ from numpy's", name);
            free(want);
            xfiq_npy_free(&a);
        } else {
            n_bad++;
            const char *sub = line + off;
            const char *msg = xfiq_last_error();
            CHECK_MSG(strcmp(xfiq_status_string(st), status) == 0, "%s: got %s, want %s (%s)", name,
                      xfiq_status_string(st), status, msg);
            CHECK_MSG(strstr(msg, path) && strstr(msg, sub), "%s: message '%s' lacks the file or '%s'",
                      name, msg, sub);
            CHECK(a.data == NULL);
            printf("npy %-22s %s: %s\n", name, xfiq_status_string(st), msg);
        }
    }
    fclose(m);
    CHECK(n_good >= 5 && n_bad >= 10);
    xfiq_npy a;
    CHECK(xfiq_npy_read_f32(tmp_path("missing.npy"), &a) == XFIQ_ERR_IO);
}

/* ------------------------------------------------------------ atomic files */
static void test_afile(void)
{
    const char *path = tmp_path("atomic.txt");
    xfiq_afile af;
    CHECK_OK(xfiq_afile_open(&af, path));
    fputs("first version\n", af.fp);
    CHECK(access(path, F_OK) != 0);
    CHECK(count_files("atomic.txt.tmp") == 1);
    CHECK_OK(xfiq_afile_commit(&af));
    CHECK(af.fp == NULL && af.tmp == NULL);
    char *got = test_read_file(path, NULL);
    CHECK(got && strcmp(got, "first version\n") == 0);
    free(got);
    CHECK(count_files("atomic.txt.tmp") == 0);
    struct stat sb;
    mode_t mask = umask(022); /* single-threaded here: read and restore */
    umask(mask);
    CHECK_MSG(stat(path, &sb) == 0 && (sb.st_mode & 0777) == (0666 & ~mask),
              "mode %o, want %o (like fopen)", (unsigned)(sb.st_mode & 0777), (unsigned)(0666 & ~mask));

    /* Abort: the previous version stays, no temporary file is left. */
    CHECK_OK(xfiq_afile_open(&af, path));
    fputs("half-written", af.fp);
    xfiq_afile_abort(&af);
    got = test_read_file(path, NULL);
    CHECK(got && strcmp(got, "first version\n") == 0);
    free(got);
    CHECK(count_files("atomic.txt.tmp") == 0);
    xfiq_afile_abort(&af); /* twice is harmless */

    /* Abort of a new file: nothing at all. */
    CHECK_OK(xfiq_afile_open(&af, tmp_path("never.txt")));
    fputs("x", af.fp);
    xfiq_afile_abort(&af);
    CHECK(count_files("never.txt") == 0);

    /* Commit replaces. */
    CHECK_OK(xfiq_afile_write_all(path, "second\n", 7));
    got = test_read_file(path, NULL);
    CHECK(got && strcmp(got, "second\n") == 0);
    free(got);

    CHECK(xfiq_afile_open(&af, tmp_path("no/such/dir/x.txt")) == XFIQ_ERR_IO);
    CHECK(strstr(xfiq_last_error(), "no/such/dir/x.txt") != NULL);
    CHECK(af.fp == NULL);
    CHECK(xfiq_afile_commit(&af) == XFIQ_ERR_ARG);
    CHECK(xfiq_afile_open(&af, "") == XFIQ_ERR_ARG);
}

/* ------------------------------------------------------------ CSV */
static void test_csv(void)
{
    static const char *fields[] = {
        "plain.jpg",      "with,comma.jpg", "say \"cheese\".png", "line\nbreak.jpg",
        " leading.jpg",   "trailing.jpg ",  "",                   "\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9,\"\".jpg",
        "cr\rhere.jpg",   "#hash.jpg",      "a;b|c",              "\"",
    };
    const int nf = (int)(sizeof fields / sizeof fields[0]), ncols = 3;
    xfiq_afile af;
    const char *csv = tmp_path("names.csv"), *raw = tmp_path("names.fields");
    CHECK_OK(xfiq_afile_open(&af, csv));
    FILE *fr = fopen(raw, "wb");
    for (int i = 0; i < nf; i++) {
        xfiq_csv_write_field(af.fp, fields[i]);
        fputc((i + 1) % ncols ? ',' : '\n', af.fp);
        fwrite(fields[i], 1, strlen(fields[i]) + 1, fr);
    }
    fclose(fr);
    CHECK_OK(xfiq_afile_commit(&af));
    if (g_python) {
        char args[2200];
        snprintf(args, sizeof args, "check-csv '%s' '%s' %d", csv, raw, ncols);
        CHECK_MSG(run_python(args) == 0, "Python's csv module reads other fields");
    }
    /* Our splitter undoes our quoting (single-line fields). */
    for (int i = 0; i < nf; i++) {
        if (strpbrk(fields[i], "\r\n"))
            continue;
        char line[256];
        FILE *mf = fmemopen(line, sizeof line, "w");
        xfiq_csv_write_field(mf, fields[i]);
        fputc(',', mf);
        xfiq_csv_write_field(mf, "x");
        fclose(mf);
        char *f[4];
        int n = 0;
        CHECK_OK(xfiq_csv_split(line, f, 4, &n, "t"));
        CHECK_MSG(n == 2 && strcmp(f[0], fields[i]) == 0 && strcmp(f[1], "x") == 0, "field %d: %s", i,
                  n ? f[0] : "");
    }
    CHECK(xfiq_csv_needs_quotes("a b") == 0 && xfiq_csv_needs_quotes("a,b") == 1);
    char l1[] = "\"abc,def";
    char *f[4];
    int n;
    CHECK(xfiq_csv_split(l1, f, 4, &n, "pairs.csv:3") == XFIQ_ERR_FORMAT);
    CHECK(strstr(xfiq_last_error(), "pairs.csv:3") && strstr(xfiq_last_error(), "unterminated"));
    char l2[] = "\"ab\"c,d";
    CHECK(xfiq_csv_split(l2, f, 4, &n, "p") == XFIQ_ERR_FORMAT);
    char l3[] = "a,b,c,d,e";
    CHECK(xfiq_csv_split(l3, f, 4, &n, "p") == XFIQ_ERR_FORMAT);
    char l4[] = "a,,\"\"\r\n";
    CHECK_OK(xfiq_csv_split(l4, f, 4, &n, "p"));
    CHECK(n == 3 && !strcmp(f[0], "a") && !*f[1] && !*f[2]);
}

/* ------------------------------------------------------------ paths */
static void test_paths(void)
{
    static const char *cases[][2] = {
        {"a/b/c", "a/b/c"},       {"a//b/./c/", "a/b/c"},   {"./a", "a"},
        {"a/../b", "b"},          {"a/..", "."},            {"../a", "../a"},
        {"a/../../b", "../b"},    {"../../a/..", "../.."},  {"/", "/"},
        {"/..", "/"},             {"/a/../../b", "/b"},     {"//a//b//", "/a/b"},
        {"", ""} /* stays empty: "." would not fit a strdup("") */, {".", "."},               {"a/./b/../../c", "c"},
        {"..a/b", "..a/b"},       {"a/..b", "a/..b"},       {"/x/.../y", "/x/.../y"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", cases[i][0]);
        xfiq_path_normalize(buf);
        CHECK_MSG(strcmp(buf, cases[i][1]) == 0, "normalize('%s') = '%s', want '%s'", cases[i][0],
                  buf, cases[i][1]);
    }
    char *d = xfiq_path_dirname("a/b.jpg");
    CHECK(d && !strcmp(d, "a"));
    free(d);
    d = xfiq_path_dirname("b.jpg");
    CHECK(d && !strcmp(d, "."));
    free(d);
    d = xfiq_path_dirname("/b.jpg");
    CHECK(d && !strcmp(d, "/"));
    free(d);
    CHECK(!strcmp(xfiq_path_basename("x/y/z.png"), "z.png"));
    char *j = xfiq_path_join("dir", "/abs");
    CHECK(j && !strcmp(j, "/abs"));
    free(j);
    j = xfiq_path_join("dir/", "f");
    CHECK(j && !strcmp(j, "dir/f"));
    free(j);
    CHECK(xfiq_path_is_image("a/B.JPG") && xfiq_path_is_image("x.jpeg") && xfiq_path_is_image("x.Png") &&
          xfiq_path_is_image("1.pgm") && xfiq_path_is_image("x.ppm"));
    CHECK(!xfiq_path_is_image("x.txt") && !xfiq_path_is_image(".jpg") && !xfiq_path_is_image("jpg") &&
          !xfiq_path_is_image("a.jpg/b") && !xfiq_path_is_image("x.jpg.bak"));
}

static void test_listfile(void)
{
    const char *list = tmp_path("inputs.txt");
    test_write_text(list, "# inputs\n"
               "\n"
               "a.jpg\n"
               "  sub dir/b c.png  \r\n"
               "/abs/x.pgm\n"
               "\t# indented comment\n"
               "with#hash.jpg\n"
               "last.jpg"); /* no final newline */
    xfiq_pathlist l;
    xfiq_pathlist_init(&l);
    CHECK_OK(xfiq_pathlist_push(&l, "kept-first.jpg"));
    CHECK_OK(xfiq_listfile_read(list, &l));
    const char *want[] = {"kept-first.jpg", tmp_path("a.jpg"), tmp_path("sub dir/b c.png"), "/abs/x.pgm",
                          tmp_path("with#hash.jpg"), tmp_path("last.jpg")};
    CHECK_MSG(l.count == 6, "%zu entries", l.count);
    for (size_t i = 0; i < l.count && i < 6; i++)
        CHECK_MSG(!strcmp(l.items[i], want[i]), "entry %zu: '%s', want '%s'", i, l.items[i], want[i]);
    CHECK(xfiq_listfile_read(tmp_path("nolist.txt"), &l) == XFIQ_ERR_IO);
    CHECK(strstr(xfiq_last_error(), "nolist.txt") != NULL);
    CHECK(l.count == 6);
    xfiq_pathlist_free(&l);
    CHECK(l.count == 0 && l.items == NULL);
}

static void test_dir_walk(void)
{
    static const char *dirs[] = {"walk", "walk/sub", "walk/sub/deeper", "walk/.hidden", "walk/a-b", "walk/z"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        CHECK(mkdir(tmp_path(dirs[i]), 0777) == 0);
    static const char *files[] = {"walk/b.jpg",       "walk/A.PNG",      "walk/notes.txt",
                                  "walk/.x.jpg",      "walk/sub/c.jpeg", "walk/sub/deeper/d.pgm",
                                  "walk/.hidden/e.jpg", "walk/a-b/f.ppm", "walk/z/g.png",
                                  "walk/sub/h.jpg.bak"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        test_write_text(tmp_path(files[i]), "x");
    /* A link back up must not loop; a link to a sibling is followed. */
    CHECK(symlink("..", tmp_path("walk/sub/up")) == 0);
    CHECK(symlink("z", tmp_path("walk/zz")) == 0);
    CHECK(symlink("missing.jpg", tmp_path("walk/broken.jpg")) == 0);
    xfiq_pathlist l;
    xfiq_pathlist_init(&l);
    CHECK_OK(xfiq_dir_list_images(tmp_path("walk"), &l));
    /* C-locale order of the full paths ('-' < '/' < 'A' < 'a'). */
    const char *want[] = {"walk/A.PNG", "walk/a-b/f.ppm", "walk/b.jpg", "walk/sub/c.jpeg",
                          "walk/sub/deeper/d.pgm", "walk/z/g.png", "walk/zz/g.png"};
    size_t nw = sizeof want / sizeof want[0];
    CHECK_MSG(l.count == nw, "%zu files, want %zu", l.count, nw);
    for (size_t i = 0; i < l.count && i < nw; i++)
        CHECK_MSG(!strcmp(l.items[i], tmp_path(want[i])), "entry %zu: %s, want %s", i, l.items[i],
                  tmp_path(want[i]));
    xfiq_pathlist_free(&l);
    CHECK(xfiq_dir_list_images(tmp_path("walk/nothere"), &l) == XFIQ_ERR_IO);
    CHECK(strstr(xfiq_last_error(), "walk/nothere") != NULL && l.count == 0);
}

int main(void)
{
    const char *base = getenv("XFIQ_FIXTURE_DIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/test_io.XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(g_tmp)) {
        perror(g_tmp);
        return 1;
    }
    const char *src = getenv("XFIQ_SOURCE_DIR");
    static char ref[1024];
    if (src) {
        snprintf(ref, sizeof ref, "%s/tests/ref/io_ref.py", src);
        g_ref = ref;
    }
    char fx[1024] = "";
    if (base)
        snprintf(fx, sizeof fx, "%s/io", base);
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/npy.txt", fx);
    int have_fixtures = base && access(probe, R_OK) == 0;
    /* The fixtures are made by the same Python: without them, no Python. */
    g_python = have_fixtures && g_ref ? getenv("XFIQ_PYTHON") : NULL;

    test_npy_write();
    if (have_fixtures)
        test_npy_read(fx);
    test_afile();
    test_csv();
    test_paths();
    test_listfile();
    test_dir_walk();

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_tmp);
    if (!g_python && !xfiq_test_failures)
        SKIP("numpy fixtures %s are missing; only the self-contained checks ran", probe);
    TEST_END();
}
