// The incremental writer: owns the libpng structs and the growable output buffer.
//
// Rule for every entry point that calls libpng: validate, then setjmp, then call libpng.
// Locals that change after setjmp are never read after a longjmp, so no `volatile` is needed.
#include "cpng_internal.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The public flags are promised to equal libpng's, so they are passed through unchanged.
_Static_assert(CPNG_FILTER_NONE == PNG_FILTER_NONE, "filter flag mismatch");
_Static_assert(CPNG_FILTER_SUB == PNG_FILTER_SUB, "filter flag mismatch");
_Static_assert(CPNG_FILTER_UP == PNG_FILTER_UP, "filter flag mismatch");
_Static_assert(CPNG_FILTER_AVERAGE == PNG_FILTER_AVG, "filter flag mismatch");
_Static_assert(CPNG_FILTER_PAETH == PNG_FILTER_PAETH, "filter flag mismatch");
_Static_assert(CPNG_FILTER_ALL == PNG_ALL_FILTERS, "filter flag mismatch");

enum writer_state { WRITING, FINISHED, FAILED };

struct cpng_writer {
    png_structp png;
    png_infop info;
    uint8_t *data;
    size_t size;
    size_t capacity;
    size_t row_bytes;
    uint32_t height;
    uint32_t rows_written;
    enum writer_state state;
    // libpng often warns with the specific cause just before a generic error
    // ("Image width is zero in IHDR", then "Invalid IHDR data"), so the last warning is kept
    // and appended to the error message.
    char warning[CPNG_MESSAGE_CAPACITY];
    char message[CPNG_MESSAGE_CAPACITY];
};

static void set_message(char *destination, const char *text) {
    if (destination != NULL) {
        snprintf(destination, CPNG_MESSAGE_CAPACITY, "%s", text);
    }
}

static cpng_status fail_without_writer(char *message, cpng_status status, const char *text) {
    set_message(message, text);
    return status;
}

// Rejects a call without touching the stream, so the writer stays usable.
static cpng_status reject(cpng_writer *writer, cpng_status status, const char *text) {
    set_message(writer->message, text);
    return status;
}

static void begin_call(cpng_writer *writer) {
    writer->warning[0] = '\0';
    writer->message[0] = '\0';
}

PNG_NORETURN static void on_error(png_structp png, png_const_charp text) {
    cpng_writer *writer = png_get_error_ptr(png);
    if (writer->warning[0] != '\0') {
        snprintf(writer->message, sizeof writer->message, "%.120s (%.120s)", text, writer->warning);
    } else {
        set_message(writer->message, text);
    }
    // Jump here rather than return: libpng's fallback would print to stderr first.
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) {
    cpng_writer *writer = png_get_error_ptr(png);
    set_message(writer->warning, text);
}

static void on_write(png_structp png, png_bytep bytes, size_t length) {
    cpng_writer *writer = png_get_io_ptr(png);
    if (length > SIZE_MAX - writer->size) {
        png_error(png, "PNG output too large");
    }
    size_t needed = writer->size + length;
    if (needed > writer->capacity) {
        // Doubling keeps appends amortised O(1); 16 KiB covers most previews in one go.
        size_t capacity = writer->capacity > 0 ? writer->capacity : 16384;
        while (capacity < needed) {
            capacity = capacity > SIZE_MAX / 2 ? needed : capacity * 2;
        }
        uint8_t *grown = realloc(writer->data, capacity);
        if (grown == NULL) {
            png_error(png, "out of memory for PNG output");
        }
        writer->data = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, bytes, length);
    writer->size = needed;
}

static void on_flush(png_structp png) {
    // Output goes to memory: nothing to push further.
    (void)png;
}

cpng_status cpng_writer_create(const cpng_config *config, cpng_writer **out,
                               char message[CPNG_MESSAGE_CAPACITY]) {
    set_message(message, "");
    if (out == NULL || config == NULL) {
        return fail_without_writer(message, CPNG_ERROR_ARGUMENT, "missing config or output");
    }
    *out = NULL;
    if (config->channels != 3 && config->channels != 4) {
        return fail_without_writer(message, CPNG_ERROR_ARGUMENT, "channels must be 3 or 4");
    }
    if (config->compression_level < 0 || config->compression_level > 9) {
        return fail_without_writer(message, CPNG_ERROR_ARGUMENT,
                                   "compression level must be 0...9");
    }
    if (config->filters == 0 || (config->filters & ~CPNG_FILTER_ALL) != 0) {
        return fail_without_writer(message, CPNG_ERROR_ARGUMENT,
                                   "filters must be a non-empty set of CPNG_FILTER_* flags");
    }

    cpng_writer *writer = calloc(1, sizeof *writer);
    if (writer == NULL) {
        return fail_without_writer(message, CPNG_ERROR_MEMORY, "out of memory");
    }
    writer->height = config->height;
    writer->row_bytes = (size_t)config->width * (size_t)config->channels;
    writer->state = WRITING;

    writer->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, writer, on_error, on_warning);
    if (writer->png != NULL) {
        writer->info = png_create_info_struct(writer->png);
    }
    if (writer->png == NULL || writer->info == NULL) {
        cpng_writer_destroy(writer);
        return fail_without_writer(message, CPNG_ERROR_MEMORY, "cannot create libpng state");
    }

    if (setjmp(png_jmpbuf(writer->png))) {
        set_message(message, writer->message);
        cpng_writer_destroy(writer);
        return CPNG_ERROR_LIBPNG;
    }
    png_set_write_fn(writer->png, writer, on_write, on_flush);
    png_set_IHDR(writer->png, writer->info, config->width, config->height, 8,
                 config->channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    // The model's pixels are sRGB; saying so costs 13 bytes and keeps browsers from guessing.
    // No tIME or text chunks are written, so equal pixels give equal bytes.
    png_set_sRGB(writer->png, writer->info, PNG_sRGB_INTENT_PERCEPTUAL);
    png_set_compression_level(writer->png, config->compression_level);
    png_set_filter(writer->png, PNG_FILTER_TYPE_BASE, config->filters);
    png_write_info(writer->png, writer->info);

    *out = writer;
    return CPNG_OK;
}

cpng_status cpng_writer_write_rows(cpng_writer *writer, const uint8_t *rows, size_t stride,
                                   uint32_t count) {
    if (writer == NULL) {
        return CPNG_ERROR_ARGUMENT;
    }
    begin_call(writer);
    if (writer->state != WRITING) {
        return reject(writer, CPNG_ERROR_STATE, "writer already finished or failed");
    }
    if (count == 0) {
        return CPNG_OK;
    }
    if (rows == NULL || stride < writer->row_bytes) {
        return reject(writer, CPNG_ERROR_ARGUMENT, "rows missing or stride shorter than a row");
    }
    if (count > writer->height - writer->rows_written) {
        return reject(writer, CPNG_ERROR_STATE, "more rows than the image height");
    }

    if (setjmp(png_jmpbuf(writer->png))) {
        writer->state = FAILED;
        return CPNG_ERROR_LIBPNG;
    }
    for (uint32_t row = 0; row < count; row++) {
        png_write_row(writer->png, rows + (size_t)row * stride);
    }
    writer->rows_written += count;
    return CPNG_OK;
}

cpng_status cpng_writer_finish(cpng_writer *writer) {
    if (writer == NULL) {
        return CPNG_ERROR_ARGUMENT;
    }
    begin_call(writer);
    if (writer->state != WRITING) {
        return reject(writer, CPNG_ERROR_STATE, "writer already finished or failed");
    }
    if (writer->rows_written != writer->height) {
        // libpng would happily end a truncated image; refuse instead.
        return reject(writer, CPNG_ERROR_STATE, "not all rows were written");
    }
    if (setjmp(png_jmpbuf(writer->png))) {
        writer->state = FAILED;
        return CPNG_ERROR_LIBPNG;
    }
    png_write_end(writer->png, writer->info);
    writer->state = FINISHED;
    return CPNG_OK;
}

const uint8_t *cpng_writer_output(const cpng_writer *writer, size_t *count) {
    if (writer == NULL) {
        if (count != NULL) {
            *count = 0;
        }
        return NULL;
    }
    if (count != NULL) {
        *count = writer->size;
    }
    return writer->data;
}

void cpng_writer_consume(cpng_writer *writer, size_t count) {
    if (writer == NULL) {
        return;
    }
    if (count >= writer->size) {
        writer->size = 0;
        return;
    }
    memmove(writer->data, writer->data + count, writer->size - count);
    writer->size -= count;
}

uint8_t *cpng_writer_detach_output(cpng_writer *writer, size_t *count) {
    uint8_t *data = writer->data;
    *count = writer->size;
    writer->data = NULL;
    writer->size = 0;
    writer->capacity = 0;
    return data;
}

const char *cpng_writer_message(const cpng_writer *writer) {
    return writer != NULL ? writer->message : "";
}

void cpng_writer_destroy(cpng_writer *writer) {
    if (writer == NULL) {
        return;
    }
    png_destroy_write_struct(&writer->png, &writer->info);
    free(writer->data);
    free(writer);
}
