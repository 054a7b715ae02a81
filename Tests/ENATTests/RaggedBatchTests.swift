import ENAT
import GoldenCheck
import ModelFiles
import TestSupport
import XCTest

/// Samples at different steps, with and without reuse state, batched together must each give
/// what they give alone.
final class RaggedBatchTests: XCTestCase {
    func testMixedStepsAndReuseInOneBatchMatchRunningAlone() throws {
        let file = try GoldenFile(path: GoldenFolder.file("enat_tiny.safetensors"))
        let trajectory = try GoldenFile(path: GoldenFolder.file("enat_tiny_trajectory.safetensors"))
        let config = try JSONDecoder().decode(ENATConfiguration.self, from: file.metadataJSON("config"))
        let weights = try ENATWeights(config: config, archive: file.archive.scoped("weights."))
        let model = ENATTransformer(weights: weights)
        let cases = try ENATGolden.ForwardCases(file: file, config: config)
        let l = config.tokenCount

        // Trajectory states of sample 0 after steps 2 and 4, built by replaying its ids.
        func replayedState(upTo step: Int, label: Int, sample: Int) throws -> (StreamState, [Int32]) {
            let state = StreamState(tokenCount: l, hiddenSize: config.hiddenSize)
            var ids: [Int32] = []
            for s in 0...step {
                let all = try trajectory.ints("step\(s).ids_in").map(Int32.init)
                ids = Array(all[(sample * l)..<((sample + 1) * l)])
                if s < step { _ = try model.forward([ForwardItem(ids: ids, label: label, state: state, logits: .none)]) }
            }
            return (state, ids)
        }

        func makeItems() throws -> [ForwardItem] {
            var items: [ForwardItem] = []
            items.append(cases.full()[0])
            let (a, idsA) = try replayedState(upTo: 2, label: 3, sample: 0)
            items.append(ForwardItem(ids: idsA, label: 3, state: a, logits: .all))
            items.append(cases.reuse()[1])
            let (b, idsB) = try replayedState(upTo: 5, label: 1000, sample: 1)
            items.append(ForwardItem(ids: idsB, label: 1000, state: b, logits: .masked))
            items.append(cases.previous()[0])
            return items
        }

        let batched = try makeItems()
        let batchedLogits = try model.forward(batched).map { Array($0.values) }
        let batchedFeatures = batched.map { $0.state.featureValues }

        for index in 0..<batched.count {
            let alone = try makeItems()[index]
            let logits = try model.forward([alone]).map { Array($0.values) }[0]
            XCTAssertEqual(logits.count, batchedLogits[index].count)
            XCTAssertGreaterThan(logits.count, 0)
            let logitError = zip(logits, batchedLogits[index]).map { abs($0 - $1) }.max() ?? .infinity
            let featureError = zip(alone.state.featureValues, batchedFeatures[index]).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(logitError, 1e-5, "item \(index) logits")
            XCTAssertLessThanOrEqual(featureError, 1e-5, "item \(index) features")
        }
    }

    func testReuseRejectsRemaskingARevealedPosition() throws {
        let file = try GoldenFile(path: GoldenFolder.file("enat_tiny.safetensors"))
        let config = try JSONDecoder().decode(ENATConfiguration.self, from: file.metadataJSON("config"))
        let model = ENATTransformer(weights: try ENATWeights(config: config, archive: file.archive.scoped("weights.")))
        let state = StreamState(tokenCount: config.tokenCount, hiddenSize: config.hiddenSize)
        var ids = [Int32](repeating: config.maskToken, count: config.tokenCount)
        ids[0] = 5
        _ = try model.forward([ForwardItem(ids: ids, label: 1, state: state, logits: .none)])
        ids[0] = config.maskToken
        XCTAssertThrowsError(try model.forward([ForwardItem(ids: ids, label: 1, state: state, logits: .none)]))
        XCTAssertThrowsError(try model.forward([ForwardItem(ids: [1, 2], label: 1, state: state, logits: .none)]))
        XCTAssertThrowsError(try model.forward([ForwardItem(ids: ids, label: 1001, state: state, logits: .none)]))
    }
}
