/// The image file formats the server reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png
    case jpeg
    case webp

    /// The media type for `Content-Type` and data URLs.
    public var mediaType: String {
        switch self {
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .webp: "image/webp"
        }
    }

    /// The usual file name extension, without the dot.
    public var fileExtension: String {
        switch self {
        case .png: "png"
        case .jpeg: "jpg"
        case .webp: "webp"
        }
    }

    /// The format a file name's extension stands for (`.png`, `.jpg`/`.jpeg`, `.webp`, any
    /// case); nil for anything else.
    public init?(fileName: String) {
        guard let dot = fileName.lastIndex(of: "."), !fileName[dot...].contains("/") else { return nil }
        switch fileName[fileName.index(after: dot)...].lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        case "webp": self = .webp
        default: return nil
        }
    }
}

/// What the first bytes of a file say it is: a format this module decodes, or the name of one
/// it recognises but does not (for the error message).
public enum SniffedFormat: Sendable, Equatable {
    case supported(ImageFormat)
    case unsupported(String)
    case unknown

    /// Detects the format from magic bytes only: file names and declared media types of
    /// uploads are not trusted.
    public init(_ bytes: some Collection<UInt8>) {
        let head = Array(bytes.prefix(16))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + magic.count && Array(head[offset..<offset + magic.count]) == magic
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .supported(.png)
        } else if starts([0xFF, 0xD8, 0xFF]) {
            self = .supported(.jpeg)
        } else if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) {
            self = .supported(.webp)
        } else if starts(Array("GIF8".utf8)) {
            self = .unsupported("GIF")
        } else if starts(Array("BM".utf8)) {
            self = .unsupported("BMP")
        } else if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) {
            self = .unsupported("TIFF")
        } else if starts(Array("ftyp".utf8), at: 4) {
            self = .unsupported("HEIF/AVIF")
        } else if starts([0x00, 0x00, 0x01, 0x00]) {
            self = .unsupported("ICO")
        } else {
            self = .unknown
        }
    }
}
