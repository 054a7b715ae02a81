/// A restricted reader of Python pickles, as `torch.save` writes them (protocol 2, and the
/// protocol 4/5 opcodes that other writers add). It executes nothing: a small whitelist of
/// value constructors is interpreted (containers, `collections.OrderedDict`, `torch.Size`,
/// `_codecs.encode`, the torch tensor-rebuild functions), and any other global becomes an inert
/// placeholder object that records its arguments and state but is never called.
///
/// Values are flat (`PickleValue`): containers live in a `PickleHeap` and are referenced by
/// index, so deep or cyclic structures cannot overflow the stack when built or freed.
enum PickleValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too large for `Int`: its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(Int)
    case list(Int)
    case dict(Int)
    case set(Int)
    /// A reference to a module attribute that was never called (a class, a function, a dtype).
    case global(Int)
    /// An inert placeholder for an instance of a class outside the whitelist.
    case object(Int)
    case storage(Int)
    case tensor(Int)
}

struct PickleGlobal: Sendable, Equatable, Hashable {
    let module: String
    let name: String
    var qualifiedName: String { module + "." + name }
}

struct PickleDict: Sendable {
    private(set) var keys: [PickleValue] = []
    private(set) var values: [PickleValue] = []
    private var positions: [PickleDictKey: Int] = [:]
    /// State given by BUILD (for example an OrderedDict's `_metadata`), kept and ignored.
    var attributes: PickleValue?

    var count: Int { keys.count }

    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        if let hashable = PickleDictKey(key) {
            if let position = positions[hashable] {
                values[position] = value
                return
            }
            positions[hashable] = keys.count
        }
        keys.append(key)
        values.append(value)
    }

    func value(forKey key: String) -> PickleValue? {
        positions[.string(key)].map { values[$0] }
    }
}

/// The keys whose equality is plain to see; other keys are kept without de-duplication.
private enum PickleDictKey: Hashable {
    case none, bool(Bool), int(Int), string(String), bytes([UInt8])

    init?(_ value: PickleValue) {
        switch value {
        case .none: self = .none
        case .bool(let b): self = .int(b ? 1 : 0)  // Python: True == 1
        case .int(let i): self = .int(i)
        case .string(let s): self = .string(s)
        case .bytes(let b): self = .bytes(b)
        default: return nil
        }
    }
}

/// An instance of a class outside the whitelist: never constructed, only described.
struct PickleObject: Sendable {
    enum Origin: Sendable { case reduce, newObject, instance }
    /// The class or function that would have been called, when known.
    let callee: PickleGlobal?
    let origin: Origin
    let arguments: [PickleValue]
    var state: PickleValue?
    var listItems: [PickleValue] = []
    var dictItems: [(PickleValue, PickleValue)] = []

    var calleeDescription: String { callee?.qualifiedName ?? "<call of a non-global>" }
}

/// A storage named by a persistent id `('storage', storage_type, key, location, numel)`.
struct PickleStorage: Sendable, Equatable {
    let typeName: String
    let key: String
    let location: String
    let elementCount: Int
}

/// A tensor view rebuilt by `torch._utils._rebuild_tensor_v2`: nothing is read yet.
struct PickleTensor: Sendable, Equatable {
    let storage: Int
    let storageOffset: Int
    let shape: [Int]
    let stride: [Int]
    /// For `_rebuild_tensor_v3` (the newer dtypes: uint16, float8, ...): the torch dtype's name.
    /// Its storage is untyped, and the view was not checked against it.
    var dtypeName: String?
}

struct PickleHeap: Sendable {
    var tuples: [[PickleValue]] = []
    var lists: [[PickleValue]] = []
    var dicts: [PickleDict] = []
    var sets: [[PickleValue]] = []
    var globals: [PickleGlobal] = []
    var objects: [PickleObject] = []
    var storages: [PickleStorage] = []
    var tensors: [PickleTensor] = []
}

struct PickleLimits: Sendable {
    /// Values on the stack at once.
    var maxStackDepth = 1 << 20
    /// Open MARKs at once.
    var maxMarkDepth = 1 << 16
    /// Memo entries.
    var maxMemoEntries = 1 << 20
    /// Bytes in one string or bytes value.
    var maxStringBytes = 1 << 26
    /// Total work and memory, counted in bytes for strings and 16 per stored value.
    var maxAllocation = 1 << 30
    /// Dimensions of one tensor.
    var maxTensorRank = 64

    static let `default` = PickleLimits()
}

struct PickleResult: Sendable {
    let root: PickleValue
    let heap: PickleHeap
    /// Every class or function that became a placeholder, sorted.
    let placeholders: [String]
}

struct PickleReader {
    let source: String
    let limits: PickleLimits

    init(source: String, limits: PickleLimits = .default) {
        self.source = source
        self.limits = limits
    }

    func read(_ data: [UInt8]) throws(ModelFileError) -> PickleResult {
        var machine = PickleMachine(data: data, source: source, limits: limits)
        return try machine.run()
    }
}

private struct PickleMachine {
    let data: [UInt8]
    let source: String
    let limits: PickleLimits
    var position = 0
    var opcodeStart = 0
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var heap = PickleHeap()
    var placeholders: Set<String> = []
    var allocated = 0
    var storageByKey: [String: PickleStorage] = [:]

    init(data: [UInt8], source: String, limits: PickleLimits) {
        self.data = data
        self.source = source
        self.limits = limits
    }

    // MARK: Errors and budget

    func fail(_ reason: String) -> ModelFileError {
        .malformed(file: source, reason: "pickle: \(reason) (opcode at byte \(opcodeStart))")
    }

    mutating func charge(_ units: Int) throws(ModelFileError) {
        let (sum, overflow) = allocated.addingReportingOverflow(units)
        guard !overflow, sum <= limits.maxAllocation else {
            throw fail("exceeds the allocation limit of \(limits.maxAllocation) bytes")
        }
        allocated = sum
    }

    // MARK: Input

    mutating func byte() throws(ModelFileError) -> UInt8 {
        guard position < data.count else { throw fail("data ends inside an opcode") }
        defer { position += 1 }
        return data[position]
    }

    mutating func take(_ count: Int) throws(ModelFileError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= data.count - position else {
            throw fail("needs \(count) bytes but only \(data.count - position) remain")
        }
        defer { position += count }
        return data[position..<(position + count)]
    }

    mutating func unsignedLE(_ count: Int) throws(ModelFileError) -> UInt64 {
        var value: UInt64 = 0
        for (shift, byte) in try take(count).enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }

    mutating func length(_ count: Int) throws(ModelFileError) -> Int {
        let raw = try unsignedLE(count)
        guard let length = Int(exactly: raw), length <= limits.maxStringBytes else {
            throw fail("length \(raw) exceeds the limit of \(limits.maxStringBytes) bytes")
        }
        return length
    }

    mutating func line() throws(ModelFileError) -> String {
        var bytes: [UInt8] = []
        while true {
            let b = try byte()
            if b == 0x0A { break }
            guard bytes.count < 4096 else { throw fail("text argument longer than 4096 bytes") }
            bytes.append(b)
        }
        return try utf8(bytes[...])
    }

    func utf8(_ bytes: ArraySlice<UInt8>) throws(ModelFileError) -> String {
        let string = String(decoding: bytes, as: UTF8.self)
        guard string.utf8.elementsEqual(bytes) else { throw fail("string is not valid UTF-8") }
        return string
    }

    mutating func text(_ bytes: ArraySlice<UInt8>) throws(ModelFileError) -> PickleValue {
        try charge(bytes.count)
        return .string(try utf8(bytes))
    }

    // MARK: Stack

    mutating func push(_ value: PickleValue) throws(ModelFileError) {
        guard stack.count < limits.maxStackDepth else {
            throw fail("stack deeper than the limit of \(limits.maxStackDepth)")
        }
        stack.append(value)
    }

    mutating func pop() throws(ModelFileError) -> PickleValue {
        guard let top = stack.popLast() else { throw fail("stack underflow") }
        if let mark = marks.last, stack.count < mark { throw fail("pop below the current MARK") }
        return top
    }

    func top() throws(ModelFileError) -> PickleValue {
        guard let top = stack.last else { throw fail("stack underflow") }
        if let mark = marks.last, stack.count <= mark { throw fail("no value above the current MARK") }
        return top
    }

    /// The values above the last MARK, which is removed.
    mutating func popMark() throws(ModelFileError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("no MARK to pop to") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        try charge(16 * items.count)
        return items
    }

    mutating func add<T>(_ item: T, to array: WritableKeyPath<PickleHeap, [T]>) throws(ModelFileError) -> Int {
        try charge(64)
        heap[keyPath: array].append(item)
        return heap[keyPath: array].count - 1
    }

    mutating func tuple(_ items: [PickleValue]) throws(ModelFileError) -> PickleValue {
        try charge(16 * items.count)
        return .tuple(try add(items, to: \.tuples))
    }

    mutating func memoize(_ index: Int) throws(ModelFileError) {
        let value = try top()
        if memo[index] == nil {
            guard memo.count < limits.maxMemoEntries else {
                throw fail("memo larger than the limit of \(limits.maxMemoEntries) entries")
            }
        }
        memo[index] = value
    }

    func fetch(_ index: Int) throws(ModelFileError) -> PickleValue {
        guard let value = memo[index] else { throw fail("memo key \(index) was never stored") }
        return value
    }

    // MARK: Run

    mutating func run() throws(ModelFileError) -> PickleResult {
        while true {
            opcodeStart = position
            let opcode = try byte()
            switch opcode {
            case 0x80:  // PROTO
                let version = try byte()
                guard version <= 5 else { throw fail("unknown pickle protocol \(version)") }
            case 0x95:  // FRAME: a length hint only
                let length = try unsignedLE(8)
                guard length <= UInt64(data.count - position) else { throw fail("FRAME longer than the data") }
            case 0x2E:  // STOP '.'
                guard marks.isEmpty else { throw fail("STOP with an open MARK") }
                guard stack.count == 1, let root = stack.last else {
                    throw fail("STOP with \(stack.count) values on the stack, expected 1")
                }
                return PickleResult(root: root, heap: heap, placeholders: placeholders.sorted())

            // Stack manipulation
            case 0x28:  // MARK '('
                guard marks.count < limits.maxMarkDepth else {
                    throw fail("more than \(limits.maxMarkDepth) nested MARKs")
                }
                marks.append(stack.count)
            case 0x30:  // POP '0'
                if let mark = marks.last, mark == stack.count {
                    marks.removeLast()  // CPython pops the mark when the stack top is one
                } else {
                    _ = try pop()
                }
            case 0x31:  // POP_MARK '1'
                _ = try popMark()
            case 0x32:  // DUP '2'
                try push(try top())

            // Scalars
            case 0x4E: try push(.none)  // NONE 'N'
            case 0x88: try push(.bool(true))  // NEWTRUE
            case 0x89: try push(.bool(false))  // NEWFALSE
            case 0x4B: try push(.int(Int(try byte())))  // BININT1 'K'
            case 0x4D: try push(.int(Int(try unsignedLE(2))))  // BININT2 'M'
            case 0x4A:  // BININT 'J': signed 32-bit
                try push(.int(Int(Int32(truncatingIfNeeded: try unsignedLE(4)))))
            case 0x8A:  // LONG1
                let count = Int(try byte())
                try push(try long(count))
            case 0x8B:  // LONG4
                let raw = Int32(truncatingIfNeeded: try unsignedLE(4))
                guard raw >= 0, Int(raw) <= limits.maxStringBytes else { throw fail("bad LONG4 length \(raw)") }
                try push(try long(Int(raw)))
            case 0x49:  // INT 'I' (text)
                let text = try line()
                if text == "00" {
                    try push(.bool(false))
                } else if text == "01" {
                    try push(.bool(true))
                } else {
                    guard let value = Int(text) else { throw fail("bad INT text '\(text.prefix(40))'") }
                    try push(.int(value))
                }
            case 0x4C:  // LONG 'L' (text)
                var text = try line()
                if text.hasSuffix("L") { text.removeLast() }
                guard let value = Int(text) else { throw fail("unsupported LONG text '\(text.prefix(40))'") }
                try push(.int(value))
            case 0x47:  // BINFLOAT 'G': big-endian double
                var bits: UInt64 = 0
                for b in try take(8) { bits = bits << 8 | UInt64(b) }
                try push(.float(Double(bitPattern: bits)))
            case 0x46:  // FLOAT 'F' (text)
                let text = try line()
                guard let value = Double(text) else { throw fail("bad FLOAT text '\(text.prefix(40))'") }
                try push(.float(value))

            // Strings and bytes
            case 0x58:  // BINUNICODE 'X'
                let n = try length(4)
                try push(try text(try take(n)))
            case 0x8C:  // SHORT_BINUNICODE
                let n = Int(try byte())
                try push(try text(try take(n)))
            case 0x8D:  // BINUNICODE8
                let n = try length(8)
                try push(try text(try take(n)))
            case 0x54:  // BINSTRING 'T': a Python 2 str, read as Latin-1
                let raw = Int32(truncatingIfNeeded: try unsignedLE(4))
                guard raw >= 0, Int(raw) <= limits.maxStringBytes else { throw fail("bad BINSTRING length \(raw)") }
                try push(try latin1(try take(Int(raw))))
            case 0x55:  // SHORT_BINSTRING 'U'
                let n = Int(try byte())
                try push(try latin1(try take(n)))
            case 0x42:  // BINBYTES 'B'
                let n = try length(4)
                try push(try bytes(try take(n)))
            case 0x43:  // SHORT_BINBYTES 'C'
                let n = Int(try byte())
                try push(try bytes(try take(n)))
            case 0x8E, 0x96:  // BINBYTES8, BYTEARRAY8
                let n = try length(8)
                try push(try bytes(try take(n)))

            // Containers
            case 0x29: try push(try tuple([]))  // EMPTY_TUPLE ')'
            case 0x74: try push(try tuple(try popMark()))  // TUPLE 't'
            case 0x85:  // TUPLE1
                let a = try pop()
                try push(try tuple([a]))
            case 0x86:  // TUPLE2
                let b = try pop(), a = try pop()
                try push(try tuple([a, b]))
            case 0x87:  // TUPLE3
                let c = try pop(), b = try pop(), a = try pop()
                try push(try tuple([a, b, c]))
            case 0x5D: try push(.list(try add([], to: \.lists)))  // EMPTY_LIST ']'
            case 0x6C: try push(.list(try add(try popMark(), to: \.lists)))  // LIST 'l'
            case 0x61:  // APPEND 'a'
                let value = try pop()
                try append([value], to: try top())
            case 0x65:  // APPENDS 'e'
                let items = try popMark()
                try append(items, to: try top())
            case 0x7D: try push(.dict(try add(PickleDict(), to: \.dicts)))  // EMPTY_DICT '}'
            case 0x64:  // DICT 'd'
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
                let index = try add(PickleDict(), to: \.dicts)
                try setItems(items, in: .dict(index))
                try push(.dict(index))
            case 0x73:  // SETITEM 's'
                let value = try pop(), key = try pop()
                try setItems([key, value], in: try top())
            case 0x75:  // SETITEMS 'u'
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
                try setItems(items, in: try top())
            case 0x8F: try push(.set(try add([], to: \.sets)))  // EMPTY_SET
            case 0x90:  // ADDITEMS
                let items = try popMark()
                guard case .set(let index) = try top() else { throw fail("ADDITEMS on a value that is not a set") }
                heap.sets[index].append(contentsOf: items)
            case 0x91: try push(.set(try add(try popMark(), to: \.sets)))  // FROZENSET

            // Memo
            case 0x71: try memoize(Int(try byte()))  // BINPUT 'q'
            case 0x72: try memoize(Int(try unsignedLE(4)))  // LONG_BINPUT 'r'
            case 0x94: try memoize(memo.count)  // MEMOIZE
            case 0x70:  // PUT 'p'
                let text = try line()
                guard let index = Int(text), index >= 0 else { throw fail("bad PUT index") }
                try memoize(index)
            case 0x68: try push(try fetch(Int(try byte())))  // BINGET 'h'
            case 0x6A: try push(try fetch(Int(try unsignedLE(4))))  // LONG_BINGET 'j'
            case 0x67:  // GET 'g'
                let text = try line()
                guard let index = Int(text) else { throw fail("bad GET index") }
                try push(try fetch(index))

            // Globals and calls: nothing here runs code.
            case 0x63:  // GLOBAL 'c'
                let module = try line()
                let name = try line()
                try push(try global(module, name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let n) = name, case .string(let m) = module else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try push(try global(m, n))
            case 0x52:  // REDUCE 'R'
                let arguments = try pop()
                let callable = try pop()
                guard case .tuple(let index) = arguments else { throw fail("REDUCE arguments are not a tuple") }
                try push(try call(callable, heap.tuples[index], origin: .reduce))
            case 0x81:  // NEWOBJ
                let arguments = try pop()
                let cls = try pop()
                guard case .tuple(let index) = arguments else { throw fail("NEWOBJ arguments are not a tuple") }
                try push(try call(cls, heap.tuples[index], origin: .newObject))
            case 0x92:  // NEWOBJ_EX
                let keywords = try pop()
                let arguments = try pop()
                let cls = try pop()
                guard case .tuple(let index) = arguments, case .dict = keywords else {
                    throw fail("NEWOBJ_EX needs a tuple and a dict")
                }
                try push(try placeholder(cls, arguments: heap.tuples[index] + [keywords], origin: .newObject))
            case 0x69:  // INST 'i'
                let module = try line()
                let name = try line()
                let arguments = try popMark()
                let callee = PickleGlobal(module: module, name: name)
                try push(try placeholder(callee: callee, arguments: arguments, origin: .instance))
            case 0x6F:  // OBJ 'o'
                var items = try popMark()
                guard !items.isEmpty else { throw fail("OBJ without a class") }
                let cls = items.removeFirst()
                try push(try placeholder(cls, arguments: items, origin: .instance))
            case 0x62:  // BUILD 'b'
                let state = try pop()
                try build(try top(), state: state)
            case 0x51:  // BINPERSID 'Q'
                let pid = try pop()
                try push(try persistentLoad(pid))

            case 0x53, 0x56:
                throw .unsupported(
                    file: source, reason: "pickle: protocol 0 text string opcode at byte \(opcodeStart) is not supported")
            case 0x50:
                throw .unsupported(file: source, reason: "pickle: text persistent id (PERSID) at byte \(opcodeStart) is not supported")
            case 0x82, 0x83, 0x84:
                throw .unsupported(file: source, reason: "pickle: extension registry opcode (EXT) at byte \(opcodeStart) is not supported")
            case 0x97, 0x98:
                throw .unsupported(file: source, reason: "pickle: out-of-band buffer opcode at byte \(opcodeStart) is not supported")
            default:
                throw fail("unknown opcode 0x\(String(opcode, radix: 16))")
            }
        }
    }

    // MARK: Values

    mutating func long(_ count: Int) throws(ModelFileError) -> PickleValue {
        let bytes = try take(count)
        if count == 0 { return .int(0) }
        if count <= 8 {
            var value: UInt64 = 0
            for (shift, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
            // Sign-extend from `count` bytes.
            let unused = UInt64(64 - 8 * count)
            return .int(Int(Int64(bitPattern: value << unused) >> Int64(unused)))
        }
        try charge(count)
        // Fits in Int when every byte above the eighth repeats the sign.
        let sign: UInt8 = bytes[bytes.startIndex + 7] & 0x80 == 0 ? 0 : 0xFF
        if bytes.dropFirst(8).allSatisfy({ $0 == sign }) {
            var value: UInt64 = 0
            for (shift, byte) in bytes.prefix(8).enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
            return .int(Int(Int64(bitPattern: value)))
        }
        return .bigInt(Array(bytes))
    }

    mutating func latin1(_ bytes: ArraySlice<UInt8>) throws(ModelFileError) -> PickleValue {
        try charge(2 * bytes.count)
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(Unicode.Scalar(b)) }
        return .string(String(scalars))
    }

    mutating func bytes(_ bytes: ArraySlice<UInt8>) throws(ModelFileError) -> PickleValue {
        try charge(bytes.count)
        return .bytes(Array(bytes))
    }

    mutating func global(_ module: String, _ name: String) throws(ModelFileError) -> PickleValue {
        .global(try add(PickleGlobal(module: module, name: name), to: \.globals))
    }

    mutating func append(_ items: [PickleValue], to target: PickleValue) throws(ModelFileError) {
        try charge(16 * items.count)
        switch target {
        case .list(let index): heap.lists[index].append(contentsOf: items)
        case .set(let index): heap.sets[index].append(contentsOf: items)
        case .object(let index): heap.objects[index].listItems.append(contentsOf: items)
        default: throw fail("APPEND to a value that is not a list")
        }
    }

    mutating func setItems(_ items: [PickleValue], in target: PickleValue) throws(ModelFileError) {
        try charge(16 * items.count)
        var i = 0
        while i + 1 < items.count {
            switch target {
            case .dict(let index): heap.dicts[index].set(items[i], items[i + 1])
            case .object(let index): heap.objects[index].dictItems.append((items[i], items[i + 1]))
            default: throw fail("SETITEM on a value that is not a dict")
            }
            i += 2
        }
    }

    mutating func build(_ target: PickleValue, state: PickleValue) throws(ModelFileError) {
        switch target {
        case .object(let index): heap.objects[index].state = state
        case .dict(let index): heap.dicts[index].attributes = state
        case .tensor, .storage: break  // tensor attributes (for example a Parameter's) do not matter here
        default: throw fail("BUILD on a value that has no state")
        }
    }

    // MARK: Calls: the whitelist

    mutating func placeholder(
        callee: PickleGlobal?, arguments: [PickleValue], origin: PickleObject.Origin
    ) throws(ModelFileError) -> PickleValue {
        try charge(16 * arguments.count)
        let object = PickleObject(callee: callee, origin: origin, arguments: arguments)
        placeholders.insert(object.calleeDescription)
        return .object(try add(object, to: \.objects))
    }

    mutating func placeholder(
        _ callable: PickleValue, arguments: [PickleValue], origin: PickleObject.Origin
    ) throws(ModelFileError) -> PickleValue {
        var callee: PickleGlobal?
        if case .global(let index) = callable { callee = heap.globals[index] }
        return try placeholder(callee: callee, arguments: arguments, origin: origin)
    }

    mutating func call(
        _ callable: PickleValue, _ arguments: [PickleValue], origin: PickleObject.Origin
    ) throws(ModelFileError) -> PickleValue {
        guard case .global(let globalIndex) = callable else {
            return try placeholder(callable, arguments: arguments, origin: origin)
        }
        let callee = heap.globals[globalIndex]
        let module = callee.module == "__builtin__" ? "builtins" : callee.module
        switch (module, callee.name) {
        case ("torch._utils", "_rebuild_tensor_v2") where origin == .reduce:
            return try rebuildTensor(arguments, minimumCount: 6, maximumCount: 7)
        case ("torch._utils", "_rebuild_tensor_v3") where origin == .reduce:
            // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata]): only for
            // dtypes this reader cannot convert; keep the tensor so it is reported as such.
            guard arguments.count >= 7, arguments.count <= 8, case .global(let d) = arguments[6] else {
                throw fail("_rebuild_tensor_v3 needs 7 or 8 arguments, the seventh a dtype")
            }
            guard case .storage(let storage) = arguments[0] else {
                throw fail("tensor rebuild whose first argument is not a storage persistent id")
            }
            let shape = try integers(arguments[2], "size")
            let stride = try integers(arguments[3], "stride")
            var tensor = PickleTensor(
                storage: storage, storageOffset: try integer(arguments[1], "storage offset"), shape: shape, stride: stride)
            tensor.dtypeName = heap.globals[d].name
            return .tensor(try add(tensor, to: \.tensors))
        case ("torch._utils", "_rebuild_tensor") where origin == .reduce:
            return try rebuildTensor(arguments, minimumCount: 4, maximumCount: 4)
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard origin == .reduce, arguments.count >= 3, arguments.count <= 4 else {
                throw fail("\(callee.qualifiedName) needs 3 or 4 arguments")
            }
            return arguments[0]
        case ("torch._tensor", "_rebuild_from_type_v2"), ("torch._utils", "_rebuild_from_type_v2"):
            // (func, new_type, args, state): call func if it is itself on the whitelist.
            guard origin == .reduce, arguments.count == 4, case .tuple(let inner) = arguments[2] else {
                throw fail("\(callee.qualifiedName) needs (func, type, args tuple, state)")
            }
            let rebuilders: Set = [
                "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_tensor", "_rebuild_parameter", "_rebuild_parameter_with_state",
            ]
            guard case .global(let f) = arguments[0], heap.globals[f].module == "torch._utils",
                rebuilders.contains(heap.globals[f].name)
            else { return try placeholder(callable, arguments: arguments, origin: origin) }
            return try call(arguments[0], heap.tuples[inner], origin: .reduce)
        case ("collections", "OrderedDict"), ("collections", "defaultdict"), ("builtins", "dict"):
            let index = try add(PickleDict(), to: \.dicts)
            // OrderedDict(pairs) / dict(pairs); defaultdict's argument is its factory, ignored.
            if callee.name != "defaultdict", origin == .reduce, let first = arguments.first {
                try fillDict(index, pairs: first)
            }
            return .dict(index)
        case ("builtins", "list"), ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "tuple"),
            ("torch", "Size"):
            var items: [PickleValue] = []
            if let first = arguments.first {
                guard let values = sequence(first) else {
                    throw fail("\(callee.qualifiedName) of a value that is not a sequence")
                }
                items = values
            }
            try charge(16 * items.count)
            switch callee.name {
            case "list": return .list(try add(items, to: \.lists))
            case "set", "frozenset": return .set(try add(items, to: \.sets))
            default: return try tuple(items)
            }
        case ("_codecs", "encode"), ("builtins", "bytearray"), ("builtins", "bytes"):
            return try encode(callee, arguments)
        case ("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"):
            // (cls, base, state): describe it as an instance of cls.
            var target: PickleGlobal?
            if case .global(let c)? = arguments.first { target = heap.globals[c] }
            return try placeholder(callee: target ?? callee, arguments: Array(arguments.dropFirst()), origin: .newObject)
        default:
            return try placeholder(callee: callee, arguments: arguments, origin: origin)
        }
    }

    func sequence(_ value: PickleValue) -> [PickleValue]? {
        switch value {
        case .tuple(let i): heap.tuples[i]
        case .list(let i): heap.lists[i]
        case .set(let i): heap.sets[i]
        default: nil
        }
    }

    mutating func fillDict(_ index: Int, pairs: PickleValue) throws(ModelFileError) {
        guard let items = sequence(pairs) else { throw fail("OrderedDict of a value that is not a list of pairs") }
        try charge(32 * items.count)
        for item in items {
            guard let pair = sequence(item), pair.count == 2 else { throw fail("OrderedDict item is not a pair") }
            heap.dicts[index].set(pair[0], pair[1])
        }
    }

    /// `_codecs.encode(text, 'latin1')`, how protocol 2 writes Python 3 bytes, and `bytearray`.
    mutating func encode(_ callee: PickleGlobal, _ arguments: [PickleValue]) throws(ModelFileError) -> PickleValue {
        switch arguments.count {
        case 0 where callee.name != "encode":
            return .bytes([])
        case 1:
            if case .bytes(let b) = arguments[0] { return .bytes(b) }
            if case .string(let s) = arguments[0], callee.name == "encode" { return try bytes(Array(s.utf8)[...]) }
        case 2:
            guard case .string(let text) = arguments[0], case .string(let encoding) = arguments[1] else { break }
            switch encoding.lowercased() {
            case "latin1", "latin-1", "iso-8859-1":
                var out: [UInt8] = []
                out.reserveCapacity(text.unicodeScalars.count)
                for scalar in text.unicodeScalars {
                    guard scalar.value < 256 else { throw fail("\(callee.qualifiedName): text is not Latin-1") }
                    out.append(UInt8(scalar.value))
                }
                return try bytes(out[...])
            case "utf8", "utf-8":
                return try bytes(Array(text.utf8)[...])
            default:
                break
            }
        default:
            break
        }
        throw fail("unsupported arguments to \(callee.qualifiedName)")
    }

    // MARK: Torch

    func integer(_ value: PickleValue, _ what: String) throws(ModelFileError) -> Int {
        switch value {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: throw fail("tensor \(what) is not an integer")
        }
    }

    func integers(_ value: PickleValue, _ what: String) throws(ModelFileError) -> [Int] {
        guard let items = sequence(value) else { throw fail("tensor \(what) is not a tuple") }
        guard items.count <= limits.maxTensorRank else {
            throw fail("tensor has \(items.count) dimensions, more than the limit of \(limits.maxTensorRank)")
        }
        var result: [Int] = []
        for item in items {
            let n = try integer(item, what)
            guard n >= 0 else { throw fail("tensor \(what) has a negative entry \(n)") }
            result.append(n)
        }
        return result
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    mutating func rebuildTensor(
        _ arguments: [PickleValue], minimumCount: Int, maximumCount: Int
    ) throws(ModelFileError) -> PickleValue {
        guard arguments.count >= minimumCount, arguments.count <= maximumCount else {
            throw fail("tensor rebuild with \(arguments.count) arguments")
        }
        guard case .storage(let storageIndex) = arguments[0] else {
            throw fail("tensor rebuild whose first argument is not a storage persistent id")
        }
        let offset = try integer(arguments[1], "storage offset")
        guard offset >= 0 else { throw fail("tensor storage offset \(offset) is negative") }
        let shape = try integers(arguments[2], "size")
        let stride = try integers(arguments[3], "stride")
        guard shape.count == stride.count else {
            throw fail("tensor size has \(shape.count) dimensions but its stride \(stride.count)")
        }
        // The elements the view touches must lie inside the storage.
        let storage = heap.storages[storageIndex]
        var count = 1
        var last = offset
        for (size, step) in zip(shape, stride) {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("tensor size \(shape) overflows") }
            count = product
            guard size > 1 else { continue }
            let (reach, overflow2) = (size - 1).multipliedReportingOverflow(by: step)
            let (sum, overflow3) = last.addingReportingOverflow(reach)
            guard !overflow2, !overflow3 else { throw fail("tensor stride \(stride) overflows") }
            last = sum
        }
        if count > 0 {
            guard last < storage.elementCount else {
                throw fail(
                    "tensor view (offset \(offset), size \(shape), stride \(stride)) reaches element \(last) "
                        + "of storage '\(storage.key)', which has \(storage.elementCount)")
            }
        }
        try charge(16 * (shape.count + stride.count))
        let tensor = PickleTensor(storage: storageIndex, storageOffset: offset, shape: shape, stride: stride)
        return .tensor(try add(tensor, to: \.tensors))
    }

    /// `('storage', storage_type, key, location, numel)`; anything else is refused.
    mutating func persistentLoad(_ pid: PickleValue) throws(ModelFileError) -> PickleValue {
        guard let fields = sequence(pid), fields.count == 5, case .string("storage") = fields[0] else {
            throw fail("unsupported persistent id (expected ('storage', type, key, location, numel))")
        }
        guard case .global(let typeIndex) = fields[1] else { throw fail("storage type is not a global") }
        let type = heap.globals[typeIndex]
        // torch.FloatStorage and friends; torch.storage.UntypedStorage for the newer dtypes.
        guard type.module == "torch" || type.module == "torch.storage" else {
            throw fail("storage type \(type.qualifiedName) is not a torch storage")
        }
        guard case .string(let key) = fields[2] else { throw fail("storage key is not a string") }
        let location: String
        switch fields[3] {
        case .string(let s): location = s
        default: throw fail("storage location is not a string")
        }
        let count = try integer(fields[4], "storage element count")
        guard count >= 0 else { throw fail("storage '\(key)' has a negative element count") }
        let storage = PickleStorage(typeName: type.name, key: key, location: location, elementCount: count)
        if let earlier = storageByKey[key] {
            guard earlier.typeName == storage.typeName, earlier.elementCount == storage.elementCount else {
                throw fail("storage '\(key)' is named twice with different types or sizes")
            }
        } else {
            storageByKey[key] = storage
        }
        return .storage(try add(storage, to: \.storages))
    }
}
