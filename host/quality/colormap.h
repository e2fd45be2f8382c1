/* colormap.h - the red-yellow-green diverging colour map of PLQ heatmaps
 * (ColorBrewer RdYlGn, 11 classes, red = low = 0, green = high = 1). */
#ifndef XFIQ_QUALITY_COLORMAP_H
#define XFIQ_QUALITY_COLORMAP_H

#include <stdint.h>

#define COLORMAP_STEPS 11

/* The 11 anchor colours, from 0 (dark red) to 1 (dark green). */
extern const uint8_t colormap_rdylgn_table[COLORMAP_STEPS][3];

/* v in [0, 1] -> RGB, linear between the anchors at v = i/10, rounded to the
 * nearest level; v is clamped to [0, 1]; NaN gives mid grey (128, 128, 128). */
void colormap_rdylgn(float v, uint8_t rgb[3]);

#endif
