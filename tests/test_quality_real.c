/* test_quality_real.c - SER-FIQ and PLQ of the real default model on real
 * faces (LFW folds 1-2, MagFace's toy photos), with the calibration stored
 * in its card:
 *  - scaled SER-FIQ 5th-95th percentiles over LFW span at least [0.1, 0.9];
 *  - in a typical map at least half the face pixels have P in [0.05, 0.95];
 *  - a grey bar over the eyes and heavy blur lower the quality;
 *  - the occluded region gets lower PLQ than the rest of the face, in more
 *    faces with the stable regression (signed) than with the paper's;
 *  - Spearman correlation with the MagFace authors' feature norms.
 * Prints every figure (they are quoted in the README). */
#include <string.h>

#include "engine/model.h"
#include "io/pathlist.h"
#include "quality/calib.h"
#include "quality/plq_map.h"
#include "test_util.h"
#include "xfiq_image.h"
#include "xfiq_quality.h"
#include "xfiq_test.h"

#define S 112
#define HW (S * S)
#define NOCC 60

static int load_face(const char *path, uint8_t *out)
{
    xfiq_image img;
    if (xfiq_image_load(path, &img) != XFIQ_OK)
        return -1;
    xfiq_status st = xfiq_image_prepare(&img, NULL, S, S, out);
    xfiq_image_free(&img);
    return st == XFIQ_OK ? 0 : -1;
}

/* Mean P inside box vs in the rest of the face region. */
static int box_lower(const float *map, const uint8_t *face, int x0, int y0, int x1, int y1)
{
    double in = 0, out = 0;
    int ni = 0, no = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int inside = x >= x0 && x < x1 && y >= y0 && y < y1;
            if (inside)
                in += map[y * S + x], ni++;
            else if (face[y * S + x])
                out += map[y * S + x], no++;
        }
    return in / ni < out / no;
}

static void ranks(const double *v, int n, double *r)
{
    for (int i = 0; i < n; i++) {
        double less = 0, eq = 0;
        for (int j = 0; j < n; j++)
            less += v[j] < v[i], eq += v[j] == v[i];
        r[i] = less + (eq + 1) / 2;
    }
}

static double spearman(const double *a, const double *b, int n)
{
    double ra[64], rb[64], ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    ranks(a, n, ra);
    ranks(b, n, rb);
    for (int i = 0; i < n; i++)
        ma += ra[i] / n, mb += rb[i] / n;
    for (int i = 0; i < n; i++)
        sab += (ra[i] - ma) * (rb[i] - mb), saa += (ra[i] - ma) * (ra[i] - ma), sbb += (rb[i] - mb) * (rb[i] - mb);
    return sab / sqrt(saa * sbb);
}

int main(void)
{
    const char *src = test_env("XFIQ_SOURCE_DIR", "."), *data = test_env("XFIQ_DATA_DIR", "../shared/data");
    char model[4096], lfw[4096], toy[4096];
    snprintf(model, sizeof model, "%s/models/.cache/fr_feature.onnx", src);
    snprintf(lfw, sizeof lfw, "%s/lfw-folds12/aligned_112x112", data);
    snprintf(toy, sizeof toy, "%s/magface-toy", data);
    if (!test_file_exists(model))
        SKIP("default model not fetched (%s): run models/fetch_default.sh", model);
    if (!test_file_exists(lfw))
        SKIP("real faces absent (%s)", lfw);
    xfiq_backend_t be;
    xfiq_model_t m;
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 0));
    CHECK_OK(xfiq_model_load(be, model, NULL, &m));
    if (!m->card.has_calibration)
        SKIP("the default model's card has no calibration (%s)", m->card.source);
    xfiq_pathlist pl;
    xfiq_pathlist_init(&pl);
    CHECK_OK(xfiq_dir_list_images(lfw, &pl));
    int n = (int)pl.count;
    uint8_t *faces = malloc((size_t)n * HW * 3);
    int good = 0;
    for (int i = 0; i < n; i++)
        good += load_face(pl.items[i], faces + (size_t)good * HW * 3) == 0;
    printf("LFW folds 1-2: %d aligned faces\n", good);
    CHECK(good > 1000);

    /* 1. Distribution of the calibrated SER-FIQ over all of LFW. */
    xfiq_plq_opts o;
    xfiq_plq_opts_default(m, 0, &o);
    xfiq_quality *q = malloc((size_t)good * sizeof *q);
    CHECK_OK(xfiq_model_serfiq(m, faces, good, NULL, &o.serfiq, q, NULL));
    double *v = malloc((size_t)good * sizeof *v), p5, p50, p95, r5, r95;
    for (int i = 0; i < good; i++)
        v[i] = q[i].serfiq;
    calib_percentile(v, (size_t)good, 5, &p5);
    calib_percentile(v, (size_t)good, 50, &p50);
    calib_percentile(v, (size_t)good, 95, &p95);
    for (int i = 0; i < good; i++)
        v[i] = q[i].serfiq_raw;
    calib_percentile(v, (size_t)good, 5, &r5);
    calib_percentile(v, (size_t)good, 95, &r95);
    int unstable = 0;
    for (int i = 0; i < good; i++)
        unstable += fabs(q[i].sum_e) < 0.1;
    printf("SER-FIQ (alpha %.4g, r %.4g): raw p5 %.4f p95 %.4f; scaled p5 %.3f median %.3f p95 %.3f; "
           "|sum(e)| < 0.1 for %.1f%% of faces\n", o.serfiq.alpha, o.serfiq.r, r5, r95, p5, p50, p95,
           100.0 * unstable / good);
    CHECK_MSG(p5 <= 0.1 + 1e-6 && p95 >= 0.9 - 1e-6, "scaled SER-FIQ p5 %.3f / p95 %.3f do not span [0.1, 0.9]", p5, p95);

    /* 2-4. Occlusion and blur on NOCC faces, three PLQ set-ups. */
    uint8_t mask[HW];
    plq_face_mask_default(S, S, mask);
    int eb[4];
    xfiq_align_eye_box(S, S, eb);
    const int ex0 = eb[0], ey0 = eb[1], ex1 = eb[2], ey1 = eb[3];
    uint8_t *eye = malloc((size_t)NOCC * HW * 3), *rnd = malloc((size_t)NOCC * HW * 3), *blr = malloc((size_t)NOCC * HW * 3);
    int rx[NOCC], ry[NOCC];
    unsigned seed = 12345;
    for (int i = 0; i < NOCC; i++) {
        const uint8_t *f = faces + (size_t)i * (good / NOCC) * HW * 3;
        memcpy(eye + (size_t)i * HW * 3, f, HW * 3);
        memcpy(rnd + (size_t)i * HW * 3, f, HW * 3);
        xfiq_image_occlude(eye + (size_t)i * HW * 3, S, S, 3, ex0, ey0, ex1, ey1, 128);
        do { /* a 28x28 box whose centre lies in the face region */
            seed = seed * 1103515245u + 12345u;
            rx[i] = 14 + (int)((seed >> 8) % (S - 28 - 14));
            seed = seed * 1103515245u + 12345u;
            ry[i] = 14 + (int)((seed >> 8) % (S - 28 - 14));
        } while (!mask[(ry[i] + 14) * S + rx[i] + 14]);
        xfiq_image_occlude(rnd + (size_t)i * HW * 3, S, S, 3, rx[i], ry[i], rx[i] + 28, ry[i] + 28, 128);
        CHECK_OK(xfiq_image_blur(f, S, S, 3, 2.5f, blr + (size_t)i * HW * 3));
    }
    uint8_t *clean = malloc((size_t)NOCC * HW * 3);
    for (int i = 0; i < NOCC; i++)
        memcpy(clean + (size_t)i * HW * 3, faces + (size_t)i * (good / NOCC) * HW * 3, HW * 3);
    float *maps = malloc((size_t)NOCC * HW * sizeof *maps);
    xfiq_quality qc[NOCC], qe[NOCC], qr[NOCC], qb[NOCC];
    struct { const char *name; xfiq_plq_mode mode; double a; } setups[3] = {
        {"paper, published a", XFIQ_PLQ_PAPER, 31622776.601683792},
        {"paper, calibrated a", XFIQ_PLQ_PAPER, o.a},
        {"signed, calibrated a", XFIQ_PLQ_SIGNED, o.a}};
    int rate_eye[3], rate_rnd[3];
    double unsat_med = 0;
    for (int sidx = 0; sidx < 3; sidx++) {
        xfiq_plq_opts po = o;
        po.mode = setups[sidx].mode;
        po.a = setups[sidx].a;
        if (sidx == 1) { /* the paper mode's own map scale: its median face gradient */
            float *gm = malloc((size_t)NOCC * HW * sizeof *gm);
            double *g = malloc((size_t)NOCC * HW * sizeof *g), med;
            size_t ng = 0;
            CHECK_OK(xfiq_model_plq(m, clean, NOCC, NULL, &po, qc, maps, gm));
            for (int i = 0; i < NOCC; i++)
                for (int p = 0; p < HW; p++)
                    if (mask[p])
                        g[ng++] = gm[(size_t)i * HW + p];
            calib_percentile(g, ng, 50, &med);
            po.a = plq_calibrate_a(med, po.b);
            free(gm);
            free(g);
        }
        rate_eye[sidx] = rate_rnd[sidx] = 0;
        uint64_t ids[NOCC];
        for (int i = 0; i < NOCC; i++)
            ids[i] = (uint64_t)i;
        CHECK_OK(xfiq_model_plq(m, eye, NOCC, ids, &po, qe, maps, NULL));
        for (int i = 0; i < NOCC; i++)
            rate_eye[sidx] += box_lower(maps + (size_t)i * HW, mask, ex0, ey0, ex1, ey1);
        CHECK_OK(xfiq_model_plq(m, rnd, NOCC, ids, &po, qr, maps, NULL));
        for (int i = 0; i < NOCC; i++)
            rate_rnd[sidx] += box_lower(maps + (size_t)i * HW, mask, rx[i], ry[i], rx[i] + 28, ry[i] + 28);
        CHECK_OK(xfiq_model_plq(m, clean, NOCC, ids, &po, qc, maps, NULL));
        /* Share of face pixels that are not saturated, per map; the median map. */
        double fr[NOCC];
        for (int i = 0; i < NOCC; i++) {
            int ok = 0, tot = 0;
            for (int p = 0; p < HW; p++)
                if (mask[p]) {
                    float P = maps[(size_t)i * HW + p];
                    ok += P >= 0.05f && P <= 0.95f, tot++;
                }
            fr[i] = (double)ok / tot;
        }
        double med;
        calib_percentile(fr, NOCC, 50, &med);
        if (sidx == 2) {
            unsat_med = med;
            double mp[NOCC], m5, m50, m95;
            for (int i = 0; i < NOCC; i++)
                mp[i] = qc[i].mean_plq;
            calib_percentile(mp, NOCC, 5, &m5);
            calib_percentile(mp, NOCC, 50, &m50);
            calib_percentile(mp, NOCC, 95, &m95);
            printf("mean PLQ over the face (signed, calibrated) of %d clean LFW faces: p5 %.3f, median %.3f, p95 %.3f\n",
                   NOCC, m5, m50, m95);
        }
        printf("PLQ %-21s: occluded box has lower mean PLQ than the rest of the face in %2d/%d faces (eyes), "
               "%2d/%d (random box); median share of face pixels with P in [0.05,0.95]: %.2f\n",
               setups[sidx].name, rate_eye[sidx], NOCC, rate_rnd[sidx], NOCC, med);
    }
    CHECK_MSG(rate_eye[2] + rate_rnd[2] > rate_eye[0] + rate_rnd[0], "signed mode is not better than paper mode");
    CHECK_MSG(rate_eye[2] > NOCC / 2 && rate_rnd[2] > NOCC / 2, "occluded regions are not lower in most faces");
    CHECK_MSG(unsat_med >= 0.5, "typical map: only %.2f of face pixels unsaturated", unsat_med);

    /* Quality drops under occlusion and blur (SER-FIQ of the same faces). */
    CHECK_OK(xfiq_model_serfiq(m, blr, NOCC, NULL, &o.serfiq, qb, NULL));
    double mc = 0, me = 0, mr = 0, mb = 0;
    int le = 0, lb = 0;
    for (int i = 0; i < NOCC; i++) {
        mc += qc[i].serfiq / NOCC, me += qe[i].serfiq / NOCC, mr += qr[i].serfiq / NOCC, mb += qb[i].serfiq / NOCC;
        le += qe[i].serfiq < qc[i].serfiq, lb += qb[i].serfiq < qc[i].serfiq;
    }
    printf("mean scaled SER-FIQ of %d faces: clean %.3f, eyes covered %.3f (lower in %d), random box %.3f, "
           "blurred (sigma 2.5) %.3f (lower in %d)\n", NOCC, mc, me, le, mr, mb, lb);
    CHECK(me < mc && le > NOCC / 2);
    CHECK(mb < mc && lb > NOCC / 2);

    /* 5. MagFace toy photos: rank correlation with the authors' feature norms. */
    char fl[4200];
    snprintf(fl, sizeof fl, "%s/feat.list", toy);
    FILE *f = fopen(fl, "r");
    if (f) {
        double norm[10], sr[10], mag[10];
        uint8_t tf[10 * HW * 3];
        int nt = 0;
        char name[256];
        while (nt < 10 && fscanf(f, "%255s", name) == 1) {
            double ss = 0, x;
            for (int k = 0; k < 512 && fscanf(f, "%lf", &x) == 1; k++)
                ss += x * x;
            norm[nt] = sqrt(ss);
            char p[4600];
            snprintf(p, sizeof p, "%s/%s", toy, strrchr(name, '/') ? strrchr(name, '/') + 1 : name);
            if (load_face(p, tf + (size_t)nt * HW * 3) == 0)
                nt++;
        }
        fclose(f);
        xfiq_quality tq[10];
        CHECK_OK(xfiq_model_serfiq(m, tf, nt, NULL, &o.serfiq, tq, NULL));
        for (int i = 0; i < nt; i++)
            sr[i] = tq[i].serfiq_raw, mag[i] = tq[i].magnitude;
        double rs = spearman(sr, norm, nt), rm = spearman(mag, norm, nt);
        printf("MagFace toy photos (%d): Spearman vs MagFace feature norms: SER-FIQ %.2f, magnitude %.2f\n", nt, rs,
               rm);
        CHECK(nt == 10 && rs > 0.3);
    } else {
        printf("MagFace toy photos absent (%s): skipped that part\n", fl);
    }
    free(faces);
    free(q);
    free(v);
    free(eye);
    free(rnd);
    free(blr);
    free(clean);
    free(maps);
    xfiq_pathlist_free(&pl);
    xfiq_model_free(m);
    xfiq_backend_free(be);
    TEST_END();
}
