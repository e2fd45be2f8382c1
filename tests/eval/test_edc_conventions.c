/* test_edc_conventions.c - xfiq_edc_run in both conventions of SPEC 12
 * (fixed threshold at an FMR or a starting FNMR, partial area, theoretical
 * best subtracted; recomputed threshold over 0..0.95) against the numpy
 * reference tests/eval/ref_edc_conventions.py on synthetic pairs whose
 * qualities have many ties. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfiq_eval.h"
#include "xfiq_test.h"

#define N 3000

static double urand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((*s >> 11) + 0.5) / 9007199254740992.0;
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    return b;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void compare(const char *name, const xfiq_edc_result *r, const cJSON *ref, int fixed)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(ref, "discard"), *f = cJSON_GetObjectItemCaseSensitive(ref, "fnmr"),
                *b = cJSON_GetObjectItemCaseSensitive(ref, "best");
    CHECK_MSG(cJSON_GetArraySize(d) == r->n_points, "%s: %lld points, numpy %d", name, (long long)r->n_points,
              cJSON_GetArraySize(d));
    int bad = 0;
    for (int64_t j = 0; j < r->n_points && j < cJSON_GetArraySize(d); j++) {
        const cJSON *fv = cJSON_GetArrayItem(f, (int)j);
        double rf = cJSON_IsNumber(fv) ? fv->valuedouble : NAN;
        bad += fabs(cJSON_GetArrayItem(d, (int)j)->valuedouble - r->discard[j]) > 1e-12;
        bad += !(fabs(rf - r->fnmr[j]) <= 1e-12 || (isnan(rf) && isnan(r->fnmr[j])));
        if (fixed)
            bad += fabs(cJSON_GetArrayItem(b, (int)j)->valuedouble - r->best[j]) > 1e-12;
    }
    CHECK_MSG(bad == 0, "%s: %d curve values differ from numpy", name, bad);
    CHECK_MSG(fabs(jnum(ref, "auc") - r->auc) <= 1e-12, "%s: auc %.12g, numpy %.12g", name, r->auc, jnum(ref, "auc"));
    if (fixed) {
        CHECK_MSG(jnum(ref, "threshold") == r->threshold, "%s: threshold %.17g, numpy %.17g", name, r->threshold,
                  jnum(ref, "threshold"));
        CHECK_MSG(fabs(jnum(ref, "auc_best") - r->auc_best) <= 1e-12, "%s: auc_best", name);
    }
    printf("%-17s %-40s %4lld points, FNMR0 %.4f, threshold %.5f, area %.6f (best %.6f): equal to numpy\n", name,
           r->convention, (long long)r->n_points, r->fnmr0, r->threshold, r->auc, r->auc_best);
}

int main(void)
{
    const char *fix = getenv("XFIQ_FIXTURE_DIR"), *src = getenv("XFIQ_SOURCE_DIR"), *py = getenv("XFIQ_PYTHON");
    if (!fix || !src || !py)
        SKIP("run through ctest (XFIQ_FIXTURE_DIR, XFIQ_SOURCE_DIR, XFIQ_PYTHON)");
    static double s[N], q[N];
    static uint8_t y[N];
    unsigned long long seed = 99;
    char pairs[4200], out[4200], cmd[13000];
    snprintf(pairs, sizeof pairs, "%s/edc_conv_pairs.txt", fix);
    snprintf(out, sizeof out, "%s/edc_conv_ref.json", fix);
    FILE *f = fopen(pairs, "w");
    CHECK(f != NULL);
    if (!f)
        TEST_END();
    for (int i = 0; i < N; i++) {
        y[i] = i % 3 != 0;
        double qual = floor(urand(&seed) * 40) / 40; /* 40 levels: many ties */
        double u1 = urand(&seed), u2 = urand(&seed), g = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
        s[i] = y[i] ? 0.5 + 0.25 * qual + 0.15 * g : 0.05 + 0.1 * g;
        q[i] = qual;
        fprintf(f, "%.17g %d %.17g\n", s[i], y[i], q[i]);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/eval/ref_edc_conventions.py' '%s' '%s'", py, src, pairs, out);
    CHECK_MSG(system(cmd) == 0, "reference failed: %s", cmd);
    char *text = slurp(out);
    cJSON *ref = text ? cJSON_Parse(text) : NULL;
    CHECK(ref != NULL);
    if (!ref)
        TEST_END();
    struct { const char *name; xfiq_edc_mode mode; double fmr, start, limit; int best; } cases[] = {
        {"fixed_fmr", XFIQ_EDC_FIXED, 1e-2, 0, 0.2, 0},
        {"fixed_start", XFIQ_EDC_FIXED, 1e-3, 0.1, 0.2, 0},
        {"fixed_start_best", XFIQ_EDC_FIXED, 1e-3, 0.1, 0.3, 1},
        {"recompute", XFIQ_EDC_RECOMPUTE, 1e-2, 0, 0.95, 0}};
    for (int c = 0; c < 4; c++) {
        xfiq_edc_options o;
        xfiq_edc_options_default(cases[c].mode, &o);
        o.fmr = cases[c].fmr;
        o.start_fnmr = cases[c].start;
        o.discard_limit = cases[c].limit;
        o.subtract_best = cases[c].best;
        xfiq_edc_result r;
        CHECK_OK(xfiq_edc_run(s, y, q, N, &o, &r));
        compare(cases[c].name, &r, cJSON_GetObjectItemCaseSensitive(ref, cases[c].name), cases[c].mode == XFIQ_EDC_FIXED);
        if (c == 1) { /* the starting error is what was asked, and the best curve lies below */
            CHECK_NEAR(r.fnmr0, 0.1, 1.0 / 2000);
            for (int64_t j = 0; j < r.n_points; j++)
                CHECK(r.best[j] <= r.fnmr[j] + 1e-12);
        }
        xfiq_edc_result_free(&r);
    }
    /* Errors name the problem. */
    xfiq_edc_options o;
    xfiq_edc_options_default(XFIQ_EDC_FIXED, &o);
    o.discard_limit = 0;
    xfiq_edc_result r;
    CHECK(xfiq_edc_run(s, y, q, N, &o, &r) == XFIQ_ERR_ARG && strstr(xfiq_last_error(), "discard_limit"));
    cJSON_Delete(ref);
    free(text);
    TEST_END();
}
