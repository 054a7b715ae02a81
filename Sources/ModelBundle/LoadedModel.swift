import ENAT
import Foundation
import Imaging
import ModelFiles
import Tensors
import VQGAN

/// A loaded, servable model: the ENAT sampler, the VQGAN decoder and the preview renderer of
/// one bundle (or one set of official files).
///
/// Immutable after loading; its compute methods (`makeRun`, `renderFinalPNGs`,
/// `renderPreviewPNG`, and the sampler) are called from ONE thread at a time, the scheduler's
/// inference thread, and are not reentrant. The descriptive properties may be read anywhere.
public final class LoadedModel: @unchecked Sendable {
    // @unchecked: the sampler and decoder hold scratch memory used by the one inference thread;
    // everything else is immutable, and the lazily built mosaic renderer sits behind a lock.

    public let id: String
    public let kind: ModelKind
    public let configuration: BundleConfiguration
    public let sampler: ENATSampler
    /// Where the model was loaded from ("random weights" for `random`).
    public let source: String
    let decoder: VQGANDecoder
    /// The VQGAN encoder (images to tokens, for edits), when the weights hold `encoder.*`: the
    /// official checkpoint does, bundles may leave it out. Used by the inference thread only.
    public let encoder: VQGANEncoder?
    let classIndex: ClassNameIndex
    /// Caption models only: turns captions into sampling runs.
    let captionConditioner: (any CaptionConditioning)?

    private let previewLock = NSLock()
    private var mosaicRenderer: MosaicRenderer?

    init(
        id: String, configuration: BundleConfiguration, source: String, sampler: ENATSampler, decoder: VQGANDecoder,
        encoder: VQGANEncoder? = nil, captionConditioner: (any CaptionConditioning)? = nil
    ) {
        self.id = id
        kind = configuration.kind
        self.configuration = configuration
        self.source = source
        self.sampler = sampler
        self.decoder = decoder
        self.encoder = encoder
        self.captionConditioner = captionConditioner
        classIndex = ClassNameIndex(names: configuration.classNames)
    }

    /// The number format of the linear layers (`ComputePrecision`).
    public var precision: ComputePrecision { sampler.transformer.weights.precision }
    /// What computes the linear layers: "openblas" (fp32) or "enat-bf16" (the packed kernels).
    public var computeBackend: String { precision == .fp32 ? "openblas" : "enat-bf16" }
    /// The kernel family in use: OpenBLAS's core ("Haswell", "Cooperlake") or the bf16 kernel
    /// ("avx2_fma", "avx512_bf16").
    public var computeKernel: String {
        precision == .fp32 ? BLAS.coreName : (BF16Kernel.best.map { "\($0)" } ?? "none")
    }

    /// The sampler settings of a request that does not choose its own.
    public var defaultSettings: SamplerSettings { configuration.sampler }
    /// One name per class label (empty for caption models).
    public var classNames: [String] { configuration.classNames }
    /// Output image side in pixels.
    public var imageSize: Int { configuration.resolution }
    /// Tokens per image (latent side squared).
    public var tokenCount: Int { configuration.transformer.tokenCount }

    /// Label for a class name: the label as digits ("207"), or a class name or any of its
    /// synonyms, case-insensitively; nil if unknown (always nil for caption models).
    public func classLabel(for text: String) -> Int? {
        kind == .classConditional ? classIndex.label(for: text) : nil
    }

    /// Class names closest to `text`, for "did you mean" hints (empty for caption models).
    public func classSuggestions(for text: String, limit: Int = 3) -> [String] {
        kind == .classConditional ? classIndex.suggestions(for: text, limit: limit) : []
    }

    /// Validates a request against `SamplerLimits.engine` and prepares its run: the caption
    /// encoded for caption models. Errors name the model and the problem.
    public func makeRun(
        condition: GenerationCondition, settings: SamplerSettings, seed: UInt64, edit: ImageEdit? = nil
    ) throws(ModelBundleError) -> SamplingRun {
        let tokenEdit = try edit.map { (edit) throws(ModelBundleError) in try self.tokenEdit(edit, seed: seed) }
        switch condition {
        case .classLabel(let label):
            guard kind == .classConditional else { throw .classToCaptionModel(model: id) }
            do {
                return try sampler.makeRun(label: label, settings: settings, seed: seed, edit: tokenEdit)
            } catch {
                throw .engine(model: id, error)
            }
        case .caption(let caption):
            return try makeCaptionRun(caption: caption, settings: settings, seed: seed, edit: tokenEdit)
        }
    }

    // MARK: Images

    /// Final images: one VQGAN decode for all the token maps, clamped to [0, 1], scaled to
    /// 8 bits with rounding, and encoded as PNG with the small (slow) compression.
    /// Deterministic: the same tokens give the same bytes, alone or in any batch.
    public func renderFinalPNGs(_ tokens: [[Int32]]) throws(ModelBundleError) -> [[UInt8]] {
        guard !tokens.isEmpty else { return [] }
        let pixels = try decode(tokens)
        let side = imageSize
        let images = RGBImage.batch(bchw: pixels, batch: tokens.count, width: side, height: side)
        do {
            return try images.map { (image) throws(PNGError) in try PNGEncoder.encode(image, compression: .small) }
        } catch {
            throw .png(error)
        }
    }

    /// A progressive preview frame for one step: nil for `.none`; for `.mosaic` the revealed
    /// tokens in their codes' colours (milliseconds); for `.full` the VQGAN decode of the whole
    /// predicted token map (`update.predicted`, a full decode). Fast PNG compression.
    public func renderPreviewPNG(_ update: StepUpdate, mode: PreviewMode) throws(ModelBundleError) -> [UInt8]? {
        switch mode {
        case .none:
            return nil
        case .mosaic:
            guard update.ids.count == tokenCount, update.revealed.count == tokenCount else {
                throw .invalidTokens(
                    model: id, reason: "a step update holds \(update.ids.count) tokens, the model makes \(tokenCount)")
            }
            let renderer = try previewRenderer()
            do {
                return try renderer.renderPNG(tokens: update.ids, revealed: update.revealed)
            } catch {
                throw .png(error)
            }
        case .full:
            let pixels = try decode([update.predicted])
            let image = RGBImage(chw: pixels, width: imageSize, height: imageSize)
            do {
                return try PNGEncoder.encode(image, compression: .fast)
            } catch {
                throw .png(error)
            }
        }
    }

    /// Builds the mosaic colour table now rather than at the first mosaic frame. It costs one
    /// decode of every code: as much as decoding `codebookSize / tokenCount` images (4 for the
    /// released 1024-code VQGAN at 256 px). Servers call it once after loading; idempotent.
    public func preparePreviews() throws(ModelBundleError) {
        _ = try previewRenderer()
    }

    /// The mosaic renderer, built once on first use.
    private func previewRenderer() throws(ModelBundleError) -> MosaicRenderer {
        previewLock.lock()
        defer { previewLock.unlock() }
        if let mosaicRenderer { return mosaicRenderer }
        let colors = try CodeColors.meanDecodedColors(
            decoder: decoder, latentSize: configuration.transformer.latentSize, model: id)
        let renderer = MosaicRenderer(colors: colors, gridSide: configuration.transformer.latentSize, outputSize: imageSize)
        mosaicRenderer = renderer
        return renderer
    }

    /// `[batch, 3, side, side]` floats for whole token maps.
    private func decode(_ tokens: [[Int32]]) throws(ModelBundleError) -> [Float] {
        for (index, map) in tokens.enumerated() where map.count != tokenCount {
            throw .invalidTokens(model: id, reason: "token map \(index) holds \(map.count) tokens, the model needs \(tokenCount)")
        }
        let latent = configuration.transformer.latentSize
        do {
            return try decoder.decode(
                tokens: Array(tokens.joined()), batch: tokens.count, latentHeight: latent, latentWidth: latent)
        } catch {
            throw .decoder(model: id, error)
        }
    }
}
