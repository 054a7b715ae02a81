import Foundation
import GoldenCheck
import ModelFiles
import MutationCorpus
import TestSupport
import XCTest

/// The mutation corpus of issue #16: seeded mutations of the committed golden fixtures
/// (truncated and bit-flipped files, huge, zero-sized and negative dimensions, wrong dtypes,
/// short and missing tensors, ids past Int32, hostile configuration and sampler values) run
/// through `GoldenCheck.run` as `enat golden` runs them. Every case must end in a thrown error
/// or a report; a trap or an out-of-bounds read kills the test process, which fails the run.
final class MutatedGoldenTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("GoldenCheckTests/Fixtures")
    static var vocabulary: String { get throws { try GoldenFolder.file("clip_bpe_simple_vocab_16e6.txt.gz") } }

    struct Outcomes {
        var errors = 0
        var reports = 0
        var kinds: [String: Int] = [:]
    }

    /// Writes each mutant of `fixture` under its own name into a fresh folder, with the
    /// `companions` beside it (a trajectory needs its weights file), and checks it. `perKind`
    /// samples the corpus where one check is slow in a debug build.
    func runCorpus(
        fixture: URL, companions: [URL] = [], seed: UInt64, vocabulary: String? = nil, perKind: Int? = nil
    ) throws -> Outcomes {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("enat-mutated-golden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for companion in companions {
            try FileManager.default.copyItem(at: companion, to: folder.appendingPathComponent(companion.lastPathComponent))
        }
        let target = folder.appendingPathComponent(fixture.lastPathComponent)
        var mutants = SafeTensorsMutations.mutants(of: Array(try Data(contentsOf: fixture)), seed: seed)
        if let perKind { mutants = mutants.sampled(perKind: perKind, seed: seed) }
        XCTAssertGreaterThan(mutants.count, 30, "\(fixture.lastPathComponent): too few mutants")
        var outcomes = Outcomes()
        for mutant in mutants {
            try Data(mutant.bytes).write(to: target)
            outcomes.kinds[mutant.kind, default: 0] += 1
            do {
                _ = try GoldenCheck.run(path: target.path, vocabulary: vocabulary)
                outcomes.reports += 1
            } catch {
                // The CLI prints "<path>: error: <description>": the description must say something.
                XCTAssertFalse("\(error)".isEmpty, "\(mutant.name): empty error")
                outcomes.errors += 1
            }
        }
        // Structural damage is always refused: truncation leaves no valid file behind.
        XCTAssertGreaterThan(outcomes.errors, mutants.count / 3, "\(fixture.lastPathComponent): \(outcomes)")
        for kind in ["truncated", "bit-flipped", "huge-dim", "negative-dim", "wrong-dtype", "short-tensor", "missing-tensor"] {
            XCTAssertNotNil(outcomes.kinds[kind], "\(fixture.lastPathComponent): no \(kind) mutants")
        }
        return outcomes
    }

    func testENATForwardMutants() throws {
        let outcomes = try runCorpus(fixture: Self.fixtures.appendingPathComponent("enat_lat4_d32_h8_e1d1.safetensors"), seed: 1)
        XCTAssertNotNil(outcomes.kinds["ids-past-int32"])
        XCTAssertNotNil(outcomes.kinds["hostile-config"])
    }

    func testTrajectoryMutants() throws {
        let outcomes = try runCorpus(
            fixture: Self.fixtures.appendingPathComponent("enat_lat4_d32_h8_e1d1_trajectory.safetensors"),
            companions: [Self.fixtures.appendingPathComponent("enat_lat4_d32_h8_e1d1.safetensors")], seed: 2, perKind: 6)
        XCTAssertNotNil(outcomes.kinds["ids-past-int32"])
        XCTAssertNotNil(outcomes.kinds["hostile-config"])
    }

    func testVQGANMutants() throws {
        let outcomes = try runCorpus(fixture: Self.fixtures.appendingPathComponent("vqgan_ch32_mult122_z8.safetensors"), seed: 3, perKind: 6)
        XCTAssertNotNil(outcomes.kinds["hostile-config"])
    }

    func testCLIPTextMutants() throws {
        let vocabulary = try Self.vocabulary
        _ = try runCorpus(
            fixture: Self.root.appendingPathComponent("CLIPTextTests/Fixtures/clip_text_d16_h2_l3_quickgelu.safetensors"), seed: 4,
            vocabulary: vocabulary, perKind: 4)
    }

    func testCaptionENATMutants() throws {
        let vocabulary = try Self.vocabulary
        _ = try runCorpus(
            fixture: Self.root.appendingPathComponent("ENATTests/Fixtures/caption_enat_tiny.safetensors"), seed: 5,
            vocabulary: vocabulary, perKind: 4)
    }

    /// `enat golden FILE --weights CHECKPOINT` with a damaged checkpoint (checksums unchecked,
    /// as by default, so flipped pickle and tensor bytes reach the readers).
    func testCheckpointWeightMutants() throws {
        let checkpoint = Self.fixtures.appendingPathComponent("checkpoints/enat_lat4_state_dict.pth")
        let golden = Self.fixtures.appendingPathComponent("enat_lat4_d32_h8_e1d1.safetensors").path
        let bytes = Array(try Data(contentsOf: checkpoint))
        let mutants =
            (ByteMutations.truncated(bytes, seed: 6) + ByteMutations.bitFlipped(bytes, count: 24, flips: 4, seed: 7)
                + ByteMutations.bitFlipped(bytes, in: 0..<min(bytes.count, 4096), count: 24, flips: 2, seed: 8)
                + ByteMutations.overwritten(bytes, count: 16, seed: 9))
        var errors = 0
        for mutant in mutants {
            do {
                let archive = try TorchCheckpoint(bytes: mutant.bytes, sourceDescription: "mutated.pth")
                _ = try GoldenCheck.run(path: golden, weights: archive)
            } catch {
                XCTAssertFalse("\(error)".isEmpty, mutant.name)
                errors += 1
            }
        }
        XCTAssertGreaterThan(errors, mutants.count / 4)
    }
}
