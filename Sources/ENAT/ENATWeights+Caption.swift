import ModelFiles
import Tensors

// Caption-conditioned ENAT: our design (the official release is class-conditional only).
// PyTorch side, which trains it: tools/train/enat.py; parity: Tests/ENATTests/CaptionParityTests.
//
// Same network as the class model except the condition:
// - The CLIP text tower (module CLIPText) turns the caption's 77 ids into `last_hidden_state`
//   [77, Dt] (after its final layer norm) and `pooled` [Dt] (the state at the first end token).
// - Context tokens `T = text_proj(last_hidden_state)` [77, D]: all 77 positions, padding included.
// - Condition vector `c = text_pool_proj(pooled)` [D] replaces `y_embedder.embedding_table[label]`
//   in every block's adaLN (`adaLN_modulation.1(SiLU(c))`).
// - In EVERY block the text tokens are extra context tokens, FIRST: `ctx' = concat(T, ctx)`, where
//   `ctx` is the block's own context (the projected previous features in reuse encoder blocks,
//   the visible tokens in decoder blocks, nothing in encoder blocks without reuse, which so get
//   `T` alone). The context branch is the official one: `kv.A(modulate(LN(ctx', 1e-6), s1_, sc1_))`
//   before `kv.B(h)` of the self tokens. Keys and values of `T` depend on the caption and the
//   block only, so TextCondition computes them once per request.
// - Guidance: the unconditional stream is the empty caption "" (ids 49406, 49407 x 76) through
//   the same text tower and projections; everything else (sampler, reuse, logits) is unchanged.
// Weights: the official keys without `y_embedder.*` (num_classes 0), plus `text_proj.{weight,bias}`
// [D, Dt] / [D] and `text_pool_proj.{weight,bias}` [D, Dt] / [D].

/// The two projections a caption model adds to the official parameters.
struct CaptionWeights: Sendable {
    let textWidth: Int  // Dt, the text encoder's width
    let textProjection: LinearLayer  // text_proj: [D, Dt], token states to context tokens
    let poolProjection: LinearLayer  // text_pool_proj: [D, Dt], pooled state to the condition vector

    init(_ archive: any TensorArchive, config: ENATConfiguration, precision: ComputePrecision) throws(ModelFileError) {
        guard let info = archive.info("text_proj.weight"), info.shape.count == 2, info.shape[1] > 0 else {
            throw .missingTensor(file: archive.sourceDescription, name: "text_proj.weight")
        }
        textWidth = info.shape[1]
        textProjection = try LinearLayer(archive, "text_proj", in: textWidth, out: config.hiddenSize, precision: precision)
        poolProjection = try LinearLayer(archive, "text_pool_proj", in: textWidth, out: config.hiddenSize, precision: precision)
    }
}

extension ENATWeights {
    /// Whether these are the weights of a caption model (`text_proj.*` present, no class table).
    public var isCaptionModel: Bool { caption != nil }
    /// Width `Dt` of the text states a caption model projects; nil for class models.
    public var textWidth: Int? { caption?.textWidth }

    /// Every key a caption model's loader reads: the class model's without `y_embedder.*`,
    /// plus `text_proj.*` and `text_pool_proj.*` (`textWidth` = the text encoder's width).
    public static func expectedCaptionKeys(_ config: ENATConfiguration, textWidth: Int) -> [(String, [Int])] {
        let d = config.hiddenSize
        return expectedKeys(config).filter { !$0.0.hasPrefix("y_embedder.") } + [
            ("text_proj.weight", [d, textWidth]), ("text_proj.bias", [d]),
            ("text_pool_proj.weight", [d, textWidth]), ("text_pool_proj.bias", [d]),
        ]
    }
}
