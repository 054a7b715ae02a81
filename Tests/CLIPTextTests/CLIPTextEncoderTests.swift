import CLIPText
import Foundation
import ModelFiles
import XCTest

final class CLIPTextEncoderTests: XCTestCase {
    static let tolerance: Float = 1e-4

    func encoder(_ golden: CLIPGoldenCase) throws -> CLIPTextEncoder {
        let configuration = try JSONDecoder().decode(CLIPTextConfiguration.self, from: golden.configuration)
        return try CLIPTextEncoder(configuration: configuration, archive: golden.archive.scoped("weights."))
    }

    func check(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let golden = try CLIPGoldenCase(path: path)
        let (hidden, pooled) = try encoder(golden).encode(ids: golden.ids, batch: golden.batch)
        let hiddenError = maxAbsoluteError(hidden, try golden.archive.readFloats("expect.last_hidden_state"))
        let pooledError = maxAbsoluteError(pooled, try golden.archive.readFloats("expect.pooler_output"))
        print("\(URL(fileURLWithPath: path).lastPathComponent): last_hidden_state \(hiddenError), pooler_output \(pooledError)")
        XCTAssertLessThanOrEqual(hiddenError, Self.tolerance, path, file: file, line: line)
        XCTAssertLessThanOrEqual(pooledError, Self.tolerance, path, file: file, line: line)
    }

    func testSharedGolden() throws { try check(GoldenPaths.sharedCLIP) }

    /// Widths 16 and 24, 2 and 3 heads, 3 and 1 layers, quick_gelu and erf gelu, eps 1e-6,
    /// the legacy `eos_token_id` 2, F16 token embeddings, keys with and without `text_model.`.
    func testUnseenFixtures() throws {
        XCTAssertEqual(GoldenPaths.unseenCLIP.count, 2)
        for path in GoldenPaths.unseenCLIP { try check(path) }
    }

    /// A batch gives each sequence what it gets alone (up to GEMM blocking: OpenBLAS's AVX2 and
    /// Zen kernels round a row differently with the row count), and shorter sequences work.
    func testBatchMatchesSingles() throws {
        let golden = try CLIPGoldenCase(path: GoldenPaths.sharedCLIP)
        let encoder = try encoder(golden)
        let (hidden, pooled) = try encoder.encode(ids: golden.ids, batch: golden.batch)
        let d = encoder.configuration.hiddenSize, n = golden.length
        for b in [0, 4, 8] {
            let (single, singlePooled) = try encoder.encode(ids: golden.row(b), batch: 1)
            for (a, e) in zip(single, hidden[(b * n * d)..<((b + 1) * n * d)]) { XCTAssertEqual(a, e, accuracy: 1e-5) }
            for (a, e) in zip(singlePooled, pooled[(b * d)..<((b + 1) * d)]) { XCTAssertEqual(a, e, accuracy: 1e-5) }
            XCTAssertEqual(single.count, n * d)
            XCTAssertEqual(singlePooled.count, d)
        }
        // Causal attention: a prefix of a sequence has the prefix of its states (up to GEMM
        // blocking, which differs with the row count).
        let (prefix, _) = try encoder.encode(ids: Array(golden.row(0).prefix(10)), batch: 1)
        XCTAssertLessThanOrEqual(maxAbsoluteError(prefix, Array(hidden[0..<(10 * d)])), 1e-5)
    }

    func testInvalidInputs() throws {
        let golden = try CLIPGoldenCase(path: GoldenPaths.sharedCLIP)
        let encoder = try encoder(golden)
        XCTAssertThrowsError(try encoder.encode(ids: [49406, 49407, 49407], batch: 2))
        XCTAssertThrowsError(try encoder.encode(ids: [49406, 49408], batch: 1))
        XCTAssertThrowsError(try encoder.encode(ids: [-1], batch: 1))
        XCTAssertThrowsError(try encoder.encode(ids: Array(repeating: 49407, count: 78), batch: 1))
        XCTAssertThrowsError(try encoder.encode(ids: [], batch: 1))
    }

    func testConfigurationDecoding() throws {
        let json =
            #"{"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12, "eos_token_id": 2, "projection_dim": 768}"#
        let configuration = try JSONDecoder().decode(CLIPTextConfiguration.self, from: Data(json.utf8))
        XCTAssertEqual(configuration, .vitLargePatch14)
        XCTAssertEqual(configuration.maxPositionEmbeddings, 77)
        XCTAssertThrowsError(try JSONDecoder().decode(CLIPTextConfiguration.self, from: Data(#"{"hidden_act": "relu"}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(CLIPTextConfiguration.self, from: Data(#"{"hidden_size": 10, "num_attention_heads": 3}"#.utf8)))
    }

    /// Missing keys and wrong shapes name the key.
    func testWeightErrors() throws {
        let configuration = CLIPTextConfiguration(hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 1, numAttentionHeads: 2)
        var keys = CLIPTextWeights.expectedKeys(configuration)
        XCTAssertNoThrow(try CLIPTextEncoder(configuration: configuration, archive: RandomArchive(shapes: keys)))
        keys.removeLast()
        XCTAssertThrowsError(try CLIPTextEncoder(configuration: configuration, archive: RandomArchive(shapes: keys))) { error in
            XCTAssertTrue("\(error)".contains("final_layer_norm.bias"), "\(error)")
        }
    }
}
