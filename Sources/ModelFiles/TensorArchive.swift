/// Element types that weight files carry.
public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", i32 = "I32", i64 = "I64"

    public var byteSize: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .i64: 8
        }
    }

    public var isFloatingPoint: Bool { self == .f32 || self == .f16 || self == .bf16 }
}

/// What an archive knows of one tensor before reading it.
public struct TensorInfo: Sendable, Equatable {
    public let dtype: DType
    public let shape: [Int]
    public var elementCount: Int { shape.reduce(1, *) }

    public init(dtype: DType, shape: [Int]) {
        self.dtype = dtype
        self.shape = shape
    }
}

/// A named collection of tensors read from an untrusted file: a safetensors file, a PyTorch
/// checkpoint, or a view of one with a key prefix removed. Reads convert to the asked type.
public protocol TensorArchive: Sendable {
    /// The file this came from, for error messages.
    var sourceDescription: String { get }
    /// Every tensor name, sorted.
    var names: [String] { get }
    func info(_ name: String) -> TensorInfo?
    /// Writes the tensor as float32 into `destination`, whose count must equal the element count.
    func readFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(ModelFileError)
    /// Reads an integer (or integral float) tensor.
    func readInts(_ name: String) throws(ModelFileError) -> [Int]
}

extension TensorArchive {
    public func readFloats(_ name: String) throws(ModelFileError) -> [Float] {
        guard let info = info(name) else { throw .missingTensor(file: sourceDescription, name: name) }
        var values = [Float](repeating: 0, count: info.elementCount)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(ModelFileError) in
            try readFloats(name, into: buffer)
        }
        return values
    }

    /// The tensor's info, checked against an expected shape.
    public func require(_ name: String, shape: [Int]) throws(ModelFileError) -> TensorInfo {
        guard let info = info(name) else { throw .missingTensor(file: sourceDescription, name: name) }
        guard info.shape == shape else {
            throw .shapeMismatch(file: sourceDescription, name: name, expected: shape, found: info.shape)
        }
        return info
    }

    /// The sub-archive of names that start with `prefix`, with the prefix removed.
    public func scoped(_ prefix: String) -> ScopedArchive { ScopedArchive(base: self, prefix: prefix) }
}

/// A view of an archive under a key prefix (`weights.`, `decoder.`, `module.`).
public struct ScopedArchive: TensorArchive {
    public let base: any TensorArchive
    public let prefix: String
    public let names: [String]

    public init(base: any TensorArchive, prefix: String) {
        self.base = base
        self.prefix = prefix
        names = base.names.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    public var sourceDescription: String { base.sourceDescription }
    public func info(_ name: String) -> TensorInfo? { base.info(prefix + name) }
    public func readFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(ModelFileError) {
        try base.readFloats(prefix + name, into: destination)
    }
    public func readInts(_ name: String) throws(ModelFileError) -> [Int] { try base.readInts(prefix + name) }
}

/// Every way a weight file can be wrong, each naming the file and the problem.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(file: String, reason: String)
    case malformed(file: String, reason: String)
    case unsupported(file: String, reason: String)
    case missingTensor(file: String, name: String)
    case shapeMismatch(file: String, name: String, expected: [Int], found: [Int])
    case wrongType(file: String, name: String, dtype: String)

    public var description: String {
        switch self {
        case .cannotOpen(let file, let reason): "\(file): cannot open: \(reason)"
        case .malformed(let file, let reason): "\(file): malformed: \(reason)"
        case .unsupported(let file, let reason): "\(file): unsupported: \(reason)"
        case .missingTensor(let file, let name): "\(file): missing tensor '\(name)'"
        case .shapeMismatch(let file, let name, let expected, let found):
            "\(file): tensor '\(name)' has shape \(found), expected \(expected)"
        case .wrongType(let file, let name, let dtype): "\(file): tensor '\(name)' has unusable dtype \(dtype)"
        }
    }
}

/// Element conversion shared by every archive kind: raw little-endian bytes to float32 / Int.
public enum ElementConversion {
    public static func floats(
        from source: UnsafeRawPointer, dtype: DType, count: Int, into destination: UnsafeMutablePointer<Float>
    ) {
        switch dtype {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .f16:
            for i in 0..<count {
                destination[i] = Float(Float16(bitPattern: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<count {
                let bits = UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16
                destination[i] = Float(bitPattern: bits)
            }
        case .i32:
            for i in 0..<count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        case .i64:
            for i in 0..<count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        }
    }

    public static func ints(from source: UnsafeRawPointer, dtype: DType, count: Int) -> [Int]? {
        switch dtype {
        case .i32: return (0..<count).map { Int(source.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        case .i64: return (0..<count).map { Int(source.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case .f32, .f16, .bf16:
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBufferPointer { floats(from: source, dtype: dtype, count: count, into: $0.baseAddress!) }
            guard values.allSatisfy({ $0.isFinite && $0 == $0.rounded() && abs($0) < 1e15 }) else { return nil }
            return values.map { Int($0) }
        }
    }
}
