/* test_eval_readers.c - benchmark readers on files written here: LFW
 * pairs.txt, a CFP protocol folder (FP and FF), CPLFW pairs, the generic
 * CSV, identity folders, IJB media/pair lists, embedding names and quality
 * CSVs; each malformed variant (wrong field count, label not 0/1, missing
 * image, empty file, counts) fails naming the file and line. */
#include "eval_test_util.h"

#include "io/npy.h"
#include "xfiq.h"
#include "xfiq_eval.h"

static char root[4096];

static void write_file(const char *rel, const char *text)
{
    char path[4400], dir[4400];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    /* make parent folders */
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(dir, 0777);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *at(const char *rel)
{
    static char buf[8][4400];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", root, rel);
    return buf[k];
}

static xfiq_bench_t open_ok(const char *rel, xfiq_bench_format fmt, const char *img_root, int check)
{
    xfiq_bench_options o;
    xfiq_bench_options_default(&o);
    o.format = fmt;
    o.image_root = img_root;
    o.check_images = check;
    xfiq_bench_t b = NULL;
    CHECK_OK(xfiq_bench_open(at(rel), &o, &b));
    return b;
}

static void open_fail(const char *rel, xfiq_bench_format fmt, int check, xfiq_status want,
                      const char *needle, const char *cfp)
{
    xfiq_bench_options o;
    xfiq_bench_options_default(&o);
    o.format = fmt;
    o.check_images = check;
    o.cfp_protocol = cfp;
    xfiq_bench_t b = NULL;
    xfiq_status st = xfiq_bench_open(at(rel), &o, &b);
    CHECK_MSG(st == want, "%s: expected %s, got %s (%s)", rel, xfiq_status_string(want),
              xfiq_status_string(st), xfiq_last_error());
    CHECK_MSG(strstr(xfiq_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", rel,
              xfiq_last_error(), needle);
    printf("  %-26s -> %s\n", rel, strstr(xfiq_last_error(), root) ? xfiq_last_error() + strlen(root) + 1
                                                                 : xfiq_last_error());
    xfiq_bench_free(b);
}

static void test_lfw(void)
{
    write_file("lfw/pairs.txt", "2\t2\nAnn\t1\t2\nBob\t1\t3\nAnn\t1\tBob\t2\nCy\t1\tBob\t1\n"
                                "Cy\t1\t2\nDee\t2\t1\nAnn\t2\tDee\t1\nCy\t2\tAnn\t1\n");
    static const char *imgs[] = {"Ann/Ann_0001.jpg", "Ann/Ann_0002.jpg", "Bob/Bob_0001.jpg",
                                 "Bob/Bob_0002.jpg", "Bob/Bob_0003.jpg", "Cy/Cy_0001.jpg",
                                 "Cy/Cy_0002.jpg", "Dee/Dee_0001.jpg", "Dee/Dee_0002.jpg"};
    for (int i = 0; i < 9; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "lfw/images/%s", imgs[i]);
        write_file(rel, "x");
    }
    xfiq_bench_t b = open_ok("lfw/pairs.txt", XFIQ_BENCH_AUTO, at("lfw/images"), 1);
    if (b) {
        CHECK(xfiq_bench_get_format(b) == XFIQ_BENCH_LFW);
        CHECK(xfiq_bench_num_pairs(b) == 8);
        CHECK(xfiq_bench_num_images(b) == 9);
        CHECK(xfiq_bench_num_folds(b) == 2);
        const int64_t *a, *bb;
        const uint8_t *y;
        const int32_t *f;
        xfiq_bench_pairs(b, &a, &bb, &y, &f);
        static const uint8_t want_y[8] = {1, 1, 0, 0, 1, 1, 0, 0};
        for (int k = 0; k < 8; k++) {
            CHECK(y[k] == want_y[k]);
            CHECK(f[k] == k / 4);
        }
        CHECK(strcmp(xfiq_bench_image_name(b, a[2]), at("lfw/images/Ann/Ann_0001.jpg")) == 0);
        CHECK(strcmp(xfiq_bench_image_name(b, bb[2]), at("lfw/images/Bob/Bob_0002.jpg")) == 0);
        CHECK(strstr(xfiq_bench_pair_origin(b, 3), "pairs.txt:5") != NULL);
        int keep = 1;
        CHECK_OK(xfiq_bench_select_folds(b, &keep, 1));
        CHECK(xfiq_bench_num_pairs(b) == 4 && xfiq_bench_num_folds(b) == 1);
        xfiq_bench_pairs(b, &a, NULL, NULL, NULL);
        CHECK(strcmp(xfiq_bench_image_name(b, a[0]), at("lfw/images/Cy/Cy_0001.jpg")) == 0);
        printf("  lfw pairs.txt              8 pairs, 9 images, 2 folds: ok\n");
        xfiq_bench_free(b);
    }
    write_file("lfw/bad_fields.txt", "1\t1\nAnn\t1\t2\t3\nAnn\t1\tBob\t2\n");
    open_fail("lfw/bad_fields.txt", XFIQ_BENCH_LFW, 0, XFIQ_ERR_FORMAT, "bad_fields.txt:2: expected a genuine pair", NULL);
    write_file("lfw/bad_count.txt", "1\t2\nAnn\t1\t2\nBob\t1\t3\nAnn\t1\tBob\t2\n");
    open_fail("lfw/bad_count.txt", XFIQ_BENCH_LFW, 0, XFIQ_ERR_FORMAT, "announces 4 pair lines, the file has 3", NULL);
    write_file("lfw/bad_number.txt", "1\t1\nAnn\t1\tx\nAnn\t1\tBob\t2\n");
    open_fail("lfw/bad_number.txt", XFIQ_BENCH_LFW, 0, XFIQ_ERR_FORMAT, "bad_number.txt:2: image number 'x'", NULL);
    write_file("lfw/empty.txt", "");
    open_fail("lfw/empty.txt", XFIQ_BENCH_LFW, 0, XFIQ_ERR_FORMAT, "empty file", NULL);
    write_file("lfw/images/missing.txt", "1\t1\nAnn\t1\t2\nAnn\t1\tZed\t7\n");
    open_fail("lfw/images/missing.txt", XFIQ_BENCH_LFW, 1, XFIQ_ERR_IO, "missing.txt:3: image", NULL);
    CHECK(strstr(xfiq_last_error(), "Zed_0007.jpg' not found") != NULL);
}

static void test_cfp(void)
{
    write_file("cfp/Protocol/Pair_list_F.txt",
               "1 ../Data/Images/001/frontal/01.jpg\n2 ../Data/Images/001/frontal/02.jpg\n"
               "3 ../Data/Images/002/frontal/01.jpg\n4 ../Data/Images/002/frontal/02.jpg\n");
    write_file("cfp/Protocol/Pair_list_P.txt",
               "1 ../Data/Images/001/profile/01.jpg\n2 ../Data/Images/002/profile/01.jpg\n"
               "3 ../Data/Images/002/profile/02.jpg\n");
    write_file("cfp/Protocol/Split/FP/01/same.txt", "1,1\n3,2\n");
    write_file("cfp/Protocol/Split/FP/01/diff.txt", "1,2\n");
    write_file("cfp/Protocol/Split/FP/02/same.txt", "4,3\n");
    write_file("cfp/Protocol/Split/FP/02/diff.txt", "2,3\n4,1\n");
    write_file("cfp/Protocol/Split/FF/01/same.txt", "1,2\n");
    write_file("cfp/Protocol/Split/FF/01/diff.txt", "1,3\n");
    write_file("cfp/Protocol/Split/FF/02/same.txt", "3,4\n");
    write_file("cfp/Protocol/Split/FF/02/diff.txt", "2,4\n");
    xfiq_bench_t b = open_ok("cfp", XFIQ_BENCH_AUTO, NULL, 0);
    if (b) {
        CHECK(xfiq_bench_get_format(b) == XFIQ_BENCH_CFP);
        CHECK(xfiq_bench_num_pairs(b) == 6 && xfiq_bench_num_folds(b) == 2);
        const int64_t *a, *bb;
        const uint8_t *y;
        const int32_t *f;
        xfiq_bench_pairs(b, &a, &bb, &y, &f);
        static const uint8_t want_y[6] = {1, 1, 0, 1, 0, 0};
        static const int32_t want_f[6] = {0, 0, 0, 1, 1, 1};
        for (int k = 0; k < 6; k++)
            CHECK(y[k] == want_y[k] && f[k] == want_f[k]);
        CHECK(strcmp(xfiq_bench_image_name(b, a[1]), at("cfp/Data/Images/002/frontal/01.jpg")) == 0);
        CHECK(strcmp(xfiq_bench_image_name(b, bb[1]), at("cfp/Data/Images/002/profile/01.jpg")) == 0);
        printf("  cfp FP                     6 pairs, 2 splits, paths resolved: ok\n");
        xfiq_bench_free(b);
    }
    xfiq_bench_options o;
    xfiq_bench_options_default(&o);
    o.cfp_protocol = "FF";
    CHECK_OK(xfiq_bench_open(at("cfp/Protocol"), &o, &b));
    if (b) {
        CHECK(xfiq_bench_num_pairs(b) == 4 && xfiq_bench_num_images(b) == 4);
        printf("  cfp FF                     4 pairs, 4 frontal images: ok\n");
        xfiq_bench_free(b);
    }
    write_file("cfp/Protocol/Split/FP/03/same.txt", "9,1\n");
    write_file("cfp/Protocol/Split/FP/03/diff.txt", "1,1\n");
    open_fail("cfp", XFIQ_BENCH_CFP, 0, XFIQ_ERR_FORMAT, "same.txt:1: index 9 outside the image list 1..4", "FP");
}

static void test_cplfw_csv(void)
{
    write_file("cplfw/pairs.txt", "A_1.jpg 1\nA_2.jpg 1\nB_1.jpg 1\nB_3.jpg 1\nA_1.jpg 0\nB_1.jpg 0\n"
                                  "C_1.jpg 0\nA_2.jpg 0\n");
    xfiq_bench_t b = open_ok("cplfw/pairs.txt", XFIQ_BENCH_AUTO, NULL, 0);
    if (b) {
        CHECK(xfiq_bench_get_format(b) == XFIQ_BENCH_CPLFW);
        CHECK(xfiq_bench_num_pairs(b) == 4 && xfiq_bench_num_images(b) == 5);
        const uint8_t *y;
        xfiq_bench_pairs(b, NULL, NULL, &y, NULL);
        CHECK(y[0] == 1 && y[1] == 1 && y[2] == 0 && y[3] == 0);
        CHECK(strstr(xfiq_bench_pair_origin(b, 2), "pairs.txt:5") != NULL);
        printf("  cplfw pairs                4 pairs from 8 lines: ok\n");
        xfiq_bench_free(b);
    }
    write_file("cplfw/bad_label.txt", "A_1.jpg 1\nA_2.jpg 2\n");
    open_fail("cplfw/bad_label.txt", XFIQ_BENCH_CPLFW, 0, XFIQ_ERR_FORMAT, "bad_label.txt:2: label '2' is not 0 or 1", NULL);
    write_file("cplfw/bad_mix.txt", "A_1.jpg 1\nA_2.jpg 0\n");
    open_fail("cplfw/bad_mix.txt", XFIQ_BENCH_CPLFW, 0, XFIQ_ERR_FORMAT, "bad_mix.txt:2: label 0 differs", NULL);
    write_file("cplfw/bad_odd.txt", "A_1.jpg 1\nA_2.jpg 1\nB_1.jpg 0\n");
    open_fail("cplfw/bad_odd.txt", XFIQ_BENCH_CPLFW, 0, XFIQ_ERR_FORMAT, "odd number of lines", NULL);

    write_file("csv/pairs.csv", "path_a,path_b,label,fold\nimg/a.jpg,img/b.jpg,1,7\n"
                                "\"img/c,1.jpg\",img/a.jpg,0,3\nimg/b.jpg,/abs/d.jpg,1,7\n");
    b = open_ok("csv/pairs.csv", XFIQ_BENCH_AUTO, NULL, 0);
    if (b) {
        CHECK(xfiq_bench_get_format(b) == XFIQ_BENCH_CSV);
        CHECK(xfiq_bench_num_pairs(b) == 3 && xfiq_bench_num_images(b) == 4);
        CHECK(xfiq_bench_num_folds(b) == 2);
        const int64_t *a, *bb;
        const int32_t *f;
        xfiq_bench_pairs(b, &a, &bb, NULL, &f);
        CHECK(f[0] == 1 && f[1] == 0 && f[2] == 1);
        CHECK(strcmp(xfiq_bench_image_name(b, a[1]), at("csv/img/c,1.jpg")) == 0);
        CHECK(strcmp(xfiq_bench_image_name(b, bb[2]), "/abs/d.jpg") == 0);
        printf("  csv pairs                  3 pairs, quoted field, folds 3/7 -> 0/1: ok\n");
        xfiq_bench_free(b);
    }
    write_file("csv/bad_label.csv", "a.jpg,b.jpg,1\na.jpg,c.jpg,yes\n");
    open_fail("csv/bad_label.csv", XFIQ_BENCH_CSV, 0, XFIQ_ERR_FORMAT, "bad_label.csv:2: label 'yes' is not 0 or 1", NULL);
    write_file("csv/bad_fold.csv", "a.jpg,b.jpg,1,0\na.jpg,c.jpg,0\n");
    open_fail("csv/bad_fold.csv", XFIQ_BENCH_CSV, 0, XFIQ_ERR_FORMAT, "bad_fold.csv:2: missing fold column", NULL);
    write_file("csv/empty.csv", "\n\n");
    open_fail("csv/empty.csv", XFIQ_BENCH_CSV, 0, XFIQ_ERR_FORMAT, "empty file", NULL);
    write_file("csv/missing.csv", "img/a.jpg,img/b.jpg,1\nimg/a.jpg,img/zz.jpg,0\n");
    write_file("csv/img/a.jpg", "x");
    write_file("csv/img/b.jpg", "x");
    open_fail("csv/missing.csv", XFIQ_BENCH_CSV, 1, XFIQ_ERR_IO, "missing.csv:2: image", NULL);
}

static void test_folders_ijb_names(void)
{
    static const char *imgs[] = {"ids/s1/1.pgm", "ids/s1/2.pgm", "ids/s2/1.pgm",
                                 "ids/s2/2.pgm", "ids/s3/1.pgm", "ids/s3/2.pgm"};
    for (int i = 0; i < 6; i++)
        write_file(imgs[i], "x");
    xfiq_bench_t b = open_ok("ids", XFIQ_BENCH_AUTO, NULL, 0);
    if (b) {
        CHECK(xfiq_bench_get_format(b) == XFIQ_BENCH_FOLDERS);
        CHECK(xfiq_bench_num_pairs(b) == 15);
        const uint8_t *y;
        xfiq_bench_pairs(b, NULL, NULL, &y, NULL);
        int g = 0;
        for (int k = 0; k < 15; k++)
            g += y[k];
        CHECK(g == 3);
        printf("  identity folders           6 images -> 15 pairs, 3 genuine: ok\n");
    }

    /* embedding names (files.csv of xfiq embed) and a quality CSV on b */
    write_file("emb/files.csv", "index,path,row,magnitude,status,message\n"
                                "0,x/ids/s1/1.pgm,0,10,ok,\n1,x/ids/s1/2.pgm,1,11,ok,\n"
                                "2,x/ids/s2/broken.pgm,-1,,error,\"cannot decode, sorry\"\n"
                                "3,x/ids/s2/1.pgm,2,12,ok,\n4,x/ids/s2/2.pgm,3,13,ok,\n"
                                "5,x/ids/s3/1.pgm,4,14,ok,\n6,x/ids/s3/2.pgm,5,15,ok,\n");
    float z[6 * 2] = {1, 0, 0, 1, 1, 1, 2, 1, 1, 2, 3, 1};
    int64_t shape[2] = {6, 2};
    CHECK_OK(xfiq_npy_write_f32(at("emb/emb.npy"), z, 2, shape));
    xfiq_embset_t e = NULL;
    CHECK_OK(xfiq_embset_load(at("emb/emb.npy"), at("emb/files.csv"), &e));
    if (e && b) {
        int64_t rows[6];
        CHECK_OK(xfiq_embset_match(e, b, rows));
        for (int i = 0; i < 6; i++)
            CHECK_MSG(rows[i] == i, "row of image %d is %lld", i, (long long)rows[i]);
        CHECK(xfiq_embset_find(e, "1.pgm") == -2); /* ambiguous */
        CHECK(xfiq_embset_find(e, "s3/2.pgm") == 5);
        CHECK(xfiq_embset_find(e, "nothing.pgm") == -1);
        double q[6];
        CHECK_OK(xfiq_quality_csv_read(at("emb/files.csv"), "magnitude", b, q));
        for (int i = 0; i < 6; i++)
            CHECK(q[i] == 10 + i);
        CHECK(xfiq_quality_csv_read(at("emb/files.csv"), "serfiq", b, q) == XFIQ_ERR_ARG);
        CHECK(strstr(xfiq_last_error(), "no column 'serfiq' (columns: index, path") != NULL);
        printf("  embedding names, quality   files.csv rows matched by path suffix: ok\n");
    }
    xfiq_embset_free(e);
    write_file("emb/short.txt", "a.jpg\nb.jpg\n");
    CHECK(xfiq_embset_load(at("emb/emb.npy"), at("emb/short.txt"), &e) == XFIQ_ERR_FORMAT);
    CHECK(strstr(xfiq_last_error(), "2 names for 6 embedding rows") != NULL);
    xfiq_bench_free(b);

    write_file("ijb/media.txt", "1.jpg 11 100\n2.jpg 11 100\n3.jpg 11 101\n4.jpg 12 200\n5.jpg 13 300\n");
    write_file("ijb/pairs.txt", "11 12 1\n11 13 0\n12 13 0\n");
    xfiq_ijb_t t = NULL;
    CHECK_OK(xfiq_ijb_open(at("ijb/media.txt"), at("ijb/pairs.txt"), &t));
    if (t) {
        CHECK(xfiq_ijb_num_images(t) == 5 && xfiq_ijb_num_templates(t) == 3 && xfiq_ijb_num_pairs(t) == 3);
        /* image 1, 2 (media 100) average to (1,0); image 3 (media 101) is (0,1):
         * template 11 = mean of media = (0.5, 0.5) -> cos with template 12 (1,0) = 0.7071 */
        float zi[5 * 2] = {2, 0, 5, 0, 0, 3, 4, 0, 0, 1};
        int64_t rows[5] = {0, 1, 2, 3, 4};
        double c[3];
        CHECK_OK(xfiq_ijb_score(t, zi, 2, rows, XFIQ_AGG_MEAN, NULL, c, NULL));
        CHECK_NEAR(c[0], sqrt(0.5), 1e-12);
        CHECK_NEAR(c[2], 0.0, 1e-12);
        /* magnitude-weighted: (2+5, 3) -> cos with (1,0) = 7/sqrt(58) */
        CHECK_OK(xfiq_ijb_score(t, zi, 2, rows, XFIQ_AGG_MAGNITUDE, NULL, c, NULL));
        CHECK_NEAR(c[0], 7.0 / sqrt(58.0), 1e-12);
        printf("  ijb media + pairs          3 templates, mean and magnitude aggregation: ok\n");
        xfiq_ijb_free(t);
    }
    write_file("ijb/bad_pairs.txt", "11 12 1\n11 99 0\n");
    CHECK(xfiq_ijb_open(at("ijb/media.txt"), at("ijb/bad_pairs.txt"), &t) == XFIQ_ERR_FORMAT);
    CHECK(strstr(xfiq_last_error(), "bad_pairs.txt:2: template 99 has no image") != NULL);
    write_file("ijb/bad_label.txt", "11 12 3\n");
    CHECK(xfiq_ijb_open(at("ijb/media.txt"), at("ijb/bad_label.txt"), &t) == XFIQ_ERR_FORMAT);
    CHECK(strstr(xfiq_last_error(), "label '3' is not 0 or 1") != NULL);
}

int main(void)
{
    snprintf(root, sizeof root, "%s", fixture_dir("eval_readers"));
    char cmd[8300]; /* start from an empty folder: earlier runs leave variants behind */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", root, root);
    CHECK(system(cmd) == 0);
    test_lfw();
    test_cfp();
    test_cplfw_csv();
    test_folders_ijb_names();
    TEST_END();
}
