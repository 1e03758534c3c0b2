/*
 * test_eval_strips.c: the comparison-strip grid (src/eval/strips.h): its size, where each tile lands, and the
 * compositing of a cut-out over the checkerboard, black and white backdrops, with up- and down-scaling.
 */
#include "check.h"
#include "eval/strips.h"

/* The pixel (x, y) of an (h, w, 4) image. */
static const uint8_t *px(const uint8_t *rgba, int32_t w, int32_t x, int32_t y)
{
    return rgba + ((size_t)y * (size_t)w + (size_t)x) * 4;
}

/* Top left of the image area of tile (row, col) when the tile is square and fills the cell. */
static void cell_origin(int row, int col, int32_t *x, int32_t *y)
{
    *x = ILD_STRIP_GAP + col * (ILD_STRIP_CELL + ILD_STRIP_GAP);
    *y = ILD_STRIP_TITLE_H + ILD_STRIP_HEADER_H + row * (ILD_STRIP_LABEL_H + ILD_STRIP_CELL + ILD_STRIP_GAP) +
         ILD_STRIP_LABEL_H;
}

static void test_size(void)
{
    int32_t w, h;
    ild_strip_size(3, 4, &w, &h);
    CHECK(w == 8 + 4 * 152);
    CHECK(h == 28 + 22 + 3 * 166);
}

/* A 4x4 red tile: left half alpha 0, right half alpha 1, upscaled 36x into the cell. */
static void test_composite(void)
{
    uint8_t rgb[16 * 3];
    float alpha[16];
    for (int i = 0; i < 16; i++) {
        rgb[i * 3] = 200, rgb[i * 3 + 1] = 10, rgb[i * 3 + 2] = 20;
        alpha[i] = (i % 4) < 2 ? 0.0f : 1.0f;
    }
    ild_tile tiles[4] = {
        {4, 4, rgb, 3, alpha, ILD_BACKDROP_NONE},
        {4, 4, rgb, 3, alpha, ILD_BACKDROP_CHECKER},
        {4, 4, rgb, 3, alpha, ILD_BACKDROP_BLACK},
        {4, 4, rgb, 3, alpha, ILD_BACKDROP_WHITE},
    };
    const char *cols[] = {"a", "b", "c", "d"}, *rows[] = {"row"};
    ild_strip_grid g = {"title", 1, 4, cols, rows, tiles};
    uint8_t *img = NULL;
    CHECK_OK(ild_strip_render(&g, &img));
    if (!img) return;
    int32_t w, h, x, y;
    ild_strip_size(1, 4, &w, &h);
    /* the colour as is, then the clear half over each backdrop, then the opaque half */
    cell_origin(0, 0, &x, &y);
    CHECK(px(img, w, x + 2, y + 2)[0] == 200 && px(img, w, x + 2, y + 2)[1] == 10);
    cell_origin(0, 1, &x, &y);
    CHECK(px(img, w, x + 2, y + 2)[0] == 255);        /* checker square (0, 0) is white */
    CHECK(px(img, w, x + 10, y + 2)[0] == 204);       /* square (1, 0) is grey */
    CHECK(px(img, w, x + 10, y + 10)[0] == 255);      /* square (1, 1) is white */
    CHECK(px(img, w, x + 100, y + 2)[0] == 200);      /* the opaque half */
    cell_origin(0, 2, &x, &y);
    CHECK(px(img, w, x + 2, y + 2)[0] == 0 && px(img, w, x + 2, y + 2)[2] == 0);
    cell_origin(0, 3, &x, &y);
    CHECK(px(img, w, x + 2, y + 2)[1] == 255);
    CHECK(px(img, w, x + 100, y + 100)[1] == 10);
    free(img);
}

/* A 288x288 tile of alternating alpha columns (0, 1) halves to 144: every pixel is the 50 % blend. */
static void test_downscale(void)
{
    enum { N = 288 };
    uint8_t *rgba = malloc((size_t)N * N * 4);
    float *alpha = malloc((size_t)N * N * sizeof(float));
    CHECK(rgba && alpha);
    if (!rgba || !alpha) return;
    for (int i = 0; i < N * N; i++) {
        rgba[i * 4] = 0, rgba[i * 4 + 1] = 0, rgba[i * 4 + 2] = 0, rgba[i * 4 + 3] = 255;
        alpha[i] = (float)((i % N) % 2);
    }
    ild_tile t = {N, N, rgba, 4, alpha, ILD_BACKDROP_WHITE};
    const char *cols[] = {"x"}, *rows[] = {"y"};
    ild_strip_grid g = {"t", 1, 1, cols, rows, &t};
    uint8_t *img = NULL;
    CHECK_OK(ild_strip_render(&g, &img));
    if (img) {
        int32_t w, h, x, y;
        ild_strip_size(1, 1, &w, &h);
        cell_origin(0, 0, &x, &y);
        CHECK(abs(px(img, w, x + 70, y + 70)[0] - 128) <= 1);
        CHECK(abs(px(img, w, x, y + 143)[2] - 128) <= 1);
    }
    free(img);
    free(rgba);
    free(alpha);
}

static void test_bad_grid(void)
{
    uint8_t rgb[3] = {1, 2, 3};
    ild_tile t = {1, 1, rgb, 2, NULL, ILD_BACKDROP_NONE};
    const char *cols[] = {"x"}, *rows[] = {"y"};
    ild_strip_grid g = {"t", 1, 1, cols, rows, &t};
    uint8_t *img = (uint8_t *)1;
    CHECK(ild_strip_render(&g, &img) == ILDIFF_ERR_ARG && img == NULL);
    g.rows = 0;
    CHECK(ild_strip_render(&g, &img) == ILDIFF_ERR_ARG);
    g.rows = 1;
    g.cols = ILD_STRIP_MAX_COLS + 1;
    CHECK(ild_strip_render(&g, &img) == ILDIFF_ERR_ARG);
}

int main(void)
{
    RUN(test_size);
    RUN(test_composite);
    RUN(test_downscale);
    RUN(test_bad_grid);
    return check_done();
}
