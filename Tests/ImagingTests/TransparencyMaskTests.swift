import Imaging
import XCTest

/// An edit mask's transparent pixels, carried to the model's square image the way
/// `fittedToSquare` carries the picture: same crop, every touched target pixel marked.
final class TransparencyMaskTests: XCTestCase {
    /// `width x height` RGBA, opaque except where `transparent(x, y)`.
    func mask(width: Int, height: Int, transparent: (Int, Int) -> Bool) -> DecodedImage {
        var pixels = [UInt8](repeating: 255, count: width * height * 4)
        for y in 0..<height {
            for x in 0..<width where transparent(x, y) { pixels[(y * width + x) * 4 + 3] = 0 }
        }
        return DecodedImage(width: width, height: height, pixels: pixels, hasAlpha: true)
    }

    func testSameSizeMarksExactlyTheTransparentPixels() {
        let marked = mask(width: 8, height: 8) { x, y in x < 3 && y >= 5 }.transparentPixels(fittedToSquare: 8)
        for y in 0..<8 {
            for x in 0..<8 { XCTAssertEqual(marked[y * 8 + x], x < 3 && y >= 5, "(\(x), \(y))") }
        }
    }

    func testOnePixelStrokeSurvivesDownscaling() {
        // A one-pixel line in a 256x256 mask still marks a full row of the 64x64 image.
        let marked = mask(width: 256, height: 256) { _, y in y == 130 }.transparentPixels(fittedToSquare: 64)
        XCTAssertEqual(marked.filter { $0 }.count, 64)
        XCTAssertTrue((0..<64).allSatisfy { marked[32 * 64 + $0] })
    }

    func testTheCropOfAWideMaskIsThePicturesCrop() {
        // 96x64: the centred square drops 16 columns on each side; a transparent pixel in a
        // dropped margin marks nothing, the first kept column maps to column 0.
        let margin = mask(width: 96, height: 64) { x, _ in x < 16 }.transparentPixels(fittedToSquare: 64)
        XCTAssertFalse(margin.contains(true))
        let first = mask(width: 96, height: 64) { x, y in x == 16 && y == 10 }.transparentPixels(fittedToSquare: 64)
        XCTAssertEqual(first.indices.filter { first[$0] }, [10 * 64])
    }

    func testUpscalingMarksEveryCoveredPixel() {
        // 16x16 to 64x64: one source pixel covers a 4x4 block.
        let marked = mask(width: 16, height: 16) { x, y in x == 2 && y == 3 }.transparentPixels(fittedToSquare: 64)
        let expected = Set((12..<16).flatMap { y in (8..<12).map { y * 64 + $0 } })
        XCTAssertEqual(Set(marked.indices.filter { marked[$0] }), expected)
    }
}
