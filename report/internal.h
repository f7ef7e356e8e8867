/* internal.h - helpers shared by the files of report/. Private to report/. */
#ifndef SP_REPORT_INTERNAL_H
#define SP_REPORT_INTERNAL_H
#ifndef SP_REPORT_INTERNAL
#error "report/internal.h is private to report/"
#endif
#include <stdio.h>

#include "sp_report.h"

/* An RGB canvas, rows top to bottom. */
typedef struct sp_canvas {
    int w, h;
    uint8_t *px; /* w*h*3 */
} sp_canvas;

/* font.c: a 5x7 bitmap font (digits, A-Z, a few signs; lower case drawn as
 * upper case). Draws text with its top-left corner at (x, y), each font pixel
 * a scale x scale block, with a one-pixel dark outline for legibility. */
void sp_font_draw(sp_canvas *c, int x, int y, int scale, const char *text, const uint8_t rgb[3]);
int sp_font_width(const char *text, int scale);
int sp_font_height(int scale);

/* True when vertebra v has a lesion (lytic, blastic or mixed). */
bool sp_report_has_lesion(const sp_score_vertebra *v);

/* Words for the report (static strings). */
const char *sp_report_char_name(sp_lesion_char c);
/* "left zones 2-4; right zones 8-9" into buf from a zone bitmask. */
const char *sp_report_zones_words(unsigned zones, char *buf, size_t n);
/* "A, B, C" from a layer bitmask. */
const char *sp_report_layers_words(unsigned layers, char *buf, size_t n);
/* Patient fields as shown (empty strings when de-identified or absent). */
bool sp_report_identified(const sp_report_ctx *ctx);

#endif
