/* limits.c: the size limits every reader checks before it allocates. */
#include "base.h"

ildiff_limits ildiff_limits_default(void)
{
    return (ildiff_limits){
        .max_width = 4096,
        .max_height = 4096,
        .max_frames = 1000,
        .max_total_pixels = (int64_t)1 << 28,
        .max_file_bytes = (int64_t)1 << 30,
    };
}

const ildiff_limits *ild_limits_or_default(const ildiff_limits *limits)
{
    static const ildiff_limits defaults = {4096, 4096, 1000, (int64_t)1 << 28, (int64_t)1 << 30};
    return limits ? limits : &defaults;
}

ildiff_status ild_check_dims(const ildiff_limits *limits, int64_t width, int64_t height, int64_t frames)
{
    const ildiff_limits *l = ild_limits_or_default(limits);
    if (width <= 0 || height <= 0) return ild_fail(ILDIFF_ERR_FORMAT, "invalid size %lldx%lld", (long long)width, (long long)height);
    if (frames <= 0) return ild_fail(ILDIFF_ERR_FORMAT, "no frames");
    if (width > l->max_width)
        return ild_fail(ILDIFF_ERR_LIMIT, "width %lld exceeds limit %d (raise with --max-width)", (long long)width, l->max_width);
    if (height > l->max_height)
        return ild_fail(ILDIFF_ERR_LIMIT, "height %lld exceeds limit %d (raise with --max-height)", (long long)height,
                        l->max_height);
    if (frames > l->max_frames)
        return ild_fail(ILDIFF_ERR_LIMIT, "frame count %lld exceeds limit %d (raise with --max-frames)", (long long)frames,
                        l->max_frames);
    /* each factor is now <= 2^31, but the product of three can still overflow int64 */
    int64_t pixels;
    if (__builtin_mul_overflow(width * height, frames, &pixels) || pixels > l->max_total_pixels)
        return ild_fail(ILDIFF_ERR_LIMIT, "%lldx%lld x %lld frames exceeds the pixel limit %lld (raise with --max-pixels)",
                        (long long)width, (long long)height, (long long)frames, (long long)l->max_total_pixels);
    return ILDIFF_OK;
}
