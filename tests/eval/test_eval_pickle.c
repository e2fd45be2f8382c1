/* test_eval_pickle.c - insightface .bin files written by Python's pickle
 * (protocols 2, 3, 4 with bytes; a Python 2 stream with str payloads) read
 * back through the benchmark API: payload bytes, labels and decoded pixels
 * equal what was written; malformed files (truncated, unknown opcode,
 * empty, numpy array, dict, counts, label 2) fail with clear messages. */
#include "eval_test_util.h"

#include "eval/pickle.h"
#include "xfiq.h"
#include "xfiq_eval.h"
#include "xfiq_image.h"

static void expect_fail(const char *dir, const char *name, const char *needle)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    xfiq_bench_t b = NULL;
    xfiq_status st = xfiq_bench_open(path, NULL, &b);
    CHECK_MSG(st == XFIQ_ERR_FORMAT, "%s: expected XFIQ_ERR_FORMAT, got %s", name, xfiq_status_string(st));
    CHECK_MSG(strstr(xfiq_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", name,
              xfiq_last_error(), needle);
    printf("  %-18s -> %s\n", name, xfiq_last_error());
    xfiq_bench_free(b);
}

int main(void)
{
    char *dir = fixture_dir("eval_pickle");
    char cmd[8400], path[4200];
    const char *py = env_or("XFIQ_PYTHON", "/usr/bin/python3");
    snprintf(cmd, sizeof cmd, "%s %s/tests/eval/make_bin.py %s", py, env_or("XFIQ_SOURCE_DIR", "."), dir);
    snprintf(path, sizeof path, "%s -c 'import numpy' 2>/dev/null", py);
    if (system(path) != 0)
        SKIP("%s with numpy is needed to write the test .bin files", py);
    CHECK(system(cmd) == 0);

    snprintf(path, sizeof path, "%s/payloads.raw", dir);
    uint8_t *raw = test_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/pixels.raw", dir);
    uint8_t *pix = test_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/payloads.txt", dir);
    FILE *f = fopen(path, "r");
    CHECK(raw && pix && f);
    if (!raw || !pix || !f)
        TEST_END();
    long len[12], off[12], poff[12];
    int lab[6], w[12], h[12];
    for (int i = 0; i < 12; i++)
        CHECK(fscanf(f, "%ld", &len[i]) == 1);
    for (int i = 0; i < 6; i++)
        CHECK(fscanf(f, "%d", &lab[i]) == 1);
    for (int i = 0; i < 12; i++)
        CHECK(fscanf(f, "%dx%d", &w[i], &h[i]) == 2);
    fclose(f);
    off[0] = poff[0] = 0;
    for (int i = 1; i < 12; i++) {
        off[i] = off[i - 1] + len[i - 1];
        poff[i] = poff[i - 1] + (long)w[i - 1] * h[i - 1] * 3;
    }

    static const char *good[] = {"p2_bytes.bin", "p3_bytes.bin", "p4_bytes.bin", "p4_tuple.bin",
                                 "p2_str.bin"};
    for (int g = 0; g < 5; g++) {
        snprintf(path, sizeof path, "%s/%s", dir, good[g]);
        xfiq_bench_t b = NULL;
        CHECK_OK(xfiq_bench_open(path, NULL, &b));
        if (!b)
            continue;
        CHECK(xfiq_bench_get_format(b) == XFIQ_BENCH_BIN);
        CHECK(xfiq_bench_num_pairs(b) == 6);
        CHECK(xfiq_bench_num_images(b) == 12);
        const int64_t *ia, *ib;
        const uint8_t *y;
        const int32_t *folds;
        xfiq_bench_pairs(b, &ia, &ib, &y, &folds);
        CHECK(folds == NULL);
        int same = 1, decoded = 1;
        for (int k = 0; k < 6; k++) {
            CHECK(ia[k] == 2 * k && ib[k] == 2 * k + 1);
            CHECK_MSG(y[k] == lab[k], "%s: label %d", good[g], k);
        }
        for (int i = 0; i < 12; i++) {
            const uint8_t *data;
            size_t n;
            CHECK_OK(xfiq_bench_image_bytes(b, i, &data, &n));
            if ((long)n != len[i] || memcmp(data, raw + off[i], n))
                same = 0;
            xfiq_image img;
            if (xfiq_image_load_memory(data, n, "payload", &img) != XFIQ_OK) {
                decoded = 0;
                fprintf(stderr, "%s: image %d: %s\n", good[g], i, xfiq_last_error());
                continue;
            }
            if (img.width != w[i] || img.height != h[i] || img.channels != 3 ||
                memcmp(img.data, pix + poff[i], (size_t)w[i] * h[i] * 3))
                decoded = 0;
            xfiq_image_free(&img);
        }
        CHECK_MSG(same, "%s: payload bytes differ from what was pickled", good[g]);
        CHECK_MSG(decoded, "%s: decoded pixels differ from what was encoded", good[g]);
        printf("  %-18s 6 pairs, 12 payloads: bytes %s, pixels %s\n", good[g], same ? "equal" : "DIFFER",
               decoded ? "equal" : "DIFFER");
        xfiq_bench_free(b);
    }
    /* every truncation fails cleanly; random byte changes never crash */
    for (int g = 0; g < 5; g++) {
        size_t nb = 0;
        snprintf(path, sizeof path, "%s/%s", dir, good[g]);
        uint8_t *buf = test_read_file(path, &nb);
        if (!buf)
            continue;
        const long n = (long)nb;
        int ok_trunc = 0, tries = 0;
        for (long len = 0; len < n; len += 1 + n / 3000, tries++) {
            uint8_t *cut = malloc(len + 1);
            memcpy(cut, buf, len);
            xfiq_pickle_bin pb;
            if (xfiq_pickle_read_bin(cut, (size_t)len, "cut", &pb) == XFIQ_OK) {
                ok_trunc++;
                xfiq_pickle_bin_free(&pb);
            }
            free(cut);
        }
        CHECK_MSG(ok_trunc == 0, "%s: %d truncated copies parsed", good[g], ok_trunc);
        srand(17 + g);
        for (int k = 0; k < 400; k++) {
            uint8_t *m = malloc(n);
            memcpy(m, buf, n);
            for (int f = 0; f < 1 + k % 4; f++)
                m[rand() % n] = (uint8_t)rand();
            xfiq_pickle_bin pb;
            if (xfiq_pickle_read_bin(m, (size_t)n, "mutated", &pb) == XFIQ_OK)
                xfiq_pickle_bin_free(&pb);
            free(m);
        }
        printf("  %-18s %d truncations refused, 400 mutations survived\n", good[g], tries);
        free(buf);
    }
    expect_fail(dir, "bad_truncated.bin", "truncated");
    expect_fail(dir, "bad_truncated_py2.bin", "truncated");
    expect_fail(dir, "bad_opcode.bin", "offset 2: unknown or unsupported pickle opcode 0xfe");
    expect_fail(dir, "bad_empty.bin", "empty file");
    expect_fail(dir, "bad_numpy.bin", "numpy");
    expect_fail(dir, "bad_dict.bin", "opcode 0x7d");
    expect_fail(dir, "bad_count.bin", "11 images for 6 pairs");
    expect_fail(dir, "bad_label.bin", "issame_list[2]");
    free(raw);
    free(pix);
    TEST_END();
}
