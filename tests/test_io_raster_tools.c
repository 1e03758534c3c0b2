/* test_io_raster_tools.c: cross-checks with independent tools: gifsicle (--info, -I, and its re-optimized,
 * interlaced and disposal=previous GIFs), ffmpeg (an animated GIF with transparency, decoding our APNG to raw
 * RGBA, encoding an APNG with its own dispose/blend choices), webpmux -info, anim_dump when present, and img2webp
 * (lossless and lossy animated WebP). They read our files and we read theirs. A missing tool gives "skip". */
#include "raster_util.h"

static ildiff_write_options opts_loop(int32_t loops)
{
    ildiff_write_options o = ildiff_write_options_default();
    o.loop_count = loops;
    return o;
}

static bool same_shape(const ildiff_anim *a, const ildiff_anim *b)
{
    return a && b && a->width == b->width && a->height == b->height && a->frame_count == b->frame_count;
}

static void test_gif_gifsicle(void)
{
    if (!have_tool("gifsicle")) return check_skip("test_gif_gifsicle", "gifsicle not installed");
    char ours[512], theirs[512];
    tmp_path(ours, sizeof ours, "ours.gif");
    tmp_path(theirs, sizeof theirs, "theirs.gif");
    ildiff_anim *a = sample_anim(40, 30, false);
    ildiff_write_options o = opts_loop(3);
    o.overwrite = true;
    CHECK_OK(ildiff_anim_write(a, ours, ILDIFF_FORMAT_GIF, &o));
    char *info = capture_cmd("gifsicle --info '%s' 2>&1", ours);
    CHECK(info && strstr(info, "4 images") && strstr(info, "loop count 2") && strstr(info, "disposal background") &&
          strstr(info, "delay 0.07s") && strstr(info, "transparent"));
    free(info);
    CHECK(run_cmd("gifsicle -I '%s' >/dev/null 2>&1", ours) == 0);
    /* gifsicle re-optimizes (offsets, transparency, disposal) and interlaces; we must compose the same frames */
    CHECK(run_cmd("gifsicle -O3 --interlace '%s' -o '%s' 2>/dev/null", ours, theirs) == 0);
    ildiff_anim *x = NULL, *y = NULL;
    CHECK_OK(ildiff_anim_read(ours, NULL, &x));
    CHECK_OK(ildiff_anim_read(theirs, NULL, &y));
    CHECK(same_shape(x, y));
    if (same_shape(x, y)) {
        bool ok = true;
        for (size_t i = 0; i < (size_t)40 * 30 * 4; i++) {
            const uint8_t *p = x->rgba + i * 4, *q = y->rgba + i * 4;
            ok = ok && p[3] == q[3] && (p[3] == 0 || memcmp(p, q, 3) == 0);
        }
        CHECK(ok);
        CHECK(y->loop_count == 3 && y->durations_ms[3] == 250);
    }
    ildiff_anim_free(x);
    ildiff_anim_free(y);
    /* gifsicle's own disposal=previous animation: frames 2.. are drawn over frame 1's state */
    CHECK(run_cmd("gifsicle --disposal=previous --loopcount=forever '%s' -o '%s' 2>/dev/null", ours, theirs) == 0);
    CHECK_OK(ildiff_anim_read(theirs, NULL, &y));
    CHECK(y && y->frame_count == 4 && y->loop_count == 0);
    ildiff_anim_free(y);
    ildiff_anim_free(a);
    unlink(ours);
    unlink(theirs);
}

/* ffmpeg makes an animated GIF with transparency from our PNG frames; we read it. */
static void test_gif_from_ffmpeg(void)
{
    if (!have_tool("ffmpeg")) return check_skip("test_gif_from_ffmpeg", "ffmpeg not installed");
    char dir[512], gif[512];
    tmp_path(dir, sizeof dir, "ffgif_frames");
    tmp_path(gif, sizeof gif, "ff.gif");
    ildiff_anim *a = sample_anim(40, 30, true);
    CHECK_OK(ild_frames_write(a, dir, true));
    CHECK(run_cmd("ffmpeg -v error -y -framerate 10 -i '%s/%%06d.png' -filter_complex "
                  "'[0:v]split[a][b];[a]palettegen=reserve_transparent=1[p];[b][p]paletteuse=alpha_threshold=128' "
                  "-loop 0 '%s'",
                  dir, gif) == 0);
    ildiff_anim *b = NULL;
    CHECK_OK(ildiff_anim_read(gif, NULL, &b));
    CHECK(same_shape(a, b));
    if (same_shape(a, b)) {
        size_t bad = 0;
        for (size_t i = 0; i < (size_t)40 * 30 * 4; i++) bad += (a->rgba[i * 4 + 3] >= 128) != (b->rgba[i * 4 + 3] == 255);
        CHECK_MSG(bad == 0, "%zu pixels with the wrong transparency", bad);
        CHECK(b->durations_ms[0] == 100 && b->loop_count == 0);
    }
    ildiff_anim_free(b);
    ildiff_anim_free(a);
    run_cmd("rm -rf '%s' '%s'", dir, gif);
}

static void test_webp_tools(void)
{
    if (!have_tool("webpmux") || !have_tool("img2webp")) return check_skip("test_webp_tools", "webp tools not installed");
    char ours[512], dir[512], theirs[512];
    tmp_path(ours, sizeof ours, "ours.webp");
    tmp_path(dir, sizeof dir, "webp_frames");
    tmp_path(theirs, sizeof theirs, "theirs.webp");
    ildiff_anim *a = sample_anim(40, 30, false);
    ildiff_write_options o = opts_loop(3);
    o.overwrite = true;
    CHECK_OK(ildiff_anim_write(a, ours, ILDIFF_FORMAT_WEBP, &o));
    char *info = capture_cmd("webpmux -info '%s' 2>&1", ours);
    CHECK(info && strstr(info, "Number of frames: 4") && strstr(info, "Loop Count : 3") && strstr(info, "Canvas size: 40 x 30"));
    free(info);
    if (have_tool("anim_dump")) CHECK(run_cmd("cd '%s' && anim_dump -folder . '%s' >/dev/null 2>&1", CHECK_TMPDIR(), ours) == 0);
    CHECK_OK(ild_frames_write(a, dir, true));
    CHECK(run_cmd("img2webp -loop 2 -lossless -d 80 '%s'/000000.png '%s'/000001.png '%s'/000002.png '%s'/000003.png "
                  "-o '%s' >/dev/null 2>&1",
                  dir, dir, dir, dir, theirs) == 0);
    ildiff_anim *b = NULL;
    CHECK_OK(ildiff_anim_read(theirs, NULL, &b));
    CHECK(same_shape(a, b));
    if (same_shape(a, b)) {
        bool ok = true;
        for (size_t i = 0; i < (size_t)40 * 30 * 4; i++) {
            const uint8_t *p = a->rgba + i * 4, *q = b->rgba + i * 4;
            ok = ok && p[3] == q[3] && (p[3] == 0 || memcmp(p, q, 3) == 0);
        }
        CHECK(ok);
        CHECK(b->durations_ms[2] == 80 && b->loop_count == 2);
    }
    ildiff_anim_free(b);
    CHECK(run_cmd("img2webp -lossy -q 70 -d 50 '%s'/000000.png '%s'/000001.png -o '%s' >/dev/null 2>&1", dir, dir, theirs) == 0);
    CHECK_OK(ildiff_anim_read(theirs, NULL, &b));
    CHECK(b && b->frame_count == 2 && b->durations_ms[1] == 50 && b->source_has_alpha);
    ildiff_anim_free(b);
    if (have_tool("cwebp")) { /* still images: lossless with alpha (VP8X + VP8L), lossy without alpha (plain VP8) */
        CHECK(run_cmd("cwebp -quiet -lossless '%s'/000002.png -o '%s'", dir, theirs) == 0);
        CHECK_OK(ildiff_anim_read(theirs, NULL, &b));
        CHECK(b && b->frame_count == 1 && b->durations_ms[0] == 100 && b->source_has_alpha);
        if (b) {
            bool ok = true;
            for (size_t i = 0; i < (size_t)40 * 30; i++) {
                const uint8_t *p = ildiff_anim_frame(a, 2) + i * 4, *q = b->rgba + i * 4;
                ok = ok && p[3] == q[3] && (p[3] == 0 || memcmp(p, q, 3) == 0);
            }
            CHECK(ok);
        }
        ildiff_anim_free(b);
        CHECK(run_cmd("cwebp -quiet -noalpha -q 80 '%s'/000002.png -o '%s'", dir, theirs) == 0);
        CHECK_OK(ildiff_anim_read(theirs, NULL, &b));
        CHECK(b && b->frame_count == 1 && !b->source_has_alpha && !ildiff_anim_has_alpha(b));
        ildiff_anim_free(b);
    }
    ildiff_anim_free(a);
    run_cmd("rm -rf '%s' '%s' '%s'", ours, dir, theirs);
}

static void test_apng_ffmpeg(void)
{
    if (!have_tool("ffmpeg")) return check_skip("test_apng_ffmpeg", "ffmpeg not installed");
    char ours[512], raw[512], dir[512], theirs[512];
    tmp_path(ours, sizeof ours, "ours.png");
    tmp_path(raw, sizeof raw, "ours.rgba");
    tmp_path(dir, sizeof dir, "apng_frames");
    tmp_path(theirs, sizeof theirs, "theirs.apng");
    ildiff_anim *a = sample_anim(40, 30, false);
    ildiff_write_options o = opts_loop(0);
    o.overwrite = true;
    CHECK_OK(ildiff_anim_write(a, ours, ILDIFF_FORMAT_APNG, &o));
    CHECK(run_cmd("ffmpeg -v error -y -i '%s' -f rawvideo -pix_fmt rgba -fps_mode passthrough '%s'", ours, raw) == 0);
    uint8_t *pix;
    size_t n;
    CHECK_OK(ildiff_read_file(raw, 0, &pix, &n));
    CHECK_MSG(n == (size_t)40 * 30 * 4 * 4, "ffmpeg decoded %zu bytes", n);
    if (n == (size_t)40 * 30 * 4 * 4) CHECK(memcmp(pix, a->rgba, n) == 0);
    free(pix);
    CHECK_OK(ild_frames_write(a, dir, true));
    CHECK(run_cmd("ffmpeg -v error -y -framerate 10 -i '%s/%%06d.png' -plays 0 -f apng '%s'", dir, theirs) == 0);
    ildiff_anim *b = NULL;
    CHECK_OK(ildiff_anim_read(theirs, NULL, &b));
    CHECK(same_shape(a, b));
    if (same_shape(a, b)) {
        CHECK_MSG(memcmp(a->rgba, b->rgba, (size_t)40 * 30 * 4 * 4) == 0, "ffmpeg's APNG composes differently");
        CHECK(b->durations_ms[1] == 100 && b->loop_count == 0);
    }
    ildiff_anim_free(b);
    ildiff_anim_free(a);
    run_cmd("rm -rf '%s' '%s' '%s' '%s'", ours, raw, dir, theirs);
}

int main(void)
{
    ildiff_log_set(NULL, NULL, ILDIFF_LOG_ERROR);
    RUN(test_gif_gifsicle);
    RUN(test_gif_from_ffmpeg);
    RUN(test_webp_tools);
    RUN(test_apng_ffmpeg);
    return check_done();
}
