import Foundation

/// A safetensors file, memory-mapped and validated strictly before any tensor is read:
/// `[u64 little-endian header length][JSON header][data]`.
public struct SafeTensorsFile: TensorArchive {
    /// Headers above this are rejected before parsing (the reference implementation's limit).
    public static let maximumHeaderBytes = 100 * 1024 * 1024

    struct Entry: Sendable {
        let info: TensorInfo
        let range: Range<Int>  // byte range inside the data section
    }

    public let sourceDescription: String
    public let names: [String]
    /// The `__metadata__` map (string to string).
    public let metadata: [String: String]
    private let entries: [String: Entry]
    private let file: MappedFile
    private let dataStart: Int

    public init(path: String) throws(ModelFileError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(ModelFileError) {
        let path = file.path
        self.file = file
        sourceDescription = path
        let bytes = file.bytes
        func malformed(_ reason: String) -> ModelFileError { .malformed(file: path, reason: reason) }

        guard bytes.count >= 8 else { throw malformed("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        let headerLength = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard headerLength <= UInt64(SafeTensorsFile.maximumHeaderBytes) else {
            throw malformed("header length \(headerLength) exceeds the limit of \(SafeTensorsFile.maximumHeaderBytes) bytes")
        }
        guard headerLength >= 2, 8 + Int(headerLength) <= bytes.count else {
            throw malformed("header length \(headerLength) does not fit in a file of \(bytes.count) bytes")
        }
        dataStart = 8 + Int(headerLength)
        let dataSize = bytes.count - dataStart
        let headerData = Data(bytes[8..<dataStart])

        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData, options: [])
        } catch {
            throw malformed("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw malformed("header is not a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else { throw malformed("__metadata__ is not an object") }
                for (key, item) in map {
                    guard let text = item as? String else { throw malformed("__metadata__ value '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let object = value as? [String: Any] else { throw malformed("entry '\(name)' is not an object") }
            guard let dtypeName = object["dtype"] as? String else { throw malformed("entry '\(name)' has no dtype string") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw .unsupported(file: path, reason: "tensor '\(name)' has dtype \(dtypeName); supported: F32 F16 BF16 I32 I64")
            }
            guard let shape = SafeTensorsFile.integers(object["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw malformed("entry '\(name)' has no valid shape (an array of non-negative integers)")
            }
            guard let offsets = SafeTensorsFile.integers(object["data_offsets"]), offsets.count == 2,
                offsets[0] >= 0, offsets[0] <= offsets[1]
            else { throw malformed("entry '\(name)' has no valid data_offsets [begin, end]") }
            guard offsets[1] <= dataSize else {
                throw malformed("tensor '\(name)' ends at byte \(offsets[1]) beyond the data section of \(dataSize) bytes")
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= dataSize else { throw malformed("tensor '\(name)' shape \(shape) is too large") }
                elements = product
            }
            guard elements * dtype.byteSize == offsets[1] - offsets[0] else {
                throw malformed(
                    "tensor '\(name)' has \(offsets[1] - offsets[0]) bytes but shape \(shape) of \(dtypeName) needs \(elements * dtype.byteSize)")
            }
            entries[name] = Entry(info: TensorInfo(dtype: dtype, shape: shape), range: offsets[0]..<offsets[1])
        }
        // Tensors may not share bytes: sort by start and compare neighbours.
        let ordered = entries.sorted { ($0.value.range.lowerBound, $0.key) < ($1.value.range.lowerBound, $1.key) }
        for (previous, next) in zip(ordered, ordered.dropFirst())
        where next.value.range.lowerBound < previous.value.range.upperBound {
            throw malformed("tensors '\(previous.key)' and '\(next.key)' overlap")
        }
        self.entries = entries
        self.metadata = metadata
        names = entries.keys.sorted()
    }

    /// JSON numbers that are exact non-negative or negative integers (no fractions, no bools).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in array {
            // JSON booleans arrive as NSNumber too; their ObjC type is "c".
            guard let number = item as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }

    public func info(_ name: String) -> TensorInfo? { entries[name]?.info }

    /// The raw bytes of one tensor, valid while this file is alive.
    public func rawBytes(_ name: String) throws(ModelFileError) -> UnsafeRawBufferPointer {
        guard let entry = entries[name] else { throw .missingTensor(file: sourceDescription, name: name) }
        return UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound)])
    }

    public func readFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(ModelFileError) {
        guard let entry = entries[name] else { throw .missingTensor(file: sourceDescription, name: name) }
        guard destination.count == entry.info.elementCount else {
            throw .malformed(
                file: sourceDescription, reason: "tensor '\(name)' has \(entry.info.elementCount) elements, \(destination.count) requested")
        }
        guard entry.info.elementCount > 0, let base = file.bytes.baseAddress, let target = destination.baseAddress else { return }
        ElementConversion.floats(
            from: base + dataStart + entry.range.lowerBound, dtype: entry.info.dtype,
            count: entry.info.elementCount, into: target)
    }

    public func readInts(_ name: String) throws(ModelFileError) -> [Int] {
        guard let entry = entries[name] else { throw .missingTensor(file: sourceDescription, name: name) }
        guard entry.info.elementCount > 0, let base = file.bytes.baseAddress else { return [] }
        guard
            let values = ElementConversion.ints(
                from: base + dataStart + entry.range.lowerBound, dtype: entry.info.dtype, count: entry.info.elementCount)
        else { throw .wrongType(file: sourceDescription, name: name, dtype: entry.info.dtype.rawValue) }
        return values
    }
}
