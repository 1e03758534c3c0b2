/* format.c: format names, guessing a format from a path's extension, and from a file's magic bytes. */
#include "io.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const format_names[ILDIFF_FORMAT_COUNT] = {
    [ILDIFF_FORMAT_UNKNOWN] = "unknown", [ILDIFF_FORMAT_GIF] = "gif",     [ILDIFF_FORMAT_WEBP] = "webp",
    [ILDIFF_FORMAT_PNG] = "png",         [ILDIFF_FORMAT_APNG] = "apng",   [ILDIFF_FORMAT_JPEG] = "jpeg",
    [ILDIFF_FORMAT_VIDEO] = "video",     [ILDIFF_FORMAT_WEBM] = "webm",   [ILDIFF_FORMAT_TGS] = "tgs",
    [ILDIFF_FORMAT_LOTTIE] = "lottie",   [ILDIFF_FORMAT_SVG] = "svg",     [ILDIFF_FORMAT_FRAMES] = "frames",
};

const char *ildiff_format_name(ildiff_format format)
{
    if ((int)format < 0 || format >= ILDIFF_FORMAT_COUNT) return "unknown";
    return format_names[format];
}

ildiff_format ildiff_format_from_name(const char *name)
{
    for (int f = 1; f < ILDIFF_FORMAT_COUNT; f++)
        if (strcasecmp(name, format_names[f]) == 0) return (ildiff_format)f;
    if (strcasecmp(name, "jpg") == 0) return ILDIFF_FORMAT_JPEG;
    if (strcasecmp(name, "json") == 0) return ILDIFF_FORMAT_LOTTIE;
    if (strcasecmp(name, "mp4") == 0 || strcasecmp(name, "mov") == 0 || strcasecmp(name, "mkv") == 0) return ILDIFF_FORMAT_VIDEO;
    if (strcasecmp(name, "dir") == 0) return ILDIFF_FORMAT_FRAMES;
    return ILDIFF_FORMAT_UNKNOWN;
}

ildiff_format ildiff_format_from_path(const char *path)
{
    size_t n = strlen(path);
    if (n == 0) return ILDIFF_FORMAT_UNKNOWN;
    if (path[n - 1] == '/') return ILDIFF_FORMAT_FRAMES;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return ILDIFF_FORMAT_FRAMES;
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash)) return ILDIFF_FORMAT_UNKNOWN;
    const char *ext = dot + 1;
    if (strcasecmp(ext, "png") == 0) return ILDIFF_FORMAT_APNG; /* a one-frame APNG is written as a plain PNG */
    if (strcasecmp(ext, "jpeg") == 0) return ILDIFF_FORMAT_JPEG;
    return ildiff_format_from_name(ext);
}

static bool starts_with(const uint8_t *d, size_t n, const char *magic, size_t m) { return n >= m && memcmp(d, magic, m) == 0; }

/* A PNG is APNG when an acTL chunk comes before the first IDAT. */
static ildiff_format sniff_png(const uint8_t *d, size_t n)
{
    size_t p = 8;
    while (p + 8 <= n) {
        uint32_t len = (uint32_t)d[p] << 24 | (uint32_t)d[p + 1] << 16 | (uint32_t)d[p + 2] << 8 | d[p + 3];
        const uint8_t *type = d + p + 4;
        if (memcmp(type, "acTL", 4) == 0) return ILDIFF_FORMAT_APNG;
        if (memcmp(type, "IDAT", 4) == 0) break;
        if (len > n - p - 8 || n - p - 8 - len < 4) break;
        p += 12 + (size_t)len;
    }
    return ILDIFF_FORMAT_PNG;
}

/* JSON that looks like Lottie: an object with the "layers" and "v" keys near the top. */
static bool looks_like_lottie(const uint8_t *d, size_t n)
{
    size_t i = 0;
    while (i < n && isspace(d[i])) i++;
    if (i >= n || d[i] != '{') return false;
    size_t window = n < 4096 ? n : 4096;
    return memmem(d, window, "\"layers\"", 8) || memmem(d, window, "\"v\"", 3) || memmem(d, n, "\"layers\"", 8);
}

static bool looks_like_svg(const uint8_t *d, size_t n)
{
    size_t window = n < 4096 ? n : 4096;
    return memmem(d, window, "<svg", 4) != NULL;
}

ildiff_format ildiff_format_sniff(const uint8_t *d, size_t n)
{
    if (starts_with(d, n, "GIF87a", 6) || starts_with(d, n, "GIF89a", 6)) return ILDIFF_FORMAT_GIF;
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) return ILDIFF_FORMAT_WEBP;
    if (starts_with(d, n, "\x89PNG\r\n\x1a\n", 8)) return sniff_png(d, n);
    if (starts_with(d, n, "\xff\xd8\xff", 3)) return ILDIFF_FORMAT_JPEG;
    if (starts_with(d, n, "\x1a\x45\xdf\xa3", 4)) /* EBML: Matroska or WebM */
        return memmem(d, n < 64 ? n : 64, "webm", 4) ? ILDIFF_FORMAT_WEBM : ILDIFF_FORMAT_VIDEO;
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0) return ILDIFF_FORMAT_VIDEO; /* MP4 / MOV / 3GP */
    if (n >= 12 && (memcmp(d + 4, "moov", 4) == 0 || memcmp(d + 4, "mdat", 4) == 0 || memcmp(d + 4, "wide", 4) == 0))
        return ILDIFF_FORMAT_VIDEO;
    if (starts_with(d, n, "\x1f\x8b", 2)) return ILDIFF_FORMAT_TGS;
    if (looks_like_lottie(d, n)) return ILDIFF_FORMAT_LOTTIE;
    if (looks_like_svg(d, n)) return ILDIFF_FORMAT_SVG;
    return ILDIFF_FORMAT_UNKNOWN;
}
