/* test_roc_part.c - an ROC cut into key ranges (as `mpirun ... xfiq eval`
 * spreads it over processes) gives, after the reductions roc_part.h
 * describes, exactly the summary of the whole ROC on one process (EER,
 * FNMR and thresholds at every FMR, AUC: bit for bit), for heavy ties,
 * empty ranges, ranges of one class and any cut; the whole ROC itself is
 * held to scikit-learn by test_eval_ref. */
#include "eval_test_util.h"

#include "eval/eval_util.h"
#include "eval/roc_part.h"
#include "xfiq_eval.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The whole summary from K parts cut at the keys in cut[0..K-2] (ascending;
 * part k holds the keys in [cut[k-1], cut[k])), reduced as eval_mpi.c does. */
static void summary_from_parts(const double *s, const uint8_t *lab, int64_t n, const uint64_t *cut, int K,
                               xfiq_roc_summary *out)
{
    static const double fmrs[XFIQ_ROC_NUM_FMR] = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
    xfiq_roc_part *parts = calloc((size_t)K, sizeof *parts);
    int64_t *ng = calloc((size_t)K, 8), *ni = calloc((size_t)K, 8), G = 0, I = 0;
    uint64_t **gen = calloc((size_t)K, sizeof *gen), **imp = calloc((size_t)K, sizeof *imp);
    for (int k = 0; k < K; k++) {
        gen[k] = malloc((size_t)n * 8 + 8);
        imp[k] = malloc((size_t)n * 8 + 8);
    }
    for (int64_t i = 0; i < n; i++) {
        uint64_t key = xfiq_key_of(s[i]);
        int k = 0;
        while (k < K - 1 && key >= cut[k])
            k++;
        if (lab[i])
            gen[k][ng[k]++] = key, G++;
        else
            imp[k][ni[k]++] = key, I++;
    }
    for (int k = K - 1, tp0 = 0, fp0 = 0; k >= 0; k--) { /* parts of higher keys come first */
        qsort(gen[k], (size_t)ng[k], 8, cmp_u64);
        qsort(imp[k], (size_t)ni[k], 8, cmp_u64);
        CHECK(xfiq_roc_part_build(gen[k], ng[k], imp[k], ni[k], tp0, fp0, G, I, &parts[k]) == XFIQ_OK);
        tp0 += (int)ng[k];
        fp0 += (int)ni[k];
    }
    memset(out, 0, sizeof *out);
    out->n_genuine = G;
    out->n_impostor = I;
    unsigned __int128 a2 = 0;
    for (int k = 0; k < K; k++)
        a2 += xfiq_roc_part_auc2(&parts[k]);
    out->auc = (double)a2 / (2.0 * (double)G * (double)I);
    for (int f = 0; f < XFIQ_ROC_NUM_FMR; f++) {
        int64_t want = 0;
        for (int k = 0; k < K; k++) {
            int64_t w = xfiq_roc_part_fnmr_tp(&parts[k], fmrs[f]);
            want = w > want ? w : want;
        }
        uint64_t best = 0, key;
        for (int k = 0; k < K; k++)
            if (xfiq_roc_part_first_key(&parts[k], want, &key) && key > best)
                best = key;
        out->fmr[f] = fmrs[f];
        out->fnmr[f] = 1.0 - (double)want / (double)G;
        out->threshold[f] = want ? xfiq_key_value(best) : INFINITY;
    }
    for (int k = K - 1; k >= 0; k--) {
        int64_t i = xfiq_roc_part_eer_index(&parts[k]);
        if (i >= 0) {
            xfiq_roc_part_eer_at(&parts[k], i, &out->eer, &out->eer_threshold);
            break;
        }
    }
    for (int k = 0; k < K; k++) {
        xfiq_roc_part_free(&parts[k]);
        free(gen[k]);
        free(imp[k]);
    }
    free(parts);
    free(gen);
    free(imp);
    free(ng);
    free(ni);
}

static void same(const xfiq_roc_summary *a, const xfiq_roc_summary *b, const char *what)
{
    CHECK_MSG(a->n_genuine == b->n_genuine && a->n_impostor == b->n_impostor, "%s: counts", what);
    CHECK_MSG(a->eer == b->eer && a->eer_threshold == b->eer_threshold, "%s: EER %.17g@%.17g vs %.17g@%.17g", what,
              a->eer, a->eer_threshold, b->eer, b->eer_threshold);
    CHECK_MSG(a->auc == b->auc, "%s: AUC %.17g vs %.17g", what, a->auc, b->auc);
    for (int f = 0; f < XFIQ_ROC_NUM_FMR; f++)
        CHECK_MSG(a->fnmr[f] == b->fnmr[f] && a->threshold[f] == b->threshold[f],
                  "%s: FNMR@%g %.17g@%.17g vs %.17g@%.17g", what, a->fmr[f], a->fnmr[f], a->threshold[f], b->fnmr[f],
                  b->threshold[f]);
}

int main(void)
{
    const int64_t n = 20000;
    double *s = malloc((size_t)n * sizeof *s);
    uint8_t *lab = malloc((size_t)n);
    int cases = 0;
    for (int round = 0; round < 24; round++) {
        int levels = round % 3 == 0 ? 7 : round % 3 == 1 ? 300 : 1 << 30; /* heavy ties ... none */
        for (int64_t i = 0; i < n; i++) {
            lab[i] = next() % 10 == 0;
            double v = (double)(next() % (uint64_t)levels) / levels;
            s[i] = lab[i] ? v * 0.7 + 0.3 : v * 0.8; /* overlapping classes */
            if (round == 5 && i % 2)
                s[i] = -0.0; /* -0.0 ties with 0.0 */
        }
        xfiq_roc_t r;
        xfiq_roc_summary want, got;
        CHECK(xfiq_roc_build(s, lab, n, &r) == XFIQ_OK && xfiq_roc_summarize(r, &want) == XFIQ_OK);
        xfiq_roc_free(r);
        int K = 1 + round % 8;
        uint64_t cut[8];
        for (int k = 0; k < K - 1; k++) /* cuts at scores (ties stay together) or anywhere, empty parts included */
            cut[k] = round % 2 ? xfiq_key_of(s[next() % (uint64_t)n]) : xfiq_key_of((double)(next() % 1000) / 700.0 - 0.2);
        qsort(cut, (size_t)(K - 1), 8, cmp_u64);
        summary_from_parts(s, lab, n, cut, K, &got);
        char what[64];
        snprintf(what, sizeof what, "round %d (%d parts, %d levels)", round, K, levels);
        same(&got, &want, what);
        cases++;
    }
    printf("test_roc_part: %d cut ROCs equal the whole ROC's summary bit for bit\n", cases);
    free(s);
    free(lab);
    TEST_END();
}
