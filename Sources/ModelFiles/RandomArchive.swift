/// An archive of random tensors for a given list of names and shapes: real-shaped models for
/// benchmarks without multi-gigabyte files. Values are uniform in `[-scale, scale]`, except
/// tensors whose name ends in `norm.weight`/`LayerNorm.weight`/`ln.weight`, which are 1.
public struct RandomArchive: TensorArchive {
    public let sourceDescription: String
    public let names: [String]
    private let shapes: [String: [Int]]
    private let seed: UInt64
    private let scale: Float

    public init(shapes: [(String, [Int])], seed: UInt64 = 1, scale: Float = 0.02) {
        sourceDescription = "random weights (seed \(seed))"
        self.shapes = Dictionary(shapes, uniquingKeysWith: { first, _ in first })
        names = self.shapes.keys.sorted()
        self.seed = seed
        self.scale = scale
    }

    public func info(_ name: String) -> TensorInfo? { shapes[name].map { TensorInfo(dtype: .f32, shape: $0) } }

    public func readFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(ModelFileError) {
        guard let shape = shapes[name] else { throw .missingTensor(file: sourceDescription, name: name) }
        guard shape.reduce(1, *) == destination.count else {
            throw .malformed(file: sourceDescription, reason: "tensor '\(name)' read with the wrong count")
        }
        if name.hasSuffix("norm.weight") || name.hasSuffix("Norm.weight") || name.hasSuffix("ln.weight")
            || name.hasSuffix("norm1.weight") || name.hasSuffix("norm2.weight") || name.hasSuffix("norm_out.weight")
        {
            destination.update(repeating: 1)
            return
        }
        // A per-tensor xorshift stream: fast enough for half a billion values.
        var state = seed ^ UInt64(truncatingIfNeeded: name.hashValueStable) | 1
        for i in destination.indices {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            destination[i] = (Float(state >> 40) * 0x1p-24 * 2 - 1) * scale
        }
    }

    public func readInts(_ name: String) throws(ModelFileError) -> [Int] {
        throw .wrongType(file: sourceDescription, name: name, dtype: "F32")
    }
}

extension String {
    /// FNV-1a: unlike `hashValue`, the same in every process.
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
