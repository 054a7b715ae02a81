// One-shot encoding: a whole image in, one malloc'd PNG out.
#include "cpng_internal.h"

#include <stdio.h>
#include <stdlib.h>

cpng_status cpng_encode(const cpng_config *config, const uint8_t *pixels, size_t stride,
                        uint8_t **out_data, size_t *out_size,
                        char message[CPNG_MESSAGE_CAPACITY]) {
    if (out_data == NULL || out_size == NULL || config == NULL) {
        if (message != NULL) {
            snprintf(message, CPNG_MESSAGE_CAPACITY, "%s", "missing config or output");
        }
        return CPNG_ERROR_ARGUMENT;
    }
    *out_data = NULL;
    *out_size = 0;

    cpng_writer *writer = NULL;
    cpng_status status = cpng_writer_create(config, &writer, message);
    if (status != CPNG_OK) {
        return status;
    }
    status = cpng_writer_write_rows(writer, pixels, stride, config->height);
    if (status == CPNG_OK) {
        status = cpng_writer_finish(writer);
    }
    if (status != CPNG_OK) {
        if (message != NULL) {
            snprintf(message, CPNG_MESSAGE_CAPACITY, "%s", cpng_writer_message(writer));
        }
        cpng_writer_destroy(writer);
        return status;
    }
    *out_data = cpng_writer_detach_output(writer, out_size);
    cpng_writer_destroy(writer);
    return CPNG_OK;
}

void cpng_free(void *data) {
    free(data);
}
