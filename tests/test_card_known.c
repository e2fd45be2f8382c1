/* test_card_known.c - models known by content:
 *  - SHA-256 equals Python's hashlib on several lengths (block edges);
 *  - the default model copied where no card lies beside it still gets its
 *    calibrated card (built into the library, found by the file's sha256),
 *    a card beside the file still wins, a card in $XFIQ_CARD_PATH is found;
 *  - a card naming another file's sha256 is refused with a clear message;
 *  - `xfiq quality` and `xfiq plq` warn on stderr and write "uncalibrated"
 *    in the calibration column for a model without calibration, and
 *    "calibrated" otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/sha256.h"
#include "test_util.h"
#include "xfiq.h"
#include "xfiq_quality.h"
#include "xfiq_test.h"

static char g_tmp[256];

static void write_file(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(d, 1, n, f) == n);
    if (f)
        fclose(f);
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    char *b = calloc(1, 1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

static int load(xfiq_backend_t be, const char *onnx, xfiq_model_t *m)
{
    *m = NULL;
    return xfiq_model_load(be, onnx, NULL, m);
}

int main(void)
{
    const char *src = test_env("XFIQ_SOURCE_DIR", "."), *py = test_env("XFIQ_PYTHON", "/usr/bin/python3"),
               *bin = getenv("XFIQ_BIN");
    char model[4096], p[4400], q[4500], cmd[16000];
    snprintf(model, sizeof model, "%s/models/.cache/fr_feature.onnx", src);

    /* 1. SHA-256 against hashlib. */
    snprintf(g_tmp, sizeof g_tmp, "/tmp/xfiq_card_known_XXXXXX");
    CHECK(mkdtemp(g_tmp) != NULL);
    size_t lens[] = {0, 3, 55, 56, 63, 64, 65, 119, 128, 1000003};
    uint8_t *buf = malloc(1000003);
    for (size_t i = 0; i < 1000003; i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    for (int k = 0; k < 10; k++) {
        snprintf(p, sizeof p, "%s/blob%d", g_tmp, k);
        write_file(p, buf, lens[k]);
        char hex[65], ref[128] = "";
        CHECK_OK(xfiq_sha256_file(p, hex));
        snprintf(cmd, sizeof cmd, "'%s' -c \"import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())\" '%s' > '%s.ref'",
                 py, p, p);
        CHECK(system(cmd) == 0);
        snprintf(q, sizeof q, "%s.ref", p);
        char *r = slurp(q);
        if (r)
            snprintf(ref, sizeof ref, "%.64s", r);
        free(r);
        CHECK_MSG(!strcmp(hex, ref), "%zu bytes: %s vs hashlib %s", lens[k], hex, ref);
    }
    free(buf);
    printf("sha256: 10 lengths (0 .. 1000003 bytes) equal to hashlib\n");
    CHECK(xfiq_sha256_file("/nonexistent/x.onnx", (char[65]){0}) == XFIQ_ERR_IO &&
          strstr(xfiq_last_error(), "/nonexistent/x.onnx"));

    if (!test_file_exists(model))
        SKIP("default model not fetched (%s): run models/fetch_default.sh", model);
    xfiq_backend_t be;
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 1));
    xfiq_model_t m;

    /* 2. The model elsewhere, no card beside it: the built-in card. */
    char copy[4400];
    snprintf(copy, sizeof copy, "%s/elsewhere.onnx", g_tmp);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", model, copy);
    CHECK(system(cmd) == 0);
    CHECK_OK(load(be, copy, &m));
    printf("model elsewhere: card '%s', calibrated %d\n", xfiq_model_card_source(m), xfiq_model_is_calibrated(m));
    CHECK(xfiq_model_is_calibrated(m));
    CHECK(strstr(xfiq_model_card_source(m), "built-in card models/faceplugin-mobilefacenet.card.json") != NULL);
    xfiq_model_info info;
    CHECK_OK(xfiq_model_get_info(m, &info));
    CHECK(!strcmp(info.embedding_layer, "662") && info.mean[0] == 127.0f);
    xfiq_model_free(m);

    /* 3. A card beside it wins (here: no calibration, no sha256). */
    snprintf(p, sizeof p, "%s/elsewhere.card.json", g_tmp);
    const char *plain = "{\"name\": \"mine\", \"embedding_layer\": \"662\"}\n";
    write_file(p, plain, strlen(plain));
    CHECK_OK(load(be, copy, &m));
    CHECK(m && !xfiq_model_is_calibrated(m) && !strcmp(xfiq_model_card_source(m), p));
    xfiq_model_free(m);

    /* 4. A card naming another file's sha256 is refused. */
    const char *wrong = "{\"name\": \"x\", \"sha256\": "
                        "\"0000000000000000000000000000000000000000000000000000000000000000\"}\n";
    write_file(p, wrong, strlen(wrong));
    CHECK(load(be, copy, &m) == XFIQ_ERR_FORMAT);
    printf("wrong sha256: %s\n", xfiq_last_error());
    CHECK(strstr(xfiq_last_error(), "card is for another model file") && strstr(xfiq_last_error(), "87aacdfe5751"));
    const char *badhex = "{\"sha256\": \"87AACDFE\"}\n";
    write_file(p, badhex, strlen(badhex));
    CHECK(load(be, copy, &m) == XFIQ_ERR_FORMAT && strstr(xfiq_last_error(), "64 lowercase hex"));
    unlink(p);

    /* 5. $XFIQ_CARD_PATH is searched before the built-in cards. */
    snprintf(q, sizeof q, "%s/cards", g_tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", q);
    CHECK(system(cmd) == 0);
    snprintf(p, sizeof p, "%s/cards/mine.card.json", g_tmp);
    const char *mine = "{\"name\": \"from-card-path\", \"embedding_layer\": \"662\", \"sha256\": "
                       "\"87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581\"}\n";
    write_file(p, mine, strlen(mine));
    setenv("XFIQ_CARD_PATH", q, 1);
    CHECK_OK(load(be, copy, &m));
    CHECK(m && !strcmp(xfiq_model_card_source(m), p) && !xfiq_model_is_calibrated(m));
    xfiq_model_free(m);
    unsetenv("XFIQ_CARD_PATH");

    /* 6. The CLI: warning and column. */
    if (bin) {
        const char *face = "models/.cache/samples/astronaut.png";
        snprintf(p, sizeof p, "%s/elsewhere.card.json", g_tmp);
        write_file(p, plain, strlen(plain)); /* uncalibrated */
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' quality -q -T 10 --resize -m '%s' -o '%s/q.csv' %s 2> '%s/q.err'", src,
                 bin, copy, g_tmp, face, g_tmp);
        CHECK(system(cmd) == 0);
        snprintf(q, sizeof q, "%s/q.err", g_tmp);
        char *err = slurp(q);
        snprintf(q, sizeof q, "%s/q.csv", g_tmp);
        char *csv = slurp(q);
        CHECK(err && strstr(err, "warning: the model has no calibration") && strstr(err, "xfiq calibrate"));
        CHECK(csv && strstr(csv, ",calibration,status,") && strstr(csv, ",uncalibrated,ok,"));
        free(err);
        free(csv);
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' plq -q -T 10 --resize --no-png -m '%s' -o '%s/plq' %s 2> '%s/p.err'",
                 src, bin, copy, g_tmp, face, g_tmp);
        CHECK(system(cmd) == 0);
        snprintf(q, sizeof q, "%s/plq/plq.csv", g_tmp);
        csv = slurp(q);
        snprintf(q, sizeof q, "%s/p.err", g_tmp);
        err = slurp(q);
        CHECK(csv && strstr(csv, ",uncalibrated,ok,") && err && strstr(err, "xfiq plq: warning"));
        free(err);
        free(csv);
        unlink(p); /* now the built-in, calibrated card */
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' quality -q -T 10 --resize -m '%s' -o '%s/q2.csv' %s 2> '%s/q2.err'",
                 src, bin, copy, g_tmp, face, g_tmp);
        CHECK(system(cmd) == 0);
        snprintf(q, sizeof q, "%s/q2.csv", g_tmp);
        csv = slurp(q);
        snprintf(q, sizeof q, "%s/q2.err", g_tmp);
        err = slurp(q);
        CHECK(csv && strstr(csv, ",calibrated,ok,") && err && !strstr(err, "warning"));
        printf("CLI: warning and column 'uncalibrated' with an uncalibrated card, 'calibrated' with the built-in one\n");
        free(err);
        free(csv);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    CHECK(system(cmd) == 0);
    xfiq_backend_free(be);
    TEST_END();
}
