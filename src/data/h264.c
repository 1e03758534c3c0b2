/*
 * h264.c: H.264 damage for the clip sampler: encodes an RGB clip with libx264 (through libavcodec, one thread,
 * no B-frames, so the result is reproducible) at a given CRF and decodes it back, like a sticker that went
 * through a video app. Odd sizes are padded by edge replication to even ones for 4:2:0 and cropped back.
 * Fails with UNSUPPORTED when no H.264 encoder is built in, INTERNAL when FFmpeg fails; the clip is then unchanged
 * or partly replaced, so callers treat a failure as fatal for the sample.
 */
#include "dataset.h"
#include "../io/av_common.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <string.h>

typedef struct h264_job {
    AVCodecContext *enc, *dec;
    struct SwsContext *to_yuv, *to_rgb;
    AVFrame *in, *out;
    AVPacket *pkt;
    uint8_t *rgb; /* (T, H, W, 3) */
    int32_t w, h, pw, ph, frames, decoded;
    uint8_t *padded; /* (ph, pw, 3) */
} h264_job;

static ildiff_status fail_av(int err, const char *what)
{
    char reason[256];
    return ild_fail(ILDIFF_ERR_INTERNAL, "H.264 %s: %s", what, ild_av_reason(err, reason, sizeof reason));
}

/* Receives every decoded frame available and converts it back into the next clip frame. */
static ildiff_status drain_decoder(h264_job *j)
{
    for (;;) {
        int r = avcodec_receive_frame(j->dec, j->out);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return ILDIFF_OK;
        if (r < 0) return fail_av(r, "decoding");
        if (j->decoded < j->frames) {
            uint8_t *dst[4] = {j->padded};
            int stride[4] = {j->pw * 3};
            sws_scale(j->to_rgb, (const uint8_t *const *)j->out->data, j->out->linesize, 0, j->ph, dst, stride);
            for (int32_t y = 0; y < j->h; y++)
                memcpy(j->rgb + ((size_t)j->decoded * j->h + y) * j->w * 3, j->padded + (size_t)y * j->pw * 3, (size_t)j->w * 3);
            j->decoded++;
        }
        av_frame_unref(j->out);
    }
}

/* Moves every packet the encoder has into the decoder. */
static ildiff_status drain_encoder(h264_job *j)
{
    for (;;) {
        int r = avcodec_receive_packet(j->enc, j->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return ILDIFF_OK;
        if (r < 0) return fail_av(r, "encoding");
        r = avcodec_send_packet(j->dec, j->pkt);
        av_packet_unref(j->pkt);
        if (r < 0) return fail_av(r, "decoding");
        ildiff_status st = drain_decoder(j);
        if (st != ILDIFF_OK) return st;
    }
}

static ildiff_status open_codecs(h264_job *j, int crf)
{
    const AVCodec *ec = avcodec_find_encoder_by_name("libx264"), *dc = avcodec_find_decoder(AV_CODEC_ID_H264);
    if (!ec || !dc) return ild_fail(ILDIFF_ERR_UNSUPPORTED, "this FFmpeg has no libx264 encoder or H.264 decoder");
    j->enc = avcodec_alloc_context3(ec);
    j->dec = avcodec_alloc_context3(dc);
    j->in = av_frame_alloc();
    j->out = av_frame_alloc();
    j->pkt = av_packet_alloc();
    j->padded = malloc((size_t)j->pw * j->ph * 3 + 256); /* swscale's SIMD may run past the last row */
    if (!j->enc || !j->dec || !j->in || !j->out || !j->pkt || !j->padded) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    j->enc->width = j->pw;
    j->enc->height = j->ph;
    j->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    j->enc->time_base = (AVRational){1, 25};
    j->enc->framerate = (AVRational){25, 1};
    j->enc->gop_size = 12;
    j->enc->max_b_frames = 0;
    j->enc->thread_count = 1;
    char crf_text[16];
    snprintf(crf_text, sizeof crf_text, "%d", crf);
    av_opt_set(j->enc->priv_data, "crf", crf_text, 0);
    av_opt_set(j->enc->priv_data, "preset", "veryfast", 0);
    av_opt_set(j->enc->priv_data, "tune", "zerolatency", 0);
    int r = avcodec_open2(j->enc, ec, NULL);
    if (r < 0) return fail_av(r, "encoder");
    j->dec->thread_count = 1;
    r = avcodec_open2(j->dec, dc, NULL);
    if (r < 0) return fail_av(r, "decoder");
    j->in->format = AV_PIX_FMT_YUV420P;
    j->in->width = j->pw;
    j->in->height = j->ph;
    r = av_frame_get_buffer(j->in, 0);
    if (r < 0) return fail_av(r, "frame");
    j->to_yuv = sws_getContext(j->pw, j->ph, AV_PIX_FMT_RGB24, j->pw, j->ph, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
    j->to_rgb = sws_getContext(j->pw, j->ph, AV_PIX_FMT_YUV420P, j->pw, j->ph, AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
    if (!j->to_yuv || !j->to_rgb) return ild_fail(ILDIFF_ERR_INTERNAL, "H.264: no colour converter");
    return ILDIFF_OK;
}

ildiff_status ild_h264_roundtrip(uint8_t *rgb, int32_t frames, int32_t w, int32_t h, int crf)
{
    ild_av_init();
    h264_job j = {.rgb = rgb, .w = w, .h = h, .pw = w + (w & 1), .ph = h + (h & 1), .frames = frames};
    ildiff_status st = open_codecs(&j, crf);
    for (int32_t f = 0; f < frames && st == ILDIFF_OK; f++) {
        for (int32_t y = 0; y < j.ph; y++) { /* pad by replicating the last row and column */
            const uint8_t *src = rgb + ((size_t)f * h + ILD_MIN(y, h - 1)) * w * 3;
            uint8_t *dst = j.padded + (size_t)y * j.pw * 3;
            memcpy(dst, src, (size_t)w * 3);
            if (j.pw > w) memcpy(dst + (size_t)w * 3, src + (size_t)(w - 1) * 3, 3);
        }
        int r = av_frame_make_writable(j.in);
        if (r < 0) {
            st = fail_av(r, "frame");
            break;
        }
        const uint8_t *src[4] = {j.padded};
        int stride[4] = {j.pw * 3};
        sws_scale(j.to_yuv, src, stride, 0, j.ph, j.in->data, j.in->linesize);
        j.in->pts = f;
        r = avcodec_send_frame(j.enc, j.in);
        st = r < 0 ? fail_av(r, "encoding") : drain_encoder(&j);
    }
    if (st == ILDIFF_OK) {
        int r = avcodec_send_frame(j.enc, NULL);
        st = r < 0 ? fail_av(r, "encoding") : drain_encoder(&j);
    }
    if (st == ILDIFF_OK) {
        int r = avcodec_send_packet(j.dec, NULL);
        st = r < 0 ? fail_av(r, "decoding") : drain_decoder(&j);
    }
    if (st == ILDIFF_OK && j.decoded != frames)
        st = ild_fail(ILDIFF_ERR_INTERNAL, "H.264 gave back %d of %d frames", j.decoded, frames);
    avcodec_free_context(&j.enc);
    avcodec_free_context(&j.dec);
    sws_freeContext(j.to_yuv);
    sws_freeContext(j.to_rgb);
    av_frame_free(&j.in);
    av_frame_free(&j.out);
    av_packet_free(&j.pkt);
    free(j.padded);
    return st;
}
