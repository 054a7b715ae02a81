import CZlib
import Imaging
import XCTest

final class PNGStreamWriterTests: XCTestCase {
    func testPiecewiseWritesEqualOneShotEncode() throws {
        let image = TestImages.variedRGB(width: 40, height: 30)
        let writer = try PNGStreamWriter(width: 40, height: 30, compression: .small)
        var output = writer.takeOutput()
        for band in [0..<7, 7..<20, 20..<30] {
            try writer.write(rows: Array(image.pixels[(band.lowerBound * 120)..<(band.upperBound * 120)]))
            output += writer.takeOutput()
        }
        try writer.finish()
        output += writer.takeOutput()
        XCTAssertEqual(output, try PNGEncoder.encode(image, compression: .small))
    }

    func testOutputArrivesInWholeChunksBeforeFinish() throws {
        // Incompressible, so the compressed data spans many 8 KiB IDAT chunks.
        let (width, height) = (256, 128)
        let image = TestImages.noiseRGB(width: width, height: height, seed: 7)
        let writer = try PNGStreamWriter(width: width, height: height, compression: .fast)
        let half = width * 3 * height / 2
        try writer.write(rows: Array(image.pixels.prefix(half)))
        let early = writer.takeOutput()

        // What arrived early is a sequence of whole chunks whose IDATs inflate to the start
        // of the filtered rows.
        let idat = try partialIDAT(early)
        XCTAssertFalse(idat.isEmpty, "full IDAT chunks should be handed out before finish")
        let inflated = try inflateAvailable(idat)
        let filteredRowBytes = 1 + width * 3
        let completeRows = inflated.count / filteredRowBytes
        XCTAssertGreaterThan(completeRows, 0)
        let (rows, _) = try ReferencePNGDecoder.unfilter(
            Array(inflated.prefix(completeRows * filteredRowBytes)),
            rowBytes: width * 3, height: completeRows, bytesPerPixel: 3)
        XCTAssertEqual(rows, Array(image.pixels.prefix(completeRows * width * 3)))

        try writer.write(rows: Array(image.pixels.dropFirst(half)))
        try writer.finish()
        let whole = early + writer.takeOutput()
        XCTAssertEqual(try ReferencePNGDecoder.decode(whole).pixels, image.pixels)
        XCTAssertEqual(whole, try PNGEncoder.encode(image, compression: .fast))
        XCTAssertEqual(writer.takeOutput(), [], "output is handed out once")
    }

    func testMisuseThrowsAndLeavesWriterUsable() throws {
        let image = TestImages.variedRGB(width: 4, height: 3)
        let writer = try PNGStreamWriter(width: 4, height: 3)
        XCTAssertThrowsError(try writer.finish()) { XCTAssertEqual(($0 as? PNGError)?.kind, .invalidState) }
        XCTAssertThrowsError(try writer.write(rows: [1, 2, 3])) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .invalidArgument)
        }
        XCTAssertThrowsError(try writer.write(rows: image.pixels + image.pixels.prefix(12))) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .invalidState)
        }
        try writer.write(rows: image.pixels)
        try writer.finish()
        XCTAssertThrowsError(try writer.write(rows: Array(image.pixels.prefix(12)))) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .invalidState)
        }
        XCTAssertEqual(try ReferencePNGDecoder.decode(writer.takeOutput()).pixels, image.pixels)
    }

    func testInvalidHeaderThrowsLibpngErrorFromCreate() {
        // Over the PNG width limit: libpng's IHDR check longjmps out of the shim's create.
        XCTAssertThrowsError(try PNGStreamWriter(width: 1 << 31, height: 1)) { error in
            XCTAssertEqual((error as? PNGError)?.kind, .libpng)
            XCTAssertTrue((error as? PNGError)?.message.contains("IHDR") == true, "\(error)")
        }
        XCTAssertThrowsError(try PNGStreamWriter(width: 0, height: 0)) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .libpng)
        }
    }

    /// The concatenated IDAT payloads of a PNG prefix (no IEND yet).
    private func partialIDAT(_ bytes: [UInt8]) throws -> [UInt8] {
        var offset = ReferencePNGDecoder.signature.count
        var idat: [UInt8] = []
        while offset + 12 <= bytes.count {
            let length = Int(ReferencePNGDecoder.readUInt32(bytes, at: offset))
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let payload = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            XCTAssertEqual(
                CRC32.checksum(Array(bytes[(offset + 4)..<(offset + 8)]) + payload),
                ReferencePNGDecoder.readUInt32(bytes, at: offset + 8 + length))
            if type == "IDAT" { idat += payload }
            offset += 12 + length
        }
        XCTAssertEqual(offset, bytes.count, "output must end on a chunk boundary")
        return idat
    }

    /// Inflates as much of an unfinished zlib stream as its input allows.
    private func inflateAvailable(_ compressed: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        XCTAssertEqual(inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)), Z_OK)
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: 1 << 16)
        var input = compressed
        let status = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                return inflate(&stream, Z_SYNC_FLUSH)
            }
        }
        XCTAssertTrue(status == Z_OK || status == Z_BUF_ERROR, "inflate status \(status)")
        XCTAssertEqual(stream.avail_in, 0, "all flushed input should be consumable")
        return Array(output.prefix(Int(stream.total_out)))
    }
}
