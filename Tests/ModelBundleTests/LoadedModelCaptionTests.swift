import CLIPText
import ENAT
import Foundation
import ModelFiles
import TestSupport
import XCTest

@testable import ModelBundle

/// Caption bundles: the CLIP text encoder and vocabulary loaded beside the transformer, and
/// captions turned into runs whose two streams carry the caption's and the empty caption's
/// conditions.
final class LoadedModelCaptionTests: XCTestCase {
    /// The caption ENAT golden file written by tools/train (transformer, text tower, text states).
    static let captionGolden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ENATTests/Fixtures/caption_enat_tiny.safetensors").path

    static var microCaption: BundleConfiguration {
        var configuration = TestBundles.micro
        configuration.id = "micro-caption"
        configuration.kind = .caption
        configuration.classNames = []
        configuration.transformer.numClasses = 0
        configuration.textEncoder = TextEncoderConfiguration(hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2)
        configuration.files = .init(textEncoder: "text_encoder.safetensors", vocabulary: "bpe_simple_vocab_16e6.txt.gz")
        return configuration
    }

    func testRandomCaptionModelGenerates() throws {
        let model = try LoadedModel.random(configuration: Self.microCaption, seed: 3)
        XCTAssertEqual(model.kind, .caption)
        let settings = model.defaultSettings
        let run = try model.makeRun(condition: .caption("a red circle"), settings: settings, seed: 5)
        XCTAssertNotNil(run.text)
        XCTAssertNotNil(run.unconditionalText)
        let image = try model.generate(condition: .caption("a red circle"), settings: settings, seed: 5)
        XCTAssertEqual(image.tokens.count, 16)
        XCTAssertEqual(pngSize(image.png)?.width, 16)
        XCTAssertEqual(try model.generate(condition: .caption("a red circle"), settings: settings, seed: 5).tokens, image.tokens)

        // Every run shares the one empty-caption condition (and with it the first step).
        let other = try model.makeRun(condition: .caption("a blue square"), settings: settings, seed: 6)
        XCTAssertTrue(other.unconditionalText === run.unconditionalText)
        XCTAssertFalse(other.text === run.text)

        assertBundleError(
            try model.makeRun(condition: .classLabel(0), settings: settings, seed: 5),
            contains: ["model micro-caption is caption-conditioned"])
        assertBundleError(
            try model.makeRun(condition: .caption(String(repeating: "a", count: 1001)), settings: settings, seed: 5),
            contains: ["model micro-caption", "at most 1000 characters (Unicode scalars), got 1001"])
        assertBundleError(try model.makeRun(condition: .caption(" \n"), settings: settings, seed: 5), contains: ["caption must not be empty"])
        var bad = settings
        bad.steps = 0
        assertBundleError(try model.makeRun(condition: .caption("x"), settings: bad, seed: 5), contains: ["steps"])
    }

    /// A bundle folder with the PyTorch caption golden's weights: the conditions the bundle
    /// makes from the captions (tokenizer, CLIP text tower, projections) equal those made from
    /// the PyTorch text states.
    func testCaptionBundleFromDiskMatchesPyTorchTextStates() throws {
        let golden = try SafeTensorsFile(path: Self.captionGolden)
        let vocabulary = try GoldenFolder.file("clip_bpe_simple_vocab_16e6.txt.gz")
        let config = try JSONDecoder().decode(ENATConfiguration.self, from: Data(golden.metadata["config", default: ""].utf8))
        struct Section: Decodable { let text_encoder: TextEncoderConfiguration }
        let text = try JSONDecoder().decode(Section.self, from: Data(golden.metadata["config", default: ""].utf8)).text_encoder
        let captions = try JSONDecoder().decode([String].self, from: Data(golden.metadata["captions", default: ""].utf8))
        XCTAssertEqual(captions.last, "")

        var configuration = Self.microCaption
        configuration.transformer = config
        configuration.textEncoder = text
        let folder = try TestBundles.temporaryFolder(self).appendingPathComponent("caption")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let weights = golden.scoped("weights.")
        var transformer = SafeTensorsWriter(path: folder.appendingPathComponent("transformer.safetensors").path)
        var textEncoder = SafeTensorsWriter(path: folder.appendingPathComponent("text_encoder.safetensors").path)
        for name in weights.names {
            if name.hasPrefix("text_model.") {
                try textEncoder.add(copying: name, from: weights)
            } else {
                try transformer.add(copying: name, from: weights)
            }
        }
        try transformer.write()
        try textEncoder.write()
        var vqgan = SafeTensorsWriter(path: folder.appendingPathComponent("vqgan.safetensors").path)
        let vqganArchive = TestBundles.vqganArchive(configuration)
        for name in vqganArchive.names { try vqgan.add(copying: name, from: vqganArchive) }
        try vqgan.write()
        try FileManager.default.copyItem(atPath: vocabulary, toPath: folder.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz").path)
        try configuration.encodedJSON().write(to: folder.appendingPathComponent("config.json"))

        let model = try LoadedModel.load(path: folder.path)
        XCTAssertEqual(model.id, "micro-caption")
        let run = try model.makeRun(condition: .caption(captions[0]), settings: model.defaultSettings, seed: 1)
        let expected = try model.sampler.transformer.makeTextConditions(
            lastHiddenState: golden.readFloats("expect.text.last_hidden_state"), pooled: golden.readFloats("expect.text.pooled"),
            count: captions.count)
        func error(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }
        XCTAssertLessThanOrEqual(error(try XCTUnwrap(run.text).tokenValues, expected[0].tokenValues), 1e-4)
        XCTAssertLessThanOrEqual(error(try XCTUnwrap(run.text).vectorValues, expected[0].vectorValues), 1e-4)
        XCTAssertLessThanOrEqual(error(try XCTUnwrap(run.unconditionalText).tokenValues, expected[1].tokenValues), 1e-4)
        XCTAssertLessThanOrEqual(error(try XCTUnwrap(run.unconditionalText).vectorValues, expected[1].vectorValues), 1e-4)
        let image = try model.generate(condition: .caption(captions[0]), settings: model.defaultSettings, seed: 1)
        XCTAssertEqual(image.tokens.count, config.tokenCount)

        // Each missing part is named, with the model.
        for (file, what) in [
            ("text_encoder.safetensors", "text encoder weights"), ("bpe_simple_vocab_16e6.txt.gz", "CLIP vocabulary"),
        ] {
            let path = folder.appendingPathComponent(file).path
            try FileManager.default.moveItem(atPath: path, toPath: path + ".away")
            assertBundleError(try LoadedModel.load(path: folder.path), contains: [path, what, "caption model micro-caption"])
            try FileManager.default.moveItem(atPath: path + ".away", toPath: path)
        }
        // A text encoder of another width than text_proj takes.
        var wide = configuration
        wide.textEncoder?.hiddenSize = 16
        wide.textEncoder?.numAttentionHeads = 2
        try wide.encodedJSON().write(to: folder.appendingPathComponent("config.json"))
        assertBundleError(try LoadedModel.load(path: folder.path), contains: ["text_model.embeddings.token_embedding.weight"])
    }
}
