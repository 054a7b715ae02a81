import ENAT
import Foundation
import GoldenCheck
import ModelFiles
import TestSupport
import XCTest

/// Caption runs in the sampler: conditions per stream, the shared first unconditional step,
/// ragged batches, and the guards between class and caption models.
final class CaptionSamplerTests: XCTestCase {
    struct Model {
        let config: ENATConfiguration
        let sampler: ENATSampler
        let caption: TextCondition
        let other: TextCondition
        let empty: TextCondition
    }

    /// The caption fixture's transformer with conditions made from its golden text states
    /// (caption 0 and the empty caption 1) and a third from a perturbed copy.
    func makeModel() throws -> Model {
        let file = try GoldenFile(path: CaptionParityTests.fixture)
        let config = try JSONDecoder().decode(ENATConfiguration.self, from: file.metadataJSON("config"))
        let transformer = ENATTransformer(weights: try ENATWeights(config: config, archive: file.archive.scoped("weights.")))
        let hidden = try file.floats("expect.text.last_hidden_state"), pooled = try file.floats("expect.text.pooled")
        let conditions = try transformer.makeTextConditions(lastHiddenState: hidden, pooled: pooled, count: 2)
        let other = try transformer.makeTextConditions(
            lastHiddenState: hidden.map { $0 * 0.5 + 0.1 }, pooled: pooled.map { -$0 }, count: 2)[0]
        return Model(config: config, sampler: ENATSampler(transformer: transformer), caption: conditions[0], other: other, empty: conditions[1])
    }

    func testSameSeedSameTokensAndCaptionsMatter() throws {
        let model = try makeModel()
        let settings = SamplerSettings(steps: 6, guidanceScale: 3, maskTemperature: 1.5, sampleTemperature: 4)
        func sample(_ text: TextCondition, seed: UInt64) throws -> [Int32] {
            let run = try model.sampler.makeRun(text: text, unconditional: model.empty, settings: settings, seed: seed)
            return try XCTUnwrap(model.sampler.generate(run))
        }
        let a = try sample(model.caption, seed: 7)
        XCTAssertEqual(a, try sample(model.caption, seed: 7))
        XCTAssertTrue(a.allSatisfy { $0 >= 0 && $0 < model.config.maskToken })
        XCTAssertNotEqual(a, try sample(model.other, seed: 7))
        XCTAssertNotNil(model.empty.firstStep, "the unconditional first step is kept in the empty caption's condition")
    }

    /// Runs at different steps, with different captions and guidance on and off, batched
    /// together give each what it gives alone.
    func testRaggedCaptionBatchesMatchRunsAlone() throws {
        let model = try makeModel()
        let guided = SamplerSettings(steps: 5, guidanceScale: 2.5, maskTemperature: 1.5, sampleTemperature: 6)
        let unguided = SamplerSettings(steps: 4, guidanceScale: 0, maskTemperature: 1, sampleTemperature: 3)
        let specs: [(TextCondition, SamplerSettings, UInt64, Int)] = [
            (model.caption, guided, 1, 0), (model.other, guided, 2, 2), (model.empty, unguided, 3, 1), (model.caption, unguided, 4, 3),
        ]
        func alone(_ spec: (TextCondition, SamplerSettings, UInt64, Int)) throws -> [[Int32]] {
            let run = try model.sampler.makeRun(text: spec.0, unconditional: model.empty, settings: spec.1, seed: spec.2)
            var maps: [[Int32]] = []
            while !run.isFinished { maps += try model.sampler.step([run]).map(\.ids) }
            return maps
        }
        let expected = try specs.map(alone)
        // Start each run after its offset: the batches then mix runs at different steps.
        let runs = try specs.map { try model.sampler.makeRun(text: $0.0, unconditional: model.empty, settings: $0.1, seed: $0.2) }
        var maps = Array(repeating: [[Int32]](), count: runs.count)
        var tick = 0
        while runs.contains(where: { !$0.isFinished }) {
            let due = runs.indices.filter { tick >= specs[$0].3 && !runs[$0].isFinished }
            let updates = try model.sampler.step(due.map { runs[$0] })
            for (index, update) in zip(due, updates) { maps[index].append(update.ids) }
            tick += 1
        }
        XCTAssertEqual(maps, expected)
    }

    func testClassAndCaptionModelsRefuseEachOthersConditions() throws {
        let model = try makeModel()
        XCTAssertThrowsError(try model.sampler.makeRun(label: 0, settings: SamplerSettings(), seed: 1))
        let blank = [Int32](repeating: model.config.maskToken, count: model.config.tokenCount)
        let state = StreamState(tokenCount: model.config.tokenCount, hiddenSize: model.config.hiddenSize)
        XCTAssertThrowsError(try model.sampler.transformer.forward([ForwardItem(ids: blank, label: 0, state: state, logits: .none)]))

        let file = try GoldenFile(path: GoldenFolder.file("enat_tiny.safetensors"))
        let config = try JSONDecoder().decode(ENATConfiguration.self, from: file.metadataJSON("config"))
        let classModel = ENATTransformer(weights: try ENATWeights(config: config, archive: file.archive.scoped("weights.")))
        XCTAssertFalse(classModel.weights.isCaptionModel)
        XCTAssertThrowsError(try classModel.makeTextConditions(lastHiddenState: [0], pooled: [0], count: 1))
        let classState = StreamState(tokenCount: config.tokenCount, hiddenSize: config.hiddenSize)
        let classBlank = [Int32](repeating: config.maskToken, count: config.tokenCount)
        // A condition made by another transformer does not fit this one.
        XCTAssertThrowsError(try classModel.forward([ForwardItem(ids: classBlank, text: model.caption, state: classState, logits: .none)]))
        XCTAssertThrowsError(
            try ENATSampler(transformer: classModel).makeRun(text: model.caption, unconditional: model.empty, settings: SamplerSettings(), seed: 1))
        XCTAssertTrue(model.sampler.transformer.weights.isCaptionModel)
        XCTAssertEqual(model.sampler.transformer.weights.textWidth, 8)
        XCTAssertThrowsError(try model.sampler.transformer.makeTextConditions(lastHiddenState: [1, 2, 3], pooled: [1], count: 1))
    }

    /// The keys a caption model loads: random weights of those shapes make a working model.
    func testExpectedCaptionKeysLoad() throws {
        let config = ENATConfiguration(latentSize: 2, hiddenSize: 16, numHeads: 2, encoderDepth: 1, decoderDepth: 1, codebookSize: 10, numClasses: 0)
        let keys = ENATWeights.expectedCaptionKeys(config, textWidth: 8)
        XCTAssertFalse(keys.contains { $0.0.hasPrefix("y_embedder") })
        let weights = try ENATWeights(config: config, archive: RandomArchive(shapes: keys))
        XCTAssertEqual(weights.textWidth, 8)
        let transformer = ENATTransformer(weights: weights)
        let text = try transformer.makeTextConditions(
            lastHiddenState: [Float](repeating: 0.1, count: 2 * 5 * 8), pooled: [Float](repeating: -0.2, count: 2 * 8), count: 2)
        XCTAssertEqual(text.map(\.tokenCount), [5, 5])
        let run = try ENATSampler(transformer: transformer).makeRun(
            text: text[0], unconditional: text[1], settings: SamplerSettings(steps: 3), seed: 9)
        let tokens = try XCTUnwrap(ENATSampler(transformer: transformer).generate(run))
        XCTAssertEqual(tokens.count, 4)
    }
}
