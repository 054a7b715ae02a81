// libwebp reports errors by return values, so Swift calls it directly (no C shim).
#include <webp/decode.h>
#include <webp/encode.h>
