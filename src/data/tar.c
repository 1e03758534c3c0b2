/*
 * tar.c: growable byte buffers (and ild_fail_in, which prefixes the last error), and a small POSIX ustar writer
 * and reader for the corpus shards. Entries are regular files with fixed metadata (mode 0644, uid/gid 0, mtime 0),
 * so the same content gives the same bytes.
 * The reader walks an archive held in memory and never reads outside it.
 */
#include "dataset.h"

#include <stdarg.h>
#include <string.h>

ildiff_status ild_buf_append(ild_buf *b, const void *data, size_t n)
{
    if (b->size + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->size + n + 1) cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
        b->data = d;
        b->cap = cap;
    }
    if (n && data) memcpy(b->data + b->size, data, n); /* NULL data reserves n bytes */
    b->size += n;
    b->data[b->size] = 0;
    return ILDIFF_OK;
}

ildiff_status ild_buf_printf(ild_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return ild_fail(ILDIFF_ERR_INTERNAL, "bad format string");
    if ((size_t)n < sizeof small) return ild_buf_append(b, small, (size_t)n);
    ildiff_status st = ild_buf_append(b, NULL, (size_t)n);
    if (st != ILDIFF_OK) return st;
    b->size -= (size_t)n;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->size, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->size += (size_t)n;
    return ILDIFF_OK;
}

ildiff_status ild_fail_in(ildiff_status st, const char *where)
{
    char reason[512];
    snprintf(reason, sizeof reason, "%s", ildiff_last_error());
    return ild_fail(st, "%s: %s", where, reason);
}

void ild_buf_free(ild_buf *b)
{
    free(b->data);
    *b = (ild_buf){0};
}

ildiff_status ild_tar_add(ild_buf *tar, const char *name, const uint8_t *data, size_t size)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl > 99) return ild_fail(ILDIFF_ERR_ARG, "tar entry name '%s' is empty or over 99 bytes", name);
    if (size > 077777777777ULL) return ild_fail(ILDIFF_ERR_LIMIT, "tar entry %s is over 8 GiB", name);
    uint8_t h[512] = {0};
    memcpy(h, name, nl);
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0000000", 7);
    memcpy(h + 116, "0000000", 7);
    snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
    memcpy(h + 136, "00000000000", 11);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
    static const uint8_t zero[512];
    ildiff_status st = ild_buf_append(tar, h, 512);
    if (st == ILDIFF_OK) st = ild_buf_append(tar, data, size);
    if (st == ILDIFF_OK && size % 512) st = ild_buf_append(tar, zero, 512 - size % 512);
    return st;
}

ildiff_status ild_tar_end(ild_buf *tar)
{
    static const uint8_t zero[1024];
    return ild_buf_append(tar, zero, sizeof zero);
}

static uint64_t octal(const uint8_t *p, size_t n, bool *ok)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && p[i] == ' ') i++;
    if (i == n || p[i] < '0' || p[i] > '7') *ok = false;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v >> 60) *ok = false;
        v = v * 8 + (uint64_t)(p[i] - '0');
    }
    return v;
}

ildiff_status ild_tar_each(const uint8_t *data, size_t size,
                           int (*fn)(const char *name, const uint8_t *data, size_t size, void *user), void *user)
{
    size_t off = 0;
    while (off + 512 <= size) {
        const uint8_t *h = data + off;
        bool zero = true;
        for (int i = 0; i < 512 && zero; i++) zero = h[i] == 0;
        if (zero) return ILDIFF_OK;
        bool ok = true;
        uint64_t want = octal(h + 148, 8, &ok), sum = 0;
        for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
        uint64_t len = octal(h + 124, 12, &ok);
        if (!ok || sum != want) return ild_fail(ILDIFF_ERR_FORMAT, "tar header at byte %zu is corrupt", off);
        if (len > size - off - 512) return ild_fail(ILDIFF_ERR_FORMAT, "tar entry at byte %zu runs past the end", off);
        char name[101];
        memcpy(name, h, 100);
        name[100] = 0;
        if ((h[156] == '0' || h[156] == 0) && fn(name, h + 512, (size_t)len, user)) return ILDIFF_OK;
        size_t padded = (size_t)((len + 511) / 512 * 512);
        if (padded > size - off - 512) return ild_fail(ILDIFF_ERR_FORMAT, "tar archive is truncated in its last entry");
        off += 512 + padded;
    }
    if (off != size) return ild_fail(ILDIFF_ERR_FORMAT, "tar archive is truncated");
    return ILDIFF_OK;
}
