import CPNGShim

/// The PNG row filters libpng may choose from. With more than one, libpng picks per row
/// whichever makes the row most compressible (adaptive filtering).
public struct PNGFilters: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let none = PNGFilters(rawValue: Int32(CPNG_FILTER_NONE))
    public static let sub = PNGFilters(rawValue: Int32(CPNG_FILTER_SUB))
    public static let up = PNGFilters(rawValue: Int32(CPNG_FILTER_UP))
    public static let average = PNGFilters(rawValue: Int32(CPNG_FILTER_AVERAGE))
    public static let paeth = PNGFilters(rawValue: Int32(CPNG_FILTER_PAETH))
    public static let all: PNGFilters = [.none, .sub, .up, .average, .paeth]
}

/// How hard to compress: a zlib level and the allowed row filters.
public struct PNGCompression: Sendable, Hashable {
    /// zlib level, 0 (store) ... 9 (smallest).
    public var level: Int
    public var filters: PNGFilters

    public init(level: Int, filters: PNGFilters) {
        self.level = level
        self.filters = filters
    }

    /// For progress previews sent many times a second: zlib level 1 and the Sub filter,
    /// which turns the flat colour runs of previews into zero runs without a per-row search.
    public static let fast = PNGCompression(level: 1, filters: .sub)

    /// For final images: zlib level 9 with adaptive filtering.
    public static let small = PNGCompression(level: 9, filters: .all)

    /// A given zlib level with adaptive filtering (no filtering at level 0, where the data
    /// is stored uncompressed and filtering would be wasted work).
    public static func level(_ level: Int) -> PNGCompression {
        PNGCompression(level: level, filters: level == 0 ? .none : .all)
    }
}

/// The sample layout of raw pixel bytes handed to the encoder; 8 bits per sample.
public enum PNGPixelFormat: Int, Sendable {
    case rgb = 3
    case rgba = 4

    /// Bytes per pixel.
    public var channels: Int { rawValue }
}
