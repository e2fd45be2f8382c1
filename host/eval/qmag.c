/* qmag.c - QMagFace parameters: published presets, the JSON file that
 * `xfiq qmagface-train` writes and the other commands read, and the score of
 * one comparison. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/status.h"
#include "eval/elem_eval.h"
#include "io/afile.h"
#include "io/readall.h"
#include "xfiq_eval.h"

/* Trained on Adience by the QMagFace authors (SPEC 5). */
static const struct {
    const char *name;
    const char *alias;
    double alpha, beta;
} qmag_presets[] = {
    {"magface-100", "magface100", 0.077428, 0.125926},
    {"magface-50", "magface50", 0.065984, 0.103799},
    {"magface-18", "magface18", 0.092861, 0.135311},
};

xfiq_status xfiq_qmag_preset(const char *name, xfiq_qmag_params *out)
{
    if (!name || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_qmag_preset: NULL argument");
    for (size_t i = 0; i < sizeof(qmag_presets) / sizeof(qmag_presets[0]); i++) {
        if (!strcmp(name, qmag_presets[i].name) || !strcmp(name, qmag_presets[i].alias)) {
            out->alpha = qmag_presets[i].alpha;
            out->beta = qmag_presets[i].beta;
            return XFIQ_OK;
        }
    }
    return xfiq_error(XFIQ_ERR_ARG,
                      "unknown QMagFace preset '%s' (known: magface-100, magface-50, magface-18)",
                      name);
}

xfiq_status xfiq_qmag_params_load(const char *path, xfiq_qmag_params *out)
{
    uint8_t *data = NULL;
    size_t len = 0;
    XFIQ_TRY(xfiq_file_read_all(path, 1 << 24, &data, &len));
    cJSON *root = cJSON_ParseWithLength((const char *)data, len);
    free(data);
    if (!root)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: not valid JSON", path);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "alpha");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "beta");
    xfiq_status st = XFIQ_OK;
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: needs numbers \"alpha\" and \"beta\"", path);
    else if (!isfinite(a->valuedouble) || !isfinite(b->valuedouble))
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: alpha and beta must be finite", path);
    else {
        out->alpha = a->valuedouble;
        out->beta = b->valuedouble;
    }
    cJSON_Delete(root);
    return st;
}

xfiq_status xfiq_qmag_params_resolve(const char *s, xfiq_qmag_params *out)
{
    if (!s || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_qmag_params_resolve: NULL argument");
    if (xfiq_qmag_preset(s, out) == XFIQ_OK)
        return XFIQ_OK;
    return xfiq_qmag_params_load(s, out);
}

static cJSON *json_array(const double *v, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(v[i]));
    return arr;
}

xfiq_status xfiq_qmag_params_save(const char *path, const xfiq_qmag_params *p,
                                  const xfiq_qmag_train_report *rep)
{
    if (!path || !p)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_qmag_params_save: NULL argument");
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory building %s", path);
    cJSON_AddStringToObject(root, "kind", "qmagface-params");
    cJSON_AddNumberToObject(root, "alpha", p->alpha);
    cJSON_AddNumberToObject(root, "beta", p->beta);
    if (rep) {
        cJSON *t = cJSON_AddObjectToObject(root, "training");
        cJSON_AddNumberToObject(t, "n_pairs", (double)rep->n_pairs);
        cJSON_AddNumberToObject(t, "n_genuine", (double)rep->n_genuine);
        cJSON_AddNumberToObject(t, "n_impostor", (double)rep->n_impostor);
        cJSON_AddNumberToObject(t, "max_q", rep->max_q);
        cJSON_AddItemToObject(t, "fmr", json_array(rep->fmr, rep->n_fmr));
        cJSON_AddItemToObject(t, "omega", json_array(rep->omega, rep->n_fmr));
        cJSON_AddItemToObject(t, "threshold", json_array(rep->threshold, rep->n_fmr));
        cJSON_AddItemToObject(t, "fnmr", json_array(rep->fnmr, rep->n_fmr));
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory printing %s", path);
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the terminator: written with its length */
    xfiq_status st = xfiq_afile_write_all(path, text, n + 1);
    free(text);
    return st;
}

double xfiq_qmag_score(double s, double q, const xfiq_qmag_params *p)
{
    return xfiq_qmag_elem(s, q, p->alpha, p->beta);
}
