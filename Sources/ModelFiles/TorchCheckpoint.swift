/// A PyTorch checkpoint written by `torch.save` (the zip format of torch 1.6 and later), read
/// without Python and without running any of its pickle: the file is memory-mapped, its zip
/// directory checked, `<archive>/data.pkl` interpreted by `PickleReader`, and each tensor of the
/// state dict reads its bytes from the uncompressed record `<archive>/data/<key>`.
///
/// The state dict is the first of: the top-level dict if it holds tensors; the dict under
/// `state_dict`, `model`, `ema` or `module`; one of those under another of them (`model.ema`);
/// the top-level dict if only its sub-dicts hold tensors. Within it, a sub-dict of tensors is
/// flattened one level (`encoder` → `encoder.weight`), other values are skipped (`ignoredKeys`),
/// and a `module.` prefix that every name carries is removed.
public struct TorchCheckpoint: TensorArchive {
    public static let stateDictKeys = ["state_dict", "model", "ema", "module"]

    public let sourceDescription: String
    public let names: [String]
    /// Where the state dict was found, as dotted keys: "" for the top level, "state_dict", "model.ema".
    public let stateDictPath: String
    /// The prefix removed from every name (`module.`), if any.
    public let strippedPrefix: String?
    /// Entries of the state dict that are not tensors, with their original names.
    public let ignoredKeys: [String]
    /// Tensors of the state dict whose element type is not readable (`F64`, `U8`, `BOOL`, ...), by name.
    public let unsupportedTensors: [String: String]
    /// Classes and functions anywhere in the pickle that were kept as inert placeholders
    /// (`argparse.Namespace`, optimizer classes, or anything a malicious file names), sorted.
    public let placeholders: [String]
    /// The top-level keys of the pickled object, when it is a dict.
    public let topLevelKeys: [String]

    private let file: ZipFileBytes
    private let tensors: [String: Entry]

    /// Where a tensor's elements are in its storage record.
    public struct Layout: Sendable, Equatable {
        public let storageKey: String
        public let storageType: String
        /// In elements, as torch counts them.
        public let storageOffset: Int
        public let stride: [Int]
        public let isContiguous: Bool
    }

    private struct Entry: Sendable {
        let info: TensorInfo
        let layout: Layout
        let count: Int
        /// Absolute file offset of the storage record's first byte.
        let recordOffset: Int
    }

    /// Reads `path`. `stateDictKey` (dotted, e.g. "ema" or "model.ema") picks the state dict
    /// instead of searching for it; `verifyChecksums` checks every tensor record's CRC-32
    /// (the pickle's is always checked).
    public init(path: String, stateDictKey: String? = nil, verifyChecksums: Bool = false) throws(ModelFileError) {
        try self.init(
            file: try ZipFileBytes(mapping: path), source: path, stateDictKey: stateDictKey,
            verifyChecksums: verifyChecksums)
    }

    /// Reads a checkpoint held in memory (the bytes are copied).
    public init(
        bytes: [UInt8], sourceDescription: String, stateDictKey: String? = nil, verifyChecksums: Bool = false
    ) throws(ModelFileError) {
        try self.init(
            file: ZipFileBytes(copying: bytes), source: sourceDescription, stateDictKey: stateDictKey,
            verifyChecksums: verifyChecksums)
    }

    private init(file: ZipFileBytes, source: String, stateDictKey: String?, verifyChecksums: Bool) throws(ModelFileError) {
        self.file = file
        sourceDescription = source
        try Self.checkFormat(file.buffer, source: source)
        let zip = try ZipArchive(bytes: file, source: source)

        // <archive>/data.pkl, whatever the archive folder is called.
        let pickles = zip.entries.filter { entry in
            guard entry.name.hasSuffix("/data.pkl") else { return false }
            let folder = entry.name.dropLast("/data.pkl".count)
            return !folder.isEmpty && !folder.contains("/")
        }
        guard let pickleEntry = pickles.first else {
            throw .malformed(file: source, reason: "zip has no '<archive>/data.pkl' record: not a torch.save checkpoint")
        }
        guard pickles.count == 1 else {
            throw .malformed(file: source, reason: "zip has \(pickles.count) '*/data.pkl' records: \(pickles.map(\.name))")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let order = zip.entry(named: prefix + "byteorder") {
            let text = String(decoding: try zip.storedBytes(of: order), as: UTF8.self)
            guard text == "little" else {
                throw .unsupported(file: source, reason: "checkpoint byte order is '\(text.prefix(16))', only 'little' is supported")
            }
        }
        try zip.verifyChecksum(of: pickleEntry)
        let pickle = try PickleReader(source: source).read(Array(try zip.storedBytes(of: pickleEntry)))
        placeholders = pickle.placeholders

        let heap = pickle.heap
        topLevelKeys = Self.stringKeys(pickle.root, heap)
        let found = try Self.findStateDict(pickle.root, heap: heap, key: stateDictKey, source: source)
        stateDictPath = found.path

        // Flatten one level; keep non-tensors aside.
        var flat: [(String, Int)] = []
        var ignored: [String] = []
        for (key, value) in Self.stringItems(found.dict, heap) {
            switch value {
            case .tensor(let t):
                flat.append((key, t))
            case .dict(let inner):
                let innerItems = Self.stringItems(inner, heap)
                for (innerKey, innerValue) in innerItems {
                    if case .tensor(let t) = innerValue {
                        flat.append((key + "." + innerKey, t))
                    } else {
                        ignored.append(key + "." + innerKey)
                    }
                }
                if innerItems.isEmpty { ignored.append(key) }
            default:
                ignored.append(key)
            }
        }
        ignoredKeys = ignored.sorted()

        var stripped: String?
        if !flat.isEmpty, flat.allSatisfy({ $0.0.hasPrefix("module.") && $0.0.count > "module.".count }) {
            stripped = "module."
            flat = flat.map { (String($0.0.dropFirst("module.".count)), $0.1) }
        }
        strippedPrefix = stripped

        var entries: [String: Entry] = [:]
        var unsupported: [String: String] = [:]
        var checkedRecords: Set<String> = []
        for (name, tensorIndex) in flat {
            guard entries[name] == nil, unsupported[name] == nil else {
                throw .malformed(file: source, reason: "state dict names tensor '\(name)' twice")
            }
            let tensor = heap.tensors[tensorIndex]
            let storage = heap.storages[tensor.storage]
            if let dtypeName = tensor.dtypeName {
                unsupported[name] = "torch.\(dtypeName)"
                continue
            }
            let type = TorchStorageType(storage.typeName)
            guard let elementSize = type.elementSize else {
                unsupported[name] = "torch.\(storage.typeName)"
                continue
            }
            let recordName = prefix + "data/" + storage.key
            guard let record = zip.entry(named: recordName) else {
                throw .malformed(file: source, reason: "tensor '\(name)' needs storage record '\(recordName)', which is missing")
            }
            let recordBytes = try zip.storedBytes(of: record)
            let (needed, overflow) = storage.elementCount.multipliedReportingOverflow(by: elementSize)
            guard !overflow, needed <= recordBytes.count else {
                throw .malformed(
                    file: source,
                    reason: "storage '\(storage.key)' of tensor '\(name)' should hold \(storage.elementCount) × \(elementSize) bytes, "
                        + "but record '\(recordName)' has \(recordBytes.count)")
            }
            if verifyChecksums, !checkedRecords.contains(recordName) {
                try zip.verifyChecksum(of: record)
                checkedRecords.insert(recordName)
            }
            guard let dtype = type.dtype else {
                unsupported[name] = type.label
                continue
            }
            // The view was checked against the storage's element count when it was rebuilt, and
            // its element count for overflow. A broadcast view (stride 0) may have more elements
            // than its storage: allow that only up to 1 GiB.
            let count = tensor.shape.reduce(1, *)
            let (logicalBytes, tooMany) = count.multipliedReportingOverflow(by: elementSize)
            guard count <= storage.elementCount || (!tooMany && logicalBytes <= 1 << 30) else {
                throw .malformed(
                    file: source,
                    reason: "tensor '\(name)' is a broadcast view of \(count) elements over a storage of \(storage.elementCount)")
            }
            let layout = Layout(
                storageKey: storage.key, storageType: "torch." + storage.typeName, storageOffset: tensor.storageOffset,
                stride: tensor.stride, isContiguous: Self.isContiguous(shape: tensor.shape, stride: tensor.stride))
            entries[name] = Entry(
                info: TensorInfo(dtype: dtype, shape: tensor.shape), layout: layout, count: count,
                recordOffset: record.dataOffset)
        }
        tensors = entries
        unsupportedTensors = unsupported
        names = entries.keys.sorted()
    }

    // MARK: TensorArchive

    public func info(_ name: String) -> TensorInfo? { tensors[name]?.info }

    /// Where the tensor's elements lie in its storage.
    public func layout(_ name: String) -> Layout? { tensors[name]?.layout }

    public func readFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(ModelFileError) {
        let entry = try lookup(name)
        guard destination.count == entry.count else {
            throw .shapeMismatch(file: sourceDescription, name: name, expected: [destination.count], found: entry.info.shape)
        }
        guard entry.count > 0, let out = destination.baseAddress else { return }
        try withElements(entry) { source in
            ElementConversion.floats(from: source, dtype: entry.info.dtype, count: entry.count, into: out)
        }
    }

    /// All elements as float32. (Unlike the protocol's default, names a tensor of an unusable
    /// dtype as such rather than as missing.)
    public func readFloats(_ name: String) throws(ModelFileError) -> [Float] {
        let entry = try lookup(name)
        var values = [Float](repeating: 0, count: entry.count)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(ModelFileError) in
            try readFloats(name, into: buffer)
        }
        return values
    }

    public func readInts(_ name: String) throws(ModelFileError) -> [Int] {
        let entry = try lookup(name)
        guard entry.count > 0 else { return [] }
        let values = try withElements(entry) { source in
            ElementConversion.ints(from: source, dtype: entry.info.dtype, count: entry.count)
        }
        guard let values else {
            throw .wrongType(file: sourceDescription, name: name, dtype: entry.info.dtype.rawValue + " (not integral)")
        }
        return values
    }

    private func lookup(_ name: String) throws(ModelFileError) -> Entry {
        if let entry = tensors[name] { return entry }
        if let type = unsupportedTensors[name] { throw .wrongType(file: sourceDescription, name: name, dtype: type) }
        throw .missingTensor(file: sourceDescription, name: name)
    }

    /// Runs `body` on the tensor's elements in row-major order: in place when the view is
    /// contiguous, else gathered by stride into a temporary buffer. `entry.count` must be > 0.
    private func withElements<R>(_ entry: Entry, _ body: (UnsafeRawPointer) -> R) throws(ModelFileError) -> R {
        let size = entry.info.dtype.byteSize
        guard let base = file.buffer.baseAddress else {
            throw .malformed(file: sourceDescription, reason: "file is empty")
        }
        // Checked at load: every element lies inside the record, which lies inside the file.
        let record = base + entry.recordOffset
        let layout = entry.layout
        if layout.isContiguous {
            return body(record + layout.storageOffset * size)
        }
        let shape = entry.info.shape
        // A dimension of size 1 is never stepped: its stride (which may be anything) is unused.
        let stride = zip(shape, layout.stride).map { $0 == 1 ? 0 : $1 }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: entry.count * size, alignment: 16)
        defer { buffer.deallocate() }
        var index = [Int](repeating: 0, count: shape.count)
        var element = layout.storageOffset
        for n in 0..<entry.count {
            (buffer + n * size).copyMemory(from: record + element * size, byteCount: size)
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                element += stride[d]
                if index[d] < shape[d] { break }
                element -= stride[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
        return body(UnsafeRawPointer(buffer))
    }

    // MARK: Finding things

    static func isContiguous(shape: [Int], stride: [Int]) -> Bool {
        var expected = 1
        for (size, step) in zip(shape, stride).reversed() {
            if size == 0 { return true }
            if size != 1 && step != expected { return false }
            let (next, overflow) = expected.multipliedReportingOverflow(by: size)
            if overflow { return false }
            expected = next
        }
        return true
    }

    private static func checkFormat(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelFileError) {
        guard !bytes.isEmpty else { throw .malformed(file: source, reason: "file is empty") }
        let legacyMagic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
        let resave =
            "load it with torch and save it again with a current torch (torch.save(torch.load(path), new_path)) "
            + "to get the zip format"
        if bytes.starts(with: legacyMagic) {
            throw .unsupported(file: source, reason: "legacy (pre-1.6, non-zip) torch.save format; " + resave)
        }
        if bytes.count > 262, bytes[257..<262].elementsEqual("ustar".utf8) {
            throw .unsupported(file: source, reason: "legacy tar-based torch.save format; " + resave)
        }
        if bytes[0] == 0x80 {
            throw .unsupported(file: source, reason: "a bare pickle, not a torch.save zip checkpoint; " + resave)
        }
        guard bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) else {
            throw .malformed(file: source, reason: "not a PyTorch checkpoint: no zip signature at the start of the file")
        }
    }

    /// The (string key, value) pairs of a dict, in order; other keys are skipped.
    private static func stringItems(_ dict: Int, _ heap: PickleHeap) -> [(String, PickleValue)] {
        let d = heap.dicts[dict]
        var items: [(String, PickleValue)] = []
        for (key, value) in zip(d.keys, d.values) {
            if case .string(let k) = key { items.append((k, value)) }
        }
        return items
    }

    private static func stringKeys(_ value: PickleValue, _ heap: PickleHeap) -> [String] {
        guard case .dict(let d) = value else { return [] }
        return stringItems(d, heap).map(\.0)
    }

    private static func child(_ dict: Int, _ key: String, _ heap: PickleHeap) -> Int? {
        if case .dict(let inner)? = heap.dicts[dict].value(forKey: key) { return inner }
        return nil
    }

    private static func directTensorCount(_ dict: Int, _ heap: PickleHeap) -> Int {
        heap.dicts[dict].values.reduce(0) { count, value in
            if case .tensor = value { count + 1 } else { count }
        }
    }

    private static func nestedTensorCount(_ dict: Int, _ heap: PickleHeap) -> Int {
        heap.dicts[dict].values.reduce(0) { count, value in
            if case .dict(let inner) = value { count + directTensorCount(inner, heap) } else { count }
        }
    }

    private static func findStateDict(
        _ root: PickleValue, heap: PickleHeap, key: String?, source: String
    ) throws(ModelFileError) -> (dict: Int, path: String) {
        guard case .dict(let top) = root else {
            throw .unsupported(file: source, reason: "checkpoint holds a \(describe(root)), not a dict of tensors")
        }
        if let key {
            var current = top
            var path: [String] = []
            for part in key.split(separator: ".", omittingEmptySubsequences: false).map(String.init) where !key.isEmpty {
                guard let next = child(current, part, heap) else {
                    throw .missingTensor(file: source, name: (path + [part]).joined(separator: "."))
                }
                current = next
                path.append(part)
            }
            guard directTensorCount(current, heap) + nestedTensorCount(current, heap) > 0 else {
                throw .malformed(file: source, reason: "'\(key)' holds no tensors")
            }
            return (current, key)
        }
        var candidates: [(Int, String)] = [(top, "")]
        for first in stateDictKeys {
            guard let level1 = child(top, first, heap) else { continue }
            candidates.append((level1, first))
            for second in stateDictKeys {
                if let level2 = child(level1, second, heap) { candidates.append((level2, first + "." + second)) }
            }
        }
        if let direct = candidates.first(where: { directTensorCount($0.0, heap) > 0 }) { return direct }
        if let nested = candidates.first(where: { nestedTensorCount($0.0, heap) > 0 }) { return nested }
        let keys = stringKeys(root, heap)
        throw .malformed(
            file: source,
            reason: "no state dict of tensors at the top level or under \(stateDictKeys); top-level keys: \(keys.prefix(20))")
    }

    private static func describe(_ value: PickleValue) -> String {
        switch value {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .set: "set"
        case .global: "global reference"
        case .object: "placeholder object"
        case .storage: "storage"
        case .tensor: "single tensor"
        }
    }
}

/// What a `torch.XxxStorage` class holds.
struct TorchStorageType {
    let dtype: DType?
    let elementSize: Int?
    let label: String

    init(_ name: String) {
        switch name {
        case "FloatStorage": (dtype, elementSize, label) = (.f32, 4, "F32")
        case "HalfStorage": (dtype, elementSize, label) = (.f16, 2, "F16")
        case "BFloat16Storage": (dtype, elementSize, label) = (.bf16, 2, "BF16")
        case "IntStorage": (dtype, elementSize, label) = (.i32, 4, "I32")
        case "LongStorage": (dtype, elementSize, label) = (.i64, 8, "I64")
        case "DoubleStorage": (dtype, elementSize, label) = (nil, 8, "F64")
        case "ShortStorage": (dtype, elementSize, label) = (nil, 2, "I16")
        case "CharStorage": (dtype, elementSize, label) = (nil, 1, "I8")
        case "ByteStorage": (dtype, elementSize, label) = (nil, 1, "U8")
        case "BoolStorage": (dtype, elementSize, label) = (nil, 1, "BOOL")
        case "ComplexFloatStorage": (dtype, elementSize, label) = (nil, 8, "C64")
        case "ComplexDoubleStorage": (dtype, elementSize, label) = (nil, 16, "C128")
        case "UInt16Storage": (dtype, elementSize, label) = (nil, 2, "U16")
        case "UInt32Storage": (dtype, elementSize, label) = (nil, 4, "U32")
        case "UInt64Storage": (dtype, elementSize, label) = (nil, 8, "U64")
        case "QInt8Storage", "QUInt8Storage", "QUInt4x2Storage", "QUInt2x4Storage":
            (dtype, elementSize, label) = (nil, 1, "quantized torch.\(name)")
        case "QInt32Storage": (dtype, elementSize, label) = (nil, 4, "quantized torch.QInt32Storage")
        case "UntypedStorage": (dtype, elementSize, label) = (nil, 1, "untyped bytes")
        default: (dtype, elementSize, label) = (nil, nil, "torch.\(name)")
        }
    }
}
