import Foundation
import ModelFiles
import MutationCorpus
import XCTest

@testable import ModelBundle

/// Issue #16's corpus at the loader `enat serve` and `enat generate` use: hostile `config.json`
/// values (2^62 as `vqgan.ch` killed the process at load) and mutated weight files. Every case
/// must end in a loaded model or a `ModelBundleError` that names the file; a trap kills the
/// test process.
final class MutatedBundleTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Models")

    /// Loads the bundle after each mutant replaced `file`; returns (loaded, refused).
    func load(_ folder: URL, file: String, mutants: [Mutant]) throws -> (loaded: Int, refused: Int) {
        let path = folder.appendingPathComponent(file)
        let original = try Data(contentsOf: path)
        defer { try? original.write(to: path) }
        var loaded = 0, refused = 0
        for mutant in mutants {
            try Data(mutant.bytes).write(to: path)
            do {
                _ = try LoadedModel.load(path: folder.path)
                loaded += 1
            } catch {
                // A person reading the log must learn which file is wrong.
                XCTAssertTrue(error.description.contains(folder.path), "\(mutant.name): \(error.description)")
                refused += 1
            }
        }
        return (loaded, refused)
    }

    func testHostileConfigurationValues() throws {
        let folder = try TestBundles.write(TestBundles.micro, self)
        let mutants = JSONMutations.mutants(of: try Data(contentsOf: folder.appendingPathComponent("config.json")))
        XCTAssertGreaterThan(mutants.count, 200)
        let (loaded, refused) = try load(folder, file: "config.json", mutants: mutants)
        // Most hostile values are refused; a few are harmless (a description, a sampler default).
        XCTAssertGreaterThan(refused, mutants.count * 3 / 4, "loaded \(loaded)")
    }

    func testTheIssuesChannelCountIsRefusedWithItsKey() throws {
        let folder = try TestBundles.write(TestBundles.micro, self)
        let file = folder.appendingPathComponent("config.json")
        for (old, new) in [
            ("\"ch\" : 32", "\"ch\" : 4611686018427387904"), ("\"ch_mult\" : [\n      1,", "\"ch_mult\" : [\n      4611686018427387904,"),
        ] {
            let text = try String(contentsOf: file, encoding: .utf8)
            XCTAssertTrue(text.contains(old), old)
            try text.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
            assertBundleError(try LoadedModel.load(path: folder.path), contains: [file.path, "vqgan:", "4611686018427387904"])
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
    }

    func testMutatedWeightFiles() throws {
        let folder = try TestBundles.write(TestBundles.micro, self)
        for (seed, file) in [(UInt64(11), "transformer.safetensors"), (12, "vqgan.safetensors")] {
            let mutants = SafeTensorsMutations.mutants(of: Array(try Data(contentsOf: folder.appendingPathComponent(file))), seed: seed)
            XCTAssertGreaterThan(mutants.count, 50)
            let (loaded, refused) = try load(folder, file: file, mutants: mutants)
            XCTAssertGreaterThan(refused, mutants.count / 2, "\(file): loaded \(loaded)")
        }
    }

    /// The demo bundles' configurations, caption model's `text_encoder` included: validation only.
    func testHostileValuesInTheDemoConfigurations() throws {
        for name in ["demo-shapes", "demo-captions"] {
            let json = try Data(contentsOf: Self.models.appendingPathComponent("\(name)/config.json"))
            XCTAssertNoThrow(try BundleConfiguration.decode(json: json, file: "config.json"))
            var refused = 0
            let mutants = JSONMutations.mutants(of: json)
            for mutant in mutants {
                do {
                    _ = try BundleConfiguration.decode(json: Data(mutant.bytes), file: "\(name)/config.json")
                } catch {
                    XCTAssertTrue(error.description.contains("\(name)/config.json"), "\(mutant.name): \(error)")
                    refused += 1
                }
            }
            XCTAssertGreaterThan(refused, mutants.count / 2, name)
        }
    }
}
