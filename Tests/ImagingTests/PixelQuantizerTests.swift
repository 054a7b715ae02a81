import Imaging
import XCTest

final class PixelQuantizerTests: XCTestCase {
    func testOutOfRangeAndNonFiniteValues() {
        XCTAssertEqual(PixelQuantizer.quantize(-0.3), 0)
        XCTAssertEqual(PixelQuantizer.quantize(-0.0), 0)
        XCTAssertEqual(PixelQuantizer.quantize(1.7), 255)
        XCTAssertEqual(PixelQuantizer.quantize(.nan), 0)
        XCTAssertEqual(PixelQuantizer.quantize(-.nan), 0)
        XCTAssertEqual(PixelQuantizer.quantize(.signalingNaN), 0)
        XCTAssertEqual(PixelQuantizer.quantize(.infinity), 255)
        XCTAssertEqual(PixelQuantizer.quantize(-.infinity), 0)
        XCTAssertEqual(PixelQuantizer.quantize(.greatestFiniteMagnitude), 255)
        XCTAssertEqual(PixelQuantizer.quantize(0), 0)
        XCTAssertEqual(PixelQuantizer.quantize(1), 255)
    }

    func testRoundsToNearest() {
        XCTAssertEqual(PixelQuantizer.quantize(0.49 / 255), 0)
        XCTAssertEqual(PixelQuantizer.quantize(0.51 / 255), 1)
        XCTAssertEqual(PixelQuantizer.quantize(100.4 / 255), 100)
        XCTAssertEqual(PixelQuantizer.quantize(100.6 / 255), 101)
    }

    func testExactTiesRoundToEvenLikeTorchRound() {
        XCTAssertEqual(Float(0.5) / 255 * 255, 0.5, "precondition: 0.5/255 scales back to an exact tie")
        XCTAssertEqual(PixelQuantizer.quantize(Float(0.5) / 255), 0)
        XCTAssertEqual(PixelQuantizer.quantize(0.5), 128)  // 127.5 → 128
        // For every k, find a float whose Float32 product with 255 is exactly k + 0.5.
        var ties = 0
        for k in 0..<255 {
            let guess = Float(Float(k) + 0.5) / 255
            guard let value = [guess, guess.nextUp, guess.nextDown].first(where: { $0 * 255 == Float(k) + 0.5 })
            else { continue }
            ties += 1
            XCTAssertEqual(Int(PixelQuantizer.quantize(value)), k % 2 == 0 ? k : k + 1, "tie at \(k).5")
        }
        XCTAssertGreaterThan(ties, 200, "the tie search should find most ties")
    }

    func testCHWBecomesInterleavedRGB() {
        // 3 wide, 2 high; each plane numbered so the expected layout is obvious.
        let red: [Float] = [0, 1, 2, 3, 4, 5].map { Float($0) / 255 }
        let green: [Float] = [10, 11, 12, 13, 14, 15].map { Float($0) / 255 }
        let blue: [Float] = [20, 21, 22, 23, 24, 25].map { Float($0) / 255 }
        let image = RGBImage(chw: red + green + blue, width: 3, height: 2)
        XCTAssertEqual(image.pixels, [0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23, 4, 14, 24, 5, 15, 25])
        XCTAssertEqual(image[x: 2, y: 1], RGBColor(red: 5, green: 15, blue: 25))
    }

    func testBatchSplitsInOrder() {
        let first = [Float](repeating: 0, count: 12)
        let second = [Float](repeating: 1, count: 12)
        let images = RGBImage.batch(bchw: first + second, batch: 2, width: 2, height: 2)
        XCTAssertEqual(images.count, 2)
        XCTAssertEqual(images[0].pixels, [UInt8](repeating: 0, count: 12))
        XCTAssertEqual(images[1].pixels, [UInt8](repeating: 255, count: 12))
        XCTAssertEqual(RGBImage.batch(bchw: [], batch: 0, width: 2, height: 2), [])
    }
}
