/* fuzz_landmarks.c - the landmarks file reader and lookup. */
#include "fuzz_util.h"
#include "xfiq_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_write("landmarks.txt", data, size);
    xfiq_landmarks_set *s;
    if (xfiq_landmarks_load(p, &s) == XFIQ_OK) {
        (void)xfiq_landmarks_find(s, "a/b.jpg");
        xfiq_landmarks_free(s);
    }
    return 0;
}
