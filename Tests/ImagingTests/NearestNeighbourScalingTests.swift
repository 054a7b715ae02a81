import Imaging
import XCTest

final class NearestNeighbourScalingTests: XCTestCase {
    private let checker = RGBImage(
        width: 2, height: 2,
        pixels: [
            255, 0, 0, /**/ 0, 255, 0,
            0, 0, 255, /**/ 9, 9, 9,
        ])

    func testUpscaleMakesBlocks() {
        let big = checker.upscaled(by: 3)
        XCTAssertEqual(big.width, 6)
        XCTAssertEqual(big.height, 6)
        for y in 0..<6 {
            for x in 0..<6 {
                XCTAssertEqual(big[x: x, y: y], checker[x: x / 3, y: y / 3], "(\(x), \(y))")
            }
        }
        XCTAssertEqual(checker.upscaled(by: 1), checker)
    }

    func testNonUniformScaleSamplesNearestSource() {
        let scaled = checker.scaledNearest(width: 5, height: 1)
        XCTAssertEqual(
            (0..<5).map { scaled[x: $0, y: 0] },
            [0, 0, 0, 1, 1].map { checker[x: $0, y: 0] })
        let down = TestImages.variedRGB(width: 8, height: 8).scaledNearest(width: 2, height: 2)
        XCTAssertEqual(down[x: 1, y: 1], TestImages.variedRGB(width: 8, height: 8)[x: 4, y: 4])
    }
}
