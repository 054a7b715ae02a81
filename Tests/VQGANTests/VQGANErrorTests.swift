import ModelFiles
import VQGAN
import XCTest

final class VQGANErrorTests: XCTestCase {
    private func loadError(_ archive: any TensorArchive, _ configuration: VQGANConfiguration) -> ModelFileError? {
        do {
            _ = try VQGANDecoder(configuration: configuration, archive: archive)
            return nil
        } catch {
            return error
        }
    }

    func testMissingKeyIsNamed() throws {
        let file = try Golden.vqganTiny()
        let configuration = try Golden.configuration(file)
        for name in ["decoder.up.1.block.0.nin_shortcut.weight", "decoder.mid.block_2.norm2.bias", "quantize.embedding.weight"] {
            let archive = EditedArchive(base: file.scoped("weights."), removed: [name])
            let error = loadError(archive, configuration)
            guard case .missingTensor(_, let missing) = error else { return XCTFail("expected a missing tensor, got \(String(describing: error))") }
            XCTAssertEqual(missing, name)
            XCTAssertTrue(error?.description.contains(name) ?? false)
        }
    }

    func testMisShapedKeyIsNamed() throws {
        let file = try Golden.vqganTiny()
        let configuration = try Golden.configuration(file)
        let name = "decoder.up.2.upsample.conv.weight"
        let archive = EditedArchive(base: file.scoped("weights."), reshaped: [name: [64, 64, 1, 1]])
        let error = loadError(archive, configuration)
        XCTAssertEqual(error, .shapeMismatch(file: archive.sourceDescription, name: name, expected: [64, 64, 3, 3], found: [64, 64, 1, 1]))
        XCTAssertTrue(error?.description.contains(name) ?? false)
    }

    func testUnsupportedConfigurationIsRejectedAtLoad() throws {
        let file = try Golden.vqganTiny()
        var configuration = try Golden.configuration(file)
        configuration.embedDim = 16
        guard case .unsupported = loadError(file.scoped("weights."), configuration) else { return XCTFail("expected unsupported") }
    }

    func testOutOfRangeTokensThrow() throws {
        let file = try Golden.vqganTiny()
        let decoder = try VQGANDecoder(configuration: try Golden.configuration(file), archive: file.scoped("weights."))
        var tokens = [Int32](repeating: 5, count: 16)
        tokens[7] = 1024
        XCTAssertThrowsError(try decoder.decode(tokens: tokens, batch: 1)) { error in
            XCTAssertEqual(error as? VQGANError, .tokenOutOfRange(index: 7, value: 1024, codebookSize: 1024))
        }
        tokens[7] = -1
        XCTAssertThrowsError(try decoder.decode(tokens: tokens, batch: 1)) { error in
            XCTAssertEqual(error as? VQGANError, .tokenOutOfRange(index: 7, value: -1, codebookSize: 1024))
        }
        XCTAssertThrowsError(try decoder.decode(tokens: [Int32](repeating: 0, count: 15), batch: 1)) { error in
            XCTAssertEqual(error as? VQGANError, .tokenCountMismatch(expected: 16, found: 15))
        }
    }

    /// Issue #16: a golden file's `case.tokens` of shape [0, 2^40, 2^40] overflowed the image size.
    func testOverflowingGridsThrow() throws {
        let file = try Golden.vqganTiny()
        let decoder = try VQGANDecoder(configuration: try Golden.configuration(file), archive: file.scoped("weights."))
        for (batch, side) in [(0, 1 << 40), (1, 1 << 31), (Int.max, 1)] {
            XCTAssertThrowsError(try decoder.decode(tokens: [], batch: batch, latentHeight: side, latentWidth: side)) { error in
                guard case .invalidArgument(let why) = error as? VQGANError else { return XCTFail("\(error)") }
                XCTAssertTrue(why.contains("exceed"), why)
            }
            var output: [Float] = []
            XCTAssertThrowsError(
                try output.withUnsafeMutableBufferPointer { o in
                    try [Int32]().withUnsafeBufferPointer { t in
                        try decoder.decode(tokens: t, batch: batch, latentHeight: side, latentWidth: side, into: o)
                    }
                })
        }
    }
}
