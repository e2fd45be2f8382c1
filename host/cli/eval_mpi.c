/* eval_mpi.c - `mpirun ... xfiq eval`, the scoring: rank r scores its
 * contiguous share of the pair list (for an identity-folder benchmark the
 * list is the upper triangle of the all-vs-all matrix row by row, so a share
 * is a band of rows: a tile), in double exactly as one process does, and
 * the metrics are reduced without any rank holding all scores:
 * - 10-fold accuracy (QMagFace protocol): global min/max give the 600
 *   thresholds; the per-fold counts below each threshold are integers,
 *   summed over the ranks;
 * - ROC: the score keys are redistributed so that rank k holds one key
 *   range (a sample sort: splitters from a sample of every rank's keys, one
 *   all-to-all), then each rank walks its range and roc_part.h's few
 *   numbers per rank are reduced into EER, FNMR@FMR and AUC.
 * Both are exactly what one process computes (tests/cli/mpi.sh). */
#ifdef XFIQ_HAVE_MPI
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_eval.h"
#include "cli/ranks.h"
#include "core/status.h"
#include "eval/eval_util.h"
#include "eval/kfold_internal.h"
#include "eval/roc_internal.h"
#include "eval/roc_part.h"

#define SAMPLES_PER_RANK 256

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Fold of pair g under sklearn's KFold(n, F) without shuffling. */
static int32_t block_fold(int64_t g, int64_t n, int F)
{
    int64_t base = n / F, extra = n % F, big = extra * (base + 1);
    return (int32_t)(g < big ? g / (base + 1) : extra + (g - big) / base);
}

static int64_t lower_bound(const uint64_t *a, int64_t n, uint64_t v)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Sends the keys of sorted a (n) to the rank owning their range; *out: the
 * keys of this rank's range, sorted. */
static xfiq_status exchange(const uint64_t *a, int64_t n, const uint64_t *cut, uint64_t **out, int64_t *n_out)
{
    const int P = xfiq_cli_ranks.size;
    int *sc = calloc((size_t)P, sizeof(int)), *rc = calloc((size_t)P, sizeof(int));
    int *sd = calloc((size_t)P, sizeof(int)), *rd = calloc((size_t)P, sizeof(int));
    xfiq_status st = sc && rc && sd && rd ? XFIQ_OK : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    int64_t prev = 0, total = 0;
    for (int k = 0; st == XFIQ_OK && k < P; k++) {
        int64_t end = k == P - 1 ? n : lower_bound(a, n, cut[k]);
        sc[k] = (int)(end - prev);
        sd[k] = (int)prev;
        prev = end;
    }
    if (st == XFIQ_OK)
        MPI_Alltoall(sc, 1, MPI_INT, rc, 1, MPI_INT, MPI_COMM_WORLD);
    for (int k = 0; st == XFIQ_OK && k < P; k++) {
        if (total + rc[k] > 0x7fffffff)
            st = xfiq_error(XFIQ_ERR_ARG, "more than 2^31 scores in one rank's range: use more ranks");
        rd[k] = (int)total;
        total += rc[k];
    }
    uint64_t *buf = malloc((size_t)(total ? total : 1) * 8), *tmp = malloc((size_t)(total ? total : 1) * 8);
    if (st == XFIQ_OK && (!buf || !tmp))
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory for %lld scores", (long long)total);
    /* every rank reaches the collective, even after a local failure */
    MPI_Alltoallv(a, sc, sd, MPI_UINT64_T, st == XFIQ_OK ? buf : NULL, st == XFIQ_OK ? rc : sc, rd, MPI_UINT64_T,
                  MPI_COMM_WORLD);
    if (st == XFIQ_OK)
        xfiq_radix_sort_u64(buf, tmp, (size_t)total);
    free(tmp);
    free(sc);
    free(rc);
    free(sd);
    free(rd);
    if (st != XFIQ_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *n_out = total;
    return XFIQ_OK;
}

/* The whole ROC's summary from this rank's scores s (m, labels lab). */
static xfiq_status spread_roc(const double *s, const uint8_t *lab, int64_t m, xfiq_roc_summary *out)
{
    static const double fmrs[XFIQ_ROC_NUM_FMR] = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
    const int P = xfiq_cli_ranks.size, me = xfiq_cli_ranks.rank;
    int64_t ng = 0;
    for (int64_t k = 0; k < m; k++)
        ng += lab[k] != 0;
    int64_t ni = m - ng;
    size_t cap = (size_t)(m ? m : 1);
    uint64_t *gen = malloc(cap * 8), *imp = malloc(cap * 8), *tmp = malloc(cap * 8);
    uint64_t *cut = calloc((size_t)P, 8), *smp = malloc(SAMPLES_PER_RANK * 8), *all = NULL, *g2 = NULL, *i2 = NULL;
    int *cnt = malloc((size_t)P * sizeof(int)), *off = malloc((size_t)P * sizeof(int));
    int64_t *counts = malloc((size_t)P * 3 * 8), ng2 = 0, ni2 = 0;
    xfiq_roc_part part = {0};
    xfiq_status st = gen && imp && tmp && cut && smp && cnt && off && counts ? XFIQ_OK
                                                                            : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (st == XFIQ_OK)
        st = xfiq_roc_keys(s, lab, m, gen, imp, tmp);
    /* splitters: quantiles of a sample of every rank's keys */
    int ns = 0; /* as many from each class as it holds of this rank's keys */
    int sg = m ? (int)((int64_t)SAMPLES_PER_RANK * ng / m) : 0, si = m ? SAMPLES_PER_RANK - sg : 0;
    for (int k = 0; st == XFIQ_OK && k < sg; k++)
        smp[ns++] = gen[(int64_t)k * ng / sg];
    for (int k = 0; st == XFIQ_OK && ni && k < si; k++)
        smp[ns++] = imp[(int64_t)k * ni / si];
    int err = st != XFIQ_OK, any_err;
    MPI_Allreduce(&err, &any_err, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_err) {
        st = st != XFIQ_OK ? st : xfiq_error(XFIQ_ERR_ARG, "another rank failed");
        goto done;
    }
    MPI_Allgather(&ns, 1, MPI_INT, cnt, 1, MPI_INT, MPI_COMM_WORLD);
    int tot = 0;
    for (int k = 0; k < P; k++) {
        off[k] = tot;
        tot += cnt[k];
    }
    all = malloc((size_t)(tot ? tot : 1) * 8);
    if (!all) {
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        goto done; /* the same on every rank: tot is */
    }
    MPI_Allgatherv(smp, ns, MPI_UINT64_T, all, cnt, off, MPI_UINT64_T, MPI_COMM_WORLD);
    qsort(all, (size_t)tot, 8, cmp_u64);
    for (int k = 0; k < P - 1; k++) /* rank k: keys in [cut[k-1], cut[k]) */
        cut[k] = tot ? all[(size_t)(k + 1) * (size_t)tot / (size_t)P] : UINT64_MAX;
    st = exchange(gen, ng, cut, &g2, &ng2);
    xfiq_status st2 = exchange(imp, ni, cut, &i2, &ni2);
    if (st == XFIQ_OK)
        st = st2;
    int64_t mine[3] = {ng2, ni2, 0};
    MPI_Allgather(mine, 2, MPI_INT64_T, counts, 2, MPI_INT64_T, MPI_COMM_WORLD);
    int64_t G = 0, I = 0, tp0 = 0, fp0 = 0;
    for (int k = 0; k < P; k++) {
        G += counts[2 * k];
        I += counts[2 * k + 1];
        if (k > me) { /* ranks of higher keys come first on the walk */
            tp0 += counts[2 * k];
            fp0 += counts[2 * k + 1];
        }
    }
    if (st == XFIQ_OK && (!G || !I))
        st = xfiq_error(XFIQ_ERR_ARG, "an ROC needs genuine and impostor pairs (%lld genuine, %lld impostor)",
                        (long long)G, (long long)I);
    if (st == XFIQ_OK)
        st = xfiq_roc_part_build(g2, ng2, i2, ni2, tp0, fp0, G, I, &part);
    err = st != XFIQ_OK;
    MPI_Allreduce(&err, &any_err, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_err) {
        st = st != XFIQ_OK ? st : xfiq_error(XFIQ_ERR_ARG, "another rank failed");
        goto done;
    }
    memset(out, 0, sizeof *out);
    out->n_genuine = G;
    out->n_impostor = I;
    /* AUC: the exact integer numerator, summed as two 64-bit halves */
    unsigned __int128 a2 = xfiq_roc_part_auc2(&part), sum = 0;
    uint64_t halves[2] = {(uint64_t)(a2 >> 64), (uint64_t)a2}, *hv = malloc((size_t)P * 16);
    if (!hv) {
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        goto done;
    }
    MPI_Allgather(halves, 2, MPI_UINT64_T, hv, 2, MPI_UINT64_T, MPI_COMM_WORLD);
    for (int k = 0; k < P; k++)
        sum += ((unsigned __int128)hv[2 * k] << 64) | hv[2 * k + 1];
    free(hv);
    out->auc = (double)sum / (2.0 * (double)G * (double)I);
    /* FNMR at each FMR: the true positives, then the threshold reaching them */
    int64_t want[XFIQ_ROC_NUM_FMR], wall[XFIQ_ROC_NUM_FMR];
    uint64_t key[XFIQ_ROC_NUM_FMR], kall[XFIQ_ROC_NUM_FMR];
    for (int f = 0; f < XFIQ_ROC_NUM_FMR; f++)
        want[f] = xfiq_roc_part_fnmr_tp(&part, fmrs[f]);
    MPI_Allreduce(want, wall, XFIQ_ROC_NUM_FMR, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
    for (int f = 0; f < XFIQ_ROC_NUM_FMR; f++)
        if (!xfiq_roc_part_first_key(&part, wall[f], &key[f]))
            key[f] = 0;
    MPI_Allreduce(key, kall, XFIQ_ROC_NUM_FMR, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    for (int f = 0; f < XFIQ_ROC_NUM_FMR; f++) {
        out->fmr[f] = fmrs[f];
        out->fnmr[f] = 1.0 - (double)wall[f] / (double)G;
        out->threshold[f] = wall[f] ? xfiq_key_value(kall[f]) : INFINITY;
    }
    /* EER: the first crossing along the walk (higher ranks first) */
    mine[0] = part.n_points;
    MPI_Allgather(mine, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, MPI_COMM_WORLD);
    int64_t before = 0;
    for (int k = me + 1; k < P; k++)
        before += counts[k];
    int64_t i = xfiq_roc_part_eer_index(&part), pos = i >= 0 ? before + i : INT64_MAX, first;
    MPI_Allreduce(&pos, &first, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
    int owner = -1;
    int64_t b = 0;
    for (int k = P - 1; k >= 0 && owner < 0; k--) {
        if (first < b + counts[k])
            owner = k;
        b += counts[k];
    }
    double e[2] = {0, 0};
    if (me == owner)
        xfiq_roc_part_eer_at(&part, first - before, &e[0], &e[1]);
    MPI_Bcast(e, 2, MPI_DOUBLE, owner < 0 ? 0 : owner, MPI_COMM_WORLD);
    out->eer = e[0];
    out->eer_threshold = e[1];
done:
    xfiq_roc_part_free(&part);
    free(gen);
    free(imp);
    free(tmp);
    free(cut);
    free(smp);
    free(all);
    free(g2);
    free(i2);
    free(cnt);
    free(off);
    free(counts);
    return st;
}

/* Accuracy over the file's folds (or consecutive blocks) from counts summed
 * over the ranks: xfiq_kfold_scores, spread. */
static xfiq_status spread_kfold(const double *s, const uint8_t *lab, int64_t a, int64_t m, int64_t n,
                                const int32_t *folds, int F, xfiq_kfold_result *out)
{
    double lo = INFINITY, hi = -INFINITY, mm[2], rr[2];
    for (int64_t k = 0; k < m; k++) {
        lo = s[k] < lo ? s[k] : lo;
        hi = s[k] > hi ? s[k] : hi;
    }
    mm[0] = -lo;
    mm[1] = hi;
    MPI_Allreduce(mm, rr, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    lo = -rr[0];
    hi = rr[1];
    if (!isfinite(lo) || !isfinite(hi))
        return xfiq_error(XFIQ_ERR_ARG, "scores must be finite for the 600-threshold sweep");
    double thr[XFIQ_QMAG_PROTOCOL_THRESHOLDS];
    for (int i = 0; i < XFIQ_QMAG_PROTOCOL_THRESHOLDS; i++)
        thr[i] = xfiq_linspace_at(lo, hi, XFIQ_QMAG_PROTOCOL_THRESHOLDS, i);
    int32_t *fl = malloc((size_t)(m ? m : 1) * sizeof *fl);
    xfiq_kfold_counts c;
    memset(&c, 0, sizeof c);
    xfiq_status st = fl ? XFIQ_OK : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    for (int64_t k = 0; st == XFIQ_OK && k < m; k++)
        fl[k] = folds ? folds[a + k] : block_fold(a + k, n, F);
    if (st == XFIQ_OK)
        st = xfiq_kfold_counts_build(s, lab, fl, m, F, thr, XFIQ_QMAG_PROTOCOL_THRESHOLDS, 0, &c);
    int err = st != XFIQ_OK, any;
    MPI_Allreduce(&err, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (!any) {
        MPI_Allreduce(MPI_IN_PLACE, c.cum, XFIQ_QMAG_PROTOCOL_THRESHOLDS * F * 2, MPI_INT64_T, MPI_SUM,
                      MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, c.total, 2 * XFIQ_MAX_FOLDS, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
        memset(out, 0, sizeof *out);
        out->n_folds = F;
        out->val_mean = out->val_std = out->far_mean = NAN;
        for (int f = 0; st == XFIQ_OK && f < F; f++) {
            int best;
            st = xfiq_kfold_fold_eval(&c, f, 0, &best, &out->accuracy[f]);
            out->threshold[f] = thr[best];
        }
        if (st == XFIQ_OK)
            xfiq_kfold_finish(out);
    } else if (st == XFIQ_OK) {
        st = xfiq_error(XFIQ_ERR_ARG, "another rank failed");
    }
    xfiq_kfold_counts_free(&c);
    free(fl);
    return st;
}

int xfiq_cli_eval_spread(const xfiq_eval_data *d, const int32_t *folds, int n_folds, const xfiq_qmag_params *qp,
                         int nc, xfiq_kfold_result *kf, xfiq_roc_summary *roc)
{
    const xfiq_ranks *r = &xfiq_cli_ranks;
    int64_t a, e;
    xfiq_ranks_slice(d->n_pairs, r->rank, r->size, &a, &e);
    int64_t m = e - a;
    size_t cap = (size_t)(m ? m : 1);
    double *s[2] = {malloc(cap * 8), malloc(cap * 8)}, *q = malloc(cap * 8);
    xfiq_status st = s[0] && s[1] && q ? XFIQ_OK : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (st == XFIQ_OK && m)
        st = xfiq_score_pairs(d->z, d->n_rows, d->dim, NULL, d->ia + a, d->ib + a, m, qp, s[0], q, qp ? s[1] : NULL);
    if (st != XFIQ_OK)
        fprintf(stderr, "xfiq eval: rank %d: %s\n", r->rank, xfiq_last_error());
    int bad, rc = xfiq_ranks_agree(st == XFIQ_OK ? 0 : 1, &bad);
    for (int i = 0; !rc && i < nc; i++) {
        st = spread_kfold(s[i], d->labels + a, a, m, d->n_pairs, folds, n_folds, &kf[i]);
        if (st == XFIQ_OK)
            st = spread_roc(s[i], d->labels + a, m, &roc[i]);
        if (st != XFIQ_OK) {
            if (r->rank == 0)
                fprintf(stderr, "xfiq eval: %s\n", xfiq_last_error());
            rc = 1;
        }
    }
    free(s[0]);
    free(s[1]);
    free(q);
    return rc;
}
#endif
