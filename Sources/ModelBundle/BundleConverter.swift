import ENAT
import Foundation
import ModelFiles
import VQGAN

/// Writes model bundles from weight files with official key names: the released PyTorch
/// checkpoints, safetensors files, or golden files (whose `weights.` prefix is removed and
/// whose metadata `config` gives the architecture).
public enum BundleConverter {
    /// A weight file opened for conversion.
    public struct WeightSource: Sendable {
        /// Tensors under their official names.
        public let archive: any TensorArchive
        /// An architecture found inside the file (a safetensors `__metadata__` `config` JSON).
        public let embeddedConfiguration: String?
    }

    /// What the converted bundle says beyond the weights; nil fields are derived.
    public struct Options: Sendable {
        public var id: String?
        public var description: String?
        /// 256 or 512 for the official files; checked against the weights.
        public var resolution: Int?
        /// Needed for transformers that are neither official nor carry their configuration.
        public var transformer: ENATConfiguration?
        /// Default: the file's own configuration, else the released VQGAN.
        public var vqgan: VQGANConfiguration?
        /// Default: ImageNet's names for 1000 classes.
        public var classNames: [String]?
        /// Default: the official ImageNet settings of the resolution.
        public var sampler: SamplerSettings?

        public init(
            id: String? = nil, description: String? = nil, resolution: Int? = nil, transformer: ENATConfiguration? = nil,
            vqgan: VQGANConfiguration? = nil, classNames: [String]? = nil, sampler: SamplerSettings? = nil
        ) {
            self.id = id
            self.description = description
            self.resolution = resolution
            self.transformer = transformer
            self.vqgan = vqgan
            self.classNames = classNames
            self.sampler = sampler
        }
    }

    /// Opens a PyTorch checkpoint (recognised by a zip record's "PK" or, for the legacy format
    /// the reader refuses with a clear message, a pickle's 0x80) or a safetensors file.
    /// When every tensor the model needs sits under `weights.` (golden files), that prefix is
    /// removed.
    public static func openWeights(path: String) throws(ModelBundleError) -> WeightSource {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path: path, what: "weight file") }
        do {
            let file = try MappedFile(path: path)
            if file.bytes.count >= 2, (file.bytes[0] == 0x50 && file.bytes[1] == 0x4B) || file.bytes[0] == 0x80 {
                return WeightSource(archive: try TorchCheckpoint(path: path), embeddedConfiguration: nil)
            }
            let safetensors = try SafeTensorsFile(file: file)
            let config = safetensors.metadata["config"]
            let hasOfficialNames = safetensors.names.contains { !$0.hasPrefix("weights.") && !$0.hasPrefix("case.") && !$0.hasPrefix("expect.") }
            if !hasOfficialNames, safetensors.names.contains(where: { $0.hasPrefix("weights.") }) {
                return WeightSource(archive: safetensors.scoped("weights."), embeddedConfiguration: config)
            }
            return WeightSource(archive: safetensors, embeddedConfiguration: config)
        } catch {
            throw .weights(error)
        }
    }

    /// The bundle configuration for two weight files: architecture from the options, else the
    /// files' own metadata, else the official shapes; resolution from the latent grid.
    public static func configuration(
        transformer: WeightSource, vqgan: WeightSource, options: Options = Options()
    ) throws(ModelBundleError) -> BundleConfiguration {
        let transformerConfig = try transformerConfiguration(transformer, options: options)
        var vqganConfig = try vqganConfiguration(vqgan, options: options)
        let resolution = transformerConfig.latentSize * vqganConfig.downsamplingFactor
        if let wanted = options.resolution, wanted != resolution {
            throw .invalidConfiguration(
                file: transformer.archive.sourceDescription,
                reason: "--resolution \(wanted) asked, but the weights make \(resolution) px images (latent \(transformerConfig.latentSize))")
        }
        vqganConfig.resolution = resolution
        let official = BundleConfiguration.official(resolution: resolution)
        let isOfficialShape = transformerConfig == official.transformer
        let names: [String]
        if let given = options.classNames {
            names = given
        } else if transformerConfig.numClasses == ImageNetClassNames.all.count {
            names = ImageNetClassNames.all
        } else {
            throw .invalidConfiguration(
                file: transformer.archive.sourceDescription,
                reason: "the model has \(transformerConfig.numClasses) classes, not ImageNet's 1000: give their names (--class-names)")
        }
        let configuration = BundleConfiguration(
            id: options.id ?? (isOfficialShape ? official.id : "enat-\(resolution)"),
            kind: .classConditional,
            description: options.description
                ?? (isOfficialShape
                    ? official.description
                    : "ENAT D\(transformerConfig.hiddenSize) \(transformerConfig.encoderDepth)+\(transformerConfig.decoderDepth) blocks, \(resolution) px"),
            resolution: resolution, transformer: transformerConfig, vqgan: vqganConfig,
            sampler: options.sampler ?? (resolution == 512 ? .imageNet512 : .imageNet256), classNames: names)
        try configuration.validate(file: "converted configuration")
        return configuration
    }

    /// Writes a bundle folder (created if needed): `config.json` and float32 safetensors of
    /// exactly the tensors the model reads, under official names (the VQGAN encoder's too when
    /// the VQGAN source has `encoder.*`). Shapes are checked first, so
    /// a wrong file fails before anything is written.
    public static func write(
        configuration: BundleConfiguration, transformer: any TensorArchive, vqgan: any TensorArchive, to folder: String
    ) throws(ModelBundleError) {
        try configuration.validate(file: "bundle configuration")
        guard configuration.kind == .classConditional else {
            throw .unsupported(model: configuration.id, reason: "the converter writes class-conditional bundles only")
        }
        let url = URL(fileURLWithPath: folder)
        var transformerFile = SafeTensorsWriter(
            path: url.appendingPathComponent(configuration.files.transformer).path, metadata: ["format": "pt"])
        for (name, shape) in ENATWeights.expectedKeys(configuration.transformer) {
            try checkShape(transformer, name, shape, squeezable: name == "mlm_layer.bias")
            try transformerFile.add(copying: name, from: transformer, shape: shape)
        }
        var vqganFile = SafeTensorsWriter(
            path: url.appendingPathComponent(configuration.files.vqgan).path, metadata: ["format": "pt"])
        var vqganTensors = VQGANDecoder.parameterShapes(configuration.vqgan)
        // The encoder (edits) when the source has one: the official checkpoint does.
        if VQGANEncoder.isPresent(in: vqgan) {
            let decoderNames = Set(vqganTensors.map(\.name))
            vqganTensors += VQGANEncoder.parameterShapes(configuration.vqgan).filter { !decoderNames.contains($0.name) }
        }
        for (name, shape) in vqganTensors {
            try checkShape(vqgan, name, shape, squeezable: false)
            try vqganFile.add(copying: name, from: vqgan, shape: shape)
        }
        let json = try configuration.encodedJSON()
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw .cannotAccess(path: folder, reason: "cannot create the bundle folder: \(error.localizedDescription)")
        }
        try transformerFile.write()
        try vqganFile.write()
        // config.json last: a folder with a config is a complete bundle.
        let configPath = url.appendingPathComponent("config.json").path
        do {
            try json.write(to: URL(fileURLWithPath: configPath), options: .atomic)
        } catch {
            throw .cannotAccess(path: configPath, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Opens both files, derives the configuration and writes the bundle; returns the configuration.
    @discardableResult
    public static func convert(
        transformerPath: String, vqganPath: String, to folder: String, options: Options = Options()
    ) throws(ModelBundleError) -> BundleConfiguration {
        let transformer = try openWeights(path: transformerPath)
        let vqgan = try openWeights(path: vqganPath)
        let configuration = try configuration(transformer: transformer, vqgan: vqgan, options: options)
        try write(configuration: configuration, transformer: transformer.archive, vqgan: vqgan.archive, to: folder)
        return configuration
    }

    // MARK: Architecture

    static func transformerConfiguration(_ source: WeightSource, options: Options) throws(ModelBundleError) -> ENATConfiguration {
        if let given = options.transformer { return given }
        let file = source.archive.sourceDescription
        if let json = source.embeddedConfiguration {
            do {
                return try JSONDecoder().decode(ENATConfiguration.self, from: Data(json.utf8))
            } catch {
                throw .invalidConfiguration(file: file, reason: "metadata 'config' is not an ENAT configuration: \(error)")
            }
        }
        // Official checkpoints carry no configuration: recognise ENAT-L by its shapes.
        let resolution: Int
        do {
            resolution = try LoadedModel.officialResolution(source.archive)
        } catch {
            throw .invalidConfiguration(
                file: file, reason: "cannot tell the architecture (not ENAT-L, no embedded config): give one (--transformer-config)")
        }
        let config: ENATConfiguration = resolution == 512 ? .large512 : .large256
        let lastBlock = "blocks.\(config.depth - 1).attn.q.weight", extraBlock = "blocks.\(config.depth).attn.q.weight"
        guard source.archive.info(lastBlock) != nil, source.archive.info(extraBlock) == nil else {
            throw .invalidConfiguration(
                file: file, reason: "the block count is not ENAT-L's \(config.depth): give the architecture (--transformer-config)")
        }
        return config
    }

    static func vqganConfiguration(_ source: WeightSource, options: Options) throws(ModelBundleError) -> VQGANConfiguration {
        if let given = options.vqgan { return given }
        if let json = source.embeddedConfiguration {
            do {
                return try VQGANConfiguration(json: json)
            } catch {
                throw .invalidConfiguration(
                    file: source.archive.sourceDescription, reason: "metadata 'config' is not a VQGAN configuration: \(error)")
            }
        }
        return .released
    }

    /// The archive's tensor must have `shape`, or (for `squeezable`) the same shape up to unit dimensions.
    private static func checkShape(_ archive: any TensorArchive, _ name: String, _ shape: [Int], squeezable: Bool) throws(ModelBundleError) {
        guard let info = archive.info(name) else { throw .weights(.missingTensor(file: archive.sourceDescription, name: name)) }
        let matches = squeezable ? info.shape.filter { $0 != 1 } == shape.filter { $0 != 1 } : info.shape == shape
        guard matches else {
            throw .weights(.shapeMismatch(file: archive.sourceDescription, name: name, expected: shape, found: info.shape))
        }
    }
}
