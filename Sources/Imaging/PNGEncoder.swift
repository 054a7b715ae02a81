import CPNGShim

/// Encodes 8-bit images to PNG bytes in memory through libpng.
///
/// Output is deterministic: the same pixels and options give the same bytes (no time or text
/// chunks; only IHDR, sRGB, IDAT, IEND).
public enum PNGEncoder {
    /// Encodes an RGB image.
    public static func encode(
        _ image: RGBImage, compression: PNGCompression = .small
    ) throws(PNGError) -> [UInt8] {
        try encode(
            pixels: image.pixels, width: image.width, height: image.height,
            format: .rgb, compression: compression)
    }

    /// Encodes raw rows, `width * format.channels` bytes each, no padding.
    public static func encode(
        pixels: [UInt8], width: Int, height: Int, format: PNGPixelFormat,
        compression: PNGCompression = .small
    ) throws(PNGError) -> [UInt8] {
        var config = try makeConfig(width: width, height: height, format: format, compression: compression)
        let expected = width.multipliedReportingOverflow(by: height * format.channels)
        guard !expected.overflow, pixels.count == expected.partialValue else {
            throw PNGError(
                kind: .invalidArgument,
                message: "expected \(width)x\(height)x\(format.channels) bytes, got \(pixels.count)")
        }

        var data: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: Int(CPNG_MESSAGE_CAPACITY))
        let status = pixels.withUnsafeBufferPointer { rows in
            message.withUnsafeMutableBufferPointer { messageBuffer in
                cpng_encode(
                    &config, rows.baseAddress, width * format.channels,
                    &data, &size, messageBuffer.baseAddress)
            }
        }
        if let error = PNGError(status: status, message: String(shimMessage: message)) {
            throw error
        }
        defer { cpng_free(data) }
        guard let data else {
            throw PNGError(kind: .libpng, message: "encoder returned no data")
        }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Validates Swift-side sizes and options into the shim's config. Zero sizes are passed
    /// on: libpng rejects them with its own message.
    static func makeConfig(
        width: Int, height: Int, format: PNGPixelFormat, compression: PNGCompression
    ) throws(PNGError) -> cpng_config {
        guard let width32 = UInt32(exactly: width), let height32 = UInt32(exactly: height) else {
            throw PNGError(kind: .invalidArgument, message: "image size \(width)x\(height) out of range")
        }
        guard let level = Int32(exactly: compression.level) else {
            throw PNGError(kind: .invalidArgument, message: "compression level must be 0...9")
        }
        return cpng_config(
            width: width32, height: height32, channels: Int32(format.channels),
            compression_level: level, filters: compression.filters.rawValue)
    }
}
