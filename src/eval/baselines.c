/*
 * baselines.c: colour keying and border flood fill (contract in baselines.h).
 *
 * The frozen defaults were tuned once on a validation export (never the test split), 2026-11-25:
 *     ildiff dataset build --out /tmp/val --split val --count 120 --seed 2 --size 512
 *     ildiff dataset export --corpus /tmp/val --split val --out /tmp/val-eval
 *     ildiff eval --samples /tmp/val-eval --method key --tune     -> key_lo 12 key_hi 76 (mean clip PSNR 19.34)
 *     ildiff eval --samples /tmp/val-eval --method flood --tune   -> flood_tol 32 flood_feather 1 (PSNR 19.31)
 * (sources: scripts/fetch_sources.sh's pinned sets). Re-tune the same way when the corpus recipe changes.
 */
#include "baselines.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

ild_baseline_params ild_baseline_params_default(void)
{
    return (ild_baseline_params){.key_lo = 12, .key_hi = 76, .flood_tol = 32, .flood_feather = 1};
}

#define RGB_DIAGONAL 442.0 /* sqrt(3) * 255, rounded up */

const ild_baseline_param_info ild_baseline_param_table[] = {
    {"key_lo", offsetof(ild_baseline_params, key_lo), 0, RGB_DIAGONAL, false, "key: distance below which alpha is 0"},
    {"key_hi", offsetof(ild_baseline_params, key_hi), 0, RGB_DIAGONAL, false, "key: distance above which alpha is 1"},
    {"flood_tol", offsetof(ild_baseline_params, flood_tol), 0, RGB_DIAGONAL, false,
     "flood: distance to the background colour the fill crosses"},
    {"flood_feather", offsetof(ild_baseline_params, flood_feather), 0, 8, true, "flood: box feather radius (pixels)"},
};
const int ild_baseline_param_count = sizeof ild_baseline_param_table / sizeof ild_baseline_param_table[0];

static double *param_at(ild_baseline_params *p, const ild_baseline_param_info *info)
{
    return (double *)((char *)p + info->offset);
}

ildiff_status ild_baseline_params_check(const ild_baseline_params *params)
{
    for (int i = 0; i < ild_baseline_param_count; i++) {
        const ild_baseline_param_info *info = &ild_baseline_param_table[i];
        double v = *param_at((ild_baseline_params *)params, info);
        if (!(v >= info->lo && v <= info->hi) || (info->integer && v != floor(v)))
            return ild_fail(ILDIFF_ERR_ARG, "%s = %g is out of range (%s %g..%g)", info->name, v,
                            info->integer ? "a whole number" : "a number", info->lo, info->hi);
    }
    if (!(params->key_lo < params->key_hi))
        return ild_fail(ILDIFF_ERR_ARG, "key_lo (%g) must be below key_hi (%g)", params->key_lo, params->key_hi);
    return ILDIFF_OK;
}

ildiff_status ild_baseline_param_set(ild_baseline_params *params, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq) return ild_fail(ILDIFF_ERR_ARG, "'%s' is not NAME=VALUE", assignment);
    size_t len = (size_t)(eq - assignment);
    for (int i = 0; i < ild_baseline_param_count; i++) {
        const ild_baseline_param_info *info = &ild_baseline_param_table[i];
        if (strlen(info->name) != len || strncmp(info->name, assignment, len) != 0) continue;
        char *end;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || *end || !(v >= info->lo && v <= info->hi) || (info->integer && v != floor(v)))
            return ild_fail(ILDIFF_ERR_ARG, "%s: '%s' is not %s in %g..%g", info->name, eq + 1,
                            info->integer ? "a whole number" : "a number", info->lo, info->hi);
        *param_at(params, info) = v;
        return ILDIFF_OK;
    }
    return ild_fail(ILDIFF_ERR_ARG, "unknown parameter '%.*s' (key_lo, key_hi, flood_tol, flood_feather)", (int)len,
                    assignment);
}

void ild_border_colour(const uint8_t *rgb, int32_t w, int32_t h, uint8_t bg[3])
{
    int64_t hist[3][256] = {{0}};
    int64_t count = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            if (y != 0 && y != h - 1 && x != 0 && x != w - 1) continue;
            const uint8_t *px = rgb + ((size_t)y * w + x) * 3;
            for (int c = 0; c < 3; c++) hist[c][px[c]]++;
            count++;
        }
    int64_t want = (count - 1) / 2; /* index of the lower median in sorted order */
    for (int c = 0; c < 3; c++) {
        int64_t seen = 0;
        int v = 0;
        while (seen + hist[c][v] <= want) seen += hist[c][v++];
        bg[c] = (uint8_t)v;
    }
}

void ild_colour_distance(const uint8_t *rgb, size_t n, const uint8_t bg[3], float *dist)
{
    for (size_t i = 0; i < n; i++) {
        int dr = rgb[i * 3] - bg[0], dg = rgb[i * 3 + 1] - bg[1], db = rgb[i * 3 + 2] - bg[2];
        dist[i] = sqrtf((float)(dr * dr + dg * dg + db * db));
    }
}

void ild_key_alpha(const float *dist, size_t n, const ild_baseline_params *params, float *alpha)
{
    float lo = (float)params->key_lo, span = (float)(params->key_hi - params->key_lo);
    for (size_t i = 0; i < n; i++) alpha[i] = ILD_CLAMP((dist[i] - lo) / span, 0.0f, 1.0f);
}

/* Box blur of radius r along x then y with a replicated border: a (H, W) in place, tmp (H, W). */
static void box_feather(float *a, int32_t w, int32_t h, int r, float *tmp)
{
    float norm = 1.0f / (float)(2 * r + 1);
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            float s = 0;
            for (int k = -r; k <= r; k++) s += a[(size_t)y * w + ILD_CLAMP(x + k, 0, w - 1)];
            tmp[(size_t)y * w + x] = s * norm;
        }
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            float s = 0;
            for (int k = -r; k <= r; k++) s += tmp[(size_t)ILD_CLAMP(y + k, 0, h - 1) * w + x];
            a[(size_t)y * w + x] = s * norm;
        }
}

void ild_flood_alpha(const float *dist, int32_t w, int32_t h, const ild_baseline_params *params, float *alpha,
                     int32_t *stack, float *tmp)
{
    size_t n = (size_t)w * (size_t)h;
    float tol = (float)params->flood_tol;
    for (size_t i = 0; i < n; i++) alpha[i] = 1.0f; /* 1 = not reached; 0 = reached background */
    int64_t top = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            if (y != 0 && y != h - 1 && x != 0 && x != w - 1) continue;
            int32_t i = y * w + x;
            if (dist[i] <= tol && alpha[i] != 0.0f) {
                alpha[i] = 0.0f;
                stack[top++] = i;
            }
        }
    while (top > 0) {
        int32_t i = stack[--top];
        int32_t x = i % w, y = i / w;
        int32_t nb[4] = {x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1};
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && alpha[nb[k]] != 0.0f && dist[nb[k]] <= tol) {
                alpha[nb[k]] = 0.0f;
                stack[top++] = nb[k];
            }
    }
    if (params->flood_feather >= 1) box_feather(alpha, w, h, (int)params->flood_feather, tmp);
}

/* Straight colour by un-compositing the frame from the background colour: F = B + (I - B) / alpha. */
static void uncomposite(const uint8_t *rgb, const float *alpha, size_t n, const uint8_t bg[3], uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            float v = alpha[i] > 0 ? bg[c] + ((float)rgb[i * 3 + c] - bg[c]) / alpha[i] : rgb[i * 3 + c];
            out[i * 3 + c] = (uint8_t)lrintf(ILD_CLAMP(v, 0.0f, 255.0f));
        }
}

ildiff_status ild_baseline_run(ild_baseline which, const ild_baseline_params *params, const uint8_t *rgb, int32_t w,
                               int32_t h, int32_t frames, float *alpha, uint8_t *colour)
{
    ildiff_status st = ild_baseline_params_check(params);
    if (st != ILDIFF_OK) return st;
    size_t n = (size_t)w * (size_t)h;
    float *dist = malloc(n * sizeof *dist), *tmp = malloc(n * sizeof *tmp);
    int32_t *stack = malloc(n * sizeof *stack);
    if (!dist || !tmp || !stack) {
        free(dist);
        free(tmp);
        free(stack);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a %dx%d baseline frame", w, h);
    }
    for (int32_t f = 0; f < frames; f++) {
        const uint8_t *in = rgb + (size_t)f * n * 3;
        float *a = alpha + (size_t)f * n;
        uint8_t bg[3];
        ild_border_colour(in, w, h, bg);
        ild_colour_distance(in, n, bg, dist);
        if (which == ILD_BASELINE_KEY)
            ild_key_alpha(dist, n, params, a);
        else
            ild_flood_alpha(dist, w, h, params, a, stack, tmp);
        if (colour) uncomposite(in, a, n, bg, colour + (size_t)f * n * 3);
    }
    free(dist);
    free(tmp);
    free(stack);
    return ILDIFF_OK;
}
