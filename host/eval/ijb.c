/* ijb.c - IJB-B/C style template protocols: the media list (image, template,
 * media), the template pair list, template features by mean or
 * magnitude-weighted aggregation, and the scores of every template pair. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "eval/elem_eval.h"
#include "io/readall.h"

struct xfiq_ijb {
    int64_t n_images;
    size_t cap_images;
    char **names;
    int64_t *tmpl;  /* template index of each image */
    int64_t *media; /* media id of each image */
    int64_t n_templates;
    xfiq_strmap tmap; /* template id text -> index */
    int64_t n_pairs;
    size_t cap_pairs;
    int64_t *pa, *pb;
    uint8_t *label;
    const char *path;
};

static xfiq_status media_line(void *ctx, char *line, int64_t lineno)
{
    struct xfiq_ijb *t = ctx;
    char *tok[4];
    int n = xfiq_tokens(line, tok, 3);
    if (n == 0)
        return XFIQ_OK;
    int64_t tid, mid;
    if (n != 3 || !xfiq_parse_i64(tok[1], &tid) || !xfiq_parse_i64(tok[2], &mid))
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected 'image template_id media_id'", t->path,
                          (long long)lineno);
    size_t cap = t->cap_images;
    XFIQ_TRY(xfiq_grow((void **)&t->names, &cap, (size_t)t->n_images + 1, sizeof(char *)));
    cap = t->cap_images;
    XFIQ_TRY(xfiq_grow((void **)&t->tmpl, &cap, (size_t)t->n_images + 1, sizeof(int64_t)));
    cap = t->cap_images;
    XFIQ_TRY(xfiq_grow((void **)&t->media, &cap, (size_t)t->n_images + 1, sizeof(int64_t)));
    t->cap_images = cap;
    int64_t *slot;
    XFIQ_TRY(xfiq_strmap_put(&t->tmap, tok[1], strlen(tok[1]), t->n_templates, &slot, NULL));
    if (*slot == t->n_templates)
        t->n_templates++;
    if (!(t->names[t->n_images] = strdup(tok[0])))
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    t->tmpl[t->n_images] = *slot;
    t->media[t->n_images] = mid;
    t->n_images++;
    return XFIQ_OK;
}

static xfiq_status pair_line(void *ctx, char *line, int64_t lineno)
{
    struct xfiq_ijb *t = ctx;
    char *tok[4];
    int n = xfiq_tokens(line, tok, 3);
    if (n == 0)
        return XFIQ_OK;
    if (n != 3)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected 'template_a template_b label'", t->path,
                          (long long)lineno);
    if (strcmp(tok[2], "0") && strcmp(tok[2], "1"))
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: label '%s' is not 0 or 1", t->path,
                          (long long)lineno, tok[2]);
    int64_t *a = xfiq_strmap_get(&t->tmap, tok[0], strlen(tok[0]));
    int64_t *b = xfiq_strmap_get(&t->tmap, tok[1], strlen(tok[1]));
    if (!a || !b)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: template %s has no image in the media list",
                          t->path, (long long)lineno, a ? tok[1] : tok[0]);
    size_t cap = t->cap_pairs;
    XFIQ_TRY(xfiq_grow((void **)&t->pa, &cap, (size_t)t->n_pairs + 1, 8));
    cap = t->cap_pairs;
    XFIQ_TRY(xfiq_grow((void **)&t->pb, &cap, (size_t)t->n_pairs + 1, 8));
    cap = t->cap_pairs;
    XFIQ_TRY(xfiq_grow((void **)&t->label, &cap, (size_t)t->n_pairs + 1, 1));
    t->cap_pairs = cap;
    t->pa[t->n_pairs] = *a;
    t->pb[t->n_pairs] = *b;
    t->label[t->n_pairs] = tok[2][0] == '1';
    t->n_pairs++;
    return XFIQ_OK;
}

void xfiq_ijb_free(xfiq_ijb_t t)
{
    if (!t)
        return;
    for (int64_t i = 0; i < t->n_images; i++)
        free(t->names[i]);
    free(t->names);
    free(t->tmpl);
    free(t->media);
    xfiq_strmap_free(&t->tmap);
    free(t->pa);
    free(t->pb);
    free(t->label);
    free(t);
}

static xfiq_status read_lines(const char *path, xfiq_line_fn fn, struct xfiq_ijb *t)
{
    uint8_t *data = NULL;
    size_t len = 0;
    XFIQ_TRY(xfiq_file_read_all(path, (size_t)1 << 34, &data, &len));
    t->path = path;
    xfiq_status st = xfiq_text_lines((char *)data, len, path, fn, t);
    free(data);
    return st;
}

xfiq_status xfiq_ijb_open(const char *media_path, const char *pairs_path, xfiq_ijb_t *out)
{
    if (!media_path || !pairs_path || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_ijb_open: NULL argument");
    *out = NULL;
    struct xfiq_ijb *t = calloc(1, sizeof(*t));
    if (!t)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    xfiq_strmap_init(&t->tmap);
    xfiq_status st = read_lines(media_path, media_line, t);
    if (st == XFIQ_OK && !t->n_images)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: empty media list", media_path);
    if (st == XFIQ_OK)
        st = read_lines(pairs_path, pair_line, t);
    if (st == XFIQ_OK && !t->n_pairs)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: empty template pair list", pairs_path);
    t->path = NULL;
    if (st != XFIQ_OK) {
        xfiq_ijb_free(t);
        return st;
    }
    *out = t;
    return XFIQ_OK;
}

int64_t xfiq_ijb_num_images(xfiq_ijb_t t) { return t->n_images; }
const char *xfiq_ijb_image_name(xfiq_ijb_t t, int64_t i) { return t->names[i]; }
int64_t xfiq_ijb_num_templates(xfiq_ijb_t t) { return t->n_templates; }
int64_t xfiq_ijb_num_pairs(xfiq_ijb_t t) { return t->n_pairs; }
const uint8_t *xfiq_ijb_labels(xfiq_ijb_t t) { return t->label; }

typedef struct img_ref {
    int64_t tmpl, media, image;
} img_ref;

static int cmp_ref(const void *x, const void *y)
{
    const img_ref *a = x, *b = y;
    if (a->tmpl != b->tmpl)
        return a->tmpl < b->tmpl ? -1 : 1;
    if (a->media != b->media)
        return a->media < b->media ? -1 : 1;
    return (a->image > b->image) - (a->image < b->image);
}

xfiq_status xfiq_ijb_score(xfiq_ijb_t t, const float *z, int dim, const int64_t *rows,
                           xfiq_aggregation agg, const xfiq_qmag_params *p, double *cos_out,
                           double *qmag_out)
{
    if (!t || !z || !rows || !cos_out || dim < 1)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_ijb_score: bad arguments");
    const int64_t n = t->n_images, nt = t->n_templates;
    img_ref *ref = malloc((size_t)n * sizeof(img_ref));
    double *feat = calloc((size_t)nt * dim, sizeof(double));
    double *tq = calloc((size_t)nt, sizeof(double));
    double *media = malloc((size_t)dim * sizeof(double));
    if (!ref || !feat || !tq || !media) {
        free(ref);
        free(feat);
        free(tq);
        free(media);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for %lld templates", (long long)nt);
    }
    for (int64_t i = 0; i < n; i++)
        ref[i] = (img_ref){t->tmpl[i], t->media[i], i};
    qsort(ref, (size_t)n, sizeof(img_ref), cmp_ref);
    xfiq_status st = XFIQ_OK;
    for (int64_t i = 0; i < n && st == XFIQ_OK;) {
        int64_t tp = ref[i].tmpl, n_media = 0, n_img = 0;
        double *f = feat + tp * dim, qs = 0, qq = 0;
        while (i < n && ref[i].tmpl == tp && st == XFIQ_OK) {
            int64_t md = ref[i].media, cnt = 0;
            memset(media, 0, sizeof(double) * dim);
            for (; i < n && ref[i].tmpl == tp && ref[i].media == md; i++) {
                const float *r = z + rows[ref[i].image] * (int64_t)dim;
                double m = 0;
                for (int k = 0; k < dim; k++)
                    m += (double)r[k] * r[k];
                m = sqrt(m);
                if (!(m > 0)) {
                    st = xfiq_error(XFIQ_ERR_ARG, "image '%s' has a zero embedding", t->names[ref[i].image]);
                    break;
                }
                qs += m;
                qq += m * m;
                n_img++;
                for (int k = 0; k < dim; k++)
                    media[k] += agg == XFIQ_AGG_MAGNITUDE ? (double)r[k] : (double)r[k] / m;
                cnt++;
            }
            for (int k = 0; k < dim; k++)
                f[k] += agg == XFIQ_AGG_MAGNITUDE ? media[k] : media[k] / (double)cnt;
            n_media++;
        }
        double nrm = 0;
        for (int k = 0; k < dim; k++) {
            if (agg == XFIQ_AGG_MEAN)
                f[k] /= (double)n_media;
            nrm += f[k] * f[k];
        }
        nrm = sqrt(nrm);
        for (int k = 0; k < dim; k++)
            f[k] = nrm > 0 ? f[k] / nrm : 0.0;
        tq[tp] = agg == XFIQ_AGG_MAGNITUDE ? qq / qs : qs / (double)n_img;
    }
    if (st == XFIQ_OK) {
#pragma omp parallel for schedule(static, 1024)
        for (int64_t k = 0; k < t->n_pairs; k++) {
            const double *fa = feat + t->pa[k] * dim, *fb = feat + t->pb[k] * dim;
            double s = 0;
            for (int j = 0; j < dim; j++)
                s += fa[j] * fb[j];
            cos_out[k] = s;
            if (p && qmag_out)
                qmag_out[k] = xfiq_qmag_elem(s, xfiq_pair_quality(tq[t->pa[k]], tq[t->pb[k]]),
                                             p->alpha, p->beta);
        }
    }
    free(ref);
    free(feat);
    free(tq);
    free(media);
    return st;
}
