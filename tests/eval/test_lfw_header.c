/* test_lfw_header.c - LFW-format pairs files with and without the "10 300"
 * header line (XQLFW's xqlfw_pairs.txt circulates both ways), on the real
 * protocol files in ../shared/data: the same pairs either way; folds from
 * the header when present, else 10 consecutive blocks, and the reader says
 * which (xfiq_bench_fold_note). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xfiq_eval.h"
#include "xfiq_test.h"

/* Writes path minus its first line to out. */
static int strip_header(const char *path, const char *out)
{
    FILE *f = fopen(path, "rb"), *g = fopen(out, "wb");
    if (!f || !g)
        return -1;
    int c, first = 1;
    while ((c = fgetc(f)) != EOF) {
        if (!first)
            fputc(c, g);
        else if (c == '\n')
            first = 0;
    }
    fclose(f);
    return fclose(g);
}

static xfiq_bench_t open_lfw(const char *path)
{
    xfiq_bench_options o;
    xfiq_bench_options_default(&o);
    o.check_images = 0;
    o.image_root = "/faces"; /* the same image names for both copies */
    xfiq_bench_t b = NULL;
    CHECK_OK(xfiq_bench_open(path, &o, &b)); /* auto-detection must see LFW either way */
    if (b)
        CHECK(xfiq_bench_get_format(b) == XFIQ_BENCH_LFW);
    return b;
}

static void check_pair(const char *data, const char *file, int sets, int per)
{
    char src[2048], dst[2048];
    snprintf(src, sizeof src, "%s/%s", data, file);
    const char *tmpdir = getenv("TMPDIR");
    snprintf(dst, sizeof dst, "%s/xfiq_noheader_%d.txt", tmpdir && *tmpdir ? tmpdir : "/tmp", (int)getpid());
    CHECK(strip_header(src, dst) == 0);
    xfiq_bench_t a = open_lfw(src), b = open_lfw(dst);
    if (a && b) {
        int64_t n = xfiq_bench_num_pairs(a);
        CHECK(n == (int64_t)sets * 2 * per);
        CHECK(xfiq_bench_num_pairs(b) == n);
        const int64_t *ia, *ib, *ja, *jb;
        const uint8_t *la, *lb;
        const int32_t *fa, *fb;
        xfiq_bench_pairs(a, &ia, &ib, &la, &fa);
        xfiq_bench_pairs(b, &ja, &jb, &lb, &fb);
        int same = 1;
        for (int64_t i = 0; i < n; i++)
            same &= la[i] == lb[i] && !strcmp(xfiq_bench_image_name(a, ia[i]), xfiq_bench_image_name(b, ja[i])) &&
                    !strcmp(xfiq_bench_image_name(a, ib[i]), xfiq_bench_image_name(b, jb[i]));
        CHECK_MSG(same, "%s: pairs differ with and without the header", file);
        CHECK(xfiq_bench_num_folds(a) == sets);
        CHECK(xfiq_bench_num_folds(b) == 10);
        char want[128];
        snprintf(want, sizeof want, "from the header line '%d %d'", sets, per);
        CHECK_MSG(!strcmp(xfiq_bench_fold_note(a), want), "note '%s'", xfiq_bench_fold_note(a));
        snprintf(want, sizeof want, "no header line: 10 consecutive blocks of %lld pairs", (long long)(n / 10));
        CHECK_MSG(!strcmp(xfiq_bench_fold_note(b), want), "note '%s'", xfiq_bench_fold_note(b));
        /* 10 blocks in file order: pair i in block i*10/n */
        int blocks_ok = 1, same_folds = 1;
        for (int64_t i = 0; i < n; i++) {
            blocks_ok &= fb[i] == (int32_t)(i * 10 / n);
            same_folds &= fa[i] == fb[i];
        }
        CHECK(blocks_ok);
        /* LFW's 10 sets of 300+300 are exactly 10 consecutive blocks */
        if (sets == 10)
            CHECK_MSG(same_folds, "%s: header folds differ from the 10 blocks", file);
    }
    xfiq_bench_free(a);
    xfiq_bench_free(b);
    remove(dst);
}

int main(void)
{
    const char *data = getenv("XFIQ_DATA_DIR");
    char probe[2048];
    snprintf(probe, sizeof probe, "%s/lfw-protocol/pairs.txt", data ? data : "");
    FILE *f = fopen(probe, "rb");
    if (!f)
        SKIP("real protocol files absent (%s)", probe);
    fclose(f);
    check_pair(data, "lfw-protocol/pairs.txt", 10, 300);
    check_pair(data, "lfw-folds12/pairs_fold01-02.txt", 2, 300);
    TEST_END();
}
