import ENAT
import Imaging
import VQGAN

/// An edit of an existing image, as a request carries it to the inference thread: the image at
/// the model's resolution and what of it to generate anew. It becomes tokens there (the VQGAN
/// encoder is compute, and compute belongs to that thread).
public struct ImageEdit: Sendable, Equatable {
    /// What the edit regenerates.
    public enum Region: Sendable, Equatable {
        /// One flag per pixel, row-major at the model's resolution: `true` is regenerated. A token
        /// is regenerated when any pixel of its patch is, so a mask's edge is never left half kept.
        case pixels([Bool])
        /// A variation: this share (0...1) of the tokens, chosen by the request's seed.
        case strength(Double)
    }

    /// 8-bit RGB, row-major, `side x side` at the model's resolution.
    public var rgb: [UInt8]
    public var region: Region

    public init(rgb: [UInt8], region: Region) {
        self.rgb = rgb
        self.region = region
    }
}

extension LoadedModel {
    /// Whether the model can edit images: it needs its VQGAN encoder.
    public var canEdit: Bool { encoder != nil }

    /// Checks an edit without encoding it, so the API refuses a bad one before queueing it.
    public func validate(_ edit: ImageEdit) throws(ModelBundleError) {
        guard canEdit else { throw .unsupported(model: id, reason: "the bundle has no VQGAN encoder, so it cannot edit images") }
        let side = imageSize
        guard edit.rgb.count == side * side * 3 else {
            throw .invalidEdit(model: id, reason: "the image must be \(side)x\(side) RGB; got \(edit.rgb.count) bytes")
        }
        switch edit.region {
        case .strength(let strength):
            guard strength.isFinite, strength > 0, strength <= 1 else {
                throw .invalidEdit(model: id, reason: "strength must be in (0, 1]; got \(strength)")
            }
        case .pixels(let regenerate):
            guard regenerate.count == side * side else { throw .invalidEdit(model: id, reason: "the mask must be \(side)x\(side)") }
            guard regeneratedTokens(regenerate).contains(true) else {
                throw .invalidEdit(model: id, reason: "the mask selects nothing to regenerate (no transparent pixel)")
            }
        }
    }

    /// The sampler's view of an edit: the image's tokens and which of them to regenerate.
    func tokenEdit(_ edit: ImageEdit, seed: UInt64) throws(ModelBundleError) -> TokenEdit {
        try validate(edit)
        let side = imageSize
        let ids: [Int32]
        do {
            ids = try encoder!.encode(rgb: edit.rgb, batch: 1, height: side, width: side)
        } catch {
            throw .invalidEdit(model: id, reason: "VQGAN encode: \(error)")
        }
        switch edit.region {
        case .strength(let strength): return TokenEdit.variation(of: ids, strength: strength, seed: seed)
        case .pixels(let regenerate): return TokenEdit(ids: ids, regenerate: regeneratedTokens(regenerate))
        }
    }

    /// Per token: whether any pixel of its patch is regenerated.
    private func regeneratedTokens(_ pixels: [Bool]) -> [Bool] {
        let side = imageSize
        let tokensPerSide = Int(Double(tokenCount).squareRoot())
        let patch = side / tokensPerSide
        var tokens = [Bool](repeating: false, count: tokenCount)
        for y in 0..<side {
            for x in 0..<side where pixels[y * side + x] {
                tokens[(y / patch) * tokensPerSide + x / patch] = true
            }
        }
        return tokens
    }
}

extension ImageEdit {
    /// The input of an edit a problem lies in: the API's `param`, the command line's flag.
    public enum Input: String, Sendable {
        case image, mask, strength
    }

    /// An edit's inputs that do not say what to regenerate, or contradict each other.
    public struct InputError: Error, Sendable, CustomStringConvertible {
        public let input: Input
        public let description: String
        /// Set when nothing says what to regenerate (the API's `missing_required_parameter`).
        public let isMissing: Bool
    }

    /// The edit an image asks for at the model's `side`, OpenAI's way: the mask's fully
    /// transparent pixels are regenerated; without a mask, `strength` of the tokens (a
    /// variation), else the image's own transparent pixels. Both are cropped to their centred
    /// square and resampled alike, so they stay aligned.
    public init(image: DecodedImage, mask: DecodedImage?, strength: Double?, side: Int) throws(InputError) {
        let region: Region
        if let mask {
            guard strength == nil else {
                throw InputError(
                    input: .strength, description: "a strength makes a variation of an image without a mask; with a mask the mask decides",
                    isMissing: false)
            }
            guard mask.width == image.width, mask.height == image.height else {
                throw InputError(
                    input: .mask,
                    description: "the mask must have the image's dimensions (\(image.width)x\(image.height)); got \(mask.width)x\(mask.height)",
                    isMissing: false)
            }
            guard mask.hasAlpha else {
                throw InputError(
                    input: .mask, description: "the mask needs an alpha channel: its fully transparent pixels mark what to regenerate",
                    isMissing: false)
            }
            region = .pixels(mask.transparentPixels(fittedToSquare: side))
        } else if let strength {
            region = .strength(strength)
        } else if image.hasAlpha, case let pixels = image.transparentPixels(fittedToSquare: side), pixels.contains(true) {
            region = .pixels(pixels)
        } else {
            throw InputError(
                input: .mask,
                description:
                    "say what to regenerate: a mask (PNG whose transparent pixels mark it), an image with transparent pixels, or a strength (0 to 1) for a variation",
                isMissing: true)
        }
        self.init(rgb: image.fittedToSquare(side: side).rgb.pixels, region: region)
    }
}
