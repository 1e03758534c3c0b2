/* write.c: ildiff_anim_encode / ildiff_anim_write: pick the encoder, then write atomically. */
#include "io.h"

ildiff_write_options ildiff_write_options_default(void)
{
    return (ildiff_write_options){
        .quality = 90.0f,
        .alpha_quality = 100.0f,
        .lossless = false,
        .method = 4,
        .kmin = 0,
        .kmax = 1,
        .gif_alpha = ILDIFF_GIF_ALPHA_THRESHOLD,
        .gif_threshold = 128,
        .matte = {255, 255, 255},
        .loop_count = -1,
        .overwrite = false,
    };
}

static ildiff_status check_anim(const ildiff_anim *a)
{
    if (!a || !a->rgba || !a->durations_ms || a->width <= 0 || a->height <= 0 || a->frame_count <= 0)
        return ild_fail(ILDIFF_ERR_ARG, "invalid animation");
    return ILDIFF_OK;
}

ildiff_status ildiff_anim_encode(const ildiff_anim *anim, ildiff_format format, const ildiff_write_options *opts,
                                 uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    ildiff_status st = check_anim(anim);
    if (st != ILDIFF_OK) return st;
    ildiff_write_options defaults = ildiff_write_options_default();
    if (!opts) opts = &defaults;
    switch (format) {
    case ILDIFF_FORMAT_GIF: return ild_gif_encode(anim, opts, out, out_size);
    case ILDIFF_FORMAT_WEBP: return ild_webp_encode(anim, opts, out, out_size);
    case ILDIFF_FORMAT_PNG:
    case ILDIFF_FORMAT_APNG: return ild_apng_encode(anim, opts, out, out_size);
    case ILDIFF_FORMAT_WEBM: return ild_webm_encode(anim, opts, out, out_size);
    default:
        return ild_fail(ILDIFF_ERR_UNSUPPORTED, "cannot write %s (writable: webp, png/apng, gif, webm, a directory)",
                        ildiff_format_name(format));
    }
}

ildiff_status ildiff_anim_write(const ildiff_anim *anim, const char *path, ildiff_format format,
                                const ildiff_write_options *opts)
{
    ildiff_write_options defaults = ildiff_write_options_default();
    if (!opts) opts = &defaults;
    if (format == ILDIFF_FORMAT_UNKNOWN) format = ildiff_format_from_path(path);
    if (format == ILDIFF_FORMAT_FRAMES) {
        ildiff_status st = check_anim(anim);
        return st != ILDIFF_OK ? st : ild_frames_write(anim, path, opts->overwrite);
    }
    uint8_t *data;
    size_t size;
    ildiff_status st = ildiff_anim_encode(anim, format, opts, &data, &size);
    if (st != ILDIFF_OK) return st;
    st = ildiff_write_file_atomic(path, data, size, opts->overwrite);
    free(data);
    return st;
}
