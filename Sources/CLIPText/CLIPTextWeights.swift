import ModelFiles
import Tensors

// Mirrors the parameters of Hugging Face `CLIPTextModel` (`text_model.*` keys).

/// A parameter tensor copied into aligned float32 memory.
struct CLIPParameter: @unchecked Sendable {
    // Immutable after loading.
    let storage: FloatBuffer
    var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }

    init(_ archive: any TensorArchive, _ name: String, shape: [Int]) throws(ModelFileError) {
        _ = try archive.require(name, shape: shape)
        storage = FloatBuffer(count: shape.reduce(1, *))
        try archive.readFloats(name, into: storage.buffer)
    }

    init(storage: FloatBuffer) { self.storage = storage }
}

/// A linear layer with bias, `y = x W^T + b`, in the precision it computes with.
struct CLIPLinear: Sendable {
    let linear: Linear

    init(_ archive: any TensorArchive, _ prefix: String, in inFeatures: Int, out outFeatures: Int, precision: ComputePrecision) throws(ModelFileError)
    {
        let weight = try CLIPParameter(archive, prefix + ".weight", shape: [outFeatures, inFeatures])
        let bias = try CLIPParameter(archive, prefix + ".bias", shape: [outFeatures])
        linear = Linear(weight: weight.storage, bias: bias.storage, inFeatures: inFeatures, outFeatures: outFeatures, precision: precision)
    }

    /// q, k and v projections stacked into one `[3D, D]` layer: one GEMM instead of three.
    init(stacking prefixes: [String], from archive: any TensorArchive, width d: Int, precision: ComputePrecision) throws(ModelFileError) {
        let weights = FloatBuffer(count: prefixes.count * d * d), biases = FloatBuffer(count: prefixes.count * d)
        for (k, prefix) in prefixes.enumerated() {
            _ = try archive.require(prefix + ".weight", shape: [d, d])
            _ = try archive.require(prefix + ".bias", shape: [d])
            try archive.readFloats(prefix + ".weight", into: UnsafeMutableBufferPointer(start: weights.pointer + k * d * d, count: d * d))
            try archive.readFloats(prefix + ".bias", into: UnsafeMutableBufferPointer(start: biases.pointer + k * d, count: d))
        }
        linear = Linear(weight: weights, bias: biases, inFeatures: d, outFeatures: prefixes.count * d, precision: precision)
    }
}

/// A layer norm's affine parameters.
struct CLIPNorm: Sendable {
    let weight: CLIPParameter  // [D]
    let bias: CLIPParameter  // [D]

    init(_ archive: any TensorArchive, _ prefix: String, dim: Int) throws(ModelFileError) {
        weight = try CLIPParameter(archive, prefix + ".weight", shape: [dim])
        bias = try CLIPParameter(archive, prefix + ".bias", shape: [dim])
    }
}

/// One encoder layer (`encoder.layers.N.*`).
struct CLIPLayerWeights: Sendable {
    let norm1: CLIPNorm  // layer_norm1
    let queryKeyValue: CLIPLinear  // self_attn.{q,k,v}_proj stacked: [3D, D], rows [q | k | v]
    let outProj: CLIPLinear  // self_attn.out_proj: [D, D]
    let norm2: CLIPNorm  // layer_norm2
    let fc1: CLIPLinear  // mlp.fc1: [I, D]
    let fc2: CLIPLinear  // mlp.fc2: [D, I]

    init(_ archive: any TensorArchive, prefix: String, index: Int, config: CLIPTextConfiguration, precision q: ComputePrecision)
        throws(ModelFileError)
    {
        let d = config.hiddenSize, p = prefix + "encoder.layers.\(index)."
        norm1 = try CLIPNorm(archive, p + "layer_norm1", dim: d)
        queryKeyValue = try CLIPLinear(stacking: ["q", "k", "v"].map { p + "self_attn.\($0)_proj" }, from: archive, width: d, precision: q)
        outProj = try CLIPLinear(archive, p + "self_attn.out_proj", in: d, out: d, precision: q)
        norm2 = try CLIPNorm(archive, p + "layer_norm2", dim: d)
        fc1 = try CLIPLinear(archive, p + "mlp.fc1", in: d, out: config.intermediateSize, precision: q)
        fc2 = try CLIPLinear(archive, p + "mlp.fc2", in: config.intermediateSize, out: d, precision: q)
    }
}

/// Every parameter of a CLIP text transformer under Hugging Face `CLIPTextModel` names, with
/// or without the `text_model.` prefix. Other keys (`position_ids`, a projection) are ignored.
public struct CLIPTextWeights: Sendable {
    public let configuration: CLIPTextConfiguration
    let tokenEmbedding: CLIPParameter  // embeddings.token_embedding.weight: [vocab, D]
    let positionEmbedding: CLIPParameter  // embeddings.position_embedding.weight: [positions, D]
    let layers: [CLIPLayerWeights]
    let finalNorm: CLIPNorm  // final_layer_norm

    /// The precision of every linear layer.
    public let precision: ComputePrecision

    public init(configuration: CLIPTextConfiguration, archive: any TensorArchive, precision: ComputePrecision = .fp32) throws(ModelFileError) {
        self.configuration = configuration
        self.precision = precision
        // Errors name the keys as the file spells them, so the prefix is kept, not scoped away.
        let p = archive.info("text_model.embeddings.token_embedding.weight") != nil ? "text_model." : ""
        let c = configuration, d = c.hiddenSize
        tokenEmbedding = try CLIPParameter(archive, p + "embeddings.token_embedding.weight", shape: [c.vocabSize, d])
        positionEmbedding = try CLIPParameter(archive, p + "embeddings.position_embedding.weight", shape: [c.maxPositionEmbeddings, d])
        var layers: [CLIPLayerWeights] = []
        for index in 0..<c.numHiddenLayers { layers.append(try CLIPLayerWeights(archive, prefix: p, index: index, config: c, precision: precision)) }
        self.layers = layers
        finalNorm = try CLIPNorm(archive, p + "final_layer_norm", dim: d)
    }

    /// Every key this loader reads (with the `text_model.` prefix), with its shape.
    public static func expectedKeys(_ c: CLIPTextConfiguration) -> [(String, [Int])] {
        let d = c.hiddenSize, m = c.intermediateSize, t = "text_model."
        var keys: [(String, [Int])] = [
            (t + "embeddings.token_embedding.weight", [c.vocabSize, d]),
            (t + "embeddings.position_embedding.weight", [c.maxPositionEmbeddings, d]),
        ]
        for layer in 0..<c.numHiddenLayers {
            let p = t + "encoder.layers.\(layer)."
            for (name, shape) in [
                ("self_attn.q_proj", [d, d]), ("self_attn.k_proj", [d, d]), ("self_attn.v_proj", [d, d]),
                ("self_attn.out_proj", [d, d]), ("mlp.fc1", [m, d]), ("mlp.fc2", [d, m]),
            ] {
                keys.append((p + name + ".weight", shape))
                keys.append((p + name + ".bias", [shape[0]]))
            }
            for norm in ["layer_norm1", "layer_norm2"] {
                keys.append((p + norm + ".weight", [d]))
                keys.append((p + norm + ".bias", [d]))
            }
        }
        keys.append((t + "final_layer_norm.weight", [d]))
        keys.append((t + "final_layer_norm.bias", [d]))
        return keys
    }
}
