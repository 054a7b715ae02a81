import CJPEGShim
import CLibWebP

/// Encodes a finished image as PNG, JPEG or WebP: the one entry point for every output format.
///
/// `compression` follows the OpenAI Images API's `output_compression`: 0...100, where higher
/// keeps more quality (it is the JPEG/WebP quality). JPEG quality 0 is encoded as 1 (libjpeg's
/// lowest). WebP at 100 is lossless; below 100 it is lossy at that quality. PNG is always
/// lossless and ignores `compression` (the HTTP layer decides whether to refuse it with PNG).
/// Output is deterministic: the same pixels and options give the same bytes.
public enum ImageEncoder {
    /// The OpenAI API's default `output_compression`.
    public static let defaultCompression = 100

    /// The range of `compression`.
    public static let compressionRange = 0...100

    /// WebP's largest side (the format stores 14 bits).
    static let maxWebPSide = 16383

    /// Encodes `image`. `parameters`, the generation parameters in A1111's text convention,
    /// travels in a PNG `parameters` text chunk or a JPEG comment; WebP output carries none.
    public static func encode(
        _ image: RGBImage, as format: ImageFormat, compression: Int = defaultCompression, parameters: String? = nil
    ) throws(ImageEncodingError) -> [UInt8] {
        guard compressionRange.contains(compression) else { throw .invalidCompression(compression) }
        guard image.width > 0, image.height > 0 else {
            throw .invalidImage("cannot encode an empty \(image.width)x\(image.height) image")
        }
        switch format {
        case .png: return try encodePNG(image, parameters: parameters)
        case .jpeg: return try encodeJPEG(image, quality: max(1, compression), comment: parameters)
        case .webp: return try encodeWebP(image, compression: compression)
        }
    }

    private static func encodePNG(_ image: RGBImage, parameters: String?) throws(ImageEncodingError) -> [UInt8] {
        let png: [UInt8]
        do {
            png = try PNGEncoder.encode(image, compression: .small)
        } catch {
            throw .encoder(.png, error.message)
        }
        guard let parameters else { return png }
        return PNGTextChunk.inserting(keyword: "parameters", text: parameters, into: png)
    }

    private static func encodeJPEG(_ image: RGBImage, quality: Int, comment: String?) throws(ImageEncodingError) -> [UInt8] {
        guard let width = UInt32(exactly: image.width), let height = UInt32(exactly: image.height) else {
            throw .invalidImage("image size \(image.width)x\(image.height) out of range")
        }
        let commentBytes = Array((comment ?? "").utf8)
        var data: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: Int(CJPEG_MESSAGE_CAPACITY))
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            commentBytes.withUnsafeBufferPointer { comment in
                message.withUnsafeMutableBufferPointer { messageBuffer in
                    cjpeg_encode_rgb(
                        pixels.baseAddress, width, height, image.rowBytes, Int32(quality), comment.baseAddress, comment.count,
                        &data, &size, messageBuffer.baseAddress)
                }
            }
        }
        defer { cjpeg_free(data) }
        guard status == CJPEG_OK, let data else {
            throw .encoder(.jpeg, String(shimMessage: message))
        }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    private static func encodeWebP(_ image: RGBImage, compression: Int) throws(ImageEncodingError) -> [UInt8] {
        guard image.width <= maxWebPSide, image.height <= maxWebPSide else {
            throw .invalidImage("WebP images are at most \(maxWebPSide) pixels a side, not \(image.width)x\(image.height)")
        }
        var output: UnsafeMutablePointer<UInt8>?
        let size = image.pixels.withUnsafeBufferPointer { pixels in
            let width = Int32(image.width), height = Int32(image.height), stride = Int32(image.rowBytes)
            return compression == compressionRange.upperBound
                ? WebPEncodeLosslessRGB(pixels.baseAddress, width, height, stride, &output)
                : WebPEncodeRGB(pixels.baseAddress, width, height, stride, Float(compression), &output)
        }
        defer { WebPFree(output) }
        guard size > 0, let output else { throw .encoder(.webp, "libwebp could not encode the image") }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }
}

/// A failed encode. Apart from `invalidCompression` (a client's parameter), these are the
/// server's problems.
public enum ImageEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `compression` outside 0...100.
    case invalidCompression(Int)
    /// An image the format cannot hold (empty, or too large).
    case invalidImage(String)
    /// The codec library failed; its message.
    case encoder(ImageFormat, String)

    public var description: String {
        switch self {
        case .invalidCompression(let value): "output compression must be 0...100, not \(value)"
        case .invalidImage(let reason): reason
        case .encoder(let format, let message): "\(format.name) encoding failed: \(message)"
        }
    }
}
