import CJPEGShim

/// JPEG files through libjpeg-turbo (via CJPEGShim), to RGBA with opaque alpha.
enum JPEGDecoder {
    static func decode(_ bytes: [UInt8], limits: ImageDecodingLimits) throws(ImageDecodingError) -> DecodedImage {
        var cLimits = cjpeg_read_limits(
            max_memory: UInt64(max(0, limits.maxJPEGWorkingBytes)), max_scans: UInt32(clamping: limits.maxJPEGScans))
        var message = [CChar](repeating: 0, count: Int(CJPEG_MESSAGE_CAPACITY))
        var reader: OpaquePointer?
        var width32: UInt32 = 0, height32: UInt32 = 0
        return try bytes.withUnsafeBufferPointer { (data) throws(ImageDecodingError) -> DecodedImage in
            let status = message.withUnsafeMutableBufferPointer { messageBuffer in
                cjpeg_reader_open(data.baseAddress, data.count, &cLimits, &reader, &width32, &height32, messageBuffer.baseAddress)
            }
            guard status == CJPEG_OK, let reader else {
                throw error(status, message: String(shimMessage: message), limits: limits)
            }
            defer { cjpeg_reader_destroy(reader) }
            let width = Int(width32), height = Int(height32)
            try ImageDecoder.check(width: width, height: height, format: .jpeg, limits: limits)
            let pixels = try ImageDecoder.allocateRGBA(width: width, height: height) { pointer, stride in
                let status = cjpeg_reader_read_rgba(reader, pointer, stride)
                return status == CJPEG_OK
                    ? nil : error(status, message: String(cString: cjpeg_reader_message(reader)), limits: limits)
            }
            return DecodedImage(width: width, height: height, pixels: pixels, hasAlpha: false)
        }
    }

    private static func error(_ status: cjpeg_status, message: String, limits: ImageDecodingLimits) -> ImageDecodingError {
        switch status {
        case CJPEG_ERROR_TRUNCATED: return .truncated(.jpeg)
        case CJPEG_ERROR_SCANS: return .tooManyScans(limit: limits.maxJPEGScans)
        case CJPEG_ERROR_MEMORY: return .outOfMemory(.jpeg)
        default:
            if message.contains("Unsupported color conversion") {
                return .unsupportedFeature(.jpeg, "colour space (CMYK or YCCK)")
            }
            return .corrupt(.jpeg, message: message)
        }
    }
}
