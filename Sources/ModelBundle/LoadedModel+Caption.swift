import CLIPText
import ENAT
import Foundation
import ModelFiles
import Tensors
import VQGAN

/// What a caption model adds to a `LoadedModel`: its text encoder, turning a caption into a
/// sampling run of the model's sampler.
protocol CaptionConditioning: AnyObject {
    func makeRun(
        caption: String, sampler: ENATSampler, settings: SamplerSettings, seed: UInt64, edit: TokenEdit?
    ) throws(ModelBundleError) -> SamplingRun
}

/// CLIP's tokenizer and text tower in front of a caption ENAT: a caption becomes the two text
/// conditions of a run (its own and the empty caption's, the latter made once per model).
final class CLIPCaptionConditioner: CaptionConditioning {
    let modelID: String
    let tokenizer: CLIPTokenizer
    let encoder: CLIPTextEncoder
    private let lock = NSLock()
    /// The empty caption's condition: the unconditional stream of every run (and the keeper of
    /// its shared first step).
    private var emptyCaption: TextCondition?

    init(modelID: String, tokenizer: CLIPTokenizer, encoder: CLIPTextEncoder) {
        self.modelID = modelID
        self.tokenizer = tokenizer
        self.encoder = encoder
    }

    func makeRun(
        caption: String, sampler: ENATSampler, settings: SamplerSettings, seed: UInt64, edit: TokenEdit?
    ) throws(ModelBundleError) -> SamplingRun {
        // Before the text tower runs: a caption over the limit (or blank) costs nothing.
        do {
            try SamplerLimits.engine.validate(settings, condition: .caption(caption))
        } catch {
            throw .engine(model: modelID, .invalidSetting(error))
        }
        lock.lock()
        defer { lock.unlock() }
        // One text-encoder batch: the caption, and the empty caption the first time.
        let captions = emptyCaption == nil ? [caption, ""] : [caption]
        let conditions = try encode(captions, transformer: sampler.transformer)
        if emptyCaption == nil { emptyCaption = conditions[1] }
        do {
            return try sampler.makeRun(text: conditions[0], unconditional: emptyCaption!, settings: settings, seed: seed, edit: edit)
        } catch {
            throw .engine(model: modelID, error)
        }
    }

    /// Conditions of several captions in one pass of the text encoder.
    func encode(_ captions: [String], transformer: ENATTransformer) throws(ModelBundleError) -> [TextCondition] {
        do {
            let (hidden, pooled) = try encoder.encode(ids: tokenizer.tokenize(captions), batch: captions.count)
            return try transformer.makeTextConditions(lastHiddenState: hidden, pooled: pooled, count: captions.count)
        } catch let error as ENATError {
            throw .engine(model: modelID, error)
        } catch {
            throw .unsupported(model: modelID, reason: "text encoder: \(error)")
        }
    }
}

extension LoadedModel {
    /// A run for a caption. Models without a text encoder (every class model) refuse with
    /// an error that tells the client what to send instead.
    func makeCaptionRun(caption: String, settings: SamplerSettings, seed: UInt64, edit: TokenEdit? = nil) throws(ModelBundleError) -> SamplingRun {
        guard let captionConditioner else { throw .captionToClassModel(model: id) }
        return try captionConditioner.makeRun(caption: caption, sampler: sampler, settings: settings, seed: seed, edit: edit)
    }

    /// Loads a caption bundle (`kind: "caption"`): the transformer with its text projections
    /// (`files.transformer`), the VQGAN, the CLIP text encoder (`files.text_encoder`, Hugging
    /// Face `CLIPTextModel` keys) and its vocabulary (`files.vocabulary`).
    static func loadCaptionBundle(
        configuration: BundleConfiguration, folder: URL, id: String, precision: ComputePrecision
    ) throws(ModelBundleError) -> LoadedModel {
        func path(_ name: String?, _ what: String) throws(ModelBundleError) -> String {
            let path = folder.appendingPathComponent(name ?? "").path
            guard name != nil, FileManager.default.fileExists(atPath: path) else {
                throw .missingFile(path: path, what: "\(what) of caption model \(id)")
            }
            return path
        }
        let transformerPath = try path(configuration.files.transformer, "transformer weights")
        let vqganPath = try path(configuration.files.vqgan, "VQGAN weights")
        let textPath = try path(configuration.files.textEncoder, "text encoder weights")
        let vocabularyPath = try path(configuration.files.vocabulary, "CLIP vocabulary")
        let vocabulary: BPEVocabulary
        do {
            vocabulary = try BPEVocabulary(path: vocabularyPath)
        } catch {
            throw .invalidConfiguration(file: vocabularyPath, reason: error.description)
        }
        let archives: [SafeTensorsFile]
        do {
            archives = try [transformerPath, vqganPath, textPath].map { (path) throws(ModelFileError) in try SafeTensorsFile(path: path) }
        } catch {
            throw .weights(error)
        }
        return try assembleCaption(
            configuration: configuration, id: id, source: folder.path, vocabulary: vocabulary,
            transformer: archives[0], vqgan: archives[1], textEncoder: archives[2], precision: precision)
    }

    /// A caption model with random weights of the configuration's shapes. Its tokenizer uses
    /// the merges file named by `files.vocabulary` when that is an existing absolute path, and
    /// CLIP's byte symbols without merges otherwise (ids are then valid but not CLIP's words).
    static func loadCaptionRandom(
        configuration: BundleConfiguration, seed: UInt64, precision: ComputePrecision
    ) throws(ModelBundleError) -> LoadedModel {
        guard let text = configuration.textEncoder else {
            throw .invalidConfiguration(file: "random configuration", reason: "a caption model needs a text_encoder configuration")
        }
        var vocabulary = BPEVocabulary.bytesOnly
        if let name = configuration.files.vocabulary, name.hasPrefix("/"), FileManager.default.fileExists(atPath: name) {
            do {
                vocabulary = try BPEVocabulary(path: name)
            } catch {
                throw .invalidConfiguration(file: name, reason: error.description)
            }
        }
        let transformer = RandomArchive(
            shapes: ENATWeights.expectedCaptionKeys(configuration.transformer, textWidth: text.hiddenSize), seed: seed)
        let vqgan = RandomArchive(
            shapes: VQGANDecoder.parameterShapes(configuration.vqgan).map { ($0.name, $0.shape) }, seed: seed &+ 1)
        let textEncoder = RandomArchive(shapes: CLIPTextWeights.expectedKeys(text), seed: seed &+ 2)
        return try assembleCaption(
            configuration: configuration, id: configuration.id, source: "random weights (seed \(seed))", vocabulary: vocabulary,
            transformer: transformer, vqgan: vqgan, textEncoder: textEncoder, precision: precision)
    }

    /// Builds a caption model's parts from archives with official and Hugging Face key names.
    static func assembleCaption(
        configuration: BundleConfiguration, id: String, source: String, vocabulary: BPEVocabulary,
        transformer: any TensorArchive, vqgan: any TensorArchive, textEncoder: any TensorArchive, precision: ComputePrecision
    ) throws(ModelBundleError) -> LoadedModel {
        guard let clip = configuration.textEncoder else {
            throw .invalidConfiguration(file: source, reason: "a caption model needs a text_encoder configuration")
        }
        do {
            try clip.validate()
        } catch {
            throw .invalidConfiguration(file: source, reason: error.description)
        }
        guard vocabulary.size <= clip.vocabSize else {
            throw .invalidConfiguration(
                file: source, reason: "text_encoder.vocab_size \(clip.vocabSize) is smaller than CLIP's \(vocabulary.size) ids")
        }
        let weights: ENATWeights
        let decoder: VQGANDecoder
        let imageEncoder: VQGANEncoder?
        let encoder: CLIPTextEncoder
        do {
            weights = try ENATWeights(config: configuration.transformer, archive: transformer, precision: precision)
            decoder = try VQGANDecoder(configuration: configuration.vqgan, archive: vqgan, precision: precision)
            imageEncoder = try optionalEncoder(configuration: configuration.vqgan, archive: vqgan)
            encoder = try CLIPTextEncoder(weights: CLIPTextWeights(configuration: clip, archive: textEncoder, precision: precision))
        } catch let error as ModelFileError {
            throw .weights(error)
        } catch let error as VQGANError {
            throw .decoder(model: id, error)
        } catch {
            throw .invalidConfiguration(file: source, reason: "\(error)")
        }
        guard weights.isCaptionModel else {
            throw .weights(.missingTensor(file: transformer.sourceDescription, name: "text_proj.weight"))
        }
        guard weights.textWidth == clip.hiddenSize else {
            throw .invalidConfiguration(
                file: source,
                reason: "text_proj takes width \(weights.textWidth ?? 0), the text encoder's hidden_size is \(clip.hiddenSize)")
        }
        let tokenizer = CLIPTokenizer(vocabulary: vocabulary, contextLength: clip.maxPositionEmbeddings)
        return LoadedModel(
            id: id, configuration: configuration, source: source,
            sampler: ENATSampler(transformer: ENATTransformer(weights: weights)), decoder: decoder, encoder: imageEncoder,
            captionConditioner: CLIPCaptionConditioner(modelID: id, tokenizer: tokenizer, encoder: encoder))
    }
}
