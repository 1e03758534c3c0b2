/*
 * fuzz_read.c: the libFuzzer target for one reader. fuzz/run.sh compiles it once per format with
 * -DFUZZ_FORMAT=ILDIFF_FORMAT_GIF (WEBP, PNG, JPEG, VIDEO, WEBM, TGS, LOTTIE, SVG) and feeds it bytes; the reader
 * must return a status (any) without crashing, reading out of bounds or leaking. Limits are small so a valid
 * but huge header is rejected quickly instead of exhausting memory.
 */
#include "ildiff.h"

#include <stdlib.h>

#ifndef FUZZ_FORMAT
#error "compile with -DFUZZ_FORMAT=ILDIFF_FORMAT_<NAME>"
#endif

static void quiet(ildiff_log_level level, const char *message, void *user_data) { (void)level, (void)message, (void)user_data; }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    ildiff_log_set(quiet, NULL, ILDIFF_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ildiff_limits lim = ildiff_limits_default();
    lim.max_width = 512;
    lim.max_height = 512;
    lim.max_frames = 64;
    lim.max_total_pixels = (int64_t)512 * 512 * 16;
    lim.max_file_bytes = 1 << 20;
    ildiff_anim *a = NULL;
    if (ildiff_anim_read_memory(data, size, FUZZ_FORMAT, &lim, &a) == ILDIFF_OK) {
        /* touch every pixel and duration so a short allocation shows up under ASan */
        size_t n = (size_t)a->width * (size_t)a->height * (size_t)a->frame_count * 4;
        volatile unsigned sum = 0;
        for (size_t i = 0; i < n; i++) sum += a->rgba[i];
        for (int32_t i = 0; i < a->frame_count; i++) sum += (unsigned)a->durations_ms[i];
        (void)sum;
        ildiff_anim_free(a);
    }
    return 0;
}
