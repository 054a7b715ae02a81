import ENAT
import Foundation
import VQGAN

/// A model bundle's `config.json`: architecture, decoder, sampler defaults, class names and the
/// files that hold the weights. Keys are snake_case as in the file; the nested architecture
/// objects use the official configuration names (`latent_size`, `ch_mult`, `cfg_scale`, ...).
public struct BundleConfiguration: Codable, Sendable, Equatable {
    /// The value of `format`.
    public static let format = "enat-bundle"
    /// The `format_version` this build reads and writes.
    public static let formatVersion = 1

    /// The model's default id in the API (`[A-Za-z0-9._-]`, 1 to 64 characters).
    public var id: String
    public var kind: ModelKind
    /// Free text for people (shown by the models endpoint).
    public var description: String
    /// Output image side in pixels: `transformer.latent_size * vqgan downsampling factor`.
    public var resolution: Int
    public var transformer: ENATConfiguration
    public var vqgan: VQGANConfiguration
    /// Sampler settings a request gets unless it says otherwise.
    public var sampler: SamplerSettings
    /// Class models: one entry per class, in label order; an entry may list comma-separated
    /// synonyms ("tench, Tinca tinca"). Empty for caption models.
    public var classNames: [String]
    /// Caption models only.
    public var textEncoder: TextEncoderConfiguration?
    public var files: Files

    /// File names inside the bundle folder (plain names, no folders).
    public struct Files: Codable, Sendable, Equatable {
        public var transformer: String
        public var vqgan: String
        /// Caption models: Hugging Face `CLIPTextModel` weights.
        public var textEncoder: String?
        /// Caption models: CLIP's BPE merges (`bpe_simple_vocab_16e6.txt.gz`).
        public var vocabulary: String?

        enum CodingKeys: String, CodingKey {
            case transformer, vqgan, textEncoder = "text_encoder", vocabulary
        }

        public init(
            transformer: String = "transformer.safetensors", vqgan: String = "vqgan.safetensors",
            textEncoder: String? = nil, vocabulary: String? = nil
        ) {
            self.transformer = transformer
            self.vqgan = vqgan
            self.textEncoder = textEncoder
            self.vocabulary = vocabulary
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            transformer = try c.decodeIfPresent(String.self, forKey: .transformer) ?? "transformer.safetensors"
            vqgan = try c.decodeIfPresent(String.self, forKey: .vqgan) ?? "vqgan.safetensors"
            textEncoder = try c.decodeIfPresent(String.self, forKey: .textEncoder)
            vocabulary = try c.decodeIfPresent(String.self, forKey: .vocabulary)
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", id, kind, description, resolution, transformer, vqgan, sampler
        case classNames = "class_names", textEncoder = "text_encoder", files
    }

    public init(
        id: String, kind: ModelKind = .classConditional, description: String = "", resolution: Int,
        transformer: ENATConfiguration, vqgan: VQGANConfiguration, sampler: SamplerSettings = .imageNet256,
        classNames: [String], textEncoder: TextEncoderConfiguration? = nil, files: Files = Files()
    ) {
        self.id = id
        self.kind = kind
        self.description = description
        self.resolution = resolution
        self.transformer = transformer
        self.vqgan = vqgan
        self.sampler = sampler
        self.classNames = classNames
        self.textEncoder = textEncoder
        self.files = files
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let format = try c.decode(String.self, forKey: .format)
        guard format == Self.format else {
            throw DecodingError.dataCorruptedError(
                forKey: .format, in: c, debugDescription: "format is '\(format)', expected '\(Self.format)'")
        }
        let version = try c.decode(Int.self, forKey: .formatVersion)
        guard version == Self.formatVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .formatVersion, in: c,
                debugDescription: "format_version \(version) is not supported; this build reads version \(Self.formatVersion)")
        }
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(ModelKind.self, forKey: .kind)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        resolution = try c.decode(Int.self, forKey: .resolution)
        transformer = try c.decode(ENATConfiguration.self, forKey: .transformer)
        vqgan = try c.decode(VQGANConfiguration.self, forKey: .vqgan)
        sampler = try c.decodeIfPresent(SamplerSettings.self, forKey: .sampler) ?? .imageNet256
        classNames = try c.decodeIfPresent([String].self, forKey: .classNames) ?? []
        textEncoder = try c.decodeIfPresent(TextEncoderConfiguration.self, forKey: .textEncoder)
        files = try c.decodeIfPresent(Files.self, forKey: .files) ?? Files()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.format, forKey: .format)
        try c.encode(Self.formatVersion, forKey: .formatVersion)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(description, forKey: .description)
        try c.encode(resolution, forKey: .resolution)
        try c.encode(transformer, forKey: .transformer)
        try c.encode(vqgan, forKey: .vqgan)
        try c.encode(sampler, forKey: .sampler)
        try c.encode(classNames, forKey: .classNames)
        try c.encodeIfPresent(textEncoder, forKey: .textEncoder)
        try c.encode(files, forKey: .files)
    }

    /// Reads `config.json` bytes; `file` names the file in errors. The result is validated.
    public static func decode(json: Data, file: String) throws(ModelBundleError) -> BundleConfiguration {
        let configuration: BundleConfiguration
        do {
            configuration = try JSONDecoder().decode(BundleConfiguration.self, from: json)
        } catch let error as DecodingError {
            throw .invalidConfiguration(file: file, reason: Self.explain(error))
        } catch {
            throw .invalidConfiguration(file: file, reason: "\(error)")
        }
        try configuration.validate(file: file)
        return configuration
    }

    /// `config.json` bytes: pretty-printed with sorted keys, so the same configuration always
    /// gives the same file.
    public func encodedJSON() throws(ModelBundleError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            var data = try encoder.encode(self)
            data.append(0x0A)
            return data
        } catch {
            throw .invalidConfiguration(file: "config.json", reason: "cannot encode: \(error)")
        }
    }

    /// Turns Foundation's decoding errors into one line that names the key.
    private static func explain(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let parts = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return parts.isEmpty ? "top level" : parts.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))"
            return "missing key '\(key.stringValue)'\(parent)"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(Self.jsonTypeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(Self.jsonTypeName(type)), found null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Double.Type: "a number"
        case is String.Type: "a string"
        case is [Any].Type, is [Int].Type, is [String].Type: "an array"
        default: "an object"
        }
    }
}
