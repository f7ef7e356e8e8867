/* sp_png.h - a small PNG writer for 8-bit grey and RGB images (libpng).
 *
 * Used for phantom previews and report key images. Writes no text, time or
 * other metadata chunks, so the same pixels always give the same file. */
#ifndef SP_PNG_H
#define SP_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "../core/sp_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a width x height image with `channels` 8-bit samples per pixel
 * (1 = grey, 3 = RGB), rows top to bottom, `stride` bytes between rows
 * (0 = width * channels). pixels is borrowed. Returns SP_EINVAL for bad
 * arguments, SP_EIO (with the file and libpng's reason) when writing fails.
 * Safe to call from several threads on different files; not from inside an
 * OpenMP parallel region (project rule for I/O). */
sp_status sp_png_write(const char *path, const uint8_t *pixels, int width, int height,
                       int channels, size_t stride, sp_err *err);

#ifdef __cplusplus
}
#endif
#endif
