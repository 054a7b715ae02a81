import Imaging
import XCTest

final class RGBImageTests: XCTestCase {
    func testFillAndSubscript() {
        var image = RGBImage(width: 3, height: 2, fill: RGBColor(red: 1, green: 2, blue: 3))
        XCTAssertEqual(image.pixels, [UInt8](repeating: 0, count: 0) + Array(repeating: [1, 2, 3], count: 6).flatMap { $0 })
        image[x: 1, y: 1] = RGBColor(grey: 9)
        XCTAssertEqual(Array(image.pixels[12..<15]), [9, 9, 9])
        XCTAssertEqual(image[x: 1, y: 1], RGBColor(grey: 9))
        XCTAssertEqual(image.rowBytes, 9)
    }
}
