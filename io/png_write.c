/* png_write.c - 8-bit grey/RGB PNG files through libpng's simplified API.
 *
 * DESIGN: the simplified API (png_image_write_to_file) needs no setjmp and
 * writes only IHDR, (sRGB), IDAT and IEND, so output is byte-stable. */
#include "sp_png.h"

#include <png.h>
#include <string.h>

sp_status sp_png_write(const char *path, const uint8_t *pixels, int width, int height,
                       int channels, size_t stride, sp_err *err)
{
    png_image img;
    if (!path || !pixels || width <= 0 || height <= 0 || (channels != 1 && channels != 3))
        return sp_fail(err, SP_EINVAL, "sp_png_write: bad arguments");
    if (stride == 0) stride = (size_t)width * (size_t)channels;
    if (stride < (size_t)width * (size_t)channels || stride > 0x7fffffff)
        return sp_fail(err, SP_EINVAL, "sp_png_write: bad row stride");
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width;
    img.height = (png_uint_32)height;
    img.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&img, path, 0, pixels, (png_int_32)stride, NULL)) {
        sp_status st = sp_fail(err, SP_EIO, "cannot write %s: %s", path, img.message);
        png_image_free(&img);
        return st;
    }
    return SP_OK;
}
