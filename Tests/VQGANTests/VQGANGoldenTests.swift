import ModelFiles
import VQGAN
import XCTest

final class VQGANGoldenTests: XCTestCase {
    func testGoldenImageParity() throws {
        let file = try Golden.vqganTiny()
        let configuration = try Golden.configuration(file)
        let decoder = try VQGANDecoder(configuration: configuration, archive: file.scoped("weights."))
        let tokens = try file.readInts("case.tokens").map { Int32($0) }
        XCTAssertEqual(file.info("case.tokens")?.shape, [2, 4, 4])
        XCTAssertEqual(file.info("expect.image")?.shape, [2, 3, 64, 64])
        let expected = try file.readFloats("expect.image")
        let image = try decoder.decode(tokens: tokens, batch: 2, latentHeight: 4, latentWidth: 4)
        XCTAssertEqual(image.count, expected.count)
        var maxError: Float = 0
        var maxValue: Float = 0
        for (a, b) in zip(image, expected) {
            XCTAssertTrue(a.isFinite)
            maxError = max(maxError, abs(a - b))
            maxValue = max(maxValue, abs(b))
        }
        print("VQGAN golden parity: max abs error \(maxError) (largest |value| \(maxValue))")
        XCTAssertLessThan(maxError, 1e-3)
        // The default latent grid comes from the configuration (64 px / 16 = 4).
        XCTAssertEqual(try decoder.decode(tokens: tokens, batch: 2), image)
    }

    func testBatchConsistency() throws {
        let file = try Golden.vqganTiny()
        let decoder = try VQGANDecoder(configuration: try Golden.configuration(file), archive: file.scoped("weights."))
        let tokens = try file.readInts("case.tokens").map { Int32($0) }
        let together = try decoder.decode(tokens: tokens, batch: 2)
        let first = try decoder.decode(tokens: Array(tokens[0..<16]), batch: 1)
        let second = try decoder.decode(tokens: Array(tokens[16..<32]), batch: 1)
        let separate = first + second
        XCTAssertEqual(separate.count, together.count)
        var maxDifference: Float = 0
        for (a, b) in zip(separate, together) { maxDifference = max(maxDifference, abs(a - b)) }
        print("VQGAN batch consistency: max difference \(maxDifference)")
        XCTAssertLessThanOrEqual(maxDifference, 1e-5)

        // Several images per pass, or one element-wise thread, give the same result.
        decoder.maxImagesPerPass = 3
        decoder.elementwiseThreads = 1
        let chunked = try decoder.decode(tokens: tokens + tokens.reversed(), batch: 4)
        for (a, b) in zip(chunked[0..<together.count], together) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let reversed = try decoder.decode(tokens: Array(tokens.reversed()), batch: 2)
        for (a, b) in zip(chunked[together.count...], reversed) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(try decoder.decode(tokens: [], batch: 0), [])

        // One GEMM over the whole batch: the same images up to float rounding.
        decoder.batchedGEMM = true
        decoder.maxImagesPerPass = 4
        let batched = try decoder.decode(tokens: tokens, batch: 2)
        var batchedDifference: Float = 0
        for (a, b) in zip(batched, together) { batchedDifference = max(batchedDifference, abs(a - b)) }
        print("VQGAN batched GEMM: max difference \(batchedDifference)")
        XCTAssertLessThan(batchedDifference, 1e-4)
    }

    func testNonSquareLatentGridDecodesBothImagesAlike() throws {
        let file = try Golden.vqganTiny()
        let decoder = try VQGANDecoder(configuration: try Golden.configuration(file), archive: file.scoped("weights."))
        let tokens = (0..<24).map { Int32($0 * 37 % 1024) }
        let image = try decoder.decode(tokens: tokens + tokens, batch: 2, latentHeight: 3, latentWidth: 8)
        XCTAssertEqual(image.count, 2 * 3 * 48 * 128)
        let half = image.count / 2
        for i in 0..<half { XCTAssertEqual(image[i], image[half + i], accuracy: 1e-5) }
    }
}
