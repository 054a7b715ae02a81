// The reader: decodes an untrusted JPEG held in memory into 8-bit RGBA.
//
// Rule for every entry point: validate, then setjmp, then call libjpeg. The header is read in
// open, so the caller checks the size before anything is allocated for the image.
#include "cjpeg_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum reader_state { OPENED, READ, FAILED };

struct cjpeg_reader {
    struct jpeg_decompress_struct cinfo;
    cjpeg_error_manager errors;
    struct jpeg_progress_mgr progress;
    uint32_t max_scans;
    int created;
    enum reader_state state;
};

// Called by libjpeg while it absorbs a progressive file: a crafted file of thousands of tiny
// scans makes it redo the whole image's work per scan.
static void on_progress(j_common_ptr common) {
    if (!common->is_decompressor) {
        return;
    }
    j_decompress_ptr cinfo = (j_decompress_ptr)common;
    cjpeg_reader *reader = cinfo->client_data;
    if ((uint32_t)cinfo->input_scan_number > reader->max_scans) {
        reader->errors.too_many_scans = 1;
        snprintf(reader->errors.message, sizeof reader->errors.message,
                 "more than %u progressive scans", reader->max_scans);
        longjmp(reader->errors.jump, 1);
    }
}

cjpeg_status cjpeg_reader_open(const uint8_t *data, size_t size, const cjpeg_read_limits *limits,
                               cjpeg_reader **out, uint32_t *width, uint32_t *height,
                               char message[CJPEG_MESSAGE_CAPACITY]) {
    cjpeg_set_message(message, "");
    if (out == NULL || width == NULL || height == NULL || limits == NULL || data == NULL || size == 0) {
        cjpeg_set_message(message, "missing input, limits or output");
        return CJPEG_ERROR_ARGUMENT;
    }
    *out = NULL;
    *width = 0;
    *height = 0;
    if (size > ULONG_MAX) {
        cjpeg_set_message(message, "input too large");
        return CJPEG_ERROR_ARGUMENT;
    }
    cjpeg_reader *reader = calloc(1, sizeof *reader);
    if (reader == NULL) {
        cjpeg_set_message(message, "out of memory");
        return CJPEG_ERROR_MEMORY;
    }
    reader->max_scans = limits->max_scans;
    reader->state = OPENED;
    reader->cinfo.err = cjpeg_error_manager_init(&reader->errors);
    reader->cinfo.client_data = reader;
    if (setjmp(reader->errors.jump)) {
        cjpeg_status status = cjpeg_error_status(&reader->errors);
        cjpeg_set_message(message, reader->errors.message);
        cjpeg_reader_destroy(reader);
        return status;
    }
    jpeg_create_decompress(&reader->cinfo);
    reader->created = 1;
    uint64_t memory = limits->max_memory < (uint64_t)LONG_MAX ? limits->max_memory : (uint64_t)LONG_MAX;
    reader->cinfo.mem->max_memory_to_use = (long)memory;
    reader->progress.progress_monitor = on_progress;
    reader->cinfo.progress = &reader->progress;
    jpeg_mem_src(&reader->cinfo, data, (unsigned long)size);
    jpeg_read_header(&reader->cinfo, TRUE);
    *width = reader->cinfo.image_width;
    *height = reader->cinfo.image_height;
    *out = reader;
    return CJPEG_OK;
}

cjpeg_status cjpeg_reader_read_rgba(cjpeg_reader *reader, uint8_t *pixels, size_t stride) {
    if (reader == NULL) {
        return CJPEG_ERROR_ARGUMENT;
    }
    reader->errors.message[0] = '\0';
    if (reader->state != OPENED) {
        cjpeg_set_message(reader->errors.message, "the image was already read or the reader failed");
        return CJPEG_ERROR_STATE;
    }
    if (pixels == NULL || stride < (size_t)reader->cinfo.image_width * 4) {
        cjpeg_set_message(reader->errors.message, "pixels missing or stride shorter than a row");
        return CJPEG_ERROR_ARGUMENT;
    }
    if (setjmp(reader->errors.jump)) {
        reader->state = FAILED;
        return cjpeg_error_status(&reader->errors);
    }
    // libjpeg-turbo's RGBA output: grey and YCbCr files convert, CMYK ones fail with
    // "Unsupported color conversion request".
    reader->cinfo.out_color_space = JCS_EXT_RGBA;
    reader->cinfo.scale_num = 1;
    reader->cinfo.scale_denom = 1;
    jpeg_start_decompress(&reader->cinfo);
    if (reader->cinfo.output_components != 4 || reader->cinfo.output_width != reader->cinfo.image_width ||
        reader->cinfo.output_height != reader->cinfo.image_height) {
        cjpeg_set_message(reader->errors.message, "unexpected output layout");
        reader->state = FAILED;
        return CJPEG_ERROR_LIBJPEG;
    }
    while (reader->cinfo.output_scanline < reader->cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)reader->cinfo.output_scanline * stride;
        if (jpeg_read_scanlines(&reader->cinfo, &row, 1) != 1) {
            // Only a suspending source returns 0 lines; the memory source never suspends.
            cjpeg_set_message(reader->errors.message, "the decoder stopped early");
            reader->state = FAILED;
            return CJPEG_ERROR_TRUNCATED;
        }
    }
    // What follows the last scanline (an EOI marker, trailing bytes) is not read.
    reader->state = READ;
    return CJPEG_OK;
}

const char *cjpeg_reader_message(const cjpeg_reader *reader) {
    return reader != NULL ? reader->errors.message : "";
}

void cjpeg_reader_destroy(cjpeg_reader *reader) {
    if (reader == NULL) {
        return;
    }
    if (reader->created) {
        jpeg_destroy_decompress(&reader->cinfo);
    }
    free(reader);
}
