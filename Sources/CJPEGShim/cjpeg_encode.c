// One-shot JPEG encoding of 8-bit RGB into a malloc'd buffer.
#include "cjpeg_internal.h"

#include <stdlib.h>
#include <string.h>

// JPEG's COM marker holds a 16-bit length that counts its own two bytes.
#define COMMENT_CAPACITY 65533

cjpeg_status cjpeg_encode_rgb(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                              int quality, const uint8_t *comment, size_t comment_size,
                              uint8_t **out_data, size_t *out_size,
                              char message[CJPEG_MESSAGE_CAPACITY]) {
    cjpeg_set_message(message, "");
    if (out_data == NULL || out_size == NULL || pixels == NULL) {
        cjpeg_set_message(message, "missing pixels or output");
        return CJPEG_ERROR_ARGUMENT;
    }
    *out_data = NULL;
    *out_size = 0;
    if (width == 0 || height == 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        cjpeg_set_message(message, "JPEG sizes are 1...65500 pixels a side");
        return CJPEG_ERROR_ARGUMENT;
    }
    if (stride < (size_t)width * 3) {
        cjpeg_set_message(message, "stride shorter than a row");
        return CJPEG_ERROR_ARGUMENT;
    }
    if (quality < 1 || quality > 100) {
        cjpeg_set_message(message, "quality must be 1...100");
        return CJPEG_ERROR_ARGUMENT;
    }
    if (comment_size > COMMENT_CAPACITY || (comment == NULL && comment_size > 0)) {
        cjpeg_set_message(message, "a JPEG comment holds at most 65533 bytes");
        return CJPEG_ERROR_ARGUMENT;
    }

    // The error path reads only locals that libjpeg changes through pointers (so they live in
    // memory, not registers) and none that this function assigns after setjmp.
    struct jpeg_compress_struct cinfo;
    cjpeg_error_manager errors;
    unsigned char *buffer = NULL;
    unsigned long size = 0;
    cinfo.err = cjpeg_error_manager_init(&errors);
    if (setjmp(errors.jump)) {
        cjpeg_set_message(message, errors.message);
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return cjpeg_error_status(&errors);
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    // Huffman tables fitted to the image: a few percent smaller, still deterministic.
    cinfo.optimize_coding = TRUE;
    if (quality >= 90) {
        cinfo.comp_info[0].h_samp_factor = 1;
        cinfo.comp_info[0].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    if (comment_size > 0) {
        jpeg_write_marker(&cinfo, JPEG_COM, comment, (unsigned int)comment_size);
    }
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out_data = buffer;
    *out_size = size;
    return CJPEG_OK;
}

void cjpeg_free(void *data) {
    free(data);
}
