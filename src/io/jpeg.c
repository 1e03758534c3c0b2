/*
 * jpeg.c: JPEG reader (libjpeg-turbo): one opaque frame of 100 ms. Grey, YCbCr and RGB decode straight to RGBA;
 * CMYK/YCCK are converted with the Adobe (inverted) convention. The size is checked against the limits before
 * decompression starts. libjpeg only warns on damaged data and fills in grey; we turn the warnings that mean lost
 * data (premature end of file or of a segment, bad Huffman code) into ILDIFF_ERR_FORMAT, so truncated files are
 * rejected. EXIF orientation is not applied.
 */
#include "io.h"

#include <jerror.h>
#include <jpeglib.h>
#include <limits.h>
#include <setjmp.h>
#include <string.h>

typedef struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_err;

static void on_error(j_common_ptr cinfo)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    e->mgr.format_message(cinfo, e->message);
    longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    if (level >= 0) return; /* trace messages */
    int code = e->mgr.msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE) on_error(cinfo);
    char msg[JMSG_LENGTH_MAX];
    e->mgr.format_message(cinfo, msg);
    ILD_DEBUG("libjpeg: %s", msg);
}

static void cmyk_to_rgba(uint8_t *row, size_t w)
{
    for (size_t x = w; x-- > 0;) { /* in place, back to front: 4 bytes in, 4 bytes out */
        uint8_t *p = row + x * 4;
        uint32_t k = p[3];
        p[0] = (uint8_t)((p[0] * k + 127) / 255);
        p[1] = (uint8_t)((p[1] * k + 127) / 255);
        p[2] = (uint8_t)((p[2] * k + 127) / 255);
        p[3] = 255;
    }
}

ildiff_status ild_jpeg_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out)
{
    *out = NULL;
    struct jpeg_decompress_struct cinfo;
    jpeg_err err;
    ildiff_anim *volatile a = NULL;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = on_error;
    err.mgr.emit_message = on_message;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        ildiff_anim_free(a);
        return ild_fail(ILDIFF_ERR_FORMAT, "bad JPEG: %s", err.message);
    }
    jpeg_create_decompress(&cinfo);
    if (size > ULONG_MAX) size = ULONG_MAX;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    ildiff_status st = ild_check_dims(limits, cinfo.image_width, cinfo.image_height, 1);
    ildiff_anim *made = NULL;
    if (st == ILDIFF_OK) st = ildiff_anim_new((int32_t)cinfo.image_width, (int32_t)cinfo.image_height, 1, 100, &made);
    a = made;
    if (st != ILDIFF_OK) {
        jpeg_destroy_decompress(&cinfo);
        return st;
    }
    bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != 4 || cinfo.output_width != (JDIMENSION)a->width ||
        cinfo.output_height != (JDIMENSION)a->height) {
        strcpy(err.message, "unexpected output format");
        longjmp(err.jump, 1);
    }
    size_t stride = (size_t)a->width * 4;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = a->rgba + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
        if (cmyk) cmyk_to_rgba(row, (size_t)a->width);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    a->source = ILDIFF_FORMAT_JPEG;
    a->source_has_alpha = false;
    *out = a;
    return ILDIFF_OK;
}
