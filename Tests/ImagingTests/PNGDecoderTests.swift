import Imaging
import XCTest

/// Every PNG colour type and depth decodes to 8-bit RGBA.
final class PNGDecoderTests: XCTestCase {
    func testGreyIsExpandedToRGB() throws {
        let png = CraftedPNG(width: 3, height: 1, bitDepth: 8, colorType: 0, rows: [[0, 128, 255]]).bytes
        let decoded = try ImageDecoder.decode(png)
        XCTAssertEqual(decoded.pixels, [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255])
        XCTAssertFalse(decoded.hasAlpha)
    }

    func testOneBitGreyIsScaledToFullRange() throws {
        // 0b1010_0000: pixels 1, 0, 1.
        let png = CraftedPNG(width: 3, height: 1, bitDepth: 1, colorType: 0, rows: [[0b1010_0000]]).bytes
        XCTAssertEqual(try ImageDecoder.decode(png).rgb.pixels, [255, 255, 255, 0, 0, 0, 255, 255, 255])
    }

    func testSixteenBitIsRoundedToEightBits() throws {
        // RGB 16-bit: 0xFFFF, 0x8080 (128.5 * 257 rounds to 128), 0x0000.
        let png = CraftedPNG(width: 1, height: 1, bitDepth: 16, colorType: 2, rows: [[0xFF, 0xFF, 0x80, 0x80, 0x00, 0x00]]).bytes
        XCTAssertEqual(try ImageDecoder.decode(png).pixels, [255, 128, 0, 255])
    }

    func testGreyAlphaKeepsAlpha() throws {
        let png = CraftedPNG(width: 2, height: 1, bitDepth: 8, colorType: 4, rows: [[10, 0, 20, 200]]).bytes
        let decoded = try ImageDecoder.decode(png)
        XCTAssertTrue(decoded.hasAlpha)
        XCTAssertEqual(decoded.pixels, [10, 10, 10, 0, 20, 20, 20, 200])
        XCTAssertEqual(decoded.alpha, [0, 200])
    }

    func testPaletteWithTransparencyBecomesAlpha() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 0, 255]
        let png = CraftedPNG(
            width: 2, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 1]], extra: [("PLTE", palette), ("tRNS", [0])]
        ).bytes
        let decoded = try ImageDecoder.decode(png)
        XCTAssertTrue(decoded.hasAlpha)
        XCTAssertEqual(decoded.pixels, [255, 0, 0, 0, 0, 0, 255, 255])
    }

    func testAncillaryChunksAreSkipped() throws {
        // A zTXt whose payload would inflate to 8 MiB of zeros: beyond the 1 MiB chunk limit, so
        // libpng would fail had it inflated the chunk rather than skipped it.
        let bomb = Array("Comment\0\0".utf8) + CraftedPNG.deflate([UInt8](repeating: 0, count: 8 << 20))
        let png = CraftedPNG(width: 1, height: 1, bitDepth: 8, colorType: 0, rows: [[7]], extra: [("zTXt", bomb)]).bytes
        XCTAssertEqual(try ImageDecoder.decode(png).pixels, [7, 7, 7, 255])
    }
}
