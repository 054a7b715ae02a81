import Imaging
import XCTest

final class PNGEncoderTests: XCTestCase {
    func testRoundTripSmallMatchesPixelsExactly() throws {
        let image = TestImages.variedRGB(width: 67, height: 41)
        let decoded = try ReferencePNGDecoder.decode(PNGEncoder.encode(image, compression: .small))
        XCTAssertEqual(decoded.width, 67)
        XCTAssertEqual(decoded.height, 41)
        XCTAssertEqual(decoded.channels, 3)
        XCTAssertEqual(decoded.pixels, image.pixels)
        XCTAssertEqual(decoded.zlibLevelFlag, 3, "level 9 should mark maximum compression")
        XCTAssertGreaterThan(Set(decoded.rowFilters).count, 1, "adaptive filtering should vary")
    }

    func testRoundTripFastUsesSubFilterAndFastestLevel() throws {
        let image = TestImages.variedRGB(width: 33, height: 20)
        let decoded = try ReferencePNGDecoder.decode(PNGEncoder.encode(image, compression: .fast))
        XCTAssertEqual(decoded.pixels, image.pixels)
        XCTAssertEqual(Set(decoded.rowFilters), [1])
        XCTAssertEqual(decoded.zlibLevelFlag, 0)
    }

    func testEachSingleFilterRoundTrips() throws {
        // Forcing one filter at a time makes the reference decoder undo all five types.
        let image = TestImages.variedRGB(width: 29, height: 17)
        let single: [(PNGFilters, UInt8)] = [(.none, 0), (.sub, 1), (.up, 2), (.average, 3), (.paeth, 4)]
        for (filters, type) in single {
            let png = try PNGEncoder.encode(image, compression: PNGCompression(level: 6, filters: filters))
            let decoded = try ReferencePNGDecoder.decode(png)
            XCTAssertEqual(decoded.pixels, image.pixels, "filter type \(type)")
            // libpng may still use None for the first row, where Up has nothing above it.
            XCTAssertTrue(decoded.rowFilters.dropFirst().allSatisfy { $0 == type }, "filter type \(type)")
        }
    }

    func testRGBARoundTrips() throws {
        let pixels = TestImages.varied(width: 19, height: 13, channels: 4)
        let png = try PNGEncoder.encode(pixels: pixels, width: 19, height: 13, format: .rgba)
        let decoded = try ReferencePNGDecoder.decode(png)
        XCTAssertEqual(decoded.channels, 4)
        XCTAssertEqual(decoded.pixels, pixels)
    }

    func testEncodingIsByteForByteDeterministic() throws {
        let image = TestImages.variedRGB(width: 64, height: 64)
        for compression in [PNGCompression.fast, .small, .level(0), .level(5)] {
            let first = try PNGEncoder.encode(image, compression: compression)
            let second = try PNGEncoder.encode(image, compression: compression)
            XCTAssertEqual(first, second, "\(compression)")
            XCTAssertEqual(try ReferencePNGDecoder.decode(first).pixels, image.pixels, "\(compression)")
        }
    }

    func testOnlyDeterministicChunksAreWritten() throws {
        let png = try PNGEncoder.encode(TestImages.variedRGB(width: 8, height: 8))
        XCTAssertEqual(
            try ReferencePNGDecoder.decode(png).chunkTypes.filter { $0 != "IDAT" },
            ["IHDR", "sRGB", "IEND"])
    }

    func testSmallIsNotLargerThanFast() throws {
        let image = TestImages.variedRGB(width: 128, height: 128)
        let fast = try PNGEncoder.encode(image, compression: .fast)
        let small = try PNGEncoder.encode(image, compression: .small)
        XCTAssertLessThanOrEqual(small.count, fast.count)
    }

    func testZeroWidthThrowsLibpngError() {
        let image = RGBImage(width: 0, height: 4, pixels: [])
        XCTAssertThrowsError(try PNGEncoder.encode(image)) { error in
            guard let error = error as? PNGError else { return XCTFail("wrong error type \(error)") }
            XCTAssertEqual(error.kind, .libpng)
            XCTAssertTrue(error.message.contains("IHDR"), error.message)
        }
    }

    func testZeroHeightThrowsLibpngError() {
        XCTAssertThrowsError(try PNGEncoder.encode(RGBImage(width: 3, height: 0, pixels: []), compression: .fast)) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .libpng)
        }
    }

    func testInvalidOptionsAndSizesThrowArgumentErrors() {
        let image = TestImages.variedRGB(width: 4, height: 4)
        let badOptions = [
            PNGCompression(level: 10, filters: .all), PNGCompression(level: -1, filters: .all),
            PNGCompression(level: 6, filters: []),
        ]
        for compression in badOptions {
            XCTAssertThrowsError(try PNGEncoder.encode(image, compression: compression)) {
                XCTAssertEqual(($0 as? PNGError)?.kind, .invalidArgument, "\(compression)")
            }
        }
        XCTAssertThrowsError(try PNGEncoder.encode(pixels: [1, 2, 3], width: 2, height: 1, format: .rgb)) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .invalidArgument)
        }
        XCTAssertThrowsError(try PNGEncoder.encode(pixels: [], width: -1, height: 1, format: .rgb)) {
            XCTAssertEqual(($0 as? PNGError)?.kind, .invalidArgument)
        }
    }

    func testRepeatedFailuresLeaveEncoderUsable() throws {
        // Error paths unwind through longjmp; afterwards normal encodes must still work.
        for _ in 0..<200 {
            XCTAssertThrowsError(try PNGEncoder.encode(RGBImage(width: 0, height: 0, pixels: [])))
        }
        let image = TestImages.variedRGB(width: 5, height: 5)
        XCTAssertEqual(try ReferencePNGDecoder.decode(PNGEncoder.encode(image)).pixels, image.pixels)
    }
}
