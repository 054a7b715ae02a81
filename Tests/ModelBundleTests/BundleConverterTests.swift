import ENAT
import Foundation
import ModelFiles
import TestSupport
import VQGAN
import XCTest

@testable import ModelBundle

final class BundleConverterTests: XCTestCase {
    private var transformerGolden: String { get throws { try GoldenFolder.file("enat_tiny.safetensors") } }
    private var vqganGolden: String { get throws { try GoldenFolder.file("vqgan_tiny.safetensors") } }

    /// The golden tiny transformer and VQGAN become a 256 px bundle; generating from it twice
    /// gives the same bytes, and its tokens are the sampler's on the golden weights.
    /// (About a minute in a debug build: two 256 px decodes.)
    func testConvertGoldenTinyFilesAndGenerate() throws {
        let folder = try TestBundles.temporaryFolder(self).appendingPathComponent("tiny")
        let configuration = try BundleConverter.convert(
            transformerPath: transformerGolden, vqganPath: vqganGolden, to: folder.path, options: .init(id: "golden-tiny"))
        XCTAssertEqual(configuration.transformer, BundleConfiguration.testTiny.transformer)
        XCTAssertEqual(configuration.vqgan, BundleConfiguration.testTiny.vqgan)
        XCTAssertEqual(configuration.resolution, 256)
        XCTAssertEqual(configuration.classNames, ImageNetClassNames.all)
        XCTAssertEqual(configuration.sampler, .imageNet256)

        let written = try SafeTensorsFile(path: folder.appendingPathComponent("transformer.safetensors").path)
        XCTAssertEqual(Set(written.names), Set(ENATWeights.expectedKeys(configuration.transformer).map(\.0)))
        XCTAssertFalse(written.names.contains { $0.hasPrefix("case.") || $0.hasPrefix("expect.") || $0.hasPrefix("weights.") })

        let model = try LoadedModel.load(path: folder.path)
        XCTAssertEqual(model.id, "golden-tiny")
        let label = try XCTUnwrap(model.classLabel(for: "Golden Retriever"))
        let first = try model.generate(condition: .classLabel(label), settings: model.defaultSettings, seed: 1)
        let second = try model.generate(condition: .classLabel(label), settings: model.defaultSettings, seed: 1)
        XCTAssertEqual(first.png, second.png)
        XCTAssertEqual(first.tokens, second.tokens)
        XCTAssertEqual(pngSize(first.png)?.width, 256)

        let golden = try SafeTensorsFile(path: transformerGolden).scoped("weights.")
        let sampler = ENATSampler(transformer: ENATTransformer(weights: try ENATWeights(config: configuration.transformer, archive: golden)))
        XCTAssertEqual(try sampler.generate(label: 207, settings: .imageNet256, seed: 1), first.tokens)
    }

    func testConfigurationFromFiles() throws {
        let transformer = try BundleConverter.openWeights(path: transformerGolden)
        let vqgan = try BundleConverter.openWeights(path: vqganGolden)
        XCTAssertNotNil(transformer.archive.info("x_embedder.word_embeddings.weight"), "the weights. prefix is removed")
        XCTAssertNotNil(transformer.embeddedConfiguration)

        // Options win over the files, and the resolution must agree with the weights.
        var options = BundleConverter.Options(id: "x", description: "d", sampler: SamplerSettings(steps: 4))
        let configuration = try BundleConverter.configuration(transformer: transformer, vqgan: vqgan, options: options)
        XCTAssertEqual(configuration.id, "x")
        XCTAssertEqual(configuration.description, "d")
        XCTAssertEqual(configuration.sampler.steps, 4)
        options.resolution = 512
        assertBundleError(
            try BundleConverter.configuration(transformer: transformer, vqgan: vqgan, options: options),
            contains: ["--resolution 512", "256 px"])

        // A transformer with neither an official shape nor a configuration cannot be guessed.
        let bare = BundleConverter.WeightSource(archive: TestBundles.transformerArchive(TestBundles.micro), embeddedConfiguration: nil)
        assertBundleError(
            try BundleConverter.configuration(transformer: bare, vqgan: vqgan), contains: ["cannot tell the architecture"])
        // Non-ImageNet class counts need names.
        assertBundleError(
            try BundleConverter.configuration(
                transformer: bare, vqgan: vqgan,
                options: .init(transformer: TestBundles.micro.transformer, vqgan: TestBundles.micro.vqgan)),
            contains: ["3 classes", "--class-names"])
        let micro = try BundleConverter.configuration(
            transformer: bare, vqgan: vqgan,
            options: .init(transformer: TestBundles.micro.transformer, vqgan: TestBundles.micro.vqgan, classNames: ["a", "b", "c"]))
        XCTAssertEqual(micro.resolution, 16)
    }

    func testOfficialShapesAreRecognised() throws {
        let shapes = ENATWeights.expectedKeys(.large256)
        let archive = RandomArchive(shapes: shapes + [("prev_embedder.fc1.weight", [4096, 1024])])
        let source = BundleConverter.WeightSource(archive: archive, embeddedConfiguration: nil)
        XCTAssertEqual(try BundleConverter.transformerConfiguration(source, options: .init()), .large256)
        let deeper = RandomArchive(shapes: shapes + [("blocks.24.attn.q.weight", [1024, 1024])])
        assertBundleError(
            try BundleConverter.transformerConfiguration(.init(archive: deeper, embeddedConfiguration: nil), options: .init()),
            contains: ["block count"])
    }

    func testWrongShapesFailBeforeWriting() throws {
        let folder = try TestBundles.temporaryFolder(self).appendingPathComponent("bad")
        var configuration = TestBundles.micro
        configuration.transformer.hiddenSize = 64
        assertBundleError(
            try BundleConverter.write(
                configuration: configuration, transformer: TestBundles.transformerArchive(TestBundles.micro),
                vqgan: TestBundles.vqganArchive(TestBundles.micro), to: folder.path),
            contains: ["random weights", "x_embedder.word_embeddings.weight", "expected [65, 64]"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path))
    }

    private var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelFilesTests/Fixtures")
    }

    func testPyTorchInputs() throws {
        // A legacy (non-zip) torch.save file is named as such, not misread as safetensors.
        assertBundleError(
            try BundleConverter.openWeights(path: fixtures.appendingPathComponent("torch_legacy.pt").path),
            contains: ["torch_legacy.pt", "legacy"])
        let plain = try BundleConverter.openWeights(path: fixtures.appendingPathComponent("torch_plain_state_dict.pt").path)
        XCTAssertNil(plain.embeddedConfiguration)
        XCTAssertFalse(plain.archive.names.isEmpty)
    }
}
