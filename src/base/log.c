/* log.c: the library's only way to print: a replaceable callback with a minimum level. */
#include "base.h"

static void log_to_stderr(ildiff_log_level level, const char *message, void *user_data)
{
    (void)user_data;
    static const char *const prefix[] = {"debug: ", "", "warning: ", "error: "};
    fprintf(stderr, "ildiff: %s%s\n", prefix[level], message);
}

static ildiff_log_fn log_fn = log_to_stderr;
static void *log_user_data = NULL;
static ildiff_log_level log_min_level = ILDIFF_LOG_WARN;

void ildiff_log_set(ildiff_log_fn fn, void *user_data, ildiff_log_level min_level)
{
    log_fn = fn ? fn : log_to_stderr;
    log_user_data = user_data;
    log_min_level = min_level;
}

void ild_log(ildiff_log_level level, const char *fmt, ...)
{
    if (level < log_min_level) return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    log_fn(level, message, log_user_data);
}
