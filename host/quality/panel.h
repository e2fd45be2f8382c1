/* panel.h - pictures of a PLQ map in memory (RGB 8-bit, interleaved): the
 * coloured heatmap, and the side-by-side panel "aligned face | heatmap
 * [| 50% blend]" on a white canvas with an optional caption (e.g. the
 * quality) drawn underneath in the built-in font. png_write.h saves them. */
#ifndef XFIQ_QUALITY_PANEL_H
#define XFIQ_QUALITY_PANEL_H

#include <stdint.h>

#include "xfiq.h"

typedef struct plq_panel_opts {
    int zoom;            /* integer nearest-neighbour magnification, >= 1 */
    int overlay;         /* 1: add a third panel, face and heatmap blended 50/50 */
    const char *caption; /* NULL or "": no caption strip */
    const float *map2;   /* NULL, or a second map (H x W: the relative PLQ map) shown after the first;
                            the blend then uses it */
} plq_panel_opts;

/* Panels: face | map [| map2] [| blend]. Layout: gap = 4*zoom pixels of white around and between the panels; the
 * caption is drawn at font scale s = plq_panel_caption_scale in a strip of
 * 7*s + gap pixels under the panels, starting at x = gap. */
void plq_panel_size(int H, int W, const plq_panel_opts *opts, int *out_w, int *out_h);

/* Font scale of the caption: zoom+1, reduced until the text fits the
 * canvas width (at least 1; longer captions are clipped at the right). */
int plq_panel_caption_scale(int H, int W, const plq_panel_opts *opts);

/* map (H x W, P in [0,1]) -> out ((H*zoom) x (W*zoom) x 3) with colormap_rdylgn. */
xfiq_status plq_panel_heatmap(const float *map, int H, int W, int zoom, uint8_t *out);

/* face (H x W x channels, channels 1 or 3) and map (H x W) -> out, of the
 * size plq_panel_size gives. */
xfiq_status plq_panel_render(const uint8_t *face, int channels, const float *map, int H, int W,
                             const plq_panel_opts *opts, uint8_t *out);

#endif
