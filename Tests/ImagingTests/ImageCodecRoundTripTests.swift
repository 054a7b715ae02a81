import Imaging
import XCTest

/// Encode with each format, decode with ImageDecoder: sizes exact, pixels within the format's
/// loss.
final class ImageCodecRoundTripTests: XCTestCase {
    /// A smooth picture: lossy codecs are judged on what they are made for.
    static func smooth(width: Int, height: Int) -> RGBImage {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                pixels += [UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), UInt8((x + y) * 2 % 256 / 2 + 64)]
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static func meanAbsoluteError(_ decoded: DecodedImage, _ original: RGBImage) -> Double {
        let rgb = decoded.rgb.pixels
        let total = zip(rgb, original.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        return Double(total) / Double(rgb.count)
    }

    func testPNGIsExact() throws {
        let image = TestImages.variedRGB(width: 37, height: 23)
        let decoded = try ImageDecoder.decode(ImageEncoder.encode(image, as: .png))
        XCTAssertEqual(decoded.rgb, image)
        XCTAssertFalse(decoded.hasAlpha)
        XCTAssertTrue(decoded.alpha.allSatisfy { $0 == 255 })
    }

    func testPNGKeepsAlpha() throws {
        let rgba = TestImages.varied(width: 19, height: 11, channels: 4)
        let png = try PNGEncoder.encode(pixels: rgba, width: 19, height: 11, format: .rgba)
        let decoded = try ImageDecoder.decode(png)
        XCTAssertTrue(decoded.hasAlpha)
        XCTAssertEqual(decoded.pixels, rgba)
    }

    func testPNGParametersTravelInATextChunk() throws {
        let png = try ImageEncoder.encode(TestImages.variedRGB(width: 4, height: 4), as: .png, parameters: "a cat\nSteps: 8")
        XCTAssertNotNil(png.firstRange(of: Array("tEXtparameters\0a cat\nSteps: 8".utf8)))
    }

    func testJPEGWithinLossBound() throws {
        let image = Self.smooth(width: 64, height: 48)
        let jpeg = try ImageEncoder.encode(image, as: .jpeg, compression: 90)
        XCTAssertEqual(Array(jpeg.prefix(3)), [0xFF, 0xD8, 0xFF])
        let decoded = try ImageDecoder.decode(jpeg)
        XCTAssertEqual([decoded.width, decoded.height], [64, 48])
        XCTAssertFalse(decoded.hasAlpha)
        XCTAssertLessThan(Self.meanAbsoluteError(decoded, image), 2.5)
    }

    func testJPEGCompressionTradesSizeForError() throws {
        let image = TestImages.variedRGB(width: 64, height: 64)
        let low = try ImageEncoder.encode(image, as: .jpeg, compression: 20)
        let high = try ImageEncoder.encode(image, as: .jpeg, compression: 95)
        XCTAssertLessThan(low.count, high.count)
        XCTAssertGreaterThan(
            Self.meanAbsoluteError(try ImageDecoder.decode(low), image), Self.meanAbsoluteError(try ImageDecoder.decode(high), image))
        // 0 is the lowest quality, not an error.
        XCTAssertNoThrow(try ImageEncoder.encode(image, as: .jpeg, compression: 0))
    }

    func testJPEGParametersTravelInAComment() throws {
        let jpeg = try ImageEncoder.encode(TestImages.variedRGB(width: 8, height: 8), as: .jpeg, parameters: "a dog")
        XCTAssertNotNil(jpeg.firstRange(of: [0xFF, 0xFE, 0x00, 0x07] + Array("a dog".utf8)))
    }

    func testWebPAt100IsLossless() throws {
        let image = TestImages.variedRGB(width: 33, height: 17)
        let webp = try ImageEncoder.encode(image, as: .webp, compression: 100)
        XCTAssertEqual(SniffedFormat(webp), .supported(.webp))
        XCTAssertEqual(try ImageDecoder.decode(webp).rgb, image)
    }

    func testLossyWebPWithinLossBound() throws {
        let image = Self.smooth(width: 64, height: 48)
        let decoded = try ImageDecoder.decode(ImageEncoder.encode(image, as: .webp, compression: 90))
        XCTAssertEqual([decoded.width, decoded.height], [64, 48])
        XCTAssertLessThan(Self.meanAbsoluteError(decoded, image), 3)
    }

    func testEncodingIsDeterministic() throws {
        let image = TestImages.variedRGB(width: 20, height: 20)
        for format in ImageFormat.allCases {
            for compression in [0, 50, 100] {
                XCTAssertEqual(
                    try ImageEncoder.encode(image, as: format, compression: compression),
                    try ImageEncoder.encode(image, as: format, compression: compression), "\(format) \(compression)")
            }
        }
    }

    func testBadEncoderArguments() {
        let image = TestImages.variedRGB(width: 4, height: 4)
        for compression in [-1, 101] {
            XCTAssertThrowsError(try ImageEncoder.encode(image, as: .jpeg, compression: compression)) {
                XCTAssertEqual($0 as? ImageEncodingError, .invalidCompression(compression))
            }
        }
        let empty = RGBImage(width: 0, height: 0, pixels: [])
        for format in ImageFormat.allCases {
            XCTAssertThrowsError(try ImageEncoder.encode(empty, as: format)) {
                guard case .invalidImage = $0 as? ImageEncodingError else { return XCTFail("\($0)") }
            }
        }
        let wide = RGBImage(width: 16384, height: 1, fill: RGBColor(grey: 1))
        XCTAssertThrowsError(try ImageEncoder.encode(wide, as: .webp)) {
            guard case .invalidImage = $0 as? ImageEncodingError else { return XCTFail("\($0)") }
        }
    }
}
