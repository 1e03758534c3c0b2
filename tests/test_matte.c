/*
 * test_matte.c: the matting plumbing (src/matte/): the model file (safetensors + config metadata), and
 * ildiff_matte_anim's shapes, padding and cropping of odd sizes, temporal windows (one window equals one shot;
 * blending is continuous across an overlap), 8-way TTA (equivariant under the flips and rotations it averages),
 * timing and loop count, and bad parameters.
 *
 * The model is tiny (models_tiny.h) and randomly initialised by ildiff_model_init, with the temporal adapter's
 * and decoder's zero-initialised latent layers given small random values so that frames influence each other:
 * its output means nothing. Matting quality is judged by `ildiff eval --method model:FILE`, not here.
 *
 * `test_matte --write-model PATH` writes that tiny model and exits (tests/cli/test_matte.sh uses it).
 */
#include "check.h"
#include "models_tiny.h"

#include "matte/model_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char model_path[512];

/* The tiny model with every parameter random (seeded), saved as F32. */
static ildiff_status write_model(const char *path)
{
    nn_params p;
    nn_params_init(&p);
    ildiff_model m;
    ildiff_model_config cfg = tiny_ildiff();
    ildiff_status st = ildiff_model_build(&m, &cfg, &p);
    if (st == ILDIFF_OK) st = nn_params_alloc(&p);
    if (st == ILDIFF_OK) {
        ildiff_model_init(&m, &p, 7);
        uint64_t s = 12345; /* the zero-initialised latent layers get small random weights */
        for (int i = 0; i < p.count; i++) {
            const char *name = p.items[i].name;
            if (strncmp(name, "temporal.out.", 13) && strncmp(name, "decoder.latent_conv_in.", 23)) continue;
            float *d = nn_params_data(&p, i);
            for (size_t j = 0; j < p.items[i].numel; j++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                d[j] = ((float)(s >> 40) / (float)(1 << 24) - 0.5f) * 0.5f;
            }
        }
        st = ild_model_file_save(path, &cfg, &p, NN_DTYPE_F32, true);
    }
    ildiff_model_free(&m);
    nn_params_free(&p);
    return st;
}

/* A clip with a moving disc over a gradient background; durations 30, 50, 70, ... */
static ildiff_anim *make_clip(int32_t w, int32_t h, int32_t frames)
{
    ildiff_anim *a = NULL;
    if (ildiff_anim_new(w, h, frames, 40, &a) != ILDIFF_OK) return NULL;
    for (int32_t t = 0; t < frames; t++) {
        uint8_t *f = ildiff_anim_frame(a, t);
        float cx = w * (0.3f + 0.05f * (float)t), cy = h * 0.5f, r = (float)(w < h ? w : h) * 0.3f;
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                uint8_t *px = f + ((size_t)y * (size_t)w + (size_t)x) * 4;
                bool in = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r;
                px[0] = in ? 220 : (uint8_t)(200 + x % 40);
                px[1] = in ? (uint8_t)(40 + 3 * y) : 235;
                px[2] = in ? 30 : (uint8_t)(210 + (x * y) % 30);
                px[3] = 255;
            }
        a->durations_ms[t] = 30 + 20 * t;
    }
    a->loop_count = 3;
    return a;
}

static ildiff_matte_params params(int32_t window, int32_t overlap, int tta)
{
    ildiff_matte_params mp = ildiff_matte_params_default();
    mp.threads = 1;
    mp.window = window, mp.overlap = overlap, mp.tta = tta;
    mp.bg_auto = false; /* a fixed hint: sub-clips and transformed clips see the same background */
    mp.bg[0] = 200, mp.bg[1] = 235, mp.bg[2] = 215;
    return mp;
}

static ildiff_anim *matte(const ildiff_anim *in, ildiff_matte_params mp)
{
    ildiff_matter *mt = NULL;
    ildiff_anim *out = NULL;
    if (ildiff_matter_new(model_path, &mp, &mt) != ILDIFF_OK) return NULL;
    if (ildiff_matte_anim(mt, in, &out, NULL, NULL) != ILDIFF_OK) out = NULL;
    ildiff_matter_free(mt);
    return out;
}

/* Frames [b, b + n) of a as a new clip. */
static ildiff_anim *sub_clip(const ildiff_anim *a, int32_t b, int32_t n)
{
    ildiff_anim *s = NULL;
    if (ildiff_anim_new(a->width, a->height, n, 40, &s) != ILDIFF_OK) return NULL;
    size_t fb = (size_t)a->width * (size_t)a->height * 4;
    memcpy(s->rgba, ildiff_anim_frame(a, b), fb * (size_t)n);
    return s;
}

static bool frames_equal(const ildiff_anim *a, int32_t fa, const ildiff_anim *b, int32_t fb)
{
    return memcmp(ildiff_anim_frame(a, fa), ildiff_anim_frame(b, fb), (size_t)a->width * (size_t)a->height * 4) == 0;
}

/* ---- tests ---- */

static void test_model_file(void)
{
    nn_params p;
    nn_params_init(&p);
    ildiff_model m;
    CHECK_OK(ild_model_file_load(model_path, 1 << 26, &m, &p));
    ildiff_model_config want = tiny_ildiff();
    CHECK(memcmp(&m.cfg, &want, sizeof want) == 0);
    ildiff_model_free(&m);
    /* the config round-trips through JSON */
    char *json = ild_model_config_to_json(&want);
    ildiff_model_config back;
    CHECK(json && ild_model_config_from_json(json, &back) == ILDIFF_OK && memcmp(&back, &want, sizeof want) == 0);
    free(json);
    /* plain weights without the metadata, a newer version, a bad config */
    char path[600];
    snprintf(path, sizeof path, "%s/matte_plain.safetensors", CHECK_TMPDIR());
    const char *newer[] = {"format", "ildiff-model", "format_version", "99", "config", "{}", NULL};
    const char *badcfg[] = {"format", "ildiff-model", "format_version", "1", "config", "{\"vae\": 3}", NULL};
    CHECK_OK(nn_st_save_params(path, &p, p.data, NN_DTYPE_F32, NULL, true));
    ildiff_model m2;
    nn_params p2;
    nn_params_init(&p2);
    CHECK(ild_model_file_load(path, 1 << 26, &m2, &p2) == ILDIFF_ERR_FORMAT);
    CHECK(strstr(ildiff_last_error(), "not an ildiff model file") != NULL);
    CHECK_OK(nn_st_save_params(path, &p, p.data, NN_DTYPE_F32, newer, true));
    nn_params_init(&p2);
    CHECK(ild_model_file_load(path, 1 << 26, &m2, &p2) == ILDIFF_ERR_UNSUPPORTED);
    CHECK_OK(nn_st_save_params(path, &p, p.data, NN_DTYPE_F32, badcfg, true));
    nn_params_init(&p2);
    CHECK(ild_model_file_load(path, 1 << 26, &m2, &p2) == ILDIFF_ERR_FORMAT);
    /* a valid config far larger than the file's tensors is refused before allocating */
    ildiff_model_config big = tiny_ildiff();
    big.student.dim = 4096, big.student.depth = 16;
    char *bigjson = ild_model_config_to_json(&big);
    const char *bigmeta[] = {"format", "ildiff-model", "format_version", "1", "config", bigjson, NULL};
    CHECK_OK(nn_st_save_params(path, &p, p.data, NN_DTYPE_F32, bigmeta, true));
    nn_params_init(&p2);
    CHECK(ild_model_file_load(path, 1 << 26, &m2, &p2) == ILDIFF_ERR_FORMAT);
    CHECK(strstr(ildiff_last_error(), "its config needs") != NULL);
    free(bigjson);
    nn_params_free(&p);
    remove(path);
}

static void test_shapes_timing(void)
{
    ildiff_anim *in = make_clip(37, 29, 3), *out = in ? matte(in, params(16, 4, 1)) : NULL;
    CHECK(out != NULL);
    if (out) {
        CHECK(out->width == 37 && out->height == 29 && out->frame_count == 3);
        CHECK(out->durations_ms[0] == 30 && out->durations_ms[1] == 50 && out->durations_ms[2] == 70);
        CHECK(out->loop_count == 3);
        CHECK(out->source_has_alpha);
    }
    ildiff_anim_free(in);
    ildiff_anim_free(out);
}

/* An odd size is padded by edge replication and cropped: it equals the crop of the already padded clip. */
static void test_padding(void)
{
    ildiff_anim *in = make_clip(37, 29, 2), *pad = NULL;
    CHECK_OK(ildiff_anim_new(40, 32, 2, 40, &pad));
    for (int32_t t = 0; in && pad && t < 2; t++)
        for (int32_t y = 0; y < 32; y++)
            for (int32_t x = 0; x < 40; x++)
                memcpy(ildiff_anim_frame(pad, t) + ((size_t)y * 40 + (size_t)x) * 4,
                       ildiff_anim_frame(in, t) + ((size_t)(y < 29 ? y : 28) * 37 + (size_t)(x < 37 ? x : 36)) * 4, 4);
    ildiff_anim *a = in ? matte(in, params(16, 4, 1)) : NULL, *b = pad ? matte(pad, params(16, 4, 1)) : NULL;
    CHECK(a && b);
    int bad = 0;
    for (int32_t t = 0; a && b && t < 2; t++)
        for (int32_t y = 0; y < 29; y++)
            bad += memcmp(ildiff_anim_frame(a, t) + (size_t)y * 37 * 4, ildiff_anim_frame(b, t) + (size_t)y * 40 * 4,
                          37 * 4) != 0;
    CHECK_MSG(bad == 0, "%d rows differ from the padded clip's crop", bad);
    ildiff_anim_free(in), ildiff_anim_free(pad), ildiff_anim_free(a), ildiff_anim_free(b);
}

/* A clip that fits one window gives the same frames whatever the window size. */
static void test_window_one_shot(void)
{
    ildiff_anim *in = make_clip(32, 32, 5);
    ildiff_anim *a = in ? matte(in, params(16, 4, 1)) : NULL, *b = in ? matte(in, params(5, 0, 1)) : NULL;
    CHECK(a && b);
    for (int32_t t = 0; a && b && t < 5; t++) CHECK_MSG(frames_equal(a, t, b, t), "frame %d", t);
    ildiff_anim_free(in), ildiff_anim_free(a), ildiff_anim_free(b);
}

/* 6 frames, window 4, overlap 2: windows [0,4) and [2,6). Frames 0-1 are window A's, 4-5 window B's, and the
 * blended frames 2-3 have alpha between A's and B's (the blend is linear in the model's outputs; colour, which
 * decontamination derives from alpha non-linearly, need not lie between). */
static void test_window_blend(void)
{
    ildiff_anim *in = make_clip(32, 32, 6), *sa = in ? sub_clip(in, 0, 4) : NULL, *sb = in ? sub_clip(in, 2, 4) : NULL;
    ildiff_anim *o = in ? matte(in, params(4, 2, 1)) : NULL;
    ildiff_anim *a = sa ? matte(sa, params(4, 2, 1)) : NULL, *b = sb ? matte(sb, params(4, 2, 1)) : NULL;
    CHECK(o && a && b);
    if (o && a && b) {
        CHECK(frames_equal(o, 0, a, 0) && frames_equal(o, 1, a, 1));
        CHECK(frames_equal(o, 4, b, 2) && frames_equal(o, 5, b, 3));
        int outside = 0, differ = 0;
        size_t n = 32 * 32 * 4;
        for (int32_t t = 2; t < 4; t++) {
            const uint8_t *po = ildiff_anim_frame(o, t), *pa = ildiff_anim_frame(a, t), *pb = ildiff_anim_frame(b, t - 2);
            for (size_t i = 3; i < n; i += 4) {
                int lo = pa[i] < pb[i] ? pa[i] : pb[i], hi = pa[i] < pb[i] ? pb[i] : pa[i];
                outside += po[i] + 1 < lo || po[i] > hi + 1;
                differ += pa[i] != pb[i];
            }
        }
        CHECK_MSG(outside == 0, "%d blended alphas outside their windows' range", outside);
        CHECK_MSG(differ > 0, "the two windows agree everywhere: the blend is not exercised");
    }
    ildiff_anim_free(in), ildiff_anim_free(sa), ildiff_anim_free(sb);
    ildiff_anim_free(o), ildiff_anim_free(a), ildiff_anim_free(b);
}

/* Rotates each frame a quarter turn counter-clockwise (square frames), or flips it left-right. */
static ildiff_anim *turn(const ildiff_anim *a, bool flip)
{
    ildiff_anim *r = NULL;
    int32_t n = a->width;
    if (ildiff_anim_new(n, n, a->frame_count, 40, &r) != ILDIFF_OK) return NULL;
    for (int32_t t = 0; t < a->frame_count; t++)
        for (int32_t y = 0; y < n; y++)
            for (int32_t x = 0; x < n; x++) {
                int32_t sy = flip ? y : x, sx = flip ? n - 1 - x : n - 1 - y; /* new[i][j] = old[j][n-1-i] */
                memcpy(ildiff_anim_frame(r, t) + ((size_t)y * (size_t)n + (size_t)x) * 4,
                       ildiff_anim_frame(a, t) + ((size_t)sy * (size_t)n + (size_t)sx) * 4, 4);
            }
    return r;
}

/* TTA's median over the 8 flips and rotations commutes with them: matte(g x) = g matte(x). */
static void test_tta_equivariant(void)
{
    ildiff_anim *in = make_clip(32, 32, 3);
    for (int flip = 0; flip < 2 && in; flip++) {
        ildiff_anim *tin = turn(in, flip), *o = matte(in, params(16, 4, 8)), *to = tin ? matte(tin, params(16, 4, 8)) : NULL;
        ildiff_anim *ot = o ? turn(o, flip) : NULL, *plain = tin ? matte(tin, params(16, 4, 1)) : NULL;
        CHECK(to && ot && plain);
        int far = 0, plain_diff = 0;
        for (size_t i = 0; to && ot && plain && i < (size_t)32 * 32 * 4 * 3; i++) {
            far += abs(to->rgba[i] - ot->rgba[i]) > 1;
            plain_diff += plain->rgba[i] != to->rgba[i];
        }
        CHECK_MSG(far == 0, "%s: %d values break equivariance", flip ? "flip" : "rot90", far);
        CHECK_MSG(plain_diff > 0, "TTA 8 gives the same result as TTA 1: the median is not exercised");
        ildiff_anim_free(tin), ildiff_anim_free(o), ildiff_anim_free(to), ildiff_anim_free(ot), ildiff_anim_free(plain);
    }
    ildiff_anim_free(in);
}

static void test_bad_params(void)
{
    ildiff_matter *mt = NULL;
    ildiff_matte_params mp = params(16, 4, 3);
    CHECK(ildiff_matter_new(model_path, &mp, &mt) == ILDIFF_ERR_ARG && !mt);
    mp = params(4, 4, 1);
    CHECK(ildiff_matter_new(model_path, &mp, &mt) == ILDIFF_ERR_ARG && !mt);
    mp = params(16, 4, 1);
    CHECK(ildiff_matter_new("/nonexistent/model.safetensors", &mp, &mt) == ILDIFF_ERR_IO && !mt);
    CHECK(strstr(ildiff_last_error(), "/nonexistent/model.safetensors") != NULL);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-model") == 0) {
        if (write_model(argv[2]) == ILDIFF_OK) return 0;
        fprintf(stderr, "%s: %s\n", argv[2], ildiff_last_error());
        return 1;
    }
    snprintf(model_path, sizeof model_path, "%s/matte_tiny.safetensors", CHECK_TMPDIR());
    if (write_model(model_path) != ILDIFF_OK) {
        printf("FAIL write_model: %s\n", ildiff_last_error());
        return 1;
    }
    RUN(test_model_file);
    RUN(test_shapes_timing);
    RUN(test_padding);
    RUN(test_window_one_shot);
    RUN(test_window_blend);
    RUN(test_tta_equivariant);
    RUN(test_bad_params);
    remove(model_path);
    return check_done();
}
