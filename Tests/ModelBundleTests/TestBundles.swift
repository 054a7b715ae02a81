import ENAT
import Foundation
import ModelFiles
import VQGAN
import XCTest

@testable import ModelBundle

/// Small bundles written to temporary folders.
enum TestBundles {
    /// The smallest shapes that exercise every part: 4 x 4 tokens, 64 codes, 3 classes, 16 px.
    static let micro = BundleConfiguration(
        id: "micro", kind: .classConditional, description: "test", resolution: 16,
        transformer: ENATConfiguration(
            latentSize: 4, hiddenSize: 32, numHeads: 2, encoderDepth: 1, decoderDepth: 1, codebookSize: 64, numClasses: 3),
        vqgan: VQGANConfiguration(
            ch: 32, chMult: [1, 1, 2], numResBlocks: 1, zChannels: 32, embedDim: 32, nEmbed: 64, outCh: 3, resolution: 16),
        sampler: SamplerSettings(steps: 4, guidanceScale: 2, maskTemperature: 1.5, sampleTemperature: 3),
        classNames: ["red circle", "blue square, azure square", "green triangle"])

    static func transformerArchive(_ configuration: BundleConfiguration, seed: UInt64 = 3) -> RandomArchive {
        RandomArchive(shapes: ENATWeights.expectedKeys(configuration.transformer), seed: seed, scale: 0.2)
    }

    static func vqganArchive(_ configuration: BundleConfiguration, seed: UInt64 = 4) -> RandomArchive {
        RandomArchive(shapes: VQGANDecoder.parameterShapes(configuration.vqgan).map { ($0.name, $0.shape) }, seed: seed, scale: 0.2)
    }

    /// A fresh temporary folder, removed when the test ends.
    static func temporaryFolder(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("enat-bundle-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Writes `configuration`'s bundle with random weights into a new temporary folder.
    static func write(_ configuration: BundleConfiguration = micro, _ test: XCTestCase) throws -> URL {
        let folder = try temporaryFolder(test).appendingPathComponent("bundle")
        try BundleConverter.write(
            configuration: configuration, transformer: transformerArchive(configuration), vqgan: vqganArchive(configuration),
            to: folder.path)
        return folder
    }
}

/// Asserts that `body` throws a `ModelBundleError` whose message contains every fragment.
func assertBundleError<T>(
    _ body: @autoclosure () throws -> T, contains fragments: [String], file: StaticString = #filePath, line: UInt = #line
) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch let error as ModelBundleError {
        for fragment in fragments where !error.description.contains(fragment) {
            XCTFail("error '\(error.description)' does not mention '\(fragment)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected a ModelBundleError, got \(error)", file: file, line: line)
    }
}

/// Width and height from a PNG's IHDR, after checking the signature.
func pngSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
    guard bytes.count > 24, bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
        bytes[12..<16] == [0x49, 0x48, 0x44, 0x52]
    else { return nil }
    func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}
