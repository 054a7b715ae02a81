import CLibWebP

/// WebP files (lossy, lossless, with or without alpha; not animated) through libwebp.
enum WebPDecoder {
    static func decode(_ bytes: [UInt8], limits: ImageDecodingLimits) throws(ImageDecodingError) -> DecodedImage {
        try bytes.withUnsafeBufferPointer { (data) throws(ImageDecodingError) -> DecodedImage in
            var config = WebPDecoderConfig()
            guard WebPInitDecoderConfig(&config) != 0 else {
                throw .corrupt(.webp, message: "libwebp version mismatch")
            }
            // Features come from the headers alone: nothing is decoded or allocated yet.
            let featureStatus = WebPGetFeatures(data.baseAddress, data.count, &config.input)
            guard featureStatus == VP8_STATUS_OK else { throw error(featureStatus) }
            guard config.input.has_animation == 0 else { throw .unsupportedFeature(.webp, "animation") }
            let width = Int(config.input.width), height = Int(config.input.height)
            try ImageDecoder.check(width: width, height: height, format: .webp, limits: limits)
            let hasAlpha = config.input.has_alpha != 0

            let pixels = try ImageDecoder.allocateRGBA(width: width, height: height) { pointer, stride in
                config.output.colorspace = MODE_RGBA
                config.output.is_external_memory = 1
                config.output.u.RGBA.rgba = pointer
                config.output.u.RGBA.stride = Int32(stride)
                config.output.u.RGBA.size = stride * height
                let status = WebPDecode(data.baseAddress, data.count, &config)
                // External memory: WebPFreeDecBuffer frees nothing of ours, only libwebp's state.
                WebPFreeDecBuffer(&config.output)
                return status == VP8_STATUS_OK ? nil : error(status)
            }
            return DecodedImage(width: width, height: height, pixels: pixels, hasAlpha: hasAlpha)
        }
    }

    private static func error(_ status: VP8StatusCode) -> ImageDecodingError {
        switch status {
        case VP8_STATUS_NOT_ENOUGH_DATA: .truncated(.webp)
        case VP8_STATUS_OUT_OF_MEMORY: .outOfMemory(.webp)
        case VP8_STATUS_UNSUPPORTED_FEATURE: .unsupportedFeature(.webp, "feature")
        case VP8_STATUS_BITSTREAM_ERROR: .corrupt(.webp, message: "invalid bitstream")
        default: .corrupt(.webp, message: "libwebp status \(status.rawValue)")
        }
    }
}
