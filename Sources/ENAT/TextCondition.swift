import Tensors

// Caption conditioning (our design, see ENATWeights+Caption.swift): everything of a caption's
// condition that does not change between sampler steps, computed once per request.

/// One stream's caption condition for a caption model: the projected context tokens
/// `T = text_proj(last_hidden_state)` `[Lt, D]`, the condition vector
/// `c = text_pool_proj(pooled)` `[D]`, and what every step derives from them alone: the adaLN
/// modulations of each block and the keys/values of `T` in each block's context branch,
/// `kv.A(modulate(LN(T, 1e-6), s1_, sc1_))`. The transformer puts `T` FIRST in every block's
/// context: alone in encoder blocks without reuse, before the previous features with reuse,
/// before the visible tokens in decoder blocks (LN is per row, so `T`'s part never changes).
///
/// Immutable after creation, except the first-step cache an unconditional condition keeps;
/// used by the one inference thread that owns the transformer.
public final class TextCondition: @unchecked Sendable {
    /// Text positions `Lt` (77 for CLIP).
    public let tokenCount: Int
    public let hiddenSize: Int
    let depth: Int
    /// The transformer that made it: its weights are the only ones these values fit.
    let owner: ObjectIdentifier
    /// `[Lt, D]` context tokens `T`.
    let tokens: FloatBuffer
    /// `[D]` condition vector `c`.
    let vector: FloatBuffer
    /// `[depth, 8D]`: `adaLN_modulation.1(SiLU(c))` per block.
    let modulations: FloatBuffer
    /// `[depth, Lt, 2D]`: rows `[k | v]` of the text tokens in each block.
    let contextKeyValues: FloatBuffer
    /// As the unconditional stream's condition: the features after the all-masked first step,
    /// the same for every request, so computed once.
    public internal(set) var firstStep: StreamState?

    init(owner: ObjectIdentifier, tokenCount: Int, hiddenSize: Int, depth: Int) {
        self.owner = owner
        self.tokenCount = tokenCount
        self.hiddenSize = hiddenSize
        self.depth = depth
        tokens = FloatBuffer(count: tokenCount * hiddenSize)
        vector = FloatBuffer(count: hiddenSize)
        modulations = FloatBuffer(count: depth * 8 * hiddenSize)
        contextKeyValues = FloatBuffer(count: depth * tokenCount * 2 * hiddenSize)
    }

    /// The projected context tokens `T`, `[Lt, D]` row-major.
    public var tokenValues: [Float] { tokens.array }
    /// The condition vector `c`, `[D]`.
    public var vectorValues: [Float] { vector.array }

    func keyValues(block k: Int) -> UnsafePointer<Float> {
        UnsafePointer(contextKeyValues.pointer + k * tokenCount * 2 * hiddenSize)
    }
}

extension ENATTransformer {
    /// The conditions of `count` captions from the text encoder's outputs: `lastHiddenState`
    /// `[count, Lt, Dt]` (after the final layer norm) and `pooled` `[count, Dt]`. Every layer
    /// runs as one GEMM over all captions. Throws for class models and for mismatched sizes.
    /// Reads only the immutable weights (not the scratch memory or counters of `forward`), so
    /// any thread may call it, also while the inference thread runs a forward.
    public func makeTextConditions(lastHiddenState: [Float], pooled: [Float], count: Int) throws(ENATError) -> [TextCondition] {
        guard let caption = weights.caption else { throw .invalidInput("a class model takes class labels, not text") }
        let dt = caption.textWidth, d = config.hiddenSize, depth = config.depth
        guard count > 0, pooled.count == count * dt, lastHiddenState.count % (count * dt) == 0, !lastHiddenState.isEmpty else {
            throw .invalidInput("text states of \(lastHiddenState.count) and \(pooled.count) values do not fit \(count) captions of width \(dt)")
        }
        let lt = lastHiddenState.count / (count * dt), rows = count * lt
        let conditions = (0..<count).map { _ in
            TextCondition(owner: ObjectIdentifier(self), tokenCount: lt, hiddenSize: d, depth: depth)
        }

        // T and c for all captions at once.
        let tokens = FloatBuffer(count: rows * d), vectors = FloatBuffer(count: count * d)
        lastHiddenState.withUnsafeBufferPointer { caption.textProjection.linear.apply($0.baseAddress!, rows: rows, into: tokens.pointer) }
        pooled.withUnsafeBufferPointer { caption.poolProjection.linear.apply($0.baseAddress!, rows: count, into: vectors.pointer) }
        for (b, condition) in conditions.enumerated() {
            condition.tokens.pointer.update(from: tokens.pointer + b * lt * d, count: lt * d)
            condition.vector.pointer.update(from: vectors.pointer + b * d, count: d)
        }

        // Modulations, as `modulations(for:)` computes them for a label.
        Activation.silu(vectors.pointer, count: count * d)
        let modulation = FloatBuffer(count: count * 8 * d)
        let normalized = FloatBuffer(count: rows * d), modulated = FloatBuffer(count: rows * d)
        let keyValues = FloatBuffer(count: rows * 2 * d)
        layerNorm(tokens.pointer, rows: rows, dim: d, eps: 1e-6, into: normalized.pointer)
        for (k, block) in weights.blocks.enumerated() {
            block.adaLN.linear.apply(vectors.pointer, rows: count, into: modulation.pointer)
            modulated.pointer.update(from: normalized.pointer, count: rows * d)
            for (b, condition) in conditions.enumerated() {
                let m = modulation.pointer + b * 8 * d
                (condition.modulations.pointer + k * 8 * d).update(from: m, count: 8 * d)
                // The context chunks (shift_, scale_) of this block, as `runBlock` applies them.
                modulate(modulated.pointer + b * lt * d, rows: lt, dim: d, shift: m + 2 * d, scale: m + 3 * d)
            }
            block.kvContext.linear.apply(modulated.pointer, rows: rows, into: keyValues.pointer)
            for (b, condition) in conditions.enumerated() {
                (condition.contextKeyValues.pointer + k * lt * 2 * d).update(from: keyValues.pointer + b * lt * 2 * d, count: lt * 2 * d)
            }
        }
        return conditions
    }
}
