/// Decodes untrusted image files (PNG, JPEG, WebP) to RGBA within limits.
///
/// The format comes from the file's magic bytes. The declared size is checked against the
/// limits from the header alone, before any pixel memory is allocated; every failure is an
/// `ImageDecodingError`, never a trap.
public enum ImageDecoder {
    public static func decode(
        _ bytes: [UInt8], limits: ImageDecodingLimits = .uploads
    ) throws(ImageDecodingError) -> DecodedImage {
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= limits.maxInputBytes else {
            throw .fileTooLarge(bytes: bytes.count, limit: limits.maxInputBytes)
        }
        switch SniffedFormat(bytes) {
        case .supported(.png): return try PNGDecoder.decode(bytes, limits: limits)
        case .supported(.jpeg): return try JPEGDecoder.decode(bytes, limits: limits)
        case .supported(.webp): return try WebPDecoder.decode(bytes, limits: limits)
        case .unsupported(let name): throw .unsupportedFormat(name)
        case .unknown: throw .unknownFormat
        }
    }

    /// Rejects a declared size the limits do not allow.
    static func check(width: Int, height: Int, format: ImageFormat, limits: ImageDecodingLimits) throws(ImageDecodingError) {
        guard width > 0, height > 0 else { throw .emptyImage(format) }
        guard width <= limits.maxWidth, height <= limits.maxHeight else {
            throw .dimensionsTooLarge(width: width, height: height, maxWidth: limits.maxWidth, maxHeight: limits.maxHeight)
        }
        // Both sides are bounded above, so the product cannot overflow on 64-bit for any sane
        // limit; multipliedReportingOverflow keeps it a clear error for insane ones too.
        let product = width.multipliedReportingOverflow(by: height)
        guard !product.overflow, product.partialValue <= limits.maxPixels else {
            throw .tooManyPixels(width: width, height: height, limit: limits.maxPixels)
        }
    }

    /// Allocates `width * height * 4` bytes and lets `fill` write every one of them through a
    /// pointer, without zeroing them first. The error `fill` returns, if any, is thrown.
    static func allocateRGBA(
        width: Int, height: Int, fill: (UnsafeMutablePointer<UInt8>, _ stride: Int) -> ImageDecodingError?
    ) throws(ImageDecodingError) -> [UInt8] {
        let count = width * height * 4
        var failure: ImageDecodingError?
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            failure = fill(buffer.baseAddress!, width * 4)
            initialized = failure == nil ? count : 0
        }
        if let failure { throw failure }
        return pixels
    }
}
