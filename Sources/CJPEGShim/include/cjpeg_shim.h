// A small C layer around libjpeg(-turbo).
//
// libjpeg reports errors through error_exit, which must not return; the only way out is a
// longjmp, which Swift cannot catch. So every libjpeg call happens in this target behind its own
// setjmp, and callers see status codes and copied messages only.
#ifndef CJPEG_SHIM_H
#define CJPEG_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result of every shim call. Negative values are failures.
typedef enum cjpeg_status {
    CJPEG_OK = 0,
    /// A NULL pointer or an out-of-range option, rejected before libjpeg saw it.
    CJPEG_ERROR_ARGUMENT = -1,
    /// libjpeg raised an error (corrupt data, unsupported colour space...); see the message.
    CJPEG_ERROR_LIBJPEG = -2,
    /// malloc failed, or the decode needs more memory than its limit allows.
    CJPEG_ERROR_MEMORY = -3,
    /// The data ended before the image did.
    CJPEG_ERROR_TRUNCATED = -4,
    /// More progressive scans than the reader's limit (a small file that costs minutes).
    CJPEG_ERROR_SCANS = -5,
    /// The call does not fit the reader's state.
    CJPEG_ERROR_STATE = -6,
} cjpeg_status;

/// Capacity of message buffers, including the terminating NUL.
#define CJPEG_MESSAGE_CAPACITY 256

/// Bounds on one decode.
typedef struct cjpeg_read_limits {
    /// libjpeg's max_memory_to_use: its working memory (progressive coefficient buffers among
    /// them), not counting the caller's output.
    uint64_t max_memory;
    /// Most scans of a progressive file.
    uint32_t max_scans;
} cjpeg_read_limits;

/// A JPEG decoder over an in-memory file, producing 8-bit RGBA (alpha 255).
typedef struct cjpeg_reader cjpeg_reader;

/// Reads the header. `data` must stay valid until the reader is destroyed. On success the
/// size is in `*width`, `*height` and nothing is allocated for the image yet.
cjpeg_status cjpeg_reader_open(const uint8_t *data, size_t size, const cjpeg_read_limits *limits,
                               cjpeg_reader **out, uint32_t *width, uint32_t *height,
                               char message[CJPEG_MESSAGE_CAPACITY]);

/// Decodes the image into `pixels`: rows of `width * 4` bytes, `stride` bytes apart. Once.
cjpeg_status cjpeg_reader_read_rgba(cjpeg_reader *reader, uint8_t *pixels, size_t stride);

/// The last error's message, or "". Valid until the reader is destroyed.
const char *cjpeg_reader_message(const cjpeg_reader *reader);

/// Frees the reader. Accepts NULL.
void cjpeg_reader_destroy(cjpeg_reader *reader);

/// Encodes 8-bit RGB rows (`width * 3` bytes each, `stride` apart) at `quality` 1...100.
/// Quality 90 and above keeps full-resolution colour (4:4:4); below, colour is halved in both
/// directions (4:2:0). `comment` (may be NULL) goes into a COM marker, at most 65533 bytes.
/// On success `*out_data` holds `*out_size` bytes to release with cjpeg_free.
cjpeg_status cjpeg_encode_rgb(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                              int quality, const uint8_t *comment, size_t comment_size,
                              uint8_t **out_data, size_t *out_size,
                              char message[CJPEG_MESSAGE_CAPACITY]);

/// Releases a buffer from cjpeg_encode_rgb. Accepts NULL.
void cjpeg_free(void *data);

#ifdef __cplusplus
}
#endif

#endif
