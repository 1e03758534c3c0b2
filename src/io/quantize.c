/*
 * quantize.c: the GIF writer's colour quantizer (see quantize.h): exact colours when few, else median cut over a
 * 5-bit-per-channel histogram; nearest-colour lookup with a direct-mapped cache.
 */
#include "quantize.h"

#include <string.h>

#define BINS 32768        /* 32 x 32 x 32 */
#define EXACT_SLOTS 1024  /* open-addressing set of up to 256 exact colours */
#define CACHE_SIZE 65536  /* colour -> index cache */

static const int weight[3] = {3, 4, 2}; /* R, G, B importance (green most visible, blue least) */

typedef struct box {
    int lo, hi;          /* entries [lo, hi) */
    uint64_t count;
    int min[3], max[3];
} box;

struct ild_histogram {
    uint64_t count[BINS];
    uint64_t sum[BINS][3];     /* sums of the 8-bit channels of the pixels in each bin */
    uint32_t exact[EXACT_SLOTS]; /* rgb | 1 << 24 when used, 0 when empty */
    int exact_count;
    bool exact_overflow;       /* more than 256 distinct colours */
    int entries[BINS], tmp[BINS]; /* median-cut scratch: non-empty bins */
    box boxes[256];
};

struct ild_colormap {
    ild_palette pal;
    uint32_t key[CACHE_SIZE];  /* rgb | 1 << 24, 0 = empty */
    uint8_t idx[CACHE_SIZE];
};

static uint32_t hash_rgb(uint32_t rgb) { return (rgb * 2654435761u) >> 16; }

ildiff_status ild_histogram_new(ild_histogram **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? ILDIFF_OK : ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the colour histogram");
}

void ild_histogram_free(ild_histogram *h) { free(h); }

static void add_exact(ild_histogram *h, uint32_t rgb)
{
    uint32_t key = rgb | 1u << 24;
    for (uint32_t i = hash_rgb(rgb) % EXACT_SLOTS;; i = (i + 1) % EXACT_SLOTS) {
        if (h->exact[i] == key) return;
        if (h->exact[i] == 0) {
            if (h->exact_count == 256) {
                h->exact_overflow = true;
                return;
            }
            h->exact[i] = key;
            h->exact_count++;
            return;
        }
    }
}

void ild_histogram_add(ild_histogram *h, const uint8_t *rgba, size_t n)
{
    uint32_t last = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = rgba + i * 4;
        if (p[3] == 0) continue;
        size_t bin = (size_t)(p[0] >> 3) << 10 | (size_t)(p[1] >> 3) << 5 | (size_t)(p[2] >> 3);
        h->count[bin]++;
        h->sum[bin][0] += p[0];
        h->sum[bin][1] += p[1];
        h->sum[bin][2] += p[2];
        uint32_t rgb = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        if (!h->exact_overflow && rgb != last) add_exact(h, rgb);
        last = rgb;
    }
}

static int bin_coord(int bin, int axis) { return (bin >> (10 - 5 * axis)) & 31; }

static void box_bounds(box *b, const int *entries, const ild_histogram *h)
{
    b->count = 0;
    for (int a = 0; a < 3; a++) {
        b->min[a] = 31;
        b->max[a] = 0;
    }
    for (int i = b->lo; i < b->hi; i++) {
        b->count += h->count[entries[i]];
        for (int a = 0; a < 3; a++) {
            int c = bin_coord(entries[i], a);
            b->min[a] = ILD_MIN(b->min[a], c);
            b->max[a] = ILD_MAX(b->max[a], c);
        }
    }
}

static int longest_axis(const box *b, int *extent)
{
    int best = 0, best_ext = -1;
    for (int a = 0; a < 3; a++) {
        int e = (b->max[a] - b->min[a]) * weight[a];
        if (e > best_ext) {
            best_ext = e;
            best = a;
        }
    }
    *extent = best_ext;
    return best;
}

/* Sorts entries[lo, hi) by their coordinate on `axis` (counting sort, coordinates are 0..31). */
static void sort_axis(int *entries, int *tmp, int lo, int hi, int axis)
{
    int start[33] = {0};
    for (int i = lo; i < hi; i++) start[bin_coord(entries[i], axis) + 1]++;
    for (int c = 0; c < 32; c++) start[c + 1] += start[c];
    for (int i = lo; i < hi; i++) tmp[start[bin_coord(entries[i], axis)]++] = entries[i];
    memcpy(entries + lo, tmp, sizeof(int) * (size_t)(hi - lo));
}

/* Median cut: splits until max_colors boxes or no box can be split. Returns the box count. */
static int median_cut(const ild_histogram *h, int *entries, int *tmp, int n, box *boxes, int max_colors)
{
    boxes[0] = (box){.lo = 0, .hi = n};
    box_bounds(&boxes[0], entries, h);
    int nboxes = 1;
    while (nboxes < max_colors) {
        int pick = -1, axis = 0;
        uint64_t best = 0;
        for (int i = 0; i < nboxes; i++) {
            int ext;
            int ax = longest_axis(&boxes[i], &ext);
            uint64_t score = boxes[i].count * (uint64_t)ext;
            if (boxes[i].hi - boxes[i].lo >= 2 && ext > 0 && score > best) {
                best = score;
                pick = i;
                axis = ax;
            }
        }
        if (pick < 0) break;
        box *b = &boxes[pick];
        sort_axis(entries, tmp, b->lo, b->hi, axis);
        uint64_t half = b->count / 2, acc = 0;
        int split = b->lo + 1;
        for (int i = b->lo; i < b->hi - 1; i++) {
            acc += h->count[entries[i]];
            split = i + 1;
            if (acc >= half) break;
        }
        boxes[nboxes] = (box){.lo = split, .hi = b->hi};
        b->hi = split;
        box_bounds(b, entries, h);
        box_bounds(&boxes[nboxes], entries, h);
        nboxes++;
    }
    return nboxes;
}

void ild_histogram_palette(ild_histogram *h, int max_colors, ild_palette *out)
{
    ILD_ASSERT(max_colors >= 1 && max_colors <= 256);
    memset(out, 0, sizeof *out);
    if (!h->exact_overflow && h->exact_count <= max_colors) {
        for (int i = 0; i < EXACT_SLOTS; i++)
            if (h->exact[i]) {
                uint8_t *c = out->rgb[out->count++];
                c[0] = (uint8_t)(h->exact[i] >> 16);
                c[1] = (uint8_t)(h->exact[i] >> 8);
                c[2] = (uint8_t)h->exact[i];
            }
        if (out->count == 0) out->count = 1;
        return;
    }
    int *entries = h->entries;
    box *boxes = h->boxes;
    int n = 0;
    for (int i = 0; i < BINS; i++)
        if (h->count[i]) entries[n++] = i;
    int nboxes = median_cut(h, entries, h->tmp, n, boxes, max_colors);
    for (int i = 0; i < nboxes; i++) {
        uint64_t s[3] = {0, 0, 0};
        for (int e = boxes[i].lo; e < boxes[i].hi; e++)
            for (int a = 0; a < 3; a++) s[a] += h->sum[entries[e]][a];
        for (int a = 0; a < 3; a++) out->rgb[i][a] = (uint8_t)((s[a] + boxes[i].count / 2) / boxes[i].count);
    }
    out->count = nboxes;
}

ildiff_status ild_colormap_new(const ild_palette *palette, ild_colormap **out)
{
    ILD_ASSERT(palette->count >= 1 && palette->count <= 256);
    *out = calloc(1, sizeof **out);
    if (!*out) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the colour map");
    (*out)->pal = *palette;
    return ILDIFF_OK;
}

void ild_colormap_free(ild_colormap *m) { free(m); }

uint8_t ild_colormap_index(ild_colormap *m, uint8_t r, uint8_t g, uint8_t b)
{
    uint32_t rgb = (uint32_t)r << 16 | (uint32_t)g << 8 | b, key = rgb | 1u << 24;
    uint32_t slot = hash_rgb(rgb) % CACHE_SIZE;
    if (m->key[slot] == key) return m->idx[slot];
    int best = 0;
    int64_t best_d = INT64_MAX;
    for (int i = 0; i < m->pal.count; i++) {
        int dr = r - m->pal.rgb[i][0], dg = g - m->pal.rgb[i][1], db = b - m->pal.rgb[i][2];
        int64_t d = (int64_t)weight[0] * dr * dr + (int64_t)weight[1] * dg * dg + (int64_t)weight[2] * db * db;
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    m->key[slot] = key;
    m->idx[slot] = (uint8_t)best;
    return (uint8_t)best;
}
