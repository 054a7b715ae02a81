import ModelFiles
import Tensors

// Mirrors Hugging Face `CLIPTextTransformer.forward` (transformers `models/clip/modeling_clip.py`):
// token + position embeddings; per layer `x += out_proj(causal_attention(layer_norm1(x)))`,
// `x += fc2(act(fc1(layer_norm2(x))))`; `final_layer_norm`; pooled = the state at the end token.

/// The CLIP text transformer. Immutable after loading: `encode` allocates its own scratch, so
/// one encoder may serve several threads.
public final class CLIPTextEncoder: Sendable {
    public let weights: CLIPTextWeights
    public var configuration: CLIPTextConfiguration { weights.configuration }
    let activation: CLIPActivation

    public init(weights: CLIPTextWeights) throws(CLIPTextError) {
        try weights.configuration.validate()
        self.weights = weights
        activation = try weights.configuration.activation
    }

    /// Loads Hugging Face `CLIPTextModel` keys (with or without the `text_model.` prefix).
    public convenience init(configuration: CLIPTextConfiguration, archive: any TensorArchive, precision: ComputePrecision = .fp32) throws {
        try configuration.validate()
        try self.init(weights: CLIPTextWeights(configuration: configuration, archive: archive, precision: precision))
    }

    /// The text model's outputs for `batch` sequences of equal length, `ids` row-major
    /// `[batch, n]` with `n <= max_position_embeddings`.
    ///
    /// Returns `lastHiddenState` `[batch, n, D]` (after the final layer norm) and `pooled`
    /// `[batch, D]`: the state at the first end token (`eos_token_id`; with the legacy value 2,
    /// at the highest id, as Hugging Face does; position 0 when there is none).
    public func encode(ids: [Int32], batch: Int) throws(CLIPTextError) -> (lastHiddenState: [Float], pooled: [Float]) {
        let c = configuration, d = c.hiddenSize
        guard batch > 0, ids.count % batch == 0, !ids.isEmpty else {
            throw .invalidInput("\(ids.count) ids do not split into \(batch) sequences")
        }
        let n = ids.count / batch
        guard n <= c.maxPositionEmbeddings else {
            throw .invalidInput("sequences of \(n) ids exceed max_position_embeddings \(c.maxPositionEmbeddings)")
        }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
            throw .invalidInput("token id \(bad) is outside the vocabulary of \(c.vocabSize)")
        }
        let rows = batch * n, w = weights, eps = Float(c.layerNormEps)
        let x = FloatBuffer(count: rows * d)
        for (row, id) in ids.enumerated() {
            let target = x.pointer + row * d
            let token = w.tokenEmbedding.pointer + Int(id) * d
            let place = w.positionEmbedding.pointer + (row % n) * d
            for i in 0..<d { target[i] = token[i] + place[i] }
        }
        let h = FloatBuffer(count: rows * d)
        let qkv = FloatBuffer(count: rows * 3 * d)
        let attended = FloatBuffer(count: rows * d)
        let hidden = FloatBuffer(count: rows * c.intermediateSize)
        let scores = FloatBuffer(count: n * n)
        let workspace = GEMMWorkspace()
        for layer in w.layers {
            layerNorm(x.pointer, rows: rows, dim: d, eps: eps, weight: layer.norm1.weight.pointer, bias: layer.norm1.bias.pointer, into: h.pointer)
            layer.queryKeyValue.linear.apply(h.pointer, rows: rows, into: qkv.pointer, workspace: workspace)
            for b in 0..<batch {
                let base = qkv.pointer + b * n * 3 * d
                causalSelfAttention(
                    queries: base, keys: base + d, values: base + 2 * d, rows: n, stride: 3 * d,
                    heads: c.numAttentionHeads, headDim: c.headDim, scores: scores.pointer,
                    into: attended.pointer + b * n * d, outputStride: d)
            }
            layer.outProj.linear.apply(attended.pointer, rows: rows, into: h.pointer, workspace: workspace)
            add(h.pointer, into: x.pointer, count: rows * d)
            layerNorm(x.pointer, rows: rows, dim: d, eps: eps, weight: layer.norm2.weight.pointer, bias: layer.norm2.bias.pointer, into: h.pointer)
            layer.fc1.linear.apply(h.pointer, rows: rows, into: hidden.pointer, workspace: workspace)
            activate(hidden.pointer, count: rows * c.intermediateSize)
            layer.fc2.linear.apply(hidden.pointer, rows: rows, into: h.pointer, workspace: workspace)
            add(h.pointer, into: x.pointer, count: rows * d)
        }
        layerNorm(x.pointer, rows: rows, dim: d, eps: eps, weight: w.finalNorm.weight.pointer, bias: w.finalNorm.bias.pointer, into: x.pointer)

        var pooled = [Float](repeating: 0, count: batch * d)
        for b in 0..<batch {
            let position = Self.pooledPosition(ids[(b * n)..<((b + 1) * n)], endOfText: c.eosTokenId)
            for i in 0..<d { pooled[b * d + i] = x.pointer[(b * n + position) * d + i] }
        }
        return (x.array, pooled)
    }

    /// Hugging Face's rule: the first position of `eos_token_id`, or with the legacy id 2 the
    /// first position of the highest id; 0 when neither applies.
    static func pooledPosition(_ ids: ArraySlice<Int32>, endOfText: Int) -> Int {
        let start = ids.startIndex
        if endOfText == 2 {
            guard let highest = ids.max() else { return 0 }
            return ids.firstIndex(of: highest)! - start
        }
        return (ids.firstIndex(of: Int32(endOfText)) ?? start) - start
    }

    private func activate(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .quickGelu: Activation.quickGelu(x, count: count)
        case .gelu: Activation.geluErf(x, count: count)
        case .geluNew, .geluPyTorchTanh: Activation.geluTanh(x, count: count)
        }
    }

    private func add(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }
}
