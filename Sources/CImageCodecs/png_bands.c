// PNG rows streamed through libpng's full API, for pages too big to decode whole (webtoon strips): a reader
// that hands out rows a band at a time and a writer that takes them, so memory follows the band, not the
// page (see include/image_codecs.h for the contract; Sources/Colorize/Bands.swift uses them).
//
// libpng reports fatal errors through its error callback, which must not return: we copy the message into
// the reader's or writer's struct and png_longjmp back to the setjmp of the function that called libpng,
// which returns an error code instead. Warnings (bad ancillary chunks) are ignored, as the simplified API
// used for whole pages (Sources/Colorize/PNG.swift) ignores them.
//
// The reader gives 8- or 16-bit grey or RGB, with alpha when the file has any (tRNS becomes alpha); the
// caller composites onto white. Adam7-interlaced files are refused: their rows only exist after the last
// of seven passes, so they cannot stream.

#include "include/image_codecs.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

struct mc_png_reader {
    png_structp png;
    png_infop info;
    FILE *file;
    char message[256];
    int height;
    int rows_read;
    int failed;
    size_t row_bytes;
};

struct mc_png_writer {
    png_structp png;
    png_infop info;
    FILE *file;
    char message[256];
    int height;
    int rows_written;
    int failed;
};

static void mc_copy_message(char *error, size_t error_size, const char *message) {
    if (error && error_size > 0) {
        strncpy(error, message, error_size - 1);
        error[error_size - 1] = 0;
    }
}

static void mc_png_read_error(png_structp png, png_const_charp message) {
    struct mc_png_reader *r = (struct mc_png_reader *)png_get_error_ptr(png);
    snprintf(r->message, sizeof(r->message), "%s", message ? message : "PNG decoding failed");
    png_longjmp(png, 1);
}

static void mc_png_write_error(png_structp png, png_const_charp message) {
    struct mc_png_writer *w = (struct mc_png_writer *)png_get_error_ptr(png);
    snprintf(w->message, sizeof(w->message), "%s", message ? message : "PNG encoding failed");
    png_longjmp(png, 1);
}

static void mc_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void mc_png_reader_free(struct mc_png_reader *r) {
    if (!r) return;
    if (r->png) png_destroy_read_struct(&r->png, r->info ? &r->info : NULL, NULL);
    if (r->file) fclose(r->file);
    free(r);
}

int mc_png_reader_open(const char *path, long max_width, long max_height, mc_png_reader **out,
                       mc_png_info *info, char *error, size_t error_size) {
    *out = NULL;
    memset(info, 0, sizeof(*info));
    struct mc_png_reader *r = (struct mc_png_reader *)calloc(1, sizeof(*r));
    if (!r) {
        mc_copy_message(error, error_size, "out of memory");
        return 1;
    }
    r->file = fopen(path, "rb");
    if (!r->file) {
        snprintf(r->message, sizeof(r->message), "the file cannot be opened (%s)", strerror(errno));
        mc_copy_message(error, error_size, r->message);
        mc_png_reader_free(r);
        return 3;
    }
    unsigned char signature[8];
    if (fread(signature, 1, 8, r->file) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
        mc_copy_message(error, error_size, "no PNG signature");
        mc_png_reader_free(r);
        return 1;
    }
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, mc_png_read_error, mc_png_warning);
    if (r->png) r->info = png_create_info_struct(r->png);
    if (!r->png || !r->info) {
        mc_copy_message(error, error_size, "out of memory");
        mc_png_reader_free(r);
        return 1;
    }
    if (setjmp(png_jmpbuf(r->png))) {
        mc_copy_message(error, error_size, r->message[0] ? r->message : "PNG decoding failed");
        mc_png_reader_free(r);
        return 1;
    }
    png_init_io(r->png, r->file);
    png_set_sig_bytes(r->png, 8);
    // libpng's own default refuses sides over 1,000,000; the caller's limits replace it.
    png_set_user_limits(r->png, (png_uint_32)max_width, (png_uint_32)max_height);
    png_read_info(r->png, r->info);

    png_uint_32 width = png_get_image_width(r->png, r->info), height = png_get_image_height(r->png, r->info);
    info->width = (int)width;
    info->height = (int)height;
    if (png_get_interlace_type(r->png, r->info) != PNG_INTERLACE_NONE) {
        info->interlaced = 1;
        mc_copy_message(error, error_size, "the file is Adam7-interlaced: its rows cannot be read one band at a time");
        mc_png_reader_free(r);
        return 2;
    }
    int colour_type = png_get_color_type(r->png, r->info), depth = png_get_bit_depth(r->png, r->info);
    if (colour_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
    if (colour_type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
    if (png_get_valid(r->png, r->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(r->png);
    // Files with a gAMA other than sRGB's are brought to sRGB, as the simplified API does for whole pages;
    // without gAMA (or with 1/2.2) nothing changes.
    png_set_gamma(r->png, PNG_DEFAULT_sRGB, PNG_DEFAULT_sRGB);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (depth == 16) png_set_swap(r->png);
#endif
    png_read_update_info(r->png, r->info);

    int out_type = png_get_color_type(r->png, r->info);
    info->channels = (out_type & PNG_COLOR_MASK_COLOR) ? 3 : 1;
    info->alpha = (out_type & PNG_COLOR_MASK_ALPHA) ? 1 : 0;
    info->depth = png_get_bit_depth(r->png, r->info);
    r->row_bytes = png_get_rowbytes(r->png, r->info);
    info->row_bytes = r->row_bytes;
    if (info->depth != 8 && info->depth != 16) {
        snprintf(r->message, sizeof(r->message), "unexpected bit depth %d after conversion", info->depth);
        mc_copy_message(error, error_size, r->message);
        mc_png_reader_free(r);
        return 1;
    }
    r->height = (int)height;
    *out = r;
    return 0;
}

int mc_png_reader_read_rows(mc_png_reader *r, unsigned char *rows, int count, char *error, size_t error_size) {
    if (r->failed) {
        mc_copy_message(error, error_size, r->message[0] ? r->message : "an earlier read failed");
        return 1;
    }
    if (count < 0 || count > r->height - r->rows_read) {
        mc_copy_message(error, error_size, "asked for rows past the last one");
        return 1;
    }
    if (setjmp(png_jmpbuf(r->png))) {
        r->failed = 1;
        mc_copy_message(error, error_size, r->message[0] ? r->message : "PNG decoding failed");
        return 1;
    }
    for (int i = 0; i < count; i++) {
        png_read_row(r->png, rows + (size_t)i * r->row_bytes, NULL);
        r->rows_read++;
    }
    // After the last row: the rest of the file (IDAT's end, its CRC, IEND) must be there too, as for a
    // whole-page decode.
    if (count > 0 && r->rows_read == r->height) png_read_end(r->png, NULL);
    return 0;
}

void mc_png_reader_close(mc_png_reader *r) { mc_png_reader_free(r); }

static void mc_png_writer_free(struct mc_png_writer *w) {
    if (!w) return;
    if (w->png) png_destroy_write_struct(&w->png, w->info ? &w->info : NULL);
    if (w->file) fclose(w->file);
    free(w);
}

int mc_png_writer_open(const char *path, int width, int height, int channels, mc_png_writer **out,
                       char *error, size_t error_size) {
    *out = NULL;
    if (width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
        mc_copy_message(error, error_size, "PNG output needs a non-empty size and 1 or 3 channels");
        return 1;
    }
    struct mc_png_writer *w = (struct mc_png_writer *)calloc(1, sizeof(*w));
    if (!w) {
        mc_copy_message(error, error_size, "out of memory");
        return 1;
    }
    // "x": never over an existing file (the caller gives a fresh temporary name).
    w->file = fopen(path, "wbx");
    if (!w->file) {
        snprintf(w->message, sizeof(w->message), "cannot create the file (%s)", strerror(errno));
        mc_copy_message(error, error_size, w->message);
        mc_png_writer_free(w);
        return 1;
    }
    w->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, w, mc_png_write_error, mc_png_warning);
    if (w->png) w->info = png_create_info_struct(w->png);
    if (!w->png || !w->info) {
        mc_copy_message(error, error_size, "out of memory");
        mc_png_writer_free(w);
        return 1;
    }
    if (setjmp(png_jmpbuf(w->png))) {
        mc_copy_message(error, error_size, w->message[0] ? w->message : "PNG encoding failed");
        mc_png_writer_free(w);
        return 1;
    }
    png_init_io(w->png, w->file);
    png_set_user_limits(w->png, 0x7fffffffU, 0x7fffffffU);
    png_set_IHDR(w->png, w->info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(w->png, w->info);
    w->height = height;
    *out = w;
    return 0;
}

int mc_png_writer_write_rows(mc_png_writer *w, const unsigned char *rows, size_t row_bytes, int count,
                             char *error, size_t error_size) {
    if (w->failed) {
        mc_copy_message(error, error_size, w->message[0] ? w->message : "an earlier write failed");
        return 1;
    }
    if (count < 0 || count > w->height - w->rows_written) {
        mc_copy_message(error, error_size, "given rows past the last one");
        return 1;
    }
    if (setjmp(png_jmpbuf(w->png))) {
        w->failed = 1;
        mc_copy_message(error, error_size, w->message[0] ? w->message : "PNG encoding failed");
        return 1;
    }
    for (int i = 0; i < count; i++) {
        png_write_row(w->png, (png_const_bytep)(rows + (size_t)i * row_bytes));
        w->rows_written++;
    }
    return 0;
}

int mc_png_writer_finish(mc_png_writer *w, char *error, size_t error_size) {
    if (w->failed || w->rows_written != w->height) {
        mc_copy_message(error, error_size, w->failed ? (w->message[0] ? w->message : "an earlier write failed")
                                                     : "not every row was written");
        mc_png_writer_free(w);
        return 1;
    }
    if (setjmp(png_jmpbuf(w->png))) {
        mc_copy_message(error, error_size, w->message[0] ? w->message : "PNG encoding failed");
        mc_png_writer_free(w);
        return 1;
    }
    png_write_end(w->png, NULL);
    png_destroy_write_struct(&w->png, &w->info);
    FILE *file = w->file;
    w->file = NULL;
    free(w);
    // fclose flushes the last buffered bytes: a full disk shows here.
    int failed = fflush(file) != 0 || ferror(file);
    int saved = errno;
    if (fclose(file) != 0 && !failed) { failed = 1; saved = errno; }
    if (failed) {
        char message[256];
        snprintf(message, sizeof(message), "flushing the file failed (%s)", strerror(saved));
        mc_copy_message(error, error_size, message);
        return 1;
    }
    return 0;
}

void mc_png_writer_abort(mc_png_writer *w) { mc_png_writer_free(w); }
