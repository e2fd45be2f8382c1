/* panel.c - heatmap and side-by-side pictures of a PLQ map (see panel.h). */
#include "quality/panel.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "quality/colormap.h"
#include "quality/font5x7.h"

static int plq_panel_count(const plq_panel_opts *o) { return 2 + (o->map2 != NULL) + (o->overlay != 0); }
static int plq_panel_gap(const plq_panel_opts *o) { return 4 * o->zoom; }
static int plq_panel_has_caption(const plq_panel_opts *o) { return o->caption && o->caption[0]; }

static int plq_panel_width(int W, const plq_panel_opts *o)
{
    int n = plq_panel_count(o);
    return n * W * o->zoom + (n + 1) * plq_panel_gap(o);
}

int plq_panel_caption_scale(int H, int W, const plq_panel_opts *o)
{
    (void)H;
    if (!plq_panel_has_caption(o))
        return 0;
    int room = plq_panel_width(W, o) - 2 * plq_panel_gap(o);
    int s = o->zoom + 1;
    while (s > 1 && font5x7_text_width(o->caption, s) > room)
        s--;
    return s;
}

void plq_panel_size(int H, int W, const plq_panel_opts *o, int *out_w, int *out_h)
{
    int s = plq_panel_caption_scale(H, W, o);
    *out_w = plq_panel_width(W, o);
    *out_h = H * o->zoom + 2 * plq_panel_gap(o) + (s ? FONT5X7_H * s + plq_panel_gap(o) : 0);
}

static xfiq_status plq_panel_check(const float *map, int H, int W, int zoom)
{
    if (!map)
        return xfiq_error(XFIQ_ERR_ARG, "plq panel: map is NULL");
    if (H <= 0 || W <= 0 || zoom < 1 || zoom > 64)
        return xfiq_error(XFIQ_ERR_ARG, "plq panel: bad size %d x %d or zoom %d (1..64)", W, H, zoom);
    return XFIQ_OK;
}

/* Copies an H x W RGB picture magnified by zoom into canvas (cw wide) at (x0, y0). */
static void plq_panel_blit(uint8_t *canvas, int cw, int x0, int y0, const uint8_t *rgb, int H, int W, int zoom)
{
    for (int y = 0; y < H * zoom; y++)
        for (int x = 0; x < W * zoom; x++)
            memcpy(canvas + ((size_t)(y0 + y) * cw + x0 + x) * 3, rgb + ((size_t)(y / zoom) * W + x / zoom) * 3, 3);
}

xfiq_status plq_panel_heatmap(const float *map, int H, int W, int zoom, uint8_t *out)
{
    XFIQ_TRY(plq_panel_check(map, H, W, zoom));
    for (int y = 0; y < H * zoom; y++)
        for (int x = 0; x < W * zoom; x++)
            colormap_rdylgn(map[(size_t)(y / zoom) * W + x / zoom], out + ((size_t)y * W * zoom + x) * 3);
    return XFIQ_OK;
}

xfiq_status plq_panel_render(const uint8_t *face, int channels, const float *map, int H, int W,
                             const plq_panel_opts *o, uint8_t *out)
{
    if (!o || !out)
        return xfiq_error(XFIQ_ERR_ARG, "plq panel: options or output is NULL");
    XFIQ_TRY(plq_panel_check(map, H, W, o->zoom));
    if (!face || (channels != 1 && channels != 3))
        return xfiq_error(XFIQ_ERR_ARG, "plq panel: face image missing or with %d channels (1 or 3)", channels);
    int cw, ch;
    plq_panel_size(H, W, o, &cw, &ch);
    memset(out, 255, (size_t)cw * ch * 3);

    /* Unmagnified face (RGB), heatmap and blend, then one blit each. */
    size_t n = (size_t)H * W;
    uint8_t *tmp = malloc(4 * n * 3);
    if (!tmp)
        return xfiq_error(XFIQ_ERR_NOMEM, "plq panel: no memory for a %d x %d panel", W, H);
    uint8_t *rgb = tmp, *heat = tmp + 3 * n, *heat2 = tmp + 6 * n, *blend = tmp + 9 * n;
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = face[i * channels + (channels == 3 ? c : 0)];
        colormap_rdylgn(map[i], heat + 3 * i);
        if (o->map2)
            colormap_rdylgn(o->map2[i], heat2 + 3 * i);
        const uint8_t *h = o->map2 ? heat2 : heat;
        for (int c = 0; c < 3; c++)
            blend[3 * i + c] = (uint8_t)((rgb[3 * i + c] + h[3 * i + c] + 1) / 2);
    }
    int gap = plq_panel_gap(o);
    const uint8_t *panels[4] = {rgb, heat, o->map2 ? heat2 : blend, blend};
    for (int p = 0; p < plq_panel_count(o); p++)
        plq_panel_blit(out, cw, gap + p * (W * o->zoom + gap), gap, panels[p], H, W, o->zoom);
    free(tmp);
    int s = plq_panel_caption_scale(H, W, o);
    if (s) {
        static const uint8_t black[3] = {0, 0, 0};
        font5x7_draw_text(out, cw, ch, gap, H * o->zoom + 2 * gap, o->caption, s, black);
    }
    return XFIQ_OK;
}
