/* font5x7.h - a tiny built-in 5 x 7 bitmap font for captions in PNG panels
 * (quality values, mode names): digits, A-Z (lower case drawn as upper case)
 * and " .,-+=:/()_%?"; any other character is drawn as '?'. */
#ifndef XFIQ_QUALITY_FONT5X7_H
#define XFIQ_QUALITY_FONT5X7_H

#include <stdint.h>

#define FONT5X7_W 5
#define FONT5X7_H 7
#define FONT5X7_ADVANCE 6 /* glyph width + one column of spacing */

/* The 7 rows of a glyph, bit 4 = leftmost column. */
const uint8_t *font5x7_glyph(char ch);

/* Width in pixels of text drawn at an integer scale (its height is FONT5X7_H * scale). */
int font5x7_text_width(const char *text, int scale);

/* Draws text with its top-left corner at (x, y) into an RGB image
 * (width x height, rows of width*3 bytes), each font pixel a scale x scale
 * square of colour rgb; whatever falls outside the image is clipped. */
void font5x7_draw_text(uint8_t *rgb_image, int width, int height, int x, int y, const char *text,
                       int scale, const uint8_t rgb[3]);

#endif
