/* colormap.c - RdYlGn lookup with linear interpolation. */
#include "quality/colormap.h"

#include <math.h>

/* ColorBrewer RdYlGn-11: a50026 d73027 f46d43 fdae61 fee08b ffffbf d9ef8b
 * a6d96a 66bd63 1a9850 006837. */
const uint8_t colormap_rdylgn_table[COLORMAP_STEPS][3] = {
    {0xa5, 0x00, 0x26}, {0xd7, 0x30, 0x27}, {0xf4, 0x6d, 0x43}, {0xfd, 0xae, 0x61},
    {0xfe, 0xe0, 0x8b}, {0xff, 0xff, 0xbf}, {0xd9, 0xef, 0x8b}, {0xa6, 0xd9, 0x6a},
    {0x66, 0xbd, 0x63}, {0x1a, 0x98, 0x50}, {0x00, 0x68, 0x37},
};

void colormap_rdylgn(float v, uint8_t rgb[3])
{
    if (isnan(v)) {
        rgb[0] = rgb[1] = rgb[2] = 128;
        return;
    }
    double pos = (v < 0.0f ? 0.0 : v > 1.0f ? 1.0 : (double)v) * (COLORMAP_STEPS - 1);
    int i = (int)pos;
    if (i > COLORMAP_STEPS - 2)
        i = COLORMAP_STEPS - 2;
    double f = pos - i;
    for (int c = 0; c < 3; c++) {
        double lo = colormap_rdylgn_table[i][c], hi = colormap_rdylgn_table[i + 1][c];
        rgb[c] = (uint8_t)floor(lo + f * (hi - lo) + 0.5);
    }
}
