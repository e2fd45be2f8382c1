/* fuzz_ijb.c - the IJB readers: media list and template pairs separated by "\n@@\n". */
#include "fuzz_util.h"
#include "xfiq_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[2];
    size_t len[2];
    fuzz_split(data, size, part, len, 2);
    const char *m = fuzz_write("ijb_face_tid_mid.txt", part[0], len[0]);
    const char *p = fuzz_write("ijb_template_pair_label.txt", part[1], len[1]);
    xfiq_ijb_t t;
    if (xfiq_ijb_open(m, p, &t) == XFIQ_OK)
        xfiq_ijb_free(t);
    return 0;
}
