/* av_common.c: FFmpeg log routing and error text for video_read.c and webm_write.c. See av_common.h. */
#include "av_common.h"

#include <libavutil/error.h>
#include <libavutil/log.h>
#include <pthread.h>
#include <string.h>

static _Thread_local char last_line[512];

static void log_callback(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > AV_LOG_WARNING) return;
    char line[512];
    int print_prefix = 0; /* the message alone, without "[mov,mp4 @ 0x...]" */
    va_list copy;
    va_copy(copy, vl);
    av_log_format_line2(avcl, level, fmt, copy, line, sizeof line, &print_prefix);
    va_end(copy);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (n == 0) return;
    if (level <= AV_LOG_ERROR) snprintf(last_line, sizeof last_line, "%s", line);
    ILD_DEBUG("ffmpeg: %s", line);
}

static void install(void) { av_log_set_callback(log_callback); }

void ild_av_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
    last_line[0] = 0;
}

const char *ild_av_reason(int err, char *buf, size_t size)
{
    char text[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, text, sizeof text);
    if (last_line[0])
        snprintf(buf, size, "%s (%s)", text, last_line);
    else
        snprintf(buf, size, "%s", text);
    return buf;
}
