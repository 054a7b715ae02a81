import Imaging
import XCTest

final class ResamplerTests: XCTestCase {
    func testConstantImageStaysConstant() {
        let image = RGBImage(width: 37, height: 23, fill: RGBColor(red: 10, green: 200, blue: 77))
        for (width, height) in [(10, 7), (100, 61), (37, 5), (1, 1), (256, 256)] {
            let resampled = image.resampled(width: width, height: height)
            XCTAssertEqual(resampled, RGBImage(width: width, height: height, fill: RGBColor(red: 10, green: 200, blue: 77)))
        }
    }

    func testSizesAreExact() {
        let image = TestImages.variedRGB(width: 17, height: 9)
        for (width, height) in [(1, 1), (3, 50), (17, 9), (34, 18), (1024, 5), (8, 4)] {
            let resampled = image.resampled(width: width, height: height)
            XCTAssertEqual([resampled.width, resampled.height, resampled.pixels.count], [width, height, width * height * 3])
        }
    }

    func testSameSizeIsIdentity() {
        let image = TestImages.variedRGB(width: 12, height: 7)
        XCTAssertEqual(image.resampled(width: 12, height: 7), image)
        // One axis kept: its weights are the identity.
        let wide = image.resampled(width: 24, height: 7)
        XCTAssertEqual(wide.resampled(width: 24, height: 7), wide)
    }

    func testCheckerboardDownscaleAverages() {
        var pixels: [UInt8] = []
        for y in 0..<16 {
            for x in 0..<16 { pixels += [UInt8]((x + y) % 2 == 0 ? [255, 255, 255] : [0, 0, 0]) }
        }
        let board = RGBImage(width: 16, height: 16, pixels: pixels)
        // Every even factor covers as many white as black pixels; 16 -> 5 covers fractions.
        for side in [8, 4, 2, 1] {
            XCTAssertTrue(board.resampled(width: side, height: side).pixels.allSatisfy { $0 == 128 || $0 == 127 }, "\(side)")
        }
        XCTAssertTrue(board.resampled(width: 5, height: 5).pixels.allSatisfy { (100...155).contains($0) })
    }

    func testTwoToOneIsTheMeanOfEachBlock() {
        let image = TestImages.variedRGB(width: 8, height: 6)
        let half = image.resampled(width: 4, height: 3)
        for y in 0..<3 {
            for x in 0..<4 {
                for channel in 0..<3 {
                    let sum = [(0, 0), (1, 0), (0, 1), (1, 1)].reduce(0) {
                        $0 + Int(image.pixels[((2 * y + $1.1) * 8 + 2 * x + $1.0) * 3 + channel])
                    }
                    let expected = (Double(sum) / 4).rounded()
                    XCTAssertEqual(Double(half.pixels[(y * 4 + x) * 3 + channel]), expected, accuracy: 1)
                }
            }
        }
    }

    func testUpscaleKeepsARampMonotonicAndInRange() {
        let ramp = RGBImage(width: 8, height: 1, pixels: (0..<8).flatMap { [UInt8($0 * 32), 0, 255] })
        let wide = ramp.resampled(width: 64, height: 4)
        let reds = (0..<64).map { wide.pixels[$0 * 3] }
        // Lanczos rings at the ends of a ramp, but inside it the values only rise.
        XCTAssertEqual(Array(reds[8..<56]), Array(reds[8..<56]).sorted())
        XCTAssertTrue((0..<64).allSatisfy { wide.pixels[$0 * 3 + 2] == 255 && wide.pixels[$0 * 3 + 1] == 0 })
    }

    func testTransparentColourDoesNotBleed() {
        // Left column opaque blue, right column fully transparent red.
        let pixels: [UInt8] = (0..<4).flatMap { _ in [0, 0, 255, 255, 255, 0, 0, 0] }
        let image = DecodedImage(width: 2, height: 4, pixels: pixels, hasAlpha: true)
        let shrunk = image.resampled(width: 1, height: 2)
        XCTAssertEqual(shrunk.pixels, [0, 0, 255, 128, 0, 0, 255, 128])
        XCTAssertTrue(shrunk.hasAlpha)
        let grown = image.resampled(width: 6, height: 4)
        for pixel in stride(from: 0, to: grown.pixels.count, by: 4) where grown.pixels[pixel + 3] > 0 {
            XCTAssertEqual(grown.pixels[pixel], 0, "red bled in at \(pixel / 4)")
        }
    }

    func testFittingCropsTheCentredSquare() {
        // 6x2: columns 0-1 red, 2-3 green, 4-5 blue. The centred square is the green part.
        let colours: [[UInt8]] = [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]]
        let pixels = (0..<2).flatMap { _ in (0..<6).flatMap { colours[$0 / 2] } }
        let image = DecodedImage(width: 6, height: 2, pixels: pixels, hasAlpha: false)
        let square = image.centreSquare()
        XCTAssertEqual([square.width, square.height], [2, 2])
        XCTAssertEqual(square.pixels, Array([[UInt8]](repeating: colours[1], count: 4).joined()))
        let fitted = image.fittedToSquare(side: 5)
        XCTAssertEqual([fitted.width, fitted.height], [5, 5])
        XCTAssertTrue(stride(from: 0, to: fitted.pixels.count, by: 4).allSatisfy { Array(fitted.pixels[$0..<$0 + 4]) == colours[1] })
        // Tall images lose top and bottom; odd differences lose one more row at the end.
        let tall = DecodedImage(width: 1, height: 4, pixels: (0..<4).flatMap { [UInt8($0), 0, 0, 255] }, hasAlpha: false)
        XCTAssertEqual(tall.centreSquare().pixels, [1, 0, 0, 255])
    }
}
