import Imaging
import XCTest

final class ImageFormatTests: XCTestCase {
    func testFileNameExtensions() {
        XCTAssertEqual(ImageFormat(fileName: "out.png"), .png)
        XCTAssertEqual(ImageFormat(fileName: "a/b.JPG"), .jpeg)
        XCTAssertEqual(ImageFormat(fileName: "x.jpeg"), .jpeg)
        XCTAssertEqual(ImageFormat(fileName: "x.webp"), .webp)
        XCTAssertNil(ImageFormat(fileName: "x.gif"))
        XCTAssertNil(ImageFormat(fileName: "png"))
        XCTAssertNil(ImageFormat(fileName: "dir.png/file"))
    }

    func testMediaTypes() {
        XCTAssertEqual(ImageFormat.allCases.map(\.mediaType), ["image/png", "image/jpeg", "image/webp"])
    }

    func testSniffingUsesMagicBytesOnly() throws {
        let image = TestImages.variedRGB(width: 4, height: 4)
        for format in ImageFormat.allCases {
            XCTAssertEqual(SniffedFormat(try ImageEncoder.encode(image, as: format)), .supported(format))
        }
        XCTAssertEqual(SniffedFormat(Array("GIF89a\u{1}\u{0}".utf8)), .unsupported("GIF"))
        XCTAssertEqual(SniffedFormat(Array("BM....".utf8)), .unsupported("BMP"))
        XCTAssertEqual(SniffedFormat(Array("RIFF\0\0\0\0WAVEfmt ".utf8)), .unknown)
        XCTAssertEqual(SniffedFormat([UInt8]()), .unknown)
        XCTAssertEqual(SniffedFormat([0x89, 0x50, 0x4E]), .unknown)
    }
}
