import HTTPServer
import Imaging
import XCTest

@testable import ImageAPI

/// `output_format`, `output_compression` and `size`: parsing (each bad value a 400 naming its
/// parameter) and encoding (formats by magic bytes, sizes by decoding the result).
final class OutputImageFormatTests: XCTestCase {
    /// A 4 x 4 PNG as the model would make it: a gradient, so resampling has something to do.
    private var modelPNG: [UInt8] {
        get throws {
            var pixels: [UInt8] = []
            for index in 0..<16 { pixels += [UInt8(index * 16), UInt8(255 - index * 16), 128] }
            return try PNGEncoder.encode(RGBImage(width: 4, height: 4, pixels: pixels), compression: .small)
        }
    }

    private func param(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as APIError {
            XCTAssertEqual(error.status, .badRequest)
            return error.param
        } catch {
            return "unexpected \(error)"
        }
    }

    func testFormatAndCompressionParse() throws {
        XCTAssertEqual(try OutputImageFormat(format: nil, compression: nil), .png)
        XCTAssertEqual(try OutputImageFormat(format: "jpeg", compression: 80), OutputImageFormat(format: .jpeg, compression: 80))
        XCTAssertEqual(try OutputImageFormat(format: "jpg", compression: nil).format, .jpeg)
        XCTAssertEqual(try OutputImageFormat(format: "webp", compression: 0), OutputImageFormat(format: .webp, compression: 0))
        // OpenAI documents compression for jpeg and webp; with png it is accepted and changes nothing.
        XCTAssertEqual(try OutputImageFormat(format: "png", compression: 10).format, .png)
        for (format, compression, expected) in [
            ("gif", nil, "output_format"), ("svg", nil, "output_format"), ("", nil, "output_format"),
            ("jpeg", 101, "output_compression"), ("webp", -1, "output_compression"), ("png", 1000, "output_compression"),
        ] as [(String, Int?, String)] {
            XCTAssertEqual(
                param { _ = try OutputImageFormat(format: format, compression: compression) }, expected,
                "\(format) \(String(describing: compression))")
        }
    }

    func testSizeIsTheModelsOrAnotherSquare() throws {
        XCTAssertNil(try OutputImageFormat.side(nil, modelSide: 64, model: "m"))
        XCTAssertNil(try OutputImageFormat.side("auto", modelSide: 64, model: "m"))
        XCTAssertNil(try OutputImageFormat.side("64x64", modelSide: 64, model: "m"), "the model's own size needs no resampling")
        XCTAssertEqual(try OutputImageFormat.side("1024x1024", modelSide: 64, model: "m"), 1024)
        XCTAssertEqual(try OutputImageFormat.side("256x256", modelSide: 64, model: "m"), 256)
        XCTAssertEqual(try OutputImageFormat.side("16x16", modelSide: 64, model: "m"), 16)
        XCTAssertEqual(try OutputImageFormat.side("2048x2048", modelSide: 64, model: "m"), 2048)
        for size in ["1024x1536", "1536x1024", "4096x4096", "8x8", "0x0", "big", "1024", "1024x", "x1024", "-64x-64", "1024*1024"] {
            XCTAssertEqual(param { _ = try OutputImageFormat.side(size, modelSide: 64, model: "m") }, "size", size)
        }
        do {
            _ = try OutputImageFormat.side("1536x1024", modelSide: 64, model: "demo-shapes")
            XCTFail("not square")
        } catch {
            XCTAssertTrue(error.message.contains("'auto'"), error.message)
            XCTAssertTrue(error.message.contains("'64x64'"), error.message)
            XCTAssertTrue(error.message.contains("16x16 to 2048x2048"), error.message)
            XCTAssertTrue(error.message.contains("1536x1024"), error.message)
        }
    }

    func testQueryReadsTheSameParameters() throws {
        let output = try OutputImageFormat(
            query: [("output_format", "webp"), ("output_compression", "50"), ("size", "32x32"), ("stream", "png")], modelSide: 8,
            model: "m")
        XCTAssertEqual(output, OutputImageFormat(format: .webp, compression: 50, side: 32))
        XCTAssertEqual(try OutputImageFormat(query: [], modelSide: 8, model: "m"), .png)
        XCTAssertEqual(param { _ = try OutputImageFormat(query: [("output_compression", "high")], modelSide: 8, model: "m") }, "output_compression")
        XCTAssertEqual(param { _ = try OutputImageFormat(query: [("output_format", "bmp")], modelSide: 8, model: "m") }, "output_format")
        XCTAssertEqual(param { _ = try OutputImageFormat(query: [("size", "8x16")], modelSide: 8, model: "m") }, "size")
        XCTAssertEqual(
            param { _ = try OutputImageFormat(query: [("output_format", "png"), ("output_format", "jpeg")], modelSide: 8, model: "m") },
            "output_format")
    }

    func testLinksQueryRoundTrips() throws {
        XCTAssertEqual(OutputImageFormat.png.query, "")
        XCTAssertEqual(OutputImageFormat(format: .jpeg).query, "?output_format=jpeg")
        let output = OutputImageFormat(format: .webp, compression: 40, side: 1024)
        XCTAssertEqual(output.query, "?output_format=webp&output_compression=40&size=1024x1024")
        let items = output.query.dropFirst().split(separator: "&").map { pair in
            let parts = pair.split(separator: "=").map(String.init)
            return (name: parts[0], value: Optional(parts[1]))
        }
        XCTAssertEqual(try OutputImageFormat(query: items, modelSide: 64, model: "m"), output)
    }

    func testPNGAtTheModelsSizePassesThrough() throws {
        let png = try modelPNG
        XCTAssertEqual(try OutputImageFormat.png.encode(png: png), png)
        let annotated = try OutputImageFormat.png.encode(png: png, parameters: "red circle\nSteps: 8")
        XCTAssertEqual(try ImageDecoder.decode(annotated, limits: .generated), try ImageDecoder.decode(png, limits: .generated))
        XCTAssertTrue(String(decoding: annotated, as: UTF8.self).contains("parameters\0red circle\nSteps: 8"))
    }

    func testFormatsAndSizes() throws {
        let png = try modelPNG
        let jpeg = try OutputImageFormat(format: .jpeg, compression: 90).encode(png: png, parameters: "Steps: 8")
        XCTAssertEqual(Array(jpeg.prefix(3)), [0xFF, 0xD8, 0xFF])
        XCTAssertTrue(String(decoding: jpeg, as: UTF8.self).contains("Steps: 8"), "the parameters travel in a JPEG comment")
        let webp = try OutputImageFormat(format: .webp, compression: 60).encode(png: png)
        XCTAssertEqual(Array(webp.prefix(4)), Array("RIFF".utf8))
        XCTAssertEqual(Array(webp[8..<12]), Array("WEBP".utf8))
        for (output, side) in [
            (OutputImageFormat(format: .png, side: 32), 32), (OutputImageFormat(format: .jpeg, compression: 50, side: 16), 16),
            (OutputImageFormat(format: .webp, side: 20), 20), (OutputImageFormat(format: .webp), 4),
        ] {
            let decoded = try ImageDecoder.decode(try output.encode(png: png), limits: .generated)
            XCTAssertEqual([decoded.width, decoded.height], [side, side], "\(output)")
        }
        // Lower compression values make smaller JPEG files (they are the JPEG quality).
        let large = try OutputImageFormat(format: .jpeg, compression: 100, side: 64).encode(png: png)
        let small = try OutputImageFormat(format: .jpeg, compression: 5, side: 64).encode(png: png)
        XCTAssertLessThan(small.count, large.count)
        XCTAssertEqual(OutputImageFormat(format: .webp).contentType, "image/webp")
        XCTAssertEqual(OutputImageFormat(format: .jpeg, side: 12).size(modelSide: 4), "12x12")
        XCTAssertEqual(OutputImageFormat(format: .jpeg).size(modelSide: 4), "4x4")
    }

    func testBrokenModelPNGIsAServerError() {
        XCTAssertThrowsError(try OutputImageFormat(format: .jpeg).encode(png: [0x89, 0x50])) { error in
            XCTAssertEqual((error as? APIError)?.status, .internalServerError)
        }
    }
}
