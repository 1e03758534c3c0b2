/* error.c: status names, the thread-local last-error message, and the abort for broken invariants. */
#include "base.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512] = "no error";

static const char *const status_names[ILDIFF_STATUS_COUNT] = {
    [ILDIFF_OK] = "ok",
    [ILDIFF_ERR_IO] = "I/O error",
    [ILDIFF_ERR_FORMAT] = "format error",
    [ILDIFF_ERR_UNSUPPORTED] = "unsupported",
    [ILDIFF_ERR_LIMIT] = "over limit",
    [ILDIFF_ERR_NOMEM] = "out of memory",
    [ILDIFF_ERR_ARG] = "invalid argument",
    [ILDIFF_ERR_EXISTS] = "output exists",
    [ILDIFF_ERR_NOFIT] = "does not fit",
    [ILDIFF_ERR_INTERNAL] = "internal error",
};

const char *ildiff_status_name(ildiff_status status)
{
    if ((int)status < 0 || status >= ILDIFF_STATUS_COUNT) return "unknown status";
    return status_names[status];
}

const char *ildiff_last_error(void) { return last_error; }

ildiff_status ild_fail(ildiff_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    /* keep it one line: a library message with a newline would break "ildiff: FILE: reason" */
    for (char *p = last_error; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return status;
}

_Noreturn void ild_abort(const char *file, int line, const char *what)
{
    fprintf(stderr, "ildiff: internal error at %s:%d: assertion failed: %s\n", file, line, what);
    abort();
}

bool ild_mul_size(size_t *out, size_t a, size_t b) { return !__builtin_mul_overflow(a, b, out); }

bool ild_mul_size4(size_t *out, size_t a, size_t b, size_t c, size_t d)
{
    size_t ab, abc;
    return ild_mul_size(&ab, a, b) && ild_mul_size(&abc, ab, c) && ild_mul_size(out, abc, d);
}
