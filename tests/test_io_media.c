/* test_io_media.c: video (FFmpeg) reading, WebM VP9-alpha writing, Lottie/TGS and SVG reading, and the rejection
 * of corrupt, truncated and hostile inputs of each kind. Inputs are made here (ffmpeg via system(), JSON/SVG
 * strings, zlib) in CHECK_TMPDIR(); the cases that need the ffmpeg tool skip without it. */
#include "check.h"
#include "ildiff.h"
#include "io/premultiply.h"

#include <stdint.h>
#include <unistd.h>
#include <zlib.h>

static char *tmp_path(const char *name)
{
    static char buf[4][1024];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/media_%d_%s", CHECK_TMPDIR(), (int)getpid(), name);
    return p;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int have_ffmpeg(const char *name)
{
    static int known = -1;
    if (known < 0) known = sh("ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libvpx-vp9") == 0;
    if (!known) check_skip(name, "no ffmpeg with libvpx-vp9");
    return known;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    uint8_t *d = NULL;
    *n = 0;
    if (ildiff_read_file(path, (int64_t)1 << 30, &d, n) != ILDIFF_OK) return NULL;
    return d;
}

static void spit(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(d, 1, n, f) == n);
    fclose(f);
}

static const uint8_t *px(const ildiff_anim *a, int32_t frame, int32_t x, int32_t y)
{
    return ildiff_anim_frame(a, frame) + ((size_t)y * (size_t)a->width + (size_t)x) * 4;
}

/* Expects reading `d` to fail with `want` (leaving out NULL and a reason). */
static void expect_reject(const uint8_t *d, size_t n, ildiff_format fmt, const ildiff_limits *lim, ildiff_status want,
                          const char *what)
{
    ildiff_anim *a = (ildiff_anim *)&a;
    ildiff_status st = ildiff_anim_read_memory(d, n, fmt, lim, &a);
    CHECK_MSG(st == want, "%s: status %s (%s), want %s", what, ildiff_status_name(st), ildiff_last_error(),
              ildiff_status_name(want));
    CHECK(a == NULL);
    CHECK(ildiff_last_error()[0] != 0);
    if (st == ILDIFF_OK) ildiff_anim_free(a);
}

/* --- video ---------------------------------------------------------------------------------------------------- */

static void test_read_mp4_h264(void)
{
    if (!have_ffmpeg(__func__)) return;
    char *mp4 = tmp_path("h264.mp4"), *raw = tmp_path("h264.rgba");
    CHECK(sh("ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 12 -c:v libx264 -pix_fmt yuv420p "
             "%s && ffmpeg -v error -y -i %s -sws_flags bicubic+accurate_rnd+full_chroma_int "
             "-f rawvideo -pix_fmt rgba %s", mp4, mp4, raw) == 0);
    ildiff_anim *a = NULL;
    CHECK_OK(ildiff_anim_read(mp4, NULL, &a));
    size_t nraw;
    uint8_t *ref = slurp(raw, &nraw);
    if (a && ref) {
        CHECK(a->width == 64 && a->height == 48 && a->frame_count == 12);
        CHECK(a->source == ILDIFF_FORMAT_VIDEO && !a->source_has_alpha && !ildiff_anim_has_alpha(a));
        for (int32_t i = 0; i < a->frame_count; i++) CHECK_MSG(a->durations_ms[i] == 100, "frame %d: %d ms", i, a->durations_ms[i]);
        CHECK(nraw == (size_t)64 * 48 * 4 * 12);
        double err = 0;
        for (size_t i = 0; i < nraw && i < (size_t)64 * 48 * 4 * 12; i++) err += abs((int)a->rgba[i] - (int)ref[i]);
        CHECK_MSG(err / (double)nraw < 1.0, "mean |ours - ffmpeg| = %.2f", err / (double)nraw);
    }
    free(ref);
    ildiff_anim_free(a);
    ildiff_limits lim = ildiff_limits_default();
    lim.max_frames = 5;
    size_t n;
    uint8_t *d = slurp(mp4, &n);
    if (d) expect_reject(d, n, ILDIFF_FORMAT_UNKNOWN, &lim, ILDIFF_ERR_LIMIT, "12 frames over a limit of 5");
    lim = ildiff_limits_default();
    lim.max_width = 32;
    if (d) expect_reject(d, n, ILDIFF_FORMAT_UNKNOWN, &lim, ILDIFF_ERR_LIMIT, "width over the limit");
    free(d);
    unlink(mp4), unlink(raw);
}

static void test_read_webm_alpha_from_ffmpeg(void)
{
    if (!have_ffmpeg(__func__)) return;
    char *webm = tmp_path("alpha.webm");
    CHECK(sh("ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 10 -vf "
             "\"format=yuva420p,geq=lum='p(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='if(lt(X,32),0,255)'\" "
             "-c:v libvpx-vp9 -pix_fmt yuva420p -auto-alt-ref 0 %s", webm) == 0);
    ildiff_anim *a = NULL;
    CHECK_OK(ildiff_anim_read(webm, NULL, &a));
    if (a) {
        CHECK(a->width == 64 && a->height == 48 && a->frame_count == 10);
        CHECK(a->source == ILDIFF_FORMAT_WEBM && a->source_has_alpha);
        for (int32_t i = 0; i < a->frame_count; i++) CHECK_MSG(a->durations_ms[i] == 100, "frame %d: %d ms", i, a->durations_ms[i]);
        for (int32_t i = 0; i < a->frame_count; i++) {
            CHECK_MSG(px(a, i, 8, 20)[3] < 16, "frame %d left alpha %d", i, px(a, i, 8, 20)[3]);
            CHECK_MSG(px(a, i, 56, 20)[3] > 240, "frame %d right alpha %d", i, px(a, i, 56, 20)[3]);
        }
    }
    ildiff_anim_free(a);
    unlink(webm);
}

/* A 6-frame animation: left third transparent, middle third alpha 128, right third opaque; colours vary. */
static ildiff_anim *make_alpha_anim(int32_t w, int32_t h)
{
    static const int32_t durations[6] = {100, 50, 150, 100, 40, 60};
    ildiff_anim *a = NULL;
    if (ildiff_anim_new(w, h, 6, 100, &a) != ILDIFF_OK) return NULL;
    for (int32_t f = 0; f < 6; f++) {
        a->durations_ms[f] = durations[f];
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                uint8_t *p = ildiff_anim_frame(a, f) + ((size_t)y * (size_t)w + (size_t)x) * 4;
                p[0] = (uint8_t)(40 + 30 * f), p[1] = (uint8_t)(200 - 20 * f), p[2] = 90;
                p[3] = x < w / 3 ? 0 : x < 2 * w / 3 ? 128 : 255;
            }
    }
    return a;
}

static void check_webm_roundtrip(int32_t w, int32_t h)
{
    ildiff_anim *a = make_alpha_anim(w, h);
    CHECK(a != NULL);
    if (!a) return;
    uint8_t *enc = NULL;
    size_t n = 0;
    CHECK_OK(ildiff_anim_encode(a, ILDIFF_FORMAT_WEBM, NULL, &enc, &n));
    CHECK(ildiff_format_sniff(enc, n) == ILDIFF_FORMAT_WEBM);
    ildiff_anim *b = NULL;
    CHECK_OK(ildiff_anim_read_memory(enc, n, ILDIFF_FORMAT_UNKNOWN, NULL, &b));
    if (b) {
        CHECK_MSG(b->width == w && b->height == h && b->frame_count == 6, "%dx%d x %d", b->width, b->height, b->frame_count);
        CHECK(b->source == ILDIFF_FORMAT_WEBM && b->source_has_alpha);
        for (int32_t f = 0; f < 6 && f < b->frame_count; f++) {
            CHECK_MSG(b->durations_ms[f] == a->durations_ms[f], "frame %d: %d ms, want %d", f, b->durations_ms[f], a->durations_ms[f]);
            int32_t y = h / 2;
            CHECK_NEAR(px(b, f, 1, y)[3], 0, 8);
            CHECK_NEAR(px(b, f, w / 2, y)[3], 128, 10);
            CHECK_NEAR(px(b, f, w - 2, y)[3], 255, 8);
            for (int c = 0; c < 3; c++) CHECK_NEAR(px(b, f, w - 2, y)[c], px(a, f, w - 2, y)[c], 12);
        }
    }
    if (w % 2 == 0 && have_ffmpeg(__func__)) { /* independent tools read it: vp9, alpha_mode, alpha plane */
        char *path = tmp_path("ours.webm"), *probe = tmp_path("probe.txt"), *gray = tmp_path("alpha.gray");
        spit(path, enc, n);
        CHECK(sh("ffprobe -v error -select_streams v:0 -show_entries stream=codec_name:stream_tags=alpha_mode "
                 "-of default=nw=1 %s > %s", path, probe) == 0);
        size_t np;
        char *txt = (char *)slurp(probe, &np);
        CHECK(txt && memmem(txt, np, "codec_name=vp9", 14) && memmem(txt, np, "alpha_mode=1", 12));
        free(txt);
        CHECK(sh("ffmpeg -v error -y -c:v libvpx-vp9 -i %s -vf alphaextract -frames:v 1 -f rawvideo -pix_fmt gray %s",
                 path, gray) == 0);
        size_t ng;
        uint8_t *g = slurp(gray, &ng);
        CHECK(g && ng == (size_t)w * (size_t)h);
        if (g && ng == (size_t)w * (size_t)h) {
            CHECK_MSG(g[(size_t)(h / 2) * (size_t)w + 1] < 30, "ffmpeg sees alpha %d in the clear part", g[(size_t)(h / 2) * (size_t)w + 1]);
            CHECK(g[(size_t)(h / 2) * (size_t)w + (size_t)w - 2] > 225);
        }
        free(g);
        unlink(path), unlink(probe), unlink(gray);
    }
    free(enc);
    ildiff_anim_free(a);
    ildiff_anim_free(b);
}

static void test_webm_roundtrip_even(void) { check_webm_roundtrip(48, 40); }
static void test_webm_roundtrip_odd(void) { check_webm_roundtrip(33, 25); }

/* Black under alpha 0 next to opaque green, the edge inside a 2x2 chroma block: the edge must stay green. */
static void test_webm_no_dark_fringe(void)
{
    ildiff_anim *a = NULL, *b = NULL;
    CHECK_OK(ildiff_anim_new(32, 32, 2, 100, &a));
    if (!a) return;
    for (int32_t f = 0; f < 2; f++)
        for (int32_t y = 0; y < 32; y++)
            for (int32_t x = 15; x < 32; x++) memcpy(ildiff_anim_frame(a, f) + ((size_t)y * 32 + (size_t)x) * 4, "\x00\xff\x00\xff", 4);
    uint8_t *enc = NULL;
    size_t n = 0;
    CHECK_OK(ildiff_anim_encode(a, ILDIFF_FORMAT_WEBM, NULL, &enc, &n));
    CHECK_OK(ildiff_anim_read_memory(enc, n, ILDIFF_FORMAT_WEBM, NULL, &b));
    if (b) {
        const uint8_t *edge = px(b, 0, 15, 16);
        CHECK_MSG(edge[3] > 200 && edge[0] < 40 && edge[1] > 215 && edge[2] < 40, "edge pixel %d %d %d %d", edge[0], edge[1],
                  edge[2], edge[3]);
    }
    free(enc);
    ildiff_anim_free(a);
    ildiff_anim_free(b);
}

static void test_webm_quality_changes_size(void)
{
    ildiff_anim *a = make_alpha_anim(64, 64);
    if (!a) return;
    for (size_t i = 0; i < (size_t)64 * 64 * 6; i++) a->rgba[i * 4] ^= (uint8_t)(i * 2654435761u >> 13); /* detail */
    ildiff_write_options lo = ildiff_write_options_default(), hi = lo;
    lo.quality = 10, hi.quality = 100;
    uint8_t *e1 = NULL, *e2 = NULL;
    size_t n1 = 0, n2 = 0;
    CHECK_OK(ildiff_anim_encode(a, ILDIFF_FORMAT_WEBM, &lo, &e1, &n1));
    CHECK_OK(ildiff_anim_encode(a, ILDIFF_FORMAT_WEBM, &hi, &e2, &n2));
    CHECK_MSG(n1 < n2, "quality 10: %zu bytes, quality 100: %zu bytes", n1, n2);
    free(e1), free(e2);
    ildiff_anim_free(a);
}

static void test_video_corrupt(void)
{
    if (!have_ffmpeg(__func__)) return;
    char *mp4 = tmp_path("fast.mp4"), *audio = tmp_path("audio.mp4"), *webm = tmp_path("c.webm");
    CHECK(sh("ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 10 -c:v libx264 -movflags +faststart %s"
             " && ffmpeg -v error -y -f lavfi -i anullsrc=r=8000 -t 0.2 -c:a aac %s"
             " && ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 10 -c:v libvpx-vp9 %s",
             mp4, audio, webm) == 0);
    size_t n, na, nw;
    uint8_t *d = slurp(mp4, &n), *da = slurp(audio, &na), *dw = slurp(webm, &nw);
    CHECK(d && da && dw);
    if (d && da && dw) {
        expect_reject(d, n / 2, ILDIFF_FORMAT_UNKNOWN, NULL, ILDIFF_ERR_FORMAT, "MP4 cut in half");
        expect_reject(d, 40, ILDIFF_FORMAT_UNKNOWN, NULL, ILDIFF_ERR_FORMAT, "MP4 cut after its ftyp");
        expect_reject(dw, nw * 2 / 3, ILDIFF_FORMAT_UNKNOWN, NULL, ILDIFF_ERR_FORMAT, "WebM cut at 2/3");
        expect_reject(da, na, ILDIFF_FORMAT_UNKNOWN, NULL, ILDIFF_ERR_FORMAT, "audio-only MP4");
        uint32_t rng = 12345;
        uint8_t *m = memmem(d, n, "mdat", 4);
        CHECK(m != NULL);
        for (uint8_t *p = m ? m + 4 : d + n; p < d + n; p++) *p = (uint8_t)((rng = rng * 1103515245u + 12345u) >> 16);
        expect_reject(d, n, ILDIFF_FORMAT_UNKNOWN, NULL, ILDIFF_ERR_FORMAT, "MP4 with random frame data");
        for (size_t i = 64; i < nw; i++) dw[i] = (uint8_t)((rng = rng * 1103515245u + 12345u) >> 16);
        expect_reject(dw, nw, ILDIFF_FORMAT_UNKNOWN, NULL, ILDIFF_ERR_FORMAT, "WebM header then random bytes");
        expect_reject(d, 3, ILDIFF_FORMAT_VIDEO, NULL, ILDIFF_ERR_FORMAT, "3 bytes");
        static const uint8_t gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        expect_reject(gif, sizeof gif - 1, ILDIFF_FORMAT_VIDEO, NULL, ILDIFF_ERR_FORMAT, "a GIF read as video");
    }
    free(d), free(da), free(dw);
    unlink(mp4), unlink(audio), unlink(webm);
}

/* --- Lottie / TGS --------------------------------------------------------------------------------------------- */

/* 64x64, 10 fps, frames 0..9: a red 20 px circle moving from (20,32) to (44,32) on a transparent canvas. */
static const char lottie_json[] =
    "{\"v\":\"5.5.2\",\"fr\":10,\"ip\":0,\"op\":10,\"w\":64,\"h\":64,\"nm\":\"t\",\"ddd\":0,\"assets\":[],"
    "\"layers\":[{\"ddd\":0,\"ind\":1,\"ty\":4,\"nm\":\"dot\",\"sr\":1,\"ip\":0,\"op\":10,\"st\":0,\"bm\":0,"
    "\"ks\":{\"o\":{\"a\":0,\"k\":100},\"r\":{\"a\":0,\"k\":0},\"p\":{\"a\":0,\"k\":[0,0,0]},"
    "\"a\":{\"a\":0,\"k\":[0,0,0]},\"s\":{\"a\":0,\"k\":[100,100,100]}},"
    "\"shapes\":[{\"ty\":\"gr\",\"nm\":\"g\",\"it\":["
    "{\"ty\":\"el\",\"nm\":\"e\",\"d\":1,\"s\":{\"a\":0,\"k\":[20,20]},"
    "\"p\":{\"a\":1,\"k\":[{\"t\":0,\"s\":[20,32],\"e\":[44,32],\"i\":{\"x\":1,\"y\":1},\"o\":{\"x\":0,\"y\":0}},{\"t\":9}]}},"
    "{\"ty\":\"fl\",\"nm\":\"f\",\"c\":{\"a\":0,\"k\":[1,0,0,1]},\"o\":{\"a\":0,\"k\":100},\"r\":1},"
    "{\"ty\":\"tr\",\"p\":{\"a\":0,\"k\":[0,0]},\"a\":{\"a\":0,\"k\":[0,0]},\"s\":{\"a\":0,\"k\":[100,100]},"
    "\"r\":{\"a\":0,\"k\":0},\"o\":{\"a\":0,\"k\":100}}]}]}]}";

/* gzip of `n` bytes of `d`, or of `n` spaces when d is NULL (streamed, so huge n is cheap in memory). */
static uint8_t *gzip_bytes(const void *d, size_t n, size_t *out_n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = n / 500 + 1024, used = 0;
    uint8_t *out = malloc(cap), chunk[65536];
    memset(chunk, ' ', sizeof chunk);
    size_t done = 0;
    int zr = Z_OK;
    while (out && zr != Z_STREAM_END) {
        size_t k = (n - done < sizeof chunk ? n - done : sizeof chunk);
        zs.next_in = d ? (Bytef *)d + done : chunk;
        zs.avail_in = (uInt)k;
        if (used == cap) out = realloc(out, cap *= 2);
        if (!out) break;
        zs.next_out = out + used;
        zs.avail_out = (uInt)(cap - used);
        zr = deflate(&zs, done + k == n ? Z_FINISH : Z_NO_FLUSH);
        done += k - zs.avail_in;
        used = cap - zs.avail_out;
    }
    deflateEnd(&zs);
    *out_n = used;
    return out;
}

static void check_lottie_anim(const ildiff_anim *a, ildiff_format source)
{
    CHECK(a->width == 64 && a->height == 64 && a->frame_count == 10 && a->source == source);
    for (int32_t i = 0; i < a->frame_count; i++) {
        CHECK(a->durations_ms[i] == 100);
        CHECK(px(a, i, 0, 0)[3] == 0 && px(a, i, 63, 0)[3] == 0 && px(a, i, 0, 63)[3] == 0 && px(a, i, 63, 63)[3] == 0);
        int32_t cx = 20 + 24 * i / 9;
        const uint8_t *c = px(a, i, cx, 32);
        CHECK_MSG(c[3] == 255 && c[0] > 245 && c[1] < 10 && c[2] < 10, "frame %d at (%d,32): %d %d %d %d", i, cx, c[0], c[1], c[2], c[3]);
    }
    CHECK(px(a, 9, 20, 32)[3] == 0); /* the circle has left its first place */
    int soft = 0;
    for (int32_t x = 0; x < 64; x++) soft += px(a, 0, x, 23)[3] > 0 && px(a, 0, x, 23)[3] < 255;
    CHECK_MSG(soft > 0, "no antialiased edge pixel");
}

static void test_lottie_json_and_tgs(void)
{
    ildiff_anim *a = NULL;
    char *path = tmp_path("dot.json");
    spit(path, lottie_json, sizeof lottie_json - 1);
    CHECK_OK(ildiff_anim_read(path, NULL, &a));
    if (a) check_lottie_anim(a, ILDIFF_FORMAT_LOTTIE);
    ildiff_anim_free(a);
    size_t n;
    uint8_t *tgs = gzip_bytes(lottie_json, sizeof lottie_json - 1, &n);
    CHECK_OK(ildiff_anim_read_memory(tgs, n, ILDIFF_FORMAT_UNKNOWN, NULL, &a));
    if (a) check_lottie_anim(a, ILDIFF_FORMAT_TGS);
    ildiff_anim_free(a);
    expect_reject(tgs, n / 2, ILDIFF_FORMAT_UNKNOWN, NULL, ILDIFF_ERR_FORMAT, "truncated TGS");
    tgs[n / 2] ^= 0x55, tgs[n / 2 + 1] ^= 0xaa;
    expect_reject(tgs, n, ILDIFF_FORMAT_UNKNOWN, NULL, ILDIFF_ERR_FORMAT, "corrupt TGS");
    free(tgs);
    unlink(path);
}

/* Replaces the first `from` in lottie_json by `to` into buf. */
static size_t lottie_with(char *buf, size_t cap, const char *from, const char *to)
{
    const char *p = strstr(lottie_json, from);
    CHECK(p != NULL);
    if (!p) return 0;
    return (size_t)snprintf(buf, cap, "%.*s%s%s", (int)(p - lottie_json), lottie_json, to, p + strlen(from));
}

static void test_lottie_hostile(void)
{
    size_t n;
    uint8_t *bomb = gzip_bytes(NULL, (size_t)80 << 20, &n); /* 80 MiB of spaces in ~80 KiB */
    CHECK(bomb && n < ((size_t)1 << 20));
    if (bomb) expect_reject(bomb, n, ILDIFF_FORMAT_UNKNOWN, NULL, ILDIFF_ERR_LIMIT, "gzip bomb");
    free(bomb);
    char buf[sizeof lottie_json + 256];
    static const struct { const char *from, *to; ildiff_status want; } cases[] = {
        {"\"w\":64", "\"w\":100000", ILDIFF_ERR_LIMIT},
        {"\"h\":64", "\"h\":1e300", ILDIFF_ERR_LIMIT},
        {"\"op\":10", "\"op\":5000000", ILDIFF_ERR_LIMIT},
        {"\"op\":10", "\"op\":0", ILDIFF_ERR_FORMAT},
        {"\"fr\":10", "\"fr\":0", ILDIFF_ERR_FORMAT},
        {"\"fr\":10", "\"fr\":\"10\"", ILDIFF_ERR_FORMAT},
        {"\"w\":64", "\"w\":-5", ILDIFF_ERR_FORMAT},
        {"\"layers\":[", "\"layerz\":[", ILDIFF_ERR_FORMAT},
        /* librlottie rasterises a huge transformed path before clipping: minutes per frame (fuzz finding) */
        {"\"k\":[100,100,100]", "\"k\":[200100,10,0]", ILDIFF_ERR_UNSUPPORTED},
        {"\"k\":[20,20]", "\"k\":[1e13,20]", ILDIFF_ERR_UNSUPPORTED},
        {"\"assets\":[]", "\"assets\":[{\"id\":\"i\",\"w\":8,\"h\":8,\"u\":\"/etc/\",\"p\":\"passwd\"}]", ILDIFF_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t k = lottie_with(buf, sizeof buf, cases[i].from, cases[i].to);
        expect_reject((const uint8_t *)buf, k, ILDIFF_FORMAT_LOTTIE, NULL, cases[i].want, cases[i].to);
    }
    expect_reject((const uint8_t *)lottie_json, sizeof lottie_json / 2, ILDIFF_FORMAT_LOTTIE, NULL, ILDIFF_ERR_FORMAT,
                  "truncated JSON");
    expect_reject((const uint8_t *)"[1,2,3]", 7, ILDIFF_FORMAT_LOTTIE, NULL, ILDIFF_ERR_FORMAT, "JSON array");
    ildiff_limits lim = ildiff_limits_default();
    lim.max_frames = 9;
    expect_reject((const uint8_t *)lottie_json, sizeof lottie_json - 1, ILDIFF_FORMAT_LOTTIE, &lim, ILDIFF_ERR_LIMIT,
                  "10 frames over a limit of 9");
}

/* --- SVG ------------------------------------------------------------------------------------------------------ */

static void test_svg_ring(void)
{
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"80\">"
                              "<circle cx=\"50\" cy=\"40\" r=\"30\" fill=\"none\" stroke=\"#00ff00\" stroke-width=\"20\"/></svg>";
    ildiff_anim *a = NULL;
    CHECK_OK(ildiff_anim_read_memory((const uint8_t *)svg, sizeof svg - 1, ILDIFF_FORMAT_UNKNOWN, NULL, &a));
    if (!a) return;
    CHECK(a->width == 100 && a->height == 80 && a->frame_count == 1 && a->source == ILDIFF_FORMAT_SVG);
    CHECK(px(a, 0, 50, 40)[3] == 0); /* the hole */
    CHECK(px(a, 0, 1, 1)[3] == 0);   /* outside */
    const uint8_t *ring = px(a, 0, 50, 10);
    CHECK_MSG(ring[3] == 255 && ring[0] == 0 && ring[1] == 255 && ring[2] == 0, "ring %d %d %d %d", ring[0], ring[1], ring[2], ring[3]);
    int soft = 0, soft_green = 1;
    for (int32_t y = 0; y < 80; y++)
        for (int32_t x = 0; x < 100; x++) {
            const uint8_t *p = px(a, 0, x, y);
            if (p[3] > 0 && p[3] < 255) soft++, soft_green &= p[1] > 240 && p[0] < 15; /* straight, not premultiplied */
        }
    CHECK(soft > 20 && soft_green);
    ildiff_anim_free(a);
}

static void test_svg_sizes(void)
{
    static const char vb[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 200 100\"><rect width=\"200\" height=\"100\"/></svg>";
    static const char none[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"10\" height=\"10\"/></svg>";
    ildiff_anim *a = NULL;
    CHECK_OK(ildiff_anim_read_memory((const uint8_t *)vb, sizeof vb - 1, ILDIFF_FORMAT_SVG, NULL, &a));
    if (a) CHECK_MSG(a->width == 512 && a->height == 256 && px(a, 0, 500, 250)[3] == 255, "%dx%d", a->width, a->height);
    ildiff_anim_free(a);
    CHECK_OK(ildiff_anim_read_memory((const uint8_t *)none, sizeof none - 1, ILDIFF_FORMAT_SVG, NULL, &a));
    if (a) CHECK(a->width == 512 && a->height == 512 && px(a, 0, 5, 5)[3] == 255 && px(a, 0, 20, 20)[3] == 0);
    ildiff_anim_free(a);
}

static void test_svg_hostile(void)
{
    static const char *const huge[] = {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100000\" height=\"10\"/>",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"1e30\"/>",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"5000in\" height=\"10\"/>",
    };
    for (size_t i = 0; i < 3; i++)
        expect_reject((const uint8_t *)huge[i], strlen(huge[i]), ILDIFF_FORMAT_SVG, NULL, ILDIFF_ERR_LIMIT, huge[i]);
    static const char broken[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect";
    expect_reject((const uint8_t *)broken, sizeof broken - 1, ILDIFF_FORMAT_SVG, NULL, ILDIFF_ERR_FORMAT, "unclosed SVG");
    expect_reject((const uint8_t *)"\x01\x02garbage<svg", 14, ILDIFF_FORMAT_SVG, NULL, ILDIFF_ERR_FORMAT, "not XML");
}

static void test_unpremultiply(void)
{
    const uint32_t in[4] = {0xff102030u, 0x00000000u, 0x80402000u, 0x40ff0000u};
    uint8_t out[16];
    ild_argb32_premul_to_rgba(out, in, 4);
    static const uint8_t want[16] = {0x10, 0x20, 0x30, 255, 0, 0, 0, 0, 128, 64, 0, 128, 255, 0, 0, 64};
    CHECK(memcmp(out, want, 16) == 0);
}

int main(void)
{
    RUN(test_unpremultiply);
    RUN(test_read_mp4_h264);
    RUN(test_read_webm_alpha_from_ffmpeg);
    RUN(test_webm_roundtrip_even);
    RUN(test_webm_roundtrip_odd);
    RUN(test_webm_no_dark_fringe);
    RUN(test_webm_quality_changes_size);
    RUN(test_video_corrupt);
    RUN(test_lottie_json_and_tgs);
    RUN(test_lottie_hostile);
    RUN(test_svg_ring);
    RUN(test_svg_sizes);
    RUN(test_svg_hostile);
    return check_done();
}
