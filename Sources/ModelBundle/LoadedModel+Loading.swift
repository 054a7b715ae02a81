import ENAT
import Foundation
import ModelFiles
import Tensors
import VQGAN

extension LoadedModel {
    /// Loads a bundle folder (`config.json` and its safetensors files), or the official release
    /// files: a folder with `nnet_ema.pth` or `nnet_ema_512.pth` and `vqgan_jax_strongaug.ckpt`,
    /// or the path of the transformer checkpoint with the VQGAN file beside it. Official files
    /// get the ENAT-L configuration of their resolution, ImageNet class names and the official
    /// sampler defaults. `id` overrides the configuration's id.
    ///
    /// The mosaic colour table is built at the first mosaic frame; a server that wants every
    /// frame equally fast calls `preparePreviews()` once after loading.
    ///
    /// `precision` is the format of the linear layers: in bf16 their weights are packed to
    /// bfloat16 as they load and no float32 copy stays (resolve `auto` with `PrecisionSetting`).
    public static func load(path: String, id: String? = nil, precision: ComputePrecision = .fp32) throws(ModelBundleError) -> LoadedModel {
        if let id { try checkID(id) }
        switch try ModelSource.locate(path) {
        case .bundle(let folder):
            return try loadBundle(folder: folder, id: id, precision: precision)
        case .official(let transformer, let vqgan):
            return try loadOfficial(transformer: transformer, vqgan: vqgan, id: id, precision: precision)
        }
    }

    /// A model with random weights of the configuration's shapes (tests, benchmarks).
    public static func random(
        configuration: BundleConfiguration, seed: UInt64, precision: ComputePrecision = .fp32
    ) throws(ModelBundleError) -> LoadedModel {
        try configuration.validate(file: "random configuration")
        guard configuration.kind == .classConditional else {
            return try loadCaptionRandom(configuration: configuration, seed: seed, precision: precision)
        }
        let transformer = RandomArchive(shapes: ENATWeights.expectedKeys(configuration.transformer), seed: seed)
        let vqgan = RandomArchive(
            shapes: VQGANDecoder.parameterShapes(configuration.vqgan).map { ($0.name, $0.shape) }, seed: seed &+ 1)
        return try assemble(
            configuration: configuration, id: configuration.id, source: "random weights (seed \(seed))",
            transformer: transformer, vqgan: vqgan, precision: precision)
    }

    /// An id given by the caller follows the configuration's rule.
    private static func checkID(_ id: String) throws(ModelBundleError) {
        guard (1...64).contains(id.count), id.allSatisfy(BundleConfiguration.idCharacters.contains) else {
            throw .invalidConfiguration(file: "model id", reason: "'\(id)' must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
        }
    }

    /// Reads and validates a bundle folder's `config.json`.
    public static func readConfiguration(folder: String) throws(ModelBundleError) -> BundleConfiguration {
        let file = URL(fileURLWithPath: folder).appendingPathComponent("config.json").path
        guard FileManager.default.fileExists(atPath: file) else {
            throw .missingFile(path: file, what: "bundle configuration")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .cannotAccess(path: file, reason: "cannot read the bundle configuration")
        }
        return try BundleConfiguration.decode(json: data, file: file)
    }

    static func loadBundle(folder: URL, id: String?, precision: ComputePrecision) throws(ModelBundleError) -> LoadedModel {
        var configuration = try readConfiguration(folder: folder.path)
        // The id a model is served under is the one its configuration reports.
        let modelID = id ?? configuration.id
        configuration.id = modelID
        if configuration.kind == .caption {
            return try loadCaptionBundle(configuration: configuration, folder: folder, id: modelID, precision: precision)
        }
        let transformer = try openSafeTensors(folder, configuration.files.transformer, what: "transformer weights")
        let vqgan = try openSafeTensors(folder, configuration.files.vqgan, what: "VQGAN weights")
        return try assemble(
            configuration: configuration, id: modelID, source: folder.path, transformer: transformer, vqgan: vqgan,
            precision: precision)
    }

    static func loadOfficial(transformer: URL, vqgan: URL, id: String?, precision: ComputePrecision) throws(ModelBundleError) -> LoadedModel {
        let transformerArchive: TorchCheckpoint
        let vqganArchive: TorchCheckpoint
        do {
            transformerArchive = try TorchCheckpoint(path: transformer.path)
            vqganArchive = try TorchCheckpoint(path: vqgan.path)
        } catch {
            throw .weights(error)
        }
        let resolution = try officialResolution(transformerArchive)
        var configuration = BundleConfiguration.official(resolution: resolution)
        configuration.description += " from \(transformer.lastPathComponent)"
        if let id { configuration.id = id }
        return try assemble(
            configuration: configuration, id: id ?? configuration.id, source: transformer.deletingLastPathComponent().path,
            transformer: transformerArchive, vqgan: vqganArchive, precision: precision)
    }

    /// 256 or 512 px, from the position table: 256 positions (16 x 16) or 1024 (32 x 32).
    static func officialResolution(_ archive: any TensorArchive) throws(ModelBundleError) -> Int {
        let name = "x_embedder.position_embeddings.weight"
        guard let info = archive.info(name) else {
            throw .weights(.missingTensor(file: archive.sourceDescription, name: name))
        }
        switch info.shape.first {
        case ENATConfiguration.large256.tokenCount: return 256
        case ENATConfiguration.large512.tokenCount: return 512
        default:
            throw .notAModel(
                path: archive.sourceDescription,
                reason: "'\(name)' has shape \(info.shape): not ENAT-L at 256 px [256, 1024] or 512 px [1024, 1024]; "
                    + "convert other shapes with `enat convert` and a configuration")
        }
    }

    /// Builds the parts from archives with official key names.
    static func assemble(
        configuration: BundleConfiguration, id: String, source: String, transformer: any TensorArchive,
        vqgan: any TensorArchive, precision: ComputePrecision
    ) throws(ModelBundleError) -> LoadedModel {
        do {
            let weights = try ENATWeights(config: configuration.transformer, archive: transformer, precision: precision)
            let decoder = try VQGANDecoder(configuration: configuration.vqgan, archive: vqgan, precision: precision)
            return LoadedModel(
                id: id, configuration: configuration, source: source,
                sampler: ENATSampler(transformer: ENATTransformer(weights: weights)), decoder: decoder,
                encoder: try optionalEncoder(configuration: configuration.vqgan, archive: vqgan))
        } catch {
            throw .weights(error)
        }
    }

    /// The VQGAN encoder when `archive` holds `encoder.*` (always float32: it runs once per
    /// edit, not per step), else nil. Present but incomplete or mis-shaped keys are an error.
    static func optionalEncoder(configuration: VQGANConfiguration, archive: any TensorArchive) throws(ModelFileError) -> VQGANEncoder? {
        guard VQGANEncoder.isPresent(in: archive) else { return nil }
        return try VQGANEncoder(configuration: configuration, archive: archive)
    }

    private static func openSafeTensors(_ folder: URL, _ name: String, what: String) throws(ModelBundleError) -> SafeTensorsFile {
        let path = folder.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path: path, what: what) }
        do {
            return try SafeTensorsFile(path: path)
        } catch {
            throw .weights(error)
        }
    }
}
