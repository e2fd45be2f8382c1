/* eval_test_util.h - helpers of the evaluation tests: run the Python
 * reference, read its JSON, read small CSV tables. */
#ifndef XFIQ_EVAL_TEST_UTIL_H
#define XFIQ_EVAL_TEST_UTIL_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "test_util.h"
#include "xfiq_test.h"

static inline const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* Fixture folder of this test (created). */
static inline char *fixture_dir(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", env_or("XFIQ_FIXTURE_DIR", "/tmp"), name);
    mkdir(env_or("XFIQ_FIXTURE_DIR", "/tmp"), 0777);
    mkdir(buf, 0777);
    return buf;
}

/* Runs the reference script with args; skips the test when the Python
 * with numpy/scikit-learn/scipy is missing. */
static inline int run_ref(const char *args)
{
    const char *py = env_or("XFIQ_PYTHON", "/usr/bin/python3");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s -c 'import numpy, sklearn, scipy' 2>/dev/null", py);
    if (system(cmd) != 0)
        SKIP("%s with numpy, scikit-learn and scipy is needed for the reference", py);
    snprintf(cmd, sizeof cmd, "nice %s %s/tests/eval/ref_eval.py %s", py,
             env_or("XFIQ_SOURCE_DIR", "."), args);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "reference failed (%d): %s\n", rc, cmd);
    return rc;
}

/* Runs a CLI subcommand's entry point on a NULL-terminated argument list
 * (args[0] is the program name), stdout flushed around it. */
static inline int run_cmd(int (*fn)(int, char **), const char *const *args)
{
    char *argv[64];
    int argc = 0;
    while (args[argc] && argc < 63) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
    argv[argc] = NULL;
    fflush(stdout);
    int rc = fn(argc, argv);
    fflush(stdout);
    return rc;
}

static inline cJSON *load_json(const char *path)
{
    char *s = test_read_file(path, NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    free(s);
    return j;
}

/* j["a"]["b"]... (NULL-terminated path). */
static inline const cJSON *jget(const cJSON *j, ...)
{
    va_list ap;
    va_start(ap, j);
    const char *k;
    while (j && (k = va_arg(ap, const char *)))
        j = cJSON_GetObjectItemCaseSensitive(j, k);
    va_end(ap);
    return j;
}

static inline double jnum(const cJSON *j)
{
    if (cJSON_IsNumber(j))
        return j->valuedouble;
    return NAN; /* null (NaN in the reference) */
}

static inline double jidx(const cJSON *arr, int i) { return jnum(cJSON_GetArrayItem(arr, i)); }

/* Rows of numbers separated by commas; returns rows, fills cols. */
static inline double *read_table(const char *path, int cols, int64_t *rows)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1024, n = 0;
    double *v = malloc(cap * sizeof(double));
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        if (n + cols > cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof(double));
        }
        for (int c = 0; c < cols; c++) {
            v[n++] = strtod(p, &p);
            if (*p == ',')
                p++;
        }
    }
    fclose(f);
    *rows = (int64_t)(n / cols);
    return v;
}

/* Relative-or-absolute closeness for values that may be NaN on both sides. */
#define CHECK_SAME(a, b, tol)                                                      \
    do {                                                                           \
        double a_ = (a), b_ = (b);                                                 \
        if (!(isnan(a_) && isnan(b_)))                                             \
            CHECK_MSG(fabs(a_ - b_) <= (tol), "%s: %.17g vs %.17g (tol %g)", #a, a_, b_, \
                      (double)(tol));                                              \
    } while (0)

/* An `xfiq eval --json` score entry against a reference entry. */
static inline void cmp_kfold(const char *what, const cJSON *mine, const cJSON *ref)
{
    CHECK_MSG(fabs(jnum(jget(mine, "accuracy_mean", NULL)) - jnum(jget(ref, "acc_mean", NULL))) <= 1e-9,
              "%s accuracy", what);
    CHECK_MSG(fabs(jnum(jget(mine, "accuracy_std", NULL)) - jnum(jget(ref, "acc_std", NULL))) <= 1e-9,
              "%s std", what);
    int nf = cJSON_GetArraySize(jget(ref, "acc", NULL));
    CHECK_MSG(cJSON_GetArraySize(jget(mine, "fold_accuracy", NULL)) == nf, "%s: fold count", what);
    for (int f = 0; f < nf; f++)
        CHECK_MSG(fabs(jidx(jget(mine, "fold_accuracy", NULL), f) - jidx(jget(ref, "acc", NULL), f)) <= 1e-9,
                  "%s fold %d", what, f);
}

static inline void cmp_roc(const char *what, const cJSON *mine, const cJSON *ref)
{
    CHECK_MSG(fabs(jnum(jget(mine, "eer", NULL)) - jnum(jget(ref, "eer", NULL))) <= 1e-6, "%s eer", what);
    CHECK_MSG(fabs(jnum(jget(mine, "auc", NULL)) - jnum(jget(ref, "auc", NULL))) <= 1e-9, "%s auc", what);
    static const char *keys[6] = {"1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6"};
    for (int k = 0; k < 6; k++)
        CHECK_MSG(fabs(jnum(jget(mine, "fnmr_at_fmr", keys[k], NULL)) - jidx(jget(ref, "fnmr", NULL), k)) <= 1e-9,
                  "%s fnmr@%s", what, keys[k]);
}

#endif
