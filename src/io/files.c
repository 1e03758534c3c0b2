/* files.c: whole-file reads and atomic writes (temporary name in the same directory, fsync, rename). */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ildiff_status ildiff_read_file(const char *path, int64_t max_bytes, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ild_fail(ILDIFF_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return ild_fail(ILDIFF_ERR_IO, "cannot stat: %s", strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return ild_fail(ILDIFF_ERR_IO, "is a directory");
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ild_fail(ILDIFF_ERR_IO, "not a regular file");
    }
    if (max_bytes > 0 && st.st_size > max_bytes) {
        close(fd);
        return ild_fail(ILDIFF_ERR_LIMIT, "file size %lld exceeds limit %lld (raise with --max-bytes)", (long long)st.st_size,
                        (long long)max_bytes);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory reading %zu bytes", size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = errno;
            free(buf);
            close(fd);
            return ild_fail(ILDIFF_ERR_IO, "read failed: %s", r == 0 ? "file shrank while reading" : strerror(e));
        }
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *out_size = size;
    return ILDIFF_OK;
}

/* 0666 less the process umask, as open(O_CREAT) would give. */
static mode_t default_file_mode(void)
{
    mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

static ildiff_status write_all(int fd, const uint8_t *data, size_t size)
{
    while (size > 0) {
        ssize_t w = write(fd, data, size);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return ild_fail(ILDIFF_ERR_IO, "write failed: %s", strerror(errno));
        data += w;
        size -= (size_t)w;
    }
    return ILDIFF_OK;
}

ildiff_status ildiff_write_file_atomic(const char *path, const uint8_t *data, size_t size, bool overwrite)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!overwrite) return ild_fail(ILDIFF_ERR_EXISTS, "already exists (use -y to overwrite)");
        if (S_ISDIR(st.st_mode)) return ild_fail(ILDIFF_ERR_EXISTS, "is a directory");
    }
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    /* Same directory as the target so rename() is atomic; the name starts like the target so a reader of the
     * directory sees what it belongs to. */
    snprintf(tmp, n + 32, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ildiff_status st2 = ild_fail(ILDIFF_ERR_IO, "cannot create: %s", strerror(errno));
        free(tmp);
        return st2;
    }
    ildiff_status st1 = write_all(fd, data, size);
    if (st1 == ILDIFF_OK && fsync(fd) != 0) st1 = ild_fail(ILDIFF_ERR_IO, "fsync failed: %s", strerror(errno));
    if (close(fd) != 0 && st1 == ILDIFF_OK) st1 = ild_fail(ILDIFF_ERR_IO, "close failed: %s", strerror(errno));
    if (st1 == ILDIFF_OK) chmod(tmp, default_file_mode()); /* mkstemp makes 0600; outputs are ordinary files */
    if (st1 == ILDIFF_OK && rename(tmp, path) != 0) st1 = ild_fail(ILDIFF_ERR_IO, "cannot rename into place: %s", strerror(errno));
    if (st1 != ILDIFF_OK) unlink(tmp);
    free(tmp);
    return st1;
}

bool ildiff_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
