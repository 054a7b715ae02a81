// Mirrors Hugging Face `CLIPTextConfig` (transformers `models/clip/configuration_clip.py`).

/// The shape of a CLIP text transformer. Coding keys are Hugging Face's, so a `config.json`,
/// a golden file's metadata or a bundle's `text_encoder` object decodes directly; missing keys
/// take `CLIPTextConfig`'s defaults.
public struct CLIPTextConfiguration: Codable, Sendable, Equatable {
    public var vocabSize: Int
    /// Width `Dt` of the token states.
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Context length: 77 for CLIP.
    public var maxPositionEmbeddings: Int
    public var layerNormEps: Double
    /// "quick_gelu" (OpenAI CLIP), "gelu" (erf), "gelu_new" or "gelu_pytorch_tanh" (tanh).
    public var hiddenAct: String
    /// Which id ends the text. 2 is Hugging Face's legacy value, for which the pooled position
    /// is that of the highest id (the end token 49407 is CLIP's highest).
    public var eosTokenId: Int

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case maxPositionEmbeddings = "max_position_embeddings", layerNormEps = "layer_norm_eps"
        case hiddenAct = "hidden_act", eosTokenId = "eos_token_id"
    }

    public init(
        vocabSize: Int = 49408, hiddenSize: Int = 512, intermediateSize: Int = 2048, numHiddenLayers: Int = 12,
        numAttentionHeads: Int = 8, maxPositionEmbeddings: Int = 77, layerNormEps: Double = 1e-5,
        hiddenAct: String = "quick_gelu", eosTokenId: Int = 49407
    ) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.layerNormEps = layerNormEps
        self.hiddenAct = hiddenAct
        self.eosTokenId = eosTokenId
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = CLIPTextConfiguration()
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? defaults.vocabSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? defaults.hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? defaults.intermediateSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? defaults.numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? defaults.numAttentionHeads
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? defaults.maxPositionEmbeddings
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? defaults.layerNormEps
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? defaults.hiddenAct
        eosTokenId = try c.decodeIfPresent(Int.self, forKey: .eosTokenId) ?? defaults.eosTokenId
        try validate()
    }

    /// The text tower of `openai/clip-vit-large-patch14` (its config says `eos_token_id` 2).
    public static let vitLargePatch14 = CLIPTextConfiguration(
        hiddenSize: 768, intermediateSize: 3072, numHiddenLayers: 12, numAttentionHeads: 12, eosTokenId: 2)

    public var headDim: Int { hiddenSize / numAttentionHeads }

    /// The MLP activation this configuration names.
    public var activation: CLIPActivation {
        get throws(CLIPTextError) {
            guard let value = CLIPActivation(rawValue: hiddenAct) else {
                throw .invalidConfiguration("hidden_act \"\(hiddenAct)\" is not one of \(CLIPActivation.allCases.map(\.rawValue))")
            }
            return value
        }
    }

    public func validate() throws(CLIPTextError) {
        func check(_ ok: Bool, _ what: String) throws(CLIPTextError) { if !ok { throw .invalidConfiguration(what) } }
        try check(vocabSize > 0 && vocabSize < 1 << 24, "vocab_size out of range")
        try check(hiddenSize > 0 && hiddenSize <= 16384, "hidden_size must be 1...16384")
        try check(numAttentionHeads > 0 && hiddenSize % numAttentionHeads == 0, "num_attention_heads must divide hidden_size")
        try check(intermediateSize > 0 && intermediateSize <= 65536, "intermediate_size must be 1...65536")
        try check(numHiddenLayers > 0 && numHiddenLayers <= 128, "num_hidden_layers must be 1...128")
        try check(maxPositionEmbeddings > 0 && maxPositionEmbeddings <= 4096, "max_position_embeddings must be 1...4096")
        try check(layerNormEps > 0 && layerNormEps < 1, "layer_norm_eps must be in (0, 1)")
        try check(eosTokenId >= 0 && eosTokenId < vocabSize, "eos_token_id outside the vocabulary")
        _ = try activation
    }
}

/// The MLP activations Hugging Face's CLIP configurations use.
public enum CLIPActivation: String, Sendable, CaseIterable {
    case quickGelu = "quick_gelu"
    case gelu
    case geluNew = "gelu_new"
    case geluPyTorchTanh = "gelu_pytorch_tanh"
}
