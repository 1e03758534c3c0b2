/*
 * quantize.h: colour quantizer for the GIF writer. A histogram collects the opaque pixels of every frame; it
 * yields a palette of at most max_colors entries: the exact colours when there are no more than that, otherwise a
 * median cut over a 5-bit-per-channel histogram (boxes split at the weighted median of their longest axis, each
 * colour the mean of its pixels). A colour map then finds the nearest palette entry for any colour (weighted
 * squared RGB distance), with a cache. Internal.
 */
#ifndef ILDIFF_QUANTIZE_H
#define ILDIFF_QUANTIZE_H

#include "../base/base.h"

typedef struct ild_palette {
    int count;            /* 0..256 */
    uint8_t rgb[256][3];
} ild_palette;

typedef struct ild_histogram ild_histogram;
typedef struct ild_colormap ild_colormap;

/* A new empty histogram. Fails only with ILDIFF_ERR_NOMEM. */
ildiff_status ild_histogram_new(ild_histogram **out);
/* Adds n RGBA pixels; pixels whose alpha byte is 0 are skipped, all others count as opaque colours. */
void ild_histogram_add(ild_histogram *h, const uint8_t *rgba, size_t n);
/* The palette (1 <= max_colors <= 256). An empty histogram gives one black entry. Uses scratch inside `h`. */
void ild_histogram_palette(ild_histogram *h, int max_colors, ild_palette *out);
void ild_histogram_free(ild_histogram *h);

/* A nearest-colour map over `palette` (count >= 1). Fails only with ILDIFF_ERR_NOMEM. */
ildiff_status ild_colormap_new(const ild_palette *palette, ild_colormap **out);
/* Index of the palette entry nearest to (r, g, b). */
uint8_t ild_colormap_index(ild_colormap *m, uint8_t r, uint8_t g, uint8_t b);
void ild_colormap_free(ild_colormap *m);

#endif
