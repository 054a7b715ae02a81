import CLIPText
import ENAT
import Foundation
import ModelFiles
import XCTest

@testable import ModelBundle

final class LoadedModelLoadingTests: XCTestCase {
    func testLoadsAGoodBundle() throws {
        let folder = try TestBundles.write(TestBundles.micro, self)
        let model = try LoadedModel.load(path: folder.path)
        XCTAssertEqual(model.id, "micro")
        XCTAssertEqual(model.kind, .classConditional)
        XCTAssertEqual(model.configuration, TestBundles.micro)
        XCTAssertEqual(model.imageSize, 16)
        XCTAssertEqual(model.classNames.count, 3)
        XCTAssertEqual(model.defaultSettings, TestBundles.micro.sampler)
        XCTAssertEqual(model.sampler.config, TestBundles.micro.transformer)

        // The same bundle through its config.json, and under another id.
        XCTAssertEqual(try LoadedModel.load(path: folder.appendingPathComponent("config.json").path).id, "micro")
        let renamed = try LoadedModel.load(path: folder.path, id: "other")
        XCTAssertEqual(renamed.id, "other")
        XCTAssertEqual(renamed.configuration.id, "other")
        assertBundleError(try LoadedModel.load(path: folder.path, id: "no spaces"), contains: ["'no spaces'"])
    }

    func testBundleWeightsEqualTheSource() throws {
        let folder = try TestBundles.write(TestBundles.micro, self)
        let written = try SafeTensorsFile(path: folder.appendingPathComponent("transformer.safetensors").path)
        let source = TestBundles.transformerArchive(TestBundles.micro)
        XCTAssertEqual(written.names, source.names)
        for name in source.names {
            XCTAssertEqual(written.info(name), source.info(name), name)
            XCTAssertEqual(try written.readFloats(name), try source.readFloats(name), name)
        }
        let vqgan = try SafeTensorsFile(path: folder.appendingPathComponent("vqgan.safetensors").path)
        XCTAssertTrue(vqgan.names.allSatisfy { $0.hasPrefix("decoder.") || $0 == "quantize.embedding.weight" })
    }

    func testMissingPieces() throws {
        let empty = try TestBundles.temporaryFolder(self)
        assertBundleError(try LoadedModel.load(path: empty.appendingPathComponent("nothing").path), contains: ["nothing", "missing model"])
        assertBundleError(try LoadedModel.load(path: empty.path), contains: [empty.path, "no config.json", "nnet_ema.pth"])

        let folder = try TestBundles.write(TestBundles.micro, self)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("vqgan.safetensors"))
        assertBundleError(try LoadedModel.load(path: folder.path), contains: ["vqgan.safetensors", "missing VQGAN weights"])

        let other = try TestBundles.write(TestBundles.micro, self)
        try FileManager.default.removeItem(at: other.appendingPathComponent("transformer.safetensors"))
        assertBundleError(try LoadedModel.load(path: other.path), contains: ["transformer.safetensors", "missing transformer weights"])
    }

    func testBrokenConfigInAFolder() throws {
        let folder = try TestBundles.write(TestBundles.micro, self)
        let config = folder.appendingPathComponent("config.json")
        try Data("{\"format\": \"enat-bundle\", \"format_version\": 1}".utf8).write(to: config)
        assertBundleError(try LoadedModel.load(path: folder.path), contains: [config.path, "missing key 'id'"])
    }

    func testMisShapedAndMissingTensors() throws {
        let folder = try TestBundles.write(TestBundles.micro, self)
        let path = folder.appendingPathComponent("transformer.safetensors").path
        let source = TestBundles.transformerArchive(TestBundles.micro)

        var writer = SafeTensorsWriter(path: path)
        for name in source.names where name != "norm.weight" { try writer.add(copying: name, from: source) }
        writer.add("norm.weight", shape: [31], values: Array(repeating: 1, count: 31))
        try writer.write()
        assertBundleError(try LoadedModel.load(path: folder.path), contains: [path, "'norm.weight'", "[31]", "expected [32]"])

        writer = SafeTensorsWriter(path: path)
        for name in source.names where name != "blocks.1.mlp.fc2.bias" { try writer.add(copying: name, from: source) }
        try writer.write()
        assertBundleError(try LoadedModel.load(path: folder.path), contains: [path, "missing tensor 'blocks.1.mlp.fc2.bias'"])

        try Data("not safetensors".utf8).write(to: URL(fileURLWithPath: path))
        assertBundleError(try LoadedModel.load(path: folder.path), contains: [path, "malformed"])
    }

    func testCaptionBundleWithoutWeightsNamesTheFile() throws {
        var configuration = TestBundles.micro
        configuration.kind = .caption
        configuration.classNames = []
        configuration.transformer.numClasses = 0
        configuration.textEncoder = TextEncoderConfiguration(hiddenSize: 64, intermediateSize: 256, numHiddenLayers: 2, numAttentionHeads: 4)
        configuration.files = .init(textEncoder: "text_encoder.safetensors", vocabulary: "bpe_simple_vocab_16e6.txt.gz")
        XCTAssertNoThrow(try configuration.validate())
        let folder = try TestBundles.temporaryFolder(self)
        try configuration.encodedJSON().write(to: folder.appendingPathComponent("config.json"))
        assertBundleError(
            try LoadedModel.load(path: folder.path), contains: [folder.appendingPathComponent("transformer.safetensors").path, "missing"])
    }

    func testOfficialFileLayout() throws {
        let folder = try TestBundles.temporaryFolder(self)
        let transformer = folder.appendingPathComponent("nnet_ema.pth")
        XCTAssertTrue(FileManager.default.createFile(atPath: transformer.path, contents: Data()))
        // The transformer alone: the VQGAN file must sit beside it.
        assertBundleError(try ModelSource.locate(folder.path), contains: ["vqgan_jax_strongaug.ckpt", "missing VQGAN checkpoint"])

        let vqgan = folder.appendingPathComponent("vqgan_jax_strongaug.ckpt")
        XCTAssertTrue(FileManager.default.createFile(atPath: vqgan.path, contents: Data()))
        let expected = ModelSource.official(transformer: transformer.standardizedFileURL, vqgan: vqgan.standardizedFileURL)
        XCTAssertEqual(try ModelSource.locate(folder.path), expected)
        XCTAssertEqual(try ModelSource.locate(transformer.path), expected)
        // Empty files are not checkpoints: the reader's error names the file.
        assertBundleError(try LoadedModel.load(path: folder.path), contains: [transformer.lastPathComponent])

        XCTAssertTrue(FileManager.default.createFile(atPath: folder.appendingPathComponent("nnet_ema_512.pth").path, contents: Data()))
        assertBundleError(try ModelSource.locate(folder.path), contains: ["both nnet_ema.pth and nnet_ema_512.pth"])
    }

    func testOfficialResolutionFromShapes() throws {
        for (tokens, resolution) in [(256, 256), (1024, 512)] {
            let archive = RandomArchive(shapes: [("x_embedder.position_embeddings.weight", [tokens, 1024])])
            XCTAssertEqual(try LoadedModel.officialResolution(archive), resolution)
        }
        let odd = RandomArchive(shapes: [("x_embedder.position_embeddings.weight", [64, 128])])
        assertBundleError(try LoadedModel.officialResolution(odd), contains: ["[64, 128]", "not ENAT-L"])
    }

    func testRandomModel() throws {
        let model = try LoadedModel.random(configuration: .testTiny, seed: 7)
        XCTAssertEqual(model.id, "test-tiny")
        XCTAssertEqual(model.imageSize, 256)
        XCTAssertEqual(model.tokenCount, 256)
        XCTAssertEqual(model.classLabel(for: "golden retriever"), 207)
    }
}
