// The reader: decodes an untrusted PNG held in memory into 8-bit RGBA.
//
// Same rule as the writer: validate, then setjmp, then call libpng. Limits go to libpng before
// it reads the header, so an oversized image fails in IHDR, before any row buffer exists.
#include "cpng_shim.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum reader_state { OPENED, READ, FAILED };

struct cpng_reader {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size;
    size_t offset;
    uint32_t height;
    int passes;
    size_t row_bytes;
    int truncated;
    enum reader_state state;
    char warning[CPNG_MESSAGE_CAPACITY];
    char message[CPNG_MESSAGE_CAPACITY];
};

static void set_text(char *destination, const char *text) {
    if (destination != NULL) {
        snprintf(destination, CPNG_MESSAGE_CAPACITY, "%s", text);
    }
}

PNG_NORETURN static void on_read_error(png_structp png, png_const_charp text) {
    cpng_reader *reader = png_get_error_ptr(png);
    if (reader->warning[0] != '\0') {
        snprintf(reader->message, sizeof reader->message, "%.120s (%.120s)", text, reader->warning);
    } else {
        set_text(reader->message, text);
    }
    png_longjmp(png, 1);
}

static void on_read_warning(png_structp png, png_const_charp text) {
    cpng_reader *reader = png_get_error_ptr(png);
    set_text(reader->warning, text);
}

static void on_read(png_structp png, png_bytep bytes, size_t length) {
    cpng_reader *reader = png_get_io_ptr(png);
    if (length > reader->size - reader->offset) {
        reader->truncated = 1;
        png_error(png, "the file ends early");
    }
    memcpy(bytes, reader->data + reader->offset, length);
    reader->offset += length;
}

static cpng_status failure_status(const cpng_reader *reader) {
    return reader->truncated ? CPNG_ERROR_TRUNCATED : CPNG_ERROR_LIBPNG;
}

cpng_status cpng_reader_open(const uint8_t *data, size_t size, const cpng_read_limits *limits,
                             cpng_reader **out, cpng_read_info *info,
                             char message[CPNG_MESSAGE_CAPACITY]) {
    set_text(message, "");
    if (out == NULL || info == NULL || limits == NULL || (data == NULL && size > 0)) {
        set_text(message, "missing input, limits or output");
        return CPNG_ERROR_ARGUMENT;
    }
    *out = NULL;
    memset(info, 0, sizeof *info);
    if (limits->max_width == 0 || limits->max_height == 0) {
        set_text(message, "limits must be positive");
        return CPNG_ERROR_ARGUMENT;
    }

    cpng_reader *reader = calloc(1, sizeof *reader);
    if (reader == NULL) {
        set_text(message, "out of memory");
        return CPNG_ERROR_MEMORY;
    }
    reader->data = data;
    reader->size = size;
    reader->state = OPENED;
    reader->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader, on_read_error, on_read_warning);
    if (reader->png != NULL) {
        reader->info = png_create_info_struct(reader->png);
    }
    if (reader->png == NULL || reader->info == NULL) {
        cpng_reader_destroy(reader);
        set_text(message, "cannot create libpng state");
        return CPNG_ERROR_MEMORY;
    }

    if (setjmp(png_jmpbuf(reader->png))) {
        cpng_status status = failure_status(reader);
        set_text(message, reader->message);
        cpng_reader_destroy(reader);
        return status;
    }
    png_set_read_fn(reader->png, reader, on_read);
    png_set_user_limits(reader->png, limits->max_width, limits->max_height);
    png_set_chunk_malloc_max(reader->png, limits->max_chunk_bytes);
    png_set_chunk_cache_max(reader->png, limits->max_chunks);
    // Only IHDR, PLTE, tRNS, IDAT and IEND are read; text, ICC profiles and the rest are skipped
    // unparsed, so their compressed payloads are never inflated.
    png_set_keep_unknown_chunks(reader->png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    // libpng's "benign" errors (image data beyond the image, bad CRCs of ancillary chunks,
    // misplaced tRNS) become errors: an upload that is damaged is refused, not guessed at.
    png_set_benign_errors(reader->png, 0);
    png_read_info(reader->png, reader->info);

    png_uint_32 width = 0, height = 0;
    int depth = 0, color = 0;
    png_get_IHDR(reader->png, reader->info, &width, &height, &depth, &color, NULL, NULL, NULL);
    int has_alpha = (color & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(reader->png, reader->info, PNG_INFO_tRNS) != 0;

    // Everything to 8-bit RGBA: palette and low-depth grey expanded, tRNS to alpha, 16-bit
    // scaled down (rounding, not truncation), grey to RGB, opaque alpha added where missing.
    png_set_expand(reader->png);
    png_set_scale_16(reader->png);
    png_set_gray_to_rgb(reader->png);
    png_set_add_alpha(reader->png, 0xFF, PNG_FILLER_AFTER);
    reader->passes = png_set_interlace_handling(reader->png);
    png_read_update_info(reader->png, reader->info);

    reader->row_bytes = png_get_rowbytes(reader->png, reader->info);
    if (reader->row_bytes != (size_t)width * 4) {
        set_text(message, "unexpected row layout after conversion to RGBA");
        cpng_reader_destroy(reader);
        return CPNG_ERROR_LIBPNG;
    }
    reader->height = height;
    info->width = width;
    info->height = height;
    info->has_alpha = has_alpha;
    *out = reader;
    return CPNG_OK;
}

cpng_status cpng_reader_read_rgba(cpng_reader *reader, uint8_t *pixels, size_t stride) {
    if (reader == NULL) {
        return CPNG_ERROR_ARGUMENT;
    }
    reader->warning[0] = '\0';
    reader->message[0] = '\0';
    if (reader->state != OPENED) {
        set_text(reader->message, "the image was already read or the reader failed");
        return CPNG_ERROR_STATE;
    }
    if (pixels == NULL || stride < reader->row_bytes) {
        set_text(reader->message, "pixels missing or stride shorter than a row");
        return CPNG_ERROR_ARGUMENT;
    }
    if (setjmp(png_jmpbuf(reader->png))) {
        reader->state = FAILED;
        return failure_status(reader);
    }
    // An interlaced image is read in 7 passes over the whole buffer, each filling in more pixels.
    for (int pass = 0; pass < reader->passes; pass++) {
        for (uint32_t row = 0; row < reader->height; row++) {
            png_read_row(reader->png, pixels + (size_t)row * stride, NULL);
        }
    }
    // Chunks after the image data (and IEND) are not read: the pixels are complete.
    reader->state = READ;
    return CPNG_OK;
}

const char *cpng_reader_message(const cpng_reader *reader) {
    return reader != NULL ? reader->message : "";
}

void cpng_reader_destroy(cpng_reader *reader) {
    if (reader == NULL) {
        return;
    }
    png_destroy_read_struct(&reader->png, &reader->info, NULL);
    free(reader);
}
