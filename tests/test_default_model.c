/* test_default_model.c - the real default model (MobileFaceNet from
 * faceplugin, fetched by models/fetch_default.sh) on real faces: xfiq's
 * embeddings against an independent run of the same ONNX graph with PyTorch
 * ops (tests/ref/ref_embed.py, float64), and the cosine similarity of photos
 * of one person against that of different people. */
#include <string.h>

#include "io/npy.h"
#include "test_util.h"
#include "xfiq.h"
#include "xfiq_image.h"
#include "xfiq_test.h"

#define MAX_FACES 32

static int n_faces = 0;
static char names[MAX_FACES][256];
static uint8_t faces[MAX_FACES][112 * 112 * 3];

static int add_face(const char *path, const xfiq_landmarks *lm)
{
    xfiq_image img;
    if (xfiq_image_load(path, &img) != XFIQ_OK) {
        fprintf(stderr, "%s\n", xfiq_last_error());
        return -1;
    }
    xfiq_status st = xfiq_image_prepare(&img, lm, 112, 112, faces[n_faces]);
    xfiq_image_free(&img);
    CHECK_OK(st);
    snprintf(names[n_faces], sizeof names[0], "%s", strrchr(path, '/') + 1);
    return n_faces++;
}

static double cosine(const float *a, const float *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < d; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

int main(void)
{
    const char *src = test_env("XFIQ_SOURCE_DIR", "."), *data = test_env("XFIQ_DATA_DIR", "../shared/data");
    const char *py = test_env("XFIQ_PYTHON", "/usr/bin/python3"), *fix = test_env("XFIQ_FIXTURE_DIR", "fixtures");
    char model[4096], card[4096], p[4500];
    snprintf(model, sizeof model, "%s/models/.cache/fr_feature.onnx", src);
    snprintf(card, sizeof card, "%s/models/.cache/fr_feature.card.json", src);
    if (!test_file_exists(model))
        SKIP("default model not fetched (%s): run models/fetch_default.sh", model);
    char lfw[4096];
    snprintf(lfw, sizeof lfw, "%s/lfw-folds12", data);
    if (!test_file_exists(lfw))
        SKIP("real faces absent (%s)", lfw);

    /* The first 4 genuine and 4 impostor pairs of LFW fold 1 (standard pairs.txt lines). */
    snprintf(p, sizeof p, "%s/pairs_fold01-02.txt", lfw);
    FILE *f = fopen(p, "r");
    CHECK(f != NULL);
    if (!f)
        TEST_END();
    char line[512];
    int gen[4][2], imp[4][2], ng = 0, ni = 0, lineno = 0;
    while (fgets(line, sizeof line, f) && (ng < 4 || ni < 4)) {
        char a[128], b[128];
        int x, y;
        if (lineno++ == 0)
            continue;
        char path_a[4500], path_b[4500];
        if (sscanf(line, "%127s %d %127s %d", a, &x, b, &y) == 4 && ni < 4) {
            snprintf(path_a, sizeof path_a, "%s/aligned_112x112/%s/%s_%04d.jpg", lfw, a, a, x);
            snprintf(path_b, sizeof path_b, "%s/aligned_112x112/%s/%s_%04d.jpg", lfw, b, b, y);
            imp[ni][0] = add_face(path_a, NULL);
            imp[ni][1] = add_face(path_b, NULL);
            ni++;
        } else if (sscanf(line, "%127s %d %d", a, &x, &y) == 3 && ng < 4) {
            snprintf(path_a, sizeof path_a, "%s/aligned_112x112/%s/%s_%04d.jpg", lfw, a, a, x);
            snprintf(path_b, sizeof path_b, "%s/aligned_112x112/%s/%s_%04d.jpg", lfw, a, a, y);
            gen[ng][0] = add_face(path_a, NULL);
            gen[ng][1] = add_face(path_b, NULL);
            ng++;
        }
    }
    fclose(f);
    /* The sample faces, aligned with their landmarks, when fetched. */
    char lmf[4096];
    snprintf(lmf, sizeof lmf, "%s/models/samples.landmarks.txt", src);
    xfiq_landmarks_set *lms = NULL;
    const char *samples[] = {"astronaut.png", "grace_hopper.jpg"};
    if (xfiq_landmarks_load(lmf, &lms) == XFIQ_OK)
        for (int i = 0; i < 2; i++) {
            snprintf(p, sizeof p, "%s/models/.cache/samples/%s", src, samples[i]);
            const xfiq_landmarks *lm = xfiq_landmarks_find(lms, p);
            if (test_file_exists(p) && lm)
                add_face(p, lm);
        }
    xfiq_landmarks_free(lms);
    CHECK(ng == 4 && ni == 4);

    xfiq_backend_t be;
    xfiq_model_t m;
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 0));
    CHECK_OK(xfiq_model_load(be, model, NULL, &m));
    xfiq_model_info info;
    xfiq_model_get_info(m, &info);
    int d = info.embedding_dim;
    CHECK(d == 512);
    printf("default model: %s, %d-d, %.2f M params, %.3f G MACs, embedding layer '%s'\n", info.name, d,
           info.num_params / 1e6, info.macs_per_image / 1e9, info.embedding_layer);
    float *emb = malloc((size_t)n_faces * d * sizeof *emb), *mag = malloc((size_t)n_faces * sizeof *mag);
    CHECK_OK(xfiq_model_embed(m, &faces[0][0], n_faces, emb, mag));

    /* Independent reference of the same faces. */
    float *fx = malloc((size_t)n_faces * sizeof faces[0] * sizeof(float));
    for (size_t i = 0; i < (size_t)n_faces * sizeof faces[0]; i++)
        fx[i] = (&faces[0][0])[i];
    char fin[4500], fout[4500], cmd[24000];
    snprintf(fin, sizeof fin, "%s/default_faces.npy", fix);
    snprintf(fout, sizeof fout, "%s/default_ref.npy", fix);
    int64_t shape[4] = {n_faces, 112, 112, 3};
    CHECK_OK(xfiq_npy_write_f32(fin, fx, 4, shape));
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/ref/ref_embed.py' '%s' '%s' '%s' '%s'", py, src, model, card, fin, fout);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "reference failed: %s", cmd);
    xfiq_npy ref;
    if (rc == 0 && xfiq_npy_read_f32(fout, &ref) == XFIQ_OK) {
        double worst = 0;
        for (int i = 0; i < n_faces; i++) {
            double e = test_rel_err(emb + (size_t)i * d, ref.data + (size_t)i * d, (size_t)d);
            worst = e > worst ? e : worst;
        }
        printf("%d real faces: max rel err vs the PyTorch run of the ONNX graph %.3g\n", n_faces, worst);
        CHECK_MSG(worst < 1e-4, "rel err %.3g", worst);
        xfiq_npy_free(&ref);
    }
    double sg = 0, si = 0;
    for (int k = 0; k < 4; k++) {
        double cg = cosine(emb + (size_t)gen[k][0] * d, emb + (size_t)gen[k][1] * d, d);
        double ci = cosine(emb + (size_t)imp[k][0] * d, emb + (size_t)imp[k][1] * d, d);
        printf("same person      %-28s %-28s cos %.3f\n", names[gen[k][0]], names[gen[k][1]], cg);
        printf("different people %-28s %-28s cos %.3f\n", names[imp[k][0]], names[imp[k][1]], ci);
        sg += cg / 4;
        si += ci / 4;
    }
    if (n_faces == 18)
        printf("different people %-28s %-28s cos %.3f\n", names[16], names[17],
               cosine(emb + 16 * (size_t)d, emb + 17 * (size_t)d, d));
    printf("mean cosine: same person %.3f, different people %.3f\n", sg, si);
    CHECK_MSG(sg > si + 0.25, "same-person cosine %.3f is not clearly above different-people %.3f", sg, si);
    free(fx);
    free(emb);
    free(mag);
    xfiq_model_free(m);
    xfiq_backend_free(be);
    TEST_END();
}
