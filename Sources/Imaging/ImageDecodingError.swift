/// Why an upload cannot be decoded. Every case is the client's problem (an HTTP 400), and
/// `description` is written to be shown to the client.
public enum ImageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No bytes at all.
    case empty
    /// The file is larger than `limit` bytes.
    case fileTooLarge(bytes: Int, limit: Int)
    /// A format recognised by its magic bytes that is not decoded (GIF, BMP, ...).
    case unsupportedFormat(String)
    /// Not an image file this module recognises.
    case unknownFormat
    /// The header declares a zero width or height.
    case emptyImage(ImageFormat)
    /// The header declares a side beyond the limits.
    case dimensionsTooLarge(width: Int, height: Int, maxWidth: Int, maxHeight: Int)
    /// The header declares more pixels than the limit.
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The file ends before its image does.
    case truncated(ImageFormat)
    /// A progressive JPEG with more scans than the limit.
    case tooManyScans(limit: Int)
    /// A valid file using a feature not supported here (animated WebP, CMYK JPEG, ...).
    case unsupportedFeature(ImageFormat, String)
    /// The data is damaged; `message` is the codec's reason.
    case corrupt(ImageFormat, message: String)
    /// Decoding would need more memory than allowed or available.
    case outOfMemory(ImageFormat)

    public var description: String {
        switch self {
        case .empty:
            return "the image file is empty"
        case .fileTooLarge(let bytes, let limit):
            return "the image file is \(bytes) bytes; the limit is \(limit)"
        case .unsupportedFormat(let name):
            return "\(name) images are not supported; send PNG, JPEG or WebP"
        case .unknownFormat:
            return "not a PNG, JPEG or WebP image"
        case .emptyImage(let format):
            return "the \(format.name) image has zero width or height"
        case .dimensionsTooLarge(let width, let height, let maxWidth, let maxHeight):
            return "the image is \(width)x\(height); the limit is \(maxWidth)x\(maxHeight)"
        case .tooManyPixels(let width, let height, let limit):
            return "the image is \(width)x\(height) (\(width * height) pixels); the limit is \(limit) pixels"
        case .truncated(let format):
            return "the \(format.name) file is truncated"
        case .tooManyScans(let limit):
            return "the progressive JPEG has more than \(limit) scans"
        case .unsupportedFeature(let format, let feature):
            return "\(format.name) \(feature) is not supported"
        case .corrupt(let format, let message):
            return message.isEmpty ? "the \(format.name) file is damaged" : "the \(format.name) file is damaged: \(message)"
        case .outOfMemory(let format):
            return "the \(format.name) image needs more memory to decode than allowed"
        }
    }
}

extension ImageFormat {
    /// The name people use for the format, in messages.
    public var name: String {
        switch self {
        case .png: "PNG"
        case .jpeg: "JPEG"
        case .webp: "WebP"
        }
    }
}
