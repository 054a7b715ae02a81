/// A decoded upload: 8-bit sRGB with alpha, rows top to bottom, four bytes R, G, B, A per
/// pixel. Files without alpha decode with every alpha byte 255 and `hasAlpha` false.
public struct DecodedImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 4` bytes, interleaved RGBA, no row padding.
    public private(set) var pixels: [UInt8]
    /// Whether the file carried transparency (an alpha channel, or a PNG tRNS chunk). Masks
    /// are read from the alpha channel, so it is kept even when every value is 255.
    public let hasAlpha: Bool

    /// Wraps existing RGBA bytes. `pixels.count` must be `width * height * 4`.
    public init(width: Int, height: Int, pixels: [UInt8], hasAlpha: Bool) {
        precondition(width >= 0 && height >= 0, "negative image size")
        precondition(pixels.count == width * height * 4, "pixel count does not match size")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.hasAlpha = hasAlpha
    }

    /// An opaque copy of an RGB image.
    public init(_ image: RGBImage) {
        var rgba = [UInt8](repeating: 255, count: image.width * image.height * 4)
        image.pixels.withUnsafeBufferPointer { source in
            rgba.withUnsafeMutableBufferPointer { target in
                for pixel in 0..<image.width * image.height {
                    target[4 * pixel] = source[3 * pixel]
                    target[4 * pixel + 1] = source[3 * pixel + 1]
                    target[4 * pixel + 2] = source[3 * pixel + 2]
                }
            }
        }
        self.init(width: image.width, height: image.height, pixels: rgba, hasAlpha: false)
    }

    /// The colour channels, alpha dropped (not composited: the colour of a transparent pixel
    /// is what the file stored there).
    public var rgb: RGBImage {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeBufferPointer { source in
            rgb.withUnsafeMutableBufferPointer { target in
                for pixel in 0..<width * height {
                    target[3 * pixel] = source[4 * pixel]
                    target[3 * pixel + 1] = source[4 * pixel + 1]
                    target[3 * pixel + 2] = source[4 * pixel + 2]
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    /// The alpha channel, one byte per pixel (0 transparent ... 255 opaque).
    public var alpha: [UInt8] {
        stride(from: 3, to: pixels.count, by: 4).map { pixels[$0] }
    }
}
