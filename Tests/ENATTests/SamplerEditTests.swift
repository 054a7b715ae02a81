import ENAT
import XCTest

/// Edits (inpainting, variations) in the sampler: kept tokens stay, the schedule counts only
/// the regenerated positions, and edits batch with plain runs without changing either.
final class SamplerEditTests: XCTestCase {
    let tokens = 256

    /// A source image's tokens: a plain run of another class.
    func sourceTokens(_ sampler: ENATSampler) throws -> [Int32] {
        try XCTUnwrap(sampler.generate(label: 3, settings: .imageNet256, seed: 99))
    }

    /// The left half of the 16 x 16 token grid regenerated.
    func leftHalf() -> [Bool] { (0..<tokens).map { $0 % 16 < 8 } }

    func testKeptTokensNeverChangeAndScheduleCountsOnlyRegenerated() throws {
        let sampler = try SamplerTests.tinySampler()
        let source = try sourceTokens(sampler)
        let edit = TokenEdit(ids: source, regenerate: leftHalf())
        XCTAssertEqual(edit.regeneratedCount, 128)
        let run = try sampler.makeRun(label: 7, settings: .imageNet256, seed: 5, edit: edit)
        var updates: [StepUpdate] = []
        let result = try XCTUnwrap(
            sampler.generate(run) {
                updates.append($0); return true
            })
        let expectedMasked = (0..<8).map { StepSchedule(step: $0, of: 8, tokens: 128, settings: .imageNet256).maskCount }
        XCTAssertEqual(updates.map { $0.revealed.filter { !$0 }.count }, expectedMasked)
        for update in updates {
            for position in 0..<tokens where !edit.regenerate[position] {
                XCTAssertEqual(update.ids[position], source[position], "kept token \(position) at step \(update.step)")
                XCTAssertEqual(update.predicted[position], source[position])
            }
        }
        XCTAssertFalse(result.contains(1024))
        let regenerated = (0..<tokens).filter { edit.regenerate[$0] }
        XCTAssertNotEqual(regenerated.map { result[$0] }, regenerated.map { source[$0] }, "the masked half was generated anew")
    }

    func testEditOfEveryTokenIsAPlainRun() throws {
        let sampler = try SamplerTests.tinySampler()
        let source = try sourceTokens(sampler)
        let everything = TokenEdit(ids: source, regenerate: Array(repeating: true, count: tokens))
        let edited = try XCTUnwrap(sampler.generate(try sampler.makeRun(label: 7, settings: .imageNet256, seed: 5, edit: everything)))
        let plain = try XCTUnwrap(sampler.generate(label: 7, settings: .imageNet256, seed: 5))
        XCTAssertEqual(edited, plain)
    }

    func testEditsBatchedWithPlainRunsMatchRunsAlone() throws {
        let sampler = try SamplerTests.tinySampler()
        let source = try sourceTokens(sampler)
        let inpaint = TokenEdit(ids: source, regenerate: leftHalf())
        let variation = TokenEdit.variation(of: source, strength: 0.3, seed: 11)
        func makeRuns() throws -> [SamplingRun] {
            [
                try sampler.makeRun(label: 7, settings: .imageNet256, seed: 5, edit: inpaint),
                try sampler.makeRun(label: 8, settings: .imageNet256, seed: 6),
                try sampler.makeRun(label: 9, settings: .imageNet256, seed: 7, edit: variation),
                try sampler.makeRun(label: 9, settings: SamplerSettings(guidanceScale: 0), seed: 8, edit: inpaint),
            ]
        }
        let alone = try makeRuns().map { try XCTUnwrap(sampler.generate($0)) }
        // Admitted one step apart, as continuous batching does.
        var runs: [SamplingRun] = []
        for run in try makeRuns() {
            runs.append(run)
            _ = try sampler.step(runs)
        }
        while runs.contains(where: { !$0.isFinished }) { _ = try sampler.step(runs) }
        for (index, run) in runs.enumerated() { XCTAssertEqual(run.ids, alone[index], "run \(index)") }
    }

    func testVariationStrengthChoosesThatShareOfTokens() throws {
        let source = [Int32](repeating: 4, count: tokens)
        XCTAssertEqual(TokenEdit.variation(of: source, strength: 0.25, seed: 1).regeneratedCount, 64)
        XCTAssertEqual(TokenEdit.variation(of: source, strength: 1, seed: 1).regeneratedCount, tokens)
        XCTAssertEqual(TokenEdit.variation(of: source, strength: 0.25, seed: 1), TokenEdit.variation(of: source, strength: 0.25, seed: 1))
        XCTAssertNotEqual(TokenEdit.variation(of: source, strength: 0.25, seed: 1), TokenEdit.variation(of: source, strength: 0.25, seed: 2))
    }

    func testInvalidEditsAreRejected() throws {
        let sampler = try SamplerTests.tinySampler()
        let source = try sourceTokens(sampler)
        let cases: [(String, TokenEdit)] = [
            ("short map", TokenEdit(ids: Array(source.prefix(10)), regenerate: Array(repeating: true, count: 10))),
            ("mask token kept", TokenEdit(ids: [1024] + source.dropFirst(), regenerate: [false] + leftHalf().dropFirst())),
            ("negative token", TokenEdit(ids: [-1] + source.dropFirst(), regenerate: leftHalf())),
            ("nothing to regenerate", TokenEdit(ids: source, regenerate: Array(repeating: false, count: tokens))),
        ]
        for (name, edit) in cases {
            XCTAssertThrowsError(try sampler.makeRun(label: 1, settings: .imageNet256, seed: 0, edit: edit), name)
        }
    }
}
