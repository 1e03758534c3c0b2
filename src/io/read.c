/* read.c: ildiff_anim_read: loads the file, sniffs its format from the bytes and hands it to that reader. */
#include "io.h"

#include <string.h>
#include <sys/stat.h>

/* Checks what every reader promises, so a reader bug is caught here and not in a user's output. */
static ildiff_status check_result(ildiff_status st, const ildiff_limits *limits, ildiff_anim **out)
{
    if (st != ILDIFF_OK) {
        ILD_ASSERT(*out == NULL);
        return st;
    }
    ildiff_anim *a = *out;
    ILD_ASSERT(a && a->rgba && a->durations_ms);
    ildiff_status lim = ild_check_dims(limits, a->width, a->height, a->frame_count);
    if (lim != ILDIFF_OK) {
        ildiff_anim_free(a);
        *out = NULL;
        return lim;
    }
    for (int32_t i = 0; i < a->frame_count; i++)
        if (a->durations_ms[i] < 1) a->durations_ms[i] = 1;
    return ILDIFF_OK;
}

ildiff_status ildiff_anim_read_memory(const uint8_t *data, size_t size, ildiff_format format, const ildiff_limits *limits,
                                      ildiff_anim **out)
{
    *out = NULL;
    if (size == 0) return ild_fail(ILDIFF_ERR_FORMAT, "empty file");
    const ildiff_limits *lim = ild_limits_or_default(limits);
    if (lim->max_file_bytes > 0 && (int64_t)size > lim->max_file_bytes)
        return ild_fail(ILDIFF_ERR_LIMIT, "%zu bytes exceeds limit %lld", size, (long long)lim->max_file_bytes);
    if (format == ILDIFF_FORMAT_UNKNOWN) format = ildiff_format_sniff(data, size);
    ildiff_status st;
    switch (format) {
    case ILDIFF_FORMAT_GIF: st = ild_gif_read(data, size, lim, out); break;
    case ILDIFF_FORMAT_WEBP: st = ild_webp_read(data, size, lim, out); break;
    case ILDIFF_FORMAT_PNG:
    case ILDIFF_FORMAT_APNG: st = ild_png_read(data, size, lim, out); break;
    case ILDIFF_FORMAT_JPEG: st = ild_jpeg_read(data, size, lim, out); break;
    case ILDIFF_FORMAT_VIDEO:
    case ILDIFF_FORMAT_WEBM: st = ild_video_read(data, size, lim, out); break;
    case ILDIFF_FORMAT_TGS:
    case ILDIFF_FORMAT_LOTTIE: st = ild_lottie_read(data, size, lim, out); break;
    case ILDIFF_FORMAT_SVG: st = ild_svg_read(data, size, lim, out); break;
    case ILDIFF_FORMAT_FRAMES: return ild_fail(ILDIFF_ERR_ARG, "a frames directory cannot be read from memory");
    default: return ild_fail(ILDIFF_ERR_UNSUPPORTED, "unrecognised file type");
    }
    return check_result(st, lim, out);
}

ildiff_status ildiff_anim_read(const char *path, const ildiff_limits *limits, ildiff_anim **out)
{
    *out = NULL;
    const ildiff_limits *lim = ild_limits_or_default(limits);
    struct stat st;
    if (stat(path, &st) != 0) return ild_fail(ILDIFF_ERR_IO, "no such file or directory");
    if (S_ISDIR(st.st_mode)) return check_result(ild_frames_read(path, lim, out), lim, out);
    uint8_t *data;
    size_t size;
    ildiff_status s = ildiff_read_file(path, lim->max_file_bytes, &data, &size);
    if (s != ILDIFF_OK) return s;
    s = ildiff_anim_read_memory(data, size, ILDIFF_FORMAT_UNKNOWN, lim, out);
    free(data);
    return s;
}
