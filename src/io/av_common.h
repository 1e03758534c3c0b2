/*
 * av_common.h: what the FFmpeg-based reader and writer share: FFmpeg's log routed to ild_log at debug level
 * (FFmpeg never prints on its own), and its last error line kept to explain a failure. Internal.
 */
#ifndef ILDIFF_AV_COMMON_H
#define ILDIFF_AV_COMMON_H

#include "io.h"

/* Installs the log routing once per process (thread-safe) and clears this thread's last FFmpeg message. */
void ild_av_init(void);

/* Writes a one-line reason for FFmpeg error code `err` into buf: av_strerror's text, then FFmpeg's last error
 * log line on this thread in parentheses when there was one. Returns buf. */
const char *ild_av_reason(int err, char *buf, size_t size);

#endif
