// libjpeg decode/encode with setjmp/longjmp error recovery (see include/image_codecs.h for the contract).
//
// libjpeg reports fatal errors through error_exit, which must not return: we longjmp back to the
// caller's frame, destroy the codec object and copy libjpeg's own message out. Warnings go through
// emit_message(-1); a premature end of data (JWRN_JPEG_EOF) is promoted to an error, because libjpeg
// would otherwise pad the missing rows with grey and report success.

#include "include/image_codecs.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} mc_error_mgr;

static void mc_error_exit(j_common_ptr cinfo) {
    mc_error_mgr *err = (mc_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void mc_emit_message(j_common_ptr cinfo, int msg_level) {
    mc_error_mgr *err = (mc_error_mgr *)cinfo->err;
    if (msg_level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        (*cinfo->err->format_message)(cinfo, err->message);
        longjmp(err->jump, 1);
    }
    // Other warnings (extraneous bytes, unknown markers) are harmless in practice: ignored.
}

static void mc_copy_error(char *error, size_t error_size, const char *message) {
    if (error && error_size > 0) {
        strncpy(error, message, error_size - 1);
        error[error_size - 1] = 0;
    }
}

int mc_jpeg_decode(const unsigned char *data, size_t size, long max_side, long max_pixels,
                   mc_image8 *out, char *error, size_t error_size) {
    struct jpeg_decompress_struct cinfo;
    mc_error_mgr err;
    // volatile: modified between setjmp and longjmp.
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile row = NULL;

    memset(out, 0, sizeof(*out));
    if (size == 0) {
        mc_copy_error(error, error_size, "file is empty");
        return 1;
    }
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = mc_error_exit;
    err.base.emit_message = mc_emit_message;
    err.message[0] = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        mc_copy_error(error, error_size, err.message[0] ? err.message : "JPEG decoding failed");
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    long w = (long)cinfo.image_width, h = (long)cinfo.image_height;
    if (w <= 0 || h <= 0 || w > max_side || h > max_side || w * h > max_pixels) {
        snprintf(err.message, sizeof(err.message), "image is %ldx%ld pixels, larger than %ld px per side or %ld pixels",
                 w, h, max_side, max_pixels);
        jpeg_destroy_decompress(&cinfo);
        mc_copy_error(error, error_size, err.message);
        out->width = (int)w;
        out->height = (int)h;
        return 2;
    }

    // What the file can hold: every 8x8 block of a component costs at least one bit of Huffman code in
    // the first scan that codes it (a DC code is at least 1 bit; only AC scans can skip blocks, by EOB runs),
    // so B bytes hold at most 8 B blocks of the component with the fewest (taken as the bound, since a
    // progressive file may leave components out). A bigger claim is truncated or crafted: libjpeg would
    // fill the missing rows with grey after a "premature end of data segment" warning, and a 341-byte file
    // claiming 9000x9000 became an 81 Mpx page (~0.5 GB). The smallest real encodings (a blank page,
    // standard tables) cost ~6 bits a block. Arithmetic coding can spend less than a bit on a block, so it
    // is not bounded this way.
    if (!cinfo.arith_code && cinfo.num_components > 0) {
        unsigned long blocks = ULONG_MAX;
        for (int c = 0; c < cinfo.num_components; c++) {
            unsigned long n = (unsigned long)cinfo.comp_info[c].width_in_blocks
                * (unsigned long)cinfo.comp_info[c].height_in_blocks;
            if (n < blocks) blocks = n;
        }
        if (blocks / 8 > (unsigned long)size) {
            snprintf(err.message, sizeof(err.message),
                     "its header claims %ldx%ld pixels, more than a %lu-byte file can hold; the file is truncated or crafted",
                     w, h, (unsigned long)size);
            jpeg_destroy_decompress(&cinfo);
            mc_copy_error(error, error_size, err.message);
            return 1;
        }
    }

    int cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; cmyk = 1; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&cinfo);

    int channels = cinfo.out_color_space == JCS_GRAYSCALE ? 1 : 3;
    int in_channels = cinfo.output_components;
    size_t stride = (size_t)cinfo.output_width * (size_t)channels;
    pixels = (unsigned char *)malloc(stride * cinfo.output_height);
    row = (unsigned char *)malloc((size_t)cinfo.output_width * (size_t)in_channels);
    if (!pixels || !row) {
        strcpy(err.message, "out of memory");
        longjmp(err.jump, 1);
    }
    // Adobe writes CMYK inverted (0 = full ink); libjpeg reports that through saw_Adobe_marker.
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *dst = pixels + stride * cinfo.output_scanline;
        if (!cmyk) {
            JSAMPROW rows[1] = { dst };
            jpeg_read_scanlines(&cinfo, rows, 1);
        } else {
            JSAMPROW rows[1] = { row };
            jpeg_read_scanlines(&cinfo, rows, 1);
            for (JDIMENSION x = 0; x < cinfo.output_width; x++) {
                int c = row[4 * x], m = row[4 * x + 1], y = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
                dst[3 * x] = (unsigned char)(c * k / 255);
                dst[3 * x + 1] = (unsigned char)(m * k / 255);
                dst[3 * x + 2] = (unsigned char)(y * k / 255);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    out->pixels = pixels;
    out->width = (int)cinfo.output_width;
    out->height = (int)cinfo.output_height;
    out->channels = channels;
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return 0;
}

int mc_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                   unsigned char **out_data, size_t *out_size, char *error, size_t error_size) {
    struct jpeg_compress_struct cinfo;
    mc_error_mgr err;
    // libjpeg's memory destination (re)allocates the buffer behind this pointer. It lives on the heap so
    // its value is still defined after a longjmp, and the error path can free it.
    unsigned char **memory = NULL;
    unsigned long *memory_size = NULL;

    *out_data = NULL;
    *out_size = 0;
    if (channels != 1 && channels != 3) {
        mc_copy_error(error, error_size, "JPEG output needs 1 or 3 channels");
        return 1;
    }
    memory = (unsigned char **)calloc(1, sizeof(*memory));
    memory_size = (unsigned long *)calloc(1, sizeof(*memory_size));
    if (!memory || !memory_size) {
        free(memory);
        free(memory_size);
        mc_copy_error(error, error_size, "out of memory");
        return 1;
    }
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = mc_error_exit;
    err.base.emit_message = mc_emit_message;
    err.message[0] = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(*memory);
        free(memory);
        free(memory_size);
        mc_copy_error(error, error_size, err.message[0] ? err.message : "JPEG encoding failed");
        return 1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, memory, memory_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = { (JSAMPROW)(pixels + stride * cinfo.next_scanline) };
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out_data = *memory;
    *out_size = *memory_size;
    free(memory);
    free(memory_size);
    return 0;
}

void mc_free(void *pointer) { free(pointer); }
