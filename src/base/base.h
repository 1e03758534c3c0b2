/*
 * base.h: internal helpers shared by every part of libildiff (errors, logging, checked allocation, limits).
 * Not part of the public API.
 */
#ifndef ILDIFF_BASE_H
#define ILDIFF_BASE_H

#include "ildiff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Records `status` and a printf-style one-line reason as this thread's last error; returns `status`, so a
 * failure path reads `return ild_fail(ILDIFF_ERR_FORMAT, "bad GIF header");`. */
ildiff_status ild_fail(ildiff_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends one message through the log callback. */
void ild_log(ildiff_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ILD_DEBUG(...) ild_log(ILDIFF_LOG_DEBUG, __VA_ARGS__)
#define ILD_INFO(...) ild_log(ILDIFF_LOG_INFO, __VA_ARGS__)
#define ILD_WARN(...) ild_log(ILDIFF_LOG_WARN, __VA_ARGS__)

/* Programmer errors (broken invariants, never bad input) abort with file:line. */
#define ILD_ASSERT(cond)                                                                                       \
    do {                                                                                                       \
        if (!(cond)) ild_abort(__FILE__, __LINE__, #cond);                                                     \
    } while (0)
_Noreturn void ild_abort(const char *file, int line, const char *what);

/* Checks width/height/frames against the limits before anything is allocated. Returns ILDIFF_OK or a
 * ILDIFF_ERR_LIMIT / ILDIFF_ERR_FORMAT failure naming the offending value. `limits` may be NULL (defaults). */
ildiff_status ild_check_dims(const ildiff_limits *limits, int64_t width, int64_t height, int64_t frames);

/* The limits to use when the caller passed NULL. */
const ildiff_limits *ild_limits_or_default(const ildiff_limits *limits);

/* Overflow-checked size arithmetic: returns false if a*b (or a*b*c*d) does not fit in size_t. */
bool ild_mul_size(size_t *out, size_t a, size_t b);
bool ild_mul_size4(size_t *out, size_t a, size_t b, size_t c, size_t d);

#define ILD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ILD_MAX(a, b) ((a) > (b) ? (a) : (b))
#define ILD_CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))

#endif
