/// A caption model's text encoder, under the Hugging Face `CLIPTextConfig` names, as a
/// bundle's `config.json` holds it in `text_encoder`.
public struct TextEncoderConfiguration: Codable, Sendable, Equatable {
    public var vocabSize: Int
    /// Width `Dt` of the token states.
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Context length: 77 for CLIP.
    public var maxPositionEmbeddings: Int
    public var layerNormEps: Double
    /// "quick_gelu" for OpenAI CLIP.
    public var hiddenAct: String
    /// The end-of-text id whose first position gives the pooled state (49407 for CLIP).
    public var eosTokenId: Int

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case maxPositionEmbeddings = "max_position_embeddings", layerNormEps = "layer_norm_eps"
        case hiddenAct = "hidden_act", eosTokenId = "eos_token_id"
    }

    public init(
        vocabSize: Int = 49408, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
        maxPositionEmbeddings: Int = 77, layerNormEps: Double = 1e-5, hiddenAct: String = "quick_gelu",
        eosTokenId: Int = 49407
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

    /// Missing keys take the Hugging Face `CLIPTextConfig` defaults, except `eos_token_id`,
    /// which defaults to CLIP's real end-of-text id 49407 (the design pools at its first position).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? 49408
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 512
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? 2048
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? 12
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? 8
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 77
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? 1e-5
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "quick_gelu"
        eosTokenId = try c.decodeIfPresent(Int.self, forKey: .eosTokenId) ?? 49407
    }

    /// The first reason these values cannot describe a CLIP text transformer, or nil.
    public var problem: String? {
        if vocabSize <= 0 { return "text_encoder.vocab_size must be positive" }
        if hiddenSize <= 0 || numAttentionHeads <= 0 || hiddenSize % numAttentionHeads != 0 {
            return "text_encoder.num_attention_heads must divide a positive hidden_size"
        }
        if intermediateSize <= 0 || numHiddenLayers <= 0 { return "text_encoder layers and widths must be positive" }
        if maxPositionEmbeddings <= 0 { return "text_encoder.max_position_embeddings must be positive" }
        if !(layerNormEps > 0) { return "text_encoder.layer_norm_eps must be positive" }
        if !(0..<vocabSize).contains(eosTokenId) { return "text_encoder.eos_token_id is outside the vocabulary" }
        return nil
    }
}
