/* fuzz_cfp.c - the CFP protocol reader: the input holds Pair_list_F.txt,
 * Pair_list_P.txt, Split/FP/01/same.txt and diff.txt separated by "\n@@\n". */
#include "fuzz_util.h"
#include "xfiq_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[4];
    size_t len[4];
    fuzz_split(data, size, part, len, 4);
    fuzz_write("cfp/Protocol/Pair_list_F.txt", part[0], len[0]);
    fuzz_write("cfp/Protocol/Pair_list_P.txt", part[1], len[1]);
    fuzz_write("cfp/Protocol/Split/FP/01/same.txt", part[2], len[2]);
    fuzz_write("cfp/Protocol/Split/FP/01/diff.txt", part[3], len[3]);
    char root[512];
    snprintf(root, sizeof root, "%s/cfp", fuzz_dir());
    xfiq_bench_options o;
    xfiq_bench_options_default(&o);
    o.format = XFIQ_BENCH_CFP;
    o.check_images = 0;
    xfiq_bench_t b;
    if (xfiq_bench_open(root, &o, &b) == XFIQ_OK)
        xfiq_bench_free(b);
    return 0;
}
