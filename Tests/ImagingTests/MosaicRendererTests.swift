import Imaging
import XCTest

final class MosaicRendererTests: XCTestCase {
    private let table = CodeColorTable.hashed(codebookSize: 16)

    func testRevealedCellsShowCodeColoursAndTheRestIsNeutral() {
        let renderer = MosaicRenderer(colors: table, gridSide: 4, outputSize: 16)
        let tokens: [Int32] = (0..<16).map { Int32(15 - $0) }
        let revealed = (0..<16).map { $0 % 3 == 0 }
        let image = renderer.render(tokens: tokens, revealed: revealed)
        XCTAssertEqual(image.width, 16)
        XCTAssertEqual(image.height, 16)
        for y in 0..<16 {
            for x in 0..<16 {
                let cell = (y / 4) * 4 + x / 4
                let pixel = image[x: x, y: y]
                if revealed[cell] {
                    XCTAssertEqual(pixel, table[Int(tokens[cell])], "(\(x), \(y))")
                } else {
                    let checker = ((y / 4) + (x / 4)) % 2 == 0
                    XCTAssertEqual(pixel, checker ? MosaicRenderer.unrevealedLight : MosaicRenderer.unrevealedDark)
                    XCTAssertTrue(pixel.red == pixel.green && pixel.green == pixel.blue, "unrevealed must be grey")
                }
            }
        }
    }

    func testUnevenSizesCoverEveryPixel() {
        // 10 px over 3 cells: boundaries at 0, 3, 6, 10.
        let renderer = MosaicRenderer(colors: table, gridSide: 3, outputSize: 10)
        let tokens: [Int32] = Array(0..<9)
        let image = renderer.render(tokens: tokens, revealed: Array(repeating: true, count: 9))
        let edges = [0, 3, 6, 10]
        func cell(_ coordinate: Int) -> Int { (0..<3).first { coordinate < edges[$0 + 1] }! }
        for y in 0..<10 {
            for x in 0..<10 {
                XCTAssertEqual(image[x: x, y: y], table[cell(y) * 3 + cell(x)], "(\(x), \(y))")
            }
        }
    }

    func testMaskIdsAndInvalidCodesDrawAsUnrevealed() {
        let renderer = MosaicRenderer(colors: table, gridSide: 2, outputSize: 2)
        let image = renderer.render(tokens: [16, -1, 1000, 3], revealed: [false, true, true, true])
        XCTAssertEqual(image[x: 0, y: 0], MosaicRenderer.unrevealedLight)
        XCTAssertEqual(image[x: 1, y: 0], MosaicRenderer.unrevealedDark)
        XCTAssertEqual(image[x: 0, y: 1], MosaicRenderer.unrevealedDark)
        XCTAssertEqual(image[x: 1, y: 1], table[3])
    }

    func testFullyHiddenFrameIsOnlyGrey() {
        let renderer = MosaicRenderer(colors: table, gridSide: 16, outputSize: 256)
        let image = renderer.render(tokens: Array(repeating: 0, count: 256), revealed: Array(repeating: false, count: 256))
        XCTAssertEqual(Set(image.pixels), [MosaicRenderer.unrevealedLight.red, MosaicRenderer.unrevealedDark.red])
    }

    func testRenderPNGDecodesToTheRenderedFrame() throws {
        let renderer = MosaicRenderer(colors: table, gridSide: 16, outputSize: 256)
        let tokens: [Int32] = (0..<256).map { Int32($0 % 16) }
        let revealed = (0..<256).map { $0 % 5 != 0 }
        let png = try renderer.renderPNG(tokens: tokens, revealed: revealed)
        let decoded = try ReferencePNGDecoder.decode(png)
        XCTAssertEqual(decoded.pixels, renderer.render(tokens: tokens, revealed: revealed).pixels)
        XCTAssertTrue(decoded.rowFilters.dropFirst().allSatisfy { $0 == 2 }, "previews use the Up filter")
        XCTAssertEqual(decoded.zlibLevelFlag, 0, "previews use the fastest zlib level")
    }
}
