import CZlib
import XCTest

/// The reference decoder is itself code under test: check it against known values before
/// trusting it to judge the encoder.
final class ReferencePNGDecoderTests: XCTestCase {
    func testCRCMatchesKnownValueAndZlib() {
        let bytes = Array("123456789".utf8)
        XCTAssertEqual(CRC32.checksum(bytes), 0xCBF4_3926)  // the standard check value
        let zlibCRC = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        XCTAssertEqual(UInt(CRC32.checksum(bytes)), UInt(zlibCRC))
    }

    func testPaethPredictorFollowsTheSpecification() {
        XCTAssertEqual(ReferencePNGDecoder.paeth(left: 10, up: 20, upLeft: 10), 20)
        XCTAssertEqual(ReferencePNGDecoder.paeth(left: 20, up: 10, upLeft: 10), 20)
        XCTAssertEqual(ReferencePNGDecoder.paeth(left: 5, up: 5, upLeft: 5), 5)
        XCTAssertEqual(ReferencePNGDecoder.paeth(left: 100, up: 0, upLeft: 90), 0)
    }

    func testUnfilterUndoesEveryFilterType() throws {
        // Two rows of two 1-byte pixels; second row exercises each filter against known bytes.
        let firstRow: [UInt8] = [10, 30]
        let cases: [(filter: UInt8, encoded: [UInt8], expected: [UInt8])] = [
            (0, [7, 9], [7, 9]),
            (1, [7, 9], [7, 16]),
            (2, [7, 9], [17, 39]),
            (3, [7, 9], [12, 9 &+ UInt8((12 + 30) / 2)]),
            (4, [7, 9], [17, 9 &+ UInt8(ReferencePNGDecoder.paeth(left: 17, up: 30, upLeft: 10))]),
        ]
        for testCase in cases {
            let data: [UInt8] = [0] + firstRow + [testCase.filter] + testCase.encoded
            let (pixels, filters) = try ReferencePNGDecoder.unfilter(data, rowBytes: 2, height: 2, bytesPerPixel: 1)
            XCTAssertEqual(Array(pixels[2...]), testCase.expected, "filter \(testCase.filter)")
            XCTAssertEqual(filters, [0, testCase.filter])
        }
    }

    func testCorruptedCRCIsRejected() throws {
        var png = try pngFixture()
        png[png.count - 13] ^= 0x01  // the IDAT CRC's last byte (IEND is the final 12)
        XCTAssertThrowsError(try ReferencePNGDecoder.decode(png))
    }

    private func pngFixture() throws -> [UInt8] {
        // Built by hand: signature, IHDR 1x1 RGB, one stored-deflate IDAT, IEND.
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let typeBytes = Array(type.utf8)
            let length = UInt32(data.count), crc = CRC32.checksum(typeBytes + data)
            return withUnsafeBytes(of: length.bigEndian, Array.init) + typeBytes + data
                + withUnsafeBytes(of: crc.bigEndian, Array.init)
        }
        let raw: [UInt8] = [0, 1, 2, 3]
        var compressed = [UInt8](repeating: 0, count: 64)
        var compressedLength = uLongf(compressed.count)
        _ = compressed.withUnsafeMutableBufferPointer { out in
            raw.withUnsafeBufferPointer { compress(out.baseAddress, &compressedLength, $0.baseAddress, uLong($0.count)) }
        }
        let header: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]
        let png =
            ReferencePNGDecoder.signature + chunk("IHDR", header)
            + chunk("IDAT", Array(compressed.prefix(Int(compressedLength)))) + chunk("IEND", [])
        let decoded = try ReferencePNGDecoder.decode(png)
        XCTAssertEqual(decoded.pixels, [1, 2, 3])
        return png
    }
}
