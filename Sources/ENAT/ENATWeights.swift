import ModelFiles
import Tensors

/// A parameter tensor copied out of an archive into aligned float32 memory.
struct Parameter: @unchecked Sendable {
    // Immutable after loading.
    let storage: FloatBuffer
    var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }

    static func load(_ archive: any TensorArchive, _ name: String, shape: [Int]) throws(ModelFileError) -> Parameter {
        _ = try archive.require(name, shape: shape)
        let buffer = FloatBuffer(count: shape.reduce(1, *))
        try archive.readFloats(name, into: buffer.buffer)
        return Parameter(storage: buffer)
    }

    /// A tensor stored with extra leading unit dimensions (`mlm_layer.bias` is `[1, 1, V+1]`).
    static func load(_ archive: any TensorArchive, _ name: String, squeezedShape: [Int]) throws(ModelFileError) -> Parameter {
        guard let info = archive.info(name) else { throw .missingTensor(file: archive.sourceDescription, name: name) }
        guard info.shape.filter({ $0 != 1 }) == squeezedShape.filter({ $0 != 1 }), info.elementCount == squeezedShape.reduce(1, *) else {
            throw .shapeMismatch(file: archive.sourceDescription, name: name, expected: squeezedShape, found: info.shape)
        }
        let buffer = FloatBuffer(count: info.elementCount)
        try archive.readFloats(name, into: buffer.buffer)
        return Parameter(storage: buffer)
    }
}

/// A linear layer whose parameters it owns, in the precision it computes with.
struct LinearLayer: Sendable {
    let linear: Linear

    init(
        _ archive: any TensorArchive, _ prefix: String, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true,
        precision: ComputePrecision
    ) throws(ModelFileError) {
        let weight = try Parameter.load(archive, prefix + ".weight", shape: [outFeatures, inFeatures])
        let bias = hasBias ? try Parameter.load(archive, prefix + ".bias", shape: [outFeatures]) : nil
        linear = Linear(weight: weight.storage, bias: bias?.storage, inFeatures: inFeatures, outFeatures: outFeatures, precision: precision)
    }

    /// Several layers that read the same input, stacked along their outputs into one.
    init(stacking parts: [(name: String, out: Int)], from archive: any TensorArchive, in inFeatures: Int, precision: ComputePrecision)
        throws(ModelFileError)
    {
        let total = parts.reduce(0) { $0 + $1.out }
        let weights = FloatBuffer(count: total * inFeatures), biases = FloatBuffer(count: total)
        var row = 0
        for part in parts {
            _ = try archive.require(part.name + ".weight", shape: [part.out, inFeatures])
            _ = try archive.require(part.name + ".bias", shape: [part.out])
            try archive.readFloats(
                part.name + ".weight", into: UnsafeMutableBufferPointer(start: weights.pointer + row * inFeatures, count: part.out * inFeatures))
            try archive.readFloats(part.name + ".bias", into: UnsafeMutableBufferPointer(start: biases.pointer + row, count: part.out))
            row += part.out
        }
        linear = Linear(weight: weights, bias: biases, inFeatures: inFeatures, outFeatures: total, precision: precision)
    }
}

/// An affine layer norm's parameters.
struct NormLayer: Sendable {
    let weight: Parameter  // [D]
    let bias: Parameter  // [D]

    init(_ archive: any TensorArchive, _ prefix: String, dim: Int) throws(ModelFileError) {
        weight = try .load(archive, prefix + ".weight", shape: [dim])
        bias = try .load(archive, prefix + ".bias", shape: [dim])
    }
}

/// One ENAT block (`blocks.k.*`).
struct BlockWeights: Sendable {
    let adaLN: LinearLayer  // adaLN_modulation.1: [8D, D]
    let queryKeyValue: LinearLayer  // attn.q and attn.kv.B stacked: [3D, D], rows [q | k | v]
    let kvContext: LinearLayer  // attn.kv.A: [2D, D], for context tokens
    let proj: LinearLayer  // attn.proj: [D, D]
    let fc1: LinearLayer  // mlp.fc1: [4D, D]
    let fc2: LinearLayer  // mlp.fc2: [D, 4D]

    init(_ archive: any TensorArchive, index: Int, config: ENATConfiguration, precision: ComputePrecision) throws(ModelFileError) {
        let d = config.hiddenSize, p = "blocks.\(index).", q = precision
        adaLN = try LinearLayer(archive, p + "adaLN_modulation.1", in: d, out: 8 * d, precision: q)
        // One GEMM for the self tokens' queries, keys and values: skinny GEMMs gain from width.
        queryKeyValue = try LinearLayer(stacking: [(p + "attn.q", d), (p + "attn.kv.B", 2 * d)], from: archive, in: d, precision: q)
        kvContext = try LinearLayer(archive, p + "attn.kv.A", in: d, out: 2 * d, precision: q)
        proj = try LinearLayer(archive, p + "attn.proj", in: d, out: d, precision: q)
        fc1 = try LinearLayer(archive, p + "mlp.fc1", in: d, out: config.mlpHidden, precision: q)
        fc2 = try LinearLayer(archive, p + "mlp.fc2", in: config.mlpHidden, out: d, precision: q)
    }
}

/// Every parameter of the transformer, under the official state_dict key names.
/// Keys the computation does not use (`prev_embedder.*`) are ignored.
public struct ENATWeights: Sendable {
    public let config: ENATConfiguration
    /// The precision of every linear layer (and of the tied output head).
    public let precision: ComputePrecision
    let wordEmbeddings: Parameter  // x_embedder.word_embeddings: [V+1, D]; row V is the mask token
    let positionEmbeddings: Parameter  // x_embedder.position_embeddings: [L, D]
    let embedNorm: NormLayer  // x_embedder.LayerNorm, eps 1e-6
    let classEmbeddings: Parameter?  // y_embedder.embedding_table: [classes+1, D]; class models only
    let caption: CaptionWeights?  // text_proj, text_pool_proj: caption models only
    let blocks: [BlockWeights]
    let prevNorm: NormLayer  // prev_proj.norm, eps 1e-6
    let prevFC1: LinearLayer  // prev_proj.mlp.fc1: [4D, D]
    let prevFC2: LinearLayer  // prev_proj.mlp.fc2: [D, 4D]
    let finalNorm: NormLayer  // norm, eps 1e-5
    let mlmFC: LinearLayer  // mlm_layer.fc: [D, D]
    let mlmNorm: NormLayer  // mlm_layer.ln, eps 1e-5
    let mlmBias: Parameter  // mlm_layer.bias: [V+1]
    /// bf16 only: the tied output head (the first V rows of the word embeddings, packed, and
    /// the first V biases). fp32 reads `wordEmbeddings` in place.
    let packedHead: Linear?

    /// Loads from an archive with official key names (scope away any prefix first). An archive
    /// with `text_proj.weight` holds a caption model: its `y_embedder.*`, if any, is ignored.
    public init(config: ENATConfiguration, archive: any TensorArchive, precision: ComputePrecision = .fp32) throws(ModelFileError) {
        self.config = config
        self.precision = precision
        let d = config.hiddenSize, v = config.codebookSize
        wordEmbeddings = try .load(archive, "x_embedder.word_embeddings.weight", shape: [v + 1, d])
        positionEmbeddings = try .load(archive, "x_embedder.position_embeddings.weight", shape: [config.tokenCount, d])
        embedNorm = try NormLayer(archive, "x_embedder.LayerNorm", dim: d)
        if archive.info("text_proj.weight") != nil {
            caption = try CaptionWeights(archive, config: config, precision: precision)
            classEmbeddings = nil
        } else {
            caption = nil
            classEmbeddings = try .load(archive, "y_embedder.embedding_table.weight", shape: [config.numClasses + 1, d])
        }
        var blocks: [BlockWeights] = []
        for index in 0..<config.depth { blocks.append(try BlockWeights(archive, index: index, config: config, precision: precision)) }
        self.blocks = blocks
        prevNorm = try NormLayer(archive, "prev_proj.norm", dim: d)
        prevFC1 = try LinearLayer(archive, "prev_proj.mlp.fc1", in: d, out: config.mlpHidden, precision: precision)
        prevFC2 = try LinearLayer(archive, "prev_proj.mlp.fc2", in: config.mlpHidden, out: d, precision: precision)
        finalNorm = try NormLayer(archive, "norm", dim: d)
        mlmFC = try LinearLayer(archive, "mlm_layer.fc", in: d, out: d, precision: precision)
        mlmNorm = try NormLayer(archive, "mlm_layer.ln", dim: d)
        mlmBias = try .load(archive, "mlm_layer.bias", squeezedShape: [v + 1])
        if precision == .bf16 {
            // The embedding table stays float32 for the lookups (a table, not a GEMM operand).
            let bias = FloatBuffer(count: v)
            bias.pointer.update(from: mlmBias.pointer, count: v)
            packedHead = Linear(weight: wordEmbeddings.storage, bias: bias, inFeatures: d, outFeatures: v, precision: .bf16)
        } else {
            packedHead = nil
        }
    }

    /// Every key this loader reads, with its shape: for converters and for naming what is missing.
    public static func expectedKeys(_ config: ENATConfiguration) -> [(String, [Int])] {
        let d = config.hiddenSize, v = config.codebookSize, h = config.mlpHidden
        var keys: [(String, [Int])] = [
            ("x_embedder.word_embeddings.weight", [v + 1, d]),
            ("x_embedder.position_embeddings.weight", [config.tokenCount, d]),
            ("x_embedder.LayerNorm.weight", [d]), ("x_embedder.LayerNorm.bias", [d]),
            ("y_embedder.embedding_table.weight", [config.numClasses + 1, d]),
        ]
        for k in 0..<config.depth {
            let p = "blocks.\(k)."
            for (name, o, i) in [
                ("adaLN_modulation.1", 8 * d, d), ("attn.q", d, d), ("attn.kv.A", 2 * d, d), ("attn.kv.B", 2 * d, d),
                ("attn.proj", d, d), ("mlp.fc1", h, d), ("mlp.fc2", d, h),
            ] {
                keys.append((p + name + ".weight", [o, i]))
                keys.append((p + name + ".bias", [o]))
            }
        }
        keys += [
            ("prev_proj.norm.weight", [d]), ("prev_proj.norm.bias", [d]),
            ("prev_proj.mlp.fc1.weight", [h, d]), ("prev_proj.mlp.fc1.bias", [h]),
            ("prev_proj.mlp.fc2.weight", [d, h]), ("prev_proj.mlp.fc2.bias", [d]),
            ("norm.weight", [d]), ("norm.bias", [d]),
            ("mlm_layer.fc.weight", [d, d]), ("mlm_layer.fc.bias", [d]),
            ("mlm_layer.ln.weight", [d]), ("mlm_layer.ln.bias", [d]),
            ("mlm_layer.bias", [1, 1, v + 1]),
        ]
        return keys
    }
}
