#ifndef MANGACOLOR_IMAGE_CODECS_H
#define MANGACOLOR_IMAGE_CODECS_H
// C shims around libjpeg and libpng's full API, whose error handling needs setjmp/longjmp, which Swift
// cannot do (png_bands.c: PNG rows streamed a band at a time, for strips too big to decode whole).
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

/// What mc_png_reader_open found: the size, and the rows it will hand out: `channels` 1 (grey) or 3 (RGB,
/// also for palette files), plus an alpha sample when `alpha` (tRNS included), `depth` 8 or 16 bits a
/// sample (16-bit in native byte order), `row_bytes` bytes a row. `interlaced` is set when the open
/// was refused with 2.
typedef struct {
    int width;
    int height;
    int channels;
    int alpha;
    int depth;
    int interlaced;
    size_t row_bytes;
} mc_png_info;

typedef struct mc_png_reader mc_png_reader;
typedef struct mc_png_writer mc_png_writer;

/// Opens a PNG file for reading row by row, refusing sides over max_width/max_height (from the header).
/// Returns 0 with *out set; 1 when the file is not a valid PNG; 2 for an Adam7-interlaced file (its rows
/// cannot stream: info's width, height and interlaced are set, *out stays NULL); 3 when the file cannot
/// be opened. Close with mc_png_reader_close.
int mc_png_reader_open(const char *path, long max_width, long max_height, mc_png_reader **out,
                       mc_png_info *info, char *error, size_t error_size);

/// Reads the next `count` rows into `rows` (count * info.row_bytes bytes). After the last row the rest of
/// the file is read and checked too. A truncated or corrupt file is an error (1), and so is every later call.
int mc_png_reader_read_rows(mc_png_reader *reader, unsigned char *rows, int count, char *error, size_t error_size);

/// Closes the file and frees the reader (any state; NULL is fine).
void mc_png_reader_close(mc_png_reader *reader);

/// Creates `path` (which must not exist: opened with "x") for an 8-bit, non-interlaced grey (channels 1)
/// or RGB (3) PNG of width x height, and writes its header. Returns 0 with *out set, 1 on error.
int mc_png_writer_open(const char *path, int width, int height, int channels, mc_png_writer **out,
                       char *error, size_t error_size);

/// Appends `count` rows, each `row_bytes` apart in `rows` (width * channels bytes used).
int mc_png_writer_write_rows(mc_png_writer *writer, const unsigned char *rows, size_t row_bytes, int count,
                             char *error, size_t error_size);

/// Ends the file (every row must have been written) and closes it; frees the writer either way. Non-zero
/// when anything failed, also when the last bytes could not be flushed (a full disk). The file is left
/// where it is: the caller renames or removes it.
int mc_png_writer_finish(mc_png_writer *writer, char *error, size_t error_size);

/// Closes and frees an unfinished writer (NULL is fine); the caller removes the partial file.
void mc_png_writer_abort(mc_png_writer *writer);

/// Frees memory returned by mc_jpeg_decode and mc_jpeg_encode.
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
