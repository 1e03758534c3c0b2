/* test_base.c: status names, error messages, limits, file helpers, format sniffing. */
#include "check.h"
#include "ildiff.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_status_names(void)
{
    for (int s = 0; s < ILDIFF_STATUS_COUNT; s++) CHECK(ildiff_status_name((ildiff_status)s)[0] != 0);
    CHECK(strcmp(ildiff_status_name(ILDIFF_STATUS_COUNT), "unknown status") == 0);
}

static void test_anim_new_rejects_bad_sizes(void)
{
    ildiff_anim *a = (ildiff_anim *)1;
    CHECK(ildiff_anim_new(0, 1, 1, 10, &a) == ILDIFF_ERR_ARG);
    CHECK(a == NULL);
    CHECK(ildiff_anim_new(1 << 30, 1 << 30, 1 << 30, 10, &a) != ILDIFF_OK);
    CHECK_OK(ildiff_anim_new(3, 2, 4, 40, &a));
    CHECK(ildiff_anim_duration_ms(a) == 160);
    CHECK(ildiff_anim_has_alpha(a)); /* zeroed pixels are transparent */
    memset(a->rgba, 255, (size_t)3 * 2 * 4 * 4);
    CHECK(!ildiff_anim_has_alpha(a));
    CHECK(ildiff_anim_frame(a, 1) == a->rgba + 3 * 2 * 4);
    ildiff_anim_free(a);
}

static void test_sniff(void)
{
    CHECK(ildiff_format_sniff((const uint8_t *)"GIF89a....", 10) == ILDIFF_FORMAT_GIF);
    CHECK(ildiff_format_sniff((const uint8_t *)"RIFF\0\0\0\0WEBPVP8 ", 16) == ILDIFF_FORMAT_WEBP);
    CHECK(ildiff_format_sniff((const uint8_t *)"\x89PNG\r\n\x1a\n", 8) == ILDIFF_FORMAT_PNG);
    CHECK(ildiff_format_sniff((const uint8_t *)"\x1f\x8b\x08", 3) == ILDIFF_FORMAT_TGS);
    CHECK(ildiff_format_sniff((const uint8_t *)"  {\"v\":\"5.5.2\",\"layers\":[]}", 28) == ILDIFF_FORMAT_LOTTIE);
    CHECK(ildiff_format_sniff((const uint8_t *)"<?xml?><svg></svg>", 18) == ILDIFF_FORMAT_SVG);
    CHECK(ildiff_format_sniff((const uint8_t *)"hello", 5) == ILDIFF_FORMAT_UNKNOWN);
    CHECK(ildiff_format_from_path("a/b.WEBP") == ILDIFF_FORMAT_WEBP);
    CHECK(ildiff_format_from_path("x.png") == ILDIFF_FORMAT_APNG);
    CHECK(ildiff_format_from_path("out/") == ILDIFF_FORMAT_FRAMES);
    CHECK(ildiff_format_from_path("a.dir/noext") == ILDIFF_FORMAT_UNKNOWN);
}

static void test_limits(void)
{
    ildiff_limits l = ildiff_limits_default();
    l.max_frames = 5;
    ildiff_anim *a = NULL;
    const uint8_t junk[] = "not an image at all";
    CHECK(ildiff_anim_read_memory(junk, sizeof junk, ILDIFF_FORMAT_UNKNOWN, &l, &a) == ILDIFF_ERR_UNSUPPORTED);
    CHECK(a == NULL);
    CHECK(strstr(ildiff_last_error(), "unrecognised") != NULL);
    CHECK(ildiff_anim_read_memory(junk, 0, ILDIFF_FORMAT_UNKNOWN, &l, &a) == ILDIFF_ERR_FORMAT);
}

static void test_atomic_write(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/atomic.bin", CHECK_TMPDIR());
    unlink(path);
    const uint8_t data[] = {1, 2, 3};
    CHECK_OK(ildiff_write_file_atomic(path, data, 3, false));
    CHECK(ildiff_write_file_atomic(path, data, 2, false) == ILDIFF_ERR_EXISTS);
    CHECK_OK(ildiff_write_file_atomic(path, data, 2, true));
    uint8_t *back;
    size_t n;
    CHECK_OK(ildiff_read_file(path, 0, &back, &n));
    CHECK(n == 2 && back[1] == 2);
    free(back);
    CHECK(ildiff_read_file(path, 1, &back, &n) == ILDIFF_ERR_LIMIT);
    CHECK(ildiff_same_file(path, path));
    CHECK(ildiff_read_file("/nonexistent/x", 0, &back, &n) == ILDIFF_ERR_IO);
    unlink(path);
}

int main(void)
{
    RUN(test_status_names);
    RUN(test_anim_new_rejects_bad_sizes);
    RUN(test_sniff);
    RUN(test_limits);
    RUN(test_atomic_write);
    return check_done();
}
