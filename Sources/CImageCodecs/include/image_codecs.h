#ifndef MANGACOLOR_IMAGE_CODECS_H
#define MANGACOLOR_IMAGE_CODECS_H
// C shims around libjpeg, whose error handling needs setjmp/longjmp, which Swift cannot do.
// Every function returns 0 on success; on failure it returns non-zero and writes a NUL-terminated
// message into `error` (at most error_size bytes). Nothing here aborts or exits the process.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A decoded image: interleaved 8-bit samples, `channels` 1 (grey) or 3 (RGB). Free `pixels` with mc_free.
typedef struct {
    unsigned char *pixels;
    int width;
    int height;
    int channels;
} mc_image8;

/// Decodes a JPEG held in memory. Grey files give 1 channel; YCbCr, RGB, CMYK and YCCK give 3 (RGB).
/// Refuses images wider or taller than max_side or with more than max_pixels pixels (checked from the
/// header, before the pixel buffer is allocated; returns 2 then, with out->width/height set). A truncated file is an error, not a grey-filled image.
int mc_jpeg_decode(const unsigned char *data, size_t size, long max_side, long max_pixels,
                   mc_image8 *out, char *error, size_t error_size);

/// Encodes interleaved 8-bit grey (channels 1) or RGB (channels 3) samples as a baseline JPEG.
/// On success *out_data (free with mc_free) holds *out_size bytes.
int mc_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                   unsigned char **out_data, size_t *out_size, char *error, size_t error_size);

/// Frees memory returned by the functions above.
void mc_free(void *pointer);

/// Registers a temporary file to unlink if SIGINT or SIGTERM arrives (installs the handlers on first use,
/// unless the signal already has a handler). Returns a slot for mc_temporary_unregister, or -1 when all
/// 64 slots are taken or the path is too long (the file is then only swept by a later run).
int mc_temporary_register(const char *path);

/// Forgets a slot from mc_temporary_register (the write finished or failed).
void mc_temporary_unregister(int slot);

/// Between begin and end (nestable), the first SIGINT or SIGTERM is only recorded, for the program to stop
/// at a safe point (a training loop saves its checkpoint); a second one ends the process as usual.
void mc_interrupt_defer_begin(void);
void mc_interrupt_defer_end(void);

/// The deferred signal's number, or 0 when none arrived.
int mc_interrupt_requested(void);

/// Unlinks one registered temporary now, as the signal handler would, and forgets it; 0 on success.
int mc_temporary_remove(int slot);

#ifdef __cplusplus
}
#endif
#endif
