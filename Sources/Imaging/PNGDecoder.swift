import CPNGShim

/// PNG files through libpng (via CPNGShim), normalised to 8-bit RGBA.
enum PNGDecoder {
    static func decode(_ bytes: [UInt8], limits: ImageDecodingLimits) throws(ImageDecodingError) -> DecodedImage {
        let (width, height) = try headerSize(bytes)
        try ImageDecoder.check(width: width, height: height, format: .png, limits: limits)

        var cLimits = cpng_read_limits(
            max_width: UInt32(clamping: limits.maxWidth), max_height: UInt32(clamping: limits.maxHeight),
            max_chunk_bytes: max(0, limits.maxPNGChunkBytes), max_chunks: UInt32(clamping: limits.maxPNGChunks))
        var message = [CChar](repeating: 0, count: Int(CPNG_MESSAGE_CAPACITY))
        var info = cpng_read_info()
        var reader: OpaquePointer?
        // The reader points into `bytes` until destroyed, so all of its life is inside this closure.
        return try bytes.withUnsafeBufferPointer { (data) throws(ImageDecodingError) -> DecodedImage in
            let status = message.withUnsafeMutableBufferPointer { messageBuffer in
                cpng_reader_open(data.baseAddress, data.count, &cLimits, &reader, &info, messageBuffer.baseAddress)
            }
            guard status == CPNG_OK, let reader else {
                throw error(status, message: String(shimMessage: message))
            }
            defer { cpng_reader_destroy(reader) }
            // The header was checked above; libpng's view must agree before its rows are trusted.
            guard Int(info.width) == width, Int(info.height) == height else {
                throw .corrupt(.png, message: "inconsistent header")
            }
            let pixels = try ImageDecoder.allocateRGBA(width: width, height: height) { pointer, stride in
                let status = cpng_reader_read_rgba(reader, pointer, stride)
                return status == CPNG_OK ? nil : error(status, message: String(cString: cpng_reader_message(reader)))
            }
            return DecodedImage(width: width, height: height, pixels: pixels, hasAlpha: info.has_alpha != 0)
        }
    }

    /// Width and height from the IHDR chunk, which the PNG specification puts right after the
    /// signature: read here so oversized images are refused before libpng runs at all.
    static func headerSize(_ bytes: [UInt8]) throws(ImageDecodingError) -> (width: Int, height: Int) {
        guard bytes.count >= 24 else { throw .truncated(.png) }
        func word(_ offset: Int) -> Int {
            bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        guard word(8) == 13, bytes[12..<16].elementsEqual("IHDR".utf8) else {
            throw .corrupt(.png, message: "the first chunk is not a 13-byte IHDR")
        }
        let width = word(16), height = word(20)
        // The specification caps both at 2^31 - 1; a larger value is damage, not a big image.
        guard width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw .corrupt(.png, message: "image size \(width)x\(height) out of range")
        }
        return (width, height)
    }

    private static func error(_ status: cpng_status, message: String) -> ImageDecodingError {
        switch status {
        case CPNG_ERROR_TRUNCATED: .truncated(.png)
        case CPNG_ERROR_MEMORY: .outOfMemory(.png)
        default: .corrupt(.png, message: message)
        }
    }
}
