/*
 * webm_write.c: ild_webm_encode: an animation as WebM, VP9 with alpha (libvpx-vp9, yuva420p), no audio, written
 * by libavformat's webm muxer into memory (avio_open_dyn_buf).
 *
 * - Timing: pts are the cumulative durations in ms, time base 1/1000, so variable frame durations are kept; each
 *   packet carries its frame's duration, so the last frame keeps its own.
 * - Alpha: the encoder writes the A plane as a second VP9 stream in BlockAdditional 1; the yuva420p stream
 *   format makes the muxer write AlphaMode=1 (read back as the alpha_mode=1 tag), which tells decoders to look.
 * - The dynamic buffer is marked seekable, so the muxer goes back to fill in the segment size, Duration and Cues
 *   as it does for a file.
 * - Quality: opts->quality 0..100 maps linearly to crf 63..4 in constant-quality mode (b:v 0); deadline good,
 *   cpu-used WEBM_CPU_USED, row-mt, auto-alt-ref 0 (alt-ref frames and alpha do not mix in libvpx).
 * - Odd widths and heights are kept as they are: VP9 codes any size (chroma is rounded up).
 * - Loop count is not a WebM concept and is not written (players loop stickers on their own).
 * - Colour: RGB to BT.601 limited-range YUV, tagged as such. Chroma is shared by 2x2 pixels, so before the
 *   conversion the colour of invisible pixels (alpha 0) is replaced by the mean visible colour of their 2x2
 *   block: the colour hidden under transparency does not bleed into visible edges (no dark fringe).
 */
#include "av_common.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <string.h>

#define WEBM_CPU_USED 4
#define WEBM_CRF_BEST 4
#define WEBM_CRF_WORST 63

/* Everything one encode holds; released by webm_free. */
typedef struct webm_writer {
    const ildiff_anim *anim;
    int64_t *start_ms;       /* (frame_count) presentation time of each frame */
    AVFormatContext *oc;
    AVStream *st;
    AVCodecContext *enc;
    struct SwsContext *sws;
    AVFrame *frame;
    AVPacket *pkt;
    uint8_t *scratch;        /* (height, width, 4) the frame being converted */
} webm_writer;

static void webm_free(webm_writer *w)
{
    if (w->oc && w->oc->pb) {
        uint8_t *buf = NULL;
        avio_close_dyn_buf(w->oc->pb, &buf);
        av_free(buf);
        w->oc->pb = NULL;
    }
    avformat_free_context(w->oc);
    avcodec_free_context(&w->enc);
    sws_freeContext(w->sws);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    free(w->start_ms);
    free(w->scratch);
}

static ildiff_status av_fail(int err, const char *what)
{
    char reason[640];
    return ild_fail(ILDIFF_ERR_INTERNAL, "%s: %s", what, ild_av_reason(err, reason, sizeof reason));
}

/* crf for a quality 0..100 (100 = best). */
static int webm_crf(float quality)
{
    double q = isfinite(quality) ? ILD_CLAMP((double)quality, 0.0, 100.0) : 0.0;
    return (int)lround(WEBM_CRF_WORST - q / 100.0 * (WEBM_CRF_WORST - WEBM_CRF_BEST));
}

/* Sets up the muxer, the stream and the encoder, and writes the header. */
static ildiff_status webm_open(webm_writer *w, const ildiff_write_options *opts)
{
    const ildiff_anim *a = w->anim;
    const AVCodec *codec = avcodec_find_encoder_by_name("libvpx-vp9");
    if (!codec) return ild_fail(ILDIFF_ERR_UNSUPPORTED, "this FFmpeg has no libvpx-vp9 encoder");
    int r = avformat_alloc_output_context2(&w->oc, NULL, "webm", NULL);
    if (r < 0 || !w->oc) return av_fail(r, "cannot create the WebM muxer");
    w->st = avformat_new_stream(w->oc, NULL);
    w->enc = avcodec_alloc_context3(codec);
    w->frame = av_frame_alloc();
    w->pkt = av_packet_alloc();
    if (!w->st || !w->enc || !w->frame || !w->pkt) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the WebM encoder");

    AVCodecContext *c = w->enc;
    c->width = a->width;
    c->height = a->height;
    c->pix_fmt = AV_PIX_FMT_YUVA420P;
    c->time_base = (AVRational){1, 1000};
    double fps = a->frame_count * 1000.0 / (double)ILD_MAX(ildiff_anim_duration_ms(a), 1);
    c->framerate = av_d2q(fps, 1000);
    c->bit_rate = 0;
    c->color_range = AVCOL_RANGE_MPEG;
    c->colorspace = AVCOL_SPC_SMPTE170M;
    c->color_primaries = AVCOL_PRI_BT709;
    c->color_trc = AVCOL_TRC_IEC61966_2_1;
    c->thread_count = 2;
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set_int(c->priv_data, "crf", webm_crf(opts->quality), 0);
    av_opt_set(c->priv_data, "deadline", "good", 0);
    av_opt_set_int(c->priv_data, "cpu-used", WEBM_CPU_USED, 0);
    av_opt_set_int(c->priv_data, "row-mt", 1, 0);
    av_opt_set_int(c->priv_data, "auto-alt-ref", 0, 0);
    r = avcodec_open2(c, codec, NULL);
    if (r < 0) return av_fail(r, "cannot open the VP9 encoder");

    r = avcodec_parameters_from_context(w->st->codecpar, c);
    if (r < 0) return av_fail(r, "cannot set the WebM stream parameters");
    w->st->time_base = (AVRational){1, 1000};

    w->frame->format = AV_PIX_FMT_YUVA420P;
    w->frame->width = a->width;
    w->frame->height = a->height;
    r = av_frame_get_buffer(w->frame, 0);
    if (r < 0) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a %dx%d VP9 frame", a->width, a->height);
    w->sws = sws_getContext(a->width, a->height, AV_PIX_FMT_RGBA, a->width, a->height, AV_PIX_FMT_YUVA420P,
                            SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!w->sws) return ild_fail(ILDIFF_ERR_INTERNAL, "cannot create the RGBA to YUVA converter");
    const int *bt601 = sws_getCoefficients(SWS_CS_ITU601);
    sws_setColorspaceDetails(w->sws, bt601, 1, bt601, 0, 0, 1 << 16, 1 << 16);

    r = avio_open_dyn_buf(&w->oc->pb);
    if (r < 0) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the WebM output");
    w->oc->pb->seekable = AVIO_SEEKABLE_NORMAL; /* the buffer can seek back: the muxer writes Duration and Cues */
    r = avformat_write_header(w->oc, NULL);
    if (r < 0) return av_fail(r, "cannot write the WebM header");
    return ILDIFF_OK;
}

/* Copies frame `src` (h, w, 4) to `dst`, giving each alpha-0 pixel the alpha-weighted mean colour of the visible
 * pixels in its 2x2 chroma block (unchanged when the block has none). */
static void fill_invisible(uint8_t *dst, const uint8_t *src, int32_t w, int32_t h)
{
    memcpy(dst, src, (size_t)w * (size_t)h * 4);
    for (int32_t by = 0; by < h; by += 2)
        for (int32_t bx = 0; bx < w; bx += 2) {
            uint32_t sum[3] = {0, 0, 0}, asum = 0, hidden = 0;
            for (int32_t y = by; y < by + 2 && y < h; y++)
                for (int32_t x = bx; x < bx + 2 && x < w; x++) {
                    const uint8_t *p = src + ((size_t)y * (size_t)w + (size_t)x) * 4;
                    for (int c = 0; c < 3; c++) sum[c] += (uint32_t)p[c] * p[3];
                    asum += p[3];
                    hidden += p[3] == 0;
                }
            if (hidden == 0 || asum == 0) continue;
            for (int32_t y = by; y < by + 2 && y < h; y++)
                for (int32_t x = bx; x < bx + 2 && x < w; x++) {
                    uint8_t *p = dst + ((size_t)y * (size_t)w + (size_t)x) * 4;
                    if (p[3] == 0)
                        for (int c = 0; c < 3; c++) p[c] = (uint8_t)((sum[c] + asum / 2) / asum);
                }
        }
}

/* Index of the frame starting at `pts` ms, or -1. */
static int32_t frame_at(const webm_writer *w, int64_t pts)
{
    int32_t lo = 0, hi = w->anim->frame_count - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (w->start_ms[mid] == pts) return mid;
        if (w->start_ms[mid] < pts) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Sends one frame (NULL to flush) and muxes every packet that comes out. */
static ildiff_status webm_send(webm_writer *w, const AVFrame *frame)
{
    int r = avcodec_send_frame(w->enc, frame);
    if (r < 0) return av_fail(r, "VP9 encoding failed");
    for (;;) {
        r = avcodec_receive_packet(w->enc, w->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return ILDIFF_OK;
        if (r < 0) return av_fail(r, "VP9 encoding failed");
        int32_t i = frame_at(w, w->pkt->pts);
        if (i >= 0) w->pkt->duration = ILD_MAX(w->anim->durations_ms[i], 1);
        w->pkt->stream_index = w->st->index;
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
        r = av_interleaved_write_frame(w->oc, w->pkt); /* takes the packet's data, leaves pkt blank */
        if (r < 0) return av_fail(r, "WebM muxing failed");
    }
}

/* Converts and encodes every frame, flushes, writes the trailer and hands over the bytes. */
static ildiff_status webm_encode_all(webm_writer *w, uint8_t **out, size_t *out_size)
{
    const ildiff_anim *a = w->anim;
    for (int32_t i = 0; i < a->frame_count; i++) {
        int r = av_frame_make_writable(w->frame);
        if (r < 0) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a VP9 frame");
        fill_invisible(w->scratch, ildiff_anim_frame(a, i), a->width, a->height);
        const uint8_t *src[4] = {w->scratch, NULL, NULL, NULL};
        int src_stride[4] = {a->width * 4, 0, 0, 0};
        sws_scale(w->sws, src, src_stride, 0, a->height, w->frame->data, w->frame->linesize);
        w->frame->pts = w->start_ms[i];
        ildiff_status st = webm_send(w, w->frame);
        if (st != ILDIFF_OK) return st;
    }
    ildiff_status st = webm_send(w, NULL);
    if (st != ILDIFF_OK) return st;
    int r = av_write_trailer(w->oc);
    if (r < 0) return av_fail(r, "cannot finish the WebM file");
    uint8_t *buf = NULL;
    int n = avio_close_dyn_buf(w->oc->pb, &buf);
    w->oc->pb = NULL;
    if (n <= 0 || !buf) {
        av_free(buf);
        return ild_fail(ILDIFF_ERR_INTERNAL, "the WebM muxer produced no data");
    }
    *out = malloc((size_t)n);
    if (!*out) {
        av_free(buf);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for %d bytes of WebM", n);
    }
    memcpy(*out, buf, (size_t)n);
    *out_size = (size_t)n;
    av_free(buf);
    return ILDIFF_OK;
}

ildiff_status ild_webm_encode(const ildiff_anim *anim, const ildiff_write_options *opts, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    ild_av_init();
    webm_writer w = {.anim = anim};
    w.start_ms = malloc(sizeof *w.start_ms * (size_t)anim->frame_count);
    w.scratch = malloc((size_t)anim->width * (size_t)anim->height * 4);
    if (!w.start_ms || !w.scratch) {
        webm_free(&w);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    }
    int64_t t = 0;
    for (int32_t i = 0; i < anim->frame_count; i++) {
        w.start_ms[i] = t;
        t += ILD_MAX(anim->durations_ms[i], 1);
    }
    ildiff_status st = webm_open(&w, opts);
    if (st == ILDIFF_OK) st = webm_encode_all(&w, out, out_size);
    webm_free(&w);
    return st;
}
