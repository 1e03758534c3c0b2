/*
 * video_read.c: ild_video_read: MP4/MOV/MKV/WebM from memory through libavformat (a custom AVIOContext over the
 * buffer), the first video stream decoded by libavcodec and converted to straight RGBA by libswscale.
 *
 * - Only the mov/mp4 and matroska/webm demuxers are allowed; other containers are rejected, and the demuxer can
 *   open nothing but the given buffer. Audio and other streams are ignored.
 * - VP8/VP9 with alpha (stream tag alpha_mode=1) is decoded by libvpx ("libvpx-vp9" / "libvpx"), the only FFmpeg
 *   decoders that read the alpha plane; yuva420p keeps it through the conversion. Everything else is opaque.
 * - Frame i lasts pts[i+1] - pts[i] (in ms); the last frame its packet duration, else what the container's
 *   duration leaves, else 1/fps (40 ms when the stream has no rate).
 * - Frames are counted against the limits as they are decoded (ILDIFF_ERR_LIMIT at the first one over).
 *   Decoders run with AV_EF_EXPLODE, so corrupt data is an error, not a concealed frame; a truncated file, a
 *   read error, a Matroska segment longer than the file, or zero decoded frames is ILDIFF_ERR_FORMAT.
 * - Frames whose size changes mid-stream are scaled to the first frame's size.
 */
#include "av_common.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <string.h>

#define VIDEO_IO_BUFFER 32768
#define VIDEO_DEFAULT_FRAME_MS 40
#define VIDEO_ROW_SLACK 64 /* bytes after the last row: room for swscale's SIMD tails */

/* The input buffer as an AVIOContext source. */
typedef struct mem_source {
    const uint8_t *data;
    size_t size, pos;
} mem_source;

static int mem_read(void *opaque, uint8_t *buf, int n)
{
    mem_source *m = opaque;
    if (n <= 0) return 0;
    if (m->pos >= m->size) return AVERROR_EOF;
    size_t k = ILD_MIN((size_t)n, m->size - m->pos);
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (int)k;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
    mem_source *m = opaque;
    if (whence & AVSEEK_SIZE) return (int64_t)m->size;
    int64_t base;
    switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)m->pos; break;
    case SEEK_END: base = (int64_t)m->size; break;
    default: return AVERROR(EINVAL);
    }
    if (offset > (int64_t)m->size - base || offset < -base) return AVERROR(EINVAL);
    m->pos = (size_t)(base + offset);
    return (int64_t)m->pos;
}

/* An EBML variable-length number at d[*pos]: with its length marker kept (element IDs) or stripped (sizes).
 * Returns false past the end or for an invalid first byte. *unknown is set for the all-ones "unknown size". */
static bool ebml_vint(const uint8_t *d, size_t n, size_t *pos, bool keep_marker, uint64_t *v, bool *unknown)
{
    if (*pos >= n || d[*pos] == 0) return false;
    int len = 1;
    while (!(d[*pos] & (0x80 >> (len - 1)))) len++;
    if ((size_t)len > n - *pos) return false;
    uint64_t x = keep_marker ? d[*pos] : (uint64_t)(d[*pos] & (0xff >> len));
    bool ones = x == (uint64_t)(0xff >> len);
    for (int i = 1; i < len; i++) x = x << 8 | d[*pos + i], ones &= d[*pos + i] == 0xff;
    *pos += (size_t)len;
    *v = x;
    if (unknown) *unknown = ones;
    return true;
}

/* Matroska/WebM whose Segment claims more bytes than the file holds is truncated (FFmpeg's demuxer just stops
 * early there, so this is checked here). Other inputs, and segments of unknown size, pass. */
static ildiff_status check_matroska_complete(const uint8_t *d, size_t n)
{
    size_t pos = 0;
    uint64_t id, size;
    bool unknown;
    if (n < 4 || memcmp(d, "\x1a\x45\xdf\xa3", 4) != 0) return ILDIFF_OK;
    if (!ebml_vint(d, n, &pos, true, &id, NULL) || !ebml_vint(d, n, &pos, false, &size, &unknown) || unknown ||
        size > n - pos)
        return ild_fail(ILDIFF_ERR_FORMAT, "truncated or corrupt EBML header");
    pos += (size_t)size;
    if (!ebml_vint(d, n, &pos, true, &id, NULL) || id != 0x18538067 || !ebml_vint(d, n, &pos, false, &size, &unknown))
        return ild_fail(ILDIFF_ERR_FORMAT, "Matroska file without a Segment");
    if (!unknown && size > n - pos)
        return ild_fail(ILDIFF_ERR_FORMAT, "truncated Matroska/WebM: the segment needs %llu bytes, %zu are present",
                        (unsigned long long)size, n - pos);
    return ILDIFF_OK;
}

/* Everything one read holds; released by video_free. */
typedef struct video_reader {
    mem_source src;
    AVIOContext *io;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    struct SwsContext *sws;
    AVPacket *pkt;
    AVFrame *frame;
    const AVStream *st;
    const ildiff_limits *lim;
    int stream;
    int32_t width, height;  /* output size: the first frame's */
    int32_t count, cap;     /* frames decoded, frames allocated */
    uint8_t *rgba;          /* (cap, height, width, 4) + VIDEO_ROW_SLACK */
    int64_t *pts;           /* (cap) in stream time base, AV_NOPTS_VALUE when unknown */
    int64_t last_duration;  /* packet duration of the last frame, stream time base; 0 = unknown */
    bool alpha;             /* some frame had an alpha plane */
} video_reader;

static void video_free(video_reader *v)
{
    av_frame_free(&v->frame);
    av_packet_free(&v->pkt);
    sws_freeContext(v->sws);
    avcodec_free_context(&v->dec);
    avformat_close_input(&v->fmt);
    if (v->io) av_freep(&v->io->buffer);
    avio_context_free(&v->io);
    free(v->rgba);
    free(v->pts);
}

/* FORMAT failure with FFmpeg's explanation of `err`. */
static ildiff_status av_fail(int err, const char *what)
{
    char reason[640];
    return ild_fail(ILDIFF_ERR_FORMAT, "%s: %s", what, ild_av_reason(err, reason, sizeof reason));
}

/* Opens the container from memory and picks the video stream. */
static ildiff_status video_open(video_reader *v)
{
    uint8_t *buf = av_malloc(VIDEO_IO_BUFFER);
    if (buf) v->io = avio_alloc_context(buf, VIDEO_IO_BUFFER, 0, &v->src, mem_read, NULL, mem_seek);
    if (!v->io) {
        av_free(buf);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the video reader");
    }
    v->fmt = avformat_alloc_context();
    if (!v->fmt) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the video reader");
    v->fmt->pb = v->io;
    v->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "format_whitelist", "mov,matroska", 0);
    av_dict_set(&opts, "protocol_whitelist", "none", 0);
    int r = avformat_open_input(&v->fmt, NULL, NULL, &opts);
    av_dict_free(&opts);
    if (r < 0) return av_fail(r, "not a readable MP4/MOV/MKV/WebM file");
    r = avformat_find_stream_info(v->fmt, NULL);
    if (r < 0) return av_fail(r, "cannot read the video's stream info");
    v->stream = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (v->stream < 0) return ild_fail(ILDIFF_ERR_FORMAT, "no video stream");
    for (unsigned i = 0; i < v->fmt->nb_streams; i++)
        if ((int)i != v->stream) v->fmt->streams[i]->discard = AVDISCARD_ALL;
    v->st = v->fmt->streams[v->stream];
    const AVCodecParameters *par = v->st->codecpar;
    if (par->width > 0 && par->height > 0) return ild_check_dims(v->lim, par->width, par->height, 1);
    return ILDIFF_OK;
}

/* Opens the decoder: libvpx for VP8/VP9 with alpha, FFmpeg's default otherwise. */
static ildiff_status video_open_decoder(video_reader *v)
{
    const AVCodecParameters *par = v->st->codecpar;
    const AVDictionaryEntry *tag = av_dict_get(v->st->metadata, "alpha_mode", NULL, 0);
    bool alpha = tag && strcmp(tag->value, "1") == 0;
    const AVCodec *codec = NULL;
    if (alpha && par->codec_id == AV_CODEC_ID_VP9) codec = avcodec_find_decoder_by_name("libvpx-vp9");
    if (alpha && par->codec_id == AV_CODEC_ID_VP8) codec = avcodec_find_decoder_by_name("libvpx");
    if (alpha && !codec) ILD_WARN("no libvpx decoder in this FFmpeg: the video's alpha channel is dropped");
    if (!codec) codec = avcodec_find_decoder(par->codec_id);
    if (!codec) return ild_fail(ILDIFF_ERR_UNSUPPORTED, "no decoder for video codec %s", avcodec_get_name(par->codec_id));
    v->dec = avcodec_alloc_context3(codec);
    if (!v->dec) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the video decoder");
    int r = avcodec_parameters_to_context(v->dec, par);
    if (r < 0) return av_fail(r, "bad codec parameters");
    v->dec->pkt_timebase = v->st->time_base;
    v->dec->err_recognition |= AV_EF_EXPLODE;
    /* One thread: FFmpeg 5.1's frame-threaded decoders hit an internal assert (abort) on some corrupt MPEG-4
     * streams when AV_EF_EXPLODE is set (fuzz/regressions/video/). Sticker clips are short, so one thread costs little. */
    v->dec->thread_count = 1;
    r = avcodec_open2(v->dec, codec, NULL);
    if (r < 0) return av_fail(r, "cannot open the video decoder");
    v->pkt = av_packet_alloc();
    v->frame = av_frame_alloc();
    if (!v->pkt || !v->frame) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for video frames");
    return ILDIFF_OK;
}

/* Makes room for frame v->count (doubling), after checking the count against the limits. */
static ildiff_status video_grow(video_reader *v)
{
    ildiff_status st = ild_check_dims(v->lim, v->width, v->height, (int64_t)v->count + 1);
    if (st != ILDIFF_OK) return st;
    if (v->count < v->cap) return ILDIFF_OK;
    int32_t cap = v->cap ? (int32_t)ILD_MIN((int64_t)v->cap * 2, (int64_t)v->lim->max_frames) : 8;
    cap = ILD_MAX(cap, v->count + 1);
    size_t bytes;
    if (!ild_mul_size4(&bytes, (size_t)cap, (size_t)v->width, (size_t)v->height, 4) || bytes > SIZE_MAX - VIDEO_ROW_SLACK)
        return ild_fail(ILDIFF_ERR_LIMIT, "video too large");
    uint8_t *rgba = realloc(v->rgba, bytes + VIDEO_ROW_SLACK);
    if (!rgba) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for %d video frames of %dx%d", cap, v->width, v->height);
    v->rgba = rgba;
    int64_t *pts = realloc(v->pts, sizeof *pts * (size_t)cap);
    if (!pts) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for video timestamps");
    v->pts = pts;
    v->cap = cap;
    return ILDIFF_OK;
}

/* Converts v->frame to RGBA and appends it. */
static ildiff_status video_append(video_reader *v)
{
    const AVFrame *f = v->frame;
    if (f->width <= 0 || f->height <= 0) return ild_fail(ILDIFF_ERR_FORMAT, "decoded frame has no size");
    if (v->count == 0) {
        ildiff_status st = ild_check_dims(v->lim, f->width, f->height, 1);
        if (st != ILDIFF_OK) return st;
        v->width = f->width, v->height = f->height;
    }
    ildiff_status st = video_grow(v);
    if (st != ILDIFF_OK) return st;
    v->sws = sws_getCachedContext(v->sws, f->width, f->height, f->format, v->width, v->height, AV_PIX_FMT_RGBA,
                                  SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
    if (!v->sws) return ild_fail(ILDIFF_ERR_UNSUPPORTED, "cannot convert pixel format %s", av_get_pix_fmt_name(f->format));
    int src_full = f->color_range == AVCOL_RANGE_JPEG;
    sws_setColorspaceDetails(v->sws, sws_getCoefficients(f->colorspace), src_full, sws_getCoefficients(SWS_CS_DEFAULT), 1,
                             0, 1 << 16, 1 << 16);
    size_t frame_bytes = (size_t)v->width * (size_t)v->height * 4;
    uint8_t *dst[4] = {v->rgba + frame_bytes * (size_t)v->count, NULL, NULL, NULL};
    int dst_stride[4] = {v->width * 4, 0, 0, 0};
    if (sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride) != v->height)
        return ild_fail(ILDIFF_ERR_INTERNAL, "swscale failed on a %dx%d %s frame", f->width, f->height,
                        av_get_pix_fmt_name(f->format));
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(f->format);
    if (desc && (desc->flags & AV_PIX_FMT_FLAG_ALPHA)) v->alpha = true;
    v->pts[v->count] = f->best_effort_timestamp;
    v->last_duration = f->pkt_duration;
    v->count++;
    return ILDIFF_OK;
}

/* Receives every frame the decoder has ready. */
static ildiff_status video_drain(video_reader *v)
{
    for (;;) {
        int r = avcodec_receive_frame(v->dec, v->frame);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return ILDIFF_OK;
        if (r < 0) return av_fail(r, "corrupt video data");
        ildiff_status st = video_append(v);
        av_frame_unref(v->frame);
        if (st != ILDIFF_OK) return st;
    }
}

/* Reads and decodes every packet of the video stream. */
static ildiff_status video_decode_all(video_reader *v)
{
    int r;
    while ((r = av_read_frame(v->fmt, v->pkt)) >= 0) {
        if (v->pkt->stream_index != v->stream) {
            av_packet_unref(v->pkt);
            continue;
        }
        bool corrupt = v->pkt->flags & AV_PKT_FLAG_CORRUPT;
        int s = corrupt ? 0 : avcodec_send_packet(v->dec, v->pkt);
        av_packet_unref(v->pkt);
        if (corrupt) return ild_fail(ILDIFF_ERR_FORMAT, "truncated or corrupt video packet");
        if (s < 0) return av_fail(s, "corrupt video data");
        ildiff_status st = video_drain(v);
        if (st != ILDIFF_OK) return st;
    }
    if (r != AVERROR_EOF) return av_fail(r, "truncated or corrupt video");
    r = avcodec_send_packet(v->dec, NULL);
    if (r < 0 && r != AVERROR_EOF) return av_fail(r, "corrupt video data");
    ildiff_status st = video_drain(v);
    if (st != ILDIFF_OK) return st;
    if (v->count == 0) return ild_fail(ILDIFF_ERR_FORMAT, "no video frames could be decoded");
    return ILDIFF_OK;
}

/* Milliseconds of one frame at the stream's frame rate, VIDEO_DEFAULT_FRAME_MS without one. */
static double video_frame_ms(const video_reader *v)
{
    AVRational fr = v->st->avg_frame_rate.num > 0 && v->st->avg_frame_rate.den > 0 ? v->st->avg_frame_rate : v->st->r_frame_rate;
    if (fr.num > 0 && fr.den > 0 && av_q2d(fr) >= 0.1 && av_q2d(fr) <= 1000) return 1000.0 / av_q2d(fr);
    return VIDEO_DEFAULT_FRAME_MS;
}

/* A timestamp in ms, clamped to +-2^52 so differences of two cannot overflow whatever the file claims. */
static int64_t to_ms(int64_t ts, AVRational time_base)
{
    int64_t t = av_rescale_q(ts, time_base, (AVRational){1, 1000});
    return ILD_CLAMP(t, -((int64_t)1 << 52), (int64_t)1 << 52);
}

/* Fills durations (count) in ms from the timestamps; see the file comment. */
static void video_durations(const video_reader *v, int32_t *durations)
{
    double frame_ms = video_frame_ms(v);
    bool have_pts = true;
    for (int32_t i = 0; i < v->count; i++) have_pts &= v->pts[i] != AV_NOPTS_VALUE;
    if (!have_pts) {
        for (int32_t i = 0; i < v->count; i++)
            durations[i] = (int32_t)ILD_MAX(1, llround((i + 1) * frame_ms) - llround(i * frame_ms));
        return;
    }
    for (int32_t i = 0; i + 1 < v->count; i++) {
        int64_t d = to_ms(v->pts[i + 1], v->st->time_base) - to_ms(v->pts[i], v->st->time_base);
        durations[i] = (int32_t)ILD_CLAMP(d, 1, INT32_MAX);
    }
    int64_t last = 0, last_pts = v->pts[v->count - 1], last_ms = to_ms(last_pts, v->st->time_base);
    if (v->last_duration > 0) {
        last = to_ms(av_sat_add64(last_pts, v->last_duration), v->st->time_base) - last_ms;
    } else if (v->fmt->duration > 0 && v->fmt->duration != AV_NOPTS_VALUE) {
        int64_t start = v->fmt->start_time != AV_NOPTS_VALUE ? v->fmt->start_time : 0;
        last = to_ms(av_sat_add64(start, v->fmt->duration), AV_TIME_BASE_Q) - last_ms;
    }
    if (last <= 0 || last > 10 * frame_ms + 1000) last = llround(frame_ms);
    durations[v->count - 1] = (int32_t)ILD_CLAMP(last, 1, INT32_MAX);
}

/* WebM = VP8/VP9 in Matroska. */
static bool video_is_webm(const video_reader *v)
{
    enum AVCodecID id = v->st->codecpar->codec_id;
    return strncmp(v->fmt->iformat->name, "matroska", 8) == 0 && (id == AV_CODEC_ID_VP8 || id == AV_CODEC_ID_VP9);
}

ildiff_status ild_video_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out)
{
    *out = NULL;
    ild_av_init();
    video_reader v = {.src = {data, size, 0}, .lim = ild_limits_or_default(limits)};
    ildiff_status st = check_matroska_complete(data, size);
    if (st == ILDIFF_OK) st = video_open(&v);
    if (st == ILDIFF_OK) st = video_open_decoder(&v);
    if (st == ILDIFF_OK) st = video_decode_all(&v);
    ildiff_anim *a = NULL;
    if (st == ILDIFF_OK) {
        a = calloc(1, sizeof *a);
        int32_t *durations = malloc(sizeof *durations * (size_t)v.count);
        if (!a || !durations) {
            free(a);
            free(durations);
            st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        } else {
            video_durations(&v, durations);
            *a = (ildiff_anim){.width = v.width, .height = v.height, .frame_count = v.count, .rgba = v.rgba,
                               .durations_ms = durations, .loop_count = 0,
                               .source = video_is_webm(&v) ? ILDIFF_FORMAT_WEBM : ILDIFF_FORMAT_VIDEO,
                               .source_has_alpha = v.alpha};
            v.rgba = NULL; /* now owned by the animation */
            *out = a;
        }
    }
    video_free(&v);
    return st;
}
