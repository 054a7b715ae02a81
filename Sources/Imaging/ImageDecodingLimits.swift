/// What an untrusted upload may cost, checked from the file's header before any pixel
/// memory is allocated.
public struct ImageDecodingLimits: Sendable, Hashable {
    /// Largest accepted file, in bytes.
    public var maxInputBytes: Int
    /// Largest accepted width and height, in pixels.
    public var maxWidth: Int
    public var maxHeight: Int
    /// Largest accepted `width * height`: the decoded image takes 4 bytes per pixel.
    public var maxPixels: Int
    /// PNG: the largest single ancillary chunk libpng may allocate (decompressed).
    public var maxPNGChunkBytes: Int
    /// PNG: the most ancillary chunks libpng keeps before giving up.
    public var maxPNGChunks: Int
    /// JPEG: libjpeg's own working memory (progressive files keep every coefficient).
    public var maxJPEGWorkingBytes: Int
    /// JPEG: the most scans of a progressive file (real files have about 10).
    public var maxJPEGScans: Int

    public init(
        maxInputBytes: Int, maxWidth: Int, maxHeight: Int, maxPixels: Int, maxPNGChunkBytes: Int = 1 << 20,
        maxPNGChunks: Int = 128, maxJPEGWorkingBytes: Int = 256 << 20, maxJPEGScans: Int = 100
    ) {
        self.maxInputBytes = maxInputBytes
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxPixels = maxPixels
        self.maxPNGChunkBytes = maxPNGChunkBytes
        self.maxPNGChunks = maxPNGChunks
        self.maxJPEGWorkingBytes = maxJPEGWorkingBytes
        self.maxJPEGScans = maxJPEGScans
    }

    /// For uploads to the edit endpoints: files up to 25 MiB, sides up to 4096, and at most
    /// 16 megapixels (64 MiB decoded). The model works at a few hundred pixels, so anything
    /// larger is only resampled down.
    public static let uploads = ImageDecodingLimits(
        maxInputBytes: 25 << 20, maxWidth: 4096, maxHeight: 4096, maxPixels: 4096 * 4096)

    /// For the engine's own PNGs when they are re-encoded (another format or size): trusted,
    /// and far below these bounds.
    public static let generated = ImageDecodingLimits(
        maxInputBytes: 1 << 30, maxWidth: 16384, maxHeight: 16384, maxPixels: 16384 * 16384)
}
