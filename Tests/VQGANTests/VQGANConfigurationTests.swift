import Foundation
import TestSupport
import VQGAN
import XCTest

final class VQGANConfigurationTests: XCTestCase {
    func testDecodesGoldenMetadata() throws {
        let configuration = try Golden.configuration(try Golden.vqganTiny())
        XCTAssertEqual(
            configuration,
            VQGANConfiguration(
                ch: 32, chMult: [1, 1, 2, 2, 4], numResBlocks: 2, zChannels: 32, embedDim: 32,
                nEmbed: 1024, outCh: 3, resolution: 64))
        XCTAssertEqual(configuration.downsamplingFactor, 16)
        XCTAssertEqual(configuration.latentSize, 4)
        XCTAssertNil(configuration.problem)
    }

    func testOfficialKeyNamesAndDefaults() throws {
        let json = #"{"ch": 128, "ch_mult": [1, 1, 2, 2, 4], "num_res_blocks": 2, "z_channels": 256, "n_embed": 1024}"#
        let configuration = try VQGANConfiguration(json: json)
        XCTAssertEqual(configuration, .released)
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as? [String: Any]
        XCTAssertEqual(
            Set(encoded?.keys.map { $0 } ?? []),
            ["ch", "ch_mult", "num_res_blocks", "z_channels", "embed_dim", "n_embed", "out_ch", "resolution"])
        XCTAssertThrowsError(try VQGANConfiguration(json: #"{"ch": 128}"#))
    }

    func testReleasedShapeAndCost() {
        let c = VQGANConfiguration.released
        let parameters = VQGANDecoder.parameterShapes(c).filter { $0.name.hasPrefix("decoder.") }
            .reduce(0) { $0 + $1.shape.reduce(1, *) }
        XCTAssertEqual(Double(parameters) / 1e6, 30.5, accuracy: 0.05)
        XCTAssertEqual(VQGANDecoder.flopsPerImage(c, latentHeight: 16, latentWidth: 16) / 1e9, 186.5, accuracy: 0.1)
    }

    func testParameterNamesMatchReleasedCheckpoint() throws {
        let url = URL(fileURLWithPath: try GoldenFolder.file("checkpoint_keys.json"))
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let keys = try XCTUnwrap(object?["vqgan_f16_1024"] as? [String: [Int]])
        let released = keys.filter { $0.key.hasPrefix("decoder.") || $0.key.hasPrefix("quantize.") }
        let ours = Dictionary(uniqueKeysWithValues: VQGANDecoder.parameterShapes(.released).map { ($0.name, $0.shape) })
        XCTAssertEqual(ours, released)
    }

    func testRejectsUnsupportedConfiguration() {
        var c = VQGANConfiguration.released
        c.embedDim = 64
        XCTAssertNotNil(c.problem)
        c = .released
        c.ch = 40
        XCTAssertNotNil(c.problem)
    }

    /// Issue #16: `ch * ch_mult[i]` overflowed inside the check meant to reject it (SIGILL at load).
    func testHugeNumbersAreRejectedWithoutOverflow() {
        let huge = 4_611_686_018_427_387_904
        let cases: [(String, (inout VQGANConfiguration) -> Void)] = [
            ("ch", { $0.ch = huge }), ("ch_mult", { $0.chMult[1] = huge }), ("ch_mult", { $0.chMult = [Int.max] }),
            ("num_res_blocks", { $0.numResBlocks = Int.max }),
            (
                "z_channels",
                {
                    $0.zChannels = huge; $0.embedDim = huge
                }
            ),
            ("n_embed", { $0.nEmbed = Int.max }), ("out_ch", { $0.outCh = huge }), ("resolution", { $0.resolution = -1 }),
            ("ch_mult", { $0.chMult = [Int](repeating: 1, count: 13) }), ("ch_mult", { $0.chMult = [-huge] }),
        ]
        for (key, change) in cases {
            var c = VQGANConfiguration.released
            change(&c)
            XCTAssertTrue(c.problem?.contains(key) ?? false, "\(key): \(String(describing: c.problem))")
        }
    }

    func testOutputCountReportsOverflowInsteadOfTrapping() {
        let c = VQGANConfiguration.released
        XCTAssertEqual(c.outputCount(batch: 2, latentHeight: 16, latentWidth: 16), 2 * 3 * 256 * 256)
        XCTAssertEqual(c.outputCount(batch: 0, latentHeight: 16, latentWidth: 16), 0)
        XCTAssertNil(c.outputCount(batch: 0, latentHeight: 1 << 40, latentWidth: 1 << 40))
        XCTAssertNil(c.outputCount(batch: Int.max, latentHeight: 1, latentWidth: 1))
        XCTAssertNil(c.outputCount(batch: 1, latentHeight: 16, latentWidth: 16, limit: 1000))
        XCTAssertNil(c.outputCount(batch: -1, latentHeight: 16, latentWidth: 16))
    }
}
