/* anim.c: the animation type: allocation, frame access, simple queries. */
#include "io.h"

#include <string.h>

ildiff_status ildiff_anim_new(int32_t width, int32_t height, int32_t frame_count, int32_t duration_ms, ildiff_anim **out)
{
    *out = NULL;
    if (width <= 0 || height <= 0 || frame_count <= 0 || duration_ms <= 0)
        return ild_fail(ILDIFF_ERR_ARG, "invalid animation %dx%d, %d frames, %d ms", width, height, frame_count, duration_ms);
    size_t bytes;
    if (!ild_mul_size4(&bytes, (size_t)width, (size_t)height, (size_t)frame_count, 4))
        return ild_fail(ILDIFF_ERR_LIMIT, "animation too large");
    ildiff_anim *a = calloc(1, sizeof *a);
    if (!a) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    a->rgba = calloc(bytes, 1);
    a->durations_ms = malloc(sizeof(int32_t) * (size_t)frame_count);
    if (!a->rgba || !a->durations_ms) {
        ildiff_anim_free(a);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for %dx%d x %d frames", width, height, frame_count);
    }
    a->width = width;
    a->height = height;
    a->frame_count = frame_count;
    for (int32_t i = 0; i < frame_count; i++) a->durations_ms[i] = duration_ms;
    a->loop_count = 0;
    a->source = ILDIFF_FORMAT_UNKNOWN;
    *out = a;
    return ILDIFF_OK;
}

void ildiff_anim_free(ildiff_anim *anim)
{
    if (!anim) return;
    free(anim->rgba);
    free(anim->durations_ms);
    free(anim);
}

uint8_t *ildiff_anim_frame(const ildiff_anim *anim, int32_t i)
{
    ILD_ASSERT(i >= 0 && i < anim->frame_count);
    return anim->rgba + (size_t)i * (size_t)anim->width * (size_t)anim->height * 4;
}

int64_t ildiff_anim_duration_ms(const ildiff_anim *anim)
{
    int64_t total = 0;
    for (int32_t i = 0; i < anim->frame_count; i++) total += anim->durations_ms[i];
    return total;
}

bool ildiff_anim_has_alpha(const ildiff_anim *anim)
{
    size_t n = (size_t)anim->width * (size_t)anim->height * (size_t)anim->frame_count;
    for (size_t i = 0; i < n; i++)
        if (anim->rgba[i * 4 + 3] != 255) return true;
    return false;
}

int32_t ild_effective_loop(const ildiff_anim *anim, const ildiff_write_options *opts)
{
    return (opts && opts->loop_count >= 0) ? opts->loop_count : anim->loop_count;
}
