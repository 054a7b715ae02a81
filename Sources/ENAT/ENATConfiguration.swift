// Mirrors the model arguments of the official ENAT release (LeapLabTHU/ENAT, `libs/nat.py`).

/// The architecture of an ENAT transformer. Coding keys match the official configuration
/// names, so the golden files' metadata and a bundle's `config.json` decode directly.
public struct ENATConfiguration: Codable, Sendable, Equatable {
    /// Side of the latent token grid: 16 at 256 px, 32 at 512 px.
    public var latentSize: Int
    public var hiddenSize: Int
    public var numHeads: Int
    public var encoderDepth: Int
    public var decoderDepth: Int
    /// Codebook entries V; the mask token id is V.
    public var codebookSize: Int
    /// Class count; label `numClasses` is the unconditional one.
    public var numClasses: Int
    public var mlpRatio: Double

    enum CodingKeys: String, CodingKey {
        case latentSize = "latent_size", hiddenSize = "hidden_size", numHeads = "num_heads"
        case encoderDepth = "enc_depth", decoderDepth = "dec_depth"
        case codebookSize = "codebook_size", numClasses = "num_classes", mlpRatio = "mlp_ratio"
    }

    public init(
        latentSize: Int, hiddenSize: Int, numHeads: Int, encoderDepth: Int, decoderDepth: Int,
        codebookSize: Int = 1024, numClasses: Int = 1000, mlpRatio: Double = 4
    ) {
        self.latentSize = latentSize
        self.hiddenSize = hiddenSize
        self.numHeads = numHeads
        self.encoderDepth = encoderDepth
        self.decoderDepth = decoderDepth
        self.codebookSize = codebookSize
        self.numClasses = numClasses
        self.mlpRatio = mlpRatio
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latentSize = try c.decode(Int.self, forKey: .latentSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        encoderDepth = try c.decode(Int.self, forKey: .encoderDepth)
        decoderDepth = try c.decode(Int.self, forKey: .decoderDepth)
        codebookSize = try c.decodeIfPresent(Int.self, forKey: .codebookSize) ?? 1024
        numClasses = try c.decodeIfPresent(Int.self, forKey: .numClasses) ?? 1000
        mlpRatio = try c.decodeIfPresent(Double.self, forKey: .mlpRatio) ?? 4
        try validate()
    }

    /// ENAT-L at 256 px, the released ImageNet-256 model.
    public static let large256 = ENATConfiguration(latentSize: 16, hiddenSize: 1024, numHeads: 16, encoderDepth: 22, decoderDepth: 2)
    /// ENAT-L at 512 px.
    public static let large512 = ENATConfiguration(latentSize: 32, hiddenSize: 1024, numHeads: 16, encoderDepth: 22, decoderDepth: 2)

    public var tokenCount: Int { latentSize * latentSize }
    public var maskToken: Int32 { Int32(codebookSize) }
    public var unconditionalLabel: Int { numClasses }
    public var headDim: Int { hiddenSize / numHeads }
    public var mlpHidden: Int { Int(Double(hiddenSize) * mlpRatio) }
    public var depth: Int { encoderDepth + decoderDepth }

    public func validate() throws(ENATError) {
        func check(_ ok: Bool, _ what: String) throws(ENATError) { if !ok { throw .invalidConfiguration(what) } }
        try check((1...256).contains(latentSize), "latent_size must be 1...256")
        try check(hiddenSize > 0 && hiddenSize <= 16384, "hidden_size must be 1...16384")
        try check(numHeads > 0 && hiddenSize % numHeads == 0, "num_heads must divide hidden_size")
        // Each depth is bounded before the sum, which could otherwise overflow.
        try check(
            (0...256).contains(encoderDepth) && (1...256).contains(decoderDepth) && encoderDepth + decoderDepth <= 256,
            "enc_depth \(encoderDepth) and dec_depth \(decoderDepth) must be 0... and 1... with a sum of at most 256")
        try check(codebookSize > 0 && codebookSize < 1 << 24, "codebook_size out of range")
        try check(numClasses >= 0 && numClasses < 1 << 24, "num_classes out of range")
        try check(mlpRatio > 0 && mlpRatio <= 16 && mlpHidden > 0, "mlp_ratio out of range")
    }
}

public enum ENATError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case invalidInput(String)
    /// A request's settings, class label or caption outside `SamplerLimits`.
    case invalidSetting(SamplerSettingError)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): "invalid ENAT configuration: \(why)"
        case .invalidInput(let why): "invalid ENAT input: \(why)"
        case .invalidSetting(let error): "invalid sampler setting: \(error)"
        }
    }
}
