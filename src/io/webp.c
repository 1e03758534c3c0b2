/*
 * webp.c: WebP reader and writer (libwebp 1.2.4).
 *
 * Read: still and animated, lossy and lossless, with or without alpha. WebPDemux first validates the container
 * (it rejects truncated files) and gives the canvas size and frame count, which are checked against the limits
 * before WebPAnimDecoder allocates anything; the decoder returns each frame as a full canvas (blending and disposal
 * applied). Durations are the differences of the frame timestamps; a duration of 0 (as in still images) becomes
 * 100 ms. The WebP loop count is the number of plays (0 = forever), as in our animation type.
 *
 * Write: WebPAnimEncoder with opts->quality, alpha_quality, lossless, method and kmin/kmax, loop count from
 * ild_effective_loop. kmin/kmax are fixed up to libwebp's rules before use (kmax <= 0: no key-frames; kmax == 1:
 * every frame a key-frame; otherwise kmax/2 + 1 <= kmin < kmax, clamped into that range) so libwebp never has to
 * adjust (and print). Frame timestamps are the running sum of durations. libwebp merges identical consecutive
 * frames into one longer frame, so a reader may see fewer frames with the same total duration.
 */
#include "io.h"

#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

ildiff_status ild_webp_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out)
{
    *out = NULL;
    WebPData wd = {data, size};
    WebPDemuxer *demux = WebPDemux(&wd);
    if (!demux) return ild_fail(ILDIFF_ERR_FORMAT, "corrupt or truncated WebP");
    uint32_t W = WebPDemuxGetI(demux, WEBP_FF_CANVAS_WIDTH), H = WebPDemuxGetI(demux, WEBP_FF_CANVAS_HEIGHT);
    uint32_t n = WebPDemuxGetI(demux, WEBP_FF_FRAME_COUNT), flags = WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS);
    uint32_t loops = WebPDemuxGetI(demux, WEBP_FF_LOOP_COUNT);
    WebPDemuxDelete(demux);
    ildiff_status st = ild_check_dims(limits, W, H, n);
    if (st != ILDIFF_OK) return st;

    WebPAnimDecoderOptions dopt;
    if (!WebPAnimDecoderOptionsInit(&dopt)) return ild_fail(ILDIFF_ERR_INTERNAL, "libwebp version mismatch");
    dopt.color_mode = MODE_RGBA;
    dopt.use_threads = 0;
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&wd, &dopt);
    if (!dec) return ild_fail(ILDIFF_ERR_FORMAT, "corrupt WebP");
    ildiff_anim *a = NULL;
    st = ildiff_anim_new((int32_t)W, (int32_t)H, (int32_t)n, 100, &a);
    size_t frame_bytes = (size_t)W * H * 4;
    int prev_ts = 0;
    for (uint32_t i = 0; st == ILDIFF_OK && i < n; i++) {
        uint8_t *buf;
        int ts;
        if (!WebPAnimDecoderHasMoreFrames(dec) || !WebPAnimDecoderGetNext(dec, &buf, &ts)) {
            st = ild_fail(ILDIFF_ERR_FORMAT, "corrupt WebP frame %u", i);
            break;
        }
        memcpy(ildiff_anim_frame(a, (int32_t)i), buf, frame_bytes);
        a->durations_ms[i] = ts - prev_ts > 0 ? ts - prev_ts : 100;
        prev_ts = ts;
    }
    WebPAnimDecoderDelete(dec);
    if (st != ILDIFF_OK) {
        ildiff_anim_free(a);
        return st;
    }
    a->loop_count = (int32_t)loops;
    a->source = ILDIFF_FORMAT_WEBP;
    a->source_has_alpha = (flags & ALPHA_FLAG) || ildiff_anim_has_alpha(a);
    *out = a;
    return ILDIFF_OK;
}

/* libwebp's key-frame rules, applied here so the encoder gets a valid pair. */
static void fix_keyframes(int kmin, int kmax, int *out_kmin, int *out_kmax)
{
    if (kmax <= 0) { /* key-frames disabled */
        *out_kmin = 0;
        *out_kmax = 0;
    } else if (kmax == 1) { /* every frame a key-frame */
        *out_kmin = 0;
        *out_kmax = 1;
    } else {
        int lo = ILD_MIN(kmax / 2 + 1, kmax - 1);
        *out_kmin = ILD_CLAMP(kmin, lo, kmax - 1);
        *out_kmax = kmax;
    }
    if (*out_kmin != kmin && kmax > 1) ILD_DEBUG("webp: kmin %d adjusted to %d for kmax %d", kmin, *out_kmin, kmax);
}

static ildiff_status make_config(const ildiff_write_options *o, WebPConfig *cfg)
{
    if (!WebPConfigInit(cfg)) return ild_fail(ILDIFF_ERR_INTERNAL, "libwebp version mismatch");
    if (!(o->quality >= 0 && o->quality <= 100) || !(o->alpha_quality >= 0 && o->alpha_quality <= 100))
        return ild_fail(ILDIFF_ERR_ARG, "WebP quality and alpha quality must be in 0..100");
    if (o->method < 0 || o->method > 6) return ild_fail(ILDIFF_ERR_ARG, "WebP method %d is outside 0..6", o->method);
    cfg->lossless = o->lossless ? 1 : 0;
    cfg->quality = o->quality;
    cfg->alpha_quality = (int)(o->alpha_quality + 0.5f);
    cfg->method = o->method;
    if (!WebPValidateConfig(cfg)) return ild_fail(ILDIFF_ERR_ARG, "invalid WebP settings");
    return ILDIFF_OK;
}

/* Adds frame i at timestamp ts. */
static ildiff_status add_frame(WebPAnimEncoder *enc, const ildiff_anim *a, int32_t i, int ts, const WebPConfig *cfg)
{
    WebPPicture pic;
    if (!WebPPictureInit(&pic)) return ild_fail(ILDIFF_ERR_INTERNAL, "libwebp version mismatch");
    pic.use_argb = 1;
    pic.width = a->width;
    pic.height = a->height;
    if (!WebPPictureImportRGBA(&pic, ildiff_anim_frame(a, i), a->width * 4)) {
        WebPPictureFree(&pic);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory encoding WebP");
    }
    int ok = WebPAnimEncoderAdd(enc, &pic, ts, cfg);
    WebPPictureFree(&pic);
    if (!ok) return ild_fail(ILDIFF_ERR_INTERNAL, "WebP encoder: %s", WebPAnimEncoderGetError(enc));
    return ILDIFF_OK;
}

ildiff_status ild_webp_encode(const ildiff_anim *anim, const ildiff_write_options *opts, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    if (anim->width > WEBP_MAX_DIMENSION || anim->height > WEBP_MAX_DIMENSION)
        return ild_fail(ILDIFF_ERR_ARG, "WebP is limited to %dx%d", WEBP_MAX_DIMENSION, WEBP_MAX_DIMENSION);
    if (ildiff_anim_duration_ms(anim) > INT32_MAX / 2) return ild_fail(ILDIFF_ERR_ARG, "animation too long for WebP");
    WebPConfig cfg;
    ildiff_status st = make_config(opts, &cfg);
    if (st != ILDIFF_OK) return st;
    WebPAnimEncoderOptions eo;
    if (!WebPAnimEncoderOptionsInit(&eo)) return ild_fail(ILDIFF_ERR_INTERNAL, "libwebp version mismatch");
    eo.anim_params.loop_count = ILD_CLAMP(ild_effective_loop(anim, opts), 0, 65535);
    eo.anim_params.bgcolor = 0x00000000; /* transparent */
    eo.allow_mixed = 0;
    eo.minimize_size = 0;
    fix_keyframes(opts->kmin, opts->kmax, &eo.kmin, &eo.kmax);
    WebPAnimEncoder *enc = WebPAnimEncoderNew(anim->width, anim->height, &eo);
    if (!enc) return ild_fail(ILDIFF_ERR_NOMEM, "cannot create the WebP encoder");
    int ts = 0;
    for (int32_t i = 0; st == ILDIFF_OK && i < anim->frame_count; i++) {
        st = add_frame(enc, anim, i, ts, &cfg);
        ts += anim->durations_ms[i];
    }
    WebPData wd;
    WebPDataInit(&wd);
    if (st == ILDIFF_OK && !WebPAnimEncoderAdd(enc, NULL, ts, NULL))
        st = ild_fail(ILDIFF_ERR_INTERNAL, "WebP encoder: %s", WebPAnimEncoderGetError(enc));
    if (st == ILDIFF_OK && !WebPAnimEncoderAssemble(enc, &wd))
        st = ild_fail(ILDIFF_ERR_INTERNAL, "WebP encoder: %s", WebPAnimEncoderGetError(enc));
    WebPAnimEncoderDelete(enc);
    if (st != ILDIFF_OK) {
        WebPDataClear(&wd);
        return st;
    }
    /* libwebp allocates with its own allocator (WebPFree); hand the caller plain malloc'd memory */
    *out = malloc(wd.size);
    if (!*out) {
        WebPDataClear(&wd);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    }
    memcpy(*out, wd.bytes, wd.size);
    *out_size = wd.size;
    WebPDataClear(&wd);
    return ILDIFF_OK;
}
