import Imaging
import XCTest

/// Hostile and broken uploads: each gives its typed error (an HTTP 400), none traps.
final class UntrustedImageTests: XCTestCase {
    struct Case {
        let name: String
        let bytes: [UInt8]
        var limits = ImageDecodingLimits.uploads
        let expected: (ImageDecodingError) -> Bool
    }

    static let png = (try? ImageEncoder.encode(TestImages.variedRGB(width: 64, height: 64), as: .png)) ?? []
    static let jpeg = (try? ImageEncoder.encode(TestImages.variedRGB(width: 64, height: 64), as: .jpeg, compression: 80)) ?? []
    static let webp = (try? ImageEncoder.encode(TestImages.variedRGB(width: 64, height: 64), as: .webp, compression: 80)) ?? []

    /// A PNG that is only a header: `width x height` declared, no image data.
    static func pngHeader(width: Int, height: Int) -> [UInt8] {
        CraftedPNG(chunks: [("IHDR", CraftedPNG.ihdr(width: width, height: height, bitDepth: 8, colorType: 6)), ("IEND", [])]).bytes
    }

    /// `jpeg` with the frame header's height and width replaced.
    static func jpegDeclaring(width: Int, height: Int) -> [UInt8] {
        var bytes = jpeg
        // Start of frame (baseline, or optimised-Huffman which libjpeg writes as SOF0 too):
        // marker, length (2), precision (1), height (2), width (2).
        guard let sof = bytes.firstRange(of: [0xFF, 0xC0])?.lowerBound else { return [] }
        bytes[sof + 5] = UInt8(height >> 8)
        bytes[sof + 6] = UInt8(height & 0xFF)
        bytes[sof + 7] = UInt8(width >> 8)
        bytes[sof + 8] = UInt8(width & 0xFF)
        return bytes
    }

    static let noScans = ImageDecodingLimits(
        maxInputBytes: 1 << 20, maxWidth: 64, maxHeight: 64, maxPixels: 4096, maxJPEGScans: 0)

    static let small = ImageDecodingLimits(maxInputBytes: 1 << 20, maxWidth: 32, maxHeight: 32, maxPixels: 600)

    static var cases: [Case] {
        var corruptCRC = png
        corruptCRC[29] ^= 0xFF  // a byte of IHDR's CRC
        var corruptIDAT = png
        corruptIDAT[60] ^= 0x55  // inside the compressed image data
        // A 16x16 grey image whose IDAT inflates to 8 MiB: the declared size is small, the
        // stream is not. libpng stops at the image's end and the excess is refused.
        let idatBomb = CraftedPNG(chunks: [
            ("IHDR", CraftedPNG.ihdr(width: 16, height: 16, bitDepth: 8, colorType: 0)),
            ("IDAT", CraftedPNG.deflate([UInt8](repeating: 0, count: 8 << 20))), ("IEND", []),
        ]).bytes
        return [
            Case(name: "empty", bytes: []) { $0 == .empty },
            Case(name: "text", bytes: Array("{\"prompt\": \"a cat\"}".utf8)) { $0 == .unknownFormat },
            Case(name: "GIF", bytes: Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0]) { $0 == .unsupportedFormat("GIF") },
            Case(name: "BMP", bytes: Array("BM".utf8) + [UInt8](repeating: 0, count: 60)) { $0 == .unsupportedFormat("BMP") },
            Case(name: "RIFF but not WebP", bytes: Array("RIFF\u{24}\0\0\0WAVEfmt ".utf8)) { $0 == .unknownFormat },
            Case(name: "file too large", bytes: png, limits: ImageDecodingLimits(maxInputBytes: 100, maxWidth: 64, maxHeight: 64, maxPixels: 4096)) {
                $0 == .fileTooLarge(bytes: png.count, limit: 100)
            },
            Case(name: "PNG bomb: 1e5 x 1e5 declared in 57 bytes", bytes: pngHeader(width: 100_000, height: 100_000)) {
                $0 == .dimensionsTooLarge(width: 100_000, height: 100_000, maxWidth: 4096, maxHeight: 4096)
            },
            Case(name: "PNG width beyond the specification", bytes: pngHeader(width: 0xFFFF_FFFF, height: 1)) {
                if case .corrupt(.png, _) = $0 { true } else { false }
            },
            Case(
                name: "PNG too many pixels", bytes: png,
                limits: ImageDecodingLimits(maxInputBytes: 1 << 20, maxWidth: 64, maxHeight: 64, maxPixels: 4095)
            ) {
                $0 == .tooManyPixels(width: 64, height: 64, limit: 4095)
            },
            Case(name: "PNG zero width", bytes: pngHeader(width: 0, height: 10)) { $0 == .emptyImage(.png) },
            Case(name: "PNG zero height", bytes: pngHeader(width: 10, height: 0)) { $0 == .emptyImage(.png) },
            Case(name: "PNG without image data", bytes: pngHeader(width: 10, height: 10)) {
                if case .corrupt(.png, _) = $0 { true } else { false }
            },
            Case(name: "PNG IDAT inflating to 8 MiB", bytes: idatBomb) {
                if case .corrupt(.png, let message) = $0 { message.contains("image data") } else { false }
            },
            Case(name: "PNG signature only", bytes: Array(png.prefix(8))) { $0 == .truncated(.png) },
            Case(name: "PNG cut in its header", bytes: Array(png.prefix(30))) { $0 == .truncated(.png) },
            Case(name: "PNG cut in its image data", bytes: Array(png.prefix(png.count / 2))) { $0 == .truncated(.png) },
            Case(name: "PNG first chunk not IHDR", bytes: CraftedPNG(chunks: [("IEND", [])]).bytes + [UInt8](repeating: 0, count: 12)) {
                if case .corrupt(.png, _) = $0 { true } else { false }
            },
            Case(name: "PNG corrupt IHDR CRC", bytes: corruptCRC) {
                if case .corrupt(.png, let message) = $0 { message.contains("CRC") } else { false }
            },
            Case(name: "PNG corrupt image data", bytes: corruptIDAT) {
                if case .corrupt(.png, _) = $0 { true } else { false }
            },
            Case(name: "JPEG start marker only", bytes: [0xFF, 0xD8, 0xFF]) { $0 == .truncated(.jpeg) },
            Case(name: "JPEG cut in its header", bytes: Array(jpeg.prefix(100))) { $0 == .truncated(.jpeg) },
            Case(name: "JPEG cut in its scan", bytes: Array(jpeg.prefix(jpeg.count * 2 / 3))) { $0 == .truncated(.jpeg) },
            Case(name: "JPEG declaring 60000 x 60000", bytes: jpegDeclaring(width: 60000, height: 60000)) {
                $0 == .dimensionsTooLarge(width: 60000, height: 60000, maxWidth: 4096, maxHeight: 4096)
            },
            Case(name: "JPEG declaring zero height", bytes: jpegDeclaring(width: 64, height: 0)) {
                if case .corrupt(.jpeg, _) = $0 { true } else { $0 == .emptyImage(.jpeg) }
            },
            Case(name: "JPEG beyond small limits", bytes: jpeg, limits: small) {
                $0 == .dimensionsTooLarge(width: 64, height: 64, maxWidth: 32, maxHeight: 32)
            },
            Case(name: "JPEG scans beyond the limit", bytes: jpeg, limits: noScans) { $0 == .tooManyScans(limit: 0) },
            Case(name: "JPEG garbage after the start marker", bytes: [0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0x42, count: 64)) {
                if case .corrupt(.jpeg, _) = $0 { true } else { false }
            },
            Case(name: "WebP RIFF header only", bytes: Array(webp.prefix(12))) { $0 == .truncated(.webp) },
            Case(name: "WebP cut in its data", bytes: Array(webp.prefix(webp.count / 2))) { $0 == .truncated(.webp) },
            Case(name: "WebP beyond small limits", bytes: webp, limits: small) {
                $0 == .dimensionsTooLarge(width: 64, height: 64, maxWidth: 32, maxHeight: 32)
            },
            Case(
                name: "WebP with a garbage chunk",
                bytes: Array(webp.prefix(12)) + Array("VP8 ".utf8) + [16, 0, 0, 0] + [UInt8](repeating: 0xAB, count: 16)
            ) {
                if case .corrupt(.webp, _) = $0 { true } else { false }
            },
        ]
    }

    func testEveryHostileInputGivesItsTypedError() {
        for testCase in Self.cases {
            XCTAssertFalse(testCase.bytes.isEmpty && testCase.name != "empty", "\(testCase.name): fixture failed to build")
            do {
                let image = try ImageDecoder.decode(testCase.bytes, limits: testCase.limits)
                XCTFail("\(testCase.name): decoded \(image.width)x\(image.height)")
            } catch {
                XCTAssertTrue(testCase.expected(error), "\(testCase.name): \(error)")
                XCTAssertFalse(error.description.isEmpty)
            }
        }
    }

    func testEveryPrefixOfEachFormatFailsCleanly() throws {
        for file in [Self.png, Self.jpeg, Self.webp] {
            // The whole file decodes; every proper prefix is refused with an error (no trap,
            // no partial image passed off as whole).
            XCTAssertNoThrow(try ImageDecoder.decode(file))
            for length in stride(from: 0, to: file.count, by: max(1, file.count / 97)) {
                XCTAssertThrowsError(try ImageDecoder.decode(Array(file.prefix(length))), "prefix \(length) of \(file.count)")
            }
        }
    }

    func testEverySingleByteFlipOfAPNGHeaderIsHandled() {
        // Damage anywhere in the first 64 bytes: an error or (for ancillary damage) a decode, never a trap.
        for index in 0..<64 {
            var bytes = Self.png
            bytes[index] ^= 0xA5
            _ = try? ImageDecoder.decode(bytes)
        }
    }
}
