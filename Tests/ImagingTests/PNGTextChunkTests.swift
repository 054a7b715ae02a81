import CZlib
import XCTest

@testable import Imaging

final class PNGTextChunkTests: XCTestCase {
    private func png() throws -> [UInt8] {
        try PNGEncoder.encode(pixels: [UInt8](repeating: 200, count: 2 * 2 * 3), width: 2, height: 2, format: .rgb)
    }

    func testASCIITextBecomesATEXtChunkAfterIHDR() throws {
        let original = try png()
        let annotated = PNGTextChunk.inserting(keyword: "parameters", text: "red circle\nSteps: 8, Seed: 7", into: original)
        XCTAssertEqual(Array(annotated[37..<41]), Array("tEXt".utf8), "right after IHDR")
        XCTAssertEqual(PNGTextChunk.text(keyword: "parameters", in: annotated), "red circle\nSteps: 8, Seed: 7")
        XCTAssertNil(PNGTextChunk.text(keyword: "parameters", in: original))
        XCTAssertEqual(annotated.count, original.count + 12 + "parameters".utf8.count + 1 + 28)
        // The pixels are untouched: removing the chunk gives the original bytes back.
        let length = Int(annotated[33]) << 24 | Int(annotated[34]) << 16 | Int(annotated[35]) << 8 | Int(annotated[36])
        XCTAssertEqual(Array(annotated[0..<33]) + Array(annotated[(33 + 12 + length)...]), original)
    }

    func testCRCMatchesZlib() {
        let bytes = Array("tEXtparameters\u{0}abc".utf8)
        let expected = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        XCTAssertEqual(PNGTextChunk.crc32(bytes), expected)
    }

    func testNonASCIITextBecomesITXt() throws {
        let annotated = PNGTextChunk.inserting(keyword: "parameters", text: "un cercle rouge é", into: try png())
        XCTAssertEqual(Array(annotated[37..<41]), Array("iTXt".utf8))
        XCTAssertEqual(PNGTextChunk.text(keyword: "parameters", in: annotated), "un cercle rouge é")
    }

    func testBadInputsLeaveThePNGAlone() throws {
        let original = try png()
        XCTAssertEqual(PNGTextChunk.inserting(keyword: "", text: "x", into: original), original)
        XCTAssertEqual(PNGTextChunk.inserting(keyword: "k", text: "x", into: [1, 2, 3]), [1, 2, 3])
    }
}
