/* fuzz_names.c - the names file that goes with an embeddings .npy (a
 * files.csv of `xfiq embed`, or one path per line), against a 4 x 2 array. */
#include "fuzz_util.h"
#include "io/npy.h"
#include "xfiq_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *npy;
    if (!npy) {
        static char path[512];
        snprintf(path, sizeof path, "%s/e.npy", fuzz_dir());
        const float z[8] = {1, 0, 0, 1, 1, 1, -1, 0};
        const int64_t shape[2] = {4, 2};
        if (xfiq_npy_write_f32(path, z, 2, shape) != XFIQ_OK)
            abort();
        npy = path;
    }
    const char *names = fuzz_write("files.csv", data, size);
    xfiq_embset_t e;
    if (xfiq_embset_load(npy, names, &e) == XFIQ_OK) {
        (void)xfiq_embset_find(e, "a/b.jpg");
        xfiq_embset_free(e);
    }
    return 0;
}
