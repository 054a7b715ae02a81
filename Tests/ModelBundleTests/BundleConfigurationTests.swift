import CLIPText
import ENAT
import Foundation
import VQGAN
import XCTest

@testable import ModelBundle

final class BundleConfigurationTests: XCTestCase {
    /// The micro configuration as a JSON object, to be broken one key at a time.
    private func microObject() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: TestBundles.micro.encodedJSON()) as? [String: Any])
    }

    private func decode(_ object: [String: Any]) throws -> BundleConfiguration {
        try BundleConfiguration.decode(json: JSONSerialization.data(withJSONObject: object), file: "/b/config.json")
    }

    func testRoundTripAndStableBytes() throws {
        let data = try TestBundles.micro.encodedJSON()
        XCTAssertEqual(try BundleConfiguration.decode(json: data, file: "config.json"), TestBundles.micro)
        XCTAssertEqual(try TestBundles.micro.encodedJSON(), data)
        let text = String(decoding: data, as: UTF8.self)
        for key in [
            "\"format\" : \"enat-bundle\"", "\"format_version\" : 1", "\"kind\" : \"class\"", "\"latent_size\"", "\"ch_mult\"", "\"cfg_scale\"",
            "\"class_names\"",
        ] {
            XCTAssertTrue(text.contains(key), "config.json lacks \(key)")
        }
    }

    func testInterfaceExampleDecodes() throws {
        let json = """
            {
              "format": "enat-bundle", "format_version": 1, "id": "demo-shapes", "kind": "class",
              "description": "free text", "resolution": 64,
              "transformer": { "latent_size": 8, "hidden_size": 128, "num_heads": 4, "enc_depth": 4,
                               "dec_depth": 2, "codebook_size": 512, "num_classes": 2, "mlp_ratio": 4 },
              "vqgan": { "ch": 32, "ch_mult": [1,2,2,4], "num_res_blocks": 1, "z_channels": 64,
                         "embed_dim": 64, "n_embed": 512, "out_ch": 3, "resolution": 64 },
              "sampler": { "steps": 8, "cfg_scale": 2.5, "mask_temp": 1.5, "samp_temp": 6 },
              "class_names": ["red circle", "tench, Tinca tinca"],
              "files": { "transformer": "transformer.safetensors", "vqgan": "vqgan.safetensors" }
            }
            """
        let configuration = try BundleConfiguration.decode(json: Data(json.utf8), file: "config.json")
        XCTAssertEqual(configuration.id, "demo-shapes")
        XCTAssertEqual(configuration.kind, .classConditional)
        XCTAssertEqual(configuration.transformer.tokenCount, 64)
        XCTAssertEqual(configuration.vqgan.downsamplingFactor, 8)
        XCTAssertEqual(configuration.sampler, SamplerSettings(steps: 8, guidanceScale: 2.5, maskTemperature: 1.5, sampleTemperature: 6))
        XCTAssertNil(configuration.textEncoder)
    }

    func testCaptionConfigurationValidates() throws {
        var object = try microObject()
        object["kind"] = "caption"
        object["class_names"] = []
        var transformer = try XCTUnwrap(object["transformer"] as? [String: Any])
        transformer["num_classes"] = 0
        object["transformer"] = transformer
        object["text_encoder"] =
            [
                "vocab_size": 49408, "hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2,
                "num_attention_heads": 4, "max_position_embeddings": 77, "layer_norm_eps": 1e-5, "hidden_act": "quick_gelu",
                "eos_token_id": 49407,
            ] as [String: Any]
        object["files"] = [
            "transformer": "transformer.safetensors", "vqgan": "vqgan.safetensors",
            "text_encoder": "text_encoder.safetensors", "vocabulary": "bpe_simple_vocab_16e6.txt.gz",
        ]
        let configuration = try decode(object)
        XCTAssertEqual(configuration.kind, .caption)
        XCTAssertEqual(configuration.textEncoder?.hiddenSize, 64)
        XCTAssertEqual(configuration.files.vocabulary, "bpe_simple_vocab_16e6.txt.gz")

        object["files"] = ["transformer": "transformer.safetensors", "vqgan": "vqgan.safetensors"]
        assertBundleError(try decode(object), contains: ["/b/config.json", "files.text_encoder"])
    }

    /// Each broken configuration fails with the file's name and a message naming the problem.
    func testMalformedConfigurations() throws {
        let cases: [(String, (inout [String: Any]) -> Void, [String])] = [
            ("no format", { $0["format"] = nil }, ["missing key 'format'"]),
            ("other format", { $0["format"] = "diffusers" }, ["format is 'diffusers'"]),
            ("future version", { $0["format_version"] = 2 }, ["format_version 2 is not supported"]),
            ("no id", { $0["id"] = nil }, ["missing key 'id'"]),
            ("bad id", { $0["id"] = "my model/1" }, ["id 'my model/1'"]),
            ("unknown kind", { $0["kind"] = "video" }, ["kind"]),
            ("string resolution", { $0["resolution"] = "16" }, ["resolution", "expected a number"]),
            ("wrong resolution", { $0["resolution"] = 32 }, ["resolution 32 does not match latent_size 4"]),
            ("no transformer", { $0["transformer"] = nil }, ["missing key 'transformer'"]),
            ("transformer lacks a key", { Self.edit(&$0, "transformer") { $0["hidden_size"] = nil } }, ["missing key 'hidden_size' in transformer"]),
            ("heads do not divide", { Self.edit(&$0, "transformer") { $0["num_heads"] = 5 } }, ["num_heads must divide hidden_size"]),
            ("codebooks differ", { Self.edit(&$0, "vqgan") { $0["n_embed"] = 128 } }, ["codebook_size 64 differs from vqgan.n_embed 128"]),
            ("bad group count", { Self.edit(&$0, "vqgan") { $0["ch"] = 48 } }, ["vqgan:", "GroupNorm"]),
            ("grey images", { Self.edit(&$0, "vqgan") { $0["out_ch"] = 1 } }, ["out_ch is 1"]),
            ("ch_mult not an array", { Self.edit(&$0, "vqgan") { $0["ch_mult"] = 2 } }, ["vqgan.ch_mult", "expected an array"]),
            ("zero steps", { Self.edit(&$0, "sampler") { $0["steps"] = 0 } }, ["sampler.steps must be 1...64"]),
            ("negative guidance", { Self.edit(&$0, "sampler") { $0["cfg_scale"] = -1 } }, ["sampler.cfg_scale"]),
            ("too few names", { $0["class_names"] = ["a", "b"] }, ["class_names has 2 entries, transformer.num_classes is 3"]),
            ("blank name", { $0["class_names"] = ["a", " ", "c"] }, ["class_names[1] is empty"]),
            ("names not strings", { $0["class_names"] = [1, 2, 3] }, ["class_names[0]", "expected a string"]),
            (
                "escaping file", { Self.edit(&$0, "files") { $0["transformer"] = "../other/transformer.safetensors" } },
                ["files.transformer", "plain file name"]
            ),
            ("caption without encoder", { $0["kind"] = "caption" }, ["caption model needs a text_encoder"]),
        ]
        for (name, breakIt, fragments) in cases {
            var object = try microObject()
            breakIt(&object)
            do {
                _ = try decode(object)
                XCTFail("\(name): decoded")
            } catch let error as ModelBundleError {
                XCTAssertTrue(error.description.hasPrefix("/b/config.json: invalid configuration: "), "\(name): \(error)")
                for fragment in fragments where !error.description.contains(fragment) {
                    XCTFail("\(name): '\(error)' does not mention '\(fragment)'")
                }
            }
        }
        assertBundleError(
            try BundleConfiguration.decode(json: Data("{\"format\": ".utf8), file: "x/config.json"),
            contains: ["x/config.json", "not valid JSON"])
    }

    private static func edit(_ object: inout [String: Any], _ key: String, _ change: (inout [String: Any]) -> Void) {
        var inner = object[key] as? [String: Any] ?? [:]
        change(&inner)
        object[key] = inner
    }

    func testPresets() throws {
        try BundleConfiguration.testTiny.validate()
        XCTAssertEqual(BundleConfiguration.testTiny.transformer.tokenCount, 256)
        XCTAssertEqual(BundleConfiguration.testTiny.classNames.count, 1000)
        for resolution in [256, 512] {
            let official = BundleConfiguration.official(resolution: resolution)
            try official.validate()
            XCTAssertEqual(official.resolution, resolution)
            XCTAssertEqual(official.classNames[207], "golden retriever")
        }
        XCTAssertEqual(BundleConfiguration.official(resolution: 512).sampler, .imageNet512)
    }
}
