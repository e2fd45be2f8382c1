/* test_eval_realdata.c - the real protocol files in $XFIQ_DATA_DIR parse
 * without error and with the published counts: official LFW pairs.txt,
 * lfw-folds12 (every image present), the CFP protocol (FP and FF), CPLFW
 * pairs and the ORL identity folders. Skips where the folder is absent. */
#include "eval_test_util.h"

#include "xfiq.h"
#include "xfiq_eval.h"

static char data[4096];
static int found = 0;

static void parse(const char *rel, xfiq_bench_format fmt, const char *root_rel, const char *cfp,
                  int check, int64_t pairs, int64_t genuine, int folds)
{
    char path[4400], root[4400];
    snprintf(path, sizeof path, "%s/%s", data, rel);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        printf("  %-40s absent, not checked\n", rel);
        return;
    }
    found++;
    xfiq_bench_options o;
    xfiq_bench_options_default(&o);
    o.format = fmt;
    o.cfp_protocol = cfp;
    o.check_images = check;
    if (root_rel) {
        snprintf(root, sizeof root, "%s/%s", data, root_rel);
        o.image_root = root;
    }
    xfiq_bench_t b = NULL;
    CHECK_OK(xfiq_bench_open(path, &o, &b));
    if (!b)
        return;
    const uint8_t *y;
    xfiq_bench_pairs(b, NULL, NULL, &y, NULL);
    int64_t g = 0, n = xfiq_bench_num_pairs(b);
    for (int64_t k = 0; k < n; k++)
        g += y[k];
    CHECK_MSG(n == pairs, "%s: %lld pairs, expected %lld", rel, (long long)n, (long long)pairs);
    CHECK_MSG(g == genuine, "%s: %lld genuine, expected %lld", rel, (long long)g, (long long)genuine);
    CHECK_MSG(xfiq_bench_num_folds(b) == folds, "%s: %d folds, expected %d", rel, xfiq_bench_num_folds(b), folds);
    printf("  %-40s %-7s %6lld pairs (%lld genuine), %5lld images, %2d folds%s\n", rel,
           xfiq_bench_format_name(xfiq_bench_get_format(b)), (long long)n, (long long)g,
           (long long)xfiq_bench_num_images(b), xfiq_bench_num_folds(b),
           check ? ", all images present" : "");
    xfiq_bench_free(b);
}

int main(void)
{
    snprintf(data, sizeof data, "%s", env_or("XFIQ_DATA_DIR", "../shared/data"));
    struct stat sb;
    if (stat(data, &sb) != 0)
        SKIP("the real data folder %s is absent", data);
    parse("lfw-protocol/pairs.txt", XFIQ_BENCH_AUTO, NULL, NULL, 0, 6000, 3000, 10);
    parse("lfw-protocol/pairsDevTrain.txt", XFIQ_BENCH_AUTO, NULL, NULL, 0, 2200, 1100, 0);
    parse("lfw-protocol/pairsDevTest.txt", XFIQ_BENCH_AUTO, NULL, NULL, 0, 1000, 500, 0);
    parse("lfw-folds12/pairs_fold01-02.txt", XFIQ_BENCH_AUTO, "lfw-folds12/aligned_112x112", NULL, 1, 1200,
          600, 2);
    parse("cfp-protocol", XFIQ_BENCH_AUTO, NULL, "FP", 0, 7000, 3500, 10);
    parse("cfp-protocol", XFIQ_BENCH_CFP, NULL, "FF", 0, 7000, 3500, 10);
    parse("cplfw-pairs/pairs_CPLFW.txt", XFIQ_BENCH_AUTO, NULL, NULL, 0, 6000, 3000, 10);
    parse("orl-faces", XFIQ_BENCH_FOLDERS, NULL, NULL, 1, 79800, 1800, 0);
    if (!found)
        SKIP("none of the protocol files is in %s", data);
    TEST_END();
}
